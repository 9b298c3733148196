"""A drill that teaches: talking in the channel (say), directing work (ask) that bots carry
out, reopening, resolving only knowingly, runbooks and the change log.

The incident's rules run on tests/data/tiny.yaml (api fails 20% from 60 s to 660 s; its
ApiErrors alert fires at 195 s and pages dana at 225 s) driven by hand, as in
test_incident_rules.py; the bots' part runs a live drill of the reference scenario with a
person as IC, the clock moved by the test.
"""

import datetime as dt
from dataclasses import replace

import pytest

from sim import load_scenario, load_script
from sim.inputs.actions import Action, parse_action
from sim.inputs.config import DEFAULT_SEVERITIES, Process, Script, ScriptParticipant
from sim.inputs.errors import DrillError
from sim.live.commands import UsageError, Vocabulary, parse_command
from sim.model.engine import Drill
from sim.outputs import coaching, report
from sim.outputs.scoring import score

from .conftest import DATA, SCENARIOS, paused_drill, still_file

TINY = load_scenario(DATA / "tiny.yaml")
CAST = """
participants:
  - {name: dana, oncall: primary}
  - {name: lee, oncall: secondary}
  - {name: alex}
actions: []
"""


@pytest.fixture
def hand(write):
    """tiny, with dana declared SEV2 (so IC) at 300 s."""
    drill = Drill(TINY, script=load_script(write("cast.yaml", CAST), TINY.start))
    drill.start()
    drill.env.run(until=300)

    def do(by, what, **fields):
        return drill.act(Action(what, by, fields))

    assert do("dana", "say", text="anyone?").reason == "there is no incident channel yet: it opens when an incident is declared"
    assert do("dana", "ack").ok and do("dana", "declare", severity="SEV2").ok
    drill.do = do
    return drill


def kinds(drill, kind):
    return [e for e in drill.log.events if e["kind"] == kind]


def test_say_is_kept_in_the_channel_log_and_timeline(hand):
    assert hand.do("lee", "say", text="I can help with api").ok
    said = kinds(hand, "channel.message")[-1]
    assert (said["by"], said["text"]) == ("lee", "I can help with api")
    assert report.describe(said) == "lee: I can help with api"


def test_only_the_ic_directs_work_a_role_names_its_holder_and_doing_it_closes_the_task(hand):
    assert hand.do("lee", "ask", who="alex", task="investigate", service="api").reason == \
        "only the Incident Commander (dana) can direct the work"
    assert hand.do("dana", "ask", who="ops", task="investigate", service="api").reason.startswith(
        "'ops' is not taking part in this drill (nobody holds ops yet)")
    assert hand.do("dana", "ask", who="dana", task="investigate", service="api").reason == \
        "the Incident Commander coordinates: ask someone else to do it"
    assert hand.do("dana", "ask", who="lee", task="update").reason == \
        "lee does not write the updates: assign comms to them first, or ask the Communications Lead"
    assert hand.do("dana", "assign", role="ops", who="lee").ok
    asked = hand.do("dana", "ask", who="ops", task="mitigate", action="rollback", service="api")
    assert asked.ok and asked.data == "T1"
    event = kinds(hand, "task.asked")[-1]
    assert {k: event[k] for k in ("by", "id", "who", "task", "action", "service")} == \
        {"by": "dana", "id": "T1", "who": "lee", "task": "mitigate", "action": "rollback", "service": "api"}
    assert report.describe(event) == "dana asks lee to apply rollback to api (T1)"
    assert hand.do("lee", "mitigate", action="restart", service="api").ok
    assert not kinds(hand, "task.done")  # not what was asked
    assert hand.do("lee", "mitigate", action="rollback", service="api").ok
    assert [(e["id"], e["who"]) for e in kinds(hand, "task.done")] == [("T1", "lee")]


def test_the_ic_can_have_someone_page_on_their_behalf(hand):
    assert hand.do("alex", "page", teams=["api"]).reason == "only the Incident Commander (dana) can page teams"
    assert hand.do("dana", "ask", who="alex", task="page", teams=["api"]).ok
    assert hand.do("alex", "page", teams=["api"]).ok
    assert kinds(hand, "teams.paged")[-1]["by"] == "alex"


def test_a_task_gets_exactly_the_fields_it_needs():
    start = TINY.start
    with pytest.raises(ValueError, match="ask: the mitigate task needs 'action'"):
        parse_action({"do": "ask", "by": "dana", "who": "lee", "task": "mitigate", "service": "api"}, start)
    with pytest.raises(ValueError, match="ask: the update task takes no 'service'"):
        parse_action({"do": "ask", "by": "dana", "who": "lee", "task": "update", "service": "api"}, start)
    with pytest.raises(ValueError, match="task must be one of investigate, mitigate, update, page"):
        parse_action({"do": "ask", "by": "dana", "who": "lee", "task": "fix"}, start)


