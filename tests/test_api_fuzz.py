"""Property-based fuzzing of the REST API from its own OpenAPI schema (schemathesis).

Every operation gets generated requests (valid and invalid paths, queries and bodies) from the
national user, and every write from the Greater Manchester lead, over a store (SQLite, and
PostgreSQL when STPSIM_TEST_POSTGRES_URL is set) holding a published Greater Manchester plan and a
submitted Cornwall plan, so small ids hit real rows. No answer may be a 500.

Left out, for time: the report (renders a whole report per request) and the national roll-up
(simulates England); test_api.py calls each once. Runs are fuzzed with at most 50 draws (a run of
100,000 draws would start a minutes-long background job); the 202 path is covered in test_api.py.

The schema is loaded at import (schemathesis.pytest.from_fixture does not work with pytest 9: it
sets ``request.node._nodeid``) from an app with no store; the fixture points it at the seeded one.
The seed is fixed; Hypothesis also draws on constants from loaded modules, so the cases can differ
between running this file alone and with others, but are the same for the same command.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from stpsim.api.app import create_app
from stpsim.service import Service

from .conftest_store import add_users, bearer, cornwall_plan, fresh_postgres, gm_plan, sqlite_url

MAX_DRAWS = 50


class AnswerAfterFailure:
    """Starlette answers an unexpected exception with the app's 500 handler and then raises it
    again (for the server to log). A real server sends the 500; so does this wrapper, so the
    fuzzer sees the answer a client would get."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        started = False

        async def _send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, _send)
        except Exception:
            if not started:
                raise


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def store_url(request, tmp_path_factory):
    if request.param == "sqlite":
        yield sqlite_url(tmp_path_factory.mktemp("fuzz"))
    else:
        with fresh_postgres("fuzz") as url:
            yield url


@pytest.fixture(scope="module")
def fuzz_world(store_url):
    svc = Service(store_url)
    tokens = add_users(svc)
    lead, cw, nat = (svc.authenticate(tokens[n]) for n in ("gm_lead", "cw_lead", "nat"))
    gm = svc.create_plan(lead, gm_plan("GM fuzz"))["id"]
    svc.add_version(lead, gm, gm_plan("GM fuzz v2"))
    svc.decide(nat, svc.submit(lead, gm, 1)["id"], accept=True)
    svc.submit(lead, gm, 2)
    cwp = svc.create_plan(cw, cornwall_plan("Cornwall fuzz"))["id"]
    svc.submit(cw, cwp, 1)
    svc.run(nat, gm, 1, draws=10, seed=1)
    return svc, tokens


class Routed:
    """The ASGI app the schema is loaded from at import time (no store needed to read the schema);
    ``fuzz_app`` points it at the API over the seeded store before any case is sent."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        await self.app(scope, receive, send)


ROUTED = Routed(create_app(Service("sqlite:///:memory:")))  # Service connects on first use only
schema = (
    schemathesis.openapi.from_asgi("/openapi.json", ROUTED)
    .exclude(path_regex=r"/report$")
    .exclude(path="/api/rollup")
)
schema.config.seed = 2016  # the same cases on every run: a failure here is reproducible


@pytest.fixture(scope="module")
def fuzz_app(fuzz_world):
    svc, tokens = fuzz_world
    before = ROUTED.app
    ROUTED.app = AnswerAfterFailure(create_app(svc))
    yield tokens
    ROUTED.app = before


def _call(case, token: str):
    if case.path == "/api/runs" and isinstance(case.body, dict):
        draws = case.body.get("draws")
        if isinstance(draws, int) and not isinstance(draws, bool) and draws > MAX_DRAWS:
            case.body["draws"] = MAX_DRAWS
    resp = case.call(headers=bearer(token))
    assert resp.status_code != 500, (
        f"{case.method} {case.formatted_path} answered 500 {resp.text[:200]}\n"
        f"query={case.query!r} body={case.body!r}\n"
        f"reproduce: {case.as_curl_command(headers=bearer('TOKEN'))}"
    )
    assert resp.status_code < 500, f"{case.method} {case.formatted_path}: {resp.status_code}"
    return resp


FUZZ = settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


@schema.parametrize()
@FUZZ
def test_no_server_errors_as_national(case, fuzz_app):
    _call(case, fuzz_app["nat"])


writes = schema.include(method="POST").exclude(path="/api/runs")


@writes.parametrize()
@FUZZ
def test_no_server_errors_as_lead(case, fuzz_app):
    """The lead of Greater Manchester may create, edit and submit: the writes reach the store."""
    _call(case, fuzz_app["gm_lead"])
