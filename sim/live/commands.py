"""The console's command language: one line of text becomes an action of the design or a console control.

``parse_command`` is a pure function. ``declare SEV2 checkout customers see errors``
becomes ``{"do": "declare", "by": "ana", "severity": "SEV2", "service": "checkout",
"summary": "customers see errors"}``, which the live drill validates and applies like any
bot's action; ``speed 20`` becomes ``{"console": "speed", "speed": 20.0}``. A line that
does not fit its command raises ``UsageError`` naming the usage and an example. The same
table of commands drives ``help`` and tab completion.
"""

import datetime as dt
import difflib
import re
import shlex
from dataclasses import dataclass, field

import numpy as np

from ..inputs import units
from ..inputs.actions import MITIGATIONS, ROLES, STATUSES, TASKS
from ..outputs.report import page_name


class UsageError(ValueError):
    """A line that is not a command, or does not fit its command's usage."""


@dataclass(frozen=True)
class Arg:
    field: str
    kind: str  # what the word is: severity, service, role, person, status, mitigation, teams, page, date, number, text
    required: bool = True


@dataclass(frozen=True)
class Command:
    usage: str
    does: str
    examples: tuple[str, ...]
    action: str | None = None  # the design's action it submits; None for a console control
    args: tuple[Arg, ...] = ()
    options: tuple[tuple[str, str], ...] = ()  # (word before '=', field)


def _c(usage, does, examples, action=None, args=(), options=()):
    return Command(usage, does, tuple(examples), action, tuple(args), tuple(options))


COMMANDS: dict[str, Command] = {
    "ack": _c("ack [PAGE]", "acknowledge your open pages (or one of them)", ["ack", "ack #1"],
              "ack", [Arg("page", "page", False)]),
    "dashboard": _c("dashboard SERVICE [MINUTES]", "chart a service's error rate and p99 latency (default: last 15 min)",
                    ["dashboard checkout", "dashboard payment-gateway 30"], None,
                    [Arg("service", "service"), Arg("minutes", "number", False)]),
    "look": _c("look SERVICE", "read a service's metrics now", ["look checkout"], "look", [Arg("service", "service")]),
    "alerts": _c("alerts", "list the alerts firing now, with their runbook links", ["alerts"]),
    "runbook": _c("runbook [ALERT]", "read the runbook of an alert (default: each alert firing)",
                  ["runbook", "runbook CheckoutHighErrorRate"], None, [Arg("alert", "alert", False)]),
    "changes": _c("changes", "the change log: deploys, config pushes and flag flips up to now, newest first", ["changes"]),
    "declare": _c("declare SEVERITY [SERVICE] [SUMMARY...]", "declare an incident: opens the channel, makes you IC",
                  ['declare SEV2 checkout "Checkout errors at 15%, customers affected"'], "declare",
                  [Arg("severity", "severity"), Arg("service", "service", False), Arg("summary", "text", False)]),
    "severity": _c("severity SEVERITY [REASON...]", "raise or lower the severity (IC)",
                   ['severity SEV1 "Revenue impact confirmed"'], "severity",
                   [Arg("severity", "severity"), Arg("reason", "text", False)]),
    "assign": _c("assign ROLE PERSON", "give a role (ic, comms, ops) to someone (IC)",
                 ["assign comms sam", "assign ops lee", "assign ic alex"], "assign",
                 [Arg("role", "role"), Arg("who", "person")]),
    "page": _c("page TEAM[,TEAM...]", "page teams into the incident (IC)", ["page payments,checkout"], "page",
               [Arg("teams", "teams")]),
    "update": _c("update STATUS SUMMARY... [next=TIME] [eta=TIME] [audience=internal|public]",
                 "post a status update (IC or comms) to the incident channel, or audience=public to the status "
                 "page; TIME is 15:30, +30m (from now) or 30m",
                 ['update investigating "Checkout errors at 15%; rolling back the gateway" next=+30m',
                  'update mitigating "Rollback done, errors falling" next=15:45 eta=15:40',
                  'update identified "Checkout payments are failing; a fix is being applied" audience=public'], "update",
                 [Arg("status", "status"), Arg("summary", "text")],
                 [("next", "next_update"), ("eta", "eta"), ("audience", "audience")]),
    "investigate": _c("investigate SERVICE", "dig into a service; a finding comes back later", ["investigate payment-gateway"],
                      "investigate", [Arg("service", "service")]),
    "mitigate": _c("mitigate MITIGATION SERVICE", f"apply a mitigation ({', '.join(MITIGATIONS)})",
                   ["mitigate rollback payment-gateway", "mitigate scale_up checkout"], "mitigate",
                   [Arg("action", "mitigation"), Arg("service", "service")]),
    "say": _c("say TEXT...", "say something in the incident channel (name a bot to ask it how it is going)",
              ['say "ops, what is the ETA?"', "say rolling back now, watch the error rate"], "say", [Arg("text", "text")]),
    "ask": _c("ask WHO TASK [SERVICE|TEAMS]", "direct the work (IC): ask a person or a role holder to investigate, "
              "mitigate (or name the mitigation), page or update",
              ["ask ops rollback payment-gateway", "ask comms update", "ask sam investigate checkout",
               "ask ops mitigate restart cart", "ask lee page payments"], "ask",
              [Arg("who", "asked"), Arg("task", "task"), Arg("service", "service", False)]),
    "resolve": _c("resolve [confirm=yes] [SUMMARY...]",
                  "declare the incident resolved (IC); over alerts still paging or customers still affected, "
                  "only with confirm=yes",
                  ['resolve "Errors back at baseline for 15 min"', 'resolve confirm=yes "Residual errors are a known retry storm"'],
                  "resolve", [Arg("summary", "text", False)], [("confirm", "confirm")]),
    "reopen": _c("reopen REASON...", "reopen a resolved incident (IC): the impact came back", ['reopen "Errors are back at 8%"'],
                 "reopen", [Arg("reason", "text")]),
    "standdown": _c("standdown [REASON...]", "stand down a false alarm (the paged on-call, or the IC)",
                    ['standdown "Alert cleared by itself, no customer impact"'], "stand_down", [Arg("reason", "text", False)]),
    "postmortem": _c("postmortem DATE", "schedule the postmortem, within 5 business days (IC)", ["postmortem 2026-04-23"],
                     "schedule_postmortem", [Arg("date", "date")]),
    "status": _c("status", "show the incident, the roles, who takes part and the last updates", ["status"]),
    "pause": _c("pause", "stop the clock", ["pause"]),
    "resume": _c("resume", "start the clock again", ["resume"]),
    "speed": _c("speed X", "run X simulated seconds per second", ["speed 10", "speed 1"], None, [Arg("speed", "number")]),
    "help": _c("help [COMMAND]", "list the commands, or show one with examples", ["help", "help update"], None,
               [Arg("command", "command", False)]),
    "end": _c("end", "end the drill now: scorecard and report", ["end"]),
    "quit": _c("quit", "leave the console (Ctrl-D too); carry on later with drill live --resume DIR", ["quit"]),
}

