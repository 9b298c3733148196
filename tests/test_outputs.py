"""Where outputs go and how they are written: names never become paths outside reports/,
a symlink, FIFO or device is written through rather than replaced, a folder always holds
one run's files (and no temporary file outlives a stopped or killed write for long), and odd
command-line values are refused cleanly."""

import os
import signal
import subprocess
import sys
import threading

import pytest
from click.testing import CliRunner

from sim.cli import main
from sim.inputs.errors import DrillError
from sim.outputs import report
from sim.outputs.files import write_atomic

from .conftest import DATA

TINY = (DATA / "tiny.yaml").read_text(encoding="utf-8")


def _clean(result, code=2):
    """The command ended with ``code`` through click (a message), not an exception."""
    assert result.exit_code == code, result.output
    assert result.exc_info is None or result.exc_info[0] is SystemExit, result.exc_info
    assert "Traceback" not in result.output


@pytest.mark.parametrize("name", ["../../../../tmp/x", "/tmp/x", "a/b", "..", ".hidden", "a" * 101])
def test_a_name_that_is_a_path_is_refused_before_anything_is_written(tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "s.yaml"
    path.write_text(TINY.replace("name: tiny", f"name: {name!r}"), encoding="utf-8")
    for command in (["run", str(path)], ["serve", str(path)]):
        result = CliRunner().invoke(main, command)
        _clean(result)
        assert f"{path}:3: name: expected a plain name" in result.output
    assert not (tmp_path / "reports").exists() and not any(tmp_path.rglob("room.json"))


def test_a_scenario_named_by_its_file_needs_a_plain_file_name(tmp_path):
    path = tmp_path / "my story.yaml"
    path.write_text(TINY.replace("name: tiny\n", ""), encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(path)])
    _clean(result)
    assert f"{path}:1: scenario: give a name:" in result.output


def test_a_symlink_is_followed_and_its_target_replaced(tmp_path):
    target = tmp_path / "real.csv"
    target.write_text("old\n")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    write_atomic(link, "new\n")
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text() == "new\n"


def test_a_fifo_is_written_to_not_replaced(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()))
    reader.start()
    result = CliRunner().invoke(main, ["export", "--out", str(fifo)])
    reader.join(10)
    _clean(result, 0)
    assert got == [""]  # an empty store exports nothing, through the pipe
    assert fifo.is_fifo()


def test_a_symlink_to_standard_output_is_written_through(tmp_path):
    link = tmp_path / "out"
    link.symlink_to("/dev/stdout")
    read_fd, write_fd = os.pipe()
    saved = os.dup(1)
    try:
        os.dup2(write_fd, 1)
        write_atomic(link, "through the link\n")
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(write_fd)
    assert os.read(read_fd, 100) == b"through the link\n"
    os.close(read_fd)
    assert link.is_symlink() and os.readlink(link) == "/dev/stdout"


@pytest.mark.skipif(not os.access("/dev/full", os.W_OK), reason="/dev/full is not writable here")
def test_a_full_device_is_a_message_and_stays_a_device(tmp_path):
    _clean(CliRunner().invoke(main, ["run", str(DATA / "tiny.yaml"), "--record", "--out", str(tmp_path / "out")]), 0)
    result = CliRunner().invoke(main, ["export", "--out", "/dev/full"])
    _clean(result)
    assert "/dev/full: cannot write: No space left on device" in result.output
    assert not os.path.isfile("/dev/full")


def test_a_folder_keeps_the_previous_run_when_rendering_fails(tmp_path, monkeypatch):
    out = tmp_path / "out"
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY, encoding="utf-8")
    _clean(CliRunner().invoke(main, ["run", str(path), "--seed", "1", "--out", str(out)]), 0)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert set(before) == {"events.jsonl", "score.json", "report.md", "timeline.png"}

    def broken(*args):  # the plot is rendered last: everything else is ready by then
        raise MemoryError("out of memory while plotting")
    monkeypatch.setattr(report, "plot_timeline", broken)
    with pytest.raises(MemoryError):
        CliRunner().invoke(main, ["run", str(path), "--seed", "2", "--out", str(out)], catch_exceptions=False)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # no temporary file left either


_STUCK_WRITER = """
import sys, time
from sim.outputs import files

def stuck(fd):  # the temporary file is written, not yet renamed: where a stop or a kill leaves it
    print("staged", flush=True)
    time.sleep(60)

files.os.fsync = stuck
files.write_atomic(sys.argv[1], "new\\n")
"""


