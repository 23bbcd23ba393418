"""The care-model library: named, parameterised interventions with their evidence.

Each intervention targets people (an age range and frailty segments), changes the rate of some
settings for them (an 80% interval per setting), creates activity elsewhere for every unit it
avoids (substitution), costs money to set up and run, and cites its evidence. The shipped
library is ``data/interventions.yaml``; plans add their own with the same schema.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .axes import AGES, ALL_SETTINGS, MAX_AGE, SEGMENTS, SETTINGS
from .parameters import Interval
from .reference import DATA_DIR


class Target(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    min_age: int = Field(0, ge=0, le=MAX_AGE)
    max_age: int = Field(MAX_AGE, ge=0, le=MAX_AGE)
    segments: list[str] = Field(default_factory=lambda: list(SEGMENTS))

    @field_validator("segments")
    @classmethod
    def _known_segments(cls, v: list[str]) -> list[str]:
        bad = [s for s in v if s not in SEGMENTS]
        if bad or not v:
            raise ValueError(f"unknown segment(s) {bad}; allowed: {', '.join(SEGMENTS)}")
        return v

    @model_validator(mode="after")
    def _ordered(self) -> Target:
        if self.min_age > self.max_age:
            raise ValueError(
                f"min_age ({self.min_age}) is above max_age ({self.max_age}): nobody is targeted"
            )
        return self

    def mask(self) -> np.ndarray:
        """Boolean (age, segment) mask of the targeted cells."""
        ages = (AGES >= self.min_age) & (AGES <= self.max_age)
        segs = np.isin(np.array(SEGMENTS), self.segments)
        return ages[:, None] & segs[None, :]


class Costs(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    investment: Interval = Interval.of(0, 0)
    running_cost: Interval = Interval.of(0, 0)


class Evidence(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str
    effect_size: str
    strength: str
    conversion: str = ""


def _check_settings(v: dict, allowed: tuple[str, ...], what: str) -> dict:
    bad = [k for k in v if k not in allowed]
    if bad:
        raise ValueError(f"unknown {what} setting(s) {bad}; allowed: {', '.join(allowed)}")
    return v


class Intervention(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    description: str = ""
    delivered_by: Literal[
        "acute", "community", "primary_care", "mental_health", "social_care", "commissioner"
    ] = Field("community", description="the kind of organisation that runs the model and bears its costs")
    target: Target = Target()
    effects: dict[str, Interval] = Field(default_factory=dict)
    substitution: dict[str, dict[str, Interval]] = Field(default_factory=dict)
    costs: Costs = Costs()
    evidence: Evidence | None = None

    @field_validator("effects")
    @classmethod
    def _effect_settings(cls, v: dict) -> dict:
        _check_settings(v, SETTINGS, "effect")
        for k, iv in v.items():
            if iv.high > 0.95 or iv.low < -5:
                raise ValueError(f"effect on {k} must lie in [-5, 0.95] (a reduction of at most 95%)")
        return v

    @field_validator("substitution")
    @classmethod
    def _substitution_settings(cls, v: dict) -> dict:
        _check_settings(v, SETTINGS, "substitution source")
        for creates in v.values():
            _check_settings(creates, ALL_SETTINGS, "substitution target")
            for iv in creates.values():
                if iv.low < 0:
                    raise ValueError("substitution ratios must be >= 0 units created per unit avoided")
        return v


@lru_cache(maxsize=1)
def library() -> dict[str, Intervention]:
    raw = yaml.safe_load((DATA_DIR / "interventions.yaml").read_text())
    items = [Intervention.model_validate(entry) for entry in raw]
    return {i.name: i for i in items}
