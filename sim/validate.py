"""What kind of input a file is, decided by one table, and checking it with its loader.

A file may say what it is with a top-level ``kind:`` key; where it does not, the first
row whose shape matches decides. Used by ``drill validate``; it sits above every
package because the files it knows are read by loaders from all of them.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .authoring.chaos import load_mapping
from .authoring.incidents import load_words
from .inputs import yamlfile
from .inputs.alertmanager import load_alertmanager
from .inputs.config import (
    default_file,
    load_process,
    load_roster,
    load_scenario,
    load_script,
)
from .inputs.errors import DrillError
from .inputs.faults import load_catalog
from .inputs.promrules import is_rule_file, load_rules
from .inputs.topology import load_topology
from .inputs.variants import load_variant
from .records.plan import load_plan


@dataclass(frozen=True)
class Kind:
    key: str  # the value of an explicit ``kind:`` key, and the loader's name for the file
    name: str  # what ``drill validate`` calls it
    looks_like: Callable[[dict], bool]
    load: Callable[[Path], object]


def _mapping_rules(doc: dict) -> bool:
    rules = [rule for key in ("actions", "rollbacks") if isinstance(doc.get(key), list) for rule in doc[key]]
    aliases = doc.get("services")  # a mapping file's services name topology services; a scenario's describe them
    return any(isinstance(rule, dict) and "match" in rule for rule in rules) or (
        isinstance(aliases, dict) and bool(aliases) and all(isinstance(v, str) for v in aliases.values()))


# First match wins, so the more particular shapes come first; a process file is what is left.
KINDS = (
    Kind("topology", "topology", lambda d: "topology" in d, load_topology),
    Kind("words", "incident words", lambda d: isinstance(d.get("lines"), list), load_words),
    Kind("catalog", "fault catalog", lambda d: "kinds" in d, load_catalog),
    Kind("rules", "Prometheus rules", is_rule_file, load_rules),
    Kind("mapping", "chaos mapping", _mapping_rules, load_mapping),
    Kind("alertmanager", "Alertmanager configuration", lambda d: "route" in d and "receivers" in d, load_alertmanager),
    # a scenario begun without its services still has keys no other file has
    Kind("scenario", "scenario", lambda d: any(k in d for k in ("services", "faults", "start", "horizon", "truth")),
         load_scenario),
    Kind("script", "script", lambda d: "actions" in d or "participants" in d, load_script),
    Kind("roster", "roster", lambda d: "people" in d, load_roster),
    Kind("plan", "plan", lambda d: "drills" in d,
         lambda p: load_plan(p, load_roster(default_file("drills/roster.yaml")))),
    Kind("variant", "variant", lambda d: isinstance(d.get("process"), dict) or isinstance(d.get("roster"), dict),
         lambda p: load_variant(p.stem, p, default_file("drills/process.yaml"), default_file("drills/roster.yaml"))),
    Kind("process", "process", lambda d: True, load_process),
)
BY_KEY = {kind.key: kind for kind in KINDS}


def kind_of(path: Path, doc) -> Kind:
    """The file's kind: its ``kind:`` key if it has one, else its shape."""
    if not isinstance(doc, dict):
        names = ", ".join(kind.name for kind in KINDS)
        raise DrillError(f"{path}:1: expected a mapping (one of: {names})")
    if "kind" in doc:
        if not isinstance(doc["kind"], str) or doc["kind"] not in BY_KEY:
            line = getattr(doc, "key_lines", {}).get("kind", 1)
            raise DrillError(f"{path}:{line}: kind: unknown kind {doc['kind']!r} (known: {', '.join(BY_KEY)})")
        return BY_KEY[doc["kind"]]
    return next(kind for kind in KINDS if kind.looks_like(doc))


def validate(path) -> str:
    """Load any input file by its kind; return what it was, or raise with every problem."""
    path = Path(path)
    kind = kind_of(path, yamlfile.load(path))
    kind.load(path)
    return kind.name
