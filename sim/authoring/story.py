"""Failure stories over a topology: from fault injections to a complete, valid scenario.

The generator and the chaos importer both describe *what* fails (``Injection``); this
module turns that into a scenario document: the fault entries with findings written from
the catalog's templates, the team's alert rules for the symptoms and causes, and the
truth block, derived from the simulated impact (never guessed): the scenario is run
once with nobody answering, and the worst impact on the services is classed by the
process's severity definitions.
"""

import datetime as dt
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

from ..inputs import units, yamlfile
from ..inputs.config import (
    SEVERITIES,
    Scenario,
    Script,
    ScriptParticipant,
    Service,
    load_scenario,
)
from ..inputs.faults import FAULT_KINDS
from ..inputs.topology import Topology

ASSESS_WINDOW = 300.0  # the impact visible this long after the first alert sets the expected severity


@dataclass(frozen=True)
class Injection:
    """One fault to inject: a catalog kind on a service, at a time, at a size."""

    id: str
    kind: str
    service: str
    at: float
    scale: float = 1.0
    errors: float = 1.0  # share of the kind's error effect: a slow burn gets slow before it fails
    ramp: float = 60.0
    duration: float | None = None
    fixes: tuple[str, ...] | None = None  # None: the catalog's
    caller_after: float = 240.0  # how long investigating a caller takes to point onwards
    root_after: float = 360.0  # how long investigating the faulty service takes to find the cause
    variant: int = 0  # which of the catalog's root-cause texts
    version: str = "v2.14.0"
    description: str = ""


def magnitude(inj: Injection) -> dict:
    """The kind's effects at ``inj.scale``: added effects scale, multiplied ones scale their excess."""
    result = {}
    for effect, size in FAULT_KINDS[inj.kind].effects.items():
        share = inj.errors if effect == "error_rate" else 1.0
        value = 1.0 + (size - 1.0) * inj.scale if effect in ("latency", "traffic") else min(0.99, size * inj.scale * share)
        result[effect] = round(value, 4)
    return result


def suggested_fix(inj: Injection) -> str:
    kind = FAULT_KINDS[inj.kind]
    fixes = inj.fixes if inj.fixes is not None else kind.fixes
    return (list(fixes) or list(kind.eases) or list(kind.band_aids))[0]


def fault_entry(topology: Topology, inj: Injection, start: dt.datetime) -> dict:
    """A scenario's fault entry, with the findings that lead from each caller to the cause."""
    kind = FAULT_KINDS[inj.kind]
    words = {"service": inj.service, "time": units.clock(units.at(start, inj.at)),
             "version": inj.version, "fix": suggested_fix(inj)}
    findings = []
    for caller, callee in topology.reach(inj.service).items():
        if callee is not None:
            findings.append({"service": caller, "after": units.human(inj.caller_after),
                             "text": kind.caller_finding.format(**{**words, "caller": caller, "service": callee}),
                             "points_to": callee})
    root = kind.root_causes[inj.variant % len(kind.root_causes)]
    findings.append({"service": inj.service, "after": units.human(inj.root_after),
                     "text": root.format(**words, caller=""), "root_cause": True, "suggests": suggested_fix(inj)})
    entry = {"id": inj.id, "kind": inj.kind, "service": inj.service, "at": units.human(inj.at),
             "magnitude": magnitude(inj), "ramp": units.human(inj.ramp)}
    if inj.duration is not None:
        entry["duration"] = units.human(inj.duration)
    if inj.fixes is not None:
        entry["fixes"] = list(inj.fixes)
    entry["description"] = inj.description or f"{kind.description}: {inj.service}"
    entry["findings"] = findings
    return entry


# -- the team's alert rules --

_RULES = {  # metric -> (name suffix, words, for)
    "error_rate": ("HighErrorRate", "error rate", "2m"),
    "latency_p99_ms": ("HighLatency", "p99 latency", "3m"),
    "request_rate": ("HighTraffic", "request rate", "2m"),
    "cpu": ("HighCPU", "CPU", "2m"),
    "memory": ("HighMemory", "memory", "2m"),
}


