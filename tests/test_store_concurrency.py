"""The store under concurrent writers, and a server killed in the middle of saving.

Plan versions are immutable and numbered without gaps: however many writers save at once, every
save is kept exactly once and the numbers are 1..N. A server killed (SIGKILL) mid-write leaves no
partial version behind.
"""

from __future__ import annotations

import functools
import hashlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter

import httpx
import pytest
from sqlalchemy import select

from stpsim.plan import validate
from stpsim.service import Service, canonical
from stpsim.store import models as m

from .conftest_store import CORNWALL, GM, bearer, cornwall_plan, gm_plan, sqlite_url

WRITERS = 100
OTHER_PLANS = 5  # writer i also saves to other plan i % OTHER_PLANS


def versions_of(url: str, plan_id: int) -> list[m.PlanVersion]:
    svc = Service(url)
    with svc.Session() as s:
        return list(
            s.scalars(
                select(m.PlanVersion).where(m.PlanVersion.plan_id == plan_id).order_by(m.PlanVersion.number)
            )
        )


def test_concurrent_writers_lose_nothing(store_url):
    setup = Service(store_url)
    gm_token = setup.add_user("gm_lead", "lead", [GM])
    cw_token = setup.add_user("cw_lead", "lead", [CORNWALL])
    gm, cw = setup.authenticate(gm_token), setup.authenticate(cw_token)
    shared = setup.create_plan(gm, gm_plan("shared start"))["id"]

    def lead(k: int):  # odd other plans are Cornwall's, even ones Greater Manchester's
        return cw if k % 2 else gm

    def doc(k: int, name: str) -> dict:
        return (cornwall_plan if k % 2 else gm_plan)(name)

    others = [setup.create_plan(lead(k), doc(k, f"other {k} start"))["id"] for k in range(OTHER_PLANS)]

    barrier = threading.Barrier(WRITERS)
    errors: list[str] = []
    answers: dict[tuple[int, str], int] = {}
    lock = threading.Lock()

    def writer(i: int) -> None:
        svc = Service(store_url)  # its own service object on the same store
        name = f"w{i}"
        k = i % OTHER_PLANS
        try:
            barrier.wait(timeout=30)
            got = [
                (shared, svc.add_version(gm, shared, gm_plan(name))),
                (others[k], svc.add_version(lead(k), others[k], doc(k, name))),
            ]
        except Exception as e:  # noqa: BLE001 - every failure is reported below
            with lock:
                errors.append(f"{name}: {type(e).__name__}: {e}")
            return
        with lock:
            for pid, out in got:
                answers[(pid, name)] = out["version"]

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "writers still running after 60 s"
    assert not errors, f"{len(errors)} of {WRITERS} writers failed, e.g. {errors[:3]}"
    assert time.monotonic() - start < 60

    expected = {shared: [f"w{i}" for i in range(WRITERS)]}
    for k, pid in enumerate(others):
        expected[pid] = [f"w{i}" for i in range(WRITERS) if i % OTHER_PLANS == k]
    for pid, names in expected.items():
        rows = versions_of(store_url, pid)
        numbers = [v.number for v in rows]
        assert numbers == list(range(1, len(names) + 2)), f"plan {pid}: gaps or repeats in {numbers}"
        saved = Counter(v.document["name"] for v in rows[1:])
        assert saved == Counter(names), f"plan {pid}: lost or doubled saves: {saved - Counter(names)}"
        assert rows[0].document["name"].endswith(" start")
        for v in rows:
            assert v.content_hash == hashlib.sha256(canonical(v.document).encode()).hexdigest()
            if v.number > 1:
                # each writer was told the number its save got
                assert answers[(pid, v.document["name"])] == v.number


