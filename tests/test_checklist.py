"""Scorecard metrics and checklist items at their edges, on short event logs worked out by hand.

The base drill (tests/data/tiny.yaml: starts Monday 2026-04-20 14:00, truth SEV2, team api):
the fault starts at 60 s and customers are hit from 75 s; the alert fires at 195 s and
pages dana at 225 s, who acknowledges at 300 s, looks at the dashboard at 330 s and
declares a SEV2 at 400 s (so holds IC); sam takes comms at 460 s; api is paged at 520 s;
lee investigates api at 560 s; sam posts the first update at 640 s; lee's rollback fixes
the fault at 900 s; impact ends at 1000 s, the alert resolves at 1050 s; dana resolves at
1200 s and books the postmortem for Thursday 2026-04-23.
"""

from dataclasses import replace

import pytest

from sim import load_scenario
from sim.inputs.config import Process
from sim.outputs.scoring import (
    customer_impact_min,
    duties,
    role_coverage,
    score,
    stakeholder_waits,
    update_deadlines,
    why_missed,
)

from .conftest import DATA

TINY = load_scenario(DATA / "tiny.yaml")
PROCESS = Process()
FIXED = [{"fault": "boom", "outcome": "fixed", "returns_in": None}]


def ev(t, kind, **fields):
    return {"t": t, "at": f"t+{t}", "kind": kind, **fields}


def base():
    return [
        ev(60, "fault.started", fault="boom", service="api"),
        ev(75, "impact.started", service="api", cause=["boom"]),
        ev(195, "alert.firing", service="api", fingerprint="F1", cause=["boom"], summary="api errors"),
        ev(225, "page.sent", page="P1", to="dana", service="api", cause=["boom"]),
        ev(300, "page.acked", page="P1", by="dana"),
        ev(330, "dashboard.viewed", by="dana", service="api"),
        ev(400, "incident.declared", by="dana", severity="SEV2", service="api"),
        ev(400, "role.assigned", by="dana", role="ic", who="dana"),
        ev(460, "role.assigned", by="dana", role="comms", who="sam"),
        ev(520, "teams.paged", by="dana", teams=["api"]),
        ev(560, "investigation.started", by="lee", service="api"),
        ev(640, "update.posted", by="sam", status="investigating"),
        ev(900, "mitigation.applied", by="lee", action="rollback", service="api", effective=True, faults=FIXED),
        ev(1000, "impact.ended", service="api"),
        ev(1050, "alert.resolved", service="api", fingerprint="F1"),
        ev(1200, "incident.resolved", by="dana"),
        ev(1300, "postmortem.scheduled", by="dana", date="2026-04-23"),
        ev(1600, "drill.ended"),
    ]


def edit(events, *, drop=(), add=()):
    """The log without the events of the kinds in ``drop``, with ``add``, kept in time order."""
    kept = [e for e in events if e["kind"] not in drop]
    return sorted(kept + list(add), key=lambda e: e["t"])


def card(events, scenario=TINY, process=PROCESS):
    return score(events, scenario, process)


def test_the_base_drill_by_hand():
    c = card(base())
    m = c["metrics"]
    assert (m["time_to_detect_s"], m["time_to_acknowledge_s"], m["time_to_declare_s"],
            m["time_to_mitigate_s"], m["time_to_resolve_s"]) == (195 - 60, 300 - 225, 400 - 195, 900 - 195, 1200 - 195)
    assert m["customer_impact_min"] == round((1000 - 75) / 60, 2) == 15.42
    # First update due 400 + 300 = 700: posted 640; the next (640 + 1 h) falls after 1200.
    assert m["cadence_adherence"] == 1.0
    # SEV2 staffs ic, comms, ops over 400-1200 s: ic all 800 s, comms 740 s, ops none.
    assert m["role_coverage"] == pytest.approx((1 + 740 / 800 + 0) / 3)
    assert (m["highest_severity"], m["declared_severity"], m["severity_changes"]) == ("SEV2", "SEV2", 0)
    assert (m["updates_posted"], m["actions_rejected"], m["max_roles_per_person"], m["ic_hands_on_actions"]) == (1, 0, 1, 0)
    assert (m["teams_paged"], m["teams_missing"], m["postmortem_date"]) == (["api"], [], "2026-04-23")
    assert all(c["checklist"].values()), c["checklist"]
    # declare: 205 s inside SEV2's 15 min; mitigate: 705 s inside 30 min; SEV2 as expected; api paged.
    assert {k: c["components"][k] for k in ("declare", "severity", "mitigate", "teams", "false_alarm")} == {
        "declare": 1.0, "severity": 1.0, "mitigate": 1.0, "teams": 1.0, "false_alarm": None}


def test_times_are_kept_to_a_tenth_of_a_second():
    events = edit(base(), drop={"page.acked"}, add=[ev(300.04, "page.acked", page="P1", by="dana")])
    assert card(events)["metrics"]["time_to_acknowledge_s"] == 75.0  # 300.04 - 225 = 75.04


