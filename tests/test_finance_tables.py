"""The finance lead's tables and the analyst's workbook: the organisations add up to the system
control total (minus the gap), the bridge adds up to the gap, the savings are marked recurrent
or not, money reads as £m with brackets, and the workbook is laid out for people to read."""

import re
from pathlib import Path

import numpy as np
import openpyxl
import pytest

import stpsim
from stpsim import engine, plan, report
from stpsim.axes import ALL_SETTINGS
from stpsim.finance import BRIDGE_LINES, PLAN_LINES
from stpsim.organisations import KINDS
from stpsim.report import tables, workbook

EXAMPLES = Path(__file__).parent.parent / "examples"
SNAKE = re.compile(r"\b[a-z0-9]+(?:_[a-z0-9]+)+\b")


@pytest.fixture(scope="module")
def gm():
    p = plan.load(EXAMPLES / "greater_manchester.yaml").model_copy(
        update={"monte_carlo": plan.MonteCarlo(draws=40, seed=1)}
    )
    return stpsim.run(p)


@pytest.fixture(scope="module")
def book(gm, tmp_path_factory):
    path = report.write(gm, tmp_path_factory.mktemp("wb") / "gm.xlsx", fmt="xlsx")
    return openpyxl.load_workbook(path)


def _internal_names(results) -> set[str]:
    """Identifiers a reader should never see: organisation ids (acute:RMC) and snake_case names of
    settings, capacity measures, bridge lines and kinds (plain words such as "beds" are fine)."""
    ids = {o.id for b in results.finance.footprints for o in b.orgs}
    names = ids | set(ALL_SETTINGS) | set(results.capacity) | set(BRIDGE_LINES) | set(PLAN_LINES) | set(KINDS)
    return {n for n in names if "_" in n or ":" in n}


def test_organisations_sum_to_the_system_control_total_which_is_minus_the_gap(gm):
    t = tables.organisation_table(gm)
    years = gm.year_labels
    assert list(t.columns) == ["Footprint", "Organisation", "Type", "Group", "Measure", *years]
    for books, name in zip(gm.finance.footprints, gm.names, strict=True):
        part = t[t.Footprint == name]
        orgs = part[(part.Group == "Organisation") & (part.Measure == "Surplus")]
        total = part[part.Group == "System control total"]
        assert len(total) == 1 and len(orgs) == sum(o.kind != "external" for o in books.orgs)
        np.testing.assert_allclose(orgs[years].sum().to_numpy(), total[years].iloc[0].to_numpy(), atol=1e-9)
        np.testing.assert_allclose(total[years].iloc[0].to_numpy(), -books.gap.mean(axis=0) / 1e6, atol=1e-9)
        # Rounded to one decimal as printed, the organisations still add up to the total.
        rounded = orgs[years].round(1).sum().to_numpy()
        assert np.all(np.abs(rounded - total[years].iloc[0].to_numpy()) <= 0.05 * len(orgs))
        income = part[(part.Group == "Organisation") & (part.Measure == "Income")][years].to_numpy()
        spend = part[(part.Group == "Organisation") & (part.Measure == "Expenditure")][years].to_numpy()
        np.testing.assert_allclose(income - spend, orgs[years].to_numpy(), atol=1e-9)
    np.testing.assert_allclose(
        t[t.Group == "System control total"][years].sum().to_numpy(),
        -gm.finance.gap("plan").mean(axis=0) / 1e6,
        atol=1e-9,
    )
    outside = t[t.Group == "Outside party"]
    assert set(outside.Measure) == {"Income", "Expenditure"} and len(outside) == 6
    assert "NHS England (allocations)" in set(outside.Organisation)
    names = set(t.Organisation)
    assert "Bolton NHS Foundation Trust" in names
    fp = gm.plan.places[0]  # every organisation named: the CCGs and councils too
    assert f"Greater Manchester commissioners (10 CCGs) – {', '.join(c.name for c in fp.ccgs)}" in names
    assert not names & _internal_names(gm) and not any(":" in n for n in names)


