"""The care-model library: named, parameterised interventions with their evidence.

Each intervention targets people (an age range and frailty segments), changes the rate of some
settings for them (an 80% interval per setting), creates activity elsewhere for every unit it
avoids (substitution), costs money to set up and run, and cites its evidence. Every effect in the
shipped library carries a numbered derivation from the study's population and outcome to the
model's target. Effects on stocks (care-home residents) build up as the stock turns over rather
than landing at once. The shipped library is ``data/interventions.yaml``; plans add their own
with the same schema.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .assumptions import load as logged_assumptions
from .axes import AGES, ALL_SETTINGS, MAX_AGE, SEGMENTS, SETTINGS
from .cache import persistent
from .parameters import Interval
from .reference import DATA_DIR, SafeLoader

# Settings counted as a stock of people (resident weeks): an effect on them works through fewer
# new entrants, so it can build up as the stock turns over (Intervention.build_up_years).
STOCK_SETTINGS: tuple[str, ...] = ("care_home_weeks",)
# Bed days fall with their admissions as well as with a length-of-stay effect (as in the engine).
BED_DAYS_OF: dict[str, str] = {
    "emergency_bed_days": "emergency_admissions",
    "elective_bed_days": "elective_admissions",
}
Strength = Literal["null", "weak", "moderate", "strong"]


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


class Derivation(BaseModel):
    """How a published effect became one setting's 80% interval, step by step."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    strength: Strength = Field(
        description="evidence for this setting; null and weak are centred on no effect"
    )
    steps: list[str] = Field(min_length=1, description='numbered: "1. ...", "2. ..."')
    assumptions: list[str] = Field(
        default_factory=list, description="ids in data/assumptions.yaml the steps lean on"
    )
    components: dict[str, Interval] = Field(
        default_factory=dict,
        description="parts whose centrals add up to the effect's (e.g. avoided vs readmissions)",
    )

    @field_validator("steps")
    @classmethod
    def _numbered(cls, v: list[str]) -> list[str]:
        for n, step in enumerate(v, start=1):
            if not step.startswith(f"{n}. "):
                raise ValueError(f"step {n} must start with '{n}. ': {step[:40]!r}")
        return v

    @field_validator("assumptions")
    @classmethod
    def _logged(cls, v: list[str]) -> list[str]:
        unknown = [a for a in v if a not in logged_assumptions()]
        if unknown:
            raise ValueError(f"assumption(s) {unknown} are not in data/assumptions.yaml")
        return v


