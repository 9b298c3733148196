"""``drill live`` through a pseudo-terminal: a person plays a whole drill at 200x."""

import datetime as dt
import json
import os
import shutil
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner

from sim.cli import main
from sim.inputs.units import weekday
from sim.live.commands import business_days_after, parse_command
from sim.live.console import seen, toolbar
from sim.live.drill import LiveDrill
from sim.outputs.scoring import next_update_due

from .conftest import paused_drill, still_file

pexpect = pytest.importorskip("pexpect")

DRILL = shutil.which("drill", path=str(Path(sys.executable).parent)) or shutil.which("drill")


@contextmanager
def terminal(*args, timeout=10):
    """``drill live ARGS`` in a pseudo-terminal; it must exit by itself, with status 0."""
    # No cursor position requests: pexpect's terminal does not answer them (so no bottom toolbar either).
    env = {**os.environ, "TERM": "xterm-256color", "PROMPT_TOOLKIT_NO_CPR": "1"}
    child = pexpect.spawn(DRILL, ["live", *args], env=env, encoding="utf-8", dimensions=(50, 220), timeout=timeout)
    try:
        yield child
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0


def say(child, line, expect):
    child.sendline(line)
    child.expect(expect)


@pytest.mark.skipif(DRILL is None, reason="the drill command is not installed")
def test_a_whole_drill_at_the_terminal(tmp_path):
    out = tmp_path / "drill"
    # A live drill is held today: the postmortem goes on the third business day from now.
    booked = business_days_after(dt.datetime.now(dt.UTC).date(), 3)[-1]
    with terminal("--name", "ana", "--speed", "200", "--seed", "4", "--out", str(out)) as child:
        child.expect("You are ana \\(primary on-call\\)")
        # Stop the clock while trying the console out; the page comes at 14:47:45.
        say(child, "pause", "paused at 14:4")
        say(child, "resolve", "rejected: no incident has been declared yet")
        say(child, "mitigate rollback", "missing service. Usage: mitigate MITIGATION SERVICE")
        say(child, "help", "postmortem DATE +schedule the postmortem")
        say(child, "resume", "running at x200")
        child.expect("PAGE +#1 \\(high urgency\\): checkout error rate > 5%")
        child.expect("runbook: https://runbooks.example.com/checkout/high-error-rate")
        say(child, "ack", "#1 acknowledged by you")
        say(child, "changes", "config +payment-gateway +Config push to payment-gateway")
        say(child, "runbook", "CheckoutHighErrorRate   https://runbooks.example.com/checkout/high-error-rate")
        child.expect("3. Check the change log")
        say(child, "dashboard checkout", "error rate +now 1\\d\\.\\d\\d%")
        say(child, 'declare SEV1 checkout "Checkout errors at 15%"', "SEV1 on checkout declared by you: Checkout errors at 15%")
        say(child, "assign comms sam", "sam is Communications Lead \\(assigned by ana\\)")
        say(child, "assign ops lee", "lee is Operations Lead \\(assigned by ana\\)")
        say(child, "assign ops nobody", "rejected: 'nobody' is not taking part in this drill")
        say(child, "page checkout,payments", "ana pages the checkout and payments teams")
        say(child, "ask lee investigate payment-gateway", "ASK +you ask lee to investigate payment-gateway \\(T1\\)")
        say(child, 'say "lee, how is it going?"', "CHANNEL +you: lee, how is it going\\?")
        say(child, 'update investigating "Errors at 15%, rolling back the gateway" next=+30m',
            "UPDATE +\\[investigating\\] you: Errors at 15%, rolling back the gateway  \\(next update")
        say(child, "mitigate rollback payment-gateway", "ana applies rollback to payment-gateway")
        say(child, "resolve", "rejected: not resolved: alerts still firing \\(CheckoutHighErrorRate\\)")
        child.expect("to resolve anyway: resolve confirm=yes")
        say(child, "resolve confirm=yes", "Incident resolved by ana \\(confirmed over alerts still firing")
        say(child, f"postmortem {booked}", f"Postmortem scheduled for {weekday(booked)} {booked}")
        child.expect("The drill has ended \\(closed\\)")
        child.expect("Score: \\d+\\.\\d / 100")
        child.expect("ana's own duties")
        child.expect("Roles assigned +comms -> sam")
        child.expect("Wrote events.jsonl, score.json, report.md, timeline.png, debrief.md")
    card = json.loads((out / "score.json").read_text())
    assert card["metrics"]["declared_severity"] == "SEV1" and card["metrics"]["postmortem_date"] == booked
    assert card["metrics"]["teams_paged"] == ["checkout", "payments"]
    ana = card["people"]["ana"]
    events = [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()]
    assert [(a["role"], a["who"]) for a in ana["roles_assigned"]] == [("comms", "sam"), ("ops", "lee")]
    assert ana["severity_decisions"][0]["to"] == "SEV1" and ana["severity_decisions"][0]["right"] is True
    # rejected: resolve before the declaration, assign ops nobody, resolve over the firing alert
    assert (ana["mitigations"], ana["hands_off_as_ic"], ana["actions_rejected"]) == (1, False, 3)
    assert ana["next_steps"][0].startswith("As IC you did 1 investigation(s) or mitigation(s) yourself")
    assert any(e["kind"] == "task.asked" and e["who"] == "lee" for e in events)
    assert "| When | What happened | Truth |" in (out / "debrief.md").read_text()
    assert events[-1]["kind"] == "drill.ended"
    # Every command was journaled at its moment: replaying the folder gives the same drill.
    assert LiveDrill.open(out).result.jsonl() == (out / "events.jsonl").read_text()
    assert "### ana's own duties" in (out / "report.md").read_text()
    assert (out / "timeline.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.skipif(DRILL is None, reason="the drill command is not installed")
def test_leaving_and_resuming_a_drill(tmp_path):
    out = tmp_path / "drill"
    with terminal("--name", "ana", "--speed", "50", "--seed", "4", "--out", str(out)) as child:
        child.expect("You are ana")
        say(child, "pause", "paused at")
        assert "All quiet for now: things start when an alert fires." in child.before  # at x50, no 'speed 30'
        say(child, "speed 20", "paused, at x20 once resumed: type resume to go on")  # it said 'running at x20'
        say(child, "quit", "Resume it with:")
    with terminal("--resume", str(out)) as child:
        child.expect("You are ana \\(primary on-call\\)")
        say(child, "status", "incident: none")
        say(child, "end", "The drill has ended \\(ended at the console\\)")
        child.expect("Score:")
    assert json.loads((out / "score.json").read_text())["metrics"]["declared_severity"] is None


def test_the_toolbar_shows_clock_incident_roles_and_the_update_cadence(tmp_path):
    live = paused_drill(tmp_path)

    def bar():
        return "".join(text for _, text in toolbar(live, "ana"))

    live.advance(until=500)
    assert bar().startswith(" 14:48:20 UTC  PAUSED | no incident declared | ")
    assert "your open pages: #1" in bar() and bar().endswith(" | you: ana (primary on-call) | help")
    live.advance(until=600)
    live.act({"do": "declare", "by": "ana", "severity": "SEV2", "service": "checkout"})
    live.advance(until=700)
    # The initial summary is due 5 min after the declaration (14:50 + 5m).
    assert bar() == (f" 14:51:40 UTC  PAUSED | SEV2 open #inc-{live.scenario.start.date()}-checkout | ic ana  comms -  ops -\n"
                     " no update yet, next due 14:55 (in 3m20s) | you: ana (ic) | help")
    live.act(parse_command("update investigating Looking into it next=+30m", "ana", now=live.now))
    assert bar().endswith(" last update 0s ago, next due 15:51 (in 1h) | you: ana (ic) | help")  # paused: at once
    # The update promised the next one by 15:21:40, but the bar shows the deadline the cadence is
    # scored by (scoring.next_update_due): within SEV2's longest cadence, 60 min, of the update.
    live.advance(until=2600)
    assert "last update 31m40s ago, next due 15:51 (in 28m20s)" in bar()
    live.advance(until=4400)
    assert "last update 1h1m40s ago, next due 15:51 (OVERDUE by 1m40s)" in bar()
    # declared at 600: the initial summary due at 900 (met at 700), the next at 700 + 60m = 4300, missed.
    assert next_update_due(live.drill.log.events, live.process, 4400) == 4300.0


def test_the_toolbar_lists_the_roles_the_teams_level_staffs(tmp_path, write):
    # A level staffing an IC alone showed 'comms -  ops -', gaps the team's process never asks to fill.
    process = write("process.yaml", """
        severities:
          incident: {response: 10m, cadence: [20m, 40m], roles: [ic], postmortem: true}
        """)
    live = paused_drill(tmp_path / "drill", process_file=process)
    live.advance(until=600)
    live.act({"do": "declare", "by": "ana", "severity": "incident", "service": "checkout"})
    assert f"| incident open #inc-{live.scenario.start.date()}-checkout | ic ana\n" in "".join(t for _, t in toolbar(live, "ana"))
    live.act({"do": "assign", "by": "ana", "role": "comms", "who": "ana"})  # a role held is shown all the same
    assert "| ic ana  comms ana\n" in "".join(t for _, t in toolbar(live, "ana"))


def test_drill_live_needs_a_terminal_and_says_so(tmp_path):
    result = CliRunner().invoke(main, ["live", "--name", "ana", "--out", str(tmp_path / "d")])
    assert result.exit_code == 2
    assert result.output == "Error: drill live needs a terminal (use drill run for a simulated drill)\n"
    assert not (tmp_path / "d").exists()


def test_the_screen_shows_what_a_responder_sees_and_never_the_truth(tmp_path):
    live = paused_drill(tmp_path / "drill", still_file(tmp_path))
    live.advance(until=1500)  # ana leaves the page: it escalates to lee at 14:52:45, who declares at 15:02:47
    events = live.drill.log.events
    assert {e["kind"] for e in events if seen(e, "ana") is None} == {
        "fault.started", "impact.started", "alert.pending", "notification.sent", "dashboard.viewed"}
    lines = [seen(e, "ana")[1] for e in events if seen(e, "ana")]
    assert lines[:5] == [
        "ALERT    checkout error rate > 5% (critical) is firing",
        "ALERT    payment-gateway error rate > 5% (warning) is firing",
        ("PAGE     #1 (high urgency): checkout error rate > 5%   -> type: ack\n"
         "         runbook: https://runbooks.example.com/checkout/high-error-rate"),  # the alert's runbook_url
        "PAGE     #2 (low urgency): payment-gateway error rate > 5%   -> type: ack",
        "PAGE     #1 not acknowledged by you: escalated to lee",
    ]
    declared = next(e for e in events if e["kind"] == "incident.declared")
    assert seen(declared, "lee") == ("channel", f"CHANNEL  #inc-{live.scenario.start.date()}-checkout opened: SEV1 on checkout declared by you: "
                                                + "checkout is degraded and customers are affected")


@pytest.mark.skipif(DRILL is None, reason="the drill command is not installed")
def test_a_refused_action_with_a_reason_is_said_at_the_terminal(tmp_path):
    with terminal("--name", "ana", "--speed", "50", "--seed", "4", "--out", str(tmp_path / "drill")) as child:
        child.expect("You are ana")
        say(child, "pause", "paused at")
        say(child, 'standdown "false alarm"', "rejected: only the on-call engineer who was paged can stand it down")
        say(child, 'severity SEV2 "getting worse"', "rejected: no incident has been declared yet")
        # A colour code pasted into a line (ESC[31m, which prompt_toolkit takes for a mouse event; its
        # own handler failed on it with a traceback mid-drill) is left out and the line read whole.
        say(child, 'say "hello \x1b[31mred"', "rejected: there is no incident channel yet")
        # A line typed past 4,000 characters (not marked as a paste) is cut there and refused whole:
        # prompt_toolkit's memory grew with its square (100,000 characters: past 4.9 GB).
        say(child, 'say "' + "x" * 4500 + '"', "rejected: that line ran past 4,000 characters")
        say(child, 'say "hello"', "rejected: there is no incident channel yet")  # the next line is read as ever
        say(child, "end", "The drill has ended \\(ended at the console\\)")
        child.expect("Score:")
    assert "Unhandled exception" not in child.before


@pytest.mark.skipif(DRILL is None, reason="the drill command is not installed")
@pytest.mark.parametrize("trial", range(2))
def test_sigkill_of_drill_live_loses_no_acknowledged_action(tmp_path, trial):
    """``drill live`` killed with SIGKILL (no chance to flush anything) while the clock runs:
    every update the console acknowledged is in the resumed drill exactly once, and it ends."""
    from .killing import live_trial

    assert live_trial(tmp_path / "drill", trial)["acknowledged"] >= 2


def test_the_screen_says_a_mitigation_was_applied_not_what_it_did(tmp_path):
    live = paused_drill(tmp_path / "drill", still_file(tmp_path))  # the rollback works as the scenario says
    live.advance(until=600)
    assert live.act({"do": "mitigate", "by": "ana", "action": "rollback", "service": "payment-gateway"}).data is None
    applied = live.drill.log.events[-1]
    assert applied["faults"][0]["outcome"] == "fixed"  # in the log, for the facilitator and the score
    assert seen(applied, "ana") == ("channel", "CHANNEL  ana applies rollback to payment-gateway")
