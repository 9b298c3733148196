"""Every action is validated: applied and logged, or rejected with a reason and logged."""

from sim import load_scenario, load_script, run_drill
from sim.model.incident import channel_name

from .conftest import DATA, SCENARIOS

SCRIPT = """
participants:
  - {name: dana, oncall: primary}
  - {name: lee, oncall: secondary}
  - {name: alex}
actions:
  - {at: "+1m", by: dana, do: declare, severity: SEV2}
  - {at: "+2m", by: dana, do: ack}
  - {at: "+4m", by: dana, do: ack}
  - {at: "+4m", by: lee, do: resolve}
  - {at: "+5m", by: dana, do: declare, severity: SEV2}
  - {at: "+5m", by: dana, do: declare, severity: SEV1}
  - {at: "+5m", by: alex, do: assign, role: comms, who: alex}
  - {at: "+5m", by: dana, do: assign, role: comms, who: alex}
  - {at: "+6m", by: lee, do: update, status: investigating, summary: "looking"}
  - {at: "+6m", by: alex, do: update, status: investigating, summary: "api errors, investigating"}
  - {at: "+6m", by: dana, do: mitigate, action: restart, service: api}
  - {at: "+6m", by: dana, do: mitigate, action: rollback, service: api}
  - {at: "+6m", by: alex, do: schedule_postmortem, date: 2026-04-22}
  - {at: "+7m", by: alex, do: severity, severity: SEV1}
  - {at: "+7m", by: dana, do: severity, severity: SEV2}
  - {at: "+8m", by: dana, do: look, service: nosuch}
  - {at: "+8m", by: dana, do: page, teams: [api, nosuch]}
  - {at: "+15m", by: dana, do: resolve}
  - {at: "+15m", by: dana, do: schedule_postmortem, date: 2026-04-19}
  - {at: "+15m", by: dana, do: schedule_postmortem, date: 2026-04-22}
"""


def drill(write):
    scenario = load_scenario(DATA / "tiny.yaml")
    return run_drill(scenario, script=load_script(write("s.yaml", SCRIPT), scenario.start)).events


def outcomes(events):
    wanted = {"action.rejected", "incident.declared", "page.acked", "role.assigned", "update.posted",
              "mitigation.applied", "severity.changed", "incident.resolved", "postmortem.scheduled", "teams.paged"}
    return [(e["t"], e["kind"], e.get("reason", "")) for e in events if e["kind"] in wanted]


def test_each_action_is_applied_or_rejected_with_its_reason(write):
    got = outcomes(drill(write))
    assert got == [
        (60, "action.rejected", "say which service is affected: no alert is firing"),
        (120, "action.rejected", "no open page for dana to acknowledge"),
        (240, "page.acked", ""),
        (240, "action.rejected", "no incident has been declared yet"),
        (300, "incident.declared", ""),
        (300, "role.assigned", ""),
        (300, "action.rejected", "the incident was already declared (#inc-2026-04-20-api)"),
        (300, "action.rejected", "only the Incident Commander (dana) can assign roles"),
        (300, "role.assigned", ""),
        (360, "action.rejected", "only the Communications Lead or the Incident Commander posts status updates"),
        (360, "update.posted", ""),
        (360, "mitigation.applied", ""),
        (360, "mitigation.applied", ""),
        (360, "action.rejected", "a postmortem is scheduled once the incident is resolved"),
        (420, "action.rejected", "only the Incident Commander (dana) can change the severity"),
        (420, "action.rejected", "the severity is already SEV2"),
        (480, "action.rejected", "unknown service 'nosuch' (services: api)"),
        (480, "action.rejected", "unknown team(s) nosuch (teams: api, checkout, payments, sre)"),
        (900, "incident.resolved", ""),
        (900, "action.rejected", "the postmortem date 2026-04-19 is before the incident was resolved (2026-04-20)"),
        (900, "postmortem.scheduled", ""),
    ]


def test_mitigations_say_whether_they_worked(write):
    applied = [e for e in drill(write) if e["kind"] == "mitigation.applied"]
    assert [(e["action"], e["effective"]) for e in applied] == [("restart", False), ("rollback", True)]
    assert applied[1]["faults"] == [{"fault": "boom", "outcome": "fixed", "returns_in": None}]


def test_declaring_opens_the_channel_and_makes_the_declarer_ic(write):
    events = drill(write)
    declared = next(e for e in events if e["kind"] == "incident.declared")
    assert declared["channel"] == "#inc-2026-04-20-api"
    assert declared["service"] == "api"
    first_role = next(e for e in events if e["kind"] == "role.assigned")
    assert (first_role["role"], first_role["who"]) == ("ic", "dana")


