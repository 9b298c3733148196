"""Drills per second of ``drill compare`` on 1 and 2 local workers and on a 2-worker Dask cluster.

    python benchmarks/compare_speed.py [--runs 5000] [--repeat 1] [--scenario checkout-config-push]

Runs ``drill compare`` end to end in-process (plan, simulate, score, stream runs.parquet)
and times the simulation phase; the summary (bootstrap, plots) is timed separately.
Targets on a 2-core machine: 10,000 drills (2 variants x 5,000 runs) in under 60 s on
2 workers, at least 1.8x from 1 to 2 workers, and a Dask cluster of 2 worker processes
(``LocalCluster(processes=True, n_workers=2)``, started beforehand as an existing cluster
is; connecting to it and scattering the inputs are timed) at least 0.85x the local pool,
with a runs.parquet byte-identical to the pool's. On a shared machine, ``--repeat N``
alternates the three N times and keeps each one's best, as timeit does, so that other
programs' load distorts the comparison less.
"""

import argparse
import os
import tempfile
import threading
import time
from pathlib import Path

from sim.analysis import compare
from sim.analysis.summary import write_summary
from sim.inputs.config import load_scenario, scenario_path
from sim.inputs.variants import load_variant

REPO = Path(__file__).resolve().parent.parent


def _cpu_seconds(pids) -> float:
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
    return total


def process_children() -> dict[int, list[int]]:
    """Every running process's children, read from /proc (Linux): parent pid -> child pids."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(stat.parent.name))
    return children


def _descendants(root: int) -> list[int]:
    children, found = process_children(), []
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


class CpuMeter:
    """CPU seconds used by this process and its worker processes, sampled from /proc (Linux).

    Tells how much of a core each worker actually got: on a shared machine, other
    programs take cores, and the wall-clock speed-up says more about them than about us.
    """

    def __init__(self):
        self.last: dict[int, float] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self):
        while not self.stop.wait(0.2):
            for pid in _descendants(os.getpid()):
                self.last[pid] = max(self.last.get(pid, 0.0), _cpu_seconds([pid]))

    def __enter__(self):
        self.start = time.process_time()
        # Workers already running (a Dask cluster's) count from now, not from their start.
        self.before = {pid: _cpu_seconds([pid]) for pid in _descendants(os.getpid())}
        self.last = dict(self.before)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()
        self.main = time.process_time() - self.start
        self.workers = sum(used - self.before.get(pid, 0.0) for pid, used in self.last.items())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--scenario", default="checkout-config-push", help="a library scenario's name or a scenario file")
    parser.add_argument("--no-serial", action="store_true", help="only the pool and Dask (saves a third of the time)")
    args = parser.parse_args()
    from distributed import LocalCluster

    scenario = load_scenario(scenario_path(args.scenario))
    variants = tuple(load_variant(n, REPO / "drills" / "variants" / f"{n}.yaml", REPO / "drills" / "process.yaml",
                                  REPO / "drills" / "roster.yaml") for n in ("baseline", "ic-does-comms"))
    plan = compare.Plan((scenario,), variants, args.runs, seed=1)
    print(f"load average before: {os.getloadavg()[0]:.2f} (anything else running takes cores from the workers)")
    started = time.perf_counter()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
            tempfile.TemporaryDirectory() as tmp:
        print(f"Dask LocalCluster(processes=True, n_workers=2) started in {time.perf_counter() - started:.1f} s "
              "(not timed below: --dask joins a running cluster)")
        ways = {"1 worker ": (1, None), "2 workers": (2, None), "Dask x 2 ": (2, cluster.scheduler_address)}
        if args.no_serial:
            del ways["1 worker "]
        rates = dict.fromkeys(ways, 0.0)
        for _ in range(args.repeat):
            for way, (workers, dask) in ways.items():
                out = Path(tmp) / way.strip()
                started = time.perf_counter()
                with CpuMeter() as cpu:
                    runs = compare.write_runs(compare.execute(plan, workers, dask), out / "runs.parquet")
                elapsed = time.perf_counter() - started
                rates[way] = max(rates[way], plan.drills / elapsed)
                used = cpu.main + cpu.workers
                print(f"{way}  {plan.drills} drills in {elapsed:6.1f} s  {plan.drills / elapsed:6.0f} drills/s   "
                      f"CPU used: {used:5.1f} s = {used / elapsed:4.2f} cores (main process {cpu.main:.1f} s), "
                      f"{plan.drills / used:5.0f} drills per CPU-second; load average {os.getloadavg()[0]:.2f}")
        files = {way: (Path(tmp) / way.strip() / "runs.parquet").read_bytes() for way in ways}
        identical = len(set(files.values())) == 1
        started = time.perf_counter()
        write_summary(runs, out, [{"name": v.name, "description": "", "file": ""} for v in variants],
                      [{"name": scenario.name, "runs": args.runs}], args.runs, 1)
        print(f"summary (bootstrap of 14 metrics, 9 plots): {time.perf_counter() - started:.1f} s")
    pool, dask = rates["2 workers"], rates["Dask x 2 "]
    one = f"1 worker {rates['1 worker ']:.0f} drills/s (speed-up to 2 workers {pool / rates['1 worker ']:.2f}x), " \
        if "1 worker " in rates else ""
    print(f"best: {one}2 workers {pool:.0f} drills/s, Dask x 2 {dask:.0f} drills/s, Dask / pool: {dask / pool:.2f}x; "
          f"runs.parquet identical: {identical}; load average after: {os.getloadavg()[0]:.2f}")
    if not identical:
        raise SystemExit("runs.parquet differs between the ways of running: a result depends on how the work is split")


if __name__ == "__main__":
    main()
