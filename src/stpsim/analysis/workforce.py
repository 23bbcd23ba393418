"""Workforce: whole-time equivalents (WTE) by staff group needed by year, plan against do-nothing,
from a run's capacity (sessions a year) and activity.

Staff groups and how each is counted:

* GPs, practice nurses, community nurses, physiotherapists: the run's sessions a year (about four
  hours each; ``engine.CAPACITY``) over ``sessions_per_wte_per_year`` (a full-time week is 37.5
  hours, about nine four-hour sessions: the BMA model salaried GP contract's 9 sessions of 4h10m,
  and Agenda for Change's 37.5-hour week for nurses and therapists; 40 to 44 working weeks).
* Consultants and geriatricians: the geriatrician sessions and community consultant sessions the
  care models create, over ``consultant_clinical_sessions_per_wte_per_year`` (direct clinical care
  programmed activities). The base hospital consultant workforce is not modelled, so do-nothing
  is zero and the plan's figure is the consultant time its care models deploy (taken from
  hospital work that avoided admissions may or may not free).
* Care workers: home care hours over the home care hours a whole-time care worker delivers
  (``care_worker_hours_per_wte_per_year`` x ``home_care_contact_share_of_worked_time``), plus
  care-home resident weeks x ``care_home_care_hours_per_resident_week`` over
  ``care_worker_hours_per_wte_per_year``.

Hospital-at-home patient days are not turned into staff (their nursing contacts are counted as
community nursing where the care model creates them). Each factor is drawn once per run from its
logged range (the same draws for plan and do-nothing), so intervals carry the factor's
uncertainty and the plan-minus-do-nothing difference carries only the activity's.
"""

from __future__ import annotations

import numpy as np

from .. import assumptions
from ..axes import STAFF_GROUPS, year_label
from ..cache import persistent
from ..run_parameters import WORKFORCE_FACTORS as FACTORS
from ..summaries import STATS, summarise

TITLES = {
    "gps": "GPs",
    "practice_nurses": "Practice nurses",
    "community_nurses": "Community nurses",
    "consultants_and_geriatricians": "Consultants and geriatricians (in the care models)",
    "physiotherapists": "Physiotherapists (community and direct-access contacts only)",
    "care_workers": "Care workers (council-funded home care and care homes only)",
}
# Staff groups counted from the run's sessions: group -> capacity measure.
SESSION_GROUPS = {
    "gps": "gp_sessions",
    "practice_nurses": "practice_nurse_sessions",
    "community_nurses": "community_nursing_sessions",
    "physiotherapists": "physiotherapy_sessions",
}


def wte_from_sessions(sessions, sessions_per_wte):
    """Whole-time equivalents that deliver ``sessions`` a year at ``sessions_per_wte`` each."""
    return np.asarray(sessions, dtype=float) / sessions_per_wte


def wte_from_hours(hours, hours_per_wte):
    """Whole-time equivalents that deliver ``hours`` a year at ``hours_per_wte`` each."""
    return np.asarray(hours, dtype=float) / hours_per_wte


def home_care_wte(hours, worked_hours_per_wte, contact_share):
    """Care workers for ``hours`` of home care a year: each whole-time worker works
    ``worked_hours_per_wte`` a year and spends ``contact_share`` of it with clients."""
    return wte_from_hours(hours, worked_hours_per_wte * contact_share)


def care_home_wte(resident_weeks, care_hours_per_resident_week, worked_hours_per_wte):
    """Care workers for ``resident_weeks`` of care-home stay a year at
    ``care_hours_per_resident_week`` care hours each."""
    return wte_from_hours(
        np.asarray(resident_weeks, dtype=float) * care_hours_per_resident_week, worked_hours_per_wte
    )


def factor_draws(params) -> dict[str, np.ndarray]:
    """Each conversion factor's draws (draw,), as the run drew them (``run_parameters``)."""
    return {k: params[f"assumption/{k}"] for k in FACTORS}


