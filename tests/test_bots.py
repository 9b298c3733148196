"""What the simulated responders do, as docs/model.md (Responders) describes them.

Every bot here takes each delay's median (no spread), never misjudges and never lets an
update slip, so each time below is worked out from the defaults: acknowledge 120 s,
look 60 s, assess 90 s, coordinate 45 s, mitigate 120 s, the check interval 60 s.
"""

import math
from dataclasses import replace

import pytest

from sim import load_scenario, run_drill
from sim.inputs.actions import Action
from sim.inputs.config import LogNormal, Person, Process, Profile, load_roster
from sim.model.engine import Drill

from .conftest import SCENARIOS, paused_drill, shop_wide, still, still_file

EXACT = Profile(**{name: LogNormal(getattr(Profile(), name).median)
                   for name in ("ack", "look", "assess", "coordinate", "write_update", "mitigate", "join", "brief")},
                misjudge=0.0, discipline=1.0)

# api breaks at 60 s (errors to about 20 %) until someone rolls it back, and is well again
# 1 s later; its alert fires after a minute past 5 %. The internal batch service runs hot from
# 10 min for an hour: an alert the fix does not clear, which keeps the incident open.
API_AND_BATCH = """
name: api-and-batch
start: 2026-04-20T14:00:00Z
horizon: 2h
services:
  api: {team: api, customer_facing: true, request_rate: 100, error_rate: 0.1%, latency_p99_ms: 200}
  batch: {team: api, request_rate: 10, error_rate: 0.1%, latency_p99_ms: 200}
faults:
  - id: boom
    kind: bad_deploy
    service: api
    at: 60s
    ramp: 1s
    recovery: 1s
    magnitude: {error_rate: 20%}
    findings:
      - {service: api, after: 2m, text: A deploy at 14:01 broke api, root_cause: true, suggests: rollback}
alerts:
  - alert: ApiErrors
    expr: 'error_rate{service="api"} > 0.05'
    for: 1m
    labels: {severity: critical}
  - alert: BatchCPU
    expr: 'cpu{service="batch"} > 0.9'
    for: 1m
    labels: {severity: warning}
noise:
  - {service: batch, metric: cpu, value: 0.95, at: 10m, duration: 1h}
dynamics: {diagnosis_spread: 0, wrong_lead: 0, fix_fails: 0, partial_fix: 0, recovery_spread: 0}
reports: []
truth: {severity: SEV2, teams_needed: [api]}
"""


@pytest.fixture
def api_and_batch(write):
    return load_scenario(write("api-and-batch.yaml", API_AND_BATCH))


def of(events, kind, **fields):
    return [e for e in events if e["kind"] == kind and all(e[k] == v for k, v in fields.items())]

def kim_declares(scenario, *bots, at=100, oncall=True):
    """A drill with kim, a person, and these bots (names, the first the primary on-call unless
    not ``oncall``), in which kim declares a SEV2 on api at ``at`` and so becomes its IC."""
    from sim.inputs.config import Script, ScriptParticipant

    cast = (ScriptParticipant("kim"), ScriptParticipant(bots[0], "primary" if oncall else None, bot=True),
            *(ScriptParticipant(name, bot=True) for name in bots[1:]))
    drill = Drill(scenario, Process(bots=EXACT), script=Script(cast, ()))
    drill.start()
    drill.env.run(until=at)
    assert drill.act(Action("declare", "kim", {"severity": "SEV2", "service": "api"})).ok
    return drill



def test_after_a_fix_that_worked_ops_judges_at_three_minutes_and_digs_again_fifteen_later(api_and_batch):
    events = run_drill(api_and_batch, Process(bots=EXACT)).events
    # api past its 1 % impact threshold, customer-facing but not critical: SEV2, handed to alex.
    declared = of(events, "incident.declared")
    assert [(e["severity"], e["summary"]) for e in declared] == [("SEV2", "api is degraded and customers are affected")]
    assert [e["who"] for e in of(events, "role.assigned", role="ic")] == ["dana", "alex"]
    fix = of(events, "mitigation.applied", by="dana")[0]
    assert fix["faults"] == [{"fault": "boom", "outcome": "fixed", "returns_in": None}]
    # Judged from api's dashboard three minutes after the rollback: back at its usual 0.1 %.
    judged = [e for e in of(events, "dashboard.viewed", by="dana") if e["t"] > fix["t"]][0]
    assert (judged["t"] - fix["t"], judged["service"], judged["metrics"]["error_rate"]) == (180, "api", 0.001)
    # It helped and api looks normal: ops waits 15 minutes to see before digging again,
    # although batch's alert (which the fix did not touch) keeps firing all along.
    again = [e for e in of(events, "investigation.started", by="dana") if e["t"] > fix["t"]][0]
    assert again["t"] - fix["t"] == 180 + 900
    # api then tells her what she knew (nothing new: done with it) and batch shows nothing
    # unusual: with no lead left she starts over with api a check interval (60 s) later.
    dug = [(e["t"], e["service"]) for e in of(events, "investigation.started", by="dana") if e["t"] >= again["t"]]
    found = [(e["t"], e["service"], e["text"]) for e in of(events, "finding", by="dana") if e["t"] > again["t"]]
    assert [(s, text) for _, s, text in found[:2]] == [("api", "A deploy at 14:01 broke api"),
                                                     ("batch", "Nothing unusual found on batch")]
    assert dug[:3] == [(again["t"], "api"), (found[0][0], "batch"), (found[1][0] + 60, "api")]


def test_an_unreachable_primary_never_answers_and_the_secondary_acknowledges_the_escalated_page(api_and_batch):
    scenario = replace(api_and_batch, unreachable=("primary",))
    events = run_drill(scenario, Process(bots=EXACT)).events
    # ApiErrors fires at 135 s (pending from the 75 s scrape, for 1 min) and pages dana at
    # 165 s (group_wait 30 s); unanswered, it escalates to lee after the 5-minute timeout,
    # who acknowledges 120 s later.
    assert [(e["t"], e["to"]) for e in of(events, "page.sent")][:1] == [(165, "dana")]
    assert [(e["t"], e["to"]) for e in of(events, "page.escalated", page="P1")] == [(465, "lee")]
    assert [(e["t"], e["page"], e["by"]) for e in of(events, "page.acked")][:1] == [(585, "P1", "lee")]
    assert of(events, "page.acked", by="dana") == []


def test_a_page_reaching_the_on_call_while_their_incident_is_open_leaves_them_at_it(api_and_batch):
    events = run_drill(api_and_batch, Process(bots=EXACT)).events
    # dana declared at 435 s and works the incident; batch's page reaches her at 690 s (its
    # alert fires at 660 s, group_wait 30 s). Noticing a low-urgency page takes ten times
    # 120 s, and by then she is in the incident: that page's on-call duty does not start.
    assert [(e["t"], e["by"]) for e in of(events, "incident.declared")] == [(435, "dana")]
    assert [(e["t"], e["to"], e["urgency"]) for e in of(events, "page.sent", page="P2")] == [(690, "dana", "low")]
    assert of(events, "page.acked", page="P2") == []


@pytest.fixture
def only_batch(api_and_batch):
    """No fault: only batch's hot CPU, which pages (low urgency) at 690 s and shows no impact."""
    return replace(api_and_batch, faults=())


def test_an_on_call_in_doubt_looks_at_the_paged_service_and_declares_the_first_level_without_roles(only_batch):
    events = run_drill(only_batch, Process(bots=EXACT)).events
    # Noticed at 690 + 10 x 120 s (a low-urgency page); the dashboards 60 s later are batch's
    # alone, not the customer-facing api's. Batch's errors and latency are as usual: in doubt,
    # dana declares after assessing (90 s) at the first level without the full process.
    assert [(e["t"], e["by"]) for e in of(events, "page.acked")] == [(1890, "dana")]
    assert [e["service"] for e in of(events, "dashboard.viewed") if e["t"] == 1950] == ["batch"]
    declared = of(events, "incident.declared")
    assert [(e["t"], e["severity"], e["service"], e["summary"]) for e in declared] == [
        (2040, "SEV3", "batch", "Alerts on batch; customer impact not confirmed yet")]
    # SEV3 needs no roles: with nobody come to play IC, the declarer keeps it.
    assert [e["who"] for e in of(events, "role.assigned", role="ic")] == ["dana"]
    # She also digs (batch from 2085 s). One thing at a time: her IC's look, due at 2280 s (a
    # look ending 2220 s, then the check interval), waits for that investigation's finding.
    found = of(events, "finding", by="dana")[0]["t"]
    assert 2280 < found
    assert [e["t"] for e in of(events, "dashboard.viewed", by="dana") if 2220 < e["t"] <= found + 60] == [found + 60]


def test_an_on_call_who_does_not_declare_in_doubt_watches_for_the_doubt_window_then_declares(only_batch):
    process = Process(bots=replace(EXACT, doubt_window=570.0), declare_when_in_doubt=False)
    events = run_drill(only_batch, process).events
    # Acknowledged at 1890 s; each round is a look (60 s), an assessment (90 s) and a check
    # interval (60 s): looks at 1950, 2160 and 2370 s, the third assessment ending at 2460 s,
    # 570 s after the acknowledgement: the doubt window, up to which dana keeps watching.
    assert [e["t"] for e in of(events, "dashboard.viewed", by="dana") if e["t"] < 2460] == [1950, 2160, 2370]
    assert [(e["t"], e["severity"]) for e in of(events, "incident.declared")] == [(2460, "SEV3")]


