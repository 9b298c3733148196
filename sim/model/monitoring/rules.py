"""Alert rules, as Prometheus evaluates them: pending, firing after ``for``, kept for ``keep_firing_for``, resolved.

Two kinds of rule share one state machine. A scenario's shorthand alert
(``metric{service="x"} OP number``) reads the latest scrape of the world directly (the
fast path). A Prometheus rule (from ``drills/monitoring/*.yml`` or a scenario's
``rules:``) is PromQL over the scraped series: one alert per output series, labelled
with the series' labels, the rule's labels and ``alertname``; recording rules write
series later rules read. An alert that starts firing or resolves is handed to the
router (``notify``).
"""

import functools
import hashlib
import math
import operator
import re
from fractions import Fraction

import promql_parser

from ...inputs.config import AlertRule
from ...inputs.promrules import TEMPLATE, action
from ..eventlog import rounded
from ..memo import per_scenario
from .humanize import FUNCTIONS, go_float, go_printf, go_quote
from .promql import DATE_FUNCTIONS, EvalError, drop_name, label_matcher, parse, per_service, plan, selector_matches
from .series import LOOKBACK, Store

_OPS = {">": operator.gt, "<": operator.lt, ">=": operator.ge, "<=": operator.le, "==": operator.eq, "!=": operator.ne}
_SHORTHAND = re.compile(r"\{\{\s*\$(value|labels\.(\w+))\s*\}\}")
# Which of the world's metrics a series shows, to name the faults behind an alert.
_SHOWS = {"http_requests_total": ("error_rate", "request_rate"), "up": ("error_rate",),
          "http_request_duration_seconds_bucket": ("latency_p99_ms",),
          "http_request_duration_seconds_sum": ("latency_p99_ms",),
          "http_request_duration_seconds_count": ("request_rate",),
          "process_cpu_seconds_total": ("cpu",), "process_resident_memory_bytes": ("memory",)}
_ALL = ("error_rate", "latency_p99_ms", "request_rate", "cpu", "memory")


class Alert:
    def __init__(self, rule: AlertRule, labels: dict, fingerprint: str):
        self.rule, self.labels, self.fingerprint = rule, labels, fingerprint
        self.state = "inactive"  # inactive | pending | firing
        self.since = 0.0  # when it went pending, then when it fired (Alertmanager's startsAt)
        self.cause: list = []
        self.value = 0.0
        self.series: tuple | None = None  # a Prometheus rule's output series (labels key) at the last evaluation
        self.rendered: dict | None = None  # its annotations rendered from that series and value, once read (speed)
        self.keep_since: float | None = None  # when its condition stopped holding while keep_firing_for holds it

    @property
    def annotations(self) -> dict:
        if self.series is None:
            return {k: _render_shorthand(v, self.labels, self.value) for k, v in self.rule.annotations.items()}
        if self.rendered is None:
            # the drills of a scenario render the same series and values again (every drill alike
            # until it is bent): once for all of them, up to a bound
            known, at = _renderings(self.rule.annotations), (self.series, self.value)
            rendered = known.get(at)
            if rendered is None:
                if len(known) >= 4096:
                    known.clear()
                series = dict(self.series)
                rendered = known[at] = {k: render(v, series, self.value) for k, v in self.rule.annotations.items()}
            self.rendered = rendered
        return self.rendered

    def summary(self) -> str:
        if self.series is None:  # a shorthand alert's summary alone (speed: every transition logs it)
            template = self.rule.annotations.get("summary")
            return self.rule.name if template is None else _render_shorthand(template, self.labels, self.value)
        return self.annotations.get("summary", self.rule.name)

    def describe(self) -> dict:
        return {"alert": self.rule.name, "service": self.rule.service, "severity": self.rule.severity,
                "fingerprint": self.fingerprint, "cause": self.cause, "value": rounded(self.value, 6),
                "summary": self.summary()}


_renderings = per_scenario(256)(lambda annotations: {})  # a rule's annotations -> (series, value) -> rendered


def _render_shorthand(template: str, labels: dict, value: float) -> str:
    if "{{" not in template:  # nothing to fill (speed: most annotations, and no pattern search)
        return template

    def fill(match):
        if match[1] == "value":
            return f"{value:.4g}"
        return labels.get(match[2], "")
    return _SHORTHAND.sub(fill, template)


def render(template: str, labels: dict, value: float) -> str:
    """A Prometheus annotation or label template, with the actions the rule loader accepts."""
    def fill(match):
        kind, arg = action(match[1])
        if kind == "label":
            return labels.get(arg, "")
        if kind == "external":
            return ""  # the simulated Prometheus has no external labels
        if kind == "printf":
            return go_printf(arg, value)
        if kind == "printf text":
            return go_printf(arg[0], labels.get(arg[1], "") if arg[1] else "")
        if kind == "value":
            return go_float(value)
        return FUNCTIONS[kind](value)
    return TEMPLATE.sub(fill, template)


def _labelled(series: dict, labels: dict) -> dict:
    """A series' labels with a rule's labels set on them; a label set empty is removed."""
    out = dict(series)
    for name, text in labels.items():
        if text:
            out[name] = text
        else:
            out.pop(name, None)
    return out


def fingerprint(labels: dict) -> str:
    text = ",".join(f"{k}={labels[k]}" for k in sorted(labels))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def step(alert: Alert, holds: bool, now: float, for_s: float, keep_for: float) -> list[str]:
    """Prometheus's alert state machine at one evaluation; the transitions taken, in order.

    ``holds``: the alert's series is in the rule's output. Pending needs ``for`` to fire
    (pending and firing at once when it is 0); a firing alert whose series left the
    output keeps firing for ``keep_firing_for``.
    """
    if holds:
        alert.keep_since = None
        taken = []
        if alert.state == "inactive":
            alert.state, alert.since = "pending", now
            taken.append("pending")
        if alert.state == "pending" and now - alert.since >= for_s:
            alert.state, alert.since = "firing", now
            taken.append("firing")
        return taken
    if alert.state == "firing" and keep_for > 0:
        if alert.keep_since is None:
            alert.keep_since = now
        if now - alert.keep_since < keep_for:
            return []
    was = alert.state
    alert.state, alert.keep_since = "inactive", None
    return ["resolved"] if was == "firing" else []


