"""England and its footprints if nothing changes, for the dashboard's map and footprint pages:
the do-nothing roll-up of every footprint and one footprint's do-nothing run, each computed once
per process (they depend only on the shipped data and the code) at the same draws and seed, so
the footprint page's numbers are the map's, draw for draw."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

_lock = threading.Lock()


@lru_cache(maxsize=4)
def _rollup(draws: int, seed: int, last_year: int) -> dict[str, Any]:
    from ..rollup import rollup

    return rollup({}, draws, seed, last_year, executor="serial").to_dict()


def england_do_nothing(draws: int, seed: int, last_year: int) -> dict[str, Any]:
    """The do-nothing roll-up's document (what ``stpsim rollup --json`` prints), computed once:
    the first visitors wait for it rather than start one each."""
    with _lock:
        return _rollup(draws, seed, last_year)


@dataclass(frozen=True)
class FootprintDoNothing:
    code: str
    name: str
    region: str
    document: dict[str, Any]  # the run's document (``Results.to_dict``)
    facts: dict[str, float]  # the story's facts of the run
    figures: dict[str, Any]  # people, pressure, beds: the report's plotly figures


@lru_cache(maxsize=64)
def footprint_do_nothing(code: str, draws: int, seed: int, last_year: int) -> FootprintDoNothing:
    """One footprint if nothing changes, on national assumptions (cached per footprint)."""
    from ..engine import run
    from ..footprint import find
    from ..report import charts
    from ..rollup import do_nothing_plan
    from ..story import facts

    fp = find(code)
    plan = do_nothing_plan(fp.code, last_year)
    mc = plan.monte_carlo.model_copy(update={"draws": draws, "seed": seed})
    results = run(plan.model_copy(update={"monte_carlo": mc}))
    return FootprintDoNothing(
        code=fp.code,
        name=fp.name,
        region=fp.region,
        document=results.to_dict(),
        facts=facts(results),
        figures={
            "people": charts.pyramid(results),
            "pressure": charts.fans(results),
            "beds": charts.beds(results),
        },
    )
