"""PromQL's range functions and arithmetic where a window's edges fall between samples, counters
stay flat or reset, sums need their compensation, and operators meet zeros and infinities:
drillsim's values asserted to promtool as exact expectations (one promtool run), the few
promtool cannot check (NaN, the sign of a zero, samples a second apart) worked by hand.

tests/test_promql_edges.py samples every 15 s and reads at a scrape, so every window edge
sits on a sample; here samples are 10 s apart and windows start and end between them.
"""

import math
import re
from dataclasses import replace

import pytest

from sim import load_scenario
from sim.inputs.config import Script
from sim.inputs.promrules import FUNCTIONS, PromRule, RuleGroup
from sim.model.engine import Drill
from sim.model.monitoring.promql import EvalError, compile_expr, parse
from sim.model.monitoring.series import Series, Store

from .promdiff import PROMTOOL
from .test_promql import store_of
from .test_promql_edges import EXPRESSIONS as EDGES
from .test_promql_edges import _labels, _values, promtool_table, table_labels, table_store
from .test_promql_repeat import SCENARIO, alert, run, times

STEP, SAMPLES = 10, 21  # samples at 0, 10, ..., 200 s

_ = None
SERIES = {
    # rises by 7, flat from 30 to 50 s, resets after 130 s (80 -> 2)
    'ctr{k="x"}': [3, 10, 17, 24, 24, 24, 31, 38, 45, 52, 59, 66, 73, 80, 2, 9, 16, 23, 30, 37, 44],
    'flat{k="f"}': [4] * SAMPLES,
    'g{k="g"}': [50, 45, 47, 40, 38, 41, 30, 28, 33, 20, 18, 25, 12, 10, 14, 6, 4, 9, 2, 1, 3],  # a falling gauge
    'late{k="x"}': [_] * 7 + [100, 105, 111, 118, 120, 131, 140, 150, 151, 160, 170, 171, 180, 190],  # from 70 s
    'early{k="x"}': [5, 8, 13, 20, 22, 30, 31, 40, 42, 50, 55] + [_] * 10,  # to 100 s
    # 3, 1e16, 1, -1e16, 2 from 0 s: a sum without its compensation is off (3 + 1e16 rounds to 1e16 + 4)
    'kah{k="x"}': [3, 1e16, 1, -1e16, 2] + [1] * 16,
    'a{k="x"}': [4] * SAMPLES,
    'z{k="x"}': [0] * SAMPLES,
}

# (expression, evaluation time): a window [t - range, t] closed at both ends, as in Prometheus 2
EXPRESSIONS = [
    # [69.5, 129.5]: samples 70..120, 0.5 s and 9.5 s from the edges, both under 1.1 x 10 s: both added
    ("rate(ctr[1m])", 129.5), ("increase(ctr[1m])", 129.5), ("delta(g[1m])", 129.5),
    # [59, 120]: late's first sample at 70 is 11 s in, 1.1 x its 10 s spacing exactly: half a spacing added
    ("delta(late[61s])", 120), ("increase(late[61s])", 120),
    # [51, 111]: early's last sample at 100 is 11 s before the end: half a spacing added
    ("delta(early[1m])", 111), ("rate(early[1m])", 111),
    # [10, 70] holds the flat stretch (no reset), [100, 160] the reset
    ("increase(ctr[1m])", 70), ("increase(ctr[1m])", 160), ("rate(ctr[65s])", 165),
    ("delta(g[1m])", 60), ("delta(g[95s])", 180), ("idelta(g[1m])", 180), ("irate(g[1m])", 180),
    ("rate(flat[1m])", 120), ("increase(flat[45s])", 125), ("irate(flat[1m])", 120), ("irate(ctr[1m])", 140),
    ("sum_over_time(kah[40s])", 40), ("avg_over_time(kah[40s])", 40), ("sum_over_time(kah[1m])", 60),
    ("avg_over_time(kah[2m])", 120), ("max_over_time(g[1m])", 100), ("min_over_time(g[1m])", 100),
    ('rate({__name__=~"ctr|g"}[1m])', 129.5), ('increase({__name__=~"g|flat"}[65s])', 125), ("a % 1", 100), ("a % 3", 100), ("g % 4", 100), ("a / z", 100), ("-a / z", 100),
]