def test_an_on_call_who_finds_the_incident_declared_after_assessing_leaves_it_to_its_ic(api_and_batch):
    drill = Drill(api_and_batch, Process(bots=EXACT))
    drill.start()
    # dana acknowledged at 285 s and is assessing (345 to 435 s) when lee declares.
    drill.env.run(until=400)
    assert drill.act(Action("declare", "lee", {"severity": "SEV2", "service": "api"})).ok
    drill.env.run(until=700)
    events = drill.log.events
    # She neither declares over lee nor starts digging on her own: she investigates once the
    # IC (alex, handed IC at 445 s) names her Operations Lead, after assigning comms (45 s each).
    assert of(events, "action.rejected") == []
    assert [(e["t"], e["who"]) for e in of(events, "role.assigned", role="ops")] == [(535, "dana")]
    assert of(events, "investigation.started", by="dana")[0]["t"] == 535


def test_an_alert_that_cleared_before_the_on_call_looked_is_stood_down(write):
    # batch's CPU alert, paging at high urgency, runs hot for 2 min only: firing at 660 s,
    # paging at 690 s, resolved at 720 s. Its page is not resolved yet when dana has assessed
    # (acknowledged 810 s, looked 870 s, assessed 960 s; Alertmanager tells of the resolution
    # at the group's next interval, 5 min after 690 s), but the alert list is clear and batch
    # looks as usual: she stands it down, rather than declaring in doubt.
    text = API_AND_BATCH.replace("duration: 1h", "duration: 2m").replace("{severity: warning}", "{severity: critical}")
    scenario = replace(load_scenario(write("blip.yaml", text)), faults=())
    events = run_drill(scenario, Process(bots=EXACT)).events
    assert [(e["t"], e["alert"]) for e in of(events, "alert.resolved")] == [(720, "BatchCPU")]
    assert of(events, "incident.declared") == []
    assert [(e["t"], e["by"], e["reason"]) for e in of(events, "incident.stood_down")] == [
        (960, "dana", "The alert cleared by itself; dashboards show no customer impact")]


def test_the_ic_staffs_the_roles_pages_the_team_watches_and_resolves_once_calm(api_and_batch):
    events = run_drill(api_and_batch, Process(bots=EXACT)).events
    # dana declares SEV2 at 435 s (acknowledged 285 s, looked 345 s, assessed 435 s) and hands
    # IC to alex, who gives comms to sam and ops to the on-call dana, then pages api's team:
    # 45 s of coordinating each.
    assert [(e["t"], e["by"], e["role"], e["who"]) for e in of(events, "role.assigned")] == [
        (435, "dana", "ic", "dana"), (435, "dana", "ic", "alex"), (480, "alex", "comms", "sam"),
        (525, "alex", "ops", "dana")]
    assert [(e["t"], e["teams"]) for e in of(events, "teams.paged")] == [(570, ["api"])]
    # Someone of api's team (a stand-in bot) joins after `join`, 300 s.
    assert [(e["t"], e["who"], e["team"]) for e in of(events, "responder.joined")] == [(870, "api-oncall", "api")]
    # alex briefs them (60 s, to 930 s); the newcomer then waits for what alex has in hand (his
    # next look, to 990 s) and takes a look of their own: on api's dashboard at 1050 s.
    assert [e["t"] for e in of(events, "dashboard.viewed", by="api-oncall", service="api")][:1] == [1050]
    # api looks well again by then, but dana's finding implicated it: that is where they dig.
    assert [(e["t"], e["service"]) for e in of(events, "investigation.started", by="api-oncall")][:1] == [(1050, "api")]
    # Then a look (60 s) every check interval (60 s): 630, 750, 870 s ...
    assert [e["t"] for e in of(events, "dashboard.viewed", by="alex", service="api")][:3] == [630, 750, 870]
    # batch's alert resolves at 4200 s; alex's first look with nothing firing is at 4230 s,
    # and everything has looked normal for stable_for (300 s) at his look at 4590 s. The
    # postmortem (45 s later) is booked 3 business days after Monday 20 April.
    assert [(e["t"], e["by"]) for e in of(events, "incident.resolved")] == [(4590, "alex")]
    assert [(e["t"], e["date"]) for e in of(events, "postmortem.scheduled")] == [(4635, "2026-04-23")]
    # What the updates say follows the channel: the root cause found (dana's finding at 529.4 s)
    # before the first, the rollback applied (649.4 s) before the next internal one.
    first, *later = [e for e in of(events, "update.posted", audience="internal") if e["status"] != "resolved"]
    assert (first["t"], first["status"], first["summary"]) == (
        555, "identified", "SEV2 on api. Known: A deploy at 14:01 broke api. Doing: Investigating.")
    assert (later[0]["status"], later[0]["summary"]) == (
        "mitigating", "SEV2 on api. Known: A deploy at 14:01 broke api. Doing: Applied rollback on api.")
    # sam closes each audience that had updates, internal then public, 150 s of writing each.
    closing = [(e["t"], e["audience"]) for e in of(events, "update.posted", status="resolved")]
    assert closing == [(4740, "internal"), (4890, "public")]
    assert of(events, "action.rejected") == []


def test_an_on_call_ic_raised_into_the_full_process_hands_ic_over_and_digs_at_once(api_and_batch):
    drill = Drill(api_and_batch, Process(bots=EXACT))
    drill.start()
    drill.env.run(until=200)
    # Someone else declares SEV3 before dana has acknowledged, and makes her IC: she never ran
    # her on-call duty to the end, so nothing has her investigating yet.
    assert drill.act(Action("declare", "lee", {"severity": "SEV3", "service": "api"})).ok
    assert drill.act(Action("assign", "lee", {"role": "ic", "who": "dana"})).ok
    drill.env.run(until=700)
    events = drill.log.events
    # As IC she pages api's team (200 to 245 s), writes the first update (a summary, 75 s, to
    # 320 s), looks (to 380 s) and raises to SEV2; the status page SEV2 brings gets its summary
    # (to 455 s) before the handover (45 s): IC to alex at 500 s. As at a declaration she starts on api at once,
    # not when alex names her Operations Lead (at 590 s, after comms at 545 s).
    assert [(e["t"], e["to"]) for e in of(events, "severity.changed")] == [(380, "SEV2")]
    assert [(e["t"], e["who"]) for e in of(events, "role.assigned", by="dana")] == [(500, "alex")]
    assert [(e["t"], e["who"]) for e in of(events, "role.assigned", role="ops")] == [(590, "dana")]
    assert of(events, "investigation.started", by="dana")[0]["t"] == 500


def test_a_person_seated_for_comms_gets_it_at_a_severity_that_needs_no_roles(only_batch):
    events = run_drill(only_batch, Process(bots=EXACT), seats={"comms": "sam"}).events
    # SEV3 at 2040 s needs no roles, but sam came to play comms (a quarter plan's seat): the IC
    # hands it over (45 s), and sam's first internal update is a summary (75 s). Nobody came
    # for ops: that stays with the IC's own digging.
    assert [(e["t"], e["role"], e["who"]) for e in of(events, "role.assigned")] == [
        (2040, "ic", "dana"), (2085, "comms", "sam")]
    assert [(e["t"], e["by"], e["audience"]) for e in of(events, "update.posted")][:1] == [(2160, "sam", "internal")]


def test_a_shop_wide_alert_still_firing_is_declared_in_doubt_not_stood_down(write):
    # api's errors rise to 1 - 0.999 x 0.998 = 0.2998 %, below degraded (3 x 0.1 % + 0.1 %),
    # but over the shop-wide ratio's 0.2 % (a rule without a service label), which pages dana
    # at 225 s. Its alert is not among the services' alerts, so only its page tells whether it
    # cleared: unresolved, so dana, seeing nothing on api, declares in doubt (acknowledged
    # 345 s, looked 405 s, assessed 495 s).
    scenario = load_scenario(write("slight.yaml", API_AND_BATCH.replace("error_rate: 20%", "error_rate: 0.2%")))
    events = run_drill(shop_wide(scenario, write, 0.002), Process(bots=EXACT)).events
    assert [(e["t"], e["service"]) for e in of(events, "page.sent")] == [(225, "")]
    assert [e["metrics"]["error_rate"] for e in of(events, "dashboard.viewed", by="dana")][:1] == [0.002998]
    assert [(e["t"], e["severity"], e["service"]) for e in of(events, "incident.declared")] == [(495, "SEV3", "api")]
    # the alert fires to the end (nothing rolls the deploy back): the IC never stands it down as
    # cleared by itself (it did at 1080 s when only alerts about a service counted)
    assert of(events, "alert.resolved") == [] and of(events, "incident.stood_down") == []


def test_without_dedicated_comms_the_ic_keeps_comms_and_hands_out_ops(api_and_batch):
    events = run_drill(api_and_batch, Process(bots=EXACT, dedicated_comms=False)).events
    assert [(e["t"], e["role"], e["who"]) for e in of(events, "role.assigned", by="alex")] == [
        (480, "comms", "alex"), (525, "ops", "dana")]
    assert {e["by"] for e in of(events, "update.posted")} == {"alex"}


def test_with_nobody_free_for_comms_the_ic_writes_the_updates_and_staffs_ops_at_once(api_and_batch):
    process = Process(bots=EXACT)
    roster = load_roster(None, process)
    roster = replace(roster, people=tuple(p for p in roster.people if p.name != "sam"))
    events = run_drill(api_and_batch, process, roster=roster).events
    # alex (IC) is the only one trained for comms left: no comms, no time spent asking for
    # one; ops goes to dana 45 s after the handover, and alex writes the updates himself.
    assert [(e["t"], e["role"], e["who"]) for e in of(events, "role.assigned", by="alex")] == [(480, "ops", "dana")]
    assert {e["by"] for e in of(events, "update.posted")} == {"alex"}
    assert of(events, "action.rejected") == []


