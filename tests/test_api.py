"""The REST API over the shared store: who may do what, immutable versions, submissions, field
errors, stored and background runs, and logs that never hold a token.

Expectations come from the rules in stpsim/service.py: national reads everything and accepts or
returns submissions; a lead creates, edits and submits plans of its footprints; an analyst creates
and edits them but cannot submit; a viewer reads published plans only (versions whose submission
was accepted). 401 without a valid token, 403 when the role or footprint does not allow it.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import time
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from stpsim import __version__
from stpsim.api.app import create_app
from stpsim.service import Service, canonical

from .conftest_store import (
    CORNWALL,
    GM,
    USERS,
    add_users,
    bearer,
    cornwall_plan,
    fresh_postgres,
    gm_plan,
    sqlite_url,
)

ROLES = list(USERS)  # nat, gm_lead, gm_analyst, cw_lead, viewer
OK_MESSAGE_500 = ["the server could not complete this request; it has been logged"]


class World(SimpleNamespace):
    """A store, its service, the users' tokens and a client; ids of what a fixture made."""

    def __repr__(self) -> str:  # short in failure reports (and never shows the tokens)
        return f"World({self.url})"


def make_world(url: str) -> World:
    svc = Service(url)
    tokens = add_users(svc)
    client = TestClient(create_app(svc), raise_server_exceptions=False)
    return World(url=url, svc=svc, tokens=tokens, client=client)


def call(w: SimpleNamespace, who: str | None, method: str, path: str, body=None, headers=None):
    h = dict(headers or {})
    if who is not None:
        h |= bearer(w.tokens[who])
    return w.client.request(method, path, json=body, headers=h)


def created(resp, status: int = 201) -> dict:
    assert resp.status_code == status, f"expected {status}, got {resp.status_code}: {resp.text}"
    return resp.json()


def new_plan(w, who: str, doc: dict) -> int:
    return created(call(w, who, "POST", "/api/plans", doc))["id"]


def submit(w, who: str, plan_id: int, number: int) -> int:
    return created(call(w, who, "POST", f"/api/plans/{plan_id}/versions/{number}/submit"))["id"]


# ---- the read world: GM plan with v1 published and v2 a draft, a GM draft plan, a Cornwall plan --


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    w = make_world(sqlite_url(tmp_path_factory.mktemp("api_read")))
    w.gm = new_plan(w, "gm_lead", gm_plan("GM published"))
    created(call(w, "gm_lead", "POST", f"/api/plans/{w.gm}/versions", gm_plan("GM draft v2")))
    w.gm_sub = submit(w, "gm_lead", w.gm, 1)
    created(call(w, "nat", "POST", f"/api/submissions/{w.gm_sub}/accept"), 200)
    w.gm_draft = new_plan(w, "gm_analyst", gm_plan("GM draft plan"))
    w.cw = new_plan(w, "cw_lead", cornwall_plan("Cornwall submitted"))
    w.cw_sub = submit(w, "cw_lead", w.cw, 1)
    run = {"draws": 20, "seed": 1}
    w.run_gm = created(call(w, "nat", "POST", "/api/runs", {"plan_id": w.gm, "version": 1} | run), 200)
    w.run_gm_v2 = created(call(w, "nat", "POST", "/api/runs", {"plan_id": w.gm, "version": 2} | run), 200)
    w.run_cw = created(call(w, "nat", "POST", "/api/runs", {"plan_id": w.cw, "version": 1} | run), 200)
    return w


@pytest.fixture()
def fresh(tmp_path):
    """A new store with the five users and nothing else."""
    return make_world(sqlite_url(tmp_path))


def expect(default: int, **by_role: int) -> dict[str, int]:
    return {r: by_role.get(r, default) for r in ROLES}


ALL_200 = expect(200)
NATIONAL_ONLY = expect(403, nat=200)
# Issue 20, item 6: what you may not read answers 404, as if it did not exist (a 403 would
# tell a stranger which footprint it is for).
GM_READERS = expect(200, cw_lead=404)  # the published GM plan: the viewer reads it too
GM_PRIVATE = expect(200, cw_lead=404, viewer=404)
CW_PRIVATE = expect(404, nat=200, cw_lead=200)
GM_DRAFT_VERSION = expect(200, cw_lead=404, viewer=404)  # a viewer sees no unpublished version
RUN = {"draws": 20, "seed": 1}
# Issue 20, item 4: a viewer reads a version's own run only; asking for other draws is refused.
GM_RUN_OTHER_DRAWS = expect(200, cw_lead=404, viewer=403)

