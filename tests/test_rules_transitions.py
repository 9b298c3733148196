"""What the engine may skip between evaluations and what an alert carries when it moves: groups
and rules that wake close together, a group reading what another starts recording or records
reading ahead (an alert before the recording rule it reads: test_rules_asleep.py), a wake time that equals the
store's count of series, a group with nothing to evaluate, an alert's severity and the firing
alerts as the bots ask for them. Each drill's events are checked equal to those of evaluating
every rule afresh at every tick, and the times are worked out by hand below. The scenario is
tests/test_promql_repeat.py's: api's error ratio (a gauge) is 0.0001 until the scrape at 7215
shows the fault's 0.5, and 0.0001 again from the scrape at 7815; its error rate passes 10 a
second at 7260."""

import pytest

from sim import load_scenario, load_script
from sim.inputs.promrules import PromRule, RuleGroup
from sim.model.engine import Drill

from .conftest import DATA
from .test_promql_repeat import ERRORS, SCENARIO, alert, record, same_as_every_tick, times

RATIO = 'max(error_rate{service="api"}) > 0.1'
LAST = 'max_over_time(error_rate{service="api"}[15s]) > 0.1'  # the ratio at the last scrape only


def test_of_two_groups_asleep_the_one_that_wakes_first_is_not_missed(tmp_path):
    # Both alerts hold from 7215 and each is pending then; nothing either reads moves after 7230
    # (the scrape at 7215 is out of their windows), so each group sleeps until its alert's `for`
    # ends: the first group's at 7215 + 285 = 7500, the second's at 7215 + 255 = 7470, a tick. The
    # engine must look at 7470, though the group listed first wakes only a tick after.
    rules = (RuleGroup("later", None, (alert("Later", RATIO, 285.0),)),
             RuleGroup("sooner", None, (alert("Sooner", RATIO, 255.0),)))
    run = same_as_every_tick(tmp_path, rules)
    assert times(run, "Sooner")[:2] == [("alert.pending", 7215), ("alert.firing", 7470)]
    assert times(run, "Later")[:2] == [("alert.pending", 7215), ("alert.firing", 7500)]


def test_of_two_recording_rules_the_one_that_wakes_first_is_not_missed(tmp_path):
    # `api:ratio` records the error ratio, which moves at 7215; `api:ratio:late` reads it 4
    # minutes back (moving at 7455), `api:ratio:ago` 3.5 minutes back (moving at 7425, a tick).
    # The alert reads the second: it fires at 7425 and resolves at 7815 + 210 = 8025, though the
    # rule listed before it is quiet until 7455.
    rules = [record("api:ratio", 'max(error_rate{service="api"})'),
             record("api:ratio:late", "api:ratio offset 4m"),
             record("api:ratio:ago", "api:ratio offset 3m30s"),
             alert("Ago", "api:ratio:ago > 0.1")]
    run = same_as_every_tick(tmp_path, rules)
    assert times(run, "Ago") == [("alert.pending", 7425), ("alert.firing", 7425), ("alert.resolved", 8025)]


def test_a_group_reads_the_series_a_later_group_starts_recording(tmp_path):
    # Two groups evaluated every minute, the alert's first: `api:high` exists while api's error
    # ratio at the last scrape is above 0.1, so its recording rule first gives it at 7260 (after
    # the alert's group looked) and last at 7800; the alert sees it from 7320, and resolves at
    # 7920, the first evaluation after the stale marker recorded at 7860. From 7320 on the
    # recording rule's 15 s window holds no change (nothing the engine must look at), and the
    # alert's group had nothing to read at 7260: only the new series can wake it at 7320.
    rules = (RuleGroup("alerts", 60.0, (alert("High", "api:high"),)),
             RuleGroup("records", 60.0, (record("api:high", LAST),)))
    run = same_as_every_tick(tmp_path, rules)
    assert times(run, "High") == [("alert.pending", 7320), ("alert.firing", 7320), ("alert.resolved", 7920)]


