"""The 45th STP: roll-up totals are footprint sums draw by draw, every executor and chunking
gives the same numbers, dead workers are retried, and bad plan folders are refused up front."""

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from stpsim import engine, plan, rollup
from stpsim.axes import ALL_SETTINGS
from stpsim.cli import main
from stpsim.executors import FAULT_ENV

EXAMPLES = Path(__file__).parent.parent / "examples"
DRAWS = 40


@pytest.fixture(scope="module")
def plans_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("plans")
    for name in ("greater_manchester.yaml", "cornwall.yaml", "north_west_london.yaml"):
        shutil.copy(EXAMPLES / name, d / name)
    return d


@pytest.fixture(scope="module")
def serial(plans_dir):
    return rollup.rollup(rollup.load_plans(plans_dir), DRAWS, 7, executor="serial")


def test_national_totals_are_footprint_sums_draw_by_draw(serial):
    doc = serial.to_dict()
    em = ALL_SETTINGS.index("emergency_admissions")
    national = serial.activity[..., em].sum(axis=0)  # (draw, year)
    assert doc["england"]["activity"]["emergency_admissions"]["2020/21"]["mean"] == pytest.approx(
        national[:, -1].mean(), rel=1e-9
    )
    gap = -serial.surplus.sum(axis=0)
    assert doc["england"]["plan_gap"]["2020/21"]["p90"] == pytest.approx(
        np.percentile(gap[:, -1], 90), rel=1e-9
    )
    # A sum of percentiles would be wider than the percentile of the sum.
    assert np.percentile(gap[:, -1], 90) <= np.percentile(-serial.surplus[:, :, -1], 90, axis=1).sum()


def test_each_footprint_matches_a_run_of_its_plan_alone(serial):
    gm = plan.load(EXAMPLES / "greater_manchester.yaml")
    gm = gm.model_copy(update={"monte_carlo": gm.monte_carlo.model_copy(update={"draws": DRAWS, "seed": 7})})
    alone = engine.run(gm, incentives=False)
    f = serial.codes.index("E54000007")
    assert np.allclose(serial.activity[f], alone.activity[:, :, 0], rtol=1e-12)
    assert np.allclose(serial.surplus[f], alone.finance.footprints[0].system_surplus, rtol=1e-9, atol=1.0)
    assert serial.plan_names[f] == "Greater Manchester - Taking Charge"
    assert serial.plan_names[serial.codes.index("E54000005")] is None


def test_local_processes_and_chunk_sizes_give_identical_numbers(plans_dir, serial):
    # chunks of 13, 13, 13 and one draw: numpy would add a lone draw's organisations in pairs
    local = rollup.rollup(rollup.load_plans(plans_dir), DRAWS, 7, executor="local", workers=2, chunk_size=13)
    for field in ("activity", "do_nothing", "surplus", "do_nothing_surplus", "beds"):
        assert np.array_equal(getattr(local, field), getattr(serial, field)), field


def test_dask_local_cluster_gives_identical_numbers(plans_dir, serial):
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        dask = rollup.rollup(
            rollup.load_plans(plans_dir),
            DRAWS,
            7,
            executor="dask",
            scheduler=cluster.scheduler_address,
            chunk_size=25,
        )
    for field in ("activity", "surplus", "do_nothing_surplus", "beds"):
        assert np.array_equal(getattr(dask, field), getattr(serial, field)), field


def test_a_worker_that_dies_is_retried(plans_dir, serial, tmp_path, monkeypatch):
    monkeypatch.setenv(FAULT_ENV, f"E54000010:{tmp_path / 'died'}")
    r = rollup.rollup(rollup.load_plans(plans_dir), DRAWS, 7, executor="local", workers=2)
    assert (tmp_path / "died").exists(), "the fault was injected"
    assert np.array_equal(r.surplus, serial.surplus)


