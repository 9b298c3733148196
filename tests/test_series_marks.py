"""The series store's bookkeeping (``sim/model/monitoring/series.py``: ``Store.fill``, ``_restep``,
``_mark``, ``record``) gives what a user reads: a counter's samples written several scrapes at
once are the floats written one scrape at a time, a gauge takes every scrape's value (NaN
included), a recording rule's samples and staleness markers stay at their times when the
engine records skipped ticks at once, a recorded series that turns NaN or goes stale wakes the
rules that read it, and a drill whose world moved before its second scrape shares no result
with a drill that did not. Expected values are worked by hand; drills are also checked against
evaluating every rule at every tick."""

import math
import random
from bisect import bisect_left
from dataclasses import replace
from types import SimpleNamespace

from sim.inputs.promrules import PromRule, RuleGroup
from sim.model.monitoring.series import Marks, Store

from .test_promql import query
from .test_promql_repeat import alert, alike_every_tick, run, times, with_rules
from .test_series_store import ERRORS, SCENARIO

API = {"api": SimpleNamespace(name="api", team="web", labels={})}
USUAL = {"request_rate": 100.0, "error_rate": 0.0, "latency_p99_ms": 200.0, "cpu": 0.5, "memory": 0.25}


def scraped(*scrapes, fill_each=False) -> Store:
    """A store of every series of one service, scraped every 15 s with these changes to USUAL
    (samples written after every scrape, or once at the end)."""
    store = Store(API)
    store.want([(lambda labels: True, None)])
    for i, changes in enumerate(scrapes):
        store.scrape(15.0 * i, {"api": {**USUAL, **changes}})
        if fill_each:
            store.fill()
    store.fill()
    return store


def samples(store, name) -> list:
    return next(s.values for s in store.series if s.labels["__name__"] == name)


def test_a_counter_written_two_scrapes_at_once_keeps_the_sign_of_its_zeros():
    # cpu -0 gives the cpu counter a step of -0 x 0 = -0 at the first scrape and -0 x 15 = -0
    # after: the same float, so nothing is written until the samples are read, two at once. The
    # counter starts at its first step and adds its step: -0, then -0 + -0 = -0 (not +0), as
    # written one scrape at a time; 1 / counter shows the sign (-Inf).
    at_once, one_by_one = scraped({"cpu": -0.0}, {"cpu": -0.0}), scraped({"cpu": -0.0}, {"cpu": -0.0}, fill_each=True)
    for store in (at_once, one_by_one):
        assert [math.copysign(1.0, v) for v in samples(store, "process_cpu_seconds_total")] == [-1.0, -1.0]
    assert query(at_once, "1 / process_cpu_seconds_total", 15.0) == {
        (("job", "api"), ("service", "api"), ("team", "web")): -math.inf}


def test_a_gauge_takes_a_nan_and_leaves_it():
    # a gauge's sample is its metric at the scrape: NaN is no float equal to itself, and still
    # a change from 0.5 and to 0.5
    values = samples(scraped({"cpu": 0.5}, {"cpu": math.nan}, {"cpu": 0.5}, {"cpu": math.nan}, {"cpu": math.nan}), "cpu")
    assert values[0] == 0.5 and math.isnan(values[1]) and values[2] == 0.5 and all(map(math.isnan, values[3:]))


def test_a_recorded_series_that_goes_stale_over_skipped_ticks_keeps_its_samples_at_their_times():
    # A rule gives a and b at 0, then only a, the same output at 15, 30 and 45 (30 and 45 ticks
    # the engine skipped, recorded at once), then both at 60. b holds a staleness marker at each
    # of 15, 30, 45 and its new value at 60: an instant query sees 2 at 0, nothing at 15..45
    # (the marker hides the old sample), 3 at 60.
    store, rule = Store({}, 15.0, 15.0), object()
    a, b = (("__name__", "x"), ("s", "a")), (("__name__", "x"), ("s", "b"))
    first, alone, both = {a: 1.0, b: 2.0}, {a: 1.0}, {a: 1.0, b: 3.0}
    store.record(0.0, rule, first, None, True)
    store.record(15.0, rule, alone, first, True)
    store.record(30.0, rule, alone, alone, True, [45.0])
    store.record(60.0, rule, both, alone, True)
    assert store.recorded[rule][b].values == [2.0, None, None, None, 3.0]
    assert [query(store, "x{s='b'}", t) for t in (0.0, 15.0, 30.0, 45.0, 60.0)] == [
        {b: 2.0}, {}, {}, {}, {b: 3.0}]


