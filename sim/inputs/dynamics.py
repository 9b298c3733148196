"""How an incident unfolds beyond its fault story: the per-drill chances and spreads, and who
notices it besides the alerts (the ``dynamics:`` and ``reports:`` sections of a scenario).

Every default is sourced or marked as an assumption in docs/model.md ("Dynamics"). The
values are read and checked here, once; the engine draws from them per drill.
"""

from dataclasses import dataclass

from . import units
from .yamlfile import MAX_SIGMA, Fields, one_of, ranged, text


@dataclass(frozen=True)
class Dynamics:
    """The chances and spreads one drill's incident is drawn from."""

    # Log-sd of a per-drill factor on how long every finding takes to appear (median 1):
    # some incidents are simply harder to diagnose. Davidovic (2021) measures log-sd ~1
    # for whole incident durations; diagnosis is the part that varies most.
    diagnosis_spread: float = 1.8
    wrong_lead: float = 0.5  # chance a look at the culprit follows a wrong hypothesis (again after each)
    fix_fails: float = 0.3  # chance a mitigation tried on a fault does not take (again after each)
    partial_fix: float = 0.25  # chance a fix that takes restores only part of the service
    partial_left: tuple[float, float] = (0.1, 0.5)  # the share of the fault a partial fix leaves (uniform)
    recovery_spread: float = 1.0  # log-sd of the recovery after each mitigation, around the fault's own


@dataclass(frozen=True)
class Report:
    """People noticing: ``by`` reports the incident ``after`` a delay counted from the first
    customer impact (``of: impact``) or from the fault's start (``of: fault``)."""

    by: str
    after: object  # config.LogNormal
    of: str = "impact"


def read_dynamics(f: Fields) -> Dynamics:
    base = Dynamics()
    spread = ranged(0, MAX_SIGMA)
    dynamics = Dynamics(
        diagnosis_spread=f.get("diagnosis_spread", spread, base.diagnosis_spread),
        wrong_lead=f.get("wrong_lead", units.share, base.wrong_lead),
        fix_fails=f.get("fix_fails", units.share, base.fix_fails),
        partial_fix=f.get("partial_fix", units.share, base.partial_fix),
        partial_left=f.get("partial_left", _share_range, base.partial_left),
        recovery_spread=f.get("recovery_spread", spread, base.recovery_spread),
    )
    f.done()
    return dynamics


def _share_range(value) -> tuple[float, float]:
    if not isinstance(value, list) or len(value) != 2:
        raise ValueError("expected [least, most], e.g. [10%, 50%]")
    low, high = units.share(value[0]), units.share(value[1])
    if low > high:
        raise ValueError("the least must not exceed the most")
    return low, high


def read_report(f: Fields, lognormal) -> Report:
    report = Report(
        by=f.get("by", text, "", required=True),
        after=f.get("after", lognormal, None, required=True),
        of=f.get("of", one_of("impact", "fault"), "impact"),
    )
    f.done()
    return report