def test_a_noise_page_acknowledged_first_is_not_the_acknowledgement():
    noise = [ev(100, "page.sent", page="P0", to="dana", cause=["noise"]), ev(110, "page.acked", page="P0", by="dana")]
    assert card(edit(base(), add=noise))["metrics"]["time_to_acknowledge_s"] == 300 - 225


def test_an_update_on_the_deadline_is_in_time_and_counts_once():
    declared = [ev(0, "incident.declared", by="a", severity="SEV2", service="api")]
    # Due at 300 and posted at 300: met. The next is due 300 + 1 h = 3900; the update at 300
    # does not count again for it, so 3900 is missed; nothing later, so 3900 + 1 h > 5000.
    events = declared + [ev(300, "update.posted"), ev(5000, "incident.resolved")]
    assert update_deadlines(events, PROCESS) == [(300, True), (3900, False)]
    # Resolved exactly when the first update falls due: nothing was owed yet.
    assert update_deadlines(declared + [ev(300, "incident.resolved")], PROCESS) == []
    # Updates before the declaration are not status updates of this incident.
    early = [ev(-50, "update.posted"), *declared, ev(1000, "incident.resolved")]
    assert update_deadlines(early, PROCESS) == [(300, False)]


def test_an_update_posted_with_the_declaration_counts_and_a_change_that_second_applies():
    events = [
        ev(0, "incident.declared", by="a", severity="SEV2", service="api"),
        ev(0, "update.posted"),  # with the declaration: meets the first deadline (300)
        ev(0, "severity.changed", to="SEV1"),  # the same second: the next is due on SEV1's 30 min, 1800
        ev(2000, "incident.resolved"),
    ]
    assert update_deadlines(events, PROCESS) == [(300, True), (1800, False)]


def test_an_update_with_the_resolution_does_not_excuse_the_deadlines_missed_before():
    events = [ev(0, "incident.declared", by="a", severity="SEV1", service="api"),
              ev(5000, "update.posted", status="resolved"), ev(5000, "incident.resolved")]
    # Due 300, missed; then every 30 min from the missed deadline: 2100, 3900; 5700 is after the end.
    assert update_deadlines(events, PROCESS) == [(300, False), (2100, False), (3900, False)]


def test_a_late_update_restarts_the_clock_at_the_current_severity():
    events = [
        ev(0, "incident.declared", by="a", severity="SEV2", service="api"),
        ev(100, "update.posted"),  # due 300: met; SEV2 (1 h) -> due 3700
        ev(3000, "severity.changed", to="SEV1"),
        ev(4000, "update.posted"),  # 3700 missed, late at 4000: SEV1 now (30 min) -> due 5800
        ev(5900, "update.posted"),  # 5800 missed, late at 5900 -> due 7700, after the end
        ev(7000, "incident.resolved"),
    ]
    assert update_deadlines(events, PROCESS) == [(300, True), (3700, False), (5800, False)]


def test_role_coverage_counts_from_the_declaration_to_the_end():
    events = [
        ev(0, "role.assigned", role="ops", who="lee"),  # before the declaration: counts from 100
        ev(100, "incident.declared", by="a", severity="SEV1", service="api"),
        ev(100, "role.assigned", role="ic", who="a"),
        ev(300, "role.assigned", role="comms", who="sam"),
        ev(500, "incident.resolved", by="a"),
    ]
    # Over 100-500 s: ic 400, comms 200, ops 400 of 400.
    assert role_coverage(events, PROCESS) == pytest.approx((1 + 0.5 + 1) / 3)
    # Never resolved: the incident runs to the last event (900 s): ic 800, comms 600, ops 800 of 800.
    open_ended = events[:-1] + [ev(900, "drill.ended")]
    assert role_coverage(open_ended, PROCESS) == pytest.approx((1 + 0.75 + 1) / 3)
    # Declared and ended at once: no time to cover.
    assert role_coverage([ev(5, "incident.declared", severity="SEV1"), ev(5, "incident.resolved")], PROCESS) is None


def test_most_roles_held_by_one_person_is_the_most_at_any_moment():
    events = edit(base(), add=[
        ev(470, "role.assigned", by="dana", role="ops", who="dana"),  # dana: ic and ops
        ev(480, "role.assigned", by="dana", role="ic", who="alex"),  # dana down to ops alone
    ])
    assert card(events)["metrics"]["max_roles_per_person"] == 2


def test_the_ic_is_hands_on_only_while_holding_ic():
    events = edit(base(), add=[
        ev(410, "investigation.started", by="dana", service="api"),  # dana is IC: hands on
        ev(480, "role.assigned", by="dana", role="ic", who="alex"),
        ev(700, "mitigation.applied", by="dana", action="restart", service="api", effective=False, faults=[]),  # no longer IC
        ev(800, "investigation.started", by="alex", service="api"),  # alex is IC now
        ev(1250, "investigation.started", by="alex", service="api"),  # after resolution
    ])
    assert card(events)["metrics"]["ic_hands_on_actions"] == 2