ALIASES = {"stand_down": "standdown", "stand-down": "standdown", "schedule_postmortem": "postmortem",
           "sev": "severity", "dash": "dashboard", "?": "help", "exit": "quit", "tell": "ask", "deploys": "changes"}


@dataclass(frozen=True)
class Vocabulary:
    """The words of this drill that commands take: for normalising and completing them."""

    services: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()
    people: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    pages: tuple[str, ...] = ()
    dates: tuple[str, ...] = ()
    alerts: tuple[str, ...] = ()
    notes: dict = field(default_factory=dict)  # word -> what completion shows beside it (a person's team, a weekday)

    def words(self, kind: str) -> tuple[str, ...]:
        fixed = {"role": ROLES, "status": STATUSES, "mitigation": MITIGATIONS, "command": tuple(COMMANDS),
                 "task": (*TASKS, *MITIGATIONS)}
        if kind in fixed:
            return tuple(fixed[kind])
        return {"service": self.services, "severity": self.severities, "person": self.people, "teams": self.teams,
                "page": self.pages, "date": self.dates, "alert": self.alerts, "asked": (*ROLES, *self.people)}.get(kind, ())


def did_you_mean(word: str, known) -> str:
    """`` (did you mean X?)`` for the known words closest to a mistyped one, or nothing."""
    close = difflib.get_close_matches(word.lower(), [k.lower() for k in known], n=2, cutoff=0.7)
    by_lower = {k.lower(): k for k in known}
    return f" (did you mean {' or '.join(by_lower[c] for c in close)}?)" if close else ""


