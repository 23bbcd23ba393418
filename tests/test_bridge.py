"""Properties of a real footprint's books: the bridge lines add up to the gap, the plan's lines
are what they say, the incentive matrix does not depend on the reporting window, money is
conserved whatever the contracts, and the tornado puts the drivers of the gap in order."""

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from stpsim import engine, plan, sensitivity
from stpsim.contract_terms import PRESETS
from stpsim.finance import BRIDGE_LINES, PLAN_LINES

CORNWALL = "E54000036"
GREATER_MANCHESTER = "E54000007"
ATOL = 1e-3  # GBP


def cornwall(contracts="pbr", draws=30, seed=5, finance_extra=None, interventions=True, **extra):
    avoid = {
        "name": "admission_avoidance",
        "title": "Admission avoidance (test)",
        "delivered_by": "acute",
        "target": {"min_age": 75},
        "effects": {"emergency_admissions": {"low": 0.15, "high": 0.15}},
    }
    doc = {
        "name": "test",
        "footprints": [CORNWALL],
        "end_year": "2020/21",
        "monte_carlo": {"draws": draws, "seed": seed},
        "custom_interventions": [avoid],
        "interventions": (
            [{"name": "admission_avoidance", "coverage": 1.0, "ramp": {"2017/18": 1.0}}]
            if interventions
            else []
        ),
        "finance": {"contracts": contracts, **(finance_extra or {})},
        **extra,
    }
    return plan.validate(doc)


def books(p):
    _, fin = engine.plan_books(p, incentives=False)
    return fin


@pytest.fixture(scope="module")
def cornwall_books():
    return books(cornwall())


@pytest.fixture(scope="module")
def gm_books():
    p = plan.load("examples/greater_manchester.yaml")
    p = p.model_copy(update={"monte_carlo": p.monte_carlo.model_copy(update={"draws": 20})})
    assert p.footprints == [GREATER_MANCHESTER]
    return books(p)


@pytest.fixture(scope="module")
def no_efficiency_books():
    return books(cornwall(finance_extra={"provider_efficiency": {"low": 0, "high": 0}}))


@pytest.fixture(scope="module")
def no_care_model_books():
    return books(cornwall(interventions=False))


REAL_BOOKS = ["cornwall_books", "gm_books"]


@pytest.mark.parametrize("which", REAL_BOOKS)
def test_do_nothing_bridge_sums_to_the_do_nothing_gap(request, which):
    fin = request.getfixturevalue(which)
    lines = fin.bridge("do_nothing")
    assert tuple(lines) == BRIDGE_LINES
    gap = fin.gap("do_nothing")
    assert gap.shape[1] == 5 and np.isfinite(gap).all()
    total = sum(lines.values())
    assert total.shape == gap.shape
    # Every draw and year, to a tenth of a penny.
    assert np.allclose(total, gap, rtol=0, atol=ATOL), np.abs(total - gap).max()


@pytest.mark.parametrize("which", REAL_BOOKS)
def test_plan_bridge_sums_to_the_plan_gap(request, which):
    fin = request.getfixturevalue(which)
    lines = fin.bridge("plan")
    assert tuple(lines) == BRIDGE_LINES + PLAN_LINES
    total = sum(lines.values())
    assert np.allclose(total, fin.gap("plan"), rtol=0, atol=ATOL), np.abs(total - fin.gap("plan")).max()
    # The plan's bridge starts from the do-nothing lines, unchanged.
    dn = fin.bridge("do_nothing")
    for k in BRIDGE_LINES:
        assert np.array_equal(lines[k], dn[k]), k


@pytest.mark.parametrize("which", REAL_BOOKS)
def test_provider_efficiency_line_is_minus_the_efficiency_saving(request, which):
    fin = request.getfixturevalue(which)
    line = fin.bridge("plan")["provider_efficiency"]
    saving = fin.efficiency_saving()
    assert np.allclose(line, -saving, rtol=0, atol=ATOL)
    # The default plan assumes 1-3% a year (an 80% interval, so a draw may fall below zero):
    # nothing in 2016/17, a saving in later years that grows with the years elapsed.
    assert np.array_equal(saving[:, 0], np.zeros(saving.shape[0]))
    assert (saving[:, 1:] != 0).all()
    assert (saving[:, -1] > 0).mean() > 0.8
    assert (np.sign(saving[:, 1:]) == np.sign(saving[:, 1:2])).all()


