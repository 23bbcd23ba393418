"""Benchmark: one footprint's plan with every library care model on.

Greater Manchester, 2016/17 to 2020/21, 1000 draws. Each repeat is a fresh process (cold:
includes loading the reference data and projecting the population) followed by warm runs in the
same process. Reports medians and peak resident memory.

    .venv/bin/python benchmarks/run_plan.py [--repeats 5] [--draws 1000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

CHILD = r"""
import json, resource, sys, time
from stpsim import engine, plan
from stpsim.interventions import library
draws = int(sys.argv[1])
p = plan.validate({"name": "bench", "footprints": ["E54000007"], "end_year": "2020/21",
                   "monte_carlo": {"draws": draws, "seed": 1},
                   "interventions": [{"name": n, "coverage": 0.8} for n in library()]})
t = time.perf_counter(); engine.run(p); cold = time.perf_counter() - t
def med(f):
    xs = []
    for _ in range(7):
        t = time.perf_counter(); f(); xs.append(time.perf_counter() - t)
    return sorted(xs)[len(xs) // 2]
D = range(draws)
def activity_only():
    x = engine.parameter_draws(p, D)
    a = engine.run_block(p, ["E54000007"], D, x)
    engine.capacity(a.activity, x)
print(json.dumps({"cold": cold, "activity": med(activity_only),
                  "finance": med(lambda: engine.run(p, incentives=False)),
                  "warm": med(lambda: engine.run(p)),
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--draws", type=int, default=1000)
    args = ap.parse_args()
    runs = []
    for _ in range(args.repeats):
        proc = subprocess.run(
            [sys.executable, "-c", CHILD, str(args.draws)], capture_output=True, text=True, check=True
        )
        runs.append(json.loads(proc.stdout))
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    print(f"run plan: Greater Manchester, 5 years, {args.draws} draws, all 10 library care models")
    print(f"({args.repeats} fresh processes; medians)")
    print(f"  first full run (cold)        {med['cold'] * 1000:8.1f} ms   reads data, all below")
    print(f"  activity and capacity        {med['activity'] * 1000:8.1f} ms   plan + do-nothing, all draws")
    print(f"  + finance (every org)        {med['finance'] * 1000:8.1f} ms")
    print(f"  + incentive matrix (warm)    {med['warm'] * 1000:8.1f} ms   one extra pass per care model")
    print(f"  peak resident memory         {med['peak_rss_mib']:8.1f} MiB (whole process)")
    print("  target (activity engine)     1000.0 ms, 1024 MiB")


if __name__ == "__main__":
    main()