@functools.lru_cache(maxsize=4096)
def _shape(expr: str) -> tuple:
    """An expression planned (``promql.plan``), its selectors' predicates and names, which of
    the world's metrics it shows (to name the faults behind an alert), whether it reads
    the clock (``CLOCK``), whether it chooses series by their values (``CHOOSE``) and whether it
    works each service out apart (``promql.per_service``); once per expression (speed)."""
    node = parse(expr)
    shows, selectors, names, clock, chooses = set(), [], [], [], []

    def visit(n):
        kind = type(n).__name__
        if kind == "Call" and (n.func.name in CLOCK or n.func.name in DATE_FUNCTIONS and not n.args):
            clock.append(n.func.name)
        if kind == "AggregateExpr" and str(n.op) in CHOOSE:
            chooses.append(n.op)
        if kind in ("VectorSelector", "MatrixSelector"):
            vs = n if kind == "VectorSelector" else n.vector_selector
            selectors.append(selector_matches(vs))
            names.append(vs.name)
            shows.update((vs.name,) if vs.name in _ALL else _SHOWS.get(vs.name, _ALL))
    promql_parser.walk(node, visit)
    return plan(node), selectors, names, sorted(shows), bool(clock), bool(chooses), per_service(node)


# Functions of the evaluation time or of the samples' own times, which no later evaluation repeats
# (and the date functions of no argument: the evaluation's time on the calendar)
CLOCK = ("time", "timestamp")
# Aggregations whose output series depend on the values: which series topk and bottomk keep
# (a tie broken by a value's last bit), the values count_values puts in a label
CHOOSE = ("topk", "bottomk", "count_values")


_FAILED = None  # an evaluation that failed: Prometheus leaves the rule's alerts as they were
# The fewest services in a drill for its rules to work out only the services that changed (``_apart``):
# below, its bookkeeping costs more than it saves (the example team rules, machine instructions a
# drill: 7 % more at 10 services, 6 % less at 20, a third less at 50; docs/performance.md)
APART_FROM = 16
_MISSING = object()
_EPS = 1e-6  # seconds: window edges are sums of floats
INF = math.inf  # (compiled: a C double, not a look-up of math's)


def _deadline(alerts) -> float:
    """The first ``for`` or ``keep_firing_for`` deadline among these alerts (inf: none)."""
    until = INF
    for alert in alerts:
        if alert.state == "pending":
            until = min(until, alert.since + alert.rule.for_s)
        if alert.keep_since is not None:
            until = min(until, alert.keep_since + alert.rule.keep_firing_for_s)
    return until


@functools.lru_cache(maxsize=4096)
def _shows_value(templates: tuple) -> bool:
    """Whether a template among these renders the value (once per rule's templates: speed)."""
    return any(action(m[1])[0] not in ("label", "external", "printf text")
               for text in templates for m in TEMPLATE.finditer(text))


