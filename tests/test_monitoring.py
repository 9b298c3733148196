"""Alert rules, grouping, paging and escalation on a scenario whose timings are checked by hand.

tiny.yaml: evaluation and scrape every 15 s; the fault starts at 60 s and is at full
strength (error rate 20.08%) from 61 s, so the rule (> 5% for 2m) is pending at the
75 s evaluation and firing at 195 s. After group_wait (30 s) the page goes out at 225 s;
nobody acknowledges, so it escalates to the secondary 5 minutes later, at 525 s. The
fault ends at 660 s and recovers linearly over 60 s: at 705 s the error rate is still
5.095%, at 720 s it is back to 0.1%, so the alert resolves at 720 s, and the group's
next tick (225 + 2 x 300 = 825 s) notifies the resolution and resolves the page.
"""

from dataclasses import replace

import pytest

from sim import load_scenario, load_script, run_drill

from .conftest import DATA, SCENARIOS


def tiny_run():
    scenario = load_scenario(DATA / "tiny.yaml")
    return run_drill(scenario, script=load_script(DATA / "quiet.yaml", scenario.start))


def times(events, kind, **match):
    return [e["t"] for e in events if e["kind"] == kind and all(e.get(k) == v for k, v in match.items())]


def test_pending_then_firing_after_for_then_resolved():
    events = tiny_run().events
    assert times(events, "alert.pending", alert="ApiErrors") == [75]
    assert times(events, "alert.firing", alert="ApiErrors") == [195]
    assert times(events, "alert.resolved", alert="ApiErrors") == [720]
    firing = next(e for e in events if e["kind"] == "alert.firing")
    assert firing["cause"] == ["boom"]
    assert firing["summary"] == "api errors at 0.2008"
    assert firing["at"] == "2026-04-20T14:03:15Z"


def test_page_escalates_to_secondary_when_nobody_acknowledges():
    events = tiny_run().events
    sent = [e for e in events if e["kind"] == "page.sent"]
    assert (sent[0]["t"], sent[0]["to"], sent[0]["urgency"]) == (225, "dana", "high")
    escalated = [e for e in events if e["kind"] == "page.escalated"]
    assert [(e["t"], e["from"], e["to"]) for e in escalated] == [(525, "dana", "lee")]


def test_grouped_notifications_follow_group_wait_and_group_interval():
    events = tiny_run().events
    notes = [(e["t"], e["firing"], e["resolved"]) for e in events if e["kind"] == "notification.sent"]
    assert notes[0] == (225, ["ApiErrors"], [])
    assert notes[1] == (825, [], ["ApiErrors"])
    assert times(events, "page.resolved", page="P1") == [825]


def test_noise_alerts_say_so_and_page_at_low_urgency():
    events = tiny_run().events
    assert times(events, "alert.pending", alert="ApiCPU") == [900]
    cpu = next(e for e in events if e["kind"] == "alert.firing" and e["alert"] == "ApiCPU")
    assert (cpu["t"], cpu["cause"]) == (930, ["noise"])
    page = [e for e in events if e["kind"] == "page.sent"][1]
    assert (page["t"], page["urgency"], page["cause"]) == (960, "low", ["noise"])
    assert times(events, "alert.resolved", alert="ApiCPU") == [1020]


def test_a_condition_that_stops_before_for_never_fires(write):
    path = write("short.yaml", (DATA / "tiny.yaml").read_text().replace("duration: 10m", "duration: 30s"))
    scenario = load_scenario(path)
    events = run_drill(scenario, script=load_script(DATA / "quiet.yaml", scenario.start)).events
    assert times(events, "alert.pending", alert="ApiErrors") == [75]
    assert times(events, "alert.firing", alert="ApiErrors") == []


def test_impact_is_logged_for_customer_facing_services():
    events = tiny_run().events
    assert times(events, "impact.started", service="api") == [75]
    assert times(events, "impact.ended", service="api") == [720]


def test_a_service_past_its_impact_threshold_at_its_baseline_is_impacted_from_the_first_scrape():
    # api's usual 2% errors are above its 1% threshold: impact from 0 s, before (and not by) the fault.
    # A scenario file saying so is refused (test_bad_files); one built in Python runs as it says.
    tiny = load_scenario(DATA / "tiny.yaml")
    scenario = replace(tiny, services={"api": replace(tiny.services["api"], error_rate=0.02)})
    events = run_drill(scenario, script=load_script(DATA / "quiet.yaml", scenario.start)).events
    assert [(e["t"], e["cause"]) for e in events if e["kind"] == "impact.started"] == [(0, ["noise"])]


def test_failures_propagate_from_a_dependency_to_its_callers():
    from sim.model.world import World

    scenario = load_scenario(SCENARIOS / "checkout-config-push.yaml")
    world = World(scenario)
    world.observe(400.0)
    # checkout calls the gateway: 1 - (1 - 0.0002) * (1 - 0.15) with the gateway's baseline removed
    assert abs(world.metrics["checkout"]["error_rate"] - (1 - 0.9998 * (1 - (0.15 + 0.0001 - 0.15 * 0.0001 - 0.0001)))) < 1e-9
    assert world.cause_of("checkout", "error_rate") == ["gateway-config-push"]
    assert world.metrics["catalog"]["error_rate"] == pytest.approx(0.0001)


def test_a_low_urgency_page_is_raised_when_a_critical_alert_joins_its_group(write):
    # A warning on the same service fires at the 75 s evaluation (no `for`), so the group's
    # first notification (105 s) pages at low urgency. The critical alert fires at 195 s and
    # joins at the next group tick, 105 + 300 = 405 s: the open page is raised to high
    # urgency there, and escalates to the secondary 5 minutes later, at 705 s.
    text = (DATA / "tiny.yaml").read_text().replace("alerts:\n", """alerts:
  - alert: ApiErrorsWarning
    expr: 'error_rate{service="api"} > 0.01'
    labels: {severity: warning}
""", 1)
    scenario = load_scenario(write("raise.yaml", text))
    events = run_drill(scenario, script=load_script(DATA / "quiet.yaml", scenario.start)).events
    sent = next(e for e in events if e["kind"] == "page.sent")
    assert (sent["t"], sent["urgency"]) == (105, "low")
    assert times(events, "page.urgency_raised", page="P1") == [405]
    assert times(events, "page.escalated", page="P1") == [705]
