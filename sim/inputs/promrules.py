"""Prometheus rule files (``groups:`` of alerting and recording rules), read with line numbers.

The format is Prometheus's own, so a team's real files load unchanged: each group has a
``name``, an optional ``interval`` and ``rules``; a rule is ``alert:`` or ``record:``
with a PromQL ``expr`` (parsed by promql-parser), and an alert's ``for``,
``keep_firing_for``, ``labels`` and ``annotations`` (Go templates: ``$labels.x``,
``$value``, and the value through ``printf`` or Prometheus's ``humanize``,
``humanize1024``, ``humanizePercentage`` and ``humanizeDuration``, called or piped).
Anything the simulator does not evaluate is an error at its line naming what it is (a
function, a subquery, a template function), never a silent wrong answer.
"""

import functools
import re
from dataclasses import dataclass
from pathlib import Path

import promql_parser

from . import yamlfile
from .yamlfile import Checker, Fields, text

# seconds: the least scrape or evaluation interval, a drill's or a rule group's (Prometheus takes
# any, but a finer one is millions of steps in a week-long drill)
MIN_INTERVAL = 1.0

RANGE_FUNCTIONS = ("rate", "irate", "increase", "delta", "idelta", "avg_over_time", "max_over_time",
                   "min_over_time", "sum_over_time", "count_over_time", "last_over_time", "stddev_over_time",
                   "stdvar_over_time", "quantile_over_time", "present_over_time", "absent_over_time", "changes",
                   "resets", "deriv", "predict_linear")
# a sample's calendar in UTC (or the evaluation's, without an argument)
DATE_FUNCTIONS = ("year", "month", "day_of_month", "day_of_year", "days_in_month", "hour", "minute", "day_of_week")
FUNCTIONS = RANGE_FUNCTIONS + DATE_FUNCTIONS + (
    "histogram_quantile", "absent", "clamp_min", "clamp_max", "clamp", "abs", "ceil", "floor", "round", "exp", "sqrt",
    "ln", "log2", "log10", "vector", "scalar", "sort", "sort_desc", "label_replace", "label_join", "time", "timestamp",
    "sgn", "deg", "rad", "pi")
# Functions with string arguments (the only strings an expression may hold)
LABEL_FUNCTIONS = ("label_replace", "label_join")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_NOT_RE2 = re.compile(r"\(\?[=!<]|(?<!\\)\\[1-9]")
# promql-parser has Prometheus 3's grammar, which renamed holt_winters (Prometheus 2's name, the one
# promtool 2.42 takes) to double_exponential_smoothing; drillsim evaluates neither
HOLT_WINTERS = ("function holt_winters() (Prometheus 3's double_exponential_smoothing(), the only name "
                "promql-parser knows; a trend's forecast can use predict_linear())")
# Go's math computes these in Go, drillsim's with the C library: of 141 values each, checked with promtool, up to
# 45 (tan) differ in the last bit (atanh none, asinh 1, acosh 5), and a threshold or $value can show it
TRIGONOMETRY = ("sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh")
AGGREGATIONS = ("sum", "avg", "min", "max", "count", "group", "stddev", "stdvar", "quantile", "topk", "bottomk",
                "count_values")
# One template action: {{ $labels.x }}, {{ .Labels.x }} (or {{ $.Labels.x }}), {{ $externalLabels.x }}
# (or {{ .ExternalLabels.x }}), or the value ({{ $value }}, {{ .Value }}, {{ $.Value }}) as Go prints it, through printf or one of Prometheus's number
# functions in either form: {{ printf "%.2f" $value }}, {{ $value | printf "%.2f" }},
# {{ humanize $value }}, {{ $value | humanize }}.
TEMPLATE = re.compile(r"\{\{-?\s*(.*?)\s*-?\}\}", re.DOTALL)
VALUE_FUNCTIONS = ("humanize", "humanize1024", "humanizePercentage", "humanizeDuration")
_FORMAT = r'printf\s+"((?:[^"\\]|\\.)*)"'
_VALUE = r"(?:\$value|\$?\.Value)"
_CALL = "(" + "|".join(VALUE_FUNCTIONS) + ")"
_ACTIONS = (re.compile(rf"(?:{_FORMAT}\s+)?(?:{_VALUE}|\$labels\.(\w+)|\$?\.Labels\.(\w+)"
                       r"|(?:\$externalLabels|\$?\.ExternalLabels)\.(\w+))"),
            re.compile(rf"{_CALL}\s+{_VALUE}"),
            re.compile(rf"{_VALUE}\s*\|\s*(?:{_FORMAT}|{_CALL})"))
