"""Prometheus rule files into the team's monitoring file (``drill import prometheus``).

Each rule is checked as drillsim would load it; one it cannot evaluate (an unsupported
function, a subquery, a template function) is left out and listed with its
``file:line`` and reason, never dropped in silence. With a topology, rules whose
selectors match none of the series the topology's services export are listed too (they
would never see data in a drill). The result is a Prometheus rule file again
(``groups:``); written into an existing one, groups of the same name are replaced and the
others kept.
"""

from dataclasses import dataclass
from pathlib import Path

import promql_parser
import yaml

from ..inputs import yamlfile
from ..inputs.errors import DrillError
from ..inputs.promrules import TEAM_RULE_FILES, is_rule_file, load_rules, rule_problem
from ..inputs.topology import Topology
from ..model.monitoring.promql import selector_matches
from ..model.monitoring.series import catalog

RULE_KEYS = ("alert", "record", "expr", "for", "keep_firing_for", "labels", "annotations")
GROUP_KEYS = ("name", "interval", "limit", "rules")


@dataclass
class Imported:
    text: str
    skipped: list  # "file:line: why"
    unseen: list  # "file:line: alert X selects no series of topology T"
    left_out: list  # "file:line: where.field: ..." a field of a rule or group the import does not carry


def _left_out(path, node: dict, where: str, known: tuple) -> list[str]:
    """The fields of a group or rule that drillsim's rule files do not have (another tool's, a
    newer Prometheus's, a misspelling), each with its line: the import leaves them out."""
    return [f"{path}:{node.key_lines[key]}: {where}.{key}: not a field drillsim's rule files have "
            f"(known: {', '.join(known)})" for key in node if key not in known]


def _selects_nothing(expr: str, exported: list, records: set) -> bool:
    found = []

    def visit(node):
        kind = type(node).__name__
        if kind in ("VectorSelector", "MatrixSelector"):
            vs = node if kind == "VectorSelector" else node.vector_selector
            matches = selector_matches(vs)
            found.append(vs.name in records or any(matches(labels) for labels in exported))
    promql_parser.walk(promql_parser.parse(expr), visit)
    return bool(found) and not any(found)


def import_rules(paths: list[Path], topology: Topology | None = None, into: Path | None = None) -> Imported:
    skipped, unseen, left_out, groups, found = [], [], [], {}, {}
    exported = [labels for labels, _, _ in catalog(topology.services)] if topology else []
    docs = []
    for path in paths:
        doc = yamlfile.load(path)
        if not is_rule_file(doc) or not isinstance(doc.get("groups"), list):
            raise DrillError(f"{path}:1: not a Prometheus rule file (expected a top-level 'groups:' list)")
        docs.append((path, doc))
    # A recorded series is every rule's to select, whichever file records it: those imported together,
    # and those of the rule files already beside the file written into (a drill reads them all)
    beside = [] if into is None else sorted(p for pattern in TEAM_RULE_FILES for p in into.parent.glob(pattern))
    records = {name for doc in [doc for _, doc in docs] + [_readable(p) for p in beside] for name in _recorded(doc)}
    for path, doc in docs:
        for group, gline in zip(doc["groups"], getattr(doc["groups"], "item_lines", [1] * len(doc["groups"]))):
            if not isinstance(group, dict) or not isinstance(group.get("rules"), list) or not str(
                    group.get("name") or "").strip():
                raise DrillError(f"{path}:{gline}: a group needs a name and a list of rules")
            gname = str(group["name"]).strip()
            if gname in found:  # Prometheus keeps both (in two files); a drill's file holds one of a name
                raise DrillError(f"{path}:{gline}: group {gname!r} is also at {found[gname]}: a monitoring file holds "
                                 "one group of a name; rename one, or import them one at a time into separate files")
            found[gname] = f"{path}:{gline}"
            left_out += _left_out(path, group, f"group {gname}", GROUP_KEYS)
            kept = []
            for rule, line in zip(group["rules"], getattr(group["rules"], "item_lines", [gline] * len(group["rules"]))):
                name = rule.get("alert") or rule.get("record") if isinstance(rule, dict) else None
                problem = (line, "rule: not a rule (give alert or record, and expr)") if name is None else \
                    rule_problem(rule, str(name))
                if problem is not None:
                    skipped.append(f"{path}:{problem[0]}: {problem[1]}")
                    continue
                if topology is not None and _selects_nothing(str(rule["expr"]), exported, records):
                    unseen.append(f"{path}:{line}: {name} selects no series the services of topology "
                                  f"{topology.name} export")
                left_out += _left_out(path, rule, str(name), RULE_KEYS)
                kept.append({k: _plain(rule[k]) for k in RULE_KEYS if k in rule})
            entry = {"name": gname, **{k: _plain(group[k]) for k in ("interval", "limit") if k in group}, "rules": kept}
            groups[entry["name"]] = entry
    merged = _merge(into, groups)
    text = yaml.dump({"groups": merged}, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120)
    return Imported(text, skipped, unseen, left_out)


def _readable(path: Path):
    """A file's YAML, or None where it is none (a neighbour's problems are its own to report)."""
    try:
        return yamlfile.load(path)
    except DrillError:
        return None


def _recorded(doc) -> set:
    """The series a rule file's recording rules record (none when it is not a rule file)."""
    groups = doc.get("groups") if isinstance(doc, dict) else None
    return {str(r["record"]) for g in (groups if isinstance(groups, list) else []) if isinstance(g, dict)
            for r in (g.get("rules") if isinstance(g.get("rules"), list) else []) if isinstance(r, dict) and "record" in r}


def _merge(into: Path | None, groups: dict) -> list:
    """The groups of an existing rule file with the imported ones in place of same-named ones."""
    if into is None or not into.exists():
        return list(groups.values())
    load_rules(into)  # the file written into must itself be a rule file drillsim loads
    existing = [_plain(g) for g in yamlfile.load(into)["groups"]]
    names = {g["name"] for g in existing}
    return [groups.get(g["name"], g) for g in existing] + [g for n, g in groups.items() if n not in names]


class _Dumper(yaml.SafeDumper):
    """Multi-line expressions and templates written as literal blocks, as people write them."""


_Dumper.add_representer(str, lambda dumper, value: dumper.represent_scalar(
    "tag:yaml.org,2002:str", value, style="|" if "\n" in value else None))


def _plain(value):
    """YAML read with line numbers, as plain dicts, lists and scalars for writing back."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
