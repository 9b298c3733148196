"""The quarterly drill report: the quarter at a glance, its drills, charts, the IC rotation,
recurring weaknesses and action items, from the drill store.

Aggregations are pandas over the recorded drills (never re-run); charts are matplotlib
PNGs; ``report.html`` (charts embedded) and ``report.md`` come from the Jinja2
templates in ``sim/templates/``.
"""

import base64
import io
from pathlib import Path

import numpy as np
import pandas as pd

from ..inputs import units
from ..outputs import report
from ..outputs.files import replace_files
from ..outputs.scoring import CHECKLIST
from .plan import Plan, carried_out, duplicates, status
from .store import Drill, quarter_bounds, shift_quarter

TREND_QUARTERS = 5  # this quarter and the four before it
# The report's charts, in the order it shows them.
CHARTS = ("time_to_declare.png", "cadence_and_roles.png", "checklist.png", "score_trend.png", "ic_rotation.png")
FOLLOW_UP_BUSINESS_DAYS = 10  # action items are due two working weeks after the postmortem

# Who owns the follow-up when a checklist item is missed: the role whose job it is.
OWNER_ROLE = {
    "confirm_alert_real": "ops", "assess_severity": "ops", "declare_and_open_channel": "ops",
    "page_ic_and_comms": "ic", "initial_summary": "comms", "investigate_symptoms": "ops",
    "mitigate_first": "ops", "communicate_at_cadence": "comms", "resolved_when_normal": "ic",
    "postmortem_scheduled": "ic",
}
ACTIONS = {
    "confirm_alert_real": "Add the dashboard check to the paging runbook and practise it before declaring",
    "assess_severity": "Review the severity matrix with the on-call rotation; add worked examples for this scenario",
    "declare_and_open_channel": "Practise declaring early: when in doubt, declare and open the channel",
    "page_ic_and_comms": "Make paging the IC and Comms Lead part of the declaration step",
    "initial_summary": "Add an initial-summary template to the incident channel; post it within 5 minutes",
    "investigate_symptoms": "Practise starting from the alerting symptoms before chasing a root cause",
    "mitigate_first": "List the available mitigations (rollback, failover, flags) in the runbook and use them first",
    "communicate_at_cadence": "Set a cadence timer in the incident channel and rehearse status updates",
    "resolved_when_normal": "Define the steady-state metrics that must hold before declaring resolved",
    "postmortem_scheduled": "Book the postmortem at resolution, within 5 business days",
}
# When the incident was never resolved, the resolution and postmortem items failed for that reason.
UNRESOLVED_ACTIONS = {
    "resolved_when_normal": "Drive every declared incident to a resolution: agree the steady state to wait for, "
                            "escalate when mitigations stop helping",
    "postmortem_scheduled": "Book the postmortem even when the drill ends unresolved; review why it never resolved",
}
ROLE_NAMES = {"ic": "IC", "comms": "Comms Lead", "ops": "Ops Lead"}


def frame(drills: list[Drill]) -> pd.DataFrame:
    """One row per drill: what the report aggregates."""
    rows = []
    for d in drills:
        m = d.metrics
        declare = m.get("time_to_declare_s")
        # Scored before a declaration could be the first sign, a drill declared before its first alert
        # was stored with a negative time; it reads as it is scored now.
        first = m.get("detected_by") == "declaration" or (declare is not None and declare < 0)
        rows.append({
            "id": d.id, "conducted": d.conducted, "quarter": d.quarter, "scenario": d.scenario, "title": d.title,
            "mode": d.mode, "variant": d.variant, "score": d.score, "ic": d.lead("ic"), "comms": d.lead("comms"),
            "ops": d.lead("ops"), "ic_turn": d.turn("ic"), "simulated": d.simulated, "people": ", ".join(d.people),
            "time_to_declare_s": max(declare, 0.0) if declare is not None else None, "declare_target_s": d.declare_target_s,
            "declared_first": first,
            "time_to_acknowledge_s": m.get("time_to_acknowledge_s"), "time_to_resolve_s": m.get("time_to_resolve_s"),
            "cadence_adherence": m.get("cadence_adherence"), "role_coverage": m.get("role_coverage"),
            "postmortem_date": m.get("postmortem_date"), "scenario_start": d.scenario_start,
            "resolved": m.get("time_to_resolve_s") is not None,
            **{f"checklist.{k}": d.checklist.get(k) for k in CHECKLIST},
        })
    columns = ["id", "conducted", "quarter", "scenario", "title", "mode", "variant", "score", "ic", "comms", "ops",
               "ic_turn", "simulated", "people", "time_to_declare_s", "declare_target_s", "declared_first", "cadence_adherence",
               "role_coverage", "postmortem_date", "scenario_start", "resolved", "time_to_acknowledge_s", "time_to_resolve_s",
               *[f"checklist.{k}" for k in CHECKLIST]]
    df = pd.DataFrame(rows, columns=columns)
    for col in ("score", "time_to_declare_s", "declare_target_s", "cadence_adherence", "role_coverage",
                "time_to_acknowledge_s", "time_to_resolve_s"):
        df[col] = pd.to_numeric(df[col], errors="coerce").astype(float)
    return df


