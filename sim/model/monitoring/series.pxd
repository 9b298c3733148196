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
    cpdef mark(self, lo, hi)
    cpdef catch_up(self, upto=*)

cdef class Store:
    cdef public object _dt, _indexed, _last, _metrics, _ranges_at, epoch_ms, fell, first
    cdef public object gap, period, scrape_interval, services, version
    cdef public list _available, _falling, scrape_times, scraped, series
    cdef public dict _layouts, _members, _named, _picks, _ranges, _rank, _recorded_times, _wanted, _written, by_name
    cdef public dict recorded
    cdef public set _lagging, _uncalm
    cdef public tuple _span

    cpdef scrape(self, t, metrics, moved=*)
    cpdef scraped_span(self, start, end)
    cpdef ranges_at(self, t)
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
