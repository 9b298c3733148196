"""Prometheus rules in drills: PromQL values worked by hand, the alert state machine, rule files, import."""

import math
from dataclasses import replace
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from sim import load_scenario, run_drill
from sim.cli import main
from sim.inputs.errors import DrillError
from sim.inputs.promrules import PromRule, RuleGroup, load_rules
from sim.model.monitoring.humanize import go_float
from sim.model.monitoring.promql import compile_expr, parse
from sim.model.monitoring.rules import render
from sim.model.monitoring.series import Series, Store, catalog
from sim.validate import validate

from .conftest import FIXTURES, SCENARIOS

REFERENCE = SCENARIOS / "checkout-config-push.yaml"


def store_of(*series) -> Store:
    """A store holding hand-made series: (labels, times, values)."""
    store = Store({})
    for labels, times, values in series:
        s = Series(labels, list(times))
        s.values = list(values)
        store.series.append(s)
    store.version += 1
    return store


def query(store, text, t):
    result = compile_expr(parse(text), store)(t)
    return result if isinstance(result, float) else {tuple(k): v for k, v in result}


COUNTER = ({"__name__": "req", "svc": "a"}, range(0, 61, 15), (0, 15, 30, 45, 60))


def test_rate_and_increase_extrapolate_as_prometheus_does():
    store = store_of(COUNTER)
    # window [0, 60] holds all five samples: 60 requests over 60 s, nothing to extrapolate
    assert query(store, "rate(req[1m])", 60) == {(("svc", "a"),): 1.0}
    # window [10, 70]: samples 15..60 (45 over 45 s), 5 s and 10 s from the edges, both under
    # 1.1 x the 15 s spacing, so extrapolated to the whole 60 s: 45 * 60 / 45 = 60
    assert query(store, "increase(req[1m])", 70) == {(("svc", "a"),): 60.0}
    assert query(store, "irate(req[1m])", 70) == {(("svc", "a"),): 1.0}
    # offset 30s moves the window to [-30, 30]: samples 0, 15, 30; the counter starts at 0
    # at the first sample, so nothing is extrapolated before it: 30 over [0, 30] -> 30 / 60
    assert query(store, "rate(req[1m] offset 30s)", 60) == {(("svc", "a"),): 0.5}


def test_counter_reset_is_added_back():
    store = store_of(({"__name__": "req"}, (0, 15, 30), (10, 20, 5)))
    # 20 - 10, then a reset to 5: increase 10 + 5 = 15 over the 30 s the samples span
    assert query(store, "increase(req[30s])", 30) == {(): 15.0}


def test_instant_selector_sees_samples_up_to_five_minutes_old():
    store = store_of(({"__name__": "up", "svc": "a"}, (0, 400), (1, 0)))
    assert query(store, "up", 300) == {(("__name__", "up"), ("svc", "a")): 1}  # 300 s old: still seen
    assert query(store, "up", 301) == {}  # stale
    assert query(store, "absent(up{svc=\"a\"})", 301) == {(("svc", "a"),): 1.0}
    assert query(store, "up == 0", 400) == {(("__name__", "up"), ("svc", "a")): 0}


