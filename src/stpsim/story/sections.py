"""The story's sections: one function each, deciding what a section says; the words come from
the audience's phrasebook (``board`` or ``public``).

A section function takes the shared context and the phrasebook and returns a ``Section`` or
None (nothing to say). The dashboard and the reports call the same functions, so a section can
be changed or reused without touching the others.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..summaries import percentiles
from .core import MATERIAL, Section, Story, _models, _names, _Writer, facts, money_text, service_facts


@dataclass
class Context:
    """What every section shares: the results, their facts, the writer that records each number
    printed, and the place and years."""

    results: object
    f: dict
    w: _Writer
    story: Story
    place: str
    y0: str
    y1: str
    national: object
    public: bool

    @property
    def models(self) -> list[tuple[str, str, float]]:
        return _models(self.results, self.public)


def people(ctx: Context, book) -> Section:
    f = ctx.f
    oldest_faster = (
        f["population.85plus.last"] / f["population.85plus.first"]
        > f["population.last"] / f["population.first"]
    )
    growing = f["population.85plus.last"] >= f["population.85plus.first"]
    return book.people(ctx, oldest_faster, growing)


def pressure(ctx: Context, book) -> Section:
    from .core import count_text

    f = ctx.f
    beds_change = count_text(f["do_nothing.beds.last"]) != count_text(f["do_nothing.beds.first"])
    return book.pressure(ctx, beds_change)


def plan(ctx: Context, book) -> Section:
    return book.plan(ctx, ctx.models)


def money(ctx: Context, book) -> Section | None:
    if ctx.results.finance is None:
        return None
    return book.money(ctx, "gap.closed_by_efficiency.last" in ctx.f)


def hospitals(ctx: Context, book) -> Section | None:
    """The named hospitals: the beds each would need in the last year, with and without the plan."""
    rows = []
    for fp in ctx.results.plan.places:
        for t in fp.acute_trusts:
            key = f"trust.{t.code}.beds"
            if f"{key}.plan.last" in ctx.f:
                rows.append((t.name, key))
    if not rows:
        return None
    return book.hospitals(ctx, rows)


def incentives(ctx: Context, book) -> Section | None:
    if ctx.results.finance is None:
        return None
    f = ctx.f
    moves = []
    for name, title, _ in ctx.models:
        gains = {k.split(".", 2)[2]: v for k, v in f.items() if k.startswith(f"incentive.{name}.")}
        if not gains:
            continue
        best, worst = max(gains, key=gains.get), min(gains, key=gains.get)
        moves.append(
            (
                name,
                title,
                best if gains[best] >= MATERIAL else None,
                worst if gains[worst] <= -MATERIAL else None,
            )
        )
    return book.incentives(ctx, moves)


def certainty(ctx: Context, book) -> Section | None:
    if ctx.results.finance is None:
        return None
    return book.certainty(ctx)


def national(ctx: Context, book) -> Section | None:
    if ctx.national is None:
        return None
    return book.national(ctx)


def consultation(ctx: Context, book) -> Section | None:
    """What needs formal consultation: bed closures against the beds test, the proposals likely
    to be substantial variations and the councils to consult."""
    sc_plan = ctx.results.plan.service_changes
    if sc_plan is None or not (sc_plan.beds or sc_plan.services):
        return book.no_consultation(ctx)
    sc = ctx.results.document["service_change"]  # the run record's, with the attested tests
    ctx.f.update(service_facts(sc))
    flags = {(fl["what"], fl["year"]): fl for fl in sc["consultation"]}
    closed = [b for b in sc["beds_test"] if b["change"] < 0]
    beds = [
        (i, b, flags.get((f"{-b['change']} beds at {b['trust_name']}", b["year"])))
        for i, b in enumerate(closed)
    ]
    services = [(j, fl) for j, fl in enumerate(sc["consultation"]) if fl["proposal"] != "bed reduction"]
    return book.consultation(ctx, beds, services, bool(sc["consultation"]))


def patients(ctx: Context, book) -> Section | None:
    return book.patients(ctx)


def unsure(ctx: Context, book) -> Section | None:
    if ctx.results.finance is None:
        return None
    return book.unsure(ctx)


SectionFn = Callable[[Context, object], Section | None]

# Each audience's sections, in order. The board reads the whole case; the public reads what
# changes for them and what we are not sure about, in a few minutes.
ORDER: dict[str, tuple[SectionFn, ...]] = {
    "board": (people, pressure, plan, money, incentives, certainty, national, consultation, patients),
    "public": (people, plan, hospitals, money, consultation, unsure, national),
}


def tell(results, audience: str = "board", national_=None) -> Story:
    """The plan's story for a board or for the public."""
    from . import board, public
    from .core import AUDIENCES

    if audience not in AUDIENCES:
        raise ValueError(f"unknown audience {audience!r}; allowed: {', '.join(AUDIENCES)}")
    book = {"board": board, "public": public}[audience]
    place = _names(results)
    story = Story(audience, book.title(results.plan.name, place), [])
    f = facts(results, national_)
    w = _Writer(f, story)
    ctx = Context(
        results=results,
        f=f,
        w=w,
        story=story,
        place=place,
        y0=w.year(results.years[0]),
        y1=w.year(results.years[-1]),
        national=national_,
        public=audience == "public",
    )
    for section in ORDER[audience]:
        s = section(ctx, book)
        if s is not None:
            story.sections.append(s)
    return story


