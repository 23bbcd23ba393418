"""The 45th STP: every footprint's plan (or do-nothing) run together and summed per draw.

Sums are taken draw by draw, so national intervals are right (not sums of percentiles). Growth,
care-model and cost parameters are keyed by name, so a draw has the same national assumptions in
every footprint: national risk is correlated, as it should be. Activity noise is keyed by
footprint.

Sign convention: a gap is a shortfall, so a positive gap means spending exceeds income; the
system surplus is minus the gap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import engine, finance, geography
from .adoption import adopted_interventions
from .axes import ALL_SETTINGS, BASE_YEAR, year_label
from .baseline import projection_of
from .capacity import capacity
from .executors import Task, chunks, guarded, run_tasks
from .finance.ledger import in_order
from .organisations import KINDS
from .plan import Plan, PlanError, load
from .reference import ReferenceData, fact, use
from .summaries import STATS, summarise

PLAN_SUFFIXES = (".yaml", ".yml", ".json")
DO_NOTHING = "do nothing"


class RollupInputError(ValueError):
    """A plan folder that cannot be rolled up; ``lines`` holds every problem."""

    def __init__(self, lines: list[str]):
        self.lines = lines
        super().__init__("\n".join(lines))


def load_plans(directory: str | Path) -> dict[str, tuple[str, Plan]]:
    """Every plan in ``directory`` by footprint code -> (file, plan). All problems at once."""
    d = Path(directory)
    if not d.is_dir():
        raise RollupInputError([f"--plans {directory}: not a folder of plan files"])
    problems: list[str] = []
    found: dict[str, tuple[str, Plan]] = {}
    for path in sorted(p for p in d.iterdir() if p.suffix.lower() in PLAN_SUFFIXES):
        try:
            plan = load(path)
        except PlanError as e:
            problems += [f"{e.source}: {line}" for line in e.lines]
            continue
        for code in plan.codes:
            if code in found:
                problems.append(
                    f"{path}: footprint {code} already has a plan ({found[code][0]}); give each footprint "
                    "one plan"
                )
            else:
                found[code] = (str(path), plan)
    if not found and not problems:
        problems.append(
            f"--plans {directory}: no plan files (*.yaml, *.yml, *.json) in this folder; leave out "
            "--plans to roll up do-nothing everywhere"
        )
    if problems:
        raise RollupInputError(problems)
    return found


def do_nothing_plan(code: str, last_year: int, geography_: str = geography.DEFAULT_GEOGRAPHY) -> Plan:
    """A footprint with no plan: no care models and no provider efficiency."""
    return Plan.model_validate(
        {
            "name": DO_NOTHING,
            "geography": geography_,
            "footprints": [code],
            "end_year": year_label(last_year),
            "finance": {"provider_efficiency": {"low": 0, "high": 0}},
        }
    )


def footprint_work(
    code: str, plan: Plan, first: int, stop: int, tables: str | None = None
) -> dict[str, np.ndarray]:
    """One task: a footprint's activity, beds and books for draws [first, stop), read from the
    national tables overlaid by the folder ``tables`` (none: the worker's current ones). A
    footprint without a plan has one set of books (do-nothing), not two."""
    with use(ReferenceData.of(tables) if tables else None):
        return _footprint_work(plan, first, stop)


def _footprint_work(plan: Plan, first: int, stop: int) -> dict[str, np.ndarray]:
    draws = engine.parameter_draws(plan, range(first, stop))  # every parameter, drawn once
    arr = engine.run_block(plan, plan.places, draws.draws, draws)
    params = finance.finance_parameters(draws)
    planned = engine.central_plan_activity(plan)
    shared = finance.Shared()  # the plan's books reuse what the do-nothing's worked out
    dn = engine.footprint_books(plan, arr, 0, params, None, "do_nothing", planned, shared)
    if plan.interventions or plan.name != DO_NOTHING:
        adopted = adopted_interventions(plan)
        books = engine.footprint_books(plan, arr, 0, params, adopted, "plan", planned, shared)
        plan_beds = capacity(arr.activity, draws)["beds"][:, :, 0]
    else:
        books, plan_beds = dn, None
    dn_beds = capacity(arr.do_nothing, draws)["beds"][:, :, 0]
    dn_activity = arr.do_nothing[:, :, 0]
    # Without a plan the two scenarios are one. Its surplus and beds go back as the same arrays
    # (pickle sends them once); its activity and books by kind with the plan are not sent at
    # all: they are the do-nothing's, which the roll-up holds once.
    dn_surplus = dn.system_surplus
    planned = {}
    if plan_beds is not None:
        planned = {f"kind:{k}": v for k, v in _by_kind(books).items()} | {"activity": arr.activity[:, :, 0]}
    return {
        **planned,
        **{f"do_nothing_kind:{k}": v for k, v in _by_kind(dn).items()},
        "do_nothing": dn_activity,
        "surplus": dn_surplus if plan_beds is None else books.system_surplus,
        "do_nothing_surplus": dn_surplus,
        "efficiency_saving": books.efficiency_saving,
        "beds": dn_beds if plan_beds is None else plan_beds,
        "do_nothing_beds": dn_beds,
        **{f"bridge:{k}": v for k, v in dn.bridge.items()},
    }


# How the roll-up names each kind (ambulance services are inside the acute trusts' activity here).
KIND_TITLES = {
    "acute": "acute trusts",
    "mental_health": "mental health trusts",
    "community": "community providers",
    "primary_care": "general practice",
    "specialised": "specialised services",
    "commissioner": "commissioners (CCGs)",
    "social_care": "councils' adult social care",
}


def _with_plans(do_nothing: np.ndarray, plans: dict[int, np.ndarray]) -> np.ndarray:
    """A new (footprint, ...) array: the do-nothing's, with each footprint's plan in its row."""
    out = do_nothing.copy()
    for f, x in plans.items():
        out[f] = x
    return out


def _england(do_nothing: np.ndarray, plans: dict[int, np.ndarray]) -> np.ndarray:
    """England's sum of ``_with_plans(do_nothing, plans)`` over the footprints, without making
    that array: the footprints added one by one in their order, with the plans and without, so
    a footprint without a plan adds the same numbers to both (numpy's own sum over the leading
    axis is the same, to the bit, for the roll-up's C-ordered arrays of more than one cell)."""
    return in_order([plans.get(f, row) for f, row in enumerate(do_nothing)])


def _by_kind(books) -> dict[str, np.ndarray]:
    """Each kind of organisation's surplus (draw, year), summed over the footprint's
    organisations of that kind: the kinds partition the system's surplus."""
    kinds = np.array([o.kind for o in books.orgs])
    empty = np.zeros(books.surplus.shape[1:])
    return {k: in_order(books.surplus[kinds == k]) if (kinds == k).any() else empty.copy() for k in KINDS}


@dataclass(frozen=True)
class Rollup:
    codes: tuple[str, ...]
    names: tuple[str, ...]
    plan_names: tuple[str | None, ...]
    years: tuple[int, ...]
    draws: int
    seed: int
    population: np.ndarray  # (footprint, year)
    do_nothing: np.ndarray  # (footprint, draw, year, setting) activity if nothing changes
    surplus: np.ndarray  # (footprint, draw, year)
    do_nothing_surplus: np.ndarray
    beds: np.ndarray
    do_nothing_beds: np.ndarray
    efficiency_saving: np.ndarray  # (footprint, draw, year) provider efficiency in the plans
    bridge: dict[str, np.ndarray]  # do-nothing line -> (footprint, draw, year)
    geography: str = geography.DEFAULT_GEOGRAPHY
    # kind of organisation -> (footprint, draw, year) surplus if nothing changes (``by_kind``:
    # with the plans)
    do_nothing_by_kind: dict[str, np.ndarray] | None = None
    # What the plans change, only for the footprints with a plan, by place: their activity
    # (draw, year, setting) and each kind's surplus (kind -> (draw, year)). Without a plan a
    # footprint's two sets of numbers are one, held once (at 10,000 draws the activity alone
    # is 299 MB); ``activity`` and ``by_kind`` put them together.
    plan_activity: dict[int, np.ndarray] = field(default_factory=dict)
    plan_by_kind: dict[int, dict[str, np.ndarray]] = field(default_factory=dict)

    @property
    def activity(self) -> np.ndarray:
        """(footprint, draw, year, setting) activity with the plans: a new array on each call
        (``england_activity`` sums it over the footprints without making it)."""
        return _with_plans(self.do_nothing, self.plan_activity)

    @property
    def by_kind(self) -> dict[str, np.ndarray] | None:
        """Kind of organisation -> (footprint, draw, year) surplus with the plans (new arrays)."""
        if self.do_nothing_by_kind is None:
            return None
        return {k: _with_plans(v, self._plan_kind(k)) for k, v in self.do_nothing_by_kind.items()}

    def _plan_kind(self, kind: str) -> dict[int, np.ndarray]:
        return {f: kinds[kind] for f, kinds in self.plan_by_kind.items()}

    def england_activity(self, scenario: str = "plan") -> np.ndarray:
        """(draw, year, setting) England's activity, summed over the footprints draw by draw, with
        the plans or (``scenario="do_nothing"``) without."""
        return _england(self.do_nothing, {} if scenario == "do_nothing" else self.plan_activity)

    @property
    def plan_gap(self) -> np.ndarray:
        return -self.surplus

    @property
    def do_nothing_gap(self) -> np.ndarray:
        return -self.do_nothing_surplus

    def _by_year(self, x: np.ndarray) -> dict:
        s = summarise(x)
        return {year_label(y): {k: round(float(s[k][t]), 2) for k in STATS} for t, y in enumerate(self.years)}

    def _books_by_kind(self, scenario: str) -> dict:
        """England's position (surplus +, deficit -) of each kind of organisation by year, with
        the plans or doing nothing, summed over the footprints draw by draw: mean and 80%
        interval."""
        return {
            k: {"title": KIND_TITLES[k]}
            | self._by_year(_england(v, {} if scenario == "do_nothing" else self._plan_kind(k)))
            for k, v in self.do_nothing_by_kind.items()
        }

    def base_year_tie_out(self) -> list[dict]:
        """Each published 2016/17 national figure beside the modelled one (England, summed over
        the footprints draw by draw; GBP, surplus +): what the calibration reproduces and what
        it does not yet."""
        from .finance.starting import central_underlying_deficit

        def pos(kinds: tuple[str, ...]) -> dict:
            x = sum(self.do_nothing_by_kind[k] for k in kinds).sum(axis=0)[:, 0]
            s = summarise(x)
            return {k: round(float(s[k]), 0) for k in STATS}

        reported = national_check("provider_sector_reported_deficit") * 1e6
        underlying = -central_underlying_deficit()
        trusts = ("acute", "community", "mental_health", "specialised")
        modelled = pos(trusts)
        return [
            {
                "measure": "NHS trusts' underlying position",
                "published": round(underlying, 0),
                "modelled": modelled,
                "how": "reported position less STF support, one-off savings and accounting changes "
                "(Nuffield Trust, The bottom line, 2017; the last two assumptions with ranges)",
            },
            {
                "measure": "NHS trusts' reported position",
                "published": round(reported, 0),
                "modelled": {k: round(v - underlying + reported, 0) for k, v in modelled.items()},
                "how": "the modelled underlying position plus STF support, one-off savings and accounting "
                "changes (central values)",
            },
            {
                "measure": "CCGs' position before the 1% risk reserve",
                "published": round(national_check("CCG_aggregate_overspend_before_risk_reserve") * 1e6, 0),
                "modelled": pos(("commissioner",)),
                "how": "the published overspend shared by CCG allocation (assumption "
                "commissioner_base_year_position)",
            },
            {
                "measure": "General practice",
                "published": None,
                "modelled": pos(("primary_care",)),
                "how": "no published national position; general practice breaks even",
            },
        ]

    def gap_per_head_drivers(self) -> dict:
        """What makes footprints' do-nothing gaps per head differ, in the last year: each
        footprint's difference from England's gap per head split exactly by bridge line (the
        lines sum to the gap), and each line's share of the spread across footprints (its
        covariance with the gap per head over the gap's variance; the shares sum to one). The
        2016/17 position carries where the trusts in deficit were; allocation growth carries
        need, deprivation and each CCG's distance from target; demography the ageing."""
        pop = self.population[:, -1]
        lines = {k: v[:, :, -1].mean(axis=1) / pop for k, v in self.bridge.items()}  # per head
        england = {k: float(v[:, :, -1].mean(axis=1).sum() / pop.sum()) for k, v in self.bridge.items()}
        gap = self.do_nothing_gap[:, :, -1].mean(axis=1) / pop
        var = float(((gap - gap.mean()) ** 2).mean())
        share = {
            k: float(((v - v.mean()) * (gap - gap.mean())).mean() / var) if var else 0.0
            for k, v in lines.items()
        }
        return {
            "year": year_label(self.years[-1]),
            "england_gap_per_head": round(
                float(self.do_nothing_gap[:, :, -1].mean(axis=1).sum() / pop.sum()), 2
            ),
            "spread": {
                "min": round(float(gap.min()), 2),
                "median": round(float(np.median(gap)), 2),
                "max": round(float(gap.max()), 2),
                "max_over_min": round(float(gap.max() / gap.min()), 3) if gap.min() > 0 else None,
                "coefficient_of_variation": round(float(gap.std() / gap.mean()), 3) if gap.mean() else None,
            },
            "share_of_spread": {
                k: {"title": finance.BRIDGE_TITLES[k], "share": round(v, 3)}
                for k, v in sorted(share.items(), key=lambda kv: -abs(kv[1]))
            },
            "footprints": {
                code: {k: round(float(lines[k][f] - england[k]), 2) for k in lines}
                for f, code in enumerate(self.codes)
            },
        }

    def social_care_check(self) -> list[dict]:
        """Each published estimate of adult social care's gap, overspend or savings beside the
        councils' modelled do-nothing gap in the same year (England, summed draw by draw): the
        published figures measure different things, each row says what it includes."""
        from .reference import table

        if self.do_nothing_by_kind is None:
            return []
        gap = -self.do_nothing_by_kind["social_care"].sum(axis=0)  # (draw, year), + a shortfall
        rows = []
        for r in table("social_care_gap_estimates").itertuples():
            year = next((t for t, y in enumerate(self.years) if year_label(y) == r.period), None)
            if year is None:
                continue
            s = summarise(gap[:, year])
            rows.append(
                {
                    "period": r.period,
                    "publisher": r.publisher,
                    "measure": r.measure,
                    "published": float(r.value_gbp_m) * 1e6,
                    "includes": r.includes,
                    "source": r.source,
                    "modelled_gap": {k: round(float(s[k]), 0) for k in STATS},
                }
            )
        return rows

    def top_gap_per_head(self, n: int = 10) -> list[int]:
        """Footprint indices with the largest mean plan gap per head in the last year."""
        per_head = self.plan_gap[:, :, -1].mean(axis=1) / self.population[:, -1]
        return list(np.argsort(-per_head)[:n])

    def to_dict(self) -> dict:
        nat_gap = self.plan_gap.sum(axis=0)
        nat_dn_gap = self.do_nothing_gap.sum(axis=0)
        savings = nat_dn_gap - nat_gap
        req = national_requirement()
        plan_activity, dn_activity = self.england_activity(), self.england_activity("do_nothing")
        england = {
            "population": {
                year_label(y): round(float(self.population[:, t].sum())) for t, y in enumerate(self.years)
            },
            "activity": {k: self._by_year(plan_activity[..., i]) for i, k in enumerate(ALL_SETTINGS)},
            "do_nothing_activity": {
                k: self._by_year(dn_activity[..., i]) for i, k in enumerate(ALL_SETTINGS)
            },
            "beds": self._by_year(self.beds.sum(axis=0)),
            "do_nothing_beds": self._by_year(self.do_nothing_beds.sum(axis=0)),
            "system_surplus": self._by_year(self.surplus.sum(axis=0)),
            "do_nothing_gap": self._by_year(nat_dn_gap),
            "plan_gap": self._by_year(nat_gap),
            "probability_gap_closed": {
                year_label(y): round(float((nat_gap[:, t] <= 0).mean()), 4) for t, y in enumerate(self.years)
            },
            "plans_savings": self._by_year(savings),
            "probability_savings_reach_stp_expectation": {
                year_label(y): round(float((savings[:, t] >= req["expected_from_stps"]).mean()), 4)
                for t, y in enumerate(self.years)
            },
            "national_requirement": req,
            "note": NOTE,
        }
        if self.do_nothing_by_kind is not None:
            england["books_by_kind"] = self._books_by_kind("plan")
            england["do_nothing_books_by_kind"] = self._books_by_kind("do_nothing")
            if self.years[0] == BASE_YEAR:
                england["base_year_tie_out"] = self.base_year_tie_out()
        if self.bridge:
            england["gap_per_head_drivers"] = self.gap_per_head_drivers()
        if self.do_nothing_by_kind is not None:
            england["social_care_check"] = self.social_care_check()
        planned = [f for f, p in enumerate(self.plan_names) if p is not None]
        if planned:
            pg = self.plan_gap[planned].sum(axis=0)
            england["probability_planned_footprints_close_their_gap"] = {
                year_label(y): round(float((pg[:, t] <= 0).mean()), 4) for t, y in enumerate(self.years)
            }
        fps = []
        for f, code in enumerate(self.codes):
            fps.append(
                {
                    "code": code,
                    "name": self.names[f],
                    "plan": self.plan_names[f],
                    "population": round(float(self.population[f, -1])),
                    "gap": self._by_year(self.plan_gap[f]),
                    "do_nothing_gap": self._by_year(self.do_nothing_gap[f]),
                    "gap_per_head": self._by_year(self.plan_gap[f] / self.population[f][None, :]),
                }
            )
        return {
            "geography": self.geography,
            "reconciliation": self.reconciliation(),
            "draws": self.draws,
            "seed": self.seed,
            "years": [year_label(y) for y in self.years],
            "sign": "gap = shortfall (spending minus income), positive is a shortfall; surplus = -gap",
            "footprints": fps,
            "england": england,
            "largest_gap_per_head": [self.codes[i] for i in self.top_gap_per_head()],
        }

    def reconciliation(self) -> dict:
        """England's do-nothing gap built up line by line (summed over the 44 footprints draw by
        draw, so it equals the gap exactly), the plans' care models and provider efficiency
        apart, and the Five Year Forward View's arithmetic on the same scope."""
        lines = {k: v.sum(axis=0) for k, v in self.bridge.items()}
        dn = self.do_nothing_gap.sum(axis=0)
        plan = self.plan_gap.sum(axis=0)
        eff = self.efficiency_saving.sum(axis=0)
        bridge = {k: {"title": finance.BRIDGE_TITLES[k]} | self._by_year(v) for k, v in lines.items()}
        bridge["care_models"] = {"title": finance.BRIDGE_TITLES["care_models"]} | self._by_year(
            plan + eff - dn
        )
        bridge["provider_efficiency"] = {
            "title": finance.BRIDGE_TITLES["provider_efficiency"]
        } | self._by_year(-eff)
        return {
            "scope": finance.SCOPE,
            "do_nothing_bridge": bridge,
            "do_nothing_gap": self._by_year(dn),
            "largest_residual_gbp": float(np.abs(sum(lines.values()) - dn).max()),
            "five_year_forward_view": fyfv_on_scope(self.years),
        }


def national_check(item: str) -> float:
    """A published 2016/17 national finance figure (``national_finance_checks_2016_17``), GBP m."""
    return fact("national_finance_checks_2016_17", item, column="item", period="2016/17")


def fyfv_on_scope(years: tuple[int, ...]) -> dict:
    """The Five Year Forward View's arithmetic (4% a year real growth in demand against the money
    available) applied to the money in stpsim's scope from 2016/17, at the model's central pay
    and price inflation, plus the 2016/17 underlying deficit; and the published figures scaled
    by the in-scope share of NHS England's revenue allocation. Context, computed not drawn."""
    from . import assumptions
    from .finance.allocations import KINDS, published_allocations
    from .finance.starting import central_underlying_deficit

    pressure = (
        fact(
            "national_finance",
            "Five Year Forward View: real growth in demand assumed behind the £30bn gap",
            column="item",
            period="2014/15-2020/21",
        )
        / 100
    )
    inflation = float(assumptions.value("cost_inflation")) / 100
    alloc = published_allocations()
    total16 = fact(
        "national_finance",
        "NHS England allocation: Total NHS England revenue allocation",
        column="item",
        period="2016/17",
    )
    in_scope = {y: sum(alloc[(k, y)] for k in KINDS) for y in years if y <= 2020}
    start = in_scope[BASE_YEAR] + central_underlying_deficit()
    gap = {
        year_label(y): round(start * ((1 + pressure) * (1 + inflation)) ** (y - BASE_YEAR) - a, 0)
        for y, a in in_scope.items()
    }
    share = in_scope[BASE_YEAR] / total16
    req = national_requirement()
    return {
        "method": (
            "NHS spending in scope in 2016/17 (CCG, primary care and specialised allocations plus the "
            "trusts' underlying deficit) growing 4% a year in real terms (the demand growth behind the "
            "Forward View's GBP 30bn) at the model's central pay and price inflation, less the "
            "published in-scope allocations. NHS only: adult social care is not in the Forward View."
        ),
        "nhs_gap_by_year": gap,
        "published": req,
        "in_scope_share_of_nhs_england_revenue_2016_17": round(share, 4),
        "published_scaled_to_scope": {k: round(v * share, 0) for k, v in req.items()},
    }


NOTE = (
    "The modelled gap covers the money that reaches the footprints (CCG, primary care and "
    "specialised allocations; councils' adult social care) from each footprint's 2016/17 "
    "underlying position: see reconciliation.scope. The Five Year Forward View figures are for "
    "the whole NHS from 2014/15; reconciliation.five_year_forward_view applies the same "
    "arithmetic to the money in scope. Footprints without a plan are do-nothing (no care models, "
    "no provider efficiency); the plans' provider efficiency is reported apart from their care models."
)


def national_requirement() -> dict:
    """The Five Year Forward View figures the roll-up is judged against (shipped finance table)."""
    return {
        "efficiency_required_2020_21": fact(
            "national_finance",
            "Five Year Forward View: efficiency savings required by 2020/21",
            column="item",
            period="2020/21",
        ),
        "expected_from_stps": fact(
            "national_finance",
            "Share of the GBP 22bn efficiency requirement that STPs were "
            "expected to deliver (NHS England forecast)",
            column="item",
            period="to 2020/21",
        ),
        "funding_gap_without_efficiency_2020_21": fact(
            "national_finance",
            "Five Year Forward View: funding gap by 2020/21 if funding only rises with inflation "
            "and no efficiency gains",
            column="item",
            period="2020/21",
        ),
    }


# Floats the roll-up holds per (footprint, draw, year): plan and do-nothing surplus, provider
# efficiency, plan and do-nothing beds, the do-nothing bridge lines, and plan and do-nothing
# activity by setting.
FLOATS_PER_CELL = 5 + len(finance.BRIDGE_LINES) + 2 * len(ALL_SETTINGS)


def check_size(draws: int, last_year: int, option: str = "draws", n_footprints: int = 44) -> None:
    """Refuse, before any work, a roll-up whose arrays would not fit in memory, saying how many
    draws would (engine.check_size does the same for one plan's run)."""
    years = last_year - BASE_YEAR + 1
    per_draw = n_footprints * years * FLOATS_PER_CELL * 8
    need = draws * per_draw
    if need > engine.MEMORY_LIMIT:
        fit = engine.MEMORY_LIMIT // per_draw
        raise engine.RunTooLarge(
            f"{option} {draws}: a roll-up of {draws:,} draws x {years} years x {n_footprints} "
            f"footprints would need about {need / 2**30:.1f} GiB; the limit is "
            f"{engine.MEMORY_LIMIT / 2**30:.0f} GiB: use at most {fit:,} draws for these years"
        )


def rollup(
    plans: dict[str, tuple[str, Plan]],
    draws: int,
    seed: int,
    last_year: int = 2020,
    executor: str = "local",
    workers: int | None = None,
    scheduler: str | None = None,
    chunk_size: int | None = None,
    on_footprint_done=None,
    geography_: str = geography.DEFAULT_GEOGRAPHY,
    reference: ReferenceData | None = None,
) -> Rollup:
    """Run every footprint of ``geography_`` (the 44 STPs or the 42 ICBs; their plan, or
    do-nothing) and collect the results per draw, from the national tables ``reference``
    (default: the current ones; workers are sent its folder)."""
    with use(reference) as ref:
        return _rollup(
            plans,
            draws,
            seed,
            last_year,
            executor,
            workers,
            scheduler,
            chunk_size,
            on_footprint_done,
            geography_,
            ref,
        )


def _rollup(
    plans: dict[str, tuple[str, Plan]],
    draws: int,
    seed: int,
    last_year: int,
    executor: str,
    workers: int | None,
    scheduler: str | None,
    chunk_size: int | None,
    on_footprint_done,
    geography_: str,
    ref: ReferenceData,
) -> Rollup:
    fps = geography.preset(geography_)
    check_size(draws, last_year, n_footprints=len(fps))
    codes = [f.code for f in fps]
    stray = sorted(set(plans) - set(codes))
    if stray:
        raise RollupInputError(
            [
                f"{plans[c][0]}: footprint {c} is not one of the {geography_} footprints; a roll-up sums "
                f"a whole geography (see 'stpsim footprints --geography {geography_}')"
                for c in stray
            ]
        )
    horizon = {"start_year": BASE_YEAR, "end_year": last_year, "geography": geography_}
    prepared: dict[str, Plan] = {}
    names: list[str | None] = []
    for code in codes:
        base = plans[code][1] if code in plans else do_nothing_plan(code, last_year, geography_)
        names.append(plans[code][1].name if code in plans else None)
        prepared[code] = base.model_copy(
            update={
                **horizon,
                "footprints": [code],
                "monte_carlo": base.monte_carlo.model_copy(update={"draws": draws, "seed": seed}),
            }
        )
    tables = str(ref.folder) if ref.folder is not None else None
    tasks = [
        Task((code, a, b), (footprint_work, code, prepared[code], a, b, tables))
        for code in codes
        for a, b in chunks(draws, chunk_size)
    ]
    per_fp = {code: sum(1 for t in tasks if t.key[0] == code) for code in codes}
    done: dict[str, int] = {}

    def tick(task: Task) -> None:
        done[task.key[0]] = done.get(task.key[0], 0) + 1
        if on_footprint_done and done[task.key[0]] == per_fp[task.key[0]]:
            on_footprint_done(task.key[0])

    results = run_tasks(guarded, tasks, executor, workers, scheduler, tick)
    missing = [t.key for t in tasks if t.key not in results]
    if missing:  # the executors raise first; this is the last line of defence
        raise RuntimeError(f"results missing for {missing}")

    def gather(field: str) -> np.ndarray:
        """One (footprint, draw, ...) array, each task's part moved in and then dropped, so the
        roll-up never holds two copies of its results."""
        out = None
        for f, code in enumerate(codes):
            for a, b in chunks(draws, chunk_size):
                part = results[(code, a, b)].pop(field)
                if out is None:
                    out = np.empty((len(codes), draws) + part.shape[1:])
                out[f, a:b] = part
        return out

    def gather_plans(field: str) -> dict[int, np.ndarray]:
        """The (draw, ...) arrays of ``field`` that only footprints with a plan send, by place."""
        out = {}
        for f, code in enumerate(codes):
            parts = [results[(code, a, b)].pop(field, None) for a, b in chunks(draws, chunk_size)]
            if parts[0] is not None:
                out[f] = np.concatenate(parts) if len(parts) > 1 else parts[0]
        return out

    years = tuple(range(BASE_YEAR, last_year + 1))
    pop = projection_of(fps).population[: len(years)].sum(axis=(2, 3, 4)).T  # (footprint, year)
    return Rollup(
        codes=tuple(codes),
        names=tuple(f.name for f in fps),
        plan_names=tuple(names),
        years=years,
        draws=draws,
        seed=seed,
        population=pop,
        do_nothing=gather("do_nothing"),
        surplus=gather("surplus"),
        do_nothing_surplus=gather("do_nothing_surplus"),
        beds=gather("beds"),
        do_nothing_beds=gather("do_nothing_beds"),
        efficiency_saving=gather("efficiency_saving"),
        bridge={k: gather(f"bridge:{k}") for k in finance.BRIDGE_LINES},
        geography=geography_,
        do_nothing_by_kind={k: gather(f"do_nothing_kind:{k}") for k in KINDS},
        plan_activity=gather_plans("activity"),
        plan_by_kind=_by_place({k: gather_plans(f"kind:{k}") for k in KINDS}),
    )


def _by_place(by_kind: dict[str, dict[int, np.ndarray]]) -> dict[int, dict[str, np.ndarray]]:
    """{kind: {place: x}} as {place: {kind: x}}."""
    places = sorted({f for rows in by_kind.values() for f in rows})
    return {f: {k: rows[f] for k, rows in by_kind.items()} for f in places}
