"""The response process, action by action: who may do what and when, and what each action does.

Short drills on tests/data/tiny.yaml (api; its alert fires at 195 s and pages dana at
225 s) with four people and no bots; the test moves the clock and acts, as a person at
the console would.
"""

from dataclasses import replace

import pytest

from sim import load_scenario, load_script
from sim.inputs.actions import Action
from sim.inputs.config import Finding
from sim.model.engine import Drill
from sim.outputs import report

from .conftest import DATA, SCENARIOS, still

TINY = load_scenario(DATA / "tiny.yaml")
CAST = """
participants:
  - {name: dana, oncall: primary}
  - {name: lee, oncall: secondary}
  - {name: alex}
  - {name: sam}
actions: []
"""


class Console:
    """A drill that the test drives: ``at(t)`` moves the clock, ``do(...)`` acts."""

    def __init__(self, write, scenario=TINY):
        # The findings' nominal times: nothing is drawn (a cast without actions would draw).
        self.drill = Drill(still(scenario), script=load_script(write("cast.yaml", CAST), scenario.start))
        self.drill.start()
        self.incident = self.drill.incident

    def at(self, t):
        self.drill.env.run(until=t)
        return self

    def do(self, by, what, **fields):
        return self.drill.act(Action(what, by, fields))

    def events(self, kind):
        return [e for e in self.drill.log.events if e["kind"] == kind]


@pytest.fixture
def console(write):
    return Console(write)


def declared(console, t=300):
    """dana acknowledges and declares a SEV2 on api at ``t``: she is IC."""
    console.at(t)
    assert console.do("dana", "ack").ok
    assert console.do("dana", "declare", severity="SEV2").ok
    return console


def resolved(console, t=900):
    declared(console)
    console.at(t)
    # tiny's fault still fails api at 900 s: resolving over it needs a confirmation
    assert console.do("dana", "resolve", confirm=True).ok
    return console


def test_an_accepted_action_says_ok_and_a_rejected_one_says_why(console):
    result = console.at(300).do("nobody", "look", service="api")
    assert (result.ok, result.reason) == (False, "'nobody' is not taking part in this drill")
    assert console.events("action.rejected")[-1]["reason"] == "'nobody' is not taking part in this drill"
    looked = console.do("dana", "look", service="api")
    assert looked.ok and looked.data["error_rate"] == pytest.approx(0.2008)


def test_acknowledging_a_page_that_is_not_open_is_rejected(console):
    console.at(300)
    assert console.do("dana", "ack", page="P9").reason == "no open page P9 for dana to acknowledge"
    assert console.do("dana", "ack", page="P1").ok


def test_acknowledging_a_page_by_its_id_leaves_her_other_pages_open(write):
    # With boom never ending, P1 (ApiErrors, 225 s) is still open at 1000 s, and the customers'
    # report of it has paged dana again as P2 (853 s): two open pages, one named.
    c = Console(write, replace(TINY, faults=(replace(TINY.faults[0], duration=None),)))
    c.at(1000)
    assert c.do("dana", "ack", page="P2").ok
    assert [(e["page"], e["by"]) for e in c.events("page.acked")] == [("P2", "dana")]
    assert c.do("dana", "ack").ok  # no page named: every page still open for her
    assert [(e["page"], e["by"]) for e in c.events("page.acked")] == [("P2", "dana"), ("P1", "dana")]


def test_a_page_reaches_the_secondary_only_once_it_escalates(console):
    # Paged at 225 s; escalation to lee would be at 525 s.
    console.at(300)
    assert console.do("lee", "ack").reason == "no open page for lee to acknowledge"
    console.at(530)
    assert console.do("lee", "ack").ok  # escalated at 525: lee may answer it now


def test_an_acknowledged_page_does_not_escalate(console):
    console.at(300)
    assert console.do("dana", "ack").ok
    console.at(1000)
    assert console.events("page.escalated") == [] and console.drill.monitoring.pages[0].acked_by == "dana"


