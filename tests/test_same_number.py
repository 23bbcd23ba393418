"""One plan version, one run, one set of figures: Greater Manchester's 2020/21 gap, emergency
admissions and beds are the same on the England map, the footprint page, the results page,
compare, the HTML report, the workbook, the REST API and the CLI. Each is read off what a user
sees (a table cell, a card, a workbook cell, a JSON field) and held to the stored run's document.
"""

from __future__ import annotations

import html
import io
import json
import re
from types import SimpleNamespace

import openpyxl
import pytest
import yaml
from fastapi.testclient import TestClient

from stpsim.api.app import create_app
from stpsim.cli import main
from stpsim.service import Service, demo
from stpsim.service.demo import GM
from stpsim.story import money_text
from stpsim.web.charts import count, interval

from .conftest_store import sqlite_url

YEAR = "2020/21"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The demo store (GM's plan published), a second GM version (option B: more hospital at
    home) and signed-in clients for the national reviewer."""
    svc = Service(sqlite_url(tmp_path_factory.mktemp("same")))
    made = demo.populate(svc)
    gm_id = made.plans["greater_manchester.yaml"]
    lead = svc.check_password("gm_lead", made.logins["gm_lead"].password)
    nia = svc.check_password("nia", made.logins["nia"].password)
    doc = svc.get_version(lead, gm_id, 1)["document"]
    for a in doc["interventions"]:
        if a["name"] == "hospital_at_home":
            a["coverage"] = min(1.0, a["coverage"] + 0.2)
    svc.add_version(lead, gm_id, doc)
    token = svc.add_user("api_reader", "national")
    app = create_app(svc)
    web = TestClient(app, raise_server_exceptions=False, follow_redirects=False)
    page = web.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = web.post(
        "/login", data={"csrf_token": csrf, "user_name": "nia", "password": made.logins["nia"].password}
    )
    assert r.status_code == 303, r.text
    api = TestClient(app, headers={"Authorization": f"Bearer {token}"})
    truth = svc.run(nia, gm_id, 1)  # the stored run every page reads
    return SimpleNamespace(svc=svc, gm=gm_id, web=web, api=api, truth=truth, nia=nia)


def figures(doc: dict) -> dict[str, dict]:
    """GM's three figures in 2020/21 (mean, p10, p90) from a run document."""
    return {
        "gap": doc["finance"]["system"]["gap"][YEAR],
        "emergency_admissions": doc["activity"]["emergency_admissions"][YEAR],
        "beds": doc["capacity"]["beds"][YEAR],
    }


def cells(page: str) -> list[str]:
    """The text of every table cell on a page."""
    return [
        html.unescape(re.sub(r"<[^>]+>", "", c)).strip()
        for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", page, re.S)
    ]


def shown(doc: dict) -> set[str]:
    """The three figures as the dashboard's tables print them."""
    f = figures(doc)
    return {interval(f["gap"]), interval(f["emergency_admissions"], count), interval(f["beds"], count)}


def test_the_api_gives_the_stored_run(world):
    r = world.api.post("/api/runs", json={"plan_id": world.gm, "version": 1})
    assert r.status_code == 200, r.text
    assert figures(r.json()) == figures(world.truth)


def test_the_cli_gives_the_same_numbers_for_the_same_plan(world, tmp_path, capsys):
    doc = world.svc.get_version(world.nia, world.gm, 1)["document"]
    path = tmp_path / "gm.yaml"
    path.write_text(yaml.safe_dump(doc))
    assert main(["run", str(path), "--json"]) == 0
    assert figures(json.loads(capsys.readouterr().out)) == figures(world.truth)


def test_the_results_page_shows_them(world):
    page = world.web.get(f"/plans/{world.gm}/versions/1/results")
    assert page.status_code == 200
    assert shown(world.truth) <= set(cells(page.text))


def test_the_footprint_page_shows_its_plans_figures(world):
    page = world.web.get(f"/footprints/{GM}")
    assert page.status_code == 200
    assert shown(world.truth) <= set(cells(page.text))


def test_the_england_map_shows_the_plans_gap_a_head(world):
    page = world.web.get("/?shade=plan")
    assert page.status_code == 200
    rollup_rows = re.findall(r"<tr>(.*?)</tr>", page.text, re.S)
    (gm_row,) = [r for r in rollup_rows if "Greater Manchester" in r]
    people = int(
        next(c for c in cells(f"<table>{gm_row}</table>") if re.fullmatch(r"[\d,]+", c)).replace(",", "")
    )
    per_head = figures(world.truth)["gap"]["mean"] / people
    assert f"£{count(per_head)}" in cells(f"<table>{gm_row}</table>")


def test_compare_shows_option_a_as_its_results_page(world):
    page = world.web.get(f"/compare?a={world.gm}:1&b={world.gm}:2")
    assert page.status_code == 200, page.text[:500]
    assert shown(world.truth) <= set(cells(page.text))
    b = world.svc.run(world.nia, world.gm, 2)
    assert shown(b) <= set(cells(page.text))


def test_the_html_report_quotes_the_same_gap(world):
    r = world.web.get(f"/plans/{world.gm}/versions/1/report.html")
    assert r.status_code == 200
    cards = dict(
        (html.unescape(k), html.unescape(v))
        for v, k in re.findall(r'<div class="card[^"]*"><b>(.*?)</b>(.*?)</div>', r.text)
    )
    assert cards["Shortfall with the plan"] == money_text(figures(world.truth)["gap"]["mean"])


def test_the_workbook_holds_the_same_numbers(world):
    r = world.web.get(f"/plans/{world.gm}/versions/1/report.xlsx")
    assert r.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(r.content))["Summary"]
    rows = list(sheet.iter_rows(values_only=True))
    header = next(row for row in rows if row and row[0] == "Measure")
    col = header.index(YEAR)
    by_label = {row[0]: row[col] for row in rows if row and row[0]}
    f = figures(world.truth)
    # The document rounds to the penny; the workbook keeps the mean unrounded.
    assert by_label["Gap with the plan (shortfall +)"] == pytest.approx(f["gap"]["mean"] / 1e6, abs=1e-8)
    assert by_label["Emergency admissions, with the plan"] == pytest.approx(
        f["emergency_admissions"]["mean"], abs=0.01
    )
    assert by_label["Beds needed, with the plan"] == pytest.approx(f["beds"]["mean"], abs=0.01)
