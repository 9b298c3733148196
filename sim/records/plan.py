"""The quarter's plan and the IC rotation.

A plan file ``drills/<year>-Q<n>.yaml`` lists the quarter's drills: date, scenario (a
name or file, a random pick of a difficulty, or a generated one), who plays which role,
who shadows, live or simulated. A recorded drill carries out a planned entry when it
was recorded with ``drill run --plan FILE --entry N``, or, failing that, when it was
conducted on the entry's date with the entry's scenario. When several did, the first
counts and the others are duplicates.

The rotation reads the store: who led which role when, and who is overdue. A turn is
a drill in which the person was seated (live, or scripted as themselves); a drill the
bots played alone is nobody's turn. A proposal
makes the most overdue eligible person IC next, never the same IC twice in a row, and
has trainees shadow a role before they lead it.
"""

import datetime as dt
import functools
import random
import statistics
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..authoring.generate import DIFFICULTIES
from ..inputs import config, units, yamlfile
from ..inputs.actions import ROLES
from ..inputs.errors import DrillError
from ..inputs.yamlfile import one_of, text, whole
from .store import Drill, parse_quarter, quarter_bounds, roles_held

MODES = ("simulated", "live")


@dataclass(frozen=True)
class Entry:
    """One planned drill."""

    date: dt.date
    scenario: str | None = None  # a name in scenarios/ or a file
    random: str | None = None  # a difficulty: pick a library scenario of that difficulty
    generate: tuple[str, int] | None = None  # (difficulty, seed): made by ``drill generate``
    seed: int = 0
    mode: str = "simulated"
    roles: dict = field(default_factory=dict)  # role -> person
    shadows: dict = field(default_factory=dict)  # role -> (person, ...)

    def describe(self) -> str:
        if self.random:
            return f"random ({self.random})"
        if self.generate:
            return f"generated ({self.generate[0]}, seed {self.generate[1]})"
        return str(self.scenario)


@dataclass(frozen=True)
class Plan:
    quarter: str
    path: Path
    entries: tuple[Entry, ...]


def plan_path(quarter: str, folder=Path("drills")) -> Path:
    year, number_ = parse_quarter(quarter)
    return Path(folder) / f"{year}-Q{number_}.yaml"


def load_plan(path, roster: config.Roster | None = None, library: bool = True) -> Plan:
    """A quarter plan; every problem is reported as ``file:line: message``. Its people are
    checked against ``roster`` when given, its scenarios' names against today's library when
    ``library`` (a past quarter's plan may name someone who left, or a scenario since removed)."""
    path = Path(path)
    doc = yamlfile.document(path, "plan")
    check = doc.checker
    quarter = doc.get("quarter", text, path.stem)
    try:
        first, last = quarter_bounds(quarter)
        year, number_ = parse_quarter(quarter)
        quarter = f"{year}-Q{number_}"
    except DrillError as exc:
        check.problem(doc.line_of("quarter"), f"quarter: {exc} (name the file <year>-Q<n>.yaml or give quarter:)")
        first = last = None
    entries = []
    for line, raw in doc.items("drills"):
        where = f"drills[{len(entries)}]"
        f = check.mapping(raw, where, line)
        if f is None:
            continue
        entry = Entry(
            date=f.get("date", units.date, dt.date(2000, 1, 1), required=True),
            seed=f.get("seed", whole(), 0),
            mode=f.get("mode", one_of(*MODES), "simulated"),
        )
        if first and "date" in f.data and not first <= entry.date <= last:
            check.problem(f.line_of("date"), f"{where}.date: {entry.date} is not in {quarter} ({first} to {last})")
        entry = replace(entry, **_scenario_field(f, where, library))
        entry = replace(entry, **_people_fields(f, where, roster))
        f.done()
        entries.append(entry)
    if not entries and not check.problems:
        check.problem(doc.line, "plan: 'drills' must list at least one drill")
    doc.done()
    check.raise_problems()
    return Plan(quarter, path, tuple(entries))