def test_declaring_checks_the_severity_and_the_service(console):
    console.at(200)  # the alert fired at 195; its page goes out at 225
    assert console.do("dana", "declare", severity="SEV9").reason.startswith("unknown severity 'SEV9'")
    assert console.do("dana", "declare", severity="SEV2", service="nosuch").reason \
        == "unknown service 'nosuch' (services: api)"
    assert console.do("dana", "declare", severity="SEV2").ok  # the firing alert's service, before any page
    assert (console.incident.service, console.incident.channel) == ("api", "#inc-2026-04-20-api")


def test_declaring_after_the_alert_resolved_takes_the_service_of_the_page(console):
    # ApiErrors stopped firing once api recovered (boom ended at 660 s); its page P1 stays.
    console.at(800)
    assert not console.drill.monitoring.firing()
    assert console.do("dana", "declare", severity="SEV2").ok
    assert console.incident.service == "api"


def test_the_highest_severity_is_remembered_when_it_is_lowered(console):
    declared(console)
    assert console.incident.highest == "SEV2"
    assert console.do("dana", "severity", severity="SEV1", reason="checkout down").ok
    assert console.do("dana", "severity", severity="SEV3").ok
    assert (console.incident.severity, console.incident.highest) == ("SEV3", "SEV1")
    assert console.do("dana", "severity", severity="SEV9").reason \
        == "unknown severity 'SEV9' (severities: SEV1, SEV2, SEV3, SEV4)"
    changes = [(e["from"], e["to"], e["by"]) for e in console.events("severity.changed")]
    assert changes == [("SEV2", "SEV1", "dana"), ("SEV1", "SEV3", "dana")]


def test_only_the_commander_assigns_people_who_take_part(console):
    declared(console)
    assert console.do("dana", "assign", role="comms", who="zed").reason.startswith("'zed' is not taking part")
    assert console.do("alex", "assign", role="comms", who="sam").reason \
        == "only the Incident Commander (dana) can assign roles"
    assert console.do("dana", "assign", role="comms", who="sam").ok
    assert console.do("dana", "assign", role="comms", who="sam").reason == "sam already holds comms"


def test_only_the_commander_pages_and_only_new_teams_are_paged(console):
    declared(console)
    assert console.do("alex", "page", teams=["api"]).reason == "only the Incident Commander (dana) can page teams"
    assert console.do("dana", "page", teams=["api"]).ok
    assert console.do("dana", "page", teams=["api"]).reason == "those teams were already paged"
    assert console.do("dana", "page", teams=["api", "payments"]).ok
    assert [e["teams"] for e in console.events("teams.paged")] == [["api"], ["payments"]]
    assert console.incident.teams_paged == {"api", "payments"}


def test_updates_carry_their_fields_and_after_resolving_only_a_resolved_one(console):
    assert console.at(200).do("dana", "update", status="investigating", summary="?").reason \
        == "no incident has been declared yet"
    declared(console)
    assert console.do("dana", "update", status="investigating", summary="api errors").ok
    assert console.do("dana", "update", status="identified", summary="bad deploy", next_update=2100.0, eta="15:30").ok
    first, second = console.incident.updates
    assert (first["t"], first["status"], "next_update" in first) == (300, "investigating", False)
    assert (second["next_update"], second["eta"]) == ("2026-04-20T14:35:00Z", "15:30")
    assert [e["status"] for e in console.events("update.posted")] == ["investigating", "identified"]
    console.at(900)
    assert console.do("dana", "resolve").ok
    assert console.do("dana", "update", status="monitoring", summary="x").reason \
        == "the incident is resolved: the last update has status resolved"
    assert console.do("dana", "update", status="resolved", summary="all clear").ok


def test_mitigations_are_kept_and_refused_once_the_incident_is_over(console):
    declared(console)
    result = console.do("lee", "mitigate", action="rollback", service="api")
    assert result.ok and result.data["effective"] is True
    assert [(m["t"], m["action"], m["by"]) for m in console.incident.mitigations] == [(300, "rollback", "lee")]
    console.at(900)
    console.do("dana", "resolve")
    assert console.do("lee", "mitigate", action="restart", service="api").reason == "the incident is already resolved"


