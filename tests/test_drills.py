"""Whole drills: determinism, and every shipped scenario scoring a response above doing nothing."""

import datetime as dt
import gc
import math

import pytest
import simpy

from sim import Drill, load_scenario, load_script, run_drill, score
from sim.inputs.config import Process, Script

from .conftest import DATA, SCENARIOS

SHIPPED = sorted(SCENARIOS.glob("*.yaml"))


def test_same_scenario_and_seed_give_a_byte_identical_event_log():
    scenario = load_scenario(SCENARIOS / "checkout-config-push.yaml")
    first = run_drill(scenario, seed=7).jsonl()
    again = run_drill(load_scenario(SCENARIOS / "checkout-config-push.yaml"), seed=7).jsonl()
    assert first == again
    assert first != run_drill(scenario, seed=8).jsonl()


def test_a_drill_runs_with_the_cycle_collector_paused_and_leaves_it_as_it_found_it():
    # At a threshold of 1 the collector runs at nearly every allocation: 626 times in this drill
    # made and run with it on. Paused by run_drill, it runs at most once, as run_drill turns it
    # back on; left off by the caller, it stays off.
    scenario = load_scenario(SCENARIOS / "checkout-config-push.yaml")
    collections = []

    def count(phase, info):
        if phase == "start":
            collections.append(info["generation"])
    threshold = gc.get_threshold()
    gc.callbacks.append(count)
    gc.set_threshold(1)
    try:
        run_drill(scenario, seed=1)
        assert len(collections) <= 1 and gc.isenabled()
        collections.clear()
        gc.disable()
        run_drill(scenario, seed=1)
        assert collections == [] and not gc.isenabled()
    finally:
        gc.callbacks.remove(count)
        gc.set_threshold(*threshold)
        gc.enable()


def test_the_library_has_the_stories_the_team_needs():
    assert len(SHIPPED) >= 8
    kinds = {f.kind for path in SHIPPED for f in load_scenario(path).faults}
    assert kinds >= {"bad_deploy", "config_push", "database_overload", "traffic_spike", "region_failure",
                     "abusive_traffic", "memory_leak", "dependency_outage"}
    truths = [load_scenario(path).truth for path in SHIPPED]
    assert any(t.false_alarm for t in truths)
    assert any(t.severity == "SEV4" for t in truths)
    assert any(t.severity == "SEV3" and t.final_severity for t in truths)


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_every_shipped_scenario_rewards_responding_over_doing_nothing(path):
    # The bots' drill against one where the on-call engineers never act, same scenario and seed:
    # responding must score higher, and doing nothing must show where it failed.
    scenario = load_scenario(path)
    result = run_drill(scenario, seed=1)
    card = score(result.events, scenario, Process())
    quiet = run_drill(scenario, script=load_script(DATA / "quiet.yaml", scenario.start), seed=1)
    idle = score(quiet.events, scenario, Process())
    assert result.events[-1]["kind"] == "drill.ended" and quiet.events[-1]["reason"] == "horizon"
    assert 0 <= idle["score"] < card["score"] <= 100
    if scenario.truth.false_alarm:
        assert card["metrics"]["false_alarm_handled"], "the bots should stand a false alarm down"
        assert idle["metrics"]["false_alarm_handled"] is False
    else:
        assert card["metrics"]["time_to_declare_s"] is not None, "the bots should declare a real incident"
        assert idle["checklist"]["declare_and_open_channel"] is False and idle["metrics"]["time_to_declare_s"] is None


