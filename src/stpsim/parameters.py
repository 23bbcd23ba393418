"""Uncertain parameters: 80% intervals and how draws are made from them.

An interval (low, high) is read as the 10th and 90th percentiles of a normal distribution
(assumption ``interval_distribution``). Draws are keyed by the parameter's name, so a parameter
gets the same values in every plan run with the same seed whatever else the plan contains: the
do-nothing counterfactual and the plan share their growth draws (common random numbers).
Draw 0 is the central estimate.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from pydantic import BaseModel, ConfigDict, model_validator

from . import assumptions
from .random_streams import BLOCK, blocks, prefetch

Z90 = float(assumptions.value("interval_distribution"))

PARAM_STREAM = 1
NOISE_STREAM = 2


class Interval(BaseModel):
    """An 80% interval: ``low`` and ``high`` are the 10th and 90th percentiles."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    low: float
    high: float

    @model_validator(mode="after")
    def _ordered(self) -> Interval:
        if self.low > self.high:
            raise ValueError(f"low ({self.low}) must not exceed high ({self.high})")
        return self

    @property
    def central(self) -> float:
        return 0.5 * (self.low + self.high)

    @property
    def sd(self) -> float:
        return (self.high - self.low) / (2.0 * Z90)

    @classmethod
    def of(cls, low: float, high: float) -> Interval:
        return cls(low=low, high=high)


def name_key(name: str) -> int:
    return zlib.crc32(name.encode())


def standard_normals(
    seed: int, stream: int, key: tuple[int, ...], draws: range, width: int = 1
) -> np.ndarray:
    """Standard normal deviates for ``draws`` (a range of draw indices), shape (len(draws), width).

    Generated block by block from ``SeedSequence(seed, spawn_key=(stream, *key, block))`` so the
    value for draw i never depends on which other draws are requested. Draw 0 is zero (central).
    """
    if len(draws) == 0:
        return np.zeros((len(draws), width))
    first, last = draws.start // BLOCK, (draws.stop - 1) // BLOCK
    # A handful of kept blocks, not a loop over draws; keeping them spares repeated passes (the
    # tornado, the optimiser's options) the same draws.
    kept = blocks(seed, stream, [(key, b) for b in range(first, last + 1)], width)
    z = np.concatenate(kept)[draws.start - first * BLOCK : draws.stop - first * BLOCK]
    if draws.start == 0:
        z[0] = 0.0
    return z


def draw(
    interval: Interval,
    seed: int,
    name: str,
    draws: range,
    lower: float | None = None,
    upper: float | None = None,
    z: np.ndarray | None = None,
) -> np.ndarray:
    """Draws of one named parameter, shape (len(draws),), truncated to [lower, upper]. ``z``:
    chosen standard normal deviates instead of the parameter's own random stream."""
    if z is None:
        z = standard_normals(seed, PARAM_STREAM, (name_key(name),), draws)[:, 0]
    x = interval.central + interval.sd * z
    if lower is not None or upper is not None:
        x = np.clip(x, lower, upper)
    return x


# ---- the registry: every uncertain parameter declared once, drawn once ------------------------


@dataclass(frozen=True)
class Parameter:
    """One parameter of a run. ``interval`` is its 80% interval (p10, p90 of a normal, truncated
    to [lower, upper]) in the units the model uses; None when it is fixed at ``value``."""

    id: str  # the draw's key: "growth/<setting>", "effect/<model>/<setting>", "assumption/<id>"...
    title: str
    unit: str
    value: float  # the central value (the interval's middle), or the fixed value
    interval: Interval | None = None
    lower: float | None = None
    upper: float | None = None
    source: str = ""  # where its value and range come from
    reaches_gap: bool = True  # False: capacity, workforce and appraisal only (not the tornado's)

    @property
    def uncertain(self) -> bool:
        return self.interval is not None and self.interval.low != self.interval.high

    def draws(self, seed: int, draws: range, z: np.ndarray | None = None) -> np.ndarray:
        if self.interval is None:
            return np.full(len(draws), self.value)
        return draw(self.interval, seed, self.id, draws, self.lower, self.upper, z)


