"""The fault catalog: every fault kind the engine knows, loaded once from ``faults.yaml``.

The catalog is data: what each kind does to a service's metrics, how it spreads, which
mitigations fix, ease or only delay it, what investigating it reveals, and which alerts
it tends to raise. Scenarios take their defaults from it; the generator and the chaos
importer build stories from it.
"""

from dataclasses import dataclass, field
from pathlib import Path

from . import units, yamlfile
from .actions import MITIGATIONS
from .yamlfile import Fields, names_in, one_of, text, text_list

EFFECTS = ("error_rate", "latency", "traffic", "cpu", "memory")
METRICS = ("request_rate", "error_rate", "latency_p99_ms", "cpu", "memory")
SHARES = ("error_rate", "cpu", "memory")  # the metrics that are a share of a whole: at most 100%
CATALOG = Path(__file__).resolve().parent / "faults.yaml"
PLACEHOLDERS = ("service", "caller", "time", "version", "fix")


@dataclass(frozen=True)
class FaultKind:
    """What a fault of one kind does by default, and what undoes it."""

    effects: dict
    fixes: tuple[str, ...] = ()
    eases: dict = field(default_factory=dict)
    band_aids: dict = field(default_factory=dict)
    description: str = ""
    spreads: str = ""
    symptoms: tuple[str, ...] = ()
    causes: tuple[str, ...] = ()
    scale: tuple[float, float] = (1.0, 1.0)
    strikes: str = "any"  # where the generator places it: any service, or a dependency of others
    caller_finding: str = ""
    root_causes: tuple[str, ...] = ()


def magnitude(value) -> dict:
    if not isinstance(value, dict):
        raise ValueError(f"expected a mapping of effect to size, e.g. {{error_rate: 15%}} (effects: {', '.join(EFFECTS)})")
    result = {}
    for name, size in value.items():
        if name not in EFFECTS:
            raise ValueError(f"unknown effect {name!r} (known: {', '.join(EFFECTS)})")
        result[name] = units.share(size) if name == "error_rate" else units.fraction(size)
    return result


mitigations = names_in(MITIGATIONS, "mitigation")
_metrics = names_in(METRICS, "metric")


def _per_mitigation(convert, example: str):
    """A converter for a mapping of mitigation to a value ``convert`` reads."""
    def per_mitigation(value) -> dict:
        if not isinstance(value, dict):
            raise ValueError(f"expected a mapping of mitigation to {example}")
        mitigations(list(value))
        return {name: convert(v) for name, v in value.items()}
    return per_mitigation


shares = _per_mitigation(units.share, "remaining share, e.g. {circuit_breaker: 20%}")
durations = _per_mitigation(units.duration, "how long it helps, e.g. {restart: 30m}")
recoveries = _per_mitigation(units.duration, "how long recovery takes after it, e.g. {feature_flag: 1m}")


def _scale(value) -> tuple[float, float]:
    if not isinstance(value, list) or len(value) != 2:
        raise ValueError("expected [smallest, largest], e.g. [0.2, 2.0]")
    low, high = yamlfile.number(value[0], 0, 1e3), yamlfile.number(value[1], 0, 1e3)
    if not 0 < low <= high:
        raise ValueError("the scale must be more than 0 and the smallest must not exceed the largest")
    return low, high


def _kind(f: Fields, name: str, line: int) -> FaultKind:
    findings = f.sub("findings", required=True)
    roots = ()
    caller = ""
    if findings is not None:
        caller = findings.get("caller", text, "", required=True)
        roots = findings.get("root_cause", text_list, (), required=True)
        findings.done()
    kind = FaultKind(
        effects=f.get("effects", magnitude, {}, required=True),
        fixes=f.get("fixes", mitigations, ()),
        eases=f.get("eases", shares, {}),
        band_aids=f.get("band_aids", durations, {}),
        description=f.get("description", text, "", required=True),
        spreads=f.get("spreads", text, "", required=True),
        symptoms=f.get("symptoms", _metrics, (), required=True),
        causes=f.get("causes", _metrics, ()),
        scale=f.get("scale", _scale, (1.0, 1.0)),
        strikes=f.get("strikes", one_of("any", "dependency"), "any"),
        caller_finding=caller,
        root_causes=roots,
    )
    for key, template in [("caller", caller), *(("root_cause", root) for root in roots)]:
        try:
            template.format(**dict.fromkeys(PLACEHOLDERS, ""))
        except (KeyError, IndexError, ValueError) as exc:
            f.checker.problem(findings.line_of(key), f"kinds.{name}.findings: bad template {template!r} (unknown {exc}; "
                                                     f"placeholders: {', '.join(PLACEHOLDERS)})")
    if not (kind.fixes or kind.eases or kind.band_aids):
        f.checker.problem(line, f"kinds.{name}: no mitigation fixes, eases or delays it (give fixes, eases or band_aids)")
    f.done()
    return kind


def load_catalog(path=CATALOG) -> dict[str, FaultKind]:
    """Every fault kind in a catalog file; every problem reported as ``file:line: message``."""
    doc = yamlfile.document(path, "catalog")
    check = doc.checker
    kinds = {}
    section = doc.sub("kinds", required=True)
    for name in list(section.data) if section else []:
        section.seen.add(name)
        f = check.mapping(section.data[name], f"kinds.{name}", section.line_of(name))
        if f is not None:
            kinds[str(name)] = _kind(f, str(name), section.line_of(name))
    if section is not None and not kinds:
        check.problem(section.line, "kinds: the catalog must list at least one fault kind")
    doc.done()
    check.raise_problems()
    return kinds


FAULT_KINDS = load_catalog()
