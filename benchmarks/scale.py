"""Drill cost against the size of the estate: generated topologies of 10 to 500 services.

    python benchmarks/scale.py [--sizes 10,20,50,100,200,500] [--seconds 2] [--rounds 3] [--spread 1.0] [--team-rules]
    python benchmarks/scale.py --reference [--drills 300]
    python benchmarks/scale.py --against 897c60d [--reference | --sizes 200] [--rounds 5]

Each size is a generated DAG of services (service i calls 2i+1 and 2i+2, and every
third also calls 2i+3, so callees are shared), two shorthand rules per service (error
ratio above 5 % for 2 m, p99 above twice its baseline for 5 m), one bad deploy at the
deepest leaf, default bots; each drill is simulated and scored, as `drill compare` does.
It prints ms per drill, drills per second, events per drill (what happens: alerts,
notifications, pages, actions), CPU microseconds per event and how many services the
fault reaches (the services whose metrics change), then the fitted exponent of time
against services (the slope of log ms/drill on log services, least squares): 1 is
linear in the estate, 0 is flat. ``--spread`` sets every dependency's error spread.
``--team-rules`` puts the team's PromQL rules (docs/examples/web-shop.rules.yml: a recording
rule and five alerts over every service's series) in place of the shorthand ones, the
services labelled ``namespace="shop"`` as they select.

``--reference`` measures the README's default `drill run` scenario (checkout-config-push, as
the measured engine ships it) instead: drills per second on one core, simulated and scored,
without and with the metric samples kept for plots. Times are the process's CPU time (one core), which other work on a
shared machine disturbs less than wall time does, and each figure is the fastest of ``--rounds``
rounds; quote `uptime` with the figures all the same.

``--against REF`` measures the old path against the new in one run: the engine of git
revision REF (extracted to a scratch folder) and this checkout's, one round each in turn
in fresh processes (same inputs, same working folder), keeping each one's fastest round,
and prints both, the speed-up and the load average before and after. Each engine runs as it
installs: this checkout's as installed (compiled by setup.py unless installed with
DRILLSIM_PURE_PYTHON=1), REF's built the same way (compiled from f900066 on, which needs
Cython: the test extras; from source before). With DRILLSIM_PURE_PYTHON=1 set, REF runs from
source: ``DRILLSIM_PURE_PYTHON=1 scale.py --against HEAD`` measures what compiling gives.
"""

import argparse
import compileall
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# Measure this checkout's engine (or the one --engine names), not whichever one is installed.
ENGINE = Path(sys.argv[sys.argv.index("--engine") + 1]) if "--engine" in sys.argv[:-1] else REPO
sys.path.insert(0, str(ENGINE))

from sim import load_scenario, run_drill, score  # noqa: E402
try:
    from sim.inputs.config import Process
except ImportError:  # an engine from before the package's layout (0ad9287, which the speed issues were filed against)
    from sim.config import Process
# The reference scenario as the measured engine ships it (an old engine may not read today's file).
REFERENCE = ENGINE / "scenarios" / "checkout-config-push.yaml"


def callees(i: int, n: int) -> list[int]:
    wanted = [2 * i + 1, 2 * i + 2] + ([2 * i + 3] if i % 3 == 0 else [])
    return [c for c in wanted if c < n]


