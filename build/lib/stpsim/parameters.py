"""Uncertain parameters: 80% intervals and how draws are made from them.

An interval (low, high) is read as the 10th and 90th percentiles of a normal distribution
(assumption ``interval_distribution``). Draws are keyed by the parameter's name, so a parameter
gets the same values in every plan run with the same seed whatever else the plan contains: the
do-nothing counterfactual and the plan share their growth draws (common random numbers).
Draw 0 is the central estimate.
"""

from __future__ import annotations

import zlib
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from pydantic import BaseModel, ConfigDict, model_validator

from . import assumptions

Z90 = float(assumptions.value("interval_distribution"))
BLOCK = 128  # draws are generated in fixed blocks so any chunking of draws gives the same numbers

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


@lru_cache(maxsize=4096)
def _block(seed: int, stream: int, key: tuple[int, ...], block: int, width: int) -> np.ndarray:
    ss = np.random.SeedSequence(seed, spawn_key=(stream, *key, block))
    z = np.random.default_rng(ss).standard_normal((BLOCK, width))
    z.flags.writeable = False
    return z


def standard_normals(
    seed: int, stream: int, key: tuple[int, ...], draws: range, width: int = 1
) -> np.ndarray:
    """Standard normal deviates for ``draws`` (a range of draw indices), shape (len(draws), width).

    Generated block by block from ``SeedSequence(seed, spawn_key=(stream, *key, block))`` so the
    value for draw i never depends on which other draws are requested. Draw 0 is zero (central).
    """
    if len(draws) == 0 or (stream == NOISE_STREAM and _DESIGN.get() is not None):
        return np.zeros((len(draws), width))
    first, last = draws.start // BLOCK, (draws.stop - 1) // BLOCK
    # A handful of cached blocks, not a loop over draws; the cache spares repeated passes (the
    # incentive matrix re-runs the plan once per care model with the same draws).
    blocks = [_block(seed, stream, key, b, width) for b in range(first, last + 1)]
    z = np.concatenate(blocks)[draws.start - first * BLOCK : draws.stop - first * BLOCK]
    if draws.start == 0:
        z[0] = 0.0
    return z


@dataclass
class Design:
    """A set of chosen deviates instead of random ones: ``z[name]`` holds each draw's standard
    normal deviate for that parameter (zero for every parameter not named), activity noise is
    off, and every name asked for is recorded. Used for one-at-a-time sensitivity (the tornado):
    draw j pins one parameter at its 10th or 90th percentile and leaves the rest central."""

    z: dict[str, np.ndarray] = field(default_factory=dict)
    seen: list[str] = field(default_factory=list)


_DESIGN: ContextVar[Design | None] = ContextVar("stpsim_parameter_design", default=None)


@contextmanager
def designed(design: Design):
    """Within the block, parameters come from ``design`` instead of the random streams."""
    token = _DESIGN.set(design)
    try:
        yield design
    finally:
        _DESIGN.reset(token)


def draw(
    interval: Interval,
    seed: int,
    name: str,
    draws: range,
    lower: float | None = None,
    upper: float | None = None,
) -> np.ndarray:
    """Draws of one named parameter, shape (len(draws),), truncated to [lower, upper]."""
    design = _DESIGN.get()
    if design is None:
        z = standard_normals(seed, PARAM_STREAM, (name_key(name),), draws)[:, 0]
    else:
        if name not in design.seen and interval.low != interval.high:
            design.seen.append(name)
        z = design.z.get(name, np.zeros(draws.stop))[draws.start : draws.stop]
    x = interval.central + interval.sd * z
    if lower is not None or upper is not None:
        x = np.clip(x, lower, upper)
    return x
