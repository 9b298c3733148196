"""Mutated input files, and what must hold for each: no traceback, every problem reported
as ``path:line: message``, and a file that validates also runs (a short drill).

One generator for the suite's property test (tests/test_fuzz_inputs.py, driven by
Hypothesis) and the long run (benchmarks/fuzz_inputs.py). A case starts from a shipped
file of one input kind, changes its parsed data (a value swapped for an odd one, a key
dropped or added, an item doubled) and sometimes its text (a stray byte, a cut, deep
nesting), then goes through what `drill validate` does and, when that accepts it, what
the matching `drill` command does with a file of that kind.
"""

import copy
import dataclasses
import datetime as dt
import functools
import json
import re
import traceback
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "fixtures"
FIXTURES = SHARED / "chaostoolkit"
SHORT = 1800.0  # simulated seconds a fuzzed drill runs: enough for a fault, an alert and the response

SOURCES = {
    "scenario": [*sorted((REPO / "scenarios").glob("*.yaml")), REPO / "tests" / "data" / "tiny.yaml"],
    "script": [REPO / "tests" / "data" / "article.yaml", REPO / "tests" / "data" / "quiet.yaml"],
    "process": [REPO / "drills" / "process.yaml"],
    "roster": [REPO / "drills" / "roster.yaml"],
    "topology": [REPO / "drills" / "topology.yaml"],
    "plan": [REPO / "drills" / "2026-Q4.yaml"],
    "variant": sorted((REPO / "drills" / "variants").glob("*.yaml")),
    "catalog": [REPO / "sim" / "inputs" / "faults.yaml"],
    "mapping": [REPO / "sim" / "authoring" / "chaostoolkit.yaml"],
    "experiment": sorted([*FIXTURES.glob("*.json"), *FIXTURES.glob("*.yaml")]) if FIXTURES.is_dir() else [],
    "words": [REPO / "sim" / "authoring" / "incident_words.yaml", REPO / "tests" / "data" / "real" / "words.yaml"],
    "incident": [REPO / "tests" / "data" / "real" / "pagerduty-log-entries.json"],
    # the team's monitoring files: its Prometheus rules and its Alertmanager configuration
    "rules": [REPO / "docs" / "examples" / "web-shop.rules.yml", *sorted((SHARED / "prometheus").glob("*.y*ml"))],
    "alertmanager": [REPO / "drills" / "monitoring" / "alertmanager.yml",
                     *sorted((SHARED / "alertmanager").glob("*.yml"))],
}

ODD = [
    10**56, -(10**56), float("inf"), float("-inf"), float("nan"), -1, -0.5, 0, 1e-300, 2**63, 2**64, 1.5,
    "", " ", "../../../../tmp/x", "/tmp/x", "x" * 3000, None, True, False, [], {}, [[]], {"a": None}, [None],
    "99999999999h", "+99999999999h", "-5m", "1h1h", "0001-01-01", "9999-12-31", "9999-12-31T23:59:59-12:00",
    dt.date(1, 1, 1), dt.datetime(9999, 12, 31, 23, 59), "14:99", "25:00", "+0s", "SEV9", "{{ $value }}", "{0}",
    "{service", "15%", "1e400", "-15%", "150%", "nan%", "a\0b", "\t", "über", "null", "~", "*", "&a",
]
BYTES = [b"\t", b"\xff", b"\xc3", b"\x07", b"\x00", b"\n", b"  ", b"[", b"{", b"]", b":", b"- ", b"&a ", b"*a",
         b"!!int x", b"!!python/object:os.system ", b"? [a]\n: 1\n", b"null: 1\n", b"'", b'"', b"%YAML 1.1\n---\n",
         b"\xef\xbb\xbf", b"---\n", b"...\n", b"<<: *a\n", b"\r"]
LINE = re.compile(r"^\S.*:\d+: \S")


@functools.cache
def _parsed(source: Path) -> tuple[str, object]:
    """A shipped file's text and data, read once (each case changes a copy)."""
    text = source.read_text(encoding="utf-8")
    return text, json.loads(text) if source.suffix == ".json" else yaml.safe_load(text)


