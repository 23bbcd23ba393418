"""The assumptions log: every parameter that is not a published figure.

``data/assumptions.yaml`` is validated on load; the model reads values only through
:func:`value` and :func:`profile`, so an assumption cannot be used without being logged.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from .axes import AGES, MAX_AGE
from .cache import persistent
from .reference import DATA_DIR, SafeLoader

Number = float | list[float] | dict[str, list[float]]


class Assumption(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    value: Number
    low: Number | None = None
    high: Number | None = None
    unit: str
    why: str
    range: str | None = None
    bands: list[str] | None = None

    @model_validator(mode="after")
    def _has_range_and_consistent_shape(self) -> Assumption:
        if self.range is None and (self.low is None or self.high is None):
            if not isinstance(self.value, dict):
                raise ValueError(f"{self.id}: give low and high, or a range in words")
        if self.bands is not None and (
            not isinstance(self.value, list) or len(self.bands) != len(self.value)
        ):
            raise ValueError(f"{self.id}: bands and value must be lists of the same length")
        if isinstance(self.value, float) and self.low is not None and self.high is not None:
            if not (self.low <= self.value <= self.high):  # type: ignore[operator]
                raise ValueError(f"{self.id}: value {self.value} outside [{self.low}, {self.high}]")
        return self


@persistent
def load() -> dict[str, Assumption]:
    raw = yaml.load((DATA_DIR / "assumptions.yaml").read_text(), Loader=SafeLoader)
    items = [Assumption.model_validate(entry) for entry in raw]
    ids = [a.id for a in items]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise ValueError(f"duplicate assumption ids: {sorted(duplicates)}")
    return {a.id: a for a in items}


def get(assumption_id: str) -> Assumption:
    return load()[assumption_id]


def value(assumption_id: str) -> Any:
    return get(assumption_id).value


def _band_bounds(label: str) -> tuple[int, int]:
    if label.endswith("+"):
        return int(label[:-1]), MAX_AGE
    lo, hi = label.split("-")
    return int(lo), int(hi)


def profile(assumption_id: str, fill: float = 0.0) -> np.ndarray:
    """A banded relative-rate assumption spread over single years of age (ages outside every
    band get ``fill``)."""
    entry = get(assumption_id)
    if entry.bands is None:
        raise ValueError(f"{assumption_id} is not an age profile")
    out = np.full(AGES.shape, fill, dtype=float)
    for label, v in zip(entry.bands, entry.value, strict=True):  # type: ignore[arg-type]
        lo, hi = _band_bounds(label)
        out[(AGES >= lo) & (AGES <= hi)] = v
    return out
