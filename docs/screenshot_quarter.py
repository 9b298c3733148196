"""Make the README's picture of a quarterly drill report, as a user would produce and see it.

Runs the README's commands in a scratch folder (a drill store of its own), writes
`drill report quarter 2026-Q4`, and renders report.html in headless Chromium:

    apt-get install -y chromium && pip install playwright
    python docs/screenshot_quarter.py    # writes docs/quarter-report.png

Not needed by the tests or CI.
"""

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "docs" / "quarter-report.png"

SECTION = "## The quarterly drill report"


def readme_commands() -> list[list[str]]:
    """The commands of the README's quarterly-report section, in order, so the picture is what they make."""
    text = (REPO / "README.md").read_text(encoding="utf-8").split(SECTION, 1)[1]
    block = text.split("```bash\n", 1)[1].split("```", 1)[0]
    return [shlex.split(line, comments=True) for line in block.splitlines() if line.startswith("drill ")]


def shoot(commands: list[list[str]], quarter: str, out: Path, heading: str | None = None) -> None:
    """Run ``commands`` in a scratch copy of the repository's inputs, then render the report of
    ``quarter`` in headless Chromium to ``out``: the whole page, or from ``heading`` (an h2's text)
    to the next h2."""
    from playwright.sync_api import sync_playwright

    drill = shutil.which("drill") or str(Path(sys.executable).parent / "drill")
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        shutil.copytree(REPO / "drills", work / "drills", ignore=shutil.ignore_patterns("drills.db*"))
        shutil.copytree(REPO / "scenarios", work / "scenarios")
        shutil.copytree(REPO / "tests" / "data", work / "tests" / "data")  # the article's timeline script
        env = {**os.environ, "DRILLSIM_STORE": str(work / "drills" / "drills.db")}
        for args in commands:
            subprocess.run([drill, *args[1:]], cwd=work, env=env, check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        report = work / "reports" / quarter / "report.html"
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium",
                                        args=["--headless", "--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1100, "height": 1400}, device_scale_factor=1)
            page.goto(report.as_uri())
            if heading is None:
                page.screenshot(path=str(out), full_page=True)
            else:
                box = page.evaluate("""(text) => {
                    const all = [...document.querySelectorAll('h2')];
                    const i = all.findIndex(h => h.textContent.trim() === text);
                    const top = all[i].getBoundingClientRect().top + window.scrollY;
                    const end = i + 1 < all.length ? all[i + 1].getBoundingClientRect().top + window.scrollY
                                                   : document.body.scrollHeight;
                    return {x: 0, y: top - 8, width: document.documentElement.scrollWidth, height: end - top};
                }""", heading)
                page.screenshot(path=str(out), full_page=True, clip=box)
            browser.close()
    print(f"Wrote {out}")


def main() -> None:
    shoot(readme_commands(), "2026-Q4", OUT)


if __name__ == "__main__":
    main()
