"""Shoe size: one plan run for a whole footprint and for each of its parts (CCGs, sub-ICB
locations or councils), to show what the size of a footprint changes.

Each part is the same plan drawn on the part's small areas. Runs share the seed, so national
parameters (growth, effects, prices) are drawn alike in every run and the parts' gaps can be
summed draw by draw; activity noise is keyed by area, so a small area carries more of it per
head. What scale changes, per head in the plan's last year:

- the gap, and how sure we are of it (the width of its 80% interval: pooled risk);
- money leaving the area: care bought from providers outside the footprint, and care bought
  from trusts whose catchment lies mostly elsewhere (the part cannot steer their costs);
- who gains and who loses from each care model (the incentive matrix).
"""

from __future__ import annotations

import numpy as np

from .. import geography
from ..axes import year_label
from ..finance import PlanFinance
from ..plan import CustomFootprint, Plan
from ..summaries import STATS, summarise
from .errors import Invalid
from .responses import Model, Summary

SPLIT_KIND = {"ccg": "ccgs", "sub_icb": "sub_icb_locations", "local_authority": "local_authorities"}


class AreaSize(Model):
    code: str
    name: str
    population: float
    gap: Summary  # GBP, last year
    gap_per_head: Summary
    do_nothing_gap_per_head: float
    interval_width_per_head: float  # p90 - p10 of the gap, per head
    out_of_area_per_head: float  # paid to providers outside the footprint, mean
    shared_trusts_per_head: float  # paid to trusts whose catchment lies outside the area, mean
    incentives: dict[str, dict[str, float]]  # care model -> organisation name -> mean GBP gain
    incentives_by_kind: dict[str, dict[str, float]]  # care model -> kind of organisation -> mean GBP


class ShoeSizeResponse(Model):
    plan: str
    split: str
    year: str
    whole: AreaSize
    parts: list[AreaSize]
    parts_summed: AreaSize  # the parts' books added draw by draw
    note: str


NOTE = (
    "Each part runs the same plan on its own small areas, with the same seed. Trusts serve the "
    "people of their 2017 footprint (assumption trust_catchment_by_population), so a part pays "
    "trusts whose catchment mostly lies elsewhere: 'shared trusts'. A wider interval per head "
    "in the parts is risk the whole footprint pooled."
)


def _stats(x: np.ndarray) -> Summary:
    s = summarise(x)
    return Summary(**{k: round(float(s[k]), 2) for k in STATS})


def _area(code: str, name: str, fp: geography.Footprint | None, fin, pop: float) -> AreaSize:
    """One area's figures from its books (``finance.PlanFinance``), per head of ``pop``."""
    books = fin.footprints
    dn = fin.do_nothing
    gap = sum(b.gap[:, -1] for b in books)
    dn_gap = sum(b.gap[:, -1] for b in dn)
    ooa = sum(b.income[[o.id for o in b.orgs].index("out_of_area"), :, -1] for b in books)
    shared = 0.0
    if fp is not None:
        inside = _catchment_inside(fp)
        for b in books:
            for i, o in enumerate(b.orgs):
                if o.kind == "acute":
                    shared = shared + b.income[i, :, -1] * (
                        1.0 - inside.get(o.id.removeprefix("acute:"), 1.0)
                    )
    names = {(b.code, o.id): o.name for b in books for o in b.orgs}
    kinds = {(b.code, o.id): o.kind for b in books for o in b.orgs}
    incentives: dict[str, dict[str, float]] = {}
    by_kind: dict[str, dict[str, float]] = {}
    for (cm, c, org), g in fin.incentives.items():
        label, kind = names.get((c, org), org), kinds.get((c, org), "external")
        gain = float(np.mean(g))
        cells, kinds_ = incentives.setdefault(cm, {}), by_kind.setdefault(cm, {})
        cells[label] = round(cells.get(label, 0.0) + gain, 2)
        kinds_[kind] = round(kinds_.get(kind, 0.0) + gain, 2)
    s = summarise(gap)
    return AreaSize(
        code=code,
        name=name,
        population=round(pop),
        gap=_stats(gap),
        gap_per_head=_stats(gap / pop),
        do_nothing_gap_per_head=round(float(np.mean(dn_gap)) / pop, 2),
        interval_width_per_head=round(float(s["p90"] - s["p10"]) / pop, 2),
        out_of_area_per_head=round(float(np.mean(ooa)) / pop, 2),
        shared_trusts_per_head=round(float(np.mean(shared)) / pop, 2),
        incentives=incentives,
        incentives_by_kind=by_kind,
    )


