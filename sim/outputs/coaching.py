"""Coaching after a drill: each person's next steps, and the facilitator's debrief.

``next_steps`` turns one person's duties (``scoring.duties``) and the team's misses into
two or three things to do differently next time, each naming what happened. ``debrief``
lays the drill's timeline beside the scenario's truth (when the root cause began, when it
was findable, when it was found, what was tried and what worked), for the facilitator to
project after the drill.
"""

from ..inputs import units
from ..model.incident import found_nothing, task_words

MOST_STEPS = 3
SLOW_ACK = 300.0  # an acknowledgement slower than this is one the escalation would have overtaken


ROLE_NAMES = {"ic": "Incident Commander", "comms": "Communications Lead", "ops": "Operations Lead"}


def next_steps(duty: dict, card: dict, process) -> list[str]:
    """Up to three concrete things for this person to do next time, most useful first."""
    steps = []
    as_ic = duty["ic_time_s"] is not None
    wrong = [d for d in duty["severity_decisions"] if not d["right"]]
    if wrong:
        d = wrong[0]
        expected = card["metrics"]["expected_severity"]
        steps.append(f"At {d['at'][11:16]} you set {d['to']}" + (f"; the impact made it {expected}" if expected else "")
                     + ": before declaring, compare what the dashboards show with the severity table ("
                     + "; ".join(f"{name}: {level.description}" for name, level in list(process.severities.items())[:2])
                     + ").")
    if duty["hands_on_while_ic"]:
        steps.append(f"As IC you did {duty['hands_on_while_ic']} investigation(s) or mitigation(s) yourself: ask "
                     "someone instead (ask ops rollback SERVICE, ask NAME investigate SERVICE) and keep coordinating.")
    if as_ic and duty["required_roles_staffed"] is False:
        leads = [r for r in process.level(card["metrics"]["highest_severity"]).roles if r != "ic"]
        named = [("an " if ROLE_NAMES[r][0] in "AEIOU" else "a ") + ROLE_NAMES[r] for r in leads]
        steps.append(f"The severity needed {' and '.join(named)}: assign {'both' if len(leads) > 1 else 'it'} in the "
                     f"first minutes ({', '.join(f'assign {r} NAME' for r in leads)}), so the updates and the digging "
                     "are not on you.")
    cadence = duty["cadence_while_ic"]
    if cadence is not None and cadence < process.cadence_pass:
        steps.append(f"While you were IC {cadence:.0%} of update deadlines were met: give every update a next= time "
                     "and keep it, even with 'no new information'.")
    if as_ic and not duty["tasks_asked"] and card["metrics"].get("time_to_mitigate_s") is None:
        # A level that staffs no Operations Lead has nobody of that name to ask.
        staffs_ops = "ops" in process.level(card["metrics"]["highest_severity"]).roles
        steps.append("Nobody was asked to mitigate: decide a mitigation early (roll back the recent change, "
                     f"see changes) and ask {'the Operations Lead' if staffs_ops else 'someone (ask NAME rollback SERVICE)'} "
                     "to apply it, rather than waiting for a root cause.")
    if as_ic and card["checklist"].get("resolved_when_normal") is False and duty["resolved"]:
        steps.append("The incident was resolved while it was not over: before resolving, check that no alert is "
                     "firing and the customer-facing error rates are back at baseline, and give it some minutes.")
    if as_ic and card["checklist"].get("postmortem_scheduled") is False:
        steps.append(f"No postmortem was booked in time: once resolved, book it (postmortem DATE) within "
                     f"{process.postmortem_business_days} business days; it is the IC's last duty.")
    if as_ic and card["checklist"].get("initial_summary") is False:
        steps.append(f"The first status update came late: post a short one within {units.human(process.initial_update)} "
                     "of declaring (what is broken, who is affected, the severity), or ask comms to (ask comms update).")
    if duty["paged_unanswered"]:
        steps.append("You were paged and never acknowledged: acknowledge (ack) as soon as the page comes, "
                     f"within {units.human(SLOW_ACK)}, or it escalates to the next person.")
    slow = duty["time_to_acknowledge_s"]
    if slow is not None and slow > SLOW_ACK:
        steps.append(f"You acknowledged the page after {units.human(slow)}: acknowledge within "
                     f"{units.human(SLOW_ACK)}, before it escalates, then look at the dashboards.")
    if duty["actions_rejected"] >= 3:
        steps.append(f"{duty['actions_rejected']} of your actions were rejected: help COMMAND shows each one's "
                     "usage, and the reason says what the process allows at that moment.")
    if not steps:
        steps.append("A clean run for your part: next time " + ("" if as_ic else "take the IC seat, or ")
                     + "try a harder scenario (sev3-worsening, night-db-storm-red-herrings).")
    return steps[:MOST_STEPS]


