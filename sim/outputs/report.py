"""The drill report: scorecard, timeline, postmortem draft and timeline plot, from the event log."""

import io
import json
from pathlib import Path

from ..inputs import units
from ..model.incident import found_nothing
from .files import replace_files
from .scoring import CHECKLIST


def templates():
    """The Jinja2 templates shipped in ``sim/templates``; ``.html.j2`` output is escaped."""
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    return Environment(loader=PackageLoader("sim.outputs", "templates"), autoescape=select_autoescape(["html.j2"]),
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


METRIC_LABELS = {
    "time_to_detect_s": "Time to detect",
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
    "stakeholder_questions": "Stakeholder questions",
    "stakeholder_longest_wait_s": "Longest wait for an answer",
}


def format_metric(name: str, value) -> str:
    if value is None:
        return "-"
    if name.endswith("_s"):
        return units.human(value)
    if name == "customer_impact_min":
        return f"{value:.1f} min"
    if name in ("cadence_adherence", "role_coverage"):
        return f"{value:.0%}"
    if name == "revenue_lost":
        return f"{value:,.0f}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(value) or "none"
    return str(value)


def describe(event: dict) -> str | None:
    """One timeline line's text for a responder-visible event, or None to leave it out."""
    text = _DESCRIBE.get(event["kind"])
    return text(event) if text else None


_DESCRIBE = {
    "alert.firing": lambda e: f"Alert fires: {e['summary']}" + (" (noise)" if e["cause"] == ["noise"] else ""),
    "alert.resolved": lambda e: f"Alert resolves: {e['summary']}",
    "page.sent": lambda e: f"{e['to']} paged ({e['urgency']} urgency): {e['summary']}",
    "page.urgency_raised": lambda e: f"Page {e['page']} to {e['to']} raised to high urgency: {e['summary']}",
    "page.escalated": lambda e: f"Page not acknowledged; escalated from {e['from']} to {e['to']}",
    "page.acked": lambda e: f"{e['by']} acknowledges page {e['page']}",
    "responder.joined": lambda e: f"{e['who']} joins the incident channel for team {e['team']}",
    "incident.declared": lambda e: f"{e['severity']} declared by {e['by']}, incident channel {e['channel']} opened",
    "severity.changed": lambda e: f"Severity changed from {e['from']} to {e['to']} by {e['by']}",
    "role.assigned": lambda e: f"{e['who']} is {_ROLE_NAMES[e['role']]}" + (f" (assigned by {e['by']})" if e["by"] != e["who"] else ""),
    "teams.paged": lambda e: f"{e['by']} pages the {' and '.join(e['teams'])} team{'s' if len(e['teams']) > 1 else ''}",
    "update.posted": lambda e: f"Status update ({e['status']}) by {e['by']}: {e['summary']}",
    "finding": lambda e: f"Root cause identified: {e['text']}" if e["root_cause"] else f"Finding on {e['service']}: {e['text']}",
    "mitigation.applied": lambda e: f"{e['action'].replace('_', ' ').capitalize()} of {e['service']} initiated by {e['by']}"
    + ("" if e["effective"] else " (no effect)"),
    "impact.started": lambda e: f"Customer impact begins on {e['service']}",
    "impact.ended": lambda e: f"Customer impact on {e['service']} ends",
    "incident.resolved": lambda e: f"Incident resolved by {e['by']}",
    "incident.stood_down": lambda e: f"Stood down as a false alarm by {e['by']}" + (f": {e['reason']}" if e["reason"] else ""),
    "postmortem.scheduled": lambda e: f"Postmortem scheduled for {e['date']}",
    "stakeholder.asked": lambda e: f"{e['who']} asks in the channel: {e['question']}",
    "action.rejected": lambda e: f"Rejected: {e['by']} tried to {e['do'].replace('_', ' ')}: {e['reason']}",
}

_ROLE_NAMES = {"ic": "Incident Commander", "comms": "Communications Lead", "ops": "Operations Lead"}


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
    for name, duty in card.get("people", {}).items():
        lines += ["", f"{name}'s own duties (not part of the team's score):"]
        lines += [f"  {label:<36} {value}" for label, value in duty_rows(duty)]
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
        ("Time to acknowledge", format_metric("time_to_acknowledge_s", duty["time_to_acknowledge_s"])),
        ("Updates, investigations, mitigations", f"{duty['updates_posted']}, {duty['investigations']}, {duty['mitigations']}"),
        ("Actions rejected", str(duty["actions_rejected"])),
    ]


def score_document(result, card: dict) -> dict:
    document = {"scenario": result.scenario.name, "seed": result.seed, "metrics": card["metrics"],
                "checklist": card["checklist"], "components": card["components"], "score": card["score"]}
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
              + (" (not applicable)" if card["checklist"][n] is None else "") for n, label in CHECKLIST.items()]
    for name, duty in card.get("people", {}).items():
        lines += ["", f"### {name}'s own duties", "", "Not part of the team's score.", "", "| Duty | Value |", "|---|---|"]
        lines += [f"| {label} | {value} |" for label, value in duty_rows(duty)]
    lines += ["", "## Timeline", "", "```", *timeline(events), "```", "", *(["![Timeline](timeline.png)", ""] if plot else [])]
    lines += postmortem_draft(result, card)
    return "\n".join(lines) + "\n"