READS = [
    ("healthz", "GET", "/healthz", None, ALL_200),
    ("footprints", "GET", "/api/footprints", None, ALL_200),
    ("baseline GM", "GET", f"/api/footprints/{GM}/baseline", None, ALL_200),
    ("baseline Cornwall", "GET", f"/api/footprints/{CORNWALL}/baseline?year=2020/21", None, ALL_200),
    ("list plans", "GET", "/api/plans", None, ALL_200),
    ("GM plan (v1 published)", "GET", "/api/plans/{gm}", None, GM_READERS),
    ("GM draft plan", "GET", "/api/plans/{gm_draft}", None, GM_PRIVATE),
    ("Cornwall plan", "GET", "/api/plans/{cw}", None, CW_PRIVATE),
    ("GM v1 (published)", "GET", "/api/plans/{gm}/versions/1", None, GM_READERS),
    ("GM v2 (draft)", "GET", "/api/plans/{gm}/versions/2", None, GM_DRAFT_VERSION),
    ("GM draft plan v1", "GET", "/api/plans/{gm_draft}/versions/1", None, GM_PRIVATE),
    ("Cornwall v1", "GET", "/api/plans/{cw}/versions/1", None, CW_PRIVATE),
    ("list submissions", "GET", "/api/submissions", None, ALL_200),
    ("run GM v1", "POST", "/api/runs", {"plan_id": "{gm}", "version": 1} | RUN, GM_RUN_OTHER_DRAWS),
    ("run GM v2 (draft)", "POST", "/api/runs", {"plan_id": "{gm}", "version": 2} | RUN, GM_DRAFT_VERSION),
    ("run Cornwall v1", "POST", "/api/runs", {"plan_id": "{cw}", "version": 1} | RUN, CW_PRIVATE),
    ("stored run GM v1", "GET", "/api/runs/{run_gm}", None, GM_READERS),
    ("stored run GM v2 (draft)", "GET", "/api/runs/{run_gm_v2}", None, GM_DRAFT_VERSION),
    ("stored run Cornwall v1", "GET", "/api/runs/{run_cw}", None, CW_PRIVATE),
    ("report GM v1", "GET", "/api/plans/{gm}/versions/1/report", None, GM_READERS),
    ("report GM v2 (draft)", "GET", "/api/plans/{gm}/versions/2/report", None, GM_DRAFT_VERSION),
    ("report Cornwall v1", "GET", "/api/plans/{cw}/versions/1/report?format=xlsx", None, CW_PRIVATE),
    ("rollup", "GET", "/api/rollup?draws=5", None, NATIONAL_ONLY),
    ("audit", "GET", "/api/audit", None, NATIONAL_ONLY),
]


def _ids(w) -> dict:
    return {
        "gm": w.gm,
        "gm_draft": w.gm_draft,
        "cw": w.cw,
        "run_gm": w.run_gm["run_id"],
        "run_gm_v2": w.run_gm_v2["run_id"],
        "run_cw": w.run_cw["run_id"],
    }


def _fill(value, ids: dict):
    if isinstance(value, str):
        filled = value.format(**ids)
        return int(filled) if value.startswith("{") and filled.isdigit() else filled
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


def _stub_rollup(monkeypatch):
    """The roll-up simulates England: the matrix checks rights, one test rolls up for real."""
    import stpsim.rollup

    # The smallest document the API's RollupResponse model accepts.
    stub = {
        "reconciliation": {},
        "draws": 1,
        "seed": 1,
        "years": [],
        "sign": "",
        "footprints": [],
        "england": {},
        "largest_gap_per_head": [],
    }
    monkeypatch.setattr(stpsim.rollup, "rollup", lambda *a, **k: SimpleNamespace(to_dict=lambda: stub))


@functools.lru_cache(maxsize=1)
def _small_record() -> tuple[dict, bytes]:
    """One real run record, small (Cornwall, 2 draws), computed once for the matrix."""
    from stpsim.plan import MonteCarlo, load
    from stpsim.service.plans import run_and_pack

    p = load("examples/cornwall.yaml")
    return run_and_pack(p.model_copy(update={"monte_carlo": MonteCarlo(draws=2, seed=1)}))


def _stub_report(monkeypatch):
    """The report's run and rendering take a while: the matrix checks rights (which the service
    checks before it reads or computes the run), one test renders it."""
    import stpsim.report
    from stpsim.service.plans import Service

    def write(_results, path, _audience, _fmt, *_rest):
        path.write_bytes(b"stub report")
        return path

    monkeypatch.setattr(Service, "_compute_run", lambda self, *a: _small_record())
    monkeypatch.setattr(stpsim.report, "write", write)


def _check(resp, who: str, label: str, expected: int) -> None:
    assert resp.status_code == expected, (
        f"{who} ({USERS[who][0]}) on {label}: expected {expected}, got {resp.status_code}: {resp.text[:300]}"
    )
    if expected == 403:
        role = USERS[who][0]
        detail = resp.json()["detail"]
        assert len(detail) == 1 and detail[0].startswith(f"{who} ({role}) may not "), detail


@pytest.mark.parametrize("who", ROLES)
@pytest.mark.parametrize(("label", "method", "path", "body", "expected"), READS, ids=[r[0] for r in READS])
def test_read_matrix(world, monkeypatch, who, label, method, path, body, expected):
    if label.startswith("report"):
        _stub_report(monkeypatch)
    if label == "rollup":
        _stub_rollup(monkeypatch)
    ids = _ids(world)
    resp = call(world, who, method, path.format(**ids), _fill(body, ids))
    _check(resp, who, label, expected[who])


