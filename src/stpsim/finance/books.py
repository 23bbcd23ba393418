"""One footprint's books, stage by stage: base year, allocations, contracts, out-of-area care,
provider costs, councils and care models.

The money in scope is what reaches the footprint: its share of NHS England's CCG, primary care
and specialised commissioning allocations, and its councils' funding for adult social care
(older and working-age adults). Every cost is the 2016/17 cost grown by indices, so the
do-nothing gap splits exactly into the bridge's lines (``ledger.BRIDGE_LINES``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import assumptions, contracts
from ..axes import ALL_SETTINGS, BASE_YEAR
from ..cache import persistent
from ..contract_terms import FinanceOptions, all_settings_of
from ..costs import BED_DAYS, unit_cost_vector
from ..geography import Footprint
from ..organisations import Organisation, footprint_shares, organisations, resolve
from ..reference import derived, fact
from . import councils, provider_costs
from .allocations import PUBLISHED_TO, allocation_share, national_allocation, need_share, population_index
from .ledger import BRIDGE_LINES, CareModelCosts, FootprintFinance, Ledger, in_order
from .params import FinanceParams
from .payments import Context, contract_value, contracts_for, cquin_paid, price_uplift, rule_book
from .starting import footprint_deficit

IDX = {k: i for i, k in enumerate(ALL_SETTINGS)}
RESOURCES_NO_TARIFF = ("geriatrician_hours", "community_consultant_sessions", "hospital_at_home_days")
SOCIAL_CARE_SETTINGS = ("home_care_hours", "care_home_weeks")
TRUST_KINDS = ("acute", "community", "mental_health", "specialised")
BEDS = [IDX["emergency_bed_days"], IDX["elective_bed_days"]]
ACTIVITY_KINDS = ("acute", "community", "primary_care")
CQUIN_RATE = 0.025  # 2016/17 (national_finance.csv; checked against the table in the tests)


def dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Sum of products over the last axis, row by row. Unlike ``@`` (BLAS), each row's result
    does not depend on how many rows there are, so any chunking of draws gives identical
    numbers."""
    return (a * b).sum(axis=-1)


