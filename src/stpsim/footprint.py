"""England's 44 STP footprints (ONS April 2017) with their member organisations."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from .cache import persistent
from .reference import table


@dataclass(frozen=True)
class Organisation:
    code: str
    name: str


@dataclass(frozen=True)
class Footprint:
    code: str
    name: str
    health_foundation_name: str
    region: str
    population_mid2018: int
    ccgs: tuple[Organisation, ...] = field(default=())
    local_authorities: tuple[Organisation, ...] = field(default=())
    acute_trusts: tuple[Organisation, ...] = field(default=())

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "health_foundation_name": self.health_foundation_name,
            "region": self.region,
            "population_mid2018": self.population_mid2018,
            "ccgs": [{"code": o.code, "name": o.name} for o in self.ccgs],
            "local_authorities": [{"code": o.code, "name": o.name} for o in self.local_authorities],
            "acute_trusts": [{"code": o.code, "name": o.name} for o in self.acute_trusts],
        }


class UnknownFootprint(ValueError):
    """A footprint code or name that is not one of the 44; the message names the nearest ones."""


def _members(name: str, key: str, code: str, label: str) -> dict[str, tuple[Organisation, ...]]:
    df = table(name).sort_values([key, label])
    return {
        stp: tuple(Organisation(str(c), str(n)) for c, n in zip(g[code], g[label], strict=True))
        for stp, g in df.groupby(key)
    }


@persistent
def all_footprints() -> tuple[Footprint, ...]:
    ccgs = _members("ccg_to_stp", "stp17cd", "ccg_ods_code", "ccg_name")
    lads = _members("lad_to_stp", "stp17cd", "lad17cd", "lad17nm")
    trusts = _members("trust_to_stp", "stp17cd", "trust_code", "trust_name")
    df = table("stp_footprints").sort_values("stp17cd")
    return tuple(
        Footprint(
            code=r.stp17cd,
            name=r.stp_name_ons_apr2017,
            health_foundation_name=r.stp_name_health_foundation,
            region=r.nhs_england_region_2017,
            population_mid2018=int(r.population),
            ccgs=ccgs.get(r.stp17cd, ()),
            local_authorities=lads.get(r.stp17cd, ()),
            acute_trusts=trusts.get(r.stp17cd, ()),
        )
        for r in df.itertuples()
    )


def codes() -> list[str]:
    return [f.code for f in all_footprints()]


def find(text: str) -> Footprint:
    """A footprint by code (E54000007) or by name, ignoring case; else UnknownFootprint."""
    key = text.strip().casefold()
    for f in all_footprints():
        if key in (f.code.casefold(), f.name.casefold(), f.health_foundation_name.casefold()):
            return f
    raise UnknownFootprint(f"unknown footprint {text!r}; {suggest(text)}")


def suggest(text: str) -> str:
    """'nearest: E54000007 Greater Manchester, ...' by code and by name."""
    fps = all_footprints()
    by_code = {f.code.casefold(): f for f in fps}
    by_name = {f.name.casefold(): f for f in fps}
    key = text.strip().casefold()
    hits = [by_code[c] for c in difflib.get_close_matches(key, by_code, n=3, cutoff=0.6)]
    hits += [by_name[n] for n in difflib.get_close_matches(key, by_name, n=3, cutoff=0.4)]
    hits += [f for f in fps if key and key in f.name.casefold()]
    seen: dict[str, Footprint] = {f.code: f for f in hits}
    allowed = f"codes {fps[0].code}..{fps[-1].code} (see 'stpsim footprints')"
    if not seen:
        return f"allowed: {allowed}"
    near = ", ".join(f"{f.code} {f.name}" for f in list(seen.values())[:4])
    return f"nearest: {near}; allowed: {allowed}"
