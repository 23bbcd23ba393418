"""The dashboard in headless Chromium, served by uvicorn on a free loopback port over the demo
store: as each role, every page opens with no console error (CSP violations are console errors),
asks nothing of any host but 127.0.0.1, has no axe-core violation and draws its charts; the login
form is reachable by keyboard; a lead cannot open another footprint's plan. A screenshot of every
page goes to tests/artefacts/ (git-ignored).

Skipped when chromium or chromedriver is missing, except on CI, where they must be there.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

from stpsim.api.app import create_app
from stpsim.service import Service, demo
from stpsim.service.demo import CORNWALL, GM

from .conftest_store import sqlite_url

ARTEFACTS = Path(__file__).parent / "artefacts"
CHARTS_DRAWN = """return Array.from(document.querySelectorAll('[data-figure]')).map(
    d => d.querySelectorAll('svg.main-svg .trace path, svg.main-svg .choroplethlocation').length)"""


def _chromium() -> tuple[str, str]:
    chrome = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not (chrome and driver):
        if os.environ.get("CI"):
            pytest.fail("CI must install Debian's chromium and chromium-driver (see .ci/run)")
        pytest.skip("chromium and chromedriver are not installed here")
    return chrome, driver


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


GM_CODE = "E54000007"  # Greater Manchester


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The app over a demo store, served by uvicorn in a thread: (base URL, Demo, Service)."""
    import uvicorn

    svc = Service(sqlite_url(tmp_path_factory.mktemp("web_browser")))
    made = demo.populate(svc)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(svc), host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", made, svc
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    chrome, driver_path = _chromium()
    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must not look for drivers online
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service as DriverService

    opts = webdriver.ChromeOptions()
    opts.binary_location = chrome
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        f"--user-data-dir={tmp_path_factory.mktemp('profile')}",
        "--window-size=1200,900",
    ):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    drv = webdriver.Chrome(service=DriverService(driver_path), options=opts)
    drv.set_script_timeout(30)
    ARTEFACTS.mkdir(exist_ok=True)
    try:
        yield drv
    finally:
        drv.quit()


def _requested(drv) -> list[str]:
    """Every URL the browser asked for since the last call (Chrome's network log)."""
    urls = []
    for entry in drv.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg["method"] == "Network.requestWillBeSent":
            urls.append(msg["params"]["request"]["url"])
    return urls


def _status(drv) -> int:
    return drv.execute_script("return performance.getEntriesByType('navigation')[0].responseStatus")


PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True}


def _phone(drv) -> None:
    """Lay pages out as on a phone 390 pixels wide (Chrome's device emulation)."""
    drv.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)


def _screenshot(drv, name: str, phone: bool = False) -> None:
    """The whole page from its top, not just the window (Chrome's DevTools protocol), laid out
    as on a screen as tall as the page: a part that stays in view as the page scrolls (the
    editor's preview) then sits where it would, rather than where the window last left it."""
    import base64

    drv.execute_script("window.scrollTo(0, 0)")
    size = drv.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    width = drv.execute_script("return document.documentElement.clientWidth")
    height = min(int(size["height"]), 8000)
    drv.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": phone},
    )
    try:
        size = drv.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
        clip = {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 8000), "scale": 1}
        shot = drv.execute_cdp_cmd(
            "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip}
        )
    finally:
        if phone:
            _phone(drv)
        else:
            drv.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    (ARTEFACTS / f"{name}.png").write_bytes(base64.b64decode(shot["data"]))


def _axe_violations(drv) -> list[dict]:
    from axe_selenium_python import Axe

    axe = Axe(drv)
    axe.inject()
    return axe.run()["violations"]


