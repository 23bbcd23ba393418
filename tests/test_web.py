"""The web pages through FastAPI's TestClient: signing in and out, the same message for an unknown
user and a wrong password, the sign-in rate limit, CSRF, the session cookie's flags, the
security headers on every response, escaping, who sees which plans, the public page, the static
files made at start-up, `stpsim serve --demo`, and an API left as it was."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from stpsim.api.app import create_app
from stpsim.service import Service
from stpsim.web import demo
from stpsim.web.demo import CORNWALL, GM
from stpsim.web.security import SignInLimit

from .conftest_store import gm_plan, sqlite_url

XSS = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The demo store (GM published, Cornwall and North West London drafts) and a GM plan whose
    name is a script, saved by GM's lead."""
    svc = Service(sqlite_url(tmp_path_factory.mktemp("web")))
    made = demo.populate(svc)
    gm_lead = svc.check_password("gm_lead", made.logins["gm_lead"].password)
    xss = svc.create_plan(gm_lead, gm_plan(XSS))["id"]
    return SimpleNamespace(svc=svc, made=made, xss=xss)


def client(world, **kw) -> TestClient:
    """A new visitor (its own cookies) on a new app (its own sign-in counts)."""
    return TestClient(create_app(world.svc), raise_server_exceptions=False, follow_redirects=False, **kw)


def csrf(c: TestClient, path: str = "/login") -> str:
    page = c.get(path)
    assert page.status_code == 200, page.text
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def sign_in(c: TestClient, world, name: str, password: str | None = None):
    token = csrf(c)
    pw = world.made.logins[name].password if password is None else password
    return c.post("/login", data={"csrf_token": token, "user_name": name, "password": pw})


def signed_in(world, name: str) -> TestClient:
    c = client(world)
    r = sign_in(c, world, name)
    assert r.status_code == 303, r.text
    return c


def h1(page) -> str:
    return re.search(r"<h1>(.*?)</h1>", page.text, re.S).group(1).strip()


# ---- signing in and out ----------------------------------------------------------------------


def test_sign_in_and_out(world):
    c = client(world)
    assert c.get("/plans").headers["location"] == "/login?next=/plans"
    r = sign_in(c, world, "gm_lead")
    assert r.status_code == 303 and r.headers["location"] == "/plans"
    page = c.get("/plans")
    assert page.status_code == 200 and "Signed in as <strong>gm_lead</strong> (lead)" in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    assert c.get("/logout").status_code == 200  # a page asking to confirm: signing out is a POST
    out = c.post("/logout", data={"csrf_token": token})
    assert out.status_code == 303 and out.headers["location"] == "/"
    assert "You have signed out." in c.get("/").text
    assert c.get("/plans").status_code == 303


def test_sign_in_goes_back_to_the_page_asked_for_on_this_site_only(world):
    c = client(world)
    token = csrf(c, "/login?next=/plans/1/versions/1")
    pw = world.made.logins["nia"].password
    form = {"csrf_token": token, "user_name": "nia", "password": pw}
    r = c.post("/login", data=form | {"next": "/plans/1/versions/1"})
    assert r.headers["location"] == "/plans/1/versions/1"
    for elsewhere in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        c = client(world)
        r = c.post("/login", data=form | {"csrf_token": csrf(c), "next": elsewhere})
        assert r.headers["location"] == "/plans", elsewhere


def test_unknown_user_and_wrong_password_get_the_same_message(world):
    c = client(world)
    unknown = sign_in(c, world, "nobody", "a-password-long-enough")
    wrong = sign_in(c, world, "gm_lead", "a-password-long-enough")
    assert unknown.status_code == wrong.status_code == 200

    def message(r):
        return re.search(r'<ul class="error-summary__list">(.*?)</ul>', r.text, re.S).group(1)

    assert message(unknown) == message(wrong)
    assert "The user name or password is not right" in message(wrong)
    assert "Signed in as" not in wrong.text


def test_empty_fields_are_named(world):
    c = client(world)
    r = c.post("/login", data={"csrf_token": csrf(c), "user_name": " ", "password": ""})
    assert "Enter your user name" in r.text and "Enter your password" in r.text
    assert 'href="#user-name"' in r.text and 'href="#password"' in r.text


