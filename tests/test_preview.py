"""Dashboard previews give the same numbers as the full runs they stand for (issue 11)."""

import numpy as np
import pytest

from stpsim import engine, rollup
from stpsim.plan import load
from stpsim.service.preview import england, preview


def _gm(draws=40):
    gm = load("examples/greater_manchester.yaml")
    return gm.model_copy(update={"monte_carlo": gm.monte_carlo.model_copy(update={"draws": draws})})


def test_a_preview_is_the_run_without_the_incentive_matrix():
    gm = _gm()
    doc = preview(gm)
    full = engine.run(gm, incentives=False).to_dict()
    assert doc.finance.model_dump() == full["finance"]
    assert doc.model_dump()["activity"] == full["activity"]
    assert doc.incentives == [] and doc.gap_drivers == []


def test_england_re_summed_with_one_plan_equals_the_roll_up():
    gm = _gm(draws=20)
    quick = england({"E54000007": gm}, draws=20, seed=3)
    full = rollup.rollup({"E54000007": ("gm", gm)}, 20, 3, executor="serial")
    gap = full.plan_gap.sum(axis=0)[:, -1]
    assert quick["england_gap"]["mean"] == pytest.approx(float(gap.mean()), rel=1e-12)
    f = full.codes.index("E54000007")
    per_head = full.plan_gap[f, :, -1].mean() / full.population[f, -1]
    row = next(r for r in quick["footprints"] if r["code"] == "E54000007")
    assert row["planned"] is True
    assert row["gap_per_head"] == pytest.approx(float(per_head), rel=1e-12)
    others = [r for r in quick["footprints"] if r["code"] != "E54000007"]
    assert all(r["gap_per_head"] == r["do_nothing_gap_per_head"] for r in others)
    assert np.isfinite([r["gap_per_head"] for r in quick["footprints"]]).all()
