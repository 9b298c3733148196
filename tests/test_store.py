"""The drill store: what a drill record holds, atomic writes, concurrent writers, migrations."""

import os
import sqlite3
import subprocess
import sys
import threading

import pytest

from sim import DrillError, load_scenario, load_script, run_drill, score
from sim.inputs.config import Process
from sim.records import store

from .conftest import DATA, REPO, SCENARIOS


def article_drill():
    scenario = load_scenario(SCENARIOS / "checkout-config-push.yaml")
    result = run_drill(scenario, script=load_script(DATA / "article.yaml", scenario.start), samples=False)
    return result, score(result.events, scenario, Process())


def test_a_recorded_drill_reads_back_whole(drill_store):
    result, card = article_drill()
    drill_id = store.record(result, card, conducted="2026-10-14", variant="wait", mode="script",
                            plan="2026-Q4", entry=1, shadows={"ic": ("priya",)})
    got = store.drill(drill_id)
    assert (got.conducted, got.quarter, got.scenario, got.variant, got.mode) == (
        "2026-10-14", "2026-Q4", "checkout-config-push", "wait", "script")
    assert (got.plan_quarter, got.plan_entry, got.seed) == ("2026-Q4", 1, 0)
    assert got.score == card["score"] and got.metrics == card["metrics"] and got.checklist == card["checklist"]
    assert got.metrics["time_to_declare_s"] == 285
    assert got.declare_target_s == 300  # SEV1: declare within 5 minutes
    assert [p["name"] for p in got.participants] == ["dana", "lee", "alex", "sam"]
    # The article: dana declares at 14:52 and hands IC to alex at once; sam is comms from 14:53.
    assert (got.lead("ic"), got.lead("comms"), got.lead("ops")) == ("alex", "sam", None)
    assert got.shadows("ic") == ["priya"]
    ic = {r["person"]: r["held_s"] for r in got.roles if r["role"] == "ic" and not r["shadow"]}
    assert ic == {"dana": 0.0, "alex": 26 * 60.0}  # 14:52 to the resolution at 15:18
    assert store.events(drill_id) == result.events


def test_roles_held_counts_time_until_handover_or_the_end():
    events = [{"t": 0, "kind": "role.assigned", "role": "ic", "who": "a"},
              {"t": 100, "kind": "role.assigned", "role": "ic", "who": "b"},
              {"t": 150, "kind": "role.assigned", "role": "ic", "who": "a"},
              {"t": 400, "kind": "incident.resolved"}, {"t": 900, "kind": "drill.ended"}]
    assert store.roles_held(events) == [{"person": "a", "role": "ic", "held_s": 350.0, "lead": True},
                                        {"person": "b", "role": "ic", "held_s": 50.0, "lead": False}]


def test_quarters_and_filters(drill_store):
    result, card = article_drill()
    for day in ("2026-03-31", "2026-04-01", "2026-06-30", "2026-07-01"):
        store.record(result, card, conducted=day)
    assert [d.conducted for d in store.drills(quarter="2026-Q2")] == ["2026-04-01", "2026-06-30"]
    assert [d.conducted for d in store.drills(until="2026-Q2")] == ["2026-03-31", "2026-04-01", "2026-06-30"]
    assert len(store.drills(person="sam")) == 4 and store.drills(person="nobody") == []
    assert store.quarter_bounds("2026-Q4") == (store.units.date("2026-10-01"), store.units.date("2026-12-31"))
    assert store.shift_quarter("2026-Q1", -1) == "2025-Q4" and store.shift_quarter("2026-Q4", 1) == "2027-Q1"
    with pytest.raises(DrillError, match="expected a quarter such as 2026-Q4"):
        store.parse_quarter("2026-Q5")