def test_highest_severity_is_the_most_severe_level_held():
    events = edit(base(), add=[ev(500, "severity.changed", to="SEV1"), ev(800, "severity.changed", to="SEV3")])
    m = card(events)["metrics"]
    assert (m["highest_severity"], m["declared_severity"], m["severity_changes"]) == ("SEV1", "SEV2", 2)


def test_confirming_the_alert_means_the_decider_looked_before_deciding():
    assert card(base())["checklist"]["confirm_alert_real"] is True
    someone_else = edit(base(), drop={"dashboard.viewed"}, add=[ev(330, "dashboard.viewed", by="lee", service="api")])
    assert card(someone_else)["checklist"]["confirm_alert_real"] is False
    too_late = edit(base(), drop={"dashboard.viewed"}, add=[ev(401, "dashboard.viewed", by="dana", service="api")])
    assert card(too_late)["checklist"]["confirm_alert_real"] is False
    # One look before among others after is enough.
    also_later = edit(base(), add=[ev(700, "dashboard.viewed", by="dana", service="api")])
    assert card(also_later)["checklist"]["confirm_alert_real"] is True


def test_investigating_symptoms_means_first_looking_at_an_alerting_service():
    # The first investigation after the alert is of a service that was not alerting.
    elsewhere = edit(base(), drop={"investigation.started"}, add=[
        ev(560, "investigation.started", by="lee", service="db"), ev(600, "investigation.started", by="lee", service="api")])
    assert card(elsewhere)["checklist"]["investigate_symptoms"] is False
    # An investigation before anything fired is not the first look; the alert firing the
    # very second lee starts on api counts as a symptom.
    at_once = edit(base(), drop={"investigation.started", "alert.firing"}, add=[
        ev(150, "investigation.started", by="lee", service="db"),
        ev(560, "alert.firing", service="api", fingerprint="F1", cause=["boom"], summary="api errors"),
        ev(560, "investigation.started", by="lee", service="api")])
    assert card(at_once)["checklist"]["investigate_symptoms"] is True


def test_initial_summary_is_due_within_five_minutes_of_declaring():
    def first_update_at(t):
        return card(edit(base(), drop={"update.posted"}, add=[ev(t, "update.posted", by="sam")]))["checklist"]
    assert first_update_at(700)["initial_summary"] is True  # 400 + 300: just in time
    assert first_update_at(701)["initial_summary"] is False


def test_ic_and_comms_must_both_be_staffed_when_the_severity_needs_them():
    assert card(edit(base(), drop={"role.assigned"}, add=[ev(400, "role.assigned", role="ic", who="dana")])
                )["checklist"]["page_ic_and_comms"] is False
    sev3 = edit(base(), drop={"incident.declared"}, add=[ev(400, "incident.declared", by="dana", severity="SEV3")])
    assert card(sev3)["checklist"]["page_ic_and_comms"] is None  # SEV3 staffs no roles
    assert card(sev3)["checklist"]["assess_severity"] is False  # the truth is SEV2


def test_mitigating_after_resolving_is_not_mitigating_first():
    late = edit(base(), drop={"mitigation.applied"}, add=[
        ev(1250, "mitigation.applied", by="lee", action="rollback", service="api", effective=True, faults=FIXED)])
    assert card(late)["checklist"]["mitigate_first"] is False
    at_once = edit(base(), drop={"mitigation.applied"}, add=[
        ev(1200, "mitigation.applied", by="lee", action="rollback", service="api", effective=True, faults=FIXED)])
    assert card(at_once)["checklist"]["mitigate_first"] is True


def test_resolved_when_normal_needs_no_impact_no_fault_alert_and_no_fault_left():
    def resolved_at(t, *extra):
        events = edit(base(), drop={"incident.resolved", "postmortem.scheduled"},
                      add=[ev(t, "incident.resolved", by="dana"), *extra])
        return card(events)["checklist"]["resolved_when_normal"]
    assert resolved_at(1100) is True
    assert resolved_at(990) is False  # customers still hit until 1000
    assert resolved_at(1020) is False  # impact over, the alert still firing until 1050
    assert resolved_at(1100, ev(1060, "alert.firing", service="api", fingerprint="N", cause=["noise"], summary="api errors")) is True
    # Customers still hit after the alert resolved; impact ending the very second of the resolution is over.
    early_alert = edit(base(), drop={"alert.resolved", "incident.resolved", "postmortem.scheduled"},
                       add=[ev(950, "alert.resolved", service="api", fingerprint="F1")])
    assert card(edit(early_alert, add=[ev(980, "incident.resolved", by="dana")]))["checklist"]["resolved_when_normal"] is False
    assert card(edit(early_alert, add=[ev(1000, "incident.resolved", by="dana")]))["checklist"]["resolved_when_normal"] is True
    # Two faults, one fixed and one never touched: not stable.
    second = edit(base(), add=[ev(70, "fault.started", fault="other", service="api")])
    assert card(second)["checklist"]["resolved_when_normal"] is False
    # A band-aid: the fault is only suppressed and will come back.
    suppressed = [{"fault": "boom", "outcome": "suppressed", "returns_in": 600}]
    band_aid = edit(base(), drop={"mitigation.applied"}, add=[
        ev(900, "mitigation.applied", by="lee", action="restart", service="api", effective=True, faults=suppressed)])
    assert card(band_aid)["checklist"]["resolved_when_normal"] is False
    # Nobody touched the fault: it is still there, however quiet it looks at 1100.
    untouched = edit(base(), drop={"mitigation.applied"})
    assert card(untouched)["checklist"]["resolved_when_normal"] is False
    # A fault that ended by itself, without a fix, leaves nothing to come back.
    ended = edit(base(), drop={"mitigation.applied"}, add=[ev(900, "fault.ended", fault="boom")])
    assert card(ended)["checklist"]["resolved_when_normal"] is True
    returned = edit(ended, add=[ev(1100, "fault.returned", fault="boom")])
    assert card(returned)["checklist"]["resolved_when_normal"] is False


