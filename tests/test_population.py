"""Population: footprints add up to England, people are conserved, segments behave."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from stpsim import demography, frailty, population
from stpsim.axes import AGES, SEGMENTS


def test_44_footprints_sum_exactly_to_england(footprint_base):
    codes, cells = footprint_base
    assert len(codes) == 44
    assert codes[0] == "E54000005" and codes[-1] == "E54000048"
    totals = cells.sum(axis=(1, 2, 3))
    assert np.allclose(totals, np.rint(totals), atol=1e-6), "footprint totals are whole people"
    assert int(np.rint(totals).sum()) == 55_268_067
    # And by single year and sex, the footprints are exactly England.
    assert np.allclose(cells.sum(axis=(0, 3)), demography.england_base(), rtol=1e-12)


def test_footprints_keep_their_published_relative_size_and_age_mix(footprint_base):
    codes, cells = footprint_base
    _, bands_2018, bands = demography.footprint_band_targets()
    totals = cells.sum(axis=(1, 2, 3))
    # Each footprint keeps its 2018 share of England in every broad band exactly (the small
    # areas are scaled band by band), so its share of the total moves only with its age mix:
    # within 0.2% of the published table's mid-2018 shares. (That table split the 16 MSOAs that
    # straddle footprints by total population, the small areas by broad age: 0.3% at most.)
    for b, (lo, hi) in enumerate(bands):
        in_band = cells[:, :, lo : hi + 1, :].sum(axis=(1, 2, 3))
        assert np.allclose(in_band / in_band.sum(), bands_2018[:, b] / bands_2018[:, b].sum(), rtol=3e-3)
    share_model = totals / totals.sum()
    share_2018 = bands_2018.sum(axis=1) / bands_2018.sum()
    assert np.max(np.abs(share_model / share_2018 - 1)) < 2e-3
    old = cells[:, :, 80:, :].sum(axis=(1, 2, 3)) / totals
    old_2018 = bands_2018[:, 2] / bands_2018.sum(axis=1)
    assert np.corrcoef(old, old_2018)[0, 1] > 0.99


def test_rake_matches_both_margins(rng):
    seed = rng.uniform(1, 100, size=(6, 3))
    rows = rng.uniform(100, 200, size=6)
    cols = rng.uniform(1, 2, size=3)
    cols *= rows.sum() / cols.sum()
    m = population.rake(seed, rows, cols)
    assert np.allclose(m.sum(axis=1), rows) and np.allclose(m.sum(axis=0), cols)


def test_projection_follows_the_ons_projection_exactly(footprint_base):
    _, cells = footprint_base
    proj = population.project(cells, 2035)
    england = proj.population.sum(axis=(1, 4))  # (year, sex, age)
    assert np.allclose(england, demography.ons_projection(), rtol=1e-9, atol=1e-6)
    assert (proj.population >= 0).all()


def test_every_years_change_is_births_minus_deaths_plus_migration(footprint_base):
    _, cells = footprint_base
    proj = population.project(cells, 2025)
    totals = proj.population.sum(axis=(2, 3, 4))  # (year, footprint)
    change = np.diff(totals, axis=0)
    flows = proj.births[1:] - proj.deaths[1:] + proj.migration[1:]
    assert np.allclose(change, flows, rtol=0, atol=1e-6)
    eng_deaths = proj.deaths[1].sum()
    assert 440_000 < eng_deaths < 520_000, "England has about half a million deaths a year"


_pop = arrays(np.float64, (3, 2, len(AGES), len(SEGMENTS)), elements=st.floats(0, 5_000))


@settings(max_examples=40, deadline=None)
@given(pop=_pop, target_scale=st.floats(0.8, 1.2), births=st.floats(0, 10_000))
def test_step_conserves_people_for_any_population(pop, target_scale, births):
    """Property: for any footprint populations, one year's change equals births - deaths +
    migration exactly, per footprint, and nobody becomes negative."""
    dyn = frailty.dynamics()
    pop[:, 1, 20, 0] += 1.0  # some women of child-bearing age, so births have somewhere to go
    ageing = np.zeros_like(pop)
    ageing[..., 1:, :] = pop[..., :-1, :]
    target = ageing.sum(axis=(0, 3)) * target_scale
    b = np.array([births * 0.51, births * 0.49])
    nxt, flows = population.step(pop, dyn.death, dyn.transition, b, np.array([0.004, 0.0035]), target)
    change = nxt.sum(axis=(1, 2, 3)) - pop.sum(axis=(1, 2, 3))
    assert np.allclose(change, flows.births - flows.deaths + flows.migration, atol=1e-6 * max(1.0, pop.sum()))
    assert (nxt >= -1e-9).all()


def test_transition_rows_are_probabilities():
    t = frailty.dynamics().transition
    assert np.allclose(t.sum(axis=-1), 1.0)
    assert (t >= 0).all()


def test_frailty_prevalence_matches_evidence_and_rises_with_age():
    p = frailty.any_frailty_prevalence()
    w = demography.england_base().sum(axis=0)
    assert abs(np.average(p[50:65], weights=w[50:65]) - 0.100) < 1e-6
    assert abs(np.average(p[65:], weights=w[65:]) - 0.437) < 1e-6
    assert (p[:50] == 0).all() and np.all(np.diff(p[50:]) > 0)


def test_age_specific_frailty_is_stationary_in_the_baseline(footprint_base):
    _, cells = footprint_base
    proj = population.project(cells, 2030)
    eng = proj.population.sum(axis=(1, 2))  # (year, age, segment)
    prevalence = 1 - eng[..., 0] / eng.sum(axis=-1)
    assert np.allclose(prevalence[-1, 55:100], prevalence[0, 55:100], atol=0.01)
    # ...while the number of frail people grows as England ages.
    frail = eng[..., 1:].sum(axis=(1, 2))
    assert frail[-1] > 1.1 * frail[0]


def test_frail_people_die_sooner():
    q = frailty.dynamics().death
    assert np.all(np.diff(q[:, 70:, :], axis=-1) > 0)