class Evidence(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str
    effect_size: str
    strength: str
    conversion: str = Field("", description="how substitution and costs were set")
    derivation: dict[str, Derivation] = Field(
        default_factory=dict, description="per effect setting: how the interval was derived"
    )


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
    build_up_years: dict[str, float] = Field(
        default_factory=dict,
        description="per stock setting, the mean stay tau (years): the effect reaches "
        "1 - exp(-t/tau) of its full value t years after coverage starts",
    )
    substitution: dict[str, dict[str, Interval]] = Field(default_factory=dict)
    costs: Costs = Costs()
    evidence: Evidence | None = None
    new_treatment: bool = Field(
        False,
        description="a new treatment or therapy that cuts a category of admissions (the beds test's "
        "condition b counts these, not new ways of organising care)",
    )
    part_of_efficiency: bool = Field(
        False,
        description="its running saving is one of the ways trusts deliver their cost improvement "
        "(shared back offices, estates): under a plan's provider efficiency it counts within that "
        "efficiency, not on top of it",
    )

    @field_validator("effects")
    @classmethod
    def _effect_settings(cls, v: dict) -> dict:
        _check_settings(v, SETTINGS, "effect")
        for k, iv in v.items():
            if iv.high > 0.95 or iv.low < -5:
                raise ValueError(f"effect on {k} must lie in [-5, 0.95] (a reduction of at most 95%)")
        return v

    @field_validator("build_up_years")
    @classmethod
    def _build_up_settings(cls, v: dict) -> dict:
        _check_settings(v, STOCK_SETTINGS, "build-up")
        if any(not 0 < tau <= 50 for tau in v.values()):
            raise ValueError("build_up_years must lie in (0, 50] years (a mean length of stay)")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> Intervention:
        if set(self.build_up_years) - set(self.effects):
            raise ValueError(
                f"build_up_years names settings without an effect: {sorted(self.build_up_years)}"
            )
        derivation = self.evidence.derivation if self.evidence else {}
        if derivation and set(derivation) != set(self.effects):
            raise ValueError(
                f"evidence.derivation must cover exactly the effects {sorted(self.effects)}, "
                f"not {sorted(derivation)}"
            )
        for k, d in derivation.items():
            parts = sum(c.central for c in d.components.values())
            if d.components and abs(parts - self.effects[k].central) > 1e-9:
                raise ValueError(f"evidence.derivation.{k}: component centrals must add to the effect's")
        return self

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

    def uptake(self, ramp: dict[int, float], years: list[int]) -> np.ndarray:
        """Share of each setting's full effect reached by (year, setting) for ``years``, from the
        ramp by year (every year from its first): the ramp itself, built up for stock settings."""
        history = sorted(ramp)
        levels = np.array([ramp[y] for y in history], dtype=float)
        out = np.repeat(levels[:, None], len(SETTINGS), axis=1)
        for k, tau in self.build_up_years.items():  # at most a few stock settings
            out[:, SETTINGS.index(k)] = built_up(levels, tau)
        return out[[history.index(y) for y in years]]


def build_up_factor(t: np.ndarray | float, tau: float) -> np.ndarray:
    """Share of a stock effect reached ``t`` years after it starts: 1 - exp(-t / tau).

    A one-compartment stock S' = inflow - S / tau whose inflow falls by a share e at t = 0 is
    S0 (1 - e (1 - exp(-t / tau))): the effect on the stock reaches e as the residents who
    entered before turn over, with tau their mean length of stay. Zero before the start."""
    return 1.0 - np.exp(-np.maximum(np.asarray(t, dtype=float), 0.0) / tau)


def built_up(levels: np.ndarray, tau: float) -> np.ndarray:
    """Built-up share of full coverage by consecutive financial year from coverage ``levels``.

    Each rise (or fall) in coverage starts its own build-up from the start of its year; a year is
    represented by its middle, as the population is by mid-year estimates. The result is a
    weighted mean of past levels (weights >= 0 summing to at most 1), so it never exceeds the
    highest level reached, and it never falls while coverage does not."""
    n = len(levels)
    steps = np.diff(np.asarray(levels, dtype=float), prepend=0.0)
    lag = np.arange(n)[:, None] - np.arange(n)[None, :] + 0.5  # years from each step to mid-year
    # Clipped only against rounding when coverage returns to zero.
    return (build_up_factor(lag, tau) @ steps).clip(min=0.0)


def net_centrals(spec: Intervention) -> dict[str, float]:
    """Central effect on each setting's targeted rate as the engine applies it: bed days fall
    with avoided admissions too, so their net effect is 1 - (1 - admissions)(1 - stay)."""
    c = {k: iv.central for k, iv in spec.effects.items()}
    for bed, adm in BED_DAYS_OF.items():
        if bed in c or adm in c:
            c[bed] = 1.0 - (1.0 - c.get(adm, 0.0)) * (1.0 - c.get(bed, 0.0))
    return c


def _change(x: float) -> str:
    """An effect in words: effects are reductions, so +4.8% is "4.8% fewer" (a plus sign read as
    more), and a negative one is more."""
    if round(x, 3) == 0:
        return "no change"
    return f"{abs(x):.1%} {'fewer' if x > 0 else 'more'}"


def _described(iv: Interval) -> str:
    return f"{_change(iv.central)} ({_change(iv.low)} to {_change(iv.high)})" + (
        " ADVERSE" if iv.central < 0 else ""
    )


def effect_lines(spec: Intervention) -> list[str]:
    """One line per effect for tables: central (80% interval), evidence strength, ADVERSE where
    the central estimate is an increase, components, the net bed-day effect and any build-up."""
    derivation = spec.evidence.derivation if spec.evidence else {}
    net = net_centrals(spec)
    lines = []
    for k, iv in spec.effects.items():
        line = f"{k}: {_described(iv)}" + (f" [{derivation[k].strength}]" if k in derivation else "")
        if k in BED_DAYS_OF:
            line += f", per remaining admission (net {_change(net[k])})"
        if k in spec.build_up_years:
            line += f", builds up over {spec.build_up_years[k]:g} y"
        lines.append(line)
        d = derivation.get(k)
        lines += [f"  of which {n}: {_described(c)}" for n, c in (d.components if d else {}).items()]
    return lines


def _interval(iv: Interval) -> dict[str, float]:
    return {"low": iv.low, "high": iv.high, "central": iv.central}


def library_document() -> dict:
    """The library as the CLI and API publish it: each model with its effects as low, high and
    central (fractional reductions; negative = increase), target, substitution, costs and evidence
    with each effect's derivation."""
    models = []
    for spec in library().values():
        doc = spec.model_dump(mode="json")
        doc["effects"] = {k: _interval(iv) for k, iv in spec.effects.items()}
        for k, d in (spec.evidence.derivation if spec.evidence else {}).items():
            doc["evidence"]["derivation"][k]["components"] = {
                n: _interval(iv) for n, iv in d.components.items()
            }
        models.append(doc)
    return {"interventions": models}


@persistent
def library() -> dict[str, Intervention]:
    raw = yaml.load((DATA_DIR / "interventions.yaml").read_text(), Loader=SafeLoader)
    items = [Intervention.model_validate(entry) for entry in raw]
    return {i.name: i for i in items}
