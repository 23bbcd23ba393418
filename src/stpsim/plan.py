"""The plan document: what a footprint adopts and how far, as a validated pydantic model.

Plans are YAML or JSON files. Validation happens at the edge, before any work, and reports every
problem at once with its field path and the allowed values (:class:`PlanError`).
"""

from __future__ import annotations

import difflib
import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    StrictInt,
    Tag,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from . import geography as geo
from .axes import BASE_YEAR, LAST_YEAR, SETTINGS, STAFF_GROUPS, parse_year, year_label
from .contract_terms import PRESETS, ContractTerms, FinanceOptions
from .geography import Footprint, UnknownFootprint
from .interventions import Intervention, library
from .parameters import Interval
from .reference import SafeLoader, derived
from .service_change import ServiceChanges

# Non-demographic growth is set per setting; bed days grow with their admissions times a
# length-of-stay trend, so the two bed-day settings are replaced by these keys.
GROWTH_KEYS: tuple[str, ...] = tuple(k for k in SETTINGS if not k.endswith("_bed_days")) + (
    "emergency_length_of_stay",
    "elective_length_of_stay",
)


class CustomFootprint(BaseModel):
    """A footprint drawn from members: any mix of CCGs (2016 or 2017), sub-ICB locations (2022)
    and local authorities (2017 districts and counties, or 2022 districts), by code or name."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=120)
    ccgs: list[str] | None = None
    sub_icb_locations: list[str] | None = None
    local_authorities: list[str] | None = None
    within: str | CustomFootprint | None = Field(
        None, description="keep only the part inside this footprint (a preset code, or a drawn footprint)"
    )

    @model_validator(mode="after")
    def _members(self) -> CustomFootprint:
        try:
            self.footprint()
        except UnknownFootprint as e:
            raise ValueError(str(e)) from None
        return self

    def footprint(self, geography: str = geo.DEFAULT_GEOGRAPHY) -> Footprint:
        within = self.within
        if isinstance(within, str):
            within = geo.find(within, geography)
        elif within is not None:
            within = within.footprint(geography)
        return geo.custom(self.name, within=within, **self.member_lists())

    def member_lists(self) -> dict[str, list[str]]:
        return {k: v for k in geo.MEMBER_KINDS if (v := getattr(self, k))}


def _footprint_ref(v: Any, info: ValidationInfo) -> Any:
    if isinstance(v, str):
        try:
            return geo.find(v, info.data.get("geography", geo.DEFAULT_GEOGRAPHY)).code
        except UnknownFootprint as e:
            raise ValueError(str(e)) from None
    return v


@derived(512)
def _resolve(geography: str, ref: str) -> Footprint:
    doc = json.loads(ref)
    if isinstance(doc, str):
        return geo.find(doc, geography)
    return CustomFootprint.model_validate(doc).footprint(geography)


def _stamp(data: dict) -> tuple:
    """Size and modification time of each local file: a changed file is read again."""
    out = []
    for v in data.values():
        if isinstance(v, str):
            try:
                st = Path(v).stat()
                out.append((v, st.st_size, st.st_mtime_ns))
            except OSError:
                out.append((v, None, None))
    return tuple(out)


@derived(64)
def _with_local(fp: Footprint, data: str, stamp: tuple) -> Footprint:
    import dataclasses

    from .local_data import load as load_local

    return dataclasses.replace(fp, local=load_local(json.loads(data), fp))


def _year(text: str | int) -> int:
    return parse_year(str(text))


def _ref_kind(v: Any) -> str:
    return "code" if isinstance(v, str) else "drawn"


# A discriminated union: a mapping is checked only as a drawn footprint, text only as a code, so
# one mistake gives one line.
FootprintRef = Annotated[
    Annotated[str, Tag("code")] | Annotated[CustomFootprint, Tag("drawn")],
    Discriminator(_ref_kind),
    AfterValidator(_footprint_ref),
]
Year = Annotated[str | int, AfterValidator(_year)]


class Calibration(BaseModel):
    """The run's draws reweighted by England's track record (``stpsim backtest``): draw d of the
    run uses the parameters of prior draw ``prior_draws[d]`` (systematic resampling of the
    importance weights), so every summary of the run is the calibrated one."""

    model_config = ConfigDict(extra="forbid")

    years: list[str] = Field(min_length=1, description="the years whose outturns the draws were fitted to")
    effective_draws: float = Field(gt=0, description="the weights' effective sample size (Kish)")
    prior_draws: list[StrictInt] = Field(description="for each draw of the run, the prior draw it uses")


class MonteCarlo(BaseModel):
    model_config = ConfigDict(extra="forbid")

    draws: StrictInt = Field(
        1000, ge=1, le=100_000, description="Monte Carlo draws; draw 0 is the central estimate"
    )
    seed: StrictInt = Field(0, ge=0, le=2**63 - 1, description="seed for numpy.random.SeedSequence")
    calibration: Calibration | None = Field(
        None, description="set by 'stpsim run --calibrated': the draws reweighted by the track record"
    )

    @field_validator("draws", "seed", mode="before")
    @classmethod
    def _not_bool(cls, v: Any) -> Any:
        if isinstance(v, bool):
            raise ValueError(f"must be a whole number, got {v!r}")
        return v

    @model_validator(mode="after")
    def _calibration_fits(self) -> MonteCarlo:
        c = self.calibration
        if c is not None:
            if len(c.prior_draws) != self.draws:
                raise ValueError(
                    f"calibration.prior_draws has {len(c.prior_draws)} entries for {self.draws} draws; "
                    "it must have one per draw (run 'stpsim run --calibrated' again at these draws)"
                )
            bad = [d for d in c.prior_draws if not 0 <= d < self.draws]
            if bad:
                raise ValueError(
                    f"calibration.prior_draws {bad[0]} is out of range; allowed: 0 to {self.draws - 1}"
                )
        return self


def _check_name(name: str, custom) -> None:
    allowed = sorted(set(library()) | set(custom))
    if name not in allowed:
        near = difflib.get_close_matches(name, allowed, n=1)
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        raise ValueError(f"unknown intervention {name!r}{hint}; allowed: {', '.join(allowed)}")


class Adoption(BaseModel):
    """One care model the plan adopts."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="a library intervention or one of the plan's custom_interventions")
    coverage: float = Field(1.0, ge=0.0, le=1.0, description="share of targeted people reached at full ramp")
    ramp: dict[Year, Annotated[float, Field(ge=0.0, le=1.0)]] | None = Field(
        None,
        description="year -> share of full coverage reached; default: a third a year from the start year",
    )
    effects: dict[str, Interval] | None = Field(None, description="override the library's effect intervals")

    @field_validator("name")
    @classmethod
    def _known(cls, v: str, info: ValidationInfo) -> str:
        # With validate()'s context the check runs here, so the error carries its field path;
        # without it (Plan built directly in Python) Plan._consistent checks names instead.
        if info.context is not None:
            _check_name(v, info.context.get("custom", ()))
        return v

    @field_validator("effects")
    @classmethod
    def _effects(cls, v: dict[str, Interval] | None) -> dict[str, Interval] | None:
        if v is not None:
            Intervention.model_validate({"name": "override", "title": "override", "effects": v})
        return v


