# The build's declarations for this module (setup.py; docs/performance.md, "Extension types"): these
# classes compile to extension types, so every attribute the .py gives them is listed here.

cimport cython

from .series cimport Marks, Series, Store

cdef class _Selected:
    cdef public object calm, columns, counters, filled_to, looked, matches, name, offset, readers, rising
    cdef public Marks everyone, marks
    cdef public object _only, _whole, recorded, scraped, series, service_count, serviced, services, unnamed, version
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
    cpdef mark(self, lo, hi)

cdef class Read:
    cdef public _Selected selected
    cdef public object range, differences