def test_event_log_does_not_depend_on_the_interpreter_hash_seed(tmp_path):
    import os
    import subprocess
    import sys

    logs = []
    for hash_seed in ("1", "2"):
        out = tmp_path / hash_seed
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        subprocess.run([sys.executable, "-c", "from sim.cli import main; main()", "run", "memory-leak-restart",
                        "--seed", "5", "--out", str(out)], check=True, env=env, capture_output=True)
        logs.append((out / "events.jsonl").read_bytes())
    assert logs[0] == logs[1]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_skipping_idle_monitoring_ticks_changes_no_byte(path):
    # A drill on its own clock does not wait for monitoring ticks at which nothing can change; one
    # handed an environment (as a live drill is) waits for every tick. Both must log the same bytes,
    # sums (revenue lost, failed requests) and samples included.
    scenario = load_scenario(path)
    for seed in (1, 2):
        skipping = Drill(scenario, seed=seed).run()
        ticking = Drill(scenario, seed=seed, env=simpy.Environment()).run()
        assert skipping.jsonl() == ticking.jsonl()
        assert skipping.samples == ticking.samples


def test_shorthand_alerts_evaluated_between_scrapes_see_every_scrape_when_skipping():
    # Scraped every 10 s and evaluated every 15 s: tiny's fault (from 60 s, at full strength a
    # second later) is first scraped at 70 s and first evaluated at 75 s, where ApiErrors
    # (errors above 5%) goes pending; it fires after its 2 minutes, at 195 s. A drill skipping
    # idle ticks must not take the 75 s evaluation for idle: the 70 s scrape came after the last one.
    from dataclasses import replace

    scenario = load_scenario(DATA / "tiny.yaml")
    monitoring = replace(scenario.monitoring, scrape_interval=10.0, evaluation_interval=15.0)
    scenario = replace(scenario, monitoring=monitoring)
    skipping = Drill(scenario, script=Script((), ())).run()
    ticking = Drill(scenario, script=Script((), ()), env=simpy.Environment()).run()
    assert (skipping.jsonl(), skipping.samples) == (ticking.jsonl(), ticking.samples)
    assert [(e["kind"], e["t"]) for e in skipping.events if e.get("alert") == "ApiErrors"][:2] \
        == [("alert.pending", 75), ("alert.firing", 195)]


def test_a_blip_starting_on_a_scrape_between_evaluations_is_scraped_when_skipping():
    # Scraped every 10 s, evaluated every 15 s, no alerts: after tiny's fault has recovered the
    # world is steady until an error blip of 50% at 900 s, on a scrape. Skipping the idle ticks
    # up to it must stop before that scrape, which shows the blip's 0.5 at once.
    from dataclasses import replace

    scenario = load_scenario(DATA / "tiny.yaml")
    scenario = replace(scenario, alerts=(), noise=(replace(scenario.noise[0], metric="error_rate", value=0.5),),
                       monitoring=replace(scenario.monitoring, scrape_interval=10.0, evaluation_interval=15.0))
    skipping = Drill(scenario, script=Script((), ())).run()
    ticking = Drill(scenario, script=Script((), ()), env=simpy.Environment()).run()
    assert (skipping.jsonl(), skipping.samples) == (ticking.jsonl(), ticking.samples)
    assert [dict(skipping.samples)[t]["api"][0] for t in (890.0, 900.0)] == [pytest.approx(0.001), 0.5]


def test_a_mitigation_just_after_a_tick_that_looked_shows_at_the_next_scrape(write):
    # tiny's ApiErrors fires at the 195 s tick, which looks; nothing moves after it until the
    # rollback at 200 s, which the next scrape (210) must see: api recovers over the fault's
    # minute, so 10 s in its 0.1998 of extra errors are down by a sixth, 0.001 + 0.1998 x 5/6.
    scenario = load_scenario(DATA / "tiny.yaml")
    script = load_script(write("s.yaml", """
        participants:
          - {name: dana, oncall: primary}
        actions:
          - {at: "+3m20s", by: dana, do: mitigate, action: rollback, service: api}
    """), scenario.start)
    skipping = Drill(scenario, script=script).run()
    ticking = Drill(scenario, script=script, env=simpy.Environment()).run()
    assert (skipping.jsonl(), skipping.samples) == (ticking.jsonl(), ticking.samples)
    assert dict(skipping.samples)[210.0]["api"][0] == pytest.approx(0.001 + 0.1998 * 5 / 6)


