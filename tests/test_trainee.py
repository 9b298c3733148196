"""Person-plus-bots: a trainee plays IC while bots play on-call, comms and ops; the
trainee's own duties are scored apart from the team's score."""

import pytest

from sim.inputs import config
from sim.inputs.errors import DrillError
from sim.live.drill import LiveDrill
from sim.model.engine import run_drill
from sim.outputs.report import duty_rows, scorecard
from sim.outputs.scoring import score

from .conftest import paused_drill

REFERENCE = config.scenario_path(None)
KIM = [{"name": "kim", "as": "ic"}]


def trainee(folder, scenario=REFERENCE) -> LiveDrill:
    return paused_drill(folder, scenario, seed=0, players=KIM)


def handovers(live):
    return [(e["t"], e["by"], e["who"]) for e in live.drill.log.events if e["kind"] == "role.assigned" and e["role"] == "ic"]


def test_the_bot_on_call_declares_and_hands_ic_to_the_trainee(tmp_path):
    live = trainee(tmp_path)
    assert live.status()["people"]["dana"] == {"bot": True, "oncall": "primary"}  # a bot takes the pager
    live.advance(until=1500)
    assert handovers(live) == [(860.903, "dana", "dana"), (860.903, "dana", "kim")]
    # The IC's work waits for the trainee: no bot staffs the roles, pages teams or posts updates
    # (with a bot IC, the roles are staffed and the teams paged by 1130 s).
    assert live.status()["roles"] == {"ic": "kim"}
    assert [e["kind"] for e in live.drill.log.events if e["kind"] in ("teams.paged", "update.posted")] == []


def test_the_trainee_gets_ic_even_at_a_severity_without_the_full_process(tmp_path):
    live = trainee(tmp_path, config.scenario_path("sev3-worsening"))
    live.advance(until=2000)
    assert handovers(live) == [(1528.946, "dana", "dana"), (1528.946, "dana", "kim")]
    assert live.status()["severity"] == "SEV3"


def test_a_trainee_in_another_seat_is_handed_that_role(tmp_path):
    live = paused_drill(tmp_path, seed=0, players=[{"name": "kim", "as": "comms"}])
    live.advance(until=1500)  # the bot IC staffs comms with the person who came for it
    assert live.status()["roles"]["comms"] == "kim"


def test_a_seat_needs_bots_and_a_known_role(tmp_path):
    with pytest.raises(DrillError, match="without bots, a person must take the primary on-call seat"):
        LiveDrill.create(tmp_path / "a", REFERENCE, players=KIM, bots=False)
    with pytest.raises(DrillError, match="kim can come to play ic, comms, ops, not 'boss'"):
        LiveDrill.create(tmp_path / "b", REFERENCE, players=[{"name": "kim", "as": "boss"}])


