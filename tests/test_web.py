"""The web pages through FastAPI's TestClient: signing in and out, the same message for an unknown
user and a wrong password, the sign-in rate limit, CSRF, the session cookie's flags, the
security headers on every response, escaping, who sees which plans, the public page, the static
files made at start-up, `stpsim serve --demo`, and an API left as it was."""

from __future__ import annotations

import html
import json
import re
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from stpsim.api.app import create_app
from stpsim.service import Service, demo
from stpsim.service.demo import CORNWALL, GM
from stpsim.web import views as dashboard

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


def test_a_user_is_locked_after_five_failures_but_not_everyone_at_the_address(world):
    """Issue 20, item 2: five wrong passwords lock that user (even the right password is then
    refused, 429 with Retry-After); another user at the same address (a shared NHS proxy) still
    signs in."""
    world.svc.add_user("typo_prone", "viewer")
    world.svc.set_password("typo_prone", "the right password here")
    c = client(world)
    for _ in range(5):
        assert sign_in(c, world, "typo_prone", "not-the-password-at-all").status_code == 200
    locked = sign_in(c, world, "typo_prone", "the right password here")
    assert locked.status_code == 429 and 0 < int(locked.headers["Retry-After"]) <= 900
    assert "Too many failed sign-ins" in locked.text
    assert sign_in(client(world), world, "nia").status_code == 303


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
    assert h1(anonymous.get("/public")) == "Plans for health and care in your area"
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


def table_row(page, code: str) -> list[str]:
    """The England table's cells (text) in the row of footprint ``code``."""
    pattern = rf'<tr>\s*<th scope="row"><a href="/footprints/{code}">.*?</tr>'
    row = re.search(pattern, page.text, re.S).group(0)
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]


def map_z(page) -> dict[str, float]:
    fig = json.loads(re.search(r'id="england-map-data">(.*?)</script>', page.text, re.S).group(1))
    return dict(zip(fig["data"][0]["locations"], fig["data"][0]["z"], strict=True))


def test_the_england_map_is_shaded_by_the_do_nothing_or_the_plan_gap_a_head(world):
    anonymous = client(world)
    default, plan = anonymous.get("/"), anonymous.get("/?shade=plan")
    assert default.status_code == plan.status_code == 200
    assert 'href="/?shade=plan">The shortfall a head with the plans</a>' in default.text
    assert 'aria-current="true">The shortfall a head with the plans</a>' in plan.text
    for page in (default, plan):  # the table has the plan column in both views
        assert "With the plans</th>" in page.text
        assert "with the published (accepted) plans (1 of 44 footprints" in page.text
    assert "footprints without one keep their shortfall if nothing changes" in plan.text
    gm, cornwall = table_row(plan, GM), table_row(plan, CORNWALL)
    # Greater Manchester's accepted plan: its own figure, not the do-nothing one.
    assert gm[2].split()[0] != gm[3] and "no plan" not in gm[3]
    # Cornwall's plan is a draft: the do-nothing figure stands, and says so.
    assert cornwall[3] == cornwall[2].split()[0] + " (no plan)"
    dn, with_plans = map_z(default), map_z(plan)
    assert dn[GM] != with_plans[GM] and abs(with_plans[GM] - float(gm[3].strip("£").replace(",", ""))) < 1
    assert {k: v for k, v in with_plans.items() if k != GM} == {k: v for k, v in dn.items() if k != GM}
    # A bad shade is a 422 page naming the parameter and its choices (no fall-back).
    bad = anonymous.get("/?shade=%3Cscript%3E")
    assert bad.status_code == 422 and "text/html" in bad.headers["content-type"]
    assert "shade: Input should be &#39;do_nothing&#39; or &#39;plan&#39;" in bad.text
    assert "<script>" not in bad.text.split("<main", 1)[1]


def test_both_map_views_share_one_colour_scale_and_say_which_view_they_are(world):
    """Issue 21, item 7: a colour means the same £ a head in either view; the heading names the
    view; a footprint with a plan is outlined, so it stands out even when pale."""
    anonymous = client(world)
    default, plan = anonymous.get("/"), anonymous.get("/?shade=plan")
    figs = [
        json.loads(re.search(r'id="england-map-data">(.*?)</script>', p.text, re.S).group(1))["data"][0]
        for p in (default, plan)
    ]
    values = list(map_z(default).values()) + [map_z(plan)[GM]]
    low, high = min(0.0, *values) // 50 * 50, -(-max(values) // 50) * 50
    assert [(f["zmin"], f["zmax"]) for f in figs] == [(low, high), (low, high)]
    assert h1(default) == "England's 44 footprints if nothing changes"
    assert h1(plan) == "England's 44 footprints with the plans"
    widths = dict(zip(figs[1]["locations"], figs[1]["marker"]["line"]["width"], strict=True))
    assert widths[GM] == 2.5 and {w for c, w in widths.items() if c != GM} == {0.8}
    assert set(figs[0]["marker"]["line"]["width"]) == {0.8}  # no outline when plans are not shown
    assert (
        f"(£{low:.0f} to £{high:.0f} a head)" in default.text
        and f"(£{low:.0f} to £{high:.0f} a head)" in plan.text
    )


def test_national_users_see_the_plan_view_of_every_current_submission(tmp_path):
    svc = Service(sqlite_url(tmp_path))
    made = demo.populate(svc)
    world = SimpleNamespace(svc=svc, made=made, xss=None)
    cw_lead = svc.check_password("cw_lead", made.logins["cw_lead"].password)
    svc.submit(cw_lead, made.plans["cornwall.yaml"], 1)  # sent, not yet accepted
    nia = svc.check_password("nia", made.logins["nia"].password)
    assert set(dashboard.england_plans(svc, nia)) == {GM, CORNWALL}
    assert set(dashboard.england_plans(svc, None)) == set(dashboard.england_plans(svc, cw_lead)) == {GM}
    national = signed_in(world, "nia").get("/?shade=plan")
    assert national.status_code == 200
    assert "with every footprint&#39;s current submission (the latest not returned) (2 of 44" in national.text
    assert "no plan" not in table_row(national, CORNWALL)[3]
    for name in (None, "cw_lead", "vic"):  # everyone else: the published plan only
        page = (signed_in(world, name) if name else client(world)).get("/?shade=plan")
        assert "with the published (accepted) plans (1 of 44" in page.text, name
        assert table_row(page, CORNWALL)[3].endswith("(no plan)"), name


