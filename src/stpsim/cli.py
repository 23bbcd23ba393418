"""The ``stpsim`` command line. A thin shell: parse and validate, call the core, print.

User errors (unknown footprint, year out of range, malformed option) exit with status 2 and one
line on stderr naming the bad value and what is allowed; no traceback.
"""

from __future__ import annotations

import json
import shutil
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from . import __version__
from .axes import SETTINGS, parse_year, year_label
from .engine import RunTooLarge
from .footprint import UnknownFootprint, all_footprints
from .plan import PlanError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="stpsim: England's 44 STP footprints, their populations and the care they need.",
)
# Piped output is not a terminal; give tables room rather than Rich's 80-column default.
out = Console(width=max(160, shutil.get_terminal_size((160, 24)).columns))

EXIT_USAGE = 2


class UserError(Exception):
    """Bad input from the user: reported on one line, exit status 2."""


DRAWS_RANGE = (1, 100_000)
SEED_RANGE = (0, 2**63 - 1)


def _out_of_range(option: str, value: int, low: int, high: int | None = None) -> str | None:
    """The message for an option outside [low, high], or None when it is inside."""
    if value < low or (high is not None and value > high):
        allowed = f"{low} to {high}" if high is not None else f"{low} or more"
        return f"{option} {value} is out of range; allowed: {allowed}"
    return None


def _year_option(option: str, text: str) -> int:
    try:
        return parse_year(text)
    except ValueError as e:
        raise UserError(f"{option}: {e}") from None


def _emit_json(doc: object) -> None:
    sys.stdout.write(json.dumps(doc, indent=2) + "\n")


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    if version:
        sys.stdout.write(f"stpsim {__version__}\n")
        raise typer.Exit(0)


@app.command("footprints")
def footprints_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """List the 44 STP footprints (ONS April 2017) with region, CCGs, councils and acute trusts."""
    from .baseline import baseline

    fps = all_footprints()
    base = baseline(2016)
    pop2016 = dict(zip(base.codes, base.population, strict=True))
    if as_json:
        _emit_json(
            {"footprints": [f.to_dict() | {"population_2016": round(float(pop2016[f.code]))} for f in fps]}
        )
        return
    t = Table(title="England's 44 STP footprints (April 2017)")
    for col in ("code", "name", "region", "CCGs", "councils", "acute trusts", "people mid-2016"):
        t.add_column(
            col, justify="right" if col in ("CCGs", "councils", "acute trusts", "people mid-2016") else "left"
        )
    for f in fps:
        t.add_row(
            f.code,
            f.name,
            f.region,
            str(len(f.ccgs)),
            str(len(f.local_authorities)),
            str(len(f.acute_trusts)),
            f"{pop2016[f.code]:,.0f}",
        )
    out.print(t)


@app.command("assumptions")
def assumptions_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """The assumptions log: every parameter that is not a published figure, with range and why."""
    from . import assumptions

    log = assumptions.load()
    if as_json:
        _emit_json({"assumptions": [a.model_dump(exclude_none=True) for a in log.values()]})
        return
    t = Table(title="Assumptions (not published figures)", show_lines=True)
    for col in ("id", "value", "range", "why"):
        t.add_column(col, overflow="fold")
    for a in log.values():
        rng = a.range or f"{a.low} to {a.high}"
        t.add_row(a.id, f"{a.value} {a.unit}", rng, a.why)
    out.print(t)


@app.command("sources")
def sources_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Where every shipped reference table came from and what was done to it."""
    import yaml

    from .reference import DATA_DIR

    sources = yaml.safe_load((DATA_DIR / "sources.yaml").read_text())
    if as_json:
        _emit_json({"sources": sources})
        return
    t = Table(title="Reference tables and their sources", show_lines=True)
    for col in ("table", "publisher", "title", "period", "licence", "transformation"):
        t.add_column(col, overflow="fold")
    for name, s in sources.items():
        t.add_row(name, s["publisher"], s["title"], str(s["period"]), s["licence"], s["transformation"])
    out.print(t)


_HEADLINE = (
    "gp_consultations",
    "ae_attendances",
    "emergency_admissions",
    "emergency_bed_days",
    "outpatient_followup",
    "home_care_hours",
)


@app.command("baseline")
def baseline_cmd(
    footprint: Annotated[
        list[str] | None,
        typer.Option(
            "--footprint", "-f", help="Footprint code (E54000005..E54000048) or name; repeat for more."
        ),
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="All 44 footprints (the default).")] = False,
    year: Annotated[str, typer.Option("--year", help="Financial year, 2016/17 to 2035/36.")] = "2016/17",
    by: Annotated[str | None, typer.Option("--by", help="Break England down by: age.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Population and expected activity by setting, from demographic change alone."""
    from .baseline import baseline

    if footprint and all_:
        raise UserError("use either --footprint or --all, not both")
    if by is not None and by != "age":
        raise UserError(f"--by {by!r} is not allowed; allowed: age")
    y = _year_option("--year", year)
    try:
        result = baseline(y, codes=footprint or None, by_age=by == "age")
    except UnknownFootprint as e:
        raise UserError(f"--footprint: {e}") from None
    if as_json:
        _emit_json(result.to_dict())
        return
    _print_baseline(result)


