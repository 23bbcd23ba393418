"""Run a plan: draw parameters, apply growth and care models to the baseline, add noise.

Everything is vectorised over draws. Care models act on classes of cells: the (age, segment)
cells that share the same set of targeting interventions, so the per-draw work scales with the
number of classes (a handful), not with people or cells. The do-nothing counterfactual is
computed in the same pass with the same growth draws and the same activity noise (common random
numbers), so the difference between plan and do-nothing is not drowned by noise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from . import activity, finance, geography
from .adoption import Adopted, adopted_interventions
from .axes import AGES, ALL_SETTINGS, BASE_YEAR, SEGMENTS, SETTINGS, YEARS, five_year_band_of_age
from .baseline import projection_of
from .capacity import CAPACITY, capacity  # noqa: F401 - the engine's capacity step, re-exported
from .geography import Footprint
from .parameters import NOISE_STREAM, ParameterDraws, standard_normals
from .plan import GROWTH_KEYS, Plan
from .reference import ReferenceData, use
from .results import Results
from .run_parameters import declare


def parameter_draws(plan: Plan, draws: range) -> ParameterDraws:
    """Every parameter of ``plan`` (``run_parameters.declare``) drawn once for ``draws``. A
    calibrated plan's draw d takes the parameters of its prior draw ``prior_draws[d]``."""
    mc = plan.monte_carlo
    if mc.calibration is None:
        return declare(plan).draw(mc.seed, draws)
    prior = np.asarray(mc.calibration.prior_draws[draws.start : draws.stop])
    every = declare(plan).draw(mc.seed, range(int(prior.max()) + 1))
    return ParameterDraws(every.ids, every.values[prior], draws.start, every.noise)


def growth_factors(plan: Plan, params: ParameterDraws) -> np.ndarray:
    """Multiplier on each setting's rate by (draw, year, setting) from non-demographic growth."""
    g = {k: params[f"growth/{k}"] / 100.0 for k in GROWTH_KEYS}
    elapsed = np.arange(plan.first_year, plan.last_year + 1) - BASE_YEAR
    rate = np.zeros((params.values.shape[0], len(SETTINGS)))
    for i, k in enumerate(SETTINGS):
        if k == "emergency_bed_days":
            rate[:, i] = (1 + g["emergency_admissions"]) * (1 + g["emergency_length_of_stay"]) - 1
        elif k == "elective_bed_days":
            rate[:, i] = (1 + g["elective_admissions"]) * (1 + g["elective_length_of_stay"]) - 1
        else:
            rate[:, i] = g[k]
    return (1.0 + rate[:, None, :]) ** elapsed[None, :, None]


_BED_DAYS_OF = {"emergency_bed_days": "emergency_admissions", "elective_bed_days": "elective_admissions"}


def effect_draws(adopted: list[Adopted], params: ParameterDraws) -> np.ndarray:
    """Effect of each intervention on each setting's targeted rate, shape (intervention, draw,
    setting). Bed days fall with avoided admissions as well as with any length-of-stay effect."""
    e = np.zeros((len(adopted), params.values.shape[0], len(SETTINGS)))
    for i, a in enumerate(adopted):
        for k in a.spec.effects:
            e[i, :, SETTINGS.index(k)] = params[f"effect/{a.spec.name}/{k}"]
        for bed, adm in _BED_DAYS_OF.items():
            b, m = SETTINGS.index(bed), SETTINGS.index(adm)
            e[i, :, b] = 1.0 - (1.0 - e[i, :, m]) * (1.0 - e[i, :, b])
    return e


@dataclass(frozen=True)
class Substitution:
    """What one care model creates elsewhere: units of setting ``target`` per unit of setting
    ``source`` it avoids, by draw, one row per pair its YAML declares. Most of the (from, to)
    pairs are zero, so only the declared ones are held and worked out."""

    source: np.ndarray  # (pair,) place in SETTINGS
    target: np.ndarray  # (pair,) place in ALL_SETTINGS
    rate: np.ndarray  # (pair, draw)