class _PromRule:
    """One Prometheus rule compiled against the drill's series, with its alerts by fingerprint.

    Its result at an evaluation is the result of the evaluation a ``period`` (``phases``
    evaluations) before when no window it read since holds a mark of a series it selects:
    every sample it sees then repeats one it saw (a counter's differences repeat, and
    ``Read.differences`` says the counter is seen only through them).
    """

    def __init__(self, rule, store: Store, every: float = 0.0, phases: int = 0):
        self.rule, self.store = rule, store
        self.recording = rule.kind == "record"  # (speed: looked at in every evaluation loop)
        planned, self.selectors, self.names, self.shows, self.clock, chooses, apart = _shape(rule.expr)
        self.reads = []
        self.query = planned(store, self.reads)
        self._columns = getattr(self.query, "columns", None)  # the query as keys and values, when it has that form
        for read in self.reads:
            read.selected.readers.append(self)
        self.alerts: dict[str, Alert] = {}
        # no phases: evaluated afresh every time. So is a recording rule whose window ends after its
        # tick (a negative offset): the ticks the engine skips are recorded later (Rules._replay),
        # when that window would hold samples scraped after the tick, which it did not hold then.
        # And so is a rule that reads the clock
        if self.clock or (self.recording and any(read.selected.offset < 0 for read in self.reads)):
            phases = 0
        self.every, self.phases = every, phases
        # whether an evaluation may work out the services whose series changed alone, keeping the
        # last result's series of the rest (``_apart``): one phase (that result is the one they
        # repeat), and the rule's labels leave each series' service as it is
        self.apart = apart and phases == 1 and "service" not in rule.labels and len(store.services) >= APART_FROM
        # _apart's last result: (it, the result before it, the services it worked out, the rest, what it
        # worked out of them, and the series of them the result before gave that it no longer gives)
        self.parted: tuple | None = None
        if self.apart:
            for read in self.reads:
                read.selected.services = {}
        self.results: dict[int, object] = {}  # phase -> the result its evaluations there repeat
        self.checked: float | None = None  # the evaluation time its windows were last looked at
        self.applied = _MISSING  # the result its alerts last took
        self.before: dict[int, dict] = {}  # a recording rule: phase -> what it recorded a period ago
        # speed: quiet_until's answer and the store's version then (-1: none); the version and the last
        # look then, _clear_until and the read that gave it (-1: none); the version then and whether
        # every series it read was calm (-1: none). Numbers, not tuples: compiled, they are C fields
        self._quiet_version, self._quiet_at = -1, -INF
        self._clear_version, self._clear_checked, self._clear_at, self._clear_read = -1, 0.0, 0.0, None
        self._calm_version, self._calm_reads = -1, False
        self.asleep: list = [None]  # its group's (store version, when its first alerting rule wakes), shared
        self.calm: dict | None = None  # tick -> result, shared by the drills that start alike (_calm)
        self.early: dict | None = None  # and by the drills whose world is still the scenario's alone (_calm)
        self.was_calm = False  # whether every series it read at its last evaluation was calm
        # Prometheus renders an alerting rule's labels; a recording rule's are set as written
        templated = () if self.recording else tuple(rule.labels.values())
        # (a value's last bit can decide which series topk keeps, or be count_values' label: shown as $value is)
        self.shows_value = chooses or _shows_value((*templated, *rule.annotations.values()))
        # speed: an output series' labels (and fingerprint), kept when no label shows the value
        # (a recorded series' name is the same tuple in every drill of the scenario: the store, given
        # the output of another drill's evaluation they share, compares its keys by identity)
        self.named: dict | None = (_recorded_names(rule) if self.recording else
                                   None if _shows_value(templated) else {})
        self._keys: tuple | list | None = None  # the output's labels keys at the last evaluation, and without the name
        self._dropped: list = []
        # those keys without the name, a recording rule's series for them, and a dict of those series (no values)
        self._names: tuple = (None, [], {})

    def output(self, now: float) -> tuple[list, tuple]:
        """The rule's result at ``now``: its series' labels keys (name dropped) and their values.
        Speed: the keys are the very list of the last evaluation while the series are the same."""
        if self._columns is not None:  # speed: keys and values as the query works them out
            keys, values = self._columns(now)
        else:
            result = self.query(now)
            if isinstance(result, float):
                return [()], [result]
            keys, values = zip(*result) if result else ((), ())  # (speed: no loop in Python)
        if keys is not self._keys and keys != self._keys:
            dropped = [drop_name(key) for key in keys]
            if len(set(dropped)) < len(dropped):
                raise EvalError("vector contains metrics with the same labelset after applying rule labels")
            self._keys, self._dropped = keys, dropped
        return self._dropped, values

    def result(self, now: float) -> tuple[object, int | None]:
        """The evaluation at ``now`` and its phase: a recording rule's series (labels key -> value),
        an alerting rule's alerts (fingerprint -> labels, value, output series), or ``_FAILED``."""
        if not self.phases:
            self.was_calm = False
            return self._evaluate(now), None
        at, every, phases = now, self.every, self.phases  # (compiled, C numbers: no float made for each sum)
        tick = _nearest(at / every)
        phase = tick % phases
        if self.quiet_until(now) > at + _EPS:
            self.checked = now  # nothing to look at: its windows hold no mark till then
            return self.results[phase], phase
        last, since = (self.results.get(0, _MISSING), self.checked) if self.apart else (None, None)  # (one phase)
        if self._marked(now):
            self.results.clear()
        self.checked, self._quiet_version = now, -1
        self.was_calm = self._reads_calm()
        result = self.results.get(phase, _MISSING)
        if result is _MISSING or not self._repeats():
            calm = self.calm if self.was_calm else self.early
            shared = None if calm is None else calm.get(tick)
            if shared is None:
                # (apart where drills share results too: until they part, they share their last results)
                result = self._apart(now, since, last) if self.apart else self._evaluate(now)
                if calm is not None:
                    # with what it changed from the result before, where it was worked out apart: a drill
                    # that shares both writes what changed alone, as the drill that worked it out did
                    parted = self.parted
                    calm[tick] = (result, parted if parted is not None and parted[0] is result else None)
            else:
                result, parted = shared
                if parted is not None:
                    self.parted = parted
            self.results[phase] = result
        return result, phase

    def _apart(self, now: float, since: float | None, last):
        """``_evaluate``, working out only the services whose series a window after the last look
        (at ``since``) meets a mark of (and, where ``_repeats`` wants fresh values, those with an
        output series or an alert under way), and keeping ``last``'s series (the last result) of the rest,
        which repeat them (``promql.per_service``). The services worked out come after the rest."""
        if since is None or last is _MISSING or last is _FAILED:
            return self._evaluate(now)
        changed, at = set(), now  # (compiled, a double: no float made for each sum)
        for read in self.reads:
            sel = read.selected
            sel.current()
            if not sel.serviced or (sel.rising and not read.differences):
                return self._evaluate(now)  # a series of no service, or values that never repeat
            start, offset = self._window_start(read, since), sel.offset
            until, marked, left = at + _EPS - offset, sel.services, []
            if sel.everyone.next_from(start) <= until:
                return self._evaluate(now)  # a window still meets the first scrapes, which changed every series
            for service, marks in marked.items():
                end = marks.his[-1] if marks.his else -INF
                if end < start:
                    left.append(service)
                elif marks.next_from(start) <= until:
                    changed.add(service)
            for service in left:
                del marked[service]  # no later window meets these marks: later looks start later
        if self._shows_fresh_values():
            for _, _, key in last.values():
                changed.add(_service(key))
            for alert in self.alerts.values():
                if alert.state != "inactive":
                    changed.add(alert.labels.get("service"))
        if not changed:
            return last
        services, parted = frozenset(changed), self.parted
        if parted is not None and parted[2] == services:
            services = parted[2]  # the very set of the last time (speed: selections compare it by identity first)
        for read in self.reads:
            read.selected.only(services)
        try:
            some = self._evaluate(now)
        finally:
            for read in self.reads:
                read.selected.whole()
        if some is _FAILED:
            return _FAILED
        if parted is not None and parted[0] is last and parted[2] is services:
            rest, before = parted[3], parted[4]  # (speed: the rest as the last time, and what those services gave)
        else:
            if self.recording:
                rest = {key: value for key, value in last.items() if _service(key) not in services}
            else:
                rest = {fp: alert for fp, alert in last.items() if _service(alert[2]) not in services}
            before = [key for key in last if key not in rest]
        out = dict(rest)
        out.update(some)
        # what a recording rule's store needs to write no more than the series of these services
        # (``Store.record``'s ``changed``): what they give, and what they gave and no longer give
        self.parted = (out, last, services, rest, some, [key for key in before if key not in some])
        return out

    def repeating(self, times: list) -> int:
        """How many of these evaluation times, from the first, give the result it last recorded
        (``result`` would return its one phase's result at each: quiet till after them)."""
        if self.phases != 1 or self.results.get(0, _MISSING) is not self.before.get(0, _FAILED):
            return 0
        quiet = self.quiet_until(times[0])
        return next((i for i, t in enumerate(times) if quiet <= t + _EPS), len(times))

    def _marked(self, now: float) -> bool:
        """Whether a window of an evaluation since the last look (this one's included) holds a mark."""
        at = now  # (compiled, a double: no float made for the sum)
        return self.checked is None or self._clear_until() <= at + _EPS

    def _reads_calm(self) -> bool:
        """Whether every series it reads is calm (worked out again only when the store gained
        series or a series it reads stopped being calm: ``touched``; never again once one is not,
        as no series becomes calm again)."""
        version = self.store.version
        if self._calm_version < 0 or (self._calm_reads and self._calm_version != version):
            calm = True
            for read in self.reads:  # (loops, not all() or any(): compiled, a typed method holds no generator)
                if read.selected.current() is None or not read.selected.calm:
                    calm = False
                    break
            self._calm_version, self._calm_reads = version, calm
        return self._calm_reads

    def _clear_until(self) -> float:
        """The first evaluation time at which a window after the last look meets a mark it has not
        left behind (-inf: it sees a counter's values, which never repeat). Worked out again only
        when the store gained series, a series it reads was marked, or a later look left behind
        the mark that gave it (the other windows start later too: their next marks are no nearer)."""
        version, checked = self.store.version, self.checked
        if self._clear_version != version or checked < self._clear_checked:
            self._clear_version, self._clear_checked = version, checked
            self._windows_clear_until()
        elif checked > self._clear_checked:
            self._clear_checked = checked
            if self._clear_read is not None and self._next_mark(self._clear_read) != self._clear_at:
                self._windows_clear_until()
        return self._clear_at

    def _windows_clear_until(self) -> None:
        """Work out ``_clear_until`` again, and the read whose window meets that mark (None: -inf or no mark)."""
        until, nearest = INF, None
        for read in self.reads:
            sel = read.selected
            sel.current()
            if sel.rising and not read.differences:
                until, nearest = -INF, None
                break
            at = self._next_mark(read)
            if at < until:
                until, nearest = at, read
        self._clear_at, self._clear_read = until, nearest

    def _next_mark(self, read) -> float:
        """Where the first mark a window of ``read`` after the last look meets begins (inf: none)."""
        sel = read.selected
        return sel.marks.next_from(self._window_start(read, self.checked)) + sel.offset

    def _window_start(self, read, looked: float) -> float:
        """Where the window of ``read`` at the first evaluation after one at ``looked`` begins, less a
        margin (compiled, in doubles: the same operations in the same order, no float made for each)."""
        every, offset = self.every, read.selected.offset
        span = self.store.gap if read.range is None else read.range
        return looked + every - offset - span - _EPS

    def _repeats(self) -> bool:
        """Whether a repeated result shows what a fresh one would. A counter's rate from a repeat
        is the rate of the evaluation it repeats, which can differ from a fresh one in its last
        bits (as can a function of differences of a gauge's samples and their times); only an
        alert's ``$value`` shows them (and the series topk, bottomk or count_values give), so a
        rule that renders it (or has those) and reads a counter or through such a function is
        evaluated afresh while it has an alert (or a result that can make one). The samples themselves of gauges and recorded series repeat the very floats, and
        so does what is worked out from them alone."""
        if not self._shows_fresh_values():
            return True
        for a in self.alerts.values():
            if a.state != "inactive":
                return False
        return not any(self.results.values())

    def _shows_fresh_values(self) -> bool:
        """Whether it shows a value (``shows_value``) worked out from a counter or through a function
        of differences, where a repeat's last bits can differ from a fresh evaluation's (``_repeats``)."""
        if self.shows_value:
            for read in self.reads:
                if read.differences or read.selected.rising:
                    return True
        return False

    def quiet_until(self, now: float) -> float:
        """Until when its evaluations repeat results and change no alert (-inf: not now, as when a
        window since the last look holds a mark: every later time then sees it so too). Speed:
        worked out again only after it was evaluated, when a series it reads was marked
        (``touched``) or the store gained series."""
        if self._quiet_version != self.store.version:
            until = -INF  # (a marked window first: the cheapest to see)
            if (self.phases and len(self.results) == self.phases and not self._marked(now)
                    and (self.phases == 1 or self._alike()) and self._repeats()):
                until = min(self._clear_until(), _deadline(self.alerts.values()))
            self._quiet_version, self._quiet_at = self.store.version, until
        return self._quiet_at

    def _alike(self) -> bool:
        """Whether every phase's result is the same: an alerting rule's, the same alerts with the
        same values (else applying the next one changes them, or the value an alert resolves
        with, that of the tick before, logged even where no template shows it); a recording
        rule's, the same series (each phase's values are recorded at its own ticks)."""
        results = iter(self.results.values())
        first = next(results)
        if not self.recording:
            return all(r == first for r in results)
        if first is _FAILED:
            return all(r is _FAILED for r in results)
        return all(r is not _FAILED and r.keys() == first.keys() for r in results)

    def touched(self) -> None:
        """A series it reads was marked, or stopped being calm."""
        self._quiet_version = self._clear_version = -1
        if self._calm_reads:
            self._calm_version = -1
        self.asleep[0] = None

    def _evaluate(self, now: float):
        try:
            keys, values = self.output(now)
        except EvalError:
            return _FAILED
        if self.recording:
            if self._names[0] is not keys:  # speed: the same series, the same names
                names = [self._name(key, 0.0) for key in keys]
                self._names = (keys, names, dict.fromkeys(names))
            # speed: a copy of a dict of these series keeps its table (no table grown key by key), and
            # each series' value is set in order, as dict(zip()) would make it
            names, recorded = self._names[1], self._names[2].copy()
            for i in range(len(names)):
                recorded[names[i]] = values[i]
            return recorded
        seen, known = {}, {} if self.named is None else self.named
        for key, value in zip(keys, values):
            labels, fp = known.get(key) or self._name(key, value)
            if fp in seen:
                return _FAILED  # duplicate labelsets: the evaluation fails in Prometheus too
            seen[fp] = (labels, value, key)
        return seen

    def _name(self, key: tuple, value: float):
        """An output series' name: a recorded series' key, or an alert's labels and fingerprint."""
        named = self.named.get(key) if self.named is not None else None
        if named is None:
            rule, series = self.rule, dict(key)
            if rule.kind == "record":
                labels = _labelled(series, rule.labels)
                labels["__name__"] = rule.name
                named = tuple(sorted(labels.items()))
            else:
                labels = _labelled(series, {name: render(text, series, value) for name, text in rule.labels.items()})
                labels["alertname"] = rule.name
                named = labels, fingerprint(labels)
            if self.named is not None:
                self.named[key] = named
        return named


