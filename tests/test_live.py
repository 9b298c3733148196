"""Live drills: people's inputs at their moments, journaled, and a resume that loses nothing."""

import datetime as dt
import json

import pytest

from sim.inputs import config
from sim.inputs.errors import DrillError
from sim.live.drill import EVENTS, INPUTS, LiveDrill

from .conftest import paused_drill, sam_on_comms

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
    assert "update.posted" in kinds(sam_on_comms(tmp_path, 900), by="sam")


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
    with open(tmp_path / INPUTS, "ab") as damaged:
        damaged.write(b'{"t":602,"input":"\xff"}\n')  # the journal is written as ASCII: only tampering puts this there
    with pytest.raises(DrillError, match=f"{tmp_path / INPUTS}:3: not UTF-8 text \\(byte 0xff\\)"):
        LiveDrill.open(tmp_path)


def test_a_paused_drill_notes_no_clock(tmp_path):
    live = paused_drill(tmp_path)
    journaled = (tmp_path / INPUTS).read_text()
    live._noted -= 60  # a minute of wall time since the last note, the clock paused all along
    live.advance()
    assert (tmp_path / INPUTS).read_text() == journaled  # was one more {"input": "tick"} at the same t each second
    live.resume()
    live._noted -= 60
    live.advance()
    assert json.loads((tmp_path / INPUTS).read_text().splitlines()[-1])["input"] == "tick"


def test_a_roster_name_with_other_capitals_takes_no_seat(tmp_path):
    # The built-in roster's primary is dana: 'Dana' at the console was a stranger on call beside her bot.
    with pytest.raises(DrillError, match="'Dana' is 'dana' with other capitals"):
        paused_drill(tmp_path / "a", players=[{"name": "Dana", "oncall": "primary"}])
    with pytest.raises(DrillError, match="'ANA' is 'ana' with other capitals"):
        paused_drill(tmp_path / "b", players=[{"name": "ana", "oncall": "primary"}, {"name": "ANA", "as": "ic"}])
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_a_person_joins_mid_drill_and_the_facilitator_ends_it(tmp_path):
    live = paused_drill(tmp_path)
    live.advance(until=600)
    assert live.join("kim").ok
    assert live.join("kim").reason == "'kim' is already taking part"
    # One person, however capitalised: a second 'Kim' (or a 'Dana' beside the bot) would read as
    # the same person in the channel and the scorecard.
    assert live.join("Kim").reason == "'Kim' is 'kim' with other capitals: give the name as 'kim', or another"
    assert live.join("DANA").reason == "'DANA' is 'dana' with other capitals: give the name as 'dana', or another"
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
    # A live.json of another shape (another program's, a hand edit) is named, never a KeyError.
    manifest = json.loads((tmp_path / "live.json").read_text())
    for damage, message in (({"a": 1}, "'files' is missing"),
                            ({**manifest, "speed": "fast"}, "'speed' is not a whole number or a number"),
                            ({**manifest, "players": [{"oncall": "primary"}]}, r"'players\[0\].name' is missing")):
        (tmp_path / "elsewhere").mkdir(exist_ok=True)
        (tmp_path / "elsewhere" / "live.json").write_text(json.dumps(damage))
        with pytest.raises(DrillError, match=f"live.json: damaged: {message}"):
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
    assert [p.name for p in written] == ["events.jsonl", "score.json", "report.md", "timeline.png", "debrief.md"]
    again = LiveDrill.open(tmp_path / "drill")
    assert again.finish(again.scorecard(), tmp_path / "drills.db")[1] == first
    [kept] = store.drills(tmp_path / "drills.db")
    assert (kept.id, kept.mode, kept.score) == (first, "live", card["score"])