def test_the_channel_is_named_as_slack_names_channels(write):
    assert channel_name("2026-04-20", "Web Front") == "#inc-2026-04-20-web-front"
    assert channel_name("2026-04-20", "Zahlungs.Dienst (EU)") == "#inc-2026-04-20-zahlungs-dienst-eu"
    assert channel_name("2026-04-20", "Café_API") == "#inc-2026-04-20-cafe_api"
    # 15 characters of "inc-2026-04-20-" leave 65 of the service, and no "-" to end on
    long = channel_name("2026-04-20", "a" * 64 + " tail")
    assert long == "#inc-2026-04-20-" + "a" * 64 and len(long) == 1 + 79
    scenario = load_scenario(write("web.yaml", (DATA / "tiny.yaml").read_text().replace("api", "Web Front")))
    events = run_drill(scenario, script=load_script(write("s.yaml", SCRIPT.replace("api", "Web Front")),
                                                   scenario.start)).events
    assert next(e for e in events if e["kind"] == "incident.declared")["channel"] == "#inc-2026-04-20-web-front"


def test_a_band_aid_wears_off_and_the_fault_returns(write):
    scenario = load_scenario(SCENARIOS / "checkout-config-push.yaml")
    script = write("b.yaml", """
        participants:
          - {name: dana, oncall: primary}
        actions:
          - {at: "+10m", by: dana, do: mitigate, action: restart, service: payment-gateway}
    """)
    from dataclasses import replace

    fault = replace(scenario.faults[0], band_aids={"restart": 600.0})
    scenario = replace(scenario, faults=(fault,), horizon=1800.0)
    events = run_drill(scenario, script=load_script(script, scenario.start)).events
    applied = next(e for e in events if e["kind"] == "mitigation.applied")
    assert applied["faults"] == [{"fault": "gateway-config-push", "outcome": "suppressed", "returns_in": 600.0}]
    assert [e["t"] for e in events if e["kind"] == "fault.returned"] == [1200]
    # and with it the errors: checkout, hurt from the 315 s scrape until the restart took, is again at the next scrape
    assert [e["t"] for e in events if e["kind"] == "impact.started"] == [315, 1215]


def test_a_finding_once_there_is_found_by_everyone_who_looks(write):
    scenario = load_scenario(SCENARIOS / "checkout-config-push.yaml")
    script = write("s.yaml", """
        participants:
          - {name: dana, oncall: primary}
          - {name: lee, oncall: secondary}
          - {name: alex}
        actions:
          - {at: "14:48", by: dana, do: investigate, service: payment-gateway}
          - {at: "15:00", by: lee, do: investigate, service: payment-gateway}
          - {at: "15:00", by: alex, do: investigate, service: payment-gateway}
          - {at: "15:20", by: dana, do: investigate, service: payment-gateway}
          - {at: "15:20", by: alex, do: investigate, service: search}
    """)
    events = run_drill(scenario, script=load_script(script, scenario.start), samples=False).events
    found = [(e["by"], e["service"], e["root_cause"], e["text"]) for e in events if e["kind"] == "finding"]
    root = "A config push at 14:45 lowered the gateway's upstream timeout from 30s to 300ms"
    # payment-gateway has one finding, the root cause: dana turns it up first, and everyone who
    # looks after her finds it too; search has nothing to find.
    assert sorted(found) == sorted([("dana", "payment-gateway", True, root)] * 2 + [("lee", "payment-gateway", True, root),
                                   ("alex", "payment-gateway", True, root), ("alex", "search", False, "Nothing unusual found on search")])


