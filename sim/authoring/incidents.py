"""A real incident as a scenario and a timeline script that replay it (``drill import incident``).

Three records of an incident are read, alone or together: a postmortem in the reference
template (its ``HH:MM UTC - text`` timeline, read line by line through a table of words ->
actions, ``incident_words.yaml`` built in, a team's file first), a PagerDuty incident's log
entries (the REST API's ``/incidents/{id}/log_entries``) and an Alertmanager webhook history
(a JSON list, or JSON lines, of version 4 payloads). Their moments are merged in time order.
The scenario makes the replayed alert fire and page exactly when the incident was detected
and the impact end when it did; the script holds the team's actions at their times. Every
line that is not mapped, and every action the replay's own run rejects, is listed with its
``file:line``: nothing is guessed in silence, and what a record does not say is written into
the files as an assumption. ``hidden=True`` writes the drill version: the same incident up to
its detection, the team's actions after it left out, for people to play live.
"""

import datetime as dt
import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from ..inputs import units, yamlfile
from ..inputs.actions import FIELDS, MITIGATIONS, ROLES, STATUSES, parse_action
from ..inputs.config import MAX_HORIZON, SEVERITIES, Process, load_script
from ..inputs.errors import DrillError
from ..inputs.faults import FAULT_KINDS
from ..inputs.yamlfile import one_of, text
from . import story

BUILTIN = Path(__file__).resolve().parent / "incident_words.yaml"
OUTCOMES = ("detected", "impact", "recovered", "note")
SEATS = ("oncall", *ROLES)
LEAD_IN = 300.0  # the replay opens five quiet minutes before the impact began
MAGNITUDE = 0.5  # error rate of the replayed fault: records say "down", rarely how far (an assumption)
ASSUMED_RECOVERY = 300.0
IMPACT = 0.01  # the replayed service's impact threshold (the scenario default); its baseline error rate is 0  # after the fix, when no line says when the metrics were back
SCRAPE = 15.0
_DETECTED = re.compile(r"^\s*alerts? (fires|fired|firing|triggered)\s*:?\s*", re.IGNORECASE)  # the timeline says it again  # the replay's scrape and evaluation interval: moments land on this grid


# --- the words -> actions table ---------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    match: re.Pattern
    then: tuple  # outcome names and action templates (dicts)


@dataclass(frozen=True)
class Words:
    rules: tuple[Rule, ...]
    kinds: dict  # mitigation -> fault kind

    def __add__(self, other: "Words") -> "Words":
        return Words(self.rules + other.rules, {**other.kinds, **self.kinds})

    def read(self, line: str) -> tuple | None:
        """What a line says: the outcomes and actions of the first rule that matches, with the
        match's named groups filled in; None when no rule matches."""
        for rule in self.rules:
            found = rule.match.search(line)
            if found:
                groups = {re.sub(r"\d+$", "", k): v for k, v in found.groupdict().items() if v}
                return tuple({**groups, **t} if isinstance(t, dict) else t for t in rule.then)
        return None


def load_words(path) -> Words:
    """A words table (the built-in one's format); every problem as ``file:line: message``."""
    doc = yamlfile.document(path, "words")
    check = doc.checker
    rules = []
    for line, raw in doc.items("lines"):
        f = check.mapping(raw, f"lines[{len(rules)}]", line)
        if f is None:
            continue
        rules.append(Rule(f.get("match", _pattern, re.compile("$^"), required=True),
                          f.get("then", _then, (), required=True)))
        f.done()
    kinds = doc.get("kinds", _kinds, {})
    doc.done()
    check.raise_problems()
    return Words(tuple(rules), kinds)


def _pattern(value) -> re.Pattern:
    try:
        return re.compile(text(value), re.IGNORECASE)
    except re.error as exc:
        raise ValueError(f"not a regular expression: {exc}") from None


def _then(value) -> tuple:
    items = value if isinstance(value, list) else [value]
    found = []
    for item in items:
        if isinstance(item, str):
            one_of(*OUTCOMES)(item)
            found.append(item)
        elif isinstance(item, dict):
            do = item.get("do")
            if do not in FIELDS:
                raise ValueError(f"do: unknown action {do!r} (known: {', '.join(FIELDS)})")
            if "by" in item:
                one_of(*SEATS)(item["by"])
            allowed = {"do", "by", *FIELDS[do][0], *FIELDS[do][1]}
            unknown = set(item) - allowed
            if unknown:
                raise ValueError(f"{do}: unknown field(s) {', '.join(sorted(map(str, unknown)))} "
                                 f"(allowed: {', '.join(sorted(allowed))})")
            found.append({str(k): v for k, v in item.items()})
        else:
            raise ValueError(f"expected {', '.join(OUTCOMES)} or {{do: ACTION, ...}}, got {item!r}")
    return tuple(found)


