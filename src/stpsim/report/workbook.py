"""The analyst's workbook: one sheet per topic, laid out the way an analyst would build it.

Money is in £m as numbers (format ``#,##0.0;(#,##0.0)``, negatives in brackets), counts as
whole numbers; headers are bold and frozen, columns sized to their contents, and everything a
reader reads is named in words (organisations by name, never ``acute:RMC``). Amounts are the
mean over the run's simulations unless a Statistic column says otherwise. "Organisations
(pivot)" holds the same books long, one value a row, ready for a pivot table.
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import numpy as np
import yaml
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from .. import assumptions
from ..axes import BAND_LABELS, SETTING_UNITS, five_year_band_of_age
from ..contract_terms import contracts_title, contracts_wording
from ..reference import sources
from ..results import atomic_files
from ..story import tell
from ..summaries import summarise
from ..version import __version__
from . import tables
from .tables import CAPACITY_NAMES, MEASURES, OUTSIDE, SETTING_NAMES, human, millions

SHEETS = (
    "Summary",
    "Story",
    "Organisations",
    "Organisations (pivot)",
    "Control total",
    "Savings",
    "Investment",
    "Gap bridge",
    "Incentives",
    "Activity",
    "Activity by footprint",
    "Capacity",
    "Workforce",
    "Population",
    "Plan",
    "Assumptions",
    "Sources",
)

MONEY = "#,##0.0;(#,##0.0)"
COUNT = "#,##0"
BOLD = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDE6F0")
STATS = (("mean", "Mean"), ("p10", "10th percentile"), ("p50", "Median"), ("p90", "90th percentile"))
SCENARIOS = {
    "plan": "With the plan",
    "do_nothing": "If nothing changes",
    "difference": "Difference (plan less nothing changes)",
}
CAPACITY_UNITS = {"beds": "beds"}
NO_FINANCE = "This run has no finance."


def put(ws, row: int, col: int, value):
    """Write ``value`` to a cell as data, never as a formula: openpyxl stores any text that starts
    with "=" as a formula, so a plan, footprint or care-model name typed as
    ``=HYPERLINK(...)`` would run when the workbook is opened. Text is typed as a string."""
    cell = ws.cell(row, col, value)
    if isinstance(value, str):
        cell.data_type = "s"
    return cell


class _Sheet:
    """One worksheet: an optional title and note, a bold header row frozen in place, then rows
    whose numbers take the row's number format."""

    def __init__(self, wb: Workbook, name: str, title: str | None = None, note: str | None = None):
        self.ws = wb.create_sheet(name)
        self.row = 1
        self.header_row = 0
        self.wide: set[int] = set()  # columns whose width is set by hand
        if title:
            put(self.ws, 1, 1, title).font = Font(bold=True, size=14)
            if note:
                put(self.ws, 2, 1, note).font = Font(italic=True, color="555555")
            self.row = 4
        self.first = self.row  # rows above hold the title: they do not size the columns

    def header(self, names: list[str]) -> None:
        for c, name in enumerate(names, start=1):
            cell = put(self.ws, self.row, c, name)
            cell.font = BOLD
            cell.fill = HEADER_FILL
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        self.header_row = self.row
        self.row += 1

    def add(self, values: list, fmt: str | None = None, bold: bool = False) -> None:
        for c, v in enumerate(values, start=1):
            if isinstance(v, float) and math.isnan(v):
                v = None
            elif isinstance(v, np.generic):
                v = v.item()
            if v is not None and not isinstance(v, (str, int, float)):
                v = str(v)  # a list or a table of values, as text
            cell = put(self.ws, self.row, c, v)
            if fmt and isinstance(v, (int, float)) and not isinstance(v, bool):
                cell.number_format = fmt
            if bold:
                cell.font = BOLD
        self.row += 1

    def heading(self, text: str) -> None:
        put(self.ws, self.row, 1, text).font = Font(bold=True, italic=True)
        self.row += 1

    def blank(self) -> None:
        self.row += 1

    def finish(self, label_cols: int = 1, widths: dict[int, float] | None = None) -> None:
        """Freeze the header (and the label columns) and size every column to its contents."""
        if self.header_row:
            self.ws.freeze_panes = self.ws.cell(self.header_row + 1, label_cols + 1)
        sizes: dict[int, float] = {}
        for row in self.ws.iter_rows(min_row=self.first):
            for cell in row:
                if cell.value is None:
                    continue
                n = 12 if isinstance(cell.value, (int, float)) else len(str(cell.value)) + 2
                sizes[cell.column] = max(sizes.get(cell.column, 8), n)
        for col, n in (sizes | (widths or {})).items():
            self.ws.column_dimensions[get_column_letter(col)].width = min(n, 70)