def test_a_refused_action_with_a_reason_is_logged_with_its_fields_apart(write, tmp_path):
    """A rejected ``severity`` or ``stand_down`` carries a ``reason`` of its own, beside the
    rejection's: ``drill run --script`` logs both, neither overwriting the other."""
    from click.testing import CliRunner

    from sim.cli import main

    script = write("reasons.yaml", """
        participants:
          - {name: dana, oncall: primary}
          - {name: alex}
        actions:
          - {at: "+1m", by: alex, do: stand_down, reason: "looks like a false alarm"}
          - {at: "+2m", by: dana, do: severity, severity: SEV2, reason: "getting worse"}
          - {at: "+3m", by: dana, do: declare, severity: SEV2, service: api}
          - {at: "+4m", by: alex, do: severity, severity: SEV1, reason: "customers affected"}
          - {at: "+5m", by: alex, do: stand_down, reason: "not me"}
    """)
    run = CliRunner().invoke(main, ["run", str(DATA / "tiny.yaml"), "--script", str(script), "--out", str(tmp_path / "out")])
    assert run.exit_code == 0, run.output
    import json

    events = [json.loads(line) for line in (tmp_path / "out" / "events.jsonl").read_text().splitlines()]
    rejected = [(e["t"], e["by"], e["do"], e["fields"], e["reason"]) for e in events if e["kind"] == "action.rejected"]
    assert rejected == [
        (60, "alex", "stand_down", {"reason": "looks like a false alarm"},
         "only the on-call engineer who was paged can stand it down before a declaration"),
        (120, "dana", "severity", {"severity": "SEV2", "reason": "getting worse"}, "no incident has been declared yet"),
        (240, "alex", "severity", {"severity": "SEV1", "reason": "customers affected"},
         "only the Incident Commander (dana) can change the severity"),
        (300, "alex", "stand_down", {"reason": "not me"}, "only the Incident Commander (dana) can stand the incident down"),
    ]
    report = (tmp_path / "out" / "report.md").read_text()
    assert "Rejected: alex tried to stand down: only the on-call engineer" in report
    assert "Rejected: alex tried to change the severity: only the Incident Commander (dana) can change" in report


def test_a_script_action_past_the_calendar_is_refused_where_it_is_written(write):
    import pytest

    from sim.inputs.errors import DrillError

    script = write("far.yaml", """
        participants:
          - {name: dana, oncall: primary}
        actions:
          - {at: "+1m", by: dana, do: declare, severity: SEV2, service: api}
          - {at: "+2m", by: dana, do: update, status: investigating, summary: x, next_update: "+99999999999h"}
          - {at: "+3m", by: dana, do: update, status: investigating, summary: "\\ud800"}
    """)
    with pytest.raises(DrillError) as refused:
        load_script(script, load_scenario(DATA / "tiny.yaml").start)
    # The reader refuses the escaped lone surrogate first, at its line, before any action is read.
    assert str(refused.value).splitlines() == [f"{script}:6: invalid YAML: control character '\\ud800' in '\\ud800'"]
    script.write_text(script.read_text().replace('"\\ud800"', "y"))
    with pytest.raises(DrillError, match=r"far.yaml:5: actions: update: 'next_update': a duration is at most a year \(8784h\)"):
        load_script(script, load_scenario(DATA / "tiny.yaml").start)


def test_drill_run_journals_each_refused_scripted_action_with_its_reason_and_goes_on(write, tmp_path):
    """Through the command a team runs: every action the incident refuses (resolving before a
    declaration, a role handed to someone not there, an unknown service, a task for a role nobody
    holds) is logged with the incident's own reason, and the actions after it still apply."""
    import json

    from click.testing import CliRunner

    from sim.cli import main

    script = write("refused.yaml", """
        participants:
          - {name: dana, oncall: primary}
          - {name: alex}
        actions:
          - {at: "+1m", by: dana, do: resolve}
          - {at: "+4m", by: dana, do: declare, severity: SEV2, service: api}
          - {at: "+5m", by: dana, do: assign, role: comms, who: nobody}
          - {at: "+5m", by: dana, do: investigate, service: nosuch}
          - {at: "+6m", by: dana, do: ask, who: ops, task: update}
          - {at: "+6m", by: dana, do: assign, role: comms, who: alex}
          - {at: "+7m", by: alex, do: update, status: investigating, summary: "api errors"}
    """)
    run = CliRunner().invoke(main, ["run", str(DATA / "tiny.yaml"), "--script", str(script), "--out", str(tmp_path / "out")])
    assert run.exit_code == 0, run.output
    events = [json.loads(line) for line in (tmp_path / "out" / "events.jsonl").read_text().splitlines()]
    rejected = [(e["t"], e["do"], e["reason"]) for e in events if e["kind"] == "action.rejected"]
    # The reasons are Incident's _check_* messages for these states (tiny has the one service api).
    assert rejected == [
        (60, "resolve", "no incident has been declared yet"),
        (300, "assign", "'nobody' is not taking part in this drill (participants: dana, alex)"),
        (300, "investigate", "unknown service 'nosuch' (services: api)"),
        (360, "ask", "'ops' is not taking part in this drill (nobody holds ops yet) (participants: dana, alex)"),
    ]
    applied = [(e["t"], e["kind"]) for e in events if e["kind"] in ("incident.declared", "role.assigned", "update.posted")]
    assert applied == [(240, "incident.declared"), (240, "role.assigned"), (360, "role.assigned"), (420, "update.posted")]
    assert "Rejected: dana tried to resolve: no incident has been declared yet" in (tmp_path / "out" / "report.md").read_text()


