"""Every benchmark the README quotes still runs, on a tiny load: a figure nobody can measure
again is no figure. (Speed is not asserted: only that each runs and reports what it checks.)

Left out for their time: alertmanager_diff.py (a round is the differential test itself),
compare_speed.py (a Dask cluster), kill_resume.py (its trials are tests of their own),
fingerprint.py and instructions.py (minutes; the second needs valgrind).
"""

import shutil
import subprocess
import sys

import pytest

from .conftest import REPO

RUNS = {  # benchmark and tiny arguments -> what its output must say
    "drills_per_second.py --drills 3": "50 PromQL rules",
    "scale.py --sizes 10,20 --rounds 1 --seconds 0 --least 2": "fitted exponent",
    "scale.py --sizes 10,20 --rounds 1 --seconds 0 --least 2 --team-rules": "fitted exponent",
    "fuzz_inputs.py --cases 14": "0 failures",
    "promtool_diff.py --cases 10 --batch 10": "total: 10 cases, 0 disagreements",
    "calibration.py --seeds 1": "14 scenarios x 1 seeds",
    "generate_bands.py --seeds 2 --per-band 1": "hard:",
    "promql_same.py --against HEAD --cases 2": " 0 differ",
    "serve_load.py --people 3 --seconds 2": "exactly once",
    "compare_memory.py --runs 20 --workers 1": "runs.parquet",
    "mutate.py --list": "Pager.acknowledge",
}


def _has_history() -> bool:
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, check=False).returncode == 0


@pytest.mark.parametrize("command", RUNS)
def test_a_benchmark_runs(command):
    script, *args = command.split()
    if script == "promtool_diff.py" and shutil.which("promtool") is None:
        pytest.skip("promtool is not installed")
    if script == "promql_same.py" and not _has_history():
        pytest.skip("not a git checkout")
    done = subprocess.run([sys.executable, str(REPO / "benchmarks" / script), *args], cwd=REPO,
                          capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert RUNS[command] in done.stdout, done.stdout[-2000:]