_recorded_names = per_scenario(256)(lambda rule: {})  # a recording rule's output keys -> its series' names


def _ceiling(x: float) -> int:
    """``math.ceil(x)`` of a finite ``x``, compiled in doubles (as ``_nearest``)."""
    whole = x // 1.0
    if whole < x:
        whole += 1.0
    return int(whole)


def _nearest(x: float) -> int:
    """``round(x)`` of a count of evaluation intervals (``x`` >= 0): the nearest whole number, a half
    to the even one, as Python rounds (``x`` less its floor is exact). Compiled, arithmetic in
    doubles rather than a call of ``round`` (asked of every rule at every evaluation)."""
    whole = x // 1.0
    rest = x - whole
    if rest > 0.5 or (rest == 0.5 and whole % 2.0 == 1.0):
        whole += 1.0
    return int(whole)


def _service(key: tuple):
    """The ``service`` label of a labels key (None: none)."""
    for name, value in key:  # (a loop, not dict(key): compiled, no dict made for each key)
        if name == "service":
            return value
    return None


@functools.lru_cache(maxsize=256)  # speed: the same few intervals in every drill
def _period(scrape: float, intervals: tuple[float, ...], most: int = 16) -> float | None:
    """The shortest time that is a whole number of the scrape interval and of every group's
    evaluation interval (its results repeat over it in a world that stays as it is), or None:
    scrapes further apart than the lookback (samples go stale between them), or intervals
    with no common multiple of at most ``most`` evaluations."""
    if not intervals or scrape > LOOKBACK:
        return None
    every = [Fraction(x).limit_denominator(1000) for x in (scrape, *intervals)]
    if any(float(f) != x for f, x in zip(every, (scrape, *intervals))):
        return None
    scale = math.lcm(*(f.denominator for f in every))
    period = Fraction(math.lcm(*(int(f * scale) for f in every)), scale)
    if period / min(every) > most:
        return None
    return float(period)


