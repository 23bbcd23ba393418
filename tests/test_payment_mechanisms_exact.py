"""Every registered payment mechanism paid by draw and year, worked by hand (issue 24, item 5:
the mutation test of the money code found mechanisms no test paid, and terms no test set).

Each example has two draws and two years, so a payment that summed over the wrong axis, or
ignored a draw's own price path, would show. The arithmetic is written out beside each number
(contracts.py for the formulas; docs/finance.md, "Contracts", for the rules)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from stpsim.contract_terms import FinanceOptions
from stpsim.finance.payments import contracts_for, cquin_paid, cquin_rates
from stpsim.footprint import find
from stpsim.organisations import Organisation, organisations
from stpsim.payment import REGISTRY, contract, rules
from stpsim.payment.mechanisms import Context
from stpsim.payment.rules import rules_document, year_rates


def context(
    years=(2016, 2017),
    price_path=((1.0, 1.0), (1.0, 1.0)),
    growth=((1.0, 1.0), (1.0, 1.0)),
    capitation_base=0.0,
    ratio=(0.862, 0.862),
):
    years = np.asarray(years)
    return Context(
        years=years,
        price_path=np.asarray(price_path, float),
        elapsed=(years - 2016)[None, :].astype(float),
        capitation_growth=np.asarray(growth, float),
        capitation_base=capitation_base,
        mret_baseline_ratio=np.asarray(ratio, float),
        population_cost=np.zeros((len(ratio), len(years))),
        population_benchmark=np.zeros((1, len(years))),
    )


# Two settings: emergency admissions at GBP 100 (plan 1,000) and elective admissions at GBP 200
# (plan 500), the same plan in both years. Activity by (draw, year, setting):
SETTINGS = ["emergency_admissions", "elective_admissions"]
PLAN_A = np.array([[[1000.0, 500.0], [1000.0, 500.0]]])  # (1, year, setting)
PRICES = np.array([[[100.0, 200.0]] * 2] * 2)  # (draw, year, setting)
A = np.array(
    [
        [[1200.0, 500.0], [1050.0, 400.0]],  # draw 0: 2016/17, 2017/18
        [[850.0, 560.0], [1000.0, 500.0]],  # draw 1
    ]
)
BASE_VALUE = np.array([60_000.0, 40_000.0])


def paid(
    mechanism: str, ctx: Context | None = None, a=A, plan_a=PLAN_A, prices=PRICES, **terms
) -> np.ndarray:
    spec = contract(payee="acute", mechanism=mechanism, **terms)
    return spec.pay(a, plan_a, prices, SETTINGS, BASE_VALUE, ctx or context())


def test_cost_and_volume_pays_activity_within_the_band_by_draw_and_year():
    got = paid("cost_and_volume", band=0.1)
    # Band 10%: emergency 900..1,100, elective 450..550.
    # Draw 0, 2016/17: 1,200 -> 1,100 x 100 = 110,000; 500 x 200 = 100,000 -> 210,000.
    # Draw 0, 2017/18: 1,050 x 100 = 105,000; 400 -> 450 x 200 = 90,000 -> 195,000.
    # Draw 1, 2016/17: 850 -> 900 x 100 = 90,000; 560 -> 550 x 200 = 110,000 -> 200,000.
    # Draw 1, 2017/18: exactly the plan: 100,000 + 100,000 = 200,000.
    assert got.shape == (2, 2)
    np.testing.assert_allclose(got, [[210_000.0, 195_000.0], [200_000.0, 200_000.0]], rtol=1e-12)


def test_a_wider_cost_and_volume_band_pays_more_of_the_variance():
    got = paid("cost_and_volume", band=0.25)
    # Band 25%: emergency 750..1,250, elective 375..625: every unit is paid.
    # Draw 0: 120,000 + 100,000 = 220,000; 105,000 + 80,000 = 185,000.
    # Draw 1: 85,000 + 112,000 = 197,000; 200,000.
    np.testing.assert_allclose(got, [[220_000.0, 185_000.0], [197_000.0, 200_000.0]], rtol=1e-12)


def test_gain_loss_corridor_shares_the_variance_up_to_the_corridor():
    got = paid("corridor", share=0.5, corridor=0.2)
    # Fixed: the planned value, 100,000 + 100,000 = 200,000. Corridor 20%: +-200 emergency,
    # +-100 elective. Half the price on the variance inside it.
    # Draw 0, 2016/17: +200 emergency -> +0.5 x 100 x 200 = +10,000; elective on plan -> 210,000.
    # Draw 0, 2017/18: +50 -> +2,500; -100 elective -> -0.5 x 200 x 100 = -10,000 -> 192,500.
    # Draw 1, 2016/17: -150 -> -7,500; +60 -> +6,000 -> 198,500.
    # Draw 1, 2017/18: on plan -> 200,000.
    np.testing.assert_allclose(got, [[210_000.0, 192_500.0], [198_500.0, 200_000.0]], rtol=1e-12)


def test_gain_loss_corridor_caps_what_either_side_carries():
    # Corridor 10%: +-100 emergency, +-50 elective; a quarter of the price on the variance.
    # 2016/17: +300 emergency -> +100 -> +0.25 x 100 x 100 = +2,500 -> 202,500.
    # 2017/18: -300 emergency -> -100 -> -2,500 -> 197,500.
    a = np.array([[[1300.0, 500.0], [700.0, 500.0]]] * 2)
    got = paid("corridor", a=a, share=0.25, corridor=0.1)
    np.testing.assert_allclose(got, [[202_500.0, 197_500.0]] * 2, rtol=1e-12)
    # Electives -200 and +200 (capped at -+50: -+0.25 x 200 x 50 = -+2,500) cancel the above.
    a = np.array([[[1300.0, 300.0], [700.0, 700.0]]] * 2)
    got = paid("corridor", a=a, share=0.25, corridor=0.1)
    np.testing.assert_allclose(got, np.full((2, 2), 200_000.0), rtol=1e-12)


def test_blended_contract_pays_plan_plus_its_rate_on_the_variance():
    got = paid("blended", variable_rate=0.2)
    # Plan value 200,000, plus 20% of price on the variance:
    # Draw 0, 2016/17: +200 x 100 x 0.2 = +4,000 -> 204,000.
    # Draw 0, 2017/18: +50 x 100 x 0.2 = +1,000; -100 x 200 x 0.2 = -4,000 -> 197,000.
    # Draw 1, 2016/17: -150 x 20 = -3,000; +60 x 40 = +2,400 -> 199,400.
    np.testing.assert_allclose(got, [[204_000.0, 197_000.0], [199_400.0, 200_000.0]], rtol=1e-12)


def test_aligned_payment_contract_pays_more_above_plan_than_it_claws_back_below():
    got = paid("aligned_payment", up_rate=0.75, down_rate=0.5)
    # Fixed 200,000; 75% of price above plan, 50% clawed back below.
    # Draw 0, 2016/17: +200 x 100 x 0.75 = +15,000 -> 215,000.
    # Draw 0, 2017/18: +50 x 75 = +3,750; -100 x 200 x 0.5 = -10,000 -> 193,750.
    # Draw 1, 2016/17: -150 x 100 x 0.5 = -7,500; +60 x 200 x 0.75 = +9,000 -> 201,500.
    np.testing.assert_allclose(got, [[215_000.0, 193_750.0], [201_500.0, 200_000.0]], rtol=1e-12)


def test_block_contract_pays_the_planned_value_to_every_draw():
    got = paid("block")
    np.testing.assert_array_equal(got, np.full((2, 2), 200_000.0))


def test_capitation_is_the_base_budget_grown_with_each_draws_allocation():
    ctx = context(growth=((1.0, 1.03), (1.0, 1.05)), capitation_base=1_000_000.0)
    got = paid("capitation", ctx=ctx, settings=SETTINGS)
    np.testing.assert_allclose(got, [[1_000_000.0, 1_030_000.0], [1_000_000.0, 1_050_000.0]], rtol=1e-12)


def test_declining_contract_shrinks_the_base_value_at_each_draws_prices():
    # 2016/17 value 60,000 + 40,000 = 100,000. 2017/18 at price path 1.02 (draw 0) and 1.05
    # (draw 1), shrunk 5%: 100,000 x 1.02 x 0.95 = 96,900 and 100,000 x 1.05 x 0.95 = 99,750.
    # Released: 102,000 - 96,900 = 5,100 and 105,000 - 99,750 = 5,250.
    ctx = context(price_path=((1.0, 1.02), (1.0, 1.05)))
    spec = contract(payee="acute", mechanism="declining", rate=0.05)
    value = spec.pay(A, PLAN_A, PRICES, SETTINGS, BASE_VALUE, ctx)
    released = spec.released(BASE_VALUE, ctx)
    np.testing.assert_allclose(value, [[100_000.0, 96_900.0], [100_000.0, 99_750.0]], rtol=1e-12)
    np.testing.assert_allclose(released, [[0.0, 5_100.0], [0.0, 5_250.0]], rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(value + released, 100_000.0 * ctx.price_path, rtol=1e-12)


# ---- the national tariff's terms: a contract's own rate departs from the rule book ----------


def test_a_contracts_own_blended_rate_replaces_the_national_20_percent():
    a = np.array([[[1200.0, 400.0]]])
    # 2019/20, blended emergency care at the contract's 50%: 1,000 x 100 + 0.5 x 100 x 200
    # = 110,000; electives at full tariff 400 x 200 = 80,000 -> 190,000. At the national 20%:
    # 104,000 + 80,000 = 184,000.
    own = paid(
        "pbr",
        ctx=context([2019], [[1.0]], [[1.0]], ratio=(0.862,)),
        a=a,
        plan_a=PLAN_A[:, :1],
        prices=PRICES[:1, :1],
        variable_rate=0.5,
    )
    national = paid(
        "pbr",
        ctx=context([2019], [[1.0]], [[1.0]], ratio=(0.862,)),
        a=a,
        plan_a=PLAN_A[:, :1],
        prices=PRICES[:1, :1],
    )
    assert own[0, 0] == pytest.approx(190_000.0, rel=1e-12)
    assert national[0, 0] == pytest.approx(184_000.0, rel=1e-12)


@pytest.mark.parametrize(
    ("electives", "terms", "expected"),
    [
        # Fixed 1,000 x 100 + 500 x 200 = 200,000; electives 100 over plan at GBP 200.
        (600.0, {}, 215_000.0),  # national 2022/23: 75% above -> +15,000
        (600.0, {"up_rate": 0.5}, 210_000.0),  # the contract's 50% -> +10,000
        (400.0, {}, 190_000.0),  # national: 50% clawed back below -> -10,000
        (400.0, {"down_rate": 0.25}, 195_000.0),  # the contract's 25% -> -5,000
    ],
)
def test_a_contracts_own_aligned_payment_rates_replace_the_national_ones(electives, terms, expected):
    a = np.array([[[1300.0, electives]]])  # emergency care over plan: in the fixed element
    ctx = context([2022], [[1.0]], [[1.0]], ratio=(0.862,))
    got = paid("pbr", ctx=ctx, a=a, plan_a=PLAN_A[:, :1], prices=PRICES[:1, :1], **terms)
    assert got[0, 0] == pytest.approx(expected, rel=1e-12)


def test_readmissions_are_withheld_only_in_years_the_rule_is_in_force(monkeypatch):
    """A rule book (an overlay of payment_rules.csv, say) with payment by results in both years
    but the 30-day readmission rule only in the first: nothing is withheld in the second."""
    real = rules.rule_book

    def book(year):
        b = real(year)
        return dataclasses.replace(b, readmission_rule=year == 2016)

    monkeypatch.setattr(rules, "rule_book", book)
    a = np.array([[[800.0, 500.0], [800.0, 500.0]]])
    ctx = context(price_path=((1.0, 1.0),), growth=((1.0, 1.0),), ratio=(0.862,))
    terms = {"readmission_share": 0.1, "avoidable_share": 0.5, "mret_rate": 1.0}  # MRET off
    got = paid("pbr", ctx=ctx, a=a, prices=PRICES[:1], **terms)
    # Emergency 80,000 + electives 100,000 = 180,000; 2016/17 withholds 80,000 x 0.1 x 0.5 =
    # 4,000.
    np.testing.assert_allclose(got, [[176_000.0, 180_000.0]], rtol=1e-12)


# ---- the registry --------------------------------------------------------------------------


def test_an_unknown_mechanism_is_refused_naming_every_allowed_one():
    with pytest.raises(ValueError) as e:
        contract(payee="acute", mechanism="barter")
    assert str(e.value) == f"unknown mechanism 'barter'; allowed: {', '.join(REGISTRY)}"
    assert list(REGISTRY)[:2] == ["pbr", "risk_share"]


def test_a_capitation_contract_must_list_the_settings_its_budget_covers():
    bare = contract(payee="community", mechanism="capitation")
    assert bare.check("finance.contracts.3") == [
        "finance.contracts.3.settings: a capitation contract must list the settings its budget covers"
    ]
    assert contract(payee="community", mechanism="capitation", settings=SETTINGS).check("x") == []


# ---- the rule book, as ``stpsim rules --json`` prints it ------------------------------------


def test_rules_document_gives_every_rate_of_the_year():
    blended, aligned = rules_document([2019, 2022])
    sources = blended.pop("sources")
    assert blended == {
        "year": "2019/20",
        "regime": "blended",
        "label": "blended payment for emergency care",
        "mret_rate": 1.0,
        "readmission_rule": False,
        "cquin_rate": 0.0125,
        "cquin_in_prices": 0.0125,
        "cquin_in_block": 0.0,
        "blended_variable_rate": 0.2,
        "aligned_up_rate": 0.0,
        "aligned_down_rate": 0.0,
        "elective_settings": [],
    }
    assert list(sources) == sorted(sources) and "regime" in sources
    aligned.pop("sources")
    assert aligned == {
        "year": "2022/23",
        "regime": "aligned_payment",
        "label": "aligned payment and incentive (variable element for elective care)",
        "mret_rate": 1.0,
        "readmission_rule": False,
        "cquin_rate": 0.0125,
        "cquin_in_prices": 0.0125,
        "cquin_in_block": 0.0,
        "blended_variable_rate": 0.0,
        "aligned_up_rate": 0.75,
        "aligned_down_rate": 0.5,
        "elective_settings": ["elective_admissions", "elective_bed_days", "day_cases", "outpatient_first"],
    }
    (pbr,) = rules_document([2016])
    assert (pbr["mret_rate"], pbr["readmission_rule"]) == (0.7, True)
    assert pbr["label"] == "payment by results with MRET and the readmission rule"


# ---- each year's rates for a contract ----------------------------------------------------------

ACUTE_TRUST = Organisation("acute:X", "A trust", "acute")
GENERAL_PRACTICE = Organisation("primary_care", "General practice", "primary_care")


def test_a_contracts_own_rate_is_one_row_of_years():
    years = np.array([2018, 2019, 2020])
    np.testing.assert_array_equal(year_rates(years, "blended_variable_rate", 0.5), [[0.5, 0.5, 0.5]])
    np.testing.assert_array_equal(year_rates(years, "blended_variable_rate"), [[0.0, 0.2, 0.0]])
    own = contract(payee="acute", mechanism="block", cquin_rate=0.03)
    np.testing.assert_array_equal(cquin_rates(years, own, ACUTE_TRUST), [[0.03, 0.03, 0.03]])


def test_cquin_earned_is_the_rate_by_achievement_plus_the_block_years_allowance():
    years = np.array([2018, 2019, 2020])
    achieved = np.array([0.9, 0.5])
    spec = contract(payee="acute", mechanism="block")
    # 2.5% and 1.25% by achievement; 2020/21: CQUIN suspended, 1.25% paid inside the block.
    np.testing.assert_allclose(
        cquin_paid(years, spec, ACUTE_TRUST, achieved),
        [[0.025 * 0.9, 0.0125 * 0.9, 0.0125], [0.025 * 0.5, 0.0125 * 0.5, 0.0125]],
        rtol=1e-12,
    )
    np.testing.assert_array_equal(cquin_paid(years, spec, GENERAL_PRACTICE, achieved), np.zeros((2, 3)))


def test_a_listed_mental_health_contract_is_kept_and_none_is_added():
    orgs = organisations(find("E54000036"))
    listed = [
        {"payee": "acute", "mechanism": "pbr"},
        {"payee": "community", "mechanism": "block"},
        {"payee": "primary_care", "mechanism": "block"},
    ]
    got = contracts_for(FinanceOptions(contracts=listed), orgs)
    assert [(c.payee, c.mechanism) for c in got] == [
        ("acute", "pbr"),
        ("community", "block"),
        ("primary_care", "block"),
        ("mental_health", "block"),
    ]
    with_mh = listed + [{"payee": "mental_health", "mechanism": "block", "cquin_rate": 0.0}]
    got = contracts_for(FinanceOptions(contracts=with_mh), orgs)
    assert [(c.payee, c.mechanism, c.cquin_rate) for c in got] == [
        ("acute", "pbr", None),
        ("community", "block", None),
        ("primary_care", "block", None),
        ("mental_health", "block", 0.0),
    ]
    preset = contracts_for(FinanceOptions(contracts="block"), orgs)
    assert [(c.payee, c.mechanism) for c in preset][-1] == ("mental_health", "block")


@pytest.mark.parametrize("mechanism", sorted(REGISTRY))
def test_a_mechanism_that_does_not_follow_activity_pays_the_same_whatever_is_done(mechanism):
    """The books pay a contract whose mechanism says it does not follow activity (a block, a
    declining contract, a capitated budget) what doing nothing pays it, whatever a scenario
    moves: so its payment must not change with the care delivered. One that says it follows
    activity must change with it (on the examples' activity, halved and doubled)."""
    terms = {"settings": SETTINGS} if mechanism == "capitation" else {}
    ctx = context(growth=((1.0, 1.04), (1.0, 1.05)), capitation_base=250_000.0)
    base = paid(mechanism, ctx, **terms)
    others = [paid(mechanism, ctx, a=A * f, **terms) for f in (0.5, 2.0)]
    if REGISTRY[mechanism].follows_activity:
        assert any(not np.array_equal(base, o) for o in others)
    else:
        for o in others:
            assert np.array_equal(base, o)
