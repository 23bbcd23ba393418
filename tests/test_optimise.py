"""The optimiser (issue 23): CVaR worked exactly, the MILP with cutting planes against
enumeration, infeasibility with the constraint to relax, and the value of information."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stpsim.analysis import optimise as opt

# ---- CVaR ------------------------------------------------------------------------------------------


def test_cvar_worked_examples():
    loss = np.arange(1.0, 21.0)  # 1, 2, ..., 20: twenty equally likely draws
    assert opt.cvar(loss, 0.95) == pytest.approx(20.0)  # the worst 5% is one draw
    assert opt.cvar(loss, 0.90) == pytest.approx((20 + 19) / 2)  # two draws
    # 7.5% of 20 draws is 1.5 draws: the worst whole, half the next: (20 + 0.5 x 19) / 1.5
    assert opt.cvar(loss, 0.925) == pytest.approx((20 + 0.5 * 19) / 1.5)
    assert opt.cvar(np.full(8, 3.0), 0.5) == pytest.approx(3.0)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(5, 80),
    beta=st.sampled_from([0.5, 0.8, 0.9, 0.95, 0.975]),
)
def test_cvar_is_the_rockafellar_uryasev_minimum(seed, n, beta):
    """CVaR = min over t of t + E[(L - t)+] / (1 - beta); the minimum is at one of the draws."""
    loss = np.random.default_rng(seed).normal(size=n)
    ru = min(t + np.maximum(loss - t, 0).mean() / (1 - beta) for t in loss)
    assert opt.cvar(loss, beta) == pytest.approx(ru, abs=1e-9)
    q = opt.cvar_weights(loss, beta)
    assert q.sum() == pytest.approx(1.0) and q.max() <= 1 / ((1 - beta) * n) + 1e-12


# ---- against enumeration ---------------------------------------------------------------------------


def _problem(seed: int, limit_quantile: float = 0.6, budget: float | None = None) -> opt.Problem:
    """Three care models at three coverages (at most one each) and three efficiency levels
    (exactly one), four organisations, 200 draws; effects random but shaped like the real ones
    (savings on the system, losses for some organisations)."""
    rng = np.random.default_rng(seed)
    n_d, n_o = 200, 4
    models, levels = 3, 3
    labels, groups, one = [], [], []
    for m in range(models):
        groups.append(tuple(range(len(labels), len(labels) + levels)))
        one.append(False)
        labels += [f"model{m}@{c}" for c in (0.3, 0.6, 1.0)]
    groups.append(tuple(range(len(labels), len(labels) + 3)))
    one.append(True)
    labels += ["eff1", "eff2", "eff3"]
    n = len(labels)
    scale = rng.uniform(0.5, 2.0, size=n)
    dgap = -scale[:, None] * 1e6 * (1 + 0.3 * rng.normal(size=(n, n_d)))
    ddef = rng.normal(size=(n, n_o, n_d)) * 1e6 + dgap[:, None, :] / n_o
    deficit0 = rng.normal(5e6, 2e6, size=(n_o, n_d))
    gap0 = deficit0.sum(axis=0)
    p = opt.Problem(
        tuple(labels),
        tuple(groups),
        tuple(one),
        gap0,
        dgap,
        deficit0,
        ddef,
        np.full(n_o, np.inf),
        scale * 1e6,
        budget,
        0.95,
        tuple(f"org{o}" for o in range(n_o)),
    )
    # Limits that bind: each organisation's CVaR at a middling choice.
    every = _all_choices(p)
    cv = np.array([p.cvars(x) for x in every])
    limits = np.quantile(cv, limit_quantile, axis=0)
    return opt._with(p, limits=limits)


def _all_choices(p: opt.Problem) -> list[np.ndarray]:
    per_group = []
    for g, one in zip(p.groups, p.exactly_one, strict=True):
        per_group.append(list(g) if one else [None, *g])
    out = []
    for picks in itertools.product(*per_group):
        x = np.zeros(len(p.options))
        for i in picks:
            if i is not None:
                x[i] = 1.0
        out.append(x)
    return out


def _enumerated(p: opt.Problem) -> tuple[float, np.ndarray] | None:
    feasible = [(p.objective(x), x) for x in _all_choices(p) if p.feasible(x)]
    return min(feasible, key=lambda t: t[0]) if feasible else None


def _with_closures(p: opt.Problem, seed: int) -> opt.Problem:
    """Two bed closures on ``p``: each needs bed days moved, then (a) two measures of sessions
    within what is added, or (b) one of two options that are new treatments."""
    rng = np.random.default_rng(seed + 1)
    n = len(p.options)
    moved = np.where(np.arange(n)[:, None] < 9, rng.uniform(0.0, 10.0, size=(n, 2)), 0.0)
    sessions = np.where(np.arange(n)[:, None, None] < 9, rng.uniform(0.0, 10.0, size=(n, 2, 2)), 0.0)
    return opt._with(
        p,
        moved=moved,
        moved_needed=rng.uniform(2.0, 12.0, size=2),
        sessions=sessions,
        sessions_added=rng.uniform(5.0, 15.0, size=(2, 2)),
        new_treatment=(np.arange(n) == rng.integers(0, 9, size=2)[:, None]).any(axis=0).astype(float),
    )


@settings(max_examples=16, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    q=st.sampled_from([0.3, 0.6, 0.9]),
    budgeted=st.booleans(),
    tail=st.sampled_from([None, 0.9]),
    closures=st.booleans(),
)
def test_the_optimiser_finds_the_enumerated_optimum(seed, q, budgeted, tail, closures):
    """The best choice by enumeration, for the mean gap or the gap's CVaR (its worst 10%), with
    or without bed closures (the beds test's bed days, then condition a or b)."""
    p = opt._with(_problem(seed, q), objective_beta=tail)
    if budgeted:
        p = opt._with(p, budget=float(np.median(p.cost) * 2))
    if closures:
        p = _with_closures(p, seed)
    best = _enumerated(p)
    found = opt.solve(p)
    if best is None:
        assert found is None
        return
    assert found is not None and p.feasible(found.x)
    assert found.objective == pytest.approx(best[0], rel=1e-9, abs=1.0)


def test_a_known_small_case():
    """Two organisations, two draws, two options (at most one): option A saves more but tips
    organisation 1 over its limit in a bad draw; B saves less and keeps both within."""
    p = opt.Problem(
        options=("A", "B"),
        groups=((0, 1),),
        exactly_one=(False,),
        gap0=np.array([10e6, 20e6]),
        dgap=np.array([[-8e6, -8e6], [-5e6, -5e6]]),
        deficit0=np.array([[5e6, 10e6], [5e6, 10e6]]),
        ddeficit=np.array([[[-8e6, -8e6], [0.0, 4e6]], [[-5e6, -5e6], [0.0, 0.0]]]),
        limits=np.array([np.inf, 12e6]),
        cost=np.zeros(2),
        beta=0.5,  # the worst half: the second draw
        orgs=("one", "two"),
    )
    s = opt.solve(p)
    assert s.x.tolist() == [0.0, 1.0]  # A would put organisation two at 14m > 12m
    assert s.objective == pytest.approx(10e6)  # (5 + 15) / 2
    assert opt.binding(p, s) == {1: pytest.approx(3e6)}  # without the limit, A: mean gap 7m


# ---- infeasible: what to relax --------------------------------------------------------------------


def test_infeasibility_names_the_limit_to_relax_and_by_how_much():
    p = _problem(7, 0.6)
    tight = p.limits.copy()
    tight[2] = p.cvars(np.zeros(len(p.options))).min() - 50e6  # below anything reachable
    q = opt._with(p, limits=tight)
    assert opt.solve(q) is None
    sol, needed = opt.solve(q, slack=True)
    assert set(needed) == {"limit:org2"}
    relaxed = tight.copy()
    relaxed[2] += needed["limit:org2"]
    after = opt.solve(opt._with(q, limits=relaxed))
    assert after is not None  # relaxing by what it says is enough
    smaller = tight.copy()
    smaller[2] += needed["limit:org2"] - 2e6
    assert opt.solve(opt._with(q, limits=smaller)) is None  # and it is (about) the least


# ---- the value of information ----------------------------------------------------------------------


def test_evppi_is_zero_for_a_parameter_that_cannot_change_the_choice():
    rng = np.random.default_rng(1)
    noise = rng.normal(size=1000)
    values = np.stack([10 + noise, 5 + noise])  # the first is better in every draw
    assert opt.evppi(values, rng.normal(size=1000)) == 0.0
    theta = rng.normal(size=1000)
    values = np.stack([theta, -theta])  # which is better depends on the parameter's sign
    # Knowing it, choose |theta|: E|theta| = sqrt(2/pi) for a standard normal, less the binning.
    assert 0.6 < opt.evppi(values, theta) <= np.sqrt(2 / np.pi) + 0.05


# ---- on the engine: Greater Manchester -----------------------------------------------------------

DRAWS = 100


def _gm(**spec):
    from stpsim import plan as plans

    p = plans.load("examples/greater_manchester.yaml")
    mc = p.monte_carlo.model_copy(update={"draws": DRAWS})
    return p.model_copy(update={"monte_carlo": mc, "optimise": plans.Optimise(**spec)})


SMALL = {
    "care_models": ["hospital_at_home", "community_extensivist", "back_office_and_estates"],
    "coverage": [0.5, 1.0],
    "efficiency": [{"low": 0.5, "high": 1.5}, {"low": 1.0, "high": 3.0}],
}


@pytest.fixture(scope="module")
def small():
    from stpsim.service.optimiser import optimise

    return optimise(_gm(**SMALL))


def test_the_choice_is_the_best_full_run_among_every_mix(small):
    """Every mix of the small case run in full (27 care-model mixes x 2 efficiencies): the
    optimiser's choice has the lowest mean gap, within the linear model's stated tolerance."""
    from stpsim import engine
    from stpsim.service.optimiser import GAP_TOLERANCE_SHARE, proposed_plan

    p = _gm(**SMALL)
    best = None
    levels = [None, 0.5, 1.0]
    for a, b, c in itertools.product(levels, levels, levels):
        for eff in SMALL["efficiency"]:
            models = [
                {"name": n, "coverage": cov}
                for n, cov in zip(SMALL["care_models"], (a, b, c), strict=True)
                if cov is not None
            ]
            choice = {"care_models": models, "efficiency": eff, "contracts": "the plan's own contracts"}
            gap = engine.run(proposed_plan(p, choice), incentives=False).finance.gap("plan")[:, -1].mean()
            best = gap if best is None else min(best, gap)
    chosen = small["verified"]["gap"]["mean"]
    assert chosen <= best + GAP_TOLERANCE_SHARE * abs(best)
    # community extensivists add to the gap (their costs outrun what they save): never chosen
    assert "community_extensivist" not in {m["name"] for m in small["choice"]["care_models"]}


def test_the_full_run_matches_the_prediction_within_the_tolerance(small):
    from stpsim.service.optimiser import GAP_TOLERANCE_SHARE

    predicted, verified = small["predicted"]["gap"]["mean"], small["verified"]["gap"]["mean"]
    assert abs(verified - predicted) <= GAP_TOLERANCE_SHARE * abs(predicted)
    assert small["verified"]["difference_gbp"] == pytest.approx(verified - predicted)


def test_the_saved_plan_runs_to_the_verified_numbers(small, tmp_path, capsys):
    import json

    import yaml

    from stpsim.cli import main

    path = tmp_path / "gm.yaml"
    path.write_text(yaml.safe_dump(_gm(**SMALL).model_dump(mode="json", exclude_none=True)))
    saved = tmp_path / "proposed.yaml"
    assert main(["optimise", str(path), "--save-plan", str(saved), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["choice"] == small["choice"]
    assert main(["run", str(saved), "--json"]) == 0
    run = json.loads(capsys.readouterr().out)
    assert run["finance"]["system"]["gap"][doc["year"]]["mean"] == pytest.approx(
        doc["verified"]["gap"]["mean"], abs=0.01
    )
    assert main(["optimise", str(path), "--save-plan", str(saved)]) == 2  # never overwritten without --force
    assert "the file already exists; give --force" in capsys.readouterr().err


def test_no_mix_meets_an_impossible_limit_and_it_says_what_to_relax():
    from stpsim.service.optimiser import optimise

    doc = optimise(_gm(**SMALL, deficit_limit=1.0))
    assert doc["feasible"] is False
    relax = doc["relaxations"][0]["relax"]
    assert relax and all(
        r["constraint"].startswith("the deficit limit of ") and r["by_gbp"] > 0 for r in relax
    )


def test_an_unknown_organisation_is_refused(capsys, tmp_path):
    import yaml

    from stpsim.cli import main

    doc = _gm(**SMALL).model_dump(mode="json", exclude_none=True)
    doc["optimise"]["deficit_limits"] = {"acute:XYZ": 10}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(doc))
    assert main(["optimise", str(path)]) == 2
    err = capsys.readouterr().err
    assert (
        "optimise.deficit_limits: acute:XYZ is not an organisation of this plan; allowed: commissioner" in err
    )


def test_only_care_models_at_the_evidence_grade_are_offered():
    from stpsim.service.optimiser import candidate_models

    p = _gm(min_evidence="moderate")
    names = candidate_models(p)
    assert "community_extensivist" not in names and "direct_access_physiotherapy" not in names
    assert "hospital_at_home" in names and "geriatricians_front_door" in names


def test_the_api_optimises_a_stored_version(tmp_path):
    """POST /api/optimise: the same document as the CLI; a viewer may not; too many draws is a
    422 naming them."""
    from fastapi.testclient import TestClient

    from stpsim.api.app import create_app
    from stpsim.service import Service

    from .conftest_store import sqlite_url

    svc = Service(sqlite_url(tmp_path))
    lead = svc.add_user("lead", "lead", ["E54000007"])
    viewer = svc.add_user("vic", "viewer")
    made = svc.create_plan(svc.authenticate(lead), _gm(**SMALL).model_dump(mode="json", exclude_none=True))
    c = TestClient(create_app(svc), raise_server_exceptions=False)
    body = {"plan_id": made["id"], "version": 1}
    ok = c.post("/api/optimise", json=body, headers={"Authorization": f"Bearer {lead}"})
    assert ok.status_code == 200, ok.text
    assert ok.json()["choice"]["care_models"] and ok.json()["feasible"] is True
    assert (
        c.post("/api/optimise", json=body, headers={"Authorization": f"Bearer {viewer}"}).status_code == 403
    )
    big = c.post("/api/optimise", json=body | {"draws": 5000}, headers={"Authorization": f"Bearer {lead}"})
    assert big.status_code == 422 and "draws: 5,000 is more than the 2,000" in big.text
    # Above 500 draws it is queued as a large run is, and polled at /api/runs/ID
    import time

    auth = {"Authorization": f"Bearer {lead}"}
    queued = c.post("/api/optimise", json=body | {"draws": 600}, headers=auth)
    assert queued.status_code == 202, queued.text
    poll = queued.json()["poll"]
    for _ in range(600):
        answer = c.get(poll, headers=auth).json()
        if answer["status"] != "running":
            break
        time.sleep(0.1)
    assert answer["status"] == "done" and answer["kind"] == "optimise" and answer["draws"] == 600
    assert answer["choice"]["care_models"]
    assert c.get(poll, headers={"Authorization": f"Bearer {viewer}"}).status_code == 404  # not published


def test_find_a_plan_fills_the_editor_with_the_proposal(small, tmp_path):
    """The editor's "Find a plan": the proposal's care models, coverage, efficiency and contracts
    in the form, its words above it, and nothing saved."""
    import re

    from fastapi.testclient import TestClient

    from stpsim.api.app import create_app
    from stpsim.service import Service

    from .conftest_store import sqlite_url

    password = "a long enough password 1"
    svc = Service(sqlite_url(tmp_path))
    svc.add_user("lead", "lead", ["E54000007"])
    svc.set_password("lead", password)
    actor = svc.check_password("lead", password)
    made = svc.create_plan(actor, _gm(**SMALL).model_dump(mode="json", exclude_none=True))
    c = TestClient(create_app(svc), raise_server_exceptions=False, follow_redirects=False)
    token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
    assert (
        c.post("/login", data={"csrf_token": token, "user_name": "lead", "password": password}).status_code
        == 303
    )
    edit = c.get(f"/plans/{made['id']}/versions/1/edit")
    token = re.search(r'name="csrf_token" value="([^"]+)"', edit.text).group(1)
    page = c.post(f"/plans/{made['id']}/versions/1/find", data={"csrf_token": token})
    assert page.status_code == 200, page.text[:500]
    said = re.search(
        r'<div class="inset-text" role="status" id="proposal">(.*?)</div>', page.text, re.S
    ).group(1)
    assert "stpsim proposes:" in said and "from a full run" in said
    for m in small["choice"]["care_models"]:
        box = re.search(rf'<input[^>]*name="on\.{m["name"]}"[^>]*>', page.text).group(0)
        assert "checked" in box
        cov = re.search(rf'<input[^>]*name="coverage\.{m["name"]}"[^>]*>', page.text).group(0)
        assert f'value="{m["coverage"] * 100:g}"' in cov or f'value="{m["coverage"]:g}"' in cov
    assert svc.list_plans(actor)[0]["latest_version"] == 1  # nothing saved


def test_england_sums_every_footprints_optimised_gap():
    """--national: 44 footprints, each optimised (Greater Manchester from its own plan), and
    England's gap is their sum draw by draw: its mean is the sum of theirs."""
    from stpsim import plan as plans
    from stpsim.service.optimiser import optimise_national

    gm = _gm(**SMALL)
    doc = optimise_national({"E54000007": ("gm.yaml", gm)}, 12, 0, executor="serial")
    rows = doc["footprints"]
    assert len(rows) == 44 and len({r["code"] for r in rows}) == 44
    assert [r["plan"] for r in rows if r["code"] == "E54000007"] == ["own"]
    assert sum(r["plan"] == "do-nothing" for r in rows) == 43
    total = sum(r["gap"]["mean"] for r in rows)
    assert doc["england"]["gap"]["mean"] == pytest.approx(total, rel=1e-12)
    assert doc["england"]["closed_in_expectation"] == (total <= 0)
    assert doc["england"]["shortfall_gbp"] == pytest.approx(max(total, 0.0))
    # do-nothing footprints are offered the national assumption of provider efficiency
    other = next(r for r in rows if r["plan"] == "do-nothing")
    assert other["choice"]["efficiency"] == {"low": 1.0, "high": 3.0}
    assert plans.Optimise().efficiency is None


def test_optimise_needs_a_plan_or_national(capsys):
    from stpsim.cli import main

    assert main(["optimise"]) == 2
    assert "give a PLAN file to optimise, or --national for every footprint" in capsys.readouterr().err
    assert main(["optimise", "--national", "--save-plan", "x.yaml"]) == 2
    assert "--save-plan takes one plan" in capsys.readouterr().err


def test_the_board_report_of_a_plan_with_an_optimise_section_shows_the_proposal(small, tmp_path):
    """The report's "Could another mix do better?" reads the optimiser's document: the verified
    gap against the plan's own, in the same pounds."""
    import html as html_module
    import re

    from stpsim.report import proposal
    from stpsim.service.compute import report, run_plan

    record = run_plan(_gm(**SMALL))
    target = report([record], tmp_path / "gm.html", "board", "html")
    page = html_module.unescape(target.read_text())
    section = re.search(r'<section id="proposal">(.*?)</section>', page, re.S).group(1)
    plan_gap = float(record.results.finance.gap("plan")[:, -1].mean())
    said = proposal.paragraphs(small, plan_gap, {})
    assert (
        said[2] in section
    )  # "Run in full, that mix leaves a gap of £...m (... ), against £...m for this plan."
    assert f"against {proposal._m(plan_gap)} for this plan" in said[2]
    # a plan without an optimise section has no such section
    plain = run_plan(_gm(**SMALL).model_copy(update={"optimise": None}))
    other = report([plain], tmp_path / "plain.html", "board", "html").read_text()
    assert 'id="proposal"' not in other


def test_a_tail_objective_chooses_for_the_bad_years(small):
    """objective: cvar minimises the mean of the worst 10% of the gap: its choice's tail is no
    worse than the mean-minimising choice's, and its mean no better."""
    from stpsim.analysis.optimise import cvar
    from stpsim.service.optimiser import build, optimise

    tail = optimise(_gm(**SMALL, objective="cvar", objective_level=0.9))
    assert tail["objective"] == "the mean of the worst 10% of the gap in the last year"
    p = build(_gm(**SMALL), None).problem
    x_of = {}
    for name, doc in (("mean", small), ("tail", tail)):
        x = np.zeros(len(p.options))
        for m in doc["choice"]["care_models"]:
            x[p.options.index(f"{m['name']} at {m['coverage']:.0%}")] = 1
        e = doc["choice"]["efficiency"]
        x[p.options.index(f"efficiency {e['low']:g}% to {e['high']:g}%")] = 1
        x_of[name] = x
    assert cvar(p.gap(x_of["tail"]), 0.9) <= cvar(p.gap(x_of["mean"]), 0.9) + 1.0
    assert p.gap(x_of["mean"]).mean() <= p.gap(x_of["tail"]).mean() + 1.0


def test_roll_out_years_are_a_choice(tmp_path):
    """full_years: each care model may reach full coverage by any of the years given (rising
    evenly from 2016/17); the proposal carries the year and its ramp, and the editor's rule."""
    from stpsim.plan import ramp_to
    from stpsim.service.optimiser import build, optimise

    spec = SMALL | {"full_years": ["2017/18", "2020/21"]}
    p = build(_gm(**spec), None).problem
    assert len([o for o in p.options if not o.startswith("efficiency")]) == 3 * 2 * 2
    assert "hospital_at_home at 50%, full from 2017/18" in p.options
    doc = optimise(_gm(**spec))
    models = doc["choice"]["care_models"]
    assert models and all(m["full_from"] in ("2017/18", "2020/21") for m in models)
    from stpsim.plan import Adoption

    ramps = {a["name"]: a.get("ramp") for a in doc["plan_document"]["interventions"]}
    for m in models:
        want = Adoption(name=m["name"], ramp=ramp_to(int(m["full_from"][:4]))).model_dump(mode="json")
        assert ramps[m["name"]] == want["ramp"]
    # sooner is better for a care model that saves: by 2017/18, not 2020/21
    assert {m["full_from"] for m in models} == {"2017/18"}


def test_a_roll_out_year_outside_the_plan_is_refused():
    from stpsim import plan as plans

    doc = _gm(**SMALL).model_dump(mode="json", exclude_none=True)
    doc["optimise"]["full_years"] = ["2024/25"]
    with pytest.raises(plans.PlanError) as e:
        plans.validate(doc)
    assert "optimise.full_years.0: 2024/25 is outside the plan's years; choose from 2016/17 to 2020/21" in (
        e.value.lines
    )
    doc["optimise"] = {"care_models": ["hospital_at_hom"]}
    with pytest.raises(plans.PlanError) as e:
        plans.validate(doc)
    assert any(
        line.startswith(
            "optimise.care_models: unknown intervention 'hospital_at_hom' (did you mean 'hospital_at_home'?)"
        )
        for line in e.value.lines
    ), e.value.lines


def test_workforce_limits_keep_the_staff_the_care_models_add_within_them(small):
    """Hospital at home adds community nurses (about 2.9 WTE at 50% coverage in Greater
    Manchester, 5.9 at 100%, counted from its own activity as analysis.workforce counts staff):
    a limit of 4 keeps it at 50%, names the limit as binding and costs some gap."""
    from stpsim.service.optimiser import optimise

    assert {"name": "hospital_at_home", "coverage": 1.0} in small["choice"]["care_models"]
    capped = optimise(_gm(**SMALL, workforce_limits={"community_nurses": 4}))
    assert {"name": "hospital_at_home", "coverage": 0.5} in capped["choice"]["care_models"]
    (nurses,) = capped["workforce"]
    assert nurses["group"] == "community_nurses" and nurses["limit"] == 4.0
    assert nurses["added_predicted"] <= 4.0 and nurses["added_full_run"] == pytest.approx(
        nurses["added_predicted"], rel=0.1
    )
    assert nurses["binding"] and nurses["gap_cost_of_limit"] > 0
    assert "the limit on community nurses" in capped["binding"]
    assert capped["verified"]["gap"]["mean"] > small["verified"]["gap"]["mean"]


def test_contract_terms_are_options_too():
    """A preset with its terms (the declining contract's yearly fall) is a contract option; the
    choice's terms are in the proposed plan."""
    from stpsim.plan import ContractChoice
    from stpsim.service.optimiser import optimise

    spec = SMALL | {
        "contracts": [
            "pbr",
            {"preset": "declining", "declining_rate": 0.05, "declining_recipient": "community"},
        ],
        "deficit_limits": {"community": 12},
    }
    doc = optimise(_gm(**spec))
    labels = {doc["choice"]["contracts"]} | {o["contracts"] for o in doc["other_contracts"]}
    assert labels == {"pbr", "declining (declining rate 0.05, declining recipient community)"}
    terms = doc["choice"]["contract_terms"]
    fin = doc["plan_document"]["finance"]
    assert fin["contracts"] == terms["contracts"]
    if terms["contracts"] == "declining":
        assert fin["declining_rate"] == 0.05 and fin["declining_recipient"] == "community"
    assert ContractChoice(preset="block").label() == "block"


def test_any_mechanism_terms_are_options_on_a_preset_or_the_plans_own_contracts():
    """A risk share at its default rates and at 20% shared savings and losses, and the plan's own
    contracts (PbR) with MRET off, are three contract options: each costed on its own terms, the
    chosen terms carried into the proposed plan, which runs on them."""
    from stpsim import engine
    from stpsim.service.optimiser import build, engine_pass, optimise, proposed_plan

    shared_20 = {"preset": "risk_share", "terms": {"savings_rate": 0.2, "loss_rate": 0.2}}
    no_mret = {"terms": {"mret_rate": 1.0}}
    p = _gm(**SMALL, contracts=["risk_share", shared_20, no_mret])
    ps = engine_pass(p)
    built = [build(p, c, ps) for c in p.optimise.contracts]
    assert [b.contracts for b in built] == [
        "risk_share",
        "risk_share (savings rate 0.2, loss rate 0.2)",
        "pbr (mret rate 1)",
    ]
    assert built[1].contract_changes == {"contracts": "risk_share", "contract_terms": shared_20["terms"]}
    assert built[2].contract_changes == {"contract_terms": {"mret_rate": 1.0}}
    # The terms move money between organisations: the options' deficits differ, the system's
    # gap (transfers net out) does not.
    for b in built[1:]:
        assert not np.allclose(b.problem.ddeficit, built[0].problem.ddeficit)
    doc = optimise(p)
    chosen = next(b for b in built if b.contracts == doc["choice"]["contracts"])
    assert doc["choice"]["contract_terms"] == chosen.contract_changes
    fin = doc["plan_document"]["finance"]
    assert fin.get("contract_terms", {}) == chosen.contract_changes.get("contract_terms", {})
    # The proposal runs on its terms: the full run's gap is the verified one.
    run = engine.run(proposed_plan(p, doc["choice"]), incentives=False)
    gap = sum(-f.system_surplus[:, -1] for f in run.finance.footprints)
    assert float(gap.mean()) == pytest.approx(doc["verified"]["gap"]["mean"], rel=1e-12)


def test_find_a_plan_carries_the_chosen_contract_terms_into_the_editor():
    """The proposal's contract terms fill the editor's "Contract terms" field, and the version
    saved from that form holds them: the lead saves the plan the optimiser ran."""
    from stpsim.service.optimiser import optimise
    from stpsim.web.views import edited_document, initial_fields

    p = _gm(**SMALL, contracts=[{"preset": "risk_share", "terms": {"savings_rate": 0.2, "loss_rate": 0.2}}])
    doc = optimise(p)
    fields = initial_fields(doc["plan_document"])
    assert fields["contracts"] == "risk_share"
    assert fields["contract_terms"] == "savings_rate 0.2; loss_rate 0.2"
    saved = edited_document(_gm().model_dump(mode="json", exclude_none=True), fields)
    assert saved["finance"]["contracts"] == "risk_share"
    assert saved["finance"]["contract_terms"] == {"savings_rate": 0.2, "loss_rate": 0.2}


def test_contract_terms_that_no_mechanism_allows_are_refused_by_name():
    from stpsim import plan as plans

    doc = _gm().model_dump(mode="json", exclude_none=True)
    doc["optimise"] = {"contracts": [{"preset": "risk_share", "terms": {"savings_rate": 1.5, "bogus": 1}}]}
    with pytest.raises(plans.PlanError) as e:
        plans.validate(doc)
    text = str(e.value)
    assert "optimise.contracts.0" in text
    assert "savings_rate: 1.5 is not allowed for risk_share contracts" in text
    assert "bogus: not a contract term; allowed: avoidable_share, band, corridor" in text
    doc.pop("optimise")
    doc["finance"] = {"contract_terms": {"band": -0.1}}
    with pytest.raises(plans.PlanError) as e:
        plans.validate(doc)
    assert "finance.contract_terms" in str(e.value) and "band: -0.1 is not allowed" in str(e.value)


def _beds_plan(change: int, gp_wte: float = 0.0, **spec):
    """The beds example with one closure at Pennine in 2019/20, and ``gp_wte`` GPs added in
    2018/19 beside its community nurses and geriatricians."""
    from stpsim import plan as plans

    p = plans.load("examples/greater_manchester_beds.yaml")
    doc = p.model_dump(mode="json", exclude_none=True)
    doc["service_changes"]["beds"] = [
        {"trust": "RW6", "year": "2019/20", "change": change, "local_authorities": ["Oldham", "Rochdale"]}
    ]
    if gp_wte:
        doc["service_changes"]["capacity"].append(
            {"measure": "gp_sessions", "year": "2018/19", "wte": gp_wte}
        )
    doc["monte_carlo"] = {"draws": DRAWS, "seed": 1}
    doc["optimise"] = spec
    return plans.validate(doc)


def test_a_bed_closure_needs_its_bed_days_moved_out_of_the_trust():
    """The beds test's conditions (a) and (b) both need the care models to move the closed beds'
    bed days out of the trust by the closure year, and then (a) the sessions their care needs in
    place or (b) a new treatment: constraints on the choice, and the full run's beds test
    reported. A closure no mix can support is named with what it needs."""
    from stpsim.analysis.service_change import closure_requirements
    from stpsim.service.optimiser import build, optimise

    p = _beds_plan(-50, gp_wte=5, coverage=[0.5, 1.0])
    b = build(p, None)
    (need,) = closure_requirements(p, b.draws["capacity/bed_occupancy"])
    assert need["trust"] == "RW6" and need["year"] == "2019/20"
    assert need["added"]["gp_sessions"] > 0 and need["added"]["physiotherapy_sessions"] == 0
    doc = optimise(p)
    assert doc["feasible"]
    x = np.zeros(len(b.problem.options))
    for m in doc["choice"]["care_models"]:
        x[b.problem.options.index(f"{m['name']} at {m['coverage']:.0%}")] = 1
    e = doc["choice"]["efficiency"]
    x[b.problem.options.index(f"efficiency {e['low']:g}% to {e['high']:g}%")] = 1
    assert x @ b.problem.moved[:, 0] >= b.problem.moved_needed[0]
    # No library care model is a new treatment, so the mix meets (a): its sessions are in place.
    assert not b.problem.new_treatment.any()
    assert np.all(np.einsum("i,im->m", x, b.problem.sessions[:, :, 0]) <= b.problem.sessions_added[:, 0])
    assert b.problem.closure_condition(x) == [True]
    (row,) = doc["beds_test"]
    assert row["trust"] == "Pennine Acute Hospitals NHS Trust" and row["change"] == -50
    assert set(row["conditions"]) == {"a_alternative_provision", "b_new_treatments", "c_bed_efficiency"}
    # Without the GPs, every mix that moves the bed days needs GP sessions the plan does not add.
    no_gps = optimise(_beds_plan(-50, coverage=[0.5, 1.0]))
    assert no_gps["feasible"] is False and no_gps["relaxations"] == []
    (words,) = no_gps["hard_limits"]
    assert words == (
        "the beds closed at Pennine Acute Hospitals NHS Trust in 2019/20 need condition a or b of the "
        "beds test: none of these care models is a new treatment with at least moderate evidence (b), "
        "and every mix that moves the bed days needs more community or primary-care sessions a year by "
        "then than the plan adds (24,000 community nursing sessions, 0 physiotherapy sessions, 0 gp "
        "sessions, 0 practice nurse sessions and 2,400 geriatrician sessions: a)"
    )  # the example's 60 community nurses and 6 geriatricians (400 sessions a year each), no GPs
    too_many = optimise(_beds_plan(-400, coverage=[0.5, 1.0]))
    assert too_many["feasible"] is False
    (words,) = too_many["hard_limits"]
    assert words.startswith("the beds closed at Pennine Acute Hospitals NHS Trust in 2019/20 gave about ")


def test_the_beds_test_condition_a_or_b_chooses_between_two_routes():
    """A worked example: a closure needs 10 bed days moved, then either (a) at most 5 sessions
    needed or (b) a new treatment. Option 0 moves 10 and needs 8 sessions (neither); option 1
    moves 10, needs 8 but is a new treatment (b); option 2 moves 10 and needs 4 (a). Option 0
    is cheapest on the gap, so it wins without the test; with it, the next best that passes."""
    from stpsim.analysis.optimise import Problem, solve

    draws = 4
    p = Problem(
        options=("a", "b", "c"),
        groups=((0, 1, 2),),
        exactly_one=(True,),
        gap0=np.full(draws, 100.0),
        dgap=np.array([[-30.0] * draws, [-20.0] * draws, [-10.0] * draws]),
        deficit0=np.zeros((1, draws)),
        ddeficit=np.zeros((3, 1, draws)),
        limits=np.array([np.inf]),
        cost=np.zeros(3),
        moved=np.array([[10.0], [10.0], [10.0]]),
        moved_needed=np.array([10.0]),
        sessions=np.array([[[8.0]], [[8.0]], [[4.0]]]),
        sessions_added=np.array([[5.0]]),
        new_treatment=np.array([0.0, 1.0, 0.0]),
    )
    assert [p.closure_condition(np.eye(3)[i]) for i in range(3)] == [[False], [True], [True]]
    assert solve(p).x.tolist() == [0.0, 1.0, 0.0]  # (b): the new treatment
    no_treatment = Problem(**{**p.__dict__, "new_treatment": np.zeros(3)})
    assert solve(no_treatment).x.tolist() == [0.0, 0.0, 1.0]  # (a): within the sessions added
    fewer = Problem(**{**no_treatment.__dict__, "sessions_added": np.array([[3.0]])})
    assert solve(fewer) is None and not any(fewer.feasible(np.eye(3)[i]) for i in range(3))
