"""Payment mechanisms: one pure, documented function each.

Every function takes numpy arrays (any shape; typically draw x year) and returns what the payer
pays the payee. Formulas follow the shared evidence review (payment_and_evidence.md, part A);
the worked examples in tests/test_contracts.py write out the arithmetic.

Notation: A activity, P price (national tariff x market forces factor), V = A x P value at
tariff, A_plan planned activity agreed before the year, B a baseline or benchmark value.
"""

from __future__ import annotations

import numpy as np


def pbr(activity: np.ndarray, price: np.ndarray, mff: float = 1.0) -> np.ndarray:
    """Payment by results / national tariff: ``Pay = A x P x MFF``."""
    return activity * price * mff


def mret(value: np.ndarray, baseline: np.ndarray, marginal_rate: float) -> np.ndarray:
    """Marginal rate emergency tariff: ``Pay = min(V, B) + r x max(0, V - B)``.

    Emergency admissions above the baseline value B are paid at r of tariff (30% from 2010/11,
    70% by 2016/17); the commissioner keeps ``(1 - r) x max(0, V - B)``.
    Example: B = 10m, V = 12m, r = 0.3 -> 10m + 0.3 x 2m = 10.6m."""
    return np.minimum(value, baseline) + marginal_rate * np.maximum(0.0, value - baseline)


def readmission_withholding(
    value: np.ndarray, readmission_share: float, avoidable_share: float
) -> np.ndarray:
    """Amount withheld for avoidable 30-day emergency readmissions (from 2012/13):
    ``W = V x readmission share x avoidable share`` (the avoidable share agreed by local
    clinical review)."""
    return value * readmission_share * avoidable_share


def cquin(value: np.ndarray, rate: float, achievement: np.ndarray | float) -> np.ndarray:
    """Commissioning for quality and innovation: ``CQUIN = rate x AAV x achievement``
    (rate 2.5% of actual annual value in 2016/17)."""
    return value * rate * achievement


def block(agreed_value: np.ndarray) -> np.ndarray:
    """Block contract: ``Pay = B``, agreed in advance, whatever the activity."""
    return np.asarray(agreed_value, dtype=float)


def cost_and_volume(activity: np.ndarray, price: np.ndarray, planned: np.ndarray, band: float) -> np.ndarray:
    """Cost and volume: tariff for activity within ``planned x (1 +- band)``; activity outside the
    band is paid as if at the band's edge. Example: plan 1,000 at GBP 100, band 10%, actual 1,200
    -> 1,100 x 100 = GBP 110,000."""
    return np.clip(activity, planned * (1.0 - band), planned * (1.0 + band)) * price


def blended(activity: np.ndarray, planned: np.ndarray, price: np.ndarray, variable_rate: float) -> np.ndarray:
    """Blended payment (2019/20): ``Pay = A_plan x P + v x P x (A - A_plan)``, v = 20%.
    Example: plan 1,000, actual 1,100, P = 100 -> 100,000 + 0.2 x 100 x 100 = 102,000."""
    return planned * price + variable_rate * price * (activity - planned)


def aligned_payment_incentive(
    fixed: np.ndarray,
    activity: np.ndarray,
    baseline: np.ndarray,
    price: np.ndarray,
    up_rate: float,
    down_rate: float,
) -> np.ndarray:
    """Aligned payment and incentive (2022/23): ``Pay = F + 0.75 x P x max(0, A - A_base)
    - 0.50 x P x max(0, A_base - A)``."""
    over = np.maximum(0.0, activity - baseline)
    under = np.maximum(0.0, baseline - activity)
    return fixed + up_rate * price * over - down_rate * price * under


def capitation(weighted_population: np.ndarray, rate_per_head: np.ndarray) -> np.ndarray:
    """Capitation: a risk-adjusted whole-population budget, ``Pay = rate x weighted population``.
    The capitated provider then pays for its population's care delivered by others, including
    100% of the cost of out-of-area treatment (Alzira rule)."""
    return weighted_population * rate_per_head


def two_sided_risk_share(
    benchmark: np.ndarray,
    expenditure: np.ndarray,
    msr: float,
    mlr: float,
    savings_rate: float,
    loss_rate: float,
    savings_cap: float,
    loss_cap: float,
) -> np.ndarray:
    """Two-sided risk share (Medicare Shared Savings Program form). Returns the transfer from
    payer to provider: positive is shared savings paid, negative is shared losses repaid.

    ``S = B - E``, ``s = S / B``. If ``s >= MSR``: ``SSR x S`` capped at ``cap_s x B``.
    If ``-s >= MLR``: ``-(LSR x |S|)`` capped at ``cap_l x B``. Otherwise nothing.
    Example: B = 100m, E = 95m, MSR 2%, SSR 50%, cap 10% -> 2.5m paid to the provider."""
    saving = benchmark - expenditure
    rate = np.divide(saving, benchmark, out=np.zeros_like(saving, dtype=float), where=benchmark != 0)
    shared = np.where(rate >= msr, np.minimum(savings_rate * saving, savings_cap * benchmark), 0.0)
    repaid = np.where(-rate >= mlr, np.minimum(loss_rate * -saving, loss_cap * benchmark), 0.0)
    return shared - repaid


def gain_loss_corridor(
    fixed: np.ndarray,
    activity: np.ndarray,
    planned: np.ndarray,
    price: np.ndarray,
    share: float,
    corridor: float,
) -> np.ndarray:
    """Gain/loss share within a corridor: ``Pay = F + share x P x clip(A - A_plan, -c A_plan,
    +c A_plan)``: each side carries ``share`` of the variance up to the corridor's edge and none
    beyond it. Example: F = 100,000, plan 1,000, actual 1,300, P = 100, share 50%, corridor 20%
    -> 100,000 + 0.5 x 100 x 200 = 110,000."""
    dev = np.clip(activity - planned, -corridor * planned, corridor * planned)
    return fixed + share * price * dev


def declining_contract(
    base_value: np.ndarray, rate: float, years_elapsed: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """A contract that shrinks by ``rate`` a year: ``value_t = V_0 x (1 - x)^t``. Returns the
    contract value and the money released, ``V_0 - value_t``, which moves to another provider.
    Example: V_0 = 100m, x = 5%, t = 2 -> 90.25m paid, 9.75m moved."""
    value = base_value * (1.0 - rate) ** years_elapsed
    return value, base_value - value
