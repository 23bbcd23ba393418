"""The Monte Carlo engine: determinism, common random numbers, the direction and size of
care-model effects, substitution, parameter draws, and agreement with a person-level model."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stpsim import activity, engine, frailty, parameters, plan, population
from stpsim.axes import ALL_SETTINGS, SETTINGS
from stpsim.interventions import library

from .reference_person_model import expand, simulate

EM = ALL_SETTINGS.index("emergency_admissions")


def gm(interventions=(), draws=200, seed=11, **extra):
    return plan.validate(
        {
            "name": "test",
            "footprints": ["E54000007"],
            "end_year": "2020/21",
            "monte_carlo": {"draws": draws, "seed": seed},
            "interventions": list(interventions),
            **extra,
        }
    )


ALL_ON = [{"name": n, "coverage": 0.8} for n in library()]


def test_same_seed_is_bit_identical_and_a_new_seed_differs():
    a, b, c = engine.run(gm(ALL_ON)), engine.run(gm(ALL_ON)), engine.run(gm(ALL_ON, seed=12))
    assert np.array_equal(a.activity, b.activity) and np.array_equal(a.do_nothing, b.do_nothing)
    assert not np.array_equal(a.activity, c.activity)


def test_do_nothing_shares_draws_with_the_plan():
    with_plan, without = engine.run(gm(ALL_ON)), engine.run(gm())
    # Same growth draws and the same noise; only summation order differs.
    assert np.allclose(with_plan.do_nothing, without.activity, rtol=1e-12)


def test_draw_zero_is_the_central_estimate():
    r = engine.run(gm(ALL_ON))
    central = engine.run(gm(ALL_ON, draws=1))
    assert np.array_equal(r.activity[0], central.activity[0])


def test_admission_avoidance_lowers_admissions_in_every_draw_with_a_positive_effect():
    p = gm([{"name": "geriatricians_front_door", "coverage": 0.9}], draws=500)
    r = engine.run(p)
    effect = engine.effect_draws(engine.adopted_interventions(p), engine.parameter_draws(p, range(500)))[
        0, :, EM
    ]
    years_on = np.array(engine.adopted_interventions(p)[0].ramp) > 0
    diff = (r.activity[..., EM] - r.do_nothing[..., EM]).sum(axis=2)  # (draw, year)
    assert (effect > 0).sum() > 400 and (effect < 0).any()
    assert (diff[effect > 0][:, years_on] < 0).all()
    assert (diff[effect < 0][:, years_on] > 0).all()
    assert (diff[:, ~years_on] == 0).all()


@settings(max_examples=25, deadline=None)
@given(
    c1=st.floats(0, 1),
    c2=st.floats(0, 1),
    name=st.sampled_from(
        [
            "geriatricians_front_door",
            "hospital_at_home",
            "specialist_gp_long_term_conditions",
            "enhanced_care_home_support",
            "community_extensivist",
        ]
    ),
)
def test_more_coverage_never_increases_targeted_activity(c1, c2, name):
    lo, hi = sorted((c1, c2))
    a = engine.run_block(gm([{"name": name, "coverage": lo}], draws=64), ["E54000007"], range(64))
    b = engine.run_block(gm([{"name": name, "coverage": hi}], draws=64), ["E54000007"], range(64))
    p = gm([{"name": name, "coverage": hi}], draws=64)
    effect = engine.effect_draws(engine.adopted_interventions(p), engine.parameter_draws(p, range(64)))[
        0, :, EM
    ]
    pos = effect >= 0
    assert (b.expected[pos][..., EM] <= a.expected[pos][..., EM] + 1e-6).all()


def test_substitution_adds_the_documented_activity_elsewhere():
    custom = {
        "name": "falls_team",
        "title": "Falls team",
        "target": {"min_age": 65},
        "effects": {"emergency_admissions": {"low": 0.1, "high": 0.1}},
        "substitution": {
            "emergency_admissions": {
                "community_nursing_contacts": {"low": 2.5, "high": 2.5},
                "geriatrician_hours": {"low": 1.0, "high": 1.0},
            }
        },
    }
    p = gm(
        [{"name": "falls_team", "coverage": 1.0, "ramp": {"2016/17": 1.0}}],
        custom_interventions=[custom],
        draws=20,
    )
    r = engine.run_block(p, ["E54000007"], range(20))
    avoided = r.do_nothing_expected[..., EM] - r.expected[..., EM]
    cn = ALL_SETTINGS.index("community_nursing_contacts")
    assert np.allclose(r.expected[..., cn] - r.do_nothing_expected[..., cn], 2.5 * avoided)
    assert np.allclose(r.expected[..., ALL_SETTINGS.index("geriatrician_hours")], avoided)
    # 10% of the 65+ share of emergency admissions, every year.
    older = activity.demand_by_age(population.footprint_base()[1][2])[
        SETTINGS.index("emergency_admissions"), 65:
    ]
    assert avoided[0, 0, 0] == pytest.approx(0.1 * older.sum(), rel=0.05)


def test_bed_days_fall_with_avoided_admissions():
    p = gm([{"name": "hospital_at_home", "coverage": 1.0}], draws=200)
    r = engine.run_block(p, ["E54000007"], range(200))
    effect = engine.effect_draws(engine.adopted_interventions(p), engine.parameter_draws(p, range(200)))[
        0, :, EM
    ]
    bd = ALL_SETTINGS.index("emergency_bed_days")
    pos = effect > 0
    assert (r.expected[pos, 1:, :, bd] < r.do_nothing_expected[pos, 1:, :, bd]).all()


def test_sampled_assumptions_are_centred_on_their_stated_value():
    from stpsim import assumptions

    for a in assumptions.load().values():
        if a.id.startswith("growth_") or a.id in {p for _, p in engine.CAPACITY.values()}:
            if a.low is not None:
                assert a.value == pytest.approx((a.low + a.high) / 2), a.id


def test_parameter_draws_match_their_80_percent_interval():
    iv = parameters.Interval.of(0.02, 0.08)
    x = parameters.draw(iv, seed=5, name="effect/x", draws=range(40_000))
    assert np.mean(x < 0.02) == pytest.approx(0.10, abs=0.01)
    assert np.mean(x > 0.08) == pytest.approx(0.10, abs=0.01)
    assert x[0] == pytest.approx(0.05)


def test_draws_do_not_depend_on_how_they_are_chunked():
    whole = parameters.standard_normals(3, 1, (9,), range(0, 700))
    parts = np.concatenate(
        [parameters.standard_normals(3, 1, (9,), range(a, b)) for a, b in ((0, 100), (100, 129), (129, 700))]
    )
    assert np.array_equal(whole, parts)


def test_capacity_is_bed_days_at_the_target_occupancy():
    r = engine.run(gm(ALL_ON, draws=1))
    bed_days = r.activity[
        0, :, 0, [ALL_SETTINGS.index("emergency_bed_days"), ALL_SETTINGS.index("elective_bed_days")]
    ]
    assert np.allclose(r.capacity["beds"][0, :, 0], bed_days.sum(axis=0) / 365 / 0.85)


def test_results_json_and_exports(tmp_path):
    r = engine.run(gm(ALL_ON, draws=50))
    doc = r.to_dict()
    assert doc["plan"] == "test" and doc["footprints"] == ["E54000007"] and doc["draws"] == 50
    assert doc["years"] == ["2016/17", "2017/18", "2018/19", "2019/20", "2020/21"]
    for k in SETTINGS:
        for y in doc["years"]:
            s = doc["activity"][k][y]
            assert set(s) == {"mean", "p10", "p50", "p90"} and s["p10"] <= s["p50"] <= s["p90"]
            assert set(doc["do_nothing"]["activity"][k][y]) == {"mean", "p10", "p50", "p90"}
    assert {"beds", "gp_sessions", "community_nursing_sessions"} <= set(doc["capacity"])
    frame = r.to_frame()
    assert len(frame) == 50 * 5 * 1 * 2 * (len(ALL_SETTINGS) + len(r.capacity))
    r.to_parquet(tmp_path)
    assert len(pd.read_parquet(tmp_path / "results.parquet")) == len(frame)
    r.to_excel(tmp_path / "r.xlsx")
    sheets = pd.read_excel(tmp_path / "r.xlsx", sheet_name=None)
    assert {"summary", "footprints", "plan", "assumptions", "sources"} <= set(sheets)


def test_cell_engine_agrees_in_distribution_with_a_person_level_model():
    """Closed population of 8,000 older people: activity by year from a person-by-person
    simulation against the cell engine's expected values and Poisson noise."""
    rng = np.random.default_rng(2016)
    _, cells = population.footprint_base()
    gm_cells = cells[2]  # Greater Manchester (sex, age, segment)
    older = np.zeros_like(gm_cells)
    older[:, 60:, :] = gm_cells[:, 60:, :]
    older *= 8_000 / older.sum()
    sex, age, seg = expand(older, rng)
    base = np.zeros_like(older)
    np.add.at(base, (sex, age, seg), 1.0)
    dyn = frailty.dynamics()
    checked = ("emergency_admissions", "ae_attendances", "gp_consultations", "emergency_bed_days")
    rates = activity.rates().rates
    years, reps = 3, 300
    person = simulate(
        sex,
        age,
        seg,
        dyn.death,
        dyn.transition,
        rates[[SETTINGS.index(k) for k in checked]],
        years,
        reps,
        rng,
    )
    pop, mu = base, []
    for _ in range(years):
        mu.append(activity.demand(pop))
        pop = population.survive_and_age(pop, dyn.death, dyn.transition)[1]
    mu = np.array(mu)  # (year, setting)
    for j, k in enumerate(checked):
        i = SETTINGS.index(k)
        for t in range(years):
            x = person[:, t, j]
            se = x.std(ddof=1) / np.sqrt(reps)
            assert abs(x.mean() - mu[t, i]) < 4 * se, (k, t)
        # Year 0 has no demographic noise: counts are Poisson, as in the engine.
        if k != "emergency_bed_days":  # bed days are admissions x length of stay, overdispersed
            assert person[:, 0, j].var(ddof=1) / mu[0, i] == pytest.approx(1.0, abs=0.2)


