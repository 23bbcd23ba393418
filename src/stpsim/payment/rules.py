"""The national payment rules of each financial year: a rule book per year.

- to 2018/19: national tariff with the marginal rate emergency tariff (MRET: emergency
  admissions above the fixed 2008/09 baseline value paid at 70%) and the 30-day emergency
  readmission rule; CQUIN 2.5% of contract value;
- 2019/20 to 2021/22: blended payment for emergency care (a fixed sum for planned activity plus
  20% of price on the variance), MRET and the readmission rule abolished; CQUIN 1.25%;
- from 2022/23: aligned payment and incentive for the whole acute contract.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..cache import persistent
from ..reference import fact


@dataclass(frozen=True)
class RuleBook:
    """The national payment rules in force in one financial year."""

    year: int
    emergency: str  # "pbr" (with MRET and readmissions), "blended" or "aligned_payment"
    mret_rate: float  # share of tariff paid above the baseline (1 = no MRET)
    readmission_rule: bool
    cquin_rate: float
    blended_variable_rate: float = 0.2  # blended payment: share of price paid on the variance
    aligned_up_rate: float = 0.75  # aligned payment: share of price paid above plan
    aligned_down_rate: float = 0.5  # aligned payment: share of price clawed back below plan

    @property
    def label(self) -> str:
        return {
            "pbr": "national tariff with MRET and the readmission rule",
            "blended": "blended payment for emergency care",
            "aligned_payment": "aligned payment and incentive",
        }[self.emergency]


@persistent
def _national_rates() -> tuple[float, float]:
    """MRET's marginal rate and CQUIN's value in 2016/17, per cent (national_finance.csv)."""
    mret = fact(
        "national_finance",
        "MRET: marginal rate in force (activity above baseline monetary value)",
        column="item",
        period="2016/17-2017/18",
    )
    cquin = fact(
        "national_finance",
        "CQUIN: total value of national + local CQUIN schemes",
        column="item",
        period="2016/17",
    )
    return mret, cquin


@lru_cache(maxsize=64)
def rule_book(year: int) -> RuleBook:
    """The rules of financial year ``year`` (2016 = 2016/17), from the shipped finance table."""
    mret, cquin = _national_rates()
    if year <= 2018:
        return RuleBook(year, "pbr", mret / 100, True, cquin / 100)
    later_cquin = cquin / 200  # halved to 1.25% from 2019/20 (NHS England CQUIN 2019/20)
    if year <= 2021:
        return RuleBook(year, "blended", 1.0, False, later_cquin)
    return RuleBook(year, "aligned_payment", 1.0, False, later_cquin)


@lru_cache(maxsize=64)
def _year_masks(years: tuple[int, ...]) -> dict[str, np.ndarray]:
    books = [rule_book(y) for y in years]
    return {e: np.array([[b.emergency == e for b in books]]) for e in ("pbr", "blended", "aligned_payment")}


def year_rates(years: np.ndarray, name: str, own: float | None = None) -> np.ndarray:
    """(1, year): the rule book's ``name`` in each of ``years``, or the contract's own rate
    ``own`` in every year where a contract states one."""
    if own is not None:
        return np.full((1, len(years)), float(own))
    return np.array([[float(getattr(rule_book(int(y)), name)) for y in years]])


def year_masks(years: np.ndarray) -> dict[str, np.ndarray]:
    """(1, year) masks of the years each emergency rule applies."""
    return _year_masks(tuple(int(y) for y in years))