def test_healthz_needs_no_token(world):
    resp = world.client.get("/healthz")
    assert resp.status_code == 200
    assert resp.json() == {"status": "ok", "version": __version__}


# ---- writes: each cell acts on its own fresh target in a separate store ----------------------


@pytest.fixture(scope="module")
def wworld(tmp_path_factory):
    return make_world(sqlite_url(tmp_path_factory.mktemp("api_write")))


EDIT = {
    GM: expect(403, gm_lead=201, gm_analyst=201),
    CORNWALL: expect(403, cw_lead=201),
}
SUBMIT = {GM: expect(403, gm_lead=201), CORNWALL: expect(403, cw_lead=201)}
LEAD_OF = {GM: "gm_lead", CORNWALL: "cw_lead"}
DOC = {GM: gm_plan, CORNWALL: cornwall_plan}


@pytest.mark.parametrize("who", ROLES)
@pytest.mark.parametrize("footprint", [GM, CORNWALL], ids=["GM", "Cornwall"])
def test_create_plan_matrix(wworld, who, footprint):
    resp = call(wworld, who, "POST", "/api/plans", DOC[footprint](f"created by {who}"))
    _check(resp, who, f"POST /api/plans for {footprint}", EDIT[footprint][who])
    if resp.status_code == 201:
        assert resp.json()["version"] == 1 and resp.json()["footprint"] == footprint


@pytest.mark.parametrize("who", ROLES)
@pytest.mark.parametrize("footprint", [GM, CORNWALL], ids=["GM", "Cornwall"])
def test_add_version_matrix(wworld, who, footprint):
    pid = new_plan(wworld, LEAD_OF[footprint], DOC[footprint]("target"))
    resp = call(wworld, who, "POST", f"/api/plans/{pid}/versions", DOC[footprint](f"edited by {who}"))
    _check(resp, who, f"POST /api/plans/{{id}}/versions for {footprint}", EDIT[footprint][who])
    if resp.status_code == 201:
        assert resp.json()["version"] == 2


@pytest.mark.parametrize("who", ROLES)
@pytest.mark.parametrize("footprint", [GM, CORNWALL], ids=["GM", "Cornwall"])
def test_submit_matrix(wworld, who, footprint):
    pid = new_plan(wworld, LEAD_OF[footprint], DOC[footprint]("to submit"))
    resp = call(wworld, who, "POST", f"/api/plans/{pid}/versions/1/submit")
    _check(resp, who, f"POST .../submit for {footprint}", SUBMIT[footprint][who])
    if resp.status_code == 201:
        assert resp.json()["state"] == "submitted" and resp.json()["version"] == 1


@pytest.mark.parametrize("who", ROLES)
@pytest.mark.parametrize("footprint", [GM, CORNWALL], ids=["GM", "Cornwall"])
@pytest.mark.parametrize("decision", ["accept", "return"])
def test_decide_matrix(wworld, who, footprint, decision):
    pid = new_plan(wworld, LEAD_OF[footprint], DOC[footprint]("to decide"))
    sid = submit(wworld, LEAD_OF[footprint], pid, 1)
    resp = call(wworld, who, "POST", f"/api/submissions/{sid}/{decision}", {"comment": "seen by the centre"})
    _check(resp, who, f"POST /api/submissions/{{id}}/{decision} for {footprint}", NATIONAL_ONLY[who])
    if resp.status_code == 200:
        assert resp.json()["state"] == {"accept": "accepted", "return": "returned"}[decision]


# ---- 401 ---------------------------------------------------------------------------------------

ENDPOINTS = [
    ("GET", "/api/footprints", None),
    ("GET", f"/api/footprints/{GM}/baseline", None),
    ("POST", "/api/plans", "doc"),
    ("GET", "/api/plans", None),
    ("GET", "/api/plans/{gm}", None),
    ("GET", "/api/plans/{gm}/versions/1", None),
    ("POST", "/api/plans/{gm}/versions", "doc"),
    ("POST", "/api/plans/{gm}/versions/2/submit", None),
    ("GET", "/api/submissions", None),
    ("POST", "/api/submissions/{cw_sub}/accept", None),
    ("POST", "/api/submissions/{cw_sub}/return", {"comment": "no"}),
    ("POST", "/api/runs", {"plan_id": "{gm}", "version": 1} | RUN),
    ("GET", "/api/runs/{run_gm}", None),
    ("GET", "/api/rollup", None),
    ("GET", "/api/plans/{gm}/versions/1/report", None),
    ("GET", "/api/audit", None),
]
NO_TOKEN = ["a bearer token is required (Authorization: Bearer TOKEN)"]
BAD_TOKEN = ["the token is not valid"]


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ({}, NO_TOKEN),
        ({"Authorization": "Bearer not-a-real-token"}, BAD_TOKEN),
        ({"Authorization": "Basic bmF0OnNlY3JldA=="}, NO_TOKEN),
        ({"Authorization": "Bearer"}, NO_TOKEN),
    ],
    ids=["none", "unknown", "basic", "empty"],
)
@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS, ids=[f"{m} {p}" for m, p, _ in ENDPOINTS])
def test_unauthenticated_is_401(world, method, path, body, headers, detail):
    ids = _ids(world) | {"cw_sub": world.cw_sub}
    payload = gm_plan("anonymous") if body == "doc" else _fill(body, ids)
    resp = call(world, None, method, path.format(**ids), payload, headers=headers)
    assert resp.status_code == 401, f"{method} {path} with {headers}: {resp.status_code} {resp.text[:200]}"
    assert resp.json() == {"detail": detail}


