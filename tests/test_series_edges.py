"""The series store's edges (``sim/model/monitoring/series.py``): latency buckets of a service
answering in no time, histogram buckets as counters, stale markers inside a range, selectors
without a name, and the scraped windows the store remembers between the rules of an evaluation.
Expected values are worked by hand, against promtool, or against a store that never read a
window before."""

from types import SimpleNamespace

import pytest

from sim.model.monitoring.series import Store

from .promdiff import PROMTOOL
from .test_promql import query
from .test_promql_edges import promtool_table
from .test_promql_repeat import alert, run, times, with_rules
from .test_series_store import samples, store_of_metrics

ERRING = {"request_rate": 100.0, "error_rate": 0.5, "latency_p99_ms": 200.0, "cpu": 0.5, "memory": 0.25}
CALMER = {**ERRING, "error_rate": 0.1}


def test_latency_buckets_of_a_service_answering_in_no_time():
    # latency_p99_ms: 0 is a valid service (and a fault's `latency: 0` leads there): every request
    # is under every bound, so each bucket counts every request, 100 x 15 = 1500 a scrape (it
    # divided by the p99 and stopped the drill). histogram_quantile(0.5) interpolates in the first
    # bucket, from 0 to 0.005 s: half of it, 0.0025.
    store = store_of_metrics({"latency_p99_ms": 0.0}, {"latency_p99_ms": 0.0})
    for le in ("0.005", "1.0", "+Inf"):
        assert samples(store, "http_request_duration_seconds_bucket", le=le) == [0.0, 1500.0]
    quantile = "histogram_quantile(0.5, sum by (le) (rate(http_request_duration_seconds_bucket[15s])))"
    assert query(store, quantile, 15.0) == {(): 0.0025}


FAST = """
name: instant
title: A service answering in no time
start: 2026-04-20T10:00:00Z
horizon: 5m
services:
  api: {team: web, request_rate: 100, error_rate: 0%, latency_p99_ms: 0}
faults: []
alerts: []
truth: {severity: SEV2, root_cause: none, teams_needed: [web], fix: none}
"""


def test_a_drill_of_a_service_answering_in_no_time_reads_its_buckets(tmp_path):
    # the 99th percentile, as above, is 0.99 x 0.005 = 0.00495 s from the first evaluation with
    # two samples in its minute (15 s)
    p99 = "histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[1m])))"
    drill = run(with_rules(tmp_path, [alert("Quick", f"{p99} < 0.005")], FAST))
    assert times(drill, "Quick") == [("alert.pending", 15), ("alert.firing", 15)]


def test_histogram_buckets_are_counters():
    # each scrape adds 15 s of requests to every bucket (at 200 ms p99 all of them are under 10 s):
    # 1500 a scrape from 0, and the rate over a minute of them is 100 a second, as the count's
    store = store_of_metrics({}, {}, {}, {}, {})
    assert samples(store, "http_request_duration_seconds_bucket", le="10.0") == pytest.approx([0, 1500, 3000, 4500, 6000])
    assert samples(store, "http_request_duration_seconds_bucket", le="+Inf") == [0, 1500, 3000, 4500, 6000]
    buckets = query(store, 'rate(http_request_duration_seconds_bucket{le="+Inf"}[1m])', 60.0)
    assert list(buckets.values()) == [100.0] == list(query(store, "rate(http_request_duration_seconds_count[1m])", 60.0).values())


def test_a_selector_without_a_name_selects_every_name():
    # up is 1 and cpu 0.5 (half a core)
    store = store_of_metrics({}, {})
    assert query(store, 'sum({__name__=~"up|cpu"})', 15.0) == {(): 1.5}
    # two request counters, 12 buckets, their count and sum, up, cpu seconds, memory bytes, 5 shorthand gauges
    assert query(store, 'count({service="api"})', 15.0) == {(): 24.0}


# A recorded series given at 0, 15, 45, 75, ..., 120 s and not at 30 and 60 (stale markers there).
GONE = [1, 2, None, 4, None, 6, 7, 8, 9]
OVER_GONE = {"sum_over_time(gone[2m])": 37.0, "count_over_time(gone[2m])": 7.0, "avg_over_time(gone[1m])": 7.5,
             "max_over_time(gone[40s])": 9.0, "min_over_time(gone[40s])": 7.0, "min_over_time(gone[1m])": 6.0,
             "delta(gone[2m])": 8.0}