def test_a_wait_the_incident_closing_cuts_short_wakes_where_any_of_would():
    # Drill.unless_closed stands in for env.any_of([timeout, closed]): each waiter must wake at
    # the same place among the events of its moment, whether its time ran out or the incident closed.
    def order(wait):
        drill = Drill(load_scenario(SCENARIOS / "checkout-config-push.yaml"))
        env, woke = drill.env, []

        def waiter(name, seconds):
            yield wait(drill, seconds)
            woke.append((name, env.now))

        def other(name, seconds):
            yield env.timeout(seconds)
            woke.append((name, env.now))

        def close():
            yield env.timeout(7)
            drill.closed.succeed()

        for name, seconds in (("a", 5), ("b", 5), ("c", 7), ("d", 9), ("e", 0)):
            env.process(other(name.upper(), seconds))
            env.process(waiter(name, seconds))
            env.process(other(name.upper() + "'", seconds))
        env.process(close())
        env.run()
        woke.append(("late", env.now))
        env.process(waiter("after", 3))  # the incident closed already: no wait at all
        env.run()
        return woke

    assert order(Drill.unless_closed) == order(lambda drill, s: drill.env.any_of([drill.env.timeout(s), drill.closed]))


def test_a_bot_waiting_for_news_wakes_where_its_checks_would_even_at_a_shared_instant():
    # Drill.until_news(every) stands in for a loop of drill.unless_closed(every) that finds nothing
    # until something is learnt (Incident.heard): the bot must resume at the same check and at the
    # same place among the events of that instant. Here the checks fall at 60, 120, 180; news comes
    # at 130, so the bot resumes at 180. A neighbour's wait, queued at 125, ends at 180 too: the
    # bot's timer (queued at 120) goes first, then the neighbour, which hands a baton on at once;
    # then the bot's wait itself, before the baton (queued after it), then the baton's taker. A
    # wake queued only when the news came (at 130) would come after the neighbour, and the bot
    # after the taker. At 300 the incident closes: a bot waiting for news stops waiting there.
    def story(waiting_for_news):
        drill = Drill(load_scenario(SCENARIOS / "checkout-config-push.yaml"))
        env, seen, baton = drill.env, [], drill.env.event()

        def bot(name):
            heard = drill.incident.heard
            while not drill.closed.triggered:
                yield drill.until_news(60) if waiting_for_news else drill.unless_closed(60)
                if drill.incident.heard != heard or drill.closed.triggered:
                    seen.append((name, env.now))
                    heard = drill.incident.heard

        def news():
            yield env.timeout(130)
            drill.incident.heard += 1

        def neighbour():
            yield env.timeout(125)
            yield env.timeout(55)
            seen.append(("neighbour", env.now))
            baton.succeed()

        def taker():
            yield baton
            seen.append(("taker", env.now))

        def close():
            yield env.timeout(300)
            drill.closed.succeed()

        for process in (bot("bot"), news(), neighbour(), taker(), close()):
            env.process(process)
        env.run(until=400)
        return seen

    assert story(True) == story(False) == [("neighbour", 180), ("bot", 180), ("taker", 180), ("bot", 300)]


def test_a_person_does_one_thing_at_a_time_and_their_work_is_counted_by_kind():
    # Two pieces of 30 s handed to dana at 0 end at 30 and 60; one of 10 s at 100, when she is
    # free again, ends at 110 (not queued after the others). She looked 40 s and wrote 30 s.
    drill = Drill(load_scenario(SCENARIOS / "checkout-config-push.yaml"))
    env, dana, ended = drill.env, drill.people["dana"], []

    def work(at, seconds, kind):
        yield env.timeout(at)
        yield drill.busy(dana, seconds, kind)
        ended.append(env.now)

    for at, seconds, kind in ((0, 30, "look"), (0, 30, "write"), (100, 10, "look")):
        env.process(work(at, seconds, kind))
    env.run()
    assert (ended, dana.worked) == ([30, 60, 110], {"look": 40, "write": 30})


