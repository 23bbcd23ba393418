"""Stateless work on plans, answering with the response models: the CLI's `--json` and the REST
API print the same documents. Errors are ``Invalid`` with every problem, each naming its field
or option."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..plan import Plan
from .errors import Invalid
from .responses import CompareResponse, IncentiveCell, IncentiveMatrix, IncentivesResponse, RunResponse

if TYPE_CHECKING:
    from ..record import RunRecord


def run_plan(plan: Plan, attestations: list[dict] | tuple = (), reference=None) -> RunRecord:
    """Run ``plan`` once into its record: the engine's arrays, the analyses that read them
    (service change, gap drivers, workforce, payback) and the response document that `run
    --json` prints and the API publishes. ``attestations``: the four tests attested on the
    stored version that is run (oldest first; see ``service_change.four_tests``), none for a
    plan file. ``reference``: the national tables (``reference.ReferenceData``; default the
    current ones), read by the run, its analyses and its record's identity alike."""
    from ..reference import use

    with use(reference):
        return _run_plan(plan, attestations)


def _run_plan(plan: Plan, attestations: list[dict] | tuple) -> RunRecord:
    from ..analysis import analyse
    from ..engine import RunTooLarge, run
    from ..record import RunRecord, identity

    try:
        results = run(plan)
    except RunTooLarge as e:
        raise Invalid(f"draws: {e}") from None
    extra, kept = analyse(results, attestations)
    doc = RunResponse.model_validate(results.to_dict() | extra).model_dump(mode="json", exclude_none=True)
    return RunRecord(results, doc, identity(plan), kept)


def parameter_list(plan: Plan) -> list[dict]:
    """Every parameter a run of ``plan`` declares (``run_parameters.declare``): id, title, unit,
    central value, 80% interval (p10, p90 of a normal) and the bounds it is truncated to, its
    source and whether the tornado swings it; a fixed parameter has no interval."""
    from ..run_parameters import declare

    return [
        {
            "id": p.id,
            "title": p.title,
            "unit": p.unit,
            "value": p.value,
            "interval": None if p.interval is None else {"low": p.interval.low, "high": p.interval.high},
            "lower": p.lower,
            "upper": p.upper,
            "source": p.source,
            "in_tornado": p.uncertain and p.reaches_gap,
        }
        for p in declare(plan)
    ]


def compare(a: Plan, b: Plan) -> CompareResponse:
    """Two plans side by side; they must share at least one year."""
    if not set(range(a.first_year, a.last_year + 1)) & set(range(b.first_year, b.last_year + 1)):
        raise Invalid("the two plans share no year; give them overlapping start_year..end_year")
    return CompareResponse(plans=[run_plan(a).document, run_plan(b).document])


def incentives(plan: Plan, presets: list[str | None]) -> tuple[IncentivesResponse, list]:
    """The incentive matrix under the plan's contracts (None) or each named preset, built by the
    same code path as `run` (so a plan starting after 2016/17 gives the same cells). Returns the
    document and each matrix's books, for tables."""
    from ..axes import year_label
    from ..contract_terms import PRESETS
    from ..engine import incentive_matrix
    from ..summaries import STATS, summarise

    bad = [m for m in presets if m is not None and m not in PRESETS]
    if bad:
        raise Invalid(f"--contracts {','.join(bad)} is not allowed; allowed: {', '.join(PRESETS)}")
    matrices = []
    for m in presets:
        p = (
            plan
            if m is None
            else plan.model_copy(update={"finance": plan.finance.model_copy(update={"contracts": m})})
        )
        fin = incentive_matrix(p)
        label = m or (p.finance.contracts if isinstance(p.finance.contracts, str) else "custom")
        cells = []
        for (i, c, o), g in fin.incentives.items():
            s = summarise(g)
            cells.append(
                IncentiveCell(
                    intervention=i, footprint=c, org=o, gain={k: round(float(s[k]), 2) for k in STATS}
                )
            )
        matrices.append((IncentiveMatrix(contracts=label, incentives=cells), fin))
    doc = IncentivesResponse(
        plan=plan.name, year=year_label(plan.last_year), matrices=[m for m, _ in matrices]
    )
    return doc, [fin for _, fin in matrices]