def recorded_gone() -> Store:
    store = Store({})
    key = (("__name__", "gone"), ("k", "x"))
    for i, value in enumerate(GONE):
        store.record(15.0 * i, "rule", {} if value is None else {key: float(value)})
    return store


def test_a_range_over_a_recorded_series_leaves_its_stale_markers_out():
    # by hand at 120 s: [0, 120] holds 1 2 4 6 7 8 9 (sum 37, seven samples, 9 - 1 = 8 over the
    # whole window: nothing extrapolated), [60, 120] 6 7 8 9 (mean 7.5, least 6), [80, 120] 7 8 9
    store = recorded_gone()
    assert {expr: query(store, expr, 120.0)[(("k", "x"),)] for expr in OVER_GONE} == OVER_GONE


@pytest.mark.skipif(PROMTOOL is None, reason="promtool is not installed (Debian: apt-get install prometheus)")
def test_a_range_over_a_recorded_series_with_stale_markers_agrees_with_promtool(tmp_path):
    store = recorded_gone()
    checks = [{"expr": expr, "eval_time": "120s",
               "exp_samples": [{"labels": '{k="x"}', "value": query(store, expr, 120.0)[(("k", "x"),)]}]}
              for expr in OVER_GONE]
    values = " ".join("stale" if v is None else str(v) for v in GONE)
    code, output = promtool_table(tmp_path, "stale", 15, checks, {'gone{k="x"}': values})
    assert code == 0, output


def scraped_every_second(until: int) -> Store:
    """A store of one service's series scraped every second from 0 to ``until``: 50 errors a second
    to 12 s, 10 after (a counter with a kink: a window's edges cannot be guessed by extrapolating)."""
    store = Store({"api": SimpleNamespace(name="api", team="web", labels={})})
    store.want([(lambda labels: True, None)])
    for t in range(until + 1):
        scrape(store, t)
    return store


def scrape(store, t: int) -> None:
    store.scrape(float(t), {"api": ERRING if t <= 12 else CALMER})


ERRORS = 'http_requests_total{code="500"}'


def increase(store, window: str, t: float) -> float:
    """``increase`` over a window written as ``range`` or ``range offset``."""
    rng, _, offset = window.partition(" ")
    return query(store, f"sum(increase({ERRORS}[{rng}] {offset}))", t)[()]


def test_windows_read_one_after_another_are_each_read_afresh():
    # One store, its windows read in this order (it remembers the last window of its scraped
    # series), each answer as a store that never read a window before gives it, and by hand: the
    # counter is 50 t to 12 s (600), then 600 + 10 (t - 12); Prometheus extrapolates to a window's
    # edge the whole gap when it is under 1.1 mean intervals (1 s here), else half an interval.
    store, scraped = scraped_every_second(20), 20
    steps = [
        (20, "10s", 20.0, 180.0),  # [10, 20]: 680 - 500, the samples span it
        (20, "5s", 20.0, 50.0),  # [15, 20]: the same end, a later start
        (20, "10s offset 5s", 20.0, 380.0),  # [5, 15]: 630 - 250
        (20, "5s offset 10s", 20.0, 250.0),  # [5, 10]: the same start, an earlier end
        # [5, 21]: the same start, ending at the number of scrapes (21): 5 to 20 give 430 over
        # 15 s, extrapolated by the 1 s to the end: 430 x 16 / 15
        (20, "16s offset -1s", 20.0, 430.0 * 16 / 15),
        (20, "10s offset -5s", 20.0, 55.0),  # [15, 25]: 50 over 5 s, half a second past the last: x 5.5 / 5
        (21, "10s offset -4s", 21.0, 65.0),  # [15, 25] again, a scrape later: 60 over 6 s, x 6.5 / 6
    ]
    for until, window, t, by_hand in steps:
        while scraped < until:
            scraped += 1
            scrape(store, scraped)
        got = increase(store, window, t)
        assert got == increase(scraped_every_second(until), window, t), window
        assert got == pytest.approx(by_hand), window
