"""Would we even be paged? A scenario's fault story through the team's rules, routing and escalation.

``unanswered`` plays the scenario with the roster's on-call people present but nobody
acting: no page is ever acknowledged, so every escalation shows, and the faults run
their full course. ``check`` reads any event log (that one, or a real run's) into the
answer: which rules fired and when, which stayed silent, which notifications went to
which receiver, and who was paged at what time and urgency.
"""

import json
from dataclasses import dataclass, replace

from ..inputs import units, yamlfile
from ..inputs.alertmanager import Alertmanager
from ..inputs.config import ONCALL, Process, Roster, Scenario, Script, ScriptParticipant, escalation
from ..inputs.errors import DrillError
from ..model.engine import run_drill
from ..model.monitoring import rules as rules_module
from ..outputs.report import page_name


def unanswered(scenario: Scenario, process: Process, roster: Roster) -> list[dict]:
    """The event log of the scenario with the on-call people there and nobody answering a page,
    and nobody reporting it either: what the alerts alone would page."""
    people = tuple(ScriptParticipant(p.name, p.oncall) for p in roster.people if p.oncall)
    return run_drill(replace(scenario, reports=()), process, roster, Script(people, ()), seed=0, samples=False).events


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


def check(events: list[dict], scenario: Scenario, unreachable: dict | None = None) -> Answer:
    """What ``events`` say would page whom; ``unreachable`` (``unreachable()``) is who does not answer."""
    firing = [e for e in events if e["kind"] == "alert.firing"]
    fired = {}
    for e in firing:
        fired.setdefault(e["alert"], []).append(e)
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
