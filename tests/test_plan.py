"""Plan documents: the examples are valid, and bad plans are rejected before any work with every
problem named at once (file, field path, allowed values)."""

import json
from pathlib import Path

import pytest
import yaml

from stpsim import plan
from stpsim.cli import main

EXAMPLES = sorted(Path(__file__).parent.parent.joinpath("examples").glob("*.yaml"))


def test_there_are_realistic_examples_including_greater_manchester():
    assert len(EXAMPLES) >= 3
    plans = [plan.load(p) for p in EXAMPLES]
    assert any(p.footprints == ["E54000007"] and len(p.interventions) >= 5 for p in plans)
    assert len({p.footprints[0] for p in plans}) >= 3


def test_names_years_and_defaults_are_normalised():
    p = plan.validate(
        {
            "name": "x",
            "footprints": ["greater manchester"],
            "end_year": "2018-19",
            "interventions": [{"name": "hospital_at_home", "ramp": {"2017/18": 0.5}}],
        }
    )
    assert p.footprints == ["E54000007"]
    assert (p.first_year, p.last_year) == (2016, 2018)
    assert p.monte_carlo.draws == 1000 and p.interventions[0].coverage == 1.0
    assert p.interventions[0].ramp == {2017: 0.5}


BAD = {
    "name": "bad",
    "footprints": ["E54000007", "E54009999"],
    "end_year": "2040/41",
    "colour": "blue",
    "interventions": [
        {"name": "hospital_at_hom", "coverage": 0.5},
        {"name": "geriatricians_front_door", "coverage": -0.1},
        {"name": "community_extensivist", "effects": {"emergency_admissions": {"low": 0.2, "high": 0.1}}},
    ],
}


