"""Which assumptions drive the gap: one-at-a-time sensitivity (the tornado).

Every uncertain parameter of a run (growth, care-model effects and costs, every finance
assumption) is set in turn to its 10th and then its 90th percentile with all the others at their
central values and no activity noise, and the plan's gap in its last year is recorded. All the
settings run as the draws of one vectorised run, not one run each.
"""

from __future__ import annotations

import numpy as np

from .. import engine
from ..parameters import Z90, Design, designed
from ..plan import Plan


def title(name: str) -> str:
    """A reader's name for a parameter key (``assumption/cost_inflation`` and so on)."""
    kind, _, rest = name.partition("/")
    parts = rest.split("/")
    if kind == "assumption":
        return rest.replace("_", " ").capitalize()
    if kind == "growth":
        return f"Other demand growth: {rest.replace('_', ' ')}"
    if kind == "effect":
        return f"Effect of {parts[0].replace('_', ' ')} on {parts[-1].replace('_', ' ')}"
    if kind == "cost":
        return f"{parts[-1].capitalize()} cost of {parts[0].replace('_', ' ')}"
    if kind == "substitution":
        model, avoided, created = (x.replace("_", " ") for x in parts)
        return f"{model}: {created} per {avoided} avoided"
    return rest.replace("_", " ").capitalize()


def _with_draws(plan: Plan, n: int) -> Plan:
    full = engine.from_base_year(plan)
    return full.model_copy(update={"monte_carlo": full.monte_carlo.model_copy(update={"draws": n})})


def _central(plan: Plan) -> tuple[list[str], float]:
    """One run with every parameter central and no noise: the uncertain parameters it asked for
    and the plan's last-year gap."""
    found = Design()
    with designed(found):
        _, fin = engine.plan_books(_with_draws(plan, 1), incentives=False)
    return list(found.seen), float(fin.gap("plan")[0, -1])


def drivers_and_centre(plan: Plan) -> tuple[list[dict], float]:
    """The gap drivers (see ``gap_drivers``) and the all-central gap they swing about, from the
    same two runs."""
    names, centre = _central(plan)
    n = 2 * len(names) + 1
    z: dict[str, np.ndarray] = {}
    for j, name in enumerate(names):
        z[name] = np.zeros(n)
        z[name][2 * j + 1], z[name][2 * j + 2] = -Z90, Z90
    with designed(Design(z=z)):
        _, fin = engine.plan_books(_with_draws(plan, n), incentives=False)
    gap = fin.gap("plan")[:, -1]
    rows = [
        {"parameter": name, "title": title(name), "low": float(gap[2 * j + 1]), "high": float(gap[2 * j + 2])}
        for j, name in enumerate(names)
    ]
    return sorted(rows, key=lambda r: -abs(r["high"] - r["low"])), centre


def gap_drivers(plan: Plan) -> list[dict]:
    """The plan's gap in its last year with each uncertain parameter at its p10 (``low``) and
    p90 (``high``) and the rest central, GBP, sorted by swing (largest first)."""
    return drivers_and_centre(plan)[0]


def central_gap(plan: Plan) -> float:
    """The plan's last-year gap with every parameter central (the tornado's centre line)."""
    return _central(plan)[1]