def test_an_ic_who_saw_impact_resolves_an_incident_that_healed_without_a_fix(write):
    # api's fault ends by itself at 660 s and nothing suggests a fix; alex saw api past its
    # threshold at his first look (630 s). Calm from his look at 4230 s (batch's alert
    # resolved at 4200 s), for stable_for: resolved at 4590 s, not stood down.
    text = API_AND_BATCH.replace("ramp: 1s", "ramp: 1s\n    duration: 10m").replace(", suggests: rollback", "")
    events = run_drill(load_scenario(write("heals.yaml", text)), Process(bots=EXACT)).events
    assert of(events, "mitigation.applied") == []
    assert [e["metrics"]["error_rate"] for e in of(events, "dashboard.viewed", by="alex")][:1] == [0.2008]
    assert [(e["t"], e["by"]) for e in of(events, "incident.resolved")] == [(4590, "alex")]
    assert of(events, "incident.stood_down") == []


def test_an_ic_who_never_saw_impact_stands_a_quiet_incident_down(only_batch):
    result = run_drill(only_batch, Process(bots=EXACT))
    events = result.events
    # Her one update (the summary, at 2160 s: half of 150 s) is all she wrote: no closing one.
    assert [e["t"] for e in of(events, "update.posted")] == [2160]
    assert next(p for p in result.participants if p["name"] == "dana")["worked"]["write"] == 75
    # dana declared SEV3 in doubt on batch's hot CPU, which harms nobody; once its alert is
    # gone and batch has looked normal for stable_for, she stands it down.
    assert of(events, "incident.resolved") == []
    stood = of(events, "incident.stood_down")
    assert [(e["by"], e["reason"]) for e in stood] == [("dana", "No customer impact; the alerts cleared by themselves")]
    # At the first of her looks that has seen batch normal, with nothing firing, for stable_for
    # (looks 120 s apart by then: exactly stable_for, 360 s, is enough too).
    for stable_for in (300.0, 360.0):
        events = run_drill(only_batch, Process(bots=replace(EXACT, stable_for=stable_for))).events
        calm = [e["t"] for e in of(events, "dashboard.viewed", by="dana") if e["t"] > 4200]
        stood = of(events, "incident.stood_down")
        assert stood[0]["t"] == next(t for t in calm if t - calm[0] >= stable_for)


def test_a_degraded_service_under_its_threshold_is_no_impact_to_stand_down_for(write):
    # api at 1 - 0.999 x 0.995 = 0.5995 % errors for 10 min: degraded (over 3 x 0.1 % + 0.1 %)
    # but under its 1 % impact threshold: SEV3, as dana saw it, and she saw no more as IC at
    # 615 s. Customers were not impacted (docs/model.md), so once calm she stands it down.
    text = (API_AND_BATCH.replace("ramp: 1s", "ramp: 1s\n    duration: 10m").replace(", suggests: rollback", "")
            .replace("error_rate: 20%", "error_rate: 0.5%").replace("> 0.05'", "> 0.004'"))
    events = run_drill(load_scenario(write("degraded.yaml", text)), Process(bots=EXACT)).events
    assert [(e["t"], e["severity"]) for e in of(events, "incident.declared")] == [(435, "SEV3")]
    looked = [e for e in of(events, "dashboard.viewed", by="dana", service="api") if e["t"] == 615]
    assert [e["metrics"]["error_rate"] for e in looked] == [0.005995]
    assert of(events, "incident.resolved") == []
    stood = [e["reason"] for e in of(events, "incident.stood_down")]
    assert stood == ["No customer impact; the alerts cleared by themselves"]


def test_an_ic_resolves_after_looking_normal_for_exactly_stable_for(api_and_batch):
    # As in the IC test above, calm from 4230 s and looking every 120 s: with stable_for 360 s
    # the look at 4590 s has seen it calm for exactly that long, which is enough.
    events = run_drill(api_and_batch, Process(bots=replace(EXACT, stable_for=360.0))).events
    assert [(e["t"], e["by"]) for e in of(events, "incident.resolved")] == [(4590, "alex")]


def test_an_ic_resolves_as_judged_on_the_dashboards_even_over_impact_nobody_alerts_on(write):
    # A second customer-facing service, web, starts failing at 30 min, with no alert on it:
    # nobody looks at it. alex resolves api's incident when it has looked calm for stable_for,
    # as in the IC test above (4590 s), and the log keeps what was still wrong.
    text = API_AND_BATCH.replace("  batch: {", "  web: {team: web, customer_facing: true, request_rate: 10, "
                                 "error_rate: 0.1%, latency_p99_ms: 200}\n  batch: {").replace("alerts:\n", """\
  - {id: quiet, kind: bad_deploy, service: web, at: 30m, ramp: 1s, magnitude: {error_rate: 20%}}
alerts:
""")
    events = run_drill(load_scenario(write("web.yaml", text)), Process(bots=EXACT)).events
    assert [(e["t"], e["by"], e["over_impact"]) for e in of(events, "incident.resolved")] == [(4590, "alex", ["web"])]
    assert of(events, "action.rejected") == []


@pytest.fixture
def writing_public(api_and_batch):
    """The drill at 600 s: sam posted the internal summary at 555 s and is writing the status
    page's (a summary, 75 s, until 630 s); alex is IC."""
    drill = Drill(api_and_batch, Process(bots=EXACT))
    drill.start()
    drill.env.run(until=600)
    assert [(e["t"], e["audience"]) for e in of(drill.log.events, "update.posted")] == [(555, "internal")]
    return drill


def test_an_update_for_an_audience_the_severity_no_longer_has_is_not_posted(writing_public):
    # Lowered to SEV3 (no status page) while sam writes; alex raises it again at his look at 630 s.
    assert writing_public.act(Action("severity", "alex", {"severity": "SEV3", "reason": "smaller"})).ok
    writing_public.env.run(until=700)
    assert [(e["t"], e["audience"]) for e in of(writing_public.log.events, "update.posted")] == [(555, "internal")]


def test_an_update_being_written_when_the_incident_resolves_gives_way_to_the_closing_one(writing_public):
    assert writing_public.act(Action("resolve", "alex", {"summary": "fixed", "confirm": True})).ok
    writing_public.env.run(until=1200)
    # The status page never had an update, so only the channel gets the closing one: 150 s of
    # writing after the write in hand, which ends at 630 s.
    posted = [(e["t"], e["audience"], e["status"]) for e in of(writing_public.log.events, "update.posted")]
    assert posted == [(555, "internal", "identified"), (780, "internal", "resolved")]
    # api's team, paged at 570 s, would have joined at 870 s: nobody joins a closed incident.
    assert of(writing_public.log.events, "responder.joined") == []
    # dana was readying the rollback (from 529.4 s, 120 s): she does not apply it to a closed incident.
    assert of(writing_public.log.events, "mitigation.applied") == []
    assert of(writing_public.log.events, "action.rejected") == []


@pytest.fixture
def hot_batch_all_along(write):
    text = API_AND_BATCH.replace("duration: 1h", "duration: 4h").replace("horizon: 2h", "horizon: 4h")
    return replace(load_scenario(write("long.yaml", text)), faults=())


def test_a_comms_lead_posts_each_next_update_a_median_write_ahead_of_the_cadence(hot_batch_all_along):
    # batch runs hot from 10 min to the end (4 h): SEV3 in doubt at 2040 s, sam seated for comms at 2085 s, the
    # first internal update a summary (75 s) at 2160 s. SEV3's cadence is exactly an hour; the
    # next is aimed at 2160 + 3600 - 150 s (a median write early), so sam starts writing 150 s
    # before that, in full this time: posted at 5610 s.
    scenario = hot_batch_all_along
    events = run_drill(scenario, Process(bots=EXACT), seats={"comms": "sam"}).events
    assert [(e["t"], e["by"]) for e in of(events, "update.posted", audience="internal")][:2] == [
        (2160, "sam"), (5610, "sam")]
    # Without discipline every update slips, by about half the longest cadence (1800 s, times a
    # log-normal spread of sigma 0.5: within three sigmas): later, never sooner.
    events = run_drill(scenario, Process(bots=replace(EXACT, discipline=0.0)), seats={"comms": "sam"}).events
    second = of(events, "update.posted", audience="internal")[1]["t"]
    assert 1800 * math.exp(-1.5) < second - 5610 < 1800 * math.exp(1.5)


def test_a_responder_leaves_a_service_to_whoever_is_already_investigating_it():
    scenario = still(load_scenario(SCENARIOS / "bad-deploy-rollback.yaml"))
    events = run_drill(scenario, Process(bots=EXACT)).events
    # search's on-call joins at 1200 s and is ready (briefed, looked) at 1380 s, while dana is
    # back on search (since 1301.11 s, after judging her rollback) until her finding at 1584.931 s:
    # they check back every 60 s and start at the first check after it, 1620 s.
    dana = [e["t"] for e in of(events, "investigation.started", by="dana", service="search")]
    found = [e["t"] for e in of(events, "finding", by="dana", service="search")]
    assert (dana[1], found[1]) == (1301.11, 1584.931)
    assert [e["t"] for e in of(events, "investigation.started", by="search-oncall")][:1] == [1620]