def _catchment_inside(fp: geography.Footprint) -> dict[str, float]:
    """Each of ``fp``'s trusts: the share of its catchment (its 2017 footprint's people) living
    in ``fp``."""
    sa = geography.small_areas()
    pop = sa.bands_2018.sum(axis=1)
    stps = sa.codes["stp17cd"]
    mine = np.zeros(sa.n, dtype=bool)
    mine[fp.lsoas] = True
    out = {}
    for stp, trusts in geography.trusts_by_stp().items():
        in_stp = stps == stp
        share = pop[in_stp & mine].sum() / pop[in_stp].sum()
        for t in trusts:
            out[t.code] = float(share)
    return out


def part_plans(plan: Plan, by: str) -> list[tuple[geography.Footprint, Plan]]:
    """Each part of the plan's one footprint, with the plan redrawn on it."""
    if by not in SPLIT_KIND:
        raise Invalid(f"--split {by!r} is not allowed; allowed: {', '.join(SPLIT_KIND)}")
    if len(plan.footprints) != 1:
        raise Invalid(f"footprints: shoe-size splits one footprint; this plan has {len(plan.footprints)}")
    whole = plan.places[0]
    parts = geography.split(whole, by)
    if len(parts) < 2:
        raise Invalid(f"--split {by}: {whole.name} is a single {by.replace('_', ' ')}; nothing to split")
    within = plan.footprints[0]
    out = []
    for part in parts:
        ref = CustomFootprint.model_validate(
            {"name": part.name, SPLIT_KIND[by]: part.definition[SPLIT_KIND[by]], "within": within}
        )
        out.append((part, plan.model_copy(update={"footprints": [ref]})))
    return out


def shoe_size(plan: Plan, by: str) -> ShoeSizeResponse:
    from ..engine import RunTooLarge, check_size, run

    parts = part_plans(plan, by)
    try:
        check_size(plan, runs=len(parts) + 1)  # the whole and every part are held together
        whole_results = run(plan)
        part_results = [run(p) for _, p in parts]
    except RunTooLarge as e:
        raise Invalid(f"draws: {e}") from None
    whole = plan.places[0]
    pop = float(whole_results.population[-1].sum())
    areas = []
    for (fp, _), r in zip(parts, part_results, strict=True):
        areas.append(_area(fp.code, fp.name, fp, r.finance, float(r.population[-1].sum())))

    together = PlanFinance(  # the parts' books, added draw by draw
        tuple(b for r in part_results for b in r.finance.footprints),
        tuple(b for r in part_results for b in r.finance.do_nothing),
        {k: v for r in part_results for k, v in r.finance.incentives.items()},
    )
    summed = _area("parts", "The parts together", None, together, sum(a.population for a in areas))
    shared = sum(a.shared_trusts_per_head * a.population for a in areas) / max(summed.population, 1.0)
    summed = summed.model_copy(update={"shared_trusts_per_head": round(shared, 2)})
    return ShoeSizeResponse(
        plan=plan.name,
        split=by,
        year=year_label(plan.last_year),
        whole=_area(whole.code, whole.name, whole, whole_results.finance, pop),
        parts=areas,
        parts_summed=summed,
        note=NOTE,
    )
