"""A footprint's organisations and who delivers which setting.

Commissioners (the footprint's CCGs, as one), each acute trust, a community provider, a mental
health provider, general practice, the specialised services NHS England commissions for the
footprint's residents, and the councils' adult social care. Three outside parties
close the books: NHS England (allocations), local government funding, and providers outside the
footprint (out-of-area treatment).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import assumptions
from .axes import ALL_SETTINGS
from .cache import persistent
from .footprint import Footprint
from .reference import derived, table

KINDS = ("commissioner", "acute", "community", "mental_health", "primary_care", "social_care", "specialised")
EXTERNAL = ("nhs_england", "local_government", "out_of_area")

DEFAULT_DELIVERY = {
    "acute": (
        "ae_attendances",
        "emergency_admissions",
        "elective_admissions",
        "day_cases",
        "outpatient_first",
        "outpatient_followup",
        "emergency_bed_days",
        "elective_bed_days",
        "geriatrician_hours",
    ),
    "community": (
        "community_nursing_contacts",
        "physiotherapy_contacts",
        "hospital_at_home_days",
        "community_consultant_sessions",
    ),
    "primary_care": ("gp_consultations", "practice_nurse_consultations"),
    "social_care": ("home_care_hours", "care_home_weeks"),
}


@dataclass(frozen=True)
class Organisation:
    id: str
    name: str
    kind: str  # one of KINDS, or "external"
    members: tuple[str, ...] = ()


def organisations(fp: Footprint) -> list[Organisation]:
    """The footprint's organisations in a fixed order (commissioner first, externals last)."""
    orgs = [
        Organisation(
            "commissioner",
            f"{fp.name} commissioners ({len(fp.ccgs)} CCG{'' if len(fp.ccgs) == 1 else 's'})",
            "commissioner",
            tuple(c.name for c in fp.ccgs),
        )
    ]
    orgs += [Organisation(f"acute:{t.code}", t.name, "acute") for t in fp.acute_trusts]
    orgs += [
        Organisation("community", f"{fp.name} community services", "community"),
        Organisation("mental_health", f"{fp.name} mental health services", "mental_health"),
        Organisation("primary_care", f"{fp.name} general practice", "primary_care"),
        Organisation(
            "specialised",
            f"Specialised services for {fp.name}'s residents (commissioned by NHS England)",
            "specialised",
        ),
        Organisation(
            "social_care",
            f"{fp.name} councils' adult social care",
            "social_care",
            tuple(la.name for la in fp.local_authorities),
        ),
    ]
    orgs += [
        Organisation("nhs_england", "NHS England (allocations)", "external"),
        Organisation("local_government", "Local government funding (council tax and grants)", "external"),
        Organisation("out_of_area", "Providers outside the footprint", "external"),
    ]
    return orgs


def resolve(target: str, orgs: list[Organisation]) -> list[Organisation]:
    """Org ids matching an id (``acute:RBV``) or a kind (``acute`` = every acute trust)."""
    hits = [o for o in orgs if o.id == target] or [o for o in orgs if o.kind == target]
    if not hits:
        allowed = sorted({o.id for o in orgs} | {o.kind for o in orgs if o.kind != "external"})
        raise ValueError(f"unknown organisation {target!r}; allowed: {', '.join(allowed)}")
    return hits


# The published 2016/17 measure each acute setting is shared by between a footprint's trusts
# (assumption acute_activity_by_trust_size): A&E and emergency admissions by the trust's own
# A&E statistics, everything else by its general and acute beds. Bed days follow admissions.
SIZE_MEASURE = {
    "ae_attendances": "ae_attendances",
    "emergency_admissions": "ae_emergency_admissions",
    "emergency_bed_days": "ae_emergency_admissions",
    "elective_admissions": "ga_beds_open",
    "elective_bed_days": "ga_beds_open",
    "day_cases": "ga_beds_open",
    "outpatient_first": "ga_beds_open",
    "outpatient_followup": "ga_beds_open",
    "geriatrician_hours": "ga_beds_open",
}
MEASURE_NAMES = {
    "ae_attendances": "A&E attendances, 2016/17",
    "ae_emergency_admissions": "emergency admissions via A&E, 2016/17",
    "ga_beds_open": "general and acute beds, winter 2016/17",
}


@persistent
def trust_sizes() -> dict[str, dict[str, float]]:
    """Each acute trust's 2016/17 size by every measure (acute_trust_size_2016_17.csv)."""
    df = table("acute_trust_size_2016_17")
    cols = ("ga_beds_open", "ga_beds_occupied", "ae_attendances", "ae_emergency_admissions", "floor_area_m2")
    return {str(r["trust_code"]): {c: float(r[c]) for c in cols} for r in df.to_dict(orient="records")}


