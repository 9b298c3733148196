"""The series store's fast paths (``sim/model/monitoring/series.py``) give what the slow ones do:
a recorded series' marks where its value turns NaN or a zero changes sign, series that stop
being calm while no rule looks, falling counters, and a gauge's zero with its sign. Each
expected time is worked by hand and checked against evaluating every rule at every tick."""

import math
from dataclasses import replace
from types import SimpleNamespace

import pytest

from sim.inputs.config import Blip
from sim.inputs.promrules import PromRule, RuleGroup
from sim.model.monitoring.series import Store

from .test_promql import query, store_of
from .test_promql_repeat import alert, alike_every_tick, run, times, with_rules

# One service at 100 requests/s failing none of them, half of them from 605 s for 300 s.
SCENARIO = """
name: store-paths
title: Errors for five minutes
start: 2026-04-20T10:00:00Z
horizon: 30m
services:
  api: {team: web, request_rate: 100, error_rate: 0%, latency_p99_ms: 200}
faults:
  - {id: bad-push, kind: config_push, service: api, at: 605s, magnitude: {error_rate: 50%}, ramp: 0s,
     duration: 300s, recovery: 0s, description: errors}
alerts: []
truth: {severity: SEV2, root_cause: a bad push, teams_needed: [web], fix: rollback api}
"""
ERRORS = 'sum(rate(http_requests_total{code="500"}[5m]))'


@pytest.mark.parametrize("recorded, shown", [
    (f"{ERRORS} / sum(count_over_time(up[20s]) - 2)", "api:x > 1e300"),
    (f"({ERRORS} - 1) * sum(count_over_time(up[20s]) - 2)", "1 / api:x > 1e300")])
def test_a_recorded_value_that_leaves_nan_or_changes_the_sign_of_its_zero_is_seen(tmp_path, recorded, shown):
    # Scrapes every 10 s, evaluations every 15 s: [t-20, t] holds three samples of up when t is
    # a multiple of 30 and two otherwise, so the divisor (or factor) is 1 and 0 by turns, and a
    # recorded sample is compared with the one a period (30 s) before. No errors before the
    # fault: at 15, 45, ... 0 / 0 = NaN, and (0 - 1) x 0 = -0, whose reciprocal is -Inf. The
    # scrape at 610 is the first to see the fault: 500 errors, and the rate at 615 is 500 over
    # the 295 s from the counter's zero to half a scrape past 610, per 300 s: 1.695. There
    # 1.695 / 0 = +Inf and (1.695 - 1) x 0 = +0 (reciprocal +Inf): the alert fires at 615, the
    # first time either sample is not the one of 585, and resolves at 630, where the factor is 1
    # (a finite value). Neither moves at 600, so nothing else wakes the alert at 615.
    rules = [PromRule("record", "api:x", recorded, 0.0, 0.0, {}, {}), alert("Shown", shown)]
    drill = alike_every_tick(with_rules(tmp_path, rules, SCENARIO, scrape_interval=10.0))
    assert times(drill, "Shown")[:3] == [("alert.pending", 615), ("alert.firing", 615), ("alert.resolved", 630)]


def calm_then_faulty(tmp_path, groups):
    """Two drills of one scenario's services and rules, the first without the fault, which moved
    to 25 s (the first two scrapes, at 0 and 15, start both alike): the second may take the first's
    results only where what it reads is calm. And the second drill evaluated afresh."""
    faulty = with_rules(tmp_path, groups, SCENARIO)
    faulty = replace(faulty, faults=(replace(faulty.faults[0], at=25.0),))
    drills = [run(replace(faulty, faults=())), run(faulty)]
    assert drills[1].log.events == run(faulty, repeat=False).log.events
    return drills


def test_a_recorded_series_that_stops_being_calm_before_a_slower_group_reads_it(tmp_path):
    # The 5-minute error rate is recorded every 15 s from 15 (the first with two samples), when
    # both drills hold the same; from 30 the faulty drill's is its own (750 errors a scrape), and
    # the series is no longer calm. The alert's group, every minute, first reads the series at
    # 60, having slept since 0 while it appeared and changed: the errors counter at 0, 15, 30,
    # 45, 60 is 0, 0, 750, 1500, 2250 (nothing extrapolated: it starts at 0), 2250 / 300 = 7.5 > 5.
    fast = RuleGroup("fast", None, (PromRule("record", "api:errors", ERRORS, 0.0, 0.0, {}, {}),))
    slow = RuleGroup("slow", 60.0, (alert("Errors", "api:errors > 5"),))
    calm, faulty = calm_then_faulty(tmp_path, [fast, slow])
    assert times(calm, "Errors") == []
    assert times(faulty, "Errors")[:2] == [("alert.pending", 60), ("alert.firing", 60)]


def test_a_recording_rule_that_lost_a_series_while_calm_stops_being_calm(tmp_path):
    # At 0 the one sample of up in [-15, 0] gives the series (1 < 2), at 15 there are two and no
    # errors (the rate is 0 < 1): it goes, while every drill holds the same. The fault's first
    # scrape, 30, brings it back: 750 errors over [0, 30], 750 / 300 = 2.5 > 1, and > 2 fires.
    either = 'count_over_time(up[15s]) < 2 or sum without(code) (rate(http_requests_total{code="500"}[5m])) > 1'
    rules = (PromRule("record", "api:burst", either, 0.0, 0.0, {}, {}), alert("Burst", "api:burst > 2"))
    calm, faulty = calm_then_faulty(tmp_path, [RuleGroup("g", None, rules)])
    assert times(calm, "Burst") == []
    assert times(faulty, "Burst")[:2] == [("alert.pending", 30), ("alert.firing", 30)]


