"""Two audiences, two cadences: the incident channel (internal) and the public status page.

Hand-made event logs with the default process: SEV1 internal cadence 15-30 min (deadlines
every 30 min = 1800 s), SEV1 status page 30 min-1 h (every 3600 s), first update of each
due 5 min (300 s) after the declaration.
"""

import datetime as dt
from dataclasses import replace

import pytest

from sim.inputs.actions import parse_action
from sim.inputs.config import Process
from sim.inputs.errors import DrillError
from sim.inputs.variants import load_variant
from sim.outputs.scoring import cadence_adherence, next_update_due, update_deadlines


def update(t, audience):
    return {"t": t, "kind": "update.posted", "audience": audience}


DECLARED = {"t": 0.0, "kind": "incident.declared", "severity": "SEV1"}
UPDATES = [update(200.0, "internal"), update(250.0, "public"), update(1900.0, "internal"), update(2000.0, "public")]
EVENTS = [DECLARED, *UPDATES, {"t": 4000.0, "kind": "incident.resolved"}]


def scored(audience):
    return replace(Process(), cadence_scored=audience)


def test_each_audience_is_scored_on_its_own_updates():
    # internal: 300 (met by 200), 200 + 1800 = 2000 (met by 1900), 1900 + 1800 = 3700
    # (missed: nothing internal until the resolution at 4000).
    assert update_deadlines(EVENTS, scored("internal")) == [(300.0, True), (2000.0, True), (3700.0, False)]
    # public: 300 (met by 250), 250 + 3600 = 3850 (met by 2000); 2000 + 3600 is after 4000.
    assert update_deadlines(EVENTS, scored("public")) == [(300.0, True), (3850.0, True)]
    assert cadence_adherence(EVENTS, scored("internal")) == pytest.approx(2 / 3)
    assert cadence_adherence(EVENTS, scored("public")) == 1.0
    assert cadence_adherence(EVENTS, scored("both")) == pytest.approx(4 / 5)


def test_the_clock_people_see_follows_the_scored_audience():
    so_far = [DECLARED, *UPDATES]
    # At 2100: the next internal update is due 1900 + 1800 = 3700, the next public one
    # 2000 + 3600 = 5600; both: the earlier.
    assert next_update_due(so_far, scored("internal"), 2100.0) == 3700.0
    assert next_update_due(so_far, scored("public"), 2100.0) == 5600.0
    assert next_update_due(so_far, scored("both"), 2100.0) == 3700.0


def test_a_status_page_is_due_once_the_severity_has_one():
    # Declared SEV3 (no status page), raised to SEV1 at 1000: the first public update is
    # due 1000 + 300 = 1300, met by the one at 1200; the next 1200 + 3600 = 4800 is after the end.
    events = [{**DECLARED, "severity": "SEV3"}, {"t": 1000.0, "kind": "severity.changed", "to": "SEV1"},
              update(1200.0, "public"), {"t": 4000.0, "kind": "incident.resolved"}]
    assert update_deadlines(events, scored("public")) == [(1300.0, True)]


def test_an_update_without_an_audience_is_internal():
    events = [DECLARED, {"t": 200.0, "kind": "update.posted"}, {"t": 1000.0, "kind": "incident.resolved"}]
    assert update_deadlines(events, scored("internal")) == [(300.0, True)]
    assert update_deadlines(events, scored("public")) == [(300.0, False)]


def test_the_audience_of_an_update_is_checked():
    start = dt.datetime(2026, 4, 20, tzinfo=dt.timezone.utc)
    assert parse_action({"do": "update", "by": "sam", "status": "investigating", "summary": "x",
                         "audience": "public"}, start).get("audience") == "public"
    with pytest.raises(ValueError, match="audience must be one of internal, public"):
        parse_action({"do": "update", "by": "sam", "status": "investigating", "summary": "x", "audience": "press"}, start)


def test_a_variant_can_score_the_status_page(write):
    path = write("status-page.yaml", """
        description: the status page cadence is what counts
        process:
          severities:
            SEV2: {status_page: none}
          scoring: {cadence: public}
    """)
    variant = load_variant("status-page", path)
    assert variant.process.cadence_scored == "public"
    assert variant.process.level("SEV2").status_page is None
    assert variant.process.level("SEV1").status_page == (1800.0, 3600.0)
    bad = write("bad.yaml", """
        process:
          scoring: {cadence: press}
    """)
    with pytest.raises(DrillError, match="scoring.cadence: expected one of internal, public, both"):
        load_variant("bad", bad)


def test_the_console_posts_to_the_status_page():
    from sim.live.commands import parse_command

    action = parse_command('update identified "Payments failing; a fix is under way" audience=public', "sam")
    assert (action["do"], action["audience"], action["status"]) == ("update", "public", "identified")


def test_an_escalation_wakes_the_writer_of_the_updates(write):
    # dana declares SEV3 (no public page) and hands comms to sam, a bot, who posts the first
    # internal update; at 15:10 dana raises it to SEV1, whose public page is due at once: sam,
    # woken by the change at the next minute's check, posts it minutes later, not at the
    # internal update the SEV3 plan had him waiting for (about 15:50)
    from sim import load_scenario, load_script, run_drill

    from .conftest import SCENARIOS

    scenario = load_scenario(SCENARIOS / "checkout-config-push.yaml")
    script = load_script(write("escalate.yaml", """
        participants:
          - {name: dana, oncall: primary}
          - {name: sam, bot: true}
        actions:
          - {at: "14:48", by: dana, do: ack}
          - {at: "14:50", by: dana, do: declare, severity: SEV3, service: checkout}
          - {at: "14:51", by: dana, do: assign, role: comms, who: sam}
          - {at: "15:10", by: dana, do: severity, severity: SEV1, reason: customers affected}
    """), scenario.start)
    events = run_drill(scenario, script=script, seed=0, samples=False).events
    public = [e["t"] for e in events if e["kind"] == "update.posted" and e["audience"] == "public"]
    assert 1800 + 60 < public[0] < 1800 + 600  # 15:10 is t = 1800; the first check after it at 15:11