def test_forbidden_messages_name_user_role_and_footprint(world):
    resp = call(world, "gm_analyst", "POST", f"/api/plans/{world.gm}/versions/1/submit")
    assert resp.status_code == 403
    assert resp.json() == {"detail": [f"gm_analyst (analyst) may not submit plans of {GM}"]}
    resp = call(world, "cw_lead", "POST", f"/api/plans/{world.gm}/versions", gm_plan("takeover"))
    assert resp.status_code == 403
    assert resp.json() == {"detail": [f"cw_lead (lead) may not edit plans of {GM}"]}
    resp = call(world, "nat", "POST", "/api/plans", gm_plan("from the centre"))
    # Rights come before the document: a national reviewer may not create plans anywhere.
    assert resp.json() == {"detail": ["nat (national) may not create plans"]}
    resp = call(world, "viewer", "GET", f"/api/plans/{world.cw}")
    assert resp.status_code == 404 and resp.json() == {"detail": [f"plan {world.cw} not found"]}


@pytest.mark.parametrize(
    ("who", "path", "status"),
    [
        ("viewer", "/api/plans", 403),
        ("nat", "/api/plans", 403),
        ("cw_lead", "/api/plans/{gm}/versions", 403),
        ("viewer", "/api/plans/{gm}/versions", 403),
        ("gm_lead", "/api/plans/9999/versions", 404),
    ],
)
def test_rights_and_existence_are_checked_before_the_document(world, who, path, status):
    """A user who may never save there (or a plan that does not exist) is told so first, not sent to
    fix a document they cannot save: the role, and for a version the plan's footprint, are known
    before the document is read."""
    resp = call(world, who, "POST", path.format(gm=world.gm), gm_plan(end_year="2050/51"))
    assert resp.status_code == status, (
        f"{who} ({USERS[who][0]}) POST {path} with an invalid plan answers {resp.status_code} "
        f"{resp.json()['detail']}: the document is validated before rights (and the plan's existence) "
        f"are checked, so the user is asked to fix a plan they cannot save; expected {status}"
    )


def test_each_user_lists_only_what_they_may_read(world):
    def plans(who):
        return sorted((p["id"], p["latest_version"]) for p in call(world, who, "GET", "/api/plans").json())

    gm = [(world.gm, 2), (world.gm_draft, 1)]
    assert plans("nat") == sorted(gm + [(world.cw, 1)])
    assert plans("gm_lead") == gm
    assert plans("gm_analyst") == gm
    assert plans("cw_lead") == [(world.cw, 1)]
    assert plans("viewer") == [(world.gm, 1)], "a viewer lists published plans at their published version"

    def subs(who):
        return sorted((s["id"], s["state"]) for s in call(world, who, "GET", "/api/submissions").json())

    both = sorted([(world.gm_sub, "accepted"), (world.cw_sub, "submitted")])
    assert subs("nat") == both
    assert subs("gm_lead") == subs("gm_analyst") == [(world.gm_sub, "accepted")]
    assert subs("cw_lead") == [(world.cw_sub, "submitted")]
    assert subs("viewer") == [(world.gm_sub, "accepted")]
    viewer_plan = call(world, "viewer", "GET", f"/api/plans/{world.gm}").json()
    assert [v["version"] for v in viewer_plan["versions"]] == [1]


def test_viewer_never_sees_an_unpublished_version_name(world):
    """v1 ("GM published") was accepted; v2 ("GM draft v2") was never submitted."""
    answers = {
        "GET /api/plans": call(world, "viewer", "GET", "/api/plans").text,
        "GET /api/plans/{id}": call(world, "viewer", "GET", f"/api/plans/{world.gm}").text,
        "GET /api/plans/{id}/versions/1": call(
            world, "viewer", "GET", f"/api/plans/{world.gm}/versions/1"
        ).text,
    }
    leaks = [k for k, text in answers.items() if "GM draft v2" in text]
    assert not leaks, (
        f"BUG: a viewer sees the name of an unpublished draft (v2 'GM draft v2') in {leaks}: the plan row's "
        "name is overwritten by every save and shown in place of the published version's name"
    )


def test_viewer_cannot_read_a_run_of_an_unpublished_version(world):
    resp = call(world, "viewer", "GET", f"/api/runs/{world.run_gm_v2['run_id']}")
    assert resp.status_code == 404, (
        f"BUG: a viewer reads the stored results of unpublished GM v2 through GET /api/runs/{{id}} "
        f"(got {resp.status_code}); GET /api/plans/{{id}}/versions/2 answers the viewer 404. get_run checks "
        "only that the plan has some published version, not that this run's version is published"
    )


