"""Would we even be paged? A scenario's fault story through the team's rules, routing and escalation.

``unanswered`` plays the scenario with the roster's on-call people present but nobody
acting: no page is ever acknowledged, so every escalation shows, and the faults run
their full course. ``check`` reads any event log (that one, or a real run's) into the
answer: which rules fired and when, which stayed silent (and why: ``rules.unread``, their
pending spells, and ``nearest``, how near they came in the play), which notifications went
to which receiver, and who was paged at what time and urgency.
"""

import json
import math
from dataclasses import dataclass, replace

from ..inputs import units, yamlfile
from ..inputs.alertmanager import Alertmanager
from ..inputs.config import ONCALL, Process, Roster, Scenario, Script, ScriptParticipant, escalation
from ..inputs.errors import DrillError
from ..model.engine import Drill
from ..model.monitoring import rules as rules_module
from ..outputs.report import page_name


def unanswered(scenario: Scenario, process: Process, roster: Roster) -> list[dict]:
    """The event log of the scenario with the on-call people there and nobody answering a page,
    and nobody reporting it either: what the alerts alone would page."""
    return _play(scenario, process, roster).run().events


def _play(scenario: Scenario, process: Process, roster: Roster) -> Drill:
    """The unanswered play of ``scenario``, made and not yet run (its monitoring is kept after the run)."""
    people = tuple(ScriptParticipant(p.name, p.oncall) for p in roster.people if p.oncall)
    return Drill(replace(scenario, reports=()), process, roster, Script(people, ()), seed=0, samples=False)


def nearest(scenario: Scenario, process: Process, roster: Roster, names) -> dict[str, str]:
    """How near each of these alerting rules came to firing in the unanswered play, for a
    shorthand rule and a Prometheus rule of the form ``X OP number`` (no ``bool``): X's value
    nearest the number (the highest for ``>``, the lowest for ``<``, the closest for ``==``),
    its series and when. X is recorded at every evaluation by recording rules added after the
    rules (at the end of the rule's group), which log nothing."""
    import promql_parser

    from ..inputs.promrules import PromRule, RuleGroup

    wanted, groups = {}, []

    def want(name, expr, op, number):
        wanted[name] = (f"drillsim:nearest:{len(wanted)}", expr.replace("{}", ""), op, number)
        return PromRule("record", wanted[name][0], expr, 0.0, 0.0, {}, {})

    for group in scenario.rules:
        extra = []
        for rule in group.rules:
            if rule.kind != "alert" or rule.name not in names or rule.name in wanted:
                continue
            node = promql_parser.parse(rule.expr)
            op = str(getattr(node, "op", ""))
            if type(node).__name__ != "BinaryExpr" or op not in _FLIP or (node.modifier and node.modifier.return_bool):
                continue
            expr, number = node.lhs, node.rhs
            if type(expr).__name__ == "NumberLiteral":  # 0.9 < X: X > 0.9
                expr, number, op = number, expr, _FLIP[op]
            if type(number).__name__ == "NumberLiteral" and type(expr).__name__ != "NumberLiteral":
                extra.append(want(rule.name, str(expr), op, number.val))
        groups.append(RuleGroup(group.name, group.interval, group.rules + tuple(extra)))
    shorthand = [want(rule.name, f'{rule.metric}{{service="{rule.service}"}}', rule.op, rule.threshold)
                 for rule in scenario.alerts if rule.name in names and rule.name not in wanted and rule.op in _FLIP]
    if shorthand:
        groups.append(RuleGroup("drillsim:nearest", None, tuple(shorthand)))
    if not wanted:
        return {}
    drill = _play(replace(scenario, rules=tuple(groups)), process, roster)
    drill.run()
    recorded = {owner.rule.name: series for owner, series in drill.monitoring.rules.store.recorded.items()}
    said = {}
    for name, (record, text, op, number) in wanted.items():
        far = _distance(op, number)
        best = None  # (how far, value, series, time)
        for series in recorded.get(record, {}).values():
            series.catch_up()
            for t, value in zip(series.times, series.values):
                if value is not None and not math.isnan(value) and (best is None or far(value) < best[0]):
                    best = (far(value), value, series, t)
        if best is None:
            said[name] = f"{text} gave no series in this drill"
            continue
        _, value, series, t = best
        labels = ", ".join(f'{k}="{v}"' for k, v in series.key if k != "__name__")
        said[name] = (f"{text} came nearest at {units.at(scenario.start, t).strftime('%H:%M:%S')}: {value:.4g}"
                      f"{f' for {{{labels}}}' if labels else ''} (it fires at {op} {number:g})")
    return said


_FLIP = {">": "<", ">=": "<=", "<": ">", "<=": ">=", "==": "=="}