def test_matchers_aggregation_and_vector_matching():
    store = store_of(
        ({"__name__": "req", "svc": "a", "code": "200"}, (0,), (90,)),
        ({"__name__": "req", "svc": "a", "code": "500"}, (0,), (10,)),
        ({"__name__": "req", "svc": "b", "code": "503"}, (0,), (5,)),
        ({"__name__": "info", "svc": "a", "team": "pay"}, (0,), (1,)),
    )
    assert query(store, 'sum by (svc) (req{code=~"5.."})', 0) == {(("svc", "a"),): 10.0, (("svc", "b"),): 5.0}
    assert query(store, 'count without (code) (req{code!="200", svc!~"b"})', 0) == {(("svc", "a"),): 1.0}
    # != alone: every series but the 200s (a's 500 with 10, b's 503 with 5)
    assert query(store, 'sum by (code) (req{code!="200"})', 0) == {(("code", "500"),): 10.0, (("code", "503"),): 5.0}
    # error ratio of a: 10 / (90 + 10); b has no 2xx and errors only: 5 / 5
    ratio = 'sum by (svc) (req{code=~"5.."}) / on (svc) sum by (svc) (req)'
    assert query(store, ratio, 0) == {(("svc", "a"),): 0.1, (("svc", "b"),): 1.0}
    assert query(store, f"({ratio}) > bool 0.5", 0) == {(("svc", "a"),): 0.0, (("svc", "b"),): 1.0}
    joined = query(store, 'req{code="500"} * on (svc) group_left (team) info', 0)
    assert joined == {(("code", "500"), ("svc", "a"), ("team", "pay")): 10.0}
    assert query(store, 'req unless on (svc) info', 0) == {(("__name__", "req"), ("code", "503"), ("svc", "b")): 5}
    assert query(store, 'clamp_max(req{svc="b"}, 1)', 0) == {(("code", "503"), ("svc", "b")): 1}


def test_histogram_quantile_interpolates_within_the_bucket():
    buckets = [({"__name__": "d_bucket", "le": le}, (0,), (n,)) for le, n in (("0.1", 50), ("0.5", 90), ("+Inf", 100))]
    # rank 0.95 * 100 = 95 falls in (0.5, +Inf]: the upper bound of the last finite bucket
    assert query(store_of(*buckets), "histogram_quantile(0.95, d_bucket)", 0) == {(): 0.5}
    # rank 70 falls in (0.1, 0.5] holding 40: 0.1 + 0.4 * (70 - 50) / 40 = 0.3
    assert query(store_of(*buckets), "histogram_quantile(0.7, d_bucket)", 0) == {(): pytest.approx(0.3)}


def test_templates_render_labels_and_value_as_prometheus_prints_them():
    assert go_float(0.1) == "0.1" and go_float(250.0) == "250" and go_float(123456.0) == "123456"
    assert go_float(1e6) == "1e+06" and go_float(1.5e-5) == "1.5e-05" and go_float(math.inf) == "+Inf"
    # Go's %v: signed zero and infinity, one digit with no point, 99999.5 still plain, 1e-4 plain, 1e-5 not
    assert go_float(-math.inf) == "-Inf" and go_float(-0.0) == "-0" and go_float(0.0) == "0"
    assert go_float(2e6) == "2e+06" and go_float(-2.5) == "-2.5" and go_float(999999.5) == "999999.5"
    assert go_float(0.0001) == "0.0001" and go_float(1e-5) == "1e-05" and go_float(-1234567.0) == "-1.234567e+06"
    text = '{{ $labels.service }} at {{ $value }} ({{ printf "%.1f" $value }}, {{ .Labels.team }})'
    assert render(text, {"service": "checkout", "team": "pay"}, 0.125) == "checkout at 0.125 (0.1, pay)"
    # The simulated Prometheus has no external labels: Prometheus renders a missing one empty.
    assert render("{{ $externalLabels.cluster }}/{{ $labels.region }}", {"service": "checkout"}, 0.125) == "/"


def run_rules(rules, scenario=REFERENCE, **monitoring):
    scenario = load_scenario(scenario)
    scenario = replace(scenario, rules=(RuleGroup("g", None, tuple(rules)),),
                       monitoring=replace(scenario.monitoring, **monitoring))
    return run_drill(scenario, seed=1).events


def alert_rule(name, expr, for_s=0.0, keep=0.0, **kw):
    return PromRule("alert", name, expr, for_s, keep, kw.get("labels", {}), kw.get("annotations", {}))


def times(events, name):
    return [(e["kind"], e["t"]) for e in events
            if e["kind"] in ("alert.firing", "alert.resolved") and e["alert"] == name]


