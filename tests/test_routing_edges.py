"""Routing and paging edges: when the cleanup sweep collects an empty group, old alerts
handed over together, a replaced group's old ticks, and pages from a receiver the drill
does not know. Timelines are worked by hand from Alertmanager 0.25's dispatcher, as in
tests/test_alertmanager.py (whose helpers these reuse).
"""

import simpy

from sim.inputs.config import Monitoring
from sim.model.eventlog import EventLog
from sim.model.monitoring.paging import Pager

from .test_alertmanager import ONE_ROUTE, START, FakeAlert, notes, simulate

FAST = """
route:
  receiver: pager
  group_by: [service]
  group_wait: 10s
  group_interval: 20s
receivers:
  - name: pager
    pagerduty_configs: [{routing_key: x}]
"""


def test_the_sweep_runs_first_at_its_moment_and_every_30_s_from_the_drills_start(write):
    # A fires at 10 (sent at 40), resolves at 100; the 340 tick sends the resolution and empties
    # the group. The sweeps fall at 30, 60, ..., 360. Evaluation ticks land on sweep moments
    # (every 15 s or 30 s), so the drill settles the tie: the sweep runs first at its moment, and
    # A firing again at 360 finds the group collected and starts a new one, sent at 390, not at
    # the old group's 640 tick. At 360.5, half a second after that sweep, likewise.
    for again in (360, 360.5):
        a = FakeAlert({"alertname": "A", "service": "api"})
        timeline = [(10, a, "firing"), (100, a, "resolved"), (again, a, "firing")]
        assert sent(ONE_ROUTE, timeline, write, until=700) == [(40, ["A"], []), (340, [], ["A"]),
                                                                (again + 30, ["A"], [])], again


def sent(*args, **kwargs):
    """The notifications (time, firing, resolved) of ``simulate``'s timeline."""
    return [(t, f, r) for t, _, _, f, r in notes(simulate(*args, **kwargs))]


def test_a_sweep_off_the_drills_start_collects_at_its_own_moments(write):
    # A dispatcher started off the drill's start (as the differential test's is) sweeps at 45,
    # 75, ... (cleanup=(30, 45)). A fires at 0
    # (sent at 10) and resolves at 15; the 30 tick sends the resolution and empties the group,
    # before the first sweep, which collects it at 45. A firing again at 52 starts a new group,
    # sent at 62 (group_wait), not at the old group's 70 tick.
    a = FakeAlert({"alertname": "A", "service": "api"})
    assert sent(FAST, [(0, a, "firing"), (15, a, "resolved"), (52, a, "firing")], write, 100,
                cleanup=(30.0, 45.0)) == [(10, ["A"], []), (30, [], ["A"]), (62, ["A"], [])]


def test_old_alerts_handed_over_together_flush_the_new_group_once(write):
    # Both fired at 0 behind a 5-minute `for`, so both are handed over at 300 with startsAt 0, in
    # one evaluation: the first flushes the new group at once (older than group_wait), the second
    # joins that same flush; the group then ticks every group_interval (600, nothing new).
    a, b = FakeAlert({"alertname": "A", "service": "api"}), FakeAlert({"alertname": "B", "service": "api"})
    assert sent(ONE_ROUTE, [(300, [a, b], "firing", 0)], write, 700) == [(300, ["A", "B"], [])]


def test_a_collected_groups_old_ticks_leave_its_successor_alone(write):
    # The group of A empties at 340 and is collected at 360; A firing again at 365 starts a new
    # group (ticks at 395, 695, 995). The old group's next tick would have been 640: it must not
    # touch the new group, so B firing at 700 joins it and is sent at its 995 tick with A.
    a, b = FakeAlert({"alertname": "A", "service": "api"}), FakeAlert({"alertname": "B", "service": "api"})
    assert sent(ONE_ROUTE, [(10, a, "firing"), (100, a, "resolved"), (365, a, "firing"), (700, b, "firing")],
                write, 1100) == [
        (40, ["A"], []), (340, [], ["A"]), (395, ["A"], []), (995, ["A", "B"], [])]


def test_a_receiver_the_drill_does_not_know_pages_the_oncall():
    # A live drill's own Alertmanager notifies through its webhook with its own receiver names:
    # the drill pages this week's primary for them, escalating to the secondary.
    env = simpy.Environment()
    log = EventLog(START, lambda: env.now)
    pager = Pager(env, log, Monitoring(), ["dana", "lee"], receivers={})
    pager.notify("team-webhook", "{}:{service=api}", [FakeAlert({"alertname": "A", "severity": "critical"})])
    env.run(until=3600)
    assert [(e["kind"], e["to"]) for e in log.events if e["kind"].startswith("page.")] == [
        ("page.sent", "dana"), ("page.escalated", "lee")]