def _kinds(value) -> dict:
    if not isinstance(value, dict):
        raise ValueError("expected a mapping of mitigation to fault kind, e.g. {rollback: bad_deploy}")
    for mitigation, kind in value.items():
        one_of(*MITIGATIONS)(mitigation)
        one_of(*FAULT_KINDS)(kind)
    return dict(value)


BUILTIN_WORDS = load_words(BUILTIN)


# --- reading the records ----------------------------------------------------------------


@dataclass
class Moment:
    """One line of a record: when, where it came from, what it says, and what it was read as."""

    at: dt.datetime
    where: str  # file:line
    text: str
    said: tuple | None  # outcomes and action templates; None: not mapped
    by: str | None = None  # a person the record names (PagerDuty's agent)
    assumed: str = ""  # what the record does not say about this moment


@dataclass
class Record:
    """What the records say about one incident, merged."""

    moments: list = field(default_factory=list)
    title: str = ""
    service: str = ""
    severity: str | None = None  # as the records (or --severity) name it, read against the process in build
    severity_where: str = ""  # where it is named: "file:line: Severity", or "--severity"
    summary: str = ""
    root_cause: str = ""
    sources: list = field(default_factory=list)  # what the record is based on (URLs, files)
    files: list = field(default_factory=list)  # the records read


_HEADER = re.compile(r"^\s*[-*]?\s*\**(date|service|severity|source|sources|team)\**\s*:\s*(.+?)\s*$", re.IGNORECASE)
_ENTRY = re.compile(r"^\s*(?:[-*]\s*)?(?:(\d{4}-\d{2}-\d{2})[ T])?(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([A-Za-z]{1,5})?"
                    r"\s*[-\u2013\u2014:]\s+(.+?)\s*$")
_ASSUMED = re.compile(r"\s*\[(assum(?:ed|ption)[^\]]*)\]\s*$", re.IGNORECASE)
_SECTION = re.compile(r"^\s*#{1,6}\s*(?:\d+\.\s*)?(.+?)\s*#*\s*$")


def read_postmortem(path: Path, words: Words, day: dt.date | None = None) -> Record:
    """A postmortem in the reference template: ``# title``, optional ``Date:``, ``Service:``,
    ``Severity:`` and ``Source:`` lines, and sections (``## Summary``, ``## Timeline``,
    ``## Root cause``, ...); the timeline's ``HH:MM UTC - text`` lines are the moments."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise DrillError(f"{path}:1: not UTF-8 text; save the postmortem as UTF-8") from None
    record, section, sections = Record(), "", {}
    header: dict = {}
    entries = []
    for number, line in enumerate(lines, 1):
        heading = _SECTION.match(line)
        if heading:
            if line.lstrip().startswith("# ") and not record.title:
                record.title = heading[1].strip()
            section = heading[1].strip().lower()
            continue
        found = _HEADER.match(line)
        if found and "timeline" not in section:
            key = found[1].lower().rstrip("s") if found[1].lower() == "sources" else found[1].lower()
            if key == "source":
                record.sources.append(found[2])
            else:
                header[key] = (number, found[2])
            continue
        if "timeline" in section and line.strip():
            entry = _ENTRY.match(line)
            if entry is None:
                raise DrillError(f"{path}:{number}: a timeline line must read HH:MM UTC - what happened "
                                 f"(e.g. 14:47 UTC - Alert fires: checkout error rate > 5%), got {line.strip()!r}")
            if entry[5] and entry[5].upper() not in ("UTC", "Z", "GMT"):
                raise DrillError(f"{path}:{number}: times are UTC; {entry[5]} is not (convert it to UTC)")
            entries.append((number, entry))
        elif line.strip():
            sections.setdefault(section, []).append(line.strip())
    if "date" in header:
        try:
            day = day or units.date(header["date"][1][:10])
        except ValueError as exc:
            raise DrillError(f"{path}:{header['date'][0]}: Date: {exc}") from None
    if day is None and any(e[1] is None for _, e in entries):
        found = re.search(r"\d{4}-\d{2}-\d{2}", record.title)
        day = units.date(found[0]) if found else None
    if not entries:
        raise DrillError(f"{path}:1: no timeline: expected a '## Timeline' section of 'HH:MM UTC - text' lines")
    if day is None and entries[0][1][1] is None:
        raise DrillError(f"{path}:1: on which day? Give a 'Date: YYYY-MM-DD' line, a date in the title, or --date")
    if "severity" in header:
        record.severity, record.severity_where = header["severity"][1], f"{path}:{header['severity'][0]}: Severity"
    record.service = _name(header["service"][1]) if "service" in header else ""
    record.summary = " ".join(sections.get("summary", []))
    record.root_cause = " ".join(sections.get("root cause", []) or sections.get("root causes", []))
    previous = None
    for number, entry in entries:
        date = units.date(entry[1]) if entry[1] else (previous.date() if previous else day)
        hours, minutes, seconds = int(entry[2]), int(entry[3]), int(entry[4] or 0)
        if hours > 23 or minutes > 59 or seconds > 59:
            raise DrillError(f"{path}:{number}: {entry[2]}:{entry[3]} is not a clock time")
        moment = dt.datetime.combine(date, dt.time(hours, minutes, seconds), dt.UTC)
        if previous is not None and moment < previous:
            if entry[1]:
                raise DrillError(f"{path}:{number}: {moment:%Y-%m-%d %H:%M} is before the line above it")
            moment += dt.timedelta(days=1)  # past midnight
        previous = moment
        body = entry[6]
        assumed = _ASSUMED.search(body)
        if assumed:
            body = body[:assumed.start()].rstrip()
        record.moments.append(Moment(moment, f"{path}:{number}", body, words.read(body),
                                     assumed=assumed[1] if assumed else ""))
    return record


def _level(value, process: Process) -> tuple[str | None, str]:
    """The process's level that a record names (case and spaces aside: ``sev 1``, ``p1``), and, when
    the process has no level of that name but the built-in scale has (the built-in table's ``SEV2``
    to a team with P1 to P5), how it was read: as the level of the same rank, as a scenario's are."""
    key = re.sub(r"\s+", "", str(value)).upper()
    levels = {re.sub(r"\s+", "", name).upper(): name for name in process.severities}
    if key in levels:
        return levels[key], ""
    if key in SEVERITIES:
        named = process.same_rank(key)
        return named, f"{value} read as {named}, the process's level of the same rank (it has no {key})"
    return None, ""


