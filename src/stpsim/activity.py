"""Activity: per person-year rates by setting, sex, age and health segment, calibrated so that
England's base-year (2016/17) population reproduces the published national totals.

Each setting's rate is ``shape(sex, age) x scale``: the shape comes from published age-specific
figures where they exist and from logged assumptions where they do not; the scale makes the
England total equal the published 2016/17 figure. Segment multipliers then move activity between
fit and frail people of the same age without changing that age's rate (see docs/model.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import assumptions
from .axes import AGES, MAX_AGE, SEGMENTS, SETTINGS, band_index
from .cache import persistent
from .demography import births_by_sex, england_base
from .frailty import base_segment_shares
from .reference import fact, table

_HES_12M = "12 months Mar 2016 - Feb 2017"
# The 2016/17 HES A&E age distribution was not found; the nearest full one with a stated source
# is two months of 2011 (assumption ae_age_shares_2011_stand_for_2016_17).
AE_AGE_PERIOD = "Mar-11 + Nov-11"


@dataclass(frozen=True)
class Target:
    """A published national figure a setting is calibrated to."""

    value: float
    source: str


@dataclass(frozen=True)
class ActivityRates:
    settings: tuple[str, ...]
    rates: np.ndarray  # (setting, sex, age, segment), per person-year
    age_sex: np.ndarray  # (setting, sex, age): the calibrated rate for the base-year segment mix
    targets: dict[str, Target]


def _national(measure: str, period: str) -> float:
    return fact("national_activity_totals", measure, period=period)


def general_acute_occupied_bed_days() -> float:
    """England's 2016/17 general and acute bed days: KH03's January to March 2017 beds open
    overnight times their occupancy, times the year's average over winter, times 365."""
    beds = fact("general_acute_beds_2016_17", "kh03_general_acute_beds_available_overnight")
    occupancy = fact("general_acute_beds_2016_17", "kh03_general_acute_occupancy_overnight") / 100
    return beds * occupancy * float(assumptions.value("kh03_year_over_winter_occupied_beds")) * 365


def _unit_cost_count(item: str, year: str = "2016/17") -> float:
    return fact("unit_costs", item, column="item", value="activity_count", year=year)


def _banded(measure: str, period: str, table_name: str = "activity_rates_by_age") -> np.ndarray:
    """A banded published series spread over single years of age (step function)."""
    df = table(table_name)
    rows = df[(df["measure"] == measure) & (df["period"] == period) & (df["age_band"] != "all ages")]
    out = np.full(AGES.shape, np.nan)
    for r in rows.itertuples():
        hi = None if r.age_max is None or str(r.age_max) in ("", "<NA>") else int(r.age_max)
        out[band_index(int(r.age_min), hi)] = float(r.value)
    if np.isnan(out).any():
        raise ValueError(f"{table_name}.csv: {measure} {period} does not cover ages 0..{MAX_AGE}")
    return out


def _persons(pop: np.ndarray) -> np.ndarray:
    return pop.sum(axis=0)


def _admissions(pop: np.ndarray) -> dict[str, np.ndarray]:
    """Emergency, elective ordinary and day-case rates by (sex, age), with maternity removed."""
    persons = _persons(pop)
    all_fae = _national("Finished admission episodes (FAEs)", _HES_12M)
    emergency = _national("Emergency admissions (FAEs)", _HES_12M)
    day_cases = _national("Day case FCEs", _HES_12M)
    elective = _national("Reference cost activity: Elective Inpatients (EL)", "2016/17")
    fae = _banded("finished_admission_episodes_per_1000_population", "2015-16") / 1000.0
    fae *= all_fae / (fae * persons).sum()  # 2015-16 profile, 2016/17 level

    # Maternity and other admissions: one birth episode per baby in the 0-4 band, the rest to women of
    # 15-44 by fertility-shaped weights (assumption maternity_admission_age_weights).
    other_total = all_fae - emergency - day_cases - elective
    births = births_by_sex()[0].sum()
    women = np.zeros_like(pop)
    women[1] = assumptions.profile("maternity_admission_age_weights") * pop[1]
    other = women * (other_total - births) / women.sum()
    # HES gives the 0-4 band only, so birth episodes come off the band as a whole.
    other[:, :5] += births * pop[:, :5] / persons[:5].sum()
    non_maternity = fae - other.sum(axis=0) / persons
    if (non_maternity < 0).any():
        raise ValueError("maternity weights remove more admissions than HES records at some age")

    share = np.zeros(AGES.shape)
    share[AGES >= 85] = (
        fact("admissions_by_age_facts", "share_of_admissions_that_are_emergency_aged_85plus") / 100
    )
    share[(AGES >= 65) & (AGES <= 84)] = (
        fact("admissions_by_age_facts", "share_of_admissions_that_are_emergency_aged_65_to_84") / 100
    )
    under = AGES < 65
    known = (share * non_maternity * persons)[~under].sum()
    share[under] = (emergency - known) / (non_maternity * persons)[under].sum()
    assumptions.get("emergency_admission_share_under_65_constant")

    planned = (1.0 - share) * non_maternity
    assumptions.get("elective_to_day_case_ratio_constant_by_age")
    assumptions.get("admissions_same_rate_both_sexes")
    both = np.ones((2, 1))
    return {
        "emergency_admissions": both * share * non_maternity,
        "elective_admissions": both * planned * elective / (elective + day_cases),
        "day_cases": both * planned * day_cases / (elective + day_cases),
        "_all_admissions": both * fae,
        "_emergency_share_under_65": np.array(share[0]),
    }


