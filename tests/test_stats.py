"""The statistics behind drill compare's verdicts, as docs/variants.md states them, on numbers checked by hand."""

import math
from statistics import NormalDist

import numpy as np
import pytest

from sim.analysis import stats

Z95 = NormalDist().inv_cdf(0.975)  # 1.959964, the 97.5th percentile of the standard normal


def test_a_95_percent_interval_of_a_mean_spans_1_96_standard_errors():
    # 1..1000: mean 500.5, population sd sqrt((1000^2 - 1) / 12) = 288.67, so the bootstrap
    # mean has standard error 288.67 / sqrt(1000) = 9.129. A 95% percentile interval is
    # 500.5 -/+ 1.96 x 9.129 = [482.6, 518.4], 35.8 wide; at 96.7% it would be 2.13 x 9.129
    # each side (38.9 wide), at 90% 1.645 x 9.129 (30.0 wide).
    x = np.arange(1, 1001, dtype=float)
    est = stats.bootstrap(x, ("mean",), np.random.default_rng(1), resamples=10_000)["mean"]
    assert est.value == 500.5
    assert est.high - est.low == pytest.approx(2 * Z95 * 9.129, rel=0.03)
    assert (est.low, est.high) == (pytest.approx(482.6, abs=0.7), pytest.approx(518.4, abs=0.7))
    # A 50% interval: 0.674 standard errors each side, 12.3 wide.
    half = stats.bootstrap(x, ("mean",), np.random.default_rng(1), resamples=10_000, level=0.5)["mean"]
    assert half.high - half.low == pytest.approx(2 * 0.6745 * 9.129, rel=0.05)


def test_the_statistics_are_the_median_the_90th_percentile_and_the_mean():
    x = np.arange(1, 1001, dtype=float)
    est = stats.bootstrap(x, ("median", "p90", "mean"), np.random.default_rng(0), resamples=200)
    # median of 1..1000: (500 + 501) / 2; p90 by linear interpolation: 1 + 0.9 x 999 = 900.1
    assert (est["median"].value, est["p90"].value, est["mean"].value) == (500.5, pytest.approx(900.1), 500.5)
    assert est["median"].low < 500.5 < est["median"].high and est["p90"].low < 900.1 < est["p90"].high


def test_chunked_resampling_is_the_textbook_percentile_bootstrap(monkeypatch):
    # Chunks only bound memory: 25 resamples drawn 10 + 10 + 5 at a time give exactly the
    # intervals of drawing all 25 resamples of all 100 values at once from the same seed,
    # with every run (index 0 to 99) eligible, cut at the 2.5th and 97.5th percentiles.
    monkeypatch.setattr(stats, "_CELLS", 1000)
    x = np.random.default_rng(9).lognormal(0, 1, size=100)
    est = stats.bootstrap(x, ("mean", "median"), np.random.default_rng(4), resamples=25)
    resampled = x[np.random.default_rng(4).integers(0, 100, size=(25, 100))]
    for name, values in (("mean", resampled.mean(axis=1)), ("median", np.median(resampled, axis=1))):
        low, high = np.percentile(values, [2.5, 97.5])
        assert (est[name].low, est[name].high) == (pytest.approx(low, abs=1e-12), pytest.approx(high, abs=1e-12))


def test_every_run_can_be_drawn_including_the_first():
    # One run of ten differs: the mean is 0.1. A resample holds it 0, 1, 2, ... times with
    # probability 0.349, 0.387, 0.194, ...: the 97.5th percentile of the resampled mean is
    # at least 0.2 (two copies), and the 2.5th is 0 (none). A bootstrap that never drew run 0
    # would give [0, 0], an interval that does not even hold the mean.
    x = np.array([1.0] + [0.0] * 9)
    est = stats.bootstrap(x, ("mean",), np.random.default_rng(2), resamples=2000)["mean"]
    assert (est.value, est.low) == (pytest.approx(0.1), 0.0) and est.high >= 0.2


def test_the_default_is_2000_resamples_at_95_percent():
    x = np.random.default_rng(5).normal(size=50)
    default = stats.bootstrap(x, ("mean",), np.random.default_rng(6))
    assert default == stats.bootstrap(x, ("mean",), np.random.default_rng(6), resamples=2000, level=0.95)


def test_missing_values_are_left_out_and_nothing_left_gives_no_estimate():
    est = stats.bootstrap([1.0, float("nan"), 3.0], ("mean",), np.random.default_rng(0), resamples=50)["mean"]
    assert est.value == 2.0 and 1.0 <= est.low <= est.high <= 3.0
    assert stats.bootstrap([float("nan")], ("mean",), np.random.default_rng(0)) == {}
    assert stats.bootstrap([], ("mean",), np.random.default_rng(0)) == {}


