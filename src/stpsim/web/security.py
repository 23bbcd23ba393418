"""The web pages' security: the signed session cookie, the CSRF token, the sign-in rate limit and
the headers every response carries.

The session is a signed cookie (itsdangerous) holding the signed-in user and the form token;
nothing about it is kept on the server, so any process with the same ``STPSIM_SECRET_KEY`` reads
it. Without that variable each process makes a random key that is written nowhere: sessions then
end when the process stops, and several processes would not read each other's cookies.
"""

from __future__ import annotations

import hmac
import os
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import cookie_parser

from ..service import Actor
from ..service.access import SESSION_HOURS

COOKIE = "stpsim_session"
# The cookie lasts as long as the session it carries (the store ends the session itself).
SESSION_SECONDS = SESSION_HOURS * 3600
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"  # how the pages' scripts send the same token with JSON

EMPTY_SHA256 = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="  # base64 SHA-256 of ""


@cache
def content_security_policy() -> str:
    """Only the app itself may supply scripts, styles, images, fonts and data; no inline script,
    no eval. plotly.js (the SVG traces the pages draw) needs no 'unsafe-eval': its one
    ``new Function`` is a fallback for browsers without globalThis. It does need three inline
    styles, each allowed by its hash alone rather than by 'unsafe-inline':

    - an empty ``<style>`` element that it then fills through the CSSOM (insertRule, which a
      policy does not govern): its own rules for hover labels, cursors and layers;
    - the MapLibre stylesheet it inserts as a ``<style>`` when it loads (hashed from the bundle
      at start-up, so a new plotly version brings its own hash);
    - empty ``style=""`` attributes on the colour bar's rectangles (style-src-attr with
      'unsafe-hashes' for the empty value only: an empty attribute styles nothing).
    """
    from .figures import plotly_inline_styles

    styles = " ".join(f"'sha256-{h}'" for h in (EMPTY_SHA256, *plotly_inline_styles()))
    return (
        "default-src 'self'; script-src 'self'; "
        f"style-src 'self' {styles}; style-src-attr 'unsafe-hashes' 'sha256-{EMPTY_SHA256}'; "
        "img-src 'self'; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
        "form-action 'self'; frame-ancestors 'none'"
    )


# JSON needs no content at all: the API's answers may not be framed or run anything (and the
# API never loads plotly.js to work out the pages' policy).
API_CSP = "default-src 'none'; frame-ancestors 'none'"

# The API's own documentation pages load Swagger UI and ReDoc from their CDNs with an inline
# script; the policy above would blank them, so they keep the API's behaviour.
NO_CSP = ()  # every page has a policy: /docs is served from the package (api/docs.py)
# Swagger UI at /docs: its own files only; React sets style attributes, hence inline styles.
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
)


def is_page_json(path: str) -> bool:
    """Whether ``path`` is one of the pages' own JSON endpoints (the editor's preview): signed-in
    users, the session's CSRF token, and errors as JSON ``{"lines": [...]}``."""
    return path.startswith("/web/")


def is_api(path: str) -> bool:
    """Whether ``path`` belongs to the REST API (JSON errors) rather than the web pages."""
    return path.startswith(("/api/", "/docs")) or path in ("/api", "/healthz", "/openapi.json", *NO_CSP)


# ---- the session -----------------------------------------------------------------------------


