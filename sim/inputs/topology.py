"""The team's topology: its services, owners, dependencies and steady state (``drills/topology.yaml``).

A topology is the part of a scenario that does not change between failure stories;
the generator and the chaos importer place faults on it. Services are read exactly as
a scenario's are, plus the business ``function`` each one serves.
"""

from dataclasses import dataclass
from pathlib import Path

from . import config, yamlfile
from .errors import DrillError
from .yamlfile import text

DEFAULT_TOPOLOGY = "drills/topology.yaml"


@dataclass(frozen=True)
class Topology:
    name: str
    description: str
    services: dict  # name -> config.Service, in file order
    functions: dict  # name -> the business function it serves
    path: Path | None = None

    def callers(self, name: str) -> list[str]:
        """Services that call ``name`` directly, in file order."""
        return [s.name for s in self.services.values() if name in s.depends_on]

    def reach(self, name: str) -> dict[str, str | None]:
        """Every service a fault on ``name`` spreads to (itself first), each with the callee it comes through."""
        via: dict[str, str | None] = {name: None}
        queue = [name]
        while queue:
            current = queue.pop(0)
            for caller in self.callers(current):
                if caller not in via:
                    via[caller] = current
                    queue.append(caller)
        return via


def load_topology(path) -> Topology:
    path = Path(path)
    doc = yamlfile.document(path, "topology")
    check = doc.checker
    name = doc.get("topology", text, path.stem, required=True)
    description = doc.get("description", text, "")
    functions = {}

    def function(f, svc_name):
        functions[svc_name] = f.get("function", text, "")

    services = config.read_services(doc, function)
    doc.done()
    if doc.data.get("services") is not None and not services:
        check.problem(doc.line_of("services"), "services: the topology must list at least one service")
    elif services and not any(s.customer_facing for s in services.values()):
        check.problem(doc.line_of("services"), "services: no service is customer_facing, so no failure could affect customers")
    check.raise_problems()
    return Topology(name, description, services, functions, path)


def topology_path(given=None) -> Path:
    """``given``, else ``drills/topology.yaml`` here, else the example shipped with drillsim."""
    if given is not None:
        return Path(given)
    here = config.default_file(DEFAULT_TOPOLOGY)
    if here is not None:
        return here
    shipped = config.REPO / DEFAULT_TOPOLOGY
    if shipped.exists():
        return shipped
    raise DrillError(f"no {DEFAULT_TOPOLOGY} here; give one with --topology FILE")
