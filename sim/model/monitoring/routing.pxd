# The build's declarations for this module (setup.py; docs/performance.md, "Extension types"): these
# classes compile to extension types, so every attribute the .py gives them is listed here.

cimport cython

cdef class Group:
    cdef public object alive, empty_since, labels, members, route, touched, waiting

cdef class Router:
    cdef public object _deliver, _routed, alerts, cleanup, config, env, groups, log, named, nflog, wallclock

    cpdef bint _collected(self, Group group)
    @cython.locals(members=dict)
    cpdef _flush(self, Group group)
    cpdef _dedup(self, Group group, list alerts)
