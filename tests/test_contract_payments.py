"""Issue 24, item 2: the payments between organisations recomputed outside the ledger, from the
contracts' own terms and each provider's activity, year by year with the rule book's rates in
plain arithmetic: they equal the books' entries, payee by payee, and what the commissioners pay
out is what the providers take in."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from stpsim import engine, finance
from stpsim.axes import ALL_SETTINGS
from stpsim.finance import books as ledger_books
from stpsim.payment import rule_book
from stpsim.payment.mechanisms import EMERGENCY

from .test_bridge import cornwall

DRAWS = 6
# The presets whose payments are written out here: the national tariff through its regimes
# (payment by results with MRET to 2018/19, blended payment in 2019/20, block in 2020/21), block
# contracts and a declining contract; general practice and community services on blocks.
WRITTEN_OUT = ("pbr", "block", "declining")


def _run(preset: str, seed: int, planned: bool):
    p = engine.from_base_year(cornwall(preset, draws=DRAWS, seed=seed, interventions=planned))
    draws = engine.parameter_draws(p, range(DRAWS))
    arrays = engine.run_block(p, p.places, range(DRAWS), draws)
    fin = engine.plan_finance(p, arrays, draws, incentives=False)
    params = finance.finance_parameters(draws)
    years = np.arange(p.first_year, p.last_year + 1)
    setup = ledger_books._setup(p.places[0], p.finance, years, params, arrays.demographic[:, 0])
    return p, arrays, fin, params, setup, engine.central_plan_activity(p)[:, 0]


def _paid_under_the_rules(preset, org, i, s, resident, planned, params, years) -> tuple:
    """(contract, CQUIN, released) by (draw, year) to organisation ``org`` (row ``i``), written
    out year by year: what each unit of care is paid under the year's rules."""
    k = [j for j, x in enumerate(ALL_SETTINGS) if s.shares[i, j] > 0]
    names = [ALL_SETTINGS[j] for j in k]
    mff = s.mff(org)
    n_d, n_t = resident.shape[:2]
    contract, cquin, released = np.zeros((n_d, n_t)), np.zeros((n_d, n_t)), np.zeros((n_d, n_t))
    acute = org.kind == "acute"
    for t, year in enumerate(years):
        rules = rule_book(int(year))
        path = s.tariff_index[:, t]
        uplift = 1.0 if org.kind == "primary_care" else 1.0 + rules.cquin_in_prices
        paid = np.zeros(n_d)
        for j, name in zip(k, names, strict=True):
            done = resident[:, t, j] * s.shares[i, j] * s.keep[:, j]  # (draw,) units delivered
            agreed = planned[t, j] * s.shares[i, j] * s.keep_central[j]  # units planned
            price = s.price[j] * mff * path * uplift
            base = s.shares[i, j] * s.base_act[j] * s.keep_central[j] * s.price[j] * mff  # 2016/17 value
            if not acute or preset == "block":
                paid += agreed * price
            elif preset == "declining":
                value = base * path * (1 - p_rate(s)) ** (year - years[0])
                paid += value
                released[:, t] += base * path - value
            elif rules.emergency == "pbr":
                paid += done * price
                if name == "emergency_admissions":  # MRET: above the 2008/09 baseline at the marginal rate
                    baseline = base * params.mret_baseline_ratio * path
                    paid -= (1 - rules.mret_rate) * np.maximum(done * price - baseline, 0.0)
            elif rules.emergency == "blended" and name in EMERGENCY:
                paid += agreed * price + rules.blended_variable_rate * price * (done - agreed)
            elif rules.emergency == "blended":
                paid += done * price
            else:  # block years: the planned value, whatever was done
                paid += agreed * price
        contract[:, t] = paid
        if org.kind != "primary_care":
            cquin[:, t] = paid * (rules.cquin_rate * params.cquin_achievement + rules.cquin_in_block)
    return contract, cquin, released


def p_rate(s) -> float:
    return s.options.declining_rate


def _entries(books, payee: str, label: str) -> np.ndarray:
    found = [a for payer, to, what, a in books.ledger.entries if to == payee and what.startswith(label)]
    return sum(found) if found else np.zeros(books.ledger.shape)


