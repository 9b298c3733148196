"""One drill: a SimPy environment wiring the world, monitoring, the incident and participants.

Lifecycle: build (``Drill(...)``) -> simulate (``run``) -> a ``DrillResult`` holding the
event log, from which everything else is derived.
"""

import contextlib
import functools
import gc
import heapq
from dataclasses import dataclass, replace
from math import inf

import simpy
from simpy.events import NORMAL, PENDING, URGENT

from ..inputs import alertmanager
from ..inputs.config import Person, Process, Roster, Scenario, Script, load_roster
from .clock import Clock, own_clock
from .eventlog import EventLog, to_jsonl
from .incident import Incident
from .memo import per_scenario
from .monitoring import Monitoring
from .monitoring.series import LOOKBACK
from .participants import bots
from .participants import script as script_player
from .world import FaultState, World

try:  # random.Random compiled (streams.pyx), where the build made it: the same draws
    from .streams import Stream
except ImportError:
    from random import Random as Stream

_built_in_roster = per_scenario(16)(lambda process: load_roster(None, process))  # frozen: one per process serves its drills

WRAP_UP = 1800.0  # after resolution: time for the last update and the postmortem booking
AFTER_POSTMORTEM = 300.0


def spawn(seed: int, *names: str) -> Stream:
    """An independent generator for one part of one drill (string seeds hash stably)."""
    return Stream("/".join([str(seed), *names]))


class Participant:
    """Someone in the drill: a bot, a scripted player, or a person at a console."""

    def __init__(self, person: Person, bot: bool, rng: Stream):
        self.person, self.bot, self.rng = person, bot, rng
        self.name = person.name  # read at every turn of every duty: no property
        self.free_at = 0.0
        self.loops: set = set()
        self.seat: str | None = None  # the role a person came to play (an IC trainee's "ic"): the team hands it to them
        self.worked: dict = {}  # seconds of work by kind (look, coordinate, write, ...)

    @property
    def profile(self):
        return self.person.profile


@dataclass
class DrillResult:
    scenario: Scenario
    process: Process
    seed: int
    events: list
    samples: list  # (t, {service: (error_rate, latency_p99_ms)}) per scrape
    participants: list

    def jsonl(self) -> str:
        return to_jsonl(self.events)


