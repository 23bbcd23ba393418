"""Service change: the beds test, formal-consultation flags and the four tests, from a plan.

A plan may state its capacity changes (``service_changes``): beds by trust and year, services
that move or close (an A&E becoming an urgent treatment centre, a community hospital closing)
with the people affected, and the community and primary-care capacity it adds. From those and a
run's results this module works out:

- **the beds test** (NHS England, from 1 April 2017): for each significant bed reduction, whether
  (a) enough alternative provision is in place alongside or ahead of it, measured against the
  extra community and primary-care sessions the plan's care models need; (b) care models with at
  least moderate evidence of reducing admissions or bed days avoid at least the bed days the
  beds would have given; (c) the trust uses beds less efficiently than England's average and the
  plan's improvement is no larger than that gap. And, per year, the probability that the beds
  needed at the target occupancy exceed the beds left;
- **substantial variation**: proposals likely to need formal consultation with the health
  scrutiny of the councils whose residents are affected (Local Authority (Public Health, Health
  and Wellbeing Boards and Health Scrutiny) Regulations 2013, regulation 23), and, since 31
  January 2024, notification to the Secretary of State (Health and Care Act 2022, Schedule 6);
- **the four tests** of service change: engagement and commissioner support as attested on a
  plan version in the store, patient choice, and the clinical evidence of each care model.

Every threshold is an assumption with a range in ``assumptions.yaml``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from . import assumptions
from .axes import parse_year, year_label
from .cache import persistent

SERVICE_KINDS = {
    "ae_to_urgent_treatment_centre": "an A&E department becomes an urgent treatment centre",
    "community_hospital_closure": "a community hospital closes",
    "service_move": "a service moves to another site",
    "service_closure": "a service closes",
}
CAPACITY_MEASURES = (
    "community_nursing_sessions",
    "physiotherapy_sessions",
    "gp_sessions",
    "practice_nurse_sessions",
    "geriatrician_sessions",
)
BED_DAYS = ("emergency_bed_days", "elective_bed_days")
ADMISSION_SETTINGS = ("emergency_admissions", "emergency_bed_days", "elective_bed_days")
FOUR_TESTS = {
    "engagement": "Strong public and patient engagement",
    "patient_choice": "Consistency with current and prospective need for patient choice",
    "clinical_evidence": "A clear clinical evidence base",
    "commissioner_support": "Support for proposals from clinical commissioners",
}
ATTESTED = ("engagement", "patient_choice", "commissioner_support")


def _year(v: Any) -> int:
    return parse_year(str(v))


class BedChange(BaseModel):
    """Beds a trust opens (+) or closes (-) from a year on."""

    model_config = ConfigDict(extra="forbid")

    trust: str = Field(min_length=1, description="the acute trust: ODS code (RMC) or name")
    year: str | int = Field(description="first year with the new number of beds, e.g. 2019/20")
    change: int = Field(description="beds opened (+) or closed (-)", ge=-10_000, le=10_000)
    length_of_stay_reduction_days: float | None = Field(
        None,
        ge=0.0,
        le=10.0,
        description="the improvement in length of stay the plan counts on (condition c)",
    )
    beds_2016_17: float | None = Field(
        None, gt=0, le=5_000, description="the trust's general and acute beds, where the sitreps lack it"
    )
    local_authorities: list[str] | None = Field(
        None,
        description="councils whose residents use the beds (default: the councils of the trust's catchment)",
    )

    @field_validator("year")
    @classmethod
    def _y(cls, v: Any) -> str:
        return year_label(_year(v))


class ServiceProposal(BaseModel):
    """A service that moves or closes."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal[tuple(SERVICE_KINDS)] = Field(
        description="; ".join(f"{k}: {v}" for k, v in SERVICE_KINDS.items())
    )  # type: ignore[valid-type]
    name: str = Field(min_length=1, max_length=200, description="e.g. 'Trafford General A&E'")
    year: str | int
    trust: str | None = Field(None, description="the trust that runs it (ODS code or name)")
    people_affected: int | None = Field(
        None, ge=0, le=20_000_000, description="people whose access changes (default: the trust's catchment)"
    )
    local_authorities: list[str] | None = Field(
        None, description="councils whose residents use it (default: the councils of the trust's catchment)"
    )

    @field_validator("year")
    @classmethod
    def _y(cls, v: Any) -> str:
        return year_label(_year(v))


class CapacityAdded(BaseModel):
    """Community or primary-care capacity the plan adds, in place from a year on."""

    model_config = ConfigDict(extra="forbid")

    measure: Literal[CAPACITY_MEASURES]  # type: ignore[valid-type]
    year: str | int
    wte: float | None = Field(None, gt=0, le=100_000, description="whole-time equivalents added")
    sessions_per_week: float | None = Field(None, gt=0, le=1_000_000, description="or sessions a week added")

    @field_validator("year")
    @classmethod
    def _y(cls, v: Any) -> str:
        return year_label(_year(v))

    def sessions_per_year(self) -> float:
        if (self.wte is None) == (self.sessions_per_week is None):
            raise ValueError("give one of wte or sessions_per_week")
        if self.wte is not None:
            return self.wte * float(assumptions.value("sessions_per_wte_per_year"))
        return self.sessions_per_week * float(assumptions.value("working_weeks_per_year"))


