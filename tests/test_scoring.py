"""Each metric on the reference article's own timeline, computed by hand.

The checkout scenario starts at 14:40:00 (t=0). The gateway config push is at 14:45:00
(300 s) and reaches full strength (checkout at 15.02% errors) at 14:45:20. The
checkout alert (> 5% for 2m) is pending at the 14:45:15 evaluation and fires at
14:47:15 (435 s); the page follows group_wait later, at 14:47:45 (465 s). The script
(tests/data/article.yaml) then plays the article: ack 14:49 (540 s), SEV1 declared
14:52 (720 s), comms 14:53 (780 s), teams paged 14:55, updates 14:56 (960 s) and 15:10
(1800 s), rollback 15:07 (1620 s), resolved 15:18 (2280 s), postmortem 2026-04-23.
"""

from dataclasses import replace

import pytest

from sim import load_scenario, load_script, run_drill, score
from sim.inputs.config import DEFAULT_SEVERITIES, Process
from sim.outputs.report import scorecard
from sim.outputs.scoring import (
    cadence_adherence,
    customer_impact_min,
    next_update_due,
    role_coverage,
    slo_budget_consumed,
)

from .conftest import DATA, SCENARIOS


@pytest.fixture(scope="module")
def article():
    scenario = load_scenario(SCENARIOS / "checkout-config-push.yaml")
    result = run_drill(scenario, script=load_script(DATA / "article.yaml", scenario.start))
    return result.events, score(result.events, scenario, Process())


def test_response_times(article):
    _, card = article
    m = card["metrics"]
    assert m["time_to_detect_s"] == 435 - 300
    assert m["time_to_acknowledge_s"] == 540 - 465
    assert m["time_to_declare_s"] == 720 - 435
    assert m["time_to_mitigate_s"] == 1620 - 435
    assert m["time_to_resolve_s"] == 2280 - 435


def test_customer_impact(article):
    # Checkout breaches its 1% threshold from the 14:45:15 scrape (315 s). After the
    # rollback at 1620 s the gateway recovers linearly over 10 minutes: at 2175 s the
    # error rate is still 1.16%, at the 2190 s scrape 0.80%, so impact ends at 2190 s.
    _, card = article
    assert card["metrics"]["customer_impact_min"] == pytest.approx((2190 - 315) / 60)


def test_cadence_and_roles(article):
    _, card = article
    m = card["metrics"]
    # First update due by 14:57 (720 + 300 s): posted 14:56. Next due 30 minutes after it,
    # 15:26, which is after the resolution at 15:18: one deadline, met.
    assert m["cadence_adherence"] == 1.0
    # SEV1 needs ic, comms and ops. IC held from the declaration (720-2280 s, all of it),
    # comms from 780 s (1500 of 1560 s), ops never.
    assert m["role_coverage"] == pytest.approx((1 + 1500 / 1560 + 0) / 3)
    assert m["teams_paged"] == ["checkout", "payments"]
    assert m["teams_missing"] == []
    assert m["ic_hands_on_actions"] == 0


def test_checklist(article):
    _, card = article
    assert card["checklist"] == {
        "confirm_alert_real": True,  # dana looked at checkout at 14:50, before declaring
        "assess_severity": True,  # SEV1, as expected
        "declare_and_open_channel": True,
        "page_ic_and_comms": True,
        "initial_summary": True,  # 4 minutes after the declaration
        "investigate_symptoms": True,  # checkout, the alerting service, first
        "mitigate_first": True,
        "communicate_at_cadence": True,
        "resolved_when_normal": True,  # impact ended 15:16:30, alert resolved, fault fixed
        "postmortem_scheduled": True,  # Monday 20 April -> Thursday 23 April: 3 business days
    }


def test_overall_score_uses_the_process_weights(article):
    _, card = article
    c = card["components"]
    assert c["declare"] == 1.0  # 285 s, inside the 5 minute target
    assert c["severity"] == 1.0
    assert c["mitigate"] == 1.0  # 1185 s, inside 30 minutes
    assert c["teams"] == 1.0
    assert c["false_alarm"] is None
    weights = Process().weights
    used = {k: v for k, v in c.items() if v is not None}
    expected = 100 * sum(weights[k] * v for k, v in used.items()) / sum(weights[k] for k in used)
    assert card["score"] == round(expected, 1)
    # Customer impact 14:45:15 to 15:16:30, 31.25 min: past the 30 min target, none at 90 min:
    # (90 - 31.25) / (90 - 30) = 0.9792.
    assert card["metrics"]["customer_impact_min"] == 31.25 and c["impact"] == (90 - 31.25) / 60
    # roles is the other component below 1, (1 + 1500/1560) / 3 = 0.6538; false_alarm does not
    # apply, so the weights in play sum to 110: 100 * (80 + 15 * 0.6538 + 15 * 0.9792) / 110 = 95.0
    assert card["score"] == round(100 * (80 + 15 * (1 + 1500 / 1560) / 3 + 15 * 58.75 / 60) / 110, 1) == 95.0