def _none(value):
    return None if value is None or pd.isna(value) else float(value)


def headline(df: pd.DataFrame) -> dict:
    """The quarter at a glance (means and medians skip drills where a measure does not apply)."""
    return {
        "drills": len(df),
        "median_time_to_declare_s": _none(df["time_to_declare_s"].median()),
        "cadence_adherence": _none(df["cadence_adherence"].mean()),
        "role_coverage": _none(df["role_coverage"].mean()),
        "score": _none(df["score"].mean()),
    }


def recurring_weaknesses(df: pd.DataFrame) -> list[dict]:
    """Checklist items missed (False, not merely not applicable) in more than one drill."""
    found = []
    for item, label in CHECKLIST.items():
        missed = df[df[f"checklist.{item}"].eq(False)]
        if len(missed) > 1:
            found.append({"item": item, "label": label, "missed": len(missed), "of": int(df[f"checklist.{item}"].notna().sum()),
                          "drills": [int(i) for i in missed["id"]]})
    return sorted(found, key=lambda w: (-w["missed"], w["item"]))


def action_items(df: pd.DataFrame) -> list[dict]:
    """One owned, dated action item for each checklist item a drill missed.

    The owner is whoever led the role whose job the item is (``OWNER_ROLE``), else the
    IC; in a drill the bots played alone, the facilitator; the due date is ``FOLLOW_UP_BUSINESS_DAYS`` business days after the drill's
    postmortem (or after the fifth business day past the drill when none was booked).
    """
    items = []
    for row in df.to_dict("records"):
        # The booked postmortem is a date in the scenario's calendar: carry its distance in
        # business days from the scenario's start over to the day the drill was conducted.
        start = (row["scenario_start"] if isinstance(row["scenario_start"], str) else row["conducted"])[:10]
        booked = row["postmortem_date"] if isinstance(row["postmortem_date"], str) else None
        after = int(np.busday_count(start, booked)) if booked else 5
        base = np.busday_offset(row["conducted"], after, roll="forward")
        due = str(np.busday_offset(base, FOLLOW_UP_BUSINESS_DAYS, roll="forward"))
        for item in CHECKLIST:
            if row[f"checklist.{item}"] is False:
                role = OWNER_ROLE[item] if row[OWNER_ROLE[item]] else "ic"
                # Nobody sat in a simulated drill: its follow-ups are the facilitator's to hand out.
                lead = None if row["simulated"] else row[role]
                action = ACTIONS[item] if row["resolved"] else UNRESOLVED_ACTIONS.get(item, ACTIONS[item])
                items.append({"drill": int(row["id"]), "item": item, "action": action,
                              "owner": lead or "the drill's facilitator", "role": ROLE_NAMES[role], "due": due})
    return sorted(items, key=lambda a: (a["due"], a["drill"], a["item"]))


def _fmt(name: str, value) -> str:
    if name == "score" and value is not None:
        return f"{value:.1f}"
    return report.format_metric(name, value)


def _delta(name: str, now, before) -> str:
    if now is None or before is None:
        return ""
    diff = now - before
    if name.endswith("_s"):
        return "no change" if round(diff) == 0 else ("+" if diff > 0 else "-") + units.human(abs(diff))
    if name in ("cadence_adherence", "role_coverage"):
        points = round(100 * diff)
        return "no change" if points == 0 else f"{points:+d} pts"
    if name == "score":
        return "no change" if round(diff, 1) == 0 else f"{diff:+.1f}"
    return "no change" if diff == 0 else f"{diff:+d}"


