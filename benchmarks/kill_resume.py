"""SIGKILL-and-resume trials of ``drill serve`` and ``drill live``, for longer than the tests run.

Each serve trial seats two people who post updates as fast as answers come, kills the server
with SIGKILL at a random moment, resumes it, ends the drill and checks that every
acknowledged update is logged exactly once and the drill is scored; each live trial does the
same to a person at ``drill live`` in a pseudo-terminal (tests/killing.py). Prints the trials
run, the acknowledged actions checked, and the failures.

    python benchmarks/kill_resume.py [--serve 20] [--live 8]
"""

import argparse
import sys
import tempfile
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.killing import live_trial, serve_trial  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", type=int, default=20, help="trials of drill serve")
    parser.add_argument("--live", type=int, default=8, help="trials of drill live")
    args = parser.parse_args()
    started = time.monotonic()
    for name, trial, count in (("drill serve", serve_trial, args.serve), ("drill live", live_trial, args.live)):
        acknowledged, failures = 0, 0
        for seed in range(count):
            with tempfile.TemporaryDirectory() as tmp:
                try:
                    acknowledged += trial(Path(tmp) / "drill", seed)["acknowledged"]
                except Exception:  # noqa: BLE001 - a failed trial is counted and shown, the run goes on
                    failures += 1
                    traceback.print_exc()
        print(f"{name}: {count} SIGKILL trials, {acknowledged} acknowledged actions checked, {failures} failures")
    print(f"{time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