class Registry:
    """The declared parameters of a run, in declaration order, each once."""

    def __init__(self, parameters: list[Parameter] | tuple[Parameter, ...] = ()):
        self._by_id: dict[str, Parameter] = {}
        for p in parameters:
            self.add(p)

    def add(self, p: Parameter) -> None:
        known = self._by_id.get(p.id)
        if known is not None and known != p:
            raise ValueError(f"parameter {p.id} declared twice, differently: {known} and {p}")
        self._by_id[p.id] = p

    def __iter__(self):
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def __getitem__(self, pid: str) -> Parameter:
        return self._by_id[pid]

    def __contains__(self, pid: str) -> bool:
        return pid in self._by_id

    def draw(
        self, seed: int, draws: range, z: dict[str, np.ndarray] | None = None, noise: bool = True
    ) -> ParameterDraws:
        """Every parameter's draws at once. ``z``: chosen deviates (draw,) by id, every other
        parameter central (the tornado's design); without it each parameter's own stream."""
        if z is None:  # every uncertain parameter's blocks in one pass
            keys = [(name_key(p.id),) for p in self if p.interval is not None]
            prefetch(seed, PARAM_STREAM, keys, draws)
        cols = []
        for p in self:
            chosen = None
            if z is not None:
                chosen = z.get(p.id, np.zeros(len(draws)))
            cols.append(p.draws(seed, draws, chosen))
        values = np.stack(cols, axis=1) if cols else np.zeros((len(draws), 0))
        return ParameterDraws(tuple(self._by_id), values, draws.start, noise)


@dataclass(frozen=True)
class ParameterDraws:
    """A run's parameters as drawn: ``values`` is (draw, parameter), columns named by ``ids``.
    ``noise`` False switches off activity noise (a designed run: the tornado)."""

    ids: tuple[str, ...]
    values: np.ndarray
    first: int = 0  # the index of the first draw held
    noise: bool = True

    def __getitem__(self, pid: str) -> np.ndarray:
        return self.values[:, self._column[pid]]

    def __contains__(self, pid: str) -> bool:
        return pid in self._column

    @cached_property
    def _column(self) -> dict[str, int]:
        return {pid: i for i, pid in enumerate(self.ids)}

    @property
    def draws(self) -> range:
        return range(self.first, self.first + self.values.shape[0])

    def sliced(self, draws: range) -> ParameterDraws:
        """The same parameters for a block of ``draws`` inside these."""
        a, b = draws.start - self.first, draws.stop - self.first
        return ParameterDraws(self.ids, self.values[a:b], draws.start, self.noise)


def title(pid: str) -> str:
    """A reader's name for a parameter id (``assumption/cost_inflation`` and so on)."""
    kind, _, rest = pid.partition("/")
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


def assumption(
    name: str,
    scale: float = 1.0,
    lower: float | None = None,
    upper: float | None = None,
    override: Interval | None = None,
    reaches_gap: bool = True,
    kind: str = "assumption",
) -> Parameter:
    """A logged assumption as a parameter (its low-high range read as an 80% interval, times
    ``scale``); ``override``: the plan's own interval for it (the same draws' deviates).
    ``kind`` starts its id (``assumption/<name>``; capacity's are ``capacity/<name>``)."""
    a = assumptions.get(name)
    pid = f"{kind}/{name}"
    unit = a.unit if scale == 1.0 else f"{a.unit} x {scale:g}"
    if override is not None:
        return Parameter(
            pid, title(pid), unit, override.central, override, lower, upper, "the plan", reaches_gap
        )
    if a.low is None:
        return Parameter(
            pid,
            title(pid),
            unit,
            float(a.value) * scale,
            None,
            source="assumptions.yaml",
            reaches_gap=reaches_gap,
        )
    iv = Interval.of(float(a.low) * scale, float(a.high) * scale)  # type: ignore[arg-type]
    return Parameter(pid, title(pid), unit, iv.central, iv, lower, upper, "assumptions.yaml", reaches_gap)
