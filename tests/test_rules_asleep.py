"""Alerting rules of a group taken as quiet while its recording rules are evaluated (the group
asleep), and the engine's setup of the repeating itself: checked against evaluating every rule at
every tick and worked by hand. The scenario is tests/test_promql_repeat.py's: errors from the
scrape at 7215, the 5-minute rate 2.5095 there, 5.009 at 7230, 7.5085 at 7245, 10.008 at 7260
(worked out there), scraped and evaluated every 15 s."""

import pytest

from sim.inputs.promrules import RuleGroup
from tests.test_promql_repeat import ERRORS, SCENARIO, alert, record, same_as_every_tick, times
from tests.test_rules_evaluate import same_samples_as_every_tick

RATE = record("api:errors", ERRORS)


def later(threshold):
    """Whether the rate a minute before is above ``threshold``: its window first meets the mark of
    the errors' first scrape a tick (above 2) or two (above 5) before its output moves."""
    return record("api:errors", ERRORS.replace("[5m]", "[5m] offset 1m") + f" > bool {threshold}")


# a series first given at 7200 (`up`'s first sample, two hours on): the store gains it the tick
# before the errors show, so the group is looked at in full at 7215
LATE = record("api:up:2h", "up offset 2h")
READS = alert("Reads", "api:errors > 2")
READS_LATER = alert("Reads", "api:errors > 0")
QUIET = alert("Down", "up == 0")  # never holds, and is quiet from the first period on


def ratio(offset=""):
    """api's error ratio (a gauge), 0.5 from the scrape at 7215 to 7800 (a minute back, 7275 to 7860)."""
    return record("api:ratio", f'max(error_rate{{service="api"}}{offset})')


READS_RATIO = alert("Reads", "api:ratio > 0.1")


def calm(horizon: str) -> str:
    """The scenario cut short at ``horizon``, before its fault (at 7205 s: a fault the drill never
    reaches is refused, as it would never start)."""
    head, _, rest = SCENARIO.partition("faults:")
    return head.replace("horizon: 4h", f"horizon: {horizon}") + "faults: []\nalerts: []" + rest.partition("alerts: []")[2]


@pytest.mark.parametrize("rules, fires, resolves", [([READS, RATE], 7230, 8115), ([READS, RATE, LATE], 7230, 8115),
                                                    ([READS_LATER, later(2)], 7290, 8175),
                                                    ([READS_LATER, later(5)], 7305, 8160),
                                                    ([READS_LATER, later(5), QUIET], 7305, 8160),
                                                    ([READS_RATIO, ratio(), QUIET], 7230, 7830),
                                                    ([READS_RATIO, ratio(" offset 1m"), QUIET], 7290, 7890)])
def test_an_alert_before_the_recording_rule_it_reads_sees_its_change_at_the_next_tick(tmp_path, rules, fires,
                                                                                        resolves):
    # in a group rules run in order: the alert at 7230 reads the rate recorded at 7215, 2.5095 > 2,
    # and at 8115 the one of 8100, the window's last error scrape gone (0.15 x 20 / 300 = 0.01);
    # later(2) is 1 from 7275 to 8145, later(5) from 7290 (5.009 at 7230 and 8070: two error
    # scrapes in the window) to 8130. (With LATE, or later(2), the group is looked at in full when
    # the recorded value moves, the alert taken as quiet before the new sample marks what it reads;
    # with later(5) the alert is not looked at then (nothing woke the group before), and QUIET after
    # it is: either way it must look at the next tick.) The ratio, read a tick late, fires at 7230
    # (7290 a minute back) and resolves at 7830 (7890): without the offset the group is looked at
    # whole at 7215, the alert quiet, then the recording rule marks what it reads; with it the group
    # sleeps, its recording rule alone evaluated, and that rule's new sample wakes it at 7275, after
    # the alert's turn. Either way the group must not then sleep till QUIET wakes (never), as it did:
    # firing at 7815, and with the offset never resolving.
    run = same_as_every_tick(tmp_path, rules)
    assert times(run, "Reads") == [("alert.pending", fires), ("alert.firing", fires), ("alert.resolved", resolves)]


@pytest.mark.parametrize("rules, fires, resolves", [([RATE, READS], 7215, 8100), ([later(5), READS_LATER], 7290, 8145)])
def test_an_alert_after_the_recording_rule_it_reads_sees_its_change_at_once(tmp_path, rules, fires, resolves):
    # the alert reads the rate recorded at its own tick: above 2 from 7215, 0.01 at 8100 (later(5):
    # 1 from 7290, 0 at 8145)
    run = same_as_every_tick(tmp_path, rules)
    assert times(run, "Reads") == [("alert.pending", fires), ("alert.firing", fires), ("alert.resolved", resolves)]


