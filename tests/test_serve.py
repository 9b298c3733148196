"""The drill server over real HTTP: a ``drill serve`` subprocess on 127.0.0.1, driven with httpx."""

import http.client
import json
import time

import pytest

from sim.inputs import config
from sim.inputs.config import load_roster
from sim.live.web.room import planned_seats
from sim.records import store
from sim.records.plan import load_plan

from .conftest import REPO
from .serving import Server

REFERENCE = config.load_scenario(config.scenario_path(None))


@pytest.fixture
def server(tmp_path):
    with Server(tmp_path / "drill", "--speed", "20", "--seed", "4") as running:
        yield running


def events(server) -> list[dict]:
    return [json.loads(line) for line in (server.folder / "events.jsonl").read_text().splitlines()]


def started(server, bots=True):
    """ana in the primary seat, kim a joiner who types her name; started, then paused."""
    ana = server.seat("primary", "ana")
    kim = server.seat("joiner")
    assert server.http.post(f"/p/{kim}/api/join", json={"name": "kim"}).json()["ok"]
    server.control("bots", on=bots)
    assert server.control("start")["ok"]
    assert server.control("pause")["ok"]
    return ana, kim


def test_people_act_as_themselves_within_their_roles(server):
    ana, kim = started(server)
    looked = server.act(ana, do="look", service="checkout", by="dana")  # `by` comes from the link, never the body
    assert looked.status_code == 200 and looked.json()["data"]["error_rate"] == pytest.approx(0.0002)
    # Answered only once journaled: the event is on disk as the answer arrives.
    assert events(server)[-1] | {"t": 0, "at": ""} == {"t": 0, "at": "", "kind": "dashboard.viewed", "by": "ana",
                                                       "service": "checkout", "metrics": looked.json()["data"]}
    rejected = server.act(kim, do="resolve")
    assert rejected.status_code == 422 and rejected.json()["reason"] == "no incident has been declared yet"
    assert server.act(ana, do="declare", severity="SEV2", service="checkout").json()["ok"]
    assert server.act(kim, do="assign", role="comms", who="kim").json()["reason"] == \
        "only the Incident Commander (ana) can assign roles"
    assert server.act(kim, do="fly", service="x").json()["reason"].startswith("unknown action 'fly'")
    assert server.act(kim, do="look", service="checkout", colour="red").json()["reason"] == \
        "look: unknown field(s) colour (allowed: service)"
    # The forms offer what each may do now: only the IC sees assign, severity, resolve.
    assert set(server.state(ana)["allowed"]) == {"look", "investigate", "mitigate", "update", "severity",
                                                 "assign", "page", "resolve", "stand_down"}
    assert set(server.state(kim)["allowed"]) == {"look", "investigate", "mitigate"}
    by = [(e["kind"], e.get("by")) for e in events(server) if e.get("by") in ("ana", "kim", "dana")]
    assert by == [("dashboard.viewed", "ana"), ("action.rejected", "kim"), ("incident.declared", "ana"),
                  ("role.assigned", "ana"), ("action.rejected", "kim")]


def test_the_stream_sends_everything_once_then_only_what_changed(server):
    ana, kim = started(server)
    with server.http.stream("GET", f"/p/{kim}/api/stream") as stream:
        messages = (json.loads(line[5:]) for line in stream.iter_lines() if line.startswith("data:"))
        first = next(messages)
        assert first["full"] and first["me"] == {"name": "kim", "seat": "joiner"} and first["samples"] == {}
        assert server.act(kim, do="look", service="cart").json()["ok"]
        later = next(m for m in messages if m["events"])
        assert not later["full"] and [e["kind"] for e in later["events"]] == ["dashboard.viewed"]
        assert list(later["samples"]) == ["cart"]  # the dashboard opens with its history
        rows = later["samples"]["cart"]
        assert rows[0][0] == 0 and rows[-1][0] <= later["status"]["t"]


