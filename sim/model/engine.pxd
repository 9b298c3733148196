# The build's declarations for this module (setup.py; docs/performance.md, "Extension types"): these
# classes compile to extension types, so every attribute the .py gives them is listed here.

cimport cython

from .clock cimport Clock
from .monitoring.rules cimport Rules
from .world cimport World

cdef class Participant:
    cdef public object bot, free_at, loops, name, person, rng, seat, worked

cdef class Drill:
    cdef dict __dict__
    cdef public object _last_posted, _lockstep, _may_idle, _quiet, _scrape_every, _scrapes, _skips, act
    cdef public object closed, done, drawn, ends_at, env, grows, incident, last_updates, log, monitoring
    cdef public object people, process, rng, roster, samples, scenario, scrape_listeners, script, seed
    cdef public list _clocks, _facing, _hurt, _ticking, _usual
    cdef public dict _facing_at, _hurt_at, _impacted, _losses, _moved, began, totals
    cdef public tuple _sampled
    cdef public Py_ssize_t _seen
    cdef public World world

    @cython.locals(world=World, names=tuple, moved=list, metrics=dict, hurt=list, hurt_at=dict, impacted=dict, m=dict,
                   extra=double, short=double, failed=double, lost=double, usual=list, errors=double,
                   traffic=double, revenue_per_min=double, revenue=double, rules=Rules)
    cpdef _scrape(self, now, interval)
    @cython.locals(rules=Rules, clocks=list, clock=list, every=double, scraped=Py_ssize_t, due=double,
                   count=Py_ssize_t, interval=double)
    cpdef _count(self, double tick, idle=*, double until=*)
    @cython.locals(rules=Rules)
    cpdef _idle_until(self, after)
    @cython.locals(hurt=list, totals=dict, requests=dict, counted=dict, revenue_lost=double, failed_sum=double,
                   lost_sum=double, failed=double, lost=double, losses=tuple)
    cpdef _account(self, list scrapes)

cdef class _At:
    cdef public object env, callbacks, _ok, _value

cdef class _First:
    cdef public object env, callbacks, _ok, _value, _waiting, _fired

cdef class _Idle:
    cdef public Drill _drill
    cdef public _At _timer, _wait
    cdef public object env, callbacks, _ok, _value, _every, _heard, _closed, _timed_cb, _closing_cb, _checked_cb


@cython.locals(clock=Clock)
cpdef _first(env)
@cython.locals(clock=Clock)
cpdef _schedule_at(env, event, t)
