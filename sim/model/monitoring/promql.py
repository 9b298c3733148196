"""PromQL evaluation, as Prometheus 2 evaluates the expressions alert rules use.

``compile_expr`` turns an expression parsed by ``promql-parser`` into a function of the
evaluation time giving an instant vector (a list of ``(labels key, value)``, the key a
sorted tuple of label pairs) or a scalar. The rule-file loader
(``sim.inputs.promrules``) has already refused what is not supported. Arithmetic follows Prometheus's
engine step for step (extrapolated rates, bucket quantiles, incremental means), so
float results agree with it to the last bit where the operation order allows.
"""

import decimal
import functools
import itertools
import math
import operator
import re

import promql_parser as pp

from ...inputs.promrules import DATE_FUNCTIONS
from .humanize import go_float
from .series import NAME, Marks, Watcher, drop_name


class EvalError(Exception):
    """An expression failed at one evaluation (as ``many-to-many matching`` does in Prometheus)."""


# -- selectors --

def label_matcher(op: str, name: str, value: str):
    """A predicate on a series' labels for one matcher (``op``: promql-parser's MatchOp name)."""
    if op in ("Re", "NotRe"):
        pattern = re.compile(value)
        want = op == "Re"
        return lambda labels: (pattern.fullmatch(labels.get(name, "")) is not None) == want
    if op == "Equal":
        return lambda labels: labels.get(name, "") == value
    return lambda labels: labels.get(name, "") != value


def selector_matches(vs):
    """A predicate on a series' labels for a vector selector's name and matchers (the same
    predicate for the same selector: drills of a scenario share it, and what it matched)."""
    return _selector(vs.name, tuple((str(m.op).split(".")[-1], m.name, m.value) for m in vs.matchers.matchers))


@functools.lru_cache(maxsize=4096)
def _selector(name: str | None, matchers: tuple):
    tests = [label_matcher(*m) for m in matchers]
    if name is not None:
        tests.insert(0, lambda labels: labels.get(NAME) == name)
    return lambda labels: all(test(labels) for test in tests)


_VERDICTS: dict[tuple, bool] = {}  # (predicate, series key) -> whether it selects the series


def _selects(matches, series) -> bool:
    verdict = _VERDICTS.get((matches, series.key))
    if verdict is None:
        if len(_VERDICTS) > 100_000:
            _VERDICTS.clear()
        verdict = _VERDICTS[(matches, series.key)] = bool(matches(series.labels))
    return verdict


class Read:
    """A selector an expression looks at: over a ``range`` (None: the instant's latest sample),
    through a function of differences only (``differences``) or of the values themselves."""

    def __init__(self, selected: "_Selected", range: float | None, differences: bool):
        self.selected, self.range, self.differences = selected, range, differences


class _Selected(Watcher):
    """The store's series a selector matches, matched again when the store gains series."""

    def __init__(self, store, matches, name: str | None, offset: float):
        super().__init__()
        self.store, self.matches, self.name, self.offset = store, matches, name, offset
        self.version, self.series, self.looked = -1, [], 0
        self.scraped: list = []  # its scraped series
        self.recorded: list = []  # and its recorded ones
        self.filled_to = 0  # how many scrapes' samples they all hold (``filled``)
        self.unnamed: list = []  # its series' keys without the name, in the same order (speed)
        self.columns: list = []  # its series' lists of values, in the same order (speed)
        self.marks = Marks(store.gap)  # its series' marks together
        self.rising = False  # whether it selects a counter (whose values never repeat)
        self.counters = False  # whether it selects scraped counters only (which share their sample times)
        self.calm = True  # whether every series it selects is calm (``Series.calm``)
        self.readers: list = []  # the rules that read it, told when its marks or calm change (``touched``)
        # services (Watcher's): service -> its series' marks together, for a rule that evaluates services
        # apart (None: not asked); the rule drops those it has left behind. And the marks of every series
        # it matched first
        self.everyone = Marks(store.gap)
        self.service_count = 0  # how many services' series it selects
        self.serviced = True  # whether every series it selects is some service's (``Series.service``)
        self._whole: tuple | None = None  # while ``only`` some services: its whole selection, put back by ``whole``
        self._only: list | None = None  # the last selection of some services (speed: the same lists again)

    def current(self) -> list:
        store = self.store
        if self.version != store.version:  # the store only gains series: match the new ones
            # before the first scrape, the store holding its wanted series alone: picked
            picked = self.version < 0 and not store.scrape_times and len(store.series) == len(store.scraped)
            self.version = store.version
            if picked:
                self._pick()
            else:
                self._match()
        return self.series

    def _pick(self) -> None:
        """Take the wanted series it selects before the first scrape (``Store.picked``: what it selects,
        worked out for the scenario's first drill, in key order): none is marked yet (speed)."""
        new, (self.unnamed, self.rising, self.counters, self.service_count, self.serviced) = \
            self.store.picked(self.matches, self.name)
        self.looked = len(self.store.named(self.name))
        if new:
            self.series = self.scraped = new
            self.filled_to = -1
            self.columns = [s.values for s in new]
            self.store.watch(self, new)
            self.touched()

    def _match(self) -> None:
        """Take the series the store gained since it last looked that it selects, with their marks."""
        store = self.store
        named = store.named(self.name)  # speed: only the series its name allows
        new = [s for s in named[self.looked:] if _selects(self.matches, s)]
        self.looked = len(named)
        if not new:
            return
        self.series = sorted(self.series + new, key=lambda s: s.key)
        self.scraped = [s for s in self.series if s.times is store.scrape_times]
        self.recorded = [s for s in self.series if s.times is not store.scrape_times]
        self.filled_to = -1  # the new ones may lack samples
        self.unnamed = [drop_name(s.key) for s in self.series]
        self.columns = [s.values for s in self.series]
        # their marks, each stretch once (speed: a service's series were marked alike), by service
        # too where asked
        stretches: dict = {}
        alike: dict = {}  # service -> the marks last taken in for it (speed: the next are often the same)
        store.watch(self, new)
        for series in new:
            self.rising = self.rising or series.counter
            self.calm = self.calm and series.calm
            marks, service = series.marks, series.service
            last = alike.get(service)
            if marks is None:  # (a scraped series, whose marks its selectors keep)
                stretches.setdefault(service, set())
            elif last is None or last.his != marks.his or last.los != marks.los:
                stretches.setdefault(service, set()).update(zip(marks.los, marks.his))
                alike[service] = marks
        self.marks.absorb(set().union(*stretches.values()))
        self.serviced = self.serviced and None not in stretches
        if self.services is not None:
            for service, marks in stretches.items():
                if marks:
                    self._service_marks(service).absorb(marks)
        self.counters = all(s.counter for s in self.series)
        self.service_count = len({s.service for s in self.series})
        self.touched()

    def filled(self) -> list:
        """``current``, its series holding every sample (scraped ones: ``Store.fill``, recorded ones:
        ``Series.catch_up``: written when read)."""
        store = self.store
        selected, times = self.series if self.version == store.version else self.current(), store.scrape_times
        if self.filled_to != len(times) and self.scraped:
            self.filled_to = len(times)
            store.fill(self.scraped)
        for series in self.recorded:
            if len(series.values) < len(series.times):  # (speed: no call for the many that do not lag)
                series.catch_up()
        return selected

    def only(self, services) -> None:
        """Select the series of these services alone, till ``whole``."""
        self.current()
        self._whole = (self.series, self.scraped, self.recorded, self.unnamed, self.columns, self.filled_to)
        only = self._only
        if only is None or only[0] != self.version or (only[1] is not services and only[1] != services):
            picked = [i for i, s in enumerate(self.series) if s.service in services]
            series = [self.series[i] for i in picked]
            scraped = [s for s in series if s.times is self.store.scrape_times]
            recorded = [s for s in series if s.times is not self.store.scrape_times]
            only = self._only = [self.version, services, series, scraped, recorded, [self.unnamed[i] for i in picked],
                                 [self.columns[i] for i in picked], -1]
        self.series, self.scraped, self.recorded, self.unnamed, self.columns, self.filled_to = only[2:]

    def whole(self) -> None:
        """Select every series again (after ``only``)."""
        self._only[7] = self.filled_to
        self.series, self.scraped, self.recorded, self.unnamed, self.columns, self.filled_to = self._whole
        self._whole = None

    def forget(self) -> None:
        """Let go of its series (``Rules.forget``)."""
        self.series = self.scraped = self.recorded = self.columns = self.unnamed = []
        self._only = self._whole = None

    def _service_marks(self, service) -> Marks:
        marks = self.services.get(service)
        if marks is None:
            marks = self.services[service] = Marks(self.store.gap)
        return marks

    def mark_service(self, service, lo: float, hi: float) -> None:
        """Note a mark of this service's series (before ``mark`` notes it of the selection)."""
        self._service_marks(service).add(lo, hi)

    def mark_services(self, services: set, lo: float, hi: float) -> None:
        """``mark_service`` of each of these services: of the selection's ``everyone`` when they are all
        its services (speed: the first scrapes mark every series)."""
        if len(services) == self.service_count:
            self.everyone.add(lo, hi)
        else:
            for service in services:
                self._service_marks(service).add(lo, hi)

    def mark(self, lo: float, hi: float) -> None:
        marks = self.marks
        if marks.his:  # (compiled, the ends compared as doubles)
            first, last, start, end = marks.los[-1], marks.his[-1], lo, hi
            if first <= start and end <= last:
                return  # already marked there (speed: a service's series are marked together)
        marks.add(lo, hi)
        self.touched()

    def uncalm(self) -> None:
        self.calm = False
        self.touched()

    def touched(self) -> None:
        for rule in self.readers:
            rule.touched()