def test_a_single_resample_gives_an_interval_of_one_point():
    # Up to 20,000 values the bootstrap runs: with one resample both ends are its mean.
    x = np.arange(20_000, dtype=float)
    est = stats.bootstrap(x, ("mean",), np.random.default_rng(3), resamples=1)["mean"]
    assert est.low == est.high != est.value
    assert stats.bootstrap(x[:7], ("mean",), np.random.default_rng(3), resamples=1)["mean"].low \
        == stats.bootstrap(x[:7], ("mean",), np.random.default_rng(3), resamples=1)["mean"].high


def test_above_20000_values_intervals_come_from_large_sample_formulas():
    # 0..20000 shuffled (20,001 values): mean 10000, sample sd sqrt(20001 x 20002 / 12) = 5773.95,
    # standard error 5773.95 / sqrt(20001) = 40.827, half-width 1.96 x 40.827 = 80.02.
    x = np.random.default_rng(8).permutation(np.arange(20_001, dtype=float))
    est = stats.bootstrap(x, ("mean", "median", "p90"), np.random.default_rng(0), resamples=1)
    half = Z95 * math.sqrt(20_001 * 20_002 / 12) / math.sqrt(20_001)
    assert half == pytest.approx(80.02, abs=0.01)
    assert est["mean"].value == 10000.0
    # to 1e-9 of the half-width: the n - 1 in the sd matters (n - 2 would move it by 2.5e-5)
    assert (10000 - est["mean"].low, est["mean"].high - 10000) == (pytest.approx(half, rel=1e-9),) * 2
    # Median: ranks 20001 x 0.5 -/+ 1.96 x sqrt(20001 x 0.25) = 10000.5 -/+ 138.59, so the
    # 9861st and 10140th smallest (floor and ceiling), which in 0..20000 are 9861 and 10140.
    assert (est["median"].value, est["median"].low, est["median"].high) == (10000.0, 9861.0, 10140.0)
    # p90: 18000.9 -/+ 1.96 x sqrt(20001 x 0.09) = 18000.9 -/+ 83.16: ranks 17917 and 18085.
    assert (est["p90"].value, est["p90"].low, est["p90"].high) == (18000.0, 17917.0, 18085.0)


def test_large_sample_quantile_intervals_use_ranks_inside_the_data():
    # 20,000 zeros and one 1 (the largest): the p90 ranks, 17917 to 18085 as above, are zeros.
    top = np.concatenate([np.zeros(20_000), [1.0]])
    est = stats.bootstrap(top, ("p90",), np.random.default_rng(0))["p90"]
    assert (est.value, est.low, est.high) == (0.0, 0.0, 0.0)


def test_paired_differences_count_ties_as_neither_better_nor_worse():
    # Run by run, variant - baseline = 1-2, 2-2, 3-2, 4-2 = -1, 0, +1, +2 (the fifth run has
    # no variant value and is left out): mean +0.5. Lower is better: 1 run better, 2 worse,
    # the tie neither. Higher is better: 2 better, 1 worse.
    variant, baseline = [1.0, 2.0, 3.0, 4.0, float("nan")], [2.0, 2.0, 2.0, 2.0, 5.0]
    lower = stats.paired(variant, baseline, True, np.random.default_rng(0), resamples=200)
    assert (lower.n, lower.mean.value, lower.better, lower.worse, lower.identical) == (4, 0.5, 0.25, 0.5, False)
    higher = stats.paired(variant, baseline, False, np.random.default_rng(0), resamples=200)
    assert (higher.better, higher.worse) == (0.5, 0.25)
    neutral = stats.paired(variant, baseline, None, np.random.default_rng(0), resamples=200)
    assert math.isnan(neutral.better) and math.isnan(neutral.worse)


def test_paired_differences_that_are_all_zero_are_identical():
    same = stats.paired([3.0, 1.0, 2.0], [3.0, 1.0, 2.0], True, np.random.default_rng(0), resamples=50)
    assert (same.identical, same.better, same.worse, same.mean.value) == (True, 0.0, 0.0, 0.0)
    assert same.mean.within_noise
    # Each run exactly one better: not identical, and every run counts as better.
    shifted = stats.paired([2.0, 0.0, 1.0], [3.0, 1.0, 2.0], True, np.random.default_rng(0), resamples=50)
    assert (shifted.identical, shifted.better, shifted.worse, shifted.mean.value) == (False, 1.0, 0.0, -1.0)
    assert not shifted.mean.within_noise  # every resample's mean is -1: the interval is [-1, -1]
    assert stats.paired([1.0, float("nan")], [float("nan"), 2.0], True, np.random.default_rng(0)) is None


def test_within_noise_means_the_closed_interval_holds_zero():
    assert stats.Estimate(0.5, 0.0, 1.0).within_noise  # touching zero is not beyond the noise
    assert stats.Estimate(-0.5, -1.0, 0.0).within_noise
    assert stats.Estimate(0.1, -0.2, 0.4).within_noise
    assert not stats.Estimate(1.0, 0.5, 1.5).within_noise
    assert not stats.Estimate(-1.0, -1.5, -0.5).within_noise
