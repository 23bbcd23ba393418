"""The reviewer's board (issue 21, item 1): each submission with the numbers of its stored run
(the gap with and without the plan and their intervals, per head, the change since the last
submission, the savings on weak evidence, a risk level), filters and sorting, a confirmation page
for every decision, and a published plan withdrawn with a reason, on the pages and the API."""

from __future__ import annotations

import html
import re
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from stpsim.api.app import create_app
from stpsim.service import Service, demo
from stpsim.service.catalogue import all_footprints, find_footprint, projection_of
from stpsim.service.demo import CORNWALL, GM
from stpsim.web import views
from stpsim.web.charts import millions, millions_change, millions_range, pounds

from .conftest_store import CORNWALL as API_CORNWALL
from .conftest_store import add_users, bearer, cornwall_plan, sqlite_url


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """The demo store (GM's version 1 accepted), Cornwall's plan sent, and GM's version 2 (less
    provider efficiency) sent after the accepted version 1."""
    svc = Service(sqlite_url(tmp_path_factory.mktemp("board")))
    made = demo.populate(svc)
    actors = {n: svc.check_password(n, made.logins[n].password) for n in ("nia", "gm_lead", "cw_lead")}
    gm, cw = made.plans["greater_manchester.yaml"], made.plans["cornwall.yaml"]
    cw_sub = svc.submit(actors["cw_lead"], cw, 1)["id"]
    return SimpleNamespace(svc=svc, made=made, actors=actors, gm=gm, cw=cw, cw_sub=cw_sub)


def signed_in(store, name: str) -> TestClient:
    c = TestClient(create_app(store.svc), raise_server_exceptions=False, follow_redirects=False)
    token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
    pw = store.made.logins[name].password
    assert c.post("/login", data={"csrf_token": token, "user_name": name, "password": pw}).status_code == 303
    return c


def token_of(page) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def cells(page, code: str) -> list[str]:
    """The text of each cell of footprint ``code``'s row on the board."""
    row = re.search(rf'<tr id="row-{code}">(.*?)</tr>', page.text, re.S).group(1)
    texts = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
    return [html.unescape(" ".join(re.sub(r"<[^>]+>", " ", t).split())) for t in texts]


def h1(page) -> str:
    return re.search(r"<h1>(.*?)</h1>", page.text, re.S).group(1).strip()


def gap_of(doc: dict) -> dict:
    """The plan's gap in its last year, from the run document (as the results page reads it)."""
    return doc["finance"]["system"]["gap"][doc["years"][-1]]


# ---- the numbers -----------------------------------------------------------------------------


def test_each_submission_shows_the_numbers_of_its_stored_run(store):
    nia = signed_in(store, "nia")
    page = nia.get("/submissions")
    assert page.status_code == 200
    doc = store.svc.run(store.actors["nia"], store.cw, 1)
    last = doc["years"][-1]
    gap = gap_of(doc)
    people = float(projection_of([find_footprint(CORNWALL)]).population[int(last[:4]) - 2016].sum())
    row = cells(page, CORNWALL)
    assert row[1] == "submitted"
    assert row[3] == f"{millions(gap['mean'])} {millions(gap['p10'])} to {millions(gap['p90'])}"
    assert row[4] == pounds(gap["mean"] / people)
    assert row[5] == "first"  # Cornwall's first submission
    # The same figure as the results page of the same version (one record, one number).
    results = nia.get(f"/plans/{store.cw}/versions/1/results").text
    assert views.interval(gap) in html.unescape(results)


def test_the_decision_page_lists_what_the_reviewer_decides_with(store):
    nia = signed_in(store, "nia")
    page = nia.get(f"/submissions/{store.cw_sub}/accept")
    assert page.status_code == 200
    assert h1(page) == "Accept the plan from Cornwall and the Isles of Scilly?"
    doc = store.svc.run(store.actors["nia"], store.cw, 1)
    text = html.unescape(" ".join(re.sub(r"<[^>]+>", " ", page.text).split()))
    gap, dn = gap_of(doc), doc["finance"]["do_nothing"]["system"]["gap"][doc["years"][-1]]
    assert f"{millions(gap['mean'])} ({millions_range(gap)}, 80% interval)" in text
    assert f"Gap if nothing changes {millions(dn['mean'])} ({millions_range(dn)})" in text
    weak = views.weak_evidence_share(doc)
    assert f"Savings on weak or no evidence {round(weak * 100)}% of the care models' savings" in text
    risk, why = views.risk_of(gap, weak)
    assert f"Risk {risk} {why}" in text


