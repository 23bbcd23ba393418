"""The board's phrasebook: a board paper's words for each section. Numbers are printed through
the context's writer, so every one is recorded with the fact it came from."""

from __future__ import annotations

from ..contract_terms import contracts_title
from .core import Section, _kind_name, council_names

_CONDITIONS = {
    "a_alternative_provision": "enough care outside hospital is in place first",
    "b_new_treatments": "proven new treatments cut the admissions the beds served",
    "c_bed_efficiency": "the hospital can use its beds as efficiently as England's average",
}


def title(plan_name: str, place: str) -> str:
    return f"{plan_name}: what the plan means for {place}"


def people(ctx, oldest_faster: bool, growing: bool) -> Section:
    w, y0, y1 = ctx.w, ctx.y0, ctx.y1
    older = w.growth("population.85plus.first", "population.85plus.last")
    return Section(
        "people",
        "The people and how they will change",
        [
            f"{ctx.place} has {w.count('population.first')} residents in {y0}, rising to "
            f"{w.count('population.last')} by {y1} ({w.growth('population.first', 'population.last')}). People "
            f"aged {w.age(85)} and over go from {w.count('population.85plus.first')} to "
            f"{w.count('population.85plus.last')} ({older})."
            + (
                " The oldest use the most care, so demand grows faster than the population."
                if oldest_faster
                else " The oldest are not the fastest-growing group here."
            ),
        ],
    )


def pressure(ctx, beds_change: bool) -> Section:
    w, y0, y1 = ctx.w, ctx.y0, ctx.y1
    em = w.growth("do_nothing.emergency_admissions.first", "do_nothing.emergency_admissions.last")
    return Section(
        "pressure",
        "The pressure on each service if nothing changes",
        [
            f"With no change in how care is given, emergency admissions rise from "
            f"{w.count('do_nothing.emergency_admissions.first')} to "
            f"{w.count_pm('do_nothing.emergency_admissions.last')} a year by {y1} ({em}). Hospitals would need "
            f"{w.count_pm('do_nothing.beds.last')} beds at the target occupancy, "
            + (f"against {w.count('do_nothing.beds.first')} " if beds_change else "much the same as ")
            + f"in {y0}. A&E attendances reach {w.count('do_nothing.ae_attendances.last')} "
            f"({w.growth('do_nothing.ae_attendances.first', 'do_nothing.ae_attendances.last')}), GP consultations "
            f"{w.count('do_nothing.gp_consultations.last')} and community nursing visits "
            f"{w.count('do_nothing.community_nursing_contacts.last')} "
            f"({w.growth('do_nothing.community_nursing_contacts.first', 'do_nothing.community_nursing_contacts.last')}).",
        ],
    )


def plan(ctx, models) -> Section:
    w, f, y1 = ctx.w, ctx.f, ctx.y1
    if not models:
        return Section(
            "plan", "What the plan does", ["The plan adopts no care models: it is the do-nothing case."]
        )
    listed = "; ".join(f"{t} ({w.percent('coverage', c)} coverage)" for _, t, c in models)
    avoided = f["difference.emergency_admissions.last"]
    return Section(
        "plan",
        "What the plan does",
        [
            f"The plan adopts {w.count('plan.care_models', len(models))} care models: {listed}.",
            f"By {y1} they {'avoid' if avoided < 0 else 'add'} {w.count_pm('difference.emergency_admissions.last')} "
            f"emergency admissions a year and {'free' if f['difference.beds.last'] < 0 else 'need'} "
            f"{w.count_pm('difference.beds.last')} beds. "
            f"Work moves out of hospital: {w.count('difference.community_nursing_contacts.last')} more community "
            f"nursing visits, {w.count('difference.gp_consultations.last')} more GP consultations and "
            f"{w.count('difference.hospital_at_home_days.last')} hospital-at-home days a year.",
        ],
    )


