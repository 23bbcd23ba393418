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
# CQUIN was 2.5% of contract value in 2016/17 (national_finance.csv; the contract default and this
# constant are checked against the table in the tests).
CQUIN_RATE = 0.025


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

    def sliced(self, t0: int) -> FootprintFinance:
        """The same books from the ``t0``-th year on."""
        ledger = Ledger(
            self.orgs,
            (self.ledger.shape[0], self.ledger.shape[1] - t0),
            [(a, b, c, m[:, t0:]) for a, b, c, m in self.ledger.entries],
        )
        return FootprintFinance(
            self.code,
            self.orgs,
            self.years[t0:],
            self.income[:, :, t0:],
            self.expenditure[:, :, t0:],
            self.own_costs[:, :, t0:],
            ledger,
        )

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
        paid = _pbr_paid(spec, a, prices, settings, base_value, ctx)
        if m == "risk_share":
            # The benchmark is what the planned activity would have been paid under the same
            # rules (MRET included), so doing exactly the plan shares nothing.
            benchmark = _pbr_paid(spec, np.broadcast_to(plan_a, a.shape), prices, settings, base_value, ctx)
            paid = paid + contracts.two_sided_risk_share(
                benchmark,
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


def _pbr_paid(spec: ContractSpec, a, prices, settings: list[str], base_value, ctx: _Context) -> np.ndarray:
    """Tariff for ``a``, with the marginal rate above the 2016/17 emergency value and the
    readmission withholding."""
    by_setting = contracts.pbr(a, prices)
    paid = by_setting.sum(axis=-1)
    if "emergency_admissions" in settings:
        j = settings.index("emergency_admissions")
        if spec.mret_rate < 1.0:
            baseline = base_value[j] * ctx.price_path  # the 2016/17 emergency value at this year's prices
            paid = paid - by_setting[..., j] + contracts.mret(by_setting[..., j], baseline, spec.mret_rate)
        paid = paid - contracts.readmission_withholding(
            by_setting[..., j], spec.readmission_share, spec.avoidable_share
        )
    return paid


# ---- one footprint's books -------------------------------------------------------------------


RESOURCES_NO_TARIFF = ("geriatrician_hours", "community_consultant_sessions", "hospital_at_home_days")
SOCIAL_CARE_SETTINGS = ("home_care_hours", "care_home_weeks")


def prices_and_costs() -> tuple[np.ndarray, np.ndarray]:
    """Tariff price and costing unit cost by setting (2016/17).

    Bed days carry no price (spell tariffs cover the stay) but cost the excess bed day rate for
    days beyond the base length of stay. The resources care models create (geriatrician hours,
    community consultant sessions, hospital-at-home days) are not tariff currencies and are not
    costed per unit: the care model's running cost pays for them. Consultant sessions are then
    moved from the acute trusts to the community provider at their unit cost (the extensivist
    shift, costed separately)."""
    uc = unit_cost_vector()
    price = uc.copy()
    for bd in BED_DAYS:
        price[IDX[bd]] = 0.0
    cost = uc.copy()
    for k in RESOURCES_NO_TARIFF:
        price[IDX[k]] = 0.0
        cost[IDX[k]] = 0.0
    return price, cost


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
    nhs = np.array([k not in SOCIAL_CARE_SETTINGS for k in ALL_SETTINGS])
    ooa_d = assumed("out_of_area_share", seed, draws, lower=0.0, upper=1.0)
    ooa = ooa_d[:, None] * nhs[None, :]  # (draw, setting): councils' care is all local
    ooa_c = float(assumptions.value("out_of_area_share")) * nhs
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
                lower=-5.0,
                upper=10.0,
            )[:, None]
            / 100.0
        )
    else:
        efficiency = assumed("provider_efficiency_achieved", seed, draws, scale=0.01)[:, None]
    price_path = (1 + assumed("tariff_net_price_change", seed, draws, scale=0.01)[:, None]) ** elapsed
    cost_index = ((1 + inflation) * (1 - efficiency)) ** elapsed * np.ones((len(draws), 1))
    cquin_ach = assumed("cquin_achievement", seed, draws, lower=0.0, upper=1.0)[:, None]
    cquin_c = float(assumptions.value("cquin_achievement"))

    # 2016/17: expected activity of the footprint's residents (central), by organisation.
    base_act = np.zeros(len(ALL_SETTINGS))
    base_act[: len(SETTINGS)] = activity.demand(projection().population[0, f])
    base_los = np.array([base_act[IDX[bd]] / base_act[IDX[adm]] for bd, adm in BED_DAYS.items()])
    price, unit_cost = prices_and_costs()
    shares = delivery_shares(orgs, _acute_shares(options, orgs), options.delivery)  # (org, setting)
    org_act = np.einsum("ok,dtk->odtk", shares, resident_activity * (1.0 - ooa)[:, None, :])
    base_org = shares * base_act * (1 - ooa_c)  # (org, setting)
    planned = np.einsum("ok,tk->otk", shares, planned_activity) * (1 - ooa_c)

    # Allocations by need-weighted population share.
    wp = weighted_population()
    share_t = wp[t_idx, f] / wp[t_idx].sum(axis=1)
    ccg, primary = national_allocation(years, seed, draws)
    allocation = (ccg + primary) * share_t
    ledger.pay("nhs_england", "commissioner", "allocation", allocation)
    ccg0, primary0 = national_allocation(np.array([BASE_YEAR]), seed, draws)
    share0 = wp[0, f] / wp[0].sum()
    alloc0 = (ccg0 + primary0)[:, 0] * share0  # (draw,)

    specs = contracts_for(options, orgs)
    covered = {s for c in specs if c.mechanism == "capitation" for s in (c.settings or [])}
    cov = np.array([k in covered for k in ALL_SETTINGS])
    ctx = _Context(
        price_path=price_path,
        elapsed=elapsed,
        # The budget grows as the footprint's own allocation does (need-weighted population times
        # allocation per weighted head), not with activity.
        capitation_growth=allocation / alloc0[:, None],
        capitation_base=float((base_act * price)[cov].sum()),
    )

    # What the commissioner's contracts cost in 2016/17, the same under every payment mechanism so
    # that mechanisms move money between organisations but never change the system: residents'
    # activity at tariff with CQUIN, out-of-area care, and the mental health block.
    mh_share = assumed("mental_health_share_of_ccg_allocation", seed, draws, lower=0.0)  # (draw,)
    mh_base = mh_share * ccg0[:, 0] * share0  # (draw,)
    in_area_nhs = sum(
        float(base_org[i] @ price)
        for i, o in enumerate(orgs)
        if o.kind in ("acute", "community", "primary_care")
    )
    base_paid = float((base_act * ooa_c) @ price) + (in_area_nhs + mh_base) * (1 + CQUIN_RATE * cquin_c)

    for spec in specs:
        for payee in resolve(spec.payee, orgs):
            p = ids.index(payee.id)
            if payee.kind == "mental_health":
                value = mh_share[:, None] * ccg * share_t
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
                    # The budget holder pays the other providers of covered care at tariff (passing
                    # CQUIN on) and pays for its population's out-of-area care in full.
                    _subcontracts(
                        ledger,
                        orgs,
                        payee,
                        k,
                        org_act,
                        price,
                        price_path,
                        options,
                        1 + spec.cquin_rate * cquin_ach,
                    )
                    out = (resident_activity * ooa[:, None, :] * price * price_path[..., None])[..., cov]
                    ledger.pay(payee.id, "out_of_area", "out-of-area treatment (capitated)", out.sum(-1))
                if spec.mechanism == "declining":
                    _, released = contracts.declining_contract(base_k.sum() * price_path, spec.rate, elapsed)
                    recipient = resolve(spec.recipient or "community", orgs)[0].id
                    ledger.pay("commissioner", recipient, "released from declining contract", released)
            ledger.pay("commissioner", payee.id, f"contract ({spec.mechanism})", value)
            ledger.pay("commissioner", payee.id, "CQUIN", contracts.cquin(value, spec.cquin_rate, cquin_ach))

    # Out-of-area treatment of settings not under capitation: the commissioner pays at tariff.
    ooa_value = resident_activity * ooa[:, None, :] * price * price_path[..., None]
    ledger.pay("commissioner", "out_of_area", "out-of-area treatment", ooa_value[..., ~cov].sum(axis=-1))

    own = _provider_costs(
        orgs,
        org_act,
        base_org,
        base_los,
        unit_cost,
        options,
        seed,
        draws,
        cost_index,
        elapsed,
        mh_base,
        years,
    )

    # The commissioner's other spending balances its 2016/17 books; councils' funding likewise.
    assumptions.get("commissioner_base_year_balance")
    other_growth = assumed("other_commissioned_real_growth", seed, draws, scale=0.01)[:, None]
    c = ids.index("commissioner")
    own[c] = (
        (alloc0 - base_paid)[:, None]
        * (wp[t_idx, f] / wp[0, f])[None, :]
        * ((1 + inflation) * (1 + other_growth)) ** elapsed
    )
    sc = ids.index("social_care")
    base_sc = float(base_org[sc] @ unit_cost)
    growth = assumed("council_social_care_funding_growth", seed, draws, scale=0.01)[:, None]
    ledger.pay("local_government", "social_care", "council funding", base_sc * (1 + growth) ** elapsed)

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
    orgs,
    org_act,
    base_org,
    base_los,
    unit_cost,
    options,
    seed,
    draws,
    cost_index,
    elapsed,
    mental_health_base,
    years,
):
    """Own costs of every provider by (org, draw, year)."""
    n_d, n_t = org_act.shape[1:3]
    own = np.zeros((len(orgs), n_d, n_t))
    costed = costed_value(org_act, base_los, unit_cost)  # (org, draw, year) at 2016/17 unit costs
    base_value = costed_value(base_org, base_los, unit_cost)  # base-year bed days are all "base stay"
    underlying = underlying_deficit()
    cquin_c = float(assumptions.value("cquin_achievement")) * CQUIN_RATE
    sc_index = (1 + assumed("social_care_price_inflation", seed, draws, scale=0.01)[:, None]) ** elapsed
    occ = assumptions.get("bed_occupancy")
    occupancy = draw(
        Interval.of(float(occ.low), float(occ.high)),
        seed,
        "capacity/bed_occupancy",
        draws,  # type: ignore[arg-type]
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
        income0 = mental_health_base[:, None] if o.kind == "mental_health" else base_value[i] * mff
        base_cost = income0 * (1 + cquin_c) * (1 + underlying)
        if o.kind != "acute":
            own[i] = provider_cost(costed[i], base_value[i], base_cost, mc, cost_index)
            continue
        # Wards open for the beds needed and close only by plan action. The reference is the
        # first year's need (2016/17 when the run starts there), so base-year costs hold.
        beds = org_act[i][..., bd].sum(axis=-1) / 365.0 / occupancy[:, None]
        if int(years[0]) == BASE_YEAR:
            history = beds
        else:
            base_beds = base_org[i, bd].sum() / 365.0 / occupancy
            history = np.concatenate([base_beds[:, None], beds], axis=1)
        wards = open_wards(history, beds_per_ward, options.close_surplus_wards, lag)
        ratio = wards[:, -n_t:] / wards[:, :1]
        own[i] = provider_cost(costed[i], base_value[i], base_cost, mc, cost_index, semi, ratio)
    # The extensivist shift: consultant sessions delivered in the community are hospital
    # consultants' time, so their cost moves from the acute trusts to the community provider.
    moved = (
        org_act[..., IDX["community_consultant_sessions"]].sum(axis=0)
        * float(unit_cost_vector()[IDX["community_consultant_sessions"]])
        * cost_index
    )
    acute = [i for i, o in enumerate(orgs) if o.kind == "acute"]
    community = [i for i, o in enumerate(orgs) if o.kind == "community"]
    for i in acute:
        own[i] -= moved / len(acute)
    for i in community:
        own[i] += moved / len(community)
    return own


def _subcontracts(ledger, orgs, lead, k, org_act, price, price_path, options, cquin_factor):
    """The capitated lead pays every other provider of covered settings at tariff, with CQUIN."""
    for i, o in enumerate(orgs):
        if o.id == lead.id or o.kind in ("commissioner", "external"):
            continue
        mff = options.mff.get(o.id, options.mff.get(o.kind, 1.0))
        v = (org_act[i][..., k] * price[k]).sum(axis=-1) * price_path * mff * cquin_factor
        if np.any(v):
            ledger.pay(lead.id, o.id, "subcontract at tariff", v)


def _acute_shares(options: FinanceOptions, orgs: list[Organisation] | None = None) -> dict[str, float] | None:
    """The plan's acute shares as org ids, keeping only this footprint's trusts (a plan covering
    several footprints lists the trusts of all of them)."""
    if not options.acute_shares:
        return None
    out = {(k if k.startswith("acute:") else f"acute:{k}"): v for k, v in options.acute_shares.items()}
    if orgs is not None:
        mine = {o.id for o in orgs if o.kind == "acute"}
        out = {k: v for k, v in out.items() if k in mine}
    return out or None


# ---- a plan's finance: plan, do-nothing and the incentive matrix ------------------------------


@dataclass(frozen=True)
class PlanFinance:
    footprints: tuple[FootprintFinance, ...]
    do_nothing: tuple[FootprintFinance, ...]
    incentives: dict[tuple[str, str, str], np.ndarray]  # (intervention, footprint, org) -> (draw,) gain
    efficiency_only: tuple[FootprintFinance, ...] = ()  # do-nothing activity with provider efficiency

    def sliced(self, t0: int) -> PlanFinance:
        return PlanFinance(
            tuple(b.sliced(t0) for b in self.footprints),
            tuple(b.sliced(t0) for b in self.do_nothing),
            self.incentives,
            tuple(b.sliced(t0) for b in self.efficiency_only),
        )

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


BED_DAYS_OF = {"emergency_bed_days": "emergency_admissions", "elective_bed_days": "elective_admissions"}
PROVIDER_KINDS = ("acute", "community", "primary_care")


def check_options(options: FinanceOptions, codes: list[str]) -> list[str]:
    """Problems with a plan's finance section, one line each with its field path, for every
    footprint the plan covers. Empty when the contracts pay every delivered setting once."""
    problems: list[str] = []
    if options.acute_shares:
        all_trusts = {
            o.id.removeprefix("acute:") for c in codes for o in organisations(find(c)) if o.kind == "acute"
        }
        for key, v in options.acute_shares.items():
            if key.removeprefix("acute:") not in all_trusts:
                problems.append(
                    f"finance.acute_shares.{key}: not an acute trust of {', '.join(codes)}; allowed: "
                    f"{', '.join(sorted(all_trusts))}"
                )
            if not 0.0 <= v <= 1.0:
                problems.append(f"finance.acute_shares.{key}: share {v} outside [0, 1]")
    for setting, split in options.delivery.items():
        if setting not in ALL_SETTINGS:
            problems.append(
                f"finance.delivery.{setting}: unknown setting; allowed: {', '.join(ALL_SETTINGS)}"
            )
            continue
        for target, v in split.items():
            if not 0.0 <= v <= 1.0:
                problems.append(f"finance.delivery.{setting}.{target}: share {v} outside [0, 1]")
        if abs(sum(split.values()) - 1.0) > 1e-6:
            problems.append(f"finance.delivery.{setting}: shares sum to {sum(split.values()):.4g}, not 1")
        adm = BED_DAYS_OF.get(setting)
        if adm and adm in options.delivery and options.delivery[adm] != split:
            problems.append(
                f"finance.delivery.{setting}: bed days follow their admissions; give "
                f"finance.delivery.{adm} only"
            )
    for target, v in options.mff.items():
        if not 0.8 <= v <= 1.5:
            problems.append(f"finance.mff.{target}: {v} outside the allowed 0.8 to 1.5")
    for code in codes:
        orgs = organisations(find(code))
        where = f" (in {code})" if len(codes) > 1 else ""

        def one(
            path: str, target: str, kinds: tuple[str, ...], orgs=orgs, where=where, problems=problems
        ) -> None:
            """``target`` must name exactly one organisation of one of ``kinds``."""
            try:
                hits = resolve(target, orgs)
            except ValueError as e:
                problems.append(f"{path}: {e}{where}")
                return
            allowed = [o.id for o in orgs if o.kind in kinds]
            if len(hits) != 1 or hits[0].kind not in kinds:
                problems.append(
                    f"{path}: {target!r} must name one organisation; allowed: {', '.join(allowed)}{where}"
                )

        if options.acute_shares:
            mine = _acute_shares(options, orgs) or {}
            if mine and abs(sum(mine.values()) - 1.0) > 1e-6:
                problems.append(
                    f"finance.acute_shares: {code}'s trusts' shares sum to {sum(mine.values()):.4g}, not 1"
                )
        for setting, split in options.delivery.items():
            if setting not in ALL_SETTINGS:
                continue
            kinds = ("social_care",) if setting in SOCIAL_CARE_SETTINGS else PROVIDER_KINDS
            for target in split:
                try:
                    hits = resolve(target, orgs)
                except ValueError as e:
                    problems.append(f"finance.delivery.{setting}.{target}: {e}{where}")
                    continue
                if any(h.kind not in kinds for h in hits):
                    problems.append(
                        f"finance.delivery.{setting}.{target}: {setting} can be delivered only by "
                        f"{' or '.join(kinds)}{where}"
                    )
        for target in options.mff:
            try:
                resolve(target, orgs)
            except ValueError as e:
                problems.append(f"finance.mff.{target}: {e}{where}")
        if options.contracts == "capitation":
            one("finance.capitation_lead", options.capitation_lead, PROVIDER_KINDS)
        if options.contracts == "declining":
            one(
                "finance.declining_recipient", options.declining_recipient, (*PROVIDER_KINDS, "mental_health")
            )
        if isinstance(options.contracts, list):
            problems += _check_contract_list(options, orgs, one, where)
    return list(dict.fromkeys(problems))


def _check_contract_list(options: FinanceOptions, orgs: list[Organisation], one, where: str) -> list[str]:
    problems: list[str] = []
    try:
        shares = delivery_shares(orgs, _acute_shares(options, orgs), options.delivery)
    except ValueError:
        return problems  # already reported against finance.delivery
    paid_by: dict[tuple[str, str], list[int]] = {}
    mental_health: list[int] = []
    for n, spec in enumerate(options.contracts):  # type: ignore[arg-type]
        path = f"finance.contracts.{n}"
        try:
            payees = resolve(spec.payee, orgs)
        except ValueError as e:
            problems.append(f"{path}.payee: {e}{where}")
            continue
        if spec.recipient is not None:
            one(f"{path}.recipient", spec.recipient, (*PROVIDER_KINDS, "mental_health"))
        if spec.mechanism == "capitation":
            one(f"{path}.payee", spec.payee, PROVIDER_KINDS)
            if not spec.settings:
                problems.append(
                    f"{path}.settings: a capitation contract must list the settings its budget covers"
                )
                continue
            for s in spec.settings:
                if s not in ALL_SETTINGS or s in SOCIAL_CARE_SETTINGS:
                    problems.append(
                        f"{path}.settings: {s!r} cannot be capitated; allowed: NHS settings "
                        f"({', '.join(k for k in ALL_SETTINGS if k not in SOCIAL_CARE_SETTINGS)})"
                    )
                    continue
                for i, o in enumerate(orgs):  # the budget pays every provider of the setting
                    if shares[i, IDX[s]] > 0:
                        paid_by.setdefault((o.id, s), []).append(n)
            continue
        for payee in payees:
            if payee.kind == "mental_health":
                mental_health.append(n)
                continue
            if payee.kind not in PROVIDER_KINDS:
                problems.append(
                    f"{path}.payee: {payee.id} is not an NHS provider; allowed kinds: acute, community, "
                    "mental_health, primary_care"
                )
                continue
            delivered = all_settings_of(payee, shares, orgs)
            for s in spec.settings if spec.settings is not None else delivered:
                if s not in ALL_SETTINGS:
                    problems.append(
                        f"{path}.settings: unknown setting {s!r}; allowed: {', '.join(ALL_SETTINGS)}"
                    )
                elif s not in delivered:
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
                f"(contracts {', '.join(map(str, which))}){where}"
            )
    if len(mental_health) > 1:
        problems.append(
            f"finance.contracts: the mental health provider is paid twice "
            f"(contracts {', '.join(map(str, mental_health))}){where}"
        )
    for i, o in enumerate(orgs):
        if o.kind not in PROVIDER_KINDS:
            continue
        for j, s in enumerate(ALL_SETTINGS):
            if shares[i, j] > 0 and (o.id, s) not in paid_by:
                problems.append(
                    f"finance.contracts: {s} delivered by {o.id} is unpaid; add it to a contract{where}"
                )
    return problems
