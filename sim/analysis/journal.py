"""A comparison's finished batches, kept beside its output so a stopped comparison resumes.

``<out>/.runs.journal.jsonl`` starts with a header naming the plan (a hash of its
scenarios, variants, runs, seed and weights) and how runs were cut into batches; each
later line holds one finished batch's rows, appended and synced as it finishes. A run
stopped by Ctrl-C, SIGTERM, SIGKILL or a crash leaves the journal; the next comparison
into the same folder with the same plan takes the batches it holds and runs the rest.
A torn last line (the process died while writing it) is cut off. The rows read back
are the rows written (JSON keeps every float exactly), so the finished ``runs.parquet``
is byte-identical to an uninterrupted run's. The journal is removed once that file is in place.
"""

import dataclasses
import hashlib
import json
import os
from pathlib import Path

NAME = ".runs.journal.jsonl"


def fingerprint(plan) -> str:
    """What decides a comparison's rows: the same inputs give the same hash in any process."""
    parts = [[dataclasses.asdict(s) for s in plan.scenarios], [dataclasses.asdict(v) for v in plan.variants],
             plan.runs, plan.seed, list(plan.weights)]
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


class Journal:
    """Finished batches by index; ``per_batch`` is the cut the journal was started with."""

    def __init__(self, folder, plan, per_batch: int):
        self.path = Path(folder) / NAME
        self.offsets: dict[int, int] = {}
        self.total = plan.runs
        header = {"plan": fingerprint(plan), "per_batch": per_batch}
        kept = self._read(header["plan"])
        if kept is None:  # none yet, or another plan's: start afresh
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(json.dumps(header) + "\n", encoding="utf-8")
            self.per_batch = per_batch
        else:
            self.per_batch = kept
        self.file = open(self.path, "ab")

    def _read(self, plan: str) -> int | None:
        """Index the batches of a journal of this plan; its ``per_batch``, or None if there is none."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return None
        lines = data.split(b"\n")
        try:
            header = json.loads(lines[0])
        except ValueError:
            return None
        if not isinstance(header, dict) or header.get("plan") != plan:
            return None
        offset = len(lines[0]) + 1
        for line in lines[1:-1]:  # the part after the last newline is a torn line, or nothing
            try:
                self.offsets[int(json.loads(line)["batch"])] = offset
            except (ValueError, KeyError, TypeError):
                break
            offset += len(line) + 1
        with open(self.path, "r+b") as file:
            file.truncate(offset)
        return int(header["per_batch"])

    @property
    def runs(self) -> int:
        """The runs its finished batches hold (the last batch of the plan may be short)."""
        return sum(min(self.per_batch, self.total - index * self.per_batch) for index in self.offsets)

    def __contains__(self, index: int) -> bool:
        return index in self.offsets

    def rows(self, index: int) -> list[dict]:
        with open(self.path, "rb") as file:
            file.seek(self.offsets[index])
            return json.loads(file.readline())["rows"]

    def add(self, index: int, rows: list[dict]) -> None:
        self.offsets[index] = self.file.tell()
        self.file.write(json.dumps({"batch": index, "rows": rows}, separators=(",", ":")).encode() + b"\n")
        self.file.flush()
        os.fsync(self.file.fileno())

    def close(self) -> None:
        self.file.close()


def remove(folder) -> None:
    """Drop the journal once ``runs.parquet`` is in place: not before, or a kill in between loses the work."""
    (Path(folder) / NAME).unlink(missing_ok=True)
