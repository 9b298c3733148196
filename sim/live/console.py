"""The live drill at a terminal: a person types the design's actions while the drill runs.

``play`` runs a prompt_toolkit session on asyncio: a background task advances the
``LiveDrill`` every ``TICK`` seconds and prints what a responder would see as it happens
(pages, alerts, the incident channel, updates, findings); the bottom toolbar shows the
simulated clock and the incident state; each line typed is a command (``sim.commands``).
When the drill ends it prints the scorecard and writes the same outputs as ``drill run``.
"""

import asyncio
import shlex

from prompt_toolkit import PromptSession
from prompt_toolkit.application import get_app
from prompt_toolkit.completion import Completer, Completion
from prompt_toolkit.filters import Condition
from prompt_toolkit.formatted_text import FormattedText
from prompt_toolkit.key_binding import KeyBindings
from prompt_toolkit.keys import Keys
from prompt_toolkit.patch_stdout import patch_stdout
from prompt_toolkit.shortcuts import print_formatted_text
from prompt_toolkit.styles import Style

from ..inputs import units
from ..inputs.actions import MAX_TEXT
from ..inputs.errors import DrillError
from ..model.incident import task_words
from ..outputs import report
from .commands import (
    UsageError,
    Vocabulary,
    business_days_after,
    completions,
    help_lines,
    hint,
    parse_command,
)
from .drill import LiveDrill

TICK = 0.05  # wall seconds between advances of the drill
BARS = " ▁▂▃▄▅▆▇█"

STYLE = Style.from_dict({
    "time": "#8a8a8a", "page": "bold #ff5f5f", "alert": "#ffaf00", "channel": "#5fafff", "update": "bold #5fd75f",
    "finding": "#d7afff", "say": "#87d7ff", "dim": "#8a8a8a", "rejected": "bold #ff5f5f", "info": "", "head": "bold",
    "bottom-toolbar": "noreverse bg:#262626 #d0d0d0", "bar.clock": "bold #ffffff", "bar.alarm": "bold #ff5f5f",
    "bar.ok": "#5fd75f",
})


class _Ended(Exception):
    """Raised into the waiting prompt when the drill ends under it."""


def seen(event: dict, me: str) -> tuple[str, str] | None:
    """How ``event`` shows on ``me``'s screen, as (style, text), or None when a responder would
    not see it (the scenario's truth, others' dashboards, bots' rejected attempts)."""
    kind, by = event["kind"], event.get("by")
    you = (lambda who: "you" if who == me else who)
    page = report.page_name(event["page"]) if "page" in event else None
    if kind == "alert.firing":
        return "alert", f"ALERT    {event['summary']} ({event['severity']}) is firing"
    if kind == "alert.resolved":
        return "dim", f"ALERT    resolved: {event['summary']}"
    if kind in ("page.sent", "page.urgency_raised"):
        raised = " raised to high urgency" if kind == "page.urgency_raised" else f" ({event['urgency']} urgency)"
        if event["to"] == me:
            links = "".join(f"\n         runbook: {url}" for url in event.get("runbooks", ()))
            return "page", f"PAGE     {page}{raised}: {event['summary']}   -> type: ack{links}"
        return "dim", f"PAGE     {page} to {event['to']}{raised}: {event['summary']}"
    if kind == "page.escalated":
        return ("page" if event["to"] == me else "dim"), \
            f"PAGE     {page} not acknowledged by {you(event['from'])}: escalated to {you(event['to'])}"
    if kind == "page.acked":
        return "dim", f"PAGE     {page} acknowledged by {you(by)}"
    if kind == "page.resolved":
        return "dim", f"PAGE     {page} resolved (its alerts cleared)"
    if kind == "incident.declared":
        return "channel", f"CHANNEL  {event['channel']} opened: {event['severity']} on {event['service']} declared by {you(by)}" \
            + (f": {event['summary']}" if event["summary"] else "")
    if kind in ("role.assigned", "severity.changed", "teams.paged", "incident.resolved", "incident.stood_down",
                "postmortem.scheduled", "incident.reopened"):
        return "channel", f"CHANNEL  {report.describe(event)}"
    if kind == "channel.message":
        return "say", f"CHANNEL  {you(by)}: {event['text']}"
    if kind == "task.asked":
        mine = event["who"] == me
        return ("page" if mine else "channel"), f"ASK      {you(by)} {'ask' if by == me else 'asks'} {you(event['who'])} to {task_words(event)} " \
            f"({event['id']})" + ("   -> do it: it counts as done when you do" if mine else "")
    if kind == "task.done":
        return "dim", f"CHANNEL  {you(event['who'])} has done {event['id']}"
    if kind == "update.posted":
        extra = ", ".join(f"{label} {event[key][11:16] if key == 'next_update' else event[key]}"
                          for key, label in (("next_update", "next update"), ("eta", "ETA")) if key in event)
        return "update", f"UPDATE   [{event['status']}] {you(by)}: {event['summary']}" + (f"  ({extra})" if extra else "")
    if kind == "investigation.started":
        return "dim", f"CHANNEL  investigation of {event['service']} started by {you(by)}"
    if kind == "finding":
        return "finding", f"FINDING  {by} on {event['service']}: {event['text']}"
    if kind == "mitigation.applied":
        return "channel", f"CHANNEL  {by} applies {event['action']} to {event['service']}"
    if kind == "drill.ended":
        return "head", f"The drill has ended ({event['reason']})"
    return None


