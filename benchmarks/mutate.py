"""Mutation run: would the tests notice a small wrong change to the core?

Each mutant is one small edit of one module's syntax tree (a flipped comparison, a
changed constant, min for max, ``and`` for ``or``, a dropped statement, ...). It is run
against the test files that cover that module; it is *killed* when they fail (or hang),
and *survives* when they pass. Survivors are tests worth writing.

    nice python benchmarks/mutate.py                  # every module, 80 mutants each
    nice python benchmarks/mutate.py stats scoring    # some modules
    python benchmarks/mutate.py incident --list       # the mutants, without running them
    nice python benchmarks/mutate.py scoring --match role_coverage   # every mutant whose key has that text
    nice python benchmarks/mutate.py world --all      # every mutant, not a sample

A module with more mutants than ``--sample`` runs the same sample every time: the ones
whose key (function, before -> after) hashes lowest, so editing one function leaves the
rest of the sample alone. Mutants that cannot change behaviour are listed, each with its
reason, in ``benchmarks/mutants_equivalent.yaml`` and left out of the kill rate.

Every mutant runs in a child forked from one process that has already imported the
heavy libraries, with the mutated module served by an import hook: about half a second
a mutant instead of three. Run it niced; it uses one core.
"""

import argparse
import ast
import hashlib
import importlib.abc
import importlib.util
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
EQUIVALENT = Path(__file__).resolve().parent / "mutants_equivalent.yaml"

# module -> (source file, the test files that cover it)
MODULES = {
    "stats": ("sim/analysis/stats.py", ["tests/test_stats.py"]),
    "scoring": ("sim/outputs/scoring.py", ["tests/test_scoring.py", "tests/test_checklist.py", "tests/test_audiences.py",
                                           "tests/test_teach.py", "tests/test_dynamics.py"]),
    "incident": ("sim/model/incident.py", ["tests/test_incident.py", "tests/test_incident_rules.py", "tests/test_teach.py",
                                           "tests/test_dynamics.py", "tests/test_audiences.py"]),
    "world": ("sim/model/world.py", ["tests/test_world.py", "tests/test_monitoring.py", "tests/test_incident.py",
                                     "tests/test_incident_rules.py", "tests/test_dynamics.py"]),
    "rules": ("sim/model/monitoring/rules.py", ["tests/test_monitoring.py", "tests/test_alerting.py",
                                                "tests/test_promql.py", "tests/test_promql_repeat.py",
                                                "tests/test_promtool_diff.py", "tests/test_humanize.py",
                                                "tests/test_rules_reuse.py", "tests/test_rules_skipping.py",
                                                "tests/test_rules_evaluate.py", "tests/test_rules_transitions.py",
                                                "tests/test_rules_asleep.py"]),
    "promql": ("sim/model/monitoring/promql.py", ["tests/test_promql.py", "tests/test_promql_edges.py",
                                                  "tests/test_promql_repeat.py", "tests/test_promtool_diff.py",
                                                  "tests/test_promql_matching.py", "tests/test_promql_functions.py",
                                                  "tests/test_promql_operators.py"]),
    "series": ("sim/model/monitoring/series.py", ["tests/test_promql.py", "tests/test_promql_repeat.py",
                                                  "tests/test_monitoring.py", "tests/test_promtool_diff.py",
                                                  "tests/test_series_store.py", "tests/test_series_marks.py",
                                                  "tests/test_series_edges.py"]),
    "routing": ("sim/model/monitoring/routing.py", ["tests/test_monitoring.py", "tests/test_alerting.py",
                                                    "tests/test_alertmanager.py", "tests/test_routing_edges.py"]),
    "humanize": ("sim/model/monitoring/humanize.py", ["tests/test_humanize.py", "tests/test_promql.py"]),
    "paging": ("sim/model/monitoring/paging.py", ["tests/test_monitoring.py", "tests/test_alerting.py",
                                                  "tests/test_alertmanager.py",
                                                  "tests/test_incident.py", "tests/test_incident_rules.py",
                                                  "tests/test_routing_edges.py"]),
    "engine": ("sim/model/engine.py", ["tests/test_monitoring.py", "tests/test_dynamics.py", "tests/test_incident.py",
                                       "tests/test_incident_rules.py", "tests/test_rules_skipping.py",
                                       "tests/test_promql_repeat.py", "tests/test_drills.py", "tests/test_live.py",
                                       "tests/test_live_inputs.py", "tests/test_teach.py",
                                       # it runs the engine from disk in a child process, where no mutant is
                                       "--deselect",
                                       "tests/test_drills.py::test_event_log_does_not_depend_on_the_interpreter_hash_seed"]),
    "bots": ("sim/model/participants/bots.py", ["tests/test_bots.py", "tests/test_alerting.py", "tests/test_teach.py",
                                                "tests/test_dynamics.py", "tests/test_audiences.py",
                                                "tests/test_incident_rules.py", "tests/test_trainee.py",
                                                "tests/test_incident.py",
                                                # test_drills's other tests compare two runs of the same
                                                # bots, or run them where no mutant is: none can kill one
                                                "tests/test_drills.py::test_every_shipped_scenario_rewards_responding_over_doing_nothing"]),
}