def _scenario_field(f, where: str, library: bool) -> dict:
    raw, line = f.data.get("scenario"), f.line_of("scenario")
    f.get("scenario")
    if raw is None:
        f.checker.problem(f.line, f"{where}: missing required field 'scenario'")
        return {}
    if not isinstance(raw, dict):
        try:
            name = text(raw)
            if library:
                config.scenario_path(name)
        except ValueError as exc:
            f.checker.problem(line, f"{where}.scenario: {exc}")
            return {}
        except DrillError as exc:
            f.checker.problem(line, f"{where}.scenario: {exc}")
        return {"scenario": name}
    form = f.checker.mapping(raw, f"{where}.scenario", line)
    kinds = [k for k in ("random", "generate") if k in raw]
    if len(kinds) != 1 or len(raw) != 1:
        f.checker.problem(line, f"{where}.scenario: expected a name, {{random: {{difficulty: medium}}}} "
                                f"or {{generate: {{difficulty: medium, seed: 7}}}}")
        return {}
    spec = form.sub(kinds[0])
    if spec is None:
        return {}
    difficulty = spec.get("difficulty", one_of(*DIFFICULTIES), "medium", required=True)
    if kinds[0] == "random":
        spec.done()
        return {"random": difficulty}
    seed = spec.get("seed", whole(), 0, required=True)
    spec.done()
    return {"generate": (difficulty, seed)}


def _people_fields(f, where: str, roster: config.Roster | None) -> dict:
    roles = f.get("roles", _role_map(text), {})
    shadows = f.get("shadows", _role_map(config.text_list), {})
    known = {p.name: p for p in roster.people} if roster else None
    named = [(who, "roles", role) for role, who in roles.items()]
    named += [(who, "shadows", role) for role, people in shadows.items() for who in people]
    for who, key, role in named:
        if known is not None and who not in known:
            f.checker.problem(f.line_of(key), f"{where}.{key}.{role}: {who!r} is not in the roster")
    if known is not None and roles.get("ic") in known and not known[roles["ic"]].senior:
        f.checker.problem(f.line_of("roles"), f"{where}.roles.ic: {roles['ic']} is not senior (only seniors are IC)")
    leads = list(roles.values())
    for who in sorted(yamlfile.repeated(leads)):
        f.checker.problem(f.line_of("roles"), f"{where}.roles: {who} holds more than one role")
    shadowing = [w for people in shadows.values() for w in people]
    for who in sorted(set(shadowing) & set(leads)):
        f.checker.problem(f.line_of("shadows"), f"{where}.shadows: {who} already leads a role in this drill")
    # each shadowing counts towards leading that role (shadow_before_lead): once per drill, one role
    for who in sorted(yamlfile.repeated(shadowing)):
        f.checker.problem(f.line_of("shadows"), f"{where}.shadows: {who} is named more than once (one role a drill)")
    return {"roles": roles, "shadows": shadows}


def _role_map(convert):
    def roles(value) -> dict:
        if not isinstance(value, dict):
            raise ValueError("expected a mapping of role to person, e.g. {ic: alex, comms: sam, ops: dana}")
        for role in value:
            if role not in ROLES:
                raise ValueError(f"unknown role {role!r} (known: {', '.join(ROLES)})")
        return {str(role): convert(who) for role, who in value.items()}
    return roles


# --- scenarios of a difficulty -------------------------------------------------------


def difficulty(path) -> str:
    """The band of a scenario's median score when the built-in bots run it (as ``drill generate`` bands)."""
    path = Path(path)
    return _band(str(path.resolve()), path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=256)
def _band(path: str, _version: int) -> str:
    # Measuring runs five drills; a process that resolves several entries (or a plan and then
    # its report) measures each file once, again only when the file changed.
    from ..authoring.generate import band_of, measure

    return band_of(statistics.median(measure(config.load_scenario(path))))


def resolve(plan: Plan, index: int, bands: dict | None = None) -> str | None:
    """The scenario entry ``index`` (1-based) runs: its name, a random pick of its difficulty
    (the same pick every time: seeded by the quarter and the entry), or None when generated."""
    entry = plan.entries[index - 1]
    if entry.scenario:
        return entry.scenario
    if entry.generate:
        return None
    bands = bands if bands is not None else {p.stem: difficulty(p) for p in config.library()}
    fitting = sorted(name for name, band in bands.items() if band == entry.random)
    if not fitting:
        raise DrillError(f"{plan.path}: drill {index}: no scenario in the library is {entry.random}")
    return random.Random(f"{plan.quarter}/{index}").choice(fitting)


