"""`stpsim optimise`: the care-model, efficiency and contract mix that minimises a plan's mean
gap in its last year with every organisation's worst 5% within its limit, then verified by a
full run of the engine.

The options' effects come from one engine pass (``engine.run_chunked`` with every option as a
care model adopted alone, on the run's parameter draws) and one set of books per option and
per contract preset; the programme (``analysis.optimise``) chooses; the choice becomes a plan
document that ``run_plan`` runs in full.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..summaries import percentiles
from .errors import Invalid

GAP_TOLERANCE_SHARE = 0.05  # the full run's mean gap within 5% of the linear model's (care models overlap)
VERIFY_ROUNDS = 3  # times a limit broken in the full run is tightened and the mix chosen again
RUNNER_UP_SHARE = 0.01  # runner-ups: choices whose mean gap is within 1% of the best's
ALTERNATIVES = 5  # next-best choices found (the runner-ups and EVPPI's candidate actions)
EVPPI_TOP = 5


@dataclass(frozen=True)
class Option:
    kind: str  # "care_model" or "efficiency"
    label: str
    name: str = ""  # the care model
    coverage: float = 0.0
    full: int | None = None  # the year it reaches full coverage (None: the default roll-out)
    efficiency: Any = None  # an Interval


def candidate_models(plan) -> list[str]:
    """The care models the optimiser may adopt: the plan's list or the library, at or above the
    plan's evidence grade."""
    from ..analysis.service_change import evidence_grade
    from ..interventions import library
    from ..plan import EVIDENCE_ORDER

    spec = plan.optimise
    lib = library()
    custom = {c.name: c for c in plan.custom_interventions}
    names = list(spec.care_models) if spec.care_models is not None else list(lib)
    if spec.min_evidence is None:
        return names
    allowed = set(EVIDENCE_ORDER[EVIDENCE_ORDER.index(spec.min_evidence) :])
    return [n for n in names if evidence_grade(custom.get(n) or lib[n])[0] in allowed]


def _options(plan) -> list[Option]:
    from ..axes import parse_year, year_label

    spec = plan.optimise
    fulls = [None] if not spec.full_years else sorted({parse_year(str(y)) for y in spec.full_years})
    out = [
        Option(
            "care_model", f"{n} at {c:.0%}" + ("" if f is None else f", full from {year_label(f)}"), n, c, f
        )
        for n in candidate_models(plan)
        for c in spec.coverage
        for f in fulls
    ]
    levels = spec.efficiency or [plan.finance.provider_efficiency or national_efficiency()]
    out += [Option("efficiency", f"efficiency {iv.low:g}% to {iv.high:g}%", efficiency=iv) for iv in levels]
    return out


def national_efficiency():
    """The national assumption of provider efficiency (``provider_efficiency_achieved``) as an
    80% interval, % a year: what a plan that names none is offered."""
    from .. import assumptions
    from ..parameters import Interval

    a = assumptions.get("provider_efficiency_achieved")
    return Interval(low=a.low, high=a.high)


def _adoption(name: str, coverage: float, full: int | None):
    from ..plan import Adoption, ramp_to

    return Adoption(name=name, coverage=coverage, ramp=None if full is None else ramp_to(full))


def _adoptions(options: list[Option]):
    return [_adoption(o.name, o.coverage, o.full) for o in options if o.kind == "care_model"]


@dataclass(frozen=True)
class Built:
    """The programme for one contract preset, and what it was built from."""

    contracts: str
    problem: Any  # analysis.optimise.Problem
    options: tuple[Option, ...]  # the problem's options, in its order
    orgs: tuple[tuple[str, str], ...]  # (id, name) of every organisation constrained
    every: Any  # the plan with every care-model option adopted: its declared parameters
    draws: Any  # their draws
    original_limits: np.ndarray  # (org,) the plan's limits, GBP, before any correction
    contract_changes: dict = field(default_factory=dict)  # the finance fields its contracts set


