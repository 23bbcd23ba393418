"""Population: the footprints' base-year cells and the cohort-component projection.

The core functions are pure numpy: arrays in, arrays out, no I/O. A population array has shape
``(..., footprint, sex, age, segment)``; leading axes (e.g. Monte Carlo draws) pass through.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import assumptions, demography, frailty
from .axes import AGES, YEARS
from .cache import persistent


def rake(seed: np.ndarray, row_totals: np.ndarray, col_totals: np.ndarray, tol: float = 1e-9) -> np.ndarray:
    """Iterative proportional fitting of a non-negative matrix to row and column totals.

    The totals must agree (same grand total). Ends on a column step, so column totals are exact.
    """
    m = np.asarray(seed, dtype=float).copy()
    for _ in range(1000):
        m *= (row_totals / m.sum(axis=1))[:, None]
        m *= col_totals / m.sum(axis=0)
        if np.max(np.abs(m.sum(axis=1) - row_totals) / row_totals) < tol:
            break
    return m


def round_preserving_columns(m: np.ndarray) -> np.ndarray:
    """Round each column to integers by largest remainder so integer column totals are kept."""
    floor = np.floor(m)
    short = np.rint(m.sum(axis=0) - floor.sum(axis=0)).astype(int)
    order = np.argsort(-(m - floor), axis=0, kind="stable")
    bump = np.zeros_like(m)
    for j, k in enumerate(short):  # a loop over 3 bands, not over people
        bump[order[:k, j], j] = 1.0
    return floor + bump


def split_bands(
    band_pop: np.ndarray, bands: tuple[tuple[int, int], ...], structure: np.ndarray
) -> np.ndarray:
    """Spread (footprint, band) counts over (sex, age) in proportion to ``structure`` (sex, age)."""
    out = np.zeros((band_pop.shape[0],) + structure.shape)
    for b, (lo, hi) in enumerate(bands):
        sl = slice(lo, hi + 1)
        within = structure[:, sl] / structure[:, sl].sum()
        out[:, :, sl] = band_pop[:, b, None, None] * within[None]
    return out


def band_scale() -> np.ndarray:
    """(band,) England's mid-2016 population in each broad band over the small areas' mid-2018
    total: the same for every LSOA, so footprints stay sums of their LSOAs."""
    from .geography import small_areas

    assumptions.get("footprint_band_shares_2016_equal_2018")
    _, _, bands = demography.footprint_band_targets()
    england = demography.england_base()
    band_totals = np.array([england[:, lo : hi + 1].sum() for lo, hi in bands])
    return band_totals / small_areas().bands_2018.sum(axis=0)


def bands_2016(lsoa_sets: list[np.ndarray]) -> np.ndarray:
    """(footprint, band) mid-2016 population in the broad bands of each set of LSOAs."""
    from .geography import small_areas

    b18 = small_areas().bands_2018
    return np.stack([b18[idx].sum(axis=0) for idx in lsoa_sets]) * band_scale()[None, :]


def by_age_from_bands(band_pop: np.ndarray) -> np.ndarray:
    """(footprint, band) counts -> (footprint, sex, age): national age and sex structure within
    each band."""
    assumptions.get("within_band_age_sex_structure_national")
    _, _, bands = demography.footprint_band_targets()
    return split_bands(band_pop, bands, demography.england_base())


def cells_of(by_age: np.ndarray) -> np.ndarray:
    """(..., sex, age) people -> (..., sex, age, segment) cells by national frailty shares."""
    return by_age[..., None] * frailty.base_segment_shares()


def cells_from_bands(band_pop: np.ndarray) -> np.ndarray:
    """(footprint, band) counts -> (footprint, sex, age, segment) cells: national age and sex
    structure within each band, national frailty shares by age and sex."""
    return cells_of(by_age_from_bands(band_pop))


@persistent
def footprint_base() -> tuple[list[str], np.ndarray]:
    """The 44 footprints' codes and mid-2016 population, shape (footprint, sex, age, segment)."""
    from .geography import preset

    fps = preset("stp2017")
    cells = cells_from_bands(bands_2016([f.lsoas for f in fps]))
    cells.flags.writeable = False
    return [f.code for f in fps], cells


@dataclass(frozen=True)
class UnitProjection:
    """The projection of one person of each broad band in 2016 (spread over sex, age and segment
    as the band is), with England as the reference for migration and births: every footprint's
    projection is its bands times these, because a year's step is linear in the population once
    England's path is fixed."""

    population: np.ndarray  # (band, year, sex, age, segment)
    births: np.ndarray  # (band, year)
    deaths: np.ndarray
    migration: np.ndarray


@persistent
def unit_projection() -> UnitProjection:
    from .axes import LAST_YEAR

    england = demography.england_base()
    _, _, bands = demography.footprint_band_targets()
    eng_bands = np.array([[england[:, lo : hi + 1].sum() for lo, hi in bands]])
    base = cells_from_bands(np.vstack([np.eye(len(bands)), eng_bands]))
    proj = project(base, LAST_YEAR, reference=True)
    cut = slice(0, len(bands))
    return UnitProjection(
        population=np.moveaxis(proj.population[:, cut], 1, 0).copy(),
        births=proj.births[:, cut].T.copy(),
        deaths=proj.deaths[:, cut].T.copy(),
        migration=proj.migration[:, cut].T.copy(),
    )


