"""Finance: money is conserved, the system total does not depend on the payment mechanism, and
each mechanism rewards or punishes admission avoidance as the 2016 debate says it does."""

import json

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from stpsim import cli, engine, plan
from stpsim.axes import ALL_SETTINGS
from stpsim.cli import main
from stpsim.contract_terms import PRESETS
from stpsim.run_parameters import declare

CORNWALL = "E54000036"  # one acute trust (acute:REF), so "the acute trust" is unambiguous


def cornwall(contracts="pbr", draws=40, seed=5, finance_extra=None, **extra):
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
        "interventions": [{"name": "admission_avoidance", "coverage": 1.0, "ramp": {"2017/18": 1.0}}],
        "finance": {"contracts": contracts, **(finance_extra or {})},
        **extra,
    }
    return plan.validate(doc)


@pytest.fixture(scope="module")
def arrays():
    p = cornwall()
    return engine.run_block(p, [CORNWALL], range(40))


def books(p, arrays, incentives=False):
    return engine.plan_finance(p, arrays, range(40), incentives)


@settings(max_examples=12, deadline=None)
@given(preset=st.sampled_from(PRESETS), seed=st.integers(0, 10_000))
def test_every_payment_is_between_two_known_parties_in_finite_pounds(preset, seed):
    """Each entry of the books names a payer and a payee that are organisations of the footprint
    (or the national and local bodies outside it), never the same one, and a finite amount for
    every draw and year. Whether the amounts are right, payer and payee, is held to the
    contracts written out from their terms (test_contract_payments.py)."""
    p = cornwall(preset, draws=8, seed=seed)
    fin = engine.plan_finance(p, engine.run_block(p, [CORNWALL], range(8)), range(8), incentives=False)
    for b in fin.footprints + fin.do_nothing:
        parties = {o.id for o in b.orgs}
        assert b.ledger.entries
        for payer, payee, _, amount in b.ledger.entries:
            assert payer != payee and {payer, payee} <= parties, (payer, payee)
            assert amount.shape == (8, 5) and np.isfinite(amount).all()


@settings(max_examples=10, deadline=None)
@given(a=st.sampled_from(PRESETS), b=st.sampled_from(PRESETS))
def test_system_surplus_does_not_depend_on_the_mechanism(arrays, a, b):
    sa = books(cornwall(a), arrays).system_surplus("plan")
    sb = books(cornwall(b), arrays).system_surplus("plan")
    assert np.allclose(sa, sb, rtol=1e-10, atol=1.0)


def acute_gain(contracts, arrays, end_year="2020/21", **finance):
    extra = {
        "marginal_cost_share": {"acute": {"low": 0.4, "high": 0.4}},
        "semi_fixed_share_acute": {"low": 0.0, "high": 0.0},
        **finance,
    }
    p = cornwall(contracts, finance_extra=extra, end_year=end_year)
    fin = engine.incentive_matrix(p)
    return fin.incentives[("admission_avoidance", CORNWALL, "acute:REF")]


def test_pbr_makes_admission_avoidance_cost_the_acute_trust_while_mret_applies(arrays):
    # 2018/19 rules: price (x 0.7 above the 2008/09 MRET baseline) exceeds marginal cost (40% of
    # cost), so every avoided admission loses the trust money.
    assert (acute_gain("pbr", arrays, end_year="2018/19") < 0).all()


def test_blended_payment_from_2019_20_makes_admission_avoidance_pay_the_acute_trust(arrays):
    # 2020/21 rules: emergency care is paid by blended payment, so an avoided admission costs the
    # trust 20% of price and saves it 40% of cost.
    assert (acute_gain("pbr", arrays, end_year="2020/21") > 0).all()


def test_block_and_capitation_make_admission_avoidance_pay_the_acute_trust(arrays):
    assert (acute_gain("block", arrays) > 0).all()
    assert (acute_gain("capitation", arrays, capitation_lead="acute") > 0).all()


