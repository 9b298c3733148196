"""Parsing and formatting of the units used in every file: durations, fractions, times."""

import datetime as dt
import functools
import math
import re

_DURATION = re.compile(r"^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?$")
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")
MAX_SECONDS = 366 * 86400.0  # a year: no drill, delay or cadence is longer, so more is a typo
FIRST, LAST = dt.datetime(1900, 1, 1, tzinfo=dt.timezone.utc), dt.datetime(9000, 1, 1, tzinfo=dt.timezone.utc)
MAX_FRACTION = 1e6  # shares are at most 100%; multipliers (traffic x50) stay far below this


def _shown(value) -> str:
    """A value as the file wrote it: a YAML date or time as its text, not Python's repr."""
    return repr(value.isoformat() if isinstance(value, dt.date) else value)


def duration(value) -> float:
    """Seconds from ``90``, ``"90s"``, ``"15m"`` or ``"1h30m"``."""
    if isinstance(value, bool):
        raise ValueError(f"expected a duration such as 90s, 15m or 1h30m, got {_shown(value)}")
    if isinstance(value, (int, float)):
        if not (isinstance(value, int) or math.isfinite(value)) or value < 0:
            raise ValueError(f"a duration is 0s or more, got {value}")
        seconds = value
    else:
        text = str(value).strip()
        match = _DURATION.match(text)
        if not text or not match:
            raise ValueError(f"expected a duration such as 90s, 15m or 1h30m, got {_shown(value)}")
        hours, minutes, secs = (float(g) if g else 0.0 for g in match.groups())
        seconds = hours * 3600 + minutes * 60 + secs
    if seconds > MAX_SECONDS:
        raise ValueError(f"a duration is at most a year (8784h), got {_shown(value)}")
    return float(seconds)


def fraction(value, high: float = MAX_FRACTION) -> float:
    """A fraction from ``0.15`` or ``"15%"``, from 0 to ``high``."""
    if isinstance(value, bool):
        raise ValueError(f"expected a number or a percentage, got {_shown(value)}")
    try:
        if isinstance(value, str) and value.strip().endswith("%"):
            result = float(value.strip()[:-1]) / 100
        else:
            result = float(value)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"expected a number or a percentage such as 15%, got {_shown(value)}") from None
    if not 0 <= result <= high:  # also false for nan
        raise ValueError(f"expected a number or a percentage from 0 to {high:g}, got {_shown(value)}")
    return result


def share(value) -> float:
    """A fraction of a whole, from 0 to 100%."""
    return fraction(value, 1.0)


def timestamp(value) -> dt.datetime:
    """A UTC datetime from ISO 8601 text (or a YAML timestamp)."""
    try:
        moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.timezone.utc)
        moment = moment.astimezone(dt.timezone.utc)
    except (ValueError, OverflowError):
        raise ValueError(f"expected an ISO 8601 UTC time such as 2026-04-20T14:40:00Z, got {_shown(value)}") from None
    if not FIRST <= moment < LAST:  # a drill and all it schedules must stay inside the calendar
        raise ValueError(f"expected a time from {FIRST.year} to {LAST.year - 1}, got {_shown(value)}")
    return moment


def date(value) -> dt.date:
    """A calendar date from ``2026-04-23``."""
    if isinstance(value, dt.datetime):
        day = value.date()
    elif isinstance(value, dt.date):
        day = value
    else:
        try:
            day = dt.date.fromisoformat(str(value))
        except ValueError:
            raise ValueError(f"expected a date such as 2026-04-23, got {_shown(value)}") from None
    if not FIRST.date() <= day < LAST.date():
        raise ValueError(f"expected a date from {FIRST.year} to {LAST.year - 1}, got {_shown(value)}")
    return day


