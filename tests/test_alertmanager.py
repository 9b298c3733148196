"""The team's alertmanager.yml: loading it, routing, grouping, inhibition, time intervals, paging.

Timelines are worked by hand from Alertmanager 0.25's dispatcher and dedup stage: a group
flushes group_wait after its first alert, then every group_interval; resolved alerts leave
it after each flush; an empty group is collected by the cleanup sweep every 30 s.
"""

import datetime as dt
import json
from dataclasses import dataclass, field

import pytest
import simpy

from sim.inputs.alertmanager import load_alertmanager, parse_matchers
from sim.inputs.config import Monitoring, load_roster
from sim.inputs.errors import DrillError
from sim.model.eventlog import EventLog
from sim.model.monitoring.paging import Pager
from sim.model.monitoring.routing import CLEANUP, Router
from sim.validate import validate

from .conftest import FIXTURES, needs_fixtures

START = dt.datetime(2026, 4, 20, 14, 0, tzinfo=dt.timezone.utc)  # a Monday


@dataclass
class FakeAlert:
    """What routing relies on of an alert: labels, fingerprint, state, since (and cause and
    annotations, for the runbook links, for pages)."""

    labels: dict
    state: str = "inactive"
    since: float = 0.0
    cause: list = field(default_factory=lambda: ["f"])
    value: float = 0.0
    annotations: dict = field(default_factory=dict)

    @property
    def fingerprint(self):
        return ",".join(f"{k}={v}" for k, v in sorted(self.labels.items()))

    def summary(self):
        return self.labels["alertname"]


def simulate(config_text, timeline, write, until=3000, roster=None, oncall=("dana", "lee"), cleanup=(CLEANUP, 0.0)):
    """Run ``timeline`` [(t, alert, 'firing'|'resolved'), ...] through the router and pager. An
    entry's alert may be a list: those alerts are handed over in one go, as one rule evaluation
    hands over every alert it changes. ``cleanup``: the sweep's (interval, first sweep)."""
    config = load_alertmanager(write("alertmanager.yml", config_text))
    env = simpy.Environment()
    log = EventLog(START, lambda: env.now)
    pager = Pager(env, log, Monitoring(), list(oncall), config.receivers, roster.policies if roster else ())
    router = Router(env, log, config, pager.notify, lambda t: START + dt.timedelta(seconds=t), cleanup=cleanup)

    def play():
        for t, alerts, state, *since in timeline:  # since: a startsAt before the moment it is handed over
            yield env.timeout(t - env.now)
            for alert in alerts if isinstance(alerts, list) else [alerts]:
                alert.state = state
                if state == "firing":
                    alert.since = since[0] if since else t
                router.notify(alert)

    env.process(play())
    env.run(until=until)
    return log.events


def notes(events):
    return [(e["t"], e.get("receiver"), e["group"], e["firing"], e["resolved"])
            for e in events if e["kind"] == "notification.sent"]


ONE_ROUTE = """
route:
  receiver: pager
  group_by: [service]
receivers:
  - name: pager
    pagerduty_configs: [{routing_key: x}]
"""


@needs_fixtures
def test_the_fixtures_route_tree_sends_each_alert_where_alertmanager_would():
    config = load_alertmanager(FIXTURES / "alertmanager" / "alertmanager_config_simple.yml")

    def receivers(**labels):
        return [r.receiver for r in config.route.match(labels)]

    assert receivers(service="foo1", severity="critical") == ["team-X-pager"]
    assert receivers(service="baz", severity="warning") == ["team-X-mails"]  # the sub-route does not match
    assert receivers(service="files", severity="critical") == ["team-Y-pager"]
    assert receivers(service="database") == ["team-DB-pager"]
    assert receivers(service="database", owner="team-X") == ["team-X-pager"]  # continue: true, no sibling matches
    assert receivers(service="unknown") == ["team-X-mails"]  # the root
    db_x = config.route.match({"service": "database", "owner": "team-X"})[0]
    # group_by set on the database route is inherited by its child; timings come from the root
    assert db_x.group_by == ("alertname", "cluster", "database")
    assert (db_x.group_wait, db_x.group_interval, db_x.repeat_interval) == (30.0, 300.0, 3 * 3600.0)
    assert config.receivers["team-X-pager"].pages and not config.receivers["team-X-mails"].pages
    assert config.ignored == ("global", "templates", "tracing")
    assert validate(FIXTURES / "alertmanager" / "alertmanager_config_simple.yml") == "Alertmanager configuration"


