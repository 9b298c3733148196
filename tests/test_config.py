"""Every problem in an input file is reported as file:line: message."""

import pytest

from sim import DrillError, load_process, load_roster, load_scenario, load_script
from sim.inputs import units
from sim.inputs.alertmanager import load_alertmanager
from sim.inputs.variants import load_variant
from sim.validate import validate

from .conftest import DATA, REPO, SCENARIOS


def problems(exc) -> list[str]:
    return str(exc.value).splitlines()


def refused(load, *args) -> list[str]:
    """The problems ``load(*args)`` is refused with, one a line."""
    with pytest.raises(DrillError) as exc:
        load(*args)
    return problems(exc)


def test_units():
    assert units.duration("90s") == 90
    assert units.duration("15m") == 900
    assert units.duration("1h30m") == 5400
    assert units.duration(42) == 42
    assert units.fraction("15%") == pytest.approx(0.15)
    with pytest.raises(ValueError, match="expected a duration"):
        units.duration("soon")


def test_business_days_after_is_numpys_forward_busday_offset():
    import datetime as dt

    import numpy as np
    day = dt.date(2026, 1, 1)
    for _ in range(60):  # every weekday and weekend day, across a month's end
        for count in (0, 1, 3, 5, 8):
            assert units.business_days_after(day, count).isoformat() == str(np.busday_offset(day, count, roll="forward"))
        day += dt.timedelta(days=1)


def test_business_days_between_is_numpys_busday_count():
    import datetime as dt

    import numpy as np
    start = dt.date(2026, 1, 1)
    for a in range(21):  # every weekday and weekend day as either end, spans of 0 to 3 weeks, both ways
        for b in range(21):
            first, last = start + dt.timedelta(days=a), start + dt.timedelta(days=3 * b)
            assert units.business_days_between(first, last) == int(np.busday_count(first, last)), (first, last)
    assert units.business_days_between(dt.date(2026, 4, 20), dt.date(2026, 4, 27)) == 5  # a Monday to the next
    assert units.business_days_between(dt.date(2026, 4, 25), dt.date(2026, 4, 27)) == 0  # a weekend
    assert units.business_days_between(dt.date(2026, 4, 27), dt.date(2026, 4, 24)) == -1  # back from a Monday past a weekend


def test_yaml_syntax_error_names_file_and_line(write):
    path = write("broken.yaml", """
        name: x
        services:
          api: {team: api
        faults: []
    """)
    with pytest.raises(DrillError) as exc:
        load_scenario(path)
    assert problems(exc)[0].startswith(f"{path}:4: invalid YAML")
    impossible = write("date.yaml", "name: x\nstart: 2026-13-01\n")
    with pytest.raises(DrillError, match=r"date.yaml:2: invalid YAML: '2026-13-01' is not a valid date or time"):
        load_scenario(impossible)


def test_every_scenario_problem_is_reported_with_its_line(write):
    path = write("bad.yaml", """
        name: bad
        start: 2026-04-20T14:40:00Z
        services:
          api:
            team: api
            depends_on: [db]
            error_rate: lots
        faults:
          - kind: meteor
            service: api
            at: 5m
          - kind: config_push
            service: nope
            at: soon
        alerts:
          - alert: X
            expr: 'errors{service="api"} > 1'
        colour: blue
        truth:
          severity: SEV9
    """)
    with pytest.raises(DrillError) as exc:
        load_scenario(path)
    got = problems(exc)
    assert f"{path}:6: services.api.depends_on: unknown service 'db'" in got
    assert any(p.startswith(f"{path}:7: services.api.error_rate: expected a number or a percentage") for p in got)
    assert any(p.startswith(f"{path}:9: faults[0].kind: expected one of bad_deploy") for p in got)
    assert any(p.startswith(f"{path}:13: faults[1].service: unknown service 'nope'") for p in got)
    assert any(p.startswith(f"{path}:14: faults[1].at: expected a duration") for p in got)
    assert any(p.startswith(f"{path}:17: alerts[0].expr: unknown metric 'errors'") for p in got)
    assert any(p.startswith(f"{path}:18: scenario: unknown field 'colour'") for p in got)
    assert any(p.startswith(f"{path}:20: truth.severity: expected one of SEV1") for p in got)


