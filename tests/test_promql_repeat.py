"""Prometheus rules that repeat themselves: evaluations skipped while nothing a rule reads changes
give the firing and resolving times of evaluating every tick (worked by hand below)."""

import math
import random
from dataclasses import replace

import pytest

import sim
from sim import load_scenario
from sim.inputs.config import Script
from sim.inputs.promrules import PromRule, RuleGroup
from sim.model.engine import Drill
from sim.model.monitoring import rules as rules_module
from sim.model.monitoring.rules import fingerprint
from sim.model.monitoring.series import Marks

from .conftest import REPO, SCENARIOS

# One service at 100 requests/s failing 0.01% of them, scraped and evaluated every 15 s.
# From 7205 s (two quiet hours, so every window has long been steady) half its requests
# fail for 600 s. The scrape at 7215 is the first to see it: the 500s counter gains
# 100 x 0.5 x 15 = 750 a scrape instead of 100 x 0.0001 x 15 = 0.15, and all requests
# 1500 a scrape throughout.
SCENARIO = """
name: steady-then-failing
title: A long calm, then errors
start: 2026-04-20T10:00:00Z
horizon: 4h
services:
  api: {team: web, request_rate: 100, error_rate: 0.01%, latency_p99_ms: 200}
faults:
  - id: bad-push
    kind: config_push
    service: api
    at: 7205s
    magnitude: {error_rate: 50%}
    ramp: 0s
    duration: 600s
    recovery: 0s
    description: errors
alerts: []
truth: {severity: SEV2, root_cause: a bad push, teams_needed: [web], fix: rollback api}
"""
ERRORS = 'sum(rate(http_requests_total{code="500"}[5m]))'


def alert(name, expr, for_s=0.0, keep=0.0, annotations=None):
    return PromRule("alert", name, expr, for_s, keep, {}, annotations or {})


def record(name, expr, labels=None):
    return PromRule("record", name, expr, 0.0, 0.0, labels or {}, {})


def with_rules(tmp_path, rules, text=SCENARIO, **monitoring):
    """The scenario of ``text`` with these rules (one group's, or rule groups) and monitoring settings."""
    path = tmp_path / "scenario.yaml"
    path.write_text(text)
    base = load_scenario(path)
    groups = tuple(rules) if isinstance(rules[0], RuleGroup) else (RuleGroup("g", None, tuple(rules)),)
    return replace(base, rules=groups, monitoring=replace(base.monitoring, **monitoring))


def run(scenario, repeat=True, package=sim):
    """The scenario's drill with no participants (the world follows its faults), by ``package``'s engine."""
    with pytest.MonkeyPatch.context() as patch:
        if not repeat:  # no period: every rule is evaluated afresh at every tick
            patch.setattr(package.model.monitoring.rules, "_period", lambda scrape, intervals: None)
        drill = package.model.engine.Drill(scenario, script=Script((), ()), samples=False)
        drill.run()
    return drill


def drill(tmp_path, rules, repeat=True, text=SCENARIO, package=sim, **monitoring):
    """The drill of ``text`` with these rules (``with_rules``), by ``package``'s engine."""
    return run(with_rules(tmp_path, rules, text, **monitoring), repeat, package)


def times(run, name):
    return [(e["kind"], e["t"]) for e in run.log.events
            if e["kind"] in ("alert.pending", "alert.firing", "alert.resolved") and e["alert"] == name]


def alike_every_tick(scenario):
    """The scenario's drill, its events checked equal to those of evaluating every rule at every tick."""
    repeating = run(scenario)
    assert repeating.log.events == run(scenario, repeat=False).log.events
    return repeating


def same_as_every_tick(tmp_path, rules, text=SCENARIO, **monitoring):
    """The drill of ``text`` with these rules (``with_rules``), checked as ``alike_every_tick``."""
    return alike_every_tick(with_rules(tmp_path, rules, text, **monitoring))


def counting_afresh(patch, source) -> list[float]:
    """From now on, the times the ``source`` engine works a rule out afresh (not taken from an
    evaluation it repeats), as the list returned."""
    times, evaluate = [], source.model.monitoring.rules._PromRule._evaluate
    patch.setattr(source.model.monitoring.rules._PromRule, "_evaluate",
                  lambda self, now: times.append(now) or evaluate(self, now))
    return times