def test_sign_in_is_refused_after_five_failures_for_a_user_name(world):
    c = client(world)
    for _ in range(5):
        assert sign_in(c, world, "cw_lead", "not-the-password-at-all").status_code == 200
    r = sign_in(c, world, "cw_lead")  # even the right password waits
    assert r.status_code == 429
    assert re.search(r"Too many failed sign-ins. Try again in \d+ s.", r.text)
    assert 1 <= int(r.headers["retry-after"]) <= 300
    assert "Signed in as" not in r.text


def test_sign_in_is_refused_after_five_failures_from_an_address(world):
    c = client(world)
    for i in range(5):
        assert sign_in(c, world, f"guess{i}", "not-the-password-at-all").status_code == 200
    assert sign_in(c, world, "nia").status_code == 429


def test_the_limit_counts_failures_in_a_moving_window():
    now = [0.0]
    limit = SignInLimit(failures=5, window=300, clock=lambda: now[0])
    for _ in range(5):
        assert limit.wait("Ann", "10.0.0.1") == 0
        limit.failed("Ann", "10.0.0.1")
        now[0] += 10
    assert limit.wait("ann", "10.0.0.2") == 300 - 50  # names are counted without case
    assert limit.wait("bob", "10.0.0.1") == 250  # and the address on its own
    now[0] = 301  # the first failure has left the window
    assert limit.wait("ann", "10.0.0.2") == 0
    limit.succeeded("ann")
    assert limit.wait("ann", "10.0.0.9") == 0


# ---- CSRF, cookies and headers -----------------------------------------------------------------


def test_a_post_without_the_right_csrf_token_is_refused(world):
    c = client(world)
    csrf(c)  # the visitor has a session with a token
    pw = world.made.logins["nia"].password
    for data in ({}, {"csrf_token": "wrong"}, {"csrf_token": ""}):
        r = c.post("/login", data=data | {"user_name": "nia", "password": pw})
        assert r.status_code == 403, data
        assert "This form has expired" in r.text and "csrf_token" in r.text
        assert "Signed in as" not in r.text
    c = signed_in(world, "nia")
    assert c.post("/logout", data={"csrf_token": "wrong"}).status_code == 403
    assert c.get("/plans").status_code == 200  # still signed in
    # Another visitor's token is not this visitor's.
    other = client(world)
    theirs = {"csrf_token": csrf(c, "/plans"), "user_name": "nia", "password": pw}
    assert other.post("/login", data=theirs).status_code == 403


def test_the_session_cookie_is_http_only_and_same_site_lax(world):
    c = client(world)
    assert "set-cookie" not in c.get("/").headers  # no form, no token, no cookie
    cookie = c.get("/login").headers["set-cookie"]
    assert cookie.startswith("stpsim_session=")
    flags = [f.strip().lower() for f in cookie.split(";")]
    assert "httponly" in flags and "samesite=lax" in flags and "path=/" in flags
    assert "secure" not in flags  # plain http here
    r = sign_in(c, world, "vic")
    assert "HttpOnly" in r.headers["set-cookie"] and "SameSite=Lax" in r.headers["set-cookie"]
    tls = client(world, base_url="https://testserver")
    assert "; Secure" in tls.get("/login").headers["set-cookie"]


def test_a_forged_cookie_is_no_session(world):
    c = signed_in(world, "nia")
    value = c.cookies.get("stpsim_session")
    c.cookies.set("stpsim_session", value[:-3] + ("AAA" if not value.endswith("AAA") else "BBB"))
    assert c.get("/plans").status_code == 303