def glance(now: dict, before: dict | None, planned: int | None, carried: int | None, people: str = "") -> list[dict]:
    labels = {"drills": "Drills run", "median_time_to_declare_s": "Median time to declare",
              "cadence_adherence": "Cadence adherence", "role_coverage": "Role coverage", "score": "Mean score"}
    rows = []
    for name, label in labels.items():
        note = ""
        if name == "drills":
            note = "; ".join(filter(None, [people, f"{planned} planned, {carried} of them run" if planned is not None else ""]))
        rows.append({"label": label, "value": _fmt(name, now[name]), "note": note,
                     "change": _delta(name, now[name], before[name] if before else None)})
    return rows


# --- drills against real incidents ------------------------------------------------------

# The measures set side by side: (column, label, how the quarter sums it up).
COMPARED = (("time_to_acknowledge_s", "Time to acknowledge", "median"), ("time_to_declare_s", "Time to declare", "median"),
            ("time_to_resolve_s", "Time to resolve", "median"), ("cadence_adherence", "Cadence adherence", "mean"),
            ("role_coverage", "Role coverage", "mean"), ("score", "Score", "mean"))
TIMES_APART = 1.5  # a time this many times longer (or shorter) in real life than in practice is a difference
POINTS_APART = 0.25  # so is a share (adherence, coverage, a checklist item done) 25 points apart
SCORE_APART = 10.0


def against_real(drills: pd.DataFrame, incidents: list[Drill]) -> dict:
    """The quarter's real incidents beside its drills: each incident's measures, the same measures
    summed up for both, and in words where practice differed from real life."""
    real = frame(incidents)
    rows = [{"id": int(r.id), "conducted": r.conducted, "scenario": r.scenario, "title": r.title,
             "ack": units.human(_none(r.time_to_acknowledge_s)), "declare": units.human(_none(r.time_to_declare_s)),
             "resolve": units.human(_none(r.time_to_resolve_s)), "cadence": _fmt("cadence_adherence", _none(r.cadence_adherence)),
             "roles": _fmt("role_coverage", _none(r.role_coverage)), "score": f"{r.score:.1f}"}
            for r in real.itertuples(index=False)]
    summary, differences = [], []
    for column, label, how in COMPARED:
        practice = _none(getattr(drills[column].dropna(), how)()) if not drills.empty else None
        actual = _none(getattr(real[column].dropna(), how)())
        shown = (lambda v: units.human(v)) if column.endswith("_s") else (lambda v, c=column: _fmt(c, v))
        summary.append({"label": f"{label} ({how})", "drills": shown(practice) if practice is not None else "-",
                        "real": shown(actual) if actual is not None else "-"})
        if practice is None or actual is None:
            continue
        if column.endswith("_s") and min(practice, actual) > 0 and max(practice, actual) / min(practice, actual) >= TIMES_APART:
            slower = "real incidents" if actual > practice else "drills"
            differences.append(f"{label}: {units.human(actual)} in real incidents against {units.human(practice)} in drills "
                               f"({max(practice, actual) / min(practice, actual):.1f}x longer in {slower})")
        elif column == "score" and abs(actual - practice) >= SCORE_APART:
            differences.append(f"Score: {actual:.1f} in real incidents against {practice:.1f} in drills")
        elif column in ("cadence_adherence", "role_coverage") and abs(actual - practice) >= POINTS_APART:
            differences.append(f"{label}: {actual:.0%} in real incidents against {practice:.0%} in drills")
    for item, text in CHECKLIST.items():
        done_real = real[f"checklist.{item}"].dropna()
        done_drills = drills[f"checklist.{item}"].dropna() if not drills.empty else pd.Series(dtype=object)
        if len(done_real) and len(done_drills):
            share_real, share_drills = done_real.astype(bool).mean(), done_drills.astype(bool).mean()
            if abs(share_real - share_drills) >= POINTS_APART:
                differences.append(f"{text}: done in {int(done_real.astype(bool).sum())} of {len(done_real)} real incidents, "
                                   f"{int(done_drills.astype(bool).sum())} of {len(done_drills)} drills")
    return {"rows": rows, "summary": summary, "differences": differences, "drills": len(drills)}


# --- charts --------------------------------------------------------------------------