def _memo(f):
    """``f`` of a labels key, remembered (a drill meets the same label sets at every evaluation)."""
    return functools.cache(f)


# -- range functions (Prometheus's promql/functions.go) --

def _extrapolated(ts, vs, lo, hi, start, end, rng, counter, is_rate, falls=True):
    """Over samples ``lo`` to ``hi`` (excluded) of ``ts`` and ``vs``; ``falls``: whether a value
    can fall below the one before it (else there is no counter reset to look for)."""
    if hi - lo < 2:
        return None
    first, last = vs[lo], vs[hi - 1]
    result = last - first
    if counter and falls:
        prev = first
        for v in vs[lo + 1:hi]:
            if v < prev:
                result += prev
            prev = v
    to_start, to_end = ts[lo] - start, end - ts[hi - 1]
    sampled = ts[hi - 1] - ts[lo]
    if counter and result > 0 and first >= 0:
        to_zero = sampled * (first / result)
        if to_zero < to_start:
            to_start = to_zero
    return result * _factor(to_start, to_end, sampled, hi - lo - 1, rng, is_rate)


def _counters_extrapolated(sel: "_Selected", store, start: float, end: float, rng: float,
                           extrapolated: tuple | None) -> tuple:
    """The selection's series (filled), and when they are scraped counters none of which fell and
    ``extrapolated`` says how, their ``_extrapolated`` over ``[start, end]`` (None: too few samples)
    and whether each has one; else None and False. Speed: they have no stale marker, so their columns
    of values are read in place, and unless its start extrapolates to zero first, each one's increase
    is multiplied by a factor they all share (their sample times are the same); and compiled, the
    selection and the store are typed here (a closure's variables are not: a call by name)."""
    selected = sel.filled()
    if extrapolated is None or not sel.counters or store.fell:
        return selected, None, False
    columns = sel.columns  # (the values of ``selected``, in its order: _Selected keeps them so)
    times = store.scrape_times
    lo, hi = store.scraped_span(start, end)
    if hi - lo < 2:
        return selected, [None] * len(selected), not selected
    to_start, sampled, last = times[lo] - start, times[hi - 1] - times[lo], hi - 1
    factor = _factor(to_start, end - times[last], sampled, last - lo, rng, extrapolated[1])
    return selected, _increases(columns, lo, hi, times, start, end, rng, extrapolated, factor, to_start,
                                sampled), True


def _increases(columns: list, lo: int, hi: int, times: list, start: float, end: float, rng: float,
               extrapolated: tuple, factor: float, to_start: float, sampled: float) -> list:
    """``_extrapolated`` of each of these counters' columns of values, sampled at ``times``, none of
    which falls: each one's increase times ``factor`` (``_factor`` of their shared times), unless its
    start extrapolates to zero first (typed where compiled: every scraped counter a rule reads, at
    every evaluation)."""
    out, last, counter = [], hi - 1, extrapolated[0]
    # speed: no division for a series whose first value is at least its increase when the
    # samples span at least the gap to the window's start (rounded, the quotient is at
    # least 1 and the product at least that span: it does not extrapolate to zero first)
    wide = sampled >= to_start
    for values in columns:
        first = values[lo]
        result = values[last] - first
        if (counter and (first < result or not wide) and result > 0 and first >= 0
                and sampled * (first / result) < to_start):
            result = _extrapolated(times, values, lo, hi, start, end, rng, *extrapolated, falls=False)
        else:
            result *= factor
        out.append(result)
    return out


def _factor(to_start, to_end, sampled, intervals, rng, is_rate):
    """What an increase over ``sampled`` seconds (``intervals`` of them) is multiplied by to
    extrapolate it to its window's edges (and make it a rate)."""
    average = sampled / intervals
    threshold = average * 1.1
    interval = sampled
    interval += to_start if to_start < threshold else average / 2
    interval += to_end if to_end < threshold else average / 2
    factor = interval / sampled
    if is_rate:
        factor /= rng
    return factor


def _instant(ts, vs, is_rate):
    if len(vs) < 2:
        return None
    last, previous = vs[-1], vs[-2]
    result = last if is_rate and last < previous else last - previous
    sampled = ts[-1] - ts[-2]
    if sampled == 0:
        return None
    return result / sampled if is_rate else result


def _kahan_inc(inc, total, c):
    """Prometheus's kahanSumInc (Neumaier's variant): a compensated running sum."""
    t = total + inc
    if abs(total) >= abs(inc):
        c += (total - t) + inc
    else:
        c += (inc - t) + total
    return t, c


def _sum(vs):
    total = c = 0.0
    for v in vs:
        total, c = _kahan_inc(v, total, c)
    return total if math.isinf(total) else total + c


def _avg(vs):
    mean = count = c = 0.0
    for v in vs:
        count += 1
        if math.isinf(mean):
            if math.isinf(v) and (mean > 0) == (v > 0):
                continue
            if not math.isinf(v) and not math.isnan(v):
                continue
        mean, c = _kahan_inc(v / count - mean / count, mean, c)
    return mean if math.isinf(mean) else mean + c


def _extreme(vs, better):
    best = vs[0]
    for v in vs[1:]:
        if better(v, best) or math.isnan(best):
            best = v
    return best


