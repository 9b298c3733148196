"""A live drill's outbound messages: sent in order to a receiver on 127.0.0.1, retried with
backoff while it fails, given up after the last attempt, dry-run sends nothing; every
attempt is in outbound.jsonl."""

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from sim import load_scenario, run_drill
from sim.live import outbound
from sim.live.outbound import Outbox, endpoints
from sim.outputs import formats

from .conftest import SCENARIOS


class Receiver:
    """An HTTP endpoint on 127.0.0.1 that answers 503 to its first ``failures`` requests."""

    def __init__(self, failures=0):
        self.bodies, self.failures, self.seen = [], failures, 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                receiver.seen += 1
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                ok = receiver.seen > receiver.failures
                if ok:
                    receiver.bodies.append((self.path, self.headers["Content-Type"], body))
                self.send_response(202 if ok else 503)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def events():
    return run_drill(load_scenario(SCENARIOS / "checkout-config-push.yaml"), seed=0).events


@pytest.fixture
def receiver():
    made = []

    def make(failures=0):
        made.append(Receiver(failures))
        return made[-1]
    yield make
    for r in made:
        r.close()


def log(folder):
    return [json.loads(line) for line in (folder / outbound.LOG).read_text().splitlines()]


def test_nothing_is_sent_unless_asked():
    assert endpoints() == []


def test_pages_updates_and_chat_arrive_in_order_in_their_formats(events, receiver, tmp_path):
    pd, status, chat = receiver(), receiver(), receiver()
    box = Outbox(tmp_path, "room-1", endpoints("KEY", pd.url + "/v2/enqueue", status.url + "/updates", chat.url + "/hook"),
                 sleep=lambda s: None)
    for event in events:
        box.offer(event)
    box.close(wait=10)
    assert [b for _, _, b in pd.bodies] == formats.pagerduty_events(events, "room-1", "KEY")
    assert {(path, kind) for path, kind, _ in pd.bodies} == {("/v2/enqueue", "application/json")}
    posted = [e for e in events if e["kind"] == "update.posted"]
    public = [e for e in posted if e["audience"] == "public"]  # the channel's updates stay in the company
    assert 0 < len(public) < len(posted)
    # the status page's incident updates, oldest first (the export lists them newest first)
    assert [b for _, _, b in status.bodies] == formats.statuspage_incident(events, "room-1", "t")["incident_updates"][::-1]
    assert len(status.bodies) == len(public)
    assert [b["text"] for _, _, b in chat.bodies] == [formats.chat_message(e)["text"] for e in posted]
    assert all(b["text"].startswith("[DRILL] ") for _, _, b in chat.bodies)
    assert box.health["pagerduty"] == {"url": pd.url + "/v2/enqueue", "ok": True, "sent": len(pd.bodies), "failed": 0,
                                       "pending": 0, "last_error": None}


def test_a_failing_endpoint_is_retried_with_backoff_and_reported(events, receiver, tmp_path):
    chat = receiver(failures=3)
    waits = []
    box = Outbox(tmp_path, "d", endpoints(chat_webhook=chat.url), sleep=waits.append)
    first = next(e for e in events if e["kind"] == "update.posted")
    box.offer(first)
    box.close(wait=10)
    assert waits == [1.0, 2.0, 4.0]  # three failures, each followed by a doubling wait
    assert [(line["status"], line["attempt"]) for line in log(tmp_path)] == \
        [("failed", 1), ("failed", 2), ("failed", 3), ("sent", 4)]
    assert log(tmp_path)[0]["error"] == "HTTP 503 Service Unavailable"
    assert len(chat.bodies) == 1 and box.health["chat"]["ok"] and box.health["chat"]["sent"] == 1