def test_drill_show_re_renders_a_live_drill_whole_with_each_persons_own_duties(tmp_path):
    import sqlite3

    from click.testing import CliRunner

    from sim.cli import main

    live = sam_on_comms(tmp_path / "drill", until=900)
    live.end()
    card = live.scorecard()
    store_path = tmp_path / "drills.db"
    _, drill_id = live.finish(card, store_path)
    shown = CliRunner().invoke(main, ["show", str(drill_id), "--report", str(tmp_path / "shown"), "--store", str(store_path)])
    assert shown.exit_code == 0, shown.output
    for name in ("events.jsonl", "score.json", "report.md", "timeline.png"):
        assert (tmp_path / "shown" / name).read_bytes() == (tmp_path / "drill" / name).read_bytes(), name
    kept = json.loads((tmp_path / "shown" / "score.json").read_text())["people"]
    assert list(kept) == ["ana"] and kept["ana"]["severity_decisions"][0]["to"] == "SEV2"
    assert kept["ana"]["roles_assigned"][0]["who"] == "sam" and kept["ana"]["next_steps"]
    assert "### ana's own duties" in (tmp_path / "shown" / "report.md").read_text()
    assert "own duties" in shown.output  # the scorecard printed says them too

    # A live drill recorded before the store kept duties re-renders without them, and says so.
    with sqlite3.connect(store_path) as conn:
        conn.execute("UPDATE drills SET duties = NULL")
    again = CliRunner().invoke(main, ["show", str(drill_id), "--report", str(tmp_path / "old"), "--store", str(store_path)])
    assert again.exit_code == 0, again.output
    assert "people" not in json.loads((tmp_path / "old" / "score.json").read_text())
    assert "recorded before the store kept each person's own duties" in again.output


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


def test_a_refused_action_with_a_reason_is_logged_and_the_drill_resumes(tmp_path):
    live = paused_drill(tmp_path)
    live.advance(until=200)  # before the page: ana was not paged, nothing is declared
    refused = live.act({"do": "stand_down", "by": "ana", "reason": "false alarm"})
    assert refused.reason == "only the on-call engineer who was paged can stand it down before a declaration"
    assert live.act({"do": "severity", "by": "ana", "severity": "SEV2", "reason": "worse"}).reason == \
        "no incident has been declared yet"
    logged = [(e["do"], e["fields"]) for e in live.drill.log.events if e["kind"] == "action.rejected"]
    assert logged == [("stand_down", {"reason": "false alarm"}), ("severity", {"severity": "SEV2", "reason": "worse"})]
    before = (tmp_path / EVENTS).read_text()
    assert (LiveDrill.open(tmp_path).drill.log.events, (tmp_path / EVENTS).read_text()) == (live.drill.log.events, before)


def test_a_team_a_person_pages_sends_someone_unless_it_is_already_there(tmp_path):
    # A live drill's cast has people and bots but no actions: it grows as a simulated one does.
    # Nobody on the roster is in web, so paging it brings a stand-in bot, web-oncall; sre is
    # already there (sam holds comms), so alex, its other member, does not come; catalog's
    # stand-in name is taken by a person who joined, who stays that person.
    live = paused_drill(tmp_path)
    live.advance(until=600)
    live.act({"do": "declare", "by": "ana", "severity": "SEV2"})
    live.act({"do": "assign", "by": "ana", "role": "comms", "who": "sam"})
    assert live.join("catalog-oncall").ok
    assert live.act({"do": "page", "by": "ana", "teams": ["web", "sre", "catalog"]}).ok
    live.advance(until=1800)
    people = live.status()["people"]
    assert people["web-oncall"] == {"bot": True, "oncall": None}
    assert people["catalog-oncall"] == {"bot": False, "oncall": None}
    assert [e["who"] for e in live.drill.log.events if e["kind"] == "responder.joined"] == ["web-oncall"]


def resolved_at_900_with_sam_on_comms(tmp_path):
    live = sam_on_comms(tmp_path, 900)
    assert live.act({"do": "resolve", "by": "ana", "confirm": True}).ok
    return live


def updates_after_reopening(live):
    """The first two updates after ana reopens the incident now (the drill run to 3600 s)."""
    reopened = live.drill.env.now
    assert live.act({"do": "reopen", "by": "ana", "reason": "errors are back"}).ok
    live.advance(until=3600)
    return [(e["audience"], e["status"]) for e in live.drill.log.events
            if e["kind"] == "update.posted" and e["t"] > reopened][:2]


def test_a_bot_writing_the_updates_posts_the_resolution_as_soon_as_it_is_written(tmp_path):
    # sam, the comms, waits for the next update's time (half an hour apart at SEV2); resolving
    # the incident wakes him at once, and he writes the resolution for each audience he told
    # (a few minutes each), not at the next planned update.
    live = resolved_at_900_with_sam_on_comms(tmp_path)
    live.advance(until=1200)
    resolved = [(e["audience"], e["t"]) for e in live.drill.log.events if e["kind"] == "update.posted"
                and e["status"] == "resolved"]
    assert [audience for audience, _ in resolved] == ["internal", "public"] and resolved[1][1] < 1200
    # Reopened, the incident is open again: sam is back to the updates, the first at once (then at
    # the cadence, with nothing closed to cut his waits short).
    assert updates_after_reopening(live) == [("internal", "investigating"), ("public", "investigating")]


