"""The variant comparison report: statistics per metric and variant, summary.md, summary.html, plots.

Reads ``runs.parquet`` back one metric column at a time, so it works the same for a
hundred runs or a million (its memory holds one metric's numbers, never the rows), and
can be re-made from the file alone.
"""

import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..inputs.config import REPO
from ..outputs import report
from ..outputs.files import replace_files
from . import stats

if TYPE_CHECKING:  # for the annotations only: pandas is imported where it is used, as it is slow to load
    import pandas as pd

# (column, label, which way is better, display unit)
METRICS = (
    ("time_to_declare_s", "Time to declare", "lower", "min"),
    ("time_to_mitigate_s", "Time to mitigate", "lower", "min"),
    ("time_to_resolve_s", "Time to resolve", "lower", "min"),
    ("customer_impact_min", "Customer impact", "lower", "minutes"),
    ("cadence_adherence", "Update cadence adherence", "higher", "%"),
    ("role_coverage", "Role coverage", "higher", "%"),
    ("updates_posted", "Status updates posted", None, "count"),
    ("update_writing_min", "Time spent writing updates", None, "minutes"),
    ("coordination_min", "Time spent coordinating", None, "minutes"),
    ("briefing_min", "Time the IC spent briefing newcomers", None, "minutes"),
    ("people_engaged", "People engaged", None, "count"),
    ("ic_hands_on_actions", "IC hands-on actions", "lower", "count"),
    ("declared", "Declared an incident (share of runs)", None, "%"),
    ("score", "Score", "higher", "points"),
)
# The smallest difference worth acting on, per metric, in the unit the summary shows it in
# (minutes, percentage points, counts, score points). A difference whose interval excludes 0
# but whose mean is smaller than this is "no meaningful difference": detectable, not useful.
# Override with ``drill compare --threshold METRIC=VALUE`` (docs/variants.md).
THRESHOLDS = {
    "time_to_declare_s": 1.0, "time_to_mitigate_s": 1.0, "time_to_resolve_s": 2.0, "customer_impact_min": 1.0,
    "cadence_adherence": 2.0, "role_coverage": 2.0, "updates_posted": 0.5, "update_writing_min": 0.5,
    "coordination_min": 0.5, "briefing_min": 0.5, "people_engaged": 0.25, "ic_hands_on_actions": 0.1,
    "declared": 2.0, "score": 1.0,
}
PLOTTED = ("time_to_declare_s", "time_to_mitigate_s", "time_to_resolve_s", "customer_impact_min",
           "cadence_adherence", "update_writing_min", "coordination_min", "people_engaged", "score")


@dataclass(frozen=True)
class Cell:
    variant: str
    n: int
    median: stats.Estimate | None
    p90: stats.Estimate | None
    mean: stats.Estimate | None
    diff: stats.Paired | None  # against the baseline; None for the baseline itself


def paired_metrics(path, variants: list[str]) -> Iterator[tuple[str, "pd.DataFrame"]]:
    """``(metric, runs x variants)`` for each metric of ``METRICS`` in the runs file, one at a
    time: the paired view, read a column at a time, so memory holds one metric's numbers
    (8 bytes a drill), never every run's row."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    file = pq.ParquetFile(path)
    keys = file.read(columns=["run", "variant"])
    runs, slot = np.unique(keys.column("run").to_numpy(), return_inverse=True)
    column = pc.index_in(keys.column("variant"), value_set=pa.array(variants)).to_numpy(zero_copy_only=False)
    del keys
    present = set(file.schema_arrow.names)
    for metric, *_ in METRICS:
        if metric not in present:
            continue
        values = pc.cast(file.read(columns=[metric]).column(metric), pa.float64()).to_numpy()
        wide = np.full((runs.size, len(variants)), np.nan)
        wide[slot, column] = values
        yield metric, pd.DataFrame(wide, index=pd.Index(runs, name="run"), columns=variants)


def analyse(wide, variants: list[str], better: str | None, rng: np.random.Generator,
            resamples: int = stats.RESAMPLES) -> list[Cell]:
    """One ``Cell`` per variant of one metric's paired view (runs x variants)."""
    cells = []
    base = wide[variants[0]].to_numpy()
    for name in variants:
        values = wide[name].to_numpy()
        est = stats.bootstrap(values, ("median", "p90", "mean"), rng, resamples)
        diff = None if name == variants[0] else stats.paired(values, base, None if better is None else better == "lower",
                                                             rng, resamples)
        cells.append(Cell(name, int((~np.isnan(values)).sum()), est.get("median"), est.get("p90"), est.get("mean"), diff))
    return cells