_COMPARE = {ast.Lt: (ast.LtE, ast.GtE), ast.LtE: (ast.Lt, ast.Gt), ast.Gt: (ast.GtE, ast.LtE),
            ast.GtE: (ast.Gt, ast.Lt), ast.Eq: (ast.NotEq,), ast.NotEq: (ast.Eq,), ast.In: (ast.NotIn,),
            ast.NotIn: (ast.In,), ast.Is: (ast.IsNot,), ast.IsNot: (ast.Is,)}
_ARITHMETIC = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.FloorDiv: ast.Div,
               ast.Mod: ast.FloorDiv, ast.Pow: ast.Mult}
_SWAPS = {"min": "max", "max": "min", "any": "all", "all": "any"}
_SKIPPED_FIELDS = {"annotation", "returns", "decorator_list", "type_comment"}


@dataclass
class Mutant:
    key: str  # "function: before -> after", stable when other code moves
    line: int
    apply: object  # puts the mutation into the tree it was found in

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.key.encode()).hexdigest()


def _short(node) -> str:
    text = " ".join(ast.unparse(node).split())
    return text if len(text) <= 70 else text[:67] + "..."


def _docstring(node) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def _stringy(node) -> bool:
    return isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, str))


def _replacements(node, field, in_init):
    """(new node, label) pairs for one node: what it could wrongly have been."""
    if isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            for other in _COMPARE.get(type(op), ()):
                ops = list(node.ops)
                ops[i] = other()
                yield ast.Compare(node.left, ops, node.comparators), None
    elif isinstance(node, ast.BoolOp):
        yield ast.BoolOp(ast.Or() if isinstance(node.op, ast.And) else ast.And(), node.values), None
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.USub)):
        yield node.operand, None
    elif isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC and not (_stringy(node.left) or _stringy(node.right)):
        yield ast.BinOp(node.left, _ARITHMETIC[type(node.op)](), node.right), None
    elif isinstance(node, ast.AugAssign) and type(node.op) in _ARITHMETIC:
        yield ast.AugAssign(node.target, _ARITHMETIC[type(node.op)](), node.value), None
    elif isinstance(node, ast.IfExp):
        yield ast.IfExp(node.test, node.orelse, node.body), None
    elif isinstance(node, ast.Constant) and not isinstance(node.value, str) and node.value is not None:
        value = node.value
        if isinstance(value, bool):
            yield ast.Constant(not value), None
        elif isinstance(value, int):
            yield ast.Constant(value + 1), None
        elif isinstance(value, float):
            yield ast.Constant(value / 2 if value else 1.0), None
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _SWAPS:
        yield ast.Call(ast.Name(_SWAPS[node.func.id], ast.Load()), node.args, node.keywords), None
    if field in ("body", "orelse", "finalbody") and _droppable(node) and not in_init:
        yield ast.Pass(), f"drop `{_short(node).split(':')[0] if isinstance(node, ast.If) else _short(node)}`"


