"""Worked examples of every national payment rule in every year it applies (the rule book by
financial year in finance/payments.py), with the arithmetic written out from the published
rules (payment_and_evidence.md part A; DESIGN.md section 3, "Contracts")."""

import numpy as np
import pytest

from stpsim import engine, plan
from stpsim.contract_terms import ContractSpec
from stpsim.finance import finance_parameters
from stpsim.finance.payments import (
    Context,
    contract_value,
    cquin_rates,
    national_tariff,
    rule_book,
    year_masks,
)
from stpsim.organisations import Organisation
from stpsim.run_parameters import declare

CORNWALL = "E54000036"
ACUTE = Organisation("acute:TEST", "Test acute trust", "acute")
GENERAL_PRACTICE = Organisation("primary_care", "Test general practice", "primary_care")
YEARS = np.arange(2016, 2036)


# ---- the rule book --------------------------------------------------------------------------


@pytest.mark.parametrize("year", [2016, 2017, 2018])
def test_rule_book_to_2018_19_is_tariff_with_mret_and_the_readmission_rule(year):
    # 2016/17 to 2018/19: national tariff, emergency admissions above the 2008/09 baseline paid
    # at 70% (MRET), the 30-day readmission rule, CQUIN 2.5% of contract value.
    book = rule_book(year)
    assert book.year == year
    assert book.emergency == "pbr"
    assert book.mret_rate == pytest.approx(0.70, rel=1e-12)
    assert book.readmission_rule is True
    assert book.cquin_rate == pytest.approx(0.025, rel=1e-12)


def test_rule_book_2019_20_is_blended_payment_with_cquin_moved_into_prices():
    # 2019/20: MRET and the readmission rule abolished, blended payment (20% of price on the
    # variance) for emergency care, CQUIN halved to 1.25% and the other 1.25% moved into prices.
    book = rule_book(2019)
    assert book.emergency == "blended"
    assert book.mret_rate == 1.0, "MRET abolished from 2019/20: the full price is paid"
    assert book.readmission_rule is False
    assert book.cquin_rate == pytest.approx(0.0125, rel=1e-12)
    assert book.cquin_in_prices == pytest.approx(0.0125, rel=1e-12)
    assert book.cquin_in_block == 0.0
    assert book.blended_variable_rate == pytest.approx(0.20, rel=1e-12)


@pytest.mark.parametrize("year", [2020, 2021])
def test_rule_book_2020_21_and_2021_22_is_block_payments_with_cquin_inside(year):
    # The COVID-19 financial regime: block payments within system envelopes, whatever the
    # activity; CQUIN suspended, an allowance for it (1.25%) paid inside the blocks.
    book = rule_book(year)
    assert book.emergency == "block"
    assert book.mret_rate == 1.0 and book.readmission_rule is False
    assert book.cquin_rate == 0.0
    assert book.cquin_in_block == pytest.approx(0.0125, rel=1e-12)
    assert book.cquin_in_prices == pytest.approx(0.0125, rel=1e-12)
    assert book.blended_variable_rate == 0.0


@pytest.mark.parametrize(("year", "up", "down"), [(2022, 0.75, 0.5), (2023, 1.0, 1.0), (2030, 1.0, 1.0)])
def test_rule_book_from_2022_23_is_aligned_payment_for_elective_care(year, up, down):
    # 2022/23: the variable element pays 75% of price above the baseline and claws back 50%
    # below it, for elective activity only; from 2023/24 elective activity is paid at 100%.
    book = rule_book(year)
    assert book.emergency == "aligned_payment"
    assert book.mret_rate == 1.0 and book.readmission_rule is False
    assert book.cquin_rate == pytest.approx(0.0125, rel=1e-12) and book.cquin_in_block == 0.0
    assert (book.aligned_up_rate, book.aligned_down_rate) == (up, down)


def test_every_rule_in_force_has_its_source():
    for year in range(2016, 2036):
        book = rule_book(year)
        assert "regime" in book.sources and all(book.sources.values()), year


def test_year_masks_switch_rules_at_2019_20_2020_21_and_2022_23():
    masks = year_masks(np.array([2018, 2019, 2020, 2021, 2022]))
    assert masks["pbr"].tolist() == [[True, False, False, False, False]]
    assert masks["blended"].tolist() == [[False, True, False, False, False]]
    assert masks["block"].tolist() == [[False, False, True, True, False]]
    assert masks["aligned_payment"].tolist() == [[False, False, False, False, True]]


