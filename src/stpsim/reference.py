"""The national reference data: one object holding the shipped tables (or a folder of a team's
own overlaying them), their provenance and the assumptions log, loaded once and handed to a run.

Every table lives in ``stpsim/data/tables`` with its provenance in ``data/sources.yaml``. A user
can replace any national table with one of the same name and schema from a folder of their own:
``stpsim --tables DIR COMMAND``, or ``ReferenceData.of(DIR)`` passed to ``engine.run``,
``rollup.rollup`` or the service. (A footprint's own tables for one plan go in the plan's
``data:`` section instead, and overlay these for that footprint.)

A run reads the reference data it was given through :func:`current`: ``with use(reference):``
makes ``reference`` the current one for the code inside, in this thread or task; outside any
``use`` the process's default is current (the shipped tables, or the folder the environment
variable ``STPSIM_TABLES`` names: that is how ``--tables`` reaches worker processes, which
inherit the environment). Every cache of derived tables is keyed by the current reference's
``version``, so two references never mix.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import threading
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import yaml

if TYPE_CHECKING:
    import pandas as pd

# libyaml's parser when PyYAML has it: the shipped YAML parses several times faster.
SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

DATA_DIR = Path(str(resources.files("stpsim") / "data"))
TABLE_DIR = DATA_DIR / "tables"
# The example plans: shipped in the package so an installed copy has them (``stpsim examples``
# copies them out; ``serve --demo`` loads them); the repository's examples/ links here.
EXAMPLES_DIR = DATA_DIR / "examples"
T = TypeVar("T")


class ReferenceDataError(RuntimeError):
    """A shipped or overriding table is missing, malformed or lacks an expected fact."""


def shipped_tables() -> list[str]:
    """The names of the shipped tables (a file ``NAME.csv`` or ``NAME.csv.gz``)."""
    return sorted(p.name.removesuffix(".gz").removesuffix(".csv") for p in TABLE_DIR.glob("*.csv*"))


def digest(paths: list[Path], root: Path) -> str:
    """A short hash of ``paths`` (their names under ``root`` and their bytes)."""
    h = hashlib.sha256()
    for path in paths:
        h.update(path.relative_to(root).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def cache_root() -> Path | None:
    """The folder of stpsim's disk caches (``STPSIM_CACHE_DIR``, else the user's cache folder),
    or None when ``STPSIM_CACHE=0`` turns them off."""
    if os.environ.get("STPSIM_CACHE", "1") == "0":
        return None
    base = os.environ.get("STPSIM_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "stpsim"
    )
    return Path(base)


def known_digest(paths: list[Path], root: Path) -> str:
    """``digest(paths, root)``, remembered on disk under the files' names, sizes and modification
    times, as git's index remembers what it hashed: a new process stats the files instead of
    reading and hashing every table and source file again (about 18 ms of each command). A file
    written since has a new modification time, so its bytes are hashed again."""
    root_dir = cache_root()
    if root_dir is None:
        return digest(paths, root)
    h = hashlib.sha256()
    try:
        for path in paths:
            st = path.stat()
            h.update(f"{path.relative_to(root).as_posix()}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
    except OSError:
        return digest(paths, root)
    memo = root_dir / "digests" / h.hexdigest()[:32]
    try:
        known = memo.read_text(encoding="ascii")
        if len(known) == 16 and all(c in "0123456789abcdef" for c in known):
            return known
    except OSError:
        pass
    value = digest(paths, root)
    try:
        memo.parent.mkdir(parents=True, exist_ok=True)
        tmp = memo.with_name(f".{memo.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(value, encoding="ascii")
        os.replace(tmp, memo)
    except OSError:
        pass  # a read-only or full disk only costs speed
    return value


@functools.lru_cache(maxsize=1)
def _shipped_version() -> str:
    # The example plans are not reference data: editing one must not rebuild every cache.
    paths = sorted(
        p
        for p in DATA_DIR.rglob("*")
        if p.is_file()
        and p.suffix in (".csv", ".gz", ".yaml")
        and "examples" not in p.relative_to(DATA_DIR).parts
    )
    return known_digest(paths, DATA_DIR)


@dataclass(frozen=True, eq=False)
class ReferenceData:
    """The national tables a run reads: the shipped ones, with any of them replaced by the
    table of the same name in ``folder``. Each table is read once per object (pandas loads on
    first use: a process whose derived tables come from the disk cache never pays for it)."""

    folder: Path | None = None
    _tables: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def __getstate__(self) -> dict:  # to a worker: the folder, not the tables read or the lock
        return {"folder": self.folder}

    def __setstate__(self, state: dict) -> None:
        object.__setattr__(self, "folder", state["folder"])
        object.__setattr__(self, "_tables", {})
        object.__setattr__(self, "_lock", threading.Lock())

    @classmethod
    def of(cls, folder: str | Path | None) -> ReferenceData:
        """The shipped tables overlaid by the national tables in ``folder`` (checked: a folder
        holding only ``.csv`` files named after shipped tables)."""
        if folder is None:
            return SHIPPED
        d = Path(folder)
        if not d.is_dir():
            raise ReferenceDataError(f"--tables {folder}: not a folder; give a folder of CSV tables")
        known = set(shipped_tables())
        files = sorted(d.glob("*.csv")) + sorted(d.glob("*.csv.gz"))
        unknown = [f.name for f in files if f.name.removesuffix(".gz").removesuffix(".csv") not in known]
        if unknown:
            raise ReferenceDataError(
                f"--tables {folder}: {unknown[0]} is not a national table; allowed: "
                + ", ".join(f"{n}.csv" for n in sorted(known))
            )
        if not files:
            raise ReferenceDataError(f"--tables {folder}: holds no .csv table")
        return cls(d.resolve())

    @functools.cached_property
    def version(self) -> str:
        """Hash of the shipped tables and YAML files and of the overlaying folder's tables: what
        the run record's ``data_version`` says and every derived-table cache is keyed by."""
        if self.folder is None:
            return _shipped_version()
        return _shipped_version() + known_digest(sorted(self.folder.glob("*.csv*")), self.folder)

    def path(self, name: str) -> Path:
        folders = ([self.folder] if self.folder is not None else []) + [TABLE_DIR]
        for folder in folders:
            for suffix in (".csv", ".csv.gz"):  # large tables ship gzipped
                candidate = folder / f"{name}{suffix}"
                if candidate.exists():
                    return candidate
        raise ReferenceDataError(f"reference table {name!r} not found at {TABLE_DIR / name}.csv")

    def table(self, name: str) -> pd.DataFrame:
        """The named table as a DataFrame (read once; treat it as read-only)."""
        if name not in self._tables:
            import pandas as pd

            path = self.path(name)
            df = pd.read_csv(path, dtype_backend="numpy_nullable", keep_default_na=False, na_values=[""])
            with self._lock:
                self._tables.setdefault(name, df)
        return self._tables[name]

    def fact(
        self, name: str, measure: str, *, column: str = "measure", value: str = "value", **where: str
    ) -> float:
        """The single value in table ``name`` whose ``column`` equals ``measure`` and whose other
        columns match ``where``. Fails loudly if there is not exactly one such row, because a
        silent wrong pick would put an unsourced number into the model."""
        df = self.table(name)
        mask = df[column] == measure
        for col, want in where.items():
            mask &= df[col].astype(str) == want
        rows = df[mask]
        if len(rows) != 1:
            raise ReferenceDataError(
                f"expected one row in {name}.csv with {column}={measure!r} and {where}, found {len(rows)}"
            )
        return float(rows.iloc[0][value])


