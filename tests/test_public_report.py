"""The public version (issue 14): short, plain, named hospitals, uncertainty in words, and the
technical appendix on a page of its own; the compare report puts the comparison first."""

import html
import re

import pytest
import textstat

import stpsim
from stpsim import plan, report, story

IDENTIFIER = re.compile(r"\b[a-z]+_[a-z0-9_]+\b|acute:|\bE(?:38|54|06|07|08|09|10)\d{6}\b|\bR[A-Z0-9]{2}\b")


@pytest.fixture(scope="module")
def gm():
    p = plan.load("examples/greater_manchester.yaml").model_copy(
        update={"monte_carlo": plan.MonteCarlo(draws=60, seed=1)}
    )
    return stpsim.run(p)


def _visible_text(page: str) -> str:
    body = re.sub(r"<script.*?</script>|<style.*?</style>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


def test_the_public_main_page_is_short_plain_and_free_of_identifiers(gm, tmp_path):
    path = report.write(gm, tmp_path / "public.html", audience="public")
    appendix = tmp_path / "public-appendix.html"
    page = path.read_text()
    text = _visible_text(page)
    assert len(text.split()) < 1200
    s = story.tell(gm, "public")
    body = " ".join(p for sec in s.sections for p in sec.paragraphs)
    assert textstat.flesch_reading_ease(body) >= 60
    assert IDENTIFIER.findall(text) == []
    # The technical appendix is a separate page, linked from the main page.
    assert appendix.exists()
    assert 'href="public-appendix.html"' in page
    assert "Assumptions" in _visible_text(appendix.read_text()) and "Assumptions</h2>" not in page
    # Named hospitals, and uncertainty in words.
    for t in gm.plan.places[0].acute_trusts:
        assert t.name in text
    assert "could be as low as" in body or "could even turn into a surplus" in body
    assert "80% interval" not in text and "percentile" not in text


def test_the_board_report_keeps_its_appendix_inline(gm, tmp_path):
    path = report.write(gm, tmp_path / "board.html", audience="board")
    assert not (tmp_path / "board-appendix.html").exists()
    assert '<section id="assumptions">' in path.read_text()


def test_each_section_is_one_function_with_a_phrasebook_per_audience(gm):
    from stpsim.story import board, public, sections

    for audience, book in (("board", board), ("public", public)):
        for fn in sections.ORDER[audience]:
            assert hasattr(book, fn.__name__), (audience, fn.__name__)
    # A section can be told on its own, the same as in the whole story.
    whole = story.tell(gm, "board")
    money = next(s for s in whole.sections if s.key == "money")
    assert money.title == "What it costs and saves"


def test_compare_puts_the_comparison_first_with_money(gm):
    dn = plan.load("examples/greater_manchester_do_nothing.yaml").model_copy(
        update={"monte_carlo": plan.MonteCarlo(draws=60, seed=1)}
    )
    s = story.compare(stpsim.run(dn), gm, "board")
    assert s.sections[0].key == "comparison"
    first = " ".join(s.sections[0].paragraphs)
    assert "shortfall" in first and "of the do-nothing gap" in first


def test_a_do_nothing_plan_does_not_claim_to_close_nothing(gm):
    dn = plan.load("examples/greater_manchester_do_nothing.yaml").model_copy(
        update={"monte_carlo": plan.MonteCarlo(draws=30, seed=1)}
    )
    text = story.tell(stpsim.run(dn), "board").text()
    assert "closing £0" not in text and "by 0%" not in text and "give or take £0" not in text


def test_the_board_report_and_workbook_carry_the_finance_leads_tables(gm, tmp_path):
    import openpyxl

    page = report.write(gm, tmp_path / "board.html", audience="board").read_text()
    for section in ('id="finance-tables"', 'id="investment"', 'id="workforce"'):
        assert section in page
    text = _visible_text(page)
    assert "Manchester University NHS Foundation Trust" in text and "acute:" not in text
    book = report.write(gm, tmp_path / "book.xlsx", fmt="xlsx")
    wb = openpyxl.load_workbook(book)
    assert {"Investment", "Workforce", "Organisations", "Organisations (pivot)"} <= set(wb.sheetnames)
    inv = wb["Investment"]
    header = [c.value for c in inv[4]]
    assert header[0] == "Care model" and "NPV" in header
    first = [c for c in inv[5]]
    assert first[1].number_format == "#,##0.0;(#,##0.0)"
    assert inv.freeze_panes is not None
    wf = wb["Workforce"]
    groups = {wf.cell(r, 1).value for r in range(5, wf.max_row + 1)}
    assert {
        "GPs",
        "Community nurses",
        "Care workers (council-funded home care and care homes only)",
    } <= groups