def ev(t, kind, **fields):
    return {"t": t, "at": "", "kind": kind, **fields}


def test_cadence_counts_missed_and_late_updates():
    process = Process()
    events = [
        ev(0, "incident.declared", severity="SEV1", by="a", service="x"),
        ev(200, "update.posted"),  # due 300: met; next due 200 + 1800 = 2000
        ev(2500, "update.posted"),  # 2000 missed; late update at 2500, next due 4300
        ev(4000, "update.posted"),  # 4300: met; next due 5800, after resolution
        ev(5000, "incident.resolved"),
    ]
    assert cadence_adherence(events, process) == pytest.approx(2 / 3)


def test_cadence_follows_severity_changes():
    process = Process()
    events = [
        ev(0, "incident.declared", severity="SEV3", by="a", service="x"),
        ev(100, "update.posted"),  # due 300: met; SEV3 cadence 1 h -> due 3700,
        ev(200, "severity.changed", to="SEV1"),  # but SEV1's 30 min from the raise come first: 2000
        ev(3000, "update.posted"),  # 2000 missed; late at 3000, now SEV1: due 4800
        ev(6000, "incident.resolved"),  # 4800 missed, then 6600 is after resolution
    ]
    assert next_update_due(events[:3], process, 250) == 2000
    assert cadence_adherence(events, process) == pytest.approx(1 / 3)
    assert role_coverage(events, process) == 0.0  # SEV1 at its height, nobody assigned


def test_a_lowered_severity_keeps_the_deadline_already_counting():
    process = Process()
    events = [
        ev(0, "incident.declared", severity="SEV1", by="a", service="x"),
        ev(100, "update.posted"),  # due 300: met; SEV1 -> due 1900
        ev(200, "severity.changed", to="SEV3"),  # SEV3's hour from 200 (3800) is later: still 1900
        ev(1800, "update.posted"),  # met; now SEV3: due 5400
        ev(5000, "update.posted"),  # met; due 8600, after the resolution
        ev(6000, "incident.resolved"),
    ]
    assert next_update_due(events[:3], process, 250) == 1900
    assert cadence_adherence(events, process) == 1.0


def test_a_reopened_incident_runs_on_until_it_is_closed_again():
    process = Process()
    events = [
        ev(0, "incident.declared", severity="SEV1", by="a", service="x"),
        ev(200, "update.posted"),  # due 300: met; next due 200 + 1800 = 2000
        ev(1000, "incident.resolved"),
        ev(1100, "incident.reopened"),
        ev(4000, "drill.ended"),  # never resolved again: 2000 and 2000 + 1800 = 3800 missed
    ]
    assert cadence_adherence(events, process) == pytest.approx(1 / 3)
    assert next_update_due(events[:4], process, 1200) == 2000


def test_nothing_due_and_nothing_declared_give_none():
    process = Process()
    assert cadence_adherence([ev(0, "incident.declared", severity="SEV1"), ev(100, "incident.resolved")], process) is None
    assert cadence_adherence([ev(0, "alert.firing")], process) is None
    assert role_coverage([ev(0, "incident.declared", severity="SEV3"), ev(100, "incident.resolved")], process) is None


def test_an_unresolved_incident_fails_resolution_postmortem_and_impact_visibly():
    scenario = load_scenario(SCENARIOS / "night-db-storm-red-herrings.yaml")
    result = run_drill(scenario, seed=1, samples=False)
    card = score(result.events, scenario, Process())
    # The bots never resolve this storm: the drill runs to its 3 h horizon.
    assert card["metrics"]["time_to_resolve_s"] is None and result.events[-1]["reason"] == "horizon"
    assert card["checklist"]["resolved_when_normal"] is False
    assert card["checklist"]["postmortem_scheduled"] is False  # missed, not "does not apply"
    # 177.75 min of impact, past three times the 30 min target: no marks for impact.
    assert card["metrics"]["customer_impact_min"] == 177.75 and card["components"]["impact"] == 0.0
    shown = "\n".join(scorecard(card))
    assert "Time to resolve                  not resolved" in shown and "Postmortem                       not booked" in shown


