"""Investment and payback per care model, and workforce: worked examples by hand, then a real
Greater Manchester run."""

from __future__ import annotations

import numpy as np
import pytest

from stpsim import assumptions, engine, plan
from stpsim.analysis import payback, workforce
from stpsim.axes import year_label

# ---- Worked examples -----------------------------------------------------------------------
# Convention: the plan's first year is t = 0 and is not discounted; year t is divided by 1.035^t.


def test_npv_of_a_worked_example_by_hand():
    # Cost 100 in year 0, savings 30 a year in years 1 to 4 (five years of flows).
    flows = [-100.0, 30.0, 30.0, 30.0, 30.0]
    by_hand = -100 + 30 / 1.035 + 30 / 1.035**2 + 30 / 1.035**3 + 30 / 1.035**4
    assert payback.npv(flows, 0.035) == pytest.approx(by_hand, rel=1e-12)
    # The same as the annuity formula, and about 10.19.
    assert by_hand == pytest.approx(-100 + 30 * (1 - 1.035**-4) / 0.035, rel=1e-12)
    assert payback.npv(flows, 0.035) == pytest.approx(10.1924, abs=1e-4)
    # Undiscounted, the NPV is the plain sum; over draws it works row by row.
    assert payback.npv(flows, 0.0) == pytest.approx(20.0)
    both = payback.npv(np.array([flows, [0.0, 0.0, 0.0, 0.0, 1.035**4]]), 0.035)
    assert both[0] == pytest.approx(by_hand) and both[1] == pytest.approx(1.0)


def test_payback_year_of_a_worked_example():
    years = ["2016/17", "2017/18", "2018/19", "2019/20", "2020/21"]
    cumulative = np.cumsum([-100.0, 30.0, 30.0, 30.0, 30.0])  # -100, -70, -40, -10, 20
    assert payback.payback_year(years, cumulative) == "2020/21"
    assert payback.payback_year(years, [-1, -1, -1, -1, -1]) is None
    # Nothing happens before the care model starts: counting starts there.
    assert payback.payback_year(years, [0, 0, -5, 2, 4]) == "2016/17"
    assert payback.payback_year(years, [0, 0, -5, 2, 4], start=2) == "2019/20"
    assert payback.payback_year(years, [0, 0, 0, 0, 0], start=1) == "2017/18"


def test_green_book_rate_is_logged():
    a = assumptions.get("discount_rate_green_book")
    assert a.value == 3.5 and "Green Book" in a.why
    assert payback.discount_rate() == pytest.approx(0.035)


def test_workforce_conversions_of_worked_examples():
    # 4,000 GP sessions a year at 400 sessions per WTE = 10 WTE.
    assert workforce.wte_from_sessions(4000, 400) == pytest.approx(10.0)
    # 3,150 clinical programmed activities at 315 per consultant WTE = 10 WTE.
    assert workforce.wte_from_sessions(3150, 315) == pytest.approx(10.0)
    # 9,295 home care hours: a WTE works 1,690 hours, 55% with clients (929.5 hours) = 10 WTE.
    assert workforce.home_care_wte(9295, 1690, 0.55) == pytest.approx(10.0)
    # 52 residents all year (2,704 resident weeks) at 20 care hours a week = 54,080 hours,
    # at 1,690 hours per WTE = 32 WTE.
    assert workforce.care_home_wte(52 * 52, 20, 1690) == pytest.approx(32.0)
    assert workforce.wte_from_hours(1690, 1690) == pytest.approx(1.0)
    # Arrays go through element by element.
    assert np.allclose(workforce.wte_from_sessions(np.array([400, 800]), 400), [1, 2])


def test_workforce_factors_are_logged_with_sources():
    for k in workforce.FACTORS:
        a = assumptions.get(k)
        assert a.low is not None and a.low <= a.value <= a.high, k
        assert a.why, k


# ---- Greater Manchester --------------------------------------------------------------------


@pytest.fixture(scope="module")
def gm():
    p = plan.load("examples/greater_manchester.yaml")
    p = p.model_copy(update={"monte_carlo": plan.MonteCarlo(draws=40, seed=1)})
    return engine.run(p)


def test_incentives_by_year_keep_the_last_year_matrix(gm):
    fin = gm.finance
    assert set(fin.incentives_by_year) == set(fin.incentives)
    for key, gain in fin.incentives.items():
        by_year = fin.incentives_by_year[key]
        assert by_year.shape == (gm.draws, len(gm.years))
        assert np.array_equal(by_year[:, -1], gain), key


