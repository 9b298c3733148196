"""The simulated production system: services whose metrics faults change over time.

A fault's strength follows a piecewise-linear path from 0 (no effect) to 1 (its full
magnitude): it ramps up when it starts, and mitigations bend the path down (a fix),
down to a share (an easing or a partial fix), or down and back up later (a band-aid).
Each drill draws how its faults respond (``FaultState.draw``): a first mitigation that
does not take, a fix that restores only part, how long recovery takes. Latency spreads
from a dependency to every service that calls it, and errors too: in full, or the share
the caller's ``spread`` for that dependency says (retries, timeouts and fallbacks absorb
the rest).
"""

from bisect import bisect_right
from heapq import heapify, heappop, heappush
from math import exp, inf

from ..inputs.actions import MITIGATIONS
from ..inputs.config import Fault, Scenario, Service
from ..inputs.dynamics import Dynamics
from .memo import per_scenario


class FaultState:
    """One fault's path of strength over time, as ``(t0, level0, t1, level1)`` segments.

    ``segments`` is replaced, never changed in place: the world notices a bend by it.
    """

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
        # what it does to its service per unit of strength (error rate, latency and traffic
        # factors less 1, cpu, memory), and as a cause (speed: read at every look while it moves)
        m = fault.magnitude
        self.effects = (m.get("error_rate") or 0.0, m.get("latency", 1.0) - 1.0, m.get("traffic", 1.0) - 1.0,
                        m.get("cpu") or 0.0, m.get("memory") or 0.0)
        self.caused = frozenset((fault.id,))
        if fault.duration is not None:
            end = fault.at + fault.duration
            self.bend(end, 0.0, fault.recovery)
        self.bent = False  # whether the drill bent its path (the scenario's own end is no bend)

    def draw(self, rng, dynamics: Dynamics) -> None:
        """Draw, once per drill, how hard this fault is to diagnose and how it responds to mitigation."""
        self.pace = exp(dynamics.diagnosis_spread * rng.gauss(0.0, 1.0))
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

    def recovery(self, action: str) -> float:
        """How long the service takes to recover after ``action`` (its own time, or the fault's;
        drawn per mitigation)."""
        nominal = self.fault.recoveries.get(action, self.fault.recovery)
        if self._rng is None:
            return nominal
        return nominal * self.pace * exp(self._recovery_spread * self._rng.gauss(0.0, 1.0))

    def level(self, t: float) -> float:
        return _at(self.segments, t)[0]

    def bend(self, t: float, target: float, over: float) -> None:
        """From ``t`` on, move linearly to ``target`` over ``over`` seconds and stay there."""
        now = self.level(t)
        self.segments = [s for s in self.segments if s[0] < t]
        self.segments.append((t, now, t + max(over, 1.0), target))
        self.bent = True

    def resume(self, t: float) -> None:
        """A band-aid wore off: the fault ramps back up as when it started."""
        self.bend(t, 1.0, self.fault.ramp)
        self.outcome = "active"


_NONE: frozenset = frozenset()  # no cause

MOST_SETBACKS = 5  # wrong hypotheses or failed attempts on one fault: more is not a drill any more


def _geometric(rng, chance: float) -> int:
    """How many times something with ``chance`` happens before it first does not (at most MOST_SETBACKS)."""
    count = 0
    while count < MOST_SETBACKS and rng.random() < chance:
        count += 1
    return count


class _Estate:
    """What drills of one scenario share about its services: the order to compute them in
    (callees first), each one's callers and dependencies (with their spread), and their
    metrics and causes without faults or blips (``calm``, once first worked out)."""

    def __init__(self, services: dict):
        self.services = services
        self.order = _callees_first(services)
        self.rank = {name: i for i, name in enumerate(self.order)}
        self.callers: list[list[int]] = [[] for _ in self.order]  # by rank, the ranks of each one's callers
        # each dependency, the share of its errors passed on, and its usual error rate and latency
        self.deps = {name: [(dep, svc.spread_from(dep), services[dep].error_rate, services[dep].latency_p99_ms)
                            for dep in svc.depends_on] for name, svc in services.items()}
        for name, svc in services.items():
            for dep in svc.depends_on:
                self.callers[self.rank[dep]].append(self.rank[name])
        self.calm: dict | None = None
        # each service's usual share of requests that succeed, cpu, memory, latency and traffic
        self.base = {name: (1.0 - svc.error_rate, svc.cpu, svc.memory, svc.latency_p99_ms, svc.request_rate)
                     for name, svc in services.items()}


