"""The four tests of service change (issue 13): engagement, patient choice and support from
clinical commissioners are attested on a stored plan version by a lead of its footprint (who,
when, a note), kept as history, and shown in the checklist of every run of that version.

On SQLite and, when STPSIM_TEST_POSTGRES_URL is set, on PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text

from stpsim.api.app import create_app
from stpsim.cli import main
from stpsim.service import Actor, Service
from stpsim.store import models as m
from stpsim.store.database import MIGRATIONS, engine, upgrade

from .conftest_store import GM, add_users, bearer, fresh_postgres, gm_plan

ALLOWED = "allowed: engagement, patient_choice, commissioner_support"
RUN = {"draws": 20, "seed": 1}


@pytest.fixture(params=["sqlite", "postgresql"])
def w(request, tmp_path):
    """A store with the five users and a GM plan of two versions with the same document."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.db'}"
        upgrade(url)
        yield _world(url)
    else:
        with fresh_postgres("attest") as url:
            yield _world(url)


def _world(url: str) -> SimpleNamespace:
    svc = Service(url)
    client = TestClient(create_app(svc), raise_server_exceptions=False)
    world = SimpleNamespace(url=url, svc=svc, tokens=add_users(svc), client=client)
    world.plan = created(call(world, "gm_lead", "POST", "/api/plans", gm_plan("GM attested")))["id"]
    created(call(world, "gm_lead", "POST", f"/api/plans/{world.plan}/versions", gm_plan("GM attested")))
    return world


def call(w, who: str, method: str, url: str, body=None):
    return w.client.request(method, url, json=body, headers=bearer(w.tokens[who]))


def created(resp, status: int = 201):
    assert resp.status_code == status, f"expected {status}, got {resp.status_code}: {resp.text}"
    return resp.json()


def path(w, number: int = 1, plan: int | None = None) -> str:
    return f"/api/plans/{plan or w.plan}/versions/{number}/attestations"


def attest(w, test: str, note: str = "", number: int = 1, who: str = "gm_lead") -> dict:
    return created(call(w, who, "POST", path(w, number), {"test": test, "note": note}))


def run(w, number: int = 1, who: str = "nat") -> dict:
    return created(call(w, who, "POST", "/api/runs", {"plan_id": w.plan, "version": number} | RUN), 200)


def test_a_lead_attests_engagement_and_the_list_shows_who_and_when(w):
    before = datetime.now(UTC)
    got = attest(w, "engagement", "  Twelve public meetings, Oct 2016 to Jan 2017  ")
    after = datetime.now(UTC)
    at = datetime.fromisoformat(got.pop("attested_at"))
    assert at.utcoffset() == timedelta(0), "attested_at is in UTC"
    assert before - timedelta(seconds=1) <= at <= after + timedelta(seconds=1)
    assert got == {
        "id": got["id"],
        "plan_id": w.plan,
        "version": 1,
        "test": "engagement",
        "title": "Strong public and patient engagement",
        "attested_by": "gm_lead",
        "note": "Twelve public meetings, Oct 2016 to Jan 2017",
        "current": True,
    }
    for who in ("gm_lead", "gm_analyst", "nat"):  # whoever may read the version
        listed = created(call(w, who, "GET", path(w)), 200)
        assert [(a["test"], a["attested_by"], a["current"]) for a in listed] == [
            ("engagement", "gm_lead", True)
        ]
        assert datetime.fromisoformat(listed[0]["attested_at"]) == at
    assert created(call(w, "gm_lead", "GET", path(w, 2)), 200) == [], "attestations belong to one version"
    audit = created(call(w, "nat", "GET", "/api/audit"), 200)
    assert {
        "user": "gm_lead",
        "action": "attest",
        "target": f"plan:{w.plan}:v1",
        "detail": "test=engagement",
    } in [{k: r[k] for k in ("user", "action", "target", "detail")} for r in audit]


@pytest.mark.parametrize(
    ("who", "role"),
    [("nat", "national"), ("gm_analyst", "analyst"), ("cw_lead", "lead"), ("viewer", "viewer")],
)
def test_only_a_lead_of_the_plans_footprint_may_attest(w, who, role):
    resp = call(w, who, "POST", path(w), {"test": "engagement", "note": ""})
    assert resp.status_code == 403, resp.text
    assert resp.json() == {"detail": [f"{who} ({role}) may not attest plans of {GM}"]}
    # Rights before the request's fields: a bad test still answers 403 to someone who may not attest.
    assert call(w, who, "POST", path(w), {"test": "nonsense"}).status_code == 403
    assert created(call(w, "gm_lead", "GET", path(w)), 200) == []