def test_a_closed_incident_takes_no_more_direction(console):
    resolved(console)
    assert console.do("dana", "severity", severity="SEV1").reason == "the incident is already resolved"
    assert console.do("dana", "assign", role="comms", who="sam").reason == "the incident is already resolved"
    assert console.do("dana", "stand_down").reason == "the incident is already resolved"
    assert console.do("dana", "reopen").ok
    assert console.do("dana", "stand_down").ok
    assert console.do("dana", "update", status="investigating", summary="x").reason \
        == "the incident is already stood down"
    assert console.do("dana", "page", teams=["api"]).reason == "the incident is already stood down"


def test_only_the_commander_stands_a_declared_incident_down(console):
    declared(console)
    assert console.do("lee", "stand_down", reason="noise").reason \
        == "only the Incident Commander (dana) can stand the incident down"
    rejected = console.events("action.rejected")[-1]  # the reason lee gave is kept apart from why it failed
    assert (rejected["do"], rejected["fields"]["reason"], rejected["reason"]) == (
        "stand_down", "noise", "only the Incident Commander (dana) can stand the incident down")
    assert console.do("dana", "stand_down", reason="false alarm").ok
    stood = console.events("incident.stood_down")
    assert [(e["by"], e["declared"], e["reason"]) for e in stood] == [("dana", True, "false alarm")]
    console.drill.env.run(until=console.drill.done)
    assert (console.drill.env.now, console.drill.done.value) == (300, "closed")  # it ends at once


def test_before_a_declaration_only_the_paged_on_call_stands_it_down(console):
    console.at(300)
    assert console.do("alex", "stand_down").reason \
        == "only the on-call engineer who was paged can stand it down before a declaration"
    assert console.do("dana", "stand_down", reason="blip").ok
    assert console.events("incident.stood_down")[0]["declared"] is False
    assert console.do("dana", "declare", severity="SEV2").reason == "the alert was already stood down"


def test_whoever_a_page_reached_may_stand_it_down_later(console):
    # P1 went to dana at 225 and escalated to lee at 525; the CPU blip's page P2 goes to dana at 960.
    console.at(1000)
    assert console.do("alex", "stand_down").reason \
        == "only the on-call engineer who was paged can stand it down before a declaration"
    assert console.do("lee", "stand_down", reason="recovered").ok


def test_the_postmortem_may_be_on_the_day_of_resolution_but_not_before_and_only_once(console):
    resolved(console, 400)  # 14:06:40 on 2026-04-20
    assert console.do("alex", "schedule_postmortem", date="2026-04-20").reason \
        == "only the Incident Commander (dana) can schedule the postmortem"
    assert console.do("dana", "schedule_postmortem", date="2026-04-19").reason \
        == "the postmortem date 2026-04-19 is before the incident was resolved (2026-04-20)"
    assert console.do("dana", "schedule_postmortem", date="2026-04-20").ok
    assert console.do("dana", "schedule_postmortem", date="2026-04-22").reason \
        == "the postmortem is already scheduled for 2026-04-20"
    console.drill.env.run(until=console.drill.done)
    assert console.drill.env.now == 400 + 300  # five minutes after booking (not 30 after resolving)


def test_resolving_before_the_postmortem_leaves_time_to_wrap_up(console):
    resolved(console)
    assert console.drill.ends_at == 900 + 1800  # WRAP_UP: the last update and the booking


def two_faults_on_api(write):
    # Two faults on api: "boom" (from 60 s) is found after 6 min, and a second look at api finds
    # more of it after 8 min; "slow" (from 120 s) is found after 2 min.
    # A finding on another service is never what investigating api turns up.
    boom = replace(TINY.faults[0], findings=(Finding("api", 360.0, "Deploy 41 at 14:01", root_cause=True),
                                             Finding("db", 10.0, "db is fine"),
                                             Finding("api", 480.0, "Deploy 41 halved the connection pool")))
    slow = replace(TINY.faults[0], id="slow", at=120.0, duration=None, magnitude={"latency": 2.0},
                   findings=(Finding("api", 120.0, "GC pauses", points_to="db"),))
    return Console(write, replace(TINY, faults=(boom, slow)))


def finish(console, result):
    """Let the investigation run its course; what it found (``None``: nothing, the incident closed)."""
    done, until = result.data
    console.drill.env.run(until=until + 1)
    assert done.triggered
    return done.value