def mutate(rng, source: Path) -> bytes:
    """The text of a mutation of ``source``: its data changed 1 to 3 times, its text sometimes."""
    text, original = _parsed(source)
    is_json = source.suffix == ".json"
    data = copy.deepcopy(original)
    for _ in range(rng.randint(1, 3)):
        data = _change(rng, data, _keys(data))
    try:
        if is_json:
            out = json.dumps(data, indent=2, default=str).encode()
        else:
            out = yaml.safe_dump(data, sort_keys=False, allow_unicode=True).encode("utf-8")
    except (ValueError, yaml.YAMLError):  # a value the dumper cannot write: keep the original text
        out = text.encode("utf-8")
    if rng.random() < 0.3:
        at = rng.randint(0, len(out))
        what = rng.random()
        if what < 0.6:
            out = out[:at] + rng.choice(BYTES) + out[at:]
        elif what < 0.8:
            out = out[:at]
        else:
            depth = rng.choice([60, 300, 1000])
            out = out + b"\ndeep: " + b"[" * depth + b"]" * depth + b"\n"
    return out


def _keys(data) -> list:
    found = []
    if isinstance(data, dict):
        for key, value in data.items():
            found.append(key)
            found += _keys(value)
    elif isinstance(data, list):
        for value in data:
            found += _keys(value)
    return found


def _paths(data, prefix=()) -> list[tuple]:
    paths = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            paths += _paths(value, prefix + (key,))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            paths += _paths(value, prefix + (i,))
    return paths


def _change(rng, data, keys: list):
    """``data`` with one node changed."""
    paths = _paths(data)
    path = rng.choice(paths)
    if not path:
        return rng.choice(ODD) if rng.random() < 0.05 else data
    parent = data
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    what = rng.random()
    if what < 0.55:
        parent[last] = rng.choice(ODD)
    elif what < 0.7:
        parent[last] = _get(data, rng.choice(paths))  # a value from elsewhere in the file: the wrong type, or a name
    elif what < 0.8:
        del parent[last]
    elif what < 0.9 and isinstance(parent, dict):
        parent[rng.choice(keys + ["unknown_field", "kind", "name", "at", "seed"])] = rng.choice(ODD + [parent[last]])
    elif isinstance(parent, list):
        parent.insert(rng.randint(0, len(parent)), parent[last])
    else:
        parent[last] = [parent[last]] if rng.random() < 0.5 else {"x": parent[last]}
    return data


def _get(data, path):
    for step in path:
        data = data[step]
    return json.loads(json.dumps(data, default=str)) if isinstance(data, (dict, list)) else data


# --- what must hold ---------------------------------------------------------------


def check(kind: str, path: Path) -> str | None:
    """What went wrong with the file at ``path`` (mutated from a file of ``kind``), or None."""
    from sim.inputs.errors import DrillError

    try:
        accepted = _validate(kind, path)
    except DrillError as exc:
        bad = [line for line in str(exc).splitlines() if not LINE.match(line) and not line.startswith("  ")]
        return f"a message not in the form path:line: message: {bad[0]!r}" if bad else None
    except Exception:
        return "validating raised:\n" + traceback.format_exc()
    try:
        _run(accepted, path)
    except DrillError as exc:
        if accepted in ("scenario", "process", "roster", "variant", "plan", "fault catalog", "incident words",
                        "Prometheus rules", "Alertmanager configuration"):
            return f"validated as a {accepted}, then refused when run: {exc}"
        bad = [line for line in str(exc).splitlines() if not LINE.match(line) and not line.startswith("  ")]
        return f"a message not in the form path:line: message: {bad[0]!r}" if bad else None
    except Exception:
        return f"validated as a {accepted}, then running it raised:\n" + traceback.format_exc()
    return None


def _validate(kind: str, path: Path) -> str:
    """What `drill validate` (or, for an experiment, `drill import chaostoolkit`) says the file is."""
    if kind == "experiment":
        _import(path)
        return "experiment"
    if kind == "incident":
        return "incident"  # no file kind of its own: `drill import incident` reads it (in _run)
    from sim.validate import validate

    return validate(path)


