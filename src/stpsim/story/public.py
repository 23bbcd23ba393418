"""The public's phrasebook: short sentences, plain words, every abbreviation explained at first
use, and uncertainty said in words ("could be as low as ... or as high as ..."), for a reader
with five minutes. The technical appendix is a separate page."""

from __future__ import annotations

from .core import Section, _gloss, council_names

_CONDITIONS = {
    "a_alternative_provision": "enough care outside hospital is in place first",
    "b_new_treatments": "proven new treatments cut the stays the beds were for",
    "c_bed_efficiency": "the hospital can use its beds as well as the average in England",
}


def title(plan_name: str, place: str) -> str:
    return f"Health and care in {place}: the plan, in plain English"


def people(ctx, oldest_faster: bool, growing: bool) -> Section:
    w, y1 = ctx.w, ctx.y1
    older = w.growth("population.85plus.first", "population.85plus.last")
    return Section(
        "people",
        "The people",
        [
            f"About {w.count('population.first')} people live in {ctx.place}. By {y1} there will be about "
            f"{w.count('population.last')}. The number of people aged {w.age(85)} or more will "
            f"{'grow' if growing else 'fall'}: {older}. "
            + (
                "Older people need more care, so the need for care grows faster than the number of people."
                if oldest_faster
                else "The need for care grows with the number of people."
            ),
        ],
    )


def pressure(ctx, beds_change: bool) -> Section | None:
    return None  # the public version goes straight to what changes


def plan(ctx, models) -> Section:
    w, f, y1 = ctx.w, ctx.f, ctx.y1
    if not models:
        return Section(
            "plan", "What the plan does", ["This plan keeps care as it is today, to show what would happen."]
        )
    listed = "; ".join(t for _, t, _ in models)
    fewer = f["difference.emergency_admissions.last"] < 0
    return Section(
        "plan",
        "What the plan does",
        [
            f"The plan brings in {w.count('plan.care_models', len(models))} new ways of working: {listed}.",
            f"By {y1} this means about {w.count('difference.emergency_admissions.last')} "
            f"{'fewer' if fewer else 'more'} emergency hospital stays a year. Care moves closer to home: about "
            f"{w.count('difference.community_nursing_contacts.last')} more visits from community nurses a year, and "
            f"about {w.count('plan.gp_consultations.last')} {_gloss('GP', ctx.story)} appointments in all.",
        ],
    )


def money(ctx, has_efficiency: bool) -> Section:
    w, f, y1 = ctx.w, ctx.f, ctx.y1
    more = "more than they get" if f["gap.do_nothing.last"] > 0 else "less than they get"
    text = (
        f"If nothing changes, the {_gloss('NHS', ctx.story)} and the councils here would spend about {w.money('gap.do_nothing.last')} "
        f"{more} in {y1}. "
    )
    if f["gap.closed_by_plan.last"] > 0:
        after = (
            f"the shortfall would be about {w.money('gap.plan.last')}"
            if f["gap.plan.last"] > 0
            else f"there would be {w.position('gap.plan.last')} instead"
        )
        text += f"With the plan, {after}. " + _range(w, f, "gap.plan.last")
        if has_efficiency and f["gap.closed_by_efficiency.last"] > 0:
            most = f["gap.closed_by_efficiency.last"] > 0.5 * f["gap.closed_by_plan.last"]
            text += (
                f"{'Most' if most else 'Part'} of the saving comes from the {_gloss('NHS', ctx.story)} running its services more "
                f"cheaply, by about {w.efficiency(ctx.results)} a year. The rest comes from the new ways of working."
            )
    else:
        text += _range(w, f, "gap.do_nothing.last")
    return Section("money", "The money", [text])


def _range(w, f: dict, key: str) -> str:
    """The 80% interval in words: 'It could be as low as £X or as high as £Y.'"""
    if f[f"{key}.p90"] < 0:  # a surplus either way: told as a surplus, smaller to larger
        return (
            f"The surplus could be anything from about {w.money(f'{key}.p90')} to {w.money(f'{key}.p10')}. "
        )
    high = w.money(f"{key}.p90")
    if f[f"{key}.p10"] < 0:
        return (
            f"It could even turn into a surplus of about {w.money(f'{key}.p10')}, or be as high as {high}. "
        )
    return f"It could be as low as {w.money(f'{key}.p10')} or as high as {high}. "


