"""The live drill as a Prometheus scrape target: the simulated world's series at ``/metrics``.

The series are the ones the drill's own monitoring scrapes (``sim.model.monitoring.series``:
request counters by code, the latency histogram, ``up``, CPU, memory and the shorthand
gauges, each labelled with its service, job, team and the topology's labels), exposed
in the Prometheus text format by ``prometheus_client``. They move in drill time: the
exporter hears every scrape of the drill and adds what the counters gained since the
previous one, so a counter grows by a simulated interval's worth per simulated
interval, whatever the speed. Samples carry no timestamp (the drill's clock is not the
wall clock a real Prometheus stores them at). The registry is the drill's own, so the
drill process's ``process_*`` metrics do not clash with the services'.
"""

import threading

from prometheus_client import CollectorRegistry, generate_latest, start_http_server
from prometheus_client.core import Metric

from ..model.monitoring.series import SHORTHAND, catalog, metrics_of

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Series name -> (family, type, help). A family's samples are named as the text format names them.
_FAMILIES = {
    "http_requests_total": ("http_requests", "counter", "Requests answered, by status code (simulated)."),
    "http_request_duration_seconds_bucket": ("http_request_duration_seconds", "histogram",
                                             "Request latency (simulated)."),
    "up": ("up", "gauge", "1 while the service answers, 0 while it fails every request (simulated)."),
    "process_cpu_seconds_total": ("process_cpu_seconds", "counter", "CPU time used, one core (simulated)."),
    "process_resident_memory_bytes": ("process_resident_memory_bytes", "gauge",
                                      "Memory in use, of a 1 GiB limit (simulated)."),
    **{name: (name, "gauge", f"The drill's {name} shorthand value (simulated).") for name in SHORTHAND},
}
_FAMILIES["http_request_duration_seconds_count"] = _FAMILIES["http_request_duration_seconds_sum"] = \
    _FAMILIES["http_request_duration_seconds_bucket"]


class Exporter:
    """The world's series as of the drill's latest scrape; ``scraped`` is the drill's scrape listener."""

    def __init__(self, services: dict):
        self.entries = catalog(services)
        self.values = [0.0] * len(self.entries)
        self._last: float | None = None
        self._lock = threading.Lock()  # the console's exporter is read from prometheus_client's thread
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self)

    def scraped(self, t: float, metrics: dict) -> None:
        """The drill scraped the world at simulated second ``t``."""
        dt = 0.0 if self._last is None else t - self._last
        with self._lock:
            for i, (labels, counter, compute) in enumerate(self.entries):
                step = compute.of(*metrics_of(metrics[labels["service"]]), dt)
                self.values[i] = self.values[i] + step if counter else step
        self._last = t

    def collect(self):
        """prometheus_client's collector protocol: one family per metric, its samples per service."""
        with self._lock:
            values = list(self.values)
        families = {}
        for (labels, _, _), value in zip(self.entries, values):
            name = labels["__name__"]
            family, kind, text = _FAMILIES[name]
            metric = families.get(family) or families.setdefault(family, Metric(family, text, kind))
            metric.add_sample(name, {k: v for k, v in labels.items() if k != "__name__"}, value)
        return list(families.values())

    def exposition(self) -> bytes:
        """The text a scrape of ``/metrics`` gets."""
        return generate_latest(self.registry)

    def serve(self, host: str, port: int):
        """Serve ``/metrics`` on its own port, in a thread (the console has no web server)."""
        return start_http_server(port, host, self.registry)
