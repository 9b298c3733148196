"""The team's Alertmanager configuration (``alertmanager.yml``), read as Alertmanager 0.25 reads it.

What a drill uses: the route tree (``matchers`` and the older ``match``/``match_re``,
``continue``, ``group_by`` with ``...``, the group timings inherited down the tree),
``inhibit_rules``, time intervals (``time_intervals`` and the older top-level
``mute_time_intervals``) named by routes' ``mute_time_intervals`` and
``active_time_intervals``, and receivers by name. What a drill has no use for (``global``,
``templates``, the integrations' addresses, ``tracing``) is accepted and ignored; it is
listed by ``ignored`` so an import can say so. Every problem is ``file:line: message``.
"""

import calendar
import datetime as dt
import functools
import os
import re
import zoneinfo
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import yamlfile
from .config import Monitoring
from .yamlfile import Checker, Fields, flag, text, text_list

# Alertmanager's defaults for the root route (config.DefaultRouteOpts).
GROUP_WAIT, GROUP_INTERVAL, REPEAT_INTERVAL = 30.0, 300.0, 4 * 3600.0
# Integrations that page someone (the rest notify a channel or a mailbox), and whether each
# sends resolved notifications when its config does not say (Alertmanager's defaults).
PAGING = ("pagerduty_configs", "opsgenie_configs", "victorops_configs")
SEND_RESOLVED = {"email_configs": False, "pagerduty_configs": True, "slack_configs": False,
                 "webhook_configs": True, "opsgenie_configs": True, "wechat_configs": False,
                 "pushover_configs": True, "victorops_configs": True, "sns_configs": True,
                 "telegram_configs": True, "discord_configs": False, "webex_configs": True}
IGNORED = ("global", "templates", "tracing")

_DURATION = re.compile(r"^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$")
_UNITS = (365 * 86400, 7 * 86400, 86400, 3600, 60, 1, 0.001)
_LABEL = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_MATCHER = re.compile(rf'^\s*({_LABEL})\s*(=~|!~|!=|=)\s*(.*?)\s*$', re.S)
_WEEKDAYS = {name.lower(): (i + 1) % 7 for i, name in enumerate(calendar.day_name)}  # sunday is 0, as in Go
_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}


def duration(value) -> float:
    """Seconds from a Prometheus duration: ``30s``, ``5m``, ``1h30m``, ``1d``, ``500ms``."""
    match = _DURATION.match(str(value).strip())
    if isinstance(value, bool) or not str(value).strip() or not match:
        raise ValueError(f"expected a duration such as 30s, 5m or 1h30m, got {value!r}")
    return float(sum(int(g) * unit for g, unit in zip(match.groups(), _UNITS) if g))


@dataclass(frozen=True)
class Matcher:
    """``name op value``: ``=`` and ``!=`` compare text, ``=~`` and ``!~`` match an anchored regex.
    A missing label is the empty text, as in Alertmanager."""

    name: str
    op: str
    value: str
    pattern: re.Pattern | None = field(default=None, compare=False, repr=False)

    def matches(self, labels: dict) -> bool:
        got = labels.get(self.name, "")
        if self.op == "=":
            return got == self.value
        if self.op == "!=":
            return got != self.value
        return bool(self.pattern.fullmatch(got)) == (self.op == "=~")

    def __str__(self):
        return f"{self.name}{self.op}{self.value!r}"


def matcher(name: str, op: str, value: str) -> Matcher:
    if op in ("=~", "!~"):
        try:
            return Matcher(name, op, value, re.compile(f"(?:{value})", re.S))
        except re.error as exc:
            raise ValueError(f"{name}{op}{value!r}: not a valid regular expression ({exc})") from None
    return Matcher(name, op, value)


def parse_matchers(value) -> tuple[Matcher, ...]:
    """``severity="critical"``, ``service=~"a|b"`` or ``{a="b", c!="d"}``: one or more matchers."""
    body = text(value)
    if body.startswith("{") and body.endswith("}"):
        body = body[1:-1]
    found = []
    for part in _split(body):
        if not part.strip():
            continue
        match = _MATCHER.match(part)
        if not match:
            raise ValueError(f"{part.strip()!r} is not a matcher such as severity=\"critical\" or service=~\"a|b\"")
        found.append(matcher(match[1], match[2], _unquote(match[3])))
    if not found:
        raise ValueError(f"no matcher in {value!r}")
    return tuple(found)