EVIDENCE_ORDER = ("weak", "moderate", "strong")  # an evidence grade and every grade above it


class ContractChoice(BaseModel):
    """A contract option for the optimiser: a preset, or the plan's own contracts (no preset),
    with terms of its own."""

    model_config = ConfigDict(extra="forbid")

    preset: Literal[PRESETS] | None = Field(  # type: ignore[valid-type]
        None, description="a contract preset (default: the plan's own contracts, a preset or a list)"
    )
    declining_rate: float | None = Field(
        None, ge=0.0, le=0.5, description="declining: yearly fall in acute value"
    )
    declining_recipient: str | None = Field(None, description="declining: who receives the released money")
    capitation_lead: str | None = Field(None, description="capitation: who holds the budget")
    terms: ContractTerms = Field(
        default_factory=dict,
        description="contract terms set on every contract whose mechanism has them (finance.contract_terms: "
        "a risk share's savings_rate and loss_rate, msr and mlr, caps; a corridor's share; a band ...)",
    )

    def changes(self) -> dict:
        """The plan's finance fields this choice sets."""
        own = self.model_dump(exclude={"preset", "terms"}, exclude_none=True)
        return (
            ({} if self.preset is None else {"contracts": self.preset})
            | own
            | ({"contract_terms": dict(self.terms)} if self.terms else {})
        )

    def label(self, own: str = "the plan's own contracts") -> str:
        """The option in words; ``own``: what the plan's own contracts are called."""
        terms = self.model_dump(exclude={"preset", "terms"}, exclude_none=True) | self.terms
        name = own if self.preset is None else self.preset
        if not terms:
            return name
        return (
            f"{name} ("
            + ", ".join(
                f"{k.replace('_', ' ')} {v:g}" if isinstance(v, float) else f"{k.replace('_', ' ')} {v}"
                for k, v in terms.items()
            )
            + ")"
        )