def footprint_shares(
    fp: Footprint,
    orgs: list[Organisation],
    acute_shares: dict[str, float] | None = None,
    overrides: dict[str, dict[str, float]] | None = None,
) -> np.ndarray:
    """``delivery_shares`` for a footprint: a plan's single acute split when it gives one, else
    each acute setting split by the trusts' published sizes."""
    return delivery_shares(orgs, acute_shares, overrides, None if acute_shares else acute_size_shares(fp))


@derived(256)
def acute_size_shares(fp: Footprint) -> dict[str, dict[str, float]]:
    """Each acute setting's split between ``fp``'s trusts, {setting: {acute:CODE: share}}: by the
    trusts' published size within each 2017 footprint, weighted by the area's people in each
    (for a preset STP, simply the size shares)."""
    from .geography import small_areas, trusts_by_stp

    assumptions.get("acute_activity_by_trust_size")
    sa = small_areas()
    pop = sa.bands_2018[fp.lsoas].sum(axis=1)
    stps = sa.codes["stp17cd"][fp.lsoas]
    sizes = trust_sizes()
    out: dict[str, dict[str, float]] = {}
    for setting, measure in SIZE_MEASURE.items():
        split: dict[str, float] = {}
        for stp in sorted(set(stps.tolist())):  # not np.unique, which imports numpy.ma
            trusts = trusts_by_stp().get(stp, ())
            if not trusts:
                continue
            weight = float(pop[stps == stp].sum() / pop.sum())
            size = np.array([sizes.get(t.code, {}).get(measure, np.nan) for t in trusts])
            size = np.where(
                np.isfinite(size) & (size > 0), size, np.nanmean(size) if np.isfinite(size).any() else 1.0
            )
            for t, s in zip(trusts, (size / size.sum()).tolist(), strict=True):
                split[f"acute:{t.code}"] = split.get(f"acute:{t.code}", 0.0) + weight * float(s)
        total = sum(split.values())
        out[setting] = {k: v / total for k, v in split.items()}
    return out


def delivery_shares(
    orgs: list[Organisation],
    acute_shares: dict[str, float] | None = None,
    overrides: dict[str, dict[str, float]] | None = None,
    acute_by_setting: dict[str, dict[str, float]] | None = None,
) -> np.ndarray:
    """Share of each setting's in-area activity delivered by each organisation, (org, setting).

    ``acute_shares`` maps acute org ids to their share of all acute activity; without it,
    ``acute_by_setting`` gives each acute setting's split (the trusts' published sizes), and
    without that the trusts share equally. ``overrides`` maps a setting to {org id or kind:
    share}. Every setting's shares sum to 1.
    """
    assumptions.get("default_delivery")
    ids = [o.id for o in orgs]
    acute = [o.id for o in orgs if o.kind == "acute"]
    if acute_shares:
        a_share = np.array([acute_shares.get(a, 0.0) for a in acute])
        acute_by_setting = None
    else:
        a_share = np.full(len(acute), 1.0 / len(acute))

    def split_of(setting: str) -> np.ndarray:
        if acute_by_setting and setting in acute_by_setting:
            return np.array([acute_by_setting[setting].get(a, 0.0) for a in acute])
        return a_share

    out = np.zeros((len(orgs), len(ALL_SETTINGS)))
    for kind, settings in DEFAULT_DELIVERY.items():
        for s in settings:
            k = ALL_SETTINGS.index(s)
            if kind == "acute":
                for a, sh in zip(acute, split_of(s), strict=True):
                    out[ids.index(a), k] = sh
            else:
                out[ids.index(kind), k] = 1.0
    overrides = dict(overrides or {})
    for bd, adm in (
        ("emergency_bed_days", "emergency_admissions"),
        ("elective_bed_days", "elective_admissions"),
    ):
        if adm in overrides and bd not in overrides:
            overrides[bd] = overrides[adm]  # a hospital's bed days follow its admissions
    for setting, split in overrides.items():
        k = ALL_SETTINGS.index(setting)
        out[:, k] = 0.0
        for target, share in split.items():
            hits = resolve(target, orgs)
            if len(hits) == 1:
                out[ids.index(hits[0].id), k] += share
            else:  # a kind with several orgs: split like acute activity
                for a, sh in zip(acute, split_of(setting), strict=True):
                    out[ids.index(a), k] += share * sh
    return out