_estate = per_scenario(256)(_Estate)  # the scenario's estate, worked out once (an estate of hundreds of services)


class World:
    """Services, faults and noise; ``observe`` gives every service's metrics at a time.

    Observing is incremental: a service is recomputed only when what it is made of changed
    (the levels of its own faults, or what its dependencies pass on), and a blip only
    overlays its own service. Unchanged services keep their very metrics dicts, and
    ``changed`` lists, in order, every service whose metrics an observation replaced, so
    readers (rules, impact) look only at those.
    """

    def __init__(self, scenario: Scenario):
        self.scenario = scenario
        self.services: dict[str, Service] = scenario.services
        self.faults = [FaultState(f) for f in scenario.faults]
        self.noise = scenario.noise
        # when blips start or end, in time order; from each edge (and before the first) to the
        # next, the blips on, by service, and when that ends
        self._blip_edges = sorted(b for blip in self.noise for b in (blip.at, blip.at + blip.duration))
        self._blip_spans = [(until, self._blips_at(since)) for since, until in
                            zip([-inf, *self._blip_edges], [*self._blip_edges, inf])]
        self._estate = _estate(self.services)
        self.order = self._estate.order
        self.metrics: dict[str, dict] = {}
        self.causes: dict[str, dict] = {}
        self.changed: list[str] = []  # appended to by every observation: readers keep their place in it
        # what _compute gave for each service, with the metrics and causes it shows, before blips (which callers see)
        self._passed: dict[str, tuple[tuple, dict, dict]] = {}
        self._own: dict[str, tuple] = {}  # acting faults per service at the last observation
        self._blips: dict[str, tuple] = {}  # blips per service at the last observation
        self._paths: list = []  # each fault's segments at the last observation (a bend replaces them)
        self._steady = (inf, -inf)  # from and until when the faults and blips stay as last observed

    def observe(self, t: float) -> None:
        """Compute every service's metrics at ``t`` (callees before callers), recomputing what changed."""
        if self._unbent():
            since, until = self._steady
            if since <= t < until:
                return  # no fault moves, no blip starts or ends: nothing to recompute
        else:
            self._paths = [state.segments for state in self.faults]
        until, blips = self._blip_spans[bisect_right(self._blip_edges, t) if self._blip_edges else 0]
        own: dict[str, tuple] = {}
        i = 0
        for state in self.faults:
            level, steady = _at(state.segments, t)
            if steady < until:  # noqa: PLR1730 (not min(): a call per fault per scrape adds up)
                until = steady
            if level > 0.0:
                service = state.fault.service
                own[service] = own[service] + ((i, level),) if service in own else ((i, level),)
            i += 1  # noqa: SIM113 (not enumerate(): its tuples, at every fault of every observation)
        self._steady = (t, until)
        if not self.metrics:
            self._start_calm()
        was = self._own
        if own == was and blips == self._blips:
            return
        self._own = own
        estate, passed = self._estate, self._passed
        rank, callers, order = estate.rank, estate.callers, self.order
        todo = []  # the services whose own faults' levels changed (plain loops: quicker than comprehensions this small)
        for name, acting in own.items():
            if acting != was.get(name):
                todo.append(rank[name])
        for name in was:
            if name not in own:
                todo.append(rank[name])
        queued, moved = set(todo), []
        heapify(todo)
        while todo:
            i = heappop(todo)
            name = order[i]
            now = self._compute(name, own.get(name, ()))
            last = passed[name]
            if now != last[0]:  # values and causes in a tuple: one comparison, no dict made for nothing
                shown, caused = _shown(now, last)
                passed[name] = (now, shown, caused)
                moved.append(name)
                for caller in callers[i]:
                    if caller not in queued:
                        queued.add(caller)
                        heappush(todo, caller)
        was_blipped = self._blips
        if blips or was_blipped:
            reblipped = {n for n in blips.keys() | was_blipped.keys() if blips.get(n) != was_blipped.get(n)}
            moved = sorted(set(moved) | reblipped, key=rank.__getitem__)
            self._blips = blips
        if not moved:
            return
        # a new dict of metrics (a reader may keep the last one, to know whether anything moved);
        # causes changed in place (nobody keeps them)
        metrics, causes = dict(self.metrics), self.causes
        for name in moved:  # callees first, as computed
            _, m, c = passed[name]
            if name in blips:
                m, c = dict(m), dict(c)
                for blip in blips[name]:
                    m[blip.metric] = max(m[blip.metric], blip.value)
                    c[blip.metric] = c[blip.metric] | {"noise"}
            elif name not in was_blipped:  # shown as passed before and now, and what passed moved
                metrics[name], causes[name] = m, c
                self.changed.append(name)
                continue
            if metrics[name] != m or causes[name] != c:
                metrics[name], causes[name] = m, c
                self.changed.append(name)
        self.metrics = metrics

    def untouched(self) -> bool:
        """Whether the world is still the scenario's alone: no response bent a fault's path and no
        fault was added while the drill ran (until then, every drill of the scenario sees the
        same metrics at the same times)."""
        if len(self.faults) != len(self.scenario.faults):
            return False
        for state in self.faults:  # a loop, not any() of a generator: asked at every evaluation
            if state.bent:
                return False
        return True

    def steady_until(self) -> float:
        """Until when observing gives what the last observation gave (no fault moves, no blip
        starts or ends): while a fault moves, the last observation's own time, bent since or not
        (no need to look); otherwise -inf when a fault was bent or added since."""
        since, until = self._steady
        return until if until <= since or self._unbent() else -inf

    def _unbent(self) -> bool:
        """Whether the faults' paths are those of the last observation (none bent, none added;
        a path bent into the same segments is the same path)."""
        paths, i = self._paths, 0
        try:
            for state in self.faults:  # a loop, not a list to compare, nor enumerate() and len(): asked every tick
                if state.segments is not paths[i] and state.segments != paths[i]:  # is: unbent, at once
                    return False
                i += 1
        except IndexError:  # a fault was added (faults are never removed)
            return False
        return True

    def _blips_at(self, t: float) -> dict[str, tuple]:
        """The blips on at ``t``, by service."""
        blips: dict[str, tuple] = {}
        for blip in self.noise:
            if blip.at <= t < blip.at + blip.duration:
                blips[blip.service] = blips.get(blip.service, ()) + (blip,)
        return blips

    def _start_calm(self) -> None:
        """The first look starts from the estate without faults or blips, worked out once per
        scenario (nothing changes these dicts)."""
        estate = self._estate
        if estate.calm is None:
            for name in self.order:
                now = self._compute(name, ())
                self._passed[name] = (now, *_shown(now))
            estate.calm = self._passed
        self._passed = dict(estate.calm)
        self.metrics = {name: m for name, (_, m, _) in self._passed.items()}
        self.causes = {name: c for name, (_, _, c) in self._passed.items()}
        self.changed.extend(self.order)

    def _compute(self, name: str, acting: tuple) -> tuple:
        """One service's metrics and their causes from its own acting faults and its dependencies:
        request rate, error rate, latency, cpu, memory, then the causes of error rate, latency,
        cpu, memory and request rate (``_shown`` makes the dicts the world shows of them).

        Causes are frozen sets, shared with a dependency's where they are the same (speed)."""
        err_ok, cpu, mem, latency, requests = self._estate.base[name]
        lat_extra, traffic = 0.0, 1.0
        err_by = lat_by = cpu_by = mem_by = rps_by = _NONE
        faults = self.faults
        for i, level in acting:
            state = faults[i]
            err, lat, rps, more_cpu, more_mem = state.effects
            caused = state.caused
            if err:
                err_ok *= 1.0 - level * err
                err_by = err_by | caused if err_by else caused
            if lat:
                lat_extra += latency * lat * level
                lat_by = lat_by | caused if lat_by else caused
            if rps:
                traffic *= 1.0 + rps * level
                rps_by = rps_by | caused if rps_by else caused
            if more_cpu:
                cpu += more_cpu * level
                cpu_by = cpu_by | caused if cpu_by else caused
            if more_mem:
                mem += more_mem * level
                mem_by = mem_by | caused if mem_by else caused
        passed = self._passed
        for dep, share, dep_errors, dep_latency in self._estate.deps[name]:
            dv = passed[dep][0]
            dep_now, dep_slow = dv[1], dv[2]  # (compiled, doubles: no float made for each difference)
            extra_err = dep_now - dep_errors
            if extra_err > 0.0 and share > 0.0:
                err_ok *= 1.0 - share * extra_err
                err_by = dv[5] if not err_by else err_by | dv[5]
            extra_lat = dep_slow - dep_latency
            if extra_lat > 0.0:
                lat_extra += extra_lat
                lat_by = dv[6] if not lat_by else lat_by | dv[6]
        # cpu and memory at most 1: not min(), which costs a call per service per scrape
        return (requests * traffic, 1.0 - err_ok, latency + lat_extra, 1.0 if cpu > 1.0 else cpu,
                1.0 if mem > 1.0 else mem, err_by, lat_by, cpu_by, mem_by, rps_by)

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
                    state.bend(t, setback[1], state.recovery(action))
                    state.outcome = "partial"
                else:
                    state.bend(t, 0.0, state.recovery(action))
                    state.outcome = "fixed"
            elif action in fault.eases:
                state.bend(t, fault.eases[action], state.recovery(action))
                state.outcome = "eased"
            else:
                state.bend(t, 0.0, min(state.recovery(action), fault.band_aids[action] / 2))
                state.outcome = "suppressed"
            outcome = outcome or state.outcome
            touched.append({"fault": fault.id, "outcome": outcome,
                            "returns_in": fault.band_aids.get(action) if outcome == "suppressed" else None})
        return {"effective": any(f["outcome"] != "failed" for f in touched), "faults": touched}

    def impacted(self, name: str) -> bool:
        m = self.metrics[name]
        return self.services[name].breached(m["error_rate"], m["latency_p99_ms"])