def _books_last_year(fins) -> tuple[np.ndarray, np.ndarray]:
    """Each organisation's deficit (org, draw) and the system gap (draw,) in the last year."""
    deficits = np.concatenate(
        [-f.surplus[[o.kind != "external" for o in f.orgs]][:, :, -1] for f in fins], axis=0
    )
    return deficits, sum(-f.system_surplus[:, -1] for f in fins)


@dataclass(frozen=True)
class Pass:
    """The one engine pass every contract preset shares: each care-model option adopted alone
    (activity does not depend on how providers are paid), on the run's parameter draws."""

    every: Any  # the plan with every care-model option adopted
    draws: Any  # its declared parameters' draws
    arrays: Any  # engine.RunArrays, with ``alone`` per option
    adopted: list
    planned: np.ndarray
    options: tuple[Option, ...]
    # each care-model option's investment (mean GBP over the plan's years): the same under any
    # contracts, so worked out for the first and kept
    investment: dict[int, float] = field(default_factory=dict, compare=False)


def engine_pass(plan) -> Pass:
    from .. import engine
    from ..adoption import adopted_interventions

    base = engine.from_base_year(plan)
    options = tuple(_options(plan))
    cm = [o for o in options if o.kind == "care_model"]
    every = base.model_copy(update={"interventions": _adoptions(cm)})
    try:
        engine.check_size(every)  # every option's arrays are held at once
    except engine.RunTooLarge as e:
        raise Invalid(
            f"draws: the options to search (care models x coverage x roll-out years): {e}"
        ) from None
    draws = engine.parameter_draws(every, range(plan.monte_carlo.draws))
    arrays = engine.run_chunked(every, base.places, draws, alone=True)
    return Pass(
        every, draws, arrays, adopted_interventions(every), engine.central_plan_activity(base), options
    )


def _contract_changes(contracts) -> dict:
    """The finance fields a contract option sets: none (the plan's own), a preset, or a preset
    with its terms (``plan.ContractChoice``)."""
    if contracts is None:
        return {}
    if isinstance(contracts, str):
        return {"contracts": contracts}
    return contracts.changes()


def _contract_label(plan, contracts) -> str:
    if contracts is None:
        return _own_contracts(plan)
    return contracts if isinstance(contracts, str) else contracts.label(_own_contracts(plan))


def _under(plan, contracts, **finance_changes):
    """``plan`` from 2016/17 with a contract option (None: its own; a preset; a preset with its
    terms) and other finance changes."""
    from .. import engine

    base = engine.from_base_year(plan)
    finance_changes = _contract_changes(contracts) | finance_changes
    if not finance_changes:
        return base
    return base.model_copy(update={"finance": base.finance.model_copy(update=finance_changes)})


def _care_model_effects(base, ps: Pass, dn, params, shared) -> tuple[list, list, list]:
    """Each care-model option's change to the gap (draw,) and to every organisation's deficit
    (org, draw), alone, and its investment over the plan's years (mean, GBP)."""
    from .. import engine, finance

    deficit0, gap0 = _books_last_year(dn)
    dgap, ddef, cost = [], [], []
    n_f = len(base.places)
    for k, a in enumerate(ps.adopted):
        alone = base.model_copy(update={"interventions": [ps.every.interventions[k]]})
        arr = ps.arrays.alone[k]
        fins = [
            engine.footprint_books(alone, arr, f, params, [a], "care_model", ps.planned, shared[f])
            for f in range(n_f)
        ]
        d, g = _books_last_year(fins)
        dgap.append(g - gap0)
        ddef.append(d - deficit0)
        if k not in ps.investment:
            years = base_years(base)
            invest = [
                finance.care_model_costs([a], arr.targeted_people, f, years, params) for f in range(n_f)
            ]
            ps.investment[k] = float(sum(c.investment.sum(axis=(0, 2)).mean() for c in invest))
        cost.append(ps.investment[k])
    return dgap, ddef, cost


