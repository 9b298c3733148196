"""What the simulated responders do, as docs/model.md (Responders) describes them.

Every bot here takes each delay's median (no spread), never misjudges and never lets an
update slip, so each time below is worked out from the defaults: acknowledge 120 s,
look 60 s, assess 90 s, coordinate 45 s, mitigate 120 s, the check interval 60 s.
"""

from dataclasses import replace

import pytest

from sim import load_scenario, run_drill
from sim.inputs.config import LogNormal, Process, Profile

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


def test_after_a_fix_that_worked_ops_judges_at_three_minutes_and_digs_again_fifteen_later(api_and_batch):
    events = run_drill(api_and_batch, Process(bots=EXACT)).events
    fix = of(events, "mitigation.applied", by="dana")[0]
    assert fix["faults"] == [{"fault": "boom", "outcome": "fixed", "returns_in": None}]
    # Judged from api's dashboard three minutes after the rollback: back at its usual 0.1 %.
    judged = [e for e in of(events, "dashboard.viewed", by="dana") if e["t"] > fix["t"]][0]
    assert (judged["t"] - fix["t"], judged["service"], judged["metrics"]["error_rate"]) == (180, "api", 0.001)
    # It helped and api looks normal: ops waits 15 minutes to see before digging again,
    # although batch's alert (which the fix did not touch) keeps firing all along.
    again = [e for e in of(events, "investigation.started", by="dana") if e["t"] > fix["t"]][0]
    assert again["t"] - fix["t"] == 180 + 900


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