def _failures(path) -> list[dict]:
    """Per variant with failed drills: how many, the first run and its error."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    errors = pq.read_table(path, columns=["run", "variant", "error"], filters=pc.field("error").is_valid()).to_pandas()
    return [{"variant": name, "count": len(group), "run": int(group["run"].min()),
             "error": group.sort_values("run")["error"].iloc[0]} for name, group in errors.groupby("variant", sort=False)]


def fmt(value: float | None, unit: str, signed: bool = False) -> str:
    if value is None or np.isnan(value):
        return "–"
    if unit == "min":
        value /= 60.0
    if unit == "%":
        value *= 100.0
    digits = 1 if abs(value) >= 1 or value == 0 else 2
    if round(value, digits) == 0:
        value = 0.0  # never "-0.00": a difference that rounds to nothing has no sign
    text = f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"
    if unit == "%" and signed:
        return text + " pp"  # a difference of shares is in percentage points
    return text + {"min": " min", "minutes": " min", "%": "%", "count": "", "points": ""}[unit]


def _raw(value: float, unit: str) -> float:
    """A value in the unit the summary shows (minutes, percentage points) in the metric's own unit."""
    return value * 60.0 if unit == "min" else value / 100.0 if unit == "%" else value


def _rows(table: dict, thresholds: dict | None = None) -> list[dict]:
    """The analysis as plain, formatted rows for the templates."""
    thresholds = {**THRESHOLDS, **(thresholds or {})}
    out = []
    for column, label, better, unit in METRICS:
        if column not in table:
            continue
        lines = []
        for cell in table[column]:
            line = {"variant": cell.variant, "n": cell.n, "despite": ""}  # despite: see _tradeoffs
            for name in ("median", "p90", "mean"):
                e = getattr(cell, name)
                line[name] = fmt(e.value, unit) if e else "–"
                line[f"{name}_ci"] = f"{fmt(e.low, unit)} to {fmt(e.high, unit)}" if e else ""
            d = cell.diff
            line["diff"] = fmt(d.mean.value, unit, signed=True) if d else ""
            line["diff_ci"] = f"{fmt(d.mean.low, unit, True)} to {fmt(d.mean.high, unit, True)}" if d else ""
            line["better"] = (f"{d.better:.0%}" if not np.isnan(d.better) else "n/a") if d else ""
            line["worse"] = (f"{d.worse:.0%}" if not np.isnan(d.worse) else "n/a") if d else ""
            line["paired"] = d.n if d else 0
            line["verdict"] = ("baseline" if cell is table[column][0]
                               else _verdict(d, better, _raw(thresholds[column], unit), unit))
            line["noise"] = line["verdict"] not in ("better", "worse", "higher", "lower")
            lines.append(line)
        out.append({"column": column, "label": label, "better": better or "neither (a cost or a count)",
                    "plot": f"plots/{column}.png" if column in PLOTTED else None, "lines": lines})
    return out


def _tradeoffs(rows: list[dict]) -> None:
    """A score called better (or worse) while the variant is meaningfully the other way on some
    metric is a trade-off, not a plain win: the score line names those metrics (``line["despite"]``)."""
    score = next((m for m in rows if m["column"] == "score"), None)
    for line in score["lines"][1:] if score else []:
        if line["verdict"] not in ("better", "worse"):
            continue
        other = "worse" if line["verdict"] == "better" else "better"
        against = [m["label"].lower() for m in rows if m["column"] != "score"
                   for mine in m["lines"][1:] if mine["variant"] == line["variant"] and mine["verdict"] == other]
        if against:
            named = ", ".join(against[:-1]) + " and " + against[-1] if len(against) > 1 else against[0]
            line["despite"] = f"{other} on {named}"


def _verdict(d: stats.Paired | None, better: str | None, threshold: float, unit: str) -> str:
    """Better or worse only when there are runs enough to judge (``d`` None: no run in which
    both have the metric), the interval excludes 0 and the mean passes the practical threshold."""
    if d is None or d.n < stats.MIN_PAIRED:
        return f"too few runs to judge ({d.n if d else 0} of the {stats.MIN_PAIRED} needed)"
    if d.identical:
        return "same in every run"
    if d.mean.within_noise:
        return "no meaningful difference (within noise)"
    if abs(d.mean.value) < threshold:
        return f"no meaningful difference (under {fmt(threshold, unit).replace('%', ' pp')})"
    if better is None:
        return "higher" if d.mean.value > 0 else "lower"
    improved = (d.mean.value < 0) == (better == "lower")
    return "better" if improved else "worse"


def render(context: dict) -> tuple[str, str]:
    """summary.md and summary.html from the templates shipped in the package."""
    env = report.templates()
    return env.get_template("summary.md.j2").render(context), env.get_template("summary.html.j2").render(context)


ECDF_POINTS = 4000  # more steps than a plot has pixels across; beyond it, matplotlib's memory grows with the runs


