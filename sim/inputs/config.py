"""Loading and validating every input file: scenarios, the process, the roster, scripts.

Validation happens once, here; the engine trusts the frozen values it is given.
Every problem in a file is reported together as ``file:line: message``.
"""

import datetime as dt
import functools
import re
from dataclasses import dataclass, field, replace
from math import exp
from pathlib import Path

from . import promrules, units, yamlfile
from .actions import MITIGATIONS, ROLES, Action, parse_action
from .dynamics import Dynamics, Report, read_dynamics, read_report
from .errors import DrillError
from .faults import FAULT_KINDS, METRICS, SHARES, durations, magnitude, mitigations, recoveries, shares
from .yamlfile import MAX_SIGMA, Fields, flag, number, one_of, ranged, slug, text, text_list, whole

SEVERITIES = ("SEV1", "SEV2", "SEV3", "SEV4")

REPO = Path(__file__).resolve().parents[2]
DEFAULT_SCENARIO = "checkout-config-push"


# --- distributions -----------------------------------------------------------------


@dataclass(frozen=True)
class LogNormal:
    """A positive delay: ``median`` seconds, spread ``sigma`` (0 means always the median)."""

    median: float
    sigma: float = 0.0

    def __post_init__(self):
        if self.median < 0 or self.sigma < 0:
            raise ValueError("median and sigma must not be negative")

    def sample(self, rng) -> float:
        if self.sigma == 0:
            return self.median
        return self.median * exp(self.sigma * rng.gauss(0.0, 1.0))

    def __repr__(self):
        return f"LogNormal(median={units.human(self.median)}, sigma={self.sigma})"


def lognormal(value) -> LogNormal:
    if isinstance(value, dict):
        unknown = set(value) - {"median", "sigma"}
        if unknown:
            raise ValueError(f"unknown field(s) {', '.join(sorted(unknown))} (known: median, sigma)")
        if "median" not in value:
            raise ValueError("a delay distribution needs a median, e.g. {median: 90s, sigma: 0.5}")
        return LogNormal(units.duration(value["median"]), number(value.get("sigma", 0.0), 0, MAX_SIGMA))
    return LogNormal(units.duration(value))


# --- the scenario ------------------------------------------------------------------


@dataclass(frozen=True)
class Service:
    name: str
    team: str
    depends_on: tuple[str, ...] = ()
    customer_facing: bool = False
    critical: bool = False
    request_rate: float = 50.0
    error_rate: float = 0.001
    latency_p99_ms: float = 300.0
    cpu: float = 0.35
    memory: float = 0.5
    revenue_per_min: float = 0.0
    impact_error_rate: float = 0.01
    impact_latency_p99_ms: float = 0.0  # 0: three times the baseline
    labels: tuple[tuple[str, str], ...] = ()  # extra labels on its series (namespace, job, ...), sorted pairs
    slo: float = 0.999  # share of requests that must succeed over slo_window (customer-facing services)
    slo_window: float = 30 * 86400.0
    spread: tuple[tuple[str, float], ...] = ()  # (dependency, share of its excess errors that reaches this service), where not all
    # the p99 above which customers count as hurt: impact_latency_p99_ms, or three times the
    # baseline (worked out once: breached() is asked at every scrape of every facing service)
    impact_latency_limit: float = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "impact_latency_limit", self.impact_latency_p99_ms or 3 * self.latency_p99_ms)

    def spread_from(self, dependency: str) -> float:
        """The share of ``dependency``'s excess errors this service's requests fail with (retries,
        timeouts and fallbacks absorb the rest); 1 unless the scenario says otherwise."""
        return dict(self.spread).get(dependency, 1.0)

    def breached(self, error_rate: float, latency: float) -> bool:
        return error_rate > self.impact_error_rate or latency > self.impact_latency_limit

    def degraded(self, error_rate: float, latency: float) -> bool:
        """Looks off on a dashboard (errors above 3x the baseline + 0.1 point, or p99 above 1.5x the
        baseline), short of breached or not: what a responder suspects and SEV3 (SEV4 inside) is for."""
        return error_rate > 3 * self.error_rate + 0.001 or latency > 1.5 * self.latency_p99_ms


@dataclass(frozen=True)
class Finding:
    service: str
    after: float
    text: str
    root_cause: bool = False
    points_to: str | None = None
    suggests: str | None = None


@dataclass(frozen=True)
class Fault:
    id: str
    kind: str
    service: str
    at: float
    magnitude: dict
    ramp: float
    duration: float | None
    recovery: float
    fixes: tuple[str, ...]
    eases: dict
    band_aids: dict
    findings: tuple[Finding, ...]
    description: str = ""
    recoveries: dict = field(default_factory=dict)  # mitigation -> its own recovery time, where not ``recovery``


@dataclass(frozen=True)
class AlertRule:
    name: str
    service: str
    metric: str
    op: str
    threshold: float
    for_s: float
    labels: dict
    annotations: dict
    keep_firing_for_s: float = 0.0

    @property
    def severity(self) -> str:
        return self.labels.get("severity", "warning")


@dataclass(frozen=True)
class Blip:
    """Background noise: a metric of a service jumps to ``value`` for a while, then recovers."""

    service: str
    metric: str
    value: float
    at: float
    duration: float


@dataclass(frozen=True)
class Monitoring:
    scrape_interval: float = 15.0
    evaluation_interval: float = 15.0
    group_by: tuple[str, ...] = ("service",)
    group_wait: float = 30.0
    group_interval: float = 300.0
    repeat_interval: float = 14400.0
    escalation_timeout: float = 300.0
    page_severities: tuple[str, ...] = ("critical", "page")
    given: frozenset = frozenset()  # the keys the scenario sets: its grouping overrides the team's root route


@dataclass(frozen=True)
class Truth:
    severity: str | None
    final_severity: str | None
    root_cause: str
    teams_needed: tuple[str, ...]
    false_alarm: bool
    fix: str | None = None


@dataclass(frozen=True)
class Change:
    """A change to production the change log shows (a deploy, a config push, a flag flip),
    whether it caused the incident or not: where responders look first."""

    at: float  # seconds from the scenario's start; before it is negative
    service: str
    kind: str
    text: str


