"""The named axes every array in stpsim is laid out on.

A population array is ``(footprint, sex, age, segment)``; an activity array adds ``setting``.
Keeping the axis definitions in one place is what lets modules exchange bare numpy arrays.
"""

from __future__ import annotations

import numpy as np

SEXES: tuple[str, ...] = ("male", "female")
MAX_AGE = 100  # single years 0..99 and an open group 100+
AGES = np.arange(MAX_AGE + 1)
AGE_LABELS: tuple[str, ...] = tuple(str(a) for a in range(MAX_AGE)) + (f"{MAX_AGE}+",)

# Health segments follow the electronic frailty index categories (Clegg et al. 2016).
SEGMENTS: tuple[str, ...] = ("fit", "mild", "moderate", "severe")

# Activity settings, named exactly as users and the plan documents refer to them.
SETTINGS: tuple[str, ...] = (
    "gp_consultations",
    "practice_nurse_consultations",
    "community_nursing_contacts",
    "physiotherapy_contacts",
    "ae_attendances",
    "emergency_admissions",
    "elective_admissions",
    "day_cases",
    "outpatient_first",
    "outpatient_followup",
    "emergency_bed_days",
    "elective_bed_days",
    "home_care_hours",
    "care_home_weeks",
)

# Resources that care models create (through substitution) but nobody uses at baseline.
RESOURCES: tuple[str, ...] = ("geriatrician_hours", "community_consultant_sessions", "hospital_at_home_days")
ALL_SETTINGS: tuple[str, ...] = SETTINGS + RESOURCES

SETTING_UNITS: dict[str, str] = {
    "gp_consultations": "consultations",
    "practice_nurse_consultations": "consultations",
    "community_nursing_contacts": "contacts",
    "physiotherapy_contacts": "contacts",
    "ae_attendances": "attendances",
    "emergency_admissions": "admissions",
    "elective_admissions": "admissions",
    "day_cases": "day cases",
    "outpatient_first": "attendances",
    "outpatient_followup": "attendances",
    "emergency_bed_days": "bed days",
    "elective_bed_days": "bed days",
    "home_care_hours": "hours",
    "care_home_weeks": "resident weeks",
    "geriatrician_hours": "hours",
    "community_consultant_sessions": "sessions",
    "hospital_at_home_days": "patient days",
}

BASE_YEAR = 2016  # mid-2016 population = financial year 2016/17
LAST_YEAR = 2035  # the ONS 2016-based projection shipped runs to mid-2035
YEARS = np.arange(BASE_YEAR, LAST_YEAR + 1)

# Five-year output bands 0-4 .. 85-89 and 90+.
BAND_STARTS: tuple[int, ...] = tuple(range(0, 91, 5))
BAND_LABELS: tuple[str, ...] = tuple(f"{s}-{s + 4}" for s in BAND_STARTS[:-1]) + ("90+",)


def band_index(age_min: int, age_max: int | None) -> np.ndarray:
    """Boolean mask over AGES for the closed band [age_min, age_max] (open if age_max is None)."""
    upper = MAX_AGE if age_max is None else age_max
    return (AGES >= age_min) & (AGES <= upper)


def five_year_band_of_age() -> np.ndarray:
    """For each single year of age, the index of its output band (0-4 -> 0, ..., 90+ -> 18)."""
    return np.minimum(AGES // 5, len(BAND_STARTS) - 1)


def year_label(year: int) -> str:
    """2016 -> '2016/17': the financial year whose mid-point population is mid-``year``."""
    return f"{year}/{(year + 1) % 100:02d}"


def parse_year(text: str) -> int:
    """Accept '2016/17', '2016-17' or '2016' and return the starting calendar year.

    Raises ValueError with a message naming the allowed range.
    """
    allowed = f"{year_label(BASE_YEAR)} to {year_label(LAST_YEAR)}"
    raw = text.strip()
    head, sep, tail = raw.replace("-", "/").partition("/")
    try:
        year = int(head)
    except ValueError:
        raise ValueError(f"year {text!r} is not a financial year like 2016/17; allowed: {allowed}") from None
    if sep and tail != f"{(year + 1) % 100:02d}":
        raise ValueError(f"year {text!r} is not a financial year like 2016/17; allowed: {allowed}")
    if not BASE_YEAR <= year <= LAST_YEAR:
        raise ValueError(f"year {text!r} is out of range; allowed: {allowed}")
    return year


# Staff groups the workforce counts (analysis.workforce) and the optimiser may limit.
STAFF_GROUPS = (
    "gps",
    "practice_nurses",
    "community_nurses",
    "consultants_and_geriatricians",
    "physiotherapists",
    "care_workers",
)