def money(ctx, has_efficiency: bool) -> Section:
    w, f, y0, y1 = ctx.w, ctx.f, ctx.y0, ctx.y1
    eff = ""
    if has_efficiency and f["gap.closed_by_efficiency.last"] > 0:
        eff = (
            f" Of that, {w.money('gap.closed_by_efficiency.last')} comes from NHS providers cutting their costs "
            f"by {w.efficiency(ctx.results)} a year, which the plan assumes; the care models, net of their own "
            "costs, account for the rest."
        )
    if f["gap.closed_by_plan.last"] > 0 and f["gap.plan.last"] < 0:
        closing = (
            f"The plan turns the shortfall into {w.position('gap.plan.last', pm=True)}, closing "
            f"{w.money_pm('gap.closed_by_plan.last')}."
        )
    elif f["gap.closed_by_plan.last"] > 0:
        closing = f"The plan brings the shortfall to {w.money_pm('gap.plan.last')}, closing {w.money_pm('gap.closed_by_plan.last')}."
    else:
        closing = "Without care models or provider efficiency, nothing closes the gap."
    short = "short" if f["gap.do_nothing.last"] > 0 else "in surplus"
    start = "short" if f["gap.first"] > 0 else "in surplus"
    return Section(
        "money",
        "What it costs and saves",
        [
            f"Doing nothing leaves the footprint's NHS organisations and councils {w.money_pm('gap.do_nothing.last')} "
            f"{short} in {y1}, against {w.money('gap.first')} {start} in {y0}. {closing}{eff}",
            "The money counted is what reaches the footprint: its share of the NHS allocations "
            "for local, general practice and specialised care, and its councils' funding for adult "
            "social care. The gap grows because more and older people, more care per person, dearer "
            "care per unit, and pay and prices push costs up faster than that money grows; the "
            "chart below takes it line by line, and the next shows which assumptions matter most.",
        ],
    )


def hospitals(ctx, rows) -> Section | None:
    return None  # the board's organisation table names every trust with its books


def incentives(ctx, moves) -> Section:
    w, y1 = ctx.w, ctx.y1
    lines = []
    for name, title_, best, worst in moves:
        parts = []
        if best is not None:
            parts.append(
                f"the biggest gain is for {_kind_name(best, False)} ({w.money(f'incentive.{name}.{best}')} a year)"
            )
        if worst is not None:
            parts.append(
                f"the biggest loss falls on {_kind_name(worst, False)} ({w.money(f'incentive.{name}.{worst}')} a year)"
            )
        if parts:
            lines.append(f"{title_[0].upper() + title_[1:]}: {'; '.join(parts)}.")
    contracts = ctx.results.plan.finance.contracts
    how = contracts_title(contracts).lower() if isinstance(contracts, str) else "the plan's own contracts"
    intro = f"Paid by {how}, each care model moves money between organisations. The effect of each model on its own, in {y1}:"
    return Section(
        "incentives",
        "Who gains and who loses",
        [intro, *lines] if lines else [intro + " none moves money one way more than another."],
    )


def certainty(ctx) -> Section:
    w = ctx.w
    return Section(
        "certainty",
        "How sure we are",
        [
            f"Across {w.draws()} simulations of demand, effects and costs, the plan narrows the gap in "
            f"{w.probability('probability.plan_narrows_gap')} of them and balances the system's books in "
            f"{w.probability('probability.plan_balances')}. The ranges given are 80% intervals: one outcome in "
            "ten would be worse than the range.",
        ],
    )


def national(ctx) -> Section:
    w, f, y1 = ctx.w, ctx.f, ctx.y1
    rank = f["national.rank_gap_per_head"]
    rank_text = (
        f" Per head, its do-nothing gap ranks {w.rank('national.rank_gap_per_head')} of the "
        f"{w.count('national.footprints')} footprints."
        if rank == rank
        else ""
    )
    return Section(
        "national",
        "England as a whole",
        [
            f"Summed draw by draw over all {w.count('national.footprints')} footprints, England's "
            f"do-nothing gap in {y1} is "
            f"{w.money_pm('national.do_nothing_gap.last')}. {ctx.place} holds "
            f"{w.share('national.share_of_people')} of England's people and "
            f"{w.share('national.share_of_gap')} of the gap.{rank_text}"
        ],
    )


def no_consultation(ctx) -> Section:
    return Section(
        "consultation",
        "What needs formal consultation",
        [
            "The plan states no bed closures or service moves, so nothing in it is flagged for formal consultation."
        ],
    )