def test_continue_sends_an_alert_to_every_matching_sibling(write):
    config = load_alertmanager(write("am.yml", """
        route:
          receiver: a
          routes:
            - {matchers: ['team=~"pay.*"'], receiver: b, continue: true}
            - {match: {severity: critical}, receiver: c}
            - {match_re: {team: ".*"}, receiver: d}
        receivers: [{name: a}, {name: b}, {name: c}, {name: d}]
        """))
    route = config.route
    assert [r.receiver for r in route.match({"team": "payments", "severity": "critical"})] == ["b", "c"]
    assert [r.receiver for r in route.match({"team": "payments"})] == ["b", "d"]
    assert [r.receiver for r in route.match({"team": "search"})] == ["d"]


def test_matchers_in_alertmanagers_syntax():
    (a, b) = parse_matchers('{service=~"api|web", msg!="a, b"}')
    assert a.matches({"service": "api"}) and not a.matches({"service": "api2"})  # anchored
    assert b.matches({}) and not b.matches({"msg": "a, b"})
    (c,) = parse_matchers("team!~pay.*")
    assert c.matches({"team": "search"}) and not c.matches({"team": "payments"})
    with pytest.raises(ValueError, match="is not a matcher"):
        parse_matchers("severity")


def test_problems_are_reported_with_their_lines(write):
    path = write("am.yml", """
        route:
          receiver: pager
          group_wait: soon
          routes:
            - receiver: nobody
              matchers: ['severity']
              mute_time_intervals: [weekends]
        receivers:
          - name: pager
        """)
    with pytest.raises(DrillError) as err:
        load_alertmanager(path)
    assert str(err.value).splitlines() == [
        f"{path}:3: route.group_wait: expected a duration such as 30s, 5m or 1h30m, got 'soon'",
        f"{path}:5: route.routes[0].receiver: no receiver named 'nobody' (receivers: pager)",
        f"{path}:6: route.routes[0].matchers: 'severity' is not a matcher such as severity=\"critical\" "
        "or service=~\"a|b\"",
        f"{path}:7: route.routes[0].mute_time_intervals: no time interval named 'weekends'",
    ]


def test_time_intervals_follow_alertmanager(write):
    config = load_alertmanager(write("am.yml", """
        route: {receiver: a}
        receivers: [{name: a}]
        time_intervals:
          - name: office
            time_intervals:
              - weekdays: ['monday:friday']
                times: [{start_time: '09:00', end_time: '17:00'}]
                location: Europe/Berlin
          - name: month-end
            time_intervals:
              - {days_of_month: ['-2:-1'], months: ['april', '12'], years: ['2026']}
        """))
    office, = config.time_intervals["office"]
    # 14:00 UTC on Monday 20 April 2026 is 16:00 in Berlin (summer time); 15:00 UTC is 17:00, outside
    assert office.contains(START) and not office.contains(START + dt.timedelta(hours=1))
    assert not office.contains(dt.datetime(2026, 4, 25, 10, tzinfo=dt.timezone.utc))  # a Saturday
    month_end, = config.time_intervals["month-end"]
    assert month_end.contains(dt.datetime(2026, 4, 29, tzinfo=dt.timezone.utc))  # April has 30 days
    assert not month_end.contains(dt.datetime(2026, 4, 28, tzinfo=dt.timezone.utc))
    assert not month_end.contains(dt.datetime(2026, 5, 31, tzinfo=dt.timezone.utc))  # not a listed month


def test_a_group_outlives_its_resolved_notification_until_the_cleanup_collects_it(write):
    # A fires at 10: the group flushes at 40 (group_wait), then ticks at 340, 640, ...
    # A resolves at 100: the 340 tick notifies the resolution; the group is empty from 340.
    # The cleanup sweeps every 30 s (360, 390, ...). A fires again at 350, before the sweep:
    # the group still exists and has flushed, so it is notified at the next tick, 640, not 380.
    a = FakeAlert({"alertname": "A", "service": "api"})
    events = simulate(ONE_ROUTE, [(10, a, "firing"), (100, a, "resolved"), (350, a, "firing")], write)
    assert [(t, f, r) for t, _, _, f, r in notes(events)] == [(40, ["A"], []), (340, [], ["A"]), (640, ["A"], [])]
    # Firing again at 365, after the 360 sweep collected the empty group: a new group, group_wait again.
    b = FakeAlert({"alertname": "A", "service": "api"})
    events = simulate(ONE_ROUTE, [(10, b, "firing"), (100, b, "resolved"), (365, b, "firing")], write)
    assert [t for t, *_ in notes(events)] == [40, 340, 395]
    pages = [(e["t"], e["kind"], e["page"]) for e in events if e["kind"] in ("page.sent", "page.resolved")]
    assert pages == [(40, "page.sent", "P1"), (340, "page.resolved", "P1"), (395, "page.sent", "P2")]


