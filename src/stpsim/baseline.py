"""The baseline: footprints' populations and the activity they generate in any year from
2016/17 to 2035/36 under demographic change alone (rates held at their 2016/17 level)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from numbers import Integral

import numpy as np

from . import activity, demography, footprint, population
from .axes import BAND_LABELS, BASE_YEAR, LAST_YEAR, SETTINGS, five_year_band_of_age, parse_year, year_label
from .cache import persistent
from .geography import Footprint
from .reference import derived


@persistent
def projection() -> population.Projection:
    """All 44 footprints projected to the last year the ONS projection covers (cached)."""
    return projection_of(footprint.all_footprints())


def footprint_people(fps: Sequence[Footprint]) -> np.ndarray:
    """(footprint, sex, age) mid-2016 residents: summed from the small areas, or a footprint's
    own local table."""
    by_age = population.by_age_from_bands(population.bands_2016([f.lsoas for f in fps]))
    for i, f in enumerate(fps):
        if f.local is not None and f.local.population is not None:
            by_age[i] = f.local.population
    return by_age


def projection_of(fps: Sequence[Footprint]) -> population.Projection:
    """Any footprints projected to the last year the ONS projection covers. Each follows
    England's migration and birth rates (England is projected alongside as the reference), so
    any partition of England sums to England. (Kept for the process's recent footprints: a run
    asks for the same ones once per care model.)"""
    return _projection_of(tuple(fps))


@derived(64)
def _projection_of(fps: tuple[Footprint, ...]) -> population.Projection:
    england = population.cells_of(demography.england_base())
    cells = np.concatenate([population.cells_of(footprint_people(fps)), england[None]])
    p = population.project(cells, LAST_YEAR, reference=True)
    n = len(fps)
    for arr in (p.population, p.births, p.deaths, p.migration):
        arr.flags.writeable = False  # cached and shared: callers must not change it
    return population.Projection(
        years=p.years,
        population=p.population[:, :n],
        births=p.births[:, :n],
        deaths=p.deaths[:, :n],
        migration=p.migration[:, :n],
    )


@dataclass(frozen=True)
class Baseline:
    year: int
    codes: tuple[str, ...]
    names: tuple[str, ...]
    population: np.ndarray  # (footprint,) for the selected footprints
    activity: np.ndarray  # (footprint, setting)
    england_population: float
    england_activity: np.ndarray  # (setting,)
    england_by_age: np.ndarray | None  # (band, 1 + setting): population then settings
    footprint_by_age: np.ndarray | None  # (footprint, band, 1 + setting)

    def to_dict(self) -> dict:
        def acts(v: np.ndarray) -> dict[str, float]:
            return {k: round(float(x), 1) for k, x in zip(SETTINGS, v, strict=True)}

        def ages(rows: np.ndarray) -> list[dict]:
            return [
                {"age_band": b, "population": round(float(r[0])), "activity": acts(r[1:])}
                for b, r in zip(BAND_LABELS, rows, strict=True)
            ]

        england: dict = {
            "population": round(self.england_population),
            "activity": acts(self.england_activity),
        }
        if self.england_by_age is not None:
            england["by_age"] = ages(self.england_by_age)
        fps = []
        for i, (code, name) in enumerate(zip(self.codes, self.names, strict=True)):
            entry: dict = {
                "code": code,
                "name": name,
                "population": round(float(self.population[i])),
                "activity": acts(self.activity[i]),
            }
            if self.footprint_by_age is not None:
                entry["by_age"] = ages(self.footprint_by_age[i])
            fps.append(entry)
        return {"year": year_label(self.year), "england": england, "footprints": fps}


def _by_band(pop_age: np.ndarray, act_age: np.ndarray) -> np.ndarray:
    """(..., age) population and (..., setting, age) activity -> (..., band, 1 + setting)."""
    band = five_year_band_of_age()
    n = len(BAND_LABELS)
    stacked = np.concatenate([pop_age[..., None, :], act_age], axis=-2)  # (..., 1+k, age)
    onehot = np.eye(n)[band]  # (age, band)
    return np.swapaxes(stacked @ onehot, -1, -2)


def checked_year(year: int | str) -> int:
    """A year as its starting calendar year: 2020, "2020" or "2020/21" all give 2020. Anything
    else, or a year the projection does not cover, is a ValueError naming it and the range."""
    if isinstance(year, Integral) and not isinstance(year, bool):
        if not BASE_YEAR <= year <= LAST_YEAR:
            raise ValueError(
                f"year {year} is out of range; allowed: {BASE_YEAR} to {LAST_YEAR} "
                f"({year_label(BASE_YEAR)} to {year_label(LAST_YEAR)})"
            )
        return int(year)
    if isinstance(year, str):
        return parse_year(year)
    raise ValueError(
        f"year {year!r} is not a year; allowed: {BASE_YEAR} to {LAST_YEAR}, or a label such as '2020/21'"
    )


def baseline(year: int | str, codes: str | Iterable[str] | None = None, by_age: bool = False) -> Baseline:
    """Population and expected activity for ``codes`` (default: all 44) in ``year`` (2020 or
    "2020/21"). ``codes`` takes ONS codes or names, or one as a plain string.

    All 44 footprints are always projected together, because migration is solved so that they
    sum to England's ONS projection."""
    year = checked_year(year)
    if isinstance(codes, str):  # one footprint, not a list of its letters
        codes = [codes]
    all_fps = footprint.all_footprints()
    index = {f.code: i for i, f in enumerate(all_fps)}
    chosen = [f.code for f in all_fps] if codes is None else [footprint.find(str(c)).code for c in codes]
    sel = np.array([index[c] for c in chosen], dtype=int)
    proj = projection()
    pop = proj.population[year - int(proj.years[0])]  # (footprint, sex, age, segment)
    if by_age:
        act_age = activity.demand_by_age(pop)  # (fp, setting, age)
        pop_age = pop.sum(axis=(1, 3))
        fp_bands = _by_band(pop_age, act_age)
        eng_bands = fp_bands.sum(axis=0)
        act = act_age.sum(axis=-1)
    else:
        act = activity.demand(pop)
        fp_bands = eng_bands = None
    fp_pop = pop.sum(axis=(1, 2, 3))
    return Baseline(
        year=year,
        codes=tuple(chosen),
        names=tuple(all_fps[i].name for i in sel),
        population=fp_pop[sel],
        activity=act[sel],
        england_population=float(fp_pop.sum()),
        england_activity=act.sum(axis=0),
        england_by_age=eng_bands,
        footprint_by_age=None if fp_bands is None else fp_bands[sel],
    )
