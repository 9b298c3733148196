"""A live drill and the team's real tools, without the real binaries (tests/test_real_binaries.py
has those): the /metrics exposition, the inbound webhooks read and refused with reasons, pages
from the team's Alertmanager and acknowledgements from PagerDuty as the drill's own, replayed
byte for byte; the server's webhook answers and a dry run."""

import json

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from sim.inputs.errors import DrillError
from sim.live import webhooks
from sim.live.drill import EVENTS, LiveDrill
from sim.live.metrics import Exporter
from sim.live.tools import Tools
from sim.model.world import World

from .conftest import FIXTURES, needs_fixtures, paused_drill
from .serving import Server, free_port



def fixture(name: str) -> dict:
    folder = "alertmanager" if name.startswith("alertmanager") else "pagerduty"
    return json.loads((FIXTURES / folder / name).read_text())


def test_metrics_are_the_drills_series_in_the_prometheus_text_format(tmp_path):
    live = paused_drill(tmp_path)
    world = World(live.scenario)
    exporter = Exporter(live.scenario.services)
    world.observe(0.0)
    exporter.scraped(0.0, world.metrics)
    world.observe(15.0)
    exporter.scraped(15.0, world.metrics)
    families = {f.name: f for f in text_string_to_metric_families(exporter.exposition().decode())}
    assert {"http_requests", "http_request_duration_seconds", "up", "process_cpu_seconds",
            "process_resident_memory_bytes", "error_rate"} <= set(families)
    assert families["http_requests"].type == "counter" and families["http_request_duration_seconds"].type == "histogram"

    def sample(family, name, **labels):
        return next(s.value for s in families[family].samples
                    if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()))

    # checkout takes 120 requests a second, 0.02% failing, calm at both scrapes: over the 15 s
    # between them, 120 * 15 * 0.9998 = 1799.64 answered and 120 * 15 * 0.0002 = 0.36 failed.
    assert sample("http_requests", "http_requests_total", service="checkout", code="200") == pytest.approx(1799.64)
    assert sample("http_requests", "http_requests_total", service="checkout", code="500") == pytest.approx(0.36)
    count = sample("http_request_duration_seconds", "http_request_duration_seconds_count", service="checkout")
    infinite = sample("http_request_duration_seconds", "http_request_duration_seconds_bucket", service="checkout",
                      le="+Inf")
    assert count == pytest.approx(1800) == infinite
    assert sample("up", "up", service="checkout", team="checkout", job="checkout") == 1.0


def test_the_console_serves_metrics_on_a_port_of_its_own(tmp_path):
    live = paused_drill(tmp_path / "drill")
    tools = Tools(live.folder, metrics=True)
    tools.attach(live)
    port = free_port()
    server, _ = tools.exporter.serve("127.0.0.1", port)
    try:
        live.advance(until=31)  # two scrapes after the attach: at 15 s and 30 s
        text = httpx.get(f"http://127.0.0.1:{port}/metrics").text
    finally:
        server.shutdown()
        server.server_close()
    failed = next(s.value for f in text_string_to_metric_families(text) for s in f.samples
                  if s.name == "http_requests_total" and s.labels == {"code": "500", "job": "checkout",
                                                                      "service": "checkout", "team": "checkout"})
    assert failed == pytest.approx(0.36)  # counted from the first scrape heard: 15 s of 120/s at 0.02%