def _workforce_effects(plan, ps: Pass) -> np.ndarray | None:
    """Whole-time equivalents each option adds by staff group in the last year (mean over draws),
    from its activity alone against do-nothing (``analysis.workforce``); None without limits."""
    from ..analysis.workforce import STAFF_GROUPS, factor_draws, wte_by_group
    from ..axes import ALL_SETTINGS
    from ..capacity import capacity

    if not plan.optimise.workforce_limits:
        return None
    f = factor_draws(ps.draws)
    base = wte_by_group(capacity(ps.arrays.do_nothing, ps.draws), ps.arrays.do_nothing, ALL_SETTINGS, f)
    rows = []
    for o, k in zip(ps.options, range(len(ps.options)), strict=True):
        if o.kind != "care_model":
            rows.append(np.zeros(len(STAFF_GROUPS)))
            continue
        arr = ps.arrays.alone[k]
        wte = wte_by_group(capacity(arr.activity, ps.draws), arr.activity, ALL_SETTINGS, f)
        rows.append(np.array([(wte[g][:, -1] - base[g][:, -1]).mean() for g in STAFF_GROUPS]))
    return np.array(rows)


def _efficiency_effects(plan, contracts, ps: Pass, dn, books: tuple) -> tuple[list, list]:
    """Each provider-efficiency option's change to the gap and every organisation's deficit,
    against do-nothing activity and books (``dn``). An option changes only the efficiency drawn
    (each parameter has its own random stream), so its books are the contract option's
    (``books``: its plan, finance parameters and shared books) with that efficiency."""
    from .. import engine, finance

    base, params, shared = books
    still = replace(
        ps.arrays, activity=ps.arrays.do_nothing, expected=ps.arrays.do_nothing_expected, alone=(), moved=None
    )
    d0, g0 = _books_last_year(dn)
    dgap, ddef = [], []
    for o in (o for o in ps.options if o.kind == "efficiency"):
        level = _under(plan, contracts, provider_efficiency=o.efficiency)
        drawn = finance.finance_parameters(engine.parameter_draws(level, range(plan.monte_carlo.draws)))
        after = [
            engine.footprint_books(
                base, still, f, params, None, "plan", ps.planned, shared[f], efficiency=drawn.efficiency
            )
            for f in range(len(base.places))
        ]
        d1, g1 = _books_last_year(after)
        dgap.append(g1 - g0)
        ddef.append(d1 - d0)
    return dgap, ddef


def build(plan, contracts: str | None, ps: Pass | None = None) -> Built:
    """The programme under ``contracts`` (a preset, or None for the plan's own): the options'
    effects by draw on the gap and every organisation's deficit in the last year."""
    from .. import engine, finance
    from ..analysis import optimise as opt

    ps = ps or engine_pass(plan)
    base = _under(plan, contracts)
    n_f = len(base.places)
    params = finance.finance_parameters(ps.draws)
    shared = [finance.Shared() for _ in range(n_f)]
    dn = [
        engine.footprint_books(base, ps.arrays, f, params, None, "do_nothing", ps.planned, shared[f])
        for f in range(n_f)
    ]
    deficit0, gap0 = _books_last_year(dn)
    dgap, ddef, cost = _care_model_effects(base, ps, dn, params, shared)
    eff_gap, eff_def = _efficiency_effects(plan, contracts, ps, dn, (base, params, shared))
    orgs = tuple(
        (o.id if n_f == 1 else f"{f.code}:{o.id}", o.name) for f in dn for o in f.orgs if o.kind != "external"
    )
    cm = [o for o in ps.options if o.kind == "care_model"]
    groups = tuple(
        tuple(i for i, o in enumerate(cm) if o.name == name) for name in dict.fromkeys(o.name for o in cm)
    )
    problem = opt.Problem(
        options=tuple(o.label for o in ps.options),
        groups=groups + (tuple(range(len(cm), len(ps.options))),),
        exactly_one=tuple(False for _ in groups) + (True,),
        gap0=gap0,
        dgap=np.array(dgap + eff_gap),
        deficit0=deficit0,
        ddeficit=np.array(ddef + eff_def),
        limits=_limits(plan, orgs),
        cost=np.array(cost + [0.0] * len(eff_gap)),
        budget=None if plan.optimise.investment_budget is None else plan.optimise.investment_budget * 1e6,
        beta=plan.optimise.cvar_level,
        orgs=tuple(i for i, _ in orgs),
        objective_beta=plan.optimise.objective_level if plan.optimise.objective == "cvar" else None,
        **_workforce_terms(plan, ps),
        **_closure_terms(ps),
    )
    return Built(
        _contract_label(plan, contracts),
        problem,
        ps.options,
        orgs,
        ps.every,
        ps.draws,
        problem.limits.copy(),
        _contract_changes(contracts),
    )