CHANGE_KINDS = ("deploy", "config", "flag", "infra")
# A fault of these kinds is a change someone made: the change log shows it when the scenario lists none for its service.
CHANGE_FAULTS = {"bad_deploy": ("deploy", "Deploy of {service}"), "config_push": ("config", "Config push to {service}")}
# What a stakeholder asks when the scenario gives no questions of its own.
DEFAULT_QUESTIONS = (("VP of Sales", "Customers are calling us: what is broken, and what do I tell them?"),
                     ("Head of Support", "Support tickets are piling up: is there an ETA?"))


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    description: str
    start: dt.datetime
    horizon: float
    services: dict
    faults: tuple[Fault, ...]
    alerts: tuple[AlertRule, ...]
    noise: tuple[Blip, ...]
    monitoring: Monitoring
    truth: Truth
    unreachable: tuple[str, ...] = ()
    rules: tuple = ()  # promrules.RuleGroup: the scenario's own Prometheus rules, then the team's
    dynamics: Dynamics = Dynamics()
    reports: tuple[Report, ...] = ()  # who besides the alerts notices it (DEFAULT_REPORTS unless the scenario says)
    changes: tuple[Change, ...] = ()  # the change log, as listed (see ``change_log``)
    runbooks: dict = field(default_factory=dict)  # alert name -> the runbook's text
    questions: tuple[tuple[str, str], ...] = DEFAULT_QUESTIONS  # (who asks, what) for the facilitator to put

    @functools.cached_property
    def teams(self) -> frozenset[str]:
        return frozenset(s.team for s in self.services.values())

    @functools.cached_property
    def team_services(self) -> dict[str, tuple[str, ...]]:
        """Each team's services, in the scenario's order (worked out once: every paged team asks)."""
        found: dict[str, list[str]] = {}
        for name, svc in self.services.items():
            found.setdefault(svc.team, []).append(name)
        return {team: tuple(names) for team, names in found.items()}

    @functools.cached_property
    def facing(self) -> tuple[str, ...]:
        """The customer-facing services (every service when none is), in the scenario's order:
        where customers feel a failure, and what a shop-wide view shows."""
        return tuple(n for n, s in self.services.items() if s.customer_facing) or tuple(self.services)

    def change_log(self) -> list[Change]:
        """Every change in time order: the listed ones, and each deploy or config push a fault
        makes on a service the list says nothing of (the log shows that a change happened, never why)."""
        listed = {c.service for c in self.changes}
        made = [Change(f.at, f.service, CHANGE_FAULTS[f.kind][0], CHANGE_FAULTS[f.kind][1].format(service=f.service))
                for f in self.faults if f.kind in CHANGE_FAULTS and f.service not in listed]
        return sorted([*self.changes, *made], key=lambda c: c.at)


TEAM_RULES = "drills/monitoring"  # the team's Prometheus rule files, used by every scenario unless team_rules: false

_EXPR = re.compile(r'^\s*(\w+)\s*\{\s*service\s*=\s*"([^"]+)"\s*\}\s*(>=|<=|==|!=|>|<)\s*([-+0-9.eE]+%?)\s*$')


def parse_expr(expr: str) -> tuple[str, str, str, float]:
    """``error_rate{service="checkout"} > 0.05`` -> (metric, service, op, threshold)."""
    match = _EXPR.match(str(expr))
    if not match:
        raise ValueError(f'expected an expression such as error_rate{{service="checkout"}} > 0.05, got {expr!r}')
    metric, service, op, value = match.groups()
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r} (known: {', '.join(METRICS)})")
    return metric, service, op, units.fraction(value)


