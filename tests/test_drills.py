"""Whole drills: determinism, and every shipped scenario running to a score."""

import pytest

from sim import load_scenario, run_drill, score
from sim.inputs.config import Process

from .conftest import SCENARIOS

SHIPPED = sorted(SCENARIOS.glob("*.yaml"))


def test_same_scenario_and_seed_give_a_byte_identical_event_log():
    scenario = load_scenario(SCENARIOS / "checkout-config-push.yaml")
    first = run_drill(scenario, seed=7).jsonl()
    again = run_drill(load_scenario(SCENARIOS / "checkout-config-push.yaml"), seed=7).jsonl()
    assert first == again
    assert first != run_drill(scenario, seed=8).jsonl()


def test_the_library_has_the_stories_the_team_needs():
    assert len(SHIPPED) >= 8
    kinds = {f.kind for path in SHIPPED for f in load_scenario(path).faults}
    assert kinds >= {"bad_deploy", "config_push", "database_overload", "traffic_spike", "region_failure",
                     "abusive_traffic", "memory_leak", "dependency_outage"}
    truths = [load_scenario(path).truth for path in SHIPPED]
    assert any(t.false_alarm for t in truths)
    assert any(t.severity == "SEV4" for t in truths)
    assert any(t.severity == "SEV3" and t.final_severity for t in truths)


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_every_shipped_scenario_runs_to_a_score(path):
    scenario = load_scenario(path)
    result = run_drill(scenario, seed=1)
    card = score(result.events, scenario, Process())
    assert 0 <= card["score"] <= 100
    assert result.events[-1]["kind"] == "drill.ended"
    if scenario.truth.false_alarm:
        assert card["metrics"]["false_alarm_handled"], "the bots should stand a false alarm down"
    else:
        assert card["metrics"]["time_to_declare_s"] is not None, "the bots should declare a real incident"


def test_event_log_does_not_depend_on_the_interpreter_hash_seed(tmp_path):
    import os
    import subprocess
    import sys

    logs = []
    for hash_seed in ("1", "2"):
        out = tmp_path / hash_seed
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        subprocess.run([sys.executable, "-c", "from sim.cli import main; main()", "run", "memory-leak-restart",
                        "--seed", "5", "--out", str(out)], check=True, env=env, capture_output=True)
        logs.append((out / "events.jsonl").read_bytes())
    assert logs[0] == logs[1]
