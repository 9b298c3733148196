"""Fingerprint drillsim's outputs, to show a refactor or a speed-up changed no behaviour.

Runs, in a scratch folder, every library scenario over three seeds, the timeline script,
`drill generate`, the Chaos Toolkit imports of the shared fixtures, a small `drill
compare` and the README's quarterly report, then prints one sha256 per output file:

    python benchmarks/fingerprint.py > before.txt
    ... change the code ...
    python benchmarks/fingerprint.py > after.txt && diff before.txt after.txt

Files that carry the moment they were made (the drill store itself) are left out.
"""

import hashlib
import os
import shlex
import shutil
import sys
import tempfile
from pathlib import Path

from click.testing import CliRunner

REPO = Path(__file__).resolve().parent.parent
# Fingerprint this checkout's engine: without this, `python benchmarks/fingerprint.py` imports
# whichever one the environment has installed (an editable install of another checkout).
sys.path.insert(0, str(REPO))
FIXTURES = REPO.parent / "shared" / "fixtures" / "chaostoolkit"
SEEDS = (1, 2, 3)


def drill(*args: str) -> None:
    from sim.cli import main

    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    if result.exit_code:
        sys.exit(f"drill {shlex.join(args)} exited {result.exit_code}:\n{result.output}")


def quarter_commands() -> list[list[str]]:
    text = (REPO / "README.md").read_text(encoding="utf-8").split("## The quarterly drill report", 1)[1]
    block = text.split("```bash\n", 1)[1].split("```", 1)[0]
    return [shlex.split(line, comments=True)[1:] for line in block.splitlines() if line.startswith("drill ")]


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        shutil.copytree(REPO / "drills", work / "drills", ignore=shutil.ignore_patterns("drills.db*"))
        shutil.copytree(REPO / "scenarios", work / "scenarios")
        shutil.copytree(REPO / "tests" / "data", work / "data")
        shutil.copytree(REPO / "tests" / "data", work / "tests" / "data")  # the README's commands name tests/data/
        os.chdir(work)
        os.environ["DRILLSIM_STORE"] = str(work / "scratch.db")
        for scenario in sorted(p.stem for p in (work / "scenarios").glob("*.yaml")):
            for seed in SEEDS:
                drill("run", scenario, "--seed", str(seed), "--date", "2026-11-02", "--out", f"out/run/{scenario}/{seed}")
        drill("run", "--script", "data/article.yaml", "--date", "2026-11-02", "--out", "out/script")
        drill("generate", "--seed", "3", "--count", "3", "--out", "out/generated")
        for experiment in sorted(FIXTURES.glob("*.json")):
            drill("import", "chaostoolkit", str(experiment), "--target", "checkout", "--out", f"out/chaos/{experiment.stem}.yaml")
        variants = [f"--variant={v.stem}=drills/variants/{v.name}" for v in sorted((work / "drills" / "variants").glob("*.yaml"))[:3]]
        drill("compare", *variants, "--runs", "40", "--seed", "5", "--workers", "1", "--out", "out/compare")
        os.environ["DRILLSIM_STORE"] = str(work / "drills" / "drills.db")
        for args in quarter_commands():
            drill(*args, *(["--out", "out/quarter"] if args[:2] == ["report", "quarter"] else []))
        for path in sorted((work / "out").rglob("*")):
            if path.is_file():
                print(hashlib.sha256(path.read_bytes()).hexdigest()[:16], path.relative_to(work / "out"))


if __name__ == "__main__":
    main()