@pytest.mark.parametrize("date, in_time", [
    ("2026-04-20", True),  # the day it was resolved: 0 business days
    ("2026-04-27", True),  # next Monday: 5 business days, the limit
    ("2026-04-28", False),  # 6 business days
])
def test_the_postmortem_is_due_within_five_business_days(date, in_time):
    events = edit(base(), drop={"postmortem.scheduled"}, add=[ev(1300, "postmortem.scheduled", by="dana", date=date)])
    c = card(events)
    assert c["checklist"]["postmortem_scheduled"] is in_time and c["metrics"]["postmortem_in_time"] is in_time


def test_a_sev3_needs_no_postmortem_and_checklist_items_that_do_not_apply_are_none():
    sev3 = edit(base(), drop={"incident.declared"}, add=[ev(400, "incident.declared", by="dana", severity="SEV3")])
    assert card(sev3)["checklist"]["postmortem_scheduled"] is None
    # No declaration (nobody decided anything): nothing to confirm, no teams score.
    undeclared = edit(base(), drop={"incident.declared", "role.assigned", "update.posted", "incident.resolved",
                                    "postmortem.scheduled", "teams.paged"})
    c = card(undeclared)
    assert c["checklist"]["confirm_alert_real"] is None and c["checklist"]["declare_and_open_channel"] is False
    assert c["checklist"]["communicate_at_cadence"] is None and c["components"]["teams"] is None
    assert c["metrics"]["max_roles_per_person"] == 0  # nobody held a role


def test_cadence_passes_at_the_process_threshold():
    # Five deadlines, four met: 80%, exactly the pass mark (cadence_pass 0.8).
    events = [ev(0, "incident.declared", by="a", severity="SEV1", service="api")]
    events += [ev(t, "update.posted") for t in (300, 2100, 3900, 5700)]  # due 300, 2100, 3900, 5700
    events += [ev(9000, "incident.resolved", by="a")]  # 7500 missed; the next, 9300, after the end
    c = card(events)
    assert c["metrics"]["cadence_adherence"] == 0.8 and c["checklist"]["communicate_at_cadence"] is True


@pytest.mark.parametrize("declared_at, expected", [
    (195 + 900, 1.0),  # SEV2's 15 min response: full marks
    (195 + 2700, 1 / 3),  # (3600 - 2700) / (3600 - 900): a third of the way from 4 x 15 min
    (195 + 3600, 0.0),  # four times the response: nothing
])
def test_declaring_earns_less_the_later_it_comes(declared_at, expected):
    events = edit(base(), drop={"incident.declared"}, add=[ev(declared_at, "incident.declared", by="dana",
                                                             severity="SEV2", service="api")])
    assert card(events)["components"]["declare"] == pytest.approx(expected)


@pytest.mark.parametrize("severity, expected", [("SEV2", 1.0), ("SEV1", 0.5), ("SEV3", 0.5), ("SEV4", 0.0)])
def test_the_severity_component_halves_one_level_off_and_zeroes_beyond(severity, expected):
    events = edit(base(), drop={"incident.declared"}, add=[ev(400, "incident.declared", by="dana", severity=severity)])
    assert card(events)["components"]["severity"] == expected


def test_paging_extra_teams_costs_a_tenth_each():
    events = edit(base(), drop={"teams.paged"}, add=[ev(520, "teams.paged", by="dana", teams=["api", "web", "db"])])
    c = card(events)
    assert c["components"]["teams"] == pytest.approx(1 - 0.1 * 2) and c["metrics"]["teams_paged"] == ["api", "db", "web"]


def test_stakeholder_questions_wait_for_the_next_update():
    answered_at_once = edit(base(), add=[ev(640, "stakeholder.asked", by="vp")])
    assert stakeholder_waits(answered_at_once) == [0]  # the update posted that second answers it
    events = edit(base(), add=[ev(500, "stakeholder.asked", by="vp"), ev(1250, "stakeholder.asked", by="vp")])
    # 500 -> the update at 640: 140 s. 1250: no update after it; the incident ended at 1200.
    assert stakeholder_waits(events) == [140, 0]
    m = card(events)["metrics"]
    assert (m["stakeholder_questions"], m["stakeholder_longest_wait_s"]) == (2, 140)
    assert "stakeholder_questions" not in card(base())["metrics"]
    asked = edit(base(), add=[ev(499.96, "stakeholder.asked", by="vp")])  # waited 140.04 s: shown to a tenth
    assert card(asked)["metrics"]["stakeholder_longest_wait_s"] == 140.0