def test_a_recording_that_changes_some_series_writes_them_alone_and_reads_as_if_written_in_full():
    # One rule's three series: at 0 a=1, b=2, c=3; at 15 the very output again (nothing is
    # written); at 30 the output before but for b=5 and c gone (given as ``changed``: only those
    # are written); at 45 all three (c=7), written in full. Read back (an instant query reads what
    # each series repeated), each holds a sample at every time, and a mark where it changed:
    # every series at 0 (it had no sample), b at 30, c at 30 (stale) and 45.
    store, rule = Store({}, 15.0, 15.0, gap=1.0), object()
    a, b, c = ((("__name__", "x"), ("s", name)) for name in "abc")
    first = {a: 1.0, b: 2.0, c: 3.0}
    store.record(0.0, rule, first, None, True)
    store.record(15.0, rule, first, first, True)
    assert [len(series.values) for series in store.recorded[rule].values()] == [1, 1, 1]
    later = {a: 1.0, b: 5.0}
    store.record(30.0, rule, later, first, True, changed=({b: 5.0}, [c]))
    assert [len(series.values) for series in store.recorded[rule].values()] == [1, 3, 3]
    assert [query(store, "x", t) for t in (0.0, 15.0, 30.0)] == [first, first, later]
    store.record(45.0, rule, {a: 1.0, b: 5.0, c: 7.0}, later, True)
    mine = store.recorded[rule]
    assert [mine[key].values for key in (a, b, c)] == [[1.0] * 4, [2.0, 2.0, 5.0, 5.0], [3.0, 3.0, None, 7.0]]
    assert [list(zip(mine[key].marks.los, mine[key].marks.his)) for key in (a, b, c)] == [
        [(0.0, 0.0)], [(0.0, 0.0), (30.0, 30.0)], [(0.0, 0.0), (30.0, 30.0), (45.0, 45.0)]]


# test_series_store's scenario (one service at 100 requests/s failing none of them, half of them
# from 605 s for 300 s), with half failing again from 1505 s for 120 s; scraped and evaluated
# every 15 s (a period of 15 s).
TWICE = SCENARIO.replace("alerts: []", """  - {id: again, kind: config_push, service: api, at: 1505s, magnitude: {error_rate: 50%}, ramp: 0s,
     duration: 120s, recovery: 0s, description: errors again}
alerts: []""")


def test_a_recorded_series_that_goes_stale_and_comes_back_after_quiet_ticks(tmp_path):
    # error_rate is 0.5 from the scrape at 615 to the one at 900 and from 1515 to 1620: the
    # recorded series exists then and is stale (no sample) from 915 and from 1635. From 915 to
    # 1515 nothing the rule reads moves: the engine skips most of those ticks and records their
    # staleness markers at once. The alert fires when the series appears and resolves the tick
    # it goes stale (its last sample, 0.5, a period before, would have held it).
    rules = [PromRule("record", "api:failing", "error_rate > 0.1", 0.0, 0.0, {}, {}), alert("Failing", "api:failing > 0.1")]
    drill = alike_every_tick(with_rules(tmp_path, rules, TWICE))
    assert times(drill, "Failing") == [("alert.pending", 615), ("alert.firing", 615), ("alert.resolved", 915),
                                       ("alert.pending", 1515), ("alert.firing", 1515), ("alert.resolved", 1635)]


