"""The drill server over real HTTP: a ``drill serve`` subprocess on 127.0.0.1, driven with httpx."""

import asyncio
import http.client
import json
import time

import httpx
import pytest

from sim.inputs import config
from sim.inputs.config import load_roster
from sim.live.web.room import Room, planned_seats
from sim.records import store
from sim.records.plan import load_plan

from .conftest import REPO, still_file
from .serving import Server, leaks

REFERENCE = config.load_scenario(config.scenario_path(None))


@pytest.fixture
def server(tmp_path):
    with Server(tmp_path / "drill", "--speed", "20", "--seed", "4") as running:
        yield running


def events(server) -> list[dict]:
    return [json.loads(line) for line in (server.folder / "events.jsonl").read_text().splitlines()]


def test_a_start_refused_leaves_the_seats_as_they_were(server):
    server.seat("ic")  # named by whoever opens the link
    server.control("bots", on=False)
    assert server.control("start")["reason"] == \
        "without bots, a person must take the primary on-call seat: nobody else would answer the pages"
    assert [s["seat"] for s in server.state()["room"]["seats"]] == ["ic"]  # it had become a joiner
    server.seat("primary", "ana")
    assert server.control("start")["ok"]
    assert [s["seat"] for s in server.state()["room"]["seats"]] == ["joiner", "primary"]  # the bots hold ic now


def test_a_name_is_one_person_however_capitalised(server):
    server.seat("primary", "ana")
    assert server.control("seat", seat="joiner", name="ANA")["reason"] == \
        "'ANA' is 'ana' with other capitals: give the name as 'ana', or another"
    joiner = server.seat("joiner")
    assert server.http.post(f"/p/{joiner}/api/join", json={"name": "Lee"}).json()["reason"] == \
        "'Lee' is 'lee' with other capitals: give the name as 'lee', or another"  # the roster's, a bot if nobody takes her
    assert [s["name"] for s in server.state()["room"]["seats"]] == ["ana", None]


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
    # The forms offer what each may do now: only the IC sees assign, severity, resolve, ask; the
    # coordinating actions first, the hands-on ones last (an IC delegates them).
    assert list(server.state(ana)["allowed"]) == ["assign", "page", "ask", "update", "severity", "say", "resolve",
                                                  "stand_down", "look", "investigate", "mitigate"]
    assert list(server.state(kim)["allowed"]) == ["say", "look", "investigate", "mitigate"]
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
    as_json = {"content-type": "application/json"}
    assert server.http.post(f"/p/{ana}/api/act", content=b"not json", headers=as_json).status_code == 400
    assert server.http.post(f"/p/{ana}/api/act", json=["look"]).status_code == 400
    for hostile in (b"[" * 8000 + b"]" * 8000, b'{"do": ' + b"9" * 5000 + b"}", b"\xff\xfe"):
        assert server.http.post(f"/p/{ana}/api/act", content=hostile, headers=as_json).status_code == 400
    assert server.act(ana, do="update", status="investigating", summary="x" * 2001).status_code == 422
    assert server.http.post(f"/p/{kim}/api/join", json={"name": "x" * 41}).json()["reason"] == \
        "a name is 1 to 40 printable characters"
    assert server.http.post(f"/p/{kim}/api/join", json={"name": "<b>x</b>"}).json()["reason"] == \
        "this link is kim's"
    joiner = server.seat("joiner")
    taken = server.http.post(f"/p/{joiner}/api/join", json={"name": "dana"}).json()
    assert taken["reason"] == "'dana' is played by a bot in this drill: choose another name"
    assert server.state()["room"]["seats"][-1]["name"] is None  # nothing half-taken
    assert server.http.post(f"/p/{joiner}/api/join", json={"name": "Dana"}).json()["reason"] == \
        "'Dana' is 'dana' with other capitals: give the name as 'dana', or another"
    assert server.http.post(f"/p/{joiner}/api/join", json={"name": "lou"}).json()["ok"]
    assert server.act(joiner, do="look", service="checkout").json()["ok"]


def test_odd_values_are_refused_with_a_reason_never_a_crash(tmp_path):
    with Server(tmp_path / "drill", "--speed", "20", "--seed", "4", "--rate-limit", "1000") as server:
        odd_values_are_refused(server)


def odd_values_are_refused(server):
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