def test_the_time_each_responder_spent_investigating_is_the_sum_of_their_investigations(api_and_batch):
    result = run_drill(api_and_batch, Process(bots=EXACT))
    worked = {p["name"]: p["worked"] for p in result.participants}
    for who in ("dana", "api-oncall"):
        started = of(result.events, "investigation.started", by=who)
        found = of(result.events, "finding", by=who)
        # Each investigation runs from its start to its finding; none is cut short by the close.
        assert len(started) == len(found) > 0
        spent = sum(f["t"] - s["t"] for s, f in zip(started, found))
        assert worked[who]["investigate"] == pytest.approx(round(spent, 1), abs=0.051)


def test_a_check_back_just_before_an_update_is_due_does_not_bring_it_forward(hot_batch_all_along):
    # As above: sam is due to start writing the next internal update at 5460 s, 3300 s after
    # the first. Checking back every 65.99 s, the last check before that falls at 5459.5 s (50
    # checks); a change of roles (dana, IC, hands ops to lee) before it wakes sam there, half a
    # second early: sam checks back once more, and starts writing at 5460 s all the same.
    drill = Drill(hot_batch_all_along, Process(bots=replace(EXACT, check_interval=65.99)), seats={"comms": "sam"})
    drill.start()
    drill.env.run(until=5400)
    assert drill.act(Action("assign", "dana", {"role": "ops", "who": "lee"})).ok
    drill.env.run(until=5700)
    assert [e["t"] for e in of(drill.log.events, "update.posted", audience="internal")] == [2160, 5610]


def test_a_raised_severity_brings_the_status_page_in_at_the_writers_next_check(only_batch):
    # sam (seated for comms at SEV3) posts the internal summary at 2160 s and checks back every
    # 60 s. dana raises to SEV2 at 2200.5 s, which brings the status page: sam takes it up at the
    # next check, 2220 s, and posts its summary (75 s) at 2295 s.
    drill = Drill(only_batch, Process(bots=EXACT), seats={"comms": "sam"})
    drill.start()
    drill.env.run(until=2200.5)
    assert drill.act(Action("severity", "dana", {"severity": "SEV2", "reason": "worse"})).ok
    drill.env.run(until=2400)
    assert [(e["t"], e["audience"]) for e in of(drill.log.events, "update.posted")][:2] == [
        (2160, "internal"), (2295, "public")]


def test_a_stakeholders_question_gets_an_update_half_a_write_later_unless_the_incident_closes(api_and_batch):
    for resolve_at in (1030, None):
        drill = Drill(api_and_batch, Process(bots=EXACT))
        drill.start()
        drill.env.run(until=1000)
        before = len(of(drill.log.events, "update.posted"))
        drill.log.emit("stakeholder.asked", who="vp", question="When is api back?")
        if resolve_at:
            drill.env.run(until=resolve_at)
            assert drill.act(Action("resolve", "alex", {"summary": "fixed", "confirm": True})).ok
        drill.env.run(until=1100)
        # sam, idle at 1000 s, answers in the channel after half an update's writing (75 s); once
        # resolved, the closing updates come after that writing (from 1075 s, 150 s each).
        answers = [(e["t"], e["by"], e["audience"]) for e in of(drill.log.events, "update.posted")[before:]]
        assert answers == ([] if resolve_at else [(1075, "sam", "internal")])
    # It promises the next one within SEV2's shortest cadence, 30 min: 14:00 + 1075 s + 1800 s.
    assert of(drill.log.events, "update.posted")[before]["next_update"] == "2026-04-20T14:47:55Z"


@pytest.mark.parametrize("asks_alex", [False, True])
def test_a_bot_proposes_a_fix_to_a_person_ic_and_applies_it_when_no_call_comes(tmp_path, asks_alex):
    # The reference story with kim (a person) as IC (from 696.405 s), who says nothing all along,
    # or only asks alex to page payments: a task for alex directs alex, not dana.
    (tmp_path / "live").mkdir()
    live = paused_drill(tmp_path / "live", still_file(tmp_path), seed=1, players=[{"name": "kim", "as": "ic"}])
    live.advance(until=700)
    assert live.drill.incident.roles["ic"] == "kim"
    if asks_alex:
        assert live.act({"do": "ask", "by": "kim", "who": "alex", "task": "page", "teams": ["payments"]}).ok
    live.advance(until=3000)
    events = live.drill.log.events
    said = [(e["t"], e["text"]) for e in of(events, "channel.message", by="dana")]
    proposed, applying = said[0][0], said[1][0]
    assert [text for _, text in said[:2]] == [
        "The finding on payment-gateway suggests rollback of payment-gateway. Your call, IC: ask dana mitigate "
        "rollback payment-gateway, or ask me something else. Without a call I apply it in 5 min.",
        "No call from the IC: applying rollback of payment-gateway."]
    # DECISION_WAIT, 5 min, then the rollback is readied and applied.
    assert applying - proposed == pytest.approx(300)
    applied = of(events, "mitigation.applied", by="dana")
    assert [(e["action"], e["service"]) for e in applied][:1] == [("rollback", "payment-gateway")]
    assert applied[0]["t"] > applying


def test_a_bot_whose_person_ic_answers_the_proposal_does_as_asked_and_never_says_no_call_came(tmp_path):
    (tmp_path / "live").mkdir()
    live = paused_drill(tmp_path / "live", still_file(tmp_path), seed=1, players=[{"name": "kim", "as": "ic"}])
    live.advance(until=1300)  # dana proposed the rollback at 1241.212 s (as above)
    assert [e["t"] for e in of(live.drill.log.events, "channel.message", by="dana")] == [1241.212]
    assert live.act({"do": "ask", "by": "kim", "who": "dana", "task": "mitigate", "action": "rollback",
                     "service": "payment-gateway"}).ok
    live.advance(until=3000)
    said = [(e["t"], e["text"]) for e in of(live.drill.log.events, "channel.message", by="dana")]
    assert not [text for _, text in said if text.startswith("No call from the IC")]
    # Free when asked, she confirms without an "after what I am on", and reports back when she
    # has judged the rollback, 3 min after applying it (15:04, checkout at 15 % errors before).
    applied = of(live.drill.log.events, "mitigation.applied")[0]["t"]
    assert said[1][1] == "On it (T1): apply rollback to payment-gateway."
    assert said[2][0] == applied + 180
    # ... and checkout's error rate now, as the dashboard she looked at then shows it.
    now = [e["metrics"]["error_rate"] for e in of(live.drill.log.events, "dashboard.viewed", by="dana",
                                                  service="checkout") if e["t"] == said[2][0]]
    assert said[2][1] == (f"T1 done: rollback of payment-gateway applied at 15:04; "
                          f"checkout error rate 15.0 % then, {100 * now[0]:.1f} % now.")
    # Once, as asked: not a second time on her own.
    assert [e["by"] for e in of(live.drill.log.events, "mitigation.applied")] == ["dana"]
    # Asked later what she is on: nothing in hand, only the fix she applied (and so no "No ETA").
    assert live.act({"do": "say", "by": "kim", "text": "@dana where are we?"}).ok
    live.advance(until=3300)
    answer = [e["text"] for e in of(live.drill.log.events, "channel.message", by="dana") if e["t"] > 3000]
    assert answer == ["Applied rollback of payment-gateway at 15:04."]


def test_the_on_calls_snap_call_may_be_a_level_off_the_ics_reassessment_is_not(api_and_batch):
    # Always misjudging: with seed 1 dana's snap call is a level low, SEV3 for api past its
    # threshold. She stays IC (SEV3 has no roles): pages the team (45 s), writes the summary
    # (75 s), looks (60 s) and, judging with more to go on, raises to SEV2 at 615 s.
    events = run_drill(api_and_batch, Process(bots=replace(EXACT, misjudge=1.0)), seed=1).events
    assert [(e["t"], e["severity"]) for e in of(events, "incident.declared")] == [(435, "SEV3")]
    assert [(e["t"], e["by"], e["to"]) for e in of(events, "severity.changed")] == [(615, "dana", "SEV2")]


@pytest.mark.parametrize("error_rate, p99, degraded", [
    (0.004, 200, False), (0.0041, 200, True),  # errors: past 3 x 0.1 % + 0.1 point
    (0.001, 300, False), (0.001, 301, True),  # p99: past 1.5 x 200 ms
])
def test_a_dashboard_looks_degraded_past_three_times_the_usual_errors_or_half_again_the_p99(
        api_and_batch, error_rate, p99, degraded):
    assert api_and_batch.services["api"].degraded(error_rate, p99) is degraded


class _Off:
    """A bot's dice: a draw of one half (a misjudgment at ``misjudge`` 1, none at 0), off by the
    ``pick``-th of (one level higher, one lower)."""

    def __init__(self, pick):
        self.pick = pick

    def random(self):
        return 0.5

    def choice(self, options):
        return options[self.pick]


def judge(drill, seen, misjudge=0.0, pick=0):
    from sim.model.engine import Participant
    from sim.model.participants.bots import assess

    me = Participant(Person("judge", profile=replace(EXACT, misjudge=misjudge)), True, _Off(pick))
    return assess(drill, me, {name: {"error_rate": e, "latency_p99_ms": p99} for name, (e, p99) in seen.items()})


NORMAL, DEGRADED, BREACHED = (0.001, 200), (0.005, 200), (0.5, 200)  # against api's and batch's 0.1 %, 200 ms


