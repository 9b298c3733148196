"""`drill compare` survives losing a worker or being stopped: a dead worker's batch runs
again on a new one, and a comparison killed (SIGKILL) or stopped (SIGTERM) leaves no
process behind and resumes into the same folder with a byte-identical runs.parquet."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from sim.analysis import compare, journal
from sim.cli import main
from sim.inputs.config import load_scenario
from sim.inputs.variants import load_variant

from .conftest import DATA, REPO

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")

VARIANTS = REPO / "drills" / "variants"
TINY = DATA / "tiny.yaml"
ARGS = ["compare", str(TINY), "--variant", f"baseline={VARIANTS / 'baseline.yaml'}",
        "--variant", f"fast={VARIANTS / 'cadence-15m.yaml'}", "--runs", "64", "--seed", "7",
        "--process", str(REPO / "drills" / "process.yaml"), "--roster", str(REPO / "drills" / "roster.yaml")]


def _stat(pid: int) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after the command's name (state, parent, ...), or None
    when the process is gone: it can end between listing /proc and reading it."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _children() -> dict[int, int]:
    """pid -> parent pid of every process."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))):
            found[int(entry.name)] = int(fields[1])
    return found


def _descendants(pid: int) -> dict[int, str]:
    """Every process below ``pid``: pid -> its start time (``stat`` field 22), which tells the
    process apart from a later one given the same pid."""
    parents = _children()
    found, frontier = set(), {pid}
    while frontier:
        frontier = {p for p, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return {p: fields[19] for p in found if (fields := _stat(p))}


def _alive(family: dict[int, str]) -> set[int]:
    """Those of ``family`` still running: not gone, not a zombie, not a new process on a reused pid."""
    return {p for p, started in family.items()
            if (fields := _stat(p)) and fields[0] not in "ZX" and fields[19] == started}


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text()
    except OSError:  # ended meanwhile
        return ""


def _plan(runs: int, seed: int) -> compare.Plan:
    """The plan ARGS give `drill compare`."""
    process, roster = REPO / "drills" / "process.yaml", REPO / "drills" / "roster.yaml"
    return compare.Plan((load_scenario(TINY),), (load_variant("baseline", VARIANTS / "baseline.yaml", process, roster),
                                                 load_variant("fast", VARIANTS / "cadence-15m.yaml", process, roster)),
                        runs=runs, seed=seed)


def test_a_killed_worker_s_batch_runs_again_on_a_new_one():
    plan = _plan(48, 3)
    killed = []

    def kill_a_worker(_):
        if not killed:
            workers = [p for p in _descendants(os.getpid()) if "forkserver" in _cmdline(p)]
            workers = [p for p in workers if _children().get(p) in workers]  # forked by the forkserver
            if workers:  # else none is up yet: the next batch done tries again (and killed says if none did)
                os.kill(workers[0], signal.SIGKILL)
                killed.append(workers[0])

    pooled = [row for rows in compare.execute(plan, workers=2, progress=kill_a_worker) for row in rows]
    serial = [row for rows in compare.execute(plan) for row in rows]
    assert killed and pooled == serial and len(serial) == 96


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_a_stopped_comparison_leaves_no_process_and_resumes_byte_identical(tmp_path, how):
    out = tmp_path / "stopped"
    command = [sys.executable, "-c", "from sim.cli import main; main()", *ARGS, "--workers", "2", "--out", str(out)]
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path)
    kept = out / journal.NAME
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (not kept.exists() or kept.read_text().count("\n") < 3):
        assert child.poll() is None, "the comparison ended before it could be stopped"
        time.sleep(0.05)
    family = _descendants(child.pid)
    assert family  # the forkserver and its workers
    child.send_signal(how)
    assert child.wait(30) != 0
    deadline = time.monotonic() + 15
    while _alive(family) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(family), "workers kept running after the comparison was stopped"
    finished = kept.read_text().count("\n") - 1
    assert finished >= 2 and not (out / "runs.parquet").exists()
    assert json.loads(kept.read_text().splitlines()[0])["per_batch"] == 4  # 64 runs // (8 x 2 workers)

    result = CliRunner().invoke(main, [*ARGS, "--workers", "2", "--out", str(out)])  # the same command again
    assert result.exit_code == 0, result.output
    done = int(result.output.split("already done")[0].split(": ")[-1].split()[0])
    assert done >= finished  # every batch finished before the stop was taken, none run again
    assert sorted(p.name for p in out.iterdir()) == ["plots", "runs.parquet", "summary.html", "summary.md"]
    uninterrupted = compare.write_runs(compare.execute(_plan(64, 7)), tmp_path / "whole" / "runs.parquet")
    assert (out / "runs.parquet").read_bytes() == uninterrupted.read_bytes()