def substitution_draws(adopted: list[Adopted], params: ParameterDraws) -> list[Substitution]:
    """Each intervention's substitution rates by draw (``Substitution``)."""
    out = []
    for a in adopted:
        pairs = [(src, dst) for src, creates in a.spec.substitution.items() for dst in creates]
        rate = [params[f"substitution/{a.spec.name}/{src}/{dst}"] for src, dst in pairs]
        out.append(
            Substitution(
                source=np.array([SETTINGS.index(src) for src, _ in pairs], dtype=int),
                target=np.array([ALL_SETTINGS.index(dst) for _, dst in pairs], dtype=int),
                rate=np.array(rate).reshape(len(pairs), params.values.shape[0]),
            )
        )
    return out


def cell_classes(adopted: list[Adopted]) -> tuple[np.ndarray, np.ndarray]:
    """Group (age, segment) cells by which interventions target them.

    Returns the class of every cell (age*segment,) and the membership matrix (class, intervention).
    """
    if not adopted:
        return np.zeros(len(AGES) * len(SEGMENTS), dtype=int), np.zeros((1, 0), dtype=bool)
    m = np.stack([a.spec.target.mask().ravel() for a in adopted], axis=1)  # (cell, intervention)
    members, cls = np.unique(m, axis=0, return_inverse=True)
    return cls.ravel(), members


@dataclass(frozen=True)
class RunArrays:
    """The numbers of one run over a block of draws (everything summed over sex, age, segment)."""

    expected: np.ndarray  # (draw, year, footprint, all_setting) plan, before noise
    do_nothing_expected: np.ndarray
    activity: np.ndarray  # plan, with Poisson noise
    do_nothing: np.ndarray
    avoided: np.ndarray  # (intervention, draw, year, footprint, setting) expected units avoided
    targeted_people: np.ndarray  # (year, footprint, intervention)
    demographic: np.ndarray  # (year, footprint, all_setting) expected from demography alone
    # With ``alone``: each adopted care model adopted by itself, the same noise and draws (the
    # incentive matrix's scenarios), worked out in the same pass instead of a run each.
    alone: tuple[RunArrays, ...] = ()
    # (all_setting,) True where ``activity`` may differ from ``do_nothing``: the settings the
    # care models act on or create, from their definitions (None: any setting may differ).
    moved: np.ndarray | None = None


def as_footprints(items: Sequence[str | Footprint]) -> list[Footprint]:
    """Footprints, or preset codes and names resolved to them."""
    return [x if isinstance(x, Footprint) else geography.find(x) for x in items]