class ServiceChanges(BaseModel):
    """The plan's capacity changes: beds, services and community capacity."""

    model_config = ConfigDict(extra="forbid")

    beds: list[BedChange] = Field(default_factory=list)
    services: list[ServiceProposal] = Field(default_factory=list)
    capacity: list[CapacityAdded] = Field(default_factory=list)

    @field_validator("capacity")
    @classmethod
    def _one_unit(cls, v: list[CapacityAdded]) -> list[CapacityAdded]:
        for c in v:
            c.sessions_per_year()
        return v


# ---- reference data -------------------------------------------------------------------------


@persistent
def trust_beds() -> dict[str, dict[str, float]]:
    """2016/17 winter general and acute beds by trust: open, occupied, occupancy; and the
    emergency admissions via A&E over the year (for the length-of-stay proxy)."""
    return _trust_table()


def _trust_table() -> dict[str, dict[str, float]]:
    from .reference import table

    beds = table("acute_beds_by_trust_winter_2016_17")
    ae = table("ae_attendances_by_provider_2016_17").set_index("org_code")
    out = {}
    for r in beds.itertuples():
        adm = float(ae.loc[r.org_code, "admissions_all"]) if r.org_code in ae.index else float("nan")
        out[str(r.org_code)] = {
            "open": float(r.ga_beds_open_mean),
            "occupied": float(r.ga_beds_occupied_mean),
            "occupancy": float(r.ga_occupancy_mean),
            "admissions_via_ae": adm,
        }
    return out


# ---- the evaluation -------------------------------------------------------------------------


def _find_trust(text: str, fps) -> tuple[int, Any] | None:
    key = text.strip().casefold()
    for f, fp in enumerate(fps):
        for t in fp.acute_trusts:
            if key in (t.code.casefold(), t.name.casefold()):
                return f, t
    return None


def _closures_within_size(changes, fps, beds: dict) -> list[str]:
    """A trust cannot have fewer than no beds: its changes, added up year by year, never close
    more than its 2016/17 general and acute beds (the sitreps', or the plan's own count)."""
    problems, running = [], {}
    for i, b in sorted(enumerate(changes), key=lambda ib: parse_year(ib[1].year)):
        hit = _find_trust(b.trust, fps)
        if hit is None:
            continue
        trust = hit[1]
        size = b.beds_2016_17 if b.beds_2016_17 is not None else beds.get(trust.code, {}).get("open")
        if size is None:
            continue
        running[trust.code] = running.get(trust.code, 0) + b.change
        if running[trust.code] < -size:
            problems.append(
                f"service_changes.beds.{i}.change: {b.change:+,} takes {trust.name}'s closures to "
                f"{-running[trust.code]:,} beds by {year_label(parse_year(b.year))}, more than the "
                f"{size:,.0f} general and acute beds it had in 2016/17"
            )
    return problems


def check(plan) -> list[str]:
    """Problems with the plan's service changes that need its footprints (trusts, councils)."""
    sc = plan.service_changes
    if sc is None:
        return []
    fps = plan.places
    allowed = ", ".join(f"{t.code} {t.name}" for fp in fps for t in fp.acute_trusts)
    problems = []
    beds = trust_beds()
    for i, b in enumerate(sc.beds):
        hit = _find_trust(b.trust, fps)
        if hit is None:
            problems.append(
                f"service_changes.beds.{i}.trust: {b.trust!r} is not an acute trust of the plan's "
                f"footprints; allowed: {allowed}"
            )
        elif hit[1].code not in beds and b.beds_2016_17 is None:
            problems.append(
                f"service_changes.beds.{i}.beds_2016_17: {hit[1].code} has no 2016/17 bed count in "
                "the sitreps; give its beds"
            )
    problems += _closures_within_size(sc.beds, fps, beds)
    for i, s in enumerate(sc.services):
        if s.trust is not None and _find_trust(s.trust, fps) is None:
            problems.append(
                f"service_changes.services.{i}.trust: {s.trust!r} is not an acute trust of the plan's "
                f"footprints; allowed: {allowed}"
            )
    from .geography import UnknownFootprint, resolve_member

    for kind, items in (("beds", sc.beds), ("services", sc.services)):
        for i, x in enumerate(items):
            for j, la in enumerate(x.local_authorities or []):
                try:
                    resolve_member("local_authorities", la)
                except UnknownFootprint as e:
                    problems.append(f"service_changes.{kind}.{i}.local_authorities.{j}: {e}")
    for kind, items in (("beds", sc.beds), ("services", sc.services), ("capacity", sc.capacity)):
        for i, x in enumerate(items):
            y = parse_year(x.year)
            if not plan.first_year <= y <= plan.last_year and not (
                kind == "capacity" and y < plan.first_year
            ):
                problems.append(
                    f"service_changes.{kind}.{i}.year: {x.year} is outside the plan's years "
                    f"{year_label(plan.first_year)} to {year_label(plan.last_year)}"
                )
    return problems
