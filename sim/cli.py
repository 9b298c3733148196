"""The ``drill`` command: a thin shell over the Python API."""

import importlib.metadata
import importlib.util
import json
import math
import os
import sys
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

import click

from .inputs.errors import DrillError
from .live import web


class _UserError(click.ClickException):
    exit_code = 2  # like click's own usage errors: the input needs fixing, not the tool


class _Group(click.Group):
    """Prints a user's mistake as one clear message, never a traceback, and exits 2; stops
    quietly when whoever reads its output has gone (``drill history | head -1``)."""

    def invoke(self, ctx):
        try:
            result = super().invoke(ctx)
            sys.stdout.flush()  # output still buffered meets a closed pipe here, not at exit
            return result
        except BrokenPipeError:
            # As the signal module's "Note on SIGPIPE" says: Python flushes stdout once more at exit,
            # so stdout goes to devnull, and the exit status is a SIGPIPE's, as for other Unix tools.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise click.exceptions.Exit(141) from None  # 128 + SIGPIPE
        except DrillError as exc:
            raise _UserError(str(exc)) from None
        except OSError as exc:  # a folder that cannot be made, a full disk: where and what, no traceback
            raise _UserError(f"{exc.filename or 'error'}: {exc.strerror or exc}") from None


class _Finite(click.FloatRange):
    """A float in a range that is also a number: click's ranges let ``nan`` through."""

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


class _Slug(click.ParamType):
    """A name that becomes a folder or file name: never a path."""

    name = "NAME"

    def convert(self, value, param, ctx):
        from .inputs.yamlfile import slug

        try:
            return slug(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


class _Text(click.ParamType):
    """Text typed for a name or a reason: bytes that are not UTF-8 in the arguments (Python holds
    them as lone surrogates) are refused here, before the drill store or a file meets them."""

    name = "TEXT"

    def convert(self, value, param, ctx):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            self.fail(f"{value!r} is not UTF-8 text", param, ctx)
        return value


class _Path(click.Path):
    """A path the operating system can take: one with a NUL byte in it is refused here."""

    def convert(self, value, param, ctx):
        if "\0" in str(value):
            self.fail(f"{value!r} holds a NUL character, which no path can", param, ctx)
        return super().convert(value, param, ctx)


class _Day(click.DateTime):
    """A day ``YYYY-MM-DD`` a drill can be held on: one whose drill stays inside the calendar."""

    def __init__(self):
        super().__init__(["%Y-%m-%d"])

    def convert(self, value, param, ctx):
        from .inputs import units

        day = super().convert(value, param, ctx)
        try:
            units.date(day.date())
        except ValueError as exc:
            self.fail(str(exc), param, ctx)
        return day


SEED = click.IntRange(0, 2**63 - 1)  # what the drill store's INTEGER column holds
_DRILL_ID = click.IntRange(1, 2**63 - 1)
_speed = _Finite(min=0.1, max=1000.0)  # sim.live.drill.SPEEDS (not imported at start-up: it brings the engine)


def _version(ctx, _param, value) -> None:
    """drillsim's version, and whether its engine runs compiled (setup.py) or from source, and from which file."""
    if not value or ctx.resilient_parsing:
        return
    engine = importlib.util.find_spec("sim.model.engine").origin
    how = "compiled" if engine.endswith(tuple(EXTENSION_SUFFIXES)) else "from source"
    click.echo(f"drill, version {importlib.metadata.version('drillsim')}, engine {how} ({engine})")
    ctx.exit()


@click.group(cls=_Group)
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_version,
              help="Show the version, and whether the engine runs compiled or from source, and exit.")
def main():
    """drillsim: chaos-driven incident drills, simulated or live, scored against your process."""


_file = _Path(exists=True, dir_okay=False, path_type=Path)
_process_option = click.option("--process", "process_file", type=_file,
                               help="Process file (default: drills/process.yaml if present, else built-in).")
_roster_option = click.option("--roster", type=_file, help="Roster file (default: drills/roster.yaml if present, else built-in).")


@main.command()
@click.argument("scenario", required=False)
@click.option("--script", type=_file, help="A timeline script that plays some or all participants.")
@_process_option
@_roster_option
@click.option("--seed", type=SEED, help="Seed for every random choice in the drill (default: 0, or the plan entry's).")
@click.option("--out", type=_Path(file_okay=False, path_type=Path), help="Output folder (default: reports/<scenario>/<seed or script>/).")
@click.option("--json", "as_json", is_flag=True, help="Print score.json to stdout instead of the scorecard.")
@click.option("--record", "keep", is_flag=True, help="Record the drill in the drill store as held today (plain runs are exploration, not recorded).")
@click.option("--date", "conducted", type=_Day(), help="Record the drill as conducted on this day (a drill of record; default with --plan: the entry's date).")
@click.option("--plan", "plan_file", type=_file, help="A quarter plan (drills/<year>-Q<n>.yaml) whose entry this drill carries out.")
@click.option("--entry", type=click.IntRange(min=1), help="The plan entry (1 = the first drill in the plan).")
@click.option("--store", "store_path", type=_Path(dir_okay=False, path_type=Path), envvar="DRILLSIM_STORE",
              help="Drill store to record into (default: drills/drills.db; env DRILLSIM_STORE).")
def run(scenario, script, process_file, roster, seed, out, as_json, keep, conducted, plan_file, entry, store_path):
    """Run one simulated drill of SCENARIO (a file, or a name in scenarios/; default: the reference
    checkout incident) and write events.jsonl, score.json, report.md and timeline.png. A drill of
    record (--record, --date DAY, or --plan FILE --entry N: that planned drill, its scenario, seed,
    date and people) is also kept in the drill store; a plain run is exploration and is not."""
    from .inputs import config
    from .model.engine import run_drill
    from .outputs import report
    from .outputs.scoring import score
    from .records import store

    process = config.load_process(process_file or config.default_file("drills/process.yaml"))
    team = config.load_roster(roster or config.default_file("drills/roster.yaml"), process)
    # With a script, people (not bots) held the seats: a live entry held around a table replays so.
    how = "script" if script else "simulated"
    planned = _planned(plan_file, entry, scenario, team, process, how) if plan_file or entry else None
    if planned:
        scenario, planned_entry, quarter = planned
        seed = planned_entry.seed if seed is None else seed
        team = _plan().roster_for(planned_entry, team)
    seed = seed or 0
    scenario_file = config.scenario_path(scenario)
    scn = config.load_scenario(scenario_file)
    held = conducted.date() if conducted else planned[1].date if planned else _today() if keep else None
    timeline_script = config.load_script(script, scn.start, scn.horizon) if script else None
    if held is not None:  # a drill of record reads as held on its day: channel, timeline, postmortem
        store.check_not_recorded(scn, False, store_path)  # before it is held on its day: the incident's own start
        if timeline_script is not None:
            timeline_script = config.script_held_on(timeline_script, scn.start.date(), held)
        scn = config.held_on(scn, held)
    result = run_drill(scn, process, team, timeline_script, seed, seats=planned[1].roles if planned else None)
    card = score(result.events, scn, process)
    out = out or Path("reports") / scn.name / (f"script-{script.stem}" if script else f"seed-{seed}")
    written = report.write_outputs(result, card, out)
    drill_id = None
    if held is not None:
        drill_id = store.record(
            result, card, conducted=held,
            variant=process_file.stem if process_file else "default", mode="script" if script else "simulated",
            plan=planned[2] if planned else None, entry=entry if planned else None,
            shadows=planned[1].shadows if planned else None,
            deviations=_plan().deviations(planned[1].roles, result.events) if planned else None, path=store_path)
    if as_json:
        click.echo(json.dumps(report.score_document(result, card), indent=2))
        return
    click.echo(f"Drill: {scn.title} ({scn.name}, {'script ' + script.name if script else f'seed {seed}'})")
    click.echo(f"Ended: {result.events[-1]['reason']} at {result.events[-1]['at']}\n")
    for line in report.timeline(result.events):
        click.echo(f"  {line}")
    click.echo("")
    for line in report.scorecard(card):
        click.echo(line)
    click.echo(f"\nWrote {', '.join(p.name for p in written)} to {out}/")
    if drill_id is None:
        click.echo("Not recorded: a plain run is exploration. Give --record (held today) or --date YYYY-MM-DD "
                   "to keep it in the drill store.")
    else:
        click.echo(f"Recorded as drill {drill_id} in {store_path or store.default_path()}")


