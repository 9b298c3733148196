"""The simulated production system: services whose metrics faults change over time.

A fault's strength follows a piecewise-linear path from 0 (no effect) to 1 (its full
magnitude): it ramps up when it starts, and mitigations bend the path down (a fix),
down to a share (an easing or a partial fix), or down and back up later (a band-aid).
Each drill draws how its faults respond (``FaultState.draw``): a first mitigation that
does not take, a fix that restores only part, how long recovery takes. Errors and
latency spread from a dependency to every service that calls it.
"""

import math

from ..inputs.actions import MITIGATIONS
from ..inputs.config import Fault, Scenario, Service
from ..inputs.dynamics import Dynamics


class FaultState:
    """One fault's path of strength over time, as ``(t0, level0, t1, level1)`` segments."""

    def __init__(self, fault: Fault):
        self.fault = fault
        self.segments = [(fault.at, 0.0, fault.at + fault.ramp, 1.0)]
        self.outcome = "active"  # active | fixed | eased | partial | suppressed | ended
        # What this drill drew (``draw``); undrawn, every mitigation works fully and recovers in
        # the fault's own time, and findings take their nominal time.
        self.pace = 1.0  # factor on how long each finding about this fault takes to appear
        self.wrong_leads: list[str] = []  # mitigations that wrong hypotheses about the culprit suggest, in turn
        self.setbacks: list = []  # what the next mitigations do instead of working: "fails"..., then ("partial", left)
        self._rng, self._recovery_spread = None, 0.0
        if fault.duration is not None:
            end = fault.at + fault.duration
            self.bend(end, 0.0, fault.recovery)

    def draw(self, rng, dynamics: Dynamics) -> None:
        """Draw, once per drill, how hard this fault is to diagnose and how it responds to mitigation."""
        self.pace = math.exp(dynamics.diagnosis_spread * rng.gauss(0.0, 1.0))
        # Each wrong hypothesis, and each failed attempt, makes another as likely again (a
        # geometric count): a hard incident goes wrong more than once.
        fault = self.fault
        useless = [m for m in MITIGATIONS if m not in fault.fixes and m not in fault.eases and m not in fault.band_aids]
        rng.shuffle(useless)
        self.wrong_leads = useless[:_geometric(rng, dynamics.wrong_lead)]
        self.setbacks = ["fails"] * _geometric(rng, dynamics.fix_fails)
        partial, left = rng.random(), rng.uniform(*dynamics.partial_left)
        if partial < dynamics.partial_fix:
            self.setbacks.append(("partial", left))
        self._rng, self._recovery_spread = rng, dynamics.recovery_spread

    def recovery(self) -> float:
        """How long the service takes to recover after this mitigation (drawn per mitigation)."""
        if self._rng is None or not self._recovery_spread:
            return self.fault.recovery
        return self.fault.recovery * self.pace * math.exp(self._recovery_spread * self._rng.gauss(0.0, 1.0))

    def level(self, t: float) -> float:
        if t < self.segments[0][0]:
            return 0.0
        for t0, l0, t1, l1 in reversed(self.segments):
            if t >= t0:
                if t >= t1:
                    return l1
                return l0 + (l1 - l0) * (t - t0) / (t1 - t0)
        return 0.0

    def bend(self, t: float, target: float, over: float) -> None:
        """From ``t`` on, move linearly to ``target`` over ``over`` seconds and stay there."""
        now = self.level(t)
        self.segments = [s for s in self.segments if s[0] < t]
        self.segments.append((t, now, t + max(over, 1.0), target))

    def resume(self, t: float) -> None:
        """A band-aid wore off: the fault ramps back up as when it started."""
        self.bend(t, 1.0, self.fault.ramp)
        self.outcome = "active"


MOST_SETBACKS = 5  # wrong hypotheses or failed attempts on one fault: more is not a drill any more


def _geometric(rng, chance: float) -> int:
    """How many times something with ``chance`` happens before it first does not (at most MOST_SETBACKS)."""
    count = 0
    while count < MOST_SETBACKS and rng.random() < chance:
        count += 1
    return count