def test_a_bot_writing_the_resolution_when_the_incident_is_reopened_goes_back_to_the_updates(tmp_path):
    # Resolved at 900 s, reopened at 960 s while sam is still writing the resolution (posted
    # at 997 s when left alone, above): the incident is open again, so he posts no "resolved"
    # update, and he carries on with the updates as the comms of an open incident does.
    live = resolved_at_900_with_sam_on_comms(tmp_path)
    live.advance(until=960)
    assert updates_after_reopening(live) == [("internal", "investigating"), ("public", "investigating")]


def test_a_live_drills_scrape_listeners_hear_every_scrape_with_its_metrics(tmp_path):
    # The exporter of a live drill's /metrics listens so: every 15 s scrape, up to 390 s of an
    # advance to 400 s, checkout at its usual errors until the config push at 300 s shows.
    live = paused_drill(tmp_path)
    heard = []
    live.drill.scrape_listeners.append(lambda t, metrics: heard.append((t, metrics["checkout"]["error_rate"])))
    live.advance(until=400)
    assert [t for t, _ in heard] == [15.0 * i for i in range(1, 27)]
    assert heard[19][1] == pytest.approx(0.0002) and heard[20][1] > 0.1  # 300 s, then 315 s


def test_a_fault_injected_in_a_quiet_stretch_shows_at_the_next_scrape(tmp_path):
    # Nothing moves before the config push at 300 s, so a drill on its own clock counts those
    # ticks without waiting for them; a live drill's facilitator acts between its ticks, so a
    # fault injected at 200 must show at the next scrape, 210 (a sixth of its 60 s ramp: 1.7%
    # errors, past checkout's threshold), not at 300, the next tick after the quiet stretch.
    live = paused_drill(tmp_path)
    live.advance(until=200)
    assert live.inject("config_push", "checkout").ok
    live.advance(until=240)
    assert [(e["kind"], e["t"]) for e in live.drill.log.events] == [("fault.started", 200), ("impact.started", 210)]


def test_an_input_is_checked_fully_before_it_is_journaled(tmp_path):
    live = paused_drill(tmp_path)
    live.advance(until=600)
    live.act({"do": "declare", "by": "ana", "severity": "SEV2", "service": "checkout"})
    journaled = (tmp_path / INPUTS).read_text()
    update = {"do": "update", "by": "ana", "status": "investigating", "summary": "looking"}
    late = "more than a day after the drill's end"
    too_long = "update: 'next_update': a duration is at most a year (8784h)"
    for odd, reason in ((("next_update", "+99999999999h"), too_long),
                        (("next_update", "+1" + "0" * 50 + "h"), too_long),
                        (("next_update", "+28h"), f"update: the next update at +28h is {late}"),  # horizon 3h + a day
                        (("next_update", "9999-12-31T23:59:59-12:00"), "update: 'next_update': expected a time"),  # past 8999
                        (("summary", "\ud800"), "update: 'summary' is not valid Unicode text (it holds a lone surrogate)"),
                        (("eta", "x" * 201), "update: 'eta' is longer than 200 characters"),
                        (("summary", "x" * 2001), "update: 'summary' is longer than 2000 characters"),
                        (("summary", "  \t "), "update: 'summary' is empty")):
        answer = live.act(update | dict([odd]))
        assert not answer.ok and reason in answer.reason, (odd, answer.reason)
    held = live.scenario.start.date()  # a live drill runs on the day it is held: today
    far = (held + dt.timedelta(days=367)).isoformat()
    assert live.act({"do": "schedule_postmortem", "by": "ana", "date": far}).reason == \
        f"schedule_postmortem: the date {far} is more than a year after the drill's start ({held})"
    assert live.act({"do": "schedule_postmortem", "by": "ana", "date": "9999-12-31"}).reason == \
        "schedule_postmortem: 'date': expected a date from 1900 to 8999, got '9999-12-31'"
    assert live.act({"do": "look", "by": "ana", "service": "s" * 101}).reason == "look: 'service' is longer than 100 characters"
    assert live.act({"do": "say", "by": "ana", "text": ""}).reason == "say: 'text' is empty"
    assert live.act({"do": "page", "by": "ana", "teams": ["payments", "sre", "payments"]}).reason == \
        "page: team 'payments' is listed twice"
    assert (tmp_path / INPUTS).read_text() == journaled  # none of them was journaled
    # The horizon is 3h (17:40): a next update up to a day after it is a promise a drill can hold.
    assert live.act(update | {"next_update": "+27h"}).ok
    assert live.drill.log.events[-1]["next_update"] == f"{held + dt.timedelta(days=1)}T17:40:00Z"