def test_a_person_s_drills_are_those_they_took_part_in_not_those_a_bot_played_them_in(drill_store):
    result, card = article_drill()  # everyone seated
    article = store.record(result, card, conducted="2026-10-14", shadows={"ic": ("priya",)})
    scenario = load_scenario(SCENARIOS / "checkout-config-push.yaml")
    bots = run_drill(scenario, samples=False)  # dana, lee, alex and sam played by bots
    assert [p["name"] for p in bots.participants if not p["bot"]] == [] and "lee" in [p["name"] for p in bots.participants]
    store.record(bots, score(bots.events, scenario, Process()), conducted="2026-10-15", shadows={"comms": ("priya",)})
    # Both were listed for lee and for priya: the bots' drill as if lee had played it.
    assert [d.id for d in store.drills(person="lee")] == [article]
    assert [d.id for d in store.drills(person="priya")] == [article]


def test_a_missing_store_holds_no_drills(tmp_path):
    assert store.drills(tmp_path / "none.db") == []
    assert not (tmp_path / "none.db").exists()


_KILLED_MID_WRITE = """
import os, signal, sys
from sim import load_scenario, run_drill, score
from sim.records import store
from sim.inputs.config import Process
scenario = load_scenario(sys.argv[2])
result = run_drill(scenario, seed=1, samples=False)
card = score(result.events, scenario, Process())
def die(events):
    # The drill row and its participants are written; the process dies before the rest.
    os.kill(os.getpid(), signal.SIGKILL)
store.roles_held = die
store.record(result, card, conducted="2026-10-02", path=sys.argv[1])
"""


def test_a_drill_killed_mid_write_leaves_no_half_drill(tmp_path):
    path = tmp_path / "drills.db"
    result, card = article_drill()
    store.record(result, card, conducted="2026-10-01", path=path)
    proc = subprocess.run([sys.executable, "-c", _KILLED_MID_WRITE, str(path), str(SCENARIOS / "checkout-config-push.yaml")],
                          capture_output=True, cwd=REPO)
    assert proc.returncode == -9, proc.stderr.decode()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT count(*) FROM drills").fetchone()[0] == 1
    assert conn.execute("SELECT count(*) FROM participants WHERE drill_id NOT IN (SELECT id FROM drills)").fetchone()[0] == 0
    conn.close()
    assert store.record(result, card, conducted="2026-10-03", path=path) == 2
    assert [d.conducted for d in store.drills(path)] == ["2026-10-01", "2026-10-03"]


def test_an_error_inside_the_transaction_rolls_the_drill_back(drill_store):
    result, card = article_drill()
    result.events.append({"t": 1, "kind": "bad", "value": object()})  # cannot be stored as JSON
    with pytest.raises(TypeError):
        store.record(result, card, conducted="2026-10-01")
    conn = sqlite3.connect(drill_store)
    assert [conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("drills", "participants", "roles", "events")] == [0, 0, 0, 0]


def test_two_writers_at_once_both_arrive(drill_store):
    result, card = article_drill()
    barrier, errors = threading.Barrier(2), []

    def writer(day):
        try:
            barrier.wait()
            for _ in range(4):
                store.record(result, card, conducted=day)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(day,)) for day in ("2026-10-01", "2026-10-02")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    found = store.drills()
    assert len(found) == 8 and sorted({d.id for d in found}) == list(range(1, 9))
    assert [d.conducted for d in found].count("2026-10-01") == 4
    conn = sqlite3.connect(drill_store)
    assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 8 * len(result.events)