def test_an_alert_older_than_group_wait_flushes_a_new_group_at_once(write):
    # Handed over at 100 with startsAt 0: more than group_wait (30 s) old, so the new group
    # flushes at 100 (aggrGroup.insert), then ticks every group_interval: B joins at 150, sent at 400.
    a, b = FakeAlert({"alertname": "A", "service": "api"}), FakeAlert({"alertname": "B", "service": "api"})
    events = simulate(ONE_ROUTE, [(100, a, "firing", 0), (150, b, "firing")], write, until=500)
    assert [(t, f) for t, _, _, f, _ in notes(events)] == [(100, ["A"]), (400, ["A", "B"])]


def test_a_flap_between_two_ticks_is_not_notified_again(write):
    # A fires at 10 (notified at 40), resolves at 100 and fires again at 200: at the 340 tick it is
    # firing, as it was at the last notification, so nothing is sent (the dedup stage).
    a = FakeAlert({"alertname": "A", "service": "api"})
    events = simulate(ONE_ROUTE, [(10, a, "firing"), (100, a, "resolved"), (200, a, "firing")], write)
    assert [t for t, *_ in notes(events)] == [40]


def test_repeat_interval_resends_only_once_it_has_fully_passed(write):
    # Notified at 40; the ticks at 340 and 640 are 300 s and 600 s later, not more than the
    # 600 s repeat_interval; the 940 tick is.
    text = ONE_ROUTE.replace("group_by: [service]", "group_by: [service]\n  repeat_interval: 10m")
    a = FakeAlert({"alertname": "A", "service": "api"})
    events = simulate(text, [(10, a, "firing")], write, until=1000)
    assert [t for t, *_ in notes(events)] == [40, 940]


def test_a_receiver_without_send_resolved_hears_only_of_new_alerts(write):
    # Mail does not send resolved notifications: B resolving at 100 is not sent at the 340 tick,
    # and A resolving too (everything resolved) is logged by Alertmanager but delivered to nobody.
    # C goes to a receiver with no integrations, which hears of nothing.
    text = """
        route:
          receiver: mail
          group_by: [service]
          routes: [{matchers: [team=nobody], receiver: blackhole}]
        receivers: [{name: mail, email_configs: [{to: team@example.org}]}, {name: blackhole}]
        """
    a, b = FakeAlert({"alertname": "A", "service": "api"}), FakeAlert({"alertname": "B", "service": "api"})
    c = FakeAlert({"alertname": "C", "service": "api", "team": "nobody"})  # a receiver without integrations
    events = simulate(text, [(10, a, "firing"), (20, b, "firing"), (30, c, "firing"), (100, b, "resolved"),
                             (400, a, "resolved")], write)
    assert notes(events) == [(40, "mail", "{service=api}", ["A", "B"], [])]
    assert not [e for e in events if e["kind"].startswith("page.")]  # mail pages nobody


def test_inhibited_alerts_are_left_out_of_notifications(write):
    text = ONE_ROUTE + """
inhibit_rules:
  - source_matchers: [severity="critical"]
    target_matchers: [severity="warning"]
    equal: [service]
"""
    warn = FakeAlert({"alertname": "Slow", "service": "api", "severity": "warning"})
    crit = FakeAlert({"alertname": "Down", "service": "api", "severity": "critical"})
    other = FakeAlert({"alertname": "Slow", "service": "web", "severity": "warning"})
    events = simulate(text, [(10, warn, "firing"), (10, other, "firing"), (20, crit, "firing"),
                             (100, crit, "resolved")], write, until=700)
    # 40: the api group shows only Down (Slow is inhibited); web's Slow has no critical alert beside it.
    # 340: Down resolved, so Slow is no longer inhibited: new to the notification log, it is sent.
    assert [(t, g, f, r) for t, _, g, f, r in notes(events)] == [
        (40, "{service=api}", ["Down"], []), (40, "{service=web}", ["Slow"], []),
        (340, "{service=api}", ["Slow"], ["Down"])]


def shown_at_first_flush(text, alerts, write):
    """The alerts of the first notification when ``alerts`` all fire at 10 (one group: flushed at 40)."""
    events = simulate(text, [(10, a, "firing") for a in alerts], write, until=100)
    return [f for t, _, _, f, _ in notes(events) if t == 40]


def test_an_inhibit_rule_needs_every_matcher_and_every_equal_label(write):
    # Alertmanager's inhibitor: the target must match all target matchers, a firing source
    # all source matchers, and the two must agree on every `equal` label (a missing label is "").
    text = ONE_ROUTE + """
inhibit_rules:
  - source_matchers: [severity="critical", team="db"]
    target_matchers: [severity="warning", tier="front"]
    equal: [service, region]
"""
    source = {"alertname": "S", "severity": "critical", "team": "db", "service": "api", "region": "eu"}
    target = {"alertname": "T", "severity": "warning", "tier": "front", "service": "api", "region": "eu"}
    cases = [({}, {}, [["S"]]),                   # every matcher and label agrees: T is inhibited
             ({}, {"tier": "back"}, [["S", "T"]]),  # T matches only one target matcher
             ({}, {"region": "us"}, [["S", "T"]]),  # one `equal` label differs
             ({"team": "web"}, {}, [["S", "T"]])]   # S matches only one source matcher
    for source_change, target_change, expected in cases:
        alerts = [FakeAlert({**source, **source_change}), FakeAlert({**target, **target_change})]
        assert shown_at_first_flush(text, alerts, write) == expected, (source_change, target_change)