# ---- national tariff under each year's rules ------------------------------------------------


def context(years, price_path=None, ratio=(0.862,), cost=None, benchmark=None, weight=1.0):
    """A hand-made footprint context: one row of ``price_path``/``cost`` per draw."""
    years = np.asarray(years)
    n_d = len(ratio)
    price_path = np.ones((n_d, len(years))) if price_path is None else np.asarray(price_path, float)
    cost = np.zeros((n_d, len(years))) if cost is None else np.asarray(cost, float)
    benchmark = np.zeros((1, len(years))) if benchmark is None else np.asarray(benchmark, float)
    return Context(
        years=years,
        price_path=price_path,
        elapsed=(years - 2016)[None, :].astype(float),
        capitation_growth=np.ones((n_d, len(years))),
        capitation_base=0.0,
        mret_baseline_ratio=np.asarray(ratio, float),
        population_cost=cost,
        population_benchmark=benchmark,
        risk_share_weight=weight,
    )


# Two settings: emergency admissions (price 100) and elective admissions (price 50). The same
# activity in every year: 1,200 emergency (plan 1,000) and 2,000 elective (plan 2,200).
SETTINGS = ["emergency_admissions", "elective_admissions"]
SWITCH_YEARS = [2018, 2019, 2020, 2022, 2023]
A = np.array([[[1200.0, 2000.0]] * 5])  # (draw, year, setting)
PLAN_A = np.array([[[1000.0, 2200.0]] * 5])  # (1, year, setting)
PRICES = np.array([[[100.0, 50.0]] * 5])
BASE_VALUE = np.array([100_000.0, 80_000.0])  # 2016/17 value of each setting (at 2016/17 prices)


def test_national_tariff_follows_each_years_rules_in_one_call():
    spec = ContractSpec(payee="acute", mechanism="pbr", readmission_share=0.1, avoidable_share=0.5)
    got = national_tariff(spec, A, PLAN_A, PRICES, SETTINGS, BASE_VALUE, context(SWITCH_YEARS))
    # 2018/19 (PbR): emergency value 1,200 x 100 = 120,000; MRET baseline = base value 100,000 x
    #   ratio 0.862 x price path 1.0 = 86,200; paid 86,200 + 0.7 x (120,000 - 86,200) = 109,860;
    #   readmissions withheld 120,000 x 0.1 x 0.5 = 6,000; electives 2,000 x 50 = 100,000
    #   -> 109,860 - 6,000 + 100,000 = 203,860.
    # 2019/20 (blended emergency care, no MRET, no readmission rule): 1,000 x 100 + 0.2 x 100 x
    #   (1,200 - 1,000) = 104,000; electives at full tariff 100,000 -> 204,000.
    # 2020/21 (block): the planned value, 1,000 x 100 + 2,200 x 50 = 210,000, whatever was done.
    # 2022/23 (aligned payment): fixed = 1,000 x 100 + 2,200 x 50 = 210,000; emergency care is
    #   all in the fixed element; electives 200 under plan: - 0.5 x 50 x 200 = 5,000 -> 205,000.
    # 2023/24: electives at 100% either way: 210,000 - 1.0 x 50 x 200 = 200,000.
    assert got.shape == (1, 5)
    assert got[0] == pytest.approx([203_860.0, 204_000.0, 210_000.0, 205_000.0, 200_000.0], rel=1e-12)


def test_national_tariff_without_readmission_withholding():
    spec = ContractSpec(payee="acute", mechanism="pbr")  # readmission share 0 by default
    got = national_tariff(spec, A, PLAN_A, PRICES, SETTINGS, BASE_VALUE, context(SWITCH_YEARS))
    # 2018/19: 109,860 + 100,000 = 209,860; later years as above.
    assert got[0] == pytest.approx([209_860.0, 204_000.0, 210_000.0, 205_000.0, 200_000.0], rel=1e-12)


def test_aligned_payment_pays_elective_care_above_plan_at_the_years_rate():
    # 2,400 electives against a plan of 2,200 and emergency care over plan too: only the
    # electives move the payment. 2022/23: 210,000 + 0.75 x 50 x 200 = 217,500; 2023/24:
    # 210,000 + 1.0 x 50 x 200 = 220,000.
    spec = ContractSpec(payee="acute", mechanism="pbr")
    a = np.array([[[1300.0, 2400.0]] * 2])
    got = national_tariff(spec, a, PLAN_A[:, :2], PRICES[:, :2], SETTINGS, BASE_VALUE, context([2022, 2023]))
    assert got[0] == pytest.approx([217_500.0, 220_000.0], rel=1e-12)


