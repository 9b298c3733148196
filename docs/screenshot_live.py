"""Render the pages of a live drill in headless Chromium: docs/participant.png and
docs/facilitator.png (mid-incident, 1440 px wide), and every page at a phone's, a laptop's
and a wide screen's width in docs/screens/ (the join page, the participant's and the
facilitator's pages mid-incident, and both at the end), each the whole page long, so that
anything clipped or wider than the screen shows.

    python docs/screenshot_live.py     # from the repository root, with the test extra installed
"""

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.serving import CHROMIUM, CHROMIUM_ARGS, Server  # noqa: E402

WIDTHS = {"phone": 390, "laptop": 1024, "wide": 1920}
SCREENS = ROOT / "docs" / "screens"


def main() -> None:
    SCREENS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, Server(Path(tmp) / "drill", "--speed", "60", "--seed", "1") as server:
        ana = server.seat("primary", "ana")
        server.seat("joiner", "ben")
        newcomer = server.seat("joiner")  # nobody has opened it: the join page
        server.control("start")
        server.wait_for(lambda s: any(p["status"] == "triggered" for p in s.get("pages", [])), ana)
        for action in ({"do": "ack"}, {"do": "look", "service": "checkout"},
                       {"do": "look", "service": "payment-gateway"},
                       {"do": "declare", "severity": "SEV1", "summary": "Checkout errors at 15%, customers cannot pay"},
                       {"do": "assign", "role": "comms", "who": "sam"}, {"do": "assign", "role": "ops", "who": "ben"},
                       {"do": "page", "teams": ["checkout", "payments"]},
                       {"do": "ask", "who": "sam", "task": "update"},
                       {"do": "say", "text": "sam, what do we tell the VP?"}):
            assert server.act(ana, **action).json()["ok"], action
        time.sleep(9)  # nine simulated minutes: the charts fill, the comms bot posts its first update
        server.control("ask", who="The VP of Sales", question="Customers are calling: what is the ETA for checkout?")
        time.sleep(2)
        server.control("pause")
        pages = {"participant": f"{server.base}/p/{ana}/", "facilitator": f"{server.base}/f/{server.token}/",
                 "join": f"{server.base}/p/{newcomer}/"}
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 960}, device_scale_factor=1)
            for name in ("participant", "facilitator"):
                page.goto(pages[name])
                page.wait_for_selector(".chart svg polyline", state="attached")
                if name == "participant":  # ana, as IC, starts the answer to the VP
                    page.click("#tabs button[data-action=update]")
                    page.select_option("#action [name=status]", "identified")
                    page.fill("#action [name=summary]", "Gateway config push at 14:45 is the likely cause; "
                                                        "rolling it back now. ETA for recovery 15:10.")
                page.wait_for_timeout(500)
                page.screenshot(path=str(ROOT / "docs" / f"{name}.png"), full_page=False)
            shots = _widths(browser, pages, "")
            server.control("end")
            server.wait_for(lambda s: "score" in s, ana)
            shots += _widths(browser, {k: v for k, v in pages.items() if k != "join"}, "-end")
            browser.close()
    print(f"wrote docs/participant.png, docs/facilitator.png and {len(shots)} pages in docs/screens/")


def _widths(browser, pages: dict, suffix: str) -> list[Path]:
    written = []
    for label, width in WIDTHS.items():
        page = browser.new_page(viewport={"width": width, "height": 900}, device_scale_factor=1)
        for name, url in pages.items():
            page.goto(url)
            page.wait_for_selector("#join:not(.hidden)" if name == "join" else
                                   "#scorecard:not(.hidden)" if suffix else ".chart svg polyline", state="attached")
            page.wait_for_timeout(300)
            wider = page.evaluate("document.documentElement.scrollWidth")
            if wider > width:
                print(f"{name}{suffix} at {width} px is {wider} px wide", file=sys.stderr)
            path = SCREENS / f"{name}{suffix}-{label}-{width}.png"
            page.screenshot(path=str(path), full_page=True)
            written.append(path)
        page.close()
    return written


if __name__ == "__main__":
    main()
