"""How an incident unfolds per drill: mitigations that fail or take in part, wrong hypotheses,
reports by people, and the graded impact (failed and lost requests, the SLO budget).

Numbers are worked out by hand from tests/data/tiny.yaml (api at 100 requests/s and 0.1%
errors; a fault at 60 s ramping in 1 s, lasting 10 minutes, recovering over 1 minute) and
the reference scenario, as each comment says.
"""

import random
from dataclasses import replace

import pytest

from sim import load_scenario, load_script, run_drill, score
from sim.inputs.config import Blip, LogNormal, Process, Script
from sim.inputs.dynamics import Report
from sim.inputs.errors import DrillError
from sim.model.engine import Drill
from sim.model.world import World
from sim.outputs.scoring import slo_budget_consumed

from .conftest import DATA, SCENARIOS, still

NOBODY = Script((), ())  # no participants and no actions: the fault runs its course
STILL = still(load_scenario(DATA / "tiny.yaml")).dynamics


def tiny(api=None, noise=(), **magnitude):
    scenario = load_scenario(DATA / "tiny.yaml")
    fault = replace(scenario.faults[0], magnitude=magnitude)
    api = replace(scenario.services["api"], revenue_per_min=60.0, **(api or {}))
    return replace(scenario, faults=(fault,), services={"api": api}, noise=noise, reports=())


def ended(result):
    return next(e for e in result.events if e["kind"] == "drill.ended")


def test_requests_failing_below_the_impact_threshold_still_count():
    # +0.5% errors: api fails 1 - 0.999 * (1 - 0.005 L) at strength L, 0.004995 L above its
    # usual 0.1%, never past the 1% impact threshold. Scrapes every 15 s: full strength at
    # the 40 scrapes 75 s ... 660 s (100/s x 15 s x 0.004995 = 7.4925 each, 299.7), then the
    # recovery to 0 at 720 s passes 675, 690, 705 s at L = 0.75, 0.5, 0.25 (7.4925 x 1.5).
    # 299.7 + 11.23875 = 310.93875 failed requests; revenue 60/min for 100/s, 1 per 100 requests.
    scenario = tiny(error_rate=0.005)
    result = run_drill(scenario, script=NOBODY)
    card = score(result.events, scenario, Process())
    assert card["metrics"]["customer_impact_min"] == 0
    assert ended(result)["failed_requests"] == 311
    assert card["metrics"]["revenue_lost"] == pytest.approx(3.11)
    # 99.9% over 30 days allows 0.001 x 100/s x 2,592,000 s = 259,200 bad requests.
    assert card["metrics"]["slo_budget_consumed"] == pytest.approx(311 / 259200, abs=1e-6)


@pytest.mark.parametrize(("traffic", "lost"), [(0.5, 31125), (0.995, 311)])
def test_traffic_that_never_arrives_counts_as_lost(traffic, lost):
    # Traffic halved: 50 of api's 100 requests/s lost at full strength, 750 per 15 s scrape:
    # 40 scrapes x 750 + 750 x (0.75 + 0.5 + 0.25) = 31,125; none of them failed. Down by
    # half a percent, half a request a second is lost all the same: 7.5 a scrape, 311.25.
    # Revenue 60/min for 100/s: 1 per 100 requests.
    scenario = tiny(traffic=traffic)
    result = run_drill(scenario, script=NOBODY)
    card = score(result.events, scenario, Process())
    assert (card["metrics"]["failed_requests"], card["metrics"]["lost_requests"]) == (0, lost)
    assert card["metrics"]["bad_requests"] == lost
    assert card["metrics"]["revenue_lost"] == pytest.approx(lost / 100, abs=0.01)


def test_a_service_that_recovers_stops_losing():
    # api with no usual errors: +0.5% errors fail 0.005 L of its 100/s at strength L, 7.5 per
    # 15 s scrape at full strength: 40 x 7.5 + 7.5 x (0.75 + 0.5 + 0.25) = 311.25, as above;
    # from the recovery's end at 720 s to the horizon at 1200 s nothing fails, and before the
    # fault nothing either. Revenue 1 per 100 requests.
    scenario = tiny(api={"error_rate": 0.0}, error_rate=0.005)
    result = run_drill(scenario, script=NOBODY)
    assert [(e["kind"], e["t"]) for e in result.events if e["kind"].startswith("fault.")] \
        == [("fault.started", 60), ("fault.ended", 660)]
    assert (ended(result)["failed_requests"], ended(result)["lost_requests"]) == (311, 0)
    assert ended(result)["revenue_lost"] == pytest.approx(3.11)


