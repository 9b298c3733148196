"""Prometheus rules' alerts as users see them (labels, held alerts, logged summaries), and recording
rules that read what other recording rules start giving: checked against evaluating every tick and
worked by hand. The scenario is tests/test_promql_repeat.py's: errors above 10 a second from 7260
to 8055 (worked out there)."""

from dataclasses import replace

import pytest

from sim import load_scenario
from sim.inputs.config import Script
from sim.inputs.promrules import PromRule, RuleGroup
from sim.model.engine import Drill
from tests.test_promql_repeat import ERRORS, SCENARIO, alert, same_as_every_tick, times

HIGH = f"{ERRORS} > 10"


def firings(run, name):
    return [(e["kind"], e["t"], e["fingerprint"]) for e in run.log.events
            if e["kind"] in ("alert.pending", "alert.firing", "alert.resolved") and e["alert"] == name]


def test_a_prometheus_alerts_logged_summary_is_rendered_as_prometheus_does(tmp_path):
    # vector(1234.5) > 0 holds from the first evaluation, with that very value. Prometheus prints
    # $value as Go's %v (1234.5, every digit) and `humanize` with 4 significant digits and a
    # prefix (1.234k, Go's %.4g rounding half to even); a scenario's shorthand alert shows 4
    # significant digits, which a Prometheus rule's summary must not take.
    shown = alert("Big", "vector(1234.5) > 0", annotations={"summary": "at {{ $value }}, {{ humanize $value }}"})
    run = same_as_every_tick(tmp_path, [shown])
    logged = [(e["kind"], e["t"], e["summary"]) for e in run.log.events if e.get("alert") == "Big"]
    assert logged == [("alert.pending", 0, "at 1234.5, 1.234k"), ("alert.firing", 0, "at 1234.5, 1.234k")]


def test_keep_firing_for_under_an_evaluation_interval_still_holds_the_alert_one_evaluation(tmp_path):
    # the condition stops holding at 8055; keep_firing_for 1s holds the alert there (0 s of the
    # 1 s have passed) and lets it go at the next evaluation, 8070 (15 s > 1 s)
    run = same_as_every_tick(tmp_path, [alert("Errors", HIGH, 0.0, 1.0)])
    assert times(run, "Errors") == [("alert.pending", 7260), ("alert.firing", 7260), ("alert.resolved", 8070)]


def test_an_alert_label_that_shows_the_value_makes_an_alert_per_value(tmp_path):
    # Prometheus renders an alerting rule's labels at every evaluation: a label showing $value
    # gives each evaluation's output series its own labelset, so its own alert (its own
    # fingerprint). The rate moves at every scrape while the fault's errors fill the window, so
    # each alert resolves at the next evaluation, when the next fires.
    labelled = PromRule("alert", "Valued", HIGH, 0.0, 0.0, {"rate": "{{ $value }}"}, {})
    run = same_as_every_tick(tmp_path, [labelled])
    got = firings(run, "Valued")
    assert [(kind, t) for kind, t, _ in got[:6]] == [("alert.pending", 7260), ("alert.firing", 7260),
                                                     ("alert.resolved", 7275), ("alert.pending", 7275),
                                                     ("alert.firing", 7275), ("alert.resolved", 7290)]
    assert got[0][2] == got[2][2] != got[3][2] == got[5][2]


def test_a_recording_rule_reads_at_once_the_series_another_starts_giving(tmp_path):
    # `api:errors:high` exists only while the error rate is above 5 (from 7230 to 8085, worked
    # out in tests/test_promql_repeat.py); the second recording rule counts its series, after it
    # in the group, and the alert reads that count: it fires at 7230 and resolves at 8085, with
    # the count recorded at every tick in between (1) as when every tick is evaluated.
    rules = [PromRule("record", "api:errors:high", f"{ERRORS} > 5", 0.0, 0.0, {}, {}),
             PromRule("record", "api:errors:highs", "count(api:errors:high)", 0.0, 0.0, {}, {}),
             alert("Highs", "api:errors:highs > 0")]
    run = same_as_every_tick(tmp_path, rules)
    assert times(run, "Highs") == [("alert.pending", 7230), ("alert.firing", 7230), ("alert.resolved", 8085)]


