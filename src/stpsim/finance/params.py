"""Every uncertain finance parameter, drawn once per run into one object.

Draws are keyed by the parameter's name (``assumption/<id>``), so a parameter has the same value
in every footprint and scenario of a run with the same seed: national risks are correlated, and
plan and do-nothing share their draws (common random numbers). The stages of the books take this
object and never draw for themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..capacity import OCCUPANCY
from ..contract_terms import FinanceOptions
from ..organisations import DEFAULT_DELIVERY
from ..parameters import Parameter, ParameterDraws, assumption

# The groups of settings that share one real unit-cost growth parameter (the settings each kind
# of provider delivers by default); mental health and specialised services have their own.
REAL_GROWTH_GROUPS = {
    "hospital": DEFAULT_DELIVERY["acute"],
    "community": DEFAULT_DELIVERY["community"],
    "primary_care": DEFAULT_DELIVERY["primary_care"],
}
PROVIDER_KINDS_WITH_MC = ("acute", "community", "mental_health", "primary_care", "social_care")


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
    social_care_price_inflation: np.ndarray  # after the published living wage (2023/24 on)
    social_care_labour_share: np.ndarray  # care workers' pay in social care providers' costs
    council_core_funding_growth: np.ndarray
    market_gap: np.ndarray  # 2016/17 social care provider-market gap, England, GBP
    deficit_loans_weight: np.ndarray  # share of the starting deficit placed by revenue-support loans
    provider_one_offs: np.ndarray  # 2016/17 one-off savings in the providers' reported position, GBP
    provider_accounting: np.ndarray  # 2016/17 accounting changes in it, GBP
    mret_baseline_ratio: np.ndarray  # 2008/09 emergency admissions over 2016/17's
    draws: ParameterDraws  # the run's every parameter (care models' costs read theirs here)

    @property
    def national_deficit(self) -> np.ndarray:
        """England's providers' 2016/17 underlying deficit by draw, GBP."""
        from .starting import national_underlying_deficit

        return national_underlying_deficit(self.provider_one_offs, self.provider_accounting)

    @property
    def n(self) -> int:
        return len(self.inflation)


def finance_parameter_list(options: FinanceOptions) -> list[Parameter]:
    """Every finance parameter, declared (assumptions plus the plan's overrides)."""

    def pct(name: str) -> Parameter:
        return assumption(name, scale=0.01)

    def share(name: str) -> Parameter:
        return assumption(name, lower=0.0, upper=1.0)

    return [
        pct("cost_inflation"),
        assumption(
            "provider_efficiency_achieved", lower=-5.0, upper=10.0, override=options.provider_efficiency
        ),
        pct("tariff_net_price_change"),
        share("cquin_achievement"),
        share("out_of_area_share"),
        *(
            assumption(
                f"marginal_cost_share_{kind}",
                lower=0.0,
                upper=1.0,
                override=options.marginal_cost_share.get(kind),  # type: ignore[arg-type]
            )
            for kind in PROVIDER_KINDS_WITH_MC
        ),
        assumption("semi_fixed_share_acute", lower=0.0, upper=1.0, override=options.semi_fixed_share_acute),
        assumption("beds_per_ward", lower=1.0),
        pct("allocation_growth_after_2020_21"),
        assumption("mental_health_share_of_ccg_allocation", lower=0.0),
        pct("other_commissioned_real_growth"),
        *(pct(f"real_unit_cost_growth_{g}") for g in (*REAL_GROWTH_GROUPS, "mental_health", "specialised")),
        pct("mental_health_demand_growth"),
        pct("specialised_demand_growth"),
        pct("working_age_social_care_demand_growth"),
        pct("social_care_price_inflation"),
        share("social_care_labour_share"),
        pct("council_core_funding_growth"),
        assumption("social_care_market_gap_2016_17", scale=1e9, lower=0.0),
        share("starting_deficit_weight_on_loans"),
        assumption("provider_one_off_savings_2016_17", scale=1e9, lower=0.0),
        assumption("provider_accounting_changes_2016_17", scale=1e9, lower=0.0),
        assumption("mret_baseline_ratio_2008_09", lower=0.5, upper=1.0),
    ]


def finance_parameters(draws: ParameterDraws) -> FinanceParams:
    """The finance stages' view of a run's parameter draws."""

    def a(name: str) -> np.ndarray:
        return draws[f"assumption/{name}"]

    return FinanceParams(
        inflation=a("cost_inflation"),
        efficiency=a("provider_efficiency_achieved") / 100.0,
        tariff_change=a("tariff_net_price_change"),
        cquin_achievement=a("cquin_achievement"),
        out_of_area=a("out_of_area_share"),
        marginal={kind: a(f"marginal_cost_share_{kind}") for kind in PROVIDER_KINDS_WITH_MC},
        semi_fixed_acute=a("semi_fixed_share_acute"),
        occupancy=draws[OCCUPANCY],
        beds_per_ward=a("beds_per_ward"),
        allocation_growth_after_2020=a("allocation_growth_after_2020_21"),
        mental_health_share=a("mental_health_share_of_ccg_allocation"),
        other_commissioned_growth=a("other_commissioned_real_growth"),
        real_growth={
            g: a(f"real_unit_cost_growth_{g}") for g in (*REAL_GROWTH_GROUPS, "mental_health", "specialised")
        },
        mental_health_demand_growth=a("mental_health_demand_growth"),
        specialised_demand_growth=a("specialised_demand_growth"),
        working_age_care_growth=a("working_age_social_care_demand_growth"),
        social_care_price_inflation=a("social_care_price_inflation"),
        social_care_labour_share=a("social_care_labour_share"),
        council_core_funding_growth=a("council_core_funding_growth"),
        market_gap=a("social_care_market_gap_2016_17"),
        deficit_loans_weight=a("starting_deficit_weight_on_loans"),
        provider_one_offs=a("provider_one_off_savings_2016_17"),
        provider_accounting=a("provider_accounting_changes_2016_17"),
        mret_baseline_ratio=a("mret_baseline_ratio_2008_09"),
        draws=draws,
    )