# The functions real rule files use beyond rates and histograms: forecasts, quantiles and spreads
# over time, counts of changes and resets, rounding, sorting, relabelling and times, over the
# table above (windows between its samples as well)
MORE = [
    ("predict_linear(g[1m], 600)", 100), ("predict_linear(g[1m], 600)", 129.5), ("predict_linear(g[95s], 3600)", 180),
    ("predict_linear(flat[1m], 100)", 120), ("predict_linear(kah[1m], 60)", 60), ("predict_linear(late[2m] offset 30s, 60)", 200),
    ("deriv(g[1m])", 100), ("deriv(g[1m])", 129.5), ("deriv(ctr[2m])", 180), ("deriv(kah[40s])", 40),
    ("quantile_over_time(0.5, g[1m])", 100), ("quantile_over_time(0.9, g[1m])", 100), ("quantile_over_time(0.99, ctr[2m])", 180),
    ("quantile_over_time(0, g[1m])", 129.5), ("quantile_over_time(1, g[1m])", 129.5), ("quantile_over_time(1.5, g[1m])", 100),
    ("quantile_over_time(-0.5, g[1m])", 100), ("quantile_over_time(scalar(flat) / 8, g[95s])", 180),
    ("stdvar_over_time(g[1m])", 100), ("stddev_over_time(g[1m])", 129.5), ("stddev_over_time(flat[1m])", 100),
    ("stdvar_over_time(kah[40s])", 40), ("stddev_over_time(ctr[2m])", 180),
    ("changes(ctr[1m])", 60), ("changes(ctr[2m])", 180), ("changes(flat[1m])", 100), ("changes(g[95s])", 180),
    ("resets(ctr[2m])", 180), ("resets(ctr[1m])", 60), ("resets(g[95s])", 180),
    ("round(g / 3)", 100), ("round(g, 4)", 100), ("round(g / 7, 0.1)", 100), ("round(-a * 0.625)", 100), ("round(a * 0.625)", 100),
    ('label_replace(g, "dst", "$1-x", "k", "(.*)")', 100), ('label_replace(ctr, "k", "", "k", "x")', 100),
    ('label_replace(g, "dst", "y", "k", "nomatch")', 100), ('label_replace(a, "__name__", "renamed", "", "")', 100),
    ('label_replace(g, "dst", "${1}_$2", "k", "(g)(.*)")', 100), ('label_replace(a, "dst", "$$1 $k", "k", "(?P<k>x)")', 100),
    ('label_replace(a, "dst", "$1x-${1}x-$", "k", "(x)")', 100),
    ('label_join(ctr, "j", "-", "k", "__name__")', 100), ('label_join(g, "k", ",", "missing")', 100),
    ("timestamp(g)", 129.5), ("timestamp(late offset 1m)", 135), ("timestamp(rate(ctr[1m]))", 129.5),
    ("vector(time())", 129.5), ("time() - g", 100), ("sort_desc(g or ctr)", 100), ("sort(g or ctr)", 100),
    ("present_over_time(late[1m])", 100), ('absent_over_time(late{k="x"}[1m])', 60), ("absent_over_time(early[1m])", 180),
    ('absent_over_time(nothing{a="b",c=~"d"}[1m])', 100), ('absent(nothing{k="a",k!="b"})', 100), ('absent(nothing{k="a",k="b",j="c"})', 100),
    ("ceil(a / z)", 100), ("floor(-a / z)", 100), ("exp(a * 1000)", 100), ("ln(z)", 100), ("log2(z)", 100), ("log10(z)", 100),
]

