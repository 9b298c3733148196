"""Rules evaluated service by service: where an expression works each service out from that
service's series alone (``promql.per_service``), an evaluation after a change works out the
services whose series changed, and keeps the last result's series of the rest. Every drill
below logs what evaluating every rule afresh at every tick logs."""

import pytest

from sim.model.monitoring.promql import parse, per_service

from .test_promql_repeat import SCENARIO, alert, alike_every_tick, drill, record, with_rules

RATIO = ('sum by (service) (rate(http_requests_total{code="500"}[5m])) / '
         'sum by (service) (rate(http_requests_total[5m]))')


@pytest.mark.parametrize("expr, apart", [
    # a service's own series, and whatever keeps their service label
    ('up == 0', True),
    ('rate(process_cpu_seconds_total[5m]) > 0.9', True),
    ('process_resident_memory_bytes / 1073741824 > 0.9', True),
    (RATIO + " > 0.05", True),
    ('sum without (code) (rate(http_requests_total[5m])) > 1', True),
    ('histogram_quantile(0.99, sum by (service, le) (rate(http_request_duration_seconds_bucket[5m]))) > 0.5', True),
    ('clamp_min(error_rate, 0.1) > 0.2', True),
    ('abs(-memory) > 0.5 and on(service, job) up == 1', True),
    ('error_rate > ignoring(team) latency_p99_ms / 1000', True),
    ('quantile_over_time(0.9, cpu[10m]) > 0.8', True),
    # services summed together, or told apart by something that is not theirs
    ('sum(rate(http_requests_total[5m])) > 1', False),
    ('sum by (team) (error_rate) > 0.1', False),
    ('sum without (service) (error_rate) > 0.1', False),
    ('error_rate > on(team) group_left sum by (team) (error_rate)', False),
    ('error_rate > ignoring(service) error_rate', False),
    ('topk by (service) (1, error_rate) > 0.1', False),
    ('error_rate > scalar(max(error_rate))', False),
    ('clamp_min(error_rate, scalar(up)) > 0.2', False),
    ('label_replace(error_rate, "service", "x", "", "") > 0.1', False),
    ('absent(up{service="api"})', False),
    ('up > time()', False),
    ('vector(1)', False),
    ('1 > bool 0', False),
])
def test_which_expressions_work_each_service_out_apart(expr, apart):
    assert per_service(parse(expr)) is apart


# Three services, each alone (no dependencies): api fails from 7205 s for 600 s (the
# test_promql_repeat scenario), db and web stay as they are all drill.
THREE = SCENARIO.replace(
    "  api: {team: web, request_rate: 100, error_rate: 0.01%, latency_p99_ms: 200}",
    "  api: {team: web, request_rate: 100, error_rate: 0.01%, latency_p99_ms: 200}\n"
    "  db: {team: data, request_rate: 40, error_rate: 0.02%, latency_p99_ms: 30}\n"
    "  web: {team: web, request_rate: 300, error_rate: 0.01%, latency_p99_ms: 120}")


@pytest.fixture
def few(monkeypatch):
    """Rules work services out apart in a drill of any size (not from ``APART_FROM`` services on)."""
    from sim.model.monitoring import rules

    monkeypatch.setattr(rules, "APART_FROM", 1)


def test_after_a_change_only_the_changed_services_are_worked_out(tmp_path, monkeypatch, source):
    # The recording rule and the alert on it are per service. api's counters change their step at
    # the scrapes of 7215 (the fault's first) and 7815 (its first after), marked over the scrape
    # interval before each; a 5-minute window meets those marks at the evaluations from 7215 to
    # 7215 + 300 and from 7815 to 7815 + 300, and each of them works out api alone (db and web keep
    # their ratios; between, api's ratio repeats too). Before, only the first windows, which hold
    # the series' start, work out all three.
    monkeypatch.setattr(source.model.monitoring.rules, "APART_FROM", 1)
    asked = []
    only = source.model.monitoring.promql._Selected.only
    monkeypatch.setattr(source.model.monitoring.promql._Selected, "only",
                        lambda self, services: asked.append((services, self.store.scrape_times[-1]))
                        or only(self, services))
    rules = [record("service:errors:ratio", RATIO), alert("Burn", "service:errors:ratio > 0.05", 120.0)]
    run = drill(tmp_path, rules, text=THREE, package=source)
    late = [(services, t) for services, t in asked if t > 600]
    assert {services for services, _ in late} == {frozenset({"api"})}
    assert sorted({t for _, t in late}) == [7215.0 + 15 * k for k in range(21)] + [7815.0 + 15 * k for k in range(21)]
    assert max(t for _, t in asked if t <= 600) < 330
    # api's ratio passes 5 % at 7230, its second scrape of errors (2 x 750 of 30,000 requests in the
    # window), and falls below at 8085, when one scrape of errors is left in the window
    burn = [(e["kind"], e["t"]) for e in run.log.events if e["kind"].startswith("alert.")]
    assert burn == [("alert.pending", 7230), ("alert.firing", 7350), ("alert.resolved", 8085)]