@main.command("record-incident")
@click.argument("scenario")
@click.option("--script", type=_file, required=True, help="The team's actions in the incident (drill import incident writes it).")
@_process_option
@click.option("--out", type=_Path(file_okay=False, path_type=Path), help="Output folder (default: reports/real/<scenario>/).")
@click.option("--store", "store_path", type=_Path(dir_okay=False, path_type=Path), envvar="DRILLSIM_STORE",
              help="Drill store to record into (default: drills/drills.db; env DRILLSIM_STORE).")
def record_incident(scenario, script, process_file, out, store_path):
    """Score a real incident replayed from SCENARIO and --script (drill import incident writes both) and keep
    it in the drill store as a real incident (mode real), on the day it happened: the quarterly report sets it
    beside the drills; it is never counted as a drill, a plan entry or anyone's turn."""
    from .inputs import config
    from .model.engine import run_drill
    from .outputs import report
    from .outputs.scoring import score
    from .records import store

    process = config.load_process(process_file or config.default_file("drills/process.yaml"))
    scn = config.load_scenario(config.scenario_path(scenario))
    replay = config.load_script(script, scn.start, scn.horizon)
    store.check_not_recorded(scn, True, store_path)
    result = run_drill(scn, process, None, replay, 0)
    card = score(result.events, scn, process)
    out = out or Path("reports") / "real" / scn.name
    written = report.write_outputs(result, card, out)
    drill_id = store.record(result, card, conducted=scn.start.date(), variant=process_file.stem if process_file else "default",
                            mode="real", path=store_path)
    for line in report.scorecard(card):
        click.echo(line)
    click.echo(f"\nWrote {', '.join(p.name for p in written)} to {out}/")
    click.echo(f"Recorded as real incident {drill_id} (conducted {scn.start.date()}) in {store_path or store.default_path()}; "
               "it counts in no drill total, plan or rotation")


@main.command()
@click.argument("files", nargs=-1, required=True, type=_Path(path_type=Path))
def validate(files):
    """Check scenario, process, roster, script, topology and fault catalog files; print every problem as
    file:line: message."""
    from .validate import validate as check

    failed = False
    for path in files:
        try:
            kind = check(path)
        except DrillError as exc:
            failed = True
            click.echo(str(exc), err=True)
        else:
            click.echo(f"{path}: ok ({kind})")
    if failed:
        raise SystemExit(2)


@main.command()
def scenarios():
    """List the scenario library."""
    from .inputs import config

    for path in config.library():
        try:
            click.echo(f"{path.stem:<34} {config.load_scenario(path).title}")
        except DrillError as exc:
            click.echo(f"{path.stem:<34} INVALID: {str(exc).splitlines()[0]}")


# --- drill records, the quarter's plan, the IC rotation, the quarterly report ---------------

_store_option = click.option("--store", "store_path", type=_Path(dir_okay=False, path_type=Path), envvar="DRILLSIM_STORE",
                             help="Drill store (default: drills/drills.db; env DRILLSIM_STORE).")


class _Url(click.ParamType):
    """An http(s) URL with a host: where a live drill sends something."""

    name = "URL"

    def convert(self, value, param, ctx):
        from urllib.parse import urlsplit

        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - raises ValueError for a port that is no number or out of range
            ok = parts.scheme in ("http", "https") and bool(parts.hostname)
        except ValueError:
            ok = False
        if not ok or "\0" in value or any(c.isspace() for c in value):
            self.fail(f"{value!r} is not an http(s) URL with a host (and a port from 1 to 65535)", param, ctx)
        return value


_TOOLS_OPTIONS = ("alertmanager", "pagerduty_routing_key", "pagerduty_url", "statuspage_url", "chat_webhook", "dry_run",
                  "metrics")