def test_the_change_since_the_last_submission_is_the_difference_of_the_two_runs(tmp_path):
    svc = Service(sqlite_url(tmp_path))
    made = demo.populate(svc)
    lead = svc.check_password("gm_lead", made.logins["gm_lead"].password)
    gm = made.plans["greater_manchester.yaml"]
    doc = svc.get_version(lead, gm, 1)["document"]
    doc["finance"]["provider_efficiency"] = {"low": 0.5, "high": 1.0}  # less cost improvement
    svc.add_version(lead, gm, doc)
    svc.submit(lead, gm, 2)
    nia_actor = svc.check_password("nia", made.logins["nia"].password)
    before, after = svc.run(nia_actor, gm, 1), svc.run(nia_actor, gm, 2)
    change = gap_of(after)["mean"] - gap_of(before)["mean"]
    assert change > 0  # less efficiency leaves more to find
    page = signed_in(SimpleNamespace(svc=svc, made=made), "nia").get("/submissions")
    row = cells(page, GM)
    assert row[5] == millions_change(change)
    assert f'href="/compare?a={gm}:1&amp;b={gm}:2">What changed since version 1</a>' in page.text


# ---- filters and sorting ---------------------------------------------------------------------


def shown(page) -> list[str]:
    return re.findall(r'<tr id="row-(E\d+)">', page.text)


def test_the_board_filters_by_status_region_and_risk(store):
    nia = signed_in(store, "nia")
    assert shown(nia.get("/submissions?status=submitted")) == [CORNWALL]
    assert shown(nia.get("/submissions?status=accepted")) == [GM]
    region = find_footprint(GM).region
    in_region = sorted((f for f in all_footprints() if f.region == region), key=lambda f: f.name)
    page = nia.get("/submissions", params={"region": region, "sort": "name"})
    assert shown(page) == [f.code for f in in_region]
    assert f"Showing {len(in_region)} of 44 footprints." in page.text
    doc = store.svc.run(store.actors["nia"], store.cw, 1)
    risk, _ = views.risk_of(gap_of(doc), views.weak_evidence_share(doc))
    assert CORNWALL in shown(nia.get(f"/submissions?risk={risk}"))
    assert shown(nia.get("/submissions?status=missing&risk=high")) == []  # no run, no risk
    assert "No footprint matches these choices." in nia.get("/submissions?status=missing&risk=high").text


def test_the_board_sorts_waiting_first_and_by_gap(store):
    nia = signed_in(store, "nia")
    default = shown(nia.get("/submissions"))
    assert default[0] == CORNWALL and default[1] == GM and len(default) == 44  # waiting, then accepted
    gaps = {
        code: gap_of(store.svc.run(store.actors["nia"], pid, 1))["mean"]
        for code, pid in ((GM, store.gm), (CORNWALL, store.cw))
    }
    by_gap = shown(nia.get("/submissions?sort=gap"))
    assert by_gap[:2] == sorted(gaps, key=lambda c: -gaps[c])
    assert shown(nia.get("/submissions?sort=name")) == [
        f.code for f in sorted(all_footprints(), key=lambda f: f.name)
    ]


def test_a_choice_that_is_not_offered_is_refused_in_words(store):
    page = signed_in(store, "nia").get("/submissions?status=lost")
    assert page.status_code == 422
    assert (
        "status: 'lost' is not one of the choices (submitted, returned, accepted, withdrawn, missing)"
        in html.unescape(page.text)
    )


def test_only_national_reviewers_see_the_board_and_its_decision_pages(store):
    lead = signed_in(store, "cw_lead")
    assert lead.get("/submissions").status_code == 403
    assert lead.get(f"/submissions/{store.cw_sub}/accept").status_code == 403
    assert signed_in(store, "nia").get("/submissions/999/accept").status_code == 404


# ---- withdrawing a published plan ------------------------------------------------------------


def test_a_published_plan_is_withdrawn_with_a_reason_and_leaves_the_public_page(tmp_path):
    svc = Service(sqlite_url(tmp_path))
    made = demo.populate(svc)
    world = SimpleNamespace(svc=svc, made=made)
    public = TestClient(create_app(svc)).get("/public").text
    assert "Greater Manchester" in public
    nia = signed_in(world, "nia")
    sid = made.accepted
    page = nia.get(f"/submissions/{sid}/withdraw")
    assert h1(page) == "Withdraw the published plan from Greater Manchester?"
    token = token_of(page)
    empty = nia.post(f"/submissions/{sid}/withdraw", data={"csrf_token": token, "confirmed": "yes"})
    assert empty.status_code == 422
    assert "Withdrawing an accepted plan needs a reason" in empty.text
    reason = "The bed numbers were wrong."
    done = nia.post(
        f"/submissions/{sid}/withdraw", data={"csrf_token": token, "confirmed": "yes", "comment": reason}
    )
    assert done.status_code == 303
    board = nia.get("/submissions")
    assert "Withdrew the published plan from Greater Manchester. The reason is recorded." in board.text
    assert cells(board, GM)[1] == "withdrawn"
    assert f"Withdrawn: {reason}" in html.unescape(board.text)
    national = svc.check_password("nia", made.logins["nia"].password)
    entry = [r for r in svc.audit_log(national) if r["action"] == "withdrawn"]
    assert [(e["target"], e["detail"]) for e in entry] == [(f"submission:{sid}", reason)]
    public = TestClient(create_app(svc)).get("/public").text.split("<main")[1]
    assert public.count("<article") == 0
    assert views.england_plan_versions(svc, national) == {}
    again = {"csrf_token": token, "confirmed": "yes", "comment": reason}
    assert nia.post(f"/submissions/{sid}/withdraw", data=again).status_code == 409