def load_scenario(path) -> Scenario:
    path = Path(path)
    doc = yamlfile.document(path, "scenario")
    check = doc.checker
    name = doc.get("name", slug)
    if doc.data.get("name") is None:  # named after its file, which must then be a plain name too
        try:
            name = slug(path.stem)
        except ValueError as exc:
            check.problem(1, f"scenario: give a name: (the file's name is not one: {exc})")
    name = name or "scenario"
    title = doc.get("title", text, name)
    description = doc.get("description", text, "")
    start = doc.get("start", units.timestamp, dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc), required=True)
    horizon = doc.get("horizon", _horizon, 4 * 3600.0)
    unreachable = doc.get("unreachable", text_list, ())
    dynamics = read_dynamics(doc.sub("dynamics"))
    reports = DEFAULT_REPORTS if doc.data.get("reports") is None else []
    for line, raw in doc.items("reports"):
        r = check.mapping(raw, f"reports[{len(reports)}]", line)
        if r is not None:
            reports.append(read_report(r, lognormal))

    services = read_services(doc)

    faults = []
    for line, raw in doc.items("faults"):
        f = check.mapping(raw, f"faults[{len(faults)}]", line)
        if f is not None:
            faults.append(_fault(f, len(faults), services))
            _before_the_end(f, faults[-1].at, horizon)

    rules = promrules.read_groups(check, doc, "rules")
    if doc.get("team_rules", flag, True):
        rules += promrules.load_team_rules(default_file(TEAM_RULES))

    alerts = []
    for line, raw in doc.items("alerts"):
        a = check.mapping(raw, f"alerts[{len(alerts)}]", line)
        if a is not None:
            alerts.append(_alert(a, services))

    noise = []
    for line, raw in doc.items("noise"):
        b = check.mapping(raw, f"noise[{len(noise)}]", line)
        if b is None:
            continue
        metric = b.get("metric", one_of(*METRICS), "cpu", required=True)
        blip = Blip(
            service=b.get("service", text, "", required=True),
            metric=metric,
            # a share can be at most all of it: an error rate past 100% would make the requests
            # answered fall (a counter going down), a CPU or memory past it a dashboard's nonsense
            value=b.get("value", units.share if metric in SHARES else units.fraction, 0.0, required=True),
            at=b.get("at", units.duration, 0.0, required=True),
            duration=b.get("duration", units.duration, 60.0),
        )
        _known_service(b, "service", blip.service, services)
        _before_the_end(b, blip.at, horizon)
        b.done()
        noise.append(blip)

    mon = doc.sub("monitoring")
    monitoring = Monitoring()
    if mon is not None:
        defaults = Monitoring()
        monitoring = Monitoring(
            scrape_interval=mon.get("scrape_interval", units.duration, defaults.scrape_interval),
            evaluation_interval=mon.get("evaluation_interval", units.duration, defaults.evaluation_interval),
            group_by=mon.get("group_by", text_list, defaults.group_by),
            group_wait=mon.get("group_wait", units.duration, defaults.group_wait),
            group_interval=mon.get("group_interval", units.duration, defaults.group_interval),
            repeat_interval=mon.get("repeat_interval", units.duration, defaults.repeat_interval),
            escalation_timeout=mon.get("escalation_timeout", units.duration, defaults.escalation_timeout),
            page_severities=mon.get("page_severities", text_list, defaults.page_severities),
            given=frozenset(key for key in mon.data if mon.data[key] is not None),
        )
        for key in ("scrape_interval", "evaluation_interval"):
            if getattr(monitoring, key) < promrules.MIN_INTERVAL:
                check.problem(mon.line_of(key), f"monitoring.{key} must be {promrules.MIN_INTERVAL:g}s or more")
        mon.done()

    changes = _changes(doc, services)
    runbooks = {}
    book = doc.sub("runbooks")
    for alert in list(book.data) if book is not None else []:
        runbooks[str(alert)] = book.get(alert, text, "")
        named = [a.name for a in alerts] + [r.name for group in rules for r in group.rules if r.kind == "alert"]
        if str(alert) not in named:
            check.problem(book.line_of(alert), f"runbooks.{alert}: no alert of that name (alerts: {', '.join(named)})")
    questions = []
    for line, raw in doc.items("questions"):
        q = check.mapping(raw, f"questions[{len(questions)}]", line)
        if q is not None:
            questions.append((q.get("who", text, "", required=True), q.get("question", text, "", required=True)))
            q.done()

    tr = doc.sub("truth", required=True)
    truth = Truth(None, None, "", (), False)
    if tr is not None:
        truth = Truth(
            severity=tr.get("severity", one_of(*SEVERITIES)),
            final_severity=tr.get("final_severity", one_of(*SEVERITIES)),
            root_cause=tr.get("root_cause", text, ""),
            teams_needed=tr.get("teams_needed", text_list, ()),
            false_alarm=tr.get("false_alarm", flag, False),
            fix=tr.get("fix", text),
        )
        if truth.severity is None and not truth.false_alarm:
            check.problem(tr.line, "truth: give the expected severity, or false_alarm: true")
        teams = {s.team for s in services.values()}
        for team in truth.teams_needed:
            if team not in teams:
                check.problem(tr.line_of("teams_needed"), f"truth.teams_needed: no service is owned by team {team!r}")
        tr.done()
    doc.done()

    ids = [f.id for f in faults]
    for dup in sorted(yamlfile.repeated(ids)):
        check.problem(doc.line_of("faults"), f"faults: id {dup!r} is used twice")
    for person in unreachable:
        if person not in ("primary", "secondary"):
            check.problem(doc.line_of("unreachable"), f"unreachable: expected primary or secondary, got {person!r}")
    check.raise_problems()
    return Scenario(name, title, description, start, horizon, services, tuple(faults), tuple(alerts), tuple(noise),
                    monitoring, truth, unreachable, tuple(rules), dynamics, tuple(reports), changes, runbooks,
                    tuple(questions) or DEFAULT_QUESTIONS)


def _signed_duration(value) -> float:
    """``-25m`` (before the start) or ``10m`` (after it), in seconds."""
    text_value = str(value).strip()
    if text_value.startswith("-"):
        return -units.duration(text_value[1:])
    return units.duration(value)


def _changes(doc: Fields, services: dict) -> tuple[Change, ...]:
    check, changes = doc.checker, []
    for line, raw in doc.items("changes"):
        c = check.mapping(raw, f"changes[{len(changes)}]", line)
        if c is None:
            continue
        change = Change(c.get("at", _signed_duration, 0.0, required=True), c.get("service", text, "", required=True),
                        c.get("kind", one_of(*CHANGE_KINDS), "deploy"), c.get("text", text, "", required=True))
        _known_service(c, "service", change.service, services)
        c.done()
        changes.append(change)
    return tuple(changes)


# People notice what the alerts miss (docs/model.md, "Detection by people"; assumptions):
# customers reach support, who escalate to the on-call, about 15 minutes into the impact;
# a colleague notices something off about 45 minutes after it starts.
DEFAULT_REPORTS = (Report("customers, through a support ticket", LogNormal(900.0, 0.8), "impact"),
                   Report("a colleague", LogNormal(2700.0, 1.0), "fault"))

MAX_HORIZON = 7 * 86400.0  # a week of simulated time: longer than any drill, short enough to simulate


def _horizon(value) -> float:
    seconds = units.duration(value)
    if not 0 < seconds <= MAX_HORIZON:
        raise ValueError(f"a drill lasts more than 0s and at most a week (168h), got {value!r}")
    return seconds


def read_services(doc: Fields, extra=None) -> dict:
    """The ``services`` section of a scenario or topology: each service read (``extra(fields, name)``
    first reads any further fields), every dependency known, no cycle."""
    check = doc.checker
    services, dep_lines = {}, {}
    section = doc.sub("services", required=True)
    for svc_name in list(section.data) if section else []:
        section.seen.add(svc_name)
        svc = check.mapping(section.data[svc_name], f"services.{svc_name}", section.line_of(svc_name))
        if svc is None:
            continue
        if extra is not None:
            extra(svc, str(svc_name))
        dep_lines[svc_name] = svc.line_of("depends_on")
        services[svc_name] = _service(svc, str(svc_name))
    for svc_name, svc in services.items():
        for dep in svc.depends_on:
            if dep not in services:
                check.problem(dep_lines[svc_name], f"services.{svc_name}.depends_on: unknown service {dep!r}")
    cycle = _cycle(services)
    if cycle:
        check.problem(section.line if section else 1, f"services: dependency cycle {' -> '.join(cycle)}")
    return services