def test_report_renders_html_and_checks_audience(world):
    resp = call(world, "nat", "GET", f"/api/plans/{world.gm}/versions/1/report")
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "text/html; charset=utf-8"
    assert resp.text.lstrip().lower().startswith("<!doctype html")
    resp = call(world, "nat", "GET", f"/api/plans/{world.gm}/versions/1/report?audience=press")
    assert resp.status_code == 422
    assert resp.json() == {"detail": ["query.audience: Input should be 'board' or 'public'; got 'press'"]}


def test_rollup_uses_each_footprints_latest_submission_not_returned(fresh):
    """service.rollup_submissions: "England from each footprint's latest submission that was not
    returned, do-nothing elsewhere"."""
    gm = new_plan(fresh, "gm_lead", gm_plan("GM accepted"))
    created(call(fresh, "gm_lead", "POST", f"/api/plans/{gm}/versions", gm_plan("GM returned")))
    created(call(fresh, "nat", "POST", f"/api/submissions/{submit(fresh, 'gm_lead', gm, 1)}/accept"), 200)
    back = submit(fresh, "gm_lead", gm, 2)
    created(call(fresh, "nat", "POST", f"/api/submissions/{back}/return", {"comment": "not yet"}), 200)
    cw = new_plan(fresh, "cw_lead", cornwall_plan("Cornwall pending"))
    submit(fresh, "cw_lead", cw, 1)

    resp = call(fresh, "nat", "GET", "/api/rollup?draws=5&seed=1")
    assert resp.status_code == 200, resp.text[:300]
    body = resp.json()
    assert (body["draws"], body["seed"]) == (5, 1)
    plans = {f["code"]: f["plan"] for f in body["footprints"]}
    assert len(plans) == 44
    assert plans[CORNWALL] == "Cornwall pending"
    assert {c for c, p in plans.items() if p is not None} <= {GM, CORNWALL}
    assert plans[GM] == "GM accepted", (
        f"BUG: the roll-up takes Greater Manchester as {plans[GM]!r} (None = do-nothing): its latest "
        "submission that was not returned is the accepted v1 'GM accepted', but the query keeps only "
        "unsuperseded submissions, so returning v2 drops the footprint's accepted plan from England"
    )


# ---- versions are never overwritten ------------------------------------------------------------


def test_versions_are_never_overwritten(fresh):
    first = created(call(fresh, "gm_lead", "POST", "/api/plans", gm_plan("GM first")))
    pid = first["id"]
    v1 = created(call(fresh, "gm_lead", "GET", f"/api/plans/{pid}/versions/1"), 200)
    assert v1["document"]["name"] == "GM first"
    assert v1["content_hash"] == first["content_hash"]
    assert v1["content_hash"] == hashlib.sha256(canonical(v1["document"]).encode()).hexdigest()

    changed = gm_plan("GM second", monte_carlo={"draws": 500, "seed": 7})
    second = created(call(fresh, "gm_analyst", "POST", f"/api/plans/{pid}/versions", changed))
    assert second["version"] == 2 and second["content_hash"] != first["content_hash"]
    again = created(call(fresh, "gm_lead", "GET", f"/api/plans/{pid}/versions/1"), 200)
    assert again["document"] == v1["document"]
    assert again["content_hash"] == first["content_hash"]
    assert again["created_at"] == first["created_at"]

    # Saving v1's document again is a new version, not a rewrite of v1.
    third = created(call(fresh, "gm_lead", "POST", f"/api/plans/{pid}/versions", gm_plan("GM first")))
    assert third["version"] == 3 and third["content_hash"] == first["content_hash"]
    plan = created(call(fresh, "nat", "GET", f"/api/plans/{pid}"), 200)
    assert [v["version"] for v in plan["versions"]] == [1, 2, 3]
    assert [v["content_hash"] for v in plan["versions"]] == [
        first["content_hash"],
        second["content_hash"],
        first["content_hash"],
    ]


def test_a_version_reads_back_with_its_own_name(fresh):
    pid = new_plan(fresh, "gm_lead", gm_plan("GM first"))
    created(call(fresh, "gm_lead", "POST", f"/api/plans/{pid}/versions", gm_plan("GM renamed")))
    v1 = created(call(fresh, "gm_lead", "GET", f"/api/plans/{pid}/versions/1"), 200)
    assert v1["name"] == v1["document"]["name"] == "GM first", (
        f"BUG: GET /api/plans/{pid}/versions/1 answers name {v1['name']!r} while its document is named "
        f"{v1['document']['name']!r}: a saved version's answer changes when a later version is saved"
    )


# ---- submissions --------------------------------------------------------------------------------


