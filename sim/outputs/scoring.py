"""Scoring: pure functions from a drill's event log, its scenario and the process to a scorecard.

Times are seconds; a metric is ``None`` when the event it needs never happened, and a
checklist item is ``None`` when it does not apply to this drill (docs/scoring.md).
"""

import math
from collections import defaultdict

from ..inputs import units
from ..inputs.config import Process, Scenario
from ..model.memo import per_scenario
from . import coaching

CHECKLIST = {
    "confirm_alert_real": "Confirm the alert is real (check dashboards)",
    "assess_severity": "Assess severity using the defined criteria",
    "declare_and_open_channel": "Declare the incident and create the channel",
    "page_ic_and_comms": "Page the IC and Communications Lead",
    "initial_summary": "Post the initial summary in the incident channel",
    "investigate_symptoms": "Investigate symptoms, not root cause",
    "mitigate_first": "Mitigate first, diagnose later",
    "communicate_at_cadence": "Communicate at the defined cadence",
    "resolved_when_normal": "Declare resolved when metrics return to normal",
    "postmortem_scheduled": "Schedule the postmortem within 5 business days",
}


# A scenario's truth as a process names its levels: the same for every drill of the two (speed:
# Process.truth makes a new Truth each time, and a scorecard asks for it once or twice).
_truth = per_scenario(64)(Process.truth)


def _first(events, kind, where=None):
    for e in events:  # speed: a loop, not next() over a generator (scoring looks for a first event ~20 times)
        if e["kind"] == kind and (where is None or where(e)):
            return e
    return None


def _kinds(events) -> dict[str, list[dict]]:
    """The events of each kind, in order (speed: most figures want one or two kinds, and the
    scorecard works them out from one pass)."""
    of: dict[str, list[dict]] = defaultdict(list)
    for e in events:
        of[e["kind"]].append(e)
    return of


def _caused_by_fault(event) -> bool:
    return event.get("cause") not in (None, ["noise"])


def _symptom(event) -> bool:
    """A sign of the incident a responder is shown: an alert a fault caused, or a report by people."""
    return (event["kind"] == "alert.firing" and _caused_by_fault(event)) or event["kind"] == "report.received"


def _detected(events):
    """The first sign of the incident: an alert a fault caused or a report by people, whichever came first."""
    return next((e for e in events if _symptom(e)), None)


def _since(event, origin):
    return None if event is None or origin is None else round(event["t"] - origin["t"], 1)


def final_close(events, kinds=("incident.resolved", "incident.stood_down")):
    """The resolution (or stand-down) that stood: the last one, unless the incident was reopened after it."""
    for e in reversed(events):  # speed: from the end, where the close is
        if e["kind"] in kinds:
            return e
        if e["kind"] == "incident.reopened":
            return None
    return None


def _end_of(events):
    """When the incident ended: resolution, stand-down, or the end of the drill."""
    ended = final_close(events)
    return (ended or events[-1])["t"] if events else 0.0


def cadence_adherence(events: list[dict], process: Process) -> float | None:
    """Share of update deadlines falling due before resolution that were met.

    The first update is due ``initial_update`` after declaration; each next one is due
    within the current severity's longest cadence after the previous update (or after
    the missed deadline, when no late update followed).
    """
    return _adherence(_kinds(events), _end_of(events), process)


def _adherence(of, end, process) -> float | None:
    deadlines = _update_deadlines(of, end, process)
    return sum(met for _, met in deadlines) / len(deadlines) if deadlines else None


def update_deadlines(events: list[dict], process: Process) -> list[tuple[float, bool]]:
    """Each update deadline that fell due before resolution, and whether it was met, for the
    audiences whose cadence the process scores (``scoring.cadence``: internal, public or both)."""
    return _update_deadlines(_kinds(events), _end_of(events), process)


def _update_deadlines(of, end, process) -> list[tuple[float, bool]]:
    return sorted(d for audience in _scored(process) for d in _deadlines(of, process, end, audience)[0])


def _scored(process: Process) -> tuple[str, ...]:
    return ("internal", "public") if process.cadence_scored == "both" else (process.cadence_scored,)


