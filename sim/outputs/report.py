"""The drill report: scorecard, timeline, postmortem draft and timeline plot, from the event log."""

import io
import json
import re
from pathlib import Path

from ..inputs import units
from ..model.incident import found_nothing, task_words
from .coaching import ROLE_NAMES
from .files import replace_files
from .scoring import CHECKLIST


def templates():
    """The Jinja2 templates shipped in ``sim/templates``; ``.html.j2`` output is escaped."""
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    return Environment(loader=PackageLoader("sim.outputs", "templates"), autoescape=select_autoescape(["html.j2"]),
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


METRIC_LABELS = {
    "time_to_detect_s": "Time to detect",
    "detected_by": "Detected by",
    "time_to_acknowledge_s": "Time to acknowledge",
    "time_to_declare_s": "Time to declare",
    "time_to_mitigate_s": "Time to mitigate",
    "time_to_resolve_s": "Time to resolve",
    "customer_impact_min": "Customer impact",
    "cadence_adherence": "Update cadence adherence",
    "role_coverage": "Role coverage",
    "declared_severity": "Declared severity",
    "highest_severity": "Highest severity",
    "expected_severity": "Expected severity",
    "severity_changes": "Severity changes",
    "ic_hands_on_actions": "IC hands-on actions",
    "max_roles_per_person": "Most roles held by one person",
    "teams_paged": "Teams paged",
    "teams_needed": "Teams needed",
    "false_alarm_handled": "False alarm stood down",
    "postmortem_date": "Postmortem",
    "updates_posted": "Status updates posted",
    "actions_rejected": "Actions rejected",
    "revenue_lost": "Revenue lost (estimate)",
    "bad_requests": "Bad requests (failed + lost)",
    "slo_budget_consumed": "SLO error budget consumed",
    "stakeholder_questions": "Stakeholder questions",
    "stakeholder_longest_wait_s": "Longest wait for an answer",
}


# What a missing time or date means, said plainly rather than as "-".
_NEVER = {"time_to_acknowledge_s": "not acknowledged", "time_to_declare_s": "not declared",
          "time_to_mitigate_s": "not mitigated", "time_to_resolve_s": "not resolved", "postmortem_date": "not booked"}


def format_metric(name: str, value) -> str:
    if value is None:
        return _NEVER.get(name, "-")
    if name.endswith("_s"):
        return units.human(value)
    if name == "customer_impact_min":
        return f"{value:.1f} min"
    if name in ("cadence_adherence", "role_coverage"):
        return f"{value:.0%}"
    if name in ("revenue_lost", "bad_requests"):
        return f"{value:,.0f}"
    if name == "slo_budget_consumed":
        return f"{value:.1%}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(value) or "none"
    return str(value)


def describe(event: dict) -> str | None:
    """One timeline line's text for a responder-visible event, or None to leave it out."""
    text = _DESCRIBE.get(event["kind"])
    return text(event) if text else None


def page_name(page_id: str) -> str:
    """A page as people are shown it: ``#1`` for the log's ``P1``, which beside a team's levels
    (P1 to P5) read as one ('dana acknowledges page P1' beside 'P1 declared')."""
    return re.sub(r"^P(\d+)$", r"#\1", page_id)


_DESCRIBE = {
    "alert.firing": lambda e: f"Alert fires: {e['summary']}" + (" (noise)" if e["cause"] == ["noise"] else ""),
    "alert.resolved": lambda e: f"Alert resolves: {e['summary']}",
    "page.sent": lambda e: f"{e['to']} paged ({e['urgency']} urgency): {e['summary']}",
    "page.urgency_raised": lambda e: f"Page {page_name(e['page'])} to {e['to']} raised to high urgency: {e['summary']}",
    "page.escalated": lambda e: f"Page not acknowledged; escalated from {e['from']} to {e['to']}",
    "page.acked": lambda e: f"{e['by']} acknowledges page {page_name(e['page'])}",
    "responder.joined": lambda e: f"{e['who']} joins the incident channel for team {e['team']}",
    "incident.declared": lambda e: f"{e['severity']} declared by {e['by']}, incident channel {e['channel']} opened",
    "severity.changed": lambda e: f"Severity changed from {e['from']} to {e['to']} by {e['by']}",
    "role.assigned": lambda e: f"{e['who']} is {ROLE_NAMES[e['role']]}" + (f" (assigned by {e['by']})" if e["by"] != e["who"] else ""),
    "teams.paged": lambda e: f"{e['by']} pages the {' and '.join(e['teams'])} team{'s' if len(e['teams']) > 1 else ''}",
    "update.posted": lambda e: (f"{'Status page' if e.get('audience') == 'public' else 'Status'} update "
                                f"({e['status']}) by {e['by']}: {e['summary']}"),
    "report.received": lambda e: f"{e['summary']}",
    "finding": lambda e: f"Root cause identified: {e['text']}" if e["root_cause"] else f"Finding on {e['service']}: {e['text']}",
    "mitigation.applied": lambda e: f"{e['action'].replace('_', ' ').capitalize()} of {e['service']} initiated by {e['by']}"
    + ("" if e["effective"] else " (no effect)")
    + (" (it helped in part)" if any(f["outcome"] == "partial" for f in e["faults"]) else ""),
    "impact.started": lambda e: f"Customer impact begins on {e['service']}",
    "impact.ended": lambda e: f"Customer impact on {e['service']} ends",
    "incident.resolved": lambda e: f"Incident resolved by {e['by']}" + _over(e),
    "incident.reopened": lambda e: f"Incident reopened by {e['by']}: {e['reason']}",
    "channel.message": lambda e: f"{e['by']}: {e['text']}",
    "task.asked": lambda e: f"{e['by']} asks {e['who']} to {task_words(e)} ({e['id']})",
    "task.done": lambda e: f"{e['who']} has done {e['id']} ({e['task']})",
    "incident.stood_down": lambda e: f"Stood down as a false alarm by {e['by']}" + (f": {e['reason']}" if e["reason"] else ""),
    "postmortem.scheduled": lambda e: f"Postmortem scheduled for {units.weekday(e['date'])} {e['date']}",
    "stakeholder.asked": lambda e: f"{e['who']} asks in the channel: {e['question']}",
    "action.rejected": lambda e: f"Rejected: {e['by']} tried to {_TRIED.get(e['do'], e['do'].replace('_', ' '))}: {e['reason']}",
}
# The actions whose names are not verbs ("tried to severity"), as a sentence says them.
_TRIED = {"severity": "change the severity", "schedule_postmortem": "schedule the postmortem"}



def _over(e: dict) -> str:
    """What a confirmed resolution overrode: alerts firing, customers still affected."""
    said = ([f"alerts still firing: {', '.join(e['over_firing'])}"] if e.get("over_firing") else []) + \
        ([f"still impacted: {', '.join(e['over_impact'])}"] if e.get("over_impact") else [])
    return f" (confirmed over {'; '.join(said)})" if said else ""


def timeline(events: list[dict]) -> list[str]:
    """``14:47 UTC - Alert fires: checkout error rate > 5%`` lines."""
    lines = []
    for e in events:
        text = describe(e)
        if text:
            lines.append(f"{e['at'][11:16]} UTC - {text}")
    return lines


def scorecard(card: dict) -> list[str]:
    lines = [f"Score: {card['score']:.1f} / 100", ""]
    for name, label in METRIC_LABELS.items():
        if name in card["metrics"]:
            lines.append(f"  {label:<32} {format_metric(name, card['metrics'][name])}")
    lines += ["", "On-call checklist:"]
    for name, label in CHECKLIST.items():
        mark = {True: "x", False: " ", None: "-"}[card["checklist"][name]]
        lines.append(f"  [{mark}] {label}")
        if name in card.get("why", {}):
            lines.append(f"      why: {card['why'][name]}")
    for name, duty in card.get("people", {}).items():
        lines += ["", f"{name}'s own duties (not part of the team's score):"]
        lines += [f"  {label:<36} {value}" for label, value in duty_rows(duty)]
        lines += [f"{name}, next time:", *[f"  - {step}" for step in duty.get("next_steps", [])]]
    return lines


def duty_rows(duty: dict) -> list[tuple[str, str]]:
    """A person's own duties (``scoring.duties``) as (label, value) rows."""
    def mark(ok):
        return {True: "right", False: "wrong"}[ok]

    assigned = ", ".join(f"{a['role']} -> {a['who']} ({units.human(a['after_s'])} after taking IC)" for a in duty["roles_assigned"])
    decisions = ", ".join(f"{d['at'][11:16]} {d['from'] + ' -> ' if d['from'] else 'declared '}{d['to']} ({mark(d['right'])})"
                          for d in duty["severity_decisions"])
    hands_on = duty["hands_on_while_ic"]
    return [
        ("Roles held", ", ".join(duty["roles_held"]) or "none"),
        ("Time as Incident Commander", units.human(duty["ic_time_s"])),
        ("Roles assigned", assigned or "none"),
        ("Required roles staffed as IC", format_metric("", duty["required_roles_staffed"])),
        ("Severity decisions", decisions or "none"),
        ("Cadence kept while IC", format_metric("cadence_adherence", duty["cadence_while_ic"])),
        ("Hands-off as IC", "-" if hands_on is None else "yes" if not hands_on
         else f"no ({hands_on} investigation{'s' if hands_on > 1 else ''} or mitigation{'s' if hands_on > 1 else ''})"),
        ("Time to acknowledge", "not paged" if duty["time_to_acknowledge_s"] is None and not duty["paged_unanswered"]
         else format_metric("time_to_acknowledge_s", duty["time_to_acknowledge_s"])),
        ("Updates, investigations, mitigations", f"{duty['updates_posted']}, {duty['investigations']}, {duty['mitigations']}"),
        ("Actions rejected", str(duty["actions_rejected"])),
    ]


def score_document(result, card: dict) -> dict:
    document = {"scenario": result.scenario.name, "seed": result.seed, "metrics": card["metrics"],
                "checklist": card["checklist"], "components": card["components"], "score": card["score"],
                "why": card.get("why", {})}
    if "people" in card:
        document["people"] = card["people"]
    return document


def markdown(result, card: dict, plot: bool = True) -> str:
    """The drill report; ``plot`` links timeline.png (absent when re-rendered from the store)."""
    scenario, events = result.scenario, result.events
    metrics = card["metrics"]
    lines = [f"# Drill report: {scenario.title}", "",
             f"Scenario `{scenario.name}`, seed {result.seed}, started {scenario.start:%Y-%m-%d %H:%M} UTC; "
             f"participants: {', '.join(p['name'] + (' (bot)' if p['bot'] else '') for p in result.participants)}.", "",
             "## Scorecard", "", "| Measure | Value |", "|---|---|"]
    lines += [f"| {label} | {format_metric(n, metrics[n])} |" for n, label in METRIC_LABELS.items() if n in metrics]
    lines += [f"| **Score** | **{card['score']:.1f} / 100** |", "", "### On-call checklist", ""]
    lines += [f"- [{ {True: 'x', False: ' ', None: '-'}[card['checklist'][n]] }] {label}"
              + (" (not applicable)" if card["checklist"][n] is None else "")
              + (f": {card['why'][n]}" if n in card.get("why", {}) else "") for n, label in CHECKLIST.items()]
    for name, duty in card.get("people", {}).items():
        lines += ["", f"### {name}'s own duties", "", "Not part of the team's score.", "", "| Duty | Value |", "|---|---|"]
        lines += [f"| {label} | {value} |" for label, value in duty_rows(duty)]
        lines += ["", "Next time:", "", *[f"- {step}" for step in duty.get("next_steps", [])]]
    lines += ["", "## Timeline", "", "```", *timeline(events), "```", "", *(["![Timeline](timeline.png)", ""] if plot else [])]
    lines += postmortem_draft(result, card)
    return "\n".join(lines) + "\n"


def _clocks_start(events: list[dict], m: dict, declared: dict) -> str:
    """What the scorecard's times to mitigate and to resolve run from (``scoring.score``): the first
    sign of the incident, or the fault's start for a declaration (``declared``) before it."""
    if m["detected_by"] == "declaration":
        fault = next((e for e in events if e["kind"] == "fault.started"), None)
        return (f"the fault began at {fault['at'][11:16]} UTC" if fault and declared["t"] < fault["t"]
                else "the declaration")
    return "the first alert" if m["detected_by"] == "alert" else f"the first report ({m['detected_by']})"


def postmortem_draft(result, card: dict) -> list[str]:
    scenario, events, m = result.scenario, result.events, card["metrics"]
    declared = next((e for e in events if e["kind"] == "incident.declared"), None)
    first_alert = next((e for e in events if e["kind"] == "alert.firing" and e["cause"] != ["noise"]), None)
    affected = sorted({e["service"] for e in events if e["kind"] == "impact.started"})
    findings = [e for e in events if e["kind"] == "finding" and not found_nothing(e)]
    mitigations = [e for e in events if e["kind"] == "mitigation.applied" and e["effective"]]
    todo = "_To be written by the team._"
    when = first_alert["at"][11:16] if first_alert else "-"
    first = m["detected_by"] == "declaration"  # declared before any alert or report: the clocks start there
    if declared and first:
        opening = (f"On {scenario.start:%Y-%m-%d}, {declared['by']} declared a {declared['severity']} incident on "
                   f"{declared['service']} at {declared['at'][11:16]} UTC (highest severity {m['highest_severity']}), "
                   "before any alert or report"
                   + (f"; the first alert, {first_alert['summary']}, fired at {when} UTC" if first_alert else "") + ". ")
    elif declared:
        opening = (f"On {scenario.start:%Y-%m-%d}, an alert fired at {when} UTC ({first_alert['summary'] if first_alert else 'no alert'}). "
                   f"The on-call engineer declared a {declared['severity']} incident on {declared['service']} "
                   f"{units.human(m['time_to_declare_s'])} later (highest severity {m['highest_severity']}). ")
    if declared:
        summary = (opening + (f"Customers were affected for {m['customer_impact_min']:.0f} minutes. " if affected else "")
                   + (f"The incident was resolved {units.human(m['time_to_resolve_s'])} after {_clocks_start(events, m, declared)}."
                      if m["time_to_resolve_s"] is not None else "The incident was not resolved during the drill."))
    else:
        summary = "No incident was declared during this drill." + (
            " The alert was stood down as a false alarm." if m["false_alarm_handled"] else "")
    impact = [f"- Customer-facing services affected: {', '.join(affected) or 'none'}",
              f"- Duration of customer impact: {m['customer_impact_min']:.1f} minutes",
              f"- Failed requests (estimate): {m['failed_requests'] or 0:,}",
              f"- Requests lost, never served (estimate): {m['lost_requests'] or 0:,}",
              f"- SLO error budget consumed: {format_metric('slo_budget_consumed', m['slo_budget_consumed'])}",
              f"- Revenue lost (estimate): {m['revenue_lost'] or 0:,.0f}"]
    return [
        "## Postmortem draft", "",
        "Blameless: this describes what happened and what the system made easy or hard, not who is at fault.", "",
        "### 1. Summary", "", summary, "",
        "### 2. Timeline", "", *[f"- {line}" for line in timeline(events)], "",
        "### 3. Impact", "", *impact, "",
        "### 4. Root cause", "",
        *(["What the investigation found during the incident (a starting point, not the root cause analysis):", "",
           *[f"- {f['service']}: {f['text']}" for f in findings], ""] if findings else []),
        *([f"Mitigated by: {', '.join(e['action'] + ' on ' + e['service'] for e in mitigations)}.", ""] if mitigations else []),
        todo, "",
        "### 5. Contributing factors", "", todo, "",
        "### 6. What went well", "", todo, "",
        "### 7. Action items", "", "| Action | Owner | Due |", "|---|---|---|", "| _specific and measurable_ | _team_ | _date_ |", "",
    ]


_MARKS = {  # event kind -> colour of its milestone
    "alert.firing": "tab:orange",
    "page.acked": "tab:blue",
    "incident.declared": "tab:red",
    "severity.changed": "tab:red",
    "update.posted": "tab:green",
    "mitigation.applied": "tab:purple",
    "incident.resolved": "black",
    "incident.stood_down": "black",
    "incident.reopened": "tab:red",
}
_PLOTTED = {"error_rate": (0, 100, "%"), "latency_p99_ms": (1, 1, " ms")}  # metric -> sample index, scale, unit
_STYLES = ("-", "--", "-.", ":")


def milestones(events: list[dict]) -> list[tuple[float, str, str]]:
    """``(t, label, colour)`` for each moment the timeline picture marks: the first fault alert,
    the first acknowledgement, the declaration and each severity change, updates, mitigations,
    and the end."""
    marks, acked = [], False
    for e in events:
        kind = e["kind"]
        if kind == "alert.firing":
            if e["cause"] == ["noise"] or any(label.startswith("alert") for _, label, _ in marks):
                continue
            label = f"alert: {e['alert']}"
        elif kind == "page.acked":
            if acked:
                continue
            label, acked = f"ack ({e['by']})", True
        elif kind == "incident.declared":
            label = f"{e['severity']} declared"
        elif kind == "severity.changed":
            label = f"{e['from']} \u2192 {e['to']}"
        elif kind == "update.posted":
            label = f"update: {e['status']}"
        elif kind == "mitigation.applied":
            label = f"{e['action']} {e['service']}"
        elif kind == "incident.resolved":
            label = "resolved"
        elif kind == "incident.stood_down":
            label = "stood down"
        elif kind == "incident.reopened":
            label = "reopened"
        else:
            continue
        marks.append((e["t"], label, _MARKS[kind]))
    return marks


def impact_spans(events: list[dict]) -> list[tuple[float, float | None]]:
    """The stretches during which at least one customer-facing service breached its impact
    threshold, as ``(start, end)``; ``end`` is None while it lasted to the end of the drill."""
    spans, active = [], set()
    for e in events:
        if e["kind"] == "impact.started":
            if not active:
                spans.append([e["t"], None])
            active.add(e["service"])
        elif e["kind"] == "impact.ended" and e["service"] in active:
            active.discard(e["service"])
            if not active:
                spans[-1][1] = e["t"]
    return [tuple(span) for span in spans]


def lanes(extents: list[tuple[float, float]], gap: float) -> list[int]:
    """A lane for each label, given as ``(left, right)`` in time order: the lowest lane whose
    last label ends ``gap`` before this one starts, so that no two labels ever overlap."""
    ends: list[float] = []
    chosen = []
    for left, right in extents:
        lane = next((i for i, end in enumerate(ends) if end + gap <= left), len(ends))
        if lane == len(ends):
            ends.append(right)
        ends[lane] = right
        chosen.append(lane)
    return chosen


def title(result, held: str | None = None) -> str:
    """The picture's title: a drill of bots by its seed, one people played by who, and a live one
    also by the day it was ``held``."""
    people = ", ".join(p["name"] for p in result.participants if not p["bot"])
    if not people:
        return f"{result.scenario.title} (simulated, seed {result.seed})"
    return f"{result.scenario.title} (" + (f"live, played by {people} on {held})" if held else f"played by {people})")


def thresholds(scenario) -> list[dict]:
    """The alert rules the picture draws: those on a customer-facing service's error rate or p99."""
    facing = scenario.facing
    return [{"name": r.name, "service": r.service, "metric": r.metric, "op": r.op, "threshold": r.threshold}
            for r in scenario.alerts if r.service in facing and r.metric in _PLOTTED]


QUIET_DRAWN = 6  # flat lines past these only crowd the legend: 30 of them squashed the axes to slivers


def plotted_services(facing, moved) -> tuple[list[str], list[str], int]:
    """The customer-facing services the picture draws (every one the story ``moved``, then at most
    ``QUIET_DRAWN`` of the others), those of them that stayed quiet, and how many more are left out."""
    quiet = [name for name in facing if name not in moved]
    kept = quiet[:QUIET_DRAWN]
    return [name for name in facing if name in moved or name in kept], kept, len(quiet) - len(kept)


def plot_timeline(result, held: str | None = None, rules: list[dict] | None = None) -> bytes:
    """Customer-facing metrics over time, as PNG bytes: the response's milestones on a strip above
    (labels placed in lanes so they never collide), customer impact shaded, and the alert rules'
    thresholds drawn on the metric they watch (``rules``, default the scenario's: see ``thresholds``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt
    from matplotlib.textpath import TextToPath

    scenario, events = result.scenario, result.events
    start = scenario.start.replace(tzinfo=None)
    facing = scenario.facing
    times = [units.at(start, t) for t, _ in result.samples]
    fig = plt.figure(figsize=(11, 7.5), dpi=110, layout="constrained")
    strip, err_ax, lat_ax = fig.subplots(3, 1, sharex=True, height_ratios=[1, 2.6, 2.6])
    axes = {"error_rate": err_ax, "latency_p99_ms": lat_ax}
    colours = {}
    moved = {e["service"] for e in events if e["kind"] == "impact.started"} | {
        e["service"] for e in events if e["kind"] == "alert.firing" and e["cause"] != ["noise"]}
    drawn, quiet, hidden = plotted_services(facing, moved)
    for name in drawn:
        if name in moved:  # the lines the story is about: solid, on top
            style = {"linestyle": "-", "linewidth": 2.0, "zorder": 3}
        else:  # flat lines often sit on one another: a dash style each, the lower ones wider
            i = quiet.index(name)
            style = {"linestyle": _STYLES[1 + i % 3], "linewidth": 3.0 - 2.0 * i / max(len(quiet) - 1, 1),
                     "alpha": 0.8, "zorder": 2}
        line, = err_ax.plot(times, [100 * sample[name][0] for _, sample in result.samples], label=name, **style)
        lat_ax.plot(times, [sample[name][1] for _, sample in result.samples], color=line.get_color(), label=name,
                    **style)
        colours[name] = line.get_color()
    if hidden:
        err_ax.plot([], [], linestyle="none", label=f"(and {hidden} more customer-facing: no impact, no fault alert)")
    for rule in [r for r in (thresholds(scenario) if rules is None else rules) if r["service"] in colours]:
        _, scale, unit = _PLOTTED[rule["metric"]]
        level = rule["threshold"] * scale
        axes[rule["metric"]].axhline(level, color=colours[rule["service"]], linestyle=(0, (1, 2)), linewidth=1.3,
                                     label=f"{rule['name']} {rule['op']} {level:g}{unit}")
    end = units.at(start, events[-1]["t"]) if events else (times[-1] if times else start)
    for i, (began, ended) in enumerate(impact_spans(events)):
        for ax in (err_ax, lat_ax):
            ax.axvspan(units.at(start, began), units.at(start, ended) if ended is not None else end,
                       color="tab:red", alpha=0.09, linewidth=0, label="customer impact" if i == 0 else None)
    err_ax.set_ylabel("error rate (%)")
    lat_ax.set_ylabel("p99 latency (ms)")
    strip.set_title(title(result, held), loc="left", fontsize=11)
    marks = milestones(events)
    for t, _, colour in marks:
        for ax in (err_ax, lat_ax):
            ax.axvline(units.at(start, t), color=colour, linestyle="--", linewidth=0.9, alpha=0.45)
    for ax in (err_ax, lat_ax):
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7.5, frameon=False)
    lat_ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M"))
    lat_ax.set_xlabel("time (UTC)")
    strip.set_yticks([])
    # Lay the labels out in lanes, measured in the strip's final pixels (the layout's widths are set
    # once the legends are in; the heights changed below leave them as they are).
    fig.canvas.draw()
    to_pixels = strip.transData.transform
    measure, font = TextToPath(), matplotlib.font_manager.FontProperties(size=8)
    pad = 4.0
    right_edge = strip.get_window_extent().x1
    extents, sides = [], []
    for t, label, _ in marks:
        x = to_pixels((mdates.date2num(units.at(start, t)), 0))[0]
        width = pad + measure.get_text_width_height_descent(label, font, ismath=False)[0] * fig.dpi / 72
        sides.append("left" if x + width <= right_edge else "right")  # near the end: to the left of its line
        extents.append((x, x + width) if sides[-1] == "left" else (x - width, x))
    order = sorted(range(len(marks)), key=lambda i: extents[i])
    placed = dict(zip(order, lanes([extents[i] for i in order], gap=pad)))
    count = max(placed.values(), default=0) + 1
    for i, (t, label, colour) in enumerate(marks):
        when = units.at(start, t)
        strip.plot([when, when], [-0.6, placed[i]], color=colour, linewidth=1, zorder=1)
        strip.plot([when], [placed[i]], marker="o", markersize=3, color=colour, zorder=3)
        # A label hides the stems of later marks that pass behind it, so it always reads.
        strip.annotate(label, (when, placed[i]), xytext=(pad / 2 if sides[i] == "left" else -pad / 2, 0),
                       textcoords="offset points", fontsize=8, va="center", ha=sides[i], color=colour, zorder=2,
                       bbox={"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none"})
    strip.set_ylim(-0.6, count - 0.4)
    for side in ("top", "right", "left"):
        strip.spines[side].set_visible(False)
    fig.set_figheight(6.6 + 0.2 * count)
    fig.get_layout_engine().set(h_pad=0.04)
    strip.get_gridspec().set_height_ratios([0.25 * count + 0.3, 2.6, 2.6])
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


OUTPUTS = ("events.jsonl", "score.json", "report.md", "timeline.png")


def write_outputs(result, card: dict, out: Path, held: str | None = None, rules: list[dict] | None = None) -> list[Path]:
    """events.jsonl, score.json, report.md and, when the drill kept its metric samples,
    timeline.png (a live drill's titled with the day it was ``held``): all rendered first,
    then put in place together, so the folder never holds parts of two runs (a previous
    run's timeline.png goes when this one has none)."""
    plotted = bool(result.samples)
    files = {
        "events.jsonl": result.jsonl(),
        "score.json": json.dumps(score_document(result, card), indent=2) + "\n",
        "report.md": markdown(result, card, plot=plotted),
    }
    if plotted:
        files["timeline.png"] = plot_timeline(result, held, rules)
    return replace_files(out, files, stale=OUTPUTS)