def test_an_alert_matching_both_sides_does_not_inhibit_its_likes(write):
    # When the target alert also matches every source matcher, sources that also match every
    # target matcher are skipped (Alertmanager's excludeTwoSidedMatch), so X cannot inhibit
    # itself. W matches only one source matcher, so X (no such exclusion for W) inhibits it.
    text = ONE_ROUTE + """
inhibit_rules:
  - source_matchers: [severity="critical", team="db"]
    target_matchers: [service="api", tier="front"]
    equal: [service]
"""
    x = FakeAlert({"alertname": "X", "severity": "critical", "team": "db", "service": "api", "tier": "front"})
    w = FakeAlert({"alertname": "W", "severity": "critical", "team": "web", "service": "api", "tier": "front"})
    assert shown_at_first_flush(text, [x, w], write) == [["X"]]
    # Z is a source that matches only one target matcher: it is not skipped, and inhibits X too.
    z = FakeAlert({"alertname": "Z", "severity": "critical", "team": "db", "service": "api", "tier": "back"})
    assert shown_at_first_flush(text, [x, z, w], write) == [["Z"]]


def test_an_alert_exactly_group_wait_old_waits_for_the_group(write):
    # startsAt 0, handed over at 30 with group_wait 30: not *before* now (Alertmanager's
    # StartsAt.Add(GroupWait).Before(now)), so the new group waits its group_wait and flushes at 60.
    a = FakeAlert({"alertname": "A", "service": "api"})
    events = simulate(ONE_ROUTE, [(30, a, "firing", 0)], write, until=100)
    assert [(t, f) for t, _, _, f, _ in notes(events)] == [(60, ["A"])]


def test_only_a_group_that_never_flushed_is_flushed_early(write):
    # A (startsAt 0) flushes its new group at once, at 100. B, just as old, joins at 100 after
    # that flush: the group has flushed, so B waits for the next tick, 400.
    a, b = FakeAlert({"alertname": "A", "service": "api"}), FakeAlert({"alertname": "B", "service": "api"})
    events = simulate(ONE_ROUTE, [(100, a, "firing", 0), (100, b, "firing", 0)], write, until=500)
    assert [(t, f) for t, _, _, f, _ in notes(events)] == [(100, ["A"]), (400, ["A", "B"])]


def test_a_resolved_member_is_notified_while_the_rest_still_fire(write):
    # PagerDuty sends resolved notifications: B resolving at 100 while A still fires is news at
    # the 340 tick (firing A, resolved B).
    a, b = FakeAlert({"alertname": "A", "service": "api"}), FakeAlert({"alertname": "B", "service": "api"})
    events = simulate(ONE_ROUTE, [(10, a, "firing"), (10, b, "firing"), (100, b, "resolved")], write, until=400)
    assert [(t, f, r) for t, _, _, f, r in notes(events)] == [(40, ["A", "B"], []), (340, ["A"], ["B"])]


def test_a_route_active_later_holds_its_alerts_until_then(write):
    # Active only from 14:15: the group ticks at 40, 340, 640 (before 14:15) and 940 (14:15:40).
    # (Alertmanager refuses time intervals on the root route: "root route must not have any
    # active time intervals", so the route is a child.)
    text = """
route:
  receiver: pager
  group_by: [service]
  routes: [{matchers: [service="api"], active_time_intervals: [second-quarter-hour]}]
receivers:
  - name: pager
    pagerduty_configs: [{routing_key: x}]
time_intervals:
  - name: second-quarter-hour
    time_intervals: [{times: [{start_time: '14:15', end_time: '14:30'}]}]
"""
    a = FakeAlert({"alertname": "A", "service": "api"})
    events = simulate(text, [(10, a, "firing")], write, until=1000)
    assert [t for t, *_ in notes(events)] == [940]
    root = write("root.yml", text.replace("group_by: [service]\n  routes: [{matchers: [service=\"api\"], "
                                          "active_time_intervals: [second-quarter-hour]}]",
                                          "active_time_intervals: [second-quarter-hour]"))
    with pytest.raises(DrillError, match=r"root.yml:3: route: the root route must not have 'active_time_intervals'"):
        load_alertmanager(root)


