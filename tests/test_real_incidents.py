"""Real incidents: imported from their records, replayed and scored as a drill is, kept apart
from the drills, and set beside them in the quarterly report.

Every expected figure below is worked out by hand from the postmortem's timeline, the way a
reader with the timeline and docs/scoring.md would: each metric counts from the alert firing
(the detection line), and cadence adherence lists the update deadlines one by one.
"""

import json
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from sim.authoring.incidents import import_incident
from sim.cli import main
from sim.inputs import config
from sim.model.engine import run_drill
from sim.outputs.scoring import score
from sim.records import plan, store

from .conftest import DATA, FIXTURES, REPO, paused_drill, still

REAL = DATA / "real"
SHIPPED = ("github-2018-10-21", "slack-2021-01-04", "aws-us-east-1-2021-12-07")


def replay(scenario_text: str, script_text: str, folder: Path) -> dict:
    (folder / "s.yaml").write_text(scenario_text, encoding="utf-8")
    (folder / "p.yaml").write_text(script_text, encoding="utf-8")
    scn = config.load_scenario(folder / "s.yaml")
    result = run_drill(scn, script=config.load_script(folder / "p.yaml", scn.start), samples=False)
    return score(result.events, scn, config.Process())


def metrics(card: dict) -> dict:
    m = card["metrics"]
    return {k: m[k] for k in ("time_to_acknowledge_s", "time_to_declare_s", "time_to_mitigate_s", "time_to_resolve_s",
                              "customer_impact_min", "actions_rejected")} | {"cadence": round(m["cadence_adherence"], 4)}


@pytest.fixture
def at_repo(monkeypatch):
    monkeypatch.chdir(REPO)  # the files name their source lines relative to the repository


@pytest.mark.parametrize("name", SHIPPED)
def test_the_shipped_replays_are_what_the_importer_writes_from_their_postmortems(name, at_repo):
    made = import_incident([Path(f"scenarios/real/{name}.md")], name=name)
    assert made.scenario == (REPO / "scenarios" / "real" / f"{name}.yaml").read_text(encoding="utf-8")
    assert made.script == (REPO / "scenarios" / "real" / f"{name}.script.yaml").read_text(encoding="utf-8")
    assert made.unmapped == [] and made.unplayed == []


# By hand from each postmortem (all UTC; "+1d" is the next day):
# GitHub: alert 22:54; ack 22:55 (1m); SEV2 23:09 (15m); the first failover 11:12+1d fixes it
# (12h18m); resolved 23:03+1d (24h9m); impact 22:52 -> 23:03+1d = 24h11m = 1451 min, as the post
# says. Updates 23:09, 23:13, 00:05, 07:46: the first deadline 23:14 is met; then (SEV1 from 23:13,
# 30m) 23:43, 00:35, 08:16 are missed, and every 30m from 08:46 to 22:46 (29 more) with no update:
# 1 of 33.
# Slack: alert 15:00; ack 15:02 (2m); SEV2 15:05 (5m); scale-out 17:15 (2h15m); resolved 20:10
# (5h10m); impact 15:00 -> 18:40 = 220 min. Deadlines: 15:10 met (15:05), then 16:05 (SEV2, 1h),
# 16:50, 17:22, 17:59, 18:30, 19:21, 19:58 (SEV1, 30m after 16:20, 16:52, 17:29, 18:00, 18:51,
# 19:28): each next update came a few minutes late: 1 of 8.
# AWS: alert 15:45; ack 15:47 (2m); SEV1 16:00 (15m); the DNS failover at 17:28 does not end it,
# blocking traffic at 18:30 does (2h45m); resolved 22:22 (6h37m); impact 15:30 -> 22:22 = 412 min;
# no update: 0 of the 13 deadlines from 16:05 every 30m to 22:05.
SHIPPED_METRICS = {
    "github-2018-10-21": {"time_to_acknowledge_s": 60.0, "time_to_declare_s": 900.0, "time_to_mitigate_s": 44280.0,
                          "time_to_resolve_s": 86940.0, "customer_impact_min": 1451.0, "actions_rejected": 0,
                          "cadence": round(1 / 33, 4)},
    "slack-2021-01-04": {"time_to_acknowledge_s": 120.0, "time_to_declare_s": 300.0, "time_to_mitigate_s": 8100.0,
                         "time_to_resolve_s": 18600.0, "customer_impact_min": 220.0, "actions_rejected": 0,
                         "cadence": round(1 / 8, 4)},
    "aws-us-east-1-2021-12-07": {"time_to_acknowledge_s": 120.0, "time_to_declare_s": 900.0, "time_to_mitigate_s": 9900.0,
                                 "time_to_resolve_s": 23820.0, "customer_impact_min": 412.0, "actions_rejected": 0,
                                 "cadence": 0.0},
}


