"""Chaos Toolkit experiments imported as drills: faults at the pauses' times, probes as alerts, nothing dropped."""

import json

import pytest
from click.testing import CliRunner

from sim.authoring.chaos import LEAD_IN, import_experiment, load_mapping
from sim.authoring.story import load_text
from sim.cli import main
from sim.inputs.config import Process
from sim.inputs.errors import DrillError
from sim.inputs.topology import load_topology
from sim.model.engine import run_drill
from sim.outputs.scoring import score
from sim.validate import validate

from .conftest import FIXTURES, REPO

TOPOLOGY = load_topology(REPO / "drills" / "topology.yaml")
CTK = FIXTURES / "chaostoolkit"


def fixture(name):
    path = CTK / name
    if not path.exists():
        pytest.skip(f"{path} is not available")
    return path


def runs_to_a_score(made):
    scenario = load_text(made.text, made.name)
    result = run_drill(scenario, seed=1, samples=False)
    card = score(result.events, scenario, Process())
    assert card["score"] > 0 and card["metrics"]["declared_severity"] is not None
    return scenario, card


def test_service_down_sample_becomes_a_process_kill_drill_that_runs():
    made = import_experiment(fixture("chaostoolkit_experiment_samples_service_down.json"), TOPOLOGY, target="inventory")
    scenario, card = runs_to_a_score(made)
    (fault,) = scenario.faults
    # kill_microservice is the first activity: it runs at the lead-in; its 15 s pause comes after it.
    assert (fault.kind, fault.service, fault.at) == ("process_kill", "inventory", LEAD_IN)
    assert fault.fixes == ("restart",) and fault.findings[-1].suggests == "restart"
    # Both steady-state probes became alerts: the health probe on every service the fault reaches.
    names = {rule.name for rule in scenario.alerts}
    assert "AllServicesAreHealthyInventory" in names and "ConsumerServiceMustStillRespondCheckout" in names
    assert scenario.truth.severity == "SEV1"  # checkout (critical) fails through inventory
    assert card["metrics"]["expected_severity"] == "SEV1"
    assert any("'all-services-are-healthy'" in s and "probe observes" in s for s in made.skipped)
    assert "# inventory stands in for my-provider-app of method[0]" in made.text


def test_rollout_becomes_a_bad_deploy_fixed_by_its_rollback_and_lists_what_it_cannot_map():
    made = import_experiment(fixture("chaostoolkit_experiment_playground_rollout_v4.json"), TOPOLOGY, target="catalog")
    scenario, _ = runs_to_a_score(made)
    (fault,) = scenario.faults
    assert (fault.kind, fault.service, fault.fixes) == ("bad_deploy", "catalog", ("rollback",))
    unmapped = [s for s in made.skipped if "pretend-users-in-background" in s]
    assert unmapped and "no fault kind matches" in unmapped[0]
    assert "#   " + unmapped[0] in made.text  # in the file as a comment, too
    # The Prometheus 500s probe watches the users' side: customer-facing services the fault reaches.
    assert {r.service for r in scenario.alerts if r.name.startswith("NoHttpErrors")} == {"catalog", "search"}


def test_minimal_spec_experiment_needs_a_mapping_rule_and_then_runs(write):
    path = fixture("chaostoolkit_experiment_spec_minimal.yaml")
    with pytest.raises(DrillError, match="'file-be-gone' \\(python os.remove\\): no fault kind matches"):
        import_experiment(path, TOPOLOGY)
    mapping = write("mapping.yaml", """
        actions:
          - {match: {module: os, func: remove}, kind: config_push, service: catalog}
    """)
    made = import_experiment(path, TOPOLOGY, mapping)
    scenario, _ = runs_to_a_score(made)
    assert [(f.kind, f.service) for f in scenario.faults] == [("config_push", "catalog")]
    # os.path.exists watches nothing drillsim simulates: reported, and the team's own alerts stand in.
    assert any("no service metric" in s for s in made.skipped)
    assert "standard symptom alerts were added" in made.text