def test_a_service_without_usual_traffic_loses_no_revenue():
    # Revenue is lost per usual request: api with none loses none, though a blip of 100
    # requests/s during its 50% errors (0.4995 above its usual 0.1%) fails 749.25 a scrape
    # at 120, 135, 150 and 165 s: 2,997 failed requests.
    blip = Blip(service="api", metric="request_rate", value=100.0, at=120.0, duration=60.0)
    scenario = tiny(api={"request_rate": 0.0}, noise=(blip,), error_rate=0.5)
    result = run_drill(scenario, script=NOBODY)
    assert (ended(result)["failed_requests"], ended(result)["revenue_lost"]) == (2997, 0.0)


def test_slo_budget_is_the_worst_customer_facing_service_share():
    scenario = load_scenario(SCENARIOS / "checkout-config-push.yaml")
    # checkout: 0.001 x 120/s x 30 days = 311,040 allowed; storefront: 0.001 x 400/s x 30 days = 1,036,800.
    assert slo_budget_consumed({"checkout": {"failed": 31104, "lost": 0},
                                "storefront": {"failed": 10368, "lost": 10368}}, scenario) == pytest.approx(0.1)
    assert slo_budget_consumed(None, scenario) is None


def fix_state(rng=None, **dynamics):
    """The world of tiny.yaml with its fault open-ended (fixed by rollback, recovering over 60 s), drawn."""
    scenario = load_scenario(DATA / "tiny.yaml")
    world = World(replace(scenario, faults=(replace(scenario.faults[0], duration=None),)))
    state = world.faults[0]
    state.draw(rng or random.Random(0), replace(STILL, **dynamics))
    return world, state


class TwoSigmaSlow(random.Random):
    """A drill drawn slow: every normal draw comes out two standard deviations above its mean."""

    def gauss(self, mu=0.0, sigma=1.0):
        return mu + 2 * sigma


class LowestDraws(random.Random):
    """A drill whose every uniform draw comes out 0.0, the lowest random() can return."""

    def random(self):
        return 0.0


def test_a_chance_of_zero_never_comes_up_even_at_the_lowest_draw():
    # still dynamics: no wrong lead, no failed or partial fix, however low the draws (random() < 0 never holds)
    world, state = fix_state(LowestDraws(0))
    assert (state.wrong_leads, state.setbacks) == ([], [])
    assert world.mitigate(300.0, "rollback", "api")["faults"][0]["outcome"] == "fixed"


def test_a_mitigation_that_does_not_take_leaves_the_fault_as_it_was():
    world, state = fix_state()
    state.setbacks = ["fails"]
    failed = world.mitigate(300.0, "rollback", "api")
    assert failed == {"effective": False, "faults": [{"fault": "boom", "outcome": "failed", "returns_in": None}]}
    assert state.level(1000.0) == 1.0
    fixed = world.mitigate(400.0, "rollback", "api")
    assert fixed["effective"] and state.level(460.0) == 0.0  # the fault's own 60 s recovery


def test_a_partial_fix_leaves_a_share_until_fixed_again():
    world, state = fix_state(partial_fix=1.0, partial_left=(0.3, 0.3))
    assert world.mitigate(300.0, "rollback", "api")["faults"][0]["outcome"] == "partial"
    assert state.level(330.0) == pytest.approx(0.65)  # half way down the 60 s recovery, from 1 to 0.3
    assert state.level(2000.0) == pytest.approx(0.3)
    assert world.mitigate(2000.0, "rollback", "api")["faults"][0]["outcome"] == "fixed"
    assert state.level(2060.0) == 0.0


def test_recovery_and_pace_are_drawn_per_drill():
    # Same seed, same draws; the spread is log-normal around the fault's own recovery.
    (_, a), (_, b) = fix_state(diagnosis_spread=1.0, recovery_spread=1.0), fix_state(diagnosis_spread=1.0, recovery_spread=1.0)
    assert a.pace == b.pace != 1.0
    assert a.recovery("rollback") == b.recovery("rollback") != 60.0
    _, still = fix_state()
    assert (still.pace, still.recovery("rollback")) == (1.0, 60.0)