def postmortem_draft(result, card: dict) -> list[str]:
    scenario, events, m = result.scenario, result.events, card["metrics"]
    declared = next((e for e in events if e["kind"] == "incident.declared"), None)
    first_alert = next((e for e in events if e["kind"] == "alert.firing" and e["cause"] != ["noise"]), None)
    affected = sorted({e["service"] for e in events if e["kind"] == "impact.started"})
    findings = [e for e in events if e["kind"] == "finding" and not found_nothing(e)]
    mitigations = [e for e in events if e["kind"] == "mitigation.applied" and e["effective"]]
    todo = "_To be written by the team._"
    when = first_alert["at"][11:16] if first_alert else "-"
    if declared:
        summary = (f"On {scenario.start:%Y-%m-%d}, an alert fired at {when} UTC ({first_alert['summary'] if first_alert else 'no alert'}). "
                   f"The on-call engineer declared a {declared['severity']} incident on {declared['service']} "
                   f"{units.human(m['time_to_declare_s'])} later (highest severity {m['highest_severity']}). "
                   + (f"Customers were affected for {m['customer_impact_min']:.0f} minutes. " if affected else "")
                   + (f"The incident was resolved {units.human(m['time_to_resolve_s'])} after the first alert."
                      if m["time_to_resolve_s"] is not None else "The incident was not resolved during the drill."))
    else:
        summary = "No incident was declared during this drill." + (
            " The alert was stood down as a false alarm." if m["false_alarm_handled"] else "")
    impact = [f"- Customer-facing services affected: {', '.join(affected) or 'none'}",
              f"- Duration of customer impact: {m['customer_impact_min']:.1f} minutes",
              f"- Failed requests (estimate): {m['failed_requests'] or 0:,}",
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


_MARKS = {
    "page.acked": ("ack", "tab:blue"),
    "incident.declared": ("declare", "tab:red"),
    "update.posted": ("update", "tab:green"),
    "mitigation.applied": ("mitigate", "tab:purple"),
    "incident.resolved": ("resolve", "black"),
    "incident.stood_down": ("stand down", "black"),
}


def plot_timeline(result) -> bytes:
    """Customer-facing metrics over time with the response's milestones marked, as PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    scenario, events = result.scenario, result.events
    start = scenario.start.replace(tzinfo=None)
    facing = [n for n, s in scenario.services.items() if s.customer_facing] or list(scenario.services)
    times = [units.at(start, t) for t, _ in result.samples]
    fig, (err_ax, lat_ax) = plt.subplots(2, 1, figsize=(11, 6.5), sharex=True, constrained_layout=True)
    for name in facing:
        err_ax.plot(times, [100 * sample[name][0] for _, sample in result.samples], label=name, linewidth=1.6)
        lat_ax.plot(times, [sample[name][1] for _, sample in result.samples], label=name, linewidth=1.6)
    err_ax.set_ylabel("error rate (%)")
    lat_ax.set_ylabel("p99 latency (ms)")
    err_ax.set_title(f"{scenario.title} (seed {result.seed})", loc="left", fontsize=11)
    first_alert = next((e for e in events if e["kind"] == "alert.firing" and e["cause"] != ["noise"]), None)
    marks = [(first_alert, "alert", "tab:orange")] if first_alert else []
    seen = set()
    for e in events:
        if e["kind"] in _MARKS and (e["kind"] != "page.acked" or "ack" not in seen):
            label, colour = _MARKS[e["kind"]]
            marks.append((e, label, colour))
            seen.add(label)
    for e, label, colour in marks:
        when = units.at(start, e["t"])
        for ax in (err_ax, lat_ax):
            ax.axvline(when, color=colour, linestyle="--", linewidth=1, alpha=0.8)
        err_ax.annotate(label, (when, 1.0), xycoords=("data", "axes fraction"), rotation=90, fontsize=8,
                        va="top", ha="right", color=colour)
    for ax in (err_ax, lat_ax):
        ax.grid(alpha=0.3)
        ax.legend(loc="upper right", fontsize=8)
    lat_ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M"))
    lat_ax.set_xlabel("time (UTC)")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    return buffer.getvalue()


OUTPUTS = ("events.jsonl", "score.json", "report.md", "timeline.png")


def write_outputs(result, card: dict, out: Path) -> list[Path]:
    """events.jsonl, score.json, report.md and, when the drill kept its metric samples,
    timeline.png: all rendered first, then put in place together, so the folder never
    holds parts of two runs (a previous run's timeline.png goes when this one has none)."""
    plotted = bool(result.samples)
    files = {
        "events.jsonl": result.jsonl(),
        "score.json": json.dumps(score_document(result, card), indent=2) + "\n",
        "report.md": markdown(result, card, plot=plotted),
    }
    if plotted:
        files["timeline.png"] = plot_timeline(result)
    return replace_files(out, files, stale=OUTPUTS)
