"""Geography: footprints as sets of small areas. Any partition of England adds up to England,
a footprint drawn from its members is the preset it equals, members are found by code or name,
and a footprint's numbers depend only on its area."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stpsim import activity, demography, engine, geography, plan, population
from stpsim.baseline import projection, projection_of
from stpsim.finance import allocations, councils, starting
from stpsim.geography import UnknownFootprint
from stpsim.reference import table

ENGLAND_MID2018 = 55_977_178
FEW = settings(max_examples=15, deadline=None)


def ccg17_codes() -> list[str]:
    return sorted(set(geography.small_areas().codes["ccg17cd"].tolist()))


def assert_partition(parts_lsoas, whole_lsoas) -> None:
    """Every LSOA of the whole is in exactly one part, and no part holds any other."""
    joined = np.concatenate([np.asarray(p) for p in parts_lsoas])
    assert len(joined) == len(whole_lsoas)
    assert np.array_equal(np.sort(joined), np.sort(np.asarray(whole_lsoas)))


@pytest.fixture(scope="module")
def england_activity_44(footprint_base):
    _, cells = footprint_base
    return activity.demand(cells).sum(axis=0)


# 1. Any partition of England's CCGs adds up to England -------------------------------------


@FEW
@given(data=st.data())
def test_a_random_partition_of_englands_ccgs_adds_up_to_england(data, england_activity_44):
    codes = ccg17_codes()
    assert len(codes) == 207
    k = data.draw(st.integers(1, 6), label="groups")
    labels = data.draw(st.lists(st.integers(0, k), min_size=len(codes), max_size=len(codes)), label="labels")
    groups = {}
    for code, lab in zip(codes, labels, strict=True):
        groups.setdefault(lab, []).append(code)
    parts = [geography.custom(f"part {lab}", ccgs=members) for lab, members in sorted(groups.items())]
    assert_partition([p.lsoas for p in parts], np.arange(geography.small_areas().n))
    assert all(p.geography == "custom" for p in parts)

    bands = population.bands_2016([p.lsoas for p in parts])
    cells = population.cells_from_bands(bands)
    england = demography.england_base()
    np.testing.assert_allclose(cells.sum(), england.sum(), rtol=1e-9)
    np.testing.assert_allclose(cells.sum(axis=(0, 3)), england, rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(activity.demand(cells).sum(axis=0), england_activity_44, rtol=1e-9)

    proj = population.project_bands(bands)
    assert proj.population.shape[0] == len(proj.years) == 20
    ons = demography.ons_projection()  # (year, sex, age)
    np.testing.assert_allclose(proj.population.sum(axis=(1, 2, 3, 4)), ons.sum(axis=(1, 2)), rtol=1e-9)
    np.testing.assert_allclose(proj.population.sum(axis=(1, 4)), ons, rtol=1e-9, atol=1e-6)
    # and the same as the 44 presets' projection, year by year
    np.testing.assert_allclose(
        proj.population.sum(axis=1), projection().population.sum(axis=1), rtol=1e-9, atol=1e-6
    )


# 2. Presets rebuilt from their members --------------------------------------------------


@pytest.mark.parametrize("fp", geography.preset("stp2017"), ids=lambda f: f.code)
def test_each_stp_rebuilt_from_its_ccgs_is_the_same_area(fp):
    ods = [o.code for o in fp.ccgs]
    assert ods and len(set(ods)) == len(ods)
    rebuilt = geography.custom(fp.name, ccgs=ods)
    assert rebuilt.code.startswith("custom:")
    assert np.array_equal(rebuilt.lsoas, fp.lsoas)
    assert rebuilt.key == fp.key
    assert rebuilt.stream == fp.stream
    assert rebuilt.population_mid2018 == fp.population_mid2018
    assert [o.code for o in rebuilt.ccgs] == ods
    a, b = projection_of([fp]), projection_of([rebuilt])
    assert np.array_equal(a.population, b.population)
    assert np.array_equal(a.births, b.births) and np.array_equal(a.deaths, b.deaths)


def test_cornwall_rebuilt_from_its_councils_is_the_preset():
    fp = geography.find("E54000036")
    assert fp.name == "Cornwall and the Isles of Scilly"
    assert [o.code for o in fp.local_authorities] == ["E06000052", "E06000053"]
    rebuilt = geography.custom("Kernow", local_authorities=["E06000052", "Isles of Scilly"])
    assert np.array_equal(rebuilt.lsoas, fp.lsoas)
    assert rebuilt.key == fp.key
    assert rebuilt.population_mid2018 == fp.population_mid2018
    assert np.array_equal(projection_of([fp]).population, projection_of([rebuilt]).population)
    # and from the CCG, and from the 2022 sub-ICB location: the same area again
    assert geography.custom("Kernow", ccgs=["11N"]).key == fp.key


# 3. The presets partition England --------------------------------------------------------


@pytest.mark.parametrize(("geo", "n"), [("stp2017", 44), ("icb2022", 42)])
def test_presets_partition_england_and_share_its_need(geo, n):
    fps = geography.preset(geo)
    assert len(fps) == n
    assert len({f.code for f in fps}) == n
    assert all(f.geography == geo for f in fps)
    sa = geography.small_areas()
    assert sa.n == 32_844
    assert_partition([f.lsoas for f in fps], np.arange(sa.n))
    assert abs(sum(f.population_mid2018 for f in fps) - ENGLAND_MID2018) <= 1

    proj = projection_of(fps)
    np.testing.assert_allclose(proj.population[0].sum(), demography.england_base().sum(), rtol=1e-6)
    ons = demography.ons_projection()
    np.testing.assert_allclose(proj.population.sum(axis=(1, 2, 3, 4)), ons.sum(axis=(1, 2)), rtol=1e-9)

    years = np.array([2016, 2020])
    for kind in allocations.KINDS:  # need alone, or need and distance from target (CCGs)
        shares = np.stack([allocations.allocation_share(kind, f.lsoas, years) for f in fps])
        assert (shares > 0).all()
        np.testing.assert_allclose(shares.sum(axis=0), [1.0, 1.0], rtol=1e-9)


def test_icb_presets_are_found_by_ods_code_and_shared_codes_are_the_same_area():
    icb = geography.find("QYG", "icb2022")
    assert icb.code == "E54000008" and icb.name == "NHS Cheshire and Merseyside Integrated Care Board"
    stp_codes = {f.code: f for f in geography.preset("stp2017")}
    shared = [f for f in geography.preset("icb2022") if f.code in stp_codes]
    assert len(shared) == 29
    for f in shared:
        assert f.key == stp_codes[f.code].key


# 4. Need, social care spend and loans are additive ---------------------------------------


@FEW
@given(
    index=st.integers(0, 43),
    k=st.integers(2, 5),
    seed=st.integers(0, 2**32 - 1),
    weight=st.floats(0.0, 1.0),
)
def test_need_spend_and_deficit_of_the_parts_add_up_to_the_whole(index, k, seed, weight):
    whole = geography.preset("stp2017")[index]
    labels = np.random.default_rng(seed).integers(0, k, size=len(whole.lsoas))
    parts = [whole.lsoas[labels == j] for j in range(k) if (labels == j).any()]
    assert_partition(parts, whole.lsoas)

    np.testing.assert_allclose(
        sum(allocations.need_weighted(p) for p in parts), allocations.need_weighted(whole.lsoas), rtol=1e-12
    )
    years = np.arange(2016, 2036)
    np.testing.assert_allclose(
        sum(allocations.need_share(p, years) for p in parts),
        allocations.need_share(whole.lsoas, years),
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        sum(allocations.allocation_share("CCGs", p, years) for p in parts),
        allocations.allocation_share("CCGs", whole.lsoas, years),
        rtol=1e-12,
    )

    spends = [councils.base_spend(p) for p in parts]
    ws = councils.base_spend(whole.lsoas)
    for attr in ("older", "working_age", "other", "total"):
        np.testing.assert_allclose(sum(getattr(s, attr) for s in spends), getattr(ws, attr), rtol=1e-12)
    assert ws.total > 0

    w = np.array([0.0, weight, 1.0])
    national = np.array([3.5e9, 3.7e9, 3.9e9])
    np.testing.assert_allclose(
        sum(starting.footprint_deficit(p, w, national) for p in parts),
        starting.footprint_deficit(whole.lsoas, w, national),
        rtol=1e-12,
    )


def test_englands_need_spend_and_deficit_are_the_sum_over_all_small_areas():
    everyone = np.arange(geography.small_areas().n)
    np.testing.assert_allclose(allocations.need_weighted(everyone), allocations.england_need(), rtol=1e-12)
    np.testing.assert_allclose(
        allocations.funded_need(everyone), allocations.england_funded_need(), rtol=1e-12
    )
    np.testing.assert_allclose(councils.base_spend(everyone).total, councils.england_spend(), rtol=1e-12)
    national = starting.national_underlying_deficit(np.array([0.6e9, 0.8e9]), np.array([0.2e9, 0.3e9]))
    # GBP 791m reported + GBP 1.8bn STF + the one-offs + the accounting changes
    np.testing.assert_allclose(national, [0.791e9 + 1.8e9 + 0.8e9, 0.791e9 + 1.8e9 + 1.1e9], rtol=1e-12)
    np.testing.assert_allclose(
        starting.footprint_deficit(everyone, np.array([0.0, 0.5]), national), national, rtol=1e-12
    )


# 5. Names and codes ------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["E38000016", "00T", "NHS Bolton CCG", "Bolton", "nhs  bolton ccg", "00t"])
def test_a_ccg_is_found_by_ons_code_ods_code_or_name(text):
    assert geography.resolve_member("ccgs", text) == ("ccg17cd", "E38000016")
    fp = geography.custom("Bolton", ccgs=[text])
    assert [(o.code, o.name) for o in fp.ccgs] == [("00T", "NHS Bolton CCG")]
    assert [o.name for o in fp.local_authorities] == ["Bolton"]


def test_a_misspelt_ccg_names_the_nearest_match():
    with pytest.raises(UnknownFootprint) as e:
        geography.custom("x", ccgs=["NHS Boltn CCG"])
    assert "'NHS Boltn CCG'" in str(e.value)
    assert "E38000016 NHS Bolton CCG" in str(e.value)


def test_a_sub_icb_location_by_ods_code_is_the_same_area_as_its_ccg():
    assert geography.resolve_member("sub_icb_locations", "00T") == ("sicbl22cd", "E38000016")
    sub = geography.custom("Bolton 2022", sub_icb_locations=["00T"])
    assert sub.key == geography.custom("Bolton 2017", ccgs=["00T"]).key
    assert sub.key == geography.custom("Bolton council", local_authorities=["Bolton"]).key
    name = dict(zip(table("sicbl22_names")["sicbl22cd"], table("sicbl22_names")["sicbl22nm"], strict=True))
    assert geography.resolve_member("sub_icb_locations", name["E38000016"]) == ("sicbl22cd", "E38000016")


def test_a_2022_council_is_its_2017_districts():
    sa = geography.small_areas()
    nn = geography.custom("North Northamptonshire", local_authorities=["E06000061"])
    assert sorted(set(sa.codes["lad17cd"][nn.lsoas].tolist())) == [
        "E07000150",  # Corby
        "E07000152",  # East Northamptonshire
        "E07000153",  # Kettering
        "E07000156",  # Wellingborough
    ]
    by_name = geography.custom("NN", local_authorities=["North Northamptonshire"])
    districts = geography.custom(
        "NN", local_authorities=["Corby", "E07000152", "Kettering", "Wellingborough"]
    )
    assert by_name.key == nn.key == districts.key
    assert nn.population_mid2018 == districts.population_mid2018


def test_a_2017_county_is_its_districts():
    assert geography.resolve_member("local_authorities", "Kent") == ("council17cd", "E10000016")
    assert geography.resolve_member("local_authorities", "E10000016") == ("council17cd", "E10000016")
    kent = geography.custom("Kent", local_authorities=["Kent"])
    lookup = table("lad17_to_county17")
    districts = sorted(lookup.loc[lookup["cty17cd"] == "E10000016", "lad17cd"])
    assert len(districts) == 12
    sa = geography.small_areas()
    assert sorted(set(sa.codes["lad17cd"][kent.lsoas].tolist())) == districts
    assert np.array_equal(kent.lsoas, np.flatnonzero(np.isin(sa.codes["lad17cd"], districts)))
    assert geography.custom("Kent", local_authorities=districts).key == kent.key


@pytest.mark.parametrize(
    ("kind", "items"),
    [
        ("ccgs", ["00T", "NHS Bolton CCG"]),
        ("ccgs", ["E38000016", "E38000016"]),
        ("local_authorities", ["Kent", "E10000016"]),
        ("sub_icb_locations", ["00T", "E38000016"]),
    ],
)
def test_a_member_listed_twice_is_refused(kind, items):
    with pytest.raises(UnknownFootprint, match="listed more than once"):
        geography.custom("twice", **{kind: items})


def test_a_footprint_with_no_members_or_an_unknown_kind_is_refused():
    with pytest.raises(UnknownFootprint, match="names no members"):
        geography.custom("empty", ccgs=[])
    with pytest.raises(UnknownFootprint, match="unknown member kind"):
        geography.custom("x", practices=["00T"])


def test_an_unknown_local_authority_is_called_a_local_authority():
    # The message is built by dropping the last letter of the kind: "local authoritie".
    with pytest.raises(UnknownFootprint) as e:
        geography.custom("x", local_authorities=["Boltn"])
    assert "E08000001 Bolton" in str(e.value)
    assert "unknown local authority 'Boltn'" in str(e.value)


def test_a_plan_with_a_custom_footprint_validates():
    p = plan.validate(
        {
            "name": "t",
            "footprints": ["E54000036", {"name": "Bolton and Bury", "ccgs": ["00T", "NHS Bury CCG"]}],
        }
    )
    assert p.codes == ["E54000036", "custom:bolton-and-bury"]
    _, bb = p.places
    gm = geography.find("E54000007")
    parts = {q.name: q for q in geography.split(gm, "ccg")}
    assert np.array_equal(
        bb.lsoas, np.sort(np.concatenate([parts["NHS Bolton CCG"].lsoas, parts["NHS Bury CCG"].lsoas]))
    )
    assert bb.definition == {"name": "Bolton and Bury", "ccgs": ["E38000016", "E38000024"]}


def test_a_plan_with_an_unknown_member_names_the_field_and_the_bad_value():
    doc = {"name": "t", "footprints": ["E54000036", {"name": "Mine", "ccgs": ["00T", "Boltn"]}]}
    with pytest.raises(plan.PlanError) as e:
        plan.validate(doc, "plan.yaml")
    hits = [ln for ln in e.value.lines if "'Boltn'" in ln]
    assert len(hits) == 1
    assert hits[0].startswith("footprints.1")
    assert "NHS Bolton CCG" in hits[0]


def test_a_plan_with_an_unknown_member_gives_one_line_for_one_mistake():
    # The mapping is an allowed form of a footprint, so "should be a valid string" (the preset
    # branch of the union) is noise; every mistake should be one line (tests/test_user_errors.py).
    doc = {"name": "t", "footprints": [{"name": "Mine", "ccgs": ["Boltn"]}]}
    with pytest.raises(plan.PlanError) as e:
        plan.validate(doc)
    assert len(e.value.lines) == 1, e.value.lines


# 6. split() ----------------------------------------------------------------------------------


def test_greater_manchester_split_by_ccg():
    gm = geography.find("E54000007")
    parts = geography.split(gm, "ccg")
    assert len(parts) == 10
    assert {o.code for o in gm.ccgs} == {p.code.split("/")[1] for p in parts}
    assert "NHS Tameside and Glossop CCG" in {p.name for p in parts}
    assert_partition([p.lsoas for p in parts], gm.lsoas)
    assert sum(p.population_mid2018 for p in parts) == pytest.approx(
        gm.population_mid2018, abs=len(parts) / 2
    )
    np.testing.assert_allclose(
        projection_of(parts).population.sum(axis=1), projection_of([gm]).population[:, 0], rtol=1e-12
    )
    for p in parts:  # each part is the whole CCG, which lies wholly inside GM
        assert p.code.startswith("E54000007/")
        assert len(p.definition["ccgs"]) == 1
        assert geography.custom(p.name, ccgs=[p.name]).key == p.key


def test_greater_manchester_split_by_local_authority():
    gm = geography.find("E54000007")
    parts = geography.split(gm, "local_authority")
    districts = {p.code.split("/")[1]: p for p in parts}
    metropolitan = {f"E0800000{i}" for i in range(1, 10)} | {"E08000010"}
    # The ten metropolitan districts, and the part of High Peak (Glossop) that Tameside and
    # Glossop CCG brought into the 2017 footprint.
    assert set(districts) == metropolitan | {"E07000037"}
    assert_partition([p.lsoas for p in parts], gm.lsoas)
    for code in metropolitan:
        assert districts[code].key == geography.custom("d", local_authorities=[code]).key
    high_peak = geography.custom("High Peak", local_authorities=["E07000037"])
    glossop = districts["E07000037"].lsoas
    assert 0 < len(glossop) < len(high_peak.lsoas)
    assert np.isin(glossop, high_peak.lsoas).all()
    assert sum(p.population_mid2018 for p in parts) == pytest.approx(
        gm.population_mid2018, abs=len(parts) / 2
    )


def test_split_by_an_unknown_kind_is_refused():
    with pytest.raises(UnknownFootprint, match="allowed: ccg, sub_icb, local_authority"):
        geography.split(geography.find("E54000007"), "ward")


# 7. Random streams follow the area -----------------------------------------------------------


def _run(footprint):
    p = plan.Plan.model_validate(
        {"name": "t", "footprints": [footprint], "end_year": "2018/19", "monte_carlo": {"draws": 20}}
    )
    (fp,) = p.places
    return fp, engine.run_block(p, [fp], range(20))


def test_the_same_area_gets_the_same_numbers_whatever_it_is_called():
    preset, a = _run("E54000036")
    drawn, b = _run({"name": "Kernow", "ccgs": ["NHS Kernow CCG"]})
    councils_fp, c = _run({"name": "Cornwall", "local_authorities": ["Cornwall", "E06000053"]})
    assert preset.code == "E54000036" and drawn.code == "custom:kernow"
    assert preset.stream == drawn.stream == councils_fp.stream
    assert a.activity.shape == (20, 3, 1, a.activity.shape[-1])
    assert np.array_equal(a.activity, b.activity)
    assert np.array_equal(a.activity, c.activity)
    assert np.array_equal(a.expected, b.expected)
    # a different area draws different numbers
    other, d = _run({"name": "Bolton", "ccgs": ["00T"]})
    assert other.stream != preset.stream
    z_a = a.activity / np.maximum(a.expected, 1.0)
    z_d = d.activity / np.maximum(d.expected, 1.0)
    assert not np.allclose(z_a, z_d)