@settings(max_examples=9, deadline=None)
@given(preset=st.sampled_from(WRITTEN_OUT), seed=st.integers(0, 10_000), planned=st.booleans())
def test_contract_payments_recomputed_from_their_terms_are_the_books(preset, seed, planned):
    p, arrays, fin, params, s, planned_activity = _run(preset, seed, planned)
    years = np.arange(p.first_year, p.last_year + 1)
    scenarios = (
        (fin.do_nothing[0], arrays.do_nothing[:, :, 0]),
        (fin.footprints[0], arrays.activity[:, :, 0]),
    )
    for books, resident in scenarios:
        total, released_total = 0.0, 0.0
        for i, org in enumerate(books.orgs):
            if org.kind not in ("acute", "community", "primary_care"):
                continue
            contract, cquin, released = _paid_under_the_rules(
                preset, org, i, s, resident, planned_activity, params, years
            )
            # What each provider takes in, read from its side of the entries.
            np.testing.assert_allclose(_entries(books, org.id, "contract ("), contract, rtol=1e-12)
            np.testing.assert_allclose(_entries(books, org.id, "CQUIN"), cquin, rtol=1e-12, atol=1e-6)
            total, released_total = total + contract + cquin + released, released_total + released
        # A declining contract's released money reaches community services (the recipient).
        np.testing.assert_allclose(
            _entries(books, "community", "released from contract"), released_total, rtol=1e-12, atol=1e-6
        )
        # What the commissioners pay out on these contracts, read from their side of the entries.
        paid_out = sum(
            a
            for payer, to, what, a in books.ledger.entries
            if payer == "commissioner"
            and what.startswith(("contract (", "CQUIN", "released from contract"))
            and to != "mental_health"
        )
        np.testing.assert_allclose(paid_out, total, rtol=1e-12)


@settings(max_examples=4, deadline=None)
@given(seed=st.integers(0, 10_000), planned=st.booleans())
def test_a_capitated_budget_and_what_its_holder_pays_are_recomputed_from_their_terms(seed, planned):
    """Capitation: the budget holder (community services) is paid its 2016/17 covered care at
    tariff grown as the CCG and primary-care allocations grow, and pays every other provider
    of covered care at tariff with its CQUIN passed on, and the out-of-area care of its
    population: each payer's outflow and each payee's inflow, written out."""
    from stpsim.finance.allocations import allocation_share, national_allocation
    from stpsim.organisations import DEFAULT_DELIVERY

    p, arrays, fin, params, s, _ = _run("capitation", seed, planned)
    years = np.arange(p.first_year, p.last_year + 1)
    covered = [ALL_SETTINGS.index(k) for k in (*DEFAULT_DELIVERY["acute"], *DEFAULT_DELIVERY["community"])]
    growth = sum(
        national_allocation(kind, years, params.allocation_growth_after_2020)
        * allocation_share(kind, p.places[0].lsoas, years)[None, :]
        for kind in ("CCGs", "Primary care")
    )
    budget = sum(s.base_act[k] * s.price[k] for k in covered) * growth / growth[:, :1]
    scenarios = (
        (fin.do_nothing[0], arrays.do_nothing[:, :, 0]),
        (fin.footprints[0], arrays.activity[:, :, 0]),
    )
    for books, resident in scenarios:
        lead = next(o for o in books.orgs if o.id == "community")
        np.testing.assert_allclose(_entries(books, lead.id, "contract (capitation"), budget, rtol=1e-12)
        passed_on = (
            1
            + np.array([[rule_book(int(y)).cquin_rate for y in years]]) * params.cquin_achievement[:, None]
            + np.array([[rule_book(int(y)).cquin_in_block for y in years]])
        )
        paid_by_lead = 0.0
        for i, org in enumerate(books.orgs):
            if org.id == lead.id or org.kind not in ("acute", "community", "primary_care"):
                continue
            uplift = np.array(
                [
                    [
                        1.0 if org.kind == "primary_care" else 1 + rule_book(int(y)).cquin_in_prices
                        for y in years
                    ]
                ]
            )
            at_tariff = sum(
                resident[:, :, k] * s.shares[i, k] * s.keep[:, None, k] * s.price[k] for k in covered
            ) * (s.tariff_index * s.mff(org) * uplift * passed_on)
            got = sum(a for payer, to, what, a in books.ledger.entries if payer == lead.id and to == org.id)
            np.testing.assert_allclose(
                got if np.ndim(got) else np.zeros_like(at_tariff), at_tariff, rtol=1e-12
            )
            paid_by_lead = paid_by_lead + at_tariff
        away = (
            sum(resident[:, :, k] * (1 - s.keep[:, None, k]) * s.price[k] for k in covered) * s.tariff_index
        )
        paid_by_lead = paid_by_lead + away
        lead_out = sum(a for payer, _, _, a in books.ledger.entries if payer == lead.id)
        np.testing.assert_allclose(lead_out, paid_by_lead, rtol=1e-12)