def test_bots_are_switched_by_true_or_false_only(server):
    # Before, {"on": "yes"} answered ok and switched the bots off, as did any value but true.
    assert server.control("bots", on=True)["ok"]
    for body in ({"on": "yes"}, {"on": 1}, {"on": None}, {"bots": True}):
        assert server.control("bots", **body) == {"ok": False, "reason": "on must be true or false"}, body
    assert server.state()["room"]["bots"] is True


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
    # Nothing drawn: each mitigation does what the scenario says (a drawn one may fail or take in part).
    with Server(tmp_path / "drill", str(still_file(tmp_path)), "--speed", "1000", "--seed", "4") as server:
        ana, kim = started(server)
        assert server.control("inject", kind="memory_leak", service="search")["data"] == "injected-1"  # the facilitator's
        server.control("ask", who="The VP of Sales", question="ETA?")
        server.control("resume")
        time.sleep(0.5)  # the injected fault has started, the gateway's config push too
        server.control("pause")
        # What each of them did is not in the answer: a fix, an easing, a band-aid, a miss.
        answers = [server.act(ana, do="mitigate", action=action, service=service)
                   for action, service in (("rollback", "search"), ("restart", "payment-gateway"),
                                           ("rollback", "payment-gateway"), ("rollback", "cart"))]
        answers += [server.act(kim, do=do, service="search") for do in ("investigate", "look")]
        answers += [server.act(kim, do="mitigate", action="rollback", service="nowhere")]
        assert [a.status_code for a in answers] == [200] * 6 + [422]
        assert [a.json()["data"] for a in answers[:5]] == [None] * 5  # "done", nothing more
        applied = [e for e in events(server) if e["kind"] == "mitigation.applied"]
        assert [f["outcome"] for e in applied for f in e["faults"]] == ["fixed", "fixed"]  # the facilitator sees it
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
    for payload in [a.json() for a in answers] + [json.loads(text.removeprefix("data:")) for text in sent]:
        assert leaks(payload, ["gateway-config-push", "injected-1"]) == [], payload
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
    own = ("duties", "next_steps")
    assert {k: v for k, v in others.items() if k not in own} == {k: v for k, v in card.items() if k not in own}
    assert card["next_steps"] == [("A clean run for your part: next time take the IC seat, or try a harder scenario "
                                   "(sev3-worsening, night-db-storm-red-herrings).")]  # ana did nothing a step could name
    # The facilitator's debrief (the truth beside the timeline) is empty: the fault was due at 14:45.
    assert server.state()["score"]["debrief"] == []
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
    assert names == ["events.jsonl", "score.json", "report.md", "timeline.png", "debrief.md"]
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
            kind, said = ("update.posted", lambda e: e.get("summary")) if ok else \
                ("action.rejected", lambda e: e.get("fields", {}).get("summary"))
            assert sum(e["kind"] == kind and e.get("by") == who and said(e) == summary for e in logged) == 1
        assert [ok for who, ok, _ in acknowledged if who == "ana"] == [False, False, True, True, True, True]
        state = again.state(ana)  # the same links work
        assert state["me"] == {"name": "ana", "seat": "primary"} and state["status"]["severity"] == "SEV2"
        assert state["status"]["t"] >= json.loads(before.splitlines()[-1])["t"]
        assert again.act(kim, do="look", service="checkout").json()["ok"]
        assert again.state()["room"]["seats"][1]["name"] == "kim"
    finally:
        again.stop()


@pytest.mark.parametrize("trial", range(2))
def test_sigkill_while_people_act_loses_nothing_acknowledged(tmp_path, trial):
    """Killed at a random moment while two people post as fast as answers come; the long run
    of this trial is benchmarks/kill_resume.py."""
    from .killing import serve_trial

    assert serve_trial(tmp_path / "drill", trial)["acknowledged"] > 0


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
    # A damaged room.json is named, never a traceback.
    seat = '{"token": "t", "seat": "ic", "name": null}'
    room = '{"facilitator": "f", "files": {"scenario": "s.yaml"}, "seed": 4, "speed": 1, "bots": true, "seats": [%s]}'
    for damage, message in ((b"\xff\xfe", "room.json:1: not UTF-8 text (byte 0xff)"),
                            (b"[1]", "room.json:1: not valid JSON: expected an object"),
                            # valid JSON of another shape (another program's, a hand edit)
                            (b'{"a": 1}', "room.json: damaged: 'facilitator' is missing"),
                            ((room % seat).replace('"seed": 4', '"seed": true').encode(),
                             "room.json: damaged: 'seed' is not a whole number"),
                            ((room % seat).replace('"scenario": "s.yaml"', '"scenario": 7').encode(),
                             "room.json: damaged: 'files.scenario' is not text"),
                            ((room % (seat + ', {"token": "u", "seat": "ops"}')).encode(),
                             "room.json: damaged: 'seats[1].name' is missing")):
        (tmp_path / "room.json").write_bytes(damage)
        answer = CliRunner().invoke(main, ["serve", "--resume", str(tmp_path)])
        assert answer.exit_code == 2 and answer.exc_info[0] is SystemExit, answer.output
        assert f"{tmp_path}/{message}" in answer.output