# Session 18's second lot: the calendar (of a sample's value as Unix seconds; of the evaluation's
# time, 1970-01-01 in promtool's tests), topk and bottomk (ties included: which one a heap keeps),
# quantile, stddev and stdvar across series, count_values, sgn, deg, rad and pi
CALENDAR = [
    ("hour()", 129.5), ("minute()", 129.5), ("day_of_week()", 129.5), ("year()", 60), ("month()", 60),
    ("day_of_month()", 60), ("day_of_year()", 60), ("days_in_month()", 60),
    ("hour(g * 3600)", 100), ("minute(g * 60 + 0.9)", 100), ("day_of_week(ctr * 86400)", 100),
    ("day_of_week(-ctr * 86400)", 100), ("hour(-a * 3600 - 0.5)", 100), ("month(g * 2.6e6)", 100),
    ("year(ctr * 3e7)", 100), ("year(-ctr * 3e8)", 100), ("days_in_month(g * 2.6e6)", 100),
    ("day_of_month(g * 2.6e6)", 100), ("day_of_year(g * 2.6e6)", 100),
    ("days_in_month(vector(951782400))", 100), ("day_of_month(vector(951782400))", 100),  # 2000-02-29
    ("day_of_year(vector(951868800))", 100), ("days_in_month(vector(4106332800))", 100),  # 2000-03-01, 2100-02-15
    ("year(a / z)", 100), ("month(-a / z)", 100), ("hour(a * 1e30)", 100), ("day_of_week(a * 1e18)", 100),
    ("year(a * 2e18)", 100), ("day_of_month(a * -2.3e18)", 100), ("days_in_month(a / z)", 100),
]
# Series of one order in promtool too (``or``'s: its left side first) where equal values tie or the
# order changes a last bit (Welford's sums); else values that all differ, under a selector whose
# series promtool may hold in any order. a and z have ctr's labels but for the name (``or`` drops them)
FIVE = '{__name__=~"a|g|z|kah|ctr"}'  # 4, 18, 0, 1, 59 at 100 s
CHOSEN = [
    ("topk(2, g or ctr or flat)", 100), ("bottomk(2, g or ctr or flat)", 100), ("topk(1, a or flat)", 100),
    ("topk(1, flat or a)", 100), ("bottomk(1, a or flat)", 100), ("topk(2, g or a or flat)", 100),
    ("bottomk(2, flat or g or a)", 100), (f"topk(3, {FIVE})", 100), (f"bottomk(2, {FIVE})", 100),
    (f"topk(2.9, {FIVE})", 100), (f"topk by (k) (1, {FIVE})", 100), (f"bottomk without (k) (1, {FIVE})", 100),
    (f"topk(scalar(flat) / 2, {FIVE})", 100), (f"topk(7, {FIVE})", 100),
    (f"quantile(0.5, {FIVE})", 100), (f"quantile(0.9, {FIVE})", 100), (f"quantile by (k) (0.25, {FIVE})", 100),
    ("quantile(2, g)", 100), ("quantile(-1, g)", 100),
    ("stddev(g or ctr or flat)", 100), ("stdvar(g or ctr or flat)", 129.5), ("stdvar by (k) (g or ctr or flat)", 100),
    ("stddev(kah or g or flat)", 40), ("stdvar(g)", 100),
    ('count_values("v", a or flat)', 100), (f'count_values by (k) ("v", {FIVE} or flat)', 100),
    ('count_values without (k) ("value", a or flat or g / 3)', 100), ('count_values("k", g * 1e21 or a / 7)', 100),
    ('count_values("v", z * -1.5 or g * 1e-7)', 100),
    ("sgn(g - 20)", 100), ("sgn(g - 18)", 100), ("sgn(-a / z)", 100), ("deg(g / 7)", 100), ("rad(g * 7)", 100),
    ("g * pi()", 100), ("deg(rad(g))", 100),
    ("bottomk(2, g or ctr or flat)", 180),  # (and promtool loads the samples up to 180 s: see changes() above)
]


def _store():
    return table_store(SERIES, STEP)


def ours(expr, at, store=None):
    result = compile_expr(parse(expr), store or _store())(at)
    return [(_labels(key), value) for key, value in result]


@pytest.mark.skipif(PROMTOOL is None, reason="promtool is not installed (Debian: apt-get install prometheus)")
@pytest.mark.parametrize("name, expressions", [("functions", EXPRESSIONS), ("more", MORE), ("calendar", CALENDAR),
                                               ("chosen", CHOSEN)])
def test_windows_between_samples_agree_with_promtool_to_the_last_bit(tmp_path, name, expressions):
    checks = []
    for expr, at in expressions:
        samples = ours(expr, at)
        assert samples and not any(math.isnan(v) for _, v in samples), expr
        checks.append({"expr": expr, "eval_time": f"{round(at * 1000)}ms",
                       "exp_samples": [{"labels": labels, "value": value} for labels, value in samples]})
    code, output = promtool_table(tmp_path, name, STEP, checks, {s: _values(v) for s, v in SERIES.items()})
    assert code == 0, output