def test_mret_baseline_is_the_2008_09_value_at_this_years_prices_per_draw():
    # One year under PbR, two draws: price path 1.05 (prices 105 and 52.5), baseline ratios
    # 0.862 and 1.0.
    spec = ContractSpec(payee="acute", mechanism="pbr")
    a = np.array([[[1200.0, 2000.0]], [[1200.0, 2000.0]]])
    prices = np.array([[[105.0, 52.5]], [[105.0, 52.5]]])
    ctx = context([2017], price_path=[[1.05], [1.05]], ratio=(0.862, 1.0))
    got = national_tariff(spec, a, PLAN_A[:, :1], prices, SETTINGS, BASE_VALUE, ctx)
    # Draw 0: value 1,200 x 105 = 126,000; baseline 100,000 x 0.862 x 1.05 = 90,510;
    #   paid 90,510 + 0.7 x 35,490 = 115,353; electives 2,000 x 52.5 = 105,000 -> 220,353.
    # Draw 1: baseline 100,000 x 1.0 x 1.05 = 105,000; paid 105,000 + 0.7 x 21,000 = 119,700
    #   -> 224,700.
    assert got[:, 0] == pytest.approx([220_353.0, 224_700.0], rel=1e-12)


def test_mret_pays_full_tariff_below_the_baseline():
    spec = ContractSpec(payee="acute", mechanism="pbr")
    a = np.array([[[800.0, 2000.0]]])
    got = national_tariff(spec, a, PLAN_A[:, :1], PRICES[:, :1], SETTINGS, BASE_VALUE, context([2016]))
    # 800 x 100 = 80,000 < baseline 86,200: paid in full; + 100,000 electives = 180,000.
    assert got[0, 0] == pytest.approx(180_000.0, rel=1e-12)


def test_mret_rate_one_switches_mret_off_in_a_pbr_year():
    spec = ContractSpec(payee="acute", mechanism="pbr", mret_rate=1.0)
    got = national_tariff(spec, A[:, :1], PLAN_A[:, :1], PRICES[:, :1], SETTINGS, BASE_VALUE, context([2018]))
    # 120,000 + 100,000 = 220,000 (no marginal rate).
    assert got[0, 0] == pytest.approx(220_000.0, rel=1e-12)


def test_blended_years_blend_every_emergency_setting_and_pay_the_rest_at_tariff():
    settings = ["ae_attendances", "emergency_admissions", "day_cases"]
    spec = ContractSpec(payee="acute", mechanism="pbr", readmission_share=0.1, avoidable_share=0.5)
    a = np.array([[[450.0, 1200.0, 300.0]] * 2])
    plan_a = np.array([[[500.0, 1000.0, 250.0]] * 2])
    prices = np.array([[[150.0, 100.0, 700.0]] * 2])
    base = np.array([70_000.0, 100_000.0, 200_000.0])
    got = national_tariff(spec, a, plan_a, prices, settings, base, context([2018, 2019]))
    # 2018/19: A&E at full tariff 450 x 150 = 67,500 (MRET is on admissions only); admissions
    #   109,860 - 6,000 withheld = 103,860; day cases 300 x 700 = 210,000 -> 381,360.
    # 2019/20: A&E 500 x 150 + 0.2 x 150 x (450 - 500) = 73,500; admissions 104,000 (no
    #   withholding); day cases at full tariff 210,000 -> 387,500.
    assert got[0] == pytest.approx([381_360.0, 387_500.0], rel=1e-12)


def test_planned_care_only_contract_has_no_mret():
    # The blended preset's planned-care contract: no emergency admissions, so no MRET baseline.
    spec = ContractSpec(payee="acute", mechanism="pbr", settings=["elective_admissions"])
    got = national_tariff(
        spec,
        A[..., 1:],
        PLAN_A[..., 1:],
        PRICES[..., 1:],
        ["elective_admissions"],
        BASE_VALUE[1:],
        context(SWITCH_YEARS),
    )
    # 2018/19 and 2019/20: 2,000 x 50 = 100,000. 2020/21 (block): 2,200 x 50 = 110,000.
    # 2022/23: 2,200 x 50 - 0.5 x 50 x 200 = 105,000. 2023/24: 110,000 - 50 x 200 = 100,000.
    assert got[0] == pytest.approx([100_000.0, 100_000.0, 110_000.0, 105_000.0, 100_000.0], rel=1e-12)