def next_update_due(events: list[dict], process: Process, now: float) -> float | None:
    """When the next status update is due at ``now``, by the rule the cadence is scored with:
    a deadline already missed (and no update since) while it stays missed, else the coming
    one (the earliest of the scored audiences'); None before the declaration or once the
    incident is over. The live console and the participant pages show this, so the clock
    people see is the one they are scored by."""
    if _first(events, "incident.declared") is None or final_close(events) is not None:
        return None
    due, of = [], _kinds(events)
    for audience in _scored(process):
        fell_due, coming = _deadlines(of, process, now, audience)
        if fell_due and not fell_due[-1][1]:
            missed = fell_due[-1][0]
            if not any(e["kind"] == "update.posted" and _audience(e) == audience and missed < e["t"] <= now
                       for e in events):
                coming = missed
        if coming is not None:
            due.append(coming)
    return min(due, default=None)


def _audience(update: dict) -> str:
    return update.get("audience", "internal")


def _deadlines(of, process, end, audience) -> tuple[list[tuple[float, bool]], float | None]:
    """The deadlines for updates to ``audience`` falling due before ``end`` (and whether each
    was met), and the next one, from the events of each kind ``of``. The first is due
    ``initial_update`` after the declaration, or after the severity is raised to a level that
    updates this audience at all."""
    if not of.get("incident.declared"):
        return [], None
    declared = of["incident.declared"][0]
    updates = [e["t"] for e in of.get("update.posted", ()) if e["t"] >= declared["t"] and _audience(e) == audience]
    changes = [(declared["t"], declared["severity"])]
    changes += [(e["t"], e["to"]) for e in of.get("severity.changed", ())]

    def severity_at(t):
        return [s for when, s in changes if when <= t][-1]

    def cadence_at(t):
        level = process.level(severity_at(t))
        return level.cadence(audience) if level else None

    def start_after(t):
        """The first deadline once the audience is updated at all, from ``t`` on."""
        begins = next((when for when, _ in changes if when >= t and cadence_at(when)), None)
        return None if begins is None else begins + process.initial_update

    def due_after(anchor):
        """The deadline after ``anchor``: the cadence then, brought forward by a change of severity
        before it to that change plus the new level's cadence (a raise to SEV1 is updated at SEV1's
        pace from the raise on, not at the old level's)."""
        cadence = cadence_at(anchor)
        if not cadence:
            return start_after(anchor)
        deadline = anchor + cadence[1]
        for when, _ in changes:
            if anchor < when < deadline and (now := cadence_at(when)):
                deadline = min(deadline, when + now[1])
        return deadline

    deadlines = []
    after, deadline = declared["t"] - 1e-9, start_after(declared["t"])
    while deadline is not None and deadline < end:
        window = [u for u in updates if after < u <= deadline]
        deadlines.append((deadline, bool(window)))
        if window:
            anchor = window[-1]
        else:
            late = [u for u in updates if deadline < u < end]
            anchor = late[0] if late else deadline
        after, deadline = anchor, due_after(anchor)
    # An update already posted for the coming deadline meets it: the one after counts from it
    # (from the very second it is posted, when ``end`` is now).
    early = [u for u in updates if after < u <= end]
    if early and cadence_at(early[-1]):
        deadline = due_after(early[-1])
    return deadlines, deadline


def _highest(events, process):
    levels = [e.get("severity") if e["kind"] == "incident.declared" else e.get("to")
              for e in events if e["kind"] in ("incident.declared", "severity.changed")]
    return min(levels, key=process.rank) if levels else None


def role_coverage(events: list[dict], process: Process) -> float | None:
    """Mean over the required roles of the share of declared-to-resolved time someone held it."""
    return _coverage(_kinds(events), _end_of(events), _highest(events, process), process)


def _coverage(of, end, highest, process) -> float | None:
    level = process.level(highest)
    if not of.get("incident.declared") or level is None or not level.roles:
        return None
    start = of["incident.declared"][0]["t"]
    if end <= start:
        return None
    shares, assigned = [], of.get("role.assigned", ())
    for role in level.roles:
        first = _first(assigned, "role.assigned", lambda e, r=role: e["role"] == r)
        held = 0.0 if first is None or first["t"] >= end else end - max(first["t"], start)
        shares.append(held / (end - start))
    return sum(shares) / len(shares)