def test_dependency_cycles_are_rejected(write):
    path = write("cycle.yaml", """
        start: 2026-04-20T14:40:00Z
        services:
          a: {team: t, depends_on: [b]}
          b: {team: t, depends_on: [a]}
        truth: {severity: SEV2}
    """)
    with pytest.raises(DrillError, match="dependency cycle a -> b -> a"):
        load_scenario(path)


def test_process_roster_and_script_problems(write):
    process = write("process.yaml", """
        severities:
          SEV1: {cadence: [30m, 15m], roles: [ic, chef]}
        scoring:
          weights: {speed: 3}
    """)
    with pytest.raises(DrillError) as exc:
        load_process(process)
    got = problems(exc)
    assert any(p.startswith(f"{process}:2: severities.SEV1.cadence:") for p in got)
    assert f"{process}:2: severities.SEV1.roles: unknown role 'chef' (known: ic, comms, ops)" in got
    assert any(p.startswith(f"{process}:4: scoring.weights: unknown score component 'speed'") for p in got)

    roster = write("roster.yaml", """
        people:
          - {name: dana, oncall: primary, trained: [ic, juggling]}
          - {name: dana, oncall: primary}
    """)
    with pytest.raises(DrillError) as exc:
        load_roster(roster)
    got = problems(exc)
    assert any("unknown role 'juggling'" in p and p.startswith(f"{roster}:2:") for p in got)
    assert f"{roster}:3: people[1]: 'dana' is listed twice (first at line 2)" in got
    assert f"{roster}:1: people: more than one primary on-call" in got

    script = write("script.yaml", """
        participants:
          - {name: dana, oncall: primary}
        actions:
          - {at: "14:49", by: dana, do: ack}
          - {at: "14:50", by: dana, do: dance}
          - {at: "25:00", by: dana, do: ack}
          - {at: "14:51", by: kim, do: ack}
          - {at: "14:52", by: dana, do: mitigate, action: pray, service: x}
    """)
    with pytest.raises(DrillError) as exc:
        load_script(script)
    got = problems(exc)
    assert any(p.startswith(f"{script}:5: actions: unknown action 'dance'") for p in got)
    assert any(p.startswith(f"{script}:6: actions: ") for p in got)
    assert f"{script}:7: actions: 'kim' is not a participant (participants: dana)" in got
    assert any(p.startswith(f"{script}:8: actions: mitigate: mitigation must be one of") for p in got)


def test_a_process_weighs_at_least_one_score_component(write):
    # Before, every weight at 0 was taken and every drill scored 0.0 / 100.
    process = write("process.yaml", """
        scoring:
          weights: {declare: 0, severity: 0, cadence: 0, roles: 0, mitigate: 0, impact: 0, checklist: 0, teams: 0,
                    false_alarm: 0}
    """)
    assert refused(load_process, process) == [f"{process}:2: scoring.weights: every weight is 0; give at least one a weight"]
    one = write("one.yaml", process.read_text().replace("teams: 0", "teams: 1"))
    assert load_process(one).weights["teams"] == 1


def test_severities_left_empty_are_refused_not_read_as_the_built_in_levels(write):
    for given in ("severities: {}\n", "severities:\npage_teams: all\n"):
        process = write("process.yaml", given)
        assert refused(load_process, process) == [
            (f"{process}:1: severities: no level is given: give at least one, or leave severities: out for the "
             "built-in levels (SEV1, SEV2, SEV3, SEV4)")]
        with pytest.raises(DrillError, match=f"{process}:1: severities: no level is given"):
            load_variant("v", REPO / "drills" / "variants" / "cadence-15m.yaml", process)
    assert list(load_process(write("none.yaml", "page_teams: all\n")).severities) == ["SEV1", "SEV2", "SEV3", "SEV4"]