def test_capitation_moves_the_gain_to_the_budget_holder(arrays):
    extra = {
        "marginal_cost_share": {"acute": {"low": 0.4, "high": 0.4}},
        "semi_fixed_share_acute": {"low": 0.0, "high": 0.0},
    }
    fin = books(
        cornwall("capitation", finance_extra=extra), arrays, incentives=True
    )  # community holds the budget
    gain = {org: fin.incentives[("admission_avoidance", CORNWALL, org)] for org in ("community", "acute:REF")}
    assert (gain["community"] > 0).all()
    assert (gain["acute:REF"] < 0).all(), "the acute trust is paid at tariff by the budget holder"


def test_declining_contract_moves_money_to_the_recipient(arrays):
    fin = books(cornwall("declining", finance_extra={"declining_rate": 0.05}), arrays)
    pbr = books(cornwall("pbr"), arrays)
    ids = [o.id for o in fin.footprints[0].orgs]
    c, a = ids.index("community"), ids.index("acute:REF")
    assert (fin.footprints[0].surplus[c, :, -1] > pbr.footprints[0].surplus[c, :, -1]).all()
    assert (fin.footprints[0].surplus[a, :, -1] < pbr.footprints[0].surplus[a, :, -1]).all()


def test_closing_surplus_wards_releases_semi_fixed_cost():
    doc = {
        "name": "dtoc",
        "footprints": [CORNWALL],
        "monte_carlo": {"draws": 20, "seed": 1},
        "growth": {"emergency_admissions": {"low": -3, "high": -3}},
        "interventions": [{"name": "reduced_delayed_transfers", "coverage": 1.0}],
    }
    kept = plan.validate(doc)
    closed = plan.validate(doc | {"finance": {"close_surplus_wards": True}})
    arr = engine.run_block(kept, [CORNWALL], range(20))
    cost = [
        engine.plan_finance(p, arr, range(20), False).footprints[0].own_costs[1, :, -1]
        for p in (kept, closed)
    ]
    assert (cost[1] < cost[0]).all()


def test_incentive_matrix_has_every_model_and_organisation():
    p = plan.load("examples/cornwall.yaml")
    r = engine.run(p.model_copy(update={"monte_carlo": p.monte_carlo.model_copy(update={"draws": 30})}))
    doc = r.to_dict()
    names = {i["intervention"] for i in doc["incentives"]}
    assert names == {a.name for a in p.interventions}
    orgs = {o["id"] for o in doc["finance"]["orgs"]}
    assert {i["org"] for i in doc["incentives"]} == orgs
    assert {
        "commissioner",
        "acute:REF",
        "community",
        "mental_health",
        "primary_care",
        "specialised",
        "social_care",
    } == orgs
    for o in doc["finance"]["orgs"]:
        assert o["kind"] in {
            "commissioner",
            "acute",
            "community",
            "mental_health",
            "specialised",
            "primary_care",
            "social_care",
        }
        for part in ("income", "costs", "surplus"):
            assert set(o[part]) == set(doc["years"])
            assert set(o[part]["2020/21"]) == {"mean", "p10", "p50", "p90"}
    assert set(doc["finance"]["system"]["surplus"]) == set(doc["years"])
    assert set(doc["finance"]["do_nothing"]["system"]["surplus"]) == set(doc["years"])
    # Delayed transfers: the councils pay (more home care) while the hospital saves (NAO 2016).
    dtoc = {
        i["org"]: i["gain"]["mean"]
        for i in doc["incentives"]
        if i["intervention"] == "reduced_delayed_transfers"
    }
    assert dtoc["social_care"] < 0 < dtoc["acute:REF"]


