"""Benchmark: one footprint's plan, computed once into a record and read back.

Greater Manchester, 2016/17 to 2020/21, 1,000 draws, every library care model at 80% coverage.
Medians over fresh processes (each warm-runs several times after a first, cold run):

- ``activity_ms``: activity and capacity, plan and do-nothing, all draws (the engine's core);
- ``finance_ms``: a run with every organisation's books (no incentive matrix);
- ``full_ms``: the full engine run with the incentive matrix (one pass per care model);
- ``record_ms``: the run record as `stpsim run` makes it (the full run plus the analyses:
  service change, gap drivers, workforce, payback);
- ``cli_ms``: `stpsim run examples/greater_manchester.yaml --json` from a fresh process (the
  derived-table cache warm, as after the first run);
- ``report_from_result_ms``: the board report (HTML) from a saved record, in process: load the
  record and write the report, nothing rerun;
- ``report_cli_ms``: `stpsim report --result RECORD -o FILE --force` from a fresh process (the
  record saved by `stpsim run ... --save`, the derived-table cache warm).

    .venv/bin/python benchmarks/run_plan.py [--repeats 5] [--draws 1000] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from fresh import medians  # benchmarks/fresh.py: the script's own folder is on the path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, resource, sys, tempfile, time
from pathlib import Path
from stpsim import engine, plan
from stpsim.interventions import library
from stpsim.record import RunRecord
from stpsim.service.compute import report, run_plan
draws = int(sys.argv[1])
p = plan.validate({"name": "bench", "footprints": ["E54000007"], "end_year": "2020/21",
                   "monte_carlo": {"draws": draws, "seed": 1},
                   "interventions": [{"name": n, "coverage": 0.8} for n in library()]})
t = time.perf_counter(); engine.run(p); cold = time.perf_counter() - t
def med(f, n=5):
    xs = []
    for _ in range(n):
        t = time.perf_counter(); f(); xs.append(time.perf_counter() - t)
    return sorted(xs)[len(xs) // 2] * 1000
D = range(draws)
def activity_only():
    x = engine.parameter_draws(p, D)
    a = engine.run_block(p, ["E54000007"], D, x)
    engine.capacity(a.activity, x)
    engine.capacity(a.do_nothing, x)
folder = Path(tempfile.mkdtemp())
run_plan(p).save(folder / "gm.stpsim")
def report_from_result():
    report([RunRecord.load(folder / "gm.stpsim")], folder / "gm.html", "board", "html")
print(json.dumps({"cold_ms": cold * 1000, "activity_ms": med(activity_only),
                  "finance_ms": med(lambda: engine.run(p, incentives=False)),
                  "full_ms": med(lambda: engine.run(p)),
                  "record_ms": med(lambda: run_plan(p)),
                  "report_from_result_ms": med(report_from_result),
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def cli_once(env: dict, *args: str) -> float:
    """Milliseconds of one ``stpsim ARGS`` process (default: the example plan's run as JSON)."""
    args = args or ("run", "examples/greater_manchester.yaml", "--json")
    cmd = [str(Path(sys.executable).with_name("stpsim")), *args]
    t = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, env=os.environ | env, stdout=subprocess.DEVNULL, check=True)
    return (time.perf_counter() - t) * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--json", action="store_true", help="print one JSON document of the medians")
    args = ap.parse_args()
    med = medians(CHILD, [str(args.draws)], args.repeats)
    cache = {"STPSIM_CACHE_DIR": tempfile.mkdtemp(), "STPSIM_CACHE": "1"}
    cli_once(cache)  # fill the derived-table cache
    med["cli_ms"] = round(statistics.median(cli_once(cache) for _ in range(args.repeats)), 1)
    folder = Path(cache["STPSIM_CACHE_DIR"])
    cli_once(cache, "run", "examples/greater_manchester.yaml", "--save", str(folder / "gm.stpsim"))
    report = ("report", "--result", str(folder / "gm.stpsim"), "-o", str(folder / "gm.html"), "--force")
    cli_once(cache, *report)  # its derived tables cached, as after a first report
    med["report_cli_ms"] = round(statistics.median(cli_once(cache, *report) for _ in range(args.repeats)), 1)
    med["full_over_activity"] = round(med["full_ms"] / med["activity_ms"], 2)
    med["report_over_record"] = round(med["report_from_result_ms"] / med["record_ms"], 2)
    if args.json:
        print(json.dumps(med, indent=2))
        return
    print(f"run plan: Greater Manchester, 5 years, {args.draws} draws, all 10 library care models")
    print(f"({args.repeats} fresh processes; medians)")
    for k, v in med.items():
        print(f"  {k:<24} {v:10.2f}")


if __name__ == "__main__":
    main()
