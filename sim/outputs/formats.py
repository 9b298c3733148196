"""A drill's updates and pages in the formats status pages and pagers speak.

``statuspage_incident`` gives the drill's updates to its public status page (``audience:
public``; the incident channel's stay in the company) as an Atlassian Statuspage incident
object (its ``incident_updates`` newest first, as Statuspage lists them);
``pagerduty_events`` gives its pages as PagerDuty Events API v2 bodies (trigger,
acknowledge, resolve), one stable ``dedup_key`` per page; ``alertmanager_alert`` gives
one of its alerts as Alertmanager's API v2 takes it (``POST /api/v2/alerts``). Every text is marked
``[DRILL]`` and every object names the drill (an alert by its ``drill`` label), so nothing
made here can pass for a real incident. The scenario's truth (a page's ``cause``) is never included.
"""

import hashlib

# The drill's update statuses -> Statuspage's incident statuses. Statuspage has no
# "mitigating": its "monitoring" (a fix is in, we are watching) is the nearest.
STATUSPAGE_STATUS = {"investigating": "investigating", "identified": "identified", "mitigating": "monitoring",
                     "resolved": "resolved"}
# Page urgency -> PagerDuty event severity (critical, error, warning or info).
PAGERDUTY_SEVERITY = {"high": "critical", "low": "warning"}
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


def statuspage_update(event: dict, drill: str, index: int) -> dict:
    """One public ``update.posted`` event as a Statuspage incident-update object (the drill's
    ``index``-th update to its status page)."""
    at = _ms(event["at"])
    return {"id": _id("update", drill, index), "incident_id": _id("statuspage", drill),
            "status": STATUSPAGE_STATUS[event["status"]], "body": PREFIX + event["summary"], "created_at": at,
            "display_at": at, "updated_at": at, "affected_components": [], "deliver_notifications": False,
            "custom_tweet": None, "tweet_id": None, "twitter_updated_at": None, "wants_twitter_update": False}


def statuspage_incident(events: list[dict], drill: str, title: str) -> dict:
    """The drill's updates to its status page as one Statuspage incident object; ``drill`` names
    the drill (its store id or folder), ``title`` the incident."""
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
    objects = [statuspage_update(e, drill, i) for i, e in enumerate(updates)]
    first = declared or (updates[0] if updates else None)
    last = objects[-1] if objects else None
    return {
        "id": _id("statuspage", drill), "name": PREFIX + title, "status": last["status"] if last else "investigating",
        "impact": "none", "created_at": _ms(first["at"]) if first else None,
        "updated_at": last["updated_at"] if last else None,
        "monitoring_at": _ms(monitoring["at"]) if monitoring else None,
        "resolved_at": _ms(page_resolved["at"]) if page_resolved else None,
        "incident_updates": objects[::-1], "components": [],
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