def evaluated_afresh(tmp_path, monkeypatch, source, rules) -> list[float]:
    """The times a rule of the drill of ``rules`` (``drill``) was worked out afresh, by the ``source`` engine."""
    with monkeypatch.context() as patch:
        times = counting_afresh(patch, source)
        drill(tmp_path, rules, True, package=source)
    return times


def test_a_fault_after_a_long_steady_stretch_fires_on_time(tmp_path, monkeypatch, source):
    # rate over [t-300, t]: 21 samples 15 s apart, the window's own span, so rate = increase / 300.
    # At 7215 one scrape of 750 and nineteen of 0.15: 752.85 / 300 = 2.5095; at 7230 two
    # (5.009), at 7245 three (7.5085), at 7260 four: (4 x 750 + 16 x 0.15) / 300 = 10.008 > 10.
    rules = [alert("Errors", f"{ERRORS} > 10")]
    count = evaluated_afresh(tmp_path, monkeypatch, source, rules)
    # the two calm hours were not evaluated tick by tick: 480 ticks before 7200, but only the
    # 21 whose windows hold the start of the series (up to 300 s) and the first after them
    assert [t for t in count if t < 7200] == [15.0 * k for k in range(22)]
    run = same_as_every_tick(tmp_path, rules)
    assert times(run, "Errors")[:2] == [("alert.pending", 7260), ("alert.firing", 7260)]


def test_an_offset_window_sees_the_change_an_hour_later(tmp_path, monkeypatch):
    # offset 1h moves the window to [t-3900, t-3600]: at 10860 it is the window the plain rule
    # sees at 7260, four scrapes of errors: 10.008 > 10
    run = same_as_every_tick(tmp_path, [alert("LastHour", 'sum(rate(http_requests_total{code="500"}[5m] offset 1h)) > 10')])
    assert times(run, "LastHour")[:2] == [("alert.pending", 10860), ("alert.firing", 10860)]


def test_a_negative_offset_window_sees_the_change_at_once(tmp_path, monkeypatch):
    # offset -1m (Prometheus 3 takes it; promtool too): the window [t-240, t+60] holds no sample
    # after t, so the change is seen at the scrape that brings it, 7215. Its 17 samples (6975 ..
    # 7215) hold 15 steps of 0.15 and one of 750: 752.25 over 240 s, extrapolated 7.5 s (half a
    # scrape) toward the window's end 60 s away: 752.25 x 247.5 / 240 / 300 = 2.5859 > 2.
    rule = alert("NextMinute", 'sum(rate(http_requests_total{code="500"}[5m] offset -1m)) > 2')
    run = same_as_every_tick(tmp_path, [rule])
    assert times(run, "NextMinute")[:2] == [("alert.pending", 7215), ("alert.firing", 7215)]


def test_a_recording_rule_feeds_an_alert(tmp_path, monkeypatch):
    # the recorded rate is the plain rule's; it crosses 10 at 7260, evaluated before the alert
    record = PromRule("record", "api:errors:rate5m", ERRORS, 0.0, 0.0, {}, {})
    run = same_as_every_tick(tmp_path, [record, alert("Recorded", "api:errors:rate5m > 10", 60.0)])
    assert times(run, "Recorded")[:2] == [("alert.pending", 7260), ("alert.firing", 7320)]


def test_for_and_keep_firing_for_deadlines_while_the_inputs_are_steady(tmp_path, monkeypatch):
    # for 2m: pending at 7260, firing at 7380. The fault ends at 7805; the scrape at 7800 is its
    # last. The window [t-300, t] counts an error scrape s when s-15 is in it too (s >= t-285):
    # at 8040 four (7755..7800: 10.008 > 10), at 8055 three (7.5085): the condition stops at
    # 8055 and keep_firing_for 3m holds the alert until 8055 + 180 = 8235, when nothing moves.
    run = same_as_every_tick(tmp_path, [alert("Errors", f"{ERRORS} > 10", 120.0, 180.0)])
    assert times(run, "Errors") == [("alert.pending", 7260), ("alert.firing", 7380), ("alert.resolved", 8235)]


def test_deadlines_of_a_rule_whose_inputs_never_move(tmp_path, monkeypatch):
    # up is 1 from the first scrape: the 1-minute mean holds from 0 and fires after 10 minutes,
    # at 600. While half the requests fail up stays 1 (down means failing 999 in 1000), so the
    # other rule, `up == 1` kept 10 minutes, never resolves; the windows in between repeat.
    run = same_as_every_tick(tmp_path, [alert("Mean", "avg_over_time(up[1m]) == 1", 600.0),
                                                     alert("Up", "up == 1", 0.0, 600.0)])
    assert times(run, "Mean") == [("alert.pending", 0), ("alert.firing", 600)]
    assert times(run, "Up") == [("alert.pending", 0), ("alert.firing", 0)]