def _shown(now: tuple, was: tuple | None = None) -> tuple[dict, dict]:
    """The metrics and causes ``World._compute`` worked out, as the dicts the world shows; the
    causes' dict of ``was`` (what was shown before) again while they are the very same sets
    (a moving fault moves the metrics, seldom what causes them)."""
    metrics = {"request_rate": now[0], "error_rate": now[1], "latency_p99_ms": now[2], "cpu": now[3], "memory": now[4]}
    if was is not None:
        before = was[0]
        if (now[5] is before[5] and now[6] is before[6] and now[7] is before[7] and now[8] is before[8]
                and now[9] is before[9]):
            return metrics, was[2]
    return metrics, {"error_rate": now[5], "latency_p99_ms": now[6], "cpu": now[7], "memory": now[8],
                     "request_rate": now[9]}


def _at(segments: list, t: float) -> tuple[float, float]:
    """A fault's level at ``t`` on its path, and until when it stays that (``t`` itself while
    it moves): what every observation asks of every fault, in one call."""
    steady = inf
    for t0, l0, t1, l1 in segments:
        if t < t0:
            steady = t0
            break
        if t < t1 and l0 != l1:
            steady = t
            break
    if t < segments[0][0]:
        return 0.0, steady
    for t0, l0, t1, l1 in reversed(segments):
        if t >= t0:
            if t >= t1:
                return l1, steady
            return l0 + (l1 - l0) * (t - t0) / (t1 - t0), steady
    return 0.0, steady


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