def _dependencies(f: Fields) -> list[tuple[str, float]]:
    """``depends_on``: each a service's name, or ``{service: NAME, spread: SHARE}`` for a caller that
    fails with only a share of that dependency's excess errors (1, all of them, by default)."""
    if isinstance(f.get("depends_on"), str):  # one name
        return [(f.data["depends_on"], 1.0)]
    found = []
    for line, item in f.items("depends_on"):
        if isinstance(item, dict):
            dep = f.checker.mapping(item, f"{f.prefix}depends_on", line)
            name, share = dep.get("service", text, None, required=True), dep.get("spread", units.share, 1.0)
            dep.done()
            if name is not None:
                found.append((name, share))
            continue
        try:
            found.append((text(item), 1.0))
        except ValueError as exc:
            f.checker.problem(line, f"{f.prefix}depends_on: {exc}")
    return found


_RATE = ranged(0, 1e9)  # requests per second
_LATENCY = ranged(0, 1e8)  # milliseconds: about a day


def _service(f: Fields, name: str) -> Service:
    d = Service(name, "")
    dependencies = _dependencies(f)
    svc = Service(
        name=name,
        team=f.get("team", yamlfile.name, "", required=True),
        depends_on=tuple(dep for dep, _ in dependencies),
        customer_facing=f.get("customer_facing", flag, False),
        critical=f.get("critical", flag, False),
        request_rate=f.get("request_rate", _RATE, d.request_rate),
        error_rate=f.get("error_rate", units.share, d.error_rate),
        latency_p99_ms=f.get("latency_p99_ms", _LATENCY, d.latency_p99_ms),
        cpu=f.get("cpu", units.share, d.cpu),
        memory=f.get("memory", units.share, d.memory),
        revenue_per_min=f.get("revenue_per_min", ranged(0), d.revenue_per_min),
        labels=tuple(sorted(f.get("labels", _label_map, {}).items())),
        slo=f.get("slo", _slo, d.slo),
        slo_window=f.get("slo_window", _slo_window, d.slo_window),
        spread=tuple((dep, share) for dep, share in dependencies if share != 1.0),
    )
    impact = f.sub("impact")
    if impact is not None:
        svc = replace(svc, impact_error_rate=impact.get("error_rate", units.share, d.impact_error_rate),
                      impact_latency_p99_ms=impact.get("latency_p99_ms", _LATENCY, d.impact_latency_p99_ms))
        impact.done()
    if not 0 <= svc.error_rate < 1:
        f.checker.problem(f.line_of("error_rate"), f"services.{name}.error_rate must be between 0% and 100%")
    elif svc.customer_facing and svc.breached(svc.error_rate, svc.latency_p99_ms):
        # impact would start at the first scrape, caused by nothing, and no fault's impact could ever begin
        line = f.line_of("error_rate" if svc.error_rate > svc.impact_error_rate else "latency_p99_ms")
        f.checker.problem(line, f"services.{name}: its usual error_rate ({svc.error_rate:.4g}) and latency_p99_ms "
                                f"({svc.latency_p99_ms:g}) already breach its impact threshold (error_rate above "
                                f"{svc.impact_error_rate:.4g}, latency above "
                                f"{svc.impact_latency_limit:g} ms), so customers would count as "
                                "hurt before any fault: set its impact: error_rate or latency_p99_ms above them")
    f.done()
    return svc


def _slo(value) -> float:
    target = units.share(value)
    if not 0 < target < 1:
        raise ValueError(f"an SLO is a share of good requests above 0% and below 100%, e.g. 99.9%, got {value!r}")
    return target


def _slo_window(value) -> float:
    seconds = units.duration(value)
    if seconds < 3600:
        raise ValueError(f"an SLO window is an hour or more (30 days is usual: 720h), got {value!r}")
    return seconds


def _before_the_end(f: Fields, at: float, horizon: float) -> None:
    """A fault or blip must start before the drill ends, or it never happens (and a drill of faults
    that never start is a quiet afternoon)."""
    if at >= horizon:
        f.checker.problem(f.line_of("at"), f"{f.where}.at: {units.human(at)} is not before the drill ends "
                          f"(horizon {units.human(horizon)}): it would never start")


def _fault(f: Fields, index: int, services: dict) -> Fault:
    kind_name = f.get("kind", one_of(*FAULT_KINDS), "config_push", required=True)
    kind = FAULT_KINDS[kind_name]
    service = f.get("service", text, "", required=True)
    _known_service(f, "service", service, services)
    findings = []
    for line, raw in f.items("findings"):
        g = f.checker.mapping(raw, f"{f.where}.findings[{len(findings)}]", line)
        if g is None:
            continue
        finding = Finding(
            service=g.get("service", text, "", required=True),
            after=g.get("after", units.duration, 300.0, required=True),
            text=g.get("text", text, "", required=True),
            root_cause=g.get("root_cause", flag, False),
            points_to=g.get("points_to", text),
            suggests=g.get("suggests", one_of(*MITIGATIONS)),
        )
        _known_service(g, "service", finding.service, services)
        if finding.points_to is not None:
            _known_service(g, "points_to", finding.points_to, services)
        g.done()
        findings.append(finding)
    fault = Fault(
        id=f.get("id", text, f"fault-{index + 1}"),
        kind=kind_name,
        service=service,
        at=f.get("at", units.duration, 0.0, required=True),
        magnitude={**kind.effects, **f.get("magnitude", magnitude, {})},
        ramp=f.get("ramp", units.duration, 60.0),
        duration=f.get("duration", units.duration),
        recovery=f.get("recovery", units.duration, 300.0),
        fixes=f.get("fixes", mitigations, kind.fixes),
        eases=f.get("eases", shares, kind.eases),
        band_aids=f.get("band_aids", durations, kind.band_aids),
        findings=tuple(findings),
        description=f.get("description", text, ""),
        recoveries=f.get("recoveries", recoveries, {}),
    )
    stray = [m for m in fault.recoveries if m not in fault.fixes and m not in fault.eases and m not in fault.band_aids]
    if stray:
        f.checker.problem(f.line_of("recoveries"), f"{f.where}.recoveries: {', '.join(stray)} neither fixes, eases "
                          f"nor band-aids this fault (its mitigations: "
                          f"{', '.join([*fault.fixes, *fault.eases, *fault.band_aids]) or 'none'})")
    f.done()
    return fault