def chart(samples: list, service: str, now: float, minutes: float = 15, width: int = 48, rows: int = 4) -> list[str]:
    """A service's error rate and p99 latency over the last ``minutes``, as a small block chart,
    one column per time slice (the worst sample in it)."""
    since = now - minutes * 60
    window = [(t, values[service]) for t, values in samples if t >= since and service in values]
    if not window:
        return [f"{service}: no samples yet"]
    columns = min(width, len(window))
    start, span = window[0][0], max(now - window[0][0], 1e-9)
    lines = [f"{service}: last {units.human(now - start)}, one column per {units.human(span / columns)}"]
    for index, (label, show) in enumerate((("error rate", lambda v: f"{100 * v:.2f}%"),
                                           ("p99 latency", lambda v: f"{v:,.0f} ms"))):
        slices = [[] for _ in range(columns)]
        for t, values in window:
            slices[min(columns - 1, int((t - start) / span * columns))].append(values[index])
        points, last = [], window[0][1][index]
        for chunk in slices:
            last = max(chunk) if chunk else last
            points.append(last)
        top = max(points) or 1.0
        levels = [round(p / top * rows * 8) for p in points]
        labels = [show(top)] + [""] * (rows - 2) + [show(0)]
        pad = max(len(x) for x in labels)
        lines.append(f"  {label}   now {show(window[-1][1][index])}, highest {show(max(points))}")
        for row in range(rows - 1, -1, -1):
            bars = "".join(BARS[max(0, min(8, level - row * 8))] for level in levels)
            lines.append(f"  {labels[rows - 1 - row]:>{pad}} |{bars}")
    return lines


def toolbar(live: LiveDrill, me: str) -> list[tuple[str, str]]:
    """The bottom bar: the simulated clock and pace, the incident, its roles and the update cadence."""
    status = live.status()
    clock = f" {status['at'][11:19]} UTC "
    pace = "PAUSED" if status["paused"] else f"x{status['speed']:g}"
    parts = [("class:bar.clock", clock), ("", f" {pace} | ")]
    if status["state"] == "none":
        firing = len(live.drill.monitoring.firing())
        mine = [report.page_name(p.id) for p in live.drill.monitoring.pages_for(me)]
        parts.append(("", f"no incident declared | {firing} alert{'s' if firing != 1 else ''} firing"))
        if mine:
            parts += [("", " | "), ("class:bar.alarm", f"your open pages: {', '.join(mine)} (ack)")]
    else:
        # The roles the level staffs (and any held): a '-' is a gap to fill, not a role the team's level never has.
        staffed = ("ic", *live.process.severities[status["severity"]].roles)
        roles = "  ".join(f"{role} {status['roles'].get(role, '-')}" for role in ("ic", "comms", "ops")
                          if role in staffed or role in status["roles"])
        parts.append(("", f"{status['severity']} {status['state'].replace('_', ' ')} {status['channel']} | {roles}"))
        parts.append(("", "\n "))
        since = status["since_update"]
        parts.append(("", "no update yet" if not live.drill.incident.updates else f"last update {units.human(since)} ago"))
        due = status["next_update_due"]
        if due is not None:
            left = due - status["t"]
            style = "class:bar.alarm" if left < 0 else "class:bar.ok"
            when = f"OVERDUE by {units.human(-left)}" if left < 0 else f"in {units.human(left)}"
            parts += [("", ", next due "), (style, f"{live.drill.iso(due)[11:16]} ({when})")]
    held = ", ".join(role for role, who in status["roles"].items() if who == me)
    parts.append(("", f" | you: {me} ({held or seat(live, me)}) | help"))
    return parts


