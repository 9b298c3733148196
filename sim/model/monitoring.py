"""Monitoring: alert rules (Prometheus), grouped notifications (Alertmanager), pages (PagerDuty).

Rules are evaluated every evaluation interval against the latest scrape: a rule whose
condition holds is pending, then firing once it has held for its ``for`` duration, and
resolved when the condition stops holding. Firing and resolved alerts are grouped by
labels and notified after ``group_wait``, then every ``group_interval`` when the group
changed, and again after ``repeat_interval``. A notification triggers (or resolves) a
page to the primary on-call, which escalates to the secondary when not acknowledged.
"""

import hashlib
import operator
import re
from dataclasses import dataclass, field

from ..inputs.config import AlertRule
from ..inputs.config import Monitoring as MonitoringConfig

_OPS = {">": operator.gt, "<": operator.lt, ">=": operator.ge, "<=": operator.le, "==": operator.eq, "!=": operator.ne}
_TEMPLATE = re.compile(r"\{\{\s*\$(value|labels\.(\w+))\s*\}\}")


@dataclass
class Alert:
    rule: AlertRule
    labels: dict
    fingerprint: str
    state: str = "inactive"  # inactive | pending | firing
    since: float = 0.0
    cause: list = field(default_factory=list)
    value: float = 0.0

    def summary(self) -> str:
        return _render(self.rule.annotations.get("summary", self.rule.name), self.labels, self.value)

    def describe(self) -> dict:
        return {"alert": self.rule.name, "service": self.rule.service, "severity": self.rule.severity,
                "fingerprint": self.fingerprint, "cause": self.cause, "value": round(self.value, 6),
                "summary": self.summary()}


@dataclass
class Page:
    id: str
    key: str
    summary: str
    service: str
    urgency: str
    cause: list
    to: str
    level: int = 0
    status: str = "triggered"  # triggered | acknowledged | resolved
    acked_by: str | None = None


def _render(template: str, labels: dict, value: float) -> str:
    def fill(match):
        if match[1] == "value":
            return f"{value:.4g}"
        return labels.get(match[2], "")
    return _TEMPLATE.sub(fill, template)