def test_findings_are_revealed_soonest_first_and_only_from_faults_under_way(write):
    c = two_faults_on_api(write)
    c.drill.investigation_factor = lambda name: 2.0  # this investigator takes twice the nominal time
    c.at(90)  # only boom has started
    first = c.do("dana", "investigate", service="api")
    assert first.ok and first.data[1] == 90 + 2 * 360
    assert finish(c, first)["text"] == "Deploy 41 at 14:01"
    c = two_faults_on_api(write)
    c.drill.investigation_factor = lambda name: 1.0
    c.at(200)  # both under way: slow's 2 min finding comes before boom's 6 min one
    first = c.do("dana", "investigate", service="api")
    assert first.data[1] == 200 + 120
    assert finish(c, first) == {
        "by": "dana", "service": "api", "text": "GC pauses", "root_cause": False, "points_to": "db", "suggests": None}
    assert finish(c, c.do("dana", "investigate", service="api"))["text"] == "Deploy 41 at 14:01"
    assert finish(c, c.do("dana", "investigate", service="api"))["text"] == "Deploy 41 halved the connection pool"
    assert [e["text"] for e in c.events("finding")] == ["GC pauses", "Deploy 41 at 14:01",
                                                        "Deploy 41 halved the connection pool"]
    assert [e["service"] for e in c.events("investigation.started")] == ["api", "api", "api"]
    # All found: a look offers each fault's last finding again, neither of them a root cause
    # (boom's last is the connection pool), so the sooner one, slow's, in its 2 min.
    again = c.do("dana", "investigate", service="api")
    assert again.data[1] == c.drill.env.now + 120
    assert finish(c, again)["text"] == "GC pauses"


def test_a_fault_is_found_from_the_second_it_starts_and_ties_go_by_fault_id(write):
    c = two_faults_on_api(write)
    c.drill.investigation_factor = lambda name: 1.0
    c.at(120)  # slow starts now: its 2 min finding comes first
    assert finish(c, c.do("dana", "investigate", service="api"))["text"] == "GC pauses"
    # A third fault, "a-slow", whose finding also takes 2 min: the tie goes to "a-slow" before "slow".
    tied = replace(c.drill.scenario.faults[1], id="a-slow", findings=(Finding("api", 120.0, "Thread pool exhausted"),))
    c = Console(write, replace(c.drill.scenario, faults=(*c.drill.scenario.faults, tied)))
    c.drill.investigation_factor = lambda name: 1.0
    c.at(200)
    assert finish(c, c.do("dana", "investigate", service="api"))["text"] == "Thread pool exhausted"


def test_nothing_found_takes_five_minutes_and_says_so(write):
    c = two_faults_on_api(write)
    c.drill.investigation_factor = lambda name: 1.0
    c.at(30)  # no fault has started
    result = c.do("dana", "investigate", service="api")
    assert result.data[1] == 30 + 300
    assert c.do("dana", "investigate", service="api").reason == "dana is already investigating api"
    assert finish(c, result) == {"by": "dana", "service": "api", "text": "Nothing unusual found on api",
                                 "root_cause": False, "points_to": None, "suggests": None}
    assert c.do("dana", "investigate", service="api").ok  # done: free to look again


def test_an_investigation_that_ends_after_the_incident_closed_finds_nothing(write):
    c = two_faults_on_api(write)
    c.drill.investigation_factor = lambda name: 1.0
    declared(c)
    pending = c.do("lee", "investigate", service="api")
    c.do("dana", "stand_down", reason="drill over")
    assert c.do("lee", "investigate", service="db").reason == "the incident is already stood down"
    assert finish(c, pending) is None and c.events("finding") == []


def test_the_reference_scenario_findings_point_from_symptom_to_cause(write):
    c = Console(write, load_scenario(SCENARIOS / "checkout-config-push.yaml"))
    c.drill.investigation_factor = lambda name: 1.0
    c.at(600)
    look = c.do("dana", "investigate", service="checkout")
    symptom = finish(c, look)
    assert (symptom["points_to"], symptom["root_cause"], look.data[1]) == ("payment-gateway", False, 600 + 240)
    look = c.do("dana", "investigate", service="payment-gateway")  # at 841
    cause = finish(c, look)
    assert (cause["root_cause"], cause["suggests"], look.data[1]) == (True, "rollback", 841 + 360)