_LOWER_FIELD = re.compile(r"(?<![\w$])\$?\.(labels|value|externalLabels)\b")  # Go fields are capitalised
_WORD = re.compile(r'"(?:[^"\\]|\\.)*"|`[^`]*`|(?<![\w.$])([A-Za-z_]\w*)')
_KEYWORDS = ("if", "else", "end", "range", "with", "define", "template", "block", "break", "continue",
             "nil", "true", "false", "printf", *VALUE_FUNCTIONS)
SUPPORTED = ("$labels.x, .Labels.x, $externalLabels.x, and $value or .Value (or $.Labels.x, $.Value) as it is, through printf \"FMT\" or "
             f"through {', '.join(VALUE_FUNCTIONS[:-1])} or {VALUE_FUNCTIONS[-1]}, called or piped: "
             "{{ humanize $value }}, {{ $value | humanize }}")


# One verb of a printf format, as Go's fmt reads it: flags, width, precision, the verb
PRINTF_VERB = re.compile(r"%([-+# 0]*)(\d*)(?:\.(\d*))?(.?)", re.DOTALL)
_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|x[0-9a-fA-F]{2}|[0-7]{3}|.)", re.DOTALL)
_ESCAPED = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}


def go_unquote(body: str) -> str:
    """The text of a Go string literal's ``body`` (its escapes read; other text as it is)."""
    def one(match):
        code = match[1]
        if code[0] in "uUx":
            return chr(int(code[1:], 16))
        if code[0] in "01234567":
            return chr(int(code, 8))
        return _ESCAPED.get(code, code)
    return _ESCAPE.sub(one, body)


def printf_problem(form: str, text: bool = False) -> str | None:
    """Why drillsim would not print the value (or with ``text``, a label) through ``form`` as
    Go does, if it would not."""
    for match in PRINTF_VERB.finditer(go_unquote(form)):
        flags, _, precision, verb = match.groups()
        if verb == "*":
            return "a width or precision taken from an operand (*)"
        if text and verb and (verb in "xX" or (verb == "q" and ("+" in flags or "#" in flags))):
            return f"the verb %{flags}{verb} of a label (its bytes in hex, or quoted in ASCII)"
        if not text and verb and verb in "bxX":
            return f"the verb %{verb} (a float in binary or hex)"
        if not text and "#" in flags and (verb == "v" or (verb in "gG" and precision is None)):
            return f"the flag # with %{verb} without a precision"
    return None


@functools.lru_cache(maxsize=4096)
def action(source: str) -> tuple[str, str | None] | None:
    """What a template action prints, or None when drillsim does not render it: ``("label", name)``,
    ``("external", name)``, ``("value", None)``, ``("printf", format)``, ``("printf text", (format,
    name))`` (a label through printf) or ``(function, None)``."""
    if match := _ACTIONS[0].fullmatch(source):
        label = match[2] or match[3]
        if match[1] is not None and (label or match[4]):
            return "printf text", (match[1], label)  # label None: an external label (none is ever set)
        if label:
            return "label", label
        if match[4]:
            return "external", match[4]
        return ("printf", match[1]) if match[1] is not None else ("value", None)
    if match := _ACTIONS[1].fullmatch(source):
        return match[1], None
    if match := _ACTIONS[2].fullmatch(source):
        return ("printf", match[1]) if match[1] is not None else (match[2], None)
    return None


# Prometheus's duration format (model.ParseDuration): units in this order, each at most once.
_DURATION = re.compile(r"(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?")
_UNITS = (365 * 86400, 7 * 86400, 86400, 3600, 60, 1, 0.001)


def duration(value) -> float:
    """Seconds from a Prometheus duration such as ``5m``, ``1h30m`` or ``1d``."""
    source = str(value).strip()
    match = _DURATION.fullmatch(source)
    if source == "0":
        return 0.0
    if not source or match is None or isinstance(value, bool):
        raise ValueError(f"expected a Prometheus duration such as 30s, 5m, 1h30m or 1d, got {value!r}")
    return float(sum(int(n) * unit for n, unit in zip(match.groups(), _UNITS) if n))


@dataclass(frozen=True)
class PromRule:
    kind: str  # alert | record
    name: str
    expr: str
    for_s: float
    keep_firing_for_s: float
    labels: dict
    annotations: dict


@dataclass(frozen=True)
class RuleGroup:
    name: str
    interval: float | None  # None: the drill's evaluation interval
    rules: tuple[PromRule, ...]