def debrief(result, card: dict) -> list[str]:
    """The facilitator's debrief as Markdown lines: the truth, the key moments beside it, what
    was tried, and what to do next time."""
    scenario, events, truth = result.scenario, result.events, result.process.truth(result.scenario.truth)

    def clock(t):
        return units.iso(scenario.start, t)[11:16]

    lines = [f"# Debrief: {scenario.title}", "",
             "For the facilitator to project after the drill: what really happened beside what the team saw and did.", "",
             "## The truth", ""]
    lines += [f"- Root cause: {' '.join(truth.root_cause.split()) or 'not given'}" if not truth.false_alarm
              else "- A false alarm: nothing needed fixing",
              f"- Expected severity: {truth.severity or 'none (a false alarm)'}",
              f"- The fix: {truth.fix or 'not given'}",
              f"- Teams needed: {', '.join(truth.teams_needed) or 'none'}", ""]
    lines += ["## Key moments", "", "| When | What happened | Truth |", "|---|---|---|"]
    lines += [f"| {when} | {what} | {why} |" for when, what, why in moments(result)]
    tried = [e for e in events if e["kind"] in ("mitigation.applied", "task.asked")]
    lines += ["", "## What was tried", ""]
    lines += [f"- {clock(e['t'])} {_tried(e)}" for e in tried] or ["- Nothing was tried."]
    misses = card.get("why", {})
    lines += ["", "## What to do next time", ""]
    lines += [f"- {text[0].upper()}{text[1:]}." for text in misses.values()] or ["- The team missed no checklist item."]
    for name, duty in card.get("people", {}).items():
        lines += ["", f"### {name}", "", *[f"- {step}" for step in duty.get("next_steps", [])]]
    return lines


def moments(result) -> list[tuple[str, str, str]]:
    """``(clock, what the team saw or did, the truth behind it)`` for each key moment, in time order."""
    scenario, events = result.scenario, result.events
    rows = []

    def at(t, what, why=""):
        rows.append((t, what, why))

    end = events[-1]["t"] if events else 0.0
    began = [fault for fault in scenario.faults if fault.at <= end]
    for fault in began:
        root = next((f for f in fault.findings if f.root_cause), None)
        at(fault.at, "", f"{fault.kind.replace('_', ' ')} on {fault.service} begins: {fault.description or fault.id}")
        if root is not None:
            at(fault.at + root.after, "", f"the root cause is findable from here: {root.after / 60:.0f} min of "
                                          f"investigating {root.service} after the fault began")
    first = {}
    for e in events:
        kind = e["kind"]
        if kind == "alert.firing" and "alert" not in first and e.get("cause") != ["noise"]:
            first["alert"] = e
            at(e["t"], f"first alert: {e['summary']}", f"caused by {', '.join(e['cause'])}")
        elif kind == "impact.started":
            at(e["t"], "", f"customers affected on {e['service']}")
        elif kind == "impact.ended":
            at(e["t"], "", f"customer impact on {e['service']} over")
        elif kind == "incident.declared":
            at(e["t"], f"{e['by']} declares {e['severity']} on {e['service']}", "")
        elif kind == "severity.changed":
            at(e["t"], f"{e['by']} changes the severity {e['from']} -> {e['to']}", "")
        elif kind == "finding" and not found_nothing(e) and e["root_cause"] and "found" not in first:
            first["found"] = e
            at(e["t"], f"{e['by']} finds the root cause on {e['service']}", "")
        elif kind == "mitigation.applied":
            at(e["t"], f"{e['by']}: {e['action'].replace('_', ' ')} of {e['service']}",
               "it worked" if e["effective"] else "it changed nothing")
        elif kind in ("incident.resolved", "incident.reopened", "incident.stood_down"):
            at(e["t"], {"incident.resolved": "resolved", "incident.reopened": "reopened", "incident.stood_down": "stood down"}[kind]
               + f" by {e['by']}", "")
    if "found" not in first and any(f.root_cause for fault in began for f in fault.findings):
        rows.append((end, "the drill ended", "the root cause was never found"))
    rows.sort(key=lambda row: row[0])
    return [(units.iso(scenario.start, t)[11:16], what or "", why or "") for t, what, why in rows]


def _tried(e: dict) -> str:
    if e["kind"] == "task.asked":
        return f"{e['by']} asked {e['who']} to {task_words(e)}"
    return f"{e['by']} applied {e['action'].replace('_', ' ')} to {e['service']}: " \
        + ("it worked" if e["effective"] else "no effect")
