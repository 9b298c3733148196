"""Comparing process variants: pairing, identical results on every executor, honest intervals, mechanisms."""

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from sim import run_drill
from sim.analysis import compare, stats
from sim.cli import main
from sim.inputs.config import load_scenario
from sim.inputs.errors import DrillError
from sim.inputs.variants import load_variant

from .conftest import REPO, SCENARIOS, still
from .test_rendered import unreadable

VARIANTS = REPO / "drills" / "variants"
PROCESS, ROSTER = REPO / "drills" / "process.yaml", REPO / "drills" / "roster.yaml"
REFERENCE = load_scenario(SCENARIOS / "checkout-config-push.yaml")


def variant(name):
    return load_variant(name, VARIANTS / f"{name}.yaml", PROCESS, ROSTER)


def frame(plan, **kwargs) -> pd.DataFrame:
    return pd.DataFrame([r for rows in compare.execute(plan, **kwargs) for r in rows])


def test_every_variant_runs_the_same_scenarios_and_seeds():
    scenarios = (REFERENCE, load_scenario(SCENARIOS / "memory-leak-restart.yaml"))
    plan = compare.Plan(scenarios, (variant("baseline"), variant("ic-does-comms")), runs=9, seed=3, weights=(2, 1))
    runs = frame(plan)
    assert list(runs["run"]) == [r for r in range(9) for _ in range(2)]
    by_variant = {name: group.set_index("run")[["scenario", "seed"]] for name, group in runs.groupby("variant")}
    assert by_variant["baseline"].equals(by_variant["ic-does-comms"])
    assert (runs.groupby("scenario")["run"].nunique().to_dict()
            == {"checkout-config-push": 6, "memory-leak-restart": 3})  # weights 2:1, exactly
    assert by_variant["baseline"]["seed"].nunique() == 9
    again = compare.Plan(scenarios, plan.variants, runs=9, seed=3, weights=(2, 1)).assignments()
    assert all(np.array_equal(a, b) for a, b in zip(plan.assignments(), again))


def test_serial_pool_and_dask_give_identical_runs_parquet(tmp_path, monkeypatch):
    from distributed import LocalCluster

    # Row groups of 10 rows: 48 rows cross four boundaries, and each executor cuts the runs
    # into other batches (serial 3 runs, pool 1 run per batch), so a row group that followed
    # the batches would show up as different bytes.
    monkeypatch.setattr(compare, "ROW_GROUP", 10)
    plan = compare.Plan((REFERENCE,), (variant("baseline"), variant("page-all-teams")), runs=24, seed=11)
    assert plan.per_batch(1) == 3 and plan.per_batch(2) == 1  # 24 // 8, 24 // 16
    serial = compare.write_runs(compare.execute(plan), tmp_path / "serial" / "runs.parquet").read_bytes()
    pool = compare.write_runs(compare.execute(plan, workers=2), tmp_path / "pool" / "runs.parquet").read_bytes()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        on_dask = compare.write_runs(compare.execute(plan, workers=4, dask=cluster.scheduler_address),
                                     tmp_path / "dask" / "runs.parquet").read_bytes()
    assert serial == pool == on_dask
    runs = pd.read_parquet(tmp_path / "dask" / "runs.parquet")
    assert len(runs) == 48 and list(runs["run"]) == [r for r in range(24) for _ in range(2)]


def test_runs_are_written_in_row_groups_of_a_fixed_size_whatever_the_batches(tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    monkeypatch.setattr(compare, "ROW_GROUP", 5)
    plan = compare.Plan((REFERENCE,), (variant("baseline"), variant("cadence-15m")), runs=6, seed=1)
    rows = [row for rows in compare.execute(plan) for row in rows]
    files = []
    for cut in ([12], [1] * 12, [7, 3, 2], [4, 4, 4]):  # batches of these many rows
        starts = np.cumsum([0, *cut])
        batches = [rows[a:b] for a, b in zip(starts, starts[1:])]
        files.append(compare.write_runs(iter(batches), tmp_path / str(cut) / "runs.parquet"))
    assert len({f.read_bytes() for f in files}) == 1
    metadata = pq.ParquetFile(files[0]).metadata
    assert [metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)] == [5, 5, 2]  # 12 rows
    back = pd.read_parquet(files[0])
    assert list(zip(back["run"], back["variant"], back["score"])) == [(r["run"], r["variant"], r["score"]) for r in rows]


