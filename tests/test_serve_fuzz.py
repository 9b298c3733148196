"""The server's action API under random bodies: never a 5xx, never the truth to a participant,
and a drill that can be resumed afterwards.

Hypothesis builds bodies for every action kind (and the facilitator's controls) from values
that are plausible (services, severities, times, dates), hostile (lone surrogates, numbers
too large for a float, NaN, deep or long values) or simply of the wrong type, with stray
fields; each is posted as raw JSON to a real ``drill serve`` over one live drill with bots.
Bounded to a few hundred bodies (well under a minute on a loaded CI machine).
"""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.inputs import config
from sim.inputs.actions import FIELDS, MITIGATIONS, ROLES, STATUSES

from .serving import Server, leaks

SCENARIO = config.scenario_path(None)
FAULT_IDS = [f.id for f in config.load_scenario(SCENARIO).faults] + ["injected-"]

plausible = st.sampled_from(
    ["checkout", "payment-gateway", "search", "nowhere", "SEV1", "SEV2", "SEV5", *ROLES, *STATUSES, *MITIGATIONS,
     "ana", "kim", "dana", "checkout,payments", "14:50", "+30m", "+99999999999h", "9999-12-31T23:59:59-12:00",
     "0001-01-01", "2026-04-23", "9999-12-31", "P1", "memory_leak", "primary", "joiner", ""])
hostile = st.sampled_from(["\ud800", "a\udfffb", "x" * 2001, "+" + "9" * 400 + "h", 10**400, -(10**30), 1e308,
                           float("nan"), float("inf"), True, None, [], {}, [[[[[]]]]], {"do": "look"}, "<b>x</b>"])
values = st.one_of(plausible, hostile, st.text(max_size=40), st.integers(), st.floats(),
                   st.lists(st.one_of(plausible, st.text(max_size=10)), max_size=4))
fields = {name for required, optional in FIELDS.values() for name in required + optional}


@st.composite
def action_bodies(draw):
    do = draw(st.one_of(st.sampled_from(sorted(FIELDS)), values))
    names = FIELDS.get(do, ((), ())) if isinstance(do, str) else ((), ())
    body = {"do": do}
    for name in names[0] + names[1]:
        if draw(st.booleans()):
            body[name] = draw(values)
    body |= draw(st.dictionaries(st.one_of(st.sampled_from(sorted(fields | {"by", "at"})), st.text(max_size=8)),
                                 values, max_size=2))
    return body


control_bodies = st.tuples(
    st.sampled_from(["speed", "inject", "ask", "pause", "resume", "seat"]),
    st.dictionaries(st.sampled_from(["speed", "kind", "service", "who", "question", "seat", "name", "on"]), values,
                    max_size=3))


def test_random_bodies_never_break_the_server_nor_reach_the_truth(tmp_path):
    server = Server(tmp_path / "drill", "--speed", "30", "--seed", "4", "--rate-limit", "10000")
    try:
        links = {"ana": server.seat("primary", "ana"), "kim": server.seat("joiner", "kim")}
        assert server.control("start")["ok"]

        def post(url, body):
            raw = json.dumps(body)  # escapes lone surrogates, writes NaN and huge numbers as Python does
            return server.http.post(url, content=raw, headers={"content-type": "application/json"})

        @settings(max_examples=200, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
        @given(st.lists(st.one_of(st.tuples(st.sampled_from(sorted(links)), action_bodies()), control_bodies),
                        min_size=1, max_size=4))
        def drive(requests):
            for who, body in requests:
                if who in links:
                    answer = post(f"/p/{links[who]}/api/act", body)
                    assert answer.status_code in (200, 400, 409, 413, 422), (body, answer.text)
                    assert leaks(answer.json(), FAULT_IDS) == [], (body, answer.text)
                else:
                    answer = post(f"/f/{server.token}/api/{who}", body)
                    assert answer.status_code < 500, (who, body, answer.text)
            for token in links.values():
                state = server.http.get(f"/p/{token}/api/state")
                assert state.status_code == 200
                assert leaks(state.json(), FAULT_IDS) == []

        drive()
        for token in links.values():  # the stream's first message: everything from the first event on
            with server.http.stream("GET", f"/p/{token}/api/stream") as stream:
                first = next(line for line in stream.iter_lines() if line.startswith("data:"))
            assert leaks(json.loads(first[5:]), FAULT_IDS) == []
        assert server.state()["scenario"]["faults"][0]["id"] == FAULT_IDS[0]  # the facilitator sees it all
        server.kill()
        journaled = (server.folder / "events.jsonl").read_text()
        server = Server(tmp_path / "drill", resume=True)  # replays every input; refuses if anything differs
        assert (server.folder / "events.jsonl").read_text().startswith(journaled)
        assert server.state(links["ana"])["me"]["name"] == "ana"
    finally:
        server.stop()
