"""The drill command as a user runs it."""

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from sim.cli import main

from .conftest import DATA, REPO


def test_run_writes_every_output_and_prints_the_scorecard(tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["run", "--seed", "3", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Score:" in result.output
    assert "Alert fires: checkout error rate > 5%" in result.output
    assert sorted(p.name for p in out.iterdir()) == ["events.jsonl", "report.md", "score.json", "timeline.png"]
    card = json.loads((out / "score.json").read_text())
    assert card["scenario"] == "checkout-config-push" and card["seed"] == 3
    assert set(card) >= {"metrics", "checklist", "score"}
    report = (out / "report.md").read_text()
    assert "## Postmortem draft" in report and "### 7. Action items" in report
    assert (out / "timeline.png").read_bytes().startswith(b"\x89PNG")
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_run_json_prints_score_json(tmp_path):
    result = CliRunner().invoke(main, ["run", "checkout-config-push", "--script", str(DATA / "article.yaml"),
                                       "--out", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    card = json.loads(result.output)
    assert card["metrics"]["time_to_declare_s"] == 285
    assert card == json.loads((tmp_path / "score.json").read_text())


def test_validate_reports_problems_and_exits_2(write):
    bad = write("bad.yaml", "start: 2026-04-20T14:40:00Z\nservices:\n  a: {team: t, depends_on: [zz]}\ntruth: {severity: SEV2}\n")
    result = CliRunner().invoke(main, ["validate", str(REPO / "scenarios" / "checkout-config-push.yaml"), str(bad)])
    assert result.exit_code == 2
    assert "checkout-config-push.yaml: ok (scenario)" in result.output
    assert f"{bad}:3: services.a.depends_on: unknown service 'zz'" in result.output
    assert "Traceback" not in result.output


def test_validate_accepts_a_script_with_iso_times_that_a_run_accepts(write, tmp_path):
    # Alone, a script has no start to place an ISO time against: its form is checked, the rest when it runs.
    script = write("iso.yaml", """
        participants: [{name: dana, oncall: primary}]
        actions:
          - {at: "2026-04-20T14:49:00Z", by: dana, do: ack}
          - {at: "2026-04-20T14:53:00Z", by: dana, do: declare, severity: SEV1}
          - {at: "+20m", by: dana, do: update, status: investigating, summary: x, next_update: "2026-04-20T15:30:00Z"}
        """)
    run = CliRunner().invoke(main, ["run", "checkout-config-push", "--script", str(script), "--out", str(tmp_path / "o")])
    assert run.exit_code == 0, run.output
    result = CliRunner().invoke(main, ["validate", str(script)])
    assert result.exit_code == 0, result.output
    assert f"{script}: ok (script)" in result.output
    bad = write("bad.yaml", script.read_text().replace("T14:53:00Z", "T25:53:00Z"))
    result = CliRunner().invoke(main, ["validate", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}:4: actions: expected a time such as 14:49" in result.output


@pytest.mark.parametrize("command", [["scenarios"], ["history"]])
def test_output_into_a_closed_pipe_stops_quietly(command, tmp_path):
    # `drill scenarios | head -1` where head has gone before drill writes: the reader closes the pipe at once.
    child = subprocess.Popen([sys.executable, "-m", "sim.cli", *command], cwd=tmp_path,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    child.stdout.close()
    err = child.stderr.read().decode()
    child.stderr.close()
    assert child.wait() == 141, err  # 128 + SIGPIPE, as a shell reports for other tools
    assert err == ""


@pytest.mark.parametrize("importer, source, does, where, outs", [
    ("alertmanager", "route: {receiver: pager}\nreceivers: [{name: pager}]\n",
     "every drill run here routes its alerts with it", "drills/monitoring/alertmanager.yml",
     {"elsewhere.yml": False, "drills/monitoring/team.yml": False, "drills/monitoring/alertmanager.yml": True}),
    ("prometheus", "groups: [{name: g, rules: [{alert: Down, expr: up == 0}]}]\n",
     "every drill run here evaluates its rules", "the *.yml and *.yaml rule files in drills/monitoring/",
     {"elsewhere.yml": False, "drills/monitoring/team.txt": False, "drills/monitoring/team.yml": True}),
], ids=["alertmanager", "prometheus"])
def test_an_import_says_drills_use_its_file_only_where_drills_read_it(importer, source, does, where, outs, tmp_path,
                                                                      monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "drills" / "monitoring").mkdir(parents=True)
    (tmp_path / "in.yml").write_text(source)
    for out, read in outs.items():
        out = tmp_path / out  # as a user names it: any path, here absolute
        result = CliRunner().invoke(main, ["import", importer, "in.yml", "--out", str(out)])
        assert result.exit_code == 0, result.output
        said = f"Wrote {out}; " + (does if read else f"drills run here do not read it: they read {where}")
        assert said in result.output, result.output


def test_a_missing_scenario_is_a_clear_error():
    result = CliRunner().invoke(main, ["run", "no-such-scenario"])
    assert result.exit_code == 2
    assert "no-such-scenario: no such scenario file" in result.output
    assert "Traceback" not in result.output


def test_a_date_off_the_calendar_is_shown_as_typed():
    result = CliRunner().invoke(main, ["run", "--date", "9999-12-31"])
    assert result.exit_code == 2
    assert "Invalid value for '--date': expected a date from 1900 to 8999, got '9999-12-31'" in result.output


def test_a_live_name_that_is_not_utf8_is_refused_before_the_drill():
    # the name seeds the drill's random streams and is journaled: a byte that is not UTF-8 was a traceback at the start
    result = CliRunner().invoke(main, ["live", "--name", "a\udcff"])
    assert result.exit_code == 2 and "Invalid value for '--name': 'a\\udcff' is not UTF-8 text" in result.output