def _name(value: str) -> str:
    """A service, team or person name from prose: lower case, words joined by ``-``."""
    name = re.sub(r"[^a-z0-9]+", "-", str(value).lower()).strip("-")
    return (name if len(name) <= 60 else name[:61].rsplit("-", 1)[0][:60]) or "service"  # whole words


def _json(path: Path) -> tuple[object, list]:
    """A JSON document or JSON lines, and the line each item of its list of records starts on
    (the top-level list, PagerDuty's ``log_entries``, or the lines), so that a problem names
    the file and line."""
    try:
        body = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise DrillError(f"{path}:1: not UTF-8 text") from None
    try:
        doc = json.loads(body)
    except json.JSONDecodeError as first:
        items, lines = [], []
        for number, line in enumerate(body.splitlines(), 1):
            if line.strip():
                try:
                    items.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    problem = first if not items else exc  # not JSON lines either: the whole file's error
                    raise DrillError(f"{path}:{problem.lineno if not items else number}: not JSON: {problem.msg}") from None
                lines.append(number)
        return items, lines
    found = re.search(r'"log_entries"\s*:\s*\[', body) if isinstance(doc, dict) else re.match(r"\s*\[", body)
    return doc, _item_lines(body, found.end() if found else len(body))


def _item_lines(body: str, at: int) -> list[int]:
    """The line each item of the JSON list whose items begin at ``at`` starts on."""
    decoder, lines = json.JSONDecoder(), []
    while True:
        at = len(body) - len(body[at:].lstrip(" \t\r\n,"))
        if at >= len(body) or body[at] == "]":
            return lines
        lines.append(body.count("\n", 0, at) + 1)
        try:
            at = decoder.raw_decode(body, at)[1]
        except json.JSONDecodeError:
            return lines


def _ref(value) -> dict:
    """A nested object of a record (an agent, a channel), or an empty one when it is not an object."""
    return value if isinstance(value, dict) else {}


def _when(where: str, value, what: str) -> dt.datetime:
    try:
        return units.timestamp(value)
    except ValueError as exc:
        raise DrillError(f"{where}: {what}: {exc}") from None


# PagerDuty log entry types and what each says; the rest are listed as not mapped.
_PAGERDUTY = {"trigger_log_entry": ("detected",), "acknowledge_log_entry": ({"do": "ack"},),
              "resolve_log_entry": ("recovered", {"do": "resolve"}),
              "notify_log_entry": ("note",), "assign_log_entry": ("note",), "escalate_log_entry": ("note",),
              "exhaust_escalation_path_log_entry": ("note",), "repeat_escalation_path_log_entry": ("note",),
              "urgency_change_log_entry": ("note",), "priority_change_log_entry": ("note",),
              "snooze_log_entry": ("note",), "unsnooze_log_entry": ("note",)}


