"""Simulated drills per second of the reference scenario with bots, in one process.

    python benchmarks/drills_per_second.py [--drills 500]

Each drill is simulated and scored (no report files). Measured four ways:

- shorthand: the scenario as shipped (its shorthand alerts);
- + samples: the same, keeping the metric samples for plots;
- team rules: with the example team rule file (docs/examples/web-shop.rules.yml: 5 alerts
  and a recording rule, PromQL over counters) acting on its services;
- 50 PromQL rules: a rule file of 50 rules written the way teams write them (error
  ratios, latency quantiles, saturation, ``up``; per service and aggregated).

Targets: 100 drills/s with the shorthand; 150 with the team-rule path. Rates are per CPU
second of this process (other jobs on the machine slow the wall clock, less the CPU
clock); the load average is printed with them.
"""

import argparse
import os
import tempfile
import time
from dataclasses import replace
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # measure this checkout's engine, not whichever one is installed

from sim import load_scenario, run_drill, score  # noqa: E402
from sim.inputs.config import Process  # noqa: E402
from sim.inputs.promrules import load_rules  # noqa: E402
SCENARIO = REPO / "scenarios" / "checkout-config-push.yaml"
PER_SERVICE = (
    ('{m}:errors:ratio_rate5m', 'sum(rate(http_requests_total{{service="{s}",code=~"5.."}}[5m])) / '
                               'sum(rate(http_requests_total{{service="{s}"}}[5m]))', None),
    ("{S}ErrorRatioHigh", '{m}:errors:ratio_rate5m > 0.05', "5m"),
    ("{S}ErrorRatioCritical", '{m}:errors:ratio_rate5m > 0.2', "2m"),
    ("{S}LatencyP99High", 'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket'
                          '{{service="{s}"}}[5m]))) > 1', "10m"),
    ("{S}Down", 'up{{service="{s}"}} == 0', "1m"),
    ("{S}CPUSaturated", 'rate(process_cpu_seconds_total{{service="{s}"}}[5m]) > 0.9', "15m"),
    ("{S}MemoryHigh", 'avg_over_time(process_resident_memory_bytes{{service="{s}"}}[10m]) / 1073741824 > 0.9', "10m"),
    ("{S}TrafficDrop", 'sum(rate(http_requests_total{{service="{s}"}}[5m])) < 0.5 * '
                       'sum(rate(http_requests_total{{service="{s}"}}[5m] offset 1h))', "10m"),
)
OVERALL = (
    ("ManyServicesErroring", 'count(sum by (service) (rate(http_requests_total{code=~"5.."}[5m])) / '
                             'sum by (service) (rate(http_requests_total[5m])) > 0.05) >= 2', "2m"),
    ("SlowestServiceP99", 'max(histogram_quantile(0.99, sum by (service, le) '
                          '(rate(http_request_duration_seconds_bucket[5m])))) > 2', "5m"),
)


def team_rules(scenario):
    """``scenario`` with the example team rules (docs/examples/web-shop.rules.yml) beside its own
    alerts, its services labelled ``namespace="shop"`` as the rules select."""
    return replace(scenario, rules=load_rules(REPO / "docs" / "examples" / "web-shop.rules.yml"),
                   services={n: replace(s, labels=(("namespace", "shop"),)) for n, s in scenario.services.items()})


def fifty_rules(services) -> str:
    """A rule file of 50 rules on the scenario's services (recording rules included)."""
    lines = ["groups:", "  - name: fifty", "    rules:"]
    names = [dict(s=s, m=s.replace("-", "_"), S=s.title().replace("-", "")) for s in services]
    entries = [(n.format(**k), e.format(**k), f) for k in names for n, e, f in PER_SERVICE] + list(OVERALL)
    for name, expr, for_ in entries[:50]:
        key = "record" if for_ is None else "alert"
        lines.append(f"      - {key}: {name}\n        expr: '{expr}'")
        if for_:
            lines.append(f"        for: {for_}\n        labels: {{severity: warning}}")
    return "\n".join(lines) + "\n"


def measure(scenario, process, drills: int, samples: bool = False) -> tuple[float, float]:
    for seed in range(-5, 0):  # warm up on seeds not measured: a repeated seed could reuse its own results
        run_drill(scenario, process, seed=seed, samples=samples)
    started, events = time.process_time(), 0
    for seed in range(drills):
        result = run_drill(scenario, process, seed=seed, samples=samples)
        score(result.events, scenario, process)
        events += len(result.events)
    elapsed = time.process_time() - started
    return drills / elapsed, events / drills


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drills", type=int, default=500)
    args = parser.parse_args()
    scenario, process = load_scenario(SCENARIO), Process()
    shop = team_rules(scenario)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fifty.yml"
        path.write_text(fifty_rules(list(scenario.services)))
        fifty = replace(scenario, rules=load_rules(path))
    runs = (("shorthand", scenario, args.drills, False), ("shorthand + samples for plots", scenario, args.drills, True),
            ("team rules (6, PromQL)", shop, max(20, args.drills // 5), False),
            ("50 PromQL rules", fifty, max(10, args.drills // 20), False))
    print(f"load average {os.getloadavg()[0]:.1f}", flush=True)
    for label, s, n, samples in runs:
        rate, events = measure(s, process, n, samples)
        print(f"{label:<32} {rate:7.1f} drills/s  ({1000 / rate:.2f} ms per drill, {events:.0f} events per drill)",
              flush=True)
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
