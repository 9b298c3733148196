"""Load on the drill server: 50 participants act at once, each with its page's update stream open.

Starts ``drill serve`` on 127.0.0.1, seats 50 people (one declares and commands, one writes
updates, the rest look at dashboards, investigate and try to post updates they may not),
lets each submit actions one after another (as fast as answers come, or with a pause
of ``--think`` seconds on average between them) for a bounded time,
then stops the server and checks that every acknowledged action, accepted or rejected, is
in the journal and the event log exactly once. Prints the action latency (median, p99).

    python benchmarks/serve_load.py [--people 50] [--seconds 20] [--think 0] [--no-streams]
"""

import argparse
import json
import random
import selectors
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.serving import Server  # noqa: E402

SERVICES = ["storefront", "checkout", "cart", "catalog", "payment-gateway", "search"]


def participant(base, token, name, until, think, latencies, acknowledged):
    rng, n = random.Random(name), 0
    with httpx.Client(base_url=base, timeout=30) as client:
        while time.monotonic() < until:
            time.sleep(rng.uniform(0, 2 * think))
            n += 1
            roll = rng.random()
            if roll < 0.5:
                action = {"do": "look", "service": rng.choice(SERVICES)}
            elif roll < 0.8:
                action = {"do": "update", "status": "investigating", "summary": f"{name} #{n}"}
            else:
                action = {"do": "investigate", "service": rng.choice(SERVICES)}
            started = time.perf_counter()
            response = client.post(f"/p/{token}/api/act", json=action)
            latencies.append(time.perf_counter() - started)
            if response.status_code not in (200, 422):
                raise RuntimeError(f"{name}: HTTP {response.status_code} {response.text}")
            acknowledged.append((name, action, response.json()["ok"]))


def watch_all(base, tokens, until, received):
    """The open pages: one update stream per participant, read with raw sockets by one thread
    (a browser per person would not cost this machine anything; an HTTP client library reading
    fifty streams in Python would, and would slow the actors' clocks)."""
    host, port = base.split("//")[1].split(":")
    selector = selectors.DefaultSelector()
    for token in tokens:
        sock = socket.create_connection((host, int(port)))
        sock.sendall(f"GET /p/{token}/api/stream HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ)
    while time.monotonic() < until:
        for key, _ in selector.select(timeout=0.5):
            received[0] += key.fileobj.recv(1 << 16).count(b"data:")
    for key in list(selector.get_map().values()):
        key.fileobj.close()


def load(server, tokens, seconds, streams, think):
    """One thread per participant, a blocking client each, as a browser's form is."""
    latencies, acknowledged, received = [], [], [0]
    until = time.monotonic() + seconds
    threads = [threading.Thread(target=participant, args=(server.base, token, name, until, think, latencies, acknowledged))
               for name, token in tokens.items()]
    if streams:
        threads.append(threading.Thread(target=watch_all, args=(server.base, list(tokens.values()), until, received)))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, acknowledged, received[0]


def check(folder: Path, acknowledged: list) -> None:
    """Every acknowledged action once in inputs.jsonl and once in events.jsonl, per person in order."""
    inputs = [json.loads(line) for line in (folder / "inputs.jsonl").read_text().splitlines()]
    events = [json.loads(line) for line in (folder / "events.jsonl").read_text().splitlines()]
    journaled = [(r["action"]["by"], r["action"]) for r in inputs if r["input"] == "action"]
    people = {name for name, _, _ in acknowledged}
    for name in people:
        mine = [{"by": name, **action} for who, action, _ in acknowledged if who == name]
        assert [a for who, a in journaled if who == name][-len(mine):] == mine, f"{name}: journal differs"
    outcome = {"look": "dashboard.viewed", "update": "update.posted", "investigate": "investigation.started"}
    expected = Counter((name, outcome[a["do"]] if ok else "action.rejected") for name, a, ok in acknowledged)
    logged = Counter((e["by"], e["kind"]) for e in events if e.get("by") in people and e["kind"] in
                     ("dashboard.viewed", "update.posted", "investigation.started", "action.rejected"))
    for key, count in expected.items():
        assert logged[key] == count, f"{key}: {count} acknowledged, {logged[key]} logged"
    assert sum(logged.values()) == len(acknowledged)
    summaries = Counter(e["summary"] if e["kind"] == "update.posted" else e["fields"].get("summary")
                        for e in events if e["kind"] in ("update.posted", "action.rejected"))  # a rejection keeps its fields
    for name, action, _ in acknowledged:
        if action["do"] == "update":
            assert summaries[action["summary"]] == 1, f"{action['summary']!r} logged {summaries[action['summary']]} times"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--think", type=float, default=0.0, help="mean pause between one person's actions (s)")
    parser.add_argument("--no-streams", dest="streams", action="store_false", help="no update streams open")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "drill"
        server = Server(folder, "--speed", "1", "--seed", "1", "--rate-limit", "10000")  # load, not a flood test
        try:
            tokens = {"p00": server.seat("primary", "p00")}
            tokens |= {f"p{i:02}": server.seat("joiner", f"p{i:02}") for i in range(1, args.people)}
            assert server.control("start")["ok"]
            server.wait_for(lambda s: s["status"]["t"] > 1, tokens["p00"])
            assert server.act(tokens["p00"], do="declare", severity="SEV2", service="checkout").json()["ok"]
            assert server.act(tokens["p00"], do="assign", role="comms", who="p01").json()["ok"]
            latencies, acknowledged, received = load(server, tokens, args.seconds, args.streams, args.think)
        finally:
            server.stop()
        check(folder, acknowledged)
    ms = sorted(1000 * x for x in latencies)
    p99 = ms[min(len(ms) - 1, int(0.99 * len(ms)))]
    accepted = sum(ok for _, _, ok in acknowledged)
    print(f"{args.people} participants for {args.seconds:g} s, think time {args.think:g} s"
          f"{', update streams open' if args.streams else ''}: "
          f"{len(ms)} actions ({accepted} accepted, {len(ms) - accepted} rejected), {len(ms) / args.seconds:.0f} actions/s")
    if args.streams:
        print(f"stream updates received: {received} ({received / args.people / args.seconds:.1f} per page per second)")
    print(f"action latency: median {statistics.median(ms):.1f} ms, p99 {p99:.1f} ms, max {ms[-1]:.1f} ms")
    print("every acknowledged action is in inputs.jsonl and events.jsonl exactly once")


if __name__ == "__main__":
    main()