def test_a_pbr_contract_is_paid_the_national_tariff():
    spec = ContractSpec(payee="acute", mechanism="pbr")
    ctx = context(SWITCH_YEARS)
    assert np.array_equal(
        contract_value(spec, A, PLAN_A, PRICES, SETTINGS, BASE_VALUE, ctx),
        national_tariff(spec, A, PLAN_A, PRICES, SETTINGS, BASE_VALUE, ctx),
    )


# ---- CQUIN ----------------------------------------------------------------------------------


@pytest.mark.parametrize("rate", [None, 0.025, 0.05])
def test_general_practice_earns_no_cquin_in_any_year(rate):
    # GMS/PMS contracts are not the NHS Standard Contract: no CQUIN, whatever the spec says.
    kw = {} if rate is None else {"cquin_rate": rate}
    spec = ContractSpec(payee="primary_care", mechanism="block", **kw)
    got = cquin_rates(YEARS, spec, GENERAL_PRACTICE)
    assert got.shape == (1, len(YEARS))
    assert (got == 0.0).all()


# 2.5% to 2018/19, 1.25% in 2019/20, suspended in 2020/21-2021/22 (paid inside the blocks), 1.25%.
EXPECTED_CQUIN = np.select([YEARS <= 2018, YEARS == 2019, YEARS <= 2021], [0.025, 0.0125, 0.0], 0.0125)


def test_the_years_cquin_rate_applies_when_the_spec_gives_none():
    from stpsim.payment.mechanisms import NationalTariff

    spec = NationalTariff.model_construct(payee="acute", mechanism="pbr", cquin_rate=None)
    assert cquin_rates(YEARS, spec, ACUTE)[0] == pytest.approx(EXPECTED_CQUIN, rel=1e-12)


@pytest.mark.parametrize("mechanism", ["pbr", "block", "risk_share"])
def test_an_acute_contract_on_default_terms_earns_the_years_cquin_rate(mechanism):
    # The year's rate (payments.py: "other mechanisms keep their terms, with CQUIN at the
    # year's rate").
    spec = ContractSpec(payee="acute", mechanism=mechanism)
    got = cquin_rates(YEARS, spec, ACUTE)[0]
    assert got == pytest.approx(EXPECTED_CQUIN, rel=1e-12), (
        "regression (bug at 6f6220b): a default ContractSpec.cquin_rate of 0.025 instead of None "
        "stops cquin_rates falling back to the rule book, so 2.5% CQUIN is paid after 2019/20 too"
    )


@pytest.mark.parametrize("rate", [0.025, 0.03, 0.0])
def test_an_explicit_cquin_rate_overrides_the_years(rate):
    spec = ContractSpec(payee="acute", mechanism="pbr", cquin_rate=rate)
    assert cquin_rates(YEARS, spec, ACUTE)[0] == pytest.approx(np.full(len(YEARS), rate), rel=1e-12)


def _acute_contract(b) -> np.ndarray:
    """(draw, year) what the commissioners paid Cornwall's acute trust under its contract."""
    return sum(
        m for _, payee, label, m in b.ledger.entries if payee == "acute:REF" and label.startswith("contract")
    )


@pytest.fixture(scope="module")
def cornwall_pbr_books():
    doc = {
        "name": "cquin",
        "footprints": [CORNWALL],
        "end_year": "2021/22",
        "monte_carlo": {"draws": 20, "seed": 11},
        "finance": {"contracts": "pbr"},
    }
    p = plan.validate(doc)
    _, fin = engine.plan_books(p, incentives=False)
    achieved = finance_parameters(declare(p).draw(11, range(20))).cquin_achievement
    return fin.do_nothing[0], achieved