def read_pagerduty(path: Path, doc, words: Words, lines: list) -> Record:
    """A PagerDuty incident's log entries (``{"log_entries": [...]}`` or the list itself): the
    trigger is the detection, acknowledgements and resolutions are the agents' actions, notes
    are read through the words table (a note "SEV1 declared" declares)."""
    entries = doc.get("log_entries") if isinstance(doc, dict) else doc
    if not isinstance(entries, list):
        raise DrillError(f"{path}:1: expected PagerDuty log entries: {{\"log_entries\": [...]}}")
    record = Record(sources=[f"PagerDuty log entries: {path.name}"])
    for index, entry in enumerate(entries, 1):
        where = f"{path}:{lines[index - 1] if index <= len(lines) else 1}"
        if not isinstance(entry, dict) or not isinstance(entry.get("type"), str):
            raise DrillError(f"{where}: log_entries[{index - 1}]: a log entry is an object with a 'type'")
        at = _when(where, entry.get("created_at"), f"log_entries[{index - 1}].created_at")
        kind, agent = entry["type"], _ref(entry.get("agent"))
        person = _name(agent["summary"]) if str(agent.get("type", "")).startswith("user") and agent.get("summary") else None
        service = _ref(entry.get("service")).get("summary")
        if service and not record.service:
            record.service = _name(service)
        incident = _ref(entry.get("incident")).get("summary")
        record.title = record.title or str(incident or "")
        summary = str(entry.get("summary") or kind)
        if kind == "annotate_log_entry":
            channel = _ref(entry.get("channel"))
            note = str(channel.get("summary") or channel.get("notes") or channel.get("content") or summary)
            record.moments.append(Moment(at, where, note, words.read(note), by=person))
            continue
        said = _PAGERDUTY.get(kind)
        if kind == "resolve_log_entry" and person is None:
            said = ("recovered",)  # resolved by an integration, not a person: the impact ended, nobody resolved
        record.moments.append(Moment(at, where, f"{kind}: {summary}", said, by=person))
    return record


def read_alertmanager(path: Path, doc, lines: list) -> Record:
    """An Alertmanager webhook history: every alert of every payload, by fingerprint (or labels).
    The first alert to start is the detection; the moment the last one ended, once all resolved,
    the recovery. A payload without per-alert status (older Alertmanagers) gives its own."""
    payloads = doc if isinstance(doc, list) else [doc]
    record = Record(sources=[f"Alertmanager webhook history: {path.name}"])
    alerts: dict = {}  # key -> [name, summary, started, ended or None, where]
    for index, payload in enumerate(payloads, 1):
        where = f"{path}:{lines[index - 1] if index <= len(lines) else 1}"
        if not isinstance(payload, dict) or not isinstance(payload.get("alerts"), list):
            raise DrillError(f"{where}: expected an Alertmanager webhook payload (version 4) with 'alerts'")
        for alert in payload["alerts"]:
            labels = alert.get("labels") if isinstance(alert, dict) else None
            status = (alert.get("status") or payload.get("status")) if isinstance(alert, dict) else None
            if not isinstance(labels, dict) or status not in ("firing", "resolved"):
                raise DrillError(f"{where}: an alert needs 'labels' and a status (firing or resolved)")
            key = str(alert.get("fingerprint") or json.dumps(labels, sort_keys=True, default=str))
            service = labels.get("service") or labels.get("job") or labels.get("app")
            if service and not record.service:
                record.service = _name(service)
            started = _when(where, _seconds(alert.get("startsAt")), "startsAt")
            seen = alerts.setdefault(key, [str(labels.get("alertname", "alert")),
                                           str(_ref(alert.get("annotations")).get("summary", "")), started, None, where])
            seen[2] = min(seen[2], started)
            seen[3] = _when(where, _seconds(alert.get("endsAt")), "endsAt") if status == "resolved" else None
    firsts = sorted(alerts.values(), key=lambda a: a[2])
    for number, (name, summary, started, _, where) in enumerate(firsts):
        record.moments.append(Moment(started, where, f"{name} firing{': ' + summary if summary else ''}",
                                     ("detected",) if number == 0 else ("note",)))
    ends = sorted((a for a in alerts.values() if a[3] is not None), key=lambda a: a[3])
    for number, (name, _, _, ended, where) in enumerate(ends):
        last = number == len(alerts) - 1
        record.moments.append(Moment(ended, where, f"{name} resolved" + ("; no alert firing" if last else ""),
                                     ("recovered",) if last else ("note",)))
    record.title = record.title or "Alertmanager history"
    return record


def _seconds(value):
    """Alertmanager writes nanoseconds (``06:33:21.873077559-05:00``); Python reads at most microseconds."""
    return re.sub(r"(\.\d{6})\d+", r"\1", value) if isinstance(value, str) else value


