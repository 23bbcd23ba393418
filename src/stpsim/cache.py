"""A disk cache of derived tables, keyed by the reference data and the code that derives them.

Building the projection, the activity rates, the footprints and the finance facts from the CSV
tables costs a new process about half a second (pandas alone a quarter). ``persistent`` keeps
each zero-argument builder's result in ``STPSIM_CACHE_DIR`` (default: the user's cache folder),
under a key made of the hash of every shipped table and YAML file and of stpsim's own source, so
any change to either builds afresh. Files are written to a temporary name and renamed, so a
crash never leaves a half-written entry; an unreadable entry is rebuilt. ``STPSIM_CACHE=0``
turns the disk cache off (the in-memory cache stays). An entry keeps its arrays' bytes beside
the pickle and is read by mapping the file (``write_entry``, ``read_entry``): the arrays of a
derived table are read-only views, paged in as they are used.
"""

from __future__ import annotations

import functools
import mmap
import os
import pickle
import secrets
import struct
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
        path = folder / f"{fn.__module__}.{fn.__qualname__}.p5"
        try:
            return read_entry(path)
        except (OSError, ValueError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
            pass  # missing or unreadable: build it
        value = fn()
        try:
            folder.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
            write_entry(tmp, value)
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


# An entry: MAGIC, the number of buffers, each buffer's offset and length, the pickle's offset
# and length (all little-endian uint64), then the buffers (each at a multiple of 64 bytes) and
# the pickle. The pickle is protocol 5 with its arrays' bytes out of band, so reading an entry
# maps the file and numpy's arrays are views of it (read-only, paged in as they are used): the
# small areas' tables (12.7 MB) took 9 ms to unpickle in every new process.
MAGIC = b"STPSIM5\n"
ALIGN = 64


def write_entry(path: Path, value: object) -> None:
    """Write ``value`` to ``path`` as a cache entry."""
    buffers: list[pickle.PickleBuffer] = []
    body = pickle.dumps(value, protocol=5, buffer_callback=buffers.append)
    raws = [b.raw() for b in buffers]
    head = len(MAGIC) + 8 * (1 + 2 * len(raws) + 2)
    at, spans = -(-head // ALIGN) * ALIGN, []
    for r in raws:
        spans.append((at, r.nbytes))
        at = -(-(at + r.nbytes) // ALIGN) * ALIGN
    with path.open("wb") as f:
        f.write(
            MAGIC
            + struct.pack(
                f"<{1 + 2 * len(raws) + 2}Q", len(raws), *(x for s in spans for x in s), at, len(body)
            )
        )
        for (offset, _), r in zip(spans, raws, strict=True):
            f.seek(offset)
            f.write(r)
        f.seek(at)
        f.write(body)


def read_entry(path: Path) -> object:
    """The value of the cache entry at ``path``. Raises ValueError for a file that is not one."""
    with path.open("rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size < len(MAGIC) + 8:
            raise ValueError(f"{path}: not a cache entry")
        view = memoryview(mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ))
    if view[: len(MAGIC)] != MAGIC:
        raise ValueError(f"{path}: not a cache entry")
    (n,) = struct.unpack_from("<Q", view, len(MAGIC))
    if len(MAGIC) + 8 * (2 * n + 3) > size:
        raise ValueError(f"{path}: a damaged cache entry")
    numbers = struct.unpack_from(f"<{2 * n + 2}Q", view, len(MAGIC) + 8)
    spans = [(numbers[2 * i], numbers[2 * i + 1]) for i in range(n)]
    body_at, body_len = numbers[-2:]
    if any(o + n_ > size for o, n_ in spans) or body_at + body_len != size:
        raise ValueError(f"{path}: a damaged cache entry")
    return pickle.loads(view[body_at : body_at + body_len], buffers=[view[o : o + n_] for o, n_ in spans])
