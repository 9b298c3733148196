"""End to end in a real headless Chromium: two people run a whole incident from their pages."""

import datetime as dt
from pathlib import Path

import pytest

from sim.inputs.units import weekday
from sim.live.commands import business_days_after

from .serving import CHROMIUM, CHROMIUM_ARGS, Server, free_port

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"needs Debian's chromium at {CHROMIUM}")


def submit(page, tab: str, **fields) -> None:
    """Choose ``tab`` among the page's action tabs, fill its form, submit, and wait for the answer."""
    page.click(f"#tabs button[data-action={tab}]")
    for name, value in fields.items():
        field = page.locator(f"#action [name={name}]").first
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    page.click("#action button[type=submit]")
    sync_api.expect(page.locator("#message")).to_have_class("message good")
    page.evaluate("document.getElementById('message').className = 'message'")


def test_two_people_run_an_incident_and_see_the_scorecard(tmp_path):
    booked = business_days_after(dt.datetime.now(dt.UTC).date(), 3)[-1]  # a live drill is held today
    with Server(tmp_path / "drill", "--speed", "100", "--seed", "4") as server, sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            pages = [browser.new_context().new_page() for _ in range(3)]
            for page in pages:
                page.set_default_timeout(10_000)
            facilitator, ana_page, ben_page = pages
            # The facilitator sets the room up on their page: ana on call, a seat for ben, no bots.
            facilitator.goto(f"{server.base}/f/{server.token}/")
            facilitator.select_option("#seat-kind", "primary")
            facilitator.fill("#seat-name", "ana")
            facilitator.click("#seat-form button")
            sync_api.expect(facilitator.locator("#seats li")).to_have_count(1)
            facilitator.select_option("#seat-kind", "joiner")
            facilitator.click("#seat-form button")
            sync_api.expect(facilitator.locator("#seats li")).to_have_count(2)
            facilitator.uncheck("#bots")
            sync_api.expect(facilitator.locator("#message")).to_have_text("bots: done")
            ana_link, ben_link = facilitator.locator("#seats .link").all_inner_texts()

            ana_page.goto(ana_link)
            ben_page.goto(ben_link)
            ben_page.fill("#join-name", "ben")
            ben_page.click("#join-form button")
            sync_api.expect(ben_page.locator("#who")).to_have_text("ben - joined")
            facilitator.click("#start")

            # The checkout alert pages ana at 14:47:45, under five seconds at this speed.
            ana_page.click("#pages button[data-page=P1]")
            server.control("speed", speed=10)
            ana_page.click("#services button[data-service=checkout]")
            sync_api.expect(ana_page.locator("#charts .chart h3").first).to_contain_text("checkout - error rate")
            submit(ana_page, "declare", severity="SEV1", summary="Checkout errors at 15%")
            submit(ana_page, "assign", role="comms", who="ben")
            submit(ben_page, "update", status="investigating", summary="Checkout is failing for customers")
            submit(ana_page, "mitigate", action="rollback", service="payment-gateway")
            submit(ben_page, "update", status="mitigating", summary="Rolled back the gateway config")
            # The alerts still fire a minute after the rollback: resolving asks for a knowing yes.
            ana_page.once("dialog", lambda dialog: dialog.accept())
            submit(ana_page, "resolve", summary="Error rate back to normal")
            submit(ana_page, "schedule_postmortem", date=booked)
            facilitator.fill("#speed", "200")  # the drill ends five simulated minutes after the booking
            facilitator.click("#set-speed")

            # The scorecard comes once the drill is recorded and its report and picture are written
            # (matplotlib): 2.4 s on a quiet machine, past 15 s once in 15 runs under load.
            for page in pages:
                sync_api.expect(page.locator("#scorecard .score")).to_contain_text("/ 100", timeout=30_000)
            channel = ben_page.locator("#channel").inner_text()
            for line in ("SEV1 declared by ana", "ben is Communications Lead (assigned by ana)",
                         "Update [investigating] from ben: Checkout is failing for customers",
                         "ana: rollback of payment-gateway", "Incident resolved by ana",
                         f"Postmortem scheduled for {weekday(booked)} {booked}"):
                assert line in channel
            assert "Communicate at the defined cadence" in ana_page.locator("#scorecard").inner_text()
            with facilitator.expect_download() as download:
                facilitator.click("text=Download report.md")
            assert Path(download.value.path()).read_text().startswith("# Drill report: ")
        finally:
            browser.close()


def test_the_facilitator_is_warned_when_an_endpoint_of_the_real_tools_fails(tmp_path):
    dead = f"http://127.0.0.1:{free_port()}/v2/enqueue"  # nothing listens there: every attempt is refused
    with Server(tmp_path / "drill", "--speed", "200", "--pagerduty-routing-key", "KEY", "--pagerduty-url", dead) as server, \
            sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context().new_page()
            page.set_default_timeout(15_000)
            page.goto(f"{server.base}/f/{server.token}/")
            page.click("#start")
            # The checkout alert pages the on-call bot at 14:47:45, 2.3 s in at this speed: its
            # PagerDuty trigger is refused, and the facilitator's page says so while the drill goes on.
            warning = page.locator("#tools-warning")
            sync_api.expect(warning).to_be_visible()
            sync_api.expect(warning).to_contain_text("pagerduty is failing (")
            sync_api.expect(warning).to_contain_text("refused")
            sync_api.expect(page.locator("#tools li").first).to_contain_text(f"failing pagerduty {dead}")
            sync_api.expect(page.locator("#channel")).to_contain_text("TOOLS pagerduty is failing (")
        finally:
            browser.close()
        # The drill went on: the on-call bot acknowledged its page.
        events = server.wait_for(lambda s: any(e["kind"] == "page.acked" for e in s["events"]))["events"]
    failing = next(e for e in events if e["kind"] == "outbound.failing")
    assert failing["endpoint"] == "pagerduty" and "refused" in failing["error"]
