"""The care models a plan adopts, as the engine applies them: each library (or custom) care
model with the plan's coverage, effect overrides and ramp by year. A core step: the engine,
the finance stages and the analyses all read adoption from here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .axes import BASE_YEAR, SETTINGS
from .interventions import Intervention, library
from .plan import Plan, default_ramp


@dataclass(frozen=True)
class Adopted:
    """An intervention as a plan adopts it: effects, coverage and ramp by year."""

    spec: Intervention
    coverage: float
    ramp: np.ndarray  # (year,) share of full coverage reached, for the plan's years
    prior: float = 0.0  # share reached the year before the plan's first year
    # (year, setting) share of each setting's full effect reached: the ramp, except that effects
    # on stocks (care homes) build up as residents turn over (Intervention.build_up_years).
    uptake: np.ndarray | None = None

    def level(self) -> np.ndarray:
        """Coverage times the share of the full effect reached, by (year, setting)."""
        reached = self.ramp[:, None] if self.uptake is None else self.uptake
        return self.coverage * np.broadcast_to(reached, (len(self.ramp), len(SETTINGS)))


def adopted_interventions(plan: Plan) -> list[Adopted]:
    years = list(range(plan.first_year, plan.last_year + 1))
    custom = {c.name: c for c in plan.custom_interventions}
    out = []
    for a in plan.interventions:
        spec = custom.get(a.name) or library()[a.name]
        if a.effects:
            spec = spec.model_copy(update={"effects": {**spec.effects, **a.effects}})
        ramp_map = default_ramp(plan.last_year) if a.ramp is None else _step_ramp(a.ramp, plan.last_year)
        prior = ramp_map.get(plan.first_year - 1, 0.0)
        out.append(
            Adopted(
                spec=spec,
                coverage=a.coverage,
                ramp=np.array([ramp_map[y] for y in years]),
                prior=prior,
                uptake=spec.uptake(ramp_map, years),
            )
        )
    return out


def _step_ramp(points: dict[int, float], last_year: int) -> dict[int, float]:
    """Shares given for some years, each held until the next, zero before the first; worked out
    from 2016/17 so a ramp point before the reporting window still counts."""
    out, level = {}, 0.0
    for y in range(BASE_YEAR, last_year + 1):
        level = points.get(y, level)
        out[y] = level
    return out
