"""Payment mechanisms: one registered, typed contract per mechanism, with its terms (validated
fields), its formula (``pay``), its checks and its wording for readers.

Adding a mechanism touches this file only: write a subclass of ``Contract`` with a ``mechanism``
literal, its terms, ``pay`` and ``wording``, and decorate it with ``@register``. Plans then
accept it in ``finance.contracts`` (the JSON Schema picks it up), and the books pay it. The
formulas themselves are the pure functions of :mod:`stpsim.contracts`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, ClassVar, Literal, Union

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from .. import contracts
from .rules import ELECTIVE, year_masks, year_rates

EMERGENCY = ("ae_attendances", "emergency_admissions", "emergency_bed_days")
Share = Field(ge=0.0, le=1.0)


def _assumed(name: str):
    """A contract term's default: the logged assumption ``name`` (assumptions.yaml)."""

    def default() -> float:
        from .. import assumptions

        return float(assumptions.value(name))

    return default


def _ruled(name: str, year: int):
    """A contract term's default: the rule book's national rate ``name`` in ``year``."""

    def default() -> float:
        from .rules import rule_book

        return float(getattr(rule_book(year), name))

    return default


@dataclass(frozen=True)
class Context:
    """What every contract's formula may need, for one footprint; arrays are (draw, year)."""

    years: np.ndarray
    price_path: np.ndarray  # tariff price index from 2016/17
    elapsed: np.ndarray  # (1, year) years since 2016/17
    capitation_growth: np.ndarray  # need-weighted population x allocation per head, from 2016/17
    capitation_base: float  # 2016/17 tariff value of the covered settings, whole footprint
    mret_baseline_ratio: np.ndarray  # (draw,) 2008/09 emergency activity over 2016/17's
    # Residents' NHS care at tariff (the total cost of care) and the same for planned activity
    # at each draw's prices: worked out only for a footprint with a risk share, which alone
    # reads them (None otherwise).
    population_cost: np.ndarray | None
    population_benchmark: np.ndarray | None
    risk_share_weight: float = 1.0  # this payee's share of the population's shared savings


class Contract(BaseModel):
    """One contract: the commissioner pays ``payee`` for ``settings``."""

    model_config = ConfigDict(extra="forbid")

    payee: str = Field(
        description="organisation id (acute:RBV, community, ...) or kind (acute = every acute trust)"
    )
    settings: list[str] | None = Field(None, description="settings paid for; default: all the payee delivers")
    cquin_rate: float | None = Field(
        None,
        ge=0.0,
        le=0.1,
        description="CQUIN as a share of contract value; default the year's national rate (2.5% to "
        "2018/19, 1.25% from 2019/20); general practice contracts carry none",
    )

    wording: ClassVar[str] = ""
    holds_budget: ClassVar[bool] = False  # pays other providers of its settings (capitation)
    releases_money: ClassVar[bool] = False  # hands money to another provider (declining)
    shares_population_savings: ClassVar[bool] = False  # risk share on the total cost of care
    # Pays setting by setting: the payment for a list of settings is the sum of the payments for
    # any split of it, so when care moves in a few settings only theirs is paid again.
    pays_per_setting: ClassVar[bool] = False
    # The payment depends on the care delivered (``a``); a block, a declining contract or a
    # capitated budget does not, so a scenario that moves care pays them what doing nothing
    # does, without working them out again.
    follows_activity: ClassVar[bool] = True

    def pay(self, a, plan_a, prices, settings: list[str], base_value, ctx: Context) -> np.ndarray:
        """Payment by (draw, year). ``a`` (draw, year, setting) delivered; ``plan_a`` (1, year,
        setting) planned; ``prices`` (draw, year, setting) with MFF; ``base_value`` (setting,)
        2016/17 value at 2016/17 prices with MFF. Every argument may carry leading axes (several
        payees' contracts at once, ``base_value`` then (payee, 1, 1, setting)): the payment
        carries them too, each payee's what it alone would be paid."""
        raise NotImplementedError

    def check(self, path: str) -> list[str]:
        """Problems with the terms beyond their types, each naming its field."""
        return []


REGISTRY: dict[str, type[Contract]] = {}