EXPERIMENT = {
    "title": "Checkout survives a slow inventory",
    "steady-state-hypothesis": {"title": "fast", "probes": [
        {"type": "probe", "name": "checkout-latency", "tolerance": {"type": "range", "range": [0, 0.9], "target": "x"},
         "provider": {"type": "python", "module": "chaosprometheus.probes", "func": "query",
                      "arguments": {"query": "histogram_quantile(0.99, latency_seconds{app='checkout'})"}}}]},
    "method": [
        {"type": "action", "name": "slow-inventory", "pauses": {"before": 60, "after": 120},
         "provider": {"type": "python", "module": "chaostoxi.toxic.actions", "func": "create_latency_toxic",
                      "arguments": {"for_proxy": "inventory", "toxic_name": "slow", "latency": 900}}},
        {"type": "probe", "name": "look", "pauses": {"after": 30},
         "provider": {"type": "http", "url": "http://shop/health"}},
        {"type": "action", "name": "kill-payments", "pauses": {"before": 45, "after": "${cooldown}"},
         "provider": {"type": "process", "path": "pkill", "arguments": "-f payments"}},
    ],
}


def test_pauses_set_the_injection_times_and_range_tolerances_set_the_thresholds(tmp_path):
    path = tmp_path / "experiment.json"
    path.write_text(json.dumps(EXPERIMENT, indent=2), encoding="utf-8")
    made = import_experiment(path, TOPOLOGY)
    scenario, _ = runs_to_a_score(made)
    # 300 s lead-in + 60 s before; then 120 s after, 30 s after the probe, 45 s before the kill.
    assert [(f.kind, f.service, f.at) for f in scenario.faults] == [
        ("network_latency", "inventory", 360.0), ("process_kill", "payments", 555.0)]
    (probe_rule,) = [r for r in scenario.alerts if r.name == "CheckoutLatency"]
    assert (probe_rule.service, probe_rule.metric, probe_rule.threshold) == ("checkout", "latency_p99_ms", 900.0)
    assert scenario.services["checkout"].impact_latency_p99_ms == 900.0
    assert "method[2] pauses.after '${cooldown}' is not a number of seconds: taken as 0s" in made.skipped


def test_unknown_targets_and_bad_mappings_are_reported_with_their_lines(tmp_path, write):
    path = fixture("chaostoolkit_experiment_samples_service_down.json")
    with pytest.raises(DrillError) as info:
        import_experiment(path, TOPOLOGY)
    assert ":35: method[0]: 'stop-provider-service' acts on my-provider-app" in str(info.value)
    assert "--target" in str(info.value)
    mapping = write("m.yaml", """
        services: {my-provider-app: payment-gateway}
        actions:
          - {match: {module: os}, kind: meteor_strike}
          - {match: {colour: red}, kind: process_kill}
    """)
    with pytest.raises(DrillError) as info:
        load_mapping(mapping)
    assert "m.yaml:3: actions[0].kind: expected one of" in str(info.value)
    assert "m.yaml:4: actions[1].match: unknown field(s) colour" in str(info.value)
    assert validate(REPO / "sim" / "authoring" / "chaostoolkit.yaml") == "chaos mapping"
    mapping.write_text("services: {my-provider-app: payment-gateway}\n", encoding="utf-8")
    made = import_experiment(path, TOPOLOGY, mapping)
    assert load_text(made.text).faults[0].service == "payment-gateway"