def scenario_names(plan: Plan) -> dict[int, str | None]:
    """Entry number -> the scenario it runs (``resolve``), measuring the library's bands once if needed."""
    bands = {p.stem: difficulty(p) for p in config.library()} if any(e.random for e in plan.entries) else {}
    return {index: resolve(plan, index, bands) for index in range(1, len(plan.entries) + 1)}


def carried_out(plan: Plan, drills: list[Drill], names: dict[int, str | None]) -> dict[int, list[Drill]]:
    """Entry number -> the recorded drills that carried it out (see the module docstring)."""
    found: dict[int, list[Drill]] = {index: [] for index in range(1, len(plan.entries) + 1)}
    for d in drills:
        if d.plan_quarter == plan.quarter:  # run with --plan --entry (an entry since taken out of the file: none)
            found.get(d.plan_entry, []).append(d)
            continue
        # A drill held on an entry's date with its scenario carries out one entry, never two: of
        # entries alike (the same day and story twice), the first one no drill carries out yet.
        alike = [index for index, entry in enumerate(plan.entries, 1)
                 if d.conducted == entry.date.isoformat() and d.scenario == names.get(index)]
        if alike:
            found[next((index for index in alike if not found[index]), alike[0])].append(d)
    return found


def duplicates(done: dict[int, list[Drill]]) -> dict[int, int]:
    """Drill id -> the drill that counts for the same plan entry (the first one recorded)."""
    return {d.id: drills[0].id for drills in done.values() for d in drills[1:]}


def counted(drills: list[Drill]) -> list[Drill]:
    """``drills`` but the duplicates of a plan entry, for every quarter whose plan file is in
    ``drills/``: a duplicate counts nowhere, so the rotation takes no turn from it. The plans are
    read without the roster or the library: which drill carries out an entry depends on neither,
    and an old plan may name someone who has since left, or a scenario since removed."""
    repeated: set[int] = set()
    for quarter in sorted({d.quarter for d in drills}):
        path = plan_path(quarter)
        if path.exists():
            loaded = load_plan(path, library=False)
            done = carried_out(loaded, [d for d in drills if d.quarter == quarter], scenario_names(loaded))
            repeated |= duplicates(done).keys()
    return [d for d in drills if d.id not in repeated]


def status(drills: list[Drill]) -> str:
    """Which drill carries out a plan entry (the first recorded), whether it kept to the plan,
    and which later drills are duplicates that do not count."""
    if not drills:
        return "not run"
    first, *more = drills
    text = f"drill {first.id} counts" + (" (simulated: bots only)" if first.simulated else "")
    if first.plan_deviations:
        text += "; off plan: " + "; ".join(first.plan_deviations)
    if more:
        text += f"; duplicate{'s' * (len(more) > 1)}, not counted: {', '.join(str(d.id) for d in more)}"
    return text


def deviations(roles: dict, events: list[dict]) -> list[str]:
    """How a drill departed from its plan entry's ``roles`` (role -> person), and why (empty:
    the plan was honoured)."""
    held = roles_held(events)
    found = []
    for role, planned in roles.items():
        lead = next((r["person"] for r in held if r["role"] == role and r["lead"]), None)
        if lead == planned:
            continue
        mine = next((r["held_s"] for r in held if r["role"] == role and r["person"] == planned), None)
        if lead is None:
            declared = any(e["kind"] == "incident.declared" for e in events)
            why = "nobody held the role" if declared else "no incident was declared, so nobody held a role"
        elif mine is None:
            why = f"{planned} was never given the role; {lead} led it"
        else:
            why = f"{planned} held it {units.human(mine)}, {lead} longer"
        found.append(f"{role}: planned {planned}, {why}")
    return found


