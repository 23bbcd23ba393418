"""The inputs of the books worked by hand: England's allocations after the published years, the
finance parameters' ranges and units, the 2016/17 deficit, the cost indices and the accounts'
own arithmetic (issue 24, item 5: the mutation test of finance/ found each of these reached by
no test, or reached without its result being checked)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from stpsim import plan
from stpsim.contract_terms import FinanceOptions
from stpsim.finance import care_model_costs, finance_parameters
from stpsim.finance.allocations import funded_need, national_allocation, need_weighted
from stpsim.finance.ledger import BRIDGE_LINES, CareModelCosts, FootprintFinance, Ledger, PlanFinance
from stpsim.finance.params import finance_parameter_list
from stpsim.finance.provider_costs import ActivityValues, do_nothing_cost, plan_adjustment, ward_release
from stpsim.finance.starting import central_underlying_deficit
from stpsim.footprint import find
from stpsim.organisations import Organisation
from stpsim.parameters import Registry
from stpsim.run_parameters import declare

# ---- allocations -----------------------------------------------------------------------------


def test_englands_allocations_grow_from_the_last_published_year():
    # NHS England's CCG allocations: GBP 76.469bn in 2019/20, 79.374bn in 2020/21 (the last
    # published year); later years grow by the drawn rate, here 3% and 0%.
    years = np.array([2019, 2020, 2021, 2023])
    got = national_allocation("CCGs", years, np.array([0.03, 0.0]))
    np.testing.assert_allclose(
        got,
        [
            [76.469e9, 79.374e9, 79.374e9 * 1.03, 79.374e9 * 1.03**3],
            [76.469e9, 79.374e9, 79.374e9, 79.374e9],
        ],
        rtol=1e-12,
    )


def test_an_areas_need_kept_for_the_run_cannot_be_changed_by_a_caller():
    lsoas = find("E54000036").lsoas
    for kept in (need_weighted(lsoas), funded_need(lsoas)):
        with pytest.raises(ValueError, match="read-only"):
            kept[0] = 0.0
    np.testing.assert_array_equal(need_weighted(lsoas), need_weighted(lsoas.copy()))


# ---- the finance parameters: ranges and units --------------------------------------------------

SHARES = (
    "cquin_achievement",
    "out_of_area_share",
    "marginal_cost_share_acute",
    "marginal_cost_share_community",
    "marginal_cost_share_mental_health",
    "marginal_cost_share_primary_care",
    "marginal_cost_share_social_care",
    "semi_fixed_share_acute",
    "social_care_labour_share",
    "starting_deficit_weight_on_loans",
)


def extreme_draws(options: FinanceOptions):
    """Every finance parameter at -50, 0 and +50 standard deviations from its centre."""
    reg = Registry(finance_parameter_list(options))
    z = {p.id: np.array([-50.0, 0.0, 50.0]) for p in reg}
    return reg.draw(1, range(3), z=z)


def test_every_drawn_share_stays_within_0_and_1():
    d = extreme_draws(FinanceOptions())
    for name in SHARES:
        low, _, high = d[f"assumption/{name}"]
        assert (low, high) == (0.0, 1.0), name


def test_drawn_quantities_that_cannot_be_negative_stop_at_their_floor():
    d = extreme_draws(FinanceOptions())
    floors = {
        "beds_per_ward": 1.0,  # a ward has at least one bed
        "mental_health_share_of_ccg_allocation": 0.0,
        "social_care_market_gap_2016_17": 0.0,
        "provider_one_off_savings_2016_17": 0.0,
        "provider_accounting_changes_2016_17": 0.0,
    }
    for name, floor in floors.items():
        assert d[f"assumption/{name}"][0] == floor, name
        assert d[f"assumption/{name}"][2] > floor, name


def test_the_drawn_efficiency_and_mret_baseline_keep_to_their_allowed_ranges():
    d = extreme_draws(FinanceOptions())
    # Provider efficiency: -5% to 10% a year, the range a plan may give (docs/finance.md).
    assert d["assumption/provider_efficiency_achieved"].tolist() == [-5.0, 2.0, 10.0]
    # 2008/09's emergency activity is between half and all of 2016/17's.
    low, _, high = d["assumption/mret_baseline_ratio_2008_09"]
    assert (low, high) == (0.5, 1.0)
    # A plan's own interval for a share or for efficiency is held to the same ranges.
    own = extreme_draws(
        FinanceOptions(
            semi_fixed_share_acute={"low": 0.9, "high": 1.0},
            provider_efficiency={"low": 9.0, "high": 10.0},
        )
    )
    assert own["assumption/semi_fixed_share_acute"].tolist() == [0.0, pytest.approx(0.95, rel=1e-12), 1.0]
    assert own["assumption/provider_efficiency_achieved"].tolist() == [-5.0, 9.5, 10.0]


def test_money_assumptions_are_drawn_in_pounds():
    """Central draws are the middle of each 80% range: the social care market gap GBP 0.8-1.6bn,
    the providers' one-off savings GBP 0.6-1.0bn and accounting changes GBP 0.2-0.4bn."""
    d = extreme_draws(FinanceOptions())
    central = {
        "social_care_market_gap_2016_17": 1.2e9,
        "provider_one_off_savings_2016_17": 0.8e9,
        "provider_accounting_changes_2016_17": 0.3e9,
    }
    for name, gbp in central.items():
        assert d[f"assumption/{name}"][1] == pytest.approx(gbp, rel=1e-12), name