def customer_impact_min(events: list[dict]) -> float:
    """Minutes during which at least one customer-facing service breached its impact threshold."""
    active: set = set()
    total, since = 0.0, None
    for e in events:
        kind = e["kind"]
        if kind == "impact.started":
            if not active:
                since = e["t"]
            active.add(e["service"])
        elif kind == "impact.ended" and e["service"] in active:
            active.discard(e["service"])
            if not active:
                total += e["t"] - since
    if active and events:
        total += events[-1]["t"] - since
    return total / 60.0


def slo_budget_consumed(bad_requests: dict | None, scenario: Scenario) -> float | None:
    """The largest share of a customer-facing service's SLO error budget the drill used: its
    failed and lost requests over the bad requests its SLO allows in its window at its usual
    traffic ((1 - slo) x request rate x window). 1.0 is the whole month's budget."""
    shares = []
    for name, counted in (bad_requests or {}).items():
        svc = scenario.services.get(name)
        allowed = svc and (1.0 - svc.slo) * svc.request_rate * svc.slo_window
        if allowed:
            shares.append((counted["failed"] + counted["lost"]) / allowed)
    return round(max(shares), 6) if shares else None


def stakeholder_waits(events: list[dict]) -> list[float]:
    """For each stakeholder question, how long it waited for the next status update (until
    the incident ended when none came)."""
    waits = []
    for asked in (e for e in events if e["kind"] == "stakeholder.asked"):
        answer = _first(events, "update.posted", lambda e, t=asked["t"]: e["t"] >= t)
        waits.append((answer["t"] if answer else max(_end_of(events), asked["t"])) - asked["t"])
    return waits


def _roles_held(assignments) -> dict:
    """Who holds each role after the ``role.assigned`` events, and the most roles one person held at once."""
    roles: dict[str, str] = {}
    most = 0
    for e in assignments:
        roles[e["role"]] = e["who"]
        # Only the person just given a role holds more than before: the most at once is theirs or an earlier most.
        most = max(most, list(roles.values()).count(e["who"]))
    return {"roles": roles, "max_roles_per_person": most}


def _ic_hands_on(events) -> int:
    ic, count = None, 0
    for e in events:
        kind = e["kind"]
        if kind == "role.assigned" and e["role"] == "ic":
            ic = e["who"]
        elif kind in ("investigation.started", "mitigation.applied") and ic is not None and e["by"] == ic:
            count += 1
        elif kind in ("incident.resolved", "incident.stood_down"):
            ic = None
    return count


def _business_days(start: str, end: str) -> int:
    return units.business_days_between(units.date(start), units.date(end))


def _day(scenario: Scenario, t: float) -> str:
    return units.at(scenario.start, t).date().isoformat()


def _resolved_when_normal(events, resolved) -> bool:
    """At resolution no customer impact, no fault alert firing, and no fault left to come back."""
    before = [e for e in events if e["t"] <= resolved["t"]]
    impacted, firing = set(), set()
    for e in before:
        kind = e["kind"]  # speed: read once, for the four kinds asked about (most events are none of them)
        if kind == "impact.started":
            impacted.add(e["service"])
        elif kind == "impact.ended":
            impacted.discard(e["service"])
        elif kind == "alert.firing" and _caused_by_fault(e):
            firing.add(e["fingerprint"])
        elif kind == "alert.resolved":
            firing.discard(e["fingerprint"])
    stable = all(state in _SETTLED for state in _fault_states(before).values())
    return not impacted and not firing and stable


_SETTLED = ("fixed", "eased", "ended")
# A fault not settled at the resolution, as its explanation says it, by its state then.
_UNSETTLED = {"active": "was still active (nothing had fixed it)",
              "partial": "was only partly fixed",
              "suppressed": "was only held back by a band-aid mitigation and could come back"}


def _fault_states(events) -> dict[str, str]:
    """Each fault's state after ``events``: active, ended, or what the last mitigation that took
    left it (fixed, eased, partial or suppressed); one that failed left it as it was."""
    faults = {}
    for e in events:
        kind = e["kind"]
        if kind in ("fault.started", "fault.returned"):
            faults[e["fault"]] = "active"
        elif kind == "fault.ended":
            faults[e["fault"]] = "ended"
        elif kind == "mitigation.applied":
            for touched in e["faults"]:
                if touched["outcome"] != "failed":
                    faults[touched["fault"]] = touched["outcome"]
    return faults


