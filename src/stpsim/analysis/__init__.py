"""Analyses above the engine: each reads a run's Results and adds what a board asks next.

- ``service_change``: the beds test, formal-consultation flags and the four tests;
- ``payback``: each care model's investment, running cost, savings, payback year and NPV;
- ``workforce``: whole-time equivalents by staff group;
- ``sensitivity``: the gap drivers (the tornado), through the engine's one declared
  counterfactual call (every parameter central, one pinned at a time, in one vectorised run).

``analyse`` runs them all once for a run; the run record keeps what they found, so no page,
report or API answer works them out again.
"""

from __future__ import annotations

from typing import Any


def analyse(results, attestations: list[dict] | tuple = ()) -> tuple[dict[str, Any], dict[str, Any]]:
    """Every analysis of one run: the parts of the run's document they fill (``gap_drivers``,
    ``service_change``, ``workforce`` and, with the incentive matrix, ``investment``) and what
    the record keeps beyond the document (``gap_centre``: the all-central gap the tornado
    swings about)."""
    from .payback import care_model_payback
    from .sensitivity import drivers_and_centre
    from .service_change import evaluate
    from .workforce import workforce

    plan = results.plan
    drivers, centre = drivers_and_centre(plan)
    document = {
        "gap_drivers": drivers,
        "service_change": evaluate(plan, results, attestations),
        "workforce": workforce(results),
    }
    if results.finance is not None and results.finance.incentives:
        document["investment"] = care_model_payback(results)
    return document, {"gap_centre": centre}
