"""A drill's own clock: simpy's ``Environment``, with a queue that compiles to plain C.

SimPy keeps its queue as a heap of ``(time, priority, id, event)`` tuples; pushing and
popping one compares tuples, which costs more than the rest of handling most events. The
clock keeps ``_Entry``s instead, with the time as a C double, and sifts its own heap
comparing them field by field, in the same order: earlier first, then the more urgent
priority, then the one scheduled first. Every event is processed when, and in the order,
simpy would process it. Its events, timeouts and processes (``_Event``, ``_Process``) are
simpy's classes line for line, compiled with it; simpy's interrupts read them as simpy's own.
"""

import math
from importlib.machinery import EXTENSION_SUFFIXES

import simpy
from simpy.core import EmptySchedule, StopSimulation
from simpy.events import NORMAL, PENDING, URGENT


class _Entry:
    """An event in the queue: ``at`` its time as scheduled (an int or a float, the clock's once it
    is processed), ``t`` the same as a float, to compare."""


def _before(a: _Entry, b: _Entry) -> bool:
    if a.t != b.t:
        return a.t < b.t
    if a.priority != b.priority:
        return a.priority < b.priority
    return a.eid < b.eid


class Clock:
    """``simpy.Environment`` for a drill on its own clock (``Drill`` makes one when it is handed none)."""

    def __init__(self):
        self._now = 0
        self._active_proc = None
        self._heap: list[_Entry] = []
        self._eid = 0  # entries scheduled so far: the next one's id

    @property
    def now(self):
        return self._now

    @property
    def active_process(self):
        return self._active_proc

    def process(self, generator) -> "_Process":
        return _Process(self, generator)

    def timeout(self, delay=0, value=None) -> "_Event":
        """simpy's ``Timeout``: an event processed ``delay`` from now, with ``value``."""
        if delay < 0:
            raise ValueError(f"Negative delay {delay}")
        event = _succeeded(self, value)
        self.push(event, NORMAL, self._now + delay)
        return event

    def event(self) -> "_Event":
        return _Event(self)

    def all_of(self, events) -> simpy.AllOf:
        return simpy.AllOf(self, events)

    def any_of(self, events) -> simpy.AnyOf:
        return simpy.AnyOf(self, events)

    def schedule(self, event, priority: int = NORMAL, delay=0) -> None:
        self.push(event, priority, self._now + delay)

    def push(self, event, priority: int, at) -> None:
        """Schedule ``event`` at the time ``at`` itself (``schedule`` adds a delay to now, which
        rounding can move off a time worked out)."""
        entry = _Entry.__new__(_Entry)  # no __init__ (speed: an entry for every event)
        entry.at, entry.t, entry.priority, entry.eid, entry.event = at, at, priority, self._eid, event
        self._eid += 1
        heap = self._heap
        heap.append(entry)
        i = len(heap) - 1
        while i > 0:  # up from the end while before its parent
            parent = (i - 1) >> 1
            up = heap[parent]
            if not _before(entry, up):
                break
            heap[i] = up
            i = parent
        heap[i] = entry

    def pop(self):
        """The next event, its time now the clock's."""
        heap = self._heap
        first = heap[0]
        last = heap.pop()
        n = len(heap)
        if n:
            i = 0
            while True:  # down from the top: the earlier child up, until the last entry fits
                child = 2 * i + 1
                if child >= n:
                    break
                down = heap[child]
                if child + 1 < n:
                    right = heap[child + 1]
                    if _before(right, down):
                        child, down = child + 1, right
                if not _before(down, last):
                    break
                heap[i] = down
                i = child
            heap[i] = last
        self._now = first.at
        return first.event

    def peek(self):
        """When the next event is due, or infinity when none is."""
        heap = self._heap
        if not heap:
            return math.inf
        first = heap[0]
        return first.at

    def step(self) -> None:
        """Process the next event, as ``simpy.Environment.step`` does (``run`` calls it compiled:
        a drill processes about four hundred events)."""
        if not self._heap:
            raise EmptySchedule()
        event = self.pop()
        own = event if isinstance(event, _Event) else None  # the clock's own (most): compiled, read from its struct
        if own is not None:
            callbacks, own.callbacks = own.callbacks, None
        else:
            callbacks, event.callbacks = event.callbacks, None
        try:
            for callback in callbacks:
                callback(event)
        except StopSimulation:
            # as simpy does: the callbacks left run first when the clock runs again
            event.callbacks = callbacks[callbacks.index(callback) + 1:]
            self.schedule(event, -1)
            raise
        if not (event._ok if own is None else own._ok) and not hasattr(event, "_defused"):
            # a failed event nobody handled fails the run: a copy of its exception, with it as the cause
            exc = type(event._value)(*event._value.args)
            exc.__cause__ = event._value
            raise exc

    def run(self, until=None):
        """Step until ``until`` (a time or an event), as ``simpy.Environment.run`` does."""
        if until is not None:
            if not isinstance(until, (simpy.Event, _Event)):
                at = until if isinstance(until, int) else float(until)
                if at <= self._now:
                    raise ValueError(f"until ({at}) must be greater than the current simulation time")
                until = _succeeded(self)
                self.schedule(until, URGENT, at - self._now)
            elif until.callbacks is None:
                return until.value
            until.callbacks.append(StopSimulation.callback)
        try:
            while True:
                self.step()
        except StopSimulation as exc:
            return exc.args[0]
        except EmptySchedule:
            if until is not None:
                raise RuntimeError(f'No scheduled events left but "until" event was not triggered: {until}') from None
        return None


