"""A team's own tables (a plan's ``data:`` section) as a user meets them.

The template ``stpsim data template`` writes holds the footprint's national defaults, so a plan
naming it must give exactly the results of the same plan without local data; changed figures
must move results the right way; every bad table is refused before any work, naming the file,
row, column, value and what is allowed; CSV, Parquet, Excel and inline rows are the same table;
the service reads no files; and every output marks the local figures it used.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import io
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from fastapi.testclient import TestClient

from stpsim import engine
from stpsim import plan as plan_mod
from stpsim.api.app import create_app
from stpsim.axes import ALL_SETTINGS, SETTINGS
from stpsim.cli import main
from stpsim.geography import find
from stpsim.local_data import TABLES, LocalDataError, load
from stpsim.service import Service

from .conftest_store import add_users, bearer, sqlite_url

GM = "E54000007"  # Greater Manchester
BOLTON = {"name": "Bolton", "ccgs": ["00T"]}  # a drawn footprint: one CCG
DRAWS = 20
TABLE_NAMES = tuple(TABLES)  # population, activity, unit_costs, organisations, allocations


def cli(*argv: str) -> tuple[int, str, str]:
    """Run the CLI in this process: exit code, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def error_lines(err: str) -> list[str]:
    return [ln for ln in err.splitlines() if ln.strip()]


def plan_doc(footprint, name: str = "Local figures test", data: dict | None = None) -> dict:
    doc = {
        "name": name,
        "footprints": [footprint],
        "monte_carlo": {"draws": DRAWS, "seed": 11},
        "interventions": [{"name": "geriatricians_front_door", "coverage": 0.8}],
    }
    if data is not None:
        doc["data"] = data
    return doc


