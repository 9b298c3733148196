"""Chaos Toolkit experiments as drill triggers.

An experiment's method runs its activities in order, each with optional pauses before
and after (seconds). Each action becomes a fault injection at the time the pauses
give, matched to a fault kind by a mapping table (``chaostoolkit.yaml`` built in, a
user's file first); its rollbacks become the mitigations that fix the faults; its
steady-state hypothesis probes become the alert rules and impact thresholds. What
cannot be mapped is listed, never dropped in silence.
"""

import datetime as dt
import fnmatch
import math
import re
from dataclasses import dataclass, replace
from pathlib import Path

from ..inputs import units, yamlfile
from ..inputs.errors import DrillError
from ..inputs.faults import FAULT_KINDS
from ..inputs.topology import Topology
from ..inputs.yamlfile import Fields, one_of, ranged, text
from . import story

BUILTIN = Path(__file__).resolve().parent / "chaostoolkit.yaml"
LEAD_IN = 300.0  # the drill opens quietly: the experiment's method starts this long after the start
HORIZON = 3 * 3600.0  # the drill's length: an action the pauses put later never happens in it
DEFAULT_START = dt.datetime(2026, 3, 10, 14, 0, tzinfo=dt.timezone.utc)
MATCH_FIELDS = ("type", "module", "func", "path", "arguments", "url")
# Arguments of common drivers that name what they act on.
TARGET_ARGUMENTS = ("name", "service", "service_name", "deployment_name", "app", "label_selector", "name_pattern",
                    "proxy_name", "container_name", "target", "namespace_service", "function_name", "db_instance_identifier",
                    "cluster", "query")
_ERROR_WORDS = ("error", "5xx", "500", "status", "health", "available", "running", "ready", "respond")
_LATENCY_WORDS = ("latency", "duration", "response_time", "slow")


@dataclass(frozen=True)
class Rule:
    match: dict  # field -> shell-style pattern
    kind: str | None = None
    mitigation: str | None = None
    scale: float = 1.0
    service: str | None = None

    def matches(self, fields: dict) -> bool:
        return all(fnmatch.fnmatchcase(fields.get(key, "").lower(), pattern.lower()) for key, pattern in self.match.items())


@dataclass(frozen=True)
class Mapping:
    actions: tuple[Rule, ...]
    rollbacks: tuple[Rule, ...]
    services: dict

    def __add__(self, other: "Mapping") -> "Mapping":
        return Mapping(self.actions + other.actions, self.rollbacks + other.rollbacks, {**other.services, **self.services})


def load_mapping(path) -> Mapping:
    """A mapping table file (the built-in one's format); every problem as ``file:line: message``."""
    from ..inputs.actions import MITIGATIONS

    doc = yamlfile.document(path, "mapping")
    check = doc.checker
    tables = {}
    for section, result_key, choices in (("actions", "kind", tuple(FAULT_KINDS)), ("rollbacks", "mitigation", MITIGATIONS)):
        rules = []
        for line, raw in doc.items(section):
            f = check.mapping(raw, f"{section}[{len(rules)}]", line)
            if f is not None:
                rules.append(_rule(f, result_key, choices))
        tables[section] = tuple(rules)
    services = doc.get("services", _names, {})
    doc.done()
    check.raise_problems()
    return Mapping(tables["actions"], tables["rollbacks"], services)


def _rule(f: Fields, result_key: str, choices: tuple) -> Rule:
    match = f.get("match", _patterns, {}, required=True)
    rule = Rule(match, **{result_key: f.get(result_key, one_of(*choices), None, required=True)},
                scale=f.get("scale", ranged(0, 1e3), 1.0), service=f.get("service", text))
    if rule.scale <= 0:
        f.checker.problem(f.line_of("scale"), f"{f.where}.scale must be more than 0")
    f.done()
    return rule


def _patterns(value) -> dict:
    if not isinstance(value, dict) or not value:
        raise ValueError(f"expected a mapping of field to pattern, e.g. {{module: chaosk8s.pod.actions, func: terminate_pods}} "
                         f"(fields: {', '.join(MATCH_FIELDS)})")
    unknown = set(value) - set(MATCH_FIELDS)
    if unknown:
        raise ValueError(f"unknown field(s) {', '.join(sorted(map(str, unknown)))} (fields: {', '.join(MATCH_FIELDS)})")
    return {key: text(pattern) for key, pattern in value.items()}


def _names(value) -> dict:
    if not isinstance(value, dict):
        raise ValueError("expected a mapping of experiment name to topology service, e.g. {my-provider-app: inventory}")
    return {str(k): text(v) for k, v in value.items()}


BUILTIN_MAPPING = load_mapping(BUILTIN)


# -- reading an experiment --


