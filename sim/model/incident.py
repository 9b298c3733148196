"""The response process as rules over actions: who may do what, in which state, and what it does.

``Incident.submit`` validates one action against the state and either applies it,
logging what happened, or rejects it with a reason, logging the rejection.
"""

import datetime as dt
import re
import unicodedata
from typing import NamedTuple

from ..inputs import units
from ..inputs.actions import ROLES, Action
from ..inputs.config import Finding
from .eventlog import rounded
from .memo import per_scenario

# How long an investigation takes to come up empty, before the investigator's pace.
NOTHING_FOUND_AFTER = 300.0
NOTHING_FOUND = "Nothing unusual"  # how a finding that found nothing starts (scenario red herrings too)

# a service's metrics as a dashboard shows them, rounded once for the drills of a scenario (an
# estate's calm services show the very same dicts in every drill)
_dashboard = per_scenario(4096)(lambda shown: {k: rounded(v, 6) for k, v in shown.items()})


def found_nothing(finding: dict) -> bool:
    return finding["text"].startswith(NOTHING_FOUND)


def task_words(task: dict) -> str:
    """What a task the IC asked for is, in words: ``apply rollback to search``."""
    if task["task"] == "mitigate":
        return f"apply {task['action'].replace('_', ' ')} to {task['service']}"
    if task["task"] == "investigate":
        return f"investigate {task['service']}"
    if task["task"] == "page":
        return f"page {', '.join(task['teams'])}"
    return "post a status update"


def channel_name(day: str, service: str) -> str:
    """The incident's channel, ``#inc-2026-04-20-web-front`` for service ``Web Front``: a name
    Slack takes (lower case letters, digits, ``-`` and ``_``, at most 80 characters after the
    ``#``), as a service's name in a scenario need not be."""
    plain = unicodedata.normalize("NFKD", service).encode("ascii", "ignore").decode().lower()
    return "#" + f"inc-{day}-{re.sub(r'[^a-z0-9_-]+', '-', plain).strip('-')}"[:80].rstrip("-")


class Confirm(str):
    """A check's reason that the person may override by confirming (``confirm: true``)."""


class Result(NamedTuple):  # a named tuple: immutable, and quicker to make than a frozen dataclass (one per action)
    ok: bool
    reason: str = ""
    data: object = None


_DONE = Result(True)  # what most actions return (a tuple: one can be shared)


