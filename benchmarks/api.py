"""Benchmark: the REST API on a real server process (uvicorn, loopback only).

- `POST /api/runs` for Greater Manchester at 200 and 1,000 draws, warm (the server has run
  before): a new seed each time, so each is computed, and a repeat of the same run, which the
  store answers by the run's identity.
- 50 concurrent readers of a plan version.

Medians over the repeats. The store is a temporary SQLite file unless --database is given.

    .venv/bin/python benchmarks/api.py [--repeats 7] [--database URL]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import yaml

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(url: str, port: int) -> subprocess.Popen:
    env = os.environ | {"STPSIM_DATABASE_URL": url}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "stpsim.api.asgi:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
    )
    for _ in range(200):  # bounded wait for the server to listen
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=0.5)
            return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the server did not start")


def timed(f) -> float:
    t = time.perf_counter()
    f()
    return time.perf_counter() - t


def time_run(client: httpx.Client, pid: int, draws: int, seed: int) -> float:
    """Seconds for one POST /api/runs (computed the first time a seed is asked, then stored)."""
    body = {"plan_id": pid, "version": 1, "draws": draws, "seed": seed}
    return timed(lambda: client.post("/api/runs", json=body).raise_for_status())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--database")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp()
    url = args.database or f"sqlite:///{tmp}/bench.db"
    from stpsim.service import Service
    from stpsim.store.database import upgrade

    upgrade(url)
    token = Service(url).add_user(f"bench{time.time_ns()}", "lead", ["E54000007"])
    port = free_port()
    proc = start(url, port)
    try:
        c = httpx.Client(
            base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"}, timeout=60
        )
        doc = yaml.safe_load((ROOT / "examples" / "greater_manchester.yaml").read_text())
        pid = c.post("/api/plans", json=doc).raise_for_status().json()["id"]
        c.post("/api/runs", json={"plan_id": pid, "version": 1, "draws": 50, "seed": 1})  # warm the server
        print(f"REST API on uvicorn, loopback, {url.split(':')[0]} store; medians of {args.repeats}")
        for draws in (200, 1000):
            fresh = [time_run(c, pid, draws, 1000 + i) for i in range(args.repeats)]
            again = [time_run(c, pid, draws, 1000) for _ in range(args.repeats)]
            print(
                f"  POST /api/runs, GM, {draws:>5} draws: computed {statistics.median(fresh) * 1000:.1f} ms, "
                f"stored {statistics.median(again) * 1000:6.1f} ms"
            )
        readers = httpx.Client(
            base_url=f"http://127.0.0.1:{port}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
            limits=httpx.Limits(max_connections=50),
        )

        def read() -> float:
            return timed(lambda: readers.get(f"/api/plans/{pid}/versions/1").raise_for_status())

        rounds = []
        for _ in range(args.repeats):
            with ThreadPoolExecutor(50) as pool:
                t = time.perf_counter()
                lat = list(pool.map(lambda _: read(), range(50)))
                rounds.append((time.perf_counter() - t, statistics.median(lat)))
        print(
            "  50 concurrent readers of a plan version: all answered in "
            f"{statistics.median(r[0] for r in rounds) * 1000:.1f} ms, "
            f"median latency {statistics.median(r[1] for r in rounds) * 1000:.1f} ms"
        )
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