def open_page(drv, base: str, path: str, name: str, status: int = 200, expected_console=()) -> None:
    """Open ``path`` and check it: status, charts drawn, console, network, axe; then a screenshot."""
    from selenium.webdriver.support.ui import WebDriverWait

    drv.get_log("browser"), _requested(drv)  # drop what earlier pages left
    drv.get(base + path)
    WebDriverWait(drv, 30).until(lambda d: d.execute_script("return document.readyState") == "complete")
    assert _status(drv) == status, f"{path}: status {_status(drv)}"
    if drv.execute_script("return document.querySelectorAll('[data-figure]').length"):
        WebDriverWait(drv, 30).until(
            lambda d: (lambda c: c and all(n > 0 for n in c))(d.execute_script(CHARTS_DRAWN))
        )
    errors = [
        e
        for e in drv.get_log("browser")
        if e["level"] == "SEVERE" and not any(x in e["message"] for x in expected_console)
    ]
    assert not errors, f"{path}: console errors {errors}"
    resources = drv.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
        ".concat(performance.getEntriesByType('navigation').map(e => e.name))"
    )
    assert all(u.startswith(base + "/") for u in resources), f"{path}: loaded {resources}"
    # The network log also sees what was asked for and blocked (the browser's own chrome:// pages
    # are not the page's).
    network = ("http:", "https:", "ws:", "wss:", "ftp:")
    outside = [u for u in _requested(drv) if u.startswith(network) and not u.startswith(base + "/")]
    assert not outside, f"{path}: asked other hosts for {outside}"
    _check_axe(drv, path)
    _screenshot(drv, name)


def _check_axe(drv, where: str) -> None:
    violations = _axe_violations(drv)
    assert not violations, f"{where}: axe found " + "; ".join(
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:5]}" for v in violations
    )


def _check_quiet(drv, base: str, where: str, expected=()) -> None:
    """Since the last look: no console error (but those ``expected``), nothing asked of a host
    but the app's."""
    errors = [
        e
        for e in drv.get_log("browser")
        if e["level"] == "SEVERE" and not any(x in e["message"] for x in expected)
    ]
    assert not errors, f"{where}: console errors {errors}"
    network = ("http:", "https:", "ws:", "wss:", "ftp:")
    outside = [u for u in _requested(drv) if u.startswith(network) and not u.startswith(base + "/")]
    assert not outside, f"{where}: asked other hosts for {outside}"


def sign_in(drv, base: str, login: demo.Login) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    drv.get(base + "/login")
    drv.find_element(By.ID, "user-name").send_keys(login.name)
    drv.find_element(By.ID, "password").send_keys(login.password)
    drv.find_element(By.ID, "sign-in").click()
    WebDriverWait(drv, 10).until(lambda d: d.current_url.endswith("/plans"))
    assert login.name in drv.find_element(By.CLASS_NAME, "header__user").text


def sign_out(drv) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    drv.find_element(By.CSS_SELECTOR, ".header__signout button").click()
    WebDriverWait(drv, 10).until(lambda d: "You have signed out" in d.page_source)


def pages_for(role: str, plans: dict[str, int], accepted: int = 0) -> list[tuple[str, str]]:
    """(path, short name) of every page a role has: the shared ones and the versions it may read."""
    gm = plans["greater_manchester.yaml"]
    versions = {
        "anonymous": [],
        "national": list(plans.values()),
        "lead": [gm],
        "analyst": [gm],
        "viewer": [gm],  # the published one
    }
    out = [("/", "england"), (f"/footprints/{GM}", "footprint-gm"), ("/public", "public")]
    if role == "anonymous":  # the map shaded by the plans once: the same page otherwise
        out += [
            ("/login", "login"),
            ("/?shade=plan", "england-plan"),
            ("/public?area=Bolton", "public-find-bolton"),
            ("/public?area=north", "public-find-several"),
            ("/public/appendix", "public-appendix"),
            ("/track-record", "track-record"),
        ]
    else:
        out += [("/plans", "plans")]
    if role == "national":  # the reviewer's board, filtered and sorted, and a decision's page
        out += [
            ("/submissions", "submissions"),
            ("/submissions?status=accepted&sort=gap", "submissions-accepted-by-gap"),
            (f"/submissions/{accepted}/withdraw", "withdraw-confirm"),
        ]
    out += [(f"/plans/{p}/versions/1", f"plan-{p}-v1") for p in versions[role]]
    return out