class Incident:
    """The state of the incident in one drill, changed only through ``submit``."""

    def __init__(self, drill):
        self.drill = drill
        self.env, self.log = drill.env, drill.log
        self.scenario, self.process = drill.scenario, drill.process
        self.state = "none"  # none | open | resolved | stood_down
        self.severity: str | None = None
        self.highest: str | None = None  # the most severe level held so far
        self.service: str | None = None
        self.channel: str | None = None
        self.declared_at: float | None = None
        self.resolved_at: float | None = None
        self.roles: dict[str, str] = {}
        self.teams_paged: set[str] = set()
        self.updates: list[dict] = []
        self.findings: list[dict] = []
        # of the findings, as they come (speed: the bots ask at every turn): the services they point
        # to or suggest (where to dig), and those they show part of the cause (whose teams to page)
        self.leads: set = set()
        self.implicated: set[str] = set()
        self.mitigations: list[dict] = []
        self.postmortem: str | None = None
        self.revealed: dict[tuple, int] = {}  # (fault id, service) -> findings revealed so far
        self.misled: dict[str, int] = {}  # fault id -> wrong hypotheses about it turned up so far
        self.investigating: dict[tuple[str, str], float] = {}  # (who, service) -> when the finding comes
        self.tasks: list[dict] = []  # what the IC asked people to do, in order (``ask``)
        self.moved = self.env.event()  # succeeded when the severity or the roles next change (``_moved``)
        self.heard = 0  # how many times a finding came, an investigation started or ended, or a task was asked
        self._handlers: dict[str, tuple] = {}  # action -> its check and its effect (speed: looked up once)
        self._shown: dict[str, tuple[dict, dict]] = {}  # service -> its metrics last looked at, rounded (speed)

    @property
    def closed(self) -> bool:
        return self.state in ("resolved", "stood_down")

    def submit(self, action: Action) -> Result:
        if action.by not in self.drill.people:
            return self._reject(action, f"{action.by!r} is not taking part in this drill")
        check, apply = self._handlers.get(action.do) or self._handlers.setdefault(
            action.do, (getattr(self, f"_check_{action.do}"), getattr(self, f"_apply_{action.do}")))
        reason = check(action)
        if reason:
            rejected = self._reject(action, reason)
            return Result(False, rejected.reason, {"confirm": True}) if isinstance(reason, Confirm) else rejected
        result = apply(action) or _DONE
        if self.tasks:  # else nobody was asked anything (as in every drill without a person as IC)
            self._tasks_done(action)
        return result

    def _reject(self, action: Action, reason: str) -> Result:
        return self.reject(action.by, action.do, action.fields, reason)

    def reject(self, by, do, fields: dict, reason: str) -> Result:
        """Log an action that was not carried out, and why. The action's own fields are kept
        apart (``fields``), so that none of them can collide with the rejection's."""
        self.log.emit("action.rejected", by=by, do=do, fields=dict(fields), reason=reason)
        return Result(False, reason)

    # -- who may act --

    def _need_open(self) -> str:
        if self.state == "none":
            return "no incident has been declared yet"
        if self.state != "open":
            return f"the incident is already {self.state.replace('_', ' ')}"
        return ""

    def _need_commander(self, action: Action, what: str) -> str:
        ic = self.roles.get("ic")
        if action.by != ic:
            return f"only the Incident Commander ({ic or 'nobody yet'}) can {what}"
        return ""

    def _known_service(self, action: Action) -> str:
        service = action.fields.get("service")
        if service not in self.scenario.services:
            return f"unknown service {service!r} (services: {', '.join(self.scenario.services)})"
        return ""

    # -- checks and effects, one pair per action --

    def _check_ack(self, action):
        pages = self.drill.monitoring.pages_for(action.by)
        wanted = action.get("page")
        if wanted:
            pages = [p for p in pages if p.id == wanted]
        if not pages:
            return f"no open page {wanted + ' ' if wanted else ''}for {action.by} to acknowledge"
        return ""

    def _apply_ack(self, action):
        wanted = action.get("page")
        for page in self.drill.monitoring.pages_for(action.by):
            if not wanted or page.id == wanted:
                self.drill.monitoring.acknowledge(page, action.by)

    _check_look = _known_service

    def _apply_look(self, action):
        return Result(True, "", self.look(action.by, action.fields["service"]))  # a known service (_check_look)

    def look(self, by: str, service: str) -> dict:
        """``by`` looks at the dashboard of ``service``: its metrics now, as shown (rounded).

        A look changes nothing and no task asks for one: a participant's look at a known
        service (a bot's) needs neither the checks nor the tasks of ``submit``, only this."""
        shown = self.drill.world.metrics[service]
        seen = self._shown.get(service)
        if seen is None:  # the first look: most services show what they show in every drill alike (calm)
            seen = self._shown[service] = (shown, _dashboard(shown))
        elif seen[0] is not shown:  # the world replaces a service's metrics when they change
            # A metric as it was keeps its rounding (round() is dear, and a moving fault moves one
            # or two of them); an equal zero is rounded again, which keeps its sign.
            before, was = seen
            shows = {}
            for k, v in shown.items():
                shows[k] = was[k] if v == before.get(k) and v else rounded(v, 6)
            seen = self._shown[service] = (shown, shows)
        # One dict for every look while what it shows stays (events are read, never changed):
        # speed and memory, a drill's dashboards are half its log.
        metrics = seen[1]
        t, at = self.log.stamped()
        self.log.add({"t": t, "at": at, "kind": "dashboard.viewed", "by": by, "service": service, "metrics": metrics})
        return metrics

    def _check_declare(self, action):
        if self.state != "none":
            return f"the incident was already declared ({self.channel})" if self.declared_at is not None else "the alert was already stood down"
        if action.get("severity") not in self.process.severities:
            return f"unknown severity {action.get('severity')!r} (severities: {', '.join(self.process.severities)})"
        if action.get("service") is not None:
            return self._known_service(action)
        if self._default_service() is None:
            return "say which service is affected: no alert is firing"
        return ""

    def _default_service(self) -> str | None:
        firing = self.drill.monitoring.firing()
        if firing:
            return firing[0].rule.service
        pages = [p for p in self.drill.monitoring.pages if p.service in self.drill.scenario.services]
        return pages[-1].service if pages else None

    def _apply_declare(self, action):
        self.state, self.severity = "open", action.get("severity")
        self.highest = self.severity
        self.service = action.get("service") or self._default_service()
        self.declared_at = self.env.now
        day = units.at(self.scenario.start, self.env.now).date().isoformat()
        self.channel = channel_name(day, self.service)
        self.log.emit("incident.declared", by=action.by, severity=self.severity, service=self.service,
                      channel=self.channel, summary=action.get("summary", ""))
        self._assign("ic", action.by, action.by)

    def _check_severity(self, action):
        if action.get("severity") not in self.process.severities:
            return f"unknown severity {action.get('severity')!r} (severities: {', '.join(self.process.severities)})"
        if action.get("severity") == self.severity:
            return f"the severity is already {self.severity}"
        return self._need_open() or self._need_commander(action, "change the severity")

    def _apply_severity(self, action):
        old, self.severity = self.severity, action.get("severity")
        self.highest = min(self.highest, self.severity, key=self.process.rank)
        self.log.emit("severity.changed", by=action.by, **{"from": old}, to=self.severity, reason=action.get("reason", ""))
        self._moved()

    def _check_assign(self, action):
        if action.get("who") not in self.drill.people:
            return f"{action.get('who')!r} is not taking part in this drill (participants: {', '.join(self.drill.people)})"
        if self.roles.get(action.get("role")) == action.get("who"):
            return f"{action.get('who')} already holds {action.get('role')}"
        return self._need_open() or self._need_commander(action, "assign roles")

    def _apply_assign(self, action):
        self._assign(action.get("role"), action.get("who"), action.by)

    def _assign(self, role: str, who: str, by: str) -> None:
        previous = self.roles.get(role)
        self.roles[role] = who
        self.log.emit("role.assigned", by=by, role=role, who=who, previous=previous)
        self._moved()

    def _moved(self) -> None:
        """Wake whoever waits for the severity or the roles to change (a status update's writer)."""
        moved, self.moved = self.moved, self.env.event()
        moved.succeed()

    def _check_page(self, action):
        known = self.scenario.teams | {p.person.team for p in self.drill.people.values() if p.person.team}
        unknown = [t for t in action.get("teams") if t not in known]
        if unknown:
            return f"unknown team(s) {', '.join(unknown)} (teams: {', '.join(sorted(known))})"
        if set(action.get("teams")) <= self.teams_paged:
            return "those teams were already paged"
        if action.do == "ask" or any(t["task"] == "page" for t in self.open_tasks(action.by)):
            return self._need_open()  # the IC asked them to page: they page on the IC's behalf
        return self._need_open() or self._need_commander(action, "page teams")

    def _apply_page(self, action):
        new = [t for t in action.get("teams") if t not in self.teams_paged]
        self.teams_paged.update(new)
        self.log.emit("teams.paged", by=action.by, teams=new)

    def _check_update(self, action):
        if self.state not in ("open", "resolved"):
            return self._need_open()
        writers = {self.roles.get("comms"), self.roles.get("ic")}
        if action.by not in writers:
            return "only the Communications Lead or the Incident Commander posts status updates"
        if self.state == "resolved" and action.get("status") != "resolved":
            return "the incident is resolved: the last update has status resolved"
        return ""

    def _apply_update(self, action):
        update = {"by": action.by, "audience": action.get("audience") or "internal", "status": action.get("status"),
                  "summary": action.get("summary"), "severity": self.severity}
        if action.get("next_update") is not None:
            update["next_update"] = self.drill.iso(action.get("next_update"))
        if action.get("eta"):
            update["eta"] = action.get("eta")
        self.updates.append({"t": self.env.now, **update})
        self.log.emit("update.posted", **update)

    def _check_investigate(self, action):
        if self.closed:
            return f"the incident is already {self.state.replace('_', ' ')}"
        if (action.by, action.get("service")) in self.investigating:
            return f"{action.by} is already investigating {action.get('service')}"
        return self._known_service(action)

    def _apply_investigate(self, action):
        service = action.get("service")
        self.log.emit("investigation.started", by=action.by, service=service)
        finding, after = self._next_finding(service)
        duration = after * self.drill.investigation_factor(action.by)
        self.investigating[(action.by, service)] = self.env.now + duration
        self.heard += 1
        done = self.env.event()
        self.env.process(self._investigation(action.by, service, finding, duration, done))
        return Result(True, data=(done, self.env.now + duration))

    def _next_finding(self, service: str):
        """The next thing an investigation of ``service`` turns up, and how long it takes.

        Each finding takes its nominal time times the fault's drawn pace; a fault drawn to
        mislead shows its wrong hypotheses first where its root cause would be, each taking
        as long to reach and suggesting a mitigation that does not help."""
        now = self.env.now
        candidates, known = [], []
        for state in self.drill.world.faults:
            fault = state.fault
            if fault.at > now:
                continue
            found = [f for f in fault.findings if f.service == service]
            n = self.revealed.get((fault.id, service), 0)
            if n < len(found):
                finding, real = found[n], True
                wrong = self.misled.get(fault.id, 0)
                if finding.root_cause and wrong < len(state.wrong_leads):
                    lead = state.wrong_leads[wrong]
                    finding, real = Finding(service, finding.after, f"{service} looks like it needs a "
                                            f"{lead.replace('_', ' ')}: a hypothesis from the dashboards, "
                                            "not confirmed yet", suggests=lead), False
                candidates.append((finding.after * state.pace, fault.id, finding, real))
            elif n:
                known.append((not found[n - 1].root_cause, found[n - 1].after * state.pace, fault.id, found[n - 1]))
        if not candidates:
            # Everything here has been found: whoever looks again finds it too (the root cause
            # first), never "nothing unusual" where there is something.
            if not known:
                return None, NOTHING_FOUND_AFTER
            _, after, _, finding = min(known, key=lambda c: c[:3])
            return finding, after
        after, fault_id, finding, real = min(candidates, key=lambda c: (c[0], c[1]))
        if real:
            self.revealed[(fault_id, service)] = self.revealed.get((fault_id, service), 0) + 1
        else:
            self.misled[fault_id] = self.misled.get(fault_id, 0) + 1
        return finding, after

    def _investigation(self, by, service, finding, duration, done):
        yield self.env.timeout(duration)
        self.investigating.pop((by, service), None)
        self.heard += 1  # (and its finding, if any, below)
        if self.closed:
            done.succeed(None)
            return
        if finding is None:
            entry = {"by": by, "service": service, "text": f"{NOTHING_FOUND} found on {service}",
                     "root_cause": False, "points_to": None, "suggests": None}
        else:
            entry = {"by": by, "service": service, "text": finding.text, "root_cause": finding.root_cause,
                     "points_to": finding.points_to, "suggests": finding.suggests}
        self.findings.append(entry)
        self.leads.add(entry["points_to"])
        if entry["suggests"]:
            self.leads.add(service)
        if entry["root_cause"] or entry["points_to"]:
            self.implicated.add(service)
        self.log.emit("finding", **entry)
        done.succeed(entry)

    def _check_mitigate(self, action):
        if self.closed:
            return f"the incident is already {self.state.replace('_', ' ')}"
        return self._known_service(action)

    def _apply_mitigate(self, action):
        now = self.env.now
        outcome = self.drill.world.mitigate(now, action.get("action"), action.get("service"))
        entry = {"by": action.by, "action": action.get("action"), "service": action.get("service"), **outcome}
        self.mitigations.append({"t": now, **entry})
        self.log.emit("mitigation.applied", **entry)
        for touched in outcome["faults"]:
            if touched["returns_in"]:
                self.env.process(self.drill.band_aid_wears_off(touched["fault"], touched["returns_in"]))
        return Result(True, data=outcome)

    def _check_resolve(self, action):
        reason = self._need_open() or self._need_commander(action, "declare the incident resolved")
        if reason or action.get("confirm"):
            return reason
        firing, impacted = self._not_over()
        if firing or impacted:
            said = [f"alerts still firing ({', '.join(firing)})"] if firing else []
            said += [(f"customer-facing {', '.join(impacted)} still above {'its' if len(impacted) == 1 else 'their'} "
                      "impact threshold")] if impacted else []
            return Confirm(f"not resolved: {' and '.join(said)}; resolve with confirm to resolve anyway")
        return ""

    def _not_over(self) -> tuple[list[str], list[str]]:
        """What says the incident is not over: the alerts firing that page or that are on the
        incident's service (a warning elsewhere, such as a CPU blip, is no reason to stay open),
        and the customer-facing services above their impact threshold."""
        paging = self.scenario.monitoring.page_severities
        firing = sorted({a.rule.name for a in self.drill.monitoring.firing()
                         if a.rule.severity in paging or a.rule.service == self.service})
        impacted = [name for name, svc in self.scenario.services.items()
                    if svc.customer_facing and self.drill.world.impacted(name)]
        return firing, impacted

    def _apply_resolve(self, action):
        self.state, self.resolved_at = "resolved", self.env.now
        extra = {}
        if action.get("confirm"):
            firing, impacted = self._not_over()
            extra = {"over_firing": firing, "over_impact": impacted} if firing or impacted else {}
        self.log.emit("incident.resolved", by=action.by, severity=self.severity, summary=action.get("summary", ""), **extra)
        self.drill.closing()

    def _check_reopen(self, action):
        if self.state not in ("resolved", "stood_down") or self.declared_at is None:
            return ("only a resolved (or declared and stood down) incident can be reopened"
                    + (f": it is {self.state}" if self.state == "open" else ""))
        return self._need_commander(action, "reopen the incident")

    def _apply_reopen(self, action):
        was, self.state, self.resolved_at = self.state, "open", None
        self.log.emit("incident.reopened", by=action.by, was=was, reason=action.get("reason"))
        self.drill.reopening()

    # -- talking and directing work --

    def _check_say(self, action):
        if self.declared_at is None:
            return "there is no incident channel yet: it opens when an incident is declared"
        return ""

    def _apply_say(self, action):
        self.log.emit("channel.message", by=action.by, text=action.get("text"))

    def asked_of(self, who: str) -> str:
        """``who`` as a person's name: a role's holder when ``who`` names a role (``ask ops ...``)."""
        return self.roles.get(who, who)

    def _check_ask(self, action):
        reason = self._need_open() or self._need_commander(action, "direct the work")
        if reason:
            return reason
        who, task = self.asked_of(action.get("who")), action.get("task")
        if who not in self.drill.people:
            held = f" (nobody holds {who} yet)" if who in ROLES else ""
            return f"{who!r} is not taking part in this drill{held} (participants: {', '.join(self.drill.people)})"
        if who == action.by:
            return "the Incident Commander coordinates: ask someone else to do it"
        if task in ("investigate", "mitigate"):
            return self._known_service(action)
        if task == "update" and who != self.roles.get("comms"):
            return f"{who} does not write the updates: assign comms to them first, or ask the Communications Lead"
        if task == "page":
            return self._check_page(action)
        return ""

    def _apply_ask(self, action):
        task = {"id": f"T{len(self.tasks) + 1}", "who": self.asked_of(action.get("who")), "task": action.get("task"),
                **{k: action.get(k) for k in ("action", "service", "teams") if action.get(k) is not None}}
        self.tasks.append({**task, "by": action.by, "t": self.env.now, "done": None})
        self.heard += 1
        self.log.emit("task.asked", by=action.by, **task)
        return Result(True, data=task["id"])

    def open_tasks(self, who: str) -> list[dict]:
        return [t for t in self.tasks if t["who"] == who and t["done"] is None]

    def _tasks_done(self, action) -> None:
        """An action that carries out what the IC asked of its author closes that task."""
        for task in self.open_tasks(action.by):
            if action.do == task["task"] and all(action.get(k) == task[k] for k in ("action", "service") if k in task):
                task["done"] = self.env.now
                self.log.emit("task.done", id=task["id"], who=action.by, task=task["task"])

    def _check_stand_down(self, action):
        if self.state == "none":
            paged = any(action.by in (p.acked_by, p.to) for p in self.drill.monitoring.pages)
            if not paged:
                return "only the on-call engineer who was paged can stand it down before a declaration"
            return ""
        return self._need_open() or self._need_commander(action, "stand the incident down")

    def _apply_stand_down(self, action):
        declared = self.state == "open"
        self.state = "stood_down"
        self.log.emit("incident.stood_down", by=action.by, declared=declared, reason=action.get("reason", ""))
        self.drill.closing()

    def _check_schedule_postmortem(self, action):
        if self.state != "resolved":
            return "a postmortem is scheduled once the incident is resolved"
        if self.postmortem:
            return f"the postmortem is already scheduled for {self.postmortem}"
        resolved_day = units.at(self.scenario.start, self.resolved_at).date()
        if dt.date.fromisoformat(action.get("date")) < resolved_day:
            return f"the postmortem date {action.get('date')} is before the incident was resolved ({resolved_day})"
        return self._need_commander(action, "schedule the postmortem")

    def _apply_schedule_postmortem(self, action):
        self.postmortem = action.get("date")
        self.log.emit("postmortem.scheduled", by=action.by, date=self.postmortem)
        self.drill.closing()
