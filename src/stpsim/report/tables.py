"""The finance lead's tables: each organisation's books, the savings and the gap bridge.

Pure functions of a run's Results. Amounts are in £m and are the mean over the run's draws (a
mean of sums is the sum of means, so every total adds up exactly). Each table is a DataFrame
with label columns first, then one column per year ("2016/17", ...); ``tables_html`` renders
them for the report and the workbook lays them out for analysts.
"""

from __future__ import annotations

import html
import math
from typing import TYPE_CHECKING

import numpy as np

from ..finance import BRIDGE_LINES, BRIDGE_TITLES, PLAN_LINES

if TYPE_CHECKING:
    import pandas as pd

MILLION = 1e6

# How people name each kind of organisation.
KIND_NAMES = {
    "commissioner": "Commissioner",
    "acute": "Acute trust",
    "community": "Community services",
    "mental_health": "Mental health",
    "primary_care": "General practice",
    "specialised": "Specialised services",
    "social_care": "Adult social care",
    "external": "Outside party",
}

# How people name each activity setting and capacity measure.
SETTING_NAMES = {
    "gp_consultations": "GP consultations",
    "practice_nurse_consultations": "Practice nurse consultations",
    "community_nursing_contacts": "Community nursing contacts",
    "physiotherapy_contacts": "Physiotherapy contacts",
    "ae_attendances": "A&E attendances",
    "emergency_admissions": "Emergency admissions",
    "elective_admissions": "Elective admissions",
    "day_cases": "Day cases",
    "outpatient_first": "First outpatient attendances",
    "outpatient_followup": "Follow-up outpatient attendances",
    "emergency_bed_days": "Emergency bed days",
    "elective_bed_days": "Elective bed days",
    "home_care_hours": "Home care hours",
    "care_home_weeks": "Care home resident weeks",
    "geriatrician_hours": "Geriatrician hours",
    "community_consultant_sessions": "Consultant sessions in the community",
    "hospital_at_home_days": "Hospital at home days",
}
CAPACITY_NAMES = {
    "beds": "Beds",
    "gp_sessions": "GP sessions",
    "practice_nurse_sessions": "Practice nurse sessions",
    "community_nursing_sessions": "Community nursing sessions",
    "physiotherapy_sessions": "Physiotherapy sessions",
    "geriatrician_sessions": "Geriatrician sessions",
}

CONTROL_TOTAL = "System control total (the organisations above)"
OUTSIDE = "Outside party"
MEASURES = ("Income", "Expenditure", "Surplus")

DO_NOTHING_GAP = "Gap if nothing changes"
PLAN_GAP = "Gap with the plan"
NOT_MODELLED = "not modelled separately"


def human(name: str, names: dict[str, str] | None = None) -> str:
    """A setting, measure or kind as people name it (never its snake_case identifier)."""
    if names and name in names:
        return names[name]
    for table in (SETTING_NAMES, CAPACITY_NAMES, KIND_NAMES):
        if name in table:
            return table[name]
    words = name.replace("_", " ").replace(":", " ").strip()
    return words[:1].upper() + words[1:]


def money(x: float | None) -> str:
    """£m for text, one decimal, negatives in brackets: 1234.56 -> "1,234.6", -268.5 -> "(268.5)".
    Nothing (None or NaN) is a dash."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    r = round(float(x), 1)
    if r == 0:
        return "0.0"
    return f"({-r:,.1f})" if r < 0 else f"{r:,.1f}"


def millions(x: np.ndarray) -> list[float]:
    """(draw, year) in pounds -> the mean by year in £m."""
    means = np.asarray(x).mean(axis=0) / MILLION
    return [0.0 if abs(v) < 1e-9 else float(v) for v in means]  # no "-0.0" from rounding noise


def _footprint_names(results) -> dict[str, str]:
    return dict(zip(results.codes, results.names, strict=True))


def named(org) -> str:
    """An organisation's name with the bodies it stands for (the commissioners' CCGs, the
    councils of adult social care): every organisation is named."""
    return f"{org.name} – {', '.join(org.members)}" if org.members else org.name


ORGANISATION_COLUMNS = ("Footprint", "Organisation", "Type", "Group", "Measure")


def organisation_table(results) -> pd.DataFrame:
    """Every footprint's organisations: income, expenditure and surplus by year, £m.

    One row per footprint x organisation x measure, columns Footprint, Organisation, Type, Group,
    Measure, then one per year. Group is "Organisation" (inside the control total), "Outside
    party" (where the footprint's money comes from and goes to outside it: income and
    expenditure only) or "System control total": the sum of the organisations' surplus, one row
    per footprint, which is minus the footprint's gap."""
    return _frame(organisation_rows(results), [*ORGANISATION_COLUMNS, *results.year_labels])