class World:
    """Services, faults and noise; ``observe`` gives every service's metrics at a time."""

    def __init__(self, scenario: Scenario):
        self.scenario = scenario
        self.services: dict[str, Service] = scenario.services
        self.faults = [FaultState(f) for f in scenario.faults]
        self.noise = scenario.noise
        self.order = _callees_first(self.services)
        self.metrics: dict[str, dict] = {}
        self.causes: dict[str, dict] = {}
        self._calm: tuple | None = None

    def observe(self, t: float) -> None:
        """Compute every service's metrics at ``t`` (callees before callers)."""
        own = {name: [] for name in self.services}
        acting = False
        for state in self.faults:
            level = state.level(t)
            if level > 0.0:
                own[state.fault.service].append((state.fault, level))
                acting = True
        blips = [blip for blip in self.noise if blip.at <= t < blip.at + blip.duration]
        acting = acting or bool(blips)
        # Speed trick: with no fault or blip at work every metric is its baseline, so the
        # one snapshot computed then is reused (nothing mutates it; the event log is unchanged).
        if not acting and self._calm is not None:
            self.metrics, self.causes = self._calm
            return
        metrics, causes = {}, {}
        for name in self.order:
            svc = self.services[name]
            err_ok, lat_extra, traffic, cpu, mem = 1.0 - svc.error_rate, 0.0, 1.0, svc.cpu, svc.memory
            err_by, lat_by, cpu_by, mem_by, rps_by = set(), set(), set(), set(), set()
            for fault, level in own[name]:
                m = fault.magnitude
                if m.get("error_rate"):
                    err_ok *= 1.0 - level * m["error_rate"]
                    err_by.add(fault.id)
                if m.get("latency", 1.0) != 1.0:
                    lat_extra += svc.latency_p99_ms * (m["latency"] - 1.0) * level
                    lat_by.add(fault.id)
                if m.get("traffic", 1.0) != 1.0:
                    traffic *= 1.0 + (m["traffic"] - 1.0) * level
                    rps_by.add(fault.id)
                if m.get("cpu"):
                    cpu += m["cpu"] * level
                    cpu_by.add(fault.id)
                if m.get("memory"):
                    mem += m["memory"] * level
                    mem_by.add(fault.id)
            for dep in svc.depends_on:
                dm, dsvc = metrics[dep], self.services[dep]
                extra_err = dm["error_rate"] - dsvc.error_rate
                if extra_err > 0.0:
                    err_ok *= 1.0 - extra_err
                    err_by |= causes[dep]["error_rate"]
                extra_lat = dm["latency_p99_ms"] - dsvc.latency_p99_ms
                if extra_lat > 0.0:
                    lat_extra += extra_lat
                    lat_by |= causes[dep]["latency_p99_ms"]
            metrics[name] = {
                "request_rate": svc.request_rate * traffic,
                "error_rate": 1.0 - err_ok,
                "latency_p99_ms": svc.latency_p99_ms + lat_extra,
                "cpu": min(cpu, 1.0),
                "memory": min(mem, 1.0),
            }
            causes[name] = {"error_rate": err_by, "latency_p99_ms": lat_by, "cpu": cpu_by, "memory": mem_by,
                            "request_rate": rps_by}
        for blip in blips:
            m = metrics[blip.service]
            m[blip.metric] = max(m[blip.metric], blip.value)
            causes[blip.service][blip.metric] = causes[blip.service][blip.metric] | {"noise"}
        self.metrics, self.causes = metrics, causes
        if not acting:
            self._calm = (metrics, causes)

    def cause_of(self, service: str, metric: str) -> list[str]:
        """Fault ids behind a metric's deviation, or ``["noise"]``."""
        found = self.causes[service][metric]
        faults = sorted(c for c in found if c != "noise")
        return faults or ["noise"]

    def mitigate(self, t: float, action: str, service: str) -> dict:
        """Apply a mitigation; say what it did to each fault it touched.

        A mitigation that did not take touches its fault with outcome ``failed`` (the fault
        goes on as before); a fix that took only in part leaves it ``partial``, at a share of
        its strength, until a fix is applied again. ``effective``: some fault was helped."""
        touched = []
        for state in self.faults:
            fault = state.fault
            if fault.service != service or state.outcome in ("fixed", "ended") or t < fault.at:
                continue
            if not (action in fault.fixes or action in fault.eases or action in fault.band_aids):
                continue
            setback = state.setbacks[0] if state.setbacks else None
            outcome = None
            if setback == "fails":
                state.setbacks.pop(0)
                outcome = "failed"
            elif action in fault.fixes:
                if setback is not None:  # a partial fix: the rest needs fixing again
                    state.setbacks.pop(0)
                    state.bend(t, setback[1], state.recovery())
                    state.outcome = "partial"
                else:
                    state.bend(t, 0.0, state.recovery())
                    state.outcome = "fixed"
            elif action in fault.eases:
                state.bend(t, fault.eases[action], state.recovery())
                state.outcome = "eased"
            else:
                state.bend(t, 0.0, min(state.recovery(), fault.band_aids[action] / 2))
                state.outcome = "suppressed"
            outcome = outcome or state.outcome
            touched.append({"fault": fault.id, "outcome": outcome,
                            "returns_in": fault.band_aids.get(action) if outcome == "suppressed" else None})
        return {"effective": any(f["outcome"] != "failed" for f in touched), "faults": touched}

    def impacted(self, name: str) -> bool:
        m = self.metrics[name]
        return self.services[name].breached(m["error_rate"], m["latency_p99_ms"])


def _callees_first(services: dict) -> list[str]:
    order, seen = [], set()

    def visit(name):
        if name in seen:
            return
        seen.add(name)
        for dep in services[name].depends_on:
            visit(dep)
        order.append(name)

    for name in services:
        visit(name)
    return order