def test_a_link_opens_a_few_streams_not_many(server):
    import contextlib

    import httpx

    ana, _ = started(server)

    def open_page(pages):
        client = pages.enter_context(httpx.Client(base_url=server.base, timeout=10))
        return pages.enter_context(client.stream("GET", f"/p/{ana}/api/stream"))

    with contextlib.ExitStack() as pages:
        assert [open_page(pages).status_code for _ in range(4)] == [200] * 4
        refused = open_page(pages)
        assert refused.status_code == 429 and "4 pages open" in refused.read().decode()
    for _ in range(50):  # closing pages frees the link again, once the server notices
        with contextlib.ExitStack() as pages:
            if open_page(pages).status_code == 200:
                break
        time.sleep(0.1)
    else:
        raise AssertionError("the link stayed full after its pages were closed")


def test_every_request_needs_the_right_token(server):
    ana = server.seat("primary", "ana")
    bad = "x" * len(ana)
    for path in (f"/p/{bad}/", f"/p/{bad}/drill.js", f"/p/{bad}/api/state", f"/p/{bad}/api/stream",
                 f"/f/{ana}/", f"/f/{ana}/api/state", f"/p/{server.token}/api/state", "/f//api/state"):
        assert server.http.get(path).status_code in (403, 404), path
    assert server.http.get("/").status_code == 404
    for path in (f"/f/{ana}/api/start", f"/f/{ana}/api/seat", f"/p/{bad}/api/act", f"/p/{server.token}/api/act"):
        assert server.http.post(path, json={}).status_code == 403, path
    assert server.state()["phase"] == "setup"  # the participant could not start it
    assert server.http.get(f"/p/{ana}/").status_code == 200


def test_bodies_are_size_limited_and_validated(server):
    ana, kim = started(server)
    huge = server.http.post(f"/p/{ana}/api/act", content=b'{"do": "look", "service": "' + b"x" * 20000 + b'"}',
                            headers={"content-type": "application/json"})
    assert huge.status_code == 413
    assert server.http.post(f"/p/{ana}/api/act", content=b"not json").status_code == 400
    assert server.http.post(f"/p/{ana}/api/act", json=["look"]).status_code == 400
    for hostile in (b"[" * 8000 + b"]" * 8000, b'{"do": ' + b"9" * 5000 + b"}", b"\xff\xfe"):
        assert server.http.post(f"/p/{ana}/api/act", content=hostile).status_code == 400
    assert server.act(ana, do="update", status="investigating", summary="x" * 2001).status_code == 422
    assert server.http.post(f"/p/{kim}/api/join", json={"name": "x" * 41}).json()["reason"] == \
        "a name is 1 to 40 printable characters"
    assert server.http.post(f"/p/{kim}/api/join", json={"name": "<b>x</b>"}).json()["reason"] == \
        "this link is kim's"
    joiner = server.seat("joiner")
    taken = server.http.post(f"/p/{joiner}/api/join", json={"name": "dana"}).json()
    assert taken["reason"] == "'dana' is played by a bot in this drill: choose another name"
    assert server.state()["room"]["seats"][-1]["name"] is None  # nothing half-taken
    assert server.http.post(f"/p/{joiner}/api/join", json={"name": "lou"}).json()["ok"]
    assert server.act(joiner, do="look", service="checkout").json()["ok"]


def test_odd_values_are_refused_with_a_reason_never_a_crash(server):
    ana, kim = started(server)
    odd = [None, True, 7, [], ["look"], {}, {"a": 1}, "x" * 3000]
    for value in odd:
        for body in ({"do": value}, {"do": "look", "service": value}, {"do": "declare", "severity": value},
                     {"do": "page", "teams": value}, {"do": "assign", "role": value, "who": value},
                     {"do": "update", "status": "investigating", "summary": "s", "next_update": value}):
            assert server.act(ana, **body).status_code == 422, body
        for what, body in (("inject", {"kind": value, "service": value}), ("ask", {"who": value, "question": value}),
                           ("seat", {"seat": value})):
            assert server.control(what, **body)["ok"] is False, (what, body)
        if value:  # an empty name leaves the seat for its holder to name
            assert server.control("seat", seat="joiner", name=value)["ok"] is False, value
        assert server.http.post(f"/p/{kim}/api/join", json={"name": value}).status_code == 422
    for value in (None, True, [], "fast", 0, 5000):
        assert server.control("speed", speed=value)["ok"] is False, value
    assert server.http.get(f"/p/{ana}/api/state").status_code == 200


