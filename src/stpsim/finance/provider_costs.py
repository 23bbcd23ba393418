"""What providers spend: long-run average cost for demand, marginal cost for what a plan avoids.

In the do-nothing, demand growth is costed at long-run average cost: over years, wards, staff and
clinics follow demand, so a provider's cost is its 2016/17 cost scaled by its activity valued at
2016/17 unit costs, times real growth in cost per unit, times pay and prices. Written as a
product of indices, the do-nothing cost splits exactly into the bridge's lines (demography,
other demand, real unit cost, pay and prices).

Work a plan avoids saves only its short-run marginal share (the rest of the cost stays: fixed
estate, staff not yet redeployed), unless the plan closes the capacity: closing surplus wards
releases their semi-fixed cost after a lag. Work a plan adds (care moved into the community) is
costed at long-run average cost, because it needs staff that are not there today.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..axes import ALL_SETTINGS
from ..costs import BED_DAYS, open_wards
from .params import REAL_GROWTH_GROUPS, FinanceParams

IDX = {k: i for i, k in enumerate(ALL_SETTINGS)}


def real_unit_cost_index(params: FinanceParams, elapsed: np.ndarray) -> np.ndarray:
    """(draw, year, setting) growth in real cost per unit since 2016/17. Settings outside the
    groups (councils' care) have their own price index."""
    rate = np.zeros((params.n, len(ALL_SETTINGS)))
    for group, settings in REAL_GROWTH_GROUPS.items():
        rate[:, [IDX[s] for s in settings]] = params.real_growth[group][:, None]
    return (1 + rate[:, None, :]) ** elapsed[0][None, :, None]


@dataclass(frozen=True)
class ActivityValues:
    """One provider's activity valued at 2016/17 unit costs by (draw, year), in three steps that
    make the bridge: demography alone, the activity itself, and with real unit-cost growth."""

    base: np.ndarray  # (draw,) 2016/17 expected activity
    demographic: np.ndarray
    actual: np.ndarray
    real: np.ndarray


def value_weights(
    shares: np.ndarray, keep: np.ndarray, unit_cost: np.ndarray, base_los: np.ndarray
) -> np.ndarray:
    """(org, draw, setting) GBP per unit of residents' activity that each organisation's costed
    activity is worth: its share of the setting, treated in area, at unit cost. Bed days are
    costed beyond the base length of stay, so each admission carries minus its base stay's
    excess bed days. Valuing residents' activity with these weights equals costing each
    organisation's activity (``costs.costed_value``) without making (org, draw, year, setting)
    arrays."""
    w = shares[:, None, :] * keep[None, :, :]
    out = w * unit_cost
    for j, (bd, adm) in enumerate(BED_DAYS.items()):
        out[..., IDX[adm]] -= w[..., IDX[adm]] * base_los[j] * unit_cost[IDX[bd]]
    return out


def values(weights: np.ndarray, base_act, demographic, actual, real_index) -> ActivityValues:
    """Valued activity (org, draw[, year]) from residents' activity: 2016/17 (setting,),
    demography alone (year, setting), actual and with real unit-cost growth (draw, year,
    setting)."""
    return ActivityValues(
        base=np.einsum("k,odk->od", base_act, weights),
        demographic=np.einsum("tk,odk->odt", demographic, weights),
        actual=valued(actual, weights),
        real=valued(actual * real_index, weights),
    )


def valued(activity: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """(org, draw, year) value of residents' activity (draw, year, setting) at ``weights``
    (org, draw, setting): a matrix product per draw, so a draw's value never depends on which
    other draws share its chunk."""
    return np.matmul(activity, weights.transpose(1, 2, 0)).transpose(2, 0, 1)


def index_lines(base_cost: np.ndarray, d: np.ndarray, n: np.ndarray, r: np.ndarray, p: np.ndarray) -> dict:
    """Cost ``base x d x n x r x p`` split into the bridge's lines, each (draw, year). The lines
    telescope: their sum plus ``base`` is the cost, exactly."""
    b = base_cost[:, None]
    return {
        "demography": b * (d - 1),
        "other_demand_growth": b * d * (n - 1),
        "real_unit_cost_growth": b * d * n * (r - 1),
        "pay_and_prices": b * d * n * r * (p - 1),
    }


def do_nothing_cost(base_cost: np.ndarray, v: ActivityValues, price_level: np.ndarray) -> tuple:
    """Long-run average cost by (draw, year) and its bridge lines, from valued activity."""
    safe = np.where(v.base > 0, v.base, 1.0)[:, None]
    d = v.demographic / safe
    n = np.divide(v.actual, v.demographic, out=np.ones_like(v.actual), where=v.demographic > 0)
    r = np.divide(v.real, v.actual, out=np.ones_like(v.actual), where=v.actual > 0)
    return base_cost[:, None] * d * n * r * price_level, index_lines(base_cost, d, n, r, price_level)


def plan_adjustment(
    base_cost: np.ndarray,
    base_value: np.ndarray,
    dn_real: np.ndarray,
    plan_real: np.ndarray,
    mc: np.ndarray,
    price_level: np.ndarray,
) -> np.ndarray:
    """Change in cost by (draw, year) from a plan's change in activity: avoided value saves the
    short-run marginal share, added value costs the long-run average."""
    per_value = (base_cost / np.where(base_value > 0, base_value, 1.0))[..., None] * price_level
    avoided = dn_real - plan_real
    return -per_value * (mc[..., None] * np.maximum(avoided, 0.0) - np.maximum(-avoided, 0.0))


def ward_release(
    dn_cost: np.ndarray,
    dn_beds: np.ndarray,
    plan_beds: np.ndarray,
    params: FinanceParams,
    close_surplus: bool,
    lag: int,
) -> np.ndarray:
    """Semi-fixed cost by (draw, year) a plan does not spend because it runs fewer wards than
    the do-nothing. Wards open when beds are needed; the do-nothing never closes one, and a plan
    closes them only if it closes surplus wards, ``lag`` years after the beds stop being
    needed. So avoiding growth saves the wards never opened, and going below today's beds
    saves only with closures."""
    bpw = params.beds_per_ward
    wards_dn = open_wards(dn_beds, bpw, close_surplus=False, lag=lag)  # doing nothing closes nothing
    wards_plan = open_wards(plan_beds, bpw, close_surplus=close_surplus, lag=lag)
    closed = np.clip(1.0 - wards_plan / np.where(wards_dn > 0, wards_dn, 1.0), 0.0, 1.0)
    mc = params.marginal["acute"][:, None]
    return (1 - mc) * params.semi_fixed_acute[:, None] * dn_cost * closed


def beds(bed_days: np.ndarray, occupancy: np.ndarray) -> np.ndarray:
    """Beds needed by (draw, year) for one provider's emergency and elective bed days (draw,
    year, 2)."""
    return bed_days.sum(axis=-1) / 365.0 / occupancy[:, None]
