"""The run record: computed once, saved losslessly, read back by `show` and `report --result`
without running anything again."""

import io
import json
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import stpsim
from stpsim import engine, plan
from stpsim.cli import main
from stpsim.record import RecordError, RunRecord

EXAMPLES = ("greater_manchester.yaml", "cornwall.yaml", "greater_manchester_beds.yaml")


def small(name: str, draws: int, seed: int) -> plan.Plan:
    p = plan.load(f"examples/{name}")
    return p.model_copy(update={"monte_carlo": plan.MonteCarlo(draws=draws, seed=seed)})


def arrays_of(x, out: list) -> list:
    """Every array in a record's tree, in a fixed order."""
    from stpsim.record import _encode

    _encode(x, out)
    return out


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(EXAMPLES), draws=st.integers(1, 40), seed=st.integers(0, 2**31))
def test_a_record_loads_back_exactly_what_was_saved(name, draws, seed):
    record = stpsim.run(small(name, draws, seed))
    back = RunRecord.from_bytes(record.to_bytes())
    assert json.dumps(back.document, sort_keys=True) == json.dumps(record.document, sort_keys=True)
    # the document worked out again from the loaded arrays is the same document
    assert json.dumps(back.results.to_dict(), sort_keys=True) == json.dumps(
        record.results.to_dict(), sort_keys=True
    )
    before, after = arrays_of(record.results, []), arrays_of(back.results, [])
    assert len(before) == len(after) > 0
    for a, b in zip(before, after, strict=True):
        assert a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
    assert back.identity == record.identity and back.analyses == record.analyses
    assert back.plan == record.plan


def test_the_identity_names_the_plan_draws_seed_and_versions():
    record = stpsim.run(small("cornwall.yaml", 5, 7))
    ident = record.identity
    assert (ident["draws"], ident["seed"], ident["code_version"]) == (5, 7, stpsim.__version__)
    assert len(ident["plan_hash"]) == 64 and len(ident["data_version"]) == len(ident["code_hash"]) == 16
    other = stpsim.run(small("cornwall.yaml", 5, 8)).identity
    assert other["plan_hash"] != ident["plan_hash"]  # the seed is part of the plan document


def run_cli(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    path = tmp_path_factory.mktemp("record") / "gm.stpsim"
    assert (
        main(["run", "examples/greater_manchester.yaml", "--draws", "30", "--save", str(path), "--json"]) == 0
    )
    return path


def test_show_prints_exactly_what_run_printed(capsys, tmp_path):
    path = tmp_path / "gm.stpsim"
    code, ran, err = run_cli(
        capsys, "run", "examples/greater_manchester.yaml", "--draws", "30", "--save", str(path)
    )
    assert code == 0, err
    assert ran.splitlines()[-1] == f"Saved the run record to {path}"
    code, shown, err = run_cli(capsys, "show", str(path))
    assert code == 0, err
    assert shown == "\n".join(ran.splitlines()[:-1]) + "\n"
    code, ran_json, _ = run_cli(capsys, "run", "examples/greater_manchester.yaml", "--draws", "30", "--json")
    code, shown_json, _ = run_cli(capsys, "show", str(path), "--json")
    assert json.loads(shown_json) == json.loads(ran_json)


def test_report_from_a_saved_record_runs_nothing(capsys, tmp_path, saved, monkeypatch):
    def no_runs(*a, **k):
        raise AssertionError("the report ran the engine")

    monkeypatch.setattr(engine, "run", no_runs)
    monkeypatch.setattr(engine, "run_chunked", no_runs)
    monkeypatch.setattr(engine, "plan_books", no_runs)
    for name in ("gm.html", "gm.xlsx"):
        code, out, err = run_cli(capsys, "report", "--result", str(saved), "-o", str(tmp_path / name))
        assert code == 0, err
        assert (tmp_path / name).stat().st_size > 10_000


def test_a_report_from_the_record_is_the_report_from_the_plan(capsys, tmp_path, saved):
    code, _, err = run_cli(capsys, "report", "--result", str(saved), "-o", str(tmp_path / "a.xlsx"))
    assert code == 0, err
    code, _, err = run_cli(
        capsys, "report", "examples/greater_manchester.yaml", "--draws", "30", "-o", str(tmp_path / "b.xlsx")
    )
    assert code == 0, err
    import openpyxl

    a, b = (openpyxl.load_workbook(tmp_path / n) for n in ("a.xlsx", "b.xlsx"))
    assert a.sheetnames == b.sheetnames
    for name in a.sheetnames:
        rows_a = list(a[name].iter_rows(values_only=True))
        rows_b = list(b[name].iter_rows(values_only=True))
        assert rows_a == rows_b, name


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["show", "MISSING"], "stpsim: error: MISSING: cannot read (No such file or directory)\n"),
        (
            ["show", "examples/cornwall.yaml"],
            "stpsim: error: examples/cornwall.yaml: not a readable stpsim run record (BadZipFile)\n",
        ),
        (
            ["report", "examples/cornwall.yaml", "--result", "x.stpsim"],
            "stpsim: error: give one or two plan files, or --result with saved run records, not both\n",
        ),
    ],
)
def test_bad_records_and_options_get_one_line_and_exit_2(capsys, argv, message):
    code, out, err = run_cli(capsys, *argv)
    assert (code, err) == (2, message)