def test_resolving_over_a_paging_alert_and_customer_impact_asks_for_confirmation(hand):
    hand.env.run(until=400)  # api fails 20% (its threshold is far lower) and ApiErrors (critical) fires
    answer = hand.do("dana", "resolve", summary="done")
    assert (answer.ok, answer.data) == (False, {"confirm": True})
    assert answer.reason == ("not resolved: alerts still firing (ApiErrors) and customer-facing api still above its "
                             "impact threshold; resolve with confirm to resolve anyway")
    assert hand.do("dana", "resolve", summary="done", confirm=True).ok
    resolved = kinds(hand, "incident.resolved")[-1]
    assert (resolved["over_firing"], resolved["over_impact"]) == (["ApiErrors"], ["api"])
    assert report.describe(resolved) == \
        "Incident resolved by dana (confirmed over alerts still firing: ApiErrors; still impacted: api)"


def test_reopen_after_a_premature_resolve_and_the_score_keeps_both_facts(hand):
    assert hand.do("dana", "reopen", reason="x").reason == "only a resolved (or declared and stood down) incident can be reopened: it is open"
    hand.env.run(until=400)
    assert hand.do("dana", "resolve", confirm=True).ok
    assert hand.do("lee", "reopen", reason="errors are back").reason == "only the Incident Commander (dana) can reopen the incident"
    assert hand.do("dana", "reopen", reason="errors are back").ok
    assert hand.incident.state == "open" and kinds(hand, "incident.reopened")[-1]["was"] == "resolved"
    assert hand.do("dana", "update", status="investigating", summary="reopened").ok  # open again: updates go on
    # The fault ended at 660 s and api recovered within a minute; the CPU blip (900 s to 1020 s)
    # fires ApiCPU on api, the incident's service, until it clears at 1035 s.
    hand.env.run(until=1000)
    assert "alerts still firing (ApiCPU)" in hand.do("dana", "resolve").reason
    hand.env.run(until=1100)
    assert hand.do("dana", "resolve").ok  # nothing firing now: no confirmation needed
    hand.env.run(until=hand.done)
    card = score(hand.finish().events, TINY, hand.process)
    # Resolution is timed from the alert (195 s) to the resolve that stood (1100 s); the premature
    # one at 400 s is what "resolved when normal" judges.
    assert card["metrics"]["time_to_resolve_s"] == 1100 - 195
    assert card["checklist"]["resolved_when_normal"] is False
    assert "resolved at 14:06" in card["why"]["resolved_when_normal"]


# -- the bots take direction (a live drill of the reference scenario, kim is IC) --


@pytest.fixture(scope="module")
def directed(tmp_path_factory):
    """kim takes IC at the declaration, staffs ops (dana) and comms (alex), asks dana to
    investigate the gateway and alex to page payments, asks dana how it goes, posts an update;
    then, once dana has proposed the rollback, asks her to apply it."""
    # The nominal story (nothing drawn, nobody reporting it), so the bots' timings can be worked out.
    story = still_file(tmp_path_factory.mktemp("story"))
    live = paused_drill(tmp_path_factory.mktemp("directed"), story, seed=1, players=[{"name": "kim", "as": "ic"}])
    t = 0
    while live.drill.incident.roles.get("ic") != "kim":
        t += 30
        live.advance(until=t)
    asked_at = live.now
    for action in ({"do": "assign", "role": "ops", "who": "dana"}, {"do": "assign", "role": "comms", "who": "alex"},
                   {"do": "ask", "who": "ops", "task": "investigate", "service": "payment-gateway"},
                   {"do": "ask", "who": "alex", "task": "page", "teams": ["payments"]},
                   {"do": "say", "text": "@dana what's the ETA?"},
                   {"do": "update", "status": "investigating", "summary": "Checkout fails 15%; dana is on the gateway"}):
        assert live.act({**action, "by": "kim"}).ok, action
    while not any(e["kind"] == "channel.message" and "ask me to apply it" in e["text"] for e in live.drill.log.events):
        live.advance(until=live.now + 30)
    proposed_at = live.now
    live.advance(until=live.now + 240)  # dana waits for the call: she applies nothing herself
    assert live.act({"do": "ask", "by": "kim", "who": "dana", "task": "mitigate", "action": "rollback",
                     "service": "payment-gateway"}).ok
    live.advance(until=live.now + 1200)
    return live, asked_at, proposed_at


