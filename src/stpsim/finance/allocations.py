"""The money that reaches a footprint from NHS England, and the need indices that share it.

CCG, primary care and specialised commissioning allocations (published for England to 2020/21)
are shared between footprints by need-weighted population: each person-year weighted by the
expected NHS cost of their age, sex and frailty segment at 2016/17 rates and unit costs, and
for deprivation (method assumption ``allocation_share_by_need``). CCG allocations then follow
each CCG's published distance from its target allocation and the pace at which it closed
(``ccg_distance_from_target_2018_19``; assumption ``distance_from_target_path``): an area over
target gets more than its need, and less growth, than an area under it.
"""

from __future__ import annotations

import numpy as np

from .. import activity, assumptions, geography, population
from ..axes import AGES, SETTINGS, YEARS, year_label
from ..cache import persistent
from ..costs import BED_DAYS, unit_cost_vector
from ..reference import current, fact, table

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


_BY_AREA: dict[tuple[str, str, str], np.ndarray] = {}  # the books ask for these many times a run


def _by_area(what: str, lsoas: np.ndarray, build) -> np.ndarray:
    """``build(lsoas)`` for an area, kept (read-only) by the area and the reference data's
    version; forgotten wholesale past 1,024 areas."""
    key = (what, current().version, geography.area_key(lsoas))
    if key not in _BY_AREA:
        if len(_BY_AREA) > 1024:
            _BY_AREA.clear()
        value = build(lsoas)
        value.flags.writeable = False
        _BY_AREA[key] = value
    return _BY_AREA[key]


def need_weighted(lsoas: np.ndarray) -> np.ndarray:
    """An area's need-weighted population by year, 2016..2035 (additive over areas)."""
    return _by_area("need", lsoas, lambda a: need_bands(a) @ need_per_band())


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


DFT_YEAR = 2018  # the year whose distances from target are published (2018/19)


def distance_path(opening: np.ndarray, closing: np.ndarray, pace: float) -> np.ndarray:
    """(ccg, year 2016..2035) each CCG's distance from target relative to England's (fractions,
    + over target), from its 2018/19 distance before (``opening``) and after (``closing``) pace of
    change, each relative to England's. The 2017/18 allocation is the 2018/19 one before pace of
    change; 2016/17 is one more step of the same size back. After 2018/19 the step continues
    (times ``pace``) until the distance reaches zero, never crossing it; a CCG whose step moved
    it away from target holds its 2018/19 distance. From 2020/21, the last published year, the
    distance holds."""
    step = opening - closing  # how far pace of change moved the CCG in 2018/19
    years = np.arange(int(YEARS[0]), int(YEARS[-1]) + 1)
    back = np.clip(DFT_YEAR - years, 0, None)[None, :]  # 2, 1, 0, 0 ...
    ahead = np.clip(np.minimum(years, PUBLISHED_TO) - DFT_YEAR, 0, None)[None, :]
    converging = (np.sign(step) == np.sign(closing))[:, None]
    towards = np.sign(closing)[:, None] * np.maximum(
        np.abs(closing)[:, None] - pace * np.abs(step)[:, None] * ahead, 0
    )
    later = np.where(converging, towards, closing[:, None])
    return np.where(back > 0, closing[:, None] + step[:, None] * back, later)


@persistent
def small_area_distance() -> np.ndarray:
    """(lsoa, year 2016..2035) each small area's CCG's distance from target, relative to
    England's (published 2018/19 figures, ``distance_path``; a CCG with none is at target)."""
    pace = float(assumptions.value("distance_from_target_path"))
    df = table("ccg_distance_from_target_2018_19")
    target = df["target_allocation_gbp000"].to_numpy(float, na_value=0.0)
    opening = df["opening_dft_pct"].to_numpy(float, na_value=0.0) / 100
    closing = df["closing_dft_pct"].to_numpy(float, na_value=0.0) / 100

    def relative(d: np.ndarray) -> np.ndarray:  # against England's target-weighted distance
        return (1 + d) / (1 + (d * target).sum() / target.sum()) - 1

    by_ccg = distance_path(relative(opening), relative(closing), pace)
    index = {c: i for i, c in enumerate(df["ccg16cd"].astype(str))}
    rows = np.array([index[c] for c in geography.small_areas().codes["ccg16cd"]])
    return by_ccg[rows]


@persistent
def small_area_need() -> np.ndarray:
    """(lsoa, year 2016..2035) each small area's need-weighted population."""
    sa = geography.small_areas()
    bands = sa.bands_2018 * geography.deprivation_weights() * population.band_scale()
    return bands @ need_per_band()


def funded_need(lsoas: np.ndarray) -> np.ndarray:
    """An area's need-weighted population by year, 2016..2035, each small area's raised or
    lowered by its CCG's distance from target: what CCG allocations follow (additive over areas)."""
    return _by_area(
        "funded", lsoas, lambda a: (small_area_need()[a] * (1 + small_area_distance()[a])).sum(axis=0)
    )


@persistent
def england_funded_need() -> np.ndarray:
    return (small_area_need() * (1 + small_area_distance())).sum(axis=0)


def allocation_share(kind: str, lsoas: np.ndarray, years: np.ndarray) -> np.ndarray:
    """An area's share of England's allocation of ``kind`` by year: CCG allocations by need
    and distance from target; primary care and specialised commissioning by need alone (their
    own distances are not published by CCG in the reference data)."""
    if kind != "CCGs":
        return need_share(lsoas, years)
    t = years - int(YEARS[0])
    return funded_need(lsoas)[t] / england_funded_need()[t]
