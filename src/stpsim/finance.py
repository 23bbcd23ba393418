"""Finance: allocations, contract payments, provider costs and each organisation's surplus.

Every payment is an entry in a ledger with a payer and a payee, so money is conserved by
construction and transfers net out of the system total: the system surplus depends only on
external income (allocations, council funding), payments out of the footprint and costs. Who
gains or loses from a care model depends on the contracts. All arrays are (draw, year).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from . import activity, assumptions, contracts
from .axes import ALL_SETTINGS, BASE_YEAR, SETTINGS, YEARS
from .baseline import projection
from .contract_terms import ContractSpec, FinanceOptions, all_settings_of, preset_contracts
from .costs import BED_DAYS, costed_value, open_wards, provider_cost, unit_cost_vector
from .footprint import codes as all_codes
from .footprint import find
from .organisations import Organisation, delivery_shares, organisations, resolve
from .parameters import Interval, draw
from .reference import fact

IDX = {k: i for i, k in enumerate(ALL_SETTINGS)}


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


# ---- allocations and need-weighted population ------------------------------------------------


@lru_cache(maxsize=1)
def cost_weights() -> np.ndarray:
    """Expected NHS cost per person-year by (sex, age, segment) at 2016/17 rates and unit costs:
    the need weight behind each footprint's share of the allocations."""
    uc = unit_cost_vector()[: len(SETTINGS)].copy()
    for k in (*BED_DAYS, "home_care_hours", "care_home_weeks"):
        uc[SETTINGS.index(k)] = 0.0  # admissions carry their stay; councils pay for social care
    return np.einsum("ksag,k->sag", activity.rates().rates, uc)


@lru_cache(maxsize=1)
def weighted_population() -> np.ndarray:
    """Need-weighted population by (year, footprint) for 2016..2035 (all 44 footprints)."""
    return np.einsum("tfsag,sag->tf", projection().population, cost_weights())


def _allocation_label(year: int) -> str:
    return f"{year}/{(year + 1) % 100:02d}"


@lru_cache(maxsize=1)
def published_allocations() -> dict[tuple[str, int], float]:
    """NHS England allocations 2016/17..2020/21 by (kind, year), from the shipped table."""
    return {
        (kind, y): fact(
            "national_finance", f"NHS England allocation: {kind}", column="item", period=_allocation_label(y)
        )
        for kind in ("CCGs", "Primary care")
        for y in range(2016, 2021)
    }


def national_allocation(years: np.ndarray, seed: int, draws: range) -> tuple[np.ndarray, np.ndarray]:
    """CCG and primary care allocations for England by (draw, year): published to 2020/21, then
    growing by the assumption ``allocation_growth_after_2020_21``. Returns (CCG, primary care)."""
    growth = assumed("allocation_growth_after_2020_21", seed, draws, scale=0.01)
    out = []
    for kind in ("CCGs", "Primary care"):
        arr = np.empty((len(draws), len(years)))
        for t, y in enumerate(years):
            yy = min(int(y), 2020)
            v = published_allocations()[(kind, yy)]
            arr[:, t] = v * (1 + growth) ** (int(y) - yy)
        out.append(arr)
    return out[0], out[1]


@lru_cache(maxsize=1)
def underlying_deficit() -> float:
    """2016/17 provider underlying deficit (net deficit plus STF support) over the reference-cost
    quantum: by how much base-year provider costs exceed their contract income."""
    assumptions.get("underlying_deficit_uniform")
    net = fact(
        "national_finance", "NHS provider sector net deficit (year end)", column="item", period="2016/17"
    )
    stf = fact(
        "national_finance",
        "Sustainability and Transformation Fund (sustainability element, to providers)",
        column="item",
        period="2016/17",
    )
    quantum = fact("national_activity_totals", "Reference cost total cost: Total Quantum", period="2016/17")
    return (stf - net) / quantum


# ---- the ledger -----------------------------------------------------------------------------


