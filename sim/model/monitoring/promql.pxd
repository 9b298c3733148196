# The build's declarations for this module (setup.py; docs/performance.md, "Extension types"): these
# classes compile to extension types, so every attribute the .py gives them is listed here.

cimport cython

from .series cimport Marks, Series, Store, Watcher

cdef class _Selected(Watcher):
    cdef public object calm, counters, filled_to, looked, matches, name, offset, rising
    cdef public Marks everyone, marks
    cdef public object service_count, serviced, version
    cdef public list _only, columns, readers, recorded, scraped, series, unnamed
    cdef public tuple _whole
    cdef public Store store

    cpdef current(self)
    @cython.locals(series=Series)
    cpdef filled(self)
    @cython.locals(series=Series)
    cpdef _pick(self)
    cpdef only(self, services)
    cpdef whole(self)
    cpdef _service_marks(self, service)
    cpdef mark_service(self, service, lo, hi)
    cpdef mark_services(self, services, lo, hi)
    @cython.locals(marks=Marks, first=double, last=double, start=double, end=double)
    cpdef mark(self, lo, hi)
    cpdef uncalm(self)
    cpdef touched(self)

cdef class Read:
    cdef public _Selected selected
    cdef public object range, differences

@cython.locals(out=list, values=list, first=double, result=double, last=Py_ssize_t, counter=bint, wide=bint)
cpdef list _increases(list columns, Py_ssize_t lo, Py_ssize_t hi, list times, double start, double end, double rng,
                      tuple extrapolated, double factor, double to_start, double sampled)

@cython.locals(times=list, lo=Py_ssize_t, hi=Py_ssize_t, last=Py_ssize_t, to_start=double, sampled=double,
               factor=double, selected=list, columns=list)
cpdef tuple _counters_extrapolated(_Selected sel, Store store, double start, double end, double rng,
                                   tuple extrapolated)

@cython.locals(out=list, series=Series, i=Py_ssize_t)
cpdef list _latest_samples(_Selected sel, Store store, double ref, bint stamps)

@cython.locals(average=double, threshold=double, interval=double, factor=double)
cpdef double _factor(double to_start, double to_end, double sampled, double intervals, double rng, bint is_rate)

@cython.locals(sums=list, slot=Py_ssize_t, i=Py_ssize_t)
cpdef list _group_sums(list values, list firsts, list rest, bint leading)
