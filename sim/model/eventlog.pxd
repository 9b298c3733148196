# The build's declarations for this module (setup.py; docs/performance.md, "Extension types"): these
# classes compile to extension types, so every attribute the .py gives them is listed here.

cimport cython

cdef class EventLog:
    cdef public dict kind_listeners
    cdef public object _now, _stamped, clock, events, listeners, stamp, start

    cpdef tuple stamped(self)
    cpdef add(self, dict event)


@cython.locals(value=double, scale=double, scaled=double, whole=double, part=double)
cpdef rounded(x, int places)