@dataclass
class Ledger:
    """Every payment: payer, payee, what for, amount by (draw, year)."""

    orgs: list[Organisation]
    shape: tuple[int, int]
    entries: list[tuple[str, str, str, np.ndarray]] = field(default_factory=list)

    def pay(self, payer: str, payee: str, label: str, amount: np.ndarray | float) -> None:
        if payer != payee:
            self.entries.append((payer, payee, label, np.broadcast_to(amount, self.shape).astype(float)))

    def totals(self) -> tuple[np.ndarray, np.ndarray]:
        """Received and paid by (org, draw, year)."""
        ids = [o.id for o in self.orgs]
        received = np.zeros((len(ids),) + self.shape)
        paid = np.zeros_like(received)
        for payer, payee, _, amount in self.entries:
            paid[ids.index(payer)] += amount
            received[ids.index(payee)] += amount
        return received, paid


@dataclass(frozen=True)
class FootprintFinance:
    code: str
    orgs: list[Organisation]
    years: np.ndarray
    income: np.ndarray  # (org, draw, year) money received
    expenditure: np.ndarray  # (org, draw, year) own costs plus payments made
    own_costs: np.ndarray  # (org, draw, year)
    ledger: Ledger

    @property
    def surplus(self) -> np.ndarray:
        return self.income - self.expenditure

    @property
    def system_surplus(self) -> np.ndarray:
        """All the footprint's organisations together (NHS and councils)."""
        keep = np.array([o.kind != "external" for o in self.orgs])
        return self.surplus[keep].sum(axis=0)

    @property
    def nhs_surplus(self) -> np.ndarray:
        keep = np.array([o.kind not in ("external", "social_care") for o in self.orgs])
        return self.surplus[keep].sum(axis=0)


@dataclass(frozen=True)
class CareModelCosts:
    """Each adopted care model's cost by (draw, year) and the kind of organisation that runs it."""

    names: tuple[str, ...]
    bearer: tuple[str, ...]
    cost: np.ndarray  # (intervention, draw, year)


def contracts_for(options: FinanceOptions, orgs: list[Organisation]) -> list[ContractSpec]:
    """The plan's contracts (a preset expanded, or its list), with a mental health block added
    when none is given."""
    if isinstance(options.contracts, list):
        base = list(options.contracts)
    else:
        base = preset_contracts(options.contracts, orgs, options)
    if not any(o.kind == "mental_health" for c in base for o in resolve(c.payee, orgs)):
        base.append(ContractSpec(payee="mental_health", mechanism="block"))
    return base


@dataclass(frozen=True)
class _Context:
    """What every contract's formula may need, for one footprint."""

    price_path: np.ndarray  # (draw, year) tariff price index from 2016/17
    elapsed: np.ndarray  # (1, year) years since 2016/17
    capitation_growth: np.ndarray  # (draw, year) need-weighted population x allocation per head
    capitation_base: float  # 2016/17 tariff value of the covered settings, whole footprint


def contract_value(
    spec: ContractSpec,
    a: np.ndarray,
    plan_a: np.ndarray,
    prices: np.ndarray,
    settings: list[str],
    base_value: np.ndarray,
    ctx: _Context,
) -> np.ndarray:
    """Payment by (draw, year) to one payee under one contract. ``a`` (draw, year, setting)
    delivered; ``plan_a`` (1, year, setting) planned; ``prices`` (draw, year, setting) with MFF;
    ``base_value`` (setting,) 2016/17 value at 2016/17 prices with MFF."""
    m = spec.mechanism
    planned_value = (plan_a * prices).sum(axis=-1)
    if m in ("pbr", "risk_share"):
        by_setting = contracts.pbr(a, prices)
        paid = by_setting.sum(axis=-1)
        if "emergency_admissions" in settings and spec.mret_rate < 1.0:
            j = settings.index("emergency_admissions")
            baseline = base_value[j] * ctx.price_path  # the 2016/17 emergency value at this year's prices
            paid = paid - by_setting[..., j] + contracts.mret(by_setting[..., j], baseline, spec.mret_rate)
        paid = paid - contracts.readmission_withholding(
            by_setting[..., settings.index("emergency_admissions")]
            if "emergency_admissions" in settings
            else 0.0,
            spec.readmission_share,
            spec.avoidable_share,
        )
        if m == "risk_share":
            paid = paid + contracts.two_sided_risk_share(
                planned_value,
                paid,
                spec.msr,
                spec.mlr,
                spec.savings_rate,
                spec.loss_rate,
                spec.savings_cap,
                spec.loss_cap,
            )
        return paid
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