def test_next_update_due_is_the_deadline_the_cadence_is_scored_by():
    process = Process()
    events = [ev(0, "incident.declared", severity="SEV1", by="a", service="x")]
    assert next_update_due([], process, 100) is None
    assert next_update_due(events, process, 100) == 300  # the initial summary, 5 min after declaring
    assert next_update_due(events, process, 400) == 300  # missed: overdue until an update comes
    events.append(ev(450, "update.posted"))
    assert next_update_due(events, process, 500) == 450 + 1800  # SEV1: within 30 min of the last update
    assert next_update_due(events, process, 450) == 450 + 1800  # from the very second it is posted
    events.append(ev(600, "update.posted"))
    assert next_update_due(events, process, 700) == next_update_due(events, process, 600) == 600 + 1800
    assert next_update_due(events + [ev(800, "incident.resolved")], process, 900) is None


def test_customer_impact_is_the_union_over_services():
    events = [
        ev(60, "impact.started", service="a"),
        ev(120, "impact.started", service="b"),
        ev(180, "impact.ended", service="a"),
        ev(300, "impact.ended", service="b"),
        ev(600, "impact.started", service="a"),
        ev(660, "drill.ended"),
    ]
    assert customer_impact_min(events) == pytest.approx((240 + 60) / 60)


def test_the_slo_budget_counts_failed_and_lost_requests():
    scenario = load_scenario(SCENARIOS / "checkout-config-push.yaml")
    # checkout's month: (1 - 99.9%) x 120 requests/s x 30 days = 311,040 bad requests allowed;
    # 100,000 failed and 3,680 lost are a third of them, to six decimals.
    assert slo_budget_consumed({"checkout": {"failed": 100000, "lost": 3680}}, scenario) == 0.333333


def test_a_false_alarm_stood_down_scores_as_handled():
    scenario = load_scenario(SCENARIOS / "checkout-config-push.yaml")
    from dataclasses import replace

    scenario = replace(scenario, faults=(), truth=replace(scenario.truth, false_alarm=True, severity=None))
    events = [
        ev(0, "alert.firing", cause=["noise"], fingerprint="f"),
        ev(60, "page.sent", cause=["noise"], page="P1"),
        ev(120, "page.acked", page="P1", by="dana"),
        ev(150, "dashboard.viewed", by="dana", service="search"),
        ev(200, "incident.stood_down", by="dana", declared=False, reason="noise"),
        ev(200, "drill.ended"),
    ]
    card = score(events, scenario, Process())
    assert card["metrics"]["false_alarm_handled"] is True
    assert card["checklist"]["confirm_alert_real"] is True
    assert card["checklist"]["assess_severity"] is True
    assert card["components"]["false_alarm"] == 1.0


def test_a_missed_item_says_why_when_and_what_would_have_passed(tmp_path):
    from sim.outputs.report import markdown

    scenario = load_scenario(SCENARIOS / "checkout-config-push.yaml")
    early = (DATA / "article.yaml").read_text().replace('{at: "15:18", by: alex, do: resolve}', '{at: "15:12", by: alex, do: resolve, confirm: true}')
    early = early.replace("date: 2026-04-23", "date: 2026-04-30")
    (tmp_path / "early.yaml").write_text(early)
    result = run_drill(scenario, script=load_script(tmp_path / "early.yaml", scenario.start), samples=False)
    card = score(result.events, scenario, Process())
    # Resolved at 15:12: checkout's errors stay above its 1% impact threshold until 15:16:30, and
    # both 5% alerts until 15:13:45; so 15:17 is the first whole minute when all was normal.
    # The postmortem on Thursday 30 April is 8 business days after Monday 20 April; 5 allow up to 27 April.
    assert card["why"] == {
        "resolved_when_normal": "resolved at 15:12 while checkout was above its 1% error rate impact threshold (it fell "
                                "below at 15:16); alert \"checkout error rate > 5%\" was still firing (it resolved at 15:13); "
                                "alert \"payment-gateway error rate > 5%\" was still firing (it resolved at 15:13); "
                                "resolving at 15:17 or later would have passed",
        "postmortem_scheduled": "it was booked for 2026-04-30, 8 business days after the resolution on 2026-04-20; "
                                "booking it for 2026-04-20 to 2026-04-27 would have passed",
    }
    shown = scorecard(card)
    assert shown[shown.index("  [ ] Declare resolved when metrics return to normal") + 1] == \
        "      why: " + card["why"]["resolved_when_normal"]
    assert ("- [ ] Declare resolved when metrics return to normal: " + card["why"]["resolved_when_normal"]) in \
        markdown(result, card, plot=False)


