"""Builds the simulation engine's modules with Cython, as Python they stay.

The engine (``sim/model``; of ``sim/inputs``, the timestamps, the configuration's classes and
the actions, whose small methods a drill calls thousands of times; and the scoring) is
compiled from its own unchanged ``.py`` files: the same code, run about 1.4x as fast
(``benchmarks/drills_per_second.py``). A module's ``.pxd`` beside it, where there is one, makes
its hottest classes extension types (docs/performance.md, "Extension types"); ``streams.pyx``
is the one module written for Cython alone. Everything else in ``pyproject.toml``.

``DRILLSIM_PURE_PYTHON=1 pip install -e .`` builds nothing, and the engine runs from source.
"""

import os
import sys
from pathlib import Path

from setuptools import setup

ENGINE = sorted(str(p) for p in Path("sim/model").rglob("*.py") if p.name != "__init__.py")
ENGINE += ["sim/inputs/units.py", "sim/inputs/config.py", "sim/inputs/actions.py", "sim/outputs/scoring.py"]
ENGINE += ["sim/model/streams.pyx"]  # Cython only: from source the engine draws from random.Random


def extensions() -> list:
    if os.environ.get("DRILLSIM_PURE_PYTHON"):
        return []
    from Cython.Build import cythonize

    # Annotations stay documentation, as in Python (an argument noted ``list`` may be a tuple);
    # -O2 builds as fast code as -O3 here in half the time, -g0 leaves out debugging symbols. The
    # compiled arithmetic must round as Python's does: a * b + c twice, never fused into one
    # multiply-add (as GCC does where the machine has one, ARM's for one), and sin and cos of one
    # angle two calls to libm, as ``math`` makes them, not one call to sincos (streams.pyx).
    flags = [] if sys.platform == "win32" else ["-O2", "-g0", "-ffp-contract=off", "-fno-builtin-sin",
                                                 "-fno-builtin-cos"]
    modules = cythonize(ENGINE, compiler_directives={"language_level": 3, "annotation_typing": False},
                        nthreads=os.cpu_count() or 1, quiet=True)
    for module in modules:
        module.extra_compile_args += flags
        module.optional = True  # without a C compiler the install goes on, and the engine runs from source
    return modules


setup(ext_modules=extensions(), options={"build_ext": {"parallel": os.cpu_count() or 1}})
