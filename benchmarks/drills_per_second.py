"""Simulated drills per second of the reference scenario with bots, in one process.

    python benchmarks/drills_per_second.py [--drills 500]

Each drill is simulated and scored (no report files). Target: at least 100 drills
per second on one core of a 2-core machine.
"""

import argparse
import time
from pathlib import Path

from sim import load_scenario, run_drill, score
from sim.inputs.config import Process

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "checkout-config-push.yaml"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drills", type=int, default=500)
    args = parser.parse_args()
    scenario, process = load_scenario(SCENARIO), Process()
    for seed in range(20):  # warm up imports and caches
        run_drill(scenario, process, seed=seed, samples=False)
    for samples in (False, True):
        started = time.perf_counter()
        events = 0
        for seed in range(args.drills):
            result = run_drill(scenario, process, seed=seed, samples=samples)
            score(result.events, scenario, process)
            events += len(result.events)
        elapsed = time.perf_counter() - started
        label = "with metric samples for plots" if samples else "simulate + score"
        print(f"{label:<32} {args.drills / elapsed:7.1f} drills/s  "
              f"({1000 * elapsed / args.drills:.2f} ms per drill, {events / args.drills:.0f} events per drill)")


if __name__ == "__main__":
    main()
