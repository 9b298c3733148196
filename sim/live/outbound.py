"""What a live drill sends to the team's real tools: pages to PagerDuty, public updates to a
status page, every update to the incident chat, each retried with backoff and never in the drill's way.

Nothing is sent unless asked for. Each endpoint has its own queue and worker thread, so
a slow or failing one holds back only its own messages, and in order (a page's
acknowledgement never overtakes its trigger). A message that fails is retried after 1,
2, 4, ... seconds (at most ``MAX_WAIT``) up to ``ATTEMPTS`` times, then given up. Every
attempt is a line of ``outbound.jsonl`` in the drill's folder: not in ``events.jsonl``,
because the event log must replay byte for byte and the network does not. ``dry_run``
sends nothing and says what would have been sent.

Alerts go to Alertmanager as Prometheus sends them: the whole set of firing alerts (and
those resolved in the last ``RESOLVED_KEPT`` seconds, with their ``endsAt``) in one
``POST /api/v2/alerts``, on every change and again every ``RESEND`` seconds while any
fires, each firing alert's ``endsAt`` ``4 x RESEND`` ahead; when the drill ends, every alert
still firing is sent resolved. The body is made when it is
sent, so a push that waits behind a failing Alertmanager goes out with the latest state.
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
RESEND = 60.0  # Prometheus's --rules.alert.resend-delay
RESOLVED_KEPT = 900.0  # Prometheus goes on sending a resolved alert for 15 minutes


@dataclass(frozen=True)
class Endpoint:
    name: str  # pagerduty | statuspage | chat | alertmanager
    url: str
    routing_key: str = ""  # PagerDuty's


def endpoints(pagerduty_routing_key=None, pagerduty_url=PAGERDUTY_URL, statuspage_url=None,
              chat_webhook=None, alertmanager=None) -> list[Endpoint]:
    """The endpoints the options ask for (none by default); ``alertmanager`` is its base URL."""
    chosen = []
    if alertmanager:
        chosen.append(Endpoint("alertmanager", alertmanager.rstrip("/") + "/api/v2/alerts"))
    if pagerduty_routing_key:
        chosen.append(Endpoint("pagerduty", pagerduty_url, pagerduty_routing_key))
    if statuspage_url:
        chosen.append(Endpoint("statuspage", statuspage_url))
    if chat_webhook:
        chosen.append(Endpoint("chat", chat_webhook))
    return chosen


def body_for(endpoint: Endpoint, event: dict, drill: str, page_update: dict | None) -> dict | None:
    """What ``endpoint`` is sent for ``event`` (None: nothing; Alertmanager's body is the alert set);
    ``page_update``: the event as an update to the status page (``formats.StatusPage``), if it is one."""
    if endpoint.name == "alertmanager":
        return None
    if endpoint.name == "pagerduty":
        return formats.pagerduty_event(event, drill, endpoint.routing_key)
    if endpoint.name == "statuspage":
        return page_update
    return formats.chat_message(event)


def _utc(at: dt.datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


class Outbox:
    """The outbound messages of one live drill, sent in the background."""

    def __init__(self, folder, drill: str, chosen: list[Endpoint], dry_run: bool = False, say=print,
                 sleep=None, clock=None):
        self.folder, self.drill, self.dry_run, self.say = Path(folder), drill, dry_run, say
        # the status page as the drill's events set it (Tools.attach gives it the process's levels and a resumed drill's past)
        self.page = formats.StatusPage(drill)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._sleep = sleep or self._stop.wait  # waits end early when the drill closes the outbox
        self._clock = clock or (lambda: dt.datetime.now(dt.timezone.utc))
        self.alerts: dict[str, dict] = {}  # fingerprint -> labels, annotations, started, resolved (wall clock)
        self.chosen = {e.name: e for e in chosen}
        self.health = {e.name: {"url": e.url, "ok": True, "sent": 0, "failed": 0, "pending": 0, "last_error": None}
                       for e in chosen}
        self._queues = {e.name: queue.Queue() for e in chosen}
        self._workers = [threading.Thread(target=self._work, args=(e,), daemon=True, name=f"outbound-{e.name}")
                         for e in chosen]
        for worker in self._workers:
            worker.start()

    def report(self) -> dict:
        """Each endpoint's health now: its URL, whether its last attempt went through, what was
        sent, given up and is waiting, and the last error."""
        with self._lock:
            return {name: dict(state) for name, state in self.health.items()}

    def offer(self, event: dict, alert=None) -> None:
        """Queue what ``event`` makes for each endpoint; returns at once. For ``alert.firing``
        and ``alert.resolved``, ``alert`` is the alert (its labels and annotations)."""
        page_update = self.page.update(event)
        for name in self._queues:
            body = body_for(self.chosen[name], event, self.drill, page_update)
            if body is not None:
                self._put(name, (event["kind"], body))
        if "alertmanager" in self._queues and self._alerts_changed(event, alert):
            self._put("alertmanager", (event["kind"], None))

    def _alerts_changed(self, event: dict, alert) -> bool:
        """Keep the alert set up to date with ``event``; whether it changed."""
        kind = event["kind"]
        with self._lock:
            now = self._clock()
            if kind == "drill.ended":  # the drill's alerts end with it: nothing is left firing in Alertmanager
                for known in self.alerts.values():
                    known["resolved"] = known["resolved"] or now
                return True
            if alert is None or kind not in ("alert.firing", "alert.resolved"):
                return False
            known = self.alerts.get(alert.fingerprint)
            if kind == "alert.resolved" and known is None:
                return False
            started = known["started"] if known and known["resolved"] is None else now
            self.alerts[alert.fingerprint] = {"labels": dict(alert.labels), "annotations": dict(alert.annotations),
                                              "started": started, "resolved": now if kind == "alert.resolved" else None}
            return True

    def alert_set(self) -> list[dict]:
        """What Alertmanager is sent now: every firing alert, and those resolved lately."""
        with self._lock:
            now = self._clock()
            for fingerprint, alert in list(self.alerts.items()):
                if alert["resolved"] is not None and (now - alert["resolved"]).total_seconds() > RESOLVED_KEPT:
                    del self.alerts[fingerprint]
            return [formats.alertmanager_alert(a["labels"], a["annotations"], self.drill, _utc(a["started"]),
                                               _utc(a["resolved"] or now + dt.timedelta(seconds=4 * RESEND)))
                    for a in self.alerts.values()]

    def close(self, wait: float = 2.0) -> None:
        """Stop retrying; give what is queued ``wait`` seconds to go."""
        for box in self._queues.values():
            box.put(None)
        for worker in self._workers:
            worker.join(wait)
        self._stop.set()

    def _put(self, name: str, item: tuple) -> None:
        with self._lock:
            self.health[name]["pending"] += 1
        self._queues[name].put(item)

    def _firing(self) -> bool:
        with self._lock:
            return any(a["resolved"] is None for a in self.alerts.values())

    def _work(self, endpoint: Endpoint) -> None:
        box, pushing = self._queues[endpoint.name], endpoint.name == "alertmanager"
        while True:
            try:
                item = box.get(timeout=RESEND if pushing and self._firing() else None)
            except queue.Empty:
                item = ("alerts.resent", None)  # Prometheus re-sends firing alerts while they fire
            if item is None:
                return
            kind, body, covers = *item, int(item[0] != "alerts.resent")
            stop = False
            while pushing and not box.empty():  # one push of the latest set covers every queued one
                later = box.get_nowait()
                stop = stop or later is None
                covers += later is not None
            self._deliver(endpoint, kind, body, covers)
            if stop:
                return

    def _deliver(self, endpoint: Endpoint, kind: str, body, covers: int) -> None:
        """Send one message, retrying with doubling waits; ``body`` None: the alert set, made
        afresh for each attempt; ``covers``: how many queued messages it stands for."""
        for attempt in range(1, ATTEMPTS + 1):
            sent = self.alert_set() if body is None else body
            error = None if self.dry_run else self._post(endpoint.url, sent)
            if self.dry_run:
                self.say(f"[dry run] {endpoint.name} {endpoint.url}: {json.dumps(sent)}")
            status = "dry-run" if self.dry_run else ("sent" if error is None else "failed")
            gave_up = error is not None and attempt == ATTEMPTS
            self._record(endpoint.name, kind, status if not gave_up else "gave up", attempt, error, covers)
            if error is None or gave_up or self._stop.is_set():
                return
            self._sleep(min(2.0 ** (attempt - 1), MAX_WAIT))

    def _post(self, url: str, body) -> str | None:
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

    def _record(self, name: str, kind: str, status: str, attempt: int, error: str | None, covers: int = 1) -> None:
        with self._lock:
            state = self.health[name]
            if status != "failed":  # "failed" is one attempt of a message that will be tried again
                state["pending"] -= covers
                state["failed" if status == "gave up" else "sent"] += 1
            state["ok"], state["last_error"] = error is None, error
            line = {"at": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), "endpoint": name,
                    "event": kind, "status": status, "attempt": attempt, **({"error": error} if error else {})}
            with open(self.folder / LOG, "a", encoding="utf-8") as log:
                log.write(json.dumps(line) + "\n")