# ---- one footprint's books -------------------------------------------------------------------


def footprint_finance(
    code: str,
    options: FinanceOptions,
    years: np.ndarray,
    resident_activity: np.ndarray,
    planned_activity: np.ndarray,
    seed: int,
    draws: range,
    care_models: CareModelCosts | None = None,
    with_efficiency: bool = True,
) -> FootprintFinance:
    """The books of every organisation in one footprint for ``years``.

    ``resident_activity``: the residents' activity by (draw, year, setting), all settings.
    ``planned_activity``: (year, setting) the activity contracts are planned on (do-nothing,
    central growth), all settings.
    """
    orgs = organisations(find(code))
    ids = [o.id for o in orgs]
    n_d, n_t = resident_activity.shape[:2]
    ledger = Ledger(orgs, (n_d, n_t))
    elapsed = (years - BASE_YEAR)[None, :].astype(float)
    f = all_codes().index(code)
    t_idx = years - int(YEARS[0])

    # Parameters for the books (the same draws in every footprint and scenario: common numbers).
    ooa = assumed("out_of_area_share", seed, draws, lower=0.0, upper=1.0)
    ooa_c = float(assumptions.value("out_of_area_share"))
    inflation = assumed("cost_inflation", seed, draws, scale=0.01)[:, None]
    # Provider efficiency (cost improvement) is a plan action: the do-nothing books have none, as
    # in STP templates, where the do-nothing gap is measured before CIPs.
    if not with_efficiency:
        efficiency = np.zeros((len(draws), 1))
    elif options.provider_efficiency is not None:
        efficiency = (
            draw(
                options.provider_efficiency,
                seed,
                "assumption/provider_efficiency_achieved",
                draws,
                lower=-50.0,
                upper=50.0,
            )[:, None]
            / 100.0
        )
    else:
        efficiency = assumed("provider_efficiency_achieved", seed, draws, scale=0.01)[:, None]
    price_path = (1 + assumed("tariff_net_price_change", seed, draws, scale=0.01)[:, None]) ** elapsed
    cost_index = ((1 + inflation) * (1 - efficiency)) ** elapsed
    cquin_ach = assumed("cquin_achievement", seed, draws, lower=0.0, upper=1.0)[:, None]
    cquin_c = float(assumptions.value("cquin_achievement"))
    cost_index = cost_index * np.ones((len(draws), 1))

    # 2016/17: expected activity of the footprint's residents (central), by organisation.
    base_act = np.zeros(len(ALL_SETTINGS))
    base_act[: len(SETTINGS)] = activity.demand(projection().population[0, f])
    base_los = np.array([base_act[IDX[bd]] / base_act[IDX[adm]] for bd, adm in BED_DAYS.items()])
    uc = unit_cost_vector()
    price = uc.copy()
    for bd in BED_DAYS:
        price[IDX[bd]] = 0.0  # spell tariffs cover the stay; days beyond it are a cost, not income
    shares = delivery_shares(orgs, _acute_shares(options), options.delivery)  # (org, setting)
    org_act = np.einsum("ok,dtk->odtk", shares, resident_activity * (1.0 - ooa)[:, None, None])
    base_org = shares * base_act * (1 - ooa_c)  # (org, setting)
    planned = np.einsum("ok,tk->otk", shares, planned_activity) * (1 - ooa_c)

    # Allocations by need-weighted population share.
    wp = weighted_population()
    share_t = wp[t_idx, f] / wp[t_idx].sum(axis=1)
    ccg, primary = national_allocation(years, seed, draws)
    allocation = (ccg + primary) * share_t
    ledger.pay("nhs_england", "commissioner", "allocation", allocation)
    ccg0, primary0 = national_allocation(np.array([BASE_YEAR]), seed, range(1))
    share0 = wp[0, f] / wp[0].sum()
    alloc0 = float((ccg0 + primary0)[0, 0]) * share0

    specs = contracts_for(options, orgs)
    covered = {s for c in specs if c.mechanism == "capitation" for s in (c.settings or [])}
    cov = np.array([k in covered for k in ALL_SETTINGS])
    ctx = _Context(
        price_path=price_path,
        elapsed=elapsed,
        capitation_growth=(wp[t_idx, f] / wp[0, f])[None, :] * (allocation / share_t) / (alloc0 / share0),
        capitation_base=float((base_act * price)[cov].sum()),
    )

    # What the commissioner's contracts cost in 2016/17 (central), the same under every payment
    # mechanism so that mechanisms move money between organisations but never change the system:
    # residents' activity at tariff with CQUIN, plus the mental health block.
    mh_share_c0 = float(assumptions.value("mental_health_share_of_ccg_allocation"))
    in_area_nhs = sum(
        float(base_org[i] @ price)
        for i, o in enumerate(orgs)
        if o.kind in ("acute", "community", "primary_care")
    )
    base_paid = ooa_c * float(base_act @ price) + (in_area_nhs + mh_share_c0 * float(ccg0[0, 0]) * share0) * (
        1 + 0.025 * cquin_c
    )
    # Contracts, commissioner to providers.
    mh_share = assumed("mental_health_share_of_ccg_allocation", seed, draws, lower=0.0)[:, None]
    mh_share_c = float(assumptions.value("mental_health_share_of_ccg_allocation"))
    for spec in specs:
        for payee in resolve(spec.payee, orgs):
            p = ids.index(payee.id)
            if payee.kind == "mental_health":
                value = mh_share * ccg * share_t
            else:
                settings = (
                    spec.settings if spec.settings is not None else all_settings_of(payee, shares, orgs)
                )
                k = [IDX[s] for s in settings]
                mff = options.mff.get(payee.id, options.mff.get(payee.kind, 1.0))
                prices = price[k] * mff * price_path[..., None]
                base_k = base_org[p, k] * price[k] * mff
                value = contract_value(
                    spec, org_act[p][..., k], planned[p][None, :, k], prices, settings, base_k, ctx
                )
                if spec.mechanism == "capitation":
                    _subcontracts(ledger, orgs, payee, k, org_act, price, price_path, options)
                    ledger.pay(
                        payee.id,
                        "out_of_area",
                        "out-of-area treatment (capitated)",
                        (resident_activity * ooa[:, None, None] * price * price_path[..., None])[
                            ..., cov
                        ].sum(-1),
                    )
                if spec.mechanism == "declining":
                    _, released = contracts.declining_contract(base_k.sum() * price_path, spec.rate, elapsed)
                    recipient = resolve(spec.recipient or "community", orgs)[0].id
                    ledger.pay("commissioner", recipient, "released from declining contract", released)
            ledger.pay("commissioner", payee.id, f"contract ({spec.mechanism})", value)
            ledger.pay("commissioner", payee.id, "CQUIN", contracts.cquin(value, spec.cquin_rate, cquin_ach))

    # Out-of-area treatment of settings not under capitation: the commissioner pays at tariff.
    ooa_value = resident_activity * ooa[:, None, None] * price * price_path[..., None]
    ledger.pay("commissioner", "out_of_area", "out-of-area treatment", ooa_value[..., ~cov].sum(axis=-1))

    mh_base = mh_share_c * float(ccg0[0, 0]) * share0
    own = _provider_costs(
        orgs, org_act, base_org, base_los, uc, options, seed, draws, cost_index, elapsed, mh_base
    )

    # Care models: their costs fall on the organisations that run them; the commissioner funds them.
    if care_models is not None:
        for name, kind, cost in zip(care_models.names, care_models.bearer, care_models.cost, strict=True):
            bearers = [o for o in orgs if o.kind == kind]
            for b in bearers:
                own[ids.index(b.id)] += cost / len(bearers)
                if options.commissioner_funds_care_models and kind != "commissioner":
                    ledger.pay(
                        "commissioner", b.id, f"care model: {name}", np.maximum(cost, 0.0) / len(bearers)
                    )

    # The commissioner's other spending balances its 2016/17 books; councils' funding likewise.
    assumptions.get("commissioner_base_year_balance")
    other_growth = assumed("other_commissioned_real_growth", seed, draws, scale=0.01)[:, None]
    own[ids.index("commissioner")] = (
        (alloc0 - base_paid)
        * (wp[t_idx, f] / wp[0, f])[None, :]
        * ((1 + inflation) * (1 + other_growth)) ** elapsed
    )
    sc = ids.index("social_care")
    base_sc = float(base_org[sc] @ uc)
    growth = assumed("council_social_care_funding_growth", seed, draws, scale=0.01)[:, None]
    ledger.pay("local_government", "social_care", "council funding", base_sc * (1 + growth) ** elapsed)

    received, paid = ledger.totals()
    return FootprintFinance(
        code=code,
        orgs=orgs,
        years=years,
        income=received,
        expenditure=own + paid,
        own_costs=own,
        ledger=ledger,
    )


