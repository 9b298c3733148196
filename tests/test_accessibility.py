"""The browser pages for everyone: an automated accessibility audit (axe-core, WCAG 2.1 A and
AA and axe's best practices) of every page, nothing wider than a phone's screen, and the
room's talk-and-steer controls (the channel's message box, asking, resolving knowingly, who
is here, a seat's new link).

axe-core is fetched for the test run by npm into a cache folder (never shipped in the
package): the pages must pass it, not carry it.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from .serving import CHROMIUM, CHROMIUM_ARGS, Server

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"needs Debian's chromium at {CHROMIUM}")

AXE = "4.10.2"
RULES = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


@pytest.fixture(scope="module")
def axe() -> str:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "drillsim-tests" / f"axe-core-{AXE}"
    script = cache / "node_modules" / "axe-core" / "axe.min.js"
    if not script.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("needs npm to fetch axe-core")
        done = subprocess.run([npm, "install", "--no-save", "--no-audit", "--no-fund", "--prefix", str(cache),
                               f"axe-core@{AXE}"], capture_output=True, text=True, timeout=300, check=False)
        if done.returncode or not script.exists():
            pytest.skip(f"npm could not fetch axe-core: {done.stderr[-300:]}")
    return script.read_text()


def audit(page, axe: str) -> list[str]:
    """axe's violations on the page as it is now, one line each (rule, impact, where)."""
    page.evaluate(axe)
    found = page.evaluate("async (rules) => (await axe.run(document, {runOnly: {type: 'tag', values: rules}}))"
                          ".violations.map(v => `${v.id} (${v.impact}): ${v.nodes.map(n => n.target.join(' ') + ' ' + n.failureSummary).join(', ')}`)",
                          RULES)
    return found


def test_every_page_passes_an_accessibility_audit_and_fits_a_phone(tmp_path, axe):
    with Server(tmp_path / "drill", "--speed", "60", "--seed", "1") as server, sync_api.sync_playwright() as pw:
        ana = server.seat("primary", "ana")
        ben = server.seat("joiner", "ben")
        newcomer = server.seat("joiner")
        server.control("start")
        server.wait_for(lambda s: any(p["status"] == "triggered" for p in s.get("pages", [])), ana)
        for action in ({"do": "ack"}, {"do": "look", "service": "checkout"},
                       {"do": "declare", "severity": "SEV1", "summary": "Checkout errors"},
                       {"do": "assign", "role": "ops", "who": "ben"}):
            assert server.act(ana, **action).json()["ok"], action
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(bypass_csp=True)  # lets the test put axe into the page
            page = context.new_page()
            page.set_default_timeout(10_000)
            for width in (1024, 390):
                page.set_viewport_size({"width": width, "height": 900})
                for url, ready in ((f"{server.base}/p/{ana}/", "main:not(.hidden) #channel li:not(.empty)"),
                                   (f"{server.base}/f/{server.token}/", "#channel li:not(.empty)"),
                                   (f"{server.base}/p/{newcomer}/", "#join:not(.hidden)")):
                    page.goto(url)
                    page.wait_for_selector(ready)
                    page.wait_for_timeout(300)  # the stream's next update has been drawn
                    assert audit(page, axe) == [], (url, width)
                    assert page.evaluate("document.documentElement.scrollWidth") <= width, (url, width)

            # ana (IC) talks in the channel, asks ben, and resolves only knowingly.
            page.set_viewport_size({"width": 1024, "height": 900})
            page.goto(f"{server.base}/p/{ana}/")
            assert page.title() == "Live drill"  # the page was acknowledged: no alarm in the tab title
            page.fill("#say-text", "ben, how is it going?")
            page.click("#say-form button")
            sync_api.expect(page.locator("#channel")).to_contain_text("ana: ben, how is it going?")
            page.click("#tabs button[data-action=ask]")
            assert page.locator("#tabs button").all_inner_texts()[:4] == ["Assign role", "Page teams", "Ask someone", "Post update"]
            page.select_option("#action [name=who]", "ops")
            page.select_option("#action [name=task]", "investigate")
            page.select_option("#action [name=service]", "payment-gateway")
            page.click("#action button[type=submit]")
            sync_api.expect(page.locator("#channel")).to_contain_text("ana asks ben to investigate payment-gateway (T1)")
            # ben (a person) sees the request among what is asked of him, until he does it.
            assert server.state(ben)["tasks"] == [{"id": "T1", "by": "ana", "task": "investigate", "service": "payment-gateway"}]
            page.click("#tabs button[data-action=resolve]")
            dialogs = []
            page.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
            page.click("#action button[type=submit]")
            sync_api.expect(page.locator("#message")).to_contain_text("not resolved: alerts still firing (CheckoutHighErrorRate)")
            assert dialogs and dialogs[0].endswith("Resolve anyway?")
            assert server.state(ana)["status"]["state"] == "open"  # dismissed: still open

            # The facilitator sees who is here, and gives ben a new link: the old one stops working.
            facilitator = context.new_page()
            facilitator.goto(f"{server.base}/f/{server.token}/")
            seats = facilitator.locator("#seats > li")
            sync_api.expect(seats.nth(0)).to_contain_text("online")  # ana's page is open
            sync_api.expect(seats.nth(1)).to_contain_text("not opened yet")  # ben never opened his
            facilitator.once("dialog", lambda dialog: dialog.accept())
            facilitator.click(f"button[data-revoke='{ben}']")
            sync_api.expect(facilitator.locator("#message")).to_have_text("revoke: done")
            assert server.http.get(f"/p/{ben}/api/state").status_code == 403
            fresh = next(s["token"] for s in server.state()["room"]["seats"] if s["name"] == "ben")
            assert server.state(fresh)["me"]["name"] == "ben"
            # The stakeholder question comes from the scenario.
            assert facilitator.input_value("#ask-who") == "VP of Sales"
            facilitator.select_option("#ask-pick", "2")
            assert facilitator.input_value("#ask-question") == "How much revenue have we lost so far?"
        finally:
            browser.close()