def register(cls: type[Contract]) -> type[Contract]:
    """Add a mechanism to the registry under its ``mechanism`` literal."""
    name = cls.model_fields["mechanism"].default
    REGISTRY[name] = cls
    return cls


def _planned_value(plan_a, prices) -> np.ndarray:
    return (plan_a * prices).sum(axis=-1)


@register
class NationalTariff(Contract):
    mechanism: Literal["pbr"] = "pbr"
    # The year's rates are the rule book's (``payment.rules``): a contract states its own only to
    # depart from the national rules.
    mret_rate: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="marginal rate above the 2008/09 emergency baseline while MRET applies (to "
        "2018/19); default the rule book's (70%); 1 = MRET off",
    )
    readmission_share: float = Field(0.0, ge=0.0, le=1.0, description="emergency readmissions share")
    avoidable_share: float = Field(0.0, ge=0.0, le=1.0, description="share of readmissions judged avoidable")
    variable_rate: float | None = Field(
        None, ge=0.0, le=1.0, description="blended years: share of price on variance; default the rule book's"
    )
    up_rate: float | None = Field(
        None, ge=0.0, le=1.0, description="aligned-payment years: rate above plan; default the rule book's"
    )
    down_rate: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="aligned-payment years: clawback below plan; default the rule book's",
    )

    pays_per_setting: ClassVar[bool] = True
    wording: ClassVar[str] = (
        "Paid under the national rules of each year: a price for every unit of care, with emergency "
        "admissions above the 2008/09 level paid at 70% until 2018/19; then a fixed sum for planned "
        "emergency care plus a fifth of the price for more or less; block payments whatever the "
        "activity in the pandemic years 2020/21 and 2021/22; then a fixed sum for planned care with "
        "elective care paid on the difference."
    )

    def pay(self, a, plan_a, prices, settings, base_value, ctx: Context) -> np.ndarray:
        by_setting = contracts.pbr(a, prices)
        paid = by_setting.sum(axis=-1)
        # Each rule is worked out only in the years it applies: ``t`` are their columns.
        masks = year_masks(ctx.years)
        pbr, blended, block, aligned = (
            np.flatnonzero(masks[r][0]) for r in ("pbr", "blended", "block", "aligned_payment")
        )
        em = [i for i, s in enumerate(settings) if s in EMERGENCY]
        if "emergency_admissions" in settings and pbr.size:
            t, j = pbr, settings.index("emergency_admissions")
            # The baseline is 2008/09's emergency activity valued at this year's prices.
            baseline = base_value[..., j] * ctx.mret_baseline_ratio[:, None] * ctx.price_path[:, t]
            ea = by_setting[..., t, j]
            rate = year_rates(ctx.years[t], "mret_rate", self.mret_rate)
            withheld = ea - contracts.mret(ea, baseline, rate)
            readmissions = year_rates(ctx.years[t], "readmission_rule") > 0
            withheld = withheld + np.where(
                readmissions,
                contracts.readmission_withholding(ea, self.readmission_share, self.avoidable_share),
                0.0,
            )
            paid[..., t] -= withheld
        if em and blended.size:
            t = blended
            rate = year_rates(ctx.years[t], "blended_variable_rate", self.variable_rate)[..., None]
            part = contracts.blended(
                a[..., t, :][..., em], plan_a[..., t, :][..., em], prices[..., t, :][..., em], rate
            )
            paid[..., t] = paid[..., t] - by_setting[..., t, :][..., em].sum(-1) + part.sum(-1)
        if block.size:  # paid the planned value, whatever the activity
            paid[..., block] = _planned_value(plan_a[..., block, :], prices[..., block, :])
        if aligned.size:
            # The fixed element pays for planned activity; the variable element only for elective
            # care, above and below its baseline (the plan) at the year's rates.
            t = aligned
            api = np.broadcast_to(_planned_value(plan_a[..., t, :], prices[..., t, :]), paid[..., t].shape)
            el = [i for i, s in enumerate(settings) if s in ELECTIVE]
            if el:
                up = year_rates(ctx.years[t], "aligned_up_rate", self.up_rate)[..., None]
                down = year_rates(ctx.years[t], "aligned_down_rate", self.down_rate)[..., None]
                api = api + contracts.aligned_payment_incentive(
                    0.0,
                    a[..., t, :][..., el],
                    plan_a[..., t, :][..., el],
                    prices[..., t, :][..., el],
                    up,
                    down,
                ).sum(axis=-1)
            paid[..., t] = api
        return paid


