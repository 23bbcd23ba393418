"""The dashboard's service functions on their own: the editor's form turned into a plan document
(what it changes and what it leaves as written), the service's lines mapped to the form's
fields, and figures drawn from the service's documents with a table for each."""

from __future__ import annotations

import json

import pytest

from stpsim.plan import validate
from stpsim.service import Invalid
from stpsim.service.preview import preview
from stpsim.web.charts import (
    admissions_chart,
    bridge_chart,
    incentives_chart,
    key_numbers,
    money,
    orgs_chart,
)
from stpsim.web.views import (
    EditError,
    _edited,
    edited_document,
    field_errors,
    initial_fields,
    parse_ref,
)

from .conftest_store import example


def stored(name: str) -> dict:
    """A plan document as the store keeps it (validated and dumped, as Service._validated does)."""
    return validate(example(name)).model_dump(mode="json", exclude_defaults=False)


@pytest.mark.parametrize(
    "name", ["greater_manchester", "cornwall", "north_west_london", "greater_manchester_beds"]
)
def test_an_untouched_form_gives_back_the_document(name):
    doc = stored(name)
    assert edited_document(doc, initial_fields(doc)) == doc


def test_whole_percent_sliders_leave_a_finer_coverage_as_written():
    doc = stored("greater_manchester")
    doc["interventions"][0]["coverage"] = 0.333
    fields = initial_fields(doc)
    assert fields["coverage.specialist_gp_long_term_conditions"] == "33.3"
    fields["coverage.specialist_gp_long_term_conditions"] = "33"  # what the browser's slider sends
    assert edited_document(doc, fields)["interventions"][0]["coverage"] == 0.333
    fields["coverage.specialist_gp_long_term_conditions"] = "34"
    assert edited_document(doc, fields)["interventions"][0]["coverage"] == 0.34


def test_the_first_year_of_full_roll_out_makes_an_even_ramp_only_when_changed():
    doc = stored("greater_manchester")
    fields = initial_fields(doc)
    assert fields["full.community_extensivist"] == "2019/20"  # {2018/19: 0.5, 2019/20: 1}
    out = edited_document(doc, fields | {"full.community_extensivist": "2017/18"})
    assert out["interventions"][2]["ramp"] == {"2017/18": 1.0}
    out = edited_document(doc, fields | {"full.community_extensivist": "2016/17"})
    assert out["interventions"][2]["ramp"] == {"2016/17": 1.0}
    validate(out)
    # Full in 2019/20 is the default ramp, a third a year: a new care model needs no ramp.
    out = edited_document(doc, fields | {"on.direct_access_physiotherapy": "yes"})
    assert out["interventions"][-1] == {"name": "direct_access_physiotherapy", "coverage": 0.5}


def test_a_care_model_switched_off_leaves_and_the_plans_own_models_stay():
    doc = stored("greater_manchester")
    doc["custom_interventions"] = [{"name": "local_scheme", "title": "A local scheme"}]
    doc["interventions"].insert(1, {"name": "local_scheme", "coverage": 0.4})
    validate(doc)
    fields = initial_fields(doc)
    del fields["on.specialist_gp_long_term_conditions"]
    out = edited_document(doc, fields)
    names = [a["name"] for a in out["interventions"]]
    assert names[0] == "local_scheme" and "specialist_gp_long_term_conditions" not in names
    assert out["custom_interventions"] == doc["custom_interventions"]


def test_contract_terms_in_one_line():
    """The contracts' own terms (a preset's, then any mechanism's) show as "name value" pairs,
    come back unchanged when untouched, and are set, replaced or dropped as written."""
    doc = stored("greater_manchester")
    doc["finance"] = (doc.get("finance") or {}) | {
        "contracts": "risk_share",
        "declining_rate": 0.05,
        "contract_terms": {"savings_rate": 0.2},
    }
    fields = initial_fields(doc)
    assert fields["contract_terms"] == "declining_rate 0.05; savings_rate 0.2"
    assert edited_document(doc, fields) == doc
    out = edited_document(
        doc, fields | {"contract_terms": "savings_rate 0.3, loss_rate=0.25; capitation_lead community"}
    )
    assert out["finance"]["contract_terms"] == {"savings_rate": 0.3, "loss_rate": 0.25}
    assert out["finance"]["capitation_lead"] == "community" and "declining_rate" not in out["finance"]
    cleared = edited_document(doc, fields | {"contract_terms": ""})["finance"]
    assert "contract_terms" not in cleared and "declining_rate" not in cleared
    with pytest.raises(Invalid) as e:
        edited_document(doc, fields | {"contract_terms": "savings_rate; loss_rate two"})
    assert e.value.lines == [
        "finance.contract_terms: 'savings_rate' has no value; write a term and its value, for example "
        "savings_rate 0.2",
        "finance.contract_terms.loss_rate: 'two' is not a number; give a number, for example 0.2",
    ]


