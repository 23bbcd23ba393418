"""Footprints as sets of small areas: the presets (44 STPs of 2017, 42 ICBs of 2022) and any area
a user draws from 2016/17 CCGs, 2022 sub-ICB locations or local authorities.

Every footprint is a set of the 32,844 English LSOAs (2011). Everything a footprint needs from
the reference data is a sum over its LSOAs (``small_areas.csv.gz``: population by broad age,
deprivation-weighted population, adult social care spend, revenue-support loans), so the
footprints of any partition of England add up to England by construction. Acute trusts serve a
footprint in proportion to its population in each 2017 STP whose trusts they are (assumption
``trust_catchment_by_population``).
"""

from __future__ import annotations

import difflib
import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import assumptions
from .cache import persistent
from .reference import derived, table

PRESETS = {
    "stp2017": "the 44 STP footprints (ONS, April 2017)",
    "icb2022": "the 42 integrated care boards (ONS, July 2022)",
}
DEFAULT_GEOGRAPHY = "stp2017"
BANDS = ("pop18_0_64", "pop18_65_79", "pop18_80_plus")
ASC = ("asc_gce_65plus", "asc_gce_18_64", "asc_gce_other")
# The three ways to draw a footprint, with the small-area columns each may name.
MEMBER_KINDS = {
    "ccgs": ("ccg17cd", "ccg16cd"),
    "sub_icb_locations": ("sicbl22cd",),
    "local_authorities": ("lad17cd", "council17cd", "lad22cd"),
}
SINGULAR = {"ccgs": "CCG", "sub_icb_locations": "sub-ICB location", "local_authorities": "local authority"}
SPLITS = {"ccg": "ccg17cd", "sub_icb": "sicbl22cd", "local_authority": "lad17cd"}


class UnknownFootprint(ValueError):
    """A footprint or member code or name that is not known; the message names the nearest ones."""


@dataclass(frozen=True)
class Organisation:
    code: str
    name: str


@dataclass(frozen=True, eq=False)
class Footprint:
    """A footprint: a set of LSOAs with its name, organisations and additive figures."""

    code: str
    name: str
    health_foundation_name: str
    region: str
    population_mid2018: int
    ccgs: tuple[Organisation, ...] = field(default=())
    local_authorities: tuple[Organisation, ...] = field(default=())
    acute_trusts: tuple[Organisation, ...] = field(default=())
    geography: str = DEFAULT_GEOGRAPHY  # a preset's name, or "custom"
    ods_code: str = ""
    lsoas: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32), repr=False)
    trust_weights: tuple[float, ...] = ()  # each acute trust's share of the footprint's acute care
    definition: dict | None = None  # a custom footprint's members, as the user gave them
    local: Any = None  # LocalData: a team's own tables in place of the national defaults

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Footprint)
            and self.key == other.key
            and self.code == other.code
            and self.local is other.local
        )

    def __hash__(self) -> int:
        return hash((self.code, self.key, id(self.local)))

    @property
    def key(self) -> str:
        """A digest of the footprint's LSOAs: the same area has the same key whatever its name."""
        return area_key(self.lsoas)

    @property
    def stream(self) -> int:
        """The footprint's random-stream key: from its area, so a footprint drawn from CCGs gets
        the same numbers as the preset it equals."""
        return int(self.key[:15], 16)

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "geography": self.geography,
            "ods_code": self.ods_code or None,
            "health_foundation_name": self.health_foundation_name,
            "region": self.region,
            "population_mid2018": self.population_mid2018,
            "ccgs": [{"code": o.code, "name": o.name} for o in self.ccgs],
            "local_authorities": [{"code": o.code, "name": o.name} for o in self.local_authorities],
            "acute_trusts": [
                {"code": o.code, "name": o.name, "share": round(w, 4)}
                for o, w in zip(self.acute_trusts, self.trust_weights, strict=True)
            ],
            **({"definition": self.definition} if self.definition else {}),
            **({"local_data": self.local.to_list()} if self.local is not None else {}),
        }


def area_key(lsoas: np.ndarray) -> str:
    return hashlib.sha256(np.sort(np.asarray(lsoas, dtype=np.int32)).tobytes()).hexdigest()[:32]