def test_submission_lifecycle(fresh):
    pid = new_plan(fresh, "gm_lead", gm_plan("GM v1"))
    created(call(fresh, "gm_lead", "POST", f"/api/plans/{pid}/versions", gm_plan("GM v2")))
    s1 = created(call(fresh, "gm_lead", "POST", f"/api/plans/{pid}/versions/1/submit"))
    assert (s1["version"], s1["state"], s1["superseded_by"]) == (1, "submitted", None)
    s2 = created(call(fresh, "gm_lead", "POST", f"/api/plans/{pid}/versions/2/submit"))
    subs = {s["id"]: s for s in call(fresh, "nat", "GET", "/api/submissions").json()}
    assert subs[s1["id"]]["superseded_by"] == s2["id"]
    assert subs[s2["id"]]["superseded_by"] is None
    assert subs[s1["id"]]["state"] == "submitted"

    resp = call(fresh, "nat", "POST", f"/api/submissions/{s1['id']}/accept")
    assert resp.status_code == 409
    assert resp.json() == {
        "detail": [
            f"submission {s1['id']} is submitted and superseded; "
            "only a current, undecided submission can be accepted or returned"
        ]
    }

    # Submitting the current version again is a conflict.
    resp = call(fresh, "gm_lead", "POST", f"/api/plans/{pid}/versions/2/submit")
    assert resp.status_code == 409
    assert resp.json() == {"detail": [f"plan {pid} version 2 is already the footprint's submission"]}

    # Returning needs a comment.
    path = f"/api/submissions/{s2['id']}/return"
    resp = call(fresh, "nat", "POST", path)
    assert (resp.status_code, resp.json()) == (422, {"detail": ["(body): Field required; got None"]})
    need = {"detail": ["comment: returning a submission needs a comment saying why"]}
    for body in ({}, {"comment": None}, {"comment": "   "}):
        resp = call(fresh, "nat", "POST", path, body)
        assert (resp.status_code, resp.json()) == (422, need), body
    assert call(fresh, "nat", "GET", "/api/submissions").json()[-1]["state"] == "submitted"

    why = "Emergency growth of 1-3% needs evidence from the 2015/16 outturn."
    resp = call(fresh, "nat", "POST", path, {"comment": why})
    assert resp.status_code == 200
    body = resp.json()
    assert body["state"] == "returned" and [c["text"] for c in body["comments"]] == [why]
    listed = {s["id"]: s for s in call(fresh, "gm_lead", "GET", "/api/submissions").json()}
    assert [c["text"] for c in listed[s2["id"]]["comments"]] == [why]

    resp = call(fresh, "nat", "POST", f"/api/submissions/{s2['id']}/accept")
    assert resp.status_code == 409
    assert resp.json()["detail"][0].startswith(f"submission {s2['id']} is returned;")
    assert call(fresh, "nat", "POST", "/api/submissions/999/accept").json() == {
        "detail": ["submission 999 not found"]
    }


# ---- 422s name the field path and the bad value ---------------------------------------------------


def test_bad_end_year_names_field_and_value(fresh):
    resp = call(fresh, "gm_lead", "POST", "/api/plans", gm_plan(end_year="2050/51"))
    assert resp.status_code == 422
    assert resp.json() == {
        "detail": ["end_year: year '2050/51' is out of range; allowed: 2016/17 to 2035/36"]
    }


def test_every_plan_problem_is_reported(fresh):
    doc = gm_plan(end_year="2050/51", monte_carlo={"draws": 0, "seed": 1})
    resp = call(fresh, "gm_lead", "POST", "/api/plans", doc)
    assert resp.status_code == 422
    assert resp.json() == {
        "detail": [
            "end_year: year '2050/51' is out of range; allowed: 2016/17 to 2035/36",
            "monte_carlo.draws: Input should be greater than or equal to 1; got 0",
        ]
    }


def test_run_with_zero_draws_names_field_and_value(fresh):
    pid = new_plan(fresh, "gm_lead", gm_plan())
    resp = call(fresh, "gm_lead", "POST", "/api/runs", {"plan_id": pid, "version": 1, "draws": 0})
    assert resp.status_code == 422
    assert resp.json() == {"detail": ["draws: Input should be greater than or equal to 1; got 0"]}


def test_run_with_unknown_field_names_it(fresh):
    pid = new_plan(fresh, "gm_lead", gm_plan())
    resp = call(fresh, "gm_lead", "POST", "/api/runs", {"plan_id": pid, "version": 1, "colour": "blue"})
    assert resp.status_code == 422
    assert resp.json() == {"detail": ["colour: Extra inputs are not permitted; got 'blue'"]}


# ---- runs ---------------------------------------------------------------------------------------


def test_same_run_is_stored_and_answered_again(fresh):
    pid = new_plan(fresh, "gm_lead", gm_plan())
    req = {"plan_id": pid, "version": 1, "draws": 20, "seed": 7}
    first = created(call(fresh, "gm_lead", "POST", "/api/runs", req), 200)
    second = created(call(fresh, "gm_analyst", "POST", "/api/runs", req), 200)
    assert first["stored"] is False and second["stored"] is True
    assert second["run_id"] == first["run_id"]
    assert first["draws"] == 20 and first["seed"] == 7
    del first["stored"], second["stored"]
    assert second == first, "the stored answer must repeat the first run's numbers exactly"
    stored = created(call(fresh, "nat", "GET", f"/api/runs/{first['run_id']}"), 200)
    assert stored == first | {"status": "done", "stored": True}
    other_seed = created(call(fresh, "gm_lead", "POST", "/api/runs", req | {"seed": 8}), 200)
    assert other_seed["stored"] is False and other_seed["run_id"] != first["run_id"]


