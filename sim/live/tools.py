"""The team's real tools around one live drill, as its host (the server or the console) wires them.

``Tools`` listens to the drill once it is set going (``attach``, after any replay, so a
resumed drill sends nothing twice): each event goes to the ``Outbox`` (pages, updates,
chat, alerts to Alertmanager), each update to the public status page rewrites
``statuspage.json`` (those updates as one Statuspage incident), and each scrape feeds the metrics ``Exporter``.
After every advance of the drill to the wall clock, an endpoint that started failing or answers again is
journaled by the drill (``outbound.failing`` / ``outbound.recovered`` events). Inbound,
it turns a PagerDuty webhook's acknowledgement into the drill's ``ack`` of the page it
names (checking PagerDuty's signature when given the webhook's secret). The webhook token (``webhooks.json``, private) keeps the inbound URLs the same
across restarts.
"""

import functools
import json
import secrets
from pathlib import Path

from ..model.incident import Result
from ..outputs import formats
from ..outputs.files import read_json, write_atomic
from . import webhooks
from .drill import LiveDrill
from .metrics import Exporter
from .outbound import Outbox

STATUSPAGE = "statuspage.json"
TOKEN = "webhooks.json"


class Tools:
    def __init__(self, folder, outbox: Outbox | None = None, metrics: bool = False,
                 pagerduty_secret: str | None = None):
        self.folder = Path(folder)
        self.drill_id = self.folder.name  # the label every message carries (drill="<id>")
        self.outbox, self.metrics, self.pagerduty_secret = outbox, metrics, pagerduty_secret
        self.exporter: Exporter | None = None
        self.live: LiveDrill | None = None
        self._reported: dict[str, bool] = {}  # endpoint -> healthy, as last journaled

    @functools.cached_property
    def token(self) -> str:
        """The secret in the inbound webhooks' URLs, made once per drill folder."""
        path = self.folder / TOKEN
        if path.exists():
            return read_json(path, f"{path} is damaged")["token"]
        token = secrets.token_urlsafe(18)
        write_atomic(path, json.dumps({"token": token}) + "\n", private=True)
        return token

    def attach(self, live: LiveDrill) -> None:
        """Start listening to ``live`` (from now on: what a replay logged was sent before)."""
        if self.live is live:
            return
        self.live = live
        if self.outbox is not None:  # the status page goes on from what a replay logged (its updates' ids, its component)
            self.outbox.page = formats.StatusPage(self.outbox.drill, live.process.severities)
            for event in live.drill.log.events:
                self.outbox.page.update(event)
        if self.metrics:
            self.exporter = self.exporter or Exporter(live.scenario.services)
            live.drill.scrape_listeners.append(self.exporter.scraped)
        live.drill.log.listeners.append(self._heard)
        live.tick_listeners.append(self.tick)

    def _heard(self, event: dict) -> None:
        if self.outbox is not None:
            alert = None
            if event["kind"] in ("alert.firing", "alert.resolved"):
                alert = next((a for a in self.live.drill.monitoring.alerts if a.fingerprint == event["fingerprint"]),
                             None)
            self.outbox.offer(event, alert)
        if formats.on_status_page(event):
            incident = formats.statuspage_incident(self.live.drill.log.events, self.drill_id, self.live.scenario.title,
                                                   self.live.process.severities)
            write_atomic(self.folder / STATUSPAGE, json.dumps(incident, indent=2) + "\n")

    def tick(self) -> None:
        """Journal each endpoint that started failing or recovered since the last look."""
        if self.outbox is None or self.live is None:
            return
        for name, state in self.health().items():
            if self._reported.get(name, True) != state["ok"]:
                self._reported[name] = state["ok"]
                self.live.note_outbound(name, state["ok"], state["last_error"])

    def health(self) -> dict:
        """Each endpoint's health, as the facilitator's page shows it."""
        return {} if self.outbox is None else self.outbox.report()

    def pagerduty_signed(self, raw: bytes, headers) -> None:
        """With a webhook secret, refuse a PagerDuty webhook that PagerDuty did not sign with it."""
        if self.pagerduty_secret:
            webhooks.pagerduty_signed(raw, headers.get("x-pagerduty-signature"), self.pagerduty_secret)

    def pagerduty(self, event: dict):
        """A PagerDuty webhook's event (``webhooks.pagerduty_event``): an acknowledgement of one of
        this drill's pages acknowledges it in the drill; anything else is noted and ignored."""
        prefix = f"drill-{self.drill_id}-"
        if event["type"] != "incident.acknowledged":
            return Result(True, f"{event['type']}: nothing to do in the drill")
        key = event["incident_key"]
        if not key:  # an incident raised in PagerDuty by hand, or through another integration
            return Result(False, f"the incident has no incident_key: it is no page of this drill (expected {prefix}P<n>)")
        if not key.startswith(prefix):
            return Result(False, f"incident_key {key[:100]!r} is no page of this drill (expected {prefix}P<n>)")
        return self.live.pager_ack(key[len(prefix):], event["agent"])

    def close(self) -> None:
        if self.outbox is not None:
            self.outbox.close()