@pytest.mark.parametrize("rules", [
    # the team's: a ratio recorded, an alert on it showing its value, a counter's rate apart
    [record("service:errors:ratio", RATIO),
     alert("Burn", "service:errors:ratio > 0.05", 120.0, 300.0, {"summary": "{{ $value | humanizePercentage }}"}),
     alert("Cpu", "rate(process_cpu_seconds_total[5m]) > 0.3", 300.0)],
    # a counter's rate whose value an annotation shows: worked out afresh while it has an alert
    [alert("Slow", 'sum by (service) (rate(http_request_duration_seconds_sum[5m])) / '
                   'sum by (service) (rate(http_request_duration_seconds_count[5m])) > 0.03',
           60.0, 0.0, {"summary": "{{ $value }}"})],
    # a recording rule's series of every service (of a gauge: a counter's rate, repeated, can differ
    # from a fresh one in its last bits, which $value shows whole: docs/model.md), and a rule over a
    # window of it
    [record("service:errors", "max by (service) (error_rate)"),
     alert("Sustained", "avg_over_time(service:errors[10m]) > 0.2", 0.0, 120.0, {"summary": "{{ $value }}"})],
])
def test_evaluated_apart_as_every_tick_afresh(tmp_path, rules, few):
    for monitoring in ({}, {"scrape_interval": 30.0, "evaluation_interval": 30.0}):
        drill = alike_every_tick(with_rules(tmp_path, rules, THREE, **monitoring))
        # and apart it was: a selection was narrowed to api, the one service that changed
        narrowed = [read.selected._only for _, compiled in drill.monitoring.rules.groups
                    for rule in compiled for read in rule.reads]
        assert any(only is not None and only[1] == {"api"} for only in narrowed)


@pytest.fixture
def whole(monkeypatch):
    """From now on, every rule is evaluated whole (as before rules were evaluated apart)."""
    from sim.model.monitoring import rules

    rules._shape.cache_clear()
    monkeypatch.setattr(rules, "per_service", lambda node: False)
    yield
    rules._shape.cache_clear()


def estate_drills(tmp_path, services: int, seeds: int) -> list:
    """The event logs of a generated estate (benchmarks/scale.py) with the example team rules, bots responding."""
    import sys

    from sim import load_scenario, run_drill

    from .conftest import REPO
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        import scale

        path = tmp_path / f"estate-{services}.yaml"
        path.write_text(scale.estate(services, 0.5))
        scenario = scale.team_rules(load_scenario(path))
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    return [run_drill(scenario, seed=seed).events for seed in range(seeds)]


def test_a_small_estate_is_evaluated_whole(tmp_path, monkeypatch, source):
    # below APART_FROM services the bookkeeping of working services out apart costs more than it saves
    only = []
    monkeypatch.setattr(source.model.monitoring.promql._Selected, "only", lambda self, services: only.append(services))
    drill(tmp_path, [record("service:errors:ratio", RATIO)], text=THREE, package=source)
    assert source.model.monitoring.rules.APART_FROM > 3 and only == []


def test_an_estate_with_the_team_rules_logs_what_whole_evaluations_log(tmp_path, request):
    # 40 services, a bad deploy at a leaf spreading half its errors to its callers; the team's rules
    # over every service's series, the alerts' values shown as a percentage and with two decimals
    apart = estate_drills(tmp_path, 40, 4)
    request.getfixturevalue("whole")
    assert estate_drills(tmp_path, 40, 4) == apart
    assert any(e["kind"] == "alert.firing" and e["alert"] == "ServiceErrorBudgetBurn" for e in apart[0])


def test_the_service_of_a_labels_key_is_its_service_label():
    # what an evaluation apart keeps or works out again: the key's "service" label, None without one
    from sim.model.monitoring.rules import _service

    assert _service((("__name__", "up"), ("namespace", "shop"), ("service", "checkout"), ("team", "web"))) == "checkout"
    assert _service((("job", "probe"), ("team", "web"))) is None
    assert _service(()) is None