def test_a_comparison_stopped_while_writing_leaves_the_previous_file(tmp_path):
    plan = compare.Plan((REFERENCE,), (variant("baseline"), variant("cadence-15m")), runs=4, seed=1)
    path = compare.write_runs(compare.execute(plan), tmp_path / "runs.parquet")
    before = path.read_bytes()

    def stopped():
        yield from compare.execute(compare.Plan(plan.scenarios, plan.variants, runs=4, seed=2))
        raise KeyboardInterrupt  # Ctrl-C after every row was written, before the file was closed

    with pytest.raises(KeyboardInterrupt):
        compare.write_runs(stopped(), path)
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["runs.parquet"]


def test_the_ecdf_plot_of_many_runs_keeps_a_bounded_number_of_steps_on_the_curve():
    from sim.analysis.summary import ECDF_POINTS, _ecdf

    x = np.sort(np.random.default_rng(1).exponential(size=100_000))
    xs, ps = _ecdf(x)
    assert len(xs) == ECDF_POINTS and xs[0] == x[0] and xs[-1] == x[-1] and ps[-1] == 1.0
    # each point is exactly on the empirical CDF: the share of values <= it (values are distinct)
    assert np.array_equal(ps, np.searchsorted(x, xs, side="right") / x.size)
    small = np.array([1.0, 2.0, 2.0, 5.0])  # few runs: every step, as before
    assert [list(a) for a in _ecdf(small)] == [[1.0, 2.0, 2.0, 5.0], [0.25, 0.5, 0.75, 1.0]]


def test_bootstrap_interval_covers_a_known_paired_difference():
    # Baseline: heavy-tailed durations; the variant is 10% faster run by run, plus noise.
    # The true mean difference is -0.1 * E[baseline] = -0.1 * exp(0.5) * 1000 (log-normal, sigma 1).
    rng = np.random.default_rng(5)
    true = -0.1 * np.exp(0.5) * 1000
    covered = 0
    for _ in range(40):
        base = rng.lognormal(np.log(1000), 1.0, size=400)
        var = 0.9 * base + rng.normal(0, 20, size=400)
        result = stats.paired(var, base, lower_is_better=True, rng=rng, resamples=400)
        covered += result.mean.low <= true <= result.mean.high
        assert result.better > 0.9
    assert covered >= 34  # a 95% interval covers the truth in about 38 of 40 samples
    same = stats.paired(base + rng.normal(0, 5, size=400), base, True, rng, resamples=400)
    assert same.mean.within_noise


def test_bootstrap_of_a_known_distribution():
    rng = np.random.default_rng(0)
    est = stats.bootstrap(np.arange(1, 1001, dtype=float), ("median", "p90", "mean"), rng, resamples=500)
    assert est["median"].value == 500.5 and est["mean"].value == 500.5
    assert est["median"].low < 500.5 < est["median"].high and est["p90"].low < 900.1 < est["p90"].high
    assert est["mean"].high - est["mean"].low == pytest.approx(2 * 1.96 * 288.7 / np.sqrt(1000), rel=0.15)


# Each shipped variant moves what its mechanism moves (docs/variants.md), paired on the same seeds.
EXPECTED = [
    ("ic-does-comms", REFERENCE, "cadence_adherence", "lower"),
    ("ic-does-comms", REFERENCE, "people_engaged", "lower"),
    ("cadence-15m", REFERENCE, "updates_posted", "higher"),
    ("cadence-15m", REFERENCE, "update_writing_min", "higher"),
    ("cadence-30m", REFERENCE, "updates_posted", "lower"),
    ("page-all-teams", REFERENCE, "people_engaged", "higher"),
    ("page-all-teams", REFERENCE, "briefing_min", "higher"),
    ("oncall-is-ic", REFERENCE, "ic_hands_on_actions", "higher"),
    ("oncall-is-ic", REFERENCE, "time_to_mitigate_s", "higher"),
    ("wait-for-confirmation", "orders-db-creeping-load", "time_to_declare_s", "higher"),
    ("wait-for-confirmation", "reindex-cpu-doubt", "declared", "lower"),
]