def run_block(
    plan: Plan,
    footprints: Sequence[str | Footprint],
    draws: range,
    params: ParameterDraws | None = None,
    alone: bool = False,
) -> RunArrays:
    """The core of a run for ``footprints`` over ``draws``, with the run's parameter draws
    (``params``, drawn here when not given); ``alone``: each care model by itself too."""
    seed = plan.monte_carlo.seed
    params = parameter_draws(plan, draws) if params is None else params.sliced(draws)
    fps = as_footprints(footprints)
    proj = projection_of(fps)
    t0 = plan.first_year - int(YEARS[0])
    pop = proj.population[t0 : t0 + plan.last_year - plan.first_year + 1]  # (T, F, S, A, G)
    rates = activity.rates().rates  # (K, S, A, G)
    n_t, n_f = pop.shape[:2]
    cells = np.einsum("tfsag,ksag->tfkag", pop, rates)
    for f, fp in enumerate(fps):  # a footprint's own activity table scales its rates by age band
        if fp.local is not None and fp.local.activity is not None:
            cells[:, f] *= fp.local.activity[:, five_year_band_of_age()][None, :, :, None]
    cells = cells.reshape(n_t, n_f, len(SETTINGS), -1)

    adopted = adopted_interventions(plan)
    cls, members = cell_classes(adopted)
    n_c = members.shape[0]
    by_class = np.zeros((n_t, n_f, len(SETTINGS), n_c))
    for c in range(n_c):  # classes are few (cells sharing the same targeting interventions)
        by_class[..., c] = cells[..., cls == c].sum(axis=-1)
    targeted = (
        np.stack(
            [
                pop.sum(axis=2).reshape(n_t, n_f, -1)[..., a.spec.target.mask().ravel()].sum(axis=-1)
                for a in adopted
            ],
            axis=-1,
        )
        if adopted
        else np.zeros((n_t, n_f, 0))
    )

    growth = growth_factors(plan, params)  # (D, T, K)
    effects = effect_draws(adopted, params)  # (I, D, K)
    subs = substitution_draws(adopted, params)
    n_d = len(draws)
    # Class-major: each class's share still to avoid is one contiguous (D, T, K) block, and a
    # care model touches only the classes it targets.
    remaining = np.ones((n_c, n_d, n_t, len(SETTINGS)))
    each_class = np.moveaxis(by_class, -1, 0)[:, None]  # (C, 1, T, F, K)
    avoided = np.zeros((len(adopted), n_d, n_t, n_f, len(SETTINGS)))
    for i, a in enumerate(adopted):  # a plan adopts at most tens of interventions
        x = effects[i][:, None, :] * a.level()[None]  # (D, T, K)
        for c in np.flatnonzero(members[:, i]):
            avoided[i] += each_class[c] * (remaining[c] * x)[:, :, None, :]
            remaining[c] *= 1.0 - x
        avoided[i] *= growth[:, :, None, :]
    dn = by_class.sum(axis=-1)[None] * growth[:, :, None, :]  # (D, T, F, K)
    plan_core = sum(each_class[c] * remaining[c][:, :, None, :] for c in range(n_c)) * growth[:, :, None, :]
    # Where none of the plan's care models acts, its expected activity is the do-nothing's
    # exactly (summed by class it would differ in the last bits), so the books can tell the
    # settings the plan moves from its definition, the same in every chunk of draws.
    acted = sorted({k for a in adopted for k in _acted_on(a).tolist()})
    untouched = [k for k in range(len(SETTINGS)) if k not in acted]
    plan_core[..., untouched] = dn[..., untouched]
    # Substitution follows units actually avoided: a draw in which a care model adds activity
    # creates nothing elsewhere (and never a negative amount).
    n_extra = len(ALL_SETTINGS) - len(SETTINGS)
    pad = np.zeros(dn.shape[:-1] + (n_extra,))
    expected = np.concatenate([plan_core, pad], axis=-1)
    for i in range(len(adopted)):
        substituted(avoided[i], subs[i], expected)
    dn_expected = np.concatenate([dn, pad], axis=-1)

    years = np.arange(plan.first_year, plan.last_year + 1) - int(YEARS[0])
    z = np.stack(
        [
            standard_normals(
                seed, NOISE_STREAM, (fp.stream,), draws, width=len(YEARS) * len(ALL_SETTINGS)
            ).reshape(n_d, len(YEARS), len(ALL_SETTINGS))[:, years]
            for fp in fps
        ],
        axis=2,
    )  # (D, T, F, K_all)
    if not params.noise:  # a designed run (the tornado): expected activity, no noise
        z = np.zeros_like(z)
    do_nothing = poisson_noise(dn_expected, z)
    demographic = np.concatenate([by_class.sum(axis=-1), pad[0]], axis=-1)
    each = ()
    if alone:
        each = tuple(
            _alone(i, a, by_class, members, effects, subs, growth, z, dn_expected, do_nothing)
            for i, a in enumerate(adopted)
        )
        each = tuple(
            RunArrays(**fields, targeted_people=targeted[..., [i]], demographic=demographic)
            for i, fields in enumerate(each)
        )
    return RunArrays(
        expected=expected,
        do_nothing_expected=dn_expected,
        activity=poisson_noise(expected, z),
        do_nothing=do_nothing,
        avoided=avoided,
        targeted_people=targeted,
        demographic=demographic,
        alone=each,
        moved=_moved(np.array(acted, dtype=np.intp), subs),
    )