def read(paths: list[Path], words: Words, day: dt.date | None = None) -> Record:
    """Every record given, merged into one, moments in time order."""
    merged = Record()
    for path in paths:
        if path.suffix.lower() in (".md", ".markdown", ".txt"):
            part = read_postmortem(path, words, day)
        else:
            doc, lines = _json(path)
            is_pagerduty = (isinstance(doc, dict) and "log_entries" in doc) or (
                isinstance(doc, list) and doc and isinstance(doc[0], dict) and str(doc[0].get("type", "")).endswith("_log_entry"))
            if is_pagerduty:
                part = read_pagerduty(path, doc, words, lines)
            elif (isinstance(doc, dict) and "alerts" in doc) or (isinstance(doc, list) and doc and isinstance(doc[0], dict)
                                                                and "alerts" in doc[0]):
                part = read_alertmanager(path, doc, lines)
            else:
                raise DrillError(f"{path}:1: not an incident record drillsim reads (a postmortem .md, PagerDuty "
                                 "log entries {\"log_entries\": [...]}, or Alertmanager webhook payloads)")
        merged.moments += part.moments
        merged.sources += part.sources
        merged.files.append(str(path))
        for name in ("title", "service", "summary", "root_cause"):
            if not getattr(merged, name):
                setattr(merged, name, getattr(part, name))
        if not merged.severity:
            merged.severity, merged.severity_where = part.severity, part.severity_where
    if not merged.moments:
        raise DrillError(f"{paths[0]}:1: no moment of an incident in the records (no timeline line, log entry or alert)")
    merged.moments.sort(key=lambda m: m.at)  # stable: within a second, in the order the records give
    return merged


# --- the replay -------------------------------------------------------------------------


@dataclass(frozen=True)
class Imported:
    name: str
    scenario: str  # the scenario file's text
    script: str | None  # the script's text (None for the drill version)
    unmapped: list  # "file:line: text" for lines no rule maps
    unplayed: list  # "file:line: what, and why it cannot be replayed"
    assumptions: list

    def files(self, out: Path) -> tuple[Path, Path]:
        """The scenario's and the script's files in the folder ``out``."""
        return out / f"{self.name}.yaml", out / f"{self.name}.script.yaml"


class _Team:
    """Who holds each seat while the importer walks the timeline, as the process would have it."""

    def __init__(self):
        self.seats: dict = {}  # seat -> person
        self.people: list = []

    def person(self, name: str) -> str:
        if name not in self.people:
            self.people.append(name)
        return name

    def who(self, seat: str) -> str:
        """The person in ``seat``; an empty seat is taken by someone named after it."""
        if seat not in self.seats:
            self.seats[seat] = self.person(seat)
        return self.seats[seat]


_IN_AN_INCIDENT = ("severity", "assign", "page", "update", "resolve", "stand_down", "schedule_postmortem")
_DOER = {"ack": "oncall", "look": "oncall", "declare": "oncall", "investigate": "ops", "mitigate": "ops"}


def build(record: Record, name: str | None = None, hidden: bool = False, kinds: dict | None = None,
          process: Process | None = None) -> Imported:
    """The scenario and script that replay ``record`` (``hidden``: the drill version, no script) under
    ``process``, whose levels the records name; ``kinds``: the fault kind by the mitigation that
    ended it (the words table's)."""
    process = process or Process()
    assumptions = []
    unmapped = [f"{m.where}: {m.text}" for m in record.moments if m.said is None]
    detected = next((m for m in record.moments if m.said and "detected" in m.said), None)
    if detected is None:
        detected = record.moments[0]
        assumptions.append(f"no line says when the incident was detected; the first one ({detected.where}) is taken")
    impact = next((m for m in record.moments if m.said and "impact" in m.said and m.at <= detected.at), None)
    began = impact.at if impact else detected.at
    if impact is None:
        assumptions.append("customer impact is taken to begin at the detection (no line says when it began)")
    start = (began - dt.timedelta(seconds=LEAD_IN)).replace(second=0, microsecond=0)
    service = record.service or "service"
    if not record.service:
        assumptions.append("the affected service is called 'service' (the records do not name it; give --service)")

    def t(moment: dt.datetime) -> float:
        return (moment - start).total_seconds()

    team, actions, unplayed, notes = _Team(), [], [], []
    state = {"declared": False, "severity": None, "resolved": False, "teams": set(), "process": process,
             "assumptions": assumptions}
    for m in record.moments:
        if m.said is None:
            continue
        for said in m.said:
            if isinstance(said, str):
                if said == "note" or (said == "detected" and m is not detected):
                    notes.append(m)
                continue
            act, why = _action(dict(said), m, team, state, service, detected)
            if not why and t(m.at) > MAX_HORIZON:
                act, why = None, f"more than {units.human(MAX_HORIZON)} after the replay starts (a drill lasts at most a week)"
            if why:
                unplayed.append(f"{m.where}: {m.text} -> {said['do']}: {why}")
            elif act is not None:
                actions.append((m, act))
    if not actions and not hidden:
        unplayed.append("no action of the team to replay in the records (an Alertmanager history, for one, holds "
                        "only alerts): give the postmortem or the PagerDuty log entries too")
    recovered = next((m for m in record.moments if m.said and "recovered" in m.said and m.at >= detected.at), None)
    fixes = [(m, a) for m, a in actions if a["do"] == "mitigate" and (recovered is None or m.at <= recovered.at)]
    # The world fixes the fault at the first mitigation of the kind that ended it: that one is the fix.
    fix = next(f for f in fixes if f[1]["action"] == fixes[-1][1]["action"]) if fixes else None
    severity = state["severity"]
    if record.severity:
        severity, read_as = _level(record.severity, process)
        if severity is None:
            raise DrillError(f"{record.severity_where}: expected one of {', '.join(process.severities)} "
                             f"(the process's levels), got {record.severity!r}")
        if read_as:
            assumptions.append(f"{record.severity_where}: {read_as}")
    if severity is None:
        severity = process.same_rank("SEV2")
        assumptions.append(f"expected severity {severity}: neither a Severity: line nor a declaration says")
    severity = _scale(severity, process, record.severity_where or "the declaration", assumptions)
    scenario = _scenario(record, name, start, service, detected, began, recovered, fix, severity,
                         sorted(state["teams"]), assumptions, t, hidden, kinds or BUILTIN_WORDS.kinds)
    scenario_name = scenario["name"]
    script = None if hidden else _script(team, actions, notes, start)
    return Imported(scenario_name, _scenario_text(scenario, record, assumptions, hidden), script, unmapped,
                    unplayed, assumptions)