def test_a_journal_of_another_plan_is_not_taken(tmp_path):
    out = tmp_path / "cmp"
    out.mkdir()
    (out / journal.NAME).write_text('{"plan": "another", "per_batch": 3}\n{"batch": 0, "rows": []}\n')
    result = CliRunner().invoke(main, [*ARGS, "--runs", "12", "--workers", "1", "--out", str(out)])
    assert "Carrying on" not in result.output
    assert result.exit_code == 0, result.output
    assert not (out / journal.NAME).exists()
    assert len(pd.read_parquet(out / "runs.parquet")) == 24  # 12 runs x 2 variants, none taken from the stale journal


def test_a_comparison_stopped_during_its_summary_changes_nothing_and_carries_on(tmp_path, monkeypatch):
    from sim.analysis import summary

    out = tmp_path / "cmp"

    def compare_runs(seed):
        return CliRunner().invoke(main, [*ARGS, "--runs", "12", "--seed", str(seed), "--workers", "1", "--out", str(out)])

    assert compare_runs(7).exit_code == 0
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}

    def stopped(*args, **kwargs):
        raise KeyboardInterrupt  # Ctrl-C (or SIGTERM) once the runs are simulated, while the summary is made

    with monkeypatch.context() as patch:
        patch.setattr(summary, "summary_files", stopped)
        stopped_run = compare_runs(8)  # another plan into the same folder, stopped
    # It said only "Aborted!", as if the runs were lost.
    assert stopped_run.exit_code == 1 and stopped_run.stderr.endswith(
        f"interrupted: 12 of 12 runs kept in {out / journal.NAME}; run the same command again to carry on\n")
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file() and p.name != journal.NAME}
    assert after == before  # the last comparison's runs.parquet, summary and plots; nothing half-written
    assert (out / journal.NAME).read_text().count("\n") == 13  # header + 12 batches (12 runs // 8 -> 1 run each)

    result = compare_runs(8)
    assert result.exit_code == 0 and "12 batches of runs already done" in result.output
    assert not (out / journal.NAME).exists()
    uninterrupted = compare.write_runs(compare.execute(_plan(12, 8)), tmp_path / "whole" / "runs.parquet")
    assert (out / "runs.parquet").read_bytes() == uninterrupted.read_bytes()
    assert "seed 8" in (out / "summary.md").read_text()  # and the summary is the new comparison's


def test_an_interrupted_comparison_says_how_many_runs_it_kept(tmp_path, monkeypatch):
    out, add = tmp_path / "cmp", journal.Journal.add

    def stop_at_the_fifth(self, index, rows):
        add(self, index, rows)
        if len(self.offsets) == 5:
            raise KeyboardInterrupt

    monkeypatch.setattr(journal.Journal, "add", stop_at_the_fifth)
    result = CliRunner().invoke(main, [*ARGS, "--runs", "12", "--workers", "1", "--out", str(out)])
    assert result.exit_code == 1 and "Aborted!" not in result.output
    assert result.stderr.endswith(f"interrupted: 5 of 12 runs kept in {out / journal.NAME}; "
                                  "run the same command again to carry on\n")  # batches of 1 run (12 // 8)
    # Batches of 4 runs, the last of 10 runs holds 2: the first and the last kept are 6 runs.
    kept = journal.Journal(tmp_path / "short", _plan(10, 1), 4)
    kept.add(0, [])
    kept.add(2, [])
    kept.close()
    assert kept.runs == 6
