"""The REST API: thin routes over the service layer, with bearer tokens.

Every route authenticates the token, calls one service method and returns its answer; the
service decides who may do what. Errors are JSON ``{"detail": [lines]}``: 401 without a valid
token, 403 when the role or footprint does not allow it, 404, 409, and 422 naming the field path,
the bad value and what is allowed. An unexpected failure is a 500 with a one-line message and no
traceback (and is logged without the request's token).
"""

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, StrictInt
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..service import Actor, Invalid, Service, ServiceError
from ..service.responses import BaselineResponse, RollupResponse, RunResponse
from ..version import __version__
from .limits import BodyLimit, RunSlots

log = logging.getLogger("stpsim.api")
MAX_ID = 2**31 - 1  # ids are 32-bit in every store
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
SYNC_DRAWS = 2000  # runs with more draws answer 202 and are computed in the background
SYNC_OPTIMISE_DRAWS = 500  # optimisations with more draws (about a second of work) answer 202 too


class PlanVersionOut(BaseModel):
    id: int
    footprint: str
    name: str
    version: int
    content_hash: str
    created_at: str
    author: str = ""  # who saved the version
    document: dict | None = None


class PlanSummaryOut(BaseModel):
    id: int
    footprint: str
    name: str
    latest_version: int | None


class PlanOut(BaseModel):
    id: int
    footprint: str
    name: str
    versions: list[PlanVersionOut]


class CommentOut(BaseModel):
    text: str
    created_at: str


class SubmissionOut(BaseModel):
    id: int
    plan_id: int
    version: int
    footprint: str
    state: Literal["submitted", "accepted", "returned", "withdrawn"]
    submitted_at: str
    superseded_by: int | None
    comments: list[CommentOut] | None = None


class RunRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Strict: ``"draws": true`` is not one draw, nor "5" five.
    plan_id: StrictInt = Field(ge=1, le=MAX_ID)
    version: StrictInt = Field(ge=1, le=MAX_ID)
    draws: StrictInt | None = Field(
        None, ge=1, le=100_000, description="Monte Carlo draws (default: the plan's)"
    )
    seed: StrictInt | None = Field(None, ge=0, le=2**32 - 1, description="random seed (default: the plan's)")


class AttestationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    test: str = Field(
        description="the test attested: engagement, patient_choice or commissioner_support",
        examples=["engagement"],
    )
    note: str = Field("", max_length=2000, description="what shows it (at most 2,000 characters)")


class AttestationOut(BaseModel):
    id: int
    plan_id: int
    version: int
    test: Literal["engagement", "patient_choice", "commissioner_support"]
    title: str
    attested_by: str
    attested_at: str
    note: str
    current: bool = Field(description="false once a later attestation of the same test supersedes it")


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: str | None = Field(None, max_length=10_000)


def _error(status: int, lines: list[str], headers: dict | None = None) -> JSONResponse:
    """Every error's body: ``{"detail": [lines]}``. A 401 says how to authenticate."""
    headers = dict(headers or {})
    if status == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="stpsim"')
    return JSONResponse(status_code=status, content={"detail": lines}, headers=headers or None)


def _validation_lines(exc: RequestValidationError) -> list[str]:
    out = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "(body)"
        out.append(f"{loc}: {err.get('msg', 'invalid')}; got {err.get('input')!r}"[:500])
    return out


def app_from_environment() -> FastAPI:
    """The app one worker process of ``stpsim serve --workers N`` builds, over the store whose
    URL the server put in STPSIM_SERVE_URL."""
    import os

    return create_app(url=os.environ["STPSIM_SERVE_URL"])