def test_investment_is_paid_as_coverage_rises_and_running_cost_while_it_runs(gm):
    """Investment is non-recurrent: a care model invests only in the years its coverage rises
    (nothing once its ramp is done), and runs at a cost in every year it has coverage (nothing
    before it starts)."""
    from stpsim.adoption import adopted_interventions

    adopted = adopted_interventions(engine.from_base_year(gm.plan))
    t0 = gm.plan.first_year - engine.BASE_YEAR
    for c in gm.finance.care_model_costs:
        assert c.names == tuple(gm.interventions)
        for i, a in enumerate(adopted):
            level = (a.coverage * a.ramp)[t0:]
            rises = np.diff(np.concatenate([[a.coverage * a.prior if t0 == 0 else level[0]], level])) > 0
            if t0:
                rises[0] = False  # rises before the window are not in it
            assert np.all(c.investment[i][:, ~rises] == 0), a.spec.name
            assert np.all(c.running[i][:, level == 0] == 0), a.spec.name
            if np.all(gm.parameters[f"cost/{a.spec.name}/running"] > 0):
                assert np.all(c.running[i][:, level > 0] > 0), a.spec.name


def test_savings_by_organisation_sum_to_the_systems_change(gm):
    fin = gm.finance
    for name in gm.interventions:
        by_org = [v for (n, _, _), v in fin.incentives_by_year.items() if n == name]
        net = sum(by_org)
        # The system's change, taken from the care model run alone as its own plan.
        alone = gm.plan.model_copy(
            update={"interventions": [a for a in gm.plan.interventions if a.name == name]}
        )
        solo = engine.run(alone, incentives=False).finance
        system = solo.system_surplus("care_models") - solo.system_surplus("do_nothing")
        scale = np.abs(system).max() + 1.0
        assert np.allclose(net, system, rtol=0, atol=1e-6 * scale), name
    # And in the summaries: organisations' means add up to the system's net benefit.
    for m in payback.care_model_payback(gm):
        for label in m["years"]:
            orgs = sum(v[label]["mean"] for v in m["savings_by_organisation"].values())
            assert orgs == pytest.approx(m["net_benefit"][label]["mean"], rel=1e-9, abs=1e-3)
            gross = m["savings"][label]["mean"] - m["cost"][label]["mean"]
            assert gross == pytest.approx(m["net_benefit"][label]["mean"], rel=1e-9, abs=1e-3)


def test_payback_document_shape_and_consistency(gm):
    out = payback.care_model_payback(gm)
    assert [m["name"] for m in out] == list(gm.interventions)
    labels = [year_label(y) for y in gm.years]
    rate = payback.discount_rate()
    fin = gm.finance
    for m in out:
        assert m["years"] == labels and m["discount_rate"] == rate
        for k in ("investment", "running", "cost", "savings", "net_benefit", "cumulative_net_benefit"):
            assert list(m[k]) == labels and set(m[k][labels[0]]) == {"mean", "p10", "p50", "p90"}
        # Organisations by name, not id: every non-external organisation of the footprint.
        names = {o.name for b in fin.footprints for o in b.orgs if o.kind != "external"}
        assert set(m["savings_by_organisation"]) == names
        # The Green Book NPV from the draws by hand: real at the first year's prices, costs
        # raised by optimism bias, 10 years with the last year's recurrent flows carried on.
        net = sum(v for (n, _, _), v in fin.incentives_by_year.items() if n == m["name"])
        i = list(gm.interventions).index(m["name"])
        inv = sum(c.investment[i] for c in fin.care_model_costs)
        run = sum(c.running[i] for c in fin.care_model_costs)
        savings = net + inv + run
        bias = gm.parameters["assumption/optimism_bias_care_model_costs"]
        g = gm.parameters["assumption/gdp_deflator_growth"]
        by_hand = np.zeros(gm.draws)
        for t in range(10):
            k = min(t, len(labels) - 1)
            flow = savings[:, k] - run[:, k] * (1 + bias) - (inv[:, k] * (1 + bias) if t == k else 0.0)
            by_hand += flow / (1 + g) ** k / (1 + rate) ** t
        assert m["appraisal_years"] == 10
        assert m["npv"]["mean"] == pytest.approx(by_hand.mean(), rel=1e-9, abs=1e-3)
        cum = [m["cumulative_net_benefit"][y]["mean"] for y in labels]
        if m["payback_year"] is None:
            assert m["payback_reason"] and cum[-1] < 0
        else:
            assert m["payback_reason"] is None and cum[labels.index(m["payback_year"])] >= 0
            # Nothing is spent or saved before the care model starts, so no free payback then.
            assert (
                m["cost"][m["payback_year"]]["mean"] > 0 or m["net_benefit"][m["payback_year"]]["mean"] != 0
            )


