"""Live drills: people act in real time through the same action API, bots take the other seats.

A ``LiveDrill`` lives in a folder. ``LiveDrill.create`` copies the scenario, process and
roster there and writes the drill's manifest; ``LiveDrill.open`` builds the drill from the
folder. The host (the console or the server) calls ``advance`` on every tick, which runs
the simulation up to the wall-clock moment scaled by the speed, and hands people's inputs
to ``act``, ``join``, ``end`` and the clock controls, which apply them at that moment.

Nothing acknowledged is lost: every input is appended to ``inputs.jsonl`` and every event
to ``events.jsonl``, both flushed and synced to disk before the input returns. Opening a
folder that already holds inputs replays them, each at its recorded simulated time, on a
fresh drill with the same seed; the replay must reproduce the journaled events one for
one, and the drill carries on from where it stopped.

An input is checked fully before it is journaled, so a journaled input never stops a
replay: one that still fails while it is applied (or a line an older version journaled
and then failed on) becomes an ``action.rejected`` event with the reason. A rejection
changes nothing else in the drill, so a replay that logs one the journal lacks (the
older version crashed instead of logging it) or logs it in the current shape takes it,
and ``events.jsonl`` is rewritten with it once the replay is done.
"""

import datetime as dt
import json
import math
import os
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from time import monotonic

import simpy
import simpy.rt

from ..inputs import config
from ..inputs.actions import ROLES, parse_action
from ..inputs.config import (
    FAULT_KINDS,
    Fault,
    Finding,
    Person,
    Roster,
    Script,
    ScriptParticipant,
)
from ..inputs.errors import DrillError
from ..inputs.yamlfile import read_text, repeated
from ..model.engine import Drill, DrillResult
from ..model.eventlog import to_jsonl
from ..model.incident import Result
from ..outputs.files import read_json, write_atomic
from ..outputs.scoring import next_update_due

MANIFEST = "live.json"
INPUTS = "inputs.jsonl"
EVENTS = "events.jsonl"
# What a drill is opened from (``read_json``): the rest of live.json is optional
MANIFEST_SHAPE = {"files": {"scenario": str}, "seed": int, "speed": (int, float), "bots": bool,
                  "players": [{"name": str}]}
DEBRIEF = "debrief.md"  # the facilitator's debrief, beside the report
RECORDED = "recorded.json"  # the drill store's id for the ended drill, so it is recorded once
SPEEDS = (0.1, 1000.0)
INJECTED_FINDING_AFTER = 300.0  # investigating the service turns the injected fault up after about this long
_INJECTED_TEXT = {
    "bad_deploy": "A deploy of {service} went out at {clock}",
    "config_push": "A config push to {service} at {clock}",
    "database_overload": "The database behind {service} is saturated since {clock}",
    "traffic_spike": "Traffic to {service} jumped at {clock}",
    "region_failure": "One region serving {service} went down at {clock}",
    "abusive_traffic": "Abusive traffic to {service} since {clock}",
    "memory_leak": "{service} leaks memory since {clock}",
    "dependency_outage": "An external dependency of {service} is down since {clock}",
}
TICK_NOTE = 1.0  # wall seconds between notes of the clock, so a resume loses at most this much
ANSWERED = ("look",)  # actions whose answer carries data to the person: the dashboard they looked at


class LiveEnvironment(simpy.rt.RealtimeEnvironment):
    """SimPy's real-time environment, at a speed that can change, with a pause.

    The host never asks it to run ahead of the wall clock: ``LiveDrill.advance`` steps
    only through events already due (up to ``target``), so the real-time ``step`` has
    nothing left to wait for, and a person's input typed between two events lands at the
    moment it was typed rather than after the next event. Moving to an explicit moment
    (``catching_up``: replaying a journal, or a test) steps without waiting.
    """

    def __init__(self, speed: float):
        super().__init__(0, 1.0 / speed, strict=False)
        self.paused = False
        self.catching_up = False

    @property
    def speed(self) -> float:
        return 1.0 / self.factor

    def target(self) -> float:
        """The simulated moment the wall clock has reached, to the millisecond, never before now."""
        if self.paused:
            return max(self.now, self.env_start)
        return max(self.now, round(self.env_start + (monotonic() - self.real_start) / self.factor, 3))

    def rebase(self, speed: float | None = None, paused: bool | None = None) -> None:
        """Restart the wall-clock mapping from the current moment, at a new speed or pause state."""
        self.env_start, self.real_start = self.target(), monotonic()
        if speed is not None:
            self._factor = 1.0 / speed  # the base class fixes its factor at creation; a live drill changes speed
        if paused is not None:
            self.paused = paused

    def restart(self) -> None:
        """Map the wall clock's now onto the current simulated moment (after a replay)."""
        self.env_start, self.real_start = self.now, monotonic()

    def step(self) -> None:
        if self.catching_up:
            simpy.Environment.step(self)
        else:
            super().step()