def test_all_problems_are_reported_at_once_with_paths_and_allowed_values(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text(yaml.safe_dump(BAD))
    with pytest.raises(plan.PlanError) as e:
        plan.load(f)
    text = str(e.value)
    lines = e.value.lines
    assert len(lines) == 6, text
    assert all(line.startswith(str(f)) for line in text.splitlines())
    assert "colour: unknown field; allowed: name, description, geography, footprints" in text
    assert "footprints.1: unknown footprint 'E54009999'" in text
    assert "end_year: year '2040/41' is out of range; allowed: 2016/17 to 2035/36" in text
    assert (
        "interventions.0.name: unknown intervention 'hospital_at_hom' (did you mean 'hospital_at_home'?)"
        in text
    )
    assert "allowed: back_office_and_estates" in text
    assert "interventions.1.coverage" in text and "-0.1" in text
    assert "interventions.2.effects.emergency_admissions: low (0.2) must not exceed high (0.1)" in text


def test_cli_rejects_bad_plans_with_exit_2_before_running(tmp_path, capsys):
    f = tmp_path / "bad.yaml"
    f.write_text(yaml.safe_dump(BAD))
    code = main(["run", str(f), "--json"])
    cap = capsys.readouterr()
    assert code == 2 and cap.out == ""
    assert len(cap.err.strip().splitlines()) == 6
    assert all(line.startswith(f"stpsim: error: {f}: ") for line in cap.err.strip().splitlines())


@pytest.mark.parametrize(
    "text, must_say",
    [
        ("name: x\nfootprints: [E54000007]\nend_year: 2014/15\n", "end_year"),
        ("name: x\n", "footprints: Field required"),
        ("name: x\nfootprints: [E54000007]\nstart_year: 2019/20\nend_year: 2017/18\n", "before start_year"),
        (
            "name: x\nfootprints: [E54000007]\ngrowth: {emergency_admissions: {low: 3, high: 1}}\n",
            "low (3.0)",
        ),
        ("name: x\nfootprints: [E54000007]\ndemography: high\n", "'principal'"),
        ("name: [unclosed\n", "not valid YAML"),
    ],
)
def test_each_kind_of_bad_plan_names_the_problem(tmp_path, text, must_say):
    f = tmp_path / "p.yaml"
    f.write_text(text)
    with pytest.raises(plan.PlanError) as e:
        plan.load(f)
    assert must_say in str(e.value)


def test_missing_file_and_bad_overrides_exit_2(tmp_path, capsys):
    assert main(["run", str(tmp_path / "nope.yaml")]) == 2
    assert "cannot read" in capsys.readouterr().err
    assert main(["run", str(EXAMPLES[0]), "--draws", "0"]) == 2
    assert "--draws 0" in capsys.readouterr().err


def test_custom_interventions_can_be_defined_and_adopted():
    p = plan.validate(
        {
            "name": "custom",
            "footprints": ["E54000007"],
            "custom_interventions": [
                {
                    "name": "falls_service",
                    "title": "Falls service",
                    "target": {"min_age": 65},
                    "effects": {"emergency_admissions": {"low": 0.01, "high": 0.03}},
                }
            ],
            "interventions": [{"name": "falls_service", "coverage": 0.5}],
        }
    )
    assert p.custom_interventions[0].name == "falls_service"


def test_schema_is_published(capsys):
    assert main(["schema"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert {"footprints", "interventions", "growth", "monte_carlo"} <= set(s["properties"])


@pytest.mark.parametrize(
    "text, must_say",
    [
        (
            "name: x\nfootprints: [E54000007]\ncustom_interventions: [{title: t}]\n"
            "interventions: [{name: hospital_at_home}]\n",
            "custom_interventions.0.name: Field required",
        ),
        ("name: x\nfootprints: [E54000007]\ncustom_interventions: 5\n", "custom_interventions"),
        ("name: x\nname: y\nfootprints: [E54000007]\n", "line 2: the key 'name' is given twice"),
        (
            "name: x\nfootprints: [E54000007]\ninterventions: [{name: hospital_at_home, ramp: {}}]\n",
            "interventions.0.ramp: give at least one year",
        ),
        (
            "name: x\nfootprints: [E54000007]\n"
            "interventions: [{name: hospital_at_home, ramp: {2017/18: .5, 2017: 1}}]\n",
            "a year is given twice",
        ),
        (
            "name: x\nfootprints: [E54000007]\nend_year: 2018/19\n"
            "interventions: [{name: hospital_at_home, ramp: {2019/20: 1}}]\n",
            "never starts",
        ),
        (
            "name: x\nfootprints: [E54000007]\n"
            "custom_interventions: [{name: c, title: c, target: {min_age: 90, "
            "max_age: 20}}]\n",
            "nobody is targeted",
        ),
        ("name: x\nfootprints: [E54000007]\nmonte_carlo: {draws: true}\n", "monte_carlo.draws"),
        (
            "name: x\nfootprints: [E54000007]\ngrowth: {emergency_admissions: {low: .nan, high: 1}}\n",
            "growth.emergency_admissions.low",
        ),
        (
            "name: x\nfootprints: [E54000007]\n"
            "custom_interventions: [{name: c, title: a}, {name: c, title: b}]\n",
            "custom_interventions.1.name: 'c' is defined more than once",
        ),
    ],
)
def test_more_bad_plans_are_caught_not_crashed_on(tmp_path, text, must_say):
    f = tmp_path / "p.yaml"
    f.write_text(text)
    with pytest.raises(plan.PlanError) as e:
        plan.load(f)
    assert must_say in str(e.value)


def test_binary_file_is_refused(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_bytes(b"\xff\xfe\x00\x01binary")
    with pytest.raises(plan.PlanError, match="not a text file"):
        plan.load(f)


def test_field_and_cross_field_errors_come_together(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text(
        "name: x\nfootprints: [E54000007]\nfoo: 1\nstart_year: 2019/20\nend_year: 2017/18\n"
        "interventions: [{name: hospital_at_home}, {name: hospital_at_home}]\n"
    )
    with pytest.raises(plan.PlanError) as e:
        plan.load(f)
    text = str(e.value)
    assert "foo: unknown field" in text and "before start_year" in text and "already adopted" in text


def test_plans_built_in_python_accept_their_own_custom_models():
    doc = {
        "name": "x",
        "footprints": ["E54000007"],
        "custom_interventions": [{"name": "mine", "title": "Mine"}],
        "interventions": [{"name": "mine"}],
    }
    p = plan.Plan.model_validate(doc)
    assert plan.Plan.model_validate(p.model_dump(mode="json")).interventions[0].name == "mine"
    with pytest.raises(Exception, match="unknown intervention"):
        plan.Plan.model_validate(doc | {"interventions": [{"name": "theirs"}]})