@register
class RiskShare(NationalTariff):
    mechanism: Literal["risk_share"] = "risk_share"  # type: ignore[assignment]
    msr: float = Field(
        default_factory=_assumed("risk_share_minimum_rate"),
        ge=0.0,
        le=1.0,
        description="minimum savings rate",
    )
    mlr: float = Field(
        default_factory=_assumed("risk_share_minimum_rate"), ge=0.0, le=1.0, description="minimum loss rate"
    )
    savings_rate: float = Field(
        default_factory=_assumed("risk_share_sharing_rate"), ge=0.0, le=1.0, description="shared savings rate"
    )
    loss_rate: float = Field(
        default_factory=_assumed("risk_share_sharing_rate"), ge=0.0, le=1.0, description="shared loss rate"
    )
    savings_cap: float = Field(
        default_factory=_assumed("risk_share_savings_cap"),
        ge=0.0,
        le=1.0,
        description="cap on savings, share of benchmark",
    )
    loss_cap: float = Field(
        default_factory=_assumed("risk_share_loss_cap"),
        ge=0.0,
        le=1.0,
        description="cap on losses, share of benchmark",
    )

    wording: ClassVar[str] = (
        "Paid under the national rules, plus a share of whatever the whole population's care costs "
        "less than planned (or minus a share of any overspend), beyond a small margin and up to a cap."
    )
    pays_per_setting: ClassVar[bool] = False  # the population transfer is paid once, not per setting
    shares_population_savings: ClassVar[bool] = True

    def pay(self, a, plan_a, prices, settings, base_value, ctx: Context) -> np.ndarray:
        # Shared savings on the total cost of care of the attributed population (the footprint's
        # residents) against the benchmark of its planned cost, as shared-savings contracts do.
        paid = super().pay(a, plan_a, prices, settings, base_value, ctx)
        transfer = contracts.two_sided_risk_share(
            np.broadcast_to(ctx.population_benchmark, ctx.population_cost.shape),
            ctx.population_cost,
            self.msr,
            self.mlr,
            self.savings_rate,
            self.loss_rate,
            self.savings_cap,
            self.loss_cap,
        )
        return paid + ctx.risk_share_weight * transfer


@register
class Block(Contract):
    mechanism: Literal["block"] = "block"
    pays_per_setting: ClassVar[bool] = True
    follows_activity: ClassVar[bool] = False
    wording: ClassVar[str] = "A fixed sum agreed in advance for the planned care, whatever is done."

    def pay(self, a, plan_a, prices, settings, base_value, ctx: Context) -> np.ndarray:
        return contracts.block(np.broadcast_to(_planned_value(plan_a, prices), a.shape[:-1]))


@register
class CostAndVolume(Contract):
    mechanism: Literal["cost_and_volume"] = "cost_and_volume"
    band: float = Field(
        default_factory=_assumed("cost_and_volume_band"),
        ge=0.0,
        le=1.0,
        description="volume band either side of plan",
    )
    pays_per_setting: ClassVar[bool] = True
    wording: ClassVar[str] = "A price for each unit of care within a band around the plan; none beyond it."

    def pay(self, a, plan_a, prices, settings, base_value, ctx: Context) -> np.ndarray:
        return contracts.cost_and_volume(a, prices, plan_a, self.band).sum(axis=-1)


@register
class Blended(Contract):
    mechanism: Literal["blended"] = "blended"
    variable_rate: float = Field(
        default_factory=_ruled("blended_variable_rate", 2019),
        ge=0.0,
        le=1.0,
        description="share of price paid on variance (default: the 2019/20 national rate)",
    )
    pays_per_setting: ClassVar[bool] = True
    wording: ClassVar[str] = "A fixed sum for the planned care plus a fifth of the price for more or less."

    def pay(self, a, plan_a, prices, settings, base_value, ctx: Context) -> np.ndarray:
        return contracts.blended(a, plan_a, prices, self.variable_rate).sum(axis=-1)