def _tools_options(function):
    """The options that wire a live drill to the team's real tools (docs/real-tools.md); all off by default."""
    options = [
        click.option("--metrics", is_flag=True, help="Expose the simulated world at /metrics for a real Prometheus."),
        click.option("--alertmanager", type=_Url(), help="Push the drill's alerts to this Alertmanager (API v2)."),
        click.option("--pagerduty-routing-key", help="Send the drill's pages to PagerDuty (Events API v2) with this key."),
        click.option("--pagerduty-url", type=_Url(), default="https://events.pagerduty.com/v2/enqueue", show_default=True,
                     help="Where PagerDuty events go (a proxy or a local receiver)."),
        click.option("--statuspage-url", type=_Url(), help="POST each update to the public status page (audience=public), as a Statuspage incident update, here."),
        click.option("--chat-webhook", type=_Url(), help="Post each status update to this Slack-compatible incoming webhook."),
        click.option("--dry-run", is_flag=True, help="Print what would be sent to the tools above, and send nothing."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _endpoints(given: dict) -> list:
    """The endpoints the options name (checked before any drill folder is made)."""
    from .live import outbound

    url_given = click.get_current_context().get_parameter_source("pagerduty_url").name != "DEFAULT"
    if url_given and not given["pagerduty_routing_key"]:  # else ignored, and nothing paged there, without a word
        raise DrillError("--pagerduty-url goes with --pagerduty-routing-key: it is where the pages go")
    chosen = outbound.endpoints(given["pagerduty_routing_key"], given["pagerduty_url"], given["statuspage_url"],
                                given["chat_webhook"], given["alertmanager"])
    if given["dry_run"] and not chosen:
        raise DrillError("--dry-run shows what would be sent: name an endpoint too (--alertmanager, "
                         "--pagerduty-routing-key, --statuspage-url or --chat-webhook)")
    return chosen


def _tools(folder, given: dict, say=None, pagerduty_secret=None):
    """The ``Tools`` the options ask for, for the drill in ``folder``."""
    from .live import outbound
    from .live.tools import Tools

    chosen = _endpoints(given)
    box = outbound.Outbox(folder, Path(folder).name, chosen, dry_run=given["dry_run"], say=say or click.echo) \
        if chosen else None
    for endpoint in chosen:
        click.echo(f"{'[dry run] ' if given['dry_run'] else ''}Sends to {endpoint.name}: {endpoint.url}")
    return Tools(folder, box, metrics=given["metrics"], pagerduty_secret=pagerduty_secret)


def _plan():
    from .records import plan

    return plan


def _quarter(ctx, param, value):
    from .records.store import parse_quarter

    if value is None:
        return None
    try:
        year, number = parse_quarter(value)
    except DrillError as exc:
        raise click.BadParameter(str(exc)) from None
    return f"{year}-Q{number}"


def _team(roster):
    from .inputs import config

    process = config.load_process(config.default_file("drills/process.yaml"))
    return config.load_roster(roster or config.default_file("drills/roster.yaml"), process)


def _today():
    import datetime as dt

    return dt.datetime.now(dt.timezone.utc).date()


def _planned(plan_file, entry, scenario, team, process, how="simulated"):
    """(scenario, entry, quarter) for ``drill run --plan FILE --entry N`` (``how``: simulated, or
    script: either mode) or ``drill serve`` (``how="serve"``: a live entry)."""
    plan = _plan()
    if not plan_file or not entry:
        raise DrillError("--plan and --entry go together: --plan drills/2026-Q4.yaml --entry 2")
    loaded = plan.load_plan(plan_file, team)
    if entry > len(loaded.entries):
        raise DrillError(f"{plan_file}: has {len(loaded.entries)} drill(s), no entry {entry}")
    chosen = loaded.entries[entry - 1]
    if chosen.mode == "live" and how == "simulated":
        raise DrillError(f"{plan_file}: drill {entry} is planned as a live drill: `drill serve` runs it for a room, "
                         "or replay the tabletop the people held with --script FILE (or change its mode to simulated)")
    if chosen.mode == "simulated" and how == "serve":
        raise DrillError(f"{plan_file}: drill {entry} is planned as a simulated drill: `drill run` simulates it "
                         "(or change its mode to live)")
    name = plan.resolve(loaded, entry)
    if name is None:
        name = scenario or _materialise(*chosen.generate)
    elif scenario and Path(scenario).stem != Path(name).stem:
        raise DrillError(f"{plan_file}: drill {entry} is planned with scenario {name}, not {scenario}")
    return name, chosen, loaded.quarter


def _materialise(difficulty: str, seed: int) -> str:
    """A plan's generated scenario, made from drills/topology.yaml and written to generated/."""
    from .authoring import generate
    from .inputs.topology import load_topology, topology_path
    from .outputs.files import write_atomic

    made = generate.generate(load_topology(topology_path(None)), seed, difficulty)
    return str(write_atomic(Path("generated") / f"{made.name}.yaml", made.text))


def _table(rows: list[list[str]], header: list[str]) -> list[str]:
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows)]
    return ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in [header, *rows]]


@main.command()
@click.option("--quarter", callback=_quarter, help="Only drills conducted in this quarter, e.g. 2026-Q4.")
@click.option("--person", type=_Text(), help="Only drills this person took part in: seated, or shadowing a role "
                                             "(not those a bot played them in).")
@_store_option
def history(quarter, person, store_path):
    """List recorded drills, voided ones included (marked, with the reason), and real incidents (marked)."""
    from .records import store

    found = store.drills(store_path, quarter=quarter, person=person, voided=True, real=None)
    if not found:
        click.echo(f"No drills recorded{' in ' + quarter if quarter else ''}{' with ' + person if person else ''} "
                   f"(store: {store_path or store.default_path()}).")
        return
    rows = []
    once = {d.id for d in store.once([d for d in found if d.real and not d.voided])}
    for d in found:
        note = (f"VOID: {d.void_reason}" if d.voided
                else ("real incident: no drill, nobody's turn" if d.id in once
                      else "real incident recorded again: counted once (void this one)") if d.real
                else "simulated: bots only" if d.simulated else "with " + ", ".join(d.people))
        if d.plan_deviations:
            note += "; off plan: " + "; ".join(d.plan_deviations)
        rows.append([d.id, d.conducted, d.scenario, d.mode, d.lead("ic") or "-", d.lead("comms") or "-", d.lead("ops") or "-",
                     f"{d.score:.1f}", f"{d.plan_quarter} #{d.plan_entry}" if d.plan_quarter else "", note])
    for line in _table(rows, ["id", "date", "scenario", "mode", "ic", "comms", "ops", "score", "plan", "notes"]):
        click.echo(line)


@main.command()
@click.argument("drill_id", type=_DRILL_ID)
@click.option("--reason", type=_Text(), required=True, help="Why this drill is not a drill of record, e.g. \"a test run\".")
@_store_option
def void(drill_id, reason, store_path):
    """Void drill DRILL_ID: it stays in the store and in `drill history` with the reason, and the
    rotation, the plan and the quarterly report leave it out. Nothing is deleted."""
    from .records import store

    store.void(drill_id, reason, store_path)
    click.echo(f"Voided drill {drill_id} ({reason.strip()}); `drill history` still lists it.")


@main.command()
@click.argument("drill_id", type=_DRILL_ID)
@click.option("--report", "report_dir", type=_Path(file_okay=False, path_type=Path),
              help="Also re-render the drill's events.jsonl, score.json, report.md and timeline.png into this folder.")
@click.option("--export", "export", type=click.Choice(["statuspage", "pagerduty"]),
              help="Instead, write the drill's status updates as a Statuspage incident, or its pages as PagerDuty "
                   "Events v2 bodies (JSON, to --out or stdout).")
@click.option("--out", "export_out", type=_Path(dir_okay=False, path_type=Path), help="File for --export.")
@click.option("--pagerduty-routing-key", default="DRILL-ROUTING-KEY", show_default=True,
              help="routing_key of the exported PagerDuty events.")
@click.option("--process", "process_file", type=_file,
              help="With --export statuspage: the process whose severity levels the drill used, most severe first "
                   "(a component's status follows the level's rank; default: drills/process.yaml if present, else built-in).")
