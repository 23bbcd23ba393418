"""Councils' adult social care: spending from need, funding from the published settlements.

The 2016/17 base is each footprint's published gross spending (ASC-FR 2016/17 by council,
apportioned to footprints by population; older people's, working-age adults' and other spend).
Older people's care then follows the modelled need for home care and care homes (age-specific
rates held at 2016/17, so growth is need, not rationing); working-age adults' care follows the
18-64 population and the growth in their need (learning disability above all); the rest follows
the whole population. Prices rise with care wages (the National Living Wage).

Funding is the 2016/17 spend growing with councils' core funding, plus what the settlements
added for adult social care after 2016/17 (the social care precept, the improved Better Care
Fund and one-off grants, England totals shared by the footprint's share of spend). The base year
carries a provider-market gap: fees below the cost of care, which councils did not pay in
2016/17 but which the market needed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import assumptions, geography
from ..cache import persistent
from ..reference import table
from .params import FinanceParams

FUNDING_ITEMS = (
    "Adult social care precept, yield above 2016/17",
    "Improved Better Care Fund",
    "Adult social care grants (support grant, winter funding)",
)


@dataclass(frozen=True)
class SocialCareBase:
    older: float  # GBP 2016/17 gross spend on people 65+
    working_age: float
    other: float

    @property
    def total(self) -> float:
        return self.older + self.working_age + self.other


def base_spend(lsoas: np.ndarray) -> SocialCareBase:
    """An area's councils' 2016/17 gross spend (ASC-FR by council, shared to LSOAs by population)."""
    older, working, other = geography.small_areas().social_care[lsoas].sum(axis=0)
    return SocialCareBase(float(older), float(working), float(other))


@persistent
def england_spend() -> float:
    return float(geography.small_areas().social_care.sum())


@persistent
def _additions() -> dict[int, float]:
    """England's adult social care funding added since 2016/17, GBP cash, by year (held at the
    last published year's level after it: assumption ``social_care_funding_after_2019_20``)."""
    df = table("social_care_funding_england")
    out: dict[int, float] = {}
    for year in range(2016, 2020):
        label = f"{year}/{(year + 1) % 100:02d}"
        rows = df[(df["period"] == label) & (df["item"].isin(FUNDING_ITEMS))]
        out[year] = float(rows["value"].sum())
    assumptions.get("social_care_funding_after_2019_20")
    return out


def funding(lsoas: np.ndarray, years: np.ndarray, params: FinanceParams, elapsed: np.ndarray) -> np.ndarray:
    """The footprint's councils' funding for adult social care by (draw, year), GBP cash."""
    base = base_spend(lsoas)
    share = base.total / england_spend()
    add = np.array([_additions()[min(int(y), 2019)] for y in years])
    core = base.total * (1 + params.council_core_funding_growth[:, None]) ** elapsed
    return core + share * add[None, :]


@persistent
def living_wage() -> dict[int, float]:
    """The National Living Wage by financial year (2016 = 2016/17), GBP an hour, to 2023/24."""
    from ..axes import parse_year

    return {
        parse_year(str(r.year)): float(r.rate_gbp_per_hour)
        for r in table("national_living_wage").itertuples()
    }


def price_index(years: np.ndarray, params: FinanceParams) -> np.ndarray:
    """(draw, year) adult social care prices from 2016/17: each year's rise is the labour share of
    the National Living Wage's rise plus the rest at pay and prices, while the published rates
    run (to 2023/24); then the assumed care price inflation. ``years``: consecutive, from
    2016/17 (the books' years)."""
    nlw = living_wage()
    labour = params.social_care_labour_share[:, None]
    steps = []
    for y in years:
        y = int(y)
        if y <= min(nlw):
            steps.append(np.zeros_like(params.inflation))
        elif y in nlw:
            rise = nlw[y] / nlw[y - 1] - 1
            steps.append(labour[:, 0] * rise + (1 - labour[:, 0]) * params.inflation)
        else:
            steps.append(params.social_care_price_inflation)
    return np.cumprod(1 + np.stack(steps, axis=1), axis=1)


def market_gap(lsoas: np.ndarray, params: FinanceParams) -> np.ndarray:
    """The footprint's share of England's 2016/17 provider-market gap, by draw, GBP."""
    return params.market_gap * base_spend(lsoas).total / england_spend()