def command_named(word: str) -> tuple[str, Command]:
    name = ALIASES.get(word.lower(), word.lower())
    if name not in COMMANDS:
        raise UsageError(f"unknown command {word!r}{did_you_mean(word, [*COMMANDS, *ALIASES])}: type help for the list")
    return name, COMMANDS[name]


def parse_command(text: str, by: str, words: Vocabulary = Vocabulary(), now: float = 0.0) -> dict | None:
    """One console line as an action (``{"do", "by", ...}``) or a control (``{"console", ...}``);
    ``None`` for an empty line. ``now`` (simulated seconds) anchors relative times (``next=+30m``)."""
    try:
        tokens = shlex.split(text)
    except ValueError as exc:
        raise UsageError(f"{exc} (quote text with \"...\" or '...')") from None
    if not tokens:
        return None
    name, command = command_named(tokens[0])
    if name == "ask":
        return _ask(tokens[1:], by, words, command)
    fields, rest = {}, []
    options = dict(command.options)
    for token in tokens[1:]:
        key, eq, value = token.partition("=")
        if eq and key.lower() in options:
            fields[options[key.lower()]] = _option(options[key.lower()], value, now, command)
        else:
            rest.append(token)
    for arg in command.args:
        if arg.kind == "text" or arg.kind == "teams":
            value = " ".join(rest) if arg.kind == "text" else [t for word in rest for t in word.split(",") if t]
            rest = []
            if value:
                fields[arg.field] = value
            elif arg.required:
                raise _usage(command, f"missing {arg.field}", words)
            continue
        if not rest:
            if arg.required:
                raise _usage(command, f"missing {arg.kind}", words)
            continue
        if arg.kind == "service" and not arg.required and words.services and rest[0] not in words.services:
            continue  # declare's service may be left out: the words that follow are the summary
        fields[arg.field] = _word(arg, rest.pop(0), words, command)
    if rest:
        raise _usage(command, f"unexpected {' '.join(rest)!r}", words)
    if command.action is None:
        return {"console": name, **fields}
    return {"do": command.action, "by": by, **fields}


def _ask(words_typed: list[str], by: str, words: Vocabulary, command: Command) -> dict:
    """``ask WHO TASK ...``: a mitigation's name stands for ``mitigate NAME``; the words after
    the task are what it needs (a service, a mitigation and a service, teams)."""
    if len(words_typed) < 2:
        raise _usage(command, "missing " + ("who" if not words_typed else "task"))
    who, task, rest = words_typed[0], words_typed[1].lower().replace("-", "_"), words_typed[2:]
    if task in MITIGATIONS:
        task, rest = "mitigate", [task, *rest]
    if task not in TASKS:
        raise _usage(command, f"unknown task {words_typed[1]!r}{did_you_mean(words_typed[1], words.words('task'))}")
    action = {"do": "ask", "by": by, "who": who, "task": task}
    if task == "page":
        action["teams"] = [t for word in rest for t in word.split(",") if t]
        rest = [] if action["teams"] else rest
    for field_name in TASKS[task]:
        if field_name not in action:
            if not rest:
                raise _usage(command, f"the {task} task needs a {'mitigation' if field_name == 'action' else field_name}")
            value = rest.pop(0)
            action[field_name] = value.lower().replace("-", "_") if field_name == "action" else value
    if rest:
        raise _usage(command, f"unexpected {' '.join(rest)!r}")
    return action


def _usage(command: Command, problem: str, words: Vocabulary = Vocabulary()) -> UsageError:
    return UsageError(f"{problem}. Usage: {command.usage}   e.g. {_spoken(command.examples[0], words.severities)}")


def _spoken(example: str, severities) -> str:
    """An example in the drill's own levels: its SEV1 and SEV2 become the process's levels of
    the same rank (P1 and P2), as the bots read a scenario's; a team with levels of its own was
    shown a SEV2 its drill refuses."""
    if not severities:
        return example
    return re.sub(r"\bSEV([1-4])\b", lambda m: severities[min(int(m[1]) - 1, len(severities) - 1)], example)


def _word(arg: Arg, word: str, words: Vocabulary, command: Command):
    if arg.kind == "number":
        try:
            value = float(word)
        except ValueError:
            raise _usage(command, f"{arg.field} must be a number, got {word!r}") from None
        if arg.field == "minutes" and not value > 0:  # a window of none (or nan) read as "no samples yet"
            raise _usage(command, f"minutes must be more than 0, got {word!r}")
        return value
    if arg.kind == "severity":
        return level(word, words.severities)
    if arg.kind == "page":
        return page_id(word)
    if arg.kind in ("role", "status", "mitigation", "command"):
        return word.lower().replace("-", "_")
    return word