def _summary(wb: Workbook, results) -> None:
    years = results.year_labels
    fin = results.finance
    s = _Sheet(
        wb,
        "Summary",
        f"{results.plan.name}: the plan in figures",
        f"{', '.join(results.names)} · {years[0]} to {years[-1]} · mean of {results.draws:,} simulations "
        "unless stated · money in £m (cash), activity a year",
    )
    s.header(["Measure", "Unit", *years])
    if fin is not None:
        gap = summarise(fin.gap("plan"))
        s.add(["Gap if nothing changes (shortfall +)", "£m", *millions(fin.gap("do_nothing"))], MONEY)
        s.add(["Gap with the plan (shortfall +)", "£m", *millions(fin.gap("plan"))], MONEY, bold=True)
        for key, label in STATS[1:]:
            s.add([f"Gap with the plan, {label.lower()}", "£m", *(v / 1e6 for v in gap[key])], MONEY)
        s.add(
            ["System control total with the plan (surplus)", "£m", *millions(fin.system_surplus("plan"))],
            MONEY,
        )
        s.add(["Provider efficiency (CIPs)", "£m", *millions(fin.efficiency_saving())], MONEY)
        s.add(["Care models, net saving", "£m", *millions(-fin.bridge("plan")["care_models"])], MONEY)
    if results.population is not None:
        s.add(["Residents", "people", *(float(v) for v in results.population.sum(axis=(1, 2, 3)))], COUNT)
    for name in ("emergency_admissions", "ae_attendances", "emergency_bed_days"):
        for scen in ("plan", "do_nothing"):
            s.add(
                [f"{SETTING_NAMES[name]}, {SCENARIOS[scen].lower()}", SETTING_UNITS[name]]
                + [float(v) for v in results.setting(name, scen).mean(axis=0)],
                COUNT,
            )
    if "beds" in results.capacity:
        for scen, cap in (("plan", results.capacity), ("do_nothing", results.do_nothing_capacity)):
            s.add([f"Beds needed, {SCENARIOS[scen].lower()}", "beds", *_count(cap["beds"])], COUNT)
    s.blank()
    s.heading("About this run")
    contracts = results.plan.finance.contracts
    for label, value in (
        ("Plan", results.plan.name),
        ("Footprints", ", ".join(results.names)),
        ("Years", f"{years[0]} to {years[-1]}"),
        ("Simulations", results.draws),
        ("Seed", results.plan.monte_carlo.seed),
        (
            "Contracts",
            contracts_title(contracts),
        ),
        ("How they pay", contracts_wording(contracts)),
        ("Made by", f"stpsim {__version__} on {date.today().isoformat()}"),
    ):
        s.add([label, value])
    s.finish(label_cols=2, widths={1: 48})


def _count(x: np.ndarray) -> list[float]:
    """(draw, year, footprint) -> mean by year of the footprints' total."""
    return [float(v) for v in x.sum(axis=2).mean(axis=0)]


def _story(wb: Workbook, results) -> None:
    s = _Sheet(wb, "Story")
    s.header(["The plan's story, for the board"])
    for line in tell(results, "board").text().splitlines():
        s.add([line])
    s.finish(widths={1: 120})
    for row in s.ws.iter_rows(min_row=2):
        row[0].alignment = Alignment(wrap_text=True, vertical="top")


