"""CCG allocations follow each CCG's distance from its target allocation (NHS England, 2018/19):
the path worked by hand, the shipped table against its source, and what it does to footprints."""

from __future__ import annotations

import numpy as np
import pytest

from stpsim import geography
from stpsim.axes import YEARS
from stpsim.finance import allocations
from stpsim.reference import table

Y = {int(y): i for i, y in enumerate(YEARS)}


def test_distance_path_worked_by_hand():
    # A: 4% over target, pace of change moved it 1 point closer in 2018/19 (opening 5%).
    # B: 2% under, moved 1.5 points closer (opening -3.5%). C: 1% under, moved away (opening -0.5%).
    opening = np.array([0.05, -0.035, -0.005])
    closing = np.array([0.04, -0.02, -0.01])
    path = allocations.distance_path(opening, closing, pace=1.0)
    # 2016/17 is one more 2018/19 step back; 2017/18 the opening; 2018/19 the closing distance.
    np.testing.assert_allclose(path[:, Y[2016]], [0.06, -0.05, 0.0], atol=1e-15)
    np.testing.assert_allclose(path[:, Y[2017]], [0.05, -0.035, -0.005], atol=1e-15)
    np.testing.assert_allclose(path[:, Y[2018]], [0.04, -0.02, -0.01], atol=1e-15)
    # Then the step continues to 2020/21 without crossing zero; C holds; all hold after 2020/21.
    np.testing.assert_allclose(path[:, Y[2019]], [0.03, -0.005, -0.01], atol=1e-15)
    np.testing.assert_allclose(path[:, Y[2020]], [0.02, 0.0, -0.01], atol=1e-15)
    np.testing.assert_allclose(path[:, Y[2035]], [0.02, 0.0, -0.01], atol=1e-15)
    held = allocations.distance_path(opening, closing, pace=0.0)
    np.testing.assert_allclose(held[:, Y[2020]], closing, atol=1e-15)


def test_shipped_table_matches_the_published_allocations():
    df = table("ccg_distance_from_target_2018_19")
    assert len(df) == 209 and df["ccg16cd"].is_unique
    # Final allocations sum to the 2018/19 CCG total less Newcastle Gateshead (no row in the copy).
    total = float(df["final_allocation_gbp000"].sum()) * 1000
    assert 73.5e9 < total < 74.9e9
    assert df["opening_dft_pct"].isna().sum() == 1
    # Every small area's CCG has a row, so every small area has a distance.
    assert set(geography.small_areas().codes["ccg16cd"]) <= set(df["ccg16cd"].astype(str))


def test_over_target_areas_get_more_now_and_less_growth():
    fps = {f.code: f for f in geography.preset("stp2017")}
    years = np.array([2016, 2020])

    def ratio(code: str) -> np.ndarray:  # CCG share against need share
        lsoas = fps[code].lsoas
        return allocations.allocation_share("CCGs", lsoas, years) / allocations.need_share(lsoas, years)

    over = ratio("E54000046")  # Northumberland, Tyne and Wear and North Durham: about 6% over target
    under = ratio("E54000044")  # Milton Keynes, Bedfordshire and Luton: about 4% under
    assert over[0] > 1.04 and under[0] < 0.97
    assert over[1] < over[0] and under[1] > under[0]  # pace of change closes both


@pytest.mark.parametrize("pace", [0.0, 1.0, 1.5])
def test_distances_never_cross_target_going_forward(pace):
    df = table("ccg_distance_from_target_2018_19")
    o = df["opening_dft_pct"].to_numpy(float, na_value=0.0) / 100
    c = df["closing_dft_pct"].to_numpy(float, na_value=0.0) / 100
    path = allocations.distance_path(o, c, pace)
    later = path[:, Y[2018] :]
    assert (np.sign(later) * np.sign(c)[:, None] >= 0).all()
    assert (np.abs(np.diff(later, axis=1)) <= np.abs(o - c)[:, None] * pace + 1e-15).all()
