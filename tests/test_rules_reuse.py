"""The rules' reuse of results at its edges, and a recording rule's labels. Each drill's events
are checked equal to those of evaluating every rule afresh at every tick."""

import shutil
from dataclasses import replace

import pytest

from sim import load_scenario
from sim.inputs.config import Script
from sim.inputs.promrules import PromRule, RuleGroup
from sim.model.engine import Drill
from sim.model.monitoring import rules as rules_module
from sim.model.monitoring.rules import fingerprint

from .test_humanize import assert_promtool_renders
from .test_promql_repeat import SCENARIO, alert, times


def record(name, expr, labels=None):
    return PromRule("record", name, expr, 0.0, 0.0, labels or {}, {})


def same_as_every_tick(tmp_path, monkeypatch, rules, text=SCENARIO, **monitoring):
    """The drill of ``rules`` (one group's, or groups), checked to give the events of evaluating
    every rule afresh at every tick (no period)."""
    path = tmp_path / "scenario.yaml"
    path.write_text(text)
    base = load_scenario(path)
    groups = tuple(rules) if isinstance(rules[0], RuleGroup) else (RuleGroup("g", None, tuple(rules)),)
    scenario = replace(base, rules=groups, monitoring=replace(base.monitoring, **monitoring))
    runs = []
    for repeat in (True, False):
        with monkeypatch.context() as patch:
            if not repeat:
                patch.setattr(rules_module, "_period", lambda scrape, intervals: None)
            runs.append(Drill(scenario, script=Script((), ()), samples=False))
            runs[-1].run()
    assert runs[0].log.events == runs[1].log.events
    return runs[0]


# A recording rule's labels as written: Prometheus templates an alerting rule's labels only
# (rules/recording.go sets them as they are), and a label set empty is removed.
LITERAL = {"source": "{{ $labels.service }}", "level": "{{ $value }}", "job": ""}


def test_a_recording_rules_labels_are_set_as_written(tmp_path, monkeypatch):
    rules = [record("api:up", 'up{service="api"}', LITERAL), alert("Recorded", "api:up == 1")]
    run = same_as_every_tick(tmp_path, monkeypatch, rules)
    labels = {"service": "api", "team": "web", "source": "{{ $labels.service }}", "level": "{{ $value }}",
              "alertname": "Recorded"}
    assert [a.labels for a in run.monitoring.rules.alerts] == [labels]
    assert times(run, "Recorded") == [("alert.pending", 0), ("alert.firing", 0)]
    assert next(e for e in run.log.events if e["kind"] == "alert.firing")["fingerprint"] == fingerprint(labels)


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is not installed")
def test_a_recording_rules_labels_are_set_as_written_by_promtool_too(tmp_path):
    series = [{"series": 'up{service="api", job="api", team="web"}', "values": "1 1"}]
    rules = [{"record": "api:up", "expr": 'up{service="api"}', "labels": LITERAL},
             {"alert": "Recorded", "expr": "api:up == 1"}]
    labels = {"service": "api", "team": "web", "source": "{{ $labels.service }}", "level": "{{ $value }}"}
    assert_promtool_renders(tmp_path, series, rules, [{"eval_time": "1m", "alertname": "Recorded",
                                                       "exp_alerts": [{"exp_labels": labels}]}])