def test_drill_run_refuses_a_script_time_outside_the_drill_at_its_line(write, tmp_path):
    """``drill run`` knows the drill, so a script's times are held to a live drill's ranges: a
    postmortem more than a year after the start is refused at its line. (Unchecked, a drill held
    in the year 8000 moved that date past the calendar and ``drill run`` died in a traceback.)"""
    from click.testing import CliRunner

    from sim.cli import main

    script = write("far.yaml", """
        participants:
          - {name: dana, oncall: primary}
        actions:
          - {at: "+4m", by: dana, do: declare, severity: SEV2, service: api}
          - {at: "+5m", by: dana, do: resolve, confirm: true}
          - {at: "+6m", by: dana, do: schedule_postmortem, date: 8999-12-31}
    """)
    run = CliRunner().invoke(main, ["run", str(DATA / "tiny.yaml"), "--script", str(script), "--out", str(tmp_path / "out"),
                                    "--date", "8000-01-03", "--store", str(tmp_path / "drills.db")])
    assert run.exit_code == 2, run.output  # a usage error, as every bad input file is
    assert run.output == (f"Error: {script}:6: actions: schedule_postmortem: the date 8999-12-31 is more than a year "
                          "after the drill's start (2026-04-20)\n")
    assert not (tmp_path / "out").exists()


def test_a_dashboard_shows_each_metric_to_six_decimals():
    # the world's error rates while the gateway recovers have more digits (0.1501553...); a look
    # shows them rounded to 6 decimals, the same rounding at every look
    scenario = load_scenario(SCENARIOS / "checkout-config-push.yaml")
    shown = [v for seed in range(3) for e in run_drill(scenario, seed=seed, samples=False).events
             if e["kind"] == "dashboard.viewed" for v in e["metrics"].values()]
    assert all(v == round(v, 6) for v in shown)
    assert 0.150155 in shown and sum(v != round(v, 5) for v in shown) > 10


def test_a_logged_figure_is_rounded_as_round_rounds_it():
    # eventlog.rounded is round(x, places) (3 for a time, 6 for a metric): the same float, or the
    # same int, for halves and near halves, zeros of either sign, negatives, NaN, the very large
    import math
    import random

    from sim.model.eventlog import rounded

    rng = random.Random(5)
    cases = [0.0, -0.0, 1.0, 2.5e-7, 1.5e-6, 0.0000005, 0.1234565, 123.4565, 1e11, 1e13, -0.1234567, 7, -3,
             math.inf, 0.150155, 1234.5675]
    cases += [rng.uniform(0, 1) for _ in range(3000)] + [rng.uniform(0, 2000) for _ in range(3000)]
    cases += [round(rng.uniform(0, 100), places) + 5 * 10.0 ** -(places + 1) for places in (3, 6) for _ in range(1000)]
    cases += [rng.randrange(10 ** 9) / 10 ** 9 for _ in range(2000)]
    for x in cases:
        for places in (3, 6):
            got, want = rounded(x, places), round(x, places)
            assert type(got) is type(want) and got == want and math.copysign(1, got) == math.copysign(1, want), (x, places)
    assert math.isnan(rounded(math.nan, 6))


def test_an_investigation_takes_a_bots_nominal_time_over_its_experience_spread_lognormally():
    # A bot twice as experienced takes half the finding's nominal time, a person at a console the
    # nominal time, each times a lognormal factor of median 1 (sigma 0.25 of the log): over 4,000
    # draws the log's mean is within 0.02 of log(1/2) or 0 and its spread within 0.01 of 0.25
    # (standard errors 0.004 and 0.003).
    import math
    from dataclasses import replace

    import numpy as np

    from sim.model.engine import Drill

    drill = Drill(load_scenario(DATA / "tiny.yaml"))
    bot, person = drill.people["dana"], drill.people["lee"]
    bot.person = replace(bot.person, profile=replace(bot.profile, experience=2.0))
    person.bot = False
    for who, median in ((bot, 0.5), (person, 1.0)):
        logs = np.log([drill.investigation_factor(who.name) for _ in range(4000)])
        assert abs(logs.mean() - math.log(median)) < 0.02 and abs(logs.std() - 0.25) < 0.01


