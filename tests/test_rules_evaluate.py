"""Recording and alerting rules evaluated over unequal intervals (two phases a period), checked
against evaluating every rule at every tick: alerts' events and every recorded sample. The
scenario is tests/test_promql_repeat.py's: errors above 5 a second from 7230 to 8085 at a scrape
every 15 s (worked out there)."""

import pytest

from tests.test_promql_repeat import ERRORS, alert, record, run, times, with_rules


def recorded(drill, end):
    """Every recorded series' samples up to ``end``, by recording rule's name and series (a
    counter's rate repeated a period later can differ in its last bits: rounded to 9 digits)."""
    for mine in drill.monitoring.rules.store.recorded.values():
        for series in mine.values():
            series.catch_up()  # (the samples that repeat the one before are written when read)
    return {(rule.rule.name, key): [(t, v if v is None else float(f"{v:.9g}"))
                                    for t, v in zip(series.times, series.values) if t <= end]
            for rule, mine in drill.monitoring.rules.store.recorded.items() for key, series in mine.items()}


def same_samples_as_every_tick(tmp_path, rules, **monitoring):
    """The drill with these rules, its events and recorded samples checked equal to evaluating every tick."""
    scenario = with_rules(tmp_path, rules, **monitoring)
    repeating, every_tick = run(scenario), run(scenario, repeat=False)
    assert repeating.log.events == every_tick.log.events
    # the ticks skipped after the last evaluation are recorded only if one comes
    end = min((series.times[-1] for mine in repeating.monitoring.rules.store.recorded.values() for series in mine.values()),
              default=0.0)
    assert recorded(repeating, end) == recorded(every_tick, end)
    return repeating


@pytest.mark.parametrize("scrape, evaluation", [(10.0, 15.0), (15.0, 15.0)])
def test_recording_rules_that_come_go_and_fail_record_what_every_tick_records(tmp_path, scrape, evaluation):
    # `api:high` exists only while the errors are high; `api:twice` fails while they are (up and
    # the memory gauge: two series whose labels are the same once the name is dropped) and gives
    # nothing otherwise; `api:up` is always there. The alerts read them, one held and one shown.
    rules = [record("api:high", f"{ERRORS} > 5"),
             record("api:twice", f'{{__name__=~"up|process_resident_memory_bytes"}} and on() ({ERRORS} > 5)'),
             record("api:up", "sum(up)"),
             alert("High", "api:high", 60.0, 30.0, {"summary": "{{ $value }} a second"}),
             alert("Gone", "absent(api:twice) and on() count(api:up) > 0", 0.0, 45.0)]
    drill = same_samples_as_every_tick(tmp_path, rules, scrape_interval=scrape, evaluation_interval=evaluation)
    assert [kind for kind, _ in times(drill, "High")] == ["alert.pending", "alert.firing", "alert.resolved"]
    assert times(drill, "Gone")[:2] == [("alert.pending", 0), ("alert.firing", 0)]


@pytest.mark.parametrize("offset", ["", " offset 5s"])
def test_a_recording_rule_that_fails_at_one_phase_of_three_records_what_every_tick_records(tmp_path, offset):
    # scrapes every 15 s, evaluations every 5 s: [t-3s, t] holds a sample of `up` only when t is
    # a scrape's time, one phase in three (offset 5s: 5 s after one). There the rule gives up and
    # the memory gauge, the same labels once the name is dropped: it fails; at the other two
    # phases it gives vector(1).
    rules = [record("api:one", '({__name__=~"up|process_resident_memory_bytes"} and on() '
                               f'count_over_time(up[3s]{offset}) > 0) or on() vector(1)'),
             alert("Gaps", "count_over_time(api:one[10s]) < 2", 0.0, 0.0, {"summary": "{{ $value }}"})]
    same_samples_as_every_tick(tmp_path, rules, scrape_interval=15.0, evaluation_interval=5.0)


def test_scrapes_further_apart_than_the_lookback_are_evaluated_as_every_tick(tmp_path):
    # a scrape every 600 s, an evaluation every 200 s: `up` is 0, 200 and 400 s old at the three
    # phases, stale (no sample in the last 5 minutes) at the third. So the alert on its absence
    # fires at 400 and resolves at 600, every 10 minutes.
    rules = [alert("Stale", "absent(up)"), alert("Errors", f"{ERRORS} > 5", 0.0, 0.0, {"summary": "{{ $value }}"})]
    drill = same_samples_as_every_tick(tmp_path, rules, scrape_interval=600.0, evaluation_interval=200.0)
    assert times(drill, "Stale")[:3] == [("alert.pending", 400), ("alert.firing", 400), ("alert.resolved", 600)]



def test_a_fractional_evaluation_interval_repeats_over_its_whole_period(tmp_path):
    # scrapes every 10 s, evaluations every 7.5 s: results repeat every 30 s (four evaluations),
    # not every evaluation. [t-20, t] holds three samples of `up` when t is a multiple of 10
    # (t-20, t-10, t) and two otherwise: the alert fires at 30, resolves at 37.5, fires at 60 ...
    rules = [alert("Flapping", "count_over_time(up[20s]) > 2")]
    drill = same_samples_as_every_tick(tmp_path, rules, scrape_interval=10.0, evaluation_interval=7.5)
    assert times(drill, "Flapping")[:3] == [("alert.pending", 30), ("alert.firing", 30), ("alert.resolved", 37.5)]


def test_an_alert_reading_a_recorded_series_by_a_name_pattern_fires(tmp_path):
    # `api:errors:high` exists only while the error rate is above 5, from 7230 to 8085 (as in
    # tests/test_promql_repeat.py); the alert selects it by a pattern of names, no name of its own,
    # so nothing but a recording rule can give it a series: it is evaluated, and fires then.
    rules = [record("api:errors:high", f"{ERRORS} > 5"), alert("High", '{__name__=~"api:errors:.*"}')]
    drill = same_samples_as_every_tick(tmp_path, rules)
    assert times(drill, "High") == [("alert.pending", 7230), ("alert.firing", 7230), ("alert.resolved", 8085)]


def test_a_scalar_expression_is_one_series_without_labels(tmp_path):
    # As Prometheus's rule manager turns a scalar result into a vector of one sample without
    # labels (promtool agrees on all three): `one` records 1, the alert on it fires at once, and
    # so do `2 > bool 1` (1) and `0 * 1`: a sample of 0 is still a sample, so the alert holds.
    rules = [record("one", "1"), alert("One", "one > 0"), alert("Two", "2 > bool 1"), alert("Zero", "0 * 1")]
    drill = same_samples_as_every_tick(tmp_path, rules)
    assert recorded(drill, 30.0) == {("one", (("__name__", "one"),)): [(0, 1.0), (15.0, 1.0), (30.0, 1.0)]}
    for name in ("One", "Two", "Zero"):
        assert times(drill, name) == [("alert.pending", 0), ("alert.firing", 0)]
    firing = {e["alert"]: e["value"] for e in drill.log.events if e["kind"] == "alert.firing"}
    assert firing == {"One": 1.0, "Two": 1.0, "Zero": 0.0}