def test_a_level_lists_a_role_once(write):
    # [ic, ic] was taken as [ic]: most likely [ic, comms] was meant.
    process = write("process.yaml", """
        severities:
          SEV1:
            roles: [ic, ic, ops]
    """)
    assert refused(load_process, process) == [f"{process}:3: severities.SEV1.roles: 'ic' is listed twice"]


def test_a_level_that_staffs_roles_staffs_an_incident_commander(write):
    # roles: [comms] was taken, and the bots still made the declarer IC and handed IC to a senior
    # engineer at that level (their hand-over follows any level with roles), while role coverage
    # and the checklist asked for a Communications Lead only: the file said what never happened.
    process = write("process.yaml", """
        severities:
          P1: {response: 5m, cadence: [10m, 20m], roles: [ic, comms, ops], postmortem: true}
          P2: {response: 15m, cadence: 30m, roles: [comms], postmortem: true}
          P3: {response: 1h, cadence: 1h, roles: [comms, ops], postmortem: false}
          P4: {response: 4h, cadence: 4h, roles: [], postmortem: false}
    """)
    why = ("a level that staffs roles runs the full process, which an Incident Commander runs (declares, sets the "
           "severity, delegates, resolves, books the postmortem; the Communications and Operations Leads work for one)")
    assert refused(load_process, process) == [
        (f"{process}:3: severities.P2.roles: [comms] without ic: {why}: give [ic, comms], or [] for a level handled by "
         "normal on-call"),
        (f"{process}:4: severities.P3.roles: [comms, ops] without ic: {why}: give [ic, comms, ops], or [] for a level "
         "handled by normal on-call")]


def test_a_level_of_a_name_of_its_own_gives_what_the_built_in_ones_would_fill_in(write):
    # Before, P1 took SEV3's roles (none) and postmortem (no): a team's most severe level ran
    # without an IC and booked no postmortem, and validate said ok.
    process = write("process.yaml", """
        severities:
          P1:
            response: 5m
            cadence: [10m, 20m]
          SEV2:
            response: 10m
    """)
    assert refused(load_process, process) == [
        (f"{process}:2: severities.P1: give roles, postmortem: a level of a name of its own takes nothing from the "
         "built-in levels (SEV1, SEV2, SEV3, SEV4)")]
    whole = write("whole.yaml", process.read_text().replace("cadence: [10m, 20m]",
                                                            "cadence: [10m, 20m]\n    roles: [ic]\n    postmortem: true"))
    p1 = load_process(whole).level("P1")
    assert (p1.roles, p1.postmortem, p1.status_page, p1.description) == (("ic",), True, None, "")


def test_a_script_lists_each_participant_once(write):
    # Before, dana listed twice was paged as neither: her ack was rejected and the drill scored 0.
    script = write("script.yaml", """
        participants:
          - {name: dana, oncall: primary}
          - {name: lee, oncall: secondary}
          - {name: dana}
        actions:
          - {at: "14:49", by: dana, do: ack}
    """)
    assert refused(load_script, script) == [f"{script}:4: participants[2]: 'dana' is listed twice (first at line 2)"]


def test_a_script_acts_only_for_the_people_it_plays(write):
    # Before, the bot dana took the scripted ack for her own, then did nothing for 55 minutes and
    # declared SEV1 on search (the noise alert) while checkout failed (checkout-config-push).
    script = write("script.yaml", """
        participants:
          - {name: dana, oncall: primary, bot: true}
          - {name: lee}
        actions:
          - {at: "14:49", by: dana, do: ack}
          - {at: "14:50", by: lee, do: look, service: checkout}
    """)
    assert refused(load_script, script) == [
        f"{script}:5: actions: dana is played by a bot (bot: true): a script acts only for the people it plays"]


def test_a_person_has_a_name(write):
    # An empty name was taken: the drill paged '' (" paged (high urgency): ...") and nobody answered.
    roster = write("roster.yaml", """
        people:
          - {name: "", oncall: primary}
          - {name: "  ", oncall: secondary}
    """)
    got = refused(load_roster, roster)
    assert f"{roster}:2: people[0].name: expected a name, got empty text" in got
    assert f"{roster}:3: people[1].name: expected a name, got empty text" in got
    script = write("script.yaml", 'participants:\n  - {name: "", oncall: primary}\nactions: []\n')
    assert refused(load_script, script) == [f"{script}:2: participants[0].name: expected a name, got empty text"]