def ae_age_band_shares() -> list[tuple[int, int | None, float]]:
    """Published A&E attendances by age group as (age_min, age_max, share of attendances of
    known age), from ``ae_attendances_by_age.csv`` for :data:`AE_AGE_PERIOD`."""
    df = table("ae_attendances_by_age")
    rows = df[
        (df["measure"] == "attendances") & (df["period"] == AE_AGE_PERIOD) & (df["age_band"] != "all ages")
    ]
    # Shares of the known-age count: attendances of unknown age are spread pro rata.
    known = float(rows["value"].sum())
    return [
        (int(r.age_min), None if _missing(r.age_max) else int(r.age_max), float(r.value) / known)
        for r in rows.itertuples()
    ]


def _ae(pop: np.ndarray) -> np.ndarray:
    """A&E attendances per person by (sex, age), scaled to one attendance for all England: each
    group's published share is spread evenly over its people, the same for both sexes."""
    assumptions.get("ae_rate_within_group_flat")
    assumptions.get("ae_age_shares_2011_stand_for_2016_17")
    persons = _persons(pop)
    shape = np.full(AGES.shape, np.nan)
    for lo, hi, share in ae_age_band_shares():
        mask = band_index(lo, hi)
        shape[mask] = share / persons[mask].sum()
    if np.isnan(shape).any():
        raise ValueError(f"ae_attendances_by_age.csv: {AE_AGE_PERIOD} does not cover ages 0..{MAX_AGE}")
    # Calibrated to 2016/17's older share: each side of 65 keeps its 2011 shape, scaled so the
    # over-65s' share is the published 2016/17 one; the total stays one attendance.
    older = AGES >= 65
    share_older = (shape * persons)[older].sum() / (shape * persons).sum()
    target = float(assumptions.value("ae_share_aged_65plus_2016_17")) / 100.0
    shape = np.where(older, shape * target / share_older, shape * (1 - target) / (1 - share_older))
    return np.ones((2, 1)) * shape


def _gp_share(all_rate: float) -> float:
    """GP share of GP plus practice-nurse consultations: the 2013-14 split of Hobbs et al.'s
    5.16 per person-year (assumption gp_nurse_consultation_split_2013_14)."""
    gp, nurse = (float(v) for v in assumptions.value("gp_nurse_consultation_split_2013_14"))
    # The split must divide the published total it claims to split, or one of them is stale.
    if abs(gp + nurse - all_rate) > 0.005:
        raise ValueError(f"GP {gp} + nurse {nurse} does not add up to the published {all_rate}")
    return gp / (gp + nurse)


