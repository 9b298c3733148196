"""The one action API: what a responder can do, and the shape each action must have.

Bots, timeline scripts, the console and the browser all build ``Action`` values with
``parse_action``; the incident module decides whether the state allows them.
"""

import datetime as dt
from collections.abc import Mapping
from types import MappingProxyType
from typing import NamedTuple

from . import units
from .yamlfile import repeated

ROLES = ("ic", "comms", "ops")
STATUSES = ("investigating", "identified", "mitigating", "resolved")
AUDIENCES = ("internal", "public")  # the incident channel and stakeholders; the public status page
MITIGATIONS = ("rollback", "restart", "scale_up", "feature_flag", "failover", "block_traffic", "circuit_breaker")
# What the IC can ask someone to do (``ask``), and the fields each task needs.
TASKS = {"investigate": ("service",), "mitigate": ("action", "service"), "update": (), "page": ("teams",)}

# action -> (required fields, optional fields); "teams" is a list, times are clock times.
FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "ack": ((), ("page",)),
    "look": (("service",), ()),
    "declare": (("severity",), ("service", "summary")),
    "severity": (("severity",), ("reason",)),
    "assign": (("role", "who"), ()),
    "page": (("teams",), ()),
    "update": (("status", "summary"), ("next_update", "eta", "audience")),
    "investigate": (("service",), ()),
    "mitigate": (("action", "service"), ()),
    "resolve": ((), ("summary", "confirm")),
    "reopen": (("reason",), ()),
    "say": (("text",), ()),
    "ask": (("who", "task"), ("service", "action", "teams")),
    "stand_down": ((), ("reason",)),
    "schedule_postmortem": (("date",), ()),
}

# The longest text each field takes: free text (a summary, a reason) up to a long
# paragraph, an ETA a phrase, a name (service, severity, person, team, page) a few words.
MAX_TEXT = {"summary": 2000, "reason": 2000, "text": 2000, "eta": 200}
MAX_NAME = 100
# How far ahead an action in a known drill may name a moment: a next update at most a day
# after the drill's horizon, a postmortem at most a year after its start. No drill needs
# more, and every date computed from them stays far from the calendar's end.
NEXT_UPDATE_AFTER_HORIZON = 86400.0
POSTMORTEM_WITHIN = dt.timedelta(days=366)


class Action(NamedTuple):  # a named tuple: immutable, and quicker to make than a frozen dataclass (bots make dozens a drill)
    """One thing a participant does: ``do`` by ``by`` with its fields."""

    do: str
    by: str
    fields: Mapping = MappingProxyType({})  # none: shared by every action without fields, so read-only

    def get(self, name, default=None):
        return self.fields.get(name, default)


def parse_action(raw: dict, start: dt.datetime | None, horizon: float | None = None) -> Action:
    """Check one action's shape, types and lengths, and that its times lie on the calendar;
    given the drill's ``horizon`` (seconds after ``start``), also that they lie within the
    drill. With no ``start`` (a script checked alone) times are checked for their form only
    (``units.moment``). Raise ``ValueError`` saying what is wrong."""
    if not isinstance(raw, dict):
        raise ValueError(f"an action is a mapping, got {type(raw).__name__}")
    do = raw.get("do")
    if not isinstance(do, str) or do not in FIELDS:
        raise ValueError(f"unknown action {do!r} (known: {', '.join(FIELDS)})")
    by = raw.get("by")
    if not isinstance(by, str) or not by:
        raise ValueError(f"{do}: missing 'by' (who acts)")
    required, optional = FIELDS[do]
    unknown = set(raw) - {"do", "by", "at", *required, *optional}
    if unknown:
        raise ValueError(f"{do}: unknown field(s) {', '.join(sorted(unknown))} (allowed: {', '.join(required + optional) or 'none'})")
    fields = {}
    for name in required + optional:
        value = raw.get(name)
        if value is None:
            if name in required:
                raise ValueError(f"{do}: missing '{name}'")
            continue
        try:
            fields[name] = _convert(do, name, value, start, horizon)
        except OverflowError:
            raise ValueError(f"{do}: '{name}' lies beyond the calendar") from None
        # A blank summary would count as a status update (and keep the cadence), a blank text
        # as a word in the channel: what a field must hold, it must hold in words.
        if name in required and isinstance(fields[name], str) and not fields[name].strip():
            raise ValueError(f"{do}: '{name}' is empty")
    _check_text(do, "by", by)
    if do == "ask":
        needs = TASKS[fields["task"]]
        missing = [name for name in needs if name not in fields]
        extra = sorted(set(fields) - {"who", "task", *needs})
        if missing:
            raise ValueError(f"ask: the {fields['task']} task needs '{missing[0]}'")
        if extra:
            raise ValueError(f"ask: the {fields['task']} task takes no '{extra[0]}'")
    return Action(do, by, fields)


