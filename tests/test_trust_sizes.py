"""Acute trusts at their real size (issue 14): each acute setting is split between a footprint's
trusts by a published 2016/17 measure, not equally."""

import numpy as np
import pytest

from stpsim import engine, geography, plan
from stpsim.organisations import SIZE_MEASURE, acute_size_shares
from stpsim.reference import table

GM = "E54000007"


@pytest.mark.parametrize("geo", ["stp2017", "icb2022"])
def test_shares_sum_to_one_in_every_footprint_and_setting(geo):
    for fp in geography.preset(geo):
        shares = acute_size_shares(fp)
        assert set(shares) == set(SIZE_MEASURE)
        for setting, split in shares.items():
            assert sum(split.values()) == pytest.approx(1.0, abs=1e-12), (fp.code, setting)
            assert all(v > 0 for v in split.values())


def test_shares_reproduce_the_published_figures():
    ae = table("ae_attendances_by_provider_2016_17").set_index("org_code")
    beds = table("acute_beds_by_trust_winter_2016_17").set_index("org_code")
    gm = geography.find(GM)
    codes = [t.code for t in gm.acute_trusts]

    def published(df, col):
        # Manchester University NHS Foundation Trust (R0A) is its two predecessors of 2016/17.
        parts = {c: (["RW3", "RM2"] if c == "R0A" else [c]) for c in codes}
        raw = {c: float(sum(df.loc[p, col] for p in ps)) for c, ps in parts.items()}
        total = sum(raw.values())
        return {f"acute:{c}": v / total for c, v in raw.items()}

    shares = acute_size_shares(gm)
    for setting, (df, col) in {
        "ae_attendances": (ae, "attendances_all"),
        "emergency_admissions": (ae, "admissions_all"),
        "elective_admissions": (beds, "ga_beds_open_mean"),
        "outpatient_first": (beds, "ga_beds_open_mean"),
    }.items():
        want = published(df, col)
        assert shares[setting] == pytest.approx(want, abs=1e-12), setting
    # Bed days follow their admissions.
    assert shares["emergency_bed_days"] == shares["emergency_admissions"]


def test_a_drawn_footprint_inside_one_stp_shares_its_trusts_like_the_stp():
    bolton = geography.custom("Bolton", ccgs=["00T"])
    whole = acute_size_shares(geography.find(GM))
    for setting, split in acute_size_shares(bolton).items():
        assert split == pytest.approx(whole[setting], abs=1e-12)


def test_greater_manchesters_trusts_are_no_longer_identical():
    p = plan.load("examples/greater_manchester.yaml").model_copy(
        update={"monte_carlo": plan.MonteCarlo(draws=20, seed=1)}
    )
    books = engine.run(p, incentives=False).finance.footprints[0]
    acute = [i for i, o in enumerate(books.orgs) if o.kind == "acute"]
    income = books.income[acute, :, 0].mean(axis=1)
    assert len(set(np.round(income, -3))) == len(acute)
    names = [books.orgs[i].name for i in acute]
    biggest = names[int(np.argmax(income))]
    assert biggest == "Manchester University NHS Foundation Trust"
    # A plan's own acute_shares still wins.
    even = {f"acute:{books.orgs[i].id.removeprefix('acute:')}": 1 / len(acute) for i in acute}
    p2 = p.model_copy(update={"finance": p.finance.model_copy(update={"acute_shares": even})})
    books2 = engine.run(p2, incentives=False).finance.footprints[0]
    income2 = books2.income[acute, :, 0].mean(axis=1)
    assert np.allclose(income2, income2[0], rtol=0.02)