def test_a_promql_rule_fires_when_the_shorthand_alert_does():
    # The reference scenario's push at 5 m ramps checkout's errors over 20 s: the 315 s
    # evaluation sees them above 5%, so the alert is pending then and fires 2 m later.
    events = run_rules([alert_rule("Errors", 'error_rate{service="checkout"} > 0.05', 120.0,
                                   annotations={"summary": "{{ $labels.service }} failing"})])
    shorthand, promql = times(events, "CheckoutHighErrorRate"), times(events, "Errors")
    assert promql[0] == shorthand[0] == ("alert.firing", 435)
    assert promql == shorthand
    firing = next(e for e in events if e["kind"] == "alert.firing" and e["alert"] == "Errors")
    assert firing["service"] == "checkout" and firing["summary"] == "checkout failing"
    assert firing["cause"] == ["gateway-config-push"]
    # Its value is the series' at the 435 s evaluation, checkout's 15.02% at full strength, as the shorthand's.
    same = next(e for e in events if e["kind"] == "alert.firing" and e["alert"] == "CheckoutHighErrorRate")
    assert firing["value"] == same["value"] == pytest.approx(0.1502, abs=5e-5)


def test_a_group_with_its_own_interval_is_evaluated_on_it():
    # Evaluated every minute: the first evaluation to see checkout above 5% (from 315 s) is at
    # 360 s, so pending then and firing at 480 s; the 15 s shorthand sees errors back under 5%
    # at 885 s, and the minute group at its next evaluation, 900 s.
    scenario = load_scenario(REFERENCE)
    rule = alert_rule("Minutely", 'error_rate{service="checkout"} > 0.05', 120.0)
    events = run_drill(replace(scenario, rules=(RuleGroup("g", 60.0, (rule,)),)), seed=1).events
    assert times(events, "CheckoutHighErrorRate") == [("alert.firing", 435), ("alert.resolved", 885)]
    assert times(events, "Minutely") == [("alert.firing", 480), ("alert.resolved", 900)]


def test_keep_firing_for_holds_a_resolved_alert():
    base = times(run_rules([alert_rule("E", 'error_rate{service="checkout"} > 0.05')]), "E")
    kept = times(run_rules([alert_rule("E", 'error_rate{service="checkout"} > 0.05', keep=600.0)]), "E")
    assert kept[0] == base[0]
    assert kept[1][1] == base[1][1] + 600  # resolves 10 minutes after the condition cleared


def test_scrapes_past_the_lookback_go_stale_and_the_alert_resolves_between_them():
    # scrapes at 0, 400, 800; evaluations every minute. The sample of 0 is seen up to 300
    # (5 minutes old), so at 360 there is none and the always-true rule resolves; the
    # 420 evaluation sees the scrape of 400, until 700; at 720 it resolves again.
    events = run_rules([alert_rule("Up", 'up{service="checkout"} == 1')], scrape_interval=400.0,
                       evaluation_interval=60.0)
    assert times(events, "Up")[:5] == [("alert.firing", 0), ("alert.resolved", 360), ("alert.firing", 420),
                                       ("alert.resolved", 720), ("alert.firing", 840)]


def test_recording_rules_feed_later_rules():
    record = PromRule("record", "svc:errors", 'max by (service) (error_rate{service="checkout"})', 0, 0, {}, {})
    # maintenance_mode is a series no service of the drill exports (a team's own exporter would):
    # `unless` an empty vector keeps everything, so this rule fires with the other.
    quiet_unless = alert_rule("Unmaintained", "svc:errors > 0.05 unless on (service) maintenance_mode == 1", 120.0)
    events = run_rules([record, alert_rule("Recorded", "svc:errors > 0.05", 120.0), quiet_unless])
    assert times(events, "Recorded")[0] == times(events, "Unmaintained")[0] == ("alert.firing", 435)