def test_mute_and_active_time_intervals_read_the_drills_wall_clock(write):
    text = """
route:
  receiver: pager
  group_by: [service]
  routes:
    - {matchers: [team="a"], receiver: pager, mute_time_intervals: [first-quarter-hour]}
    - {matchers: [team="b"], receiver: pager, active_time_intervals: [first-quarter-hour]}
receivers:
  - name: pager
    pagerduty_configs: [{routing_key: x}]
time_intervals:
  - name: first-quarter-hour
    time_intervals: [{times: [{start_time: '14:00', end_time: '14:15'}]}]
"""
    a = FakeAlert({"alertname": "A", "service": "x", "team": "a"})
    b = FakeAlert({"alertname": "B", "service": "y", "team": "b"})
    events = simulate(text, [(10, a, "firing"), (10, b, "firing")], write, until=1000)
    # Both groups tick at 40, 340, 640, 940 (14:00:40, 14:05:40, 14:10:40, 14:15:40): A is muted
    # until 14:15, so first sent at 940; B is sent at 40 and never again (nothing changed).
    assert [(t, f) for t, _, _, f, _ in notes(events)] == [(40, ["B"]), (940, ["A"])]


def test_a_receiver_pages_along_its_escalation_policy(write):
    roster = load_roster(write("roster.yaml", """
        people:
          - {name: dana, oncall: primary}
          - {name: lee, oncall: secondary}
          - {name: alex}
        escalation_policies:
          - {name: payments, receivers: [pager], levels: [alex, primary], escalation_timeout: 2m}
        """))
    a = FakeAlert({"alertname": "A", "service": "api", "severity": "critical"})
    events = simulate(ONE_ROUTE, [(10, a, "firing")], write, until=600, roster=roster)
    pages = [(e["t"], e["kind"], e["to"]) for e in events if e["kind"] in ("page.sent", "page.escalated")]
    assert pages == [(40, "page.sent", "alex"), (160, "page.escalated", "dana")]


def test_a_chat_only_receiver_is_notified_but_pages_nobody(write):
    # "chat" has only a Slack integration and no escalation policy names it: Alertmanager
    # still notifies it (at 40 s, group_wait after 10 s), but no pager rings for anyone.
    text = """
route:
  receiver: chat
  group_by: [service]
receivers:
  - name: chat
    slack_configs: [{channel: '#ops'}]
"""
    a = FakeAlert({"alertname": "A", "service": "api", "severity": "critical"})
    events = simulate(text, [(10, a, "firing")], write, until=600)
    assert [(t, r) for t, r, *_ in notes(events)] == [(40, "chat")]
    assert not [e for e in events if e["kind"].startswith("page.")]


def test_an_escalation_policy_names_people_of_the_roster(write):
    path = write("roster.yaml", """
        people:
          - {name: dana, oncall: primary}
        escalation_policies:
          - receivers: [pager]
            levels: [primary, robin]
        """)
    with pytest.raises(DrillError, match=r"roster.yaml:5: escalation_policies\[0\].levels: 'robin' is neither"):
        load_roster(path)


def test_an_escalation_policy_names_a_receiver_and_someone_to_page(write):
    # levels: [] was taken, and the pager's alerts paged nobody: the drill's first page was a
    # customer's ticket, 11 minutes after the alerts fired (checkout-config-push).
    path = write("roster.yaml", """
        people:
          - {name: dana, oncall: primary}
        escalation_policies:
          - {name: pager, receivers: [pager], levels: []}
          - name: spare
            receivers: []
        """)
    with pytest.raises(DrillError) as exc:
        load_roster(path)
    assert str(exc.value).splitlines() == [
        f"{path}:4: escalation_policies[0].levels: pages nobody: list at least one",
        f"{path}:6: escalation_policies[1].receivers: names no receiver: list at least one"]



def test_an_escalation_policy_name_is_given_once(write):
    # Both were taken: check-alerts named either as "(policy pager)" and a receiver listed by
    # both was refused as "already paged by policy 'pager'", which did not say which one.
    path = write("roster.yaml", """
        people:
          - {name: dana, oncall: primary}
        escalation_policies:
          - {name: pager, receivers: [pager]}
          - {name: pager, receivers: [mail]}
        """)
    with pytest.raises(DrillError) as exc:
        load_roster(path)
    assert str(exc.value).splitlines() == [
        f"{path}:5: escalation_policies[1]: 'pager' is listed twice (first at line 4)"]