def _droppable(node) -> bool:
    """Statements whose loss leaves working but wrong code (not a plain crash, as a lost
    assignment to a local, a lost return or a lost attribute in ``__init__`` mostly gives)."""
    if isinstance(node, (ast.AugAssign, ast.If, ast.Continue, ast.Break)):
        return True
    if isinstance(node, ast.Expr):
        return not _docstring(node)
    if isinstance(node, ast.Assign):
        return any(isinstance(t, (ast.Attribute, ast.Subscript)) for t in node.targets)
    return False


def mutants(tree) -> list[Mutant]:
    """Every mutant of ``tree``, in source order (the tree is left as it is until one is applied)."""
    found: list[Mutant] = []
    seen: dict[str, int] = {}

    def visit(node, qual):
        for field, value in ast.iter_fields(node):
            if field in _SKIPPED_FIELDS:
                continue
            children = value if isinstance(value, list) else [value]
            for index, child in enumerate(children):
                if isinstance(child, ast.AST) and not _docstring(child):
                    site(node, field, index if isinstance(value, list) else None, child, qual)

    def site(parent, field, index, node, qual):
        for new, label in _replacements(node, field, qual.endswith("__init__")):
            ast.copy_location(new, node)
            key = f"{qual or '<module>'}: {label or f'`{_short(node)}` -> `{_short(new)}`'}"
            seen[key] = seen.get(key, 0) + 1
            if seen[key] > 1:
                key += f" #{seen[key]}"
            found.append(Mutant(key, node.lineno, _setter(parent, field, index, new)))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            qual = f"{qual}.{node.name}" if qual else node.name
        visit(node, qual)

    visit(tree, "")
    return found


def _setter(parent, field, index, new):
    def apply():
        if index is None:
            setattr(parent, field, new)
        else:
            getattr(parent, field)[index] = new
    return apply