def _action(said: dict, m: Moment, team: _Team, state: dict, service: str, detected: Moment):
    """One action of the script from a line, with the seat resolved to a person; or why it cannot
    be replayed (the process would refuse it at that point)."""
    do = said.pop("do")
    seat = said.pop("by", None)
    if m.by:
        person = team.person(m.by)
        if do == "ack" and "oncall" not in team.seats:
            team.seats["oncall"] = person
    else:
        seat = seat or _DOER.get(do) or ("comms" if do == "update" and "comms" in team.seats else "ic")
        if seat == "ops" and "ops" not in team.seats:
            seat = "oncall"  # the on-call engineer investigates and mitigates until an ops lead is named
        if seat == "ic" and "ic" not in team.seats:
            seat = "oncall"
        person = team.who(seat)
    fields = {}
    if do == "ack":
        if m.at < detected.at:
            return None, "before the detection there is no page to acknowledge"
    elif do in ("declare", "severity"):
        level, read_as = _level(said.get("severity", ""), state["process"])
        if level is None:
            return None, f"no severity ({', '.join(state['process'].severities)}) in the line"
        if do == "declare" and state["declared"]:
            return None, "the incident was already declared"
        if read_as:
            state["assumptions"].append(f"{m.where}: {read_as}")
        fields["severity"] = level
        state["severity"] = state["severity"] or level
        if do == "declare":
            state["declared"] = True
            fields["summary"] = m.text[:2000]
            team.seats["ic"] = person  # whoever declares is the IC until the role is handed on
    elif do == "assign":
        role = said.get("role")
        if role not in ROLES:
            return None, f"no role ({', '.join(ROLES)}) in the line"
        fields.update(role=role, who=team.person(_name(said["who"]) if said.get("who") else role))
        team.seats[role] = fields["who"]
    elif do == "page":
        teams = [_name(t) for t in re.split(r",|\band\b|&|/", said.get("teams", "")) if _name(t) != "service"]
        if not teams:
            return None, "no team named in the line"
        fields["teams"] = teams
        state["teams"].update(teams)
    elif do == "update":
        # A rule's own status (identified, mitigating) stands; the default, investigating, becomes
        # mitigating once a mitigation was tried.
        status = said.get("status", "investigating")
        if status == "investigating" and state.get("mitigated"):
            status = "mitigating"
        fields.update(status=status if status in STATUSES else "investigating", summary=m.text[:2000])
        if state["resolved"]:
            fields["status"] = "resolved"
    elif do in ("investigate", "look"):
        fields["service"] = _name(said["service"]) if said.get("service") else service
    elif do == "mitigate":
        if said.get("action") not in MITIGATIONS:
            return None, f"no mitigation ({', '.join(MITIGATIONS)}) in the line"
        fields.update(action=said["action"], service=service)
        state["mitigated"] = True
    elif do == "resolve":
        # The record says they resolved then: the replay does too, whatever the simulated
        # metrics still show (a resolve over alerts or impact needs a knowing yes).
        fields.update(summary=m.text[:2000], confirm=True)
        state["resolved"] = True
    elif do == "schedule_postmortem":
        if not said.get("date"):
            return None, "no date (YYYY-MM-DD) in the line"
        fields["date"] = said["date"]
    if do in _IN_AN_INCIDENT and not state["declared"]:
        return None, "the incident was not declared yet (the process takes this action only in a declared incident)"
    act = {"do": do, "by": person, **fields}
    try:
        parse_action(act, m.at)  # the shape a script needs (a team's rule may give odd fields)
    except ValueError as exc:
        return None, str(exc)
    return act, ""