def test_reading_attestations_follows_the_versions_reading_rights(w):
    attest(w, "engagement")
    # What you may not read is as if it did not exist (issue 20, item 6).
    assert call(w, "cw_lead", "GET", path(w)).status_code == 404
    assert call(w, "viewer", "GET", path(w)).status_code == 404  # nothing of this plan is published
    sub = created(call(w, "gm_lead", "POST", f"/api/plans/{w.plan}/versions/1/submit"))["id"]
    created(call(w, "nat", "POST", f"/api/submissions/{sub}/accept"), 200)
    assert [a["test"] for a in created(call(w, "viewer", "GET", path(w)), 200)] == ["engagement"]
    assert call(w, "viewer", "GET", path(w, 2)).status_code == 404  # an unpublished version


def test_unknown_plans_and_versions_are_404(w):
    resp = call(w, "gm_lead", "POST", path(w, plan=424242), {"test": "engagement"})
    assert resp.status_code == 404 and resp.json() == {"detail": ["plan 424242 not found"]}
    resp = call(w, "gm_lead", "POST", path(w, 9), {"test": "engagement"})
    assert resp.status_code == 404 and resp.json() == {"detail": [f"plan {w.plan} has no version 9"]}
    assert call(w, "gm_lead", "GET", path(w, 9)).status_code == 404
    assert call(w, "gm_lead", "GET", path(w, plan=424242)).status_code == 404


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"test": "clinical_evidence"}, f"test: 'clinical_evidence' is not allowed; {ALLOWED}"),
        ({"test": "Engagement"}, f"test: 'Engagement' is not allowed; {ALLOWED}"),
        ({"test": "x" * 500}, f"test: {'x' * 40!r} is not allowed; {ALLOWED}"),
        (
            {"test": "engagement", "note": "n" * 2001},
            f"note: String should have at most 2000 characters; got {'n' * 2001!r}"[:500],
        ),
        ({"test": "engagement", "note": "a\x00b"}, "note: control characters are not allowed"),
    ],
    ids=["model-checked test", "case", "long", "long note", "NUL"],
)
def test_bad_attestations_are_422_naming_the_field_and_what_is_allowed(w, body, detail):
    resp = call(w, "gm_lead", "POST", path(w), body)
    assert resp.status_code == 422, resp.text
    assert resp.json() == {"detail": [detail]}
    assert created(call(w, "gm_lead", "GET", path(w)), 200) == []


@pytest.mark.parametrize(
    ("body", "field"),
    [({"note": "no test"}, "test"), ({"test": 3}, "test"), ({"test": "engagement", "extra": 1}, "extra")],
)
def test_malformed_bodies_are_422_naming_the_field(w, body, field):
    resp = call(w, "gm_lead", "POST", path(w), body)
    assert resp.status_code == 422, resp.text
    assert resp.json()["detail"][0].startswith(f"{field}: ")


def test_a_note_of_2000_characters_is_kept_whole(w):
    assert attest(w, "patient_choice", "n" * 2000)["note"] == "n" * 2000


def test_a_run_of_the_version_shows_its_attestations(w):
    before = run(w)  # a run made before anything is attested
    tests = before["service_change"]["four_tests"]
    assert [tests[k]["status"] for k in ("engagement", "patient_choice", "commissioner_support")] == [
        "not recorded"
    ] * 3

    got = attest(w, "engagement", "public meetings")
    after = run(w)
    assert after["run_id"] == before["run_id"] and after["stored"] is True
    tests = after["service_change"]["four_tests"]
    assert tests["engagement"] == {
        "title": "Strong public and patient engagement",
        "status": "attested",
        "attested_by": "gm_lead",
        "attested_at": got["attested_at"],
        "note": "public meetings",
    }
    assert tests["patient_choice"]["status"] == "not recorded"
    assert tests["commissioner_support"]["status"] == "not recorded"
    assert tests["clinical_evidence"] == before["service_change"]["four_tests"]["clinical_evidence"]
    assert after["finance"] == before["finance"], "the numbers are the stored run's"
    stored = created(call(w, "gm_analyst", "GET", f"/api/runs/{after['run_id']}"), 200)
    assert stored["service_change"]["four_tests"]["engagement"]["status"] == "attested"

    # Version 2 has the same document (so the same stored run) but nothing attested.
    v2 = run(w, 2)
    assert v2["run_id"] == after["run_id"]
    assert v2["service_change"]["four_tests"]["engagement"]["status"] == "not recorded"


