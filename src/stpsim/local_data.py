"""A team's own tables in place of the national defaults, for one footprint.

A plan's ``data:`` section names up to five tables, each a file (CSV, Parquet or Excel, read by
the CLI; relative to the plan file) or inline ``{rows: [...]}`` (the API reads no server
files). Each has the schema ``stpsim data template`` writes, filled with the footprint's
national defaults:

- ``population``: ``sex, age, population``: mid-2016 residents; ages 0, 1, ... and an open
  group "K+" (K from 90 to 100), split over K..100+ by England's structure;
- ``activity``: ``setting, age_band, count`` (2016/17 activity) or ``rate_per_1000`` people in
  the band: each setting given must cover every five-year band 0-4 .. 90+; the model's rates for
  the footprint are scaled band by band to match, and then follow its population;
- ``unit_costs``: ``setting, unit_cost_gbp`` (2016/17 prices);
- ``organisations``: ``organisation, setting, share``: who delivers each setting (each
  setting's shares sum to 1); organisations by id, trust code or name;
- ``allocations``: ``year, kind, allocation_gbp``: the footprint's allocations 2016/17..2020/21
  (kinds: CCGs, Primary care, Specialised commissioning); later years grow as England's do.

Every problem in every table is reported at once, naming the file, row, column, value and what
is allowed, before any work; nothing partial is loaded.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .axes import AGES, ALL_SETTINGS, BAND_LABELS, BASE_YEAR, MAX_AGE, SETTINGS, SEXES, year_label

TABLES: dict[str, tuple[str, ...]] = {
    "population": ("sex", "age", "population"),
    "activity": ("setting", "age_band", "count"),
    "unit_costs": ("setting", "unit_cost_gbp"),
    "organisations": ("organisation", "setting", "share"),
    "allocations": ("year", "kind", "allocation_gbp"),
}
ALTERNATIVES = {"activity": {"count": "rate_per_1000"}}
OPTIONAL = {"organisations": ("name",)}  # written by the template for people; not read
ALLOCATION_KINDS = ("CCGs", "Primary care", "Specialised commissioning")
ALLOCATION_YEARS = tuple(range(BASE_YEAR, 2021))
SUFFIXES = (".csv", ".parquet", ".xlsx")
MAX_ROWS = 100_000


class LocalDataError(ValueError):
    """Bad local tables: ``lines`` holds every problem, each naming file, row, column and value."""

    def __init__(self, lines: list[str]):
        self.lines = lines
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class LocalTable:
    """Provenance of one local table."""

    table: str
    source: str  # the file, or "inline"
    sha256: str
    rows: int

    def to_dict(self) -> dict:
        return {"table": self.table, "source": self.source, "sha256": self.sha256, "rows": self.rows}


@dataclass(frozen=True, eq=False)
class LocalData:
    """A footprint's local figures, parsed and checked."""

    population: np.ndarray | None = None  # (sex, age) mid-2016
    activity: np.ndarray | None = None  # (setting, band) factor on the national rates; 1 where national
    unit_costs: np.ndarray | None = None  # (all setting,) NaN where national
    shares: dict[str, dict[str, float]] = field(default_factory=dict)  # setting -> org id -> share
    allocations: dict[tuple[str, int], float] = field(default_factory=dict)
    tables: tuple[LocalTable, ...] = ()

    def to_list(self) -> list[dict]:
        return [t.to_dict() for t in self.tables]


# ---- reading --------------------------------------------------------------------------------


@dataclass
class _Raw:
    table: str
    source: str
    columns: list[str]
    rows: list[tuple[int, dict[str, Any]]]  # (row number as the user sees it, values)
    sha256: str
    row_word: str = "row"