def test_missed_cadence_and_late_summary_are_explained():
    from sim.outputs.scoring import why_missed

    scenario = load_scenario(SCENARIOS / "checkout-config-push.yaml")  # starts 14:40:00
    process = Process()
    events = [ev(0, "incident.declared", severity="SEV1", by="a", service="checkout"),
              ev(400, "update.posted"),  # 14:46:40, 6m40s after declaring: the summary was due 14:45
              ev(2500, "update.posted"),  # due 400 + 1800 = 2200 (15:16:40): missed
              ev(4000, "incident.resolved")]  # next due 2500 + 1800 = 4300, after the end
    why = why_missed(events, scenario, process, {"initial_summary": False, "communicate_at_cadence": False})
    assert why == {
        "initial_summary": "the first update came at 14:46, 6m40s after the declaration at 14:40; one by 14:45 "
                           "(within 5m) would have passed",
        "communicate_at_cadence": "0 of 2 update deadlines met (0%), below the 80% needed; missed the updates due at "
                                  "14:45, 15:16; an update before each deadline would have passed",
    }


def test_a_process_with_its_own_level_names_judges_the_scenario_at_the_same_rank(article):
    # The scenario's truth says SEV1 (the built-in scale); a team whose levels are P1 to P5
    # is judged by P1, the level its bots would declare for the same impact.
    events, _ = article
    levels = {f"P{n}": replace(level, name=f"P{n}") for n, level in enumerate(DEFAULT_SEVERITIES.values(), 1)}
    levels["P5"] = replace(DEFAULT_SEVERITIES["SEV4"], name="P5")
    process = Process(severities=levels)
    renamed = [{**e, "severity": "P1"} if e.get("severity") == "SEV1" else e for e in events]
    card = score(renamed, load_scenario(SCENARIOS / "checkout-config-push.yaml"), process)
    assert card["metrics"]["expected_severity"] == "P1"
    assert card["components"]["severity"] == 1.0
    assert card["components"]["declare"] == 1.0  # declared 285 s after detection, P1's response 5m
    assert card["checklist"]["assess_severity"] is True
    two = Process(severities={"major": DEFAULT_SEVERITIES["SEV1"], "minor": DEFAULT_SEVERITIES["SEV3"]})
    truth = load_scenario(SCENARIOS / "checkout-config-push.yaml").truth
    assert two.truth(replace(truth, severity="SEV3", final_severity="SEV2")).severity == "minor"
    assert two.truth(replace(truth, final_severity="SEV2")).final_severity == "minor"
    assert Process().truth(truth) == truth


def test_a_level_staffing_an_ic_without_comms_asks_for_the_ic_alone():
    # The team's 'incident' level staffs an IC only (and SEV0-style comms without an IC):
    # the checklist item asks for what the level staffs, not a Communications Lead it never has.
    ic_only = Process(severities={"incident": replace(DEFAULT_SEVERITIES["SEV1"], name="incident", roles=("ic",))})
    scenario = load_scenario(SCENARIOS / "checkout-config-push.yaml")
    events = [ev(0, "incident.declared", severity="incident", by="a", service="checkout"),
              ev(10, "role.assigned", role="ic", who="a"), ev(900, "incident.resolved")]
    card = score(events, scenario, ic_only)
    assert card["checklist"]["page_ic_and_comms"] is True
    comms_only = Process(severities={"incident": replace(DEFAULT_SEVERITIES["SEV1"], name="incident", roles=("comms",))})
    card = score(events, scenario, comms_only)
    assert card["checklist"]["page_ic_and_comms"] is False
    assert card["why"]["page_ic_and_comms"] == ("a Communications Lead was never assigned, though incident needs one; "
                                                "assigning one would have passed")


