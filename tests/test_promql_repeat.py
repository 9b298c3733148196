"""Prometheus rules that repeat themselves: evaluations skipped while nothing a rule reads changes
give the firing and resolving times of evaluating every tick (worked by hand below)."""

from dataclasses import replace

import pytest

from sim import load_scenario
from sim.inputs.config import Script
from sim.inputs.promrules import PromRule, RuleGroup
from sim.model.engine import Drill
from sim.model.monitoring import rules as rules_module

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


def drill(tmp_path, rules, repeat=True, monkeypatch=None, **monitoring):
    """The scenario's drill with these rules and no participants (the world follows its fault)."""
    path = tmp_path / "scenario.yaml"
    path.write_text(SCENARIO)
    base = load_scenario(path)
    scenario = replace(base, rules=(RuleGroup("g", None, tuple(rules)),),
                       monitoring=replace(base.monitoring, **monitoring))
    with monkeypatch.context() as patch:
        if not repeat:  # no period: every rule is evaluated afresh at every tick
            patch.setattr(rules_module, "_period", lambda scrape, intervals: None)
        run = Drill(scenario, script=Script((), ()), samples=False)
        run.run()
    return run


def times(run, name):
    return [(e["kind"], e["t"]) for e in run.log.events
            if e["kind"] in ("alert.pending", "alert.firing", "alert.resolved") and e["alert"] == name]


def same_as_every_tick(tmp_path, monkeypatch, rules, **monitoring):
    """The drill's events, checked equal to those of evaluating every rule at every tick."""
    repeating = drill(tmp_path, rules, True, monkeypatch, **monitoring)
    afresh = drill(tmp_path, rules, False, monkeypatch, **monitoring)
    assert repeating.log.events == afresh.log.events
    return repeating


def test_a_fault_after_a_long_steady_stretch_fires_on_time(tmp_path, monkeypatch):
    # rate over [t-300, t]: 21 samples 15 s apart, the window's own span, so rate = increase / 300.
    # At 7215 one scrape of 750 and nineteen of 0.15: 752.85 / 300 = 2.5095; at 7230 two
    # (5.009), at 7245 three (7.5085), at 7260 four: (4 x 750 + 16 x 0.15) / 300 = 10.008 > 10.
    rules = [alert("Errors", f"{ERRORS} > 10")]
    count = []
    evaluate = rules_module._PromRule._evaluate
    with monkeypatch.context() as patch:
        patch.setattr(rules_module._PromRule, "_evaluate", lambda self, now: count.append(now) or evaluate(self, now))
        drill(tmp_path, rules, True, monkeypatch)
    # the two calm hours were not evaluated tick by tick: 480 ticks before 7200, but only the
    # 21 whose windows hold the start of the series (up to 300 s) and the first after them
    assert [t for t in count if t < 7200] == [15.0 * k for k in range(22)]
    run = same_as_every_tick(tmp_path, monkeypatch, rules)
    assert times(run, "Errors")[:2] == [("alert.pending", 7260), ("alert.firing", 7260)]


def test_an_offset_window_sees_the_change_an_hour_later(tmp_path, monkeypatch):
    # offset 1h moves the window to [t-3900, t-3600]: at 10860 it is the window the plain rule
    # sees at 7260, four scrapes of errors: 10.008 > 10
    run = same_as_every_tick(tmp_path, monkeypatch, [alert("LastHour", 'sum(rate(http_requests_total{code="500"}[5m] offset 1h)) > 10')])
    assert times(run, "LastHour")[:2] == [("alert.pending", 10860), ("alert.firing", 10860)]


def test_a_recording_rule_feeds_an_alert(tmp_path, monkeypatch):
    # the recorded rate is the plain rule's; it crosses 10 at 7260, evaluated before the alert
    record = PromRule("record", "api:errors:rate5m", ERRORS, 0.0, 0.0, {}, {})
    run = same_as_every_tick(tmp_path, monkeypatch, [record, alert("Recorded", "api:errors:rate5m > 10", 60.0)])
    assert times(run, "Recorded")[:2] == [("alert.pending", 7260), ("alert.firing", 7320)]


def test_for_and_keep_firing_for_deadlines_while_the_inputs_are_steady(tmp_path, monkeypatch):
    # for 2m: pending at 7260, firing at 7380. The fault ends at 7805; the scrape at 7800 is its
    # last. The window [t-300, t] counts an error scrape s when s-15 is in it too (s >= t-285):
    # at 8040 four (7755..7800: 10.008 > 10), at 8055 three (7.5085): the condition stops at
    # 8055 and keep_firing_for 3m holds the alert until 8055 + 180 = 8235, when nothing moves.
    run = same_as_every_tick(tmp_path, monkeypatch, [alert("Errors", f"{ERRORS} > 10", 120.0, 180.0)])
    assert times(run, "Errors") == [("alert.pending", 7260), ("alert.firing", 7380), ("alert.resolved", 8235)]


def test_deadlines_of_a_rule_whose_inputs_never_move(tmp_path, monkeypatch):
    # up is 1 from the first scrape: the 1-minute mean holds from 0 and fires after 10 minutes,
    # at 600. While half the requests fail up stays 1 (down means failing 999 in 1000), so the
    # other rule, `up == 1` kept 10 minutes, never resolves; the windows in between repeat.
    run = same_as_every_tick(tmp_path, monkeypatch, [alert("Mean", "avg_over_time(up[1m]) == 1", 600.0),
                                                     alert("Up", "up == 1", 0.0, 600.0)])
    assert times(run, "Mean") == [("alert.pending", 0), ("alert.firing", 600)]
    assert times(run, "Up") == [("alert.pending", 0), ("alert.firing", 0)]


@pytest.mark.parametrize("scrape, evaluation", [(10.0, 15.0), (15.0, 60.0)])
def test_unequal_intervals_repeat_a_whole_period_apart(tmp_path, monkeypatch, scrape, evaluation):
    # a scrape every 10 s and an evaluation every 15 s see the samples at two places in a
    # window (its edge on a scrape or between two): results repeat every 30 s, two evaluations.
    # The alert renders $value, so it is evaluated afresh while it has one.
    rules = [alert("Errors", f"{ERRORS} > 10", 60.0, 60.0, {"summary": "{{ $value }} errors a second"})]
    run = same_as_every_tick(tmp_path, monkeypatch, rules, scrape_interval=scrape, evaluation_interval=evaluation)
    assert [kind for kind, _ in times(run, "Errors")] == ["alert.pending", "alert.firing", "alert.resolved"]


def test_a_condition_that_holds_at_one_phase_only_is_not_taken_as_settled(tmp_path, monkeypatch):
    # scrapes every 10 s, evaluations every 15 s: [t-20, t] holds three samples when t is a
    # multiple of 30 (t-20, t-10, t) and two otherwise (t-15, t-5). So the alert fires at 30,
    # resolves at 45, fires at 60, ... all drill long, however steady the world; with for 1m
    # it never fires (its pending state ends at every other evaluation).
    rules = [alert("Flapping", "count_over_time(up[20s]) > 2"), alert("Never", "count_over_time(up[20s]) > 2", 60.0)]
    run = same_as_every_tick(tmp_path, monkeypatch, rules, scrape_interval=10.0, evaluation_interval=15.0)
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