def _provider_costs(
    orgs, org_act, base_org, base_los, uc, options, seed, draws, cost_index, elapsed, mental_health_base
):
    """Own costs of every provider by (org, draw, year)."""
    n_d, n_t = org_act.shape[1:3]
    own = np.zeros((len(orgs), n_d, n_t))
    costed = costed_value(org_act, base_los, uc)  # (org, draw, year) at 2016/17 unit costs
    base_value = costed_value(base_org, base_los, uc)  # base-year bed days are all "base stay"
    underlying = underlying_deficit()
    cquin_c = float(assumptions.value("cquin_achievement")) * 0.025
    sc_index = (1 + assumed("social_care_price_inflation", seed, draws, scale=0.01)[:, None]) ** elapsed
    occupancy = draw(
        Interval.of(
            float(assumptions.get("bed_occupancy").low),  # type: ignore[arg-type]
            float(assumptions.get("bed_occupancy").high),
        ),  # type: ignore[arg-type]
        seed,
        "capacity/bed_occupancy",
        draws,
        lower=0.5,
        upper=1.0,
    )
    beds_per_ward = assumed("beds_per_ward", seed, draws, lower=1.0)
    if options.semi_fixed_share_acute is not None:
        semi = draw(
            options.semi_fixed_share_acute, seed, "assumption/semi_fixed_share_acute", draws, 0.0, 1.0
        )[:, None]
    else:
        semi = assumed("semi_fixed_share_acute", seed, draws, lower=0.0, upper=1.0)[:, None]
    lag = int(assumptions.value("ward_closure_lag_years"))
    bd = [IDX["emergency_bed_days"], IDX["elective_bed_days"]]
    for i, o in enumerate(orgs):
        if o.kind in ("commissioner", "external"):
            continue
        name = f"marginal_cost_share_{o.kind}"
        if o.kind in options.marginal_cost_share:
            mc = draw(options.marginal_cost_share[o.kind], seed, f"assumption/{name}", draws, 0.0, 1.0)
        else:
            mc = assumed(name, seed, draws, lower=0.0, upper=1.0)
        if o.kind == "social_care":
            own[i] = provider_cost(costed[i], base_value[i], base_value[i], mc, sc_index)
            continue
        # 2016/17 cost: contract income at that year's activity (with CQUIN) plus the underlying
        # deficit. Independent of the payment mechanism, so mechanisms change only who pays.
        mff = options.mff.get(o.id, options.mff.get(o.kind, 1.0))
        income0 = mental_health_base if o.kind == "mental_health" else base_value[i] * mff
        base_cost = income0 * (1 + cquin_c) * (1 + underlying)
        if o.kind != "acute":
            own[i] = provider_cost(costed[i], base_value[i], base_cost, mc, cost_index)
            continue
        beds = org_act[i][..., bd].sum(axis=-1) / 365.0 / occupancy[:, None]
        base_beds = base_org[i, bd].sum() / 365.0 / float(assumptions.value("bed_occupancy"))
        history = np.concatenate([np.full((n_d, 1), base_beds), beds], axis=1)
        wards = open_wards(history, beds_per_ward, options.close_surplus_wards, lag)
        ratio = wards[:, 1:] / wards[:, :1]
        own[i] = provider_cost(costed[i], base_value[i], base_cost, mc, cost_index, semi, ratio)
    # The extensivist shift: consultant sessions delivered in the community are hospital
    # consultants' time, so their cost leaves the acute trusts with them.
    sessions = org_act[..., IDX["community_consultant_sessions"]].sum(axis=0)
    acute = [i for i, o in enumerate(orgs) if o.kind == "acute"]
    for i in acute:
        own[i] -= sessions * uc[IDX["community_consultant_sessions"]] * cost_index / len(acute)
    return own