def test_every_function_a_rule_file_may_call_is_in_a_table_promtool_checks():
    # The loader takes a team's rule calling any of FUNCTIONS; one added there without a row in
    # these tables would be evaluated in drills and never compared with Prometheus's own answer.
    checked = [*EDGES, *(expr for expr, _ in EXPRESSIONS + MORE + CALENDAR + CHOSEN)]
    called = {name for expr in checked for name in re.findall(r"([a-z_0-9]+)\s*\(", expr)}
    assert sorted(set(FUNCTIONS) - called) == []


def test_values_worked_by_hand():
    # A few of the table's answers worked by hand, so the table is not only self-consistent.
    # late over [59, 120]: 100 at 70 to 131 at 120, 31 over 50 s in 5 spacings of 10 s. Its first
    # sample is 11 s into the window: not under 1.1 x 10 = 11, so only half a spacing is added
    assert ours("delta(late[61s])", 120) == [('{k="x"}', pytest.approx(31 * 55 / 50, rel=1e-12))]
    # early over [51, 111]: 31 at 60 to 55 at 100, 24 over 40 s; 9 s to add at the start, and at
    # the end 11 s, not under 11: half a spacing, 5 s
    assert ours("delta(early[1m])", 111) == [('{k="x"}', pytest.approx(24 * 54 / 40, rel=1e-12))]
    # g over [69.5, 129.5]: 28 at 70 to 12 at 120, -16 over 50 s; 0.5 s and 9.5 s to the edges,
    # both under 11: extrapolated to the whole 60 s. A gauge has no resets for delta to count
    assert ours("delta(g[1m])", 129.5) == [('{k="g"}', pytest.approx(-16 * 60 / 50, rel=1e-12))]
    # ctr over [10, 70]: 10 to 38, flat at 24 for three samples (no reset): 28, the window's own span
    assert ours("increase(ctr[1m])", 70) == [('{k="x"}', 28.0)]
    # over [100, 160]: 59 to 80, reset to 2, on to 16: 80 - 59 + 16 = 37, the window's own span
    assert ours("increase(ctr[1m])", 160) == [('{k="x"}', 37.0)]
    # a counter that does not move: nothing to extrapolate, no reset, at any pace
    assert ours("rate(flat[1m])", 120) == ours("irate(flat[1m])", 120) == [('{k="f"}', 0.0)]
    # 3 + 1e16 + 1 - 1e16 + 2 = 6 with the compensation that keeps the 3 and the 1
    assert ours("sum_over_time(kah[40s])", 40) == [('{k="x"}', 6.0)]


def test_results_worked_by_hand_that_promtool_cannot_check():
    # irate and idelta over samples 1 s apart (promtool's samples are one interval apart too,
    # but its interval is the whole file's): 3 at 0 s, 5 at 1 s: 2 a second
    store = store_of(({"__name__": "fast"}, [0, 1], [3, 5]))
    assert ours("irate(fast[1m])", 1, store) == ours("idelta(fast[1m])", 1, store) == [("{}", 2.0)]
    # max and min over equal values keep the first (Prometheus: `if v > max || IsNaN(max)`):
    # promtool compares 0 and -0 as equal, so the sign is checked here
    store = store_of(({"__name__": "zero"}, [0, 10], [0.0, -0.0]), ({"__name__": "nzero"}, [0, 10], [-0.0, 0.0]))
    (_, high), = ours("max_over_time(zero[1m])", 10, store)
    (_, low), = ours("min_over_time(nzero[1m])", 10, store)
    assert math.copysign(1.0, high) == 1.0 and math.copysign(1.0, low) == -1.0
    # a remainder by zero, of an infinity and of NaN is NaN (Go's math.Mod), never an error
    store = store_of(({"__name__": "v", "i": "1"}, [0], [4.0]), ({"__name__": "v", "i": "2"}, [0], [math.inf]),
                     ({"__name__": "v", "i": "3"}, [0], [math.nan]), ({"__name__": "zero"}, [0], [0.0]))
    for expr in ("v % 0", "v % 2", "v % scalar(zero)"):
        values = dict(ours(expr, 0, store))
        assert math.isnan(values['{i="2"}']) and math.isnan(values['{i="3"}']), expr
    assert math.isnan(dict(ours("v % 0", 0, store))['{i="1"}']) and dict(ours("v % 2", 0, store))['{i="1"}'] == 0.0