def _frame(rows: list, cols: list[str] | None = None) -> pd.DataFrame:
    """The rows as a DataFrame. pandas is imported here, when a table is asked for as one (the
    workbook, the API): the HTML report reads the rows and never loads it (0.2 s of a new
    process)."""
    import pandas as pd

    if cols is None:
        return pd.DataFrame(rows)
    return pd.DataFrame(rows, columns=cols) if rows else pd.DataFrame(columns=cols)


def organisation_rows(results) -> list[list]:
    """The rows of ``organisation_table`` as lists (the report's HTML reads them as they are)."""
    if results.finance is None:
        return []
    names = _footprint_names(results)
    rows = []
    for books in results.finance.footprints:
        fp = names.get(books.code, books.code)
        inside = [(o, org) for o, org in enumerate(books.orgs) if org.kind != "external"]
        outside = [(o, org) for o, org in enumerate(books.orgs) if org.kind == "external"]
        for o, org in inside:
            for measure, arr in zip(
                MEASURES, (books.income[o], books.expenditure[o], books.surplus[o]), strict=True
            ):
                rows.append([fp, named(org), human(org.kind), "Organisation", measure, *millions(arr)])
        for o, org in outside:
            for measure, arr in zip(MEASURES[:2], (books.income[o], books.expenditure[o]), strict=True):
                rows.append([fp, org.name, human(org.kind), OUTSIDE, measure, *millions(arr)])
        rows.append(
            [fp, CONTROL_TOTAL, "", "System control total", "Surplus", *millions(books.system_surplus)]
        )
    return rows


def care_model_costs(results) -> tuple[np.ndarray, np.ndarray]:
    """The adopted care models' set-up investment and running cost, each (draw, year) in pounds
    summed over the plan's footprints, as the run costed them."""
    n_d, n_t = results.draws, len(results.years)
    invest, running = np.zeros((n_d, n_t)), np.zeros((n_d, n_t))
    for c in getattr(results.finance, "care_model_costs", ()):
        if c.investment is not None:
            invest += c.investment.sum(axis=0)
        if c.running is not None:
            running += c.running.sum(axis=0)
    return invest, running


def savings_table(results) -> pd.DataFrame:
    """The plan's savings by year, £m, all footprints together. Savings are positive, costs
    negative. Columns Saving, Recurrent, Note, then one per year.

    Provider efficiency (CIPs) is the cost improvement the plan assumes on NHS trusts. The model
    has no commissioner efficiency of its own (QIPP): that row says so and holds no numbers. The
    care models' net effect (on commissioners and everyone else) is shown apart: the savings
    from the activity they change and their running costs recur; their set-up investment does
    not."""
    return _frame(savings_rows(results), ["Saving", "Recurrent", "Note", *results.year_labels])