# ---- small areas ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SmallAreas:
    """The LSOA table as arrays: codes by column, and the additive figures."""

    codes: dict[str, np.ndarray]  # column -> (lsoa,) str
    bands_2018: np.ndarray  # (lsoa, 3) mid-2018 population 0-64, 65-79, 80+
    deprivation_decile: np.ndarray  # (lsoa,) IMD 2019, 1 = most deprived
    social_care: np.ndarray  # (lsoa, 3) ASC gross spend 65+, 18-64, other, GBP 2016/17
    loans: np.ndarray  # (lsoa,) revenue-support loans drawn 2016/17, GBP

    @property
    def n(self) -> int:
        return len(self.deprivation_decile)


@persistent
def small_areas() -> SmallAreas:
    df = table("small_areas")
    cols = (
        "lsoa11cd",
        "lad17cd",
        "council17cd",
        "lad22cd",
        "ccg16cd",
        "ccg17cd",
        "stp17cd",
        "sicbl22cd",
        "icb22cd",
    )
    return SmallAreas(
        codes={c: df[c].to_numpy(str) for c in cols},
        bands_2018=df[list(BANDS)].to_numpy(float),
        deprivation_decile=df["imd2019_decile"].to_numpy(int),
        social_care=df[list(ASC)].to_numpy(float),
        loans=df["loans_drawn_gbp"].to_numpy(float),
    )


@persistent
def deprivation_weights() -> np.ndarray:
    """(lsoa, band) need multiplier from deprivation, normalised so each band's England total is
    unchanged (assumption ``need_deprivation_gradient``): exp(g * (5.5 - decile))."""
    g = float(assumptions.value("need_deprivation_gradient"))
    sa = small_areas()
    m = np.exp(g * (5.5 - sa.deprivation_decile))[:, None] * np.ones((1, 3))
    return m * sa.bands_2018.sum(axis=0) / (m * sa.bands_2018).sum(axis=0)


# ---- names ----------------------------------------------------------------------------------


@persistent
def member_names() -> dict[str, dict[str, tuple[str, str]]]:
    """Small-area column -> {code: (ODS code or "", name)} for every member kind."""
    out: dict[str, dict[str, tuple[str, str]]] = {}
    ccg17 = table("ccg_to_stp")
    out["ccg17cd"] = {r.ccg17cd: (r.ccg_ods_code, r.ccg_name) for r in ccg17.itertuples()}
    ccg16 = table("ccg16_names")
    out["ccg16cd"] = {r.ccg16cd: (r.ccg16cdh, r.ccg16nm) for r in ccg16.itertuples()}
    sub = table("sicbl22_names")
    out["sicbl22cd"] = {r.sicbl22cd: (r.sicbl22cdh, r.sicbl22nm) for r in sub.itertuples()}
    lad = table("lad_to_stp")
    out["lad17cd"] = {r.lad17cd: ("", r.lad17nm) for r in lad.itertuples()}
    cty = table("lad17_to_county17")
    counties = {r.cty17cd: ("", r.cty17nm) for r in cty.itertuples() if str(r.cty17cd).startswith("E10")}
    out["council17cd"] = {**out["lad17cd"], **counties}
    lad22 = table("lad22_names")
    out["lad22cd"] = {r.lad22cd: ("", r.lad22nm) for r in lad22.itertuples()}
    icb = table("icb22_names")
    out["icb22cd"] = {r.icb22cd: (r.icb22cdh, r.icb22nm) for r in icb.itertuples()}
    stp = table("stp_footprints")
    out["stp17cd"] = {r.stp17cd: ("", r.stp_name_ons_apr2017) for r in stp.itertuples()}
    return out


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", str(text).replace("&", "and")).strip().casefold()


@derived()
def _index(column: str) -> dict[str, str]:
    """Every accepted spelling (ONS code, ODS code, name, name without 'NHS ... CCG') -> code."""
    out: dict[str, str] = {}
    for code, (ods, name) in member_names()[column].items():
        for alias in (code, ods, name, re.sub(r"^nhs |\s+(ccg|icb)$", "", _norm(name))):
            if alias:
                out.setdefault(_norm(alias), code)
    return out