def estate(n: int, spread: float = 1.0) -> str:
    """A scenario of ``n`` services, two rules each, and a bad deploy at the last (a leaf)."""
    name = [f"svc{i:03d}" for i in range(n)]
    leaf = name[-1]
    lines = ["name: scale-" + str(n), "title: A bad deploy in an estate of " + str(n) + " services",
             "start: 2026-05-12T09:55:00Z", "horizon: 3h", "services:"]
    for i in range(n):
        deps = [name[c] for c in callees(i, n)]
        lines.append(f"  {name[i]}:")
        lines.append(f"    team: team{i % 20:02d}")
        if deps:
            if spread == 1.0:
                lines.append(f"    depends_on: [{', '.join(deps)}]")
            else:
                lines.append("    depends_on: [" + ", ".join(f"{{service: {d}, spread: {spread}}}" for d in deps) + "]")
        if i == 0:
            lines += ["    customer_facing: true", "    critical: true", "    revenue_per_min: 1000"]
        lines += [f"    request_rate: {100 + 7 * i % 300}", "    error_rate: 0.05%", f"    latency_p99_ms: {100 + 13 * i % 400}"]
    lines += ["faults:", f"  - id: {leaf}-deploy", "    kind: bad_deploy", f"    service: {leaf}", "    at: 5m",
              "    magnitude: {error_rate: 20%, latency: 1.5}", "    ramp: 1m", "    recovery: 5m",
              f"    description: {leaf} v2 throws on a field older clients send", "    findings:",
              f"      - service: {leaf}", "        after: 5m",
              f"        text: Errors began with the {leaf} v2 rollout; v1 ran clean", "        root_cause: true",
              "        suggests: rollback", "alerts:"]
    for i in range(n):
        p99 = 100 + 13 * i % 400
        lines += [f"  - alert: {name[i].title()}Errors", f"    expr: 'error_rate{{service=\"{name[i]}\"}} > 0.05'",
                  "    for: 2m", f"    labels: {{severity: critical, team: team{i % 20:02d}}}",
                  f"  - alert: {name[i].title()}Slow", f"    expr: 'latency_p99_ms{{service=\"{name[i]}\"}} > {2 * p99}'",
                  "    for: 5m", f"    labels: {{severity: warning, team: team{i % 20:02d}}}"]
    lines += ["truth:", "  severity: SEV1", f"  root_cause: {leaf} v2 shipped a serialization bug",
              f"  teams_needed: [team{(n - 1) % 20:02d}]", f"  fix: rollback {leaf}"]
    return "\n".join(lines) + "\n"


def reach(n: int) -> int:
    """How many services a fault at the last one reaches (itself and every transitive caller)."""
    callers = {i: [j for j in range(n) if i in callees(j, n)] for i in range(n)}
    seen, todo = {n - 1}, [n - 1]
    while todo:
        for j in callers[todo.pop()]:
            if j not in seen:
                seen.add(j)
                todo.append(j)
    return len(seen)


def timed(scenario, process, seconds: float, least: int, samples: bool = False, rounds: int = 3) -> tuple[float, float, int]:
    """Drills of seeds 0, 1, ... until ``seconds`` passed (at least ``least``), in ``rounds`` rounds:
    the fastest round's ms per drill (as timeit: the round least disturbed), events per drill, drills."""
    run_drill(scenario, process, seed=10_000, samples=samples)  # warm caches and imports
    best = math.inf
    for _ in range(rounds):
        started, events, drills = time.process_time(), 0, 0
        while drills < least or time.process_time() - started < seconds:
            result = run_drill(scenario, process, seed=drills, samples=samples)
            score(result.events, scenario, process)
            events += len(result.events)
            drills += 1
        best = min(best, 1000 * (time.process_time() - started) / drills)
    return best, events / drills, drills


def team_rules(scenario):
    """``scenario`` with the example team rules in place of its shorthand alerts, its services
    labelled as they select (imported here: an engine from before PromQL rules has no rule loader)."""
    from dataclasses import replace

    from drills_per_second import team_rules as with_team_rules
    return replace(with_team_rules(scenario), alerts=())


def slope(xs, ys) -> float:
    lx, ly = [math.log(x) for x in xs], [math.log(y) for y in ys]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly)) / sum((a - mx) ** 2 for a in lx)


def measure(args) -> list[tuple[str, float, float, int]]:
    """(label, ms per drill, events per drill, drills) per row, printed as each is measured
    unless ``--json`` asks for the rows alone."""
    say = (lambda *a, **k: None) if args.json else print
    process, rows = Process(), []
    if args.reference:
        scenario = load_scenario(REFERENCE)
        for samples in (False, True):
            ms, events, n = timed(scenario, process, 0.0, args.drills, samples, args.rounds)
            label = f"reference {'with samples' if samples else 'simulate+score'}"
            rows.append((label, ms, events, n))
            say(f"{label}: {1000 / ms:7.1f} drills/s ({ms:.2f} ms/drill, {events:.0f} events/drill, {n} drills)",
                flush=True)
        return rows
    sizes = [int(s) for s in args.sizes.split(",")]
    say(f"{'services':>8} {'rules':>6} {'reached':>7} {'ms/drill':>9} {'drills/s':>9} {'events/drill':>12} "
        f"{'us/event':>8} {'drills':>6}")
    with tempfile.TemporaryDirectory() as folder:
        for n in sizes:
            path = Path(folder) / f"scale-{n}.yaml"
            path.write_text(estate(n, args.spread))
            scenario = load_scenario(path)
            if args.team_rules:
                scenario = team_rules(scenario)
            ms, events, drills = timed(scenario, process, args.seconds, args.least, rounds=args.rounds)
            rows.append((f"{n} services", ms, events, drills))
            say(f"{n:>8} {6 if args.team_rules else 2 * n:>6} {reach(n):>7} {ms:>9.1f} {1000 / ms:>9.1f} {events:>12.0f} "
                f"{1000 * ms / events:>8.1f} {drills:>6}", flush=True)
    if len(rows) > 1:
        say(f"fitted exponent (log ms/drill on log services): {slope(sizes, [ms for _, ms, _, _ in rows]):.2f}")
    return rows