@pytest.mark.parametrize("name", SHIPPED)
def test_a_shipped_replay_scores_the_real_incident_as_worked_out_by_hand(name):
    scn = config.load_scenario(config.scenario_path(f"real/{name}"))
    script = config.load_script(REPO / "scenarios" / "real" / f"{name}.script.yaml", scn.start)
    result = run_drill(scn, script=script, samples=False)
    assert metrics(score(result.events, scn, config.Process())) == SHIPPED_METRICS[name]


def test_the_real_incidents_are_not_part_of_the_scenario_library():
    # The library (drill scenarios, plans' random picks, the fuzzers) is the top folder only:
    # a real incident goes with its script and is reached as real/<name>.
    assert not [p for p in config.library() if "real" in p.parts]
    assert config.scenario_path("real/slack-2021-01-04").name == "slack-2021-01-04.yaml"


# The independent check: postmortems of three public incidents not used to build the importer
# (written for these tests from the public timelines), with a team mapping for Fastly's words.
# Cloudflare: alert 13:45, ack 13:46, SEV1 13:52 (7m), kill switch 14:07 (22m), resolved 14:52
# (1h7m), impact 13:42 -> 14:09 = 27 min (the post's "27 minutes"); no update: 0%.
# Fastly: alert 09:48, ack 09:49, SEV1 09:58 (10m), configuration off 10:36 (48m), resolved 12:44
# (2h56m), impact 09:47 -> 11:00 = 73 min; the 09:58 update meets 10:03, then 10:28, 10:58, 11:28,
# 11:58 and 12:28 pass without one: 1 of 6.
# GitLab: alert 23:28, ack 23:30 (2m), SEV1 23:31 (3m), the snapshot rollback 01:05+1d (1h37m),
# resolved 18:14+1d (18h46m), impact 23:27 -> 18:14+1d = 1127 min; the one update (23:40) came
# after the first deadline (23:36), and none followed: 0 of 38.
INDEPENDENT = {
    "cloudflare-2019-07-02": ({"time_to_acknowledge_s": 60.0, "time_to_declare_s": 420.0, "time_to_mitigate_s": 1320.0,
                               "time_to_resolve_s": 4020.0, "customer_impact_min": 27.0, "actions_rejected": 0,
                               "cadence": 0.0}, []),
    "fastly-2021-06-08": ({"time_to_acknowledge_s": 60.0, "time_to_declare_s": 600.0, "time_to_mitigate_s": 2880.0,
                           "time_to_resolve_s": 10560.0, "customer_impact_min": 73.0, "actions_rejected": 0,
                           "cadence": round(1 / 6, 4)}, ["Incident mitigated"]),
    "gitlab-2017-01-31": ({"time_to_acknowledge_s": 120.0, "time_to_declare_s": 180.0, "time_to_mitigate_s": 5820.0,
                           "time_to_resolve_s": 67560.0, "customer_impact_min": 1127.0, "actions_rejected": 0,
                           "cadence": 0.0},
                          ["Backups found not to be working: the last usable copy is the 6-hour-old LVM snapshot on staging",
                           "Database copy complete"]),
}