def _distance(op: str, number: float):
    """How far a value of X is from firing ``X op number``: the smaller, the nearer."""
    if op in (">", ">="):
        return lambda value: -value
    if op in ("<", "<="):
        return lambda value: value
    return lambda value: abs(value - number)


def read_events(path) -> list[dict]:
    """A run's ``events.jsonl``."""
    events = []
    for number, line in enumerate(yamlfile.read_text(path).splitlines(), start=1):
        try:
            event = json.loads(line) if line.strip() else None
        except json.JSONDecodeError as exc:
            raise DrillError(f"{path}:{number}: not a JSON event: {exc.msg}") from None
        if event is not None:
            if not isinstance(event, dict) or "kind" not in event or "t" not in event:
                raise DrillError(f"{path}:{number}: not an event of an event log (no kind or t)")
            events.append(event)
    if not events:  # an empty file would answer "not paged" about a drill it does not hold
        raise DrillError(f"{path}:1: no events: expected a run's events.jsonl")
    return events


def receivers(alerting: Alertmanager, roster: Roster) -> list[str]:
    """Who each receiver pages, and the escalation policies that name no receiver there is."""
    out = []
    for name, receiver in alerting.receivers.items():
        policy = escalation(roster.policies, name, receiver.pages)
        if policy is None:
            who = "nobody (no paging integration or policy)"
        else:  # the built-in default is named on-call too, as a roster's own policy often is
            who = " -> ".join(policy.levels) + (f" (policy {policy.name})" if policy is not ONCALL
                                                else " (no policy names it: this week's on-call)")
        out.append(f"  {name}: {who}")
    for policy in roster.policies:
        for name in policy.receivers:
            if name not in alerting.receivers:
                out.append(f"  escalation policy {policy.name} names {name!r}, which is not a receiver here")
    return out


def unreachable(scenario: Scenario, roster: Roster) -> dict[str, str]:
    """Who does not answer a page, and why, as the drill's bots play them: the on-call the
    scenario makes unreachable, and anyone the roster marks ``reachable: false``."""
    return {p.name: (f"the scenario makes the {p.oncall} unreachable" if p.oncall in scenario.unreachable
                     else "the roster marks them unreachable")
            for p in roster.people if p.oncall in scenario.unreachable or not p.profile.reachable}


@dataclass(frozen=True)
class Answer:
    fired: list  # (alert name, first firing event, times it fired, cause)
    silent: list  # rule names that never fired
    notifications: list  # notification.sent events
    pages: list  # page.sent / page.escalated / page.urgency_raised / page.acked / page.resolved events
    first_page: dict | None  # the first page a fault caused
    fault_start: dict | None
    reached: dict | None = None  # the first page.sent or page.escalated of a fault's page to someone who answers
    urgency: str = ""  # that page's urgency then
    acked: dict | None = None  # the first acknowledgement of a fault's page (a run's log has them)
    unreachable: dict | None = None  # name -> why they do not answer
    unread: dict | None = None  # silent rule -> why it reads nothing of the drill (``rules.unread``)
    pending: dict | None = None  # silent rule -> its alert.pending events (it held, but not for its ``for``)
    nearest: dict | None = None  # silent rule -> how near it came to firing (``nearest``)


def check(events: list[dict], scenario: Scenario, unreachable: dict | None = None) -> Answer:
    """What ``events`` say would page whom; ``unreachable`` (``unreachable()``) is who does not answer."""
    firing = [e for e in events if e["kind"] == "alert.firing"]
    fired, pending = {}, {}
    for e in firing:
        fired.setdefault(e["alert"], []).append(e)
    for e in events:
        if e["kind"] == "alert.pending":
            pending.setdefault(e["alert"], []).append(e)
    rules = [rule.name for rule in scenario.alerts] + [
        rule.name for group in scenario.rules for rule in group.rules if rule.kind == "alert"]
    silent = [name for name in dict.fromkeys(rules) if name not in fired]  # Prometheus's groups may repeat a name
    why = rules_module.unread(scenario.rules, scenario.services) if scenario.rules else {}
    pages = [e for e in events if e["kind"].startswith("page.")]
    fault_pages = [e for e in pages if e["kind"] == "page.sent" and e["cause"] != ["noise"]]
    ids, away = {e["page"] for e in fault_pages}, unreachable or {}
    urgency, reached, reached_urgency = {}, None, ""
    for e in pages:
        if e["kind"] in ("page.sent", "page.urgency_raised"):
            urgency[e["page"]] = e.get("urgency", "high")
        if reached is None and e["page"] in ids and e["kind"] in ("page.sent", "page.escalated") and e["to"] not in away:
            reached, reached_urgency = e, urgency[e["page"]]
    return Answer(
        fired=[(name, got[0], len(got), sorted({c for e in got for c in e["cause"]})) for name, got in fired.items()],
        silent=silent,
        notifications=[e for e in events if e["kind"] == "notification.sent"],
        pages=pages,
        first_page=fault_pages[0] if fault_pages else None,
        fault_start=next((e for e in events if e["kind"] == "fault.started"), None),
        reached=reached, urgency=reached_urgency,
        acked=next((e for e in pages if e["kind"] == "page.acked" and e["page"] in ids), None), unreachable=away,
        unread={name: why[name] for name in silent if name in why},
        pending={name: pending[name] for name in silent if name in pending},
    )