def test_series_alike_but_for_their_name_fail_the_rule_as_in_prometheus():
    # Both checkout series are >= 0 at every evaluation; without __name__ their labels are the
    # same, so Prometheus fails the rule ("vector contains metrics with the same labelset after
    # applying alert labels", as promtool test rules reports for this very rule) and never fires it.
    events = run_rules([alert_rule("Alike", '{__name__=~"error_rate|cpu", service="checkout"} >= 0'),
                        alert_rule("E", 'error_rate{service="checkout"} > 0.05', 120.0)])
    assert times(events, "Alike") == [] and times(events, "E")[0] == ("alert.firing", 435)


def test_drills_of_one_scenario_give_the_same_log():
    # compare and calibration run one scenario object for seed after seed: the second drill
    # (which reuses what the first worked out about the scenario's rules) logs the same events.
    scenario = load_scenario(REFERENCE)
    scenario = replace(scenario, rules=(RuleGroup("g", None, (alert_rule("E", 'error_rate{service="checkout"} > 0.05',
                                                                        120.0),)),))
    first, second = run_drill(scenario, seed=1).events, run_drill(scenario, seed=1).events
    assert times(first, "E")[0] == ("alert.firing", 435) and second == first


def test_unsupported_promql_is_an_error_at_its_line(write):
    path = write("rules.yml", """
        groups:
          - name: g
            rules:
              - alert: Fine
                expr: up == 0
              - alert: Forecasts
                expr: holt_winters(disk[1h], 0.5, 0.5) < 0
              - alert: Sub
                expr: max_over_time(up[10m:1m]) == 0
                for: 5x
              - alert: Humanized
                expr: up == 0
                annotations: {summary: "{{ $value | humanize }} {{ humanizeDuration .Value }}"}
              - alert: When
                expr: up == 0
                annotations:
                  summary: "since {{ $value | humanizeTimestamp }}"
    """)
    with pytest.raises(DrillError) as error:
        load_rules(path)
    text = str(error.value)
    # (holt_winters, Prometheus 2's name, which promql-parser knows only by Prometheus 3's)
    assert f"{path}:7: groups[0].rules[1].expr: unsupported in drillsim: function holt_winters() (Prometheus 3's " \
           "double_exponential_smoothing()" in text
    assert f"{path}:9: groups[0].rules[2].expr: unsupported in drillsim: function max_over_time() over a subquery" in text
    assert f"{path}:10: groups[0].rules[2].for: expected a Prometheus duration" in text
    assert f"{path}:17: groups[0].rules[4].annotations.summary: unsupported template function humanizeTimestamp in " \
           "{{ $value | humanizeTimestamp }} (drillsim renders" in text
    assert "rules[3]" not in text
    with pytest.raises(DrillError, match=r"rules.yml:7: .*holt_winters"):
        validate(path)


def test_label_functions_prometheus_would_fail_are_errors_at_their_line(write):
    # Prometheus fails the evaluation (every time) for a destination label name it cannot take (count_values'
    # too) and a regular expression Go cannot compile (RE2: no lookahead, no backreference); drillsim says so at load
    path = write("rules.yml", """
        groups:
          - name: g
            rules:
              - record: fine
                expr: label_replace(label_join(up, "where", "/", "service", "team"), "svc", "$1", "service", "(.*)-.*")
              - record: dash
                expr: label_replace(up, "a-b", "x", "service", ".*")
              - record: ahead
                expr: label_replace(up, "a", "x", "service", "(?!api).*")
              - record: joined
                expr: label_join(up, "a", ",", "ser vice")
              - record: counted
                expr: count_values("v", up)
              - record: text
                expr: count_values("a-b", up)
              - record: curve
                expr: sin(up) + deg(up) + pi()
              - record: office
                expr: topk(3, up) and on () hour() >= 9 < 17 and on () day_of_week() > 0 < 6
    """)
    with pytest.raises(DrillError) as error:
        load_rules(path)
    text = str(error.value)
    assert "rules.yml:5:" not in text
    assert f"{path}:7: groups[0].rules[1].expr: unsupported in drillsim: label_replace()'s label name 'a-b'" in text
    assert f"{path}:9: groups[0].rules[2].expr: unsupported in drillsim: label_replace()'s regular expression " \
           "'(?!api).*' (a lookaround or backreference: not Go's syntax)" in text
    assert f"{path}:11: groups[0].rules[3].expr: unsupported in drillsim: label_join()'s label name 'ser vice'" in text
    assert "rules.yml:13:" not in text
    assert f"{path}:15: groups[0].rules[5].expr: unsupported in drillsim: count_values()'s label name 'a-b'" in text
    # Go's own sine, not the C library's: they differ in the last bit for a quarter of the values
    assert f"{path}:17: groups[0].rules[6].expr: unsupported in drillsim: function sin() (Go's own trigonometry" in text
    assert "rules.yml:19:" not in text  # business hours, Monday to Friday (UTC)


