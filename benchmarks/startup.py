"""Benchmark: a CLI command from a fresh process, as a user runs it.

`stpsim run examples/greater_manchester.yaml --draws 1000 --json`, median wall time over fresh
processes: with the derived-table cache warm (the usual case) and with it off (the first run
after installing or changing the data). Issue 10's target is under 0.6 s.

    .venv/bin/python benchmarks/startup.py [--repeats 9]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CMD = [
    str(Path(sys.executable).with_name("stpsim")),
    "run",
    "examples/greater_manchester.yaml",
    "--draws",
    "1000",
    "--json",
]


def once(env: dict) -> float:
    t = time.perf_counter()
    subprocess.run(CMD, cwd=ROOT, env=os.environ | env, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=9)
    args = ap.parse_args()
    cache = {"STPSIM_CACHE_DIR": tempfile.mkdtemp(), "STPSIM_CACHE": "1"}
    once(cache)  # fill the cache
    warm = [once(cache) for _ in range(args.repeats)]
    cold = [once({"STPSIM_CACHE": "0"}) for _ in range(args.repeats)]
    print(f"stpsim run GM --draws 1000 --json, fresh process, medians of {args.repeats}")
    print(f"  derived tables cached   {statistics.median(warm) * 1000:7.0f} ms   (target 600 ms)")
    print(f"  cache off               {statistics.median(cold) * 1000:7.0f} ms")


if __name__ == "__main__":
    main()
