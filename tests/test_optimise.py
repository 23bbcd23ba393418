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


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 10_000), q=st.sampled_from([0.3, 0.6, 0.9]), budgeted=st.booleans())
def test_the_optimiser_finds_the_enumerated_optimum(seed, q, budgeted):
    p = _problem(seed, q)
    if budgeted:
        p = opt._with(p, budget=float(np.median(p.cost) * 2))
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
