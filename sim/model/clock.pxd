# The build's declarations for this module (setup.py; docs/performance.md, "Extension types"): these
# classes compile to extension types, so every attribute the .py gives them is listed here.

cimport cython

cdef class _Entry:
    cdef public double t
    cdef public int priority
    cdef public long long eid
    cdef public object at, event

cdef class Clock:
    cdef public object _now, _active_proc
    cdef public list _heap
    cdef public long long _eid

    cpdef schedule(self, event, int priority=*, delay=*)
    @cython.locals(entry=_Entry, up=_Entry, heap=list, i=Py_ssize_t, parent=Py_ssize_t)
    cpdef push(self, event, int priority, at)
    @cython.locals(heap=list, first=_Entry, last=_Entry, down=_Entry, right=_Entry, i=Py_ssize_t,
                   child=Py_ssize_t, n=Py_ssize_t)
    cpdef pop(self)
    @cython.locals(heap=list, first=_Entry)
    cpdef peek(self)
    @cython.locals(own=_Event)
    cpdef step(self)


cdef bint _before(_Entry a, _Entry b)

cdef class _Event:
    cdef dict __dict__  # a failed event that someone handled is marked _defused, as simpy marks it
    cdef public Clock env
    cdef public object callbacks, _ok, _value

cdef class _Process(_Event):
    cdef public object _generator, _target, _resumes

cpdef _Event _succeeded(Clock env, value=*)