def _subcontracts(ledger, orgs, lead, k, org_act, price, price_path, options):
    """The capitated lead pays every other provider of covered settings at tariff."""
    for i, o in enumerate(orgs):
        if o.id == lead.id or o.kind in ("commissioner", "external"):
            continue
        mff = options.mff.get(o.id, options.mff.get(o.kind, 1.0))
        v = (org_act[i][..., k] * price[k]).sum(axis=-1) * price_path * mff
        if np.any(v):
            ledger.pay(lead.id, o.id, "subcontract at tariff", v)


def _acute_shares(options: FinanceOptions) -> dict[str, float] | None:
    if not options.acute_shares:
        return None
    return {(k if k.startswith("acute:") else f"acute:{k}"): v for k, v in options.acute_shares.items()}


# ---- a plan's finance: plan, do-nothing and the incentive matrix ------------------------------


@dataclass(frozen=True)
class PlanFinance:
    footprints: tuple[FootprintFinance, ...]
    do_nothing: tuple[FootprintFinance, ...]
    incentives: dict[tuple[str, str, str], np.ndarray]  # (intervention, footprint, org) -> (draw,) gain
    efficiency_only: tuple[FootprintFinance, ...] = ()  # do-nothing activity with provider efficiency

    def system_surplus(self, scenario: str = "plan") -> np.ndarray:
        """(draw, year) summed over the plan's footprints. Do-nothing has no care models and no
        provider efficiency: the STP "do-nothing" before cost improvement."""
        books = {
            "plan": self.footprints,
            "do_nothing": self.do_nothing,
            "efficiency_only": self.efficiency_only,
        }[scenario]
        return sum(b.system_surplus for b in books)

    def gap(self, scenario: str = "plan") -> np.ndarray:
        """Shortfall (positive) by (draw, year): minus the system surplus."""
        return -self.system_surplus(scenario)