def test_every_page_as_each_role(site, browser):
    base, made, _ = site
    for name in ("anonymous", "nia", "gm_lead", "gm_analyst", "cw_lead", "vic"):
        login = made.logins.get(name)
        if login:
            sign_in(browser, base, login)
        role = login.role if login else "anonymous"
        pages = pages_for(role, made.plans, made.accepted)
        if name == "cw_lead":  # Cornwall's lead reads Cornwall's plan, not Greater Manchester's
            pages = [p for p in pages if not p[0].startswith("/plans/")]
            pages.append((f"/plans/{made.plans['cornwall.yaml']}/versions/1", "plan-cornwall-v1"))
            pages.append((f"/footprints/{CORNWALL}", "footprint-cornwall"))
        for path, short in pages:
            open_page(browser, base, path, f"{name}-{short}")
        if login:
            sign_out(browser)


def test_the_map_and_the_charts_draw(site, browser):
    base, _, _ = site
    browser.get(base + "/")
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 30).until(
        lambda d: d.execute_script("return document.querySelectorAll('.choroplethlocation').length") == 44
    )
    browser.get(base + f"/footprints/{GM}")
    WebDriverWait(browser, 30).until(
        lambda d: (lambda c: len(c) == 3 and all(n > 0 for n in c))(d.execute_script(CHARTS_DRAWN))
    )


def test_tab_reaches_the_login_fields_and_the_button(site, browser):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    base, _, _ = site
    browser.get(base + "/login")
    reached = []
    active = "return document.activeElement.id || document.activeElement.tagName"
    for _ in range(15):
        ActionChains(browser).send_keys(Keys.TAB).perform()
        reached.append(browser.execute_script(active))
        if reached[-1] == "sign-in":
            break
    form = ["user-name", "password", "sign-in"]
    assert [r for r in reached if r in form] == form, reached
    # The focus is visible: the focused button takes the yellow focus colour.
    colour = browser.execute_script("return getComputedStyle(document.activeElement).backgroundColor")
    assert colour == "rgb(255, 235, 59)", colour


def test_a_lead_cannot_open_another_footprints_plan(site, browser):
    base, made, _ = site
    sign_in(browser, base, made.logins["cw_lead"])
    try:
        open_page(
            browser,
            base,
            f"/plans/{made.plans['greater_manchester.yaml']}/versions/1",
            "cw_lead-forbidden-gm-plan",
            status=404,
            expected_console=("status of 404",),
        )
        assert "not found" in browser.page_source  # as if it did not exist (issue 20, item 6)
        assert "may not read" not in browser.page_source
    finally:
        sign_out(browser)


# ---- part 2: the editor, results, comparisons and submissions ---------------------------------

PLAN_LAST = """return document.getElementById('chart-admissions').data
    .filter(t => t.name === 'Plan: average')[0].y.slice(-1)[0]"""
FIRST_NUMBER = "return document.querySelector('#preview-numbers tbody td').textContent"
NUMBERS = "return document.querySelector('#preview-numbers tbody').textContent"


