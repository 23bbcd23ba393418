"""Service change, evaluated on a run: the beds test, formal-consultation flags and the four
tests (the plan's statement of its changes, and the checks that need only the plan, stay with
the plan in ``stpsim.service_change``; see that module for the rules).

An analysis above the engine: it reads a run's Results and never reruns the plan.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import assumptions
from ..axes import ALL_SETTINGS, parse_year, year_label
from ..capacity import OCCUPANCY
from ..service_change import (
    ADMISSION_SETTINGS,
    ATTESTED,
    BED_DAYS,
    CAPACITY_MEASURES,
    FOUR_TESTS,
    SERVICE_KINDS,
    BedChange,
    ServiceChanges,
    _find_trust,
    trust_beds,
)


def _national_bed_use(t: dict[str, dict[str, float]]) -> tuple[float, float]:
    """England's occupancy and occupied bed-days per emergency admission via A&E (trusts with
    both figures)."""
    # Trusts with a busy A&E only: a specialist trust with beds but few admissions via A&E would
    # make England's figure look longer than a general hospital's.
    floor = float(assumptions.value("beds_test_general_hospital_admissions"))
    rows = [v for v in t.values() if np.isfinite(v["admissions_via_ae"]) and v["admissions_via_ae"] >= floor]
    occupied = sum(v["occupied"] for v in rows)
    open_ = sum(v["open"] for v in rows)
    adm = sum(v["admissions_via_ae"] for v in rows)
    return occupied / open_, occupied * 365.0 / adm


def _capacity_added(sc: ServiceChanges, years: tuple[int, ...]) -> dict[str, np.ndarray]:
    """Sessions a year added by measure, cumulative by year (in place from its year on)."""
    out = {m: np.zeros(len(years)) for m in CAPACITY_MEASURES}
    for c in sc.capacity:
        y = parse_year(c.year)
        out[c.measure] += np.array([c.sessions_per_year() if yr >= y else 0.0 for yr in years])
    return out


def _bed_days(results, f: int) -> np.ndarray:
    idx = [ALL_SETTINGS.index(s) for s in BED_DAYS]
    return results.activity[:, :, f][..., idx].sum(axis=-1)  # (draw, year)


def _base_bed_days(fp) -> float:
    from .. import activity
    from ..baseline import projection_of

    pop = projection_of([fp]).population[0, 0]
    d = activity.demand(pop)
    return float(sum(d[ALL_SETTINGS.index(s)] for s in BED_DAYS))


def beds_test(plan, results) -> list[dict]:
    """The beds test for every bed change in the plan, with the probability of a shortfall."""
    sc = plan.service_changes
    if sc is None or not sc.beds:
        return []
    fps = plan.places
    years = results.years
    occ = results.parameters[OCCUPANCY][:, None]  # the run's one bed-occupancy parameter
    significant = float(assumptions.value("beds_test_significant_beds"))
    national_occ, national_los = _national_bed_use(trust_beds())
    added = _capacity_added(sc, years)
    out = []
    for changes in _by_trust(sc.beds, fps).values():
        f, trust, entries = changes
        data = trust_beds().get(trust.code, {})
        open_ = entries[0].beds_2016_17 or data.get("open")
        occupied = data.get("occupied", open_ * float(assumptions.value("bed_occupancy")))
        left = np.array([open_ + sum(b.change for b in entries if parse_year(b.year) <= y) for y in years])
        bd = _bed_days(results, f)
        needed = occupied * (bd / _base_bed_days(fps[f])) / occ  # (draw, year) at the target occupancy
        p_short = (needed > left[None, :]).mean(axis=0)
        short = np.maximum(needed - left[None, :], 0.0)
        for b in entries:
            y = parse_year(b.year)
            t = years.index(y)
            closed = -b.change
            entry = {
                "trust": trust.code,
                "trust_name": trust.name,
                "footprint": fps[f].code,
                "year": b.year,
                "change": b.change,
                "beds_2016_17": round(open_, 1),
                "beds_left": {year_label(yy): round(float(v), 1) for yy, v in zip(years, left, strict=True)},
                "beds_needed": _summary_by_year(needed, years),
                "probability_shortfall": {
                    year_label(yy): round(float(v), 4) for yy, v in zip(years, p_short, strict=True)
                },
                "shortfall_beds": _summary_by_year(short, years),
            }
            if closed <= 0:
                entry.update(significant=False, conditions={}, passes=None)
                out.append(entry)
                continue
            # The bed days the closed beds gave, at the target occupancy, against those the
            # plan moves out of this trust by the closure year.
            given = closed * 365.0 * float(np.mean(occ))
            moved = _bed_days_moved(results, f, t, _share(fps[f], trust.code))
            cond = {
                "a_alternative_provision": _condition_a(results, f, t, added, moved, given),
                "b_new_treatments": _condition_b(plan, moved, given),
                "c_bed_efficiency": _condition_c(b, data, national_occ, national_los),
            }
            entry.update(
                significant=closed >= significant,
                conditions=cond,
                passes=any(c["holds"] for c in cond.values()),
            )
            out.append(entry)
    return out


def _by_trust(beds: list[BedChange], fps) -> dict[str, tuple[int, Any, list[BedChange]]]:
    out: dict[str, tuple[int, Any, list[BedChange]]] = {}
    for b in beds:
        f, t = _find_trust(b.trust, fps)
        out.setdefault(t.code, (f, t, []))[2].append(b)
    return out


def _summary_by_year(x: np.ndarray, years) -> dict:
    from ..summaries import STATS, summarise

    s = summarise(x)
    return {year_label(y): {k: round(float(s[k][i]), 1) for k in STATS} for i, y in enumerate(years)}


def closure_requirements(plan, occupancy: np.ndarray) -> list[dict]:
    """What a choice of care models must do for each significant bed closure in ``plan`` whose
    condition (c) cannot hold (it depends only on the trust's own figures): move at least the
    bed days the closed beds gave out of that trust by the closure year, which conditions (a)
    and (b) both need, and then either have the community and primary-care sessions that care
    needs in place (a) or include a new treatment (b). One entry per closure: its trust,
    footprint index ``f``, year index ``t`` (from the plan's first year), the trust's share, the
    bed days ``given`` (at the run's mean occupancy ``occupancy``, (draw,)) and the sessions a
    year the plan ``added`` by then, by measure."""
    sc = plan.service_changes
    if sc is None or not sc.beds:
        return []
    significant = float(assumptions.value("beds_test_significant_beds"))
    national_occ, national_los = _national_bed_use(trust_beds())
    fps = plan.places
    added = _capacity_added(sc, tuple(range(plan.first_year, plan.last_year + 1)))
    out = []
    for f, trust, entries in _by_trust(sc.beds, fps).values():
        data = trust_beds().get(trust.code, {})
        for b in entries:
            closed = -b.change
            if closed < significant or _condition_c(b, data, national_occ, national_los)["holds"]:
                continue
            out.append(
                {
                    "trust": trust.code,
                    "trust_name": trust.name,
                    "year": b.year,
                    "f": f,
                    "t": parse_year(b.year) - plan.first_year,
                    "share": _share(fps[f], trust.code),
                    "given": closed * 365.0 * float(np.mean(occupancy)),
                    "added": {m: float(v[parse_year(b.year) - plan.first_year]) for m, v in added.items()},
                }
            )
    return out


def sessions_needed_by(do_nothing: dict, capacity: dict, need: dict) -> dict[str, float]:
    """Extra sessions a year, by measure, that ``capacity`` (measure -> (draw, year, footprint))
    needs against the do-nothing's in a closure's footprint and year (``closure_requirements``),
    mean over draws: what condition (a) asks to be in place."""
    t, f = need["t"], need["f"]
    return {m: float(np.mean(capacity[m][:, t, f] - do_nothing[m][:, t, f])) for m in CAPACITY_MEASURES}


def is_new_treatment(spec) -> bool:
    """A care model that counts for condition (b): marked ``new_treatment``, with at least
    moderate evidence for admissions or bed days. New ways of organising care do not count:
    NHS England's condition names treatments that reduce specific categories of admissions."""
    ev = spec.evidence
    strengths = {k: d.strength for k, d in (ev.derivation.items() if ev else [])}
    evidenced = any(strengths.get(k) in ("moderate", "strong") for k in ADMISSION_SETTINGS)
    return bool(spec.new_treatment and evidenced)


def bed_days_moved_by(do_nothing: np.ndarray, activity: np.ndarray, need: dict) -> float:
    """Bed days a year ``activity`` (draw, year, footprint, setting) moves out of a closure's
    trust against ``do_nothing`` in its year (``closure_requirements``), mean over draws."""
    k = [ALL_SETTINGS.index(s) for s in BED_DAYS]
    t, f = need["t"], need["f"]
    moved = do_nothing[:, t, f][..., k].sum(-1) - activity[:, t, f][..., k].sum(-1)
    return float(np.mean(moved)) * need["share"]


def _bed_days_moved(results, f: int, t: int, share: float) -> float:
    """Bed days a year the plan moves out of this trust's beds in year ``t`` (its share of the
    footprint's do-nothing less plan bed days, mean over draws)."""
    k = [ALL_SETTINGS.index(s) for s in BED_DAYS]
    moved = results.do_nothing[:, t, f][..., k].sum(-1) - results.activity[:, t, f][..., k].sum(-1)
    return float(np.mean(moved)) * share


def _condition_a(results, f: int, t: int, added: dict[str, np.ndarray], moved: float, given: float) -> dict:
    """(a) Alternative provision in place by the year of the closure that replaces the bed days
    closed: the care models move at least the closed beds' bed days out of this trust, and the
    community and primary-care sessions added by then cover the extra sessions they need (mean
    over draws)."""
    rows = {}
    for m in CAPACITY_MEASURES:
        extra = float(np.mean(results.capacity[m][:, t, f] - results.do_nothing_capacity[m][:, t, f]))
        rows[m] = {"extra_needed": round(max(extra, 0.0), 1), "added": round(float(added[m][t]), 1)}
    needed_any = any(r["extra_needed"] > 0 for r in rows.values())
    short = [m for m, r in rows.items() if r["added"] < r["extra_needed"]]
    holds = needed_any and not short and moved >= given
    if not needed_any:
        why = "the plan's care models move no activity out of hospital, so nothing replaces the beds"
    elif short:
        why = "capacity added by then falls short for " + ", ".join(m.replace("_", " ") for m in short)
    elif moved < given:
        why = (
            f"the care the added capacity takes on replaces about {moved:,.0f} bed days a year at this "
            f"trust; the closed beds gave {given:,.0f}"
        )
    else:
        why = (
            "the community and primary-care capacity added by then covers what the plan moves out of "
            "hospital, at least the bed days the closed beds gave"
        )
    return {
        "holds": holds,
        "why": why,
        "short": why,
        "sessions_a_year": rows,
        "bed_days_replaced": round(moved),
        "bed_days_closed": round(given),
    }


def _share(fp, code: str, setting: str = "emergency_bed_days") -> float:
    """The trust's share of the footprint's acute ``setting`` (by its published size)."""
    from ..organisations import acute_size_shares

    return float(acute_size_shares(fp)[setting].get(f"acute:{code}", 0.0))


def _condition_b(plan, moved: float, given: float) -> dict:
    """(b) New treatments or therapies (``is_new_treatment``) avoid at least the bed days the
    closed beds gave."""
    from ..adoption import adopted_interventions

    good = [a.spec.name for a in adopted_interventions(plan) if is_new_treatment(a.spec)]
    # The bed days they avoid cannot be told apart from the other care models': all the plan
    # moves out counts, which favours the plan.
    holds = bool(good) and moved >= given
    if not good:
        why = short = (
            "no adopted care model is a new treatment or therapy with at least moderate evidence "
            "(new ways of organising care do not meet condition b)"
        )
    elif moved < given:
        short = "the new treatments avoid fewer bed days than the beds gave"
        why = (
            f"the new treatments ({', '.join(good)}) avoid about {moved:,.0f} bed days a year; "
            f"the beds gave {given:,.0f}"
        )
    else:
        why = short = f"new treatments ({', '.join(good)}) avoid at least the bed days the beds gave"
    return {
        "short": short,
        "holds": holds,
        "why": why,
        "care_models": good,
        "bed_days_avoided": round(moved),
        "bed_days_closed": round(given),
    }


def _condition_c(b: BedChange, data: dict, national_occ: float, national_los: float) -> dict:
    """(c) The trust uses beds less efficiently than England (occupied bed-days per emergency
    admission via A&E above the national figure: a length-of-stay proxy) and the plan's
    improvement is no larger than that gap."""
    floor = float(assumptions.value("beds_test_general_hospital_admissions"))
    if (
        not data
        or not np.isfinite(data.get("admissions_via_ae", np.nan))
        or data["admissions_via_ae"] < floor
    ):
        why = "no 2016/17 sitrep and A&E figures for this trust"
        return {"holds": False, "why": why, "short": why, "gap_days": None}
    los = data["occupied"] * 365.0 / data["admissions_via_ae"]
    gap = los - national_los
    claim = b.length_of_stay_reduction_days
    base = {
        "length_of_stay_proxy_days": round(los, 2),
        "national_days": round(national_los, 2),
        "gap_days": round(gap, 2),
        "occupancy": round(data["occupancy"], 3),
        "national_occupancy": round(national_occ, 3),
        "claimed_days": claim,
    }
    if gap <= 0:
        why = "the trust already uses beds at least as efficiently as England's average"
        return base | {"holds": False, "why": why, "short": why}
    if claim is None or claim <= 0:
        why = "the plan claims no length-of-stay improvement at this trust"
        return base | {"holds": False, "why": why, "short": why}
    if claim > gap:
        why = f"the claimed {claim:g} days exceeds the trust's gap to England of {gap:.2f} days"
        short = "the claimed improvement is larger than the trust's gap to England"
        return base | {"holds": False, "why": why, "short": short}
    # Beds the shorter stays free: days saved per admission x admissions a year, at the trust's
    # own occupancy.
    freed = claim * data["admissions_via_ae"] / 365.0 / data["occupancy"]
    base |= {"beds_freed": round(freed), "beds_closed": -b.change}
    if freed < -b.change:
        why = (
            f"the claimed {claim:g} days lies within the trust's gap to England of {gap:.2f} days but "
            f"frees about {freed:,.0f} beds, fewer than the {-b.change:,} closed"
        )
        return base | {
            "holds": False,
            "why": why,
            "short": "the shorter stays free fewer beds than are closed",
        }
    why = (
        f"the claimed {claim:g} days lies within the trust's gap to England of {gap:.2f} days and frees "
        f"about {freed:,.0f} beds, at least the {-b.change:,} closed"
    )
    return base | {
        "holds": True,
        "why": why,
        "short": "the claimed improvement lies within the trust's gap to England and frees the beds closed",
    }


def consultation(plan) -> list[dict]:
    """Proposals likely to be substantial variations needing formal consultation, with the
    councils whose health scrutiny should be consulted."""
    sc = plan.service_changes
    if sc is None:
        return []
    fps = plan.places
    bed_share = float(assumptions.value("consultation_bed_share"))
    people_floor = float(assumptions.value("consultation_people_affected"))
    out = []
    for b in sc.beds:
        if b.change >= 0:
            continue
        f, t = _find_trust(b.trust, fps)
        open_ = b.beds_2016_17 or trust_beds().get(t.code, {}).get("open")
        share = -b.change / open_
        councils, people = _catchment_councils(fps[f], t)
        if b.local_authorities:
            councils = _named_councils(b.local_authorities)
        reasons = []
        if share >= bed_share:
            reasons.append(
                f"closes {-b.change} beds, {share:.0%} of the trust's beds (threshold {bed_share:.0%})"
            )
        if reasons:
            out.append(
                _flag("bed reduction", f"{-b.change} beds at {t.name}", b.year, reasons, councils, people)
                | {"description": "a bed reduction"}
            )
    for s in sc.services:
        hit = _find_trust(s.trust, fps) if s.trust else None
        fp = fps[hit[0]] if hit else fps[0]
        councils, people = _catchment_councils(fp, hit[1] if hit else None)
        if s.local_authorities:
            councils = _named_councils(s.local_authorities)
        if s.people_affected is not None:
            people = s.people_affected
        reasons = [f"{SERVICE_KINDS[s.kind]}: a change of site or a closure is likely to be substantial"]
        if people >= people_floor:
            reasons.append(f"about {people:,.0f} people's access changes (threshold {people_floor:,.0f})")
        out.append(
            _flag(s.kind.replace("_", " "), s.name, s.year, reasons, councils, people)
            | {"description": SERVICE_KINDS[s.kind]}
        )
    return out


def _flag(kind: str, what: str, year: str, reasons: list[str], councils: list[dict], people: float) -> dict:
    return {
        "proposal": kind,
        "what": what,
        "year": year,
        "likely_substantial_variation": True,
        "why": reasons,
        "consult": councils,
        "joint_committee": len(councils) > 1,
        "people_affected": round(people),
        "notify_secretary_of_state": True,
    }


def _catchment_councils(fp, trust) -> tuple[list[dict], float]:
    """Councils with health scrutiny (counties and unitaries) whose residents the trust serves,
    with their share of the catchment: the trust's 2017 footprint within the plan's footprint
    (assumption trust_catchment_by_population); councils under ``consultation_council_share``
    of the catchment are left out."""
    from ..geography import member_names, small_areas, trusts_by_stp

    sa = small_areas()
    idx = fp.lsoas
    if trust is not None:
        stps = {s for s, ts in trusts_by_stp().items() if any(t.code == trust.code for t in ts)}
        idx = idx[np.isin(sa.codes["stp17cd"][idx], list(stps))]
        served = _share(fp, trust.code, "emergency_admissions")
    else:
        served = 1.0
    pop = sa.bands_2018[idx].sum(axis=1)
    councils = sa.codes["council17cd"][idx]
    names = member_names()["council17cd"]
    floor = float(assumptions.value("consultation_council_share"))
    total = pop.sum()
    out = []
    for c in np.unique(councils):
        share = pop[councils == c].sum() / total
        if share >= floor:
            out.append(
                {"code": str(c), "name": names.get(str(c), ("", str(c)))[1], "share": round(float(share), 3)}
            )
    out.sort(key=lambda r: -r["share"])
    return out, float(total) * served


def _named_councils(items: list[str]) -> list[dict]:
    from ..geography import member_names, resolve_member

    out = []
    for text in items:
        column, code = resolve_member("local_authorities", text)
        out.append({"code": code, "name": member_names()[column].get(code, ("", code))[1], "share": None})
    return out


def four_tests(plan, attestations: list[dict] | tuple = ()) -> dict:
    """The four tests as a checklist. Engagement, patient choice and commissioner support are
    attested on a stored plan version by its lead (who, when); clinical evidence is the
    evidence grade of each adopted care model from the library."""
    from ..adoption import adopted_interventions

    by_test: dict[str, dict] = {}
    for a in attestations:
        by_test[a["test"]] = a
    out: dict[str, dict] = {}
    for key in ATTESTED:
        a = by_test.get(key)
        out[key] = {
            "title": FOUR_TESTS[key],
            "status": "attested" if a else "not recorded",
            **(
                {"attested_by": a["attested_by"], "attested_at": a["attested_at"], "note": a.get("note", "")}
                if a
                else {}
            ),
        }
    grades = []
    for ad in adopted_interventions(plan):
        best, per = evidence_grade(ad.spec)
        grades.append({"care_model": ad.spec.name, "title": ad.spec.title, "grade": best, "by_setting": per})
    weak = [g["care_model"] for g in grades if g["grade"] not in ("strong", "moderate")]
    out["clinical_evidence"] = {
        "title": FOUR_TESTS["clinical_evidence"],
        "status": "no care models" if not grades else ("met" if not weak else "weak for some care models"),
        "care_models": grades,
        **({"weak": weak} if weak else {}),
    }
    return out


def evidence_grade(spec) -> tuple[str, dict[str, str]]:
    """A care model's evidence grade (its best setting's: strong, moderate, weak, null, or none)
    and each setting's, from the library entry's derivation."""
    ev = spec.evidence
    per = {k: d.strength for k, d in (ev.derivation.items() if ev else [])}
    return (_best(per.values()) if per else (ev.strength if ev else "none")), per


_ORDER = {"strong": 3, "moderate": 2, "weak": 1, "null": 0}


def _best(strengths) -> str:
    vals = [s for s in strengths if s in _ORDER]
    return max(vals, key=_ORDER.get) if vals else "none"


def evaluate(plan, results, attestations: list[dict] | tuple = ()) -> dict:
    """The ``service_change`` part of a run's JSON document."""
    return {
        "beds_test": beds_test(plan, results),
        "consultation": consultation(plan),
        "four_tests": four_tests(plan, attestations),
    }


__all__ = ["beds_test", "consultation", "evaluate", "four_tests"]