def compare(a, b, audience: str = "board") -> Story:
    """Two options: what differs first (money and activity), then each option's story."""
    from . import board, public

    book = {"board": board, "public": public}[audience]
    sa, sb = tell(a, audience), tell(b, audience)
    fa, fb = facts(a), facts(b)
    merged = Story(audience, f"Two options: {a.plan.name} and {b.plan.name}", [], sa.numbers + sb.numbers)
    both = {**{f"A.{k}": v for k, v in fa.items()}, **{f"B.{k}": v for k, v in fb.items()}}
    verdict = None
    if a.finance is not None and b.finance is not None:
        both |= gap_difference(a, b)
        verdict = which_is_lower(both)
    w = _Writer(both, merged)
    merged.sections.append(book.comparison(w, verdict, a.plan.name, b.plan.name))
    for label, s, plan_name in (("Option A", sa, a.plan.name), ("Option B", sb, b.plan.name)):
        for sec_ in s.sections:
            merged.sections.append(
                Section(f"{label}.{sec_.key}", f"{label} ({plan_name}): {sec_.title}", sec_.paragraphs)
            )
    return merged


def gap_difference(a, b) -> dict[str, float]:
    """Option B's last-year gap less option A's: mean and 80% interval. Worked out draw by draw
    when the two runs share their draws and seed (common random numbers: the noise both share
    cancels), else only the difference of the means (no interval)."""
    ga, gb = a.finance.gap("plan")[:, -1], b.finance.gap("plan")[:, -1]
    same_draws = ga.shape == gb.shape and a.plan.monte_carlo.seed == b.plan.monte_carlo.seed
    d = gb - ga if same_draws else np.array([gb.mean() - ga.mean()])
    p10, p90 = percentiles(d, (10, 90))
    out = {"diff.gap.last": float(d.mean())}
    if same_draws:
        out |= {"diff.gap.last.p10": float(p10), "diff.gap.last.p90": float(p90)}
    return out


def which_is_lower(f: dict[str, float]) -> str:
    """ "A" or "B" (the option that leaves less to find), "level" when the two shortfalls round
    to the same words (a difference the text would hide is never stated), or "unsure" when the
    draw-by-draw difference's 80% interval spans nought."""
    if money_text(f["A.gap.plan.last"]) == money_text(f["B.gap.plan.last"]):
        return "level"
    if f.get("diff.gap.last.p10", -1.0) < 0 < f.get("diff.gap.last.p90", -1.0):
        return "unsure"
    return "B" if f["diff.gap.last"] < 0 else "A"