def test_a_group_evaluated_more_often_than_every_second_is_refused(write):
    # The same floor as monitoring.evaluation_interval's: a finer one is millions of evaluations
    # in a week-long drill (and past 2**23 of them a tick's time is no longer exact to 1e-9 s)
    path = write("rules.yml", """
        groups:
          - name: fast
            interval: 500ms
            rules:
              - alert: Down
                expr: up == 0
          - name: second
            interval: 1s
            rules:
              - alert: Gone
                expr: absent(up)
    """)
    with pytest.raises(DrillError) as error:
        load_rules(path)
    problems = [line for line in str(error.value).splitlines() if line.startswith(str(path))]
    assert problems == [f"{path}:3: groups[0].interval must be 1s or more"]


RECORDED_AS_WRITTEN = """
    groups:
      - name: g
        rules:
          - record: api:up
            expr: up
            labels: {note: "{{ $value | humanizeTimestamp }}", how: '{{ printf "%x" $value }}'}
          - alert: Templated
            expr: up == 0
            labels: {note: "{{ $value | humanizeTimestamp }}"}
          - record: api:up:late
            expr: up
            for: 5m
"""


def test_a_recording_rules_labels_are_text_not_templates(write):
    # `promtool check rules` (2.42) passes the recording rule and fails the alert: "label "note":
    # template: __alert_Templated:1: function "humanizeTimestamp"..." (rulefmt parses the
    # templates of alerting rules only); drillsim refuses the alert's label alone, at its line
    path = write("rules.yml", RECORDED_AS_WRITTEN)
    with pytest.raises(DrillError) as error:
        load_rules(path)
    problems = [line for line in str(error.value).splitlines() if line.startswith(str(path))]
    assert len(problems) == 2 and problems[1] == f"{path}:12: groups[0].rules[2]: a recording rule has no 'for'"
    assert problems[0].startswith(f"{path}:9: groups[0].rules[1].labels.note: unsupported template function "
                                  "humanizeTimestamp in {{ $value | humanizeTimestamp }}")
    recorded = write("recorded.yml", RECORDED_AS_WRITTEN.split("          - alert:")[0])
    (group,) = load_rules(recorded)
    assert group.rules[0].labels == {"note": "{{ $value | humanizeTimestamp }}", "how": '{{ printf "%x" $value }}'}
    imported = CliRunner().invoke(main, ["import", "prometheus", str(path), "--out", str(path.parent / "out.yml")])
    assert imported.exit_code == 0, imported.output
    # the import leaves out what the loader refuses, at the same lines: the file it writes loads
    assert f"not imported: {path}:9: Templated.labels.note: unsupported template function" in imported.output
    assert f"not imported: {path}:12: api:up:late: a recording rule has no 'for'" in imported.output
    assert [r.name for r in load_rules(path.parent / "out.yml")[0].rules] == ["api:up"]