def unsupported(expr) -> str | None:
    """What in a parsed expression the simulator does not evaluate, or None."""
    found, strings = [], [0]  # strings: those no label function takes, less those one does

    def visit(node):
        kind = type(node).__name__
        if kind == "Call" and node.func.name == "double_exponential_smoothing":
            found.append(HOLT_WINTERS)
        elif kind == "Call" and node.func.name in TRIGONOMETRY:
            found.append(f"function {node.func.name}() (Go's own trigonometry, which drillsim's would not match to the "
                         "last bit; deg(), rad() and pi() are evaluated)")
        elif kind == "Call" and node.func.name not in FUNCTIONS:
            found.append(f"function {node.func.name}()")
        elif kind == "Call" and node.func.name in RANGE_FUNCTIONS and not any(
                type(a).__name__ == "MatrixSelector" for a in node.args):
            found.append(f"function {node.func.name}() over a subquery")
        elif kind == "Call" and node.func.name in LABEL_FUNCTIONS:
            names = [a.val for a in node.args[1:] if type(a).__name__ == "StringLiteral"]
            strings[0] -= len(names)
            found.extend(_label_problems(node.func.name, names))
        elif kind == "StringLiteral":
            strings[0] += 1
        elif kind == "AggregateExpr" and str(node.op) not in AGGREGATIONS:
            found.append(f"aggregation {node.op}")
        elif kind == "AggregateExpr" and str(node.op) == "count_values" and type(node.param).__name__ == "StringLiteral":
            strings[0] -= 1
            if not LABEL_NAME.fullmatch(node.param.val):  # (Prometheus fails every evaluation)
                found.append(f"count_values()'s label name {node.param.val!r}")
        elif kind == "SubqueryExpr":
            found.append("subquery [range:step]")
        elif kind in ("VectorSelector", "MatrixSelector"):
            vs = node if kind == "VectorSelector" else node.vector_selector
            if vs.at is not None:
                found.append("the @ modifier")
            if vs.matchers.or_matchers:
                found.append("'or' between label matchers")
        elif kind == "BinaryExpr" and node.modifier is not None and node.modifier.fill_values is not None and (
                node.modifier.fill_values.lhs is not None or node.modifier.fill_values.rhs is not None):
            found.append("fill modifiers")
        return not found
    promql_parser.walk(expr, visit)
    if not found and strings[0]:
        found.append("string values")
    return found[0] if found else None


def _label_problems(name: str, strings: list) -> list[str]:
    """What Prometheus would fail a label function's evaluation for: a label name it cannot
    take, a regular expression it cannot compile (Go's syntax, RE2, has no lookaround and no
    backreference, which Python's would take; one Python cannot compile is refused too)."""
    if name == "label_replace":
        dst, _, _, regex = strings
        labels = (dst,)  # (2.42 checks the destination's name only)
        if _NOT_RE2.search(regex):
            return [f"label_replace()'s regular expression {regex!r} (a lookaround or backreference: not Go's syntax)"]
        try:
            re.compile(regex)
        except re.error as exc:
            return [f"label_replace()'s regular expression {regex!r} ({exc})"]
    else:
        labels = (strings[0], *strings[2:])
    return [f"{name}()'s label name {label!r}" for label in labels if not LABEL_NAME.fullmatch(label)][:1]


def parse_expr(value) -> str:
    """A PromQL expression the simulator evaluates (a converter: ValueError says what is wrong)."""
    source = text(value)
    try:
        expr = promql_parser.parse(source)
    except ValueError as exc:
        if "'holt_winters'" in str(exc):
            raise ValueError(f"unsupported in drillsim: {HOLT_WINTERS} (in {source!r})") from None
        raise ValueError(f"invalid PromQL: {exc}") from None
    what = unsupported(expr)
    if what is not None:
        raise ValueError(f"unsupported in drillsim: {what} (in {source!r})")
    if type(expr).__name__ == "MatrixSelector":
        raise ValueError(f"a rule's expression must give an instant vector or a scalar, not a range ({source!r})")
    return source


def template(value) -> str:
    """An annotation or label template with only the actions drillsim renders."""
    source = text(value)
    for match in TEMPLATE.finditer(source):
        done = action(match[1])
        if done is not None and done[0] in ("printf", "printf text"):
            form, over_label = (done[1], False) if done[0] == "printf" else (done[1][0], True)
            if problem := printf_problem(form, over_label):
                raise ValueError(f"unsupported printf format in {{{{ {match[1]} }}}}: drillsim does not print {problem}")
        if done is None and (field := _LOWER_FIELD.search(match[1])):
            raise ValueError(f"{{{{ {match[1]} }}}}: the template's data has no field {field[1]} (it is "
                             f"{field[1][0].upper()}{field[1][1:]}); Prometheus prints an error in its place")
        if done is None:
            words = [w for w in _WORD.findall(match[1]) if w and w not in _KEYWORDS]
            what = f"template function {words[0]} in" if words else "template action"
            raise ValueError(f"unsupported {what} {{{{ {match[1]} }}}} (drillsim renders {SUPPORTED})")
    return source