def test_a_drill_drawn_two_sigma_slow_diagnoses_and_recovers_that_much_slower():
    # Log-sd 0.25 for diagnosis, two sd high: pace e^0.5 (1.6487); log-sd 0.15 for recovery, around
    # the fault's 60 s x the pace: the rollback recovers over 60 x e^0.5 x e^0.3 = 60 e^0.8 = 133.53 s.
    world, state = fix_state(TwoSigmaSlow(0), diagnosis_spread=0.25, recovery_spread=0.15)
    assert state.pace == pytest.approx(1.6487, abs=1e-4)
    world.mitigate(300.0, "rollback", "api")
    assert state.level(300.0 + 133.53 / 2) == pytest.approx(0.5, abs=1e-4)
    assert (state.level(433.0) > 0.0, state.level(434.0)) == (True, 0.0)


def test_a_slow_drill_recovers_slower_even_when_recovery_is_not_spread():
    # docs/model.md: recoveries are scaled by the pace (a hard incident is slow to diagnose
    # and slow to recover from); with recovery_spread 0 that is all: pace e^(2 x 0.25), 60 x e^0.5 = 98.92 s.
    world, state = fix_state(TwoSigmaSlow(0), diagnosis_spread=0.25, recovery_spread=0.0)
    world.mitigate(300.0, "rollback", "api")
    assert state.level(300.0 + 98.92 / 2) == pytest.approx(0.5, abs=1e-4)
    assert (state.level(398.0) > 0.0, state.level(399.0)) == (True, 0.0)


def test_wrong_hypotheses_suggest_only_mitigations_that_do_nothing_for_the_fault():
    # tiny's fault, also eased by scale_up and band-aided by restart: of the seven mitigations
    # the four left act on it not at all. A wrong lead every time (chance 1) draws all four,
    # in some order (at most 5 would be drawn), and none of them helps.
    scenario = load_scenario(DATA / "tiny.yaml")
    fault = replace(scenario.faults[0], duration=None, eases={"scale_up": 0.5}, band_aids={"restart": 600.0})
    world = World(replace(scenario, faults=(fault,)))
    state = world.faults[0]
    state.draw(random.Random(0), replace(STILL, wrong_lead=1.0))
    assert sorted(state.wrong_leads) == ["block_traffic", "circuit_breaker", "failover", "feature_flag"]
    assert [world.mitigate(300.0, lead, "api")["effective"] for lead in state.wrong_leads] == [False] * 4
    assert state.level(1000.0) == 1.0
    # Each drill draws its own order: over 20 drills the first wrong lead is not always the same.
    firsts = set()
    for seed in range(20):
        other = World(replace(scenario, faults=(fault,))).faults[0]
        other.draw(random.Random(seed), replace(STILL, wrong_lead=1.0))
        firsts.add(other.wrong_leads[0])
    assert len(firsts) > 1


def test_a_fix_that_never_takes_fails_five_times_then_works():
    # fix_fails 1: every attempt fails again, up to the most a drill draws (5); the sixth takes.
    world, state = fix_state(fix_fails=1.0)
    outcomes = [world.mitigate(300.0 + 10 * i, "rollback", "api")["faults"][0]["outcome"] for i in range(6)]
    assert outcomes == ["failed"] * 5 + ["fixed"]
    assert state.level(350.0 + 60) == 0.0  # the sixth at 350 s, recovered over the fault's 60 s


def test_a_wrong_hypothesis_comes_first_and_its_mitigation_does_not_help():
    scenario = load_scenario(SCENARIOS / "checkout-config-push.yaml")
    drill = Drill(replace(scenario, dynamics=STILL), Process(), seed=3, samples=False)
    drill.world.faults[0].wrong_leads = ["restart"]
    events = drill.run().events
    on_gateway = [e for e in events if e["kind"] == "finding" and e["service"] == "payment-gateway"]
    assert on_gateway[0]["suggests"] == "restart" and not on_gateway[0]["root_cause"]
    assert on_gateway[1]["root_cause"] and on_gateway[1]["suggests"] == "rollback"
    applied = [(e["action"], e["effective"]) for e in events if e["kind"] == "mitigation.applied"]
    assert applied[:2] == [("restart", False), ("rollback", True)]
    assert any(e["kind"] == "incident.resolved" for e in events)


def test_a_failed_then_partial_fix_is_applied_until_it_takes():
    scenario = load_scenario(SCENARIOS / "checkout-config-push.yaml")
    drill = Drill(replace(scenario, dynamics=STILL), Process(), seed=3, samples=False)
    drill.world.faults[0].setbacks = ["fails", ("partial", 0.4)]
    events = drill.run().events
    outcomes = [f["outcome"] for e in events if e["kind"] == "mitigation.applied" for f in e["faults"]]
    assert outcomes[:3] == ["failed", "partial", "fixed"]
    resolved = next(e for e in events if e["kind"] == "incident.resolved")
    fixed = [e for e in events if e["kind"] == "mitigation.applied" and e["faults"][0]["outcome"] == "fixed"][0]
    assert resolved["t"] > fixed["t"]


