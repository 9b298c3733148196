"""drillsim's alert rules against Prometheus's promtool, on many generated cases.

    python benchmarks/promtool_diff.py [--cases 10000] [--batch 250] [--seed 1] [--minutes M]

The cases of tests/test_promtool_diff.py (tests/promdiff.py: a random rule from the
supported grammar with ``for`` and ``keep_firing_for``, unequal scrape and evaluation
intervals, scrapes past the 5-minute lookback, a world with random faults), drawn from
``random.Random(seed)`` and checked a batch per promtool run. Prints the running count
of cases and disagreements, and each disagreement in full. Target: 10,000 cases, 0
disagreements.
"""

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.promdiff import PROMTOOL, Picker, disagreements, make_case  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=250)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--minutes", type=float, help="Stop after the batch that passes this many minutes.")
    args = parser.parse_args()
    if PROMTOOL is None:
        sys.exit("promtool is not installed (Debian: apt-get install prometheus)")
    rng = random.Random(args.seed)
    picker = Picker(rng.choice, rng.uniform)
    started, done, bad = time.perf_counter(), 0, 0
    while done < args.cases:
        cases = [make_case(picker, f"c{done + i}") for i in range(min(args.batch, args.cases - done))]
        failed = disagreements(cases)
        for case in cases:
            if case.name in failed:
                print(f"DISAGREE {case.name}: {case.expr} for={case.for_s} keep_firing_for={case.keep_s} "
                      f"scrape={case.scrape} evaluation={case.evaluation}\n{failed[case.name]}", flush=True)
        done, bad = done + len(cases), bad + len(failed)
        elapsed = time.perf_counter() - started
        print(f"{done} cases, {bad} disagreements ({elapsed:.0f} s)", flush=True)
        if args.minutes is not None and elapsed > 60 * args.minutes:
            break
    print(f"total: {done} cases, {bad} disagreements")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