@per_scenario(64)
def _calm(groups: tuple, services: dict) -> dict:
    """Results by (group, rule) and tick of the drills of a scenario (its rules, services,
    intervals and first scrape in its ``key``), for the evaluations that read only calm series
    (``Series.calm``).

    Speed: until a fault or blip changes what a rule reads, every such drill holds the same
    samples there, so the rule gives the same results, tick by tick; the first drill works
    them out for the rest (the first windows, which still hold the start of every series,
    repeat nothing, and a series a fault leaves alone stays calm all drill).
    """
    return {}


@per_scenario(64)
def _early(groups: tuple, services: dict, faults: tuple, noise: tuple) -> dict:
    """Results by (group, rule) and tick of the drills of a scenario (as ``_calm``, its faults and
    noise too), for the evaluations before anything the drill did changed its world
    (``World.untouched``).

    Speed: until a response bends a fault's path, every drill of the scenario holds the same
    samples, faults and blips included, so its rules give the same results tick by tick; the
    first drill works out the fault's first minutes for the rest.
    """
    return {}


@per_scenario(256)
def _active(groups: tuple, services: dict) -> list[list[bool]]:
    """Per group, per rule: whether it can ever give anything in a world of these services.

    Speed: a rule that reads no series of this world (a team rule about other services) nor
    the clock gives the same output at every evaluation, so when that is nothing it never needs
    evaluating. A recording rule's series exist only while that rule is evaluated, so
    which rules are active is settled together. Worked out once per scenario (drills of
    one scenario share its rules and services), not once per drill.
    """
    store = Store(services)
    compiled = [[_PromRule(r, store) for r in g.rules] for g in groups]
    every = [c for group in compiled for c in group]

    def idle(c, records):
        reads = any(matches(labels) for matches, name in zip(c.selectors, c.names) for labels, _, _ in store.exported(name))
        recorded = any(name is None or name in records for name in c.names)
        return not reads and not recorded and not c.clock and not c.output(0.0)[0]
    quiet, records = set(), None
    while True:
        # (not ``records != (records := ...)``: compiled, Cython assigned before it compared, so the
        # loop never ran and every rule counted as active)
        now = {c.rule.name for c in every if c.rule.kind == "record" and id(c) not in quiet}
        if now == records:
            break
        records = now
        quiet = {id(c) for c in every if idle(c, records)}
    return [[id(c) not in quiet for c in group] for group in compiled]


