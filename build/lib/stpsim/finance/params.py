"""Every uncertain finance parameter, drawn once per run into one object.

Draws are keyed by the parameter's name (``assumption/<id>``), so a parameter has the same value
in every footprint and scenario of a run with the same seed: national risks are correlated, and
plan and do-nothing share their draws (common random numbers). The stages of the books take this
object and never draw for themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import assumptions
from ..contract_terms import FinanceOptions
from ..organisations import DEFAULT_DELIVERY
from ..parameters import Interval, draw

# The groups of settings that share one real unit-cost growth parameter (the settings each kind
# of provider delivers by default); mental health and specialised services have their own.
REAL_GROWTH_GROUPS = {
    "hospital": DEFAULT_DELIVERY["acute"],
    "community": DEFAULT_DELIVERY["community"],
    "primary_care": DEFAULT_DELIVERY["primary_care"],
}
PROVIDER_KINDS_WITH_MC = ("acute", "community", "mental_health", "primary_care", "social_care")


def assumed(
    name: str,
    seed: int,
    draws: range,
    scale: float = 1.0,
    lower: float | None = None,
    upper: float | None = None,
) -> np.ndarray:
    """Draws of a logged assumption (its low-high range read as an 80% interval)."""
    a = assumptions.get(name)
    if a.low is None:
        return np.full(len(draws), float(a.value) * scale)
    iv = Interval.of(float(a.low) * scale, float(a.high) * scale)  # type: ignore[arg-type]
    return draw(iv, seed, f"assumption/{name}", draws, lower=lower, upper=upper)


def _overridden(iv: Interval | None, name: str, seed: int, draws: range, **kw) -> np.ndarray:
    """The plan's interval for an assumption when it gives one (same key: same z), else the log's."""
    if iv is None:
        return assumed(name, seed, draws, **kw)
    return draw(iv, seed, f"assumption/{name}", draws, **kw)


@dataclass(frozen=True)
class FinanceParams:
    """Draws, each (draw,), of every uncertain finance parameter. Rates are fractions a year."""

    inflation: np.ndarray  # pay and prices
    efficiency: np.ndarray  # provider cost improvement a plan assumes
    tariff_change: np.ndarray  # net tariff price change (cost uplift less efficiency factor)
    cquin_achievement: np.ndarray
    out_of_area: np.ndarray
    marginal: dict[str, np.ndarray]  # kind -> short-run marginal cost share
    semi_fixed_acute: np.ndarray
    occupancy: np.ndarray
    beds_per_ward: np.ndarray
    allocation_growth_after_2020: np.ndarray
    mental_health_share: np.ndarray
    other_commissioned_growth: np.ndarray
    real_growth: dict[str, np.ndarray]  # group -> real unit-cost growth
    mental_health_demand_growth: np.ndarray
    specialised_demand_growth: np.ndarray
    working_age_care_growth: np.ndarray
    social_care_price_inflation: np.ndarray
    council_core_funding_growth: np.ndarray
    market_gap: np.ndarray  # 2016/17 social care provider-market gap, England, GBP
    deficit_loans_weight: np.ndarray  # share of the starting deficit placed by revenue-support loans
    mret_baseline_ratio: np.ndarray  # 2008/09 emergency admissions over 2016/17's

    @property
    def n(self) -> int:
        return len(self.inflation)


def finance_parameters(options: FinanceOptions, seed: int, draws: range) -> FinanceParams:
    """Draw every finance parameter once (assumptions plus the plan's overrides)."""

    def pct(name: str, **kw) -> np.ndarray:
        return assumed(name, seed, draws, scale=0.01, **kw)

    def share(name: str) -> np.ndarray:
        return assumed(name, seed, draws, lower=0.0, upper=1.0)

    marginal = {
        kind: _overridden(
            options.marginal_cost_share.get(kind),  # type: ignore[arg-type]
            f"marginal_cost_share_{kind}",
            seed,
            draws,
            lower=0.0,
            upper=1.0,
        )
        for kind in PROVIDER_KINDS_WITH_MC
    }
    eff = _overridden(
        options.provider_efficiency, "provider_efficiency_achieved", seed, draws, lower=-5.0, upper=10.0
    )
    return FinanceParams(
        inflation=pct("cost_inflation"),
        efficiency=eff / 100.0,
        tariff_change=pct("tariff_net_price_change"),
        cquin_achievement=share("cquin_achievement"),
        out_of_area=share("out_of_area_share"),
        marginal=marginal,
        semi_fixed_acute=_overridden(
            options.semi_fixed_share_acute, "semi_fixed_share_acute", seed, draws, lower=0.0, upper=1.0
        ),
        occupancy=draw(
            _interval("bed_occupancy"), seed, "capacity/bed_occupancy", draws, lower=0.5, upper=1.0
        ),
        beds_per_ward=assumed("beds_per_ward", seed, draws, lower=1.0),
        allocation_growth_after_2020=pct("allocation_growth_after_2020_21"),
        mental_health_share=assumed("mental_health_share_of_ccg_allocation", seed, draws, lower=0.0),
        other_commissioned_growth=pct("other_commissioned_real_growth"),
        real_growth={
            g: pct(f"real_unit_cost_growth_{g}")
            for g in (*REAL_GROWTH_GROUPS, "mental_health", "specialised")
        },
        mental_health_demand_growth=pct("mental_health_demand_growth"),
        specialised_demand_growth=pct("specialised_demand_growth"),
        working_age_care_growth=pct("working_age_social_care_demand_growth"),
        social_care_price_inflation=pct("social_care_price_inflation"),
        council_core_funding_growth=pct("council_core_funding_growth"),
        market_gap=assumed("social_care_market_gap_2016_17", seed, draws, scale=1e9, lower=0.0),
        deficit_loans_weight=share("starting_deficit_weight_on_loans"),
        mret_baseline_ratio=assumed("mret_baseline_ratio_2008_09", seed, draws, lower=0.5, upper=1.0),
    )


def _interval(name: str) -> Interval:
    a = assumptions.get(name)
    return Interval.of(float(a.low), float(a.high))  # type: ignore[arg-type]