class Optimise(BaseModel):
    """What `stpsim optimise` may choose, what it minimises and what it must respect."""

    model_config = ConfigDict(extra="forbid")

    care_models: list[str] | None = Field(
        None, description="care models it may adopt (default: every care model in the library)"
    )
    coverage: list[Annotated[float, Field(gt=0.0, le=1.0)]] = Field(
        [0.25, 0.5, 0.75, 1.0],
        min_length=1,
        description="coverage levels a care model may be adopted at (or not at all), with its default ramp",
    )
    efficiency: list[Interval] | None = Field(
        None,
        description="provider efficiency options, % a year as 80% intervals, one of which is chosen "
        "(default: the plan's own)",
    )
    contracts: list[Literal[PRESETS] | ContractChoice] | None = Field(  # type: ignore[valid-type]
        None,
        description="contract presets, or presets or the plan's own contracts with their terms "
        "(declining_rate, declining_recipient, capitation_lead, and any mechanism's terms), to choose "
        "among (default: the plan's own contracts)",
    )
    objective: Literal["mean", "cvar"] = Field(
        "mean",
        description="minimise the mean gap in the last year, or (cvar) the mean of its worst "
        "(1 - objective_level) share of draws",
    )
    objective_level: float = Field(
        0.9, gt=0.5, lt=1.0, description="with objective cvar: 0.9 minimises the mean of the worst 10%"
    )
    deficit_limit: float | None = Field(
        None,
        ge=0.0,
        description="GBP m: no organisation's mean deficit in its worst 5% of draws (CVaR 95%) in the last "
        "year above this (default: no limit)",
    )
    deficit_limits: dict[str, Annotated[float, Field(ge=0.0)]] = Field(
        default_factory=dict, description="GBP m by organisation id: its own limit, in place of deficit_limit"
    )
    cvar_level: float = Field(0.95, gt=0.5, lt=1.0, description="the CVaR's level: 0.95 is the worst 5%")
    investment_budget: float | None = Field(
        None, ge=0.0, description="GBP m: the care models' investment over the plan's years at most this"
    )
    min_evidence: Literal["weak", "moderate", "strong"] | None = Field(
        None, description="only care models whose evidence is at least this grade"
    )
    workforce_limits: dict[
        Literal[STAFF_GROUPS],  # type: ignore[valid-type]
        Annotated[float, Field(ge=0.0)],
    ] = Field(
        default_factory=dict,
        description="whole-time equivalents the care models may add in the last year (mean), by staff group",
    )
    full_years: list[Year] | None = Field(
        None,
        description="years a care model may reach full coverage by, rising evenly from 2016/17 "
        "(default: the default roll-out, full from 2019/20)",
    )

    @field_validator("care_models")
    @classmethod
    def _known_models(cls, v: list[str] | None, info: ValidationInfo) -> list[str] | None:
        # With validate()'s context the check runs here, so the error carries its field path.
        if v is not None and info.context is not None:
            for name in v:
                _check_name(name, info.context.get("custom", ()))
        return v

    @field_validator("coverage")
    @classmethod
    def _distinct_levels(cls, v: list[float]) -> list[float]:
        if len(set(v)) != len(v):
            raise ValueError("coverage levels are listed more than once")
        return sorted(v)


