"""A plan for a drawn footprint or an ICB in the store (issue 12): it belongs to the 2017
footprint holding most of its people, whose lead keeps and submits it."""

import pytest

from stpsim.geography import custom, find, owner
from stpsim.service import Forbidden, Service

from .conftest_store import add_users, gm_plan, sqlite_url


@pytest.fixture
def svc(tmp_path):
    s = Service(sqlite_url(tmp_path))
    return s, add_users(s)


def test_a_drawn_footprint_belongs_to_the_stp_with_most_of_its_people():
    assert owner(find("E54000007")) == "E54000007"
    assert owner(custom("Bolton", ccgs=["00T"])) == "E54000007"
    # The ICB of Greater Manchester lost Glossop to Derbyshire but is still mostly the STP.
    icb = find("NHS Greater Manchester Integrated Care Board", "icb2022")
    assert icb.code != "E54000007" and owner(icb) == "E54000007"


def test_the_lead_stores_and_runs_a_plan_for_part_of_the_footprint(svc):
    s, tokens = svc
    gm_lead, cw_lead = s.authenticate(tokens["gm_lead"]), s.authenticate(tokens["cw_lead"])
    doc = gm_plan("Bolton locality", footprints=[{"name": "Bolton", "ccgs": ["00T"]}])
    doc["monte_carlo"] = {"draws": 20, "seed": 1}
    made = s.create_plan(gm_lead, doc)
    assert made["footprint"] == "E54000007"
    run = s.run(gm_lead, made["id"], made["version"])
    assert run["footprints"] == ["custom:bolton"]
    with pytest.raises(Forbidden):
        s.create_plan(cw_lead, doc)