def _closure_terms(ps: Pass) -> dict:
    """The beds test for each significant closure (``closure_requirements``): the chosen care
    models move at least the closed beds' bed days out of the trust, and either the extra
    community and primary-care sessions their care needs by then are within those the plan adds
    (condition a) or one of them is a new treatment (condition b). Each option's bed days and
    sessions are its own, alone; options that are not care models move and need none."""
    from ..analysis.service_change import (
        bed_days_moved_by,
        closure_requirements,
        is_new_treatment,
        sessions_needed_by,
    )
    from ..capacity import capacity
    from ..service_change import CAPACITY_MEASURES

    needs = closure_requirements(ps.every, ps.draws["capacity/bed_occupancy"])
    if not needs:
        return {}
    n_o, n_m, n_c = len(ps.options), len(CAPACITY_MEASURES), len(needs)
    moved, sessions = np.zeros((n_o, n_c)), np.zeros((n_o, n_m, n_c))
    dn = capacity(ps.arrays.do_nothing, ps.draws)
    for k in range(len(ps.adopted)):
        alone = ps.arrays.alone[k].activity
        cap = capacity(alone, ps.draws)
        for c, need in enumerate(needs):
            moved[k, c] = bed_days_moved_by(ps.arrays.do_nothing, alone, need)
            sessions[k, :, c] = list(sessions_needed_by(dn, cap, need).values())
    treats = np.array([is_new_treatment(a.spec) for a in ps.adopted] + [False] * (n_o - len(ps.adopted)))
    return {
        "moved": moved,
        "moved_needed": np.array([n["given"] for n in needs]),
        "sessions": sessions,
        "sessions_added": np.array([[n["added"][m] for n in needs] for m in CAPACITY_MEASURES]),
        "new_treatment": treats.astype(float),
    }


def _workforce_terms(plan, ps: Pass) -> dict:
    from ..analysis.workforce import STAFF_GROUPS

    effects = _workforce_effects(plan, ps)
    if effects is None:
        return {}
    limits = plan.optimise.workforce_limits
    return {
        "workforce": effects,
        "workforce_limits": np.array([limits.get(g, np.inf) for g in STAFF_GROUPS]),
        "groups_of_staff": STAFF_GROUPS,
    }


def base_years(plan) -> np.ndarray:
    return np.arange(plan.first_year, plan.last_year + 1)


def _own_contracts(plan) -> str:
    c = plan.finance.contracts
    return c if isinstance(c, str) else "the plan's own contracts"


def _limits(plan, orgs) -> np.ndarray:
    spec = plan.optimise
    ids = [i for i, _ in orgs]
    unknown = sorted(set(spec.deficit_limits) - set(ids))
    if unknown:
        raise Invalid(
            f"optimise.deficit_limits: {', '.join(unknown)} is not an organisation of this plan; "
            f"allowed: {', '.join(ids)}"
        )
    default = np.inf if spec.deficit_limit is None else spec.deficit_limit * 1e6
    return np.array([spec.deficit_limits[i] * 1e6 if i in spec.deficit_limits else default for i in ids])


def _summary(x: np.ndarray) -> dict[str, float]:
    p10, p90 = percentiles(x, (10, 90))
    return {"mean": float(x.mean()), "p10": float(p10), "p90": float(p90)}


def _choice(b: Built, x: np.ndarray) -> dict:
    """A solution in words: the care models and coverage, the efficiency, the contracts."""
    from ..axes import year_label

    chosen = [b.options[i] for i in np.flatnonzero(x > 0.5)]
    eff = next(o.efficiency for o in chosen if o.kind == "efficiency")
    return {
        "care_models": [
            {"name": o.name, "coverage": o.coverage}
            | ({} if o.full is None else {"full_from": year_label(o.full)})
            for o in chosen
            if o.kind == "care_model"
        ],
        "efficiency": {"low": eff.low, "high": eff.high},
        "contracts": b.contracts,
        "contract_terms": b.contract_changes,
    }