def test_an_endpoint_that_never_answers_is_given_up_without_stopping_anything(events, tmp_path):
    waits = []
    box = Outbox(tmp_path, "d", endpoints(chat_webhook="http://127.0.0.1:9/hook"), sleep=waits.append)
    box.offer(next(e for e in events if e["kind"] == "update.posted"))
    box.close(wait=30)
    assert waits == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0]  # capped at a minute; 8 attempts in all
    lines = log(tmp_path)
    assert [line["status"] for line in lines] == ["failed"] * 7 + ["gave up"]
    assert box.health["chat"]["ok"] is False and box.health["chat"]["failed"] == 1 and "refused" in lines[-1]["error"]


def test_dry_run_says_what_would_be_sent_and_sends_nothing(events, receiver, tmp_path):
    pd, said = receiver(), []
    box = Outbox(tmp_path, "d", endpoints("KEY", pd.url), dry_run=True, say=said.append)
    for event in events:
        box.offer(event)
    box.close(wait=10)
    assert pd.seen == 0
    triggers = [s for s in said if '"event_action": "trigger"' in s]
    assert len(triggers) == sum(e["kind"] == "page.sent" for e in events)
    assert said[0].startswith(f"[dry run] pagerduty {pd.url}: ")


@dataclass(frozen=True)
class Firing:
    """An alert as the drill's rules hold one: what the Outbox reads of it."""

    fingerprint: str = "f1"
    labels: dict = field(default_factory=lambda: {"alertname": "CheckoutErrors", "service": "checkout",
                                                  "severity": "page"})
    annotations: dict = field(default_factory=lambda: {"summary": "Checkout errors at 15%"})


def test_alerts_go_to_alertmanager_as_prometheus_sends_them(receiver, tmp_path, monkeypatch):
    import datetime as dt

    am, now = receiver(), [dt.datetime(2026, 12, 2, 14, 0, tzinfo=dt.timezone.utc)]
    monkeypatch.setattr(outbound, "RESEND", 0.3)  # seconds between re-sends while firing (Prometheus: a minute)
    box = Outbox(tmp_path, "room-1", endpoints(alertmanager=am.url + "/"), clock=lambda: now[0])
    box.offer({"kind": "alert.firing", "fingerprint": "f1"}, Firing())
    until = time.monotonic() + 5
    while len(am.bodies) < 2 and time.monotonic() < until:  # the push, then a re-send
        time.sleep(0.05)
    now[0] += dt.timedelta(minutes=3)
    box.offer({"kind": "alert.resolved", "fingerprint": "f1"}, Firing())
    box.close(wait=10)
    path, kind, first = am.bodies[0]
    assert (path, kind) == ("/api/v2/alerts", "application/json")
    # Firing: endsAt four re-send intervals ahead (4 x 0.3 s), so Alertmanager keeps it while it is re-sent.
    assert first == [{"labels": {**Firing().labels, "drill": "room-1"},
                      "annotations": {"summary": "[DRILL] Checkout errors at 15%"},
                      "startsAt": "2026-12-02T14:00:00.000Z", "endsAt": "2026-12-02T14:00:01.200Z"}]
    assert am.bodies[1][2] == first  # re-sent unchanged while it fires
    assert am.bodies[-1][2][0]["endsAt"] == "2026-12-02T14:03:00.000Z"  # resolved: when it resolved
    assert am.bodies[-1][2][0]["startsAt"] == "2026-12-02T14:00:00.000Z"


def test_the_drills_end_resolves_what_still_fires_in_alertmanager(receiver, tmp_path):
    import datetime as dt

    am, now = receiver(), [dt.datetime(2026, 12, 2, 14, 0, tzinfo=dt.timezone.utc)]
    box = Outbox(tmp_path, "room-1", endpoints(alertmanager=am.url), clock=lambda: now[0])
    box.offer({"kind": "alert.firing", "fingerprint": "f1"}, Firing())
    now[0] += dt.timedelta(seconds=90)
    box.offer({"kind": "drill.ended", "reason": "closed"})
    box.close(wait=10)
    assert am.bodies[-1][2][0]["endsAt"] == "2026-12-02T14:01:30.000Z"  # resolved when the drill ended
    assert box.report()["alertmanager"]["pending"] == 0