@pytest.mark.parametrize("scrape, evaluation", [(10.0, 15.0), (15.0, 60.0)])
def test_unequal_intervals_repeat_a_whole_period_apart(tmp_path, monkeypatch, scrape, evaluation):
    # a scrape every 10 s and an evaluation every 15 s see the samples at two places in a
    # window (its edge on a scrape or between two): results repeat every 30 s, two evaluations.
    # The alert renders $value, so it is evaluated afresh while it has one.
    rules = [alert("Errors", f"{ERRORS} > 10", 60.0, 60.0, {"summary": "{{ $value }} errors a second"})]
    run = same_as_every_tick(tmp_path, rules, scrape_interval=scrape, evaluation_interval=evaluation)
    assert [kind for kind, _ in times(run, "Errors")] == ["alert.pending", "alert.firing", "alert.resolved"]


def test_a_condition_that_holds_at_one_phase_only_is_not_taken_as_settled(tmp_path, monkeypatch):
    # scrapes every 10 s, evaluations every 15 s: [t-20, t] holds three samples when t is a
    # multiple of 30 (t-20, t-10, t) and two otherwise (t-15, t-5). So the alert fires at 30,
    # resolves at 45, fires at 60, ... all drill long, however steady the world; with for 1m
    # it never fires (its pending state ends at every other evaluation).
    rules = [alert("Flapping", "count_over_time(up[20s]) > 2"), alert("Never", "count_over_time(up[20s]) > 2", 60.0)]
    run = same_as_every_tick(tmp_path, rules, scrape_interval=10.0, evaluation_interval=15.0)
    flapping = times(run, "Flapping")
    assert flapping[:6] == [("alert.pending", 30), ("alert.firing", 30), ("alert.resolved", 45),
                            ("alert.pending", 60), ("alert.firing", 60), ("alert.resolved", 75)]
    # every 30 s up to the 4 h horizon (its own tick included)
    assert [t for kind, t in flapping if kind == "alert.firing"] == [30 * k for k in range(1, 481)]
    assert "alert.firing" not in [kind for kind, _ in times(run, "Never")]


def test_a_rule_reads_the_skipped_samples_of_a_slower_groups_recording_rule(tmp_path, monkeypatch):
    # `one` is recorded every 30 s (0, 30, ...); the alert, every 15 s, fires while it is absent
    # (no sample in the last 5 minutes). At a tick both groups share the 15 s group goes first,
    # so it fires at 0 and resolves at 15 for good. The rate of errors keeps it from being quiet
    # when the fault comes, at a tick of its own (7215), after two hours of ticks the engine
    # skipped: the samples of those ticks are there for it.
    slow = RuleGroup("slow", 30.0, (PromRule("record", "one", "vector(1)", 0.0, 0.0, {}, {}),))
    fast = RuleGroup("fast", None, (alert("Gone", f"absent(one) or {ERRORS} > 1e9"),))
    path = tmp_path / "scenario.yaml"
    path.write_text(SCENARIO)
    run = Drill(replace(load_scenario(path), rules=(slow, fast)), script=Script((), ()), samples=False)
    run.run()
    assert times(run, "Gone") == [("alert.pending", 0), ("alert.firing", 0), ("alert.resolved", 15)]


def test_a_series_a_recording_rule_starts_giving_is_read_at_once_by_its_groups_alert(tmp_path, monkeypatch):
    # `api:errors:high` exists only while the error rate is above 5: 2.5095 at 7215, 5.009 at
    # 7230 (worked out in the first test), so the recording rule first gives it at 7230 and the
    # alert after it in the group, asleep since the start (it read nothing), fires then; it
    # resolves when the recorded series goes (rate 4.x at 8085: three error scrapes in the window)
    record = PromRule("record", "api:errors:high", f"{ERRORS} > 5", 0.0, 0.0, {}, {})
    run = same_as_every_tick(tmp_path, [record, alert("High", "api:errors:high")])
    assert times(run, "High") == [("alert.pending", 7230), ("alert.firing", 7230), ("alert.resolved", 8085)]