def test_a_lead_edits_saves_and_submits_and_reads_why_the_centre_returned_it(site, browser):
    from urllib.parse import urlparse

    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select, WebDriverWait

    base, made, _ = site
    drv = browser
    gm = made.plans["greater_manchester.yaml"]
    sign_in(drv, base, made.logins["gm_lead"])
    try:
        open_page(drv, base, f"/plans/{gm}/versions/1/edit", "gm_lead-editor")
        before, before_text = drv.execute_script(PLAN_LAST), drv.execute_script(FIRST_NUMBER)
        slider = drv.find_element(By.ID, "coverage-hospital_at_home")
        slider.send_keys(Keys.END)  # the keyboard takes hospital at home to 100%
        WebDriverWait(drv, 10).until(lambda d: d.execute_script(PLAN_LAST) != before)
        assert drv.execute_script(PLAN_LAST) < before  # fewer emergency admissions
        WebDriverWait(drv, 10).until(lambda d: d.execute_script(FIRST_NUMBER) != before_text)
        assert drv.find_element(By.ID, "coverage-hospital_at_home-value").text == "100%"
        assert "show your changes" in drv.find_element(By.ID, "preview-status").text
        # A care model switched on by keyboard enables its slider and changes the plan again.
        moved = drv.execute_script(NUMBERS)
        drv.find_element(By.ID, "on-direct_access_physiotherapy").send_keys(Keys.SPACE)
        WebDriverWait(drv, 10).until(lambda d: d.execute_script(NUMBERS) != moved)
        assert drv.find_element(By.ID, "coverage-direct_access_physiotherapy").is_enabled()
        _check_quiet(drv, base, "editor after the preview")
        _check_axe(drv, "editor after the preview")
        _screenshot(drv, "gm_lead-editor-changed")

        drv.find_element(By.ID, "save-version").click()
        WebDriverWait(drv, 10).until(lambda d: "Saved as version" in d.page_source)
        version_path = urlparse(drv.current_url).path
        assert version_path.startswith(f"/plans/{gm}/versions/") and not version_path.endswith("/1")
        drv.find_element(By.ID, "submit-version").click()
        WebDriverWait(drv, 10).until(lambda d: "was sent to NHS England for review" in d.page_source)
        assert not drv.find_elements(By.ID, "submit-version")
        _check_quiet(drv, base, "saving and submitting")
        _check_axe(drv, version_path)
        _screenshot(drv, "gm_lead-version-submitted")
    finally:
        sign_out(drv)

    sign_in(drv, base, made.logins["nia"])
    try:
        open_page(drv, base, "/submissions", "nia-submissions")
        # The reviewer narrows the board to what waits for a decision (the filter form, no script).
        Select(drv.find_element(By.ID, "filter-status")).select_by_value("submitted")
        drv.find_element(By.ID, "filter-button").click()
        WebDriverWait(drv, 10).until(lambda d: "status=submitted" in d.current_url)
        assert drv.find_element(By.ID, "board-count").text == "Showing 1 of 44 footprints."
        _check_axe(drv, "/submissions filtered")
        _screenshot(drv, "nia-submissions-waiting")
        link = drv.find_element(By.CSS_SELECTOR, "a[id^=return-]")
        sid = link.get_attribute("id").removeprefix("return-")
        link.click()  # the decision's own page, with the numbers
        WebDriverWait(drv, 10).until(lambda d: d.find_elements(By.ID, "confirm-return"))
        assert drv.find_element(By.TAG_NAME, "h1").text == "Return the plan to Greater Manchester?"
        _check_axe(drv, f"/submissions/{sid}/return")
        _screenshot(drv, "nia-return-confirm")
        drv.find_element(By.ID, "confirm-return").click()  # no comment
        WebDriverWait(drv, 10).until(lambda d: d.find_elements(By.ID, "decision-text-error"))
        error = drv.find_element(By.ID, "decision-text-error").text
        assert " ".join(error.split()) == "Error: Returning a submission needs a comment saying why"
        assert drv.find_element(By.ID, "decision-text").get_attribute("aria-invalid") == "true"
        # Chrome logs the page's own 422 (the form shown again with its error) and nothing else.
        _check_quiet(drv, base, "returning without a comment", expected=("status of 422",))
        _check_axe(drv, "/submissions return with an error")
        _screenshot(drv, "nia-return-comment-missing")
        drv.find_element(By.ID, "decision-text").send_keys("Show the winter bed numbers, please.")
        drv.find_element(By.ID, "confirm-return").click()
        WebDriverWait(drv, 10).until(
            lambda d: "Returned the submission from Greater Manchester" in d.page_source
        )
    finally:
        sign_out(drv)

    sign_in(drv, base, made.logins["gm_lead"])
    try:
        open_page(drv, base, version_path, "gm_lead-version-returned")
        panel = drv.find_element(By.ID, "returned").text
        assert "NHS England returned this version" in panel and "Show the winter bed numbers" in panel
        n = version_path.rsplit("/", 1)[1]
        open_page(drv, base, f"/plans/{gm}/versions/1/results", "gm_lead-results")
        open_page(drv, base, f"/compare?a={gm}:1&b={gm}:{n}", "gm_lead-compare")
        open_page(drv, base, "/compare", "gm_lead-compare-choose")
    finally:
        sign_out(drv)

    # The public sees the accepted version 1 only: not the returned one.
    open_page(drv, base, "/public", "anonymous-public-after-return")
    main = drv.find_element(By.TAG_NAME, "main").text
    assert len(drv.find_elements(By.CSS_SELECTOR, "main article")) == 1
    # Residents read no version numbers; which version shows is tested in test_web (its story).
    assert "version" not in main.lower()
    assert drv.find_element(By.CSS_SELECTOR, "main article .caption").text == "Greater Manchester"