class Drill:
    def __init__(self, scenario: Scenario, process: Process | None = None, roster: Roster | None = None,
                 script: Script | None = None, seed: int = 0, samples: bool = True, env=None,
                 alerting: alertmanager.Alertmanager | None = None, seats: dict | None = None):
        self.scenario, self.seed = scenario, seed
        self.process = process or Process()
        roster = roster or _built_in_roster(self.process)
        self.env = env or own_clock()
        self._skips = env is None  # a drill on its own clock: idle monitoring ticks need no waiting (_idle_until)
        # the clock is read at every event: getattr in C, not a lambda calling simpy's property
        self.log = EventLog(scenario.start, functools.partial(getattr, self.env, "_now"))
        self.world = World(scenario)
        self.roster = roster
        self.people: dict[str, Participant] = {}
        self._participants(roster, script)
        for role, who in (seats or {}).items():
            # A planned drill's people: the team hands each their role, as to a trainee who came for it.
            if who in self.people:
                self.people[who].seat = role
        self.script = script
        # How the incident unfolds is drawn per drill, except when a timeline script replays
        # one: its mitigations then work as the scenario says, as they did in the record, and
        # nobody reports it but whom the record names.
        self.drawn = script is None or not script.actions
        for state in self.world.faults:
            self._draw(state)
        # Paged teams send people, unless a timeline script fixes who takes part: a scripted
        # drill has exactly the script's participants, while a simulated or live one grows
        # (a live drill's cast is a script without actions; without bots, nobody comes).
        self.grows = (script is None or not script.actions) and any(p.bot for p in self.people.values())
        oncall = [p.name for p in self.people.values() if p.person.oncall == "primary"]
        oncall += [p.name for p in self.people.values() if p.person.oncall == "secondary"]
        # The team's alertmanager.yml (drills/monitoring/) unless one is given; the built-in route without
        self.monitoring = Monitoring(self.env, self.log, self.world, scenario.monitoring, scenario.alerts, oncall,
                                     alertmanager.for_drill(scenario.monitoring, alerting), roster.policies,
                                     scenario.start, scenario.rules)
        self.incident = Incident(self)
        self.act = self.incident.submit  # what anyone does goes to the incident (speed: no call in between)
        self.rng = spawn(seed, "investigations")
        self.samples: list | None = [] if samples else None
        self.scrape_listeners: list = []  # called with (t, every service's metrics) at each scrape
        self.done = self.env.event()
        self.closed = self.env.event()  # the incident was resolved or stood down
        self.ends_at: float | None = None
        # bots writing a resolved incident's last updates (one to each audience that had any):
        # the drill ends once they are posted, so no status page is left saying "monitoring"
        self.last_updates = 0
        self._last_posted = None  # what the end waits on meanwhile
        # The events that start a bot's duty, and how.
        self.log.kind_listeners.update({
            "page.sent": self._paged, "page.escalated": self._paged, "page.urgency_raised": self._paged,
            "role.assigned": self._assigned, "stakeholder.asked": self._stakeholder_asked,
            "incident.reopened": self._reopened, "task.asked": self._task_asked,
            "channel.message": self._message, "teams.paged": self._teams_paged})

    def _participants(self, roster: Roster, script: Script | None) -> None:
        if script is None:
            chosen = [(p, True) for p in roster.people]
        else:
            chosen = [(replace(roster.person(sp.name) or Person(sp.name, profile=self.process.bots), oncall=sp.oncall), sp.bot)
                      for sp in script.participants]
        for person, bot in chosen:
            self.add_person(person, bot)

    def add_person(self, person: Person, bot: bool) -> Participant:
        """Someone takes part, from the start or (in a live drill) joining later."""
        if bot and person.oncall in self.scenario.unreachable:
            person = replace(person, profile=replace(person.profile, reachable=False))
        me = self.people[person.name] = Participant(person, bot, spawn(self.seed, "person", person.name))
        return me

    def _draw(self, state: FaultState) -> None:
        if self.drawn:
            state.draw(spawn(self.seed, "fault", state.fault.id), self.scenario.dynamics)

    # -- used by the incident and the participants --

    def iso(self, t: float) -> str:
        return self.log.stamp(t)

    def investigation_factor(self, name: str) -> float:
        """How long ``name`` takes to investigate, relative to the finding's nominal time."""
        person = self.people[name]
        pace = 1.0 / person.profile.experience if person.bot else 1.0
        return pace * Stream(self.rng.random()).lognormvariate(0.0, 0.25)

    def busy(self, me: Participant, seconds: float, work: str = "other"):
        """A person does one thing at a time: work waits until earlier work is done."""
        env = self.env
        now = env._now
        start = now if now > me.free_at else me.free_at  # noqa: FURB136 (max(): a call per piece of work)
        me.free_at = start + seconds
        me.worked[work] = me.worked.get(work, 0.0) + seconds
        return _At(env, now + (me.free_at - now))  # env.timeout(me.free_at - now)

    def unless_closed(self, seconds: float):
        """Wait ``seconds``, or less when the incident closes meanwhile."""
        return self.until_unless_closed(self.env._now + seconds)  # env.timeout(seconds), as _At says

    def until_news(self, every: float):
        """Check back every ``every`` seconds until a check can find something new (``_Idle``)."""
        return _Idle(self, every)

    def until_unless_closed(self, t: float, *events):
        """Wait until the moment ``t`` itself, or less when the incident closes (or one of ``events``
        is processed) meanwhile."""
        return _First(self.env, _At(self.env, t), (self.closed, *events))

    def band_aid_wears_off(self, fault_id: str, after: float):
        yield self.env.timeout(after)
        state = next(s for s in self.world.faults if s.fault.id == fault_id)
        if state.outcome == "suppressed":
            state.resume(self.env.now)
            self.log.emit("fault.returned", fault=fault_id, service=state.fault.service)

    def closing(self) -> None:
        """The incident was resolved, stood down, or its postmortem booked: plan the end."""
        incident, now = self.incident, self.env.now
        if not self.closed.triggered:
            self.closed.succeed(incident.state)
        if incident.state == "stood_down":
            self._end_at(now)
        elif incident.postmortem:
            self._end_at(now + AFTER_POSTMORTEM)
        else:
            self._end_at(now + WRAP_UP)

    def reopening(self) -> None:
        """The incident was reopened: the planned end is off, and closing can happen again."""
        self.ends_at = None
        self.closed = self.env.event()

    def _end_at(self, t: float) -> None:
        if self.script and self.script.actions:
            t = max(t, max(at for at, _ in self.script.actions))
        if self.ends_at is None or t < self.ends_at:
            self.ends_at = t
            self.env.process(self._end(t, "closed"))

    @contextlib.contextmanager
    def writing_last_updates(self):
        """While a bot writes a resolved incident's last updates (until posted, or cut short by a
        reopening), the drill does not end."""
        self.last_updates += 1
        try:
            yield
        finally:
            self.last_updates -= 1
            if not self.last_updates and self._last_posted is not None:
                self._last_posted.succeed()
                self._last_posted = None

    def _end(self, t: float, reason: str):
        yield self.env.timeout(max(0.0, t - self.env.now))
        while self.last_updates and reason != "horizon" and self.ends_at == t:
            self._last_posted = self._last_posted or self.env.event()
            yield self._last_posted
        if not self.done.triggered and (reason == "horizon" or self.ends_at == t):
            self.done.succeed(reason)

    # -- processes --

    def _paged(self, event: dict) -> None:
        # One loop per page and urgency: a page raised to high urgency is answered
        # at that pace even while its low-urgency copy still waits to be noticed.
        loop = f"oncall:{event['page']}" + (":urgent" if event["kind"] == "page.urgency_raised" else "")
        self.start_loop(event["to"], loop, bots.oncall, event["page"])

    def _assigned(self, event: dict) -> None:
        self.start_loop(event["who"], event["role"], bots.ROLE_LOOPS[event["role"]])

    def _stakeholder_asked(self, event: dict) -> None:
        roles = self.incident.roles
        writer = roles.get("comms") or roles.get("ic")
        if writer:
            self.start_loop(writer, f"answer:{event['t']}", bots.answer)

    def _reopened(self, event: dict) -> None:
        for role, who in self.incident.roles.items():
            self.start_loop(who, role, bots.ROLE_LOOPS[role])

    def _task_asked(self, event: dict) -> None:
        self.start_loop(event["who"], f"task:{event['id']}", bots.follow, event["id"])

    def _message(self, event: dict) -> None:
        if not self.people[event["by"]].bot:
            for me in bots.addressed(self, event["text"]):
                self.start_loop(me, f"reply:{event['t']}", bots.reply, event["text"])

    def _teams_paged(self, event: dict) -> None:
        if self.grows:
            for team in event["teams"]:
                self._page_team(team)

    def _page_team(self, team: str) -> None:
        """A paged team sends someone: a free roster member of the team, or a stand-in bot.

        No one comes when someone of the team is already in the incident (holds a role
        or acknowledged a page): the team is already there.
        """
        engaged = set(self.incident.roles.values()) | {p.acked_by for p in self.monitoring.pages if p.acked_by}
        members = [p for p in self.people.values() if p.person.team == team]
        if any(p.name in engaged for p in members):
            return
        me = next((p for p in members if p.bot), None)
        if me is None:
            name = f"{team}-oncall"
            if name in self.people:
                return
            me = self.add_person(Person(name, team, profile=self.process.bots), bot=True)
        self.start_loop(me.name, f"responder:{team}", bots.responder, team)

    def start_loop(self, name: str, loop: str, function, *args) -> None:
        """Start a bot's duty ``loop`` unless that bot already runs it."""
        me = self.people.get(name)
        if me is not None and me.bot and loop not in me.loops:
            me.loops.add(loop)
            self.env.process(self._looping(me, loop, function(self, me, *args)))

    def _looping(self, me: Participant, loop: str, body):
        try:
            yield from body
        finally:
            me.loops.discard(loop)

    def _tick(self, ticks: "_Ticks") -> None:
        """Scrape and evaluate, as Prometheus does: at an instant both fall due, the scrape first.

        Each runs at whole multiples of its interval (rule groups may have their own);
        times are counted, not summed, so unequal intervals meet exactly. A tick at which
        nothing can change (``_idle_until``) only adds to the running sums and the samples,
        and the idle ticks before the next event are not waited for, only counted.
        """
        env = self.env
        now = env._now
        while True:
            scrapes: list[float] = []  # of idle ticks
            quiet, first = self._quiet, _first(env)
            if now < quiet and now < self.world.steady_until():  # idle as last worked out, nothing bent since
                due = self._count(now, scrapes, quiet if quiet < first else first)  # noqa: FURB136 (a call per tick)
            else:  # something may change: look
                due = self._count(now)
                quiet = self._quiet = self._idle_until(due)
                first = _first(env)
                if due < quiet and due < first:
                    due = self._count(due, scrapes, quiet if quiet < first else first)  # noqa: FURB136
            if scrapes:
                self.monitoring.rules.scraped(scrapes, ())  # idle: the world was not looked at since
                self._account(scrapes)
            # On its own clock, a tick due before every queued event is the next one SimPy would
            # process: it runs here, not through the queue. Exact: scheduled, it would be at
            # ``now + delay`` (``schedule``'s own sum) with normal priority and an id above every
            # queued event's; the queue pops the least (time, priority, id), so strictly before
            # the earliest queued event it comes first, and at the same time it comes after it,
            # whatever that one's priority. The id it does not take ranks nothing: every other
            # event keeps its place.
            delay = due - now
            at = now + delay
            first = _first(env)
            if not self._skips or first == inf or at >= first:  # (inf: nothing queued)
                ticks.callbacks = self._ticking  # the same list again: nothing else waits on ticks
                _schedule_at(env, ticks, at)  # as env.schedule(ticks, NORMAL, delay) would
                return
            env._now = now = at

    def _count(self, tick: float, idle: list | None = None, until: float = -inf) -> float:
        """The scrape and evaluations due at ``tick``, or, at idle ticks, their scrapes only
        counted (added to ``idle``: no evaluation can change anything), from ``tick`` on to
        every tick before ``until`` (in one call: idle ticks come by the dozen); the next tick."""
        every, clocks, scraped, rules = self._scrape_every, self._clocks, self._scrapes, self.monitoring.rules
        if idle is not None and self._lockstep:
            # Evaluations at the scrapes (one interval, the default): every tick is a scrape,
            # the clock of evaluations counts with them (the loop below, tick for tick).
            if scraped * every <= tick + 1e-9:
                idle.append(tick)
                scraped += 1
            due = scraped * every
            while due < until:
                idle.append(due)
                scraped += 1
                due = scraped * every
            self._scrapes = clocks[0][0] = scraped
            return due
        while True:
            if scraped * every <= tick + 1e-9:
                if idle is None:
                    self._scrape(tick, every)
                else:
                    idle.append(tick)
                scraped += 1
            due = scraped * every  # the next tick: the soonest next scrape or evaluation
            for clock in clocks:
                count, interval = clock
                if count * interval <= tick + 1e-9:
                    if idle is None:
                        rules.evaluate(interval)
                    count = clock[0] = count + 1
                if count * interval < due:  # noqa: PLR1730 (not min(): a call per clock per tick adds up)
                    due = count * interval
            if due >= until:
                self._scrapes = scraped
                return due
            tick = due

    def _idle_until(self, after: float) -> float:
        """Until when scrapes and evaluations can change nothing but sums and samples, as far
        as the world and the rules say now (worked out only as far as it can pass ``after``).

        Everything that changes a simulated drill is an event in the queue, and a tick runs
        in the queue's order (``_Ticks``). No event changes the rules, and one that bent the
        world (a mitigation, a band-aid wearing off, a fault added) shows in its
        ``steady_until`` at the next tick; otherwise only the world's own motion (a fault's
        ramp, a blip) and the rules' deadlines (``for``, ``keep_firing_for``) can change
        anything, so what this says holds across events until a tick looks again. A live
        drill's people act between its events, so it ticks every time.
        """
        if not self._may_idle:
            return -inf
        until, rules = self.world.steady_until(), self.monitoring.rules
        if until > after:  # cheapest first: a moving world ends it at once
            until = min(until, rules.idle_until())
        return until

    def _scrape(self, now: float, interval: float) -> None:
        """Observe the world; impact changes only where a customer-facing service's metrics did."""
        world, impacted, rules = self.world, self._impacted, self.monitoring.rules
        world.observe(now)
        changed = world.changed
        names = tuple(changed[self._seen:])  # the services this look changed
        self._seen = len(changed)
        rules.scraped((now,), names)
        if names:
            # the facing services the last look changed, in the order of _facing (the first look may
            # name one twice: looking at it again changes nothing); once per set of changes
            moved = self._moved.get(names)
            if moved is None:
                at = self._facing_at
                moved = self._moved[names] = sorted([at[name] for name in names if name in at])
            metrics, hurt, hurt_at, usual, regroup = world.metrics, self._hurt, self._hurt_at, self._usual, False
            for i in moved:
                svc, name, errors, traffic, revenue_per_min = usual[i]
                m = metrics[name]
                now_impacted = svc.breached(m["error_rate"], m["latency_p99_ms"])  # world.impacted, without its look-ups
                if now_impacted != impacted[name]:
                    impacted[name] = now_impacted
                    cause = world.cause_of(name, "error_rate") if now_impacted else None
                    self.log.emit("impact.started" if now_impacted else "impact.ended", service=name, cause=cause)
                    if cause and cause != ["noise"] and not self.began["impact"].triggered:
                        self.began["impact"].succeed((name, cause))
                # Graded impact, whether or not past the impact threshold: the requests that failed
                # beyond the usual (error share x traffic) and the usual traffic that never came or
                # was turned away. Revenue is lost in proportion to both.
                extra, short = m["error_rate"] - errors, traffic - m["request_rate"]
                failed = m["request_rate"] * (extra if extra > 0.0 else 0.0) * interval  # noqa: FURB136 (not max(): a call per service per scrape)
                lost = (short if short > 0.0 else 0.0) * interval  # noqa: FURB136
                revenue = revenue_per_min * (failed + lost) / (traffic * 60) if traffic else 0.0
                losses = self._losses[name] = (name, revenue, failed, lost)
                if (failed or lost) and name in hurt_at:
                    hurt[hurt_at[name]] = losses
                elif failed or lost or name in hurt_at:  # it starts or stops losing any
                    regroup = True
            if regroup:
                losses_of = self._losses
                self._hurt = [kept for svc in self._facing
                              if (kept := losses_of.get(svc.name)) and (kept[2] or kept[3])]
                self._hurt_at = {losses[0]: i for i, losses in enumerate(self._hurt)}
        self._account([now])

    def _account(self, scrapes: list[float]) -> None:
        """Scrapes' losses, their listeners (a live drill's /metrics) and their samples, the world as last observed."""
        hurt = self._hurt
        if hurt:
            # Each sum gets its addends in the same order as scrape by scrape (the same floats),
            # added up in a local (speed: idle scrapes come by the dozen)
            totals = self.totals
            revenue_lost = totals["revenue_lost"]
            for _ in scrapes:
                for losses in hurt:
                    revenue_lost += losses[1]
            totals["revenue_lost"] = revenue_lost
            requests = totals["requests"]
            for name, _, failed, lost in hurt:
                counted = requests[name]
                failed_sum, lost_sum = counted["failed"], counted["lost"]
                for _ in scrapes:
                    failed_sum += failed
                    lost_sum += lost
                counted["failed"], counted["lost"] = failed_sum, lost_sum
        metrics = self.world.metrics
        for now in scrapes if self.scrape_listeners else ():
            for listen in self.scrape_listeners:
                listen(now, metrics)
        if self.samples is not None:
            if metrics is not self._sampled[0]:
                self._sampled = (metrics, {n: (m["error_rate"], m["latency_p99_ms"]) for n, m in metrics.items()})
            sample = self._sampled[1]
            self.samples.extend([(now, sample) for now in scrapes])

    def _report(self, report):
        """People notice what the alerts may not: customers through support once customers are
        affected, a colleague once a fault is at work. Their report pages the on-call like an
        alert would, if nobody has declared (or stood down) by then and it is still going on."""
        service, cause = yield self.began[report.of]
        yield self.env.timeout(report.after.sample(spawn(self.seed, "report", report.by)))
        ongoing = any(self._impacted.values()) if report.of == "impact" else any(
            s.level(self.env.now) > 0.0 for s in self.world.faults if s.fault.id in cause)
        if self.incident.state != "none" or not ongoing:
            return
        summary = f"Reported by {report.by}: something is wrong with {service}"
        self.log.emit("report.received", by=report.by, service=service, summary=summary, cause=cause)
        config = self.scenario.monitoring
        if self.monitoring.oncall:
            self.monitoring.pager.trigger(f"report:{report.by}", summary, service, "high", cause,
                                          self.monitoring.oncall, config.escalation_timeout)

    def inject(self, fault) -> None:
        """A fault added while the drill runs (a live drill's facilitator injects one)."""
        state = FaultState(fault)
        self._draw(state)
        self.world.faults.append(state)
        self.env.process(self._fault(state))

    def _fault(self, state):
        fault = state.fault
        yield self.env.timeout(fault.at - self.env.now)
        self.log.emit("fault.started", fault=fault.id, fault_kind=fault.kind, service=fault.service)
        if not self.began["fault"].triggered:
            self.began["fault"].succeed((fault.service, [fault.id]))
        if fault.duration is not None:
            yield self.env.timeout(fault.duration)
            if state.outcome == "active":
                state.outcome = "ended"
                self.log.emit("fault.ended", fault=fault.id, service=fault.service)

    def start(self) -> None:
        """Set the world, monitoring and any script going; the caller then advances ``env``."""
        env = self.env
        self._facing = [s for s in self.scenario.services.values() if s.customer_facing]
        self._impacted = {s.name: False for s in self._facing}
        self._facing_at = {s.name: i for i, s in enumerate(self._facing)}
        # each one with its name, usual errors and traffic and revenue (speed: read at each scrape it moved)
        self._usual = [(s, s.name, s.error_rate, s.request_rate, s.revenue_per_min) for s in self._facing]
        self._moved: dict[tuple, list[int]] = {}  # the services a look changed -> the facing ones' indexes, in order
        self._losses: dict[str, tuple] = {}  # service, and the revenue, failed and lost requests a scrape loses
        self._hurt: list[tuple] = []  # the losses of the services losing any, in the order of _facing
        self._hurt_at: dict[str, int] = {}  # where in _hurt each is
        self._seen = len(self.world.changed)  # where in the world's list of changes the last scrape stopped
        self._sampled: tuple = (None, None)  # the metrics last sampled, and their sample (shared while unchanged)
        self.totals = {"revenue_lost": 0.0, "requests": {s.name: {"failed": 0.0, "lost": 0.0} for s in self._facing}}
        self.began = {"impact": env.event(), "fault": env.event()}  # the first fault-caused of each: (service, cause)
        self._scrape_every, self._scrapes = self.scenario.monitoring.scrape_interval, 0  # scrapes so far
        self._clocks = [[0, every] for every in self.monitoring.rules.intervals]  # evaluations so far, of each interval
        self._lockstep = self.monitoring.rules.intervals == [self._scrape_every]  # evaluated when scraped: counted alike
        # Whether a tick may be idle at all (_idle_until): not past the lookback, and not with shorthand
        # alerts evaluated between scrapes, which know only what their last evaluation saw (a scrape
        # since may change what the next one decides).
        self._may_idle = (self._skips and self._scrape_every <= LOOKBACK
                          and not (self.monitoring.rules.shorthand and not self._lockstep))
        self._quiet = -inf  # until when ticks are idle, as worked out at the last tick that looked
        self._ticking = [self._tick]  # the ticks' callbacks
        _Ticks(env, self._tick)
        for report in self.scenario.reports if self.drawn else ():  # a replayed record says who noticed
            env.process(self._report(report))
        for state in self.world.faults:
            env.process(self._fault(state))
        if self.script is not None:
            env.process(script_player.play(self, self.script))
        env.process(self._end(self.scenario.horizon, "horizon"))

    def finish(self) -> DrillResult:
        """Close the log once ``done`` has fired and return the result."""
        requests = self.totals["requests"]
        self.log.emit("drill.ended", reason=self.done.value, revenue_lost=round(self.totals["revenue_lost"], 2),
                      failed_requests=round(sum(c["failed"] for c in requests.values())),
                      lost_requests=round(sum(c["lost"] for c in requests.values())),
                      bad_requests={name: {k: round(v) for k, v in c.items()} for name, c in requests.items()})
        participants = [{"name": p.name, "bot": p.bot, "oncall": p.person.oncall,
                         "worked": {k: round(v, 1) for k, v in sorted(p.worked.items())}} for p in self.people.values()]
        return DrillResult(self.scenario, self.process, self.seed, self.log.events, self.samples or [], participants)

    def run(self) -> DrillResult:
        self.start()
        self.env.run(until=self.done)
        return self.finish()