def test_a_lead_sees_only_its_footprints_plans(world):
    cw = signed_in(world, "cw_lead")
    page = cw.get("/plans").text
    assert "Cornwall and the Isles of Scilly - Shaping our future" in page
    assert "Greater Manchester" not in page.split("<main")[1]
    gm_version = f"/plans/{world.made.plans['greater_manchester.yaml']}/versions/1"
    r = cw.get(gm_version)  # as if it did not exist (issue 20, item 6)
    gm_id = world.made.plans["greater_manchester.yaml"]
    assert r.status_code == 404 and f"plan {gm_id} not found" in r.text
    assert "E54000007" not in r.text.split("<main")[1]
    national = signed_in(world, "nia").get("/plans").text
    for name in ("Greater Manchester - Taking Charge", "Cornwall and the Isles", "North West London"):
        assert name in national


def test_a_viewer_sees_published_versions_only(world):
    vic = signed_in(world, "vic")
    page = vic.get("/plans").text
    assert "Greater Manchester - Taking Charge" in page
    assert "Cornwall" not in page.split("<main")[1] and "&lt;script&gt;" not in page
    assert vic.get(f"/plans/{world.made.plans['cornwall.yaml']}/versions/1").status_code == 404


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
    assert r.status_code == 404 and "<h1>Area not found</h1>" in r.text
    assert "There is no area called &#39;E99999999&#39; among the 44 footprints." in r.text
    assert "stpsim footprints" not in r.text  # no command-line hints on a page
    near = c.get("/footprints/Cornwal").text
    assert "Did you mean Cornwall and the Isles of Scilly" in near
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
    # Issue 20, item 6: one error body for every 4xx, and a 401 says how to authenticate.
    assert c.get("/api/no-such-thing").json() == {"detail": ["Not Found"]}
    r = c.delete("/api/plans")
    assert r.status_code == 405 and r.json() == {"detail": ["Method Not Allowed"]}
    r = c.get("/api/plans")
    assert r.status_code == 401 and r.headers["www-authenticate"] == 'Bearer realm="stpsim"'
    assert r.json() == {"detail": ["a bearer token is required (Authorization: Bearer TOKEN)"]}
    r = c.get("/api/plans/abc")
    assert r.status_code == 401 and r.headers["content-type"] == "application/json"
    paths = c.get("/openapi.json").json()["paths"]
    assert all(p.startswith("/api/") or p == "/healthz" for p in paths), sorted(paths)
    # /docs is served from the package under a policy allowing its own files only (issue 20).
    docs = c.get("/docs")
    assert docs.status_code == 200 and "script-src 'self';" in docs.headers["content-security-policy"]
    assert "cdn" not in docs.text.lower() and "<script>" not in docs.text
    assert c.get("/docs/files/swagger-ui-bundle.js").status_code == 200
    assert c.get("/redoc").status_code == 404
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


# ---- part 2: the plan editor, results, comparisons and submissions -----------------------------
#
# Tests that change the store (save, submit, accept, return) use ``busy``, a demo store of their
# own, so the counts the tests above read never move; each makes the versions it needs.


@pytest.fixture(scope="module")
def busy(tmp_path_factory):
    svc = Service(sqlite_url(tmp_path_factory.mktemp("web_busy")))
    made = demo.populate(svc)
    return SimpleNamespace(svc=svc, made=made, xss=None)


def gm_id(world) -> int:
    return world.made.plans["greater_manchester.yaml"]


def cw_id(world) -> int:
    return world.made.plans["cornwall.yaml"]


def form_of(page) -> dict[str, str]:
    """The editor's fields as a browser would send them (checked boxes, selected options)."""
    text = page.text
    out = {"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', text).group(1)}
    for name, value in re.findall(r'type="range"[^>]*name="([^"]+)" value="([^"]*)"', text, re.S):
        out[name] = value
    for tag in re.findall(r"<input[^>]*type=\"checkbox\"[^>]*>", text, re.S):
        if re.search(r"\bchecked\b", tag):
            out[re.search(r'name="([^"]+)"', tag).group(1)] = "yes"
    for name, options in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', text, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', options)
        out[name] = chosen.group(1) if chosen else re.search(r'<option value="([^"]*)"', options).group(1)
    for name, value in re.findall(r'name="(beds\.\d+\.change)" value="([^"]*)"', text, re.S):
        out[name] = value
    return out


def preview_call(c: TestClient, plan: int, fields: dict, token: str | None = "page", version: int = 1):
    headers = {}
    if token == "page":
        token = csrf(c, "/plans")
    if token is not None:
        headers["X-CSRF-Token"] = token
    body = {
        "plan_id": plan,
        "version": version,
        "fields": {k: v for k, v in fields.items() if k != "csrf_token"},
    }
    return c.post("/web/preview", json=body, headers=headers)


def test_only_the_footprints_leads_and_analysts_open_its_editor(world):
    gm = gm_id(world)
    path = f"/plans/{gm}/versions/1/edit"
    for name in ("gm_lead", "gm_analyst"):
        page = signed_in(world, name).get(path)
        assert page.status_code == 200, name
        assert h1(page) == "Edit Greater Manchester - Taking Charge"
    for name, why in (
        ("nia", "nia (national) may not edit plans of E54000007"),
        ("vic", "vic (viewer) may not edit plans of E54000007"),  # reads the published version
    ):
        r = signed_in(world, name).get(path)
        assert r.status_code == 403 and why in r.text, name
    r = signed_in(world, "cw_lead").get(path)  # cannot read it: as if it did not exist
    assert r.status_code == 404 and "not found" in r.text
    assert signed_in(world, "gm_lead").get(f"/plans/{cw_id(world)}/versions/1/edit").status_code == 404
    assert client(world).get(path).headers["location"] == f"/login?next={path}"
    assert signed_in(world, "gm_lead").get(f"/plans/{gm}/versions/99/edit").status_code == 404