def test_a_script_action_after_the_drills_end_is_refused(write):
    # The reference drill runs from 14:40 for 3 h. Before, dana's ack at 23:59 was taken and never
    # played: nobody acknowledged, the drill scored 0 and the script was not said to be wrong.
    scenario = load_scenario(SCENARIOS / "checkout-config-push.yaml")
    script = write("script.yaml", """
        participants:
          - {name: dana, oncall: primary}
        actions:
          - {at: "17:40", by: dana, do: ack}
          - {at: "23:59", by: dana, do: ack}
          - {at: "+3h0m1s", by: dana, do: ack}
    """)
    assert refused(load_script, script, scenario.start, scenario.horizon) == [
        f"{script}:5: actions: 23:59 is after the drill ends (17:40 UTC, its horizon)",
        f"{script}:6: actions: +3h0m1s is after the drill ends (17:40 UTC, its horizon)"]
    assert len(load_script(script).actions) == 3  # alone, with no drill to end, only the form is checked


def test_clock_times_are_read_on_the_scenario_start_date():
    scenario = load_scenario(SCENARIOS / "checkout-config-push.yaml")
    script = load_script(DATA / "article.yaml", scenario.start)
    first_at, first = script.actions[0]
    assert (first_at, first.do, first.by) == (540.0, "ack", "dana")  # 14:49 is 9 minutes after 14:40


def test_validate_recognises_each_kind_of_file(write):
    assert validate(SCENARIOS / "checkout-config-push.yaml") == "scenario"
    assert validate(DATA / "article.yaml") == "script"
    assert validate(write("r.yaml", "people:\n  - {name: a, oncall: primary}\n")) == "roster"
    assert validate(write("p.yaml", "initial_update: 5m\n")) == "process"
    # A chaos mapping file may hold only aliases: names in experiments -> topology services.
    assert validate(write("m.yaml", "services: {my-provider-app: payment-gateway}\n")) == "chaos mapping"
    # A scenario begun without services is still named a scenario, whose missing fields are listed.
    begun = write("s.yaml", "name: café\nstart: 2026-04-20T14:40:00Z\n")
    with pytest.raises(DrillError) as exc:
        validate(begun)
    assert problems(exc) == [
        f"{begun}:1: name: expected a plain name (letters, digits, '.', '_' and '-', at most 100), got 'café'",
        f"{begun}:1: scenario: missing required field 'services'",
        f"{begun}:1: scenario: missing required field 'truth'"]


def test_an_explicit_kind_decides_and_must_match_the_file(write):
    # Shape alone reads an empty-ish roster-less file as a process; `kind:` says otherwise.
    assert validate(write("k.yaml", "kind: roster\npeople:\n  - {name: a, oncall: primary}\n")) == "roster"
    assert validate(write("p.yaml", "kind: process\ninitial_update: 5m\n")) == "process"
    with pytest.raises(DrillError) as bad:
        validate(write("u.yaml", "kind: playbook\ninitial_update: 5m\n"))
    assert str(bad.value).startswith(f"{write('u.yaml', 'kind: playbook')}:1: kind: unknown kind 'playbook' (known: topology,")
    # A scenario that calls itself a roster is read as a roster, and what does not fit is named.
    with pytest.raises(DrillError) as wrong:
        validate(write("s.yaml", "services: {}\nkind: roster\n"))
    assert "unknown field 'services'" in str(wrong.value)
    elsewhere = write("a.yaml", "kind: scenario\n")
    with pytest.raises(DrillError) as other:
        load_alertmanager(elsewhere)
    assert str(other.value) == f"{elsewhere}:1: kind: 'scenario', but this is read as kind 'alertmanager'"
    # Loaders accept their own kind, so a file with `kind: scenario` runs too.
    text = (SCENARIOS / "checkout-config-push.yaml").read_text(encoding="utf-8")
    assert load_scenario(write("c.yaml", "kind: scenario\n" + text)).name == load_scenario(SCENARIOS / "checkout-config-push.yaml").name