def test_every_response_carries_the_security_headers(world):
    c = signed_in(world, "gm_lead")
    paths = [
        "/",
        "/login",
        "/public",
        "/plans",
        f"/plans/{world.made.plans['greater_manchester.yaml']}/versions/1",
        f"/plans/{world.made.plans['cornwall.yaml']}/versions/1",  # 403
        f"/footprints/{GM}",
        "/footprints/E99999999",  # 404
        "/no-such-page",
        "/static/dashboard.css",
        "/static/dashboard.js",
        "/static/plotly.min.js",
        "/static/stp17_boundaries.geojson",
    ]
    for path in paths:
        r = c.get(path)
        csp = r.headers.get("content-security-policy", "")
        assert "default-src 'self'" in csp and "script-src 'self';" in csp, path
        assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp, path
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
        assert r.headers["x-content-type-options"] == "nosniff", path
        assert r.headers["referrer-policy"] == "same-origin", path
    for path in ("/healthz", "/api/plans", "/api/no-such-thing"):  # JSON may run and show nothing
        r = c.get(path)
        assert r.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
        assert r.headers["x-content-type-options"] == "nosniff", path
    page = c.get("/")
    assert "<script>" not in page.text  # no inline script: the pages run only /static/*.js
    assert not re.search(r"\sstyle=", page.text)  # nor inline styles


def test_user_typed_text_is_escaped(world):
    c = signed_in(world, "gm_lead")
    page = c.get("/plans")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert XSS not in page.text
    version = c.get(f"/plans/{world.xss}/versions/1")
    assert XSS not in version.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in version.text
    # A user name typed into the form comes back escaped too.
    c = client(world)
    r = c.post("/login", data={"csrf_token": csrf(c), "user_name": '"><script>x()</script>', "password": "x"})
    assert "<script>x()" not in r.text and "&#34;&gt;&lt;script&gt;x()" in r.text


# ---- who sees what ---------------------------------------------------------------------------


def test_pages_answer_with_their_headings(world):
    anonymous = client(world)
    assert h1(anonymous.get("/")) == "England's 44 footprints if nothing changes"
    assert h1(anonymous.get("/login")) == "Sign in"
    assert h1(anonymous.get("/public")) == "Published plans"
    fp = anonymous.get(f"/footprints/{GM}")
    assert h1(fp) == "Greater Manchester if nothing changes"
    for heading in ("The people", "The pressure on each service", "Hospital beds"):
        assert f">{heading}</h2>" in fp.text
    assert fp.text.count('<figure class="chart"') == 3 and fp.text.count("<figcaption") == 3
    c = signed_in(world, "nia")
    assert h1(c.get("/plans")) == "Your plans"
    gm = world.made.plans["greater_manchester.yaml"]
    v = c.get(f"/plans/{gm}/versions/1")
    assert h1(v) == "Greater Manchester - Taking Charge" and "<dt" in v.text and "geriatricians" in v.text


def test_the_england_page_lists_the_44_footprints_and_shows_submissions_to_national_only(world):
    page = client(world).get("/")
    assert page.text.count('<th scope="row"><a href="/footprints/') == 44
    assert 'data-figure="england-map-data"' in page.text
    assert "Submission</th>" not in page.text
    for name in ("gm_lead", "vic"):
        assert "Submission</th>" not in signed_in(world, name).get("/").text
    national = signed_in(world, "nia").get("/").text
    assert "Submission</th>" in national
    assert national.count('class="tag tag--accepted"') == 1  # Greater Manchester's
    assert national.count('class="tag tag--missing"') == 43


def test_a_lead_sees_only_its_footprints_plans(world):
    cw = signed_in(world, "cw_lead")
    page = cw.get("/plans").text
    assert "Cornwall and the Isles of Scilly - Shaping our future" in page
    assert "Greater Manchester" not in page.split("<main")[1]
    gm_version = f"/plans/{world.made.plans['greater_manchester.yaml']}/versions/1"
    r = cw.get(gm_version)
    assert r.status_code == 403 and "You cannot see this page" in r.text
    assert "cw_lead (lead) may not read plans of E54000007" in r.text
    national = signed_in(world, "nia").get("/plans").text
    for name in ("Greater Manchester - Taking Charge", "Cornwall and the Isles", "North West London"):
        assert name in national