def test_an_incident_without_alerts_is_reported_by_customers_and_declared():
    # No alert rules at all. Checkout passes its 1% impact threshold at the 315 s scrape
    # (14:45:15, as in test_scoring); customers report it 10 minutes later, at 915 s.
    scenario = load_scenario(SCENARIOS / "checkout-config-push.yaml")
    scenario = replace(scenario, alerts=(), rules=(), dynamics=STILL,
                       reports=(Report("customers, through a support ticket", LogNormal(600.0), "impact"),))
    result = run_drill(scenario, Process(), seed=1, samples=False)
    events = result.events
    assert not any(e["kind"] == "alert.firing" for e in events)
    report = next(e for e in events if e["kind"] == "report.received")
    assert (report["t"], report["service"]) == (915.0, "checkout")
    page = next(e for e in events if e["kind"] == "page.sent")
    assert page["t"] == 915.0 and page["urgency"] == "high"
    card = score(events, scenario, Process())
    assert card["metrics"]["time_to_detect_s"] == 615.0  # from the push at 300 s
    assert card["metrics"]["detected_by"] == "customers, through a support ticket"
    assert card["metrics"]["declared_severity"] == "SEV1"


def test_with_pages_from_the_team_s_alertmanager_a_report_still_pages_through_the_drill():
    # drill serve --pages-from alertmanager: the drill's own routing notifies nobody, so its alerts
    # page nobody by themselves (no webhook arrives here). Customers' report is no alert: it comes
    # by the support channel, which no Alertmanager sees, and pages the on-call through the
    # drill's pager, at 915 s as in the test above (impact from 315 s, reported 600 s later).
    scenario = load_scenario(SCENARIOS / "checkout-config-push.yaml")
    scenario = replace(scenario, dynamics=STILL,
                       reports=(Report("customers, through a support ticket", LogNormal(600.0), "impact"),))
    drill = Drill(scenario, Process(), seed=1, samples=False)
    drill.monitoring.page_from_outside()
    events = drill.run().events
    assert any(e["kind"] == "alert.firing" for e in events)
    assert not any(e["kind"] == "notification.sent" for e in events)
    first = next(e for e in events if e["kind"] == "page.sent")
    assert (first["t"], first["summary"], first["urgency"]) == (
        915.0, "Reported by customers, through a support ticket: something is wrong with checkout", "high")


def test_a_report_after_the_declaration_pages_nobody():
    scenario = load_scenario(SCENARIOS / "checkout-config-push.yaml")
    late = replace(scenario, dynamics=STILL, reports=(Report("a colleague", LogNormal(7200.0), "fault"),))
    events = run_drill(late, Process(), seed=1, samples=False).events
    assert not any(e["kind"] == "report.received" for e in events)


@pytest.mark.parametrize(("after", "received"), [(300.0, [(360.0, "api", ["boom"])]), (900.0, [])])
def test_a_colleague_reports_a_fault_only_while_it_is_at_work(after, received):
    # tiny's fault at +0.5% errors starts at 60 s, never past the 1% impact threshold, and is
    # over at 720 s (10 minutes, then a minute's recovery). Nobody declares: a colleague who
    # noticed it at the start reports it 300 s on, at 360 s, while it is at work; 900 s on,
    # at 960 s, there is nothing left to report.
    scenario = replace(tiny(error_rate=0.005), dynamics=STILL,
                       reports=(Report("a colleague", LogNormal(after), "fault"),))
    events = run_drill(scenario, script=NOBODY).events
    assert [(e["t"], e["service"], e["cause"]) for e in events if e["kind"] == "report.received"] == received


def test_a_fault_injected_mid_drill_is_drawn_as_the_scenario_s_own_would_be():
    # A live drill's facilitator injects a fault: how often fixes fail, which wrong leads come and
    # how slow the diagnosis is are drawn from the seed and the fault's id, as they are for the
    # same fault in the scenario (likely enough here that the draw gives some of each).
    scenario = replace(load_scenario(DATA / "tiny.yaml"),
                       dynamics=replace(STILL, wrong_lead=0.9, fix_fails=0.9, diagnosis_spread=1.0))
    held = Drill(scenario, script=NOBODY, seed=3).world.faults[0]
    drill = Drill(replace(scenario, faults=()), script=NOBODY, seed=3)
    drill.inject(scenario.faults[0])
    injected = drill.world.faults[0]
    assert (injected.pace, injected.wrong_leads, injected.setbacks) == (held.pace, held.wrong_leads, held.setbacks)
    assert injected.wrong_leads and injected.setbacks and injected.pace != 1.0


