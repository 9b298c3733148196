"""The simulated system: a fault's strength over time, what mitigations do to it, and how it spreads.

Three services, web -> api -> db (web calls api, api calls db), and one fault on db:
from 100 s it ramps over 100 s to +10% errors, 3x latency, 2x traffic, +80% cpu and
+20% memory (half of each at 150 s). Every number below is worked out from the baselines.
"""

import math
from dataclasses import replace

import pytest

from sim import load_scenario
from sim.inputs.config import Blip, Fault, Service
from sim.inputs.errors import DrillError
from sim.inputs.faults import METRICS
from sim.model.world import FaultState, World

from .conftest import DATA

SERVICES = {
    "web": Service("web", "web", depends_on=("api",), customer_facing=True, request_rate=100, error_rate=0.005,
                   latency_p99_ms=100),
    "api": Service("api", "api", depends_on=("db",), request_rate=50, error_rate=0.0, latency_p99_ms=200),
    "db": Service("db", "db", request_rate=10, error_rate=0.001, latency_p99_ms=50, cpu=0.35, memory=0.5),
}
FAULT = Fault("f", "bad_deploy", "db", at=100.0, ramp=100.0, duration=None, recovery=200.0,
              magnitude={"error_rate": 0.1, "latency": 3.0, "traffic": 2.0, "cpu": 0.8, "memory": 0.2},
              fixes=("rollback",), eases={"scale_up": 0.25}, band_aids={"restart": 600.0}, findings=())
SCENARIO = replace(load_scenario(DATA / "tiny.yaml"), services=SERVICES, faults=(FAULT,), noise=())


def world(*faults, noise=()):
    return World(replace(SCENARIO, faults=faults or (FAULT,), noise=noise))


def at(w, t):
    w.observe(t)
    return w.metrics


def test_a_fault_ramps_up_then_holds():
    state = FaultState(FAULT)
    assert [state.level(t) for t in (0, 99.9, 100, 150, 175, 200, 5000)] == [0, 0, 0, 0.5, 0.75, 1.0, 1.0]


def test_a_fault_with_a_duration_recovers_on_its_own():
    # Ends at 100 + 600 = 700 and recovers over 200 s: half way at 800, gone from 900.
    state = FaultState(replace(FAULT, duration=600.0))
    assert [state.level(t) for t in (700, 800, 900, 2000)] == [1.0, 0.5, 0.0, 0.0]


def test_a_fix_bends_the_path_down_and_replaces_the_planned_recovery():
    w = world(replace(FAULT, duration=600.0))
    assert w.mitigate(300, "rollback", "db") == {"effective": True, "faults": [
        {"fault": "f", "outcome": "fixed", "returns_in": None}]}
    state = w.faults[0]
    # From 1.0 at 300 to 0 over the 200 s recovery: 0.5 at 400. The end planned for 700 is gone.
    assert [state.level(t) for t in (300, 400, 500, 750)] == [1.0, 0.5, 0.0, 0.0]
    assert w.mitigate(600, "rollback", "db") == {"effective": False, "faults": []}  # nothing left to fix


def test_an_easing_lowers_the_fault_to_a_share():
    w = world()
    assert w.mitigate(300, "scale_up", "db")["faults"] == [{"fault": "f", "outcome": "eased", "returns_in": None}]
    # From 1.0 at 300 to 0.25 over 200 s: 0.625 at 400.
    assert [w.faults[0].level(t) for t in (400, 500, 3000)] == [0.625, 0.25, 0.25]
    assert w.faults[0].outcome == "eased"


def test_each_mitigation_of_a_staged_recovery_takes_its_own_time():
    # Easing by scale_up takes 40 s (its own time), the rollback after it the fault's 200 s.
    w = world(replace(FAULT, recoveries={"scale_up": 40.0}))
    w.mitigate(300, "scale_up", "db")
    # From 1.0 at 300 to 0.25 over 40 s: 0.625 at 320, 0.25 from 340.
    assert [w.faults[0].level(t) for t in (320, 340, 500)] == [0.625, 0.25, 0.25]
    w.mitigate(500, "rollback", "db")
    # From 0.25 at 500 to 0 over 200 s: 0.125 at 600, 0 from 700.
    assert [w.faults[0].level(t) for t in (600, 700)] == [0.125, 0.0]