BAD_FINANCE = [
    (
        {"contracts": [{"payee": "acute:XYZ", "mechanism": "pbr"}]},
        ["finance.contracts.0.payee", "acute:XYZ", "allowed:"],
    ),
    (
        {"contracts": [{"payee": "acute", "mechanism": "pbr"}, {"payee": "community", "mechanism": "block"}]},
        ["gp_consultations delivered by primary_care is unpaid"],
    ),
    (
        {
            "contracts": [
                {"payee": "acute", "mechanism": "pbr"},
                {"payee": "acute", "mechanism": "block", "settings": ["day_cases"]},
                {"payee": "community", "mechanism": "block"},
                {"payee": "primary_care", "mechanism": "block"},
            ]
        },
        ["day_cases delivered by acute:REF is paid twice (contracts 0, 1)"],
    ),
    (
        {"delivery": {"hospital_at_home_days": {"acute": 0.5, "community": 0.7}}},
        ["finance.delivery.hospital_at_home_days: shares sum to 1.2, not 1"],
    ),
    (
        {"delivery": {"hospital_at_home_days": {"acute": 1.5, "community": -0.5}}},
        ["finance.delivery.hospital_at_home_days.acute: share 1.5 outside [0, 1]"],
    ),
    ({"acute_shares": {"REF": 1.2}}, ["finance.acute_shares.REF: share 1.2 outside [0, 1]"]),
    (
        {"contracts": [{"payee": "acute", "mechanism": "pbr", "mret_rate": 1.7}]},
        ["finance.contracts.0.mret_rate"],
    ),
    ({"contracts": "fee_for_service"}, ["finance.contracts", "pbr", "capitation"]),
]


@pytest.mark.parametrize("finance, must_say", BAD_FINANCE)
def test_bad_contracts_are_rejected_with_exit_2(tmp_path, capsys, finance, must_say):
    f = tmp_path / "p.yaml"
    f.write_text(yaml.safe_dump({"name": "x", "footprints": [CORNWALL], "finance": finance}))
    assert main(["run", str(f), "--json"]) == 2
    err = capsys.readouterr().err
    for word in must_say:
        assert word in err, err