def test_englands_underlying_deficit_at_the_central_assumptions():
    # GBP 791m reported deficit + GBP 1.8bn STF + 0.8bn one-off savings + 0.3bn accounting
    # changes = GBP 3.691bn (docs/finance.md, "The 2016/17 starting position").
    assert central_underlying_deficit() == pytest.approx(3.691e9, rel=1e-12)


# ---- care models: a plan with none -------------------------------------------------------------


def test_a_plan_with_no_care_models_has_empty_costs_of_the_right_shape():
    p = plan.validate({"name": "t", "footprints": ["E54000036"], "monte_carlo": {"draws": 3, "seed": 1}})
    params = finance_parameters(declare(p).draw(1, range(3)))
    years = np.arange(2016, 2021)
    cm = care_model_costs([], np.zeros((3, 1, 0)), 0, years, params)
    assert cm.names == () and cm.bearer == () and cm.part_of_efficiency == ()
    for arr in (cm.cost, cm.investment, cm.running):
        assert arr.shape == (0, 3, 5)
    cut = cm.sliced(2)
    assert cut.cost.shape == cut.investment.shape == cut.running.shape == (0, 3, 3)


# ---- provider costs: the indices, worked by hand ------------------------------------------------


def test_do_nothing_cost_is_base_cost_times_the_indices_and_nothing_for_no_activity():
    # Draw 1: valued activity 100 in 2016/17; demography alone 110 in 2017/18 (D = 1.1), the
    # activity 121 (N = 1.1), with real unit-cost growth 127.05 (R = 1.05); prices P = 1.02.
    # Cost 1,000 x 1.1 x 1.1 x 1.05 x 1.02 = 1,295.91; lines 100, 110, 60.5 and 25.41.
    # Draw 0: a provider with no activity at all: no cost, no lines, no 0/0.
    v = ActivityValues(
        base=np.array([0.0, 100.0]),
        demographic=np.array([[0.0, 0.0], [100.0, 110.0]]),
        actual=np.array([[0.0, 0.0], [100.0, 121.0]]),
        real=np.array([[0.0, 0.0], [100.0, 127.05]]),
    )
    with np.errstate(all="raise"):
        cost, lines = do_nothing_cost(np.array([0.0, 1000.0]), v, np.array([[1.0, 1.02]]))
    np.testing.assert_allclose(cost, [[0.0, 0.0], [1000.0, 1295.91]], rtol=1e-12)
    expected = {
        "demography": [0.0, 100.0],
        "other_demand_growth": [0.0, 110.0],
        "real_unit_cost_growth": [0.0, 60.5],
        "pay_and_prices": [0.0, 25.41],
    }
    for line, values in expected.items():
        np.testing.assert_allclose(lines[line][1], values, rtol=1e-12, atol=1e-12, err_msg=line)
        np.testing.assert_array_equal(lines[line][0], [0.0, 0.0])


