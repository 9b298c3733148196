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
    """Check scenario, process, roster, script, topology and fault catalog files; print every problem as
    file:line: message."""
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
@click.option("--topology", "topology_file", type=_file, help="Topology file (default: drills/topology.yaml).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the first scenario; the next ones use seed+1, ...")
@click.option("--count", type=click.IntRange(min=1), default=1, show_default=True, help="How many scenarios to write.")
@click.option("--difficulty", type=click.Choice(["easy", "medium", "hard"]),
              help="Keep drawing until each scenario's measured difficulty is in this band (default: any).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("generated"), show_default=True,
              help="Folder to write the scenario files to.")
def generate(topology_file, seed, count, difficulty, out):
    """Write generated scenarios: random failure stories over your topology, with difficulty measured
    by simulated drills. The same seed gives the same files; the files tell the story, so keep them
    from the participants (docs/generate.md)."""
    from . import generate as gen
    from .files import write_atomic
    from .topology import load_topology, topology_path

    topology = load_topology(topology_path(topology_file))
    for k in range(count):
        made = gen.generate(topology, seed + k, difficulty)
        path = write_atomic(out / f"{made.name}.yaml", made.text)
        click.echo(f"{path}: {made.band} (median bot score {made.median:g}); run it with: drill run {path}")


@main.group(name="import")
def import_():
    """Turn files of other tools into scenarios."""


@import_.command()
@click.argument("experiment", type=_file)
@click.option("--topology", "topology_file", type=_file, help="Topology file (default: drills/topology.yaml).")
@click.option("--mapping", type=_file, help="More mapping rules (YAML, read before the built-in table).")
@click.option("--target", help="The topology service that stands for targets the experiment names but the topology lacks.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Scenario file to write (default: stdout).")
def chaostoolkit(experiment, topology_file, mapping, target, out):
    """A scenario from a Chaos Toolkit EXPERIMENT (JSON or YAML): its method's actions become faults at the
    times its pauses give, its steady-state probes the alerts. What cannot be mapped is listed on stderr."""
    from .chaos import import_experiment
    from .files import write_atomic
    from .topology import load_topology, topology_path

    made = import_experiment(experiment, load_topology(topology_path(topology_file)), mapping, target)
    for line in made.skipped:
        click.echo(f"not mapped: {line}", err=True)
    if out is None:
        click.echo(made.text, nl=False)
    else:
        write_atomic(out, made.text)
        click.echo(f"Wrote {out}; run it with: drill run {out}", err=True)