class Plan(BaseModel):
    """A footprint's plan: footprints, horizon, uncertainty, growth and care models."""

    model_config = ConfigDict(extra="forbid", validate_default=True)
    # (key of geography, footprints and data; their resolved footprints), set by resolve_places
    _resolved: tuple[str, tuple[Footprint, ...]] | None = PrivateAttr(default=None)

    name: str = Field(min_length=1)
    description: str = Field(
        "", max_length=5000, description="what the plan does, in words (at most 5,000 characters)"
    )
    geography: Literal["stp2017", "icb2022"] = Field(
        "stp2017", description="the preset footprints' geography: 44 STPs (2017) or 42 ICBs (2022)"
    )
    footprints: list[FootprintRef] = Field(
        min_length=1,
        description="preset footprint codes or names (stpsim footprints), or {name, ccgs | "
        "sub_icb_locations | local_authorities: [codes or names]}",
    )
    start_year: Year = Field(year_label(BASE_YEAR), description="first year reported (2016/17..2035/36)")
    end_year: Year = Field("2020/21", description="last year reported (2016/17..2035/36)")
    monte_carlo: MonteCarlo = MonteCarlo()
    demography: Literal["principal"] = Field("principal", description="ONS 2016-based projection variant")
    growth: dict[str, Interval] = Field(
        default_factory=dict,
        description="non-demographic growth, % a year, 80% intervals (defaults: assumptions)",
    )
    custom_interventions: list[Intervention] = Field(default_factory=list)
    interventions: list[Adoption] = Field(default_factory=list)
    finance: FinanceOptions = Field(
        default_factory=FinanceOptions, description="organisations, who delivers what and how they are paid"
    )
    service_changes: ServiceChanges | None = Field(
        None, description="beds by trust and year, services that move or close, community capacity added"
    )
    optimise: Optimise | None = Field(
        None, description="what 'stpsim optimise' may choose and the limits it must respect"
    )
    data: dict[str, str | dict[str, Any]] | None = Field(
        None,
        description="local tables in place of the national defaults, for a plan's one footprint: "
        "population, activity, unit_costs, organisations, allocations; each a file (CSV, Parquet, "
        "Excel; CLI only, relative to the plan) or {rows: [...]} (see stpsim data template)",
    )

    @field_validator("growth")
    @classmethod
    def _growth_keys(cls, v: dict[str, Interval]) -> dict[str, Interval]:
        bad = [k for k in v if k not in GROWTH_KEYS]
        if bad:
            raise ValueError(f"unknown growth key(s) {bad}; allowed: {', '.join(GROWTH_KEYS)}")
        for k, iv in v.items():
            if iv.low < -50 or iv.high > 50:
                raise ValueError(f"growth for {k} is in % a year and must lie in [-50, 50]")
        return v

    @field_validator("footprints")
    @classmethod
    def _distinct(cls, v: list) -> list:
        keys = [x if isinstance(x, str) else x.name for x in v]
        if len(set(keys)) != len(keys):
            raise ValueError("footprints are listed more than once")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> Plan:
        problems = _cross_problems(self.model_dump(mode="json"))
        for n, a in enumerate(self.interventions):
            try:
                _check_name(a.name, [c.name for c in self.custom_interventions])
            except ValueError as e:
                problems.append(f"interventions.{n}.name: {e}")
        for n, name in enumerate((self.optimise.care_models or []) if self.optimise else []):
            try:
                _check_name(name, [c.name for c in self.custom_interventions])
            except ValueError as e:
                problems.append(f"optimise.care_models.{n}: {e}")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def resolve_places(self) -> tuple[Footprint, ...]:
        """Resolve the footprints to their small areas and read the plan's own tables (``data``),
        once: the I/O boundary. ``validate`` and ``load`` call it, so ``places`` reads no file."""
        refs = [x if isinstance(x, str) else x.model_dump(exclude_none=True) for x in self.footprints]
        fps = tuple(_resolve(self.geography, json.dumps(r, sort_keys=True)) for r in refs)
        if self.data:
            fps = (
                _with_local(fps[0], json.dumps(self.data, sort_keys=True, default=str), _stamp(self.data)),
            )
        self._resolved = (self._places_key(), fps)
        return fps

    def _places_key(self) -> str:
        return json.dumps(
            [
                self.geography,
                [x if isinstance(x, str) else x.model_dump() for x in self.footprints],
                self.data,
            ],
            sort_keys=True,
            default=str,
        )

    @property
    def places(self) -> tuple[Footprint, ...]:
        """The plan's footprints, resolved to their small areas: as ``resolve_places`` found them
        (no file is read here), or resolved now for a plan copied with other footprints or data."""
        if self._resolved is not None and self._resolved[0] == self._places_key():
            return self._resolved[1]
        return self.resolve_places()

    @property
    def codes(self) -> list[str]:
        """The footprints' codes (a drawn footprint's is 'custom:' and its name)."""
        return [f.code for f in self.places]

    @property
    def first_year(self) -> int:
        return int(self.start_year)

    @property
    def last_year(self) -> int:
        return int(self.end_year)