def _scraped(count):
    """The table's ctr, g and flat as scraped series (sharing the store's scrape times, ctr a
    counter) up to ``count`` samples: before ctr's reset, as a store where no counter fell."""
    store = Store({})
    store.scrape_times = [STEP * i for i in range(count)]
    for selector, counter in (('ctr{k="x"}', True), ('g{k="g"}', False), ('flat{k="f"}', True)):
        series = Series(table_labels(selector), store.scrape_times, counter)
        series.values = list(SERIES[selector][:count])
        store.series.append(series)
    store.version += 1
    return store


@pytest.mark.parametrize("expr, at", [
    ("rate(ctr[1m])", 129.5), ("increase(ctr[45s])", 95), ('rate({__name__=~"ctr|g"}[1m])', 129.5),
    ('increase({__name__=~"g|flat"}[65s])', 125), ('rate({__name__=~"ctr|flat"}[1m])', 70)])
def test_scraped_series_give_the_values_of_hand_made_ones(expr, at):
    # Scraped counters are read in place (their times are the store's); a selection that holds
    # a gauge too is not (a gauge's fall is a reset to rate, as promtool's table above has it)
    assert ours(expr, at, _scraped(14)) == ours(expr, at)


def _calm_then_faulty(tmp_path, rules, name):
    """The alert ``name``'s times in two drills of these rules, api and a calm db, one after the
    other: without the fault, then with it at 25 s (its events checked equal to those of
    evaluating every tick afresh)."""
    text = SCENARIO.replace("services:\n", "services:\n  db: {team: web, request_rate: 40, error_rate: 0.01%, "
                                           "latency_p99_ms: 50}\n")
    path = tmp_path / "scenario.yaml"
    path.write_text(text)
    base = load_scenario(path)
    faulty = replace(base, rules=(RuleGroup("g", None, rules),), faults=(replace(base.faults[0], at=25.0),))
    runs = [Drill(scenario, script=Script((), ()), samples=False) for scenario in (replace(faulty, faults=()), faulty)]
    for one in runs:
        one.run()
    assert runs[1].log.events == run(faulty, repeat=False).log.events
    return times(runs[0], name), times(runs[1], name)


def test_a_rule_reading_a_series_recorded_from_a_changed_world_does_not_take_a_calm_drills_results(tmp_path):
    # Drills of one scenario's rules and services share the results of evaluations that read only
    # calm series (those every drill starting alike holds), for the first ticks, whose windows
    # still hold the series' start. Two drills, the first without the fault: the recording rule's
    # series appears only in the second, at 30 s (the first scrape with the fault's 750 errors),
    # recorded from series the fault changed, so not calm. The alert reads it (and db's requests,
    # which the fault leaves calm in both): it fires at once, as when every tick is evaluated
    # afresh, not after the calm drill's shared results run out (at 300 s).
    rules = (PromRule("record", "api:bad", 'sum(rate(http_requests_total{code="500",service="api"}[1m])) > 5',
                      0.0, 0.0, {}, {}),
             alert("Bad", 'api:bad > 0 or sum(rate(http_requests_total{service="db"}[5m])) < 0'))
    calm, faulty = _calm_then_faulty(tmp_path, rules, "Bad")
    assert calm == [] and faulty[:2] == [("alert.pending", 30), ("alert.firing", 30)]


