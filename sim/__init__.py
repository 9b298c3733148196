"""drillsim: chaos-driven incident drills on a discrete-event engine.

Load and validate -> simulate -> score -> report::

    from sim import load_scenario, run_drill, score
    scenario = load_scenario("scenarios/checkout-config-push.yaml")
    result = run_drill(scenario, seed=1)
    card = score(result.events, scenario, result.process)
"""

import warnings
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path


def _warn_of_stale_builds(package: Path = Path(__file__).parent) -> None:
    """setup.py compiles the engine next to its sources (a ``.py``, and the ``.pxd`` that makes some of
    its classes extension types; ``streams.pyx``, which has no ``.py``): a source edited since runs as it was before the edit until
    rebuilt, which nobody would guess from the source. (A second of slack: an installed wheel
    writes both at once, in either order.)"""
    suffix = EXTENSION_SUFFIXES[0]  # what setup.py's builds end in (.cpython-311-x86_64-linux-gnu.so)
    for built in package.rglob(f"*{suffix}"):
        stem = built.name.removesuffix(suffix)
        for source in (built.with_name(stem + ext) for ext in (".py", ".pxd", ".pyx")):
            if source.exists() and source.stat().st_mtime > built.stat().st_mtime + 1.0:
                warnings.warn(f"{built} is older than {source.name} and runs the code before its last edit: "
                              "`python setup.py build_ext --inplace` builds it again (or `pip install -e .`); "
                              "deleting it runs the source", RuntimeWarning, stacklevel=2)
                break


_warn_of_stale_builds()

from .inputs.config import load_process, load_roster, load_scenario, load_script
from .inputs.errors import DrillError
from .model.engine import Drill, DrillResult, run_drill
from .outputs.scoring import score

__all__ = [
    "Drill",
    "DrillError",
    "DrillResult",
    "load_process",
    "load_roster",
    "load_scenario",
    "load_script",
    "run_drill",
    "score",
]
