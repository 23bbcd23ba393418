"""Benchmark: the track record of England (issue 22) against the roll-up it reads.

England's do-nothing roll-up to 2020/21 (44 footprints, 1,000 draws, two local worker processes)
and, in the same fresh process, the track record from it: the backtest table and summaries, the
calibration (importance weights, the parameters history moved, the reweighted table and fans), the
2019/20 hold-out and the 2020/21 gap before and after. Medians over fresh processes:

- ``rollup_ms``: the roll-up alone;
- ``document_ms``: everything the backtest and the calibration add to it (nothing rerun);
- ``backtest_ms``: both, as `stpsim backtest --calibrate` computes them (its first run);
- ``backtest_over_rollup``: the issue asks the backtest and the calibration each to take under
  twice a roll-up; they are one computation here (the calibration is the weights on top), so
  this one ratio is both.

    .venv/bin/python benchmarks/backtest.py [--repeats 5] [--draws 1000] [--json]
"""

from __future__ import annotations

from fresh import arguments, medians, show  # benchmarks/fresh.py: the script's own folder is on the path

CHILD = r"""
import json, sys, time
from stpsim.rollup import rollup
from stpsim.service import track_record
draws = int(sys.argv[1])
t = time.perf_counter()
r = rollup({}, draws, 0, track_record.LAST_YEAR, executor="local", workers=2)
roll = time.perf_counter() - t
t = time.perf_counter()
doc = track_record.document(r, track_record.CALIBRATION_YEARS)
document = time.perf_counter() - t
print(json.dumps({"rollup_ms": roll * 1000, "document_ms": document * 1000,
                  "backtest_ms": (roll + document) * 1000,
                  "effective_draws": doc["calibration"]["effective_draws"]}))
"""


def main() -> None:
    args = arguments(__doc__).parse_args()
    med = medians(CHILD, [str(args.draws)], args.repeats)
    med["backtest_over_rollup"] = round(med["backtest_ms"] / med["rollup_ms"], 2)
    heading = (
        f"track record: England, 2016/17 to 2020/21, {args.draws} draws ({args.repeats} fresh processes)"
    )
    show(med, args.json, heading)


if __name__ == "__main__":
    main()