def test_two_phases_of_an_even_evaluation_interval_are_kept_apart(tmp_path, monkeypatch):
    # scrapes every 20 s, evaluations every 30 s: [t-40, t] holds three samples (t-40, t-20, t)
    # when t is a multiple of 60 and two (t-30, t-10) otherwise. At 0 one sample, at 30 two
    # (0, 20), at 60 three: it fires at every minute and resolves 30 s later, all drill long.
    rules = [alert("Flapping", "count_over_time(up[40s]) > 2")]
    run = same_as_every_tick(tmp_path, rules, scrape_interval=20.0, evaluation_interval=30.0)
    assert times(run, "Flapping")[:4] == [("alert.pending", 60), ("alert.firing", 60), ("alert.resolved", 90),
                                          ("alert.pending", 120)]
    assert [t for kind, t in times(run, "Flapping") if kind == "alert.firing"] == [60 * k for k in range(1, 241)]


def test_a_value_shown_at_one_phase_is_worked_out_afresh(tmp_path, monkeypatch):
    # the flapping condition of the 10 s / 15 s test, showing the rate of answered requests: at 30
    # the window [10, 30] holds the samples at 10, 20 and 30, two steps of 100 x 0.9999 x 10 =
    # 999.9, so 1999.8 / 20 = 99.99 a second (up to the counter's last bits). Each firing shows
    # the value of its own evaluation, not the one of a minute before.
    shown = alert("Shown", 'rate(http_requests_total{code="200"}[20s]) and on(service) count_over_time(up[20s]) > 2',
                  annotations={"summary": "{{ $value }} a second"})
    run = same_as_every_tick(tmp_path, [shown], scrape_interval=10.0, evaluation_interval=15.0)
    first = next(e for e in run.log.events if e["kind"] == "alert.firing")
    assert (first["t"], round(first["value"], 6)) == (30, 99.99)


def test_a_shown_value_of_a_gauge_that_differs_between_phases_is_shown_at_each(tmp_path, monkeypatch, source):
    # scrapes every 60 s, evaluations every 15 s: [t-120, t] holds three samples of `up` when t
    # is a multiple of 60 and two otherwise. The alert fires from 60 on and never moves, but its
    # summary shows 3, then 2 three times, every minute: a phase's repeat is the very value, and
    # the rule is looked at every tick, as it is not quiet while its phases show different ones.
    shown = alert("Count", "count_over_time(up[2m]) > 1", annotations={"summary": "{{ $value }} samples"})
    summaries = shown_at_each_evaluation(tmp_path, monkeypatch, source, [shown], scrape_interval=60.0,
                                         evaluation_interval=15.0)
    assert summaries[False][180.0] == ["3 samples"] and summaries[False][195.0] == ["2 samples"]
    assert summaries[True] == summaries[False]


def test_a_shown_rate_read_beside_a_gauge_is_worked_out_afresh(tmp_path, monkeypatch, source):
    # The alert fires from the first evaluation on and shows the rate of answered requests,
    # 100 x 0.9999 = 99.99 a second, in full: a counter's rate worked out afresh differs from
    # tick to tick in its last bits (37 values between 10 and 120 minutes, from 99.98999999999846
    # on). Its other read, `up`, is a gauge: reading one counter is enough for it to be evaluated
    # at every tick while it fires, each summary the one of its own tick.
    shown = alert("Shown", 'rate(http_requests_total{code="200"}[5m]) and on(service) up == 1',
                  annotations={"summary": "{{ $value }} a second"})
    summaries = shown_at_each_evaluation(tmp_path, monkeypatch, source, [shown])
    steady = [s[0] for t, s in summaries[False].items() if 600 <= t < 7200]
    assert len(steady) == 440 and len(set(steady)) == 37 and "99.98999999999846 a second" in steady
    assert summaries[True] == summaries[False]


def shown_at_each_evaluation(tmp_path, monkeypatch, source, rules, **monitoring):
    """Every alert's summary after each evaluation (time -> summaries), with repeats (True) and
    evaluating every rule afresh at every tick (False), by the ``source`` engine."""
    summaries = {}
    evaluate = source.model.monitoring.rules.Rules.evaluate

    def evaluate_and_keep(self, interval=None):
        evaluate(self, interval)
        summaries[repeat][self.env.now] = [a.annotations["summary"] for a in self.alerts]
    for repeat in (True, False):
        summaries[repeat] = {}
        with monkeypatch.context() as patch:
            patch.setattr(source.model.monitoring.rules.Rules, "evaluate", evaluate_and_keep)
            drill(tmp_path, rules, repeat, package=source, **monitoring)
    return summaries


