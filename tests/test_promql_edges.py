"""PromQL's edges (every operator, infinities, counter resets, odd histograms), each expression
evaluated by drillsim and asserted to promtool as an exact expectation: one promtool run.

The generated differential test (test_promtool_diff.py) draws alert rules whose thresholds
hide much of an expression's value; here the value itself is compared, to the last bit.
Results that are NaN cannot be asserted to promtool (it compares samples with ==), so those
few are checked by hand below.
"""

import math
import subprocess

import pytest
import yaml

from sim.model.monitoring.promql import compile_expr, parse

from .promdiff import PROMTOOL
from .test_promql import store_of

STEP, SAMPLES, AT = 15, 9, 120  # samples at 0, 15, ..., 120 s; every expression is read at 120 s

SERIES = {
    'a{k="x"}': [4] * SAMPLES,
    'b{k="x"}': [2] * SAMPLES,
    'c{k="x"}': [-8] * SAMPLES,
    'z{k="x"}': [0] * SAMPLES,
    'big{k="x"}': [1e308] * SAMPLES,
    'mix{k="x"}': [1, 2, math.inf, 3, 4, 5, 6, 7, 8],
    'small{k="x"}': [1e16, 1, -1e16, 1, 1, 1, 1, 1, 1],  # a naive sum loses the ones; Kahan's keeps them
    # promtool aggregates in Go's random map order: v's mean is exact in every order
    'v{i="1"}': [1] * SAMPLES,
    'v{i="2"}': [5] * SAMPLES,
    'v{i="3"}': [-3] * SAMPLES,
    'w{i="1"}': [math.inf] * SAMPLES,
    'w{i="2"}': [5] * SAMPLES,
    'u{i="1"}': [math.inf] * SAMPLES,  # two infinities of one sign: the mean stays infinite
    'u{i="2"}': [math.inf] * SAMPLES,
    'u{i="3"}': [5] * SAMPLES,
    'o{i="1"}': [math.inf] * SAMPLES,  # infinities of both signs: NaN (by hand, below)
    'o{i="2"}': [-math.inf] * SAMPLES,
    'infs{k="x"}': [1, math.inf, math.inf, 2, 3, 4, 5, 6, 7],
    'opp{k="x"}': [1, math.inf, -math.inf, 2, 3, 4, 5, 6, 7],
    # label names may be upper case, which sorts before __name__: the name must still go
    'cap{Zone="a"}': [3] * SAMPLES,
    'top{Zone="a"}': [1] * SAMPLES,
    'req{code="200"}': [15 * i for i in range(SAMPLES)],
    'req{code="500"}': [5, 10, 2, 4, 6, 8, 10, 12, 14],  # a reset after 10
    'early{k="x"}': [0, 10, 20, 30, 40, 50, 60, None, None],  # stops 30 s before the window ends
    'fresh{k="x"}': [None, None, None, None, 1, 11, 21, 31, 41],  # starts late, near zero
    'late{k="x"}': [None, None, None, None, 40, 45, 50, 55, 60],  # starts late and far from zero
    'lat_bucket{le="0.1"}': [50] * SAMPLES,
    'lat_bucket{le="0.5"}': [90] * SAMPLES,
    'lat_bucket{le="+Inf"}': [100] * SAMPLES,
    'dup_bucket{le="0.5"}': [30] * SAMPLES,
    'dup_bucket{le="0.50"}': [20] * SAMPLES,  # the same bound twice: merged, 50 below 0.5
    'dup_bucket{le="+Inf"}': [100] * SAMPLES,
    'nm_bucket{le="0.1"}': [60] * SAMPLES,
    'nm_bucket{le="0.5"}': [50] * SAMPLES,  # fewer than the bucket below: raised to 60
    'nm_bucket{le="1"}': [80] * SAMPLES,
    'nm_bucket{le="+Inf"}': [100] * SAMPLES,
}