def test_no_provider_efficiency_gives_a_zero_efficiency_line(no_efficiency_books):
    fin = no_efficiency_books
    assert np.array_equal(fin.efficiency_saving(), np.zeros_like(fin.efficiency_saving()))
    assert np.allclose(fin.bridge("plan")["provider_efficiency"], 0.0, rtol=0, atol=ATOL)
    # The care models still move the gap, and the lines still add up.
    total = sum(fin.bridge("plan").values())
    assert np.allclose(total, fin.gap("plan"), rtol=0, atol=ATOL)


def test_a_plan_without_care_models_has_a_zero_care_models_line(no_care_model_books):
    fin = no_care_model_books
    lines = fin.bridge("plan")
    assert np.allclose(lines["care_models"], 0.0, rtol=0, atol=ATOL), (
        "a plan with no care models saves only through provider efficiency",
        np.abs(lines["care_models"]).max(),
    )
    assert (lines["provider_efficiency"][:, 1:] != 0).all()
    assert np.allclose(
        fin.gap("plan") - fin.gap("do_nothing"), lines["provider_efficiency"], rtol=0, atol=ATOL
    )


def test_a_plan_with_care_models_has_a_nonzero_care_models_line(cornwall_books):
    # Admission avoidance from 2017/18: the care_models line is not identically zero, so the
    # test above can tell the difference.
    line = cornwall_books.bridge("plan")["care_models"]
    assert np.allclose(line[:, 0], 0.0, rtol=0, atol=ATOL), "nothing avoided in 2016/17"
    assert (np.abs(line[:, 1:]) > 1e5).all()


# ---- the incentive matrix and the reporting window ------------------------------------------


def test_incentive_matrix_matches_run_for_a_plan_starting_in_2018_19():
    with open("examples/cornwall.yaml") as f:
        doc = yaml.safe_load(f)
    doc["start_year"] = "2018/19"
    doc["monte_carlo"]["draws"] = 30
    p = plan.validate(doc)
    assert p.first_year == 2018
    matrix = engine.incentive_matrix(p)
    ran = engine.run(p).finance
    assert set(matrix.incentives) == set(ran.incentives)
    assert {k[0] for k in matrix.incentives} == {a.name for a in p.interventions}
    for key, gain in matrix.incentives.items():
        assert gain.shape == (30,)
        assert np.array_equal(gain, ran.incentives[key]), key
    # The books are cut to the same window as well.
    assert list(matrix.footprints[0].years) == [2018, 2019, 2020]
    assert np.array_equal(matrix.gap("plan"), ran.gap("plan"))


# ---- money is conserved, and the system total does not depend on the contracts -------------


@settings(max_examples=5, deadline=None)
@given(preset=st.sampled_from(PRESETS), seed=st.integers(0, 100_000))
def test_money_is_conserved_and_the_system_surplus_ignores_the_preset(preset, seed):
    draws = 20
    p = cornwall(preset, draws=draws, seed=seed)
    ref = cornwall("pbr", draws=draws, seed=seed)
    arrays = engine.run_block(p, [CORNWALL], range(draws))
    fin = engine.plan_finance(p, arrays, range(draws), incentives=False)
    pbr = engine.plan_finance(ref, arrays, range(draws), incentives=False)
    for b in fin.footprints + fin.do_nothing:
        received, paid = b.ledger.totals()
        assert np.allclose(received.sum(axis=0), paid.sum(axis=0), rtol=0, atol=ATOL)
        assert sum(m for *_, m in b.ledger.entries).shape == (draws, 5)
    for scenario in ("plan", "do_nothing"):
        assert np.allclose(fin.system_surplus(scenario), pbr.system_surplus(scenario), rtol=0, atol=1.0), (
            preset,
            scenario,
            np.abs(fin.system_surplus(scenario) - pbr.system_surplus(scenario)).max(),
        )


# ---- the tornado ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tornado():
    p = plan.load("examples/cornwall.yaml")
    return sensitivity.gap_drivers(p), sensitivity.central_gap(p)


def test_cost_inflation_moves_the_gap_up(tornado):
    rows, _ = tornado
    found = [r for r in rows if r["parameter"] == "assumption/cost_inflation"]
    assert len(found) == 1
    row = found[0]
    assert row["low"] != row["high"]
    assert row["high"] > row["low"], "higher pay and price inflation must give a bigger gap"


def test_drivers_are_sorted_by_swing(tornado):
    rows, _ = tornado
    swings = [abs(r["high"] - r["low"]) for r in rows]
    assert len(rows) > 10
    assert swings == sorted(swings, reverse=True)
    assert len({r["parameter"] for r in rows}) == len(rows)


def test_central_gap_lies_between_the_top_drivers_low_and_high(tornado):
    rows, centre = tornado
    top = rows[0]
    assert min(top["low"], top["high"]) < centre < max(top["low"], top["high"]), (top, centre)