def test_the_editor_shows_the_library_and_the_plans_choices(world):
    from stpsim.interventions import library

    page = signed_in(world, "gm_lead").get(f"/plans/{gm_id(world)}/versions/1/edit")
    text = page.text
    for spec in library().values():  # every care model, adopted or not
        assert f'<legend class="fieldset__legend">{spec.title}</legend>'.replace("'", "&#39;") in text
    fields = form_of(page)
    assert sum(k.startswith("on.") for k in fields) == 9  # GM adopts 9 of the 10
    assert "on.direct_access_physiotherapy" not in fields
    assert fields["coverage.specialist_gp_long_term_conditions"] == "60"
    assert fields["full.specialist_gp_long_term_conditions"] == "2019/20"  # {2017: .3, 2018: .6, 2019: 1}
    assert fields["full.specialist_gp_urgent_care"] == "2018/19"
    assert fields["full.outpatient_followup_redesign"] == "2019/20"  # no ramp: a third a year
    assert fields["contracts"] == "pbr" and (fields["efficiency.low"], fields["efficiency.high"]) == (
        "1",
        "3",
    )
    for preset in ("pbr", "block", "capitation", "risk_share", "blended", "aligned_payment", "declining"):
        assert f'<option value="{preset}"' in text
    assert 'type="range" min="0" max="100" step="1"' in text
    # The preview: key numbers and four charts, each with a caption and a table of its numbers.
    assert 'id="preview-numbers"' in text and 'role="status"' in text
    for key in ("admissions", "beds", "bridge", "orgs"):
        assert f'data-figure="chart-{key}-data"' in text and f'id="chart-{key}-caption"' in text
        assert f'id="chart-{key}-table"' in text
    assert 'src="/static/editor.js' in text and "<script>" not in text


def test_the_preview_answers_as_a_slider_moves(world):
    c = signed_in(world, "gm_lead")
    fields = form_of(c.get(f"/plans/{gm_id(world)}/versions/1/edit"))
    low = preview_call(c, gm_id(world), fields | {"coverage.hospital_at_home": "0"})
    high = preview_call(c, gm_id(world), fields | {"coverage.hospital_at_home": "100"})
    assert low.status_code == high.status_code == 200, low.text
    assert low.headers["cache-control"] == "no-store" and low.headers["content-type"] == "application/json"
    a, b = low.json(), high.json()
    assert set(a["charts"]) == {"admissions", "beds", "bridge", "orgs"} and a["draws"] == 1000
    plan_line = [t for t in a["charts"]["admissions"]["figure"]["data"] if t["name"] == "Plan: average"]
    plan_line_b = [t for t in b["charts"]["admissions"]["figure"]["data"] if t["name"] == "Plan: average"]
    assert plan_line[0]["y"][-1] > plan_line_b[0]["y"][-1]  # more hospital at home, fewer admissions
    assert a["numbers"]["rows"][0][1] != b["numbers"]["rows"][0][1]
    assert a["charts"]["bridge"]["table"]["rows"] != b["charts"]["bridge"]["table"]["rows"]
    # A care model switched on or off changes the plan too.
    off = preview_call(c, gm_id(world), {k: v for k, v in fields.items() if k != "on.hospital_at_home"})
    assert off.json()["numbers"] == a["numbers"]  # off is as good as reaching no one
    assert off.json()["numbers"] != b["numbers"]


def test_the_preview_needs_the_token_in_its_header_and_rights_to_the_footprint(world):
    gm = gm_id(world)
    c = signed_in(world, "gm_lead")
    fields = form_of(c.get(f"/plans/{gm}/versions/1/edit"))
    for token in (None, "", "wrong"):
        r = preview_call(c, gm, fields, token=token)
        assert r.status_code == 403, token
        assert "csrf_token" in " ".join(r.json()["lines"])
    # A token in the body is not the header's.
    body = {"plan_id": gm, "version": 1, "fields": {}, "csrf_token": fields["csrf_token"]}
    assert c.post("/web/preview", json=body).status_code == 403
    for name, why in (
        ("nia", "may not edit plans of"),
        ("vic", "may not edit plans of"),
    ):
        r = preview_call(signed_in(world, name), gm, fields)
        assert r.status_code == 403 and why in r.json()["lines"][0], name
    r = preview_call(signed_in(world, "cw_lead"), gm, fields)
    assert r.status_code == 404 and r.json()["lines"] == [f"plan {gm} not found"]
    anonymous = client(world)
    r = preview_call(anonymous, gm, fields, token=csrf(anonymous))
    assert r.status_code == 401 and r.json() == {"lines": ["sign in first; your session may have ended"]}
    assert preview_call(c, gm, fields, version=7).status_code == 404
    bad = c.post(
        "/web/preview",
        json={"plan_id": gm, "version": 1, "fields": {}, "extra": 1},
        headers={"X-CSRF-Token": fields["csrf_token"]},
    )
    assert bad.status_code == 422 and "extra" in bad.json()["lines"][0]
    assert c.get("/web/preview").status_code == 405


def test_the_preview_names_each_problem_by_its_field(world):
    c = signed_in(world, "gm_lead")
    fields = form_of(c.get(f"/plans/{gm_id(world)}/versions/1/edit"))
    r = preview_call(
        c,
        gm_id(world),
        fields | {"coverage.hospital_at_home": "150", "efficiency.low": "4", "efficiency.high": "2"},
    )
    assert r.status_code == 422
    found = {f["field"]: f for f in r.json()["fields"]}
    assert found["coverage.hospital_at_home"]["message"] == (
        "Hospital at home: coverage: 150% is not a percentage from 0 to 100"
    )
    assert found["coverage.hospital_at_home"]["id"] == "coverage-hospital_at_home"
    assert found["efficiency.low"]["message"] == (
        "Provider efficiency: the low end (4%) is above the high end (2%); give the lower figure first"
    )
    r = preview_call(c, gm_id(world), fields | {"coverage.geriatricians_front_door": "lots"})
    assert r.json()["fields"] == [
        {
            "field": "coverage.geriatricians_front_door",
            "id": "coverage-geriatricians_front_door",
            "message": "Geriatricians at the front door: coverage: 'lots' is not a number; give a percentage "
            "from 0 to 100",
        }
    ]


