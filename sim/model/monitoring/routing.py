"""Alert notifications, as Alertmanager groups them: ``group_wait``, ``group_interval``, ``repeat_interval``.

A group's notification triggers (or resolves) a page through the pager (``trigger``,
``resolve``).
"""

from ...inputs.config import Monitoring as MonitoringConfig
from .rules import Alert


class Router:
    """Groups of firing and resolved alerts, and when each group is notified."""

    def __init__(self, env, log, config: MonitoringConfig, trigger, resolve):
        self.env, self.log, self.config = env, log, config
        self._trigger, self._resolve = trigger, resolve
        self.groups: dict[tuple, dict] = {}

    def notify(self, alert: Alert) -> None:
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