@dataclass
class Session:
    """What the cookie holds: the form token, the secret of the signed-in session (if any) and
    a one-off message. Who is signed in is read from the store through ``resolve`` (the
    session's secret -> its user as they are now, or None when the session has ended), so a
    session ends everywhere at sign-out, expiry, or a change to its user."""

    data: dict[str, Any] = field(default_factory=dict)
    changed: bool = False
    resolve: Callable[[str], Actor | None] | None = None
    _resolved: tuple[Actor | None] | None = None

    @property
    def csrf(self) -> str:
        if "csrf" not in self.data:
            self.data["csrf"] = secrets.token_urlsafe(32)
            self.changed = True
        return self.data["csrf"]

    @property
    def secret(self) -> str | None:
        sid = self.data.get("sid")
        return sid if isinstance(sid, str) else None

    @property
    def actor(self) -> Actor | None:
        if self._resolved is None:
            sid = self.secret
            actor = self.resolve(sid) if sid and self.resolve else None
            if sid and actor is None:  # ended in the store: this browser is signed out
                self.data.pop("sid", None)
                self.changed = True
            self._resolved = (actor,)
        return self._resolved[0]

    def sign_in(self, secret: str) -> None:
        # A new token on signing in, so a token planted before (session fixation) is worthless.
        self.data = {"csrf": secrets.token_urlsafe(32), "sid": secret}
        self._resolved = None
        self.changed = True

    def sign_out(self) -> None:
        self.data = {"csrf": secrets.token_urlsafe(32)}
        self._resolved = (None,)
        self.changed = True

    def flash(self, message: str) -> None:
        self.data["flash"] = message
        self.changed = True

    def take_flash(self) -> str | None:
        message = self.data.pop("flash", None)
        if message is not None:
            self.changed = True
        return message

    def lazy_csrf(self) -> LazyToken:
        return LazyToken(self)

    def csrf_matches(self, token: str | None) -> bool:
        expected = self.data.get("csrf")
        return bool(expected and token) and hmac.compare_digest(expected, token)


class LazyToken:
    """The form token, made only when a page prints it: a page with no form sets no cookie."""

    def __init__(self, session: Session):
        self.session = session

    def __html__(self) -> str:  # Jinja2 prints this; the token is URL-safe base64, no escaping
        return self.session.csrf

    __str__ = __html__


def secret_key() -> str:
    return os.environ.get("STPSIM_SECRET_KEY") or secrets.token_urlsafe(48)


class Sessions:
    """Reads and writes the signed session cookie; ``resolve`` reads a session's user from the
    store (``Service.session_actor``)."""

    def __init__(self, key: str | None = None, resolve: Callable[[str], Actor | None] | None = None):
        self.signer = URLSafeTimedSerializer(key or secret_key(), salt="stpsim.web.session")
        self.resolve = resolve

    def load(self, cookie_header: str | None) -> Session:
        if not cookie_header:
            return Session(resolve=self.resolve)
        # Starlette's parser reads cookies as browsers send them: another site's odd cookie on the
        # same host does not hide ours (http.cookies stops at the first it cannot parse).
        value = cookie_parser(cookie_header).get(COOKIE)
        if not value:
            return Session(resolve=self.resolve)
        try:
            data = self.signer.loads(value, max_age=SESSION_SECONDS)
        except BadSignature:  # forged, from another key, or expired (a subclass)
            return Session(changed=True, resolve=self.resolve)
        return Session(data if isinstance(data, dict) else {}, resolve=self.resolve)

    def cookie(self, session: Session, https: bool) -> bytes:
        value = self.signer.dumps(session.data)
        parts = [f"{COOKIE}={value}", "Path=/", "HttpOnly", "SameSite=Lax", f"Max-Age={SESSION_SECONDS}"]
        if https:
            parts.append("Secure")
        return "; ".join(parts).encode("latin-1")


class WebMiddleware:
    """Pure ASGI: gives each web request its ``scope["state"]["session"]``, writes the cookie back
    when the session changed, and adds the security headers to every response."""

    def __init__(self, app, sessions: Sessions):
        self.app = app
        self.sessions = sessions

    async def __call__(self, scope, receive, send: Callable[[MutableMapping], Awaitable[None]]):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        web = not is_api(path)
        session = None
        if web:
            cookie = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"cookie"), None)
            session = self.sessions.load(cookie)
            scope.setdefault("state", {})["session"] = session
        https = scope.get("scheme") == "https"

        async def sending(message: MutableMapping) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in SECURITY_HEADERS if k not in names]
                if path not in NO_CSP and b"content-security-policy" not in names:
                    policy = (
                        DOCS_CSP
                        if path.startswith("/docs")
                        else (content_security_policy() if web else API_CSP)
                    )
                    headers.append((b"content-security-policy", policy.encode()))
                if session is not None and session.changed:
                    headers.append((b"set-cookie", self.sessions.cookie(session, https)))
                if session is not None and (session.changed or session.secret):
                    # A page that sets a session, or is shown to a signed-in user, is one
                    # visitor's: no shared cache (nor the browser's back button) may keep it.
                    headers = [(k, v) for k, v in headers if k.lower() != b"cache-control"]
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, sending)
