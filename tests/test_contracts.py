"""Worked examples of every payment mechanism, with the arithmetic written out from the
published rules (payment_and_evidence.md part A)."""

import numpy as np
import pytest

from stpsim import contracts


def test_pbr_is_activity_times_price_times_mff():
    # 1,000 day cases at the 2016/17 average GBP 735.62 in a trust with MFF 1.1.
    assert contracts.pbr(np.array(1000.0), np.array(735.62), 1.1) == pytest.approx(1000 * 735.62 * 1.1)


def test_mret_pays_the_marginal_rate_above_the_baseline():
    # Baseline worth 10m, actual 12m, marginal rate 30% -> 10m + 0.3 x 2m = 10.6m.
    assert contracts.mret(np.array(12e6), np.array(10e6), 0.30) == pytest.approx(10.6e6)
    # At 70% (2016/17): 10m + 0.7 x 2m = 11.4m.
    assert contracts.mret(np.array(12e6), np.array(10e6), 0.70) == pytest.approx(11.4e6)
    # Below the baseline the full tariff is paid: 9m.
    assert contracts.mret(np.array(9e6), np.array(10e6), 0.30) == pytest.approx(9e6)


def test_readmission_withholding():
    # 20m of emergency activity, 7% readmissions, a quarter judged avoidable -> 20m x 0.07 x 0.25 = 350k.
    assert contracts.readmission_withholding(np.array(20e6), 0.07, 0.25) == pytest.approx(350_000)


def test_cquin():
    # 2.5% of a 100m contract, 90% achieved -> 100m x 0.025 x 0.9 = 2.25m.
    assert contracts.cquin(np.array(100e6), 0.025, 0.9) == pytest.approx(2.25e6)


def test_a_block_contract_pays_its_plan_whatever_is_done():
    """A block contract (the registered mechanism, as the books call it) pays the planned
    activity at its prices: 1,000 planned units at GBP 100 and 500 at GBP 40 are GBP 120,000
    a year, whether 800 or 1,300 units are done, and the same in every draw."""
    from stpsim.payment import Context, contract

    plan_a = np.array([[[1000.0, 500.0], [1000.0, 500.0]]])  # (1, year, setting)
    prices = np.broadcast_to(np.array([100.0, 40.0]), (3, 2, 2))  # (draw, year, setting)
    none = np.zeros((3, 2))  # terms a block contract does not read
    ctx = Context(
        years=np.array([2016, 2017]),
        price_path=np.ones((3, 2)),
        elapsed=np.array([[0.0, 1.0]]),
        capitation_growth=none,
        capitation_base=0.0,
        mret_baseline_ratio=np.zeros(3),
        population_cost=none,
        population_benchmark=none,
    )
    block = contract(payee="community", mechanism="block")
    for done in (800.0, 1300.0):
        a = np.full((3, 2, 2), done)
        paid = block.pay(a, plan_a, prices, ["district_nursing", "physiotherapy_contacts"], None, ctx)
        assert paid.tolist() == [[120_000.0, 120_000.0]] * 3


def test_cost_and_volume_pays_within_the_band():
    # Plan 1,000 at GBP 100, band 10%, actual 1,200 -> paid for 1,100 = 110,000; actual 850 -> 900 = 90,000.
    assert contracts.cost_and_volume(
        np.array(1200.0), np.array(100.0), np.array(1000.0), 0.1
    ) == pytest.approx(110_000)
    assert contracts.cost_and_volume(
        np.array(850.0), np.array(100.0), np.array(1000.0), 0.1
    ) == pytest.approx(90_000)
    assert contracts.cost_and_volume(
        np.array(1050.0), np.array(100.0), np.array(1000.0), 0.1
    ) == pytest.approx(105_000)


def test_blended_payment_pays_twenty_percent_either_side_of_plan():
    # Plan 1,000, actual 1,100, P = 100 -> 1,000 x 100 + 0.2 x 100 x 100 = 102,000.
    assert contracts.blended(np.array(1100.0), np.array(1000.0), np.array(100.0), 0.2) == pytest.approx(
        102_000
    )
    # Actual 900 -> 100,000 - 0.2 x 100 x 100 = 98,000.
    assert contracts.blended(np.array(900.0), np.array(1000.0), np.array(100.0), 0.2) == pytest.approx(98_000)


def test_aligned_payment_and_incentive():
    # F = 100,000; 100 spells above baseline at P = 100 -> + 0.75 x 100 x 100 = 107,500.
    assert contracts.aligned_payment_incentive(
        np.array(100_000.0), np.array(1100.0), np.array(1000.0), np.array(100.0), 0.75, 0.5
    ) == pytest.approx(107_500)
    # 100 below -> - 0.5 x 100 x 100 = 95,000.
    assert contracts.aligned_payment_incentive(
        np.array(100_000.0), np.array(900.0), np.array(1000.0), np.array(100.0), 0.75, 0.5
    ) == pytest.approx(95_000)


