"""The README, run top to bottom as a new team would, leaves the drill store it promises.

Every `drill` command in the README's bash blocks runs, in order, in a scratch copy of the
repository's drills/ and scenarios/, except those that need what a new clone lacks (a file the
README asks you to write, a terminal, a browser, a Dask cluster) or that never touch the drill
store (generate, import, compare, validate, check-alerts).
"""

import re
import shlex
import shutil

from click.testing import CliRunner

from sim.cli import main
from sim.records import store

from .conftest import REPO

SKIPPED = {"live", "serve", "compare", "generate", "import", "validate", "scenarios", "check-alerts"}


def readme_commands() -> list[list[str]]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            if not line.startswith("drill ") or "..." in line:
                continue
            args = shlex.split(line, comments=True)[1:]
            if ">" in args:
                args = args[:args.index(">")]
            if args[0] in SKIPPED or any(a.endswith(".yaml") and not (REPO / a).exists() for a in args):
                continue  # needs a file the README asks you to write (my-process.yaml, facilitator/...)
            commands.append(args)
    return commands


def test_the_readme_walk_through_leaves_the_intended_quarter(tmp_path, monkeypatch):
    shutil.copytree(REPO / "drills", tmp_path / "drills", ignore=shutil.ignore_patterns("drills.db*", "2027-*"))
    shutil.copytree(REPO / "scenarios", tmp_path / "scenarios")
    shutil.copytree(REPO / "tests" / "data", tmp_path / "tests" / "data")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DRILLSIM_STORE", str(tmp_path / "drills" / "drills.db"))
    commands = readme_commands()
    assert ["report", "quarter", "2026-Q4"] in commands and ["void", "2", "--reason", "recorded twice by mistake"] in commands
    runner = CliRunner()
    for args in commands:
        result = runner.invoke(main, args)
        assert result.exit_code == 0, f"drill {shlex.join(args)}\n{result.output}"

    # Recorded: the two drills of the records section (the second voided), then the quarter's seven.
    kept = store.drills(voided=True)
    assert [(d.id, d.conducted, d.scenario, bool(d.voided)) for d in kept if d.id <= 2][0][1:] == (
        "2026-09-16", "sev3-worsening", False)
    assert store.drill(2).void_reason == "recorded twice by mistake"
    q4 = store.drills(quarter="2026-Q4")
    assert [(d.conducted, d.scenario, d.plan_entry, d.simulated) for d in q4] == [
        ("2026-10-14", "checkout-config-push", 1, False),
        ("2026-11-11", q4[1].scenario, 2, True),
        ("2026-12-02", "night-db-storm-red-herrings", None, True)]
    entry1 = q4[0]
    assert (entry1.turn("ic"), entry1.turn("comms"), entry1.turn("ops"), entry1.shadows("ic")) == ("lee", "sam", "dana", ["priya"])
    assert entry1.plan_deviations == ()

    md = (tmp_path / "reports" / "2026-Q4" / "report.md").read_text()
    assert "| Drills run | 3 (1 with people, 2 simulated; 3 planned, 2 of them run) |" in md
    people = md.split("## Drills with people")[1].split("##")[0]
    simulated = md.split("## Simulated drills (bots only: nobody's turn)")[1].split("##")[0]
    assert re.findall(r"^\| (\d+) \| (\S+) \| (\S+)", people, re.M) == [(str(entry1.id), "2026-10-14", "checkout-config-push")]
    assert re.findall(r"^\| (\d+) \| (\S+) \| (\S+)", simulated, re.M) == [
        (str(q4[1].id), "2026-11-11", q4[1].scenario), (str(q4[2].id), "2026-12-02", "night-db-storm-red-herrings")]
    plan = md.split("## The plan")[1].split("##")[0]
    assert f"| 1 | 2026-10-14 | checkout-config-push | drill {entry1.id} counts |" in plan
    assert f"| 2 | 2026-11-11 | random (medium) | drill {q4[1].id} counts (simulated: bots only) |" in plan
    assert "| 3 | 2026-12-09 | generated (hard, seed 7) | not run |" in plan
    # IC turns: the article's replay in 2026-Q2 (alex) and entry 1 (lee); the bots' drills count for nobody.
    rotation = md.split("## IC rotation")[1].split("##")[0]
    rows = {line.split(" | ")[0].strip("| ").split(" (")[0]: line for line in rotation.splitlines() if line.startswith("| ")}
    assert rows["lee"].endswith("| - | - | - | - | 1 | 1 |") and rows["alex"].endswith("| - | - | 1 | - | - | 1 |")
    assert "Never served as IC: dana, priya, marco." in rotation
    for text in ("nan", "None", "-0.0"):
        assert text not in md