_OP_TEXT = {"Equal": "=", "NotEqual": "!=", "Re": "=~", "NotRe": "!~"}


def unread(groups: tuple, services: dict) -> dict[str, str]:
    """Why each alerting rule that can give nothing in a world of these services (``_active``)
    stays silent there, by rule name: the first selector of its expression that selects no
    series of the world (nor of a recording rule that gives any), and the matcher no series of
    that name meets, with the values the world's series have for that label. What a team asks
    when its own rules stay silent in a drill (``drill check-alerts``)."""
    store, active = Store(services), _active(groups, services)
    records = {r.name for g, keep in zip(groups, active) for r, kept in zip(g.rules, keep) if kept and r.kind == "record"}
    why: dict[str, str] = {}
    silent: dict[str, str] = {}  # a recording rule that gives nothing here -> why (the rules reading it say so)
    for group, keep in zip(groups, active):
        for rule, kept in zip(group.rules, keep):
            if kept:
                continue
            reason = _why_unread(rule.expr, store, records, silent)
            if rule.kind == "record":
                silent.setdefault(rule.name, reason)
            else:
                why.setdefault(rule.name, reason)
    return why


def _why_unread(expr: str, store: Store, records: set, silent: dict) -> str:
    selectors = []
    promql_parser.walk(parse(expr), lambda n: selectors.append(n) if type(n).__name__ == "VectorSelector" else None)
    for vs in selectors:
        if vs.name in records:
            continue
        found = [labels for labels, _, _ in store.exported(vs.name)]
        if any(selector_matches(vs)(labels) for labels in found):
            continue
        text = str(vs) if vs.matchers.matchers else str(vs).replace("{}", "", 1)
        if vs.name in silent:
            return f"{text}: recorded by a rule that gives nothing here, as {silent[vs.name]}"
        if not found:
            return f"{text}: no series is named {vs.name} here (docs/model.md lists the simulated series)"
        for m in vs.matchers.matchers:
            op = str(m.op).split(".")[-1]
            test = label_matcher(op, m.name, m.value)
            if not any(test(labels) for labels in found):
                held = sorted({labels.get(m.name, "") for labels in found})
                shown = ", ".join(f'"{v}"' if v else "unset" for v in held[:8]) + (", ..." if len(held) > 8 else "")
                return f"{text}: no {vs.name or 'series'} here has {m.name}{_OP_TEXT[op]}{go_quote(m.value)} ({m.name}: {shown})"
        return f"{text}: no series here meets all its matchers at once"
    return "its expression gives nothing whatever the world does"


def _label(rules) -> tuple[list[tuple[dict, str]], dict[str, list[int]]]:
    """Each shorthand rule's alert labels and fingerprint, and each service's rules (indexes)."""
    labelled, watching = [], {}
    for i, rule in enumerate(rules):
        labels = {"alertname": rule.name, "service": rule.service, **rule.labels}
        labelled.append((labels, fingerprint(labels)))
        watching.setdefault(rule.service, []).append(i)
    return labelled, watching


_labelled_rules = per_scenario(256)(_label)  # speed: a hash per rule adds up in an estate of hundreds


