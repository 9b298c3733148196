# The build's declarations for this module (setup.py; docs/performance.md, "Extension types"): these
# classes compile to extension types, so every attribute the .py gives them is listed here.

cimport cython

from .promql cimport Read, _Selected
from .series cimport Marks, Store

cdef class Alert:
    cdef public object cause, fingerprint, keep_since, labels, rendered, rule, series, since, state, value

cpdef step(Alert alert, holds, now, for_s, keep_for)

cdef class _PromRule:
    cdef public object _calm_at, _clear, _columns, _dropped, _keys, _names, _quiet, alerts, applied, apart, asleep, parted
    cdef public object before, calm, checked, clock, early, every, named, names, phases, query, reads
    cdef public object recording, results, rule, selectors, shows, shows_value, was_calm
    cdef public Store store

    @cython.locals(read=Read, sel=_Selected, marks=Marks)
    cpdef _apart(self, now, since, last)
    @cython.locals(sel=_Selected)
    cpdef _next_mark(self, Read read)
    @cython.locals(read=Read, sel=_Selected)
    cpdef _windows_clear_until(self)

cdef class Rules:
    cdef dict __dict__
    cdef public object _checks, _fired, _firing, _fresh, _groups, _place, _prometheus, _recording, _records
    cdef public object _seen, _unsettled, _untouched, _watched, _watching, alerts, env, evaluation_interval
    cdef public object groups, intervals, log, notify, scraped_at, shorthand, world
    cdef public Store store

    @cython.locals(alert=Alert)
    cpdef _evaluate(self, _PromRule compiled, now)
    @cython.locals(alert=Alert, metrics=dict, checks=list, unsettled=set)
    cpdef _shorthand(self, now)
