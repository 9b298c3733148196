"""What `drill generate` produces on the example topology, and how fast.

    python benchmarks/generate_bands.py [--seeds 100] [--per-band 10]

Generates --seeds scenarios with no difficulty (the bands and severities they land in)
and --per-band scenarios of each difficulty (the mean of their median bot scores, and
seconds a scenario). docs/generate.md quotes its figures.
"""

import argparse
import collections
import statistics
import time
from pathlib import Path

from sim.authoring import generate
from sim.inputs.topology import load_topology

TOPOLOGY = Path(__file__).resolve().parent.parent / "drills" / "topology.yaml"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--per-band", type=int, default=10)
    args = parser.parse_args()
    topology = load_topology(TOPOLOGY)
    bands, severities = collections.Counter(), collections.Counter()
    started = time.perf_counter()
    for seed in range(args.seeds):
        made = generate.generate(topology, seed)
        bands[made.band] += 1
        truth = made.scenario.truth
        severities[truth.severity + (f" -> {truth.final_severity}" if truth.final_severity else "")] += 1
    elapsed = time.perf_counter() - started
    print(f"{args.seeds} seeds, any difficulty: {dict(bands)}; {dict(severities)}; "
          f"{elapsed / args.seeds:.2f} s a scenario")
    for difficulty in generate.DIFFICULTIES:
        started = time.perf_counter()
        medians = [generate.generate(topology, seed, difficulty).median for seed in range(args.per_band)]
        elapsed = time.perf_counter() - started
        print(f"{difficulty:>6}: mean median score {statistics.mean(medians):.1f} over {args.per_band} scenarios, "
              f"{elapsed / args.per_band:.2f} s a scenario")


if __name__ == "__main__":
    main()