def test_a_refused_action_with_a_reason_is_answered_and_the_drill_resumes(tmp_path):
    server = Server(tmp_path / "drill", "--speed", "20", "--seed", "4")
    ana, kim = started(server)
    for body, reason in ((dict(do="stand_down", reason="false alarm"),
                          "only the on-call engineer who was paged can stand it down before a declaration"),
                         (dict(do="severity", severity="SEV1", reason="worse"), "no incident has been declared yet")):
        answer = server.act(kim, **body)
        assert (answer.status_code, answer.json()["reason"]) == (422, reason)
    assert server.act(ana, do="declare", severity="SEV2", service="checkout").json()["ok"]
    assert server.act(kim, do="severity", severity="SEV1", reason="worse").json()["reason"] == \
        "only the Incident Commander (ana) can change the severity"
    server.kill()
    again = Server(tmp_path / "drill", resume=True)
    try:
        rejected = [(e["do"], e["fields"].get("reason")) for e in events(again) if e["kind"] == "action.rejected"]
        assert rejected == [("stand_down", "false alarm"), ("severity", "worse"), ("severity", "worse")]
        assert again.state(ana)["status"]["severity"] == "SEV2"
    finally:
        again.stop()


def test_text_that_is_not_unicode_is_refused_at_the_door(server):
    ana, kim = started(server)
    assert server.act(ana, do="declare", severity="SEV2", service="checkout").json()["ok"]
    half = '"\\ud800"'  # JSON's escape for half of a character: valid JSON, no valid text
    for url, body in ((f"/p/{ana}/api/act", '{"do": "update", "status": "investigating", "summary": %s}' % half),
                      (f"/p/{ana}/api/act", '{"do": "look", "service": "checkout", %s: 1}' % half),
                      (f"/p/{kim}/api/join", '{"name": %s}' % half),
                      (f"/f/{server.token}/api/ask", '{"who": "VP", "question": %s}' % half),
                      (f"/f/{server.token}/api/seat", '{"seat": "joiner", "name": %s}' % half)):
        answer = server.http.post(url, content=body, headers={"content-type": "application/json"})
        assert (answer.status_code, answer.json()["reason"]) == \
            (400, "the request body holds text that is not valid Unicode (a lone surrogate)"), url
    for token in (ana, kim, None):
        assert server.http.get(f"/{'f' if token is None else 'p'}/{token or server.token}/api/state").status_code == 200
    assert "\\ud800" not in (server.folder / "inputs.jsonl").read_text()


def test_a_number_too_large_for_a_float_is_refused_and_the_connection_kept(server):
    started(server)
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        for body in ('{"speed": 1%s}' % ("0" * 400), '{"speed": 1e999}', '{"speed": NaN}'):
            connection.request("POST", f"/f/{server.token}/api/speed", body, {"content-type": "application/json"})
            answer = connection.getresponse()
            reason = json.loads(answer.read())["reason"]
            assert answer.status == 422 and reason.startswith("speed must be between 0.1 and 1000"), body
        connection.request("GET", f"/f/{server.token}/api/state")  # the same connection, still open
        assert connection.getresponse().status == 200
    finally:
        connection.close()


def test_clients_that_hang_up_mid_body_leave_no_traceback(tmp_path):
    import socket

    with Server(tmp_path / "drill", "--speed", "20") as server:
        ana, _ = started(server)
        for _ in range(5):
            with socket.create_connection(("127.0.0.1", server.port)) as sock:
                sock.sendall(f"POST /p/{ana}/api/act HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-type: application/json\r\n"
                             f"content-length: 1000\r\n\r\n{{\"do\": \"lo".encode())
        assert server.act(ana, do="look", service="checkout").json()["ok"]
    assert "Traceback" not in server.errors and len(server.errors.splitlines()) <= 5, server.errors


def test_each_link_is_rate_limited_and_told_when_to_come_back(server):
    ana, kim = started(server)
    answers = [server.act(ana, do="look", service="checkout") for _ in range(40)]
    codes = [a.status_code for a in answers]
    assert codes[:30] == [200] * 30 and 429 in codes  # a burst of 30, then 5 a second
    limited = answers[codes.index(429)]
    assert limited.json()["reason"] == "too many requests from this link: at most 5 a second"
    assert limited.headers["retry-after"] == "1"
    assert server.act(kim, do="look", service="checkout").status_code == 200  # another link is not held up
    assert server.http.get(f"/p/{ana}/api/state").status_code == 200  # nor are reads
    time.sleep(1)
    assert server.act(ana, do="look", service="checkout").status_code == 200
    assert sum(e["kind"] == "dashboard.viewed" and e["by"] == "ana" for e in events(server)) == codes.count(200) + 1