def _print_baseline(result) -> None:
    label = year_label(result.year)
    note = "" if result.year == 2016 else " (projected: demographic change only)"
    t = Table(title=f"England {label}{note}: {result.england_population:,.0f} people")
    t.add_column("setting")
    t.add_column("activity", justify="right")
    t.add_column("per 1,000 people", justify="right")
    for k, v in zip(SETTINGS, result.england_activity, strict=True):
        t.add_row(k, f"{v:,.0f}", f"{1000 * v / result.england_population:,.1f}")
    out.print(t)
    if result.england_by_age is not None:
        from .axes import BAND_LABELS

        a = Table(title=f"England {label} by age")
        a.add_column("age")
        a.add_column("people", justify="right")
        idx = [SETTINGS.index(k) for k in _HEADLINE]
        for k in _HEADLINE:
            a.add_column(k, justify="right")
        for band, row in zip(BAND_LABELS, result.england_by_age, strict=True):
            a.add_row(band, f"{row[0]:,.0f}", *(f"{row[1 + i]:,.0f}" for i in idx))
        out.print(a)
    f = Table(title=f"Footprints {label} (all settings: --json)")
    f.add_column("code")
    f.add_column("name", no_wrap=True)
    f.add_column("people", justify="right")
    idx = [SETTINGS.index(k) for k in _HEADLINE]
    for k in _HEADLINE:
        f.add_column(k, justify="right")
    for i, (code, name) in enumerate(zip(result.codes, result.names, strict=True)):
        f.add_row(code, name, f"{result.population[i]:,.0f}", *(f"{result.activity[i, j]:,.0f}" for j in idx))
    out.print(f)


def _load_plan(path: str, draws: int | None, seed: int | None):
    from .plan import load

    plan = load(path)
    update = {}
    for option, value, key, (low, high) in (
        ("--draws", draws, "draws", DRAWS_RANGE),
        ("--seed", seed, "seed", SEED_RANGE),
    ):
        if value is not None:
            problem = _out_of_range(option, value, low, high)
            if problem:
                raise PlanError(path, [problem])
            update[key] = value
    if update:
        plan = plan.model_copy(update={"monte_carlo": plan.monte_carlo.model_copy(update=update)})
    return plan


def _skewed(x: dict) -> bool:
    """The mean lies outside its own 80% interval (beyond rounding noise)."""
    tol = 1e-6 * max(abs(x["p10"]), abs(x["p90"]), 1.0)
    return not (x["p10"] - tol <= x["mean"] <= x["p90"] + tol)


def _fmt_summary(x: dict) -> str:
    """Mean and 80% interval; the median (marked) where skewed draws put the mean outside it."""
    if not _skewed(x):
        return f"{x['mean']:,.0f} ({x['p10']:,.0f} to {x['p90']:,.0f})"
    return f"{x['p50']:,.0f} median ({x['p10']:,.0f} to {x['p90']:,.0f})"