def test_saving_makes_a_new_version_and_never_overwrites(busy):
    gm = gm_id(busy)
    c = signed_in(busy, "gm_analyst")
    before = busy.svc.get_plan(busy.svc.check_password("nia", busy.made.logins["nia"].password), gm)
    page = c.get(f"/plans/{gm}/versions/1/edit")
    fields = form_of(page) | {
        "coverage.hospital_at_home": "90",
        "full.hospital_at_home": "2020/21",
        "on.direct_access_physiotherapy": "yes",
        "contracts": "capitation",
    }
    fields.pop("on.back_office_and_estates")
    r = c.post(f"/plans/{gm}/versions/1/edit", data=fields)
    assert r.status_code == 303, r.text
    n = len(before["versions"]) + 1
    assert r.headers["location"] == f"/plans/{gm}/versions/{n}"
    shown = c.get(r.headers["location"])
    assert f"Saved as version {n}. Version 1 is unchanged." in shown.text
    nia = busy.svc.check_password("nia", busy.made.logins["nia"].password)
    old, new = (busy.svc.get_version(nia, gm, k)["document"] for k in (1, n))
    adopted = {a["name"]: a for a in new["interventions"]}
    assert adopted["hospital_at_home"]["coverage"] == 0.9
    assert adopted["hospital_at_home"]["ramp"] == {"2017": 0.25, "2018": 0.5, "2019": 0.75, "2020": 1.0}
    assert adopted["direct_access_physiotherapy"]["coverage"] == 0.5
    assert adopted["direct_access_physiotherapy"]["ramp"] is None  # full in 2019/20: the default
    assert "back_office_and_estates" not in adopted
    assert new["finance"]["contracts"] == "capitation" and new["finance"]["provider_efficiency"] is None
    untouched = {a["name"]: a for a in old["interventions"]}
    for name in (
        "specialist_gp_long_term_conditions",
        "geriatricians_front_door",
        "outpatient_followup_redesign",
    ):
        assert adopted[name] == untouched[name]  # ramps and coverage kept as written
    assert new["growth"] == old["growth"] and new["name"] == old["name"]
    assert busy.svc.get_version(nia, gm, 1)["document"] == old


def test_bad_input_shows_the_services_lines_next_to_the_field_and_saves_nothing(busy):
    gm = gm_id(busy)
    c = signed_in(busy, "gm_lead")
    nia = busy.svc.check_password("nia", busy.made.logins["nia"].password)
    count = len(busy.svc.get_plan(nia, gm)["versions"])
    fields = form_of(c.get(f"/plans/{gm}/versions/1/edit"))
    r = c.post(
        f"/plans/{gm}/versions/1/edit",
        data=fields | {"coverage.hospital_at_home": "150", "efficiency.low": "20", "contracts": "barter"},
    )
    assert r.status_code == 422
    assert len(busy.svc.get_plan(nia, gm)["versions"]) == count
    line = "Hospital at home: coverage: 150% is not a percentage from 0 to 100"
    assert (
        f'<p class="error-message" id="coverage-hospital_at_home-error"><span class="visually-hidden">Error:'
        f"</span> {line}</p>" in r.text
    )
    assert f'<li><a href="#coverage-hospital_at_home">{line}</a></li>' in r.text
    assert re.search(
        r'id="coverage-hospital_at_home"[^>]*aria-describedby="coverage-hospital_at_home-error" '
        r'aria-invalid="true"',
        r.text,
    )
    assert 'id="contracts-error"' in r.text and (
        "Contracts: &#39;barter&#39; is not one of the ways of paying offered; choose one from the list"
        in r.text
    )
    assert 'id="efficiency-low-error"' in r.text and (
        "Provider efficiency: the low end (20%) is above the high end (3%)" in r.text
    )
    assert "<title>Error: Edit" in r.text
    # What was typed comes back, so it can be put right.
    assert (
        'name="efficiency.low" value="20"' in r.text
        and 'id="efficiency-low-value" for="efficiency-low">20%' in r.text
    )
    assert 'value="barter"' not in r.text  # a select shows its own options only


def test_the_editors_forms_need_the_token(busy):
    gm = gm_id(busy)
    c = signed_in(busy, "gm_lead")
    fields = form_of(c.get(f"/plans/{gm}/versions/1/edit"))
    for token in (None, "wrong"):
        data = {k: v for k, v in fields.items() if k != "csrf_token"}
        if token:
            data["csrf_token"] = token
        assert c.post(f"/plans/{gm}/versions/1/edit", data=data).status_code == 403
        assert c.post(f"/plans/{gm}/versions/1/submit", data=data).status_code == 403
    nia = signed_in(busy, "nia")
    assert nia.post("/submissions/1/return", data={"comment": "no token"}).status_code == 403
    assert nia.post("/submissions/1/accept", data={}).status_code == 403


def test_results_show_every_chart_with_its_table_and_are_stored(world):
    gm = gm_id(world)
    c = signed_in(world, "gm_lead")
    page = c.get(f"/plans/{gm}/versions/1/results")
    assert page.status_code == 200, page.text
    assert h1(page) == "Greater Manchester - Taking Charge: results"
    for key in ("services", "beds", "bridge", "drivers", "orgs", "incentives"):
        assert f'data-figure="chart-{key}-data"' in page.text, key
        assert f'id="chart-{key}-caption"' in page.text and f'id="chart-{key}-table"' in page.text
    assert "What it costs and saves</h2>" in page.text and "Who gains and who loses</h2>" in page.text
    # The finance lead's tables: named organisations, investment and payback, workforce.
    assert "For the finance lead</h2>" in page.text
    for text in (
        "Manchester University NHS Foundation Trust",
        "System control total",
        "Pays back",
        "Staff group",
    ):
        assert text in page.text, text
    assert "acute:" not in page.text.split('id="finance-lead"')[1].split("</section>")[0]
    assert f'href="/plans/{gm}/versions/1/report.html"' in page.text
    assert f'href="/plans/{gm}/versions/1/report.xlsx"' in page.text
    again = c.get(f"/plans/{gm}/versions/1/results")
    assert "These results were stored when the same plan was first run" in again.text
    # The published version's results for a viewer; another footprint's lead cannot.
    assert signed_in(world, "vic").get(f"/plans/{gm}/versions/1/results").status_code == 200
    assert signed_in(world, "cw_lead").get(f"/plans/{gm}/versions/1/results").status_code == 404
    assert client(world).get(f"/plans/{gm}/versions/1/results").status_code == 303