def _first(env) -> float:
    """When the next queued event is due, or infinity when none is (``env.peek()``, read directly)."""
    if type(env) is Clock:
        clock = env
        return clock.peek()
    queue = env._queue
    return queue[0][0] if queue else inf


class _At:
    """A timeout that ends at the moment ``t`` to the bit: ``env.timeout(t - now)`` ends at
    ``now + (t - now)``, which rounding can move off ``t`` (and no wait may land on it).

    ``_At(env, env._now + delay)`` is ``env.timeout(delay)`` itself, scheduled as it would
    be, made without simpy's two calls (speed: the bots' commonest waits). Like the other waits
    below, it is an event as simpy's processes and queues read one (``env``, ``callbacks``,
    ``_ok``, ``_value``) rather than a ``simpy.Event``: built, it is an extension type, made
    and read without a dict of attributes."""

    def __init__(self, env: simpy.Environment, t: float):
        self.env, self.callbacks, self._ok, self._value = env, [], True, None
        _schedule_at(env, self, t)


def _schedule_at(env, event, t: float) -> None:
    """``env.schedule(event, NORMAL, t - env.now)`` landing on ``t`` itself: the same queue entry
    (time, normal priority, the next id), pushed without simpy's call (speed: ticks and bots' waits)."""
    if type(env) is Clock:
        clock = env
        clock.push(event, NORMAL, t)
    else:
        heapq.heappush(env._queue, (t, NORMAL, next(env._eid), event))