def test_the_trainees_own_duties_are_scored_apart(tmp_path):
    live = trainee(tmp_path)
    moves = [  # (simulated second, kim's action); dana declared SEV1 and handed over IC at 860.903
        (900, {"do": "assign", "role": "ops", "who": "dana"}),
        (900, {"do": "investigate", "service": "checkout"}),                      # hands-on as IC
        (900, {"do": "declare", "severity": "SEV1"}),                             # rejected: already declared
        (1000, {"do": "update", "status": "investigating", "summary": "Checkout failing"}),
        (1100, {"do": "severity", "severity": "SEV2"}),                           # wrong: the truth is SEV1
        (1200, {"do": "severity", "severity": "SEV1"}),                           # right
        (1500, {"do": "mitigate", "action": "rollback", "service": "payment-gateway"}),  # hands-on as IC
        (3200, {"do": "update", "status": "mitigating", "summary": "Rolled back"}),
        (3300, {"do": "resolve"}),
    ]
    for t, action in moves:
        live.advance(until=t)
        live.act({"by": "kim", **action})
    live.end()
    card = score(live.result.events, live.scenario, live.process, ("kim",))
    assert list(card["people"]) == ["kim"]
    # Update deadlines: the initial summary by 860.9 + 300 = 1160.9 (met at 1000); the next within
    # SEV1's 30 min of it, by 2800 (missed: the next update came at 3200); the one after, 3200 + 1800,
    # falls after the resolution at 3300. So 1 of 2 met, the whole time kim was IC.
    day = live.scenario.start.date()  # a live drill is held today
    next_steps = card["people"]["kim"].pop("next_steps")
    assert card["people"]["kim"] == {
        "roles_held": ["ic"],
        "ic_time_s": 2439.1,  # 860.903 -> 3300 (resolved)
        "roles_assigned": [{"role": "ops", "who": "dana", "at": f"{day}T14:55:00Z", "after_s": 39.1}],
        "required_roles_staffed": False,  # SEV1 needs comms and ops; nobody was given comms
        "severity_decisions": [
            {"at": f"{day}T14:58:20Z", "from": "SEV1", "to": "SEV2", "right": False},
            {"at": f"{day}T15:00:00Z", "from": "SEV2", "to": "SEV1", "right": True},
        ],
        "cadence_while_ic": 0.5,
        "hands_on_while_ic": 2,
        "hands_off_as_ic": False,
        "time_to_acknowledge_s": None,
        "updates_posted": 2,
        "investigations": 1,
        "mitigations": 1,
        "actions_rejected": 1,
        "tasks_asked": 0,
        "paged_unanswered": False,
        "resolved": True,
    }
    # The wrong severity call, the hands-on work and the missing comms lead, in that order.
    assert [step.split(":")[0] for step in next_steps] == [
        "At 14", "As IC you did 2 investigation(s) or mitigation(s) yourself", "The severity needed a Communications Lead and an Operations Lead"]
    assert card["metrics"]["cadence_adherence"] == 0.5  # the team's figure agrees: kim was IC throughout
    rows = dict(duty_rows(card["people"]["kim"]))
    assert rows["Severity decisions"] == "14:58 SEV1 -> SEV2 (wrong), 15:00 SEV2 -> SEV1 (right)"
    assert rows["Time to acknowledge"] == "not paged"  # an IC trainee off call: no page was hers to answer
    assert dict(duty_rows(card["people"]["kim"] | {"paged_unanswered": True}))["Time to acknowledge"] == "not acknowledged"
    lines = scorecard(card)
    assert lines[lines.index("kim's own duties (not part of the team's score):") + 7] == \
        "  Hands-off as IC                      no (2 investigations or mitigations)"


def test_a_hands_off_trainee_who_staffs_every_role(tmp_path):
    live = trainee(tmp_path)
    live.advance(until=900)
    live.act({"by": "kim", "do": "assign", "role": "comms", "who": "sam"})
    live.advance(until=960)
    live.act({"by": "kim", "do": "assign", "role": "ops", "who": "dana"})
    live.advance(until=3000)
    live.act({"by": "kim", "do": "resolve"})
    live.end()
    duty = score(live.result.events, live.scenario, live.process, ("kim",))["people"]["kim"]
    assert [(a["role"], a["who"], a["after_s"]) for a in duty["roles_assigned"]] == [("comms", "sam", 39.1), ("ops", "dana", 99.1)]
    assert (duty["required_roles_staffed"], duty["hands_on_while_ic"], duty["hands_off_as_ic"]) == (True, 0, True)
    assert duty["severity_decisions"] == []  # the bot declared; kim kept its call


def test_a_drill_without_people_has_no_duties_section():
    scenario = config.load_scenario(REFERENCE)
    result = run_drill(scenario, seed=1)
    assert "people" not in score(result.events, scenario, result.process)


def test_raising_a_worsening_incident_to_its_final_severity_is_right(tmp_path):
    live = trainee(tmp_path, config.scenario_path("sev3-worsening"))  # truth: SEV3 at first, SEV2 in the end
    live.advance(until=2000)
    live.act({"by": "kim", "do": "severity", "severity": "SEV2"})
    live.act({"by": "kim", "do": "severity", "severity": "SEV1"})
    live.end()
    duty = score(live.result.events, live.scenario, live.process, ("kim",))["people"]["kim"]
    assert [(d["from"], d["to"], d["right"]) for d in duty["severity_decisions"]] == [("SEV3", "SEV2", True), ("SEV2", "SEV1", False)]