def test_asking_someone_to_page_or_look_checks_the_teams_and_service_as_doing_it_does(console):
    declared(console)
    # The teams known: tiny's own (api) and the participants' (dana checkout, lee payments, alex and sam sre).
    assert console.do("dana", "ask", who="lee", task="page", teams=["nosuch"]).reason \
        == "unknown team(s) nosuch (teams: api, checkout, payments, sre)"
    assert console.do("dana", "page", teams=["api"]).ok
    assert console.do("dana", "ask", who="lee", task="page", teams=["api"]).reason == "those teams were already paged"
    assert console.do("dana", "ask", who="lee", task="investigate", service="nosuch").reason \
        == "unknown service 'nosuch' (services: api)"
    assert console.do("dana", "ask", who="lee", task="page", teams=["api", "payments"]).ok
    # What the timeline, the console and the bots call the task: its teams, as asked.
    assert report.describe(console.events("task.asked")[-1]) == "dana asks lee to page api, payments (T1)"
    assert console.do("lee", "page", teams=["api", "payments"]).ok  # on the IC's behalf: only payments is new
    assert [e["teams"] for e in console.events("teams.paged")] == [["api"], ["payments"]]
    assert [(e["id"], e["who"]) for e in console.events("task.done")] == [("T1", "lee")]
    assert console.do("dana", "ask", who="lee", task="mitigate", action="restart", service="api").ok
    assert console.do("lee", "mitigate", action="restart", service="api").ok
    assert console.do("lee", "mitigate", action="restart", service="api").ok  # again: T2 was done the first time
    assert [(e["id"], e["t"]) for e in console.events("task.done")] == [("T1", 300), ("T2", 300)]


def test_a_confirmed_resolve_keeps_the_impact_it_was_confirmed_over_with_no_alert_firing(console):
    # At 100 s api fails 20% (the fault is at full strength from 61 s), far above its impact
    # threshold, but ApiErrors (for: 2m) fires only at 195 s: impact, and nothing firing.
    console.at(100)
    assert console.do("dana", "declare", severity="SEV2", service="api").ok
    assert console.do("dana", "resolve").reason == ("not resolved: customer-facing api still above its impact "
                                                    "threshold; resolve with confirm to resolve anyway")
    assert console.do("dana", "resolve", confirm=True).ok
    resolved = console.events("incident.resolved")[-1]
    assert (resolved["over_firing"], resolved["over_impact"]) == ([], ["api"])


def test_a_warning_on_another_service_does_not_hold_the_resolution_up(write):
    # At 700 s the gateway's config push fails checkout: CheckoutHighErrorRate (critical: it
    # pages) and PaymentGatewayErrors (a warning, on payment-gateway) both fire. The incident is on
    # checkout: only the paging one holds the resolution up (a warning counts only on its service).
    c = Console(write, load_scenario(SCENARIOS / "checkout-config-push.yaml"))
    c.at(700)
    assert sorted(a.rule.name for a in c.drill.monitoring.firing()) == ["CheckoutHighErrorRate", "PaymentGatewayErrors"]
    assert c.do("dana", "ack").ok and c.do("dana", "declare", severity="SEV1").ok
    assert c.do("dana", "resolve").reason == ("not resolved: alerts still firing (CheckoutHighErrorRate) and customer-facing "
                                              "checkout still above its impact threshold; resolve with confirm to resolve anyway")


def test_reopening_calls_off_the_planned_end(console):
    resolved(console, 400)
    assert console.do("dana", "schedule_postmortem", date="2026-04-21").ok  # the drill would end at 400 + 300
    console.at(500)
    assert console.do("dana", "reopen", reason="errors are back").ok
    assert console.do("dana", "reopen", reason="again").reason \
        == "only a resolved (or declared and stood down) incident can be reopened: it is open"
    # Nobody resolves again: the drill runs on to tiny's 20 minute horizon, not 700 s.
    console.drill.env.run(until=console.drill.done)
    assert (console.drill.env.now, console.drill.done.value) == (1200, "horizon")


