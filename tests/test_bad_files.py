"""Bad input files: each gives ``file:line: message`` and exit 2 from `drill validate`
and `drill run` alike, never a traceback, and never validates only to crash the run."""

import re

import pytest
from click.testing import CliRunner

from sim.cli import main

from .conftest import DATA

TINY = (DATA / "tiny.yaml").read_text(encoding="utf-8")


def _edit(old: str, new: str) -> str:
    assert old in TINY
    return TINY.replace(old, new, 1)


# (what, file text, the line the message must name, words the message must hold)
CASES = [
    ("nesting hundreds deep", TINY + "extra: " + "[" * 300 + "]" * 300 + "\n", 37, "nested more than 50 levels"),
    ("a list as a key", TINY + "? [a, b]\n: 1\n", 37, "a key must be a name, not a list"),
    ("a mapping as a key", TINY + "? {a: 1}\n: 1\n", 37, "a key must be a name, not a mapping"),
    ("a null key", _edit("    team: api\n", "    team: api\n    null: 3\n"), 9, "a key must be a name, not null"),
    ("an !!int tag", _edit("request_rate: 100", "request_rate: !!int x"), 10, "tags such as tag:yaml.org,2002:int"),
    ("a python tag", _edit("request_rate: 100", "request_rate: !!python/name:os.system x"), 10, "tags such as"),
    ("a rate of 10**56", _edit("request_rate: 100", "request_rate: " + "1" + "0" * 56), 10, "services.api.request_rate"),
    ("an infinite rate", _edit("request_rate: 100", "request_rate: .inf"), 10, "expected a number from 0"),
    ("a nan latency", _edit("latency_p99_ms: 200", "latency_p99_ms: .nan"), 12, "latency_p99_ms"),
    ("a negative rate", _edit("request_rate: 100", "request_rate: -5"), 10, "expected a number from 0"),
    ("a negative latency", _edit("latency_p99_ms: 200", "latency_p99_ms: -1"), 12, "latency_p99_ms"),
    ("an infinite magnitude", _edit("latency: 1}", "latency: .inf}"), 21, "faults[0].magnitude"),
    ("an error rate past 100%", _edit("error_rate: 20%", "error_rate: 1e56"), 21, "from 0 to 1"),
    ("a blip of errors past 100%", _edit("metric: cpu, value: 0.95", "metric: error_rate, value: 150%"), 33,
     "noise[0].value: expected a number or a percentage from 0 to 1, got '150%'"),
    ("a blip of memory past 100%", _edit("metric: cpu, value: 0.95", "metric: memory, value: 1.01"), 33, "from 0 to 1"),
    ("a usual error rate past the impact threshold", _edit("error_rate: 0.1%", "error_rate: 2%"), 11,
     "already breach its impact threshold (error_rate above 0.01, latency above 600 ms)"),
    ("an impact latency under the usual", _edit("    latency_p99_ms: 200\n", "    latency_p99_ms: 200\n    impact: {latency_p99_ms: 150}\n"),
     12, "already breach its impact threshold (error_rate above 0.01, latency above 150 ms)"),
    ("a huge horizon", _edit("horizon: 20m", "horizon: " + "9" * 60), 5, "horizon"),
    ("a nan horizon", _edit("horizon: 20m", "horizon: .nan"), 5, "horizon"),
    ("a huge at", _edit("at: 60s", "at: 99999999999h"), 17, "at most a year"),
    ("an infinite ramp", _edit("ramp: 1s", "ramp: .inf"), 18, "ramp"),
    ("a tiny scrape interval", TINY + "monitoring: {scrape_interval: 0.000001}\n", 37, "1s or more"),
    ("a nan scrape interval", TINY + "monitoring: {scrape_interval: .nan}\n", 37, "scrape_interval"),
    ("the first day of the calendar", _edit("start: 2026-04-20T14:00:00Z", "start: 0001-01-01"), 4,
     "start: expected a time from 1900 to 8999, got '0001-01-01'"),
    ("a start past the calendar", _edit("start: 2026-04-20T14:00:00Z", "start: 9999-12-31T23:59:59-12:00"), 4, "start"),
    ("a drill that runs past the calendar", _edit("start: 2026-04-20T14:00:00Z", "start: 9999-12-31T23:00:00Z"), 4, "to 8999"),
    ("a name that is a path", _edit("name: tiny", "name: ../../../../tmp/x"), 3, "expected a plain name"),
    ("an absolute name", _edit("name: tiny", "name: /tmp/x"), 3, "expected a plain name"),
    ("a character YAML refuses", _edit("team: api", "team: a\x07pi"), 8, "is not allowed in YAML"),
    ("an escaped NUL in text", _edit("team: api", 'team: "a\\0pi"'), 8, "control character '\\x00'"),
    ("an escaped lone surrogate", _edit("team: api", 'team: "a\\ud800"'), 8, "control character"),
]