def test_efficiency_and_contracts():
    doc = stored("greater_manchester")
    fields = initial_fields(doc)
    assert (fields["efficiency.low"], fields["efficiency.high"]) == ("1", "3")  # the assumption's
    assert edited_document(doc, fields)["finance"]["provider_efficiency"] is None
    out = edited_document(doc, fields | {"efficiency.low": "0.5", "efficiency.high": "2.5 %"})
    assert out["finance"]["provider_efficiency"] == {"low": 0.5, "high": 2.5}
    assert edited_document(doc, fields | {"contracts": "block"})["finance"]["contracts"] == "block"
    with pytest.raises(Invalid) as e:
        edited_document(doc, fields | {"efficiency.low": "nan", "efficiency.high": "two"})
    assert e.value.lines == [
        "finance.provider_efficiency.low: 'nan' is not a number; give % a year, for example 2",
        "finance.provider_efficiency.high: 'two' is not a number; give % a year, for example 2",
    ]


def test_the_services_lines_are_mapped_to_the_fields_they_name():
    doc = stored("greater_manchester")
    fields = initial_fields(doc) | {
        "coverage.hospital_at_home": "-5",
        "full.geriatricians_front_door": "2031/32",
        "contracts": "barter",
    }
    with pytest.raises(EditError) as e:
        _edited(doc, fields)
    found = {err.field: err.message for err in e.value.errors}
    assert (
        found["coverage.hospital_at_home"]
        == "Hospital at home: coverage: -5% is not a percentage from 0 to 100"
    )
    assert found["full.geriatricians_front_door"] == (
        "Geriatricians at the front door: full roll-out: 2031/32 is outside the plan's years; choose a year "
        "from 2016/17 to 2020/21"
    )
    assert found["contracts"] == (
        "Contracts: 'barter' is not one of the ways of paying offered; choose one from the list"
    )
    assert not any("." in m.split(":")[0] for m in found.values()), "no field paths on the page"
    lines = ["interventions.9.name: x", "name: too long", "finance.provider_efficiency.high: y"]
    mapped = field_errors(lines, doc)
    assert [m.field for m in mapped] == [None, None, "efficiency.high"]
    assert [m.anchor for m in mapped] == ["editor-form", "editor-form", "efficiency-high"]


def test_parse_ref():
    assert parse_ref("12:3", "a") == (12, 3)
    for bad in ("", "12", "12:", ":3", "0:1", "a:b", "1:2:3", "99999999999:1"):
        with pytest.raises(Invalid):
            parse_ref(bad, "a")


def test_figures_come_from_the_documents_with_a_table_each():
    doc = preview(validate(example("greater_manchester"))).model_dump(mode="json", exclude_none=True)
    last = doc["years"][-1]
    adm = admissions_chart(doc)
    names = [t["name"] for t in adm.figure["data"]]
    assert names == ["Do nothing: 80% interval", "Do nothing: average", "Plan: 80% interval", "Plan: average"]
    assert (
        adm.figure["data"][1]["line"]["dash"] == "dash" and adm.figure["data"][3]["line"]["dash"] == "solid"
    )
    assert adm.figure["data"][3]["y"][-1] == doc["activity"]["emergency_admissions"][last]["mean"]
    assert [r[0] for r in adm.table.rows] == doc["years"]
    bridge = bridge_chart(doc)
    wf = bridge.figure["data"][0]
    assert wf["measure"].count("total") == 2 and wf["x"][-1] == "Gap with the plan"
    assert wf["text"][-1] == money(doc["finance"]["system"]["gap"][last]["mean"])
    assert bridge.table.rows[-1][0] == "Gap with the plan"
    orgs = orgs_chart(doc)
    assert len(orgs.table.rows) == len(orgs.figure["data"][0]["y"]) == 13
    assert incentives_chart(doc) is None  # a preview has no incentive matrix
    assert key_numbers(doc).rows[2][0] == "Shortfall (spending above income)"
    json.dumps([adm.figure, bridge.figure, orgs.figure], allow_nan=False)  # plain JSON for plotly.js


def test_the_form_edits_adds_and_drops_bed_changes_keeping_what_else_the_plan_said():
    """Issue 21, item 9: bed changes by trust and year are editable; a row's other terms (the
    length-of-stay reduction, the councils) stay; a blank row adds one; a change of 0 drops it."""
    doc = stored("greater_manchester_beds")
    fields = initial_fields(doc)
    assert (fields["beds.0.trust"], fields["beds.0.year"], fields["beds.0.change"]) == (
        "RW6",
        "2019/20",
        "-120",
    )
    assert (fields["beds.2.trust"], fields["beds.2.change"]) == ("RMC", "")  # the blank row: the first trust
    out = edited_document(
        doc,
        fields
        | {"beds.0.change": "\u2212100", "beds.1.change": "0"}
        | {"beds.2.trust": "RM3", "beds.2.year": "2018/19", "beds.2.change": "-10"},
    )
    beds = out["service_changes"]["beds"]
    assert [(b["trust"], b["year"], b["change"]) for b in beds] == [
        ("RW6", "2019/20", -100),
        ("RM3", "2018/19", -10),
    ]
    assert beds[0]["length_of_stay_reduction_days"] == 0.3
    assert beds[0]["local_authorities"] == ["Oldham", "Rochdale", "Bury", "Manchester"]
    with pytest.raises(EditError) as e:
        _edited(doc, fields | {"beds.1.change": "lots"})
    (err,) = e.value.errors
    assert (err.field, err.message) == ("beds.1.change", "Beds, row 2: 'lots' is not a whole number of beds")