@_store_option
def show(drill_id, report_dir, export, export_out, pagerduty_routing_key, process_file, store_path):
    """Print one recorded drill's scorecard and timeline (or, with --export, its updates or pages
    in the formats status pages and pagers speak)."""
    from types import SimpleNamespace

    from .inputs import config, units
    from .outputs import report
    from .records import store

    # Each of these was ignored without a word: the key by any export but pagerduty's (and
    # with no export at all), --out and --report by the command's other branch.
    keyed = click.get_current_context().get_parameter_source("pagerduty_routing_key").name != "DEFAULT"
    if keyed and export != "pagerduty":
        raise DrillError("--pagerduty-routing-key goes with --export pagerduty: it is the routing_key of the exported events")
    if process_file is not None and export != "statuspage":
        raise DrillError("--process goes with --export statuspage: it names the severity levels the status page's "
                         "components follow")
    if export_out is not None and not export:
        raise DrillError("--out goes with --export: the scorecard and timeline are printed, --report writes the report")
    if export and report_dir:
        raise DrillError("give --export or --report, not both")
    found = store.drill(drill_id, store_path)
    events = store.events(drill_id, store_path)
    if export:
        import json

        from .outputs import formats
        from .outputs.files import write_atomic

        if export == "statuspage":
            levels = config.load_process(process_file or config.default_file("drills/process.yaml")).severities
            made = formats.statuspage_incident(events, str(drill_id), found.title, levels)
        else:
            made = formats.pagerduty_events(events, str(drill_id), pagerduty_routing_key)
        text = json.dumps(made, indent=2) + "\n"
        if export == "statuspage" and not made["incident_updates"]:
            posted = sum(1 for e in events if e["kind"] == "update.posted")
            click.echo(f"Drill {drill_id} posted no update to the public status page (audience public)"
                       + (f"; its {posted} update(s) went to the incident channel, which stays in the company"
                          if posted else ""), err=True)
        if export_out is None:
            click.echo(text, nl=False)
        else:
            write_atomic(export_out, text)
            click.echo(f"Wrote {export_out}", err=True)
        return
    card = found.card
    roles = ", ".join(f"{store_role}: {found.lead(store_role)}" for store_role in ("ic", "comms", "ops") if found.lead(store_role))
    click.echo(f"Drill {found.id}: {found.title} ({found.scenario}, {found.mode}, seed {found.seed}), conducted {found.conducted}")
    click.echo(f"Variant: {found.variant}" + (f"; roles: {roles}" if roles else "")
               + (f"; planned as {found.plan_quarter} #{found.plan_entry}" if found.plan_quarter else "")
               + (f"\nVOID since {found.voided[:10]}: {found.void_reason} (counted nowhere)" if found.voided else "") + "\n")
    for line in report.timeline(events):
        click.echo(f"  {line}")
    click.echo("")
    for line in report.scorecard(card):
        click.echo(line)
    if report_dir:
        from .model.eventlog import to_jsonl

        start = units.timestamp(found.scenario_start) if found.scenario_start else units.timestamp(events[0]["at"])
        facing, samples, rules = store.samples(drill_id, store_path) or ([], [], [])
        result = SimpleNamespace(scenario=SimpleNamespace(name=found.scenario, title=found.title, start=start,
                                                          facing=tuple(facing)),
                                 seed=found.seed, events=events, participants=list(found.participants), samples=samples,
                                 jsonl=lambda: to_jsonl(events))
        held = found.conducted if found.mode == "live" else None
        written = report.write_outputs(result, card, report_dir, held, rules)  # no timeline.png without samples
        click.echo(f"\nWrote {', '.join(p.name for p in written)} to {report_dir}/")
        if found.mode == "live" and found.duties is None and found.people:
            click.echo(f"Drill {found.id} was recorded before the store kept each person's own duties: score.json's "
                       "people and report.md's own duties are not in what was written", err=True)


@main.command()
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), default="csv", show_default=True)
@click.option("--quarter", callback=_quarter, help="Only drills conducted in this quarter.")
@click.option("--person", type=_Text(), help="Only drills this person took part in: seated, or shadowing a role "
                                             "(not those a bot played them in).")
@click.option("--events", "with_events", is_flag=True, help="JSON lines only: include each drill's full event log.")
@click.option("--out", type=_Path(dir_okay=False, path_type=Path), help="Write to this file (default: stdout).")
@_store_option
def export(fmt, quarter, person, with_events, out, store_path):
    """Write recorded drills as CSV (one row per drill) or JSON lines (one full record per line)."""
    import dataclasses

    from .records import store

    if with_events and fmt == "csv":  # else the CSV was written without them, and without a word
        raise DrillError("--events goes with --format jsonl: a CSV row per drill has no room for its event log")
    found = store.drills(store_path, quarter=quarter, person=person, real=None)  # real incidents: mode "real"
    if fmt == "csv":
        import pandas as pd

        text = pd.DataFrame([d.as_row() for d in found]).to_csv(index=False, lineterminator="\n") if found else ""
    else:
        records = []
        for d in found:
            record = {**dataclasses.asdict(d), "quarter": d.quarter}
            if with_events:
                record["events"] = store.events(d.id, store_path)
            records.append(json.dumps(record, separators=(",", ":")))
        text = "".join(r + "\n" for r in records)
    if out:
        from .outputs.files import write_atomic

        write_atomic(out, text)
        click.echo(f"Wrote {len(found)} drill(s) to {out}", err=True)
    else:
        click.echo(text, nl=False)


@main.command()
@click.option("--quarter", callback=_quarter, help="The rotation as it stood at the end of this quarter (default: all drills).")
@click.option("--propose", callback=_quarter, help="Propose this quarter's drills and write them as a plan file.")
@click.option("--drills", "count", type=click.IntRange(1, 100), default=3, show_default=True, help="Drills to propose.")
@click.option("--out", type=_Path(dir_okay=False, path_type=Path), help="Proposal file (default: drills/<quarter>.yaml).")
@click.option("--force", is_flag=True, help="Overwrite an existing plan file.")
@_roster_option
@_store_option
def rotation(quarter, propose, count, out, force, roster, store_path):
    """Who has served as IC, comms and ops lead, when, and how often; who is due; --propose plans the next quarter."""
    from .records import store

    plan = _plan()
    team = _team(roster)
    found = plan.counted(store.drills(store_path))
    if propose:
        entries, reasons = plan.propose(team, found, propose, count)
        out = out or plan.plan_path(propose)
        if out.exists() and not force:
            raise DrillError(f"{out} exists; give --out or --force to overwrite it")
        from .outputs.files import write_atomic

        write_atomic(out, plan.plan_yaml(propose, entries, reasons))
        for entry, why in zip(entries, reasons):
            click.echo(f"{entry.date}  {entry.describe():<16} {why}")
        click.echo(f"Wrote the proposal to {out}")
        return
    rot = plan.rotation(team, found, quarter)
    click.echo(f"IC rotation{' at the end of ' + quarter if quarter else ''}: {rot.drills} drill(s) recorded; "
               f"{'in ' + quarter + ' ' if quarter else ''}{rot.turns} with people, {rot.simulated} simulated "
               "(bots only: nobody's turn)\n")
    rows = []
    for s in rot.standings:
        cells = [s.name, s.team or "-"]
        for role in ("ic", "comms", "ops"):
            r = s.roles[role]
            cells.append(f"{r.last} ({r.count}x)" if r.count else "never")
        cells.append(" ".join(f"{score:.0f}" for _, score in s.ic_scores) or "-")
        rows.append(cells)
    for line in _table(rows, ["senior", "team", "last IC", "last comms", "last ops", "IC scores over time"]):
        click.echo(line)
    if rot.never_ic:
        click.echo(f"\nNever IC: {', '.join(rot.never_ic)}")
    for name in rot.single_points_of_failure:
        click.echo(f"Single point of failure: {name} led {rot.ic_share[name]} of the {rot.turns} drills with people"
                   f"{' in ' + quarter if quarter else ''} as IC")


def _quarter_plan(path: Path, quarter: str, team):
    """The plan file at ``path``, which must plan ``quarter``: another quarter's entries would all
    read as not run, and its drills as this quarter's planned count."""
    loaded = _plan().load_plan(path, team)
    if loaded.quarter != quarter:
        raise DrillError(f"{path}: plans {loaded.quarter}, not {quarter}")
    return loaded