@needs_fixtures
def test_alertmanager_webhooks_are_read_and_bad_ones_refused_with_reasons():
    firing = webhooks.alertmanager_notification(fixture("alertmanager_webhook_v4_firing_msteams_testdata.json"))
    assert (firing["receiver"], firing["status"]) == ("teams_proxy", "firing")
    assert firing["alerts"][0]["status"] == "firing"  # an alert without a status has the notification's
    assert firing["alerts"][0]["labels"]["alertname"] == "high_memory_load"
    resolved = webhooks.alertmanager_notification(fixture("alertmanager_webhook_v4_resolved.json"))
    assert resolved["alerts"][0]["fingerprint"] == "fbab788ec4c1018b"
    good = fixture("alertmanager_webhook_v4_resolved.json")
    for change, reason in [
        ({"version": "3"}, 'not an Alertmanager webhook of version 4 ("version" is "3", not "4")'),
        ({"status": "done"}, "status must be firing or resolved, got 'done'"),
        ({"alerts": []}, "alerts must be a list of at least one alert"),
        ({"alerts": [{"labels": {"severity": "page"}}]}, "alerts[0].labels has no alertname"),
        ({"alerts": [{"labels": {"alertname": 3}}]}, "alerts[0].labels.alertname must be a string, got a number"),
        ({"alerts": ["x"]}, "alerts[0] must be a JSON object, got a string"),
        ({"receiver": None}, "receiver must be a string, got nothing"),
        ({"version": 4}, 'not an Alertmanager webhook of version 4 ("version" is 4, not "4")'),  # a number
        ({"groupKey": True}, "groupKey must be a string, got true or false"),
    ]:
        with pytest.raises(DrillError) as refused:
            webhooks.alertmanager_notification({**good, **change})
        assert str(refused.value) == reason
    with pytest.raises(DrillError, match="the body must be a JSON object, got an array"):
        webhooks.alertmanager_notification([good])


@needs_fixtures
def test_pagerduty_webhooks_are_read_and_bad_ones_refused():
    event = webhooks.pagerduty_event(fixture("pagerduty_webhook_v3_incident_priority_updated.json"))
    assert event == {"type": "incident.priority_updated", "incident_key": "d3640fbd41094207a1c11e58e46b1662",
                     "agent": "Tenex Engineer"}
    with pytest.raises(DrillError, match="event must be a JSON object, got nothing"):
        webhooks.pagerduty_event({"messages": []})  # a v2 webhook's shape
    body = fixture("pagerduty_webhook_v3_incident_priority_updated.json")
    body["event"]["resource_type"] = "service"
    with pytest.raises(DrillError, match="event.resource_type must be incident, got 'service'"):
        webhooks.pagerduty_event(body)


def notification(status: str, group: str = '{}:{alertname="CheckoutErrors"}') -> dict:
    alert = {"status": status, "labels": {"alertname": "CheckoutErrors", "service": "checkout", "severity": "page"},
             "annotations": {"summary": "Checkout errors above 5%"}, "fingerprint": "ab12"}
    return webhooks.alertmanager_notification({"version": "4", "status": status, "receiver": "drill",
                                               "groupKey": group, "alerts": [alert]})


def test_an_acknowledgement_on_a_phone_leaves_a_bot_s_page_to_the_bot(tmp_path):
    # ana plays IC; dana, the primary on-call, is a bot. Acknowledged in dana's name on a phone
    # at 470 s, her page P1 was taken for handled: she worked none of it, acked P2 at 905 s and
    # declared at 997 s. Left to her, she acks at 525 s and declares at 702 s, as with no phone.
    live = paused_drill(tmp_path, players=({"name": "ana", "as": "ic"},))
    live.advance(until=470)
    assert [(e["page"], e["to"]) for e in live.drill.log.events if e["kind"] == "page.sent"] == [("P1", "dana"), ("P2", "dana")]
    for agent in ("someone on PagerDuty", "dana"):
        answer = live.pager_ack("P1", agent)
        assert answer.ok and answer.reason == "P1 is with dana, played by a bot in this drill: the bot acknowledges it"
    live.advance(until=800)
    assert [(round(e["t"]), e["kind"], e["by"]) for e in live.drill.log.events
            if e["kind"] in ("page.acked", "incident.declared")] == [
        (525, "page.acked", "dana"), (525, "page.acked", "dana"), (702, "incident.declared", "dana")]