def savings_rows(results) -> list[list]:
    """The rows of ``savings_table`` as lists."""
    if results.finance is None:
        return []
    fin = results.finance
    cips = fin.efficiency_saving()
    net = -fin.bridge("plan")["care_models"]
    invest, running = care_model_costs(results)
    gross = net + invest + running
    blank = [float("nan")] * len(results.year_labels)
    return [
        [
            "Provider efficiency (CIPs)",
            "Recurrent",
            "Cost improvement on NHS trusts' costs",
            *millions(cips),
        ],
        [
            "Commissioner savings (QIPP)",
            NOT_MODELLED.capitalize(),
            "The model has no commissioner efficiency of its own; the care models' effect on "
            "commissioners is in the care model lines below",
            *blank,
        ],
        [
            "Care models: less activity and cost",
            "Recurrent",
            "Gross saving from the activity the care models change",
            *millions(gross),
        ],
        [
            "Care models: running costs",
            "Recurrent",
            "A cost (negative), net of any running saving a model makes itself (such as shared back offices)",
            *millions(-running),
        ],
        [
            "Care models: set-up investment",
            "Non-recurrent",
            "A cost (negative), while coverage grows",
            *millions(-invest),
        ],
        [
            "Care models: net saving",
            "Mixed",
            "The three care model lines together (the gap bridge's care models line, sign reversed)",
            *millions(net),
        ],
        [
            "Total savings",
            "Mixed",
            "Provider efficiency and the care models' net saving",
            *millions(cips + net),
        ],
        [
            "of which recurrent",
            "Recurrent",
            "Everything but the set-up investment",
            *millions(cips + net + invest),
        ],
    ]


def bridge_table(results) -> pd.DataFrame:
    """The bridge from the 2016/17 position to each year's gap, £m, all footprints together.

    Columns Line, Row, then one per year. Row is "line" for each step (the do-nothing lines,
    then the care models and provider efficiency), "subtotal" for the gap if nothing changes and
    "total" for the gap with the plan: the lines sum to it exactly. A positive line adds to the
    gap (the shortfall)."""
    return _frame(bridge_rows(results), ["Line", "Row", *results.year_labels])


def bridge_rows(results) -> list[list]:
    """The rows of ``bridge_table`` as lists."""
    if results.finance is None:
        return []
    fin = results.finance
    lines = fin.bridge("plan")
    rows = [[BRIDGE_TITLES[k], "line", *millions(lines[k])] for k in BRIDGE_LINES]
    rows.append([DO_NOTHING_GAP, "subtotal", *millions(fin.gap("do_nothing"))])
    rows += [[BRIDGE_TITLES[k], "line", *millions(lines[k])] for k in PLAN_LINES]
    rows.append([PLAN_GAP, "total", *millions(fin.gap("plan"))])
    return rows


# ---- HTML -----------------------------------------------------------------------------------

STYLE = (
    "#finance-tables table{margin:8px 0 20px}#finance-tables caption{text-align:left;font-weight:bold;"
    "padding:4px 0}#finance-tables td.num,#finance-tables th.num{text-align:right;white-space:nowrap}"
    "#finance-tables tr.total th,#finance-tables tr.total td{font-weight:bold;border-top:2px solid #888}"
    "#finance-tables th.group{background:#fafafa;font-style:italic}"
)


def _esc(s: object) -> str:
    return html.escape(str(s))


def _num_cells(values) -> str:
    return "".join(f'<td class="num">{_esc(money(v))}</td>' for v in values)


def _head(first: str, years: list[str], extra: tuple[str, ...] = ()) -> str:
    cells = [f'<th scope="col">{_esc(first)}</th>'] + [f'<th scope="col">{_esc(e)}</th>' for e in extra]
    cells += [f'<th scope="col" class="num">{_esc(y)}</th>' for y in years]
    return f"<thead><tr>{''.join(cells)}</tr></thead>"


