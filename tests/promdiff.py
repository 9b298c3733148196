"""Differential check of drillsim's rule evaluation against Prometheus's own ``promtool test rules``.

A case is a random rule (an expression from the grammar drillsim supports, ``for``,
``keep_firing_for``), scrape and evaluation intervals and a world (the reference
scenario's services with random faults). drillsim runs the drill and records the
series it scraped and when each alert fired and resolved; the same samples and rule
go to promtool as a unit test asserting, at every evaluation, exactly the alerts
drillsim had firing. A case agrees when promtool passes it. Many cases share one
promtool run (one test file each). Used by tests/test_promtool_diff.py (Hypothesis)
and benchmarks/promtool_diff.py (many more).
"""

import datetime as dt
import functools
import json
import math
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from sim import load_scenario
from sim.inputs.config import Script
from sim.inputs.promrules import PromRule, RuleGroup, parse_expr
from sim.model.engine import Drill
from sim.model.monitoring.promql import compile_expr, parse
from sim.model.monitoring.rules import render

REPO = Path(__file__).resolve().parent.parent
SCENARIO = REPO / "scenarios" / "checkout-config-push.yaml"
PROMTOOL = shutil.which("promtool")

SCRAPES = (10, 15, 30, 60, 120, 330, 400)  # 330 and 400: past the 5-minute lookback, samples go stale
EVALUATIONS = (10, 15, 20, 30, 60)
SERVICES = ("checkout", "payment-gateway", "cart", "search")
COUNTER = ('http_requests_total{code="500"}', 'http_requests_total{code=~"5.."}', 'http_requests_total{code!="200"}',
           "http_requests_total", 'http_requests_total{service=~"checkout|cart"}', "process_cpu_seconds_total",
           'http_request_duration_seconds_count{service!~"search|cart"}')
GAUGE = ("up", "error_rate", "cpu", "memory", "latency_p99_ms", 'error_rate{service="checkout"}',
         'cpu{service!="search"}', "process_resident_memory_bytes")
# How an annotation prints the value: as it is, through Prometheus's number functions (called
# or piped) and through printf (with flags, a width, a missing operand); the last four only
# round, with no jump at a unit's edge
VALUE_ACTIONS = ("$value", "$value", "$value | humanize", "humanize .Value", "$value | humanize1024",
                 "$value | humanizeDuration", "humanizePercentage $value", ".Value | humanizePercentage",
                 'printf "%.6g" $value', '$value | printf "%.6g"', 'printf "%-11.3e|" $value',
                 '$value | printf "%+09.2f%%"', 'printf "%.4G and %d" $value')
RANGES = ("1m", "2m", "5m", "10m")
# (named here, not taken from the engine: benchmarks/promql_same.py runs this generator in older engines too)
DATE_FUNCTIONS = ("year", "month", "day_of_month", "day_of_year", "days_in_month", "hour", "minute", "day_of_week")
# promtool's tests start at Unix time 0: so do the drills, so that time() and the calendar agree
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
OFFSETS = ("", "", "", " offset 1m", " offset 5m")
SUMMED = re.compile(r"\b(sum|avg|stddev|stdvar) *(by|without|\()")  # an expression that sums or averages series


class Picker:
    """What a case generator draws from: ``random.Random`` or Hypothesis's ``draw``."""

    def __init__(self, choose, uniform):
        self.choice, self.uniform = choose, uniform