def _stopped_mid_write(target, how) -> int:
    """A child process writing ``target``, stopped by the signal ``how`` between writing its
    temporary file and renaming it; its exit status."""
    child = subprocess.Popen([sys.executable, "-c", _STUCK_WRITER, str(target)], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline() == "staged\n"
    child.send_signal(how)
    code = child.wait(30)
    child.stdout.close()
    return code


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_a_write_stopped_midway_keeps_the_old_file_and_leaves_no_temporary_one(tmp_path, how):
    target = tmp_path / "report.md"
    target.write_text("old\n")
    assert _stopped_mid_write(target, how) == -how  # ended by the signal, as without the clean-up
    assert os.listdir(tmp_path) == ["report.md"] and target.read_text() == "old\n"


def test_a_killed_write_s_temporary_file_goes_with_the_next_write_of_its_target(tmp_path):
    target = tmp_path / "report.md"
    target.write_text("old\n")
    assert _stopped_mid_write(target, signal.SIGKILL) == -signal.SIGKILL
    (left,) = set(os.listdir(tmp_path)) - {"report.md"}
    assert left.startswith(".report.md.") and target.read_text() == "old\n"
    others = [".report.md.swp",  # an editor's
              f".report.md.{os.getpid()}.a1b2c3d4.tmp",  # a write still under way (its process runs)
              f".events.jsonl{left.removeprefix('.report.md')}"]  # another target's: for its own next write
    for name in others:
        (tmp_path / name).write_text("not this write's")
    write_atomic(target, "new\n")
    assert sorted(os.listdir(tmp_path)) == sorted(["report.md", *others]) and target.read_text() == "new\n"


def test_a_run_without_a_plot_removes_the_previous_runs_plot(tmp_path):
    from sim.inputs import config
    from sim.model.engine import run_drill
    from sim.outputs.scoring import score

    out = tmp_path / "out"
    out.mkdir()
    (out / "timeline.png").write_bytes(b"an older run's plot")
    scenario, process = config.load_scenario(DATA / "tiny.yaml"), config.load_process()
    result = run_drill(scenario, process, config.load_roster(None, process), seed=1, samples=False)
    written = report.write_outputs(result, score(result.events, scenario, process), out)
    assert [p.name for p in written] == ["events.jsonl", "score.json", "report.md"]
    assert sorted(p.name for p in out.iterdir()) == ["events.jsonl", "report.md", "score.json"]


def test_an_unwritable_output_is_a_message(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(DrillError, match=f"{blocker}/x/y.csv: cannot write: Not a directory"):
        write_atomic(blocker / "x" / "y.csv", "a")


# Every odd value a user could type, for every command that takes it: a message and exit 2.
ODD = [
    ["run", "--seed", "99999999999999999999"],
    ["run", "--seed", "-1"],
    ["run", "--entry", "0"],
    ["run", "--out", "a\0b"],
    ["run", "--date", "someday"],
    ["run", "--date", "9999-12-31"],
    ["show", "99999999999999999999999"],
    ["show", "0"],
    ["show", "1", "--report", "{blocker}/r"],
    ["export", "--out", "{blocker}/x.csv"],
    ["export", "--out", "a\0b"],
    ["run", "--record", "--store", "{blocker}/s.db"],
    ["history", "--quarter", "2026-Q99999999999999999999"],
    ["rotation", "--drills", "0"],
    ["rotation", "--drills", "100000"],
    ["rotation", "--propose", "2026-Q4", "--out", "{blocker}/plan.yaml"],
    ["report", "quarter", "9999-Q4"],
    ["report", "quarter", "2026-Q4", "--out", "{blocker}/r"],
    ["generate", "--seed", "-5"],
    ["generate", "--count", "0"],
    ["generate", "--out", "{blocker}/g"],
    ["live", "--speed", "nan"],
    ["live", "--speed", "-1"],
    ["live", "--seed", "18446744073709551616"],
    ["serve", "--port", "70000"],
    ["serve", "--port", "-1"],
    ["serve", "--speed", "inf"],
    ["serve", "--speed", "0"],
    ["serve", "--host", "256.0.0.1"],
    ["serve", "--host", "a\0b"],
    ["serve", "--out", "{blocker}/room"],
    ["compare", "--variant", "a=x.yaml", "--runs", "0"],
    ["compare", "--variant", "../b={variant}"],
    ["compare", "--variant", "b={variant}", "--name", "../x"],
    ["compare", "--variant", "b={variant}", "--weights", "nan"],
    ["compare", "--variant", "b={variant}", "--weights", "-1"],
    ["compare", "--variant", "b={variant}", "--weights", "1e400"],
    ["compare", "--variant", "b={variant}", "--workers", "0"],
    ["compare", "--variant", "b={variant}", "--seed", "-1"],
    ["compare", "--variant", "b={variant}", "--out", "{blocker}/c", "--runs", "1"],
    ["import", "chaostoolkit", "{variant}", "--out", "{blocker}/x.yaml"],
    # a byte that is not UTF-8 in an argument (Python holds it as a lone surrogate), bound for the store
    ["history", "--person", "a\udcff"],
    ["export", "--person", "a\udcff"],
]


@pytest.mark.parametrize("args", ODD, ids=[" ".join(a) for a in ODD])
def test_odd_command_line_values_are_refused_cleanly(tmp_path, monkeypatch, args):
    from .conftest import REPO

    monkeypatch.chdir(tmp_path)
    (tmp_path / "blocker").write_text("")
    fill = {"blocker": str(tmp_path / "blocker"), "variant": str(REPO / "drills" / "variants" / "baseline.yaml")}
    args = [a.format(**fill) for a in args]
    result = CliRunner().invoke(main, args)
    _clean(result)
    assert "Error" in result.output
    assert not (tmp_path / "reports").exists() and not (tmp_path / "room.json").exists()


def test_every_option_of_every_command_has_a_bounded_type():
    """Walking the commands: no bare int or float (unbounded: a seed past the store's range,
    a nan speed), and every path refuses a NUL; new options are held to the same rule."""
    import click

    from sim import cli

    def params(command, name=()):
        if isinstance(command, click.Group):
            for sub, child in command.commands.items():
                yield from params(child, name + (sub,))
        else:
            for param in command.params:
                yield " ".join(name), param

    checked = 0
    for name, param in params(main):
        assert param.type not in (click.INT, click.FLOAT), f"drill {name} {param.opts[0]}: an unbounded number"
        if isinstance(param.type, click.Path):
            assert isinstance(param.type, cli._Path), f"drill {name} {param.opts[0]}: a path that lets NUL through"
        if isinstance(param.type, click.FloatRange):
            assert isinstance(param.type, cli._Finite), f"drill {name} {param.opts[0]}: a range that lets nan through"
        checked += 1
    assert checked > 80
