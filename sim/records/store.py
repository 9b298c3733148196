"""The drill store: every drill ever run, in an embedded SQLite database.

A drill is written in one transaction (``BEGIN IMMEDIATE``), so an interrupted write
leaves no half drill; WAL mode and a busy timeout let two drills recorded at once
both arrive. The schema is versioned with ``PRAGMA user_version`` and migrates
forward when an older store is opened. Reports read their numbers from here, never
from re-running drills.
"""

import datetime as dt
import json
import os
import sqlite3
import time
import zlib
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ..inputs import units
from ..inputs.errors import DrillError
from ..outputs.report import thresholds

DEFAULT_PATH = Path("drills") / "drills.db"
BUSY_TIMEOUT_MS = 30_000

# Each entry moves the schema one version forward; never edit a released one, append.
MIGRATIONS = (
    # 1: drills, who took part, the roles they held, the event log.
    """
    CREATE TABLE drills (
        id INTEGER PRIMARY KEY,
        conducted TEXT NOT NULL,
        scenario TEXT NOT NULL,
        seed INTEGER,
        variant TEXT NOT NULL,
        score REAL NOT NULL,
        metrics TEXT NOT NULL,
        checklist TEXT NOT NULL
    );
    CREATE TABLE participants (
        drill_id INTEGER NOT NULL REFERENCES drills(id) ON DELETE CASCADE,
        name TEXT NOT NULL, bot INTEGER NOT NULL, oncall TEXT,
        PRIMARY KEY (drill_id, name)
    );
    CREATE TABLE roles (
        drill_id INTEGER NOT NULL REFERENCES drills(id) ON DELETE CASCADE,
        person TEXT NOT NULL, role TEXT NOT NULL, held_s REAL NOT NULL, lead INTEGER NOT NULL
    );
    CREATE TABLE events (
        drill_id INTEGER NOT NULL REFERENCES drills(id) ON DELETE CASCADE,
        seq INTEGER NOT NULL, kind TEXT NOT NULL, data TEXT NOT NULL,
        PRIMARY KEY (drill_id, seq)
    );
    CREATE INDEX drills_conducted ON drills(conducted);
    """,
    # 2: how the drill was run and what it was planned as; shadows; what to re-render from.
    """
    ALTER TABLE drills ADD COLUMN title TEXT NOT NULL DEFAULT '';
    ALTER TABLE drills ADD COLUMN mode TEXT NOT NULL DEFAULT 'simulated';
    ALTER TABLE drills ADD COLUMN scenario_start TEXT;
    ALTER TABLE drills ADD COLUMN components TEXT NOT NULL DEFAULT '{}';
    ALTER TABLE drills ADD COLUMN declare_target_s REAL;
    ALTER TABLE drills ADD COLUMN plan_quarter TEXT;
    ALTER TABLE drills ADD COLUMN plan_entry INTEGER;
    ALTER TABLE drills ADD COLUMN recorded_at TEXT;
    ALTER TABLE roles ADD COLUMN shadow INTEGER NOT NULL DEFAULT 0;
    UPDATE drills SET title = scenario WHERE title = '';
    """,
    # 3: the customer-facing metrics behind timeline.png, as zlib-compressed JSON.
    """
    CREATE TABLE samples (
        drill_id INTEGER PRIMARY KEY REFERENCES drills(id) ON DELETE CASCADE,
        data BLOB NOT NULL
    );
    """,
    # 4: voided drills stay in the store with the reason; whether a planned drill kept to its plan.
    """
    ALTER TABLE drills ADD COLUMN voided TEXT;
    ALTER TABLE drills ADD COLUMN void_reason TEXT;
    ALTER TABLE drills ADD COLUMN plan_deviations TEXT;
    ALTER TABLE drills ADD COLUMN why TEXT NOT NULL DEFAULT '{}';
    """,
    # 5: each seated person's own duties (the scorecard's ``people``), so a live drill re-renders whole.
    """
    ALTER TABLE drills ADD COLUMN duties TEXT;
    """,
)
VERSION = len(MIGRATIONS)
MODES = ("simulated", "live", "script", "real")  # real: an incident replayed, never a drill


def default_path() -> Path:
    """``DRILLSIM_STORE`` if set, else ``drills/drills.db`` relative to the working directory."""
    return Path(os.environ.get("DRILLSIM_STORE") or DEFAULT_PATH)