def test_the_report_and_the_workbook_download(world):
    gm = gm_id(world)
    c = signed_in(world, "nia")
    html = c.get(f"/plans/{gm}/versions/1/report.html")
    assert html.status_code == 200 and html.headers["content-type"] == "text/html; charset=utf-8"
    assert html.headers["content-disposition"] == (
        f'attachment; filename="stpsim-plan-{gm}-version-1-board.html"'
    )
    assert html.text.startswith("<!doctype html>") and "Greater Manchester" in html.text
    xlsx = c.get(f"/plans/{gm}/versions/1/report.xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    pdf = c.get(f"/plans/{gm}/versions/1/report.pdf")
    assert pdf.status_code == 422 and "fmt" in pdf.text
    assert signed_in(world, "cw_lead").get(f"/plans/{gm}/versions/1/report.xlsx").status_code == 404


def test_compare_two_versions_of_one_footprint_only(world):
    gm, cw = gm_id(world), cw_id(world)
    nia = signed_in(world, "nia")
    chooser = nia.get("/compare")
    assert chooser.status_code == 200 and h1(chooser) == "Compare two versions"
    assert f'<option value="{cw}:1"' in chooser.text and 'id="compare-table"' not in chooser.text
    both = nia.get(f"/compare?a={gm}:1&b={world.xss}:1")
    assert both.status_code == 200, both.text
    assert 'id="compare-table"' in both.text
    assert "Shortfall with the option" in both.text and "The two options compared" not in both.text
    for key in ("compare-admissions", "compare-beds", "compare-bridge-a", "compare-bridge-b", "compare-orgs"):
        assert f'data-figure="chart-{key}-data"' in both.text and f'id="chart-{key}-table"' in both.text
    apart = nia.get(f"/compare?a={gm}:1&b={cw}:1")
    assert apart.status_code == 422
    assert "These two cannot be compared" in apart.text
    assert "the two versions cover different footprints (E54000007 and E54000036)" in apart.text
    bad = nia.get(f"/compare?a={gm}:1&b=latest")
    assert bad.status_code == 422 and "b: &#39;latest&#39; is not a plan and version" in bad.text
    one = nia.get(f"/compare?a={cw}:1")  # from a version's page: the other is chosen in the form
    assert one.status_code == 200 and f'<option value="{cw}:1" selected>' in one.text
    assert signed_in(world, "cw_lead").get(f"/compare?a={gm}:1&b={gm}:1").status_code == 404
    assert client(world).get("/compare").status_code == 303


def test_a_lead_submits_the_centre_returns_with_a_comment_and_the_lead_reads_it(busy):
    gm = gm_id(busy)
    lead = signed_in(busy, "gm_lead")
    edited = form_of(lead.get(f"/plans/{gm}/versions/1/edit")) | {
        "efficiency.low": "0.5",
        "efficiency.high": "1.5",
    }
    saved = lead.post(f"/plans/{gm}/versions/1/edit", data=edited)
    version_path = saved.headers["location"]
    n = int(version_path.rsplit("/", 1)[1])
    page = lead.get(version_path)
    assert 'id="submit-version"' in page.text
    assert 'id="submit-version"' not in signed_in(busy, "gm_analyst").get(version_path).text  # cannot submit
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = lead.post(f"{version_path}/submit", data={"csrf_token": token})
    assert r.status_code == 303 and r.headers["location"] == version_path
    page = lead.get(version_path)
    assert f"Version {n} was sent to NHS England for review." in page.text
    assert 'id="submit-version"' not in page.text and "tag--submitted" in page.text
    assert lead.post(f"{version_path}/submit", data={"csrf_token": token}).status_code == 409

    nia = signed_in(busy, "nia")
    board = nia.get("/submissions")
    assert board.status_code == 200 and h1(board) == "Submissions from the 44 footprints"
    assert board.text.count('<tr id="row-') == 44
    sid = int(re.search(r'href="/submissions/(\d+)/return"', board.text).group(1))
    assert "1 waiting for a decision" in board.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', board.text).group(1)
    confirm = nia.get(f"/submissions/{sid}/return")
    assert confirm.status_code == 200 and h1(confirm) == "Return the plan to Greater Manchester?"
    # A return posted without its confirmation page's field shows that page and decides nothing.
    unconfirmed = nia.post(f"/submissions/{sid}/return", data={"csrf_token": token, "comment": "why"})
    assert unconfirmed.status_code == 200 and h1(unconfirmed) == "Return the plan to Greater Manchester?"
    assert 'id="confirm-return"' in unconfirmed.text
    empty = nia.post(
        f"/submissions/{sid}/return", data={"csrf_token": token, "comment": "  ", "confirmed": "yes"}
    )
    assert empty.status_code == 422
    message = "Returning a submission needs a comment saying why"
    hidden = '<span class="visually-hidden">Error:</span>'
    assert f'<p class="error-message" id="decision-text-error">{hidden} {message}</p>' in empty.text
    assert f'<li><a href="#decision-text">{message}</a></li>' in empty.text
    comment = f"Please show the bed numbers for winter. {XSS}"
    done = nia.post(
        f"/submissions/{sid}/return", data={"csrf_token": token, "comment": comment, "confirmed": "yes"}
    )
    assert done.status_code == 303 and done.headers["location"] == "/submissions"
    assert (
        "Returned the submission from Greater Manchester with your comment." in nia.get("/submissions").text
    )

    page = lead.get(version_path)
    assert "NHS England returned this version" in page.text
    assert "Please show the bed numbers for winter. &lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert XSS not in page.text
    assert 'id="submit-version"' not in page.text  # a returned version is answered by a new one
    # The public still sees the accepted version 1 only.
    public = client(busy).get("/public").text.split("<main")[1]
    assert public.count("<article") == 1
    reader = busy.svc.check_password("nia", busy.made.logins["nia"].password)
    told = {k: dashboard.story(busy.svc, reader, gm, k, "public") for k in (1, n)}
    only_v1 = [p for s in told[1].sections for p in s.paragraphs if p not in str(told[n])]
    assert only_v1 and all(html.escape(p, quote=True) in public for p in only_v1)


def test_the_centre_accepts_and_the_plan_is_published(busy):
    cw = cw_id(busy)
    lead = signed_in(busy, "cw_lead")
    page = lead.get(f"/plans/{cw}/versions/1")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    assert lead.post(f"/plans/{cw}/versions/1/submit", data={"csrf_token": token}).status_code == 303
    sid = next(
        s["id"]
        for s in busy.svc.list_submissions(
            busy.svc.check_password("nia", busy.made.logins["nia"].password), "E54000036"
        )
        if s["superseded_by"] is None
    )
    # Only national reviewers see the board and decide.
    assert lead.get("/submissions").status_code == 403
    assert "may not review submissions" in lead.get("/submissions").text
    assert lead.post(f"/submissions/{sid}/accept", data={"csrf_token": token}).status_code == 403
    nia = signed_in(busy, "nia")
    token = csrf(nia, "/submissions")
    # Accept asks first: the button on the board opens a page with the numbers and what follows.
    confirm = nia.post(f"/submissions/{sid}/accept", data={"csrf_token": token})
    assert (
        confirm.status_code == 200 and h1(confirm) == "Accept the plan from Cornwall and the Isles of Scilly?"
    )
    assert "Accepting publishes this version" in confirm.text
    assert 'href="/submissions" id="cancel-decision"' in confirm.text
    assert (
        busy.svc.list_submissions(busy.svc.check_password("nia", busy.made.logins["nia"].password))[-1][
            "state"
        ]
        == "submitted"
    )
    r = nia.post(f"/submissions/{sid}/accept", data={"csrf_token": token, "confirmed": "yes"})
    assert r.status_code == 303
    assert "Accepted the submission from Cornwall and the Isles of Scilly. It is now published." in (
        nia.get("/submissions").text
    )
    again = {"csrf_token": token, "confirmed": "yes"}
    assert nia.post(f"/submissions/{sid}/accept", data=again).status_code == 409
    assert nia.get(f"/submissions/{sid}/accept").status_code == 409
    public = client(busy).get("/public").text
    assert "Cornwall and the Isles of Scilly - Shaping our future" in public
    assert 'href="/submissions"' in nia.get("/").text and 'href="/submissions"' not in lead.get("/").text


def test_new_pages_escape_what_users_typed(world):
    c = signed_in(world, "gm_lead")
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    for path in (
        f"/plans/{world.xss}/versions/1/edit",
        f"/plans/{world.xss}/versions/1/results",
        f"/compare?a={world.xss}:1&b={gm_id(world)}:1",
    ):
        page = c.get(path)
        assert page.status_code == 200, path
        assert XSS not in page.text and escaped in page.text, path
        assert "<script>" not in page.text  # figures are JSON in script elements, never code
    # A figure's JSON cannot close its element.
    from stpsim.web.figures import figure_json

    assert "</script>" not in figure_json({"layout": {"title": {"text": "</script><b>"}}})


def test_new_pages_carry_the_security_headers(world):
    gm = gm_id(world)
    c = signed_in(world, "gm_lead")
    for path in (
        f"/plans/{gm}/versions/1/edit",
        f"/plans/{gm}/versions/1/results",
        f"/compare?a={gm}:1&b={gm}:1",
        "/submissions",  # 403 for a lead
        "/static/editor.js",
    ):
        r = c.get(path)
        csp = r.headers["content-security-policy"]
        assert "script-src 'self';" in csp and "'unsafe-inline'" not in csp and "img-src 'self';" in csp, path
        assert r.headers["x-content-type-options"] == "nosniff", path
        if "text/html" in r.headers["content-type"]:  # no inline script or style for the policy to allow
            assert "<script>" not in r.text and not re.search(r"\sstyle=", r.text), path
    r = preview_call(c, gm, form_of(c.get(f"/plans/{gm}/versions/1/edit")))
    assert "default-src 'self'" in r.headers["content-security-policy"]


def test_a_lead_attests_the_four_tests_on_the_version_page(busy):
    gm = gm_id(busy)
    path = f"/plans/{gm}/versions/1"
    lead = signed_in(busy, "gm_lead")
    page = lead.get(path)
    assert page.status_code == 200 and 'id="four-tests"' in page.text and 'id="attest-submit"' in page.text
    assert 'id="attest-submit"' not in signed_in(busy, "gm_analyst").get(path).text  # leads only
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    # Nothing chosen: the page comes back with the problem, naming the field and what is allowed.
    bad = lead.post(f"{path}/attest", data={"csrf_token": token, "note": "kept"})
    assert (
        bad.status_code == 422
        and "test" in bad.text
        and "engagement" in bad.text
        and ">kept</textarea>" in bad.text
    )
    r = lead.post(
        f"{path}/attest", data={"csrf_token": token, "test": "engagement", "note": "Twelve public events"}
    )
    assert r.status_code == 303 and r.headers["location"] == f"{path}#four-tests"
    page = lead.get(path)
    assert "Recorded: Strong public and patient engagement, for version 1." in page.text
    row = re.search(r"Strong public and patient engagement</th>(.*?)</tr>", page.text, re.S).group(1)
    assert "gm_lead" in row and "Twelve public events" in row
    assert "not recorded" in re.search(r"patient choice</th>(.*?)</tr>", page.text, re.S).group(1)


# ---- web POSTs by every role (issue 24, item 4) -----------------------------------------------

WEB_POST_ROLES = ("nia", "gm_lead", "gm_analyst", "cw_lead", "vic")


def _counts(svc) -> dict[str, int]:
    from sqlalchemy import func, select

    from stpsim.store import models as m

    with svc.Session() as s:
        return {
            t.__tablename__: s.scalar(select(func.count()).select_from(t))
            for t in (m.PlanVersion, m.Attestation, m.Submission)
        } | {
            "decided": s.scalar(select(func.count()).where(m.Submission.state != "submitted")),
            "published": s.scalar(select(func.count()).where(m.Submission.published.is_(True))),
        }


@pytest.mark.parametrize("who", WEB_POST_ROLES)
def test_every_web_post_by_every_role_is_allowed_or_refused_and_changes_nothing_when_refused(tmp_path, who):
    """Each page that writes (save a version, attest, submit, return, withdraw), posted by each
    role with a valid form token: the roles allowed get a redirect and a change in the store; the
    others get 403 (or 404 for what they may not read) and the store is as it was."""
    svc = Service(sqlite_url(tmp_path))
    made = demo.populate(svc)
    world = SimpleNamespace(svc=svc, made=made)
    gm = made.plans["greater_manchester.yaml"]
    lead = svc.check_password("gm_lead", made.logins["gm_lead"].password)
    svc.add_version(lead, gm, gm_plan("to be submitted"))
    accepted = next(s["id"] for s in svc.list_submissions(lead) if s["state"] == "accepted")
    pending = svc.submit(lead, gm, 2)["id"]  # a submission for the reviewer to decide
    c = signed_in(world, who)
    token = csrf(c, "/plans")
    editor = form_of(c.get(f"/plans/{gm}/versions/1/edit")) if who in ("gm_lead", "gm_analyst") else {}
    posts = [
        (
            "save",
            f"/plans/{gm}/versions/1/edit",
            editor | {"efficiency.low": "0.5", "efficiency.high": "1.5"},  # a change, so a version
            {"gm_lead", "gm_analyst"},
        ),
        (
            "attest",
            f"/plans/{gm}/versions/1/attest",
            {"test": "engagement", "note": "met the public"},
            {"gm_lead"},
        ),
        ("submit", f"/plans/{gm}/versions/1/submit", {}, {"gm_lead"}),
        (
            "return",
            f"/submissions/{pending}/return",
            {"comment": "please revise", "confirmed": "yes"},
            {"nia"},
        ),
        (
            "withdraw",
            f"/submissions/{accepted}/withdraw",
            {"comment": "figures wrong", "confirmed": "yes"},
            {"nia"},
        ),
    ]
    for what, path, data, allowed in posts:
        before = _counts(svc)
        r = c.post(path, data=data | {"csrf_token": token})
        if who in allowed:
            assert r.status_code == 303, (who, what, r.status_code, r.text[:300])
            assert _counts(svc) != before, (who, what)
        else:
            assert r.status_code in (403, 404), (who, what, r.status_code)
            assert _counts(svc) == before, (who, what)


def test_saving_a_form_that_changes_nothing_saves_no_version(busy):
    """Issue 21, item 9: an unchanged form is not a new version (it made duplicates)."""
    gm = gm_id(busy)
    lead = signed_in(busy, "gm_lead")
    lead_actor = busy.svc.check_password("gm_lead", busy.made.logins["gm_lead"].password)
    before = len(busy.svc.get_plan(lead_actor, gm)["versions"])
    r = lead.post(f"/plans/{gm}/versions/1/edit", data=form_of(lead.get(f"/plans/{gm}/versions/1/edit")))
    assert r.status_code == 303 and r.headers["location"] == f"/plans/{gm}/versions/1"
    assert len(busy.svc.get_plan(lead_actor, gm)["versions"]) == before
    assert (
        "Nothing changed, so no new version was saved. Version 1 stands."
        in lead.get(r.headers["location"]).text
    )


def test_the_editor_says_what_changed_from_the_saved_version_and_puts_efficiency_first(world):
    """Issue 21, item 9: the preview lists each choice changed against the saved version, in
    words; provider efficiency, the largest lever, is a pair of sliders before the care models."""
    c = signed_in(world, "gm_lead")
    page = c.get(f"/plans/{gm_id(world)}/versions/1/edit")
    fields = form_of(page)
    assert page.text.index('id="efficiency-low"') < page.text.index('id="care-models"')
    assert re.search(
        r'<input class="range__input" type="range" min="-5" max="10" step="0.1" id="efficiency-low"',
        page.text,
    )
    assert '<caption class="table__caption">Nothing changed yet</caption>' in page.text
    same = preview_call(c, gm_id(world), fields).json()
    assert same["changes"] == {"caption": "Nothing changed yet", "head": ["What", "Saved", "Now"], "rows": []}
    moved = preview_call(
        c, gm_id(world), fields | {"coverage.hospital_at_home": "100", "efficiency.low": "2"}
    ).json()
    assert moved["changes"]["caption"] == "Changed from version 1: 2 choices"
    rows = {r[0]: r[1:] for r in moved["changes"]["rows"]}
    assert rows["Care model: Hospital at home"] == [
        "30% coverage: 50% of it by 2018/19, all by 2019/20",
        "100% coverage: 50% of it by 2018/19, all by 2019/20",
    ]
    assert rows["Provider efficiency (cost improvement a year)"] == ["not set (the default)", "2% to 3%"]


def test_each_care_model_in_the_editor_shows_its_evidence_and_its_saving_alone(world):
    """Issue 21, item 9: beside each care model, its evidence grade in words and what it saves on
    its own in the saved version's run (the incentive matrix's gains summed over organisations)."""
    from stpsim.analysis.service_change import evidence_grade
    from stpsim.service.catalogue import library

    c = signed_in(world, "gm_lead")
    gm = gm_id(world)
    page = html.unescape(c.get(f"/plans/{gm}/versions/1/edit").text)
    nia = world.svc.check_password("nia", world.made.logins["nia"].password)
    record = world.svc.run_record(nia, gm, 1)
    savings = record.care_model_savings()
    doc = record.document
    by_model: dict[str, float] = {}
    for row in doc["incentives"]:
        by_model[row["intervention"]] = by_model.get(row["intervention"], 0.0) + row["gain"]["mean"]
    assert set(savings) == set(by_model)
    for name, mean in by_model.items():  # the document's gains are rounded to the penny
        assert savings[name]["mean"] == pytest.approx(mean, abs=0.01 * len(doc["finance"]["orgs"]))
    last = doc["years"][-1]
    for name, spec in library().items():
        facts = re.search(rf'id="{name}-facts">(.*?)</p>', page, re.S).group(1)
        words = dashboard.EVIDENCE_WORDS.get(evidence_grade(spec)[0], "no grade given")
        assert f'<span class="tag tag--evidence">{words}</span>' in facts
        if name in savings and savings[name]["mean"] >= 0:
            assert f"On its own it saves {dashboard.interval(savings[name])} a year by {last}" in facts
        elif name not in savings:
            assert "Not in the saved version" in facts
    assert "no evidence of effect" in page  # the specialist GP urgent care contract's grade


def test_bed_changes_are_edited_in_the_editor_and_the_preview_says_so(tmp_path):
    import yaml

    from stpsim.service.catalogue import EXAMPLES_DIR

    svc = Service(sqlite_url(tmp_path))
    made = demo.populate(svc)
    lead = svc.check_password("gm_lead", made.logins["gm_lead"].password)
    beds = yaml.safe_load((EXAMPLES_DIR / "greater_manchester_beds.yaml").read_text())
    pid = svc.create_plan(lead, beds)["id"]
    c = signed_in(SimpleNamespace(svc=svc, made=made), "gm_lead")
    page = c.get(f"/plans/{pid}/versions/1/edit")
    assert page.status_code == 200
    assert '<option value="RW6" selected>Pennine Acute Hospitals NHS Trust</option>' in page.text
    assert 'name="beds.0.change" value="-120"' in page.text and 'name="beds.2.change" value=""' in page.text
    fields = form_of(page)
    moved = preview_call(c, pid, fields | {"beds.0.change": "-100"}).json()
    rows = {r[0]: r[1:] for r in moved["changes"]["rows"]}
    assert rows == {
        "Beds at Pennine Acute Hospitals NHS Trust from 2019/20": [
            "closes 120 beds, counting on 0.3 days shorter stays",
            "closes 100 beds, counting on 0.3 days shorter stays",
        ]
    }
    bad = c.post(f"/plans/{pid}/versions/1/edit", data=fields | {"beds.1.change": "lots"})
    assert bad.status_code == 422
    assert "Beds, row 2: &#39;lots&#39; is not a whole number of beds" in bad.text
    assert 'id="beds-1-change-error"' in bad.text
    saved = c.post(
        f"/plans/{pid}/versions/1/edit", data=fields | {"beds.2.trust": "RM3", "beds.2.change": "-10"}
    )
    assert saved.status_code == 303 and saved.headers["location"] == f"/plans/{pid}/versions/2"
    doc = svc.get_version(lead, pid, 2)["document"]
    assert [(b["trust"], b["change"]) for b in doc["service_changes"]["beds"]] == [
        ("RW6", -120),
        ("RMC", -40),
        ("RM3", -10),
    ]


def test_serve_with_two_worker_processes_answers_a_signed_in_user(tmp_path):
    """`stpsim serve --demo --workers 2` as a user starts it: two server processes over one
    store, and a signed-in user's pages answer on new connections (whichever process takes
    them; that they share one session key is tested below)."""
    import socket
    import subprocess
    import sys
    import time
    from pathlib import Path

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    exe = str(Path(sys.executable).with_name("stpsim"))
    proc = subprocess.Popen(
        [exe, "serve", "--demo", "--workers", "2", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=tmp_path,
    )
    try:
        password = None
        for line in proc.stdout:
            m = re.match(r"\s+gm_lead\s+password (\S+)", line)
            password = m[1] if m else password
            if line.startswith("Open http"):
                break
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        c = httpx.Client(base_url=base, follow_redirects=False, timeout=30)
        token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
        r = c.post("/login", data={"csrf_token": token, "user_name": "gm_lead", "password": password})
        assert r.status_code == 303
        # New connections land on either process; each must read the session.
        answers = {httpx.get(base + "/plans", cookies=c.cookies).status_code for _ in range(12)}
        assert answers == {200}
    finally:
        proc.terminate()
        proc.wait(30)


def test_worker_processes_build_the_app_from_the_store_url_and_share_one_session_key(monkeypatch, tmp_path):
    import os

    import uvicorn

    from stpsim import cli_server
    from stpsim.api.app import app_from_environment

    seen = {}
    monkeypatch.delenv("STPSIM_SECRET_KEY", raising=False)
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(app=app, **kw))
    url = sqlite_url(tmp_path)
    try:
        cli_server._run(url, "127.0.0.1", 8123, 3)
        assert (
            seen["app"] == "stpsim.api.app:app_from_environment" and seen["factory"] and seen["workers"] == 3
        )
        assert os.environ["STPSIM_SERVE_URL"] == url
        assert len(os.environ["STPSIM_SECRET_KEY"]) >= 48  # set once, before the processes start: shared
        assert TestClient(app_from_environment()).get("/healthz").status_code == 200
    finally:  # the server's settings must not reach the other tests
        os.environ.pop("STPSIM_SERVE_URL", None)
        os.environ.pop("STPSIM_SECRET_KEY", None)


def test_serve_works_out_the_pages_figures_while_the_server_starts(monkeypatch, tmp_path, caplog):
    """`stpsim serve` (one process) starts what the pages need that no store changes (England's
    do-nothing roll-up, the plotly.js bundle) in the background before the server answers, so
    the first visitor does not wait for it; a failure there is logged, not raised, and the page
    reports it as it would have."""
    import uvicorn

    from stpsim import cli_server
    from stpsim.web import figures

    started, served = [], []
    monkeypatch.setattr(figures, "england", lambda: started.append("england"))
    monkeypatch.setattr(figures, "plotly_js", lambda: started.append("plotly.js"))
    monkeypatch.setattr(figures, "plotly_inline_styles", lambda: started.append("styles"))
    warm = cli_server._warm_pages
    threads = []
    monkeypatch.setattr(cli_server, "_warm_pages", lambda: threads.append(warm()))
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: served.append(kw["port"]))
    cli_server.serve(port=8124, database=sqlite_url(tmp_path), workers=1)
    threads[0].join(10)
    assert served == [8124] and started == ["england", "plotly.js", "styles"]
    # Several processes each build their own app: none is warmed here (the server's settings
    # for them are put back after the test).
    monkeypatch.delenv("STPSIM_SERVE_URL", raising=False)
    monkeypatch.delenv("STPSIM_SECRET_KEY", raising=False)
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: served.append(kw["workers"]))
    cli_server.serve(port=8126, database=sqlite_url(tmp_path), workers=2)
    assert len(threads) == 1 and served[-1] == 2

    def broken():
        raise RuntimeError("no tables")

    monkeypatch.setattr(figures, "england", broken)
    with caplog.at_level("WARNING", logger="stpsim.serve"):
        warm().join(10)
    assert [r.getMessage() for r in caplog.records] == ["could not work out the pages' figures in advance"]
    assert "no tables" in caplog.text  # with its traceback, for whoever runs the server