EXPRESSIONS = [
    "a + b", "a - b", "a * b", "a / b", "a % 3", "a ^ b", "b atan2 a", "c / z", "a / z", "big * 10",
    "2 - a", "c % b", "z ^ -1", "c ^ 3",
    "a == 4", "a != 4", "a > b", "a < b", "a >= 4", "a <= 3", "a == bool 4", "a != bool 4",
    "a > bool b", "a < bool b", "c <= bool -8", "c >= bool -7",
    "a and b", "a or c", "a unless b", "v unless on (i) v{i=\"2\"}", "v * on (i) v{i=\"2\"}",
    "a + (1 > bool 2)", "a * (2 >= bool 1)", "cap - top", "-cap", "abs(cap)", "cap * 2", "a + scalar(b)",
    "sum(v)", "min(v)", "max(v)", "avg(v)", "count(v)", "sum by (i) (v)", "avg(w)", "max(w)", "min(w)",
    "avg(u)", "sum(v) * 2", "avg_over_time(infs[2m])",
    "avg_over_time(mix[2m])", "max_over_time(mix[2m])", "min_over_time(c[1m])", "sum_over_time(a[1m])",
    "count_over_time(a[1m])", "last_over_time(mix[1m])", "sum_over_time(small[2m])", "avg_over_time(small[2m])",
    "rate(req[1m])", "increase(req[2m])", "irate(req[1m])", "delta(a[1m])", "idelta(mix[1m])",
    "increase(late[2m])", "increase(early[2m])", "increase(fresh[2m])", "irate(req[20s])", "idelta(req[20s])", "rate(late[1m])", "rate(req[2m] offset 30s)",
    "histogram_quantile(0.7, lat_bucket)", "histogram_quantile(0.95, lat_bucket)",
    "histogram_quantile(0.5, lat_bucket)", "histogram_quantile(0, lat_bucket)",
    "histogram_quantile(1.5, lat_bucket)", "histogram_quantile(-1, lat_bucket)",
    "histogram_quantile(0.4, dup_bucket)", "histogram_quantile(0.7, nm_bucket)",
    "histogram_quantile(0.65, nm_bucket)",
    "clamp_min(c, -3)", "clamp_max(a, 3)", "clamp(c, -3, 3)", "clamp(a, 2, 2)", "clamp(a, 5, 1)", "abs(c)", "ceil(a / 3)", "floor(a / 3)", "sqrt(a)", "ln(a)",
    "exp(b)", "log2(a)", "log10(big)", "absent(nothing)", "absent(a)",
]


def _labels(key) -> str:
    name = dict(key).get("__name__", "")
    rest = ",".join(f'{k}="{v}"' for k, v in key if k != "__name__")
    return f"{name}{{{rest}}}"


def table_labels(selector: str) -> dict:
    """A table's selector (``name{k="v",...}``) as labels."""
    name, _, rest = selector.partition("{")
    return {"__name__": name, **{k: v.strip('"') for k, v in (p.split("=") for p in rest.rstrip("}").split(","))}}


def table_store(table: dict, step: float):
    """A store of a table's series: selector -> its values every ``step`` s from 0 (None: no sample)."""
    return store_of(*[(table_labels(selector), [step * i for i, v in enumerate(values) if v is not None],
                       [v for v in values if v is not None]) for selector, values in table.items()])


def promtool_table(folder, name: str, step: float, checks: list, series: dict) -> tuple[int, str]:
    """``promtool test rules`` of these expression checks over ``series`` (selector -> promtool's
    values, as ``_values`` writes them), sampled every ``step`` s: its exit code and output."""
    test = {"rule_files": [], "evaluation_interval": "1m",
            "tests": [{"interval": f"{step}s", "promql_expr_test": checks,
                       "input_series": [{"series": s, "values": v} for s, v in series.items()]}]}
    (folder / f"{name}.test.yml").write_text(yaml.safe_dump(test, sort_keys=False))
    done = subprocess.run([PROMTOOL, "test", "rules", f"{name}.test.yml"], cwd=folder, capture_output=True,
                          text=True, timeout=120, check=False)
    return done.returncode, done.stdout + done.stderr


def _store():
    return table_store(SERIES, STEP)


def ours(expr):
    result = compile_expr(parse(expr), _store())(AT)
    return [(_labels(key), value) for key, value in result]


def _values(values) -> str:
    """Samples as promtool reads them: ``_`` for none, ``NaN`` and ``Inf`` as Go writes them."""
    return " ".join("_" if v is None else "NaN" if v != v else repr(float(v)).replace("inf", "Inf") for v in values)


