"""The fault catalog and the topology are data files, validated like every other input."""

import pytest

from sim.inputs.errors import DrillError
from sim.inputs.faults import CATALOG, FAULT_KINDS, load_catalog
from sim.inputs.topology import load_topology
from sim.validate import validate

from .conftest import REPO


def test_the_catalog_keeps_the_engines_original_fault_defaults():
    # The values the engine had in code before the catalog became data (docs/model.md's table).
    assert FAULT_KINDS["config_push"].effects == {"error_rate": 0.10}
    assert FAULT_KINDS["database_overload"].eases == {"circuit_breaker": 0.2, "feature_flag": 0.15}
    assert FAULT_KINDS["memory_leak"].band_aids == {"restart": 1800.0}
    assert FAULT_KINDS["abusive_traffic"].fixes == ("block_traffic",)
    assert FAULT_KINDS["traffic_spike"].effects == {"traffic": 3.0, "error_rate": 0.12, "latency": 3.0, "cpu": 0.5}


def test_every_kind_says_how_it_spreads_what_helps_and_what_it_raises():
    for name, kind in FAULT_KINDS.items():
        assert kind.description and kind.spreads and kind.symptoms, name
        assert kind.fixes or kind.eases or kind.band_aids, name
        assert kind.caller_finding and kind.root_causes, name
    assert validate(CATALOG) == "fault catalog"


def test_a_broken_catalog_names_file_line_and_problem(write):
    path = write("faults.yaml", """
        kinds:
          gremlins:
            description: Something odd
            effects: {errors: 10%}
            spreads: nowhere
            symptoms: [error_rate]
            findings:
              caller: "{caller} sees {colour}"
              root_cause: [It was gremlins]
    """)
    with pytest.raises(DrillError) as info:
        load_catalog(path)
    message = str(info.value)
    assert "faults.yaml:4: kinds.gremlins.effects: unknown effect 'errors'" in message
    assert "faults.yaml:2: kinds.gremlins: no mitigation fixes, eases or delays it" in message
    assert "faults.yaml:8: kinds.gremlins.findings: bad template '{caller} sees {colour}'" in message


def test_the_example_topology_is_a_web_shop_of_a_dozen_services():
    topology = load_topology(REPO / "drills" / "topology.yaml")
    assert list(topology.services) == ["edge", "auth", "catalog", "search", "cart", "checkout", "payments",
                                       "payment-gateway", "inventory", "database", "queue", "notifications"]
    assert topology.services["checkout"].critical and topology.services["checkout"].revenue_per_min == 1800
    # A database fault reaches everything that reads it, directly or through another service.
    assert list(topology.reach("database")) == ["database", "auth", "catalog", "cart", "payments", "inventory",
                                                "search", "checkout"]
    assert topology.reach("queue") == {"queue": None, "notifications": "queue"}
    assert validate(REPO / "drills" / "topology.yaml") == "topology"


def test_a_broken_topology_names_file_line_and_problem(write):
    path = write("topology.yaml", """
        topology: broken
        services:
          a: {team: t, depends_on: [b]}
          b: {team: t, depends_on: [a], colour: red}
          c: {team: t, depends_on: [zz], request_rate: lots}
    """)
    with pytest.raises(DrillError) as info:
        load_topology(path)
    message = str(info.value)
    assert "topology.yaml:3: services: dependency cycle a -> b -> a" in message
    assert "topology.yaml:4: services.b: unknown field 'colour'" in message
    assert "topology.yaml:5: services.c.depends_on: unknown service 'zz'" in message
    assert "topology.yaml:5: services.c.request_rate: expected a number" in message
    assert "topology.yaml:2: services: no service is customer_facing" in message
