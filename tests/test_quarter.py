"""The quarterly drill report, built from a store of seeded drills across three quarters."""

import json
import re
import statistics

import pytest
from click.testing import CliRunner

from sim import load_scenario, load_script, run_drill, score
from sim.cli import main
from sim.inputs.config import Process
from sim.outputs.scoring import CHECKLIST
from sim.records import plan, quarter, store

from .conftest import DATA, SCENARIOS

# (conducted, scenario, seed): seed None plays the reference article's timeline exactly.
DRILLS = [
    ("2026-04-15", "bad-deploy-rollback", 1), ("2026-05-20", "checkout-config-push", 2),
    ("2026-07-08", "memory-leak-restart", 3), ("2026-08-19", "region-failure-failover", 1),
    ("2026-10-14", "checkout-config-push", None), ("2026-11-18", "night-db-storm-red-herrings", 1),
    ("2026-12-09", "night-db-storm-red-herrings", 3), ("2026-12-16", "false-alarm-noise", 1),
]


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    """A store of eight drills in 2026-Q2 .. Q4, and each drill's scorecard as scored here."""
    path = tmp_path_factory.mktemp("quarter") / "drills.db"
    cards = {}
    for day, name, seed in DRILLS:
        scenario = load_scenario(SCENARIOS / f"{name}.yaml")
        script = load_script(DATA / "article.yaml", scenario.start) if seed is None else None
        result = run_drill(scenario, Process(), script=script, seed=seed or 0, samples=False)
        card = score(result.events, scenario, Process())
        cards[store.record(result, card, conducted=day, mode="script" if script else "simulated", path=path)] = card
    return path, cards


def quarter_cards(cards, days):
    return [cards[i + 1] for i, (day, _, _) in enumerate(DRILLS) if day[:7] in days]


def test_the_quarter_at_a_glance_matches_the_scorecards(history):
    path, cards = history
    q4 = quarter_cards(cards, ("2026-10", "2026-11", "2026-12"))
    q3 = quarter_cards(cards, ("2026-07", "2026-08", "2026-09"))
    context = quarter.build("2026-Q4", store.drills(path), seniors=["dana", "lee", "alex"])
    glance = {g["label"]: g for g in context["glance"]}

    # The article's drill declared in 285 s; the two night-time storms in 605.7 s and 479.1 s;
    # the false alarm never declared. Median of the three: 479.1 s.
    declared = [c["metrics"]["time_to_declare_s"] for c in q4 if c["metrics"]["time_to_declare_s"] is not None]
    assert sorted(declared) == [285, 479.1, 605.7]
    assert glance["Median time to declare"]["value"] == "7m59s"
    q3_median = statistics.median(c["metrics"]["time_to_declare_s"] for c in q3)
    assert glance["Median time to declare"]["change"] == f"-{store.units.human(q3_median - 479.1)}"

    # Only the article's drill (5) had people seated; the other three the bots played alone.
    assert glance["Drills run"] == {"label": "Drills run", "value": "4", "note": "1 with people, 3 simulated", "change": "+2"}
    # Cadence: the article 100%, the storms 5 of 6 deadlines met each, the false alarm n/a:
    # (1 + 5/6 + 5/6) / 3 = 89%. Storm 6 declared at 860.7 s; internal updates at 1061.7,
    # 2038.8, 3766.6, 5386.4, 8123.2, 9551.6 s: deadlines 1160.7, 2861.7, 3838.8, 5566.6 met,
    # 7186.4 missed, 9923.2 (from the late 8123.2) met. Storm 7 declared at 734.1 s; updates
    # at 854.7, 2120.8, 4630.8, 6394.8, 7878.9, 9456.4 s: 1034.1, 2654.7 met, 3920.8 missed,
    # 6430.8, 8194.8, 9678.9 met. (Status page updates do not count: the internal cadence is scored.)
    assert [c["metrics"]["cadence_adherence"] for c in q4] == [1.0, 5 / 6, 5 / 6, None]
    assert glance["Cadence adherence"]["value"] == "89%"
    # Q3: memory-leak-restart 2 of 3 (declared 1111.2 s; updates 1231.7, 2497.9, 5007.9 s:
    # 1411.2, 3031.7 met, 4297.9 missed, resolved at 6266 s before the next), region failure
    # 8 of 9: (2/3 + 8/9) / 2 = 7/9 = 77.8%; 88.9% - 77.8% = +11 points.
    assert glance["Cadence adherence"]["change"] == "+11 pts"
    coverage = [c["metrics"]["role_coverage"] for c in q4 if c["metrics"]["role_coverage"] is not None]
    assert glance["Role coverage"]["value"] == f"{sum(coverage) / len(coverage):.0%}"
    mean_q4 = sum(c["score"] for c in q4) / 4
    mean_q3 = sum(c["score"] for c in q3) / 2
    assert glance["Mean score"] == {"label": "Mean score", "value": f"{mean_q4:.1f}", "note": "",
                                    "change": f"{mean_q4 - mean_q3:+.1f}"}

    assert [d["id"] for d in context["drills"]] == [5] and [d["id"] for d in context["simulated"]] == [6, 7, 8]
    rows = {d["id"]: d for d in context["drills"] + context["simulated"]}
    assert (rows[5]["declare"], rows[5]["target"], rows[5]["ic"], rows[5]["comms"]) == ("4m45s", "5m", "alex", "sam")
    assert (rows[8]["declare"], rows[8]["target"], rows[8]["cadence"]) == ("-", "-", "-")  # a false alarm


