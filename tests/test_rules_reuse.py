"""The rules' reuse of results at its edges: a quiet rule's wake time, its phases, the ticks
the engine skipped, the store's count of series; and a recording rule's labels. Each drill's
events are checked equal to those of evaluating every rule afresh at every tick, and the times
and values are worked out by hand below."""

import shutil

import pytest

from sim.inputs.promrules import PromRule, RuleGroup
from sim.model.monitoring.rules import fingerprint

from .test_humanize import assert_promtool_renders
from .test_promql_repeat import ERRORS, alert, record, same_as_every_tick, times


def test_a_recording_rule_reading_a_recorded_series_a_minute_back_wakes_on_its_tick(tmp_path):
    # api's error ratio (a gauge) is 0.0001 until the scrape at 7215 shows the fault's 0.5, and
    # 0.0001 again from the scrape at 7815 (the fault ends at 7805). `api:ratio` records it at
    # every tick; `api:ratio:ago` records it a minute late: its latest sample at most 60 s before,
    # so 0.5 from 7215 + 60 = 7275 and 0.0001 from 7875. The alert after them in the group reads
    # that very tick's sample: firing from 7275, resolved at 7875. Between 7215 and 7275 the late
    # rule has nothing new to read: its wake time is 7275 itself, and it must look then.
    rules = [record("api:ratio", 'max(error_rate{service="api"})'),
             record("api:ratio:ago", "api:ratio offset 1m"),
             alert("Ago", "api:ratio:ago > 0.1")]
    run = same_as_every_tick(tmp_path, rules)
    assert times(run, "Ago") == [("alert.pending", 7275), ("alert.firing", 7275), ("alert.resolved", 7875)]


def test_a_recording_rule_of_two_phases_records_each_skipped_tick_as_its_phase_gives(tmp_path):
    # scrapes every 10 s, evaluations every 15 s: [t-20, t] holds three samples of up when t is a
    # multiple of 30 and two otherwise, so `samples` records 3, 2, 3, 2, ... (the same series at
    # both phases: quiet after the first minute, and the engine skips the calm hours). Read over
    # the last hour at 7260, when the error rate first passes 10 (with 10 s scrapes the 500s
    # counter gains 500 a scrape from 7210: six such in the window, (6 x 500 + 24 x 0.1) / 300 =
    # 10.008): 241 samples, 3660 to 7260, 121 of them at multiples of 30 (3) and 120 between (2):
    # 603. Every one of them is there, as its own phase gave it.
    rules = [record("samples", 'count_over_time(up{service="api"}[20s])'),
             alert("Hour", f"sum_over_time(samples[1h]) and on() {ERRORS} > 10"),
             alert("Count", f"count_over_time(samples[1h]) and on() {ERRORS} > 10")]
    run = same_as_every_tick(tmp_path, rules, scrape_interval=10.0, evaluation_interval=15.0)
    for name, value in (("Hour", 603), ("Count", 241)):
        first = next(e for e in run.log.events if e["kind"] == "alert.firing" and e["alert"] == name)
        assert (first["t"], first["value"]) == (7260, value)


def test_a_slower_groups_skipped_ticks_are_recorded_once_each(tmp_path):
    # `one` is recorded every 30 s, at 0, 30, ...; the alert, every 15 s, counts its samples in
    # the last hour once the error rate passes 10, at 7260 (the first test of
    # tests/test_promql_repeat.py). At a tick both groups share the 15 s group goes first, so the
    # 7260 sample is not there yet: 3660 to 7230, 120 samples, though the engine skipped most of
    # those ticks and the slower group's were recorded when the faster one next looked.
    slow = RuleGroup("slow", 30.0, (record("one", "vector(1)"),))
    fast = RuleGroup("fast", None, (alert("Count", f"count_over_time(one[1h]) and on() {ERRORS} > 10"),))
    run = same_as_every_tick(tmp_path, [slow, fast])
    first = next(e for e in run.log.events if e["kind"] == "alert.firing")
    assert (first["t"], first["value"]) == (7260, 120)


