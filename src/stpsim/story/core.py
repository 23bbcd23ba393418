"""The story's core: the facts it may quote and how numbers are written.

Every number in the text comes from :class:`~stpsim.results.Results` through :func:`facts`, and
is printed by a helper that records what it printed and the value it was rounded from
(``Story.numbers``), so the tests can check each one. Two audiences: ``board`` (a board paper)
and ``public`` (local people: short sentences, no jargon, every abbreviation explained).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..axes import year_label
from ..interventions import library
from ..summaries import headline, percentiles

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
    p10, p90 = percentiles(x, (10, 90))
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
        for key, x in (("gap.plan.last", pl), ("gap.do_nothing.last", dn)):
            f[f"{key}.p10"], f[f"{key}.p90"] = (float(v) for v in percentiles(x, (10, 90)))
    for key, cap in (("plan", r.capacity), ("do_nothing", r.do_nothing_capacity)):
        for fi, fp in enumerate(r.plan.places):
            for code, share in _bed_shares(r, fi, fp).items():
                f[f"trust.{code}.beds.{key}.last"] = float(cap["beds"][:, last, fi].mean() * share)
    for k in [k for k in f if k.startswith("trust.") and k.endswith(".beds.plan.last")]:
        base = k.removesuffix(".plan.last")
        f[f"{base}.change.last"] = f[k] - f[f"{base}.do_nothing.last"]
    f["draws"] = float(r.draws)
    f["plan.care_models"] = float(len(r.interventions))
    return f


def _bed_shares(r, fi: int, fp) -> dict[str, float]:
    """Each acute trust's share of the footprint's hospital beds: its shares of emergency and
    elective bed days, weighted by the footprint's bed days of each kind in the last year."""
    from ..axes import ALL_SETTINGS
    from ..organisations import acute_size_shares

    shares = acute_size_shares(fp)
    em = float(r.activity[:, -1, fi, ALL_SETTINGS.index("emergency_bed_days")].mean())
    el = float(r.activity[:, -1, fi, ALL_SETTINGS.index("elective_bed_days")].mean())
    out = {}
    for k, v in shares["emergency_bed_days"].items():
        out[k.removeprefix("acute:")] = (em * v + el * shares["elective_bed_days"].get(k, 0.0)) / (em + el)
    return out


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

    def position(self, key: str, pm: bool = False) -> str:
        """A gap in words with the right sign: 'a shortfall of £41m', 'a surplus of £12m', or
        'about balance' when it rounds to nothing (``pm``: with its give-or-take)."""
        v = self.f[key]
        if money_text(abs(v)) in ("£0", "£1"):
            return "about balance"
        amount = self.money_pm(key) if pm else self.money(key)
        return f"a {'shortfall' if v > 0 else 'surplus'} of {amount}"

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

    def in_ten(self, key: str) -> str:
        """A probability as people say it: '7 in 10'."""
        v = self.f[key]
        n = round(10 * v)
        text = "nearly all" if n >= 10 else ("hardly any" if n <= 0 else f"{n} in 10")
        return self._note(key, v, text, "in_ten")

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
        from .. import assumptions

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


def listed(items) -> str:
    """Items as a list in words: 'A', 'A and B', 'A, B and C' ('' for none)."""
    items = list(items)
    return ", ".join(items[:-1]) + " and " + items[-1] if len(items) > 1 else "".join(items)


def _names(results) -> str:
    return listed(results.names)


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


def _gloss(abbr: str, story: Story) -> str:
    """An abbreviation, explained the first time the public story uses it."""
    used = getattr(story, "_glossed", set())
    story._glossed = used | {abbr}  # type: ignore[attr-defined]
    if story.audience != "public" or abbr in used:
        return abbr
    return f"{abbr} ({GLOSSARY[abbr]})"


def council_names(flag: dict) -> str:
    """The councils a consultation flag names, as a list in words: 'Trafford and Manchester'."""
    return listed(c["name"] for c in flag["consult"])


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
