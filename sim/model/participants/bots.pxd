# The build's declarations for this module (setup.py; docs/performance.md, "Extension types"): the
# helpers the duties call at every turn take the drill and the participant typed, so the compiled
# code reads their attributes from the struct. (The duties themselves are generators, which a
# .pxd cannot type.)

cimport cython

from ..engine cimport Drill, Participant
from ..incident cimport Incident

@cython.locals(known=dict, names=dict, incident=Incident)
cpdef dict look_around(Drill drill, Participant me, services)
@cython.locals(services=dict, m=dict)
cpdef assess(Drill drill, Participant me, dict seen, bint snap=*)
cpdef bint _normal(Drill drill, name, dict m)
@cython.locals(incident=Incident, people=list, acked=list)
cpdef pick(Drill drill, role)
@cython.locals(p=Participant)
cpdef _seated(Drill drill, role)
@cython.locals(incident=Incident, services=dict, names=set, teams=set)
cpdef set teams_to_page(Drill drill)