class Rules:
    """Every alert of one drill's rules, evaluated against the world's latest scrape."""

    def __init__(self, env, log, world, rules, notify, groups=(), evaluation_interval: float = 15.0,
                 scrape_interval: float = 15.0, epoch_ms: int = 0):
        self.env, self.log, self.world, self.notify = env, log, world, notify
        # and service -> its shorthand alerts (indexes); a scenario's tuple once, a list (which may change) each time
        labelled, self._watching = (_labelled_rules if isinstance(rules, tuple) else _label)(rules)
        self.shorthand = [Alert(rule, dict(labels), fp) for rule, (labels, fp) in zip(rules, labelled)]
        # each one's alert and what its condition reads and compares (speed: asked at every moving tick)
        self._checks = [(alert, alert.rule.service, alert.rule.metric, _OPS[alert.rule.op], alert.rule.threshold)
                        for alert in self.shorthand]
        self._unsettled: set[int] = set()  # shorthand alerts pending or held by keep_firing_for
        self._watched: dict[tuple, list[int]] = {}  # the alerts watching the services of a look's changes, in order
        self._fresh: bool | None = None  # whether the last evaluation had a fresh scrape
        self._seen = len(world.changed)  # where in the world's list of changes the last evaluation stopped
        self._firing: tuple | None = None  # firing(), until an alert fires or resolves
        self.alerts = list(self.shorthand)  # and every Prometheus rule's alert, as its series first appears
        self._place = {id(alert): i for i, alert in enumerate(self.alerts)}  # an alert's index in alerts
        self._fired: set[int] = set()  # indexes of the firing alerts
        every = [group.interval or evaluation_interval for group in groups]
        period = _period(scrape_interval, tuple(every))
        self.store = Store(world.services, scrape_interval, period, min(LOOKBACK, max([scrape_interval] + every)),
                           epoch_ms)
        self.groups = []
        for group, keep, interval in zip(groups, _active(groups, world.services), every):
            phases = round(period / interval) if period else 0
            compiled = [_PromRule(r, self.store, interval, phases) for r, kept in zip(group.rules, keep) if kept]
            for c in compiled:
                c.asleep = compiled[0].asleep
            self.groups.append((interval, compiled))
        self.store.want((matches, name) for _, compiled in self.groups for c in compiled
                        for matches, name in zip(c.selectors, c.names))
        for _, compiled in self.groups:  # matched before the first scrape, which marks every series (speed)
            for c in compiled:
                for read in c.reads:
                    read.selected.current()
        self._groups = groups
        # each group's interval, rules and its recording rules' indexes (one tuple a group: speed)
        self._passes = [(every, compiled, [i for i, rule in enumerate(compiled) if rule.recording])
                        for every, compiled in self.groups]
        self._recording = [(every, compiled[i]) for every, compiled, records in self._passes for i in records]
        self._prometheus = any(compiled for _, compiled in self.groups)  # Prometheus rules to evaluate
        self._untouched = self._prometheus  # whether its rules still share results with drills alike (_early)
        self.intervals = sorted({interval for interval, _ in self.groups} | {evaluation_interval})
        self.evaluation_interval = evaluation_interval
        self.scraped_at: float | None = None

    def forget(self) -> None:
        """Let go of every series, the drill over: its selections and series refer to each other,
        so until they do not, only the cycle collector frees them (walking the thousands of an
        estate's drill: a twentieth of it)."""
        for _, compiled in self.groups:
            for rule in compiled:
                for read in rule.reads:
                    read.selected.forget()
        self.store.forget()

    def scraped(self, times, moved) -> None:
        """The world was just scraped, at these times (idle ticks': the world as it is now), the
        services in ``moved`` changed since the last scrape: record the series rules read."""
        self.scraped_at = times[-1]
        if self.store.scraped:
            first, store, metrics = not self.store.scrape_times, self.store, self.world.metrics
            for now in times:
                store.scrape(now, metrics, moved)
            if first and self.store.period is not None:
                key = (self.store.scrape_interval, tuple(self.intervals), self.store.first)
                shared = _calm(self._groups, self.world.services, key=key)
                scenario = self.world.scenario
                early = _early(self._groups, self.world.services, scenario.faults, scenario.noise, key=key)
                for g, (_, compiled) in enumerate(self.groups):
                    for r, rule in enumerate(compiled):
                        rule.calm = shared.setdefault((g, r), {})
                        rule.early = early.setdefault((g, r), {}) if self.world.untouched() else None

    def evaluate(self, interval: float | None = None) -> None:
        """Evaluate the rules due every ``interval`` (the drill's evaluation interval by default)."""
        interval = interval or self.evaluation_interval
        now = self.env._now
        if self._untouched and not self.world.untouched():  # this drill's own from now on
            self._untouched = False
            for _, compiled in self.groups:
                for rule in compiled:
                    rule.early = None
        if interval == self.evaluation_interval:
            self._shorthand(now)
        if not self._prometheus:  # shorthand alerts alone (the reference's): nothing more to look at
            return
        # the ticks the engine skipped (every rule was quiet) before now, of every group (a
        # rule of another group may read them now): a recording rule's samples there, repeated
        at = now  # (compiled, a double, as are the sums with it: no float made for each)
        for each, rule in self._recording:
            if rule.checked is not None:
                checked = rule.checked
                first, end = _nearest(checked / each) + 1, _ceiling(at / each - 1e-9)
                if first < end:
                    self._replay(rule, [tick * each for tick in range(first, end)])
        store = self.store
        version = store.version
        for every, compiled, records in self._passes:
            if every != interval or not compiled:
                continue
            # speed: when every alerting rule is quiet, none is looked at, until a recording rule
            # wakes the group (adds a series, or marks one an alerting rule reads: ``touched``)
            asleep = compiled[0].asleep
            state, start = asleep[0], 0
            if state is not None and state[0] == version and state[1] > at + _EPS:
                for start in records:
                    self._evaluate(compiled[start], now)
                    if asleep[0] is not state or self.store.version != version:
                        break  # awake from the next rule on, till the loop's end (only that puts it to sleep)
                else:
                    continue
                start += 1
            looked, wakes, later = False, INF, at + _EPS
            # None again if a rule is touched in the pass: one looked at before the recording rule
            # that marked what it reads has yet to see it, and so has one before the rule that woke it
            kept, mine = asleep[0], (version, -INF)
            asleep[0] = mine
            for i in range(start, len(compiled)):  # (not islice(): compiled, an index loop makes no iterator)
                rule = compiled[i]
                if not rule.recording:
                    looked = True
                    quiet = rule.quiet_until(now)
                    if quiet > later:
                        if quiet < wakes:  # noqa: PLR1730 (not min(): a call per quiet rule adds up)
                            wakes = quiet
                        continue  # it would repeat its result and change no alert
                    wakes = -INF
                self._evaluate(rule, now)
            if asleep[0] is mine:  # asleep after a whole pass, as of the version it started from
                asleep[0] = (version, wakes) if looked and not start else kept

    def _replay(self, rule: _PromRule, skipped: list[float]) -> None:
        """A recording rule's evaluations at these ticks the engine skipped, in order: the runs
        that repeat what it recorded last are recorded at once (speed)."""
        while skipped:
            if repeats := rule.repeating(skipped):
                rule.checked = skipped[repeats - 1]
                result = rule.results[0]
                if result is not _FAILED:
                    self.store.record(skipped[0], rule, result, result, rule.was_calm, skipped[1:repeats])
            else:
                repeats = 1
                self._evaluate(rule, skipped[0])
            del skipped[:repeats]

    def _shorthand(self, now: float) -> None:
        """Check the alerts whose service's metrics changed since the last evaluation, and those
        still on their way (pending, or held by ``keep_firing_for``): any other alert's condition
        holds as it did and its state stays, as Prometheus would find at this evaluation."""
        metrics, world = self.world.metrics, self.world
        # Prometheus's lookback: a scrape more than 5 minutes old is no sample at all
        fresh = self.scraped_at is not None and now - self.scraped_at <= LOOKBACK
        if fresh != self._fresh:
            due = range(len(self.shorthand))
        elif not self._unsettled and len(world.changed) == self._seen:
            return
        else:
            names = tuple(world.changed[self._seen:])
            due = self._watched.get(names)
            if due is None:  # worked out once per set of changes (a moving world changes the same services)
                due = self._watched[names] = sorted({i for name in names for i in self._watching.get(name, ())})
            if self._unsettled:
                due = sorted(self._unsettled.union(due))
        self._fresh, self._seen = fresh, len(world.changed)
        unsettled, checks = self._unsettled, self._checks
        for i in due:
            alert, service, metric, op, threshold = checks[i]
            value = metrics[service][metric]
            holds = fresh and op(value, threshold)
            alert.value = value
            state = alert.state
            if (state == "inactive" and not holds) or (state == "firing" and holds and alert.keep_since is None):
                # nothing changes, as for nearly every alert at nearly every evaluation (and it is
                # not unsettled: those are pending or held, and only step() changes that)
                continue
            rule = alert.rule
            self._transition(alert, step(alert, holds, now, rule.for_s, rule.keep_firing_for_s),
                             functools.partial(world.cause_of, rule.service, rule.metric))
            if alert.state == "pending" or alert.keep_since is not None:
                unsettled.add(i)
            else:
                unsettled.discard(i)

    def idle_until(self) -> float:
        """Until when evaluations change nothing, the world's metrics staying as they are: until a
        tick before the first ``for`` or ``keep_firing_for`` deadline (a tick early, so the
        deadline's own tick is evaluated however its sum rounds), and for Prometheus rules a
        tick before a window of one reaches a mark (``_PromRule.quiet_until``). A recording
        rule records the skipped ticks when next evaluated."""
        unsettled = self._unsettled  # (none, at nearly every tick: no generator made for nothing)
        until = (_deadline([self.shorthand[i] for i in unsettled]) if unsettled else INF) - self.evaluation_interval
        if self._prometheus:  # (compiled, the times in doubles)
            now, tick, version = self.env.now, self.intervals[-1], self.store.version  # (sorted: the longest last)
            if until <= now:
                return until
            for _, compiled in self.groups:
                asleep = compiled[0].asleep[0] if compiled else None
                awake = asleep is None or asleep[0] != version
                for rule in compiled:
                    if not (awake or rule.recording):
                        continue  # an asleep group's alerting rules wake with it
                    quiet = rule.quiet_until(now)
                    if quiet - tick < until:  # (not min(): a call per rule adds up)
                        until = quiet - tick
                        if until <= now:  # (any time up to now says the same: not idle)
                            return until
                if not awake and asleep[1] - tick < until:
                    until = asleep[1] - tick
                    if until <= now:
                        return until
        return until

    def _transition(self, alert: Alert, taken: list[str], cause) -> None:
        for kind in taken:
            if kind != "pending":
                self._firing = None
                if kind == "firing":
                    self._fired.add(self._place[id(alert)])
                else:
                    self._fired.discard(self._place[id(alert)])
            if kind != "resolved":
                alert.cause = cause()
            self.log.emit(f"alert.{kind}", **alert.describe())
            if kind != "pending":
                self.notify(alert)

    def _evaluate(self, compiled: _PromRule, now: float) -> None:
        rule = compiled.rule
        result, phase = compiled.result(now)
        if result is _FAILED:
            return  # Prometheus logs the failed evaluation and leaves the rule's alerts as they were
        if compiled.recording:
            before, parted = compiled.before.get(phase), compiled.parted
            changed = parted[4:] if parted is not None and parted[0] is result and parted[1] is before else None
            self.store.record(now, compiled, result, before, compiled.was_calm, again=(), changed=changed)
            if phase is not None:
                compiled.before[phase] = result
            return
        if result is compiled.applied:  # a repeat: only alerts on their way to a deadline can move
            due = []  # (a loop: compiled, each alert's state read from its struct, as a comprehension's cannot)
            for fp, alert in compiled.alerts.items():
                if alert.state == "pending" or alert.keep_since is not None:
                    due.append((fp, alert))
        else:
            compiled.applied = result
            for fp, (labels, value, series) in result.items():
                alert = compiled.alerts.get(fp)
                if alert is None:
                    instance = AlertRule(rule.name, labels.get("service", ""), rule.expr, "", math.nan, rule.for_s,
                                         {k: v for k, v in labels.items() if k != "alertname"}, rule.annotations,
                                         rule.keep_firing_for_s)
                    alert = compiled.alerts[fp] = Alert(instance, labels, fp)
                    self._place[id(alert)] = len(self.alerts)
                    self.alerts.append(alert)
                alert.value, alert.series, alert.rendered = value, series, None
            due = compiled.alerts.items()
        for_s, keep_for = rule.for_s, rule.keep_firing_for_s
        for fp, alert in due:
            if taken := step(alert, fp in result, now, for_s, keep_for):
                self._transition(alert, taken, functools.partial(self._cause, compiled, alert))

    def _cause(self, compiled: _PromRule, alert: Alert) -> list[str]:
        service = alert.labels.get("service")
        names = [service] if service in self.world.services else list(self.world.services)
        causes = self.world.causes
        found = {c for name in names for metric in compiled.shows for c in causes[name][metric]}
        return sorted(c for c in found if c != "noise") or ["noise"]

    def any_firing(self) -> bool:
        """Whether any alert fires, one about no service of the drill (a shop-wide rule's) too."""
        return bool(self._fired)

    def firing(self) -> tuple[Alert, ...]:
        """Firing alerts about a service of the drill (a rule's alert without a ``service`` label
        pages, but names no dashboard to look at); the same tuple until an alert fires or resolves
        (no copy: the bots ask at every turn)."""
        if self._firing is None:  # worked out again only after an alert fired or resolved
            services, alerts = self.world.services, self.alerts
            self._firing = tuple(alerts[i] for i in sorted(self._fired) if alerts[i].rule.service in services)
        return self._firing
