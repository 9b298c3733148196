"""The facilitator's live inputs: an extra fault injected mid-drill, a stakeholder's question."""

import pytest

from sim import run_drill, score
from sim.live.drill import LiveDrill

from .conftest import paused_drill, sam_on_comms, still_file


def test_an_injected_fault_starts_now_can_be_found_and_fixed_and_replays(tmp_path):
    # Nothing drawn (the injected fault takes the scenario's dynamics): its finding and fix as the catalog says.
    folder = tmp_path / "drill"
    live = paused_drill(folder, still_file(tmp_path))
    live.advance(until=600)
    assert live.inject("memory_leak", "search").data == "injected-1"
    assert live.inject("volcano", "search").reason.startswith("unknown fault kind 'volcano'")
    assert live.inject("memory_leak", "moon").reason.startswith("unknown service 'moon'")
    live.advance(until=601)  # the fault's process runs at the next step, at the same simulated moment
    started = next(e for e in live.drill.log.events if e["kind"] == "fault.started" and e["t"] >= 600)
    assert (started["kind"], started["t"], started["fault"], started["fault_kind"]) == \
        ("fault.started", 600, "injected-1", "memory_leak")
    live.advance(until=720)  # the ramp is a minute: full strength by 660
    assert live.drill.world.metrics["search"]["memory"] == pytest.approx(0.5 + 0.45)  # baseline + the kind's effect
    live.act({"do": "investigate", "by": "ana", "service": "search"})
    # ana's finding comes at 1120; the bots' ops lead finds it too when he looks (from 1366) and would
    # roll search back himself, so ana acts at 1200.
    live.advance(until=1200)
    finding = next(e for e in live.drill.log.events if e["kind"] == "finding" and e["service"] == "search")
    assert finding["text"] == "search leaks memory since 14:50" and finding["suggests"] == "rollback"
    fixed = live.act({"do": "mitigate", "by": "ana", "action": "rollback", "service": "search"})
    assert fixed.ok and fixed.data is None  # the person is told it was done, not what it did
    applied = live.drill.log.events[-1]  # the facilitator's log says what it did
    assert (applied["kind"], applied["faults"]) == ("mitigation.applied", [{"fault": "injected-1", "outcome": "fixed", "returns_in": None}])
    before = (folder / "events.jsonl").read_text()
    again = LiveDrill.open(folder)  # the replay injects it again, at the same moment
    assert [s.fault.id for s in again.drill.world.faults] == ["gateway-config-push", "injected-1"]
    assert (folder / "events.jsonl").read_text() == before


def test_a_stakeholder_question_is_answered_by_the_bot_writing_updates_and_timed_in_the_score(tmp_path):
    live = sam_on_comms(tmp_path, 1500)
    assert live.ask("The VP of Sales", "What is the ETA?").ok
    assert live.ask("", "?").reason == "who is 1 to 80 characters"
    asked = live.drill.log.events[-1]
    assert (asked["kind"], asked["who"], asked["question"]) == ("stakeholder.asked", "The VP of Sales", "What is the ETA?")
    live.advance(until=1800)
    answer = next(e for e in live.drill.log.events if e["kind"] == "update.posted" and e["t"] >= 1500)
    assert answer["by"] == "sam" and answer["t"] - 1500 < 120  # half an update's writing time, not the cadence
    live.end()
    card = score(live.result.events, live.scenario, live.process)
    assert card["metrics"]["stakeholder_questions"] == 1
    assert card["metrics"]["stakeholder_longest_wait_s"] == round(answer["t"] - 1500, 1)
    # Simulated drills have no stakeholder questions: their score documents are unchanged.
    simulated = run_drill(live.scenario, live.process, seed=4)
    assert "stakeholder_questions" not in score(simulated.events, live.scenario, live.process)["metrics"]