def test_the_books_pay_the_acute_trust_the_years_cquin_rate(cornwall_pbr_books):
    b, achieved = cornwall_pbr_books
    contract = _acute_contract(b)
    cquin = sum(m for payer, payee, label, m in b.ledger.entries if payee == "acute:REF" and label == "CQUIN")
    # CQUIN = rate x contract value x achievement: 2.5% in 2016/17-2018/19, 1.25% in 2019/20.
    rate = cquin / (contract * achieved[:, None])
    assert rate[:, :3] == pytest.approx(np.full((20, 3), 0.025), rel=1e-9)
    assert rate[:, 3] == pytest.approx(np.full(20, 0.0125), rel=1e-9)
    # 2020/21 and 2021/22: CQUIN suspended, its 1.25% allowance paid inside the blocks whatever
    # was achieved.
    assert cquin[:, 4:] / contract[:, 4:] == pytest.approx(np.full((20, 2), 0.0125), rel=1e-9)


def test_prices_carry_the_cquin_moved_into_them_from_2019_20():
    from stpsim.finance.payments import price_uplift

    assert price_uplift(np.array([2018, 2019, 2020, 2023]), ACUTE)[0] == pytest.approx(
        [1.0, 1.0125, 1.0125, 1.0125]
    )
    assert price_uplift(np.array([2019, 2023]), GENERAL_PRACTICE)[0] == pytest.approx([1.0, 1.0])


def test_in_the_block_years_the_acute_trust_is_paid_the_same_whatever_the_plan_does():
    """Care models that cut emergency admissions cost the acute trust income under PbR (2018/19)
    and blended payment (2019/20), but not under the 2020/21-2021/22 blocks."""
    doc = {
        "name": "blocks",
        "footprints": [CORNWALL],
        "end_year": "2021/22",
        "monte_carlo": {"draws": 10, "seed": 4},
        "finance": {"contracts": "pbr"},
        "interventions": [{"name": "hospital_at_home", "coverage": 0.8}],
    }
    _, fin = engine.plan_books(plan.validate(doc), incentives=False)
    moved = _acute_contract(fin.footprints[0]) - _acute_contract(fin.do_nothing[0])  # (draw, year)
    assert (moved[:, 2:4] < -1e5).all(), "PbR and blended payment pay less for fewer admissions"
    assert np.abs(moved[:, 4:]).max() < 1e-6, "a block pays the planned value whatever is done"


def test_the_books_pay_general_practice_no_cquin(cornwall_pbr_books):
    b, _ = cornwall_pbr_books
    to_gp = [m for _, payee, label, m in b.ledger.entries if payee == "primary_care" and label == "CQUIN"]
    assert to_gp, "general practice's block contract has its (zero) CQUIN line"
    assert all((m == 0.0).all() for m in to_gp)


# ---- risk share -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "population_cost, transfer",
    [
        # Benchmark 1,000,000; cost 950,000: saving 50,000 = 5% >= MSR 2%; shared 50% = 25,000
        # (under the 10% cap of 100,000); this payee's weight 0.5 -> +12,500.
        (950_000.0, 12_500.0),
        # Saving 10,000 = 1% < MSR 2%: inside the corridor, nothing moves.
        (990_000.0, 0.0),
        # Loss 10,000 = 1% < MLR 2%: inside the corridor.
        (1_010_000.0, 0.0),
        # Loss 40,000 = 4% >= MLR: repays 50% = 20,000 (under the 5% cap of 50,000) x 0.5 = -10,000.
        (1_040_000.0, -10_000.0),
        # Saving 300,000: 50% = 150,000 capped at 10% x 1,000,000 = 100,000; x 0.5 = +50,000.
        (700_000.0, 50_000.0),
    ],
)
def test_risk_share_adds_the_shared_saving_on_the_total_cost_of_care(population_cost, transfer):
    spec = ContractSpec(payee="acute", mechanism="risk_share")
    ctx = context([2018], cost=[[population_cost]], benchmark=[[1_000_000.0]], weight=0.5)
    got = contract_value(spec, A[:, :1], PLAN_A[:, :1], PRICES[:, :1], SETTINGS, BASE_VALUE, ctx)
    # National tariff in 2018/19 (MRET, no readmission withholding): 209,860, plus the transfer.
    assert got[0, 0] == pytest.approx(209_860.0 + transfer, rel=1e-12)


