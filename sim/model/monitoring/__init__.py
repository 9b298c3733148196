"""Monitoring: alert rules (Prometheus), grouped notifications (Alertmanager), pages (PagerDuty).

Rules are evaluated every evaluation interval, after the scrape of the same instant: a
rule whose condition holds is pending, then firing once it has held for its ``for``
duration, and resolved when the condition stops holding (after ``keep_firing_for``). Firing and resolved alerts are routed by the
team's Alertmanager configuration (or one route grouping by the scenario's ``group_by``),
grouped, and notified after ``group_wait``, then every ``group_interval`` when the group
changed, and again after ``repeat_interval``. A notification to a receiver triggers (or
resolves) a page along the receiver's escalation policy (by default the primary on-call,
then the secondary when not acknowledged).
"""

import datetime as dt

from ...inputs.alertmanager import Alertmanager
from ...inputs.config import Monitoring as MonitoringConfig
from .paging import Page, Pager
from .routing import Router
from .rules import Alert, Rules

__all__ = ["Alert", "Monitoring", "Page"]


class Monitoring:
    """Rules, routing and paging of one drill, wired one into the next."""

    def __init__(self, env, log, world, config: MonitoringConfig, rules, oncall: list[str],
                 alerting: Alertmanager, policies=(), start: dt.datetime | None = None, groups=()):
        self.pager = Pager(env, log, config, oncall, alerting.receivers, policies)
        start = start or dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
        self.router = Router(env, log, alerting, self.pager.notify, lambda t: start + dt.timedelta(seconds=t),
                             named=not alerting.builtin)
        # a rule's clock is the drill's, in UTC as Prometheus's: the scenario's start plus the simulated seconds
        epoch_ms = (start - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(milliseconds=1)
        self.rules = Rules(env, log, world, rules, self.router.notify, groups, config.evaluation_interval,
                           config.scrape_interval, epoch_ms)
        self.oncall, self.pages, self.alerts = oncall, self.pager.pages, self.rules.alerts
        self.firing, self.any_firing = self.rules.firing, self.rules.any_firing
        self.pages_for, self.acknowledge = self.pager.pages_for, self.pager.acknowledge

    def page_from_outside(self) -> None:
        """Pages come from the team's own Alertmanager (``notified``), not from this model's
        routing: the drill's alerts still fire, but page nobody by themselves."""
        self.rules.notify = lambda alert: None

    def notified(self, receiver: str, key: str, alerts: list) -> None:
        """A notification from outside: ``receiver``'s group ``key`` has these firing alerts
        (none: it resolved); each alert has ``labels``, ``cause`` and ``summary()``."""
        self.pager.notify(receiver, key, alerts)
