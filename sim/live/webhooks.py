"""What the team's real tools send a live drill, read and checked: Alertmanager's webhook
(version 4) and PagerDuty's v3 webhooks.

Each reader takes the parsed JSON body and returns only what the drill uses, or raises
``DrillError`` saying what is wrong with the body; nothing here touches the drill.
``pagerduty_signed`` checks a PagerDuty webhook's signature over the raw body.
"""

import hashlib
import hmac
import json

from ..inputs.errors import DrillError

MAX_ALERTS = 1000
_TEXT = 1000  # characters kept of a label or annotation value


def _kind(value) -> str:
    """What a JSON value is, in JSON's words (the sender wrote JSON, not Python)."""
    if value is None:
        return "nothing"  # null, or a key left out
    return next(name for types, name in ((bool, "true or false"), ((int, float), "a number"), (str, "a string"),
                                         (list, "an array"), (dict, "an object")) if isinstance(value, types))


def _object(value, where: str) -> dict:
    if not isinstance(value, dict):
        raise DrillError(f"{where} must be a JSON object, got {_kind(value)}")
    return value


def _text(value, where: str) -> str:
    if not isinstance(value, str):
        raise DrillError(f"{where} must be a string, got {_kind(value)}")
    return value


def _strings(value, where: str) -> dict:
    """A label or annotation set: string keys to string values (long values cut)."""
    return {_text(k, f"{where} key"): _text(v, f"{where}.{k}")[:_TEXT] for k, v in _object(value, where).items()}


def alertmanager_notification(body) -> dict:
    """An Alertmanager webhook body (version 4) as ``{"receiver", "group", "status", "alerts"}``,
    each alert ``{"status", "labels", "annotations", "fingerprint"}`` (an alert without its own
    status has the notification's, as in Alertmanager's older bodies)."""
    body = _object(body, "the body")
    if body.get("version") != "4":
        got = json.dumps(body["version"]) if "version" in body else "missing"
        raise DrillError(f'not an Alertmanager webhook of version 4 ("version" is {got}, not "4")')
    status = body.get("status")
    if status not in ("firing", "resolved"):
        raise DrillError(f"status must be firing or resolved, got {status!r}")
    receiver, group = _text(body.get("receiver"), "receiver"), _text(body.get("groupKey"), "groupKey")
    alerts = body.get("alerts")
    if not isinstance(alerts, list) or not alerts:
        raise DrillError("alerts must be a list of at least one alert")
    if len(alerts) > MAX_ALERTS:
        raise DrillError(f"at most {MAX_ALERTS} alerts in one notification, got {len(alerts)}")
    out = []
    for i, alert in enumerate(alerts):
        where = f"alerts[{i}]"
        alert = _object(alert, where)
        state = alert.get("status", status)
        if state not in ("firing", "resolved"):
            raise DrillError(f"{where}.status must be firing or resolved, got {state!r}")
        labels = _strings(alert.get("labels"), f"{where}.labels")
        if "alertname" not in labels:
            raise DrillError(f"{where}.labels has no alertname")
        out.append({"status": state, "labels": labels,
                    "annotations": _strings(alert.get("annotations", {}), f"{where}.annotations"),
                    "fingerprint": _text(alert.get("fingerprint", ""), f"{where}.fingerprint")[:64]})
    return {"receiver": receiver[:200], "group": group[:_TEXT], "status": status, "alerts": out}


def pagerduty_signed(raw: bytes, header: str | None, secret: str) -> None:
    """Refuse a body PagerDuty did not sign with ``secret``: ``X-PagerDuty-Signature`` holds one
    or more ``v1=<hex HMAC-SHA256 of the body>`` (more than one while a secret is rotated)."""
    if not header:
        raise DrillError("no X-PagerDuty-Signature header: this webhook needs PagerDuty's signature")
    expected = "v1=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected.encode(), given.strip().encode()) for given in header.split(",")):
        raise DrillError("X-PagerDuty-Signature does not match the body signed with the webhook's secret")


def pagerduty_event(body) -> dict:
    """A PagerDuty v3 webhook body as ``{"type", "incident_key", "agent"}``: the event's type
    (``incident.acknowledged``, ...), the incident's ``incident_key`` (the ``dedup_key`` the
    drill sent it with; None when it has none) and who acted (their PagerDuty name, or None)."""
    event = _object(_object(body, "the body").get("event"), "event")
    kind = _text(event.get("event_type"), "event.event_type")
    if event.get("resource_type") != "incident":
        raise DrillError(f"event.resource_type must be incident, got {event.get('resource_type')!r}")
    data = _object(event.get("data"), "event.data")
    key = data.get("incident_key")
    if key is not None:
        _text(key, "event.data.incident_key")
    agent = event.get("agent")
    name = agent.get("summary") if isinstance(agent, dict) and isinstance(agent.get("summary"), str) else None
    return {"type": kind, "incident_key": key, "agent": name}