def test_a_recovery_time_for_a_mitigation_the_fault_does_not_take_is_refused(write):
    # tiny.yaml's bad deploy is fixed by rollback (the kind's default) and takes nothing else.
    text = (DATA / "tiny.yaml").read_text().replace("    recovery: 1m\n", "    recovery: 1m\n    recoveries: {failover: 1m}\n")
    path = write("bad.yaml", text)
    with pytest.raises(DrillError, match=r"bad.yaml:21: faults\[0\]\.recoveries: failover neither fixes, eases nor "
                                         r"band-aids this fault \(its mitigations: rollback"):
        load_scenario(path)


def test_a_band_aid_suppresses_the_fault_until_it_wears_off():
    w = world()
    assert w.mitigate(300, "restart", "db")["faults"] == [{"fault": "f", "outcome": "suppressed", "returns_in": 600.0}]
    state = w.faults[0]
    # Down over min(200 s recovery, 600 / 2) = 200 s; back up over the 100 s ramp once it wears off at 900.
    assert [state.level(t) for t in (400, 500, 900)] == [0.5, 0.0, 0.0]
    state.resume(900)
    assert (state.outcome, state.level(950), state.level(1000), state.level(5000)) == ("active", 0.5, 1.0, 1.0)


def test_a_mitigation_touches_only_faults_that_started_on_that_service_and_that_it_helps():
    w = world()
    assert w.mitigate(50, "rollback", "db") == {"effective": False, "faults": []}  # not started yet
    assert w.mitigate(300, "rollback", "api") == {"effective": False, "faults": []}  # another service
    assert w.mitigate(300, "feature_flag", "db") == {"effective": False, "faults": []}  # does not help
    assert (w.faults[0].outcome, w.faults[0].level(1000)) == ("active", 1.0)


def test_metrics_at_full_strength_by_hand():
    m = at(world(), 500)
    db, api, web = m["db"], m["api"], m["web"]
    # db: errors 1 - (1 - 0.001)(1 - 0.1) = 0.1009; latency 50 + 50 x (3 - 1) = 150; traffic 10 x 2;
    # cpu 0.35 + 0.8 capped at 1; memory 0.5 + 0.2.
    assert db == pytest.approx({"request_rate": 20, "error_rate": 0.1009, "latency_p99_ms": 150, "cpu": 1.0,
                                "memory": 0.7})
    # api: db's extra errors (0.1009 - 0.001 = 0.0999) and latency (+100 ms); its own traffic and cpu.
    assert api == pytest.approx({"request_rate": 50, "error_rate": 0.0999, "latency_p99_ms": 300, "cpu": 0.35,
                                 "memory": 0.5})
    # web: 1 - (1 - 0.005)(1 - 0.0999) = 0.1044005; latency 100 + api's extra 100.
    assert (web["error_rate"], web["latency_p99_ms"]) == (pytest.approx(0.1044005), pytest.approx(200))


def test_metrics_half_way_up_the_ramp():
    db = at(world(), 150)["db"]
    # level 0.5: errors 1 - 0.999 x 0.95 = 0.05095; latency 50 + 50 x 2 x 0.5 = 100;
    # traffic 10 x (1 + 0.5) = 15; cpu 0.35 + 0.4 = 0.75; memory 0.5 + 0.1 = 0.6.
    assert db == pytest.approx({"request_rate": 15, "error_rate": 0.05095, "latency_p99_ms": 100, "cpu": 0.75,
                                "memory": 0.6})


def test_causes_name_the_fault_behind_each_deviation_and_only_once_it_started():
    w = world()
    w.observe(50)
    assert w.cause_of("db", "error_rate") == ["noise"] and w.metrics["db"]["error_rate"] == pytest.approx(0.001)
    w.observe(150)
    assert [w.cause_of("db", m) for m in METRICS] == [["f"]] * 5
    assert (w.cause_of("web", "error_rate"), w.cause_of("web", "latency_p99_ms")) == (["f"], ["f"])
    assert (w.cause_of("api", "cpu"), w.cause_of("api", "request_rate")) == (["noise"], ["noise"])


def test_a_small_latency_spreads_to_callers_too():
    slight = replace(FAULT, magnitude={"latency": 1.01})  # 50 x 0.01 = +0.5 ms on db, and so on api and web
    m = at(world(slight), 500)
    assert (m["api"]["latency_p99_ms"], m["web"]["latency_p99_ms"]) == (pytest.approx(200.5), pytest.approx(100.5))


