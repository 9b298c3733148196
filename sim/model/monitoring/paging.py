"""Pages, as PagerDuty handles them: trigger, deduplicate, escalate when not acknowledged, resolve.

A notification to a receiver pages along the receiver's escalation policy in the roster
(a receiver with a paging integration and no policy pages this week's primary, then the
secondary; one without pages nobody).
"""

from ...inputs.config import Monitoring as MonitoringConfig
from ...inputs.config import escalation


class Page:
    def __init__(self, id: str, key: str, summary: str, service: str, urgency: str, cause: list, to: str,
                 levels: list, timeout: float):
        self.id, self.key, self.summary, self.service, self.urgency = id, key, summary, service, urgency
        self.cause, self.to = cause, to
        self.levels = levels  # who is paged in turn
        self.timeout = timeout  # escalation timeout
        self.level = 0
        self.status = "triggered"  # triggered | acknowledged | resolved
        self.acked_by: str | None = None


class Pager:
    """The drill's pages, each escalating along the on-call levels until acknowledged."""

    def __init__(self, env, log, config: MonitoringConfig, oncall: list[str], receivers: dict, policies=()):
        self.env, self.log, self.config = env, log, config
        self.oncall = oncall  # this week's primary, then secondary
        self.receivers, self.policies = receivers, policies
        self.pages: list[Page] = []

    def notify(self, receiver: str, key: str, alerts: list) -> None:
        """A receiver's notification: trigger (or update) the group's page, or resolve it."""
        if not alerts:
            self.resolve(key)
            return
        # A receiver the drill's configuration does not name is one of the team's own
        # Alertmanager (a live drill's webhook): it pages, as the webhook was set up to.
        known = self.receivers.get(receiver)
        policy = escalation(self.policies, receiver, known.pages if known else True)
        slots = {"primary": self.oncall[:1], "secondary": self.oncall[1:2]}
        levels = [name for level in (policy.levels if policy else ()) for name in slots.get(level, [level])]
        if not levels:
            return
        urgent = any(a.labels.get("severity") in self.config.page_severities for a in alerts)
        cause = sorted({c for a in alerts for c in a.cause if c != "noise"}) or ["noise"]
        summary = alerts[0].summary() + (f" (+{len(alerts) - 1} more)" if len(alerts) > 1 else "")
        timeout = policy.escalation_timeout or self.config.escalation_timeout
        runbooks = sorted({url for a in alerts if (url := a.annotations.get("runbook_url"))})  # rendered once
        self.trigger(key, summary, alerts[0].labels.get("service", ""), "high" if urgent else "low", cause,
                     levels, timeout, runbooks)

    def open_page(self, key: str) -> Page | None:
        return next((p for p in self.pages if p.key == key and p.status != "resolved"), None)

    def trigger(self, key, summary, service, urgency, cause, levels, timeout, runbooks=()) -> None:
        page = self.open_page(key)
        if page is not None:
            page.summary = summary  # deduplicated: the open page is updated, not re-sent
            if urgency == "high" and page.urgency == "low" and page.status == "triggered":
                page.urgency = "high"
                self.log.emit("page.urgency_raised", page=page.id, to=page.to, summary=summary)
                self._start_escalation(page)
            return
        page = Page(f"P{len(self.pages) + 1}", key, summary, service, urgency, cause, levels[0], levels, timeout)
        self.pages.append(page)
        # The page carries the alerts' runbook links, as PagerDuty shows them with the incident.
        self.log.emit("page.sent", page=page.id, to=page.to, level=0, urgency=urgency, summary=summary,
                      service=service, cause=cause, **({"runbooks": list(runbooks)} if runbooks else {}))
        if urgency == "high":
            self._start_escalation(page)

    def _start_escalation(self, page: Page) -> None:
        if len(page.levels) > 1:
            self.env.process(self._escalate(page))

    def _escalate(self, page: Page):
        for level, person in enumerate(page.levels[1:], start=1):
            yield self.env.timeout(page.timeout)
            if page.status != "triggered":
                return
            self.log.emit("page.escalated", page=page.id, **{"from": page.to}, to=person, level=level)
            page.to, page.level = person, level

    def resolve(self, key: str) -> None:
        page = self.open_page(key)
        if page is not None:
            page.status = "resolved"
            self.log.emit("page.resolved", page=page.id)

    def pages_for(self, person: str) -> list[Page]:
        """Open pages that have reached ``person`` (the current target or an earlier level)."""
        return [p for p in self.pages if p.status == "triggered" and person in p.levels[:p.level + 1]]

    def acknowledge(self, page: Page, by: str) -> None:
        page.status, page.acked_by = "acknowledged", by
        self.log.emit("page.acked", page=page.id, by=by)
