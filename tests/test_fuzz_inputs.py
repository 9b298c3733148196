"""Property: every mutation of every shipped input kind gives no traceback, reports each
problem as ``path:line: message``, and runs a short drill whenever it validates
(tests/fuzzing.py; benchmarks/fuzz_inputs.py runs the same generator for longer)."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .fuzzing import REPO, SOURCES, check, mutate

KINDS = [kind for kind, files in SOURCES.items() if files]


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=20, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_mutated_input_is_refused_with_its_line_or_runs(kind, data, tmp_path_factory, monkeypatch):
    monkeypatch.chdir(REPO)  # where `drill` finds drills/ and scenarios/, as a user in the repository would
    source = data.draw(st.sampled_from(SOURCES[kind]), label="source")
    rng = data.draw(st.randoms(use_true_random=False), label="rng")
    path = tmp_path_factory.mktemp("fuzz") / source.name
    path.write_bytes(mutate(rng, source))
    failure = check(kind, path)
    assert failure is None, f"{source.name} mutated into:\n{path.read_bytes()[:3000]!r}\n{failure}"