def test_a_recorded_value_that_turns_nan_wakes_the_rules_that_read_it(tmp_path):
    # x = the 5-minute rate of errors over itself: 0 / 0 = NaN while the window [t-300, t] holds
    # no error (from 15, the first rate, to 600), 1 while it does (615 to 1185: the last errors
    # come with the scrape at 900, and at 1200 the window starts there), NaN again from 1200,
    # 1 from 1515. NaN != NaN: the alert holds exactly while x is NaN. At 1200 x's sample a
    # period before was 1: the series moved, though no NaN equals anything.
    rules = [PromRule("record", "api:x", f"{ERRORS} / {ERRORS}", 0.0, 0.0, {}, {}), alert("Nan", "api:x != api:x")]
    scenario = with_rules(tmp_path, rules, TWICE)
    drill = run(scenario)  # as alike_every_tick, NaN values (equal to nothing) compared as text
    assert repr(drill.log.events) == repr(run(scenario, repeat=False).log.events)
    assert times(drill, "Nan") == [("alert.pending", 15), ("alert.firing", 15), ("alert.resolved", 615),
                                   ("alert.pending", 1200), ("alert.firing", 1200), ("alert.resolved", 1515)]


def test_drills_whose_worlds_moved_before_their_second_scrape_share_nothing_with_others(tmp_path):
    # Drills of the same services and rules whose first scrapes (at 0) are alike share the
    # results of rules reading only calm series. With a fault at 10 s the second scrape (15)
    # already sees its errors: error_rate 0.5 (or 0.2) > 0.1 at 15; and the errors counter gains
    # 100 x 0.5 x 15 = 750 a scrape from 15 (300 at 20%), a rate over [t-300, t] (nothing before
    # 0) of 3 x 750 / 300 = 7.5 > 5 at 45 (at 30: 5, not above), and of 6 x 300 / 300 = 6 > 5 at
    # 90 at 20%. The drill without the fault has neither alert. Whatever the order they run in.
    rules = (alert("Failing", "error_rate > 0.1"), alert("Errors", f"{ERRORS} > 5"))
    for order in ((None, 0.5, 0.2), (0.2, 0.5, None)):
        base = with_rules(tmp_path, [RuleGroup("g", None, rules)], TWICE)  # services of their own
        fault = replace(base.faults[0], at=10.0)
        drills = {share: run(replace(base, faults=() if share is None else
                                     (replace(fault, magnitude={**fault.magnitude, "error_rate": share}),)))
                  for share in order}
        assert times(drills[None], "Failing") == times(drills[None], "Errors") == []
        for share, errors in ((0.5, 45), (0.2, 90)):
            assert times(drills[share], "Failing")[:2] == [("alert.pending", 15), ("alert.firing", 15)]
            assert times(drills[share], "Errors")[:2] == [("alert.pending", errors), ("alert.firing", errors)]


def test_a_scrape_told_what_moved_writes_what_looking_at_every_service_writes():
    # Two services; "api" goes from 0 % to 20 % errors at the third scrape, "db" stays. Told that
    # only "api" moved (as the world's list of changes tells it), the store re-steps api alone and
    # writes the very samples of a store that looked at both: api's 500s start at 0, gain 0 at 15 s,
    # then 300 at each scrape from 30 s on (100/s x 20 % x 15 s: 300, 600), db's none; told nothing
    # moved, a changed service is missed (which is why the world's list must be whole).
    services = {name: SimpleNamespace(name=name, team="web", labels={}) for name in ("api", "db")}
    calm = {"api": dict(USUAL), "db": dict(USUAL)}
    failing = {"api": {**USUAL, "error_rate": 0.2}, "db": calm["db"]}
    looks = [(0.0, calm, None), (15.0, calm, None), (30.0, failing, ["api"]), (45.0, failing, [])]

    def errors(told: bool) -> dict:
        store = Store(services, period=15.0)
        store.want([(lambda labels: True, None)])
        for t, metrics, moved in looks:
            store.scrape(t, metrics, moved if told else None)
        store.fill()
        return {s.service: s.values for s in store.series if s.labels.get("code") == "500"}

    assert errors(told=True) == errors(told=False) == {"api": [0.0, 0.0, 300.0, 600.0], "db": [0.0] * 4}
    store = Store(services, period=15.0)
    store.want([(lambda labels: True, None)])
    for t, metrics, _ in looks:
        store.scrape(t, metrics, [])  # nothing said to move: the steps stay as they were
    store.fill()
    assert {s.service: s.values for s in store.series if s.labels.get("code") == "500"}["api"] == [0.0] * 4


