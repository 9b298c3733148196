"""Live drills: people's inputs at their moments, journaled, and a resume that loses nothing."""

import json

import pytest

from sim.inputs import config
from sim.inputs.errors import DrillError
from sim.live.drill import EVENTS, INPUTS, LiveDrill

from .conftest import paused_drill

REFERENCE = config.scenario_path(None)
ANA = [{"name": "ana", "oncall": "primary"}]


def kinds(live, by=None):
    return [e["kind"] for e in live.drill.log.events if by is None or e.get("by") == by]


def test_the_person_takes_the_primary_seat_and_bots_the_rest(tmp_path):
    live = paused_drill(tmp_path)
    assert live.status()["people"] == {
        "ana": {"bot": False, "oncall": "primary"}, "dana": {"bot": True, "oncall": None},
        "lee": {"bot": True, "oncall": "secondary"}, "alex": {"bot": True, "oncall": None},
        "sam": {"bot": True, "oncall": None}}
    live.advance(until=500)  # the reference page goes out at 14:47:45, t=465
    page = next(e for e in live.drill.log.events if e["kind"] == "page.sent")
    assert (page["to"], page["t"]) == ("ana", 465)
    assert "page.acked" not in kinds(live)  # nobody answers for the person


def test_actions_land_at_their_moment_and_rejections_say_why(tmp_path):
    live = paused_drill(tmp_path)
    live.advance(until=600)
    assert live.act({"do": "declare", "by": "ana", "severity": "SEV2"}).ok
    assert live.drill.log.events[-1]["t"] == 600  # role.assigned ic follows the declaration at once
    assert live.act({"do": "declare", "by": "dana", "severity": "SEV1"}).reason == "'dana' is not a person in this drill"
    assert live.act({"do": "declare", "by": "ana"}).reason == "declare: missing 'severity'"
    rejected = live.act({"do": "mitigate", "by": "ana", "action": "rollback", "service": "nowhere"})
    assert rejected.reason.startswith("unknown service 'nowhere'")
    assert live.drill.log.events[-1]["kind"] == "action.rejected"
    assert live.status()["roles"] == {"ic": "ana"} and live.status()["severity"] == "SEV2"


def test_assigning_a_role_to_a_bot_puts_the_bot_to_work(tmp_path):
    live = paused_drill(tmp_path)
    live.advance(until=600)
    live.act({"do": "declare", "by": "ana", "severity": "SEV2", "service": "checkout"})
    live.act({"do": "assign", "by": "ana", "role": "comms", "who": "sam"})
    live.advance(until=900)
    assert "update.posted" in kinds(live, by="sam")


def test_resume_replays_to_the_same_events_and_carries_on(tmp_path):
    live = paused_drill(tmp_path)
    live.advance(until=600)
    live.act({"do": "ack", "by": "ana"})
    live.act({"do": "declare", "by": "ana", "severity": "SEV2", "service": "checkout"})
    live.act({"do": "assign", "by": "ana", "role": "comms", "who": "sam"})
    live.advance(until=1000)
    before = (tmp_path / EVENTS).read_text()
    # The process dies here; a new one opens the folder.
    again = LiveDrill.open(tmp_path)
    assert (tmp_path / EVENTS).read_text() == before
    # It stands where the journal stops: the last event (a clock note every wall second
    # while running would carry it further).
    assert again.now == pytest.approx(json.loads(before.splitlines()[-1])["t"], abs=0.001)
    assert {k: v for k, v in again.status().items() if k not in ("t", "at", "since_update")} == \
        {k: v for k, v in live.status().items() if k not in ("t", "at", "since_update")}
    assert again.act({"do": "mitigate", "by": "ana", "action": "rollback", "service": "payment-gateway"}).ok
    again.end()
    events = [json.loads(line) for line in (tmp_path / EVENTS).read_text().splitlines()]
    assert (tmp_path / EVENTS).read_text().startswith(before)
    assert "mitigation.applied" in [e["kind"] for e in events[len(before.splitlines()):]]
    assert events[-1]["kind"] == "drill.ended" and events[-1]["reason"] == "ended"


def test_a_torn_last_line_is_dropped_and_a_tampered_log_is_refused(tmp_path):
    live = paused_drill(tmp_path)
    live.advance(until=600)
    live.act({"do": "declare", "by": "ana", "severity": "SEV2"})
    with open(tmp_path / INPUTS, "a") as torn:
        torn.write('{"t":601,"input":"act')  # killed mid-write: never acknowledged
    assert LiveDrill.open(tmp_path).status()["severity"] == "SEV2"
    lines = (tmp_path / EVENTS).read_text().splitlines(keepends=True)
    lines[2] = lines[2].replace("critical", "warning")
    (tmp_path / EVENTS).write_text("".join(lines))
    with pytest.raises(DrillError, match="the replay differs from events.jsonl at event 3"):
        LiveDrill.open(tmp_path)


def test_a_person_joins_mid_drill_and_the_facilitator_ends_it(tmp_path):
    live = paused_drill(tmp_path)
    live.advance(until=600)
    assert live.join("kim").ok
    assert live.join("kim").reason == "'kim' is already taking part"
    assert live.act({"do": "look", "by": "kim", "service": "checkout"}).ok
    live.end()
    assert live.ended and live.result.events[-1]["reason"] == "ended"
    assert live.act({"do": "look", "by": "kim", "service": "checkout"}).reason == "the drill has ended"
    assert LiveDrill.open(tmp_path).ended


def test_a_folder_holds_one_drill(tmp_path):
    paused_drill(tmp_path)
    with pytest.raises(DrillError, match="already holds a live drill"):
        paused_drill(tmp_path)
    with pytest.raises(DrillError, match="holds no live drill"):
        LiveDrill.open(tmp_path / "elsewhere")


def test_an_ended_drill_is_written_and_recorded_once(tmp_path):
    from sim.records import store

    live = paused_drill(tmp_path / "drill")
    live.advance(until=600)
    live.act({"do": "declare", "by": "ana", "severity": "SEV2"})
    live.end()
    card = live.scorecard()
    assert "ana" in card["people"] and "dana" not in card["people"]
    written, first = live.finish(card, tmp_path / "drills.db")
    assert [p.name for p in written] == ["events.jsonl", "score.json", "report.md", "timeline.png"]
    again = LiveDrill.open(tmp_path / "drill")
    assert again.finish(again.scorecard(), tmp_path / "drills.db")[1] == first
    [kept] = store.drills(tmp_path / "drills.db")
    assert (kept.id, kept.mode, kept.score) == (first, "live", card["score"])


def test_a_resumed_drill_carries_on_from_where_it_stopped_not_from_the_wall_clock(tmp_path):
    import time

    live = LiveDrill.create(tmp_path, REFERENCE, seed=4, players=ANA, speed=1000)
    live.advance(until=600)
    again = LiveDrill.open(tmp_path)
    time.sleep(0.05)  # 50 simulated seconds at this speed
    assert again.env.speed == 1000 and not again.env.paused
    # The clock runs on from 600: neither frozen until the wall clock catches up with the
    # replayed time, nor jumped ahead by it.
    assert 0 < again.env.target() - again.now < 100