def test_the_overall_score_is_the_weighted_mean_to_a_tenth():
    # Every component of the base drill is full but roles, (1 + 740/800 + 0) / 3; the weights in
    # play (false_alarm does not apply) sum to 110: 100 * (95 + 15 * 0.641667) / 110 = 95.11.
    assert card(base())["score"] == 95.1
    assert card(base(), process=replace(PROCESS, weights=dict.fromkeys(PROCESS.weights, 0.0)))["score"] == 0.0


def test_the_mitigate_and_impact_components_at_their_edges():
    never = edit(base(), drop={"mitigation.applied"})
    assert card(never)["components"]["mitigate"] == 0.0  # never mitigated: no marks
    # Mitigated 2700 s after the alert (195 s): past the 30 min target, none at 90 min: (5400 - 2700) / 3600.
    late = edit(never, add=[ev(2895, "mitigation.applied", by="lee", action="rollback", service="api", effective=True,
                               faults=FIXED)])
    assert card(late)["components"]["mitigate"] == 0.75
    assert card(edit(base(), drop={"impact.started", "impact.ended"}))["components"]["impact"] is None  # none to judge


def test_a_look_the_second_of_the_declaration_confirms_the_alert():
    events = edit(base(), drop={"dashboard.viewed"}, add=[ev(400, "dashboard.viewed", by="dana", service="api")])
    assert card(events)["checklist"]["confirm_alert_real"] is True


def test_the_ic_s_last_action_before_the_drill_ends_counts_once():
    events = edit(base(), drop={"incident.resolved", "postmortem.scheduled"}, add=[
        ev(1500, "mitigation.applied", by="dana", action="restart", service="api", effective=False, faults=[])])
    assert card(events)["metrics"]["ic_hands_on_actions"] == 1


def test_customer_impact_ignores_an_end_without_a_start():
    events = [ev(10, "impact.ended", service="a"), ev(60, "impact.started", service="b"),
              ev(120, "impact.ended", service="a"), ev(180, "impact.ended", service="b")]
    assert customer_impact_min(events) == pytest.approx(2.0)


def test_a_person_s_duties_by_hand():
    events = edit(base(), add=[
        ev(405, "severity.changed", by="dana", **{"from": "SEV2"}, to="SEV1"),  # wrong: the truth is SEV2
        ev(410, "investigation.started", by="dana", service="api"),  # hands on while IC
        ev(420, "action.rejected", by="dana", reason="x"),
        ev(800, "role.assigned", by="dana", role="ic", who="alex"),  # dana hands IC over at 800
        ev(850, "investigation.started", by="dana", service="db"),  # no longer IC: fine
        ev(1000, "update.posted", by="dana", status="mitigating"),
    ])
    d = duties(events, TINY, PROCESS, "dana")
    assert d["roles_held"] == ["ic"]
    assert d["ic_time_s"] == 800 - 400
    assert [(a["role"], a["who"], a["after_s"]) for a in d["roles_assigned"]] == [("comms", "sam", 60), ("ic", "alex", 400)]
    assert [(s["from"], s["to"], s["right"]) for s in d["severity_decisions"]] == [(None, "SEV2", True), ("SEV2", "SEV1", False)]
    # While dana was IC (400-800 s) the one deadline, 700, was met by sam's update at 640.
    assert (d["cadence_while_ic"], d["hands_on_while_ic"], d["hands_off_as_ic"]) == (1.0, 1, False)
    assert d["required_roles_staffed"] is False  # SEV1 needs comms and ops; ops was never staffed by 800
    assert (d["time_to_acknowledge_s"], d["updates_posted"], d["investigations"], d["mitigations"],
            d["actions_rejected"]) == (300 - 225, 1, 2, 0, 1)
    alex = duties(events, TINY, PROCESS, "alex")
    # alex held IC from 800 to the resolution at 1200; never acknowledged a page.
    assert (alex["roles_held"], alex["ic_time_s"], alex["hands_off_as_ic"], alex["time_to_acknowledge_s"]) == (
        ["ic"], 400, True, None)
    # A deadline falling due the second someone takes IC is theirs: alex from 700, due 700.
    at_deadline = [e if e["kind"] != "role.assigned" or e["who"] != "alex" else {**e, "t": 700} for e in events]
    assert duties(at_deadline, TINY, PROCESS, "alex")["cadence_while_ic"] == 1.0
    lee = duties(events, TINY, PROCESS, "lee")
    assert (lee["ic_time_s"], lee["hands_on_while_ic"], lee["hands_off_as_ic"], lee["required_roles_staffed"],
            lee["cadence_while_ic"]) == (None, None, None, None, None)


