"""Where the store lives: an SQLite file by default, PostgreSQL when configured.

``STPSIM_DATABASE_URL`` (or ``--database``) chooses it, for example
``postgresql+psycopg://user:pass@host/db``; without it the store is ``stpsim.db`` in the
current folder. SQLite runs in WAL mode with a busy timeout so several processes can share the
file, and write transactions start with ``BEGIN IMMEDIATE`` so concurrent writers queue instead
of failing.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

DEFAULT_URL = "sqlite:///stpsim.db"
MIGRATIONS = Path(__file__).parent / "migrations"


class DatabaseError(ValueError):
    """A database URL that cannot be used; the message says what is allowed."""


def database_url(explicit: str | None = None) -> str:
    url = explicit or os.environ.get("STPSIM_DATABASE_URL") or DEFAULT_URL
    if not (url.startswith("sqlite:///") or url.startswith("postgresql+psycopg://")):
        raise DatabaseError(
            f"database URL {url!r} is not allowed; use sqlite:///PATH or postgresql+psycopg://USER:PASS@HOST/DB"
        )
    return url


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    # WAL lets readers run beside one writer; the busy timeout makes writers wait, not fail.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()
    dbapi_conn.isolation_level = None  # SQLAlchemy's events below start transactions themselves


def _sqlite_begin(conn) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


@lru_cache(maxsize=8)
def engine(url: str) -> Engine:
    """The engine for ``url`` (one per process and URL)."""
    if url.startswith("sqlite"):
        eng = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(eng, "connect", _sqlite_pragmas)
        event.listen(eng, "begin", _sqlite_begin)
        return eng
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def sessions(url: str) -> sessionmaker[Session]:
    return sessionmaker(engine(url), expire_on_commit=False)


def upgrade(url: str) -> None:
    """Bring the store's schema up to date (Alembic migrations shipped with stpsim)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    with engine(url).begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
