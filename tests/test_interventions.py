"""The care-model library: every effect derived from its evidence, null evidence centred on no
effect, hospital at home's readmissions, stock effects that build up, and the --json document."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from rich.console import Console

from stpsim import activity, assumptions, cli, engine
from stpsim.axes import AGES, SEGMENTS, SETTINGS
from stpsim.cli import main
from stpsim.demography import england_base
from stpsim.frailty import base_segment_shares
from stpsim.interventions import (
    Intervention,
    build_up_factor,
    built_up,
    library,
    net_centrals,
)
from stpsim.parameters import Interval
from stpsim.plan import Plan
from stpsim.reference import fact

CH = SETTINGS.index("care_home_weeks")
EM = SETTINGS.index("emergency_admissions")
TAU = 2.2
NULL_OR_WEAK = ("null", "weak")


def test_every_effect_has_a_numbered_derivation():
    for spec in library().values():
        if not spec.effects:
            continue
        assert spec.evidence is not None, spec.name
        derivation = spec.evidence.derivation
        assert set(derivation) == set(spec.effects), spec.name
        for k, d in derivation.items():
            assert len(d.steps) >= 2, f"{spec.name}.{k}: study and target at least"
            assert all(s.startswith(f"{n}. ") for n, s in enumerate(d.steps, start=1))
            assert set(d.assumptions) <= set(assumptions.load()), f"{spec.name}.{k}"


def test_null_and_weak_evidence_is_centred_on_no_effect():
    checked = 0
    for spec in library().values():
        net = net_centrals(spec)
        for k, d in spec.evidence.derivation.items() if spec.evidence else ():
            if d.strength not in NULL_OR_WEAK:
                continue
            checked += 1
            # Bed days are per remaining admission: what must be centred is their net effect.
            assert abs(net[k]) <= 0.01, f"{spec.name}.{k}: net central {net[k]:+.4f}"
            if k not in ("emergency_bed_days", "elective_bed_days"):
                iv = spec.effects[k]
                assert iv.low < 0 < iv.high and abs(iv.low + iv.high) <= 0.01, f"{spec.name}.{k}"
    assert checked >= 6
    for name in ("community_extensivist", "direct_access_physiotherapy", "specialist_gp_urgent_care"):
        assert all(abs(c) <= 0.01 for c in net_centrals(library()[name]).values()), name


def test_hospital_at_home_counts_its_extra_readmissions():
    spec = library()["hospital_at_home"]
    d = spec.evidence.derivation["emergency_admissions"]
    avoided, readmitted = d.components["admissions_avoided"], d.components["readmissions"]
    risk = float(assumptions.value("readmission_risk_after_emergency_admission_older"))
    # Readmission RR 1.14 on a 26% readmission risk for the 5% treated at home: an increase.
    assert readmitted.central == pytest.approx(-avoided.central * (1.14 - 1.0) * risk, abs=5e-5)
    assert readmitted.central == pytest.approx(-0.0018, abs=1e-12) and readmitted.central < 0
    # The net effect the engine applies is the avoided index admissions less the readmissions.
    net = spec.effects["emergency_admissions"]
    assert net.central == pytest.approx(avoided.central + readmitted.central, abs=1e-12)
    assert net.central == pytest.approx(0.0482, abs=1e-12)
    assert net.central < avoided.central


def test_geriatricians_have_the_inpatient_cga_care_home_effect():
    spec = library()["geriatricians_front_door"]
    # RR 0.80 (20% fewer entries) x half reach x half of entrants after an emergency admission.
    assert spec.effects["care_home_weeks"].central == pytest.approx(0.20 * 0.5 * 0.5, abs=1e-12)
    # Conroy: 12.07% x 85+ share 0.553 x via A&E 0.723.
    assert spec.effects["emergency_admissions"].central == pytest.approx(
        8.4 / 69.6 * 0.553 * float(assumptions.value("emergency_admissions_via_ae_share")), abs=2e-4
    )


def _base_year_activity() -> np.ndarray:
    """England's 2016/17 activity by (setting, age, segment) in the model."""
    people = england_base()[:, :, None] * base_segment_shares()[None]
    return np.einsum("sag,ksag->kag", people, activity.rates().rates)


def _total(act: np.ndarray, setting: str, min_age: int, segments: tuple[str, ...] = SEGMENTS) -> float:
    seg = np.isin(np.array(SEGMENTS), segments)
    return float(act[SETTINGS.index(setting)][AGES >= min_age][:, seg].sum())


