"""The time series a scrape of the world gives, as a real service exports them, and their storage.

Every service exports, labelled ``service``, ``job`` (the service's name unless its
``labels`` say otherwise), ``team`` and whatever ``labels`` the service declares:

- ``http_requests_total{code="200"|"500"}``: counters of answered and failed requests;
- ``http_request_duration_seconds_bucket{le}`` (+ ``_sum``, ``_count``): a latency
  histogram whose 99th percentile is the service's p99 (latencies exponential);
- ``up``: 1, or 0 while the service fails every request;
- ``process_cpu_seconds_total`` (a counter, one core) and ``process_resident_memory_bytes``
  (the memory share of a 1 GiB limit);
- the shorthand gauges ``error_rate``, ``latency_p99_ms``, ``request_rate``, ``cpu`` and
  ``memory``, the values scenarios' shorthand alerts compare.

Only the series some rule selects are kept (a drill without PromQL rules stores none).
Scraped series share one list of sample times; a recording rule's series has its own,
with ``None`` as Prometheus's staleness marker when the rule stops giving it.
"""

import math
from bisect import bisect_right

LOOKBACK = 300.0  # Prometheus's lookback delta: an instant selector sees samples up to 5 m old
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, math.inf)  # client libraries' defaults
MEMORY_LIMIT = 2.0 ** 30
SHORTHAND = ("error_rate", "latency_p99_ms", "request_rate", "cpu", "memory")


def _le(bound: float) -> str:
    return "+Inf" if bound == math.inf else repr(bound)


def catalog(services: dict) -> list[tuple[dict, object]]:
    """Every series the world exports: its labels and how a scrape computes its next value.

    A computer takes ``(metrics of the service, seconds since the last scrape, last value)``.
    """
    out = []
    for svc in services.values():
        base = {"service": svc.name, "job": svc.name, "team": svc.team, **dict(svc.labels)}

        def add(name, compute, **extra):
            out.append(({"__name__": name, **base, **extra}, compute))

        add("http_requests_total", lambda m, dt, v: v + m["request_rate"] * (1.0 - m["error_rate"]) * dt, code="200")
        add("http_requests_total", lambda m, dt, v: v + m["request_rate"] * m["error_rate"] * dt, code="500")
        for bound in BUCKETS:
            add("http_request_duration_seconds_bucket",
                lambda m, dt, v, b=bound: v + m["request_rate"] * dt * _below(b, m["latency_p99_ms"]), le=_le(bound))
        add("http_request_duration_seconds_count", lambda m, dt, v: v + m["request_rate"] * dt)
        add("http_request_duration_seconds_sum",
            lambda m, dt, v: v + m["request_rate"] * dt * m["latency_p99_ms"] / 1000.0 / math.log(100.0))
        add("up", lambda m, dt, v: 0.0 if m["error_rate"] >= 0.999 else 1.0)
        add("process_cpu_seconds_total", lambda m, dt, v: v + m["cpu"] * dt)
        add("process_resident_memory_bytes", lambda m, dt, v: m["memory"] * MEMORY_LIMIT)
        for name in SHORTHAND:
            add(name, lambda m, dt, v, n=name: m[n])
    return out


def _below(bound: float, p99_ms: float) -> float:
    """Share of requests faster than ``bound`` seconds, latencies exponential with the given p99."""
    if bound == math.inf:
        return 1.0
    return 1.0 - math.exp(-bound * 1000.0 * math.log(100.0) / p99_ms)


class Series:
    __slots__ = ("labels", "key", "times", "values")

    def __init__(self, labels: dict, times: list):
        self.labels = labels
        self.key = tuple(sorted(labels.items()))
        self.times, self.values = times, []

    def at(self, t: float):
        """The value an instant selector sees at ``t``: the latest sample at most 5 m old, else None."""
        i = bisect_right(self.times, t) - 1
        if i < 0 or self.times[i] < t - LOOKBACK:
            return None
        return self.values[i]

    def window(self, start: float, end: float) -> tuple[list, list]:
        """Sample times and values in ``[start, end]`` (Prometheus 2's closed range), stale markers left out."""
        times = self.times
        lo, hi = bisect_right(times, start - 1e-9), bisect_right(times, end)
        ts, vs = times[lo:hi], self.values[lo:hi]
        if None in vs:
            pairs = [(t, v) for t, v in zip(ts, vs) if v is not None]
            ts, vs = [t for t, _ in pairs], [v for _, v in pairs]
        return ts, vs


class Store:
    """The series rules select: scraped ones (kept only when wanted) and recorded ones."""

    def __init__(self, services: dict):
        self.available = catalog(services)
        self.scrape_times: list[float] = []
        self.scraped: list[tuple[Series, object]] = []
        self.series: list[Series] = []
        self.recorded: dict[object, dict[tuple, Series]] = {}  # recording rule -> its series
        self.version = 0  # bumps when a series is added, so selectors match again
        self._last: float | None = None

    def want(self, matches) -> None:
        """Keep every exported series whose labels ``matches`` accepts (before the first scrape)."""
        for labels, compute in self.available:
            if matches(labels) and not any(s.labels == labels for s, _ in self.scraped):
                series = Series(labels, self.scrape_times)
                self.scraped.append((series, compute))
                self.series.append(series)
                self.version += 1

    def scrape(self, t: float, metrics: dict) -> None:
        dt = 0.0 if self._last is None else t - self._last
        self._last = t
        self.scrape_times.append(t)
        for series, compute in self.scraped:
            values = series.values
            values.append(compute(metrics[series.labels["service"]], dt, values[-1] if values else 0.0))

    def record(self, t: float, owner, output: dict) -> None:
        """A recording rule's (``owner``'s) output at ``t``, labels key -> value; series it no longer gives go stale."""
        mine = self.recorded.setdefault(owner, {})
        for key, value in output.items():
            series = mine.get(key)
            if series is None:
                series = mine[key] = Series(dict(key), [])
                self.series.append(series)
                self.version += 1
            series.times.append(t)
            series.values.append(value)
        for key, series in mine.items():
            if key not in output and series.values[-1] is not None:
                series.times.append(t)
                series.values.append(None)