def moment(value, start: dt.datetime | None) -> float:
    """Simulated seconds from a clock time on the start date (``14:49``, ``14:49:30``),
    an offset from the start (``+25m``) or an ISO 8601 time. With no start (a timeline
    script checked on its own, before a drill gives it one) only the form can be checked:
    each time is read from the midnight of its own day, as on a drill that starts then."""
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML 1.1 reads an unquoted 14:49 as the base-60 integer 889.
        value = f"{value // 60}:{value % 60:02d}"
    text = str(value).strip()
    if text.startswith("+"):
        return duration(text[1:])
    match = _CLOCK.match(text)
    if match:
        hours, minutes, seconds = int(match[1]), int(match[2]), int(match[3] or 0)
        if hours > 23 or minutes > 59 or seconds > 59:
            raise ValueError(f"{text!r} is not a clock time")
        when = (start or FIRST).replace(hour=0, minute=0, second=0, microsecond=0) + dt.timedelta(
            hours=hours, minutes=minutes, seconds=seconds)
    else:
        try:
            when = timestamp(text)
        except ValueError:
            raise ValueError(f"expected a time such as 14:49, 14:49:30, +25m or an ISO 8601 time, got {_shown(value)}") from None
    offset = (when - (start or when.replace(hour=0, minute=0, second=0, microsecond=0))).total_seconds()
    if offset < 0:
        raise ValueError(f"{text} is before the scenario starts ({clock(start)} UTC)")
    if offset > MAX_SECONDS:
        raise ValueError(f"{text} is more than a year after the scenario starts")
    return offset


def at(start: dt.datetime, t: float) -> dt.datetime:
    """The moment of simulated second ``t`` of a drill that starts at ``start``."""
    return start + dt.timedelta(seconds=t)


def iso(start: dt.datetime, t: float) -> str:
    """ISO 8601 UTC text for simulated second ``t``."""
    return stamper(start)(t)


_SECONDS = [f"{s:02d}Z" for s in range(60)]  # a stamp's last characters (speed: formatting a number is dear)


@functools.lru_cache(maxsize=64)
def stamper(start: dt.datetime):
    """``iso`` of one start, as a function of ``t`` alone (speed: every event is stamped). The
    text of each second is kept, and the text up to the minute once a minute: the drills of
    one scenario meet the same seconds again (their ticks), and the same minutes."""
    minutes: dict[int, str] = {}  # minutes from the start's minute -> "2026-04-20T14:40:"
    seconds: dict[int, str] = {}  # seconds from the start -> its stamp
    offset = start.second  # whole seconds added to start leave its microseconds as they are

    def stamp(t: float) -> str:
        second = round(t)
        text = seconds.get(second)
        if text is None:
            minute, into = divmod(offset + second, 60)
            prefix = minutes.get(minute)
            if prefix is None:
                if len(minutes) >= 1 << 16:
                    minutes.clear()
                prefix = minutes[minute] = at(start, second).strftime("%Y-%m-%dT%H:%M:")
            if len(seconds) >= 1 << 16:
                seconds.clear()
            text = seconds[second] = prefix + _SECONDS[int(into)]  # int(): numpy 1 rounds its floats to floats
        return text
    return stamp


_DAY = dt.timedelta(days=1)


def business_days_after(day: dt.date, count: int) -> dt.date:
    """``count`` business days (Monday to Friday) after ``day``, or after the Monday following it
    when it falls on a weekend: numpy's ``busday_offset(day, count, roll="forward")`` for a
    count of zero or more, without its cost (a drill books its postmortem with it)."""
    while day.weekday() >= 5:
        day += _DAY
    for _ in range(count):
        day += _DAY
        while day.weekday() >= 5:
            day += _DAY
    return day


def business_days_between(start: dt.date, end: dt.date) -> int:
    """The business days (Monday to Friday) from ``start`` up to but not including ``end``; when
    ``end`` comes first, minus those after ``end`` up to and including ``start``: numpy's
    ``busday_count(start, end)``, without numpy (a scorecard counts them, and a process that
    imports numpy keeps a BLAS thread that takes its own share of the CPU)."""
    if end < start:
        return -business_days_between(end + _DAY, start + _DAY)
    weeks, rest = divmod((end - start).days, 7)
    first = start.weekday()
    return 5 * weeks + sum(1 for i in range(rest) if (first + i) % 7 < 5)


def clock(moment_: dt.datetime) -> str:
    return moment_.strftime("%H:%M")


def human(seconds: float | None) -> str:
    """``None`` -> ``-``; 330 -> ``5m30s``."""
    if seconds is None:
        return "-"
    seconds = round(seconds)
    sign, seconds = ("-" if seconds < 0 else ""), abs(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours}h" if hours else "", f"{minutes}m" if minutes else "", f"{secs}s" if secs or not (hours or minutes) else ""]
    return sign + "".join(parts)


def weekday(day: str) -> str:
    """``2026-04-23`` -> ``Thu``: shown beside a date people read, so nobody books a Saturday."""
    return dt.date.fromisoformat(day).strftime("%a")