def test_the_result_gives_the_time_each_person_worked_to_a_tenth_of_a_second():
    # The bots' work is counted to the float (dana assessed for 89.43 s in this drill); the result,
    # which reports and batch columns read, gives every figure to the tenth.
    result = run_drill(load_scenario(SCENARIOS / "checkout-config-push.yaml"), seed=1)
    dana = next(p for p in result.participants if p["name"] == "dana")
    assert dana["worked"]["assess"] == 89.4
    assert all(v == round(v, 1) for p in result.participants for v in p["worked"].values())


def test_a_drill_built_by_hand_is_run_drills_drill_by_default():
    # Drill and run_drill are both the public API: left to their defaults, both play seed 0
    # and keep the samples (a scrape's error rate and latency per service, which charts draw).
    scenario = load_scenario(SCENARIOS / "checkout-config-push.yaml")
    by_hand, run = Drill(scenario).run(), run_drill(scenario)
    assert (by_hand.seed, run.seed, by_hand.jsonl()) == (0, 0, run.jsonl())
    assert run.samples == by_hand.samples and len(run.samples) > 0


def test_an_events_time_is_logged_as_round_gives_it_to_the_millisecond():
    # The log's quick rounding must be round(t, 3) to the bit: at ties (a thousandth and a half,
    # as close as a double gets on either side), where t * 1000 rounds, and far into a long drill.
    import random

    from sim.model.eventlog import rounded

    assert rounded(0.0005, 3) == round(0.0005, 3) == 0.001  # 0.0005 is a little above a half
    assert rounded(2.675, 3) == round(2.675, 3) == 2.675
    assert rounded(1.0005, 3) == round(1.0005, 3) == 1.0  # 1.0005 is a little below a half
    rng = random.Random(3)
    times = [rng.uniform(0.0, 3.2e7) for _ in range(20000)]
    times += [k / 1000 + half for k in rng.sample(range(10**8), 20000) for half in (0.0005, 0.0004999999, 0.0005000001)]
    times += [math.nextafter(t, side) for t in times[-300:] for side in (0.0, math.inf)]
    assert [rounded(t, 3) for t in times] == [round(t, 3) for t in times]


def test_the_listener_of_a_kind_hears_only_that_kind_before_the_listeners_of_every_event():
    from sim.model.eventlog import EventLog

    log, heard = EventLog(dt.datetime(2026, 5, 1, tzinfo=dt.timezone.utc), lambda: 90.0), []
    log.kind_listeners["page.sent"] = lambda e: heard.append(("page", e["kind"]))
    log.listeners.append(lambda e: heard.append(("all", e["kind"])))
    log.emit("dashboard.viewed", by="sam", service="checkout", metrics={})
    log.emit("page.sent", page="p1", to="sam")
    assert heard == [("all", "dashboard.viewed"), ("page", "page.sent"), ("all", "page.sent")]
    assert [(e["kind"], e["t"], e["at"]) for e in log.events] == [
        ("dashboard.viewed", 90, "2026-05-01T00:01:30Z"), ("page.sent", 90, "2026-05-01T00:01:30Z")]