@needs_fixtures
def test_the_fixture_imports_without_credentials_merges_and_runs(tmp_path, write):
    from click.testing import CliRunner

    from sim import load_scenario, run_drill
    from sim.cli import main

    from .conftest import SCENARIOS

    out = tmp_path / "alertmanager.yml"
    out.write_text((SCENARIOS.parent / "drills" / "monitoring" / "alertmanager.yml").read_text())
    source = FIXTURES / "alertmanager" / "alertmanager_config_simple.yml"
    result = CliRunner().invoke(main, ["import", "alertmanager", str(source), "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert "password" not in text and "team-X+alerts" not in text and "smtp" not in text
    assert "left out: global" in result.output
    merged = load_alertmanager(out)
    # the fixture's receivers joined the file's own pager (merged by name); the fixture's route won
    assert sorted(merged.receivers) == ["oncall-pager", "team-DB-pager", "team-X-mails", "team-X-pager",
                                        "team-Y-mails", "team-Y-pager"]
    assert merged.route.receiver == "team-X-mails" and len(merged.inhibit_rules) == 1
    # A scenario whose service the fixture routes to a pager: a critical 'files' alert pages the on-call.
    text = (SCENARIOS.parent / "tests" / "data" / "tiny.yaml").read_text().replace("api", "files")
    scenario = load_scenario(write("files.yaml", text))
    events = run_drill(scenario, alerting=merged).events
    notified = [(e["t"], e["receiver"]) for e in events if e["kind"] == "notification.sent"]
    assert notified[0] == (225, "team-Y-pager")  # fires at 195, group_wait 30 s
    assert [(e["t"], e["to"]) for e in events if e["kind"] == "page.sent"][0] == (225, "dana")


def test_check_alerts_answers_would_we_be_paged():
    from click.testing import CliRunner

    from sim.cli import main

    result = CliRunner().invoke(main, ["check-alerts", "checkout-config-push"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    # the error alert fires at 14:47:15 (435 s), is notified 30 s later; nobody acknowledges, so
    # the page escalates to the secondary after 5 minutes
    fired = "  14:47:15  CheckoutHighErrorRate (critical): checkout error rate > 5%  [cause: gateway-config-push]"
    assert fired in lines
    assert "  14:47:45  #1 to dana (high urgency): checkout error rate > 5%" in lines
    assert "  14:52:45  #1 not acknowledged: escalated from dana to lee" in lines
    assert lines[-1] == "Would we be paged? yes: dana at 14:47:45, 2m45s after the fault started, high urgency."


def test_check_alerts_names_who_answers_when_the_primary_cannot(write, tmp_path):
    from click.testing import CliRunner

    from sim.cli import main

    from .conftest import SCENARIOS

    runner = CliRunner()
    # region-failure-failover makes the primary (dana) unreachable: the fault starts at 03:36:00,
    # page #1 goes to dana at 03:38:45 and escalates to lee 5 minutes later, 7m45s after the fault.
    lines = runner.invoke(main, ["check-alerts", "region-failure-failover"]).output.splitlines()
    assert lines[-1] == ("Would we be paged? yes: lee at 03:43:45, 7m45s after the fault started, high urgency, "
                         "when #1 escalates; dana, paged at 03:38:45, does not answer (the scenario makes the "
                         "primary unreachable).")
    # A low-urgency page never escalates: nobody who answers is paged at all.
    sev4 = write("sev4.yaml", (SCENARIOS / "sev4-internal-tooling.yaml").read_text() + "unreachable: [primary]\n")
    lines = runner.invoke(main, ["check-alerts", str(sev4)]).output.splitlines()
    assert "  09:34:45  #1 to dana (low urgency): more than 10% of deploy pipeline runs failing" in lines
    assert lines[-1] == ("Would we be paged? NO one who answers: dana, paged at 09:34:45, does not answer (the "
                         "scenario makes the primary unreachable), and no page reaches anyone else.")
    # A run's log says who did answer: lee acknowledged the first page (seed 2) at 03:45:53.
    assert runner.invoke(main, ["run", "region-failure-failover", "--seed", "2", "--out", str(tmp_path)]).exit_code == 0
    lines = runner.invoke(main, ["check-alerts", "region-failure-failover", "--events",
                                 str(tmp_path / "events.jsonl")]).output.splitlines()
    assert lines[-1] == "Answered: lee acknowledged #1 at 03:45:53, 9m53s after the fault started."


def test_check_alerts_reads_a_runs_event_log(tmp_path):
    from click.testing import CliRunner

    from sim.cli import main

    runner = CliRunner()
    assert runner.invoke(main, ["run", "checkout-config-push", "--seed", "1", "--out", str(tmp_path)]).exit_code == 0
    result = runner.invoke(main, ["check-alerts", "checkout-config-push", "--events", str(tmp_path / "events.jsonl")])
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    ack = next(e for e in events if e["kind"] == "page.acked")
    clock = ack["at"][11:19]
    # the run's own acknowledgement shows, where the simulated check has none (the log's P1 shown as #1)
    assert ack["page"] == "P1"
    assert f"  {clock}  #1 acknowledged by {ack['by']}" in result.output.splitlines()
    assert "escalated" not in result.output
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"t": 1, "kind": "x"}\nnot json\n')
    result = runner.invoke(main, ["check-alerts", "--events", str(broken)])
    assert result.exit_code == 2 and f"{broken}:2: not a JSON event" in result.output
    # A file that is no event log at all is refused, not answered "not paged".
    for content, message in ((b"", ":1: no events: expected a run's events.jsonl"),
                             (b"\n\n", ":1: no events: expected a run's events.jsonl"),
                             (b'{"t": 1, "kind": "x"}\n\xff\n', ":2: not UTF-8 text (byte 0xff)")):
        broken.write_bytes(content)
        result = runner.invoke(main, ["check-alerts", "--events", str(broken)])
        assert result.exit_code == 2 and result.exc_info[0] is SystemExit, result.output
        assert f"{broken}{message}" in result.output


def test_check_alerts_lists_the_team_rules_that_stay_silent(write):
    from sim import load_scenario, run_drill
    from sim.analysis import alertcheck

    from .conftest import SCENARIOS, shop_wide

    # only the scenario's shorthand alerts were listed: a team rule that never fired was in neither list
    reference = load_scenario(SCENARIOS / "checkout-config-push.yaml")
    quiet = shop_wide(reference, write, above=0.99)
    assert alertcheck.check(run_drill(quiet).events, quiet).silent == ["ShopErrorRatio"]
    assert alertcheck.check(run_drill(quiet).events, quiet).unread == {}  # it reads the shop's series: silent, not blind
    loud = shop_wide(reference, write, above=0.01)
    answer = alertcheck.check(run_drill(loud).events, loud)
    assert [name for name, *_ in answer.fired] == ["ShopErrorRatio"] and answer.silent == []


def test_a_rule_that_reads_nothing_of_the_drill_says_which_matcher_no_series_meets(write):
    from sim import load_scenario
    from sim.inputs.promrules import load_rules
    from sim.model.monitoring.rules import unread

    from .conftest import SCENARIOS

    services = load_scenario(SCENARIOS / "checkout-config-push.yaml").services
    rules = load_rules(write("blind.rules.yml", """
        groups:
          - name: blind
            rules:
              - record: shop:errors:rate5m
                expr: sum by (service) (rate(http_requests_total{namespace="shop", code=~"5.."}[5m]))
              - alert: ShopErrors
                expr: shop:errors:rate5m > 1
              - alert: CheckoutDown
                expr: up{job="checkuot"} == 0
              - alert: NoSuchMetric
                expr: nginx_up == 0
              - alert: NotTogether
                expr: up{job=~"check.*", team="payments"} == 0
              - alert: NeverAnything
                expr: vector(0) > 1
              - alert: CheckoutSlow
                expr: up{job="checkout"} == 0
    """))
    # The reference's services carry service, job and team (docs/model.md), no namespace; the
    # last rule reads checkout's series (silent in a drill only because checkout stays up).
    assert unread(rules, services) == {
        "ShopErrors": 'shop:errors:rate5m: recorded by a rule that gives nothing here, as http_requests_total'
                      '{namespace="shop",code=~"5.."}: no http_requests_total here has namespace="shop" (namespace: unset)',
        "CheckoutDown": 'up{job="checkuot"}: no up here has job="checkuot" (job: "cart", "catalog", "checkout", '
                        '"payment-gateway", "search", "storefront")',
        "NoSuchMetric": "nginx_up: no series is named nginx_up here (docs/model.md lists the simulated series)",
        "NotTogether": 'up{job=~"check.*",team="payments"}: no series here meets all its matchers at once',
        "NeverAnything": "its expression gives nothing whatever the world does",
    }


def test_check_alerts_says_why_the_example_team_rules_read_nothing_without_their_label(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from sim.cli import main

    from .conftest import REPO

    # The example rules select namespace="shop", which drills/topology.yaml gives the services; a
    # team that copies them without it got five silent rules and no word why.
    (tmp_path / "drills" / "monitoring").mkdir(parents=True)
    (tmp_path / "drills" / "monitoring" / "web-shop.rules.yml").write_text(
        (REPO / "docs" / "examples" / "web-shop.rules.yml").read_text())
    monkeypatch.chdir(tmp_path)
    lines = CliRunner().invoke(main, ["check-alerts", "checkout-config-push"]).output.splitlines()
    silent = lines.index("Silent rules (never fired): ServiceErrorBudgetBurn, ServiceSlowResponses, ServiceDown, "
                         "ServiceCPUSaturated, ServiceMemoryPressure")
    unmatched = 'no {0} here has namespace="shop" (namespace: unset)'
    assert lines[silent + 1:silent + 6] == [f"  {rule} reads no series of this drill: {why}" for rule, why in [
        ("ServiceErrorBudgetBurn", "service:http_errors:ratio_rate5m: recorded by a rule that gives nothing here, as "
                                   'http_requests_total{namespace="shop",code=~"5.."}: '
                                   + unmatched.format("http_requests_total")),
        ("ServiceSlowResponses", 'http_request_duration_seconds_sum{namespace="shop"}: '
                                 + unmatched.format("http_request_duration_seconds_sum")),
        ("ServiceDown", 'up{namespace="shop"}: ' + unmatched.format("up")),
        ("ServiceCPUSaturated", 'process_cpu_seconds_total{namespace="shop"}: '
                                + unmatched.format("process_cpu_seconds_total")),
        ("ServiceMemoryPressure", 'process_resident_memory_bytes{namespace="shop"}: '
                                  + unmatched.format("process_resident_memory_bytes"))]]
    assert lines[silent + 6] == ""


def test_check_alerts_says_how_near_a_silent_rule_came(tmp_path, monkeypatch):
    import re

    from click.testing import CliRunner

    from sim.cli import main

    monkeypatch.chdir(tmp_path)  # no team rules here: the scenario's own
    lines = CliRunner().invoke(main, ["check-alerts", "night-db-storm-red-herrings"]).output.splitlines()
    silent = lines.index("Silent rules (never fired): PaymentGatewayHighTraffic, PaymentGatewayHighCPU, "
                         "PaymentGatewayHighMemory")
    service = '{job="payment-gateway", service="payment-gateway", team="payments"}'
    # The scenario's payment-gateway takes 110 requests a second and never more; its memory is the
    # default 0.5 throughout; its CPU rises (a blip) but stays under 0.9.
    assert lines[silent + 1] == (f'  PaymentGatewayHighTraffic never held: request_rate{{service="payment-gateway"}} came '
                                 f"nearest at 03:37:00: 110 for {service} (it fires at > 220)")
    assert re.fullmatch(r'  PaymentGatewayHighCPU never held: cpu\{service="payment-gateway"\} came nearest at '
                        r"\d\d:\d\d:\d\d: (0\.[3-8]\d*) for \{.*\} \(it fires at > 0\.9\)", lines[silent + 2])
    assert lines[silent + 3] == (f'  PaymentGatewayHighMemory never held: memory{{service="payment-gateway"}} came '
                                 f"nearest at 03:37:00: 0.5 for {service} (it fires at > 0.9)")
    assert lines[silent + 4] == ""


def test_check_alerts_says_when_a_silent_rule_was_pending_but_not_for_long_enough():
    from dataclasses import replace

    from sim import load_scenario
    from sim.analysis import alertcheck
    from sim.inputs.config import Process, load_roster

    from .conftest import REPO, SCENARIOS

    # The reference's checkout alert fires at 14:47:15 after its 2 minutes: with 10 hours it is
    # pending from 14:45:15 to the drill's end and never fires.
    reference = load_scenario(SCENARIOS / "checkout-config-push.yaml")
    patient = replace(reference, alerts=tuple(replace(a, for_s=36000.0) if a.name == "CheckoutHighErrorRate" else a
                                              for a in reference.alerts))
    process = Process()
    roster = load_roster(REPO / "drills" / "roster.yaml", process)
    answer = alertcheck.check(alertcheck.unanswered(patient, process, roster), patient)
    assert answer.silent == ["CheckoutHighErrorRate"]
    assert alertcheck.lines(answer, patient)[alertcheck.lines(answer, patient).index(
        "Silent rules (never fired): CheckoutHighErrorRate") + 1] == (
        "  CheckoutHighErrorRate went pending 1 time (first at 14:45:15) but never held for 10h")


def test_check_alerts_tells_a_receiver_no_policy_names_from_the_rosters_on_call_policy(write):
    from sim.analysis import alertcheck

    from .conftest import REPO

    alerting = load_alertmanager(write("am.yml", """
        route: {receiver: oncall-pager, routes: [{matchers: [severity="critical"], receiver: pd-critical}]}
        receivers:
          - {name: oncall-pager, pagerduty_configs: [{}]}
          - {name: pd-critical, pagerduty_configs: [{}]}
          - {name: chat, slack_configs: [{}]}
    """))
    # the shipped roster's policy is named on-call, as the built-in default is: pd-critical, which
    # no policy names, read '(policy on-call)' as if the roster's policy paged it
    assert alertcheck.receivers(alerting, load_roster(REPO / "drills" / "roster.yaml")) == [
        "  oncall-pager: primary -> secondary (policy on-call)",
        "  pd-critical: primary -> secondary (no policy names it: this week's on-call)",
        "  chat: nobody (no paging integration or policy)",
    ]
