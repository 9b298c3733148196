"""Fuzz every shipped input kind for longer than the suite does: mutated files must give
no traceback, every problem as ``path:line: message``, and a short drill when they validate.

    python benchmarks/fuzz_inputs.py --cases 10000 [--seed 0] [--first 0] [--keep failures/]

Prints the cases tried and the failures (with the first few in full); exits 1 on any.
Uses the generator in tests/fuzzing.py, the one the suite's property test uses.
"""

import argparse
import os
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.fuzzing import SOURCES, check, mutate  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--first", type=int, default=0, help="Start at this case: split a long run over processes.")
    parser.add_argument("--keep", type=Path, help="Copy each failing file into this folder.")
    args = parser.parse_args()
    os.chdir(REPO)
    kinds = [kind for kind, files in SOURCES.items() if files]
    failures, tried, started = [], Counter(), time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        for case in range(args.first, args.first + args.cases):
            rng = random.Random(args.seed * 1_000_003 + case)
            kind = kinds[case % len(kinds)]
            source = rng.choice(SOURCES[kind])
            path = Path(folder) / f"{case}-{source.name}"
            path.write_bytes(mutate(rng, source))
            failure = check(kind, path)
            tried[kind] += 1
            if failure:
                failures.append((case, kind, source.name, failure))
                if args.keep:
                    args.keep.mkdir(parents=True, exist_ok=True)
                    (args.keep / path.name).write_bytes(path.read_bytes())
                print(f"case {case} ({kind}, from {source.name}): {failure.splitlines()[-1]}", flush=True)
            path.unlink()
            if sum(tried.values()) % 500 == 0:
                print(f"... {sum(tried.values())} cases, {len(failures)} failures, {time.perf_counter() - started:.0f} s",
                      flush=True)
    elapsed = time.perf_counter() - started
    print(f"\n{sum(tried.values())} cases in {elapsed:.0f} s ({', '.join(f'{k} {n}' for k, n in tried.items())}); "
          f"{len(failures)} failures; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for case, kind, name, failure in failures[:5]:
        print(f"\n--- case {case} ({kind}, from {name}) ---\n{failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
