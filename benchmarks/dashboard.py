"""Benchmark: what the dashboard asks for as a user works (issue 11).

- A slider change: Greater Manchester's plan with one care model's coverage moved, previewed at
  1,000 draws (run without the incentive matrix and the gap drivers), warm.
- England re-summed when Greater Manchester's plan changes, the other 43 footprints' do-nothing
  books cached.
- The incentive matrix, computed only when shown.

Medians over the repeats; targets: slider under 150 ms, England under 300 ms.

    .venv/bin/python benchmarks/dashboard.py [--repeats 9]
"""

from __future__ import annotations

import argparse
import statistics
import time

from stpsim.engine import incentive_matrix
from stpsim.plan import load
from stpsim.service.preview import england, preview


def timed(f) -> float:
    t = time.perf_counter()
    f()
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=9)
    args = ap.parse_args()
    gm = load("examples/greater_manchester.yaml")
    gm = gm.model_copy(update={"monte_carlo": gm.monte_carlo.model_copy(update={"draws": 1000})})

    def moved(coverage: float):
        first = gm.interventions[0].model_copy(update={"coverage": coverage})
        return gm.model_copy(update={"interventions": [first, *gm.interventions[1:]]})

    preview(moved(0.5))  # warm: population, rates and random blocks
    t = time.perf_counter()
    england({"E54000007": gm})
    first_england = time.perf_counter() - t
    slider = [timed(lambda c=c: preview(moved(c))) for c in [0.1 * (i % 9 + 1) for i in range(args.repeats)]]
    resum = [
        timed(lambda c=c: england({"E54000007": moved(c)}))
        for c in [0.1 * (i % 9 + 1) for i in range(args.repeats)]
    ]
    matrix = [timed(lambda: incentive_matrix(moved(0.5))) for _ in range(max(3, args.repeats // 3))]
    print(f"dashboard, Greater Manchester, 1,000 draws, medians of {args.repeats}")
    print(f"  slider change (preview, no matrix)   {statistics.median(slider) * 1000:7.1f} ms   target 150")
    print(f"  England re-summed, one plan changed  {statistics.median(resum) * 1000:7.1f} ms   target 300")
    print(
        f"  (first England sum, all 44 do-nothing books   {first_england * 1000:7.1f} ms, once per process)"
    )
    print(f"  incentive matrix, when shown                  {statistics.median(matrix) * 1000:7.1f} ms")


if __name__ == "__main__":
    main()
