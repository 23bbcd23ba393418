"""Shipped reference tables: loading, overrides and single-fact look-ups.

Every table lives in ``stpsim/data/tables`` with its provenance in ``data/sources.yaml``. A user
can replace any national table with one of the same name and schema from a folder of their own:
``stpsim --tables DIR COMMAND`` (or ``STPSIM_TABLES=DIR`` in the environment, which worker
processes inherit), chosen before any table is read. Nothing here reads outside the package
otherwise. (A footprint's own tables for one plan go in the plan's ``data:`` section instead.)
"""

from __future__ import annotations

import os
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

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


class ReferenceDataError(RuntimeError):
    """A shipped or overriding table is missing, malformed or lacks an expected fact."""


def shipped_tables() -> list[str]:
    """The names of the shipped tables (a file ``NAME.csv`` or ``NAME.csv.gz``)."""
    return sorted(p.name.removesuffix(".gz").removesuffix(".csv") for p in TABLE_DIR.glob("*.csv*"))


def use_tables(folder: str | Path) -> Path:
    """Read national tables from ``folder`` in place of the shipped ones of the same name, for
    the rest of this process and the workers it starts. Every ``.csv`` there must be named after
    a shipped table; it must be chosen before any table is read (the derived tables are cached
    under the tables' hash, so a later change would mix two sets)."""
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
    if _read.cache_info().currsize:
        raise ReferenceDataError("--tables must be chosen before any table is read")
    os.environ["STPSIM_TABLES"] = str(d.resolve())
    from .cache import data_version

    data_version.cache_clear()  # the derived tables' cache key includes the chosen tables
    return d


def table_path(name: str) -> Path:
    override = os.environ.get("STPSIM_TABLES")
    folders = ([Path(override)] if override else []) + [TABLE_DIR]
    for folder in folders:
        for suffix in (".csv", ".csv.gz"):  # large tables ship gzipped
            candidate = folder / f"{name}{suffix}"
            if candidate.exists():
                return candidate
    raise ReferenceDataError(f"reference table {name!r} not found at {TABLE_DIR / name}.csv")


@cache
def _read(path: Path, mtime: float) -> pd.DataFrame:
    # mtime is part of the key so an edited override is re-read. pandas loads on first use: a
    # process whose derived tables come from the cache (stpsim.cache) never pays for it.
    import pandas as pd

    return pd.read_csv(path, dtype_backend="numpy_nullable", keep_default_na=False, na_values=[""])


@cache
def sources() -> dict:
    """The shipped tables' provenance (``data/sources.yaml``): table -> publisher, title, period,
    licence, where found and how it was transformed. Parsed once per process."""
    return yaml.load((DATA_DIR / "sources.yaml").read_text(encoding="utf-8"), Loader=SafeLoader)


def table(name: str) -> pd.DataFrame:
    """The named table as a DataFrame (cached; treat it as read-only)."""
    path = table_path(name)
    return _read(path, path.stat().st_mtime)


def fact(name: str, measure: str, *, column: str = "measure", value: str = "value", **where: str) -> float:
    """The single value in table ``name`` whose ``column`` equals ``measure`` and whose other
    columns match ``where``. Fails loudly if there is not exactly one such row, because a silent
    wrong pick would put an unsourced number into the model."""
    df = table(name)
    mask = df[column] == measure
    for col, want in where.items():
        mask &= df[col].astype(str) == want
    rows = df[mask]
    if len(rows) != 1:
        raise ReferenceDataError(
            f"expected one row in {name}.csv with {column}={measure!r} and {where}, found {len(rows)}"
        )
    return float(rows.iloc[0][value])