@pytest.mark.parametrize("what, content, line, words", CASES, ids=[c[0] for c in CASES])
def test_a_bad_file_is_refused_with_its_line_by_validate_and_run(tmp_path, what, content, line, words):
    path = tmp_path / "scenario.yaml"
    path.write_text(content, encoding="utf-8")
    for command in (["validate", str(path)], ["run", str(path), "--out", str(tmp_path / "out")]):
        result = CliRunner().invoke(main, command)
        assert result.exit_code == 2, (command, result.output)
        assert result.exc_info[0] is SystemExit  # a clean exit, not an exception
        assert f"{path}:{line}: " in result.output and words in result.output, result.output
    assert not (tmp_path / "out").exists()


def test_a_file_that_is_not_utf8_names_the_line(tmp_path):
    path = tmp_path / "scenario.yaml"
    path.write_bytes(TINY.replace("team: api", "team: caf\xe9", 1).encode("latin-1"))
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2
    assert f"{path}:8: not UTF-8 text (byte 0xe9)" in result.output


def test_a_file_name_too_long_is_a_message(tmp_path):
    path = tmp_path / ("x" * 300 + ".yaml")
    for command in (["validate", str(path)], ["run", str(path)]):
        result = CliRunner().invoke(main, command)
        assert result.exit_code == 2 and result.exc_info[0] is SystemExit, result.output
        assert "too long" in result.output


def test_numbers_at_the_edges_of_their_ranges_run(tmp_path):
    """What validates runs: the largest values each field takes (a fault starts before the horizon), and the
    calendar's last years."""
    text = (TINY.replace("start: 2026-04-20T14:00:00Z", "start: 8999-12-31T20:00:00Z")
            .replace("horizon: 20m", "horizon: 168h").replace("request_rate: 100", "request_rate: 1000000000")
            .replace("latency_p99_ms: 200", "latency_p99_ms: 100000000").replace("at: 60s", "at: 167h59m59s")
            .replace("magnitude: {error_rate: 20%, latency: 1}", "magnitude: {error_rate: 100%, latency: 1000000, traffic: 0}"))
    text += "monitoring: {scrape_interval: 8784h, evaluation_interval: 8784h}\n"
    path = tmp_path / "edge.yaml"
    path.write_text(text, encoding="utf-8")
    assert CliRunner().invoke(main, ["validate", str(path)]).exit_code == 0
    result = CliRunner().invoke(main, ["run", str(path), "--out", str(tmp_path / "out"), "--json"])
    assert result.exit_code == 0, result.output
    assert re.search(r'"scenario": "tiny"', result.output)


@pytest.mark.parametrize("name, content, line, words", [
    ("process.yaml", "bots:\n  ack: {median: 90s, sigma: " + "1" + "0" * 56 + "}\n", 2, "expected a number from 0 to 5"),
    ("process.yaml", "bots:\n  experience: .nan\n", 2, "bots.experience: expected a number from 0 to 100"),
    ("process.yaml", "postmortem_business_days: 1e400\n", 1, "postmortem_business_days"),
    ("process.yaml", "scoring:\n  weights: {declare: .inf}\n", 2, "expected a number from 0"),
    # Scored on a scale from the target to a few times it: 0s left nothing between (a traceback).
    ("process.yaml", "severities:\n  SEV2: {response: 0s}\n", 2, "response: a target must be more than 0s, got '0s'"),
    ("process.yaml", "targets: {mitigate: 0s, impact: 30m}\n", 1, "mitigate: a target must be more than 0s"),
    ("roster.yaml", "shadow_before_lead: .inf\npeople:\n  - {name: a, oncall: primary}\n", 1,
     "shadow_before_lead: expected a whole number from 0 to 1000"),
    ("roster.yaml", "people:\n  - {name: a, oncall: primary, profile: {ack: -5}}\n", 2, "0s or more"),
])
def test_numbers_out_of_range_in_the_process_and_roster(tmp_path, name, content, line, words):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    kind = "--process" if name == "process.yaml" else "--roster"
    for command in (["validate", str(path)], ["run", str(DATA / "tiny.yaml"), kind, str(path), "--out", str(tmp_path / "o")]):
        result = CliRunner().invoke(main, command)
        assert result.exit_code == 2 and result.exc_info[0] is SystemExit, result.output
        assert f"{path}:{line}: " in result.output and words in result.output, result.output
