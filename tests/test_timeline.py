"""The timeline picture: milestones whose labels never collide, severity changes, customer
impact shaded, alert thresholds drawn, and a title that says who played and when."""

from types import SimpleNamespace

from click.testing import CliRunner

from sim import load_scenario, run_drill
from sim.cli import main
from sim.outputs.report import impact_spans, lanes, milestones, plot_timeline, plotted_services, thresholds, title

from .conftest import SCENARIOS, paused_drill


def test_labels_take_the_lowest_lane_where_they_do_not_overlap():
    # pixels: a [0, 50], b [40, 90] overlaps a, c [55, 70] fits after a with the gap of 4 (50 + 4 <= 55),
    # d [60, 100] overlaps a's lane (c ends at 70) and b's (ends 90): a third lane
    assert lanes([(0, 50), (40, 90), (55, 70), (60, 100)], gap=4) == [0, 1, 0, 2]
    # exactly the gap apart is no collision; one pixel closer is
    assert lanes([(0, 10), (14, 20)], gap=4) == [0, 0]
    assert lanes([(0, 10), (13, 20)], gap=4) == [0, 1]


def test_milestones_mark_the_response_and_every_severity_change():
    events = [
        {"t": 60, "kind": "alert.firing", "alert": "Noise", "cause": ["noise"]},
        {"t": 120, "kind": "alert.firing", "alert": "CheckoutErrors", "cause": ["F1"]},
        {"t": 130, "kind": "alert.firing", "alert": "CheckoutLatency", "cause": ["F1"]},
        {"t": 200, "kind": "page.acked", "by": "dana"},
        {"t": 210, "kind": "page.acked", "by": "lee"},
        {"t": 300, "kind": "incident.declared", "severity": "SEV2"},
        {"t": 400, "kind": "severity.changed", "from": "SEV2", "to": "SEV1"},
        {"t": 500, "kind": "update.posted", "status": "investigating"},
        {"t": 600, "kind": "mitigation.applied", "action": "rollback", "service": "payment-gateway"},
        {"t": 700, "kind": "incident.resolved"},
    ]
    assert [(t, label) for t, label, _ in milestones(events)] == [
        (120, "alert: CheckoutErrors"), (200, "ack (dana)"), (300, "SEV2 declared"), (400, "SEV2 \u2192 SEV1"),
        (500, "update: investigating"), (600, "rollback payment-gateway"), (700, "resolved")]


def test_customer_impact_spans_join_overlapping_services():
    events = [{"t": 100, "kind": "impact.started", "service": "checkout"},
              {"t": 150, "kind": "impact.started", "service": "storefront"},
              {"t": 200, "kind": "impact.ended", "service": "checkout"},
              {"t": 260, "kind": "impact.ended", "service": "storefront"},
              {"t": 900, "kind": "impact.started", "service": "checkout"}]
    assert impact_spans(events) == [(100, 260), (900, None)]  # the second lasts to the end


def test_the_title_names_a_simulated_drill_by_its_seed_and_a_live_one_by_who_and_when():
    scenario = SimpleNamespace(title="Checkout down")
    bots = SimpleNamespace(scenario=scenario, seed=3, participants=[{"name": "dana", "bot": True}])
    assert title(bots) == "Checkout down (simulated, seed 3)"
    people = SimpleNamespace(scenario=scenario, seed=0, participants=[{"name": "ana", "bot": False},
                                                                      {"name": "dana", "bot": True},
                                                                      {"name": "kim", "bot": False}])
    assert title(people) == "Checkout down (played by ana, kim)"
    assert title(people, "2026-12-02") == "Checkout down (live, played by ana, kim on 2026-12-02)"


def test_the_picture_draws_the_rules_on_customer_facing_metrics():
    scenario = load_scenario(SCENARIOS / "night-db-storm-red-herrings.yaml")
    drawn = [(r["name"], r["service"], r["metric"]) for r in thresholds(scenario)]
    # the storm's rules on customer-facing services' error rate or p99; none on cpu or on internal services
    assert ("CheckoutHighErrorRate", "checkout", "error_rate") in drawn
    assert all(scenario.services[service].customer_facing for _, service, _ in drawn)
    assert all(metric in ("error_rate", "latency_p99_ms") for _, _, metric in drawn)
    png = plot_timeline(run_drill(scenario, seed=1))
    assert png.startswith(b"\x89PNG") and png == plot_timeline(run_drill(scenario, seed=1))  # deterministic


def test_a_big_estate_draws_the_services_the_story_moved_and_six_quiet_ones():
    # 30 customer-facing services made a legend taller than the picture: the axes shrank to slivers
    # and the strip's labels ran into one another
    facing = [f"s{i}" for i in range(30)]
    drawn, quiet, hidden = plotted_services(facing, {"s5", "s20"})
    assert drawn == ["s0", "s1", "s2", "s3", "s4", "s5", "s6", "s20"]
    assert quiet == ["s0", "s1", "s2", "s3", "s4", "s6"] and hidden == 22
    assert plotted_services(facing[:7], {"s5"}) == (facing[:7], ["s0", "s1", "s2", "s3", "s4", "s6"], 0)


def test_a_live_drill_is_titled_by_its_day_and_drill_show_re_renders_it_byte_for_byte(tmp_path):
    from sim.records import store

    live = paused_drill(tmp_path / "drill")
    live.advance(until=600)
    live.act({"do": "declare", "by": "ana", "severity": "SEV2"})
    live.end()
    written, drill_id = live.finish(live.scorecard(), tmp_path / "drills.db", conducted="2026-11-30")
    [kept] = store.drills(tmp_path / "drills.db")
    assert kept.conducted == "2026-11-30"
    assert title(live.result, "2026-11-30").endswith("(live, played by ana on 2026-11-30)")
    shown = CliRunner().invoke(main, ["show", str(drill_id), "--store", str(tmp_path / "drills.db"),
                                      "--report", str(tmp_path / "shown")])
    assert shown.exit_code == 0, shown.output
    picture = next(p for p in written if p.name == "timeline.png")
    assert (tmp_path / "shown" / "timeline.png").read_bytes() == picture.read_bytes()
