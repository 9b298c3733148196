"""How much simulated incidents vary: time to acknowledge, declare and resolve over the scenario
library with the default bots, per scenario and pooled (docs/model.md, "Calibration").

    nice -n 10 python benchmarks/calibration.py --seeds 200

Each scenario runs with a day's horizon so that no resolution is cut off by the drill's end
(tests/test_calibration.py runs the same with 24 seeds).
"""

import argparse
import math
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sim import load_process, load_scenario, run_drill, score  # noqa: E402
from sim.inputs.config import REPO, library  # noqa: E402

METRICS = ("time_to_acknowledge_s", "time_to_declare_s", "time_to_resolve_s")


def spread(values: list[float]) -> str:
    if len(values) < 3:
        return f"n={len(values)}"
    median = statistics.median(values)
    p90 = statistics.quantiles(values, n=10)[-1]
    log_sd = statistics.stdev(math.log(v) for v in values if v > 0)
    return (f"n={len(values):4d} median {median:7.0f} s  p90 {p90:7.0f} s  max {max(values):7.0f} s  "
            f"log-sd {log_sd:.2f}  p90/median {p90 / median:.2f}  distinct {len(set(values))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--horizon", type=float, default=86400.0, help="seconds (default: a day)")
    args = parser.parse_args()
    process = load_process(REPO / "drills" / "process.yaml")
    began = time.perf_counter()
    pooled = {m: [] for m in METRICS}
    for path in library():
        scenario = replace(load_scenario(path), horizon=args.horizon)
        found = {m: [] for m in METRICS}
        for seed in range(args.seeds):
            metrics = score(run_drill(scenario, process, seed=seed, samples=False).events, scenario, process)["metrics"]
            for m in METRICS:
                if metrics[m] is not None:
                    found[m].append(metrics[m])
        for m in METRICS:
            pooled[m] += found[m]
        print(f"{scenario.name:32s} resolve: {spread(found['time_to_resolve_s'])}")
    print()
    for m in METRICS:
        print(f"{'library, ' + m:32s} {spread(pooled[m])}")
    print(f"\n{len(library())} scenarios x {args.seeds} seeds in {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