@pytest.mark.parametrize(
    "x, text",
    [
        (1234.56, "1,234.6"),
        (-268.5, "(268.5)"),
        (0.0, "0.0"),
        (-0.04, "0.0"),
        (0.05, "0.1"),
        (-1_234_567.891, "(1,234,567.9)"),
        (7, "7.0"),
        (float("nan"), "–"),
        (None, "–"),
    ],
)
def test_money_reads_as_millions_with_brackets(x, text):
    assert tables.money(x) == text


def test_the_bridge_lines_sum_to_the_gap_every_year(gm):
    t = tables.bridge_table(gm)
    years = gm.year_labels
    lines = t[t.Row == "line"]
    assert len(lines) == len(BRIDGE_LINES) + len(PLAN_LINES)
    total = t[t.Row == "total"][years].iloc[0].to_numpy()
    np.testing.assert_allclose(lines[years].sum().to_numpy(), total, atol=1e-9)
    np.testing.assert_allclose(total, gm.finance.gap("plan").mean(axis=0) / 1e6, atol=1e-9)
    subtotal = t[t.Row == "subtotal"][years].iloc[0].to_numpy()
    np.testing.assert_allclose(lines[years].iloc[: len(BRIDGE_LINES)].sum().to_numpy(), subtotal, atol=1e-9)
    np.testing.assert_allclose(subtotal, gm.finance.gap("do_nothing").mean(axis=0) / 1e6, atol=1e-9)
    # The same lines as the JSON document's gap bridge.
    doc = gm.to_dict()["gap_bridge"]
    assert [doc[k]["title"] for k in (*BRIDGE_LINES, *PLAN_LINES)] == list(lines.Line)
    for k, (_, row) in zip((*BRIDGE_LINES, *PLAN_LINES), lines.iterrows(), strict=True):
        assert [row[y] for y in years] == pytest.approx([doc[k][y]["mean"] / 1e6 for y in years], abs=1e-7)


def test_savings_are_marked_recurrent_and_add_up(gm):
    t = tables.savings_table(gm).set_index("Saving")
    years = gm.year_labels
    fin = gm.finance
    np.testing.assert_allclose(
        t.loc["Provider efficiency (CIPs)", years].astype(float), fin.efficiency_saving().mean(0) / 1e6
    )
    assert t.loc["Provider efficiency (CIPs)", "Recurrent"] == "Recurrent"
    qipp = t.loc["Commissioner savings (QIPP)"]
    assert "not modelled separately" in qipp.Recurrent.lower() and qipp[years].isna().all()
    assert t.loc["Care models: set-up investment", "Recurrent"] == "Non-recurrent"
    assert t.loc["Care models: running costs", "Recurrent"] == "Recurrent"
    assert t.loc["Care models: less activity and cost", "Recurrent"] == "Recurrent"
    parts = [
        "Care models: less activity and cost",
        "Care models: running costs",
        "Care models: set-up investment",
    ]
    net = t.loc["Care models: net saving", years].astype(float).to_numpy()
    np.testing.assert_allclose(t.loc[parts, years].astype(float).sum().to_numpy(), net, atol=1e-9)
    np.testing.assert_allclose(net, -fin.bridge("plan")["care_models"].mean(0) / 1e6, atol=1e-9)
    assert (t.loc["Care models: set-up investment", years] <= 0).all()
    assert t.loc["Care models: set-up investment", years].min() < 0, (
        "GM's care models cost something to set up"
    )


def test_care_model_costs_are_the_ones_the_books_paid(gm):
    """The commissioners pay each care model's cost (where it is a cost) to whoever runs it: the
    ledger's payments are the costs behind the savings table's set-up and running lines."""
    from stpsim import finance

    invest, running = tables.care_model_costs(gm)
    params = finance.finance_parameters(gm.parameters)  # the run's own parameter draws
    adopted = engine.adopted_interventions(gm.plan)
    assert all(a.spec.delivered_by != "commissioner" for a in adopted), "each is paid through the ledger"
    total = np.zeros_like(invest)
    for f, books in enumerate(gm.finance.footprints):
        c = finance.care_model_costs(adopted, gm.targeted_people, f, np.array(gm.years), params)
        for name, cost in zip(c.names, c.cost, strict=True):
            paid = sum(a for _, _, label, a in books.ledger.entries if label == f"care model: {name}")
            np.testing.assert_allclose(paid, np.maximum(cost, 0.0), rtol=1e-9, atol=1e-3)
            total += cost
    np.testing.assert_allclose(invest + running, total, rtol=1e-9, atol=1e-3)
    assert (invest >= 0).all() and invest[:, 0].max() == 0.0