@pytest.mark.parametrize("seen, misjudge, pick, severity", [
    ({"batch": BREACHED}, 0.0, 0, "SEV4"),  # an internal service past its threshold
    ({"batch": BREACHED}, 1.0, 0, "SEV3"),  # ... a level off, and the only way off is up
    ({"batch": BREACHED}, 1.0, 1, "SEV4"),  # ... not past the last level
    ({"api": BREACHED}, 1.0, 0, "SEV1"),  # a customer-facing one, a level higher
    ({"batch": DEGRADED}, 0.0, 0, None),  # internal and under its threshold: no visible impact
    ({"api": DEGRADED, "batch": NORMAL}, 0.0, 0, "SEV3"),
])
def test_the_on_calls_call_follows_the_impact_and_a_misjudged_one_is_a_level_off(api_and_batch, seen, misjudge, pick,
                                                                                   severity):
    assert judge(Drill(api_and_batch, Process(bots=EXACT)), seen, misjudge, pick) == severity


def test_several_alerting_services_with_one_degraded_dashboard_are_a_sev3(api_and_batch):
    from sim.inputs.config import Script

    # Nobody responds: api breaks at 60 s and batch runs hot from 10 min, each alert firing a minute later.
    drill = Drill(api_and_batch, script=Script((), ()))
    drill.start()
    drill.env.run(until=300)
    assert judge(drill, {"batch": DEGRADED, "api": NORMAL}) is None  # one alerting service
    drill.env.run(until=720)
    assert {a.rule.name for a in drill.monitoring.firing()} == {"ApiErrors", "BatchCPU"}
    assert judge(drill, {"batch": DEGRADED, "api": NORMAL}) == "SEV3"
    assert judge(drill, {"batch": NORMAL, "api": NORMAL}) is None  # nothing to see


SHOP = """
name: shop
start: 2026-04-20T14:00:00Z
horizon: 1h
services:
  web: {team: web, customer_facing: true, request_rate: 100, error_rate: 0.1%, latency_p99_ms: 200}
  db: {team: db, request_rate: 100, error_rate: 0.1%, latency_p99_ms: 20}
  cache: {team: cache, request_rate: 100, error_rate: 0.1%, latency_p99_ms: 5}
  batch: {team: batch, request_rate: 10, error_rate: 0.1%, latency_p99_ms: 200}
  auth: {team: auth, request_rate: 100, error_rate: 0.1%, latency_p99_ms: 50}
faults:
  - id: pool
    kind: database_overload
    service: web
    at: 60s
    ramp: 1s
    magnitude: {error_rate: 20%}
    findings:
      - {service: db, after: 1m, text: The db connection pool is exhausted, root_cause: true}
      - {service: cache, after: 1m, text: Cache misses send every read to db, points_to: db}
alerts:
  - alert: WebErrors
    expr: 'error_rate{service="web"} > 0.05'
    for: 1m
  - {alert: BatchCPU, expr: 'cpu{service="batch"} > 0.9', for: 1m}
  - {alert: AuthCPU, expr: 'cpu{service="auth"} > 0.9', for: 1m}
noise:
  - {service: batch, metric: cpu, value: 0.95, at: 0s, duration: 1h}
  - {service: auth, metric: cpu, value: 0.95, at: 20m, duration: 1h}
dynamics: {diagnosis_spread: 0, wrong_lead: 0, fix_fails: 0, partial_fix: 0, recovery_spread: 0}
reports: []
truth: {severity: SEV2, teams_needed: [db]}
"""


@pytest.mark.parametrize("page_teams, teams", [
    # web's, the incident's service; batch's, alerting when it was declared (auth's alert came
    # later); db's (a root cause) and cache's (it points elsewhere), not auth's (nothing found).
    ("minimum", {"web", "batch", "db", "cache"}),
    ("all", {"web", "batch", "db", "cache", "auth"}),
])
def test_the_ic_pages_the_teams_of_the_affected_services_or_every_team(write, page_teams, teams):
    from sim.inputs.config import Script, ScriptParticipant
    from sim.model.participants.bots import teams_to_page

    # lee alone, at a console: nobody else acts.
    drill = Drill(load_scenario(write("shop.yaml", SHOP)), Process(page_teams=page_teams),
                  script=Script((ScriptParticipant("lee"),), ()))
    drill.start()
    drill.env.run(until=300)
    assert drill.act(Action("declare", "lee", {"severity": "SEV2", "service": "web"})).ok
    for service in ("db", "cache", "auth"):
        assert drill.act(Action("investigate", "lee", {"service": service})).ok
    drill.env.run(until=1800)
    assert {a.rule.name for a in drill.monitoring.firing()} == {"WebErrors", "BatchCPU", "AuthCPU"}
    assert len(drill.incident.findings) == 3
    # what the bots read of the findings, kept as they came: db is pointed to (cache's finding), and
    # db and cache are part of the cause (a root cause, a pointer); auth's finding names nothing
    assert drill.incident.leads - {None} == {"db"} and drill.incident.implicated == {"db", "cache"}
    assert teams_to_page(drill) == teams


class _Median:
    """A bot's dice with every spread at its median, log-normal draws one sigma up (to tell a
    draw from its inverse), and each plain draw (0 to 1) ``r``."""

    def __init__(self, r):
        self.r = r

    def random(self):
        return self.r

    def uniform(self, a, b):
        return (a + b) / 2

    def lognormvariate(self, mu, sigma):
        return math.exp(mu + sigma)


def internal_gaps(scenario, discipline, r):
    """alex (IC, keeping comms: two roles) writing with dice ``r``: the gaps between his internal updates."""
    drill = Drill(scenario, Process(bots=replace(EXACT, discipline=discipline), dedicated_comms=False))
    drill.people["alex"].rng = _Median(r)
    drill.start()
    drill.env.run(until=scenario.horizon)
    assert drill.incident.roles["comms"] == drill.incident.roles["ic"] == "alex"
    times = [e["t"] for e in of(drill.log.events, "update.posted", audience="internal", by="alex")]
    return [b - a for a, b in zip(times, times[1:])]


@pytest.mark.parametrize("r, slips", [(0.4, False), (0.6, True)])
def test_an_update_slips_by_half_the_longest_cadence_with_one_minus_discipline_to_the_roles_held(write, r, slips):
    # batch runs hot for 2 h: the incident stays open long enough for a slipped update.
    scenario = load_scenario(write("longer.yaml", API_AND_BATCH.replace("duration: 1h", "duration: 2h").replace(
        "horizon: 2h", "horizon: 4h")))
    # alex holds two roles: with discipline 0.7 an update slips when the draw is above 0.7^2 = 0.49,
    # by half SEV2's longest internal cadence (1800 to 3600 s) times the log-normal draw (e^0.5 here),
    # give or take the IC's own work in hand when it comes due (a look and an assessment, 150 s).
    on_time = internal_gaps(scenario, 1.0, r)
    gaps = internal_gaps(scenario, 0.7, r)
    assert gaps[0] == pytest.approx(on_time[0] + (1800 * math.exp(0.5) if slips else 0.0), abs=150)


def test_an_update_a_person_posts_while_the_comms_bot_writes_is_that_update_and_the_next_counts_from_it(
        api_and_batch):
    from sim.inputs.config import Script, ScriptParticipant

    # kim, a person, declares at 100 s and makes sam (a bot) comms; while sam writes the internal
    # summary (75 s), kim posts one herself at 130 s.
    cast = (ScriptParticipant("kim"), ScriptParticipant("sam", bot=True), ScriptParticipant("dana", "primary", bot=True))
    drill = Drill(api_and_batch, Process(bots=EXACT), script=Script(cast, ()))
    drill.people["sam"].rng = _Median(0.0)
    drill.start()
    drill.env.run(until=100)
    assert drill.act(Action("declare", "kim", {"severity": "SEV2", "service": "api"})).ok
    assert drill.act(Action("assign", "kim", {"role": "comms", "who": "sam"})).ok
    drill.env.run(until=130)
    assert drill.act(Action("update", "kim", {"status": "investigating", "summary": "On it", "audience": "internal"})).ok
    drill.env.run(until=3000)
    # sam's is dropped; his next internal one is aimed at 130 + 2700 s (the middle of SEV2's 30 to
    # 60 min) - 150 s (a median write early): he starts at 2530 s, his first internal update, a
    # summary (75 s). The public summary he wrote in between (175 to 250 s) is the status page's first.
    posted = [(e["t"], e["by"], e["audience"]) for e in of(drill.log.events, "update.posted")]
    assert posted == [(130, "kim", "internal"), (250, "sam", "public"), (2605, "sam", "internal")]


def test_the_little_judgments_of_who_writes_who_is_directed_and_where_things_stand():
    from types import SimpleNamespace as NS

    from sim.model.participants.bots import _status, _writes_updates, directed

    def drill(**incident):
        return NS(incident=NS(**incident))

    # The comms lead writes the updates; the IC only without one.
    assert [_writes_updates(drill(roles={"ic": "alex", "comms": "sam"}), NS(name=n)) for n in ("alex", "sam")] == [
        False, True]
    assert _writes_updates(drill(roles={"ic": "alex"}), NS(name="alex"))
    assert not _writes_updates(drill(roles={"ic": "alex"}), NS(name="dana"))
    # A task for dana directs her, whatever the IC asked of others.
    assert directed(drill(tasks=[{"who": "alex"}, {"who": "dana"}]), NS(name="dana"))
    # Identified once any finding names a root cause.
    findings = [{"root_cause": False}, {"root_cause": True}]
    assert _status(NS(state="open", mitigations=[], findings=findings)) == "identified"


def test_with_every_level_in_the_full_process_in_doubt_is_the_least_severe():
    from types import SimpleNamespace as NS

    from sim.inputs.config import ROLES
    from sim.model.participants.bots import _least_user_facing

    levels = {name: replace(level, roles=ROLES) for name, level in Process().severities.items()}
    assert _least_user_facing(NS(process=NS(severities=levels))) == "SEV4"
    assert _least_user_facing(NS(process=Process())) == "SEV3"


