"""A care model adopted alone (one pass of the incentive matrix, one optimiser option) moves care
in a few settings only. The engine says which (``RunArrays.moved``) and the books then work out
only those settings again: the do-nothing's value plus the change in them. These tests hold the
shortcuts to the long way round: the books of every care model alone must be what they are when
every setting is compared and paid again, to rounding, under every contract preset."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stpsim import engine, finance, plan
from stpsim.adoption import adopted_interventions
from stpsim.contract_terms import PRESETS
from stpsim.finance import books

DRAWS = 6


def _plan(contracts: str, seed: int) -> plan.Plan:
    doc = plan.load("examples/greater_manchester.yaml").model_dump(mode="json", exclude_none=True)
    doc["monte_carlo"].update(draws=DRAWS, seed=seed)
    doc["finance"]["contracts"] = contracts
    return plan.validate(doc)


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_a_plan_and_each_care_model_alone_move_no_setting_they_do_not_declare(seed):
    p = _plan("pbr", seed)
    arrays = engine.run_chunked(engine.from_base_year(p), p.places, range(DRAWS), alone=True)
    assert len(arrays.alone) == len(p.interventions)
    # the plan moves what its care models move, and nothing else, to the bit
    assert np.array_equal(arrays.moved, np.logical_or.reduce([a.moved for a in arrays.alone]))
    for alone in (arrays, *arrays.alone):
        differs = (alone.activity != alone.do_nothing).any(axis=(0, 1, 2))
        assert alone.moved.dtype == bool and alone.moved.shape == differs.shape
        assert not (differs & ~alone.moved).any()  # every setting that differs is declared moved
        assert np.array_equal(alone.activity[..., ~alone.moved], alone.do_nothing[..., ~alone.moved])


def test_chunks_join_what_each_care_model_moves(monkeypatch):
    p = _plan("pbr", 3)
    whole = engine.run_chunked(engine.from_base_year(p), p.places, range(DRAWS), alone=True)
    monkeypatch.setattr(engine, "CHUNK", 2)
    chunked = engine.run_chunked(engine.from_base_year(p), p.places, range(DRAWS), alone=True)
    for a, b in zip(whole.alone, chunked.alone, strict=True):
        assert np.array_equal(a.moved, b.moved)
        assert np.array_equal(a.activity, b.activity)


def _long_way(monkeypatch):
    """The books with every shortcut for a few moved settings turned off: the settings that
    changed are found by comparing every one, and out-of-area care and valued activity are paid
    and valued over every setting again."""
    monkeypatch.setattr(books, "_out_of_area_now", _every_setting_out_of_area)
    monkeypatch.setattr(books, "_valued_now", _every_setting_valued)
    original = engine.footprint_books

    def compared(*args, **kwargs):
        plan_, arr = args[:2]
        return original(plan_, _unknown_moves(arr), *args[2:], **kwargs)

    monkeypatch.setattr(engine, "footprint_books", compared)


def _unknown_moves(arr):
    from dataclasses import replace

    return replace(arr, moved=None)


def _every_setting_out_of_area(s, sh, key, resident, settings, changed):
    return books._out_of_area(s, resident, settings)


def _every_setting_valued(dn, activity, do_nothing, rows, changed):
    from stpsim.finance import provider_costs

    return provider_costs.valued(activity * dn.real, dn.weights[rows])


@settings(max_examples=10, deadline=None)
@given(contracts=st.sampled_from(PRESETS), seed=st.integers(0, 10_000))
def test_each_care_model_alone_costs_what_the_long_way_costs(contracts, seed):
    p = _plan(contracts, seed)
    _, short = engine.plan_books(p)
    with pytest.MonkeyPatch.context() as m:
        _long_way(m)
        _, long = engine.plan_books(p)
    assert short.incentives_by_year.keys() == long.incentives_by_year.keys()
    scale = max(abs(b.surplus).max() for b in long.do_nothing)  # the books' own size, GBP
    for key, gain in short.incentives_by_year.items():
        # to rounding: the change is added to the do-nothing's sum instead of summed afresh
        expected = long.incentives_by_year[key]
        np.testing.assert_allclose(gain, expected, rtol=0, atol=scale * 1e-14, err_msg=str(key))
    books_short = (*short.footprints, *short.do_nothing)
    for a, b in zip(books_short, (*long.footprints, *long.do_nothing), strict=True):
        np.testing.assert_allclose(a.surplus, b.surplus, rtol=1e-13, atol=1e-3)


def test_the_long_way_is_what_the_test_compares_against(monkeypatch):
    """The comparison above can fail: a care model's books costed as if it moved nothing (its
    activity ignored) differ from its books."""
    p = _plan("pbr", 1)
    arrays, fin = engine.plan_books(p)
    full = engine.from_base_year(p)
    draws = engine.parameter_draws(full, range(DRAWS))
    params = finance.finance_parameters(draws)
    planned = engine.central_plan_activity(full)
    alone = full.model_copy(update={"interventions": [full.interventions[0]]})
    chosen = adopted_interventions(alone)
    arr = arrays.alone[0]
    still = _unknown_moves(arr)
    from dataclasses import replace

    nothing_moved = replace(arr, moved=np.zeros_like(arr.moved))
    right = engine.footprint_books(alone, still, 0, params, chosen, "care_model", planned)
    wrong = engine.footprint_books(alone, nothing_moved, 0, params, chosen, "care_model", planned)
    assert not np.allclose(right.surplus, wrong.surplus)
    name = full.interventions[0].name
    key = next(k for k in fin.incentives if k[0] == name and k[2].startswith("acute"))
    assert np.any(fin.incentives_by_year[key] != 0)


@settings(max_examples=4, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_a_draws_books_are_the_same_to_the_bit_whatever_draws_share_its_chunk(seed):
    """The shortcuts run only on settings the engine declares, never on settings found by
    comparing a chunk's draws: in this plan a care model's consultant sessions change in some
    draws only, so which settings differ depends on which draws share a chunk (the roll-up's
    tasks are chunks of draws), and working them out two ways round would make a draw's books
    depend on its chunk in the last bits. Sums over organisations add them in order
    (``ledger.in_order``): numpy adds one draw's in pairs."""
    doc = plan.load("examples/greater_manchester_beds.yaml").model_dump(mode="json", exclude_none=True)
    doc["monte_carlo"].update(draws=48, seed=seed)
    p = plan.validate(doc)
    full = engine.from_base_year(p)
    _, whole = engine.plan_books(p)
    for a, b in ((0, 1), (1, 5), (44, 47), (47, 48)):  # a chunk of one draw too
        _, part = engine.plan_books(p, draws=engine.parameter_draws(full, range(a, b)))
        for x, y in zip(
            (*whole.footprints, *whole.do_nothing), (*part.footprints, *part.do_nothing), strict=True
        ):
            assert np.array_equal(x.surplus[:, a:b], y.surplus), (a, b)
        for key, gain in whole.incentives_by_year.items():
            assert np.array_equal(gain[a:b], part.incentives_by_year[key]), (key, a, b)


def test_a_care_model_declares_the_settings_its_definition_names_whatever_the_draws():
    p = _plan("pbr", 1)
    arrays = engine.run_chunked(engine.from_base_year(p), p.places, range(DRAWS), alone=True)
    for a, alone in zip(adopted_interventions(p), arrays.alone, strict=True):
        named = set(a.spec.effects) | {t for targets in a.spec.substitution.values() for t in targets}
        for bed, adm in (
            ("emergency_bed_days", "emergency_admissions"),
            ("elective_bed_days", "elective_admissions"),
        ):
            if adm in a.spec.effects:
                named.add(bed)
        from stpsim.axes import ALL_SETTINGS

        assert {ALL_SETTINGS[k] for k in np.flatnonzero(alone.moved)} == named, a.spec.name