def test_a_lead_cannot_open_another_footprints_editor(site, browser):
    base, made, _ = site
    sign_in(browser, base, made.logins["cw_lead"])
    try:
        open_page(
            browser,
            base,
            f"/plans/{made.plans['greater_manchester.yaml']}/versions/1/edit",
            "cw_lead-forbidden-gm-editor",
            status=404,
            expected_console=("status of 404",),
        )
        assert "not found" in browser.page_source  # as if it did not exist (issue 20, item 6)
        assert "may not read" not in browser.page_source
    finally:
        sign_out(browser)


def test_the_api_docs_render_from_the_package_under_their_policy(site, browser):
    """Issue 20, item 6: Swagger UI at /docs draws the API's operations from the package's own
    files, with no request leaving the server and no policy violation in the console."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    base, _, _ = site
    _requested(browser)  # forget earlier requests
    browser.get_log("browser")
    browser.get(f"{base}/docs")
    WebDriverWait(browser, 20).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".opblock")))
    assert "/api/runs" in browser.page_source
    outside = [
        u for u in _requested(browser) if u.startswith(("http:", "https:")) and not u.startswith(base + "/")
    ]
    assert outside == []
    errors = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not [m for m in errors if "Content Security Policy" in m or "Refused" in m], errors


def test_the_same_figures_on_every_page_in_the_browser(site, browser):
    """Issue 21, item 3: Greater Manchester's 2020/21 gap, emergency admissions and beds, read
    off the pages Chromium draws (results, footprint, compare, the England map's table), are the
    stored run's, as the dashboard prints them (the report and workbook: tests/test_same_number)."""
    from selenium.webdriver.common.by import By

    from stpsim.web.charts import count, interval

    base, made, svc = site
    gm = made.plans["greater_manchester.yaml"]
    nia = svc.check_password("nia", made.logins["nia"].password)
    truth = svc.run(nia, gm, 1)
    year = truth["years"][-1]
    want = {
        interval(truth["finance"]["system"]["gap"][year]),
        interval(truth["activity"]["emergency_admissions"][year], count),
        interval(truth["capacity"]["beds"][year], count),
    }
    sign_in(browser, base, made.logins["nia"])
    try:
        for path in (
            f"/plans/{gm}/versions/1/results",
            f"/footprints/{GM_CODE}",
            f"/compare?a={gm}:1&b={gm}:1",
        ):
            open_page(browser, base, path, "same-figures-" + path.strip("/").split("/")[0])
            seen = {c.text.strip() for c in browser.find_elements(By.CSS_SELECTOR, "main td")}
            assert want <= seen, (path, want - seen)
        open_page(browser, base, "/?shade=plan", "same-figures-england")
        row = browser.find_element(By.XPATH, f"//main//tr[th/a[@href='/footprints/{GM_CODE}']]")
        cells = [c.text.strip() for c in row.find_elements(By.TAG_NAME, "td")]
        people = int(cells[0].replace(",", ""))
        assert cells[3] == f"£{count(truth['finance']['system']['gap'][year]['mean'] / people)}"
    finally:
        sign_out(browser)


def _fits_the_screen(drv, where: str) -> None:
    """Nothing makes the page wider than the phone: wide tables scroll in their own box."""
    wide = drv.execute_script("return document.documentElement.scrollWidth")
    assert wide <= 390 + 1, f"{where}: the page is {wide} px wide on a 390 px phone"


def test_on_a_phone_pages_fit_charts_stack_and_the_editor_keeps_its_numbers_in_view(site, browser):
    """Issue 21, item 4 (390 x 844, as a phone): every page fits the screen (tables scroll in
    their own box), the eight-panel demand chart stacks two a row and grows taller, and in the
    editor the bar of key numbers stays in view by the sliders and follows them."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    base, made, _ = site
    drv = browser
    gm = made.plans["greater_manchester.yaml"]
    _phone(drv)
    try:

        def on_the_phone(path: str, name: str) -> None:
            drv.get(base + path)
            WebDriverWait(drv, 30).until(
                lambda d: d.execute_script("return document.readyState") == "complete"
            )
            _fits_the_screen(drv, path)
            _check_axe(drv, f"{path} on a phone")
            _screenshot(drv, f"phone-{name}", phone=True)

        for path, name in (("/", "england"), (f"/footprints/{GM_CODE}", "footprint"), ("/public", "public")):
            on_the_phone(path, f"anonymous-{name}")
        sign_in(drv, base, made.logins["nia"])
        try:
            on_the_phone("/submissions", "nia-submissions")
            on_the_phone(f"/submissions/{made.accepted}/withdraw", "nia-withdraw")
        finally:
            sign_out(drv)
        sign_in(drv, base, made.logins["gm_lead"])
        try:
            drv.get(f"{base}/plans/{gm}/versions/1/results")
            WebDriverWait(drv, 30).until(
                lambda d: d.find_elements(By.CSS_SELECTOR, "#chart-services .main-svg")
            )
            _fits_the_screen(drv, "results")
            services = drv.find_element(By.ID, "chart-services")
            assert services.value_of_css_property("min-height") == "1100px"  # stacked: four rows of two
            _check_axe(drv, "results on a phone")
            _screenshot(drv, "phone-gm_lead-results", phone=True)

            drv.get(f"{base}/plans/{gm}/versions/1/edit")
            WebDriverWait(drv, 30).until(lambda d: d.find_elements(By.ID, "keybar"))
            _fits_the_screen(drv, "editor")
            slider = drv.find_element(By.ID, "coverage-hospital_at_home")
            drv.execute_script("arguments[0].scrollIntoView({block: 'center'})", slider)
            bar = drv.find_element(By.ID, "keybar")
            top = drv.execute_script("return arguments[0].getBoundingClientRect().top", bar)
            assert bar.is_displayed() and 0 <= top < 844, "the key numbers are in view by the slider"
            before = bar.text
            slider.send_keys(Keys.END)
            WebDriverWait(drv, 10).until(lambda d: d.find_element(By.ID, "keybar").text != before)
            _check_axe(drv, "editor on a phone")
            _screenshot(drv, "phone-gm_lead-editor-changed", phone=True)
        finally:
            sign_out(drv)
    finally:
        drv.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


REPORT_CHARTS = """return Array.from(document.querySelectorAll('.chart .plotly-graph-div')).map(d => [d.id,
    (d.data || []).length, d.querySelectorAll('svg.main-svg .trace path, svg.main-svg .hm image').length,
    d.querySelectorAll('svg.main-svg').length])"""


@pytest.mark.parametrize("audience", ["board", "public"])
def test_the_reports_draw_every_chart(browser, tmp_path, audience):
    # The report's charts are written as plotly.js documents by stpsim itself (report/figure.py),
    # not by plotly's Figure: plotly.js must draw every one, each with all its traces, and say
    # nothing in the console.
    from selenium.webdriver.support.ui import WebDriverWait

    from stpsim import plan
    from stpsim.report import charts
    from stpsim.service.compute import report, run_plan

    p = plan.load("examples/greater_manchester.yaml")
    record = run_plan(p.model_copy(update={"monte_carlo": plan.MonteCarlo(draws=60, seed=4)}))
    target = report([record], tmp_path / f"{audience}.html", audience, "html")
    want = {k: len(f["data"]) for k, f in charts.all_charts(record, audience == "public").items()}
    browser.get_log("browser")
    browser.get(target.resolve().as_uri())
    WebDriverWait(browser, 60).until(
        lambda d: (lambda c: c and all(n > 0 and svg > 0 for _, _, n, svg in c))(
            d.execute_script(REPORT_CHARTS)
        )
    )
    drawn = {i.removeprefix("chart-"): n for i, n, _, _ in browser.execute_script(REPORT_CHARTS)}
    # every chart the story places, with all of its traces (and the board's track record); the
    # public story has no section for the incentive matrix
    assert {k: n for k, n in drawn.items() if k in want} == {k: n for k, n in want.items() if k in drawn}
    assert set(want) - set(drawn) == (set() if audience == "board" else {"incentives"})
    assert ("track-record" in drawn) == (audience == "board")
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors
    _screenshot(browser, f"report-{audience}")