def _split(body: str) -> list[str]:
    """Split on commas outside double quotes."""
    parts, current, quoted, escaped = [], "", False, False
    for char in body:
        if char == "," and not quoted:
            parts.append(current)
            current = ""
            continue
        current += char
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
    if quoted:
        raise ValueError(f"unclosed quote in {body!r}")
    return parts + [current]


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r'\\(.)', lambda m: {"n": "\n", "t": "\t"}.get(m[1], m[1]), value[1:-1])
    return value


@dataclass(frozen=True)
class TimeInterval:
    """One entry of a named time interval; a field left out matches any time."""

    times: tuple[tuple[int, int], ...] | None = None  # minutes of the day, start inclusive, end exclusive
    weekdays: tuple[tuple[int, int], ...] | None = None  # 0 is Sunday
    days_of_month: tuple[tuple[int, int], ...] | None = None  # negative counts from the month's end
    months: tuple[tuple[int, int], ...] | None = None
    years: tuple[tuple[int, int], ...] | None = None
    location: str = "UTC"

    def contains(self, moment: dt.datetime) -> bool:
        """Alertmanager's ``ContainsTime``, in this interval's location."""
        t = moment.astimezone(zoneinfo.ZoneInfo(self.location))
        minute = t.hour * 60 + t.minute
        if self.times is not None and not any(a <= minute < b for a, b in self.times):
            return False
        if self.days_of_month is not None:
            days = calendar.monthrange(t.year, t.month)[1]
            if not any(_day_in(t.day, begin, end, days) for begin, end in self.days_of_month):
                return False
        weekday = (t.weekday() + 1) % 7
        for ranges, value in ((self.months, t.month), (self.weekdays, weekday), (self.years, t.year)):
            if ranges is not None and not any(a <= value <= b for a, b in ranges):
                return False
        return True


def _day_in(day: int, begin: int, end: int, days: int) -> bool:
    begin = days + begin + 1 if begin < 0 else begin
    end = days + end + 1 if end < 0 else end
    if begin > days:
        return False
    return max(-days, min(begin, days)) <= day <= max(-days, min(end, days))


@dataclass(frozen=True)
class Route:
    """A node of the route tree, with every option inherited from its parents already applied."""

    receiver: str
    matchers: tuple[Matcher, ...] = ()
    group_by: tuple[str, ...] | None = ()  # None: '...', every label
    group_wait: float = GROUP_WAIT
    group_interval: float = GROUP_INTERVAL
    repeat_interval: float = REPEAT_INTERVAL
    continue_: bool = False
    mute_time_intervals: tuple[str, ...] = ()
    active_time_intervals: tuple[str, ...] = ()
    routes: tuple["Route", ...] = ()
    path: str = "route"  # where it is in the file: route, route.routes[0], ...
    own: frozenset = frozenset()  # the inherited options this route sets itself

    def with_root(self, **options) -> "Route":
        """This tree with ``options`` set on this route and inherited by every route that
        does not set them itself."""
        mine = {k: v for k, v in options.items() if k not in self.own or self.path == "route"}
        return replace(self, **mine, routes=tuple(child.with_root(**mine) for child in self.routes))

    def match(self, labels: dict) -> list["Route"]:
        """The routes an alert with ``labels`` goes to: the deepest matching nodes, as
        Alertmanager's ``Route.Match`` walks the tree (siblings after a match only with ``continue``)."""
        if not all(m.matches(labels) for m in self.matchers):
            return []
        found = []
        for child in self.routes:
            below = child.match(labels)
            found += below
            if below and not child.continue_:
                break
        return found or [self]

    def group_labels(self, labels: dict) -> tuple[tuple[str, str], ...]:
        """The labels this route groups an alert by (only those the alert has)."""
        names = sorted(labels) if self.group_by is None else sorted(n for n in self.group_by if n in labels)
        return tuple((n, labels[n]) for n in names)

    def walk(self):
        yield self
        for child in self.routes:
            yield from child.walk()


@dataclass(frozen=True)
class InhibitRule:
    source: tuple[Matcher, ...]
    target: tuple[Matcher, ...]
    equal: tuple[str, ...] = ()