def test_rollup_json_has_the_documented_shape(plans_dir, capsys):
    assert main(["rollup", "--plans", str(plans_dir), "--draws", "20", "--serial", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["draws"] == 20 and len(doc["footprints"]) == 44
    fp = doc["footprints"][0]
    assert set(fp) >= {"code", "name", "plan", "population", "gap", "gap_per_head"}
    assert set(fp["gap"]["2020/21"]) == {"mean", "p10", "p50", "p90"}
    eng = doc["england"]
    assert set(eng) >= {
        "population",
        "activity",
        "system_surplus",
        "do_nothing_gap",
        "plan_gap",
        "probability_gap_closed",
    }
    assert 0.0 <= eng["probability_gap_closed"]["2020/21"] <= 1.0
    assert eng["population"]["2016/17"] == 55_268_067
    assert len(doc["largest_gap_per_head"]) == 10


def test_readable_rollup(plans_dir, capsys):
    assert main(["rollup", "--plans", str(plans_dir), "--draws", "10", "--serial"]) == 0
    out = capsys.readouterr().out
    assert "45th STP" in out and "Taking" in out and "not the same measure" in out
    # Numbers as whole tokens (issue 24, item 3): "GBP 22bn", not any text containing 22bn.
    assert re.search(r"(?<![\d.,])GBP 22bn\b", " ".join(out.split()))


def test_bad_plan_folders_are_refused_before_any_work(tmp_path, capsys):
    d = tmp_path / "plans"
    d.mkdir()
    shutil.copy(EXAMPLES / "cornwall.yaml", d / "a.yaml")
    shutil.copy(EXAMPLES / "cornwall.yaml", d / "b.yaml")
    (d / "broken.yaml").write_text("name: [unclosed\n")
    (d / "elsewhere.yaml").write_text("name: x\nfootprints: [E54009999]\n")
    (d / "notes.txt").write_text("not a plan")
    assert main(["rollup", "--plans", str(d), "--draws", "10", "--serial"]) == 2
    err = capsys.readouterr().err
    assert "E54000036 already has a plan" in err
    assert "broken.yaml: not valid YAML" in err
    assert "unknown footprint 'E54009999'" in err
    assert main(["rollup", "--plans", str(tmp_path / "nope"), "--serial"]) == 2
    assert "not a folder" in capsys.readouterr().err
    assert main(["rollup", "--draws", "0"]) == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["rollup", "--plans", str(empty), "--serial"]) == 2
    assert "no plan files" in capsys.readouterr().err


def test_books_by_kind_partition_england_and_each_footprint_draw_by_draw(serial):
    """Issue 19, item 12: each kind of organisation's position, summed over the footprints
    draw by draw; the kinds add up exactly to the system's surplus, with the plans and without."""
    from stpsim.organisations import KINDS

    assert set(serial.by_kind) == set(KINDS) == set(serial.do_nothing_by_kind)
    np.testing.assert_allclose(sum(serial.by_kind.values()), serial.surplus, rtol=1e-12, atol=1e-3)
    np.testing.assert_allclose(
        sum(serial.do_nothing_by_kind.values()), serial.do_nothing_surplus, rtol=1e-12, atol=1e-3
    )
    doc = serial.to_dict()["england"]
    kinds = doc["books_by_kind"]
    assert list(kinds) == list(KINDS)
    acute = kinds["acute"]
    assert acute["title"] == "acute trusts"
    england_acute = serial.by_kind["acute"].sum(axis=0)[:, 0]
    assert acute["2016/17"]["mean"] == pytest.approx(england_acute.mean(), abs=0.01)
    assert acute["2016/17"]["p10"] <= acute["2016/17"]["p50"] <= acute["2016/17"]["p90"]
    total = sum(k["2020/21"]["mean"] for k in kinds.values())
    assert total == pytest.approx(doc["system_surplus"]["2020/21"]["mean"], abs=0.1)
    # Without a plan a footprint's two sets of books are one.
    f = serial.codes.index("E54000005")
    assert np.array_equal(serial.by_kind["acute"][f], serial.do_nothing_by_kind["acute"][f])


def test_a_footprint_without_a_plan_is_held_once(serial):
    """At 10,000 draws a copy of England's activity is 299 MB: a footprint without a plan has one
    set of numbers, which the roll-up holds once and reads for both scenarios. England's sums are
    the sums of the arrays put together, to the bit."""
    planned = {f for f, name in enumerate(serial.plan_names) if name is not None}
    assert len(planned) == 3
    assert set(serial.plan_activity) == planned == set(serial.plan_by_kind)
    activity, by_kind = serial.activity, serial.by_kind
    for f in range(len(serial.codes)):
        want = serial.plan_activity[f] if f in planned else serial.do_nothing[f]
        assert np.array_equal(activity[f], want)
        for k, v in by_kind.items():
            assert np.array_equal(
                v[f], serial.plan_by_kind[f][k] if f in planned else serial.do_nothing_by_kind[k][f]
            )
    assert not np.array_equal(activity, serial.do_nothing)  # the plans moved care
    assert np.array_equal(serial.england_activity(), activity.sum(axis=0))
    assert np.array_equal(serial.england_activity("do_nothing"), serial.do_nothing.sum(axis=0))
    for i in range(len(ALL_SETTINGS)):  # the document's sums, setting by setting, are the same
        assert np.array_equal(serial.england_activity()[..., i], activity[..., i].sum(axis=0))
    england = serial.to_dict()["england"]["books_by_kind"]
    for k, v in by_kind.items():
        assert england[k] == {"title": rollup.KIND_TITLES[k]} | serial._by_year(v.sum(axis=0))


def test_without_plans_englands_books_are_the_same_with_the_plans_and_without():
    """One draw of one year: numpy would sum such arrays over the footprints in another order
    than England's sums with the plans take, and the two would differ in the last bits."""
    r = rollup.rollup({}, 1, 1, 2016, executor="serial")
    assert not r.plan_activity and not r.plan_by_kind
    england = r.to_dict()["england"]
    assert england["books_by_kind"] == england["do_nothing_books_by_kind"]
    assert england["activity"] == england["do_nothing_activity"]
    assert np.array_equal(r.england_activity(), r.england_activity("do_nothing"))


def test_gap_per_head_drivers_split_each_footprints_difference_from_england_exactly(serial):
    """Issue 19, item 2: what makes footprints differ per head. Each footprint's difference from
    England's do-nothing gap per head is split by bridge line, and the lines' shares of the spread
    across footprints sum to one."""
    d = serial.to_dict()["england"]["gap_per_head_drivers"]
    pop = serial.population[:, -1]
    gap = serial.do_nothing_gap[:, :, -1].mean(axis=1) / pop
    england = serial.do_nothing_gap[:, :, -1].mean(axis=1).sum() / pop.sum()
    assert d["year"] == "2020/21" and d["england_gap_per_head"] == round(float(england), 2)
    for f, code in enumerate(serial.codes):
        assert sum(d["footprints"][code].values()) == pytest.approx(gap[f] - england, abs=0.06)
    assert sum(v["share"] for v in d["share_of_spread"].values()) == pytest.approx(1.0, abs=0.005)
    assert d["spread"]["min"] == round(float(gap.min()), 2)
    assert d["spread"]["max"] == round(float(gap.max()), 2)
    shares = [abs(v["share"]) for v in d["share_of_spread"].values()]
    assert shares == sorted(shares, reverse=True)


def test_social_care_check_sets_each_published_estimate_beside_the_modelled_councils_gap(serial):
    """Issue 19, item 5: the LGA's and ADASS's figures, each beside the councils' modelled
    do-nothing gap (England, summed draw by draw) for the same year."""
    rows = serial.to_dict()["england"]["social_care_check"]
    lga = [r for r in rows if r["publisher"] == "LGA" and r["period"] == "2019/20"]
    assert sorted(r["published"] for r in lga) == [1.0e9, 2.2e9, 2.3e9]
    t = serial.years.index(2019)
    gap = -serial.do_nothing_by_kind["social_care"].sum(axis=0)[:, t]
    for r in lga:
        assert r["modelled_gap"]["mean"] == round(float(gap.mean()), 0)
        assert r["includes"] and r["source"]
    assert {r["period"] for r in rows} == {"2016/17", "2017/18", "2019/20"}