def test_an_evaluation_that_loses_alerts_to_the_same_labels_fails(tmp_path, monkeypatch):
    # the 200s and 500s counters differ only in `code`; a rule label setting code makes their two
    # alerts one labelset, and Prometheus fails such an evaluation: no alert, ever. Without the
    # label the two alerts fire at the first evaluation (both counters are >= 0 from the start).
    rules = [PromRule("alert", "Merged", "http_requests_total >= 0", 0.0, 0.0, {"code": "any"}, {}),
             alert("Apart", "http_requests_total >= 0")]
    run = same_as_every_tick(tmp_path, rules)
    assert times(run, "Merged") == []
    assert times(run, "Apart") == [("alert.pending", 0), ("alert.firing", 0)] * 2


RECORDED = PromRule("record", "api:errors:rate5m", ERRORS, 0.0, 0.0, {}, {})


@pytest.mark.parametrize("at, rules, fires", [
    (25.0, [alert("Errors", f"{ERRORS} > 11")], 90),
    (0.0, [alert("Errors", f"{ERRORS} > 11")], 75),
    (25.0, [RECORDED, alert("Errors", "api:errors:rate5m > 11")], 90),
    (25.0, [alert("Errors", 'avg_over_time(error_rate{service="api"}[5m]) > 0.1')], 30)])
def test_a_drill_does_not_take_the_results_of_one_whose_world_stayed_calm(tmp_path, monkeypatch, at, rules, fires):
    # two drills of one scenario's rules and services, the first without the fault: drills that
    # start alike share the results of the evaluations that read only what every such drill
    # holds, and the first drill works out its first 22 ticks (0..315 s, windows that still
    # hold the series' start). The window reaches back before the first sample (at 0, where the
    # counter is 0, so nothing is extrapolated there). Fault at 25 s: the scrape at 30 is the
    # first with 750 errors; at 75 the increase is 0.15 + 4 x 750, rate 3000.15 / 300 = 10.0005,
    # at 90 12.5005 > 11 (so too when a recording rule gives the rate). Fault at 0 s (the drills
    # no longer start alike): 750 errors from the scrape at 15 on, at 75 5 x 750 / 300 = 12.5.
    # The error rate gauge, 0.0001 at 0 and 15 and 0.5 at 30: a mean of 0.16673 > 0.1 at 30.
    # Not at 315 or 330, after the calm drill's results.
    path = tmp_path / "scenario.yaml"
    path.write_text(SCENARIO)
    base = load_scenario(path)
    faulty = replace(base, rules=(RuleGroup("g", None, tuple(rules)),),
                     faults=(replace(base.faults[0], at=at),))
    calm = replace(faulty, faults=())
    runs = [Drill(scenario, script=Script((), ()), samples=False) for scenario in (calm, faulty)]
    for run in runs:
        run.run()
    assert times(runs[0], "Errors") == []
    assert times(runs[1], "Errors")[:2] == [("alert.pending", fires), ("alert.firing", fires)]
    with monkeypatch.context() as patch:  # and so when every tick is evaluated afresh
        patch.setattr(rules_module, "_period", lambda scrape, intervals: None)
        afresh = Drill(faulty, script=Script((), ()), samples=False)
        afresh.run()
    assert afresh.log.events == runs[1].log.events


def test_a_service_the_fault_leaves_alone_keeps_its_rate(tmp_path, monkeypatch):
    # a second service at 40 requests/s: its counters gain 40 x 15 = 600 a scrape, before, during
    # and after the fault on api. The window [t-300, t] holds the samples from 0 (the counters
    # start at 0: nothing extrapolated before), so the rate is 600 x t/15 / 300 = 2t/15 until
    # 300: below 39 from 15 (2) to 285 (38), 40 from 300 on, through the fault and after it
    text = SCENARIO.replace("services:\n", "services:\n  db: {team: web, request_rate: 40, error_rate: 0.01%, "
                                           "latency_p99_ms: 50}\n")
    rules = [alert("Slow", 'sum(rate(http_requests_total{service="db"}[5m])) < 39'),
             alert("Fast", 'sum(rate(http_requests_total{service="db"}[5m])) > 41')]
    run = same_as_every_tick(tmp_path, rules, text)
    assert times(run, "Slow") == [("alert.pending", 15), ("alert.firing", 15), ("alert.resolved", 300)]
    assert times(run, "Fast") == []