def test_the_speed_options_take_the_speeds_a_drill_runs_at():
    from click.testing import CliRunner

    from sim.cli import main
    from sim.live.drill import SPEEDS

    for command in ("live", "serve"):
        shown = " ".join(CliRunner().invoke(main, [command, "--help"], terminal_width=200).output.split())
        assert f"{SPEEDS[0]}<=x<={SPEEDS[1]}]" in shown  # it said 0<x<=1000000.0, and 2000 was refused
        refused = CliRunner().invoke(main, [command, "--speed", "2000"])
        assert refused.exit_code == 2 and "2000.0 is not in the range 0.1<=x<=1000.0" in refused.output


def test_drill_serve_help_states_the_limit_the_server_applies():
    """The figures the test above measures (5 a second, a burst of 30 = 6 seconds' worth) are the
    ones ``drill serve --help`` gives as the default: one constant serves both."""
    from click.testing import CliRunner

    from sim.cli import main

    shown = " ".join(CliRunner().invoke(main, ["serve", "--help"], terminal_width=200).output.split())
    assert "in bursts of up to 6 seconds' worth (429 beyond). [default: 5.0;" in shown


def test_state_changing_requests_must_be_json_from_the_page_own_site(server):
    ana, _ = started(server)
    look = json.dumps({"do": "look", "service": "checkout"})
    for headers, status, reason in (
            ({"content-type": "text/plain"}, 415, "the request body must be JSON, sent as content-type application/json"),
            ({"content-type": "application/x-www-form-urlencoded"}, 415, None),
            ({}, 415, None),
            ({"content-type": "application/json", "origin": "https://evil.example"}, 403,
             "a request from another site (https://evil.example) is refused"),
            ({"content-type": "application/json", "origin": "null"}, 403, None),
            ({"content-type": "application/json", "origin": f"http://localhost:{server.port}"}, 403, None)):
        answer = server.http.post(f"/p/{ana}/api/act", content=look, headers=headers)
        assert answer.status_code == status and (reason is None or answer.json()["reason"] == reason), headers
    same_site = {"content-type": "application/json; charset=utf-8", "origin": server.base}
    assert server.http.post(f"/p/{ana}/api/act", content=look, headers=same_site).status_code == 200
    assert [e["kind"] for e in events(server)].count("dashboard.viewed") == 1


def test_the_facilitator_is_told_the_expected_severity_in_the_teams_levels(tmp_path, write):
    # The scorecard judges checkout-config-push (SEV1 in the scenario) at P1 for a team with P1 and P2;
    # the facilitator's page read 'Expected severity SEV1', a level the team does not have.
    process = write("process.yaml", """
        severities:
          P1: {response: 5m, cadence: [10m, 20m], roles: [ic, comms, ops], postmortem: true}
          P2: {response: 15m, cadence: 30m, roles: [ic], postmortem: false}
        """)
    room = Room.create(tmp_path / "drill", config.scenario_path(None), process)
    assert room.view({"facilitator": True})[0]["scenario"]["truth"]["severity"] == "P1"


def test_a_level_is_taken_whatever_its_capitals_as_the_console_takes_it(tmp_path, write):
    # The console reads 'declare p2' as P2; the API refused {"severity": "p2"}: unknown severity 'p2'.
    process = write("process.yaml", """
        severities:
          P1: {response: 5m, cadence: [10m, 20m], roles: [ic, comms, ops], postmortem: true}
          P2: {response: 15m, cadence: 30m, roles: [ic], postmortem: false}
        """)
    with Server(tmp_path / "drill", "--process", str(process), "--speed", "20", "--seed", "4") as server:
        ana, _ = started(server)
        assert server.act(ana, do="declare", severity="p2", service="checkout").json()["ok"]
        assert server.act(ana, do="severity", severity="sev1").json()["reason"] == \
            "unknown severity 'SEV1' (severities: P1, P2)"  # the console's answer to 'severity sev1'
        assert server.act(ana, do="severity", severity="p1").json()["ok"]
        changes = [(e["kind"], e.get("severity", e.get("to"))) for e in events(server)
                   if e["kind"] in ("incident.declared", "severity.changed")]
        assert changes == [("incident.declared", "P2"), ("severity.changed", "P1")]