def test_static_files_cannot_escape_their_folder(server):
    ana = server.seat("primary", "ana")
    assert server.http.get(f"/p/{ana}/drill.css").status_code == 200
    # Sent raw, so that no client tidies the dots away first.
    for path in (f"/p/{ana}/../../../../etc/passwd", f"/p/{ana}/..%2F..%2F..%2Fpyproject.toml",
                 f"/p/{ana}/%2e%2e/%2e%2e/room.py", f"/p/{ana}/..%2froom.json", f"/p/{ana}/__init__.py",
                 f"/p/{ana}/%2Fetc%2Fpasswd", f"/p/{ana}/participant.html/..%2F..%2Fapp.py"):
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
        connection.close()
        assert response.status in (403, 404), path
        assert b"root:" not in body and b"facilitator" not in body and b"import" not in body, path


def test_the_truth_never_reaches_participants(tmp_path):
    with Server(tmp_path / "drill", "--speed", "1000", "--seed", "4") as server:
        ana, kim = started(server)
        server.control("inject", kind="memory_leak", service="search")
        server.control("ask", who="The VP of Sales", question="ETA?")
        server.control("speed", speed=1000)
        server.control("resume")
        server.wait_for(lambda s: "score" in s, timeout=30)
        sent = [server.http.get(f"/p/{ana}/api/state").text, server.http.get(f"/p/{kim}/api/state").text]
        with server.http.stream("GET", f"/p/{ana}/api/stream") as stream:
            sent.append(next(line for line in stream.iter_lines() if line.startswith("data:")))
        assets = "".join(server.http.get(f"/p/{ana}/{name}").text for name in ("", "drill.js", "participant.js"))
        facilitator = server.state()
    data = "\n".join(sent)
    assert '"score"' in data and "stakeholder.asked" in data
    scenario = [REFERENCE.title, REFERENCE.name, REFERENCE.truth.root_cause, REFERENCE.faults[0].id, "injected-1",
                "memory_leak", server.token]
    for secret in [*scenario, '"cause"', "fault.started", "impact.started", '"truth"', '"root_cause"', '"faults"']:
        assert secret not in data, secret
    for secret in scenario:
        assert secret not in assets, secret
    assert kim not in sent[0] and ana not in sent[1]  # nor anyone else's link
    # ... while the facilitator sees all of it.
    assert facilitator["scenario"]["truth"]["root_cause"] == REFERENCE.truth.root_cause
    assert [f["id"] for f in facilitator["scenario"]["faults"]] == ["gateway-config-push", "injected-1"]
    assert {"fault.started", "impact.started", "stakeholder.asked"} <= {e["kind"] for e in facilitator["events"]}


def test_the_end_shows_everyone_the_scorecard_and_the_facilitator_gets_the_report(server):
    ana, kim = started(server)
    assert server.http.get(f"/f/{server.token}/api/report.zip").status_code == 409
    assert server.control("end")["ok"]
    card = server.wait_for(lambda s: "score" in s, ana)["score"]
    others = server.state(kim)["score"]
    # Everyone sees the team's scorecard (nothing was done before the end), each with their own duties.
    assert {k: v for k, v in others.items() if k != "duties"} == {k: v for k, v in card.items() if k != "duties"}
    assert card["score"] == 0.0 and ["Time to declare", "not declared"] in card["metrics"]
    assert ["Roles held", "none"] in card["duties"] and ["Roles held", "none"] in others["duties"]
    declare = next(row for row in card["checklist"] if row[0] == "Declare the incident and create the channel")
    assert declare[1] is False and declare[2].startswith("no incident was declared before the drill ended at ")
    assert server.state(ana)["allowed"] == {}
    zipped = server.http.get(f"/f/{server.token}/api/report.zip")
    assert zipped.status_code == 200 and zipped.headers["content-type"] == "application/zip"
    import io
    import zipfile
    names = zipfile.ZipFile(io.BytesIO(zipped.content)).namelist()
    assert names == ["events.jsonl", "score.json", "report.md", "timeline.png"]
    assert server.http.get(f"/f/{server.token}/api/report.md").text.startswith("# Drill report: ")
    assert server.http.get(f"/p/{ana}/api/report.zip").status_code in (403, 404)


