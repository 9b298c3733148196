import importlib
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SCENARIOS = REPO / "scenarios"
DATA = Path(__file__).resolve().parent / "data"
FIXTURES = REPO.parent / "shared" / "fixtures"
# Conformance tests read the shared fixtures beside the checkout and are skipped where they are absent.
needs_fixtures = pytest.mark.skipif(not FIXTURES.is_dir(), reason="../shared/fixtures is absent")


def source_copy(folder: Path, name: str = "sim") -> Path:
    """A copy of the package in ``folder``, named ``name``, without what setup.py built: it runs from source."""
    from importlib.machinery import EXTENSION_SUFFIXES
    from shutil import copytree, ignore_patterns

    return copytree(REPO / "sim", Path(folder) / name,
                    ignore=ignore_patterns(f"*{EXTENSION_SUFFIXES[0]}", "*.c", "__pycache__"))


@pytest.fixture(scope="session")
def source(tmp_path_factory):
    """A copy of the package that runs its engine from source, for the tests that watch evaluations by
    replacing a method on ``_PromRule`` or ``Rules``: compiled (setup.py), both are extension types,
    whose methods stay as built (tests/test_build.py: both engines log the same)."""
    root = tmp_path_factory.mktemp("source")
    source_copy(root, "sim_source")
    sys.path.insert(0, str(root))
    try:
        package = importlib.import_module("sim_source")
    finally:
        sys.path.remove(str(root))
    assert package.model.engine.__file__.endswith("engine.py")
    return package


def still(scenario):
    """``scenario`` with nothing drawn per drill: every finding takes its nominal time, every
    mitigation works fully and recovers in the fault's own time (docs/model.md)."""
    from dataclasses import replace

    from sim.inputs.dynamics import Dynamics

    return replace(scenario, dynamics=Dynamics(diagnosis_spread=0.0, wrong_lead=0.0, fix_fails=0.0, partial_fix=0.0,
                                               recovery_spread=0.0))


def still_file(folder, name: str = "checkout-config-push") -> Path:
    """A copy of a library scenario's file with nothing drawn and nobody reporting it: its
    nominal story, for tests that work a live drill's timeline out by hand."""
    path = Path(folder) / f"{name}-still.yaml"
    path.write_text((SCENARIOS / f"{name}.yaml").read_text(encoding="utf-8") + (
        "\ndynamics: {diagnosis_spread: 0, wrong_lead: 0, fix_fails: 0, partial_fix: 0, recovery_spread: 0}\n"
        "reports: []\n"), encoding="utf-8")
    return path


@pytest.fixture
def write(tmp_path):
    """Write a dedented YAML text to a file in a temporary folder and return its path."""

    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return _write


@pytest.fixture(autouse=True)
def drill_store(tmp_path, monkeypatch):
    """Every test records drills into a store of its own, never into the repository's."""
    path = tmp_path / "store" / "drills.db"
    monkeypatch.setenv("DRILLSIM_STORE", str(path))
    return path


def paused_drill(folder, scenario=None, *, seed: int = 4, players=({"name": "ana", "oncall": "primary"},), **kwargs):
    """A live drill whose clock the test moves by hand (``advance(until=...)``), never by the wall clock."""
    from sim.inputs import config
    from sim.live.drill import LiveDrill

    live = LiveDrill.create(folder, scenario or config.scenario_path(None), seed=seed, players=list(players), **kwargs)
    live.pause()
    return live


def sam_on_comms(folder, until: float):
    """A paused drill of the reference in which ana declares a SEV2 on checkout at 600 s and makes
    sam (a bot) Communications Lead, run to ``until``."""
    live = paused_drill(folder)
    live.advance(until=600)
    live.act({"do": "declare", "by": "ana", "severity": "SEV2", "service": "checkout"})
    live.act({"do": "assign", "by": "ana", "role": "comms", "who": "sam"})
    live.advance(until=until)
    return live


def shop_wide(scenario, write, above: float):
    """``scenario`` with one team rule in place of its alerts: the shop's overall 5xx ratio over
    ``above`` for a minute, an alert without a service label (it pages, naming no dashboard)."""
    from dataclasses import replace

    from sim.inputs.promrules import load_rules

    rules = write("shop.rules.yml", f"""groups:
  - name: overall
    rules:
      - alert: ShopErrorRatio
        expr: 'sum(rate(http_requests_total{{code=~"5.."}}[5m])) / sum(rate(http_requests_total[5m])) > {above}'
        for: 1m
        labels: {{severity: page}}
        annotations: {{summary: errors across the shop}}
""")
    return replace(scenario, rules=load_rules(rules), alerts=())