DrawsOpt = Annotated[int | None, typer.Option("--draws", help="Monte Carlo draws (overrides the plan).")]
SeedOpt = Annotated[int | None, typer.Option("--seed", help="Random seed (overrides the plan).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]


@app.command("run")
def run_cmd(
    plan_file: Annotated[str, typer.Argument(metavar="PLAN", help="Plan file (YAML or JSON).")],
    draws: DrawsOpt = None,
    seed: SeedOpt = None,
    out_dir: Annotated[
        str | None, typer.Option("--out", help="Write tables (CSV, Parquet, Excel, JSON) here.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Run a plan: demand by setting and year against doing nothing, with 80% intervals."""
    from pathlib import Path

    from .engine import run

    plan = _load_plan(plan_file, draws, seed)
    if out_dir:
        d = Path(out_dir)
        if d.exists() and not d.is_dir():
            raise UserError(f"--out {out_dir}: exists and is not a folder; give a folder to write into")
        try:
            d.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise UserError(f"--out {out_dir}: cannot create the folder ({e.strerror})") from None
    from .sensitivity import gap_drivers

    results = run(plan)
    doc = results.to_dict() | {"gap_drivers": gap_drivers(plan)}
    if out_dir:
        try:
            results.to_parquet(d)
            results.summary().to_csv(d / "summary.csv", index=False)
            results.to_excel(d / "results.xlsx")
            (d / "results.json").write_text(json.dumps(doc, indent=2))
        except OSError as e:
            raise UserError(f"--out {out_dir}: cannot write results ({e.strerror})") from None
    if as_json:
        _emit_json(doc)
        return
    _print_run(doc)
    if "finance" in doc:
        _print_finance(doc)
    if out_dir:
        out.print(
            f"Wrote summary.csv, summary.parquet, results.parquet, results.xlsx and results.json to {out_dir}"
        )


def _print_run(doc: dict) -> None:
    last = doc["years"][-1]
    t = Table(
        title=f"{doc['plan']}: {', '.join(doc['footprints'])}, {last}, {doc['draws']} draws "
        "(mean and 80% interval)"
    )
    _fill_comparison(t, "setting", doc, "activity", last)
    out.print(t)
    c = Table(title=f"Capacity needed, {last}")
    _fill_comparison(c, "measure", doc, "capacity", last)
    out.print(c)


def _fill_comparison(table: Table, first: str, doc: dict, part: str, year: str) -> None:
    """Rows of do-nothing, plan and their difference for one part of a run's document."""
    for col in (first, "do nothing", "plan", "plan - do nothing"):
        table.add_column(col, justify="left" if col == first else "right")
    for k, by_year in doc[part].items():
        table.add_row(
            k,
            _fmt_summary(doc["do_nothing"][part][k][year]),
            _fmt_summary(by_year[year]),
            _fmt_summary(doc["difference"][part][k][year]),
        )


def _print_finance(doc: dict) -> None:
    last = doc["years"][-1]
    fin = doc["finance"]
    t = Table(title=f"Finance in {last} under {fin['contracts']} contracts, GBP m (mean and 80% interval)")
    for col in ("organisation", "kind", "income", "costs", "surplus"):
        t.add_column(col, justify="left" if col in ("organisation", "kind") else "right")

    def m(x: dict) -> str:
        centre, mark = (x["p50"], " median") if _skewed(x) else (x["mean"], "")
        return f"{centre / 1e6:,.1f}{mark} ({x['p10'] / 1e6:,.1f} to {x['p90'] / 1e6:,.1f})"

    for o in fin["orgs"]:
        t.add_row(o["name"], o["kind"], m(o["income"][last]), m(o["costs"][last]), m(o["surplus"][last]))
    t.add_row("System (all organisations)", "", "", "", m(fin["system"]["surplus"][last]))
    t.add_row("System if nothing changes", "", "", "", m(fin["do_nothing"]["system"]["surplus"][last]))
    out.print(t)
    b = Table(title=f"The gap bridge: from 2016/17 to the shortfall in {last}, GBP m (mean and 80% interval)")
    b.add_column("line")
    b.add_column(last, justify="right")
    for line in doc["gap_bridge"].values():
        b.add_row(line["title"], m(line[last]))
    b.add_row("The plan's gap (shortfall +)", m(fin["system"]["gap"][last]))
    out.print(b)
    if doc.get("gap_drivers"):
        d = Table(
            title=f"What drives the plan's gap in {last}: each assumption at its 10th and 90th percentile"
        )
        for col in ("assumption", "at p10, GBP m", "at p90, GBP m"):
            d.add_column(col, justify="left" if col == "assumption" else "right")
        for r in doc["gap_drivers"][:10]:
            d.add_row(r["title"], f"{r['low'] / 1e6:,.1f}", f"{r['high'] / 1e6:,.1f}")
        out.print(d)
    out.print(f"[dim]{fin['scope']}[/dim]")


@app.command("compare")
def compare_cmd(
    plan_a: Annotated[str, typer.Argument(metavar="A", help="First plan file.")],
    plan_b: Annotated[str, typer.Argument(metavar="B", help="Second plan file.")],
    draws: DrawsOpt = None,
    seed: SeedOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Two plans side by side at their last common year."""
    from .engine import run

    plans, errors = [], []
    for path in (plan_a, plan_b):
        try:
            plans.append(_load_plan(path, draws, seed))
        except PlanError as e:
            errors.extend(f"{e.source}: {line}" for line in e.lines)
    if errors:
        raise UserError("\n".join(errors))
    if not set(range(plans[0].first_year, plans[0].last_year + 1)) & set(
        range(plans[1].first_year, plans[1].last_year + 1)
    ):
        raise UserError("the two plans share no year; give them overlapping start_year..end_year")
    docs = [run(p).to_dict() for p in plans]
    if as_json:
        _emit_json({"plans": docs})
        return
    year = [y for y in docs[0]["years"] if y in docs[1]["years"]][-1]
    t = Table(title=f"{docs[0]['plan']} vs {docs[1]['plan']}, {year} (mean and 80% interval)")
    for col in ("setting", f"A: {docs[0]['plan']}", f"B: {docs[1]['plan']}", "B - A (means)"):
        t.add_column(col, justify="left" if col == "setting" else "right")
    for k in docs[0]["activity"]:
        a, b = docs[0]["activity"][k][year], docs[1]["activity"][k][year]
        t.add_row(k, _fmt_summary(a), _fmt_summary(b), f"{b['mean'] - a['mean']:,.0f}")
    for k in docs[0]["capacity"]:
        a, b = docs[0]["capacity"][k][year], docs[1]["capacity"][k][year]
        t.add_row(f"capacity: {k}", _fmt_summary(a), _fmt_summary(b), f"{b['mean'] - a['mean']:,.0f}")
    out.print(t)


@app.command("incentives")
def incentives_cmd(
    plan_file: Annotated[str, typer.Argument(metavar="PLAN", help="Plan file (YAML or JSON).")],
    contracts: Annotated[
        str | None,
        typer.Option(
            "--contracts",
            help="Payment model(s) to compare, comma-separated: "
            "pbr, block, capitation, risk_share, blended, aligned_payment, declining. Default: the plan's.",
        ),
    ] = None,
    draws: DrawsOpt = None,
    seed: SeedOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Who gains and who loses from each care model, under the plan's contracts or others.

    Each cell is the change in an organisation's surplus in the plan's last year when that care
    model alone is adopted, against doing nothing (GBP m, mean and 80% interval)."""
    from .contract_terms import PRESETS
    from .engine import incentive_matrix

    plan = _load_plan(plan_file, draws, seed)
    models = [m.strip() for m in contracts.split(",")] if contracts else [None]
    bad = [m for m in models if m is not None and m not in PRESETS]
    if bad:
        raise UserError(f"--contracts {','.join(bad)} is not allowed; allowed: {', '.join(PRESETS)}")
    docs = []
    for m in models:
        p = (
            plan
            if m is None
            else plan.model_copy(update={"finance": plan.finance.model_copy(update={"contracts": m})})
        )
        fin = incentive_matrix(p)  # the same books and matrix as `run`
        label = m or (p.finance.contracts if isinstance(p.finance.contracts, str) else "custom")
        docs.append((label, fin))
    if as_json:
        _emit_json(
            {
                "plan": plan.name,
                "year": year_label(plan.last_year),
                "matrices": [
                    {
                        "contracts": label,
                        "incentives": [
                            {"intervention": i, "footprint": c, "org": o, "gain": _summary_dict(g)}
                            for (i, c, o), g in fin.incentives.items()
                        ],
                    }
                    for label, fin in docs
                ],
            }
        )
        return
    for label, fin in docs:
        _print_matrix(plan, label, fin)


def _summary_dict(x) -> dict:
    from .results import STATS, summarise

    s = summarise(x)
    return {k: round(float(s[k]), 2) for k in STATS}


def _print_matrix(plan, label: str, fin) -> None:
    from .results import headline, summarise

    orgs = list(dict.fromkeys((c, o) for (_, c, o) in fin.incentives))
    names = list(dict.fromkeys(i for (i, _, _) in fin.incentives))
    t = Table(
        title=f"{plan.name}: who gains (+) and who loses (-) in {year_label(plan.last_year)} under "
        f"{label} contracts, GBP m (mean, or median where the draws are skewed, and 80% interval)",
        show_lines=True,
    )
    t.add_column("care model")
    for c, o in orgs:
        t.add_column(o if len(plan.footprints) == 1 else f"{c}:{o}", justify="right", overflow="fold")
    for name in names:
        cells = []
        for c, o in orgs:
            g = fin.incentives[(name, c, o)] / 1e6
            s = summarise(g)
            value, which = headline(g)
            mark = "" if which == "mean" else " (median)"
            cells.append(f"{value:+.2f}{mark}\n({s['p10']:+.2f} to {s['p90']:+.2f})")
        t.add_row(name, *cells)
    out.print(t)


@app.command("rollup")
def rollup_cmd(
    plans_dir: Annotated[
        str | None,
        typer.Option("--plans", help="Folder of plan files, one footprint each; do-nothing elsewhere."),
    ] = None,
    draws: Annotated[int, typer.Option("--draws", help="Monte Carlo draws (1 to 100000).")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed shared by every footprint.")] = 0,
    end_year: Annotated[str, typer.Option("--end-year", help="Last year, 2016/17 to 2035/36.")] = "2020/21",
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="Dask scheduler address (or STPSIM_SCHEDULER).")
    ] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", help="Local worker processes (default: cores).")
    ] = None,
    chunk_size: Annotated[
        int | None, typer.Option("--chunk-size", help="Draws per task (default: all).")
    ] = None,
    serial: Annotated[bool, typer.Option("--serial", help="Run in this process (no workers).")] = False,
    as_json: JsonOpt = False,
) -> None:
    """The 45th STP: all 44 footprints together, summed draw by draw, against the national need."""
    import os

    from rich.progress import Progress

    from .executors import ExecutorError
    from .rollup import RollupInputError, load_plans, rollup

    for problem in (
        _out_of_range("--draws", draws, *DRAWS_RANGE),
        _out_of_range("--seed", seed, *SEED_RANGE),
        chunk_size is not None and _out_of_range("--chunk-size", chunk_size, 1),
        workers is not None and _out_of_range("--workers", workers, 1),
    ):
        if problem:
            raise UserError(problem)
    last = _year_option("--end-year", end_year)
    try:
        plans = load_plans(plans_dir) if plans_dir else {}
    except RollupInputError as e:
        raise UserError("\n".join(e.lines)) from None
    address = scheduler or os.environ.get("STPSIM_SCHEDULER")
    executor = "dask" if address else ("serial" if serial else "local")
    n = 44 * draws * (last - 2016 + 1)
    if n * 17 * 8 * 2 > 6 * 2**30:
        raise UserError(f"--draws {draws} with --end-year {end_year} needs more than 6 GiB; use fewer draws")
    with Progress(console=Console(stderr=True), transient=True, disable=as_json) as bar:
        job = bar.add_task("footprints done", total=44)
        try:
            result = rollup(
                plans,
                draws,
                seed,
                last,
                executor,
                workers,
                address,
                chunk_size,
                on_footprint_done=lambda code: bar.advance(job),
            )
        except ExecutorError as e:
            sys.stderr.write(f"stpsim: error: {e}\n")
            raise typer.Exit(1) from None
    doc = result.to_dict()
    if as_json:
        _emit_json(doc)
        return
    _print_rollup(doc)


def _print_rollup(doc: dict) -> None:
    eng = doc["england"]
    req = eng["national_requirement"]

    def bn(x: dict) -> str:
        return f"{x['mean'] / 1e9:,.2f} ({x['p10'] / 1e9:,.2f} to {x['p90'] / 1e9:,.2f})"

    t = Table(
        title=f"England: the 45th STP ({doc['draws']} draws; GBP bn, mean and 80% interval; "
        "gap = shortfall, positive is bad)"
    )
    for col in (
        "year",
        "people",
        "do-nothing gap",
        "plan gap",
        "saved by plans",
        "P(gap closed)",
        "beds needed",
    ):
        t.add_column(col, justify="left" if col == "year" else "right")
    for y in doc["years"]:
        beds = eng["beds"][y]
        t.add_row(
            y,
            f"{eng['population'][y]:,}",
            bn(eng["do_nothing_gap"][y]),
            bn(eng["plan_gap"][y]),
            bn(eng["plans_savings"][y]),
            f"{eng['probability_gap_closed'][y]:.0%}",
            f"{beds['mean']:,.0f} ({beds['p10']:,.0f} to {beds['p90']:,.0f})",
        )
    out.print(t)
    out.print(
        f"Five Year Forward View: GBP {req['efficiency_required_2020_21'] / 1e9:.0f}bn of efficiency needed "
        f"by 2020/21, GBP {req['expected_from_stps'] / 1e9:.0f}bn of it expected from STPs."
    )
    out.print(eng["note"])
    rec = doc["reconciliation"]
    last = doc["years"][-1]
    b = Table(title=f"England's gap, line by line: from 2016/17 to {last} (GBP bn, mean and 80% interval)")
    b.add_column("line")
    b.add_column(last, justify="right")
    for line in rec["do_nothing_bridge"].values():
        b.add_row(line["title"], bn(line[last]))
    b.add_row("England's gap with the plans", bn(eng["plan_gap"][last]))
    out.print(b)
    fyfv = rec["five_year_forward_view"]
    if last in fyfv["nhs_gap_by_year"]:
        scaled = fyfv["published_scaled_to_scope"]["funding_gap_without_efficiency_2020_21"]
        out.print(
            f"The Forward View's arithmetic on the same NHS money gives a gap of GBP "
            f"{fyfv['nhs_gap_by_year'][last] / 1e9:.1f}bn in {last} (NHS only; see --json reconciliation). "
            f"Its published GBP {req['funding_gap_without_efficiency_2020_21'] / 1e9:.0f}bn scaled to this "
            f"scope is GBP {scaled / 1e9:.1f}bn "
            "from 2014/15, not the same measure."
        )
    f = Table(title="Footprints, last year (largest gap per head first; gaps in GBP m, per head in GBP)")
    widths = {
        "code": 9,
        "name": 36,
        "plan": 28,
        "people": 10,
        "do-nothing gap": 14,
        "plan gap": 10,
        "per head": 8,
    }
    for col, width in widths.items():
        f.add_column(
            col,
            justify="left" if col in ("code", "name", "plan") else "right",
            min_width=width if col not in ("name", "plan") else None,
            max_width=width,
            overflow="fold",
            no_wrap=col not in ("name", "plan"),
        )
    rows = sorted(doc["footprints"], key=lambda r: -r["gap_per_head"][last]["mean"])
    for r in rows:
        f.add_row(
            r["code"],
            r["name"],
            r["plan"] or "do nothing",
            f"{r['population']:,}",
            f"{r['do_nothing_gap'][last]['mean'] / 1e6:,.1f}",
            f"{r['gap'][last]['mean'] / 1e6:,.1f}",
            f"{r['gap_per_head'][last]['mean']:,.0f}",
        )
    out.print(f)


@app.command("report")
def report_cmd(
    plan_files: Annotated[
        list[str], typer.Argument(metavar="PLAN [PLAN_B]", help="One plan, or two to compare.")
    ],
    output: Annotated[
        str | None, typer.Option("--output", "-o", help="File to write (default report.html/.xlsx).")
    ] = None,
    audience: Annotated[str, typer.Option("--audience", help="board or public.")] = "board",
    fmt: Annotated[str, typer.Option("--format", help="html or xlsx.")] = "html",
    draws: DrawsOpt = None,
    seed: SeedOpt = None,
    national: Annotated[
        bool, typer.Option("--national", help="Add England-wide context from a roll-up of all 44 footprints.")
    ] = False,
    plans_dir: Annotated[
        str | None, typer.Option("--plans", help="With --national: folder of other footprints' plans.")
    ] = None,
) -> None:
    """The plan's story: one self-contained HTML file (or an analyst's workbook)."""
    from pathlib import Path

    from .engine import run
    from .plan import PlanError
    from .report import FORMATS, write
    from .story import AUDIENCES

    if audience not in AUDIENCES:
        raise UserError(f"--audience {audience!r} is not allowed; allowed: {', '.join(AUDIENCES)}")
    if fmt not in FORMATS:
        raise UserError(f"--format {fmt!r} is not allowed; allowed: {', '.join(FORMATS)}")
    if len(plan_files) > 2:
        raise UserError(f"give one plan, or two to compare; got {len(plan_files)}")
    if fmt == "xlsx" and len(plan_files) == 2:
        raise UserError("--format xlsx takes one plan; write one workbook per plan")
    target = Path(output or f"report.{fmt}")
    if target.is_dir():
        raise UserError(f"--output {target}: is a folder; give a file name such as report.{fmt}")
    if not target.parent.exists():
        raise UserError(f"--output {target}: the folder {target.parent} does not exist")
    plans, errors = [], []
    for path in plan_files:
        try:
            plans.append(_load_plan(path, draws, seed))
        except PlanError as e:
            errors.extend(f"{e.source}: {line}" for line in e.lines)
    if errors:
        raise UserError("\n".join(errors))
    if len(plans) == 2 and plans[0].footprints != plans[1].footprints:
        raise UserError(
            f"the two options cover different footprints ({', '.join(plans[0].footprints)} and "
            f"{', '.join(plans[1].footprints)}); compare options for the same place"
        )
    results = [run(p) for p in plans]
    context = None
    if national:
        from .rollup import RollupInputError, load_plans, rollup

        try:
            others = load_plans(plans_dir) if plans_dir else {}
        except RollupInputError as e:
            raise UserError("\n".join(e.lines)) from None
        for code in plans[0].footprints:  # this plan stands for its own footprints
            others[code] = ("(this plan)", plans[0])
        context = rollup(
            others,
            plans[0].monte_carlo.draws,
            plans[0].monte_carlo.seed,
            plans[0].last_year,
            executor="local",
        )
    try:
        written = write(results[0], target, audience, fmt, results[1] if len(results) == 2 else None, context)
    except OSError as e:
        raise UserError(f"--output {target}: cannot write ({e.strerror})") from None
    out.print(f"Wrote {written} ({written.stat().st_size / 1e6:.1f} MB)")


@app.command("schema")
def schema_cmd() -> None:
    """Print the plan document's JSON Schema."""
    from .plan import schema

    _emit_json(schema())


@app.command("interventions")
def interventions_cmd(as_json: JsonOpt = False) -> None:
    """The care-model library: targets, effects (central and 80% interval), substitution, costs
    and evidence with each effect's derivation."""
    from rich.markup import escape

    from .interventions import effect_lines, library, library_document

    if as_json:
        _emit_json(library_document())
        return
    t = Table(
        title="Care-model library (effects: reduction in targeted people's rate, central and 80% "
        "interval; ADVERSE = an increase at the centre)",
        show_lines=True,
    )
    for col in ("name", "targets", "effects", "creates per unit avoided", "evidence"):
        t.add_column(col, overflow="fold")
    for i in library().values():
        tg = i.target
        who = f"ages {tg.min_age}-{tg.max_age}" + (
            "" if len(tg.segments) == 4 else f", {'/'.join(tg.segments)}"
        )
        eff = "\n".join(effect_lines(i)) or "none"
        sub = (
            "\n".join(
                f"{src} -> {dst}: {iv.low:g}-{iv.high:g}"
                for src, c in i.substitution.items()
                for dst, iv in c.items()
            )
            or "none"
        )
        ev = f"{i.evidence.effect_size} [{i.evidence.strength}] {i.evidence.source}" if i.evidence else ""
        # Escaped: "[moderate]" and "[52]" are text here, not Rich markup.
        t.add_row(*(escape(c) for c in (f"{i.name}\n{i.title}", who, eff, sub, ev)))
    out.print(t)


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app and turn user errors into one line and exit status 2."""
    try:
        app(args=argv, prog_name="stpsim", standalone_mode=False)
    except UserError as e:
        sys.stderr.write("".join(f"stpsim: error: {line}\n" for line in str(e).splitlines()))
        return EXIT_USAGE
    except PlanError as e:
        sys.stderr.write("".join(f"stpsim: error: {e.source}: {line}\n" for line in e.lines))
        return EXIT_USAGE
    except RunTooLarge as e:
        sys.stderr.write(f"stpsim: error: {e}\n")
        return EXIT_USAGE
    except typer.Exit as e:
        return e.exit_code
    except typer.Abort:
        sys.stderr.write("stpsim: aborted\n")
        return 1
    except Exception as e:
        # Usage errors come from the click that typer uses (vendored in recent typer), so they
        # are recognised by click's contract, exit_code 2 with format_message(), not by class.
        if getattr(e, "exit_code", None) == EXIT_USAGE and callable(getattr(e, "format_message", None)):
            msg = e.format_message().rstrip(".")
            sys.stderr.write(f"stpsim: error: {msg}; see 'stpsim --help' and 'stpsim COMMAND --help'\n")
            return EXIT_USAGE
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
