"""Activity: the base year reproduces the published national totals it is calibrated to, rates
are sane, and the model's age structure does what the evidence says."""

import numpy as np
import pandas as pd
import pytest

from stpsim import activity, assumptions, demography, frailty
from stpsim.axes import AGES, SETTINGS, band_index
from stpsim.reference import fact, table


@pytest.fixture(scope="module")
def england_demand(england_cells):
    return dict(zip(SETTINGS, activity.demand(england_cells), strict=True))


PUBLISHED_2016_17 = {
    # setting: (measure in national_activity_totals.csv, period)
    "ae_attendances": ("A&E attendances, All types", "2016/17"),
    "emergency_admissions": ("Emergency admissions (FAEs)", "12 months Mar 2016 - Feb 2017"),
    "day_cases": ("Day case FCEs", "12 months Mar 2016 - Feb 2017"),
    "elective_admissions": ("Reference cost activity: Elective Inpatients (EL)", "2016/17"),
}


@pytest.mark.parametrize("setting", sorted(PUBLISHED_2016_17))
def test_base_year_reproduces_published_hospital_totals(england_demand, setting):
    measure, period = PUBLISHED_2016_17[setting]
    assert england_demand[setting] == pytest.approx(
        fact("national_activity_totals", measure, period=period), rel=1e-9
    )


def test_outpatients_total_the_published_attended_appointments(england_demand):
    total = england_demand["outpatient_first"] + england_demand["outpatient_followup"]
    published = fact(
        "national_activity_totals", "Outpatient appointments attended", period="12 months Mar 2016 - Feb 2017"
    )
    assert total == pytest.approx(published, rel=1e-9)
    assert 0.30 < england_demand["outpatient_first"] / total < 0.35


def test_gp_consultations_match_the_published_rate(england_demand):
    per_head = (
        england_demand["gp_consultations"] + england_demand["practice_nurse_consultations"]
    ) / 55_268_067
    assert per_head == pytest.approx(5.16 * 1.075, rel=1e-9)


def test_gp_and_nurse_split_in_hobbs_2013_14_ratio(england_demand):
    # Issue 9: was the QResearch 2008 staff mix, 62:34 (GP 198.0m, nurse 108.6m); now 3.80:1.36
    # (GP 225.8m, nurse 80.8m) with the 306.6m total unchanged.
    gp, nurse = england_demand["gp_consultations"], england_demand["practice_nurse_consultations"]
    assert gp / nurse == pytest.approx(3.80 / 1.36, rel=1e-9)
    assert gp + nurse == pytest.approx(5.16 * 1.075 * 55_268_067, rel=1e-9)
    split = assumptions.value("gp_nurse_consultation_split_2013_14")
    published = fact("activity_rates_by_age", "GP_and_nurse_consultations_per_person_year", period="2013-14")
    assert sum(split) == pytest.approx(published), "the split must divide the shipped 5.16"


def test_ae_attendances_keep_the_2011_shapes_with_2016_17s_older_share(england_cells):
    # The age shapes come from pooled counts in ae_attendances_by_age.csv (2011, the nearest full
    # distribution found to 2016/17); the share aged 65 and over is calibrated to 2016/17's
    # (assumption ae_share_aged_65plus_2016_17: 21%, between NHS Digital's 19% in 2010-11 and 22%
    # in 2019-20). Each side of 65 keeps its 2011 shape; England's total is NHS England's.
    from stpsim import assumptions

    ae = activity.demand_by_age(england_cells)[SETTINGS.index("ae_attendances")]
    assert ae.sum() == pytest.approx(23_362_301, rel=1e-9)
    older = AGES >= 65
    target = float(assumptions.value("ae_share_aged_65plus_2016_17")) / 100
    assert target == 0.21
    assert ae[older].sum() / ae.sum() == pytest.approx(target, rel=1e-9)
    df = table("ae_attendances_by_age")
    rows = df[
        (df["measure"] == "attendances")
        & (df["period"] == activity.AE_AGE_PERIOD)
        & (df["age_band"] != "all ages")
    ]
    covered = np.zeros(AGES.shape, dtype=int)
    # Bands wholly under 65 keep their 2011 shares relative to each other.
    young = [r for r in rows.itertuples() if not pd.isna(r.age_max) and int(r.age_max) < 65]
    bands = [band_index(int(r.age_min), int(r.age_max)) for r in young]
    in_young = sum(ae[b].sum() for b in bands)
    total_young = sum(r.value for r in young)
    for r, band in zip(young, bands, strict=True):
        assert ae[band].sum() / in_young == pytest.approx(r.value / total_young, rel=1e-9)
    for r in rows.itertuples():
        covered += band_index(int(r.age_min), None if pd.isna(r.age_max) else int(r.age_max))
    assert (covered == 1).all(), "the shipped groups cover every age once"