def _read_file(table: str, path: Path) -> _Raw:
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise LocalDataError(
            [f"{path}: {table}: files must be {', '.join(SUFFIXES)}; got {suffix or 'no suffix'!r}"]
        )
    try:
        data = path.read_bytes()
    except OSError as e:
        raise LocalDataError([f"{path}: {table}: cannot be read ({e.strerror or e})"]) from None
    digest = hashlib.sha256(data).hexdigest()
    import pandas as pd

    try:
        if suffix == ".csv":
            # Blank lines are kept (and dropped below) so row numbers stay the file's line numbers.
            df = pd.read_csv(path, dtype=str, keep_default_na=False, skip_blank_lines=False)
            first = 2  # the header is line 1
        elif suffix == ".parquet":
            df = pd.read_parquet(path)
            first = 1
        else:
            df = pd.read_excel(path, dtype=object, engine="openpyxl")
            first = 2
    except pd.errors.EmptyDataError:
        raise LocalDataError(
            [f"{path}: {table}: the file is empty; expected a header {', '.join(TABLES[table])} and rows"]
        ) from None
    except Exception as e:  # a reader's own message says what is wrong with the file
        raise LocalDataError(
            [f"{path}: {table}: not a readable {suffix[1:]} file ({type(e).__name__}: {e})"]
        ) from None
    if len(df) > MAX_ROWS:
        raise LocalDataError([f"{path}: {table}: {len(df):,} rows; at most {MAX_ROWS:,}"])
    cols = [str(c).strip() for c in df.columns]
    records = df.to_dict(orient="records")
    rows = [
        (first + i, {c: r[k] for c, k in zip(cols, df.columns, strict=True)})
        for i, r in enumerate(records)
        if any(_text(v) for v in r.values())  # a blank line is no row
    ]
    word = "record" if suffix == ".parquet" else "row"
    return _Raw(table, str(path), cols, rows, digest, word)


def _read_inline(table: str, spec: dict) -> _Raw:
    rows = spec.get("rows")
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise LocalDataError([f"data.{table}.rows: give a list of rows, each a mapping of column to value"])
    if len(rows) > MAX_ROWS:
        raise LocalDataError([f"data.{table}.rows: {len(rows):,} rows; at most {MAX_ROWS:,}"])
    cols = list(dict.fromkeys(str(k) for r in rows for k in r))
    digest = hashlib.sha256(json.dumps(rows, sort_keys=True, default=str).encode()).hexdigest()
    return _Raw(table, f"data.{table}.rows", cols, [(i + 1, r) for i, r in enumerate(rows)], digest)


# ---- checking -------------------------------------------------------------------------------


class _Problems(list):
    def at(self, raw: _Raw, n: int, column: str, value: Any, expected: str) -> None:
        self.append(f"{raw.source}: {raw.row_word} {n}, column {column}: {value!r} {expected}")


def _text(v: Any) -> str:
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v).strip()


# The most a value may be: far beyond any real footprint's, well short of overflowing the books.
# England had about 450,000 people of any one sex and single year of age in 2016; the dearest
# unit in the schedules costs tens of thousands of pounds; England's CCG allocation was GBP 74bn.
HIGHEST = {
    "population": 2_000_000.0,
    "unit_cost_gbp": 10_000_000.0,
    "allocation_gbp": 100e9,
}


def _number(raw: _Raw, p: _Problems, n: int, col: str, v: Any, low: float = 0.0) -> float | None:
    text = _text(v)
    try:
        x = float(text.replace(",", "")) if isinstance(v, str) else float(v)
    except (TypeError, ValueError):
        p.at(raw, n, col, v, "is not a number; expected a number" + (" of 0 or more" if low == 0 else ""))
        return None
    if not math.isfinite(x):
        p.at(raw, n, col, v, "is not a finite number")
        return None
    if x < low:
        p.at(raw, n, col, v, f"is negative; expected {low:g} or more")
        return None
    high = HIGHEST.get(col)
    if high is not None and x > high:
        p.at(raw, n, col, v, f"is implausibly large; expected at most {high:,.0f}")
        return None
    return x


