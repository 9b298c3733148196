# The build's declarations for this module (setup.py; docs/performance.md, "Extension types"): these
# classes compile to extension types, so every attribute the .py gives them is listed here.

cimport cython

cdef class Marks:
    cdef public list los, his
    cdef public object join
    cpdef add(self, lo, hi)
    cpdef next_from(self, start)

cdef class Series:
    cdef public object labels, key, counter, step, compute, calm, service
    cdef public list times, values, watchers
    cdef public Marks marks

cdef class Store:
    cdef public object _available, _dt, _falling, _indexed, _last, _layouts, _metrics, _named, _ranges
    cdef public object _lagging, _picks, _ranges_at, _recorded_times, _span, _uncalm, _wanted, by_name, epoch_ms, fell, first
    cdef public object gap, period, recorded, scrape_interval, services
    cdef public list scrape_times, scraped, series
    cdef public object version, _members, _rank, _written

    @cython.locals(one=Series)
    cpdef fill(self, series=*, scrapes=*)
    @cython.locals(series=Series)
    cpdef _restep(self, t, metrics, dt, moved)
    @cython.locals(series=Series)
    cpdef _mark(self, changed, t)
    @cython.locals(series=Series)
    cpdef record(self, t, owner, output, before=*, calm=*, again=*, changed=*)
    @cython.locals(series=Series)
    cpdef named(self, name)
