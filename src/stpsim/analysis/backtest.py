"""The track record: England's do-nothing, projected from 2016/17 data alone, against what
happened in 2017/18 to 2019/20, and the same draws reweighted by how well they fitted.

It reads one roll-up (every footprint, do-nothing, to 2020/21: one declared engine call) and the
parameters its draws used; it never reruns either. Outturns come from the shipped ``outturns``
table, each row saying which model quantity it is compared with and how:

- ``level``: the projection as it stands (the model's definition is the publisher's);
- ``index``: the projection's growth from 2016/17 applied to the published 2016/17 figure, for
  measures whose definition differs from the model's by a share that holds from year to year
  (finished admission episodes against admissions);
- ``step``: the published figure of the year before, plus the projection's change over the
  year, less what the row's ``adjust`` outturn says was done that the do-nothing leaves out
  (the providers' underlying deficit, after the cost improvement they delivered recurrently);
- ``input``: a published figure used only as another row's adjustment, never scored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..axes import SETTINGS, year_label
from . import scoring

BASE = "2016/17"


@dataclass(frozen=True)
class Quantity:
    """A model quantity for England, (draw, year), from the do-nothing roll-up."""

    id: str
    title: str
    of: Callable  # (rollup) -> (draw, year)


def _settings(*names: str) -> Callable:
    idx = [SETTINGS.index(n) for n in names]
    return lambda r: r.do_nothing[..., idx].sum(axis=(0, 3))


PROVIDER_KINDS = ("acute", "community", "mental_health")  # the NHS provider sector: trusts


def _provider_deficit(r) -> np.ndarray:
    """The NHS trusts' do-nothing deficit, GBP million (draw, year)."""
    return -sum(r.do_nothing_by_kind[k].sum(axis=0) for k in PROVIDER_KINDS) / 1e6


QUANTITIES = {
    q.id: q
    for q in (
        Quantity("ae_attendances", "A&E attendances", _settings("ae_attendances")),
        Quantity("emergency_admissions", "emergency admissions", _settings("emergency_admissions")),
        Quantity(
            "admissions",
            "admissions (emergency, elective and day cases)",
            _settings("emergency_admissions", "elective_admissions", "day_cases"),
        ),
        Quantity(
            "outpatient_attendances",
            "outpatient attendances (first and follow-up)",
            _settings("outpatient_first", "outpatient_followup"),
        ),
        Quantity("beds", "general and acute beds needed", lambda r: r.do_nothing_beds.sum(axis=0)),
        Quantity(
            "provider_deficit", "NHS trusts' deficit before cost improvement (GBP m)", _provider_deficit
        ),
    )
}


@dataclass(frozen=True)
class Outturn:
    """One published figure and how the model is held to it."""

    measure: str
    title: str
    year: str
    value: float
    unit: str
    quantity: str
    compare: str  # "level", "index", "step" or "input"
    adjust: str  # for "step": the measure whose same-year figure the modelled change is reduced by
    flag: str  # why the year is not like the others ("" when it is): COVID-19 in March 2020
    definition: str
    source: str


def outturns(table) -> list[Outturn]:
    """The rows of the ``outturns`` table (a DataFrame), checked: a known quantity, a known way
    of comparing, and a 2016/17 figure for every measure compared by index."""
    rows = [
        Outturn(
            measure=str(r["measure"]),
            title=str(r["title"]),
            year=str(r["year"]),
            value=float(r["value"]),
            unit=str(r["unit"]),
            quantity=str(r["quantity"]),
            compare=str(r["compare"]),
            adjust=_text(r["adjust"]),
            flag=_text(r["flag"]),
            definition=str(r["definition"]),
            source=str(r["source"]),
        )
        for r in table.to_dict("records")
    ]
    for o in rows:
        if o.compare != "input" and o.quantity not in QUANTITIES:
            raise ValueError(f"outturns: {o.measure} compares with unknown quantity {o.quantity!r}")
        if o.compare not in COMPARISONS:
            raise ValueError(
                f"outturns: {o.measure} compare {o.compare!r}; allowed: {', '.join(COMPARISONS)}"
            )
        if o.compare == "index" and _find(rows, o.measure, BASE) is None:
            raise ValueError(f"outturns: {o.measure} is compared by index but has no {BASE} figure")
        if o.adjust and _find(rows, o.adjust, o.year) is None:
            raise ValueError(
                f"outturns: {o.measure} {o.year} is adjusted by {o.adjust}, which has no {o.year} figure"
            )
    return rows


COMPARISONS = ("level", "index", "step", "input")


