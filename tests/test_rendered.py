"""No `nan`, `None` or `-0.00` reaches a reader: every rendered output is scanned."""

import re

from click.testing import CliRunner

from sim import load_scenario, load_script, run_drill, score
from sim.analysis.summary import fmt
from sim.cli import main
from sim.inputs.config import Process
from sim.outputs import report
from sim.records import store

from .conftest import DATA, SCENARIOS

# A word nan/None (not "nonetheless"), or a negative zero however many decimals.
UNREADABLE = re.compile(r"\b(nan|NaN|None|null)\b|-0\.0+(?![0-9])|-0(?:\.0+)? ?(%|pp|min)")


def unreadable(text: str) -> list[str]:
    return [m.group(0) for m in UNREADABLE.finditer(text)]


def test_drill_reports_and_the_quarter_report_read_cleanly(tmp_path, drill_store):
    # A false alarm (no IC, comms or ops lead at all), a storm never resolved, a SEV4, and a
    # scripted drill with no Ops lead: the cases that used to print nan and None.
    cases = [("false-alarm-noise", 1, None), ("night-db-storm-red-herrings", 1, None), ("sev4-internal-tooling", 1, None),
             ("checkout-config-push", 0, DATA / "article.yaml")]
    for day, (name, seed, script) in zip(("2026-10-07", "2026-10-21", "2026-11-04", "2026-11-18"), cases):
        scenario = load_scenario(SCENARIOS / f"{name}.yaml")
        result = run_drill(scenario, seed=seed, samples=False,
                           script=load_script(script, scenario.start) if script else None)
        card = score(result.events, scenario, Process())
        for text in (report.markdown(result, card, plot=False), "\n".join(report.scorecard(card))):
            assert unreadable(text) == [], (name, unreadable(text))
        store.record(result, card, conducted=day, mode="script" if script else "simulated")
    assert store.drill(4).lead("ops") is None  # the article names no Operations Lead
    out = tmp_path / "q"
    ran = CliRunner().invoke(main, ["report", "quarter", "2026-Q4", "--out", str(out)])
    assert ran.exit_code == 0, ran.output
    for name in ("report.md", "report.html"):
        text = (out / name).read_text()
        assert unreadable(text) == [], (name, unreadable(text))
    shown = CliRunner().invoke(main, ["history"]).output + CliRunner().invoke(main, ["show", "1"]).output
    assert unreadable(shown) == []


def test_summary_numbers_have_no_negative_zero():
    assert fmt(-0.000004, "%", signed=True) == "+0.00 pp"  # -0.0004 pp
    assert fmt(-0.001, "points", signed=True) == "+0.00"
    assert fmt(-0.01, "points", signed=True) == "-0.01"
    assert fmt(float("nan"), "min") == "–"