def test_an_investigations_duration_is_its_nominal_time_times_pace_times_the_seeds_draw():
    # Seed 0: the drill's generator of investigations (random.Random("0/investigations")) first
    # gives 0.398648, which seeds the draw of this one: random.Random(0.398648...)
    # .lognormvariate(0, 0.25) = 0.787034. dana, twice as experienced (pace 1/2), finds nothing on
    # api (nominal 5 minutes) after 300 x 0.5 x 0.787034 = 118.055 s: asked at 100 s, at 218.055 s.
    from dataclasses import replace

    from sim.inputs.actions import Action
    from sim.model.engine import Drill

    drill = Drill(load_scenario(DATA / "tiny.yaml"), seed=0)
    dana = drill.people["dana"]
    dana.person = replace(dana.person, profile=replace(dana.profile, experience=2.0))
    drill.start()
    drill.env.run(until=100)
    assert drill.act(Action("investigate", "dana", {"service": "api"})).ok
    drill.env.run(until=400)
    assert [(e["t"], e["text"]) for e in drill.log.events if e["kind"] == "finding"] == [
        (218.055, "Nothing unusual found on api")]


def test_a_scripted_drill_with_a_bot_has_only_the_scripts_participants(write):
    # A timeline script fixes who takes part: paging api (nobody on the roster is in it) brings no
    # stand-in, even though sam, a bot, could start a simulated team's growth.
    scenario = load_scenario(DATA / "tiny.yaml")
    script = load_script(write("s.yaml", """
        participants:
          - {name: dana, oncall: primary}
          - {name: sam, bot: true}
        actions:
          - {at: "+1m", by: dana, do: declare, severity: SEV2, service: api}
          - {at: "+2m", by: dana, do: page, teams: [api]}
    """), scenario.start)
    result = run_drill(scenario, script=script, samples=False)
    assert [e["teams"] for e in result.events if e["kind"] == "teams.paged"] == [["api"]]
    assert [p["name"] for p in result.participants] == ["dana", "sam"]


def test_an_unreachable_primary_never_answers_and_the_page_escalates(write):
    # tiny's alert pages dana (primary) at 225 s; unreachable, she never acknowledges, so after the
    # 5-minute escalation timeout (525 s) the page goes to lee (secondary), who acknowledges it.
    from dataclasses import replace

    scenario = replace(load_scenario(DATA / "tiny.yaml"), unreachable=("primary",))
    events = run_drill(scenario, samples=False).events
    pages = [(e["kind"], e.get("to") or e.get("by")) for e in events if e["kind"] in ("page.sent", "page.escalated",
                                                                                      "page.acked")]
    assert pages[:3] == [("page.sent", "dana"), ("page.escalated", "lee"), ("page.acked", "lee")]
    assert [e["t"] for e in events if e["kind"] == "page.escalated"][0] == 225 + 300


def test_a_quarter_plans_seat_is_handed_to_its_person_and_one_not_taking_part_is_skipped():
    # Unplanned, the IC (alex) hands comms to sam at 1064.557 s (seed 3); a plan seating lee for comms
    # has the team hand it to lee there. A seat for someone not in the drill changes nothing.
    scenario = load_scenario(SCENARIOS / "checkout-config-push.yaml")

    def comms(seats):
        events = run_drill(scenario, seed=3, samples=False, seats=seats).events
        return [(e["t"], e["who"]) for e in events if e["kind"] == "role.assigned" and e["role"] == "comms"]

    assert comms({"comms": "lee"}) == [(1064.557, "lee")]
    assert comms({"comms": "nobody"}) == comms(None) == [(1064.557, "sam")]


def test_a_script_plays_to_its_last_action_even_after_the_incident_closed(write):
    # Resolved at 2 min with the postmortem booked, the drill would end 5 minutes later (420 s);
    # the script still has a look at 15 min, so the drill ends there, after it.
    scenario = load_scenario(DATA / "tiny.yaml")
    script = load_script(write("s.yaml", """
        participants:
          - {name: dana, oncall: primary}
        actions:
          - {at: "+1m", by: dana, do: declare, severity: SEV2, service: api}
          - {at: "+2m", by: dana, do: resolve, confirm: true}
          - {at: "+2m", by: dana, do: schedule_postmortem, date: 2026-04-22}
          - {at: "+15m", by: dana, do: look, service: api}
    """), scenario.start)
    events = run_drill(scenario, script=script, samples=False).events
    assert [(e["t"], e["kind"]) for e in events if e["kind"] in ("dashboard.viewed", "drill.ended")] \
        == [(900, "dashboard.viewed"), (900, "drill.ended")]
