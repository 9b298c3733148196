"""drillsim's alerts fire and resolve exactly when Prometheus's (``promtool test rules``) do.

200 generated cases per run (random expression, ``for``, ``keep_firing_for``, unequal
scrape and evaluation intervals including scrapes past the 5-minute lookback, a world
with random faults), checked in one promtool run; skipped without promtool.
benchmarks/promtool_diff.py runs many more.
"""

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from .promdiff import PROMTOOL, Picker, disagreements, make_case, prints_noise, vector

CASES = 200


@pytest.mark.skipif(PROMTOOL is None, reason="promtool is not installed")
def test_firing_and_resolving_times_agree_with_promtool():
    cases = []

    @settings(max_examples=CASES, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(st.data())
    def collect(data):
        picker = Picker(lambda options: data.draw(st.sampled_from(options)),
                        lambda lo, hi: data.draw(st.floats(lo, hi, allow_nan=False)))
        cases.append(make_case(picker, f"c{len(cases)}"))

    collect()
    assert len(cases) >= CASES
    bad = disagreements(cases)
    shown = "\n\n".join(f"{c.expr} for={c.for_s} keep_firing_for={c.keep_s} scrape={c.scrape} "
                        f"evaluation={c.evaluation}\n{bad[c.name][-1500:]}" for c in cases if c.name in bad)
    assert not bad, f"{len(bad)} of {len(cases)} cases disagree with promtool:\n{shown}"


def test_a_value_on_a_rounding_edge_prints_noise():
    # promtool 2.42 printed the mean of eight rates, 91.48375, as 91.4837 and as 91.4838 in
    # runs of one test (the order it added them in); 105.25, 0.125 and 1.0625 are exact in
    # binary, so Go rounds them half to even and a last bit up rounds them up
    assert prints_noise('{{ $value | printf "%.6g" }}', [1.0, 91.48375])
    assert prints_noise('{{ printf "%.4G and %d" $value }}', [105.25])
    assert prints_noise('{{ $value | printf "%+09.2f%%" }}', [0.125])
    assert prints_noise('{{ printf "%-11.3e|" $value }}', [1.0625])
    assert not prints_noise('{{ $value | printf "%.6g" }}', [91.4837, 91.48376, 1e300, 0.0, float("inf"), float("nan")])
    assert not prints_noise('{{ $value | printf "%+09.2f%%" }}', [0.124, 0.126])


def scripted(*wanted):
    """A Picker taking each of ``wanted`` in turn where offered, else the first option."""
    left = list(wanted)

    def choose(options):
        if left and left[0] in options:
            return left.pop(0)
        return options[0]
    return Picker(choose, lambda lo, hi: lo)


def test_a_sum_or_mean_is_never_rounded():
    # promtool's mean of these rates is 105.2425 give or take its last bit (by the order it
    # adds them in): rounded to 0.001, 105.242 in one run and 105.243 in another, so a
    # threshold between the two fired in some runs only
    assert vector(scripted("round", "agg", "avg", "range", "rate", ", 0.001")) == \
        'avg by (service) (rate(http_requests_total{code="500"}[1m]))'
    assert vector(scripted("round", "range", "rate", ", 0.001")) == \
        'round(rate(http_requests_total{code="500"}[1m]), 0.001)'
