"""Render docs/participant.png (and docs/facilitator.png): the pages of a live drill, mid-incident,
in headless Chromium.

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


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, Server(Path(tmp) / "drill", "--speed", "60", "--seed", "1") as server:
        ana = server.seat("primary", "ana")
        server.seat("joiner", "ben")
        server.control("start")
        server.wait_for(lambda s: any(p["status"] == "triggered" for p in s.get("pages", [])), ana)
        for action in ({"do": "ack"}, {"do": "look", "service": "checkout"},
                       {"do": "look", "service": "payment-gateway"},
                       {"do": "declare", "severity": "SEV1", "summary": "Checkout errors at 15%, customers cannot pay"},
                       {"do": "assign", "role": "comms", "who": "sam"}, {"do": "assign", "role": "ops", "who": "ben"},
                       {"do": "page", "teams": ["checkout", "payments"]}):
            assert server.act(ana, **action).json()["ok"], action
        time.sleep(9)  # nine simulated minutes: the charts fill, the comms bot posts its first update
        server.control("ask", who="The VP of Sales", question="Customers are calling: what is the ETA for checkout?")
        time.sleep(2)
        server.control("pause")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 960}, device_scale_factor=1)
            for name, url in (("participant", f"{server.base}/p/{ana}/"), ("facilitator", f"{server.base}/f/{server.token}/")):
                page.goto(url)
                page.wait_for_selector(".chart svg polyline", state="attached")
                if name == "participant":  # ana, as IC, starts the answer to the VP
                    page.click("#tabs button[data-action=update]")
                    page.select_option("#action [name=status]", "identified")
                    page.fill("#action [name=summary]", "Gateway config push at 14:45 is the likely cause; "
                                                        "rolling it back now. ETA for recovery 15:10.")
                page.wait_for_timeout(500)
                page.screenshot(path=str(ROOT / "docs" / f"{name}.png"), full_page=False)
            browser.close()
    print("wrote docs/participant.png and docs/facilitator.png")


if __name__ == "__main__":
    main()
