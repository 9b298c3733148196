"""The engine as setup.py compiles it (Cython) runs as its source does (the same event logs and
scorecards, byte for byte), and says which of the two runs."""

import os
import subprocess
import sys
from importlib.machinery import EXTENSION_SUFFIXES

import pytest
from click.testing import CliRunner

import sim.model.engine
from sim.cli import main

from .conftest import REPO, SCENARIOS, source_copy

BUILT = EXTENSION_SUFFIXES[0]

# Every library scenario on two seeds, and the reference with the team's PromQL rules and with
# fifty rules (benchmarks/drills_per_second.py's), as JSON lines, each with its scorecard; then
# which file ran the engine.
DRILLS = """
import json, sys, tempfile
from dataclasses import replace
from pathlib import Path
sys.path.insert(0, {benchmarks!r})
import sim.model.engine
from drills_per_second import fifty_rules, team_rules
from sim import load_scenario, run_drill, score
from sim.inputs.promrules import load_rules
repo = Path({repo!r})
drills = [(load_scenario(path), seed) for path in sorted((repo / "scenarios").glob("*.yaml")) for seed in (0, 1)]
reference = load_scenario(repo / "scenarios" / "checkout-config-push.yaml")
team = team_rules(reference)
with tempfile.TemporaryDirectory() as folder:
    (Path(folder) / "fifty.yml").write_text(fifty_rules(list(reference.services)))
    fifty = replace(reference, rules=load_rules(Path(folder) / "fifty.yml"))
drills += [(team, seed) for seed in range(3)] + [(fifty, 0)]
for scenario, seed in drills:
    result = run_drill(scenario, seed=seed)
    print(result.jsonl())
    print(json.dumps(score(result.events, scenario, result.process), sort_keys=True))  # scoring is compiled too
print(sim.model.engine.__file__)
"""


def drills(root) -> tuple[str, str]:
    """The logs of DRILLS with ``root``'s sim (-P: not the one in the folder it runs in, which holds
    the team's drills/ the scenarios read), and the engine's file."""
    script = DRILLS.format(benchmarks=str(REPO / "benchmarks"), repo=str(REPO))
    done = subprocess.run([sys.executable, "-P", "-c", script], cwd=REPO, env={**os.environ, "PYTHONPATH": str(root)},
                          capture_output=True, text=True, timeout=300, check=True)
    logs, _, engine = done.stdout.rstrip("\n").rpartition("\n")
    return logs, engine


@pytest.mark.skipif(not sim.model.engine.__file__.endswith(BUILT),
                    reason="the engine runs from its source here (installed with DRILLSIM_PURE_PYTHON=1, or no C compiler)")
def test_the_compiled_engine_logs_and_scores_what_its_source_does(tmp_path):
    source_copy(tmp_path)
    compiled, compiled_engine = drills(REPO)
    source, source_engine = drills(tmp_path)
    assert compiled_engine.endswith(BUILT) and source_engine.endswith("engine.py")
    assert compiled.count("drill.ended") == 2 * len(list(SCENARIOS.glob("*.yaml"))) + 4  # every drill ran
    assert compiled == source


def test_the_version_says_how_the_engine_runs():
    done = CliRunner().invoke(main, ["--version"])
    how = "compiled" if sim.model.engine.__file__.endswith(BUILT) else "from source"
    assert done.exit_code == 0
    assert done.output == f"drill, version 0.1.0, engine {how} ({sim.model.engine.__file__})\n"


def test_a_build_older_than_its_source_or_its_declarations_is_warned_of(tmp_path):
    import warnings

    from sim import _warn_of_stale_builds

    built = tmp_path / "model" / f"world{EXTENSION_SUFFIXES[0]}"
    built.parent.mkdir()
    for name in ("world.py", "world.pxd", built.name):
        (built.parent / name).write_text("")
    os.utime(built.parent / "world.py", (1000, 1000))
    os.utime(built.parent / "world.pxd", (1000, 1000))
    os.utime(built, (1000.5, 1000.5))  # written in the same second as its sources, in either order: fine
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _warn_of_stale_builds(tmp_path)
    for edited in ("world.py", "world.pxd"):
        os.utime(built.parent / edited, (1002, 1002))  # edited after the build
        with pytest.warns(RuntimeWarning, match=f"older than {edited} and runs the code before its last edit"):
            _warn_of_stale_builds(tmp_path)
        os.utime(built.parent / edited, (1000, 1000))
    # a module written for Cython alone (streams.pyx) has no .py: its .pyx is its source
    streams = tmp_path / "model" / f"streams{EXTENSION_SUFFIXES[0]}"
    for path, when in ((built.parent / "streams.pyx", 1000), (streams, 1000.5)):
        path.write_text("")
        os.utime(path, (when, when))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _warn_of_stale_builds(tmp_path)
    os.utime(built.parent / "streams.pyx", (1002, 1002))
    with pytest.warns(RuntimeWarning, match="streams.* is older than streams.pyx"):
        _warn_of_stale_builds(tmp_path)