def _provider(activity: dict) -> dict:
    """An activity's provider; an empty one when the experiment gives none, or not a mapping."""
    provider = activity.get("provider")
    return provider if isinstance(provider, dict) else {}


def _rule_for(rules, activity: dict):
    """The first rule that matches the activity's provider, or None."""
    fields = _fields(activity)
    return next((r for r in rules if r.matches(fields)), None)


def _fields(activity: dict) -> dict:
    """The provider's fields that rules match on, as text."""
    provider = _provider(activity)
    arguments = provider.get("arguments")
    if isinstance(arguments, dict):
        shown = " ".join(f"{k}={v}" for k, v in arguments.items())
    elif isinstance(arguments, list):
        shown = " ".join(map(str, arguments))
    else:
        shown = "" if arguments is None else str(arguments)
    found = {"type": provider.get("type"), "module": provider.get("module"), "func": provider.get("func"),
             "path": provider.get("path"), "arguments": shown, "url": provider.get("url")}
    return {key: str(value) for key, value in found.items() if value is not None}


def _describe(where: str, activity: dict) -> str:
    f = _fields(activity)
    how = " ".join(filter(None, [f.get("type"), ".".join(filter(None, [f.get("module"), f.get("func")])) or
                                 f.get("path") or f.get("url")]))
    return f"{where} {activity.get('type', 'activity')} {activity.get('name', '?')!r} ({how or 'no provider'})"


def _candidates(activity: dict) -> list[str]:
    """Names an activity acts on, most specific first: target arguments, then every argument, then the URL."""
    provider = _provider(activity)
    arguments = provider.get("arguments")
    values = []
    if isinstance(arguments, dict):
        keyed = [arguments[k] for k in TARGET_ARGUMENTS if k in arguments]
        values += keyed + [v for k, v in arguments.items() if k not in TARGET_ARGUMENTS]
    elif arguments is not None:
        values.append(arguments)
    if provider.get("url"):
        values.append(provider["url"])
    flat = []
    for value in values:
        flat += [str(v) for v in value] if isinstance(value, list) else [str(value)]
    return flat


def _service(activity: dict, topology: Topology, mapping: Mapping, rule: Rule | None) -> tuple[str | None, str | None]:
    """(topology service, the experiment's name for it) for what the activity acts on."""
    if rule is not None and rule.service:
        return rule.service, rule.service
    first = None
    for value in _candidates(activity):
        for token in [value, *re.split(r"[^A-Za-z0-9_-]+", value)]:
            if not token:
                continue
            if token in mapping.services:
                return mapping.services[token], token
            if token in topology.services:
                return token, token
        first = first or value
    return None, first


@dataclass(frozen=True)
class Imported:
    name: str
    text: str  # the scenario file
    skipped: tuple[str, ...]  # what could not be mapped, and why