def project_bands(band_pop: np.ndarray, last_year: int | None = None) -> Projection:
    """Projection of footprints given by their (footprint, band) mid-2016 populations, any set of
    them (not only a partition): each follows England's migration and birth rates."""
    u = unit_projection()
    n = u.population.shape[1] if last_year is None else last_year - int(YEARS[0]) + 1
    return Projection(
        years=np.arange(int(YEARS[0]), int(YEARS[0]) + n),
        population=np.einsum("fb,btsag->tfsag", band_pop, u.population[:, :n]),
        births=np.einsum("fb,bt->tf", band_pop, u.births[:, :n]),
        deaths=np.einsum("fb,bt->tf", band_pop, u.deaths[:, :n]),
        migration=np.einsum("fb,bt->tf", band_pop, u.migration[:, :n]),
    )


def survive_and_age(
    pop: np.ndarray, death: np.ndarray, transition: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Deaths, then moves between segments, then ageing by a year (100+ open): the closed-
    population part of a year. Returns (deaths by cell, survivors aged one year)."""
    dying = pop * death
    survivors = np.einsum("...sag,sagh->...sah", pop - dying, transition)
    aged = np.zeros_like(pop)
    aged[..., 1:, :] = survivors[..., :-1, :]
    aged[..., -1, :] += survivors[..., -1, :]
    return dying, aged


@dataclass(frozen=True)
class Flows:
    """What changed a population over one year, per footprint (leading axes kept)."""

    births: np.ndarray
    deaths: np.ndarray
    migration: np.ndarray


def step(
    pop: np.ndarray,
    death: np.ndarray,
    transition: np.ndarray,
    births: np.ndarray,
    infant_death: np.ndarray,
    target_next: np.ndarray,
    reference: bool = False,
) -> tuple[np.ndarray, Flows]:
    """Advance ``pop`` (..., footprint, sex, age, segment) by one year.

    Order: deaths (segment-specific), moves between segments, ageing (100+ is open), births into
    age 0 "fit", then net migration. Migration is the residual that makes the sum over footprints
    equal ``target_next`` (sex, age), applied to every footprint at the same rate relative to its
    own survivors, so footprints sum to the national path and people are conserved exactly:
    next - pop = births - deaths + migration. With ``reference`` the last footprint is England
    itself and sets the rates, so the others need not be a partition.
    """
    dying, aged = survive_and_age(pop, death, transition)
    if reference:
        national = aged[..., -1:, :, :, :].sum(axis=-1, keepdims=True)
    else:
        national = aged.sum(axis=(-4, -1), keepdims=True)  # over footprints and segments
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(national > 0, target_next[..., None] / national - 1.0, 0.0)
    migration = aged * rate
    women = pop[..., 1, 15:45, :].sum(axis=(-2, -1))  # (..., footprint)
    share = women / (women[..., -1:] if reference else women.sum(axis=-1, keepdims=True))
    newborn = share[..., None] * births  # (..., footprint, sex)
    infant = newborn * infant_death
    nxt = aged + migration
    nxt[..., 0, 0] += newborn - infant
    flows = Flows(
        births=newborn.sum(axis=-1),
        deaths=dying.sum(axis=(-3, -2, -1)) + infant.sum(axis=-1),
        migration=migration.sum(axis=(-3, -2, -1)),
    )
    return nxt, flows


@dataclass(frozen=True)
class Projection:
    """Population by (year, ..., footprint, sex, age, segment) and the flows into each year."""

    years: np.ndarray
    population: np.ndarray
    births: np.ndarray
    deaths: np.ndarray
    migration: np.ndarray


def project(base: np.ndarray, last_year: int, reference: bool = False) -> Projection:
    """Project footprint populations from mid-2016 to mid-``last_year`` along the ONS 2016-based
    principal projection for England.

    ``base`` must be all 44 footprints (or any partition of England): migration is solved so the
    footprints together follow the national projection. With ``reference`` its last row is
    England, which sets the rates for the others.
    """
    demography.check_years(int(YEARS[0]), last_year)
    n = last_year - int(YEARS[0])
    target = demography.ons_projection()
    births = demography.births_by_sex()
    infant = demography.infant_death_probability()
    dyn = frailty.dynamics()
    pops = [np.asarray(base, dtype=float)]
    flows: list[Flows] = []
    for t in range(n):  # years are sequential; everything inside is vectorised
        nxt, f = step(pops[-1], dyn.death, dyn.transition, births[t], infant, target[t + 1], reference)
        pops.append(nxt)
        flows.append(f)
    zero = np.zeros(base.shape[:-3])

    def stack(name: str) -> np.ndarray:
        return np.stack([zero] + [getattr(f, name) for f in flows])

    return Projection(
        years=np.arange(int(YEARS[0]), last_year + 1),
        population=np.stack(pops),
        births=stack("births"),
        deaths=stack("deaths"),
        migration=stack("migration"),
    )


__all__ = ["AGES", "Flows", "Projection", "footprint_base", "project", "project_bands", "rake", "step"]
