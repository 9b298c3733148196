"""Writing output files atomically: a reader sees the old file or the new one, never half."""

import json
import os
import tempfile
from pathlib import Path

from ..inputs.errors import DrillError


def write_atomic(path, data: str | bytes, private: bool = False) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder; ``private``
    files (holding secrets, such as a drill room's tokens) are readable by their owner only."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = "wb" if isinstance(data, bytes) else "w"
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, mode, **({} if isinstance(data, bytes) else {"encoding": "utf-8"})) as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o600 if private else 0o644)  # mkstemp makes every file private
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_json(path, missing: str) -> dict:
    """A JSON state file written with ``write_atomic``; ``missing`` says what its absence means."""
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise DrillError(missing) from None
    except json.JSONDecodeError as exc:
        raise DrillError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from None