def one_fault_on_api(write, **state):
    """tiny with one fault on api whose root cause is found after 100 s nominal; ``state``
    sets what its drill drew (``pace``, ``wrong_leads``)."""
    boom = replace(TINY.faults[0], findings=(Finding("api", 100.0, "Deploy 41 at 14:01", root_cause=True),))
    c = Console(write, replace(TINY, faults=(boom,)))
    c.drill.investigation_factor = lambda name: 1.0
    for name, value in state.items():
        setattr(c.drill.world.faults[0], name, value)
    return c


def test_wrong_hypotheses_come_in_turn_at_the_faults_pace_then_the_root_cause(write):
    # Drawn: pace 2 (every finding about boom takes 2 x 100 = 200 s) and two wrong leads.
    c = one_fault_on_api(write, pace=2.0, wrong_leads=["restart", "scale_up"])
    c.at(90)
    found = []
    for started in (90, 291, 492, 693):  # each look starts a second after the one before ends
        assert c.drill.env.now == started
        look = c.do("dana", "investigate", service="api")
        assert look.data[1] == started + 200
        found.append(finish(c, look))
    assert [(f["suggests"], f["root_cause"]) for f in found] == [
        ("restart", False), ("scale_up", False), (None, True), (None, True)]  # found, it stays found
    assert found[0]["text"] == "api looks like it needs a restart: a hypothesis from the dashboards, not confirmed yet"
    assert found[2]["text"] == found[3]["text"] == "Deploy 41 at 14:01"


@pytest.mark.parametrize("faults, looks", [
    # Two faults on api, one finding each: "z-cause" (the root cause, 300 s) and "a-symptom"
    # (120 s). The symptom comes first (sooner), then the cause; a third look finds the
    # cause again, in its own 300 s, though the symptom is quicker and its id sorts first.
    ({"z-cause": (Finding("api", 300.0, "Deploy 41 at 14:01", root_cause=True),),
      "a-symptom": (Finding("api", 120.0, "GC pauses"),)},
     [(120, "GC pauses"), (300, "Deploy 41 at 14:01"), (300, "Deploy 41 at 14:01")]),
    # One fault found through: its root cause (100 s), then what lies behind it (200 s). A third
    # look turns up what was found last about it, in that finding's own 200 s.
    ({"boom": (Finding("api", 100.0, "Deploy 41 at 14:01", root_cause=True),
               Finding("api", 200.0, "Deploy 41 halved the connection pool"))},
     [(100, "Deploy 41 at 14:01"), (200, "Deploy 41 halved the connection pool"),
      (200, "Deploy 41 halved the connection pool")]),
])
def test_looking_again_where_everything_was_found_turns_up_a_finding_again(write, faults, looks):
    c = Console(write, replace(TINY, faults=tuple(replace(TINY.faults[0], id=fault, findings=findings)
                                                  for fault, findings in faults.items())))
    c.drill.investigation_factor = lambda name: 1.0
    c.at(100)
    for took, text in looks:
        start = c.drill.env.now
        look = c.do("dana", "investigate", service="api")
        assert look.data[1] == start + took
        assert finish(c, look)["text"] == text


def test_a_scripted_drill_draws_nothing_findings_take_their_nominal_time(write):
    # A script with actions replays a record: nothing is drawn (docs/model.md), so boom's
    # root cause on api takes its nominal 100 s, though tiny's own dynamics spread paces.
    boom = replace(TINY.faults[0], findings=(Finding("api", 100.0, "Deploy 41 at 14:01", root_cause=True),))
    scenario = replace(TINY, faults=(boom,))
    script = load_script(write("cast.yaml", CAST.replace("actions: []", "actions:\n  - {at: '+15m', by: dana, do: ack}")),
                         scenario.start)
    drill = Drill(scenario, script=script)
    drill.start()
    drill.investigation_factor = lambda name: 1.0
    drill.env.run(until=90)
    look = drill.act(Action("investigate", "dana", {"service": "api"}))
    assert look.data[1] == 90 + 100
