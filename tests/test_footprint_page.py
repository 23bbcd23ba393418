"""The footprint page (issue 21, items 6 and 8): the do-nothing gap with its bridge, every
organisation by name (each CCG and council too), and links to the footprint's plans and to what
its published plan says."""

from __future__ import annotations

import html
import re
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from stpsim.api.app import create_app
from stpsim.service import Service, demo
from stpsim.service.catalogue import find_footprint
from stpsim.service.demo import GM
from stpsim.service.england import footprint_do_nothing
from stpsim.web import figures
from stpsim.web.charts import gap, interval, money

from .conftest_store import sqlite_url


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    svc = Service(sqlite_url(tmp_path_factory.mktemp("footprint_page")))
    made = demo.populate(svc)
    return SimpleNamespace(svc=svc, made=made)


def visitor(site, name: str | None = None) -> TestClient:
    c = TestClient(create_app(site.svc), raise_server_exceptions=False, follow_redirects=False)
    if name:
        token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
        pw = site.made.logins[name].password
        assert (
            c.post("/login", data={"csrf_token": token, "user_name": name, "password": pw}).status_code == 303
        )
    return c


def table_rows(page, table_id: str) -> list[list[str]]:
    body = re.search(rf'<table class="table" id="{table_id}">(.*?)</table>', page.text, re.S).group(1)
    rows = re.findall(r"<tr>(.*?)</tr>", body.split("<tbody>")[1], re.S)
    return [
        [
            html.unescape(" ".join(re.sub(r"<[^>]+>", " ", c).split()))
            for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r, re.S)
        ]
        for r in rows
    ]


def test_the_footprint_page_shows_the_gap_line_by_line_from_the_maps_run(site):
    page = visitor(site).get(f"/footprints/{GM}")
    assert page.status_code == 200
    run = footprint_do_nothing(GM, figures.DRAWS, figures.SEED, figures.LAST_YEAR).document
    last = run["years"][-1]
    rows = table_rows(page, "bridge-table")
    expected = [[line["title"], interval(line[last])] for line in run["gap_bridge"].values()]
    total = gap(run["finance"]["do_nothing"]["system"], last)
    assert rows == [*expected, ["The gap if nothing changes", interval(total)]]
    # The lines add up to the gap (the averages, to the pound), and the page's sentence is the
    # same figure as England's map.
    assert sum(line[last]["mean"] for line in run["gap_bridge"].values()) == pytest.approx(
        total["mean"], abs=1.0
    )
    assert f"spending here would run about {money(total['mean'])} above income" in html.unescape(page.text)


def test_every_organisation_is_named_with_each_ccg_and_council(site):
    page = visitor(site).get(f"/footprints/{GM}")
    rows = table_rows(page, "organisations-table")
    fp = find_footprint(GM)
    commissioners = next(r[0] for r in rows if r[0].startswith("Greater Manchester commissioners"))
    assert commissioners == "Greater Manchester commissioners (10 CCGs) – " + ", ".join(
        c.name for c in fp.ccgs
    )
    councils = next(r[0] for r in rows if "adult social care" in r[0])
    assert councils.endswith(" – " + ", ".join(la.name for la in fp.local_authorities))
    assert {t.name for t in fp.acute_trusts} <= {r[0] for r in rows}
    assert rows[-1][0] == "System control total"


def test_the_footprint_page_links_to_its_plans_and_public_page(site):
    gm = site.made.plans["greater_manchester.yaml"]
    lead = visitor(site, "gm_lead").get(f"/footprints/{GM}").text
    assert f'<a href="/plans/{gm}/versions/1">Greater Manchester - Taking Charge</a>' in lead
    assert f'<a href="/public#area-{GM}">' in lead
    anonymous = visitor(site).get(f"/footprints/{GM}").text
    assert f'href="/plans/{gm}/versions/1"' not in anonymous  # plans are for those who may read them
    assert f'id="area-{GM}"' in visitor(site).get("/public").text  # the link lands on its plan


def test_the_page_names_places_and_shows_no_codes(site):
    """Issue 21, item 5: names, not codes, in what a reader sees (codes stay in addresses)."""
    page = visitor(site).get(f"/footprints/{GM}")
    main = page.text.split("<main", 1)[1].split("</main>", 1)[0]
    visible = re.sub(r"<script.*?</script>|<[^>]+>", " ", main, flags=re.S)
    assert not re.search(r"\bE(?:38|54|06|07|08|09|10)\d{6}\b", visible)
