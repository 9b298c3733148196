"""Drills of record: what the store keeps, voiding, duplicates of a plan entry, and simulated
drills that are nobody's turn."""

from click.testing import CliRunner

from sim import load_roster, load_scenario, load_script, run_drill, score
from sim.cli import main
from sim.inputs.config import Process
from sim.records import plan, quarter, store

from .conftest import DATA, REPO, SCENARIOS


def test_a_plain_run_is_exploration_and_a_run_with_record_or_date_is_kept(tmp_path, drill_store, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    plain = runner.invoke(main, ["run", "--seed", "2", "--out", "o1"])
    assert plain.exit_code == 0, plain.output
    assert "Not recorded: a plain run is exploration" in plain.output
    assert "#inc-2026-04-20-checkout" in plain.output  # an exploration keeps the scenario's own date
    as_json = runner.invoke(main, ["run", "--seed", "2", "--out", "o2", "--json"])
    assert as_json.exit_code == 0 and (tmp_path / "o2" / "score.json").exists()
    assert not drill_store.exists()  # nothing recorded, not even an empty store
    dated = runner.invoke(main, ["run", "--seed", "2", "--out", "o3", "--date", "2026-10-05"])
    assert f"Recorded as drill 1 in {drill_store}" in dated.output
    kept = runner.invoke(main, ["run", "--seed", "2", "--out", "o4", "--record"])
    assert f"Recorded as drill 2 in {drill_store}" in kept.output
    assert [d.id for d in store.drills()] == [1, 2] and store.drill(1).conducted == "2026-10-05"


def _article():
    scenario = load_scenario(SCENARIOS / "checkout-config-push.yaml")
    result = run_drill(scenario, script=load_script(DATA / "article.yaml", scenario.start), samples=False)
    return result, score(result.events, scenario, Process())


def test_a_voided_drill_is_kept_shown_in_history_and_counted_nowhere(tmp_path, drill_store):
    result, card = _article()
    for day in ("2026-10-07", "2026-10-08"):
        store.record(result, card, conducted=day, mode="script")
    runner = CliRunner()
    voided = runner.invoke(main, ["void", "2", "--reason", "a rehearsal the day after, not a drill"])
    assert voided.exit_code == 0, voided.output
    assert "already voided" in runner.invoke(main, ["void", "2", "--reason", "again"]).output
    assert "no drill 9" in runner.invoke(main, ["void", "9", "--reason", "x"]).output
    assert runner.invoke(main, ["void", "1"]).exit_code == 2  # --reason is required
    assert "say why" in runner.invoke(main, ["void", "1", "--reason", "  "]).output
    # A reason holding a byte that is not UTF-8 (a lone surrogate in the arguments) is refused, not stored.
    odd = runner.invoke(main, ["void", "1", "--reason", "a\udcff"])
    assert odd.exit_code == 2 and "'a\\udcff' is not UTF-8 text" in odd.output, odd.output

    assert [d.id for d in store.drills()] == [1]
    kept = store.drills(voided=True)
    assert [(d.id, d.void_reason) for d in kept] == [(1, None), (2, "a rehearsal the day after, not a drill")]
    assert store.drill(2).voided is not None  # asked for by id, it is there
    # and shown as void (before, `drill show 2` read as any drill of record)
    voided_on = store.drill(2).voided[:10]
    shown = runner.invoke(main, ["show", "2"]).output.splitlines()
    assert shown[2] == f"VOID since {voided_on}: a rehearsal the day after, not a drill (counted nowhere)"
    assert "VOID" not in runner.invoke(main, ["show", "1"]).output
    lines = runner.invoke(main, ["history"]).output.splitlines()
    assert lines[2].startswith("2 ") and lines[2].endswith("VOID: a rehearsal the day after, not a drill")
    assert lines[1].endswith("with dana, lee, alex, sam")
    # The rotation counts alex's one IC turn, not two.
    rot = plan.rotation(load_roster(None), store.drills(), "2026-Q4")
    assert rot.ic_share == {"alex": 1} and rot.quarter_drills == 1


def test_duplicates_of_a_plan_entry_are_shown_and_the_first_counts(tmp_path, drill_store, write, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "drills").mkdir()  # where `drill rotation` looks for each quarter's plan
    plan_file = write("drills/2026-Q4.yaml", """
        drills:
          - {date: 2026-10-21, scenario: checkout-config-push, seed: 1, roles: {ic: lee, comms: sam, ops: dana}}
          - {date: 2026-11-04, scenario: memory-leak-restart, seed: 4}
    """)
    runner = CliRunner()
    for out in ("a", "b"):
        ran = runner.invoke(main, ["run", "--plan", str(plan_file), "--entry", "1", "--out", out])
        assert ran.exit_code == 0, ran.output
    store.record(*_article(), conducted="2026-10-21")  # on the entry's date with its scenario: carries it out too
    shown = runner.invoke(main, ["plan", "2026-Q4", "--file", str(plan_file)]).output.splitlines()
    assert shown[1].endswith("drill 1 counts (simulated: bots only); duplicates, not counted: 2, 3")
    assert shown[2].endswith("not run") and "1 of 2 planned drills run." in shown[-1]

    loaded = plan.load_plan(plan_file)
    context = quarter.build("2026-Q4", store.drills(), loaded, plan.scenario_names(loaded), ["lee", "dana"])
    assert context["plan"][0]["status"] == "drill 1 counts (simulated: bots only); duplicates, not counted: 2, 3"
    assert [(d["id"], d["note"]) for d in context["simulated"]] == [(1, ""), (2, "duplicate: drill 1 counts for its plan entry")]
    # The article's replay had people seated, but as a duplicate it counts nowhere, alex's IC turn included.
    assert [(d["id"], d["note"]) for d in context["drills"]] == [(3, "duplicate: drill 1 counts for its plan entry")]
    glance = {g["label"]: g for g in context["glance"]}
    assert glance["Drills run"]["value"] == "1"
    assert glance["Drills run"]["note"] == "0 with people, 1 simulated; 2 planned, 1 of them run"
    # The bots played lee as IC: nobody's turn, so both seniors have still never been IC.
    assert context["ic"]["never"] == ["lee", "dana"]
    # Nor does the rotation take a turn from a duplicate: before, alex was IC once (drill 3) and
    # the quarter had '1 with people, 2 simulated' where the report says 0 and 1.
    rotation = runner.invoke(main, ["rotation", "--quarter", "2026-Q4"]).output.splitlines()
    assert rotation[0] == ("IC rotation at the end of 2026-Q4: 1 drill(s) recorded; in 2026-Q4 0 with people, "
                           "1 simulated (bots only: nobody's turn)")
    assert rotation[-1] == "Never IC: alex, dana, lee"
    # The plan is read for its dates and stories, not its people: lee, its IC, may have left the team.
    left = write("left.yaml", "people:\n  - {name: dana, oncall: primary, senior: true, trained: [ic]}\n")
    assert runner.invoke(main, ["rotation", "--roster", str(left)]).output.splitlines()[-1] == "Never IC: dana"
    # Nor does the next quarter's report count it: alex's turn as IC, and three 2026-Q4 drills
    # to compare 2027-Q1's one with (before: '| alex | ... | 1 | 1 | 2 |', and -2 drills run).
    store.record(*_article(), conducted="2027-01-13")
    assert runner.invoke(main, ["report", "quarter", "2027-Q1", "--out", "r"]).exit_code == 0
    report = (tmp_path / "r" / "report.md").read_text()
    assert "| Drills run | 1 (1 with people, 0 simulated) | no change |" in report
    assert "| alex | - | - | - | - | 1 | 1 |" in report


def test_an_old_plan_naming_a_scenario_since_removed_still_drops_its_duplicates(tmp_path, drill_store, write,
                                                                                 monkeypatch):
    # The rotation reads every recorded quarter's plan for its duplicates; a scenario the team has
    # since taken out of scenarios/ made it refuse to run ('no such scenario file').
    monkeypatch.chdir(tmp_path)
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "drills").mkdir()
    retired = tmp_path / "scenarios" / "retired.yaml"
    retired.write_text((SCENARIOS / "checkout-config-push.yaml").read_text())
    plan_file = write("drills/2026-Q3.yaml", """
        drills:
          - {date: 2026-07-15, scenario: retired, seed: 1}
    """)
    runner = CliRunner()
    for out in ("a", "b"):
        ran = runner.invoke(main, ["run", "--plan", str(plan_file), "--entry", "1", "--out", out])
        assert ran.exit_code == 0, ran.output
    retired.unlink()
    rotation = runner.invoke(main, ["rotation", "--quarter", "2026-Q3"])
    assert rotation.exit_code == 0, rotation.output
    assert rotation.output.splitlines()[0] == ("IC rotation at the end of 2026-Q3: 1 drill(s) recorded; in 2026-Q3 "
                                               "0 with people, 1 simulated (bots only: nobody's turn)")