def seat(live: LiveDrill, me: str) -> str:
    """Where ``me`` sits when holding no role."""
    person = live.drill.people[me]
    return f"{person.person.oncall} on-call" if person.person.oncall else f"here for {person.seat}" if person.seat else "no role yet"


READINGS = {  # metric -> (name people use, scale, unit, decimals), as the dashboards show them
    "request_rate": ("traffic", 1, " req/s", 0), "error_rate": ("error rate", 100, " %", 1),
    "latency_p99_ms": ("p99", 1, " ms", 0), "cpu": ("cpu", 100, " %", 0), "memory": ("memory", 100, " %", 0),
}


def reading(metrics: dict) -> str:
    """A service's metrics as ``look`` prints them: ``error rate 15.0 %, p99 450 ms, ...``."""
    parts = []
    for key, value in metrics.items():
        name, scale, unit, decimals = READINGS.get(key, (key, 1, "", 2))
        parts.append(f"{name} {value * scale:.{decimals}f}{unit}")
    return ", ".join(parts)


def who(person) -> str:
    """What completion shows beside a person's name: team, seniority, roles they lead and learn."""
    parts = [person.team or "no team"] + (["senior"] if person.senior else [])
    parts += [f"leads {'/'.join(person.trained)}"] if person.trained else []
    parts += [f"learning {'/'.join(person.training)}"] if person.training else []
    return ", ".join(parts)


class _Completer(Completer):
    def __init__(self, words):
        self.words = words

    def get_completions(self, document, complete_event):
        words = self.words()
        prefix, candidates = completions(document.text_before_cursor, words)
        for word in candidates:
            yield Completion(word, start_position=-len(prefix), display_meta=words.notes.get(word, ""))


# No action takes a line near this long (a text is at most 2,000 characters), and prompt_toolkit's
# memory grows with the square of a typed line (30,000 characters: 470 MB; 100,000, pasted where
# the terminal does not mark pastes: past 4.9 GB): keys past it are dropped, the line refused.
LONGEST_LINE = 2 * max(MAX_TEXT.values())