def proposed_plan(plan, choice: dict):
    """The chosen mix as a plan document: the plan's care models, efficiency and contracts
    replaced by the choice, everything else as written."""
    from ..axes import parse_year
    from ..parameters import Interval

    fin = {"provider_efficiency": Interval(**choice["efficiency"])} | choice.get("contract_terms", {})
    return plan.model_copy(
        update={
            "name": f"{plan.name} (optimised)",
            "interventions": [
                _adoption(c["name"], c["coverage"], parse_year(c["full_from"]) if "full_from" in c else None)
                for c in choice["care_models"]
            ],
            "finance": plan.finance.model_copy(update=fin),
        }
    )


def optimise(plan) -> dict[str, Any]:
    """The optimiser's answer for ``plan`` (its ``optimise`` section, or the defaults): the
    document ``stpsim optimise --json`` prints."""
    return optimise_with_draws(plan)[0]


def optimise_with_draws(plan) -> tuple[dict[str, Any], np.ndarray | None]:
    """``optimise``'s document and the full run's gap in the last year by draw (None when no mix
    meets the limits): what England's sum needs."""
    from ..analysis import optimise as opt
    from ..plan import Optimise

    if plan.optimise is None:
        plan = plan.model_copy(update={"optimise": Optimise()})
    ps = engine_pass(plan)  # one pass of activity, whatever the contracts
    built = [build(plan, preset, ps) for preset in plan.optimise.contracts or [None]]
    solved = [(b, opt.solve(b.problem)) for b in built]
    feasible = [(b, s) for b, s in solved if s is not None]
    if not feasible:
        return _infeasible(plan, built), None
    b, best = min(feasible, key=lambda t: (round(t[1].objective, -3), _tightest(t[0].problem, t[1])))
    return _answer(plan, b, best, [(bb, s) for bb, s in solved if bb is not b])


def _tightest(p, s) -> float:
    """The largest share of its limit any organisation's CVaR takes: contract presets move money
    between organisations but not the system's gap, so among equal gaps the roomiest wins."""
    finite = np.isfinite(p.limits)
    return float(np.max(s.cvars[finite] / np.maximum(p.limits[finite], 1.0))) if finite.any() else 0.0


def _verified(plan, b: Built, best):
    """Run the chosen mix in full; where an organisation's CVaR in the full run breaks its limit
    (the linear model adds care models that overlap), tighten that limit in the programme by the
    difference and choose again, at most VERIFY_ROUNDS times. Returns the built problem as last
    solved, its solution, the full run's results and how many corrections were made."""
    from .. import engine
    from ..analysis import optimise as opt

    for correction in range(VERIFY_ROUNDS + 1):
        results = engine.run(proposed_plan(plan, _choice(b, best.x)), incentives=False)
        deficits, _ = _books_last_year(results.finance.footprints)
        full = np.array([opt.cvar(d, b.problem.beta) for d in deficits])
        over = full > b.original_limits + opt.TOLERANCE
        if not over.any() or correction == VERIFY_ROUNDS:
            return b, best, results, correction
        limits = b.problem.limits.copy()
        limits[over] -= full[over] - best.cvars[over]
        tighter = replace(b, problem=opt._with(b.problem, limits=limits))
        again = opt.solve(tighter.problem)
        if again is None:
            return b, best, results, correction
        b, best = tighter, again
    raise AssertionError("unreachable")


def _infeasible(plan, built: list[Built]) -> dict:
    from ..analysis import optimise as opt

    relaxations = []
    for b in built:
        out = opt.solve(b.problem, slack=True)
        if out is None:
            continue
        sol, needed = out
        relaxations.append(
            {
                "contracts": b.contracts,
                "relax": [
                    {"constraint": _constraint_words(b, k), "by_gbp": v} for k, v in sorted(needed.items())
                ],
                "choice": _choice(b, sol.x),
            }
        )
    relaxations.sort(key=lambda r: sum(x["by_gbp"] for x in r["relax"]))
    return {
        "plan": plan.name,
        "feasible": False,
        "relaxations": relaxations,
        "hard_limits": _hard_limits(built[0]),
    }