def test_a_recorded_series_gone_in_the_first_period_goes_stale(tmp_path, monkeypatch):
    # scrapes every 10 s, evaluations every 15 s (two phases): `early` is given at 0 only (one
    # sample of up in [-20, 0]; two or three ever after), so it is stale from 15, before its
    # recording rule has a result a period old to compare with; the alert after it fires then
    rules = [PromRule("record", "early", "count_over_time(up[20s]) < 2", 0.0, 0.0, {}, {}),
             alert("Gone", "absent(early)")]
    run = same_as_every_tick(tmp_path, rules, scrape_interval=10.0, evaluation_interval=15.0)
    assert times(run, "Gone") == [("alert.pending", 15), ("alert.firing", 15)]


def test_marks_taken_out_of_order_are_kept_in_order_and_merged():
    # stretches nearly always come in time order; one before the last is merged in its place,
    # and with join 5 two stretches 5 s apart or less are one
    marks = Marks(5.0)
    for lo, hi in [(100, 110), (200, 210), (20, 30), (112, 115), (30, 33), (60, 60)]:
        marks.add(lo, hi)
    assert (marks.los, marks.his) == ([20, 60, 100, 200], [33, 60, 115, 210])
    # the first stretch not over before 34 begins at 60; 59 is past 33; past 60 the next is 100
    assert marks.next_from(34) == 60 and marks.next_from(59) == 60 and marks.next_from(61) == 100


def test_a_rule_label_rendered_empty_removes_the_label(tmp_path, monkeypatch):
    # as in Prometheus: `job` set to an empty string (no `nothing` label to copy) is taken off,
    # so the alert is labelled by up's other labels and its name only
    rule = PromRule("alert", "Up", "up == 1", 0.0, 0.0, {"job": "{{ $labels.nothing }}"}, {})
    run = drill(tmp_path, [rule], True)
    pending = next(e for e in run.log.events if e["kind"] == "alert.pending")
    assert pending["fingerprint"] == fingerprint({"service": "api", "team": "web", "alertname": "Up"})


def test_a_counter_read_for_its_value_is_never_taken_as_repeating(tmp_path, monkeypatch):
    # All of api's requests, 100 a second from the first scrape at 0: the counter reads
    # 100 x t at each scrape (1,500 a scrape), so it passes 360,000 at the scrape after 3,600 s,
    # 3,615 (361,500), long before the fault. A counter read for its value changes at every
    # scrape, so the rule is evaluated there though nothing in the world moved.
    rules = [alert("Total", "sum(http_requests_total) > 360000")]
    run = same_as_every_tick(tmp_path, rules)
    assert times(run, "Total") == [("alert.pending", 3615), ("alert.firing", 3615)]


def test_drills_share_the_results_of_their_alike_first_minutes_and_no_more(monkeypatch, source):
    # the reference scenario with the example team rules: every drill sees the same world until
    # its responders first bend the fault's path (their rollback, at a time each drill draws),
    # so a drill takes the results an earlier drill worked out for those minutes, and works out
    # afresh what follows. Seed 7 after seed 3 gives the very events of seed 7 alone and
    # unshared, for fewer evaluations: from the fault at 5 min to its rollback, each of the
    # rules reading http_requests_total evaluated afresh at most of those ticks (their windows
    # move over the fault's start)
    from sim.inputs.config import Process
    from sim.inputs.promrules import load_rules

    run_drill, source_rules = source.run_drill, source.model.monitoring.rules

    reference = load_scenario(SCENARIOS / "checkout-config-push.yaml")
    shop = replace(reference, rules=load_rules(REPO / "docs" / "examples" / "web-shop.rules.yml"),
                   services={n: replace(s, labels=(("namespace", "shop"),)) for n, s in reference.services.items()})
    afresh = counting_afresh(monkeypatch, source)
    first = run_drill(shop, Process(), seed=3)
    assert any(e["kind"] == "alert.firing" and e["alert"] == "ServiceErrorBudgetBurn" for e in first.events)
    afresh.clear()
    second = run_drill(shop, Process(), seed=7)
    shared = list(afresh)
    afresh.clear()
    with monkeypatch.context() as patch:
        patch.setattr(source_rules, "_early", lambda *objects, key=(): {})
        alone = run_drill(shop, Process(), seed=7)
    assert second.events == alone.events
    rollback = next(e["t"] for e in alone.events if e["kind"] == "mitigation.applied" and e["effective"])
    before = [t for t in afresh if t <= rollback]
    assert len(before) > 40 and len([t for t in shared if t <= rollback]) < len(before) / 10
    assert [t for t in shared if t > rollback] == [t for t in afresh if t > rollback]
    # a scenario of the same services and rules whose fault starts later shares nothing of theirs
    later = replace(shop, faults=(replace(shop.faults[0], at=600.0),))
    events = run_drill(later, Process(), seed=7).events
    with monkeypatch.context() as patch:
        patch.setattr(source_rules, "_early", lambda *objects, key=(): {})
        assert run_drill(later, Process(), seed=7).events == events