def test_a_condition_that_holds_at_two_phases_of_four_is_evaluated_at_each(tmp_path):
    # scrapes every 60 s, evaluations every 15 s (a period of four): [t-135, t] holds three
    # samples of up when t is 0 or 15 past a multiple of 60 (t, t-60, t-120; t-15, t-75, t-135)
    # and two at the other two ticks. It fires at 120 (the first window with 0, 60 and 120),
    # holds at 135, resolves at 150, and so on every minute, all drill long.
    run = same_as_every_tick(tmp_path, [alert("Flapping", "count_over_time(up[135s]) > 2")],
                             scrape_interval=60.0, evaluation_interval=15.0)
    flapping = times(run, "Flapping")
    assert flapping[:4] == [("alert.pending", 120), ("alert.firing", 120), ("alert.resolved", 150),
                            ("alert.pending", 180)]
    assert [t for kind, t in flapping if kind == "alert.firing"] == [60 * k for k in range(2, 241)]


def test_an_evaluation_that_fails_at_one_phase_only_gives_no_alert(tmp_path):
    # scrapes every 10 s, evaluations every 15 s: [t-20, t] holds three samples of api's up at
    # multiples of 30, when the rule's output is api's up and memory, two gauges whose labels
    # are one labelset once the name is dropped: the evaluation fails (no alert, as in
    # Prometheus). Between, the output is empty. Neither ever makes an alert; up alone fires at
    # 30, the first tick with three samples, and resolves at 45.
    phase = 'and on() count_over_time(up{service="api"}[20s]) > 2'
    rules = [alert("Merged", '{__name__=~"up|memory", service="api"} ' + phase),
             alert("Up", 'up{service="api"} ' + phase)]
    run = same_as_every_tick(tmp_path, rules, scrape_interval=10.0, evaluation_interval=15.0)
    assert times(run, "Merged") == []
    assert times(run, "Up")[:4] == [("alert.pending", 30), ("alert.firing", 30), ("alert.resolved", 45),
                                    ("alert.pending", 60)]


def test_a_recording_rule_that_fails_at_one_phase_records_nothing_then(tmp_path):
    # the same output recorded: it fails at multiples of 30 and is empty between, so the series
    # is never there, and its absence fires at once and for good
    rules = [record("merged", '{__name__=~"up|memory", service="api"} and on() '
                              'count_over_time(up{service="api"}[20s]) > 2'), alert("Never", "absent(merged)")]
    run = same_as_every_tick(tmp_path, rules, scrape_interval=10.0, evaluation_interval=15.0)
    assert times(run, "Never") == [("alert.pending", 0), ("alert.firing", 0)]


def test_a_pending_rule_takes_in_series_that_appear_before_its_deadline(tmp_path):
    # [t-60, t] holds four samples of up from 45 on (0, 15, 30, 45), so from 45 the four recording
    # rules each give api's 12 latency buckets (labelled apart by `copy`). The alert is pending
    # from 0 for api's up, `for` 49 s: it fires at 60, the first tick past 49, and sleeps in
    # between (nothing it reads moves). At 45 its output gains the 48 recorded series: their
    # alerts are pending at 45 and fire at 105 (45 + 49 = 94 falls between ticks).
    buckets = 'http_request_duration_seconds_bucket{service="api"} and on() count_over_time(up{service="api"}[1m]) >= 4'
    rules = [record(f"b{k}", buckets, {"copy": str(k)}) for k in range(1, 5)]
    rules.append(PromRule("alert", "Seen", 'up{service="api"} == 1 or {__name__=~"b[1-4]"}', 49.0, 0.0, {}, {}))
    run = same_as_every_tick(tmp_path, rules)
    assert times(run, "Seen") == [("alert.pending", 0), *[("alert.pending", 45)] * 48, ("alert.firing", 60),
                                  *[("alert.firing", 105)] * 48]
    # the store counts 49 additions of series (the scraped ones together, then the 48), the very
    # time of the deadline the sleeping alert was to wake at: a wake time kept by the store's
    # count must not be taken for one kept by the time
    assert run.monitoring.rules.store.version == 49


# A recording rule's labels as written: Prometheus templates an alerting rule's labels only
# (rules/recording.go sets them as they are), and a label set empty is removed.
LITERAL = {"source": "{{ $labels.service }}", "level": "{{ $value }}", "job": ""}


