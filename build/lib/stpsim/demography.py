"""Demographic inputs derived from the shipped ONS tables: England by single year and sex,
the 2016-based projection, single-year death rates, and births.

Functions here read reference tables and return plain arrays on the axes of :mod:`stpsim.axes`.
"""

from __future__ import annotations

import numpy as np

from . import assumptions
from .axes import AGES, BASE_YEAR, LAST_YEAR, MAX_AGE, SEXES, YEARS
from .cache import persistent
from .reference import ReferenceDataError, fact, table


def _age_number(label: str) -> int:
    return min(int(str(label).rstrip("+")), MAX_AGE)


@persistent
def ons_projection() -> np.ndarray:
    """ONS 2016-based principal projection for England, shape (year, sex, age); 100+ pooled."""
    df = table("england_population_projection_2016_2035")
    out = np.zeros((len(YEARS), len(SEXES), len(AGES)))
    years = df["year"].to_numpy(int) - BASE_YEAR
    sexes = df["sex"].map({s: i for i, s in enumerate(SEXES)}).to_numpy()
    ages = np.array([_age_number(a) for a in df["age"]])
    keep = (years >= 0) & (years < len(YEARS))
    if np.isnan(sexes.astype(float)).any():
        raise ReferenceDataError("england_population_projection_2016_2035: sex must be male or female")
    np.add.at(out, (years[keep], sexes[keep].astype(int), ages[keep]), df["population"].to_numpy(float)[keep])
    missing = [int(y) for y, total in zip(YEARS, out.sum(axis=(1, 2)), strict=True) if total <= 0]
    if missing:
        raise ReferenceDataError(f"population projection has no rows for years {missing}")
    out.flags.writeable = False
    return out


def england_base() -> np.ndarray:
    """England mid-2016 by (sex, age): the projection's base year, which is the ONS estimate."""
    return ons_projection()[0]


ENGLAND_2016_TOTAL = 55_268_067  # ONS mid-2016; checked against the table in the tests


def _band_rate(measure: str, sex: str, band: str) -> float:
    return fact("mortality_and_births_2016", measure, sex=sex, age_band=band) / 1000.0


# Bands of the ONS weekly deaths file, as (label, first age, last age).
_DEATH_BANDS = (
    ("0 (under 1)", 0, 0),
    ("1-14", 1, 14),
    ("15-44", 15, 44),
    ("45-64", 45, 64),
    ("65-74", 65, 74),
    ("75-84", 75, 84),
    ("85+", 85, MAX_AGE),
)
_GOMPERTZ_FROM = 45


@persistent
def death_rates() -> np.ndarray:
    """Central death rates m by (sex, age), per person-year.

    Band rates are ONS 2016 (England and Wales). From 45 a Gompertz slope shapes each band,
    rescaled so the population-weighted band mean equals the published rate (assumption
    ``mortality_gompertz_within_band``)."""
    assumptions.get("mortality_gompertz_within_band")
    pop = england_base()
    out = np.zeros((len(SEXES), len(AGES)))
    for s, sex in enumerate(SEXES):
        rates = {b: _band_rate("death_rate_England_and_Wales", sex, b) for b, _, _ in _DEATH_BANDS}
        # Log-linear through each adult band's (population-weighted mean age, rate), extended
        # beyond the first and last band with their neighbouring slopes.
        adult = [(lo, hi, rates[b]) for b, lo, hi in _DEATH_BANDS if lo >= _GOMPERTZ_FROM]
        x = np.array([np.average(AGES[lo : hi + 1], weights=pop[s, lo : hi + 1]) for lo, hi, _ in adult])
        y = np.log([r for _, _, r in adult])
        log_m = np.interp(AGES, x, y)
        left, right = AGES < x[0], AGES > x[-1]
        log_m[left] = y[0] + (AGES[left] - x[0]) * (y[1] - y[0]) / (x[1] - x[0])
        log_m[right] = y[-1] + (AGES[right] - x[-1]) * (y[-1] - y[-2]) / (x[-1] - x[-2])
        for b, lo, hi in _DEATH_BANDS:
            shape = np.exp(log_m[lo : hi + 1]) if lo >= _GOMPERTZ_FROM else np.ones(hi - lo + 1)
            w = pop[s, lo : hi + 1]
            out[s, lo : hi + 1] = shape * rates[b] * w.sum() / (shape * w).sum()
    out.flags.writeable = False
    return out


@persistent
def infant_death_probability() -> np.ndarray:
    """Probability, by sex, that a baby born in the year dies before the next mid-year count."""
    share = float(assumptions.value("infant_death_share_before_first_midyear"))
    m0 = np.array([_band_rate("death_rate_England_and_Wales", s, "0 (under 1)") for s in SEXES])
    return share * (1.0 - np.exp(-m0))


@persistent
def births_by_sex() -> np.ndarray:
    """England live births by (year of the step t -> t+1, sex), sized so that after infant deaths
    they equal the ONS projected population aged 0 at t+1."""
    proj = ons_projection()
    return proj[1:, :, 0] / (1.0 - infant_death_probability())[None, :]


@persistent
def footprint_band_targets() -> tuple[list[str], np.ndarray, tuple[tuple[int, int], ...]]:
    """Footprint codes, the mid-2018 broad-band populations (44 x 3) and the bands' age ranges."""
    df = table("stp_population_broad_age").sort_values("stp17cd")
    bands = df[["age_0_64", "age_65_79", "age_80_plus"]].to_numpy(float)
    total = df["ons_mid2018_lsoa_total"].to_numpy(float)
    # The MSOA file lacks the Isles of Scilly; scale its bands to the full LSOA total.
    bands *= (total / bands.sum(axis=1))[:, None]
    return list(df["stp17cd"]), bands, ((0, 64), (65, 79), (80, MAX_AGE))


def check_years(first: int, last: int) -> None:
    if not (BASE_YEAR <= first <= last <= LAST_YEAR):
        raise ValueError(f"years must lie in {BASE_YEAR}..{LAST_YEAR}, got {first}..{last}")
