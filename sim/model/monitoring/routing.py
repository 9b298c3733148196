"""Alert notifications, as Alertmanager 0.25 routes, groups, inhibits and deduplicates them.

Each alert handed over (``notify``, when it starts firing or resolves) walks the route
tree to one or more routes; each route groups it by its ``group_by`` labels. A group
flushes ``group_wait`` after it was created, then every ``group_interval`` (dispatch.go's
aggrGroup). A flush drops inhibited alerts, is muted outside the route's active and
inside its mute time intervals (read on the drill's wall clock), and notifies the
receiver only when the notification log says so (notify.go's DedupStage): a new firing
alert, all alerts resolved, a newly resolved one when the receiver sends resolved
notifications, or ``repeat_interval`` passed. Resolved alerts leave the group after
each flush; an empty group lives on until the dispatcher's next 30-second cleanup, so
an alert firing again before it is collected waits for the group's next tick, not for
a fresh ``group_wait``. Notifications go to ``deliver(receiver, key, firing)``.
"""

import math
from dataclasses import dataclass

import simpy

from ...inputs.alertmanager import Alertmanager, Route
from ..memo import per_scenario

CLEANUP = 30.0  # seconds between the dispatcher's sweeps for empty groups (dispatch.go)


class Group:
    def __init__(self, route: Route, labels: tuple):
        self.route, self.labels = route, labels
        self.members: dict = {}  # fingerprint -> Alert, as last handed over
        self.empty_since: float | None = None
        self.alive = True
        self.waiting = None  # the group's process while it waits out group_wait (interrupted to flush now)
        self.touched = True  # an alert handed over since the last flush

    @property
    def name(self) -> str:
        return "{" + ",".join(f"{n}={v}" for n, v in self.labels) + "}"


@dataclass
class Entry:
    """The notification log's last entry for one group and receiver."""

    firing: frozenset
    resolved: frozenset
    at: float


@per_scenario(16)
def _routes_in(tree: Route) -> dict:
    """Where each alert goes in ``tree``, by its fingerprint: its routes and its group's key in
    each, filled in as alerts come (speed: the tree is walked in Python, and the drills of a
    scenario share its tree and raise the same alerts; an alert's fingerprint is its labels')."""
    return {}


