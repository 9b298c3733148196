"""PromQL's fast paths against Prometheus and against the slow path: vector matching as a rule
meets it evaluation after evaluation (its match remembered while the two sides' keys stay the
same), ``sum`` of a range function worked out as columns, and scraped counters' rates read in
place. Each expression is compiled once and read at successive times, as a rule is."""

import math
from types import SimpleNamespace

import pytest

from sim.inputs.promrules import PromRule
from sim.model.monitoring.promql import EvalError, compile_expr, parse
from sim.model.monitoring.series import Store

from .promdiff import PROMTOOL
from .test_promql import store_of
from .test_promql_edges import _labels, _values, promtool_table, table_store
from .test_promql_repeat import SCENARIO, drill, times

STEP = 15  # samples at 0, 15, ..., 120 s
SERIES = {
    'a{k="x"}': [4] * 9,
    'a{k="y"}': [6] * 9,
    'b{k="x"}': [2] * 9,
    'b{k="y"}': [None] * 4 + [4] * 5,  # appears at 60 s: the right side's keys change, the left's do not
    'c{k="x"}': [-8] * 9,
    'v{i="1"}': [1] * 9,
    'v{i="2"}': [5] * 9,
    'v{i="3"}': [-3] * 9,
    'part{k="a",i="1"}': [15 * i for i in range(9)],
    'part{k="a",i="2"}': [None] * 8 + [7],  # one sample in any window: no rate
    'part{k="b"}': [None] * 8 + [9],  # a group whose only series has no rate: no group
    'r{i="1"}': [15 * i for i in range(9)],  # rate 1
    'r{i="2"}': [30 * i for i in range(9)],  # rate 2
}
# (expression, the times a rule reads it at, in order, the one compiled expression throughout)
READS = [
    ("a / b", (45, 60, 120)), ("b / a", (45, 60)), ("a > b", (45, 60)), ("a - on (k) b", (45, 60)),
    ("sum(a) * on () group_right a", (45, 60)), ("a * on () group_left sum(a)", (45,)),  # the many side right, left
    ("3 < a", (120,)), ("5 < a", (120,)), ("-8 >= c", (120,)), ("-9 >= c", (120,)),  # a scalar first: no filter
    ("sum(abs(c))", (120,)), ("sum by (i) (clamp_min(v, 0))", (120,)),  # sum of a call that is no range function
    ("sum by (k) (rate(part[1m]))", (60, 120)), ("sum(rate(part[1m]))", (120,)),
    ("max(rate(r[1m]))", (120,)), ("count(rate(r[1m]))", (120,)),  # no sum: not the summed columns
    ("sum by (k) (increase(part[1m])) / sum by (k) (rate(part[1m]))", (60, 120)),
]


def _store():
    return table_store(SERIES, STEP)


def _read(expr, at):
    evaluate = compile_expr(parse(expr), _store())
    return [[(_labels(key), value) for key, value in evaluate(t)] for t in at]


def _promtool(folder, checks):
    """``promtool test rules`` of these expression checks over ``SERIES``: its exit code and output."""
    return promtool_table(folder, "matching", STEP, checks, {s: _values(v) for s, v in SERIES.items()})


@pytest.mark.skipif(PROMTOOL is None, reason="promtool is not installed (Debian: apt-get install prometheus)")
def test_a_rule_read_again_and_again_agrees_with_promtool(tmp_path):
    checks = []
    for expr, at in READS:
        for t, samples in zip(at, _read(expr, at)):
            checks.append({"expr": expr, "eval_time": f"{t}s",
                           "exp_samples": [{"labels": labels, "value": value} for labels, value in samples]})
    code, output = _promtool(tmp_path, checks)
    assert code == 0, output


def test_reads_worked_by_hand():
    # b{k="y"} appears at 60 s: a / b pairs x alone before (4 / 2), then y too (6 / 4)
    assert _read("a / b", (45, 60)) == [[('{k="x"}', 2.0)], [('{k="x"}', 2.0), ('{k="y"}', 1.5)]]
    # a scalar on the left keeps the elements for which the comparison holds, name and all
    assert _read("3 < a", (120,)) == [[('a{k="x"}', 4.0), ('a{k="y"}', 6.0)]] and _read("5 < a", (120,)) == [[('a{k="y"}', 6.0)]]
    # part{k="a",i="1"} rises 15 a scrape: rate 1 over [60, 120]; the other two hold one sample each
    assert _read("sum by (k) (rate(part[1m]))", (120,)) == [[('{k="a"}', 1.0)]]
    assert _read("sum(a) * on () group_right a", (120,)) == [[('{k="x"}', 40.0), ('{k="y"}', 60.0)]]  # (4 + 6) x 4, x 6
    assert _read("sum(abs(c))", (120,)) == [[("{}", 8.0)]]
    assert _read("max(rate(r[1m]))", (120,)) == [[("{}", 2.0)]]  # r rises 15 and 30 a scrape