def test_a_recording_rules_labels_are_set_as_written(tmp_path):
    rules = [record("api:up", 'up{service="api"}', LITERAL), alert("Recorded", "api:up == 1")]
    run = same_as_every_tick(tmp_path, rules)
    labels = {"service": "api", "team": "web", "source": "{{ $labels.service }}", "level": "{{ $value }}",
              "alertname": "Recorded"}
    assert [a.labels for a in run.monitoring.rules.alerts] == [labels]
    assert times(run, "Recorded") == [("alert.pending", 0), ("alert.firing", 0)]
    assert next(e for e in run.log.events if e["kind"] == "alert.firing")["fingerprint"] == fingerprint(labels)


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is not installed")
def test_a_recording_rules_labels_are_set_as_written_by_promtool_too(tmp_path):
    series = [{"series": 'up{service="api", job="api", team="web"}', "values": "1 1"}]
    rules = [{"record": "api:up", "expr": 'up{service="api"}', "labels": LITERAL},
             {"alert": "Recorded", "expr": "api:up == 1"}]
    labels = {"service": "api", "team": "web", "source": "{{ $labels.service }}", "level": "{{ $value }}"}
    assert_promtool_renders(tmp_path, series, rules, [{"eval_time": "1m", "alertname": "Recorded",
                                                       "exp_alerts": [{"exp_labels": labels}]}])


@pytest.mark.parametrize("scrape, window, resolved", [(10.0, "20s", (7215, 3.0)), (60.0, "135s", (7260, 2.0))])
def test_a_resolved_alert_logs_the_value_of_the_tick_before(tmp_path, scrape, window, resolved):
    # api's up counted over a window that holds three samples at some phases and two at others
    # (the tests above: with 10 s scrapes at multiples of 30, with 60 s scrapes at 0 and 15 past
    # a minute), while api's error ratio is below 0.4. Its alert fires at 0 and holds through the
    # calm hours; its value is shown nowhere but in the log. The fault's 0.5 is first scraped at
    # 7210 (seen at the tick of 7215) or at 7260: the alert resolves then with the value of the
    # tick before, as Prometheus keeps it: 3 at 7200 (a multiple of 30), 2 at 7245 (45 past).
    expr = f'count_over_time(up{{service="api"}}[{window}]) and on() max(error_rate{{service="api"}}) < 0.4'
    run = same_as_every_tick(tmp_path, [alert("Counted", expr)], scrape_interval=scrape,
                             evaluation_interval=15.0)
    assert [(e["t"], e["value"]) for e in run.log.events if e["kind"] == "alert.resolved"][:1] == [resolved]


# api's up and memory: one labelset once their names are set to the rule's, so the recording
# rule's every evaluation fails and records nothing (as Prometheus: "vector contains metrics
# with the same labelset after applying rule labels"), and `absent` finds its series absent.
MERGED = [{"record": "api:gauges", "expr": '{__name__=~"up|memory", service="api"}'},
          {"alert": "NoGauges", "expr": "absent(api:gauges)"}]


def test_a_recording_rule_whose_series_would_share_a_labelset_records_nothing(tmp_path):
    rules = [record("api:gauges", MERGED[0]["expr"]), alert("NoGauges", MERGED[1]["expr"])]
    run = same_as_every_tick(tmp_path, rules)
    assert times(run, "NoGauges") == [("alert.pending", 0), ("alert.firing", 0)]


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is not installed")
def test_a_recording_rule_whose_series_would_share_a_labelset_records_nothing_in_promtool(tmp_path):
    # promtool's unit test stops at the failed evaluation, naming it
    series = [{"series": f'{name}{{service="api", job="api", team="web"}}', "values": "1 1"} for name in ("up", "memory")]
    with pytest.raises(AssertionError, match="api:gauges, time: 0s, err: vector contains metrics with the same "
                                             "labelset after applying rule labels"):
        assert_promtool_renders(tmp_path, series, MERGED, [{"eval_time": "1m", "alertname": "NoGauges",
                                                            "exp_alerts": [{"exp_labels": {}}]}])


def test_a_recording_rule_that_wakes_its_sleeping_group_records_once(tmp_path):
    # api's error ratio as it was 5 minutes before: 0.0001 until 7215 + 300 = 7515 (the scrape at
    # 7215 is the first to show the fault's 0.5). The alert reads only that recorded series, so
    # its group sleeps (its recording rule alone looked at) until the recorded value changes, at
    # 7515; it then counts the recorded samples of the last ten minutes, one a tick from 6915 to
    # 7515: 41.
    rules = [record("api:ratio:before", 'max(error_rate{service="api"} offset 5m)'),
             alert("Counted", "count_over_time(api:ratio:before[10m]) and on() api:ratio:before > 0.1")]
    run = same_as_every_tick(tmp_path, rules)
    first = next(e for e in run.log.events if e["kind"] == "alert.firing")
    assert (first["t"], first["value"]) == (7515, 41)
