"""Drills per second of ``drill compare`` on 1 and 2 local workers, reference scenario, two variants.

    python benchmarks/compare_speed.py [--runs 5000]

Runs ``drill compare`` end to end in-process (plan, simulate, score, stream runs.parquet)
and times the simulation phase; the summary (bootstrap, plots) is timed separately.
Targets on a 2-core machine: 10,000 drills (2 variants x 5,000 runs) in under 60 s on
2 workers, and at least 1.8x from 1 to 2 workers.
"""

import argparse
import os
import tempfile
import time
from pathlib import Path

from sim import compare
from sim.config import load_scenario
from sim.summary import write_summary
from sim.variants import load_variant

REPO = Path(__file__).resolve().parent.parent


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5000)
    args = parser.parse_args()
    scenario = load_scenario(REPO / "scenarios" / "checkout-config-push.yaml")
    variants = tuple(load_variant(n, REPO / "drills" / "variants" / f"{n}.yaml", REPO / "drills" / "process.yaml",
                                  REPO / "drills" / "roster.yaml") for n in ("baseline", "ic-does-comms"))
    plan = compare.Plan((scenario,), variants, args.runs, seed=1)
    rates = {}
    print(f"load average before: {os.getloadavg()[0]:.2f} (anything else running takes cores from the workers)")
    with tempfile.TemporaryDirectory() as tmp:
        for workers in (1, 2):
            out = Path(tmp) / str(workers)
            started = time.perf_counter()
            runs = compare.write_runs(compare.execute(plan, workers), out / "runs.parquet")
            elapsed = time.perf_counter() - started
            rates[workers] = plan.drills / elapsed
            print(f"{workers} worker{'s' if workers > 1 else ' '}  {plan.drills} drills in {elapsed:6.1f} s  "
                  f"{rates[workers]:6.0f} drills/s")
        started = time.perf_counter()
        write_summary(runs, out, [{"name": v.name, "description": "", "file": ""} for v in variants],
                      [{"name": scenario.name, "runs": args.runs}], args.runs, 1)
        print(f"summary (bootstrap of 14 metrics, 9 plots): {time.perf_counter() - started:.1f} s")
    print(f"speed-up 1 -> 2 workers: {rates[2] / rates[1]:.2f}x; load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