def _ecdf(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The empirical CDF of sorted ``x`` as step points: every value, or ``ECDF_POINTS`` evenly
    spaced ranks of a larger sample (each still exactly on the curve)."""
    ranks = np.arange(1, x.size + 1)
    if x.size > ECDF_POINTS:
        ranks = np.unique(np.linspace(1, x.size, ECDF_POINTS).round().astype(int))
    return x[ranks - 1], ranks / x.size


def plot(wide, variants: list[str], label: str, unit: str) -> bytes:
    """Left: the distribution per variant (empirical CDF); right: the paired differences from the baseline."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scale = 1 / 60 if unit == "min" else 100 if unit == "%" else 1
    shown = {"min": "min", "%": "%", "minutes": "min"}.get(unit, "")
    wide = wide * scale
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
    for name in variants:
        x = np.sort(wide[name].dropna().to_numpy())
        if x.size:
            left.step(*_ecdf(x), where="post", label=name)
    left.set(title=f"{label}: distribution", xlabel=f"{label} ({shown})" if shown else label, ylabel="share of runs ≤ x")
    if left.get_legend_handles_labels()[0]:  # a metric no run reached (nothing mitigated) has no curve
        left.legend(fontsize=8)
    base = wide[variants[0]]
    diffs = {name: (wide[name] - base).dropna().to_numpy() for name in variants[1:]}
    spread = np.concatenate([d for d in diffs.values() if d.size] or [np.zeros(1)])
    bins = np.histogram_bin_edges(spread, bins=40) if np.ptp(spread) > 0 else 1
    for name, d in diffs.items():
        if d.size:
            # Log counts: most paired differences are often exactly 0, which would flatten the rest.
            right.hist(d, bins=bins, alpha=0.55, log=True, label=f"{name} − {variants[0]}")
    right.axvline(0, color="black", linewidth=0.8)
    right.set(title="Paired difference from the baseline, run by run", xlabel=f"difference ({shown})" if shown else "difference",
              ylabel="runs")
    if right.get_legend_handles_labels()[0]:
        right.legend(fontsize=8)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()


def _doc(out: Path, name: str) -> str:
    """A link to the model documentation: relative to the report when the repository is at hand."""
    path = REPO / "docs" / name
    return os.path.relpath(path, out.resolve()) if path.exists() else f"docs/{name}"


def summary_files(runs_path, out: Path, variants: list[dict], scenarios: list[dict], runs: int, seed: int,
                  resamples: int = stats.RESAMPLES, thresholds: dict | None = None) -> dict[str, str | bytes]:
    """summary.md, summary.html and plots/ of the runs file at ``runs_path``, by name under ``out``.
    ``thresholds`` override ``THRESHOLDS`` (metric -> smallest meaningful difference, as shown)."""
    names = [v["name"] for v in variants]
    rng = np.random.default_rng(seed)
    better = {c: b for c, _, b, _ in METRICS}
    units = {c: u for c, _, _, u in METRICS}
    labels = {c: label for c, label, _, _ in METRICS}
    table, plots = {}, {}
    for column, wide in paired_metrics(runs_path, names):
        table[column] = analyse(wide, names, better[column], rng, resamples)
        if column in PLOTTED:
            plots[f"plots/{column}.png"] = plot(wide, names, labels[column], units[column])
    rows = _rows(table, thresholds)
    _tradeoffs(rows)
    context = {"variants": variants, "scenarios": scenarios, "runs": runs, "seed": seed, "drills": runs * len(names),
               "failed": _failures(runs_path),
               "baseline": names[0], "metrics": rows, "resamples": resamples, "level": f"{stats.LEVEL:.0%}",
               "model_doc": _doc(out, "variants.md"), "model_doc_model": _doc(out, "model.md"),
               "clear": [(m["label"], line) for m in rows for line in m["lines"][1:] if not line["noise"]],
               "noise": [(m["label"], line) for m in rows for line in m["lines"][1:] if line["verdict"].startswith("no meaningful")],
               "same": [(m["label"], line) for m in rows for line in m["lines"][1:] if line["verdict"] == "same in every run"],
               "few": [(m["label"], line) for m in rows for line in m["lines"][1:] if line["verdict"].startswith("too few")],
               "min_paired": stats.MIN_PAIRED}
    md, html = render(context)
    return {"summary.md": md, "summary.html": html, **plots}


STALE = tuple(f"plots/{column}.png" for column in PLOTTED)  # a plot a new summary does not make is removed


def write_summary(runs_path, out: Path, *args, **kwargs) -> list[Path]:
    """Write ``summary_files`` next to ``runs_path``; return the paths written."""
    return replace_files(out, summary_files(runs_path, out, *args, **kwargs), stale=STALE)