def test_run_json_has_finance_and_incentives(capsys):
    assert main(["run", "examples/cornwall.yaml", "--draws", "20", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {"finance", "incentives"} <= set(doc)
    assert set(doc["incentives"][0]) == {"intervention", "org", "gain"}
    assert set(doc["incentives"][0]["gain"]) == {"mean", "p10", "p50", "p90"}


def test_incentives_command_compares_mechanisms(capsys, monkeypatch):
    # Wide enough that no phrase checked here is wrapped over two lines.
    monkeypatch.setattr(cli, "out", Console(width=400))
    assert (
        main(["incentives", "examples/cornwall.yaml", "--draws", "20", "--contracts", "pbr,capitation"]) == 0
    )
    out = capsys.readouterr().out
    assert "under pbr contracts" in out and "under capitation contracts" in out
    assert "Royal Cornwall Hospitals NHS Trust" in out, "organisations by name (ids are in --json)"
    assert main(["incentives", "examples/cornwall.yaml", "--contracts", "barter"]) == 2


def test_do_nothing_is_measured_before_provider_efficiency():
    doc = {"name": "bare", "footprints": [CORNWALL], "monte_carlo": {"draws": 10, "seed": 2}}
    none = plan.validate(doc | {"finance": {"provider_efficiency": {"low": 0, "high": 0}}})
    some = plan.validate(doc | {"finance": {"provider_efficiency": {"low": 2, "high": 2}}})
    arr = engine.run_block(none, [CORNWALL], range(10))
    f0, f2 = (engine.plan_finance(p, arr, range(10), False) for p in (none, some))
    assert np.allclose(f0.system_surplus("plan"), f0.system_surplus("do_nothing"))
    gap_closed = f2.system_surplus("plan")[:, -1] - f2.system_surplus("do_nothing")[:, -1]
    assert (gap_closed > 0).all(), "2% a year cost improvement narrows the gap"


def test_costed_value_equals_costing_the_adjusted_activity(rng):
    from stpsim.costs import costed_activity, costed_value, unit_cost_vector

    act = rng.uniform(0, 1000, size=(3, 4, 17))
    los = rng.uniform(1, 8, size=2)
    uc = unit_cost_vector()
    assert np.allclose(costed_value(act, los, uc), costed_activity(act, los) @ uc)


def _books(doc_finance, draws=20, interventions=None, custom=None):
    doc = {
        "name": "t",
        "footprints": [CORNWALL],
        "monte_carlo": {"draws": draws, "seed": 3},
        "finance": doc_finance,
        "interventions": interventions or [],
        "custom_interventions": custom or [],
    }
    p = plan.validate(doc)
    arr = engine.run_block(p, [CORNWALL], range(draws))
    return p, engine.plan_finance(p, arr, range(draws), False)


def test_base_year_books_are_calibrated():
    from stpsim.finance import councils, finance_parameters
    from stpsim.finance.books import commissioner_position
    from stpsim.finance.starting import footprint_deficit

    # Under the rules in force in 2016/17 (payment by results with MRET): the published
    # positions are after MRET, so the calibration nets it out of the acute trust's income.
    p, fin = _books({"contracts": "pbr"}, draws=200)
    b = fin.do_nothing[0]
    ids = [o.id for o in b.orgs]
    internal = [i for i, o in enumerate(b.orgs) if o.kind != "external"]
    margin = np.full(len(ids), np.nan)
    margin[internal] = b.surplus[internal, :, 0].mean(axis=1) / b.income[internal, :, 0].mean(axis=1)
    # Trusts carry the footprint's share of the underlying deficit alike; general practice (not
    # a trust) breaks even: MRET is not counted twice.
    trusts = [margin[ids.index(o)] for o in ("acute:REF", "community", "mental_health", "specialised")]
    assert max(trusts) < -0.005 and max(trusts) - min(trusts) < 0.01
    assert abs(margin[ids.index("primary_care")]) < 0.01
    # The commissioners start at their share of the CCGs' published GBP 556m overspend, by CCG
    # allocation: Cornwall's CCG allocation over England's, times 556m.
    from stpsim.finance.allocations import allocation_share, national_allocation
    from stpsim.footprint import find

    area = find(CORNWALL).lsoas
    y0 = np.array([2016])
    share = allocation_share("CCGs", area, y0)[0]
    ccgs = -556e6 * share
    assert commissioner_position(national_allocation("CCGs", y0, np.zeros(1))[:, 0] * share)[
        0
    ] == pytest.approx(ccgs, rel=1e-12)
    assert b.surplus[ids.index("commissioner"), :, 0].mean() == pytest.approx(ccgs, rel=0.1)
    # The 2016/17 position is exactly the trusts' deficit, the CCGs' overspend and the social
    # care market gap.
    params = finance_parameters(declare(p).draw(3, range(200)))
    expected = (
        footprint_deficit(area, params.deficit_loans_weight, params.national_deficit)
        + councils.market_gap(area, params)
        - ccgs
    )
    assert np.allclose(b.bridge["starting_deficit"][:, 0], expected, rtol=1e-12)


@pytest.mark.parametrize("pair", [("block", "capitation"), ("pbr", "risk_share")])
def test_doing_exactly_nothing_moves_no_money_between_like_mechanisms_in_the_base_year(pair):
    """Issue 24, item 3: exact. Block and capitation pay the 2016/17 value (a capitated lead pays
    the acute trust tariff for the activity it does); PbR and the risk share both apply MRET, and
    doing exactly the planned activity shares nothing. The £181k the looser test allowed was the
    year's activity noise: the subcontract pays tariff for each draw's noisy activity, the block
    its planned value, equal in expectation (100 draws' noise averaged £181k of £449m). With the
    noise off, the activity is the plan and the two pay to the penny."""
    doc = {"name": "t", "footprints": [CORNWALL], "monte_carlo": {"draws": 50, "seed": 3}}
    fins = []
    for m in pair:
        p = plan.validate(doc | {"finance": {"contracts": m}})
        exact = declare(p).draw(3, range(50), z={}, noise=False)  # central parameters, no noise
        _, fin = engine.plan_books(p, incentives=False, draws=exact)
        fins.append(fin.do_nothing[0])
    i = [o.id for o in fins[0].orgs].index("acute:REF")
    a, c = (x.surplus[i, :, 0] for x in fins)
    np.testing.assert_allclose(a, c, rtol=1e-12, atol=1e-3)


def test_out_of_area_care_is_nhs_care_only():
    _, fin = _books({"contracts": "pbr"})
    for payer, payee, _label, _amount in fin.footprints[0].ledger.entries:
        if payee == "out_of_area":
            assert payer == "commissioner"
    from stpsim.finance import SOCIAL_CARE_SETTINGS, prices_and_costs

    price, _ = prices_and_costs()
    assert all(price[ALL_SETTINGS.index(k)] > 0 for k in SOCIAL_CARE_SETTINGS)


def test_commissioner_run_care_model_costs_count():
    custom = [
        {
            "name": "navigators",
            "title": "Care navigators",
            "delivered_by": "commissioner",
            "costs": {"running_cost": {"low": 100_000, "high": 100_000}},
        }
    ]
    p, fin = _books(
        {"contracts": "pbr"}, interventions=[{"name": "navigators", "ramp": {"2016/17": 1}}], custom=custom
    )
    gap = fin.gap("care_models") - fin.gap("do_nothing")
    assert (gap[:, -1] > 1e7).all(), "GBP 100 a head for everyone in Cornwall costs tens of millions"


def test_the_extensivist_shift_moves_cost_without_creating_money():
    from stpsim import finance

    p, _ = _books({"contracts": "pbr"})
    arr = engine.run_block(p, [CORNWALL], range(20))
    years = np.arange(2016, 2021)
    params = finance.finance_parameters(declare(p).draw(3, range(20)))
    central = engine.central_plan_activity(p)[:, 0]
    base = arr.do_nothing[:, :, 0]
    with_sessions = base.copy()
    with_sessions[..., ALL_SETTINGS.index("community_consultant_sessions")] = 10_000.0
    books = [
        finance.footprint_finance(
            p.places[0], p.finance, years, finance.Scenario(a, base, arr.demographic[:, 0], central), params
        )
        for a in (base, with_sessions)
    ]
    assert np.allclose(books[0].system_surplus, books[1].system_surplus, rtol=0, atol=1e-3)
    ids = [o.id for o in books[0].orgs]
    moved = books[1].own_costs - books[0].own_costs
    assert (moved[ids.index("acute:REF"), :, -1] < 0).all() and (
        moved[ids.index("community"), :, -1] > 0
    ).all()


MORE_BAD = [
    ({"contracts": "capitation", "capitation_lead": "out_of_area"}, "finance.capitation_lead"),
    ({"contracts": "capitation", "capitation_lead": "mental_health"}, "must name one organisation"),
    ({"contracts": "declining", "declining_recipient": "nhs_england"}, "finance.declining_recipient"),
    ({"contracts": [{"payee": "community", "mechanism": "capitation"}]}, "must list the settings"),
    (
        {
            "contracts": [
                {"payee": "community", "mechanism": "capitation", "settings": ["emergency_admissions"]},
                {"payee": "acute", "mechanism": "pbr"},
                {"payee": "community", "mechanism": "block"},
                {"payee": "primary_care", "mechanism": "block"},
            ]
        },
        "emergency_admissions delivered by acute:REF is paid twice",
    ),
    (
        {
            "contracts": [
                {"payee": "acute", "mechanism": "pbr"},
                {"payee": "community", "mechanism": "block"},
                {"payee": "primary_care", "mechanism": "block"},
                {"payee": "mental_health", "mechanism": "block"},
                {"payee": "mental_health", "mechanism": "block"},
            ]
        },
        "mental health provider is paid twice",
    ),
    ({"marginal_cost_share": {"acute": {"low": -0.5, "high": 2}}}, "must lie in [0, 1]"),
    ({"provider_efficiency": {"low": 40, "high": 60}}, "must lie in [-5, 10]"),
    ({"delivery": {"gp_consultations": {"commissioner": 1.0}}}, "can be delivered only by"),
    (
        {"delivery": {"emergency_bed_days": {"community": 1.0}, "emergency_admissions": {"acute": 1.0}}},
        "bed days follow their admissions",
    ),
]


@pytest.mark.parametrize("finance, must_say", MORE_BAD)
def test_more_bad_finance_is_rejected(finance, must_say):
    with pytest.raises(plan.PlanError) as e:
        plan.validate({"name": "x", "footprints": [CORNWALL], "finance": finance})
    assert must_say in str(e.value)


def test_social_care_prices_follow_the_national_living_wage_worked_by_hand():
    """Issue 19, item 5: care prices rise by the labour share of the Living Wage's rise plus the
    rest at pay and prices, to 2023/24; then at the assumed care price inflation."""
    from types import SimpleNamespace

    from stpsim.finance import councils

    p = SimpleNamespace(
        social_care_labour_share=np.array([0.6]),
        inflation=np.array([0.02]),
        social_care_price_inflation=np.array([0.03]),
    )
    got = councils.price_index(np.array([2016, 2017, 2018, 2023, 2024]), p)[0]
    # 2017/18: GBP 7.20 -> 7.50 is +4.1667%: 0.6 x 4.1667% + 0.4 x 2% = 3.3%.
    y17 = 1 + 0.6 * (7.50 / 7.20 - 1) + 0.4 * 0.02
    y18 = y17 * (1 + 0.6 * (7.83 / 7.50 - 1) + 0.4 * 0.02)
    assert got[0] == 1.0
    assert got[1] == pytest.approx(y17, rel=1e-12) and got[2] == pytest.approx(y18, rel=1e-12)
    # 2024/25 is past the published rates: the assumed 3% on top of 2023/24's index.
    assert got[4] == pytest.approx(got[3] * 1.03, rel=1e-12)


def test_committed_investment_reaches_the_providers_income_and_moves_no_system_money():
    """Issue 19, item 4: general practice's income follows the GP Forward View's path and mental
    health's the Mental Health Investment Standard from 2017/18; the commissioners pay it, so the
    system's position is what the costs make it (the top-ups are transfers)."""
    from stpsim.finance.books import _gpfv_index

    p, fin = _books({"contracts": "pbr"}, draws=30)
    b = fin.do_nothing[0]
    ids = [o.id for o in b.orgs]
    years = np.arange(2016, 2021)
    gp = b.income[ids.index("primary_care")]
    path = _gpfv_index(years)

    def topped_up(kind: str) -> np.ndarray:
        return sum(
            m for _, payee, label, m in b.ledger.entries if payee == kind and label == "committed investment"
        )

    # Where the commissioners top general practice up, its income is exactly its 2016/17 income on
    # the Forward View's path: income / path is one number a draw over those years.
    on_path = topped_up("primary_care") > 0
    assert on_path[:, -1].mean() > 0.5, "most draws need the top-up by 2020/21"
    some = on_path.any(axis=1)  # draws topped up in at least one year
    ratio = np.where(on_path, gp / path[None, :], np.nan)[some]
    np.testing.assert_allclose(np.nanmax(ratio, axis=1), np.nanmin(ratio, axis=1), rtol=1e-9)
    assert (topped_up("mental_health")[:, -1] > 0).all(), "the Forward View for Mental Health's new money"
    topped = sum(m for _, payee, label, m in b.ledger.entries if label == "committed investment")
    assert (topped[:, 0] == 0).all(), "2016/17 is the calibrated base year"
    # Money conserved: every organisation's surplus, commissioners included, sums to the
    # system's, and the system's is income from outside less own costs.
    outside = sum(
        m for payer, payee, _l, m in b.ledger.entries if payer in ("nhs_england", "local_government")
    ) - sum(m for payer, payee, _l, m in b.ledger.entries if payee == "out_of_area")
    internal = [i for i, o in enumerate(b.orgs) if o.kind != "external"]
    np.testing.assert_allclose(
        b.system_surplus, outside - b.own_costs[internal].sum(axis=0), rtol=1e-9, atol=1.0
    )


def test_all_adults_need_for_social_care_grows_as_adass_reported():
    """Issue 19, item 5: demography plus the assumed growth in older people's need per head
    gives all adults' need growth of about the 2.8% a year ADASS reported for 2017/18."""
    from stpsim import assumptions, baseline, geography
    from stpsim.axes import AGES, ALL_SETTINGS
    from stpsim.costs import unit_cost_vector
    from stpsim.finance import councils

    fps = geography.preset("stp2017")
    p = plan.validate({"name": "x", "footprints": [f.code for f in fps], "end_year": "2020/21"})
    arr = engine.run_block(p, p.places, range(1), declare(p).draw(1, range(1), z={}))
    k = [ALL_SETTINGS.index(x) for x in ("home_care_hours", "care_home_weeks")]
    uc = unit_cost_vector()[k]
    older = (arr.do_nothing_expected[0][:, :, k].sum(axis=1) * uc).sum(axis=1)  # (year,)
    pop = baseline.projection_of(fps).population.sum(axis=(1, 2, 4))
    working = pop[:, (AGES >= 18) & (AGES <= 64)].sum(axis=1)
    everyone = pop.sum(axis=1)
    base = councils.base_spend(np.arange(geography.small_areas().n))
    wa_growth = float(assumptions.value("working_age_social_care_demand_growth")) / 100
    need = (
        base.older * older / older[0]
        + base.working_age * working[:5] / working[0] * (1 + wa_growth) ** np.arange(5)
        + base.other * everyone[:5] / everyone[0]
    )
    growth = need[1:4] / need[:3] - 1  # 2017/18 to 2019/20
    assert ((growth > 0.027) & (growth < 0.029)).all(), growth


def test_back_office_savings_count_within_provider_efficiency_not_on_top():
    """Issue 19, item 8: one efficiency line. Shared back offices are one of the ways trusts
    meet their cost improvement: under a plan's provider efficiency, what the back office saves
    counts within that efficiency. Once its investment is made (2020/21 at full coverage from
    the start), the plan's gap is exactly the gap with the efficiency alone, and the efficiency
    line is smaller by exactly the back office's running saving. Alone (the incentive matrix,
    no efficiency) the back office saves its full amount."""
    base = {
        "name": "x",
        "footprints": ["E54000007"],
        "end_year": "2020/21",
        "monte_carlo": {"draws": 50, "seed": 1},
        "finance": {"provider_efficiency": {"low": 1.0, "high": 2.0}},
    }
    bo = [{"name": "back_office_and_estates", "coverage": 1.0, "ramp": {"2017/18": 1.0}}]
    _, without = engine.plan_books(plan.validate(base), incentives=False)
    _, with_bo = engine.plan_books(plan.validate(dict(base, interventions=bo)))
    a, b = without.footprints[0], with_bo.footprints[0]
    cm = with_bo.care_model_costs[0]
    assert cm.part_of_efficiency == (True,)
    assert np.all(cm.investment[0][:, -1] == 0.0)
    saved = -cm.running[0][:, -1]  # (draw,) the back office's running saving, 2020/21
    assert (saved > 0).all()
    np.testing.assert_allclose(b.system_surplus[:, -1], a.system_surplus[:, -1], rtol=1e-12)
    np.testing.assert_allclose(a.efficiency_saving[:, -1] - b.efficiency_saving[:, -1], saved, rtol=1e-9)
    # Alone, against do-nothing, the back office saves the acute trusts its whole running saving.
    gain = sum(v[:, -1] for k, v in with_bo.incentives_by_year.items() if k[2].startswith("acute:"))
    np.testing.assert_allclose(gain, saved, rtol=1e-9)


def _books_unshared(p, arrays, draws):
    """Every scenario's books worked out from nothing (a new ``Shared`` for each)."""
    from stpsim import finance
    from stpsim.adoption import adopted_interventions

    full = engine.from_base_year(p)
    params = finance.finance_parameters(engine.parameter_draws(full, draws))
    planned = engine.central_plan_activity(full)
    adopted = adopted_interventions(full)
    out = {
        "plan": engine.footprint_books(full, arrays, 0, params, adopted, "plan", planned),
        "do_nothing": engine.footprint_books(full, arrays, 0, params, None, "do_nothing", planned),
    }
    for i, a in enumerate(adopted):
        alone = full.model_copy(update={"interventions": [full.interventions[i]]})
        chosen = adopted_interventions(alone)
        out[a.spec.name] = engine.footprint_books(
            alone, arrays.alone[i], 0, params, chosen, "care_model", planned
        )
    return out


@settings(max_examples=10, deadline=None)
@given(
    preset=st.sampled_from(PRESETS),
    models=st.lists(
        st.sampled_from(
            [
                "community_extensivist",
                "reduced_delayed_transfers",
                "direct_access_physiotherapy",
                "back_office_and_estates",
                "hospital_at_home",
                "geriatricians_front_door",
            ]
        ),
        min_size=1,
        max_size=3,
        unique=True,
    ),
    seed=st.integers(0, 10_000),
)
def test_sharing_what_scenarios_have_in_common_changes_no_number(preset, models, seed):
    """The books reuse, across a footprint's scenarios, the parts a scenario leaves as in the
    do-nothing (books.Shared). Every scenario's books, income, spending, ledger and bridge, are
    identical to the pound-and-penny bit to those worked out from nothing."""
    p = cornwall(preset, draws=6, seed=seed, interventions=[{"name": m, "coverage": 0.8} for m in models])
    full = engine.from_base_year(p)
    draws = engine.parameter_draws(full, range(6))
    arrays = engine.run_block(full, [CORNWALL], range(6), draws, alone=True)
    shared = engine.plan_finance(full, arrays, draws, incentives=True)
    alone = _books_unshared(p, arrays, range(6))
    pairs = [(shared.footprints[0], alone["plan"]), (shared.do_nothing[0], alone["do_nothing"])]
    for a, b in pairs:
        np.testing.assert_array_equal(a.income, b.income)
        np.testing.assert_array_equal(a.expenditure, b.expenditure)
        for k in a.bridge:
            np.testing.assert_array_equal(a.bridge[k], b.bridge[k])
        assert [(x[:3], x[3].tolist()) for x in a.ledger.entries] == [
            (x[:3], x[3].tolist()) for x in b.ledger.entries
        ]
    dn = alone["do_nothing"].surplus
    for (name, _, org), gain in shared.incentives_by_year.items():
        o = [x.id for x in alone[name].orgs].index(org)
        np.testing.assert_array_equal(gain, alone[name].surplus[o] - dn[o])


def test_shared_books_refuse_another_footprints_scenario(arrays):
    from stpsim import finance

    p = cornwall()
    full = engine.from_base_year(p)
    params = finance.finance_parameters(engine.parameter_draws(full, range(40)))
    planned = engine.central_plan_activity(full)
    shared = finance.Shared()
    engine.footprint_books(full, arrays, 0, params, None, "do_nothing", planned, shared)
    other = finance.finance_parameters(engine.parameter_draws(full, range(40)))
    with pytest.raises(ValueError, match="one footprint, plan and set of draws"):
        engine.footprint_books(full, arrays, 0, other, None, "do_nothing", planned, shared)
