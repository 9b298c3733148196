# The build's declarations for this module (setup.py; docs/performance.md, "Extension types"): these
# classes compile to extension types, so every attribute the .py gives them is listed here.

cimport cython

cdef class FaultState:
    cdef public object _recovery_spread, _rng, bent, caused, effects, fault, outcome, pace, segments, setbacks, wrong_leads

cdef class _Estate:
    cdef public object services
    cdef public dict base, calm, deps, rank
    cdef public list callers, order

cdef class World:
    cdef public _Estate _estate
    cdef public object noise, scenario, services
    cdef public dict _blips, _own, _passed, causes, metrics
    cdef public list _blip_edges, _blip_spans, _paths, changed, faults, order
    cdef public tuple _steady

    @cython.locals(state=FaultState, err_ok=double, lat_extra=double, traffic=double, cpu=double, mem=double,
                   level=double, share=double, extra_err=double, extra_lat=double,
                   latency=double, requests=double, dv=tuple, dep_now=double, dep_slow=double, dep_errors=double,
                   dep_latency=double)
    cpdef _compute(self, name, acting)

    @cython.locals(state=FaultState, paths=list, i=Py_ssize_t)
    cpdef bint _unbent(self)
    cpdef steady_until(self)
    @cython.locals(state=FaultState)
    cpdef untouched(self)

    @cython.locals(own=dict, was=dict, estate=_Estate, passed=dict, rank=dict, callers=list, order=list, todo=list,
                   queued=set, moved=list, level=double, steady=double, now=tuple, last=tuple,
                   metrics=dict, causes=dict, blips=dict, was_blipped=dict, state=FaultState, since=double,
                   until=double, i=Py_ssize_t)
    cpdef observe(self, t)


@cython.locals(steady=double, t0=double, l0=double, t1=double, l1=double)
cpdef tuple _at(list segments, double t)

@cython.locals(before=tuple)
cpdef tuple _shown(tuple now, tuple was=*)