def test_recurring_weaknesses_and_owned_action_items(history):
    path, cards = history
    context = quarter.build("2026-Q4", store.drills(path))
    # Both storms (6, 7) were never resolved, so neither booked its postmortem: those items
    # failed (not "n/a"). Storm 7 also never applied a mitigation that helped (mitigate_first),
    # once: not a recurring weakness. Both kept the cadence (5 of 6 deadlines, 83% >= 80%).
    assert [(w["item"], w["missed"], w["of"], w["drills"]) for w in context["weaknesses"]] == [
        ("postmortem_scheduled", 2, 3, [6, 7]), ("resolved_when_normal", 2, 3, [6, 7])]
    missed = sum(v is False for c in quarter_cards(cards, ("2026-10", "2026-11", "2026-12")) for v in c["checklist"].values())
    assert len(context["actions"]) == missed == 5
    # Drill 6 ran on Wed 2026-11-18 and booked no postmortem: five business days on (Wed 25 Nov),
    # then ten more: Wed 9 Dec; drill 7 (Wed 9 Dec): Wed 16 Dec, then Wed 30 Dec. Resolving is the
    # IC's job, mitigating the Ops Lead's; but the bots played both storms, so the facilitator owns
    # their follow-ups. Sorted by due date, drill, item.
    facilitator = "the drill's facilitator"
    assert [(a["drill"], a["owner"], a["role"], a["item"], a["due"]) for a in context["actions"]] == [
        (6, facilitator, "IC", "postmortem_scheduled", "2026-12-09"), (6, facilitator, "IC", "resolved_when_normal", "2026-12-09"),
        (7, facilitator, "Ops Lead", "mitigate_first", "2026-12-30"),
        (7, facilitator, "IC", "postmortem_scheduled", "2026-12-30"), (7, facilitator, "IC", "resolved_when_normal", "2026-12-30")]
    # Never resolved: the actions speak of getting to a resolution, not of declaring it too early.
    assert context["actions"][1]["action"] == quarter.UNRESOLVED_ACTIONS["resolved_when_normal"]
    assert "declaring resolved" not in " ".join(a["action"] for a in context["actions"])