def _ic_spans(events, name) -> list[tuple[float, float]]:
    """When ``name`` held IC: from taking it to handing it on or closing the incident."""
    spans, since = [], None
    for e in events:
        if e["kind"] == "role.assigned" and e["role"] == "ic":
            if e["who"] == name and since is None:
                since = e["t"]
            elif e["who"] != name and since is not None:
                spans.append((since, e["t"]))
                since = None
        elif e["kind"] in ("incident.resolved", "incident.stood_down") and since is not None:
            spans.append((since, e["t"]))
            since = None
    if since is not None:
        spans.append((since, events[-1]["t"]))
    return spans


def duties(events: list[dict], scenario: Scenario, process: Process, name: str) -> dict:
    """One person's own part, apart from the team's score: the roles they held and gave out,
    the severity calls they made and whether each was right, and, for their time as IC, the
    update cadence the team kept and whether they stayed hands-off (docs/scoring.md)."""
    truth, full_process = _truth(process, scenario.truth), {n for n, level in process.severities.items() if level.roles}
    mine = [e for e in events if e.get("by") == name]
    spans = _ic_spans(events, name)

    def while_ic(t):
        return any(start <= t <= end for start, end in spans)

    def right(event):
        # A declaration is judged against the severity at first; a later change against
        # where the incident ends up (a worsening incident's final severity).
        level = event.get("to", event.get("severity"))
        if truth.false_alarm:
            return level not in full_process
        return level == (truth.severity if event["kind"] == "incident.declared" else truth.final_severity or truth.severity)

    took_ic = spans[0][0] if spans else None
    assigned = [{"role": e["role"], "who": e["who"], "at": e["at"], "after_s": round(e["t"] - took_ic, 1)}
                for e in mine if e["kind"] == "role.assigned" and not (e["role"] == "ic" and e["who"] == name)]
    decisions = [{"at": e["at"], "from": e.get("from"), "to": e.get("to", e.get("severity")), "right": right(e)}
                 for e in mine if e["kind"] in ("incident.declared", "severity.changed")]
    staffed = None
    if spans:
        ic_end = spans[-1][1]
        levels = [e.get("to", e.get("severity")) for e in events
                  if e["kind"] in ("incident.declared", "severity.changed") and e["t"] <= ic_end]
        required = [r for r in process.level(min(levels, key=process.rank)).roles if r != "ic"] if levels else []
        held = {e["role"] for e in events if e["kind"] == "role.assigned" and e["t"] <= ic_end}
        staffed = all(r in held for r in required) if required else None
    deadlines = [met for t, met in update_deadlines(events, process) if while_ic(t)]
    hands_on = sum(e["kind"] in ("investigation.started", "mitigation.applied") and while_ic(e["t"]) for e in mine)
    acks = [e for e in mine if e["kind"] == "page.acked"]
    first_page = _first(events, "page.sent", lambda e: acks and e["page"] == acks[0]["page"])
    return {
        "roles_held": sorted({e["role"] for e in events if e["kind"] == "role.assigned" and e["who"] == name}),
        "ic_time_s": round(sum(end - start for start, end in spans), 1) if spans else None,
        "roles_assigned": assigned,
        "required_roles_staffed": staffed,
        "severity_decisions": decisions,
        "cadence_while_ic": sum(deadlines) / len(deadlines) if deadlines else None,
        "hands_on_while_ic": hands_on if spans else None,
        "hands_off_as_ic": hands_on == 0 if spans else None,
        "time_to_acknowledge_s": _since(acks[0] if acks else None, first_page),
        "updates_posted": sum(e["kind"] == "update.posted" for e in mine),
        "investigations": sum(e["kind"] == "investigation.started" for e in mine),
        "mitigations": sum(e["kind"] == "mitigation.applied" for e in mine),
        "actions_rejected": sum(e["kind"] == "action.rejected" for e in mine),
        "tasks_asked": sum(e["kind"] == "task.asked" for e in mine),
        "paged_unanswered": bool(acks) is False and any(
            e["kind"] in ("page.sent", "page.escalated") and e["to"] == name for e in events),
        "resolved": any(e["kind"] == "incident.resolved" for e in mine),
    }