def test_a_bot_confirms_a_task_does_it_after_the_work_in_hand_and_reports_back(directed):
    live, asked_at, _ = directed
    events = live.drill.log.events
    said = [e for e in events if e["kind"] == "channel.message" and e["by"] == "dana"]
    on_it = next(e for e in said if e["text"].startswith("On it (T1): investigate payment-gateway"))
    started = next(e for e in events if e["kind"] == "investigation.started" and e["by"] == "dana"
                   and e["service"] == "payment-gateway")
    # Noticing takes half an acknowledgement (median 1 min); the work starts after that and after
    # the investigation of checkout dana had in hand.
    assert asked_at < on_it["t"] <= started["t"] < asked_at + 900
    assert next(e for e in events if e["kind"] == "task.done" and e["id"] == "T1")["t"] == started["t"]
    paged = next(e for e in events if e["kind"] == "teams.paged")
    assert (paged["by"], paged["teams"]) == ("alex", ["payments"])
    rollback = next(e for e in events if e["kind"] == "mitigation.applied" and e["by"] == "dana")
    assert (rollback["action"], rollback["service"], rollback["effective"]) == ("rollback", "payment-gateway", True)
    report_back = next(e for e in said if e["text"].startswith("T3 done: rollback of payment-gateway applied at"))
    assert report_back["t"] > rollback["t"]


def test_a_bot_with_a_task_proposes_a_mitigation_and_waits_for_the_ic(directed):
    live, _, proposed_at = directed
    asked = next(e for e in live.drill.log.events if e["kind"] == "task.asked" and e["id"] == "T3")
    mine = [e for e in live.drill.log.events if e["kind"] == "mitigation.applied" and e["by"] == "dana"]
    assert asked["t"] >= proposed_at + 240 and all(e["t"] > asked["t"] for e in mine)


def test_a_bot_spoken_to_says_what_it_is_doing(directed):
    live, asked_at, _ = directed
    reply = next(e for e in live.drill.log.events if e["kind"] == "channel.message" and e["by"] == "dana"
                 and e["text"].startswith("T1 (investigate payment-gateway) in hand; investigating checkout, "
                                          "a finding expected around "))
    assert reply["text"].endswith(". No ETA for a fix yet.") and reply["t"] > asked_at
    # The time she gives is when that finding came (14:54:41).
    found = next(e for e in live.drill.log.events if e["kind"] == "finding" and e["by"] == "dana")
    assert found["service"] == "checkout" and f"a finding expected around {found['at'][11:16]}." in reply["text"]


def test_the_bot_comms_lead_builds_on_the_ic_update(directed):
    live, _, _ = directed
    updates = [e for e in live.drill.log.events if e["kind"] == "update.posted"]
    kims = next(e for e in updates if e["by"] == "kim")
    after = next(e for e in updates if e["by"] == "alex" and e["t"] > kims["t"])
    # Between the two, the only finding is dana's on checkout (the gateway's config push comes later).
    found = [e["text"] for e in live.drill.log.events if e["kind"] == "finding" and kims["t"] < e["t"] < after["t"]]
    assert found == ["Checkout errors are payment authorisation failures; calls to payment-gateway time out"]
    assert after["summary"] == (f"Following kim's update at {kims['at'][11:16]} (Checkout fails 15%; dana is on "
                                "the gateway). Since then: checkout: Checkout errors are payment authorisation "
                                "failures; calls to payment-gateway time out.")


def test_a_live_drill_is_held_today_its_channel_says_so(directed):
    live, _, _ = directed
    today = dt.datetime.now(dt.UTC).date().isoformat()
    assert live.status()["channel"] == f"#inc-{today}-checkout"


def test_a_comms_lead_given_the_role_back_starts_afresh(write):
    # tiny, with dana (a person) IC of a SEV2 from 300 s and alex a bot as comms: his initial
    # summaries go to the channel, then to the status page, within minutes; his next update is
    # due 30 to 60 minutes (SEV2's cadence) after the first. dana takes comms from him at 600 s
    # and hands it back at 720 s. His duty saw the change at its next check (every minute) and
    # stopped, so he starts afresh: two initial summaries again (each half the writing time,
    # median 75 s), within minutes of 720 s, not half an hour after his first.
    drill = Drill(TINY, script=Script((ScriptParticipant("dana", "primary"), ScriptParticipant("alex", bot=True)), ()))
    drill.start()
    drill.env.run(until=300)
    for action in ({"do": "ack"}, {"do": "declare", "severity": "SEV2"}, {"do": "assign", "role": "comms", "who": "alex"}):
        assert drill.act(Action(action.pop("do"), "dana", action)).ok
    drill.env.run(until=600)
    assert drill.act(Action("assign", "dana", {"role": "comms", "who": "dana"})).ok
    drill.env.run(until=720)
    assert drill.act(Action("assign", "dana", {"role": "comms", "who": "alex"})).ok
    drill.env.run(until=drill.done)  # tiny's 20 minute horizon
    posted = [(e["t"], e["audience"]) for e in drill.log.events if e["kind"] == "update.posted"]
    assert [audience for _, audience in posted] == ["internal", "public"] * 2
    assert posted[1][0] < 600 and 720 < posted[2][0] < posted[3][0] < 720 + 300