def test_import_command_writes_the_scenario_and_lists_the_unmapped_on_stderr(tmp_path):
    out = tmp_path / "drill.yaml"
    result = CliRunner().invoke(main, ["import", "chaostoolkit", str(fixture("chaostoolkit_experiment_playground_rollout_v4.json")),
                                       "--topology", str(REPO / "drills" / "topology.yaml"), "--target", "catalog",
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "not mapped: method[1] action 'pretend-users-in-background'" in result.stderr
    assert out.exists() and result.stdout == ""
    run = CliRunner().invoke(main, ["run", str(out), "--out", str(tmp_path / "run")])
    assert run.exit_code == 0 and "Score:" in run.output


def test_two_probes_on_one_metric_put_the_impact_at_the_tighter_bound(tmp_path):
    # a p99 range of 0.8 s, then an HTTP probe with a 3 s timeout, both on checkout: the later one
    # set the impact at 3000 ms, so customers counted as affected only well after the steady state broke
    latency = {"type": "probe", "name": "checkout-latency", "tolerance": {"type": "range", "range": [0, 0.8]},
               "provider": {"type": "python", "module": "chaosprometheus.probes", "func": "query",
                            "arguments": {"query": "latency checkout"}}}
    http = {"type": "probe", "name": "http-ok", "tolerance": 200,
            "provider": {"type": "http", "url": "https://shop/checkout", "timeout": 3}}
    kill = {"type": "action", "name": "kill-db", "provider": {"type": "process", "path": "pkill", "arguments": "database"}}
    for probes in ([latency, http], [http, latency]):
        path = tmp_path / "experiment.json"
        path.write_text(json.dumps({"title": "t", "steady-state-hypothesis": {"title": "ok", "probes": probes},
                                    "method": [kill]}), encoding="utf-8")
        scenario = load_text(import_experiment(path, TOPOLOGY).text, "t")
        thresholds = sorted((r.name, r.metric, r.threshold) for r in scenario.alerts)
        assert thresholds == [("CheckoutLatency", "latency_p99_ms", 800.0), ("HttpOk", "error_rate", 0.01),
                              ("HttpOk", "latency_p99_ms", 3000.0)]
        assert scenario.services["checkout"].impact_latency_p99_ms == 800.0


def test_an_action_the_pauses_put_after_the_drill_is_listed_not_placed(tmp_path):
    # a pause of 10 h put the kill at 10h15m30s in a 3h drill: written as a fault that never started
    def kill(name, before=0):
        return {"type": "action", "name": name, "pauses": {"before": before},
                "provider": {"type": "process", "path": "pkill", "arguments": "database"}}
    path = tmp_path / "experiment.json"
    path.write_text(json.dumps({"title": "t", "method": [kill("first", 30), kill("late", 36000)]}), encoding="utf-8")
    made = import_experiment(path, TOPOLOGY)
    assert [(f.id, f.at) for f in load_text(made.text, made.name).faults] == [("fault-1", 330.0)]
    assert made.skipped == (("method[1] action 'late' (process pkill): its pauses put it at 10h5m30s, after the "
                             "drill's end at 3h"),)


def test_a_pause_out_of_range_is_named_as_such(tmp_path):
    # -60 was 'not a number of seconds', which it is
    kill = {"type": "action", "name": "kill", "pauses": {"before": -60},
            "provider": {"type": "process", "path": "pkill", "arguments": "database"}}
    path = tmp_path / "experiment.json"
    path.write_text(json.dumps({"title": "t", "method": [kill]}), encoding="utf-8")
    made = import_experiment(path, TOPOLOGY)
    assert made.skipped == ("method[0] pauses.before -60 is not a pause from 0 s to a year: taken as 0s",)
    assert [f.at for f in load_text(made.text, made.name).faults] == [300.0]


def test_a_json_experiments_numbers_are_read_as_json_reads_them(tmp_path):
    # YAML 1.1 read 1.2e2 and 6e2 as text: the pause was dropped ('is not a number of seconds') and the
    # fault lasted until mitigated instead of 10 minutes
    path = tmp_path / "experiment.json"
    path.write_text('{"title": "t", "method": [{"type": "action", "name": "kill", "pauses": {"before": 1.2e2}, '
                    '"provider": {"type": "python", "module": "chaosk8s.pod.actions", "func": "terminate_pods", '
                    '"arguments": {"name": "database", "duration": 6e2}}}]}', encoding="utf-8")
    made = import_experiment(path, TOPOLOGY)
    (fault,) = load_text(made.text, made.name).faults
    assert (fault.at, fault.duration, made.skipped) == (420.0, 600.0, ())
