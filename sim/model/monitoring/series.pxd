# The build's declarations for this module (setup.py; docs/performance.md, "Extension types"): these
# classes compile to extension types, so every attribute the .py gives them is listed here.

cimport cython

cdef class Marks:
    cdef public list los, his
    cdef public object join
    @cython.locals(los=list, his=list, start=double, last=double, join=double, first=double, end=double)
    cpdef add(self, lo, hi)
    @cython.locals(his=list, n=Py_ssize_t, i=Py_ssize_t, end=double)
    cpdef double next_from(self, double start)

cdef int ANSWERED, FAILED, FASTER, REQUESTS, SECONDS, UP, CPU, MEMORY, SHOWN
cdef double LN_100

cdef class Step:
    cdef public int kind, shown
    cdef public double bound
    cdef public object metric
    cpdef double of(self, double rate, double errors, double p99, double cpu, double memory, double dt)

cpdef (double, double, double, double, double) metrics_of(dict m)

cdef class Watcher:
    cdef public dict services
    cdef public long long planned
    cdef public set planned_services
    cpdef mark(self, lo, hi)
    cpdef mark_service(self, service, lo, hi)
    cpdef mark_services(self, services, lo, hi)
    cpdef uncalm(self)

cdef class Series:
    cdef public dict labels
    cdef public object key, service
    cdef public bint counter, calm
    cdef public double step
    cdef public Step compute
    cdef public list times, values, watchers
    cdef public Marks marks
    @cython.locals(selected=Watcher)
    cpdef mark(self, lo, hi)
    @cython.locals(selected=Watcher)
    cpdef uncalm(self)
    cpdef catch_up(self, upto=*)
    @cython.locals(i=Py_ssize_t, times=list, at=double, lookback=double)
    cpdef Py_ssize_t latest(self, double t)

cpdef double _below(double bound, double p99_ms)
cpdef bint _same(a, b)
cpdef bint _moved(value, old)

cdef long long _plans

@cython.locals(series=Series, selected=Watcher, told=list, watching=list, plan=cython.longlong)
cpdef tuple _mark_plan(list changed)

@cython.locals(i=Py_ssize_t)
cpdef bint _keys_are(dict d, list keys)

cdef class Store:
    cdef public object _dt, _indexed, _last, _metrics, _ranges_at, epoch_ms, fell, first
    cdef public object gap, period, scrape_interval, services
    cdef public Py_ssize_t version
    cdef public list _available, _falling, scrape_times, scraped, series
    cdef public dict _in_rank, _layouts, _mark_plans, _members, _named, _picks, _ranges, _rank, _recorded_times, _wanted, _written, by_name
    cdef public dict recorded
    cdef public set _lagging, _uncalm
    cdef public double _span_start, _span_end
    cdef public Py_ssize_t _span_count, _span_lo, _span_hi

    @cython.locals(series=Series)
    cpdef forget(self)
    @cython.locals(one=Series)
    cpdef watch(self, Watcher selected, list series)
    cpdef scrape(self, t, metrics, moved=*)
    @cython.locals(times=list, count=Py_ssize_t, lo=Py_ssize_t, hi=Py_ssize_t, bound=double, at=double)
    cpdef (Py_ssize_t, Py_ssize_t) scraped_span(self, double start, double end)
    cpdef ranges_at(self, t)
    @cython.locals(one=Series, values=list, upto=Py_ssize_t, n=Py_ssize_t, last=double, step=double)
    cpdef fill(self, series=*, scrapes=*)
    @cython.locals(series=Series, members_of=dict, rank=dict, members=list, changed=list, steps=list, m=dict,
                   every=bint, first=bint, second=bint, falls=bint, step=double, old=double, rate=double,
                   errors=double, p99=double, cpu=double, memory=double, seconds=double)
    cpdef _restep(self, t, dict metrics, dt, moved)
    @cython.locals(series=Series, plan=tuple, selected=Watcher, marked=set)
    cpdef _mark(self, list changed, t)
    @cython.locals(series=Series, mine=dict, times=list, layout=tuple, some=dict, keys=list, written_to=list,
                   olds=list, i=Py_ssize_t)
    cpdef record(self, t, owner, dict output, dict before=*, calm=*, again=*, changed=*)
    @cython.locals(series=Series)
    cpdef named(self, name)