def _alert(f: Fields, services: dict) -> AlertRule:
    name = f.get("alert", text, "", required=True)
    metric, service, op, threshold = f.get("expr", parse_expr, ("error_rate", "", ">", 0.0), required=True)
    _known_service(f, "expr", service, services)
    labels = f.get("labels", _text_map, {})
    if labels.get("severity") is None:
        labels = {**labels, "severity": "warning"}
    rule = AlertRule(
        name=name, service=service, metric=metric, op=op, threshold=threshold,
        for_s=f.get("for", units.duration, 0.0), labels=labels,
        keep_firing_for_s=f.get("keep_firing_for", units.duration, 0.0),
        annotations=f.get("annotations", _text_map, {}),
    )
    f.done()
    return rule


# Labels the series set themselves: the drill keys a series' samples on its service, and a
# service-wide code or le would be overwritten on the series that carry their own
_SERIES_LABELS = {"service": "every series' service (the service's name)", "code": "http_requests_total's status code",
                  "le": "a histogram bucket's bound"}


def _label_map(value):
    labels = _text_map(value)
    for name in labels:
        if not re.fullmatch(r"[a-zA-Z_][a-zA-Z0-9_]*", name) or name.startswith("__"):
            raise ValueError(f"{name!r} is not a label name Prometheus allows")
        if name in _SERIES_LABELS:
            raise ValueError(f"{name!r} is the series' own label: {_SERIES_LABELS[name]}")
    return labels


def _text_map(value):
    if not isinstance(value, dict):
        raise ValueError("expected a mapping of names to text")
    return {str(k): text(v) for k, v in value.items()}


def _known_service(f: Fields, key: str, name: str, services: dict) -> None:
    if f.data.get(key) is not None and services and name not in services:  # given, even as '': known
        f.checker.problem(f.line_of(key), f"{f.where}.{key}: unknown service {name!r} (known: {', '.join(services)})")


def _cycle(services: dict) -> list[str]:
    state: dict[str, int] = {}

    def visit(name, path):
        state[name] = 1
        for dep in services[name].depends_on:
            if dep not in services:
                continue
            if state.get(dep) == 1:
                return path + [name, dep]
            if dep not in state:
                found = visit(dep, path + [name])
                if found:
                    return found
        state[name] = 2
        return []

    for name in services:
        if name not in state:
            found = visit(name, [])
            if found:
                return found
    return []


# --- the process -------------------------------------------------------------------


@dataclass(frozen=True)
class SeverityLevel:
    name: str
    description: str
    response: float  # how soon the response is expected: the target for declaring
    cadence_min: float
    cadence_max: float
    roles: tuple[str, ...]
    postmortem: bool
    status_page: tuple[float, float] | None = None  # public status page cadence (shortest, longest); None: no page

    def cadence(self, audience: str) -> tuple[float, float] | None:
        """The (shortest, longest) time between updates to ``audience``, or None when it gets none."""
        return (self.cadence_min, self.cadence_max) if audience == "internal" else self.status_page


@dataclass(frozen=True)
class Profile:
    """How a simulated responder behaves; see docs/model.md for where the defaults come from."""

    ack: LogNormal = LogNormal(120.0, 0.5)
    look: LogNormal = LogNormal(60.0, 0.4)
    assess: LogNormal = LogNormal(90.0, 0.5)
    coordinate: LogNormal = LogNormal(45.0, 0.4)
    write_update: LogNormal = LogNormal(150.0, 0.4)
    mitigate: LogNormal = LogNormal(120.0, 0.4)
    join: LogNormal = LogNormal(300.0, 0.5)
    brief: LogNormal = LogNormal(60.0, 0.4)
    experience: float = 1.0
    discipline: float = 0.85
    misjudge: float = 0.1
    doubt_window: float = 600.0
    stable_for: float = 300.0
    check_interval: float = 60.0
    low_urgency_factor: float = 10.0
    reachable: bool = True


_PROFILE_DELAYS = ("ack", "look", "assess", "coordinate", "write_update", "mitigate", "join", "brief")


def load_profile(f: Fields, base: Profile) -> Profile:
    changes = {name: f.get(name, lognormal) for name in _PROFILE_DELAYS}
    changes.update(
        experience=f.get("experience", ranged(0, 100)), discipline=f.get("discipline", units.share),
        misjudge=f.get("misjudge", units.share), doubt_window=f.get("doubt_window", units.duration),
        stable_for=f.get("stable_for", units.duration), check_interval=f.get("check_interval", units.duration),
        low_urgency_factor=f.get("low_urgency_factor", ranged(0, 1e6)), reachable=f.get("reachable", flag),
    )
    if changes["experience"] is not None and changes["experience"] <= 0:
        f.checker.problem(f.line_of("experience"), f"{f.where}.experience must be more than 0")
        changes["experience"] = None
    f.done()
    return replace(base, **{k: v for k, v in changes.items() if v is not None})


DEFAULT_SEVERITIES = {
    "SEV1": SeverityLevel("SEV1", "Critical business function down, revenue impact", 300.0, 900.0, 1800.0, ROLES, True,
                          (1800.0, 3600.0)),
    "SEV2": SeverityLevel("SEV2", "Major feature degraded, significant user impact", 900.0, 1800.0, 3600.0, ROLES, True,
                          (3600.0, 7200.0)),
    "SEV3": SeverityLevel("SEV3", "Minor feature degraded, limited user impact", 3600.0, 3600.0, 3600.0, (), False),
    "SEV4": SeverityLevel("SEV4", "Cosmetic issue or internal tooling, no user impact", 86400.0, 86400.0, 86400.0, (), False),
}

DEFAULT_WEIGHTS = {
    "declare": 20.0, "severity": 10.0, "cadence": 15.0, "roles": 15.0,
    "mitigate": 15.0, "impact": 15.0, "checklist": 15.0, "teams": 5.0, "false_alarm": 5.0,
}