def test_a_planned_drill_seats_the_planned_people_at_any_severity(tmp_path, drill_store, write, monkeypatch):
    monkeypatch.chdir(tmp_path)
    # sev4-internal-tooling, seed 1: the on-call declares a SEV4, which needs no roles; still the
    # plan's dana is IC, priya comms and jo ops (jo is not on call: the primary pager is moved to him).
    plan_file = write("2027-Q1.yaml", """
        drills:
          - {date: 2027-01-13, scenario: sev4-internal-tooling, seed: 1, roles: {ic: dana, comms: priya, ops: jo}}
          - {date: 2027-02-10, scenario: false-alarm-noise, seed: 1, roles: {ic: dana, comms: priya, ops: jo}}
    """)
    runner = CliRunner()
    for entry in ("1", "2"):
        ran = runner.invoke(main, ["run", "--plan", str(plan_file), "--entry", entry, "--out", entry,
                                   "--roster", str(REPO / "drills" / "roster.yaml")])
        assert ran.exit_code == 0, ran.output
    kept, stood_down = store.drills()
    assert kept.metrics["declared_severity"] == "SEV4"
    assert (kept.lead("ic"), kept.lead("comms"), kept.lead("ops")) == ("dana", "priya", "jo")
    assert kept.plan_deviations == ()
    assert stood_down.plan_deviations == tuple(
        f"{role}: planned {who}, no incident was declared, so nobody held a role"
        for role, who in (("ic", "dana"), ("comms", "priya"), ("ops", "jo")))
    history = runner.invoke(main, ["history"]).output.splitlines()
    assert history[2].endswith("simulated: bots only; off plan: ic: planned dana, no incident was declared, so nobody "
                               "held a role; comms: planned priya, no incident was declared, so nobody held a role; "
                               "ops: planned jo, no incident was declared, so nobody held a role")


