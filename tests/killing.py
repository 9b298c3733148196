"""SIGKILL-and-resume trials of ``drill serve`` and ``drill live``, for the tests (a few trials)
and ``benchmarks/kill_resume.py`` (many): kill the drill while people act, resume it, and
check that every acknowledged action is there exactly once and that the drill ends and scores.
"""

import json
import os
import random
import shutil
import signal
import sys
import threading
import time
from pathlib import Path

from .serving import Server

DRILL = shutil.which("drill", path=str(Path(sys.executable).parent)) or shutil.which("drill")


def _logged(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "events.jsonl").read_text().splitlines()]


def _check(folder: Path, acknowledged: list[tuple[str, str]], unsure: list[str]) -> dict:
    """Every acknowledged update (who, summary) is logged once, as posted or rejected; one sent
    but never answered at most once; the drill ended and was scored."""
    events = _logged(folder)
    said = {}
    for e in events:
        if e["kind"] == "update.posted":
            said.setdefault(e["summary"], []).append(e["by"])
        elif e["kind"] == "action.rejected" and e["do"] == "update":
            said.setdefault(e["fields"].get("summary"), []).append(e["by"])
    for who, summary in acknowledged:
        assert said.get(summary) == [who], (summary, said.get(summary))
    for summary in unsure:
        assert len(said.get(summary, [])) <= 1, summary
    assert events[-1]["kind"] == "drill.ended" and (folder / "score.json").exists()
    return {"acknowledged": len(acknowledged)}


def serve_trial(folder: Path, seed: int) -> dict:
    """Two people post updates as fast as answers come; the server is killed at a random moment."""
    rng = random.Random(seed)
    server = Server(folder, "--speed", "30", "--seed", str(seed), "--rate-limit", "10000")
    acknowledged, unsure, stop = [], [], threading.Event()
    try:
        people = {"ana": server.seat("primary", "ana"), "kim": server.seat("joiner", "kim")}
        assert server.control("start")["ok"]
        assert server.act(people["ana"], do="declare", severity="SEV2", service="checkout").json()["ok"]

        def act(who, token):
            n = 0
            while not stop.is_set():
                summary = f"{who} {seed}.{n}"
                unsure.append(summary)
                try:
                    answer = server.act(token, do="update", status="investigating", summary=summary)
                except Exception:  # noqa: BLE001 - the server died under the request: never acknowledged
                    return
                if answer.status_code in (200, 422):
                    unsure.remove(summary)
                    acknowledged.append((who, summary))
                n += 1

        threads = [threading.Thread(target=act, args=item) for item in people.items()]
        for thread in threads:
            thread.start()
        time.sleep(rng.uniform(0.3, 1.5))
        server.kill()
        stop.set()
        for thread in threads:
            thread.join()
    finally:
        if server.process.poll() is None:  # something failed before the kill
            server.stop()
    again = Server(folder, resume=True)
    try:
        assert again.state(people["kim"])["me"]["name"] == "kim"  # the same links work
        assert again.control("end")["ok"]
        again.wait_for(lambda s: "score" in s, timeout=30)
    finally:
        again.stop()
    return _check(folder, acknowledged, unsure)


def live_trial(folder: Path, seed: int) -> dict:
    """A person at ``drill live`` posts updates; the console is killed after a random number."""
    import pexpect

    rng = random.Random(seed)
    env = {**os.environ, "TERM": "xterm-256color", "PROMPT_TOOLKIT_NO_CPR": "1"}
    acknowledged, cut = [], f"cut short {seed}"

    def spawn(*args):
        return pexpect.spawn(DRILL, ["live", *args], env=env, encoding="utf-8", dimensions=(50, 220), timeout=10)

    child = spawn("--name", "ana", "--speed", "20", "--seed", str(seed), "--out", str(folder))
    try:
        child.expect("You are ana")
        child.sendline('declare SEV2 checkout "errors"')
        child.expect("SEV2 on checkout declared by you")
        for n in range(rng.randint(2, 6)):
            child.sendline(f'update investigating "update {seed}.{n}"')
            child.expect(f"you: update {seed}\\.{n}")
            acknowledged.append(("ana", f"update {seed}.{n}"))
        child.sendline(f'update investigating "{cut}"')  # typed, perhaps journaled, never acknowledged
        child.kill(signal.SIGKILL)
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    again = spawn("--resume", str(folder))
    try:
        again.expect("You are ana")
        again.sendline("end")
        again.expect("Score:")
        again.expect(pexpect.EOF)
    finally:
        again.close(force=True)
    assert again.exitstatus == 0
    return _check(folder, acknowledged, [cut])