def test_large_run_answers_202_then_finishes(fresh):
    pid = new_plan(fresh, "gm_lead", gm_plan())
    req = {"plan_id": pid, "version": 1, "draws": 2001, "seed": 3}
    resp = call(fresh, "gm_lead", "POST", "/api/runs", req)
    assert resp.status_code == 202, resp.text
    rid = resp.json()["run_id"]
    assert resp.json() == {"run_id": rid, "status": "running", "poll": f"/api/runs/{rid}"}
    assert len(rid) == 64
    assert call(fresh, "cw_lead", "GET", f"/api/runs/{rid}").status_code == 404  # as if not there
    deadline = time.monotonic() + 30
    while True:
        got = created(call(fresh, "gm_lead", "GET", f"/api/runs/{rid}"), 200)
        if got["status"] == "done" or time.monotonic() > deadline:
            break
        assert got == {"run_id": rid, "status": "running"}
        time.sleep(0.2)
    assert got["status"] == "done", f"the background run did not finish within 30 s: {got}"
    assert got["stored"] is True and got["draws"] == 2001 and got["seed"] == 3
    again = call(fresh, "gm_lead", "POST", "/api/runs", req)
    assert again.status_code == 202 and again.json()["run_id"] == rid


# ---- logs never hold a token; the 500 answer is one line -----------------------------------------


def test_tokens_never_reach_the_logs(fresh, monkeypatch, caplog):
    # DEBUG on every logger, including those that set their own level (SQLAlchemy sets WARN on
    # "sqlalchemy", so with this the SQL and its parameters are logged too).
    caplog.set_level(logging.DEBUG)
    for name in list(logging.root.manager.loggerDict):
        caplog.set_level(logging.DEBUG, logger=name)
    bad = "Zx9-not-a-token-but-secret-looking-0123456789"
    pid = new_plan(fresh, "gm_lead", gm_plan())
    statuses = [
        call(fresh, "gm_lead", "GET", "/api/plans").status_code,
        call(fresh, "gm_lead", "POST", f"/api/plans/{pid}/versions", gm_plan("again")).status_code,
        call(fresh, "gm_analyst", "POST", f"/api/plans/{pid}/versions/1/submit").status_code,
        call(fresh, "gm_lead", "GET", "/api/plans/424242").status_code,
        call(fresh, "gm_lead", "POST", "/api/plans", gm_plan(end_year="2050/51")).status_code,
        call(fresh, None, "GET", "/api/plans", headers={"Authorization": f"Bearer {bad}"}).status_code,
    ]
    assert statuses == [200, 201, 403, 404, 422, 401]

    def boom(*_a, **_k):
        raise RuntimeError("the disk fell over")

    monkeypatch.setattr(fresh.svc, "list_plans", boom)
    resp = call(fresh, "nat", "GET", "/api/plans")
    assert resp.status_code == 500
    assert resp.json() == {"detail": OK_MESSAGE_500}
    assert "Traceback" not in resp.text and "\n" not in resp.text and "disk fell" not in resp.text
    errors = [r for r in caplog.records if r.name == "stpsim.api" and r.levelno == logging.ERROR]
    assert [r.getMessage() for r in errors] == ["unexpected RuntimeError on GET /api/plans"]

    secrets = list(fresh.tokens.values()) + [bad]
    loggers = {r.name for r in caplog.records}
    assert {"stpsim.api", "sqlalchemy.engine.Engine"} <= loggers, f"the capture missed loggers: {loggers}"
    for record in caplog.records:
        text = record.getMessage() + (record.exc_text or "") + repr(record.args)
        for secret in secrets:
            shown = text.replace(secret, "<TOKEN>")[:200]
            assert secret not in text, f"a token appears in a log record from {record.name}: {shown}"
    for secret in secrets:
        assert secret not in caplog.text


def test_the_500_log_line_cannot_be_forged_from_the_path(fresh, monkeypatch, caplog):
    """The 500 handler logs the method and path; a path carrying a newline must not start a line of
    its own in the log (a reader would take it for a separate entry)."""
    caplog.set_level(logging.DEBUG, logger="stpsim.api")

    def boom(*_a, **_k):
        raise RuntimeError("the disk fell over")

    monkeypatch.setattr(fresh.svc, "get_run", boom)
    resp = call(fresh, "nat", "GET", "/api/runs/x%0A2026-11-30 INFO nat accepted submission 7")
    assert resp.status_code == 500 and resp.json() == {"detail": OK_MESSAGE_500}
    [record] = [r for r in caplog.records if r.name == "stpsim.api"]
    assert "\n" not in record.getMessage(), (
        f"the 500 log line holds the raw path, newline included: {record.getMessage()!r}; "
        "a request can forge log entries (escape or repr the path)"
    )


# ---- on SQLite and PostgreSQL: out-of-range ids, long names and NUL characters are 422s ----------
# (each of these was a 500 once: SQLite OverflowError past 2**63, PostgreSQL NumericValueOutOfRange
# past 2**31 on INTEGER ids, DataError for NUL in text and for names over VARCHAR(200))


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def any_world(request, tmp_path_factory):
    if request.param == "sqlite":
        yield make_world(sqlite_url(tmp_path_factory.mktemp("api_any")))
    else:
        with fresh_postgres("api") as url:
            yield make_world(url)