class Router:
    """Every group of the drill's alerts, and when each is notified to its receiver."""

    def __init__(self, env, log, config: Alertmanager, deliver, wallclock, cleanup=(CLEANUP, 0.0), named=True):
        self.env, self.log, self.config, self._deliver = env, log, config, deliver
        self.wallclock = wallclock  # simulated second -> aware datetime, for time intervals
        self.cleanup = cleanup  # (interval, first sweep): when the dispatcher collects empty groups
        self.named = named  # notifications name their receiver (not the built-in default's)
        self.alerts: dict = {}  # every alert Alertmanager was told of, by fingerprint: the inhibitor's view
        self.groups: dict[tuple, Group] = {}
        self.nflog: dict[tuple, Entry] = {}
        self._routed = _routes_in(config.route)

    def notify(self, alert) -> None:
        now = self.env.now
        self.alerts[alert.fingerprint] = alert
        routed = self._routed.get(alert.fingerprint)
        if routed is None:
            routed = self._routed[alert.fingerprint] = [(route, (route.path, route.group_labels(alert.labels)))
                                                        for route in self.config.route.match(alert.labels)]
        for route, key in routed:
            group = self.groups.get(key)
            if group is not None and self._collected(group):
                group.alive = False
                group = None
            if group is None:
                group = self.groups[key] = Group(route, key[1])
                group.waiting = self.env.process(self._run(group))
            group.members[alert.fingerprint] = alert
            group.empty_since = None
            group.touched = True
            # insert(): an alert older than group_wait flushes a group that never flushed, now
            if group.waiting is not None and alert.since + route.group_wait < now:
                group.waiting.interrupt()
                group.waiting = None

    def _collected(self, group: Group) -> bool:
        """Whether a cleanup sweep found the group empty (sweeps strictly after it emptied)."""
        if group.empty_since is None:
            return False
        interval, first = self.cleanup
        sweep = first + max(0, math.floor((group.empty_since - first) / interval) + 1) * interval
        return sweep <= self.env._now

    def _run(self, group: Group):
        try:
            yield self.env.timeout(group.route.group_wait)
        except simpy.Interrupt:
            pass
        group.waiting = None
        while group.alive:
            if self._collected(group):
                del self.groups[(group.route.path, group.labels)]
                return
            if group.members:
                self._flush(group)
            yield self.env.timeout(group.route.group_interval)

    def _flush(self, group: Group) -> None:
        route, now, members = group.route, self.env.now, group.members
        if not (group.touched or self.config.inhibit_rules) and _always(route):
            # No alert handed over since the last flush, which left firing ones only: the alerts
            # the log has, so only a repeat can be due (speed: most flushes notify nothing)
            entry = self.nflog.get((route.receiver, route.path, group.labels))
            if entry is not None and now - entry.at <= route.repeat_interval:
                return
        group.touched = False
        shown = [a for a in members.values() if not self._inhibited(a)] if self.config.inhibit_rules else list(members.values())
        if shown and self._in_time(route):
            self._dedup(group, shown)
        for fp, a in list(members.items()):  # the resolved leave (a loop: seldom any)
            if a.state != "firing":
                del members[fp]
        if not members:
            group.empty_since = now

    def _inhibited(self, alert) -> bool:
        """An inhibit rule whose target matches the alert, and a firing source alert with the same
        ``equal`` labels (not one that also matches the target side)."""
        labels = alert.labels
        for rule in self.config.inhibit_rules:
            if not all(m.matches(labels) for m in rule.target):
                continue
            two_sided = all(m.matches(labels) for m in rule.source)
            for source in self.alerts.values():
                s = source.labels
                if (source.state == "firing" and all(m.matches(s) for m in rule.source)
                        and all(s.get(n, "") == labels.get(n, "") for n in rule.equal)
                        and not (two_sided and all(m.matches(s) for m in rule.target))):
                    return True
        return False

    def _in_time(self, route: Route) -> bool:
        if _always(route):
            return True  # speed: no wall-clock moment is needed
        intervals, moment = self.config.time_intervals, self.wallclock(self.env.now)
        inside = lambda names: any(i.contains(moment) for name in names for i in intervals[name])
        if route.active_time_intervals and not inside(route.active_time_intervals):
            return False
        return not inside(route.mute_time_intervals)

    def _dedup(self, group: Group, alerts: list) -> None:
        route, now = group.route, self.env.now
        receiver = self.config.receivers[route.receiver]
        if not receiver.integrations:
            return
        firing, resolved = set(), set()
        for a in alerts:
            (firing if a.state == "firing" else resolved).add(a.fingerprint)
        firing, resolved = frozenset(firing), frozenset(resolved)
        log_key = (route.receiver, route.path, group.labels)
        entry = self.nflog.get(log_key)
        if entry is None:
            send = bool(firing)
        elif not firing <= entry.firing:
            send = True
        elif not firing:
            send = bool(entry.firing)
        elif receiver.send_resolved and not resolved <= entry.resolved:
            send = True
        else:
            send = now - entry.at > route.repeat_interval
        if not send:
            return
        self.nflog[log_key] = Entry(firing, resolved, now)
        live = sorted([a for a in alerts if a.state == "firing"], key=_fired)
        gone = sorted([a.labels["alertname"] for a in alerts if a.state != "firing"]) if receiver.send_resolved else []
        if not live and not gone:
            return  # all resolved, and the receiver does not send resolved notifications
        extra = {"receiver": route.receiver} if self.named else {}
        self.log.emit("notification.sent", group=group.name, **extra, firing=[a.labels["alertname"] for a in live],
                      resolved=gone)
        self._deliver(route.receiver, f"{route.path}:{group.name}", live)


def _fired(alert) -> tuple:
    """The order a notification lists its firing alerts in: the oldest first, then by name."""
    return alert.since, alert.labels["alertname"]


def _always(route: Route) -> bool:
    """Whether the route names no time interval (most do not): it notifies at any moment."""
    return not (route.active_time_intervals or route.mute_time_intervals)