def test_community_and_social_care_match_published_counts(england_demand):
    assert england_demand["community_nursing_contacts"] == pytest.approx(30_371_780, rel=1e-9)
    assert england_demand["physiotherapy_contacts"] == pytest.approx(3_422_019 + 146_320, rel=1e-9)
    assert england_demand["care_home_weeks"] == pytest.approx(274_000 * 52.18, rel=1e-9)
    clients = 868_000
    assert england_demand["home_care_hours"] == pytest.approx(clients * 0.40 * 11.0 * 52.18, rel=1e-9)


def test_bed_days_follow_length_of_stay(england_demand):
    mean_los = england_demand["emergency_bed_days"] / england_demand["emergency_admissions"]
    assert 4.0 < mean_los < 7.0, "older patients stay longer, so the mean sits above the all-ages 4.9"


def test_rates_are_finite_and_non_negative():
    r = activity.rates().rates
    assert r.shape == (len(SETTINGS), 2, len(AGES), 4)
    assert np.isfinite(r).all() and (r >= 0).all()


def test_segment_multipliers_keep_each_ages_rate():
    t = activity.rates()
    shares = frailty.base_segment_shares()
    mixed = np.einsum("ksag,ag->ksa", t.rates, shares)
    assert np.allclose(mixed, t.age_sex)


def test_frail_people_use_more_hospital_care_than_fit_people_of_the_same_age():
    r = activity.rates().rates[SETTINGS.index("emergency_admissions")]
    ratio = r[:, 80, 3] / r[:, 80, 0]
    assert np.allclose(ratio, 4.73), "severe frailty hazard ratio for hospitalisation (Clegg 2016)"


def test_emergency_admissions_are_two_in_three_admissions_at_85_plus():
    t = activity.rates()
    pop = demography.england_base()
    em = (t.age_sex[SETTINGS.index("emergency_admissions")] * pop)[:, 85:].sum()
    planned = sum(
        (t.age_sex[SETTINGS.index(k)] * pop)[:, 85:].sum() for k in ("elective_admissions", "day_cases")
    )
    assert em / (em + planned) == pytest.approx(2 / 3, abs=0.001)


def test_older_people_drive_emergency_demand():
    r = activity.rates().age_sex[SETTINGS.index("emergency_admissions")]
    assert r[0, 90] > 3 * r[0, 40]
    assert activity.rates().age_sex[SETTINGS.index("care_home_weeks")][:, :65].sum() == 0


def test_englands_2016_17_bed_days_are_kh03s_general_and_acute_beds():
    """Issue 19, item 9: bed days are calibrated to KH03 (general and acute beds open overnight,
    January to March 2017, times occupancy, times the year's average over winter), so at KH03's
    own occupancy England's 2016/17 beds are KH03's beds less the winter peak."""
    from stpsim.axes import SETTINGS
    from stpsim.demography import england_base

    r = activity.rates()
    pop = england_base()
    days = sum(
        (r.age_sex[SETTINGS.index(k)] * pop).sum() for k in ("emergency_bed_days", "elective_bed_days")
    )
    expected = 103_666 * 0.914 * 0.97 * 365
    assert days == pytest.approx(expected, rel=1e-12)
    assert r.targets["general_and_acute_bed_days"].value == pytest.approx(expected, rel=1e-12)
    assert days / 365 / 0.914 == pytest.approx(103_666 * 0.97, rel=1e-12)
    # The age profile is HES's: the over-85s stay longer per admission than the under-65s.
    i = SETTINGS.index("emergency_bed_days")
    j = SETTINGS.index("emergency_admissions")
    los = r.age_sex[i] / np.where(r.age_sex[j] > 0, r.age_sex[j], np.nan)
    assert np.nanmean(los[:, 85:]) > 2 * np.nanmean(los[:, 20:65])