def test_model_shares_the_derivations_quote_still_hold():
    act = _base_year_activity()
    frail = ("mild", "moderate", "severe")
    share_85 = _total(act, "emergency_admissions", 85, frail) / _total(act, "emergency_admissions", 75, frail)
    assert share_85 == pytest.approx(0.553, rel=0.05)
    assert _total(act, "emergency_bed_days", 65) == pytest.approx(15.50e6, rel=0.05)
    assert _total(act, "outpatient_followup", 0) == pytest.approx(62.4e6, rel=0.05)
    weeks = float(assumptions.value("weeks_per_year"))
    residents = _total(act, "care_home_weeks", 75, ("severe",)) / weeks
    assert residents == pytest.approx(41_400, rel=0.05)
    assert residents * 0.70 / _total(act, "emergency_admissions", 75, ("severe",)) == pytest.approx(
        0.193, rel=0.05
    )
    assert residents * 0.98 / _total(act, "ae_attendances", 75, ("severe",)) == pytest.approx(0.146, rel=0.05)
    via_ae = fact("national_activity_totals", "Emergency admissions via A&E, All types", period="2016/17")
    all_em = fact(
        "national_activity_totals", "Emergency admissions (FAEs)", period="12 months Mar 2016 - Feb 2017"
    )
    assert assumptions.value("emergency_admissions_via_ae_share") == pytest.approx(via_ae / all_em, abs=5e-4)


def test_care_home_build_up_uses_the_logged_mean_stay():
    stock = fact("admissions_by_age_facts", "care_home_residents_aged_65plus_at_any_time")
    tau = float(assumptions.value("care_home_mean_stay_years"))
    # 274,000 at any time, 398,000 at some point in the year: 124,000 entrants a year.
    assert round(stock / (398_000 - stock), 1) == tau == TAU
    with_effect = [s for s in library().values() if "care_home_weeks" in s.effects]
    assert with_effect and all(s.build_up_years == {"care_home_weeks": tau} for s in with_effect)


def test_build_up_worked_example():
    # Full coverage from 2016/17: each year at its middle, 0.5, 1.5, ... years on.
    full = built_up(np.ones(5), TAU)
    expected = [1 - math.exp(-(j + 0.5) / TAU) for j in range(5)]
    assert full == pytest.approx(expected, rel=1e-12)
    assert full == pytest.approx([0.20329653, 0.49430329, 0.67901588, 0.79625969, 0.87067861], abs=1e-8)
    assert build_up_factor(0.5, 2.5) == pytest.approx(1 - math.exp(-0.2), rel=1e-12)
    assert build_up_factor(-1.0, TAU) == 0.0
    # The default ramp (a third a year): in 2018/19 the 2017/18 third has run 1.5 years and the
    # 2018/19 third half a year.
    ramp = built_up(np.array([0, 1 / 3, 2 / 3, 1, 1]), TAU)
    assert ramp[2] == pytest.approx((expected[1] + expected[0]) / 3, rel=1e-12)
    assert ramp == pytest.approx([0.0, 0.06776551, 0.23253327, 0.4588719, 0.65652629], abs=1e-8)


@settings(max_examples=200, deadline=None)
@given(
    steps=st.lists(st.floats(0, 1), min_size=1, max_size=25),
    tau=st.floats(0.05, 30),
)
def test_build_up_never_falls_while_coverage_rises_and_never_exceeds_it(steps, tau):
    levels = np.minimum(np.cumsum(steps), 1.0)  # coverage that only rises, capped at full
    b = built_up(levels, tau)
    assert (np.diff(b) >= -1e-12).all()
    assert (b <= levels + 1e-12).all() and (b >= 0).all()


@settings(max_examples=200, deadline=None)
@given(levels=st.lists(st.floats(0, 1), min_size=1, max_size=25), tau=st.floats(0.05, 30))
def test_build_up_never_exceeds_the_highest_coverage_reached(levels, tau):
    b = built_up(np.array(levels), tau)
    assert (b <= np.maximum.accumulate(levels) + 1e-12).all() and (b >= 0).all()


def _gm(name: str, custom: list | None = None) -> Plan:
    return Plan.model_validate(
        {
            "name": "build-up",
            "footprints": ["E54000007"],
            "start_year": "2016/17",
            "end_year": "2020/21",
            "interventions": [{"name": name, "coverage": 1.0, "ramp": {"2016/17": 1.0}}],
            "custom_interventions": custom or [],
            "monte_carlo": {"draws": 1, "seed": 3},
        }
    )


