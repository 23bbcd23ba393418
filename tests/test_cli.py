"""The command line as a user meets it: documented JSON shapes, readable tables, and one-line
errors with exit status 2 for bad input."""

import json
import re
import subprocess
import sys

import pytest
from rich.console import Console

from stpsim import cli
from stpsim.axes import BAND_LABELS, SETTINGS
from stpsim.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_baseline_json_has_the_documented_shape(capsys):
    code, out, err = run(capsys, "baseline", "--all", "--by", "age", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["year"] == "2016/17"
    eng = doc["england"]
    assert eng["population"] == 55_268_067
    assert list(eng["activity"]) == list(SETTINGS)
    assert [b["age_band"] for b in eng["by_age"]] == list(BAND_LABELS)
    assert sum(b["population"] for b in eng["by_age"]) == pytest.approx(55_268_067, abs=len(BAND_LABELS))
    for k in SETTINGS:
        assert sum(b["activity"][k] for b in eng["by_age"]) == pytest.approx(eng["activity"][k], rel=1e-6)
    assert len(doc["footprints"]) == 44
    fp = doc["footprints"][0]
    assert set(fp) >= {"code", "name", "population", "activity"}
    assert sum(f["population"] for f in doc["footprints"]) == 55_268_067


def test_baseline_for_chosen_footprints_and_a_projected_year(capsys):
    code, out, _ = run(
        capsys,
        "baseline",
        "--footprint",
        "E54000007",
        "-f",
        "Cornwall and the Isles of Scilly",
        "--year",
        "2020/21",
        "--json",
    )
    assert code == 0
    doc = json.loads(out)
    assert doc["year"] == "2020/21"
    assert [f["code"] for f in doc["footprints"]] == ["E54000007", "E54000036"]
    assert "by_age" not in doc["england"]
    code, out16, _ = run(capsys, "baseline", "-f", "E54000007", "--json")
    gm16 = json.loads(out16)["footprints"][0]
    gm20 = doc["footprints"][0]
    assert gm20["population"] > gm16["population"]
    assert gm20["activity"]["emergency_admissions"] > gm16["activity"]["emergency_admissions"]


def test_baseline_table_is_readable(capsys, monkeypatch):
    # Wide enough that no name is wrapped over two lines; tables otherwise fit the terminal.
    monkeypatch.setattr(cli, "out", Console(width=200))
    code, out, _ = run(capsys, "baseline", "-f", "E54000007")
    assert code == 0
    assert "Greater Manchester" in out and "Emergency admissions" in out and "GP consultations" in out
    assert "emergency_admissions" not in out  # named as people name it, not by its identifier
    assert re.search(r"(?<![\d,])55,268,067(?![\d,])", out)  # the whole number, not a part of one


def test_footprints_json_lists_members(capsys):
    code, out, _ = run(capsys, "footprints", "--json")
    assert code == 0
    fps = json.loads(out)["footprints"]
    assert len(fps) == 44
    gm = next(f for f in fps if f["code"] == "E54000007")
    assert gm["region"] == "North of England"
    assert len(gm["ccgs"]) == 10 and any("Manchester" in c["name"] for c in gm["ccgs"])
    assert any(la["name"] == "Bolton" for la in gm["local_authorities"])
    assert len(gm["acute_trusts"]) >= 5
    assert sum(f["population_2016"] for f in fps) == 55_268_067


@pytest.mark.parametrize(
    "argv, must_say",
    [
        (["baseline", "--footprint", "E5400007"], ["E5400007", "nearest", "E54000005..E54000048"]),
        (["baseline", "-f", "Manchestr"], ["Manchestr", "E54000007 Greater Manchester"]),
        (["baseline", "--year", "2040/41"], ["2040/41", "2016/17 to 2035/36"]),
        (["baseline", "--year", "last year"], ["last year", "2016/17 to 2035/36"]),
        (["baseline", "--year", "2016/18"], ["2016/18", "2016/17 to 2035/36"]),
        (["baseline", "--by", "sex"], ["sex", "allowed: age"]),
        (["baseline", "--bogus"], ["--bogus"]),
        (["baseline", "--all", "-f", "E54000007"], ["--footprint", "--all"]),
        (["nosuchcommand"], ["nosuchcommand"]),
    ],
)
def test_bad_input_exits_2_with_one_clear_line(capsys, argv, must_say):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    for word in must_say:
        assert word in lines[0]


def test_installed_command_reports_errors_without_traceback():
    proc = subprocess.run(
        [sys.executable, "-m", "stpsim", "baseline", "--year", "1999"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "1999" in proc.stderr


def test_the_entry_point_freezes_only_the_imports_and_leaves_the_collector_on():
    """``stpsim`` (``stpsim.__main__``) imports the command line with the collector paused and
    freezes what the imports made; the command's own objects are still collected."""
    code = (
        "import gc, sys; sys.argv = ['stpsim', '--version']; from stpsim.__main__ import main; "
        "rc = main(); frozen = gc.get_freeze_count(); x = []; x.append(x); del x; "
        "print(rc, gc.isenabled(), frozen > 10000, gc.collect() >= 1)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "0 True True True"


def test_assumptions_and_sources_are_listed_for_users(capsys):
    code, out, _ = run(capsys, "assumptions", "--json")
    assert code == 0
    ids = {a["id"] for a in json.loads(out)["assumptions"]}
    assert {"frailty_severity_split", "gp_relative_rate_by_band", "home_care_hours_per_client_week"} <= ids
    code, out, _ = run(capsys, "sources", "--json")
    assert code == 0
    assert "england_population_projection_2016_2035" in json.loads(out)["sources"]
    code, out, _ = run(capsys, "assumptions")
    assert code == 0 and "frailty_min_age" in out


GM = "examples/greater_manchester.yaml"


def test_run_json_has_the_documented_shape(capsys):
    code, out, err = run(capsys, "run", GM, "--draws", "100", "--seed", "3", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert (doc["plan"], doc["footprints"], doc["draws"], doc["seed"]) == (
        "Greater Manchester - Taking Charge",
        ["E54000007"],
        100,
        3,
    )
    assert doc["years"][0] == "2016/17" and doc["years"][-1] == "2020/21"
    assert set(SETTINGS) <= set(doc["activity"]) and set(SETTINGS) <= set(doc["do_nothing"]["activity"])
    assert set(doc["activity"]["emergency_admissions"]["2020/21"]) == {"mean", "p10", "p50", "p90"}
    assert (
        doc["activity"]["emergency_admissions"]["2020/21"]["mean"]
        < doc["do_nothing"]["activity"]["emergency_admissions"]["2020/21"]["mean"]
    )
    assert set(doc["capacity"]["beds"]) == set(doc["years"])


def test_run_writes_tables_and_prints_a_readable_table(capsys, tmp_path):
    code, out, _ = run(capsys, "run", GM, "--draws", "50", "--out", str(tmp_path))
    assert code == 0
    # settings and measures named as people name them, not by their identifiers
    assert "Emergency admissions" in out and "Beds" in out and "emergency_admissions" not in out
    assert {p.name for p in tmp_path.iterdir()} >= {
        "summary.csv",
        "results.parquet",
        "results.xlsx",
        "results.json",
    }


def test_compare_shows_two_plans(capsys):
    code, out, _ = run(capsys, "compare", "examples/greater_manchester_do_nothing.yaml", GM, "--draws", "50")
    assert code == 0
    assert "Taking Charge" in out and "do nothing" in out and "B - A" in out
    code, out, _ = run(
        capsys, "compare", "examples/greater_manchester_do_nothing.yaml", GM, "--draws", "20", "--json"
    )
    assert [p["plan"] for p in json.loads(out)["plans"]] == [
        "Greater Manchester - do nothing",
        "Greater Manchester - Taking Charge",
    ]


def test_interventions_list_their_evidence(capsys):
    code, out, _ = run(capsys, "interventions", "--json")
    assert code == 0
    lib = {i["name"]: i for i in json.loads(out)["interventions"]}
    assert {
        "geriatricians_front_door",
        "community_extensivist",
        "direct_access_physiotherapy",
        "specialist_gp_urgent_care",
        "specialist_gp_long_term_conditions",
        "hospital_at_home",
        "reduced_delayed_transfers",
        "outpatient_followup_redesign",
        "back_office_and_estates",
    } <= set(lib)
    assert all(i["evidence"]["source"] for i in lib.values())
    weak = lib["community_extensivist"]["effects"]["emergency_admissions"]
    assert weak["low"] < 0 < weak["high"], "null evidence: the interval includes no effect"
    code, out, _ = run(capsys, "interventions")
    assert code == 0 and "Conroy" in out


def test_examples_copies_the_shipped_plans_and_never_overwrites_without_force(capsys, tmp_path):
    from stpsim.plan import load

    code, out, err = run(capsys, "examples", str(tmp_path / "plans"))
    assert code == 0, err
    copied = sorted(
        p.relative_to(tmp_path / "plans").as_posix() for p in (tmp_path / "plans").rglob("*.yaml")
    )
    assert "greater_manchester.yaml" in copied and "rollup/cornwall.yaml" in copied
    assert load(tmp_path / "plans" / "greater_manchester.yaml").codes == ["E54000007"]
    (tmp_path / "plans" / "cornwall.yaml").write_text("edited")
    code, out, err = run(capsys, "examples", str(tmp_path / "plans"))
    assert code == 2
    clash = tmp_path / "plans" / "cornwall.yaml"
    assert err == f"stpsim: error: {clash}: already exists; give --force to overwrite the example plans\n"
    assert (tmp_path / "plans" / "cornwall.yaml").read_text() == "edited"
    code, out, err = run(capsys, "examples", str(tmp_path / "plans"), "--force")
    assert code == 0 and (tmp_path / "plans" / "cornwall.yaml").read_text() != "edited"


def _answer(monkeypatch, capsys, argv, whole: bool):
    if whole:  # the app with every command built, as before the one-command fast path
        monkeypatch.setattr(cli, "_app_for", lambda args: cli.app)
    code = main(list(argv))
    monkeypatch.undo()
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _every_command() -> list[list[str]]:
    names = [[c.name] for c in cli.app.registered_commands]
    for g in cli.app.registered_groups:
        names.append([g.name])
        names += [[g.name, c.name] for c in g.typer_instance.registered_commands]
    return names


@pytest.mark.parametrize("tail", [["--help"], ["--no-such-option"]])  # parsed, never run
def test_a_command_answers_the_same_when_only_it_is_built(monkeypatch, capsys, tail):
    # `stpsim run ...` builds only the run command's parser; its help, usage and errors must be
    # what the whole app says, word for word, for every command and group.
    for words in _every_command():
        argv = [*words, *tail]
        one, whole = (_answer(monkeypatch, capsys, argv, whole=w) for w in (False, True))
        assert one == whole, argv
    assert len(cli._app_for(["run", "plan.yaml"]).registered_commands) == 1
    assert cli._app_for(["rn"]) is cli.app  # a mistyped command gets the whole app's suggestion


def test_a_header_broken_for_a_wider_table_is_broken_again_for_its_part():
    """A split table's columns are copies of the whole table's, their headers already broken
    to its widths: they are joined up and broken again between words to fit the part."""
    assert cli._header("plan -\ndo\nnothing", 9).plain == "plan - do\nnothing"
    assert cli._header("gp_\nconsultations", 20).plain == "gp_consultations"
    assert cli._header("Emergency admissions", 10).plain == "Emergency\nadmissions"