def care_model_costs(
    adopted, targeted_people: np.ndarray, f: int, years: np.ndarray, seed: int, draws: range
) -> CareModelCosts:
    """Investment (when coverage rises) and running cost (at the coverage reached) of each adopted
    care model in footprint ``f``, GBP per 1,000 targeted people from the library, inflated."""
    elapsed = (years - BASE_YEAR)[None, :]
    inflation = assumed("cost_inflation", seed, draws, scale=0.01)[:, None]
    index = (1 + inflation) ** elapsed
    out = []
    for i, a in enumerate(adopted):
        level = a.coverage * a.ramp  # (year,)
        scale_up = np.maximum(np.diff(np.concatenate([[a.coverage * a.prior], level])), 0.0)
        people = targeted_people[:, f, i] / 1000.0
        inv = draw(a.spec.costs.investment, seed, f"cost/{a.spec.name}/investment", draws)[:, None]
        run = draw(a.spec.costs.running_cost, seed, f"cost/{a.spec.name}/running", draws)[:, None]
        out.append((inv * scale_up + run * level) * people * index)
    return CareModelCosts(
        names=tuple(a.spec.name for a in adopted),
        bearer=tuple(a.spec.delivered_by for a in adopted),
        cost=np.array(out) if out else np.zeros((0, len(draws), len(years))),
    )


# ---- validation of a plan's finance section ---------------------------------------------------