def test_engine_builds_care_home_effects_up_and_leaves_flows_alone():
    hah = library()["hospital_at_home"]
    a = engine.adopted_interventions(_gm("hospital_at_home"))[0]
    assert a.level()[:, CH] == pytest.approx(build_up_factor(np.arange(5) + 0.5, TAU), rel=1e-12)
    assert (a.level()[:, EM] == 1.0).all()
    # The same model without build-up: care-home weeks avoided differ by exactly the factor.
    at_once = hah.model_dump() | {"name": "hah_at_once", "build_up_years": {}}
    built = engine.run_block(_gm("hospital_at_home"), ["E54000007"], range(1)).avoided[0, 0, :, 0]
    whole = engine.run_block(_gm("hah_at_once", [at_once]), ["E54000007"], range(1)).avoided[0, 0, :, 0]
    assert built[:, CH] / whole[:, CH] == pytest.approx(build_up_factor(np.arange(5) + 0.5, TAU), rel=1e-9)
    assert built[:, EM] == pytest.approx(whole[:, EM], rel=1e-12)


def _minimal(**extra) -> dict:
    doc = {"name": "m", "title": "M", "effects": {"care_home_weeks": {"low": 0.01, "high": 0.03}}}
    return doc | extra


def test_schema_rejects_inconsistent_derivations_and_build_ups():
    evidence = {"source": "s", "effect_size": "e", "strength": "weak"}
    step = {"strength": "moderate", "steps": ["1. study", "2. target"]}
    Intervention.model_validate(_minimal(build_up_years={"care_home_weeks": 2.2}))
    bad = [
        _minimal(build_up_years={"emergency_admissions": 2.2}),
        _minimal(build_up_years={"care_home_weeks": 0}),
        _minimal(evidence=evidence | {"derivation": {"home_care_hours": step}}),
        _minimal(evidence=evidence | {"derivation": {"care_home_weeks": step | {"steps": ["study"]}}}),
        _minimal(
            evidence=evidence | {"derivation": {"care_home_weeks": step | {"assumptions": ["no_such"]}}}
        ),
        _minimal(evidence=evidence | {"derivation": {"care_home_weeks": step | {"extra": 1}}}),
        _minimal(
            evidence=evidence
            | {"derivation": {"care_home_weeks": step | {"components": {"a": {"low": 0.0, "high": 0.01}}}}}
        ),
    ]
    for doc in bad:
        with pytest.raises(ValidationError):
            Intervention.model_validate(doc)


def test_json_lists_effects_with_central_and_derivations(capsys):
    assert cli.main(["interventions", "--json"]) == 0
    models = {m["name"]: m for m in json.loads(capsys.readouterr().out)["interventions"]}
    assert set(models) == set(library())
    for name, m in models.items():
        assert {"target", "effects", "substitution", "costs", "evidence", "build_up_years"} <= set(m)
        for k, e in m["effects"].items():
            assert set(e) == {"low", "high", "central"}, f"{name}.{k}"
            # The central value is the 80% interval's midpoint, written out (not the library's own
            # Interval.central, which made it).
            assert e["central"] == (e["low"] + e["high"]) / 2, f"{name}.{k}"
            assert e["low"] <= e["central"] <= e["high"]
        if m["effects"]:
            derivation = m["evidence"]["derivation"]
            assert set(derivation) == set(m["effects"]) and all(d["steps"] for d in derivation.values())
    readmitted = models["hospital_at_home"]["evidence"]["derivation"]["emergency_admissions"]["components"]
    assert readmitted["readmissions"]["central"] < 0


def test_table_marks_adverse_effects(capsys, monkeypatch):
    # Wide enough that no phrase checked here is wrapped over two lines.
    monkeypatch.setattr(cli, "out", Console(width=400))
    assert cli.main(["interventions"]) == 0
    out = capsys.readouterr().out
    assert "ADVERSE" in out and "of which readmissions" in out and "Conroy" in out


def test_effects_read_as_fewer_or_more_never_a_plus_for_a_reduction(capsys):
    """Issue 20: the library table said "+4.8%" for 4.8% fewer admissions."""
    from stpsim.interventions import _described

    assert _described(Interval(low=0.012, high=0.085)) == "4.9% fewer (1.2% fewer to 8.5% fewer)"
    assert _described(Interval(low=-0.101, high=-0.001)) == "5.1% more (10.1% more to 0.1% more) ADVERSE"
    assert _described(Interval(low=-0.01, high=0.01)) == "no change (1.0% more to 1.0% fewer)"
    assert main(["interventions"]) == 0
    out = capsys.readouterr().out
    assert "fewer" in out and "(+" not in out