def _variance(vs):
    """Prometheus's stdvar_over_time: Welford's running mean and sum of squares, both compensated."""
    count = mean = c_mean = aux = c_aux = 0.0
    for v in vs:
        count += 1
        delta = v - (mean + c_mean)
        mean, c_mean = _kahan_inc(delta / count, mean, c_mean)
        aux, c_aux = _kahan_inc(delta * (v - (mean + c_mean)), aux, c_aux)
    return (aux + c_aux) / count


def _changes(vs, counts):
    return float(sum(1 for prev, v in itertools.pairwise(vs) if counts(prev, v)))


def _ms(t: float) -> int:
    """A time as Prometheus holds it: whole milliseconds."""
    return round(t * 1000)


def _unix(store, t: float) -> float:
    """The drill's time ``t`` in Unix seconds, from whole milliseconds, as time() gives it."""
    return (store.epoch_ms + _ms(t)) / 1000


def _regression(ts, vs, at_ms: int):
    """Prometheus's linearRegression: the least-squares slope, and the value at ``at_ms``
    (milliseconds), the sums compensated; a constant series' slope is exactly 0."""
    n = sum_x = c_x = sum_y = c_y = sum_xy = c_xy = sum_x2 = c_x2 = 0.0
    init = vs[0]
    constant = all(v == init for v in vs[1:])  # (a NaN first is not: NaN != NaN)
    for t, v in zip(ts, vs):
        n += 1.0
        x = (_ms(t) - at_ms) / 1e3
        sum_x, c_x = _kahan_inc(x, sum_x, c_x)
        sum_y, c_y = _kahan_inc(v, sum_y, c_y)
        sum_xy, c_xy = _kahan_inc(x * v, sum_xy, c_xy)
        sum_x2, c_x2 = _kahan_inc(x * x, sum_x2, c_x2)
    if constant:
        return (math.nan, math.nan) if math.isinf(init) else (0.0, init)
    sum_x, sum_y, sum_xy, sum_x2 = sum_x + c_x, sum_y + c_y, sum_xy + c_xy, sum_x2 + c_x2
    slope = _div(sum_xy - sum_x * sum_y / n, sum_x2 - sum_x * sum_x / n)
    return slope, sum_y / n - slope * sum_x / n


def _quantile(q, vs):
    """Prometheus's quantile (of quantile_over_time): between the two nearest ranks, NaN sorted first."""
    if math.isnan(q):
        return math.nan
    if q < 0 or q > 1:
        return math.copysign(math.inf, q)
    ordered = sorted(vs, key=lambda v: (v == v, v))  # noqa: PLR0124 (NaN first)
    rank = q * (len(ordered) - 1)
    lower = max(0, math.floor(rank))
    upper = min(len(ordered) - 1, lower + 1)
    weight = rank - math.floor(rank)
    return ordered[lower] * (1 - weight) + ordered[upper] * weight


EXTRAPOLATED = {"rate": (True, True), "increase": (True, False), "delta": (False, False)}  # counter, is_rate
RANGE_FUNCTIONS = {
    **{name: lambda ts, vs, s, e, r, how=how: _extrapolated(ts, vs, 0, len(vs), s, e, r, *how)
       for name, how in EXTRAPOLATED.items()},
    "irate": lambda ts, vs, s, e, r: _instant(ts, vs, True),
    "idelta": lambda ts, vs, s, e, r: _instant(ts, vs, False),
    "avg_over_time": lambda ts, vs, s, e, r: _avg(vs) if vs else None,
    "max_over_time": lambda ts, vs, s, e, r: _extreme(vs, lambda a, b: a > b) if vs else None,
    "min_over_time": lambda ts, vs, s, e, r: _extreme(vs, lambda a, b: a < b) if vs else None,
    "sum_over_time": lambda ts, vs, s, e, r: _sum(vs) if vs else None,
    "count_over_time": lambda ts, vs, s, e, r: float(len(vs)) if vs else None,
    "last_over_time": lambda ts, vs, s, e, r: vs[-1] if vs else None,
    "present_over_time": lambda ts, vs, s, e, r: 1.0 if vs else None,
    "stdvar_over_time": lambda ts, vs, s, e, r: _variance(vs) if vs else None,
    "stddev_over_time": lambda ts, vs, s, e, r: _safe(math.sqrt, _variance(vs)) if vs else None,
    "changes": lambda ts, vs, s, e, r: _changes(vs, lambda a, b: a != b and (a == a or b == b)) if vs else None,  # noqa: PLR0124
    "resets": lambda ts, vs, s, e, r: _changes(vs, operator.gt) if vs else None,
    "deriv": lambda ts, vs, s, e, r: _regression(ts, vs, _ms(ts[0]))[0] if len(vs) > 1 else None,
}
# Range functions of a scalar too (the scalar's place among the arguments, and the function of it,
# the evaluation time and the samples)
WITH_SCALAR = {
    "quantile_over_time": (0, lambda q, t, ts, vs: _quantile(q, vs) if vs else None),
    "predict_linear": (1, lambda d, t, ts, vs: _predicted(d, *_regression(ts, vs, _ms(t))) if len(vs) > 1 else None),
}
KEEPS_NAME = {"last_over_time"}
# Range functions of a counter's differences only (and of where its samples sit): a counter
# rising by the same step gives them the same result wherever its window is (changes and resets
# count the samples that differ from, or fall below, the one before; present_over_time sees
# whether there is one). (rate and
# increase also look at the first sample's value, but only to stop extrapolating below
# zero, which a counter past its first step never reaches within a scrape of the window.)
OF_DIFFERENCES = {"rate", "increase", "delta", "irate", "idelta", "count_over_time", "present_over_time", "changes",
                  "resets"}

ELEMENT_FUNCTIONS = {
    "abs": abs, "ceil": math.ceil, "floor": math.floor, "exp": math.exp, "sqrt": math.sqrt,
    "ln": math.log, "log2": math.log2, "log10": math.log10,
    "sgn": lambda v: -1.0 if v < 0 else 1.0 if v > 0 else v,  # (NaN and a zero's sign kept, as Go's)
    "deg": lambda v: v * 180 / math.pi, "rad": lambda v: v * math.pi / 180,
}


def _safe(f, v):
    """``f(v)`` as Go's math gives it where Python's raises: an infinity where the result
    overflows or its argument is one (exp, ceil, floor), -Inf for the logarithm of 0, else NaN."""
    try:
        return float(f(v))
    except OverflowError:
        return math.copysign(math.inf, v)
    except ValueError:
        return -math.inf if v == 0 else math.nan


def _predicted(duration, slope, intercept):
    return slope * duration + intercept


def _round(v, inverse):
    """Prometheus's round: to the nearest multiple of 1 / ``inverse``, ties up."""
    return _div(_safe(math.floor, v * inverse + 0.5), inverse)


# -- the calendar (Go's time package, as Prometheus's dateWrapper reads a time) --