def vector(p: Picker, depth: int = 0) -> str:
    """A random instant-vector expression over the world's series."""
    # (no topk or bottomk: promtool loads series in Go's random map order, which decides which of two
    # equal values they keep, where drillsim's series come in their labels' order; see docs/model.md)
    form = p.choice(("range", "gauge", "agg", "arith", "clamp", "quantile", "ratio", "group_left", "round",
                     "relabel", "sort", "forecast", "clock", "calendar", "counted", "sign")
                    if depth < 2 else ("range", "gauge", "forecast", "calendar"))
    if form == "range":
        fn = p.choice(("rate", "irate", "increase", "delta", "idelta", "avg_over_time", "max_over_time", "min_over_time",
                       "sum_over_time", "count_over_time", "last_over_time", "stddev_over_time", "stdvar_over_time",
                       "changes", "resets", "deriv", "present_over_time", "absent_over_time"))
        series = p.choice(COUNTER if fn in ("rate", "irate", "increase", "resets") else GAUGE + COUNTER[:2]
                          if fn in ("changes", "deriv") else GAUGE)
        return f"{fn}({series}[{p.choice(RANGES)}]{p.choice(OFFSETS)})"
    if form == "forecast":
        window = f"{p.choice(GAUGE)}[{p.choice(RANGES)}]{p.choice(OFFSETS)}"
        if p.choice((True, False)):
            return f"predict_linear({window}, {p.choice(('60', '600', '3600', '-300'))})"
        return f"quantile_over_time({p.choice(('0', '0.5', '0.9', '0.99', '1'))}, {window})"
    if form == "round":
        inner, nearest = vector(p, depth + 1), p.choice(("", ", 0.5", ", 5", ", 0.001"))
        # a sum or mean of several series strays in its last bit in promtool (noise()), and on an
        # edge (105.2425 to 0.001) that is a whole step: 105.242 here, 105.243 there, either side
        # of a threshold between them
        return inner if SUMMED.search(inner) else f"round({inner}{nearest})"
    if form == "relabel":  # a label added, so no two series end up alike
        return p.choice((f'label_replace({vector(p, depth + 1)}, "svc", "x-$1", "service", "(c[a-z]+)-?.*")',
                         f'label_join({vector(p, depth + 1)}, "where", "/", "service", "team")'))
    if form == "sort":
        return f"{p.choice(('sort', 'sort_desc'))}({vector(p, depth + 1)})"
    if form == "clock":  # a scrape's age: from 0 to the scrape interval (and gone past the lookback)
        return p.choice((f"time() - timestamp({p.choice(GAUGE)})", f"timestamp({p.choice(GAUGE)}) - time() + 1000"))
    if form == "calendar":  # the evaluation's time (the drill's from 1970-01-01, as promtool's), or a value's
        fn = p.choice(DATE_FUNCTIONS)
        if depth >= 2 or p.choice((True, False)):
            return f"{fn}()"
        return p.choice((f"{fn}(timestamp({p.choice(GAUGE)}) * {p.choice(('1', '60', '3600', '86400', '2e6'))})",
                         f"{fn}(vector(time() * {p.choice(('24', '1000', '30000'))}))",
                         f"{fn}(({vector(p, depth + 1)}) * 1e6)"))
    if form == "counted":  # values rounded: a label holds each one, whatever order promtool sums in
        grouping = p.choice(("", "by (service)", "without (code)"))
        return f'count_values {grouping} ("v", round({vector(p, depth + 1)}, 0.1))'
    if form == "sign":
        return f"{p.choice(('sgn', 'deg', 'rad'))}({vector(p, depth + 1)} - {p.choice(('0', '1', '0.5'))})"
    if form == "gauge":
        return p.choice(GAUGE) + p.choice(OFFSETS)
    if form == "agg":
        agg = p.choice(("sum", "avg", "min", "max", "count", "stddev", "stdvar", "quantile"))
        grouping = p.choice(("by (service)", "without (code)", "", "by (team)"))
        param = f"{p.choice(('0', '0.5', '0.9', '1'))}, " if agg == "quantile" else ""
        return f"{agg} {grouping} ({param}{vector(p, depth + 1)})"
    if form == "arith":
        return f"({vector(p, depth + 1)}) {p.choice(('*', '/', '+', '-'))} {p.choice(('100', '2', '0.5', 'pi()'))}"
    if form == "clamp":
        return f"{p.choice(('clamp_min', 'clamp_max'))}({vector(p, depth + 1)}, {p.choice(('0.01', '0.5', '1'))})"
    if form == "quantile":
        return (f"histogram_quantile({p.choice(('0.5', '0.9', '0.99'))}, sum by (service, le) "
                f"(rate(http_request_duration_seconds_bucket[{p.choice(RANGES)}])))")
    if form == "ratio":
        window = p.choice(RANGES)
        return (f"sum by (service) (rate(http_requests_total{{code=\"500\"}}[{window}])) "
                f"/ {p.choice(('', 'on (service) ', 'ignoring (team) '))}"
                f"sum by (service) (rate(http_requests_total[{window}]))")
    return p.choice((("sum by (service, code) (rate(http_requests_total[5m])) / on (service) group_left (team) "
                      "sum by (service, team) (rate(http_requests_total[5m]))"),
                     ("sum by (service) (rate(http_requests_total[2m])) / on (service) group_right "
                      "sum by (service, code) (rate(http_requests_total[2m]))")))


def noise(v: float) -> float:
    """How far promtool's sum or mean of several series may stray from drillsim's (a billionth
    of the value, far more than it does): it loads series in Go's random map order and adds
    them up in that order, so its last bits vary from run to run."""
    return 1e-9 * abs(v)


def prints_noise(template: str, values: list[float]) -> bool:
    """Whether ``template`` could print one of ``values`` either way within its noise: a value
    on a rounding edge (91.48375 to 6 digits is 91.4837 or 91.4838 by the order summed in)."""
    return any(render(template, {}, v - noise(v)) != render(template, {}, v + noise(v))
               for v in values if math.isfinite(v))