def wte_by_group(capacity: dict, activity: np.ndarray, settings, f: dict) -> dict[str, np.ndarray]:
    """WTE by staff group, each (draw, year) summed over footprints, from capacity (measure ->
    (draw, year, footprint) sessions), activity (draw, year, footprint, setting) and factor
    draws ``f``."""
    per = {k: v[:, None] for k, v in f.items()}  # (draw, 1) against (draw, year)

    def setting(name: str) -> np.ndarray:
        return activity[..., list(settings).index(name)].sum(axis=2)

    out = {
        g: wte_from_sessions(capacity[m].sum(axis=2), per["sessions_per_wte_per_year"])
        for g, m in SESSION_GROUPS.items()
    }
    consultant = capacity["geriatrician_sessions"].sum(axis=2) + setting("community_consultant_sessions")
    out["consultants_and_geriatricians"] = wte_from_sessions(
        consultant, per["consultant_clinical_sessions_per_wte_per_year"]
    )
    out["care_workers"] = home_care_wte(
        setting("home_care_hours"),
        per["care_worker_hours_per_wte_per_year"],
        per["home_care_contact_share_of_worked_time"],
    ) + care_home_wte(
        setting("care_home_weeks"),
        per["care_home_care_hours_per_resident_week"],
        per["care_worker_hours_per_wte_per_year"],
    )
    return {g: out[g] for g in STAFF_GROUPS}


def _by_year(x: np.ndarray, labels: list[str]) -> dict[str, dict[str, float]]:
    s = summarise(x)
    return {label: {k: float(s[k][t]) for k in STATS} for t, label in enumerate(labels)}


def workforce(results) -> dict:
    """WTE needed by staff group and year under the plan and do-nothing.

    Returns {"years": [labels], "groups": {group: {"title", "plan", "do_nothing", "difference"}},
    "factors": {id: {"value", "low", "high", "unit", "why"}}, "notes": str}; "plan",
    "do_nothing" and "difference" (plan minus do-nothing, per draw) are each {year: {mean, p10,
    p50, p90}}. The arrays behind it come from :func:`wte_arrays`."""
    labels = [year_label(y) for y in results.years]
    arrays = wte_arrays(results)
    groups = {
        g: {
            "title": TITLES[g],
            "plan": _by_year(arrays["plan"][g], labels),
            "do_nothing": _by_year(arrays["do_nothing"][g], labels),
            "difference": _by_year(arrays["plan"][g] - arrays["do_nothing"][g], labels),
        }
        for g in STAFF_GROUPS
    }
    factors = {}
    for k in FACTORS:
        a = assumptions.get(k)
        factors[k] = {"value": a.value, "low": a.low, "high": a.high, "unit": a.unit, "why": a.why}
    return {
        "years": labels,
        "groups": groups,
        "factors": factors,
        "checks": plausibility(results, arrays),
        "notes": (
            "Whole-time equivalents needed to deliver the modelled activity, summed over the "
            "footprints. Each group covers only the activity modelled: physiotherapists the "
            "community and direct-access contacts (not hospital physiotherapy), care workers the "
            "home care and care homes councils fund (not self-funded care). Consultants and "
            "geriatricians count only the consultant time the care models deploy; "
            "hospital-at-home patient days are not turned into staff."
        ),
    }


# Published England totals to check the modelled staff against: group -> measure.
PUBLISHED = {"gps": "gp_fte_excluding_locums", "practice_nurses": "practice_nurse_fte"}


@persistent
def published_staff() -> dict[str, dict]:
    """England's published general practice staff (``general_practice_workforce_2015``)."""
    from ..reference import table

    return {
        r.measure: {"value": float(r.value), "period": r.period, "source": r.source}
        for r in table("general_practice_workforce_2015").itertuples()
    }


def plausibility(results, arrays: dict) -> list[dict]:
    """The do-nothing's staff in the run's first year beside England's published total for the
    group, scaled by the run's share of England's people (groups with no published total say
    so). A ratio far from one says the conversion factors or the activity are off."""
    from ..demography import england_base

    published = published_staff()
    people = results.population[0].sum() if results.population is not None else np.nan
    share = float(people / england_base().sum())
    out = []
    for g in STAFF_GROUPS:
        modelled = float(arrays["do_nothing"][g][:, 0].mean())
        row = {
            "group": g,
            "title": TITLES[g],
            "year": year_label(results.years[0]),
            "modelled": round(modelled),
        }
        if g in PUBLISHED:
            r = published[PUBLISHED[g]]
            expected = r["value"] * share
            row |= {
                "published_england": r["value"],
                "as_at": r["period"],
                "source": r["source"],
                "population_share": round(share, 5),
                "expected": round(expected),
                "ratio": round(modelled / expected, 3) if expected else None,
            }
        else:
            row["published_england"] = None
        out.append(row)
    return out


def wte_arrays(results) -> dict[str, dict[str, np.ndarray]]:
    """{"plan": {group: (draw, year)}, "do_nothing": {...}} for ``results``."""
    f = factor_draws(results.parameters)
    return {
        "plan": wte_by_group(results.capacity, results.activity, results.settings, f),
        "do_nothing": wte_by_group(results.do_nothing_capacity, results.do_nothing, results.settings, f),
    }
