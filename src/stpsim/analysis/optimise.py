"""Choosing a plan under uncertainty: a mixed-integer programme over a run's draws.

The draws are the scenarios (sample average approximation). Each option (a care model at a
coverage, a provider efficiency, a set of contracts) changes the system's gap and each
organisation's deficit by a known amount in every draw; the chosen options' changes add up
(the linear model; the verifying run says how far the engine differs). The programme:

    minimise   mean over draws of the gap in the last year
    subject to each organisation's CVaR_beta of its deficit <= its limit (beta = 0.95: the
               mean of its worst 5% of draws), the care models' investment <= the budget, at
               most one coverage per care model, exactly one choice in every "exactly one" group.

CVaR constraints are added as cutting planes (Rockafellar and Uryasev's representation): at a
candidate choice, the draws' CVaR weights q (1/((1 - beta) n) on the worst draws, the remainder
on the next) give the valid linear cut q . deficit(x) <= limit, which the candidate breaks; the
MILP is solved again (HiGHS, ``scipy.optimize.milp``) until no organisation's limit is broken.
Choices are binary, so the loop ends.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

MAX_ROUNDS = 500  # cutting-plane rounds before giving up (each adds at least one cut)
TOLERANCE = 1000.0  # GBP: a CVaR within a thousand pounds of its limit meets it


# ---- CVaR ---------------------------------------------------------------------------------------------


def cvar_weights(loss: np.ndarray, beta: float = 0.95) -> np.ndarray:
    """The weights q (draw,) that give CVaR_beta of equally likely ``loss`` as q . loss: each of
    the worst floor((1 - beta) n) draws gets 1/((1 - beta) n), the next draw the remainder."""
    n = loss.shape[0]
    tail = (1.0 - beta) * n
    order = np.argsort(-loss, kind="stable")
    q = np.zeros(n)
    whole = int(np.floor(tail + 1e-9))
    q[order[:whole]] = 1.0 / tail
    if whole < n and tail - whole > 1e-9:
        q[order[whole]] = (tail - whole) / tail
    return q


def cvar(loss: np.ndarray, beta: float = 0.95) -> float:
    """CVaR_beta of equally likely ``loss`` (draw,): the mean of its worst (1 - beta) share,
    a boundary draw counted in part (exactly the Rockafellar-Uryasev minimum over t of
    t + E[(loss - t)+] / (1 - beta))."""
    return float(cvar_weights(loss, beta) @ loss)


# ---- the problem ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """Options and their effects by draw. Money in pounds; deficits are positive when an
    organisation spends more than it receives."""

    options: tuple[str, ...]  # labels
    groups: tuple[tuple[int, ...], ...]  # options that exclude each other
    exactly_one: tuple[bool, ...]  # per group: one must be chosen (else at most one)
    gap0: np.ndarray  # (draw,) the system's gap in the last year with no option
    dgap: np.ndarray  # (option, draw) what each option adds to it
    deficit0: np.ndarray  # (org, draw) each organisation's deficit in the last year
    ddeficit: np.ndarray  # (option, org, draw)
    limits: np.ndarray  # (org,) CVaR limit, GBP; inf: none
    cost: np.ndarray  # (option,) investment over the plan's years, GBP
    budget: float | None = None
    beta: float = 0.95
    orgs: tuple[str, ...] = ()
    # None: minimise the mean gap; a level (0.9): minimise the gap's CVaR, the mean of its worst
    # 10% of draws (the gap "at a chosen percentile", kept linear through the same cuts)
    objective_beta: float | None = None
    workforce: np.ndarray | None = None  # (option, group) WTE each option adds in the last year (mean)
    workforce_limits: np.ndarray | None = None  # (group,) WTE added at most; inf: none
    groups_of_staff: tuple[str, ...] = ()
    moved: np.ndarray | None = None  # (option, closure) bed days each option moves out of a closing trust
    moved_needed: np.ndarray | None = None  # (closure,) the bed days each closure's beds gave
    # The beds test's conditions beyond the bed days, per closure: (a) the sessions a year each
    # option's care needs by then (option, measure, closure) within those the plan adds
    # (measure, closure), or (b) a new treatment among the options chosen (option,)
    sessions: np.ndarray | None = None
    sessions_added: np.ndarray | None = None
    new_treatment: np.ndarray | None = None

    # einsum, not BLAS: a threaded matrix-vector product over every draw is slow on a busy
    # machine (8 ms against 0.2 ms here with another process on the second core).
    def gap(self, x: np.ndarray) -> np.ndarray:
        return self.gap0 + np.einsum("i,id->d", x, self.dgap)

    def deficits(self, x: np.ndarray) -> np.ndarray:
        return self.deficit0 + np.einsum("i,iod->od", x, self.ddeficit)

    def objective(self, x: np.ndarray) -> float:
        g = self.gap(x)
        return float(g.mean()) if self.objective_beta is None else cvar(g, self.objective_beta)

    def cvars(self, x: np.ndarray) -> np.ndarray:
        d = self.deficits(x)
        return np.array([cvar(d[o], self.beta) for o in range(d.shape[0])])

    def closure_condition(self, x: np.ndarray) -> list[bool]:
        """Per closure: does choice ``x`` meet the beds test's condition (a) (the sessions its
        care needs are in place) or (b) (a new treatment is chosen)?"""
        need = np.einsum("i,imc->mc", x, self.sessions)
        a = np.all(need <= self.sessions_added + 1e-6, axis=0)
        b = x @ self.new_treatment >= 1 - 1e-6
        return [bool(v) for v in a | b]

    def feasible(self, x: np.ndarray) -> bool:
        """Does choice ``x`` meet every constraint (groups, budget, CVaR limits)?"""
        for g, one in zip(self.groups, self.exactly_one, strict=True):
            k = x[list(g)].sum()
            if k > 1 or (one and k != 1):
                return False
        if self.budget is not None and self.cost @ x > self.budget + TOLERANCE:
            return False
        if self.workforce_limits is not None and np.any(x @ self.workforce > self.workforce_limits + 1e-6):
            return False
        if self.moved is not None and np.any(x @ self.moved < self.moved_needed - 1e-6):
            return False
        if self.sessions is not None and not all(self.closure_condition(x)):
            return False
        return bool(np.all(self.cvars(x) <= self.limits + TOLERANCE))


@dataclass
class Solution:
    x: np.ndarray  # (option,) 0 or 1
    objective: float  # mean gap in the last year, GBP
    cvars: np.ndarray  # (org,)
    rounds: int  # cutting-plane rounds
    cuts: int


@dataclass
class _Model:
    """The MILP's rows beyond the groups: CVaR cuts, the budget, no-good cuts and slack."""

    rows: list[np.ndarray] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)
    cut_org: list[int] = field(default_factory=list)  # the organisation of each cut (-1: other)
    objective_cuts: list[tuple[np.ndarray, float]] = field(default_factory=list)  # z >= row . x + const


