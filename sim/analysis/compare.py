"""Comparing process variants on many simulated drills: the run plan, its execution, the rows.

Every run draws a scenario and a seed once; every variant runs that same scenario and
seed (common random numbers), so differences between variants are paired. Runs are
cut into batches that each simulate every variant of their runs; a batch returns
metric rows only, never event logs. Batches run serially, on a local process pool or
on a Dask cluster, and their rows are handed back in run order, whatever order they
finished in, so the output is the same on any of them.
"""

import itertools
import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..inputs.config import DEFAULT_WEIGHTS, Scenario
from ..inputs.errors import DrillError
from ..inputs.variants import Variant
from ..model.engine import run_drill
from ..outputs.files import remove_stale, replace_files, running, temporary_beside
from ..outputs.scoring import CHECKLIST, score
from .journal import Journal

ROW_GROUP = 4096  # rows buffered before a Parquet row group is written (bounds memory)
BATCH_DRILLS = 200  # drills per task: ~1 s of work against ~2 ms of Dask scheduling per task


@dataclass(frozen=True)
class Plan:
    """What to run: scenarios (with weights), variants (the first is the baseline), runs and a seed."""

    scenarios: tuple[Scenario, ...]
    variants: tuple[Variant, ...]
    runs: int
    seed: int = 0
    weights: tuple[float, ...] = ()

    def __post_init__(self):
        if self.runs < 1:
            raise DrillError("--runs must be at least 1")
        if not self.scenarios or not self.variants:
            raise DrillError("a comparison needs at least one scenario and one variant")
        names = [v.name for v in self.variants]
        if len(set(names)) != len(names):
            raise DrillError(f"variant names must differ: {', '.join(names)}")
        stories = [s.name for s in self.scenarios]
        twice = sorted({n for n in stories if stories.count(n) > 1})  # else listed twice in the summary, rows alike
        if twice:
            raise DrillError(f"scenario {', '.join(twice)} given twice: give each once, and --weights to weigh one more")
        if self.weights and (len(self.weights) != len(self.scenarios) or min(self.weights) < 0 or sum(self.weights) <= 0):
            raise DrillError("give one non-negative weight per scenario, not all zero")

    @property
    def drills(self) -> int:
        return self.runs * len(self.variants)

    def assignments(self) -> tuple:
        """Per run: the scenario's index and the drill seed (numpy arrays), both drawn from ``seed``.

        Scenarios get their share of runs exactly (largest remainder), in a shuffled order.
        """
        # imported here: the pool's workers import this module, and a process that imports numpy
        # keeps a BLAS thread that takes its own share of the CPU
        import numpy as np

        weights = np.asarray(self.weights or [1.0] * len(self.scenarios), dtype=float)
        quota = self.runs * weights / weights.sum()
        counts = np.floor(quota).astype(int)
        short = self.runs - counts.sum()
        counts[np.argsort(-(quota - counts), kind="stable")[:short]] += 1
        rng = np.random.default_rng(self.seed)
        scenario = rng.permutation(np.repeat(np.arange(len(self.scenarios)), counts))
        seeds = rng.integers(0, 2**31 - 1, size=self.runs)
        return scenario, seeds

    def per_batch(self, workers: int) -> int:
        """Runs per batch: small enough to spread over ``workers``."""
        return max(1, min(BATCH_DRILLS // len(self.variants), self.runs // (8 * max(1, workers)) or 1))

    def batches(self, per_batch: int) -> Iterator[list[tuple[int, int, int]]]:
        """``(run, scenario index, seed)`` lists of ``per_batch`` runs, made as they are asked for:
        a million runs are two arrays of a million numbers, not a million tuples."""
        scenario, seeds = self.assignments()
        for start in range(0, self.runs, per_batch):
            yield [(i, int(scenario[i]), int(seeds[i])) for i in range(start, min(start + per_batch, self.runs))]


# -- one batch, on whichever worker --


def run_batch(context: tuple, batch: list[tuple[int, int, int]]) -> list[dict]:
    """Simulate every variant of each run in ``batch``; return one metric row per drill."""
    scenarios, variants = context
    rows = []
    for run, index, seed in batch:
        scenario = scenarios[index]
        for variant in variants:
            try:
                result = run_drill(scenario, variant.process, variant.roster, seed=seed, samples=False)
                rows.append(row(run, variant.name, seed, result, score(result.events, scenario, variant.process)))
            except Exception as exc:  # a drill that fails is a result too: kept, counted, never the whole run lost
                rows.append({"run": run, "variant": variant.name, "scenario": scenario.name, "seed": seed,
                             "error": f"{type(exc).__name__}: {exc}"})
    return rows


def row(run: int, variant: str, seed: int, result, card: dict) -> dict:
    """One drill as a flat row: every scorecard metric, checklist item and component, and the workload."""
    m = card["metrics"]
    out = {"run": run, "variant": variant, "scenario": result.scenario.name, "seed": seed}
    for name, value in m.items():
        if isinstance(value, list):
            out[name] = ",".join(value)
            out[f"{name}_count"] = len(value)
        else:
            out[name] = value
    out["declared"] = m["declared_severity"] is not None
    out.update({f"check_{name}": value for name, value in card["checklist"].items()})
    out.update({f"component_{name}": value for name, value in card["components"].items()})
    out["score"] = card["score"]
    worked = [p["worked"] for p in result.participants]
    out["people_engaged"] = sum(1 for w in worked if w)
    for kind, column in (("coordinate", "coordination_min"), ("brief", "briefing_min"), ("write", "update_writing_min"),
                         ("investigate", "investigation_min")):
        out[column] = round(sum(w.get(kind, 0.0) for w in worked) / 60.0, 3)
    return out


def schema():
    """The column types of ``runs.parquet`` (every batch writes the same schema)."""
    import pyarrow as pa

    floats = ["time_to_detect_s", "time_to_acknowledge_s", "time_to_declare_s", "time_to_mitigate_s",
              "time_to_resolve_s", "customer_impact_min", "cadence_adherence", "role_coverage", "revenue_lost",
              "failed_requests", "lost_requests", "bad_requests", "slo_budget_consumed", "score", "coordination_min",
              "briefing_min", "update_writing_min", "investigation_min"]
    ints = ["run", "seed", "severity_changes", "ic_hands_on_actions", "max_roles_per_person", "teams_paged_count",
            "teams_needed_count", "teams_missing_count", "updates_posted", "actions_rejected", "people_engaged"]
    texts = ["variant", "scenario", "detected_by", "declared_severity", "highest_severity", "expected_severity", "teams_paged",
             "teams_needed", "teams_missing", "postmortem_date", "error"]
    flags = ["false_alarm", "false_alarm_handled", "postmortem_in_time", "declared", *(f"check_{c}" for c in CHECKLIST)]
    components = list(DEFAULT_WEIGHTS)
    types = {**{c: pa.float64() for c in floats}, **{c: pa.int64() for c in ints}, **{c: pa.string() for c in texts},
             **{c: pa.bool_() for c in flags}, **{f"component_{c}": pa.float64() for c in components}}
    order = ["run", "variant", "scenario", "seed", *[c for c in types if c not in ("run", "variant", "scenario", "seed")]]
    return pa.schema([(c, types[c]) for c in order])


# -- running the batches --

_context: tuple | None = None
RETRIES = 2  # a batch whose worker died is run again on a new one this many times


def _set_context(context: tuple, main: int) -> None:
    global _context
    _context = context
    threading.Thread(target=_exit_with, args=(os.getppid(), main), daemon=True).start()


def _exit_with(parent: int, main: int) -> None:
    """A worker whose comparison is gone (its main process killed, even by SIGKILL, or its
    forkserver ended) stops too, rather than simulating for nobody."""
    while os.getppid() == parent and running(main):
        time.sleep(0.5)
    os._exit(1)


def _run_in_worker(batch):
    return run_batch(_context, batch)


def execute(plan: Plan, workers: int = 1, dask: "str | object | None" = None,
            progress: Callable[[int], None] | None = None, kept: Journal | None = None) -> Iterator[list[dict]]:
    """Rows of each batch, in run order. ``dask`` is a scheduler address or a ``distributed.Client``.

    At most a few batches per worker are in flight, so memory stays flat however many runs.
    With a journal (``kept``), each finished batch is added to it, and the batches it already
    holds (a stopped comparison of the same plan finished them) are taken from it, not run again.
    """
    per_batch = kept.per_batch if kept else plan.per_batch(workers)
    todo = ((i, b) for i, b in enumerate(plan.batches(per_batch)) if kept is None or i not in kept)
    computed = _run(plan, todo, workers, dask, progress)
    for i in range(-(-plan.runs // per_batch)):
        if kept is not None and i in kept:
            rows = kept.rows(i)
            if progress:
                progress(len(rows))
        else:
            index, rows = next(computed)
            if kept is not None:
                kept.add(index, rows)
        yield rows


def _run(plan: Plan, todo: list, workers: int, dask, progress) -> Iterator[tuple[int, list[dict]]]:
    """``(index, rows)`` of each of ``todo``'s batches, in order, on whichever executor."""
    context = (plan.scenarios, plan.variants)
    if dask is not None:
        client = connect(dask)
        try:
            slots = max(1, sum(client.nthreads().values()))
            [shared] = client.scatter([context], broadcast=True)  # one object, on every worker
            yield from _Ordered(lambda b: client.submit(run_batch, shared, b, pure=False), todo, 4 * slots, progress)
        finally:
            if client is not dask:
                client.close()
    elif workers > 1:
        yield from _local_pool(context, todo, workers, progress)
    else:
        for index, batch in todo:
            rows = run_batch(context, batch)
            if progress:
                progress(len(rows))
            yield index, rows


def connect(dask):
    """A ``distributed.Client`` of the cluster whose scheduler is at ``dask`` (a Client is given back)."""
    from distributed import Client

    if isinstance(dask, Client):
        return dask
    try:
        return Client(dask, timeout="20s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise DrillError(f"cannot reach the Dask scheduler at {dask}: {exc}") from None


def _local_pool(context, todo, workers, progress):
    """Batches on local worker processes. When one dies (killed, out of memory) the pool is
    broken for every batch in flight, so a new pool takes them all over, in the same order."""
    # forkserver: workers start clean, never forked from a process that runs threads;
    # preloading the engine there means each worker starts without importing it again.
    forkserver = multiprocessing.get_context("forkserver")
    forkserver.set_forkserver_preload(["sim.analysis.compare"])
    lost: dict[int, int] = {}
    queue = iter(todo)
    while True:
        pool = ProcessPoolExecutor(workers, mp_context=forkserver, initializer=_set_context,
                                   initargs=(context, os.getpid()))
        results = _Ordered(lambda b: pool.submit(_run_in_worker, b), queue, 4 * workers, progress)
        done = False
        try:
            yield from results
            done = True
            return
        except BrokenProcessPool:
            index, batch = results.unfinished[0]
            lost[index] = lost.get(index, 0) + 1
            if lost[index] > RETRIES:
                raise DrillError(f"a worker died {lost[index]} times running runs {batch[0][0]} to {batch[-1][0]} "
                                 "(out of memory?): stopped; run the same command again to carry on") from None
            queue = itertools.chain(results.unfinished, queue)
        finally:
            if done:
                pool.shutdown()
            else:
                _stop(pool)


def _stop(pool: ProcessPoolExecutor) -> None:
    """Cancel what has not started and end the workers now: after Ctrl-C, SIGTERM or a
    broken pool, nobody waits for their batches."""
    processes = list((pool._processes or {}).values())  # the executor has no public way to end its workers
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.kill()
    for process in processes:
        process.join()


class _Ordered:
    """Submit up to ``window`` ``(index, batch)`` pairs ahead and hand their ``(index, rows)``
    back in submission order; ``unfinished`` holds the pairs taken but not handed back yet."""

    def __init__(self, submit, batches, window, progress):
        self.submit, self.queue, self.window, self.progress = submit, iter(batches), window, progress
        self.pending: deque = deque()
        self.held = None  # taken from the queue, not yet submitted (submitting can fail)

    @property
    def unfinished(self) -> list:
        return [item for item, _ in self.pending] + ([self.held] if self.held else [])

    def _fill(self) -> None:
        while len(self.pending) < self.window:
            if self.held is None:
                self.held = next(self.queue, None)
                if self.held is None:
                    return
            self.pending.append((self.held, self.submit(self.held[1])))
            self.held = None

    def __iter__(self):
        self._fill()
        while self.pending:
            (index, _), future = self.pending[0]
            rows = future.result()
            self.pending.popleft()
            if self.progress:
                self.progress(len(rows))
            yield index, rows
            self._fill()  # after handing the rows back: a pool found broken here loses none


@contextmanager
def staged_runs(rows: Iterator[list[dict]], path) -> Iterator[Path]:
    """Stream rows into a temporary Parquet file beside ``path`` and yield it, complete and
    synced, for the caller to rename into place (``files.replace_files(staged=...)``); it is
    removed on the way out if it is still there (an error, Ctrl-C, or the caller chose not to).

    Row groups hold exactly ``ROW_GROUP`` rows (the last one the rest) whatever the batches
    were, so the bytes do not depend on how the runs were cut or on how many workers ran them,
    and memory holds one row group at most, however many runs.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(path)  # left by a comparison that was killed
    fd, name = temporary_beside(path)
    os.close(fd)  # the Parquet writer opens it by name
    tmp = Path(name)
    table_schema = schema()
    buffer: list[dict] = []
    try:
        with pq.ParquetWriter(tmp, table_schema) as writer:
            for batch in rows:
                buffer.extend(batch)
                while len(buffer) >= ROW_GROUP:
                    writer.write_table(pa.Table.from_pylist(buffer[:ROW_GROUP], schema=table_schema))
                    del buffer[:ROW_GROUP]
            if buffer:
                writer.write_table(pa.Table.from_pylist(buffer, schema=table_schema))
        with open(tmp, "rb") as written:
            os.fsync(written.fileno())
        yield tmp
    finally:
        tmp.unlink(missing_ok=True)


def write_runs(rows: Iterator[list[dict]], path) -> Path:
    """Stream rows into ``runs.parquet`` at ``path``, replaced atomically when complete."""
    path = Path(path)
    with staged_runs(rows, path) as tmp:
        replace_files(path.parent, {}, staged={path.name: tmp})
    return path


def default_name(plan: Plan) -> str:
    """``<variant>-vs-<variant>...`` for the output folder, shortened for long lists."""
    name = "-vs-".join(v.name for v in plan.variants)
    return name if len(name) <= 80 else f"{plan.variants[0].name}-vs-{len(plan.variants) - 1}-variants"