def test_run_refuses_to_overwrite_a_saved_record_without_force(capsys, saved):
    before = saved.read_bytes()
    code, _, err = run_cli(capsys, "run", "examples/cornwall.yaml", "--draws", "5", "--save", str(saved))
    assert code == 2
    assert err == f"stpsim: error: --save {saved}: the file already exists; give --force to overwrite it\n"
    assert saved.read_bytes() == before


def _with_manifest(data: bytes, change) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    manifest = json.loads(src.read("manifest.json"))
    change(manifest)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for item in src.namelist():
            z.writestr(item, json.dumps(manifest) if item == "manifest.json" else src.read(item))
    return buf.getvalue()


def test_a_record_naming_a_foreign_type_is_refused(saved):
    def foreign(m):
        m["tree"]["results"]["$dataclass"] = "subprocess:Popen"

    with pytest.raises(RecordError, match="may only name stpsim's own types, not 'subprocess:Popen'"):
        RunRecord.from_bytes(_with_manifest(saved.read_bytes(), foreign))


def test_a_record_of_another_format_version_says_so(saved):
    def newer(m):
        m["format_version"] = 99

    with pytest.raises(RecordError, match="record format version 99; this stpsim reads version 1"):
        RunRecord.from_bytes(_with_manifest(saved.read_bytes(), newer), "x.stpsim")


def _rezipped(data: bytes, compression: int, change=None) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for item in src.namelist():
            body = src.read(item)
            z.writestr(item, change(item, body) if change else body)
    return buf.getvalue()


def test_a_loaded_record_is_read_in_place_and_equals_a_copying_read(saved, tmp_path):
    # `load` makes the arrays views of the file's bytes (save stores them uncompressed); a copy
    # of the file that another tool deflated is read by numpy instead. Both give the arrays bit
    # for bit, writable, and neither shares memory between two arrays.
    deflated = tmp_path / "deflated.stpsim"
    deflated.write_bytes(_rezipped(saved.read_bytes(), zipfile.ZIP_DEFLATED))
    viewed, copied = RunRecord.load(saved), RunRecord.load(deflated)
    a, b = arrays_of(viewed.results, []), arrays_of(copied.results, [])
    assert len(a) == len(b) > 100
    for x, y in zip(a, b, strict=True):
        assert x.dtype == y.dtype and x.shape == y.shape and np.array_equal(x, y, equal_nan=True)
        assert x.flags.writeable
    assert not np.shares_memory(a[0], a[1])
    assert viewed.document == copied.document


def test_a_record_with_a_damaged_array_says_so(saved):
    def cut(item, body):  # one array's data cut short, its header unchanged
        return body[:-8] if item == "arrays/3.npy" else body

    with pytest.raises(RecordError, match=r"^x.stpsim: not a readable stpsim run record \(ValueError\)$"):
        RunRecord.from_bytes(_rezipped(saved.read_bytes(), zipfile.ZIP_STORED, cut), "x.stpsim")