def test_a_bot_is_addressed_by_name_or_by_the_role_it_holds_a_person_never(write, writing_public):
    from sim.inputs.config import Script, ScriptParticipant
    from sim.model.participants.bots import addressed

    # At 600 s dana is ops, sam comms.
    assert addressed(writing_public, "ops: where are we? and @sam?") == ["dana", "sam"]
    # lee, a person, is IC; nobody holds ops.
    drill = Drill(load_scenario(write("shop.yaml", SHOP)), Process(), script=Script((ScriptParticipant("lee"),), ()))
    drill.start()
    assert drill.act(Action("declare", "lee", {"severity": "SEV2", "service": "web"})).ok
    assert addressed(drill, "lee, ops, ic: anyone?") == []


def test_ops_goes_back_first_to_a_service_a_finding_names_as_the_root_cause():
    from types import SimpleNamespace as NS

    from sim.model.participants.bots import _next_lead

    found = {"service": "db", "root_cause": True, "suggests": None, "points_to": None}
    drill = NS(scenario=NS(services={"web": NS(customer_facing=True), "db": NS(customer_facing=False)}),
               incident=NS(findings=[found]))
    assert _next_lead(drill, ["web"], set()) == "db"
    assert _next_lead(drill, ["web"], {"db"}) == "web"


def test_a_look_around_takes_in_the_services_asked_about_and_every_alerting_one(write):
    from sim.inputs.config import Script, ScriptParticipant
    from sim.model.participants.bots import look_around

    drill = Drill(load_scenario(write("shop.yaml", SHOP)), Process(), script=Script((ScriptParticipant("lee"),), ()))
    drill.start()
    drill.env.run(until=300)  # WebErrors and BatchCPU fire
    assert set(look_around(drill, drill.people["lee"], ["db"])) == {"db", "web", "batch"}


@pytest.mark.parametrize("resolve", [False, True])
def test_a_bot_spoken_to_answers_after_half_an_acknowledgement_unless_the_incident_closed(api_and_batch, resolve):
    drill = kim_declares(api_and_batch, "dana")
    assert drill.act(Action("say", "kim", {"text": "@dana where are we?"})).ok
    if resolve:
        drill.env.run(until=130)
        assert drill.act(Action("resolve", "kim", {"summary": "fixed", "confirm": True})).ok
    drill.env.run(until=300)
    # Half of the 120 s a page takes to acknowledge: at 160 s, or never once resolved.
    assert [e["t"] for e in of(drill.log.events, "channel.message", by="dana")] == ([] if resolve else [160])


def test_a_bots_update_after_a_persons_builds_on_it_with_what_the_channel_learnt_since(api_and_batch):
    from sim.inputs.config import Script, ScriptParticipant

    drill = Drill(api_and_batch, Process(bots=EXACT), script=Script((ScriptParticipant("kim"),
                                                                     ScriptParticipant("sam", bot=True)), ()))
    act = drill.act
    drill.start()
    drill.env.run(until=100)
    assert act(Action("declare", "kim", {"severity": "SEV3", "service": "api"})).ok
    assert act(Action("assign", "kim", {"role": "comms", "who": "sam"})).ok
    drill.env.run(until=130)
    # Raised before her update, in the same second: not news after it.
    assert act(Action("investigate", "kim", {"service": "api"})).ok
    assert act(Action("severity", "kim", {"severity": "SEV2", "reason": "worse"})).ok
    assert act(Action("update", "kim", {"status": "investigating", "summary": "On it.", "audience": "internal"})).ok
    drill.env.run(until=300)
    assert act(Action("update", "kim", {"status": "identified", "summary": "A deploy.", "audience": "internal"})).ok
    drill.env.run(until=400)
    assert act(Action("mitigate", "kim", {"action": "rollback", "service": "api"})).ok
    assert act(Action("severity", "kim", {"severity": "SEV1", "reason": "worse still"})).ok
    drill.env.run(until=3000)
    said = [(e["by"], e["summary"]) for e in of(drill.log.events, "update.posted")]
    assert said[:4] == [
        ("kim", "On it."),
        ("sam", "Following kim's update at 14:02 (On it). Since then: api: A deploy at 14:01 broke api."),
        ("kim", "A deploy."),
        ("sam", "Following kim's update at 14:05 (A deploy). Since then: rollback applied on api; severity now SEV1.")]


def built_on(write, said, finding="A deploy at 14:01 broke api"):
    """sam's update built on kim's ``said`` (posted at 100 s, when sam became comms): sam's public
    summary at 250 s, after kim's investigation of api found ``finding`` at 194.444 s."""
    scenario = load_scenario(write("api-and-batch.yaml", API_AND_BATCH.replace("A deploy at 14:01 broke api", finding)))
    drill = kim_declares(scenario, "sam", oncall=False)
    assert drill.act(Action("assign", "kim", {"role": "comms", "who": "sam"})).ok
    assert drill.act(Action("investigate", "kim", {"service": "api"})).ok
    assert drill.act(Action("update", "kim", {"status": "investigating", "summary": said, "audience": "internal"})).ok
    drill.env.run(until=300)
    return [(e["t"], e["summary"]) for e in of(drill.log.events, "update.posted", by="sam")]


WORDS = "start" + " step" * 80  # spaces at every fifth character: the 396th, the 401st, ...


@pytest.mark.parametrize("said, quoted", [
    (WORDS[:400], WORDS[:400]),  # 400 characters: whole
    (WORDS[:400] + "s", WORDS[:395] + " ..."),  # 401: cut at the last space among the first 400 (the 396th)
    (WORDS, WORDS[:395] + " ..."),  # the 401st is a space: still cut at the 396th
])
def test_a_persons_update_is_quoted_whole_up_to_400_characters_a_longer_one_cut_at_a_space(write, said, quoted):
    assert built_on(write, said) == [
        (250, f"Following kim's update at 14:01 ({quoted}). Since then: api: A deploy at 14:01 broke api.")]


@pytest.mark.parametrize("tail, cut", [(" ok", False), (" off", True)])
def test_an_update_built_on_a_persons_is_at_most_2000_characters(write, tail, cut):
    # "Following kim's update at 14:01 (On it). Since then: api: " is 58 characters, then the
    # finding (3 + 387 x 5 characters and the tail) and a full stop: 2,000 in all with " ok",
    # 2,001 with " off", which keeps its first 1,996 (to the last " slow") and then " ...".
    finding = "api" + " slow" * 387
    whole = f"Following kim's update at 14:01 (On it). Since then: api: {finding}{tail}."
    assert len(whole) == (2001 if cut else 2000)
    assert built_on(write, "On it.", finding + tail) == [
        (250, f"Following kim's update at 14:01 (On it). Since then: api: {finding} ..." if cut else whole)]


def test_a_bot_asked_by_a_person_ic_confirms_says_when_it_gets_to_it_and_reports_back(api_and_batch):
    drill = kim_declares(api_and_batch, "dana")
    assert drill.act(Action("ask", "kim", {"who": "dana", "task": "investigate", "service": "api"})).ok
    drill.env.run(until=150)
    assert drill.act(Action("ask", "kim", {"who": "dana", "task": "page", "teams": ["api"]})).ok
    drill.env.run(until=400)
    assert drill.act(Action("ask", "kim", {"who": "dana", "task": "investigate", "service": "batch"})).ok
    drill.env.run(until=800)
    events = drill.log.events
    found = of(events, "finding", by="dana")
    # Each noticed after half an acknowledgement (60 s), confirmed, then 45 s of coordinating.
    # T2 comes while dana investigates api (until its finding): she says when she gets to it.
    said = [(e["t"], e["text"]) for e in of(events, "channel.message", by="dana")]
    assert said == [
        (160, "On it (T1): investigate api."),
        (210, "On it (T2): page api (after what I am on, about 14:04)."),
        (found[0]["t"], "T1 done. The finding suggests rollback of api; ask me to apply it if you agree."),
        (460, "On it (T3): investigate batch.")]
    assert int(found[0]["t"]) // 60 == 4  # 14:04
    started = of(events, "investigation.started", by="dana")
    assert [e["t"] for e in started] == [205, 505]
    assert drill.people["dana"].worked["investigate"] == pytest.approx(sum(f["t"] - s["t"] for f, s in zip(found, started)))
    # T2 after T1's confirmation: two coordinations from the finding.
    assert [(e["t"], e["by"]) for e in of(events, "teams.paged")] == [(pytest.approx(found[0]["t"] + 90), "dana")]


@pytest.mark.parametrize("resolve", [False, True])
def test_a_comms_bot_asked_for_an_update_writes_and_posts_it_unless_the_incident_closed(api_and_batch, resolve):
    drill = kim_declares(api_and_batch, "sam", oncall=False)
    assert drill.act(Action("assign", "kim", {"role": "comms", "who": "sam"})).ok
    drill.env.run(until=1000)
    before = len(of(drill.log.events, "update.posted"))
    assert drill.act(Action("ask", "kim", {"who": "sam", "task": "update"})).ok
    drill.env.run(until=1200)
    if resolve:
        assert drill.act(Action("resolve", "kim", {"summary": "fixed", "confirm": True})).ok
    drill.env.run(until=1600)
    # Noticed at 1060 s, confirmed (45 s), written (150 s): posted at 1255 s. Resolved while he
    # writes it, it is not posted: the closing updates come after it (150 s each).
    posted = [(e["t"], e["by"], e["status"]) for e in of(drill.log.events, "update.posted")[before:]]
    assert posted == ([(1405, "sam", "resolved"), (1555, "sam", "resolved")] if resolve
                      else [(1255, "sam", "investigating")])


