"""Process variants: an overlay on ``drills/process.yaml`` and, optionally, on the roster's profiles.

A variant file (``drills/variants/*.yaml``)::

    description: The IC writes the status updates; there is no Communications Lead
    process:                     # merged key by key into the process file
      dedicated_comms: false
    roster:                      # optional: behaviour profile changes, by person
      alex: {experience: 1.0}

The overlay is checked on its own first, so every mistake is reported at its line in
the variant file; unknown keys are rejected as in any process or roster file.
"""

from dataclasses import dataclass, replace
from pathlib import Path

from . import yamlfile
from .config import (
    DEFAULT_SEVERITIES,
    Process,
    Roster,
    load_process,
    load_profile,
    load_roster,
    process_from,
)
from .errors import DrillError
from .yamlfile import Checker, Fields, text


@dataclass(frozen=True)
class Variant:
    name: str
    description: str
    process: Process
    roster: Roster


def load_variant(name: str, path, process_file=None, roster_file=None) -> Variant:
    """Variant ``name`` from ``path``, merged onto ``process_file`` (or the built-in process) and ``roster_file``."""
    path = Path(path)
    doc = yamlfile.document(path, "variant")
    check = doc.checker
    description = doc.get("description", text, "")
    overlay = doc.sub("process")
    people = doc.sub("roster")
    if "process" not in doc.data and "roster" not in doc.data and _reads_as_process(path, doc.data):
        raise DrillError(f"{path}: a process file, not a variant: a variant names what it changes under "
                         f"'process:' (drills/variants/baseline.yaml runs drills/process.yaml as written)")
    doc.done()
    if overlay is not None:
        process_from(Fields(check, overlay.data, "process"), overlay=True)  # checked alone: errors at the variant's lines
    check.raise_problems()
    base = yamlfile.load(process_file) if process_file else _built_in()
    if not isinstance(base, dict) or base.get("severities", True) in (None, {}):
        load_process(process_file)  # says what is wrong with it, at its line
    if not base.get("severities"):  # the file runs the built-in levels, which the overlay changes
        base = {**base, "severities": _built_in()["severities"]}
    changed = overlay.sub("severities") if overlay is not None else None
    levels = list(base["severities"]) if isinstance(base["severities"], dict) else []
    for level in changed.data if changed is not None else ():
        if level not in levels:  # it would be added after the last level, the least severe, and judged nowhere
            check.problem(changed.line_of(level), f"process.severities.{level}: the process has no level {level!r} "
                          f"(its levels: {', '.join(levels)}): a variant changes the levels the process file gives")
    check.raise_problems()
    merged = _merge(base, overlay.data if overlay is not None else {})
    process = process_from(Checker(path).mapping(merged, "process", 1, root=True))
    roster = load_roster(roster_file, process)
    if people is not None:
        roster = _overlay_roster(roster, people, check)
    check.raise_problems()
    return Variant(name, description, process, roster)


def _reads_as_process(path: Path, data: dict) -> bool:
    """Whether the document is a whole process file (the likeliest slip: the process itself given
    as a variant), which would otherwise be refused field by field as unknown to a variant."""
    check = Checker(path)
    try:
        process_from(check.mapping(data, "process", 1, root=True))
    except DrillError:
        return False
    return bool(data) and not check.problems


def _merge(base, overlay):
    """``overlay`` merged into ``base``: mappings key by key, anything else replaced."""
    if not (isinstance(base, dict) and isinstance(overlay, dict)):
        return overlay
    merged = dict(base)
    for key, value in overlay.items():
        merged[key] = _merge(base[key], value) if key in base else value
    return merged


def _built_in() -> dict:
    """The built-in process as a document, so that an overlay of one severity keeps the others."""
    return {"severities": {
        name: {"description": level.description, "response": level.response,
               "cadence": [level.cadence_min, level.cadence_max], "roles": list(level.roles),
               "postmortem": level.postmortem, "status_page": list(level.status_page) if level.status_page else "none"}
        for name, level in DEFAULT_SEVERITIES.items()}}


def _overlay_roster(roster: Roster, people: Fields, check: Checker) -> Roster:
    changed = {}
    for name in people.data:
        people.seen.add(name)
        person = roster.person(str(name))
        if person is None:
            known = ", ".join(p.name for p in roster.people)
            check.problem(people.line_of(name), f"roster: no person {name!r} in the roster (people: {known})")
            continue
        fields = check.mapping(people.data[name], f"roster.{name}", people.line_of(name))
        if fields is not None:
            changed[person.name] = load_profile(fields, person.profile)
    return replace(roster, people=tuple(replace(p, profile=changed.get(p.name, p.profile)) for p in roster.people))
