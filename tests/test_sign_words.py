"""A surplus is called a surplus: with providers cutting costs by 9-10% a year Greater
Manchester's plan ends in surplus, and the story, the report's cards, the CLI and the
dashboard's key numbers say so (issue 19, item 10)."""

from __future__ import annotations

import re

import pytest

import stpsim
from stpsim import plan, story
from stpsim.cli import main
from stpsim.report.html import _cards
from stpsim.web.charts import key_numbers

LEAN = {
    "name": "Lean",
    "footprints": ["E54000007"],
    "end_year": "2020/21",
    "monte_carlo": {"draws": 40, "seed": 3},
    "interventions": [{"name": "hospital_at_home", "coverage": 0.5}],
    "finance": {"provider_efficiency": {"low": 9, "high": 10}},
}


@pytest.fixture(scope="module")
def lean():
    record = stpsim.run(plan.validate(LEAN))
    assert record.document["finance"]["system"]["gap"]["2020/21"]["p90"] < 0, "the plan must end in surplus"
    return record


def words(section) -> str:
    return " ".join(section.paragraphs)


def test_the_board_story_calls_the_plans_surplus_a_surplus(lean):
    told = story.tell(lean, "board")
    money = words(next(s for s in told.sections if s.key == "money"))
    assert "The plan turns the shortfall into a surplus of £" in money
    assert "brings the shortfall to" not in money


def test_the_public_story_calls_it_a_surplus_and_gives_its_range_as_a_surplus(lean):
    told = story.tell(lean, "public")
    money = words(next(s for s in told.sections if s.key == "money"))
    assert re.search(r"With the plan, there would be a surplus of £[\d.]+m instead\.", money)
    assert "The surplus could be anything from about £" in money
    assert "the shortfall would be" not in money


def test_the_reports_card_says_surplus_with_the_plan(lean):
    cards = _cards(lean, story.tell(lean, "board"))
    assert "Surplus with the plan</div>" in cards and "Shortfall with the plan" not in cards
    assert "Shortfall if nothing changes</div>" in cards


def test_the_cli_says_surplus(tmp_path, capsys):
    import yaml

    path = tmp_path / "lean.yaml"
    path.write_text(yaml.safe_dump(LEAN))
    assert main(["run", str(path)]) == 0
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.startswith("In 2020/21, if nothing changes:"))
    assert re.fullmatch(
        r"In 2020/21, if nothing changes: a shortfall of GBP [\d,.]+m; "
        r"with the plan: a surplus of GBP [\d,.]+m \(means\)\.",
        line,
    )


def test_the_dashboards_key_numbers_name_the_row_by_its_sign(lean):
    rows = {r[0]: r for r in key_numbers(lean.document).rows}
    doc = lean.document["finance"]
    plan_gap, dn_gap = doc["system"]["gap"]["2020/21"], doc["do_nothing"]["system"]["gap"]["2020/21"]
    # the plan's interval is all surplus, do-nothing's all shortfall: the row says which is which
    assert plan_gap["p90"] < 0 < dn_gap["p10"]
    assert "Shortfall (+) or surplus (−)" in rows
    both_shortfall = {"mean": 2e8, "p10": 1e8, "p50": 2e8, "p90": 3e8}
    both_surplus = {"mean": -2e8, "p10": -3e8, "p50": -2e8, "p90": -1e8}
    from stpsim.web.charts import _position_row

    assert _position_row(both_shortfall, both_shortfall) == (
        "Shortfall (spending above income)",
        "£200.0m (£100.0m to £300.0m)",
        "£200.0m (£100.0m to £300.0m)",
    )
    assert _position_row(both_surplus, both_surplus) == (
        "Surplus (income above spending)",
        "£200.0m (£100.0m to £300.0m)",
        "£200.0m (£100.0m to £300.0m)",
    )
