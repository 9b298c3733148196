"""What a live drill sends to the team's real tools: pages to PagerDuty, updates to a status
page and to the incident chat, each retried with backoff and never in the drill's way.

Nothing is sent unless asked for. Each endpoint has its own queue and worker thread, so
a slow or failing one holds back only its own messages, and in order (a page's
acknowledgement never overtakes its trigger). A message that fails is retried after 1,
2, 4, ... seconds (at most ``MAX_WAIT``) up to ``ATTEMPTS`` times, then given up. Every
attempt is a line of ``outbound.jsonl`` in the drill's folder: not in ``events.jsonl``,
because the event log must replay byte for byte and the network does not. ``dry_run``
sends nothing and says what would have been sent.
"""

import datetime as dt
import json
import queue
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from ..outputs import formats

ATTEMPTS = 8
MAX_WAIT = 60.0
TIMEOUT = 5.0  # seconds for one request
LOG = "outbound.jsonl"
PAGERDUTY_URL = "https://events.pagerduty.com/v2/enqueue"


@dataclass(frozen=True)
class Endpoint:
    name: str  # pagerduty | statuspage | chat
    url: str
    routing_key: str = ""  # PagerDuty's


def endpoints(pagerduty_routing_key=None, pagerduty_url=PAGERDUTY_URL, statuspage_url=None,
              chat_webhook=None) -> list[Endpoint]:
    """The endpoints the options ask for (none by default)."""
    chosen = []
    if pagerduty_routing_key:
        chosen.append(Endpoint("pagerduty", pagerduty_url, pagerduty_routing_key))
    if statuspage_url:
        chosen.append(Endpoint("statuspage", statuspage_url))
    if chat_webhook:
        chosen.append(Endpoint("chat", chat_webhook))
    return chosen


def body_for(endpoint: Endpoint, event: dict, drill: str, updates_before: int) -> dict | None:
    """What ``endpoint`` is sent for ``event`` (None: nothing)."""
    if endpoint.name == "pagerduty":
        return formats.pagerduty_event(event, drill, endpoint.routing_key)
    if endpoint.name == "statuspage":
        return formats.statuspage_update(event, drill, updates_before) if event["kind"] == "update.posted" else None
    return formats.chat_message(event)


class Outbox:
    """The outbound messages of one live drill, sent in the background."""

    def __init__(self, folder, drill: str, chosen: list[Endpoint], dry_run: bool = False, say=print,
                 sleep=None):
        self.folder, self.drill, self.dry_run, self.say = Path(folder), drill, dry_run, say
        self.updates = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._sleep = sleep or self._stop.wait  # waits end early when the drill closes the outbox
        self.chosen = {e.name: e for e in chosen}
        self.health = {e.name: {"url": e.url, "ok": True, "sent": 0, "failed": 0, "pending": 0, "last_error": None}
                       for e in chosen}
        self._queues = {e.name: queue.Queue() for e in chosen}
        self._workers = [threading.Thread(target=self._work, args=(e,), daemon=True, name=f"outbound-{e.name}")
                         for e in chosen]
        for worker in self._workers:
            worker.start()

    def offer(self, event: dict) -> None:
        """Queue what ``event`` makes for each endpoint; returns at once."""
        for name, box in self._queues.items():
            body = body_for(self.chosen[name], event, self.drill, self.updates)
            if body is not None:
                with self._lock:
                    self.health[name]["pending"] += 1
                box.put((event["kind"], body))
        if event["kind"] == "update.posted":
            self.updates += 1

    def close(self, wait: float = 2.0) -> None:
        """Stop retrying; give what is queued ``wait`` seconds to go."""
        for box in self._queues.values():
            box.put(None)
        for worker in self._workers:
            worker.join(wait)
        self._stop.set()

    def _work(self, endpoint: Endpoint) -> None:
        box = self._queues[endpoint.name]
        while (item := box.get()) is not None:
            kind, body = item
            for attempt in range(1, ATTEMPTS + 1):
                error = None if self.dry_run else self._post(endpoint.url, body)
                if self.dry_run:
                    self.say(f"[dry run] {endpoint.name} {endpoint.url}: {json.dumps(body)}")
                status = "dry-run" if self.dry_run else ("sent" if error is None else "failed")
                gave_up = error is not None and attempt == ATTEMPTS
                self._record(endpoint.name, kind, status if not gave_up else "gave up", attempt, error)
                if error is None or gave_up or self._stop.is_set():
                    break
                self._sleep(min(2.0 ** (attempt - 1), MAX_WAIT))

    def _post(self, url: str, body: dict) -> str | None:
        request = urllib.request.Request(url, json.dumps(body).encode(), method="POST",
                                         headers={"Content-Type": "application/json", "User-Agent": "drillsim"})
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:
                answer.read()
            return None
        except urllib.error.HTTPError as exc:
            return f"HTTP {exc.code} {exc.reason}"
        except (urllib.error.URLError, OSError, ValueError) as exc:
            return str(getattr(exc, "reason", exc))

    def _record(self, name: str, kind: str, status: str, attempt: int, error: str | None) -> None:
        with self._lock:
            state = self.health[name]
            if status != "failed":  # "failed" is one attempt of a message that will be tried again
                state["pending"] -= 1
                state["failed" if status == "gave up" else "sent"] += 1
            state["ok"], state["last_error"] = error is None, error
            line = {"at": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), "endpoint": name,
                    "event": kind, "status": status, "attempt": attempt, **({"error": error} if error else {})}
            with open(self.folder / LOG, "a", encoding="utf-8") as log:
                log.write(json.dumps(line) + "\n")