def test_risk_share_transfer_is_per_draw_against_one_benchmark_a_year():
    spec = ContractSpec(payee="acute", mechanism="risk_share")
    ctx = context(
        [2018, 2019],
        ratio=(0.862, 0.862),
        cost=[[950_000.0, 1_980_000.0], [990_000.0, 1_900_000.0]],
        benchmark=[[1_000_000.0, 2_000_000.0]],
        weight=1.0,
    )
    a = np.concatenate([A[:, :2], A[:, :2]])
    prices = np.concatenate([PRICES[:, :2], PRICES[:, :2]])
    got = contract_value(spec, a, PLAN_A[:, :2], prices, SETTINGS, BASE_VALUE, ctx)
    # Tariff: 209,860 (2018/19) and 204,000 (2019/20, blended) in both draws.
    # Draw 0: 2018/19 saving 5% -> +25,000; 2019/20 saving 20,000 = 1% -> 0.
    # Draw 1: 2018/19 saving 1% -> 0; 2019/20 saving 100,000 = 5% -> +50,000.
    assert got == pytest.approx(np.array([[234_860.0, 204_000.0], [209_860.0, 254_000.0]]), rel=1e-12)


def test_national_tariff_takes_each_years_rates_from_the_rule_book(monkeypatch):
    """One owner for each rule: change the rule book's MRET rate and the tariff pays by it; a
    contract's own rate, where stated, wins."""
    import dataclasses

    import numpy as np

    from stpsim.payment import rules
    from stpsim.payment.mechanisms import Context, NationalTariff

    years = np.array([2016, 2017])
    ctx = Context(
        years=years,
        price_path=np.ones((1, 2)),
        elapsed=np.array([[0, 1]]),
        capitation_growth=np.ones((1, 2)),
        capitation_base=0.0,
        mret_baseline_ratio=np.array([0.5]),
        population_cost=np.zeros((1, 2)),
        population_benchmark=np.zeros((1, 2)),
    )
    settings = ["emergency_admissions"]
    a = np.full((1, 2, 1), 1000.0)  # 1,000 admissions at GBP 100: value 100,000; baseline 50,000
    prices = np.full((1, 2, 1), 100.0)
    base_value = np.array([100_000.0])

    def paid(contract) -> np.ndarray:
        return contract.pay(a, a[:1], prices, settings, base_value, ctx)[0]

    # 50,000 at full price + 70% of the 50,000 above the baseline
    np.testing.assert_allclose(paid(NationalTariff(payee="acute")), [85_000.0, 85_000.0])
    real = rules.rule_book

    def halved(year):
        return dataclasses.replace(real(year), mret_rate=0.5)

    monkeypatch.setattr(rules, "rule_book", halved)
    np.testing.assert_allclose(paid(NationalTariff(payee="acute")), [75_000.0, 75_000.0])
    np.testing.assert_allclose(paid(NationalTariff(payee="acute", mret_rate=1.0)), [100_000.0, 100_000.0])


def test_presets_are_a_registry_with_titles_and_their_mechanisms_wording():
    from stpsim.contract_terms import PRESET_REGISTRY, PRESETS, contracts_title, contracts_wording
    from stpsim.payment import REGISTRY

    assert PRESETS == tuple(PRESET_REGISTRY)
    for name, spec in PRESET_REGISTRY.items():
        assert spec.title and contracts_title(name) == spec.title
        assert contracts_wording(name) == REGISTRY[spec.mechanism].wording != ""


def test_the_rules_command_prints_each_years_rules_with_sources(capsys):
    import json

    from stpsim.cli import main

    assert main(["rules", "--json"]) == 0
    rules = json.loads(capsys.readouterr().out)["rules"]
    assert [r["year"] for r in rules] == [
        "2016/17",
        "2017/18",
        "2018/19",
        "2019/20",
        "2020/21",
        "2021/22",
        "2022/23",
        "2023/24",
    ]
    assert [r["regime"] for r in rules] == ["pbr"] * 3 + [
        "blended",
        "block",
        "block",
        "aligned_payment",
        "aligned_payment",
    ]
    assert rules[6]["elective_settings"] == [
        "elective_admissions",
        "elective_bed_days",
        "day_cases",
        "outpatient_first",
    ]
    assert all(r["sources"]["regime"] for r in rules)
    assert main(["rules", "--year", "2020/21", "--json"]) == 0
    (one,) = json.loads(capsys.readouterr().out)["rules"]
    assert (one["regime"], one["cquin_rate"], one["cquin_in_block"]) == ("block", 0.0, 0.0125)
    assert main(["rules", "--year", "1999"]) == 2
