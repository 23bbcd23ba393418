"""Stories, not spreadsheets: a plan's results told in plain English.

Every number in the text comes from :class:`~stpsim.results.Results` through :func:`facts`, and
is printed by a helper that records what it printed and the value it was rounded from
(``Story.numbers``), so the tests can check each one. Two audiences: ``board`` (a board paper)
and ``public`` (local people: short sentences, no jargon, every abbreviation explained).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .axes import year_label
from .interventions import library
from .results import headline

AUDIENCES = ("board", "public")

# How the public story names each library care model.
PLAIN = {
    "geriatricians_front_door": "specialist doctors for older people at the hospital door",
    "community_extensivist": "hospital doctors working in the community",
    "direct_access_physiotherapy": "seeing a physiotherapist without a referral",
    "specialist_gp_urgent_care": "same-day appointments with family doctors",
    "specialist_gp_long_term_conditions": "regular family doctor care for long-term illness",
    "hospital_at_home": "hospital care at home",
    "reduced_delayed_transfers": "getting people home from hospital without delay",
    "outpatient_followup_redesign": "fewer routine hospital check-ups",
    "enhanced_care_home_support": "more support for care homes",
    "back_office_and_estates": "sharing offices and buildings",
}

CONTRACT_WORDS = {
    "pbr": "payment by results (national tariff)",
    "block": "block contracts",
    "capitation": "capitation (a whole-population budget)",
    "risk_share": "a two-sided risk share",
    "blended": "blended payment",
    "aligned_payment": "aligned payment and incentive",
    "declining": "a contract that shrinks each year",
}

MATERIAL = 50_000  # gains smaller than this (GBP a year) are not worth a sentence

# Abbreviations the public text may use, each explained where it first appears.
GLOSSARY = {
    "NHS": "National Health Service",
    "GP": "family doctor",
    "A&E": "accident and emergency",
}


@dataclass(frozen=True)
class Number:
    """A number as printed, the fact it came from and that fact's exact value."""

    key: str
    value: float
    text: str
    kind: str  # money, count, percent, ratio, probability, year, age


@dataclass
class Section:
    key: str
    title: str
    paragraphs: list[str]


@dataclass
class Story:
    audience: str
    title: str
    sections: list[Section]
    numbers: list[Number] = field(default_factory=list)

    def text(self) -> str:
        parts = [self.title, ""]
        for s in self.sections:
            parts += [s.title, *s.paragraphs, ""]
        return "\n".join(parts).strip() + "\n"


# ---- the facts a story may quote ------------------------------------------------------------


def _mean_int(x: np.ndarray) -> tuple[float, float]:
    """Mean and half the 80% interval of draws."""
    p10, p90 = np.percentile(x, [10, 90])
    return float(np.mean(x)), float((p90 - p10) / 2)


