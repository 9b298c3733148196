"""The simulated production system: services whose metrics faults change over time.

A fault's strength follows a piecewise-linear path from 0 (no effect) to 1 (its full
magnitude): it ramps up when it starts, and mitigations bend the path down (a fix),
down to a share (an easing), or down and back up later (a band-aid). Errors and
latency spread from a dependency to every service that calls it.
"""

from ..inputs.config import Fault, Scenario, Service


class FaultState:
    """One fault's path of strength over time, as ``(t0, level0, t1, level1)`` segments."""

    def __init__(self, fault: Fault):
        self.fault = fault
        self.segments = [(fault.at, 0.0, fault.at + fault.ramp, 1.0)]
        self.outcome = "active"  # active | fixed | eased | suppressed | ended
        if fault.duration is not None:
            end = fault.at + fault.duration
            self.bend(end, 0.0, fault.recovery)

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
        """Apply a mitigation; say what it did to each fault it touched."""
        touched = []
        for state in self.faults:
            fault = state.fault
            if fault.service != service or state.outcome in ("fixed", "ended") or t < fault.at:
                continue
            if action in fault.fixes:
                state.bend(t, 0.0, fault.recovery)
                state.outcome = "fixed"
            elif action in fault.eases:
                state.bend(t, fault.eases[action], fault.recovery)
                state.outcome = "eased"
            elif action in fault.band_aids:
                state.bend(t, 0.0, min(fault.recovery, fault.band_aids[action] / 2))
                state.outcome = "suppressed"
            else:
                continue
            touched.append({"fault": fault.id, "outcome": state.outcome,
                            "returns_in": fault.band_aids.get(action) if state.outcome == "suppressed" else None})
        return {"effective": bool(touched), "faults": touched}

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