SHIPPED = ReferenceData()
_DEFAULTS: dict[str, ReferenceData] = {}
_CURRENT: ContextVar[ReferenceData | None] = ContextVar("stpsim_reference", default=None)


def _process_default() -> ReferenceData:
    folder = os.environ.get("STPSIM_TABLES")
    if not folder:
        return SHIPPED
    if folder not in _DEFAULTS:  # one object per folder, so its tables are read once
        _DEFAULTS[folder] = ReferenceData.of(folder)
    return _DEFAULTS[folder]


def current() -> ReferenceData:
    """The reference data the code running now reads: the one a run was given (``use``), else
    the process's default."""
    return _CURRENT.get() or _process_default()


@contextlib.contextmanager
def use(reference: ReferenceData | None) -> Iterator[ReferenceData]:
    """Make ``reference`` current inside the block (``None``: leave the current one)."""
    if reference is None:
        yield current()
        return
    token = _CURRENT.set(reference)
    try:
        yield reference
    finally:
        _CURRENT.reset(token)


def use_tables(folder: str | Path) -> ReferenceData:
    """Make the national tables in ``folder`` this process's default (and its workers': they
    inherit ``STPSIM_TABLES``) and return that reference data."""
    reference = ReferenceData.of(folder)
    os.environ["STPSIM_TABLES"] = str(reference.folder)
    _DEFAULTS[str(reference.folder)] = reference
    return reference


def derived(maxsize: int = 128) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """``functools.lru_cache`` for a builder of derived tables, keyed also by the current
    reference data's version, so a run given other tables never sees these ones' results."""

    def wrap(fn: Callable[..., T]) -> Callable[..., T]:
        @functools.lru_cache(maxsize=maxsize)
        def keyed(version: str, *args: Any) -> T:
            return fn(*args)

        @functools.wraps(fn)
        def call(*args: Any) -> T:
            return keyed(current().version, *args)

        call.cache_clear = keyed.cache_clear  # type: ignore[attr-defined]
        return call

    return wrap


@functools.cache
def sources() -> dict:
    """The shipped tables' provenance (``data/sources.yaml``): table -> publisher, title, period,
    licence, where found and how it was transformed. Parsed once per process."""
    return yaml.load((DATA_DIR / "sources.yaml").read_text(encoding="utf-8"), Loader=SafeLoader)


def table(name: str) -> pd.DataFrame:
    """The named table of the current reference data (read once; treat it as read-only)."""
    return current().table(name)


def fact(name: str, measure: str, *, column: str = "measure", value: str = "value", **where: str) -> float:
    """The single value of table ``name`` in the current reference data (``ReferenceData.fact``)."""
    return current().fact(name, measure, column=column, value=value, **where)