def roster_for(entry: Entry, roster: config.Roster) -> config.Roster:
    """The roster a simulated run of ``entry`` uses, so that the bots staff the planned roles:
    only the planned person is trained for a planned role, and the planned ops lead is on
    call (the on-call engineer who acknowledges becomes the Operations Lead)."""
    planned = entry.roles
    ops = roster.person(planned["ops"]) if "ops" in planned else None
    people = []
    for p in roster.people:
        mine = tuple(role for role, who in planned.items() if who == p.name)
        trained = tuple(r for r in p.trained if r not in planned) + mine
        oncall = p.oncall
        if ops is not None and ops.oncall != "primary":
            # The planned ops lead takes the primary's pager; the primary takes theirs.
            oncall = "primary" if p.name == ops.name else (ops.oncall if p.oncall == "primary" else p.oncall)
        people.append(replace(p, trained=trained, oncall=oncall))
    return replace(roster, people=tuple(people))


# --- the rotation --------------------------------------------------------------------


@dataclass
class Record:
    """One person's history in one role."""

    count: int = 0
    last: str | None = None
    shadowed: int = 0


@dataclass
class Standing:
    name: str
    team: str
    roles: dict  # role -> Record
    ic_scores: list  # (conducted, score) of the drills they led as IC

    @property
    def never_ic(self) -> bool:
        return self.roles["ic"].count == 0


@dataclass
class Rotation:
    standings: list  # every senior engineer, most overdue for IC first
    drills: int  # drills considered (up to the end of the quarter)
    quarter_drills: int  # drills in the quarter itself (or all, without one)
    ic_share: dict  # person -> drills led as IC in the quarter
    simulated: int = 0  # of the quarter's drills, those the bots played alone (nobody's turn)

    @property
    def turns(self) -> int:
        """The quarter's drills in which someone was seated: the ones IC turns come from."""
        return self.quarter_drills - self.simulated

    @property
    def never_ic(self) -> list[str]:
        return [s.name for s in self.standings if s.never_ic]

    @property
    def single_points_of_failure(self) -> list[str]:
        """Anyone who led more than half of the quarter's drills with people as IC (of two or more)."""
        if self.turns < 2:
            return []
        return sorted(n for n, c in self.ic_share.items() if c > self.turns / 2)


def history(roster: config.Roster, drills: list[Drill]) -> dict[str, Standing]:
    """Everyone's record in every role, from drills in the order they were conducted."""
    standings = {p.name: Standing(p.name, p.team, {r: Record() for r in ROLES}, []) for p in roster.people}
    for d in drills:
        for role in ROLES:
            lead = d.turn(role)
            if lead is not None:
                s = standings.setdefault(lead, Standing(lead, "", {r: Record() for r in ROLES}, []))
                s.roles[role].count += 1
                s.roles[role].last = d.conducted
                if role == "ic":
                    s.ic_scores.append((d.conducted, d.score))
            for who in d.shadows(role):
                if who in standings and not d.simulated:  # nobody shadows a drill the bots played alone
                    standings[who].roles[role].shadowed += 1
    return standings


def _overdue(record: Record, name: str):
    """Sort key: never served first, then longest ago, then fewest times, then by name."""
    return (record.last is not None, record.last or "", record.count, name)


def rotation(roster: config.Roster, drills: list[Drill], quarter: str | None = None) -> Rotation:
    if quarter is not None:
        last_day = quarter_bounds(quarter)[1].isoformat()
        drills = [d for d in drills if d.conducted <= last_day]
    in_quarter = [d for d in drills if quarter is None or d.quarter == quarter]
    standings = history(roster, drills)
    seniors = [standings[p.name] for p in roster.people if p.senior]
    seniors.sort(key=lambda s: _overdue(s.roles["ic"], s.name))
    share: dict[str, int] = {}
    for d in in_quarter:
        if d.turn("ic"):
            share[d.turn("ic")] = share.get(d.turn("ic"), 0) + 1
    return Rotation(seniors, len(drills), len(in_quarter), share, sum(d.simulated for d in in_quarter))


def _may_lead(person: config.Person, role: str, record: Record, shadow_before_lead: int) -> bool:
    if role == "ic" and not person.senior:
        return False
    return role in person.trained or (role in person.training and record.shadowed >= shadow_before_lead)


