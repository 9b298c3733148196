"""The one action API: what a responder can do, and the shape each action must have.

Bots, timeline scripts, the console and the browser all build ``Action`` values with
``parse_action``; the incident module decides whether the state allows them.
"""

import datetime as dt
from dataclasses import dataclass, field

from . import units

ROLES = ("ic", "comms", "ops")
STATUSES = ("investigating", "identified", "mitigating", "resolved")
MITIGATIONS = ("rollback", "restart", "scale_up", "feature_flag", "failover", "block_traffic", "circuit_breaker")

# action -> (required fields, optional fields); "teams" is a list, times are clock times.
FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "ack": ((), ("page",)),
    "look": (("service",), ()),
    "declare": (("severity",), ("service", "summary")),
    "severity": (("severity",), ("reason",)),
    "assign": (("role", "who"), ()),
    "page": (("teams",), ()),
    "update": (("status", "summary"), ("next_update", "eta")),
    "investigate": (("service",), ()),
    "mitigate": (("action", "service"), ()),
    "resolve": ((), ("summary",)),
    "stand_down": ((), ("reason",)),
    "schedule_postmortem": (("date",), ()),
}

MAX_TEXT = 2000


@dataclass(frozen=True)
class Action:
    """One thing a participant does: ``do`` by ``by`` with its fields."""

    do: str
    by: str
    fields: dict = field(default_factory=dict)

    def get(self, name, default=None):
        return self.fields.get(name, default)

    def as_event(self) -> dict:
        return {"by": self.by, "do": self.do, **self.fields}


def parse_action(raw: dict, start: dt.datetime) -> Action:
    """Check one action's shape; raise ``ValueError`` saying what is wrong."""
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
        fields[name] = _convert(do, name, value, start)
    return Action(do, by, fields)


def _convert(do: str, name: str, value, start: dt.datetime):
    if name == "teams":
        teams = [value] if isinstance(value, str) else value
        if not isinstance(teams, list) or not teams or not all(isinstance(t, str) for t in teams):
            raise ValueError(f"{do}: 'teams' must be a list of team names")
        return list(teams)
    if name == "next_update":
        return units.moment(value, start)
    if name == "date":
        return units.date(value).isoformat()
    if name == "role" and value not in ROLES:
        raise ValueError(f"{do}: role must be one of {', '.join(ROLES)}, got {value!r}")
    if name == "status" and value not in STATUSES:
        raise ValueError(f"{do}: status must be one of {', '.join(STATUSES)}, got {value!r}")
    if name == "action" and value not in MITIGATIONS:
        raise ValueError(f"{do}: mitigation must be one of {', '.join(MITIGATIONS)}, got {value!r}")
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise ValueError(f"{do}: '{name}' must be text")
    text = str(value)
    if len(text) > MAX_TEXT:
        raise ValueError(f"{do}: '{name}' is longer than {MAX_TEXT} characters")
    return text
