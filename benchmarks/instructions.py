"""Benchmark: instructions a warm run takes, counted by valgrind's callgrind: repeatable to a
fraction of a percent whatever else the machine is doing, where its wall-clock times drift by a
third over a day. Greater Manchester, 2016/17 to 2020/21, 1,000 draws, every library care model
at 80% (as ``run_plan.py``).

For each measure, two processes run the plan once to warm up and then K = 1 and K = 4 more
times under callgrind; the difference divided by three is one warm run's instructions, the
imports and the warm-up cancelling out. numpy's vector instructions count one each, so memory
traffic is not seen: read it beside ``run_plan.py``'s times.

    .venv/bin/python benchmarks/instructions.py [--draws 1000]

Needs valgrind (Debian's package); takes about three minutes.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import sys
from stpsim import engine, plan
from stpsim.interventions import library
p = plan.validate({"name": "bench", "footprints": ["E54000007"], "end_year": "2020/21",
                   "monte_carlo": {"draws": int(sys.argv[3]), "seed": 1},
                   "interventions": [{"name": n, "coverage": 0.8} for n in library()]})
engine.run(p, incentives=sys.argv[2] == "full")
for _ in range(int(sys.argv[1])):
    engine.run(p, incentives=sys.argv[2] == "full")
"""


def instructions(runs: int, measure: str, draws: int, folder: Path) -> int:
    """Instructions of one process that runs the plan ``runs`` more times after its warm-up."""
    out = folder / f"{measure}-{runs}.out"
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable, "-c", CHILD]
        + [str(runs), measure, str(draws)],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(re.search(r"Collected : (\d+)", done.stderr).group(1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--draws", type=int, default=1000)
    args = ap.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (Debian: apt-get install valgrind)")
    folder = Path(tempfile.mkdtemp())
    subprocess.run([sys.executable, "-c", CHILD, "0", "full", str(args.draws)], check=True)  # fill caches
    out = {}
    for measure in ("full", "finance"):
        one, four = (instructions(k, measure, args.draws, folder) for k in (1, 4))
        out[f"{measure}_instructions_m"] = round((four - one) / 3 / 1e6, 1)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
