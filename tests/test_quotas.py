"""Issue 20, item 4: what one client may ask of the server. A body too large is refused before
it is parsed; a run is large (202, in the background) whichever set its draws; a user has at
most two runs computing; a viewer cannot choose draws; runs left running by a stopped server
are marked failed when a server starts."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from stpsim.api.app import SYNC_DRAWS, create_app
from stpsim.api.limits import MAX_BODY, RunSlots, TooBusy
from stpsim.service import Service
from stpsim.service.plans import MAX_DRAWS
from stpsim.store import models as m

from .conftest_store import GM, bearer, gm_plan, sqlite_url


@pytest.fixture()
def world(tmp_path):
    svc = Service(sqlite_url(tmp_path))
    token = svc.add_user("ann", "lead", [GM])
    ann = svc.authenticate(token)
    plan_id = svc.create_plan(ann, gm_plan("ann's plan"))["id"]
    return svc, token, ann, plan_id


def test_a_body_over_the_limit_is_refused_before_it_is_read(world):
    svc, token, _, _ = world
    api = TestClient(create_app(svc))
    big = b'{"name": "' + b"x" * (MAX_BODY + 10) + b'"}'
    for headers in ({}, bearer(token)):  # before the token is even looked at
        r = api.post("/api/plans", content=big, headers=headers | {"content-type": "application/json"})
        assert r.status_code == 413
        assert r.json() == {"detail": ["the request body is larger than 1024 KiB; a plan is far smaller"]}


def test_a_plan_description_has_a_length_limit(world):
    svc, token, _, _ = world
    api = TestClient(create_app(svc))
    r = api.post("/api/plans", json=gm_plan("long") | {"description": "x" * 5001}, headers=bearer(token))
    assert r.status_code == 422 and "description" in r.text


def test_a_run_is_large_whichever_set_its_draws(world, monkeypatch):
    svc, token, ann, _ = world
    started = []
    monkeypatch.setattr(Service, "finish_run", lambda self, *a: started.append(a[1:]))
    plan_id = svc.create_plan(ann, gm_plan("many draws", monte_carlo={"draws": SYNC_DRAWS + 1, "seed": 1}))[
        "id"
    ]
    api = TestClient(create_app(svc))
    r = api.post("/api/runs", json={"plan_id": plan_id, "version": 1}, headers=bearer(token))
    assert r.status_code == 202 and r.json()["status"] == "running"
    assert started == [(plan_id, 1, None, None)]
    r = api.post(
        "/api/runs", json={"plan_id": plan_id, "version": 1, "draws": MAX_DRAWS + 1}, headers=bearer(token)
    )
    assert r.status_code == 422
    assert r.json()["detail"] == [
        f"draws: {MAX_DRAWS + 1} is more than the {MAX_DRAWS:,} a run on the server may have"
    ]


def test_run_slots_per_user_and_in_all():
    slots = RunSlots(per_user=2, total=3)
    slots.acquire(1)
    slots.acquire(1)
    with pytest.raises(TooBusy, match="you have 2 runs computing"):
        slots.acquire(1)
    slots.acquire(2)
    with pytest.raises(TooBusy, match="the server is computing 3 runs"):
        slots.acquire(3)
    slots.release(1)
    with slots.take(3):
        pass
    slots.release(1)
    slots.release(2)
    assert slots._by_user == {}


def test_a_third_run_at_once_from_one_user_is_refused_with_429(world, monkeypatch):
    svc, token, _, plan_id = world
    gate = threading.Event()

    def slow(self, *a, **k):
        gate.wait(timeout=30)
        return {"run_id": "x", "stored": True}

    monkeypatch.setattr(Service, "run", slow)
    api = TestClient(create_app(svc), raise_server_exceptions=False)
    body = {"plan_id": plan_id, "version": 1, "draws": 10}
    answers: list[int] = []
    threads = [
        threading.Thread(
            target=lambda: answers.append(api.post("/api/runs", json=body, headers=bearer(token)).status_code)
        )
        for _ in range(2)
    ]
    for t in threads:
        t.start()
    time.sleep(0.5)  # both are computing
    third = api.post("/api/runs", json=body, headers=bearer(token))
    gate.set()
    for t in threads:
        t.join(timeout=30)
    assert third.status_code == 429 and third.json()["detail"] == [
        "you have 2 runs computing; wait for one to finish"
    ]
    assert len(answers) == 2  # the two in flight were answered (the stub's body is not a run's)


def test_runs_left_running_by_a_stopped_server_are_failed_when_a_server_starts(world):
    svc, _, _, plan_id = world
    with svc.Session.begin() as s:
        s.add(
            m.Run(
                id="a" * 64,
                plan_id=plan_id,
                version=1,
                status="running",
                result=None,
                created_at=m.now() - timedelta(hours=2),
            )
        )
        s.add(m.Run(id="b" * 64, plan_id=plan_id, version=1, status="running", result=None))
    create_app(svc)
    with svc.Session() as s:
        assert s.get(m.Run, "a" * 64).status == "failed: stopped"
        assert s.get(m.Run, "b" * 64).status == "running"  # another server may still be on it


def test_a_run_that_would_not_fit_in_free_memory_is_refused_with_what_fits(monkeypatch):
    """The estimate is measured (14.4 KB a draw-year for Greater Manchester's 9 care models) and
    is set against the machine's free memory, not only the fixed limit."""
    from stpsim import engine, plan

    p = plan.load("examples/greater_manchester.yaml")
    per_draw = 5 * 1 * (2048 + 1400 * len(p.interventions))
    monkeypatch.setattr(engine, "available_memory", lambda: 2**30)  # 1 GiB free
    fits = int(2**30 * 0.8) // per_draw
    ok = p.model_copy(update={"monte_carlo": p.monte_carlo.model_copy(update={"draws": fits})})
    engine.check_size(ok)
    too_many = p.model_copy(update={"monte_carlo": p.monte_carlo.model_copy(update={"draws": fits + 1})})
    with pytest.raises(engine.RunTooLarge) as e:
        engine.check_size(too_many)
    assert str(e.value).endswith(
        f"this machine has about 1.0 GiB free: use at most {fits:,} draws, or fewer years or footprints"
    )


def test_shoe_size_refuses_draws_whose_runs_would_not_fit_together(capsys):
    """Issue 20, item 5: shoe-size holds the whole footprint's run and every part's; 100,000
    draws are refused at once (exit 2), saying what fits, instead of a MemoryError after minutes."""
    from stpsim.cli import main

    assert main(["shoe-size", "examples/greater_manchester.yaml", "--draws", "100000"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("stpsim: error: draws: this run would need about ")
    assert "(x 11 runs held together)" in err and "use at most " in err


def test_a_run_request_takes_whole_numbers_only(world):
    """Issue 20, item 6: ``"draws": true`` is refused, not run as one draw; so is "5"."""
    svc, token, _, plan_id = world
    api = TestClient(create_app(svc))
    for bad in (True, "5", 5.0):
        r = api.post(
            "/api/runs", json={"plan_id": plan_id, "version": 1, "draws": bad}, headers=bearer(token)
        )
        assert r.status_code == 422, bad
        assert r.json()["detail"][0].startswith("draws: "), r.json()


def test_the_openapi_schema_says_the_error_body_the_api_sends(world):
    """Issue 20, item 6: the schema's 422 (and every 4xx) is {"detail": [lines]}, as sent."""
    svc, token, _, _ = world
    api = TestClient(create_app(svc))
    schema = api.get("/openapi.json").json()
    error = schema["components"]["schemas"]["HTTPValidationError"]
    assert error["properties"]["detail"] == {"title": "Detail", "type": "array", "items": {"type": "string"}}
    assert "ValidationError" not in schema["components"]["schemas"]
    runs = schema["paths"]["/api/runs"]["post"]["responses"]
    assert {"422", "4XX"} <= set(runs)
    sent = api.post("/api/runs", json={"plan_id": "x"}, headers=bearer(token)).json()
    assert set(sent) == {"detail"} and all(isinstance(line, str) for line in sent["detail"])