def test_duplicate_series_on_the_one_side_fail_the_evaluation(tmp_path):
    # on (): once b{k="y"} appears both b series match the same (empty) labels, and the "one"
    # side must be unique: the evaluation fails, in Prometheus as here (promtool says so)
    evaluate = compile_expr(parse("sum(a) * on () b"), _store())
    assert evaluate(45) == [((), 20.0)]  # (4 + 6) x 2: b{k="y"} is not there yet
    for t in (60, 120):
        with pytest.raises(EvalError, match="duplicate series for the match group on the right"):
            evaluate(t)
    if PROMTOOL is not None:
        code, output = _promtool(tmp_path, [{"expr": "sum(a) * on () b", "eval_time": "60s", "exp_samples": []}])
        assert code != 0 and "found duplicate series for the match group" in output, output


# test_promql_repeat's service (100 requests/s failing 0.01% of them, scraped and evaluated every
# 15 s), 80% failing from 1205 s for 600 s (the scrapes at 1215 .. 1800 see it), 40 minutes long.
SHORT = (SCENARIO.replace("horizon: 4h", "horizon: 40m").replace("at: 7205s", "at: 1205s")
         .replace("error_rate: 50%", "error_rate: 80%"))


def test_an_alert_comparing_two_sums_fires_only_while_the_comparison_holds(tmp_path):
    # Worked by hand: a scrape adds 0.15 errors and 1499.85 successes calm, 1200 and 300 in the
    # fault. Both rates share their window (21 samples, 20 steps) and its extrapolation, so the
    # comparison is of the steps' sums: with k fault steps in the window, 1200k + 0.15(20 - k) >
    # 300k + 1499.85(20 - k) from k = 13 (15601.05 > 14398.95; at 12, 14401.2 < 15598.8). The
    # 13th fault scrape is at 1395; the window at t holds the fault's steps from t - 285 to 1800,
    # 13 of them up to t = 1905 and 12 at 1920.
    rule = PromRule("alert", "MostlyErrors", 'sum(rate(http_requests_total{code="500"}[5m]))'
                    ' > sum(rate(http_requests_total{code="200"}[5m]))', 0.0, 0.0, {}, {})
    run = drill(tmp_path, [rule], True, SHORT)
    assert times(run, "MostlyErrors") == [("alert.pending", 1395), ("alert.firing", 1395), ("alert.resolved", 1920)]


def _scraped(error_rates):
    """A store scraping one service every 15 s at these error rates, and the rules' reads between
    its scrapes (5 and 10 s after each: windows that start between two samples)."""
    svc = SimpleNamespace(name="api", team="core", labels={})
    store = Store({"api": svc})
    store.want([(lambda labels: True, None)])
    return store, [{"request_rate": 100.0, "error_rate": e, "latency_p99_ms": 250.0, "cpu": 0.5, "memory": 0.25}
                   for e in error_rates]


def test_scraped_counters_read_in_place_give_the_general_paths_results():
    # Errors at 0.01% for 20 scrapes, then 50%, then 2%. In place (the scraped counters share
    # their times and none fell) and through hand-made copies of the same samples (the general
    # path, sample by sample), every result is the same float.
    store, metrics = _scraped([0.0001] * 21 + [0.5] * 12 + [0.02] * 12)
    exprs = ["rate(http_requests_total[1m])", "increase(http_requests_total[2m])", "delta(http_requests_total[1m])",
             'sum by (code) (rate(http_requests_total[1m]))', "sum(increase(http_requests_total[1m] offset 20s))"]
    fast = [compile_expr(parse(e), store) for e in exprs]
    at, got = [], []
    for i, m in enumerate(metrics):
        store.scrape(15.0 * i, {"api": m})
        for t in (15.0 * i + 5, 15.0 * i + 10):
            at.append(t)
            got.append([sorted(f(t)) for f in fast])
    assert not store.fell and all(s.counter for s in store.series if s.labels["__name__"] == "http_requests_total")
    store.fill()
    copy = store_of(*[(s.labels, list(s.times), list(s.values)) for s in store.series])
    slow = [compile_expr(parse(e), copy) for e in exprs]
    assert got == [[sorted(f(t)) for f in slow] for t in at]
    # one read worked by hand: at 320 s the minute [260, 320] holds 270 .. 315 s; the 500s
    # counter is 18 x 0.15 = 2.7 at 270, 3 at 300 and 753 at 315 (the first scrape at 50%): it
    # rose 750.3 over 45 s, at which pace it was 0 at 45 x 2.7 / 750.3 s (0.16) before 270,
    # nearer than the window's start 10 s before: extrapolated that far back and 5 s on
    errors = next(v for key, v in got[at.index(320.0)][0] if ("code", "500") in key)
    assert errors == pytest.approx(750.3 * (45 + 45 * 2.7 / 750.3 + 5) / 45 / 60, rel=1e-12)
    assert not math.isclose(errors, 750.3 * (45 + 10 + 5) / 45 / 60)  # not extrapolated to the window's start