def test_top_level_run_accepts_a_plan_file():
    import stpsim

    r = stpsim.run("examples/cornwall.yaml")
    s = r.summary()
    assert set(s.columns) == {"scenario", "measure", "year", "mean", "p10", "p50", "p90"}
    row = s[(s.scenario == "difference") & (s.measure == "emergency_admissions") & (s.year == "2020/21")]
    assert row["mean"].item() < 0


def test_the_reporting_window_does_not_change_results():
    ramp = {"2016/17": 0.5, "2019/20": 1.0}
    full = engine.run(
        gm([{"name": "hospital_at_home", "coverage": 0.5, "ramp": ramp}], draws=20), incentives=False
    )
    late = engine.run(
        gm([{"name": "hospital_at_home", "coverage": 0.5, "ramp": ramp}], draws=20, start_year="2018/19"),
        incentives=False,
    )
    assert np.allclose(full.activity[:, 2:], late.activity, rtol=1e-12)
    assert np.allclose(
        full.finance.footprints[0].surplus[..., 2:], late.finance.footprints[0].surplus, rtol=1e-9, atol=1.0
    )


def test_extreme_growth_stays_finite():
    r = engine.run(gm(growth={"emergency_admissions": {"low": -50, "high": 50}}, draws=300), incentives=False)
    assert np.isfinite(r.activity).all() and (r.activity >= 0).all()


def test_chunked_runs_equal_one_block(monkeypatch):
    p = gm(ALL_ON, draws=300)
    whole = engine.run_block(p, ["E54000007"], range(300))
    monkeypatch.setattr(engine, "CHUNK", 128)
    parts = engine.run_chunked(p, ["E54000007"], range(300))
    assert np.array_equal(whole.activity, parts.activity) and np.array_equal(whole.avoided, parts.avoided)


def test_runs_too_large_for_memory_are_refused_before_work():
    codes = [f"E54{n:06d}" for n in range(5, 49)]
    big = plan.validate(
        {"name": "big", "footprints": codes, "end_year": "2035/36", "monte_carlo": {"draws": 100_000}}
    )
    with pytest.raises(engine.RunTooLarge, match="GiB"):
        engine.run(big)