def test_a_recorded_series_that_stops_being_calm_without_moving_stops_its_readers_sharing(tmp_path):
    # As above, the recorded series there from the start. api's requests rise 1500 a scrape, its
    # 500s 0.15 (0.01%), and at least 750 (50%) from the scrape at 30. Over [t-300, t] in the first
    # 300 s (the counters start at 0 at 0: nothing is extrapolated) all requests' rate is
    # 1500 x t/15 / 300, and "all - 2 x 500s" is 1500 - 0.3 over 300 = 4.999 at 15, and in the calm
    # drill 9.998 at 30: the recorded "below 5" is 1 at 15 and 0 from 30, where the alert fires.
    # With the fault the 500s cancel the growth (4.9985 at 30, a little less each scrape): 1 at every
    # tick, recorded from changed series (not calm) though it does not move, so the alert reads it
    # itself, not the calm drill's results. After the fault (to 625 s) the 500s gain 0.15 a scrape
    # again: at 645 [345, 645] holds 18 scrapes of 750 or more and two of 0.15: far above 5.
    low = ('sum(rate(http_requests_total{service="api"}[5m]))'
           ' - 2 * sum(rate(http_requests_total{service="api",code="500"}[5m])) < bool 5')
    rules = (PromRule("record", "api:low", low, 0.0, 0.0, {}, {}),
             alert("Net", 'api:low < 1 or sum(rate(http_requests_total{service="db"}[5m])) < 0'))
    calm, faulty = _calm_then_faulty(tmp_path, rules, "Net")
    assert calm[:1] == [("alert.pending", 30)] and faulty[:1] == [("alert.pending", 645)]