@pytest.mark.parametrize("name", INDEPENDENT)
def test_three_public_incidents_replay_as_their_timelines_say(name, tmp_path):
    expected, unmapped = INDEPENDENT[name]
    made = import_incident([REAL / f"{name}.md"], mapping=REAL / "words.yaml")
    assert [line.split(": ", 1)[1] for line in made.unmapped] == unmapped  # listed, never guessed
    assert made.unplayed == []
    assert metrics(replay(made.scenario, made.script, tmp_path)) == expected


def test_lines_only_a_teams_mapping_knows_are_listed_without_it():
    made = import_incident([REAL / "fastly-2021-06-08.md"])
    assert made.unmapped == [f"{REAL / 'fastly-2021-06-08.md'}:23: Majority of services recovered",  # file:line: text
                             f"{REAL / 'fastly-2021-06-08.md'}:24: Incident mitigated"]
    # The built-in words read "published" as a note, not an update: the script says so beside it.
    assert "Status post published (not an action)" in made.script


def test_a_pagerduty_log_replays_with_the_people_it_names(tmp_path):
    made = import_incident([REAL / "pagerduty-log-entries.json"])
    assert made.name == "1234-checkout-api-error-rate-above-5"
    assert '{name: "dana-reyes", oncall: primary}' in made.script
    assert made.unmapped == [(f"{REAL / 'pagerduty-log-entries.json'}:12: "
                              "responder_request_log_entry: Dana Reyes requested help from Payments")]
    # Trigger 09:45:00; acknowledged 09:47:30 (2m30s); the note "SEV2 declared" at 09:52 (7m); the
    # note "Rolled back" 10:12 (27m); resolved 10:41 (56m), which also ends the impact: 56 min.
    assert metrics(replay(made.scenario, made.script, tmp_path)) == {
        "time_to_acknowledge_s": 150.0, "time_to_declare_s": 420.0, "time_to_mitigate_s": 1620.0,
        "time_to_resolve_s": 3360.0, "customer_impact_min": 56.0, "actions_rejected": 0, "cadence": 0.0}


def test_an_alertmanager_history_gives_the_alert_story_and_says_it_has_no_actions(tmp_path):
    firing = {"version": "4", "status": "firing", "receiver": "pager", "alerts": [
        {"status": "firing", "labels": {"alertname": "HighErrorRate", "service": "orders"},
         "annotations": {"summary": "orders error rate above 5%"}, "startsAt": "2026-05-04T02:10:00Z",
         "endsAt": "0001-01-01T00:00:00Z", "fingerprint": "a1"}]}
    resolved = {**firing, "status": "resolved",
                "alerts": [{**firing["alerts"][0], "status": "resolved", "endsAt": "2026-05-04T02:52:00.123456789Z"}]}
    history = tmp_path / "history.jsonl"
    history.write_text(json.dumps(firing) + "\n" + json.dumps(resolved) + "\n", encoding="utf-8")
    made = import_incident([history])
    assert made.unplayed == [("no action of the team to replay in the records (an Alertmanager history, for one, "
                              "holds only alerts): give the postmortem or the PagerDuty log entries too")]
    card = replay(made.scenario, made.script, tmp_path)
    # Fired 02:10, resolved 02:52:00.12; the file keeps whole seconds, so the fault ends at 02:51:59
    # and the scrape at 02:52:00 sees the impact over: 42 min.
    assert card["metrics"]["time_to_detect_s"] == 0.0
    assert card["metrics"]["customer_impact_min"] == 42.0
    assert card["metrics"]["time_to_declare_s"] is None


def test_the_shared_alertmanager_payload_imports(tmp_path):
    payload = FIXTURES / "alertmanager" / "alertmanager_webhook_v4_resolved.json"
    if not payload.exists():
        pytest.skip("../shared/fixtures is not here")
    made = import_incident([payload])
    assert "eric-pm-kube-state-metrics" in made.scenario  # the alert's job names the service