def facts(results, national=None) -> dict[str, float]:
    """Every quantity the story quotes, computed from Results (and, for national context, from a
    roll-up of all 44 footprints). Keys name their source."""
    f: dict[str, float] = {}
    if national is not None:
        nat = national.do_nothing_gap.sum(axis=0)[:, -1]
        f["national.do_nothing_gap.last"], f["national.do_nothing_gap.last.pm"] = _mean_int(nat)
        idx = [national.codes.index(c) for c in results.codes]
        mine = national.do_nothing_gap[idx].sum(axis=0)[:, -1]
        f["national.share_of_gap"] = float(mine.mean() / nat.mean()) if nat.mean() else 0.0
        f["national.footprints"] = float(len(national.codes))
        f["national.share_of_people"] = float(
            national.population[idx, -1].sum() / national.population[:, -1].sum()
        )
        per_head = national.do_nothing_gap[:, :, -1].mean(axis=1) / national.population[:, -1]
        f["national.rank_gap_per_head"] = (
            float(1 + (per_head > per_head[idx].mean()).sum()) if len(idx) == 1 else float("nan")
        )
    r = results
    last = len(r.years) - 1
    pop = r.population.sum(axis=(1, 2))  # (year, age)
    f["population.first"] = float(pop[0].sum())
    f["population.last"] = float(pop[last].sum())
    f["population.85plus.first"] = float(pop[0, 85:].sum())
    f["population.85plus.last"] = float(pop[last, 85:].sum())
    for scen in ("plan", "do_nothing"):
        for k in (
            "emergency_admissions",
            "emergency_bed_days",
            "ae_attendances",
            "gp_consultations",
            "community_nursing_contacts",
            "outpatient_followup",
            "hospital_at_home_days",
            "home_care_hours",
            "care_home_weeks",
        ):
            x = r.setting(k, scen)
            f[f"{scen}.{k}.first"] = float(x[:, 0].mean())
            f[f"{scen}.{k}.last"], f[f"{scen}.{k}.last.pm"] = _mean_int(x[:, last])
    for k in (
        "emergency_admissions",
        "gp_consultations",
        "community_nursing_contacts",
        "ae_attendances",
        "outpatient_followup",
        "hospital_at_home_days",
    ):
        d = r.setting(k, "plan")[:, last] - r.setting(k, "do_nothing")[:, last]
        f[f"difference.{k}.last"], f[f"difference.{k}.last.pm"] = _mean_int(d)
    for scen, cap in (("plan", r.capacity), ("do_nothing", r.do_nothing_capacity)):
        beds = cap["beds"].sum(axis=2)
        f[f"{scen}.beds.first"] = float(beds[:, 0].mean())
        f[f"{scen}.beds.last"], f[f"{scen}.beds.last.pm"] = _mean_int(beds[:, last])
    d = (r.capacity["beds"] - r.do_nothing_capacity["beds"]).sum(axis=2)[:, last]
    f["difference.beds.last"], f["difference.beds.last.pm"] = _mean_int(d)
    fin = r.finance
    if fin is not None:
        dn, pl = fin.gap("do_nothing")[:, last], fin.gap("plan")[:, last]
        f["gap.do_nothing.last"], f["gap.do_nothing.last.pm"] = _mean_int(dn)
        f["gap.plan.last"], f["gap.plan.last.pm"] = _mean_int(pl)
        f["gap.first"] = float(fin.gap("do_nothing")[:, 0].mean())
        f["gap.closed_by_plan.last"], f["gap.closed_by_plan.last.pm"] = _mean_int(dn - pl)
        f["gap.closed_by_efficiency.last"] = float(fin.efficiency_saving()[:, last].mean())
        f["probability.plan_narrows_gap"] = float((pl < dn).mean())
        f["probability.plan_balances"] = float((pl <= 0).mean())
        kinds = {o.id: o.kind for b in fin.footprints for o in b.orgs}
        by_kind: dict[tuple[str, str], np.ndarray] = {}
        for (name, _code, org), gain in fin.incentives.items():
            key = (name, kinds.get(org, org))
            by_kind[key] = by_kind.get(key, 0.0) + gain
        for (name, kind), gain in by_kind.items():
            # A skewed gain (mean outside its own 80% interval) is told by its median.
            f[f"incentive.{name}.{kind}"] = headline(np.asarray(gain))[0]
    f["draws"] = float(r.draws)
    f["plan.care_models"] = float(len(r.interventions))
    return f


# ---- how numbers are written --------------------------------------------------------------


