# The build's declarations for this module (setup.py; docs/performance.md, "Extension types"): these
# classes compile to extension types, so every attribute the .py gives them is listed here.

cimport cython

from .engine cimport Drill
from .eventlog cimport EventLog

cdef class Incident:
    cdef public object _handlers, channel, declared_at, env, findings, heard, highest, investigating
    cdef public EventLog log
    cdef public dict _shown
    cdef public set leads, implicated
    cdef public Drill drill
    cdef public object misled, mitigations, moved, postmortem, process, resolved_at, revealed, roles, scenario
    cdef public object service, severity, state, tasks, teams_paged, updates

    @cython.locals(seen=tuple, shows=dict, metrics=dict, shown=dict, before=dict, was=dict)
    cpdef dict look(self, by, service)