def _organisations(wb: Workbook, results, table) -> None:
    years = results.year_labels
    s = _Sheet(
        wb,
        "Organisations",
        "Each organisation's income, expenditure and surplus, £m",
        f"Mean of {results.draws:,} simulations; deficits in brackets. The system control total is the sum "
        "of the organisations' surplus (minus the gap); outside parties are where money comes from "
        "and goes to outside the footprint. " + tables.SIZE_NOTE,
    )
    s.header(["Footprint", "Organisation", "Type", *years])
    if table.empty:
        s.add([NO_FINANCE])
    for measure in MEASURES:
        part = table[table.Measure == measure]
        s.heading(f"{measure} (£m)")
        for _, r in part[part.Group == "Organisation"].iterrows():
            s.add([r.Footprint, r.Organisation, r.Type, *r[years]], MONEY)
        if measure == "Surplus":
            totals = part[part.Group == "System control total"]
            for _, r in totals.iterrows():
                s.add([r.Footprint, r.Organisation, "", *r[years]], MONEY, bold=True)
            if len(totals) > 1:
                s.add(["All footprints", tables.CONTROL_TOTAL, "", *totals[years].sum()], MONEY, bold=True)
        else:
            outside = part[part.Group == OUTSIDE]
            if len(outside):
                s.heading(f"{measure}: outside parties, not in the control total (£m)")
                for _, r in outside.iterrows():
                    s.add([r.Footprint, r.Organisation, r.Type, *r[years]], MONEY)
        s.blank()
    s.finish(label_cols=3)


def _organisations_pivot(wb: Workbook, results, table) -> None:
    s = _Sheet(wb, "Organisations (pivot)")
    s.header(["Footprint", "Organisation", "Type", "Group", "Measure", "Year", "£m"])
    for _, r in table.iterrows():
        for y in results.year_labels:
            s.add([r.Footprint, r.Organisation, r.Type or "System", r.Group, r.Measure, y, r[y]], MONEY)
    s.finish(label_cols=0)


def _control_total(wb: Workbook, results) -> None:
    years = results.year_labels
    fin = results.finance
    s = _Sheet(
        wb,
        "Control total",
        "The system control total and the gap, £m",
        "The control total is the surplus of all the footprint's organisations together (NHS and councils); "
        "the gap is minus it (a shortfall is positive).",
    )
    s.header(["Footprint", "Scenario", "Measure", "Statistic", *years])
    if fin is None:
        s.add([NO_FINANCE])
        s.finish(label_cols=4)
        return
    names = dict(zip(results.codes, results.names, strict=True))
    parts = [
        (names.get(p.code, p.code), {"plan": p.system_surplus, "do_nothing": d.system_surplus})
        for p, d in zip(fin.footprints, fin.do_nothing, strict=True)
    ]
    if len(parts) > 1:
        parts.append(("All footprints", {k: fin.system_surplus(k) for k in ("plan", "do_nothing")}))
    for fp, surplus in parts:
        for scen in ("plan", "do_nothing"):
            s.add(
                [fp, SCENARIOS[scen], "System control total (surplus)", "Mean", *millions(surplus[scen])],
                MONEY,
            )
            gap = summarise(-surplus[scen])
            for key, label in STATS:
                s.add(
                    [fp, SCENARIOS[scen], "Gap (shortfall +)", label, *(v / 1e6 for v in gap[key])],
                    MONEY,
                    bold=scen == "plan" and key == "mean",
                )
    s.finish(label_cols=4)


def _savings(wb: Workbook, results) -> None:
    years = results.year_labels
    s = _Sheet(
        wb,
        "Savings",
        "Savings the plan assumes, £m",
        f"All footprints, mean of {results.draws:,} simulations. Savings positive, costs in brackets. "
        "Recurrent savings carry on each year; the care models' set-up investment does not.",
    )
    s.header(["Saving", "Recurrent?", *years, "Note"])
    t = tables.savings_table(results)
    if t.empty:
        s.add([NO_FINANCE])
    for _, r in t.iterrows():
        s.add([r.Saving, r.Recurrent, *r[years], r.Note], MONEY, bold=r.Saving == "Total savings")
    s.finish(label_cols=2, widths={len(years) + 3: 70})


def _bridge(wb: Workbook, results) -> None:
    years = results.year_labels
    s = _Sheet(
        wb,
        "Gap bridge",
        "From the 2016/17 position to each year's gap, £m",
        f"All footprints, mean of {results.draws:,} simulations. A positive line adds to the shortfall; "
        "the lines sum to the gap if nothing changes, then to the gap with the plan.",
    )
    s.header(["Line", *years])
    t = tables.bridge_table(results)
    if t.empty:
        s.add([NO_FINANCE])
    for _, r in t.iterrows():
        s.add([r.Line, *r[years]], MONEY, bold=r.Row != "line")
    s.finish(label_cols=1)


