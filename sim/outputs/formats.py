"""A drill's updates and pages in the formats status pages and pagers speak.

``statuspage_incident`` gives the drill's updates to its public status page (``audience:
public``; the incident channel's stay in the company) as an Atlassian Statuspage incident
object (its ``incident_updates`` newest first, as Statuspage lists them), with the declared
service as the component each update sets (``StatusPage``);
``pagerduty_events`` gives its pages as PagerDuty Events API v2 bodies (trigger,
acknowledge, resolve), one stable ``dedup_key`` per page; ``alertmanager_alert`` gives
one of its alerts as Alertmanager's API v2 takes it (``POST /api/v2/alerts``). Every text is marked
``[DRILL]`` and every object names the drill (an alert by its ``drill`` label), so nothing
made here can pass for a real incident. The scenario's truth (a page's ``cause``) is never included.
"""

import hashlib

from ..inputs.config import SEVERITIES

# The drill's update statuses -> Statuspage's incident statuses. Statuspage has no
# "mitigating": its "monitoring" (a fix is in, we are watching) is the nearest.
STATUSPAGE_STATUS = {"investigating": "investigating", "identified": "identified", "mitigating": "monitoring",
                     "resolved": "resolved"}
# Page urgency -> PagerDuty event severity (critical, error, warning or info).
PAGERDUTY_SEVERITY = {"high": "critical", "low": "warning"}
# A public update's severity, by rank (most severe first), -> the status of the component it
# is about; Statuspage's incident impact follows its components' worst status.
COMPONENT_STATUS = ("major_outage", "partial_outage", "degraded_performance")
STATUS_RANK = {"operational": 0, "degraded_performance": 1, "partial_outage": 2, "major_outage": 3}
IMPACTS = ("none", "minor", "major", "critical")  # by the worst status's rank
PREFIX = "[DRILL] "


def _id(*parts) -> str:
    """A stable 12-character id, as Statuspage's ids look, from what it identifies."""
    return hashlib.sha256("/".join(map(str, parts)).encode()).hexdigest()[:12]


def _ms(at: str) -> str:
    """``2026-04-20T14:47:45Z`` -> ``2026-04-20T14:47:45.000Z``, as Statuspage writes times."""
    return at.removesuffix("Z") + ".000Z"


def on_status_page(event: dict) -> bool:
    """Whether ``event`` is an update to the public status page (an update without an audience,
    as a store older than audiences holds, went to the incident channel)."""
    return event["kind"] == "update.posted" and event.get("audience") == "public"


class StatusPage:
    """The drill's public status page as its events set it, one event at a time: each public
    update becomes a Statuspage incident update, and sets the component of the service the
    incident was declared on.

    A component shows the severity the update was posted at, by its rank among the process's
    levels (``severities``, most severe first): the first level a major outage, the second a
    partial outage, any other degraded performance; a resolved update shows it operational.
    That is what the team said, never the scenario's truth. Statuspage works an incident's
    impact out from its components' worst status while it lasted; so does ``impact``.
    """

    def __init__(self, drill: str, severities=SEVERITIES):
        self.drill, self.levels = drill, list(severities)
        self.updates = 0  # public updates so far
        self.service: str | None = None  # the component: the service the incident was declared on
        self.status, self.since = "operational", None  # the component's status, and since when (None: never set)
        self.worst = "operational"

    def update(self, event: dict) -> dict | None:
        """Take in one event of the drill; for a public ``update.posted``, its Statuspage incident-update object."""
        if event["kind"] == "incident.declared":
            self.service = event.get("service") or None
        if not on_status_page(event):
            return None
        at = _ms(event["at"])
        affected = []
        if self.service is not None:
            rank = self.levels.index(event["severity"]) if event.get("severity") in self.levels else len(self.levels)
            new = "operational" if event["status"] == "resolved" else COMPONENT_STATUS[min(rank, len(COMPONENT_STATUS) - 1)]
            affected.append({"code": _id("component", self.service), "name": self.service, "old_status": self.status,
                             "new_status": new})
            if new != self.status:
                self.status, self.since = new, at
            if STATUS_RANK[new] > STATUS_RANK[self.worst]:
                self.worst = new
        index, self.updates = self.updates, self.updates + 1
        return {"id": _id("update", self.drill, index), "incident_id": _id("statuspage", self.drill),
                "status": STATUSPAGE_STATUS[event["status"]], "body": PREFIX + event["summary"], "created_at": at,
                "display_at": at, "updated_at": at, "affected_components": affected, "deliver_notifications": False,
                "custom_tweet": None, "tweet_id": None, "twitter_updated_at": None, "wants_twitter_update": False}

    @property
    def impact(self) -> str:
        return IMPACTS[STATUS_RANK[self.worst]]

    def components(self) -> list[dict]:
        """The component the updates set (none until one does), as Statuspage's component object, with its status now."""
        if self.since is None:
            return []
        return [{"id": _id("component", self.service), "page_id": None, "group_id": None, "created_at": None,
                 "updated_at": self.since, "group": False, "name": self.service, "description": None, "position": 1,
                 "status": self.status, "showcase": True, "only_show_if_degraded": False, "automation_email": None,
                 "start_date": None}]