def _alone(i, a, by_class, members, effects, subs, growth, z, dn_expected, do_nothing) -> dict:
    """Care model ``i`` adopted by itself: its effect on the activity of the cells it targets,
    what it creates elsewhere, and the same noise as the plan's (common random numbers). Alone,
    a model's avoided units are linear in its effect: effect x targeted activity x growth."""
    # Only the settings it has an effect on or creates differ from doing nothing: elsewhere its
    # expected activity and noise are the do-nothing's, so its numbers there are those exactly,
    # and it avoids nothing. The settings are the ones its definition names, whatever the draws
    # (an effect drawn as zero in every draw of a chunk still counts), so every chunking of the
    # draws declares the same ones and works its books out the same way.
    acts = _acted_on(a)
    mask = _moved(acts, [subs[i]])
    moved = np.flatnonzero(mask)
    x = effects[i][:, None, acts] * a.level()[None][..., acts]  # (D, T, acts)
    targeted = by_class[:, :, acts] @ members[:, i].astype(float)  # (T, F, acts) of the cells it targets
    avoided = np.zeros(dn_expected.shape[:-1] + (len(SETTINGS),))  # (D, T, F, K)
    avoided[..., acts] = x[:, :, None, :] * targeted[None] * growth[:, :, None, acts]
    expected = dn_expected.copy()
    expected[..., acts] = dn_expected[..., acts] - avoided[..., acts]
    substituted(avoided, subs[i], expected)
    activity = do_nothing.copy()
    activity[..., moved] = poisson_noise(expected[..., moved], z[..., moved])
    return {
        "expected": expected,
        "do_nothing_expected": dn_expected,
        "activity": activity,
        "do_nothing": do_nothing,
        "avoided": avoided[None],
        "moved": mask,
    }


def _acted_on(a: Adopted) -> np.ndarray:
    """Places in SETTINGS of the settings care model ``a`` has an effect on: those its
    definition names, and the bed days of the admissions it avoids (``effect_draws``)."""
    named = set(a.spec.effects)
    named |= {bed for bed, adm in _BED_DAYS_OF.items() if adm in named}
    return np.array([k for k, name in enumerate(SETTINGS) if name in named], dtype=np.intp)


def _moved(acts: np.ndarray, subs: list[Substitution]) -> np.ndarray:
    """(all_setting,) The settings care models move: those they act on (``acts``, places in
    SETTINGS) and those their substitutions create."""
    mask = np.zeros(len(ALL_SETTINGS), dtype=bool)
    mask[acts] = True
    for sub in subs:
        mask[np.asarray(sub.target, dtype=np.intp)] = True
    return mask


def substituted(avoided: np.ndarray, sub: Substitution, out: np.ndarray | None = None) -> np.ndarray:
    """(D, T, F, K_all) activity a care model creates elsewhere from the units it avoids
    (D, T, F, K) by its substitution rates (``sub``), added into ``out`` when given (and
    returned). Pair by pair, elementwise: a draw's numbers never depend on which other draws
    share its chunk."""
    if out is None:
        out = np.zeros(avoided.shape[:-1] + (len(ALL_SETTINGS),))
    for src, dst, rate in zip(sub.source, sub.target, sub.rate, strict=True):
        out[..., dst] += np.maximum(avoided[..., src], 0.0) * rate[:, None, None]
    return out