def _hard_limits(b: Built) -> list[str]:
    """The limits no relaxation of money can meet, in words: a bed closure whose bed days the
    options cannot move out of its trust, or a staff group the options cannot stay within."""
    from ..analysis.service_change import closure_requirements

    p, out = b.problem, []
    if p.moved is not None:
        needs = closure_requirements(b.every, b.draws["capacity/bed_occupancy"])
        short = []
        for j, need in enumerate(needs):
            best = sum(max(0.0, float(p.moved[list(g), j].max())) for g in p.groups)
            if best < p.moved_needed[j]:
                short.append(j)
                out.append(
                    f"the beds closed at {need['trust_name']} in {need['year']} gave about "
                    f"{p.moved_needed[j]:,.0f} bed days a year; these care models move at most {best:,.0f} "
                    "out of the trust by then (the beds test's conditions a and b need them moved)"
                )
        out += _closure_conditions_unmet(p, needs, short)
    if p.workforce_limits is not None:
        for g in np.flatnonzero(np.isfinite(p.workforce_limits)):
            least = sum(min(0.0, float(p.workforce[list(grp), g].min())) for grp in p.groups)
            if least > p.workforce_limits[g]:
                group = p.groups_of_staff[g].replace("_", " ")
                out.append(f"no mix keeps {group} within {p.workforce_limits[g]:g} WTE")
    return out


def _closure_conditions_unmet(p, needs: list[dict], short: list[int]) -> list[str]:
    """The closures that no mix meets by condition (a) or (b) whatever the money, when their bed
    days can be moved: none of the options is a new treatment, and every mix that moves the bed
    days needs more sessions than the plan adds by then."""
    from ..analysis import optimise as opt
    from ..story.core import listed

    if p.sessions is None or p.new_treatment.any() or short:
        return []
    free = replace(p, limits=np.full_like(p.limits, np.inf), budget=None)
    if opt.solve(free) is not None:
        return []

    def added(n: dict) -> str:
        return listed([f"{v:,.0f} {m.replace('_', ' ')}" for m, v in n["added"].items()])

    return [
        f"the beds closed at {n['trust_name']} in {n['year']} need condition a or b of the beds test: "
        "none of these care models is a new treatment with at least moderate evidence (b), and every "
        "mix that moves the bed days needs more community or primary-care sessions a year by then "
        f"than the plan adds ({added(n)}: a)"
        for n in needs
    ]


def _constraint_words(b: Built, key: str) -> str:
    if key == "budget":
        return "the investment budget"
    org = key.removeprefix("limit:")
    return f"the deficit limit of {dict(b.orgs).get(org, org)}"


