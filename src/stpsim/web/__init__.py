"""The web dashboard: server-rendered pages over the service layer, mounted on the API's app.

``install(app, service)`` adds the pages, their static files, the session and security
middleware, and error pages for the web's paths; the API's routes, errors and OpenAPI schema are
left as they were (its paths keep their JSON errors).
"""

from __future__ import annotations

import logging
from importlib import resources

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from ..service import Service, ServiceError
from .pages import PageError, SignInRequired, build_router, environment, error_page
from .security import (
    SECURITY_HEADERS,
    Sessions,
    WebMiddleware,
    content_security_policy,
    is_api,
    is_page_json,
)

log = logging.getLogger("stpsim.web")

TITLES = {
    401: "Sign in to see this page",
    403: "You cannot see this page",
    404: "Page not found",
    405: "Page not found",
    409: "That could not be done",
    422: "The address is not right",
    429: "Too many attempts",
    503: "Sorry, the service is unavailable",
}


def install(app: FastAPI, service: Service, sessions: Sessions | None = None) -> None:
    env = environment()
    app.include_router(build_router(service))
    static = resources.files("stpsim.web") / "static"
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    sessions = sessions or Sessions()
    sessions.resolve = service.session_actor  # who is signed in is read from the store
    app.add_middleware(WebMiddleware, sessions=sessions)

    def page(request: Request, status: int, lines: list[str], title: str | None = None):
        if is_page_json(request.url.path):  # the pages' scripts read JSON
            return JSONResponse({"lines": lines}, status_code=status, headers={"Cache-Control": "no-store"})
        return error_page(env, request, status, title or TITLES.get(status, "Something went wrong"), lines)

    # Each handler answers the web's paths with a page and hands the API's to its own handler.
    api_service = app.exception_handlers[ServiceError]
    api_validation = app.exception_handlers[RequestValidationError]
    api_http = app.exception_handlers[HTTPException]
    api_unexpected = app.exception_handlers.get(Exception)

    async def on_page_error(request: Request, exc: PageError):
        response = page(request, exc.status, exc.lines, exc.title)
        response.headers.update(exc.headers or {})
        return response

    async def on_sign_in_required(request: Request, _exc: SignInRequired):
        if is_page_json(request.url.path):
            return page(request, 401, ["sign in first; your session may have ended"])
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        from urllib.parse import quote

        return RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=303)

    async def on_service_error(request: Request, exc: ServiceError):
        if is_api(request.url.path):
            return await api_service(request, exc)
        return page(request, exc.status, exc.lines)

    async def on_validation(request: Request, exc: RequestValidationError):
        if is_api(request.url.path):
            return await api_validation(request, exc)
        lines = [
            f"{'.'.join(str(p) for p in e.get('loc', ())[1:]) or 'the request'}: {e.get('msg', 'invalid')}"
            for e in exc.errors()
        ]
        return page(request, 422, lines)

    async def on_http(request: Request, exc: HTTPException):
        if is_api(request.url.path):
            return await api_http(request, exc)
        lines = {
            404: ["There is no page at this address. Check it, or start again from the home page."],
            405: ["There is no page at this address for this kind of request."],
        }.get(exc.status_code, [str(exc.detail)])
        return page(request, exc.status_code, lines)

    async def on_unexpected(request: Request, exc: Exception):
        if is_api(request.url.path) and api_unexpected is not None:
            return await api_unexpected(request, exc)
        path = "".join(ch if ch.isprintable() else "?" for ch in request.url.path)[:200]
        log.error("unexpected %s on %s %s", type(exc).__name__, request.method, path)
        response = page(request, 500, ["The page could not be shown. The error has been logged."])
        # This handler runs outside the middleware (Starlette calls it last), so the page
        # carries its own security headers.
        response.headers["content-security-policy"] = content_security_policy()
        for k, v in SECURITY_HEADERS:
            response.headers[k.decode()] = v.decode()
        return response

    app.add_exception_handler(PageError, on_page_error)
    app.add_exception_handler(SignInRequired, on_sign_in_required)
    app.add_exception_handler(ServiceError, on_service_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(HTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)


__all__ = ["install"]