def check_options(options: FinanceOptions, codes: list[str]) -> list[str]:
    """Problems with a plan's finance section, one line each with its field path, for every
    footprint the plan covers. Empty when the contracts pay every delivered setting once."""
    problems: list[str] = []
    for code in codes:
        orgs = organisations(find(code))
        where = f" (in {code})" if len(codes) > 1 else ""

        def known(path: str, target: str, orgs=orgs, where=where, problems=problems) -> bool:
            try:
                resolve(target, orgs)
                return True
            except ValueError as e:
                problems.append(f"{path}: {e}{where}")
                return False

        acute_ids = [o.id for o in orgs if o.kind == "acute"]
        if options.acute_shares:
            shares = _acute_shares(options) or {}
            for key, v in shares.items():
                if key not in acute_ids:
                    problems.append(
                        f"finance.acute_shares.{key.removeprefix('acute:')}: not an acute trust of "
                        f"{code}; allowed: {', '.join(a.removeprefix('acute:') for a in acute_ids)}"
                    )
                if not 0.0 <= v <= 1.0:
                    problems.append(
                        f"finance.acute_shares.{key.removeprefix('acute:')}: share {v} outside [0, 1]"
                    )
            if abs(sum(shares.values()) - 1.0) > 1e-6:
                problems.append(
                    f"finance.acute_shares: shares sum to {sum(shares.values()):.4g}, not 1{where}"
                )
        for setting, split in options.delivery.items():
            if setting not in ALL_SETTINGS:
                problems.append(
                    f"finance.delivery.{setting}: unknown setting; allowed: {', '.join(ALL_SETTINGS)}"
                )
                continue
            for target, v in split.items():
                known(f"finance.delivery.{setting}.{target}", target)
                if not 0.0 <= v <= 1.0:
                    problems.append(f"finance.delivery.{setting}.{target}: share {v} outside [0, 1]")
            if abs(sum(split.values()) - 1.0) > 1e-6:
                problems.append(f"finance.delivery.{setting}: shares sum to {sum(split.values()):.4g}, not 1")
        for target, v in options.mff.items():
            known(f"finance.mff.{target}", target)
            if not 0.8 <= v <= 1.5:
                problems.append(f"finance.mff.{target}: {v} outside the allowed 0.8 to 1.5")
        if options.contracts == "capitation":
            known("finance.capitation_lead", options.capitation_lead)
        if options.contracts == "declining":
            known("finance.declining_recipient", options.declining_recipient)
        if isinstance(options.contracts, list):
            problems += _check_contract_list(options, orgs, known)
    return problems


def _check_contract_list(options: FinanceOptions, orgs: list[Organisation], known) -> list[str]:
    problems: list[str] = []
    try:
        shares = delivery_shares(orgs, _acute_shares(options), options.delivery)
    except ValueError:
        return problems  # already reported against finance.delivery
    ids = [o.id for o in orgs]
    paid_by: dict[tuple[str, str], list[int]] = {}
    for n, spec in enumerate(options.contracts):  # type: ignore[arg-type]
        path = f"finance.contracts.{n}"
        if not known(f"{path}.payee", spec.payee):
            continue
        if spec.recipient is not None:
            known(f"{path}.recipient", spec.recipient)
        for payee in resolve(spec.payee, orgs):
            if payee.kind in ("commissioner", "social_care", "external"):
                problems.append(
                    f"{path}.payee: {payee.id} is not an NHS provider; allowed kinds: acute, community, "
                    "mental_health, primary_care"
                )
                continue
            delivered = all_settings_of(payee, shares, orgs)
            settings = spec.settings if spec.settings is not None else delivered
            for s in settings:
                if s not in ALL_SETTINGS:
                    problems.append(
                        f"{path}.settings: unknown setting {s!r}; allowed: {', '.join(ALL_SETTINGS)}"
                    )
                elif s not in delivered and spec.mechanism != "capitation":
                    problems.append(
                        f"{path}.settings: {payee.id} does not deliver {s}; it delivers "
                        f"{', '.join(delivered) or 'nothing modelled'}"
                    )
                else:
                    paid_by.setdefault((payee.id, s), []).append(n)
    for (oid, s), which in paid_by.items():
        if len(which) > 1:
            problems.append(
                f"finance.contracts: {s} delivered by {oid} is paid twice "
                f"(contracts {', '.join(map(str, which))})"
            )
    capitated = {
        s
        for spec in options.contracts
        if spec.mechanism == "capitation"  # type: ignore[union-attr]
        for s in (spec.settings or [])
    }
    for i, o in enumerate(orgs):
        if o.kind not in ("acute", "community", "primary_care"):
            continue
        for j, s in enumerate(ALL_SETTINGS):
            if shares[i, j] > 0 and (o.id, s) not in paid_by and s not in capitated:
                problems.append(f"finance.contracts: {s} delivered by {o.id} is unpaid; add it to a contract")
    _ = ids
    return problems