def _png(fig) -> bytes:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _declare_text(seconds: float, first: bool) -> str:
    """A time to declare as the scorecard gives it, and why a 0 is one (declared before any alert)."""
    return units.human(seconds) + (" (declared first)" if first else "")


def chart_declare(df: pd.DataFrame) -> bytes:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 3.4), constrained_layout=True)
    x = np.arange(len(df))
    minutes, targets = df["time_to_declare_s"] / 60, df["declare_target_s"] / 60
    # Keep the bars readable: a target far above every bar (a SEV4's next day) is drawn at the top edge.
    top = 1.3 * max(minutes.max(skipna=True) if minutes.notna().any() else 1.0,
                    targets[targets <= 3 * max(minutes.max(skipna=True) or 1.0, 1.0)].max(skipna=True) or 0.0, 1.0)
    late = df["time_to_declare_s"] > df["declare_target_s"]
    ax.bar(x, minutes.fillna(0), 0.6, color=["tab:red" if v else "tab:blue" for v in late])
    for i, (value, target, first) in enumerate(zip(minutes, targets, df["declared_first"])):
        ax.annotate("not declared" if pd.isna(value) else _declare_text(value * 60, first), (i, 0 if pd.isna(value) else value),
                    textcoords="offset points", xytext=(0, 3), ha="center", fontsize=8)
        if not pd.isna(target):
            shown = min(target, top * 0.97)
            ax.hlines(shown, i - 0.4, i + 0.4, color="black", linewidth=2)
            off = target > top
            ax.annotate(f"target {units.human(target * 60)}" + (" (off scale)" if off else ""), (i + 0.4, shown),
                        textcoords="offset points", xytext=(0, -10 if off else 3), ha="right", fontsize=7.5)
    ax.set_xticks(x, [f"#{i} {s}" for i, s in zip(df["id"], df["scenario"])], fontsize=7.5, rotation=12)
    ax.set_ylim(0, top)
    ax.set_ylabel("minutes")
    ax.set_title("Time to declare per drill (red: later than the target for the scenario's severity)", loc="left", fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def chart_cadence_roles(df: pd.DataFrame) -> bytes:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 3.2), constrained_layout=True)
    x = np.arange(len(df))
    for offset, column, label, colour in ((-0.2, "cadence_adherence", "cadence adherence", "tab:green"),
                                          (0.2, "role_coverage", "role coverage", "tab:purple")):
        values = 100 * df[column]
        ax.bar(x + offset, values.fillna(0), 0.4, label=label, color=colour)
        for i, value in enumerate(values):
            ax.annotate("n/a" if pd.isna(value) else f"{value:.0f}%", (i + offset, 0 if pd.isna(value) else value),
                        textcoords="offset points", xytext=(0, 2), ha="center", fontsize=7.5,
                        color="grey" if pd.isna(value) else "black")
    ax.set_xticks(x, [f"#{i} {s}" for i, s in zip(df["id"], df["scenario"])], fontsize=7.5, rotation=12)
    ax.set_ylim(0, 125)
    ax.set_yticks(range(0, 101, 20))
    ax.set_ylabel("%")
    ax.set_title("Cadence adherence and role coverage per drill (n/a: not required at that severity)", loc="left", fontsize=10)
    ax.legend(fontsize=8, loc="upper right", ncol=2)
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def chart_checklist(df: pd.DataFrame) -> bytes:
    from matplotlib.colors import ListedColormap

    plt = _pyplot()
    items = list(CHECKLIST)
    grid = np.array([[{True: 2, False: 0}.get(v, 1) for v in df[f"checklist.{k}"]] for k in items], dtype=float).T
    fig, ax = plt.subplots(figsize=(8, 1.6 + 0.32 * len(df)), constrained_layout=True)
    ax.imshow(grid, cmap=ListedColormap(["#d9534f", "#e6e6e6", "#5cb85c"]), vmin=0, vmax=2, aspect="auto")
    for (r, c), v in np.ndenumerate(grid):
        ax.text(c, r, {0: "missed", 1: "n/a", 2: "done"}[int(v)], ha="center", va="center", fontsize=6.5,
                color="white" if v != 1 else "#555")
    ax.set_xticks(range(len(items)), [i.replace("_", " ") for i in items], rotation=35, ha="right", fontsize=7.5)
    ax.set_yticks(range(len(df)), [f"#{i} {s}" for i, s in zip(df["id"], df["scenario"])], fontsize=7.5)
    ax.set_title("On-call checklist: drills x items", loc="left", fontsize=10)
    return _png(fig)