def test_forecasts_quantiles_and_changes_repeat_as_every_tick_gives_them(tmp_path):
    # api's error_rate gauge is 0.0001 until the scrape at 7215, 0.5 from there to 7800, then 0.0001
    # again. changes() over [t-300, t] counts the step while the window holds both sides of it: from
    # 7215 to 7500 (at 7515 it starts at 7215), and again from 7815 to 8100. deriv()'s slope is above 0
    # while the window holds the rise, and exactly 0 (not a rounding's worth) once it holds only 0.5.
    # The median of the window's 21 samples is their 11th: 0.5 once 11 of them are (7215 + 10 x 15 =
    # 7365) until 10 are ((8100 - t) / 15 + 1 = 10 at 7965). A counter never falls: no reset.
    rules = [alert("Changed", 'changes(error_rate{service="api"}[5m]) > 0'),
             alert("Rising", 'deriv(error_rate{service="api"}[5m]) > 0'),
             alert("Median", 'quantile_over_time(0.5, error_rate{service="api"}[5m]) > 0.25'),
             alert("Reset", 'resets(http_requests_total{service="api"}[5m]) > 0')]
    run = same_as_every_tick(tmp_path, rules)
    assert times(run, "Changed") == [("alert.pending", 7215), ("alert.firing", 7215), ("alert.resolved", 7515),
                                     ("alert.pending", 7815), ("alert.firing", 7815), ("alert.resolved", 8115)]
    assert times(run, "Rising") == [("alert.pending", 7215), ("alert.firing", 7215), ("alert.resolved", 7515)]
    assert times(run, "Median") == [("alert.pending", 7365), ("alert.firing", 7365), ("alert.resolved", 7965)]
    assert times(run, "Reset") == []


START = 1776679200  # the scenario's start, 2026-04-20T10:00:00Z (a Monday), in Unix seconds


def test_a_rule_reading_the_clock_is_evaluated_at_every_tick(tmp_path):
    # time() reads no series: nothing marks it, yet it moves. Past an hour at the tick after 3600 s
    # (15 s ticks), read directly or through a recorded series; time() - timestamp(up) is a scrape's
    # age, 0 at every tick (scrapes and evaluations both every 15 s, the scrape first)
    rules = [record("now", "vector(time())"), alert("Late", f"vector(time()) > {START + 3600}"),
             alert("Recorded", f"now > {START + 3600}"), alert("Stale", "time() - timestamp(up) > 0")]
    run = same_as_every_tick(tmp_path, rules)
    assert times(run, "Late") == times(run, "Recorded") == [("alert.pending", 3615), ("alert.firing", 3615)]
    assert times(run, "Stale") == []


def test_a_rule_reading_the_calendar_sees_the_scenarios_start_plus_the_drills_seconds(tmp_path):
    # The drill starts at 10:00 UTC on Monday 2026-04-20: 11:00 is 3600 s in; minute() is 30 or more
    # from 10:30 (1800 s) to 11:00, then from 11:30 (5400 s) to 12:00 (7200 s), and so on to the last
    # evaluation, at the 4 h horizon (14400 s, 14:00)
    rules = [alert("Eleven", "vector(1) and on () hour() >= 11"), alert("HalfPast", "vector(1) and on () minute() >= 30"),
             alert("Monday", "day_of_week() == 1 and day_of_month() == 20 and month() == 4 and year() == 2026"),
             alert("Business", "vector(1) and on () hour(vector(time())) >= 11")]
    run = same_as_every_tick(tmp_path, rules)
    assert times(run, "Eleven") == times(run, "Business") == [("alert.pending", 3600), ("alert.firing", 3600)]
    assert times(run, "HalfPast") == [(kind, t) for half in (1800, 5400, 9000, 12600)
                                      for kind, t in (("alert.pending", half), ("alert.firing", half),
                                                      ("alert.resolved", half + 1800))]
    assert times(run, "Monday") == [("alert.pending", 0), ("alert.firing", 0)]