def _organisations_html(results) -> str:
    # The table's rows as lists, not a DataFrame: filtering pandas frames cost a report 10 ms.
    years = list(results.year_labels)
    by_footprint: dict[str, list[list]] = {}
    for row in organisation_rows(results):
        by_footprint.setdefault(row[0], []).append(row)
    org, group, measure_of, values = 1, 3, 4, len(ORGANISATION_COLUMNS)  # places in a row
    out = []
    for fp, part in by_footprint.items():
        inside = [r for r in part if r[group] == "Organisation"]
        total = [r for r in part if r[group] == "System control total"]
        bodies = []
        for measure in MEASURES:
            body = [
                f'<tr><th scope="rowgroup" colspan="{len(years) + 1}" class="group">{_esc(measure)}</th></tr>'
            ]
            body += [
                f'<tr><th scope="row">{_esc(r[org])}</th>{_num_cells(r[values:])}</tr>'
                for r in inside
                if r[measure_of] == measure
            ]
            if measure == "Surplus":
                body += [
                    f'<tr class="total"><th scope="row">{_esc(r[org])}</th>{_num_cells(r[values:])}</tr>'
                    for r in total
                ]
            bodies.append(f"<tbody>{''.join(body)}</tbody>")
        out.append(
            f"<table><caption>{_esc(fp)}: each organisation's income, expenditure and surplus, £m "
            f"(mean of {results.draws:,} simulations; deficits in brackets)</caption>"
            f"{_head('Organisation', years)}{''.join(bodies)}</table>"
        )
        outside = [r for r in part if r[group] == OUTSIDE]
        if outside:
            rows = "".join(
                f'<tr><th scope="row">{_esc(r[org])}</th><td>{_esc(r[measure_of])}</td>'
                f"{_num_cells(r[values:])}</tr>"
                for r in outside
            )
            out.append(
                f"<table><caption>{_esc(fp)}: outside parties (money into and out of the footprint, "
                f"not part of the control total), £m</caption>{_head('Outside party', years, ('Measure',))}"
                f"<tbody>{rows}</tbody></table>"
            )
    return "".join(out)


def _savings_html(results) -> str:
    years = list(results.year_labels)
    rows = []
    for saving, recurrent, _, *v in savings_rows(results):
        cls = ' class="total"' if saving == "Total savings" else ""
        if recurrent == NOT_MODELLED.capitalize():
            cells = f'<td>–</td><td class="num" colspan="{len(years)}">{_esc(NOT_MODELLED)}</td>'
        else:
            cells = f"<td>{_esc(recurrent)}</td>{_num_cells(v)}"
        rows.append(f'<tr{cls}><th scope="row">{_esc(saving)}</th>{cells}</tr>')
    return (
        "<table><caption>Savings the plan assumes, £m (savings positive, costs in brackets)</caption>"
        f"{_head('Saving', years, ('Recurrent?',))}<tbody>{''.join(rows)}</tbody></table>"
    )


def _bridge_html(results) -> str:
    years = list(results.year_labels)
    rows = []
    for line, row, *v in bridge_rows(results):
        cls = ' class="total"' if row != "line" else ""
        rows.append(f'<tr{cls}><th scope="row">{_esc(line)}</th>{_num_cells(v)}</tr>')
    return (
        "<table><caption>From the 2016/17 position to each year's gap, £m (a positive line adds to "
        "the shortfall; the lines sum to the gap)</caption>"
        f"{_head('Line', years)}<tbody>{''.join(rows)}</tbody></table>"
    )


SIZE_NOTE = (
    "Acute trusts share their footprint's hospital activity by their published 2016/17 size: A&E "
    "attendances for A&E, emergency admissions via A&E for emergency admissions and their bed days, and "
    "general and acute beds (winter sitreps) for planned care and outpatients, unless the plan sets its own "
    "shares."
)


def tables_html(results) -> str:
    """The finance tables as an HTML fragment, ``<section id="finance-tables">``, for the report
    (empty when the run has no finance)."""
    if results.finance is None:
        return ""
    return (
        f'<section id="finance-tables"><style>{STYLE}</style><h2>Finance tables</h2>'
        f'<p class="note">Amounts are £m, the mean of {results.draws:,} simulations, in cash. '
        "Brackets mean a negative number: a deficit, or a cost.</p>"
        f'<p class="note">{SIZE_NOTE}</p>'
        f"<h3>Organisations</h3>{_organisations_html(results)}"
        f"<h3>Savings</h3>{_savings_html(results)}"
        f"<h3>The gap bridge</h3>{_bridge_html(results)}"
        "</section>"
    )


