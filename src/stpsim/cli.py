"""The ``stpsim`` command line. A thin shell: parse and validate, call the core, print.

User errors (unknown footprint, year out of range, malformed option) exit with status 2 and one
line on stderr naming the bad value and what is allowed; no traceback.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from .axes import SETTINGS, parse_year, year_label
from .cli_output import (
    EXIT_FAILED,
    EXIT_USAGE,
    RunFailed,
    UserError,
    cell_len,
    console,
    out,
    rich_table,
    rich_text,
)
from .service.catalogue import PlanError, RunTooLarge, UnknownFootprint
from .version import __version__

if TYPE_CHECKING:
    from rich.table import Table
    from rich.text import Text

app = typer.Typer(
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="stpsim: England's 44 STP footprints, their populations and the care they need.",
)
from .service.compute import DRAWS_RANGE, SEED_RANGE  # noqa: E402 - one definition of the ranges


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


def _served(fn, *args):
    """Call the service; its ``Invalid`` (every problem, each naming its field) exits 2."""
    from .service import Invalid

    try:
        return fn(*args)
    except Invalid as e:
        raise UserError("\n".join(e.lines)) from None


def _document(response) -> dict:
    """The response model as the JSON document `--json` prints (the API's schema)."""
    return response.model_dump(mode="json", exclude_none=True)


def _emit_json(doc: object) -> None:
    """Strict JSON: a number that is not finite is refused with its path, never printed as a bare
    NaN that no JSON reader accepts. Indented on a terminal, for reading; one line when piped or
    redirected, for programs (the compact form is written by the json module's C encoder, about
    ten times faster on a run's document than the indented one)."""
    sys.stdout.write(strict_json(doc, indent=2 if sys.stdout.isatty() else None) + "\n")


def _not_finite(x: object, path: str = "") -> str | None:
    """The path of the first number in ``x`` that is NaN or infinite, or None."""
    if isinstance(x, float):
        return None if math.isfinite(x) else (path or "(document)")
    if isinstance(x, dict):
        items = x.items()
    elif isinstance(x, (list, tuple)):
        items = enumerate(x)
    else:
        return None
    for k, v in items:
        found = _not_finite(v, f"{path}.{k}" if path else str(k))
        if found:
            return found
    return None


def strict_json(doc: object, indent: int | None = 2) -> str:
    try:
        return json.dumps(doc, indent=indent, allow_nan=False)
    except ValueError:
        raise RunFailed(
            f"the results hold a number that is not finite at {_not_finite(doc)}: check the plan's "
            "numbers and its local tables (population, unit costs, allocations)"
        ) from None


# Three kinds of column. Codes and single numbers never break; a value with its interval breaks
# only between words; names and prose fold anywhere, so they give way when the console is narrow.
def _whole(t: Table, *headers: str, justify: str = "right") -> None:
    for h in headers:
        t.add_column(h, justify=justify, no_wrap=True)


def _words(t: Table, *headers: str) -> None:
    for h in headers:
        t.add_column(h, justify="right")


def _prose(t: Table, *headers: str) -> None:
    for h in headers:
        t.add_column(h, overflow="fold")


PROSE_MIN = 10  # the narrowest a folding column gets before the table is let out wider


def _plain(cell) -> str:
    return out.render_str(cell).plain if isinstance(cell, str) else getattr(cell, "plain", str(cell))


def _span(column) -> tuple[int, int, int, int]:
    """Widths a column can give way to, in the order it gives way: natural; with its header
    broken between words (or after underscores); with its cells wrapped between words too (names
    fold to PROSE_MIN); and the narrowest that cuts no code or number (headers fold anywhere)."""
    lines = [ln for cell in column.cells for ln in _plain(cell).splitlines()]
    header = _unbroken(_plain(column.header))
    natural = max(cell_len(header), *map(cell_len, lines or [""]))
    if column.overflow == "fold":
        floor = min(PROSE_MIN, natural)
        return natural, natural, floor, floor
    cells = lines if column.no_wrap else [w for ln in lines for w in ln.split()]
    floor = max(map(cell_len, cells), default=1)
    words = max(floor, *map(cell_len, re.split(r"\s+|(?<=_)", header)))
    return natural, max(words, *map(cell_len, lines or [""])), words, floor


def _shrink(widths: list[int], floors: list[int], room: int) -> list[int]:
    """Narrow the widest column that can still give way, a character at a time, until the
    columns fit ``room`` or none can give way."""
    widths = list(widths)
    while sum(widths) > room:
        able = [i for i, (w, f) in enumerate(zip(widths, floors, strict=True)) if w > f]
        if not able:
            break
        widths[max(able, key=lambda i: widths[i])] -= 1
    return widths


def _unbroken(header: str) -> str:
    """A header as written, joined up again where it was broken before (a split table's
    columns are copies of the whole table's, headers already broken to its widths)."""
    return re.sub(r"\s*\n\s*", " ", header.replace("_\n", "_"))


def _header(text: str, width: int) -> Text:
    """A header broken between words (or after underscores: an identifier is one word to Rich)
    to fit its column. A header is a label: it may fold, even over a column of numbers that may
    not."""
    text = _unbroken(text)
    lines = [""]
    for part in re.split(r"(?<=[_ ])", text):
        if lines[-1] and cell_len(lines[-1] + part.rstrip()) > width:
            lines[-1] = lines[-1].rstrip()
            lines.append(part)
        else:
            lines[-1] += part
    return rich_text("\n".join(ln.rstrip() for ln in lines), overflow="fold", no_wrap=False)


def _show(table: Table, split: bool = True) -> None:
    """Print a table sized to the console without cutting a code or a number. Rich would cut
    any column, numbers too, to fit; here headers break first, then names and intervals wrap,
    and a table that still does not fit is printed wider (the terminal wraps its lines, nothing
    is lost)."""
    frame = 3 * len(table.columns) + 1  # the borders, and a space either side of each cell
    natural, *stages, hard = zip(*(_span(c) for c in table.columns), strict=True)
    room = out.width - frame
    widths = list(natural)
    for floors in stages:
        widths = _shrink(widths, list(floors), room)
    if sum(widths) > room and sum(hard) <= room:  # headers break mid-word only if then it fits
        widths = _shrink(widths, list(hard), room)
    for column, width in zip(table.columns, widths, strict=True):
        column.width = max(width, 1)
        column.header = _header(_plain(column.header), column.width)
    needed = sum(widths) + frame
    if split and needed > out.width and len(table.columns) > 2:
        for part in _split(table, widths):
            _show(part, split=False)  # printed as it is: never split again
        return
    (out if needed <= out.width else console(width=needed, file=out.file, markup=False)).print(table)


def _split(table: Table, widths: list[int]) -> list[Table]:
    """A table too wide for the terminal as several, each with the first (label) column and as
    many of the others as fit: every number whole, nothing wrapped by the terminal."""
    room = out.width - 4 - widths[0]
    groups: list[list[int]] = [[]]
    used = 0
    for j in range(1, len(table.columns)):
        w = widths[j] + 3
        if groups[-1] and used + w > room:
            groups.append([])
            used = 0
        groups[-1].append(j)
        used += w
    if len(groups) == 1:
        return [table]
    cells = [list(c.cells) for c in table.columns]
    parts = []
    for k, group in enumerate(groups, start=1):
        title = f"{_plain(table.title or '')} (part {k} of {len(groups)})".strip()
        part = rich_table(title=title, show_lines=table.show_lines)
        for j in (0, *group):
            c = table.columns[j]
            part.add_column(_plain(c.header), justify=c.justify, overflow=c.overflow, no_wrap=c.no_wrap)
        for row in zip(*(cells[j] for j in (0, *group)), strict=True):
            part.add_row(*row)
        parts.append(part)
    return parts


def _print_version(value: bool) -> None:
    if value:
        sys.stdout.write(f"stpsim {__version__}\n")
        raise typer.Exit(0)


@app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    version: Annotated[
        bool,
        # Eager, so it answers before click asks for the missing command.
        typer.Option("--version", is_eager=True, callback=_print_version, help="Print the version and exit."),
    ] = False,
    tables: Annotated[
        str | None,
        typer.Option(
            "--tables",
            help="A folder of national tables (NAME.csv, the shipped schema) read in place of the "
            "shipped ones; also STPSIM_TABLES.",
        ),
    ] = None,
) -> None:
    if tables is not None:
        from .service.catalogue import ReferenceDataError, use_tables

        try:
            use_tables(tables)
        except ReferenceDataError as e:
            raise UserError(str(e)) from None
    if ctx.invoked_subcommand is None:  # `stpsim` alone asks what it can do: that is not an error
        sys.stdout.write(ctx.get_help() + "\n")
        raise typer.Exit(0)