def test_a_wake_time_equal_to_the_stores_count_of_series_is_no_wake_time(tmp_path):
    # The fault at 65 s: the scrape at 75 is the first with api's error ratio at 0.5, and the last
    # is at 660. 250 recording rules, every minute, each give api's ratio (labelled apart by
    # `copy`) while its last scrape is above 0.1: from 120 to 660, gone at 720. The alert's group,
    # evaluated first, has `vector(1)` pending from 0 with `for` 251 s (firing at 300); it sees the
    # 250 series from 180 (pending; firing at 180 + 251 = 431, so 480) and no more at 780. At 120
    # its wake time, 251, is the number of times the store gained series: 1 (the scraped ones,
    # together) and 250. A wake time taken for the store's count, or a count for a time, would let
    # the engine pass over 180.
    recorded = tuple(record(f"w{k}", 'max_over_time(error_rate{service="api"}[15s]) > 0.1', {"copy": str(k)})
                     for k in range(250))
    rules = (RuleGroup("alerts", 60.0, (alert("Seen", 'vector(1) or {__name__=~"w[0-9]+"}', 251.0),)),
             RuleGroup("records", 60.0, recorded))
    run = same_as_every_tick(tmp_path, rules, SCENARIO.replace("at: 7205s", "at: 65s"))
    assert run.monitoring.rules.store.version == 251
    assert times(run, "Seen") == [("alert.pending", 0), *[("alert.pending", 180)] * 250, ("alert.firing", 300),
                                  *[("alert.firing", 480)] * 250, *[("alert.resolved", 780)] * 250]


def test_a_group_whose_rules_are_about_other_services_is_passed_over(tmp_path):
    # a team's rules file also holds a group about a service this drill does not have: none of its
    # rules can ever give anything, so it has none to evaluate; the other group fires as ever
    rules = (RuleGroup("billing", 60.0, (alert("BillingDown", 'up{service="billing"} == 0'),)),
             RuleGroup("api", None, (alert("Errors", f"{ERRORS} > 10"),)))
    run = same_as_every_tick(tmp_path, rules)
    assert times(run, "Errors")[:2] == [("alert.pending", 7260), ("alert.firing", 7260)]
    assert times(run, "BillingDown") == []


def test_a_prometheus_alert_is_logged_with_its_rules_severity(tmp_path):
    rule = PromRule("alert", "Errors", f"{ERRORS} > 10", 0.0, 0.0, {"severity": "critical"}, {})
    run = same_as_every_tick(tmp_path, [rule])
    logged = [(e["kind"], e["t"], e["severity"]) for e in run.log.events if e.get("alert") == "Errors"]
    assert logged[:2] == [("alert.pending", 7260, "critical"), ("alert.firing", 7260, "critical")]


def test_the_firing_alerts_are_those_of_the_moment_asked():
    # tests/data/tiny.yaml (worked out in tests/test_monitoring.py): ApiErrors pending at 75, firing
    # from 195 to 720; ApiCPU (noise) pending at 900, firing from 930 to 1020
    scenario = load_scenario(DATA / "tiny.yaml")
    drill = Drill(scenario, script=load_script(DATA / "quiet.yaml", scenario.start))
    drill.start()
    firing = {}
    for t in (100, 200, 800, 1000, 1100):
        drill.env.run(until=t)
        firing[t] = [a.rule.name for a in drill.monitoring.firing()]
    assert firing == {100: [], 200: ["ApiErrors"], 800: [], 1000: ["ApiCPU"], 1100: []}


def test_a_slower_group_sees_every_change_of_a_series_recorded_reading_ahead(tmp_path):
    # `api:ahead` reads the error ratio a minute ahead (offset -1m: at its tick the latest sample is
    # the tick's own scrape), so it is recorded afresh at every tick: 0.5 from 7215 to 7800. The
    # slower group records its maximum over the last 30 s every minute (0.5 at 7260, 0.0001 again
    # at 7860), and the alert reads that. The change came at 7215, before the window of 7260: the
    # maximum recorded at 7200 must not be taken for the one at 7260.
    rules = (RuleGroup("fast", None, (record("api:ahead", 'max(error_rate{service="api"} offset -1m)'),)),
             RuleGroup("slow", 60.0, (record("api:ahead:max", "max_over_time(api:ahead[30s])"),
                                      alert("Ahead", "api:ahead:max > 0.1"))))
    run = same_as_every_tick(tmp_path, rules)
    assert times(run, "Ahead") == [("alert.pending", 7260), ("alert.firing", 7260), ("alert.resolved", 7860)]