def cast(roster: Roster, players: list[dict], bots: bool) -> Script:
    """Who takes part: the ``players`` (people, in the on-call seats they take), and, with
    ``bots``, every other member of the roster, played by a bot."""
    taken = {p.get("oncall") for p in players} - {None}
    people = [ScriptParticipant(p["name"], p.get("oncall"), False) for p in players]
    if bots:
        names = {p["name"] for p in players}
        people += [ScriptParticipant(p.name, None if p.oncall in taken else p.oncall, True)
                   for p in roster.people if p.name not in names]
    return Script(tuple(people), ())


class _Journal:
    """An append-only JSON-lines file; on reopening, a torn last line (a write cut short
    by a crash, so never acknowledged) is dropped."""

    def __init__(self, path: Path):
        self.path = path
        text = read_text(path) if path.exists() else ""
        lines = text.splitlines(keepends=True)
        if lines and not lines[-1].endswith("\n"):
            lines.pop()
            write_atomic(path, "".join(lines))
        self.lines = [line.rstrip("\n") for line in lines]

    def append(self, record: dict) -> None:
        # Opened per record so that a drill left unfinished holds no open file.
        with open(self.path, "a", encoding="utf-8") as file:
            file.write(json.dumps(record, separators=(",", ":")) + "\n")

    def sync(self) -> None:
        """Make every appended record durable."""
        if self.path.exists():
            fd = os.open(self.path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


class LiveDrill:
    """One live drill in its folder; see the module docstring for the lifecycle."""

    @classmethod
    def create(cls, folder, scenario_file, process_file=None, roster_file=None, *, seed: int = 0,
               speed: float = 1.0, players: list[dict] = (), bots: bool = True, extra: dict | None = None) -> "LiveDrill":
        """Set up a new drill in ``folder`` (which must not hold one already) and open it.

        ``players`` are the people: ``{"name": "ana", "oncall": "primary"}`` takes an on-call
        seat; ``{"name": "kim", "as": "ic"}`` comes to play a role, which the bots hand over
        to them (an IC trainee gets IC from the on-call at the declaration)."""
        folder = Path(folder)
        if (folder / MANIFEST).exists():
            raise DrillError(f"{folder} already holds a live drill: resume it, or choose another folder")
        check_speed(speed)
        # Every file is checked before anything is written.
        config.load_scenario(scenario_file)
        check_players(players, bots, roster_names=[p.name for p in config.load_roster(
            roster_file, config.load_process(process_file)).people])
        folder.mkdir(parents=True, exist_ok=True)
        files = {}
        for kind, source in (("scenario", scenario_file), ("process", process_file), ("roster", roster_file)):
            if source is not None:
                files[kind] = f"{kind}.yaml"
                shutil.copyfile(source, folder / files[kind])
        # The day it is held: the channel name, the clock and the postmortem dates carry it.
        held = dt.datetime.now(dt.UTC).date().isoformat()
        manifest = {"version": 1, "seed": seed, "speed": speed, "bots": bots, "players": list(players),
                    "files": files, "extra": extra or {}, "held": held}
        write_atomic(folder / MANIFEST, json.dumps(manifest, indent=2) + "\n")
        return cls.open(folder)

    @classmethod
    def open(cls, folder) -> "LiveDrill":
        """The drill in ``folder``, replayed up to where it stopped."""
        folder = Path(folder)
        return cls(folder, read_json(folder / MANIFEST, f"{folder} holds no live drill ({MANIFEST} is missing)",
                                     MANIFEST_SHAPE))

    def __init__(self, folder: Path, manifest: dict):
        self.folder, self.manifest = folder, manifest
        files = manifest["files"]
        scenario = config.load_scenario(folder / files["scenario"])
        if "held" in manifest:  # a drill set up before the day was kept runs on the scenario's own day
            scenario = config.held_on(scenario, dt.date.fromisoformat(manifest["held"]))
        process = config.load_process(folder / files["process"] if "process" in files else None)
        roster = config.load_roster(folder / files["roster"] if "roster" in files else None, process)
        self.env = LiveEnvironment(manifest["speed"])
        self.drill = Drill(scenario, process, roster, cast(roster, manifest["players"], manifest["bots"]),
                           manifest["seed"], env=self.env)
        for player in manifest["players"]:
            self.drill.people[player["name"]].seat = player.get("as")
        if manifest.get("extra", {}).get("pages") == "alertmanager":
            self.drill.monitoring.page_from_outside()
        self.scenario, self.process = scenario, process
        self.result: DrillResult | None = None
        self.inputs = _Journal(folder / INPUTS)
        self.events = _Journal(folder / EVENTS)
        self._written = 0  # events logged so far
        self._matched = 0  # journaled events the replay has met so far
        self._rewrite = False  # the replay logged rejections the journal holds otherwise
        self._noted = monotonic()
        # A host that answers many people at once turns this off and calls ``sync`` before
        # answering: one sync then covers every input that arrived meanwhile (a group commit).
        self.sync_each = True
        self.tick_listeners: list = []  # called after each advance to the wall clock (the host's tick)
        self.drill.log.listeners.append(self._journal_event)
        self.drill.start()
        self._replay()

    # -- journal and replay --

    def _journal_event(self, event: dict) -> None:
        line = json.dumps(event, separators=(",", ":"))
        self._written += 1
        if self._matched < len(self.events.lines):
            expected = self.events.lines[self._matched]
            if line == expected:
                self._matched += 1
            elif event["kind"] == "action.rejected":
                self._rewrite = True
                self._matched += _same_rejection(event, expected)
            else:
                raise DrillError(f"cannot resume {self.folder}: the replay differs from {EVENTS} at event "
                                 f"{self._written} (expected {expected}, got {line})")
        elif not self._rewrite:
            self.events.append(event)

    def _replay(self) -> None:
        for number, line in enumerate(self.inputs.lines, start=1):
            try:
                record = json.loads(line)
                self.advance(until=record["t"])
                getattr(self, f"_apply_{record['input']}")(record)
            except (json.JSONDecodeError, KeyError, AttributeError, TypeError) as exc:
                raise DrillError(f"{self.folder / INPUTS}:{number}: not an input this drill can replay ({exc})") from None
        stopped = max([json.loads(line)["t"] for line in self.events.lines + self.inputs.lines], default=0.0)
        # Journaled times are rounded to the millisecond: take every event up to that rounding.
        self.advance(until=stopped + 0.0005)
        if self._rewrite:
            write_atomic(self.events.path, to_jsonl(self.drill.log.events))
            self.events.lines = [line.rstrip("\n") for line in to_jsonl(self.drill.log.events).splitlines()]
            self._matched, self._rewrite = len(self.events.lines), False
        self.env.restart()

    def _input(self, input_kind: str, **fields) -> dict:
        record = {"t": self.env.now, "input": input_kind, **fields}
        self.inputs.append(record)
        self._noted = monotonic()
        getattr(self, f"_apply_{input_kind}")(record)
        if self.sync_each:
            self.sync()
        return record

    def sync(self) -> None:
        """Make every input and event journaled so far durable."""
        self.inputs.sync()
        self.events.sync()

    # -- the clock --

    @property
    def now(self) -> float:
        return self.env.now

    @property
    def ended(self) -> bool:
        return self.result is not None

    def advance(self, until: float | None = None) -> None:
        """Run the drill up to ``until`` (default: where the wall clock has got to), stopping
        at its end exactly as a simulated drill would."""
        if self.ended:
            return
        env, done = self.env, self.drill.done
        target = env.target() if until is None else until
        env.catching_up = until is not None
        try:
            while not done.processed and (done.triggered or env.peek() < target):
                env.step()
            if not done.processed and target > env.now:
                env.run(until=target)
        finally:
            env.catching_up = False
        if done.processed:
            self.result = self.drill.finish()
            self.events.sync()
        elif until is None and not self.env.paused and monotonic() - self._noted > TICK_NOTE:
            # (paused, the clock stands where the pause noted it: a note a second would only grow the journal)
            self._input("tick")
        if until is None and not self.ended:
            for listen in self.tick_listeners:
                listen()

    def _apply_tick(self, record: dict) -> None:
        """A quiet moment passed: noted so that a resumed drill starts from it."""

    def pause(self) -> None:
        self._control("pause", paused=True)

    def resume(self) -> None:
        self._control("resume", paused=False)

    def set_speed(self, speed: float) -> None:
        self._control("speed", speed=check_speed(speed))

    def _control(self, kind: str, **fields) -> None:
        self.advance()
        self._input(kind, **fields)

    def _apply_pause(self, record: dict) -> None:
        self.env.rebase(paused=True)

    def _apply_resume(self, record: dict) -> None:
        self.env.rebase(paused=False)

    def _apply_speed(self, record: dict) -> None:
        self.env.rebase(speed=record["speed"])

    # -- people's inputs --

    def act(self, raw: dict) -> Result:
        """Apply one person's action now. ``raw`` is an action as the design spells it
        (``{"do": "declare", "by": "ana", "severity": "SEV2"}``)."""
        if self.ended:
            return Result(False, "the drill has ended")
        try:
            parse_action(raw, self.scenario.start, self.scenario.horizon)
        except ValueError as exc:
            return Result(False, str(exc))
        me = self.drill.people.get(raw["by"])
        if me is None or me.bot:
            return Result(False, f"{raw['by']!r} is not a person in this drill")
        self.advance()
        if self.ended:
            return Result(False, "the drill has ended")
        result = self._input("action", action=raw)["result"]
        # A person learns what the action did the way a responder would (dashboards, alerts,
        # findings), never from its answer: only a dashboard's figures are the answer itself,
        # and a rejection's offer to confirm (a resolve while alerts still fire).
        shown = raw["do"] in ANSWERED or (not result.ok and isinstance(result.data, dict) and "confirm" in result.data)
        return Result(result.ok, result.reason, result.data if shown else None)

    def _apply_action(self, record: dict) -> None:
        raw = record["action"]
        try:
            action = parse_action(raw, self.scenario.start, self.scenario.horizon)
            record["result"] = self.drill.act(action)
        except DrillError:  # the replay differs from the journal: that is no rejection
            raise
        except Exception as exc:  # noqa: BLE001 - a journaled input is logged as a rejection, never raised
            reason = str(exc) if isinstance(exc, ValueError) else \
                f"the drill could not apply it ({type(exc).__name__}: {exc})"
            shape = raw if isinstance(raw, dict) else {}
            fields = {k: v for k, v in shape.items() if k not in ("do", "by", "at")}
            record["result"] = self.drill.incident.reject(shape.get("by"), shape.get("do"), fields, reason)

    def join(self, name: str) -> Result:
        """A person joins the drill under way (not in an on-call seat: pages already went out)."""
        if self.ended:
            return Result(False, "the drill has ended")
        try:
            name = check_name(name)
            check_capitals(name, [*self.drill.people, *(p.name for p in self.drill.roster.people)])
        except DrillError as exc:
            return Result(False, str(exc))
        if name in self.drill.people:
            return Result(False, f"{name!r} is already taking part")
        self.advance()
        self._input("join", name=name)
        return Result(True)

    def _apply_join(self, record: dict) -> None:
        known = self.drill.roster.person(record["name"]) or Person(record["name"], profile=self.process.bots)
        self.drill.add_person(replace(known, oncall=None), bot=False)

    def end(self, reason: str = "ended") -> None:
        """The facilitator (or the person at the console) ends the drill now."""
        if not self.ended:
            self.advance()
            self._input("end", reason=reason)
            self.advance(until=self.env.now)

    def _apply_end(self, record: dict) -> None:
        if not self.drill.done.triggered:
            self.drill.done.succeed(record["reason"])

    # -- the facilitator's inputs --

    def inject(self, kind: str, service: str) -> Result:
        """Start an extra fault of ``kind`` on ``service`` now, with the defaults of its kind."""
        if self.ended:
            return Result(False, "the drill has ended")
        if not isinstance(kind, str) or kind not in FAULT_KINDS:
            return Result(False, f"unknown fault kind {kind!r} (kinds: {', '.join(FAULT_KINDS)})")
        if not isinstance(service, str) or service not in self.scenario.services:
            return Result(False, f"unknown service {service!r} (services: {', '.join(self.scenario.services)})")
        self.advance()
        record = self._input("inject", kind=kind, service=service)
        return Result(True, data=record["fault"])

    def _apply_inject(self, record: dict) -> None:
        kind, service = FAULT_KINDS[record["kind"]], record["service"]
        number = 1 + sum(s.fault.id.startswith("injected-") for s in self.drill.world.faults)
        remedy = (kind.fixes or tuple(kind.eases) or tuple(kind.band_aids) or (None,))[0]
        finding = Finding(service, INJECTED_FINDING_AFTER, _INJECTED_TEXT[record["kind"]].format(
            service=service, clock=self.drill.iso(self.env.now)[11:16]), root_cause=True, suggests=remedy)
        fault = Fault(f"injected-{number}", record["kind"], service, self.env.now, dict(kind.effects), ramp=60.0,
                      duration=None, recovery=300.0, fixes=kind.fixes, eases=dict(kind.eases),
                      band_aids=dict(kind.band_aids), findings=(finding,), description="injected by the facilitator")
        self.drill.inject(fault)
        record["fault"] = fault.id

    def ask(self, who: str, question: str) -> Result:
        """A stakeholder interrupts in the incident channel ("the VP of sales asks for an ETA")."""
        if self.ended:
            return Result(False, "the drill has ended")
        for name, value, most in (("who", who, 80), ("question", question, 500)):
            if not isinstance(value, str) or not value.strip() or len(value) > most:
                return Result(False, f"{name} is 1 to {most} characters")
        self.advance()
        self._input("ask", who=who.strip(), question=question.strip())
        return Result(True)

    def _apply_ask(self, record: dict) -> None:
        self.drill.log.emit("stakeholder.asked", who=record["who"], question=record["question"])

    # -- the team's real tools --

    def notified(self, notification: dict) -> Result:
        """A notification of the team's own Alertmanager (``webhooks.alertmanager_notification``):
        its group's page is triggered, updated or resolved, as its routing decided."""
        if self.ended:
            return Result(False, "the drill has ended")
        if self.manifest.get("extra", {}).get("pages") != "alertmanager":
            return Result(False, "this drill pages from its own alert routing: serve it with --pages-from alertmanager "
                                 "to take pages from the team's Alertmanager")
        self.advance()
        self._input("notified", **notification)
        return Result(True)

    def _apply_notified(self, record: dict) -> None:
        firing = [_Notified(a["labels"], a["annotations"], self._cause(a["labels"].get("service")))
                  for a in record["alerts"] if a["status"] == "firing"]
        self.drill.log.emit("notification.received", receiver=record["receiver"], group=record["group"],
                            firing=[a.labels["alertname"] for a in firing],
                            resolved=[a["labels"]["alertname"] for a in record["alerts"] if a["status"] == "resolved"])
        self.drill.monitoring.notified(record["receiver"], "alertmanager:" + record["group"], firing)

    def _cause(self, service) -> list[str]:
        """The faults behind what is wrong with ``service`` now (an alert from outside names no metric)."""
        found = self.drill.world.causes.get(service, {}) if isinstance(service, str) else {}
        return sorted({c for causes in found.values() for c in causes} - {"noise"}) or ["noise"]

    def pager_ack(self, page_id: str, agent: str | None = None) -> Result:
        """Someone acknowledged page ``page_id`` on their phone (a PagerDuty webhook): acknowledged
        in the drill by ``agent`` if that is a person the page has reached, else by whom it is with;
        a page with a bot is left to the bot, which acknowledges it itself."""
        if self.ended:
            return Result(False, "the drill has ended")
        self.advance()
        page = next((p for p in self.drill.monitoring.pages if p.id == page_id), None)
        if page is not None and page.status == "acknowledged":  # PagerDuty telling of the drill's own ack
            return Result(True, f"{page_id} is already acknowledged, by {page.acked_by}")
        if page is None or page.status != "triggered":
            return Result(False, f"no open page {page_id} to acknowledge")
        def bot(name):  # a level may name someone the drill does not have: no bot, a person elsewhere
            return name in self.drill.people and self.drill.people[name].bot

        who = agent if agent in page.levels[:page.level + 1] and not bot(agent) else page.to
        if bot(who):
            # Acknowledged in its name, the bot took the page for handled and never worked it: the
            # incident waited for its next page (declared 295 s later, or 55 min on a noise page).
            return Result(True, f"{page_id} is with {who}, played by a bot in this drill: the bot acknowledges it")
        return self._input("action", action={"do": "ack", "by": who, "page": page_id})["result"]

    def note_outbound(self, endpoint: str, ok: bool, error: str | None = None) -> None:
        """An endpoint of the team's tools started failing, or answers again: logged as an event."""
        if not self.ended:
            self._input("outbound", endpoint=endpoint, ok=ok, error=error)

    def _apply_outbound(self, record: dict) -> None:
        if record["ok"]:
            self.drill.log.emit("outbound.recovered", endpoint=record["endpoint"])
        else:
            self.drill.log.emit("outbound.failing", endpoint=record["endpoint"], error=record["error"])

    # -- the end --

    def scorecard(self) -> dict:
        """The ended drill's scorecard, with each person's own duties."""
        from ..outputs.scoring import score

        result = self.result
        return score(result.events, result.scenario, result.process, tuple(p["name"] for p in result.participants if not p["bot"]))

    def finish(self, card: dict, store_path=None, **recording) -> tuple[list[Path], int]:
        """Write the outputs of ``drill run`` into the folder (``events.jsonl`` is the journal,
        byte for byte) and record the drill in the drill store, once however often it ends
        (``recording``: the plan entry it carries out, as ``store.record`` takes it, and the
        planned ``roles``, to record whether the drill kept to them)."""
        from ..outputs import coaching, report
        from ..records import plan, store

        marker = self.folder / RECORDED
        recorded = read_json(marker, "") if marker.exists() else None
        # The day it was held titles the timeline picture, as the store gives it back to drill show.
        held = recorded.get("held") if recorded else str(recording.pop("conducted", None) or self.manifest.get("held")
                                                          or dt.datetime.now(dt.timezone.utc).date())
        written = report.write_outputs(self.result, card, self.folder, held)
        write_atomic(self.folder / DEBRIEF, "\n".join(coaching.debrief(self.result, card)) + "\n")
        written.append(self.folder / DEBRIEF)
        if recorded:
            return written, recorded["drill"]
        recording = dict(recording)
        if "roles" in recording:
            recording["deviations"] = plan.deviations(recording.pop("roles"), self.result.events)
        drill_id = store.record(self.result, card, conducted=held, mode="live", path=store_path, **recording)
        write_atomic(marker, json.dumps({"drill": drill_id, "store": str(store_path or store.default_path()),
                                         "held": held}) + "\n")
        return written, drill_id

    # -- what people see --

    def status(self) -> dict:
        """The incident as everyone in the channel sees it (never the scenario's truth)."""
        incident, now = self.drill.incident, self.env.now
        last = incident.updates[-1] if incident.updates else None
        last_at = last["t"] if last else incident.declared_at
        due = next_update_due(self.drill.log.events, self.process, now)  # the rule the cadence is scored by
        return {
            "t": now, "at": self.drill.iso(now), "speed": self.env.speed, "paused": self.env.paused,
            "ended": self.result is not None and self.result.events[-1]["reason"],
            "state": incident.state, "severity": incident.severity, "service": incident.service,
            "channel": incident.channel, "roles": dict(incident.roles),
            "since_update": None if last_at is None else now - last_at,
            "next_update_due": due,
            "people": {p.name: {"bot": p.bot, "oncall": p.person.oncall} for p in self.drill.people.values()},
        }


    def changes(self) -> list[dict]:
        """The change log up to now, newest first: what responders look at first."""
        return [{"at": self.drill.iso(c.at), "service": c.service, "kind": c.kind, "text": c.text}
                for c in reversed(self.scenario.change_log()) if c.at <= self.env.now]

    def runbooks(self, alert: str | None = None) -> list[dict]:
        """The runbook of ``alert``, or of each alert firing now: its link and the scenario's text."""
        known = {}
        for a in self.drill.monitoring.alerts:
            known.setdefault(a.rule.name, a)
        if alert is not None and alert not in known:
            raise DrillError(f"no alert {alert!r} in this drill (alerts: {', '.join(sorted(known))})")
        names = [alert] if alert else sorted({a.rule.name for a in self.drill.monitoring.firing()})
        return [{"alert": name, "url": known[name].annotations.get("runbook_url"),
                 "text": self.scenario.runbooks.get(name)} for name in names]


@dataclass(frozen=True)
class _Notified:
    """An alert of the team's own Alertmanager, as the drill's pager reads one."""

    labels: dict
    annotations: dict
    cause: list

    def summary(self) -> str:
        return self.annotations.get("summary", self.labels["alertname"])


def check_name(name) -> str:
    """A person's name, stripped: 1 to 40 printable characters."""
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 40 or not name.strip().isprintable():
        raise DrillError("a name is 1 to 40 printable characters")
    return name.strip()


def check_capitals(name: str, names) -> None:
    """Refuse ``name`` when one of ``names`` is it with other capitals: two people so named would
    read as one in the channel, the scorecard and ``drill history --person``, and the roster's
    person so spelled would be a stranger beside their bot."""
    other = next((n for n in names if n != name and n.casefold() == name.casefold()), None)
    if other is not None:
        raise DrillError(f"{name!r} is {other!r} with other capitals: give the name as {other!r}, or another")


def check_speed(speed) -> float:
    """``speed`` as a float, if it is a number within ``SPEEDS``."""
    try:
        value = float(speed)
    except OverflowError:  # an integer too large for a float
        value = math.inf
    except (TypeError, ValueError):
        value = math.nan
    if isinstance(speed, bool) or not SPEEDS[0] <= value <= SPEEDS[1]:
        raise DrillError(f"speed must be between {SPEEDS[0]:g} and {SPEEDS[1]:g} simulated seconds per second, got {value:g}")
    return value


def _same_rejection(event: dict, line: str) -> bool:
    """Whether the journaled ``line`` is ``event``, a rejection, as an older version logged it
    (the action's fields beside the rejection's rather than apart)."""
    try:
        old = json.loads(line)
    except ValueError:
        return False
    return old.get("kind") == event["kind"] and all(old.get(k) == event[k] for k in ("t", "by", "do", "reason"))


def check_players(players: list[dict], bots: bool = True, roster_names=()) -> None:
    names = [p["name"] for p in players]
    if twice := repeated(names):
        raise DrillError(f"each person takes one seat: {', '.join(sorted(twice))} appear twice")
    for i, name in enumerate(names):
        check_capitals(name, [*names[:i], *roster_names])
    seats = [p.get("oncall") for p in players if p.get("oncall")]
    if len(set(seats)) != len(seats):
        raise DrillError("each on-call seat (primary, secondary) takes one person")
    for p in players:
        if p.get("as") not in (None, *ROLES):
            raise DrillError(f"{p['name']} can come to play {', '.join(ROLES)}, not {p['as']!r}")
    if not bots and "primary" not in seats:
        raise DrillError("without bots, a person must take the primary on-call seat: nobody else would answer the pages")

