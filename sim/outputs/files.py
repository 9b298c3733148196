"""Writing output files: a reader sees the old file or the new one, never half, and a
folder's outputs are renamed into place together at the end, so it holds one run's (an interruption
between two of those renames, and only that, can leave two runs' files).

Atomic replacement (a temporary file renamed over the old one) is for regular files.
What is not one is written to, not replaced: ``-`` is standard output, a device or a
FIFO is opened and written as it is, and a symlink is followed to the file it names.

A temporary file is named ``.NAME.PID.RANDOM.tmp``, beside NAME: Ctrl-C or SIGTERM during a
write removes it, and one a killed process left (SIGKILL, power loss) is removed by the next
write of NAME.
"""

import contextlib
import json
import os
import re
import signal
import stat
import sys
import tempfile
import threading
from pathlib import Path

from ..inputs.errors import DrillError
from ..inputs.yamlfile import read_text


def write_atomic(path, data: str | bytes, private: bool = False) -> Path:
    """Write ``data`` to ``path``; ``private`` files (holding secrets, such as a drill room's
    tokens) are readable by their owner only."""
    path = Path(path)
    if str(path) == "-":
        _fail_as_drill_error("-", _write_stream, sys.stdout.buffer, data)
    else:
        replace_files(path.parent, {path.name: data}, private=private)
    return path


def replace_files(folder, files: dict[str, str | bytes], stale: tuple[str, ...] = (), private: bool = False,
                  staged: dict[str, Path] | None = None) -> list[Path]:
    """Write every one of ``files`` (names relative to ``folder``) to a temporary file first,
    then rename them all into place, and remove the ``stale`` names this run did not write:
    if anything fails before the renames, the folder keeps the previous run's files untouched.
    ``staged`` names files already written and synced beside ``folder`` (too large to hold in
    memory, such as a comparison's runs.parquet): they are renamed into place with the others."""
    folder = Path(folder)
    staged = staged or {}
    ready: list[tuple[str, Path]] = []
    direct: list[tuple[Path, str | bytes]] = []
    with _sigterm_cleans_up():
        try:
            for name, data in files.items():
                path = folder / name
                if _is_special(path):
                    direct.append((path, data))
                else:
                    target = _followed(path)
                    ready.append((_stage(target, data, private), target))
            for name, tmp in staged.items():
                path = folder / name
                if _is_special(path):
                    direct.append((path, Path(tmp).read_bytes()))
                else:
                    ready.append((str(tmp), _followed(path)))
            for tmp, target in ready:
                _fail_as_drill_error(target, os.replace, tmp, target)
        except BaseException:
            for tmp, _ in ready:
                Path(tmp).unlink(missing_ok=True)
            raise
    for path, data in direct:
        _write_direct(path, data)
    for name in stale:
        if name not in files and name not in staged:
            _fail_as_drill_error(folder / name, lambda p: Path(p).unlink(missing_ok=True), folder / name)
    return [folder / name for name in [*files, *staged]]


class _Terminated(BaseException):
    """SIGTERM, received while ``_sigterm_cleans_up`` holds it back."""