def lines(answer: Answer, scenario: Scenario, paged_by: list[str] = ()) -> list[str]:
    """The answer as the terminal prints it (``paged_by``: the ``receivers`` lines)."""
    def clock(e):  # the event's own wall-clock time, as the event log rounds it
        return e["at"][11:19]

    out = [f"{scenario.title} ({scenario.name})", ""]
    out += [f"  {units.at(scenario.start, f.at).strftime('%H:%M:%S')}  fault {f.id}: {f.kind} on {f.service}"
            for f in scenario.faults]
    out += ["", "Rules that fire:"]
    for name, first, times, cause in answer.fired:
        again = f", {times} times" if times > 1 else ""
        out.append(f"  {clock(first)}  {name} ({first['severity']}{again}): {first['summary']}"
                   f"  [cause: {', '.join(cause)}]")
    if not answer.fired:
        out.append("  none")
    out += ["", "Silent rules (never fired): " + (", ".join(answer.silent) or "none")]
    # a rule that reads nothing of this drill's world can never fire in it: say what it asks for that is not there
    out += [f"  {name} reads no series of this drill: {reason}" for name, reason in (answer.unread or {}).items()]
    waits = {rule.name: rule.for_s for group in scenario.rules for rule in group.rules} | {
        rule.name: rule.for_s for rule in scenario.alerts}
    for name, got in (answer.pending or {}).items():  # it held, but never as long as its ``for``
        out.append(f"  {name} went pending {len(got)} time{'s' if len(got) > 1 else ''} (first at {clock(got[0])}) "
                   f"but never held for {units.human(waits[name])}")
    out += [f"  {name} never held: {said}" for name, said in (answer.nearest or {}).items()
            if name not in (answer.pending or {})]
    out += ["", "Notifications:"]
    for e in answer.notifications:
        to = f" -> {e['receiver']}" if "receiver" in e else ""
        what = ", ".join(e["firing"]) or "all resolved"
        out.append(f"  {clock(e)}  {e['group']}{to}: {what}")
    if paged_by:
        out += ["", "Receivers (who each pages):", *paged_by]
    out += ["", "Pages:"]
    describe = {
        "page.sent": lambda e: f"{page_name(e['page'])} to {e['to']} ({e['urgency']} urgency): {e['summary']}",
        "page.escalated": lambda e: f"{page_name(e['page'])} not acknowledged: escalated from {e['from']} to {e['to']}",
        "page.urgency_raised": lambda e: f"{page_name(e['page'])} raised to high urgency for {e['to']}",
        "page.acked": lambda e: f"{page_name(e['page'])} acknowledged by {e['by']}",
        "page.resolved": lambda e: f"{page_name(e['page'])} resolved",
    }
    out += [f"  {clock(e)}  {describe[e['kind']](e)}" for e in answer.pages] or ["  none"]
    out.append("")
    page, start, reached = answer.first_page, answer.fault_start, answer.reached

    def after(e):
        return f", {units.human(e['t'] - start['t'])} after the fault started" if start else ""

    if page is None:
        out.append("Would we be paged? NO: no fault-caused alert reached anyone.")
    elif reached is page:
        out.append(f"Would we be paged? yes: {page['to']} at {clock(page)}{after(page)}, {page['urgency']} urgency.")
    else:
        # The first page went to someone who will not answer it: say who does, if anyone.
        first = f"{page['to']}, paged at {clock(page)}, does not answer ({answer.unreachable[page['to']]})"
        out.append(f"Would we be paged? yes: {reached['to']} at {clock(reached)}{after(reached)}, {answer.urgency} "
                   f"urgency, when {page_name(reached['page'])} escalates; {first}." if reached else
                   f"Would we be paged? NO one who answers: {first}, and no page reaches anyone else.")
    if answer.acked:
        out.append(f"Answered: {answer.acked['by']} acknowledged {page_name(answer.acked['page'])} at "
                   f"{clock(answer.acked)}{after(answer.acked)}.")
    return out