@dataclass(frozen=True)
class Process:
    severities: dict = field(default_factory=lambda: dict(DEFAULT_SEVERITIES))
    initial_update: float = 300.0
    handover_ic: bool = True
    dedicated_comms: bool = True
    page_teams: str = "minimum"
    declare_when_in_doubt: bool = True
    postmortem_business_days: int = 5
    mitigate_target: float = 1800.0
    impact_target: float = 1800.0  # customer impact (seconds) with full marks; none at three times it
    cadence_pass: float = 0.8
    cadence_scored: str = "internal"  # whose update cadence is scored: internal, public (status page) or both
    weights: dict = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    bots: Profile = Profile()

    def level(self, severity: str | None) -> SeverityLevel | None:
        return self.severities.get(severity)

    def rank(self, severity: str | None) -> int:
        """0 for the most severe level; one past the last for no severity."""
        names = list(self.severities)
        return names.index(severity) if severity in names else len(names)

    def same_rank(self, severity: str | None) -> str | None:
        """A level of the built-in scale (SEV1 to SEV4, the one scenarios are written in) named as
        this process's level of the same rank, which is how the bots choose among them
        (docs/model.md): with levels P1 to P5, SEV2 is P2; with two levels, SEV3 is the second.
        The built-in levels are their own."""
        levels = list(self.severities)
        return None if severity is None else levels[min(SEVERITIES.index(severity), len(levels) - 1)]

    def truth(self, truth: Truth) -> Truth:
        """A scenario's truth with its severities named as this process's levels (same_rank)."""
        return replace(truth, severity=self.same_rank(truth.severity), final_severity=self.same_rank(truth.final_severity))


def load_process(path=None) -> Process:
    """The process from ``path``, or the built-in defaults (the reference article's)."""
    if path is None:
        return Process()
    doc = yamlfile.document(path, "process")
    return process_from(doc)


def process_from(doc: Fields, overlay: bool = False) -> Process:
    """The process from an already-parsed mapping (a file, or a file with a variant merged in;
    ``overlay``: a variant's changes alone, whose levels say only what they change)."""
    check = doc.checker
    base = Process()
    severities = dict(base.severities)
    sev = doc.sub("severities")
    if "severities" in doc.data and sev is not None and not sev.data:
        # Left empty, it read as the built-in levels: a team that meant its own ran SEV1 to SEV4.
        check.problem(doc.line_of("severities"), "severities: no level is given: give at least one, or leave "
                      f"severities: out for the built-in levels ({', '.join(DEFAULT_SEVERITIES)})")
    if sev is not None and sev.data:
        severities = {}
        for name in sev.data:
            sev.seen.add(name)
            s = check.mapping(sev.data[name], f"severities.{name}", sev.line_of(name))
            if s is None:
                continue
            default = DEFAULT_SEVERITIES.get(name)
            if default is None and not overlay:
                # A level of the team's own naming has no built-in one to take what it leaves out from;
                # SEV3's roles (none) and postmortem (no) would pass for the team's choice.
                missing = [key for key in ("response", "cadence", "roles", "postmortem") if key not in s.data]
                if missing:
                    check.problem(sev.line_of(name), f"severities.{name}: give {', '.join(missing)}: a level of "
                                  f"a name of its own takes nothing from the built-in levels ({', '.join(DEFAULT_SEVERITIES)})")
            if default is None:
                default = replace(DEFAULT_SEVERITIES["SEV3"], description="")
            cadence = s.get("cadence", _cadence, (default.cadence_min, default.cadence_max))
            status_page = s.get("status_page", _status_page, default.status_page)
            roles = s.get("roles", text_list, default.roles)
            for role in roles:
                if role not in ROLES:
                    check.problem(s.line_of("roles"), f"severities.{name}.roles: unknown role {role!r} (known: {', '.join(ROLES)})")
            for role in yamlfile.repeated(roles):  # most likely another was meant
                check.problem(s.line_of("roles"), f"severities.{name}.roles: {role!r} is listed twice")
            if roles and "ic" not in roles and set(roles) <= set(ROLES):
                # The declarer holds IC whatever the level says (the bots hand it on at a level with
                # roles), so a level that staffs leads without one says what never happens.
                check.problem(s.line_of("roles"), f"severities.{name}.roles: [{', '.join(roles)}] without ic: a level "
                              "that staffs roles runs the full process, which an Incident Commander runs (declares, "
                              "sets the severity, delegates, resolves, books the postmortem; the Communications and "
                              f"Operations Leads work for one): give [ic, {', '.join(roles)}], or [] for a level "
                              "handled by normal on-call")
            severities[str(name)] = SeverityLevel(
                str(name), s.get("description", text, default.description),
                s.get("response", _target, default.response), cadence[0], cadence[1], roles,
                s.get("postmortem", flag, default.postmortem), status_page,
            )
            s.done()
    scoring = doc.sub("scoring")
    weights = dict(base.weights)
    if scoring is not None:
        given = scoring.get("weights", _weights, {})
        weights.update(given)
        if not any(weights.values()):  # score is a weighted mean: with nothing weighed, every drill scored 0
            check.problem(scoring.line_of("weights"), "scoring.weights: every weight is 0; give at least one a weight")
    targets = doc.sub("targets")
    bots = doc.sub("bots")
    process = Process(
        severities=severities,
        initial_update=doc.get("initial_update", units.duration, base.initial_update),
        handover_ic=doc.get("handover_ic", flag, base.handover_ic),
        dedicated_comms=doc.get("dedicated_comms", flag, base.dedicated_comms),
        page_teams=doc.get("page_teams", one_of("minimum", "all"), base.page_teams),
        declare_when_in_doubt=doc.get("declare_when_in_doubt", flag, base.declare_when_in_doubt),
        postmortem_business_days=doc.get("postmortem_business_days", whole(0, 260), base.postmortem_business_days),
        mitigate_target=targets.get("mitigate", _target, base.mitigate_target) if targets else base.mitigate_target,
        impact_target=targets.get("impact", _target, base.impact_target) if targets else base.impact_target,
        cadence_pass=scoring.get("cadence_pass", units.share, base.cadence_pass) if scoring else base.cadence_pass,
        cadence_scored=scoring.get("cadence", one_of(*CADENCES_SCORED), base.cadence_scored) if scoring
        else base.cadence_scored,
        weights=weights,
        bots=load_profile(bots, base.bots) if bots is not None else base.bots,
    )
    for part in (targets, scoring):
        if part is not None:
            part.done()
    doc.done()
    check.raise_problems()
    return process


def _target(value) -> float:
    """A time scored against (a response, a mitigation, an impact): full marks up to it, none at
    a few times it, so at 0s there is nothing to scale between."""
    seconds = units.duration(value)
    if seconds <= 0:
        raise ValueError(f"a target must be more than 0s, got {value!r}")
    return seconds


