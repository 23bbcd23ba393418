"""The web pages: thin routes that read the session, call the service (or the cached figures)
and render a Jinja2 template. Nothing here decides who may read what: the service does, and its
errors become pages (403, 404) here.

Every POST checks the form's CSRF token (the router's dependency); every page escapes what users
typed (Jinja2 autoescape).
"""

from functools import cache
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined

from .. import __version__
from ..service import Actor, NotAuthenticated, Service, ServiceError
from . import figures
from .security import CSRF_FIELD, Session, SignInLimit

MAX_ID = 2**31 - 1
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
GEOJSON_URL = f"/static/{figures.GEOJSON}"
SUBMISSION_STATES = ("missing", "submitted", "returned", "accepted")
# Anyone reading the public page reads it as a viewer does: published versions only. The
# service's rules for viewers then decide what is public; id 0 is no stored user.
PUBLIC = Actor(0, "(public)", "viewer", frozenset())


class PageError(Exception):
    """A page that cannot be shown: its status, a heading and the lines saying why."""

    def __init__(self, status: int, title: str, lines: list[str], headers: dict | None = None):
        super().__init__(title)
        self.status, self.title, self.lines, self.headers = status, title, lines, headers


class SignInRequired(Exception):
    """The page needs a signed-in user: the visitor is sent to sign in and brought back."""


def _money(x: float) -> str:
    sign = "−" if x < 0 else ""
    x = abs(x)
    if x >= 1e9:
        return f"{sign}£{x / 1e9:,.1f}bn"
    if x >= 1e6:
        return f"{sign}£{x / 1e6:,.0f}m"
    return f"{sign}£{x:,.0f}"


def _count(x: float) -> str:
    return f"{x:,.0f}"


def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("stpsim.web", "templates"),
        autoescape=True,  # every page is HTML: whatever users typed is escaped
        undefined=StrictUndefined,  # a misspelt name fails the tests instead of printing nothing
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["money"] = _money
    env.filters["count"] = _count
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


def build_router(service: Service, limit: SignInLimit | None = None) -> APIRouter:
    """The pages over ``service``; ``limit`` counts failed sign-ins (5 in 5 minutes)."""
    env = environment()
    limit = limit or SignInLimit()

    async def check_csrf(request: Request) -> None:
        """Every POST must carry the session's form token: a page on another site cannot."""
        if request.method != "POST":
            return
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
            plotly_version=figures.plotly_js()[2],
            **context,
        )
        return HTMLResponse(body, status_code=status)

    def signed_in(request: Request) -> Actor:
        actor = session(request).actor
        if actor is None:
            raise SignInRequired
        return actor

    Who = Annotated[Actor, Depends(signed_in)]

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
        status = 200
        if not errors and (wait := limit.wait(user_name, address)):
            errors.append(("user-name", f"Too many failed sign-ins. Try again in {wait} s."))
            status = 429
        elif not errors:
            try:
                actor = service.check_password(user_name.strip(), password)
            except NotAuthenticated as e:
                limit.failed(user_name, address)
                # The service says the same for an unknown user and a wrong password.
                errors.append(("user-name", str(e).capitalize()))
            else:
                limit.succeeded(user_name)
                session(request).sign_in(actor)
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
        s.sign_out()
        s.flash("You have signed out.")
        return RedirectResponse("/", status_code=303)

    # ---- England and the footprints ----------------------------------------------------------

    @router.get("/")
    def england(request: Request) -> HTMLResponse:
        data = figures.england()
        actor = session(request).actor
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
            map_figure=figures.england_map(GEOJSON_URL),
        )

    @router.get("/footprints/{code}")
    def footprint(request: Request, code: Annotated[str, Path(max_length=100)]) -> Response:
        from ..footprint import UnknownFootprint, find

        try:
            fp = find(code)
        except UnknownFootprint as e:
            raise PageError(404, "Footprint not found", [f"code: {e}"]) from None
        if fp.code != code:  # a name or lower-case code: one address per footprint
            return RedirectResponse(f"/footprints/{fp.code}", status_code=308)
        view = figures.footprint(fp.code)
        return render(
            request,
            "footprint.html",
            crumbs=[("England", "/")],
            view=view,
        )

    # ---- plans -------------------------------------------------------------------------------

    @router.get("/public")
    def public(request: Request) -> HTMLResponse:
        published = []
        for plan in service.list_plans(PUBLIC):
            version = service.get_version(PUBLIC, plan["id"], plan["latest_version"])
            published.append((plan, version, figures.public_story(version)))
        return render(
            request,
            "public.html",
            crumbs=[("Home", "/")],
            published=published,
        )

    @router.get("/plans")
    def plans(request: Request, who: Who) -> HTMLResponse:
        rows = [service.get_plan(who, p["id"]) for p in service.list_plans(who)]
        return render(
            request,
            "plans.html",
            crumbs=[("Home", "/")],
            plans=rows,
        )

    @router.get("/plans/{plan_id}/versions/{number}")
    def version(request: Request, plan_id: Id, number: Id, who: Who) -> HTMLResponse:
        v = service.get_version(who, plan_id, number)
        return render(
            request,
            "version.html",
            crumbs=[("Home", "/"), ("Plans", "/plans")],
            v=v,
        )

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
    from ..footprint import all_footprints

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
