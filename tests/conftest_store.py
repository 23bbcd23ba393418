"""Helpers for the store and API tests (imported explicitly; not a pytest conftest).

Stores: a fresh SQLite file in a temporary folder, or a fresh PostgreSQL database created for one
test (or module) next to ``STPSIM_TEST_POSTGRES_URL`` and dropped afterwards, so no test sees
another's data. Without ``STPSIM_TEST_POSTGRES_URL`` the PostgreSQL tests are skipped, except on
CI (``CI=true``), where they fail: CI installs PostgreSQL (scripts/postgres.sh).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

from stpsim.service import Service
from stpsim.store.database import engine, upgrade

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
GM = "E54000007"  # Greater Manchester
CORNWALL = "E54000036"  # Cornwall and the Isles of Scilly

# name -> (role, footprints)
USERS = {
    "nat": ("national", None),
    "gm_lead": ("lead", [GM]),
    "gm_analyst": ("analyst", [GM]),
    "cw_lead": ("lead", [CORNWALL]),
    "viewer": ("viewer", None),
}


def example(name: str) -> dict:
    """A plan document from examples/ (``greater_manchester`` or ``cornwall``)."""
    return yaml.safe_load((EXAMPLES / f"{name}.yaml").read_text(encoding="utf-8"))


def gm_plan(name: str | None = None, **changes) -> dict:
    doc = example("greater_manchester")
    if name is not None:
        doc["name"] = name
    return doc | changes


def cornwall_plan(name: str | None = None, **changes) -> dict:
    doc = example("cornwall")
    if name is not None:
        doc["name"] = name
    return doc | changes


def sqlite_url(folder: Path) -> str:
    """A migrated, empty SQLite store in ``folder``."""
    url = f"sqlite:///{folder / 'store.db'}"
    upgrade(url)
    return url


def postgres_base_url() -> str:
    """STPSIM_TEST_POSTGRES_URL, or skip (fail on CI) when it is not set."""
    url = os.environ.get("STPSIM_TEST_POSTGRES_URL")
    if not url:
        if os.environ.get("CI") == "true":
            pytest.fail(
                "STPSIM_TEST_POSTGRES_URL is not set on CI; CI must start PostgreSQL (scripts/postgres.sh)"
            )
        pytest.skip("STPSIM_TEST_POSTGRES_URL is not set (source scripts/postgres.sh to run these tests)")
    return url


@contextmanager
def fresh_postgres(tag: str = "t") -> Iterator[str]:
    """A new, migrated PostgreSQL database for one test (or module); dropped afterwards."""
    import psycopg
    from psycopg import sql
    from sqlalchemy.engine import make_url

    base = make_url(postgres_base_url())
    name = f"stpsim_{tag}_{uuid.uuid4().hex[:12]}"
    maintenance = base.set(drivername="postgresql").render_as_string(hide_password=False)
    for attempt in range(5):
        try:
            with psycopg.connect(maintenance, autocommit=True) as conn:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            break
        except psycopg.errors.ObjectInUse:
            # CREATE DATABASE copies template1 and fails while another session is connected to
            # it (a previous test's server shutting down): wait and try again.
            if attempt == 4:
                raise
            time.sleep(0.2 * (attempt + 1))
    url = base.set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        engine(url).dispose()
        drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        for attempt in range(5):
            try:
                with psycopg.connect(maintenance, autocommit=True) as conn:
                    conn.execute(drop)
                break
            except (psycopg.errors.ObjectInUse, psycopg.errors.InsufficientPrivilege):
                # FORCE cannot end an autovacuum worker on the database without pg_signal_backend
                # (scripts/postgres.sh grants it): the worker soon finishes, so try again.
                if attempt == 4:
                    raise
                time.sleep(0.2 * (attempt + 1))


def add_users(svc: Service) -> dict[str, str]:
    """The five test users (see USERS); returns name -> token."""
    return {name: svc.add_user(name, role, fps) for name, (role, fps) in USERS.items()}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