def test_a_stretch_of_marks_is_found_where_a_search_finds_it():
    # Marks.next_from looks at the last stretch before it searches: the answer stays the search's
    # (the first stretch not over before the start: inf when every one is), wherever the start falls
    rng = random.Random(7)
    for _ in range(300):
        marks, t = Marks(0.0), 0.0
        for _ in range(rng.randrange(0, 6)):
            lo = t + rng.choice([1.0, 15.0, 30.0])
            t = lo + rng.choice([0.0, 15.0, 300.0])
            marks.add(lo, t)
        for start in [rng.uniform(-10.0, t + 20.0) for _ in range(20)] + marks.his + marks.los:
            i = bisect_left(marks.his, start)
            assert marks.next_from(start) == (marks.los[i] if i < len(marks.his) else math.inf)


def test_a_selection_made_after_the_scrapes_began_is_marked_as_the_same_series_move_again():
    # The cpu of "api" moves at every scrape from the third: the same series change each time,
    # which the store marks by one plan. A selection of the cpu counter made after the scrape at
    # 45 s takes none of the earlier marks (its series' selectors kept them), and the move at 60 s
    # marks it over [60 - 15, 60 + 60 - 15] = [45, 105]: its own selection, not the plan's of before.
    from sim.model.monitoring.promql import _Selected

    store = Store(API, period=60.0)
    store.want([(lambda labels: True, None)])
    for i, cpu in enumerate([0.5, 0.5, 0.6, 0.7]):
        store.scrape(15.0 * i, {"api": {**USUAL, "cpu": cpu}})
    late = _Selected(store, lambda labels: True, "process_cpu_seconds_total", 0.0)
    assert [s.labels["__name__"] for s in late.current()] == ["process_cpu_seconds_total"]
    assert (late.marks.los, late.marks.his) == ([], [])
    store.scrape(60.0, {"api": {**USUAL, "cpu": 0.8}})
    assert (late.marks.los, late.marks.his) == ([45.0], [105.0])


def test_stretches_taken_in_at_once_are_the_stretches_added_in_order():
    # Marks.absorb takes stretches in any order, into marks empty or not (one stretch into none, a
    # new selection's commonest, included): the marks of adding the same stretches sorted, one by one
    rng = random.Random(11)
    for _ in range(300):
        before = sorted((lo, lo + rng.choice([0.0, 15.0])) for lo in rng.sample(range(0, 600, 15), rng.randrange(0, 3)))
        taken = {(lo, lo + rng.choice([0.0, 15.0, 300.0])) for lo in rng.sample(range(0, 600, 15), rng.randrange(1, 4))}
        marks, expected = Marks(15.0), Marks(15.0)
        for lo, hi in before:
            marks.add(lo, hi)
        marks.absorb(taken)
        for lo, hi in sorted(before + list(taken)):
            expected.add(lo, hi)
        assert (marks.los, marks.his) == (expected.los, expected.his)


def test_a_mark_plan_tells_each_selection_once_with_the_services_it_keeps_marks_of():
    # Two services' cpu series: one selection of both keeps marks by service, another of api's alone
    # does not. Marking both series tells the first of both services and each selection once, in the
    # order first met; a later plan starts afresh (the services of the plan before stay as they were).
    from sim.model.monitoring.promql import _Selected
    from sim.model.monitoring.series import _mark_plan

    services = {name: SimpleNamespace(name=name, team="web", labels={}) for name in ("api", "db")}
    store = Store(services, period=60.0)
    store.want([(lambda labels: True, None)])
    cpu = [s for s in store.scraped if s.labels["__name__"] == "process_cpu_seconds_total"]
    both = _Selected(store, lambda labels: True, "process_cpu_seconds_total", 0.0)
    both.services = {}
    api = _Selected(store, lambda labels: labels["service"] == "api", "process_cpu_seconds_total", 0.0)
    both.current(), api.current()
    by_service, told = _mark_plan(cpu)
    assert by_service == [(both, {"api", "db"})] and told == [both, api]
    again, _ = _mark_plan(cpu[1:])
    assert again == [(both, {"db"})] and by_service[0][1] == {"api", "db"}
