"""The event log: every observable thing in a drill, in order, in simulated time.

It is the single source of truth: scores, timelines and reports are derived from it.
"""

import datetime as dt
import json
from math import floor

from ..inputs import units


class EventLog:
    """Events as dicts ``{"t", "at", "kind", ...}``; as each is added, the listener of its kind
    hears it (``kind_listeners``), then every listener of all events (``listeners``)."""

    def __init__(self, start: dt.datetime, clock):
        self.start = start
        self.stamp = units.stamper(start)
        self.clock = clock  # a callable giving the simulated time now
        self._now, self._stamped = None, None  # the time of the last event, and its t and at
        self.events: list[dict] = []
        # speed: the bots are woken by a few kinds of event, and most events are of none of them
        self.kind_listeners: dict = {}
        self.listeners: list = []

    def emit(self, kind: str, /, **fields) -> dict:
        t, at = self.stamped()
        event = {"t": t, "at": at, "kind": kind, **fields}
        # The log's own keys are never taken from the fields: an event is always where and
        # what it says it is (a caller passing them is a bug, caught here rather than logged;
        # a field of the same name would have replaced one of the three).
        if len(event) != len(fields) + 3:
            raise ValueError(f"{kind}: an event's fields cannot be named t, at or kind")
        self.add(event)
        return event

    def stamped(self) -> tuple:
        """Now, as an event logs it: ``(t, at)``."""
        now = self.clock()
        if now != self._now:  # else stamped as the event before (speed: events come in bursts)
            whole = int(now)
            t = whole if now == whole else rounded(now, 3)
            self._now, self._stamped = now, (t, self.stamp(t))
        return self._stamped

    def add(self, event: dict) -> None:
        """Log an event made by ``emit``, or by a caller that makes its own (speed: the commonest,
        a look at a dashboard, made with no dict of fields to copy), stamped ``stamped()``, its
        fields after ``t``, ``at`` and ``kind``."""
        self.events.append(event)
        heard = self.kind_listeners.get(event["kind"])
        if heard is not None:
            heard(event)
        for listener in self.listeners:
            listener(event)


def rounded(x, places: int):
    """``round(x, places)`` (a time or a metric as logged), without its conversion to decimal text
    where the rounding is plain: a float's ``x * 10**places`` at least a thousandth from a half, so
    its error (an ulp, below a ten-thousandth here) cannot move it past one; then the nearest double
    to that many 10**-places, as ``round`` gives it (an integer below 2**53, divided exactly rounded).
    Anything else (an int, a zero or a negative, whose sign ``round`` keeps, NaN, a half or near
    one) goes to ``round`` itself."""
    if type(x) is float:
        value, scale = x, 10.0 ** places  # (compiled, doubles)
        scaled = value * scale
        if 0.0 < scaled < 1e12:
            whole = floor(scaled)
            part = scaled - whole
            if part < 0.499 or part > 0.501:
                return (whole + 1 if part > 0.5 else whole) / scale
    return round(x, places)


def to_jsonl(events: list[dict]) -> str:
    return "".join(json.dumps(e, separators=(",", ":")) + "\n" for e in events)