def test_a_scenario_name_too_long_for_the_file_system_is_no_file():
    # found by benchmarks/fuzz_inputs.py: a plan naming a 5,000-character scenario raised OSError
    from sim.inputs.config import scenario_path

    with pytest.raises(DrillError, match="File name too long"):
        scenario_path("x" * 5000)


def test_a_dependency_can_pass_on_only_a_share_of_its_errors(write):
    path = write("spread.yaml", """
        start: 2026-04-20T14:40:00Z
        services:
          web: {team: t, customer_facing: true, depends_on: [{service: api, spread: 30%}, db]}
          api: {team: t, depends_on: db}
          db: {team: t}
        truth: {severity: SEV2}
    """)
    services = load_scenario(path).services
    assert services["web"].depends_on == ("api", "db") and services["api"].depends_on == ("db",)
    assert (services["web"].spread_from("api"), services["web"].spread_from("db"), services["api"].spread_from("db")) == (0.3, 1.0, 1.0)


def test_a_bad_dependency_entry_is_reported_with_its_line(write):
    path = write("bad-spread.yaml", """
        start: 2026-04-20T14:40:00Z
        services:
          api:
            team: t
            depends_on:
              - {service: db, spread: 1.5}
              - {servce: db}
              - [db]
          db: {team: t}
        truth: {severity: SEV2}
    """)
    with pytest.raises(DrillError) as exc:
        load_scenario(path)
    got = problems(exc)
    assert any(p.startswith(f"{path}:6: services.api.depends_on.spread: expected a number or a percentage from 0 to 1")
               for p in got)
    assert f"{path}:7: services.api.depends_on: missing required field 'service'" in got
    assert f"{path}:7: services.api.depends_on: unknown field 'servce' (known: service, spread)" in got
    assert f"{path}:8: services.api.depends_on: expected text, got a list" in got


def test_a_service_cannot_relabel_the_series_own_labels(write):
    # labels: {service: front} took every series of api for a service 'front' the drill lacks:
    # the first scrape for a PromQL rule failed with KeyError: 'front'
    path = write("relabel.yaml", """
        start: 2026-04-20T14:40:00Z
        services:
          api: {team: t, customer_facing: true, labels: {service: front, job: web}}
          db: {team: t, labels: {code: prod, le: "1"}}
        truth: {severity: SEV2}
    """)
    assert refused(load_scenario, path) == [
        f"{path}:3: services.api.labels: 'service' is the series' own label: every series' service (the service's name)",
        f"{path}:4: services.db.labels: 'code' is the series' own label: http_requests_total's status code",
    ]


def test_a_service_has_a_team(write):
    # team: '' ran: 'alex pages the  team', and '-oncall joins the incident channel for team '
    path = write("no-team.yaml", """
        start: 2026-04-20T14:40:00Z
        services:
          api: {team: "", customer_facing: true}
          db: {team: "  "}
        truth: {severity: SEV2}
    """)
    assert refused(load_scenario, path) == [f"{path}:3: services.api.team: expected a name, got empty text",
                                            f"{path}:4: services.db.team: expected a name, got empty text"]


def test_a_fault_or_blip_starts_before_the_drill_ends(write):
    # a fault at 10h15m in a 3h drill was taken and never started: a drill of nothing happening
    path = write("late.yaml", """
        start: 2026-04-20T14:40:00Z
        horizon: 3h
        services:
          api: {team: t, customer_facing: true}
        faults:
          - {kind: process_kill, service: api, at: 2h59m}
          - {kind: process_kill, service: api, at: 10h15m30s}
        noise:
          - {service: api, metric: cpu, value: 0.95, at: 3h}
        truth: {severity: SEV2}
    """)
    assert refused(load_scenario, path) == [
        f"{path}:7: faults[1].at: 10h15m30s is not before the drill ends (horizon 3h): it would never start",
        f"{path}:9: noise[0].at: 3h is not before the drill ends (horizon 3h): it would never start",
    ]