def test_a_page_names_the_plotly_version_without_reading_the_bundle():
    """Pages ask for /static/plotly.min.js?v=VERSION: the version is plotly's own, and the same
    one the bundle is served as."""
    import plotly

    from stpsim.web import figures

    assert figures.plotly_version() == plotly.__version__ == figures.plotly_js()[2]


def test_the_demonstration_works_out_its_published_plans_run_while_it_starts(monkeypatch):
    """`serve --demo` stores the published plan's run in the background before the first visitor
    asks for it (the England page's plan view and the public page read it)."""
    from sqlalchemy import func, select

    from stpsim import cli_server
    from stpsim.store import models as m
    from stpsim.store.database import sessions

    monkeypatch.setattr(cli_server, "_warm_pages", lambda: None)
    background, stored = [], []
    in_background = cli_server._in_background
    monkeypatch.setattr(
        cli_server, "_in_background", lambda what, work: background.append(in_background(what, work))
    )

    def serving(url, host, port, workers, **options):
        for thread in background:
            thread.join(120)
        with sessions(url)() as s:
            stored.append(s.scalar(select(func.count()).select_from(m.Run).where(m.Run.result.is_not(None))))

    monkeypatch.setattr(cli_server, "_run", serving)
    cli_server._serve_demo("127.0.0.1", 8127, None, 1)
    assert len(background) == 1 and stored == [1]
