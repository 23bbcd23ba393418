"""Shoe size and the ICB geography from the command line (issue 12): a plan for a whole footprint
and for each of its parts; the 42 ICBs listed and rolled up like the 44 STPs."""

import json

import numpy as np
import pytest
import yaml

from stpsim.cli import main
from stpsim.geography import find, split

GM = "E54000007"


def _run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def gm_plan(tmp_path_factory):
    path = tmp_path_factory.mktemp("plans") / "gm.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "name": "GM test",
                "footprints": [GM],
                "end_year": "2018/19",
                "monte_carlo": {"draws": 60},
                "interventions": [{"name": "reduced_delayed_transfers"}, {"name": "hospital_at_home"}],
            }
        )
    )
    return path


@pytest.fixture(scope="module")
def by_ccg(gm_plan):
    from stpsim.plan import load
    from stpsim.service.shoe_size import shoe_size

    return shoe_size(load(gm_plan), "ccg")


def test_the_parts_are_the_whole_cut_up(by_ccg):
    parts = by_ccg.parts
    assert [p.name for p in parts] == sorted(p.name for p in parts)
    assert len(parts) == 10  # Greater Manchester's ten CCGs of 2017
    assert sum(p.population for p in parts) == pytest.approx(by_ccg.whole.population, abs=len(parts))
    assert by_ccg.parts_summed.population == pytest.approx(by_ccg.whole.population, abs=len(parts))


def test_the_parts_books_add_up_close_to_the_whole(by_ccg):
    # Gaps are not exactly additive (wards are whole numbers; trusts are shared), but the parts
    # together are within a few per cent of the whole.
    whole, summed = by_ccg.whole.gap.mean, by_ccg.parts_summed.gap.mean
    assert abs(summed - whole) < 0.05 * abs(whole)
    # Every part pays trusts whose catchment lies mostly elsewhere; the whole footprint none.
    assert by_ccg.whole.shared_trusts_per_head == 0.0
    assert all(p.shared_trusts_per_head > 0 for p in by_ccg.parts)


def test_each_area_has_its_incentive_matrix(by_ccg):
    for area in (by_ccg.whole, *by_ccg.parts):
        assert set(area.incentives) == {"reduced_delayed_transfers", "hospital_at_home"}
        assert set(area.incentives_by_kind["hospital_at_home"]) >= {"commissioner", "acute", "community"}


def test_cli_json_and_table(capsys, gm_plan):
    code, out, _ = _run(capsys, "shoe-size", str(gm_plan), "--split", "local_authority", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["split"] == "local_authority" and doc["year"] == "2018/19"
    names = [p["name"] for p in doc["parts"]]
    assert "Bolton" in names and "High Peak" in names  # Glossop lies in Tameside and Glossop CCG
    code, out, _ = _run(capsys, "shoe-size", str(gm_plan), "--split", "sub_icb")
    assert code == 0
    flat = " ".join(out.split())  # the table wraps long cells over lines
    assert "the whole footprint and its parts by sub icb" in flat
    assert "Greater Manchester" in flat
    assert "Who gains (+) and who loses (-) from each care model" in flat


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--split", "county"), "--split 'county' is not allowed; allowed: ccg, sub_icb, local_authority"),
    ],
)
def test_bad_split_is_refused_with_exit_2(capsys, gm_plan, args, message):
    code, _, err = _run(capsys, "shoe-size", str(gm_plan), *args)
    assert code == 2
    assert message in err


def test_a_plan_of_two_footprints_cannot_be_split(capsys, tmp_path):
    path = tmp_path / "two.yaml"
    path.write_text(
        yaml.safe_dump({"name": "two", "footprints": [GM, "E54000036"], "monte_carlo": {"draws": 5}})
    )
    code, _, err = _run(capsys, "shoe-size", str(path))
    assert code == 2
    assert "footprints: shoe-size splits one footprint; this plan has 2" in err


def test_split_parts_partition_the_footprint():
    gm = find(GM)
    for by in ("ccg", "sub_icb", "local_authority"):
        parts = split(gm, by)
        lsoas = np.concatenate([p.lsoas for p in parts])
        assert np.array_equal(np.sort(lsoas), gm.lsoas)


def test_icb_footprints_listed(capsys):
    code, out, _ = _run(capsys, "footprints", "--geography", "icb2022", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["geography"] == "icb2022" and len(doc["footprints"]) == 42
    assert sum(f["population_mid2018"] for f in doc["footprints"]) == pytest.approx(55_977_178, abs=42)
    code, _, err = _run(capsys, "footprints", "--geography", "icb2019")
    assert code == 2 and "allowed: stp2017, icb2022" in err


def test_icb_rollup_sums_to_england_like_the_stps(capsys):
    docs = {}
    for geo in ("stp2017", "icb2022"):
        code, out, _ = _run(capsys, "rollup", "--geography", geo, "--draws", "20", "--serial", "--json")
        assert code == 0
        docs[geo] = json.loads(out)
    stp, icb = docs["stp2017"], docs["icb2022"]
    assert len(stp["footprints"]) == 44 and len(icb["footprints"]) == 42
    assert icb["england"]["population"] == stp["england"]["population"]
    # The same England, cut differently: the national gap moves by well under 1%.
    a, b = (
        stp["england"]["do_nothing_gap"]["2020/21"]["mean"],
        icb["england"]["do_nothing_gap"]["2020/21"]["mean"],
    )
    assert abs(a - b) < 0.01 * abs(a)