def test_duties_at_the_second_the_ic_hands_over_in_a_worsening_incident():
    # The truth: SEV3 at first, SEV2 in the end. dana declares SEV3 (right at first) and asks lee
    # to investigate; at 1000.26 s, in the one second, she applies a restart, raises the incident
    # to SEV2 (right: where it ends up), staffs ops and hands IC to alex: all of it while IC, so
    # SEV2's comms (sam, 460 s) and ops were staffed. alex is paged at 1100 s and never answers.
    worsening = replace(TINY, truth=replace(TINY.truth, severity="SEV3", final_severity="SEV2"))
    events = edit(base(), drop={"incident.declared"}, add=[
        ev(400, "incident.declared", by="dana", severity="SEV3", service="api"),
        ev(470, "task.asked", by="dana", id="T1", who="lee", task="investigate", service="api"),
        ev(1000.26, "mitigation.applied", by="dana", action="restart", service="api", effective=False, faults=[]),
        ev(1000.26, "severity.changed", by="dana", **{"from": "SEV3"}, to="SEV2"),
        ev(1000.26, "role.assigned", by="dana", role="ops", who="lee"),
        ev(1000.26, "role.assigned", by="dana", role="ic", who="alex"),
        ev(1100, "page.sent", page="P2", to="alex", cause=["noise"])])
    dana, alex, lee = (duties(events, worsening, PROCESS, name) for name in ("dana", "alex", "lee"))
    # Had alex raised it after the handover, dana's time as IC was all SEV3, which needs no roles.
    raised_later = [{**e, "t": 1100, "by": "alex"} if e["kind"] == "severity.changed" else e for e in events]
    assert duties(sorted(raised_later, key=lambda e: e["t"]), worsening, PROCESS, "dana")["required_roles_staffed"] is None
    assert [(s["to"], s["right"]) for s in dana["severity_decisions"]] == [("SEV3", True), ("SEV2", True)]
    assert dana["ic_time_s"] == 600.3 and [a["after_s"] for a in dana["roles_assigned"]] == [60, 600.3, 600.3]
    assert (dana["required_roles_staffed"], dana["hands_on_while_ic"], dana["tasks_asked"]) == (True, 1, 1)
    assert [(d["paged_unanswered"], d["resolved"]) for d in (dana, alex, lee)] == [(False, True), (True, False),
                                                                                  (False, False)]


def test_a_person_s_cadence_while_ic_is_the_share_met():
    # dana, IC of a SEV1 from 0 to 2500 s: due 300, met at 200; due 2000, missed.
    events = [ev(0, "incident.declared", by="dana", severity="SEV1", service="api"),
              ev(0, "role.assigned", by="dana", role="ic", who="dana"), ev(200, "update.posted", by="dana"),
              ev(2500, "incident.resolved", by="dana")]
    assert duties(events, TINY, PROCESS, "dana")["cadence_while_ic"] == 0.5


def test_an_ic_to_the_end_of_a_drill_that_never_closed():
    events = edit(base(), drop={"incident.resolved", "postmortem.scheduled"})
    d = duties(events, TINY, PROCESS, "dana")
    assert d["ic_time_s"] == 1600 - 400 and d["required_roles_staffed"] is False  # ops never staffed
    staffed = edit(base(), add=[ev(470, "role.assigned", by="dana", role="ops", who="lee")])
    assert duties(staffed, TINY, PROCESS, "dana")["required_roles_staffed"] is True


def test_a_false_alarm_escalated_to_the_full_process_is_not_handled():
    alarm = replace(TINY, faults=(), truth=replace(TINY.truth, false_alarm=True, severity=None))
    events = [ev(0, "alert.firing", cause=["noise"], fingerprint="f"), ev(30, "page.sent", page="P1", cause=["noise"]),
              ev(60, "page.acked", page="P1", by="dana"),
              ev(90, "incident.declared", by="dana", severity="SEV2", service="api"),
              ev(90, "role.assigned", role="ic", who="dana"),
              ev(300, "incident.stood_down", by="dana", declared=True), ev(300, "drill.ended")]
    c = card(events, alarm)
    assert c["metrics"]["false_alarm_handled"] is False and c["components"]["false_alarm"] == 0.0
    assert c["checklist"]["assess_severity"] is False  # SEV2 runs the full process for nothing
    assert [s["right"] for s in duties(events, alarm, PROCESS, "dana")["severity_decisions"]] == [False]
    calm = [e if e["kind"] != "incident.declared" else {**e, "severity": "SEV4"} for e in events]
    assert [s["right"] for s in duties(calm, alarm, PROCESS, "dana")["severity_decisions"]] == [True]  # no roles: right
    assert c["why"]["assess_severity"] == ("a false alarm was run at SEV2, a severity with the full process; standing "
                                           "it down, or staying at a level without roles, would have passed")
    assert c["metrics"]["time_to_detect_s"] is None  # no fault ever started
    assert (c["components"]["declare"], c["components"]["severity"], c["components"]["mitigate"]) == (None, None, None)
    sev3 = [e if e["kind"] != "incident.declared" else {**e, "severity": "SEV3"} for e in events]
    assert card(sev3, alarm)["metrics"]["false_alarm_handled"] is True


