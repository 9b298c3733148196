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
            at = (*map(id, objects), key)
            entry = kept.get(at)
            if entry is None or any(a is not b for a, b in zip(entry[0], objects)):
                if len(kept) > limit:
                    kept.clear()
                entry = kept[at] = (objects, make(*objects))
            return entry[1]
        return get
    return decorate