@dataclass(frozen=True)
class Receiver:
    name: str
    pages: bool  # it has an integration that pages someone (PagerDuty, Opsgenie, VictorOps)
    send_resolved: bool
    integrations: int = 1  # none: Alertmanager notifies nobody (and logs nothing)


@dataclass(frozen=True)
class Alertmanager:
    route: Route
    receivers: dict  # name -> Receiver
    inhibit_rules: tuple[InhibitRule, ...] = ()
    time_intervals: dict = field(default_factory=dict)  # name -> tuple[TimeInterval, ...]
    ignored: tuple[str, ...] = ()  # top-level sections a drill does not use
    builtin: bool = False  # the routing a drill has without a team file


TEAM_FILE = "drills/monitoring/alertmanager.yml"
_INHERITED = ("group_by", "group_wait", "group_interval", "repeat_interval")


@functools.lru_cache(maxsize=64)  # speed: every drill of a scenario has the same, and makes it anew otherwise
def default(group_by=("service",), group_wait=GROUP_WAIT, group_interval=GROUP_INTERVAL,
            repeat_interval=REPEAT_INTERVAL) -> Alertmanager:
    """The routing a drill has without a team file: one route, one receiver paging the on-call
    (one object for each setting of its four: nobody changes a drill's routing)."""
    route = Route("default", group_by=tuple(group_by), group_wait=group_wait, group_interval=group_interval,
                  repeat_interval=repeat_interval)
    return Alertmanager(route, {"default": Receiver("default", True, True)}, builtin=True)


def for_drill(monitoring: Monitoring, team: Alertmanager | None = None) -> Alertmanager:
    """A drill's routing: the team's (``drills/monitoring/alertmanager.yml`` when ``team`` is None
    and the file is there) with the grouping a scenario sets itself in its ``monitoring:`` on the
    root route, or else the built-in route grouping by the scenario's ``group_by``."""
    if team is None:
        team = _team_file()
    if team is None:
        return default(**{key: getattr(monitoring, key) for key in _INHERITED})
    given = {key: getattr(monitoring, key) for key in _INHERITED if key in monitoring.given}
    return replace(team, route=team.route.with_root(**given)) if given else team


def _team_file() -> Alertmanager | None:
    """The team's file under the working folder, if there is one, read again once it changed
    (speed: a drill costs one stat, not a path built and two stats)."""
    try:
        changed = os.stat(TEAM_FILE).st_mtime_ns
    except (FileNotFoundError, NotADirectoryError):
        return None
    return _load_cached(os.getcwd(), changed)


@functools.lru_cache(maxsize=8)
def _load_cached(folder: str, mtime: int) -> Alertmanager:
    return load_alertmanager(Path(folder) / TEAM_FILE)


def load_alertmanager(path) -> Alertmanager:
    doc = yamlfile.document(path, "alertmanager")
    check = doc.checker
    ignored = tuple(key for key in IGNORED if key in doc.data)
    for key in IGNORED:
        doc.get(key)
    receivers = {}
    for line, raw in doc.items("receivers"):
        r = check.mapping(raw, f"receivers[{len(receivers)}]", line)
        if r is None:
            continue
        name = r.get("name", text, "", required=True)
        kinds = [key for key in r.data if key.endswith("_configs")]
        resolved = []
        for kind in kinds:
            for item_line, item in r.items(kind):
                given = item.get("send_resolved") if isinstance(item, dict) else None
                if given is not None and not isinstance(given, bool):
                    check.problem(item_line, f"receivers.{name}.{kind}: send_resolved: expected true or false")
                resolved.append(SEND_RESOLVED.get(kind, True) if given is None else bool(given))
        r.done()
        if name in receivers:
            check.problem(line, f"receivers: {name!r} is defined twice")
        receivers[name] = Receiver(name, any(k in PAGING for k in kinds), any(resolved), len(resolved))
    intervals = {}
    for key in ("time_intervals", "mute_time_intervals"):
        for line, raw in doc.items(key):
            t = check.mapping(raw, f"{key}[{len(intervals)}]", line)
            if t is None:
                continue
            name = t.get("name", text, "", required=True)
            entries = tuple(_interval(check, item_line, item, f"{key}.{name}")
                            for item_line, item in t.items("time_intervals"))
            t.done()
            if name in intervals:
                check.problem(line, f"{key}: time interval {name!r} is defined twice")
            intervals[name] = entries
    route = None
    top = doc.sub("route", required=True)
    if top is not None:
        route = _route(top, None, receivers, intervals)
        for key in ("matchers", "match", "match_re", "continue", "mute_time_intervals", "active_time_intervals"):
            if key in top.data:
                check.problem(top.line_of(key), f"route: the root route must not have {key!r}")
        if not route.receiver:
            check.problem(top.line, "route: the root route needs a receiver")
    inhibit = []
    for line, raw in doc.items("inhibit_rules"):
        r = check.mapping(raw, f"inhibit_rules[{len(inhibit)}]", line)
        if r is None:
            continue
        inhibit.append(InhibitRule(_matchers(r, "source"), _matchers(r, "target"), r.get("equal", text_list, ())))
        r.done()
    doc.done()
    check.raise_problems()
    return Alertmanager(route, receivers, tuple(inhibit), intervals, ignored)