def _columns(raw: _Raw, p: _Problems) -> list[str] | None:
    want = list(TABLES[raw.table])
    for a, b in ALTERNATIVES.get(raw.table, {}).items():
        if b in raw.columns and a not in raw.columns:
            want[want.index(a)] = b
    missing = [c for c in want if c not in raw.columns]
    extra = [c for c in raw.columns if c not in want and c not in OPTIONAL.get(raw.table, ())]
    alt = ALTERNATIVES.get(raw.table, {})
    allowed = ", ".join(TABLES[raw.table]) + "".join(f" (or {b} for {a})" for a, b in alt.items())
    if missing:
        p.append(
            f"{raw.source}: {raw.table}: missing column(s) {', '.join(missing)}; expected columns {allowed}"
        )
    if extra:
        p.append(
            f"{raw.source}: {raw.table}: unknown column(s) {', '.join(extra)}; expected columns {allowed}"
        )
    if not raw.rows:
        p.append(
            f"{raw.source}: {raw.table}: no rows; expected a header {', '.join(TABLES[raw.table])} and rows"
        )
    return None if (missing or extra or not raw.rows) else want


def _duplicates(raw: _Raw, p: _Problems, key_cols: tuple[str, ...], keys: list[tuple[int, tuple]]) -> None:
    seen: dict[tuple, int] = {}
    for n, k in keys:
        if k in seen:
            p.append(
                f"{raw.source}: {raw.row_word} {n}: {', '.join(key_cols)} {k!r} "
                f"repeats {raw.row_word} {seen[k]}; give each once"
            )
        else:
            seen[k] = n


def _age(text: str) -> tuple[int, bool] | None:
    """'37' -> (37, False); '90+' -> (90, True)."""
    t = text.strip()
    open_ = t.endswith("+")
    try:
        a = int(float(t.rstrip("+")))
    except ValueError:
        return None
    return a, open_


def _population(raw: _Raw, p: _Problems) -> np.ndarray | None:
    from .demography import england_base

    if _columns(raw, p) is None:
        return None
    before = len(p)
    out = np.zeros((len(SEXES), len(AGES)))
    opens: dict[int, int] = {}
    got: dict[int, set[int]] = {0: set(), 1: set()}
    keys = []
    for n, r in raw.rows:
        sex = _text(r["sex"]).lower()
        if sex not in SEXES:
            p.at(raw, n, "sex", r["sex"], f"is not a sex; allowed: {', '.join(SEXES)}")
            continue
        s = SEXES.index(sex)
        age = _age(_text(r["age"]))
        if age is None or not 0 <= age[0] <= MAX_AGE or (age[1] and age[0] < 90):
            p.at(
                raw,
                n,
                "age",
                r["age"],
                f"is not an age; allowed: 0 to {MAX_AGE - 1}, and one open group from '90+' to '{MAX_AGE}+'",
            )
            continue
        x = _number(raw, p, n, "population", r["population"])
        keys.append((n, (sex, _text(r["age"]))))
        a, is_open = age
        got[s].add(a)
        if x is None:
            continue
        if is_open or a == MAX_AGE:
            if s in opens and opens[s] != a:
                p.append(
                    f"{raw.source}: {raw.row_word} {n}, column age: a "
                    f"second open group '{a}+' for {sex}; give one"
                )
            opens[s] = a
            share = england_base()[s, a:] / england_base()[s, a:].sum()
            out[s, a:] += x * share
        else:
            out[s, a] += x
    _duplicates(raw, p, ("sex", "age"), keys)
    for s, sex in enumerate(SEXES):
        top = opens.get(s)
        if top is None:
            p.append(
                f"{raw.source}: population: no open age group for {sex}; expected "
                f"ages 0, 1, ... and one of '90+' to '{MAX_AGE}+'"
            )
            continue
        missing = sorted(set(range(top)) - got[s])
        if missing:
            shown = ", ".join(map(str, missing[:8])) + (" ..." if len(missing) > 8 else "")
            p.append(
                f"{raw.source}: population: ages {shown} missing for {sex}; every "
                f"age from 0 to {top - 1} and '{top}+' are needed (0 to 90+)"
            )
    if len(p) == before and out.sum() <= 0:
        p.append(f"{raw.source}: population: every count is 0; a footprint needs its people")
    return out if len(p) == before else None