@register
class AlignedPayment(Contract):
    mechanism: Literal["aligned_payment"] = "aligned_payment"
    up_rate: float = Field(
        default_factory=_ruled("aligned_up_rate", 2022),
        ge=0.0,
        le=1.0,
        description="rate above baseline (default: the 2022/23 national rate)",
    )
    down_rate: float = Field(
        default_factory=_ruled("aligned_down_rate", 2022),
        ge=0.0,
        le=1.0,
        description="clawback rate below baseline (default: the 2022/23 national rate)",
    )
    pays_per_setting: ClassVar[bool] = True
    wording: ClassVar[str] = (
        "A fixed sum for the planned care, plus three quarters of the price for more and minus half for less."
    )

    def pay(self, a, plan_a, prices, settings, base_value, ctx: Context) -> np.ndarray:
        return contracts.aligned_payment_incentive(
            plan_a * prices, a, plan_a, prices, self.up_rate, self.down_rate
        ).sum(axis=-1)


@register
class Corridor(Contract):
    mechanism: Literal["corridor"] = "corridor"
    share: float = Field(
        default_factory=_assumed("gain_loss_share"), ge=0.0, le=1.0, description="share of variance carried"
    )
    corridor: float = Field(
        default_factory=_assumed("gain_loss_corridor_width"),
        ge=0.0,
        le=1.0,
        description="width either side of plan",
    )
    pays_per_setting: ClassVar[bool] = True
    wording: ClassVar[str] = "A fixed sum; gains and losses against the plan are shared within a corridor."

    def pay(self, a, plan_a, prices, settings, base_value, ctx: Context) -> np.ndarray:
        return contracts.gain_loss_corridor(
            plan_a * prices, a, plan_a, prices, self.share, self.corridor
        ).sum(axis=-1)


@register
class Declining(Contract):
    mechanism: Literal["declining"] = "declining"
    rate: float = Field(
        default_factory=_assumed("declining_contract_rate"),
        ge=0.0,
        le=1.0,
        description="yearly fall in contract value",
    )
    recipient: str | None = Field(None, description="who receives the released money (default community)")
    releases_money: ClassVar[bool] = True
    follows_activity: ClassVar[bool] = False
    wording: ClassVar[str] = (
        "A contract that shrinks each year, the money released going to another provider."
    )

    def pay(self, a, plan_a, prices, settings, base_value, ctx: Context) -> np.ndarray:
        value, _ = contracts.declining_contract(base_value.sum(-1) * ctx.price_path, self.rate, ctx.elapsed)
        return np.broadcast_to(value, a.shape[:-1])

    def released(self, base_value, ctx: Context) -> np.ndarray:
        """Money moved to the recipient by (draw, year)."""
        _, out = contracts.declining_contract(base_value.sum(-1) * ctx.price_path, self.rate, ctx.elapsed)
        return out


@register
class Capitation(Contract):
    mechanism: Literal["capitation"] = "capitation"
    holds_budget: ClassVar[bool] = True
    follows_activity: ClassVar[bool] = False
    wording: ClassVar[str] = (
        "One budget for the whole population's care, growing as the area's allocation does; the "
        "holder pays every other provider of that care, and for care outside the area."
    )

    def pay(self, a, plan_a, prices, settings, base_value, ctx: Context) -> np.ndarray:
        return contracts.capitation(ctx.capitation_growth, ctx.capitation_base)

    def check(self, path: str) -> list[str]:
        if not self.settings:
            return [f"{path}.settings: a capitation contract must list the settings its budget covers"]
        return []


ContractSpec = Annotated[Union[tuple(REGISTRY.values())], Field(discriminator="mechanism")]  # noqa: UP007
Mechanism = Literal[tuple(REGISTRY)]  # type: ignore[valid-type]


def contract(**terms) -> Contract:
    """A contract of the mechanism ``terms["mechanism"]`` with its terms validated."""
    name = terms.get("mechanism")
    if name not in REGISTRY:
        raise ValueError(f"unknown mechanism {name!r}; allowed: {', '.join(REGISTRY)}")
    return REGISTRY[name](**terms)
