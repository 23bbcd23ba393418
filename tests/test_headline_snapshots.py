"""Regression snapshots of the headline numbers users quote: England's do-nothing gap by year,
five footprints' gaps per head, Greater Manchester's gap and bridge, and the largest incentive
cells. A change to any of them must be on purpose: re-run with ``STPSIM_UPDATE_SNAPSHOTS=1``
(``STPSIM_UPDATE_SNAPSHOTS=1 ./run-tests tests/test_headline_snapshots.py``), check the diff of
``tests/snapshots/headline.json`` and give the reason in the commit message."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from stpsim import engine, plan, rollup

SNAPSHOT = Path(__file__).parent / "snapshots" / "headline.json"
DRAWS, SEED = 200, 1
FIVE = (
    "E54000007",
    "E54000036",
    "E54000027",
    "E54000005",
    "E54000029",
)  # GM, Cornwall, NW London, West Yorkshire, NE London


def _round(x: float) -> float:
    return float(f"{x:.6g}")  # six significant figures: far above noise, far below any real change


def headline() -> dict:
    r = rollup.rollup({}, DRAWS, SEED, executor="serial")
    gap = r.do_nothing_gap.sum(axis=0)
    per_head = r.do_nothing_gap[:, :, -1].mean(axis=1) / r.population[:, -1]
    gm = plan.load("examples/greater_manchester.yaml")
    gm = gm.model_copy(
        update={"monte_carlo": gm.monte_carlo.model_copy(update={"draws": DRAWS, "seed": SEED})}
    )
    res = engine.run(gm)
    fin = res.finance
    cells = sorted(((k, float(np.median(v))) for k, v in fin.incentives.items()), key=lambda kv: -abs(kv[1]))[
        :5
    ]
    return {
        "england_do_nothing_gap_mean": {str(y): _round(gap[:, t].mean()) for t, y in enumerate(r.years)},
        "england_do_nothing_gap_p10_p90_2020": [_round(np.percentile(gap[:, -1], q)) for q in (10, 90)],
        "gap_per_head_2020": {c: _round(per_head[r.codes.index(c)]) for c in FIVE},
        "greater_manchester": {
            "do_nothing_gap_2020": _round(fin.gap("do_nothing")[:, -1].mean()),
            "plan_gap_2020": _round(fin.gap("plan")[:, -1].mean()),
            "bridge_2020": {k: _round(v[:, -1].mean()) for k, v in fin.bridge("plan").items()},
        },
        "greater_manchester_top_incentive_cells_median": {"|".join(k): _round(v) for k, v in cells},
    }


def test_headline_numbers_match_their_snapshot():
    now = headline()
    if os.environ.get("STPSIM_UPDATE_SNAPSHOTS") == "1" or not SNAPSHOT.exists():
        SNAPSHOT.parent.mkdir(exist_ok=True)
        tmp = SNAPSHOT.with_suffix(".tmp")
        tmp.write_text(json.dumps(now, indent=2, sort_keys=True) + "\n")
        tmp.replace(SNAPSHOT)
        if os.environ.get("CI"):
            pytest.fail("the headline snapshot was missing on CI; it must be committed")
    saved = json.loads(SNAPSHOT.read_text())
    assert now == saved, "headline numbers moved: update the snapshot on purpose (see the module docstring)"
