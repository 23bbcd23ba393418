"""The public page (issue 21, item 10): a resident finds their area by council, town or area
name, reads its published plan in plain words (no "footprint", no version numbers, Flesch
reading ease of at least 60) with one chart of the money short and its likely range, and the
technical appendix is one click away."""

from __future__ import annotations

import html
import re
from types import SimpleNamespace

import pytest
import textstat
from fastapi.testclient import TestClient

from stpsim.api.app import create_app
from stpsim.service import Service, demo
from stpsim.service.demo import CORNWALL, GM
from stpsim.web import views
from stpsim.web.charts import gap, money, money_unit

from .conftest_store import sqlite_url


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    svc = Service(sqlite_url(tmp_path_factory.mktemp("public_page")))
    made = demo.populate(svc)
    return SimpleNamespace(svc=svc, made=made, c=TestClient(create_app(svc), raise_server_exceptions=False))


def main_text(page) -> str:
    main = page.text.split("<main", 1)[1].split("</main>", 1)[0]
    main = re.sub(r"<script.*?</script>|<details.*?</details>", " ", main, flags=re.S)
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", main).split()))


def articles(page) -> list[str]:
    return re.findall(r'<article class="card" id="area-(E\d+)"', page.text)


def test_a_council_name_finds_its_area_and_its_published_plan(site):
    page = site.c.get("/public", params={"area": "bolton"})
    assert page.status_code == 200
    text = main_text(page)
    assert "Bolton is part of Greater Manchester." in text
    assert articles(page) == [GM]
    assert f'href="/footprints/{GM}"' in page.text  # more about the area


def test_an_area_without_a_published_plan_says_so(site):
    page = site.c.get("/public", params={"area": "Cornwall"})
    text = main_text(page)
    assert "Your area is Cornwall and the Isles of Scilly." in text
    assert "No plan for Cornwall and the Isles of Scilly has been published yet." in text
    assert articles(page) == []


def test_a_name_shared_by_several_areas_lists_them_and_an_unknown_one_suggests(site):
    page = site.c.get("/public", params={"area": "north"})
    found = views.find_area("north")
    assert len(found) > 1
    assert f"{len(found)} areas match 'north'. Choose yours:" in main_text(page)
    assert all(f'<a href="/public?area={code}">' in page.text for code, _, _ in found)
    unknown = main_text(site.c.get("/public", params={"area": "Atlantis"}))
    assert "There is no area called 'Atlantis'." in unknown
    assert "footprint" not in unknown.lower()


def test_the_public_page_speaks_plainly(site):
    page = site.c.get("/public")
    text = main_text(page)
    assert "footprint" not in text.lower()
    assert not re.search(r"\bversion \d", text), "no version numbers for residents"
    assert textstat.flesch_reading_ease(text) >= 60, textstat.flesch_reading_ease(text)


def test_the_one_chart_shows_the_money_short_with_its_likely_range(site):
    page = site.c.get("/public")
    reader = views._public_reader()
    plan = site.made.plans["greater_manchester.yaml"]
    doc = site.svc.run(reader, plan, 1)
    last = doc["years"][-1]
    dn, with_plan = gap(doc["finance"]["do_nothing"]["system"], last), gap(doc["finance"]["system"], last)
    unit = money_unit(dn["mean"], with_plan["mean"])  # the averages' unit, as the story's
    table = re.search(rf'id="chart-gap-{GM}-table">(.*?)</table>', page.text, re.S).group(1)
    cells = [
        html.unescape(re.sub(r"<[^>]+>", "", c).strip())
        for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", table, re.S)
    ]
    for label, g in (("If nothing changes", dn), ("With the plan", with_plan)):
        i = cells.index(label)
        low, high = money(g["p10"], unit), money(g["p90"], unit)
        assert cells[i + 1] == f"about {money(g['mean'], unit)}, likely between {low} and {high}"


def test_the_appendix_link_opens_every_assumption_and_source(site):
    page = site.c.get("/public")
    assert '<a href="/public/appendix" id="appendix-link">' in page.text
    appendix = site.c.get("/public/appendix")
    assert appendix.status_code == 200
    assert '<section id="assumptions"><h2>Assumptions</h2>' in appendix.text
    assert '<section id="sources"><h2>Sources</h2>' in appendix.text


def test_areas_are_found_by_area_council_or_ccg_name():
    assert [c for c, _, _ in views.find_area("Greater Manchester")] == [GM]
    assert [c for c, _, _ in views.find_area("  CORNWALL ")] == [CORNWALL]
    assert views.find_area("") == []