def test_ic_rotation_coverage_over_the_last_quarters(history):
    path, _ = history
    context = quarter.build("2026-Q4", store.drills(path), seniors=["alex", "dana", "priya"])
    ic = context["ic"]
    assert ic["quarters"] == ["2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]
    # The bots' alex led IC in drills 1-4 and the storms (6, 7), but those were nobody's turn:
    # only the article's drill (5) had people seated, alex among them as IC.
    assert [(r["name"], r["counts"], r["total"]) for r in ic["rows"]] == [
        ("alex", [0, 0, 0, 0, 1], 1), ("dana", [0, 0, 0, 0, 0], 0), ("priya", [0, 0, 0, 0, 0], 0)]
    assert ic["never"] == ["dana", "priya"]


def test_a_quarter_without_drills_says_so():
    context = quarter.build("2027-Q1", [])
    assert context["empty"] and context["charts"] == {}
    assert context["message"].startswith("No drills were recorded in 2027-Q1.")
    html, md = quarter.render(context)
    assert "No drills were recorded in 2027-Q1" in html and "<img" not in html
    assert "No drills were recorded in 2027-Q1" in md and "![" not in md
    # Names and titles come from people's files: the page shows them, never runs them.
    context["message"] = "<script>alert(1)</script>"
    html, md = quarter.render(context)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html


def test_report_quarter_writes_html_md_csv_and_charts(history, tmp_path, write):
    path, cards = history
    plan_file = write("2026-Q4.yaml", """
        drills:
          - {date: 2026-10-14, scenario: checkout-config-push}
          - {date: 2026-11-18, scenario: night-db-storm-red-herrings}
          - {date: 2026-12-02, scenario: bad-deploy-rollback}
    """)
    out = tmp_path / "report"
    result = CliRunner().invoke(main, ["report", "quarter", "2026-Q4", "--store", str(path), "--out", str(out),
                                       "--plan", str(plan_file)])
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    assert names == ["cadence_and_roles.png", "checklist.png", "drills.csv", "ic_rotation.png", "report.html",
                     "report.md", "score_trend.png", "time_to_declare.png"]
    html = (out / "report.html").read_text()
    images = re.findall(r'<img src="([^"]+)"', html)
    assert len(images) == 5 and all(src.startswith("data:image/png;base64,") for src in images)
    assert "http" not in html.replace("http-equiv", "")  # one self-contained file
    assert "3 planned, 2 of them run" in html and "@media print" in html
    assert "| Drills run | 4 (1 with people, 3 simulated; 3 planned, 2 of them run) | +2 |" in (out / "report.md").read_text()
    md = (out / "report.md").read_text()
    assert "| Median time to declare | 7m59s |" in md
    for png in re.findall(r"\]\(([^)]+\.png)\)", md):
        assert (out / png).read_bytes().startswith(b"\x89PNG")
    assert "| 3 | 2026-12-02 | bad-deploy-rollback | not run |" in md
    csv = (out / "drills.csv").read_text().splitlines()
    assert len(csv) == 5 and csv[0].startswith("id,conducted,quarter,scenario")
    assert csv[1].startswith("5,2026-10-14,2026-Q4,checkout-config-push")
    assert set(f"checklist.{k}" for k in CHECKLIST) <= set(csv[0].split(","))
    # Same store, same report: byte for byte.
    again = tmp_path / "again"
    CliRunner().invoke(main, ["report", "quarter", "2026-Q4", "--store", str(path), "--out", str(again), "--plan", str(plan_file)])
    assert all((out / n).read_bytes() == (again / n).read_bytes() for n in names)
    # A quarter with nothing to chart written over it (as 2026-Q4 once its drills are voided) leaves
    # none of the charts behind: before, the five PNGs of the drills that no longer count stayed.
    empty = CliRunner().invoke(main, ["report", "quarter", "2027-Q1", "--store", str(path), "--out", str(out)])
    assert empty.exit_code == 0, empty.output
    assert sorted(p.name for p in out.iterdir()) == ["drills.csv", "report.html", "report.md"]
    # Another quarter's plan is refused: before, 2026-Q3's report showed 2026-Q4's three entries
    # as 'not run' and its glance '3 planned, 0 of them run'.
    report_q3 = CliRunner().invoke(main, ["report", "quarter", "2026-Q3", "--plan", str(plan_file), "--store", str(path),
                                          "--out", str(tmp_path / "q3")])
    plan_q3 = CliRunner().invoke(main, ["plan", "2026-Q3", "--file", str(plan_file), "--store", str(path)])
    for other in (report_q3, plan_q3):
        assert other.exit_code == 2 and f"{plan_file}: plans 2026-Q4, not 2026-Q3" in other.output, other.output
    assert not (tmp_path / "q3").exists()


def test_a_quarter_whose_drills_were_all_voided_says_so(history, tmp_path):
    path = tmp_path / "drills.db"
    path.write_bytes(history[0].read_bytes())
    for drill_id in (3, 4):  # 2026-Q3's two drills
        assert CliRunner().invoke(main, ["void", str(drill_id), "--reason", "test", "--store", str(path)]).exit_code == 0
    result = CliRunner().invoke(main, ["report", "quarter", "2026-Q3", "--store", str(path), "--out", str(tmp_path / "q3")])
    # It said "No drills were recorded in 2026-Q3", which drill history contradicts.
    assert result.output.startswith("2 drills were recorded in 2026-Q3, all voided: counted nowhere. Record one with")
    assert "2 drills were recorded in 2026-Q3, all voided" in (tmp_path / "q3" / "report.md").read_text()
    assert quarter.build("2027-Q1", [], voided=1)["message"].startswith("1 drill was recorded in 2027-Q1, voided: counted")


def test_history_show_and_export(history, tmp_path):
    path, cards = history
    runner = CliRunner()
    listed = runner.invoke(main, ["history", "--store", str(path), "--quarter", "2026-q3"])
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert lines[0].split() == ["id", "date", "scenario", "mode", "ic", "comms", "ops", "score", "plan", "notes"]
    assert [line.split()[:3] for line in lines[1:]] == [["3", "2026-07-08", "memory-leak-restart"],
                                                       ["4", "2026-08-19", "region-failure-failover"]]
    assert "No drills recorded with nobody" in runner.invoke(main, ["history", "--store", str(path), "--person", "nobody"]).output
    assert runner.invoke(main, ["history", "--quarter", "2026-Q9"]).exit_code == 2

    shown = runner.invoke(main, ["show", "5", "--store", str(path), "--report", str(tmp_path / "d5")])
    assert shown.exit_code == 0, shown.output
    assert "Drill 5: Checkout failing" in shown.output and "conducted 2026-10-14" in shown.output
    assert "14:52 UTC - SEV1 declared by dana" in shown.output and f"Score: {cards[5]['score']:.1f} / 100" in shown.output
    assert json.loads((tmp_path / "d5" / "score.json").read_text())["metrics"] == cards[5]["metrics"]
    report_md = (tmp_path / "d5" / "report.md").read_text()
    assert "## Postmortem draft" in report_md and "timeline.png" not in report_md
    assert "no drill 99" in runner.invoke(main, ["show", "99", "--store", str(path)]).output

    exported = runner.invoke(main, ["export", "--store", str(path), "--format", "jsonl", "--events", "--quarter", "2026-Q2"])
    records = [json.loads(line) for line in exported.output.splitlines()]
    assert [r["id"] for r in records] == [1, 2] and records[0]["events"][-1]["kind"] == "drill.ended"
    assert records[1]["metrics"] == cards[2]["metrics"]
    csv = runner.invoke(main, ["export", "--store", str(path), "--out", str(tmp_path / "all.csv")])
    assert csv.exit_code == 0 and len((tmp_path / "all.csv").read_text().splitlines()) == 1 + len(DRILLS)
    # Asked for the events in a CSV, it says where they go (it wrote the CSV without them).
    refused = runner.invoke(main, ["export", "--store", str(path), "--events", "--out", str(tmp_path / "e.csv")])
    assert refused.exit_code == 2 and "--events goes with --format jsonl" in refused.output
    assert not (tmp_path / "e.csv").exists()


def test_drill_run_records_into_the_store_and_runs_plan_entries(tmp_path, drill_store, write, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    ran = runner.invoke(main, ["run", "--seed", "2", "--date", "2026-10-05", "--out", "o1"])
    assert ran.exit_code == 0, ran.output
    assert f"Recorded as drill 1 in {drill_store}" in ran.output
    plan_file = write("2026-Q4.yaml", """
        drills:
          - {date: 2026-10-21, scenario: memory-leak-restart, seed: 4, roles: {ic: lee, comms: alex, ops: dana}}
          - {date: 2026-11-04, scenario: {generate: {difficulty: medium, seed: 7}}}
          - {date: 2026-12-02, scenario: bad-deploy-rollback, mode: live}
    """)
    ran = runner.invoke(main, ["run", "--plan", str(plan_file), "--entry", "1", "--out", "o2"])
    assert ran.exit_code == 0, ran.output
    got = store.drill(2)
    assert (got.conducted, got.scenario, got.seed, got.plan_quarter, got.plan_entry) == (
        "2026-10-21", "memory-leak-restart", 4, "2026-Q4", 1)
    assert (got.lead("ic"), got.lead("comms"), got.lead("ops")) == ("lee", "alex", "dana")
    generated = runner.invoke(main, ["run", "--plan", str(plan_file), "--entry", "2", "--out", "o3"])
    assert generated.exit_code == 0, generated.output
    # made from the topology as `drill generate --difficulty medium --seed 7` makes it
    assert (tmp_path / "generated" / "generated-medium-7.yaml").exists()
    assert (store.drill(3).scenario, store.drill(3).plan_entry) == ("generated-medium-7", 2)
    assert "planned as a live drill: `drill serve` runs it for a room" in runner.invoke(
        main, ["run", "--plan", str(plan_file), "--entry", "3"]).output
    assert "is planned with scenario memory-leak-restart, not bad-deploy-rollback" in runner.invoke(
        main, ["run", "bad-deploy-rollback", "--plan", str(plan_file), "--entry", "1"]).output
    assert "no entry 4" in runner.invoke(main, ["run", "--plan", str(plan_file), "--entry", "4"]).output

    shown = runner.invoke(main, ["plan", "2026-Q4", "--file", str(plan_file)])
    assert shown.exit_code == 0, shown.output
    rows = shown.output.splitlines()
    assert "memory-leak-restart" in rows[1] and rows[1].endswith("drill 2 counts (simulated: bots only)")
    assert got.plan_deviations == ()  # lee, alex and dana led as planned
    assert "generated (medium, seed 7)" in rows[2] and rows[2].endswith("drill 3 counts (simulated: bots only)")
    assert "2 of 3 planned drills run." in shown.output


def test_rotation_command_and_proposal(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    scenario = load_scenario(SCENARIOS / "checkout-config-push.yaml")
    for day, script in (("2026-10-07", True), ("2026-11-04", True), ("2026-11-18", False)):
        result = run_drill(scenario, seed=1, samples=False, script=load_script(DATA / "article.yaml", scenario.start) if script else None)
        store.record(result, score(result.events, scenario, Process()), conducted=day)
    shown = runner.invoke(main, ["rotation", "--quarter", "2026-Q4"])
    assert shown.exit_code == 0, shown.output
    assert "3 drill(s) recorded; in 2026-Q4 2 with people, 1 simulated" in shown.output
    assert "Never IC: dana, lee" in shown.output  # the built-in team: alex led both tabletop replays as IC
    assert "Single point of failure: alex led 2 of the 2 drills with people in 2026-Q4 as IC" in shown.output
    proposed = runner.invoke(main, ["rotation", "--propose", "2027-Q1"])
    assert proposed.exit_code == 0, proposed.output
    loaded = plan.load_plan(tmp_path / "drills" / "2027-Q1.yaml")
    # dana and lee have never been IC; then alex, last IC in November, is more overdue than either.
    assert [e.roles["ic"] for e in loaded.entries] == ["dana", "lee", "alex"]
    assert "exists; give --out or --force" in runner.invoke(main, ["rotation", "--propose", "2027-Q1"]).output