def create_app(service: Service | None = None, url: str | None = None) -> FastAPI:
    """The API over ``service`` (or a Service on ``url``)."""
    svc = service or Service(url)
    pool = ThreadPoolExecutor(max_workers=2)
    slots = RunSlots()
    try:
        svc.fail_stuck_runs()  # runs left "running" by a server that stopped
    except Exception:  # a store not yet upgraded is reported by the first request, not here
        log.warning("could not check for stuck runs")
    app = FastAPI(
        title="stpsim",
        version=__version__,
        description="Plans, versions, submissions, runs and the national roll-up of England's STPs.",
        docs_url=None,  # served from the package by api.docs, under a CSP
        redoc_url=None,
    )
    app.add_middleware(BodyLimit)
    bearer = HTTPBearer(auto_error=False)

    @app.exception_handler(ServiceError)
    async def _service_error(_request: Request, exc: ServiceError):
        return _error(exc.status, exc.lines)

    @app.exception_handler(RequestValidationError)
    async def _bad_request(_request: Request, exc: RequestValidationError):
        return _error(422, _validation_lines(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException):
        # 400, 404 for an unknown path, 405 ...: the same body as every other error.
        return _error(exc.status_code, [str(exc.detail)], getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        # Logged with the route only: never the headers, so never the token.
        path = "".join(ch if ch.isprintable() else "?" for ch in request.url.path)[:200]
        log.error("unexpected %s on %s %s", type(exc).__name__, request.method, path)
        return _error(500, ["the server could not complete this request; it has been logged"])

    def actor(creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Actor:
        return svc.authenticate(creds.credentials if creds else None)

    Who = Annotated[Actor, Depends(actor)]

    @app.get("/healthz")
    def healthz() -> dict:
        return {"status": "ok", "version": __version__}

    @app.get("/api/footprints")
    def footprints(
        _who: Who, geography: Annotated[Literal["stp2017", "icb2022"], Query()] = "stp2017"
    ) -> list[dict]:
        """A geography's footprints: the 44 STPs (2017, the default) or the 42 ICBs (2022)."""
        from ..service.catalogue import preset_footprints as preset

        return [f.to_dict() for f in preset(geography)]

    @app.get("/api/footprints/{code}/baseline", response_model=BaselineResponse)
    def baseline(
        code: str, _who: Who, year: Annotated[str, Query(pattern=r"^\d{4}/\d{2}$")] = "2016/17"
    ) -> dict:
        from ..axes import parse_year
        from ..service.catalogue import UnknownFootprint
        from ..service.catalogue import baseline as base
        from ..service.catalogue import find_footprint as find

        try:
            fp = find(code)
            y = parse_year(year)
        except (UnknownFootprint, ValueError) as e:
            raise Invalid(str(e)) from None
        if not 2016 <= y <= 2035:
            raise Invalid(f"year: {year!r} is outside 2016/17 to 2035/36")
        return base(y, codes=[fp.code]).to_dict()

    @app.post("/api/plans", status_code=201, response_model=PlanVersionOut)
    def create_plan(document: dict[str, Any], who: Who) -> dict:
        return svc.create_plan(who, document)

    @app.get("/api/plans", response_model=list[PlanSummaryOut])
    def list_plans(who: Who, footprint: str | None = None) -> list[dict]:
        return svc.list_plans(who, footprint)

    @app.get("/api/plans/{plan_id}", response_model=PlanOut)
    def get_plan(plan_id: Id, who: Who) -> dict:
        return svc.get_plan(who, plan_id)

    @app.get("/api/plans/{plan_id}/versions/{number}", response_model=PlanVersionOut)
    def get_version(plan_id: Id, number: Id, who: Who) -> dict:
        return svc.get_version(who, plan_id, number)

    @app.post("/api/plans/{plan_id}/versions", status_code=201, response_model=PlanVersionOut)
    def add_version(plan_id: Id, document: dict[str, Any], who: Who) -> dict:
        return svc.add_version(who, plan_id, document)

    @app.post("/api/plans/{plan_id}/versions/{number}/submit", status_code=201, response_model=SubmissionOut)
    def submit(plan_id: Id, number: Id, who: Who) -> dict:
        return svc.submit(who, plan_id, number)

    @app.post(
        "/api/plans/{plan_id}/versions/{number}/attestations", status_code=201, response_model=AttestationOut
    )
    def attest(plan_id: Id, number: Id, attestation: AttestationIn, who: Who) -> dict:
        """A lead of the plan's footprint attests one of the four tests of service change on
        this version; every run of the version shows the latest attestation of each test."""
        return svc.attest(who, plan_id, number, attestation.test, attestation.note)

    @app.get("/api/plans/{plan_id}/versions/{number}/attestations", response_model=list[AttestationOut])
    def attestations(plan_id: Id, number: Id, who: Who) -> list[dict]:
        """The version's attestations, oldest first (history kept; ``current`` marks the latest)."""
        return svc.attestations(who, plan_id, number)

    @app.get("/api/submissions", response_model=list[SubmissionOut])
    def submissions(who: Who, footprint: str | None = None) -> list[dict]:
        return svc.list_submissions(who, footprint)

    @app.post("/api/submissions/{sid}/accept", response_model=SubmissionOut)
    def accept(sid: Id, who: Who, decision: Decision | None = None) -> dict:
        return svc.decide(who, sid, True, decision.comment if decision else None)

    @app.post("/api/submissions/{sid}/return", response_model=SubmissionOut)
    def give_back(sid: Id, decision: Decision, who: Who) -> dict:
        return svc.decide(who, sid, False, decision.comment)

    @app.post("/api/submissions/{sid}/withdraw", response_model=SubmissionOut)
    def withdraw(sid: Id, decision: Decision, who: Who) -> dict:
        """Withdraw an accepted submission (national reviewers); ``comment`` is the reason."""
        return svc.withdraw(who, sid, decision.comment)

    class RunStarted(BaseModel):
        run_id: str
        status: Literal["running"]
        poll: str

    @app.post(
        "/api/runs",
        response_model=RunResponse,
        response_model_exclude_none=True,
        responses={202: {"model": RunStarted, "description": "a long run, computed in the background"}},
    )
    def runs(request: RunRequest, who: Who):
        draws, seed = request.draws, request.seed
        # Large whichever set the draws, the request or the plan itself.
        if svc.run_draws(who, request.plan_id, request.version, draws) > SYNC_DRAWS:
            return queued(svc.start_run, svc.finish_run, who, request.plan_id, request.version, draws, seed)
        with slots.take(who.id):
            return svc.run(who, request.plan_id, request.version, draws, seed)

    def queued(start, finish, who, *args) -> JSONResponse:
        """Start long work in the background (one at a time per user, as runs are): ``start``
        records it as running and returns its id, ``finish`` computes and keeps it; 202 with the
        address to poll."""
        slots.acquire(who.id)
        try:
            rid = start(who, *args)
            future = pool.submit(finish, who, *args)
        except BaseException:
            slots.release(who.id)
            raise
        future.add_done_callback(lambda _f: slots.release(who.id))
        return JSONResponse(
            status_code=202, content={"run_id": rid, "status": "running", "poll": f"/api/runs/{rid}"}
        )

    @app.post(
        "/api/optimise",
        responses={
            202: {"model": RunStarted, "description": "a long optimisation, computed in the background"}
        },
    )
    def optimise(request: RunRequest, who: Who):
        """Find the plan for a stored version (its ``optimise`` section, or the defaults): the
        document `stpsim optimise --json` prints. One at a time per user, as runs are; above
        SYNC_OPTIMISE_DRAWS it answers 202 and is polled at /api/runs/ID, as a large run is."""
        args = (request.plan_id, request.version, request.draws, request.seed)
        if svc.optimise_draws(who, request.plan_id, request.version, request.draws) > SYNC_OPTIMISE_DRAWS:
            return queued(svc.start_optimise, svc.finish_optimise, who, *args)
        with slots.take(who.id):
            return svc.optimise(who, *args)

    @app.get("/api/runs/{rid}")
    def get_run(rid: str, who: Who) -> dict:
        return svc.get_run(who, rid)

    @app.get("/api/rollup", response_model=RollupResponse)
    def rollup(
        who: Who,
        source: Literal["submissions"] = "submissions",
        draws: Annotated[int, Query(ge=1, le=5000)] = 200,
        seed: Annotated[int, Query(ge=0, le=2**32 - 1)] = 1,
    ) -> dict:
        return svc.rollup_submissions(who, draws, seed)

    @app.get("/api/track-record")
    def track_record() -> dict:
        """England's track record at 1,000 draws, seed 0 (what `stpsim backtest --calibrate --json`
        prints): projections from 2016/17 against what happened, and the calibration. For everyone,
        as the dashboard's page is; computed once per data and code."""
        from ..service.track_record import backtest

        return backtest()

    @app.get("/api/plans/{plan_id}/versions/{number}/report")
    def report(
        plan_id: Id,
        number: Id,
        who: Who,
        audience: Literal["board", "public"] = "board",
        format: Literal["html", "xlsx"] = "html",  # noqa: A002 - the documented query name
        part: Literal["main", "appendix"] = "main",
    ) -> Response:
        body = svc.report(who, plan_id, number, audience, format, part)
        media = (
            "text/html; charset=utf-8"
            if format == "html"
            else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        return Response(content=body, media_type=media)

    @app.get("/api/audit")
    def audit(
        who: Who,
        after: Annotated[
            int, Query(ge=0, le=MAX_ID, description="the last entry's id of the page before")
        ] = 0,
        limit: Annotated[int, Query(ge=1, le=1000, description="entries in this page")] = 500,
    ) -> list[dict]:
        """The audit log, oldest first, a page at a time (sign-ins and refusals included)."""
        return svc.audit_log(who, after, limit)

    from ..web import install as install_web
    from .docs import install as install_docs

    install_docs(app)
    install_web(app, svc)  # the dashboard's pages, outside the OpenAPI schema
    app.openapi = lambda: _openapi(app)
    return app


ERROR_SCHEMA = {
    "title": "Error",
    "type": "object",
    "properties": {"detail": {"title": "Detail", "type": "array", "items": {"type": "string"}}},
    "required": ["detail"],
    "description": "Every error's body: one line per problem, each naming the field, the bad value "
    "and what is allowed where a field is at fault.",
}


def _openapi(app: FastAPI) -> dict:
    """The schema as the API answers: every 4xx (422 included) is ``{"detail": [lines]}``, not
    FastAPI's default list of objects."""
    if app.openapi_schema:
        return app.openapi_schema
    from fastapi.openapi.utils import get_openapi

    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    schemas["HTTPValidationError"] = ERROR_SCHEMA
    schemas.pop("ValidationError", None)
    error = {
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}}
    }
    for path in schema.get("paths", {}).values():
        for op in path.values():
            op.setdefault("responses", {}).setdefault(
                "4XX", {"description": "refused: 401, 403, 404, 409, 413, 422 or 429, saying why"} | error
            )
    app.openapi_schema = schema
    return schema