def _route(f: Fields, parent: Route | None, receivers: dict, intervals: dict) -> Route:
    base = parent or Route("")
    receiver = f.get("receiver", text, base.receiver)
    if receiver and receiver not in receivers:
        f.checker.problem(f.line_of("receiver"), f"{f.where}.receiver: no receiver named {receiver!r} "
                          f"(receivers: {', '.join(receivers) or 'none'})")
    group_by = base.group_by
    given = f.get("group_by", text_list)
    if given:  # an empty or missing group_by inherits, as in Alertmanager
        group_by = None if "..." in given else given
        if "..." in given and len(given) > 1:
            f.checker.problem(f.line_of("group_by"), f"{f.where}.group_by: '...' cannot be mixed with label names")
    mute = f.get("mute_time_intervals", text_list, ())
    active = f.get("active_time_intervals", text_list, ())
    for key, names in (("mute_time_intervals", mute), ("active_time_intervals", active)):
        for name in names:
            if name not in intervals:
                f.checker.problem(f.line_of(key), f"{f.where}.{key}: no time interval named {name!r}")
    route = Route(
        receiver=receiver,
        matchers=_matchers(f, ""),
        group_by=group_by,
        group_wait=f.get("group_wait", duration, base.group_wait),
        group_interval=f.get("group_interval", duration, base.group_interval),
        repeat_interval=f.get("repeat_interval", duration, base.repeat_interval),
        continue_=f.get("continue", flag, False),
        mute_time_intervals=mute,
        active_time_intervals=active,
        path=f.where,
        own=frozenset(key for key in _INHERITED if f.data.get(key) is not None),
    )
    if route.group_interval <= 0 or route.repeat_interval <= 0:
        f.checker.problem(f.line, f"{f.where}: group_interval and repeat_interval must be more than 0s")
    children = []
    for line, raw in f.items("routes"):
        child = f.checker.mapping(raw, f"{f.where}.routes[{len(children)}]", line)
        if child is not None:
            children.append(_route(child, route, receivers, intervals))
    f.done()
    return replace(route, routes=tuple(children))


def _matchers(f: Fields, side: str) -> tuple[Matcher, ...]:
    """``<side>matchers`` plus the older ``<side>match`` (equality) and ``<side>match_re`` (regex)."""
    prefix = f"{side}_" if side else ""
    found = []
    for kind, op in (("match", "="), ("match_re", "=~")):
        given = f.get(prefix + kind, _text_map, {})
        for name, value in given.items():
            try:
                found.append(matcher(name, op, value))
            except ValueError as exc:
                f.checker.problem(f.line_of(prefix + kind), f"{f.prefix}{prefix}{kind}: {exc}")
    for line, raw in f.items(prefix + "matchers"):
        try:
            found += parse_matchers(raw)
        except ValueError as exc:
            f.checker.problem(line, f"{f.prefix}{prefix}matchers: {exc}")
    return tuple(found)


def _text_map(value) -> dict:
    if not isinstance(value, dict):
        raise ValueError("expected a mapping of label names to values")
    for name in value:
        if not re.fullmatch(_LABEL, str(name)):
            raise ValueError(f"{name!r} is not a label name")
    return {str(k): text(v) for k, v in value.items()}


