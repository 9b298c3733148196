"""Peak memory of ``drill compare`` by number of runs: it should stay flat, not grow with the runs.

    python benchmarks/compare_memory.py [--runs 10000 100000] [--workers 2] [--scenario tests/data/tiny.yaml]

Each size runs the real command (``drill compare`` from this checkout: simulate, stream
runs.parquet, summary and plots) in a fresh process. The command's peak resident memory is
exact: ``os.wait4`` returns its ``ru_maxrss`` (the largest of the command and of any process
it reaped). Its workers' peaks are read from ``/proc/<pid>/status`` (``VmHWM``, the
kernel's own high-water mark) every 0.2 s while they run; workers hold one batch at a time,
so their peak is reached early and a sample misses nothing. ``total`` is the command's peak
plus every worker's: the most the comparison could have held at once.

The default scenario is the tests' one-service ``tiny`` (about 3x the reference scenario's
drills/s); a run's row has the same columns whatever the scenario, so memory per run does
not depend on it.

What grows with the runs is in the command's own process: the rows it writes and the
summary it reads back. ``--pipeline-runs 100000 1000000`` measures just that part, in a
fraction of the time (1,000,000 runs of the whole command: 20 minutes on 2 cores, the engine
compiled; far longer from source): a fresh process simulates 500 real runs once,
then streams their rows, renumbered as runs 0 to N-1, through the same writer
(``compare.staged_runs``) and the same summary (``summary.summary_files``: intervals and
plots) that ``drill compare`` uses, and reports its peak (``getrusage``).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from compare_speed import process_children  # benchmarks/ is on the path when run as a script

REPO = Path(__file__).resolve().parent.parent


def _grandchildren(root: int) -> list[int]:
    """The pool's workers: children of the command's forkserver (the forkserver itself,
    a child of the command, only forks them)."""
    children = process_children()
    return [grandchild for child in children.get(root, []) for grandchild in children.get(child, [])]


def _high_water_kb(pid: int) -> int:
    """The kernel's peak resident set of ``pid`` so far (0 if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def measure(runs: int, workers: int, scenario: str, out: Path) -> dict:
    """Run one comparison of ``runs`` runs; its wall time and peak memory (KiB)."""
    variants = REPO / "drills" / "variants"
    command = [sys.executable, "-c", "from sim.cli import main; main()", "compare", scenario,
               "--variant", f"baseline={variants / 'baseline.yaml'}",
               "--variant", f"ic-comms={variants / 'ic-does-comms.yaml'}",
               "--runs", str(runs), "--seed", "1", "--workers", str(workers), "--out", str(out)]
    started = time.perf_counter()
    child = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peaks: dict[int, int] = {}
    stop = threading.Event()

    def sample():
        while not stop.wait(0.2):
            for pid in _grandchildren(child.pid):
                peaks[pid] = max(peaks.get(pid, 0), _high_water_kb(pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    errors = child.stderr.read()  # until the command closes it, at its end
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    stop.set()
    sampler.join()
    elapsed = time.perf_counter() - started
    if child.returncode:
        raise SystemExit(f"drill compare --runs {runs} exited {child.returncode}:\n{errors.decode(errors='replace')}")
    workers_kb = sorted(peaks.values(), reverse=True)
    return {"runs": runs, "seconds": elapsed, "main": usage.ru_maxrss, "workers": workers_kb,
            "total": usage.ru_maxrss + sum(workers_kb), "parquet": (out / "runs.parquet").stat().st_size}


SAMPLE = 500  # real runs simulated for --pipeline-runs, replayed as many times as it takes


def pipeline(runs: int, scenario: str) -> None:
    """(In a fresh process) write and summarise ``runs`` runs made of ``SAMPLE`` real ones; print the peak."""
    import resource

    from sim.analysis import compare, summary
    from sim.inputs.config import load_scenario, scenario_path
    from sim.inputs.variants import load_variant

    variants = tuple(load_variant(n, REPO / "drills" / "variants" / f"{n}.yaml", REPO / "drills" / "process.yaml",
                                  REPO / "drills" / "roster.yaml") for n in ("baseline", "ic-does-comms"))
    sample = list(compare.execute(compare.Plan((load_scenario(scenario_path(scenario)),), variants, SAMPLE, seed=1)))

    def replayed():
        for copy in range(0, runs, SAMPLE):
            for rows in sample:
                yield [{**row, "run": row["run"] + copy} for row in rows if row["run"] + copy < runs]

    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, compare.staged_runs(replayed(), Path(tmp) / "runs.parquet") as staged:
        wrote = time.perf_counter() - started
        files = summary.summary_files(staged, Path(tmp), [{"name": v.name, "description": "", "file": ""} for v in variants],
                                      [{"name": scenario, "runs": runs}], runs, 1)
        size = staged.stat().st_size
    print(json.dumps({"main": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "write": wrote,
                      "summary": time.perf_counter() - started - wrote, "parquet": size, "files": len(files)}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--scenario", default="tests/data/tiny.yaml", help="a scenario name or file")
    parser.add_argument("--pipeline-runs", type=int, nargs="*", default=[])
    parser.add_argument("--pipeline-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.pipeline_child:
        return pipeline(args.pipeline_child, args.scenario)
    print(f"drill compare {args.scenario}, 2 variants, {args.workers} workers; load average {os.getloadavg()[0]:.2f}")
    print(f"{'runs':>8} {'drills':>8} {'time':>8} {'drills/s':>9} {'command MiB':>12} {'each worker MiB':>16} "
          f"{'total MiB':>10} {'runs.parquet MiB':>17} {'load':>5}")
    with tempfile.TemporaryDirectory() as tmp:
        for runs in args.runs:
            m = measure(runs, args.workers, args.scenario, Path(tmp) / str(runs))
            print(f"{runs:>8,} {2 * runs:>8,} {m['seconds']:>7.0f}s {2 * runs / m['seconds']:>9.0f} "
                  f"{m['main'] / 1024:>12.0f} {' + '.join(f'{w / 1024:.0f}' for w in m['workers']):>16} "
                  f"{m['total'] / 1024:>10.0f} {m['parquet'] / 2**20:>17.1f} {os.getloadavg()[0]:>5.2f}", flush=True)
    if args.pipeline_runs:
        print(f"\nwriter + summary only, rows of {SAMPLE} real runs replayed (one fresh process per size)")
        print(f"{'runs':>10} {'rows':>10} {'peak MiB':>9} {'write':>7} {'summary':>8} {'runs.parquet MiB':>17}")
    for runs in args.pipeline_runs:
        child = subprocess.run([sys.executable, __file__, "--pipeline-child", str(runs), "--scenario", args.scenario],
                               cwd=REPO, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
        if child.returncode:
            raise SystemExit(child.stderr)
        m = json.loads(child.stdout.splitlines()[-1])
        print(f"{runs:>10,} {2 * runs:>10,} {m['main'] / 1024:>9.0f} {m['write']:>6.0f}s {m['summary']:>7.0f}s "
              f"{m['parquet'] / 2**20:>17.1f}", flush=True)


if __name__ == "__main__":
    main()