# -- the console's words for it --

WORDS = Vocabulary(services=("checkout", "payment-gateway"), people=("sam", "lee"), teams=("payments",))


@pytest.mark.parametrize("line, action", [
    ("ask ops rollback payment-gateway", {"who": "ops", "task": "mitigate", "action": "rollback", "service": "payment-gateway"}),
    ("ask sam mitigate scale-up checkout", {"who": "sam", "task": "mitigate", "action": "scale_up", "service": "checkout"}),
    ("ask comms update", {"who": "comms", "task": "update"}),
    ("ask sam investigate checkout", {"who": "sam", "task": "investigate", "service": "checkout"}),
    ("ask lee page payments,checkout", {"who": "lee", "task": "page", "teams": ["payments", "checkout"]}),
])
def test_ask_at_the_console(line, action):
    assert parse_command(line, "kim", WORDS) == {"do": "ask", "by": "kim", **action}


def test_the_console_says_what_an_ask_lacks():
    with pytest.raises(UsageError, match="unknown task 'rolback' \\(did you mean rollback\\?\\)"):
        parse_command("ask ops rolback checkout", "kim", WORDS)
    with pytest.raises(UsageError, match="the investigate task needs a service"):
        parse_command("ask ops investigate", "kim", WORDS)
    assert parse_command('resolve confirm=yes "all good"', "kim", WORDS) == \
        {"do": "resolve", "by": "kim", "confirm": "yes", "summary": "all good"}
    assert parse_command("reopen errors are back", "kim", WORDS) == {"do": "reopen", "by": "kim", "reason": "errors are back"}


# -- runbooks and the change log --


def test_the_change_log_shows_changes_up_to_now_and_never_why(tmp_path):
    live = paused_drill(tmp_path, SCENARIOS / "checkout-config-push.yaml")
    day = live.scenario.start.date()
    live.advance(until=200)  # 14:43:20: the push (14:45) has not happened yet
    assert [(c["at"], c["kind"], c["service"]) for c in live.changes()] == [
        (f"{day}T14:28:00Z", "flag", "storefront"), (f"{day}T14:00:00Z", "deploy", "catalog")]
    live.advance(until=600)
    assert live.changes()[0]["text"] == "Config push to payment-gateway (gateway.yaml, 1 file changed, no review)"
    # A deploy or config push fault the scenario lists no change for shows as a bare change.
    assert [(c.at, c.text) for c in TINY.change_log()] == [(60.0, "Deploy of api")]


def test_runbooks_come_with_the_page_and_the_alert(tmp_path):
    live = paused_drill(tmp_path, SCENARIOS / "checkout-config-push.yaml")
    live.advance(until=700)
    page = next(e for e in live.drill.log.events if e["kind"] == "page.sent")
    assert page["runbooks"] == ["https://runbooks.example.com/checkout/high-error-rate"]
    books = {b["alert"]: b for b in live.runbooks()}
    assert books["CheckoutHighErrorRate"]["text"].startswith("Checkout high error rate\n1. Open the checkout dashboard")
    assert books["PaymentGatewayErrors"] == {"alert": "PaymentGatewayErrors", "url": None, "text": None}
    with pytest.raises(DrillError, match="no alert 'Nope' in this drill"):
        live.runbooks("Nope")


def test_a_runbook_for_an_unknown_alert_is_a_file_error(write):
    text = (DATA / "tiny.yaml").read_text() + "runbooks:\n  ApiErorrs: check the api\n"
    with pytest.raises(DrillError, match=r"tiny.yaml:\d+: runbooks.ApiErorrs: no alert of that name \(alerts: ApiErrors, ApiCPU"):
        load_scenario(write("tiny.yaml", text))


# -- coaching --


