"""Benchmark: the editor's slider in a real browser (issue 21, item 11).

Greater Manchester's plan at 1,000 draws, served by uvicorn from a demo store and edited in
headless Chromium. Each repeat moves a care model's coverage slider and waits for the redraw;
the page's own performance timeline (editor.js) gives:

- ``slider_ms``: from the slider's change to the last chart redrawn (including editor.js's 60 ms
  wait for the slider to settle);
- ``preview_ms``: from the request to the last chart redrawn (the server's preview, the network
  and plotly's redraw).

Then ``concurrent_ms``: ten previews sent at once by ten signed-in users' sessions (median
latency). Targets: slider under 250 ms, ten at once under 600 ms.

    .venv/bin/python benchmarks/editor_browser.py [--repeats 15] [--json]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import socket
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


def _serve():
    import uvicorn

    from stpsim.api.app import create_app
    from stpsim.service import Service, demo
    from stpsim.store.database import upgrade

    folder = Path(tempfile.mkdtemp())
    url = f"sqlite:///{folder / 'bench.db'}"
    upgrade(url)
    svc = Service(url)
    made = demo.populate(svc)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(svc), host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", made


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


def in_browser(base: str, made, repeats: int) -> tuple[list[float], list[float]]:
    from selenium.webdriver.support.ui import WebDriverWait

    drv = _browser()
    try:
        _sign_in(drv, base, made.logins["gm_lead"])
        gm = made.plans["greater_manchester.yaml"]
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


def at_once(base: str, made, n: int = 10) -> list[float]:
    """Ten sessions each send one preview at the same moment; each one's latency, ms."""
    import httpx

    gm = made.plans["greater_manchester.yaml"]
    clients = []
    for _ in range(n):
        c = httpx.Client(base_url=base, follow_redirects=False, timeout=60)
        token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
        login = made.logins["gm_lead"]
        c.post("/login", data={"csrf_token": token, "user_name": login.name, "password": login.password})
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
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    base, made = _serve()
    slider, preview = in_browser(base, made, args.repeats)
    together = [statistics.median(at_once(base, made)) for _ in range(3)]
    out = {
        "slider_ms": round(statistics.median(slider), 1),
        "preview_ms": round(statistics.median(preview), 1),
        "concurrent_ms": round(statistics.median(together), 1),
    }
    if args.json:
        print(json.dumps(out, indent=2))
        return
    print(f"editor, Greater Manchester, 1,000 draws, medians of {args.repeats} (Chromium)")
    print(f"  slider change to redrawn   {out['slider_ms']:7.1f} ms   target 250")
    print(f"  request to redrawn         {out['preview_ms']:7.1f} ms")
    print(f"  ten previews at once       {out['concurrent_ms']:7.1f} ms   target 600")


if __name__ == "__main__":
    main()