def _activity(raw: _Raw, p: _Problems, fp_population: np.ndarray) -> np.ndarray | None:
    want = _columns(raw, p)
    if want is None:
        return None
    before = len(p)
    measure = want[2]
    out = np.full((len(SETTINGS), len(BAND_LABELS)), np.nan)
    by_band = _band_population(fp_population)
    keys = []
    for n, r in raw.rows:
        setting, band = _text(r["setting"]), _text(r["age_band"])
        ok = True
        if setting not in SETTINGS:
            p.at(raw, n, "setting", r["setting"], f"is not a setting; allowed: {', '.join(SETTINGS)}")
            ok = False
        if band not in BAND_LABELS:
            p.at(raw, n, "age_band", r["age_band"], f"is not an age band; allowed: {', '.join(BAND_LABELS)}")
            ok = False
        x = _number(raw, p, n, measure, r[measure])
        if not ok:
            continue
        keys.append((n, (setting, band)))
        if x is not None:
            b = BAND_LABELS.index(band)
            out[SETTINGS.index(setting), b] = x if measure == "count" else x / 1000.0 * by_band[b]
    _duplicates(raw, p, ("setting", "age_band"), keys)
    for k, setting in enumerate(SETTINGS):
        given = ~np.isnan(out[k])
        if given.any() and not given.all():
            missing = [BAND_LABELS[b] for b in np.flatnonzero(~given)]
            p.append(
                f"{raw.source}: activity: {setting} lacks age band(s) {', '.join(missing)}; "
                f"a setting given must cover every band 0-4 to 90+"
            )
    return out if len(p) == before else None


