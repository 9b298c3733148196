"""Our files follow the ecosystem's formats: checked against real files from ../shared/fixtures."""

import pytest
import yaml

from sim import load_scenario, load_script, run_drill

from .conftest import DATA, FIXTURES, needs_fixtures

pytestmark = needs_fixtures


def test_an_alertmanager_route_can_be_pasted_into_a_scenario(write):
    config = yaml.safe_load((FIXTURES / "alertmanager" / "alertmanager_config_simple.yml").read_text())
    route = {k: config["route"][k] for k in ("group_by", "group_wait", "group_interval", "repeat_interval")}
    text = (DATA / "tiny.yaml").read_text() + "monitoring: " + yaml.safe_dump(route, default_flow_style=True)
    scenario = load_scenario(write("am.yaml", text))
    m = scenario.monitoring
    assert (m.group_by, m.group_wait, m.group_interval, m.repeat_interval) == (
        ("alertname", "cluster", "service"), 30.0, 300.0, 3 * 3600.0)
    events = run_drill(scenario, script=load_script(DATA / "quiet.yaml", scenario.start)).events
    groups = {e["group"] for e in events if e["kind"] == "notification.sent"}
    # grouped by alert name as well as service: the error alert and the CPU blip notify apart; as in
    # Alertmanager, a group's labels are those of the group_by labels the alerts have (no cluster)
    assert groups == {"{alertname=ApiErrors,service=api}", "{alertname=ApiCPU,service=api}"}


def test_prometheus_alerting_rule_fields_load_as_ours(write):
    rules = yaml.safe_load((FIXTURES / "prometheus" / "prometheus_rules_promtool_testdata.yml").read_text())
    rule = next(r for g in rules["groups"] for r in g["rules"] if r.get("alert") == "InstanceDown")
    # PromQL itself is out of scope: the expression becomes one over a service metric.
    ours = {**rule, "expr": 'error_rate{service="api"} > 0.05'}
    ours["labels"] = {**rule["labels"], "instance": "api-1"}
    text = (DATA / "tiny.yaml").read_text().split("alerts:")[0] + "alerts:\n" + yaml.safe_dump([ours])
    text += "truth: {severity: SEV2}\n"
    scenario = load_scenario(write("prom.yaml", text))
    loaded = scenario.alerts[0]
    assert (loaded.name, loaded.for_s, loaded.severity) == ("InstanceDown", 300.0, "page")
    events = run_drill(scenario, script=load_script(DATA / "quiet.yaml", scenario.start)).events
    firing = next(e for e in events if e["kind"] == "alert.firing")
    assert firing["summary"] == "Instance api-1 down"
    assert firing["t"] == 75 + 300  # pending at 75 s, firing once it held for the rule's 5m
    page = next(e for e in events if e["kind"] == "page.sent")
    assert page["urgency"] == "high"  # severity: page pages, as in the fixture
