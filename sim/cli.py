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


class VariantSpec(click.ParamType):
    """``NAME=FILE`` (or just ``FILE``, named after it): one process variant."""

    name = "NAME=FILE"

    def convert(self, value, param, ctx):
        name, _, file = value.rpartition("=") if "=" in value else (Path(value).stem, "", value)
        if not name or not file:
            self.fail(f"expected NAME=FILE, e.g. ic-comms=drills/variants/ic-does-comms.yaml, got {value!r}", param, ctx)
        if not Path(file).is_file():
            self.fail(f"{file}: no such variant file", param, ctx)
        return name, Path(file)


@main.command()
@click.argument("scenarios", nargs=-1)
@click.option("--variant", "variant_specs", type=VariantSpec(), multiple=True, required=True,
              help="A process variant, NAME=FILE; give two or more. The first is the baseline.")
@click.option("--runs", type=click.IntRange(1), default=1000, show_default=True, help="Runs; each runs every variant.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for the runs' scenarios and drill seeds.")
@click.option("--weights", help="Comma-separated weights of the scenarios (default: spread uniformly).")
@click.option("--workers", type=click.IntRange(1), help="Local worker processes (default: every core).")
@click.option("--dask", "dask_address", metavar="ADDRESS", help="Run on an existing Dask cluster, e.g. tcp://host:8786.")
@click.option("--process", "process_file", type=_file, help="Process the variants overlay (default: drills/process.yaml if present, else built-in).")
@click.option("--roster", type=_file, help="Roster file (default: drills/roster.yaml if present, else built-in).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Output folder (default: reports/compare/<name>/).")
@click.option("--name", help="Name of the comparison (default: the variant names joined by -vs-).")
def compare(scenarios, variant_specs, runs, seed, weights, workers, dask_address, process_file, roster, out, name):
    """Compare process variants on RUNS paired simulated drills of SCENARIOS (default: the reference
    scenario); write runs.parquet, summary.md, summary.html and plots/ to reports/compare/<name>/."""
    import os
    import sys
    import time

    from . import compare as cmp
    from . import config, summary
    from .variants import load_variant

    if dask_address and workers:
        raise DrillError("give --workers or --dask, not both")
    process_file = process_file or config.default_file("drills/process.yaml")
    roster = roster or config.default_file("drills/roster.yaml")
    scns = tuple(config.load_scenario(config.scenario_path(s)) for s in (scenarios or (None,)))
    try:
        weight_list = tuple(float(w) for w in weights.split(",")) if weights else ()
    except ValueError:
        raise DrillError(f"--weights: expected comma-separated numbers, got {weights!r}") from None
    variants = tuple(load_variant(n, f, process_file, roster) for n, f in variant_specs)
    plan = cmp.Plan(scns, variants, runs, seed, weight_list)
    out = out or Path("reports") / "compare" / (name or cmp.default_name(plan))
    workers = workers or os.cpu_count() or 1
    where = f"Dask cluster {dask_address}" if dask_address else f"{workers} local worker{'s' * (workers > 1)}"
    click.echo(f"{plan.drills} drills ({runs} runs x {len(variants)} variants) on {where}", err=True)
    started = time.perf_counter()
    done = [0]

    def rate(_):
        elapsed = time.perf_counter() - started
        return f"{done[0] / elapsed:,.0f} drills/s" if done[0] and elapsed > 0 else ""

    with click.progressbar(length=plan.drills, label="Simulating", show_eta=True, show_percent=True,
                           item_show_func=rate, file=sys.stderr) as bar:
        def progress(n):
            done[0] += n
            bar.update(n, done[0])

        runs_file = cmp.write_runs(cmp.execute(plan, workers, dask_address, progress), out / "runs.parquet")
    elapsed = time.perf_counter() - started
    click.echo(f"Simulated {plan.drills} drills in {elapsed:.1f} s ({plan.drills / elapsed:,.0f} drills/s)", err=True)
    scenario_index, _ = plan.assignments()
    counts = [int((scenario_index == i).sum()) for i in range(len(scns))]
    written = summary.write_summary(
        runs_file, out, [{"name": v.name, "description": v.description, "file": str(f)} for v, (_, f) in zip(variants, variant_specs)],
        [{"name": s.name, "runs": c} for s, c in zip(scns, counts)], runs, seed)
    click.echo((out / "summary.md").read_text(encoding="utf-8").split("## Per metric")[0].rstrip())
    click.echo(f"\nWrote runs.parquet, {', '.join(p.name for p in written[:2])} and {len(written) - 2} plots to {out}/")
