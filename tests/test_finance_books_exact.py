"""One footprint's books, checked exactly where the rules make them exact (issue 24, item 5: the
mutation test of finance/books.py found flows, terms and options no test pinned down).

Most tests use the central parameters with no activity noise, where the activity is the plan:
then a block and a budget pay alike, a risk share has nothing to share, and 2016/17 is the
starting position alone, to the penny. The rest compare two runs with the same draws that
differ in one thing (a market forces factor, a local table, a rule) and check that exactly
that thing moved. Tests build their books themselves (no shared fixtures) so the mutation
tester can see which test reaches which function."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from stpsim import engine, finance, geography, plan
from stpsim.axes import ALL_SETTINGS
from stpsim.contract_terms import PRESETS
from stpsim.costs import unit_cost_vector
from stpsim.payment import rules
from stpsim.run_parameters import declare

from .test_committed_investment import _gpfv, _mental_health

CORNWALL = "E54000036"  # one acute trust, acute:REF
GREATER_MANCHESTER = "E54000007"  # seven acute trusts
TWO_TRUSTS = "E54000010"  # a footprint with exactly two acute trusts
GM_TRUSTS = ("acute:RMC", "acute:R0A", "acute:RW6", "acute:RM3", "acute:RWJ", "acute:RMP", "acute:RRF")


def doc(footprint=CORNWALL, draws=3, end_year="2020/21", **extra) -> dict:
    return {
        "name": "t",
        "footprints": [footprint],
        "monte_carlo": {"draws": draws, "seed": 3},
        "end_year": end_year,
        **extra,
    }


def central_books(d: dict) -> finance.PlanFinance:
    """Books at the central parameters with no activity noise: the activity is the plan."""
    p = plan.validate(d, base_dir=None)
    n = p.monte_carlo.draws
    exact = declare(p).draw(p.monte_carlo.seed, range(n), z={}, noise=False)
    return engine.plan_books(p, incentives=False, draws=exact)[1]


def drawn_books(d: dict) -> finance.PlanFinance:
    return engine.plan_books(plan.validate(d, base_dir=None), incentives=False)[1]


def paid(b, payer: str, payee: str, label: str) -> np.ndarray:
    """(draw, year) what ``payer`` paid ``payee`` for ``label`` in books ``b``."""
    found = [m for a, c, lab, m in b.ledger.entries if (a, c, lab) == (payer, payee, label)]
    assert found, (payer, payee, label)
    return sum(found)


def row(b, org: str) -> int:
    return [o.id for o in b.orgs].index(org)


# ---- who pays whom for what ------------------------------------------------------------------

EVERY_PRESET = {
    ("nhs_england", "commissioner", "allocation (CCG and primary care)"),
    ("nhs_england", "specialised", "specialised commissioning"),
    ("local_government", "social_care", "council funding"),
    ("commissioner", "out_of_area", "out-of-area treatment"),
    ("commissioner", "mental_health", "contract (block)"),
    ("commissioner", "mental_health", "CQUIN"),
    ("commissioner", "mental_health", "committed investment"),
    ("commissioner", "primary_care", "contract (block)"),
    ("commissioner", "primary_care", "CQUIN"),
    ("commissioner", "primary_care", "committed investment"),
}
COMMUNITY_BLOCK = {("commissioner", "community", "contract (block)"), ("commissioner", "community", "CQUIN")}
ACUTE = {
    "pbr": {("commissioner", "acute:REF", "contract (pbr)")},
    "block": {("commissioner", "acute:REF", "contract (block)")},
    "risk_share": {("commissioner", "acute:REF", "contract (risk_share)")},
    "blended": {
        ("commissioner", "acute:REF", "contract (blended)"),
        ("commissioner", "acute:REF", "contract (pbr)"),
    },
    "aligned_payment": {("commissioner", "acute:REF", "contract (aligned_payment)")},
    "declining": {
        ("commissioner", "acute:REF", "contract (declining)"),
        ("commissioner", "community", "released from contract"),
    },
}
FLOWS = {
    name: EVERY_PRESET | COMMUNITY_BLOCK | ACUTE[name] | {("commissioner", "acute:REF", "CQUIN")}
    for name in ACUTE
} | {
    # The budget holder (the community provider) pays the acute trust at tariff and the
    # residents' out-of-area acute and community care; the commissioners pay only general
    # practice's out-of-area care.
    "capitation": EVERY_PRESET
    | {
        ("commissioner", "community", "contract (capitation)"),
        ("commissioner", "community", "CQUIN"),
        ("community", "acute:REF", "subcontract at tariff"),
        ("community", "out_of_area", "out-of-area treatment (capitated)"),
    }
}


@pytest.mark.parametrize("preset", PRESETS)
def test_who_pays_whom_for_what_under_each_preset(preset):
    b = drawn_books(doc(draws=2, end_year="2018/19", finance={"contracts": preset})).do_nothing[0]
    assert {(a, c, lab) for a, c, lab, _ in b.ledger.entries} == FLOWS[preset]
    for payer, payee, label, amount in b.ledger.entries:
        assert amount.shape == (2, 3)
        if label.startswith(("contract", "allocation", "subcontract", "out-of-area", "council", "special")):
            assert (amount > 0).all(), (payer, payee, label)


def test_the_commissioners_fund_care_models_unless_the_plan_says_not():
    model = [{"name": "geriatricians_front_door", "coverage": 0.8}]
    funded = drawn_books(doc(draws=2, interventions=model)).footprints[0]
    to_acute = paid(funded, "commissioner", "acute:REF", "care model: geriatricians_front_door")
    assert (to_acute >= 0).all() and (to_acute[:, -1] > 0).all()
    unfunded = drawn_books(
        doc(draws=2, interventions=model, finance={"commissioner_funds_care_models": False})
    ).footprints[0]
    assert not [e for e in unfunded.ledger.entries if e[2].startswith("care model")]
    # The same care model's cost falls on the trust either way; only who pays for it moves.
    i = row(funded, "acute:REF")
    np.testing.assert_allclose(funded.own_costs[i], unfunded.own_costs[i], rtol=1e-12)
    np.testing.assert_allclose(funded.income[i] - unfunded.income[i], to_acute, rtol=1e-9, atol=1e-6)


# ---- budgets, blocks and shared savings when the activity is the plan ------------------------


def test_the_capitation_budget_starts_at_the_tariff_value_it_covers_and_grows_with_the_allocation():
    cap = central_books(doc(finance={"contracts": "capitation"})).do_nothing[0]
    block = central_books(doc(finance={"contracts": "block"})).do_nothing[0]
    budget = paid(cap, "commissioner", "community", "contract (capitation)")
    # 2016/17: the planned acute and community care at tariff (what the blocks pay), plus the
    # residents' out-of-area care of the same settings, which the budget holder pays.
    covered = (
        paid(block, "commissioner", "acute:REF", "contract (block)")
        + paid(block, "commissioner", "community", "contract (block)")
        + paid(cap, "community", "out_of_area", "out-of-area treatment (capitated)")
    )
    np.testing.assert_allclose(budget[:, 0], covered[:, 0], rtol=1e-12)
    # Then it grows as the footprint's CCG and primary care allocations do.
    allocation = paid(cap, "nhs_england", "commissioner", "allocation (CCG and primary care)")
    np.testing.assert_allclose(budget / budget[:, :1], allocation / allocation[:, :1], rtol=1e-12)


@pytest.mark.parametrize("mff", [{}, {"acute": 1.1}])
def test_a_block_and_a_budget_holder_pay_the_acute_trust_alike_when_activity_is_the_plan(mff):
    """The budget holder pays the acute trust tariff (with its market forces factor, the CQUIN
    moved into prices from 2019/20 and CQUIN passed on) for the activity it does; a block pays
    the planned value. With the activity the plan, every year to 2023/24, they are the same."""
    d = doc(end_year="2023/24")
    block = central_books(d | {"finance": {"contracts": "block", "mff": mff}}).do_nothing[0]
    cap = central_books(d | {"finance": {"contracts": "capitation", "mff": mff}}).do_nothing[0]
    i = row(block, "acute:REF")
    np.testing.assert_allclose(cap.income[i], block.income[i], rtol=1e-12)
    np.testing.assert_allclose(cap.surplus[i], block.surplus[i], rtol=1e-9, atol=1e-3)


def test_a_risk_share_shares_nothing_when_the_populations_care_costs_the_plan():
    pbr = central_books(doc(finance={"contracts": "pbr"})).do_nothing[0]
    risk = central_books(doc(finance={"contracts": "risk_share"})).do_nothing[0]
    np.testing.assert_array_equal(
        paid(risk, "commissioner", "acute:REF", "contract (risk_share)"),
        paid(pbr, "commissioner", "acute:REF", "contract (pbr)"),
    )
    np.testing.assert_array_equal(risk.surplus, pbr.surplus)


def test_the_populations_shared_saving_is_split_equally_between_the_risk_share_payees(monkeypatch):
    """Whatever the transfer on the population's total cost of care, each risk-share payee gets
    an equal part of it, and together exactly the whole of it, once."""
    from stpsim import contracts

    monkeypatch.setattr(
        contracts, "two_sided_risk_share", lambda benchmark, cost, *rates: np.full(cost.shape, 7_000_000.0)
    )
    for footprint, trusts in ((CORNWALL, ("acute:REF",)), (GREATER_MANCHESTER, GM_TRUSTS)):
        d = doc(footprint, draws=2, end_year="2017/18")
        risk = central_books(d | {"finance": {"contracts": "risk_share"}}).do_nothing[0]
        pbr = central_books(d | {"finance": {"contracts": "pbr"}}).do_nothing[0]
        for t in trusts:
            extra = paid(risk, "commissioner", t, "contract (risk_share)") - paid(
                pbr, "commissioner", t, "contract (pbr)"
            )
            np.testing.assert_allclose(extra, 7_000_000.0 / len(trusts), rtol=1e-9)


# ---- market forces factors, local prices and the CQUIN moved into prices --------------------


@pytest.mark.parametrize("preset", ["pbr", "block", "capitation"])
def test_a_market_forces_factor_scales_the_trusts_income_in_every_year(preset):
    """MFF 1.1 makes every price the trust is paid 10% higher, its MRET baseline too: its income
    is exactly 10% higher in every draw and year (its 2016/17 costs are calibrated to it, so
    they rise alike). Naming the trust by id wins over naming its kind."""
    d = doc(draws=2, end_year="2023/24")
    books = {
        name: drawn_books(d | {"finance": {"contracts": preset, "mff": mff}}).do_nothing[0]
        for name, mff in (
            ("none", {}),
            ("kind", {"acute": 1.1}),
            ("id", {"acute:REF": 1.1}),
            ("both", {"acute": 1.3, "acute:REF": 1.1}),
        )
    }
    i = row(books["none"], "acute:REF")
    np.testing.assert_allclose(books["kind"].income[i], 1.1 * books["none"].income[i], rtol=1e-12)
    for name in ("id", "both"):
        np.testing.assert_array_equal(books[name].income, books["kind"].income)


def test_local_unit_costs_are_the_prices_the_trust_is_paid():
    uc = unit_cost_vector()
    acute = ("ae_attendances", "emergency_admissions", "elective_admissions", "day_cases")
    acute += ("outpatient_first", "outpatient_followup")
    rows = [{"setting": k, "unit_cost_gbp": float(1.1 * uc[ALL_SETTINGS.index(k)])} for k in acute]
    d = doc(draws=2, end_year="2022/23")
    national = drawn_books(d).do_nothing[0]
    local = drawn_books(d | {"data": {"unit_costs": {"rows": rows}}}).do_nothing[0]
    np.testing.assert_allclose(
        paid(local, "commissioner", "acute:REF", "contract (pbr)"),
        1.1 * paid(national, "commissioner", "acute:REF", "contract (pbr)"),
        rtol=1e-12,
    )


def test_local_allocations_are_paid_to_2020_21_and_then_grow_as_englands(monkeypatch):
    rows = [
        {"year": f"{y}/{(y + 1) % 100:02d}", "kind": kind, "allocation_gbp": base * (1 + 0.02 * (y - 2016))}
        for kind, base in (("CCGs", 1.0e9), ("Primary care", 1.2e8), ("Specialised commissioning", 2.0e8))
        for y in range(2016, 2021)
    ]
    d = doc(draws=2, end_year="2022/23", data={"allocations": {"rows": rows}})
    p = plan.validate(d, base_dir=None)
    draws = declare(p).draw(3, range(2))
    g = finance.finance_parameters(draws).allocation_growth_after_2020  # (draw,)
    b = engine.plan_books(p, incentives=False, draws=draws)[1].do_nothing[0]
    ccg_pc = paid(b, "nhs_england", "commissioner", "allocation (CCG and primary care)")
    specialised = paid(b, "nhs_england", "specialised", "specialised commissioning")
    # 2016/17..2020/21 as given: CCGs 1.0bn and primary care 0.12bn, 2% more a year of 2016/17's.
    given = 1.12e9 * np.array([1.0, 1.02, 1.04, 1.06, 1.08])
    np.testing.assert_allclose(ccg_pc[:, :5], np.tile(given, (2, 1)), rtol=1e-12)
    np.testing.assert_allclose(specialised[:, :5], np.tile(given / 5.6, (2, 1)), rtol=1e-12)
    # 2021/22 and 2022/23: 2020/21's, grown by each draw's allocation growth.
    for t, years in ((5, 1), (6, 2)):
        np.testing.assert_allclose(ccg_pc[:, t], 1.12e9 * 1.08 * (1 + g) ** years, rtol=1e-12)


def test_local_organisations_move_a_settings_payment_to_its_new_provider_and_the_plan_wins():
    d = doc(draws=2)
    national = drawn_books(d).do_nothing[0]
    rows = [{"organisation": "community", "setting": "gp_consultations", "share": 1.0}]
    moved = drawn_books(d | {"data": {"organisations": {"rows": rows}}}).do_nothing[0]

    def blocks(b):
        return paid(b, "commissioner", "primary_care", "contract (block)"), paid(
            b, "commissioner", "community", "contract (block)"
        )

    (gp0, com0), (gp1, com1) = blocks(national), blocks(moved)
    assert (gp1 < 0.2 * gp0).all(), "general practice keeps only its practice nurses"
    # The money follows the work, at the community provider's prices: from 2019/20 they carry the
    # CQUIN moved into NHS Standard Contract prices, which general practice's never did.
    uplift = np.array([1.0, 1.0, 1.0, 1.0125, 1.0125])
    np.testing.assert_allclose(com1 - com0, (gp0 - gp1) * uplift, rtol=1e-9)
    back = drawn_books(
        d
        | {
            "data": {"organisations": {"rows": rows}},
            "finance": {"delivery": {"gp_consultations": {"primary_care": 1.0}}},
        }
    ).do_nothing[0]
    np.testing.assert_array_equal(blocks(back)[0], gp0)


def test_the_cquin_moved_into_prices_raises_trusts_prices_by_its_rate_and_not_general_practices(monkeypatch):
    d = doc(draws=2, end_year="2023/24")
    books = {"with": {}, "without": {}}
    for preset in ("block", "capitation"):
        books["with"][preset] = drawn_books(d | {"finance": {"contracts": preset}}).do_nothing[0]
    real = rules.rule_book
    monkeypatch.setattr(rules, "rule_book", lambda y: dataclasses.replace(real(y), cquin_in_prices=0.0))
    for preset in ("block", "capitation"):
        books["without"][preset] = drawn_books(d | {"finance": {"contracts": preset}}).do_nothing[0]
    # 2016/17..2018/19 untouched; from 2019/20 1.25% on every NHS Standard Contract price.
    uplift = np.array([1.0, 1.0, 1.0, 1.0125, 1.0125, 1.0125, 1.0125, 1.0125])
    for preset in ("block", "capitation"):
        w, wo = books["with"][preset], books["without"][preset]
        i, gp = row(w, "acute:REF"), row(w, "primary_care")
        np.testing.assert_allclose(w.income[i], wo.income[i] * uplift, rtol=1e-12)
        np.testing.assert_array_equal(w.income[gp], wo.income[gp])


# ---- contracts a plan lists itself ------------------------------------------------------------


def _listed(*acute) -> list[dict]:
    return [
        *acute,
        {"payee": "community", "mechanism": "block"},
        {"payee": "primary_care", "mechanism": "block"},
    ]


def test_a_declining_contracts_money_goes_to_the_community_provider_unless_it_names_another():
    d = doc(draws=2, end_year="2019/20")
    default = drawn_books(
        d | {"finance": {"contracts": _listed({"payee": "acute", "mechanism": "declining", "rate": 0.05})}}
    ).do_nothing[0]
    named = drawn_books(
        d
        | {
            "finance": {
                "contracts": _listed(
                    {"payee": "acute", "mechanism": "declining", "rate": 0.05, "recipient": "primary_care"}
                )
            }
        }
    ).do_nothing[0]
    released = paid(default, "commissioner", "community", "released from contract")
    np.testing.assert_array_equal(
        released, paid(named, "commissioner", "primary_care", "released from contract")
    )
    # The contract and the released money are the trust's 2016/17 value at each year's prices:
    # the trust keeps 95% of it a year later, 90.25% two years later.
    value = paid(default, "commissioner", "acute:REF", "contract (declining)")
    whole = value + released
    np.testing.assert_allclose(value[:, 1:4] / whole[:, 1:4], [[0.95, 0.9025, 0.857375]] * 2, rtol=1e-12)
    np.testing.assert_allclose(released[:, 0], 0.0, atol=1e-6)


def test_a_contracts_own_cquin_rate_is_paid_in_every_year_with_the_block_years_allowance():
    d = doc(draws=2, end_year="2022/23")
    p = plan.validate(
        d | {"finance": {"contracts": _listed({"payee": "acute", "mechanism": "pbr", "cquin_rate": 0.03})}}
    )
    draws = declare(p).draw(3, range(2))
    achieved = finance.finance_parameters(draws).cquin_achievement[:, None]
    b = engine.plan_books(p, incentives=False, draws=draws)[1].do_nothing[0]
    share = paid(b, "commissioner", "acute:REF", "CQUIN") / paid(
        b, "commissioner", "acute:REF", "contract (pbr)"
    )
    # 3% of the contract by achievement every year; in 2020/21 and 2021/22 also the 1.25%
    # allowance paid inside the blocks whatever was achieved.
    inside = np.array([0.0, 0.0, 0.0, 0.0, 0.0125, 0.0125, 0.0])
    np.testing.assert_allclose(share, 0.03 * achieved + inside, rtol=1e-12)


# ---- 2016/17, and years before a care model starts --------------------------------------------


def test_2016_17_is_the_starting_position_alone_when_activity_is_the_plan():
    b = central_books(doc(draws=2)).do_nothing[0]
    for line, values in b.bridge.items():
        if line != "starting_deficit":
            np.testing.assert_allclose(values[:, 0], 0.0, atol=1e-6, err_msg=line)
    np.testing.assert_allclose(b.gap[:, 0], b.bridge["starting_deficit"][:, 0], rtol=1e-12)


def test_before_its_care_models_start_a_plans_books_are_the_do_nothings():
    d = doc(
        draws=2,
        interventions=[{"name": "reduced_delayed_transfers", "coverage": 1.0, "ramp": {"2017/18": 1.0}}],
        finance={"provider_efficiency": {"low": 2.0, "high": 2.0}},
    )
    fin = drawn_books(d)
    plan_books, nothing = fin.footprints[0], fin.do_nothing[0]
    np.testing.assert_array_equal(plan_books.own_costs[:, :, 0], nothing.own_costs[:, :, 0])
    np.testing.assert_array_equal(plan_books.income[:, :, 0], nothing.income[:, :, 0])
    # From 2017/18 the councils fund more home care, at its average cost.
    sc = row(nothing, "social_care")
    assert (plan_books.own_costs[sc, :, 1:] > nothing.own_costs[sc, :, 1:]).all()


# ---- who bears what ------------------------------------------------------------------------------


def test_the_extensivist_shift_moves_each_sessions_full_cost_from_hospital_to_community():
    """Each community consultant session treated in area moves its unit cost (GBP 480 in
    2016/17, or the footprint's own), at pay and prices, from the acute trust to the community
    provider."""
    for unit_cost, data in (
        (480.0, {}),
        (
            600.0,
            {"unit_costs": {"rows": [{"setting": "community_consultant_sessions", "unit_cost_gbp": 600.0}]}},
        ),
    ):
        p = plan.validate(doc(draws=2, **({"data": data} if data else {})), base_dir=None)
        draws = declare(p).draw(3, range(2))
        params = finance.finance_parameters(draws)
        arr = engine.run_block(p, [CORNWALL], range(2), draws)
        years = np.arange(2016, 2021)
        base = arr.do_nothing[:, :, 0]
        sessions = base.copy()
        sessions[..., ALL_SETTINGS.index("community_consultant_sessions")] = 1000.0
        central = engine.central_plan_activity(p)[:, 0]
        books = [
            finance.footprint_finance(
                p.places[0],
                p.finance,
                years,
                finance.Scenario(a, base, arr.demographic[:, 0], central),
                params,
            )
            for a in (base, sessions)
        ]
        moved = books[1].own_costs - books[0].own_costs
        # 1,000 residents' sessions, the out-of-area share treated elsewhere.
        expected = (
            1000.0
            * (1 - params.out_of_area[:, None])
            * unit_cost
            * (1 + params.inflation[:, None]) ** (years - 2016)
        )
        np.testing.assert_allclose(moved[row(books[0], "community")], expected, rtol=1e-9)
        np.testing.assert_allclose(moved[row(books[0], "acute:REF")], -expected, rtol=1e-9)


def test_two_trusts_share_a_care_models_cost_by_their_2016_17_size():
    """A care model run by acute trusts falls on each in proportion to its 2016/17 cost; the
    commissioners pay each its part, and the parts add up to the whole cost."""
    model = [{"name": "geriatricians_front_door", "coverage": 0.8}]
    fin = central_books(doc(TWO_TRUSTS, draws=2, interventions=model))
    cost = fin.care_model_costs[0].cost[0]  # (draw, year) the model's whole cost
    b = fin.do_nothing[0]
    trusts = [o.id for o in b.orgs if o.kind == "acute"]
    assert len(trusts) == 2
    size = np.array([b.own_costs[row(b, t), :, 0] for t in trusts])  # (trust, draw) 2016/17 cost
    label = "care model: geriatricians_front_door"
    got = np.array([paid(fin.footprints[0], "commissioner", t, label) for t in trusts])
    assert (cost[:, 1:] > 0).all()
    np.testing.assert_allclose(got.sum(axis=0), cost, rtol=1e-12)
    np.testing.assert_allclose(got[0], cost * (size[0] / size.sum(axis=0))[:, None], rtol=1e-12)


def test_a_trust_given_no_acute_care_has_no_income_no_costs_and_finite_books():
    shares = {"RMC": 1.0} | {t.removeprefix("acute:"): 0.0 for t in GM_TRUSTS[1:]}
    d = doc(
        GREATER_MANCHESTER,
        draws=2,
        interventions=[{"name": "reduced_delayed_transfers", "coverage": 1.0}],
        finance={"acute_shares": shares, "close_surplus_wards": True},
    )
    with np.errstate(invalid="raise", divide="raise"):
        fin = drawn_books(d)
    for b in (fin.footprints[0], fin.do_nothing[0]):
        assert np.isfinite(b.income).all() and np.isfinite(b.own_costs).all()
        for t in GM_TRUSTS[1:]:
            i = row(b, t)
            np.testing.assert_array_equal(b.own_costs[i], 0.0)
            np.testing.assert_array_equal(b.surplus[i], 0.0)
        assert (b.income[row(b, "acute:RMC")] > 0).all()


def test_a_plan_of_two_footprints_may_give_acute_shares_for_one_of_them():
    d = doc(draws=2, end_year="2017/18", finance={"acute_shares": {"REF": 1.0}})
    d["footprints"] = [CORNWALL, GREATER_MANCHESTER]
    fin = drawn_books(d)
    gm = next(b for b in fin.do_nothing if b.code == GREATER_MANCHESTER)
    for t in GM_TRUSTS:  # Greater Manchester's trusts keep their published sizes' shares
        assert (gm.income[row(gm, t)] > 0).all(), t


# ---- efficiency: a back office counts within it -------------------------------------------------


def test_before_a_back_office_starts_the_plan_has_exactly_the_efficiency_alone():
    base = doc(draws=2, end_year="2019/20", finance={"provider_efficiency": {"low": 2.0, "high": 2.0}})
    bo = [{"name": "back_office_and_estates", "coverage": 1.0, "ramp": {"2018/19": 1.0}}]
    alone = drawn_books(base).footprints[0]
    both = drawn_books(base | {"interventions": bo}).footprints[0]
    np.testing.assert_allclose(both.system_surplus[:, :2], alone.system_surplus[:, :2], rtol=1e-12, atol=1e-6)
    np.testing.assert_allclose(both.efficiency_saving[:, :2], alone.efficiency_saving[:, :2], atol=1e-6)


def test_while_a_back_office_is_invested_in_the_efficiency_is_worked_out_on_the_cost_before_its_saving():
    """A back office counts within the trusts' cost improvement: the improvement is asked of the
    cost before the back office's saving, and the saving counts towards it. So, while its
    investment is made, the plan with both costs the efficiency-alone plan the investment,
    less the improvement on it: investment x (1 - e)^t with e = 2% a year."""
    base = doc(draws=2, end_year="2020/21", finance={"provider_efficiency": {"low": 2.0, "high": 2.0}})
    bo = [{"name": "back_office_and_estates", "coverage": 1.0, "ramp": {"2017/18": 0.5, "2019/20": 1.0}}]
    alone = drawn_books(base).footprints[0]
    fin = drawn_books(base | {"interventions": bo})
    both, cm = fin.footprints[0], fin.care_model_costs[0]
    invested = cm.investment[0]  # (draw, year)
    assert (invested[:, 1] > 0).all() and (invested[:, 3] > 0).all()
    kept = 0.98 ** np.arange(5)
    np.testing.assert_allclose(
        alone.system_surplus - both.system_surplus, invested * kept, rtol=1e-9, atol=1e-3
    )


# ---- commitments after 2020/21 -------------------------------------------------------------------


def test_the_gp_forward_view_path_ends_in_2020_21():
    from stpsim.finance.books import _gpfv_index

    years = np.arange(2016, 2026)
    got = _gpfv_index(years)
    np.testing.assert_allclose(got, _gpfv(years), rtol=1e-12)
    np.testing.assert_array_equal(got[4:], np.full(6, got[4]))
    assert got[0] == 1.0 and got[4] > got[3]


def test_the_mental_health_commitment_holds_the_forward_views_money_after_2020_21():
    """Mental health's income grows at least as the CCG allocation, plus its share of the Five
    Year Forward View for Mental Health's new money, fully phased in by 2020/21 and no more after
    it: where the commissioners top the provider up, its income is exactly that commitment."""
    from stpsim.finance.allocations import allocation_share, national_allocation
    from stpsim.finance.books import _setup, base_year

    years = np.arange(2016, 2024)
    p = plan.validate(doc(draws=4, end_year="2023/24"))
    draws = declare(p).draw(3, range(4))
    params = finance.finance_parameters(draws)
    arr, fin = engine.plan_books(p, incentives=False, draws=draws)
    b = fin.do_nothing[0]
    lsoas = p.places[0].lsoas
    base = base_year(_setup(p.places[0], p.finance, years, params, arr.demographic[:, 0]))
    ccg = national_allocation("CCGs", years, params.allocation_growth_after_2020)
    ccg = ccg * allocation_share("CCGs", lsoas, years)[None, :]
    _, extra = _mental_health(lsoas, years)
    i = row(b, "mental_health")
    committed = base.income[i][:, None] * ccg / ccg[:, :1] + extra[None, :]
    topped = paid(b, "commissioner", "mental_health", "committed investment") > 0
    assert topped[:, 5:].all()
    np.testing.assert_allclose(b.income[i][topped], committed[topped], rtol=1e-9)


# ---- sharing between scenarios -------------------------------------------------------------------


def _scenario_parts(footprint=CORNWALL):
    p = plan.validate(doc(footprint, draws=2))
    full = engine.from_base_year(p)
    draws = engine.parameter_draws(full, range(2))
    params = finance.finance_parameters(draws)
    arr = engine.run_block(full, [footprint], range(2), draws)
    planned = engine.central_plan_activity(full)
    return full, arr, params, planned


def test_shared_books_refuse_another_footprint_other_options_or_other_activity():
    full, arr, params, planned = _scenario_parts()
    years = np.arange(2016, 2021)
    sc = finance.Scenario(
        arr.do_nothing[:, :, 0], arr.do_nothing[:, :, 0], arr.demographic[:, 0], planned[:, 0]
    )
    message = "books.Shared serves the scenarios of one footprint, plan and set of draws"

    def bound():
        shared = finance.Shared()
        finance.footprint_finance(full.places[0], full.finance, years, sc, params, shared)
        return shared

    gm = geography.find(GREATER_MANCHESTER)
    with pytest.raises(ValueError) as e:
        finance.footprint_finance(gm, full.finance, years, sc, params, bound())
    assert str(e.value) == message
    other = full.finance.model_copy(update={"close_surplus_wards": True})
    with pytest.raises(ValueError, match="^books.Shared serves"):
        finance.footprint_finance(full.places[0], other, years, sc, params, bound())
    more = sc.do_nothing + 1.0
    with pytest.raises(ValueError, match="^books.Shared serves"):
        finance.footprint_finance(
            full.places[0],
            full.finance,
            years,
            finance.Scenario(more, more, sc.demographic, sc.planned),
            params,
            bound(),
        )
    # Equal options in another object, and the same numbers in another array, are the same.
    shared = bound()
    again = finance.Scenario(
        sc.do_nothing.copy(), sc.do_nothing.copy(), sc.demographic.copy(), sc.planned.copy()
    )
    equal = full.finance.model_copy()
    assert equal is not full.finance and equal == full.finance
    first = finance.footprint_finance(full.places[0], equal, years, again, params, shared)
    fresh = finance.footprint_finance(full.places[0], full.finance, years, sc, params)
    np.testing.assert_array_equal(first.surplus, fresh.surplus)


def test_books_start_in_2016_17():
    full, arr, params, planned = _scenario_parts()
    sc = finance.Scenario(
        arr.do_nothing[:, 1:, 0], arr.do_nothing[:, 1:, 0], arr.demographic[1:, 0], planned[1:, 0]
    )
    with pytest.raises(ValueError) as e:
        finance.footprint_finance(full.places[0], full.finance, np.arange(2017, 2021), sc, params)
    assert str(e.value) == "books start in 2016/17; cut them to the reporting window afterwards"


def test_every_saving_that_is_part_of_efficiency_counts_within_it():
    """Two care models whose running savings are ways trusts meet their cost improvement (the
    back office and a plan's own shared procurement): once their investment is made, the plan
    with both and its provider efficiency has exactly the gap of the efficiency alone."""
    base = doc(draws=2, finance={"provider_efficiency": {"low": 2.0, "high": 2.0}})
    procurement = {
        "name": "shared_procurement",
        "title": "Shared procurement (test)",
        "delivered_by": "acute",
        "part_of_efficiency": True,
        "costs": {"running_cost": {"low": -2000, "high": -2000}},
    }
    models = [
        {"name": "back_office_and_estates", "coverage": 1.0, "ramp": {"2017/18": 1.0}},
        {"name": "shared_procurement", "coverage": 1.0, "ramp": {"2017/18": 1.0}},
    ]
    alone = drawn_books(base).footprints[0]
    fin = drawn_books(base | {"custom_interventions": [procurement], "interventions": models})
    both = fin.footprints[0]
    running = fin.care_model_costs[0].running[:, :, -1]  # (model, draw) in 2020/21
    assert (running < 0).all() and (fin.care_model_costs[0].investment[:, :, -1] == 0).all()
    np.testing.assert_allclose(both.system_surplus[:, -1], alone.system_surplus[:, -1], rtol=1e-12)
    np.testing.assert_allclose(
        alone.efficiency_saving[:, -1] - both.efficiency_saving[:, -1], -running.sum(axis=0), rtol=1e-9
    )


@pytest.mark.parametrize("mff", [{}, {"acute": 1.1}, {"acute:REF": 0.9, "community": 1.2}])
def test_in_2016_17_every_trust_carries_the_deficit_in_proportion_to_its_income(mff):
    """The 2016/17 books are calibrated: each trust's cost is its income (after MRET, at its own
    market forces factor) plus its income share of the footprint's deficit. With the activity
    the plan, every trust's 2016/17 margin is the same."""
    b = central_books(doc(draws=2, finance={"contracts": "pbr", "mff": mff})).do_nothing[0]
    trusts = [row(b, t) for t in ("acute:REF", "community", "mental_health", "specialised")]
    margins = np.array([b.surplus[i, :, 0] / b.income[i, :, 0] for i in trusts])
    assert (margins < 0).all()
    np.testing.assert_allclose(margins, np.broadcast_to(margins[0], margins.shape), rtol=1e-9)


def test_the_risk_share_benchmark_is_the_planned_cost_of_the_populations_care(monkeypatch):
    """The risk share compares the residents' care at tariff with its planned cost. With the
    activity the plan, the two are equal in every year the plan has not changed the activity:
    every year in the do-nothing, and the years before the plan's care model starts."""
    from stpsim import contracts

    seen = []

    def record(benchmark, cost, *rates):
        seen.append((np.array(benchmark), np.array(cost)))
        return np.zeros(cost.shape)

    monkeypatch.setattr(contracts, "two_sided_risk_share", record)
    model = [{"name": "hospital_at_home", "coverage": 1.0, "ramp": {"2018/19": 1.0}}]
    central_books(doc(draws=2, interventions=model, finance={"contracts": "risk_share"}))
    assert len(seen) >= 2
    moved = False
    for benchmark, cost in seen:
        assert (benchmark > 0).all()
        np.testing.assert_allclose(cost[:, :2], benchmark[:, :2], rtol=1e-12)
        moved = moved or not np.allclose(cost, benchmark, rtol=1e-12)
    assert moved, "the plan's care model changes the population's cost from 2018/19"