def _members_of(column: str) -> set[str]:
    return set(np.unique(small_areas().codes[column]))


def resolve_member(kind: str, text: str) -> tuple[str, str]:
    """A member of ``kind`` ("ccgs", "sub_icb_locations", "local_authorities") as (column, code);
    else UnknownFootprint naming the nearest spellings."""
    key = _norm(text)
    for column in MEMBER_KINDS[kind]:
        code = _index(column).get(key)
        if code is not None and code in _members_of(column):
            return column, code
    names = {}
    for column in MEMBER_KINDS[kind]:
        names.update({_norm(n): f"{c} {n}" for c, (_, n) in member_names()[column].items()})
        names.update({_norm(c): f"{c} {n}" for c, (_, n) in member_names()[column].items()})
    near = [names[n] for n in difflib.get_close_matches(key, names, n=3, cutoff=0.5)]
    hint = f"nearest: {'; '.join(dict.fromkeys(near))}; " if near else ""
    raise UnknownFootprint(
        f"unknown {SINGULAR[kind]} {text!r}; {hint}allowed: codes and names as "
        f"'stpsim footprints --members {kind} --json' lists them"
    )


def members(kind: str) -> list[dict]:
    """Every member of ``kind`` with its codes, name and 2017 footprint(s)."""
    sa = small_areas()
    out: list[dict] = []
    listed: set[str] = set()
    for column in MEMBER_KINDS[kind]:  # newest vintage first; a code kept since is listed once
        codes = sa.codes[column]
        for code in sorted(set(np.unique(codes)) - listed):
            listed.add(code)
            ods, name = member_names()[column].get(code, ("", code))
            stps = sorted(set(np.unique(sa.codes["stp17cd"][codes == code])))
            out.append(
                {"code": code, "ods_code": ods or None, "name": name, "vintage": column, "stp2017": stps}
            )
    return out


# ---- building footprints ----------------------------------------------------------------------


@persistent
def trusts_by_stp() -> dict[str, tuple[Organisation, ...]]:
    df = table("trust_to_stp").sort_values(["stp17cd", "trust_name"])
    return {
        stp: tuple(
            Organisation(str(c), str(n)) for c, n in zip(g["trust_code"], g["trust_name"], strict=True)
        )
        for stp, g in df.groupby("stp17cd")
    }


def _orgs(column: str, lsoas: np.ndarray) -> tuple[Organisation, ...]:
    names = member_names()[column]
    found = np.unique(small_areas().codes[column][lsoas])
    # CCGs are known by their ODS codes, councils by their ONS codes.
    orgs = (
        Organisation((names.get(c, ("", c))[0] if column == "ccg17cd" else "") or c, names.get(c, ("", c))[1])
        for c in found
    )
    return tuple(sorted(orgs, key=lambda o: o.name))


def _trusts(lsoas: np.ndarray) -> tuple[tuple[Organisation, ...], tuple[float, ...]]:
    """Acute trusts serving the area, each weighted by the area's population in the trust's
    2017 footprint, shared equally between that footprint's trusts."""
    assumptions.get("trust_catchment_by_population")
    sa = small_areas()
    pop = sa.bands_2018[lsoas].sum(axis=1)
    stps = sa.codes["stp17cd"][lsoas]
    weights: dict[Organisation, float] = {}
    total = pop.sum()
    for stp in np.unique(stps):
        trusts = trusts_by_stp().get(str(stp), ())
        share = pop[stps == stp].sum() / total
        for t in trusts:
            weights[t] = weights.get(t, 0.0) + share / len(trusts)
    norm = sum(weights.values()) or 1.0
    orgs = tuple(sorted(weights, key=lambda o: (-weights[o], o.name)))
    return orgs, tuple(weights[o] / norm for o in orgs)


