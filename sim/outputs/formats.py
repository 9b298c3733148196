"""A drill's updates and pages in the formats status pages and pagers speak.

``statuspage_incident`` gives the drill's status updates as an Atlassian Statuspage
incident object (its ``incident_updates`` newest first, as Statuspage lists them);
``pagerduty_events`` gives its pages as PagerDuty Events API v2 bodies (trigger,
acknowledge, resolve), one stable ``dedup_key`` per page. Every text is marked
``[DRILL]`` and every object names the drill, so nothing made here can pass for a real
incident. The scenario's truth (a page's ``cause``) is never included.
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


def statuspage_incident(events: list[dict], drill: str, title: str) -> dict:
    """The drill's status updates as one Statuspage incident object; ``drill`` names the drill
    (its store id or folder), ``title`` the incident."""
    incident_id = _id("statuspage", drill)
    updates = [e for e in events if e["kind"] == "update.posted"]
    declared = next((e for e in events if e["kind"] == "incident.declared"), None)
    resolved = next((e for e in events if e["kind"] == "incident.resolved"), None)
    monitoring = next((e for e in updates if e["status"] == "mitigating"), None)
    objects = [{
        "id": _id("update", drill, i), "incident_id": incident_id, "status": STATUSPAGE_STATUS[e["status"]],
        "body": PREFIX + e["summary"], "created_at": _ms(e["at"]), "display_at": _ms(e["at"]),
        "updated_at": _ms(e["at"]), "affected_components": [], "deliver_notifications": False,
        "custom_tweet": None, "tweet_id": None, "twitter_updated_at": None, "wants_twitter_update": False,
    } for i, e in enumerate(updates)]
    first = declared or (updates[0] if updates else None)
    last = objects[-1] if objects else None
    return {
        "id": incident_id, "name": PREFIX + title, "status": last["status"] if last else "investigating",
        "impact": "none", "created_at": _ms(first["at"]) if first else None,
        "updated_at": last["updated_at"] if last else None,
        "monitoring_at": _ms(monitoring["at"]) if monitoring else None,
        "resolved_at": _ms(resolved["at"]) if resolved else None,
        "incident_updates": objects[::-1], "components": [], "metadata": {"drill": {"id": drill}},
        "shortlink": None, "page_id": None, "postmortem_body": None,
    }


def pagerduty_events(events: list[dict], drill: str, routing_key: str) -> list[dict]:
    """The drill's pages as PagerDuty Events API v2 bodies, in the order they happened."""
    pages, bodies = {}, []
    for e in events:
        kind = e["kind"]
        if kind == "page.sent":
            pages[e["page"]] = e
            bodies.append({
                "routing_key": routing_key, "dedup_key": f"drill-{drill}-{e['page']}", "event_action": "trigger",
                "payload": {
                    "summary": PREFIX + e["summary"], "timestamp": e["at"].removesuffix("Z") + ".000+0000",
                    "source": "drillsim", "severity": PAGERDUTY_SEVERITY[e["urgency"]], "component": e["service"],
                    "group": "drill", "class": "drill",
                    "custom_details": {"drill": drill, "page": e["page"], "to": e["to"], "urgency": e["urgency"]},
                },
                "client": "drillsim", "links": [], "images": [],
            })
        elif kind in ("page.acked", "page.resolved") and e["page"] in pages:
            bodies.append({"routing_key": routing_key, "dedup_key": f"drill-{drill}-{e['page']}",
                           "event_action": "acknowledge" if kind == "page.acked" else "resolve"})
    return bodies