def test_next_steps_name_what_happened_most_useful_first_at_most_three():
    process = Process()
    duty = {"ic_time_s": 1200.0, "severity_decisions": [{"at": "2026-04-20T14:52:00Z", "from": None, "to": "SEV3", "right": False}],
            "hands_on_while_ic": 2, "required_roles_staffed": False, "cadence_while_ic": 0.5, "tasks_asked": 0,
            "resolved": True, "time_to_acknowledge_s": 400.0, "actions_rejected": 0,
            "paged_unanswered": False}
    card = {"metrics": {"expected_severity": "SEV1", "highest_severity": "SEV1", "time_to_mitigate_s": None},
            "checklist": {}}
    steps = coaching.next_steps(duty, card, process)
    assert len(steps) == 3
    assert steps[0].startswith("At 14:52 you set SEV3; the impact made it SEV1: before declaring")
    assert steps[1].startswith("As IC you did 2 investigation(s) or mitigation(s) yourself: ask someone instead")
    assert steps[2].startswith("The severity needed a Communications Lead and an Operations Lead")
    calm = dict(duty, severity_decisions=[], hands_on_while_ic=0, required_roles_staffed=True, cadence_while_ic=1.0,
                tasks_asked=1, time_to_acknowledge_s=60.0)
    assert coaching.next_steps(calm, card, process) == [
        "A clean run for your part: next time try a harder scenario (sev3-worsening, night-db-storm-red-herrings)."]



def test_next_steps_speak_of_the_teams_own_levels_and_roles():
    # A team with P1 (staffing an IC and comms) and P2: the advice named SEV1 and SEV2 and asked
    # for an Operations Lead P1 never staffs.
    process = Process(severities={
        "P1": replace(DEFAULT_SEVERITIES["SEV1"], name="P1", description="All of checkout down", roles=("ic", "comms")),
        "P2": replace(DEFAULT_SEVERITIES["SEV2"], name="P2", description="Slow pages")})
    duty = {"ic_time_s": 1200.0, "severity_decisions": [{"at": "2026-04-20T14:52:00Z", "from": None, "to": "P2", "right": False}],
            "hands_on_while_ic": 0, "required_roles_staffed": False, "cadence_while_ic": 1.0, "tasks_asked": 1,
            "resolved": True, "time_to_acknowledge_s": 60.0, "actions_rejected": 0, "paged_unanswered": False}
    card = {"metrics": {"expected_severity": "P1", "highest_severity": "P1", "time_to_mitigate_s": 600.0}, "checklist": {}}
    steps = coaching.next_steps(duty, card, process)
    assert steps[0] == ("At 14:52 you set P2; the impact made it P1: before declaring, compare what the dashboards show "
                        "with the severity table (P1: All of checkout down; P2: Slow pages).")
    assert steps[1] == ("The severity needed a Communications Lead: assign it in the first minutes (assign comms NAME), "
                        "so the updates and the digging are not on you.")
    # Nobody asked to mitigate at P1, which staffs no Operations Lead: the advice asked for one all the same.
    unasked = dict(duty, severity_decisions=[], required_roles_staffed=True, tasks_asked=0)
    assert coaching.next_steps(unasked, {**card, "metrics": {**card["metrics"], "time_to_mitigate_s": None}}, process) == [
        ("Nobody was asked to mitigate: decide a mitigation early (roll back the recent change, see changes) and ask "
         "someone (ask NAME rollback SERVICE) to apply it, rather than waiting for a root cause.")]

def test_the_debrief_puts_the_truth_beside_what_the_team_did(hand):
    hand.env.run(until=400)
    assert hand.do("dana", "ask", who="lee", task="mitigate", action="rollback", service="api").ok
    assert hand.do("lee", "mitigate", action="rollback", service="api").ok
    hand.env.run(until=hand.done)
    result = hand.finish()
    card = score(result.events, TINY, hand.process, ("dana", "lee"))
    lines = coaching.debrief(result, card)
    table = lines[lines.index("| When | What happened | Truth |") + 2:lines.index("## What was tried") - 1]
    # tiny's fault starts at 14:01 (60 s), its alert fires at 14:03:15, dana declares at 14:05.
    assert table[:4] == ["| 14:01 |  | bad deploy on api begins: boom |", "| 14:01 |  | customers affected on api |",
                         "| 14:03 | first alert: api errors at 0.2008 | caused by boom |", "| 14:05 | dana declares SEV2 on api |  |"]
    assert "| 14:06 | lee: rollback of api | it worked |" in table
    assert lines[lines.index("## What was tried") + 2:lines.index("## What was tried") + 4] == [
        "- 14:06 dana asked lee to apply rollback to api", "- 14:06 lee applied rollback to api: it worked"]
    assert lines[lines.index("### dana") + 2].startswith("- ")
