"""Investment and payback of each adopted care model: what it costs (set-up and running), what
it saves and to whom, when it pays back and what it is worth now.

Every figure is of the care model adopted alone against do-nothing (the incentive matrix's
counterfactual, ``PlanFinance.incentives_by_year``), so the care models' figures do not add up
exactly to the plan's: care models that target the same people overlap.

Conventions, used throughout and in the worked examples of the tests:

* The appraisal follows the Green Book: cash flows are deflated to the plan's first year's prices
  by the GDP deflator (``gdp_deflator_growth``), costs are raised by optimism bias
  (``optimism_bias_care_model_costs``), and the real net benefit is discounted at the Green
  Book's 3.5% a year real (``discount_rate_green_book``): year ``t`` from the plan's first
  (``t = 0``, undiscounted) is divided by ``(1 + r) ** t``. The appraisal runs for
  ``appraisal_horizon_years`` (10) from the plan's first year; years after the plan's last carry
  on its last year's recurrent savings and running cost in real terms (the set-up investment
  does not recur). The payback year and the yearly figures are cash, as the books are.
* The net benefit to the system in a year is the change in the surplus of every organisation of
  the footprint(s) (NHS and councils, not out-of-area providers) with the care model against
  without it: savings less the care model's costs. ``savings_by_organisation`` holds each
  organisation's part (after the costs it bears and the payments that move between them), so it
  sums over organisations to ``net_benefit``; ``savings`` is the system's gross saving,
  ``net_benefit + cost``.
* The payback year is the first year, from the first year the care model costs or saves
  anything (a pound or more), in which the mean cumulative net benefit to the system is zero or more.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .. import assumptions
from ..axes import year_label
from ..run_parameters import DEFLATOR, DISCOUNT_RATE, OPTIMISM_BIAS
from ..summaries import STATS, summarise


def npv(flows, rate: float) -> np.ndarray | float:
    """Net present value of ``flows`` (..., year), year 0 undiscounted: sum of flow_t / (1 + rate)^t."""
    f = np.asarray(flows, dtype=float)
    factors = (1.0 + rate) ** -np.arange(f.shape[-1])
    out = (f * factors).sum(axis=-1)
    return float(out) if out.ndim == 0 else out


def payback_year(years: Sequence, cumulative, start: int = 0):
    """The first of ``years``, from index ``start`` on, whose ``cumulative`` net benefit is zero or
    more; None when it never is."""
    c = np.asarray(cumulative, dtype=float)
    for t in range(start, len(years)):
        if c[t] >= 0.0:
            return years[t]
    return None


def appraised_flows(results, savings, running, investment, horizon: int) -> np.ndarray:
    """(draw, year) the real net benefit the Green Book appraises, over ``horizon`` years from the
    plan's first: savings less costs raised by optimism bias, deflated to the first year's prices
    by the GDP deflator; after the plan's last year, the last year's recurrent savings less
    running cost (real) carried on. Inputs are cash (draw, year) over the plan's years."""
    draws = results.parameters
    bias = draws[OPTIMISM_BIAS][:, None]
    growth = draws[DEFLATOR][:, None]
    n = savings.shape[1]
    deflator = (1.0 + growth) ** np.arange(n)[None, :]
    real = (savings - (running + investment) * (1.0 + bias)) / deflator
    recurrent = ((savings - running * (1.0 + bias)) / deflator)[:, -1:]
    return np.concatenate([real, np.repeat(recurrent, horizon - n, axis=1)], axis=1)


def discount_rate(params=None) -> float:
    """The Green Book discount rate as a fraction a year: the run's declared parameter
    (``run_parameters.DISCOUNT_RATE``, fixed in the log) when ``params`` (the run's parameter
    draws) are given, else the log's value."""
    if params is not None:
        return float(params[DISCOUNT_RATE][0])
    return float(assumptions.value("discount_rate_green_book")) / 100.0


def _stats(x: np.ndarray) -> dict[str, float]:
    s = summarise(x)
    return {k: float(s[k]) for k in STATS}


def _by_year(x: np.ndarray, labels: list[str]) -> dict[str, dict[str, float]]:
    """(draw, year) -> {year label: {mean, p10, p50, p90}}."""
    s = summarise(x)
    return {label: {k: float(s[k][t]) for k in STATS} for t, label in enumerate(labels)}


