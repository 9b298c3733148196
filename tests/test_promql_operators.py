"""PromQL's operators where the tests of the edges and of matching do not go: ``on``/``ignoring``
labels of the result, a comparison that filters many-to-one (``group_left``/``group_right``) or
one-to-one pairs that are not unique, the ``multiple matches`` errors, ``max``/``min`` past a NaN
or a signed zero, ``group``, and ``histogram_quantile`` at the edges of its buckets. Every answer
is asserted to promtool (one run), and a few are worked by hand as well."""

import math
import re

import pytest

from sim.model.monitoring.promql import EvalError, compile_expr, parse

from .promdiff import PROMTOOL
from .test_promql import store_of
from .test_promql_edges import _labels, _values, promtool_table, table_store
from .test_promql_matching import _read, _scraped

STEP, SAMPLES, AT = 15, 9, 120  # samples at 0, 15, ..., 120 s; every expression is read at 120 s

# each name's series in the order of their labels, as Prometheus selects them (max and min keep
# the first of equal values)
SERIES = {
    'a{k="x"}': 4,
    'b{k="x"}': 2,
    'x{j="1",k="x"}': 4,
    'y{j="2",k="x"}': 2,
    'm{i="1",k="x"}': 5,  # two "many" series that differ only in i
    'm{i="2",k="x"}': 1,
    't{i="9",k="x"}': 3,  # the "one" side: group_left(i) gives both m series i="9"
    'n{i="1"}': math.nan,  # a NaN first: max and min take the number after it
    'n{i="2"}': 5,
    'zp{i="1"}': 0.0,  # 0 then -0: max and min keep the first (by hand only, below)
    'zp{i="2"}': -0.0,
    'lat_bucket{le="0.1"}': 50,
    'lat_bucket{le="0.5"}': 90,
    'lat_bucket{le="+Inf"}': 100,
    'flat_bucket{le="0.1"}': 50,  # no observation in (0.1, 0.5]
    'flat_bucket{le="0.5"}': 50,
    'flat_bucket{le="+Inf"}': 100,
    'neg_bucket{le="-1"}': 50,  # a first bound below zero
    'neg_bucket{le="1"}': 100,
    'neg_bucket{le="+Inf"}': 100,
    'ze_bucket{le="0.1"}': 0,  # a first bound above zero, no observation in it
    'ze_bucket{le="0.5"}': 10,
    'ze_bucket{le="+Inf"}': 10,
    'zb_bucket{le="0"}': 0,  # a first bound of zero, no observation in it
    'zb_bucket{le="1"}': 10,
    'zb_bucket{le="+Inf"}': 10,
    'one_bucket{le="1"}': 1,  # a single observation
    'one_bucket{le="+Inf"}': 1,
    'nan_bucket{le="0.1"}': 50,  # NaN observations in all
    'nan_bucket{le="0.5"}': 90,
    'nan_bucket{le="+Inf"}': math.nan,
    'empty_bucket{le="0.1"}': 0,
    'empty_bucket{le="+Inf"}': 0,
    'ez_bucket{le="0"}': 0,  # no observations, a first bound of zero
    'ez_bucket{le="+Inf"}': 0,
    'noinf_bucket{le="0.1"}': 50,  # no +Inf bucket
    'noinf_bucket{le="0.5"}': 90,
    'inf_bucket{le="+Inf"}': 100,  # the +Inf bucket alone
}

EXPRESSIONS = [
    "a <= 4", "a <= 3", "a + -scalar(b)", 'absent(nothing{k="x",j!="y",i=~"z"})',
    "x - ignoring (j) y", "x - on (k) b", "x * on (k) group_left (j) b", "x * on (k) group_left (j) y",
    "m > on (k) group_left (i) t", "t < on (k) group_right (i) m", "m > on (k) t", "m > on (k) group_left t",
    "max(n)", "min(n)", "group(m)", "group by (k) (m)",
    "histogram_quantile(1, lat_bucket)", "histogram_quantile(0.5, flat_bucket)",
    "histogram_quantile(0.25, neg_bucket)", "histogram_quantile(0.75, neg_bucket)",
    "histogram_quantile(0, zb_bucket)", "histogram_quantile(0.5, one_bucket)", "histogram_quantile(0.5, nan_bucket)",
]
NANS = ["histogram_quantile(NaN, lat_bucket)", "histogram_quantile(0.5, empty_bucket)",
        "histogram_quantile(0.5, noinf_bucket)", "histogram_quantile(0.5, inf_bucket)", "histogram_quantile(0, ze_bucket)",
        "histogram_quantile(0.5, ez_bucket)"]
ERRORS = {
    "m > on (k) group_left (i) (t - 3)": "multiple matches for labels",  # both m pass
    "m + on (k) group_left (i) t": "multiple matches for labels",
    "m > bool on (k) group_left (i) t": "multiple matches for labels",
    "m + on (k) t": "multiple matches for labels: many-to-one matching must be explicit",
    "m > on (k) (t - 3)": "multiple matches for labels: many-to-one matching must be explicit",
}