def score(events: list[dict], scenario: Scenario, process: Process, people: tuple[str, ...] = ()) -> dict:
    """The scorecard: ``{"metrics", "checklist", "components", "score"}``, and ``"people"``
    (each person's ``duties``) when people took part in a live drill."""
    truth = _truth(process, scenario.truth)
    of = _kinds(events)
    # The dashboards looked at, half a drill's log, count only where ``of`` gives them (a look
    # before the decision): everything else reads the rest, and the last event (when it ended).
    events = [e for e in events[:-1] if e["kind"] != "dashboard.viewed"] + events[-1:]

    def first(kind, where=None):
        return _first(of.get(kind, ()), kind, where)

    fault_start = first("fault.started")
    firing = first("alert.firing", _caused_by_fault)
    detected = _detected(events)
    page = first("page.sent", _caused_by_fault)
    fault_pages = {e["page"] for e in of.get("page.sent", ()) if _caused_by_fault(e)}
    ack = first("page.acked", lambda e: e["page"] in fault_pages)
    declared = first("incident.declared")
    mitigated = first("mitigation.applied", lambda e: e["effective"])
    resolved = final_close(events, ("incident.resolved",))
    first_resolved = first("incident.resolved")  # a premature call, reopened later, is still judged
    stood_down = first("incident.stood_down")
    postmortem = first("postmortem.scheduled")
    ended = first("drill.ended") or {}
    highest = _highest(events, process)
    held = _roles_held(of.get("role.assigned", ()))
    paged = sorted({t for e in of.get("teams.paged", ()) for t in e["teams"]})
    needed = sorted(truth.teams_needed)
    end = _end_of(events)
    adherence = _adherence(of, end, process)
    coverage = _coverage(of, end, highest, process)
    full_process = {name for name, level in process.severities.items() if level.roles}
    # The clocks start at the first sign of the incident. A declaration before any alert or report
    # (someone saw it first, on a dashboard) is that sign: time to declare 0, never negative.
    known = declared if declared is not None and not truth.false_alarm and (
        detected is None or declared["t"] < detected["t"]) else detected
    # Nothing shows before the fault starts: declared earlier (a guess at a drill's start, say),
    # the incident was known the moment the fault began, and its clocks run from there.
    early = declared is not None and known is declared and fault_start is not None and declared["t"] < fault_start["t"]
    since = fault_start if early else known

    metrics = {
        "time_to_detect_s": _since(since, fault_start),
        "detected_by": None if known is None else "declaration" if known is declared else "alert" if known is firing
        else known["by"],
        "time_to_acknowledge_s": _since(ack, page),
        "time_to_declare_s": _since(declared, known),
        "time_to_mitigate_s": _since(mitigated, since),
        "time_to_resolve_s": _since(resolved, since),
        "customer_impact_min": round(customer_impact_min(events), 2),
        "cadence_adherence": adherence,
        "role_coverage": coverage,
        "declared_severity": declared["severity"] if declared else None,
        "highest_severity": highest,
        "expected_severity": truth.severity,
        "severity_changes": len(of.get("severity.changed", ())),
        "ic_hands_on_actions": _ic_hands_on(events),
        "max_roles_per_person": held["max_roles_per_person"],
        "teams_paged": paged,
        "teams_needed": needed,
        "teams_missing": sorted(set(needed) - set(paged)),
        "false_alarm": truth.false_alarm,
        "false_alarm_handled": (stood_down is not None and highest not in full_process) if truth.false_alarm else None,
        "postmortem_date": postmortem["date"] if postmortem else None,
        "updates_posted": len(of.get("update.posted", ())),
        "actions_rejected": len(of.get("action.rejected", ())),
        "revenue_lost": ended.get("revenue_lost"),
        "failed_requests": ended.get("failed_requests"),
        "lost_requests": ended.get("lost_requests"),
        "bad_requests": None if ended.get("failed_requests") is None else ended["failed_requests"] + ended.get("lost_requests", 0),
        "slo_budget_consumed": slo_budget_consumed(ended.get("bad_requests"), scenario),
    }

    decision = declared or stood_down
    looked_first = decision is not None and any(
        e["by"] == decision["by"] and e["t"] <= decision["t"] for e in of.get("dashboard.viewed", ()))
    first_look = first("investigation.started", lambda e: detected is not None and e["t"] >= detected["t"])
    symptoms = {e["service"] for kind in ("alert.firing", "report.received") for e in of.get(kind, ())
                if first_look and e["t"] <= first_look["t"]}
    first_update = first("update.posted")
    required = process.level(highest).roles if highest else ()
    leads = [role for role in ("ic", "comms") if role in required]  # a level may staff one without the other
    needs_postmortem = bool(highest and process.level(highest).postmortem)
    real = not truth.false_alarm
    checklist = {
        "confirm_alert_real": looked_first if decision else None,
        "assess_severity": (declared is not None and declared["severity"] == truth.severity) if real
        else highest not in full_process,
        "declare_and_open_channel": declared is not None if real else None,
        "page_ic_and_comms": all(r in held["roles"] for r in leads) if leads else None,
        "initial_summary": (first_update is not None and first_update["t"] - declared["t"] <= process.initial_update)
        if declared and real else None,
        "investigate_symptoms": (first_look is not None and first_look["service"] in symptoms) if real else None,
        "mitigate_first": (mitigated is not None and (resolved is None or mitigated["t"] <= resolved["t"])) if real else None,
        "communicate_at_cadence": None if adherence is None else adherence >= process.cadence_pass,
        "resolved_when_normal": _resolved_when_normal(events, first_resolved) if first_resolved
        else (False if real and declared else None),
        # A postmortem is booked after resolution: a real incident never resolved has missed it too.
        "postmortem_scheduled": (postmortem is not None and 0 <= _business_days(_day(scenario, resolved["t"]), postmortem["date"])
                                 <= process.postmortem_business_days) if needs_postmortem and resolved
        else (False if needs_postmortem and real and declared else None),
    }
    metrics["postmortem_in_time"] = checklist["postmortem_scheduled"]
    waits = stakeholder_waits(events) if "stakeholder.asked" in of else ()
    if waits:  # only live drills have stakeholder questions (no look for them in the others); informational, not weighted
        metrics["stakeholder_questions"] = len(waits)
        metrics["stakeholder_longest_wait_s"] = round(max(waits), 1)

    def timeliness(value, target, zero_at):
        if value is None:
            return 0.0
        return max(0.0, min(1.0, (zero_at - value) / (zero_at - target))) if value > target else 1.0

    applicable = [v for v in checklist.values() if v is not None]
    expected = process.level(truth.severity) if real else None
    severity_score = None
    if real:
        off = abs(process.rank(metrics["declared_severity"]) - process.rank(truth.severity)) if declared else 9
        severity_score = {0: 1.0, 1: 0.5}.get(off, 0.0)
    teams_score = None
    if needed and declared:
        teams_score = max(0.0, len(set(needed) & set(paged)) / len(needed) - 0.1 * len(set(paged) - set(needed)))
    components = {
        "declare": timeliness(metrics["time_to_declare_s"], expected.response, 4 * expected.response) if expected else None,
        "severity": severity_score,
        "cadence": adherence,
        "roles": coverage,
        "mitigate": timeliness(metrics["time_to_mitigate_s"], process.mitigate_target, 3 * process.mitigate_target) if real else None,
        "impact": timeliness(60 * metrics["customer_impact_min"], process.impact_target, 3 * process.impact_target)
        if real and "impact.started" in of else None,
        "checklist": sum(applicable) / len(applicable) if applicable else None,
        "teams": teams_score,
        "false_alarm": float(metrics["false_alarm_handled"]) if truth.false_alarm else None,
    }
    weighted = [(process.weights[name], value) for name, value in components.items() if value is not None]
    total_weight = sum(w for w, _ in weighted)
    overall = round(100 * sum(w * v for w, v in weighted) / total_weight, 1) if total_weight else 0.0
    card = {"metrics": metrics, "checklist": checklist, "components": components, "score": overall,
            "why": why_missed(events, scenario, process, checklist)}
    if people:
        card["people"] = {name: duties(events, scenario, process, name) for name in people}
        for duty in card["people"].values():
            duty["next_steps"] = coaching.next_steps(duty, card, process)
    return card