def _interval(check: Checker, line: int, raw, where: str) -> TimeInterval:
    f = check.mapping(raw, where, line)
    if f is None:
        return TimeInterval()
    location = f.get("location", text, "UTC")
    if location == "Local":  # the machine's zone to Alertmanager; a drill's clock is UTC
        location = "UTC"
    try:
        zoneinfo.ZoneInfo(location)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        check.problem(f.line_of("location"), f"{where}.location: unknown time zone {location!r}")
        location = "UTC"
    times = None
    if "times" in f.data:
        times = []
        for item_line, item in f.items("times"):
            try:
                times.append(_time_range(item))
            except ValueError as exc:
                check.problem(item_line, f"{where}.times: {exc}")
        times = tuple(times)
    interval = TimeInterval(
        times=times,
        weekdays=f.get("weekdays", _ranges(_WEEKDAYS, "weekday", 0, 6)),
        days_of_month=f.get("days_of_month", _days_of_month),
        months=f.get("months", _ranges(_MONTHS, "month", 1, 12)),
        years=f.get("years", _ranges({}, "year", 1, 9999)),
        location=location,
    )
    f.done()
    return interval


def _time_range(item) -> tuple[int, int]:
    if not isinstance(item, dict) or set(item) != {"start_time", "end_time"}:
        raise ValueError("expected {start_time: HH:MM, end_time: HH:MM}")
    start, end = (_minute(item[key]) for key in ("start_time", "end_time"))
    if start >= end:
        raise ValueError("start time cannot be equal or greater than end time")
    return start, end


def _minute(value) -> int:
    if isinstance(value, int) and not isinstance(value, bool):  # YAML 1.1 reads 17:00 as base-60 1020
        value = f"{value // 60:02d}:{value % 60:02d}"
    match = re.fullmatch(r"([01][0-9]|2[0-3]):([0-5][0-9])|(24):(00)", str(value))  # Alertmanager's validTimeRE
    if not match:
        raise ValueError(f"{value!r} is not a time of day such as 09:00 (00:00 to 24:00)")
    hours, minutes = (int(g) for g in match.groups() if g is not None)
    return hours * 60 + minutes


def _ranges(names: dict, noun: str, low: int, high: int):
    def member(part: str) -> int:
        part = part.strip().lower()
        if part in names:
            return names[part]
        if part.lstrip("-").isdigit() and low <= int(part) <= high and noun != "weekday":
            return int(part)
        raise ValueError(f"{part!r} is not a valid {noun}")

    def convert(value) -> tuple[tuple[int, int], ...]:
        found = []
        for item in _range_texts(value, sexagesimal=noun != "year"):
            begin, _, end = item.partition(":")
            pair = (member(begin), member(end or begin))
            if pair[0] > pair[1]:
                raise ValueError(f"{item!r}: the range ends before it starts")
            found.append(pair)
        return tuple(found)
    return convert


def _range_texts(value, sexagesimal: bool = True) -> tuple[str, ...]:
    """The ranges as written: YAML 1.1 reads an unquoted ``1:7`` as the base-60 number 67,
    which no day or month can be, so it is turned back into ``1:7`` (a year is left alone)."""
    items = value if isinstance(value, list) else [value]
    return tuple(f"{item // 60}:{item % 60}" if sexagesimal and type(item) is int and item >= 60 else text(item)
                 for item in items)


def _days_of_month(value) -> tuple[tuple[int, int], ...]:
    found = []
    for item in _range_texts(value):
        begin_text, _, end_text = item.partition(":")
        try:
            begin, end = int(begin_text), int(end_text or begin_text)
        except ValueError:
            raise ValueError(f"{item!r} is not a day of the month or a range such as 1:7 or -3:-1") from None
        for day in (begin, end):
            if day == 0 or not -31 <= day <= 31:
                raise ValueError(f"{day} is not a valid day of the month: out of range")
        if begin < 0 < end:
            raise ValueError("end day must be negative if start day is negative")
        if (28 + begin if begin < 0 else begin) > (28 + end if end < 0 else end):
            raise ValueError(f"end day {end} is always before start day {begin}")
        found.append((begin, end))
    return tuple(found)
