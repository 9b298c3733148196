"""Alert rules, as Prometheus evaluates them: pending, firing after ``for``, resolved.

Each evaluation reads the latest scrape of the world; an alert that starts firing or
resolves is handed to the router (``notify``).
"""

import hashlib
import operator
import re
from dataclasses import dataclass, field

from ...inputs.config import AlertRule

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


def _render(template: str, labels: dict, value: float) -> str:
    def fill(match):
        if match[1] == "value":
            return f"{value:.4g}"
        return labels.get(match[2], "")
    return _TEMPLATE.sub(fill, template)


def fingerprint(labels: dict) -> str:
    text = ",".join(f"{k}={labels[k]}" for k in sorted(labels))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class Rules:
    """Every alert of one drill's rules, evaluated against the world's latest scrape."""

    def __init__(self, env, log, world, rules, notify):
        self.env, self.log, self.world, self.notify = env, log, world, notify
        self.alerts = []
        for rule in rules:
            labels = {"alertname": rule.name, "service": rule.service, **rule.labels}
            self.alerts.append(Alert(rule, labels, fingerprint(labels)))

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
                self.notify(alert)
            elif not holds and alert.state != "inactive":
                was_firing = alert.state == "firing"
                alert.state = "inactive"
                if was_firing:
                    self.log.emit("alert.resolved", **alert.describe())
                    self.notify(alert)

    def firing(self) -> list[Alert]:
        return [a for a in self.alerts if a.state == "firing"]