def test_the_api_withdraws_an_accepted_submission_for_national_reviewers_only(store_url):
    svc = Service(store_url)
    tokens = add_users(svc)
    c = TestClient(create_app(svc), raise_server_exceptions=False)

    def call(who, method, path, body=None):
        return c.request(method, path, json=body, headers=bearer(tokens[who]))

    pid = call("cw_lead", "POST", "/api/plans", cornwall_plan("to withdraw")).json()["id"]
    sid = call("cw_lead", "POST", f"/api/plans/{pid}/versions/1/submit").json()["id"]
    assert call("nat", "POST", f"/api/submissions/{sid}/withdraw", {"comment": "early"}).status_code == 409
    assert call("nat", "POST", f"/api/submissions/{sid}/accept").status_code == 200
    assert call("cw_lead", "POST", f"/api/submissions/{sid}/withdraw", {"comment": "mine"}).status_code == 403
    refused = call("nat", "POST", f"/api/submissions/{sid}/withdraw", {"comment": " "})
    assert refused.status_code == 422
    assert refused.json() == {"detail": ["reason: withdrawing an accepted plan needs a reason"]}
    done = call("nat", "POST", f"/api/submissions/{sid}/withdraw", {"comment": "figures wrong"})
    assert done.status_code == 200
    body = done.json()
    assert (body["state"], body["footprint"]) == ("withdrawn", API_CORNWALL)
    assert body["comments"][-1]["text"] == "Withdrawn: figures wrong"
    assert call("viewer", "GET", f"/api/plans/{pid}").status_code == 404  # no longer published
    assert call("nat", "POST", f"/api/submissions/{sid}/withdraw", {"comment": "again"}).status_code == 409


# ---- the rules, worked -----------------------------------------------------------------------


def test_weak_evidence_share_worked_example():
    doc = {
        "service_change": {
            "four_tests": {
                "clinical_evidence": {
                    "care_models": [
                        {"care_model": "a", "grade": "strong"},
                        {"care_model": "b", "grade": "weak"},
                        {"care_model": "c", "grade": "null"},
                    ]
                }
            }
        },
        "incentives": [
            {"intervention": "a", "org": "acute:X", "gain": {"mean": 6e6}},
            {"intervention": "a", "org": "commissioner", "gain": {"mean": -1e6}},  # a saves 5m
            {"intervention": "b", "org": "acute:X", "gain": {"mean": 3e6}},  # b saves 3m
            {"intervention": "c", "org": "community", "gain": {"mean": -2e6}},  # c costs: no saving
        ],
    }
    assert views.weak_evidence_share(doc) == pytest.approx(3 / 8, abs=0)
    assert views.weak_evidence_share({"incentives": []}) is None


@pytest.mark.parametrize(
    ("p10", "p90", "weak", "risk"),
    [
        (1.0, 9.0, 0.0, "high"),  # a gap in at least 9 runs in 10
        (-5.0, 9.0, 0.6, "high"),  # over half the savings on weak evidence
        (-5.0, 9.0, 0.1, "medium"),  # a gap is possible
        (-9.0, -1.0, 0.3, "medium"),  # over a quarter on weak evidence
        (-9.0, -1.0, 0.25, "low"),
        (-9.0, -1.0, None, "low"),
    ],
)
def test_the_risk_rule(p10, p90, weak, risk):
    assert views.risk_of({"mean": 0.0, "p10": p10, "p90": p90}, weak)[0] == risk


@pytest.mark.parametrize(
    ("x", "text"),
    [(452_349_999.0, "£452.3m"), (-12_040_000.0, "−£12.0m"), (-40_000.0, "£0.0m"), (1.5e9, "£1,500.0m")],
)
def test_money_on_the_board_is_millions_with_one_decimal(x, text):
    assert millions(x) == text


def test_changes_and_pounds_have_one_minus_sign():
    assert millions_change(3_249_000.0) == "+£3.2m"
    assert millions_change(-420_000.0) == "−£0.4m"
    assert millions_change(40_000.0) == "no change (under £0.1m)"
    assert pounds(-12.4) == "−£12" and pounds(367.5) == "£368" and pounds(-0.2) == "£0"