def test_a_fresh_run_of_an_attested_version_shows_them(w):
    attest(w, "commissioner_support", "CCG governing bodies, March 2017", number=2)
    got = created(
        call(w, "gm_lead", "POST", "/api/runs", {"plan_id": w.plan, "version": 2, "draws": 21}), 200
    )
    assert got["stored"] is False
    tests = got["service_change"]["four_tests"]
    assert tests["commissioner_support"]["status"] == "attested"
    assert tests["commissioner_support"]["attested_by"] == "gm_lead"
    assert tests["engagement"]["status"] == tests["patient_choice"]["status"] == "not recorded"


def test_a_later_attestation_supersedes_the_earlier_and_both_are_kept(w):
    first = attest(w, "engagement", "first round")
    attest(w, "patient_choice", "choice kept")
    second = attest(w, "engagement", "second round, after the consultation")
    listed = created(call(w, "gm_lead", "GET", path(w)), 200)
    assert [(a["id"], a["test"], a["note"], a["current"]) for a in listed] == [
        (first["id"], "engagement", "first round", False),
        (listed[1]["id"], "patient_choice", "choice kept", True),
        (second["id"], "engagement", "second round, after the consultation", True),
    ]
    tests = run(w)["service_change"]["four_tests"]
    assert tests["engagement"]["note"] == "second round, after the consultation"
    assert tests["engagement"]["attested_at"] == second["attested_at"]
    assert tests["patient_choice"]["status"] == "attested"


def test_the_routes_are_in_the_openapi_schema(w):
    schema = created(w.client.get("/openapi.json"), 200)
    ops = schema["paths"]["/api/plans/{plan_id}/versions/{number}/attestations"]
    assert set(ops) == {"get", "post"}
    assert "201" in ops["post"]["responses"]
    assert set(schema["components"]["schemas"]["AttestationIn"]["properties"]) == {"test", "note"}


# ---- the migration: a store made at 0001 upgrades and keeps its plans -----------------------------


def _alembic(url: str, action: str, target: str) -> None:
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    with engine(url).begin() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, action)(cfg, target)


def _at_0001_with_a_plan(url: str) -> tuple[int, Actor]:
    assert "attestations" not in inspect(engine(url)).get_table_names()
    # The user is written with 0001's columns only (today's model has more).
    with engine(url).begin() as conn:
        uid = conn.execute(
            m.User.__table__.insert()
            .values(name="lead", role="lead", token_hash="0" * 64, created_at=m.now())
            .returning(m.User.__table__.c.id)
        ).scalar_one()
        conn.execute(m.UserFootprint.__table__.insert().values(user_id=uid, footprint=GM))
    actor = Actor(uid, "lead", "lead", frozenset({GM}))
    return Service(url).create_plan(actor, gm_plan("made at 0001"))["id"], actor


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_the_migration_upgrades_a_0001_store(store, tmp_path):
    def check(url: str, upgrade_to_head) -> None:
        plan_id, actor = _at_0001_with_a_plan(url)
        upgrade_to_head()
        with engine(url).connect() as conn:
            assert conn.execute(text("select version_num from alembic_version")).scalar_one() == "0004"
        cols = {c["name"] for c in inspect(engine(url)).get_columns("attestations")}
        assert cols == {"id", "version_id", "test", "attested_by", "attested_at", "note"}
        svc = Service(url)
        assert svc.get_version(actor, plan_id, 1)["name"] == "made at 0001"
        svc.attest(actor, plan_id, 1, "engagement", "after the upgrade")
        assert [a["note"] for a in svc.attestations(actor, plan_id, 1)] == ["after the upgrade"]

    if store == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
        _alembic(url, "upgrade", "0001")
        check(url, lambda: main(["db", "upgrade", "--database", url]) == 0 or pytest.fail("db upgrade"))
    else:
        with fresh_postgres("mig") as url:
            _alembic(url, "downgrade", "0001")  # the downgrade works too
            check(url, lambda: upgrade(url))