def level(word: str, severities) -> str:
    """The drill's level a person means, whatever its capitals (``p1`` is P1); an unknown one in
    capitals, as levels are written, for the drill to refuse naming its levels."""
    return next((s for s in severities if s.lower() == word.lower()), word.upper())


def page_id(word: str) -> str:
    """The page a person means by ``#1`` or ``1`` (as pages are shown), ``P1`` in the log;
    anything else as typed."""
    found = re.fullmatch(r"#?(\d+)", word)
    return f"P{found[1]}" if found else word


def hint(action: dict, words: Vocabulary) -> str:
    """For an action the drill rejected: "did you mean" for the first word it names that this
    drill does not know (the drill's own reason says what was wrong; this says what was meant)."""
    name, command = command_named(next(n for n, c in COMMANDS.items() if c.action == action["do"]))
    for arg in command.args:
        known, value = words.words(arg.kind), action.get(arg.field)
        for word in value if isinstance(value, list) else [value]:  # teams are a list
            if arg.kind == "page" and isinstance(word, str):
                word = page_name(word)  # known as shown
            if known and isinstance(word, str) and word not in known:
                return did_you_mean(word, known)
    return ""


def _option(field: str, value: str, now: float, command: Command):
    if not value:
        raise _usage(command, f"{field} needs a value")
    if field != "next_update":
        return value
    if ":" in value:
        return value  # a clock time (15:30) or an ISO time: the action reads it on the scenario's day
    try:
        return f"+{round(now + units.duration(value.removeprefix('+')))}s"  # the action reads +offsets from the start
    except ValueError:
        raise _usage(command, f"next= takes 15:30, +30m or 30m, got {value!r}") from None


def help_lines(name: str | None = None, severities=()) -> list[str]:
    """``help``: every command with its usage; ``help NAME``: one command with examples, both
    in the drill's ``severities``."""
    if name:
        name, command = command_named(name)
        return [command.usage, f"  {command.does}", *[f"  e.g. {_spoken(example, severities)}" for example in command.examples]]
    width = max(len(c.usage) for c in COMMANDS.values())
    lines = ["Commands (Tab completes; help COMMAND shows examples):"]
    lines += [f"  {c.usage:<{width}}  {c.does}" for c in COMMANDS.values()]
    lines += ["Examples:", *[f"  {_spoken(c.examples[0], severities)}" for c in COMMANDS.values() if c.action and c.args][:8]]
    return lines


def completions(text: str, words: Vocabulary) -> tuple[str, list[str]]:
    """What the word being typed at the end of ``text`` could become: ``(prefix, candidates)``."""
    if text.count('"') % 2 or text.count("'") % 2:
        return "", []  # inside quoted text: nothing to complete
    parts = text.split(" ")
    typed = parts[-1]
    if len(parts) == 1:
        return typed, [n for n in COMMANDS if n.startswith(typed.lower())]
    try:
        _, command = command_named(parts[0])
    except UsageError:
        return typed, []
    before = [p for p in parts[1:-1] if p and not ("=" in p and p.split("=")[0] in dict(command.options))]
    position, args = len(before), list(command.args)
    # declare's optional service: when the word typed before is not a service, the summary has begun
    for i, arg in enumerate(args[:position]):
        if arg.kind == "service" and not arg.required and before[i] not in words.services:
            args.pop(i)
            break
    if position >= len(args):
        return typed, [f"{k}=" for k, _ in command.options if f"{k}=".startswith(typed)] if typed else []
    arg = args[position]
    if arg.kind == "teams":
        done, _, last = typed.rpartition(",")
        chosen = set(done.split(",")) if done else set()
        return last, [t for t in words.words("teams") if t.startswith(last) and t not in chosen]
    options = words.words(arg.kind)
    return typed, [w for w in options if w.lower().startswith(typed.lower())]


def business_days_after(day: dt.date, count: int) -> tuple[str, ...]:
    """The ``count`` business days after ``day``, as dates a postmortem could be booked on."""
    # Rolling a weekend day back to Friday makes the first offset the next business day.
    return tuple(str(np.busday_offset(day, k, roll="backward")) for k in range(1, count + 1))