def build(
    code: str,
    name: str,
    lsoas: np.ndarray,
    *,
    geography: str,
    region: str = "",
    health_foundation_name: str = "",
    ods_code: str = "",
    definition: dict | None = None,
) -> Footprint:
    lsoas = np.sort(np.asarray(lsoas, dtype=np.int32))
    sa = small_areas()
    trusts, weights = _trusts(lsoas)
    if not region:
        stps = sa.codes["stp17cd"][lsoas]
        vals, counts = np.unique(stps, return_counts=True)
        region = _regions().get(str(vals[np.argmax(counts)]), "")
    return Footprint(
        code=code,
        name=name,
        health_foundation_name=health_foundation_name or name,
        region=region,
        population_mid2018=int(round(sa.bands_2018[lsoas].sum())),
        ccgs=_orgs("ccg17cd", lsoas),
        local_authorities=_orgs("lad17cd", lsoas),
        acute_trusts=trusts,
        geography=geography,
        ods_code=ods_code,
        lsoas=lsoas,
        trust_weights=weights,
        definition=definition,
    )


@persistent
def _regions() -> dict[str, str]:
    df = table("stp_footprints")
    return dict(zip(df["stp17cd"], df["nhs_england_region_2017"], strict=True))


def _groups(column: str) -> dict[str, np.ndarray]:
    codes = small_areas().codes[column]
    order = np.argsort(codes, kind="stable")
    uniq, starts = np.unique(codes[order], return_index=True)
    return {str(c): order[s:e] for c, s, e in zip(uniq, starts, [*starts[1:], len(codes)], strict=True)}


@persistent
def _preset_stp2017() -> tuple[Footprint, ...]:
    df = table("stp_footprints").sort_values("stp17cd")
    groups = _groups("stp17cd")
    return tuple(
        build(
            r.stp17cd,
            r.stp_name_ons_apr2017,
            groups[r.stp17cd],
            geography="stp2017",
            region=r.nhs_england_region_2017,
            health_foundation_name=r.stp_name_health_foundation,
        )
        for r in df.itertuples()
    )


@persistent
def _preset_icb2022() -> tuple[Footprint, ...]:
    df = table("icb22_names").sort_values("icb22cd")
    groups = _groups("icb22cd")
    return tuple(
        build(r.icb22cd, r.icb22nm, groups[r.icb22cd], geography="icb2022", ods_code=r.icb22cdh)
        for r in df.itertuples()
    )


def preset(geography: str = DEFAULT_GEOGRAPHY) -> tuple[Footprint, ...]:
    """The footprints of a preset geography, in code order."""
    if geography == "stp2017":
        return _preset_stp2017()
    if geography == "icb2022":
        return _preset_icb2022()
    raise UnknownFootprint(f"unknown geography {geography!r}; allowed: {', '.join(PRESETS)}")


def find(text: str, geography: str = DEFAULT_GEOGRAPHY) -> Footprint:
    """A preset footprint by ONS code, ODS code or name, ignoring case: ``geography`` first, then
    the other preset (the 29 codes both share are the same areas)."""
    key = _norm(text)
    order = [geography] + [g for g in PRESETS if g != geography]
    for g in order:
        for f in preset(g):
            if key in {
                _norm(f.code),
                _norm(f.name),
                _norm(f.health_foundation_name),
                _norm(f.ods_code or f.code),
            }:
                return f
    raise UnknownFootprint(f"unknown footprint {text!r}; {suggest(text, geography)}")


def suggest(text: str, geography: str = DEFAULT_GEOGRAPHY) -> str:
    """'nearest: E54000007 Greater Manchester, ...; allowed: ...' by code and by name."""
    fps = preset(geography)
    by_code = {f.code.casefold(): f for f in fps}
    by_name = {f.name.casefold(): f for f in fps}
    key = text.strip().casefold()
    hits = [by_code[c] for c in difflib.get_close_matches(key, by_code, n=3, cutoff=0.6)]
    hits += [by_name[n] for n in difflib.get_close_matches(key, by_name, n=3, cutoff=0.4)]
    hits += [f for f in fps if key and key in f.name.casefold()]
    seen: dict[str, Footprint] = {f.code: f for f in hits}
    allowed = (
        f"{geography} codes {fps[0].code}..{fps[-1].code} (see 'stpsim footprints --geography {geography}')"
    )
    if not seen:
        return f"allowed: {allowed}"
    near = ", ".join(f"{f.code} {f.name}" for f in list(seen.values())[:4])
    return f"nearest: {near}; allowed: {allowed}"


