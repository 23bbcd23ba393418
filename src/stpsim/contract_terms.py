"""The contract terms a plan can choose: typed, validated specifications and the presets that
stand for the payment models debated in 2016 (PbR, block, capitation, risk share, ...).

Each mechanism is one registered type in :mod:`stpsim.payment.mechanisms` (terms, formula,
checks, wording); :mod:`stpsim.finance` applies them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from . import assumptions
from .axes import ALL_SETTINGS
from .organisations import DEFAULT_DELIVERY, Organisation
from .parameters import Interval
from .payment.mechanisms import EMERGENCY, REGISTRY, Contract, contract
from .payment.mechanisms import ContractSpec as PlanContract

ACUTE = DEFAULT_DELIVERY["acute"]


def ContractSpec(**terms) -> Contract:  # noqa: N802 - reads like the type it makes
    """A contract of the registered mechanism ``terms["mechanism"]`` (see
    :mod:`stpsim.payment.mechanisms`)."""
    return contract(**terms)


# ---- presets: a registry, one entry each -----------------------------------------------------


@dataclass(frozen=True)
class PresetSpec:
    """A preset: the payment model a plan names in one word. ``build`` gives the acute trusts'
    contracts (community and general practice are then paid by block), or, for a ``whole``
    preset, the complete contract list. ``mechanism`` is the registered mechanism whose wording
    explains the preset to readers."""

    name: str
    title: str
    mechanism: str
    build: Callable[..., list[Contract]]
    whole: bool = False

    @property
    def wording(self) -> str:
        return REGISTRY[self.mechanism].wording


PRESET_REGISTRY: dict[str, PresetSpec] = {}


def preset(name: str, title: str, mechanism: str, whole: bool = False):
    """Register ``build(acute_ids, orgs, options)`` as the preset ``name``."""

    def add(build: Callable[..., list[Contract]]) -> Callable[..., list[Contract]]:
        PRESET_REGISTRY[name] = PresetSpec(name, title, mechanism, build, whole)
        return build

    return add


def _one_each(mechanism: str) -> Callable[..., list[Contract]]:
    """Every acute trust on its own contract of ``mechanism``, on default terms."""

    def build(acute, orgs, options):
        return [ContractSpec(payee=a, mechanism=mechanism) for a in acute]

    return build


preset("pbr", "Payment by results (national tariff)", "pbr")(_one_each("pbr"))
preset("block", "Block contracts", "block")(_one_each("block"))


@preset("capitation", "Capitation (a whole-population budget)", "capitation", whole=True)
def _capitation(acute, orgs, options):
    # One budget for all acute and community care; every provider keeps a block for whatever
    # else it delivers (general practice its consultations, say).
    from .organisations import delivery_shares

    covered = list(ACUTE) + list(DEFAULT_DELIVERY["community"])
    c = [ContractSpec(payee=options.capitation_lead, mechanism="capitation", settings=covered)]
    shares = delivery_shares(orgs, None, options.delivery)
    for o in orgs:
        if o.kind in ("acute", "community", "primary_care"):
            rest = [k for k in all_settings_of(o, shares, orgs) if k not in covered]
            if rest:
                c.append(ContractSpec(payee=o.id, mechanism="block", settings=rest))
    return c


preset("risk_share", "A two-sided risk share", "risk_share")(_one_each("risk_share"))


@preset("blended", "Blended payment", "blended")
def _blended(acute, orgs, options):
    planned = [s for s in ACUTE if s not in EMERGENCY]
    return [ContractSpec(payee=a, mechanism="blended", settings=list(EMERGENCY)) for a in acute] + [
        ContractSpec(payee=a, mechanism="pbr", settings=planned, mret_rate=1.0) for a in acute
    ]


preset("aligned_payment", "Aligned payment and incentive", "aligned_payment")(_one_each("aligned_payment"))


@preset("declining", "A contract that shrinks each year", "declining")
def _declining(acute, orgs, options):
    return [
        ContractSpec(
            payee=a, mechanism="declining", rate=options.declining_rate, recipient=options.declining_recipient
        )
        for a in acute
    ]


PRESETS = tuple(PRESET_REGISTRY)


def contracts_title(contracts: str | list) -> str:
    """How readers see a plan's ``finance.contracts``: its preset's title, or "Custom contracts"."""
    return PRESET_REGISTRY[contracts].title if isinstance(contracts, str) else "Custom contracts"


def contracts_wording(contracts: str | list) -> str:
    """What a plan's contracts do, in the registered mechanisms' own words (one sentence per
    mechanism a custom list uses)."""
    if isinstance(contracts, str):
        return PRESET_REGISTRY[contracts].wording
    return " ".join(dict.fromkeys(REGISTRY[c.mechanism].wording for c in contracts))


Preset = Literal[PRESETS]  # type: ignore[valid-type]


def checked_terms(terms: dict[str, float]) -> dict[str, float]:
    """``terms`` if every one is a contract term allowed for every mechanism that has it, else
    ValueError naming each problem (``term_problems``)."""
    problems = [p for name, value in terms.items() for p in term_problems(name, value)]
    if problems:
        raise ValueError("; ".join(problems))
    return terms


# Contract terms by name, as a plan or an optimiser's contract option gives them.
ContractTerms = Annotated[dict[str, float], AfterValidator(checked_terms)]


class FinanceOptions(BaseModel):
    """The plan's organisations, who delivers what, and how they are paid."""

    model_config = ConfigDict(extra="forbid")

    contracts: Preset | list[PlanContract] = Field(
        "pbr", description=f"a preset ({', '.join(PRESETS)}) or a complete list of contracts"
    )
    acute_shares: dict[str, float] | None = Field(
        None, description="share of acute activity by trust code or id (default: equal); must sum to 1"
    )
    delivery: dict[str, dict[str, float]] = Field(
        default_factory=dict, description="setting -> {organisation: share}; overrides who delivers it"
    )
    mff: dict[str, float] = Field(
        default_factory=dict, description="market forces factor by organisation (1.0)"
    )
    close_surplus_wards: bool = Field(False, description="close wards no longer needed (after a lag)")
    capitation_lead: str = Field("community", description="capitation preset: who holds the budget")
    declining_rate: float = Field(
        default_factory=lambda: float(assumptions.value("declining_contract_rate")),
        ge=0.0,
        le=0.5,
        description="declining preset: yearly fall in acute value (default: declining_contract_rate)",
    )
    declining_recipient: str = Field(
        "community", description="declining preset: who receives the released money"
    )
    marginal_cost_share: dict[
        Literal["acute", "community", "mental_health", "primary_care", "social_care"], Interval
    ] = Field(
        default_factory=dict, description="override the short-run marginal cost share by kind (80% interval)"
    )
    semi_fixed_share_acute: Interval | None = Field(
        None, description="override the share of acute non-variable cost that steps with open wards"
    )
    provider_efficiency: Interval | None = Field(
        None, description="cost improvement NHS providers achieve, % a year (80% interval); default 1-3%"
    )

    @field_validator("marginal_cost_share")
    @classmethod
    def _shares_in_unit_interval(cls, v: dict) -> dict:
        for kind, iv in v.items():
            if iv.low < 0 or iv.high > 1:
                raise ValueError(f"{kind}: a share must lie in [0, 1]; got {iv.low} to {iv.high}")
        return v

    @field_validator("semi_fixed_share_acute")
    @classmethod
    def _semi_in_unit_interval(cls, v: Interval | None) -> Interval | None:
        if v is not None and (v.low < 0 or v.high > 1):
            raise ValueError(f"a share must lie in [0, 1]; got {v.low} to {v.high}")
        return v

    @field_validator("provider_efficiency")
    @classmethod
    def _efficiency_range(cls, v: Interval | None) -> Interval | None:
        if v is not None and (v.low < -5 or v.high > 10):
            raise ValueError(
                f"provider efficiency is % a year and must lie in [-5, 10]; got {v.low} to {v.high}"
            )
        return v

    commissioner_funds_care_models: bool = Field(
        True,
        description="the commissioner pays each care model's investment and running costs to its provider",
    )
    contract_terms: ContractTerms = Field(
        default_factory=dict,
        description="terms set on every contract whose mechanism has them, a preset's or a list's (for "
        "example savings_rate and loss_rate of a risk share, band of cost and volume, rate of a "
        "declining contract); the rest keep their defaults",
    )