def test_each_missed_item_explains_what_happened_and_when():
    # Clock times on tiny.yaml's 14:00:00 start, shown to the minute: 400 s is 14:06:40,
    # 560 s 14:09:20, 900 s 14:15:00, 1000 s 14:16:40, 1050 s 14:17:30, 1600 s 14:26:40.
    # The alert stood down at 400 s instead of declaring: nothing declared before the drill ended at 1600 s.
    stood_down = edit(base(), drop={"incident.declared", "role.assigned", "update.posted", "incident.resolved",
                                    "postmortem.scheduled", "teams.paged"},
                      add=[ev(400, "incident.stood_down", by="dana", declared=False)])
    assert card(stood_down)["why"] == {
        "assess_severity": "no severity was ever declared; declaring SEV2 would have passed",
        "declare_and_open_channel": "the alert was stood down at 14:06, no incident was declared before the drill "
                                    "ended at 14:26; declaring (and so opening the channel) once the impact was "
                                    "confirmed would have passed",
    }
    # lee looks at db first (560 s), while only api's alert (from 195 s) was firing.
    elsewhere = edit(base(), drop={"investigation.started"}, add=[
        ev(560, "investigation.started", by="lee", service="db"), ev(600, "investigation.started", by="lee", service="api")])
    assert card(elsewhere)["why"] == {"investigate_symptoms": "the first investigation, at 14:09, was of db, which had "
                                                              "no alert firing; starting with api would have passed"}
    # The restart at 900 s does not help; the fault ends by itself at 660 s (its 10 minutes), so
    # the resolution is still at steady state. tiny.yaml's bad_deploy is fixed by a rollback.
    no_help = edit(base(), drop={"mitigation.applied"}, add=[
        ev(660, "fault.ended", fault="boom"),
        ev(900, "mitigation.applied", by="lee", action="restart", service="api", effective=False, faults=[])])
    assert card(no_help)["why"] == {"mitigate_first": "no mitigation that helped was applied (tried: restart of api at "
                                                      "14:15); rollback of api would have passed"}
    # Resolved at 1000 s, the very second api's impact ended: only the alert (resolved at 1050 s)
    # was still wrong, so all was clear from the whole minute after it, 14:18.
    same_second = edit(base(), drop={"incident.resolved"}, add=[ev(1000, "incident.resolved", by="dana")])
    assert card(same_second)["why"] == {"resolved_when_normal": "resolved at 14:16 while alert \"api errors\" was "
                                                                "still firing (it resolved at 14:17); resolving at "
                                                                "14:18 or later would have passed"}


def test_a_fault_left_unsettled_at_the_resolution_is_named():
    # With impact over at 1000 s and the alert resolved at 1050 s, only the fault can make the
    # 1200 s (14:20) resolution premature: none of these says a time by which all was clear.
    def why(*mitigations):
        events = edit(base(), drop={"mitigation.applied"}, add=list(mitigations))
        return card(events)["why"].get("resolved_when_normal")

    def applied(t, action, outcome):
        return ev(t, "mitigation.applied", by="lee", action=action, service="api", effective=outcome != "failed",
                  faults=[{"fault": "boom", "outcome": outcome, "returns_in": 600 if outcome == "suppressed" else None}])
    after = "; resolving once all of it had cleared would have passed"
    assert why() == "resolved at 14:20 while fault boom was still active (nothing had fixed it)" + after
    assert why(applied(900, "rollback", "failed")) == why()  # a fix that did not take leaves it as it was
    assert why(applied(900, "rollback", "partial")) == "resolved at 14:20 while fault boom was only partly fixed" + after
    assert why(applied(900, "restart", "suppressed")) == (
        "resolved at 14:20 while fault boom was only held back by a band-aid mitigation and could come back" + after)
    # Eased for good, then a rollback that failed: the fault is still eased, the resolution at steady state.
    assert why(applied(900, "scale_up", "eased"), applied(950, "rollback", "failed")) is None
    # Resolved the very second of the rollback (900 s, 14:15) that fixed the fault: the fault is
    # settled; what was still wrong is api's impact (until 1000 s) and its alert (until 1050 s).
    at_fix = edit(base(), drop={"incident.resolved"}, add=[ev(900, "incident.resolved", by="dana")])
    assert card(at_fix)["why"]["resolved_when_normal"] == (
        "resolved at 14:15 while api was above its 1% error rate impact threshold (it fell below at 14:16); "
        "alert \"api errors\" was still firing (it resolved at 14:17); resolving at 14:18 or later would have passed")


# -- why an item was missed, in the words the scorecard shows (tiny starts at 14:00:00) --