TOO_BIG = "Input should be less than or equal to 2147483647"


@pytest.mark.parametrize(
    ("method", "path", "detail"),
    [
        ("GET", "/api/plans/2147483648", f"path.plan_id: {TOO_BIG}; got '2147483648'"),
        ("GET", "/api/plans/18446744073709551616", f"path.plan_id: {TOO_BIG}; got '18446744073709551616'"),
        ("GET", "/api/plans/1/versions/2147483648", f"path.number: {TOO_BIG}; got '2147483648'"),
        (
            "GET",
            "/api/plans/18446744073709551616/versions/1/report",
            f"path.plan_id: {TOO_BIG}; got '18446744073709551616'",
        ),
        ("POST", "/api/plans/2147483648/versions/1/submit", f"path.plan_id: {TOO_BIG}; got '2147483648'"),
        ("POST", "/api/submissions/2147483648/accept", f"path.sid: {TOO_BIG}; got '2147483648'"),
        ("GET", "/api/plans/0", "path.plan_id: Input should be greater than or equal to 1; got '0'"),
    ],
)
def test_out_of_range_ids_are_422_naming_the_field(any_world, method, path, detail):
    resp = call(any_world, "nat", method, path)
    assert resp.status_code == 422, (
        f"BUG: {method} {path} answers {resp.status_code} {resp.text[:200]}: an id out of the store's "
        "range must be refused with 422 before it reaches the database"
    )
    assert resp.json() == {"detail": [detail]}


def test_run_of_an_out_of_range_plan_id_is_422(any_world):
    resp = call(any_world, "nat", "POST", "/api/runs", {"plan_id": 2**31, "version": 1})
    assert resp.status_code == 422
    assert resp.json() == {"detail": [f"plan_id: {TOO_BIG}; got 2147483648"]}


def test_plan_name_length_is_the_stores_limit(any_world):
    resp = call(any_world, "gm_lead", "POST", "/api/plans", gm_plan("x" * 201))
    assert resp.status_code == 422, (
        f"BUG: a plan named with 201 characters answers {resp.status_code}: plans.name is VARCHAR(200) "
        "(PostgreSQL refuses it with a DataError, SQLite stores it anyway)"
    )
    assert resp.json() == {"detail": ["name: at most 200 characters in the store; got 201"]}
    ok = created(call(any_world, "gm_lead", "POST", "/api/plans", gm_plan("y" * 200)))
    back = created(call(any_world, "gm_lead", "GET", f"/api/plans/{ok['id']}/versions/1"), 200)
    assert back["name"] == back["document"]["name"] == "y" * 200


@pytest.mark.parametrize(
    ("method", "path", "body", "detail"),
    [
        (
            "POST",
            "/api/plans",
            "nul name",
            "name: 'GM\\x00plan' has the control character U+0000 at character 3; "
            "remove it (reports cannot hold it)",
        ),
        (
            "GET",
            "/api/plans?footprint=E5400%00",
            None,
            "footprint: 'E5400\\x00' is not a footprint code; allowed: E54000005 to E54000048",
        ),
        (
            "GET",
            "/api/submissions?footprint=%00",
            None,
            "footprint: '\\x00' is not a footprint code; allowed: E54000005 to E54000048",
        ),
        ("GET", "/api/runs/abc%00", None, "run id: 'abc\\x00' is not a run id (64 hexadecimal characters)"),
        (
            "POST",
            "/api/submissions/{sid}/return",
            {"comment": "see\x00this"},
            "comment: control characters are not allowed",
        ),
    ],
    ids=["plan-name", "plans-query", "submissions-query", "run-id", "comment"],
)
def test_nul_characters_are_422_naming_the_field(any_world, method, path, body, detail):
    if "{sid}" in path:
        pid = new_plan(any_world, "gm_lead", gm_plan("to return"))
        path = path.format(sid=submit(any_world, "gm_lead", pid, 1))
    who = "gm_lead" if body == "nul name" else "nat"
    payload = gm_plan("GM\x00plan") if body == "nul name" else body
    resp = call(any_world, who, method, path, payload)
    assert resp.status_code == 422, (
        f"BUG: {method} {path} with a NUL character answers {resp.status_code} {resp.text[:200]} "
        "(PostgreSQL text cannot hold NUL: psycopg raises DataError, which no handler turns into a 4xx)"
    )
    assert resp.json() == {"detail": [detail]}


def test_footprint_filters_still_match(any_world):
    pid = new_plan(any_world, "gm_lead", gm_plan("filtered"))
    listed = call(any_world, "nat", "GET", f"/api/plans?footprint={GM}").json()
    assert pid in [p["id"] for p in listed] and {p["footprint"] for p in listed} == {GM}
    assert call(any_world, "nat", "GET", f"/api/plans?footprint={CORNWALL}").json() == [
        p for p in call(any_world, "nat", "GET", "/api/plans").json() if p["footprint"] == CORNWALL
    ]