def preset_term_defaults() -> dict[str, float | str]:
    """The finance fields that are a preset's own terms (the declining contract's rate and
    recipient, capitation's budget holder), with their defaults."""
    fields = FinanceOptions.model_fields
    names = ("declining_rate", "declining_recipient", "capitation_lead")
    return {k: fields[k].get_default(call_default_factory=True) for k in names}


# A contract's fields that say who is paid for what, not on what terms.
_NOT_TERMS = ("payee", "settings", "mechanism", "recipient")


def contract_term_names() -> dict[str, tuple[str, ...]]:
    """Every numeric contract term and the mechanisms that have it."""
    out: dict[str, list[str]] = {}
    for mechanism, cls in REGISTRY.items():
        for name in cls.model_fields:
            if name not in _NOT_TERMS:
                out.setdefault(name, []).append(mechanism)
    return {k: tuple(v) for k, v in out.items()}


def term_problems(name: str, value: float) -> list[str]:
    """What is wrong with setting contract term ``name`` to ``value`` on every contract whose
    mechanism has it, each naming the term; none when it is allowed."""
    from pydantic import ValidationError

    names = contract_term_names()
    if name not in names:
        return [f"{name}: not a contract term; allowed: {', '.join(sorted(names))}"]
    problems = []
    for mechanism in names[name]:
        try:
            REGISTRY[mechanism](payee="x", **{name: value})
        except ValidationError as e:
            why = e.errors()[0]["msg"].lower()
            problems.append(f"{name}: {value:g} is not allowed for {mechanism} contracts ({why})")
    return problems


def with_terms(contracts: list[Contract], terms: dict[str, float]) -> list[Contract]:
    """``contracts`` with ``terms`` set on each whose mechanism has them (validated again)."""
    if not terms:
        return contracts
    out = []
    for c in contracts:
        own = {k: v for k, v in terms.items() if k in type(c).model_fields}
        out.append(type(c).model_validate(c.model_dump() | own) if own else c)
    return out


def preset_contracts(name: str, orgs: list[Organisation], options: FinanceOptions) -> list[Contract]:
    """The complete contract list a preset stands for."""
    spec = PRESET_REGISTRY[name]
    c = spec.build([o.id for o in orgs if o.kind == "acute"], orgs, options)
    if spec.whole:
        return c
    return c + [ContractSpec(payee=o, mechanism="block") for o in ("community", "primary_care")]


def all_settings_of(payee: Organisation, shares, orgs: list[Organisation]) -> list[str]:
    i = [o.id for o in orgs].index(payee.id)
    return [k for j, k in enumerate(ALL_SETTINGS) if shares[i, j] > 0]
