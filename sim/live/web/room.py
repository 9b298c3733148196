"""A room: one live drill, the people in it, their secret links, and what each of them may see.

The room lives in the drill's folder next to the ``LiveDrill``: ``room.json`` (written
atomically on every change) holds the facilitator's token and the seats (token, name,
on-call seat), so a server restarted with ``--resume`` answers the same links. Before
the facilitator starts the drill the room is in setup: seats are added and named, and
starting creates the ``LiveDrill`` with the named seats as its people.

Views are filtered here, not in the browser: a participant's view holds what a responder
would see (their pages, the alert list, the dashboards they looked at, the channel) and
never the scenario's truth (its title, faults, causes, expected severity, root cause).
"""

import hmac
import json
import secrets
from pathlib import Path

from ...inputs import config
from ...inputs.actions import MITIGATIONS, ROLES, STATUSES
from ...inputs.errors import DrillError
from ...model.incident import Result
from ...outputs import coaching, report
from ...outputs.files import read_json, write_atomic
from ...outputs.scoring import CHECKLIST
from ..drill import MANIFEST, LiveDrill, check_capitals, check_name, check_speed

ROOM = "room.json"
# What a room is opened from (``read_json``): the rest of room.json is optional
ROOM_SHAPE = {"facilitator": str, "files": {"scenario": str}, "seed": int, "speed": (int, float), "bots": bool,
              "seats": [{"token": str, "seat": str, "name": (str, type(None))}]}
ONCALL_SEATS = ("primary", "secondary")
SEATS = (*ONCALL_SEATS, "ic", "comms", "ops", "joiner")  # a role seat: the bots hand that role over
OUTPUTS = ("events.jsonl", "score.json", "report.md", "timeline.png", "debrief.md")

# What a participant may see of each event kind: the fields kept, and who sees it
# ("all", or "mine": only the person it concerns). Kinds not listed are never sent.
_VISIBLE = {
    "alert.firing": ("all", ("alert", "service", "severity", "summary")),
    "alert.resolved": ("all", ("alert", "service", "severity", "summary")),
    "page.sent": ("mine", ("page", "to", "urgency", "summary", "service", "runbooks")),
    "page.escalated": ("mine", ("page", "from", "to")),
    "page.urgency_raised": ("mine", ("page", "to", "summary")),
    "page.acked": ("all", ("page", "by")),
    "incident.declared": ("all", ("by", "severity", "service", "channel", "summary")),
    "severity.changed": ("all", ("by", "from", "to", "reason")),
    "role.assigned": ("all", ("by", "role", "who", "previous")),
    "teams.paged": ("all", ("by", "teams")),
    "update.posted": ("all", ("by", "status", "summary", "severity", "next_update", "eta")),
    "investigation.started": ("all", ("by", "service")),
    "finding": ("mine", ("by", "service", "text", "points_to", "suggests")),
    "mitigation.applied": ("all", ("by", "action", "service")),
    "incident.resolved": ("all", ("by", "severity", "summary")),
    "incident.stood_down": ("all", ("by", "declared", "reason")),
    "postmortem.scheduled": ("all", ("by", "date")),
    "stakeholder.asked": ("all", ("who", "question")),
    "channel.message": ("all", ("by", "text")),
    "task.asked": ("all", ("by", "id", "who", "task", "action", "service", "teams")),
    "task.done": ("all", ("id", "who", "task")),
    "incident.reopened": ("all", ("by", "reason")),
    "dashboard.viewed": ("mine", ("by", "service", "metrics")),
    "action.rejected": ("mine", ("by", "do", "reason")),
    "drill.ended": ("all", ("reason",)),
}


def _concerns(event: dict, name: str, declared: bool) -> bool:
    if event["kind"].startswith("page."):
        return name in (event.get("to"), event.get("from"))
    if event["kind"] == "finding":
        return event["by"] == name or declared  # shared in the channel once there is one
    return event.get("by") == name


def visible(event: dict, name: str, declared: bool) -> dict | None:
    """The event as participant ``name`` sees it, or None."""
    rule = _VISIBLE.get(event["kind"])
    if rule is None or (rule[0] == "mine" and not _concerns(event, name, declared)):
        return None
    return {"t": event["t"], "at": event["at"], "kind": event["kind"],
            **{k: event[k] for k in rule[1] if k in event}}


