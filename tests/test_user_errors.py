"""What a new user trips over (issue 10, point 6): every mistake ends in one line naming the
option, the bad value and what is allowed (exit 2), a failed run in one line (exit 1), nothing
saved is overwritten or left half-written, and tables never cut a code or a number."""

import errno
import json
from importlib.metadata import version
from pathlib import Path

import openpyxl
import pytest
from rich.console import Console

import stpsim
from stpsim import cli, cli_output, executors, report, rollup
from stpsim.axes import SETTINGS
from stpsim.baseline import baseline
from stpsim.cli import main
from stpsim.engine import RunTooLarge
from stpsim.plan import PlanError
from stpsim.results import Results

EXAMPLES = Path(__file__).parent.parent / "examples"
CORNWALL = str(EXAMPLES / "cornwall.yaml")
SCHEDULER_HELP = "allowed: tcp://HOST:PORT (e.g. tcp://10.0.0.5:8786)"


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def one_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1, err
    return lines[0]


# 1. The roll-up's scheduler and workers


def test_a_malformed_scheduler_is_refused_before_any_work(capsys):
    code, out, err = run(capsys, "rollup", "--scheduler", "notaurl")
    assert (code, out) == (2, "")
    assert one_line(err) == (
        f"stpsim: error: --scheduler 'notaurl' is not a Dask scheduler address; {SCHEDULER_HELP}"
    )


def test_a_malformed_scheduler_from_the_environment_names_the_variable(capsys, monkeypatch):
    monkeypatch.setenv("STPSIM_SCHEDULER", "notaurl")
    code, _, err = run(capsys, "rollup")
    assert code == 2
    assert one_line(err) == (
        f"stpsim: error: STPSIM_SCHEDULER 'notaurl' is not a Dask scheduler address; {SCHEDULER_HELP}"
    )


def test_an_unreachable_scheduler_exits_2_with_one_line(capsys, monkeypatch):
    monkeypatch.setattr(executors, "CONNECT_TIMEOUT_S", 1)
    code, out, err = run(capsys, "rollup", "--scheduler", "tcp://127.0.0.1:1", "--draws", "2")
    assert (code, out) == (2, "")
    line = one_line(err)
    # The part in brackets is distributed's own reason, quoted as it gives it.
    assert line.startswith("stpsim: error: --scheduler tcp://127.0.0.1:1: no Dask scheduler answers there (")
    assert line.endswith("); allowed: tcp://HOST:PORT of a running scheduler")


def _explode(code, *args):
    """A footprint's work that fails in its worker, with a message over two lines."""
    raise RuntimeError("out of cheese\nredo from start")


def test_a_failed_worker_exits_1_with_one_line(capsys, monkeypatch):
    # Forked workers see the patched module; the task names its function by module path.
    monkeypatch.setattr(rollup, "footprint_work", _explode)
    code, out, err = run(capsys, "rollup", "--workers", "1", "--draws", "2")
    assert (code, out) == (1, "")
    assert one_line(err) == (
        "stpsim: error: footprint E54000005, draws 0-1 failed: out of cheese redo from start"
    )


# 2. --version and no arguments


def test_version_prints_the_package_version(capsys):
    code, out, err = run(capsys, "--version")
    assert (code, err) == (0, "")
    assert out == f"stpsim {version('stpsim')}\n" == f"stpsim {stpsim.__version__}\n"


def test_no_arguments_prints_the_help_and_succeeds(capsys):
    code, out, err = run(capsys)
    assert (code, err) == (0, "")
    assert out.startswith("Usage: stpsim") and "rollup" in out and "report" in out


# 3. Report formats, overwriting and half-written files


def test_the_report_format_follows_the_output_suffix(capsys, tmp_path):
    target = tmp_path / "x.xlsx"
    code, _, err = run(capsys, "report", CORNWALL, "-o", target, "--draws", "20")
    assert code == 0, err
    assert target.read_bytes()[:2] == b"PK", "a workbook (a zip), not HTML"
    assert openpyxl.load_workbook(target, read_only=True).sheetnames == list(report.workbook.SHEETS)
    before = target.read_bytes()
    code, _, err = run(capsys, "report", CORNWALL, "-o", target, "--draws", "20")
    assert code == 2
    assert one_line(err) == (
        f"stpsim: error: --output {target}: the file already exists; give --force to overwrite it"
    )
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["x.xlsx"]