def hospitals(ctx, rows) -> Section:
    w, y1 = ctx.w, ctx.y1
    lines = []
    for name, key in rows:
        change = ctx.f[f"{key}.change.last"]
        if round(abs(change)) < 1:
            tail = "about the same as if nothing changed"
        else:
            tail = (
                f"{w.count(f'{key}.change.last')} {'fewer' if change < 0 else 'more'} than if nothing changed"
            )
        lines.append(f"{name}: about {w.count(f'{key}.plan.last')} beds, {tail}.")
    return Section(
        "hospitals",
        "Your hospitals",
        [f"In {y1}, with the plan, these {_gloss('NHS', ctx.story)} hospitals would need:", *lines],
    )


def incentives(ctx, moves) -> Section | None:
    return None  # who gains and who loses is for the board


def certainty(ctx) -> Section | None:
    return None  # said in "What we are not sure about"


def national(ctx) -> Section:
    w, y1 = ctx.w, ctx.y1
    return Section(
        "national",
        "England as a whole",
        [
            f"Across England, doing nothing would leave the {_gloss('NHS', ctx.story)} and councils about "
            f"{w.money('national.do_nothing_gap.last')} short in {y1}. {ctx.place} has "
            f"{w.share('national.share_of_people')} of England's people and "
            f"{w.share('national.share_of_gap')} of that shortfall."
        ],
    )


def no_consultation(ctx) -> Section | None:
    return None


def consultation(ctx, beds, services, flagged: bool) -> Section:
    from ..axes import parse_year

    w, y1 = ctx.w, ctx.y1
    paras = []
    for i, b, flag in beds:
        met = [k for k, c in b["conditions"].items() if c["holds"]]
        n, year = w.count(f"service.bed.{i}.closed"), w.year(parse_year(b["year"]))
        chance = w.in_ten(f"service.bed.{i}.p_short.last")
        test = (
            "The national test for closing beds is met because " + " and ".join(_CONDITIONS[k] for k in met)
            if met
            else "The national test for closing beds is not met yet. The plan does not show that care outside "
            "hospital is ready, that new treatments will cut hospital stays, or that the hospital can use its beds "
            "better"
        )
        text = (
            f"{b['trust_name']} would close {n} beds from {year}. {test}. In {chance} of our runs, the "
            f"hospital would have too few beds in {y1}."
        )
        if flag:
            text += f" A change this big needs formal consultation with local people, through {council_names(flag)} councils."
        paras.append(text)
    for j, flag in services:
        year, people_ = w.year(parse_year(flag["year"])), w.count(f"service.flag.{j}.people")
        paras.append(
            f"{flag['what']} would change from {year}, for about {people_} people. A change this big needs formal "
            f"consultation with local people, through {council_names(flag)} councils."
        )
    return Section("consultation", "Changes that need a formal consultation", paras)


def patients(ctx) -> Section | None:
    return None  # said in "What the plan does" and "Your hospitals"


def unsure(ctx) -> Section:
    w = ctx.w
    return Section(
        "unsure",
        "What we are not sure about",
        [
            "Nobody knows the future for sure. We do not know how fast the need for care will grow, how well the "
            "new ways of working will do, or how fast costs will rise.",
            f"So we ran the numbers {w.draws()} times, each time with different guesses. The plan made the "
            f"shortfall smaller in {w.in_ten('probability.plan_narrows_gap')} of these runs. It closed the "
            f"shortfall in {w.in_ten('probability.plan_balances')}.",
            "The appendix lists every guess we made and where our figures come from.",
        ],
    )


def comparison(w, verdict: str | None, name_a: str, name_b: str) -> Section:
    """What differs between two options, money first, in plain words (``verdict`` as for the
    board)."""
    diff = []
    if verdict is not None:
        said = {
            "level": "The two options would leave about the same shortfall.",
            "unsure": "We cannot tell which option would leave less to find: the difference is smaller than "
            "what we are unsure about.",
            "A": "Option A leaves less to find.",
            "B": "Option B leaves less to find.",
        }[verdict]
        diff.append(
            f"With option A ({name_a}) there would be {w.position('A.gap.plan.last')}. With option B "
            f"({name_b}) there would be {w.position('B.gap.plan.last')}. {said}"
        )
    diff.append(
        f"Emergency hospital stays: about {w.count('A.plan.emergency_admissions.last')} a year with option A and "
        f"{w.count('B.plan.emergency_admissions.last')} with option B. Beds: about {w.count('A.plan.beds.last')} "
        f"against {w.count('B.plan.beds.last')}."
    )
    return Section("comparison", "The two options compared", diff)