def _try_year(v: Any) -> int | None:
    try:
        return parse_year(str(v))
    except ValueError:
        return None


# Control characters other than tab and line breaks: a workbook cannot hold them (openpyxl
# fails half way through writing it) and in a report they are invisible or garble the page.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _control_problems(doc: Any) -> list[str]:
    """Every text in the document (at any depth) holding a control character, by field path."""
    out: list[str] = []
    queue: list[tuple[tuple, Any]] = [((), doc)]
    for path, value in queue:  # breadth first and not recursive: a plan may be nested deeply
        if isinstance(value, dict):
            queue += [((*path, k), v) for k, v in value.items()]
        elif isinstance(value, list):
            queue += [((*path, i), v) for i, v in enumerate(value)]
        elif isinstance(value, str) and (m := _CONTROL.search(value)):
            shown = repr(value) if len(value) <= 60 else repr(value[:57]) + "..."
            out.append(
                f"{'.'.join(map(str, path)) or '(plan)'}: {shown} has the control character "
                f"U+{ord(m[0]):04X} at character {m.start() + 1}; remove it (reports cannot hold it)"
            )
    return out


def _optimise_problems(spec: Any, end: int | None) -> list[str]:
    """The optimise section's roll-out years inside the plan's years."""
    if not isinstance(spec, dict) or not isinstance(spec.get("full_years"), list):
        return []
    out = []
    for n, y in enumerate(spec["full_years"]):
        year = _try_year(y)
        if year is not None and end is not None and not BASE_YEAR <= year <= end:
            out.append(
                f"optimise.full_years.{n}: {year_label(year)} is outside the plan's years; choose from "
                f"{year_label(BASE_YEAR)} to {year_label(end)}"
            )
    return out


def _cross_problems(doc: dict[str, Any]) -> list[str]:
    """Checks across fields, on the raw document, so they are reported together with any field
    errors ("path: message" each)."""
    out: list[str] = _control_problems(doc)
    start = _try_year(doc.get("start_year", year_label(BASE_YEAR)))
    end = _try_year(doc.get("end_year", "2020/21"))
    if start is not None and end is not None and start > end:
        out.append(f"end_year: {year_label(end)} is before start_year {year_label(start)}")
    out += _optimise_problems(doc.get("optimise"), end)
    customs = doc.get("custom_interventions") or []
    names_c = [c.get("name") for c in customs if isinstance(c, dict)] if isinstance(customs, list) else []
    for i, n in enumerate(names_c):
        if not isinstance(n, str):
            continue
        if n in library():
            out.append(f"custom_interventions.{i}.name: {n!r} is a library intervention; choose another name")
        elif names_c.index(n) != i:
            out.append(f"custom_interventions.{i}.name: {n!r} is defined more than once")
    adopted = doc.get("interventions") or []
    if not isinstance(adopted, list):
        return out
    seen: dict[str, int] = {}
    for i, a in enumerate(adopted):
        if not isinstance(a, dict):
            continue
        n = a.get("name")
        if isinstance(n, str):
            if n in seen:
                out.append(
                    f"interventions.{i}.name: {n!r} is already adopted "
                    f"(interventions.{seen[n]}); adopt it once"
                )
            seen.setdefault(n, i)
        ramp = a.get("ramp")
        if isinstance(ramp, dict):
            years = [y for y in (_try_year(k) for k in ramp) if y is not None]
            if not ramp:
                out.append(
                    f"interventions.{i}.ramp: give at least one year, e.g. {{2017/18: 0.5, 2018/19: 1.0}}"
                )
            elif len(set(years)) != len(years):
                out.append(f"interventions.{i}.ramp: a year is given twice")
            elif end is not None and years and min(years) > end:
                out.append(
                    f"interventions.{i}.ramp: every year is after end_year {year_label(end)}, so the care "
                    "model never starts"
                )
    return out