@pytest.fixture(scope="module")
def moves():
    cache = {}

    def run(name, scenario):
        if isinstance(scenario, str):
            scenario = load_scenario(SCENARIOS / f"{scenario}.yaml")
        key = (name, scenario.name)
        if key not in cache:
            plan = compare.Plan((scenario,), (variant("baseline"), variant(name)), runs=120, seed=2)
            cache[key] = frame(plan, workers=2)
        return cache[key]

    return run


@pytest.mark.parametrize("name, scenario, metric, direction", EXPECTED,
                         ids=[f"{n}-{m}" for n, _, m, _ in EXPECTED])
def test_each_shipped_variant_moves_its_metric(moves, name, scenario, metric, direction):
    runs = moves(name, scenario)
    wide = runs.pivot(index="run", columns="variant", values=metric).astype(float)
    result = stats.paired(wide[name], wide["baseline"], None, np.random.default_rng(0), resamples=500)
    assert not result.mean.within_noise, f"{name}: {metric} did not move beyond the noise"
    assert (result.mean.value > 0) == (direction == "higher")


def test_variant_overlay_errors_name_the_file_and_line(write):
    bad = write("bad.yaml", """
        description: typo
        process:
          dedicated_coms: false
          page_teams: everyone
    """)
    with pytest.raises(DrillError) as err:
        load_variant("bad", bad, PROCESS, ROSTER)
    text = str(err.value)
    assert f"{bad}:3: process: unknown field 'dedicated_coms'" in text
    assert f"{bad}:4: process.page_teams: expected one of minimum, all, got 'everyone'" in text
    stranger = write("stranger.yaml", "roster:\n  nobody: {experience: 2}\n")
    with pytest.raises(DrillError, match=f"{stranger}:2: roster: no person 'nobody' in the roster"):
        load_variant("stranger", stranger, PROCESS, ROSTER)


def test_a_variant_changes_part_of_a_level_of_the_teams_own_naming(write):
    # A process file's own levels give all their fields; a variant's overlay says only what it
    # changes (it was refused: 'severities.P1: give response, roles, postmortem').
    process = write("process.yaml", """
        severities:
          P1: {response: 5m, cadence: [10m, 20m], roles: [ic, comms, ops], postmortem: true}
          P2: {response: 30m, cadence: 1h, roles: [], postmortem: false}
    """)
    path = write("v.yaml", "process:\n  severities: {P1: {cadence: 5m}}\n")
    p1 = load_variant("v", path, process, ROSTER).process.level("P1")
    assert (p1.cadence_min, p1.cadence_max, p1.roles, p1.response) == (300.0, 300.0, ("ic", "comms", "ops"), 300.0)
    # The shipped cadence-15m changes SEV1, which this process has not: it was added after P2,
    # the least severe level, never declared, and the comparison found no difference in any run.
    with pytest.raises(DrillError) as err:
        load_variant("v", VARIANTS / "cadence-15m.yaml", process, ROSTER)
    assert str(err.value) == (f"{VARIANTS / 'cadence-15m.yaml'}:6: process.severities.SEV1: the process has no level "
                              "'SEV1' (its levels: P1, P2): a variant changes the levels the process file gives")


def test_the_process_file_given_as_a_variant_is_named_as_such():
    # It was refused field by field ("variant: unknown field 'severities'", ten lines), as if
    # each were a typo; a variant file with a misspelt top-level key still is.
    with pytest.raises(DrillError) as err:
        load_variant("base", PROCESS, PROCESS, ROSTER)
    assert str(err.value) == (f"{PROCESS}: a process file, not a variant: a variant names what it changes under "
                              "'process:' (drills/variants/baseline.yaml runs drills/process.yaml as written)")


