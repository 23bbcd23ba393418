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
from .footprint import UnknownFootprint, all_footprints

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
    try:
        y = parse_year(year)
    except ValueError as e:
        raise UserError(f"--year: {e}") from None
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


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app and turn user errors into one line and exit status 2."""
    try:
        app(args=argv, prog_name="stpsim", standalone_mode=False)
    except UserError as e:
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