def test_tables_html_is_readable(gm):
    h = tables.tables_html(gm)
    assert h.startswith('<section id="finance-tables">') and h.endswith("</section>")
    assert h.count("<caption>") >= 4 and '<th scope="col"' in h and '<th scope="row">' in h
    assert 'class="num">(' in h, "negatives in brackets"
    assert "not modelled separately" in h
    text = re.sub(r"<style>.*?</style>|<[^>]+>", " ", h)
    assert not SNAKE.findall(text), SNAKE.findall(text)
    assert not set(text.split()) & _internal_names(gm)
    assert "acute:" not in h


def test_workbook_sheets_formats_and_frozen_headers(gm, book):
    assert book.sheetnames == list(workbook.SHEETS)
    for name in (
        "Summary",
        "Organisations",
        "Organisations (pivot)",
        "Control total",
        "Savings",
        "Gap bridge",
    ):
        assert name in book.sheetnames
    for ws in book:
        assert ws.freeze_panes is not None, ws.title
        header = int(re.sub(r"\D", "", ws.freeze_panes)) - 1
        assert all(c.font.bold for c in ws[header] if c.value is not None), ws.title
        assert ws.column_dimensions["A"].width and ws.column_dimensions["A"].width > 8, ws.title
    years = gm.year_labels
    for name in (
        "Organisations",
        "Control total",
        "Savings",
        "Gap bridge",
        "Incentives",
        "Organisations (pivot)",
    ):
        ws = book[name]
        numbers = [c for row in ws.iter_rows() for c in row if isinstance(c.value, (int, float))]
        assert numbers, name
        assert {c.number_format for c in numbers} == {workbook.MONEY}, name
    for name in ("Activity", "Capacity", "Population"):
        numbers = [c for row in book[name].iter_rows() for c in row if isinstance(c.value, (int, float))]
        assert {c.number_format for c in numbers} == {workbook.COUNT}, name
    # Money is £m as numbers: the organisations' surplus in the last year matches the table.
    t = tables.organisation_table(gm)
    total = t[t.Group == "System control total"][years[-1]].sum()
    ws = book["Organisations"]
    head = [c.value for c in ws[int(ws.freeze_panes[1:]) - 1]]
    col = head.index(years[-1]) + 1
    cell = next(r[col - 1] for r in ws.iter_rows() if r[1].value == tables.CONTROL_TOTAL)
    assert cell.value == pytest.approx(total) and cell.font.bold


def test_the_pivot_sheet_holds_one_value_a_row(gm, book):
    ws = book["Organisations (pivot)"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("Footprint", "Organisation", "Type", "Group", "Measure", "Year", "£m")
    t = tables.organisation_table(gm)
    assert len(rows) - 1 == len(t) * len(gm.year_labels)
    last = gm.year_labels[-1]
    surplus = sum(r[6] for r in rows[1:] if r[3] == "Organisation" and r[4] == "Surplus" and r[5] == last)
    assert surplus == pytest.approx(-gm.finance.gap("plan")[:, -1].mean() / 1e6)


# Columns that hold an identifier on purpose, beside the words: what a plan file or the data
# folder calls the thing. Everything else people read is in words.
IDENTIFIER_COLUMNS = {"Identifier", "Table (file name)"}


def test_no_internal_ids_or_snake_case_where_people_read(gm, book):
    internal = _internal_names(gm)
    for ws in book:
        if ws.title == "Plan":  # the plan file itself, as run
            continue
        header = int(re.sub(r"\D", "", ws.freeze_panes)) - 1
        skip = {c.column for c in ws[header] if c.value in IDENTIFIER_COLUMNS}
        for row in ws.iter_rows():
            for c in row:
                if not isinstance(c.value, str) or c.column in skip:
                    continue
                assert "acute:" not in c.value, (ws.title, c.coordinate, c.value)
                assert c.value not in internal, (ws.title, c.coordinate, c.value)
                if c.row <= header or c.column <= 4:  # titles, headers and row labels
                    assert not SNAKE.fullmatch(c.value.strip()), (ws.title, c.coordinate, c.value)