def _store():
    return table_store({s: [float(v)] * SAMPLES for s, v in SERIES.items()}, STEP)


def ours(expr):
    return [(_labels(key), value) for key, value in compile_expr(parse(expr), _store())(AT)]


@pytest.mark.skipif(PROMTOOL is None, reason="promtool is not installed (Debian: apt-get install prometheus)")
def test_every_answer_and_error_agrees_with_promtool(tmp_path):
    checks = []
    for expr in EXPRESSIONS:
        checks.append({"expr": expr, "eval_time": f"{AT}s",
                       "exp_samples": [{"labels": labels, "value": value} for labels, value in ours(expr)]})
    for expr in NANS:  # NaN equals nothing, itself included: 0 where the answer is NaN
        same = f"({expr}) == bool ({expr})"
        checks.append({"expr": same, "eval_time": f"{AT}s",
                       "exp_samples": [{"labels": labels, "value": value} for labels, value in ours(same)]})
    for expr in ERRORS:
        checks.append({"expr": expr, "eval_time": f"{AT}s", "exp_samples": []})
    _, output = promtool_table(tmp_path, "operators", STEP, checks,
                               {s: _values([v] * SAMPLES) for s, v in SERIES.items()})
    failed = dict(re.findall(r'expr: "(.*?)", time: \S+, err: (.*)', output))
    assert set(re.findall(r'expr: "(.*?)", time:', output)) == failed.keys() == ERRORS.keys(), output  # no other
    assert all(failed[e].startswith(m) for e, m in ERRORS.items()), output


def test_nans_and_errors():
    for expr in NANS:
        (labels, value), = ours(expr)
        assert labels == "{}" and math.isnan(value), expr
    # Prometheus says "grouping labels must ensure unique matches" in the many-to-one case (the
    # message is no user's to see here: the rule's evaluation fails, as in Prometheus)
    for expr, message in ERRORS.items():
        with pytest.raises(EvalError, match=message):
            ours(expr)


def test_answers_worked_by_hand():
    assert ours("a <= 4") == [('a{k="x"}', 4.0)]  # the filter keeps an equal value
    assert ours("a + -scalar(b)") == [('{k="x"}', 2.0)]  # a scalar negated: 4 + -2
    assert ours('absent(nothing{k="x",j!="y",i=~"z"})') == [('{k="x"}', 1.0)]  # the equality matchers' labels
    # ignoring (j) matches x and y on k (names aside) and drops j; on (k) keeps k alone
    assert ours("x - ignoring (j) y") == ours("x - on (k) b") == [('{k="x"}', 2.0)]
    assert ours("x * on (k) group_left (j) b") == [('{k="x"}', 8.0)]  # b has no j: x's goes
    # group_left (i) names both m series m{i="9",k="x"}: only m{i="1"} (5 > 3) is kept, unique
    assert ours("m > on (k) group_left (i) t") == [('m{i="9",k="x"}', 5.0)]
    assert ours("t < on (k) group_right (i) m") == [('m{i="9",k="x"}', 3.0)]  # t's value, m's labels
    assert ours("m > on (k) t") == [('{k="x"}', 5.0)]  # both m match t{k="x"}: one passes, no error
    assert ours("max(n)") == ours("min(n)") == [("{}", 5.0)]  # past the first value, NaN
    # Of equal values max and min keep the first (Go: ``if group.floatValue < s.F``), here the
    # series' order: 0 over -0 (1 / it tells them apart). promtool feeds its aggregation in Go's
    # random map order, so it answers +Inf and -Inf by turns: not asserted to it
    assert ours("1 / max(zp)") == ours("1 / min(zp)") == [("{}", math.inf)]
    assert ours("group(m)") == [("{}", 1.0)]
    # lat: rank 100 is in the +Inf bucket: the highest finite bound. flat: rank 50 is the first
    # bucket's count, reached at its upper bound 0.1 (not past the empty bucket after it)
    assert ours("histogram_quantile(1, lat_bucket)") == [("{}", 0.5)]
    assert ours("histogram_quantile(0.5, flat_bucket)") == [("{}", 0.1)]
    # neg: rank 25 in the first bucket, whose bound -1 is at most 0: -1 itself; rank 75 in (-1, 1]
    # with 50 of its 50 observations below it: -1 + 2 x 25 / 50 = 0
    assert ours("histogram_quantile(0.25, neg_bucket)") == [("{}", -1.0)]
    assert ours("histogram_quantile(0.75, neg_bucket)") == [("{}", 0.0)]
    assert ours("histogram_quantile(0, zb_bucket)") == [("{}", 0.0)]  # rank 0 in the first bucket, bound 0
    assert ours("histogram_quantile(0.5, one_bucket)") == [("{}", 0.5)]  # rank 0.5 of (0, 1]'s 1
    assert ours("histogram_quantile(0.5, nan_bucket)") == [("{}", 0.5)]  # rank NaN: no bucket holds it


