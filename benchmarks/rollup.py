"""Benchmark: the national roll-up (all 44 footprints, 2016/17-2020/21, 1000 draws; the three
example plans, do-nothing elsewhere), on each executor, plus the speed of the cell engine against
the person-by-person reference model on a footprint-sized population.

    .venv/bin/python benchmarks/rollup.py [--repeats 3] [--draws 1000] [--skip-person]

Each timing is the median of repeated runs in a fresh process (so the cold start counts);
peak memory is the largest resident set of the parent and of any worker process.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, resource, sys, time
from stpsim import rollup
executor, draws = sys.argv[1], int(sys.argv[2])
plans = rollup.load_plans(sys.argv[3])
kw = {}
cluster = None
if executor == "dask":
    from distributed import LocalCluster
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    kw = {"scheduler": cluster.scheduler_address}
t = time.perf_counter()
r = rollup.rollup(plans, draws, 1, executor=executor, workers=2, **kw)
elapsed = time.perf_counter() - t
gap = r.to_dict()["england"]["do_nothing_gap"]["2020/21"]
if cluster is not None:
    cluster.close()
print(json.dumps({"seconds": elapsed, "gap": gap,
                  "rss_parent": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "rss_child": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""

PERSON = r"""
import json, sys, time
import numpy as np
sys.path.insert(0, sys.argv[1])
from tests.reference_person_model import expand, simulate
from stpsim import activity, engine, frailty, plan, population
_, cells = population.footprint_base()
gm = cells[2]  # Greater Manchester, 2.8m people
rng = np.random.default_rng(1)
sex, age, seg = expand(gm, rng)
dyn = frailty.dynamics()
rates = activity.rates().rates
t = time.perf_counter()
simulate(sex, age, seg, dyn.death, dyn.transition, rates, 5, 1, rng)
person = time.perf_counter() - t
p = plan.validate({"name": "b", "footprints": ["E54000007"], "monte_carlo": {"draws": 1000}})
engine.run_block(p, ["E54000007"], range(1000))
t = time.perf_counter()
engine.run_block(p, ["E54000007"], range(1000))
cell = (time.perf_counter() - t) / 1000
t = time.perf_counter()
population.project(cells, 2020)  # the cell model's projection, all 44 footprints
engine.run_block(p, ["E54000007"], range(1))
single = time.perf_counter() - t
print(json.dumps({"people": int(sex.size), "person_seconds_per_draw": person, "cell_seconds_per_draw": cell,
                  "cell_single_with_projection": single}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--skip-person", action="store_true")
    args = ap.parse_args()
    plans = str(ROOT / "examples" / "rollup")
    print(
        f"roll-up: 44 footprints, 5 years, {args.draws} draws (3 plans, do-nothing elsewhere); "
        f"medians of {args.repeats} fresh processes"
    )
    medians = {}
    for executor in ("serial", "local", "dask"):
        runs = []
        for _ in range(args.repeats):
            proc = subprocess.run(
                [sys.executable, "-c", CHILD, executor, str(args.draws), plans],
                capture_output=True,
                text=True,
                check=True,
            )
            runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        secs = statistics.median(r["seconds"] for r in runs)
        medians[executor] = secs
        rss = max(max(r["rss_parent"], r["rss_child"]) for r in runs)
        g = runs[0]["gap"]
        print(
            f"  {executor:7s} {secs:7.2f} s   peak RSS {rss:7.1f} MiB   do-nothing gap 2020/21 "
            f"GBP {g['mean'] / 1e9:.2f}bn ({g['p10'] / 1e9:.2f} to {g['p90'] / 1e9:.2f})"
        )
    print(
        f"  Dask LocalCluster overhead over local processes: {medians['dask'] - medians['local']:+.2f} s "
        f"({medians['dask'] / medians['local']:.2f}x); local speed-up over serial: "
        f"{medians['serial'] / medians['local']:.2f}x"
    )
    print("  target: under 20 s and 2 GiB")
    if not args.skip_person:
        proc = subprocess.run(
            [sys.executable, "-c", PERSON, str(ROOT)], capture_output=True, text=True, check=True
        )
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        ratio = r["person_seconds_per_draw"] / r["cell_seconds_per_draw"]
        print(
            f"person-by-person reference, Greater Manchester ({r['people']:,} people, 5 years, 14 settings):"
        )
        print(
            f"  person model {r['person_seconds_per_draw']:.2f} s per draw; cell engine "
            f"{r['cell_seconds_per_draw'] * 1000:.3f} ms per draw (1000-draw batch): {ratio:,.0f}x faster"
        )
        one = r["person_seconds_per_draw"] / r["cell_single_with_projection"]
        print(
            "  one draw including the cell model's whole projection of all 44 footprints: "
            f"{r['cell_single_with_projection'] * 1000:.1f} ms, {one:,.0f}x faster"
        )


if __name__ == "__main__":
    main()