@main.command("plan")
@click.argument("quarter", callback=_quarter)
@click.option("--file", "plan_file", type=_file, help="Plan file (default: drills/<quarter>.yaml).")
@_roster_option
@_store_option
def show_plan(quarter, plan_file, roster, store_path):
    """Show each planned drill of QUARTER (e.g. 2026-Q4) and whether it has been run."""
    from .records import store

    plan = _plan()
    team = _team(roster)
    path = plan_file or plan.plan_path(quarter)
    if not path.exists():
        raise DrillError(f"{path}: no plan for {quarter} (write one, or propose one with `drill rotation --propose {quarter}`)")
    loaded = _quarter_plan(path, quarter, team)
    names = plan.scenario_names(loaded)
    done = plan.carried_out(loaded, store.drills(store_path, quarter=quarter), names)
    rows = []
    for index, entry in enumerate(loaded.entries, 1):
        scenario = entry.describe() + (f": {names[index]}" if entry.random else "")
        people = ", ".join(f"{r} {w}" for r, w in entry.roles.items())
        people += "".join(f", {r} shadow {' '.join(w)}" for r, w in entry.shadows.items())
        status = plan.status(done[index])
        rows.append([index, entry.date, scenario, entry.mode, people or "-", status])
    for line in _table(rows, ["#", "date", "scenario", "mode", "roles", "status"]):
        click.echo(line)
    click.echo(f"\n{sum(bool(d) for d in done.values())} of {len(loaded.entries)} planned drills run.")


@main.group()
def report():
    """Reports built from the drill store."""


@report.command("quarter")
@click.argument("quarter", callback=_quarter)
@click.option("--out", type=_Path(file_okay=False, path_type=Path), help="Output folder (default: reports/<quarter>/).")
@click.option("--plan", "plan_file", type=_file, help="The quarter's plan (default: drills/<quarter>.yaml if present).")
@_roster_option
@_store_option
def report_quarter(quarter, out, plan_file, roster, store_path):
    """Write the quarterly drill report: report.html, report.md, drills.csv and the charts as PNG."""
    from .records import quarter as quarterly
    from .records import store

    plan = _plan()
    team = _team(roster)
    path = plan_file or plan.plan_path(quarter)
    loaded, names = None, {}
    if path.exists():
        loaded = _quarter_plan(path, quarter, team)
        names = plan.scenario_names(loaded)
    found = store.drills(store_path, until=quarter)
    # The quarter's duplicates are listed, marked (build); those of the quarters before count nowhere.
    found = plan.counted([d for d in found if d.quarter != quarter]) + [d for d in found if d.quarter == quarter]
    voided = sum(bool(d.voided) for d in store.drills(store_path, quarter=quarter, voided=True))
    context = quarterly.build(quarter, found, loaded, names, [p.name for p in team.people if p.senior],
                              store.once(store.drills(store_path, quarter=quarter, real=True)), voided)
    out = out or Path("reports") / quarter
    written = quarterly.write(context, found, out)
    if context["empty"]:
        click.echo(context["message"])
    click.echo(f"Wrote {', '.join(p.name for p in written)} to {out}/")


@main.command()
@click.option("--topology", "topology_file", type=_file, help="Topology file (default: drills/topology.yaml).")
@click.option("--seed", type=SEED, default=0, show_default=True, help="Seed of the first scenario; the next ones use seed+1, ...")
@click.option("--count", type=click.IntRange(1, 10_000), default=1, show_default=True, help="How many scenarios to write.")
@click.option("--difficulty", type=click.Choice(["easy", "medium", "hard"]),
              help="Keep drawing until each scenario's measured difficulty is in this band (default: any).")
@click.option("--out", type=_Path(file_okay=False, path_type=Path), default=Path("generated"), show_default=True,
              help="Folder to write the scenario files to.")
def generate(topology_file, seed, count, difficulty, out):
    """Write generated scenarios: random failure stories over your topology, with difficulty measured
    by simulated drills. The same seed gives the same files; the files tell the story, so keep them
    from the participants (docs/generate.md)."""
    import signal

    from .authoring import generate as gen
    from .inputs.topology import load_topology, topology_path
    from .outputs.files import write_atomic

    if seed + count - 1 > SEED.max:  # each file's header names its seed for `drill generate --seed` to make again
        raise DrillError(f"--seed {seed} --count {count}: the last seed would be {seed + count - 1}, past {SEED.max}")
    topology = load_topology(topology_path(topology_file))
    written = 0
    # SIGTERM, as in drill compare, stops as Ctrl-C does: it ended the command without a word.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        for k in range(count):
            made = gen.generate(topology, seed + k, difficulty)
            path = write_atomic(out / f"{made.name}.yaml", made.text)
            written += 1
            click.echo(f"{path}: {made.band} (median bot score {made.median:.1f}); run it with: drill run {path}")
    except KeyboardInterrupt:  # Ctrl-C, or SIGTERM: click's bare "Aborted!" did not say which files are kept
        left = count - written
        click.echo(f"\ninterrupted: {written} of {count} scenarios written to {out}/; the other {left} are those of "
                   f"--seed {seed + written} --count {left} (with the same other options)", err=True)
        raise click.exceptions.Exit(1) from None  # the status click's Abort gave
    finally:
        signal.signal(signal.SIGTERM, previous)


@main.group(name="import")
def import_():
    """Turn files of other tools into scenarios."""


def _imported(text: str, out: Path | None, notes: list[tuple[str, list]], then: str, beside: dict | None = None) -> None:
    """An importer's file to ``out`` (or stdout), with any files ``beside`` it (name -> text) put in
    place together; on stderr what it could not take, then what comes next."""
    from .outputs.files import replace_files, write_atomic

    for label, lines in notes:
        for line in lines:
            click.echo(f"{label}: {line}", err=True)
    if out is None:
        click.echo(text, nl=False)
    elif beside:
        replace_files(out.parent, {out.name: text, **beside})
        click.echo(f"Wrote {out} and {', '.join(str(out.parent / name) for name in beside)}; {then}", err=True)
    else:
        write_atomic(out, text)
        click.echo(f"Wrote {out}; {then}", err=True)


def _team_file_note(read: bool, does: str, where: str) -> str:
    """What follows writing a team monitoring file: what it does, if it is where drills run here read
    it, else where it must be for them to (an import promises only what a drill will do)."""
    return does if read else f"drills run here do not read it: they read {where} (move it there to use it)"


@import_.command()
@click.argument("experiment", type=_file)
@click.option("--topology", "topology_file", type=_file, help="Topology file (default: drills/topology.yaml).")
@click.option("--mapping", type=_file, help="More mapping rules (YAML, read before the built-in table).")
@click.option("--target", help="The topology service that stands for targets the experiment names but the topology lacks.")
@click.option("--out", type=_Path(dir_okay=False, path_type=Path), help="Scenario file to write (default: stdout).")
def chaostoolkit(experiment, topology_file, mapping, target, out):
    """A scenario from a Chaos Toolkit EXPERIMENT (JSON or YAML): its method's actions become faults at the
    times its pauses give, its steady-state probes the alerts. What cannot be mapped is listed on stderr."""
    from .authoring.chaos import import_experiment
    from .inputs.topology import load_topology, topology_path

    made = import_experiment(experiment, load_topology(topology_path(topology_file)), mapping, target)
    _imported(made.text, out, [("not mapped", made.skipped)], f"run it with: drill run {out}")


@import_.command()
@click.argument("rules", nargs=-1, required=True, type=_file)
@click.option("--topology", "topology_file", type=_file,
              help="Topology file: list the rules that select none of its services' series.")
@click.option("--out", type=_Path(dir_okay=False, path_type=Path),
              help="Monitoring file to write or merge into, e.g. drills/monitoring/rules.yml (default: stdout).")