def test_left_keys_that_change_to_the_right_ones_are_matched_again():
    # b{k="y"} appears at 60 s: the left side's keys become the right side's (both {k="x"},
    # {k="y"}); the match remembered from 45 s (x alone) must not be taken for them
    assert _read("sum by (k) (b) / sum by (k) (a)", (45, 60)) == [[('{k="x"}', 0.5)],
                                                                  [('{k="x"}', 0.5), ('{k="y"}', 4 / 6)]]


def test_counters_are_read_in_place_only_by_extrapolating_functions_and_while_none_fell():
    # Errors at 0.01% then 50%: no counter falls. Errors at 150% for 4 scrapes: the 200s counter
    # steps below 0 (it falls: resets) and the store says so. In both, every read gives the same
    # floats as hand-made copies of the same samples (the general path, sample by sample).
    exprs = ["rate(http_requests_total[1m])", "increase(http_requests_total[2m])",
             "irate(http_requests_total[1m])", "max_over_time(http_requests_total[1m])"]
    for error_rates, fell in (([0.0001] * 10 + [0.5] * 10, False), ([0.0001] * 8 + [1.5] * 4 + [0.2] * 8, True)):
        store, metrics = _scraped(error_rates)
        fast = [compile_expr(parse(e), store) for e in exprs]
        at, got = [], []
        for i, m in enumerate(metrics):
            store.scrape(15.0 * i, {"api": m})
            at.append(15.0 * i + 5)
            got.append([sorted(f(at[-1])) for f in fast])
        assert store.fell == fell
        store.fill()
        copy = store_of(*[(s.labels, list(s.times), list(s.values)) for s in store.series])
        slow = [compile_expr(parse(e), copy) for e in exprs]
        assert got == [[sorted(f(t)) for f in slow] for t in at]


def test_a_narrow_window_of_in_place_counters_extrapolates_to_zero_as_the_general_path():
    # Scrapes at 0, 15, 30, then 100 and 105: at 110 the minute [50, 110] holds 100 and 105 alone,
    # 5 s of samples 50 s after its start. The 500s counter is 100 x 0.01 x 100 s = 100 at 100 and
    # rises 100 x 0.19 x 5 = 95 by 105: at that pace it was 0 100 / 95 x 5 s before 100, nearer than
    # the window's start and than 1.1 x the 5 s between samples: the rate extrapolates that far back,
    # (5 + 5 + 100 / 95 x 5) x 95 / 5 / 60, not half an interval
    store, metrics = _scraped([0.01] * 4 + [0.19])
    rate = compile_expr(parse('rate(http_requests_total{code="500"}[1m])'), store)
    for t, m in zip((0.0, 15.0, 30.0, 100.0, 105.0), metrics):
        store.scrape(t, {"api": m})
    got = rate(110.0)
    store.fill()
    copy = store_of(*[(s.labels, list(s.times), list(s.values)) for s in store.series])
    assert got == compile_expr(parse('rate(http_requests_total{code="500"}[1m])'), copy)(110.0)
    assert got[0][1] == pytest.approx((10 + 100 / 95 * 5) * 95 / 5 / 60, rel=1e-12)


def test_a_sum_by_name_of_rates_has_no_name():
    # rate drops the name before the sum groups: one group, {}, of r's rates 1 and 2
    assert _read("sum by (__name__) (rate(r[1m]))", (120,)) == [[("{}", 3.0)]]


def _counters(*rates_and_groups, single=None):
    """Counters ``c{a, z}`` sampled every 15 s from 0 to 60 s, rising at these rates (per s), and
    one more with a single sample at 60 s (no rate over a minute) in group ``single``."""
    series = [({"__name__": "c", "a": str(i), "z": z}, range(0, 61, 15), [rate * t for t in range(0, 61, 15)])
              for i, (rate, z) in enumerate(rates_and_groups, start=1)]
    if single is not None:
        series.append(({"__name__": "c", "a": "9", "z": single}, [60], [7.0]))
    return store_of(*series)


def test_a_sum_by_of_rates_adds_each_group_whose_series_come_apart():
    # Series in the order of their labels (a first): y, y, x. Each rate is its slope exactly (the
    # window [0, 60] holds the samples at both edges): y = 1 + 2, x = 4, in the order groups first
    # appear. With a series that has no rate (a single sample) the sum takes the rest, the same.
    def summed(store):
        return [(_labels(k), v) for k, v in compile_expr(parse("sum by (z) (rate(c[1m]))"), store)(60)]
    expected = [("{z=\"y\"}", pytest.approx(3.0, rel=1e-12)), ("{z=\"x\"}", pytest.approx(4.0, rel=1e-12))]
    assert summed(_counters((1, "y"), (2, "y"), (4, "x"))) == expected
    assert summed(_counters((1, "y"), (2, "y"), (4, "x"), single="x")) == expected
