"""The engine's routing against a real Alertmanager 0.25, over many rounds (the test runs one).

    python benchmarks/alertmanager_diff.py [--rounds 10]

Each round starts a fresh alertmanager on 127.0.0.1 and plays 24 new generated timelines
at once (about 50 s), exactly as tests/test_alertmanager_differential.py does; this
prints, per round and in all, the notifications compared and those that disagree: in
what was sent (receiver, firing or resolved alerts), or only in when it arrived (the
same notification, later than the 0.1 s tolerance: the machine was busy).
"""

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.test_alertmanager_differential import BEHIND, BINARY, differential, late  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--first-seed", type=int, default=1, help="round seeds start here (the test uses 0)")
    args = parser.parse_args()
    if BINARY is None:
        sys.exit("no alertmanager binary (apt-get install prometheus-alertmanager)")
    compared = disagreements = lagging = timelines = busy = 0
    for seed in range(args.first_seed, args.first_seed + args.rounds):
        with tempfile.TemporaryDirectory() as folder:
            plans, ours, real, ours_left, theirs_left, behind = differential(Path(folder), seed)
        slow = late(ours_left, theirs_left)
        timelines += len(plans)
        compared += max(len(ours), len(real))
        disagreements += len(ours_left) + len(theirs_left)
        lagging += len(slow)
        busy += behind >= BEHIND
        print(f"round {seed}: {len(ours)} notifications by the engine, {len(real)} by alertmanager; "
              f"{len(slow)} arrived late; only ours: {ours_left or 'none'}; only theirs: {theirs_left or 'none'}"
              f"{f'; alerts reached it {behind:.2f} s late (a busy machine: the test would run again)' if behind >= BEHIND else ''}",
              flush=True)
    print(f"{timelines} timelines, {compared} notifications compared, {disagreements} disagreements, "
          f"{lagging} the same but late; {busy} of {args.rounds} rounds on a busy machine")


if __name__ == "__main__":
    main()
