"""A disk cache of derived tables, keyed by the reference data and the code that derives them.

Building the projection, the activity rates, the footprints and the finance facts from the CSV
tables costs a new process about half a second (pandas alone a quarter). ``persistent`` keeps
each zero-argument builder's result in ``STPSIM_CACHE_DIR`` (default: the user's cache folder),
under a key made of the hash of every shipped table and YAML file and of stpsim's own source, so
any change to either builds afresh. Files are written to a temporary name and renamed, so a
crash never leaves a half-written entry; an unreadable entry is rebuilt. ``STPSIM_CACHE=0``
turns the disk cache off (the in-memory cache stays).
"""

from __future__ import annotations

import functools
import os
import pickle
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from .reference import cache_root, current, known_digest

T = TypeVar("T")
PACKAGE = Path(__file__).parent


def data_version() -> str:
    """Hash of the current reference data: every shipped table and YAML file, and the tables of
    a folder that overlays them (``reference.ReferenceData.version``)."""
    return current().version


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """Hash of stpsim's own source: a change to how tables are derived is a new cache."""
    return known_digest(sorted(PACKAGE.rglob("*.py")), PACKAGE)


def cache_dir() -> Path | None:
    root = cache_root()
    return None if root is None else root / f"{data_version()}-{code_version()}"


def persistent(fn: Callable[[], T]) -> Callable[[], T]:
    """Cache a zero-argument builder in memory and on disk, per reference data (see the module
    docstring)."""
    memo: dict[str, T] = {}

    def build() -> T:
        folder = cache_dir()
        if folder is None:
            return fn()
        path = folder / f"{fn.__module__}.{fn.__qualname__}.pkl"
        try:
            with path.open("rb") as f:
                return pickle.load(f)
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
            pass  # missing or unreadable: build it
        value = fn()
        try:
            folder.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
            with tmp.open("wb") as f:
                pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        except OSError:
            pass  # a read-only or full disk only costs speed
        return value

    @functools.wraps(fn)
    def cached() -> T:
        version = data_version()
        if version not in memo:
            memo[version] = build()
        return memo[version]

    cached.cache_clear = memo.clear  # type: ignore[attr-defined]
    return cached
