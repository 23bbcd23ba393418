"""Fast previews for the dashboard: one footprint's plan recomputed as a slider moves, and
England re-summed when one footprint's plan changes.

A preview is the plan's run without the incentive matrix (one extra pass per care model) and
without the gap drivers: those are computed only when shown. The population, activity rates and
random-number blocks are cached in the process after the first call, so a slider change costs
only the engine and the books for that footprint. For England, every footprint's do-nothing
books are computed once per (draws, seed) and kept; a changed plan re-runs its own footprint
and the national sums are taken again, draw by draw.
"""

from __future__ import annotations

import threading
from functools import lru_cache

import numpy as np

from ..plan import Plan
from .responses import RunResponse

_LOCK = threading.Lock()


def preview(plan: Plan) -> RunResponse:
    """The plan's results without the incentive matrix and the gap drivers (shown on demand)."""
    from ..engine import run

    doc = run(plan, incentives=False).to_dict() | {"gap_drivers": []}
    return RunResponse.model_validate(doc)


@lru_cache(maxsize=4)
def _do_nothing(draws: int, seed: int, last_year: int) -> dict[str, dict[str, np.ndarray]]:
    """Every footprint's do-nothing arrays from the roll-up's own task (computed once)."""
    from .. import footprint
    from ..rollup import do_nothing_plan, footprint_work

    out = {}
    for code in footprint.codes():
        base = do_nothing_plan(code, last_year)
        plan = base.model_copy(
            update={"monte_carlo": base.monte_carlo.model_copy(update={"draws": draws, "seed": seed})}
        )
        out[code] = footprint_work(code, plan, 0, draws)
    return out


def england(plans: dict[str, Plan], draws: int = 1000, seed: int = 1, last_year: int = 2020) -> dict:
    """England's do-nothing and plan gaps by footprint and in total for the last year, with the
    given footprints' plans and do-nothing elsewhere; only the planned footprints are re-run."""
    from .. import footprint
    from ..baseline import projection
    from ..rollup import footprint_work
    from ..summaries import STATS, summarise

    with _LOCK:  # the first call builds the cache; concurrent callers wait for it
        base = _do_nothing(draws, seed, last_year)
    codes = footprint.codes()
    surplus = {code: base[code]["surplus"][:, -1] for code in codes}
    for code, plan in plans.items():
        p = plan.model_copy(
            update={
                "footprints": [code],
                "start_year": 2016,
                "end_year": last_year,
                "monte_carlo": plan.monte_carlo.model_copy(update={"draws": draws, "seed": seed}),
            }
        )
        surplus[code] = footprint_work(code, p, 0, draws)["surplus"][:, -1]
    people = projection().population[last_year - 2016].sum(axis=(1, 2, 3))
    rows = []
    for f, code in enumerate(codes):
        gap = -surplus[code]
        dn_gap = -base[code]["do_nothing_surplus"][:, -1]
        rows.append(
            {
                "code": code,
                "planned": code in plans,
                "people": int(people[f]),
                "gap_per_head": float(gap.mean() / people[f]),
                "do_nothing_gap_per_head": float(dn_gap.mean() / people[f]),
            }
        )
    total = -sum(surplus.values())
    s = summarise(total)
    return {"draws": draws, "seed": seed, "footprints": rows, "england_gap": {k: float(s[k]) for k in STATS}}