def custom(name: str, within: Footprint | None = None, **members_by_kind: list[str]) -> Footprint:
    """A footprint drawn from CCGs, sub-ICB locations and/or local authorities (codes or names,
    as ``stpsim footprints --members KIND --json`` lists them), cut to the LSOAs of ``within``
    when given (the part of a sub-ICB location inside a 2017 footprint, say)."""
    sa = small_areas()
    mask = np.zeros(sa.n, dtype=bool)
    resolved: dict[str, list[str]] = {}
    for kind, items in members_by_kind.items():
        if kind not in MEMBER_KINDS:
            raise UnknownFootprint(f"unknown member kind {kind!r}; allowed: {', '.join(MEMBER_KINDS)}")
        seen: set[tuple[str, str]] = set()
        for text in items or []:
            column, code = resolve_member(kind, str(text))
            if (column, code) in seen:
                raise UnknownFootprint(f"{kind}: {text!r} is listed more than once")
            seen.add((column, code))
            mask |= sa.codes[column] == code
            resolved.setdefault(kind, []).append(code)
    if not mask.any():
        raise UnknownFootprint(
            f"footprint {name!r} names no members; give ccgs, sub_icb_locations or local_authorities"
        )
    definition: dict = {"name": name, **resolved}
    if within is not None:
        inside = np.zeros(sa.n, dtype=bool)
        inside[within.lsoas] = True
        mask &= inside
        if not mask.any():
            raise UnknownFootprint(
                f"footprint {name!r}: none of its members lies within {within.code} {within.name}"
            )
        definition["within"] = within.definition or within.code
    lsoas = np.flatnonzero(mask)
    return build(_custom_code(name), name, lsoas, geography="custom", definition=definition)


def _custom_code(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.casefold()).strip("-")
    return f"custom:{slug or 'area'}"


def owner(fp: Footprint) -> str:
    """The 2017 STP footprint a footprint belongs to in the store: itself for a preset STP, else
    the one holding most of its people (whose lead keeps and submits its plans)."""
    if fp.geography == "stp2017":
        return fp.code
    sa = small_areas()
    pop = sa.bands_2018[fp.lsoas].sum(axis=1)
    stps = sa.codes["stp17cd"][fp.lsoas]
    codes = np.unique(stps)
    return str(codes[np.argmax([pop[stps == c].sum() for c in codes])])


def split(fp: Footprint, by: str) -> list[Footprint]:
    """``fp`` cut into its parts by CCG (2017), sub-ICB location (2022) or local authority (2017
    district); parts are named after their member and hold only ``fp``'s LSOAs."""
    if by not in SPLITS:
        raise UnknownFootprint(f"unknown split {by!r}; allowed: {', '.join(SPLITS)}")
    column = SPLITS[by]
    codes = small_areas().codes[column][fp.lsoas]
    names = member_names()[column]
    parts = []
    for code in np.unique(codes):
        ods, name = names.get(str(code), ("", str(code)))
        lsoas = fp.lsoas[codes == code]
        kind = {"ccg": "ccgs", "sub_icb": "sub_icb_locations", "local_authority": "local_authorities"}[by]
        parts.append(
            build(
                f"{fp.code}/{ods or code}",
                name,
                lsoas,
                geography="custom",
                definition={"name": name, kind: [str(code)], "within": fp.definition or fp.code},
            )
        )
    return sorted(parts, key=lambda p: p.name)


def resolve(ref: str | dict, geography: str = DEFAULT_GEOGRAPHY) -> Footprint:
    """A plan's footprint entry: a preset code or name, or {name, ccgs|sub_icb_locations|
    local_authorities: [...]}."""
    if isinstance(ref, str):
        return find(ref, geography)
    ref = dict(ref)
    name = str(ref.pop("name", "") or "").strip()
    if not name:
        raise UnknownFootprint("a custom footprint needs a name")
    unknown = [k for k in ref if k not in MEMBER_KINDS]
    if unknown:
        raise UnknownFootprint(
            f"unknown field(s) {unknown} in footprint {name!r}; allowed: name, {', '.join(MEMBER_KINDS)}"
        )
    return custom(name, **ref)