def _cadence(value):
    if isinstance(value, list):
        if len(value) != 2:
            raise ValueError("expected [shortest, longest], e.g. [15m, 30m]")
        low, high = units.duration(value[0]), units.duration(value[1])
    else:
        low = high = units.duration(value)
    if low <= 0 or low > high:
        raise ValueError("the cadence must be more than 0s and the shortest must not exceed the longest")
    return low, high


CADENCES_SCORED = ("internal", "public", "both")


def _status_page(value):
    """A status page cadence like ``cadence``, or ``none`` (false) for a level with no public page."""
    if value is False or value == "none":
        return None
    return _cadence(value)


def _weights(value):
    if not isinstance(value, dict):
        raise ValueError("expected a mapping of component to weight")
    result = {}
    for name, weight in value.items():
        if name not in DEFAULT_WEIGHTS:
            raise ValueError(f"unknown score component {name!r} (known: {', '.join(DEFAULT_WEIGHTS)})")
        result[name] = number(weight, 0, 1e6)
    return result


# --- the roster --------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    name: str
    team: str = ""
    senior: bool = False
    trained: tuple[str, ...] = ()
    oncall: str | None = None
    profile: Profile = Profile()
    training: tuple[str, ...] = ()  # roles being learned: shadowed in drills before leading them


@dataclass(frozen=True)
class EscalationPolicy:
    """Who an Alertmanager receiver pages, PagerDuty-style: each level in turn, the next one
    when nobody acknowledged within ``escalation_timeout`` (None: the scenario's)."""

    name: str
    receivers: tuple[str, ...]
    levels: tuple[str, ...]  # primary, secondary (this week's on-call) or people's names
    escalation_timeout: float | None = None


# A receiver that pages and has no policy pages this week's on-call, as drills always have.
ONCALL = EscalationPolicy("on-call", (), ("primary", "secondary"))


def escalation(policies, receiver: str, pages: bool) -> EscalationPolicy | None:
    """Who ``receiver`` pages: the policy naming it, else the on-call if it has a paging
    integration (``pages``), else nobody."""
    named = next((p for p in policies if receiver in p.receivers), None)
    return named or (ONCALL if pages else None)


@dataclass(frozen=True)
class Roster:
    people: tuple[Person, ...]
    shadow_before_lead: int = 1  # drills a trainee shadows a role before leading it
    policies: tuple[EscalationPolicy, ...] = ()

    def person(self, name: str) -> Person | None:
        return next((p for p in self.people if p.name == name), None)


DEFAULT_ROSTER = Roster((
    Person("dana", "checkout", True, ("ops", "ic"), "primary"),
    Person("lee", "payments", True, ("ops", "ic"), "secondary"),
    Person("alex", "sre", True, ("ic", "comms", "ops")),
    Person("sam", "sre", False, ("comms",)),
))


def load_roster(path=None, process: Process | None = None) -> Roster:
    """The roster from ``path``, or a built-in team of four."""
    base = (process or Process()).bots
    if path is None:
        return Roster(tuple(replace(p, profile=base) for p in DEFAULT_ROSTER.people))
    doc = yamlfile.document(path, "roster")
    check = doc.checker
    people, lines = [], []
    for line, raw in doc.items("people"):
        p = check.mapping(raw, f"people[{len(people)}]", line)
        if p is None:
            continue
        lines.append(line)
        trained, training = p.get("trained", text_list, ()), p.get("training", text_list, ())
        for key, roles in (("trained", trained), ("training", training)):
            for role in roles:
                if role not in ROLES:
                    check.problem(p.line_of(key), f"people[{len(people)}].{key}: unknown role {role!r} (known: {', '.join(ROLES)})")
            for role in yamlfile.repeated(r for r in roles if r in ROLES):
                check.problem(p.line_of(key), f"people[{len(people)}].{key}: {role!r} is listed twice")
        for role in set(trained) & set(training):
            check.problem(p.line_of("training"), f"people[{len(people)}].training: already trained for {role!r}")
        prof = p.sub("profile")
        people.append(Person(
            name=p.get("name", yamlfile.name, "", required=True),
            team=p.get("team", text, ""),
            senior=p.get("senior", flag, False),
            trained=trained,
            oncall=p.get("oncall", one_of("primary", "secondary")),
            profile=load_profile(prof, base) if prof is not None else base,
            training=training,
        ))
        p.done()
    shadows = doc.get("shadow_before_lead", whole(0, 1000), 1)
    policies = _policies(doc, {p.name for p in people})
    doc.done()
    _listed_once(check, "people", lines, people)
    for level in ("primary", "secondary"):
        if sum(p.oncall == level for p in people) > 1:
            check.problem(doc.line_of("people"), f"people: more than one {level} on-call")
    if people and not any(p.oncall == "primary" for p in people):
        check.problem(doc.line_of("people"), "people: nobody is the primary on-call (oncall: primary)")
    if not people:
        check.problem(doc.line, "roster: 'people' must list at least one person")
    check.raise_problems()
    return Roster(tuple(people), shadows, policies)


def _listed_once(check, where: str, lines: list[int], entries) -> None:
    """Each name once: a second entry is refused at its own line (a script's participant
    listed twice was paged as neither, and the drill scored 0; two policies of one name
    left check-alerts and the refusals naming a policy ambiguous)."""
    first: dict[str, int] = {}
    for index, (line, entry) in enumerate(zip(lines, entries)):
        if entry.name in first:
            check.problem(line, f"{where}[{index}]: {entry.name!r} is listed twice (first at line {first[entry.name]})")
        first.setdefault(entry.name, line)


