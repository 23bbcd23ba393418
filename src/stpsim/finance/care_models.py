"""What each adopted care model costs: investment as coverage rises, running cost at the
coverage reached, GBP per 1,000 targeted people from the library, with pay and prices. The two
are kept apart (investment is non-recurrent, running cost recurrent) for payback."""

from __future__ import annotations

import numpy as np

from ..axes import BASE_YEAR
from .ledger import CareModelCosts
from .params import FinanceParams


def care_model_costs(
    adopted,
    targeted_people: np.ndarray,
    f: int,
    years: np.ndarray,
    params: FinanceParams,
) -> CareModelCosts:
    """Each adopted care model's cost by (draw, year) in footprint ``f``."""
    elapsed = (years - BASE_YEAR)[None, :]
    index = (1 + params.inflation[:, None]) ** elapsed
    out, investment, running = [], [], []
    for i, a in enumerate(adopted):  # a plan adopts at most tens of care models
        level = a.coverage * a.ramp  # (year,)
        scale_up = np.maximum(np.diff(np.concatenate([[a.coverage * a.prior], level])), 0.0)
        people = targeted_people[:, f, i] / 1000.0
        inv = params.draws[f"cost/{a.spec.name}/investment"][:, None]
        run = params.draws[f"cost/{a.spec.name}/running"][:, None]
        out.append((inv * scale_up + run * level) * people * index)
        investment.append(inv * scale_up * people * index)
        running.append(run * level * people * index)
    empty = np.zeros((0, params.n, len(years)))
    inv_arr = np.array(investment) if investment else empty
    run_arr = np.array(running) if running else empty
    return CareModelCosts(
        names=tuple(a.spec.name for a in adopted),
        bearer=tuple(a.spec.delivered_by for a in adopted),
        cost=np.array(out) if out else empty,
        investment=inv_arr,
        running=run_arr,
        part_of_efficiency=tuple(a.spec.part_of_efficiency for a in adopted),
    )