# ---- a server killed mid-write -----------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_killed_server_leaves_no_partial_version(tmp_path):
    began = time.monotonic()
    url = sqlite_url(tmp_path)
    setup = Service(url)
    token = setup.add_user("gm_lead", "lead", [GM])
    pid = setup.create_plan(setup.authenticate(token), gm_plan("before the crash"))["id"]

    port = _free_port()
    env = os.environ | {"STPSIM_DATABASE_URL": url}
    log = (tmp_path / "server.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "stpsim.api.asgi:app", "--host", "127.0.0.1", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None:
                pytest.fail(f"the server exited: {(tmp_path / 'server.log').read_text()[-2000:]}")
            assert time.monotonic() < deadline, "the server did not start within 15 s"
            time.sleep(0.1)

        stop = threading.Event()
        acknowledged: list[tuple[int, str, str]] = []  # (number, name, content_hash) answered 201
        broken: list[str] = []
        unexpected: list[str] = []
        lock = threading.Lock()

        def saver(t: int) -> None:
            with httpx.Client(base_url=base, headers=bearer(token), timeout=10) as client:
                n = 0
                while not stop.is_set():
                    name = f"t{t}-{n}"
                    try:
                        r = client.post(f"/api/plans/{pid}/versions", json=gm_plan(name))
                    except httpx.TransportError as e:
                        with lock:
                            broken.append(type(e).__name__)
                        return
                    if r.status_code != 201:
                        with lock:
                            unexpected.append(f"{r.status_code} {r.text[:200]}")
                        return
                    with lock:
                        acknowledged.append((r.json()["version"], name, r.json()["content_hash"]))
                    n += 1

        threads = [threading.Thread(target=saver, args=(t,)) for t in range(4)]
        for t in threads:
            t.start()
        while len(acknowledged) < 20 and time.monotonic() - began < 15:
            time.sleep(0.01)
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=5)
        stop.set()
        for t in threads:
            t.join(timeout=10)
        assert not any(t.is_alive() for t in threads)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=5)
        log.close()

    assert not unexpected, f"saves answered other than 201 before the kill: {unexpected}"
    assert len(acknowledged) >= 20, f"only {len(acknowledged)} saves were answered before the kill"
    assert broken, "no save was in flight when the server was killed"

    rows = versions_of(url, pid)
    numbers = [v.number for v in rows]
    assert numbers == list(range(1, len(rows) + 1)), f"version numbers have gaps or repeats: {numbers}"
    for v in rows:
        validate(v.document, source=f"plan {pid} v{v.number}")  # raises on a partial document
        assert v.content_hash == hashlib.sha256(canonical(v.document).encode()).hexdigest(), v.number
    stored = {v.number: (v.document["name"], v.content_hash) for v in rows}
    for number, name, digest in acknowledged:
        assert stored.get(number) == (name, digest), f"acknowledged version {number} ({name}) was lost"
    assert len(rows) >= len(acknowledged) + 1

    # The store still takes the next save, numbered after the last one.
    after = Service(url).add_version(Service(url).authenticate(token), pid, gm_plan("after the crash"))
    assert after["version"] == len(rows) + 1
    assert time.monotonic() - began < 30


SUBMIT_TRIALS = 12


def _at_once(*calls) -> list:
    """Run each call in its own thread, released together by a barrier; each call's result, or
    the exception it raised."""
    barrier = threading.Barrier(len(calls))
    out: list = [None] * len(calls)

    def run(k: int) -> None:
        barrier.wait(timeout=30)
        try:
            out[k] = calls[k]()
        except Exception as e:  # noqa: BLE001 - returned to the test to judge
            out[k] = e

    threads = [threading.Thread(target=run, args=(k,)) for k in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return out


def test_one_current_submission_per_footprint_when_two_plans_are_submitted_at_once(store_url):
    """Issue 24: two plans of one footprint submitted at the same moment (two threads behind a
    barrier, each with its own service on the same store), many times. Every time, exactly one
    submission is current for the footprint and the other is superseded by it."""
    setup = Service(store_url)
    lead = setup.authenticate(setup.add_user("gm_lead", "lead", [GM]))
    plans = [setup.create_plan(lead, gm_plan(f"option {k}"))["id"] for k in range(2 * SUBMIT_TRIALS)]
    for trial in range(SUBMIT_TRIALS):
        pair = plans[2 * trial : 2 * trial + 2]
        got = _at_once(*(functools.partial(Service(store_url).submit, lead, p, 1) for p in pair))
        assert not [g for g in got if isinstance(g, Exception)], got
        with setup.Session() as s:
            current = s.scalars(
                select(m.Submission).where(m.Submission.footprint == GM, m.Submission.superseded_by.is_(None))
            ).all()
            mine = s.scalars(select(m.Submission).where(m.Submission.plan_id.in_(pair))).all()
        assert len(current) == 1, f"trial {trial}: {len(current)} current submissions for {GM}"
        assert current[0].plan_id in pair
        other = next(x for x in mine if x.id != current[0].id)
        assert other.superseded_by == current[0].id


def test_accept_and_return_of_one_submission_at_once_decide_it_once(store_url):
    """Issue 24: two national reviewers decide the same submission at the same moment, one
    accepting and one returning it: exactly one decision is taken, the other is refused as a
    conflict, and the submission's state is the decision taken."""
    from stpsim.service import Conflict

    setup = Service(store_url)
    lead = setup.authenticate(setup.add_user("gm_lead", "lead", [GM]))
    a = setup.authenticate(setup.add_user("reviewer_a", "national", []))
    b = setup.authenticate(setup.add_user("reviewer_b", "national", []))
    for trial in range(SUBMIT_TRIALS):
        plan_id = setup.create_plan(lead, gm_plan(f"decide {trial}"))["id"]
        sub = setup.submit(lead, plan_id, 1)["id"]
        got = _at_once(
            functools.partial(Service(store_url).decide, a, sub, True, None),
            functools.partial(Service(store_url).decide, b, sub, False, "please revise"),
        )
        states = sorted("conflict" if isinstance(g, Conflict) else g["state"] for g in got)
        assert states in (["accepted", "conflict"], ["conflict", "returned"]), got
        taken = next(x for x in states if x != "conflict")
        with setup.Session() as s:
            assert s.get(m.Submission, sub).state == taken