def _incentives(wb: Workbook, results) -> None:
    from ..adoption import adopted_interventions

    last = results.year_labels[-1]
    s = _Sheet(
        wb,
        "Incentives",
        f"Each care model's effect on each organisation's surplus in {last}, £m",
        "Each care model adopted alone, against doing nothing: a gain is positive, a loss in brackets.",
    )
    s.header(["Care model", "Footprint", "Organisation", "Type", *(label for _, label in STATS)])
    fin = results.finance
    if fin is None:
        s.add([NO_FINANCE])
        s.finish(label_cols=4)
        return
    titles = {a.spec.name: a.spec.title for a in adopted_interventions(results.plan)}
    names = dict(zip(results.codes, results.names, strict=True))
    orgs = {(b.code, o.id): o for b in fin.footprints for o in b.orgs}
    for (name, code, org_id), gain in fin.incentives.items():
        org = orgs.get((code, org_id))
        st = summarise(gain)
        s.add(
            [
                titles.get(name, human(name)),
                names.get(code, code),
                org.name if org else human(org_id),
                human(org.kind) if org else "",
                *(float(st[k]) / 1e6 for k, _ in STATS),
            ],
            MONEY,
        )
    s.finish(label_cols=4)


def _by_measure(wb: Workbook, results, name: str, capacity: bool) -> None:
    years = results.year_labels
    what = "capacity needed" if capacity else "activity"
    s = _Sheet(
        wb,
        name,
        f"The plan's {what}, all footprints, a year",
        f"Mean and 80% interval over {results.draws:,} simulations; the difference's interval is of the "
        "difference in each simulation.",
    )
    s.header(["Measure", "Unit", "Scenario", "Statistic", *years])
    summary = results.summary()
    is_cap = summary.measure.str.startswith("capacity:")
    summary = summary[is_cap if capacity else ~is_cap]
    for measure in dict.fromkeys(summary.measure):
        key = measure.removeprefix("capacity:")
        label = CAPACITY_NAMES.get(key, human(key)) if capacity else SETTING_NAMES.get(key, human(key))
        unit = CAPACITY_UNITS.get(key, "sessions") if capacity else SETTING_UNITS.get(key, "")
        part = summary[summary.measure == measure]
        for scen, scen_label in SCENARIOS.items():
            rows = part[part.scenario == scen].set_index("year")
            for key_stat, stat in STATS:
                s.add(
                    [label, unit, scen_label, stat, *(float(rows.at[y, key_stat]) for y in years)],
                    COUNT,
                    bold=scen == "plan" and key_stat == "mean",
                )
    s.finish(label_cols=4)


def _activity_by_footprint(wb: Workbook, results) -> None:
    years = results.year_labels
    s = _Sheet(
        wb,
        "Activity by footprint",
        "Each footprint's activity, a year",
        f"Mean of {results.draws:,} simulations.",
    )
    s.header(["Footprint", "Measure", "Unit", "Scenario", *years])
    for f, fp in enumerate(results.names):
        for i, key in enumerate(results.settings):
            plan_ = results.activity[:, :, f, i]
            dn = results.do_nothing[:, :, f, i]
            for scen, arr in (("plan", plan_), ("do_nothing", dn), ("difference", plan_ - dn)):
                s.add(
                    [fp, SETTING_NAMES.get(key, human(key)), SETTING_UNITS.get(key, ""), SCENARIOS[scen]]
                    + [float(v) for v in arr.mean(axis=0)],
                    COUNT,
                )
    s.finish(label_cols=4)