class PlanError(ValueError):
    """A plan that cannot be run; ``lines`` holds one message per problem."""

    def __init__(self, source: str, lines: list[str]):
        self.source = source
        self.lines = lines
        super().__init__("\n".join(f"{source}: {line}" for line in lines))


_TYPE_TAGS = {"str", "int", "float", "bool"}


def _is_tag(part: Any) -> bool:
    """Pydantic names the branch of a union in the error location; users never wrote it."""
    return isinstance(part, str) and ("[" in part or part in _TYPE_TAGS)


def _mechanism_tag(loc: tuple) -> str | None:
    """The payment mechanism pydantic names after ``contracts.N`` in a contract's error."""
    from .payment import REGISTRY

    for i in range(2, len(loc)):
        if loc[i - 2] == "contracts" and isinstance(loc[i - 1], int) and loc[i] in REGISTRY:
            return loc[i]
    return None


def _untag_mechanism(err: dict[str, Any]) -> dict[str, Any]:
    """Drop the mechanism from the location (the user wrote ``contracts.0.band``) and, for an
    unknown field, say which fields that mechanism takes."""
    from .payment import REGISTRY

    loc = [p for p in err["loc"] if not _is_tag(p)]
    if err["type"] in ("union_tag_invalid", "union_tag_not_found") and "contracts" in loc:
        got = (err.get("ctx") or {}).get("tag", "nothing")
        return err | {
            "loc": (*loc, "mechanism"),
            "type": "mechanism_unknown",
            "msg": f"{got!r} is not a payment mechanism; allowed: {', '.join(REGISTRY)}",
        }
    tag = _mechanism_tag(tuple(loc))
    if tag is None:
        return err
    loc.remove(tag)
    out = err | {"loc": tuple(loc)}
    if err["type"] == "extra_forbidden":
        out["msg"] = f"unknown field for a {tag} contract; allowed: {', '.join(REGISTRY[tag].model_fields)}"
        out["type"] = "mechanism_field"
    return out