def _policies(doc: Fields, people: set) -> tuple[EscalationPolicy, ...]:
    check, policies, owner, lines = doc.checker, [], {}, []
    for line, raw in doc.items("escalation_policies"):
        where = f"escalation_policies[{len(policies)}]"
        f = check.mapping(raw, where, line)
        if f is None:
            continue
        lines.append(line)
        policy = EscalationPolicy(
            name=f.get("name", text, f"policy-{len(policies) + 1}"),
            receivers=f.get("receivers", text_list, (), required=True),
            levels=f.get("levels", text_list, ONCALL.levels),
            escalation_timeout=f.get("escalation_timeout", units.duration),
        )
        # An empty list would silence its receivers: a drill run pages nobody for their alerts.
        for key, empty in (("receivers", "names no receiver"), ("levels", "pages nobody")):
            if not getattr(policy, key):
                check.problem(f.line_of(key), f"{where}.{key}: {empty}: list at least one")
        for level in policy.levels:
            if level not in ("primary", "secondary") and level not in people:
                check.problem(f.line_of("levels"), f"{where}.levels: {level!r} is neither primary, secondary "
                              "nor a person in the roster")
        for receiver in policy.receivers:
            if receiver in owner:
                check.problem(f.line_of("receivers"), f"{where}.receivers: {receiver!r} is already paged by "
                              f"policy {owner[receiver]!r}")
            owner[receiver] = policy.name
        if policy.escalation_timeout is not None and policy.escalation_timeout <= 0:
            check.problem(f.line_of("escalation_timeout"), f"{where}.escalation_timeout must be more than 0s")
        f.done()
        policies.append(policy)
    _listed_once(check, "escalation_policies", lines, policies)
    return tuple(policies)


# --- timeline scripts --------------------------------------------------------------


@dataclass(frozen=True)
class ScriptParticipant:
    name: str
    oncall: str | None = None
    bot: bool = False


@dataclass(frozen=True)
class Script:
    participants: tuple[ScriptParticipant, ...]
    actions: tuple[tuple[float, Action], ...]  # (simulated second, action), in file order


def load_script(path, start: dt.datetime | None = None, horizon: float | None = None) -> Script:
    """A timeline script; clock times are read on ``start``'s date. Without a start (``drill
    validate`` checks a script alone) every time is checked for its form only, since where an
    ISO time lies from the start is known once a drill plays it (``units.moment``).
    Given the drill's ``horizon``, its actions' times must also lie within the drill, as a live
    drill's do (``parse_action``): a postmortem booked a year out is refused here, at its line."""
    doc = yamlfile.document(path, "script")
    check = doc.checker
    participants, lines = [], []
    for line, raw in doc.items("participants"):
        p = check.mapping(raw, f"participants[{len(participants)}]", line)
        if p is None:
            continue
        lines.append(line)
        participants.append(ScriptParticipant(
            p.get("name", yamlfile.name, "", required=True), p.get("oncall", one_of("primary", "secondary")),
            p.get("bot", flag, False)))
        p.done()
    _listed_once(check, "participants", lines, participants)
    names = {p.name for p in participants}
    bots = {p.name for p in participants if p.bot}
    actions = []
    for line, raw in doc.items("actions"):
        if not isinstance(raw, dict):
            check.problem(line, f"actions[{len(actions)}] must be a mapping, got {type(raw).__name__}")
            continue
        try:
            at = units.moment(raw.get("at"), start) if raw.get("at") is not None else None
            if at is None:
                raise ValueError("missing 'at' (when)")
            if horizon is not None and at > horizon:  # the drill is over by then: it would be dropped unplayed
                raise ValueError(f"{raw['at']} is after the drill ends ({units.clock(start + dt.timedelta(seconds=horizon))} UTC, "
                                 "its horizon)")
            action = parse_action(raw, start, horizon)
        except ValueError as exc:
            check.problem(line, f"actions: {exc}")
            continue
        if action.by not in names:
            check.problem(line, f"actions: {action.by!r} is not a participant (participants: {', '.join(sorted(names))})")
        elif action.by in bots:  # the bot would take the scripted step for its own and lose its way
            check.problem(line, f"actions: {action.by} is played by a bot (bot: true): a script acts only for the people it plays")
        actions.append((at, action))
    doc.done()
    if not any(p.oncall == "primary" for p in participants):
        check.problem(doc.line_of("participants"), "participants: nobody is the primary on-call (oncall: primary)")
    check.raise_problems()
    return Script(tuple(participants), tuple(actions))


def held_on(scenario: Scenario, day: dt.date) -> Scenario:
    """The scenario played on ``day``, at its own time of day: the channel name, the timeline and
    the postmortem date then carry the day the drill was held, not the day the story was written for."""
    return replace(scenario, start=dt.datetime.combine(day, scenario.start.timetz()))


def script_held_on(script: Script, written_for: dt.date, day: dt.date) -> Script:
    """A script's dates (a booked postmortem) moved with the drill: as many business days after
    ``day`` as they were after ``written_for``, the scenario's own date."""
    def moved(date: str) -> str:
        target, step = units.date(date), 1 if units.date(date) >= written_for else -1
        count, d = 0, written_for
        while d != target:
            d += dt.timedelta(days=step)
            count += step * (d.weekday() < 5)
        d = day
        while count:
            d += dt.timedelta(days=1 if count > 0 else -1)
            count -= (1 if count > 0 else -1) * (d.weekday() < 5)
        return d.isoformat()

    actions = tuple((t, a._replace(fields={**a.fields, "date": moved(a.fields["date"])}) if "date" in a.fields else a)
                    for t, a in script.actions)
    return replace(script, actions=actions)


# --- finding files -----------------------------------------------------------------


def _scenario_folders() -> tuple[Path, Path]:
    return Path.cwd() / "scenarios", REPO / "scenarios"  # here, then the repository's


def library() -> list[Path]:
    """The scenario library: the files of the first scenario folder there is."""
    folders = [f for f in _scenario_folders() if f.is_dir()]
    return sorted(folders[0].glob("*.yaml")) if folders else []


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError as exc:  # a name the file system refuses (too long): say so, as reading it would
        raise DrillError(f"{path}: {exc.strerror or exc}") from None


def scenario_path(name_or_path: str | None) -> Path:
    """A scenario file from a path, or a name in ``scenarios/`` (here, then the repository's)."""
    name = name_or_path or DEFAULT_SCENARIO
    path = Path(name)
    if _exists(path):
        return path
    for folder in _scenario_folders():
        for candidate in (folder / name, folder / f"{name}.yaml"):
            if _exists(candidate):
                return candidate
    raise DrillError(f"{name}: no such scenario file, and no scenario of that name in scenarios/")


def default_file(relative: str) -> Path | None:
    """``drills/process.yaml`` and friends: here if present, else none (built-in defaults)."""
    path = Path.cwd() / relative
    return path if path.exists() else None