@pytest.mark.parametrize("taken_by, instant", [("kim", False), ("alex", False), (None, False),
                                               ("kim", True), ("alex", True)])
def test_a_bot_whose_proposed_fix_the_ic_applies_or_gives_to_another_leaves_it_to_them(api_and_batch, taken_by,
                                                                                         instant):
    drill = kim_declares(api_and_batch, "dana", "alex", at=150)
    assert drill.act(Action("assign", "kim", {"role": "ops", "who": "dana"})).ok
    # alex investigates batch first (from 255 s): a fix asked of him is readied only after that
    assert drill.act(Action("ask", "kim", {"who": "alex", "task": "investigate", "service": "batch"})).ok
    drill.env.run(until=200)
    found = drill.incident.investigating[("dana", "api")]  # her finding, and the proposal, at 244.444 s
    # kim takes it in the very instant of the proposal (before it, in the queue), or later
    drill.env.run(until=found if instant else 400)
    fix = {"action": "rollback", "service": "api"}
    if taken_by is None:  # kim applies another fix: not dana's
        assert drill.act(Action("mitigate", "kim", {"action": "rollback", "service": "batch"})).ok
        drill.env.run(until=1200)
        assert [e["by"] for e in of(drill.log.events, "mitigation.applied")] == ["kim", "dana"]
        return
    if taken_by == "kim":
        assert drill.act(Action("mitigate", "kim", fix)).ok
    else:
        assert drill.act(Action("ask", "kim", {"who": "alex", "task": "mitigate", **fix})).ok
    drill.env.run(until=1200)
    said = of(drill.log.events, "channel.message", by="dana")
    assert "suggests rollback of api" in said[0]["text"] and said[0]["t"] == round(found, 3)
    # Someone else is on it when her 5 min are up (asked of alex, though not applied yet): dana
    # neither says no call came nor applies it.
    assert len(said) == 1
    assert [e["by"] for e in of(drill.log.events, "mitigation.applied")] == [taken_by]
    # The IC decides from then on: she digs no more on her own (only asked).
    assert [e["t"] for e in of(drill.log.events, "investigation.started", by="dana")] == [150]


def test_a_bot_asked_to_investigate_twice_does_one_investigation_after_the_other(api_and_batch):
    # kim, a person IC, asks dana for api, then batch, at 100 s. dana notices both at 160 s (half
    # the 120 s acknowledgement) and coordinates each for 45 s (to 205, then to 250 s): the first
    # to be free at 250 s starts, and the other waits for its end, as docs/model.md says
    # (an investigation starts only once the investigator is free). It started at 250 s too.
    drill = kim_declares(api_and_batch, "dana")
    for service in ("api", "batch"):
        assert drill.act(Action("ask", "kim", {"who": "dana", "task": "investigate", "service": service})).ok
    drill.env.run(until=300)
    batch_done = round(drill.incident.investigating[("dana", "batch")], 3)  # as the log gives times
    drill.env.run(until=900)
    started = [(e["t"], e["service"]) for e in of(drill.log.events, "investigation.started", by="dana")]
    assert started == [(250, "batch"), (batch_done, "api")]


@pytest.mark.parametrize("resolve_at", [None, 300])
def test_a_bots_own_digging_waits_also_for_work_its_other_duties_took_on_meanwhile(api_and_batch, resolve_at):
    # kim declares at 140 s (ApiErrors fires at 135 s) and makes dana comms and ops. dana writes
    # the internal summary (half an update, 75 s) to 215 s, then the public one; as ops she would
    # dig into api, once that work is done. kim asks her for batch at 141 s: noticed at 201 s, her
    # 45 s of coordinating come after the internal summary (to 260 s) and the public summary after
    # that (to 335 s). Her digging waits for all of it: api from 335 s (not 215 s, while she was
    # coordinating and writing), then batch, asked for, once api's finding is in. Resolved at
    # 300 s, while she waits, she investigates nothing.
    drill = kim_declares(api_and_batch, "dana", at=140, oncall=False)
    for role in ("comms", "ops"):
        assert drill.act(Action("assign", "kim", {"role": role, "who": "dana"})).ok
    drill.env.run(until=141)
    assert drill.act(Action("ask", "kim", {"who": "dana", "task": "investigate", "service": "batch"})).ok
    if resolve_at:
        drill.env.run(until=resolve_at)
        assert drill.act(Action("resolve", "kim", {"summary": "fixed", "confirm": True})).ok
    drill.env.run(until=900)
    events = drill.log.events
    if resolve_at:
        assert not of(events, "investigation.started") + of(events, "action.rejected", by="dana")
        return
    assert [e["t"] for e in of(events, "update.posted", by="dana")] == [215, 335]
    api_found = of(events, "finding", by="dana", service="api")[0]["t"]
    started = [(e["t"], e["service"]) for e in of(events, "investigation.started", by="dana")]
    assert started == [(335, "api"), (api_found, "batch")]


INVESTIGATE, ROLLBACK = {"task": "investigate", "service": "api"}, {"task": "mitigate", "action": "rollback", "service": "api"}


@pytest.mark.parametrize("comms, task, resolve_at, said", [
    (True, INVESTIGATE, 130, []),  # before she notices the request (160 s): not a word
    (False, INVESTIGATE, 180, ["On it (T1): investigate api."]),  # while she coordinates it (160 to 205 s)
    (True, INVESTIGATE, 250, ["On it (T1): investigate api."]),  # while she writes the public summary first
    (True, ROLLBACK, 350, ["On it (T1): apply rollback to api."]),  # while she readies it (295 to 415 s)
])
def test_a_bot_asked_for_something_drops_it_once_the_incident_closes(api_and_batch, comms, task, resolve_at, said):
    # dana, comms from 100 s, writes the internal summary to 175 s; asked at 100 s, she
    # coordinates it after that (to 220 s), and the public summary, taken on at 175 s, comes first
    # (to 295 s). Not comms, she coordinates it from 160 s.
    drill = kim_declares(api_and_batch, "dana", oncall=False)
    if comms:
        assert drill.act(Action("assign", "kim", {"role": "comms", "who": "dana"})).ok
    assert drill.act(Action("ask", "kim", {"who": "dana", **task})).ok
    drill.env.run(until=resolve_at)
    assert drill.act(Action("resolve", "kim", {"summary": "fixed", "confirm": True})).ok
    drill.env.run(until=600)
    assert [e["text"] for e in of(drill.log.events, "channel.message", by="dana")] == said
    done = of(drill.log.events, "investigation.started") + of(drill.log.events, "mitigation.applied")
    assert not done + of(drill.log.events, "action.rejected", by="dana")


@pytest.mark.parametrize("declare_at, comms_at, later", [
    (50, 50, ""),  # her summary was written at 125 s, before she noticed the request: nothing in hand
    (100, 145, ""),  # written until 220 s: a minute from noticing at 160 s, not more
    (100, 145.5, " (after what I am on, about 14:03)"),  # until 220.5 s: more than a minute
])
def test_a_bot_asked_while_busy_says_when_it_gets_to_it_if_that_is_over_a_minute_away(
        api_and_batch, declare_at, comms_at, later):
    # kim asks dana at 100 s (she notices at 160 s); the work in hand is the first update she
    # writes as comms, half of 150 s from when kim makes her comms.
    drill = kim_declares(api_and_batch, "dana", at=declare_at, oncall=False)
    for at, action in sorted([(comms_at, Action("assign", "kim", {"role": "comms", "who": "dana"})),
                              (100, Action("ask", "kim", {"who": "dana", "task": "investigate", "service": "batch"}))]):
        if at > drill.env.now:
            drill.env.run(until=at)
        assert drill.act(action).ok
    drill.env.run(until=161)
    assert [e["text"] for e in of(drill.log.events, "channel.message", by="dana")] == [
        f"On it (T1): investigate batch{later}."]


def dug_again_after_her_fix(write, text):
    """How long after dana's first mitigation (and its outcome) she starts her next investigation."""
    events = run_drill(load_scenario(write("judged.yaml", text)), Process(bots=EXACT)).events
    fix = of(events, "mitigation.applied", by="dana")[0]
    again = next(e["t"] for e in of(events, "investigation.started", by="dana") if e["t"] > fix["t"])
    return [f["outcome"] for f in fix["faults"]], round(again - fix["t"], 3)


@pytest.mark.parametrize("errors, eased_to, gap", [
    ("0.5%", "50%", 900),  # 0.5995 % -> 0.3497 %: below 80 % of it, and normal: she waits 15 min
    ("0.25%", "90%", 0),  # 0.34975 % -> 0.3248 %: above 80 % of it (0.2798 %): no help, she digs on
])
def test_a_mitigation_helped_when_it_brought_the_error_rate_below_80_percent_of_what_it_was(
        write, errors, eased_to, gap):
    # api's fault is eased, not fixed, by a rollback; its alert fires past 0.3 %. Errors combine:
    # 1 - 0.999 x (1 - errors) before, 1 - 0.999 x (1 - eased_to x errors) after. dana judges api's
    # dashboard 3 minutes after applying it (as normal: at most 3 x 0.1 % + 0.1 % = 0.4 %).
    text = (API_AND_BATCH.replace("magnitude: {error_rate: 20%}",
                                  f"magnitude: {{error_rate: {errors}}}\n    fixes: []\n    eases: {{rollback: {eased_to}}}")
            .replace('error_rate{service="api"} > 0.05', 'error_rate{service="api"} > 0.003'))
    assert dug_again_after_her_fix(write, text) == (["eased"], 180 + gap)


