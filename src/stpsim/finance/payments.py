"""Contracts: what the commissioner pays each provider, under the payment rules of each year
(the rule book in :mod:`stpsim.payment.rules`) and each mechanism's own formula (the registered
types in :mod:`stpsim.payment.mechanisms`). CQUIN is part of the NHS Standard Contract only:
general practice (GMS/PMS contracts) earns none.
"""

from __future__ import annotations

import numpy as np

from ..contract_terms import FinanceOptions, preset_contracts, with_terms
from ..organisations import Organisation, resolve
from ..payment import Context, Contract, RuleBook, contract, rule_book, year_masks
from ..payment.mechanisms import NationalTariff
from ..payment.rules import year_rates

__all__ = [
    "Context",
    "RuleBook",
    "contract_value",
    "contracts_for",
    "cquin_paid",
    "cquin_rates",
    "price_uplift",
    "rule_book",
    "year_masks",
]


def cquin_rates(years: np.ndarray, spec: Contract, payee: Organisation) -> np.ndarray:
    """(1, year) CQUIN rate: the spec's own, else the year's; none for general practice."""
    if payee.kind == "primary_care":
        return np.zeros((1, len(years)))
    if spec.cquin_rate is not None:
        return np.full((1, len(years)), spec.cquin_rate)
    return year_rates(years, "cquin_rate")


def cquin_paid(years: np.ndarray, spec: Contract, payee: Organisation, achievement: np.ndarray) -> np.ndarray:
    """(draw, year) CQUIN as a share of contract value: the year's rate by the achievement drawn,
    plus, in the block years, the allowance paid inside the blocks whatever was achieved (NHS
    England, CQUIN 2020/21). General practice (GMS and PMS contracts) has neither."""
    rate = cquin_rates(years, spec, payee) * achievement[:, None]
    if payee.kind == "primary_care":
        return rate
    return rate + year_rates(years, "cquin_in_block")


def price_uplift(years: np.ndarray, payee: Organisation) -> np.ndarray:
    """(1, year) factor on national prices: 1.0125 from 2019/20, when 1.25% of CQUIN moved into
    core prices; 1 for general practice, which never had CQUIN."""
    if payee.kind == "primary_care":
        return np.ones((1, len(years)))
    return 1.0 + year_rates(years, "cquin_in_prices")


def contracts_for(options: FinanceOptions, orgs: list[Organisation]) -> list[Contract]:
    """The plan's contracts (a preset expanded, or its list) on the plan's ``contract_terms``,
    with a mental health block added when none is given."""
    base = with_terms(
        list(options.contracts)
        if isinstance(options.contracts, list)
        else preset_contracts(options.contracts, orgs, options),
        options.contract_terms,
    )
    if not any(o.kind == "mental_health" for c in base for o in resolve(c.payee, orgs)):
        base.append(contract(payee="mental_health", mechanism="block"))
    return base


def contract_value(spec: Contract, a, plan_a, prices, settings, base_value, ctx: Context) -> np.ndarray:
    """Payment by (draw, year) to one payee under one contract: the mechanism's own formula."""
    return spec.pay(a, plan_a, prices, settings, base_value, ctx)


def national_tariff(spec: Contract, a, plan_a, prices, settings, base_value, ctx: Context) -> np.ndarray:
    """The year's national rules for ``spec``'s payee (PbR with MRET and the readmission rule to
    2018/19, blended payment for emergency care from 2019/20, aligned payment from 2022/23)."""
    terms = {k: v for k, v in spec.model_dump().items() if k in NationalTariff.model_fields}
    return NationalTariff(**(terms | {"mechanism": "pbr"})).pay(a, plan_a, prices, settings, base_value, ctx)