def import_experiment(path, topology: Topology, mapping_file=None, target: str | None = None,
                      start: dt.datetime = DEFAULT_START) -> Imported:
    """A scenario from a Chaos Toolkit experiment (JSON or YAML) placed on ``topology``."""
    path = Path(path)
    mapping = (load_mapping(mapping_file) + BUILTIN_MAPPING) if mapping_file else BUILTIN_MAPPING
    if target is not None and target not in topology.services:
        raise DrillError(f"--target {target}: not a service of topology {topology.name} (services: {', '.join(topology.services)})")
    doc = yamlfile.document(path, "experiment")
    check = doc.checker
    title = doc.get("title", text, path.stem, required=True)
    hypothesis = doc.sub("steady-state-hypothesis")
    probes = [(line, raw) for line, raw in hypothesis.items("probes")] if hypothesis else []
    method = doc.items("method")
    rollbacks = doc.items("rollbacks")
    for where, items in (("steady-state-hypothesis.probes", probes), ("method", method), ("rollbacks", rollbacks)):
        for i, (line, raw) in enumerate(items):
            if not isinstance(raw, dict):
                check.problem(line, f"{where}[{i}] must be a mapping (an activity or a ref), got {type(raw).__name__}")
            for key in ("name", "ref"):
                if isinstance(raw, dict) and key in raw and not isinstance(raw[key], str):
                    check.problem(getattr(raw, "key_lines", {}).get(key, line), f"{where}[{i}].{key} must be text")
    if not method:
        check.problem(doc.line, "experiment: 'method' must list at least one activity")
    check.raise_problems()
    named = {raw["name"]: raw for _, raw in [*probes, *method, *rollbacks] if "name" in raw and "ref" not in raw}

    injections, notes, skipped, problems = _method(method, named, topology, mapping, target)
    for line, message in problems:
        check.problem(line, message)
    check.raise_problems()
    if not injections:
        raise DrillError(f"{path}:{doc.line_of('method')}: no action of the method maps to a fault kind, so there is "
                         "no drill (add rules for them to a --mapping file, see docs/generate.md):\n  " + "\n  ".join(skipped))
    injections = _fixes(rollbacks, named, topology, mapping, injections, notes, skipped)

    services = story.services_block(topology)
    alerts = []
    for i, (_, raw) in enumerate(probes):
        rules, reason = _probe_alerts(raw, topology, mapping, injections, services)
        if reason:
            skipped.append(f"{_describe(f'steady-state-hypothesis.probes[{i}]', raw)}: {reason}")
        alerts = _merge(alerts, rules)
    for inj in injections:  # the cause alerts (high CPU, high memory) of the faulty services
        alerts = _merge(alerts, [story.alert_rule(topology.services[inj.service], m) for m in FAULT_KINDS[inj.kind].causes])
    name = "ctk-" + (re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60] or path.stem)
    scenario = {
        "name": name, "title": title,
        "description": f"{doc.get('description', text, '') or title} (Chaos Toolkit experiment {path.name} as a drill.)",
        "start": units.iso(start, 0), "horizon": units.human(HORIZON),
        "services": services,
        "faults": [story.fault_entry(topology, inj, start) for inj in injections],
        "alerts": alerts,
    }
    seen = story.impact(story.draft(scenario, name))
    if seen.first_alert is None:
        extra = [story.alert_rule(topology.services[s], m) for inj in injections for s, m in story.symptom_rules(topology, inj)]
        scenario["alerts"] = _merge(alerts, extra)
        notes.append("the steady-state probes would not notice these faults: the team's standard symptom alerts were added")
        seen = story.impact(story.draft(scenario, name))
    if seen.first_alert is None:
        raise DrillError(f"{path}:{doc.line_of('method')}: the faults it injects raise no alert on topology "
                         f"{topology.name}, so there is no drill")
    scenario["truth"] = story.truth(topology, scenario, seen)
    header = [f"Imported by `drill import chaostoolkit` from {path.name}: Chaos Toolkit experiment {title!r}.",
              *notes]
    if skipped:
        header += ["Not mapped (nothing in this drill stands for these):", *(f"  {s}" for s in skipped)]
    result = story.dump(scenario, header)
    story.load_text(result, name)
    return Imported(name, result, tuple(skipped))


def _method(method: list, named: dict, topology: Topology, mapping: Mapping, target: str | None):
    """The method's actions as injections at the times the pauses give; with notes, what was
    skipped, and problems (line, message) for targets that cannot be placed."""
    skipped, notes, injections, problems = [], [], [], []
    t = LEAD_IN
    for i, (line, raw) in enumerate(method):
        activity = named.get(raw["ref"], raw) if "ref" in raw else raw
        where = f"method[{i}]"
        if "ref" in raw and raw["ref"] not in named:
            problems.append((line, f"{where}: ref {raw['ref']!r} names no activity of the experiment"))
            continue
        pauses = activity.get("pauses") if isinstance(activity.get("pauses"), dict) else {}
        t += _pause(pauses, "before", where, skipped)
        rule = _rule_for(mapping.actions, activity)
        if activity.get("type") != "action":
            skipped.append(f"{_describe(where, activity)}: a probe observes and injects nothing")
        elif rule is None:
            skipped.append(f"{_describe(where, activity)}: no fault kind matches (add a rule to a --mapping file)")
        elif t >= HORIZON:
            skipped.append(f"{_describe(where, activity)}: its pauses put it at {units.human(t)}, after the drill's "
                           f"end at {units.human(HORIZON)}")
        else:
            service, called = _service(activity, topology, mapping, rule)
            if service is None and target is not None:
                service = target
                notes.append(f"{target} stands in for {called or 'the unnamed target'} of {where}")
            if service is None or service not in topology.services:
                problems.append((line, f"{where}: {activity.get('name')!r} acts on {called or 'nothing named'}, "
                                       f"which is not a service of topology {topology.name}: map it in a --mapping "
                                       f"file (services: {{{called or 'name'}: <service>}}) or give --target SERVICE"))
            else:
                arguments = _provider(activity).get("arguments")
                lasting = arguments.get("duration") if isinstance(arguments, dict) else None
                injections.append(story.Injection(
                    id=f"fault-{len(injections) + 1}", kind=rule.kind, service=service, at=round(t, 1),
                    scale=rule.scale, ramp=30.0, duration=_seconds(lasting) or None,
                    description=f"{activity.get('name', where)}: {FAULT_KINDS[rule.kind].description.lower()}"))
                notes.append(f"{_describe(where, activity)} -> {rule.kind} on {service} at {units.human(t)}")
        t += _pause(pauses, "after", where, skipped)
    return injections, notes, skipped, problems