def journal_as_an_older_version_did(live, action: dict) -> None:
    """What the versions before these checks did with ``action``: journal it, fail on it
    (no event, an HTTP 500), and carry on with the drill."""
    live.inputs.append({"t": live.now, "input": "action", "action": action})


def test_a_journaled_input_an_older_version_failed_on_becomes_a_rejection_on_resume(tmp_path):
    live = paused_drill(tmp_path)
    live.advance(until=600)
    live.act({"do": "declare", "by": "ana", "severity": "SEV2", "service": "checkout"})
    live.advance(until=700)
    journal_as_an_older_version_did(live, {"do": "severity", "by": "kim", "severity": "SEV1", "reason": "worse"})
    live.advance(until=800)
    journal_as_an_older_version_did(live, {"do": "update", "by": "ana", "status": "investigating", "summary": "s",
                                           "next_update": "+99999999999h"})
    live.advance(until=1500)  # the bots went on meanwhile: their events follow in the journal
    before = [json.loads(line) for line in (tmp_path / EVENTS).read_text().splitlines()]

    again = LiveDrill.open(tmp_path)
    after = [json.loads(line) for line in (tmp_path / EVENTS).read_text().splitlines()]
    rejections = [e for e in after if e["kind"] == "action.rejected"]
    assert [(e["t"], e["by"], e["do"], e["reason"]) for e in rejections] == [
        (700, "kim", "severity", "'kim' is not taking part in this drill"),
        (800, "ana", "update", "update: 'next_update': a duration is at most a year (8784h), got '99999999999h'")]
    assert [e for e in after if e["kind"] != "action.rejected"] == before  # nothing else changed
    assert after == again.drill.log.events  # the journal holds them now, in their place
    assert LiveDrill.open(tmp_path).drill.log.events == after  # and the next resume needs no repair
    assert again.act({"do": "look", "by": "ana", "service": "checkout"}).ok
    again.end()
    assert again.scorecard()["metrics"]["actions_rejected"] == 2


def test_a_rejection_an_older_version_logged_flat_is_taken_in_the_current_shape(tmp_path):
    live = paused_drill(tmp_path)
    live.advance(until=600)
    live.act({"do": "mitigate", "by": "ana", "action": "rollback", "service": "nowhere"})
    live.advance(until=700)
    lines = (tmp_path / EVENTS).read_text().splitlines()
    current = next(i for i, line in enumerate(lines) if '"action.rejected"' in line)
    event = json.loads(lines[current])
    flat = {k: v for k, v in event.items() if k not in ("fields", "reason")} | event["fields"] | {"reason": event["reason"]}
    lines[current] = json.dumps(flat, separators=(",", ":"))
    (tmp_path / EVENTS).write_text("\n".join(lines) + "\n")
    again = LiveDrill.open(tmp_path)
    assert (tmp_path / EVENTS).read_text().splitlines()[current] == json.dumps(event, separators=(",", ":"))
    assert again.drill.log.events == live.drill.log.events


def test_a_tampered_event_of_an_action_is_refused_not_taken_for_a_rejection(tmp_path):
    live = paused_drill(tmp_path)
    live.advance(until=600)
    live.act({"do": "declare", "by": "ana", "severity": "SEV2", "service": "checkout"})
    text = (tmp_path / EVENTS).read_text()
    (tmp_path / EVENTS).write_text(text.replace('"severity":"SEV2","service":"checkout"', '"severity":"SEV1","service":"checkout"'))
    with pytest.raises(DrillError, match="the replay differs from events.jsonl"):
        LiveDrill.open(tmp_path)