def connect(path=None, create: bool = True) -> sqlite3.Connection:
    """An open connection to the store at ``path``, migrated to the current schema."""
    path = Path(path) if path is not None else default_path()
    if not create and not path.exists():
        raise DrillError(f"{path}: no drill store here yet (run a drill first, or give --store)")
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        except sqlite3.Error as exc:  # a folder it may not write in, a link to nowhere
            raise DrillError(f"{path}: not a usable drill store: {exc}") from None
        try:
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA foreign_keys = ON")
            migrate(conn)
            return conn
        except sqlite3.OperationalError as exc:
            conn.close()
            # Switching a new store to WAL needs it to itself, and SQLite reports that as
            # "locked" at once rather than waiting: try again while another writer sets it up.
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise DrillError(f"{path}: not a usable drill store: {exc}") from None
            time.sleep(0.02)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise DrillError(f"{path}: not a usable drill store: {exc}") from None


def migrate(conn: sqlite3.Connection, upto: int = VERSION) -> int:
    """Apply the migrations the store has not seen yet, each in its own transaction."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]  # a read: no write lock, so readers never wait
    if version > VERSION:
        raise DrillError(f"the drill store has schema version {version}, newer than this drillsim ({VERSION}); upgrade drillsim")
    for number in range(version + 1, upto + 1):
        with transaction(conn):
            # Re-read inside the write lock: another process may have migrated meanwhile.
            if conn.execute("PRAGMA user_version").fetchone()[0] >= number:
                continue
            for statement in MIGRATIONS[number - 1].split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number}")
    return conn.execute("PRAGMA user_version").fetchone()[0]


@contextmanager
def transaction(conn: sqlite3.Connection):
    """One write transaction: all of it is committed, or none of it."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


# --- writing -----------------------------------------------------------------------


def roles_held(events: list[dict]) -> list[dict]:
    """Who held which role and for how long; the ``lead`` of a role held it longest.

    A role is held from its assignment until it is handed on or the incident ends
    (resolved, stood down, or the end of the drill).
    """
    end = next((e["t"] for e in events if e["kind"] in ("incident.resolved", "incident.stood_down")),
               events[-1]["t"] if events else 0.0)
    held: dict[tuple[str, str], float] = {}
    current: dict[str, tuple[str, float]] = {}
    for e in events:
        if e["kind"] == "role.assigned" and e["t"] <= end:
            if e["role"] in current:
                who, since = current[e["role"]]
                held[who, e["role"]] = held.get((who, e["role"]), 0.0) + e["t"] - since
            current[e["role"]] = (e["who"], e["t"])
            held.setdefault((e["who"], e["role"]), 0.0)
    for role, (who, since) in current.items():
        held[who, role] += end - since
    rows = []
    for (who, role), seconds in held.items():
        longest = max(s for (_, r), s in held.items() if r == role)
        first = next(w for (w, r), s in held.items() if r == role and s == longest)
        rows.append({"person": who, "role": role, "held_s": round(seconds, 1), "lead": who == first})
    return rows