@pytest.mark.skipif(not (FIXTURES / "prometheus").exists(), reason="shared fixtures absent")
def test_shipped_fixtures_import_and_run(tmp_path, monkeypatch):
    monitoring = tmp_path / "drills" / "monitoring"
    monitoring.mkdir(parents=True)
    out = monitoring / "team.yml"
    fixtures = sorted((FIXTURES / "prometheus").glob("*.y*ml"))
    result = CliRunner().invoke(main, ["import", "prometheus", *map(str, fixtures), "--out", str(out)])
    assert result.exit_code == 0, result.output
    # the subquery and the $.labels templates (Prometheus prints an error for those) are left out,
    # each named with its line
    assert "prometheus_rules_promtool_testdata.yml:29: suquery_interval_test.expr: unsupported in drillsim: " \
           "function count_over_time() over a subquery" in result.output
    assert result.output.count("{{ $.labels.service }}: the template's data has no field labels (it is "
                               "Labels); Prometheus prints an error in its place") == 3
    assert validate(out) == "Prometheus rules"
    # every scenario now uses the team's rules: AlwaysFiring (expr: 1) fires at the first evaluation
    monkeypatch.chdir(tmp_path)
    scenario = load_scenario(REFERENCE)
    assert [g.name for g in scenario.rules] == ["alerts", "rules", "my-group-name", "my-another-name"]
    events = run_drill(scenario, seed=1).events
    assert times(events, "AlwaysFiring")[0] == ("alert.firing", 0)
    opted_out = tmp_path / "own.yaml"
    opted_out.write_text(REFERENCE.read_text() + "team_rules: false\n")
    assert load_scenario(opted_out).rules == ()


def test_a_team_rule_file_whose_groups_lack_their_dash_is_refused_not_skipped(tmp_path, monkeypatch):
    # `groups:` holding a mapping (the group written without its `-`) was read as no rule file at
    # all: every drill ran without the team's rules, and validate called it a process file
    monitoring = tmp_path / "drills" / "monitoring"
    monitoring.mkdir(parents=True)
    team = monitoring / "team.yml"
    team.write_text("groups:\n  name: shop\n  rules:\n    - {alert: A, expr: up == 0}\n")
    (monitoring / "notes.yaml").write_text("owner: sre\n")  # no `groups:`: not a rule file, passed over
    monkeypatch.chdir(tmp_path)
    for command in (["validate", str(team)], ["run", str(REFERENCE), "--out", "out"]):
        result = CliRunner().invoke(main, command)
        assert result.exit_code == 2 and f"{team}:2: groups must be a list, got a mapping" in result.output, result.output
    team.write_text("groups:\n  - name: shop\n    rules:\n      - {alert: A, expr: up == 0}\n")
    assert [g.name for g in load_scenario(REFERENCE).rules][-1] == "shop"
    # the import names such a file too (`kind: rules` without groups was a KeyError)
    for text in ("groups: 5\n", "kind: rules\n"):
        team.write_text(text)
        result = CliRunner().invoke(main, ["import", "prometheus", str(team), "--out", "out.yml"])
        assert result.exit_code == 2, result.output
        assert f"{team}:1: not a Prometheus rule file (expected a top-level 'groups:' list)" in result.output


def test_import_merges_into_an_existing_monitoring_file(tmp_path, write):
    first = write("a.yml", """
        groups:
          - name: keep
            rules: [{alert: A, expr: up == 0}]
          - name: replace
            rules: [{alert: Old, expr: up == 0}]
    """)
    second = write("b.yml", """
        groups:
          - name: replace
            rules: [{alert: New, expr: 'error_rate > 0.1', for: 1m}]
          - name: added
            rules: [{alert: Foreign, expr: 'node_load1 > 4'}]
    """)
    out = tmp_path / "team.yml"
    assert CliRunner().invoke(main, ["import", "prometheus", str(first), "--out", str(out)]).exit_code == 0
    result = CliRunner().invoke(main, ["import", "prometheus", str(second), "--out", str(out),
                                       "--topology", str(SCENARIOS.parent / "drills" / "topology.yaml")])
    assert result.exit_code == 0, result.output
    assert [(g.name, [r.name for r in g.rules]) for g in load_rules(out)] == [
        ("keep", ["A"]), ("replace", ["New"]), ("added", ["Foreign"])]
    assert "b.yml:5: Foreign selects no series the services of topology web-shop export" in result.output