def test_resume_after_sigkill_loses_no_acknowledged_action_and_keeps_the_links(tmp_path):
    server = Server(tmp_path / "drill", "--speed", "30", "--seed", "4")
    ana, kim = started(server)
    server.control("resume")
    acknowledged = []
    for n in range(6):
        for token, who in ((ana, "ana"), (kim, "kim")):
            action = {"do": "update", "status": "investigating", "summary": f"{who} {n}"}
            answer = server.act(token, **action).json()
            acknowledged.append((who, answer["ok"], action["summary"]))
        if n == 1:
            assert server.act(ana, do="declare", severity="SEV2", service="checkout").json()["ok"]
    server.kill()
    before = (server.folder / "events.jsonl").read_text()

    again = Server(tmp_path / "drill", resume=True)
    try:
        assert (again.folder / "events.jsonl").read_text().startswith(before)
        logged = events(again)
        for who, ok, summary in acknowledged:
            kind = "update.posted" if ok else "action.rejected"
            assert sum(e["kind"] == kind and e.get("by") == who and e.get("summary") == summary for e in logged) == 1
        assert [ok for who, ok, _ in acknowledged if who == "ana"] == [False, False, True, True, True, True]
        state = again.state(ana)  # the same links work
        assert state["me"] == {"name": "ana", "seat": "primary"} and state["status"]["severity"] == "SEV2"
        assert state["status"]["t"] >= json.loads(before.splitlines()[-1])["t"]
        assert again.act(kim, do="look", service="checkout").json()["ok"]
        assert again.state()["room"]["seats"][1]["name"] == "kim"
    finally:
        again.stop()


def test_a_planned_live_drill_seats_its_people_and_is_recorded_against_the_plan(tmp_path, write):
    plan_file = write("2026-Q4.yaml", """
        drills:
          - {date: 2026-10-21, scenario: memory-leak-restart, seed: 4}
          - date: 2026-12-02
            scenario: checkout-config-push
            seed: 3
            mode: live
            roles: {ic: alex, comms: sam, ops: dana}
            shadows: {ic: [priya]}
    """)
    entry = load_plan(plan_file, load_roster(REPO / "drills" / "roster.yaml")).entries[1]
    assert planned_seats(entry) == [{"name": "dana", "seat": "primary"}, {"name": "alex", "seat": "ic"},
                                    {"name": "sam", "seat": "comms"}, {"name": "priya", "seat": "joiner"}]
    with Server(tmp_path / "drill", "--plan", str(plan_file), "--entry", "2") as server:
        assert oct((tmp_path / "drill" / "room.json").stat().st_mode & 0o777) == "0o600"  # it holds the tokens
        assert server.control("seat", seat="ic")["reason"] == "the ic seat is already in the room"
        assert server.control("start")["ok"]
        people = server.state()["status"]["people"]
        assert people["dana"] == {"bot": False, "oncall": "primary"} and people["alex"] == {"bot": False, "oncall": None}
        assert people["priya"]["bot"] is False and people["lee"] == {"bot": True, "oncall": "secondary"}
        assert server.control("end")["ok"]
        server.wait_for(lambda s: "score" in s, timeout=30)
    [kept] = store.drills()
    assert (kept.mode, kept.scenario, kept.seed, kept.plan_quarter, kept.plan_entry) == (
        "live", "checkout-config-push", 3, "2026-Q4", 2)
    from click.testing import CliRunner

    from sim.cli import main

    refused = CliRunner().invoke(main, ["serve", "--plan", str(plan_file), "--entry", "1"])
    assert "planned as a simulated drill: `drill run` simulates it" in refused.output


def test_resume_takes_the_drill_as_it_was_set_up(tmp_path):
    from click.testing import CliRunner

    from sim.cli import main

    answer = CliRunner().invoke(main, ["serve", "--resume", str(tmp_path), "--speed", "3", "--seed", "2"])
    assert answer.exit_code == 2 and "drop --speed, --seed" in answer.output
    answer = CliRunner().invoke(main, ["serve", "--resume", str(tmp_path)])
    assert answer.exit_code == 2 and f"{tmp_path} holds no drill room (room.json is missing)" in answer.output