def prices_and_costs(
    local: np.ndarray | None = None, keep_resources: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Tariff price and costing unit cost by setting (2016/17).

    Bed days carry no price (spell tariffs cover the stay) but cost the excess bed day rate for
    days beyond the base length of stay. The resources care models create (geriatrician hours,
    community consultant sessions, hospital-at-home days) are not tariff currencies and are not
    costed per unit: the care model's running cost pays for them."""
    uc = unit_cost_vector()
    if local is not None:  # a footprint's own unit costs, where it gives them
        uc = np.where(np.isnan(local), uc, local)
    price = uc.copy()
    for bd in BED_DAYS:
        price[IDX[bd]] = 0.0
    cost = uc.copy()
    for k in RESOURCES_NO_TARIFF:
        price[IDX[k]] = 0.0
        if not keep_resources:
            cost[IDX[k]] = 0.0
    return price, cost


@dataclass(frozen=True)
class Scenario:
    """The activity one set of books is for, by (draw, year, setting) unless stated."""

    activity: np.ndarray  # residents' activity in this scenario
    do_nothing: np.ndarray  # residents' activity with no plan (same draws)
    demographic: np.ndarray  # (year, setting) expected activity from demography alone
    planned: np.ndarray  # (year, setting) what contracts are planned on
    care_models: CareModelCosts | None = None
    with_efficiency: bool = False
    # (draw,) provider efficiency to assume instead of the run's own draws: an optimiser's
    # efficiency option, costed on the run's shared books
    efficiency: np.ndarray | None = None
    # (setting,) True where ``activity`` may differ from ``do_nothing``, as the engine declares
    # from the care models' definitions (``RunArrays.moved``: the same in every chunk of draws,
    # so the books may work out only the change there); None: found by comparing the two
    declared_moves: np.ndarray | None = None


@dataclass(frozen=True)
class Changed:
    """The settings whose activity a scenario changed from the do-nothing's (``mask``), and
    whether the engine declared them (``declared``: the plan and each care model alone move
    those their care models act on or create, the same in every chunk of draws) or they were
    found by comparing this chunk's draws. Only declared settings are paid and valued as the
    do-nothing's plus their change: found ones can differ between chunks, and the two ways round
    differ in the last bits, so a run's numbers would then depend on which draws share a
    chunk."""

    mask: np.ndarray  # (setting,) bool
    declared: bool = False

    def partly(self, settings: np.ndarray) -> bool:
        """Whether to work out only the change in ``settings`` (a mask or places) that moved:
        declared, and some but not all of them moved."""
        moved = self.mask[settings]
        return self.declared and moved.any() and not moved.all()

    def few(self, settings: np.ndarray) -> bool:
        """``partly``, and at most half of them moved: for a sum that is as quick to work out
        again as to correct (out-of-area care, valued activity)."""
        moved = self.mask[settings]
        return self.partly(settings) and 2 * moved.sum() <= moved.size


class Shared:
    """What the scenarios of one footprint's books have in common, worked out on first use.

    A run costs several scenarios of one footprint (the plan, do-nothing, each care model alone
    for the incentive matrix) with the same draws and against the same do-nothing activity. The
    set-up, the base year, the allocations and every stage's do-nothing part are therefore the
    same in all of them, and so is a contract's payment for settings whose activity a scenario
    leaves as it was. Those are kept here and used again; the rest is worked out by the same code
    for each scenario. Pass one ``Shared`` per footprint to ``footprint_finance``."""

    def __init__(self) -> None:
        self._memo: dict = {}
        self._inputs: tuple | None = None

    def bind(self, code: str, options, years, params, sc: Scenario) -> None:
        """Refuse to share between footprints, options, years, draws or do-nothing activity that
        differ."""
        now = (code, tuple(years), options, params, sc.do_nothing, sc.demographic, sc.planned)
        if self._inputs is None:
            self._inputs = now  # held, so the arrays' memory is not reused while shared
            return
        was = self._inputs
        same = (
            now[:2] == was[:2]
            and (now[2] is was[2] or now[2] == was[2])
            and now[3] is was[3]
            and all(_same_numbers(a, b) for a, b in zip(now[4:], was[4:], strict=True))
        )
        if not same:
            raise ValueError("books.Shared serves the scenarios of one footprint, plan and set of draws")

    @property
    def do_nothing(self) -> np.ndarray:
        """The do-nothing residents' activity (draw, year, setting) the scenarios are costed against."""
        return self._inputs[4]

    def get(self, key, make, *args):
        """``make(*args)``, worked out the first time ``key`` is asked for."""
        if key not in self._memo:
            self._memo[key] = make(*args)
        return self._memo[key]


def _same_numbers(a: np.ndarray, b: np.ndarray) -> bool:
    """Two views of the same memory (cheap to see), or arrays that hold equal numbers."""
    where = lambda x: (x.__array_interface__["data"][0], x.shape, x.strides, x.dtype)  # noqa: E731
    return where(a) == where(b) or np.array_equal(a, b)


@dataclass
class _Setup:
    """What every stage of one footprint's books shares."""

    code: str
    lsoas: np.ndarray
    local_allocations: dict[tuple[str, int], float]  # a footprint's own allocations, 2016/17..2020/21
    session_cost: float  # a community consultant session, GBP 2016/17
    index: dict[str, np.ndarray]  # population growth by kind, (year from 2016/17,)
    orgs: list[Organisation]
    ids: dict[str, int]
    years: np.ndarray
    elapsed: np.ndarray  # (1, year)
    p: FinanceParams
    options: FinanceOptions
    shares: np.ndarray  # (org, setting)
    keep: np.ndarray  # (draw, setting) share of residents' activity treated in area
    keep_central: np.ndarray  # (setting,) the same at the central out-of-area share
    base_act: np.ndarray  # (setting,) 2016/17 expected activity of residents
    base_los: np.ndarray
    price: np.ndarray
    unit_cost: np.ndarray
    prices_index: np.ndarray  # (draw, year) pay and prices
    tariff_index: np.ndarray  # (draw, year)

    def org_activity(
        self, resident: np.ndarray, i: int | list[int], k: list[int] | None = None
    ) -> np.ndarray:
        """Organisation ``i``'s in-area activity (draw, year, setting) from residents', for the
        settings ``k`` only when given (the rest is never built). A list of organisations gives
        each one's along a leading axis (organisation, draw, year, setting)."""
        if isinstance(i, list):
            kk = slice(None) if k is None else k
            w = self.shares[i][:, kk][:, None, :] * self.keep[None, :, kk]  # (org, draw, setting)
            return resident[..., kk] * w[:, :, None, :]
        if k is None:
            return resident * (self.shares[i] * self.keep)[:, None, :]
        return resident[..., k] * (self.shares[i, k] * self.keep[:, k])[:, None, :]

    def in_area(self, resident: np.ndarray, k: int) -> np.ndarray:
        """(draw, year) in-area activity of setting ``k`` over all organisations."""
        return resident[..., k] * self.keep[:, None, k] * self.shares[:, k].sum()

    def allocation(self, kind: str, years: np.ndarray) -> np.ndarray:
        """The footprint's allocation of ``kind`` by (draw, year): its own table where given
        (later years grow as England's), else its need-weighted share of England's."""
        g = self.p.allocation_growth_after_2020
        if (kind, BASE_YEAR) in self.local_allocations:
            last = np.minimum(years, PUBLISHED_TO)
            base = np.array([self.local_allocations[(kind, int(y))] for y in last])
            return base[None, :] * (1 + g[:, None]) ** (years - last)[None, :]
        return national_allocation(kind, years, g) * allocation_share(kind, self.lsoas, years)[None, :]

    def mff(self, o: Organisation) -> float:
        return self.options.mff.get(o.id, self.options.mff.get(o.kind, 1.0))


@derived(256)
def _population_index(fp: Footprint) -> dict[str, np.ndarray]:
    return population_index(fp)


def _setup(
    fp: Footprint, options: FinanceOptions, years: np.ndarray, params: FinanceParams, demographic: np.ndarray
) -> _Setup:
    if int(years[0]) != BASE_YEAR:
        raise ValueError("books start in 2016/17; cut them to the reporting window afterwards")
    from .validation import acute_shares

    orgs = organisations(fp)
    nhs = np.array([k not in SOCIAL_CARE_SETTINGS for k in ALL_SETTINGS])
    # 2016/17's expected activity is the demographic activity of the first year: finance is
    # handed it, and never rebuilds the population.
    base_act = demographic[0].copy()
    local = fp.local
    price, unit_cost = prices_and_costs(None if local is None else local.unit_costs)
    elapsed = (years - BASE_YEAR)[None, :].astype(float)
    return _Setup(
        code=fp.code,
        lsoas=fp.lsoas,
        index=_population_index(fp),
        orgs=orgs,
        ids={o.id: i for i, o in enumerate(orgs)},
        years=years,
        elapsed=elapsed,
        p=params,
        options=options,
        shares=footprint_shares(
            fp,
            orgs,
            acute_shares(options, orgs),
            {**(local.shares if local is not None else {}), **options.delivery},  # the plan's choice wins
        ),
        local_allocations=local.allocations if local is not None else {},
        session_cost=float(
            prices_and_costs(None if local is None else local.unit_costs, keep_resources=True)[1][
                IDX["community_consultant_sessions"]
            ]
        ),
        keep=1.0 - params.out_of_area[:, None] * nhs[None, :],  # councils' care is all local
        keep_central=1.0 - float(assumptions.value("out_of_area_share")) * nhs,
        base_act=base_act,
        base_los=np.array([base_act[IDX[bd]] / base_act[IDX[adm]] for bd, adm in BED_DAYS.items()]),
        price=price,
        unit_cost=unit_cost,
        prices_index=(1 + params.inflation[:, None]) ** elapsed,
        tariff_index=(1 + params.tariff_change[:, None]) ** elapsed,
    )


# ---- the base year --------------------------------------------------------------------------


@dataclass(frozen=True)
class BaseYear:
    """2016/17 by draw: each organisation's income and cost, and the commissioners' allocation."""

    org_base: np.ndarray  # (org, draw, setting) expected in-area activity
    income: np.ndarray  # (org, draw) contract income under 2016/17 rules, before any deficit
    cost: np.ndarray  # (org, draw) own cost: income plus its share of the trusts' deficit
    allocation: np.ndarray  # (draw,) CCG and primary care
    paid: np.ndarray  # (draw,) what the commissioners spent on modelled care
    commissioner_start: np.ndarray  # (draw,) the commissioners' 2016/17 position (- overspent)

    @property
    def other_spending(self) -> np.ndarray:
        """(draw,) The commissioners' 2016/17 spending on care not modelled (prescribing,
        continuing care and the rest): what their allocation leaves after the modelled care,
        plus what they overspent."""
        return self.allocation - self.paid - self.commissioner_start


def base_year(s: _Setup) -> BaseYear:
    """The 2016/17 books: providers' costs are their contract income (tariff at that year's
    activity, CQUIN under the NHS Standard Contract) plus their share of the footprint's
    underlying deficit; the commissioners' other spending is whatever the allocation leaves, plus
    their share of the CCGs' published overspend (``commissioner_position``)."""
    p = s.p
    org_base = s.shares[:, None, :] * (s.base_act * s.keep)[None]
    y0 = np.array([BASE_YEAR])
    ccg0 = s.allocation("CCGs", y0)[:, 0]
    pc0 = s.allocation("Primary care", y0)[:, 0]
    sp0 = s.allocation("Specialised commissioning", y0)[:, 0]
    rules = rule_book(BASE_YEAR)
    cq = 1 + rules.cquin_rate * p.cquin_achievement
    income = np.zeros((len(s.orgs), p.n))
    for i, o in enumerate(s.orgs):
        if o.kind in ACTIVITY_KINDS:
            value = dot(org_base[i], s.price) * s.mff(o)
            if o.kind == "acute":  # 2016/17's published positions are after MRET: net it out
                value = value - _mret_withheld(s, o, org_base[i], rules.mret_rate)
            income[i] = value * (cq if o.kind != "primary_care" else 1.0)
        elif o.kind == "mental_health":
            income[i] = p.mental_health_share * ccg0 * cq
        elif o.kind == "specialised":
            income[i] = sp0
    trusts = np.array([o.kind in TRUST_KINDS for o in s.orgs])
    deficit = footprint_deficit(s.lsoas, p.deficit_loans_weight, p.national_deficit)
    weight = income * trusts[:, None] / in_order(income * trusts[:, None])
    cost = income + weight * deficit[None, :]
    out_of_area = dot(s.base_act * (1 - s.keep), s.price)
    paying = [i for i, o in enumerate(s.orgs) if o.kind in (*ACTIVITY_KINDS, "mental_health")]
    nhs_paid = in_order(income[paying])
    start = commissioner_position(ccg0)
    return BaseYear(org_base, income, cost, ccg0 + pc0, out_of_area + nhs_paid, start)


def commissioner_position(ccg0: np.ndarray) -> np.ndarray:
    """(draw,) The commissioners' 2016/17 position: the CCGs' published aggregate overspend
    before the 1% risk reserve was released (GBP 556m: the reserve was non-recurrent, so this is
    the underlying position), shared by CCG allocation (``ccg0``, by draw). No CCG-level outturn
    was found; assumption ``commissioner_base_year_position``."""
    england = national_allocation("CCGs", np.array([BASE_YEAR]), np.zeros(1))[0, 0]
    return _ccg_overspend() * ccg0 / england


@persistent
def _ccg_overspend() -> float:
    """England's CCGs' 2016/17 position before the risk reserve, GBP (table read once)."""
    assumptions.get("commissioner_base_year_position")
    item = "CCG_aggregate_overspend_before_risk_reserve"
    return fact("national_finance_checks_2016_17", item, column="item") * 1e6


def _mret_withheld(s: _Setup, o: Organisation, base: np.ndarray, rate: float) -> np.ndarray:
    """(draw,) What MRET withheld from acute trust ``o`` in 2016/17: the value of its emergency
    admissions above the 2008/09 baseline, less the marginal rate paid on them (the payment's
    own formula, ``contracts.mret``, at 2016/17's expected activity)."""
    j = IDX["emergency_admissions"]
    value = base[:, j] * s.price[j] * s.mff(o)
    baseline = (s.shares[s.ids[o.id], j] * s.base_act[j] * s.keep_central[j]) * s.price[j] * s.mff(o)
    return value - contracts.mret(value, baseline * s.p.mret_baseline_ratio, rate)


# ---- the stages -----------------------------------------------------------------------------


def allocations(s: _Setup, ledger: Ledger, sh: Shared) -> dict[str, np.ndarray]:
    """NHS England pays the commissioners (CCG and primary care) and the specialised services
    their need-weighted shares; returns each by (draw, year)."""
    kinds = ("CCGs", "Primary care", "Specialised commissioning")
    out = sh.get("allocations", lambda: {k: s.allocation(k, s.years) for k in kinds})
    ledger.pay(
        "nhs_england", "commissioner", "allocation (CCG and primary care)", out["CCGs"] + out["Primary care"]
    )
    ledger.pay("nhs_england", "specialised", "specialised commissioning", out["Specialised commissioning"])
    return out


def pay_contracts(
    s: _Setup, ledger: Ledger, planned, resident, resident_planned, alloc, sh: Shared, changed: Changed
) -> None:
    """Every contract's payment, CQUIN and the out-of-area care of settings not capitated. A
    payment that depends only on settings whose activity the scenario leaves as in the
    do-nothing (``changed`` is False for all of them) is the one already worked out."""
    specs = sh.get("contracts", contracts_for, s.options, s.orgs)
    covered = {k for c in specs if c.holds_budget for k in (c.settings or [])}
    cov = np.array([k in covered for k in ALL_SETTINGS])
    nhs = np.array([k not in SOCIAL_CARE_SETTINGS for k in ALL_SETTINGS])
    at_tariff = s.price * nhs
    cap0 = alloc["CCGs"][:, :1] + alloc["Primary care"][:, :1]
    risk_payees = [o.id for c in specs if c.shares_population_savings for o in resolve(c.payee, s.orgs)]
    population_cost = population_benchmark = None
    if risk_payees:  # only a risk share reads the population's cost of care

        def cost() -> np.ndarray:
            return dot(resident, at_tariff) * s.tariff_index

        population_cost = cost() if changed.mask.any() else sh.get("population_cost", cost)
        population_benchmark = dot(resident_planned, at_tariff)[None, :] * s.tariff_index
    ctx = Context(
        years=s.years,
        price_path=s.tariff_index,
        elapsed=s.elapsed,
        capitation_growth=(alloc["CCGs"] + alloc["Primary care"]) / cap0,
        capitation_base=float((s.base_act * s.price)[cov].sum()),
        mret_baseline_ratio=s.p.mret_baseline_ratio,
        population_cost=population_cost,
        population_benchmark=population_benchmark,
        risk_share_weight=1.0 / max(len(risk_payees), 1),
    )
    for group in sh.get("contract_groups", _contract_groups, s, specs):
        if len(group) > 1:
            _pay_group(s, ledger, group, planned, resident, ctx, sh, changed)
        else:
            ((n, spec, payee),) = group
            _pay_contract(s, ledger, (n, spec), payee, planned, resident, alloc, ctx, sh, changed, cov)
    ooa = _out_of_area_now(s, sh, ("out_of_area",), resident, ~cov, changed)
    ledger.pay("commissioner", "out_of_area", "out-of-area treatment", ooa)


def _contract_groups(s: _Setup, specs: list) -> list[tuple[tuple[int, object, Organisation], ...]]:
    """Every (contract's place, contract, payee), in the plan's order, grouped where consecutive
    contracts of one mechanism and the same terms pay providers of one kind for the same
    settings (a preset's contract with each acute trust): such a group is paid in one pass
    (``_pay_group``). Budget holders, declining contracts and mental health's block are paid
    one by one."""
    groups: list[list[tuple[int, object, Organisation]]] = []
    last = None
    for n, spec in enumerate(specs):
        for payee in resolve(spec.payee, s.orgs):
            alone = spec.holds_budget or spec.releases_money or payee.kind == "mental_health"
            key = None
            if not alone:
                settings = _contract_terms(s, spec, payee)[0]
                key = (type(spec), payee.kind, tuple(settings), spec.model_dump(exclude={"payee"}))
            if key is not None and key == last:
                groups[-1].append((n, spec, payee))
            else:
                groups.append([(n, spec, payee)])
            last = key
    return [tuple(g) for g in groups]


def _pay_group(s: _Setup, ledger, group, planned, resident, ctx, sh: Shared, changed) -> None:
    """The contracts of ``group`` (``_contract_groups``) paid together, with their CQUIN: every
    array carries a leading payee axis, and each payee's numbers are those of its own contract
    paid alone (the same products and sums)."""
    ns = tuple(n for n, _, _ in group)
    spec = group[0][1]
    terms = sh.get(("group_terms", ns), _group_terms, s, group)
    k = terms[1]
    same = _as_do_nothing(spec, changed.mask[k])
    ps = [s.ids[payee.id] for _, _, payee in group]
    value = _paid(s, sh, (ns, spec), ps, terms, planned, resident, ctx, changed, same)
    share = sh.get(
        ("group_cquin_share", ns),
        lambda: np.stack([cquin_paid(s.years, c, o, s.p.cquin_achievement) for _, c, o in group]),
    )
    key = ("group_cquin", ns)
    cquin = sh.get(key, contracts.cquin, value, share, 1.0) if same else contracts.cquin(value, share, 1.0)
    for p, (_, c, payee) in enumerate(group):
        ledger.pay("commissioner", payee.id, f"contract ({c.mechanism})", value[p])
        ledger.pay("commissioner", payee.id, "CQUIN", cquin[p])


def _group_terms(s: _Setup, group) -> tuple[list[str], list[int], np.ndarray, np.ndarray]:
    """``_contract_terms`` of each contract of ``group`` along a leading payee axis: prices
    (payee, draw, year, setting) and 2016/17 values (payee, 1, 1, setting)."""
    each = [_contract_terms(s, c, o) for _, c, o in group]
    settings, k = each[0][:2]
    prices = np.stack([t[2] for t in each])
    base_k = np.stack([t[3] for t in each])[:, None, None, :]
    return settings, k, prices, base_k


def _pay_contract(
    s: _Setup, ledger, numbered, payee, planned, resident, alloc, ctx, sh, changed, cov
) -> None:
    """Contract ``numbered`` (its place in the plan's list, the contract) paid to ``payee``, with
    its CQUIN; a budget holder's payments to others; money a declining contract releases."""
    n, spec = numbered
    same = True  # the payment is the do-nothing's
    if payee.kind == "mental_health":
        value = s.p.mental_health_share[:, None] * alloc["CCGs"]
    else:
        terms = sh.get(("terms", n, payee.id), _contract_terms, s, spec, payee)
        _, k, _, base_k = terms
        same = _as_do_nothing(spec, changed.mask[k])
        value = _paid(s, sh, (n, spec), s.ids[payee.id], terms, planned, resident, ctx, changed, same)
        if spec.holds_budget:
            _capitated_payments(s, ledger, payee, k, resident, cov, spec, (sh, n, changed))
        if spec.releases_money:
            recipient = resolve(spec.recipient or "community", s.orgs)[0].id
            ledger.pay("commissioner", recipient, "released from contract", spec.released(base_k, ctx))
    ledger.pay("commissioner", payee.id, f"contract ({spec.mechanism})", value)
    share = sh.get(("cquin_share", n, payee.id), cquin_paid, s.years, spec, payee, s.p.cquin_achievement)
    key = ("cquin", n, payee.id)
    cquin = sh.get(key, contracts.cquin, value, share, 1.0) if same else contracts.cquin(value, share, 1.0)
    ledger.pay("commissioner", payee.id, "CQUIN", cquin)


def _as_do_nothing(spec, moved: np.ndarray) -> bool:
    """Whether a contract pays what it pays when nothing changes, when care moves in its
    settings where ``moved``: it does unless it follows activity in a setting that moved, or
    shares the population's savings."""
    return not (spec.shares_population_savings or (spec.follows_activity and moved.any()))


def _contract_terms(
    s: _Setup, spec, payee: Organisation
) -> tuple[list[str], list[int], np.ndarray, np.ndarray]:
    """A contract's settings (names and places), its prices by (draw, year, setting) with the
    market forces factor, and its 2016/17 value by setting: the same in every scenario."""
    p = s.ids[payee.id]
    settings = spec.settings if spec.settings is not None else all_settings_of(payee, s.shares, s.orgs)
    k = [IDX[x] for x in settings]
    uplift = price_uplift(s.years, payee)[..., None]  # CQUIN moved into prices
    prices = s.price[k] * s.mff(payee) * s.tariff_index[..., None] * uplift
    base_k = (s.shares[p] * s.base_act * s.keep_central)[k] * s.price[k] * s.mff(payee)
    return settings, k, prices, base_k


def _paid(s: _Setup, sh: Shared, numbered, p, terms, planned, resident, ctx, changed, same) -> np.ndarray:
    """Contract ``numbered``'s payment to organisation ``p`` (its place; a list of places for a
    group, ``_pay_group``) by ([payee,] draw, year). When the scenario moves care in only some
    of its settings and the mechanism pays setting by setting, only those settings are paid
    again (``_moved_only``): what makes a care model's pass in the incentive matrix and an
    optimiser's option cheap."""
    n, spec = numbered
    settings, k, prices, base_k = terms
    args = (spec, s.org_activity, resident, p, k, planned, prices, settings, base_k, ctx)
    moved = changed.mask[k]
    key = ("contract", n, tuple(p) if isinstance(p, list) else p)
    if same:
        return sh.get(key, _contract_value, *args)
    if spec.shares_population_savings or not spec.pays_per_setting or not changed.partly(k):
        return _contract_value(*args)

    def part(r: np.ndarray, j: list[int]) -> np.ndarray:
        kj, sj = [k[x] for x in j], [settings[x] for x in j]
        return _contract_value(
            spec, s.org_activity, r, p, kj, planned, prices[..., j], sj, base_k[..., j], ctx
        )

    whole = (_contract_value, *args[:2], sh.do_nothing, *args[3:])
    return _moved_only(sh, key, whole, part, resident, moved)


def _moved_only(sh: Shared, key: tuple, whole: tuple, part, resident: np.ndarray, moved) -> np.ndarray:
    """A payment over every setting worked out as the do-nothing's (``whole``: the function and
    its arguments, as the do-nothing itself pays it, under ``key`` in ``sh``), less the
    do-nothing ``part(do_nothing, j)`` of the settings that ``moved`` (positions ``j``), plus
    their ``part(resident, j)`` now. Exact, to rounding, for anything paid setting by setting;
    the same in every scenario, shared or not."""
    j = [int(x) for x in np.flatnonzero(moved)]
    before = sh.get(key + (tuple(j),), part, sh.do_nothing, j)
    return sh.get(key, *whole) - before + part(resident, j)


def _contract_value(spec, org_activity, resident, p, k, planned, prices, settings, base_k, ctx) -> np.ndarray:
    a = org_activity(resident, p, k)
    plan_k = planned[p][:, None][..., k] if isinstance(p, list) else planned[p][None, :, k]
    return contract_value(spec, a, plan_k, prices, settings, base_k, ctx)


def _out_of_area(s: _Setup, resident: np.ndarray, settings: np.ndarray) -> np.ndarray:
    """(draw, year) residents' care of ``settings`` (a mask) treated out of area, at tariff."""
    m = np.flatnonzero(settings)  # the same products, only for the settings summed
    return (resident[..., m] * (1 - s.keep)[:, None, m] * s.price[m] * s.tariff_index[..., None]).sum(-1)


def _out_of_area_now(
    s: _Setup, sh: Shared, key: tuple, resident, settings: np.ndarray, changed
) -> np.ndarray:
    """``_out_of_area`` of ``settings`` for a scenario that moved care in ``changed``: paid setting
    by setting, so when only some of them moved (as the engine declares) it is the do-nothing's
    (kept under ``key``) corrected in those (``_moved_only``)."""
    m = np.flatnonzero(settings)
    whole = (_out_of_area, s, sh.do_nothing, settings)
    if not changed.mask[m].any():
        return sh.get(key, *whole)
    if not changed.few(m):
        return _out_of_area(s, resident, settings)

    def part(r: np.ndarray, j: list[int]) -> np.ndarray:
        only = np.zeros_like(settings)
        only[m[j]] = True
        return _out_of_area(s, r, only)

    return _moved_only(sh, key, whole, part, resident, changed.mask[m])


def _capitated_payments(s: _Setup, ledger, lead, k, resident, cov, spec, shared) -> None:
    """The budget holder pays every other provider of covered care at tariff (passing CQUIN on)
    and pays for its population's out-of-area care in full (the Alzira rule). ``shared``: the
    shared books, the contract's number and the settings the scenario changed."""
    sh, n, changed = shared
    cq = 1 + cquin_paid(s.years, spec, lead, s.p.cquin_achievement)
    for i, o in enumerate(s.orgs):
        if o.id == lead.id or o.kind not in ACTIVITY_KINDS:
            continue
        at_tariff = s.tariff_index * s.mff(o) * price_uplift(s.years, o)
        args = (s.org_activity, resident, i, k, s.price[k], at_tariff, cq)
        moved = changed.mask[k]
        if not moved.any():
            v = sh.get(("subcontract", n, o.id), _subcontract, *args)
        elif not changed.partly(k):
            v = _subcontract(*args)
        else:  # paid at tariff setting by setting

            def part(r: np.ndarray, j: list[int], i=i, at_tariff=at_tariff) -> np.ndarray:
                return _subcontract(s.org_activity, r, i, [k[x] for x in j], s.price[k][j], at_tariff, cq)

            whole = (_subcontract, s.org_activity, sh.do_nothing, *args[2:])
            v = _moved_only(sh, ("subcontract", n, o.id), whole, part, resident, moved)
        if np.any(v):
            ledger.pay(lead.id, o.id, "subcontract at tariff", v)
    out = _out_of_area_now(s, sh, ("out_of_area", n), resident, cov, changed)
    ledger.pay(lead.id, "out_of_area", "out-of-area treatment (capitated)", out)


def _subcontract(org_activity, resident, i, k, price, at_tariff, cq) -> np.ndarray:
    return dot(org_activity(resident, i, k), price) * at_tariff * cq


# ---- costs ----------------------------------------------------------------------------------


@dataclass
class Costs:
    """Own costs by (org, draw, year) and the do-nothing bridge lines they make."""

    own: np.ndarray
    lines: dict[str, np.ndarray]
    # (org, draw, year) what care models that are part of efficiency already saved each trust
    efficiency_credit: np.ndarray | None = None

    def add(self, lines: dict[str, np.ndarray]) -> None:
        for k, v in lines.items():
            self.lines[k] = self.lines[k] + v


@dataclass(frozen=True)
class _DoNothingActivityCosts:
    """The do-nothing part of ``activity_costs``, which every scenario shares. Rows are the
    organisations with modelled activity, in the books' order."""

    real: np.ndarray  # (draw, year, setting) real unit-cost index
    rows: list[int]  # the organisations with modelled activity
    weights: np.ndarray
    values: provider_costs.ActivityValues
    cost: np.ndarray  # (row, draw, year) long-run average cost of the do-nothing's activity
    lines: dict[str, np.ndarray]  # their bridge lines, summed over rows in order
    marginal: np.ndarray  # (row, draw) short-run marginal share of cost, by the row's kind
    valued: np.ndarray  # (row, setting) True where a row's costed activity counts the setting
    acute: list[int]  # the acute trusts (organisations) ...
    acute_rows: list[int]  # ... and their rows
    bed_share: np.ndarray  # (acute, draw, 1, bed setting) of residents' bed days, in area
    beds: np.ndarray  # (acute, draw, year) beds needed


def _do_nothing_activity_costs(s: _Setup, base: BaseYear, sc: Scenario) -> _DoNothingActivityCosts:
    real = provider_costs.real_unit_cost_index(s.p, s.elapsed)
    rows = [i for i, o in enumerate(s.orgs) if o.kind in ACTIVITY_KINDS]
    w = provider_costs.value_weights(s.shares[rows], s.keep, s.unit_cost, s.base_los)
    v = provider_costs.values(w, s.base_act, sc.demographic, sc.do_nothing, real)
    cost, lines = [], {}
    for j, i in enumerate(rows):
        vj = provider_costs.ActivityValues(v.base[j], v.demographic[j], v.actual[j], v.real[j])
        c, row_lines = provider_costs.do_nothing_cost(base.cost[i], vj, s.prices_index)
        cost.append(c)
        for k, x in row_lines.items():  # row by row, as the scenarios' books once added them
            lines[k] = lines[k] + x if k in lines else x
    acute_rows = [j for j, i in enumerate(rows) if s.orgs[i].kind == "acute"]
    acute = [rows[j] for j in acute_rows]
    bed_share = (s.shares[acute][:, BEDS][:, None, :] * s.keep[:, BEDS][None])[:, :, None, :]
    return _DoNothingActivityCosts(
        real=real,
        rows=rows,
        weights=w,
        values=v,
        cost=np.array(cost),
        lines=lines,
        marginal=np.array([s.p.marginal[s.orgs[i].kind] for i in rows]),
        valued=(w != 0).any(axis=1),
        acute=acute,
        acute_rows=acute_rows,
        bed_share=bed_share,
        beds=provider_costs.beds(sc.do_nothing[None, ..., BEDS] * bed_share, s.p.occupancy),
    )


def activity_costs(s: _Setup, costs: Costs, base: BaseYear, sc: Scenario, sh: Shared, changed) -> None:
    """Acute, community and general practice: long-run average cost of the do-nothing's
    activity, then the plan's changes at marginal (avoided) or average (added) cost, and the
    wards the plan does not run. Every row at once: a row whose costed activity the scenario
    leaves alone keeps its do-nothing cost."""
    dn = sh.get("activity_costs", _do_nothing_activity_costs, s, base, sc)
    costs.own[dn.rows] = dn.cost
    costs.add(dn.lines)
    if sc.activity is sc.do_nothing:
        return
    v = dn.values
    touched = np.flatnonzero((dn.valued & changed.mask).any(axis=1))
    if touched.size:
        plan_real = _valued_now(dn, sc.activity, sh.do_nothing, touched, changed)
        costs.own[[dn.rows[j] for j in touched]] += provider_costs.plan_adjustment(
            base.cost[[dn.rows[j] for j in touched]],
            v.base[touched],
            v.real[touched],
            plan_real,
            dn.marginal[touched],
            s.prices_index,
        )
    if not dn.acute:
        return
    terms = (s.p, s.options.close_surplus_wards, int(assumptions.value("ward_closure_lag_years")))
    dn_cost = dn.cost[dn.acute_rows]
    if changed.mask[BEDS].any():
        plan_beds = provider_costs.beds(sc.activity[None, ..., BEDS] * dn.bed_share, s.p.occupancy)
        release = provider_costs.ward_release(dn_cost, dn.beds, plan_beds, *terms)
    else:  # the do-nothing's beds: what closing its surplus wards alone releases
        release = sh.get("ward_release", provider_costs.ward_release, dn_cost, dn.beds, dn.beds, *terms)
    costs.own[dn.acute] -= release


def _valued_now(dn: _DoNothingActivityCosts, activity, do_nothing, rows, changed: Changed) -> np.ndarray:
    """(row, draw, year) the ``rows``' costed activity with real unit-cost growth. Valuing is
    setting by setting, so when care moved in only some settings (as the engine declares) it is
    the do-nothing's value plus the change in those."""
    if not changed.few(np.arange(changed.mask.size)):
        return provider_costs.valued(activity * dn.real, dn.weights[rows])
    k = np.flatnonzero(changed.mask)
    moved = (activity[..., k] - do_nothing[..., k]) * dn.real[..., k]
    return dn.values.real[rows] + provider_costs.valued(moved, dn.weights[rows][..., k])


def block_costs(s: _Setup, costs: Costs, base: BaseYear, sh: Shared) -> None:
    """Mental health, specialised services and the commissioners' other spending: no modelled
    activity, so their cost follows need, other demand, real unit cost and prices (the same in
    every scenario)."""
    for i, (own, lines) in sh.get("block_costs", _block_costs, s, base).items():
        costs.own[i] = own
        costs.add(lines)


def _block_costs(s: _Setup, base: BaseYear) -> dict[int, tuple[np.ndarray, dict[str, np.ndarray]]]:
    out = {}
    idx = s.index
    t = s.years - BASE_YEAR
    grow = lambda rate: (1 + rate[:, None]) ** s.elapsed  # noqa: E731 - one line, three uses
    one = np.ones((s.p.n, len(s.years)))
    for i, o in enumerate(s.orgs):
        if o.kind == "mental_health":
            d, n, r = (
                idx["adults"][t] * one,
                grow(s.p.mental_health_demand_growth),
                grow(s.p.real_growth["mental_health"]),
            )
        elif o.kind == "specialised":
            d, n, r = (
                idx["need"][t] * one,
                grow(s.p.specialised_demand_growth),
                grow(s.p.real_growth["specialised"]),
            )
        elif o.kind == "commissioner":
            other0 = base.other_spending
            lines = provider_costs.index_lines(
                other0, idx["need"][t] * one, grow(s.p.other_commissioned_growth), one, s.prices_index
            )
            out[i] = (other0[:, None] + sum(lines.values()), lines)
            continue
        else:
            continue
        lines = provider_costs.index_lines(base.cost[i], d, n, r, s.prices_index)
        out[i] = (base.cost[i][:, None] * d * n * r * s.prices_index, lines)
    return out


def committed_investment(s: _Setup, costs: Costs, ledger: Ledger, base: BaseYear, alloc: dict) -> None:
    """Money the NHS committed, which follows the commitment to the providers that carry it:
    general practice's income grows at least as the GP Forward View's national path, and mental
    health's at least as the CCG allocation (the Mental Health Investment Standard) plus its
    share of the Five Year Forward View for Mental Health's new money. The commissioners top the
    provider's contract income up to the commitment; the provider spends at least it (a floor
    under its modelled cost, the bridge's committed-investment line)."""
    gpfv = _gpfv_index(s.years)
    # The FYFV for Mental Health's new money after 2016/17, phased in, held in cash after 2020/21
    # (assumptions fyfv_mental_health_share_after_2016_17 and fyfv_mental_health_years_to_full).
    after_base = float(assumptions.value("fyfv_mental_health_share_after_2016_17"))
    years_to_full = float(assumptions.value("fyfv_mental_health_years_to_full"))
    phase = np.clip(s.elapsed / years_to_full, 0.0, 1.0)
    mh_extra = after_base * _mh_investment() * phase * need_share(s.lsoas, s.years)[None, :]
    growth = {"primary_care": gpfv[None, :], "mental_health": alloc["CCGs"] / alloc["CCGs"][:, :1]}
    extra = {"primary_care": 0.0, "mental_health": mh_extra}
    received = {kind: ledger.received(kind) for kind in ("primary_care", "mental_health")}
    # From 2017/18: in 2016/17 the provider has what it was paid (the calibrated base year).
    after = (s.elapsed > 0).astype(float)
    total = 0.0
    for kind in ("primary_care", "mental_health"):
        i = s.ids[kind]
        income = base.income[i][:, None] * growth[kind] + extra[kind]
        floor = base.cost[i][:, None] * growth[kind] + extra[kind]
        ledger.pay(
            "commissioner", kind, "committed investment", np.maximum(income - received[kind], 0.0) * after
        )
        more = np.maximum(floor - costs.own[i], 0.0)
        costs.own[i] += more
        total = total + more
    costs.lines["committed_investment"] = costs.lines["committed_investment"] + total


@persistent
def _gpfv_path() -> tuple[float, float]:
    item = "General Practice Forward View: spending on general practice"
    return (
        fact("national_finance", item, column="item", period="2015/16"),
        fact("national_finance", item, column="item", period="2020/21"),
    )


@persistent
def _mh_investment() -> float:
    return fact(
        "national_finance",
        "Five Year Forward View for Mental Health: new investment a year by 2020/21",
        column="item",
        period="2020/21",
    )


def _gpfv_index(years: np.ndarray) -> np.ndarray:
    """General practice spending on the GP Forward View's path relative to 2016/17: GBP 9.6bn
    in 2015/16 to GBP 12bn in 2020/21 (cash), geometric between; no commitment after 2020/21,
    so the floor stays at its 2020/21 cash level."""
    start, end = _gpfv_path()
    rate = (end / start) ** (1 / 5) - 1
    y = np.minimum(years, 2020) - 2015
    return (1 + rate) ** (y - 1)


@dataclass(frozen=True)
class _DoNothingCouncils:
    """The do-nothing part of ``council_costs``, which every scenario shares."""

    older: float  # 2016/17 spend on older people's care, GBP
    value0: np.ndarray  # (draw, 1) 2016/17 care valued at unit cost
    activity: np.ndarray  # (draw, year, setting) the councils' do-nothing care
    price: np.ndarray  # (draw, year) care prices
    cost: np.ndarray  # (draw, year)
    funding: np.ndarray  # (draw, year)
    base_gap: np.ndarray  # (draw,) the 2016/17 provider-market gap


def _do_nothing_councils(s: _Setup, sc: Scenario, base: BaseYear) -> _DoNothingCouncils:
    i = s.ids["social_care"]
    b = councils.base_spend(s.lsoas)
    t = s.years - BASE_YEAR
    idx = s.index
    price = councils.price_index(s.years, s.p)  # the National Living Wage in care workers' pay
    k = [IDX[x] for x in SOCIAL_CARE_SETTINGS]
    uc = s.unit_cost[k]
    v0 = dot(base.org_base[i][:, k], uc)[:, None]
    dn_act = s.org_activity(sc.do_nothing, i, k)
    older = b.older * dot(dn_act, uc) / v0
    working = (
        b.working_age
        * idx["working_age"][t][None, :]
        * (1 + s.p.working_age_care_growth[:, None]) ** s.elapsed
    )
    other = b.other * idx["all"][t][None, :]
    gap = councils.market_gap(s.lsoas, s.p)[:, None]
    cost = (older + working + other + gap) * price
    funding = councils.funding(s.lsoas, s.years, s.p, s.elapsed)
    base_gap = (b.total + gap[:, 0]) - b.total
    return _DoNothingCouncils(b.older, v0, dn_act, price, cost, funding, base_gap)


def council_costs(s: _Setup, costs: Costs, ledger: Ledger, sc: Scenario, base, sh: Shared, changed) -> None:
    """Adult social care: published 2016/17 spend grown by need and care prices, plus the
    provider-market gap; councils' funding from the settlements."""
    i = s.ids["social_care"]
    dn = sh.get("councils", _do_nothing_councils, s, sc, base)
    k = [IDX[x] for x in SOCIAL_CARE_SETTINGS]
    cost = dn.cost
    # A scenario that leaves councils' care as it was costs what the do-nothing does.
    if sc.activity is not sc.do_nothing and changed.mask[k].any():
        avoided = dn.older * dot(dn.activity - s.org_activity(sc.activity, i, k), s.unit_cost[k]) / dn.value0
        mc = s.p.marginal["social_care"][:, None]
        cost = cost - dn.price * (mc * np.maximum(avoided, 0.0) - np.maximum(-avoided, 0.0))
    ledger.pay("local_government", "social_care", "council funding", dn.funding)
    costs.own[i] = cost
    base_gap = dn.base_gap
    costs.lines["social_care"] = costs.lines["social_care"] + (cost - dn.funding) - base_gap[:, None]
    costs.lines["starting_deficit"] = costs.lines["starting_deficit"] + base_gap[:, None]


def care_model_stage(
    s: _Setup, costs: Costs, ledger: Ledger, cm: CareModelCosts | None, resident, base: BaseYear
) -> None:
    """Care models' costs fall on the organisations that run them, shared between organisations
    of one kind by their 2016/17 size (a back office shared by many trusts saves most at the
    largest); the commissioners fund them. Consultant sessions in the community are hospital
    consultants' time: their cost moves from the acute trusts, by size, to the community provider."""
    moved = s.in_area(resident, IDX["community_consultant_sessions"]) * s.session_cost * s.prices_index
    for i, w in _by_size(s, base, "acute"):
        costs.own[i] -= moved * w
    costs.own[s.ids["community"]] += moved
    if cm is None:
        return
    running = cm.running if cm.running is not None else cm.cost
    flags = cm.part_of_efficiency or (False,) * len(cm.names)
    for name, kind, cost, run, flag in zip(cm.names, cm.bearer, cm.cost, running, flags, strict=True):
        for i, w in _by_size(s, base, kind):
            costs.own[i] += cost * w
            if flag:  # its running saving is one of the ways the trust meets its efficiency
                if costs.efficiency_credit is None:
                    costs.efficiency_credit = np.zeros_like(costs.own)
                costs.efficiency_credit[i] += np.maximum(-run, 0.0) * w
            if s.options.commissioner_funds_care_models and kind != "commissioner":
                ledger.pay("commissioner", s.orgs[i].id, f"care model: {name}", np.maximum(cost, 0.0) * w)


def _by_size(s: _Setup, base: BaseYear, kind: str) -> list[tuple[int, np.ndarray]]:
    """The organisations of ``kind`` with each one's share of their 2016/17 cost, (draw, 1)."""
    rows = [i for i, o in enumerate(s.orgs) if o.kind == kind]
    if len(rows) == 1:
        return [(rows[0], np.ones((1, 1)))]
    size = np.abs(base.cost[rows])  # (org, draw); a kind with no 2016/17 cost shares equally
    size = np.where(in_order(size) > 0, size, 1.0)
    return [(i, (size[n] / in_order(size))[:, None]) for n, i in enumerate(rows)]


def efficiency_stage(s: _Setup, costs: Costs, efficiency: np.ndarray) -> np.ndarray:
    """The cost improvement a plan assumes on NHS trusts' costs (general practice and councils
    are not trusts); returns the saving by (draw, year). One efficiency line: what care models
    that are part of efficiency (shared back offices) already saved a trust counts towards its
    cost improvement, which is worked out on its cost before that saving; only the rest is cut,
    and nothing more where those care models saved more than the efficiency asks. A draw of
    negative efficiency (costs rise) leaves their saving standing. ``efficiency``: (draw,) the
    share of cost improved each year."""
    factor = 1.0 - (1.0 - efficiency[:, None]) ** s.elapsed
    saving = np.zeros((s.p.n, len(s.years)))
    credit = costs.efficiency_credit
    for i, o in enumerate(s.orgs):
        if o.kind in TRUST_KINDS:
            done = credit[i] if credit is not None else 0.0
            asked = (costs.own[i] + done) * factor
            # A draw of negative efficiency raises costs and the care models' saving stands.
            cut = np.where(asked < 0, asked, np.maximum(asked - done, 0.0))
            costs.own[i] -= cut
            saving = saving + cut
    return saving


def out_of_area_lines(s: _Setup, sc: Scenario, base_out: np.ndarray) -> dict[str, np.ndarray]:
    """Bridge lines of the out-of-area payments (at tariff: no real unit-cost growth)."""
    nhs = np.array([k not in SOCIAL_CARE_SETTINGS for k in ALL_SETTINGS])
    away = (1 - s.keep) * nhs  # (draw, setting)
    dem = dot(sc.demographic[None], (away * s.price)[:, None, :])
    act = dot(sc.do_nothing, (away * s.price)[:, None, :])
    return {
        "demography": dem - base_out[:, None],
        "other_demand_growth": act - dem,
        "pay_and_prices": act * (s.tariff_index - 1),
    }


# ---- one footprint's books ------------------------------------------------------------------


def footprint_finance(
    fp: Footprint,
    options: FinanceOptions,
    years: np.ndarray,
    sc: Scenario,
    params: FinanceParams,
    shared: Shared | None = None,
) -> FootprintFinance:
    """The books of every organisation in one footprint for ``years`` (from 2016/17).
    ``shared``: what this footprint's other scenarios already worked out (``Shared``)."""
    sh = Shared() if shared is None else shared
    sh.bind(fp.code, options, years, params, sc)
    # The settings whose activity differs from the do-nothing's anywhere (draw, year).
    if sc.activity is sc.do_nothing:
        changed = Changed(np.zeros(sc.activity.shape[-1], dtype=bool), True)
    elif sc.declared_moves is not None:
        changed = Changed(np.asarray(sc.declared_moves, dtype=bool), True)
    else:
        changed = Changed((sc.activity != sc.do_nothing).any(axis=(0, 1)))
    s = sh.get("setup", _setup, fp, options, years, params, sc.demographic)
    n_d, n_t = sc.activity.shape[:2]
    ledger = Ledger(s.orgs, (n_d, n_t))
    base = sh.get("base_year", base_year, s)
    # agreed in advance
    planned = sh.get("planned", lambda: np.einsum("ok,tk->otk", s.shares, sc.planned) * s.keep_central)

    alloc = allocations(s, ledger, sh)
    pay_contracts(s, ledger, planned, sc.activity, sc.planned, alloc, sh, changed)
    costs = Costs(np.zeros((len(s.orgs), n_d, n_t)), {k: np.zeros((n_d, n_t)) for k in BRIDGE_LINES})
    activity_costs(s, costs, base, sc, sh, changed)
    block_costs(s, costs, base, sh)
    committed_investment(s, costs, ledger, base, alloc)
    council_costs(s, costs, ledger, sc, base, sh, changed)
    care_model_stage(s, costs, ledger, sc.care_models, sc.activity, base)
    efficiency = s.p.efficiency if sc.efficiency is None else sc.efficiency
    saving = efficiency_stage(s, costs, efficiency) if sc.with_efficiency else np.zeros((n_d, n_t))

    received, paid = ledger.totals()
    costs.add(sh.get("fixed_lines", _fixed_lines, s, sc, base, alloc))
    return FootprintFinance(
        code=fp.code,
        orgs=s.orgs,
        years=years,
        income=received,
        expenditure=costs.own + paid,
        own_costs=costs.own,
        ledger=ledger,
        bridge=costs.lines,
        efficiency_saving=saving,
    )


def _fixed_lines(s: _Setup, sc: Scenario, base: BaseYear, alloc: dict) -> dict[str, np.ndarray]:
    """The bridge lines no scenario changes: out-of-area care, the NHS's 2016/17 start and the
    growth in allocations, each by (draw, year)."""
    ooa_base = dot(s.base_act * (1 - s.keep), s.price)
    lines = out_of_area_lines(s, sc, ooa_base)
    lines["starting_deficit"] = _nhs_start(s, base, ooa_base)[:, None]
    allocation_total = sum(alloc.values())
    lines["allocation_growth"] = -(allocation_total - allocation_total[:, :1])
    return lines


def _nhs_start(s: _Setup, base: BaseYear, ooa_base: np.ndarray) -> np.ndarray:
    """The NHS part of the 2016/17 gap by draw: every NHS organisation's base cost, the
    commissioners' other spending and out-of-area care, less the 2016/17 allocations. By
    construction it is the footprint's share of the trusts' underlying deficit."""
    nhs = [i for i, o in enumerate(s.orgs) if o.kind not in ("external", "social_care", "commissioner")]
    other0 = base.other_spending
    y0 = np.array([BASE_YEAR])
    alloc0 = base.allocation + s.allocation("Specialised commissioning", y0)[:, 0]
    return in_order(base.cost[nhs]) + other0 + ooa_base - alloc0