def record(result, card: dict, *, conducted: dt.date | str | None = None, variant: str = "default",
           mode: str = "simulated", plan: str | None = None, entry: int | None = None,
           shadows: dict | None = None, deviations: list[str] | None = None, path=None) -> int:
    """Keep one drill (the engine's ``DrillResult`` and its scorecard) and return its id.

    ``conducted`` is the day the drill took place (default: today, UTC); ``plan`` and
    ``entry`` name the quarter plan entry it carries out (``"2026-Q4"``, 1-based);
    ``shadows`` maps a role to the people who shadowed whoever led it; ``deviations``
    says how a planned drill departed from its plan (``[]``: it kept to it).
    """
    if mode not in MODES:
        raise DrillError(f"unknown drill mode {mode!r} (known: {', '.join(MODES)})")
    day = units.date(conducted) if conducted is not None else dt.datetime.now(dt.timezone.utc).date()
    scenario, process, events = result.scenario, result.process, result.events
    level = process.level(process.truth(scenario.truth).severity)
    row = {
        "conducted": day.isoformat(), "scenario": scenario.name, "title": scenario.title, "seed": result.seed,
        "variant": variant, "mode": mode, "score": card["score"], "scenario_start": units.iso(scenario.start, 0),
        "metrics": json.dumps(card["metrics"]), "checklist": json.dumps(card["checklist"]),
        "components": json.dumps(card["components"]), "why": json.dumps(card.get("why", {})),
        "duties": json.dumps(card["people"]) if "people" in card else None,
        "declare_target_s": level.response if level is not None and not scenario.truth.false_alarm else None,
        "plan_quarter": plan, "plan_entry": entry,
        "plan_deviations": json.dumps(deviations) if plan is not None and deviations is not None else None,
        "recorded_at": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    conn = connect(path)
    try:
        with transaction(conn):
            if mode == "real":
                _refuse_recorded_again(conn, row["scenario"], row["scenario_start"], real=True)
            drill_id = conn.execute(
                f"INSERT INTO drills ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", list(row.values())
            ).lastrowid
            conn.executemany("INSERT INTO participants VALUES (?, ?, ?, ?)",
                             [(drill_id, p["name"], int(p["bot"]), p["oncall"]) for p in result.participants])
            roles = roles_held(events)
            roles += [{"person": who, "role": role, "held_s": 0.0, "lead": False, "shadow": True}
                      for role, people in (shadows or {}).items() for who in people]
            conn.executemany("INSERT INTO roles (drill_id, person, role, held_s, lead, shadow) VALUES (?, ?, ?, ?, ?, ?)",
                             [(drill_id, r["person"], r["role"], r["held_s"], int(r["lead"]), int(r.get("shadow", False)))
                              for r in roles])
            conn.executemany("INSERT INTO events VALUES (?, ?, ?, ?)",
                             ((drill_id, seq, e["kind"], json.dumps(e, separators=(",", ":")))
                              for seq, e in enumerate(events)))
            if result.samples:
                facing = list(scenario.facing)  # every service when none is customer-facing, as the plot
                kept = {"services": facing, "samples": [[t, {n: sample[n] for n in facing}] for t, sample in result.samples],
                        "thresholds": thresholds(scenario)}
                conn.execute("INSERT INTO samples VALUES (?, ?)",
                             (drill_id, zlib.compress(json.dumps(kept, separators=(",", ":")).encode())))
    finally:
        conn.close()
    return drill_id


def _refuse_recorded_again(conn: sqlite3.Connection, scenario: str, start: str, real: bool) -> None:
    """A real incident is one record: the same one again (its scenario, started at the same
    time) as a real incident (``real``) or as a drill of record would count it twice."""
    first = conn.execute("SELECT id, mode, recorded_at FROM drills WHERE voided IS NULL AND scenario = ?"
                         " AND scenario_start = ?" + ("" if real else " AND mode = 'real'") + " ORDER BY id LIMIT 1",
                         (scenario, start)).fetchone()
    if first is None:
        return
    what = f"{scenario} (started {start})"
    kept = (f"{'real incident' if first['mode'] == 'real' else 'drill'} {first['id']} "
            f"(recorded {(first['recorded_at'] or '?')[:10]})")
    if not real:
        raise DrillError(f"{what} is {kept} in the store: a drill of record of it would count that incident again, as "
                         "a drill; drill it with its drill version (drill import incident --as-drill), or run it "
                         "without --record or --date to explore it")
    why = "recorded again" if first["mode"] == "real" else "the real incident, not a drill"
    raise DrillError(f"real incident {what} is already recorded, as {kept}: to replace it, drill void {first['id']} "
                     f"--reason \"{why}\", then record it again")


def check_not_recorded(scenario, real: bool, path=None) -> None:
    """Refuse, before any output is written, an unusable store, or ``scenario``'s real incident
    recorded already (``real``: as a real incident or a drill; else as a real incident)."""
    conn = connect(path)
    try:
        _refuse_recorded_again(conn, scenario.name, units.iso(scenario.start, 0), real)
    finally:
        conn.close()


def once(incidents: list["Drill"]) -> list["Drill"]:
    """Real incidents, each once: the first recorded (a store written before recording one again
    was refused may hold it twice)."""
    first: dict[tuple, Drill] = {}
    for d in incidents:
        first.setdefault((d.scenario, d.scenario_start), d)
    return [d for d in incidents if first[(d.scenario, d.scenario_start)] is d]


def void(drill_id: int, reason: str, path=None) -> None:
    """Mark a drill as not a drill of record (a test, a mistake), keeping it and the reason:
    history still shows it; the rotation, the plan and the quarterly report leave it out."""
    if not reason.strip():
        raise DrillError("say why the drill is void: --reason \"a test run, not a drill\"")
    conn = connect(path, create=False)
    try:
        with transaction(conn):
            row = conn.execute("SELECT voided FROM drills WHERE id = ?", (drill_id,)).fetchone()
            if row is None:
                raise DrillError(f"no drill {drill_id} in the store")
            if row["voided"]:
                raise DrillError(f"drill {drill_id} was already voided on {row['voided'][:10]}")
            conn.execute("UPDATE drills SET voided = ?, void_reason = ? WHERE id = ?",
                         (dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), reason.strip(), drill_id))
    finally:
        conn.close()