def _answer(plan, b: Built, best, others: list) -> tuple[dict, np.ndarray]:
    from ..analysis import optimise as opt

    b, best, results, corrections = _verified(plan, b, best)
    p = b.problem
    choice = _choice(b, best.x)
    proposal = proposed_plan(plan, choice)
    fin = results.finance
    verified_deficits, verified_gap = _books_last_year(fin.footprints)
    verified_cvar = np.array([opt.cvar(d, p.beta) for d in verified_deficits])
    predicted_gap = p.gap(best.x)
    alts = opt.alternatives(p, best, ALTERNATIVES)
    runner_ups = [
        {"choice": _choice(b, s.x), "objective_gbp": s.objective}
        for s in alts
        if s.objective <= best.objective + RUNNER_UP_SHARE * abs(best.objective)
    ]
    binding = opt.binding(p, best)
    budget = opt.budget_binding(p, best)
    organisations = [
        {
            "id": oid,
            "name": name,
            "limit": None if not np.isfinite(b.original_limits[o]) else float(b.original_limits[o]),
            "meets_limit_in_full_run": bool(verified_cvar[o] <= b.original_limits[o] + opt.TOLERANCE),
            "cvar_predicted": float(best.cvars[o]),
            "cvar_verified": float(verified_cvar[o]),
            "binding": o in binding,
            "gap_cost_of_limit": binding.get(o),
            "shadow_price_per_gbp": opt.shadow_price(p, best, o) if o in binding else None,
        }
        for o, (oid, name) in enumerate(b.orgs)
    ]
    doc = {
        "plan": plan.name,
        "feasible": True,
        "draws": plan.monte_carlo.draws,
        "seed": plan.monte_carlo.seed,
        "year": results.year_labels[-1],
        "objective": _objective_words(plan.optimise),
        "objective_gbp": best.objective,
        "cvar_level": p.beta,
        "choice": choice,
        "predicted": {"gap": _summary(predicted_gap)},
        "verified": {
            "gap": _summary(verified_gap),
            "difference_gbp": float(verified_gap.mean() - predicted_gap.mean()),
            "largest_cvar_difference_gbp": float(np.max(np.abs(verified_cvar - best.cvars)))
            if len(best.cvars)
            else 0.0,
        },
        "organisations": organisations,
        "binding": [organisations[o]["name"] for o in binding]
        + (["the investment budget"] if budget else [])
        + [f"the limit on {t if t[:2].isupper() else t[0].lower() + t[1:]}" for t in _binding_staff(p, best)],
        "budget": None
        if p.budget is None
        else {
            "limit": p.budget,
            "used": float(p.cost @ best.x),
            "binding": budget is not None,
            "gap_cost_of_limit": budget,
            "shadow_price_per_gbp": opt.budget_shadow_price(p, best) if budget is not None else None,
        },
        "workforce": _workforce_rows(p, best, results),
        "beds_test": _beds_test_rows(proposal, results),
        "runner_ups": runner_ups,
        "other_contracts": [
            {
                "contracts": bb.contracts,
                "feasible": s is not None,
                "objective_gbp": None if s is None else s.objective,
            }
            for bb, s in others
        ],
        "evppi": _evppi(p, b, best, alts),
        "corrections": corrections,
        "rounds": best.rounds,
        "cuts": best.cuts,
        "plan_document": proposal.model_dump(mode="json", exclude_none=True),
    }
    return doc, verified_gap


def _beds_test_rows(proposal, results) -> list[dict] | None:
    """The full beds test of the proposal's closures in the full run (``beds_test``): which pass,
    and why not where one fails. None when the plan closes no beds."""
    from ..analysis.service_change import beds_test

    rows = beds_test(proposal, results)
    if not rows:
        return None
    return [
        {
            "trust": r["trust_name"],
            "year": r["year"],
            "change": r["change"],
            "significant": r["significant"],
            "passes": r["passes"],
            "conditions": {k: c["holds"] for k, c in (r.get("conditions") or {}).items()},
        }
        for r in rows
    ]


def _binding_staff(p, best) -> list[str]:
    from ..analysis import optimise as opt
    from ..analysis.workforce import TITLES

    return [TITLES[p.groups_of_staff[g]] for g in opt.workforce_binding(p, best)]


def _workforce_rows(p, best, results) -> list[dict] | None:
    """Each staff group with a limit: the WTE the chosen care models add in the last year,
    predicted and in the full run, and whether the limit changes the answer."""
    from ..analysis import optimise as opt
    from ..analysis.workforce import TITLES, wte_arrays

    if p.workforce_limits is None:
        return None
    full = wte_arrays(results)
    binding = opt.workforce_binding(p, best)
    rows = []
    for g, group in enumerate(p.groups_of_staff):
        if not np.isfinite(p.workforce_limits[g]):
            continue
        rows.append(
            {
                "group": group,
                "title": TITLES[group],
                "limit": float(p.workforce_limits[g]),
                "added_predicted": float(best.x @ p.workforce[:, g]),
                "added_full_run": float(
                    (full["plan"][group][:, -1] - full["do_nothing"][group][:, -1]).mean()
                ),
                "binding": g in binding,
                "gap_cost_of_limit": binding.get(g),
            }
        )
    return rows