def test_import_lists_what_it_leaves_out_and_refuses_what_it_would_lose(tmp_path, write):
    first = write("a.yml", """
        groups:
          - name: alerts
            limit: 10
            partial_response_strategy: warn
            rules:
              - alert: Down
                expr: up == 0
                anotations: {summary: a typo}
    """)
    out = tmp_path / "team.yml"
    result = CliRunner().invoke(main, ["import", "prometheus", str(first), "--out", str(out)])
    assert result.exit_code == 0, result.output
    # Thanos's field and the misspelt annotations were dropped without a word; limit was dropped too
    assert result.output.splitlines()[:2] == [
        (f"left out: {first}:4: group alerts.partial_response_strategy: not a field drillsim's rule files have "
         "(known: name, interval, limit, rules)"),
        (f"left out: {first}:8: Down.anotations: not a field drillsim's rule files have "
         "(known: alert, record, expr, for, keep_firing_for, labels, annotations)")]
    assert "limit: 10" in out.read_text() and [g.name for g in load_rules(out)] == ["alerts"]
    # a second team's group of the same name silently replaced the first's rules
    second = write("b.yml", "groups:\n  - name: alerts\n    rules: [{alert: Other, expr: up == 0}]\n")
    nameless = write("c.yml", "groups:\n  - rules: [{alert: Other, expr: up == 0}]\n")
    for paths, said in (([first, second], (f"{second}:2: group 'alerts' is also at {first}:2: a monitoring file "
                                           "holds one group of a name")),
                        ([nameless], f"{nameless}:2: a group needs a name and a list of rules")):
        result = CliRunner().invoke(main, ["import", "prometheus", *map(str, paths)])
        assert result.exit_code == 2 and said in result.output, result.output
    nameless.write_text("groups:\n  - name: ''\n    rules: [{alert: Other, expr: up == 0}]\n")
    with pytest.raises(DrillError, match=f"{nameless}:2: groups\\[0\\].name: expected a name, got empty text"):
        load_rules(nameless)  # it loaded; promtool: 'Groupname must not be empty'


def test_import_takes_a_series_recorded_in_another_file_for_data(tmp_path, write):
    recorded = write("a.yml", """
        groups:
          - name: rec
            rules: [{record: 'svc:errors:rate5m', expr: 'sum by (service) (rate(http_requests_total{code="500"}[5m]))'}]
    """)
    alert = write("b.yml", "groups:\n  - name: al\n    rules: [{alert: Errs, expr: 'svc:errors:rate5m > 1'}]\n")
    topology = str(SCENARIOS.parent / "drills" / "topology.yaml")
    # Errs, selecting what a.yml records, was listed as 'no data' though it fires in a drill
    together = CliRunner().invoke(main, ["import", "prometheus", str(recorded), str(alert), "--topology", topology])
    assert together.exit_code == 0 and "no data" not in together.output, together.output
    monitoring = tmp_path / "monitoring"
    monitoring.mkdir()
    (monitoring / "rec.yml").write_text(recorded.read_text())
    beside = CliRunner().invoke(main, ["import", "prometheus", str(alert), "--topology", topology,
                                       "--out", str(monitoring / "b.yml")])
    assert beside.exit_code == 0 and "no data" not in beside.output, beside.output
    alone = CliRunner().invoke(main, ["import", "prometheus", str(alert), "--topology", topology])
    assert f"no data: {alert}:3: Errs selects no series the services of topology web-shop export" in alone.output


