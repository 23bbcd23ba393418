"""Benchmark: the baseline for all 44 footprints with --by age.

Each repeat runs in a fresh process so the cold figure includes reading the shipped tables,
fitting the footprints and projecting them; the warm figure is a repeat call in the same process.
Reports medians over repeats and peak resident memory.

    .venv/bin/python benchmarks/baseline.py [--repeats 7] [--year 2020]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
from stpsim.baseline import baseline
t1 = time.perf_counter()
year = int(sys.argv[1])
baseline(year, by_age=True).to_dict()
t2 = time.perf_counter()
warm = []
for _ in range(20):
    s = time.perf_counter()
    baseline(year, by_age=True).to_dict()
    warm.append(time.perf_counter() - s)
warm.sort()
print(json.dumps({"import": t1 - t0, "cold": t2 - t1, "warm": warm[len(warm) // 2],
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--year", type=int, default=2020)
    args = ap.parse_args()
    runs = []
    for _ in range(args.repeats):
        proc = subprocess.run(
            [sys.executable, "-c", CHILD, str(args.year)], capture_output=True, text=True, check=True
        )
        runs.append(json.loads(proc.stdout))
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    print(
        f"baseline, all 44 footprints, --by age, year {args.year}, {args.repeats} fresh processes (medians)"
    )
    print(f"  import stpsim           {med['import'] * 1000:8.1f} ms")
    print(f"  first baseline (cold)   {med['cold'] * 1000:8.1f} ms   reads tables, fits, projects to 2035")
    print(f"  repeat baseline (warm)  {med['warm'] * 1000:8.1f} ms")
    print(f"  peak resident memory    {med['peak_rss_mib']:8.1f} MiB (whole process)")
    print(f"  cold / warm ratio       {med['cold'] / med['warm']:8.1f}x")


if __name__ == "__main__":
    main()
