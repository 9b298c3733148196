import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SCENARIOS = REPO / "scenarios"
DATA = Path(__file__).resolve().parent / "data"
FIXTURES = REPO.parent / "shared" / "fixtures"


@pytest.fixture
def write(tmp_path):
    """Write a dedented YAML text to a file in a temporary folder and return its path."""

    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return _write