def _import(path, topology=None, mapping=None):
    from sim.authoring.chaos import import_experiment
    from sim.inputs.topology import load_topology

    return import_experiment(path, topology or load_topology(REPO / "drills" / "topology.yaml"), mapping)


def _run(kind: str, path: Path) -> None:
    """A short drill with the file in its place, the way the `drill` command that reads it uses it."""
    from sim.authoring import story
    from sim.inputs import config
    from sim.inputs.alertmanager import load_alertmanager
    from sim.inputs.faults import load_catalog
    from sim.inputs.promrules import load_rules
    from sim.inputs.topology import load_topology
    from sim.inputs.variants import load_variant
    from sim.records import plan

    tiny = config.load_scenario(REPO / "tests" / "data" / "tiny.yaml")
    if kind == "scenario":
        _drill(config.load_scenario(path))
    elif kind == "process":
        process = config.load_process(path)
        _drill(tiny, process, config.load_roster(REPO / "drills" / "roster.yaml", process))
    elif kind == "roster":
        _drill(tiny, roster=config.load_roster(path))
    elif kind == "variant":
        variant = load_variant(path.stem, path, REPO / "drills" / "process.yaml", REPO / "drills" / "roster.yaml")
        _drill(tiny, variant.process, variant.roster)
    elif kind == "script":
        reference = config.load_scenario(REPO / "scenarios" / "checkout-config-push.yaml")
        _drill(reference, script=config.load_script(path, reference.start))
    elif kind == "plan":
        team = config.load_roster(REPO / "drills" / "roster.yaml")
        loaded = plan.load_plan(path, team)
        for entry in loaded.entries:
            _drill(tiny, roster=plan.roster_for(entry, team), seed=entry.seed)
    elif kind == "fault catalog":
        load_catalog(path)  # the catalog is the engine's, read at start: what validates here loads there
    elif kind == "topology":
        for experiment in SOURCES["experiment"][:1]:
            _drill(story.load_text(_import(experiment, load_topology(path)).text))
    elif kind == "chaos mapping":
        for experiment in SOURCES["experiment"][:1]:
            _drill(story.load_text(_import(experiment, mapping=path).text))
    elif kind == "experiment":
        _drill(story.load_text(_import(path).text))
    elif kind == "Prometheus rules":  # the reference with the file as the team's rules (its services labelled as
        # docs/examples' rules select them)
        reference = config.load_scenario(REPO / "scenarios" / "checkout-config-push.yaml")
        _drill(dataclasses.replace(reference, rules=load_rules(path), services={
            name: dataclasses.replace(s, labels=(("namespace", "shop"),)) for name, s in reference.services.items()}))
    elif kind == "Alertmanager configuration":
        _drill(config.load_scenario(REPO / "scenarios" / "checkout-config-push.yaml"), alerting=load_alertmanager(path))
    elif kind in ("incident words", "incident"):
        from sim.authoring.incidents import import_incident

        postmortem = REPO / "tests" / "data" / "real" / "fastly-2021-06-08.md"
        made = import_incident([postmortem], mapping=path) if kind == "incident words" else import_incident([path])
        scenario = story.load_text(made.scenario)
        if made.script is not None:
            script_file = path.with_suffix(".script.yaml")
            script_file.write_text(made.script, encoding="utf-8")
            _drill(scenario, script=config.load_script(script_file, scenario.start))


def _drill(scenario, process=None, roster=None, script=None, seed: int = 0, alerting=None) -> None:
    """Run, score and report a short drill, as `drill run` does (the plot included)."""
    from sim.model.engine import run_drill
    from sim.outputs import report
    from sim.outputs.scoring import score

    short = dataclasses.replace(scenario, horizon=min(scenario.horizon, SHORT))
    result = run_drill(short, process, roster, script, seed, alerting=alerting)
    card = score(result.events, short, result.process)
    report.markdown(result, card, plot=True)
    json.dumps(report.score_document(result, card))
    report.plot_timeline(result)