@app.command("footprints")
def footprints_cmd(
    geography_: Annotated[
        str, typer.Option("--geography", help="stp2017 (the 44 STPs, default) or icb2022 (the 42 ICBs).")
    ] = "stp2017",
    members_: Annotated[
        str | None,
        typer.Option(
            "--members",
            help="List the members footprints can be drawn from instead: ccgs, sub_icb_locations or "
            "local_authorities.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """List a geography's footprints with region, CCGs, councils and acute trusts, or the members
    (CCGs, sub-ICB locations, councils) a plan can draw its own footprint from."""
    from .service.catalogue import geography, projection_of

    if members_ is not None:
        if members_ not in geography.MEMBER_KINDS:
            raise UserError(
                f"--members {members_!r} is not allowed; allowed: {', '.join(geography.MEMBER_KINDS)}"
            )
        rows = geography.members(members_)
        if as_json:
            _emit_json({"members": members_, "items": rows})
            return
        t = rich_table(title=f"What a footprint can be drawn from: {members_.replace('_', ' ')}")
        _whole(t, "code", "ODS code", justify="left")
        _prose(t, "name", "vintage", "2017 footprint")
        for r in rows:
            t.add_row(r["code"], r["ods_code"] or "", r["name"], r["vintage"][:-2], ", ".join(r["stp2017"]))
        _show(t)
        return
    if geography_ not in geography.PRESETS:
        raise UserError(f"--geography {geography_!r} is not allowed; allowed: {', '.join(geography.PRESETS)}")
    fps = geography.preset(geography_)
    pop2016 = projection_of(fps).population[0].sum(axis=(1, 2, 3))
    if as_json:
        _emit_json(
            {
                "geography": geography_,
                "footprints": [
                    f.to_dict() | {"population_2016": round(float(p))}
                    for f, p in zip(fps, pop2016, strict=True)
                ],
            }
        )
        return
    t = rich_table(title=f"England's {len(fps)} footprints: {geography.PRESETS[geography_]}")
    _whole(t, "code", justify="left")
    _prose(t, "name", "region")
    _whole(t, "CCGs", "councils", "acute trusts", "people mid-2016")
    for f, p in zip(fps, pop2016, strict=True):
        t.add_row(
            f.code,
            f.name,
            f.region,
            str(len(f.ccgs)),
            str(len(f.local_authorities)),
            str(len(f.acute_trusts)),
            f"{_num(p)}",
        )
    _show(t)


@app.command("assumptions")
def assumptions_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """The assumptions log: every parameter that is not a published figure, with range and why."""
    from .service.catalogue import assumptions

    log = assumptions.load()
    if as_json:
        _emit_json({"assumptions": [a.model_dump(exclude_none=True) for a in log.values()]})
        return
    t = rich_table(title="Assumptions (not published figures)", show_lines=True)
    _prose(t, "id")
    for col in ("value", "range"):
        t.add_column(col)  # numbers with their units: lines break between words only
    _prose(t, "why")
    for a in log.values():
        rng = a.range or f"{a.low} to {a.high}"
        t.add_row(a.id, f"{a.value} {a.unit}", rng, a.why)
    _show(t)


@app.command("parameters")
def parameters_cmd(
    plan_file: Annotated[str, typer.Argument(metavar="PLAN", help="Plan file (YAML or JSON).")],
    as_json: JsonOpt = False,
) -> None:
    """Every parameter a run of PLAN draws, declared once: its range and where it comes from."""
    from .service.compute import parameter_list

    rows = parameter_list(_load_plan(plan_file, None, None))
    if as_json:
        _emit_json({"parameters": rows})
        return
    t = rich_table(title=f"The run's parameters ({len(rows)}): central value and 80% interval")
    _prose(t, "id", "title")
    _words(t, "value", "80% interval")
    _prose(t, "unit", "source")
    for r in rows:
        iv = r["interval"]
        t.add_row(
            r["id"],
            r["title"],
            f"{r['value']:.4g}",
            "fixed" if iv is None else f"{iv['low']:.4g} to {iv['high']:.4g}",
            r["unit"],
            r["source"],
        )
    _show(t)


@app.command("rules")
def rules_cmd(
    year: Annotated[
        str | None,
        typer.Option("--year", help="One financial year (2016/17 to 2035/36); default all to 2023/24."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """The national payment rules in force each year (the rule book), each with its source."""
    from .service.catalogue import rules_document

    years = [_year_option("--year", year)] if year else list(range(2016, 2024))
    doc = rules_document(years)
    if as_json:
        _emit_json({"rules": doc})
        return
    t = rich_table(title="The national payment rules in force (the rule book)", show_lines=True)
    _whole(t, "year", justify="left")
    _prose(t, "regime", "rates", "sources")

    def pct(x: float) -> str:
        return f"{100 * x:g}%"

    for r in doc:
        rates = [
            f"MRET {pct(r['mret_rate'])} above baseline" if r["mret_rate"] < 1 else "no MRET",
            "readmission rule" if r["readmission_rule"] else "no readmission rule",
            f"CQUIN {pct(r['cquin_rate'])}" if r["cquin_rate"] else "CQUIN suspended",
        ]
        if r["cquin_in_prices"]:
            rates.append(f"{pct(r['cquin_in_prices'])} of CQUIN in prices")
        if r["cquin_in_block"]:
            rates.append(f"{pct(r['cquin_in_block'])} CQUIN allowance in the blocks")
        if r["regime"] == "blended":
            rates.append(f"{pct(r['blended_variable_rate'])} of price on the variance")
        if r["regime"] == "aligned_payment":
            rates.append(
                f"elective: {pct(r['aligned_up_rate'])} above plan, {pct(r['aligned_down_rate'])} back below"
            )
        sources = "\n".join(f"{k}: {v}" for k, v in r["sources"].items())
        t.add_row(r["year"], r["label"], "; ".join(rates), sources)
    _show(t)


@app.command("sources")
def sources_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Where every shipped reference table came from and what was done to it."""

    from .service.catalogue import shipped_sources

    sources = shipped_sources()
    if as_json:
        _emit_json({"sources": sources})
        return
    t = rich_table(title="Reference tables and their sources", show_lines=True)
    _prose(t, "table", "publisher", "title")
    t.add_column("period")  # dates break between words only
    _prose(t, "licence", "transformation")
    for name, s in sources.items():
        t.add_row(name, s["publisher"], s["title"], str(s["period"]), s["licence"], s["transformation"])
    _show(t)


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
    from .service.catalogue import baseline

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
        from .service.responses import BaselineResponse

        _emit_json(_document(BaselineResponse.model_validate(result.to_dict())))
        return
    _print_baseline(result)


def _print_baseline(result) -> None:
    from .service.catalogue import human_name

    label = year_label(result.year)
    note = "" if result.year == 2016 else " (projected: demographic change only)"
    t = rich_table(title=f"England {label}{note}: {_num(result.england_population)} people")
    _prose(t, "setting")
    _whole(t, "activity", "per 1,000 people")
    for k, v in zip(SETTINGS, result.england_activity, strict=True):
        t.add_row(human_name(k), f"{_num(v)}", f"{_num(1000 * v / result.england_population, 1)}")
    _show(t)
    if result.england_by_age is not None:
        from .axes import BAND_LABELS

        a = rich_table(title=f"England {label} by age")
        _whole(a, "age", justify="left")
        _whole(a, "people", *map(human_name, _HEADLINE))
        idx = [SETTINGS.index(k) for k in _HEADLINE]
        for band, row in zip(BAND_LABELS, result.england_by_age, strict=True):
            a.add_row(band, f"{_num(row[0])}", *(f"{_num(row[1 + i])}" for i in idx))
        _show(a)
    f = rich_table(title=f"Footprints {label} (all settings: --json)")
    _whole(f, "code", justify="left")
    _prose(f, "name")
    _whole(f, "people", *map(human_name, _HEADLINE))
    idx = [SETTINGS.index(k) for k in _HEADLINE]
    for i, (code, name) in enumerate(zip(result.codes, result.names, strict=True)):
        f.add_row(
            code, name, f"{_num(result.population[i])}", *(f"{_num(result.activity[i, j])}" for j in idx)
        )
    _show(f)


def _load_plan(path: str, draws: int | None, seed: int | None):
    from .service import Invalid
    from .service.catalogue import load_plan as load
    from .service.compute import with_overrides

    try:
        return with_overrides(load(path), draws, seed, names=("--draws", "--seed"))
    except Invalid as e:
        raise PlanError(path, e.lines) from None


def _load_plans(paths: list[str], draws: int | None, seed: int | None) -> list:
    """Each plan file, every problem in all of them reported at once (exit 2)."""
    plans, errors = [], []
    for path in paths:
        try:
            plans.append(_load_plan(path, draws, seed))
        except PlanError as e:
            errors.extend(f"{e.source}: {line}" for line in e.lines)
    if errors:
        raise UserError("\n".join(errors))
    return plans


def _fmt_money_summary(x: dict) -> str:
    """GBP m: mean and 80% interval, one decimal."""
    mean, p10, p90 = (round(x[k], 1) + 0.0 for k in ("mean", "p10", "p90"))  # no "-0.0"
    return f"{_num(mean, 1)} ({_num(p10, 1)} to {_num(p90, 1)})"


def _num(x: float, digits: int = 0) -> str:
    """A number as the tables print it, with thousands separated; a value that rounds to zero is
    0, never -0."""
    text = f"{x:,.{digits}f}"
    return text[1:] if text.startswith("-") and not text.strip("-0.,") else text


def _skewed(x: dict) -> bool:
    """The mean lies outside its own 80% interval (beyond rounding noise)."""
    tol = 1e-6 * max(abs(x["p10"]), abs(x["p90"]), 1.0)
    return not (x["p10"] - tol <= x["mean"] <= x["p90"] + tol)


def _fmt_summary(x: dict) -> str:
    """Mean and 80% interval; the median (marked) where skewed draws put the mean outside it."""
    if not _skewed(x):
        return f"{_num(x['mean'])} ({_num(x['p10'])} to {_num(x['p90'])})"
    return f"{_num(x['p50'])} median ({_num(x['p10'])} to {_num(x['p90'])})"


DrawsOpt = Annotated[int | None, typer.Option("--draws", help="Monte Carlo draws (overrides the plan).")]
SeedOpt = Annotated[int | None, typer.Option("--seed", help="Random seed (overrides the plan).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
ForceOpt = Annotated[bool, typer.Option("--force", help="Overwrite files that already exist.")]


@app.command("run")
def run_cmd(
    plan_file: Annotated[str, typer.Argument(metavar="PLAN", help="Plan file (YAML or JSON).")],
    draws: DrawsOpt = None,
    seed: SeedOpt = None,
    out_dir: Annotated[
        str | None, typer.Option("--out", help="Write tables (CSV, Parquet, Excel, JSON) here.")
    ] = None,
    force: ForceOpt = False,
    save: Annotated[
        str | None,
        typer.Option("--save", help="Save the run record to this file, for 'show' and 'report --result'."),
    ] = None,
    calibrated: Annotated[
        bool,
        typer.Option("--calibrated", help="Reweight the draws by England's track record (see 'backtest')."),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Run a plan: demand by setting and year against doing nothing, with 80% intervals."""
    from .service.compute import run_plan
    from .service.track_record import calibrated as calibrate

    plan = _load_plan(plan_file, draws, seed)
    if calibrated:
        plan = _served(calibrate, plan)
    created = _out_folder(out_dir, force) if out_dir else False  # checked before the long run
    if save:
        _check_new_file("--save", Path(save), force)
    record = _served(run_plan, plan)
    if save:
        try:
            with _writing("--save", save, force):
                record.save(save)
        except OSError as e:
            raise UserError(f"--save {save}: cannot write ({e.strerror or e})") from None
    if out_dir:
        with _writing("--out", out_dir, force):
            _write_run(record.results, record.document, out_dir, created)
    _print_record(record.document, as_json)
    if out_dir:
        out.print(
            f"Wrote summary.csv, summary.parquet, results.parquet, results.xlsx and results.json to {out_dir}"
        )
    if save:
        out.print(f"Saved the run record to {save}")


def _print_record(doc: dict, as_json: bool) -> None:
    """What `run` prints of a run's document; `show` prints a saved record the same way."""
    if as_json:
        _emit_json(doc)
        return
    _print_run(doc)
    if "finance" in doc:
        _print_finance(doc)
    _print_service_change(doc)
    _print_local(doc)


def _check_new_file(option: str, target: Path, force: bool, example: str = "run.stpsim") -> None:
    """A file an option will write: not a folder nor a device, never overwritten without
    --force; its folder is made if missing (as --out's is)."""
    if target.is_dir():
        raise UserError(f"{option} {target}: is a folder; give a file name such as {example}")
    if (target.exists() or target.is_symlink()) and not target.is_file():
        raise UserError(f"{option} {target}: is not a regular file (a device or a pipe); give a file name")
    if target.exists() and not force:
        raise UserError(f"{option} {target}: the file already exists; give --force to overwrite it")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(
            f"{option} {target}: cannot create the folder {target.parent} ({e.strerror})"
        ) from None


@contextlib.contextmanager
def _writing(option: str, target, force: bool):
    """Files written inside are created exclusively unless --force, so two runs writing one new
    file never both succeed; a refusal is one line."""
    from .service.catalogue import NotARegularFile, overwriting

    try:
        with overwriting(force):
            yield
    except FileExistsError:
        raise UserError(
            f"{option} {target}: the file was created meanwhile (by another run?); "
            "give --force to overwrite it"
        ) from None
    except NotARegularFile as e:
        raise UserError(f"{option} {e}") from None


def _load_record(path: str):
    from .service.catalogue import RecordError, RunRecord

    try:
        return RunRecord.load(path)
    except RecordError as e:
        raise UserError(str(e)) from None


@app.command("show")
def show_cmd(
    record_file: Annotated[str, typer.Argument(metavar="FILE", help="A run record saved by 'run --save'.")],
    as_json: JsonOpt = False,
) -> None:
    """Print a saved run record exactly as 'run' printed it, without running anything."""
    _print_record(_load_record(record_file).document, as_json)


RUN_OUTPUTS = ("summary.csv", "summary.parquet", "results.parquet", "results.xlsx", "results.json")


def _out_folder(out_dir: str, force: bool) -> bool:
    """Make the --out folder, refusing to overwrite earlier results unless --force. True if the
    folder is new (so a failed write can take it away again)."""
    d = Path(out_dir)
    if d.exists() and not d.is_dir():
        raise UserError(f"--out {out_dir}: exists and is not a folder; give a folder to write into")
    odd = [name for name in RUN_OUTPUTS if (d / name).exists() and not (d / name).is_file()]
    if odd:
        raise UserError(f"--out {out_dir}: {odd[0]} there is not a regular file; give another folder")
    existing = [name for name in RUN_OUTPUTS if (d / name).exists()]
    if existing and not force:
        raise UserError(
            f"--out {out_dir}: {', '.join(existing)} already there; "
            "give --force to overwrite, or another folder"
        )
    created = not d.exists()
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(f"--out {out_dir}: cannot create the folder ({e.strerror})") from None
    return created


def _write_run(results, doc: dict, out_dir: str, created: bool) -> None:
    """Every table or none: each is written beside its target and all are renamed in at the end,
    so a failure leaves neither a partial file nor a mix of old and new results."""
    from .service.catalogue import atomic_files

    d = Path(out_dir)
    summary = results.summary()
    writers = {
        "summary.csv": lambda p: summary.to_csv(p, index=False),
        "summary.parquet": lambda p: summary.to_parquet(p, index=False),
        "results.parquet": lambda p: results.to_frame().to_parquet(p, index=False),
        "results.xlsx": results.to_excel,
        "results.json": lambda p: p.write_text(strict_json(doc), encoding="utf-8"),
    }
    try:
        with atomic_files([d / name for name in RUN_OUTPUTS]) as tmps:
            for name, tmp in zip(RUN_OUTPUTS, tmps, strict=True):
                writers[name](tmp)
    except OSError as e:
        if created and not any(d.iterdir()):
            d.rmdir()
        raise UserError(f"--out {out_dir}: cannot write results ({e.strerror or e})") from None


def _print_service_change(doc: dict) -> None:
    """The beds test, the consultation flags and the four tests, when the plan states changes."""
    sc = doc.get("service_change") or {}
    if sc.get("beds_test"):
        t = rich_table(
            title="The beds test (NHS England, from April 2017): conditions a, b, c and the chance of a "
            "shortfall"
        )
        _prose(t, "trust", "year")
        _whole(t, "beds")
        _prose(t, "a: capacity", "b: treatments", "c: efficiency", "passes")
        _whole(t, "P(shortfall), last year")
        for b in sc["beds_test"]:
            c = b["conditions"]
            mark = {True: "yes", False: "no", None: "-"}
            last = list(b["probability_shortfall"])[-1]
            t.add_row(
                b["trust_name"],
                b["year"],
                f"{b['change']:+,}",
                *[
                    mark[c[k]["holds"]] if k in c else "-"
                    for k in ("a_alternative_provision", "b_new_treatments", "c_bed_efficiency")
                ],
                mark[b["passes"]],
                f"{b['probability_shortfall'][last]:.0%}",
            )
        _show(t)
    if sc.get("consultation"):
        t = rich_table(
            title="Likely substantial variations: formal consultation with councils' health scrutiny"
        )
        _prose(t, "proposal", "year", "why", "consult")
        for f in sc["consultation"]:
            councils = ", ".join(c["name"] for c in f["consult"]) + (
                " (joint committee)" if f["joint_committee"] else ""
            )
            t.add_row(f["what"], f["year"], "; ".join(f["why"]), councils)
        _show(t)
    if sc.get("beds_test") or sc.get("consultation"):
        tests = sc.get("four_tests", {})
        out.print(
            "The four tests: " + "; ".join(f"{v['title']}: {v['status']}" for v in tests.values()) + "."
        )


def _print_local(doc: dict) -> None:
    """Which figures are the team's own: printed with every run that uses local tables."""
    if not doc.get("local_data"):
        return
    t = rich_table(title="Local figures used in place of the national defaults")
    _prose(t, "footprint", "table", "file")
    _whole(t, "rows")
    _prose(t, "sha256")
    for u in doc["local_data"]:
        t.add_row(u["footprint"], u["table"], u["source"], f"{u['rows']:,}", u["sha256"][:16] + "...")
    _show(t)


def _print_run(doc: dict) -> None:
    last = doc["years"][-1]
    t = rich_table(
        title=f"{doc['plan']}: {', '.join(doc['footprints'])}, {last}, {doc['draws']} draws "
        "(mean and 80% interval)"
    )
    _fill_comparison(t, "setting", doc, "activity", last)
    _show(t)
    c = rich_table(title=f"Capacity needed, {last}")
    _fill_comparison(c, "measure", doc, "capacity", last)
    _show(c)
    if "calibration" in doc:
        out.print(doc["calibration"]["text"] + ".")


def _fill_comparison(table: Table, first: str, doc: dict, part: str, year: str) -> None:
    """Rows of do-nothing, plan and their difference for one part of a run's document."""
    from .service.catalogue import human_name

    _prose(table, first)
    _words(table, "do nothing", "plan", "plan - do nothing")
    for k, by_year in doc[part].items():
        table.add_row(
            human_name(k),
            _fmt_summary(doc["do_nothing"][part][k][year]),
            _fmt_summary(by_year[year]),
            _fmt_summary(doc["difference"][part][k][year]),
        )


def _position(gap: dict) -> str:
    """A gap's mean in words with the right sign: a shortfall, a surplus, or about balance."""
    x = gap["mean"] / 1e6
    if round(abs(x), 1) == 0:
        return "about balance"
    return f"a {'shortfall' if x > 0 else 'surplus'} of GBP {_num(abs(x), 1)}m"


def _print_finance(doc: dict) -> None:
    last = doc["years"][-1]
    fin = doc["finance"]
    t = rich_table(
        title=f"Finance in {last} under {fin['contracts']} contracts, GBP m (mean and 80% interval)"
    )
    _prose(t, "organisation", "kind")
    _words(t, "income", "costs", "surplus")

    def m(x: dict) -> str:
        centre, mark = (x["p50"], " median") if _skewed(x) else (x["mean"], "")
        return f"{_num(centre / 1e6, 1)}{mark} ({_num(x['p10'] / 1e6, 1)} to {_num(x['p90'] / 1e6, 1)})"

    for o in fin["orgs"]:
        t.add_row(o["name"], o["kind"], m(o["income"][last]), m(o["costs"][last]), m(o["surplus"][last]))
    t.add_row("System (all organisations)", "", "", "", m(fin["system"]["surplus"][last]))
    t.add_row("System if nothing changes", "", "", "", m(fin["do_nothing"]["system"]["surplus"][last]))
    _show(t)
    b = rich_table(
        title=f"The gap bridge: from 2016/17 to the shortfall in {last}, GBP m (mean and 80% interval)"
    )
    _prose(b, "line")
    _words(b, last)
    for line in doc["gap_bridge"].values():
        b.add_row(line["title"], m(line[last]))
    b.add_row("The plan's gap (shortfall +)", m(fin["system"]["gap"][last]))
    _show(b)
    out.print(
        f"In {last}, if nothing changes: {_position(fin['do_nothing']['system']['gap'][last])}; "
        f"with the plan: {_position(fin['system']['gap'][last])} (means)."
    )
    if doc.get("gap_drivers"):
        d = rich_table(
            title=f"What drives the plan's gap in {last}: each assumption at its 10th and 90th percentile"
        )
        _prose(d, "assumption")
        _whole(d, "at p10, GBP m", "at p90, GBP m")
        for r in doc["gap_drivers"][:10]:
            d.add_row(r["title"], f"{_num(r['low'] / 1e6, 1)}", f"{_num(r['high'] / 1e6, 1)}")
        _show(d)
    out.print(fin["scope"], style="dim")


@app.command("compare")
def compare_cmd(
    plan_a: Annotated[str, typer.Argument(metavar="A", help="First plan file.")],
    plan_b: Annotated[str, typer.Argument(metavar="B", help="Second plan file.")],
    draws: DrawsOpt = None,
    seed: SeedOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Two plans side by side at their last common year."""
    from .service.compute import compare

    plans = _load_plans([plan_a, plan_b], draws, seed)
    response = _document(_served(compare, plans[0], plans[1]))
    if as_json:
        _emit_json(response)
        return
    docs = response["plans"]
    year = [y for y in docs[0]["years"] if y in docs[1]["years"]][-1]
    m = rich_table(
        title=f"The money: {docs[0]['plan']} vs {docs[1]['plan']}, {year}, GBP m (mean and 80% interval)"
    )
    _prose(m, "measure")
    _words(m, f"A: {docs[0]['plan']}", f"B: {docs[1]['plan']}")
    _whole(m, "B - A (means)")
    money_rows = (
        ("do-nothing gap", lambda d: d["finance"]["do_nothing"]["system"]["gap"]),
        ("plan gap", lambda d: d["finance"]["system"]["gap"]),
        ("provider efficiency (saving)", lambda d: d["finance"]["provider_efficiency"]),
        ("care models, net saving", lambda d: d["finance"]["care_models_net_saving"]),
    )
    for label, get in money_rows:
        a, b = ({k: v / 1e6 for k, v in get(d)[year].items()} for d in docs)
        m.add_row(label, _fmt_money_summary(a), _fmt_money_summary(b), f"{b['mean'] - a['mean']:+,.1f}")
    _show(m)
    t = rich_table(title=f"{docs[0]['plan']} vs {docs[1]['plan']}, {year} (mean and 80% interval)")
    _prose(t, "setting")
    _words(t, f"A: {docs[0]['plan']}", f"B: {docs[1]['plan']}")
    _whole(t, "B - A (means)")
    for k in docs[0]["activity"]:
        a, b = docs[0]["activity"][k][year], docs[1]["activity"][k][year]
        t.add_row(k, _fmt_summary(a), _fmt_summary(b), f"{_num(b['mean'] - a['mean'])}")
    for k in docs[0]["capacity"]:
        a, b = docs[0]["capacity"][k][year], docs[1]["capacity"][k][year]
        t.add_row(f"capacity: {k}", _fmt_summary(a), _fmt_summary(b), f"{_num(b['mean'] - a['mean'])}")
    _show(t)


@app.command("shoe-size")
def shoe_size_cmd(
    plan_file: Annotated[
        str, typer.Argument(metavar="PLAN", help="Plan file (YAML or JSON), one footprint.")
    ],
    split: Annotated[
        str, typer.Option("--split", help="Cut the footprint by: ccg, sub_icb or local_authority.")
    ] = "ccg",
    draws: DrawsOpt = None,
    seed: SeedOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Run a plan for its whole footprint and for each part (CCGs, sub-ICB locations or councils):
    what the size changes, per head in the last year: the gap, how sure we are of it (the width
    of its 80% interval), money leaving the area, and who gains and who loses."""
    from .service.shoe_size import shoe_size

    plan = _load_plan(plan_file, draws, seed)
    doc = _served(shoe_size, plan, split)
    if as_json:
        _emit_json(_document(doc))
        return
    t = rich_table(
        title=f"{doc.plan}: the whole footprint and its parts by {split.replace('_', ' ')}, {doc.year}, "
        "GBP a head (gap: mean and 80% interval)"
    )
    _prose(t, "area")
    _whole(t, "people", "do-nothing gap", "plan gap", "width of the interval", "out of area", "shared trusts")
    rows = [doc.whole, *doc.parts, doc.parts_summed]
    for a in rows:
        g = a.gap_per_head
        t.add_row(
            a.name,
            f"{_num(a.population)}",
            f"{_num(a.do_nothing_gap_per_head)}",
            f"{_num(g.mean)} ({_num(g.p10)} to {_num(g.p90)})",
            f"{_num(a.interval_width_per_head)}",
            f"{_num(a.out_of_area_per_head)}",
            f"{_num(a.shared_trusts_per_head)}",
        )
    _show(t)
    m = rich_table(
        title=f"Who gains (+) and who loses (-) from each care model in {doc.year}, GBP m (mean): the "
        "whole footprint's organisations against the parts' added up"
    )
    kinds = ("commissioner", "acute", "community", "primary_care", "social_care")
    _prose(m, "care model")
    _whole(m, *[f"{k.replace('_', ' ')}: whole / parts" for k in kinds])
    for cm, cells in doc.whole.incentives_by_kind.items():
        parts = doc.parts_summed.incentives_by_kind.get(cm, {})
        m.add_row(
            cm.replace("_", " "),
            *[f"{cells.get(k, 0.0) / 1e6:+.2f} / {parts.get(k, 0.0) / 1e6:+.2f}" for k in kinds],
        )
    if m.row_count:
        _show(m)
    out.print(doc.note)


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
    from .service.compute import incentives

    plan = _load_plan(plan_file, draws, seed)
    models = [m.strip() for m in contracts.split(",")] if contracts else [None]
    response, books = _served(incentives, plan, models)
    if as_json:
        _emit_json(_document(response))
        return
    docs = [(m.contracts, fin) for m, fin in zip(response.matrices, books, strict=True)]
    for label, fin in docs:
        _print_matrix(plan, label, fin)


def _summary_dict(x) -> dict:
    from .summaries import STATS, summarise

    s = summarise(x)
    return {k: round(float(s[k]), 2) for k in STATS}


def _print_matrix(plan, label: str, fin) -> None:
    from .summaries import headline, summarise

    orgs = list(dict.fromkeys((c, o) for (_, c, o) in fin.incentives))
    names = list(dict.fromkeys(i for (i, _, _) in fin.incentives))
    places = ", ".join(f.name for f in plan.places)
    t = rich_table(
        title=f"{plan.name}{'' if places in plan.name else f' ({places})'}: who gains (+) and who loses (-) "
        f"in {year_label(plan.last_year)} under {label} contracts, GBP m (mean, or median where the "
        "draws are skewed, and 80% interval)",
        show_lines=True,
    )
    _prose(t, "care model")
    _words(t, *_org_headers(plan, fin, orgs))
    for name in names:
        cells = []
        for c, o in orgs:
            g = fin.incentives[(name, c, o)] / 1e6
            s = summarise(g)
            value, which = headline(g)
            mark = "" if which == "mean" else " (median)"
            cells.append(f"{value:+.2f}{mark}\n({s['p10']:+.2f} to {s['p90']:+.2f})")
        t.add_row(name, *cells)
    _show(t)


def _org_headers(plan, fin, orgs: list[tuple[str, str]]) -> list[str]:
    """Organisations' names for column headers: people read names, and ids such as acute:RBV
    stay in --json. With one footprint the title names the place, so headers leave it out;
    with several, each header says its footprint's code."""

    name_of = {(b.code, org.id): org.name for b in fin.footprints for org in b.orgs}
    if len(plan.places) > 1:
        return [f"{name_of.get((c, o), o)} ({c})" for c, o in orgs]
    place = plan.places[0].name
    heads = []
    for c, o in orgs:
        short = name_of.get((c, o), o).replace(f" for {place}'s residents", "").removeprefix(f"{place} ")
        heads.append(short[:1].upper() + short[1:])
    return heads


@app.command("optimise")
def optimise_cmd(
    plan_file: Annotated[
        str | None,
        typer.Argument(
            metavar="PLAN",
            help="Plan file with an optimise: section; with --national, a folder of plans (optional).",
        ),
    ] = None,
    national: Annotated[
        bool, typer.Option("--national", help="Every footprint, and England's gap summed draw by draw.")
    ] = False,
    draws: DrawsOpt = None,
    seed: SeedOpt = None,
    save_plan: Annotated[
        str | None, typer.Option("--save-plan", help="Write the proposed plan (YAML) to this file.")
    ] = None,
    force: ForceOpt = False,
    workers: Annotated[
        int | None,
        typer.Option("--workers", help="With --national: local worker processes (default: cores)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Find the plan: the care models, coverage, provider efficiency and contracts that minimise
    the mean gap in the last year with each organisation's worst 5% within its limit, verified
    by a full run. With --national: every footprint, and whether England's gap closes."""
    from .service.optimiser import optimise

    if national:
        _optimise_england(plan_file, draws, seed, workers, save_plan, as_json)
        return
    if plan_file is None:
        raise UserError("give a PLAN file to optimise, or --national for every footprint")
    plan = _load_plan(plan_file, draws, seed)
    if save_plan:
        _check_new_file("--save-plan", Path(save_plan), force, "proposed.yaml")
    doc = _served(optimise, plan)
    if save_plan and doc["feasible"]:
        _write_plan_file(save_plan, doc["plan_document"], force)
    if as_json:
        _emit_json(doc)
        return
    _print_optimised(doc)
    if save_plan and doc["feasible"]:
        out.print(f"Wrote the proposed plan to {save_plan}: run it with 'stpsim run {save_plan}'.")


def _optimise_england(
    folder: str | None, draws: int | None, seed: int | None, workers: int | None, save_plan, as_json: bool
) -> None:
    from .service.catalogue import RollupInputError
    from .service.catalogue import load_rollup_plans as load_plans
    from .service.optimiser import optimise_national

    if save_plan:
        raise UserError("--save-plan takes one plan; with --national each footprint's choice is in --json")
    for problem in (
        draws is not None and _out_of_range("--draws", draws, *DRAWS_RANGE),
        seed is not None and _out_of_range("--seed", seed, *SEED_RANGE),
        workers is not None and _out_of_range("--workers", workers, 1),
    ):
        if problem:
            raise UserError(problem)
    try:
        plans = load_plans(folder) if folder else {}
    except RollupInputError as e:
        raise UserError("\n".join(e.lines)) from None
    doc = optimise_national(plans, draws or 1000, seed or 0, "local", workers)
    if as_json:
        _emit_json(doc)
        return
    t = rich_table(
        title=f"Every footprint optimised ({doc['draws']:,} draws): the gap in {doc['year']}, GBP m"
    )
    _prose(t, "footprint")
    _whole(t, "plan", "care models", "efficiency")
    _words(t, "gap: mean (80% interval)")
    for r in doc["footprints"]:
        c = r["choice"]
        t.add_row(
            r["name"],
            r["plan"],
            str(len(c["care_models"])) if c else "no mix meets its limits",
            f"{c['efficiency']['low']:g}% to {c['efficiency']['high']:g}%" if c else "-",
            _fmt_money_summary({k: v / 1e6 for k, v in r["gap"].items()}),
        )
    _show(t)
    e = doc["england"]
    g = e["gap"]
    short = f"GBP {e['shortfall_gbp'] / 1e9:,.2f}bn"
    verdict = (
        "closed in expectation"
        if e["closed_in_expectation"]
        else f"not closed: no choice of these options closes it; it falls short by {short}"
    )
    out.print(
        f"England's gap in {doc['year']}: GBP {g['mean'] / 1e9:,.2f}bn ({g['p10'] / 1e9:,.2f} to "
        f"{g['p90'] / 1e9:,.2f}), {verdict} (closed in {e['probability_closed']:.0%} of draws)."
    )


def _write_plan_file(path: str, document: dict, force: bool) -> None:
    import yaml

    from .service.catalogue import atomic_files

    text = "# Proposed by 'stpsim optimise'.\n" + yaml.safe_dump(
        document, sort_keys=False, allow_unicode=True
    )
    try:
        with _writing("--save-plan", path, force), atomic_files([Path(path)]) as (tmp,):
            tmp.write_text(text, encoding="utf-8")
    except OSError as e:
        raise UserError(f"--save-plan {path}: cannot write ({e.strerror or e})") from None


def _m(x: float) -> str:
    return f"GBP {_num(x / 1e6, 1)}m"


def _print_optimised(doc: dict) -> None:
    if not doc["feasible"]:
        out.print(f"{doc['plan']}: no mix of the options meets every limit.")
        for words in doc.get("hard_limits") or []:
            out.print(f"  {words[0].upper() + words[1:]}.")
        best = doc["relaxations"][0] if doc["relaxations"] else None
        if best:
            out.print(f"The least relaxation (contracts {best['contracts']}):")
            for r in best["relax"]:
                out.print(f"  relax {r['constraint']} by {_m(r['by_gbp'])}")
        return
    c = doc["choice"]
    t = rich_table(
        title=f"{doc['plan']}: the proposed mix ({doc['draws']:,} draws, seed {doc['seed']}; minimises "
        f"{doc['objective']}, {doc['year']})"
    )
    _prose(t, "care model")
    _whole(t, "coverage")
    for m in c["care_models"]:
        t.add_row(m["name"], f"{m['coverage']:.0%}")
    _show(t)
    e = c["efficiency"]
    out.print(f"Provider efficiency {e['low']:g}% to {e['high']:g}% a year; contracts: {c['contracts']}.")
    pred, ver = doc["predicted"]["gap"], doc["verified"]
    g, diff = ver["gap"], ver["difference_gbp"] / 1e6
    out.print(
        f"Gap in {doc['year']}: {_m(pred['mean'])} predicted by the linear model; {_m(g['mean'])} "
        f"({_num(g['p10'] / 1e6, 1)} to {_num(g['p90'] / 1e6, 1)}) in the full run "
        f"({'+' if diff >= 0 else ''}{_num(diff, 1)}m)."
    )
    level = f"{(1 - doc['cvar_level']):.0%}"
    t = rich_table(title=f"Each organisation's mean deficit in its worst {level} of draws (CVaR), GBP m")
    _prose(t, "organisation")
    _whole(t, "limit", "predicted", "full run", "binding", "gap per GBP 1m of limit")
    for o in doc["organisations"]:
        t.add_row(
            o["name"],
            "-" if o["limit"] is None else _num(o["limit"] / 1e6, 1),
            _num(o["cvar_predicted"] / 1e6, 1),
            _num(o["cvar_verified"] / 1e6, 1),
            "yes" if o["binding"] else "",
            "" if o["shadow_price_per_gbp"] is None else f"{o['shadow_price_per_gbp']:.2f}m",
        )
    _show(t)
    if doc["binding"]:
        out.print(f"What limits the answer: {', '.join(doc['binding'])}.")
    for w in doc.get("workforce") or []:
        full = f"{w['added_full_run']:,.1f} in the full run"
        out.print(
            f"{w['title']}: {w['added_predicted']:,.1f} WTE added in {doc['year']} ({full}) against a limit "
            f"of {w['limit']:,.1f}" + ("; it binds." if w["binding"] else ".")
        )
    if doc["budget"]:
        b = doc["budget"]
        out.print(
            f"Investment: {_m(b['used'])} of the {_m(b['limit'])} budget"
            + (f"; the budget costs {_m(b['gap_cost_of_limit'])} of gap." if b["binding"] else ".")
        )
    for o in doc["organisations"]:
        if not o["meets_limit_in_full_run"]:
            over = _m(o["cvar_verified"] - o["limit"])
            out.print(
                f"In the full run {o['name']}'s CVaR is {_m(o['cvar_verified'])}, above its limit of "
                f"{_m(o['limit'])} (the linear model put it at {_m(o['cvar_predicted'])}, counting "
                f"overlapping care models twice): relax the limit by {over} or change the options."
            )
    if doc["runner_ups"]:
        out.print(f"Within 1% of the best: {len(doc['runner_ups'])} other mix(es), for example:")
        r = doc["runner_ups"][0]
        names = ", ".join(f"{m['name']} {m['coverage']:.0%}" for m in r["choice"]["care_models"])
        out.print(f"  {names} ({_m(r['objective_gbp'])})")
    if doc["evppi"]:
        t = rich_table(title="What would most change the choice: the value of knowing it first (EVPPI)")
        _prose(t, "parameter")
        _whole(t, "GBP")
        for v in doc["evppi"]:
            t.add_row(v["title"], _num(v["evppi_gbp"]))
        _show(t)


@app.command("backtest")
def backtest_cmd(
    draws: Annotated[int, typer.Option("--draws", help="Monte Carlo draws (1 to 100000).")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed shared by every footprint.")] = 0,
    calibrate: Annotated[
        bool, typer.Option("--calibrate", help="Reweight the draws by their fit to the years' outturns.")
    ] = False,
    years: Annotated[
        str, typer.Option("--years", help="Years to calibrate on, comma-separated.")
    ] = "2017/18,2018/19",
    serial: Annotated[bool, typer.Option("--serial", help="Run in this process (no workers).")] = False,
    as_json: JsonOpt = False,
) -> None:
    """The track record: England if nothing changed, projected from 2016/17 data alone, against
    what happened to 2019/20; with --calibrate, the draws reweighted by how well they fitted."""
    from .service.track_record import backtest

    for problem in (
        _out_of_range("--draws", draws, *DRAWS_RANGE),
        _out_of_range("--seed", seed, *SEED_RANGE),
    ):
        if problem:
            raise UserError(problem)
    chosen = tuple(y.strip() for y in years.split(",") if y.strip())
    try:
        doc = backtest(draws, seed, chosen, "serial" if serial else "local")
    except Exception as e:  # the service's Invalid names the field: say it as the option
        from .service import Invalid

        if not isinstance(e, Invalid):
            raise
        raise UserError("\n".join("--" + line for line in e.lines)) from None
    if not calibrate:
        doc = {k: v for k, v in doc.items() if k not in ("calibration", "hold_out", "gap")}
    if as_json:
        _emit_json(doc)
        return
    _print_backtest(doc)


def _outturn(x: float, unit: str, bare: bool = False) -> str:
    if unit == "GBP m":
        return _num(x) if bare else f"GBP {_num(x)}m"
    return f"{x / 1e6:,.2f}" if bare else f"{x / 1e6:,.2f}m"


def _track_table(title: str, rows: list[dict]) -> None:
    t = rich_table(title=title)
    _prose(t, "measure")
    _whole(t, "year", justify="left")
    _words(t, "what happened", "projected: mean (80% interval)")
    _whole(t, "inside", "error")
    for r in rows:
        u = r["unit"]
        t.add_row(
            r["title"],
            r["year"] + (" *" if r["flag"] else ""),
            _outturn(r["actual"], u),
            f"{_outturn(r['mean'], u)} ({_outturn(r['p10'], u, True)} to {_outturn(r['p90'], u, True)})",
            "yes" if r["inside"] else "no",
            f"{r['error_pct']:+.1f}%",
        )
    _show(t)


def _track_summary(title: str, summary: dict) -> None:
    t = rich_table(title=title)
    _prose(t, "measure")
    _whole(t, "inside the 80% interval", "mean absolute error", "bias", "CRPS")
    for s in summary.values():
        t.add_row(
            s["title"],
            f"{s['inside']} of {s['years']}",
            f"{s['mape']:.1f}%",
            f"{s['bias_pct']:+.1f}%",
            f"{s['crps_pct']:.1f}%",
        )
    _show(t)


def _print_backtest(doc: dict) -> None:
    _track_table(
        f"Track record: England if nothing changed, projected from {doc['base_year']} data alone "
        f"({doc['draws']:,} draws, seed {doc['seed']}), against what happened",
        doc["table"],
    )
    for r in {r["flag"]: r for r in doc["table"] if r["flag"]}.values():
        out.print(f"* {r['year']}: {r['flag']}")
    _track_summary("How well, measure by measure (error: the mean's, % of what happened)", doc["summary"])
    out.print(
        "Bias above nought: the model projected too much. CRPS: the whole projection's distance from what "
        "happened, % of it (a single guess's CRPS is its error)."
    )
    if "calibration" in doc:
        _print_calibration(doc)


def _print_calibration(doc: dict) -> None:
    cal, held, gap = doc["calibration"], doc["hold_out"], doc["gap"]
    out.print(
        f"\nCalibrated on {', '.join(cal['years'])}: the same draws reweighted by how well each fitted "
        f"({_num(cal['effective_draws'], 1)} effective draws of {doc['draws']:,}; {cal['likelihood']})."
    )
    t = rich_table(title="What history moved (median and 80% range)")
    _prose(t, "parameter")
    _words(t, "before", "after")
    _whole(t, "unit", justify="left")
    for m in cal["moved"]:
        b, a = m["prior"], m["posterior"]
        t.add_row(
            m["title"],
            f"{b['p50']:.3g} ({b['p10']:.3g} to {b['p90']:.3g})",
            f"{a['p50']:.3g} ({a['p10']:.3g} to {a['p90']:.3g})",
            m["unit"],
        )
    _show(t)
    _track_summary("Calibrated: how well, measure by measure", cal["summary"])
    t = rich_table(
        title=f"Hold-out: calibrated on {', '.join(held['calibrated_on'])}, then {held['year']} scored"
    )
    _prose(t, "measure")
    _whole(t, "error before", "error after", "CRPS before", "CRPS after")
    for m, b in held["before"].items():
        a = held["after"][m]
        t.add_row(
            b["title"],
            f"{b['bias_pct']:+.1f}%",
            f"{a['bias_pct']:+.1f}%",
            f"{b['crps_pct']:.1f}%",
            f"{a['crps_pct']:.1f}%",
        )
    _show(t)

    def bn(x: dict) -> str:
        return f"GBP {x['mean'] / 1e9:,.2f}bn ({x['p10'] / 1e9:,.2f} to {x['p90'] / 1e9:,.2f})"

    out.print(
        f"England's gap in {gap['year']} if nothing changes: {bn(gap['before'])} before calibration, "
        f"{bn(gap['after'])} after."
    )


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
    geography_: Annotated[
        str, typer.Option("--geography", help="stp2017 (the 44 STPs, default) or icb2022 (the 42 ICBs).")
    ] = "stp2017",
    as_json: JsonOpt = False,
) -> None:
    """The 45th STP: every footprint together (the 44 STPs, or the 42 ICBs), summed draw by draw,
    against the national need."""
    from rich.progress import Progress

    from .service.catalogue import (
        ExecutorError,
        RollupInputError,
        SchedulerUnreachable,
        geography,
        rollup,
    )
    from .service.catalogue import check_rollup_size as check_size
    from .service.catalogue import load_rollup_plans as load_plans

    for problem in (
        _out_of_range("--draws", draws, *DRAWS_RANGE),
        _out_of_range("--seed", seed, *SEED_RANGE),
        chunk_size is not None and _out_of_range("--chunk-size", chunk_size, 1),
        workers is not None and _out_of_range("--workers", workers, 1),
    ):
        if problem:
            raise UserError(problem)
    last = _year_option("--end-year", end_year)
    source, address = _scheduler_option(scheduler)
    if geography_ not in geography.PRESETS:
        raise UserError(f"--geography {geography_!r} is not allowed; allowed: {', '.join(geography.PRESETS)}")
    n_fps = len(geography.preset(geography_))
    check_size(draws, last, "--draws", n_fps)  # before reading plans or starting workers
    try:
        plans = load_plans(plans_dir) if plans_dir else {}
    except RollupInputError as e:
        raise UserError("\n".join(e.lines)) from None
    executor = "dask" if address else ("serial" if serial else "local")
    # No bar when stderr is not a terminal: a log would get its residue (a stray blank line).
    quiet = as_json or not sys.stderr.isatty()
    with Progress(console=console(stderr=True, markup=False), transient=True, disable=quiet) as bar:
        job = bar.add_task("footprints done", total=n_fps)
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
                geography_=geography_,
            )
        except RollupInputError as e:
            raise UserError("\n".join(e.lines)) from None
        except SchedulerUnreachable as e:
            raise UserError(
                f"{source} {e.address}: no Dask scheduler answers there ({' '.join(e.reason.split())}); "
                f"allowed: {SCHEDULER_FORM} of a running scheduler"
            ) from None
        except ExecutorError as e:
            raise RunFailed(str(e)) from None
    from .service.responses import RollupResponse

    doc = _document(RollupResponse.model_validate(result.to_dict()))  # the API's schema too
    if as_json:
        _emit_json(doc)
        return
    _print_rollup(doc)


SCHEDULER_FORM = "tcp://HOST:PORT"
# What distributed accepts for a TCP or TLS scheduler: [tcp:// | tls://]HOST:PORT, HOST a name,
# an IPv4 address or a bracketed IPv6 address.
_SCHEDULER_ADDRESS = re.compile(r"(?:(?:tcp|tls)://)?(?:[A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\]):(\d{1,5})")


def _scheduler_option(scheduler: str | None) -> tuple[str, str | None]:
    """Where the address came from (for messages) and the address, refused before any work
    when it cannot be a scheduler's address."""
    source, address = ("--scheduler", scheduler) if scheduler else ("STPSIM_SCHEDULER", None)
    if address is None:
        address = os.environ.get("STPSIM_SCHEDULER") or None
    if address is None:
        return source, None
    m = _SCHEDULER_ADDRESS.fullmatch(address.strip())
    if not m or not 1 <= int(m[1]) <= 65535:
        raise UserError(
            f"{source} {address!r} is not a Dask scheduler address; allowed: {SCHEDULER_FORM} "
            "(e.g. tcp://10.0.0.5:8786)"
        )
    return source, address.strip()


def _print_rollup(doc: dict) -> None:
    eng = doc["england"]
    req = eng["national_requirement"]

    def bn(x: dict) -> str:
        return f"{x['mean'] / 1e9:,.2f} ({x['p10'] / 1e9:,.2f} to {x['p90'] / 1e9:,.2f})"

    t = rich_table(
        title=f"England: the 45th STP ({doc['draws']} draws; GBP bn, mean and 80% interval; "
        "gap = shortfall, positive is bad)"
    )
    _whole(t, "year", justify="left")
    _whole(t, "people")
    _words(t, "do-nothing gap", "plan gap", "saved by plans")
    _whole(t, "P(gap closed)")
    _words(t, "beds needed")
    for y in doc["years"]:
        beds = eng["beds"][y]
        t.add_row(
            y,
            f"{eng['population'][y]:,}",
            bn(eng["do_nothing_gap"][y]),
            bn(eng["plan_gap"][y]),
            bn(eng["plans_savings"][y]),
            f"{eng['probability_gap_closed'][y]:.0%}",
            f"{_num(beds['mean'])} ({_num(beds['p10'])} to {_num(beds['p90'])})",
        )
    _show(t)
    out.print(
        f"Five Year Forward View: GBP {req['efficiency_required_2020_21'] / 1e9:.0f}bn of efficiency needed "
        f"by 2020/21, GBP {req['expected_from_stps'] / 1e9:.0f}bn of it expected from STPs."
    )
    out.print(eng["note"])
    rec = doc["reconciliation"]
    last = doc["years"][-1]
    b = rich_table(
        title=f"England's gap, line by line: from 2016/17 to {last} (GBP bn, mean and 80% interval)"
    )
    _prose(b, "line")
    _words(b, last)
    for line in rec["do_nothing_bridge"].values():
        b.add_row(line["title"], bn(line[last]))
    b.add_row("England's gap with the plans", bn(eng["plan_gap"][last]))
    _show(b)
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
    f = rich_table(title="Footprints, last year (largest gap per head first; gaps in GBP m, per head in GBP)")
    _whole(f, "code", justify="left")
    _prose(f, "name", "plan")
    _whole(f, "people", "do-nothing gap", "plan gap", "per head")
    rows = sorted(doc["footprints"], key=lambda r: -r["gap_per_head"][last]["mean"])
    for r in rows:
        f.add_row(
            r["code"],
            r["name"],
            r["plan"] or "do nothing",
            f"{r['population']:,}",
            f"{_num(r['do_nothing_gap'][last]['mean'] / 1e6, 1)}",
            f"{_num(r['gap'][last]['mean'] / 1e6, 1)}",
            f"{_num(r['gap_per_head'][last]['mean'])}",
        )
    _show(f)
    kinds = doc["england"].get("books_by_kind")
    if kinds:
        first = doc["years"][0]
        k = rich_table(
            title="England's books by kind of organisation: surplus +, deficit -, GBP m "
            "(mean and 80% interval)"
        )
        _prose(k, "organisations")
        _words(k, first, last)
        for row in kinds.values():
            m = [{s: v / 1e6 for s, v in row[y].items()} for y in (first, last)]
            k.add_row(row["title"], _fmt_money_summary(m[0]), _fmt_money_summary(m[1]))
        _show(k)


@app.command("report")
def report_cmd(
    plan_files: Annotated[
        list[str] | None, typer.Argument(metavar="[PLAN [PLAN_B]]", help="One plan, or two to compare.")
    ] = None,
    output: Annotated[
        str | None, typer.Option("--output", "-o", help="File to write (default report.html/.xlsx).")
    ] = None,
    audience: Annotated[str, typer.Option("--audience", help="board or public.")] = "board",
    fmt: Annotated[
        str | None, typer.Option("--format", help="html or xlsx (default: from the -o suffix, else html).")
    ] = None,
    force: ForceOpt = False,
    draws: DrawsOpt = None,
    seed: SeedOpt = None,
    result: Annotated[
        list[str] | None,
        typer.Option(
            "--result", help="A run record saved by 'run --save', in place of a plan (repeat for two)."
        ),
    ] = None,
    national: Annotated[
        bool, typer.Option("--national", help="Add England-wide context from a roll-up of all 44 footprints.")
    ] = False,
    plans_dir: Annotated[
        str | None, typer.Option("--plans", help="With --national: folder of other footprints' plans.")
    ] = None,
) -> None:
    """The plan's story: one self-contained HTML file (or an analyst's workbook)."""
    from .service.compute import report, run_plan

    if bool(plan_files) == bool(result):
        raise UserError("give one or two plan files, or --result with saved run records, not both")
    if result and (draws is not None or seed is not None):
        raise UserError("--draws and --seed set a new run; a saved record keeps its own (leave them out)")
    fmt = _report_format(fmt, output)
    target = Path(output or f"report.{fmt}")
    _check_new_file("--output", target, force, f"report.{fmt}")
    from .service.catalogue import appendix_name

    extra = target.with_name(appendix_name(target))
    if fmt == "html" and audience == "public" and extra.exists() and not force:
        raise UserError(
            f"--output {target}: its appendix {extra} already exists; give --force to overwrite it"
        )
    others = None
    if national:
        from .service.catalogue import RollupInputError
        from .service.catalogue import load_rollup_plans as load_plans

        try:
            others = load_plans(plans_dir) if plans_dir else {}
        except RollupInputError as e:
            raise UserError("\n".join(e.lines)) from None
    if result:
        records = [_load_record(path) for path in result]
    else:
        plans = _load_plans(plan_files or [], draws, seed)
        if len(plans) > 2:
            raise UserError(f"give one plan, or two to compare; got {len(plans)}")
        records = [_served(run_plan, p) for p in plans]
    try:
        with _writing("--output", target, force):
            written = _served(report, records, target, audience, fmt, others)
    except OSError as e:
        raise UserError(f"--output {target}: cannot write ({e.strerror or e})") from None
    out.print(f"Wrote {written} ({written.stat().st_size / 1e6:.1f} MB)")
    if fmt == "html" and audience == "public":
        out.print(f"Wrote {extra}, the technical appendix it links to")


def _report_format(fmt: str | None, output: str | None) -> str:
    """--format, or else the format the -o suffix names (html when there is no suffix). A suffix
    that names another format than --format is refused: x.xlsx holding HTML opens as an error."""
    from .service.catalogue import REPORT_FORMATS as FORMATS
    from .service.catalogue import REPORT_SUFFIXES as SUFFIXES

    if fmt is not None and fmt not in FORMATS:
        raise UserError(f"--format {fmt!r} is not allowed; allowed: {', '.join(FORMATS)}")
    suffix = Path(output).suffix.lower() if output else ""
    implied = SUFFIXES.get(suffix)
    if fmt is not None and implied is not None and implied != fmt:
        raise UserError(
            f"--output {output}: the suffix {suffix} means {implied}, but --format is {fmt}; "
            f"give a .{fmt} file name or leave out --format"
        )
    if fmt is None and suffix and implied is None:
        raise UserError(
            f"--output {output}: cannot tell the format from the suffix {suffix!r}; "
            f"allowed: {', '.join(SUFFIXES)}, or give --format {'|'.join(FORMATS)}"
        )
    return fmt or implied or "html"


@app.command("schema")
def schema_cmd() -> None:
    """Print the plan document's JSON Schema."""
    from .service.catalogue import plan_schema as schema

    _emit_json(schema())


@app.command("interventions")
def interventions_cmd(as_json: JsonOpt = False) -> None:
    """The care-model library: targets, effects (central and 80% interval), substitution, costs
    and evidence with each effect's derivation."""

    from .service.catalogue import effect_lines, library, library_document

    if as_json:
        _emit_json(library_document())
        return
    t = rich_table(
        title="Care-model library (effects: reduction in targeted people's rate, central and 80% "
        "interval; ADVERSE = an increase at the centre)",
        show_lines=True,
    )
    _prose(t, "name", "targets", "effects", "creates per unit avoided", "evidence")
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
        t.add_row(f"{i.name}\n{i.title}", who, eff, sub, ev)  # text: the console reads no markup
    _show(t)


@app.command("examples")
def examples_cmd(
    folder: Annotated[str, typer.Argument(help="Folder to copy the example plans into (created).")],
    force: ForceOpt = False,
) -> None:
    """Copy the example plans (Greater Manchester, Cornwall, North West London and a roll-up
    folder) into FOLDER, to run, edit and learn from."""
    from .service.catalogue import EXAMPLES_DIR, atomic_files

    target = Path(folder)
    if target.exists() and not target.is_dir():
        raise UserError(f"{folder}: is not a folder; give a folder to copy the example plans into")
    files = sorted(p.relative_to(EXAMPLES_DIR) for p in EXAMPLES_DIR.rglob("*") if p.is_file())
    clash = [str(target / f) for f in files if (target / f).exists()]
    if clash and not force:
        raise UserError(f"{clash[0]}: already exists; give --force to overwrite the example plans")
    for f in files:
        (target / f).parent.mkdir(parents=True, exist_ok=True)
        with atomic_files([target / f]) as (tmp,):
            tmp.write_bytes((EXAMPLES_DIR / f).read_bytes())
    first = target / "greater_manchester.yaml"
    out.print(f"Copied the example plans ({len(files)} files) into {target}; try: stpsim run {first}")


data_app = typer.Typer(help="A team's own tables in place of the national defaults.", no_args_is_help=True)


@data_app.command("template")
def data_template_cmd(
    folder: Annotated[str, typer.Argument(metavar="DIR", help="Folder to write the tables into.")],
    footprint_: Annotated[
        str | None,
        typer.Option("--footprint", help="A preset footprint's code or name (default: the plan's)."),
    ] = None,
    plan_file: Annotated[
        str | None, typer.Option("--plan", help="A plan whose one footprint (preset or drawn) to use.")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace tables already in DIR.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Write each local table (population, activity, unit_costs, organisations, allocations) as a
    CSV filled with the footprint's national defaults: edit what you know, delete the rest, and
    name them in the plan's data: section."""
    from pathlib import Path

    from .service.catalogue import LocalDataError, geography, write_template

    if (footprint_ is None) == (plan_file is None):
        raise UserError("give one of --footprint CODE or --plan PLAN")
    if plan_file is not None:
        plan = _load_plan(plan_file, None, None)
        if len(plan.places) != 1:
            raise UserError(
                f"--plan {plan_file}: local tables are for one footprint; it has {len(plan.places)}"
            )
        fp = plan.places[0]
    else:
        try:
            fp = geography.find(footprint_)
        except geography.UnknownFootprint as e:
            raise UserError(f"--footprint: {e}") from None
    try:
        written = write_template(fp, Path(folder), force=force)
    except LocalDataError as e:
        raise UserError("\n".join(e.lines)) from None
    except OSError as e:
        raise UserError(f"{folder}: cannot write there ({e.strerror or e})") from None
    if as_json:
        _emit_json({"footprint": fp.code, "name": fp.name, "files": [str(w) for w in written]})
        return
    out.print(f"Wrote the national defaults for {fp.name} to:")
    for w in written:
        out.print(f"  {w}")
    out.print("Name the tables you change in the plan, for example:\n  data:\n    population: population.csv")


def _register_service_commands() -> None:
    """The store and server commands live in cli_server (thin wrappers over the service)."""
    from .cli_server import db_app, serve, users_app

    app.add_typer(db_app, name="db")
    app.add_typer(data_app, name="data")
    app.add_typer(users_app, name="users")
    app.command("serve")(serve)


_register_service_commands()


def _app_for(args: list[str]) -> typer.Typer:
    """The app with only the command ``args`` begin with, when they begin with one; else the
    whole app (the help, a mistyped command with its suggestions). Typer builds the parser of
    every registered command before it reads a word, a thirtieth of a second for the 28 here;
    the one command's parser, usage and errors are the same either way."""
    name = args[0] if args else None
    commands = [c for c in app.registered_commands if c.name == name]
    groups = [g for g in app.registered_groups if g.name == name]
    if not commands and not groups:
        return app
    one = copy.copy(app)
    one.registered_commands, one.registered_groups = commands, groups
    return one


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app and turn user errors into one line and exit status 2."""
    try:
        # Without standalone mode click returns the exit code of typer.Exit instead of exiting.
        args = sys.argv[1:] if argv is None else argv
        code = _app_for(args)(args=args, prog_name="stpsim", standalone_mode=False)
    except UserError as e:
        sys.stderr.write("".join(f"stpsim: error: {line}\n" for line in str(e).splitlines()))
        return EXIT_USAGE
    except RunFailed as e:
        sys.stderr.write(f"stpsim: error: {' '.join(str(e).split())}\n")
        return EXIT_FAILED
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
    return code if isinstance(code, int) else 0


if __name__ == "__main__":
    sys.exit(main())