@pytest.mark.parametrize("also", ["", " + 0 * count(up)"])
def test_a_recording_rule_reading_ahead_records_what_its_tick_saw(tmp_path, also):
    # offset -1m: the window [t-240, t+60] of the ticks before 7215 holds no sample after t, and the
    # errors come with the scrape at 7215. So the rate recorded there is the steady 0.15 a scrape
    # until 7215 (2.586 there, worked out in tests/test_promql_repeat.py's negative offset test;
    # 5.16 at 7230, two error scrapes), and the 2-minute maximum first exceeds 2.6 at 7230. A tick
    # the engine skipped and recorded later must not see the scrape at 7215, made after it. (Also
    # reading its own tick, `0 * count(up)`, does not make it safe.)
    ahead = PromRule("record", "api:next", f'sum(rate(http_requests_total{{code="500"}}[5m] offset -1m)){also}',
                     0.0, 0.0, {}, {})
    run = same_as_every_tick(tmp_path, [ahead, alert("Next", "max_over_time(api:next[2m]) > 2.6")])
    assert times(run, "Next")[:2] == [("alert.pending", 7230), ("alert.firing", 7230)]
    recorded = next(iter(next(iter(run.monitoring.rules.store.recorded.values())).values()))
    before = [v for t, v in zip(recorded.times, recorded.values) if 7000 < t < 7215]
    assert len(before) == 14 and max(before) < 0.01


def test_a_rule_reading_a_faulted_series_beside_a_calm_one_takes_no_calm_drills_results(tmp_path):
    # tests/test_promql_repeat.py's drills that start alike: a calm one, then one with the fault at
    # 25 s, the rate above 11 first at 90 (12.5005, worked out there). The rule also reads `up`,
    # which the fault leaves alone (calm in both): one calm read does not make its results the
    # calm drill's, where it never fires.
    path = tmp_path / "scenario.yaml"
    path.write_text(SCENARIO)
    base = load_scenario(path)
    rule = alert("Errors", f"{ERRORS} > 11 and on() count(up) > 0")
    faulty = replace(base, rules=(RuleGroup("g", None, (rule,)),), faults=(replace(base.faults[0], at=25.0),))
    runs = [Drill(scenario, script=Script((), ()), samples=False) for scenario in (replace(faulty, faults=()), faulty)]
    for run in runs:
        run.run()
    assert times(runs[0], "Errors") == []
    assert times(runs[1], "Errors")[:2] == [("alert.pending", 90), ("alert.firing", 90)]


def test_a_series_a_calm_rule_starts_reading_is_seen_after_a_calm_drill(tmp_path):
    # a calm drill, then one with the fault (7205): `api:errors:high` exists only while the error
    # rate is above 5, from 7230 to 8085 (as in tests/test_promql_repeat.py), and it is not calm.
    # The alert reads it beside the cpu counter's values (which no fault moves: calm, and never
    # repeating, so it is evaluated at every tick): once the series appears its results are no
    # longer the calm drill's, and it fires at 7230 and resolves at 8085.
    path = tmp_path / "scenario.yaml"
    path.write_text(SCENARIO)
    base = load_scenario(path)
    rules = (PromRule("record", "api:errors:high", f"{ERRORS} > 5", 0.0, 0.0, {}, {}),
             alert("High", "process_cpu_seconds_total > 1e12 or on() api:errors:high"))
    faulty = replace(base, rules=(RuleGroup("g", None, rules),))
    runs = [Drill(scenario, script=Script((), ()), samples=False) for scenario in (replace(faulty, faults=()), faulty)]
    for run in runs:
        run.run()
    assert times(runs[0], "High") == []
    assert times(runs[1], "High") == [("alert.pending", 7230), ("alert.firing", 7230), ("alert.resolved", 8085)]