def test_the_functions_rule_files_use_worked_by_hand():
    # g over [40, 100]: 38 41 30 28 33 20 18 at x = -60 ... 0 s from the evaluation. Their mean x is
    # -30, mean 208 / 7; the x's deviations -30 ... 30 square to 2800 in all and weigh the values to
    # -990: slope -990 / 2800 a second, and at x = 0 the line is at 208 / 7 - 30 x 990 / 2800
    slope = -990 / 2800
    assert ours("deriv(g[1m])", 100) == [('{k="g"}', pytest.approx(slope, rel=1e-12))]
    assert ours("predict_linear(g[1m], 600)", 100) == [('{k="g"}', pytest.approx(208 / 7 + 630 * slope, rel=1e-12))]
    assert ours("predict_linear(flat[1m], 100)", 120) == [('{k="f"}', 4.0)]  # a constant's slope is exactly 0
    # sorted: 18 20 28 30 33 38 41; rank 0.5 x 6 = 3: 30; rank 0.9 x 6 = 5.4: 38 x 0.6 + 41 x 0.4
    assert ours("quantile_over_time(0.5, g[1m])", 100) == [('{k="g"}', 30.0)]
    assert ours("quantile_over_time(0.9, g[1m])", 100) == [('{k="g"}', pytest.approx(39.2, rel=1e-12))]
    assert ours("quantile_over_time(1.5, g[1m])", 100) == [('{k="g"}', math.inf)]
    # their squares sum to 6622: variance 6622 / 7 - (208 / 7)^2 = 3090 / 49
    assert ours("stdvar_over_time(g[1m])", 100) == [('{k="g"}', pytest.approx(3090 / 49, rel=1e-12))]
    # ctr over [0, 60]: 3 10 17 24 24 24 31: four changes, no reset; over [60, 180]: 31 ... 80, 2 ... 30,
    # every one of its 12 steps a change, one of them (80 -> 2) a reset (promtool loads samples up to
    # its last whole evaluation_interval, a minute: no time past 180 s reads the last ones)
    assert ours("changes(ctr[1m])", 60) == [('{k="x"}', 4.0)] and ours("resets(ctr[1m])", 60) == [('{k="x"}', 0.0)]
    assert ours("changes(ctr[2m])", 180) == [('{k="x"}', 12.0)] and ours("resets(ctr[2m])", 180) == [('{k="x"}', 1.0)]
    # g at 100 is 18: 18 / 3 = 6; to the nearest 4: 20; -2.5 rounds up to -2, 2.5 to 3
    assert ours("round(g / 3)", 100) == [('{k="g"}', 6.0)] and ours("round(g, 4)", 100) == [('{k="g"}', 20.0)]
    assert ours("round(-a * 0.625)", 100) == [('{k="x"}', -2.0)] and ours("round(a * 0.625)", 100) == [('{k="x"}', 3.0)]
    # label functions keep the name; a replacement rendered empty removes the label, no match changes nothing
    assert ours('label_replace(g, "dst", "$1-x", "k", "(.*)")', 100) == [('g{dst="g-x",k="g"}', 18)]
    assert ours('label_replace(ctr, "k", "", "k", "x")', 100) == [("ctr{}", 59)]
    assert ours('label_replace(g, "dst", "y", "k", "nomatch")', 100) == [('g{k="g"}', 18)]
    # Go's expansion: $$ is a dollar, ${1} a group followed by text, $k the group named k
    assert ours('label_replace(a, "dst", "$$1 $k", "k", "(?P<k>x)")', 100) == [('a{dst="$1 x",k="x"}', 4)]
    # $1x names no group (empty), ${1}x is the group then x, a $ at the end is itself
    assert ours('label_replace(a, "dst", "$1x-${1}x-$", "k", "(x)")', 100) == [('a{dst="-xx-$",k="x"}', 4)]
    assert ours('label_join(ctr, "j", "-", "k", "__name__")', 100) == [('ctr{j="x-ctr",k="x"}', 59)]
    # a sample's own time (g's latest at 129.5 is 120's; late's, an hour's minute back, 70's), else the evaluation's
    assert ours("timestamp(g)", 129.5) == [('{k="g"}', 120.0)] and ours("timestamp(late offset 1m)", 135) == [('{k="x"}', 70.0)]
    assert ours("timestamp(rate(ctr[1m]))", 129.5) == [('{k="x"}', 129.5)] and ours("vector(time())", 129.5) == [("{}", 129.5)]
    # sorted by value, NaN last either way (promtool does not check the order)
    store = store_of(*[({"__name__": "s", "i": str(i)}, [0], [v]) for i, v in enumerate([2.0, math.nan, -1.0, 5.0])])
    assert [labels for labels, _ in ours("sort(s)", 0, store)] == ['s{i="2"}', 's{i="0"}', 's{i="3"}', 's{i="1"}']
    assert [labels for labels, _ in ours("sort_desc(s)", 0, store)] == ['s{i="3"}', 's{i="0"}', 's{i="2"}', 's{i="1"}']
    # late starts at 70: nothing in [0, 60], something in [40, 100]; absent's labels are those of its
    # selector's = matchers, less any label two matchers name (Prometheus's: a label kept from k="a"
    # beside k!="b" was a bug in drillsim's absent)
    assert ours("present_over_time(late[1m])", 100) == [('{k="x"}', 1.0)] and ours("absent_over_time(late[1m])", 100) == []
    assert ours('absent_over_time(late{k="x"}[1m])', 60) == [('{k="x"}', 1.0)]
    assert ours('absent(nothing{k="a",k!="b"})', 100) == [("{}", 1.0)]
    assert ours('absent(nothing{k="a",k="b",j="c"})', 100) == [('{j="c"}', 1.0)]
    # Go's math: an infinity's ceiling and floor are itself, e^1000 overflows to +Inf, the logarithm of 0 is -Inf
    assert ours("ceil(a / z)", 100) == [('{k="x"}', math.inf)] and ours("floor(-a / z)", 100) == [('{k="x"}', -math.inf)]
    assert ours("exp(a * 1000)", 100) == [('{k="x"}', math.inf)] and ours("ln(z)", 100) == [('{k="x"}', -math.inf)]


def test_the_functions_rule_files_use_where_promtool_cannot_check():
    # NaN: a quantile of NaN, the spread and forecast of an infinite series, the square root of a negative
    store = store_of(({"__name__": "infinite"}, [0, 10], [math.inf, math.inf]), ({"__name__": "n"}, [0, 10], [1.0, 2.0]))
    for expr in ("quantile_over_time(0 / 0, n[1m])", "stddev_over_time(infinite[1m])", "predict_linear(infinite[1m], 60)",
                 "deriv(infinite[1m])", "sqrt(-n)"):
        (_, value), = ours(expr, 10, store)
        assert math.isnan(value), expr
    # one sample is no line: deriv and predict_linear give nothing for it
    assert ours("deriv(n[5s])", 10, store) == ours("predict_linear(n[5s], 60)", 10, store) == []
    # two series relabelled alike fail the evaluation, as Prometheus's does
    with pytest.raises(EvalError, match="same labelset"):
        ours('label_replace({__name__=~"a|z"}, "__name__", "same", "", "")', 100)