def test_a_drills_own_clock_steps_its_events_as_simpys_run_does():
    # A drill on its own clock (sim.model.clock.Clock: its own queue, stepped by compiled code)
    # must process simpy's events in simpy's order: by time, then priority (a process
    # starting, an interruption, come first at their moment), then as scheduled; stop where
    # simpy stops (an event of the same instant after the end is not processed), raise a failure
    # nobody handled as simpy raises it, and complain as simpy does when the queue runs dry first.
    from sim.model.clock import Clock

    def story(clock):
        env, seen = clock(), []
        done = env.event()

        def walk(name, waits):
            for wait in waits:
                yield env.timeout(wait)
                seen.append((name, env.now))

        def finish():
            yield env.timeout(4)
            done.succeed("over")
            seen.append(("finish", env.now))
            yield env.timeout(0)
            seen.append(("after the end", env.now))

        def sleeper():
            try:
                yield env.timeout(10)
            except simpy.Interrupt as why:
                seen.append(("woken", env.now, why.cause))

        def starter():
            yield env.timeout(2)
            env.process(walk("c", [0]))  # starts (urgent) before the wait of 0 queued just after it
            seen.append(("started c", env.now))
            sleeping.interrupt("at 2")

        env.process(walk("a", [1, 2, 0, 5]))
        env.process(walk("b", [3, 0, 1]))
        env.process(finish())
        sleeping = env.process(sleeper())
        env.process(starter())
        env.run(until=done)
        return seen, env.now

    # at 2, the starter goes on; the interruption and c's start are urgent, c's wait of 0 then;
    # at 3, b's wait (queued at 0) before a's (queued at 1), then each one's wait of 0 in that order;
    # at 4, finish's wait (queued at 0), then b's (queued at 3), then ``done``, where it stops
    expected = ([("a", 1), ("started c", 2), ("woken", 2, "at 2"), ("c", 2), ("b", 3), ("a", 3), ("b", 3),
                 ("a", 3), ("finish", 4), ("b", 4)], 4)
    assert story(Clock) == story(simpy.Environment) == expected

    def in_pieces(clock):
        # run(until=a time) in pieces, as the tests of bots do: stopping at 3 leaves b's and a's
        # waits of that moment for the next piece, which runs them first; each stop stays queued
        # (simpy schedules what is left of it again, first of its moment), so peek() gives its time
        env, seen = clock(), []

        def walk(name, waits):
            for wait in waits:
                yield env.timeout(wait)
                seen.append((name, env.now))

        env.process(walk("a", [1, 2, 0]))
        env.process(walk("b", [3, 0, 1]))
        env.run(until=3)
        seen.append(("paused", env.now, env.peek()))
        env.run(until=10)
        seen.append(("paused", env.now, env.peek()))
        env.run()
        return seen

    assert in_pieces(Clock) == in_pieces(simpy.Environment) == [
        ("a", 1), ("paused", 3, 3), ("b", 3), ("a", 3), ("b", 3), ("a", 3), ("b", 4), ("paused", 10, 10)]

    def failing(clock):
        env = clock()

        def boom():
            yield env.timeout(1)
            raise ValueError("bad input at 1")

        env.process(boom())
        with pytest.raises(ValueError, match="bad input at 1") as raised:
            env.run(until=env.event())
        return type(raised.value.__cause__), env.now

    assert failing(Clock) == failing(simpy.Environment) == (ValueError, 1)

    def waiting_on_processes(clock):
        # a process is an event too: its waiter gets what its generator returned, or the exception
        # it failed with (handled there, so the run goes on: the failure was defused)
        env, seen = clock(), []

        def child():
            yield env.timeout(2)
            return "grown"

        def parent():
            got = yield env.process(child())
            seen.append(("parent got", got, env.now))

        def failing_child():
            yield env.timeout(1)
            raise KeyError("lost")

        def minder():
            try:
                yield env.process(failing_child())
            except KeyError as why:
                seen.append(("minder caught", why.args[0], env.now))

        env.process(parent())
        env.process(minder())
        env.run()
        return seen

    assert waiting_on_processes(Clock) == waiting_on_processes(simpy.Environment) == [
        ("minder caught", "lost", 1), ("parent got", "grown", 2)]
    for clock in (Clock, simpy.Environment):
        with pytest.raises(RuntimeError, match='No scheduled events left but "until" event was not triggered'):
            env = clock()
            env.run(until=env.event())