def test_variant_merges_one_severity_and_overlays_a_profile(write):
    path = write("v.yaml", """
        process:
          severities: {SEV1: {cadence: 15m}}
        roster:
          sam: {discipline: 50%}
    """)
    v = load_variant("v", path, PROCESS, ROSTER)
    assert (v.process.severities["SEV1"].cadence_min, v.process.severities["SEV1"].cadence_max) == (900.0, 900.0)
    assert v.process.severities["SEV2"].cadence_max == 3600.0 and len(v.process.severities) == 4
    assert v.roster.person("sam").profile.discipline == 0.5
    assert v.roster.person("alex").profile.experience == 1.3  # untouched people keep the roster's profile
    built_in = load_variant("v", path)  # no process file: overlaid on the built-in process
    assert built_in.process.severities["SEV1"].cadence_max == 900.0 and len(built_in.process.severities) == 4
    # A process file that keeps the built-in levels (no severities:) keeps all four under the
    # overlay; before, SEV1 alone was left, and a drill's SEV2 declaration was refused.
    own = write("process.yaml", "page_teams: all\n")
    kept = load_variant("v", path, own, ROSTER).process
    assert list(kept.severities) == ["SEV1", "SEV2", "SEV3", "SEV4"] and kept.page_teams == "all"
    assert kept.severities["SEV1"].cadence_max == 900.0 and kept.severities["SEV2"].cadence_max == 3600.0


def test_a_failing_drill_is_a_result_not_a_lost_run(tmp_path, monkeypatch):
    from sim.analysis import summary

    plan = compare.Plan((REFERENCE,), (variant("baseline"), variant("cadence-15m")), runs=6, seed=1)
    doomed = int(plan.assignments()[1][2])  # run 2's seed

    def run_or_fail(scenario, process, roster, seed, samples):
        if seed == doomed and process is plan.variants[1].process:
            raise RuntimeError("the model met a case it cannot simulate")
        return run_drill(scenario, process, roster, seed=seed, samples=samples)

    monkeypatch.setattr(compare, "run_drill", run_or_fail)
    path = compare.write_runs(compare.execute(plan), tmp_path / "runs.parquet")
    runs = pd.read_parquet(path)
    failed = runs[runs["error"].notna()]
    assert len(runs) == 12 and list(zip(failed["run"], failed["variant"], failed["error"])) == [
        (2, "cadence-15m", "RuntimeError: the model met a case it cannot simulate")]
    assert runs["score"].notna().sum() == 11
    summary.write_summary(path, tmp_path, [{"name": v.name, "description": "", "file": "-"} for v in plan.variants],
                          [{"name": REFERENCE.name, "runs": 6}], 6, 1, resamples=200)
    md = (tmp_path / "summary.md").read_text()
    assert "- cadence-15m: 1 of 6 runs failed, first in run 2: `RuntimeError: the model met a case it cannot simulate`" in md


