"""The web pages: thin routes that read the session, call the service (``Service`` and, for what
the pages need beyond it, ``service.dashboard``) or the cached figures, and render a Jinja2
template. Nothing here decides who may read or change what: the service does, and its errors
become pages (403, 404, 409, 422) here.

Every POST checks the session's CSRF token (the router's dependency): a form's field, or the
``X-CSRF-Token`` header of the editor's JSON preview. Every page escapes what users typed
(Jinja2 autoescape).
"""

from functools import cache
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from ..service import Actor, Invalid, NotAuthenticated, Service, ServiceError, TooManyAttempts
from ..version import __version__
from . import figures
from . import views as dashboard
from .charts import millions, millions_change, millions_range, pounds
from .security import CSRF_FIELD, CSRF_HEADER, Session

MAX_ID = 2**31 - 1
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
FieldName = Annotated[str, StringConstraints(max_length=100)]
FieldValue = Annotated[str, StringConstraints(max_length=200)]
REPORT_TYPES = {
    "html": "text/html; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
GEOJSON_URL = f"/static/{figures.GEOJSON}"
# Anyone reading the public page reads it as a viewer does: published versions only. The
# service's rules for viewers then decide what is public; id 0 is no stored user.


class PageError(Exception):
    """A page that cannot be shown: its status, a heading and the lines saying why."""

    def __init__(self, status: int, title: str, lines: list[str], headers: dict | None = None):
        super().__init__(title)
        self.status, self.title, self.lines, self.headers = status, title, lines, headers


class SignInRequired(Exception):
    """The page needs a signed-in user: the visitor is sent to sign in and brought back."""


class PreviewRequest(BaseModel):
    """What the editor's page sends as a slider moves: the version edited and the form's fields
    (the same names as the form it would save)."""

    model_config = ConfigDict(extra="forbid")

    plan_id: int = Field(ge=1, le=MAX_ID)
    version: int = Field(ge=1, le=MAX_ID)
    fields: dict[FieldName, FieldValue] = Field(max_length=200)


def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("stpsim.web", "templates"),
        autoescape=True,  # every page is HTML: whatever users typed is escaped
        undefined=StrictUndefined,  # a misspelt name fails the tests instead of printing nothing
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["money"] = dashboard.money
    for fmt in (millions, millions_range, millions_change, pounds):
        env.filters[fmt.__name__] = fmt
    env.filters["count"] = dashboard.count
    env.filters["field_id"] = dashboard.field_id
    env.filters["figure_json"] = figures.figure_json
    env.filters["when"] = lambda iso: str(iso)[:16].replace("T", " ") + " UTC"
    env.filters["label"] = lambda key: str(key).replace("_", " ")
    env.filters["footprint"] = lambda code: _footprint_names().get(code, code)
    return env


def session(request: Request) -> Session:
    return request.state.session


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site only (never //host or a scheme)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/plans"


def client_address(request: Request) -> str:
    # Behind a proxy every visitor has the proxy's address: run uvicorn with --proxy-headers
    # (and --forwarded-allow-ips) so this is the visitor's own.
    return request.client.host if request.client else "unknown"


def build_router(service: Service) -> APIRouter:
    """The pages over ``service``; ``limit`` counts failed sign-ins (5 in 5 minutes)."""
    env = environment()

    async def check_csrf(request: Request) -> None:
        """Every POST must carry the session's form token: a page on another site cannot."""
        if request.method != "POST":
            return
        # A form sends the token as a field; the pages' scripts send JSON with it in a header,
        # which another site cannot set on a request to this one.
        token = request.headers.get(CSRF_HEADER)
        if token is None:
            form = await request.form()  # parsed once; the route's Form fields read the same copy
            token = form.get(CSRF_FIELD)
        if not session(request).csrf_matches(token if isinstance(token, str) else None):
            raise PageError(
                403,
                "This form has expired",
                [
                    "The form was missing its security token, or the token was not right "
                    f"(field {CSRF_FIELD}). This happens when a page was open for a long time or "
                    "came from another site.",
                    "Go back, reload the page and try again.",
                ],
            )

    router = APIRouter(dependencies=[Depends(check_csrf)], include_in_schema=False)

    def render(
        request: Request,
        template: str,
        status: int = 200,
        crumbs: list[tuple[str, str]] | None = None,
        **context,
    ) -> HTMLResponse:
        s = session(request)
        body = env.get_template(template).render(
            actor=s.actor,
            csrf_field=CSRF_FIELD,
            csrf_token=s.lazy_csrf(),
            flash=s.take_flash(),
            crumbs=crumbs or [],
            path=request.url.path,
            version=__version__,
            plotly_version=figures.plotly_version(),
            **context,
        )
        return HTMLResponse(body, status_code=status)

    def signed_in(request: Request) -> Actor:
        actor = session(request).actor
        if actor is None:
            raise SignInRequired
        return actor

    Who = Annotated[Actor, Depends(signed_in)]

    async def form_fields(request: Request) -> dict[str, str]:
        """A form's fields by name (the editor's names depend on the care models); files and
        the token left out."""
        form = await request.form()
        return {k: v for k, v in form.items() if isinstance(v, str) and k != CSRF_FIELD}

    Fields = Annotated[dict[str, str], Depends(form_fields)]

    # ---- signing in and out ----------------------------------------------------------------

    @router.get("/login")
    def login_form(request: Request, next: str | None = None) -> HTMLResponse:
        return render(
            request,
            "login.html",
            crumbs=[("Home", "/")],
            errors=[],
            user_name="",
            next=safe_next(next),
        )

    @router.post("/login")
    def login(
        request: Request,
        user_name: Annotated[str, Form(max_length=200)] = "",
        password: Annotated[str, Form(max_length=1000)] = "",
        next: Annotated[str, Form(max_length=2000)] = "/plans",
    ) -> Response:
        errors = []
        if not user_name.strip():
            errors.append(("user-name", "Enter your user name"))
        if not password:
            errors.append(("password", "Enter your password"))
        address = client_address(request)
        status, wait = 200, 0
        if not errors:
            try:
                actor = service.sign_in(user_name, password, address)
            except TooManyAttempts as e:
                wait = e.wait
                errors.append(("user-name", f"Too many failed sign-ins. Try again in {wait} s."))
                status = 429
            except NotAuthenticated as e:
                # The service says the same for an unknown user and a wrong password.
                errors.append(("user-name", str(e).capitalize()))
            else:
                session(request).sign_in(service.start_session(actor))
                return RedirectResponse(safe_next(next), status_code=303)
        response = render(
            request,
            "login.html",
            status=status,
            crumbs=[("Home", "/")],
            errors=errors,
            user_name=user_name,
            next=safe_next(next),
        )
        if status == 429:
            response.headers["Retry-After"] = str(wait)
        return response

    @router.get("/logout")
    def logout_form(request: Request) -> Response:
        if session(request).actor is None:
            return RedirectResponse("/", status_code=303)
        return render(request, "logout.html", crumbs=[("Home", "/")])

    @router.post("/logout")
    def logout(request: Request) -> Response:
        s = session(request)
        service.end_session(s.secret)  # the session ends in the store: the cookie is worthless
        s.sign_out()
        s.flash("You have signed out.")
        return RedirectResponse("/", status_code=303)

    # ---- England and the footprints ----------------------------------------------------------

    @router.get("/")
    def england(
        request: Request, shade: Annotated[Literal["do_nothing", "plan"], Query()] = "do_nothing"
    ) -> HTMLResponse:
        data = figures.england()
        actor = session(request).actor
        # The plan view: every footprint's published plan, or for national users every current
        # submission (a bad ``shade`` is a 422 page naming it, as any bad address is).
        plan_rows = figures.england_plan_rows(dashboard.england_with_plans(service, actor, data.year))
        planned = tuple((r.code, r.gap_per_head) for r in plan_rows.values() if r.planned)
        states = None
        if actor is not None and actor.role == "national":
            states = dict.fromkeys((r.code for r in data.rows), "missing")
            for sub in service.list_submissions(actor):
                if sub["superseded_by"] is None:  # the footprint's current submission
                    states[sub["footprint"]] = sub["state"]
        return render(
            request,
            "england.html",
            data=data,
            states=states,
            shade=shade,
            plan_rows=plan_rows,
            planned_count=len(planned),
            all_submissions=actor is not None and actor.role == "national",
            map_figure=figures.england_map(GEOJSON_URL, planned, shade == "plan"),
            scale=figures.map_scale([r.gap_per_head for r in data.rows] + [g for _, g in planned]),
        )

    @router.get("/footprints/{code}")
    def footprint(request: Request, code: Annotated[str, Path(max_length=100)]) -> Response:
        from ..service.catalogue import UnknownFootprint
        from ..service.catalogue import find_footprint as find

        try:
            fp = find(code)
        except UnknownFootprint:
            raise PageError(404, "Area not found", dashboard.unknown_area_words(code)) from None
        if fp.code != code:  # a name or lower-case code: one address per footprint
            return RedirectResponse(f"/footprints/{fp.code}", status_code=308)
        view = figures.footprint(fp.code)
        return render(
            request,
            "footprint.html",
            crumbs=[("England", "/")],
            view=view,
            plan=dashboard.footprint_plan(service, session(request).actor, fp.code),
            plans=service.list_plans(session(request).actor, fp.code) if session(request).actor else [],
        )

    # ---- plans -------------------------------------------------------------------------------

    @router.get("/public")
    def public(request: Request, area: Annotated[str, Query(max_length=100)] = "") -> HTMLResponse:
        return render(
            request, "public.html", crumbs=[("Home", "/")], page=dashboard.public_page(service, area)
        )

    @router.get("/track-record")
    def track_record(request: Request) -> HTMLResponse:
        """How well the model projected 2017/18 to 2019/20 from 2016/17: for everyone."""
        from ..service.catalogue import track_record as record

        doc = record()  # computed once per data and code, then read from disk
        return render(
            request, "track_record.html", crumbs=[("Home", "/")], page=dashboard.track_record_page(doc)
        )

    @router.get("/public/appendix")
    def public_appendix(request: Request) -> HTMLResponse:
        from markupsafe import Markup

        from ..service.catalogue import appendix_sections

        # The report's own escaped HTML: every assumption and every source.
        body = Markup(appendix_sections(True))  # noqa: S704 - built with html.escape throughout
        return render(
            request, "appendix.html", crumbs=[("Home", "/"), ("Published plans", "/public")], body=body
        )

    @router.get("/plans")
    def plans(request: Request, who: Who) -> HTMLResponse:
        return render(request, "plans.html", crumbs=[("Home", "/")], plans=dashboard.plan_list(service, who))

    @router.get("/plans/{plan_id}/versions/{number}")
    def version(request: Request, plan_id: Id, number: Id, who: Who) -> HTMLResponse:
        v = service.get_version(who, plan_id, number)
        return render(
            request,
            "version.html",
            crumbs=[("Home", "/"), ("Plans", "/plans")],
            v=v,
            vs=dashboard.version_status(service, who, v),
        )

    def version_crumbs(plan_id: int, number: int) -> list[tuple[str, str]]:
        return [
            ("Home", "/"),
            ("Plans", "/plans"),
            (f"Version {number}", f"/plans/{plan_id}/versions/{number}"),
        ]

    # ---- the plan editor ---------------------------------------------------------------------

    @router.get("/plans/{plan_id}/versions/{number}/edit")
    def edit_form(request: Request, plan_id: Id, number: Id, who: Who) -> HTMLResponse:
        return render(
            request,
            "editor.html",
            crumbs=version_crumbs(plan_id, number),
            e=dashboard.editor(service, who, plan_id, number),
        )

    @router.post("/plans/{plan_id}/versions/{number}/edit")
    def edit(request: Request, plan_id: Id, number: Id, who: Who, fields: Fields) -> Response:
        try:
            saved = dashboard.save(service, who, plan_id, number, fields)
        except dashboard.EditError as e:
            return render(
                request,
                "editor.html",
                status=422,
                crumbs=version_crumbs(plan_id, number),
                e=dashboard.editor(service, who, plan_id, number, fields, e.errors),
            )
        if saved.get("unchanged"):
            session(request).flash(f"Nothing changed, so no new version was saved. Version {number} stands.")
            return RedirectResponse(f"/plans/{plan_id}/versions/{number}", status_code=303)
        session(request).flash(f"Saved as version {saved['version']}. Version {number} is unchanged.")
        return RedirectResponse(f"/plans/{plan_id}/versions/{saved['version']}", status_code=303)

    @router.post("/plans/{plan_id}/versions/{number}/find")
    def find_plan(request: Request, plan_id: Id, number: Id, who: Who) -> HTMLResponse:
        """ "Find a plan": the optimiser's proposal filled into the editor; nothing is saved."""
        return render(
            request,
            "editor.html",
            crumbs=version_crumbs(plan_id, number),
            e=dashboard.find_plan(service, who, plan_id, number),
        )

    @router.post("/web/preview")
    def preview(request: Request, body: PreviewRequest, who: Who) -> JSONResponse:
        headers = {"Cache-Control": "no-store"}
        try:
            shown = dashboard.preview(service, who, body.plan_id, body.version, body.fields)
        except dashboard.EditError as e:
            fields = [{"field": err.field, "id": err.anchor, "message": err.message} for err in e.errors]
            return JSONResponse({"lines": e.lines, "fields": fields}, status_code=422, headers=headers)
        return JSONResponse(shown.to_dict(), headers=headers)

    # ---- results, reports and comparisons ----------------------------------------------------

    @router.get("/plans/{plan_id}/versions/{number}/results")
    def results(request: Request, plan_id: Id, number: Id, who: Who) -> HTMLResponse:
        return render(
            request,
            "results.html",
            crumbs=version_crumbs(plan_id, number),
            r=dashboard.results(service, who, plan_id, number),
        )

    @router.get("/plans/{plan_id}/versions/{number}/report.{fmt}")
    def report(plan_id: Id, number: Id, fmt: Literal["html", "xlsx"], who: Who) -> Response:
        body = service.report(who, plan_id, number, "board", fmt)
        name = f"stpsim-plan-{plan_id}-version-{number}-board.{fmt}"
        return Response(
            body,
            media_type=REPORT_TYPES[fmt],
            headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
        )

    @router.get("/compare")
    def compare(
        request: Request,
        who: Who,
        a: Annotated[str | None, Query(max_length=30)] = None,
        b: Annotated[str | None, Query(max_length=30)] = None,
    ) -> HTMLResponse:
        chosen, problem, status = None, None, 200
        if a and b:  # one alone (from a version's page) is chosen in the form
            try:
                chosen = dashboard.compare(
                    service, who, dashboard.parse_ref(a, "a"), dashboard.parse_ref(b, "b")
                )
            except Invalid as e:
                problem, status = e.lines, 422
        return render(
            request,
            "compare.html",
            status=status,
            crumbs=[("Home", "/"), ("Plans", "/plans")],
            choices=dashboard.choices(service, who),
            a=a or "",
            b=b or "",
            c=chosen,
            problem=problem,
        )

    # ---- submissions -------------------------------------------------------------------------

    @router.post("/plans/{plan_id}/versions/{number}/attest")
    def attest(request: Request, plan_id: Id, number: Id, who: Who, fields: Fields) -> Response:
        try:
            done = service.attest(who, plan_id, number, fields.get("test", ""), fields.get("note", ""))
        except Invalid as e:
            v = service.get_version(who, plan_id, number)
            return render(
                request,
                "version.html",
                status=422,
                crumbs=[("Home", "/"), ("Plans", "/plans")],
                v=v,
                vs=dashboard.version_status(service, who, v),
                attest_errors=dashboard.attestation_words(e.lines),
                attest_note=fields.get("note", ""),
            )
        session(request).flash(f"Recorded: {done['title']}, for version {number}.")
        return RedirectResponse(f"/plans/{plan_id}/versions/{number}#four-tests", status_code=303)

    @router.post("/plans/{plan_id}/versions/{number}/submit")
    def submit(request: Request, plan_id: Id, number: Id, who: Who) -> Response:
        service.submit(who, plan_id, number)
        session(request).flash(f"Version {number} was sent to NHS England for review.")
        return RedirectResponse(f"/plans/{plan_id}/versions/{number}", status_code=303)

    @router.get("/submissions")
    def submissions(
        request: Request,
        who: Who,
        status: Annotated[str, Query(max_length=40)] = "",
        region: Annotated[str, Query(max_length=80)] = "",
        risk: Annotated[str, Query(max_length=40)] = "",
        sort: Annotated[str, Query(max_length=40)] = "status",
    ) -> HTMLResponse:
        try:
            board = dashboard.board(service, who, status, region, risk, sort)
        except Invalid as e:
            raise PageError(
                422, "These choices cannot be shown", [*e.lines, "Go back to all the submissions."]
            ) from None
        return render(
            request,
            "submissions.html",
            crumbs=[("Home", "/")],
            board=board,
            states=dashboard.STATUS_ORDER,
            risks=dashboard.RISKS,
            sorts=dashboard.BOARD_SORTS,
            risk_rule=dashboard.RISK_RULE,
        )

    def decision_page(request: Request, who: Actor, sid: int, action: str, status=200, errors=(), text=""):
        d = dashboard.decision(service, who, sid, action)
        return render(
            request,
            "decide.html",
            status=status,
            crumbs=[("Home", "/"), ("Submissions", "/submissions")],
            row=d.row,
            action=action,
            heading=d.heading,
            consequence=d.consequence,
            text_label=d.text_label,
            text_hint=d.text_hint,
            button=d.button,
            errors=list(errors),
            text=text,
        )

    Action = Annotated[Literal["accept", "return", "withdraw"], Path()]
    Text = Annotated[str, Form(max_length=10_000)]

    @router.get("/submissions/{sid}/{action}")
    def confirm_decision(request: Request, sid: Id, action: Action, who: Who) -> HTMLResponse:
        return decision_page(request, who, sid, action)

    @router.post("/submissions/{sid}/{action}")
    def decide(
        request: Request, sid: Id, action: Action, who: Who, comment: Text = "", confirmed: Text = ""
    ) -> Response:
        """A decision takes effect only from its confirmation page (``confirmed``); a form
        posted without it shows that page first."""
        if confirmed != "yes":
            return decision_page(request, who, sid, action, text=comment)
        try:
            if action == "withdraw":
                done = service.withdraw(who, sid, comment)
            else:
                done = service.decide(who, sid, action == "accept", comment)
        except Invalid as e:
            words = [line.split(": ", 1)[-1] for line in e.lines]  # the page's words, not field names
            return decision_page(
                request, who, sid, action, 422, [w[0].upper() + w[1:] for w in words], comment
            )
        place = _footprint_names().get(done["footprint"], done["footprint"])
        session(request).flash(
            {
                "accept": f"Accepted the submission from {place}. It is now published.",
                "return": f"Returned the submission from {place} with your comment.",
                "withdraw": f"Withdrew the published plan from {place}. The reason is recorded.",
            }[action]
        )
        return RedirectResponse("/submissions", status_code=303)

    # ---- static files made at start-up -------------------------------------------------------

    @router.get("/static/plotly.min.js")
    def plotly_js(request: Request) -> Response:
        plain, zipped, _ = figures.plotly_js()
        # Pages ask for ?v=PLOTLY_VERSION, so a year's caching never serves an old copy.
        headers = {"Cache-Control": "public, max-age=31536000, immutable", "Vary": "Accept-Encoding"}
        if "gzip" in request.headers.get("accept-encoding", ""):
            headers["Content-Encoding"] = "gzip"
            return Response(zipped, media_type="text/javascript; charset=utf-8", headers=headers)
        return Response(plain, media_type="text/javascript; charset=utf-8", headers=headers)

    @router.get("/static/topojson/{name}.json")
    def topojson(name: Annotated[str, Path(pattern=r"^[a-z0-9_-]{1,40}$")]) -> Response:
        return Response(
            figures.EMPTY_TOPOLOGY,
            media_type="application/json",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    @router.get(GEOJSON_URL)
    def boundaries() -> Response:
        return Response(
            figures.boundaries(),
            media_type="application/geo+json",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    return router


@cache
def _footprint_names() -> dict[str, str]:
    from ..service.catalogue import all_footprints

    return {f.code: f.name for f in all_footprints()}


def error_page(env: Environment, request: Request, status: int, title: str, lines: list[str]) -> HTMLResponse:
    """An error as a page of the site (with the session's header when there is one)."""
    s: Session | None = getattr(request.state, "session", None)
    actor = s.actor if s else None
    body = env.get_template("error.html").render(
        actor=actor,
        csrf_field=CSRF_FIELD,
        csrf_token=s.lazy_csrf() if s else "",
        flash=None,
        crumbs=[("Home", "/")],
        path=request.url.path,
        version=__version__,
        status=status,
        title=title,
        lines=lines,
    )
    return HTMLResponse(body, status_code=status)


__all__ = ["PageError", "ServiceError", "SignInRequired", "build_router", "environment", "error_page"]