def _templates(r, key: str, read=template) -> dict:
    """A rule's ``labels`` or ``annotations``: each template checked (``read``), a problem at its
    own line (a null value is the empty text, as Prometheus reads it)."""
    fields = r.sub(key)
    return {} if fields is None else {str(name): fields.get(name, read, "") for name in fields.data}


def read_groups(check: Checker, doc, key: str = "groups") -> list[RuleGroup]:
    """The rule groups under ``key`` (a rule file's ``groups``, a scenario's ``rules``), problems recorded in ``check``."""
    groups, names = [], set()
    for line, raw in doc.items(key):
        g = check.mapping(raw, f"{key}[{len(groups)}]", line)
        if g is None:
            continue
        name = g.get("name", yamlfile.name, "", required=True)
        if name in names:
            check.problem(g.line_of("name"), f"groups: group name {name!r} is used twice")
        names.add(name)
        interval = g.get("interval", duration)
        if interval is not None and interval < MIN_INTERVAL:
            check.problem(g.line_of("interval"), f"{g.where}.interval must be {MIN_INTERVAL:g}s or more")
        rules = []
        for rline, rraw in g.items("rules"):
            r = check.mapping(rraw, f"{g.where}.rules[{len(rules)}]", rline)
            if r is not None:
                rules.append(_rule(r, check))
        g.get("limit")  # Prometheus's per-group alert limit: the world never comes near it
        g.done()
        groups.append(RuleGroup(name, interval, tuple(r for r in rules if r is not None)))
    return groups


def _rule(r, check: Checker) -> PromRule | None:
    alert, record = r.get("alert", text), r.get("record", text)
    if (alert is None) == (record is None):
        check.problem(r.line, f"{r.where}: give one of 'alert' or 'record'")
        return None
    expr = r.get("expr", parse_expr, "", required=True)
    kind = "alert" if alert is not None else "record"
    if kind == "record":
        if not re.fullmatch(r"[a-zA-Z_:][a-zA-Z0-9_:]*", record):
            check.problem(r.line_of("record"), f"{r.where}.record: {record!r} is not a valid metric name")
        for key in ("for", "keep_firing_for", "annotations"):
            if key in r.data:
                check.problem(r.line_of(key), f"{r.where}: a recording rule has no '{key}'")
                r.seen.add(key)
    rule = PromRule(
        kind=kind, name=alert if alert is not None else record, expr=expr,
        for_s=r.get("for", duration, 0.0), keep_firing_for_s=r.get("keep_firing_for", duration, 0.0),
        # Prometheus renders (and so checks) templates in an alerting rule's labels only: a
        # recording rule's labels are set as written, braces and all
        labels=_templates(r, "labels", template if kind == "alert" else text), annotations=_templates(r, "annotations"),
    )
    r.done()
    return rule


def rule_problem(raw: dict, where: str) -> tuple[int, str] | None:
    """The first problem (its line and message) ``load_rules`` finds in one rule read with lines,
    or None. Fields no rule has are not looked at: an import leaves them out."""
    check = Checker("")
    r = Fields(check, raw, where)
    r.seen.update(raw)
    _rule(r, check)
    return min(check.problems, default=None)


def load_rules(path) -> tuple[RuleGroup, ...]:
    """A Prometheus rule file; every problem raised together as ``file:line: message``."""
    doc = yamlfile.document(path, "rules")
    check = doc.checker
    groups = read_groups(check, doc)
    doc.done()
    check.raise_problems()
    return tuple(groups)


TEAM_RULE_FILES = ("*.yml", "*.yaml")  # the files of the team's monitoring folder a drill reads rules from


def load_team_rules(folder: Path | None) -> tuple[RuleGroup, ...]:
    """Every ``*.yml``/``*.yaml`` rule file in the team's monitoring folder, in name order."""
    if folder is None or not folder.is_dir():
        return ()
    groups = []
    for path in sorted(path for pattern in TEAM_RULE_FILES for path in folder.glob(pattern)):
        if is_rule_file(yamlfile.load(path)):
            groups.extend(load_rules(path))
    return tuple(groups)


def reads_team_rules(folder: Path, path: Path) -> bool:
    """Whether ``load_team_rules(folder)`` reads the rule file ``path``, once it is there."""
    return path.resolve().parent == folder.resolve() and any(path.match(pattern) for pattern in TEAM_RULE_FILES)


def is_rule_file(doc) -> bool:
    # any `groups:`, so that a group written without its dash is refused at its line, not skipped
    return isinstance(doc, dict) and (doc.get("kind") == "rules" or "groups" in doc)