# ---- what changed between two versions -------------------------------------------------------


def test_compare_says_what_changed_in_the_plan_in_words(tmp_path):
    """Version 1 is the demo's Greater Manchester plan; version 2 is the beds example (fewer care
    models, other coverage, two trusts closing beds, an A&E becoming an urgent treatment centre,
    community capacity). The compare page lists each difference by name, never a code or a path."""
    import yaml

    from stpsim.service.catalogue import EXAMPLES_DIR, library

    svc = Service(sqlite_url(tmp_path))
    made = demo.populate(svc)
    lead = svc.check_password("gm_lead", made.logins["gm_lead"].password)
    gm = made.plans["greater_manchester.yaml"]
    beds = yaml.safe_load((EXAMPLES_DIR / "greater_manchester_beds.yaml").read_text())
    beds["name"] = svc.get_version(lead, gm, 1)["document"]["name"]
    svc.add_version(lead, gm, beds)
    a, b = svc.get_version(lead, gm, 1)["document"], svc.get_version(lead, gm, 2)["document"]
    rows = {r[0]: r[1:] for r in views.plan_changes(a, b, GM)}
    titles = {k: v.title for k, v in library().items()}
    ia = {x["name"]: x for x in a["interventions"]}
    ib = {x["name"]: x for x in b["interventions"]}
    for name in set(ia) | set(ib):
        label = f"Care model: {titles[name]}"
        if ia.get(name) == ib.get(name):
            assert label not in rows
        elif name not in ib:
            assert rows[label][1] == "not adopted"
    assert rows["Beds at Pennine Acute Hospitals NHS Trust from 2019/20"] == (
        "no change",
        "closes 120 beds, counting on 0.3 days shorter stays",
    )
    assert rows["Service change: Trafford General A&E"] == (
        "not proposed",
        "an A&E department becomes an urgent treatment centre in 2018/19",
    )
    assert rows["Community nursing sessions added from 2018/19"] == (
        "none added",
        "60 whole-time equivalents",
    )
    assert not any("." in k or "_" in k for k in rows), "labels are words, not document paths"
    page = signed_in(SimpleNamespace(svc=svc, made=made), "gm_lead").get(f"/compare?a={gm}:1&b={gm}:2")
    assert page.status_code == 200
    table = re.search(r'<table class="table" id="changes-table">(.*?)</table>', page.text, re.S).group(1)
    assert '<th scope="row">Beds at Pennine Acute Hospitals NHS Trust from 2019/20</th>' in table
    assert views.plan_changes(a, a, GM) == ()


# ---- the plans list --------------------------------------------------------------------------


def version_cells(page, plan_id: int, number: int) -> list[str]:
    row = re.search(rf'<tr id="plan-{plan_id}-v{number}">(.*?)</tr>', page.text, re.S).group(1)
    texts = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
    return [html.unescape(" ".join(re.sub(r"<[^>]+>", " ", t).split())) for t in texts]


def test_the_plans_list_says_which_version_is_live_when_and_by_whom(tmp_path):
    svc = Service(sqlite_url(tmp_path))
    made = demo.populate(svc)
    world = SimpleNamespace(svc=svc, made=made)
    lead = svc.check_password("gm_lead", made.logins["gm_lead"].password)
    gm = made.plans["greater_manchester.yaml"]
    svc.add_version(lead, gm, svc.get_version(lead, gm, 1)["document"] | {"name": "GM, second thoughts"})
    svc.submit(lead, gm, 2)
    page = signed_in(world, "gm_lead").get("/plans")
    v1, v2 = version_cells(page, gm, 1), version_cells(page, gm, 2)
    saved = {n: svc.get_version(lead, gm, n)["created_at"] for n in (1, 2)}
    assert (
        v1
        == [
            "version 1 Greater Manchester - Taking Charge",  # its own name: the plan's is now v2's
            "accepted and published the published version",
            f"{saved[1][:16].replace('T', ' ')} UTC",
            "gm_lead",
        ]
    )
    assert v2 == [
        "version 2",
        "sent, waiting for a decision the footprint's current submission",
        f"{saved[2][:16].replace('T', ' ')} UTC",
        "gm_lead",
    ]
    assert page.text.index(f'id="plan-{gm}-v2"') < page.text.index(f'id="plan-{gm}-v1"')  # newest first
    nwl = made.plans["north_west_london.yaml"]
    assert version_cells(signed_in(world, "nia").get("/plans"), nwl, 1)[1] == "draft, not sent"
    # A viewer reads the published version only.
    viewer = signed_in(world, "vic").get("/plans")
    assert f'id="plan-{gm}-v2"' not in viewer.text and f'id="plan-{gm}-v1"' in viewer.text