class Console:
    """One person at the terminal, in one live drill."""

    def __init__(self, live: LiveDrill, me: str):
        self.live, self.me = live, me
        self.shown = 0
        self.cut = False  # whether keys were dropped from the line being typed (LONGEST_LINE)
        keys = KeyBindings()
        # The console asks the terminal for no mouse events, so any that comes is a colour code or the
        # like pasted or typed (``ESC[31m`` reads as one), on which prompt_toolkit's own handler fails.
        keys.add(Keys.Vt100MouseEvent)(lambda event: None)

        # (a binding of Keys.Any yields to any binding of the key itself: Enter and Backspace still work)
        @keys.add(Keys.Any, filter=Condition(lambda: len(get_app().current_buffer.text) >= LONGEST_LINE))
        def _too_long(event):
            self.cut = True

        self.session = PromptSession(completer=_Completer(self.vocabulary), bottom_toolbar=self.toolbar,
                                     refresh_interval=0.5, style=STYLE, complete_while_typing=False,
                                     key_bindings=keys)

    # -- what the person sees --

    def say(self, lines, style: str = "info") -> None:
        lines = [lines] if isinstance(lines, str) else lines
        print_formatted_text(FormattedText([(f"class:{style}", line + "\n") for line in lines]), style=STYLE, end="")

    def show_new(self) -> None:
        """Print the events that happened since last time, each at its simulated time."""
        events = self.live.drill.log.events
        parts = []
        for event in events[self.shown:]:
            line = seen(event, self.me)
            if line is not None:
                parts += [("class:time", f"{event['at'][11:19]}  "), (f"class:{line[0]}", line[1] + "\n")]
        self.shown = len(events)
        if parts:
            print_formatted_text(FormattedText(parts), style=STYLE, end="")

    def toolbar(self):
        return toolbar(self.live, self.me)

    def vocabulary(self) -> Vocabulary:
        drill = self.live.drill
        teams = set(drill.scenario.teams) | {p.person.team for p in drill.people.values() if p.person.team}
        today = units.at(drill.scenario.start, self.live.now).date()
        dates = business_days_after(today, drill.process.postmortem_business_days)
        notes = {name: who(p.person) for name, p in drill.people.items()} | {d: units.weekday(d) for d in dates}
        alerts = tuple(sorted({a.rule.name for a in drill.monitoring.alerts}))
        return Vocabulary(tuple(drill.scenario.services), tuple(drill.process.severities), tuple(drill.people),
                          tuple(sorted(teams)), tuple(report.page_name(p.id) for p in drill.monitoring.pages_for(self.me)), dates,
                          alerts, notes)

    # -- what the person does --

    def handle(self, text: str) -> bool:
        """Carry out one line; False when the person leaves the console."""
        try:
            parsed = parse_command(text, self.me, self.vocabulary(), self.live.now)
        except UsageError as exc:
            self.say(str(exc), "rejected")
            return True
        if parsed is None:
            return True
        if "do" in parsed:
            result = self.live.act(parsed)
            self.show_new()
            if not result.ok:
                self.say(f"rejected: {result.reason}{hint(parsed, self.vocabulary())}", "rejected")
                if result.data and result.data.get("confirm"):
                    summary = f" {shlex.quote(parsed['summary'])}" if parsed.get("summary") else ""
                    self.say(f"  to resolve anyway: resolve confirm=yes{summary}", "dim")
            elif parsed["do"] == "look":
                self.say("  " + reading(result.data))
            return True
        return getattr(self, f"_{parsed['console']}")(parsed)

    def _help(self, parsed) -> bool:
        try:
            self.say(help_lines(parsed.get("command"), self.vocabulary().severities))
        except UsageError as exc:
            self.say(str(exc), "rejected")
        return True

    def _dashboard(self, parsed) -> bool:
        result = self.live.act({"do": "look", "by": self.me, "service": parsed["service"]})
        if not result.ok:
            self.say(f"rejected: {result.reason}", "rejected")
        else:
            self.say(chart(self.live.drill.samples, parsed["service"], self.live.now, parsed.get("minutes", 15)))
        return True

    def _alerts(self, parsed) -> bool:
        firing = self.live.drill.monitoring.firing()
        lines = []
        for a in firing:
            lines.append(f"  {a.summary()} ({a.rule.severity}) on {a.rule.service}, firing since "
                         f"{self.live.drill.iso(a.since)[11:19]}   [{a.rule.name}]")
            if a.annotations.get("runbook_url"):
                lines.append(f"      runbook: {a.annotations['runbook_url']}   (runbook {a.rule.name})")
        self.say(lines or ["  no alert is firing"])
        return True

    def _runbook(self, parsed) -> bool:
        try:
            books = self.live.runbooks(parsed.get("alert"))
        except DrillError as exc:
            self.say(str(exc), "rejected")
            return True
        lines = []
        for book in books:
            lines.append(f"  {book['alert']}" + (f"   {book['url']}" if book["url"] else "   (no runbook link)"))
            text = book["text"] or "(this scenario has no runbook text for it: the link is where a team's would be)"
            lines += [f"    {line}" for line in text.splitlines()]
        self.say(lines or ["  no alert is firing: runbook ALERT reads one (the alerts command names them)"])
        return True

    def _changes(self, parsed) -> bool:
        changes = self.live.changes()
        self.say([f"  {c['at'][:10]} {c['at'][11:16]}  {c['kind']:<6}  {c['service']:<16}  {c['text']}" for c in changes]
                 or ["  no changes recorded"])
        return True

    def _status(self, parsed) -> bool:
        status, incident = self.live.status(), self.live.drill.incident
        lines = [f"  {status['at']}  {'paused' if status['paused'] else 'x' + format(status['speed'], 'g')}",
                 f"  incident: {status['state'].replace('_', ' ')}"
                 + (f", {status['severity']} on {status['service']}, channel {status['channel']}" if status["channel"] else ""),
                 "  roles: " + (", ".join(f"{r} {w}" for r, w in status["roles"].items()) or "none"),
                 "  people: " + ", ".join(f"{n}{' (bot)' if p['bot'] else ''}" + (f" [{p['oncall']} on-call]" if p["oncall"] else "")
                                          for n, p in status["people"].items())]
        lines += [f"  update {u['status']} by {u['by']} at {self.live.drill.iso(u['t'])[11:16]}: {u['summary']}"
                  for u in incident.updates[-3:]]
        lines += [f"  open task {t['id']}: {t['by']} asked {'you' if t['who'] == self.me else t['who']} to {task_words(t)}"
                  for t in incident.tasks if t["done"] is None]
        self.say(lines)
        return True

    def _pause(self, parsed) -> bool:
        self.live.pause()
        self.say(f"paused at {self.live.drill.iso(self.live.now)[11:19]}; type resume to go on")
        return True

    def _resume(self, parsed) -> bool:
        self.live.resume()
        self.say(f"running at x{self.live.env.speed:g}")
        return True

    def _speed(self, parsed) -> bool:
        try:
            self.live.set_speed(parsed["speed"])
        except DrillError as exc:
            self.say(str(exc), "rejected")
            return True
        if self.live.env.paused:  # the pace changes, not the pause
            self.say(f"paused, at x{parsed['speed']:g} once resumed: type resume to go on")
        else:
            self.say(f"running at x{parsed['speed']:g}")
        return True

    def _end(self, parsed) -> bool:
        self.live.end("ended at the console")
        return True

    def _quit(self, parsed) -> bool:
        return False

    # -- the loop --

    async def _tick(self) -> None:
        try:
            while not self.live.ended:
                self.live.advance()
                self.show_new()
                await asyncio.sleep(TICK)
            stop = _Ended()
        except Exception as exc:  # noqa: BLE001 - the prompt must not wait on a drill that stopped moving
            stop = exc
        if self.session.app.is_running:
            self.session.app.exit(exception=stop)
        elif not isinstance(stop, _Ended):
            raise stop

    async def run(self) -> None:
        with patch_stdout():
            ticker = asyncio.create_task(self._tick())
            try:
                while not self.live.ended:
                    if ticker.done():
                        ticker.result()  # the drill stopped moving between two prompts: say why
                    try:
                        text = await self.session.prompt_async([("class:head", f"{self.me}> ")])
                    except KeyboardInterrupt:
                        continue
                    except (EOFError, _Ended):
                        break
                    if self.cut:
                        self.cut = False
                        self.say(f"rejected: that line ran past {LONGEST_LINE:,} characters, and no command takes "
                                 f"one that long (a text is at most {max(MAX_TEXT.values()):,}): nothing was done",
                                 "rejected")
                        continue
                    if not self.handle(text):
                        break
            finally:
                ticker.cancel()
            self.show_new()