# --- why an item was missed ----------------------------------------------------------


def why_missed(events: list[dict], scenario: Scenario, process: Process, checklist: dict) -> dict[str, str]:
    """For each checklist item missed (False): what happened, when, and what would have passed,
    in one sentence a person can act on. The scorecard, report.md and the browser show it."""
    if False not in checklist.values():  # nothing missed, as in most drills: nothing to look up
        return {}

    def clock(t):
        return units.iso(scenario.start, t)[11:16]

    declared = _first(events, "incident.declared")
    resolved = final_close(events, ("incident.resolved",))
    stood_down = _first(events, "incident.stood_down")
    end = events[-1]["t"] if events else 0.0
    highest = _highest(events, process)
    truth = _truth(process, scenario.truth)
    why = {}
    for item, ok in checklist.items():
        if ok is not False:
            continue
        if item == "confirm_alert_real":
            decision = declared or stood_down
            verb = "declared" if declared else "stood the alert down"
            why[item] = (f"{decision['by']} {verb} at {clock(decision['t'])} without looking at a dashboard first; "
                         f"a look at the alerting service's dashboard before that would have passed")
        elif item == "assess_severity":
            if truth.false_alarm:
                why[item] = (f"a false alarm was run at {highest}, a severity with the full process; "
                             f"standing it down, or staying at a level without roles, would have passed")
            elif declared is None:
                why[item] = f"no severity was ever declared; declaring {truth.severity} would have passed"
            else:
                why[item] = (f"declared {declared['severity']} at {clock(declared['t'])} while the impact made it "
                             f"{truth.severity}; declaring {truth.severity} would have passed")
        elif item == "declare_and_open_channel":
            why[item] = ((f"the alert was stood down at {clock(stood_down['t'])}, " if stood_down else "")
                         + f"no incident was declared before the drill ended at {clock(end)}; declaring (and so "
                         "opening the channel) once the impact was confirmed would have passed")
        elif item == "page_ic_and_comms":
            held = {e["role"] for e in events if e["kind"] == "role.assigned"}
            required = process.level(highest).roles
            missing = [name for role, name in (("ic", "an Incident Commander"), ("comms", "a Communications Lead"))
                       if role in required and role not in held]
            why[item] = (f"{' or '.join(missing)} was never assigned, though {highest} needs "
                         f"{'both; assigning them' if {'ic', 'comms'} <= set(required) else 'one; assigning one'} "
                         "would have passed")
        elif item == "initial_summary":
            first = _first(events, "update.posted")
            due = declared["t"] + process.initial_update
            when = (f"the first update came at {clock(first['t'])}, {units.human(first['t'] - declared['t'])} after "
                    if first else "no status update followed ")
            why[item] = (f"{when}the declaration at {clock(declared['t'])}; one by {clock(due)} "
                         f"(within {units.human(process.initial_update)}) would have passed")
        elif item == "investigate_symptoms":
            detected = _detected(events)
            look = _first(events, "investigation.started", lambda e: detected is not None and e["t"] >= detected["t"])
            alerting = sorted({e["service"] for e in events if _symptom(e) and (look is None or e["t"] <= look["t"])})
            start = (f"the first investigation, at {clock(look['t'])}, was of {look['service']}, which had no alert firing"
                     if look else "nobody investigated a service")
            why[item] = f"{start}; starting with {' or '.join(alerting) or 'an alerting service'} would have passed"
        elif item == "mitigate_first":
            helped = _first(events, "mitigation.applied", lambda e: e["effective"])
            tried = [f"{e['action'].replace('_', ' ')} of {e['service']} at {clock(e['t'])}"
                     for e in events if e["kind"] == "mitigation.applied" and not e["effective"]]
            fixes = sorted({f"{fix.replace('_', ' ')} of {f.service}" for f in scenario.faults for fix in f.fixes})
            if helped is not None:  # it came, but after the resolution
                why[item] = (f"the first mitigation that helped ({helped['action'].replace('_', ' ')} of "
                             f"{helped['service']}) came at {clock(helped['t'])}, after the resolution at "
                             f"{clock(resolved['t'])}; mitigating before resolving would have passed")
            else:
                why[item] = ("no mitigation that helped was applied" + (f" (tried: {', '.join(tried)})" if tried else "")
                             + (f"; {' or '.join(fixes)} would have passed" if fixes else ""))
        elif item == "communicate_at_cadence":
            deadlines = update_deadlines(events, process)
            missed = [clock(t) for t, met in deadlines if not met]
            met = len(deadlines) - len(missed)
            why[item] = (f"{met} of {len(deadlines)} update deadlines met ({met / len(deadlines):.0%}), below the "
                         f"{process.cadence_pass:.0%} needed; missed the update{'s' * (len(missed) > 1)} due at "
                         f"{', '.join(missed[:4])}{' and more' if len(missed) > 4 else ''}; an update before each "
                         "deadline would have passed")
        elif item == "resolved_when_normal":
            why[item] = _why_not_normal(events, scenario, _first(events, "incident.resolved"), end, clock)
        elif item == "postmortem_scheduled":
            booked = _first(events, "postmortem.scheduled")
            if resolved is None:
                why[item] = "the incident was never resolved, so no postmortem was booked"
            else:
                day = _day(scenario, resolved["t"])
                latest = units.business_days_after(units.date(day), process.postmortem_business_days).isoformat()
                said = (f"it was booked for {booked['date']}, {_business_days(day, booked['date'])} business days "
                        f"after the resolution on {day}" if booked else f"no postmortem was booked after the resolution on {day}")
                why[item] = f"{said}; booking it for {day} to {latest} would have passed"
    return why


