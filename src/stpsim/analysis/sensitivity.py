"""Which assumptions drive the gap: one-at-a-time sensitivity (the tornado).

Every uncertain parameter in the run's registry that reaches the gap (growth, care-model effects,
substitution and costs, every finance assumption, bed occupancy) is set in turn to its 10th and
then its 90th percentile with all the others at their central values and no activity noise, and
the plan's gap in its last year is recorded. All the settings run as the draws of one vectorised
run (the engine's one declared counterfactual call, ``plan_books`` with designed draws), not one
run each.
"""

from __future__ import annotations

import numpy as np

from .. import engine
from ..parameters import Z90, title
from ..plan import Plan
from ..run_parameters import declare

__all__ = ["central_gap", "drivers_and_centre", "gap_drivers", "title"]


def _designed_gap(plan: Plan, z: dict[str, np.ndarray], n: int) -> np.ndarray:
    """The plan's last-year gap for ``n`` designed draws: parameter deviates ``z`` by id, every
    other parameter central, no activity noise."""
    full = engine.from_base_year(plan)
    full = full.model_copy(update={"monte_carlo": full.monte_carlo.model_copy(update={"draws": n})})
    draws = declare(full).draw(full.monte_carlo.seed, range(n), z=z, noise=False)
    _, fin = engine.plan_books(full, incentives=False, draws=draws)
    return fin.gap("plan")[:, -1]


def drivers_and_centre(plan: Plan) -> tuple[list[dict], float]:
    """The gap drivers (see ``gap_drivers``) and the all-central gap they swing about, from one
    designed run: draw 0 all central, then each parameter low and high."""
    names = [p.id for p in declare(plan) if p.uncertain and p.reaches_gap]
    n = 2 * len(names) + 1
    z: dict[str, np.ndarray] = {}
    for j, name in enumerate(names):
        z[name] = np.zeros(n)
        z[name][2 * j + 1], z[name][2 * j + 2] = -Z90, Z90
    gap = _designed_gap(plan, z, n)
    rows = [
        {"parameter": name, "title": title(name), "low": float(gap[2 * j + 1]), "high": float(gap[2 * j + 2])}
        for j, name in enumerate(names)
    ]
    return sorted(rows, key=lambda r: -abs(r["high"] - r["low"])), float(gap[0])


def gap_drivers(plan: Plan) -> list[dict]:
    """The plan's gap in its last year with each uncertain parameter at its p10 (``low``) and
    p90 (``high``) and the rest central, GBP, sorted by swing (largest first)."""
    return drivers_and_centre(plan)[0]


def central_gap(plan: Plan) -> float:
    """The plan's last-year gap with every parameter central (the tornado's centre line)."""
    return float(_designed_gap(plan, {}, 1)[0])