def test_the_teams_alertmanager_pages_in_the_drill_and_a_resume_replays_it(tmp_path):
    live = paused_drill(tmp_path, extra={"pages": "alertmanager"})
    live.advance(until=600)  # the drill's own checkout alert fired at 14:47:xx and paged nobody
    assert "alert.firing" in [e["kind"] for e in live.drill.log.events]
    assert not live.drill.monitoring.pages
    assert live.notified(notification("firing")).ok
    page = live.drill.log.events[-1]
    assert (page["kind"], page["to"], page["urgency"], page["summary"]) == ("page.sent", "ana", "high",
                                                                             "Checkout errors above 5%")
    assert page["cause"] == ["gateway-config-push"]  # what is wrong with checkout at 600 s, from the scenario
    live.advance(until=700)
    assert live.pager_ack("P1", "someone on PagerDuty").ok  # not a person of the drill: the page's holder acks
    assert live.drill.log.events[-1] == {**live.drill.log.events[-1], "kind": "page.acked", "page": "P1", "by": "ana"}
    assert live.pager_ack("P1").reason == "P1 is already acknowledged, by ana"  # PagerDuty echoing the drill's ack
    assert live.pager_ack("P9").reason == "no open page P9 to acknowledge"
    assert live.notified(notification("resolved")).ok
    assert live.drill.log.events[-1]["kind"] == "page.resolved"
    before = (tmp_path / EVENTS).read_text()
    again = LiveDrill.open(tmp_path)
    assert [e["kind"] for e in again.drill.log.events] == [e["kind"] for e in live.drill.log.events]
    assert (tmp_path / EVENTS).read_text() == before  # the replay matched the journal byte for byte


def test_a_drill_that_pages_by_itself_refuses_notifications(tmp_path):
    live = paused_drill(tmp_path)
    assert live.notified(notification("firing")).reason.startswith(
        "this drill pages from its own alert routing: serve it with --pages-from alertmanager")


def pagerduty_webhook(server, token: str, body: dict, secret: str = "s3cret"):
    """POST ``body`` as PagerDuty does: signed with the subscription's secret."""
    import hashlib
    import hmac

    raw = json.dumps(body).encode()
    signature = "v1=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return server.http.post(f"/w/{token}/pagerduty", content=raw, headers={
        "content-type": "application/json", "x-pagerduty-signature": f"v1=0000, {signature}"})  # a rotated secret's first


def test_pagerduty_signatures_are_checked_over_the_raw_body():
    body = b'{"event": {}}'
    # printf '{"event": {}}' | openssl dgst -sha256 -hmac s3cret
    good = "v1=41efa1ef7ba0e7608ffc13fe9ca956e053adeee49411f34151327d3f0006a336"
    webhooks.pagerduty_signed(body, good, "s3cret")
    webhooks.pagerduty_signed(body, f"v1=deadbeef,{good}", "s3cret")  # one of the listed signatures is enough
    with pytest.raises(DrillError, match="does not match the body signed with the webhook's secret"):
        webhooks.pagerduty_signed(body, good, "another secret")
    with pytest.raises(DrillError, match="does not match"):
        webhooks.pagerduty_signed(body + b" ", good, "s3cret")


@needs_fixtures
def test_the_server_answers_webhooks_with_reasons_and_a_dry_run_sends_nothing(tmp_path):
    with Server(tmp_path / "drill", "--speed", "200", "--pages-from", "alertmanager", "--dry-run",
                "--pagerduty-webhook-secret", "s3cret",
                "--chat-webhook", "http://127.0.0.1:9/hook", "--pagerduty-routing-key", "KEY",
                "--pagerduty-url", "http://127.0.0.1:9/v2/enqueue") as server:
        token = json.loads((server.folder / "webhooks.json").read_text())["token"]
        body = fixture("alertmanager_webhook_v4_firing_msteams_testdata.json")
        hook = f"/w/{token}/alertmanager"
        answer = server.http.post(hook, json=body)
        assert (answer.status_code, answer.json()["reason"]) == (503, "the drill has not started yet")
        wrong = token[:-1] + ("y" if token.endswith("x") else "x")  # (a token may end in x itself)
        assert server.http.post(f"/w/{wrong}/alertmanager", json=body).status_code == 403
        answer = server.http.post(hook, json={**body, "version": "2"})
        assert (answer.status_code, answer.json()["reason"]) == (
            400, 'not an Alertmanager webhook of version 4 ("version" is "2", not "4")')
        assert server.http.post(hook, content=b"{", headers={"content-type": "application/json"}).status_code == 400
        server.seat("primary", "ana")
        assert server.control("start")["ok"]
        assert server.http.post(hook, json=body).json() == {"ok": True, "reason": ""}
        pd = fixture("pagerduty_webhook_v3_incident_priority_updated.json")
        pd["event"]["event_type"] = "incident.acknowledged"
        answer = server.http.post(f"/w/{token}/pagerduty", json=pd)
        assert (answer.status_code, answer.json()["reason"]) == (
            401, "no X-PagerDuty-Signature header: this webhook needs PagerDuty's signature")
        answer = pagerduty_webhook(server, token, pd)
        assert (answer.status_code, answer.json()["reason"]) == (
            409, "incident_key 'd3640fbd41094207a1c11e58e46b1662' is no page of this drill (expected drill-drill-P<n>)")
        del pd["event"]["data"]["incident_key"]  # raised in PagerDuty by hand: it has none
        answer = pagerduty_webhook(server, token, pd)
        assert (answer.status_code, answer.json()["reason"]) == (
            409, "the incident has no incident_key: it is no page of this drill (expected drill-drill-P<n>)")
        pd["event"]["data"]["incident_key"] = "drill-drill-P1"
        assert pagerduty_webhook(server, token, pd).json()["ok"]
        state = server.wait_for(lambda s: any(e["kind"] == "page.acked" for e in s["events"]))
        assert state["tools"]["endpoints"]["pagerduty"]["ok"]  # a dry run fails nothing
    lines = (tmp_path / "drill" / "outbound.jsonl").read_text().splitlines()
    sent = [json.loads(line) for line in lines]
    # The page the webhook raised went to PagerDuty, then its acknowledgement: as a dry run, so
    # never tried (nothing listens on port 9: a real attempt would have been "failed").
    assert [(s["endpoint"], s["event"], s["status"]) for s in sent] == [("pagerduty", "page.sent", "dry-run"),
                                                                      ("pagerduty", "page.acked", "dry-run")]