def report(
    records: list[RunRecord],
    target,
    audience: str,
    fmt: str,
    national: dict | None = None,
    appendix_href: str | None = None,
):
    """Write the report of one run record, or two options for the same place, to ``target``
    (atomic). The report draws from the records; nothing is rerun. ``national``: other
    footprints' plans by code (possibly empty) to add England-wide context from a roll-up; None
    for no context. Returns the path written."""
    from ..report import FORMATS, write
    from ..story import AUDIENCES

    plans = [r.plan for r in records]
    problems = []
    if audience not in AUDIENCES:
        problems.append(f"audience: {audience!r} is not allowed; allowed: {', '.join(AUDIENCES)}")
    if fmt not in FORMATS:
        problems.append(f"format: {fmt!r} is not allowed; allowed: {', '.join(FORMATS)}")
    if not 1 <= len(plans) <= 2:
        problems.append(f"give one plan, or two to compare; got {len(plans)}")
    elif fmt == "xlsx" and len(plans) == 2:
        problems.append("format xlsx takes one plan; write one workbook per plan")
    elif len(plans) == 2 and [f.key for f in plans[0].places] != [f.key for f in plans[1].places]:
        problems.append(
            f"the two options cover different footprints ({', '.join(plans[0].codes)} and "
            f"{', '.join(plans[1].codes)}); compare options for the same place"
        )
    if problems:
        raise Invalid(problems[0], problems)
    context = None
    if national is not None:
        from ..rollup import rollup

        others = dict(national)
        for code in plans[0].codes:  # this plan stands for its own footprints
            others[code] = ("(this plan)", plans[0])
        mc = plans[0].monte_carlo
        context = rollup(others, mc.draws, mc.seed, plans[0].last_year, executor="local")
    track = proposal = None
    if audience == "board" and fmt == "html":
        from .track_record import backtest

        track = backtest()  # the model's track record: computed once per data and code, then read
        if len(records) == 1 and plans[0].optimise is not None:
            from .optimiser import optimise

            proposal = optimise(plans[0])  # the plan asks what the optimiser would choose
    return write(
        records[0],
        target,
        audience,
        fmt,
        records[1] if len(records) == 2 else None,
        context,
        appendix_href,
        track,
        proposal,
    )


DRAWS_RANGE = (1, 100_000)
SEED_RANGE = (0, 2**63 - 1)


def with_overrides(
    plan: Plan, draws: int | None = None, seed: int | None = None, names=("draws", "seed")
) -> Plan:
    """``plan`` with its Monte Carlo draws and seed replaced where given, each checked against
    its allowed range. ``names`` are how the caller calls them (``--draws`` on the CLI)."""
    update, problems = {}, []
    for name, value, key, (low, high) in (
        (names[0], draws, "draws", DRAWS_RANGE),
        (names[1], seed, "seed", SEED_RANGE),
    ):
        if value is None:
            continue
        if not low <= value <= high:
            problems.append(f"{name} {value} is out of range; allowed: {low} to {high}")
        update[key] = value
    mc = plan.monte_carlo
    if mc.calibration is not None:  # its prior draws were chosen for these draws and this seed
        for name, key in zip(names, ("draws", "seed"), strict=True):
            if key in update and update[key] != getattr(mc, key):
                problems.append(
                    f"{name} {update[key]}: the plan's draws are calibrated at {mc.draws} draws, seed "
                    f"{mc.seed}; run it at those, or take monte_carlo.calibration out of the plan and "
                    "calibrate again (run --calibrated) at the new ones"
                )
    if problems:
        raise Invalid(problems[0], problems)
    if not update:
        return plan
    return plan.model_copy(update={"monte_carlo": mc.model_copy(update=update)})
