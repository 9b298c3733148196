# The build's declarations for this module (setup.py; docs/performance.md, "Extension types"): these
# classes compile to extension types, so every attribute the .py gives them is listed here.

cdef class Marks:
    cdef public object los, his, join

cdef class Series:
    cdef public object labels, key, times, values, counter, step, compute, marks, watchers, calm, service

cdef class Store:
    cdef public object _available, _dt, _falling, _indexed, _last, _layouts, _metrics, _named, _ranges
    cdef public object _lagging, _picks, _ranges_at, _recorded_times, _span, _uncalm, _wanted, by_name, epoch_ms, fell, first
    cdef public object gap, period, recorded, scrape_interval, scrape_times, scraped, series, services
    cdef public object version, _members, _written