@pytest.mark.parametrize("expr, looked_at", [
    ('changes(http_requests_total{service="api"}[5m]) < 0', 22),  # a counter's steps: they repeat
    ('resets(http_requests_total{service="api"}[5m]) > 0', 22),
    ('present_over_time(http_requests_total{service="api"}[5m]) < 0', 22),
    ('predict_linear(error_rate{service="api"}[5m], 60) < 0', 21),  # a gauge's values: they repeat
    ('quantile_over_time(0.5, up{service="api"}[5m]) < 0', 21),
    ('deriv(http_requests_total{service="api"}[5m]) < 0', 480),  # a counter's values: they never do
    ('stddev_over_time(http_requests_total{service="api"}[5m]) < 0', 480),
    # the calendar of a gauge's latest value: it repeats once its first scrape is out of sight (from 30 s)
    ('hour(error_rate{service="api"}) < 0', 2),
    ('hour() < 0', 480),  # of the evaluation's time: it moves on
    # which series topk keeps, of rates equal to their last bits or not: it repeats while it keeps none
    ('topk(1, rate(http_requests_total{service="api"}[5m])) < 0', 22),
    ('topk(1, rate(http_requests_total{service="api"}[5m])) > 0', 480),
    ('count_values("v", rate(http_requests_total{service="api"}[5m])) > 0', 480),  # a rate as a label
    ('count_values("v", up{service="api"}) > 0', 2),  # a gauge's latest value: it repeats
])
def test_what_a_new_function_reads_decides_whether_the_calm_hours_are_evaluated(tmp_path, monkeypatch, source, expr,
                                                                               looked_at):
    # Before the fault (7205 s) the world is calm. A rule that reads only what repeats is evaluated
    # while its windows hold the series' first marks: a gauge's first scrape, at 0 (to 300 s: 21
    # ticks), and for a counter its second as well, the first to add a whole interval's gain (to 315 s, as in
    # test_a_fault_after_a_long_steady_stretch_fires_on_time). One that reads a counter's values is
    # evaluated at every one of the 480 ticks before 7200.
    count = evaluated_afresh(tmp_path, monkeypatch, source, [alert("Never", expr)])
    assert [t for t in count if t < 7200] == [15.0 * k for k in range(looked_at)]


def test_a_rules_tick_rounds_as_python_rounds():
    # rules._nearest rounds a count of evaluation intervals in doubles where compiled: a half goes
    # to the even number as round() sends it (2.5 -> 2, 3.5 -> 4), and so does every time of a drill
    _nearest = rules_module._nearest
    assert [_nearest(x) for x in (0.0, 0.5, 1.5, 2.5, 3.5, 2.4999999999999996, 2.5000000000000004)] == [0, 0, 2, 2, 4, 2, 3]
    rng = random.Random(3)
    xs = [k * every / interval for k in range(2000) for every in (15.0, 10.0, 7.5) for interval in (15.0, 30.0, 60.0)]
    xs += [rng.uniform(0.0, 1e6) for _ in range(20000)] + [k + 0.5 for k in range(1000)]
    assert [_nearest(x) for x in xs] == [round(x) for x in xs]


def test_the_last_skipped_tick_rounds_up_as_math_ceil():
    # rules._ceiling, where compiled in doubles, is math.ceil: whole numbers stay, the rest go up,
    # just below and above whole numbers alike (the ticks a group skipped, counted up to now)
    _ceiling = rules_module._ceiling
    rng = random.Random(4)
    xs = [k * 15.0 / every - 1e-9 for k in range(2000) for every in (15.0, 30.0, 60.0, 7.5)]
    xs += [float(k) for k in range(-5, 100)] + [rng.uniform(-10.0, 1e6) for _ in range(20000)]
    xs += [math.nextafter(k, math.inf) for k in range(50)] + [math.nextafter(k, -math.inf) for k in range(50)]
    assert [_ceiling(x) for x in xs] == [math.ceil(x) for x in xs]
