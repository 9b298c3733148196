"""The ``drill`` command: a thin shell over the Python API."""

import json
from pathlib import Path

import click

from .errors import DrillError


class _Group(click.Group):
    """Prints a user's mistake as one clear message, never a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except DrillError as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=_Group)
@click.version_option(package_name="drillsim")
def main():
    """drillsim: chaos-driven incident drills, simulated or live, scored against your process."""


_file = click.Path(exists=True, dir_okay=False, path_type=Path)


@main.command()
@click.argument("scenario", required=False)
@click.option("--script", type=_file, help="A timeline script that plays some or all participants.")
@click.option("--process", "process_file", type=_file, help="Process file (default: drills/process.yaml if present, else built-in).")
@click.option("--roster", type=_file, help="Roster file (default: drills/roster.yaml if present, else built-in).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for every random choice in the drill.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Output folder (default: reports/<scenario>/<seed or script>/).")
@click.option("--json", "as_json", is_flag=True, help="Print score.json to stdout instead of the scorecard.")
def run(scenario, script, process_file, roster, seed, out, as_json):
    """Run one simulated drill of SCENARIO (a file, or a name in scenarios/; default: the reference
    checkout incident) and write events.jsonl, score.json, report.md and timeline.png."""
    from . import config, report
    from .engine import run_drill
    from .scoring import score

    scenario_file = config.scenario_path(scenario)
    scn = config.load_scenario(scenario_file)
    process = config.load_process(process_file or config.default_file("drills/process.yaml"))
    team = config.load_roster(roster or config.default_file("drills/roster.yaml"), process)
    timeline_script = config.load_script(script, scn.start) if script else None
    result = run_drill(scn, process, team, timeline_script, seed)
    card = score(result.events, scn, process)
    out = out or Path("reports") / scn.name / (f"script-{script.stem}" if script else f"seed-{seed}")
    written = report.write_outputs(result, card, out)
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


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def validate(files):
    """Check scenario, process, roster and script files; print every problem as file:line: message."""
    from .config import validate as check

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
        raise SystemExit(1)


@main.command()
def scenarios():
    """List the scenario library."""
    from . import config

    folders = [f for f in (Path.cwd() / "scenarios", config.REPO / "scenarios") if f.is_dir()]
    for path in sorted(folders[0].glob("*.yaml")) if folders else []:
        try:
            click.echo(f"{path.stem:<34} {config.load_scenario(path).title}")
        except DrillError as exc:
            click.echo(f"{path.stem:<34} INVALID: {str(exc).splitlines()[0]}")


@main.command()
@click.argument("scenario", required=False)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (only this machine by default).")
@click.option("--port", type=int, default=8321, show_default=True)
@click.option("--speed", type=float, default=1.0, show_default=True, help="Simulated seconds per wall-clock second.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--process", "process_file", type=_file, help="Process file (default: drills/process.yaml, else built-in).")
@click.option("--roster", type=_file, help="Roster file: the bots' names and profiles.")
@click.option("--plan", type=_file, help="A file listing the participants and their seats (participants: [{name, seat}]).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Drill folder (default: reports/<scenario>/live-<time>/).")
@click.option("--resume", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Carry on the drill in this folder after the server stopped (same links).")
def serve(scenario, host, port, speed, seed, process_file, roster, plan, out, resume):
    """Serve a live drill of SCENARIO to a room: a facilitator page and one page per participant,
    with bots in every seat no person takes. Prints the facilitator's secret link."""
    import datetime as dt
    import sys

    from . import config
    from .web.app import serve as run_server
    from .web.room import Room, seats_from_plan

    if resume:
        context = click.get_current_context()
        given = [p.opts[0] if p.opts[0].startswith("--") else p.name.upper() for p in context.command.params
                 if p.name not in ("resume", "host", "port") and context.get_parameter_source(p.name).name != "DEFAULT"]
        if given:
            raise DrillError("--resume carries on a drill as it was set up (change the speed on the facilitator's "
                             f"page): drop {', '.join(given)}")
        room = Room.open(resume)
    else:
        scenario_file = config.scenario_path(scenario)
        name = config.load_scenario(scenario_file).name
        out = out or Path("reports") / name / f"live-{dt.datetime.now(dt.UTC):%Y%m%d-%H%M%S}"
        room = Room.create(out, scenario_file, process_file or config.default_file("drills/process.yaml"),
                           roster or config.default_file("drills/roster.yaml"), seed=seed, speed=speed,
                           seats=seats_from_plan(plan) if plan else [])
    base = f"http://{host if ':' not in host else f'[{host}]'}:{port}"
    click.echo(f"Drill server: {room.scenario.title} ({room.phase}), folder {room.folder}/")
    click.echo(f"Facilitator (keep it secret): {base}/f/{room.state['facilitator']}/")
    for seat in room.state["seats"]:
        click.echo(f"  {seat['name'] or '(unnamed)'} [{seat['seat']}]: {base}/p/{seat['token']}/")
    click.echo(f"After a crash: drill serve --resume {room.folder} --port {port}")
    sys.stdout.flush()  # the links must reach a pipe before the server blocks
    run_server(room, host, port)