# a group of a rule that is looked at every tick (it reads a counter's values, which never repeat)
COUNTER = RuleGroup("counter", None, (alert("Huge", "http_requests_total > 1e15"),))


@pytest.mark.parametrize("before", [(), (COUNTER,)])
def test_an_alert_before_the_recording_rule_it_reads_sees_the_series_it_starts_giving(tmp_path, before):
    # `api:high` exists while the rate is above 5, recorded from 7230 to 8070 (5.009: two error
    # scrapes in the window; one at 8085); the alert before it in the group reads each a tick later.
    # (With a group before that is never quiet the engine looks at no later rule between ticks:
    # only the evaluation finds that the alert reads a new series.)
    group = RuleGroup("g", None, (alert("High", "api:high"), record("api:high", f"{ERRORS} > 5")))
    run = same_as_every_tick(tmp_path, [*before, group])
    assert times(run, "High") == [("alert.pending", 7245), ("alert.firing", 7245), ("alert.resolved", 8100)]


def test_an_alert_evaluated_every_minute_sees_each_recorded_change(tmp_path):
    # scrapes every 15 s, evaluations every minute: the rate recorded at 7260 is 10.008 (four error
    # scrapes), at 7320 (8 x 750 + 12 x 0.15) / 300 = 20.006. The alert before the recording rule
    # reads each a minute later: above 15 from 7380; at 8040 four error scrapes are left in the
    # window (10.008), read at 8100.
    run = same_samples_as_every_tick(tmp_path, [alert("Twenty", "api:errors > 15"), RATE], evaluation_interval=60.0)
    assert times(run, "Twenty") == [("alert.pending", 7380), ("alert.firing", 7380), ("alert.resolved", 8100)]


def test_a_group_of_rules_about_other_services_leaves_the_others_evaluated(tmp_path):
    # the first group reads only series of a service the drill does not have (it can never give
    # anything); the second's alert fires at 7260 (10.008 > 10) and resolves at 8055 (three error
    # scrapes left in the window: 7.5085)
    groups = (RuleGroup("web", None, (alert("WebDown", 'up{service="web"} == 0'),)),
              RuleGroup("api", None, (alert("Errors", f"{ERRORS} > 10"),)))
    run = same_as_every_tick(tmp_path, groups)
    assert times(run, "Errors") == [("alert.pending", 7260), ("alert.firing", 7260), ("alert.resolved", 8055)]


@pytest.mark.parametrize("offset, selector, count", [(3, '{__name__=~"up|http_requests_total"}', 3),
                                                     (14, "http_request_duration_seconds_bucket", 12)])
def test_series_another_group_starts_giving_are_read_at_the_next_tick(tmp_path, offset, selector, count):
    # scrapes and evaluations every second. The last group first gives `count` series at 5 (six
    # samples in [0, 5]), read at 6 by the groups before it. The others also read `up` an offset
    # before (never 0: it adds nothing), whose first window to meet the first scrape is at
    # offset - 1: with 14s they are quiet till 13, with 3s last looked at their windows at 4. At 5
    # the store's version (one for the scraped series, one more per recorded series) becomes that
    # very number, 13 or 4, and a time kept must not be taken for the version it was kept at.
    # The first group, never quiet, stops the engine's look for quiet rules between ticks.
    also = f"or up offset {offset}s == 0"
    groups = (COUNTER, RuleGroup("counted", None, (alert("Counted", f"count(api:r1) >= {count} {also}"),)),
              RuleGroup("copy", None, (record("api:copy", f"api:r1 {also}"),
                                       alert("Copied", f"count(api:copy) >= {count}"))),
              RuleGroup("r1", None, (record("api:r1", f"count_over_time({selector}[5s]) > 5"),)))
    run = same_as_every_tick(tmp_path, groups, calm("10m"),
                             scrape_interval=1.0, evaluation_interval=1.0)
    assert times(run, "Counted") == times(run, "Copied") == [("alert.pending", 6), ("alert.firing", 6)]


def test_an_evaluation_interval_of_no_whole_millisecond_repeats_nothing(tmp_path):
    # scrapes every second, evaluations every 1.0003 s (not the 1 s it is nearest, which would
    # repeat every evaluation): [t - 1.5, t] holds two samples while t's fraction of a second,
    # 0.0003 more at each evaluation, is at most 0.5, and one after: the alert fires at the
    # first (1.0003), resolves at the 1667th (1667.5001) and fires again at the 3334th (3335.0002;
    # the log keeps milliseconds)
    rules = [alert("Half", "count_over_time(up[1500ms]) > 1")]
    run = same_as_every_tick(tmp_path, rules, calm("1h"),
                             scrape_interval=1.0, evaluation_interval=1.0003)
    assert times(run, "Half") == [("alert.pending", 1.0), ("alert.firing", 1.0), ("alert.resolved", 1667.5),
                                  ("alert.pending", 3335.0), ("alert.firing", 3335.0)]
