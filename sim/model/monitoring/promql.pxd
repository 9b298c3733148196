# The build's declarations for this module (setup.py; docs/performance.md, "Extension types"): these
# classes compile to extension types, so every attribute the .py gives them is listed here.

cdef class _Selected:
    cdef public object calm, columns, counters, everyone, filled_to, looked, marks, matches, name, offset, readers, rising
    cdef public object _only, _whole, recorded, scraped, series, service_count, serviced, services, store, unnamed, version