def test_noise_lifts_a_metric_for_its_duration_and_then_the_baseline_returns():
    w = world(replace(FAULT, at=10_000.0), noise=(Blip("api", "cpu", 0.95, at=60.0, duration=120.0),))
    assert at(w, 30)["api"]["cpu"] == 0.35
    assert at(w, 60)["api"]["cpu"] == 0.95 and w.cause_of("api", "cpu") == ["noise"]
    assert at(w, 180)["api"]["cpu"] == 0.35  # 60 + 120: over
    assert w.impacted("web") is False


def test_impact_follows_the_customer_facing_threshold():
    w = world()
    w.observe(150)
    assert w.impacted("web")  # 1 - 0.995 x (1 - 0.04995) = 5.5% errors, above web's 1% threshold
    w.observe(50)
    assert not w.impacted("web")


def test_a_caller_receives_only_its_spread_of_a_dependencys_excess_errors():
    services = {**SERVICES, "api": replace(SERVICES["api"], spread=(("db", 0.3),)),
                "web": replace(SERVICES["web"], spread=(("api", 0.5),))}
    w = World(replace(SCENARIO, services=services))
    m = at(w, 500)
    # db's excess is 0.1009 - 0.001 = 0.0999; api fails 0.3 of it: 0.02997 (its baseline is 0);
    # web: 1 - 0.995 x (1 - 0.5 x 0.02997) = 0.019910075. Latency still spreads in full.
    assert m["api"]["error_rate"] == pytest.approx(0.02997)
    assert m["web"]["error_rate"] == pytest.approx(0.019910075)
    assert (m["api"]["latency_p99_ms"], m["web"]["latency_p99_ms"]) == (pytest.approx(300), pytest.approx(200))
    assert w.cause_of("web", "error_rate") == ["f"]


def test_a_spread_of_zero_stops_errors_but_not_latency():
    services = {**SERVICES, "api": replace(SERVICES["api"], spread=(("db", 0.0),))}
    w = World(replace(SCENARIO, services=services))
    m = at(w, 500)
    assert (m["api"]["error_rate"], w.cause_of("api", "error_rate")) == (0.0, ["noise"])
    assert m["web"]["error_rate"] == pytest.approx(0.005) and not w.impacted("web")  # web's own baseline only
    assert (m["api"]["latency_p99_ms"], w.cause_of("api", "latency_p99_ms")) == (pytest.approx(300), ["f"])


def test_observing_step_by_step_gives_what_a_fresh_look_gives():
    # The world recomputes only what changed since its last look; a new world computes everything.
    # Through a ramp, a blip, an easing and a band-aid wearing off, both must agree exactly.
    second = replace(FAULT, id="g", service="api", at=400.0, magnitude={"error_rate": 0.05})
    noise = (Blip("web", "latency_p99_ms", 900.0, at=300.0, duration=60.0),)
    stepping = World(replace(SCENARIO, faults=(FAULT, second), noise=noise))
    for t in range(0, 2400, 15):
        if t == 600:
            stepping.mitigate(t, "scale_up", "db")
        if t == 900:
            stepping.mitigate(t, "restart", "api")
        if t == 1500:
            stepping.faults[1].resume(t)
        stepping.observe(t)
        fresh = World(replace(SCENARIO, faults=(FAULT, second), noise=noise))
        fresh.faults = [FaultState(s.fault) for s in stepping.faults]
        for mine, theirs in zip(fresh.faults, stepping.faults):
            mine.segments = theirs.segments
        fresh.observe(t)
        assert (stepping.metrics, stepping.causes) == (fresh.metrics, fresh.causes), t


def test_a_world_says_until_when_it_stays_as_last_observed():
    # The engine skips the scrapes before this time (nothing could change): FAULT ramps from
    # 100 s to 200 s, then holds; a blip on api from 700 s to 760 s.
    w = world(noise=(Blip("api", "cpu", 0.95, at=700.0, duration=60.0),))
    w.observe(50)
    assert w.steady_until() == 100  # calm until the fault starts
    w.observe(150)
    assert w.steady_until() == 150  # moving: only now
    w.observe(200)
    assert w.steady_until() == 700  # at full strength from the ramp's very end: until the blip
    w.observe(700)
    assert w.steady_until() == 760
    w.observe(760)
    assert w.steady_until() == math.inf
    w.mitigate(800, "scale_up", "db")
    assert w.steady_until() == -math.inf  # bent since: no longer known


