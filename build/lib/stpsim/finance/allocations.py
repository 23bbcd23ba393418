"""The money that reaches a footprint from NHS England, and the need indices that share it.

CCG, primary care and specialised commissioning allocations (published for England to 2020/21)
are shared between footprints by need-weighted population: each person-year weighted by the
expected NHS cost of their age, sex and frailty segment at 2016/17 rates and unit costs. That is
the method assumption ``allocation_share_by_need``; NHS England's own formula adds deprivation
and unmet need, which the reference data cannot give by footprint.
"""

from __future__ import annotations

import numpy as np

from .. import activity, assumptions, geography, population
from ..axes import AGES, SETTINGS, YEARS, year_label
from ..cache import persistent
from ..costs import BED_DAYS, unit_cost_vector
from ..reference import fact

KINDS = ("CCGs", "Primary care", "Specialised commissioning")
PUBLISHED_TO = 2020


@persistent
def cost_weights() -> np.ndarray:
    """Expected NHS cost per person-year by (sex, age, segment) at 2016/17 rates and unit costs."""
    uc = unit_cost_vector()[: len(SETTINGS)].copy()
    for k in (*BED_DAYS, "home_care_hours", "care_home_weeks"):
        uc[SETTINGS.index(k)] = 0.0  # admissions carry their stay; councils pay for social care
    return np.einsum("ksag,k->sag", activity.rates().rates, uc)


@persistent
def need_per_band() -> np.ndarray:
    """(band, year) need-weighted person-years that one 2016 person of each broad band becomes,
    2016..2035: the projection is linear, so any area's need is its bands times these."""
    return np.einsum("btsag,sag->bt", population.unit_projection().population, cost_weights())


def need_bands(lsoas: np.ndarray) -> np.ndarray:
    """(band,) an area's mid-2016 population by broad band, each LSOA's people weighted for
    deprivation (assumption ``need_deprivation_gradient``; England's band totals unchanged)."""
    sa = geography.small_areas()
    w = geography.deprivation_weights()[lsoas]
    return (sa.bands_2018[lsoas] * w).sum(axis=0) * population.band_scale()


@persistent
def england_need() -> np.ndarray:
    """England's need-weighted population by year, 2016..2035."""
    assumptions.get("allocation_share_by_need")
    bands = geography.small_areas().bands_2018.sum(axis=0) * population.band_scale()
    return bands @ need_per_band()


_NEED: dict[str, np.ndarray] = {}  # by area: the books ask for it many times a run


def need_weighted(lsoas: np.ndarray) -> np.ndarray:
    """An area's need-weighted population by year, 2016..2035 (additive over areas)."""
    key = geography.area_key(lsoas)
    if key not in _NEED:
        if len(_NEED) > 512:
            _NEED.clear()
        _NEED[key] = need_bands(lsoas) @ need_per_band()
        _NEED[key].flags.writeable = False
    return _NEED[key]


def population_index(fp) -> dict[str, np.ndarray]:
    """Growth of a footprint's population by year, relative to 2016/17: adults (18+),
    working-age adults (18-64), everyone (its own population table when it has one), and need."""
    from ..baseline import projection_of

    lsoas = fp.lsoas
    pop = projection_of([fp]).population[:, 0].sum(axis=(1, 3))
    out = {
        "adults": pop[:, AGES >= 18].sum(axis=-1),
        "working_age": pop[:, (AGES >= 18) & (AGES <= 64)].sum(axis=-1),
        "all": pop.sum(axis=-1),
        "need": need_weighted(lsoas),
    }
    return {k: v / v[:1] for k, v in out.items()}


@persistent
def published_allocations() -> dict[tuple[str, int], float]:
    """NHS England allocations 2016/17..2020/21 by (kind, year), from the shipped table."""
    return {
        (kind, y): fact(
            "national_finance", f"NHS England allocation: {kind}", column="item", period=year_label(y)
        )
        for kind in KINDS
        for y in range(int(YEARS[0]), PUBLISHED_TO + 1)
    }


def national_allocation(kind: str, years: np.ndarray, growth_after: np.ndarray) -> np.ndarray:
    """England's allocation of ``kind`` by (draw, year): published to 2020/21, then growing by
    ``growth_after`` (draw,) a year (assumption ``allocation_growth_after_2020_21``)."""
    table = published_allocations()
    last = np.minimum(years, PUBLISHED_TO)
    base = np.array([table[(kind, int(y))] for y in last])
    return base[None, :] * (1 + growth_after[:, None]) ** (years - last)[None, :]


def need_share(lsoas: np.ndarray, years: np.ndarray) -> np.ndarray:
    """An area's share of England's need-weighted population by year."""
    t = years - int(YEARS[0])
    return need_weighted(lsoas)[t] / england_need()[t]
