# The build's declarations for this module (setup.py; docs/performance.md, "Extension types"): these
# classes compile to extension types, so every attribute the .py gives them is listed here.

cimport cython

from .promql cimport Read, _Selected
from ..world cimport World
from .series cimport Marks, Store

cdef class Alert:
    cdef public object cause, fingerprint, keep_since, labels, rendered, rule, series, since, state, value

cpdef step(Alert alert, holds, now, for_s, keep_for)

cdef class _PromRule:
    cdef public object _columns, _keys, applied, apart, checked, clock, every, phases, query
    cdef public object recording, rule, shows_value, was_calm
    cdef public dict alerts, before, calm, early, named, results
    cdef public list _dropped, asleep, names, reads, selectors, shows
    cdef public tuple _names, parted
    cdef public Py_ssize_t _quiet_version, _clear_version, _calm_version
    cdef public double _quiet_at, _clear_checked, _clear_at
    cdef public bint _calm_reads
    cdef public Read _clear_read
    cdef public Store store

    cpdef output(self, now)
    @cython.locals(calm=dict, at=double, every=double, phases=Py_ssize_t, tick=Py_ssize_t, shared=tuple, parted=tuple)
    cpdef result(self, now)
    @cython.locals(read=Read, sel=_Selected, marks=Marks, start=double, until=double, left=list, at=double,
                   offset=double, end=double, marked=dict, changed=set, rest=dict, out=dict)
    cpdef _apart(self, now, since, last)
    @cython.locals(at=double)
    cpdef _marked(self, now)
    @cython.locals(read=Read, version=Py_ssize_t, calm=bint)
    cpdef _reads_calm(self)
    @cython.locals(version=Py_ssize_t, checked=double)
    cpdef double _clear_until(self)
    @cython.locals(sel=_Selected)
    cpdef double _next_mark(self, Read read)
    @cython.locals(every=double, offset=double, span=double)
    cpdef double _window_start(self, Read read, double looked)
    @cython.locals(read=Read, sel=_Selected, nearest=Read, until=double, at=double)
    cpdef _windows_clear_until(self)
    @cython.locals(a=Alert)
    cpdef _repeats(self)
    @cython.locals(read=Read)
    cpdef _shows_fresh_values(self)
    @cython.locals(until=double)
    cpdef double quiet_until(self, now)
    @cython.locals(seen=dict, known=dict, names=list, recorded=dict, i=Py_ssize_t)
    cpdef _evaluate(self, now)

cdef class Rules:
    cdef dict __dict__
    cdef public object _fresh, _groups, _prometheus, _seen, _untouched, env, evaluation_interval
    cdef public object log, notify, scraped_at
    cdef public World world
    cdef public dict _place, _watched, _watching
    cdef public list _checks, _passes, _recording, alerts, groups, intervals, shorthand
    cdef public set _fired, _unsettled
    cdef public tuple _firing
    cdef public Store store

    cpdef scraped(self, times, moved)
    @cython.locals(rule=_PromRule, compiled=list, records=list, asleep=list, state=tuple, kept=tuple, mine=tuple,
                   store=Store, i=Py_ssize_t, start=Py_ssize_t, at=double, each=double, checked=double,
                   first=Py_ssize_t, end=Py_ssize_t, wakes=double, later=double, quiet=double)
    cpdef evaluate(self, interval=*)
    cpdef _replay(self, _PromRule rule, list skipped)
    @cython.locals(rule=_PromRule, compiled=list, asleep=tuple, unsettled=set, until=double, now=double, tick=double,
                   quiet=double)
    cpdef double idle_until(self)
    @cython.locals(alert=Alert, result=dict, before=dict, parted=tuple)
    cpdef _evaluate(self, _PromRule compiled, now)
    @cython.locals(alert=Alert, metrics=dict, checks=list, unsettled=set)
    cpdef _shorthand(self, now)

@cython.locals(whole=double, rest=double)
cpdef long long _nearest(double x)

cpdef _service(tuple key)

@cython.locals(whole=double)
cpdef long long _ceiling(double x)

cdef double INF, _EPS
