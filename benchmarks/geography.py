"""Benchmark: footprints drawn from small areas, local data, shoe size and the ICB roll-up.

In one warm process (after a first call has filled the caches), medians of repeated calls:

- drawing Greater Manchester from its ten CCGs (names resolved, LSOAs gathered, trusts weighted);
- projecting one footprint's population 2016..2035 against England;
- a Greater Manchester plan run with all five local tables against the same plan without them;
- shoe-size for Greater Manchester split by CCG (the whole and ten parts, with incentives);
- the do-nothing roll-up of the 42 ICBs against the 44 STPs (serial, one process).

    .venv/bin/python benchmarks/geography.py [--repeats 5] [--draws 1000]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path


def median_of(fn, repeats: int) -> float:
    fn()  # warm the caches
    xs = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        xs.append(time.perf_counter() - t)
    return statistics.median(xs)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--draws", type=int, default=1000)
    args = ap.parse_args()

    from stpsim import baseline, engine, geography, plan
    from stpsim.baseline import projection_of
    from stpsim.interventions import library
    from stpsim.local_data import write_template
    from stpsim.rollup import rollup
    from stpsim.service.shoe_size import shoe_size

    gm = geography.find("E54000007")
    ccgs = [c.code for c in gm.ccgs]
    doc = {
        "name": "bench",
        "footprints": ["E54000007"],
        "end_year": "2020/21",
        "monte_carlo": {"draws": args.draws, "seed": 1},
        "interventions": [{"name": n, "coverage": 0.8} for n in library()],
    }
    folder = Path(tempfile.mkdtemp())
    write_template(gm, folder)
    local = {
        **doc,
        "data": {
            t: str(folder / f"{t}.csv")
            for t in ("population", "activity", "unit_costs", "organisations", "allocations")
        },
    }
    national_plan = plan.validate(doc)

    def local_run():
        # validated afresh each time: reading and checking the five tables is part of the cost
        engine.run(plan.validate(local, base_dir=folder))

    results = {
        "draw GM from its CCGs": median_of(lambda: geography.custom("GM", ccgs=ccgs), args.repeats),
        "project one footprint 2016-2035": median_of(
            lambda: (baseline._projection_of.cache_clear(), projection_of([gm])), args.repeats
        ),
        "GM run, national defaults": median_of(lambda: engine.run(national_plan), args.repeats),
        "GM run, five local tables": median_of(local_run, args.repeats),
        "shoe-size GM by CCG": median_of(lambda: shoe_size(national_plan, "ccg"), max(1, args.repeats // 2)),
        "roll-up, 44 STPs (serial)": median_of(lambda: rollup({}, args.draws, 1, 2020, "serial"), 1),
        "roll-up, 42 ICBs (serial)": median_of(
            lambda: rollup({}, args.draws, 1, 2020, "serial", geography_="icb2022"), 1
        ),
    }
    for k, v in results.items():
        print(f"{k:<36} {v * 1000:>10.1f} ms (median)")
    ratio = results["GM run, five local tables"] / results["GM run, national defaults"]
    print(f"local / national run: {ratio:.2f}x")


if __name__ == "__main__":
    main()