def test_a_counter_that_falls_is_read_with_its_resets(tmp_path):
    # An error rate above 100% makes the answered requests' counter fall. No scenario file may
    # set one (a blip's share is refused at its line: tests/test_bad_files.py); the blip here is
    # built past the file, to hold the store to reading a falling counter as Prometheus does:
    # 100 x (1 - 1.5) x 15 = -750 a scrape, from the scrape at 600 to the one at 765 (the blip is
    # 600 <= t < 780), after 1500 a scrape from 0: 58500 at 585, 57750 at 600, and 57750 - 750 k
    # at 600 + 15 k. irate after a fall is the value fallen to over 15 s: 3850 at 600, 3800 at
    # 615, ..., 3600 at 675, 3550 at 690 (k = 6, the first below 3600), down to 3300 at 765; at
    # 780 it rises again (irate 100). Each fall is a reset, counting the value fallen from: over
    # [555, 615] 57000 - 55500 + 58500 + 57750 = 117750 > 1e5, at 600 one reset only (62250).
    answered = 'http_requests_total{code="200"}'
    rules = (alert("Falls", f"irate({answered}[1m]) < 3600 > 1000"), alert("Resets", f"increase({answered}[1m]) > 1e5"))
    falling = replace(with_rules(tmp_path, rules, SCENARIO),
                      noise=(Blip("api", "error_rate", 1.5, 600.0, 180.0),))
    drill = alike_every_tick(falling)
    assert times(drill, "Falls") == [("alert.pending", 690), ("alert.firing", 690), ("alert.resolved", 780)]
    assert times(drill, "Resets")[:2] == [("alert.pending", 615), ("alert.firing", 615)]


def store_of_metrics(*scrapes) -> Store:
    """A store of every series of one service, scraped every 15 s with these metrics."""
    store = Store({"api": SimpleNamespace(name="api", team="web", labels={})})
    store.want([(lambda labels: True, None)])
    for i, changes in enumerate(scrapes):
        store.scrape(15.0 * i, {"api": {"request_rate": 100.0, "error_rate": 0.0, "latency_p99_ms": 200.0, "cpu": 0.5,
                                        "memory": 0.25, **changes}})
    store.fill()
    return store


def samples(store, name, **labels) -> list:
    return next(s.values for s in store.series if s.labels["__name__"] == name and labels.items() <= s.labels.items())


def test_a_gauge_keeps_the_sign_of_a_zero():
    # 0 and -0 are equal floats, but 1 / cpu tells them apart (+Inf, -Inf)
    store = store_of_metrics({"cpu": 0.0}, {"cpu": -0.0}, {"cpu": 0.0})
    assert [math.copysign(1.0, v) for v in samples(store, "cpu")] == [1.0, -1.0, 1.0]
    assert query(store, "1 / cpu", 15.0) == {(("job", "api"), ("service", "api"), ("team", "web")): -math.inf}


def test_a_counter_falling_from_the_first_scrape_starts_at_its_first_step_and_resets():
    # failing 150% of 100 requests a second, the answered requests' counter gains 100 x -0.5 x 15
    # = -750 a scrape; its first step, over no time, is -0.5 x 100 x 0 = -0. Every fall is a reset:
    # the increase over [0, 45] is the last value, -2250, plus each value fallen from (-0, -750,
    # -1500), as the same samples give in a series of their own
    store = store_of_metrics(*[{"error_rate": 1.5}] * 4)
    values = samples(store, "http_requests_total", code="200")
    assert values == [0.0, -750.0, -1500.0, -2250.0] and math.copysign(1.0, values[0]) == -1.0
    answered = 'http_requests_total{code="200"}'
    alone = store_of(({"__name__": "answered"}, (0.0, 15.0, 30.0, 45.0), values))
    assert query(store, f"sum(increase({answered}[45s]))", 45.0) == query(alone, "sum(increase(answered[45s]))", 45.0)
    assert query(alone, "sum(increase(answered[45s]))", 45.0) == {(): -2250.0 - 750.0 - 1500.0}


def test_the_scraped_span_of_any_window_is_what_a_search_of_the_scrape_times_finds():
    # the store steps on from its last answer when a window moves later, and searches when one
    # moves earlier: windows in any order, scrapes added between them, the same spans
    import random
    from bisect import bisect_right

    store, draw = Store({"api": SimpleNamespace(name="api", team="web", labels={})}), random.Random(7)
    for t in range(0, 3000, 15):
        store.scrape_times.append(float(t))
        for _ in range(draw.randrange(3)):
            end = draw.choice([t, t - 15.0, t + 7.5, draw.uniform(-100, 3100)])
            start = end - draw.choice([60.0, 300.0, 300.0, 900.0, 0.0])
            expected = (bisect_right(store.scrape_times, start - 1e-9), bisect_right(store.scrape_times, end))
            assert store.scraped_span(start, end) == expected, (t, start, end)