def test_an_input_journaled_before_a_handler_failed_is_synced_before_the_500(tmp_path, monkeypatch):
    """A bug that raises after the input was journaled (here: while applying it) answered 500
    without the sync every other answer waits for."""
    from sim.live.drill import LiveDrill
    from sim.live.web.app import create_app

    room = Room.create(tmp_path / "drill", config.scenario_path(None), config.default_file("drills/process.yaml"),
                       config.default_file("drills/roster.yaml"), seed=4, speed=20)
    facilitator, synced = room.state["facilitator"], []
    sync = LiveDrill.sync

    def inputs() -> int:  # lines journaled (the file appears with its first)
        path = room.folder / "inputs.jsonl"
        return path.read_text().count("\n") if path.exists() else 0

    def counted(self):
        synced.append(inputs())
        sync(self)

    def broken(self, record):
        raise RuntimeError("a bug in the drill")

    async def drive():
        transport = httpx.ASGITransport(app=create_app(room, rate=1000), raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://drill") as client:
            seated = await client.post(f"/f/{facilitator}/api/seat", json={"seat": "primary", "name": "ana"})
            assert (await client.post(f"/f/{facilitator}/api/start", json={})).json()["ok"]
            monkeypatch.setattr(LiveDrill, "sync", counted)
            monkeypatch.setattr(LiveDrill, "_apply_action", broken)
            journaled = inputs()
            failed = await client.post(f"/p/{seated.json()['data']['token']}/api/act",
                                       json={"do": "look", "service": "checkout"})
            assert failed.status_code == 500
            # the action is the journal's last line, and a sync ran with it there before the answer
            assert inputs() == journaled + 1
            assert synced and synced[-1] == journaled + 1

    asyncio.run(drive())


def test_an_unexpected_error_is_answered_logged_and_the_drill_carries_on(tmp_path, monkeypatch, caplog):
    """In process (a real server would need the bug shipped), through httpx's ASGI transport
    (starlette's TestClient is deprecated with httpx): a handler that raises answers a JSON 500,
    where Starlette answered a bare one and uvicorn dropped the connection; the drill, the next
    requests and the journal go on."""
    from sim.live.drill import LiveDrill
    from sim.live.web.app import create_app

    room = Room.create(tmp_path / "drill", config.scenario_path(None), config.default_file("drills/process.yaml"),
                       config.default_file("drills/roster.yaml"), seed=4, speed=20)
    facilitator = room.state["facilitator"]

    def broken(self, raw):
        raise RuntimeError("a bug in the drill")

    def journal() -> list:  # each file appears with its first line
        paths = (room.folder / "inputs.jsonl", room.folder / "events.jsonl")
        return [path.exists() and path.read_text() for path in paths]

    async def drive():
        transport = httpx.ASGITransport(app=create_app(room, rate=1000), raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://drill") as client:
            seated = await client.post(f"/f/{facilitator}/api/seat", json={"seat": "primary", "name": "ana"})
            ana = seated.json()["data"]["token"]
            assert (await client.post(f"/f/{facilitator}/api/start", json={})).json()["ok"]
            journaled = journal()
            with monkeypatch.context() as patch:
                patch.setattr(LiveDrill, "act", broken)
                failed = await client.post(f"/p/{ana}/api/act", json={"do": "look", "service": "checkout"})
            assert failed.status_code == 500 and failed.json() == {
                "ok": False, "reason": "internal error: RuntimeError (the drill is kept; see the server's log)"}
            assert journal() == journaled
            assert (await client.get(f"/p/{ana}/api/state")).status_code == 200
            looked = await client.post(f"/p/{ana}/api/act", json={"do": "look", "service": "checkout"})
            assert looked.status_code == 200 and looked.json()["data"]["error_rate"] == pytest.approx(0.0002)
            declared = await client.post(f"/p/{ana}/api/act", json={"do": "declare", "severity": "SEV2",
                                                                     "service": "checkout"})
            assert declared.json()["ok"]
            return ana

    ana = asyncio.run(drive())
    [logged] = [r for r in caplog.records if r.exc_info]
    assert logged.getMessage() == "POST .../api/act failed" and "RuntimeError: a bug in the drill" in caplog.text
    assert ana not in caplog.text  # the link stays secret
    journal = (room.folder / "events.jsonl").read_text()
    resumed = Room.open(room.folder)  # replays every input; refuses if anything differs
    assert (room.folder / "events.jsonl").read_text().startswith(journal)
    assert resumed.view(resumed.who(ana))[0]["status"]["severity"] == "SEV2"
