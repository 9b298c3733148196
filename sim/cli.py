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
@click.option("--name", help="Your name in the drill (default: the first person of a resumed drill).")
@click.option("--as", "seat", type=click.Choice(["oncall", "ic", "comms", "ops"]), default="oncall", show_default=True,
              help="Your seat: the primary on-call (who can take any role), or the role the bots hand you (ic: IC training).")
@click.option("--speed", type=float, help="Simulated seconds per second (default 1: real time).")
@click.option("--bots/--no-bots", default=True, show_default=True, help="Bots play every roster member who is not you.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for every random choice in the drill.")
@click.option("--process", "process_file", type=_file, help="Process file (default: drills/process.yaml if present, else built-in).")
@click.option("--roster", type=_file, help="Roster file (default: drills/roster.yaml if present, else built-in).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="The drill's folder (default: reports/live/<scenario>-<UTC date and time>/).")
@click.option("--resume", type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="Carry on the drill kept in this folder, from where it stopped.")
def live(scenario, name, seat, speed, bots, seed, process_file, roster, out, resume):
    """Play SCENARIO live at the terminal, with bots in the other seats; at the end, the
    scorecard, and the outputs of drill run in the drill's folder."""
    import datetime as dt
    import sys

    from . import config
    from .console import play
    from .live import LiveDrill

    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise DrillError("drill live needs a terminal (use drill run for a simulated drill)")
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
    play(drill, name)