def _solve_milp(p: Problem, m: _Model, slack: bool, drop: frozenset[int] = frozenset()):
    """One MILP. Columns: the options; with a CVaR objective, its epigraph z (the objective, in
    GBP m, bounded below by the objective cuts); with ``slack``, one slack (GBP m) per
    organisation with a limit and one for the budget, minimised first; with a bed closure, one
    binary per closure (1: it meets the beds test by condition a, 0: by b). Returns (x, z in
    GBP, slacks in GBP, the limited organisations) or None."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    n = len(p.options)
    n_z = 0 if p.objective_beta is None else 1
    limited = [o for o in range(len(p.limits)) if np.isfinite(p.limits[o]) and o not in drop]
    n_s = (len(limited) + (p.budget is not None)) if slack else 0
    n_b = 0 if p.sessions is None else p.sessions.shape[2]  # per closure: 1 = by (a), 0 = by (b)
    width = n + n_z + n_s + n_b
    scale = max(float(np.abs(p.dgap).mean()), 1.0)
    c = np.zeros(width)
    if n_z:
        c[n] = 1e6 / scale  # z is in £m
    else:
        c[:n] = p.dgap.mean(axis=1) / scale
    c[n + n_z : n + n_z + n_s] = 1e3  # slack (in £m) first
    rows, lo, hi = [], [], []

    def add(row_x: np.ndarray, low: float, high: float, extra: dict[int, float] | None = None) -> None:
        r = np.zeros(width)
        r[:n] = row_x
        for col, v in (extra or {}).items():
            r[col] = v
        rows.append(r)
        lo.append(low)
        hi.append(high)

    for g, one in zip(p.groups, p.exactly_one, strict=True):
        r = np.zeros(n)
        r[list(g)] = 1.0
        add(r, 1.0 if one else 0.0, 1.0)
    if p.budget is not None:
        add(p.cost, -np.inf, p.budget, {n + n_z + n_s - 1: -1e6} if slack else None)
    if p.moved is not None:  # the beds test: care models move the closed beds' bed days out
        for j in range(p.moved.shape[1]):
            add(p.moved[:, j], float(p.moved_needed[j]), np.inf)
    for closure in range(n_b):  # and then condition (a) or (b), chosen by the closure's column
        col = n + n_z + n_s + closure
        add(p.new_treatment.astype(float), 1.0, np.inf, {col: 1.0})  # (b) unless (a)
        for measure in range(p.sessions.shape[1]):  # (a): within the sessions added, or relaxed
            need, added = p.sessions[:, measure, closure], float(p.sessions_added[measure, closure])
            big = max(float(np.maximum(need, 0.0).sum()) - added, 0.0) + 1.0
            add(need, -np.inf, added + big, {col: big})
    if p.workforce_limits is not None:  # hard limits: staff cannot be relaxed into existence
        for g in np.flatnonzero(np.isfinite(p.workforce_limits)):
            add(p.workforce[:, g], -np.inf, float(p.workforce_limits[g]))
    for r_x, u, o in zip(m.rows, m.upper, m.cut_org, strict=True):
        if o in drop:
            continue
        add(r_x, -np.inf, u, {n + n_z + limited.index(o): -1e6} if slack and o >= 0 else None)
    for r_x, const in m.objective_cuts:  # row . x + const <= z (in £)
        add(r_x, -np.inf, -const, {n: -1e6})
    constraints = [LinearConstraint(np.array(rows), lo, hi)] if rows else []
    integrality = np.concatenate([np.ones(n), np.zeros(n_z + n_s), np.ones(n_b)])
    low = np.concatenate([np.zeros(n), np.full(n_z, -np.inf), np.zeros(n_s + n_b)])
    high = np.concatenate([np.ones(n), np.full(n_z + n_s, np.inf), np.ones(n_b)])
    res = milp(c, constraints=constraints, integrality=integrality, bounds=Bounds(low, high))
    if res.x is None:
        return None
    z = res.x[n] * 1e6 if n_z else None
    return np.round(res.x[:n]), z, res.x[n + n_z : n + n_z + n_s] * 1e6, limited


def solve(
    p: Problem, exclude: tuple[np.ndarray, ...] = (), drop: frozenset[int] = frozenset(), slack: bool = False
):
    """The best choice by cutting planes, or None when none meets the constraints. ``exclude``:
    choices ruled out (no-good cuts: the runner-ups); ``drop``: organisations whose limit is
    ignored (is it binding?); ``slack``: the elastic problem (least relaxation of the limits and
    budget) instead, returning (Solution, {constraint: GBP to relax})."""
    m = _Model()
    if p.objective_beta is not None:  # the gap's CVaR is at least its mean: z starts bounded
        flat = np.full(p.gap0.shape[0], 1.0 / p.gap0.shape[0])
        m.objective_cuts.append((np.einsum("id,d->i", p.dgap, flat), float(p.gap0 @ flat)))
    for x0 in exclude:  # sum over chosen - sum over not chosen <= chosen - 1
        m.rows.append(np.where(x0 > 0.5, 1.0, -1.0))
        m.upper.append(float(x0.sum()) - 1.0)
        m.cut_org.append(-1)
    for rounds in range(1, MAX_ROUNDS + 1):
        out = _solve_milp(p, m, slack, drop)
        if out is None:
            return None
        x, z, s, limited = out
        relax = dict(zip(limited, s, strict=False)) if slack else {}
        d = p.deficits(x)
        broken = False
        if p.objective_beta is not None:  # the gap's CVaR above its epigraph: cut it off
            q = cvar_weights(p.gap(x), p.objective_beta)
            if z is None or q @ p.gap(x) > z + TOLERANCE:
                m.objective_cuts.append((np.einsum("id,d->i", p.dgap, q), float(p.gap0 @ q)))
                broken = True
        for o in range(len(p.limits)):
            if o in drop or not np.isfinite(p.limits[o]):
                continue
            q = cvar_weights(d[o], p.beta)
            if q @ d[o] > p.limits[o] + relax.get(o, 0.0) + TOLERANCE:
                m.rows.append(np.einsum("id,d->i", p.ddeficit[:, o, :], q))
                m.upper.append(float(p.limits[o] - p.deficit0[o] @ q))
                m.cut_org.append(o)
                broken = True
        if not broken:
            sol = Solution(x, p.objective(x), p.cvars(x), rounds, sum(1 for o in m.cut_org if o >= 0))
            if not slack:
                return sol
            budget_slack = float(s[-1]) if p.budget is not None and len(s) else 0.0
            needed = {
                f"limit:{p.orgs[o] if p.orgs else o}": float(v) for o, v in relax.items() if v > TOLERANCE
            }
            if budget_slack > TOLERANCE:
                needed["budget"] = budget_slack
            return sol, needed
    raise RuntimeError(f"the cutting planes did not settle in {MAX_ROUNDS} rounds")


def alternatives(p: Problem, best: Solution, most: int = 5) -> list[Solution]:
    """The next best choices after ``best`` (each excluded in turn), best first."""
    found: list[Solution] = []
    excluded = (best.x,)
    for _ in range(most):
        s = solve(p, excluded)
        if s is None:
            break
        found.append(s)
        excluded += (s.x,)
    return found


def binding(p: Problem, best: Solution) -> dict[int, float]:
    """The organisations whose limit changes the answer: dropping the limit gives a lower mean
    gap. Each with the gap it costs (GBP): the mean gap with the limit less without it."""
    out = {}
    for o in range(len(p.limits)):
        if not np.isfinite(p.limits[o]):
            continue
        free = solve(p, drop=frozenset({o}))
        if free is not None and free.objective < best.objective - TOLERANCE:
            out[o] = best.objective - free.objective
    return out


def budget_binding(p: Problem, best: Solution) -> float | None:
    """The mean gap (GBP) the investment budget costs: the optimum without it less with it;
    None when there is no budget or it changes nothing."""
    if p.budget is None:
        return None
    free = solve(_with(p, budget=None))
    if free is None or free.objective >= best.objective - TOLERANCE:
        return None
    return best.objective - free.objective


def workforce_binding(p: Problem, best: Solution) -> dict[int, float]:
    """Each staff group whose limit changes the answer, with the mean gap (GBP) it costs."""
    out: dict[int, float] = {}
    if p.workforce_limits is None:
        return out
    for g in np.flatnonzero(np.isfinite(p.workforce_limits)):
        limits = p.workforce_limits.copy()
        limits[g] = np.inf
        free = solve(_with(p, workforce_limits=limits))
        if free is not None and free.objective < best.objective - TOLERANCE:
            out[int(g)] = best.objective - free.objective
    return out


def budget_shadow_price(p: Problem, best: Solution, step: float = 1e6) -> float:
    """The mean gap saved per pound of budget added (a finite difference over ``step``)."""
    more = solve(_with(p, budget=p.budget + step))
    return 0.0 if more is None else (best.objective - more.objective) / step


def shadow_price(p: Problem, best: Solution, o: int, step: float = 1e6) -> float:
    """The mean gap saved per pound of organisation ``o``'s limit relaxed by ``step`` (GBP):
    a finite difference of the MILP's optimum (zero until the choice changes)."""
    limits = p.limits.copy()
    limits[o] += step
    relaxed = solve(_with(p, limits=limits))
    return 0.0 if relaxed is None else (best.objective - relaxed.objective) / step


def _with(p: Problem, **changes) -> Problem:
    from dataclasses import replace

    return replace(p, **changes)


# ---- the value of information ------------------------------------------------------------------


def evppi(values: np.ndarray, parameter: np.ndarray, bins: int = 10) -> float:
    """The expected value of perfect information about one parameter (in the units of
    ``values``): ``values`` (action, draw) is each candidate choice's value (higher is better)
    in each draw, ``parameter`` (draw,) the parameter's draws. Knowing the parameter, one would
    choose the best action within each of ``bins`` equal-count bins of it; EVPPI is the mean of
    those bins' best values less the best value chosen without knowing. Zero when one action is
    best in every bin."""
    overall = values.mean(axis=1).max()
    order = np.argsort(parameter, kind="stable")
    groups = np.array_split(order, bins)
    known = sum(len(g) * values[:, g].mean(axis=1).max() for g in groups if len(g)) / values.shape[1]
    return max(float(known - overall), 0.0)