def fingerprint(labels: dict) -> str:
    text = ",".join(f"{k}={labels[k]}" for k in sorted(labels))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class Monitoring:
    """Rule evaluation, notification grouping and paging for one drill."""

    def __init__(self, env, log, world, config: MonitoringConfig, rules, oncall: list[str]):
        self.env, self.log, self.world, self.config = env, log, world, config
        self.oncall = oncall  # escalation levels: primary, then secondary
        self.alerts = []
        for rule in rules:
            labels = {"alertname": rule.name, "service": rule.service, **rule.labels}
            self.alerts.append(Alert(rule, labels, fingerprint(labels)))
        self.groups: dict[tuple, dict] = {}
        self.pages: list[Page] = []

    # -- rules --

    def evaluate(self) -> None:
        now = self.env.now
        metrics = self.world.metrics
        for alert in self.alerts:
            rule = alert.rule
            value = metrics[rule.service][rule.metric]
            holds = _OPS[rule.op](value, rule.threshold)
            alert.value = value
            if holds and alert.state == "inactive":
                alert.state, alert.since = "pending", now
                alert.cause = self.world.cause_of(rule.service, rule.metric)
                self.log.emit("alert.pending", **alert.describe())
            if holds and alert.state == "pending" and now - alert.since >= rule.for_s:
                alert.state, alert.since = "firing", now
                alert.cause = self.world.cause_of(rule.service, rule.metric)
                self.log.emit("alert.firing", **alert.describe())
                self._notify(alert)
            elif not holds and alert.state != "inactive":
                was_firing = alert.state == "firing"
                alert.state = "inactive"
                if was_firing:
                    self.log.emit("alert.resolved", **alert.describe())
                    self._notify(alert)

    def firing(self) -> list[Alert]:
        return [a for a in self.alerts if a.state == "firing"]

    # -- grouping (Alertmanager) --

    def _notify(self, alert: Alert) -> None:
        key = tuple(alert.labels.get(name, "") for name in self.config.group_by)
        group = self.groups.get(key)
        if group is None:
            group = self.groups[key] = {"members": {}, "sent": frozenset(), "last": None}
            self.env.process(self._group(key, group))
        group["members"][alert.fingerprint] = alert

    def _group(self, key, group):
        cfg = self.config
        yield self.env.timeout(cfg.group_wait)
        while True:
            firing = frozenset(fp for fp, a in group["members"].items() if a.state == "firing")
            stale = group["last"] is not None and self.env.now - group["last"] >= cfg.repeat_interval
            if firing != group["sent"] or (firing and stale):
                self._send(key, group, firing)
            group["members"] = {fp: a for fp, a in group["members"].items() if fp in firing}
            if not firing:
                del self.groups[key]
                return
            yield self.env.timeout(cfg.group_interval)

    def _send(self, key, group, firing) -> None:
        members = group["members"]
        alerts = sorted((members[fp] for fp in firing), key=lambda a: (a.since, a.rule.name))
        resolved = sorted(members[fp].rule.name for fp in group["sent"] - firing if fp in members)
        group_key = "{" + ",".join(f"{n}={v}" for n, v in zip(self.config.group_by, key)) + "}"
        self.log.emit("notification.sent", group=group_key, firing=[a.rule.name for a in alerts], resolved=resolved)
        group["sent"], group["last"] = firing, self.env.now
        if alerts:
            urgent = any(a.rule.severity in self.config.page_severities for a in alerts)
            cause = sorted({c for a in alerts for c in a.cause if c != "noise"}) or ["noise"]
            summary = alerts[0].summary() + (f" (+{len(alerts) - 1} more)" if len(alerts) > 1 else "")
            self._trigger(group_key, summary, alerts[0].rule.service, "high" if urgent else "low", cause)
        else:
            self._resolve(group_key)

    # -- paging (PagerDuty) --

    def open_page(self, key: str) -> Page | None:
        return next((p for p in self.pages if p.key == key and p.status != "resolved"), None)

    def _trigger(self, key, summary, service, urgency, cause) -> None:
        page = self.open_page(key)
        if page is not None:
            page.summary = summary  # deduplicated: the open page is updated, not re-sent
            if urgency == "high" and page.urgency == "low" and page.status == "triggered":
                page.urgency = "high"
                self.log.emit("page.urgency_raised", page=page.id, to=page.to, summary=summary)
                self._start_escalation(page)
            return
        page = Page(f"P{len(self.pages) + 1}", key, summary, service, urgency, cause, self.oncall[0])
        self.pages.append(page)
        self.log.emit("page.sent", page=page.id, to=page.to, level=0, urgency=urgency, summary=summary,
                      service=service, cause=cause)
        if urgency == "high":
            self._start_escalation(page)

    def _start_escalation(self, page: Page) -> None:
        if len(self.oncall) > 1:
            self.env.process(self._escalate(page))

    def _escalate(self, page: Page):
        for level, person in enumerate(self.oncall[1:], start=1):
            yield self.env.timeout(self.config.escalation_timeout)
            if page.status != "triggered":
                return
            self.log.emit("page.escalated", page=page.id, **{"from": page.to}, to=person, level=level)
            page.to, page.level = person, level

    def _resolve(self, key: str) -> None:
        page = self.open_page(key)
        if page is not None:
            page.status = "resolved"
            self.log.emit("page.resolved", page=page.id)

    def pages_for(self, person: str) -> list[Page]:
        """Open pages that have reached ``person`` (the current target or an earlier level)."""
        levels = self.oncall
        rank = levels.index(person) if person in levels else None
        return [p for p in self.pages if p.status == "triggered" and rank is not None and rank <= p.level]

    def acknowledge(self, page: Page, by: str) -> None:
        page.status, page.acked_by = "acknowledged", by
        self.log.emit("page.acked", page=page.id, by=by)