def threshold(svc: Service, metric: str) -> float:
    """The team's alerting threshold for a metric of a service (its steady state sets it)."""
    if metric == "error_rate":
        # Customer-facing services alert where customers start to notice (their impact threshold).
        return round(max(svc.impact_error_rate if svc.customer_facing else 0.05, 10 * svc.error_rate), 4)
    if metric == "latency_p99_ms":
        return round(2 * svc.latency_p99_ms, 1)
    if metric == "request_rate":
        return round(2 * svc.request_rate, 1)
    return 0.9


def alert_rule(svc: Service, metric: str, threshold_: float | None = None, severity: str | None = None,
               name: str | None = None, for_: str | None = None) -> dict:
    """One Prometheus-style rule on a service's metric; symptoms of customer-facing services page."""
    suffix, words, default_for = _RULES[metric]
    value = threshold(svc, metric) if threshold_ is None else threshold_
    if severity is None:
        symptom = metric in ("error_rate", "latency_p99_ms")
        severity = "critical" if symptom and svc.customer_facing else "warning"
    shown = _shown(metric, value)
    camel = "".join(part.capitalize() for part in svc.name.replace("_", "-").split("-"))
    return {
        "alert": name or f"{camel}{suffix}",
        "expr": f'{metric}{{service="{svc.name}"}} > {value:g}',
        "for": for_ or default_for,
        "labels": {"severity": severity, "team": svc.team},
        "annotations": {"summary": f"{svc.name} {words} above {shown}",
                        "runbook_url": f"https://runbooks.example.com/{svc.name}/{suffix.lower()}"},
    }


def _shown(metric: str, value: float) -> str:
    if metric in ("error_rate", "cpu", "memory"):
        return f"{value * 100:g}%"
    if metric == "latency_p99_ms":
        return f"{value:g}ms"
    return f"{value:g}/s"


def symptom_rules(topology: Topology, inj: Injection, every_metric: bool = False) -> list[tuple[str, str]]:
    """(service, metric) pairs the team alerts on for this fault: symptoms where it is felt, causes where it is."""
    kind = FAULT_KINDS[inj.kind]
    pairs = []
    for name in topology.reach(inj.service):
        for metric in (_RULES if every_metric else kind.symptoms):
            if metric in ("error_rate", "latency_p99_ms") or name == inj.service:
                pairs.append((name, metric))
    pairs += [(inj.service, metric) for metric in kind.causes]
    return pairs


# -- the truth, derived from the impact --


def classify(services: dict, sample: dict) -> int | None:
    """The severity rank the impact in one sample calls for, by the severity definitions
    (config.DEFAULT_SEVERITIES, DESIGN.md), or None for no impact:

    0 (SEV1) a critical, customer-facing service past its impact threshold: a critical business function down;
    1 (SEV2) a customer-facing service past its impact threshold: significant user impact;
    2 (SEV3) a customer-facing service degraded below it (errors above 3x baseline + 0.1%, or p99 above
      1.5x baseline): limited user impact;
    3 (SEV4) only internal services affected: no user impact.
    """
    rank = None
    for name, (error_rate, latency) in sample.items():
        svc = services[name]
        if svc.breached(error_rate, latency):
            level = 0 if svc.customer_facing and svc.critical else 1 if svc.customer_facing else 3
        elif svc.customer_facing and svc.degraded(error_rate, latency):
            level = 2
        elif svc.degraded(error_rate, latency):
            level = 3
        else:
            continue
        rank = level if rank is None else min(rank, level)
    return rank


@dataclass(frozen=True)
class Impact:
    """What the scenario does when nobody answers: the first fault alert, and the severities it calls for."""

    first_alert: dict | None  # the first alert.firing event caused by a fault
    severity: str | None  # called for by the impact up to ASSESS_WINDOW after the first alert
    final_severity: str | None  # called for by the worst impact at any time


