"""A finished drill's updates and pages in Statuspage's and PagerDuty's formats, checked
against the real bodies in ../shared/fixtures."""

import json

import pytest
from click.testing import CliRunner

from sim import load_scenario, run_drill, score
from sim.cli import main
from sim.outputs.formats import pagerduty_events, statuspage_incident
from sim.records import store

from .conftest import FIXTURES, SCENARIOS, needs_fixtures



@pytest.fixture(scope="module")
def drill():
    scenario = load_scenario(SCENARIOS / "checkout-config-push.yaml")
    return scenario, run_drill(scenario, seed=0)


def shape(value):
    """The JSON types of an object, recursively (lists by their first item)."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


def same_shape(ours, theirs, where=""):
    """Every key of the real body is in ours, with a value of the same JSON type (null allowed)."""
    for key, value in theirs.items():
        assert key in ours, f"{where}{key} missing"
        if key == "custom_details":
            continue  # free-form by design: ours names the drill and the page
        if isinstance(value, dict) and ours[key] is not None:
            same_shape(ours[key], value, f"{where}{key}.")
        elif value is not None and ours[key] is not None and not isinstance(value, list):
            assert type(ours[key]) is type(value), f"{where}{key}: {type(ours[key])} vs {type(value)}"


def test_public_updates_become_statuspage_incident_updates_newest_first(drill):
    scenario, result = drill
    incident = statuspage_incident(result.events, "7", scenario.title)
    posted = [e for e in result.events if e["kind"] == "update.posted"]
    # seed 0: sam's updates to the channel (identified 14:56:26, resolved 15:09:22) and to the status
    # page (mitigating 14:57:52, resolved 15:15:36: the drill waits for the last one)
    assert [(e["at"], e["audience"], e["status"]) for e in posted] == [
        ("2026-04-20T14:56:26Z", "internal", "identified"), ("2026-04-20T14:57:52Z", "public", "mitigating"),
        ("2026-04-20T15:09:22Z", "internal", "resolved"), ("2026-04-20T15:15:36Z", "public", "resolved")]
    assert [(u["status"], u["created_at"]) for u in incident["incident_updates"]] == [
        ("resolved", "2026-04-20T15:15:36.000Z"), ("monitoring", "2026-04-20T14:57:52.000Z")]
    assert incident["incident_updates"][1]["body"] == "[DRILL] " + posted[1]["summary"]
    assert incident["name"] == "[DRILL] " + scenario.title
    # the page is resolved by its own resolved update, after the IC resolved the drill (15:07:10)
    assert (incident["status"], incident["resolved_at"]) == ("resolved", "2026-04-20T15:15:36.000Z")
    resolved = next(e for e in result.events if e["kind"] == "incident.resolved")
    assert resolved["at"] == "2026-04-20T15:07:10Z"
    assert incident["metadata"] == {"drill": {"id": "7", "resolved_at": "2026-04-20T15:07:10.000Z"}}
    assert result.events[-1]["kind"] == "drill.ended" and result.events[-1]["at"] == "2026-04-20T15:15:36Z"


def test_the_incident_channel_never_reaches_the_status_page():
    declared = {"at": "2026-04-20T15:00:00Z", "kind": "incident.declared"}
    channel = {"at": "2026-04-20T15:01:00Z", "kind": "update.posted", "status": "identified", "audience": "internal",
               "summary": "the gateway's config push from deploy 4411 broke TLS to bank-b"}
    unmarked = {"at": "2026-04-20T15:02:00Z", "kind": "update.posted", "status": "resolved", "summary": "s"}
    incident = statuspage_incident([declared, channel, unmarked], "7", "t")
    assert incident["incident_updates"] == [] and incident["status"] == "investigating"
    assert "4411" not in json.dumps(incident)


def test_the_page_is_resolved_only_by_a_resolved_update():
    def ev(at, kind, status=None):
        return {"at": f"2026-04-20T15:{at}:00Z", "kind": kind, "summary": "s",
                **({"status": status, "audience": "public"} if status else {})}

    declared = [ev("00", "incident.declared"), ev("01", "update.posted", "investigating"),
                ev("05", "update.posted", "mitigating")]
    # The drill resolved at 15:10 and nobody posted "resolved": the page still says monitoring.
    unsaid = statuspage_incident(declared + [ev("10", "incident.resolved")], "7", "t")
    assert (unsaid["status"], unsaid["resolved_at"]) == ("monitoring", None)
    assert unsaid["metadata"]["drill"]["resolved_at"] == "2026-04-20T15:10:00.000Z"
    # Resolved at 15:12, said so again at 15:20: the page resolved with the first.
    said = statuspage_incident(declared + [ev("10", "incident.resolved"), ev("12", "update.posted", "resolved"),
                                           ev("20", "update.posted", "resolved")], "7", "t")
    assert (said["status"], said["resolved_at"]) == ("resolved", "2026-04-20T15:12:00.000Z")
    # Reopened after its resolved update, and said so: neither the page nor the drill is resolved.
    reopened = statuspage_incident(declared + [ev("10", "incident.resolved"), ev("12", "update.posted", "resolved"),
                                               ev("15", "incident.reopened"), ev("16", "update.posted", "investigating")],
                                   "7", "t")
    assert (reopened["status"], reopened["resolved_at"]) == ("investigating", None)
    assert reopened["metadata"] == {"drill": {"id": "7"}}


def test_the_declared_service_is_the_component_each_public_update_sets():
    def ev(at, kind, **fields):
        return {"at": f"2026-04-20T15:{at}:00Z", "kind": kind, "summary": "s", **fields}

    def public(at, status, severity):
        return ev(at, "update.posted", status=status, severity=severity, audience="public")

    events = [ev("00", "incident.declared", severity="SEV2", service="checkout"),
              public("01", "investigating", "SEV2"),
              ev("03", "severity.changed", **{"from": "SEV2", "to": "SEV1"}),
              ev("04", "update.posted", status="identified", severity="SEV1", audience="internal"),
              public("05", "mitigating", "SEV1"), public("09", "resolved", "SEV1")]
    incident = statuspage_incident(events, "7", "t")
    # SEV2 is a partial outage, SEV1 a major one, resolved operational; the channel's update sets nothing
    assert [[(c["name"], c["old_status"], c["new_status"]) for c in u["affected_components"]]
            for u in incident["incident_updates"][::-1]] == [
        [("checkout", "operational", "partial_outage")], [("checkout", "partial_outage", "major_outage")],
        [("checkout", "major_outage", "operational")]]
    component = incident["components"]
    assert [(c["name"], c["status"], c["updated_at"], c["position"]) for c in component] == [
        ("checkout", "operational", "2026-04-20T15:09:00.000Z", 1)]
    assert {c["code"] for u in incident["incident_updates"] for c in u["affected_components"]} == {component[0]["id"]}
    assert incident["impact"] == "critical"  # the worst while it lasted: a major outage
    # A process's own levels, most severe first: P3 is their third, degraded performance, a minor impact.
    p3 = [ev("00", "incident.declared", severity="P3", service="search"), public("02", "identified", "P3")]
    mine = statuspage_incident(p3, "7", "t", ["P1", "P2", "P3", "P4", "P5"])
    assert [(c["name"], c["status"]) for c in mine["components"]] == [("search", "degraded_performance")]
    assert mine["impact"] == "minor"
    # On the built-in scale a level it does not know shows degraded performance, as its lowest
    assert statuspage_incident(p3, "7", "t")["components"][0]["status"] == "degraded_performance"
    # No declaration (an update before it, or a drill that never declared): no component, no impact
    bare = statuspage_incident([public("01", "investigating", "SEV1")], "7", "t")
    assert (bare["components"], bare["impact"], bare["incident_updates"][0]["affected_components"]) == ([], "none", [])


def test_drill_show_exports_the_components_at_the_processs_levels(drill, tmp_path):
    scenario, result = drill
    drill_id = store.record(result, score(result.events, scenario, result.process), path=tmp_path / "d.db")
    declared = next(e for e in result.events if e["kind"] == "incident.declared")
    assert (declared["service"], declared["severity"]) == ("checkout", "SEV1")  # seed 0
    shown = CliRunner().invoke(main, ["show", str(drill_id), "--store", str(tmp_path / "d.db"), "--export", "statuspage"])
    assert shown.exit_code == 0, shown.output
    incident = json.loads(shown.output)
    # mitigating at SEV1 (a major outage), then resolved
    assert [[(c["old_status"], c["new_status"]) for c in u["affected_components"]]
            for u in incident["incident_updates"][::-1]] == [[("operational", "major_outage")],
                                                             [("major_outage", "operational")]]
    assert incident["impact"] == "critical"
    # With a process of two levels whose second is SEV1, the same updates show a partial outage.
    process = tmp_path / "two.yaml"
    process.write_text("severities:\n  SEV0: {response: 5m, cadence: [10m, 20m], roles: [ic, comms, ops], "
                       "postmortem: true}\n  SEV1: {response: 15m, cadence: 30m, roles: [], postmortem: true}\n")
    shown = CliRunner().invoke(main, ["show", str(drill_id), "--store", str(tmp_path / "d.db"), "--export", "statuspage",
                                      "--process", str(process)])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["impact"] == "major"
    refused = CliRunner().invoke(main, ["show", str(drill_id), "--store", str(tmp_path / "d.db"), "--process",
                                        str(process)])
    assert refused.exit_code == 2 and "--process goes with --export statuspage" in refused.output


def test_pages_become_pagerduty_events_with_one_dedup_key_per_page(drill):
    _, result = drill
    bodies = pagerduty_events(result.events, "7", "key")
    sent = [e for e in result.events if e["kind"] == "page.sent"]
    triggers = [b for b in bodies if b["event_action"] == "trigger"]
    assert [b["dedup_key"] for b in triggers] == [f"drill-7-{e['page']}" for e in sent]
    assert [b["payload"]["severity"] for b in triggers] == [{"high": "critical", "low": "warning"}[e["urgency"]]
                                                             for e in sent]
    acked = [b["dedup_key"] for b in bodies if b["event_action"] == "acknowledge"]
    assert acked == [f"drill-7-{e['page']}" for e in result.events if e["kind"] == "page.acked"]
    text = json.dumps(bodies)
    assert "cause" not in text and "gateway-config-push" not in text  # the scenario's truth stays out


@needs_fixtures
def test_the_bodies_have_the_shape_of_the_real_ones(drill):
    scenario, result = drill
    bodies = pagerduty_events(result.events, "7", "key")
    for action in ("trigger", "acknowledge", "resolve"):
        real = json.loads((FIXTURES / "pagerduty" / f"pagerduty_events_v2_{action}.json").read_text())
        ours = next(b for b in bodies if b["event_action"] == action)
        same_shape(ours, {k: v for k, v in real.items() if k != "client_url"})  # we link to no console
    real = json.loads((FIXTURES / "statuspage" / "statuspage_incident_object_resolved.json").read_text())
    ours = statuspage_incident(result.events, "7", scenario.title)
    for key in ("id", "name", "status", "impact", "created_at", "resolved_at", "monitoring_at", "incident_updates",
                "components", "metadata"):
        assert key in ours
    same_shape(ours["incident_updates"][0], {k: v for k, v in real["incident_updates"][0].items()
                                             if k != "affected_components"})
    same_shape(ours["incident_updates"][0]["affected_components"][0], real["incident_updates"][0]["affected_components"][0])
    same_shape(ours["components"][0], real["components"][0])
    # the real incident's words are among those ours are drawn from (Statuspage's component statuses and impacts)
    statuses = {"operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance"}
    assert {c["status"] for c in real["components"]} <= statuses and ours["components"][0]["status"] in statuses
    assert {real["impact"], ours["impact"]} <= {"none", "minor", "major", "critical"}
    assert {u["status"] for u in real["incident_updates"]} <= {"investigating", "identified", "monitoring", "resolved"}


def test_drill_show_exports_a_recorded_drill(drill, tmp_path):
    scenario, result = drill
    drill_id = store.record(result, score(result.events, scenario, result.process), path=tmp_path / "d.db")
    runner = CliRunner()
    shown = runner.invoke(main, ["show", str(drill_id), "--store", str(tmp_path / "d.db"), "--export", "statuspage"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output) == statuspage_incident(result.events, str(drill_id), scenario.title)
    out = tmp_path / "pages.json"
    paged = runner.invoke(main, ["show", str(drill_id), "--store", str(tmp_path / "d.db"), "--export", "pagerduty",
                                 "--pagerduty-routing-key", "R0UT1NG", "--out", str(out)])
    assert paged.exit_code == 0, paged.output
    assert json.loads(out.read_text()) == pagerduty_events(result.events, str(drill_id), "R0UT1NG")


@pytest.mark.parametrize("options, refusal", [
    (["--pagerduty-routing-key", "R0UT1NG"], "--pagerduty-routing-key goes with --export pagerduty"),
    (["--export", "statuspage", "--pagerduty-routing-key", "R0UT1NG"], "--pagerduty-routing-key goes with --export pagerduty"),
    (["--out", "{tmp}/pages.json"], "--out goes with --export"),
    (["--export", "pagerduty", "--report", "{tmp}/again"], "give --export or --report, not both"),
])
def test_drill_show_refuses_an_option_it_would_ignore(drill, tmp_path, options, refusal):
    # Each was ignored: the scorecard printed (or the Statuspage incident written), exit 0, no word.
    scenario, result = drill
    drill_id = store.record(result, score(result.events, scenario, result.process), path=tmp_path / "d.db")
    shown = CliRunner().invoke(main, ["show", str(drill_id), "--store", str(tmp_path / "d.db"),
                                      *(o.format(tmp=tmp_path) for o in options)])
    assert shown.exit_code == 2 and refusal in shown.output
    assert not (tmp_path / "pages.json").exists() and not (tmp_path / "again").exists()


def test_drill_show_says_when_nothing_went_to_the_status_page(tmp_path):
    # reindex-cpu-doubt, seed 0: one update, to the incident channel, and none to the status page
    scenario = load_scenario(SCENARIOS / "reindex-cpu-doubt.yaml")
    result = run_drill(scenario, seed=0)
    drill_id = store.record(result, score(result.events, scenario, result.process), path=tmp_path / "d.db")
    shown = CliRunner().invoke(main, ["show", str(drill_id), "--store", str(tmp_path / "d.db"), "--export", "statuspage",
                                      "--out", str(tmp_path / "page.json")])
    assert shown.exit_code == 0, shown.output
    assert (f"Drill {drill_id} posted no update to the public status page (audience public); its 1 update(s) went "
            "to the incident channel, which stays in the company") in shown.output
    assert json.loads((tmp_path / "page.json").read_text())["incident_updates"] == []