def _scenario(record, name, start, service, detected, began, recovered, fix, severity, teams, assumptions, t, hidden,
              kinds):
    alert_for = max(0.0, (detected.at - began).total_seconds())
    fault = {"id": "real-incident", "kind": "config_push", "service": service, "at": units.human(t(began)),
             "magnitude": {"error_rate": f"{MAGNITUDE:.0%}"}, "ramp": "0s"}
    assumptions.append(f"the service failed {MAGNITUDE:.0%} of requests from the impact's start (records rarely say how many)")
    if fix is not None:
        m, act = fix
        fault["kind"] = kinds.get(act["action"], "config_push")
        fault["fixes"] = [act["action"]]
        if recovered is not None:
            fault["recovery"] = f"{_recovery((recovered.at - m.at).total_seconds())}s"
        else:
            fault["recovery"] = units.human(ASSUMED_RECOVERY)
            assumptions.append(f"metrics back {units.human(ASSUMED_RECOVERY)} after the {act['action']} "
                               "(no line says when they were)")
    elif recovered is not None and not hidden:
        fault["fixes"] = []
        fault["duration"] = units.human(max(1.0, (recovered.at - began).total_seconds() - 1))
        fault["recovery"] = "1s"
        assumptions.append("no mitigation in the records ended it: the fault ends by itself when the metrics recovered")
    else:
        fault["fixes"] = ["rollback"]
        assumptions.append("no line says what ended it: a rollback of the service is taken as the fix")
    if fault["fixes"]:
        assumptions.append("investigating the service shows the root cause after 10m (for the drill version's players)")
    fault["findings"] = [{"service": service, "after": "10m", "root_cause": True,
                          "text": (record.root_cause or f"The cause of {record.title or 'the incident'}")[:2000],
                          "suggests": fault["fixes"][0]}] if fault["fixes"] else []
    last = max([m.at for m in record.moments] + [detected.at])
    span = t(last)
    horizon = min(MAX_HORIZON, max(2 * 3600.0, span + 3600.0) if not hidden else max(3 * 3600.0, 2 * span))
    acks = [(m.at - detected.at).total_seconds() for m in record.moments
            if m.said and any(isinstance(s, dict) and s.get("do") == "ack" for s in m.said)]
    # The real pager's escalation is in the records, not replayed: the page waits for the real acknowledgement.
    escalation = max(300.0, max(acks) + 60.0) if acks else 300.0
    services = {service: {"team": service, "customer_facing": True, "critical": severity == "SEV1",
                          "request_rate": 100, "error_rate": "0%", "latency_p99_ms": 300, "impact": {"error_rate": f"{IMPACT:.0%}"}}}
    for team in teams:
        if team != service:
            services[team] = {"team": team, "request_rate": 50, "error_rate": "0.1%", "latency_p99_ms": 200}
    title = record.title or "A real incident"
    slug = name or _name(title)
    return {
        "name": slug + ("-drill" if hidden else ""),
        "title": title + (" (drill: the resolution hidden)" if hidden else " (replay)"),
        "description": ((record.summary or title) if not hidden
                        else f"The incident of {detected.at:%Y-%m-%d}, as it was when it was detected; "
                             "what the team did next is for you to do."),
        "start": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "horizon": units.human(horizon),
        "team_rules": False,
        "services": services,
        "faults": [fault],
        "alerts": [{"alert": "RealIncidentDetected", "expr": f'error_rate{{service="{service}"}} > 0.05',
                    "for": units.human(alert_for), "labels": {"severity": "critical"},
                    "annotations": {"summary": _DETECTED.sub("", detected.text)[:200] or detected.text[:200]}}],
        "monitoring": {"group_wait": "0s", "scrape_interval": f"{SCRAPE:g}s", "evaluation_interval": f"{SCRAPE:g}s",
                       "escalation_timeout": units.human(escalation)},
        "truth": {"severity": severity, "root_cause": (record.root_cause or "not given in the records")[:2000],
                  "teams_needed": teams,  # those the real team paged: the records say no more
                  **({"fix": f"{fault['fixes'][0]} {service}"} if fault["fixes"] else {})},
    }


def _scale(level: str, process: Process, where: str, assumptions: list) -> str:
    """The scenario's expected severity for the process's ``level``: scenarios are written on the
    built-in scale (SEV1 to SEV4), which a process reads as its levels of the same rank."""
    rank = process.rank(level)
    if rank >= len(SEVERITIES):
        raise DrillError(f"{where}: {level} cannot be a replay's expected severity: a scenario gives it on the built-in "
                         f"scale {SEVERITIES[0]} to {SEVERITIES[-1]}, whose last is the process's "
                         f"{process.same_rank(SEVERITIES[-1])} (give --severity with a level up to that one)")
    if SEVERITIES[rank] != level:
        assumptions.append(f"expected severity {level}, written {SEVERITIES[rank]}: a scenario gives it on the built-in "
                           f"scale, which a process with levels {', '.join(process.severities)} reads as {level}")
    return SEVERITIES[rank]