def test_a_later_reporting_window_slices_the_new_fields(gm):
    late = gm.plan.model_copy(update={"start_year": 2018})
    res = engine.run(late)
    fin = res.finance
    for key, v in fin.incentives_by_year.items():
        assert v.shape == (res.draws, len(res.years))
        assert np.allclose(v, gm.finance.incentives_by_year[key][:, 2:]), key
    assert fin.care_model_costs[0].investment.shape[-1] == len(res.years)
    assert [m["years"][0] for m in payback.care_model_payback(res)] == ["2018/19"] * len(res.interventions)


def test_workforce_document_shape(gm):
    w = workforce.workforce(gm)
    assert w["years"] == [year_label(y) for y in gm.years]
    assert list(w["groups"]) == list(workforce.STAFF_GROUPS)
    for g in w["groups"].values():
        assert set(g) == {"title", "plan", "do_nothing", "difference"}
    assert set(w["factors"]) == set(workforce.FACTORS)


def test_workforce_is_checked_against_englands_published_general_practice_staff(gm):
    """Issue 19, item 8: the do-nothing's 2016/17 GPs and practice nurses beside England's
    published full-time equivalents (HSCIC, September 2015) scaled by the footprint's share of
    England's people; the modelled staff are within a fifth of the published."""
    from stpsim.demography import england_base

    checks = {c["group"]: c for c in workforce.workforce(gm)["checks"]}
    assert list(checks) == list(workforce.STAFF_GROUPS)
    share = gm.population[0].sum() / england_base().sum()
    gps = checks["gps"]
    assert gps["published_england"] == 34_100 and checks["practice_nurses"]["published_england"] == 15_400
    assert gps["expected"] == round(34_100 * share)
    modelled = workforce.wte_arrays(gm)["do_nothing"]["gps"][:, 0].mean()
    assert gps["modelled"] == round(modelled)
    assert gps["ratio"] == round(modelled / (34_100 * share), 3)
    for g in ("gps", "practice_nurses"):
        assert 0.8 < checks[g]["ratio"] < 1.25, checks[g]
    assert checks["care_workers"]["published_england"] is None


def test_plan_adds_community_nurses_with_hospital_at_home_or_extensivist(gm):
    adopted = set(gm.interventions)
    assert adopted & {"hospital_at_home", "community_extensivist"}
    w = workforce.workforce(gm)
    extra = w["groups"]["community_nurses"]["difference"]
    assert extra["2020/21"]["mean"] > 0 and extra["2020/21"]["p10"] > 0
    # The extensivist and front-door geriatricians put consultants' time into the community.
    assert w["groups"]["consultants_and_geriatricians"]["difference"]["2020/21"]["mean"] > 0


def test_do_nothing_workforce_grows_with_demand(gm):
    arrays = workforce.wte_arrays(gm)["do_nothing"]
    for g in ("gps", "practice_nurses", "community_nurses", "physiotherapists", "care_workers"):
        mean = arrays[g].mean(axis=0)
        assert (np.diff(mean) > 0).all(), g
    # WTE follow the sessions exactly (the factor is the same in every year).
    sessions = gm.do_nothing_capacity["gp_sessions"].sum(axis=2)
    ratio = arrays["gps"] / sessions
    assert np.allclose(ratio, ratio[:, :1])


def test_the_green_book_appraisal_worked_by_hand():
    """Two years of a plan, 2% GDP deflator, 20% optimism bias, a 4-year horizon: year 0 saves
    100 and costs 50 set-up + 10 running; year 1 saves 120 (cash) and costs 10 running.
    Real flows: 100 - 60 x 1.2 = 28; (120 - 12) / 1.02 = 105.88...; then 105.88 carried on."""
    from types import SimpleNamespace

    from stpsim.parameters import ParameterDraws

    draws = ParameterDraws(
        ("assumption/optimism_bias_care_model_costs", "assumption/gdp_deflator_growth"),
        np.array([[0.2, 0.02]]),
    )
    results = SimpleNamespace(parameters=draws)
    flows = payback.appraised_flows(
        results, np.array([[100.0, 120.0]]), np.array([[10.0, 10.0]]), np.array([[50.0, 0.0]]), 4
    )
    second = (120.0 - 10.0 * 1.2) / 1.02
    np.testing.assert_allclose(flows, [[28.0, second, second, second]], rtol=1e-12)
    expected = 28.0 + second / 1.035 + second / 1.035**2 + second / 1.035**3
    assert payback.npv(flows, 0.035)[0] == pytest.approx(expected, rel=1e-12)