def _many_by_year(arrays: dict, labels: list[str]) -> dict:
    """``_by_year`` for many (draw, year) arrays at once: one percentile call, not one each."""
    keys = list(arrays)
    stacked = np.stack(
        [np.broadcast_to(np.asarray(arrays[k], dtype=float), arrays[keys[0]].shape) for k in keys]
    )
    s = summarise(stacked, axis=1)  # (array, year)
    return {
        k: {label: {st: float(s[st][i, t]) for st in STATS} for t, label in enumerate(labels)}
        for i, k in enumerate(keys)
    }


def _org_names(fin, multi: bool) -> dict[tuple[str, str], str]:
    out = {}
    for books in fin.footprints:
        for org in books.orgs:
            out[(books.code, org.id)] = f"{org.name} ({books.code})" if multi else org.name
    return out


def care_model_payback(results) -> list[dict]:
    """Per adopted care model, in the plan's order: its costs, savings (in total and by
    organisation), net benefit, cumulative net benefit, payback year and net present value.

    Each dict has ``name``, ``title``, ``delivered_by``, ``years`` (labels), ``investment``,
    ``running``, ``cost``, ``savings``, ``net_benefit``, ``cumulative_net_benefit`` (each
    {year: {mean, p10, p50, p90}}), ``savings_by_organisation`` ({organisation name: {year:
    summary}}), ``payback_year`` (a year label or None), ``payback_reason`` (None when it pays
    back), ``paid_back_share`` (share of draws whose cumulative net benefit is zero or more by the
    last year), ``npv`` ({mean, p10, p50, p90}), ``discount_rate`` (a fraction) and ``basis``.
    Needs a run with the incentive matrix (``engine.run(plan)``, not ``incentives=False``)."""
    from ..adoption import adopted_interventions

    fin = results.finance
    adopted = adopted_interventions(results.plan)
    if adopted and not fin.incentives_by_year:
        raise ValueError("payback needs the incentive matrix: run the plan with incentives")
    labels = [year_label(y) for y in results.years]
    rate = discount_rate(results.parameters)
    horizon = max(int(assumptions.value("appraisal_horizon_years")), len(results.years))
    names = _org_names(fin, multi=len(fin.footprints) > 1)
    out = []
    for i, a in enumerate(adopted):
        name = a.spec.name
        inv = sum(c.investment[i] for c in fin.care_model_costs)
        run = sum(c.running[i] for c in fin.care_model_costs)
        cost = sum(c.cost[i] for c in fin.care_model_costs)
        by_org = {
            names[(code, org)]: gain for (n, code, org), gain in fin.incentives_by_year.items() if n == name
        }
        net = sum(by_org.values())
        cumulative = np.cumsum(net, axis=1)
        # A year counts from the first in which the care model costs or saves a pound in some
        # draw (below that is rounding between two sets of books).
        active = np.flatnonzero((np.abs(cost) >= 1.0).any(axis=0) | (np.abs(net) >= 1.0).any(axis=0))
        year = None
        if active.size == 0:
            reason = "the care model neither costs nor saves anything in the plan's years"
        else:
            year = payback_year(labels, cumulative.mean(axis=0), start=int(active[0]))
            reason = (
                None
                if year is not None
                else f"the mean cumulative net benefit is still negative in {labels[-1]} "
                f"({cumulative[:, -1].mean() / 1e6:,.1f}m)"
            )
        series = {"investment": inv, "running": run, "cost": cost, "savings": net + cost, "net_benefit": net}
        series["cumulative_net_benefit"] = cumulative
        summaries = _many_by_year({**series, **{("org", k): v for k, v in by_org.items()}}, labels)
        out.append(
            {
                "name": name,
                "title": a.spec.title,
                "delivered_by": a.spec.delivered_by,
                "years": labels,
                **{k: summaries[k] for k in series},
                "savings_by_organisation": {k: summaries[("org", k)] for k in by_org},
                "payback_year": year,
                "payback_reason": reason,
                "paid_back_share": float((cumulative[:, -1] >= 0).mean()),
                "npv": _stats(npv(appraised_flows(results, net + cost, run, inv, horizon), rate)),
                "discount_rate": rate,
                "appraisal_years": horizon,
                "basis": (
                    f"Green Book: real net benefit at {labels[0]} prices (GDP deflator), costs raised by "
                    f"optimism bias, {horizon} years from {labels[0]} (year 0, undiscounted), the last "
                    f"year's recurrent savings and running cost carried on, discounted at {rate:.1%} a year"
                ),
            }
        )
    return out
