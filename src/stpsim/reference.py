"""Shipped reference tables: loading, overrides and single-fact look-ups.

Every table lives in ``stpsim/data/tables`` with its provenance in ``data/sources.yaml``. A user
can replace any table with local data of the same schema by pointing ``STPSIM_TABLES`` at a
folder holding a file of the same name; nothing here reads outside the package otherwise.
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