@pytest.mark.skipif(PROMTOOL is None, reason="promtool is not installed (Debian: apt-get install prometheus)")
def test_every_expression_agrees_with_promtool_to_the_last_bit(tmp_path):
    checks = []
    for expr in EXPRESSIONS:
        samples = ours(expr)
        assert not any(math.isnan(v) for _, v in samples), f"{expr}: NaN cannot be asserted to promtool"
        checks.append({"expr": expr, "eval_time": f"{AT}s",
                       "exp_samples": [{"labels": labels, "value": value} for labels, value in samples]})
    code, output = promtool_table(tmp_path, "edges", STEP, checks, {s: _values(v) for s, v in SERIES.items()})
    assert code == 0, output


def test_values_worked_by_hand():
    # A few of the table's answers, worked by hand, so the table is not only self-consistent.
    assert ours("a ^ b") == [('{k="x"}', 16.0)] and ours("a % 3") == [('{k="x"}', 1.0)]
    assert ours("c / z") == [('{k="x"}', -math.inf)] and ours("a != 4") == []
    assert ours("min(v)") == [("{}", -3.0)] and ours("max(v)") == [("{}", 5.0)] and ours("avg(v)") == [("{}", 1.0)]
    assert ours("b atan2 a") == [('b{k="x"}', math.atan2(2, 4))]  # atan2 keeps the name, as 2.42 does
    assert ours("avg(w)") == [("{}", math.inf)]  # an infinite mean stays infinite
    # mix over (0, 120]: 2, Inf, 3..8 -> Inf; the largest is Inf
    assert ours("avg_over_time(mix[2m])") == [('{k="x"}', math.inf)]
    # the ones survive beside 1e16 - 1e16 only with a compensated sum: 1 + 1 + 1 + 1 + 1 + 1 + 1 = 7
    assert ours("sum_over_time(small[2m])") == [('{k="x"}', 7.0)]
    # the 500s reset after 10: the window [0, 120] (both ends, in 2.42) holds all nine samples:
    # 14 - 5, plus the 10 counted before the reset = 19, over the whole window: nothing to extrapolate
    assert dict(ours("increase(req[2m])"))['{code="500"}'] == 19.0
    # rank 0.7 x 100 = 70 in nm's raised bucket (0.1, 0.5] of 60 -> next (0.5, 1] of 80:
    # 0.5 + 0.5 x (70 - 60) / (80 - 60) = 0.75
    assert ours("histogram_quantile(0.7, nm_bucket)") == [("{}", 0.75)]
    assert ours("histogram_quantile(1.5, lat_bucket)") == [("{}", math.inf)]
    # early's samples 0..60 over 0..90 s: increase 60 over 90 s, every 15 s on average. The start
    # is the window's own; the end is 30 s early, more than 1.1 x 15, so only half an interval is
    # added: 60 x (90 + 7.5) / 90 = 65
    assert ours("increase(early[2m])") == [('{k="x"}', 65.0)]
    # fresh rises 40 over its 60 s from 1: at that pace it was 0 at 1.5 s before its first sample,
    # nearer than the window's start (60 s before): 40 x (60 + 1.5) / 60 = 41
    assert ours("increase(fresh[2m])") == [('{k="x"}', 41.0)]
    # a 20 s window holds two samples, 105 s and 120 s: 120 - 105 over 15 s; 14 - 12 over 15 s
    assert ours("irate(req[20s])") == [('{code="200"}', 1.0), ('{code="500"}', 2 / 15)]
    # clamp(a, 2, 2) pins every value to 2; a lower bound above the upper returns nothing
    assert ours("clamp(a, 2, 2)") == [('{k="x"}', 2.0)] and ours("clamp(a, 5, 1)") == []
    assert ours("cap - top") == [('{Zone="a"}', 2.0)]  # names dropped, then matched on Zone


def test_nan_results_worked_by_hand():
    # 0 / 0, a negative number to a fractional power and sqrt of a negative are NaN in Go, as here.
    # +Inf beside -Inf has no mean (Go's avg adds them: NaN), over time and across series.
    for expr in ("z / z", "c ^ 0.5", "sqrt(c)", "avg_over_time(opp[2m])", "avg(o)",
                 "a + scalar(v)"):  # scalar() of three series is NaN
        (labels, value), = ours(expr)
        assert math.isnan(value), expr
