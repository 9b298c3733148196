"""A live drill wired to a real Prometheus and a real Alertmanager (Debian's binaries), all on
127.0.0.1: Prometheus scrapes the drill's /metrics and its own PromQL rule fires; Alertmanager
takes the alerts (from Prometheus, or pushed by the drill) and its webhook pages the on-call
person in the drill, who acknowledges on their page; the drill resolves and scores.

Skipped when the binaries are absent. Every process is stopped by the test, whatever happens.
"""

import contextlib
import datetime as dt
import json
import shutil
import subprocess
import time

import httpx
import pytest

from sim.live.commands import business_days_after

from .serving import Server, free_port

PROMETHEUS, ALERTMANAGER = shutil.which("prometheus"), shutil.which("prometheus-alertmanager")
needs_binaries = pytest.mark.skipif(not (PROMETHEUS and ALERTMANAGER),
                                    reason="needs Debian's prometheus and prometheus-alertmanager")
SPEED = "150"  # the config push at 14:45 is 2 s of wall clock in; a drill of record in about ten


@contextlib.contextmanager
def running(command: list[str], port: int, folder):
    """Start a server binary, wait until it says it is ready, stop it at the end."""
    with open(folder / f"{port}.log", "w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            until(lambda: httpx.get(f"http://127.0.0.1:{port}/-/ready", timeout=1).status_code == 200, 20,
                  lambda: (folder / f"{port}.log").read_text()[-2000:])
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def until(check, timeout: float, why=lambda: ""):
    """Poll ``check`` until it returns something true (errors count as not yet)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            found = check()
            if found:
                return found
        except (httpx.TransportError, OSError, ValueError, KeyError, IndexError):
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"not within {timeout} s: {why()}")
        time.sleep(0.2)


def alertmanager(folder, webhook: str, port: int | None = None):
    """A real Alertmanager whose one route sends every group, at once, to the drill's webhook."""
    port = port or free_port()
    config = folder / "alertmanager.yml"
    config.write_text(f"""
route:
  receiver: drill
  group_by: [alertname, service]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: drill
    webhook_configs:
      - url: {webhook}
        send_resolved: true
""")
    return running([ALERTMANAGER, f"--config.file={config}", f"--storage.path={folder / 'am-data'}",
                    f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="], port, folder)


def webhook_url(server) -> str:
    token = json.loads((server.folder / "webhooks.json").read_text())["token"]
    return f"{server.base}/w/{token}/alertmanager"


def page_acked_and_scored(server, ana: str, expect_summary: str) -> dict:
    """The page reaches ana's page; she acknowledges it there, runs the incident to its end; the scorecard."""
    # A customer report may page ana too, through the drill's pager: the alert's page is the one here.
    state = server.wait_for(lambda s: any(expect_summary in p["summary"] for p in s.get("pages", [])), ana, timeout=40)
    page = next(p for p in state["pages"] if expect_summary in p["summary"])
    assert page["status"] == "triggered"
    assert server.act(ana, do="ack", page=page["id"]).json()["ok"]
    for action in ({"do": "declare", "severity": "SEV1", "summary": "Checkout errors"},
                   {"do": "mitigate", "action": "rollback", "service": "payment-gateway"},
                   # right after the rollback the alert still fires: resolving over it needs a knowing yes
                   {"do": "resolve", "summary": "Error rate back to normal", "confirm": True},
                   # a live drill is held today: the postmortem goes on the third business day from now
                   {"do": "schedule_postmortem",
                    "date": business_days_after(dt.datetime.now(dt.UTC).date(), 3)[-1]}):
        answer = server.act(ana, **action).json()
        assert answer["ok"], (action, answer)
    assert server.control("speed", speed=1000)["ok"]  # the drill ends five simulated minutes after the booking
    return server.wait_for(lambda s: s.get("score"), ana, timeout=30)


def assert_pages_came_the_ways_a_team_expects(events: list, alert_summary: str) -> None:
    """With --pages-from alertmanager, an alert pages only by way of the team's Alertmanager (the
    drill's own routing notifies nobody), while a report from people (customers through support,
    a colleague) pages the on-call through the drill's pager: no Alertmanager ever sees one
    (docs/real-tools.md)."""
    kinds = [e["kind"] for e in events]
    assert "notification.received" in kinds and "notification.sent" not in kinds
    reported = {e["summary"] for e in events if e["kind"] == "report.received"}
    for page in (e for e in events if e["kind"] == "page.sent"):
        if page["summary"] in reported:
            assert page["summary"].startswith("Reported by ") and page["urgency"] == "high", page
        else:
            assert alert_summary in page["summary"], page


@needs_binaries
def test_prometheus_scrapes_the_drill_its_rule_fires_and_alertmanager_pages_in_the_drill(tmp_path):
    with Server(tmp_path / "drill", "--speed", SPEED, "--metrics", "--pages-from", "alertmanager") as server, \
            alertmanager(tmp_path, webhook_url(server)) as am:
        rules = tmp_path / "rules.yml"
        # The team's own rule, in PromQL over the drill's request counter: checkout's error ratio.
        rules.write_text("""
groups:
  - name: drill
    rules:
      - alert: CheckoutErrorRatio
        expr: >
          sum by (service) (rate(http_requests_total{service="checkout",code="500"}[5s]))
          / sum by (service) (rate(http_requests_total{service="checkout"}[5s])) > 0.05
        labels: {severity: page}
        annotations: {summary: "Checkout error ratio {{ $value | humanizePercentage }}"}
""")
        port = free_port()
        config = tmp_path / "prometheus.yml"
        config.write_text(f"""
global: {{scrape_interval: 1s, evaluation_interval: 1s}}
rule_files: [{rules}]
alerting:
  alertmanagers: [{{static_configs: [{{targets: ["{am.removeprefix('http://')}"]}}]}}]
scrape_configs:
  - job_name: drill
    honor_labels: true
    static_configs: [{{targets: ["127.0.0.1:{server.port}"]}}]
""")
        with running([PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'prom-data'}",
                      f"--web.listen-address=127.0.0.1:{port}"], port, tmp_path) as prom:
            ana = server.seat("primary", "ana")
            assert server.control("bots", on=False)["ok"]
            assert server.control("start")["ok"]
            # Prometheus reads the drill: checkout's 200s counter, labelled as the topology says.
            series = until(lambda: httpx.get(f"{prom}/api/v1/query", params={
                "query": 'http_requests_total{service="checkout",code="200"}'}).json()["data"]["result"], 20)
            assert series[0]["metric"]["team"] == "checkout" and series[0]["metric"]["job"] == "checkout"
            # Its own rule fires once the config push breaks checkout (15% of requests fail).
            firing = until(lambda: [a for a in httpx.get(f"{prom}/api/v1/alerts").json()["data"]["alerts"]
                                    if a["state"] == "firing"], 40)
            assert firing[0]["labels"] == {"alertname": "CheckoutErrorRatio", "service": "checkout", "severity": "page"}
            card = page_acked_and_scored(server, ana, "Checkout error ratio")
        facilitator = server.state()
    kinds = [e["kind"] for e in facilitator["events"]]
    received = next(e for e in facilitator["events"] if e["kind"] == "notification.received")
    assert received["receiver"] == "drill" and received["firing"] == ["CheckoutErrorRatio"]
    page = next(e for e in facilitator["events"] if e["kind"] == "page.sent")
    assert page["to"] == "ana" and page["cause"] == ["gateway-config-push"]  # the scenario's fault, as the page's cause
    assert kinds.index("page.acked") > kinds.index("page.sent") and "incident.resolved" in kinds
    assert_pages_came_the_ways_a_team_expects(facilitator["events"], "Checkout error ratio")
    assert card["score"]["score"] > 0


@needs_binaries
def test_the_drill_pushes_its_alerts_to_alertmanager_whose_webhook_pages_in_the_drill(tmp_path):
    port = free_port()
    am_url = f"http://127.0.0.1:{port}"
    folder = tmp_path / "drill"
    with Server(folder, "--speed", SPEED, "--alertmanager", am_url, "--pages-from", "alertmanager") as server:
        # Alertmanager starts after the drill server (it needs the webhook's URL), on the port the drill was told of.
        with alertmanager(tmp_path, webhook_url(server), port):
            ana = server.seat("primary", "ana")
            assert server.control("bots", on=False)["ok"]
            assert server.control("start")["ok"]
            pushed = until(lambda: httpx.get(f"{am_url}/api/v2/alerts").json(), 40)
            assert pushed[0]["labels"]["drill"] == "drill" and pushed[0]["labels"]["service"] == "checkout"
            assert pushed[0]["annotations"]["summary"].startswith("[DRILL] ")
            card = page_acked_and_scored(server, ana, "[DRILL] ")
            facilitator = server.state()
            health = facilitator["tools"]["endpoints"]["alertmanager"]
            assert health["ok"] and health["sent"] >= 1 and health["url"] == f"{am_url}/api/v2/alerts"
            assert_pages_came_the_ways_a_team_expects(facilitator["events"], "[DRILL] ")
    assert card["score"]["score"] > 0
    sent = [json.loads(line) for line in (folder / "outbound.jsonl").read_text().splitlines()]
    assert {line["status"] for line in sent} == {"sent"}

