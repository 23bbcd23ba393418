"""Contracts of one mechanism and terms with providers of one kind (a preset's contract with each
of Greater Manchester's seven acute trusts) are paid in one pass along a payee axis, the speed
issue 18 asked for ("vectorise contracts across the trusts of one kind"). Each payee must be paid
exactly what its own contract, paid alone, would pay it: every entry of the ledger the same to
the bit, under every preset and a hand-written list, for the plan, doing nothing and each care
model alone."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stpsim import engine, finance, plan
from stpsim.axes import ALL_SETTINGS
from stpsim.contract_terms import PRESETS
from stpsim.finance import books
from stpsim.organisations import resolve

DRAWS = 5
# A hand-written list: one PbR contract with every acute trust (a kind, resolved to seven
# payees), a corridor for community services, cost and volume for general practice.
WRITTEN = [
    {"payee": "acute", "mechanism": "pbr", "mret_rate": 0.5},
    {"payee": "community", "mechanism": "corridor"},
    {"payee": "primary_care", "mechanism": "cost_and_volume"},
]


def _one_by_one(s, specs):
    return [((n, spec, o),) for n, spec in enumerate(specs) for o in resolve(spec.payee, s.orgs)]


def _books(contracts, seed: int, grouped: bool, monkeypatch):
    doc = plan.load("examples/greater_manchester.yaml").model_dump(mode="json", exclude_none=True)
    doc["monte_carlo"].update(draws=DRAWS, seed=seed)
    doc["finance"]["contracts"] = contracts  # validated with the plan, as a user's document is
    p = plan.validate(doc)
    with monkeypatch.context() as m:
        if not grouped:
            m.setattr(books, "_contract_groups", _one_by_one)
        _, fin = engine.plan_books(p)
    return fin


@settings(max_examples=10, deadline=None)
@given(contracts=st.sampled_from([*PRESETS, "written"]), seed=st.integers(0, 10_000))
def test_contracts_paid_together_pay_each_payee_what_it_alone_is_paid(contracts, seed):
    contracts = WRITTEN if contracts == "written" else contracts
    with pytest.MonkeyPatch.context() as monkeypatch:
        together = _books(contracts, seed, True, monkeypatch)
        alone = _books(contracts, seed, False, monkeypatch)
    for a, b in zip(
        (*together.footprints, *together.do_nothing), (*alone.footprints, *alone.do_nothing), strict=True
    ):
        assert [e[:3] for e in a.ledger.entries] == [e[:3] for e in b.ledger.entries]
        for x, y in zip(a.ledger.entries, b.ledger.entries, strict=True):
            assert np.array_equal(x[3], y[3]), x[:3]
        assert np.array_equal(a.surplus, b.surplus)
    assert together.incentives.keys() == alone.incentives.keys()
    for key, gain in together.incentives.items():
        assert np.array_equal(gain, alone.incentives[key]), key


def test_a_preset_pays_the_acute_trusts_in_one_group():
    p = plan.load("examples/greater_manchester.yaml")
    years = np.arange(2016, 2021)
    fp = p.places[0]
    draws = engine.parameter_draws(p, range(2))
    s = books._setup(fp, p.finance, years, finance.finance_parameters(draws), np.ones((5, len(ALL_SETTINGS))))
    groups = books._contract_groups(s, books.contracts_for(p.finance, s.orgs))
    sizes = {g[0][2].kind: len(g) for g in groups}
    assert sizes["acute"] == 7  # every acute trust's PbR contract in one pass
    assert sizes["mental_health"] == 1  # mental health's block is paid on its own