def prometheus(rules, topology_file, out):
    """The team's Prometheus RULES files as a monitoring file, which every drill run here uses once it is in
    drills/monitoring/.
    Rules drillsim cannot evaluate are left out and listed on stderr with their line."""
    from .authoring.promimport import import_rules
    from .inputs.config import TEAM_RULES
    from .inputs.promrules import TEAM_RULE_FILES, reads_team_rules
    from .inputs.topology import load_topology

    topology = load_topology(topology_file) if topology_file else None
    made = import_rules(list(rules), topology, out)
    read = out is not None and reads_team_rules(Path(TEAM_RULES), out)
    _imported(made.text, out, [("not imported", made.skipped), ("left out", made.left_out), ("no data", made.unseen)], _team_file_note(
        read, "every drill run here evaluates its rules, after a scenario's own (unless it says team_rules: false)",
        f"the {' and '.join(TEAM_RULE_FILES)} rule files in {TEAM_RULES}/"))


@import_.command()
@click.argument("config_file", metavar="ALERTMANAGER_YML", type=_file)
@click.option("--out", type=_Path(dir_okay=False, path_type=Path),
              help="The team's monitoring file to write or merge into (default: drills/monitoring/alertmanager.yml).")
def alertmanager(config_file, out):
    """The team's Alertmanager routing from ALERTMANAGER_YML (Alertmanager 0.25's format): its route tree,
    inhibit rules, time intervals and receivers, which every drill run here uses once they are in
    drills/monitoring/alertmanager.yml (the default --out). Into an existing file it
    merges (route and inhibit rules replaced, receivers and time intervals by name); mail servers,
    credentials and the integrations' addresses are left out and listed on stderr."""
    from .authoring.amimport import import_alertmanager
    from .inputs.alertmanager import TEAM_FILE

    out = out or Path(TEAM_FILE)
    made = import_alertmanager(config_file, out)
    _imported(made.text, out, [("left out", made.dropped)], _team_file_note(
        out.resolve() == Path(TEAM_FILE).resolve(),
        "every drill run here routes its alerts with it. Check who is paged: drill check-alerts SCENARIO", TEAM_FILE))


@import_.command()
@click.argument("records", nargs=-1, required=True, type=_file)
@click.option("--mapping", type=_file, help="More words -> actions rules (YAML, read before the built-in table).")
@click.option("--name", type=_Slug(), help="Name of the scenario (default: from the postmortem's title).")
@click.option("--service", help="The affected service (default: the postmortem's Service: line, or the records').")
@click.option("--date", "day", type=_Day(), help="The day of a timeline whose lines have no date (default: its Date: line).")
@click.option("--severity", help="The severity the incident should have had, a level of the process (default: its "
                                   "Severity: line, or as declared).")
@_process_option
@click.option("--as-drill", "hidden", is_flag=True,
              help="Write the drill version instead: the incident up to its detection, the team's actions left out, "
                   "to play with drill live or drill serve.")
@click.option("--out", type=_Path(file_okay=False, path_type=Path), default=Path("scenarios/real"), show_default=True,
              help="Folder for <name>.yaml and <name>.script.yaml.")
def incident(records, mapping, name, service, day, severity, process_file, hidden, out):
    """A scenario and a timeline script that replay a real incident from its RECORDS: a postmortem in the
    reference template (.md: its HH:MM UTC - text timeline), a PagerDuty incident's log entries (JSON) and an
    Alertmanager webhook history (JSON or JSON lines), one or several. Lines no rule maps and actions the replay
    cannot play are listed on stderr, with their file and line. Severities are the process's levels."""
    from .authoring.incidents import import_incident
    from .inputs import config

    process = config.load_process(process_file or config.default_file("drills/process.yaml"))
    made = import_incident(list(records), mapping, name, service, day.date() if day else None, severity, hidden, out,
                           process)
    notes = [("not mapped", made.unmapped), ("not replayed", made.unplayed), ("assumed", made.assumptions)]
    scenario_file, script_file = made.files(out)
    if hidden:
        _imported(made.scenario, scenario_file, notes,
                  f"play it with: drill live {scenario_file} --name YOU, or drill serve {scenario_file}")
        return
    _imported(made.scenario, scenario_file, notes,
              f"score the real incident with: drill run {scenario_file} --script {script_file}; "
              f"keep it with: drill record-incident {scenario_file} --script {script_file}",
              beside={script_file.name: made.script})


@main.command("check-alerts")
@click.argument("scenario", required=False)
@click.option("--events", "events_file", type=_file, help="Read this run's events.jsonl instead of simulating.")
@_process_option
@_roster_option
def check_alerts(scenario, events_file, process_file, roster):
    """Would we even be paged? For SCENARIO's fault story: which rules fire and when, which stay silent,
    what is notified to which receiver, and who is paged at what time and urgency. By default the
    scenario is played with nobody acknowledging, so every escalation shows; --events reads a run's log."""
    from dataclasses import replace

    from .analysis import alertcheck
    from .inputs import config
    from .inputs.alertmanager import for_drill

    process = config.load_process(process_file or config.default_file("drills/process.yaml"))
    team = config.load_roster(roster or config.default_file("drills/roster.yaml"), process)
    scn = config.load_scenario(config.scenario_path(scenario))
    events = alertcheck.read_events(events_file) if events_file else alertcheck.unanswered(scn, process, team)
    paged_by = alertcheck.receivers(for_drill(scn.monitoring), team)
    answer = alertcheck.check(events, scn, alertcheck.unreachable(scn, team))
    if not events_file:  # how near the silent rules came, in the same play (a run's log tells of its own drill only)
        answer = replace(answer, nearest=alertcheck.nearest(scn, process, team, set(answer.silent) - set(answer.unread)))
    for line in alertcheck.lines(answer, scn, paged_by):
        click.echo(line)


@main.command()
@click.argument("scenario", required=False)
@click.option("--name", type=_Text(), help="Your name in the drill (default: the first person of a resumed drill).")
@click.option("--as", "seat", type=click.Choice(["oncall", "ic", "comms", "ops"]), default="oncall", show_default=True,
              help="Your seat: the primary on-call (who can take any role), or the role the bots hand you (ic: IC training).")
@click.option("--speed", type=_speed, help="Simulated seconds per second (default 1: real time).")
@click.option("--bots/--no-bots", default=True, show_default=True, help="Bots play every roster member who is not you.")
@click.option("--seed", type=SEED, default=0, show_default=True, help="Seed for every random choice in the drill.")
@_process_option
@_roster_option
@click.option("--out", type=_Path(file_okay=False, path_type=Path),
              help="The drill's folder (default: reports/live/<scenario>-<UTC date and time>/).")
@click.option("--resume", type=_Path(file_okay=False, exists=True, path_type=Path),
              help="Carry on the drill kept in this folder, from where it stopped.")
@_store_option
@_tools_options
@click.option("--metrics-port", type=click.IntRange(1, 65535), default=8322, show_default=True,
              help="With --metrics: the port (on 127.0.0.1) that serves /metrics.")