def test_declaring_the_wrong_severity_unstaffed_and_late_says_why_each_item_was_missed():
    # dana declares SEV1 (the truth is SEV2) at 400 s (14:06:40) without a look at a dashboard,
    # names no Communications Lead, and posts the first update at 760.5 s (14:12:40), 6 min after
    # declaring: the initial summary was due at 700 s (14:11:40), the one deadline before 1200 s.
    events = edit(base(), drop={"dashboard.viewed", "incident.declared", "role.assigned", "update.posted"},
                  add=[ev(400, "incident.declared", by="dana", severity="SEV1", service="api"),
                       ev(400, "role.assigned", by="dana", role="ic", who="dana"), ev(760.5, "update.posted", by="dana")])
    assert card(events)["why"] == {
        "confirm_alert_real": "dana declared at 14:06 without looking at a dashboard first; a look at the alerting "
                              "service's dashboard before that would have passed",
        "assess_severity": "declared SEV1 at 14:06 while the impact made it SEV2; declaring SEV2 would have passed",
        "page_ic_and_comms": "a Communications Lead was never assigned, though SEV1 needs both; assigning them would "
                             "have passed",
        "initial_summary": "the first update came at 14:12, 6m after the declaration at 14:06; one by 14:11 (within 5m) "
                           "would have passed",
        "communicate_at_cadence": "0 of 1 update deadlines met (0%), below the 80% needed; missed the update due at "
                                  "14:11; an update before each deadline would have passed",
    }


@pytest.mark.parametrize("resolved, said", [
    # SEV1, declared at 0: due 300 (met at 200), then every 30 min from the missed deadline:
    # 2000 (14:33:20), 3800, 5600, 7400, and 9200 when resolved at 9300.
    (9300, ("1 of 6 update deadlines met (17%), below the 80% needed; missed the updates due at 14:33, 15:03, "
            "15:33, 16:03 and more")),
    (9000, ("1 of 5 update deadlines met (20%), below the 80% needed; missed the updates due at 14:33, 15:03, "
            "15:33, 16:03")),
])
def test_missed_updates_are_named_up_to_four(resolved, said):
    events = [ev(0, "incident.declared", by="a", severity="SEV1", service="api"), ev(200, "update.posted"),
              ev(resolved, "incident.resolved")]
    assert why_missed(events, TINY, PROCESS, {"communicate_at_cadence": False}) == {
        "communicate_at_cadence": f"{said}; an update before each deadline would have passed"}


def test_the_first_investigation_is_the_first_once_the_alert_fired():
    # lee looks at cart at 100 s, before anything fired, then at db the second ApiErrors fires
    # (195 s, 14:03:15): db is the first investigation, and api, firing that second, was the symptom.
    events = edit(base(), drop={"investigation.started"}, add=[ev(100, "investigation.started", by="lee", service="cart"),
                                                               ev(195, "investigation.started", by="lee", service="db")])
    assert card(events)["why"] == {"investigate_symptoms": "the first investigation, at 14:03, was of db, which had no "
                                                           "alert firing; starting with api would have passed"}


def test_a_fix_after_the_resolution_says_when_each_came():
    events = edit(base(), drop={"mitigation.applied"}, add=[
        ev(1300, "mitigation.applied", by="lee", action="rollback", service="api", effective=True, faults=FIXED)])
    assert card(events)["why"]["mitigate_first"] == ("the first mitigation that helped (rollback of api) came at 14:21, "
                                                     "after the resolution at 14:20; mitigating before resolving would "
                                                     "have passed")


def test_an_incident_never_resolved_says_so_for_the_resolution_and_the_postmortem():
    events = edit(base(), drop={"incident.resolved", "postmortem.scheduled", "impact.ended"})
    assert card(events)["why"] == {
        "resolved_when_normal": "the incident was never resolved: the drill ended at 14:26, with customers still "
                                "affected on api; resolving once the metrics were back at steady state would have passed",
        "postmortem_scheduled": "the incident was never resolved, so no postmortem was booked"}


def test_a_resolution_before_the_impact_ended_names_the_first_whole_minute_after():
    # Resolved at 1200 s (14:20) while api's impact lasts until 3700 s (15:01:40): all was clear
    # from 15:02, the first whole minute after.
    events = edit(base(), drop={"impact.ended", "drill.ended"}, add=[ev(3700, "impact.ended", service="api"),
                                                                    ev(4000, "drill.ended")])
    assert card(events)["why"] == {
        "resolved_when_normal": "resolved at 14:20 while api was above its 1% error rate impact threshold (it fell "
                                "below at 15:01); resolving at 15:02 or later would have passed"}


def test_what_starts_the_second_of_the_resolution_is_still_wrong_then():
    # api's impact ended at 1000 s but starts again, and a second alert fires, at 1200 s, the
    # second dana resolves: both count against the resolution, and the impact never ends.
    events = edit(base(), add=[ev(1200, "impact.started", service="api"),
                               ev(1200, "alert.firing", service="api", fingerprint="F2", cause=["boom"], summary="api slow")])
    assert card(events)["why"] == {
        "resolved_when_normal": "resolved at 14:20 while api was above its 1% error rate impact threshold (it stayed "
                                "above); alert \"api slow\" was still firing; resolving once all of it had cleared would "
                                "have passed"}
    first_then = edit(base(), drop={"impact.started", "impact.ended"}, add=[ev(1200, "impact.started", service="api")])
    assert card(first_then)["why"]["resolved_when_normal"] == (
        "resolved at 14:20 while api was above its 1% error rate impact threshold (it stayed above); resolving once "
        "all of it had cleared would have passed")