def propose(roster: config.Roster, drills: list[Drill], quarter: str, count: int = 3) -> tuple[list[Entry], list[str]]:
    """The next quarter's drills and, for each, why each person got their role."""
    first, last = quarter_bounds(quarter)
    drills = [d for d in drills if d.conducted < first.isoformat()]
    standings = history(roster, drills)
    previous_ic = next((d.turn("ic") for d in reversed(drills) if d.turn("ic")), None)
    entries, reasons = [], []
    for index in range(count):
        day = _drill_day(first, last, index, count)
        roles, why, taken = {}, [], set()
        for role in ("ic", "comms", "ops"):
            eligible = [p for p in roster.people if p.name not in taken and (role != "ic" or p.name != previous_ic)
                        and _may_lead(p, role, standings[p.name].roles[role], roster.shadow_before_lead)]
            if not eligible:
                if role == "ic":
                    raise DrillError("nobody can be IC without serving twice in a row: "
                                     "train another senior engineer for IC (trained: [ic]) in the roster")
                continue
            chosen = min(eligible, key=lambda p: _overdue(standings[p.name].roles[role], p.name))
            record = standings[chosen.name].roles[role]
            roles[role] = chosen.name
            taken.add(chosen.name)
            why.append(f"{role}: {chosen.name} ({'never led ' + role if record.last is None else 'last led ' + role + ' ' + record.last})")
        shadows = {}
        for role in ROLES:
            learners = [p for p in roster.people if p.name not in taken and role in p.training
                        and standings[p.name].roles[role].shadowed < roster.shadow_before_lead]
            if learners:
                chosen = min(learners, key=lambda p: (standings[p.name].roles[role].shadowed, p.name))
                shadows[role] = (chosen.name,)
                taken.add(chosen.name)
                standings[chosen.name].roles[role].shadowed += 1
                why.append(f"{role} shadow: {chosen.name} (training for {role})")
        for role, who in roles.items():
            standings[who].roles[role].count += 1
            standings[who].roles[role].last = day.isoformat()
        previous_ic = roles["ic"]
        # Live: a turn is held in person (a simulated run would be nobody's turn; see ``history``).
        entries.append(Entry(day, random=DIFFICULTIES[index % len(DIFFICULTIES)], seed=index + 1, mode="live",
                             roles=roles, shadows=shadows))
        reasons.append("; ".join(why))
    return entries, reasons


def _drill_day(first: dt.date, last: dt.date, index: int, count: int) -> dt.date:
    """Drills spread evenly over the quarter, each moved forward to a Wednesday."""
    span = (last - first).days + 1
    day = first + dt.timedelta(days=span * index // count + 7)
    return day + dt.timedelta(days=(2 - day.weekday()) % 7)


def plan_yaml(quarter: str, entries: list[Entry], reasons: list[str], note: str = "") -> str:
    """A plan file's text, with each assignment's reason as a comment."""
    lines = [f"# Drills for {quarter}, proposed by `drill rotation --propose {quarter}`.",
             "# The most overdue eligible person is IC; nobody is IC twice in a row; trainees shadow first.",
             "# Each drill is live, so the people named hold their roles in person: `drill serve --plan FILE --entry N`",
             "# (or replay a tabletop with `drill run --plan FILE --entry N --script FILE`).",
             *([f"# {note}"] if note else []), f"quarter: {quarter}", "drills:"]
    for entry, why in zip(entries, reasons):
        scenario = (f"{{random: {{difficulty: {entry.random}}}}}" if entry.random else
                    f"{{generate: {{difficulty: {entry.generate[0]}, seed: {entry.generate[1]}}}}}" if entry.generate
                    else entry.scenario)
        lines += [f"  # {why}", f"  - date: {entry.date.isoformat()}", f"    scenario: {scenario}",
                  f"    seed: {entry.seed}", f"    mode: {entry.mode}",
                  f"    roles: {{{', '.join(f'{r}: {w}' for r, w in entry.roles.items())}}}"]
        if entry.shadows:
            shadows = ", ".join(f"{role}: [{', '.join(who)}]" for role, who in entry.shadows.items())
            lines.append(f"    shadows: {{{shadows}}}")
    return "\n".join(lines) + "\n"