def test_a_service_exports_the_client_libraries_series():
    # What a rule copied from a real service's dashboard selects: the default latency buckets
    # (le labels as the Python client writes them), memory in bytes of a 1 GiB limit.
    svc = SimpleNamespace(name="api", team="core", labels={})
    # request rate, error rate, p99 latency, cpu, memory; a 15 s scrape
    metrics = (100.0, 0.0, 250.0, 0.5, 0.25)
    exported = {(labels["__name__"], labels.get("le")): compute.of(*metrics, 15.0)
                for labels, _, compute in catalog({"api": svc})}
    # the shorthand series are the metrics themselves
    assert [exported[(name, None)] for name in ("request_rate", "error_rate", "latency_p99_ms", "cpu", "memory")] == [
        100.0, 0.0, 250.0, 0.5, 0.25]
    assert [le for name, le in exported if name == "http_request_duration_seconds_bucket"] == [
        "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1.0", "2.5", "5.0", "10.0", "+Inf"]
    # 100 requests/s over a 15 s scrape = 1500; with p99 = 250 ms, 99% are under 0.25 s: 1485
    assert exported[("http_request_duration_seconds_bucket", "0.25")] == pytest.approx(1485.0)
    assert exported[("http_request_duration_seconds_bucket", "+Inf")] == 1500.0
    assert exported[("process_resident_memory_bytes", None)] == 0.25 * 1073741824  # a quarter of 2^30
    assert exported[("up", None)] == 1.0


def test_scrapes_add_to_counters_and_set_gauges():
    # 100 requests/s, 20% failing, half a core, scraped at 0, 15 and 30 s: counters start at 0
    # and gain 15 s worth each scrape; gauges read the moment.
    svc = SimpleNamespace(name="api", team="core", labels={})
    metrics = {"api": {"request_rate": 100.0, "error_rate": 0.2, "latency_p99_ms": 250.0, "cpu": 0.5, "memory": 0.25}}
    store = Store({"api": svc})
    store.want([(lambda labels: True, None)])
    for t in (0.0, 15.0, 30.0):
        store.scrape(t, metrics)
    store.fill()  # samples are written when read
    values = {(s.labels["__name__"], s.labels.get("code")): s.values for s in store.series}
    assert values[("http_requests_total", "200")] == pytest.approx([0, 1200, 2400])  # 100 x 0.8 x 15 a scrape
    assert values[("http_requests_total", "500")] == pytest.approx([0, 300, 600])  # 100 x 0.2 x 15
    assert values[("process_cpu_seconds_total", None)] == [0, 7.5, 15]  # 0.5 core-s a second
    assert values[("up", None)] == [1.0] * 3 and values[("error_rate", None)] == [0.2] * 3
    assert values[("http_request_duration_seconds_count", None)] == [0, 1500, 3000]
    # exponential latencies have p99 = mean x ln 100: the sum grows by 1500 x 0.25 s / ln 100 a scrape
    assert values[("http_request_duration_seconds_sum", None)] == pytest.approx([0, 375 / math.log(100), 750 / math.log(100)])
    assert values[("process_resident_memory_bytes", None)] == [0.25 * 2 ** 30] * 3  # a gauge: not summed
    # failing 9 in 10 it still answers its scrape; failing 999 in 1000 counts as down
    # (a changed world hands over new metrics)
    store.scrape(45.0, {"api": {**metrics["api"], "error_rate": 0.9}})
    store.scrape(60.0, {"api": {**metrics["api"], "error_rate": 0.999}})
    store.fill()
    assert values[("up", None)][-2:] == [1.0, 0.0]


def test_a_recorded_series_is_seen_when_it_appears_and_its_stale_marker_is_no_sample():
    store = Store({})
    load = compile_expr(parse("load"), store)  # a rule's selector, made before anything is recorded
    count = compile_expr(parse("count_over_time(load[1m])"), store)
    one, two = (("__name__", "load"), ("i", "1")), (("__name__", "load"), ("i", "2"))
    store.record(15.0, "rule", {one: 2.0})
    assert load(15.0) == [(one, 2.0)]
    store.record(30.0, "rule", {two: 3.0})  # a new series appears; i="1" goes stale
    assert load(30.0) == [(two, 3.0)]
    # i="1" holds 2 at 15 s and its stale marker at 30 s: one sample over the minute, not two
    assert dict(count(30.0)) == {(("i", "1"),): 1.0, (("i", "2"),): 1.0}