def chart_score_trend(history: pd.DataFrame, quarters: list[str]) -> bytes:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 3), constrained_layout=True)
    position = {q: i for i, q in enumerate(quarters)}
    shown = history[history["quarter"].isin(quarters)]
    ax.scatter(shown["quarter"].map(position), shown["score"], alpha=0.45, color="tab:blue", label="one drill")
    means = shown.groupby("quarter")["score"].mean()
    ax.plot([position[q] for q in means.index], means.values, marker="o", color="tab:orange", label="quarter mean")
    for q, v in means.items():
        # beside the mean, on a white ground: above it the label sat on the quarter's own drills
        ax.annotate(f"{v:.1f}", (position[q], v), textcoords="offset points", xytext=(7, 0), ha="left", va="center",
                    fontsize=8, bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.85})
    ax.set_xticks(range(len(quarters)), quarters)
    ax.set_xlim(-0.5, len(quarters) - 0.5)
    ax.set_ylim(max(0, shown["score"].min() - 10), 104)
    ax.set_ylabel("score / 100")
    ax.set_title("Score trend over the last quarters", loc="left", fontsize=10)
    ax.legend(fontsize=8, loc="lower left")
    ax.grid(alpha=0.3)
    return _png(fig)


def chart_ic_rotation(table: pd.DataFrame, never_ic: list[str]) -> bytes:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 1.4 + 0.35 * len(table)), constrained_layout=True)
    values = table.to_numpy(dtype=float)
    ax.imshow(values, cmap="Blues", vmin=0, vmax=max(2.0, values.max()), aspect="auto")
    for (r, c), v in np.ndenumerate(values):
        ax.text(c, r, f"{int(v)}" if v else "-", ha="center", va="center", fontsize=8,
                color="white" if v >= max(2.0, values.max()) * 0.6 else "black")
    never = [name in never_ic for name in table.index]
    ax.set_xticks(range(len(table.columns)), table.columns)
    ax.set_yticks(range(len(table)), [f"{n} (never IC)" if z else n for n, z in zip(table.index, never)])
    for label, z in zip(ax.get_yticklabels(), never):
        if z:
            label.set_color("tab:red")
    ax.set_title("IC rotation: drills led as IC per quarter, senior engineers", loc="left", fontsize=10)
    return _png(fig)


# --- the report ----------------------------------------------------------------------


def ic_table(df: pd.DataFrame, seniors: list[str], quarters: list[str]) -> pd.DataFrame:
    """Seniors x quarters: how many drills each led as IC in person (everyone who ever did is
    listed); a drill the bots played alone is nobody's turn."""
    led = sorted(set(df["ic_turn"].dropna()) - set(seniors))
    counts = df[df["quarter"].isin(quarters)].groupby(["ic_turn", "quarter"]).size()
    return pd.DataFrame([[int(counts.get((name, q), 0)) for q in quarters] for name in [*seniors, *led]],
                        index=[*seniors, *led], columns=quarters)


