"""Contracts: what the commissioner pays each provider, under the payment rules of each year.

The national rules changed over the STP years, so the contracts stage reads a rule book per
financial year (``rule_book``):

- to 2018/19: national tariff with the marginal rate emergency tariff (MRET: emergency
  admissions above the fixed 2008/09 baseline value paid at 70%) and the 30-day emergency
  readmission rule; CQUIN 2.5% of contract value;
- 2019/20 to 2021/22: blended payment for emergency care (a fixed sum for planned activity plus
  20% of price on the variance), MRET and the readmission rule abolished; CQUIN 1.25%;
- from 2022/23: aligned payment and incentive for the whole acute contract.

A plan's ``pbr`` contracts follow those rules; the other mechanisms (block, capitation, risk
share, ...) are local choices and keep their terms, with CQUIN at the year's rate. CQUIN is part
of the NHS Standard Contract only: general practice (GMS/PMS contracts) earns none.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .. import contracts
from ..axes import ALL_SETTINGS
from ..contract_terms import EMERGENCY, ContractSpec, FinanceOptions, preset_contracts
from ..organisations import Organisation, resolve
from ..reference import fact

IDX = {k: i for i, k in enumerate(ALL_SETTINGS)}


@dataclass(frozen=True)
class RuleBook:
    """The national payment rules in force in one financial year."""

    year: int
    emergency: str  # "pbr" (with MRET and readmissions), "blended" or "aligned_payment"
    mret_rate: float  # share of tariff paid above the baseline (1 = no MRET)
    readmission_rule: bool
    cquin_rate: float
    blended_variable_rate: float = 0.2

    @property
    def label(self) -> str:
        return {
            "pbr": "national tariff with MRET and the readmission rule",
            "blended": "blended payment for emergency care",
            "aligned_payment": "aligned payment and incentive",
        }[self.emergency]


@lru_cache(maxsize=64)
def rule_book(year: int) -> RuleBook:
    """The rules of financial year ``year`` (2016 = 2016/17), from the shipped finance table."""
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


def year_masks(years: np.ndarray) -> dict[str, np.ndarray]:
    """(1, year) masks of the years each emergency rule applies."""
    return _year_masks(tuple(int(y) for y in years))


def cquin_rates(years: np.ndarray, spec: ContractSpec, payee: Organisation) -> np.ndarray:
    """(1, year) CQUIN rate: the spec's own, else the year's; none for general practice."""
    if payee.kind == "primary_care":
        return np.zeros((1, len(years)))
    if spec.cquin_rate is not None:
        return np.full((1, len(years)), spec.cquin_rate)
    return np.array([[rule_book(int(y)).cquin_rate for y in years]])


def contracts_for(options: FinanceOptions, orgs: list[Organisation]) -> list[ContractSpec]:
    """The plan's contracts (a preset expanded, or its list), with a mental health block added
    when none is given."""
    base = (
        list(options.contracts)
        if isinstance(options.contracts, list)
        else preset_contracts(options.contracts, orgs, options)
    )
    if not any(o.kind == "mental_health" for c in base for o in resolve(c.payee, orgs)):
        base.append(ContractSpec(payee="mental_health", mechanism="block"))
    return base


@dataclass(frozen=True)
class Context:
    """What every contract's formula may need, for one footprint."""

    years: np.ndarray
    price_path: np.ndarray  # (draw, year) tariff price index from 2016/17
    elapsed: np.ndarray  # (1, year) years since 2016/17
    capitation_growth: np.ndarray  # (draw, year) need-weighted population x allocation per head
    capitation_base: float  # 2016/17 tariff value of the covered settings, whole footprint
    mret_baseline_ratio: np.ndarray  # (draw,) 2008/09 emergency activity over 2016/17's
    population_cost: np.ndarray  # (draw, year) residents' NHS care at tariff: total cost of care
    population_benchmark: np.ndarray  # (draw, year) the same for planned activity at each draw's prices
    risk_share_weight: float = 1.0  # this payee's share of the population's shared savings