def _convert(do: str, name: str, value, start: dt.datetime | None, horizon: float | None):
    if name == "teams":
        teams = [value] if isinstance(value, str) else value
        if not isinstance(teams, list) or not teams or not all(isinstance(t, str) for t in teams):
            raise ValueError(f"{do}: 'teams' must be a list of team names")
        for team in teams:
            _check_text(do, name, team)
        if twice := repeated(teams):  # paged once all the same, and the record read "the payments and payments teams"
            raise ValueError(f"{do}: team {twice[0]!r} is listed twice")
        return list(teams)
    if name == "next_update":
        if not isinstance(value, (str, int)) or isinstance(value, bool) or len(str(value)) > MAX_NAME:
            raise ValueError(f"{do}: 'next_update' must be a time such as 15:20 or +30m")
        try:
            t = units.moment(value, start)
        except ValueError as exc:
            raise ValueError(f"{do}: 'next_update': {exc}") from None
        if horizon is not None and t > horizon + NEXT_UPDATE_AFTER_HORIZON:
            raise ValueError(f"{do}: the next update at {value} is more than a day after the drill's end")
        if start is not None:
            units.at(start, t)  # past the calendar's end: OverflowError
        return t
    if name == "date":
        if not isinstance(value, (str, dt.date)) or len(str(value)) > MAX_NAME:
            raise ValueError(f"{do}: 'date' must be a date such as 2026-04-23")
        try:
            day = units.date(value)
        except ValueError as exc:
            raise ValueError(f"{do}: 'date': {exc}") from None
        if horizon is not None and day > (start + POSTMORTEM_WITHIN).date():
            raise ValueError(f"{do}: the date {day} is more than a year after the drill's start ({start.date()})")
        return day.isoformat()
    if name == "confirm":
        if value not in (True, "yes", "true"):
            raise ValueError(f"{do}: 'confirm' is true (or yes), got {value!r}")
        return True
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):  # (a mapping or list is no name either)
        raise ValueError(f"{do}: '{name}' must be text")
    if name == "task" and value not in TASKS:
        raise ValueError(f"{do}: task must be one of {', '.join(TASKS)}, got {value!r}")
    if name == "role" and value not in ROLES:
        raise ValueError(f"{do}: role must be one of {', '.join(ROLES)}, got {value!r}")
    if name == "status" and value not in STATUSES:
        raise ValueError(f"{do}: status must be one of {', '.join(STATUSES)}, got {value!r}")
    if name == "audience" and value not in AUDIENCES:
        raise ValueError(f"{do}: audience must be one of {', '.join(AUDIENCES)}, got {value!r}")
    if name == "action" and value not in MITIGATIONS:
        raise ValueError(f"{do}: mitigation must be one of {', '.join(MITIGATIONS)}, got {value!r}")
    text = str(value)
    _check_text(do, name, text)
    return text


def _check_text(do: str, name: str, text: str) -> None:
    most = MAX_TEXT.get(name, MAX_NAME)
    if len(text) > most:
        raise ValueError(f"{do}: '{name}' is longer than {most} characters")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{do}: '{name}' is not valid Unicode text (it holds a lone surrogate)") from None
