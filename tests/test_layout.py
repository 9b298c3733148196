"""The package layout: every import inside ``sim`` points down the data flow, never up, never in a circle."""

import ast
import subprocess
import sys
from pathlib import Path

SIM = Path(__file__).resolve().parent.parent / "sim"

# Top to bottom: a package may import from itself and from the ones after it.
ORDER = ["cli", "validate", "live", "records", "authoring", "analysis", "outputs", "model", "inputs"]
SIDE_BY_SIDE = {("analysis", "authoring"), ("authoring", "analysis")}  # neither may import the other
ALLOWED_UP: dict[tuple[str, str], str] = {}  # (module, imported module) -> why; none is needed today


def is_sim(name: str) -> bool:
    return name == "sim" or name.startswith("sim.")


def modules(root: Path) -> dict[str, Path]:
    """Every module under ``root`` (a folder named ``sim``), by dotted name."""
    return {".".join(p.relative_to(root.parent).with_suffix("").parts).removesuffix(".__init__"): p
            for p in sorted(root.rglob("*.py"))}


def sim_imports(module: str, path: Path) -> list[tuple[int, str]]:
    """``(line, module)`` for every import of a ``sim`` module in the file, lazy ones included."""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            target = ".".join(package[: len(package) - node.level + 1] + [node.module or ""]).strip(".") \
                if node.level else node.module or ""
            if node.level and node.module is None:
                found += [(node.lineno, f"{target}.{alias.name}") for alias in node.names]
            elif is_sim(target):
                found.append((node.lineno, target))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names if is_sim(alias.name)]
    return found


def upward_imports(root: Path) -> list[str]:
    """``file:line: what`` for each import that points up the table or out of it."""
    problems = []
    for module, path in modules(root).items():
        if module == "sim":
            continue  # the package re-exports the public API from below
        mine = module.split(".")[1]
        for line, target in sim_imports(module, path):
            theirs = target.split(".")[1] if "." in target else ""
            where = f"{path.relative_to(root.parent)}:{line}"
            if theirs == mine or (module, target) in ALLOWED_UP:
                continue
            if theirs not in ORDER:
                problems.append(f"{where}: {target} is in no package of the layout")
            elif ORDER.index(theirs) < ORDER.index(mine) or (mine, theirs) in SIDE_BY_SIDE:
                problems.append(f"{where}: {mine} imports {target}")
    return problems


def circles(root: Path) -> list[list[str]]:
    known = modules(root)
    graph = {}
    for module, path in known.items():
        targets = {t if t in known else t.rsplit(".", 1)[0] for _, t in sim_imports(module, path)}
        # a package's __init__ is no edge: here they hold docstrings, or re-export from below
        graph[module] = {t for t in targets if t in known and t != module and known[t].name != "__init__.py"}
    found, done, stack = [], set(), []

    def visit(node):
        if node in stack:
            found.append(stack[stack.index(node):] + [node])
        elif node not in done:
            done.add(node)
            stack.append(node)
            for target in sorted(graph[node]):
                visit(target)
            stack.pop()

    for node in sorted(graph):
        visit(node)
    return found


def test_every_import_points_down_the_data_flow():
    assert upward_imports(SIM) == []


def test_no_modules_import_each_other_in_a_circle():
    assert circles(SIM) == []


def test_each_package_says_what_it_holds_and_may_import():
    for package in ORDER[2:]:
        doc = ast.get_docstring(ast.parse((SIM / package / "__init__.py").read_text(encoding="utf-8")))
        assert doc and "import" in doc.lower(), package


def test_the_checks_see_an_upward_import_and_a_circle(tmp_path):
    root = tmp_path / "sim"
    for package in ("model", "records", "inputs"):
        (root / package).mkdir(parents=True)
        (root / package / "__init__.py").write_text('"""A package."""\n')
    (root / "model" / "engine.py").write_text("import simpy\nfrom ..inputs.units import clock\n")
    (root / "model" / "world.py").write_text("from ..records.store import drills\nfrom .engine import Drill\n")
    (root / "inputs" / "units.py").write_text("from . import config\n")
    (root / "inputs" / "config.py").write_text("def f():\n    from .units import clock\n")
    assert upward_imports(root) == ["sim/model/world.py:1: model imports sim.records.store"]
    assert circles(root) == [["sim.inputs.config", "sim.inputs.units", "sim.inputs.config"]]


def test_a_drill_and_a_comparisons_workers_run_without_numpy():
    # A process that imports numpy keeps an OpenBLAS thread that takes 1 to 4 % of the CPU
    # (measured, docs/performance.md): simulating and scoring, and the modules a comparison's
    # workers import, leave numpy to the reports and statistics.
    code = ("import sys; from sim import run_drill, score; import sim.analysis.compare; "
            "print(sorted(m for m in ('numpy', 'pandas') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=SIM.parent)
    assert out.stdout.strip() == "[]"