def _why_not_normal(events, scenario, resolved, end, clock) -> str:
    """Why the resolution was not at steady state: what was still wrong then, and when it cleared."""
    if resolved is None:
        impacted = sorted({e["service"] for e in events if e["kind"] == "impact.started"}
                          - {e["service"] for e in events if e["kind"] == "impact.ended"})
        ongoing = f", with customers still affected on {', '.join(impacted)}" if impacted else ""
        return (f"the incident was never resolved: the drill ended at {clock(end)}{ongoing}; "
                "resolving once the metrics were back at steady state would have passed")
    t = resolved["t"]
    wrong, cleared = [], []
    for name in sorted({e["service"] for e in events if e["kind"] == "impact.started" and e["t"] <= t}):
        marks = [e for e in events if e["kind"] in ("impact.started", "impact.ended") and e["service"] == name]
        if [e for e in marks if e["t"] <= t][-1]["kind"] == "impact.started":
            svc = scenario.services[name]
            limit = f"{svc.impact_error_rate:.0%} error rate" if not svc.impact_latency_p99_ms else \
                f"{svc.impact_error_rate:.0%} error rate or {svc.impact_latency_p99_ms:g} ms p99"
            ended = next((e for e in marks if e["t"] > t and e["kind"] == "impact.ended"), None)
            wrong.append(f"{name} was above its {limit} impact threshold"
                         + (f" (it fell below at {clock(ended['t'])})" if ended else " (it stayed above)"))
            cleared.append(ended["t"] if ended else None)
    firing: dict = {}
    for e in events:
        if e["t"] > t:
            break
        if e["kind"] == "alert.firing" and _caused_by_fault(e):
            firing[e["fingerprint"]] = e
        elif e["kind"] == "alert.resolved":
            firing.pop(e["fingerprint"], None)
    for fingerprint, e in firing.items():
        ended = next((r for r in events if r["kind"] == "alert.resolved" and r["fingerprint"] == fingerprint and r["t"] > t), None)
        wrong.append(f"alert \"{e['summary']}\" was still firing" + (f" (it resolved at {clock(ended['t'])})" if ended else ""))
        cleared.append(ended["t"] if ended else None)
    for fault, state in sorted(_fault_states([e for e in events if e["t"] <= t]).items()):
        if state not in _SETTLED:
            wrong.append(f"fault {fault} {_UNSETTLED[state]}")
            cleared.append(None)
    # Minutes as people read a clock: all was clear from the first whole minute after the last of it.
    after = f"resolving at {clock(60 * math.ceil(max(cleared) / 60))} or later" if None not in cleared \
        else "resolving once all of it had cleared"
    return f"resolved at {clock(t)} while {'; '.join(wrong)}; {after} would have passed"
