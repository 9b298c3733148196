# The build's declarations for this module (setup.py; docs/performance.md, "Extension types"): these
# classes compile to extension types, so every attribute the .py gives them is listed here.

cdef class Page:
    cdef public object acked_by, cause, id, key, level, levels, service, status, summary, timeout, to, urgency

cdef class Pager:
    cdef public object config, env, log, oncall, pages, policies, receivers