# ---- investment and payback, and workforce (issue 14, items 3 and 4) -------------------------


def payback_table(record) -> pd.DataFrame:
    """Each care model: set-up and running cost, savings and net benefit in the last year,
    payback year and net present value (mean and 80% interval), £m, from the run record."""
    return _frame(payback_rows(record))


def payback_rows(record) -> list[dict]:
    """The rows of ``payback_table``, one dict each."""
    rows = []
    for m in record.document.get("investment") or []:
        last = m["years"][-1]
        rows.append(
            {
                "Care model": m["title"],
                "Set-up, all years": sum(v["mean"] for v in m["investment"].values()) / 1e6,
                "Running, last year": m["running"][last]["mean"] / 1e6,
                "Savings, last year": m["savings"][last]["mean"] / 1e6,
                "Net benefit, last year": m["net_benefit"][last]["mean"] / 1e6,
                "Pays back": m.get("payback_year") or "not by " + last,
                "NPV": m["npv"]["mean"] / 1e6,
                "NPV low (10%)": m["npv"]["p10"] / 1e6,
                "NPV high (90%)": m["npv"]["p90"] / 1e6,
            }
        )
    return rows


def workforce_table(record) -> pd.DataFrame:
    """Whole-time equivalents by staff group in each year: do-nothing, plan and the difference,
    from the run record."""
    return _frame(workforce_rows(record))


def workforce_rows(record) -> list[dict]:
    """The rows of ``workforce_table``, one dict each."""
    w = record.document["workforce"]
    rows = []
    for g in w["groups"].values():
        for scen, label in (
            ("do_nothing", "Do nothing"),
            ("plan", "Plan"),
            ("difference", "Plan less do nothing"),
        ):
            rows.append(
                {"Staff group": g["title"], "Scenario": label, **{y: g[scen][y]["mean"] for y in w["years"]}}
            )
    return rows


def _payback_html(results) -> str:
    t = payback_rows(results)
    if not t:
        return "<p>The plan adopts no care models.</p>"
    cols = [c for c in t[0] if c != "Care model"]
    head = "".join(f'<th scope="col" class="num">{_esc(c)}</th>' for c in cols)
    body = []
    for r in t:
        cells = "".join(
            f'<td class="num">{_esc(money(r[c]) if isinstance(r[c], float) else r[c])}</td>' for c in cols
        )
        body.append(f'<tr><th scope="row">{_esc(r["Care model"])}</th>{cells}</tr>')
    return (
        '<table class="fin"><caption>Each care model: cost, savings, payback and net present value at the '
        f'Green Book rate of 3.5%, £m</caption><thead><tr><th scope="col">Care model</th>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _workforce_html(results) -> str:
    t = workforce_rows(results)
    years = [c for c in t[0] if c not in ("Staff group", "Scenario")] if t else []
    body = []
    for r in t:
        cells = "".join(f'<td class="num">{r[y]:,.0f}</td>' for y in years)
        body.append(
            f'<tr><th scope="row">{_esc(r["Staff group"])}</th><td>{_esc(r["Scenario"])}</td>{cells}</tr>'
        )
    return (
        '<table class="fin"><caption>Staff the plan needs: whole-time equivalents</caption>'
        f"{_head('Staff group', years, ('Scenario',))}<tbody>{''.join(body)}</tbody></table>"
    )


def finance_lead_html(results) -> str:
    """The finance lead's pages: the finance tables, investment and payback, and workforce."""
    if results.finance is None:
        return ""
    return (
        tables_html(results)
        + f'<section id="investment"><h2>Investment and payback</h2>{_payback_html(results)}</section>'
        + f'<section id="workforce"><h2>Workforce</h2>{_workforce_html(results)}</section>'
    )