def test_a_fault_fixed_the_second_it_starts_never_moves():
    w = world()
    assert w.mitigate(100, "rollback", "db")["faults"][0]["outcome"] == "fixed"
    w.observe(100)
    assert (w.faults[0].level(150), w.steady_until()) == (0.0, math.inf)


def test_faults_moving_all_along_a_chain_add_up_in_every_caller():
    # s0 <- s1 <- ... <- s7 (each calls the one before), 100 ms each, and on each a fault that
    # doubles its latency, ramping from 100 s to 200 s: at 150 s each adds 100 x 0.5 = 50 ms of
    # its own and passes on what it gets, so s_k is at 100 + 50 (k + 1) ms, s7 at 500 ms.
    # (Recomputed incrementally, callees first, whatever order the faults are listed in.)
    names = [f"s{k}" for k in range(8)]
    services = {n: Service(n, "t", depends_on=(names[k - 1],) if k else (), request_rate=10, error_rate=0.0,
                           latency_p99_ms=100) for k, n in enumerate(names)}
    faults = tuple(replace(FAULT, id=f"f{n}", service=n, magnitude={"latency": 2.0}) for n in reversed(names))
    w = World(replace(SCENARIO, services=services, faults=faults))
    w.observe(0)
    m = at(w, 150)
    assert [m[n]["latency_p99_ms"] for n in names] == pytest.approx([100 + 50 * (k + 1) for k in range(8)])


def test_a_short_band_aid_takes_the_fault_down_within_half_its_life():
    # restart holds for 300 s here: down over min(200 s recovery, 300 / 2) = 150 s, half way at 375.
    w = world(replace(FAULT, band_aids={"restart": 300.0}))
    assert w.mitigate(300, "restart", "db")["faults"] == [{"fault": "f", "outcome": "suppressed", "returns_in": 300.0}]
    assert [w.faults[0].level(t) for t in (375, 450)] == [0.5, 0.0]


def test_a_recovery_of_no_time_still_takes_a_second():
    # recovery: 0s is allowed; the fault still bends down over a second (no step), half way at 300.5.
    w = world(replace(FAULT, recovery=0.0))
    w.mitigate(300, "rollback", "db")
    assert [w.faults[0].level(t) for t in (300.5, 301)] == [0.5, 0.0]


def test_a_fault_moves_only_the_metrics_it_names():
    # errors only: db's latency, traffic, cpu and memory stay at their baselines at full strength
    db = at(world(replace(FAULT, magnitude={"error_rate": 0.1})), 500)["db"]
    assert db == pytest.approx({"request_rate": 10, "error_rate": 0.1009, "latency_p99_ms": 50, "cpu": 0.35,
                                "memory": 0.5})


def test_a_world_is_the_scenarios_alone_until_a_response_bends_a_fault_or_adds_one():
    other = replace(FAULT, id="g", service="api", fixes=())
    bent, added = world(FAULT, other), world()
    assert bent.untouched() and added.untouched()
    bent.mitigate(300, "rollback", "db")  # bends f, not g
    assert not bent.untouched()
    added.faults.append(FaultState(replace(FAULT, id="g", at=400.0)))
    assert not added.untouched()
    assert world(replace(FAULT, duration=600.0)).untouched()  # the scenario's own end is no bend


def test_a_fault_added_while_the_world_holds_still_shows_at_the_next_look():
    # at full strength the world stays as it is; a second, identical fault on db (a facilitator's
    # injection) must show at once, though its path equals the first one's
    w = world()
    before = at(w, 500)["db"]["error_rate"]
    w.faults.append(FaultState(FAULT))
    after = at(w, 510)["db"]["error_rate"]
    assert after == pytest.approx(1 - 0.999 * 0.9 * 0.9) and after > before


def test_two_faults_behind_one_metric_are_both_its_causes():
    g = replace(FAULT, id="g")  # db's second fault, moving every metric as f does
    h = replace(FAULT, id="h", service="api", magnitude={"latency": 2.0, "error_rate": 0.05})  # api's own, and db's two
    w = world(FAULT, g, h)
    w.observe(500)
    assert [w.cause_of("db", m) for m in METRICS] == [["f", "g"]] * 5
    assert w.cause_of("api", "latency_p99_ms") == ["f", "g", "h"]
    assert w.cause_of("api", "error_rate") == ["f", "g", "h"]