def unattended(scenario: Scenario):
    """Run the scenario with nobody answering the pages; the event log and metric samples."""
    from ..model.engine import run_drill

    nobody = Script((ScriptParticipant("nobody", "primary"),), ())
    return run_drill(scenario, script=nobody, seed=0)


def impact(scenario: Scenario) -> Impact:
    """The first fault alert and the severities called for, with the noise left out: blips are not impact."""
    result = unattended(replace(scenario, noise=()))
    first = next((e for e in result.events if e["kind"] == "alert.firing" and e["cause"] != ["noise"]), None)
    if first is None:
        return Impact(None, None, None)
    ranks = [(t, classify(scenario.services, sample)) for t, sample in result.samples]
    early = [r for t, r in ranks if r is not None and t <= first["t"] + ASSESS_WINDOW]
    worst = [r for _, r in ranks if r is not None]
    last = len(SEVERITIES) - 1
    return Impact(first, SEVERITIES[min(early, default=last)], SEVERITIES[min(worst, default=last)])


def truth(topology: Topology, doc: dict, seen: Impact) -> dict:
    """The truth block: severities from the impact, root cause and fix from the faults' findings."""
    faults = doc["faults"]
    services = topology.services
    roots = [f["text"] for fault in faults for f in fault["findings"] if f.get("root_cause")]
    teams = {services[seen.first_alert["service"]].team} | {services[f["service"]].team for f in faults}
    result = {"severity": seen.severity}
    if seen.final_severity != seen.severity:
        result["final_severity"] = seen.final_severity
    result["root_cause"] = " ".join(f"{r.rstrip('.')}." for r in roots)
    result["teams_needed"] = sorted(teams)
    result["fix"] = "; ".join(f"{f['findings'][-1]['suggests']} {f['service']}" for f in faults)
    return result


# -- writing and reading the document --


def dump(doc: dict, header: list[str]) -> str:
    """The scenario as YAML text, with a comment header; the same document gives the same bytes."""
    body = yaml.safe_dump(doc, sort_keys=False, width=110, allow_unicode=True, default_flow_style=None)
    return "".join(f"# {line}\n".replace("# \n", "#\n") for line in header) + body


def draft(doc: dict, name: str) -> Scenario:
    """The scenario of a document whose truth is still to be derived (a placeholder stands in)."""
    return load_text(dump({**doc, "truth": {"severity": "SEV4"}}, []), name)


def load_text(text: str, name: str = "scenario", shown: Path | None = None) -> Scenario:
    """Load (and so validate) a scenario from its YAML text; its problems name ``shown``, the file
    it is to be written to (by default ``<name>.yaml``)."""
    return yamlfile.loaded_as(shown or Path(f"{name}.yaml"), text, load_scenario)


def services_block(topology: Topology) -> dict:
    """The topology's services as a scenario's ``services`` section."""
    block = {}
    default = Service("", "")
    for svc in topology.services.values():
        entry = {"team": svc.team}
        if svc.depends_on:
            entry["depends_on"] = [dep if svc.spread_from(dep) == 1.0 else {"service": dep, "spread": svc.spread_from(dep)}
                                   for dep in svc.depends_on]
        for key in ("customer_facing", "critical"):
            if getattr(svc, key):
                entry[key] = True
        for key in ("request_rate", "error_rate", "latency_p99_ms", "cpu", "memory", "revenue_per_min"):
            if getattr(svc, key) != getattr(default, key):
                entry[key] = getattr(svc, key)
        impact_ = {}
        if svc.impact_error_rate != default.impact_error_rate:
            impact_["error_rate"] = svc.impact_error_rate
        if svc.impact_latency_p99_ms:
            impact_["latency_p99_ms"] = svc.impact_latency_p99_ms
        if impact_:
            entry["impact"] = impact_
        if svc.labels:
            entry["labels"] = dict(svc.labels)
        block[svc.name] = entry
    return block