def test_each_status_update_is_kept_as_a_statuspage_incident(tmp_path):
    live = paused_drill(tmp_path / "drill")
    Tools(live.folder).attach(live)
    live.advance(until=600)
    live.act({"do": "declare", "by": "ana", "severity": "SEV1", "service": "checkout"})
    live.act({"do": "update", "by": "ana", "status": "investigating", "summary": "Checkout is failing",
              "audience": "public"})
    live.advance(until=700)
    live.act({"do": "update", "by": "ana", "status": "identified", "summary": "Gateway config push 4411 broke TLS"})
    live.act({"do": "update", "by": "ana", "status": "mitigating", "summary": "Rolled back the gateway config",
              "audience": "public"})
    incident = json.loads((live.folder / "statuspage.json").read_text())
    # Newest first, as Statuspage lists them; "mitigating" is Statuspage's "monitoring".
    assert [(u["status"], u["body"]) for u in incident["incident_updates"]] == [
        ("monitoring", "[DRILL] Rolled back the gateway config"), ("investigating", "[DRILL] Checkout is failing")]
    assert incident["status"] == "monitoring" and incident["metadata"] == {"drill": {"id": "drill"}}
    # declared SEV1 on checkout: the component shows a major outage from the first public update on
    assert [(c["name"], c["status"]) for c in incident["components"]] == [("checkout", "major_outage")]
    assert incident["impact"] == "critical"


def test_a_resumed_drill_goes_on_with_its_status_page(tmp_path):
    from sim.live.outbound import Outbox, endpoints

    live = paused_drill(tmp_path / "drill")
    live.advance(until=600)
    live.act({"do": "declare", "by": "ana", "severity": "SEV2", "service": "checkout"})
    live.act({"do": "update", "by": "ana", "status": "investigating", "summary": "Checkout is failing",
              "audience": "public"})
    said = []
    box = Outbox(live.folder, "drill", endpoints(statuspage_url="http://127.0.0.1:9/updates"), dry_run=True,
                 say=said.append)
    later = LiveDrill.open(live.folder)  # resumed after its first public update
    Tools(later.folder, box).attach(later)
    later.act({"do": "update", "by": "ana", "status": "mitigating", "summary": "Rolled back the gateway config",
               "audience": "public"})
    box.close(wait=10)
    prefix = "[dry run] statuspage http://127.0.0.1:9/updates: "
    assert len(said) == 1 and said[0].startswith(prefix)
    sent = json.loads(said[0].removeprefix(prefix))
    # The update sent after the resume is the page's second (its own id, not the first's again), and
    # moves the component on from what the first update set: SEV2, a partial outage, unchanged.
    incident = json.loads((live.folder / "statuspage.json").read_text())
    assert [u["status"] for u in incident["incident_updates"]] == ["monitoring", "investigating"]
    assert sent == incident["incident_updates"][0] and sent["id"] != incident["incident_updates"][1]["id"]
    assert sent["affected_components"] == [{"code": incident["components"][0]["id"], "name": "checkout",
                                            "old_status": "partial_outage", "new_status": "partial_outage"}]
    assert incident["impact"] == "major"


