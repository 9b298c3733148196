"""drillsim: chaos-driven incident drills on a discrete-event engine.

Load and validate -> simulate -> score -> report::

    from sim import load_scenario, run_drill, score
    scenario = load_scenario("scenarios/checkout-config-push.yaml")
    result = run_drill(scenario, seed=1)
    card = score(result.events, scenario, result.process)
"""

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