def poisson_noise(mean: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Poisson noise in its normal limit, mean + sqrt(mean) * z, floored at zero.

    Footprint-year totals are tens of thousands or more, where the normal limit is exact to well
    under 1%; sharing z between plan and do-nothing keeps the comparison tight (common random
    numbers) and monotone: a lower mean never gives a higher count for counts above 16."""
    return np.maximum(mean + np.sqrt(mean) * z, 0.0)


def central_plan_activity(plan: Plan) -> np.ndarray:
    """Do-nothing expected activity at central growth by (year, footprint, setting): what
    contracts are planned on."""
    bare = plan.model_copy(update={"interventions": []})
    central = declare(bare).draw(bare.monte_carlo.seed, range(1), z={})  # every parameter central
    return run_block(bare, plan.places, range(1), central).do_nothing_expected[0]


def footprint_books(
    plan: Plan,
    arr: RunArrays,
    f: int,
    params: finance.FinanceParams,
    chosen: list[Adopted] | None,
    scenario: str,
    planned: np.ndarray,
    shared: finance.Shared | None = None,
    efficiency: np.ndarray | None = None,
    costs: finance.CareModelCosts | None = None,
) -> finance.FootprintFinance:
    """One footprint's books for ``scenario``: "plan" (the adopted care models ``chosen`` and the
    plan's provider efficiency), "care_model" (``chosen`` alone, no efficiency: the incentive
    matrix) or "do_nothing". Every scenario is costed against the same do-nothing activity, so
    the footprint's scenarios can share what does not change (``shared``). ``efficiency``: the
    plan's provider efficiency by draw, where it is not the run's own (an optimiser's option).
    ``costs``: the costs of ``chosen`` in this footprint, when already worked out."""
    fp = plan.places[f]
    years = np.arange(plan.first_year, plan.last_year + 1)
    cm = costs
    if cm is None and chosen:
        cm = finance.care_model_costs(chosen, arr.targeted_people, f, years, params)
    dn = arr.do_nothing[:, :, f]
    sc = finance.Scenario(
        activity=dn if scenario == "do_nothing" else arr.activity[:, :, f],
        do_nothing=dn,
        demographic=arr.demographic[:, f],
        planned=planned[:, f],
        care_models=cm,
        with_efficiency=scenario == "plan",
        efficiency=efficiency,
        declared_moves=None if scenario == "do_nothing" else arr.moved,
    )
    return finance.footprint_finance(fp, plan.finance, years, sc, params, shared)


def plan_finance(
    plan: Plan, arrays: RunArrays, draws: ParameterDraws | range, incentives: bool = True
) -> finance.PlanFinance:
    """Books of every organisation under the plan and under do-nothing, and the incentive matrix:
    each care model's effect, adopted alone, on each organisation's surplus in the last year
    (``incentives``) and in every year (``incentives_by_year``), with each care model's
    investment and running cost by footprint (``care_model_costs``). ``draws``: the run's
    parameter draws, shared by every scenario and every care model's pass.
    ``plan`` must start in 2016/17 (``run`` and ``incentive_matrix`` see to that). A range of
    draws is drawn here."""
    if isinstance(draws, range):
        draws = parameter_draws(plan, draws)
    params = finance.finance_parameters(draws)
    adopted = adopted_interventions(plan)
    n_f = len(plan.places)
    planned = central_plan_activity(plan)
    shared = [finance.Shared() for _ in range(n_f)]  # one per footprint, for all its scenarios
    years = np.arange(plan.first_year, plan.last_year + 1)
    costs = tuple(
        finance.care_model_costs(adopted, arrays.targeted_people, f, years, params) for f in range(n_f)
    )
    do_nothing = [
        footprint_books(plan, arrays, f, params, None, "do_nothing", planned, shared[f]) for f in range(n_f)
    ]
    with_plan = [
        footprint_books(plan, arrays, f, params, adopted, "plan", planned, shared[f], costs=costs[f])
        for f in range(n_f)
    ]
    gains: dict[tuple[str, str, str], np.ndarray] = {}
    by_year: dict[tuple[str, str, str], np.ndarray] = {}
    if incentives:
        codes = plan.codes
        dn_surplus = [b.surplus for b in do_nothing]
        for i, a in enumerate(adopted):  # one extra pass per adopted care model
            alone = plan.model_copy(update={"interventions": [plan.interventions[i]]})
            arr = arrays.alone[i] if arrays.alone else run_chunked(alone, plan.places, draws)
            chosen = adopted_interventions(alone)
            for f in range(n_f):
                fin = footprint_books(
                    alone, arr, f, params, chosen, "care_model", planned, shared[f], costs=costs[f].only(i)
                )
                every_year = fin.surplus - dn_surplus[f]  # (org, draw, year)
                for o, org in enumerate(fin.orgs):
                    if org.kind != "external":
                        gains[(a.spec.name, codes[f], org.id)] = every_year[o, :, -1]
                        by_year[(a.spec.name, codes[f], org.id)] = every_year[o]
    return finance.PlanFinance(tuple(with_plan), tuple(do_nothing), gains, by_year, costs)


def from_base_year(plan: Plan) -> Plan:
    """The same plan worked out from 2016/17: ramps, ward openings and base-year books all
    start there, whatever the reporting window."""
    return plan if plan.first_year == BASE_YEAR else plan.model_copy(update={"start_year": BASE_YEAR})


def plan_books(
    plan: Plan, incentives: bool = True, draws: ParameterDraws | None = None
) -> tuple[RunArrays, finance.PlanFinance]:
    """Activity and books of ``plan`` from 2016/17 (not yet cut to its reporting window), with
    the run's parameter ``draws`` (drawn here once when not given). The one declared engine call
    a counterfactual makes: the tornado passes designed draws (one parameter pinned, no noise)."""
    full = from_base_year(plan)
    if draws is None:
        draws = parameter_draws(full, range(plan.monte_carlo.draws))
    arrays = run_chunked(full, plan.places, draws, alone=incentives)
    return arrays, plan_finance(full, arrays, draws, incentives)


def incentive_matrix(plan: Plan) -> finance.PlanFinance:
    """The books and incentive matrix of ``plan``, cut to its reporting window: the same numbers
    ``run`` gives."""
    _, fin = plan_books(plan)
    t0 = plan.first_year - BASE_YEAR
    return fin.sliced(t0) if t0 else fin


CHUNK = 1024  # draws per block of work: bounds peak memory whatever the number of draws
MEMORY_LIMIT = 6 * 2**30  # bytes the results of one run may take


class RunTooLarge(ValueError):
    """A run whose results would not fit in memory; the message says how to shrink it."""


# Bytes one draw of one year of one footprint takes at its peak, measured (Greater Manchester,
# 2,000 and 8,000 draws, 9 care models: 14.4 KB): the arrays of activity, capacity and every
# organisation's books, and each care model's pass of the incentive matrix.
BYTES_PER_DRAW_YEAR = 2048
BYTES_PER_CARE_MODEL = 1400


def available_memory() -> int | None:
    """Bytes of memory this machine has free for new work (Linux's MemAvailable), or None."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def run_bytes(plan: Plan) -> int:
    """The bytes a run of ``plan`` takes at its peak (the measured per draw-year figures)."""
    years = plan.last_year - plan.first_year + 1
    per_draw = (
        years * len(plan.footprints) * (BYTES_PER_DRAW_YEAR + BYTES_PER_CARE_MODEL * len(plan.interventions))
    )
    return plan.monte_carlo.draws * per_draw


def memory_limit() -> tuple[int, str]:
    """The most a run (or runs held together) may take, and how to say it: ``MEMORY_LIMIT``, or
    less when the machine has less free."""
    free = available_memory()
    if free is None or free * 0.8 >= MEMORY_LIMIT:
        return MEMORY_LIMIT, f"the limit is {MEMORY_LIMIT / 2**30:.0f} GiB"
    return int(free * 0.8), f"this machine has about {free / 2**30:.1f} GiB free"


def check_size(plan: Plan, runs: int = 1) -> None:
    """Refuse a run whose arrays would not fit (``runs``: that many such runs held together,
    as shoe-size holds the whole and its parts), with the draws that would fit."""
    need = run_bytes(plan) * runs
    limit, where = memory_limit()
    if need > limit:
        years = plan.last_year - plan.first_year + 1
        per_draw = need // plan.monte_carlo.draws
        held = f" (x {runs} runs held together)" if runs > 1 else ""
        raise RunTooLarge(
            f"this run would need about {need / 2**30:.1f} GiB for {plan.monte_carlo.draws} draws x "
            f"{years} years x {len(plan.footprints)} footprints x {len(plan.interventions)} care models"
            f"{held}; "
            f"{where}: use at most {max(limit // per_draw, 1):,} draws, or fewer years or footprints"
        )


def run_chunked(
    plan: Plan, footprints: Sequence[str | Footprint], draws: ParameterDraws | range, alone: bool = False
) -> RunArrays:
    """run_block over chunks of the draws (the run's parameter draws, or a range to draw here),
    joined. Identical to one block (draws are keyed)."""
    if isinstance(draws, range):
        draws = parameter_draws(plan, draws)
    span = draws.draws
    parts = [
        run_block(plan, footprints, range(a, min(a + CHUNK, span.stop)), draws, alone)
        for a in range(span.start, span.stop, CHUNK)
    ]
    return parts[0] if len(parts) == 1 else _joined(parts)


def _joined(parts: list[RunArrays], common: dict[str, np.ndarray] | None = None) -> RunArrays:
    """The chunks' arrays joined along the draws. Each care model alone shares the plan's
    do-nothing (``common``): the same arrays, as in one block."""
    common = common or {}
    join = {
        f: common[f]
        if f in common
        else np.concatenate([getattr(p, f) for p in parts], axis=1 if f == "avoided" else 0)
        for f in ("expected", "do_nothing_expected", "activity", "do_nothing", "avoided")
    }
    dn = {f: join[f] for f in ("do_nothing_expected", "do_nothing")}
    each = tuple(_joined([p.alone[i] for p in parts], dn) for i in range(len(parts[0].alone)))
    moved = [p.moved for p in parts]
    return RunArrays(
        **join,
        targeted_people=parts[0].targeted_people,
        demographic=parts[0].demographic,
        alone=each,
        moved=None if any(m is None for m in moved) else np.logical_or.reduce(moved),
    )


def run(plan: Plan, incentives: bool = True, reference: ReferenceData | None = None) -> Results:
    """Run ``plan`` with all its draws in this process and return its Results: activity,
    capacity, every organisation's finances, (unless ``incentives`` is False) the incentive
    matrix, and the parameters drawn (every declared parameter, once). ``reference``: the
    national tables to read (default: the current ones, ``reference.current``).

    The work always starts from 2016/17 and is then cut to the plan's years, so the reporting
    window never changes the numbers (ramps, ward openings and base-year books all start there).
    """
    with use(reference):
        return _run(plan, incentives)


def _run(plan: Plan, incentives: bool) -> Results:
    check_size(plan)
    full = from_base_year(plan)
    draws = parameter_draws(full, range(plan.monte_carlo.draws))
    arrays, fin = plan_books(plan, incentives, draws)
    cap = capacity(arrays.activity, draws)
    dn_cap = capacity(arrays.do_nothing, draws)
    t0 = plan.first_year - BASE_YEAR
    if t0:
        arrays = RunArrays(
            expected=arrays.expected[:, t0:],
            do_nothing_expected=arrays.do_nothing_expected[:, t0:],
            activity=arrays.activity[:, t0:],
            do_nothing=arrays.do_nothing[:, t0:],
            avoided=arrays.avoided[:, :, t0:],
            targeted_people=arrays.targeted_people[t0:],
            demographic=arrays.demographic[t0:],
        )
        cap = {k: v[:, t0:] for k, v in cap.items()}
        dn_cap = {k: v[:, t0:] for k, v in dn_cap.items()}
        fin = fin.sliced(t0)
    return Results.from_arrays(plan, arrays, cap, dn_cap, fin, draws)