def test_capitation_is_rate_times_weighted_population():
    # 250,000 weighted people at EUR 750 a head (Alzira 2017) -> 187.5m.
    assert contracts.capitation(np.array(250_000.0), np.array(750.0)) == pytest.approx(187.5e6)


@pytest.mark.parametrize(
    "expenditure, expected",
    [
        (95e6, 2.5e6),  # saving 5m (5% >= MSR 2%): 50% of 5m = 2.5m paid to the provider
        (99e6, 0.0),  # saving 1m (1% < MSR 2%): nothing shared
        (70e6, 10e6),  # saving 30m: 50% = 15m, capped at 10% of 100m = 10m
        (104e6, -2e6),  # loss 4m (4% >= MLR 2%): provider repays 50% = 2m
        (101e6, 0.0),  # loss 1% < MLR: nothing
        (120e6, -5e6),  # loss 20m: 50% = 10m, capped at 5% of 100m = 5m
    ],
)
def test_two_sided_risk_share_mssp(expenditure, expected):
    got = contracts.two_sided_risk_share(
        np.array(100e6),
        np.array(expenditure),
        msr=0.02,
        mlr=0.02,
        savings_rate=0.5,
        loss_rate=0.5,
        savings_cap=0.10,
        loss_cap=0.05,
    )
    assert got == pytest.approx(expected)


def test_gain_loss_corridor():
    # F = 100,000, plan 1,000, actual 1,300, P = 100, share 50%, corridor 20%:
    # 100,000 + 0.5 x 100 x 200 = 110,000.
    assert contracts.gain_loss_corridor(
        np.array(100_000.0), np.array(1300.0), np.array(1000.0), np.array(100.0), 0.5, 0.2
    ) == pytest.approx(110_000)
    # Within the corridor: actual 1,100 -> 100,000 + 0.5 x 100 x 100 = 105,000.
    assert contracts.gain_loss_corridor(
        np.array(100_000.0), np.array(1100.0), np.array(1000.0), np.array(100.0), 0.5, 0.2
    ) == pytest.approx(105_000)


def test_declining_contract_moves_the_released_money():
    # V0 = 100m, 5% a year, after 2 years: 100m x 0.95^2 = 90.25m paid, 9.75m released.
    value, released = contracts.declining_contract(np.array(100e6), 0.05, np.array(2.0))
    assert value == pytest.approx(90.25e6) and released == pytest.approx(9.75e6)


def test_contract_defaults_are_the_published_2016_17_rules():
    from stpsim import finance
    from stpsim.contract_terms import ContractSpec
    from stpsim.reference import fact

    spec = ContractSpec(payee="acute", mechanism="pbr")
    mret = fact(
        "national_finance",
        "MRET: marginal rate in force (activity above baseline monetary value)",
        column="item",
        period="2016/17-2017/18",
    )
    cquin = fact(
        "national_finance",
        "CQUIN: total value of national + local CQUIN schemes",
        column="item",
        period="2016/17",
    )
    from stpsim.finance.payments import rule_book

    # The rule book owns the year's rates; a contract states its own only to depart from them.
    assert spec.mret_rate is None and spec.variable_rate is None and spec.up_rate is None
    assert rule_book(2016).mret_rate == pytest.approx(mret / 100) == rule_book(2018).mret_rate
    assert spec.cquin_rate is None, "default terms follow the year's national CQUIN rate"
    assert rule_book(2016).cquin_rate == pytest.approx(cquin / 100) == finance.CQUIN_RATE


def test_every_registered_mechanism_has_terms_a_formula_and_wording_and_plans_accept_it():
    import json

    from stpsim.payment import REGISTRY, Contract
    from stpsim.plan import schema

    text = json.dumps(schema())
    for name, cls in REGISTRY.items():
        assert issubclass(cls, Contract) and cls.pay is not Contract.pay, name
        assert len(cls.wording.split()) >= 8, name  # a sentence a reader can follow
        assert f'"{name}"' in text, f"{name} missing from the plan's JSON Schema"


def test_a_mechanism_rejects_terms_of_another_naming_the_allowed_fields(tmp_path, capsys):
    import yaml

    from stpsim.cli import main

    f = tmp_path / "p.yaml"
    contracts_ = [
        {"payee": "acute", "mechanism": "block", "band": 0.1},
        {"payee": "x", "mechanism": "barter"},
    ]
    f.write_text(
        yaml.safe_dump({"name": "x", "footprints": ["E54000036"], "finance": {"contracts": contracts_}})
    )
    assert main(["run", str(f)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].endswith(
        "finance.contracts.0.band: unknown field for a block contract; allowed: payee, settings, "
        "cquin_rate, mechanism"
    )
    assert "finance.contracts.1.mechanism: 'barter' is not a payment mechanism; allowed: pbr," in err[1]