class _First:
    """``env.any_of([timer, *events])`` without the value nobody reads (speed: the bots'
    commonest wait).

    It is triggered, and so scheduled, when the first of them is processed, as the
    condition is: the order of events, and so the drill, stays the same.
    """

    def __init__(self, env, timer, events):
        self.env, self.callbacks, self._value = env, [], PENDING
        self._waiting = []  # the events this waits on, until the first is processed
        fire = self._fired = self._fire  # one bound method for them all (removed by identity)
        for event in (timer, *events):
            if event.callbacks is None:  # processed already
                fire(event)
                break
            event.callbacks.append(fire)
            self._waiting.append(event)

    def _fire(self, event) -> None:
        if self._value is not PENDING:
            return
        fire = self._fired
        for other in self._waiting:
            if other.callbacks:  # not processed yet: it no longer wakes this wait
                other.callbacks.remove(fire)
        self._ok, self._value = True, None  # succeed(): none of the events waited on fails
        self.env.schedule(self)


class _Idle:
    """What ``yield drill.unless_closed(every)`` in a loop gives a bot that checks back for
    something to do and finds nothing: the same waits, each made and queued where that loop
    would make it, but the bot resumed only at the first check that can find something: after a
    finding came, an investigation started or ended or a task was asked (``Incident.heard``), or
    once the incident closed (``Drill.closed``). The queue sees the same events at the same
    places, so the drill is the same to the bit; only the checks that would find what the last
    one found are not made (speed: the paged teams of an estate check back hundreds of times a
    drill).

    Each round of the loop is two events, as ``unless_closed`` makes them: its timer (an ``_At``
    at ``now + every``, queued as the round starts) and the wait itself (``_First``), queued when
    the timer or the close is processed, whichever comes first, and listening on the close from
    the round's start, at the end of its callbacks. Here they are two events made once and queued
    again round after round (a new timer only while the last one is still queued: a round ended
    by the close leaves it there), with the same callbacks at the same places (speed: a round made
    the loop's objects anew)."""

    def __init__(self, drill: Drill, every: float):
        env = drill.env
        self.env, self.callbacks, self._value = env, [], PENDING
        self._drill, self._every, self._heard = drill, every, drill.incident.heard
        self._timer: _At | None = None
        self._wait = _At.__new__(_At)  # the round's wait, queued when it ends (never failed: the close is never failed)
        self._wait.env, self._wait._ok, self._wait._value = env, True, None
        self._closed: simpy.Event | None = None  # the close the round listens on, while it does
        self._timed_cb, self._closing_cb, self._checked_cb = self._timed, self._closing, self._checked  # (removed by identity)
        self._round()

    def _round(self) -> None:
        env = self.env
        timer, at = self._timer, env._now + self._every  # unless_closed(every)'s timer
        if timer is None or timer.callbacks is not None:  # none yet, or still queued (the close ended its round)
            timer = self._timer = _At(env, at)
        else:
            _schedule_at(env, timer, at)
        timer.callbacks = [self._timed_cb]
        closed = self._closed = self._drill.closed
        if closed.callbacks is None:  # processed already: the wait is queued at once
            self._closing(closed)
        else:
            closed.callbacks.append(self._closing_cb)

    def _timed(self, timer) -> None:
        closed = self._closed
        if closed.callbacks:  # not processed yet: it no longer ends this round
            closed.callbacks.remove(self._closing_cb)
        self._end_round()

    def _closing(self, closed) -> None:
        self._timer.callbacks.remove(self._timed_cb)
        self._end_round()

    def _end_round(self) -> None:
        self._closed = None
        wait = self._wait
        wait.callbacks = [self._checked_cb]
        self.env.schedule(wait)  # as _First's _fire schedules the wait

    def _checked(self, wait) -> None:
        """A wait ended: wait again as the bot would, or be processed here, where that wait is."""
        drill = self._drill
        if drill.incident.heard == self._heard and not drill.closed.triggered:
            self._round()
            return
        self._ok, self._value = True, None
        callbacks, self.callbacks = self.callbacks, None
        for callback in callbacks:
            callback(self)