def consultation(ctx, beds, services, flagged: bool) -> Section:
    from ..axes import parse_year

    w, y1 = ctx.w, ctx.y1
    paras = []
    for i, b, flag in beds:
        met = [k for k, c in b["conditions"].items() if c["holds"]]
        n, year = w.count(f"service.bed.{i}.closed"), w.year(parse_year(b["year"]))
        p, short = w.probability(f"service.bed.{i}.p_short.last"), w.count(f"service.bed.{i}.short.last")
        test = (
            "It meets the beds test on condition "
            + " and ".join(k[0] for k in met)
            + ": "
            + "; ".join(_CONDITIONS[k] for k in met)
            if met
            else "It meets none of the beds test's three conditions: "
            + "; ".join(c["short"] for c in b["conditions"].values())
        )
        text = (
            f"{b['trust_name']} closes {n} beds from {year}. {test}. At the target occupancy, the beds needed exceed "
            f"the beds left in {y1} in {p} of simulations, by {short} beds on average."
        )
        if flag:
            joint = " (a joint health scrutiny committee)" if flag["joint_committee"] else ""
            text += f" It is likely to be a substantial variation: consult the health scrutiny of {council_names(flag)}{joint}."
        paras.append(text)
    for j, flag in services:
        year, people_ = w.year(parse_year(flag["year"])), w.count(f"service.flag.{j}.people")
        joint = " (a joint health scrutiny committee)" if flag["joint_committee"] else ""
        paras.append(
            f"{flag['what']} ({flag['description']}, from {year}, about {people_} people affected) is likely to be a "
            f"substantial variation: consult the health scrutiny of {council_names(flag)}{joint}."
        )
    paras.append(
        "Under today's rules, proposals like these must also be notified to the Secretary of State, who may "
        "call them in."
        if flagged
        else "None of the plan's changes reaches the thresholds for formal consultation."
    )
    return Section("consultation", "What needs formal consultation", paras)


def patients(ctx) -> Section:
    w, y1 = ctx.w, ctx.y1
    return Section(
        "patients",
        "What it means for patients",
        [
            f"In {y1} the plan needs {w.count_pm('plan.beds.last')} beds, {w.count('plan.gp_consultations.last')} GP "
            f"consultations, {w.count('plan.community_nursing_contacts.last')} community nursing visits and "
            f"{w.count('plan.hospital_at_home_days.last')} hospital-at-home days.",
        ],
    )


def unsure(ctx) -> Section | None:
    return None  # the board's "How sure we are" and the tornado say this


def comparison(w, verdict: str | None, name_a: str, name_b: str) -> Section:
    """What differs between two options, money first. ``verdict``: which option leaves less to
    find ("A", "B"), "level" or "unsure" (``sections.which_is_lower``); None without money."""
    diff = []
    if verdict is not None:
        shortfalls = (
            f"In the last year option A ({name_a}) leaves {w.position('A.gap.plan.last')} and option B "
            f"({name_b}) {w.position('B.gap.plan.last')}"
        )
        spread = (
            f" (80% interval {w.money('diff.gap.last.p10', sign=True)} to {w.money('diff.gap.last.p90', sign=True)})"
            if "diff.gap.last.p10" in w.f
            else ""
        )
        if verdict == "level":
            said = ": the two options are level at this rounding."
        elif verdict == "unsure":
            said = (
                f": option B's gap is {w.money('diff.gap.last', sign=True)} against option A's on average{spread}, "
                "so either could leave less to find."
            )
        else:
            said = f": option {verdict} leaves {w.money('diff.gap.last')} less to find{spread}."
        diff.append(
            shortfalls + said + f" The plans close {w.money('A.gap.closed_by_plan.last')} and "
            f"{w.money('B.gap.closed_by_plan.last')} of the do-nothing gap."
        )
    diff.append(
        f"Emergency admissions: {w.count('A.plan.emergency_admissions.last')} a year under option A, "
        f"{w.count('B.plan.emergency_admissions.last')} under option B. Beds: {w.count('A.plan.beds.last')} "
        f"against {w.count('B.plan.beds.last')}."
    )
    return Section("comparison", "The two options compared", diff)
