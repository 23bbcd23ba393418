"""The track record (``stpsim backtest``): England's do-nothing from 2016/17 data alone against
what happened, the draws reweighted by their fit, and the calibration a plan run can use.

One roll-up (every footprint, do-nothing, to 2020/21) is run once per reference data, code,
draws and seed; its document is kept on disk beside the derived tables, so the report's "How
well has this model done?" and the dashboard's track-record page read it rather than rerun it.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
from functools import lru_cache
from typing import Any

from ..cache import persistent

LAST_YEAR = 2020  # the gap the board asks about: 2020/21
CALIBRATION_YEARS = ("2017/18", "2018/19")  # before COVID-19: the default years to learn from
HOLD_OUT_YEAR = "2019/20"
_lock = threading.Lock()


def _assumption(name: str) -> float:
    from .. import assumptions

    return float(assumptions.value(name))


def backtest(
    draws: int = 1000,
    seed: int = 0,
    years: tuple[str, ...] = CALIBRATION_YEARS,
    executor: str = "serial",
    workers: int | None = None,
) -> dict[str, Any]:
    """The track record's document (what ``stpsim backtest --json`` prints): the table of
    outturns against projections, each measure's summary, the calibration on ``years`` (weights'
    effective size, parameters that moved, the table reweighted), the hold-out score of 2019/20
    and England's 2020/21 do-nothing gap before and after."""
    from ..analysis.backtest import DegenerateCalibration
    from .errors import Invalid

    allowed = outturn_years()
    wrong = [y for y in years if y not in allowed]
    if wrong or not years:
        raise Invalid(
            f"years: {', '.join(wrong) or '(none)'} not allowed; allowed: one or more of {', '.join(allowed)}"
        )
    try:
        with _lock:
            return _cached(draws, seed, tuple(sorted(set(years))), executor, workers)
    except DegenerateCalibration as e:
        raise Invalid(f"draws: {e}") from None


def outturn_years() -> tuple[str, ...]:
    """The years after 2016/17 with outturns to score and calibrate on."""
    return _outturn_years()


@persistent
def _outturn_years() -> tuple[str, ...]:
    """Read from the table once per reference data: every board report asks, and reading a table
    loads pandas (0.2 s of a new process)."""
    from .. import reference
    from ..analysis.backtest import BASE

    years = reference.table("outturns")["year"].astype(str)
    return tuple(sorted({y for y in years if y != BASE and int(y[:4]) <= LAST_YEAR}))


def _path(draws: int, seed: int, years: tuple[str, ...]):
    from ..cache import cache_dir

    folder = cache_dir()
    if folder is None:
        return None
    return folder / f"backtest-{draws}-{seed}-{'_'.join(y.replace('/', '-') for y in years)}.json"


@lru_cache(maxsize=8)
def _cached(draws: int, seed: int, years: tuple[str, ...], executor: str, workers: int | None) -> dict:
    path = _path(draws, seed, years)
    if path is not None and path.exists():
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            pass  # unreadable: compute it again
    doc = compute(draws, seed, years, executor, workers)
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
            tmp.write_text(json.dumps(doc))
            os.replace(tmp, path)
        except OSError:
            pass  # a read-only disk costs only speed
    return doc


def compute(
    draws: int, seed: int, years: tuple[str, ...], executor: str = "serial", workers: int | None = None
) -> dict[str, Any]:
    from ..rollup import rollup

    result = rollup({}, draws, seed, LAST_YEAR, executor=executor, workers=workers)
    return document(result, years)


def document(result, years: tuple[str, ...]) -> dict[str, Any]:
    """The track record of one do-nothing roll-up (see ``backtest``)."""
    from .. import engine, reference, run_parameters
    from ..analysis import backtest as bt
    from ..analysis import scoring
    from ..rollup import do_nothing_plan

    plan = do_nothing_plan(result.codes[0], max(result.years))
    plan = plan.model_copy(
        update={
            "monte_carlo": plan.monte_carlo.model_copy(update={"draws": result.draws, "seed": result.seed})
        }
    )
    values = engine.parameter_draws(plan, range(result.draws))  # the roll-up's draws, drawn again
    rows = bt.outturns(reference.table("outturns"))
    proj = bt.Projections.of(result)
    flat = scoring.flat(result.draws)
    sigma = _assumption("backtest_observation_error")
    floor = _assumption("backtest_minimum_effective_share")
    prior = bt.table(rows, proj, flat)
    loglik = bt.log_likelihood(rows, proj, years, sigma)
    w, ess = bt.calibration_weights(loglik, floor)
    posterior = bt.table(rows, proj, w)
    held_w, held_ess = bt.calibration_weights(bt.log_likelihood(rows, proj, CALIBRATION_YEARS, sigma), floor)
    held = (HOLD_OUT_YEAR,)
    gap = result.do_nothing_gap.sum(axis=0)[:, -1]
    return {
        "draws": result.draws,
        "seed": result.seed,
        "base_year": bt.BASE,
        "years": list(proj.years),
        "table": prior,
        "summary": bt.by_measure(prior),
        "fans": bt.fans(rows, proj, flat),
        "calibration": {
            "years": list(years),
            "likelihood": (
                f"each outturn is the projection times a log-normal error of {sigma:.1%} "
                "(assumption backtest_observation_error); outturns independent"
            ),
            "effective_draws": ess,
            "floor": floor * result.draws,
            "weights": [float(x) for x in w],
            "table": posterior,
            "summary": bt.by_measure(posterior),
            "fans": bt.fans(rows, proj, w),
            "moved": bt.moved_parameters(run_parameters.declare(plan), values, w, loglik, result.seed),
        },
        "hold_out": {
            "calibrated_on": list(CALIBRATION_YEARS),
            "year": HOLD_OUT_YEAR,
            "effective_draws": held_ess,
            "before": bt.by_measure(bt.table(rows, proj, flat, held)),
            "after": bt.by_measure(bt.table(rows, proj, held_w, held)),
        },
        "gap": {
            "year": max(proj.years),
            "before": bt.gap_summary(gap, flat),
            "after": bt.gap_summary(gap, w),
        },
        "measures": bt.measures(rows),
    }


def resampled_draws(draws: int, seed: int, years: tuple[str, ...] = CALIBRATION_YEARS) -> list[int]:
    """The prior draws a calibrated run of ``draws`` draws at ``seed`` uses: England's track
    record's weights, systematically resampled (``scoring.resample``)."""
    import numpy as np

    from ..analysis import scoring

    doc = backtest(draws, seed, years)
    return [int(i) for i in scoring.resample(np.asarray(doc["calibration"]["weights"]))]


def calibrated(plan):
    """``plan`` with its draws calibrated to England's track record at its draws and seed
    (``resampled_draws``): a new plan document (its hash differs), which every output reads."""
    from ..plan import Calibration

    mc = plan.monte_carlo
    doc = backtest(mc.draws, mc.seed, CALIBRATION_YEARS)
    calibration = Calibration(
        years=list(doc["calibration"]["years"]),
        effective_draws=doc["calibration"]["effective_draws"],
        prior_draws=resampled_draws(mc.draws, mc.seed),
    )
    return plan.model_copy(update={"monte_carlo": mc.model_copy(update={"calibration": calibration})})