def build(quarter: str, drills: list[Drill], plan: Plan | None = None, plan_names: dict | None = None,
          seniors: list[str] | None = None, incidents: list[Drill] | None = None, voided: int = 0) -> dict:
    """Everything the templates show, and the charts as PNG bytes (``charts``); ``incidents``: the
    quarter's real incidents, set beside the drills (never counted among them); ``voided``: how
    many of the quarter's drills were voided (a quarter of only those is not one without drills)."""
    first, last = quarter_bounds(quarter)
    drills = [d for d in drills if d.conducted <= last.isoformat()]
    planned = carried = None
    plan_rows, repeated = [], {}
    if plan is not None:
        done = carried_out(plan, [d for d in drills if d.quarter == quarter], plan_names or {})
        repeated = duplicates(done)
        planned, carried = len(plan.entries), sum(bool(v) for v in done.values())
        plan_rows = [{"n": i, "date": e.date.isoformat(), "scenario": e.describe(), "status": status(done[i])}
                     for i, e in enumerate(plan.entries, 1)]
    # A duplicate of a plan entry is listed, marked, but counts nowhere: the first drill of the entry does.
    shown = frame([d for d in drills if d.quarter == quarter])
    everything = frame([d for d in drills if d.id not in repeated])
    df = everything[everything["quarter"] == quarter].reset_index(drop=True)
    previous = everything[everything["quarter"] == shift_quarter(quarter, -1)]
    quarters = [shift_quarter(quarter, -i) for i in range(TREND_QUARTERS - 1, -1, -1)]
    seniors = seniors or []
    context = {
        "quarter": quarter, "first": first.isoformat(), "last": last.isoformat(), "empty": df.empty,
        "planned": planned, "plan": plan_rows, "glance": [], "drills": [], "simulated": [], "weaknesses": [],
        "actions": [], "charts": {}, "ic": {"quarters": quarters, "rows": [], "never": []},
        "real": against_real(df, [d for d in incidents or [] if d.quarter == quarter]),
    }
    if df.empty:
        recorded = (f"{voided} drills were recorded in {quarter}, all voided: counted nowhere" if voided > 1
                    else f"1 drill was recorded in {quarter}, voided: counted nowhere" if voided
                    else f"No drills were recorded in {quarter}")
        context["message"] = (recorded + (f" ({planned} planned)." if planned else ".")
                              + " Record one with `drill run --date YYYY-MM-DD` (or `--plan FILE --entry N`).")
        return context
    simulated = int(df["simulated"].sum())
    note = f"{len(df) - simulated} with people, {simulated} simulated"
    context["glance"] = glance(headline(df), headline(previous) if not previous.empty else None, planned, carried, note)
    for r in shown.itertuples(index=False):
        row = {
            "id": int(r.id), "conducted": r.conducted, "scenario": r.scenario, "mode": r.mode,
            "ic": _text(r.ic), "comms": _text(r.comms), "ops": _text(r.ops), "people": _text(r.people),
            "declare": _declare_text(r.time_to_declare_s, r.declared_first) if not pd.isna(r.time_to_declare_s) else "-",
            "target": units.human(r.declare_target_s) if not pd.isna(r.declare_target_s) else "-",
            "cadence": _fmt("cadence_adherence", _none(r.cadence_adherence)),
            "roles": _fmt("role_coverage", _none(r.role_coverage)), "score": f"{r.score:.1f}",
            "note": f"duplicate: drill {repeated[r.id]} counts for its plan entry" if r.id in repeated else "",
        }
        context["simulated" if r.simulated else "drills"].append(row)
    context["weaknesses"] = recurring_weaknesses(df)
    context["actions"] = action_items(df)
    ic = ic_table(everything, seniors, quarters)
    never = [n for n in seniors if n not in set(everything["ic_turn"].dropna())]
    context["ic"] = {"quarters": quarters, "never": never,
                     "rows": [{"name": n, "counts": list(map(int, ic.loc[n])), "total": int(ic.loc[n].sum())} for n in ic.index]}
    context["charts"] = dict(zip(CHARTS, (chart_declare(df), chart_cadence_roles(df), chart_checklist(df),
                                          chart_score_trend(everything, quarters), chart_ic_rotation(ic, never)), strict=True))
    return context


def _text(value) -> str:
    """A name or list for a table cell: ``-`` for none (never ``nan``)."""
    return "-" if value is None or (isinstance(value, float) and pd.isna(value)) or value == "" else str(value)


def render(context: dict) -> tuple[str, str]:
    """``report.html`` (charts embedded as data URIs) and ``report.md`` (charts as files)."""
    env = report.templates()
    embedded = {name: "data:image/png;base64," + base64.b64encode(png).decode() for name, png in context["charts"].items()}
    html = env.get_template("quarter.html.j2").render(**context, images=embedded, labels=CHECKLIST)
    md = env.get_template("quarter.md.j2").render(**context, images={n: n for n in context["charts"]}, labels=CHECKLIST)
    return html, md


def write(context: dict, drills: list[Drill], out: Path) -> list[Path]:
    """report.html, report.md, drills.csv and the charts, all rendered first and put in place together."""
    out = Path(out)
    html, md = render(context)
    rows = [d.as_row() for d in drills if d.quarter == context["quarter"]]
    csv = pd.DataFrame(rows).to_csv(index=False, lineterminator="\n") if rows else "id\n"
    # A quarter with nothing to chart (its drills voided since) removes the charts an earlier report left.
    return replace_files(out, {"report.html": html, "report.md": md, "drills.csv": csv, **context["charts"]}, stale=CHARTS)

