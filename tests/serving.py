"""A real ``drill serve`` in a subprocess on 127.0.0.1, for the tests, the load benchmark and
the screenshot script: start it, talk to it as the facilitator or a participant, kill it."""

import json
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, folder: Path, *args: str, resume: bool = False):
        self.folder, self.port = Path(folder), free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        where = ["--resume", str(folder)] if resume else ["--out", str(folder), *args]
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from sim.cli import main; main()", "serve", "--port", str(self.port), *where],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # Read as it comes: the server logs on its event loop, and once an unread pipe is full
        # (64 KiB, some twenty tracebacks) it blocks in the write and answers nothing more.
        self._stderr: list[str] = []
        self._reader = threading.Thread(target=lambda: self._stderr.extend(self.process.stderr), daemon=True)
        self._reader.start()
        self.http = httpx.Client(base_url=self.base, timeout=10)
        deadline = time.monotonic() + 20
        while True:
            if self.process.poll() is not None:
                self._reader.join()
                raise RuntimeError(f"drill serve stopped: {''.join(self._stderr)}")
            try:
                self.token = json.loads((self.folder / "room.json").read_text())["facilitator"]
                if self.http.get(f"/f/{self.token}/api/state").status_code == 200:
                    break
            except (OSError, ValueError, httpx.TransportError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("drill serve did not come up")
            time.sleep(0.1)

    def control(self, what: str, **body) -> dict:
        return self.http.post(f"/f/{self.token}/api/{what}", json=body).json()

    def seat(self, seat: str, name: str | None = None) -> str:
        answer = self.control("seat", seat=seat, name=name)
        assert answer["ok"], answer
        return answer["data"]["token"]

    def state(self, token: str | None = None) -> dict:
        kind = "f" if token is None else "p"
        return self.http.get(f"/{kind}/{token or self.token}/api/state").json()

    def act(self, token: str, **action) -> httpx.Response:
        return self.http.post(f"/p/{token}/api/act", json=action)

    def wait_for(self, check, token: str | None = None, timeout: float = 20.0) -> dict:
        """Poll the state until ``check(state)`` holds."""
        deadline = time.monotonic() + timeout
        while True:
            state = self.state(token)
            if check(state):
                return state
            if time.monotonic() > deadline:
                raise TimeoutError(f"condition not met; state was {state.get('status')}")
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush, nothing but what is already on disk survives."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.close()

    def close(self) -> None:
        """Close the client and the pipes, keeping what the server wrote to stderr (``errors``)."""
        self.http.close()
        self._reader.join()
        self.errors = "".join(self._stderr)
        for stream in (self.process.stdout, self.process.stderr):
            stream.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


# What only the facilitator may know: a key that carries the scenario's truth or what a
# mitigation did, and the ids of the faults (the scenario's and injected ones).
TRUTH_KEYS = {"truth", "scenario", "faults", "fault", "outcome", "effective", "returns_in", "cause", "root_cause"}


def leaks(payload, fault_ids) -> list[str]:
    """The truth a participant's JSON ``payload`` gives away: forbidden keys, fault ids."""
    found = []

    def walk(value):
        if isinstance(value, dict):
            found.extend(f"key {k!r}" for k in value if k in TRUTH_KEYS)
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, str):
            found.extend(f"fault id {f!r}" for f in fault_ids if f in value)

    walk(payload)
    return found