def live(scenario, name, seat, speed, bots, seed, process_file, roster, out, resume, store_path, metrics_port,
         **tool_options):
    """Play SCENARIO live at the terminal, with bots in the other seats; at the end, the
    scorecard, and the outputs of drill run in the drill's folder."""
    import datetime as dt
    import sys

    from .inputs import config
    from .live.console import play
    from .live.drill import LiveDrill

    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise DrillError("drill live needs a terminal (use drill run for a simulated drill)")
    _endpoints(tool_options)
    if tool_options["metrics"]:
        _check_listen("127.0.0.1", metrics_port)  # before a drill folder exists that a second try would refuse
    if resume:
        if scenario or out:
            raise DrillError("--resume DIR carries on the drill kept in DIR: leave out SCENARIO and --out")
        drill = LiveDrill.open(resume)
        players = [p["name"] for p in drill.manifest["players"]]
        name = name or (players[0] if players else None)
        if name not in players:
            raise DrillError(f"{name!r} does not play in the drill in {resume} (players: {', '.join(players) or 'none'})")
        if speed is not None and not drill.ended:
            drill.set_speed(speed)
    else:
        if not name:
            raise DrillError("say who you are: --name NAME")
        scenario_file = config.scenario_path(scenario)
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
        out = out or Path("reports") / "live" / f"{config.load_scenario(scenario_file).name}-{stamp}"
        player = {"name": name, "oncall": "primary"} if seat == "oncall" else {"name": name, "as": seat}
        drill = LiveDrill.create(out, scenario_file, process_file or config.default_file("drills/process.yaml"),
                                 roster or config.default_file("drills/roster.yaml"), seed=seed,
                                 speed=1.0 if speed is None else speed, players=[player], bots=bots)
    tools = _tools(drill.folder, tool_options, say=lambda text: click.echo(text, err=True))
    tools.attach(drill)
    if tool_options["metrics"]:
        tools.exporter.serve("127.0.0.1", metrics_port)
        click.echo(f"Prometheus can scrape http://127.0.0.1:{metrics_port}/metrics")
    try:
        play(drill, name, store_path)
    finally:
        tools.close()


@main.command()
@click.argument("scenario", required=False)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (only this machine by default).")
@click.option("--port", type=click.IntRange(1, 65535), default=8321, show_default=True)
@click.option("--speed", type=_speed, default=1.0, show_default=True, help="Simulated seconds per wall-clock second.")
@click.option("--seed", type=SEED, help="Seed for every random choice in the drill (default: the plan entry's, else 0).")
@_process_option
@_roster_option
@click.option("--plan", "plan_file", type=_file, help="A quarter plan (drills/<year>-Q<n>.yaml): with --entry, serve that live drill.")
@click.option("--entry", type=click.IntRange(min=1), help="Which drill of --plan (1-based): its scenario, seed and people's seats.")
@click.option("--out", type=_Path(file_okay=False, path_type=Path),
              help="Drill folder (default: reports/<scenario>/live-<time>/).")
@click.option("--resume", type=_Path(exists=True, file_okay=False, path_type=Path),
              help="Carry on the drill in this folder after the server stopped (same links).")
@click.option("--rate-limit", "rate", type=_Finite(min=0.1, max=10000), default=web.RATE, show_default=True,
              help=f"Actions and controls a second per link, in bursts of up to {web.BURST:g} seconds' worth (429 beyond).")
@_store_option
@_tools_options
@click.option("--pages-from", type=click.Choice(["drill", "alertmanager"]), default="drill", show_default=True,
              help="Who pages: the drill's own alert routing, or the team's Alertmanager through the webhook.")
@click.option("--pagerduty-webhook-secret", envvar="DRILLSIM_PAGERDUTY_WEBHOOK_SECRET",
              help="The PagerDuty webhook subscription's secret: refuse webhooks it did not sign.")
def serve(scenario, host, port, speed, seed, process_file, roster, plan_file, entry, out, resume, rate, store_path,
          pages_from, pagerduty_webhook_secret, **tool_options):
    """Serve a live drill of SCENARIO to a room: a facilitator page and one page per participant,
    with bots in every seat no person takes. Prints the facilitator's secret link."""
    import datetime as dt
    import sys

    from .inputs import config
    from .live.web.app import serve as run_server
    from .live.web.room import Room, planned_seats

    _endpoints(tool_options)
    if resume:
        context = click.get_current_context()
        given = [p.opts[0] if p.opts[0].startswith("--") else p.name.upper() for p in context.command.params
                 if p.name not in ("resume", "host", "port", "rate", "store_path", "pagerduty_webhook_secret",
                                   *_TOOLS_OPTIONS) and context.get_parameter_source(p.name).name != "DEFAULT"]
        if given:
            raise DrillError("--resume carries on a drill as it was set up (change the speed on the facilitator's "
                             f"page): drop {', '.join(given)}")
        _check_listen(host, port)
        room = Room.open(resume)
    else:
        process_file = process_file or config.default_file("drills/process.yaml")
        roster = roster or config.default_file("drills/roster.yaml")
        seats, recording = [], None
        if plan_file or entry:
            process = config.load_process(process_file)
            scenario, chosen, quarter = _planned(plan_file, entry, scenario, config.load_roster(roster, process),
                                                 process, how="serve")
            seed = chosen.seed if seed is None else seed
            seats = planned_seats(chosen)
            recording = {"plan": quarter, "entry": entry, "shadows": {r: list(p) for r, p in chosen.shadows.items()},
                         "roles": dict(chosen.roles)}
        scenario_file = config.scenario_path(scenario)
        name = config.load_scenario(scenario_file).name
        out = out or Path("reports") / name / f"live-{dt.datetime.now(dt.UTC):%Y%m%d-%H%M%S}"
        _check_listen(host, port)  # before a room.json exists that a second try would refuse
        room = Room.create(out, scenario_file, process_file, roster, seed=seed or 0, speed=speed, seats=seats,
                           plan=recording, extra={"pages": pages_from} if pages_from != "drill" else None)
    base = f"http://{host if ':' not in host else f'[{host}]'}:{port}"
    click.echo(f"Drill server: {room.scenario.title} ({room.phase}), folder {room.folder}/")
    click.echo(f"Facilitator (keep it secret): {base}/f/{room.state['facilitator']}/")
    for seat in room.state["seats"]:
        click.echo(f"  {seat['name'] or '(unnamed)'} [{seat['seat']}]: {base}/p/{seat['token']}/")
    tools = _tools(room.folder, tool_options, pagerduty_secret=pagerduty_webhook_secret)
    click.echo(f"Webhooks: Alertmanager {base}/w/{tools.token}/alertmanager, PagerDuty {base}/w/{tools.token}/pagerduty")
    if tool_options["metrics"]:
        click.echo(f"Prometheus can scrape {base}/metrics")
    click.echo(f"After a crash: drill serve --resume {room.folder} --port {port}")
    sys.stdout.flush()  # the links must reach a pipe before the server blocks
    room.store_path = store_path
    run_server(room, host, port, rate, tools)


def _check_listen(host: str, port: int) -> None:
    """Refuse an address the server could not listen on, before anything is set up."""
    import socket

    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except (OSError, ValueError) as exc:  # ValueError: a NUL, or a name IDNA refuses
        raise DrillError(f"--host {host} --port {port}: cannot listen there: {getattr(exc, 'strerror', None) or exc}") from None


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _thresholds(given: tuple[str, ...], known: dict) -> dict:
    """``--threshold METRIC=VALUE`` options as {metric: value}."""
    found = {}
    for text in given:
        metric, _, value = text.partition("=")
        if metric not in known:
            raise DrillError(f"--threshold {text}: unknown metric {metric!r} (known: {', '.join(known)})")
        try:
            found[metric] = float(value)
        except ValueError:
            raise DrillError(f"--threshold {text}: expected METRIC=NUMBER, e.g. score=2") from None
        if not 0 <= found[metric] < math.inf:  # also false for nan
            raise DrillError(f"--threshold {text}: a threshold is a number, 0 or more")
    return found