def _objective_words(spec) -> str:
    if spec.objective == "cvar":
        return f"the mean of the worst {1 - spec.objective_level:.0%} of the gap in the last year"
    return "the mean gap in the last year"


def _evppi(p, b: Built, best, alts) -> list[dict]:
    """The value of knowing each declared parameter before choosing among the best choice and
    the next best: GBP of mean gap, the largest first."""
    from ..analysis import optimise as opt
    from ..run_parameters import declare

    actions = [best.x] + [s.x for s in alts]
    values = -np.array([p.gap(x) for x in actions])  # (action, draw): a smaller gap is better
    out = []
    registry = declare(b.every)
    for par in registry:
        if not par.uncertain or par.id not in b.draws:
            continue
        v = opt.evppi(values, b.draws[par.id])
        out.append({"id": par.id, "title": par.title, "evppi_gbp": v})
    out.sort(key=lambda d: -d["evppi_gbp"])
    return out[:EVPPI_TOP]


# ---- England: every footprint, the national gap closed in expectation? ------------------------


def _national_task(code: str, plan) -> dict:
    """One footprint's optimisation in a worker: the compact answer and its gap by draw."""
    from .. import engine

    doc, gap = optimise_with_draws(plan)
    if gap is None:  # no mix meets its limits: it stays as written
        gap = engine.run(plan, incentives=False).finance.gap("plan")[:, -1]
    return {"doc": {k: v for k, v in doc.items() if k != "plan_document"}, "gap": gap}


def national_plans(plans: dict, draws: int, seed: int) -> dict:
    """Each footprint's plan to optimise, at ``draws`` and ``seed``: its own from ``plans`` with
    its optimise section (or the defaults), else do-nothing offered the library's care models and
    the national assumption of provider efficiency (``provider_efficiency_achieved``, 1% to 3% a
    year; do-nothing itself has none)."""
    from ..geography import preset
    from ..plan import Optimise
    from ..rollup import do_nothing_plan

    out = {}
    for fp in preset("stp2017"):
        if fp.code in plans:
            base = plans[fp.code][1]
            spec = base.optimise or Optimise()
        else:
            base = do_nothing_plan(fp.code, 2020)
            spec = Optimise(efficiency=[national_efficiency()])
        mc = base.monte_carlo.model_copy(update={"draws": draws, "seed": seed})
        out[fp.code] = base.model_copy(update={"monte_carlo": mc, "optimise": spec})
    return out


def optimise_national(
    plans: dict, draws: int, seed: int, executor: str = "local", workers: int | None = None
) -> dict[str, Any]:
    """Every footprint optimised (its plan's options and limits, or the defaults), in parallel
    on the roll-up's executors, and England's gap in 2020/21 summed draw by draw: is it closed
    in expectation? Each footprint's mean gap is minimised on its own and the means add up, so
    when the sum is above nought no choice of these options closes England's gap; the answer
    says by how much it falls short."""
    from ..executors import Task, guarded, run_tasks
    from ..geography import preset

    chosen = national_plans(plans, draws, seed)
    tasks = [Task((code, 0, draws), (_national_task, code, p)) for code, p in chosen.items()]
    results = run_tasks(guarded, tasks, executor, workers)
    names = {fp.code: fp.name for fp in preset("stp2017")}
    rows, total = [], np.zeros(draws)
    for t in tasks:
        code = t.key[0]
        r = results[t.key]
        total = total + r["gap"]
        d = r["doc"]
        rows.append(
            {
                "code": code,
                "name": names[code],
                "plan": "own" if code in plans else "do-nothing",
                "feasible": d["feasible"],
                "choice": d.get("choice"),
                "gap": _summary(r["gap"]),
                "binding": d.get("binding", []),
            }
        )
    england = _summary(total)
    return {
        "draws": draws,
        "seed": seed,
        "year": "2020/21",
        "footprints": rows,
        "england": {
            "gap": england,
            "closed_in_expectation": england["mean"] <= 0,
            "shortfall_gbp": max(england["mean"], 0.0),
            "probability_closed": float((total <= 0).mean()),
        },
    }
