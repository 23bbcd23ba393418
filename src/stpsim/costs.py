"""Unit costs, costed activity and the wards that step with beds.

Unit costs are 2016/17 national averages (NHS reference costs, PSSRU, ASC-FR, UKHCA) or logged
assumptions. Providers' cost functions (long-run average cost for demand, marginal cost for what
a plan avoids) are in :mod:`stpsim.finance.provider_costs`; wards close only through plan actions
(ward closures), with a lag.
"""

from __future__ import annotations

import numpy as np

from . import assumptions
from .axes import ALL_SETTINGS
from .cache import persistent
from .reference import fact


def _uc(item: str, column: str = "value_gbp", year: str = "2016/17") -> float:
    return fact("unit_costs", item, column="item", value=column, year=year)


def _weighted(items: list[str]) -> float:
    values = np.array([_uc(i) for i in items])
    counts = np.array([_uc(i, "activity_count") for i in items])
    return float((values * counts).sum() / counts.sum())


@persistent
def unit_costs() -> dict[str, float]:
    """GBP per unit of each setting, 2016/17 prices. Bed days are priced per day beyond the
    base-year length of stay (the excess bed day cost): the admission's own cost covers the rest."""
    kinds = (
        "face-to-face, consultant-led",
        "non-face-to-face, consultant-led",
        "face-to-face, non-consultant-led",
        "non-face-to-face, non-consultant-led",
    )
    em_cost = fact("national_activity_totals", "Cost of emergency admissions to the NHS", period="2016/17")
    em_count = fact(
        "national_activity_totals", "Emergency admissions (FAEs)", period="12 months Mar 2016 - Feb 2017"
    )
    gp_min = fact(
        "unit_costs",
        "GP patient contact, per minute (incl. qualifications)",
        column="item",
        value="value_gbp",
        year="2015/16 (as stated in HF script)",
    )
    nurse_min = fact(
        "unit_costs",
        "Practice nurse patient contact, per minute",
        column="item",
        value="value_gbp",
        year="2015/16 (as stated in HF script)",
    )
    gp_minutes = fact(
        "gp_consultations_facts", "mean_duration_GP_face_to_face_consultation", period="2013-14"
    )
    nurse_minutes = fact(
        "gp_consultations_facts", "mean_duration_nurse_face_to_face_consultation", period="2013-14"
    )
    res = fact(
        "unit_costs",
        "Local authority-funded residential care, adults 65+",
        column="item",
        value="value_gbp",
        year="2016/17",
    )
    nur = fact(
        "unit_costs",
        "Local authority-funded nursing care, adults 65+",
        column="item",
        value="value_gbp",
        year="2016/17",
    )
    homecare = fact(
        "unit_costs",
        "Homecare: UKHCA minimum price (covers National Living Wage + sustainable running costs)",
        column="item",
        value="value_gbp",
        year="2016/17 (April 2016)",
    )
    n_res = fact("facts_from_notes", "care_home_residents_65plus_residential")
    n_nur = fact("facts_from_notes", "care_home_residents_65plus_nursing")
    geri = float(assumptions.value("unit_cost_geriatrician_hour"))
    out = {
        "gp_consultations": gp_min * gp_minutes,
        "practice_nurse_consultations": nurse_min * nurse_minutes,
        "community_nursing_contacts": _uc(
            "District nurse visit, adult, face-to-face (community health services)"
        ),
        "physiotherapy_contacts": _weighted(
            [f"Physiotherapy, adult, {k} (community health services)" for k in ("one-to-one", "group")]
        ),
        "ae_attendances": _uc("A&E attendance, all department types"),
        "emergency_admissions": em_cost / em_count,
        "elective_admissions": _uc("Elective inpatient (FCE), average"),
        "day_cases": _uc("Day case (FCE), average"),
        "outpatient_first": _weighted([f"Outpatient first attendance, {k}" for k in kinds]),
        "outpatient_followup": _weighted([f"Outpatient follow-up attendance, {k}" for k in kinds]),
        "emergency_bed_days": _uc("Non-elective excess bed day"),
        "elective_bed_days": _uc("Elective inpatient excess bed day"),
        # Councils pay for home care by the hour and for their share of care home weeks.
        "home_care_hours": homecare,
        "care_home_weeks": (n_res * res + n_nur * nur)
        / (n_res + n_nur)
        * float(assumptions.value("council_funded_share_care_home_weeks")),
        "geriatrician_hours": geri,
        "community_consultant_sessions": float(assumptions.value("geriatrician_hours_per_session")) * geri,
        "hospital_at_home_days": float(assumptions.value("unit_cost_hospital_at_home_day")),
    }
    return out


def unit_cost_vector() -> np.ndarray:
    uc = unit_costs()
    return np.array([uc[k] for k in ALL_SETTINGS])


BED_DAYS = {"emergency_bed_days": "emergency_admissions", "elective_bed_days": "elective_admissions"}


def costed_activity(activity: np.ndarray, base_los: np.ndarray) -> np.ndarray:
    """Activity in costing units (..., setting): bed days become days beyond the base-year
    length of stay per admission (negative when stays shorten). ``base_los`` is (..., 2) for
    emergency and elective."""
    out = activity.copy()
    for j, (bd, adm) in enumerate(BED_DAYS.items()):
        b, a = ALL_SETTINGS.index(bd), ALL_SETTINGS.index(adm)
        out[..., b] = activity[..., b] - activity[..., a] * base_los[..., j]
    return out


def costed_value(activity: np.ndarray, base_los: np.ndarray, uc: np.ndarray) -> np.ndarray:
    """``costed_activity(activity, base_los) @ uc`` without copying the activity array."""
    value = (activity * uc).sum(axis=-1)  # not BLAS: identical whatever the chunking of draws
    for j, (bd, adm) in enumerate(BED_DAYS.items()):
        b, a = ALL_SETTINGS.index(bd), ALL_SETTINGS.index(adm)
        value = value - activity[..., a] * base_los[..., j] * uc[b]
    return value


def open_wards(
    beds_needed: np.ndarray, beds_per_ward: np.ndarray, close_surplus: bool, lag: int
) -> np.ndarray:
    """Wards open by ([trust,] draw, year). Wards open as soon as beds are needed; they close only if the
    plan closes surplus wards, ``lag`` years after the beds stop being needed."""
    needed = np.ceil(beds_needed / beds_per_ward[:, None])
    out = needed.copy()
    if not close_surplus:  # the most wards needed so far (a loop over the few years is faster
        for t in range(1, needed.shape[-1]):  # than ``accumulate`` along a short, strided axis)
            np.maximum(out[..., t - 1], out[..., t], out=out[..., t])
        return out
    for t in range(1, needed.shape[-1]):  # years are sequential
        lagged = needed[..., max(t - lag, 0)]
        out[..., t] = np.maximum(needed[..., t], np.minimum(out[..., t - 1], lagged))
    return out
