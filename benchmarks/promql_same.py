"""PromQL results of this checkout against another revision's, bit for bit, on random expressions.

    python benchmarks/promql_same.py --against f94a41b [--cases 100] [--seed 1]

promtool_diff.py checks drillsim against Prometheus, where sums over several series may
differ in their last bit (promtool adds in a random order). A speed-up of the evaluation
must change no bit at all: this runs, in each engine (revision REF, extracted to a scratch
folder, and this checkout), the drills of promdiff's random cases (this checkout's
tests/promdiff.py in both, drawn from ``random.Random(seed)``: two random expressions and a rule condition each, and a
fixed set of binary operations that fail or match many-to-one), evaluates every expression
at every evaluation time, and compares the repr of every result (or the error) between the
two. Prints each expression that differs and the count.
"""

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))
from scale import extract

FIXED = (
    'sum by (service, team) (rate(http_requests_total{code=~"5.."}[5m])) / sum by (service, team) (rate(http_requests_total[5m]))',
    'sum by (code) (last_over_time(http_requests_total[2m]))',
    'sum without (code) (increase(http_requests_total[3m])) - sum without (code) (delta(http_requests_total[3m]))',
    'rate(http_requests_total[5m]) / on(service) rate(http_requests_total[5m])',
    'rate(http_requests_total[5m]) / on(service) group_left sum by (service) (rate(http_requests_total[5m]))',
    'rate(http_requests_total[5m]) > on(service) group_left (team) 0.3 * sum by (service, team) (rate(http_requests_total[5m]))',
    'sum by (service) (rate(http_requests_total[5m])) < on(service) group_right sum by (service, code) (rate(http_requests_total[5m]))',
    'sum by (service, code) (rate(http_requests_total[5m])) > ignoring(code) 0.5 * sum by (service) (rate(http_requests_total[5m]))',
    'sum by (service, code) (rate(http_requests_total[5m])) > bool ignoring(code) sum by (service) (rate(http_requests_total[5m]))',
    'up == bool up', 'up + on(service) group_left up', 'http_requests_total - http_requests_total offset 1m',
    'sum(max_over_time(up[5m]))', 'sum by (job) (avg_over_time(error_rate[3m]))',
)

EVALUATE = """
import random, sys
sys.path.insert(0, sys.argv[1])
from dataclasses import replace
from tests import promdiff
from tests.promdiff import Picker, eval_times, make_case, vector
from sim.model.monitoring.promql import compile_expr, parse
keep = promdiff.run  # the drills without their annotations: not PromQL, and an older engine may not render them
promdiff.run = run = lambda case, expr=None: keep(replace(case, annotations={}), expr)
promdiff.prints_noise = lambda template, values: False  # nor render them to judge them (no draw hangs on it)
rng = random.Random(int(sys.argv[2]))
picker = Picker(rng.choice, rng.uniform)
for i in range(int(sys.argv[3])):
    case = make_case(picker, f"c{i}")
    exprs = [vector(picker), vector(picker), case.expr, *(sys.argv[4:] if i % 5 == 0 else ())]
    store = run(case, exprs[0]).monitoring.rules.store
    for expr in exprs:
        query, results = compile_expr(parse(expr), store), []
        for t in eval_times(case):
            try:
                results.append(repr(query(t)))
            except Exception as error:  # an evaluation's error is part of its result
                results.append(f"{type(error).__name__}: {error}")
        print(repr((expr, results)))
"""


def results(engine: str, seed: int, cases: int) -> list[str]:
    done = subprocess.run([sys.executable, "-c", EVALUATE, engine, str(seed), str(cases), *FIXED],
                          capture_output=True, text=True, check=False, cwd=engine)
    if done.returncode:
        sys.exit(f"the engine in {engine} could not evaluate the cases:\n{done.stderr[-3000:]}")
    return done.stdout.splitlines()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", required=True, metavar="REF", help="the git revision whose engine is the old one")
    parser.add_argument("--cases", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        extract(args.against, folder)
        # both engines draw the cases with this checkout's generator: an older one (whose cases
        # draw other annotations, say) would give other expressions from the same seed
        shutil.copyfile(REPO / "tests" / "promdiff.py", Path(folder) / "tests" / "promdiff.py")
        old = results(folder, args.seed, args.cases)
    new = results(str(REPO), args.seed, args.cases)
    if len(old) != len(new):
        sys.exit(f"the two engines evaluated {len(old)} and {len(new)} expressions: not the same cases")
    differ = [(a, b) for a, b in zip(old, new) if a != b]
    for a, b in differ:
        print(f"DIFFER\n  old {a[:2000]}\n  new {b[:2000]}")
    print(f"{len(new)} expressions, {len(differ)} differ")
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