@pytest.mark.parametrize(
    "name, fmt, message",
    [
        (
            "x.xlsx",
            "html",
            "the suffix .xlsx means xlsx, but --format is html; give a .html file name or leave out --format",
        ),
        (
            "x.html",
            "xlsx",
            "the suffix .html means html, but --format is xlsx; give a .xlsx file name or leave out --format",
        ),
        (
            "x.pdf",
            None,
            "cannot tell the format from the suffix '.pdf'; allowed: .html, .htm, .xlsx, "
            "or give --format html|xlsx",
        ),
    ],
)
def test_a_suffix_that_contradicts_the_format_is_refused(capsys, tmp_path, name, fmt, message):
    target = tmp_path / name
    code, _, err = run(capsys, "report", CORNWALL, "-o", target, *(["--format", fmt] if fmt else []))
    assert code == 2
    assert one_line(err) == f"stpsim: error: --output {target}: {message}"
    assert list(tmp_path.iterdir()) == []


def test_run_out_refuses_to_overwrite_earlier_results(capsys, tmp_path):
    (tmp_path / "results.json").write_text("earlier")
    code, _, err = run(capsys, "run", CORNWALL, "--draws", "20", "--out", tmp_path)
    assert code == 2
    assert one_line(err) == (
        f"stpsim: error: --out {tmp_path}: results.json already there; "
        "give --force to overwrite, or another folder"
    )
    assert (tmp_path / "results.json").read_text() == "earlier"