def test_an_older_store_migrates_forward(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    assert store.migrate(conn, upto=1) == 1
    conn.execute("INSERT INTO drills (conducted, scenario, seed, variant, score, metrics, checklist) "
                 "VALUES ('2026-05-06', 'bad-deploy-rollback', 3, 'default', 88.5, '{\"time_to_declare_s\": 200}', '{}')")
    conn.execute("INSERT INTO roles VALUES (1, 'alex', 'ic', 600, 1)")
    conn.close()
    old = store.drills(path)[0]
    assert (old.scenario, old.title, old.mode, old.score, old.lead("ic")) == (
        "bad-deploy-rollback", "bad-deploy-rollback", "simulated", 88.5, "alex")
    assert old.metrics == {"time_to_declare_s": 200} and old.plan_quarter is None
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == store.VERSION == 5
    assert (old.voided, old.void_reason, old.plan_deviations, old.duties) == (None, None, None, None)
    result, card = article_drill()
    assert store.record(result, card, conducted="2026-05-07", path=path) == 2


def test_a_store_from_a_newer_drillsim_is_refused(tmp_path):
    path = tmp_path / "new.db"
    sqlite3.connect(path).execute(f"PRAGMA user_version = {store.VERSION + 1}")
    with pytest.raises(DrillError, match="newer than this drillsim"):
        store.drills(path)


def test_a_file_that_is_not_a_store_is_a_clear_error(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("not a database" * 100)
    with pytest.raises(DrillError, match="not a usable drill store"):
        store.drills(path)
    # a store SQLite cannot open at all (root may write anywhere, so a link to a missing folder)
    nowhere = tmp_path / "link.db"
    nowhere.symlink_to(tmp_path / "missing" / "drills.db")
    with pytest.raises(DrillError, match=f"{nowhere}: not a usable drill store: unable to open database file"):
        store.connect(nowhere)  # as recording a drill does


def test_the_store_path_comes_from_the_environment(drill_store, monkeypatch):
    assert store.default_path() == drill_store
    monkeypatch.delenv("DRILLSIM_STORE")
    assert store.default_path() == store.DEFAULT_PATH
    assert os.fspath(store.DEFAULT_PATH) == os.path.join("drills", "drills.db")


def test_drill_show_re_renders_every_output_byte_for_byte(drill_store, tmp_path):
    from click.testing import CliRunner

    from sim.cli import main
    from sim.outputs import report

    scenario = load_scenario(SCENARIOS / "checkout-config-push.yaml")
    result = run_drill(scenario, Process(), seed=2)  # with metric samples, as `drill run` keeps them
    card = score(result.events, scenario, Process())
    first = report.write_outputs(result, card, tmp_path / "run")
    drill_id = store.record(result, card)
    facing, samples, rules = store.samples(drill_id)
    assert facing == ["storefront", "checkout", "search"] and len(samples) == len(result.samples)
    # the picture's threshold line: the scenario's one alert, on checkout's error rate above 5 %
    assert rules == [{"name": "CheckoutHighErrorRate", "service": "checkout", "metric": "error_rate", "op": ">",
                      "threshold": 0.05}]
    shown = CliRunner().invoke(main, ["show", str(drill_id), "--report", str(tmp_path / "shown")])
    assert shown.exit_code == 0, shown.output
    for written in first:
        assert (tmp_path / "shown" / written.name).read_bytes() == written.read_bytes(), written.name
    assert oct(first[0].stat().st_mode & 0o777) == "0o644"


def test_a_drill_with_no_customer_facing_service_keeps_every_service_for_its_picture(drill_store, tmp_path):
    from dataclasses import replace

    from click.testing import CliRunner

    from sim.cli import main
    from sim.outputs import report

    shipped = load_scenario(SCENARIOS / "checkout-config-push.yaml")
    scenario = replace(shipped, services={n: replace(s, customer_facing=False) for n, s in shipped.services.items()})
    result = run_drill(scenario, Process(), seed=2)
    card = score(result.events, scenario, Process())
    report.write_outputs(result, card, tmp_path / "run")
    drill_id = store.record(result, card)
    facing, samples, _ = store.samples(drill_id)
    # the picture then shows the whole shop (Scenario.facing), and the store keeps what it drew
    assert facing == ["storefront", "checkout", "cart", "catalog", "payment-gateway", "search"]
    assert samples[0][1]["checkout"] == pytest.approx((0.0002, 450.0))
    shown = CliRunner().invoke(main, ["show", str(drill_id), "--report", str(tmp_path / "shown")])
    assert shown.exit_code == 0, shown.output
    assert (tmp_path / "shown" / "timeline.png").read_bytes() == (tmp_path / "run" / "timeline.png").read_bytes()