def test_a_declaration_before_the_first_alert_starts_the_clocks(tmp_path):
    # dana sees checkout failing on its dashboard at 14:46:30 and declares SEV1 at 14:46:42 (402 s),
    # 33 s before the alert fires at 14:47:15 (435 s): time to declare read -33s, the quarter's
    # chart drew no bar for it, and the time to mitigate ran from the alert.
    from sim.outputs.report import postmortem_draft
    from sim.records import quarter, store

    scenario = load_scenario(SCENARIOS / "checkout-config-push.yaml")
    early = (DATA / "article.yaml").read_text().replace(
        '  - {at: "14:50", by: dana, do: look, service: checkout}\n  - {at: "14:52", by: dana, do: declare, severity: SEV1}\n',
        '  - {at: "14:46:30", by: dana, do: look, service: checkout}\n'
        '  - {at: "14:46:42", by: dana, do: declare, severity: SEV1, service: checkout}\n')
    (tmp_path / "early.yaml").write_text(early)
    result = run_drill(scenario, script=load_script(tmp_path / "early.yaml", scenario.start), samples=False)
    card = score(result.events, scenario, Process())
    m = card["metrics"]
    # Every clock starts at the declaration: detected 102 s after the push (300 s), the rollback at
    # 15:07 (1620 s) 1218 s later, resolved at 15:18 (2280 s) 1878 s later.
    assert (m["detected_by"], m["time_to_detect_s"], m["time_to_declare_s"], m["time_to_mitigate_s"],
            m["time_to_resolve_s"]) == ("declaration", 102.0, 0.0, 1218.0, 1878.0)
    assert card["components"]["declare"] == 1.0
    assert postmortem_draft(result, card)[6] == (
        "On 2026-04-20, dana declared a SEV1 incident on checkout at 14:46 UTC (highest severity SEV1), before any alert "
        "or report; the first alert, checkout error rate > 5%, fired at 14:47 UTC. Customers were affected for 31 "
        "minutes. The incident was resolved 31m18s after the declaration.")
    # The store and the quarter's table and chart say the same; a drill stored with the old -33 s reads so too.
    path = tmp_path / "drills.db"
    store.record(result, card, conducted="2026-04-20", mode="script", path=path)
    old = {**card, "metrics": {**m, "detected_by": "alert", "time_to_declare_s": -33.0}}
    store.record(result, old, conducted="2026-04-21", mode="script", path=path)
    df = quarter.frame(store.drills(path))
    assert df[["time_to_declare_s", "declared_first"]].values.tolist() == [[0.0, True], [0.0, True]]
    rows = quarter.build("2026-Q2", store.drills(path))["drills"]
    assert [r["declare"] for r in rows] == ["0s (declared first)", "0s (declared first)"]


def test_a_declaration_before_the_fault_starts_the_clocks_at_the_fault(tmp_path):
    from sim.outputs.report import postmortem_draft

    # dana declares SEV1 on checkout at 14:41 (60 s), before the config push at 14:45 (300 s):
    # nothing could be seen yet. Time to detect read -240 s and the later clocks ran from 14:41;
    # they run from the push: the rollback at 14:58 (1080 s) 780 s later, resolved at 15:10
    # (1800 s) 1500 s later.
    scenario = load_scenario(SCENARIOS / "checkout-config-push.yaml")
    (tmp_path / "guess.yaml").write_text(
        'participants:\n  - {name: dana, oncall: primary}\n  - {name: alex}\nactions:\n'
        '  - {at: "14:41", by: dana, do: declare, severity: SEV1, service: checkout}\n'
        '  - {at: "14:50", by: dana, do: investigate, service: payment-gateway}\n'
        '  - {at: "14:58", by: dana, do: mitigate, action: rollback, service: payment-gateway}\n'
        '  - {at: "15:10", by: dana, do: resolve}\n')
    result = run_drill(scenario, script=load_script(tmp_path / "guess.yaml", scenario.start), samples=False)
    card = score(result.events, scenario, Process())
    m = card["metrics"]
    assert (m["detected_by"], m["time_to_detect_s"], m["time_to_declare_s"], m["time_to_mitigate_s"],
            m["time_to_resolve_s"]) == ("declaration", 0.0, 0.0, 780.0, 1500.0)
    # The postmortem draft names where those 25 minutes run from (29 after the declaration)
    assert postmortem_draft(result, card)[6].endswith("The incident was resolved 25m after the fault began at 14:45 UTC.")
