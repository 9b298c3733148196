"""Work done once per scenario: results kept by the identity of the scenario's objects.

Drills of one scenario share its services, rules and groups (the very objects), so what
is worked out from them alone is worked out for the first drill and reused by the rest.
An entry holds those objects, so no other object can take their ids while it is kept.
"""

import functools


def per_scenario(limit: int):
    """Keep ``make(*objects)`` by the identity of ``objects`` (and the value of ``key``),
    forgetting everything past ``limit`` entries (a bound on memory, not on answers)."""
    def decorate(make):
        kept: dict[tuple, tuple] = {}

        @functools.wraps(make)
        def get(*objects, key=()):
            at = (*[id(one) for one in objects], key)  # (compiled, id() is a C call: no map made)
            entry = kept.get(at)
            if entry is None or not _same(entry[0], objects):
                if len(kept) > limit:
                    kept.clear()
                entry = kept[at] = (objects, make(*objects))
            return entry[1]
        return get
    return decorate


def _same(kept: tuple, objects: tuple) -> bool:
    """Whether these are the very objects kept (a loop, not any() of a generator: compiled, no
    generator made at every look-up)."""
    for a, b in zip(kept, objects):
        if a is not b:
            return False
    return True