def test_avoided_work_saves_its_marginal_share_and_added_work_costs_the_average():
    # Draw 1: GBP 1,000 of cost for 500 of valued activity (GBP 2 of cost per unit of value),
    # prices 1.02 in 2017/18. Avoiding 50 saves 40% of 2 x 1.02 x 50 = 40.80; adding 50 costs
    # the whole 2 x 1.02 x 50 = 102. Draw 0: a provider with no activity changes nothing.
    with np.errstate(all="raise"):
        avoided = plan_adjustment(
            np.array([0.0, 1000.0]),
            np.array([0.0, 500.0]),
            np.array([[0.0, 0.0], [500.0, 600.0]]),
            np.array([[0.0, 0.0], [500.0, 550.0]]),
            np.array([0.4, 0.4]),
            np.array([[1.0, 1.02]]),
        )
        added = plan_adjustment(
            np.array([0.0, 1000.0]),
            np.array([0.0, 500.0]),
            np.array([[0.0, 0.0], [500.0, 600.0]]),
            np.array([[0.0, 0.0], [500.0, 650.0]]),
            np.array([0.4, 0.4]),
            np.array([[1.0, 1.02]]),
        )
    np.testing.assert_allclose(avoided, [[0.0, 0.0], [0.0, -40.8]], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(added, [[0.0, 0.0], [0.0, 102.0]], rtol=1e-12, atol=1e-12)


def test_wards_never_opened_save_their_semi_fixed_cost():
    # 25 beds a ward. Draw 1: the do-nothing needs 100 then 130 beds (4 then 6 wards), the plan
    # 100 (4 wards): a third of 2017/18's wards are never opened, saving (1 - 40%) x 35% x a
    # third of the GBP 1,200 do-nothing cost = 84. Draw 0: a trust with no beds saves nothing.
    params = SimpleNamespace(
        beds_per_ward=np.array([25.0, 25.0]),
        marginal={"acute": np.array([0.4, 0.4])},
        semi_fixed_acute=np.array([0.35, 0.35]),
    )
    with np.errstate(all="raise"):
        saved = ward_release(
            np.array([[0.0, 0.0], [1000.0, 1200.0]]),
            np.array([[0.0, 0.0], [100.0, 130.0]]),
            np.array([[0.0, 0.0], [100.0, 100.0]]),
            params,
            close_surplus=False,
            lag=1,
        )
    np.testing.assert_allclose(saved, [[0.0, 0.0], [0.0, 84.0]], rtol=1e-12, atol=1e-12)


# ---- the accounts ----------------------------------------------------------------------------------

ORGS = [
    Organisation("commissioner", "Commissioners", "commissioner"),
    Organisation("acute:X", "A trust", "acute"),
    Organisation("nhs_england", "NHS England", "external"),
]


def test_a_ledger_keeps_every_payment_between_two_parties_and_slices_by_year():
    ledger = Ledger(ORGS, (2, 3))
    ledger.pay(
        "nhs_england", "commissioner", "allocation", np.array([[10.0, 11.0, 12.0], [10.0, 11.5, 13.0]])
    )
    ledger.pay("commissioner", "acute:X", "contract", 7.0)  # a sum broadcast to every draw and year
    ledger.pay("acute:X", "acute:X", "to itself", 5.0)  # no payment at all
    assert [e[:3] for e in ledger.entries] == [
        ("nhs_england", "commissioner", "allocation"),
        ("commissioner", "acute:X", "contract"),
    ]
    received, paid = ledger.totals()
    np.testing.assert_array_equal(received[1], np.full((2, 3), 7.0))
    np.testing.assert_array_equal(paid[0], np.full((2, 3), 7.0))
    np.testing.assert_array_equal(received.sum(axis=0), paid.sum(axis=0))
    cut = ledger.sliced(1)
    assert cut.orgs is ORGS and cut.shape == (2, 2)
    assert [e[:3] for e in cut.entries] == [e[:3] for e in ledger.entries]
    np.testing.assert_array_equal(cut.entries[0][3], [[11.0, 12.0], [11.5, 13.0]])
    np.testing.assert_array_equal(cut.totals()[0], received[:, :, 1:])


def _footprint(offset: float) -> FootprintFinance:
    years = np.arange(2016, 2019)
    income = np.arange(18, dtype=float).reshape(3, 2, 3) + offset
    own = np.ones((3, 2, 3))
    ledger = Ledger(ORGS, (2, 3))
    ledger.pay("nhs_england", "commissioner", "allocation", income[0])
    return FootprintFinance(
        code="X",
        orgs=ORGS,
        years=years,
        income=income,
        expenditure=own + 1.0,
        own_costs=own,
        ledger=ledger,
        bridge={k: np.full((2, 3), 5.0 if k == "starting_deficit" else 0.0) for k in BRIDGE_LINES},
        efficiency_saving=np.full((2, 3), offset),
    )


def test_footprint_books_cut_to_a_later_window_keep_every_part_from_that_year():
    b = _footprint(0.0)
    cut = b.sliced(1)
    assert cut.years.tolist() == [2017, 2018]
    np.testing.assert_array_equal(cut.income, b.income[:, :, 1:])
    np.testing.assert_array_equal(cut.expenditure, b.expenditure[:, :, 1:])
    np.testing.assert_array_equal(cut.own_costs, b.own_costs[:, :, 1:])
    assert cut.ledger.shape == (2, 2)
    np.testing.assert_array_equal(cut.ledger.entries[0][3], b.income[0][:, 1:])
    np.testing.assert_array_equal(cut.bridge["starting_deficit"], np.full((2, 2), 5.0))
    np.testing.assert_array_equal(cut.system_surplus, b.system_surplus[:, 1:])


def test_care_model_costs_cut_to_a_later_window_keep_what_they_have():
    cost = np.arange(12, dtype=float).reshape(1, 2, 6)
    cut = CareModelCosts(("m",), ("acute",), cost).sliced(2)
    np.testing.assert_array_equal(cut.cost, cost[:, :, 2:])
    assert cut.investment is None and cut.running is None
    both = CareModelCosts(("m",), ("acute",), cost, investment=cost / 2, running=cost / 2).sliced(4)
    np.testing.assert_array_equal(both.investment, cost[:, :, 4:] / 2)
    np.testing.assert_array_equal(both.running, cost[:, :, 4:] / 2)


def test_a_plans_accounts_are_the_plan_unless_another_scenario_is_asked_for():
    fin = PlanFinance((_footprint(2.0),), (_footprint(0.0),), {})
    np.testing.assert_array_equal(fin.system_surplus(), fin.system_surplus("plan"))
    np.testing.assert_array_equal(fin.gap(), fin.gap("plan"))
    assert set(fin.bridge()) == set(fin.bridge("plan")) >= {"care_models", "provider_efficiency"}
    assert "care_models" not in fin.bridge("do_nothing")
    # Each of the plan's two organisations has 2 more income (the external one does not count):
    # a gap 4 smaller, 2 of it the plan's efficiency saving and 2 its care models.
    np.testing.assert_array_equal(fin.gap("do_nothing") - fin.gap(), np.full((2, 3), 4.0))
    np.testing.assert_array_equal(fin.bridge()["provider_efficiency"], np.full((2, 3), -2.0))
    np.testing.assert_array_equal(fin.bridge()["care_models"], np.full((2, 3), -2.0))