def extract(ref: str, folder) -> None:
    """Revision ``ref`` of this repository, unpacked into ``folder`` (an engine to measure) and
    built as it installs: compiled, from a revision whose setup.py compiles the engine, unless
    DRILLSIM_PURE_PYTHON is set (as this checkout runs as installed: the two compare like for like)."""
    archive = subprocess.run(["git", "-C", str(REPO), "archive", ref], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    if (Path(folder) / "setup.py").exists() and not os.environ.get("DRILLSIM_PURE_PYTHON"):
        subprocess.run([sys.executable, "setup.py", "-q", "build_ext", "--inplace"], cwd=folder, check=True,
                       capture_output=True)


def compiled(engine) -> str:
    """An engine's folder, its modules byte-compiled first: an engine imported from source
    allocates more than one imported from ``.pyc`` files, which moves where the garbage
    collector runs during the drills (by up to a tenth of a drill's instructions)."""
    compileall.compile_dir(Path(engine) / "sim", quiet=1)
    return str(engine)


def against(ref: str, argv: list[str], rounds: int) -> None:
    """The engine of revision ``ref`` and this checkout's, a round each in turn; each one's fastest."""
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    best: dict[str, dict[str, tuple]] = {"old": {}, "new": {}}
    with tempfile.TemporaryDirectory() as folder:
        extract(ref, folder)
        for _ in range(rounds):
            for side, engine in (("old", compiled(folder)), ("new", compiled(REPO))):
                out = subprocess.run([sys.executable, __file__, *argv, "--rounds", "1", "--json", "--engine", engine],
                                     capture_output=True, text=True, check=True, cwd=REPO).stdout
                for label, ms, events, drills in json.loads(out):
                    if label not in best[side] or ms < best[side][label][0]:
                        best[side][label] = (ms, events, drills)
    print(f"{'':<28} {'old ' + ref[:10]:>22} {'new (this checkout)':>22} {'speed-up':>9}")
    for label, (new_ms, events, _) in best["new"].items():
        old_ms, old_events, _ = best["old"][label]
        print(f"{label:<28} {1000 / old_ms:>9.1f} drills/s ({old_ms:5.2f} ms) {1000 / new_ms:>9.1f} drills/s "
              f"({new_ms:5.2f} ms) {old_ms / new_ms:>8.2f}x  events/drill {old_events:.0f} / {events:.0f}")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
          f"best of {rounds} rounds each, CPU time")


def _without(argv: list[str], *options: str) -> list[str]:
    """``argv`` without the given options and their values (``--x 1`` or ``--x=1``)."""
    kept, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg in options:
            skip = True
        elif arg.split("=", 1)[0] not in options:
            kept.append(arg)
    return kept


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,20,50,100,200,500")
    parser.add_argument("--seconds", type=float, default=2.0, help="time spent per size (at least --least drills)")
    parser.add_argument("--least", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3, help="measure this many times, keep the fastest")
    parser.add_argument("--spread", type=float, default=1.0)
    parser.add_argument("--team-rules", action="store_true",
                        help="the example team PromQL rules in place of the shorthand ones (not with --reference)")
    parser.add_argument("--reference", action="store_true", help="the reference scenario's drills per second")
    parser.add_argument("--drills", type=int, default=300, help="drills of the reference scenario")
    parser.add_argument("--against", metavar="REF", help="also measure git revision REF's engine, in turn with this")
    parser.add_argument("--engine", help="measure the engine of this folder (used by --against)")
    parser.add_argument("--json", action="store_true", help="print only the rows, as JSON (used by --against)")
    args = parser.parse_args()
    if args.against:
        against(args.against, _without(sys.argv[1:], "--against", "--rounds"), args.rounds)
        return
    rows = measure(args)
    if args.json:
        print(json.dumps(rows))


if __name__ == "__main__":
    main()