def statuspage_incident(events: list[dict], drill: str, title: str, severities=SEVERITIES) -> dict:
    """The drill's updates to its status page as one Statuspage incident object; ``drill`` names
    the drill (its store id or folder), ``title`` the incident, ``severities`` the process's
    levels, most severe first (``StatusPage``)."""
    page = StatusPage(drill, severities)
    objects = [made for e in events if (made := page.update(e)) is not None]
    updates = [e for e in events if on_status_page(e)]
    declared = next((e for e in events if e["kind"] == "incident.declared"), None)
    monitoring = next((e for e in updates if e["status"] == "mitigating"), None)
    # Statuspage resolves an incident by a "resolved" update: its status is its newest update's,
    # resolved_at when that became "resolved". A drill resolved with no such update never told
    # the page, so the page is not resolved; when the drill resolved (if it is) goes in the metadata.
    page_resolved = drill_resolved = None
    for e in events:
        if on_status_page(e):
            page_resolved = (page_resolved or e) if e["status"] == "resolved" else None
        elif e["kind"] in ("incident.resolved", "incident.reopened"):
            drill_resolved = e if e["kind"] == "incident.resolved" else None
    first = declared or (updates[0] if updates else None)
    last = objects[-1] if objects else None
    return {
        "id": _id("statuspage", drill), "name": PREFIX + title, "status": last["status"] if last else "investigating",
        "impact": page.impact, "created_at": _ms(first["at"]) if first else None,
        "updated_at": last["updated_at"] if last else None,
        "monitoring_at": _ms(monitoring["at"]) if monitoring else None,
        "resolved_at": _ms(page_resolved["at"]) if page_resolved else None,
        "incident_updates": objects[::-1], "components": page.components(),
        "metadata": {"drill": {"id": drill, **({"resolved_at": _ms(drill_resolved["at"])} if drill_resolved else {})}},
        "shortlink": None, "page_id": None, "postmortem_body": None,
    }


def pagerduty_event(event: dict, drill: str, routing_key: str) -> dict | None:
    """One page event (sent, acknowledged, resolved) as a PagerDuty Events API v2 body; None
    for any other event."""
    kind, key = event["kind"], f"drill-{drill}-{event.get('page')}"
    if kind == "page.sent":
        return {
            "routing_key": routing_key, "dedup_key": key, "event_action": "trigger",
            "payload": {
                "summary": PREFIX + event["summary"], "timestamp": event["at"].removesuffix("Z") + ".000+0000",
                "source": "drillsim", "severity": PAGERDUTY_SEVERITY[event["urgency"]], "component": event["service"],
                "group": "drill", "class": "drill",
                "custom_details": {"drill": drill, "page": event["page"], "to": event["to"], "urgency": event["urgency"]},
            },
            "client": "drillsim", "links": [], "images": [],
        }
    if kind in ("page.acked", "page.resolved"):
        return {"routing_key": routing_key, "dedup_key": key,
                "event_action": "acknowledge" if kind == "page.acked" else "resolve"}
    return None


def pagerduty_events(events: list[dict], drill: str, routing_key: str) -> list[dict]:
    """The drill's pages as PagerDuty Events API v2 bodies, in the order they happened."""
    return [body for e in events if (body := pagerduty_event(e, drill, routing_key)) is not None]


def chat_message(event: dict) -> dict | None:
    """A status update as a Slack-compatible incoming-webhook body (Slack, Mattermost and
    Rocket.Chat take ``{"text": ...}``); None for any other event."""
    if event["kind"] != "update.posted":
        return None
    extra = "".join(f"\n{label}: {event[key]}" for key, label in (("next_update", "Next update"), ("eta", "ETA"))
                    if key in event)
    return {"text": f"{PREFIX}*{event['status'].capitalize()}* ({event['severity']}, {event['by']}): "
                    f"{event['summary']}{extra}"}


def alertmanager_alert(labels: dict, annotations: dict, drill: str, starts_at: str, ends_at: str) -> dict:
    """One alert as a ``POST /api/v2/alerts`` item: labelled ``drill="<drill>"`` so the team's routes
    can send drill pages elsewhere, its summary marked ``[DRILL]``. While it fires, ``ends_at`` is
    when Alertmanager may resolve it unless it is sent again (as Prometheus sets it); once
    resolved, when it resolved."""
    notes = {k: str(v) for k, v in annotations.items()}
    notes["summary"] = PREFIX + notes.get("summary", labels.get("alertname", "alert"))
    return {"labels": {**{k: str(v) for k, v in labels.items()}, "drill": drill}, "annotations": notes,
            "startsAt": starts_at, "endsAt": ends_at}