class _Writer:
    """Formats numbers the way people read them and records each one."""

    def __init__(self, facts_: dict[str, float], story: Story):
        self.f = facts_
        self.story = story

    def _note(self, key: str, value: float, text: str, kind: str) -> str:
        self.story.numbers.append(Number(key, value, text, kind))
        return text

    def money(self, key: str, sign: bool = False) -> str:
        v = self.f[key]
        text = money_text(abs(v) if not sign else v)
        return self._note(key, abs(v) if not sign else v, text, "money")

    def money_pm(self, key: str) -> str:
        """'£41m, give or take £9m'."""
        main = self.money(key)
        pm = self.f[key + ".pm"]
        return f"{main}, give or take {self._note(key + '.pm', pm, money_text(pm), 'money')}"

    def count(self, key: str, value: float | None = None) -> str:
        v = abs(self.f[key]) if value is None else abs(value)
        return self._note(key, v, count_text(v), "count")

    def count_pm(self, key: str) -> str:
        main = self.count(key)
        pm = self.f[key + ".pm"]
        return f"{main} (give or take {self._note(key + '.pm', pm, count_text(pm), 'count')})"

    def percent(self, key: str, value: float) -> str:
        return self._note(key, value, f"{round(100 * value)}%", "percent")

    def growth(self, first: str, last: str) -> str:
        """Change from one fact to another as 'about 1 in 12 more' or 'a fifth more'."""
        a, b = self.f[first], self.f[last]
        ratio = b / a - 1 if a else 0.0
        return self._note(f"{last}/{first}", ratio, ratio_text(ratio), "ratio")

    def probability(self, key: str) -> str:
        v = self.f[key]
        return self._note(key, v, f"{round(100 * v)}%", "probability")

    def share(self, key: str) -> str:
        """A share of a total, one decimal place: '1.0%', '5.3%'."""
        v = self.f[key]
        return self._note(key, v, f"{100 * v:.1f}%", "share")

    def rank(self, key: str) -> str:
        n = int(self.f[key])
        suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
        return self._note(key, float(n), f"{n}{suffix}", "rank")

    def year(self, y: int) -> str:
        return self._note("year", float(y), year_label(y), "year")

    def age(self, a: int) -> str:
        return self._note("axis:age", float(a), str(a), "age")

    def efficiency(self, results) -> str:
        """The provider cost improvement the plan assumes (central value), as a percentage."""
        from . import assumptions

        iv = results.plan.finance.provider_efficiency
        value = (
            iv.central / 100
            if iv is not None
            else float(assumptions.value("provider_efficiency_achieved")) / 100
        )
        return self._note("assumption:provider_efficiency", value, f"{value * 100:g}%", "assumption")

    def draws(self) -> str:
        return self._note("draws", self.f["draws"], f"{int(self.f['draws']):,}", "count")


def _sig(x: float, digits: int = 2) -> float:
    if x == 0:
        return 0.0
    return round(x, -int(math.floor(math.log10(abs(x)))) + digits - 1)


def money_text(x: float) -> str:
    """£41m, £1.2bn, £850,000 (two significant figures)."""
    a = abs(x)
    sign = "-" if x < 0 else ""
    if a >= 1e9:
        return f"{sign}£{_sig(a / 1e9):g}bn"
    if a >= 1e6:
        return f"{sign}£{_sig(a / 1e6):g}m"
    if a >= 1e3:
        return f"{sign}£{_sig(a):,.0f}"
    return f"{sign}£{round(a)}"


def count_text(x: float) -> str:
    """2.9 million, 6,200, 48 (two significant figures, whole numbers below 100)."""
    a = abs(x)
    if a >= 1e6:
        return f"{_sig(a / 1e6):g} million"
    if a >= 100:
        return f"{_sig(a):,.0f}"
    return f"{round(a)}"


def ratio_text(r: float) -> str:
    """A relative change as people say it: 'about 1 in 12 more', 'a fifth more', '3% fewer'."""
    if r == 0:
        return "no change"
    word = "more" if r > 0 else "fewer"
    a = abs(r)
    if a < 0.02:
        return f"{a * 100:.1f}% {word}"
    if a < 0.2:
        return f"about 1 in {round(1 / a)} {word}"
    return f"{round(100 * a)}% {word}"


def parse_number(text: str) -> float:
    """The value a printed number stands for (inverse of the helpers; used by the tests)."""
    t = text.replace("£", "").replace(",", "").strip()
    neg = t.startswith("-")
    t = t.lstrip("-")
    mult = 1.0
    for suffix, m in (("bn", 1e9), ("m", 1e6), (" million", 1e6), ("%", 0.01)):
        if t.endswith(suffix):
            t, mult = t[: -len(suffix)], m
            break
    v = float(t) * mult
    return -v if neg else v


