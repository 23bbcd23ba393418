"""The money that reaches a footprint from NHS England, and the need indices that share it.

CCG, primary care and specialised commissioning allocations (published for England to 2020/21)
are shared between footprints by need-weighted population: each person-year weighted by the
expected NHS cost of their age, sex and frailty segment at 2016/17 rates and unit costs. That is
the method assumption ``allocation_share_by_need``; NHS England's own formula adds deprivation
and unmet need, which the reference data cannot give by footprint.
"""

from __future__ import annotations

import numpy as np

from .. import activity, assumptions
from ..axes import AGES, SETTINGS, YEARS, year_label
from ..baseline import projection
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
def weighted_population() -> np.ndarray:
    """Need-weighted population by (year, footprint) for 2016..2035 (all 44 footprints)."""
    assumptions.get("allocation_share_by_need")
    return np.einsum("tfsag,sag->tf", projection().population, cost_weights())


@persistent
def population_index() -> dict[str, np.ndarray]:
    """Growth of the footprints' populations by (year, footprint), relative to 2016/17: adults
    (18+), working-age adults (18-64) and everyone."""
    pop = projection().population.sum(axis=(2, 4))  # (year, footprint, age)
    out = {
        "adults": pop[..., AGES >= 18].sum(axis=-1),
        "working_age": pop[..., (AGES >= 18) & (AGES <= 64)].sum(axis=-1),
        "all": pop.sum(axis=-1),
    }
    wp = weighted_population()
    out["need"] = wp
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


def need_share(f: int, years: np.ndarray) -> np.ndarray:
    """Footprint ``f``'s share of England's need-weighted population by year."""
    wp = weighted_population()
    t = years - int(YEARS[0])
    return wp[t, f] / wp[t].sum(axis=1)
