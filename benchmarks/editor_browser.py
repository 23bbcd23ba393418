"""Benchmark: the editor's slider in a real browser (issue 21, item 11).

Greater Manchester's plan at 1,000 draws, served by uvicorn from a demo store and edited in
headless Chromium. Each repeat moves a care model's coverage slider and waits for the redraw;
the page's own performance timeline (editor.js) gives:

- ``slider_ms``: from the slider's change to the last chart redrawn (including editor.js's 60 ms
  wait for the slider to settle);
- ``preview_ms``: from the request to the last chart redrawn (the server's preview, the network
  and plotly's redraw).

Then ``concurrent_ms``: ten previews sent at once by ten signed-in users' sessions (median
latency). Targets: slider under 250 ms, ten at once under 600 ms. The server is
``stpsim serve --demo --workers N`` as a user starts it (default two processes, one a core).

    .venv/bin/python benchmarks/editor_browser.py [--repeats 15] [--workers 2] [--json]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Login:
    name: str
    password: str


@dataclass
class Site:
    logins: dict[str, Login]
    gm: int  # Greater Manchester's plan id
    process: subprocess.Popen


def _serve(workers: int) -> tuple[str, Site]:
    """``stpsim serve --demo --workers N`` as users run it, on a free port; the passwords it
    prints and Greater Manchester's plan id."""
    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    exe = str(Path(sys.executable).with_name("stpsim"))
    proc = subprocess.Popen(
        [exe, "serve", "--demo", "--workers", str(workers), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    logins = {}
    for line in proc.stdout:
        m = re.match(r"\s+(\S+)\s+password (\S+)", line)
        if m:
            logins[m[1]] = Login(m[1], m[2])
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
        if time.monotonic() > deadline:
            raise SystemExit("the server did not start")
        time.sleep(0.2)
    c = _client(base, logins["gm_lead"])
    gm = int(
        re.search(
            r'href="/plans/(\d+)/versions/1" aria-label="Greater Manchester - Taking Charge, version 1"',
            c.get("/plans").text,
        )[1]
    )
    return base, Site(logins, gm, proc)


def _client(base: str, login: Login):
    import httpx

    c = httpx.Client(base_url=base, follow_redirects=False, timeout=60)
    token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
    c.post("/login", data={"csrf_token": token, "user_name": login.name, "password": login.password})
    return c


def _browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service as DriverService

    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium") or shutil.which("chromium-browser")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1366,900"):
        opts.add_argument(flag)
    return webdriver.Chrome(service=DriverService(shutil.which("chromedriver")), options=opts)


def _sign_in(drv, base: str, login) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    drv.get(base + "/login")
    drv.find_element(By.ID, "user-name").send_keys(login.name)
    drv.find_element(By.ID, "password").send_keys(login.password)
    drv.find_element(By.ID, "sign-in").click()
    WebDriverWait(drv, 10).until(lambda d: d.current_url.endswith("/plans"))


MOVE = """
const slider = document.getElementById('coverage-hospital_at_home');
slider.value = arguments[0];
slider.dispatchEvent(new Event('input', {bubbles: true}));
"""
COUNT = "return performance.getEntriesByName('stpsim-slider').length"
LAST = """
const s = performance.getEntriesByName('stpsim-slider'), p = performance.getEntriesByName('stpsim-preview');
return [s[s.length - 1].duration, p[p.length - 1].duration];
"""


def in_browser(base: str, made: Site, repeats: int) -> tuple[list[float], list[float]]:
    from selenium.webdriver.support.ui import WebDriverWait

    drv = _browser()
    try:
        _sign_in(drv, base, made.logins["gm_lead"])
        gm = made.gm
        drv.get(f"{base}/plans/{gm}/versions/1/edit")
        WebDriverWait(drv, 30).until(lambda d: d.execute_script("return typeof Plotly !== 'undefined'"))
        slider, preview = [], []
        for i in range(repeats + 2):  # the first two warm the server's caches
            n = drv.execute_script(COUNT)
            drv.execute_script(MOVE, str(20 + (i * 7) % 80))
            WebDriverWait(drv, 30, poll_frequency=0.01).until(lambda d, n=n: d.execute_script(COUNT) > n)
            s, p = drv.execute_script(LAST)
            if i >= 2:
                slider.append(s)
                preview.append(p)
        return slider, preview
    finally:
        drv.quit()


def at_once(base: str, made: Site, n: int = 10) -> list[float]:
    """Ten sessions each send one preview at the same moment; each one's latency, ms."""
    gm = made.gm
    clients = []
    for _ in range(n):
        c = _client(base, made.logins["gm_lead"])
        page = c.get(f"/plans/{gm}/versions/1/edit").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        clients.append((c, token))
    barrier = threading.Barrier(n)

    def one(k: int) -> float:
        c, token = clients[k]
        body = {
            "plan_id": gm,
            "version": 1,
            "fields": {"on.hospital_at_home": "yes", "coverage.hospital_at_home": str(30 + k)},
        }
        barrier.wait()
        t = time.perf_counter()
        r = c.post("/web/preview", json=body, headers={"X-CSRF-Token": token})
        assert r.status_code == 200, r.text[:200]
        return (time.perf_counter() - t) * 1000

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, range(n)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--workers", type=int, default=2, help="server processes (stpsim serve --workers)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    base, made = _serve(args.workers)
    try:
        slider, preview = in_browser(base, made, args.repeats)
        together = [statistics.median(at_once(base, made)) for _ in range(3)]
    finally:
        made.process.terminate()
        made.process.wait(20)
    out = {
        "slider_ms": round(statistics.median(slider), 1),
        "preview_ms": round(statistics.median(preview), 1),
        "concurrent_ms": round(statistics.median(together), 1),
    }
    if args.json:
        print(json.dumps(out, indent=2))
        return
    print(
        f"editor, Greater Manchester, 1,000 draws, medians of {args.repeats} "
        f"(Chromium, {args.workers} server processes)"
    )
    print(f"  slider change to redrawn   {out['slider_ms']:7.1f} ms   target 250")
    print(f"  request to redrawn         {out['preview_ms']:7.1f} ms")
    print(f"  ten previews at once       {out['concurrent_ms']:7.1f} ms   target 600")


if __name__ == "__main__":
    main()