def planned_seats(entry) -> list[dict]:
    """The seats a quarter plan's entry (``sim.plan.Entry``) gives its people: the planned ops
    lead holds the primary on-call pager (as in a simulated planned drill), the planned IC and
    comms lead take those roles when the bots hand them over, and shadows join."""
    roles, seats, named = dict(entry.roles), [], set()
    wanted = [(roles.get("ops"), "primary"), (roles.get("ic"), "ic"), (roles.get("comms"), "comms")]
    wanted += [(who, "joiner") for people in dict(entry.shadows).values() for who in people]
    for name, seat in wanted:
        if name and name not in named:
            named.add(name)
            seats.append({"name": name, "seat": seat})
    return seats


def new_token() -> str:
    return secrets.token_urlsafe(18)


class Room:
    """The facilitator, the seats and the drill (``live``, None until started)."""

    @classmethod
    def create(cls, folder, scenario_file, process_file=None, roster_file=None, *, seed: int = 0,
               speed: float = 1.0, seats: list[dict] = (), plan: dict | None = None,
               extra: dict | None = None) -> "Room":
        """A room in ``folder``; ``plan`` (``{"plan": "2026-Q4", "entry": 3, "shadows": {...}}``)
        names the quarter plan entry the drill carries out, for the drill store; ``extra`` is the
        drill's manifest's (``{"pages": "alertmanager"}``: pages come from the team's Alertmanager)."""
        folder = Path(folder)
        if (folder / ROOM).exists() or (folder / MANIFEST).exists():
            raise DrillError(f"{folder} already holds a drill: resume it with --resume {folder}, or choose another folder")
        check_speed(speed)
        files = {"scenario": scenario_file, "process": process_file, "roster": roster_file}
        for path in files.values():
            if path is not None and not Path(path).is_file():
                raise DrillError(f"{path}: no such file")
        state = {"version": 1, "facilitator": new_token(), "seed": seed, "speed": speed, "bots": True,
                 "files": {k: str(Path(v).resolve()) for k, v in files.items() if v is not None}, "seats": [],
                 "plan": plan, "extra": extra or {}}
        room = cls(folder, state)  # reads the roster: fails now, not at the start, on a bad file
        try:
            for seat in seats:
                room.add_seat(seat["seat"], seat.get("name"))
        except DrillError:
            (folder / ROOM).unlink(missing_ok=True)  # a room set up halfway is no room
            raise
        room.save()
        return room

    @classmethod
    def open(cls, folder) -> "Room":
        folder = Path(folder)
        room = cls(folder, read_json(folder / ROOM, f"{folder} holds no drill room ({ROOM} is missing)", ROOM_SHAPE))
        if (folder / MANIFEST).exists():
            room.live = LiveDrill.open(folder)
            for seat in room.state["seats"]:  # named in room.json, but the join was cut short
                if seat["name"] and seat["name"] not in room.live.drill.people and not room.live.ended:
                    room.live.join(seat["name"])
            room.live.sync_each = False  # the server syncs before it answers (app.GroupCommit)
        return room

    def __init__(self, folder: Path, state: dict):
        self.folder, self.state = folder, state
        self.live: LiveDrill | None = None
        self.card: dict | None = None
        self.store_path = None  # the drill store the ended drill is recorded in (None: the default)
        self._presence: dict[str, dict] = {}  # seat token -> opened, pages open, last action (see ``presence``)
        files = state["files"]
        self.scenario = config.load_scenario(files["scenario"])
        self.process = config.load_process(files.get("process"))
        self.roster = config.load_roster(files.get("roster"), self.process)

    def save(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        write_atomic(self.folder / ROOM, json.dumps(self.state, indent=2) + "\n", private=True)

    # -- who is asking --

    def who(self, token) -> dict | None:
        """The facilitator (``{"facilitator": True}``) or the seat holding ``token``, or None.
        Every token is compared, in constant time, so the answer's timing tells nothing."""
        if not isinstance(token, str) or not token:
            return None
        found = None
        if hmac.compare_digest(token.encode(), self.state["facilitator"].encode()):
            found = {"facilitator": True}
        for seat in self.state["seats"]:
            if hmac.compare_digest(token.encode(), seat["token"].encode()):
                found = seat
        return found

    # -- setup --

    @property
    def phase(self) -> str:
        return "setup" if self.live is None else "ended" if self.live.ended else "running"

    def add_seat(self, seat: str, name: str | None = None) -> dict:
        if seat not in SEATS:
            raise DrillError(f"seat must be one of {', '.join(SEATS)}, got {seat!r}")
        if seat != "joiner":
            if self.live is not None:
                raise DrillError("the drill has started: the seats are taken; add a joiner")
            if any(s["seat"] == seat for s in self.state["seats"]):
                raise DrillError(f"the {seat} seat is already in the room")
        entry = {"token": new_token(), "seat": seat, "name": None}
        if name:
            self._take(entry, name)
        self.state["seats"].append(entry)
        self.save()
        return entry

    def join(self, seat: dict, name) -> Result:
        """A participant opens their link and gives their name (or confirms the one set for them)."""
        try:
            name = check_name(name)
            if seat["name"] and seat["name"] != name:
                raise DrillError(f"this link is {seat['name']}'s")
            if not seat["name"] or self.live is not None and name not in self.live.drill.people:
                self._take(seat, name)
                self.save()
        except DrillError as exc:
            return Result(False, str(exc))
        return Result(True)

    def _take(self, entry: dict, name) -> None:
        """Give the seat ``entry`` to ``name``, who joins the drill if it is under way."""
        name = check_name(name)
        if any(s["name"] == name for s in self.state["seats"] if s is not entry):
            raise DrillError(f"{name!r} is already in the room")
        check_capitals(name, [*(s["name"] for s in self.state["seats"] if s["name"] and s is not entry),
                              *(p.name for p in self.roster.people)])
        if self.live is not None:
            me = self.live.drill.people.get(name)
            if me is not None and me.bot:
                raise DrillError(f"{name!r} is played by a bot in this drill: choose another name")
            if me is None:
                joined = self.live.join(name)
                if not joined.ok:
                    raise DrillError(joined.reason)
        entry["name"] = name

    def set_bots(self, on: bool) -> None:
        if self.live is not None:
            raise DrillError("the drill has started: bots are set before the start")
        self.state["bots"] = bool(on)
        self.save()

    def start(self) -> None:
        if self.live is not None:
            raise DrillError("the drill has already started")
        players = [{"name": s["name"], **({"oncall": s["seat"]} if s["seat"] in ONCALL_SEATS else
                                          {"as": s["seat"]} if s["seat"] in ROLES else {})}
                   for s in self.state["seats"] if s["name"]]
        files = self.state["files"]
        self.live = LiveDrill.create(self.folder, files["scenario"], files.get("process"), files.get("roster"),
                                     seed=self.state["seed"], speed=self.state["speed"], players=players,
                                     bots=self.state["bots"], extra=self.state.get("extra"))
        for seat in self.state["seats"]:  # once started: a start refused leaves the seats as they were
            if not seat["name"]:
                seat["seat"] = "joiner"  # the bots hold that seat now: whoever opens the link joins
        self.save()
        self.live.sync_each = False  # the server syncs before it answers (app.GroupCommit)

    # -- the clock (called by the server on every tick) --

    def tick(self) -> dict | None:
        """Advance the drill; when it has just ended, its scorecard, for ``finish``."""
        if self.live is None or self.card is not None:
            return None
        self.live.advance()
        return self.live.scorecard() if self.live.ended else None

    def finish(self, card: dict) -> None:
        """Write the same outputs as ``drill run`` next to the journal (events.jsonl is the same
        file), then show everyone the scorecard."""
        self.live.finish(card, self.store_path, **(self.state.get("plan") or {}))
        self.card = card

    # -- views --

    def view(self, viewer: dict, cursor: dict | None = None) -> tuple[dict, dict]:
        """What ``viewer`` sees now: everything new since ``cursor`` (all of it when None)."""
        full, cursor = cursor is None, cursor or {"events": 0, "samples": {}}
        facilitator = viewer.get("facilitator", False)
        out = {"full": full, "phase": self.phase, "options": self._options()}
        if facilitator:
            out["room"] = self._room_view()
            out["scenario"] = self._truth()
        else:
            out["me"] = {"name": viewer["name"], "seat": viewer["seat"]}
        if self.live is None:
            return out, cursor
        live, name = self.live, viewer.get("name")
        status = live.status()
        events = live.drill.log.events
        declared = live.drill.incident.declared_at is not None
        fresh = events[cursor["events"]:]
        out["status"] = status
        out["changes"] = live.changes()
        if facilitator:
            out["events"] = fresh
            out["alerts"] = [a.describe() | {"state": a.state, "since": a.since}
                             for a in live.drill.monitoring.alerts if a.state != "inactive"]
            watched = list(self.scenario.services)
        else:
            out["events"] = [v for v in (visible(e, name, declared) for e in fresh) if v is not None]
            out["alerts"] = [{k: d[k] for k in ("alert", "service", "severity", "summary")}
                             | {"since": a.since, "runbook_url": a.annotations.get("runbook_url"),
                                "runbook": self.scenario.runbooks.get(a.rule.name)}
                             for a in live.drill.monitoring.firing() for d in (a.describe(),)]
            out["pages"] = self._pages(name)
            out["tasks"] = [{k: t[k] for k in ("id", "by", "task", "action", "service", "teams") if k in t}
                            for t in live.drill.incident.open_tasks(name)]  # what the IC asked of them, not yet done
            out["allowed"] = self._allowed(name) if name in live.drill.people and not live.ended else {}
            watched = sorted(set(cursor["samples"]) | {e["service"] for e in fresh
                                                        if e["kind"] == "dashboard.viewed" and e["by"] == name})
        samples = live.drill.samples or []
        out["samples"] = {}
        sent = dict(cursor["samples"])
        for service in watched:
            start = sent.get(service, 0)
            new = samples[start:]
            if new:
                out["samples"][service] = [[t, round(m[service][0], 6), round(m[service][1], 1)] for t, m in new]
            sent[service] = len(samples)
        if self.card is not None:
            out["score"] = self._scorecard(None if facilitator else name)
        return out, {"events": len(events), "samples": sent}

    def _options(self) -> dict:
        scenario = self.scenario
        people = list(self.live.drill.people) if self.live else [s["name"] for s in self.state["seats"] if s["name"]]
        return {"services": list(scenario.services), "teams": sorted(scenario.teams), "people": people,
                "severities": list(self.process.severities), "roles": list(ROLES), "statuses": list(STATUSES),
                "mitigations": list(MITIGATIONS), "start": scenario.start.isoformat().replace("+00:00", "Z")}

    def _room_view(self) -> dict:
        seats = [seat | self.presence(seat["token"]) for seat in self.state["seats"]]
        return {"seats": seats, "bots": self.state["bots"], "speed": self.state["speed"],
                "seed": self.state["seed"], "fault_kinds": list(config.FAULT_KINDS),
                "questions": [{"who": who, "question": q} for who, q in self.scenario.questions]}

    # -- who is here (kept in memory: a restarted server starts with nobody connected) --

    def connected(self, token: str, change: int) -> None:
        """A page of ``token``'s seat opened (``+1``) or closed (``-1``) its stream of updates."""
        seen = self._presence.setdefault(token, {"opened": False, "pages": 0, "acted": None})
        seen["pages"] += change
        seen["opened"] = True

    def acted(self, token: str, t: float) -> None:
        self._presence.setdefault(token, {"opened": False, "pages": 0, "acted": None})["acted"] = t

    def presence(self, token: str) -> dict:
        """Whether the seat's link was opened, has a page open now, and when (simulated) they last acted."""
        seen = self._presence.get(token, {"opened": False, "pages": 0, "acted": None})
        return {"opened": seen["opened"], "online": seen["pages"] > 0, "acted": seen["acted"]}

    def revoke(self, token) -> dict:
        """Give the seat holding ``token`` a new link: the old one stops working at once."""
        seat = next((s for s in self.state["seats"] if isinstance(token, str) and hmac.compare_digest(
            token.encode(), s["token"].encode())), None)
        if seat is None:
            raise DrillError("no seat has that link")
        self._presence.pop(seat["token"], None)
        seat["token"] = new_token()
        self.save()
        return seat

    def _truth(self) -> dict:
        def fault(f, **outcome) -> dict:
            return {"id": f.id, "kind": f.kind, "service": f.service, "at": f.at, "magnitude": f.magnitude,
                    "duration": f.duration, "fixes": list(f.fixes), "description": f.description, **outcome}

        s = self.scenario
        faults = ([fault(st.fault, outcome=st.outcome) for st in self.live.drill.world.faults] if self.live is not None
                  else [fault(f) for f in s.faults])
        return {"name": s.name, "title": s.title, "faults": faults,
                # The expected severity in the process's levels, the one the scorecard judges by.
                "truth": {"severity": self.process.truth(s.truth).severity, "root_cause": s.truth.root_cause,
                          "teams_needed": sorted(s.truth.teams_needed), "false_alarm": s.truth.false_alarm}}

    def _pages(self, name: str) -> list[dict]:
        monitoring = self.live.drill.monitoring
        rank = monitoring.oncall.index(name) if name in monitoring.oncall else None
        runbooks = {e["page"]: e.get("runbooks", []) for e in self.live.drill.log.events if e["kind"] == "page.sent"}
        return [{"id": p.id, "summary": p.summary, "service": p.service, "urgency": p.urgency,
                 "status": p.status, "acked_by": p.acked_by, "runbooks": runbooks.get(p.id, [])}
                for p in monitoring.pages if rank is not None and rank <= p.level]

    def _allowed(self, name: str) -> dict:
        """The actions ``name`` may take now, derived from the incident's state and their roles.
        (The incident still checks every action; this only decides what the form offers.)"""
        drill = self.live.drill
        incident = drill.incident
        state, roles = incident.state, incident.roles
        ic = roles.get("ic") == name
        writer = name in (roles.get("comms"), roles.get("ic"))
        paged = any(name in (p.acked_by, p.to) for p in drill.monitoring.pages)
        allowed = {"look": True,
                   "ack": bool(drill.monitoring.pages_for(name)),
                   "declare": state == "none",
                   "investigate": not incident.closed,
                   "mitigate": not incident.closed,
                   "update": writer and state in ("open", "resolved"),
                   "severity": ic and state == "open",
                   "assign": ic and state == "open",
                   "page": ic and state == "open",
                   "resolve": ic and state == "open",
                   "stand_down": (state == "none" and paged) or (ic and state == "open"),
                   "schedule_postmortem": ic and state == "resolved" and not incident.postmortem,
                   "ask": ic and state == "open",
                   "say": incident.declared_at is not None,
                   "reopen": ic and state in ("resolved", "stood_down") and incident.declared_at is not None}
        # The IC's coordinating actions come first, the hands-on ones last (an IC delegates them).
        order = ("ack", "declare", "assign", "page", "ask", "update", "severity", "say", "resolve", "reopen",
                 "stand_down", "schedule_postmortem", "look", "investigate", "mitigate")
        return {k: True for k in order if allowed.get(k)}

    def _scorecard(self, name: str | None) -> dict:
        card = self.card
        metrics = [[label, report.format_metric(n, card["metrics"][n])]
                   for n, label in report.METRIC_LABELS.items() if n in card["metrics"]]
        checklist = [[label, card["checklist"][n], card.get("why", {}).get(n)] for n, label in CHECKLIST.items()]
        # A participant sees their own duties, as the console shows them (report.duty_rows).
        duty = card.get("people", {}).get(name)
        out = {"score": card["score"], "metrics": metrics, "checklist": checklist,
               "duties": report.duty_rows(duty) if duty else [], "next_steps": duty.get("next_steps", []) if duty else []}
        if name is None:  # the facilitator's debrief: the timeline beside the truth
            out["debrief"] = [list(row) for row in coaching.moments(self.live.result)]
            out["people"] = {who: d.get("next_steps", []) for who, d in card.get("people", {}).items()}
        return out