def _text(v) -> str:
    return "" if v is None or str(v) in ("", "<NA>", "nan") else str(v)


def _find(rows: list[Outturn], measure: str, year: str) -> Outturn | None:
    return next((o for o in rows if o.measure == measure and o.year == year), None)


def _year_before(year: str) -> str:
    first = int(year[:4]) - 1
    return f"{first}/{(first + 1) % 100:02d}"


@dataclass(frozen=True)
class Projections:
    """England's do-nothing quantities, (draw, year) each, and the years they cover."""

    years: tuple[str, ...]
    quantities: dict[str, np.ndarray]

    @classmethod
    def of(cls, rollup) -> Projections:
        return cls(
            tuple(year_label(y) for y in rollup.years), {k: q.of(rollup) for k, q in QUANTITIES.items()}
        )

    def comparable(self, o: Outturn, rows: list[Outturn]) -> np.ndarray:
        """The draws to hold outturn ``o`` to, (draw,), in its units."""
        x = self.quantities[o.quantity]
        t = self.years.index(o.year)
        if o.compare == "level":
            return x[:, t]
        if o.compare == "index":
            return _find(rows, o.measure, BASE).value * x[:, t] / x[:, self.years.index(BASE)]
        before = _find(rows, o.measure, _year_before(o.year))
        less = _find(rows, o.adjust, o.year).value if o.adjust else 0.0
        return before.value + x[:, t] - x[:, t - 1] - less


def measures(rows: list[Outturn]) -> dict[str, dict]:
    """Each measure once: its title, unit, how it is compared, its definition (the first row's)
    and the sources of its figures by year."""
    out: dict[str, dict] = {}
    for o in rows:
        m = out.setdefault(
            o.measure,
            {
                "title": o.title,
                "unit": o.unit,
                "compare": o.compare,
                "quantity": o.quantity,
                "definition": o.definition,
                "sources": {},
            },
        )
        m["sources"][o.year] = o.source
    return out


def scored(rows: list[Outturn], projections: Projections) -> list[Outturn]:
    """The outturns to score: after the base year, inside the projection's years, not an input,
    and for a step the year before published too."""
    return [
        o
        for o in rows
        if o.year != BASE
        and o.year in projections.years
        and o.compare != "input"
        and (o.compare != "step" or _find(rows, o.measure, _year_before(o.year)) is not None)
    ]


def table(
    rows: list[Outturn], projections: Projections, w: np.ndarray, years: tuple[str, ...] | None = None
) -> list[dict]:
    """Every scored outturn (of ``years``, default all) against the (weighted) projection: one
    row per measure and year."""
    out = []
    for o in scored(rows, projections):
        if years is not None and o.year not in years:
            continue
        s = scoring.score(projections.comparable(o, rows), w, o.value)
        out.append(
            {
                "measure": o.measure,
                "title": o.title,
                "year": o.year,
                "unit": o.unit,
                "compare": o.compare,
                "actual": o.value,
                **s,
                "flag": o.flag,
            }
        )
    return out


def fans(rows: list[Outturn], projections: Projections, w: np.ndarray) -> dict[str, dict]:
    """Each level or index measure's comparable projection in every year (weighted mean and 80%
    interval): the fan its outturns are drawn against. Step measures have no fan (each year's
    comparison starts from the published year before)."""
    out: dict[str, dict] = {}
    for o in rows:
        if o.compare not in ("level", "index") or o.measure in out:
            continue
        by_year = {}
        for year in projections.years:
            probe = Outturn(o.measure, o.title, year, o.value, o.unit, o.quantity, o.compare, "", "", "", "")
            x = projections.comparable(probe, rows)
            p10, p90 = scoring.weighted_quantiles(x, w, [0.1, 0.9])
            by_year[year] = {"mean": scoring.weighted_mean(x, w), "p10": float(p10), "p90": float(p90)}
        out[o.measure] = by_year
    return out


def by_measure(rows: list[dict]) -> dict[str, dict]:
    """Each measure's summary over its scored years (``scoring.summary``), with its title."""
    out: dict[str, dict] = {}
    for m in dict.fromkeys(r["measure"] for r in rows):
        mine = [r for r in rows if r["measure"] == m]
        out[m] = {"title": mine[0]["title"], **scoring.summary(mine)}
    return out