def condition(p: Picker, inner: str, values: list[float]) -> str:
    """``inner`` compared with a threshold between two values it takes, sometimes combined."""
    # Values within each other's noise are one: a threshold between them would fall in it
    distinct = []
    for v in sorted(v for v in values if math.isfinite(v)):
        if not distinct or v - distinct[-1] > noise(v):
            distinct.append(v)

    def pick():
        if len(distinct) < 2:  # one value (give or take the noise): a threshold well clear of it
            value = distinct[0] if distinct else 0.0
            return value + p.choice((-0.5, 0.5)) * (abs(value) + 1)
        i = int(p.uniform(0, len(distinct) - 1 - 1e-9))
        return (distinct[i] + distinct[i + 1]) / 2
    op, threshold = p.choice((">", "<", ">=", "<=", ">", ">")), pick()
    expr = f"({inner}) {op} {threshold!r}"
    combine = p.choice(("", "", "", "and", "unless", "or", "bool", "absent"))
    if combine in ("and", "unless", "or"):
        expr = f"({expr}) {combine} (({inner}) {p.choice(('>', '<'))} {pick()!r})"
    elif combine == "bool":
        expr = f"(({inner}) {op} bool {threshold!r}) == 1"
    elif combine == "absent":
        expr = f"absent(({inner}) {op} {threshold!r})"
    return expr


@dataclass
class Case:
    name: str
    expr: str
    for_s: float
    keep_s: float
    scrape: int
    evaluation: int
    horizon: float
    faults: tuple
    labels: dict
    annotations: dict


def world_faults(p: Picker, base, horizon: float) -> tuple:
    faults = []
    for fault in base.faults:
        faults.append(replace(fault, at=round(p.uniform(0, horizon * 0.5)), ramp=round(p.uniform(0, 600)),
                              duration=round(p.uniform(30, horizon * 0.6)),
                              magnitude={"error_rate": round(p.uniform(0.002, 0.9), 4),
                                         "latency": round(p.uniform(1, 30), 2), "cpu": round(p.uniform(0, 0.6), 3)}))
    return tuple(faults)


@functools.cache
def _base():
    return load_scenario(SCENARIO)


def _scenario(case: Case, rules):
    base = _base()
    services = {n: s for n, s in base.services.items() if n in SERVICES}
    services = {n: replace(s, depends_on=tuple(d for d in s.depends_on if d in services)) for n, s in services.items()}
    monitoring = replace(base.monitoring, scrape_interval=float(case.scrape), evaluation_interval=float(case.evaluation))
    faults = tuple(f for f in case.faults if f.service in services)
    return replace(base, services=services, faults=faults, alerts=(), noise=(), monitoring=monitoring,
                   horizon=case.horizon, rules=rules, start=EPOCH)


def run(case: Case, expr: str | None = None) -> Drill:
    """drillsim's drill of the case (no participants: the world follows its faults alone)."""
    rule = PromRule("alert", case.name, parse_expr(expr or case.expr), float(case.for_s), float(case.keep_s),
                    case.labels, case.annotations)
    drill = Drill(_scenario(case, (RuleGroup("g", None, (rule,)),)), script=Script((), ()), samples=False)
    rules = drill.monitoring.rules
    rules.notify = lambda alert: None  # routing and paging are not under test
    drill.rendered = {}  # evaluation time -> fingerprint -> annotations as rendered then
    evaluate = rules.evaluate

    def evaluate_and_keep(interval=None):
        evaluate(interval)
        drill.rendered[drill.env.now] = {a.fingerprint: dict(a.annotations) for a in rules.alerts}
    rules.evaluate = evaluate_and_keep
    drill.run()
    return drill


def rendered_at(drill: Drill, t: float) -> dict:
    """Annotations by fingerprint as rendered at evaluation time ``t``: at the last evaluation up
    to ``t`` (the engine skips the ticks at which the rules would repeat themselves)."""
    return drill.rendered[max(when for when in drill.rendered if when <= t + 1e-9)]


