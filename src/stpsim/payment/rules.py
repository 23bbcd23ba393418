"""The national payment rules of each financial year: a rule book per year, the one owner of
every year-dependent rate (``data/tables/payment_rules.csv``, each rule with its source;
``stpsim rules`` prints them).

- 2016/17 to 2018/19: payment by results, with the marginal rate emergency tariff (MRET:
  emergency admissions above the 2008/09 baseline value paid at 70%) and the 30-day emergency
  readmission rule; CQUIN 2.5% of contract value;
- 2019/20: blended payment for emergency care (a fixed sum for planned activity plus 20% of
  price on the variance); MRET and the readmission rule abolished; CQUIN 1.25%, the other 1.25%
  moved into core prices;
- 2020/21 and 2021/22: the COVID-19 financial regime: block payments to trusts within system
  envelopes, whatever the activity; CQUIN suspended, an allowance for it paid inside the blocks;
- from 2022/23: aligned payment and incentive: a fixed element for planned activity and a
  variable element for elective activity only (75% of price above the baseline and 50% clawed
  back below it in 2022/23; 100% either way from 2023/24); CQUIN 1.25% again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..axes import parse_year, year_label
from ..cache import persistent
from ..reference import derived

REGIMES = ("pbr", "blended", "block", "aligned_payment")
LABELS = {
    "pbr": "payment by results with MRET and the readmission rule",
    "blended": "blended payment for emergency care",
    "block": "block payments within system envelopes (COVID-19)",
    "aligned_payment": "aligned payment and incentive (variable element for elective care)",
}
# The settings aligned payment's variable element pays for (elective care: ordinary admissions and
# their bed days, day cases and first outpatient attendances); the rest is in the fixed element.
ELECTIVE = ("elective_admissions", "elective_bed_days", "day_cases", "outpatient_first")


@dataclass(frozen=True)
class RuleBook:
    """The national payment rules in force in one financial year. A rate not in force is
    neutral (MRET 1: every admission at full price; the others 0)."""

    year: int
    emergency: str  # the regime: "pbr", "blended", "block" or "aligned_payment"
    mret_rate: float  # share of tariff paid above the baseline (1 = no MRET)
    readmission_rule: bool
    cquin_rate: float  # CQUIN as a share of contract value, paid by achievement
    cquin_in_prices: float = 0.0  # rise in core prices for CQUIN moved into them
    cquin_in_block: float = 0.0  # CQUIN allowance paid inside block payments, whatever achieved
    blended_variable_rate: float = 0.0  # blended payment: share of price paid on the variance
    aligned_up_rate: float = 0.0  # aligned payment: share of price paid above plan (elective)
    aligned_down_rate: float = 0.0  # aligned payment: share of price clawed back below plan
    sources: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def label(self) -> str:
        return LABELS[self.emergency]


@persistent
def rules_table() -> list[dict]:
    """The shipped rules, one row per rule and span of years (``payment_rules.csv``)."""
    from ..reference import table

    rows = table("payment_rules").to_dict(orient="records")
    return [r | {"from": parse_year(str(r["from_year"])), "to": parse_year(str(r["to_year"]))} for r in rows]


@derived(64)
def rule_book(year: int) -> RuleBook:
    """The rules of financial year ``year`` (2016 = 2016/17); the last year's rules carry on."""
    in_force = {r["rule"]: r for r in rules_table() if r["from"] <= year <= r["to"]}
    if "regime" not in in_force:
        raise ValueError(f"no payment rules for {year_label(year)}; the rule book starts in 2016/17")

    def rate(name: str, neutral: float) -> float:
        return float(in_force[name]["value"]) if name in in_force else neutral

    return RuleBook(
        year=year,
        emergency=str(in_force["regime"]["value"]),
        mret_rate=rate("mret_rate", 1.0),
        readmission_rule=bool(rate("readmission_rule", 0.0)),
        cquin_rate=rate("cquin_rate", 0.0),
        cquin_in_prices=rate("cquin_in_prices", 0.0),
        cquin_in_block=rate("cquin_in_block", 0.0),
        blended_variable_rate=rate("blended_variable_rate", 0.0),
        aligned_up_rate=rate("aligned_up_rate", 0.0),
        aligned_down_rate=rate("aligned_down_rate", 0.0),
        sources={name: str(r["source"]) for name, r in in_force.items()},
    )


def year_rates(years: np.ndarray, name: str, own: float | None = None) -> np.ndarray:
    """(1, year): the rule book's ``name`` in each of ``years``, or the contract's own rate
    ``own`` in every year where a contract states one."""
    if own is not None:
        return np.full((1, len(years)), float(own))
    return np.array([[float(getattr(rule_book(int(y)), name)) for y in years]])


@derived(64)
def _year_masks(years: tuple[int, ...]) -> dict[str, np.ndarray]:
    books = [rule_book(y) for y in years]
    return {e: np.array([[b.emergency == e for b in books]]) for e in REGIMES}


def year_masks(years: np.ndarray) -> dict[str, np.ndarray]:
    """(1, year) masks of the years each regime applies."""
    return _year_masks(tuple(int(y) for y in years))


def rules_document(years: list[int]) -> list[dict]:
    """The rules in force in each of ``years``, with their sources (``stpsim rules --json``)."""
    out = []
    for y in years:
        b = rule_book(y)
        out.append(
            {
                "year": year_label(y),
                "regime": b.emergency,
                "label": b.label,
                "mret_rate": b.mret_rate,
                "readmission_rule": b.readmission_rule,
                "cquin_rate": b.cquin_rate,
                "cquin_in_prices": b.cquin_in_prices,
                "cquin_in_block": b.cquin_in_block,
                "blended_variable_rate": b.blended_variable_rate,
                "aligned_up_rate": b.aligned_up_rate,
                "aligned_down_rate": b.aligned_down_rate,
                "elective_settings": list(ELECTIVE) if b.emergency == "aligned_payment" else [],
                "sources": dict(sorted(b.sources.items())),
            }
        )
    return out