def national_tariff(spec, a, plan_a, prices, settings, base_value, ctx: Context) -> np.ndarray:
    """Payment by (draw, year) under the year's national rules: PbR with MRET against the fixed
    2008/09 baseline and the readmission rule to 2018/19, blended payment for emergency care
    from 2019/20, aligned payment and incentive from 2022/23."""
    by_setting = contracts.pbr(a, prices)
    masks = year_masks(ctx.years)
    em = [i for i, s in enumerate(settings) if s in EMERGENCY]
    paid = by_setting.sum(axis=-1)
    # Each rule is worked out only if it applies in some year of the run.
    if "emergency_admissions" in settings and masks["pbr"].any():
        j = settings.index("emergency_admissions")
        # The baseline is 2008/09's emergency activity valued at this year's prices.
        baseline = base_value[j] * ctx.mret_baseline_ratio[:, None] * ctx.price_path
        ea = by_setting[..., j]
        withheld = ea - contracts.mret(ea, baseline, spec.mret_rate)
        withheld = withheld + contracts.readmission_withholding(
            ea, spec.readmission_share, spec.avoidable_share
        )
        paid = paid - np.where(masks["pbr"], withheld, 0.0)
    if em and masks["blended"].any():
        blended = contracts.blended(a[..., em], plan_a[..., em], prices[..., em], spec.variable_rate).sum(-1)
        paid = np.where(masks["blended"], paid - by_setting[..., em].sum(-1) + blended, paid)
    if masks["aligned_payment"].any():
        api = contracts.aligned_payment_incentive(
            plan_a * prices, a, plan_a, prices, spec.up_rate, spec.down_rate
        ).sum(axis=-1)
        paid = np.where(masks["aligned_payment"], api, paid)
    return paid


def contract_value(spec, a, plan_a, prices, settings, base_value, ctx: Context) -> np.ndarray:
    """Payment by (draw, year) to one payee under one contract. ``a`` (draw, year, setting)
    delivered; ``plan_a`` (1, year, setting) planned; ``prices`` (draw, year, setting) with MFF;
    ``base_value`` (setting,) 2016/17 value at 2016/17 prices with MFF."""
    m = spec.mechanism
    planned_value = (plan_a * prices).sum(axis=-1)
    if m == "pbr":
        return national_tariff(spec, a, plan_a, prices, settings, base_value, ctx)
    if m == "risk_share":
        # Shared savings on the total cost of care of the attributed population (the footprint's
        # residents) against the benchmark of its planned cost, as shared-savings contracts do.
        paid = national_tariff(spec, a, plan_a, prices, settings, base_value, ctx)
        transfer = contracts.two_sided_risk_share(
            np.broadcast_to(ctx.population_benchmark, ctx.population_cost.shape),
            ctx.population_cost,
            spec.msr,
            spec.mlr,
            spec.savings_rate,
            spec.loss_rate,
            spec.savings_cap,
            spec.loss_cap,
        )
        return paid + ctx.risk_share_weight * transfer
    if m == "block":
        return contracts.block(np.broadcast_to(planned_value, a.shape[:2]))
    if m == "cost_and_volume":
        return contracts.cost_and_volume(a, prices, plan_a, spec.band).sum(axis=-1)
    if m == "blended":
        return contracts.blended(a, plan_a, prices, spec.variable_rate).sum(axis=-1)
    if m == "aligned_payment":
        return contracts.aligned_payment_incentive(
            plan_a * prices, a, plan_a, prices, spec.up_rate, spec.down_rate
        ).sum(axis=-1)
    if m == "corridor":
        return contracts.gain_loss_corridor(
            plan_a * prices, a, plan_a, prices, spec.share, spec.corridor
        ).sum(axis=-1)
    if m == "declining":
        value, _ = contracts.declining_contract(base_value.sum() * ctx.price_path, spec.rate, ctx.elapsed)
        return np.broadcast_to(value, a.shape[:2])
    if m == "capitation":
        return contracts.capitation(ctx.capitation_growth, ctx.capitation_base)
    raise ValueError(m)  # pragma: no cover