def _gp_and_nurse(pop: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """GP and practice-nurse consultations per person by (sex, age), and their England total."""
    rate = fact("activity_rates_by_age", "GP_and_nurse_consultations_per_person_year", period="2013-14")
    gp_share = _gp_share(rate)
    rate *= float(assumptions.value("gp_rate_uplift_2013_14_to_2016_17"))
    shape = np.vstack([assumptions.profile("gp_relative_rate_by_band")] * 2)
    shape[1, AGES >= 15] *= float(assumptions.value("gp_female_to_male_ratio_adults"))
    total = rate * pop.sum()
    assumptions.get("practice_nurse_age_profile_as_gp")
    per_unit = shape / (shape * pop).sum()
    return per_unit * total * gp_share, per_unit * total * (1.0 - gp_share), total


def _outpatients(pop: np.ndarray, fae: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, float]:
    assumptions.get("outpatient_profile_from_admissions")
    total = _national("Outpatient appointments attended", _HES_12M)
    female = fact("ae_and_outpatient_by_age_facts", "outpatient_attendances", period="2019-20", sex="female")
    male = fact("ae_and_outpatient_by_age_facts", "outpatient_attendances", period="2019-20", sex="male")
    f_share = female / (female + male)
    sum_f, sum_m = (fae[1] * pop[1]).sum(), (fae[0] * pop[0]).sum()
    ratio = f_share * sum_m / ((1.0 - f_share) * sum_f)
    shape = np.vstack([fae[0], fae[1] * ratio])
    kinds = (
        "face-to-face, consultant-led",
        "non-face-to-face, consultant-led",
        "face-to-face, non-consultant-led",
        "non-face-to-face, non-consultant-led",
    )
    first = sum(_unit_cost_count(f"Outpatient first attendance, {k}") for k in kinds)
    follow = sum(_unit_cost_count(f"Outpatient follow-up attendance, {k}") for k in kinds)
    per_unit = shape / (shape * pop).sum()
    return (
        per_unit * total * first / (first + follow),
        per_unit * total * follow / (first + follow),
        total,
        first / (first + follow),
    )


def _scaled(shape_by_age: np.ndarray, pop: np.ndarray, total: float) -> np.ndarray:
    shape = np.ones((2, 1)) * shape_by_age
    return shape * total / (shape * pop).sum()


def _long_term_support(pop: np.ndarray) -> tuple[np.ndarray, float]:
    """People receiving long-term social care support, per person, by (sex, age)."""
    persons = _persons(pop)
    older = AGES >= 65
    working = (AGES >= 18) & (AGES <= 64)
    rate = np.zeros(AGES.shape)
    rate[working] = (
        fact(
            "activity_rates_by_age",
            "adults_receiving_long_term_social_care_support_per_1000",
            age_band="18-64",
        )
        / 1000
    )
    rel = assumptions.profile("long_term_care_relative_rate_65plus")
    rel_mean = np.average(rel[older], weights=persons[older])
    rate[older] = (
        rel[older]
        / rel_mean
        * fact(
            "activity_rates_by_age", "adults_receiving_long_term_social_care_support_per_1000", age_band="65+"
        )
        / 1000
    )
    clients = _national("Adults receiving long-term social care support during year", "2016/17")
    return _scaled(rate, pop, clients), clients


def _segment_multipliers() -> dict[str, np.ndarray]:
    m = {k: np.asarray(v, dtype=float) for k, v in assumptions.value("segment_multipliers").items()}
    hosp = m["admissions"]
    group = {
        "gp_consultations": m["primary_care"],
        "practice_nurse_consultations": m["primary_care"],
        "community_nursing_contacts": m["community"],
        "physiotherapy_contacts": m["physiotherapy"],
        "ae_attendances": m["ae"],
        "emergency_admissions": hosp,
        "elective_admissions": hosp,
        "day_cases": hosp,
        "outpatient_first": m["outpatients"],
        "outpatient_followup": m["outpatients"],
        "emergency_bed_days": hosp * m["bed_days_los"],
        "elective_bed_days": hosp * m["bed_days_los"],
        "home_care_hours": m["social_care"],
        "care_home_weeks": m["social_care"],
    }
    for k, v in group.items():
        if v.shape != (len(SEGMENTS),) or (v <= 0).any():
            raise ValueError(f"segment_multipliers for {k}: need {len(SEGMENTS)} positive values")
    return group


@persistent
def rates() -> ActivityRates:
    """The calibrated rate table for all settings (cached: it depends only on shipped data)."""
    pop = england_base()  # (sex, age) mid-2016
    adm = _admissions(pop)
    gp, nurse, gp_total = _gp_and_nurse(pop)
    op_first, op_follow, op_total, _ = _outpatients(pop, adm["_all_admissions"])
    los = _banded("mean_length_of_stay_ordinary_admissions_days", "2017-18")
    elective_los = float(assumptions.value("los_elective_to_all_ratio"))
    occupied = general_acute_occupied_bed_days()
    # HES's length of stay gives the age profile; KH03 the level (general and acute beds only).
    hes_bed_days = (
        (adm["emergency_admissions"] + adm["elective_admissions"] * elective_los) * los * pop
    ).sum()
    bed_scale = occupied / hes_bed_days
    weeks = float(assumptions.value("weeks_per_year"))
    clients, client_total = _long_term_support(pop)
    dn = _unit_cost_count("District nurse visit, adult, face-to-face (community health services)")
    physio = sum(
        _unit_cost_count(f"Physiotherapy, adult, {k} (community health services)")
        for k in ("one-to-one", "group")
    )
    residents = fact("admissions_by_age_facts", "care_home_residents_aged_65plus_at_any_time")
    care_home = _scaled(assumptions.profile("care_home_relative_prevalence_65plus"), pop, residents)
    ae_total = _national("A&E attendances, All types", "2016/17")
    home_share = float(assumptions.value("home_care_share_of_long_term_clients"))
    home_hours = float(assumptions.value("home_care_hours_per_client_week"))
    age_sex = {
        "gp_consultations": gp,
        "practice_nurse_consultations": nurse,
        "community_nursing_contacts": _scaled(
            assumptions.profile("community_nursing_relative_rate_by_band"), pop, dn
        ),
        "physiotherapy_contacts": _scaled(
            assumptions.profile("physiotherapy_relative_rate_by_band"), pop, physio
        ),
        "ae_attendances": _ae(pop) * ae_total,
        "emergency_admissions": adm["emergency_admissions"],
        "elective_admissions": adm["elective_admissions"],
        "day_cases": adm["day_cases"],
        "outpatient_first": op_first,
        "outpatient_followup": op_follow,
        "emergency_bed_days": adm["emergency_admissions"] * los * bed_scale,
        "elective_bed_days": adm["elective_admissions"] * los * elective_los * bed_scale,
        "home_care_hours": clients * home_share * home_hours * weeks,
        "care_home_weeks": care_home * weeks,
    }
    hes = "NHS Digital provisional monthly HES, 12 months to Feb 2017 (PUB23832)"
    targets = {
        "gp_and_nurse_consultations": Target(
            gp_total,
            "Hobbs et al. 2016: 5.16 GP+nurse consultations per person-year "
            "(2013-14) x King's Fund +7.5% (assumption) x 2016 population; GP 3.80 : nurse 1.36",
        ),
        "community_nursing_contacts": Target(
            dn, "NHS Reference Costs 2016/17: district nurse adult face-to-face (N02AF)"
        ),
        "physiotherapy_contacts": Target(
            physio, "NHS Reference Costs 2016/17: physiotherapy adult one-to-one + group"
        ),
        "ae_attendances": Target(
            ae_total,
            f"NHS England A&E attendances, all types, 2016/17; age shares HES A&E {AE_AGE_PERIOD}",
        ),
        "emergency_admissions": Target(_national("Emergency admissions (FAEs)", _HES_12M), hes),
        "general_and_acute_bed_days": Target(
            occupied,
            "NHS England KH03, January to March 2017: 103,666 general and acute beds open overnight, "
            "91.4% occupied, x 365, x the year's average over winter "
            "(assumption kh03_year_over_winter_occupied_beds)",
        ),
        "elective_admissions": Target(
            _national("Reference cost activity: Elective Inpatients (EL)", "2016/17"),
            "NHS Reference Costs 2016/17: elective inpatient FCEs (EL)",
        ),
        "day_cases": Target(_national("Day case FCEs", _HES_12M), hes),
        "outpatient_attendances": Target(op_total, hes + ": outpatient appointments attended"),
        "long_term_support_clients": Target(
            client_total, "NHS Digital ASC-FR 2016-17: adults receiving long-term support"
        ),
        "care_home_residents_65plus": Target(
            residents, "Improvement Analytics Unit 2019: care home residents 65+ at any time"
        ),
    }
    stacked = np.stack([age_sex[k] for k in SETTINGS])
    mult = _segment_multipliers()
    shares = base_segment_shares()  # (age, segment)
    full = np.stack(
        [
            stacked[i][:, :, None] * mult[k][None, None, :] / (shares @ mult[k])[None, :, None]
            for i, k in enumerate(SETTINGS)
        ]
    )
    if not np.isfinite(full).all() or (full < 0).any():
        raise ValueError("activity rates must be finite and non-negative")
    full.flags.writeable = False
    stacked.flags.writeable = False
    return ActivityRates(settings=SETTINGS, rates=full, age_sex=stacked, targets=targets)


def demand(population: np.ndarray, table_: ActivityRates | None = None) -> np.ndarray:
    """Expected activity by (..., setting) for a population (..., sex, age, segment)."""
    r = rates() if table_ is None else table_
    return np.einsum("...sag,ksag->...k", population, r.rates)


def demand_by_age(population: np.ndarray, table_: ActivityRates | None = None) -> np.ndarray:
    """Expected activity by (..., setting, age) for a population (..., sex, age, segment)."""
    r = rates() if table_ is None else table_
    return np.einsum("...sag,ksag->...ka", population, r.rates)


def _missing(x) -> bool:
    """A blank cell of a shipped table (pandas' NA), without importing pandas up front."""
    import pandas as pd

    return bool(pd.isna(x))