@contextlib.contextmanager
def _sigterm_cleans_up():
    """SIGTERM's default action ends the process at once, leaving the temporary files behind:
    here it raises instead, so they are removed on the way out, and is then delivered again to
    end the process as it would have (same exit status). A handler someone installed (``drill
    compare``'s) is theirs; signals are the main thread's only."""
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGTERM) != signal.SIG_DFL:
        yield
        return

    def terminated(signum, frame):
        raise _Terminated

    signal.signal(signal.SIGTERM, terminated)
    try:
        yield
    except _Terminated:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.raise_signal(signal.SIGTERM)
        raise  # not reached: the signal ends the process
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def temporary_beside(path: Path, private: bool = False) -> tuple[int, str]:
    """A new temporary file beside ``path`` (``mkstemp``'s descriptor and name), named so that
    ``remove_stale`` can tell one a killed process left from a write under way."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
    os.fchmod(fd, 0o600 if private else 0o644)  # mkstemp makes every file private
    return fd, tmp


def remove_stale(path: Path) -> None:
    """Remove the temporary files for ``path`` that killed writes left: named by
    ``temporary_beside``, owned by this user, and whose process is no longer running here.
    Anything else stays: an editor's ``.NAME.swp``, a write under way, another user's file."""
    own = re.compile(rf"\.{re.escape(path.name)}\.(\d{{1,9}})\.[a-z0-9_]+\.tmp")
    with contextlib.suppress(OSError), os.scandir(path.parent) as entries:  # a folder it cannot read or write fails the write itself
        for entry in entries:
            if (found := own.fullmatch(entry.name)) and entry.is_file(follow_symlinks=False) \
                    and entry.stat(follow_symlinks=False).st_uid == os.geteuid() and not running(int(found[1])):
                Path(entry.path).unlink(missing_ok=True)


def running(pid: int) -> bool:
    """Whether process ``pid`` runs and is this user's (a pid reused by another user's process
    is not the one that wrote our files)."""
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _is_special(path: Path) -> bool:
    """Whether ``path`` (followed if a symlink) exists and is something other than a regular file."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise DrillError(f"{path}: cannot write: {exc.strerror or exc}") from None
    if stat.S_ISDIR(mode):
        raise DrillError(f"{path}: is a folder, not a file")
    return not stat.S_ISREG(mode)


def _followed(path: Path) -> Path:
    """The file a symlink names (so the link stays and its target is replaced), else ``path``."""
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def _stage(path: Path, data: str | bytes, private: bool) -> str:
    """A fully written, synced temporary file beside ``path``, ready to be renamed onto it."""
    def write():
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale(path)
        fd, tmp = temporary_beside(path, private)
        try:
            with os.fdopen(fd, "wb") as out:
                _write_stream(out, data)
                os.fsync(out.fileno())
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return tmp
    return _fail_as_drill_error(path, write)


def _write_direct(path: Path, data: str | bytes) -> None:
    """A device, FIFO or a symlink to one: written in place (opening it follows any symlink)."""
    def write():
        with open(path, "wb") as out:
            _write_stream(out, data)
    _fail_as_drill_error(path, write)


def _write_stream(out, data: str | bytes) -> None:
    out.write(data if isinstance(data, bytes) else data.encode("utf-8"))
    out.flush()


def _fail_as_drill_error(path, action, *args):
    """Run ``action``; a full disk, a read-only folder or a missing permission is the user's to fix."""
    try:
        return action(*args)
    except OSError as exc:
        raise DrillError(f"{path}: cannot write: {exc.strerror or exc}") from None


def read_json(path, missing: str, shape: dict | None = None) -> dict:
    """A JSON state file written with ``write_atomic``; ``missing`` says what its absence means.

    ``shape`` (key -> a type, a tuple of types, a nested shape, or ``[shape]`` for a list of
    them) is what the reader relies on: a file another program or a hand edit left otherwise is
    refused here, by name, rather than failing later where a key is read."""
    path = Path(path)
    if not path.exists():
        raise DrillError(missing)
    try:
        state = json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise DrillError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from None
    if not isinstance(state, dict):
        raise DrillError(f"{path}:1: not valid JSON: expected an object")
    if (wrong := _unlike(state, shape or {}, "")) is not None:
        raise DrillError(f"{path}: damaged: {wrong}")
    return state


def _unlike(value, shape, where: str) -> str | None:
    """What in ``value`` departs from ``shape`` (``read_json``), or None."""
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            return f"'{where.rstrip('.')}' is not an object"
        for key, inner in shape.items():
            if key not in value:
                return f"'{where}{key}' is missing"
            if (wrong := _unlike(value[key], inner, f"{where}{key}.")) is not None:
                return wrong
        return None
    where = where.rstrip(".")
    if isinstance(shape, list):
        if not isinstance(value, list):
            return f"'{where}' is not a list"
        for i, item in enumerate(value):
            if (wrong := _unlike(item, shape[0], f"{where}[{i}].")) is not None:
                return wrong
        return None
    kinds = shape if isinstance(shape, tuple) else (shape,)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):  # JSON's true is no number
        names = {str: "text", int: "a whole number", float: "a number", bool: "true or false", type(None): "null"}
        return f"'{where}' is not {' or '.join(names[k] for k in kinds)}"
    return None