def test_the_calendar_topk_and_the_rest_worked_by_hand():
    # At 129.5 s from 1970-01-01T00:00Z, a Thursday (whole seconds, toward zero: 129 s): 00:02
    assert [ours(f"{fn}()", 129.5) for fn in ("hour", "minute", "day_of_week", "year", "month", "day_of_month")] == [
        [("{}", 0.0)], [("{}", 2.0)], [("{}", 4.0)], [("{}", 1970.0)], [("{}", 1.0)], [("{}", 1.0)]]
    # g at 100 s is 18: 18 h in, 18:00; ctr is 59: 59 days on from a Thursday is a Sunday (4 + 59 = 63, 0 mod 7);
    # 18 x 2.6e6 s is 541 days and 16 h: 1970's 365, then 176 days into 1971 (151 to the end of May): June 26
    assert ours("hour(g * 3600)", 100) == [('{k="g"}', 18.0)] and ours("day_of_week(ctr * 86400)", 100) == [('{k="x"}', 0.0)]
    assert [ours(f"{fn}(g * 2.6e6)", 100) for fn in ("year", "month", "day_of_month", "days_in_month", "hour")] == [
        [('{k="g"}', v)] for v in (1971.0, 6.0, 26.0, 30.0, 16.0)]
    # -14400.5 s is -14400 (toward zero): 1969-12-31 20:00
    assert ours("hour(-a * 3600 - 0.5)", 100) == [('{k="x"}', 20.0)]
    # 2000 is a leap year (divisible by 400), 2100 is not (by 100): February's 29 and 28 days; 2000-03-01 is day 61
    assert ours("days_in_month(vector(951782400))", 100) == [("{}", 29.0)]
    assert ours("days_in_month(vector(4106332800))", 100) == [("{}", 28.0)]
    assert ours("day_of_year(vector(951868800))", 100) == [("{}", 61.0)]
    # topk keeps the name; of two equal values what Prometheus's heap keeps (for k = 1 the first in the
    # vector's order: a later one must be greater to take its place); k is
    # truncated (a is ctr's labels but for the name: ``or`` drops it); k of NaN fails the evaluation
    assert ours("topk(2, g or ctr or flat)", 100) == [("ctr{k=\"x\"}", 59), ("g{k=\"g\"}", 18)]
    assert ours("bottomk(2, g or ctr or flat)", 100) == [("flat{k=\"f\"}", 4), ("g{k=\"g\"}", 18)]
    assert ours("topk(1, a or flat)", 100) == [("a{k=\"x\"}", 4)] and ours("topk(1, flat or a)", 100) == [("flat{k=\"f\"}", 4)]
    assert ours("topk(2.9, g or ctr or a)", 100) == [("ctr{k=\"x\"}", 59), ("g{k=\"g\"}", 18)] and ours("topk(0, g)", 100) == []
    with pytest.raises(EvalError, match="NaN overflows int64"):
        ours("topk(scalar(z) / 0, g)", 100)
    # flat, g, ctr: 4, 18, 59: the median 18; their mean 27, squared deviations 529 + 81 + 1024 = 1634 over 3
    assert ours("quantile(0.5, g or ctr or flat)", 100) == [("{}", 18.0)]
    assert ours("stdvar(g or ctr or flat)", 100) == [("{}", pytest.approx(1634 / 3, rel=1e-12))]
    assert ours("stddev(g or ctr or flat)", 100) == [("{}", pytest.approx(math.sqrt(1634 / 3), rel=1e-12))]
    # count_values writes the value as Go's FormatFloat(v, 'f', -1): no exponent, a negative zero's sign kept
    assert ours('count_values("v", a or flat)', 100) == [('{v="4"}', 2.0)]
    assert ours('count_values("v", z * -1.5 or g * 1e-7)', 100) == [('{v="-0"}', 1.0), ('{v="0.0000018"}', 1.0)]
    assert ours('count_values by (k) ("v", g * 1e21)', 100) == [('{k="g",v="18000000000000000000000"}', 1.0)]
    assert ours("sgn(g - 20)", 100) == [('{k="g"}', -1.0)] and ours("sgn(g - 18)", 100) == [('{k="g"}', 0)]
    assert ours("deg(vector(pi()))", 100) == [("{}", 180.0)]
