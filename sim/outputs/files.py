"""Writing output files: a reader sees the old file or the new one, never half, and a
folder's outputs are renamed into place together at the end, so it holds one run's (an interruption
between two of those renames, and only that, can leave two runs' files).

Atomic replacement (a temporary file renamed over the old one) is for regular files.
What is not one is written to, not replaced: ``-`` is standard output, a device or a
FIFO is opened and written as it is, and a symlink is followed to the file it names.
"""

import json
import os
import stat
import sys
import tempfile
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
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                _write_stream(out, data)
                os.fsync(out.fileno())
            os.chmod(tmp, 0o600 if private else 0o644)  # mkstemp makes every file private
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
