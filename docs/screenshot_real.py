"""Make docs/real-incidents.png: the quarterly report's section "Drills against real incidents",
as the commands of docs/real-incidents.md produce it (a drill store of its own, headless Chromium):

    python docs/screenshot_real.py

Not needed by the tests or CI.
"""

import shlex
from pathlib import Path

from screenshot_quarter import REPO, shoot

PAGE = REPO / "docs" / "real-incidents.md"


def page_commands() -> list[list[str]]:
    """The first command block of docs/real-incidents.md, in order."""
    block = PAGE.read_text(encoding="utf-8").split("```bash\n", 1)[1].split("```", 1)[0]
    return [shlex.split(line, comments=True) for line in block.splitlines() if line.startswith("drill ")]


if __name__ == "__main__":
    shoot(page_commands(), "2021-Q1", Path(REPO / "docs" / "real-incidents.png"), "Drills against real incidents")