class _Event:
    """simpy's ``Event`` on a drill's own clock, its methods and properties as simpy's, line for
    line: compiled, an event is made and read without an interpreted ``__init__`` or a dict of
    attributes (a failed event someone handled gets one, for simpy's ``_defused`` mark)."""

    def __init__(self, env: Clock):
        self.env, self.callbacks, self._value = env, [], PENDING

    @property
    def triggered(self) -> bool:
        return self._value is not PENDING

    @property
    def processed(self) -> bool:
        return self.callbacks is None

    @property
    def ok(self) -> bool:
        return self._ok

    @property
    def defused(self) -> bool:
        return hasattr(self, "_defused")

    @defused.setter
    def defused(self, value: bool) -> None:
        self._defused = True

    @property
    def value(self):
        if self._value is PENDING:
            raise AttributeError(f"Value of {self} is not yet available")
        return self._value

    def trigger(self, event) -> None:
        self._ok, self._value = event._ok, event._value
        self.env.schedule(self)

    def succeed(self, value=None) -> "_Event":
        if self._value is not PENDING:
            raise RuntimeError(f"{self} has already been triggered")
        self._ok, self._value = True, value
        self.env.schedule(self)
        return self

    def fail(self, exception: BaseException) -> "_Event":
        if self._value is not PENDING:
            raise RuntimeError(f"{self} has already been triggered")
        if not isinstance(exception, BaseException):
            raise TypeError(f"{exception} is not an exception.")
        self._ok, self._value = False, exception
        self.env.schedule(self)
        return self


def _succeeded(env: Clock, value=None) -> _Event:
    """An event succeeded with ``value`` and not queued yet (timeouts, a process's start, a run's
    end): made without ``__init__``, which would make it pending."""
    event = _Event.__new__(_Event)
    event.env, event.callbacks, event._ok, event._value = env, [], True, value
    return event


class _Process(_Event):
    """simpy's ``Process`` on a drill's own clock: an event that resumes its generator with the
    value of each event it yields, as simpy's ``_resume`` does, line for line (the same
    resumptions, so the same drill), and is processed itself when the generator ends; simpy's
    interrupts read it as they read simpy's (``_target``, ``_resume``). Compiled, it resumes a
    bot without an interpreted frame (speed: a reference drill resumes its processes about 170
    times)."""

    def __init__(self, env: Clock, generator):
        if not hasattr(generator, "throw"):
            raise ValueError(f"{generator} is not a generator.")
        self.env, self.callbacks, self._value, self._generator = env, [], PENDING, generator
        self._resumes = self._resume  # the bound method every wait calls back (one, not one a wait)
        start = _succeeded(env)  # simpy's Initialize: urgent, now
        start.callbacks.append(self._resumes)
        self._target = start
        env.schedule(start, URGENT)

    @property
    def target(self):
        return self._target

    @property
    def name(self) -> str:
        return self._generator.__name__

    @property
    def is_alive(self) -> bool:
        return self._value is PENDING

    def interrupt(self, cause=None) -> None:
        simpy.events.Interruption(self, cause)

    def _resume(self, event) -> None:
        env = self.env
        env._active_proc = self
        while True:
            try:
                if event._ok:
                    event = self._generator.send(event._value)
                else:  # the generator handles the failed event, or fails itself, with a copy of its exception
                    event._defused = True
                    exc = type(event._value)(*event._value.args)
                    exc.__cause__ = event._value
                    event = self._generator.throw(exc)
            except StopIteration as ended:
                event = None
                self._ok, self._value = True, ended.args[0] if ended.args else None
                env.schedule(self)
                break
            except BaseException as failed:  # noqa: BLE001 (as simpy: the process fails with whatever its generator raised)
                event = None
                self._ok, self._value = False, failed
                env.schedule(self)
                break
            try:
                callbacks = event.callbacks
            except AttributeError:
                raise RuntimeError(f'Invalid yield value "{event}"') from None
            if callbacks is not None:  # not processed yet: resumed when it is
                callbacks.append(self._resumes)
                break
        self._target = event
        env._active_proc = None


def own_clock():
    """A drill's own clock: a ``Clock`` where this module is compiled; where it runs from source,
    simpy's ``Environment`` (there heapq, in C, compares simpy's tuples faster than the ``Clock``'s
    queue runs as Python)."""
    return Clock() if _COMPILED else simpy.Environment()


_COMPILED = __file__.endswith(tuple(EXTENSION_SUFFIXES))  # as `drill --version` tells