_ABSOLUTE_ZERO_YEAR = -292277022399  # Go's absolute time counts seconds from this year's first day
_UNIX_TO_ABSOLUTE = (1969 * 365 + 1969 // 4 - 1969 // 100 + 1969 // 400) * 86400 \
    - (_ABSOLUTE_ZERO_YEAR - 1) * 3652425 * 86400 // 10000
_DAYS_BEFORE = (0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365)


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


@functools.lru_cache(maxsize=1024)
def _calendar(seconds: int) -> dict:
    """Go's ``time.Unix(seconds, 0).UTC()``, field by field as Go's absDate works them out (its
    unsigned arithmetic wraps where a time is past what it holds, as for a NaN's seconds)."""
    absolute = (seconds + _UNIX_TO_ABSOLUTE) % 2**64
    d = absolute // 86400
    n = d // 146097
    y, d = 400 * n, d - 146097 * n
    n = d // 36524
    n -= n >> 2
    y, d = y + 100 * n, d - 36524 * n
    n = d // 1461
    y, d = y + 4 * n, d - 1461 * n
    n = d // 365
    n -= n >> 2
    y, d = y + n, d - 365 * n
    year = y + _ABSOLUTE_ZERO_YEAR
    day = d
    if _leap(year) and day == 31 + 29 - 1:
        month, day = 2, 29
    else:
        if _leap(year) and day > 31 + 29 - 1:
            day -= 1
        month = day // 31
        if day >= _DAYS_BEFORE[month + 1]:
            month += 1
        day, month = day - _DAYS_BEFORE[month] + 1, month + 1
    days = _DAYS_BEFORE[month] - _DAYS_BEFORE[month - 1] + (month == 2 and _leap(year))
    return {"year": year, "month": month, "day_of_month": day, "day_of_year": d + 1, "days_in_month": days,
            "hour": absolute % 86400 // 3600, "minute": absolute % 3600 // 60,
            "day_of_week": (absolute + 86400) % 2**64 % 604800 // 86400}  # (the absolute year began on a Monday)


def _go_int64(v: float) -> int:
    """Go's ``int64(v)`` on amd64: toward zero; a NaN, an infinity or a value out of range is the
    least int64 (what the processor's conversion gives)."""
    if v != v or not -2.0**63 <= v < 2.0**63:  # noqa: PLR0124 (NaN)
        return -2**63
    return int(v)


def _go_seconds(ms: int) -> int:
    """Go's ``ms / 1000`` of int64s: toward zero."""
    return ms // 1000 if ms >= 0 else -(-ms // 1000)


def _date(name: str, seconds: int) -> float:
    return float(_calendar(seconds)[name])


def _sorter(descending):
    """vector -> sorted by value, NaN last (Python's sort is stable where Go's may swap ties)."""
    sign = -1 if descending else 1
    return lambda vector: sorted(vector, key=lambda e: (e[1] != e[1], sign * e[1]))


def go_expand(template: str, pattern, match) -> str:
    """Go's Regexp.ExpandString: ``$1``, ``${1}``, ``$name``, ``${name}`` and ``$$`` replaced
    from the match (a name is the longest run of letters, digits and ``_``: ``$1x`` is the
    group named ``1x``); a group that did not take part, or is not there, is empty; a ``$``
    followed by no name is itself."""
    out, rest = [], template
    while "$" in rest:
        before, _, rest = rest.partition("$")
        out.append(before)
        if rest.startswith("$"):
            out.append("$")
            rest = rest[1:]
            continue
        found = _GO_NAME.match(rest)
        if found is None:
            out.append("$")
            continue
        name = found[1] or found[2]
        rest = rest[found.end():]
        if name.isdigit() and name.isascii():
            number = int(name) if name[0] != "0" or len(name) == 1 else -1
            if 0 <= number <= pattern.groups:
                out.append(match.group(number) or "")
        elif name in pattern.groupindex:
            out.append(match.group(name) or "")
    out.append(rest)
    return "".join(out)


_GO_NAME = re.compile(r"\{(\w+)\}|(\w+)")


def _label_replace(dst, replacement, src, regex):
    """labels key -> label_replace's labels for it (Prometheus 2.42: the regex anchored at both ends)."""
    pattern = re.compile(f"(?:{regex})")

    def relabel(key):
        labels = dict(key)
        match = pattern.fullmatch(labels.get(src, ""))
        if match is None:
            return key
        labels.pop(dst, None)
        value = go_expand(replacement, pattern, match)
        if value:
            labels[dst] = value
        return tuple(sorted(labels.items()))
    return relabel


def _label_join(dst, separator, *sources):
    """labels key -> label_join's labels for it: the sources' values joined (none: ``dst`` removed)."""
    def relabel(key):
        labels = dict(key)
        value = separator.join(labels.get(name, "") for name in sources)
        labels.pop(dst, None)
        if value:
            labels[dst] = value
        return tuple(sorted(labels.items()))
    return relabel


def _relabelled(relabel):
    """vector -> its elements relabelled; two elements with the same labels fail the evaluation."""
    def apply(vector):
        out = [(relabel(key), value) for key, value in vector]
        if len({key for key, _ in out}) < len(out):
            raise EvalError("vector cannot contain metrics with the same labelset")
        return out
    return apply


# -- binary operators (promql/engine.go) --

def _div(a, b):
    if b == 0:
        if a == 0 or math.isnan(a):
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)
    return a / b


def _mod(a, b):
    if b == 0 or math.isinf(a) or math.isnan(a) or math.isnan(b):
        return math.nan
    return math.fmod(a, b)


def _pow(a, b):
    try:
        return math.pow(a, b)
    except (ValueError, OverflowError):
        return math.nan if a < 0 else math.inf
    except ZeroDivisionError:
        return math.inf


ARITHMETIC = {"+": operator.add, "-": operator.sub, "*": operator.mul,
              "/": _div, "%": _mod, "^": _pow, "atan2": math.atan2}
# speed: C division, which raises just where _div's rules for a zero divisor apply (then _div)
UNCHECKED = {"/": operator.truediv}
# shouldDropMetricName: atan2 keeps the metric name in Prometheus 2.42 (checked with promtool)
DROPS_NAME = {"+", "-", "*", "/", "%", "^"}
COMPARISON = {"==": operator.eq, "!=": operator.ne, ">": operator.gt,  # (C functions: a call per element adds up)
              "<": operator.lt, ">=": operator.ge, "<=": operator.le}
SET_OPS = ("and", "or", "unless")
# speed: ``vector OP scalar`` as a filter keeping the very elements whose value compares true, the
# comparison inline (a call per element adds up)
FILTERS = {"==": lambda vector, s: [e for e in vector if e[1] == s], "!=": lambda vector, s: [e for e in vector if e[1] != s],
           ">": lambda vector, s: [e for e in vector if e[1] > s], "<": lambda vector, s: [e for e in vector if e[1] < s],
           ">=": lambda vector, s: [e for e in vector if e[1] >= s], "<=": lambda vector, s: [e for e in vector if e[1] <= s]}


def _signature(matching):
    """Labels key -> the part of it two vectors are matched on."""
    if matching is None:
        return drop_name
    names = set(matching.labels)
    if str(matching.type).endswith("Include"):
        return _memo(lambda key: tuple(p for p in key if p[0] in names))
    names.add(NAME)
    return _memo(lambda key: tuple(p for p in key if p[0] not in names))


def _result_key(lkey, rkey, op, modifier, bool_):
    """Prometheus's resultMetric: the labels of one output element of a vector-vector operation."""
    labels = dict(lkey)
    if op in DROPS_NAME or bool_:
        labels.pop(NAME, None)
    card = str(modifier.card).split(".")[-1] if modifier else "OneToOne"
    matching = modifier.matching if modifier else None
    if card == "OneToOne" and matching is not None:
        if str(matching.type).endswith("Include"):
            labels = {k: v for k, v in labels.items() if k in matching.labels}
        else:
            for name in matching.labels:
                labels.pop(name, None)
    elif card in ("ManyToOne", "OneToMany") and modifier.group_labels:
        right = dict(rkey)
        for name in modifier.group_labels:
            if right.get(name, ""):
                labels[name] = right[name]
            else:
                labels.pop(name, None)
    return tuple(sorted(labels.items()))


_MANY = "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)"


def _vector_combiner(op, modifier, bool_):
    """(lhs, rhs) -> the vector-vector operation (its matching, and each output element's
    labels, worked out again only when the two sides' keys change)."""
    sig = _signature(modifier.matching if modifier else None)
    card = str(modifier.card).split(".")[-1] if modifier else "OneToOne"
    if op in SET_OPS:
        def set_op(lhs, rhs):
            if op == "or":
                left = {sig(k) for k, _ in lhs}
                return lhs + [(k, v) for k, v in rhs if sig(k) not in left]
            right = {sig(k) for k, _ in rhs}
            return [(k, v) for k, v in lhs if (sig(k) in right) == (op == "and")]
        return set_op
    swap = card == "OneToMany"
    compare, arithmetic = COMPARISON.get(op), ARITHMETIC.get(op)
    unchecked = UNCHECKED.get(op, arithmetic)
    ratio = unchecked is operator.truediv  # the commonest (a ratio), worked inline: no call per pair
    result_key = functools.cache(lambda lkey, rkey: _result_key(lkey, rkey, op, modifier, bool_))

    def matched(lkeys, rkeys):
        """The elements that pair up, in output order: (index of the left one, of the right one,
        output labels, what must be unique among the pairs kept); and whether all those are."""
        if swap:
            lkeys, rkeys = rkeys, lkeys
        one = {}
        for j, key in enumerate(rkeys):
            s = sig(key)
            if s in one:
                raise EvalError("found duplicate series for the match group on the right hand-side of the operation")
            one[s] = j
        pairs = []
        for i, key in enumerate(lkeys):
            s = sig(key)
            j = one.get(s)
            if j is not None:
                out_key = result_key(key, rkeys[j])
                unique = s if card == "OneToOne" else out_key
                pairs.append((j, i, out_key, unique) if swap else (i, j, out_key, unique))
        return pairs, len({unique for _, _, _, unique in pairs}) == len(pairs)

    last = [None]  # speed: the last call's keys and their match, as an evaluation meets the same ones again

    def match(lkeys, rkeys):
        """``matched`` of these keys, the output's keys too, remembered (the very lists again, or
        equal ones, give the very lists again: speed)."""
        known = last[0]
        if (known is None or (known[0] is not lkeys and known[0] != lkeys)
                or (known[1] is not rkeys and known[1] != rkeys)):
            pairs, distinct = matched(lkeys, rkeys)
            known = last[0] = (lkeys, rkeys, pairs, distinct, [out_key for _, _, out_key, _ in pairs])
        return known

    def columns(lkeys, lvals, rkeys, rvals):
        """The operation, every pair kept (arithmetic, or a comparison with ``bool``), on two vectors
        as keys and values: the output's keys and values."""
        _, _, pairs, distinct, keys = match(lkeys, rkeys)
        if not distinct:
            raise EvalError(_MANY)
        if compare is not None:
            return keys, [1.0 if compare(lvals[i], rvals[j]) else 0.0 for i, j, _, _ in pairs]
        try:
            if ratio:
                return keys, [lvals[i] / rvals[j] for i, j, _, _ in pairs]
            return keys, [unchecked(lvals[i], rvals[j]) for i, j, _, _ in pairs]
        except ZeroDivisionError:
            return keys, [arithmetic(lvals[i], rvals[j]) for i, j, _, _ in pairs]

    def combine(lhs, rhs):
        (lkeys, lvals), (rkeys, rvals) = zip(*lhs) if lhs else ((), ()), zip(*rhs) if rhs else ((), ())
        if compare is None or bool_:  # every pair is kept
            return list(zip(*columns(lkeys, lvals, rkeys, rvals)))
        _, _, pairs, distinct, _ = match(lkeys, rkeys)
        if distinct:
            return [(out_key, lvals[i]) for i, j, out_key, _ in pairs if compare(lvals[i], rvals[j])]
        out, seen = [], set()
        for i, j, out_key, unique in pairs:
            if compare(lvals[i], rvals[j]):
                if unique in seen:
                    raise EvalError(_MANY)
                seen.add(unique)
                out.append((out_key, lvals[i]))
        return out
    if compare is None or bool_:
        combine.columns = columns
    return combine


def _scalar_binop(op, vector, scalar, swap, bool_):
    compare = COMPARISON.get(op)
    out = []
    for key, value in vector:
        a, b = (scalar, value) if swap else (value, scalar)
        if compare is not None:
            keep = compare(a, b)
            result = value
            if bool_:
                result, keep = (1.0 if keep else 0.0), True
            if not keep:
                continue
        else:
            result = ARITHMETIC[op](a, b)
        out.append((drop_name(key) if op in DROPS_NAME or bool_ else key, result))
    return out


# -- aggregation --

def _grouping(modifier):
    """Labels key -> its group's key, for an aggregation's ``by``/``without``."""
    if modifier is None:
        return lambda key: ()
    if str(modifier.type).endswith("By"):
        names = set(modifier.labels)
        return _memo(lambda key: tuple(p for p in key if p[0] in names))
    names = set(modifier.labels) | {NAME}
    return _memo(lambda key: tuple(p for p in key if p[0] not in names))


def _aggregator(op, group_of):
    """vector -> its aggregation by ``op`` over the groups of ``group_of``."""
    if op in ("stddev", "stdvar"):
        return lambda vector: _spread(vector, group_of, op == "stddev")
    if op != "sum":
        return lambda vector: _aggregate(op, vector, group_of)

    def total(vector):  # in order, from the first value, as Prometheus sums
        groups = {}
        for key, value in vector:
            g = group_of(key)
            groups[g] = groups[g] + value if g in groups else value
        return list(groups.items())
    return total


def _aggregate(op, vector, group_of):
    """``_aggregator`` of every operation but ``sum``."""
    groups: dict[tuple, list] = {}
    for key, value in vector:
        g = group_of(key)
        acc = groups.get(g)
        if acc is None:
            groups[g] = [value, 1.0, value]  # value, count, mean
            continue
        acc[1] += 1
        if op == "max":
            if acc[0] < value or math.isnan(acc[0]):
                acc[0] = value
        elif op == "min":
            if acc[0] > value or math.isnan(acc[0]):
                acc[0] = value
        elif op == "avg":
            mean = acc[2]
            if math.isinf(mean) and (math.isinf(value) and (mean > 0) == (value > 0) or not (math.isinf(value) or math.isnan(value))):
                continue
            acc[2] = mean + (value / acc[1] - mean / acc[1])  # Go's mean += v/n - mean/n
    pick = {"max": 0, "min": 0, "count": 1, "avg": 2, "group": None}[op]
    return [(g, 1.0 if pick is None else acc[pick]) for g, acc in groups.items()]


def _spread(vector, group_of, root):
    """stdvar (``root``: stddev) by group: Welford's running mean and sum of squares, uncompensated
    (Prometheus's aggregation, unlike its stdvar_over_time)."""
    groups: dict[tuple, list] = {}
    for key, value in vector:
        g = group_of(key)
        acc = groups.get(g)
        if acc is None:
            groups[g] = [0.0, 1.0, value]  # sum of squares, count, mean
            continue
        acc[1] += 1
        delta = value - acc[2]
        acc[2] += delta / acc[1]
        acc[0] += delta * (value - acc[2])
    return [(g, math.sqrt(acc[0] / acc[1]) if root else acc[0] / acc[1]) for g, acc in groups.items()]


def _quantiles(q, vector, group_of):
    groups: dict[tuple, list] = {}
    for key, value in vector:
        groups.setdefault(group_of(key), []).append(value)
    return [(g, _quantile(q, values)) for g, values in groups.items()]


def _heap_up(heap, j, less):
    while j > 0:
        i = (j - 1) // 2
        if not less(heap[j][1], heap[i][1]):
            break
        heap[i], heap[j] = heap[j], heap[i]
        j = i


def _heap_down(heap, i, n, less):
    while 2 * i + 1 < n:
        j = 2 * i + 1
        if j + 1 < n and less(heap[j + 1][1], heap[j][1]):
            j += 1
        if not less(heap[j][1], heap[i][1]):
            break
        heap[i], heap[j] = heap[j], heap[i]
        i = j


def _top(bottom):
    """(k, vector, group_of) -> topk (``bottom``: bottomk): each group's k elements kept in a heap,
    step by step as Go's container/heap keeps Prometheus's (which element a tie keeps depends on
    it), then each group's sorted as Go's insertion sort leaves them (greatest first for topk)."""
    def less(a, b):  # vectorByValueHeap's Less (vectorByReverseValueHeap's for bottomk)
        return a != a or (a > b if bottom else a < b)  # noqa: PLR0124 (NaN)

    def aggregate(k_value, vector, group_of):
        if not -2.0**63 <= k_value <= 2.0**63:  # (NaN too)
            raise EvalError(f"Scalar value {go_float(k_value)} overflows int64")  # (Go's %v)
        k = _go_int64(k_value)
        if k < 1:
            return []
        heaps: dict[tuple, list] = {}
        for element in vector:
            g = group_of(element[0])
            heap = heaps.get(g)
            if heap is None:
                heaps[g] = [element]
            elif len(heap) < k or less(heap[0][1], element[1]):
                if len(heap) == k:
                    if k == 1:
                        heap[0] = element
                        continue
                    heap[0], heap[-1] = heap[-1], heap[0]  # heap.Pop
                    _heap_down(heap, 0, len(heap) - 1, less)
                    heap.pop()
                heap.append(element)  # heap.Push
                _heap_up(heap, len(heap) - 1, less)
        out = []
        for heap in heaps.values():
            for i in range(1, len(heap)):  # sort.Sort(sort.Reverse(heap)): Less(j, j-1) is less(heap[j-1], heap[j])
                j = i
                while j > 0 and less(heap[j - 1][1], heap[j][1]):
                    heap[j], heap[j - 1] = heap[j - 1], heap[j]
                    j -= 1
            out.extend(heap)  # (Go sorts more than 12 otherwise: an order of ties alone may differ)
        return out
    return aggregate


PARAMETRIC = {"topk": _top(False), "bottomk": _top(True), "quantile": _quantiles}


def _go_fixed(v: float) -> str:
    """Go's ``strconv.FormatFloat(v, 'f', -1, 64)``: the shortest digits that read back as ``v``,
    never with an exponent."""
    if v != v:  # noqa: PLR0124 (NaN)
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    return format(decimal.Decimal(repr(v)).normalize(), "f")


def _count_values(label: str, modifier):
    """vector -> count_values(``label``, ...): how many elements have each value (the value, as Go
    prints it, in ``label``), by the groups of ``modifier``, the label a ``by`` label too."""
    if modifier is not None and not str(modifier.type).endswith("By"):
        group_of = _grouping(modifier)
    else:
        names = {label, *(modifier.labels if modifier is not None else ())}
        group_of = _memo(lambda key: tuple(p for p in key if p[0] in names))

    def count(vector):
        groups: dict[tuple, float] = {}
        for key, value in vector:
            labels = dict(key)
            labels[label] = _go_fixed(value)
            g = group_of(tuple(sorted(labels.items())))
            groups[g] = groups.get(g, 0.0) + 1
        return list(groups.items())
    return count


# -- histogram_quantile (promql/quantile.go) --

def _bucket_quantile(q, buckets):
    if math.isnan(q):
        return math.nan
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    buckets.sort(key=lambda b: b[0])
    if not math.isinf(buckets[-1][0]):
        return math.nan
    merged = []
    for bound, count in buckets:
        if merged and merged[-1][0] == bound:
            merged[-1][1] += count
        else:
            merged.append([bound, count])
    top = merged[0][1]
    for b in merged:
        if b[1] > top:
            top = b[1]
        elif b[1] < top:
            b[1] = top
    if len(merged) < 2:
        return math.nan
    observations = merged[-1][1]
    if observations == 0:
        return math.nan
    rank = q * observations
    b = next((i for i in range(len(merged) - 1) if merged[i][1] >= rank), len(merged) - 1)
    if b == len(merged) - 1:
        return merged[-2][0]
    if b == 0 and merged[0][0] <= 0:
        return merged[0][0]
    start, end, count = 0.0, merged[b][0], merged[b][1]
    if b > 0:
        start = merged[b - 1][0]
        count -= merged[b - 1][1]
        rank -= merged[b - 1][1]
    # Go's division: q = 0 over an empty first bucket is 0 / 0, NaN (Python's would raise)
    return start + (end - start) * _div(rank, count)


@functools.cache
def _bucket_of(key: tuple):
    """A bucket series' histogram (its labels without ``le`` and the name) and upper bound, or None."""
    labels = dict(key)
    try:
        bound = float(labels.pop("le").replace("+Inf", "inf"))
    except (KeyError, ValueError):
        return None
    labels.pop(NAME, None)
    return tuple(sorted(labels.items())), bound


def _histogram_quantile(q, vector):
    groups: dict[tuple, list] = {}
    for key, value in vector:
        bucket = _bucket_of(key)
        if bucket is not None:
            groups.setdefault(bucket[0], []).append((bucket[1], value))
    return [(g, _bucket_quantile(q, buckets)) for g, buckets in groups.items()]


# -- compiling --

def _op(node) -> str:
    return str(node.op)


def compile_expr(node, store, reads: list | None = None):
    """A function of the evaluation time: a list of ``(key, value)`` (a vector) or a float (a scalar).

    ``reads``, when given, gets one ``Read`` per selector: what the expression looks at."""
    return plan(node)(store, reads)


def plan(node):
    """``node`` made ready to evaluate against any store: a function of a store (and of a list for
    ``reads``, or None) giving ``compile_expr``'s function of the evaluation time.

    Speed: what the expression alone decides (its operators, matchers, label matching) is
    worked out here, once for the drills of a scenario, which share their rules' plans; a
    drill binds a plan to its own series."""
    kind = type(node).__name__
    if kind == "ParenExpr":
        return plan(node.expr)
    if kind == "NumberLiteral":
        value = node.val
        return lambda store, reads: lambda t: value
    if kind == "UnaryExpr":
        return _then(plan(node.expr), _negate)
    if kind == "VectorSelector":
        return _plan_instant(node)
    if kind == "Call":
        return _plan_call(node)
    if kind == "AggregateExpr":
        inner = node.expr
        while type(inner).__name__ == "ParenExpr":
            inner = inner.expr
        if _op(node) == "sum" and type(inner).__name__ == "Call" and inner.func.name in RANGE_FUNCTIONS:
            return _plan_range(inner.func.name, inner.args[0], _grouping(node.modifier))
        op = _op(node)
        if op == "count_values":
            return _then(plan(node.expr), _count_values(node.param.val, node.modifier))
        if op in PARAMETRIC:
            param, inner, aggregate = plan(node.param), plan(node.expr), PARAMETRIC[op]
            group_of = _grouping(node.modifier)

            def bind(store, reads):
                p, f = param(store, reads), inner(store, reads)
                return lambda t: aggregate(p(t), f(t), group_of)
            return bind
        return _then(plan(node.expr), _aggregator(op, _grouping(node.modifier)))
    if kind == "BinaryExpr":
        return _plan_binary(node)
    raise ValueError(f"not an expression drillsim evaluates: {node}")  # the loader refused it already


def _then(inner, after):
    """A plan giving ``after`` of what ``inner``'s function gives."""
    def bind(store, reads):
        f = inner(store, reads)
        return lambda t: after(f(t))
    return bind


def _select(store, reads, matches, name, offset: float, rng: float | None = None, differences: bool = False):
    """A selector's ``_Selected`` series, noted in ``reads`` (None: nobody asks what is read)."""
    sel = _Selected(store, matches, name, offset)
    if reads is not None:
        reads.append(Read(sel, rng, differences))
    return sel


def _plan_instant(vs, stamps: bool = False):
    """An instant selector; ``stamps``: each sample's time in seconds (from whole milliseconds, as
    Prometheus holds it) instead of its value."""
    matches, name, offset = selector_matches(vs), vs.name, _offset(vs)

    def bind(store, reads):
        sel = _select(store, reads, matches, name, offset)

        return lambda t: _latest_samples(sel, store, t - offset, stamps)
    return bind


def _latest_samples(sel: _Selected, store, ref: float, stamps: bool) -> list:
    """An instant selector's samples at ``ref``: (labels key, value, or its time with ``stamps``)."""
    out, times, i = [], None, -1
    for series in sel.filled():
        if series.times is not times:  # speed: one search for series that share their times
            times, i = series.times, series.latest(ref)
        v = series.values[i] if i >= 0 else None
        if v is not None:
            out.append((series.key, _unix(store, series.times[i]) if stamps else v))
    return out


def _offset(vs) -> float:
    return vs.offset.total_seconds() if vs.offset else 0.0


def _negate(value):
    if isinstance(value, float):
        return -value
    return [(drop_name(k), -v) for k, v in value]


def _plan_binary(node):
    op, modifier = _op(node), node.modifier
    bool_ = bool(modifier and modifier.return_bool)
    lhs, rhs = plan(node.lhs), plan(node.rhs)
    lscalar, rscalar = _is_scalar(node.lhs), _is_scalar(node.rhs)
    if lscalar and rscalar:
        compare = COMPARISON.get(op)
        combine = (lambda a, b: 1.0 if compare(a, b) else 0.0) if compare else ARITHMETIC[op]
    elif rscalar:
        combine = _scalar_combiner(op, False, bool_)
    elif lscalar:
        vector_first = _scalar_combiner(op, True, bool_)

        def bind(store, reads):
            left, right = lhs(store, reads), rhs(store, reads)
            return lambda t: vector_first(right(t), left(t))
        return bind
    else:
        combine = _vector_combiner(op, modifier, bool_)

    def bind(store, reads):
        left, right = lhs(store, reads), rhs(store, reads)
        evaluate = lambda t: combine(left(t), right(t))
        if hasattr(combine, "columns") and hasattr(left, "columns") and hasattr(right, "columns"):
            # speed: both sides and the operation also work on keys and values apart, with no pairs made
            keys_values, left_columns, right_columns = combine.columns, left.columns, right.columns
            evaluate.columns = lambda t: keys_values(*left_columns(t), *right_columns(t))
        return evaluate
    return bind


def _scalar_combiner(op, swap, bool_):
    """(vector, scalar) -> the vector ``op`` the scalar (the scalar ``op`` the vector when ``swap``)."""
    if op in FILTERS and not bool_ and not swap:  # the common ``expr > threshold``
        return FILTERS[op]
    return lambda vector, scalar: _scalar_binop(op, vector, scalar, swap, bool_)


def _is_scalar(node) -> bool:
    kind = type(node).__name__
    if kind == "ParenExpr":
        return _is_scalar(node.expr)
    if kind == "UnaryExpr":
        return _is_scalar(node.expr)
    if kind == "NumberLiteral":
        return True
    if kind == "BinaryExpr":
        return _is_scalar(node.lhs) and _is_scalar(node.rhs)
    if kind == "Call":
        return node.func.name in ("scalar", "time", "pi")
    return False


# Aggregations whose groups' values come from their own series alone (not topk's, quantile's: a parameter)
_GROUPWISE = ("sum", "avg", "min", "max", "count", "group", "stddev", "stdvar")
# Functions of their vector argument's elements one by one (with literal numbers for any other argument)
_ELEMENTWISE = ("clamp_min", "clamp_max", "clamp", "round", "histogram_quantile", *WITH_SCALAR)


def per_service(node) -> bool:
    """Whether every output series of ``node`` keeps the ``service`` label of the series it is worked
    out from, and is worked out from series of that service alone (every series it selects having
    one: ``_Selected.serviced``). Its output for a service then changes only where that service's
    series do, so an evaluation can work out the services whose series changed alone
    (``_Selected.only``) and keep the rest of the last result (``rules._PromRule``). Each step keeps
    the order of what it works on, so the services' outputs come in the order they would in the whole."""
    return not _is_scalar(node) and _service_wise(node)


def _literal(node) -> bool:
    return _is_scalar(node) and _service_wise(node)  # numbers and arithmetic of them


def _service_wise(node) -> bool:
    kind = type(node).__name__
    if kind in ("ParenExpr", "UnaryExpr"):
        return _service_wise(node.expr)
    if kind in ("NumberLiteral", "VectorSelector", "MatrixSelector"):
        return True
    if kind == "Call":
        name, args = node.func.name, node.args
        if name in RANGE_FUNCTIONS or name in ELEMENT_FUNCTIONS:
            return _service_wise(args[0])
        if name in _ELEMENTWISE:
            return sum(not _is_scalar(a) and _service_wise(a) for a in args) == 1 and all(
                _literal(a) for a in args if _is_scalar(a))
        return False
    if kind == "AggregateExpr":
        modifier = node.modifier
        return (_op(node) in _GROUPWISE and modifier is not None and _service_wise(node.expr)
                and ("service" in modifier.labels) == str(modifier.type).endswith("By"))
    if kind == "BinaryExpr":
        if not (_service_wise(node.lhs) and _service_wise(node.rhs)):
            return False
        modifier = node.modifier
        matching = modifier.matching if modifier and not (_is_scalar(node.lhs) or _is_scalar(node.rhs)) else None
        if matching is not None and ("service" in matching.labels) != str(matching.type).endswith("Include"):
            return False
        return not (modifier and modifier.group_labels and "service" in modifier.group_labels)
    return False


_UNKNOWN = object()


def _plan_call(node):
    name, args = node.func.name, node.args
    if name in RANGE_FUNCTIONS:
        return _plan_range(name, args[0])
    if name == "histogram_quantile":
        q, inner = plan(args[0]), plan(args[1])

        def bind(store, reads):
            qf, f = q(store, reads), inner(store, reads)
            return lambda t: _histogram_quantile(qf(t), f(t))
        return bind
    if name in ("clamp_min", "clamp_max", "clamp"):
        inner, bounds = plan(args[0]), [plan(a) for a in args[1:]]
        pick = max if name == "clamp_min" else min

        def bind(store, reads):
            f, limits_of = inner(store, reads), [b(store, reads) for b in bounds]

            def clamp(t):
                vector, limits = f(t), [b(t) for b in limits_of]
                if name == "clamp":
                    lo, hi = limits
                    if lo > hi:
                        return []
                    return [(drop_name(k), max(lo, min(hi, v)) if not math.isnan(v) else v) for k, v in vector]
                return [(drop_name(k), pick(v, limits[0]) if not math.isnan(v) else v) for k, v in vector]
            return clamp
        return bind
    if name in ("absent", "absent_over_time"):
        arg = args[0]
        key = _absent_key(arg.vector_selector if name == "absent_over_time" else arg)
        inner = _plan_range("present_over_time", arg) if name == "absent_over_time" else plan(arg)
        return _then(inner, lambda vector: [] if vector else [(key, 1.0)])
    if name in ELEMENT_FUNCTIONS:
        f = ELEMENT_FUNCTIONS[name]
        return _then(plan(args[0]), lambda vector: [(drop_name(k), _safe(f, v)) for k, v in vector])
    if name in WITH_SCALAR:
        at = WITH_SCALAR[name][0]
        return _plan_range(name, args[1 - at], param=plan(args[at]))
    if name == "round":
        inner, nearest = plan(args[0]), plan(args[1]) if len(args) > 1 else None

        def bind(store, reads):
            f, to = inner(store, reads), nearest(store, reads) if nearest else (lambda t: 1.0)

            def rounded(t):
                inverse = _div(1.0, to(t))
                return [(drop_name(k), _round(v, inverse)) for k, v in f(t)]
            return rounded
        return bind
    if name in ("sort", "sort_desc"):
        return _then(plan(args[0]), _sorter(name == "sort_desc"))
    if name in ("label_replace", "label_join"):
        relabel = (_label_replace if name == "label_replace" else _label_join)(*(a.val for a in args[1:]))
        return _then(plan(args[0]), _relabelled(_memo(relabel)))
    if name == "time":
        return lambda store, reads: lambda t: _unix(store, t)
    if name in DATE_FUNCTIONS:
        if not args:  # the evaluation's time, in whole seconds (Go's division: toward zero)
            return lambda store, reads: lambda t: [((), _date(name, _go_seconds(store.epoch_ms + _ms(t))))]
        return _then(plan(args[0]), lambda vector: [(drop_name(k), _date(name, _go_int64(v))) for k, v in vector])
    if name == "pi":
        return lambda store, reads: lambda t: math.pi
    if name == "timestamp":
        arg = args[0]
        while type(arg).__name__ == "ParenExpr":
            arg = arg.expr
        if type(arg).__name__ == "VectorSelector":  # the samples' own times (else the evaluation's)
            return _then(_plan_instant(arg, stamps=True), lambda vector: [(drop_name(k), v) for k, v in vector])
        inner = plan(arg)

        def bind(store, reads):
            f = inner(store, reads)
            return lambda t: [(drop_name(k), _unix(store, t)) for k, _ in f(t)]
        return bind
    if name == "vector":
        return _then(plan(args[0]), lambda value: [((), value)])
    if name == "scalar":
        return _then(plan(args[0]), lambda vector: vector[0][1] if len(vector) == 1 else math.nan)
    raise ValueError(f"function {name} is not evaluated by drillsim")  # the loader refused it already


def _absent_key(node) -> tuple:
    """Prometheus's createLabelsForAbsentFunction: the labels a selector's ``=`` matchers give, less
    any label another of its matchers names too."""
    labels, named = {}, set()
    if type(node).__name__ == "VectorSelector":
        for m in node.matchers.matchers:
            if m.name == NAME:
                continue
            if str(m.op).endswith("Equal") and not str(m.op).endswith("NotEqual") and m.name not in named:
                labels[m.name] = m.value
                named.add(m.name)
            else:
                labels.pop(m.name, None)
    return tuple(sorted(labels.items()))


def _group_sums(values: list, firsts: list, rest: list, leading: bool) -> list:
    """Each group's sum of these values (every one a number): its first series' (``firsts``, the
    first ones of all when ``leading``) plus the rest's, ``rest`` its (group, series) pairs in order,
    as ``sum`` adds them (typed where compiled: every evaluation of a sum over a range function)."""
    sums = values[:len(firsts)] if leading else [values[i] for i in firsts]
    for slot, i in rest:
        sums[slot] += values[i]
    return sums


def _plan_range(name, arg, group_of=None, param=None):
    """A range function of a matrix selector; with ``group_of``, the ``sum`` of its results by
    group in the same pass (as ``_aggregator`` sums: in order, from the first value); with
    ``param``, a plan of the scalar a ``WITH_SCALAR`` function takes."""
    vs = arg.vector_selector
    matches, offset, rng = selector_matches(vs), _offset(vs), arg.range.total_seconds()
    f = RANGE_FUNCTIONS[name] if param is None else WITH_SCALAR[name][1]
    keep, differences, extrapolated = name in KEEPS_NAME, name in OF_DIFFERENCES, EXTRAPOLATED.get(name)
    metric = vs.name

    def bind(store, reads):
        sel = _select(store, reads, matches, metric, offset, rng, differences)
        scalar = param(store, reads) if param is not None else None

        def results(t):
            """The selected series and their results at ``t`` (None: none), in the same order, and
            whether every one has a result (speed: no None to look for)."""
            end = t - offset
            start = end - rng
            selected, out, complete = _counters_extrapolated(sel, store, start, end, rng, extrapolated)
            if out is not None:
                return selected, out, complete
            spans, value, out = {}, None if scalar is None else scalar(t), []
            for series in selected:
                times = series.times
                found = spans.get(id(times))  # scraped series share their times: one search for all
                if found is None:
                    span = series.span(start, end)
                    # rules of one evaluation often ask for the same range of a series: ``ranges_at``
                    memo = store.ranges_at(t).setdefault((name, value, start, end, id(times), span), {})
                    found = spans[id(times)] = (*span, memo)
                v = found[2].get(id(series), _UNKNOWN)
                if v is _UNKNOWN:
                    ts, vs_ = series.window(found[0], found[1])
                    if not vs_:
                        v = None
                    elif scalar is None:
                        v = f(ts, vs_, start, end, rng)
                    else:
                        v = f(value, t, ts, vs_)
                    found[2][id(series)] = v
                out.append(v)
            return selected, out, None not in out

        def over_range(t):
            selected, values, complete = results(t)
            keys = [s.key for s in selected] if keep else sel.unnamed
            return list(zip(keys, values)) if complete else [(key, v) for key, v in zip(keys, values) if v is not None]

        # the selected series then, each one's group (an index), the groups' keys, each group's first
        # series (an index) and the (group, series) pairs of the rest, in order, and whether the
        # first series are the first of all, in order
        groups = [None, [], [], [], [], False]

        def summed_columns(t):
            """``summed`` as keys and values (the keys the very list of the last call while the
            groups are the same)."""
            selected, values, complete = results(t)
            if groups[0] is not selected:  # speed: each series' group looked up once, not its key hashed each time
                keys = [s.key for s in selected] if keep else sel.unnamed
                index, slots, firsts, rest = {}, [], [], []
                for i, key in enumerate(keys):
                    slot = index.setdefault(group_of(key), len(index))
                    slots.append(slot)
                    if slot == len(firsts):
                        firsts.append(i)
                    else:
                        rest.append((slot, i))
                groups[:] = selected, slots, list(index), firsts, rest, firsts == list(range(len(firsts)))
            _, slots, names, firsts, rest, leading = groups
            if complete:  # speed: every group has a value, its first series' plus the rest's in order
                return names, _group_sums(values, firsts, rest, leading)
            sums = {}
            for slot, v in zip(slots, values):
                if v is not None:
                    sums[slot] = sums[slot] + v if slot in sums else v
            return [names[slot] for slot in sums], list(sums.values())

        def summed(t):
            return list(zip(*summed_columns(t)))
        summed.columns = summed_columns
        return over_range if group_of is None else summed
    return bind


def parse(text: str):
    """Parse PromQL with promql-parser; its error message becomes a ``ValueError``'s."""
    return pp.parse(text)