def play(live: LiveDrill, me: str, store_path=None) -> None:
    """Run the console until the drill ends or the person leaves; print the scorecard at the end."""
    console = Console(live, me)
    scenario = live.scenario
    pace = f"x{live.env.speed:g}{', paused' if live.env.paused else ''}"
    console.say([f"Live drill: {scenario.title} ({scenario.name}), from {live.drill.iso(live.now)[11:16]} UTC at {pace}",
                 f"You are {me} ({seat(live, me)}). Type help for the commands; Tab completes.",
                 f"The drill is kept in {live.folder}/"], "head")
    if not live.drill.monitoring.pages and not live.ended:
        console.say("All quiet for now: things start when an alert fires"
                    + (" (speed 30 gets there sooner)." if live.env.speed < 30 else "."), "dim")
    if not live.ended:
        asyncio.run(console.run())
    if not live.ended:
        console.say([f"Left the drill at {live.drill.iso(live.now)[11:19]} UTC. Resume it with:",
                     f"  drill live --resume {live.folder}"], "head")
        return
    card = live.scorecard()
    written, drill_id = live.finish(card, store_path)
    console.say(["", *report.scorecard(card), "", f"Wrote {', '.join(p.name for p in written)} to {live.folder}/",
                 f"Recorded as drill {drill_id} in the drill store"])