def test_a_mitigation_is_judged_on_the_error_rate_alone(write):
    # api has no errors at all, and its bad deploy only doubles its p99. The rollback brings it back
    # to 200 ms, but 0 % is not below 80 % of 0 %: dana does not count it as helped, and digs on.
    text = (API_AND_BATCH.replace("magnitude: {error_rate: 20%}", "magnitude: {latency: 2, error_rate: 0}")
            .replace("request_rate: 100, error_rate: 0.1%", "request_rate: 100, error_rate: 0%")
            .replace('error_rate{service="api"} > 0.05', 'latency_p99_ms{service="api"} > 300'))
    assert dug_again_after_her_fix(write, text) == (["fixed"], 180)


@pytest.mark.parametrize("hot_at, teams", [("375s", ["api", "data"]), ("390s", ["api"])])
def test_the_ic_pages_the_team_of_an_alert_that_fired_by_the_declaration_that_instant_included(
        write, hot_at, teams):
    # dana declares at 435 s (paged at 165 s: 120 + 60 + 90 s later). batch, now data's, runs hot
    # from 375 s: BatchCPU (1 minute) fires at 435 s, the declaration's instant, and its team is
    # paged with api's; from 390 s it fires at 450 s, after: only api's.
    text = (API_AND_BATCH.replace("batch: {team: api,", "batch: {team: data,")
            .replace("value: 0.95, at: 10m,", f"value: 0.95, at: {hot_at},"))
    events = run_drill(load_scenario(write("hot.yaml", text)), Process(bots=EXACT)).events
    assert [e["t"] for e in of(events, "incident.declared")] == [435]
    assert [e["teams"] for e in of(events, "teams.paged")] == [teams]


def test_a_fix_a_colleague_applies_while_the_bot_gets_it_ready_is_left_to_them(api_and_batch):
    # dana finds the rollback at 529.444 s and gets it ready (2 minutes, to 649.444 s); alex, ops,
    # applies it himself at 600 s. At 649.444 s the channel shows his, 49.444 s old: she leaves it.
    drill = Drill(api_and_batch, Process(bots=EXACT))
    drill.start()
    drill.env.run(until=600)
    assert drill.act(Action("mitigate", "alex", {"action": "rollback", "service": "api"})).ok
    drill.env.run(until=drill.done)
    events = drill.finish().events
    assert [e["t"] for e in of(events, "finding", by="dana")][:1] == [529.444]
    assert [(e["t"], e["by"]) for e in of(events, "mitigation.applied")] == [(600, "alex")]


@pytest.mark.parametrize(("applied", "by", "left"), [
    (100.0, "alex", True),  # 15 minutes ago to the second: still the colleague's
    (99.9, "alex", False),  # longer ago: this one applies it
    (990.0, "dana", False),  # this one's own
])
def test_a_fix_is_left_to_the_colleague_who_applied_it_in_the_last_fifteen_minutes(applied, by, left):
    from types import SimpleNamespace

    from sim.model.participants.bots import _left_to_another

    # At 1000 s; an older application of the same fix (at 50 s) never counts once a later one is
    # past the window, and another fix (a restart at 995 s) is not this one.
    mitigations = [{"t": 50.0, "by": "alex", "action": "rollback", "service": "api"},
                   {"t": applied, "by": by, "action": "rollback", "service": "api"},
                   {"t": 995.0, "by": "alex", "action": "restart", "service": "api"}]
    incident = SimpleNamespace(env=SimpleNamespace(now=1000.0), mitigations=mitigations)
    assert _left_to_another(incident, SimpleNamespace(name="dana"), ("rollback", "api")) is left


def test_a_responder_digs_on_into_a_service_of_its_team_that_a_finding_points_to(write):
    # api's first finding points to batch (also the api team's). The api team's responder, paged
    # at 570 s, joins at 870 s and digs into api (degraded when it looked). Its finding suggests the
    # rollback dana applied meanwhile (1089.786 s, within the last 15 minutes: hers to watch), so
    # it leaves that to her and goes on at once to batch, which the first finding implicated.
    text = API_AND_BATCH.replace(
        "      - {service: api, after: 2m, text: A deploy at 14:01 broke api, root_cause: true, suggests: rollback}",
        "      - {service: api, after: 2m, text: api waits on batch, points_to: batch}\n"
        "      - {service: api, after: 3m, text: A deploy at 14:01 broke api, root_cause: true, suggests: rollback}")
    events = run_drill(load_scenario(write("pointed.yaml", text)), Process(bots=EXACT)).events
    assert [e["t"] for e in of(events, "responder.joined", who="api-oncall")] == [870]
    dug = [(e["t"], e["service"]) for e in of(events, "investigation.started", by="api-oncall")]
    found = of(events, "finding", by="api-oncall")[0]
    assert of(events, "mitigation.applied", by="api-oncall") == []
    assert found["text"] == "A deploy at 14:01 broke api" and dug == [(1050, "api"), (found["t"], "batch")]
    # dana, ops, follows the pointer too, back to api (its next finding is new: the root cause),
    # rolls it back, and after the 15 minutes of calm goes back to api, the culprit, at once.
    dug = [(e["t"], e["service"]) for e in of(events, "investigation.started", by="dana")]
    found = [e["t"] for e in of(events, "finding", by="dana")]
    rolled_back = of(events, "mitigation.applied", by="dana")[0]["t"]
    assert dug[:4] == [(435, "api"), (found[0], "batch"), (found[1], "api"), (rolled_back + 180 + 900, "api")]


def test_a_rollback_that_did_not_take_for_one_of_two_faults_is_found_out_and_applied_again(write):
    # Two bad deploys on api; each rollback fails with probability 1/2: with seed 5, dana's first
    # fixes boom2 and not boom. That sends her back to api to find out why, and she rolls back again.
    text = (API_AND_BATCH.replace("faults:\n", "faults:\n  - {id: boom2, kind: bad_deploy, service: api, at: 60s, "
                                  "ramp: 1s, recovery: 1s, magnitude: {error_rate: 10%}}\n", 1)
            .replace("fix_fails: 0,", "fix_fails: 0.5,"))
    events = run_drill(load_scenario(write("two.yaml", text)), Process(bots=EXACT), seed=5).events
    applied = [[(f["fault"], f["outcome"]) for f in e["faults"]] for e in of(events, "mitigation.applied", by="dana")]
    assert applied == [[("boom2", "fixed"), ("boom", "failed")], [("boom", "fixed")]]


def test_a_closing_update_being_written_when_the_incident_reopens_gives_way_to_the_updates_going_on(
        api_and_batch):
    # sam, comms from 100 s, posts the summaries at 175 and 250 s. kim resolves at 1000 s: sam
    # writes the closing internal update (150 s), but kim reopens at 1060 s. At 1150 s it is no
    # longer true: not posted, and his updates go on, summaries again (75 s each).
    drill = kim_declares(api_and_batch, "sam", oncall=False)
    assert drill.act(Action("assign", "kim", {"role": "comms", "who": "sam"})).ok
    drill.env.run(until=1000)
    assert drill.act(Action("resolve", "kim", {"summary": "fixed", "confirm": True})).ok
    drill.env.run(until=1060)
    assert drill.act(Action("reopen", "kim", {"reason": "errors are back"})).ok
    drill.env.run(until=1600)
    assert [(e["t"], e["audience"], e["status"]) for e in of(drill.log.events, "update.posted", by="sam")] == [
        (175, "internal", "investigating"), (250, "public", "investigating"),
        (1225, "internal", "investigating"), (1300, "public", "investigating")]


def test_a_bot_asked_something_digs_no_more_on_its_own(api_and_batch):
    # dana, ops from 100 s, finds nothing firing and checks again at 160 s; asked at 101 s to
    # investigate batch, she then works only on what she is asked: batch, from 206 s (noticed at
    # 161 s, 45 s of coordinating), and not api, whose alert fires at 135 s.
    drill = kim_declares(api_and_batch, "dana", oncall=False)
    assert drill.act(Action("assign", "kim", {"role": "ops", "who": "dana"})).ok
    drill.env.run(until=101)
    assert drill.act(Action("ask", "kim", {"who": "dana", "task": "investigate", "service": "batch"})).ok
    drill.env.run(until=900)
    assert [(e["t"], e["service"]) for e in of(drill.log.events, "investigation.started", by="dana")] == [(206, "batch")]


def test_a_raised_severity_brings_the_writers_next_update_forward(api_and_batch):
    # kim declares SEV2 at 100 s; sam, comms, posts the summaries (internal, then public). At 600 s
    # kim raises it to SEV1: sam notices at his next check (a minute at most) and the next internal
    # update is due within SEV1's 30 minutes from then, not at SEV2's pace from his summary.
    drill = kim_declares(api_and_batch, "sam", oncall=False)
    assert drill.act(Action("assign", "kim", {"role": "comms", "who": "sam"})).ok
    drill.env.run(until=600)
    assert drill.act(Action("severity", "kim", {"severity": "SEV1", "reason": "checkout too"})).ok
    drill.env.run(until=6000)
    posted = [(e["t"], e["audience"]) for e in of(drill.log.events, "update.posted", by="sam")]
    assert posted[:2] == [(175, "internal"), (250, "public")]
    # Each next one: from his check (by 660 s), SEV1's longest cadence (30 min internal, 1 h on the
    # status page) less the writing's median, then the writing itself (its median): by 2460 and
    # 4260 s. At SEV2's pace from the summaries the internal one came at 2583.51 s.
    first = {audience: min(t for t, a in posted if a == audience and t > 600) for audience in ("internal", "public")}
    assert first["internal"] <= 660 + 1800 and first["public"] <= 660 + 3600