def test_a_fault_without_a_ramp_is_at_full_strength_from_its_first_instant():
    # ramp: 0s (as in several library scenarios) is a step: nothing before 100 s, everything at 100 s.
    assert [FaultState(replace(FAULT, ramp=0.0)).level(t) for t in (99.9, 100, 101)] == [0.0, 1.0, 1.0]
    # Such a fault at the drill's start, rolled back at once: from 1 at 0 s down over the 1 s floor.
    w = world(replace(FAULT, at=0.0, ramp=0.0, recovery=0.0))
    w.mitigate(0.0, "rollback", "db")
    assert [w.faults[0].level(t) for t in (0.0, 0.5, 1.0)] == [1.0, 0.5, 0.0]


def test_memory_is_capped_at_100_percent_as_cpu_is():
    # db's 50% memory + 80% at full strength: 130%, shown as 100%.
    assert at(world(replace(FAULT, magnitude={"memory": 0.8})), 500)["db"]["memory"] == 1.0


def test_what_moves_beneath_a_blip_shows_through_it():
    # db's cpu blips to 95% all along. f adds 10% cpu from 100 s, which stays hidden under the blip
    # (shown 95%), but f is now behind db's cpu too; g adds errors from 300 s over a 100 s ramp:
    # 1 - 0.999 x 0.95 = 0.05095 half way (350 s), 1 - 0.999 x 0.9 = 0.1009 at full strength (400 s).
    f = replace(FAULT, magnitude={"cpu": 0.1})
    g = replace(FAULT, id="g", at=300.0, magnitude={"error_rate": 0.1})
    w = world(f, g, noise=(Blip("db", "cpu", 0.95, at=0.0, duration=1000.0),))
    w.observe(50)
    assert (w.metrics["db"]["cpu"], w.cause_of("db", "cpu")) == (0.95, ["noise"])
    w.observe(150)
    assert (w.metrics["db"]["cpu"], w.cause_of("db", "cpu")) == (0.95, ["f"])
    assert [at(w, t)["db"]["error_rate"] for t in (350, 400)] == pytest.approx([0.05095, 0.1009])
    assert (w.metrics["db"]["cpu"], w.cause_of("db", "error_rate")) == (0.95, ["g"])


def test_faults_that_cancel_out_on_a_dependency_pass_nothing_on():
    # db's fault adds 50 x (3 - 1) = 100 ms, which api passes on; api's own (a fail-fast, latency
    # x 0.5) takes 200 x 0.5 = 100 ms off: api is at its 200 ms baseline, so web, 100 ms, is too
    # and nothing is behind web's latency.
    faster = replace(FAULT, id="g", service="api", magnitude={"latency": 0.5})
    w = world(FAULT, faster)
    m = at(w, 500)
    assert (m["api"]["latency_p99_ms"], m["web"]["latency_p99_ms"]) == (200, 100)
    assert w.cause_of("web", "latency_p99_ms") == ["noise"]


def test_a_fault_eased_before_its_planned_end_moves_from_the_easing_on():
    # FAULT ending at 700 on its own, eased at 300 instead: from 1 to 0.25 over 200 s, so at 400
    # the world is moving (steady only at that instant), and at 450 the level is 1 - 0.75 x 150 / 200
    # = 0.4375: db's latency 50 + 50 x 2 x 0.4375 = 93.75 ms. The end planned for 700 is no more.
    w = world(replace(FAULT, duration=600.0))
    w.mitigate(300, "scale_up", "db")
    w.observe(400)
    assert w.steady_until() == 400
    assert at(w, 450)["db"]["latency_p99_ms"] == 93.75


def test_a_caller_listed_before_its_dependencies_adds_up_what_moves_in_both():
    # SERVICES lists web first, then api, then db. At 150 s, half way up: db's fault adds
    # 50 x 2 x 0.5 = 50 ms (api at 250), and web's own doubling adds 100 x 0.5 = 50 ms to
    # web's 100 ms beside api's 50: 200 ms.
    web = replace(FAULT, id="w", service="web", magnitude={"latency": 2.0})
    m = at(world(FAULT, web), 150)
    assert (m["api"]["latency_p99_ms"], m["web"]["latency_p99_ms"]) == (250, 200)