def _relevant(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop union-branch errors the user cannot have meant (a preset name checked against a list
    they wrote, say) and merge branches that say the same thing about one field."""
    out, seen = [], set()
    errors = [_untag_mechanism(e) for e in errors]
    for err in errors:
        inp = err.get("input")
        if err["type"] == "literal_error" and isinstance(inp, list | dict):
            continue
        if (
            err["type"] in ("list_type", "dict_type", "model_type")
            and isinstance(inp, str)
            and _is_tag(err["loc"][-1])  # the branch itself was the wrong type, not a field inside it
        ):
            continue
        loc = tuple(p for p in err["loc"] if not _is_tag(p))
        if any(_is_tag(p) for p in err["loc"]) and err["type"].endswith("_type"):
            if loc in seen:
                continue
        seen.add(loc)
        out.append(err | {"loc": loc})
    # Never filter every error away: better a branch-tagged message than none.
    return out or [err | {"loc": tuple(p for p in err["loc"] if not _is_tag(p))} for err in errors]


def _format(err: dict[str, Any]) -> str:
    path = ".".join(str(p) for p in err["loc"]) or "(plan)"
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        msg = "unknown field"
    elif err["type"] in (
        "literal_error",
        "greater_than_equal",
        "less_than_equal",
        "greater_than",
        "less_than",
        "int_parsing",
        "float_parsing",
        "int_from_float",
    ):
        msg = f"{msg}; got {err.get('input')!r}"
    return f"{path}: {msg}"


def _field_help(err: dict[str, Any]) -> str:
    if err["type"] != "extra_forbidden":
        return ""
    parent = err["loc"][:-1]
    model: Any = Plan
    for part in parent:
        field = getattr(model, "model_fields", {}).get(part) if isinstance(part, str) else None
        if field is None:
            if isinstance(part, int):
                continue
            return ""
        ann = field.annotation
        args = getattr(ann, "__args__", ())
        model = next((a for a in (ann, *args) if isinstance(a, type) and issubclass(a, BaseModel)), None)
        if model is None:
            return ""
    return f"; allowed: {', '.join(model.model_fields)}" if model else ""


NESTED = (
    "the plan is nested too deeply (lists or mappings inside each other thousands of levels "
    "deep); a plan needs a few levels: see examples/"
)


def validate(doc: Any, source: str = "<plan>", base_dir: Path | None = None) -> Plan:
    """Validate a parsed plan document, raising PlanError with every problem. Local tables may be
    files only when ``base_dir`` (the plan file's folder) is given: the service reads none."""
    try:
        return _validate(doc, source, base_dir)
    except RecursionError:  # reporting a deeply nested value can exhaust the stack
        raise PlanError(source, [NESTED]) from None


def _local_paths(doc: dict, base_dir: Path | None) -> list[str]:
    """Make the data section's file names absolute (relative to the plan); problems when files
    are not allowed."""
    data = doc.get("data")
    if not isinstance(data, dict):
        return []
    problems = []
    for table, v in list(data.items()):
        if isinstance(v, str):
            if base_dir is None:
                problems.append(
                    f"data.{table}: the service reads no files; give the table inline as {{rows: [...]}}"
                )
            else:
                data[table] = str((base_dir / v).resolve())
    return problems


def _validate(doc: Any, source: str, base_dir: Path | None = None) -> Plan:
    if not isinstance(doc, dict):
        raise PlanError(source, ["the plan must be a mapping of fields (name, footprints, ...)"])
    if isinstance(doc.get("data"), dict):
        doc = {**doc, "data": dict(doc["data"])}  # paths are rewritten; the caller's copy is not
    paths = _local_paths(doc, base_dir)
    if paths:
        raise PlanError(source, paths)
    customs = doc.get("custom_interventions")
    custom = (
        [c["name"] for c in customs if isinstance(c, dict) and isinstance(c.get("name"), str)]
        if isinstance(customs, list)
        else []
    )
    cross = _cross_problems(doc)
    try:
        plan = Plan.model_validate(doc, context={"custom": custom})
    except ValidationError as e:
        lines = [_format(err) + _field_help(err) for err in _relevant(e.errors())]
        lines = [ln for ln in lines if not ln.startswith("(plan):")]  # the cross checks say these better
        raise PlanError(source, lines + cross) from None
    if cross:
        raise PlanError(source, cross)
    from .finance import check_options
    from .local_data import LocalDataError

    if plan.data and len(plan.footprints) != 1:
        raise PlanError(
            source, [f"data: local tables are for one footprint; this plan has {len(plan.footprints)}"]
        )
    try:
        places = plan.resolve_places()  # reads and checks local tables, before any work
    except LocalDataError as e:
        raise PlanError(source, e.lines) from None
    from .service_change import check as check_service_changes

    problems = _overlaps(places) + check_options(plan.finance, list(places)) + check_service_changes(plan)
    if problems:
        raise PlanError(source, problems)
    return plan


def _overlaps(places) -> list[str]:
    """A plan's footprints must not share small areas: their people would be counted twice (a
    preset and a drawn footprint that takes in part of it, say)."""
    import numpy as np

    out = []
    for i, a in enumerate(places):
        for b in places[i + 1 :]:
            shared = np.intersect1d(a.lsoas, b.lsoas)
            if shared.size:
                from .geography import small_areas

                people = small_areas().bands_2018.sum(axis=1)
                out.append(
                    f"footprints: {a.name} and {b.name} share {shared.size:,} small areas "
                    f"({people[shared].sum():,.0f} people); a plan's footprints must not overlap, "
                    "or their people are counted twice"
                )
    return out


class _DuplicateKey(ValueError):
    pass


class _StrictLoader(SafeLoader):  # libyaml's parser when available
    """Safe YAML that refuses a key given twice in one mapping (YAML would keep the last)."""

    def construct_mapping(self, node, deep=False):
        keys = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in keys:
                line = key_node.start_mark.line + 1
                raise _DuplicateKey(f"line {line}: the key {key!r} is given twice; give each key once")
            keys.add(key)
        return super().construct_mapping(node, deep=deep)


def _no_duplicate_pairs(pairs):
    keys = [k for k, _ in pairs]
    dup = sorted({k for k in keys if keys.count(k) > 1})
    if dup:
        raise _DuplicateKey(f"the key(s) {dup} are given twice; give each key once")
    return dict(pairs)


MAX_PLAN_BYTES = 1 * 2**20  # a plan is a few kilobytes; inline tables a few hundred


def _read_plan_text(p: Path) -> str:
    """The file's text: a regular file of at most ``MAX_PLAN_BYTES`` in UTF-8 (never a device,
    a pipe or a file so large it would take the machine's memory)."""
    try:
        if p.exists() and not p.is_file():
            raise PlanError(
                str(p), ["cannot read the file: it is not a regular file but a device, a pipe or a folder"]
            )
        with p.open("rb") as f:
            data = f.read(MAX_PLAN_BYTES + 1)
    except OSError as e:
        raise PlanError(str(p), [f"cannot read the file ({e.strerror})"]) from None
    if len(data) > MAX_PLAN_BYTES:
        raise PlanError(
            str(p), [f"the file is larger than {MAX_PLAN_BYTES // 1024} KiB; a plan is far smaller"]
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise PlanError(str(p), ["not a text file (expected UTF-8 YAML or JSON)"]) from None


def _no_aliases(text: str) -> None:
    """Refuse YAML anchors and aliases: a plan never needs them, and nested aliases ("billion
    laughs") expand a small file into more objects than any machine holds."""
    for event in yaml.parse(text, Loader=SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            line = event.start_mark.line + 1 if event.start_mark else "?"
            raise _DuplicateKey(
                f"line {line}: YAML aliases (*{event.anchor}) are not allowed in a plan; write the value out"
            )


def load(path: str | Path) -> Plan:
    """Read and validate a plan from a YAML or JSON file."""
    p = Path(path)
    text = _read_plan_text(p)
    try:
        if p.suffix.lower() == ".json":
            doc = json.loads(text, object_pairs_hook=_no_duplicate_pairs)
        else:
            _no_aliases(text)
            doc = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except _DuplicateKey as e:
        raise PlanError(str(p), [str(e)]) from None
    except RecursionError:  # the parsers recurse once per level of nesting
        raise PlanError(str(p), [NESTED]) from None
    except (yaml.YAMLError, json.JSONDecodeError) as e:
        if "nesting depth" in str(e):  # libyaml's own limit on nesting
            raise PlanError(str(p), [NESTED]) from None
        one_line = " ".join(str(e).split())
        raise PlanError(
            str(p), [f"not valid {'JSON' if p.suffix.lower() == '.json' else 'YAML'}: {one_line}"]
        ) from None
    return validate(doc, str(p), base_dir=p.resolve().parent)


def schema() -> dict[str, Any]:
    """The plan's JSON Schema."""
    return Plan.model_json_schema()


def ramp_to(full: int) -> dict[str, float] | None:
    """Coverage rising evenly from 2016/17 to full in ``full`` (None: the default ramp, full from
    2019/20, a third a year). The editor's roll-out year and the optimiser's both mean this."""
    if full == BASE_YEAR + 3:
        return None
    if full <= BASE_YEAR:
        return {year_label(BASE_YEAR): 1.0}
    span = full - BASE_YEAR
    return {year_label(y): round((y - BASE_YEAR) / span, 4) for y in range(BASE_YEAR + 1, full + 1)}


def default_ramp(last_year: int) -> dict[int, float]:
    """From 2016/17, when the plans were written, a third of full coverage a year:
    2016/17 0, 2017/18 1/3, 2018/19 2/3, full from 2019/20. Independent of the reporting window."""
    return {y: min(1.0, (y - BASE_YEAR) / 3.0) for y in range(BASE_YEAR, last_year + 1)}


__all__ = [
    "GROWTH_KEYS",
    "LAST_YEAR",
    "Adoption",
    "Plan",
    "PlanError",
    "default_ramp",
    "load",
    "ramp_to",
    "schema",
    "validate",
]
