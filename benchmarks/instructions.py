"""Machine instructions per drill, old engine against new: a speed comparison that load does not disturb.

    python benchmarks/instructions.py --against 897c60d [--services 200 | --rules team|fifty] [--drills 20]

On a machine shared with other work, CPU time moves by tens of percent from one run to the
next (caches and the other hyperthread of the core are shared), so a 20 % speed-up can read
as none. The number of instructions a drill executes does not depend on the load: each
engine (git revision REF, extracted to a scratch folder, and this checkout) runs the
reference scenario (or a generated estate of ``--services`` services, as
``benchmarks/scale.py`` builds it; or the reference with ``--rules``: the team rules or the 50
PromQL rules of ``benchmarks/drills_per_second.py``), simulated and scored, under valgrind's callgrind, once
with no drills and once with ``--drills`` drills; the difference divided by the drills is the
instructions per drill. Same seeds, same inputs, same working folder for both, both engines
byte-compiled first (``scale.compiled``), one OpenBLAS thread (numpy's idle worker threads
would add their spinning to the count). Needs valgrind.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))
from drills_per_second import fifty_rules
from scale import REFERENCE, compiled, estate, extract

from sim import load_scenario

DRILLS = """
import sys
sys.path.insert(0, sys.argv[1])
from sim import load_scenario, run_drill, score
from sim.inputs.config import Process
scenario, process = load_scenario(sys.argv[2]), Process()
if len(sys.argv) > 4:  # a rule file, and the namespace label the team rules select
    from dataclasses import replace
    from sim.inputs.promrules import load_rules
    scenario = replace(scenario, rules=load_rules(sys.argv[4]))
    if sys.argv[5]:
        scenario = replace(scenario, services={n: replace(s, labels=(("namespace", sys.argv[5]),))
                                               for n, s in scenario.services.items()})
for seed in range(int(sys.argv[3])):
    score(run_drill(scenario, process, seed=seed, samples=False).events, scenario, process)
"""


def instructions(engine: str, scenario: Path, drills: int, rules: tuple = ()) -> int:
    """Instructions callgrind counts for a process that runs ``drills`` drills on ``engine``
    (``rules``: a rule file and a namespace label for every service, or none)."""
    done = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
                           sys.executable, "-c", DRILLS, engine, str(scenario), str(drills), *rules],
                          capture_output=True, text=True, check=False, cwd=REPO,
                          env={**os.environ, "PYTHONHASHSEED": "0", "OPENBLAS_NUM_THREADS": "1"})
    if done.returncode:
        sys.exit(f"valgrind failed on {engine}:\n{done.stderr[-2000:]}")
    return int(re.search(r"Collected : (\d+)", done.stderr)[1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", required=True, metavar="REF", help="the git revision whose engine is the old one")
    parser.add_argument("--services", type=int, help="a generated estate of this many services, not the reference")
    parser.add_argument("--rules", choices=("team", "fifty"),
                        help="the reference with the team rules or the 50 PromQL rules (drills_per_second.py)")
    parser.add_argument("--drills", type=int, default=20)
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed")
    with tempfile.TemporaryDirectory() as folder:
        old = Path(folder) / "old"
        old.mkdir()
        extract(args.against, old)
        scenario = REFERENCE
        if args.services:
            scenario = Path(folder) / f"scale-{args.services}.yaml"
            scenario.write_text(estate(args.services))
        rules = ()
        if args.rules == "team":
            rules = (str(REPO / "docs" / "examples" / "web-shop.rules.yml"), "shop")
        elif args.rules == "fifty":
            rules = (str(Path(folder) / "fifty.yml"), "")
            Path(rules[0]).write_text(fifty_rules(list(load_scenario(REFERENCE).services)))
        per_drill = {}
        for side, engine in (("old", compiled(old)), ("new", compiled(REPO))):
            counted = instructions(engine, scenario, args.drills, rules) - instructions(engine, scenario, 0, rules)
            per_drill[side] = counted / args.drills
    what = f"{args.services} services" if args.services else "reference scenario"
    what += {"team": " with the team rules", "fifty": " with 50 PromQL rules", None: ""}[args.rules]
    print(f"{what}, {args.drills} drills (seeds 0-{args.drills - 1}), simulated and scored, instructions per drill:")
    print(f"  old {args.against}: {per_drill['old'] / 1e6:.2f} M   new: {per_drill['new'] / 1e6:.2f} M   "
          f"ratio {per_drill['old'] / per_drill['new']:.2f}x")


if __name__ == "__main__":
    main()