def test_the_options_are_checked_before_a_drill_folder_is_made(tmp_path):
    from click.testing import CliRunner

    from sim.cli import main

    runner = CliRunner()
    for args, message in [
        (["--dry-run"], "--dry-run shows what would be sent: name an endpoint too"),
        # Taken, and no page sent there nor anywhere, without a word.
        (["--pagerduty-url", "http://127.0.0.1:9/v2/enqueue"], "--pagerduty-url goes with --pagerduty-routing-key"),
        (["--chat-webhook", "ftp://chat"], "'ftp://chat' is not an http(s) URL with a host"),
        (["--alertmanager", "http://am:99999"], "'http://am:99999' is not an http(s) URL with a host (and a port"),
    ]:
        result = runner.invoke(main, ["serve", "checkout-config-push", "--out", str(tmp_path / "room"), *args])
        assert result.exit_code == 2 and message in result.output, result.output
    assert not (tmp_path / "room").exists()


def test_a_drill_at_the_terminal_serves_metrics_and_pages_and_posts_to_the_tools(tmp_path):
    import os
    import sys

    pexpect = pytest.importorskip("pexpect")
    from .test_outbound import Receiver

    pagerduty, chat, port = Receiver(), Receiver(), free_port()
    env = {**os.environ, "TERM": "xterm-256color", "PROMPT_TOOLKIT_NO_CPR": "1"}
    # This checkout's code (the installed `drill` may be another's), from the repository's root.
    child = pexpect.spawn(sys.executable, ["-c", "from sim.cli import main; main()", "live", "--name", "ana",
                                           "--speed", "400", "--seed", "4", "--out", str(tmp_path / "drill"),
                                           "--metrics", "--metrics-port", str(port), "--chat-webhook", chat.url,
                                           "--pagerduty-routing-key", "KEY", "--pagerduty-url", pagerduty.url],
                          env=env, encoding="utf-8", dimensions=(50, 220), timeout=15)
    try:
        child.expect(f"Prometheus can scrape http://127.0.0.1:{port}/metrics")
        child.expect("You are ana")
        child.expect("PAGE +#1")
        assert 'http_requests_total{code="500",job="checkout"' in httpx.get(f"http://127.0.0.1:{port}/metrics").text
        for line, answer in [("ack", "#1 acknowledged by you"), ("declare SEV1 checkout", "SEV1 on checkout declared"),
                             ('update investigating "Checkout is failing"', "UPDATE"), ("quit", "Resume it with:")]:
            child.sendline(line)
            child.expect(answer)
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
        pagerduty.close()
        chat.close()
    assert [b["event_action"] for _, _, b in pagerduty.bodies if b["dedup_key"] == "drill-drill-P1"] == \
        ["trigger", "acknowledge"]
    assert [b["text"] for _, _, b in chat.bodies] == ["[DRILL] *Investigating* (SEV1, ana): Checkout is failing"]


def _json():
    from hypothesis import strategies as st

    scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5) | \
        st.sampled_from(["4", "firing", "resolved", "incident", "alertname"])
    return st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["version", "status", "receiver", "groupKey", "alerts", "labels", "annotations", "alertname",
                         "event", "event_type", "resource_type", "data", "incident_key", "agent", "summary"]),
        inner, max_size=6), max_leaves=20)


def test_any_json_is_read_or_refused_with_a_reason_never_a_crash():
    from hypothesis import given, settings

    @settings(max_examples=100, deadline=None)
    @given(_json())
    def check(body):
        for read in (webhooks.alertmanager_notification, webhooks.pagerduty_event):
            try:
                read(body)
            except DrillError as refused:
                assert str(refused)
    check()