def run_drill(scenario: Scenario, process: Process | None = None, roster: Roster | None = None,
              script: Script | None = None, seed: int = 0, samples: bool = True,
              alerting: alertmanager.Alertmanager | None = None, seats: dict | None = None) -> DrillResult:
    """Simulate one drill and return its event log; ``seats`` (role -> person) are the roles a
    quarter plan gives its people, which the team hands them whoever is paged.

    Python's cycle collector waits meanwhile, as in ``timeit``: a drill's objects live until its
    end, so collecting mid-drill (a tenth of its time) walks them again and again and frees
    little; what the drill leaves is collected after, but for its series, which its rules let
    go of first (``Rules.forget``) so that they are freed at once."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        drill = Drill(scenario, process, roster, script, seed, samples, alerting=alerting, seats=seats)
        result = drill.run()
        drill.monitoring.rules.forget()
        return result
    finally:
        if collecting:
            gc.enable()


class _Ticks(simpy.events.Event):
    """Monitoring's ticks: one event, scheduled again for the next tick as each is processed,
    first at the drill's start as a process would be (a Timeout and a process resumed for
    every tick add up over a drill's hundreds)."""

    def __init__(self, env: simpy.Environment, tick):
        super().__init__(env)
        self._ok, self._value, self.callbacks = True, None, [tick]
        env.schedule(self, URGENT)  # then again by ``tick``, for the next tick