def _recovery(span: float) -> int:
    """How long the fixed fault takes to fade so that the customer impact (errors above the 1%
    impact threshold, a 2% share of the replay's 50%) ends between one scrape before the
    recovered line and one second before it: the scrape at the line sees it over, the one
    before does not. Whole seconds, as the scenario file writes them."""
    share = IMPACT / MAGNITUDE
    return max(1, int((span - 1) / (1 - share)))


def _scenario_text(scenario: dict, record: Record, assumptions: list, hidden: bool) -> str:
    lines = [f"# {'A drill made from' if hidden else 'A replay of'} a real incident, imported by `drill import incident` "
             f"from {', '.join(record.files)}.",
             *[f"# Source: {s}" for s in record.sources],
             "# Assumptions (what the records do not say):", *[f"#   - {a}" for a in assumptions]]
    if any(m.assumed for m in record.moments) and not hidden:
        lines.append("# Times the records mark as assumed are marked so beside their actions in the script.")
    if hidden:
        lines.append("# Keep this file from the players: its fault and truth tell the ending.")
    return "\n".join(lines) + "\n" + yaml.safe_dump(scenario, sort_keys=False, allow_unicode=True, width=110)


def _clock(moment: dt.datetime, start: dt.datetime) -> str:
    """A script time: the clock time on the start's day, else an offset from the start (which a
    script checked on its own reads too)."""
    if moment.date() == start.date():
        return moment.strftime("%H:%M:%S" if moment.second else "%H:%M")
    return "+" + units.human((moment - start).total_seconds())


def _script(team: _Team, actions: list, notes: list, start: dt.datetime) -> str:
    oncall = team.seats.get("oncall") or team.who("oncall")
    lines = ["# The team's actions in the real incident, as a timeline script (drill run --script).",
             "# Each action says which line of the records it comes from.", "participants:"]
    for person in team.people or [oncall]:
        lines.append(f"  - {{name: {json.dumps(person)}" + (", oncall: primary}" if person == oncall else "}"))
    lines.append("actions:" if actions else "actions: []  # the records name no action of the team")
    events = sorted([(m.at, 0, m, a) for m, a in actions] + [(m.at, 1, m, None) for m in notes], key=lambda e: (e[0], e[1]))
    for at, _, m, act in events:
        if act is None:
            lines.append(f"  # {_clock(at, start)} {m.where}: {m.text[:160]} (not an action)")
            continue
        body = ", ".join(f"{k}: {json.dumps(v, ensure_ascii=False)}" for k, v in act.items())
        comment = f"  # {m.where}" + (f" ({at:%Y-%m-%d %H:%M:%S} UTC)" if at.date() != start.date() else "") + \
            (f"; {m.assumed}" if m.assumed else "")
        lines.append(f"  - {{at: {json.dumps(_clock(at, start))}, {body}}}{comment}")
    return "\n".join(lines) + "\n"


# --- the whole import -------------------------------------------------------------------


def import_incident(paths: list[Path], mapping: Path | None = None, name: str | None = None,
                    service: str | None = None, day: dt.date | None = None, severity: str | None = None,
                    hidden: bool = False, out: Path = Path(), process: Process | None = None) -> Imported:
    """Read the records, write the replay, and play it once: an action the drill rejects is
    listed with the line it came from (the records and the process disagree there). The files
    are for the folder ``out``: a replay that does not load names its line in them. The records
    name ``process``'s levels (a team's P1 to P5), and the replay runs under it."""
    process = process or Process()
    words = (load_words(mapping) + BUILTIN_WORDS) if mapping else BUILTIN_WORDS
    record = read(paths, words, day)
    if service:
        record.service = _name(service)
    if severity:
        record.severity, record.severity_where = severity, "--severity"
    made = build(record, name, hidden, words.kinds, process)
    return replace(made, unplayed=made.unplayed + _rejections(made, out, process))


def _rejections(made: Imported, out: Path, process: Process) -> list:
    """Play the replay once and list what the drill refused, with the line each action came from."""
    from ..model.engine import run_drill

    scenario_file, script_file = made.files(out)
    try:
        scenario = story.load_text(made.scenario, made.name, scenario_file)
        script = None if made.script is None else yamlfile.loaded_as(
            script_file, made.script, lambda path: load_script(path, scenario.start))
    except DrillError as exc:  # the importer's own mistake: say it as one, of the file it would have written
        raise DrillError(f"the imported replay would not load, so nothing was written: {exc}") from None
    if script is None:
        return []
    events = run_drill(scenario, process, script=script, samples=False).events
    origin = {i: line.split("# ", 1)[1] for i, line in
              enumerate(ln for ln in made.script.splitlines() if ln.startswith("  - {at:"))}
    order = {(a.do, a.by, t): i for i, (t, a) in enumerate(script.actions)}
    found = []
    for e in events:
        if e["kind"] == "action.rejected":
            index = order.get((e["do"], e["by"], e["t"]))
            found.append(f"{origin.get(index, '?')}: {e['do']} by {e['by']} at {e['at'][11:16]} was refused: {e['reason']}")
    return found