# --- reading -----------------------------------------------------------------------


def quarter_of(day: dt.date | str) -> str:
    day = units.date(day)
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def quarter_bounds(quarter: str) -> tuple[dt.date, dt.date]:
    """First and last day of ``2026-Q4``."""
    year, number = parse_quarter(quarter)
    first = dt.date(year, 3 * number - 2, 1)
    after = dt.date(year + (number == 4), 1 if number == 4 else 3 * number + 1, 1)
    return first, after - dt.timedelta(days=1)


def parse_quarter(quarter: str) -> tuple[int, int]:
    text = str(quarter).strip().upper()
    try:
        year, number = text.split("-Q")
        year_, number_ = int(year), int(number)
    except ValueError:
        raise DrillError(f"expected a quarter such as 2026-Q4, got {quarter!r}") from None
    if not 1 <= number_ <= 4 or not 1900 < year_ < 3000:
        raise DrillError(f"expected a quarter such as 2026-Q4, got {quarter!r}")
    return year_, number_


def shift_quarter(quarter: str, by: int) -> str:
    year, number = parse_quarter(quarter)
    index = year * 4 + number - 1 + by
    return f"{index // 4}-Q{index % 4 + 1}"


@dataclass(frozen=True)
class Drill:
    """One recorded drill as read back from the store."""

    id: int
    conducted: str
    scenario: str
    title: str
    seed: int | None
    variant: str
    mode: str
    score: float
    metrics: dict
    checklist: dict
    components: dict
    declare_target_s: float | None
    scenario_start: str | None
    plan_quarter: str | None
    plan_entry: int | None
    participants: tuple[dict, ...]
    roles: tuple[dict, ...]
    voided: str | None = None
    void_reason: str | None = None
    plan_deviations: tuple[str, ...] | None = None  # None: not planned, or recorded before this was kept
    why: dict = field(default_factory=dict)  # checklist item -> why it was missed (scoring.why_missed)
    # person -> their own duties (the scorecard's ``people``); None: scored without, or recorded before they were kept
    duties: dict | None = None

    @property
    def quarter(self) -> str:
        return quarter_of(self.conducted)

    @property
    def card(self) -> dict:
        """The scorecard as it was scored and recorded (``scoring.score``'s), each person's own duties
        with it where they were kept."""
        card = {"metrics": self.metrics, "checklist": self.checklist, "components": self.components,
                "score": self.score, "why": self.why}
        if self.duties is not None:
            card["people"] = self.duties
        return card

    @property
    def people(self) -> list[str]:
        """The people seated in the drill (live, or scripted as themselves), not bots."""
        return [p["name"] for p in self.participants if not p["bot"]]

    @property
    def simulated(self) -> bool:
        """Played entirely by bots: nobody's turn at any role."""
        return not self.people

    @property
    def real(self) -> bool:
        """A real incident replayed from its records: scored as a drill is, never a drill or a turn."""
        return self.mode == "real"

    def turn(self, role: str) -> str | None:
        """Who led ``role`` in person: the lead when they were seated, else None (a bot played them)."""
        lead = self.lead(role)
        return lead if lead in self.people else None

    def lead(self, role: str) -> str | None:
        """Who led ``role`` in this drill (held it longest), if anyone did."""
        return next((r["person"] for r in self.roles if r["role"] == role and r["lead"]), None)

    def shadows(self, role: str) -> list[str]:
        return [r["person"] for r in self.roles if r["role"] == role and r["shadow"]]

    def as_row(self) -> dict:
        """A flat record for CSV and JSON lines: one column per metric and checklist item."""
        row = {"id": self.id, "conducted": self.conducted, "quarter": self.quarter, "scenario": self.scenario,
               "title": self.title, "seed": self.seed, "variant": self.variant, "mode": self.mode,
               "score": self.score, "ic": self.lead("ic"), "comms": self.lead("comms"), "ops": self.lead("ops"),
               "participants": " ".join(p["name"] for p in self.participants), "people": " ".join(self.people),
               "plan": f"{self.plan_quarter}#{self.plan_entry}" if self.plan_quarter else None,
               "declare_target_s": self.declare_target_s, "voided": self.voided, "void_reason": self.void_reason}
        row.update({k: v for k, v in self.metrics.items() if not isinstance(v, list)})
        row.update({f"checklist.{k}": v for k, v in self.checklist.items()})
        return row