def test_the_drill_version_hides_what_the_team_did(tmp_path, at_repo):
    out = tmp_path / "drill"
    result = CliRunner().invoke(main, ["import", "incident", "scenarios/real/slack-2021-01-04.md", "--name", "slack",
                                       "--as-drill", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["slack-drill.yaml"]  # no script: people play it
    scn = config.load_scenario(out / "slack-drill.yaml")
    assert "Provisioning" not in scn.description and "Transit" not in scn.description
    # Up to the detection it is the real incident; from there the bots (or people) respond,
    # and the fix the real team found works: the bots find it and resolve.
    events = run_drill(still(scn), seed=1, samples=False).events  # nothing drawn: the real fix works as recorded
    assert next(e for e in events if e["kind"] == "alert.firing")["at"] == "2021-01-04T15:00:00Z"
    assert any(e["kind"] == "incident.resolved" for e in events)


def test_the_drill_version_plays_live_with_a_person_on_call(tmp_path, at_repo):
    made = import_incident([Path("scenarios/real/github-2018-10-21.md")], name="github", hidden=True)
    path = tmp_path / "github-drill.yaml"
    path.write_text(made.scenario, encoding="utf-8")
    live = paused_drill(tmp_path / "live", path)
    live.advance(until=8 * 60)  # the replay opens at 22:47; the real alert fired at 22:54 (t=420)
    page = next(e for e in live.drill.log.events if e["kind"] == "page.sent")
    # A live drill is held today: the page comes at the record's time of day, on today's date.
    assert (page["to"], page["at"]) == ("ana", f"{live.scenario.start.date()}T22:54:00Z")
    assert live.act({"do": "ack", "by": "ana"}).ok  # from here on, what happens is the people's


def test_record_incident_keeps_it_apart_from_the_drills(tmp_path, drill_store, at_repo):
    runner = CliRunner()
    result = runner.invoke(main, ["record-incident", "real/slack-2021-01-04", "--script",
                                  "scenarios/real/slack-2021-01-04.script.yaml", "--out", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    assert "Recorded as real incident 1 (conducted 2021-01-04)" in result.output
    # A drill that kept its cadence (seed 1: every deadline met), beside a real incident that did not.
    runner.invoke(main, ["run", "sev3-worsening", "--seed", "1", "--date", "2021-02-10", "--out", str(tmp_path / "d")])
    assert [d.mode for d in store.drills()] == ["simulated"]  # a drill; the real incident is not one
    [real] = store.drills(real=True)
    assert (real.mode, real.conducted, real.people) == ("real", "2021-01-04", ["oncall"])
    team = config.load_roster(None, config.Process())
    rotation = plan.rotation(team, store.drills(), "2021-Q1")
    assert (rotation.drills, rotation.turns) == (1, 0)  # nobody's turn, though a person acted in it
    assert "real incident: no drill" in runner.invoke(main, ["history"]).output
    result = runner.invoke(main, ["report", "quarter", "2021-Q1", "--out", str(tmp_path / "q")])
    md = (tmp_path / "q" / "report.md").read_text(encoding="utf-8")
    assert "| Drills run | 1 (0 with people, 1 simulated)" in md
    section = md.split("## Drills against real incidents")[1]
    assert "| 2021-01-04 | Slack: trouble connecting" in section and "| 2m | 5m | 5h10m | 12% | 33% |" in section
    assert "Communicate at the defined cadence: done in 0 of 1 real incidents" in section
    assert "Drills against real incidents" in (tmp_path / "q" / "report.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("text, message", [
    ("# T\nDate: 2026-04-20\n## Timeline\n14:47 UTC Alert fires\n", "pm.md:4: a timeline line must read HH:MM UTC - what happened"),
    ("# T\nDate: 2026-04-20\n## Timeline\n14:47 PST - Alert fires\n", "pm.md:4: times are UTC; PST is not"),
    ("# T\n## Timeline\n14:47 UTC - Alert fires\n", "pm.md:1: on which day?"),
    ("# T\nDate: 2026-04-20\n## Summary\nnothing\n", "pm.md:1: no timeline"),
    ("# T\nDate: 2026-04-20\nSeverity: high\n## Timeline\n14:47 UTC - Alert fires\n", "pm.md:3: Severity: expected one of"),
    ("# T\n## Timeline\n2026-04-20 14:47 UTC - Alert fires\n2026-04-20 14:40 UTC - Ack\n", "pm.md:4: 2026-04-20 14:40 is before"),
    ("# T\nDate: 2026-02-30\n## Timeline\n14:47 UTC - Alert fires\n", "pm.md:2: Date: expected a date such as"),
    ("\udcff", "pm.md:1: not UTF-8 text"),
])
def test_a_bad_postmortem_says_where_and_what(text, message, tmp_path):
    path = tmp_path / "pm.md"
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    result = CliRunner().invoke(main, ["import", "incident", str(path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and message in result.output, result.output
    assert not (tmp_path / "o").exists()  # nothing half written


def test_a_replay_that_would_not_load_names_the_file_it_would_have_written(tmp_path):
    # An acknowledgement more than a year after detection (records of two incidents, say) gives the
    # replay an escalation timeout no scenario takes: the message points at the output, not a temporary file.
    path = tmp_path / "pm.md"
    path.write_text("# Checkout down\n## Timeline\n2025-01-01 10:00 UTC - Alert fires: checkout errors\n"
                    "2026-04-20 10:05 UTC - On-call acknowledges the page\n2026-04-20 10:30 UTC - Incident resolved\n")
    out = tmp_path / "o"
    result = CliRunner().invoke(main, ["import", "incident", str(path), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert re.search(rf"would not load, so nothing was written: {re.escape(str(out))}/checkout-down\.yaml:\d+: "
                     r"monitoring\.escalation_timeout: a duration is at most a year", result.output), result.output
    assert re.findall(r"(\S+\.yaml):\d+:", result.output) == [f"{out}/checkout-down.yaml"]  # no other file named
    assert not out.exists()


@pytest.mark.parametrize("name, text, message", [
    ("pd.json", '{"log_entries": [\n  {"type": "trigger_log_entry", "created_at": "yesterday"}\n]}',
     "pd.json:2: log_entries[0].created_at: expected an ISO 8601 UTC time"),
    ("am.json", '[{"alerts": [{"labels": {}}]}]', "am.json:1: an alert needs 'labels' and a status"),
    ("am.jsonl", '{"alerts": []}\n\n{"alerts": [{"labels": {}, "status": "firing", "startsAt": "soon"}]}\n',
     "am.jsonl:3: startsAt: expected an ISO 8601 UTC time"),
    ("pd2.json", '{"log_entries": [{"type": "trigger_log_entry", "created_at": "2026-01-01T00:00:00Z", "agent": "x", '
                 '"service": 7}]}', None),
    ("x.json", '{"a": 1,\n "b": }', "x.json:2: not JSON"),
    ("w.yaml", "lines:\n  - {match: '(', then: note}\n", "w.yaml:2: lines[0].match: not a regular expression"),
    ("w.yaml", "lines:\n  - {match: 'x', then: {do: fly}}\n", "w.yaml:2: lines[0].then: do: unknown action 'fly'"),
])
def test_a_bad_record_or_mapping_says_where_and_what(name, text, message, tmp_path):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    args = ["import", "incident", str(REAL / "cloudflare-2019-07-02.md"), "--mapping", str(path)] if name == "w.yaml" \
        else ["import", "incident", str(path)]
    result = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "o")])
    if message is None:  # odd but readable: imported, never a traceback
        assert result.exit_code == 0, result.output
        return
    assert result.exit_code == 2 and message in result.output, result.output


def test_an_action_past_the_week_a_replay_lasts_is_listed_not_dropped(tmp_path):
    path = tmp_path / "long.md"
    path.write_text("# Long\nDate: 2026-01-05\n## Timeline\n10:00 UTC - Alert fires\n10:05 UTC - SEV2 declared\n"
                    "2026-01-20 10:00 UTC - Incident resolved\n", encoding="utf-8")
    made = import_incident([path])
    assert made.unplayed == [f"{path}:6: Incident resolved -> resolve: more than 168h after the replay starts "
                             "(a drill lasts at most a week)"]


def test_the_cli_writes_both_files_and_says_what_it_could_not_map(tmp_path):
    out = tmp_path / "o"
    result = CliRunner().invoke(main, ["import", "incident", str(REAL / "fastly-2021-06-08.md"),
                                                       "--mapping", str(REAL / "words.yaml"), "--name", "fastly",
                                                       "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    assert f"not mapped: {REAL / 'fastly-2021-06-08.md'}:24: Incident mitigated" in result.stderr
    assert sorted(os.listdir(out)) == ["fastly.script.yaml", "fastly.yaml"]
    run = CliRunner().invoke(main, ["run", str(out / "fastly.yaml"), "--script", str(out / "fastly.script.yaml"),
                                    "--out", str(tmp_path / "r")])
    assert "Time to declare                  10m" in run.output


def test_a_quarter_with_only_real_incidents_says_there_is_nothing_to_set_them_beside(tmp_path, at_repo):
    runner = CliRunner()
    runner.invoke(main, ["record-incident", "real/aws-us-east-1-2021-12-07", "--script",
                         "scenarios/real/aws-us-east-1-2021-12-07.script.yaml", "--out", str(tmp_path / "r")])
    result = runner.invoke(main, ["report", "quarter", "2021-Q4", "--out", str(tmp_path / "q")])
    assert "No drills were recorded in 2021-Q4" in result.output  # a real incident is no drill
    md = (tmp_path / "q" / "report.md").read_text(encoding="utf-8")
    assert "| Time to declare (median) | - | 15m |" in md and "No drills this quarter to set them beside." in md


def test_a_teams_table_names_the_fault_kind_of_its_fix(tmp_path):
    words = tmp_path / "words.yaml"
    words.write_text("kind: words\nlines: []\nkinds: {feature_flag: cpu_stress}\n", encoding="utf-8")
    made = import_incident([REAL / "cloudflare-2019-07-02.md"], mapping=words)
    assert "kind: cpu_stress" in made.scenario  # the built-in table says database_overload


def test_records_of_one_incident_merge_in_time_order(tmp_path):
    alerts = tmp_path / "alerts.jsonl"
    alerts.write_text(json.dumps({"status": "firing", "alerts": [
        {"status": "firing", "labels": {"alertname": "OrdersErrors", "service": "orders"},
         "startsAt": "2026-05-04T02:10:00Z", "endsAt": "0001-01-01T00:00:00Z"}]}) + "\n", encoding="utf-8")
    postmortem = tmp_path / "pm.md"
    postmortem.write_text("# Orders down\nDate: 2026-05-04\n## Timeline\n02:12 UTC - On-call acknowledges the page\n"
                          "02:15 UTC - SEV2 declared\n02:40 UTC - Rolled back the orders deploy\n"
                          "02:52 UTC - Error rates back to normal; service restored and incident resolved\n",
                          encoding="utf-8")
    made = import_incident([postmortem, alerts])
    assert made.unmapped == [] and made.unplayed == []
    # The alert (from Alertmanager) fired at 02:10: ack 2m, declared 5m, rolled back 30m, resolved
    # 42m; the impact from the alert to the recovered line, 42 min.
    assert metrics(replay(made.scenario, made.script, tmp_path)) == {
        "time_to_acknowledge_s": 120.0, "time_to_declare_s": 300.0, "time_to_mitigate_s": 1800.0,
        "time_to_resolve_s": 2520.0, "customer_impact_min": 42.0, "actions_rejected": 0, "cadence": 0.0}


FIVE_LEVELS = """
    severities:
      P1: {response: 5m, cadence: [15m, 30m], roles: [ic, comms, ops], postmortem: true}
      P2: {response: 15m, cadence: [30m, 1h], roles: [ic, comms, ops], postmortem: true}
      P3: {response: 1h, cadence: 1h, roles: [], postmortem: false}
      P4: {response: 4h, cadence: 4h, roles: [], postmortem: false}
      P5: {response: 24h, cadence: 24h, roles: [], postmortem: false}
    """


def test_a_teams_postmortem_names_the_levels_of_its_own_process(tmp_path, write):
    # A team with P1 to P5 writes 'Severity: P1' and 'P2 declared'; the import took SEV1 to SEV4 only
    # ('Severity: expected one of SEV1, SEV2, SEV3, SEV4', --severity P1 refused by its choices).
    process = write("process.yaml", FIVE_LEVELS)
    pm = write("pm.md", """
        # Checkout down
        Date: 2026-04-20
        Service: checkout
        Severity: P1
        ## Timeline
        14:47 UTC - Alert fires: checkout errors
        14:49 UTC - On-call acknowledges the page
        14:52 UTC - p2 declared
        14:55 UTC - Raised to P1
        15:10 UTC - Rolled back the checkout deploy
        15:20 UTC - Incident resolved
        """)
    out = tmp_path / "o"
    result = CliRunner().invoke(main, ["import", "incident", str(pm), "--process", str(process), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "not replayed" not in result.output and "not mapped" not in result.output, result.output
    script = (out / "checkout-down.script.yaml").read_text(encoding="utf-8")
    assert '{at: "14:52", do: "declare", by: "oncall", severity: "P2",' in script
    assert '{at: "14:55", do: "severity", by: "oncall", severity: "P1"}' in script
    # The scenario is written on the built-in scale, which the team's process reads back as P1.
    scenario = (out / "checkout-down.yaml").read_text(encoding="utf-8")
    assert "#   - expected severity P1, written SEV1: a scenario gives it on the built-in scale, which a process " \
           "with levels P1, P2, P3, P4, P5 reads as P1\n" in scenario
    run = CliRunner().invoke(main, ["run", str(out / "checkout-down.yaml"), "--script", str(out / "checkout-down.script.yaml"),
                                    "--process", str(process), "--json", "--out", str(tmp_path / "r")])
    m = json.loads(run.output)["metrics"]
    assert (m["expected_severity"], m["declared_severity"], m["time_to_declare_s"], m["actions_rejected"]) == ("P1", "P2", 300.0, 0)
    # --severity takes the process's levels too, as the console does (case aside); unknown ones name them.
    again = CliRunner().invoke(main, ["import", "incident", str(pm), "--process", str(process), "--severity", "p3",
                                      "--out", str(tmp_path / "o3")])
    assert again.exit_code == 0, again.output
    assert "  severity: SEV3\n" in (tmp_path / "o3" / "checkout-down.yaml").read_text(encoding="utf-8")
    wrong = CliRunner().invoke(main, ["import", "incident", str(pm), "--process", str(process), "--severity", "SEV0",
                                      "--out", str(tmp_path / "o0")])
    assert wrong.exit_code == 2
    assert wrong.output == "Error: --severity: expected one of P1, P2, P3, P4, P5 (the process's levels), got 'SEV0'\n"
    # P5, the fifth level, has no place on the four-level scale a scenario is written in: refused, not taken as P4.
    low = CliRunner().invoke(main, ["import", "incident", str(pm), "--process", str(process), "--severity", "P5",
                                    "--out", str(tmp_path / "o5")])
    assert low.exit_code == 2 and not (tmp_path / "o5").exists()
    assert low.output == ("Error: --severity: P5 cannot be a replay's expected severity: a scenario gives it on the "
                          "built-in scale SEV1 to SEV4, whose last is the process's P4 (give --severity with a level up "
                          "to that one)\n")
