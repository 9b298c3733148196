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
Scraped series share one list of sample times; a recording rule's series share another,
with ``None`` (Prometheus's staleness marker) where the rule did not give one of them.

Between changes of the world a scraped series repeats itself: a gauge keeps its value and
a counter gains the same step every scrape. Each series keeps ``marks``, the stretches of
time where its samples break that pattern (a recorded series: where a sample differs from
the one a ``period`` earlier), so a rule whose windows hold no mark can repeat its result
of a period before (``rules``).
"""

import functools
from bisect import bisect_left, bisect_right
from math import copysign, exp, inf, log

from ..memo import per_scenario

LOOKBACK = 300.0  # Prometheus's lookback delta: an instant selector sees samples up to 5 m old
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, inf)  # client libraries' defaults
MEMORY_LIMIT = 2.0 ** 30
SHORTHAND = ("error_rate", "latency_p99_ms", "request_rate", "cpu", "memory")
LN_100 = log(100.0)  # latencies exponential with the p99 given: the mean is the p99 / ln 100
NAME = "__name__"


@functools.cache  # speed: the same few hundred label sets at every evaluation
def drop_name(key: tuple) -> tuple:
    """A labels key without the series' name."""
    # not always key[0]: an upper-case label name (``Zone``) sorts before ``__name__``
    return tuple(p for p in key if p[0] != NAME)


def _le(bound: float) -> str:
    return "+Inf" if bound == inf else repr(bound)


def catalog(services: dict) -> list[tuple[dict, bool, "Step"]]:
    """Every series the world exports: its labels, whether it is a counter, and what a scrape adds
    to it (a counter) or sets it to (a gauge), a ``Step`` of ``(metrics of the service, seconds since
    the last scrape)``."""
    out = []
    for svc in services.values():
        base = {"service": svc.name, "job": svc.name, "team": svc.team, **dict(svc.labels)}

        def add(name, counter, step, **extra):
            out.append(({"__name__": name, **base, **extra}, counter, step))

        add("http_requests_total", True, Step(ANSWERED), code="200")
        add("http_requests_total", True, Step(FAILED), code="500")
        for bound in BUCKETS:
            add("http_request_duration_seconds_bucket", True, Step(FASTER, bound), le=_le(bound))
        add("http_request_duration_seconds_count", True, Step(REQUESTS))
        add("http_request_duration_seconds_sum", True, Step(SECONDS))
        add("up", False, Step(UP))
        add("process_cpu_seconds_total", True, Step(CPU))
        add("process_resident_memory_bytes", False, Step(MEMORY))
        for name in SHORTHAND:
            add(name, False, Step(SHOWN, metric=name))
    return out


# What a series' step is worked out from (``Step.kind``)
ANSWERED, FAILED, FASTER, REQUESTS, SECONDS, UP, CPU, MEMORY, SHOWN = range(9)


class Step:
    """What a scrape adds to one of a service's series (a counter) or sets it to (a gauge), from
    the service's metrics (request rate, error rate, p99 latency, CPU, memory) and the seconds
    ``dt`` since the last scrape: requests answered, failed, faster than ``bound`` seconds, all of
    them, their seconds; up; CPU seconds; memory bytes; or the shorthand ``metric`` itself. One
    class, not a function per series: compiled, ``of`` is a typed call, made for every series of
    every service that moved, at every scrape, with the metrics read once for all of them."""

    def __init__(self, kind: int, bound: float = 0.0, metric: str = ""):
        self.kind, self.bound, self.metric = kind, bound, metric
        self.shown = SHORTHAND.index(metric) if kind == SHOWN else -1  # which metric a SHOWN one is

    def of(self, rate: float, errors: float, p99: float, cpu: float, memory: float, dt: float) -> float:
        kind = self.kind
        if kind == ANSWERED:
            return rate * (1.0 - errors) * dt
        if kind == FAILED:
            return rate * errors * dt
        if kind == FASTER:
            return rate * dt * _below(self.bound, p99)
        if kind == REQUESTS:
            return rate * dt
        if kind == SECONDS:
            return rate * dt * p99 / 1000.0 / LN_100
        if kind == UP:
            return 0.0 if errors >= 0.999 else 1.0
        if kind == CPU:
            return cpu * dt
        if kind == MEMORY:
            return memory * MEMORY_LIMIT
        shown = self.shown  # SHORTHAND's order
        return errors if shown == 0 else p99 if shown == 1 else rate if shown == 2 else cpu if shown == 3 else memory


def metrics_of(m: dict) -> tuple[float, float, float, float, float]:
    """A service's metrics (the world's dict of them) as ``Step.of`` takes them: request rate,
    error rate, p99 latency, CPU, memory."""
    return m["request_rate"], m["error_rate"], m["latency_p99_ms"], m["cpu"], m["memory"]


@per_scenario(64)
def _catalog(services: dict) -> tuple[list, dict, dict]:
    """The catalog of these services, its entries by name, and what selectors selected of it
    (by predicate and name): worked out once for the drills of a scenario, which share them."""
    entries, by_name = catalog(services), {}
    for entry in entries:
        by_name.setdefault(entry[0]["__name__"], []).append(entry)
    return entries, by_name, {}


@per_scenario(64)
def _first_look(services: dict, *metrics) -> tuple:
    """The world's metrics at a drill's first scrape (one dict per service, in the order of
    ``services``), sorted: a key for the drills that start alike. Worked out once for the very
    same dicts, the estate's calm ones in nearly every drill (speed: 1,200 tuples at 200 services)."""
    return tuple(sorted((name, tuple(sorted(m.items()))) for name, m in zip(services, metrics)))


def _below(bound: float, p99_ms: float) -> float:
    """Share of requests faster than ``bound`` seconds, latencies exponential with the given p99
    (every request when it is 0: a service answering in no time)."""
    if bound == inf or p99_ms == 0.0:
        return 1.0
    return 1.0 - exp(-bound * 1000.0 * LN_100 / p99_ms)


class Marks:
    """Closed stretches of time, in order, merged where they overlap or lie within ``join`` of each other."""

    def __init__(self, join: float):
        self.los, self.his, self.join = [], [], join

    def add(self, lo: float, hi: float) -> None:
        los, his = self.los, self.his
        if his:  # (compiled, the ends compared as doubles: no float made for each comparison)
            start, last, join = lo, his[-1], self.join
            if start <= last + join:
                first = los[-1]
                if start < first:
                    self.absorb([(lo, hi)])
                else:  # stretches nearly always come in time order
                    end = hi
                    if end > last:  # noqa: PLR1730 (not max(): a call per mark adds up)
                        his[-1] = hi
                return
        los.append(lo)
        his.append(hi)

    def absorb(self, stretches) -> None:
        """Take in stretches in any order."""
        if not self.his and len(stretches) == 1:  # (speed: a new selection's first stretch of a service, commonly)
            for lo, hi in stretches:
                self.add(lo, hi)
            return
        stretches = sorted([*zip(self.los, self.his), *stretches])
        self.los, self.his = [], []
        for lo, hi in stretches:  # in order now: added at the end or merged with the last
            self.add(lo, hi)

    def next_from(self, start: float) -> float:
        """Where the first stretch not over before ``start`` begins (inf: none)."""
        his = self.his
        n = len(his)
        if n:  # the last stretch, the commonest answer (speed: no search; compiled, the ends read as doubles)
            end = his[n - 1]
            if end >= start:
                if n == 1:
                    return self.los[0]
                end = his[n - 2]
                if end < start:
                    return self.los[n - 1]
        i = bisect_left(his, start)
        return self.los[i] if i < n else inf


class Watcher:
    """What watches series: a selector's selection (``promql._Selected``), told of their marks (by
    service too where its ``services`` is not None) and of their leaving calm. Its own class, below
    the selections' module (which imports this one), so that compiled, a series calls a watcher's
    methods directly, not by name."""

    def __init__(self):
        self.services: dict | None = None  # service -> its series' marks together (None: not kept by service)
        self.planned, self.planned_services = 0, None  # the last plan that met it, and its services there (_mark_plan)

    def mark(self, lo: float, hi: float) -> None:
        raise NotImplementedError

    def mark_service(self, service, lo: float, hi: float) -> None:
        raise NotImplementedError

    def mark_services(self, services: set, lo: float, hi: float) -> None:
        raise NotImplementedError

    def uncalm(self) -> None:
        raise NotImplementedError


class Series:
    """One series: its labels, its samples (times shared with the series scraped or recorded with it) and its marks."""

    def __init__(self, labels: dict, times: list, counter: bool = False, join: float = 0.0, key: tuple | None = None,
                 compute=None):
        self.labels = labels
        self.key = tuple(sorted(labels.items())) if key is None else key  # its labels, sorted
        self.times, self.values = times, []
        self.counter = counter  # a scraped counter: its values rise, only their differences repeat
        self.step = 0.0  # a scraped series: what a scrape adds to it (a counter) or sets it to (``Store.fill``)
        self.compute = compute  # and that step from its service's metrics and the time since the last scrape
        # its own marks (None: a scraped series, one with ``compute``, whose selectors keep them)
        self.marks = Marks(join) if compute is None else None
        self.watchers: list = []  # the selectors that select it (their ``marks`` and ``calm`` follow its own)
        self.service = self.labels.get("service")  # whose series it is (None: no service's; compiled, a dict's get)
        # whether it holds what it holds in every drill whose world starts as this one's and
        # has not changed (the first scrapes' marks aside): see ``Store.first``
        self.calm = True

    def mark(self, lo: float, hi: float) -> None:
        self.marks.add(lo, hi)
        for selected in self.watchers:
            if selected.services is not None:
                selected.mark_service(self.service, lo, hi)
            selected.mark(lo, hi)

    def uncalm(self) -> None:
        if self.calm:
            self.calm = False
            for selected in self.watchers:
                selected.uncalm()

    def catch_up(self, upto: int | None = None) -> None:
        """A recorded series: write the samples that repeat its last one (``Store.record``), up to
        its first ``upto`` times (all of them by default)."""
        lag = (len(self.times) if upto is None else upto) - len(self.values)
        if lag > 0:
            self.values += [self.values[-1]] * lag

    def latest(self, t: float) -> int:
        """Where the sample an instant selector sees at ``t`` is: the latest at most 5 m old (-1: none)."""
        times = self.times
        i = len(times) - 1
        if i < 0:
            return -1
        at = times[i]  # the last sample, the commonest answer: evaluations come after the samples they read
        if at > t:
            i = bisect_right(times, t) - 1
            if i < 0:
                return -1
            at = times[i]
        lookback = LOOKBACK  # (compiled, a double: no float made to compare with)
        return -1 if at < t - lookback else i

    def span(self, start: float, end: float) -> tuple[int, int]:
        """Indexes of the samples in ``[start, end]`` (Prometheus 2's closed range)."""
        return _span(self.times, start, end)

    def window(self, lo: int, hi: int) -> tuple[list, list]:
        """Sample times and values of a span, stale markers left out."""
        ts, vs = self.times[lo:hi], self.values[lo:hi]
        if None in vs:
            pairs = [(t, v) for t, v in zip(ts, vs) if v is not None]
            ts, vs = [t for t, _ in pairs], [v for _, v in pairs]
        return ts, vs


def _span(times: list, start: float, end: float) -> tuple[int, int]:
    """Indexes of these sample times in ``[start, end]`` (``Series.span``), searched for."""
    return bisect_right(times, start - 1e-9), bisect_right(times, end)


def _keys_are(d: dict, keys: list) -> bool:
    """``list(d) == keys``, without the list (compiled: a loop over the dict, keys compared by
    identity first, as a list's comparison does)."""
    if len(d) != len(keys):
        return False
    i = 0
    for key in d:
        other = keys[i]
        if key is not other and key != other:
            return False
        i += 1
    return True


def _same(a, b) -> bool:
    """Two samples are the same float (NaN as NaN, -0 apart from 0); a missing one (None) is no float."""
    return (a == b and copysign(1.0, a) == copysign(1.0, b)) or (a != a and b != b)


def _moved(value, old) -> bool:
    """``not _same(value, old)``, with a call only for zeros (whose signs it tells apart)."""
    return (value != old and (value == value or old == old)) or (value == 0 and not _same(value, old))  # noqa: PLR0124 (not both NaN)


_plans = 0  # how many plans _mark_plan made (a watcher notes the last that met it)


def _mark_plan(changed: list) -> tuple:
    """What marking these series tells their selectors: each selector that keeps marks by service
    with the services of these series it selects, and every selector of them, in the order first
    met. (Speed: each selector notes the plan that met it and gathers its services itself, no
    dict looked up for each series.)"""
    global _plans
    _plans += 1
    plan = _plans
    told, watching = [], []
    for series in changed:
        for selected in series.watchers:
            if selected.planned != plan:
                selected.planned = plan
                told.append(selected)
                if selected.services is not None:
                    selected.planned_services = set()
                    watching.append(selected)
            if selected.services is not None:
                selected.planned_services.add(series.service)
    return [(selected, selected.planned_services) for selected in watching], told


class Store:
    """The series rules select: scraped ones (kept only when wanted) and recorded ones.

    With a ``period`` (a whole number of scrape and evaluation intervals) the store marks
    where series break their pattern: a scraped series whose step changes at a scrape ``c``
    is marked over ``[c - scrape interval, c + period - scrape interval]`` (the samples that
    differ from those a period before, and the one before them, whose difference changed);
    a recorded series where its value differs from its value a period before."""

    def __init__(self, services: dict, scrape_interval: float = 15.0, period: float | None = None,
                 gap: float = LOOKBACK, epoch_ms: int = 0):
        self.services = services
        self.scrape_interval, self.period = scrape_interval, period
        self.gap = gap  # the longest a series goes between samples (at most the lookback)
        self._available: list | None = None  # the catalog, made when a rule first asks (speed)
        self.by_name: dict[str, list] = {}
        self._wanted: dict = {}
        self.scrape_times: list[float] = []
        self.scraped: list[Series] = []
        self.series: list[Series] = []
        self._named: dict[str, list[Series]] = {}  # series by name, of the first _indexed series
        self._indexed = 0
        self.recorded: dict[object, dict[tuple, Series]] = {}  # recording rule -> its series
        self._uncalm: set = set()  # the recording rules none of whose series is calm
        self._recorded_times: dict[object, list] = {}  # recording rule -> its series' sample times
        self._layouts: dict[object, tuple] = {}  # recording rule -> the keys it last gave and their series, in order
        self._picks: dict = {}  # what selectors selected of the wanted series (``picked``), kept for the scenario
        self._lagging: set = set()  # the recording rules whose series may repeat samples not written yet
        self._written: dict = {}  # recording rule -> the output it last recorded
        # bumps when a series is added, so selectors match again. Selectors see the marks made after
        # they first match (``Rules`` matches them all before the first scrape), and a recorded
        # series' own, which they take in when it appears
        self.version = 0
        self._last: float | None = None
        self._metrics, self._dt, self._falling = None, None, []
        self.fell = False  # whether a scraped counter's step was ever below 0 (else no counter's values fall)
        self._members: dict[str, list] = {}  # service -> its scraped series
        self._rank: dict[str, int] = {}  # service -> its place in _members
        self._in_rank: dict[tuple, list] = {}  # the services a scrape was told moved -> those of _members, in its order
        self._mark_plans: dict[tuple, tuple] = {}  # series marked together -> _mark_plan's (dropped by ``watch``)
        self._ranges_at, self._ranges = None, {}
        # scraped_span's last window, its scrape count and its answer
        self._span_start = self._span_end = inf
        self._span_count = self._span_lo = self._span_hi = 0
        self.first: tuple | None = None  # the world's metrics at the first scrape
        # the drill's start in Unix milliseconds: time 0 on the calendar time(), timestamp() and the
        # date functions read (0: 1970-01-01, as promtool's tests start)
        self.epoch_ms = epoch_ms

    def forget(self) -> None:
        """Let go of every series (``Rules.forget``), and each of them of the selections that select it."""
        for series in self.series:
            series.watchers = []
        self.series, self.scraped = [], []
        self.recorded, self._members, self._named, self._layouts, self._written = {}, {}, {}, {}, {}
        self._mark_plans = {}

    @property
    def available(self) -> list:
        if self._available is None:
            self._available, self.by_name, self._wanted = _catalog(self.services)
        return self._available

    def exported(self, name: str | None) -> list:
        """The catalog's entries named ``name`` (all of them for a selector without a name)."""
        return self.available if name is None else (self.available and self.by_name.get(name, []))

    def ranges_at(self, t: float) -> dict:
        """Range function results worked out at evaluation time ``t``: by function, range, sample times
        and span (a span grows when a recording rule adds a sample, so a reused result is exact), a
        dict by series."""
        if self._ranges_at != t:
            self._ranges_at, self._ranges = t, {}
        return self._ranges

    def scraped_span(self, start: float, end: float) -> tuple[int, int]:
        """``Series.span`` of the scraped series (which share their times), worked out from the
        last window asked. Speed: the rules of an evaluation read the same windows, and the next
        evaluation's begin a few scrapes later, where the last answer steps on to (in sorted
        times, the first past a bound is at or after the first past a lower one)."""
        times = self.scrape_times
        count = len(times)
        if start != self._span_start or end != self._span_end or count != self._span_count:
            if start < self._span_start or end < self._span_end:
                lo, hi = _span(times, start, end)
            else:
                lo, hi, bound = self._span_lo, self._span_hi, start - 1e-9
                while lo < count:  # (compiled, each time read as a double: no float made to compare with)
                    at = times[lo]
                    if at > bound:
                        break
                    lo += 1
                while hi < count:
                    at = times[hi]
                    if at > end:
                        break
                    hi += 1
            self._span_start, self._span_end, self._span_count, self._span_lo, self._span_hi = start, end, count, lo, hi
        return self._span_lo, self._span_hi

    def named(self, name: str | None) -> list:
        """The series named ``name`` (all of them for None), in the order the store gained them:
        a list that grows as the store does."""
        if name is None:
            return self.series
        if self._indexed < len(self.series):
            for series in self.series[self._indexed:]:
                self._named.setdefault(series.labels.get("__name__"), []).append(series)
            self._indexed = len(self.series)
        return self._named.setdefault(name, [])

    def want(self, selectors) -> None:
        """Keep every exported series these selectors (``(matches, name)`` pairs) select, once
        (before the first scrape)."""
        selectors = tuple(selectors)
        if not selectors:
            return  # no catalog to make
        self.exported(None)  # the scenario's catalog, and what its drills' selectors selected of it
        entries = self._wanted.get(selectors)
        if entries is None:  # for the scenario's drills: each series once, with its key
            kept, entries = set(), []
            for matches, name in selectors:
                for entry in self.exported(name):
                    if id(entry) not in kept and matches(entry[0]):
                        kept.add(id(entry))
                        entries.append((*entry, tuple(sorted(entry[0].items()))))
            # in the order of their keys, which selectors keep theirs in (speed: a sorted list sorts fastest)
            entries.sort(key=lambda entry: entry[3])
            self._wanted[selectors] = entries
        self._picks = self._wanted.setdefault(("picks", selectors), {})
        for labels, counter, compute, key in entries:
            series = Series(labels, self.scrape_times, counter, self.gap, key, compute)
            self.scraped.append(series)
            self.series.append(series)
        if entries:
            self.version += 1

    def watch(self, selected: Watcher, series: list) -> None:
        """``selected`` watches these series from now on (the mark plans made before it did are dropped)."""
        for one in series:
            one.watchers.append(selected)
        self._mark_plans.clear()

    def picked(self, matches, name: str | None) -> tuple[list, tuple]:
        """The wanted series named ``name`` (all of them for None) that ``matches`` selects, in the order
        of their keys, and of them: their keys without the name, whether one is a counter, whether
        all are, how many services they are of, and whether each is some service's. Worked out once
        for the drills of a scenario, whose stores want the same series in the same order (asked
        before the store gains any other)."""
        named = self.named(name)
        picks = self._picks.get((matches, name))
        if picks is None:
            chosen = [i for i, s in enumerate(named) if matches(s.labels)]
            series = [named[i] for i in chosen]
            picks = self._picks[(matches, name)] = (chosen, (
                [drop_name(s.key) for s in series], any(s.counter for s in series), all(s.counter for s in series),
                len({s.service for s in series}), None not in {s.service for s in series}))
        return [named[i] for i in picks[0]], picks[1]

    def scrape(self, t: float, metrics: dict, moved=None) -> None:
        """Take the world's ``metrics`` at ``t``; ``moved``: the services whose metrics may differ
        from the last scrape's (None: any of them)."""
        dt = 0.0 if self._last is None else t - self._last
        if self._last is None:
            self.first = _first_look(self.services, *[metrics[name] for name in self.services])
        self.scrape_times.append(t)
        # Speed: a calm world hands over the very same metrics every scrape, so what each
        # series gains is what it gained last time (the same floats: nothing is approximated),
        # and its samples are written when a rule reads them (``fill``), not one by one.
        if metrics is not self._metrics or dt != self._dt:
            self._restep(t, metrics, dt, moved)
        if self._falling:
            self._mark(self._falling, t)
        self._last, self._metrics, self._dt = t, metrics, dt

    def fill(self, series: list | None = None, scrapes: int | None = None) -> None:
        """Write these scraped series' samples (every scraped series' by default) of the first
        ``scrapes`` scrapes (all of them by default) that they do not hold yet: a counter adds
        its step to its last value (it starts at its first step), a gauge takes its value."""
        upto = len(self.scrape_times) if scrapes is None else scrapes
        for one in self.scraped if series is None else series:
            values = one.values
            n = upto - len(values)
            if n == 1 and one.counter and values:  # the commonest, first (speed)
                values.append(values[-1] + one.step)
                continue
            if n <= 0:
                continue
            step = one.step
            if not one.counter:
                values += [step] * n
                continue
            if not values:
                values.append(step)
                n -= 1
            last = values[-1]
            for _ in range(n):  # the same additions, one after another (compiled, in doubles)
                last = last + step
                values.append(last)

    def _restep(self, t: float, metrics: dict, dt: float, moved) -> None:
        """Work out again what the series of the services whose metrics changed gain (of every
        service when the time since the last scrape did), marking those whose step changed
        (after writing their samples at the step they had)."""
        first = not self._members
        if first:  # the series were all wanted before the first scrape
            for series in self.scraped:
                self._members.setdefault(series.service, []).append(series)
            self._rank = {service: i for i, service in enumerate(self._members)}
        every, falls, changed, steps, seconds = dt != self._dt, False, [], [], dt
        # the second scrape re-steps every series (the time since the last one changed) as in every
        # drill that starts alike, unless its service moved since the first: then it is its own
        second = self.period is not None and len(self.scrape_times) == 2
        members_of, rank = self._members, self._rank
        if every or moved is None:
            services = members_of
        else:  # the services that moved, in the order of the rest (speed: a few of hundreds move, and
            # the same few scrape after scrape while a fault moves: put in order once)
            moved = tuple(moved)
            services = self._in_rank.get(moved)
            if services is None:
                services = self._in_rank[moved] = sorted({name for name in moved if name in rank}, key=rank.__getitem__)
        for service in services:
            members = members_of[service]
            m = metrics[service]
            if not every and m is self._metrics[service]:
                continue  # as before
            if second and m is not self._metrics[service]:
                for series in members:
                    series.uncalm()
            rate, errors, p99, cpu, memory = metrics_of(m)  # once for all its series (compiled, doubles)
            for series in members:
                step = series.compute.of(rate, errors, p99, cpu, memory, seconds)
                old = series.step
                # _moved(step, old), in doubles (a call would make two floats of every series' step)
                if (step != old and (step == step or old == old)) or (step == 0 and not _same(step, old)) or first:  # noqa: PLR0124 (not both NaN)
                    changed.append(series)
                    steps.append(step)
                if step < 0 and series.counter:
                    falls = self.fell = True
        if changed:  # together (speed: a service's series change together)
            self.fill(changed, len(self.scrape_times) - 1)
            if self.period is not None:
                self._mark(changed, t)
            for series, step in zip(changed, steps):
                series.step = step
        if self.period is not None and (falls or self._falling):
            # a falling counter resets, and a reset counts the value it fell from: no pattern
            self._falling = [s for s in self.scraped if s.counter and s.step < 0]

    def _mark(self, changed: list, t: float) -> None:
        """Mark these scraped series at the scrape at ``t``: each selector that selects some of
        them once, by the plan ``_mark_plan`` made for this very list of series (speed: the same
        series move together scrape after scrape while a fault moves)."""
        lo, hi = t - self.scrape_interval, t + self.period - self.scrape_interval
        if len(self.scrape_times) > 2:  # the first two start every drill alike (see _restep)
            for series in changed:
                if series.calm:
                    series.uncalm()
        key = tuple(changed)
        plan = self._mark_plans.get(key)
        if plan is None:
            plan = self._mark_plans[key] = _mark_plan(changed)
        for selected, marked in plan[0]:
            selected.mark_services(marked, lo, hi)
        for selected in plan[1]:
            selected.mark(lo, hi)

    def record(self, t: float, owner, output: dict, before: dict | None = None, calm: bool = False,
               again: list = (), changed: tuple | None = None) -> None:
        """A recording rule's (``owner``'s) output at ``t``, labels key -> value; series it no longer gives go stale.

        ``before``: its output a period earlier (None: unknown), to mark the series that differ;
        ``calm``: whether the output is what every drill starting alike records (``Series.calm``);
        ``again``: later times at which it gave this very output again, a period apart (its
        repeats over ticks the engine skipped: they differ from nothing a period earlier);
        ``changed``: when given, ``(some, gone)``: the output is ``before``'s (the very values) but
        for the entries of the dict ``some`` and the keys ``gone`` it no longer gives.

        The series of one rule share one list of sample times (speed: a time is written once, and
        an instant selector looks it up once): a series the rule does not give at a time holds
        None there, a staleness marker, which no selector sees as a sample. Speed: a series that
        repeats its last sample is not written to (``Series.catch_up`` writes what it repeats), so an
        output that is ``before``'s, or is but for ``changed``, where ``before`` is the output it
        recorded last, writes only what differs."""
        mine = self.recorded.get(owner)
        if mine is None:
            mine = self.recorded[owner] = {}
            self._recorded_times[owner] = []
        times, count = self._recorded_times[owner], 1 + len(again)
        written, self._written[owner] = self._written.get(owner), output
        if before is not None and before is written and (output is before or changed is not None):
            times.append(t)
            times += again
            self._lagging.add(owner)
            if changed is not None:
                some, gone = changed
                for key, value in some.items():
                    series = mine.get(key)
                    if series is None:
                        series = self._recorded(owner, mine, key, times, calm)
                    else:
                        series.catch_up(len(times) - 1)
                    series.values.append(value)
                    if self.period is not None and _moved(value, before.get(key)):
                        series.mark(t, t)
                for key in gone:
                    series = mine[key]
                    series.catch_up(len(times) - 1)
                    series.values.append(None)
                    if self.period is not None:
                        series.mark(t, t)
            if not calm and owner not in self._uncalm:
                for series in mine.values():
                    series.uncalm()
                self._uncalm.add(owner)
            return
        if owner in self._lagging:  # written in full from here: what its series repeated first
            for series in mine.values():
                series.catch_up(len(times))
            self._lagging.discard(owner)
        times.append(t)
        times += again
        mark = self.period is not None and output is not before
        layout = self._layouts.get(owner)
        if layout is None or not _keys_are(output, layout[0]):  # (the same key objects: compared by identity, speed)
            keys = list(output)
            for key in keys:
                if key not in mine:
                    self._recorded(owner, mine, key, times, calm, count)
            # speed: while it gives the same series, they are written in order, with no look-up by key
            layout = self._layouts[owner] = (keys, [mine[key] for key in keys])
        keys, written_to = layout
        if before is None:
            olds = [None] * len(keys)
        else:
            olds = list(before.values()) if _keys_are(before, keys) else [before.get(key) for key in keys]
        i = 0
        for value in output.values():  # (an index, not zip(): compiled, no tuple an item)
            series, old = written_to[i], olds[i]
            i += 1
            series.values.append(value)
            if again:
                series.values += [value] * len(again)
            if mark and _moved(value, old):
                series.mark(t, t)
        if len(mine) == len(output) and (calm or owner in self._uncalm):
            return  # it gave every series it has, and none is to stop being calm (speed)
        for key, series in mine.items():
            if not calm and series.calm:
                series.uncalm()
            if key not in output:
                series.values += [None] * count
                if mark and (before is None or key in before):
                    series.mark(t, t)
        if not calm:
            self._uncalm.add(owner)

    def _recorded(self, owner, mine: dict, key: tuple, times: list, calm: bool, count: int = 1) -> Series:
        """A new series of a recording rule, stale (None) at its times before the last ``count``."""
        series = mine[key] = Series(dict(key), times, join=self.gap, key=key)
        series.values += [None] * (len(times) - count)  # it had no sample before
        self.series.append(series)
        self.version += 1
        series.calm = calm
        self._uncalm.discard(owner)
        return series