def drills(path=None, *, quarter: str | None = None, until: str | None = None, person: str | None = None,
           ids: list[int] | None = None, voided: bool = False, real: bool | None = False) -> list[Drill]:
    """Recorded drills in the order they were conducted, optionally one quarter's, up to
    the end of quarter ``until``, those ``person`` took part in (seated or shadowing, never
    played by a bot), or the given ids; voided
    drills only with ``voided=True`` (or when asked for by id). Real incidents (``mode: real``)
    are no drills: only ``real=True`` returns them (and only them), ``real=None`` both.
    A store that does not exist yet holds no drills."""
    path = Path(path) if path is not None else default_path()
    if not path.exists():
        return []
    conn = connect(path)
    try:
        where, args = [], []
        if quarter is not None:
            where.append("conducted BETWEEN ? AND ?")
            args += [d.isoformat() for d in quarter_bounds(quarter)]
        if until is not None:
            where.append("conducted <= ?")
            args.append(quarter_bounds(until)[1].isoformat())
        if person is not None:
            # Took part: seated, or shadowing a drill with people (nobody shadows a drill the bots
            # played alone); a bot playing them is not them, as it is nobody's turn.
            where.append("(id IN (SELECT drill_id FROM participants WHERE name = ? AND NOT bot)"
                         " OR id IN (SELECT drill_id FROM roles WHERE person = ? AND shadow"
                         " AND drill_id IN (SELECT drill_id FROM participants WHERE NOT bot)))")
            args += [person, person]
        if ids is not None:
            where.append(f"id IN ({', '.join('?' * len(ids))})")
            args += list(ids)
        elif not voided:
            where.append("voided IS NULL")
        if ids is None and real is not None:
            where.append("mode = 'real'" if real else "mode != 'real'")
        chosen = "SELECT id FROM drills" + (" WHERE " + " AND ".join(where) if where else "")
        rows = conn.execute(f"SELECT * FROM drills WHERE id IN ({chosen}) ORDER BY conducted, id", args).fetchall()
        people: dict[int, list] = {}
        for p in conn.execute(f"SELECT * FROM participants WHERE drill_id IN ({chosen}) ORDER BY drill_id, rowid", args):
            people.setdefault(p["drill_id"], []).append({"name": p["name"], "bot": bool(p["bot"]), "oncall": p["oncall"]})
        held: dict[int, list] = {}
        for r in conn.execute(f"SELECT * FROM roles WHERE drill_id IN ({chosen}) ORDER BY drill_id, rowid", args):
            held.setdefault(r["drill_id"], []).append(
                {"person": r["person"], "role": r["role"], "held_s": r["held_s"], "lead": bool(r["lead"]), "shadow": bool(r["shadow"])})
    finally:
        conn.close()
    return [Drill(r["id"], r["conducted"], r["scenario"], r["title"], r["seed"], r["variant"], r["mode"], r["score"],
                  json.loads(r["metrics"]), json.loads(r["checklist"]), json.loads(r["components"]),
                  r["declare_target_s"], r["scenario_start"], r["plan_quarter"], r["plan_entry"],
                  tuple(people.get(r["id"], [])), tuple(held.get(r["id"], [])), r["voided"], r["void_reason"],
                  None if r["plan_deviations"] is None else tuple(json.loads(r["plan_deviations"])),
                  json.loads(r["why"]), None if r["duties"] is None else json.loads(r["duties"])) for r in rows]


def drill(drill_id: int, path=None) -> Drill:
    found = drills(path, ids=[drill_id])
    if not found:
        raise DrillError(f"no drill {drill_id} in the store")
    return found[0]


def samples(drill_id: int, path=None) -> tuple[list[str], list, list[dict]] | None:
    """The customer-facing services (every service when none is), their metric samples ``(t, {service: (error_rate,
    latency_p99_ms)})`` and the alert thresholds drawn over them (``report.thresholds``) of one
    recorded drill; None when it was run without samples."""
    conn = connect(path, create=False)
    try:
        row = conn.execute("SELECT data FROM samples WHERE drill_id = ?", (drill_id,)).fetchone()
    finally:
        conn.close()
    if row is None:
        return None
    kept = json.loads(zlib.decompress(row["data"]))
    return (kept["services"], [(t, {n: tuple(v) for n, v in sample.items()}) for t, sample in kept["samples"]],
            kept.get("thresholds", []))  # drills recorded before thresholds were kept have none


def events(drill_id: int, path=None) -> list[dict]:
    """The full event log of one recorded drill."""
    conn = connect(path, create=False)
    try:
        rows = conn.execute("SELECT data FROM events WHERE drill_id = ? ORDER BY seq", (drill_id,)).fetchall()
    finally:
        conn.close()
    return [json.loads(r["data"]) for r in rows]