def _half_write_then_fail(results, path, *args, **kwargs):
    Path(path).write_bytes(b"PK half a workbook")
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_report_that_fails_half_way_leaves_nothing_behind(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(report.workbook, "write", _half_write_then_fail)
    target = tmp_path / "x.xlsx"
    code, _, err = run(capsys, "report", CORNWALL, "-o", target, "--draws", "20")
    assert code == 2
    assert one_line(err) == f"stpsim: error: --output {target}: cannot write (No space left on device)"
    assert list(tmp_path.iterdir()) == [], "neither a partial workbook nor a stray temporary"


def test_run_out_that_fails_half_way_keeps_the_earlier_results(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(Results, "to_excel", _half_write_then_fail)
    (tmp_path / "results.json").write_text("earlier")
    code, _, err = run(capsys, "run", CORNWALL, "--draws", "20", "--out", tmp_path, "--force")
    assert code == 2
    assert one_line(err) == f"stpsim: error: --out {tmp_path}: cannot write results (No space left on device)"
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"], "every table or none"
    assert (tmp_path / "results.json").read_text() == "earlier"
    new = tmp_path / "new"
    code, _, _ = run(capsys, "run", CORNWALL, "--draws", "20", "--out", new)
    assert code == 2 and not new.exists(), "a folder made for a failed write is taken away"


def test_a_failing_writer_in_python_leaves_the_old_report(tmp_path, monkeypatch):
    def crash(results, path):
        Path(path).write_bytes(b"PK half")
        raise RuntimeError("writer bug")

    monkeypatch.setattr(report.workbook, "write", crash)
    target = tmp_path / "r.xlsx"
    target.write_bytes(b"the earlier report")
    with pytest.raises(RuntimeError, match="writer bug"):
        report.write(None, target, fmt="xlsx")
    assert [p.name for p in tmp_path.iterdir()] == ["r.xlsx"]
    assert target.read_bytes() == b"the earlier report"


# 4. The Python API


@pytest.mark.parametrize(
    "year, message",
    [
        (1999, "year 1999 is out of range; allowed: 2016 to 2035 (2016/17 to 2035/36)"),
        (2040, "year 2040 is out of range; allowed: 2016 to 2035 (2016/17 to 2035/36)"),
        ("2040/41", "year '2040/41' is out of range; allowed: 2016/17 to 2035/36"),
        ("next year", "year 'next year' is not a financial year like 2016/17; allowed: 2016/17 to 2035/36"),
        (None, "year None is not a year; allowed: 2016 to 2035, or a label such as '2020/21'"),
    ],
)
def test_baseline_refuses_years_it_has_no_projection_for(year, message):
    with pytest.raises(ValueError) as e:
        baseline(year)
    assert str(e.value) == message


def test_baseline_takes_a_year_label_and_one_code_as_a_string():
    by_label = baseline("2020/21", codes="E54000007")
    by_number = baseline(2020, codes=["E54000007"])
    assert by_label.year == 2020 and by_label.codes == ("E54000007",)
    assert by_label.population.tolist() == by_number.population.tolist()
    assert by_label.to_dict()["year"] == "2020/21"


def test_run_takes_a_plan_mapping_and_validates_it():
    doc = {"name": "Cornwall", "footprints": ["E54000036"], "monte_carlo": {"draws": 10}}
    assert stpsim.run(doc).draws == 10
    with pytest.raises(PlanError) as e:
        stpsim.run({"name": "no footprints"})
    assert e.value.lines == ["footprints: Field required"]
    with pytest.raises(ValueError, match="cannot run a value of type int"):
        stpsim.run(5)


# 5. Tracebacks that are now one line


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_a_plan_nested_too_deeply_is_one_line(capsys, tmp_path, suffix):
    deep = "[" * 5000 + "]" * 5000
    path = tmp_path / f"deep{suffix}"
    if suffix == ".json":
        path.write_text(f'{{"name": "x", "footprints": ["E54000036"], "growth": {deep}}}')
    else:
        path.write_text(f"name: x\nfootprints: [E54000036]\ngrowth: {deep}\n")
    code, _, err = run(capsys, "run", path)
    assert code == 2
    assert one_line(err) == (
        f"stpsim: error: {path}: the plan is nested too deeply (lists or mappings inside each other "
        "thousands of levels deep); a plan needs a few levels: see examples/"
    )


def test_a_control_character_in_a_plan_is_refused_and_no_workbook_is_left(capsys, tmp_path):
    plans = tmp_path / "plans"
    plans.mkdir()
    path = plans / "nul.yaml"
    path.write_text('name: "Bad\\0name"\nfootprints: [E54000036]\n')
    target = tmp_path / "x.xlsx"
    code, _, err = run(capsys, "report", path, "--format", "xlsx", "-o", target)
    assert code == 2
    assert one_line(err) == (
        f"stpsim: error: {path}: name: 'Bad\\x00name' has the control character U+0000 at character 4; "
        "remove it (reports cannot hold it)"
    )
    assert not target.exists()


def test_a_rollup_too_large_for_memory_is_refused_with_what_fits(capsys):
    code, out, err = run(capsys, "rollup", "--draws", "100000")
    assert (code, out) == (2, "")
    assert one_line(err) == (
        "stpsim: error: --draws 100000: a roll-up of 100,000 draws x 5 years x 44 footprints would need "
        "about 7.7 GiB; the limit is 6 GiB: use at most 77,882 draws for these years"
    )
    rollup.check_size(77_882, 2020)
    with pytest.raises(RunTooLarge, match="draws 77883"):
        rollup.check_size(77_883, 2020)


# 6. Tables


def test_piped_tables_are_120_columns_or_columns(monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)
    assert cli_output._console_width() == 120
    monkeypatch.setenv("COLUMNS", "80")
    assert cli_output._console_width() == 80


@pytest.fixture()
def narrow(monkeypatch):
    monkeypatch.setattr(cli, "out", Console(width=80))


def test_codes_and_numbers_are_never_cut_in_80_columns(capsys, narrow):
    code, out, _ = run(capsys, "baseline", "--all")
    assert code == 0 and "…" not in out
    b = baseline(2016)
    admissions = SETTINGS.index("emergency_admissions")
    for i, fp in enumerate(b.codes):
        assert fp in out
        assert f"{b.population[i]:,.0f}" in out
        assert f"{b.activity[i, admissions]:,.0f}" in out
    code, out, _ = run(capsys, "footprints")
    assert code == 0 and "…" not in out
    assert max(len(line) for line in out.splitlines()) <= 80, "this table fits 80 columns"
    assert all(f"E540000{n:02d}" in out for n in range(5, 49))


def test_rollup_table_keeps_codes_and_numbers_whole_in_80_columns(capsys, narrow):
    code, out, _ = run(capsys, "rollup", "--draws", "10", "--serial")
    assert code == 0 and "…" not in out
    assert all(f"E540000{n:02d}" in out for n in range(5, 49))


def test_incentive_columns_are_headed_by_organisations_names(capsys, monkeypatch):
    monkeypatch.setattr(cli, "out", Console(width=400))  # room for every header on one line
    code, out, _ = run(capsys, "incentives", CORNWALL, "--draws", "20")
    assert code == 0
    assert "Royal Cornwall Hospitals NHS Trust" in out and "acute:REF" not in out
    code, doc, _ = run(capsys, "incentives", CORNWALL, "--draws", "20", "--json")
    orgs = {row["org"] for row in json.loads(doc)["matrices"][0]["incentives"]}
    assert "acute:REF" in orgs, "--json keeps the ids"


def test_the_package_version_matches_pyproject():
    import tomllib
    from pathlib import Path

    import stpsim

    meta = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    assert stpsim.__version__ == meta["project"]["version"]


def test_json_output_is_strict_and_names_a_number_that_is_not_finite():
    """Issue 20, item 5: no bare NaN reaches a JSON reader; the refusal names where it is."""
    import json

    from stpsim.cli import strict_json
    from stpsim.cli_output import RunFailed

    assert json.loads(strict_json({"a": [1.0, {"b": 2.5}]})) == {"a": [1.0, {"b": 2.5}]}
    with pytest.raises(RunFailed) as e:
        strict_json({"finance": {"orgs": [{"surplus": 1.0}, {"surplus": float("nan")}]}})
    assert str(e.value).startswith("the results hold a number that is not finite at finance.orgs.1.surplus: ")
    with pytest.raises(RunFailed, match="not finite at x"):
        strict_json({"x": float("inf")})


def test_outputs_are_created_exclusively_and_never_replace_a_device(capsys, tmp_path):
    """Issue 20, item 5: a file that appears while a run writes is not overwritten without
    --force (exclusive creation, not check-then-write); a device or pipe is never replaced, even
    with --force; a missing folder is made."""
    import os

    from stpsim.results import NotARegularFile, atomic_files, overwriting

    target = tmp_path / "deep" / "er" / "r.json"
    target.parent.mkdir(parents=True)
    with pytest.raises(FileExistsError), overwriting(False), atomic_files([target]) as (tmp,):
        tmp.write_text("mine")
        target.write_text("theirs, written meanwhile")
    assert target.read_text() == "theirs, written meanwhile"
    assert [p.name for p in target.parent.iterdir()] == ["r.json"]  # no temporary left
    with overwriting(True), atomic_files([target]) as (tmp,):
        tmp.write_text("mine")
    assert target.read_text() == "mine"
    fifo = tmp_path / "pipe.html"
    os.mkfifo(fifo)
    with pytest.raises(NotARegularFile), atomic_files([fifo]) as (tmp,):
        tmp.write_text("x")
    plan = str(Path(__file__).parent.parent / "examples" / "cornwall.yaml")
    assert main(["report", plan, "--draws", "20", "-o", str(fifo), "--force"]) == 2
    err = capsys.readouterr().err.strip()
    assert (
        err == f"stpsim: error: --output {fifo}: is not a regular file (a device or a pipe); give a file name"
    )
    assert main(["run", plan, "--draws", "20", "--save", str(tmp_path / "a" / "b" / "run.stpsim")]) == 0
    assert (tmp_path / "a" / "b" / "run.stpsim").is_file()


@pytest.mark.parametrize(
    ("make", "line"),
    [
        (
            lambda d: (d / "bomb.yaml").write_text(
                'a: &a ["lol", "lol"]\nb: &b [*a, *a]\nc: [*b, *b]\nname: x\n', encoding="utf-8"
            ),
            "line 2: YAML aliases (*a) are not allowed in a plan; write the value out",
        ),
        (
            lambda d: (d / "big.yaml").write_bytes(b"# " + b"a" * (2**20 + 10)),
            "the file is larger than 1024 KiB; a plan is far smaller",
        ),
    ],
)
def test_a_plan_file_that_would_take_the_machine_is_refused_in_one_line(capsys, tmp_path, make, line):
    """Issue 20, item 5: a YAML alias bomb and an enormous file are refused before parsing them
    into memory; so is a device (``stpsim run /dev/zero``)."""
    make(tmp_path)
    path = next(tmp_path.iterdir())
    assert main(["run", str(path)]) == 2
    assert capsys.readouterr().err.strip() == f"stpsim: error: {path}: {line}"
    assert main(["run", "/dev/zero"]) == 2
    assert capsys.readouterr().err.strip() == (
        "stpsim: error: /dev/zero: cannot read the file: "
        "it is not a regular file but a device, a pipe or a folder"
    )


def test_plans_whose_numbers_no_footprint_could_have_are_refused_naming_the_field():
    """Issue 20, item 5: a preset and a drawn footprint that overlap (Bolton counted twice), and
    closing more beds than a trust has, are refused before any work."""
    from stpsim import plan

    with pytest.raises(plan.PlanError) as e:
        plan.validate(
            {
                "name": "x",
                "footprints": ["E54000007", {"name": "Bolton area", "local_authorities": ["Bolton"]}],
            }
        )
    assert e.value.lines == [
        "footprints: Greater Manchester and Bolton area share 177 small areas (285,372 people); a plan's "
        "footprints must not overlap, or their people are counted twice"
    ]
    beds = [
        {"trust": "RMC", "year": "2018/19", "change": -400},
        {"trust": "RMC", "year": "2019/20", "change": -300},  # 700 closed by then, of about 600
    ]
    with pytest.raises(plan.PlanError) as e:
        plan.validate({"name": "x", "footprints": ["E54000007"], "service_changes": {"beds": beds}})
    assert len(e.value.lines) == 1
    assert e.value.lines[0].startswith(
        "service_changes.beds.1.change: -300 takes Bolton NHS Foundation Trust's "
    )
    assert (
        "closures to 700 beds by 2019/20, more than the 600 general and acute beds it had in 2016/17"
        in (e.value.lines[0])
    )


def test_the_incentive_matrix_fits_the_terminal_in_parts(capsys, monkeypatch):
    """Issue 20: the matrix has a column per organisation (185 columns for Greater Manchester);
    too wide for the terminal, it prints as several tables that fit, every number whole."""
    monkeypatch.setattr(cli, "out", Console(width=120, markup=False))
    plan = str(Path(__file__).parent.parent / "examples" / "greater_manchester.yaml")
    assert main(["incentives", plan, "--draws", "20"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert max(len(line) for line in lines) <= 120
    assert any("(part 2 of " in line for line in lines)


def test_a_scheduler_address_that_accepts_and_never_speaks_dask_times_out(capsys, monkeypatch):
    """Issue 20, item 5: a service that accepts the connection and then says nothing (a web
    server, say) is given up on within the connect timeout, in one line; it hung before."""
    import socket
    import threading
    import time

    monkeypatch.setattr(executors, "CONNECT_TIMEOUT_S", 1)
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    held = []
    threading.Thread(target=lambda: held.append(server.accept()), daemon=True).start()
    start = time.perf_counter()
    code, out, err = run(capsys, "rollup", "--scheduler", f"tcp://127.0.0.1:{port}", "--draws", "2")
    assert time.perf_counter() - start < 20
    assert (code, out) == (2, "")
    assert one_line(err) == (
        f"stpsim: error: --scheduler tcp://127.0.0.1:{port}: no Dask scheduler answers there "
        "(no Dask handshake within 6 s); allowed: tcp://HOST:PORT of a running scheduler"
    )
    server.close()
