"""The documents the service answers with: one pydantic model each, printed by `--json` and
published by the REST API in its OpenAPI schema, so the two can never drift apart.

Amounts are GBP cash; a gap is a shortfall (positive when spending exceeds income). Every
uncertain quantity is a ``Summary`` over the draws, by financial year ("2020/21").
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class Summary(Model):
    mean: float
    p10: float
    p50: float
    p90: float


ByYear = dict[str, Summary]


class ScenarioBlock(Model):
    activity: dict[str, ByYear]
    capacity: dict[str, ByYear]


class OrgBooks(Model):
    id: str
    name: str
    kind: str
    footprint: str
    members: list[str] = Field(
        default_factory=list,
        description="the bodies one line of books stands for, by name: the CCGs of the commissioners, "
        "the councils of adult social care",
    )
    income: ByYear
    costs: ByYear
    surplus: ByYear


class SystemBooks(Model):
    surplus: ByYear
    gap: ByYear | None = None


class DoNothingBooks(Model):
    system: SystemBooks


class Finance(Model):
    scope: str = Field(description="what money the books count")
    provider_efficiency: ByYear = Field(description="the plan's provider cost improvement, its own line")
    care_models_net_saving: ByYear
    contracts: str
    orgs: list[OrgBooks]
    system: SystemBooks
    do_nothing: DoNothingBooks


class IncentiveCell(Model):
    intervention: str
    org: str
    gain: Summary
    footprint: str | None = None


class GapDriver(Model):
    parameter: str
    title: str
    low: float = Field(description="the plan's last-year gap with this parameter at its 10th percentile")
    high: float = Field(description="the same at its 90th percentile")


class LocalTableUsed(Model):
    footprint: str
    table: str
    source: str = Field(description="the file read, or data.TABLE.rows for a table given inline")
    sha256: str
    rows: int


class RunResponse(Model):
    """A plan against doing nothing: activity, capacity, every organisation's books, the gap's
    bridge, the incentive matrix and what drives the gap."""

    plan: str
    footprints: list[str]
    draws: int
    seed: int
    years: list[str]
    activity: dict[str, ByYear]
    do_nothing: ScenarioBlock
    difference: ScenarioBlock
    capacity: dict[str, ByYear]
    interventions: list[str]
    local_data: list[LocalTableUsed] | None = Field(
        None, description="local tables used in place of the national defaults (absent: none)"
    )
    calibration: dict[str, Any] | None = Field(
        None,
        description="present when the draws were reweighted by England's track record (run --calibrated): "
        "the years fitted, the effective draws and a sentence saying so",
    )
    gap_bridge: dict[str, dict[str, Any]] = Field(
        description="line -> {title, YEAR: Summary}; the lines sum exactly to the plan's gap"
    )
    finance: Finance
    incentives: list[IncentiveCell]
    gap_drivers: list[GapDriver]
    investment: list[dict[str, Any]] | None = Field(
        None,
        description="each care model: investment, running cost, savings by year and by organisation, "
        "net benefit, payback year and net present value at the Green Book rate (3.5%)",
    )
    workforce: dict[str, Any] | None = Field(
        None, description="whole-time equivalents by staff group and year, plan and do-nothing"
    )
    service_change: dict[str, Any] | None = Field(
        None,
        description="beds_test (each bed change: conditions a, b, c and the probability of a shortfall by "
        "year), consultation (proposals likely to need formal consultation, with the councils) and "
        "four_tests (the checklist)",
    )
    run_id: str | None = Field(None, description="the run's identity in the store (API only)")
    stored: bool | None = Field(None, description="true when the store answered from an earlier run")


class CompareResponse(Model):
    """Two options for the same place, each the document of `run`."""

    plans: list[RunResponse]


class IncentiveMatrix(Model):
    contracts: str
    incentives: list[IncentiveCell]


class IncentivesResponse(Model):
    plan: str
    year: str
    matrices: list[IncentiveMatrix]


class RollupResponse(Model):
    """England: every footprint of a geography (44 STPs or 42 ICBs) summed draw by draw, with the
    reconciliation."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    geography: str = "stp2017"
    reconciliation: dict[str, Any]
    draws: int
    seed: int
    years: list[str]
    sign: str
    footprints: list[dict[str, Any]]
    england: dict[str, Any]
    largest_gap_per_head: list[str]


class BaselineResponse(Model):
    year: str
    england: dict[str, Any]
    footprints: list[dict[str, Any]]