class _Serve(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves one module's mutated code in place of its file."""

    def __init__(self, name, path, code):
        self.name, self.path, self.code = name, path, code

    def find_spec(self, fullname, path=None, target=None):
        if fullname == self.name:
            return importlib.util.spec_from_file_location(fullname, self.path, loader=self)
        return None

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        exec(self.code, module.__dict__)


def run_tests(tests: list[str], serve: _Serve | None, timeout: float) -> str:
    """'passed', 'failed' or 'timeout': the tests, in a forked child, with ``serve`` installed."""
    pid = os.fork()
    if pid == 0:
        code = 3
        try:
            os.setpgid(0, 0)
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 1)
            os.dup2(null, 2)
            if serve is not None:
                sys.meta_path.insert(0, serve)
            import pytest
            code = int(pytest.main(["-x", "-q", "-p", "no:cacheprovider", "-p", "no:hypothesispytest", "--assert=plain",
                                     *tests]))
        finally:
            os._exit(code)
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return "passed" if os.waitstatus_to_exitcode(status) == 0 else "failed"
        if time.monotonic() > deadline:
            os.killpg(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return "timeout"
        time.sleep(0.02)


def load_equivalent() -> dict[str, dict[str, str]]:
    data = yaml.safe_load(EQUIVALENT.read_text()) if EQUIVALENT.exists() else None
    return {module: {e["mutant"]: e["why"] for e in entries or []} for module, entries in (data or {}).items()}


def select(found: list[Mutant], sample: int | None) -> list[Mutant]:
    if sample is None or len(found) <= sample:
        return found
    chosen = {id(m) for m in sorted(found, key=lambda m: m.digest)[:sample]}
    return [m for m in found if id(m) in chosen]


def run_module(name: str, sample: int | None, equivalent: dict[str, str], listing: bool, match: list[str]) -> dict:
    source_path, tests = MODULES[name]
    path = REPO / source_path
    source = path.read_text()
    module = source_path[:-3].replace("/", ".")
    if match:
        chosen = [m for m in mutants(ast.parse(source)) if any(text in m.key for text in match)]
    else:
        chosen = select(mutants(ast.parse(source)), sample)
    total = len(mutants(ast.parse(source)))
    print(f"== {name} ({source_path}): {len(chosen)} of {total} mutants, tests: {' '.join(tests)}", flush=True)
    stale = set(equivalent) - {m.key for m in mutants(ast.parse(source))}
    for key in sorted(stale):
        print(f"   stale entry in {EQUIVALENT.name}: {key}")
    if listing:
        for m in chosen:
            print(f"   {path.name}:{m.line}  {m.key}{'  (equivalent)' if m.key in equivalent else ''}")
        return {}
    started = time.monotonic()
    if run_tests(tests, None, 600) != "passed":
        raise SystemExit(f"{name}: the tests fail on the unmutated code; fix that first")
    timeout = 5 * (time.monotonic() - started) + 10
    killed, survived, skipped = 0, [], 0
    for m in chosen:
        if m.key in equivalent:
            skipped += 1
            continue
        tree = ast.parse(source)
        todo = next(x for x in mutants(tree) if x.key == m.key)
        todo.apply()
        code = compile(ast.fix_missing_locations(tree), str(path), "exec")
        outcome = run_tests(tests, _Serve(module, str(path), code), timeout)
        if outcome == "passed":
            survived.append(m)
            print(f"   SURVIVED {path.name}:{m.line}  {m.key}", flush=True)
        else:
            killed += 1
    counted = len(chosen) - skipped
    rate = killed / counted if counted else 1.0
    print(f"   {name}: {killed} of {counted} killed ({rate:.0%}), {skipped} equivalent excluded, "
          f"{time.monotonic() - started:.0f} s", flush=True)
    return {"module": name, "mutants": len(chosen), "equivalent": skipped, "killed": killed, "rate": rate,
            "survived": survived}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", help=f"any of {', '.join(MODULES)} (default: all)")
    parser.add_argument("--sample", type=int, default=80, help="mutants per module (default 80)")
    parser.add_argument("--all", action="store_true", help="every mutant, no sampling")
    parser.add_argument("--list", action="store_true", help="list the chosen mutants and stop")
    parser.add_argument("--match", action="append", default=[], metavar="TEXT",
                        help="instead of the sample, every mutant whose key contains TEXT (repeatable)")
    args = parser.parse_args()
    unknown = [m for m in args.modules if m not in MODULES]
    if unknown:
        parser.error(f"unknown module(s) {', '.join(unknown)}; choose from {', '.join(MODULES)}")
    os.chdir(REPO)
    sys.path.insert(0, str(REPO))
    os.environ.setdefault("MPLBACKEND", "Agg")
    # Imported once here, so each forked child starts with them loaded (sim itself is not:
    # each child imports it afresh, with the mutant in place).
    for heavy in ("numpy", "pandas", "simpy", "yaml", "click", "jinja2", "matplotlib.pyplot", "pytest"):
        __import__(heavy)
    assert not any(m == "sim" or m.startswith("sim.") for m in sys.modules), "sim must be imported by the children"
    equivalent = load_equivalent()
    results = [run_module(name, None if args.all else args.sample, equivalent.get(name, {}), args.list,
                          args.match)
               for name in args.modules or MODULES]
    if args.list:
        return
    print("\n| module | mutants | equivalent (excluded) | killed | kill rate |\n|---|---|---|---|---|")
    for r in results:
        print(f"| {r['module']} | {r['mutants']} | {r['equivalent']} | {r['killed']} | {r['rate']:.0%} |")


if __name__ == "__main__":
    main()