def log_likelihood(
    rows: list[Outturn], projections: Projections, years: tuple[str, ...], sigma: float
) -> np.ndarray:
    """Each draw's log-likelihood of the activity outturns of ``years`` (draw,): independent
    log-normal errors of standard deviation ``sigma`` around the comparable projection. Money
    (``step`` rows) is scored but not learnt from: its one comparison rests on a recurrent-savings
    figure published as "around"."""
    chosen = [o for o in scored(rows, projections) if o.year in years and o.compare in ("level", "index")]
    if not chosen:
        raise ValueError(f"no outturns to calibrate on in {', '.join(years)}")
    return sum(scoring.log_normal_likelihood(projections.comparable(o, rows), o.value, sigma) for o in chosen)


class DegenerateCalibration(ValueError):
    """The outturns single out too few draws to reweight by: the fit would rest on a handful."""


def calibration_weights(loglik: np.ndarray, floor_share: float) -> tuple[np.ndarray, float]:
    """Importance weights and their effective sample size, refused below ``floor_share`` of the
    draws (``DegenerateCalibration``)."""
    w = scoring.importance_weights(loglik)
    ess = scoring.effective_sample_size(w)
    floor = floor_share * len(w)
    if ess < floor:
        raise DegenerateCalibration(
            f"the calibration rests on {ess:.1f} effective draws of {len(w):,}; at least {floor:.0f} "
            f"({floor_share:.0%}) are needed: use more draws, or calibrate on fewer years"
        )
    return w, ess


CHANCE_REWEIGHTINGS = 200  # random reassignments of the weights that a real move must beat


def _moves(xs: np.ndarray, before: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """The median's shift and the 80% range's narrowing, in prior 80% widths, of sorted draws
    ``xs`` under weightings given by their cumulative positions ``before`` (k, draw)."""
    q = np.array([np.interp([0.1, 0.5, 0.9], b, xs) for b in before])  # (k, 3)
    width = prior[2] - prior[0]
    return np.stack([(q[:, 1] - prior[1]) / width, 1.0 - (q[:, 2] - q[:, 0]) / width], axis=1)


def _ranks(x: np.ndarray) -> np.ndarray:
    return np.argsort(np.argsort(x, kind="stable"), kind="stable").astype(float)


def moved_parameters(registry, values, w: np.ndarray, loglik: np.ndarray, seed: int = 0) -> list[dict]:
    """Each declared uncertain parameter that history moved. Two tests, both needed:

    - the outturns see it: its draws' rank correlation with the draws' log-likelihood is beyond
      3/sqrt(n) (a parameter no compared quantity depends on correlates only by chance);
    - its weighted median shifted, or its 80% range narrowed or widened, by more than any of
      200 random reassignments of the same weights to the draws moved it, and by at least a
      tenth of its prior 80% width.

    Prior and posterior p10, p50, p90, largest move first."""
    n = len(w)
    fit = _ranks(loglik)
    seen = 3.0 / np.sqrt(n)
    rng = np.random.default_rng(seed)
    chance_pos = scoring.positions(np.stack([rng.permutation(w) for _ in range(CHANCE_REWEIGHTINGS)]))
    flat_pos = scoring.positions(scoring.flat(n)[None, :])[0]
    out = []
    for p in registry:
        if not p.uncertain:
            continue
        x = values[p.id]
        if np.ptp(x) == 0 or abs(np.corrcoef(_ranks(x), fit)[0, 1]) <= seen:
            continue
        order = np.argsort(x, kind="stable")
        xs = x[order]
        prior = np.interp([0.1, 0.5, 0.9], flat_pos, xs)
        if prior[2] - prior[0] <= 0:
            continue
        mine = scoring.positions(w[order][None, :])
        post = np.interp([0.1, 0.5, 0.9], mine[0], xs)
        move = _moves(xs, mine, prior)[0]
        bar = np.maximum(np.abs(_moves(xs, chance_pos, prior)).max(axis=0), 0.1)
        if np.any(np.abs(move) > bar):
            out.append(
                {
                    "id": p.id,
                    "title": p.title,
                    "unit": p.unit,
                    "prior": dict(zip(("p10", "p50", "p90"), map(float, prior), strict=True)),
                    "posterior": dict(zip(("p10", "p50", "p90"), map(float, post), strict=True)),
                    "shift": float(move[0]),
                    "narrowing": float(move[1]),
                }
            )
    return sorted(out, key=lambda d: -max(abs(d["shift"]), abs(d["narrowing"])))


def gap_summary(gap: np.ndarray, w: np.ndarray) -> dict[str, float]:
    """England's do-nothing gap in one year (draw,): weighted mean and 80% interval."""
    p10, p90 = scoring.weighted_quantiles(gap, w, [0.1, 0.9])
    return {"mean": scoring.weighted_mean(gap, w), "p10": float(p10), "p90": float(p90)}