class VariantSpec(click.ParamType):
    """``NAME=FILE`` (or just ``FILE``, named after it): one process variant."""

    name = "NAME=FILE"

    def convert(self, value, param, ctx):
        name, _, file = value.rpartition("=") if "=" in value else (Path(value).stem, "", value)
        if not name or not file:
            self.fail(f"expected NAME=FILE, e.g. ic-comms=drills/variants/ic-does-comms.yaml, got {value!r}", param, ctx)
        name = _Slug().convert(name, param, ctx)  # it names the comparison's folder
        if not Path(file).is_file():
            self.fail(f"{file}: no such variant file", param, ctx)
        return name, Path(file)


@main.command()
@click.argument("scenarios", nargs=-1)
@click.option("--variant", "variant_specs", type=VariantSpec(), multiple=True, required=True,
              help="A process variant, NAME=FILE; give two or more. The first is the baseline.")
@click.option("--runs", type=click.IntRange(1, 10_000_000), default=1000, show_default=True, help="Runs; each runs every variant.")
@click.option("--seed", type=SEED, default=0, show_default=True, help="Seed for the runs' scenarios and drill seeds.")
@click.option("--weights", help="Comma-separated weights of the scenarios (default: spread uniformly).")
@click.option("--workers", type=click.IntRange(1, 1024), help="Local worker processes (default: every core).")
@click.option("--dask", "dask_address", metavar="ADDRESS", help="Run on an existing Dask cluster, e.g. tcp://host:8786.")
@_process_option
@_roster_option
@click.option("--out", type=_Path(file_okay=False, path_type=Path), help="Output folder (default: reports/compare/<name>/).")
@click.option("--name", type=_Slug(), help="Name of the comparison (default: the variant names joined by -vs-).")
@click.option("--threshold", "thresholds", multiple=True, metavar="METRIC=VALUE",
              help="Smallest difference called better or worse, in the unit shown (minutes, pp, points), "
                   "e.g. score=2 or time_to_declare_s=0.5; repeatable (defaults: docs/variants.md).")
def compare(scenarios, variant_specs, runs, seed, weights, workers, dask_address, process_file, roster, out, name,
            thresholds):
    """Compare process variants on RUNS paired simulated drills of SCENARIOS (default: the reference
    scenario); write runs.parquet, summary.md, summary.html and plots/ to reports/compare/<name>/."""
    import contextlib
    import os
    import signal
    import sys
    import time

    from .analysis import compare as cmp
    from .analysis import journal, summary
    from .inputs import config
    from .inputs.variants import load_variant
    from .outputs.files import replace_files

    if dask_address and workers:
        raise DrillError("give --workers or --dask, not both")
    if len(variant_specs) < 2:
        raise DrillError("give two or more --variant: the first is the baseline the others are compared with")
    process_file = process_file or config.default_file("drills/process.yaml")
    roster = roster or config.default_file("drills/roster.yaml")
    scns = tuple(config.load_scenario(config.scenario_path(s)) for s in (scenarios or (None,)))
    try:
        weight_list = tuple(float(w) for w in weights.split(",")) if weights else ()
    except ValueError:
        weight_list = (math.nan,)
    if not all(math.isfinite(w) and w >= 0 for w in weight_list):
        raise DrillError(f"--weights: expected comma-separated numbers, 0 or more, got {weights!r}")
    practical = _thresholds(thresholds, summary.THRESHOLDS)
    variants = tuple(load_variant(n, f, process_file, roster) for n, f in variant_specs)
    plan = cmp.Plan(scns, variants, runs, seed, weight_list)
    out = out or Path("reports") / "compare" / (name or cmp.default_name(plan))
    # On a cluster, batches are cut for its worker threads, as they are for local cores.
    client = cmp.connect(dask_address) if dask_address else None
    workers = sum(client.nthreads().values()) if client else workers or os.cpu_count() or 1
    where = (f"the Dask cluster at {dask_address} ({workers} worker thread{'s' * (workers != 1)} now)" if client
             else f"{workers} local worker{'s' * (workers > 1)}")
    click.echo(f"{plan.drills} drills ({runs} runs x {len(variants)} variants) on {where}", err=True)
    started = time.perf_counter()
    done = [0]

    def rate(_):
        elapsed = time.perf_counter() - started
        return f"{done[0] / elapsed:,.0f} drills/s" if done[0] and elapsed > 0 else ""

    # SIGTERM, like Ctrl-C, stops the workers and keeps the finished batches for the next try.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    kept = journal.Journal(out, plan, plan.per_batch(workers))
    if kept.offsets:
        click.echo(f"Carrying on the comparison stopped in {out}/: {len(kept.offsets)} batches of runs already done", err=True)
    scenario_index, _ = plan.assignments()
    counts = [int((scenario_index == i).sum()) for i in range(len(scns))]
    try:
        with contextlib.ExitStack() as stack:
            with click.progressbar(length=plan.drills, label="Simulating", show_eta=True, show_percent=True,
                                   item_show_func=rate, file=sys.stderr) as bar:
                def progress(n):
                    done[0] += n
                    bar.update(n, done[0])

                runs_file = stack.enter_context(
                    cmp.staged_runs(cmp.execute(plan, workers, client, progress, kept), out / "runs.parquet"))
            elapsed = time.perf_counter() - started
            click.echo(f"Simulated {plan.drills} drills in {elapsed:.1f} s ({plan.drills / elapsed:,.0f} drills/s)", err=True)
            # The summary is made from the staged runs file and both go into place together: a
            # stop before that leaves the folder as the last finished comparison left it (and the
            # journal to carry on from), never a new runs.parquet beside an old summary.
            made = summary.summary_files(
                runs_file, out, [{"name": v.name, "description": v.description, "file": str(f)}
                                 for v, (_, f) in zip(variants, variant_specs)],
                [{"name": s.name, "runs": c} for s, c in zip(scns, counts)], runs, seed, thresholds=practical)
            written = replace_files(out, made, stale=summary.STALE, staged={"runs.parquet": runs_file})
    except KeyboardInterrupt:  # Ctrl-C, or SIGTERM (_interrupt): click's bare "Aborted!" did not say the work is kept
        click.echo(f"\ninterrupted: {kept.runs} of {runs} runs kept in {kept.path}; run the same command again "
                   "to carry on", err=True)
        raise click.exceptions.Exit(1) from None  # the status click's Abort gave
    finally:
        kept.close()
        signal.signal(signal.SIGTERM, previous)
        if client:
            client.close()
    journal.remove(out)  # only now: until runs.parquet is in place, the journal is the work done
    click.echo((out / "summary.md").read_text(encoding="utf-8").split("## Per metric")[0].rstrip())
    click.echo(f"\nWrote runs.parquet, {', '.join(p.name for p in written[:2])} and {len(written) - 3} plots to {out}/")


if __name__ == "__main__":  # python -m sim.cli, as the console script drill
    main()