@pytest.mark.parametrize(("at", "logged"), [
    ("+3m20s", [("mitigation.applied", 200, True)]),
    ("+11m40s", [("fault.ended", 660, None), ("mitigation.applied", 700, False)]),
])
def test_a_fault_ends_once_by_a_fix_or_by_its_time(write, at, logged):
    # tiny's fault is over at 660 s (60 s + 10 minutes). Rolled back at 200 s it is fixed there,
    # and nothing ends at 660 s; rolled back at 700 s, after it ended, the rollback finds nothing.
    scenario = load_scenario(DATA / "tiny.yaml")
    script = load_script(write("s.yaml", f"""
        participants:
          - {{name: dana, oncall: primary}}
        actions:
          - {{at: "{at}", by: dana, do: mitigate, action: rollback, service: api}}
    """), scenario.start)
    events = run_drill(scenario, script=script).events
    assert [(e["kind"], e["t"], e.get("effective")) for e in events
            if e["kind"] in ("fault.ended", "mitigation.applied")] == logged


def test_dynamics_reports_and_slo_are_checked_at_their_lines(write):
    path = write("bad.yaml", """
        name: bad
        start: 2026-04-20T14:40:00Z
        services:
          api: {team: api, customer_facing: true, slo: 100%}
        dynamics:
          wrong_lead: 150%
          partial_left: [60%, 20%]
          moods: 3
        reports:
          - {by: customers, after: 15m, of: weather}
        truth: {severity: SEV2}
    """)
    with pytest.raises(DrillError) as exc:
        load_scenario(path)
    text = str(exc.value)
    assert f"{path}:4: services.api.slo: an SLO is a share of good requests above 0% and below 100%" in text
    assert f"{path}:6: dynamics.wrong_lead: expected a number or a percentage from 0 to 1" in text
    assert f"{path}:7: dynamics.partial_left: the least must not exceed the most" in text
    assert f"{path}:8: dynamics: unknown field 'moods'" in text
    assert f"{path}:10: reports[0].of: expected one of impact, fault" in text


def test_staged_recovery_eases_first_then_fixes():
    # Fastly 2021-06-08 in small: turning the bad configuration off eases most of it
    # (30% of the fault left: checkout still at about 4.5% errors, degraded), the fix follows.
    from sim.inputs.config import Finding
    scenario = load_scenario(SCENARIOS / "checkout-config-push.yaml")
    fault = scenario.faults[0]
    staged = replace(fault, eases={"feature_flag": 0.3}, findings=(
        fault.findings[0],
        Finding("payment-gateway", 180.0, "The new gateway config can be switched off by its flag", suggests="feature_flag"),
        fault.findings[1]))
    events = run_drill(replace(scenario, faults=(staged,), dynamics=STILL), Process(), seed=3, samples=False).events
    applied = [(e["action"], [f["outcome"] for f in e["faults"]]) for e in events if e["kind"] == "mitigation.applied"]
    assert applied[:2] == [("feature_flag", ["eased"]), ("rollback", ["fixed"])]
    resolved = next(e for e in events if e["kind"] == "incident.resolved")
    rollback = next(e for e in events if e["kind"] == "mitigation.applied" and e["action"] == "rollback")
    assert resolved["t"] > rollback["t"]


def test_a_simulated_drill_draws_how_a_fix_goes_and_a_replayed_record_does_not(write):
    # With every fix failing (fix_fails 100%: five failures, the most drawn), the bots' rollback of
    # payment-gateway fails five times and takes at the sixth; a timeline script replays a record,
    # whose rollback worked as the scenario says: at once.
    scenario = load_scenario(SCENARIOS / "checkout-config-push.yaml")
    scenario = replace(scenario, dynamics=replace(STILL, fix_fails=1.0))

    def outcomes(script=None):
        events = run_drill(scenario, Process(), script=script, seed=3, samples=False).events
        return [f["outcome"] for e in events if e["kind"] == "mitigation.applied" for f in e["faults"]]

    assert outcomes() == ["failed"] * 5 + ["fixed"]
    replay = load_script(write("replay.yaml", """
        participants:
          - {name: dana, oncall: primary}
        actions:
          - {at: "+10m", by: dana, do: mitigate, action: rollback, service: payment-gateway}
    """), scenario.start)
    assert outcomes(replay) == ["fixed"]