def write_plan(path: Path, doc: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def template(folder: Path, *how: str) -> dict:
    code, out, err = cli("data", "template", folder, *how, "--json")
    assert code == 0, err
    return json.loads(out)


def read_table(path: Path) -> pd.DataFrame:
    """A template CSV as the text it holds (numbers kept exactly as written)."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def run_json(plan_path: Path) -> dict:
    code, out, err = cli("run", plan_path, "--json")
    assert code == 0, err
    return json.loads(out)


def assert_same_results(a, b) -> None:
    """Two engine Results with identical numbers: activity and every organisation's books."""
    for attr in ("activity", "do_nothing", "expected", "do_nothing_expected"):
        assert np.array_equal(getattr(a, attr), getattr(b, attr)), attr
    for k in a.capacity:
        assert np.array_equal(a.capacity[k], b.capacity[k]), k
    for scenario in ("footprints", "do_nothing"):
        books_a, books_b = getattr(a.finance, scenario), getattr(b.finance, scenario)
        assert len(books_a) == len(books_b) == 1
        for fa, fb in zip(books_a, books_b, strict=True):
            assert [o.id for o in fa.orgs] == [o.id for o in fb.orgs]
            for o, org in enumerate(fa.orgs):
                assert np.array_equal(fa.income[o], fb.income[o]), (scenario, org.id, "income")
                assert np.array_equal(fa.expenditure[o], fb.expenditure[o]), (scenario, org.id, "expenditure")


# ---- fixtures: Greater Manchester's template, written once by the CLI -------------------------


@pytest.fixture(scope="module")
def gm_template(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("gm") / "tables"
    doc = template(folder, "--footprint", GM)
    assert doc["footprint"] == GM
    assert doc["files"] == [str(folder / f"{t}.csv") for t in TABLE_NAMES]
    return folder


@pytest.fixture(scope="module")
def gm_national(tmp_path_factory):
    """The GM plan without a data section: its plan file and engine results."""
    path = write_plan(tmp_path_factory.mktemp("gm_nat") / "national.yaml", plan_doc(GM))
    return path, engine.run(plan_mod.load(path))


def with_tables(tmp_path: Path, gm_template: Path, changed: dict[str, pd.DataFrame]) -> Path:
    """A GM plan naming the changed tables, written beside it."""
    folder = tmp_path / "mine"
    folder.mkdir()
    for table, df in changed.items():
        df.to_csv(folder / f"{table}.csv", index=False)
    return write_plan(tmp_path / "plan.yaml", plan_doc(GM, data={t: f"mine/{t}.csv" for t in changed}))


# ---- 1. the template round trip -----------------------------------------------------------------


@pytest.mark.parametrize("footprint", [GM, BOLTON], ids=["preset GM", "drawn Bolton"])
def test_template_read_back_gives_identical_results(tmp_path, monkeypatch, footprint):
    plans = tmp_path / "plans"
    national = write_plan(plans / "national.yaml", plan_doc(footprint))
    how = ("--footprint", GM) if footprint == GM else ("--plan", str(national))
    written = template(plans / "tables", *how)
    fp = plan_mod.load(national).places[0]
    assert (written["footprint"], written["name"]) == (fp.code, fp.name)
    local = write_plan(
        plans / "local.yaml", plan_doc(footprint, data={t: f"tables/{t}.csv" for t in TABLE_NAMES})
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # file names are relative to the plan, not to where we stand

    loaded = plan_mod.load(local)
    assert loaded.places[0].local is not None
    assert_same_results(engine.run(loaded), engine.run(plan_mod.load(national)))

    doc_local, doc_national = run_json(local), run_json(national)
    used = doc_local.pop("local_data")
    assert "local_data" not in doc_national
    assert sorted(u["table"] for u in used) == sorted(TABLE_NAMES)
    assert doc_local == doc_national


# ---- 2. local figures move results the right way ---------------------------------------------


def test_doubling_the_population_doubles_activity(tmp_path, gm_template, gm_national):
    pop = read_table(gm_template / "population.csv")
    pop["population"] = [repr(2 * float(x)) for x in pop["population"]]
    res = engine.run(plan_mod.load(with_tables(tmp_path, gm_template, {"population": pop})))
    _, ref = gm_national
    k = len(SETTINGS)
    # Residents' rates are per person and the projection is linear: twice the people in
    # 2016/17 need twice the care in every year and draw.
    np.testing.assert_allclose(res.expected[..., :k], 2 * ref.expected[..., :k], rtol=1e-12)
    assert (res.do_nothing[..., :k] > ref.do_nothing[..., :k]).all()
    assert (res.activity[..., :k] > ref.activity[..., :k]).all()


def test_a_higher_unit_cost_raises_the_costs_of_who_delivers_it(tmp_path, gm_template, gm_national):
    setting = "emergency_admissions"
    uc = read_table(gm_template / "unit_costs.csv")
    row = uc["setting"] == setting
    uc.loc[row, "unit_cost_gbp"] = repr(1.25 * float(uc.loc[row, "unit_cost_gbp"].item()))
    res = engine.run(plan_mod.load(with_tables(tmp_path, gm_template, {"unit_costs": uc})))
    _, ref = gm_national
    orgs = read_table(gm_template / "organisations.csv")
    delivering = set(
        orgs.loc[(orgs["setting"] == setting) & (orgs["share"].astype(float) > 0), "organisation"]
    )
    assert delivering and all(d.startswith("acute:") for d in delivering)
    for books, ref_books in (
        (res.finance.footprints[0], ref.finance.footprints[0]),
        (res.finance.do_nothing[0], ref.finance.do_nothing[0]),
    ):
        ids = [o.id for o in books.orgs]
        assert set(delivering) <= set(ids)
        for oid in delivering:
            i = ids.index(oid)
            assert (books.own_costs[i] > ref_books.own_costs[i]).all(), oid


def test_a_higher_allocation_shrinks_the_gap(tmp_path, gm_template, gm_national):
    extra = 50e6
    alloc = read_table(gm_template / "allocations.csv")
    row = (alloc["kind"] == "CCGs") & (alloc["year"] == "2020/21")
    assert row.sum() == 1
    alloc.loc[row, "allocation_gbp"] = repr(float(alloc.loc[row, "allocation_gbp"].item()) + extra)
    res = engine.run(plan_mod.load(with_tables(tmp_path, gm_template, {"allocations": alloc})))
    _, ref = gm_national
    assert res.year_labels[-1] == "2020/21"
    for scenario in ("plan", "do_nothing"):
        saved = ref.finance.gap(scenario) - res.finance.gap(scenario)  # (draw, year)
        assert np.array_equal(saved[:, :-1], np.zeros_like(saved[:, :-1])), scenario  # earlier years
        assert (saved[:, -1] > 0).all(), scenario
        assert (saved[:, -1] <= extra * (1 + 1e-9)).all(), scenario  # never more than the money


# ---- 3. bad tables are refused before any work -------------------------------------------------


def _population_rows(t: Path) -> pd.DataFrame:
    return read_table(t / "population.csv")


def _write(df: pd.DataFrame) -> bytes:
    return df.to_csv(index=False, lineterminator="\n").encode()


def _set(df: pd.DataFrame, i: int, col: str, value: str) -> pd.DataFrame:
    df = df.copy()
    df.loc[i, col] = value
    return df


def _dup_first_activity_row(t: Path) -> bytes:
    df = read_table(t / "activity.csv")
    return _write(pd.concat([df.iloc[:1], df], ignore_index=True))


ALLOWED_SETTINGS = ", ".join(ALL_SETTINGS)
POP_HEADER = "sex, age, population"
# case -> (table, file bytes from the template folder, lines expected ({p}: the file))
BAD = {
    "missing column": (
        "population",
        lambda t: _write(_population_rows(t)[["sex", "age"]]),
        [f"{{p}}: population: missing column(s) population; expected columns {POP_HEADER}"],
    ),
    "not a number": (
        "population",
        lambda t: _write(_set(_population_rows(t), 4, "population", "lots")),  # line 6
        ["{p}: row 6, column population: 'lots' is not a number; expected a number of 0 or more"],
    ),
    "negative count": (
        "population",
        lambda t: _write(_set(_population_rows(t), 4, "population", "-5")),
        ["{p}: row 6, column population: '-5' is negative; expected 0 or more"],
    ),
    "women aged 47 missing": (
        "population",
        lambda t: _write(
            _population_rows(t).query("not (sex == 'female' and age == '47')").reset_index(drop=True)
        ),
        [
            "{p}: population: ages 47 missing for female; every age from 0 to 99 and '100+' are "
            "needed (0 to 90+)"
        ],
    ),
    "no open age group": (
        "population",
        lambda t: _write(_population_rows(t).query("not age.str.endswith('+')").reset_index(drop=True)),
        [
            f"{{p}}: population: no open age group for {sex}; expected ages 0, 1, ... and one of "
            "'90+' to '100+'"
            for sex in ("male", "female")
        ],
    ),
    "duplicate row": (
        "activity",
        _dup_first_activity_row,
        ["{p}: row 3: setting, age_band ('gp_consultations', '0-4') repeats row 2; give each once"],
    ),
    "unknown setting": (
        "unit_costs",
        lambda t: _write(_set(read_table(t / "unit_costs.csv"), 0, "setting", "gp_visits")),
        [f"{{p}}: row 2, column setting: 'gp_visits' is not a setting; allowed: {ALLOWED_SETTINGS}"],
    ),
    # Issue 20, item 5: numbers no footprint could have are refused, not run into a traceback.
    "implausible population": (
        "population",
        lambda t: _write(_set(_population_rows(t), 4, "population", "1e15")),
        ["{p}: row 6, column population: '1e15' is implausibly large; expected at most 2,000,000"],
    ),
    "nobody": (
        "population",
        lambda t: _write(_population_rows(t).assign(population="0")),
        ["{p}: population: every count is 0; a footprint needs its people"],
    ),
    "implausible unit cost": (
        "unit_costs",
        lambda t: _write(_set(read_table(t / "unit_costs.csv"), 0, "unit_cost_gbp", "1e300")),
        ["{p}: row 2, column unit_cost_gbp: '1e300' is implausibly large; expected at most 10,000,000"],
    ),
    "zero allocation": (
        "allocations",
        lambda t: _write(_set(read_table(t / "allocations.csv"), 0, "allocation_gbp", "0")),
        ["{p}: row 2, column allocation_gbp: '0' is 0; an allocation must be more than 0"],
    ),
    "empty file": (
        "population",
        lambda t: b"",
        [f"{{p}}: population: the file is empty; expected a header {POP_HEADER} and rows"],
    ),
    "header only": (
        "population",
        lambda t: b"sex,age,population\n",
        [f"{{p}}: population: no rows; expected a header {POP_HEADER} and rows"],
    ),
}


@pytest.fixture()
def no_work(monkeypatch):
    """Fail the test if a run starts."""

    def refuse(*_a, **_k):
        raise AssertionError("the engine ran although the plan's tables were bad")

    monkeypatch.setattr(engine, "run", refuse)
    monkeypatch.setattr(engine, "run_chunked", refuse)


def _bad_plan(tmp_path: Path, gm_template: Path, case: str) -> tuple[Path, Path]:
    table, make, _ = BAD[case]
    path = tmp_path / f"bad_{table}.csv"
    path.write_bytes(make(gm_template))
    plan = write_plan(tmp_path / "plan.yaml", plan_doc(GM, data={table: path.name}))
    return plan, path


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_table_is_refused_before_any_work(tmp_path, gm_template, no_work, case):
    plan, path = _bad_plan(tmp_path, gm_template, case)
    out_dir = tmp_path / "results"
    code, out, err = cli("run", plan, "--json", "--out", out_dir)
    assert code == 2, err
    assert out == ""
    lines = error_lines(err)
    expected = [f"stpsim: error: {plan}: {line.format(p=path)}" for line in BAD[case][2]]
    assert [ln for ln in expected if ln not in lines] == [], lines
    assert all(ln.startswith(f"stpsim: error: {plan}: {path}: ") for ln in lines), lines
    assert not out_dir.exists()  # nothing written


@pytest.mark.parametrize("case", ["not a number", "negative count"])
def test_a_bad_number_is_the_only_problem_reported(tmp_path, gm_template, no_work, case):
    """The age of a row whose count is bad is there: saying it is missing misleads."""
    plan, path = _bad_plan(tmp_path, gm_template, case)
    code, _, err = cli("run", plan, "--json")
    assert code == 2
    expected = [f"stpsim: error: {plan}: {line.format(p=path)}" for line in BAD[case][2]]
    assert error_lines(err) == expected


def test_a_duplicate_population_row_names_the_age_as_written(tmp_path, gm_template, no_work):
    df = _population_rows(gm_template)
    path = tmp_path / "population.csv"
    path.write_bytes(_write(pd.concat([df.iloc[:10], df.iloc[9:]], ignore_index=True)))  # line 12
    plan = write_plan(tmp_path / "plan.yaml", plan_doc(GM, data={"population": path.name}))
    code, _, err = cli("run", plan, "--json")
    assert code == 2
    assert error_lines(err) == [
        f"stpsim: error: {plan}: {path}: row 12: sex, age ('male', '9') repeats row 11; give each once"
    ]


def test_row_numbers_are_the_file_lines_even_after_a_blank_line(tmp_path, gm_template, no_work):
    lines = (gm_template / "unit_costs.csv").read_text().splitlines()
    lines.insert(3, "")  # a blank line 4
    lines[6] = lines[6].split(",")[0] + ",oops"  # line 7 of the file, row 7 in a spreadsheet
    path = tmp_path / "unit_costs.csv"
    path.write_text("\n".join(lines) + "\n")
    plan = write_plan(tmp_path / "plan.yaml", plan_doc(GM, data={"unit_costs": path.name}))
    code, _, err = cli("run", plan, "--json")
    assert code == 2
    assert error_lines(err) == [
        f"stpsim: error: {plan}: {path}: row 7, column unit_cost_gbp: 'oops' is not a number; "
        "expected a number of 0 or more"
    ]


def test_every_problem_in_every_table_is_reported_at_once(tmp_path, gm_template, no_work):
    pop = _set(_set(_population_rows(gm_template), 4, "population", "-5"), 6, "population", "x")
    uc = _set(read_table(gm_template / "unit_costs.csv"), 1, "setting", "gp_visits")
    alloc = _set(read_table(gm_template / "allocations.csv"), 0, "kind", "Everything")
    for name, df in (("population", pop), ("unit_costs", uc), ("allocations", alloc)):
        (tmp_path / f"{name}.csv").write_bytes(_write(df))
    (tmp_path / "empty.csv").write_bytes(b"")
    data = {
        "population": "population.csv",
        "unit_costs": "unit_costs.csv",
        "allocations": "allocations.csv",
        "activity": "empty.csv",
    }
    plan = write_plan(tmp_path / "plan.yaml", plan_doc(GM, data=data))
    out_dir = tmp_path / "results"
    code, out, err = cli("run", plan, "--out", out_dir)
    assert code == 2
    p = f"stpsim: error: {plan}: {tmp_path}"
    expected = [
        f"{p}/population.csv: row 6, column population: '-5' is negative; expected 0 or more",
        f"{p}/population.csv: row 8, column population: 'x' is not a number; expected a number of 0 or more",
        f"{p}/unit_costs.csv: row 3, column setting: 'gp_visits' is not a setting; "
        f"allowed: {ALLOWED_SETTINGS}",
        f"{p}/allocations.csv: row 2, column kind: 'Everything' is not an allocation; allowed: CCGs, "
        "Primary care, Specialised commissioning",
        f"{p}/empty.csv: activity: the file is empty; expected a header setting, age_band, count and rows",
    ]
    lines = error_lines(err)
    assert [ln for ln in expected if ln not in lines] == [], lines
    assert not out_dir.exists()
    assert "Wrote" not in out


# ---- 4. formats: CSV, Parquet, Excel and inline rows are the same table -------------------------


def _excel_safe(table: str, df: pd.DataFrame) -> pd.DataFrame:
    """The template with numbers Excel holds exactly (it keeps 15 significant digits); shares
    rounded so each setting's still sums to 1."""
    df = df.copy()
    num = TABLES[table][-1]
    values = df[num].astype(float)
    if table != "organisations":
        df[num] = values.round(3)
        return df
    df[num] = values.round(6)
    for _, idx in df.groupby("setting").groups.items():
        idx = list(idx)
        df.loc[idx[-1], num] = round(1.0 - df.loc[idx[:-1], num].sum(), 6)
    return df


def _same_local(a, b) -> None:
    for attr in ("population", "activity", "unit_costs"):
        x, y = getattr(a, attr), getattr(b, attr)
        assert (x is None) == (y is None), attr
        if x is not None:
            assert np.array_equal(x, y, equal_nan=True), attr
    assert a.shares == b.shares
    assert a.allocations == b.allocations
    assert [t.rows for t in a.tables] == [t.rows for t in b.tables]


@pytest.mark.parametrize("table", TABLE_NAMES)
def test_parquet_excel_and_csv_load_identically(tmp_path, gm_template, table):
    fp = find(GM)
    raw = pd.read_csv(gm_template / f"{table}.csv")  # numbers as numbers, as a user's frame
    raw.to_parquet(tmp_path / "full.parquet", index=False)
    _same_local(load({table: gm_template / f"{table}.csv"}, fp), load({table: tmp_path / "full.parquet"}, fp))

    df = _excel_safe(table, raw)
    df.to_csv(tmp_path / "t.csv", index=False)
    df.to_parquet(tmp_path / "t.parquet", index=False)
    df.to_excel(tmp_path / "t.xlsx", index=False)
    from_csv = load({table: tmp_path / "t.csv"}, fp)
    assert from_csv.tables[0].rows == len(df)
    _same_local(from_csv, load({table: tmp_path / "t.parquet"}, fp))
    _same_local(from_csv, load({table: tmp_path / "t.xlsx"}, fp))
    inline = read_table(tmp_path / "t.csv").to_dict(orient="records")
    _same_local(from_csv, load({table: {"rows": inline}}, fp))


def test_excel_and_parquet_problems_name_the_row_a_user_sees(tmp_path, gm_template):
    df = pd.read_csv(gm_template / "unit_costs.csv")
    df.loc[4, "unit_cost_gbp"] = -3.0
    df.to_excel(tmp_path / "u.xlsx", index=False)
    df.to_parquet(tmp_path / "u.parquet", index=False)
    with pytest.raises(LocalDataError) as xl:
        load({"unit_costs": tmp_path / "u.xlsx"}, find(GM))
    assert xl.value.lines == [
        f"{tmp_path / 'u.xlsx'}: row 6, column unit_cost_gbp: -3 is negative; expected 0 or more"
    ]
    with pytest.raises(LocalDataError) as pq:
        load({"unit_costs": tmp_path / "u.parquet"}, find(GM))
    assert pq.value.lines == [
        f"{tmp_path / 'u.parquet'}: record 5, column unit_cost_gbp: -3.0 is negative; expected 0 or more"
    ]


def test_an_open_group_from_90_is_enough(tmp_path, gm_template):
    df = pd.read_csv(gm_template / "population.csv", dtype={"age": str})
    age = df["age"].str.rstrip("+").astype(int)
    top = df[age >= 90].groupby("sex", sort=False)["population"].sum()
    short = pd.concat(
        [df[age < 90], pd.DataFrame({"sex": top.index, "age": "90+", "population": top.values})]
    )
    short.to_csv(tmp_path / "p.csv", index=False)
    full = load({"population": gm_template / "population.csv"}, find(GM)).population
    got = load({"population": tmp_path / "p.csv"}, find(GM)).population
    assert np.array_equal(got[:, :90], full[:, :90])
    np.testing.assert_allclose(got[:, 90:].sum(axis=1), full[:, 90:].sum(axis=1), rtol=1e-12)


def test_inline_rows_pass_validation_without_a_folder():
    rows = [{"setting": "emergency_admissions", "unit_cost_gbp": 3000}]
    plan = plan_mod.validate(plan_doc(GM, data={"unit_costs": {"rows": rows}}), base_dir=None)
    local = plan.places[0].local
    uc = local.unit_costs
    i = ALL_SETTINGS.index("emergency_admissions")
    assert uc[i] == 3000.0
    assert np.isnan(np.delete(uc, i)).all()  # the rest stay national
    assert [t.to_dict() | {"sha256": None} for t in local.tables] == [
        {"table": "unit_costs", "source": "data.unit_costs.rows", "sha256": None, "rows": 1}
    ]


def test_a_file_name_without_a_folder_is_refused(tmp_path, gm_template):
    doc = plan_doc(GM, data={"population": str(gm_template / "population.csv")})
    with pytest.raises(plan_mod.PlanError) as e:
        plan_mod.validate(doc, base_dir=None)
    assert e.value.lines == [
        "data.population: the service reads no files; give the table inline as {rows: [...]}"
    ]


# ---- 5. the API: inline tables only ------------------------------------------------------------


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    svc = Service(sqlite_url(tmp_path_factory.mktemp("api_local")))
    tokens = add_users(svc)
    client = TestClient(create_app(svc), raise_server_exceptions=False)

    def post(path: str, body: dict):
        return client.post(path, json=body, headers=bearer(tokens["gm_lead"]))

    return post


def test_api_refuses_a_file_name(api):
    resp = api("/api/plans", plan_doc(GM, data={"population": "population.csv"}))
    assert resp.status_code == 422
    assert resp.json() == {
        "detail": ["data.population: the service reads no files; give the table inline as {rows: [...]}"]
    }


def test_api_names_the_row_and_column_of_a_bad_inline_table(api):
    rows = [
        {"setting": "gp_consultations", "unit_cost_gbp": 30},
        {"setting": "emergency_admissions", "unit_cost_gbp": "dear"},
    ]
    resp = api("/api/plans", plan_doc(GM, data={"unit_costs": {"rows": rows}}))
    assert resp.status_code == 422
    assert resp.json() == {
        "detail": [
            "data.unit_costs.rows: row 2, column unit_cost_gbp: 'dear' is not a number; "
            "expected a number of 0 or more"
        ]
    }


def test_api_runs_a_good_inline_table_and_marks_it(api):
    rows = [{"setting": "emergency_admissions", "unit_cost_gbp": 3600}]
    made = api("/api/plans", plan_doc(GM, "GM local costs", data={"unit_costs": {"rows": rows}}))
    assert made.status_code == 201, made.text
    national = api("/api/plans", plan_doc(GM, "GM national"))
    assert national.status_code == 201, national.text
    runs = [api("/api/runs", {"plan_id": r.json()["id"], "version": 1}) for r in (made, national)]
    assert [r.status_code for r in runs] == [200, 200], [r.text for r in runs]
    doc, ref = (r.json() for r in runs)
    assert "local_data" not in ref
    used = doc["local_data"]
    assert [{k: v for k, v in u.items() if k != "sha256"} for u in used] == [
        {"footprint": GM, "table": "unit_costs", "source": "data.unit_costs.rows", "rows": 1}
    ]
    assert re.fullmatch(r"[0-9a-f]{64}", used[0]["sha256"])
    # 3600 is above the national unit cost: the acute trusts cost more
    last = doc["years"][-1]
    costs = {o["id"]: o["costs"][last]["mean"] for o in doc["finance"]["orgs"]}
    ref_costs = {o["id"]: o["costs"][last]["mean"] for o in ref["finance"]["orgs"]}
    acute = [k for k in costs if k.startswith("acute:")]
    assert acute and all(costs[k] > ref_costs[k] for k in acute)


# ---- 6. outputs mark the local figures ------------------------------------------------------


@pytest.fixture(scope="module")
def gm_local_plan(gm_template) -> Path:
    return write_plan(
        gm_template.parent / "local.yaml",
        plan_doc(GM, data={t: f"tables/{t}.csv" for t in TABLE_NAMES}),
    )


def test_run_json_marks_each_table_with_its_file_hash(gm_template, gm_local_plan, gm_national):
    used = run_json(gm_local_plan)["local_data"]
    assert sorted(u["table"] for u in used) == sorted(TABLE_NAMES)
    for u in used:
        path = gm_template / f"{u['table']}.csv"
        assert u["footprint"] == GM
        assert Path(u["source"]) == path.resolve()
        assert u["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert u["rows"] == len(read_table(path))
    assert "local_data" not in run_json(gm_national[0])


def _local_section(page: str) -> list[tuple[str, ...]] | None:
    m = re.search(r'<section id="local-data">(.*?)</section>', page, re.S)
    if m is None:
        return None
    assert "<h2>Local figures</h2>" in m[1]
    cells = re.findall(r"<tr>((?:<td>.*?</td>)+)</tr>", m[1])
    return [
        tuple(html.unescape(re.sub(r"</?code>", "", c)) for c in re.findall(r"<td>(.*?)</td>", row))
        for row in cells
    ]


def test_board_report_lists_the_local_figures(tmp_path, gm_template, gm_local_plan, gm_national):
    target = tmp_path / "board.html"
    code, _, err = cli("report", gm_local_plan, "-o", target, "--draws", DRAWS)
    assert code == 0, err
    rows = _local_section(target.read_text(encoding="utf-8"))
    expected = {
        (
            GM,
            t,
            f"{t}.csv",
            f"{len(read_table(gm_template / f'{t}.csv')):,}",
            hashlib.sha256((gm_template / f"{t}.csv").read_bytes()).hexdigest(),
        )
        for t in TABLE_NAMES
    }
    assert rows is not None and sorted(rows) == sorted(expected)
    plain = tmp_path / "national.html"
    code, _, err = cli("report", gm_national[0], "-o", plain, "--draws", DRAWS)
    assert code == 0, err
    page = plain.read_text(encoding="utf-8")
    assert _local_section(page) is None and 'href="#local-data"' not in page


# ---- 7. the template never overwrites without --force -------------------------------------------


def test_template_refuses_to_overwrite_without_force(tmp_path):
    folder = tmp_path / "tables"
    template(folder, "--footprint", GM)
    names = [f"{t}.csv" for t in TABLE_NAMES]
    original = {n: (folder / n).read_bytes() for n in names}
    (folder / "population.csv").write_bytes(b"sex,age,population\nmale,0,1\n")
    edited = {n: (folder / n).read_bytes() for n in names}

    code, out, err = cli("data", "template", folder, "--footprint", GM)
    assert code == 2
    assert out == ""
    assert error_lines(err) == [
        f"stpsim: error: {', '.join(str(folder / n) for n in names)}: already there; "
        "move them or give --force to replace them"
    ]
    assert {n: (folder / n).read_bytes() for n in names} == edited

    code, _, err = cli("data", "template", folder, "--footprint", GM, "--force")
    assert code == 0, err
    assert {n: (folder / n).read_bytes() for n in names} == original
    assert sorted(p.name for p in folder.iterdir()) == sorted(names)  # no temporary files left


def test_template_writes_nothing_when_one_table_is_already_there(tmp_path):
    folder = tmp_path / "tables"
    folder.mkdir()
    (folder / "allocations.csv").write_text("mine\n")
    code, _, err = cli("data", "template", folder, "--footprint", GM)
    assert code == 2
    assert error_lines(err) == [
        f"stpsim: error: {folder / 'allocations.csv'}: already there; "
        "move them or give --force to replace them"
    ]
    assert [p.name for p in folder.iterdir()] == ["allocations.csv"]
    assert (folder / "allocations.csv").read_text() == "mine\n"


def test_a_loaded_plan_reads_its_tables_once_and_its_places_read_no_file(tmp_path, gm_template, monkeypatch):
    """Issue 18: the local tables are read when the plan is loaded (the I/O boundary); asking a
    plan for its places afterwards reads nothing, even when the file has gone."""
    import stpsim.local_data as local_data

    pop = read_table(gm_template / "population.csv")
    path = with_tables(tmp_path, gm_template, {"population": pop})
    p = plan_mod.load(path)
    first = p.places
    (tmp_path / "mine" / "population.csv").unlink()

    def no_reads(*a, **k):
        raise AssertionError("places read a file")

    monkeypatch.setattr(local_data, "_read_file", no_reads)
    monkeypatch.setattr(plan_mod, "_stamp", no_reads)
    assert p.places is first and p.places[0].local is not None
    copied = p.model_copy(update={"name": "a copy"})  # the same footprints and data
    assert copied.places is first