def test_deviations_say_who_led_instead_and_why():
    events = [{"t": 0, "kind": "incident.declared"},
              {"t": 0, "kind": "role.assigned", "role": "ic", "who": "jo"},
              {"t": 60, "kind": "role.assigned", "role": "ic", "who": "dana"},
              {"t": 100, "kind": "role.assigned", "role": "ops", "who": "lee"},
              {"t": 600, "kind": "incident.resolved"}]
    # IC: jo 60 s, dana 540 s: dana leads as planned. Ops: lee, though kim was planned.
    assert plan.deviations({"ic": "dana", "ops": "kim", "comms": "sam"}, events) == [
        "ops: planned kim, kim was never given the role; lee led it", "comms: planned sam, nobody held the role"]
    assert plan.deviations({"ic": "jo"}, events) == ["ic: planned jo, jo held it 1m, dana longer"]


def test_a_drill_of_record_reads_as_held_on_its_own_day(tmp_path, drill_store, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    ran = runner.invoke(main, ["run", "--seed", "1", "--date", "2026-11-11", "--out", "a"])
    assert ran.exit_code == 0, ran.output
    assert "#inc-2026-11-11-checkout" in ran.output and "2026-04-20" not in ran.output
    events = store.events(1)
    assert all(e["at"].startswith("2026-11-11") for e in events[:5])
    booked = store.drill(1).metrics["postmortem_date"]
    assert "2026-11-11" < booked <= "2026-11-18"  # within 5 business days of Wednesday 11 November
    # The article's script books the postmortem 3 business days after its Monday 20 April;
    # replayed on Wednesday 20 May it books Monday 25 May (Thu, Fri, Mon), still in time.
    ran = runner.invoke(main, ["run", "checkout-config-push", "--script", str(DATA / "article.yaml"),
                               "--date", "2026-05-20", "--out", "b"])
    assert ran.exit_code == 0, ran.output
    replay = store.drill(2)
    assert replay.metrics["postmortem_date"] == "2026-05-25" and replay.checklist["postmortem_scheduled"] is True
    assert "14:52 UTC - SEV1 declared by dana, incident channel #inc-2026-05-20-checkout opened" in ran.output


def test_a_real_incident_is_recorded_once_and_counted_once(tmp_path, drill_store):
    import sqlite3

    real = str(SCENARIOS / "real" / "slack-2021-01-04")
    record = ["record-incident", real + ".yaml", "--script", real + ".script.yaml"]
    runner = CliRunner()
    assert runner.invoke(main, [*record, "--out", str(tmp_path / "r1")]).exit_code == 0
    again = runner.invoke(main, [*record, "--out", str(tmp_path / "r2")])
    # it was kept twice, and the quarterly report counted "Real incidents (2)"
    assert again.exit_code == 2
    assert again.output.startswith("Error: real incident slack-2021-01-04 (started 2021-01-04T14:55:00Z) is already "
                                   "recorded, as real incident 1 (recorded ")
    assert again.output.endswith(': to replace it, drill void 1 --reason "recorded again", then record it again\n')
    assert not (tmp_path / "r2").exists() and [d.id for d in store.drills(real=True)] == [1]
    # Its replay as a drill of record (on its day, or today) would count it again, as a drill.
    for held in (["--date", "2021-01-04"], ["--record"]):
        drilled = runner.invoke(main, ["run", real + ".yaml", "--script", real + ".script.yaml", *held,
                                       "--out", str(tmp_path / "d0")])
        assert drilled.exit_code == 2 and "slack-2021-01-04 (started 2021-01-04T14:55:00Z) is real incident 1 (recorded " \
            in drilled.output and "drill it with its drill version (drill import incident --as-drill)" in drilled.output
    assert not (tmp_path / "d0").exists() and store.drills() == []
    assert runner.invoke(main, ["void", "1", "--reason", "recorded again"]).exit_code == 0
    replaced = runner.invoke(main, [*record, "--out", str(tmp_path / "r2")])
    assert "Recorded as real incident 2 (conducted 2021-01-04)" in replaced.output
    # A store written before the refusal holds it twice: the report and history count it once.
    with sqlite3.connect(drill_store) as conn:
        columns = [c[1] for c in conn.execute("PRAGMA table_info(drills)") if c[1] != "id"]
        conn.execute(f"INSERT INTO drills ({', '.join(columns)}) SELECT {', '.join(columns)} FROM drills WHERE id = 2")
    assert [d.id for d in store.drills(real=True)] == [2, 3]
    runner.invoke(main, ["run", "sev3-worsening", "--seed", "1", "--date", "2021-02-10", "--out", str(tmp_path / "d")])
    assert runner.invoke(main, ["report", "quarter", "2021-Q1", "--out", str(tmp_path / "q")]).exit_code == 0
    assert "| Measure | Drills (1) | Real incidents (1) |" in (tmp_path / "q" / "report.md").read_text(encoding="utf-8")
    notes = {line.split()[0]: line for line in runner.invoke(main, ["history"]).output.splitlines()[1:]}
    assert notes["1"].endswith("VOID: recorded again") and notes["2"].endswith("real incident: no drill, nobody's turn")
    assert notes["3"].endswith("real incident recorded again: counted once (void this one)")


def test_a_real_incident_recorded_as_a_drill_first_is_named(tmp_path, drill_store):
    real = str(SCENARIOS / "real" / "slack-2021-01-04")
    runner = CliRunner()
    drilled = runner.invoke(main, ["run", real + ".yaml", "--script", real + ".script.yaml", "--date", "2021-01-04",
                                   "--out", str(tmp_path / "d")])
    assert "Recorded as drill 1" in drilled.output
    kept = runner.invoke(main, ["record-incident", real + ".yaml", "--script", real + ".script.yaml",
                                "--out", str(tmp_path / "r")])
    assert kept.exit_code == 2 and "is already recorded, as drill 1 (recorded " in kept.output
    assert 'drill void 1 --reason "the real incident, not a drill", then record it again' in kept.output