def make_case(p: Picker, name: str) -> Case:
    scrape, evaluation = p.choice(SCRAPES), p.choice(EVALUATIONS)
    steps = int(p.uniform(30, 60))
    horizon = float(max(steps * evaluation, 8 * scrape) + evaluation // 2)
    base = _base()
    labels = p.choice(({}, {"severity": "page"}, {"owner": "{{ $labels.service }}"}))
    case = Case(name, "", p.choice((0, 0, evaluation, 2 * evaluation, 45, 60, 300)),
                p.choice((0, 0, 0, evaluation, 60, 150)), scrape, evaluation, horizon,
                world_faults(p, base, horizon), labels, {})
    inner = vector(p)
    # promtool loads series in Go's random map order, so a sum or mean over several series
    # can differ in its last bit between two promtool runs: $value is printed whole, or through
    # a function whose output jumps at a unit's edge (999.99... -> 1k, 59.99s -> 1m 0s), only
    # where the order cannot matter, else to 4 or 6 digits, and not at all when a value it
    # takes sits on a rounding edge
    whole = SUMMED.search(inner) is None
    printed = p.choice(VALUE_ACTIONS if whole else VALUE_ACTIONS[-4:])
    case.annotations = p.choice(({}, {"summary": "{{ $labels.service }} at {{ " + printed + " }}"}))
    drill = run(case, inner)
    query = compile_expr(parse(inner), drill.monitoring.rules.store)
    values = [v for t in eval_times(case) for v in _values(query(t))]
    if not whole and case.annotations and prints_noise(case.annotations["summary"], values):
        case.annotations = {}
    case.expr = condition(p, inner, values)
    return case


def _values(result) -> list[float]:
    return [result] if isinstance(result, float) else [v for _, v in result]


def eval_times(case: Case) -> list[float]:
    n = int(case.horizon // case.evaluation)
    return [float(k * case.evaluation) for k in range(n + 1) if k * case.evaluation < case.horizon]


def _seconds(t: float) -> str:
    return f"{int(t)}s" if t == int(t) else f"{round(t * 1000)}ms"


def _selector(labels: dict) -> str:
    inner = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()) if k != "__name__")
    return f"{labels['__name__']}{{{inner}}}"


def promtool_files(case: Case, drill: Drill, folder: Path) -> Path:
    """The rule file and the unit test asserting drillsim's firing alerts at every evaluation."""
    rules = drill.monitoring.rules
    rule = {"alert": case.name, "expr": case.expr, "for": _seconds(case.for_s)}
    if case.keep_s:
        rule["keep_firing_for"] = _seconds(case.keep_s)
    for key in ("labels", "annotations"):
        if getattr(case, key):
            rule[key] = getattr(case, key)
    # JSON is YAML, and far quicker to write
    (folder / f"{case.name}.rules.yml").write_text(json.dumps({"groups": [{"name": "g", "rules": [rule]}]}))
    store = rules.store
    store.fill()
    input_series = [{"series": _selector(s.labels), "values": " ".join(repr(v) for v in s.values)}
                    for s in store.scraped]
    by_fp = {a.fingerprint: a for a in rules.alerts}
    spans = {}  # fingerprint -> [(fired, resolved or inf)]
    for e in drill.log.events:
        if e["kind"] == "alert.firing":
            spans.setdefault(e["fingerprint"], []).append([e["t"], math.inf])
        elif e["kind"] == "alert.resolved":
            spans[e["fingerprint"]][-1][1] = e["t"]
    checks = []
    for t in eval_times(case):
        firing = [fp for fp, periods in spans.items() if any(a <= t < b for a, b in periods)]
        exp = [{"exp_labels": {k: v for k, v in sorted(by_fp[fp].labels.items()) if k != "alertname"},
                "exp_annotations": rendered_at(drill, t)[fp]} for fp in sorted(firing)]
        checks.append({"eval_time": _seconds(t), "alertname": case.name, "exp_alerts": exp})
    test = {"rule_files": [f"{case.name}.rules.yml"], "evaluation_interval": _seconds(case.evaluation),
            "tests": [{"interval": _seconds(case.scrape), "input_series": input_series, "alert_rule_test": checks}]}
    path = folder / f"{case.name}.test.yml"
    path.write_text(json.dumps(test))
    return path


def disagreements(cases: list[Case]) -> dict[str, str]:
    """Run every case in drillsim and all of them in one promtool run; case name -> promtool's complaint."""
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        tests = [promtool_files(case, run(case), folder).name for case in cases]
        # promtool names each test on stdout and says why it failed on stderr: one pipe keeps
        # them in the order written, so a failure's reasons follow its name
        done = subprocess.run([PROMTOOL, "test", "rules", *tests], cwd=folder, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, timeout=600, check=False)
    out = done.stdout
    failed = {}
    for block in re.split(r"(?=Unit Testing: )", out):
        match = re.match(r"Unit Testing: +(\S+)\.test\.yml", block)
        if match and "SUCCESS" not in block:
            failed[match[1]] = block.strip()
    if done.returncode and not failed:
        raise RuntimeError(f"promtool failed without naming a test:\n{out[-3000:]}")
    return failed