def _population(wb: Workbook, results) -> None:
    years = results.year_labels
    s = _Sheet(
        wb,
        "Population",
        "Residents by sex and age band",
        "All footprints; projected from the 2016 base with the national projections.",
    )
    s.header(["Sex", "Age band", *years])
    if results.population is None:
        s.finish(label_cols=2)
        return
    pop = results.population.sum(axis=1)  # (year, sex, age)
    band = five_year_band_of_age()
    for k, sex in enumerate(("Male", "Female")):
        by_band = np.array(
            [np.bincount(band, weights=pop[t, k], minlength=len(BAND_LABELS)) for t in range(len(years))]
        )
        for b, label in enumerate(BAND_LABELS):
            s.add([sex, label, *by_band[:, b].astype(float)], COUNT)
        s.add([sex, "All ages", *by_band.sum(axis=1)], COUNT, bold=True)
    s.add(["Everyone", "All ages", *pop.sum(axis=(1, 2)).astype(float)], COUNT, bold=True)
    s.finish(label_cols=2)


def _plan(wb: Workbook, results) -> None:
    s = _Sheet(wb, "Plan")
    s.header(["The plan file (YAML), as run"])
    for line in yaml.safe_dump(results.plan.model_dump(mode="json"), sort_keys=False).splitlines():
        s.add([line])
    s.finish(widths={1: 100})


def _assumptions(wb: Workbook) -> None:
    s = _Sheet(
        wb,
        "Assumptions",
        "Assumptions: every parameter that is not a published figure",
        "Value, plausible range and why. The identifier is the assumption's name in the model.",
    )
    s.header(["Assumption", "Identifier", "Value", "Unit", "Low", "High", "Range", "Why"])
    for a in assumptions.load().values():
        value = a.value if isinstance(a.value, (int, float)) else str(a.value)
        s.add([human(a.id), a.id, value, a.unit, a.low, a.high, a.range, a.why])
    s.finish(label_cols=2, widths={3: 30, 8: 70})


def _sources(wb: Workbook) -> None:
    s = _Sheet(
        wb,
        "Sources",
        "Sources: every reference table the model uses",
        "Publisher, period, licence and what was done to it.",
    )
    cols = ("publisher", "title", "period", "where_found", "licence", "transformation")
    s.header(["Table (file name)", *(human(c) for c in cols)])
    for key, v in sources().items():
        s.add([key, *(None if v.get(c) is None else str(v[c]) for c in cols)])
    s.finish(label_cols=1)


def _investment(wb: Workbook, results) -> None:
    s = _Sheet(
        wb,
        "Investment",
        "Each care model's cost, savings, payback and net present value, £m",
        f"Mean of {results.draws:,} simulations; net present value at the HM Treasury Green Book rate of "
        "3.5% a year, with its 80% interval. Savings are the change in every organisation's surplus with the "
        "care model adopted alone.",
    )
    t = tables.payback_table(results)
    if t.empty:
        s.add(["The plan adopts no care models, or this run has no finance."])
        s.finish()
        return
    s.header(list(t.columns))
    for _, r in t.iterrows():
        s.add([r[c] for c in t.columns], MONEY)
    s.finish()


def _workforce(wb: Workbook, results) -> None:
    s = _Sheet(
        wb,
        "Workforce",
        "Staff the plan needs: whole-time equivalents by staff group",
        f"Mean of {results.draws:,} simulations, from sessions, contacts and care hours with the conversion "
        "factors in the Assumptions sheet.",
    )
    t = tables.workforce_table(results)
    s.header(list(t.columns))
    for _, r in t.iterrows():
        s.add([r[c] for c in t.columns], COUNT)
    s.finish(label_cols=2)


def write(results, path: str | Path) -> Path:
    """Write the workbook to ``path``: written beside it and renamed into place, so a failure
    part way leaves nothing half-written."""
    path = Path(path)
    wb = Workbook()
    wb.remove(wb.active)
    orgs = tables.organisation_table(results)
    _summary(wb, results)
    _story(wb, results)
    _organisations(wb, results, orgs)
    _organisations_pivot(wb, results, orgs)
    _control_total(wb, results)
    _savings(wb, results)
    _investment(wb, results)
    _bridge(wb, results)
    _incentives(wb, results)
    _by_measure(wb, results, "Activity", capacity=False)
    _activity_by_footprint(wb, results)
    _by_measure(wb, results, "Capacity", capacity=True)
    _workforce(wb, results)
    _population(wb, results)
    _plan(wb, results)
    _assumptions(wb)
    _sources(wb)
    with atomic_files([path]) as (tmp,):
        wb.save(tmp)
    return path