# ---- the story -------------------------------------------------------------------------------


def _names(results) -> str:
    names = list(results.names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _models(results, public: bool = False) -> list[tuple[str, str, float]]:
    """(name, how the story calls it, coverage) for each adopted care model."""
    custom = {c.name: c.title for c in results.plan.custom_interventions}
    lib = library()
    out = []
    for a in results.plan.interventions:
        title = custom.get(a.name) or (PLAIN[a.name] if public and a.name in PLAIN else lib[a.name].title)
        out.append((a.name, title, a.coverage))
    return out


def _kind_name(kind: str, public: bool) -> str:
    if public:
        return {
            "commissioner": "local health budget holders",
            "acute": "the hospitals",
            "community": "community services",
            "mental_health": "mental health services",
            "primary_care": "family doctors' practices",
            "social_care": "the councils' social care",
            "specialised": "specialist hospital services",
        }[kind]
    return {
        "commissioner": "the commissioners",
        "acute": "the acute trusts (together)",
        "community": "the community provider",
        "mental_health": "the mental health provider",
        "specialised": "specialised services",
        "primary_care": "general practice",
        "social_care": "the councils' social care",
    }[kind]


def tell(results, audience: str = "board", national=None) -> Story:
    """The plan's story for a board or for the public."""
    if audience not in AUDIENCES:
        raise ValueError(f"unknown audience {audience!r}; allowed: {', '.join(AUDIENCES)}")
    public = audience == "public"
    f = facts(results, national)
    place = _names(results)
    title = (
        f"{results.plan.name}: what the plan means for {place}"
        if not public
        else f"Health and care in {place}: the plan, in plain English"
    )
    story = Story(audience, title, [])
    w = _Writer(f, story)
    first, last = results.years[0], results.years[-1]
    y0, y1 = w.year(first), w.year(last)
    sec = story.sections.append

    # The people.
    oldest_faster = (
        f["population.85plus.last"] / f["population.85plus.first"]
        > f["population.last"] / f["population.first"]
    )
    older = w.growth("population.85plus.first", "population.85plus.last")
    if public:
        sec(
            Section(
                "people",
                "The people",
                [
                    f"About {w.count('population.first')} people live in {place}. "
                    f"By {y1} there will be about {w.count('population.last')}. "
                    f"The number of people aged {w.age(85)} or more will "
                    f"{'grow' if f['population.85plus.last'] >= f['population.85plus.first'] else 'fall'}: {older}. "
                    + (
                        "Older people need more care, so the need for care grows faster than the number of people."
                        if oldest_faster
                        else "The need for care grows with the number of people."
                    ),
                ],
            )
        )
    else:
        sec(
            Section(
                "people",
                "The people and how they will change",
                [
                    f"{place} has {w.count('population.first')} residents in {y0}, rising to {w.count('population.last')} "
                    f"by {y1} ({w.growth('population.first', 'population.last')}). People aged {w.age(85)} and over go "
                    f"from {w.count('population.85plus.first')} to {w.count('population.85plus.last')} ({older})."
                    + (
                        " The oldest use the most care, so demand grows faster than the population."
                        if oldest_faster
                        else " The oldest are not the fastest-growing group here."
                    ),
                ],
            )
        )

    # The pressure if nothing changes.
    em = w.growth("do_nothing.emergency_admissions.first", "do_nothing.emergency_admissions.last")
    if public:
        sec(
            Section(
                "pressure",
                "If nothing changes",
                [
                    f"Hospitals would admit {em} people as emergencies each year by {y1}: about "
                    f"{w.count('do_nothing.emergency_admissions.last')} in a year. "
                    + (
                        f"They would need about {w.count('do_nothing.beds.last')} beds, up from about "
                        f"{w.count('do_nothing.beds.first')} today. "
                        if count_text(f["do_nothing.beds.last"]) != count_text(f["do_nothing.beds.first"])
                        else f"They would need about {w.count('do_nothing.beds.last')} beds, about the same as today. "
                    )
                    + f"Visits to {_gloss('A&E', story)} would rise to about {w.count('do_nothing.ae_attendances.last')} a year. "
                    f"Appointments with a {_gloss('GP', story)} would rise to about "
                    f"{w.count('do_nothing.gp_consultations.last')} a year.",
                ],
            )
        )
    else:
        sec(
            Section(
                "pressure",
                "The pressure on each service if nothing changes",
                [
                    f"With no change in how care is given, emergency admissions rise from "
                    f"{w.count('do_nothing.emergency_admissions.first')} to "
                    f"{w.count_pm('do_nothing.emergency_admissions.last')} a year by {y1} ({em}). Hospitals would need "
                    f"{w.count_pm('do_nothing.beds.last')} beds at the target occupancy, "
                    + (
                        f"against {w.count('do_nothing.beds.first')} "
                        if count_text(f["do_nothing.beds.last"]) != count_text(f["do_nothing.beds.first"])
                        else "much the same as "
                    )
                    + f"in {y0}. A&E attendances reach {w.count('do_nothing.ae_attendances.last')} "
                    f"({w.growth('do_nothing.ae_attendances.first', 'do_nothing.ae_attendances.last')}), GP consultations "
                    f"{w.count('do_nothing.gp_consultations.last')} and community nursing visits "
                    f"{w.count('do_nothing.community_nursing_contacts.last')} "
                    f"({w.growth('do_nothing.community_nursing_contacts.first', 'do_nothing.community_nursing_contacts.last')}).",
                ],
            )
        )

    # What the plan does.
    models = _models(results, public)
    listed = "; ".join(t if public else f"{t} ({w.percent('coverage', c)} coverage)" for _, t, c in models)
    avoided = f["difference.emergency_admissions.last"]
    if not models:
        body = ["The plan adopts no care models: it is the do-nothing case."]
    elif public:
        body = [
            f"The plan brings in {w.count('plan.care_models', len(models))} new ways of working: {listed}. ",
            f"By {y1} this means about {w.count('difference.emergency_admissions.last')} "
            f"{'fewer' if avoided < 0 else 'more'} emergency hospital stays a year and about "
            f"{w.count('difference.beds.last')} {'fewer' if f['difference.beds.last'] < 0 else 'more'} beds needed. "
            f"Care moves closer to home: about {w.count('difference.community_nursing_contacts.last')} more visits "
            "from community nurses a year.",
        ]
    else:
        body = [
            f"The plan adopts {w.count('plan.care_models', len(models))} care models: {listed}.",
            f"By {y1} they {'avoid' if avoided < 0 else 'add'} {w.count_pm('difference.emergency_admissions.last')} "
            f"emergency admissions a year and {'free' if f['difference.beds.last'] < 0 else 'need'} "
            f"{w.count_pm('difference.beds.last')} beds. "
            f"Work moves out of hospital: {w.count('difference.community_nursing_contacts.last')} more community "
            f"nursing visits, {w.count('difference.gp_consultations.last')} more GP consultations and "
            f"{w.count('difference.hospital_at_home_days.last')} hospital-at-home days a year.",
        ]
    sec(Section("plan", "What the plan does", body))

    # The money.
    if results.finance is not None:
        if public:
            sec(
                Section(
                    "money",
                    "The money",
                    [
                        f"If nothing changes, the {_gloss('NHS', story)} and the councils here would spend "
                        f"{w.money('gap.do_nothing.last')} more than they receive in {y1}. "
                        f"With the plan, the shortfall would be about {w.money('gap.plan.last')}. "
                        f"{'Most' if f.get('gap.closed_by_efficiency.last', 0) > 0.5 * f['gap.closed_by_plan.last'] else 'Part'}"
                        f" of that saving assumes the {_gloss('NHS', story)} runs its services more cheaply, by "
                        f"about {w.efficiency(results)} a year. The rest comes from the new ways of working.",
                    ],
                )
            )
        else:
            eff = f.get("gap.closed_by_efficiency.last")
            eff_text = (
                f" Of that, {w.money('gap.closed_by_efficiency.last')} comes from NHS providers cutting their costs "
                f"by {w.efficiency(results)} a year, which the plan assumes; the care models, net of their own costs, "
                "account for the rest."
                if eff is not None
                else ""
            )
            sec(
                Section(
                    "money",
                    "What it costs and saves",
                    [
                        f"Doing nothing leaves the footprint's NHS organisations and councils {w.money_pm('gap.do_nothing.last')} "
                        f"short in {y1}, against {w.money('gap.first')} in {y0}. The plan brings the shortfall to "
                        f"{w.money_pm('gap.plan.last')}, closing {w.money_pm('gap.closed_by_plan.last')}.{eff_text}",
                        "The money counted is what reaches the footprint: its share of the NHS allocations "
                        "for local, general practice and specialised care, and its councils' funding for adult "
                        "social care. The gap grows because more and older people, more care per person, dearer "
                        "care per unit, and pay and prices push costs up faster than that money grows; the "
                        "chart below takes it line by line, and the next shows which assumptions matter most.",
                    ],
                )
            )

        # Who gains and who loses.
        lines = []
        for name, title, _ in models:
            gains = {k.split(".", 2)[2]: v for k, v in f.items() if k.startswith(f"incentive.{name}.")}
            if not gains:
                continue
            best, worst = max(gains, key=gains.get), min(gains, key=gains.get)
            parts = []
            if gains[best] >= MATERIAL:
                parts.append(
                    f"the biggest gain is for {_kind_name(best, public)} "
                    f"({w.money(f'incentive.{name}.{best}')} a year)"
                )
            if gains[worst] <= -MATERIAL:
                parts.append(
                    f"the biggest loss falls on {_kind_name(worst, public)} "
                    f"({w.money(f'incentive.{name}.{worst}')} a year)"
                )
            if parts:
                lines.append(f"{title[0].upper() + title[1:]}: {'; '.join(parts)}.")
        contracts = results.plan.finance.contracts
        how = (
            CONTRACT_WORDS.get(contracts, "the plan's own contracts")
            if isinstance(contracts, str)
            else "the plan's own contracts"
        )
        intro = (
            f"Paid by {how}, each care model moves money between organisations. The effect of each model on "
            f"its own, in {y1}:"
            if not public
            else "Each change moves money between the organisations that give our care:"
        )
        sec(
            Section(
                "incentives",
                "Who gains and who loses",
                [intro, *lines] if lines else [intro + " none moves money one way more than another."],
            )
        )

        # How sure we are.
        if public:
            sec(
                Section(
                    "certainty",
                    "How sure we are",
                    [
                        f"We ran the numbers {w.draws()} times with different guesses about the future. "
                        f"The plan narrowed the shortfall in {w.probability('probability.plan_narrows_gap')} of these runs. "
                        f"It balanced the books in {w.probability('probability.plan_balances')} of them.",
                    ],
                )
            )
        else:
            sec(
                Section(
                    "certainty",
                    "How sure we are",
                    [
                        f"Across {w.draws()} simulations of demand, effects and costs, the plan narrows the gap in "
                        f"{w.probability('probability.plan_narrows_gap')} of them and balances the system's books in "
                        f"{w.probability('probability.plan_balances')}. The ranges given are 80% intervals: one outcome in "
                        "ten would be worse than the range.",
                    ],
                )
            )

    # England as a whole (when a roll-up of all 44 footprints is given).
    if national is not None:
        rank = f["national.rank_gap_per_head"]
        rank_text = (
            f" Per head, its do-nothing gap ranks {w.rank('national.rank_gap_per_head')} of the "
            f"{w.count('national.footprints')} footprints."
            if rank == rank
            else ""
        )
        if public:
            body = [
                f"Across England, doing nothing would leave the {_gloss('NHS', story)} and councils about "
                f"{w.money('national.do_nothing_gap.last')} short in {y1}. {place} has "
                f"{w.share('national.share_of_people')} of England's people and "
                f"{w.share('national.share_of_gap')} of that shortfall."
            ]
        else:
            body = [
                f"Summed draw by draw over all {w.count('national.footprints')} footprints, England's "
                f"do-nothing gap in {y1} is "
                f"{w.money_pm('national.do_nothing_gap.last')}. {place} holds "
                f"{w.share('national.share_of_people')} of England's people and "
                f"{w.share('national.share_of_gap')} of the gap.{rank_text}"
            ]
        sec(Section("national", "England as a whole", body))

    # What needs formal consultation.
    section = _service_change_section(results, f, w, public, y1)
    if section is not None:
        sec(section)

    # What it means for patients.
    if public:
        sec(
            Section(
                "patients",
                "What it means for you",
                [
                    f"More care at home and in the community. About {w.count('plan.community_nursing_contacts.last')} visits "
                    f"from community nurses a year by {y1}, and about {w.count('plan.gp_consultations.last')} "
                    f"{_gloss('GP', story)} appointments. Hospitals would need about {w.count('plan.beds.last')} beds.",
                ],
            )
        )
    else:
        sec(
            Section(
                "patients",
                "What it means for patients",
                [
                    f"In {y1} the plan needs {w.count_pm('plan.beds.last')} beds, {w.count('plan.gp_consultations.last')} GP "
                    f"consultations, {w.count('plan.community_nursing_contacts.last')} community nursing visits and "
                    f"{w.count('plan.hospital_at_home_days.last')} hospital-at-home days.",
                ],
            )
        )
    return story


def service_facts(sc: dict) -> dict[str, float]:
    """The numbers the service-change section quotes, from ``service_change.evaluate``."""
    f: dict[str, float] = {}
    closed = [b for b in sc["beds_test"] if b["change"] < 0]
    for i, b in enumerate(closed):
        last = list(b["probability_shortfall"])[-1]
        f[f"service.bed.{i}.closed"] = float(-b["change"])
        f[f"service.bed.{i}.p_short.last"] = float(b["probability_shortfall"][last])
        f[f"service.bed.{i}.short.last"] = float(b["shortfall_beds"][last]["mean"])
    for j, flag in enumerate(sc["consultation"]):
        f[f"service.flag.{j}.people"] = float(flag["people_affected"])
    return f


_CONDITIONS = {
    "a_alternative_provision": "enough care outside hospital is in place first",
    "b_new_treatments": "proven new treatments cut the admissions the beds served",
    "c_bed_efficiency": "the hospital can use its beds as efficiently as England's average",
}


def _council_names(flag: dict) -> str:
    names = [c["name"] for c in flag["consult"]]
    return ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else "".join(names)


def _bed_paragraph(b: dict, i: int, flag: dict | None, w: _Writer, public: bool, y1: str) -> str:
    from .axes import parse_year

    met = [k for k, c in b["conditions"].items() if c["holds"]]
    n, year = w.count(f"service.bed.{i}.closed"), w.year(parse_year(b["year"]))
    p, short = w.probability(f"service.bed.{i}.p_short.last"), w.count(f"service.bed.{i}.short.last")
    if public:
        test = (
            "The national test for closing beds is met because " + " and ".join(_CONDITIONS[k] for k in met)
            if met
            else "The national test for closing beds is not met yet: the plan does not show that care outside "
            "hospital is ready, that new treatments will cut admissions, or that the hospital can use its beds better"
        )
        text = (
            f"{b['trust_name']} would close {n} beds from {year}. {test}. We think there is a {p} chance that "
            f"in {y1} the hospital would have too few beds, by about {short} on average."
        )
        if flag:
            text += f" A change this big needs formal consultation with local people through {_council_names(flag)} councils."
        return text
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
        text += f" It is likely to be a substantial variation: consult the health scrutiny of {_council_names(flag)}{joint}."
    return text


def _service_change_section(results, f: dict, w: _Writer, public: bool, y1: str) -> Section | None:
    """'What needs formal consultation': bed closures against NHS England's beds test, the
    proposals likely to be substantial variations and the councils to consult."""
    from .axes import parse_year
    from .service_change import evaluate

    sc_plan = results.plan.service_changes
    if sc_plan is None or not (sc_plan.beds or sc_plan.services):
        if public:
            return None
        return Section(
            "consultation",
            "What needs formal consultation",
            [
                "The plan states no bed closures or service moves, so nothing in it is flagged for formal consultation."
            ],
        )
    sc = evaluate(results.plan, results)
    f.update(service_facts(sc))
    flags = {(fl["what"], fl["year"]): fl for fl in sc["consultation"]}
    closed = [b for b in sc["beds_test"] if b["change"] < 0]
    paras = [
        _bed_paragraph(
            b, i, flags.get((f"{-b['change']} beds at {b['trust_name']}", b["year"])), w, public, y1
        )
        for i, b in enumerate(closed)
    ]
    for j, flag in enumerate(sc["consultation"]):
        if flag["proposal"] == "bed reduction":
            continue
        year, people = w.year(parse_year(flag["year"])), w.count(f"service.flag.{j}.people")
        if public:
            paras.append(
                f"{flag['what']} would change from {year}, for about {people} people. A change this big needs formal "
                f"consultation with local people through {_council_names(flag)} councils."
            )
        else:
            joint = " (a joint health scrutiny committee)" if flag["joint_committee"] else ""
            paras.append(
                f"{flag['what']} ({flag['description']}, from {year}, about {people} people affected) is likely to be a "
                f"substantial variation: consult the health scrutiny of {_council_names(flag)}{joint}."
            )
    if not public:
        paras.append(
            "Under today's rules, proposals like these must also be notified to the Secretary of State, who may "
            "call them in."
            if sc["consultation"]
            else "None of the plan's changes reaches the thresholds for formal consultation."
        )
    return Section("consultation", "What needs formal consultation", paras)


def _gloss(abbr: str, story: Story) -> str:
    """An abbreviation, explained the first time the public story uses it."""
    used = getattr(story, "_glossed", set())
    story._glossed = used | {abbr}  # type: ignore[attr-defined]
    if story.audience != "public" or abbr in used:
        return abbr
    return f"{abbr} ({GLOSSARY[abbr]})"


def compare(a, b, audience: str = "board") -> Story:
    """Two options side by side: each option's story, then what differs."""
    sa, sb = tell(a, audience), tell(b, audience)
    fa, fb = facts(a), facts(b)
    merged = Story(audience, f"Two options: {a.plan.name} and {b.plan.name}", [], sa.numbers + sb.numbers)
    w = _Writer({**{f"A.{k}": v for k, v in fa.items()}, **{f"B.{k}": v for k, v in fb.items()}}, merged)
    for label, s, plan_name in (("Option A", sa, a.plan.name), ("Option B", sb, b.plan.name)):
        for sec_ in s.sections:
            merged.sections.append(
                Section(f"{label}.{sec_.key}", f"{label} ({plan_name}): {sec_.title}", sec_.paragraphs)
            )
    diff = []
    if "gap.plan.last" in fa and "gap.plan.last" in fb:
        better = "B" if fb["gap.plan.last"] < fa["gap.plan.last"] else "A"
        diff.append(
            f"In the last year the shortfall is {w.money('A.gap.plan.last')} under option A and "
            f"{w.money('B.gap.plan.last')} under option B: option {better} leaves less to find."
        )
    diff.append(
        f"Emergency admissions: {w.count('A.plan.emergency_admissions.last')} a year under option A, "
        f"{w.count('B.plan.emergency_admissions.last')} under option B. Beds: {w.count('A.plan.beds.last')} "
        f"against {w.count('B.plan.beds.last')}."
    )
    merged.sections.append(Section("comparison", "The two options compared", diff))
    return merged


__all__ = [
    "AUDIENCES",
    "GLOSSARY",
    "Number",
    "Section",
    "Story",
    "compare",
    "count_text",
    "facts",
    "money_text",
    "parse_number",
    "ratio_text",
    "tell",
]