def test_drill_compare_writes_the_report(tmp_path):
    out = tmp_path / "cmp"
    result = CliRunner().invoke(main, [
        "compare", "--variant", f"baseline={VARIANTS / 'baseline.yaml'}",
        "--variant", f"wait={VARIANTS / 'wait-for-confirmation.yaml'}", "orders-db-creeping-load",
        "--runs", "40", "--seed", "4", "--workers", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "80 drills (40 runs x 2 variants)" in result.output
    names = sorted(p.name for p in out.iterdir())
    assert names == ["plots", "runs.parquet", "summary.html", "summary.md"]
    md = (out / "summary.md").read_text()
    assert "These results hold under the model's documented assumptions" in md
    assert "wait: Time to declare +" in md  # waiting declares later, beyond the noise
    assert "within noise" in md
    html = (out / "summary.html").read_text()
    assert html.startswith("<!doctype html>") and "plots/time_to_declare_s.png" in html
    assert unreadable(md) == [] and unreadable(html) == []  # no nan, None or -0.00
    assert (out / "plots" / "time_to_declare_s.png").read_bytes().startswith(b"\x89PNG")


def test_compare_rejects_bad_input_cleanly(tmp_path):
    result = CliRunner().invoke(main, ["compare", "--variant", "x=nope.yaml", "--runs", "2"])
    assert result.exit_code == 2 and "nope.yaml: no such variant file" in result.output
    result = CliRunner().invoke(main, ["compare", "--variant", f"a={VARIANTS / 'baseline.yaml'}",
                                       "--variant", f"a={VARIANTS / 'cadence-15m.yaml'}", "--runs", "2",
                                       "--out", str(tmp_path)])
    assert result.exit_code == 2 and "variant names must differ" in result.output
    assert "Traceback" not in result.output
    # A scenario given twice was run as two alike, each listed in the summary with half the runs.
    twice = CliRunner().invoke(main, ["compare", "checkout-config-push", "sev3-worsening", "checkout-config-push",
                                      "--variant", f"a={VARIANTS / 'baseline.yaml'}", "--variant",
                                      f"b={VARIANTS / 'cadence-15m.yaml'}", "--runs", "2", "--out", str(tmp_path)])
    assert twice.exit_code == 2 and "scenario checkout-config-push given twice: give each once" in twice.output
    # One variant ran its 1,000 drills and wrote 'No meaningful difference from **a**': with nothing to compare.
    result = CliRunner().invoke(main, ["compare", "--variant", f"a={VARIANTS / 'baseline.yaml'}", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "give two or more --variant" in result.output
    assert list(tmp_path.iterdir()) == []


def test_large_samples_get_intervals_that_agree_with_the_bootstrap():
    rng = np.random.default_rng(3)
    x = rng.lognormal(0, 1, size=stats.BOOTSTRAP_MAX + 1)
    large = stats.bootstrap(x, ("median", "p90", "mean"), rng)
    small = {name: stats.bootstrap(x[:-1], (name,), rng, resamples=300)[name] for name in ("median", "p90", "mean")}
    for name in ("median", "p90", "mean"):
        width = small[name].high - small[name].low
        assert large[name].low == pytest.approx(small[name].low, abs=0.2 * width)
        assert large[name].high == pytest.approx(small[name].high, abs=0.2 * width)


def test_validate_checks_variant_files():
    result = CliRunner().invoke(main, ["validate", *map(str, sorted(VARIANTS.glob("*.yaml")))])
    assert result.exit_code == 0, result.output
    assert result.output.count("ok (variant)") == 7


def test_paged_teams_send_people_whom_the_ic_briefs():
    everyone = variant("page-all-teams")
    # Nothing drawn: the incident lasts its nominal half hour, long enough for everyone to join
    # (a drawn one may be over before a team's engineer arrives).
    result = run_drill(still(REFERENCE), everyone.process, everyone.roster, seed=1, samples=False)
    joined = {e["who"]: e["team"] for e in result.events if e["kind"] == "responder.joined"}
    # checkout is already there (dana is on call) and sre holds IC and comms; the rest send someone.
    assert joined == {"lee": "payments", "catalog-oncall": "catalog", "web-oncall": "web"}
    ic = next(p for p in result.participants if p["name"] == "alex")
    assert ic["worked"]["brief"] > 0


def test_scripted_drills_keep_exactly_the_scripts_participants():
    from sim.inputs.config import load_script

    from .conftest import DATA

    script = load_script(DATA / "article.yaml", REFERENCE.start)
    result = run_drill(REFERENCE, variant("page-all-teams").process, script=script, seed=0)
    assert not [e for e in result.events if e["kind"] == "responder.joined"]
    assert {p["name"] for p in result.participants} == {p.name for p in script.participants}


def test_better_or_worse_only_past_the_interval_and_the_practical_threshold():
    from sim.analysis.summary import _verdict

    def diff(mean, low, high):
        return stats.Paired(100, stats.Estimate(mean, low, high), 0.5, 0.1, False)

    # Role coverage +0.01 pp, interval clear of 0: real but far below the 2 pp that matters.
    assert _verdict(diff(0.0001, 0.00005, 0.00015), "higher", 0.02, "%") == "no meaningful difference (under 2.0 pp)"
    assert _verdict(diff(0.05, 0.03, 0.07), "higher", 0.02, "%") == "better"
    assert _verdict(diff(-0.05, -0.07, -0.03), "higher", 0.02, "%") == "worse"
    # Time to declare +2.8 min (168 s) against a 1 min threshold: worse; inside the noise it is not.
    assert _verdict(diff(168.0, 120.0, 210.0), "lower", 60.0, "min") == "worse"
    assert _verdict(diff(168.0, -10.0, 330.0), "lower", 60.0, "min") == "no meaningful difference (within noise)"
    assert _verdict(diff(2.0, 1.2, 2.8), "higher", 3.0, "points") == "no meaningful difference (under 3.0)"

    # Judged only from 30 paired runs: the same difference from 29 is not.
    assert _verdict(stats.Paired(29, stats.Estimate(168.0, 120.0, 210.0), 1.0, 0.0, False), "lower", 60.0,
                    "min") == "too few runs to judge (29 of the 30 needed)"
    assert _verdict(None, "lower", 60.0, "min") == "too few runs to judge (0 of the 30 needed)"


def test_two_runs_give_no_verdict(tmp_path):
    from sim.analysis import summary

    # b declares 3 and 5 minutes later than a: the bootstrap's interval of 2 runs spans the two
    # (+3.0 to +5.0 min), so the summary called it worse, as it would any two that agree.
    pd.DataFrame({"run": [0, 0, 1, 1], "variant": ["a", "b"] * 2, "scenario": "s", "seed": [7, 7, 8, 8],
                  "error": pd.Series([None] * 4, dtype="string"),
                  "time_to_declare_s": [600.0, 780.0, 600.0, 900.0]}).to_parquet(tmp_path / "runs.parquet")
    summary.write_summary(tmp_path / "runs.parquet", tmp_path, [{"name": n, "description": "", "file": "-"} for n in "ab"],
                          [{"name": "s", "runs": 2}], 2, 0, resamples=200)
    md = (tmp_path / "summary.md").read_text()
    assert "| +4.0 min (+3.0 min to +5.0 min) | 0% | 100% | too few runs to judge (2 of the 30 needed) |" in md
    assert "Meaningful differences" not in md and "No meaningful difference from" not in md
    assert "Too few runs to judge (a verdict needs 30 runs in which both have the metric" in md
    assert "b: Time to declare (2 runs)." in md
    assert "b: Time to declare (2 runs)." in (tmp_path / "summary.html").read_text()

def test_compare_thresholds_are_checked():
    result = CliRunner().invoke(main, ["compare", "--variant", f"a={VARIANTS / 'baseline.yaml'}",
                                       "--variant", f"b={VARIANTS / 'cadence-15m.yaml'}", "--runs", "2",
                                       "--threshold", "speed=2"])
    assert result.exit_code == 2 and "--threshold speed=2: unknown metric 'speed'" in result.output
    result = CliRunner().invoke(main, ["compare", "--variant", f"a={VARIANTS / 'baseline.yaml'}",
                                       "--variant", f"b={VARIANTS / 'cadence-15m.yaml'}", "--runs", "2",
                                       "--threshold", "score=lots"])
    assert result.exit_code == 2 and "expected METRIC=NUMBER" in result.output


def test_a_better_score_bought_with_worse_times_is_called_a_trade_off():
    # wait-for-confirmation on the README's three scenarios (300 runs, seed 7): the score is +1.3 better
    # while declaring, mitigating and customer impact are worse. The headline must say both.
    from sim.analysis.summary import _tradeoffs

    def metric(column, label, verdict):
        return {"column": column, "label": label, "lines": [{"variant": "base", "verdict": "baseline", "despite": ""},
                                                           {"variant": "wait", "verdict": verdict, "despite": ""}]}

    rows = [metric("time_to_declare_s", "Time to declare", "worse"), metric("customer_impact_min", "Customer impact", "worse"),
            metric("role_coverage", "Role coverage", "better"), metric("score", "Score", "better")]
    _tradeoffs(rows)
    assert rows[-1]["lines"][1]["despite"] == "worse on time to declare and customer impact"
    rows[0]["lines"][1]["verdict"] = rows[1]["lines"][1]["verdict"] = "no meaningful difference (within noise)"
    rows[-1]["lines"][1]["despite"] = ""
    _tradeoffs(rows)
    assert rows[-1]["lines"][1]["despite"] == ""  # better everywhere it moved: a plain win