def _fixes(rollbacks: list, named: dict, topology: Topology, mapping: Mapping, injections: list,
           notes: list, skipped: list) -> list:
    """The injections, fixed (also) by the mitigations the rollbacks stand for."""
    fixes: dict[str, list] = {}
    for i, (_, raw) in enumerate(rollbacks):
        activity = named.get(raw.get("ref"), raw)
        where = f"rollbacks[{i}]"
        rule = _rule_for(mapping.rollbacks, activity)
        if rule is None:
            skipped.append(f"{_describe(where, activity)}: no mitigation matches; the faults keep the catalog's fixes")
            continue
        service, _ = _service(activity, topology, mapping, None)
        for inj in injections:
            if service in (None, inj.service):  # a rollback naming no service of ours undoes them all
                fixes.setdefault(inj.id, []).append(rule.mitigation)
        notes.append(f"{_describe(where, activity)} -> fixed by {rule.mitigation}")
    return [inj if inj.id not in fixes else
            replace(inj, fixes=tuple(dict.fromkeys([*fixes[inj.id], *FAULT_KINDS[inj.kind].fixes])))
            for inj in injections]


def _merge(alerts: list, more: list) -> list:
    """``alerts`` and those of ``more`` whose names are new."""
    names = {a["alert"] for a in alerts}
    return alerts + [a for a in more if a["alert"] not in names]


def _seconds(value) -> float | None:
    """Seconds from a number (0 to a year), or None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return units.duration(value)
    except ValueError:
        return None


def _pause(pauses: dict, which: str, where: str, skipped: list) -> float:
    value = pauses.get(which)
    if value is None:
        return 0.0
    seconds = _seconds(value)
    if seconds is None:  # e.g. a ${configuration} reference, resolved only when the experiment runs
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        skipped.append(f"{where} pauses.{which} {value!r} is not " + (
            "a pause from 0 s to a year" if number else "a number of seconds") + ": taken as 0s")
        return 0.0
    return seconds


def _probe_alerts(probe: dict, topology: Topology, mapping: Mapping, injections, services: dict) -> tuple[list, str | None]:
    """Alert rules for one steady-state probe (and the impact thresholds it sets), or why there are none."""
    fields = _fields(probe)
    words = " ".join([probe.get("name", ""), fields.get("module", ""), fields.get("func", ""), fields.get("arguments", ""),
                      fields.get("url", "")]).lower()
    metric = ("latency_p99_ms" if any(w in words for w in _LATENCY_WORDS) else
              "error_rate" if fields.get("type") == "http" or any(w in words for w in _ERROR_WORDS) else None)
    if metric is None:
        return [], "no service metric drillsim watches corresponds to it"
    service, _ = _service(probe, topology, mapping, None)
    reached = [n for inj in injections for n in topology.reach(inj.service)]
    if service is not None:
        targets = [service]
    elif "all" in fields.get("func", "").lower():
        targets = list(dict.fromkeys(reached))
    else:  # what the users of the system rely on: the customer-facing services the faults reach
        targets = list(dict.fromkeys(n for n in reached if topology.services[n].customer_facing)) or reached[:1]
    limit = _upper(probe.get("tolerance"))
    provider = _provider(probe)
    if metric == "error_rate" and isinstance(provider.get("timeout"), (int, float)):
        limit = None
        metric_limits = [("error_rate", None), ("latency_p99_ms", 1000.0 * provider["timeout"])]
    else:
        if metric == "latency_p99_ms" and limit is not None and limit < 100:
            limit *= 1000.0  # a tolerance in seconds
        metric_limits = [(metric, limit)]
    camel = "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", probe.get("name", "SteadyState")))
    rules = []
    for name in targets:
        svc = topology.services[name]
        for metric_, value in metric_limits:
            if value is not None:  # the probe's tolerance is where users are affected: the first probe broken
                impact = services[name].setdefault("impact", {})
                impact[metric_] = min(round(value, 4), impact.get(metric_, math.inf))
            rule = story.alert_rule(svc, metric_, threshold_=value,
                                    name=camel + ("" if len(targets) == 1 else svc.name.title().replace("-", "")))
            rule["annotations"]["summary"] = f"steady state {probe.get('name', '?')!r} broken: {rule['annotations']['summary']}"
            rules.append(rule)
    return rules, None


def _upper(tolerance) -> float | None:
    """The upper bound of a range tolerance ({type: range, range: [low, high]}), else None."""
    if isinstance(tolerance, dict) and tolerance.get("type") == "range":
        bounds = tolerance.get("range")
        if isinstance(bounds, list) and len(bounds) == 2 and all(isinstance(b, (int, float)) for b in bounds):
            return float(max(bounds))
    return None