def test_a_viewer_sees_published_versions_only(world):
    vic = signed_in(world, "vic")
    page = vic.get("/plans").text
    assert "Greater Manchester - Taking Charge" in page
    assert "Cornwall" not in page.split("<main")[1] and "&lt;script&gt;" not in page
    assert vic.get(f"/plans/{world.made.plans['cornwall.yaml']}/versions/1").status_code == 403


def test_the_public_page_shows_published_plans_only(world):
    page = client(world).get("/public").text
    main = page.split("<main")[1]
    assert "Greater Manchester - Taking Charge" in main
    assert "Health and care in Greater Manchester: the plan, in plain English" in main
    for unpublished in ("Cornwall", "North West London", "&lt;script&gt;"):
        assert unpublished not in main
    assert main.count("<article") == 1


def test_an_unknown_footprint_is_a_404_naming_it_and_a_name_leads_to_its_code(world):
    c = client(world)
    r = c.get("/footprints/E99999999")
    assert r.status_code == 404 and "E99999999" in r.text and "Footprint not found" in r.text
    r = c.get(f"/footprints/{CORNWALL.lower()}")
    assert r.status_code == 308 and r.headers["location"] == f"/footprints/{CORNWALL}"
    r = signed_in(world, "nia").get("/plans/not-a-number/versions/1")
    assert r.status_code == 422 and "plan_id" in r.text and "text/html" in r.headers["content-type"]


# ---- static files and the API ------------------------------------------------------------------


def test_plotly_and_the_boundaries_are_served_by_the_app(world):
    c = client(world)
    js = c.get("/static/plotly.min.js", headers={"accept-encoding": "identity"})
    assert js.status_code == 200 and "max-age=31536000" in js.headers["cache-control"]
    assert js.headers["content-type"].startswith("text/javascript") and b"Plotly" in js.content[:5000]
    zipped = c.get("/static/plotly.min.js", headers={"accept-encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip" and zipped.content == js.content
    geo = c.get("/static/stp17_boundaries.geojson")
    assert len(geo.content) < 500_000
    codes = {f["properties"]["stp17cd"] for f in json.loads(geo.content)["features"]}
    assert len(codes) == 44 and GM in codes
    assert c.get("/static/topojson/world_110m.json").json() == {"type": "Topology", "objects": {}, "arcs": []}


def test_the_api_is_as_it_was(world):
    c = client(world)
    assert c.get("/api/no-such-thing").json() == {"detail": "Not Found"}
    assert c.get("/api/plans").status_code == 401 and "detail" in c.get("/api/plans").json()
    r = c.get("/api/plans/abc")
    assert r.status_code == 401 and r.headers["content-type"] == "application/json"
    paths = c.get("/openapi.json").json()["paths"]
    assert all(p.startswith("/api/") or p == "/healthz" for p in paths), sorted(paths)
    assert "content-security-policy" not in c.get("/docs").headers  # Swagger UI needs its CDN
    assert "set-cookie" not in c.get("/api/plans").headers


def test_serve_demo_fills_a_store_and_serves_it_on_loopback(monkeypatch, capsys):
    import uvicorn

    from stpsim.cli import main

    served = {}

    def fake_run(app, host, port, **_kw):
        served.update(host=host, port=port)
        c = TestClient(app, follow_redirects=False)
        out = capsys.readouterr().out
        password = re.search(r"nia\s+password (\S+)", out).group(1)
        token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
        r = c.post("/login", data={"csrf_token": token, "user_name": "nia", "password": password})
        served["signed_in"] = r.status_code == 303
        served["public"] = "Greater Manchester - Taking Charge" in c.get("/public").text
        served["out"] = out

    monkeypatch.setattr(uvicorn, "run", fake_run)
    assert main(["serve", "--demo", "--port", "8765"]) == 0
    assert served["host"] == "127.0.0.1" and served["port"] == 8765
    assert served["signed_in"] and served["public"]
    for name in demo.USERS:
        assert re.search(rf"^\s+{name}\s+password \S{{16}}\s", served["out"], re.M), name
    assert main(["serve", "--demo", "--host", "0.0.0.0"]) == 2
    assert main(["serve", "--demo", "--database", "sqlite:///x.db"]) == 2