def _factors(raw: _Raw, p: _Problems, counts: np.ndarray, national: np.ndarray) -> np.ndarray:
    """Local counts over the national rates' counts for the same people; 1 where not given."""
    impossible = (national <= 0) & (counts > 0)
    for k, b in zip(*np.nonzero(impossible), strict=True):
        p.append(
            f"{raw.source}: activity: {SETTINGS[k]} {BAND_LABELS[b]}: "
            f"{counts[k, b]:g} given, but the national "
            "rates give none at these ages, so there is no rate to scale; give 0"
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where(np.isnan(counts) | (national <= 0), 1.0, counts / national)
    return f


def _band_population(pop: np.ndarray) -> np.ndarray:
    from .axes import five_year_band_of_age

    return np.bincount(five_year_band_of_age(), weights=pop.sum(axis=0), minlength=len(BAND_LABELS))


def _unit_costs(raw: _Raw, p: _Problems) -> np.ndarray | None:
    if _columns(raw, p) is None:
        return None
    before = len(p)
    out = np.full(len(ALL_SETTINGS), np.nan)
    keys = []
    for n, r in raw.rows:
        setting = _text(r["setting"])
        if setting not in ALL_SETTINGS:
            p.at(raw, n, "setting", r["setting"], f"is not a setting; allowed: {', '.join(ALL_SETTINGS)}")
            continue
        keys.append((n, (setting,)))
        x = _number(raw, p, n, "unit_cost_gbp", r["unit_cost_gbp"])
        if x is not None:
            out[ALL_SETTINGS.index(setting)] = x
    _duplicates(raw, p, ("setting",), keys)
    return out if len(p) == before else None


def _organisations(raw: _Raw, p: _Problems, orgs: list) -> dict[str, dict[str, float]] | None:
    if _columns(raw, p) is None:
        return None
    before = len(p)
    out: dict[str, dict[str, float]] = {}
    keys = []
    allowed = ", ".join(o.id for o in orgs if o.kind != "external")
    for n, r in raw.rows:
        setting = _text(r["setting"])
        if setting not in ALL_SETTINGS:
            p.at(raw, n, "setting", r["setting"], f"is not a setting; allowed: {', '.join(ALL_SETTINGS)}")
            continue
        hits = _organisation(_text(r["organisation"]), orgs)
        if len(hits) != 1:
            p.at(
                raw,
                n,
                "organisation",
                r["organisation"],
                f"is not one of the footprint's organisations; allowed: {allowed}",
            )
            continue
        x = _number(raw, p, n, "share", r["share"])
        keys.append((n, (hits[0].id, setting)))
        if x is not None:
            if x > 1:
                p.at(raw, n, "share", r["share"], "is more than 1; expected a share from 0 to 1")
                continue
            out.setdefault(setting, {})[hits[0].id] = x
    _duplicates(raw, p, ("organisation", "setting"), keys)
    for setting, split in out.items():
        if abs(sum(split.values()) - 1.0) > 1e-6:
            p.append(
                f"{raw.source}: organisations: shares of {setting} sum "
                f"to {sum(split.values()):.6g}; they must sum to 1"
            )
    return out if len(p) == before else None


def _organisation(text: str, orgs: list) -> list:
    """The footprint's organisation by id (acute:RMC, community), trust code (RMC) or name."""
    key = text.casefold()
    return [
        o
        for o in orgs
        if o.kind != "external"
        and key in (o.id.casefold(), o.id.removeprefix("acute:").casefold(), o.name.casefold())
    ]


def _allocations(raw: _Raw, p: _Problems) -> dict[tuple[str, int], float] | None:
    from .axes import parse_year

    if _columns(raw, p) is None:
        return None
    before = len(p)
    out: dict[tuple[str, int], float] = {}
    keys = []
    years = ", ".join(year_label(y) for y in ALLOCATION_YEARS)
    for n, r in raw.rows:
        kind = _text(r["kind"])
        if kind not in ALLOCATION_KINDS:
            p.at(raw, n, "kind", r["kind"], f"is not an allocation; allowed: {', '.join(ALLOCATION_KINDS)}")
            continue
        try:
            year = parse_year(_text(r["year"]))
        except ValueError:
            year = None
        if year not in ALLOCATION_YEARS:
            p.at(raw, n, "year", r["year"], f"is not a year the allocations cover; allowed: {years}")
            continue
        keys.append((n, (year_label(year), kind)))
        x = _number(raw, p, n, "allocation_gbp", r["allocation_gbp"])
        if x is not None and x <= 0:
            p.at(raw, n, "allocation_gbp", r["allocation_gbp"], "is 0; an allocation must be more than 0")
        elif x is not None:
            out[(kind, year)] = x
    _duplicates(raw, p, ("year", "kind"), keys)
    for kind in sorted({k for k, _ in out}):
        missing = [year_label(y) for y in ALLOCATION_YEARS if (kind, y) not in out]
        if missing:
            p.append(
                f"{raw.source}: allocations: {kind} lacks year(s) "
                f"{', '.join(missing)}; give every year {years}"
            )
    return out if len(p) == before else None


def load(spec: dict[str, Any], fp, allow_files: bool = True) -> LocalData:
    """Read and check every table ``spec`` names for footprint ``fp``; LocalDataError lists
    every problem at once."""
    from .organisations import organisations

    problems = _Problems()
    raws: dict[str, _Raw] = {}
    for table, source in spec.items():
        if table not in TABLES:
            problems.append(f"data.{table}: unknown table; allowed: {', '.join(TABLES)}")
            continue
        try:
            if isinstance(source, dict):
                raws[table] = _read_inline(table, source)
            elif isinstance(source, str | os.PathLike):
                if not allow_files:
                    problems.append(
                        f"data.{table}: the service reads no files; give the table inline as {{rows: [...]}}"
                    )
                    continue
                raws[table] = _read_file(table, Path(source))
            else:
                problems.append(f"data.{table}: {source!r} is not a file name or {{rows: [...]}}")
        except LocalDataError as e:
            problems += e.lines
    population = _population(raws["population"], problems) if "population" in raws else None
    pop = population if population is not None else default_population(fp)
    activity = _activity(raws["activity"], problems, pop) if "activity" in raws else None
    if activity is not None:
        activity = _factors(raws["activity"], problems, activity, default_activity(fp, pop))
    unit_costs = _unit_costs(raws["unit_costs"], problems) if "unit_costs" in raws else None
    shares = (
        _organisations(raws["organisations"], problems, organisations(fp))
        if "organisations" in raws
        else None
    )
    allocations = _allocations(raws["allocations"], problems) if "allocations" in raws else None
    if problems:
        raise LocalDataError(list(problems))
    return LocalData(
        population=population,
        activity=activity,
        unit_costs=unit_costs,
        shares=shares or {},
        allocations=allocations or {},
        tables=tuple(LocalTable(t, r.source, r.sha256, len(r.rows)) for t, r in raws.items()),
    )


# ---- national defaults and the template -------------------------------------------------------


def default_population(fp) -> np.ndarray:
    """The footprint's national-default mid-2016 population by (sex, age)."""
    from .population import bands_2016, by_age_from_bands

    return by_age_from_bands(bands_2016([fp.lsoas]))[0]


def default_activity(fp, population: np.ndarray | None = None) -> np.ndarray:
    """(setting, band) the national rates' 2016/17 activity for the footprint's people."""
    from . import activity
    from .axes import five_year_band_of_age
    from .population import cells_of

    pop = default_population(fp) if population is None else population
    by_age = activity.demand_by_age(cells_of(pop))  # (setting, age)
    onehot = np.eye(len(BAND_LABELS))[five_year_band_of_age()]
    return by_age @ onehot


def template_rows(fp) -> dict[str, list[dict]]:
    """Each table's rows filled with ``fp``'s national defaults (floats written in full, so the
    template read back gives identical numbers)."""
    from . import costs
    from .finance.allocations import allocation_share, national_allocation
    from .organisations import footprint_shares, organisations

    pop = default_population(fp)
    rows: dict[str, list[dict]] = {}
    rows["population"] = [
        {"sex": sex, "age": label, "population": repr(float(pop[s, a]))}
        for s, sex in enumerate(SEXES)
        for a, label in enumerate(str(x) for x in AGES[:-1])
    ] + [
        {"sex": sex, "age": f"{MAX_AGE}+", "population": repr(float(pop[s, MAX_AGE]))}
        for s, sex in enumerate(SEXES)
    ]
    act = default_activity(fp, pop)
    rows["activity"] = [
        {"setting": k, "age_band": b, "count": repr(float(act[i, j]))}
        for i, k in enumerate(SETTINGS)
        for j, b in enumerate(BAND_LABELS)
    ]
    uc = costs.unit_cost_vector()
    rows["unit_costs"] = [
        {"setting": k, "unit_cost_gbp": repr(float(uc[i]))} for i, k in enumerate(ALL_SETTINGS)
    ]
    orgs = organisations(fp)
    shares = footprint_shares(fp, orgs)
    rows["organisations"] = [
        {"organisation": o.id, "name": o.name, "setting": k, "share": repr(float(shares[i, j]))}
        for j, k in enumerate(ALL_SETTINGS)
        for i, o in enumerate(orgs)
        if shares[i, j] > 0
    ]
    years = np.array(ALLOCATION_YEARS)
    zero = np.zeros(1)
    share = {kind: allocation_share(kind, fp.lsoas, years) for kind in ALLOCATION_KINDS}
    rows["allocations"] = [
        {
            "year": year_label(int(y)),
            "kind": kind,
            "allocation_gbp": repr(float((national_allocation(kind, years, zero) * share[kind])[0, t])),
        }
        for kind in ALLOCATION_KINDS
        for t, y in enumerate(years)
    ]
    return rows


def write_template(fp, folder: Path, force: bool = False) -> list[Path]:
    """Write each table's CSV template for ``fp`` into ``folder``; refuses to overwrite files
    unless ``force``. Each file is written to a temporary name and renamed."""
    import csv
    import io

    folder.mkdir(parents=True, exist_ok=True)
    rows = template_rows(fp)
    targets = [folder / f"{t}.csv" for t in rows]
    if not force:
        existing = [str(t) for t in targets if t.exists()]
        if existing:
            raise LocalDataError(
                [f"{', '.join(existing)}: already there; move them or give --force to replace them"]
            )
    written = []
    for (table, table_rows), target in zip(rows.items(), targets, strict=True):
        buf = io.StringIO()
        cols = list(TABLES[table]) + [c for c in OPTIONAL.get(table, ()) if c]
        cols = [c for c in cols if any(c in r for r in table_rows)]
        w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
        w.writeheader()
        w.writerows(table_rows)
        fd, tmp = tempfile.mkstemp(prefix=f".{table}.", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(buf.getvalue())
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        written.append(target)
    return written
