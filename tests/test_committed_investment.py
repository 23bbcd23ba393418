"""Issue 19, item 4: income follows commitments. With no plan, general practice's income grows at
least on the GP Forward View's published path and mental health's at least as the CCG allocation
(the Mental Health Investment Standard) plus its share of the Five Year Forward View for Mental
Health's GBP 1bn; the commitment is recomputed here from the published tables, not read from the
books. Where the commitment binds, the sector's change in position is its sourced income growth
less its sourced cost pressure: its 2016/17 position grows with the commitment, no worse."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from stpsim import engine, geography, plan
from stpsim.axes import year_label
from stpsim.finance import finance_parameters
from stpsim.finance.allocations import allocation_share, national_allocation, need_share
from stpsim.finance.books import _setup, base_year
from stpsim.reference import fact
from stpsim.run_parameters import declare

YEARS = np.arange(2016, 2021)
FOOTPRINTS = [f.code for f in geography.preset("stp2017")]


def _gpfv(years: np.ndarray) -> np.ndarray:
    item = "General Practice Forward View: spending on general practice"
    start = fact("national_finance", item, column="item", period="2015/16")
    end = fact("national_finance", item, column="item", period="2020/21")
    rate = (end / start) ** (1 / 5) - 1  # geometric from 2015/16 to 2020/21
    return (1 + rate) ** (np.minimum(years, 2020) - 2016)


def _mental_health(lsoas: np.ndarray, years: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ccg = national_allocation("CCGs", years, np.zeros(1))[0] * allocation_share("CCGs", lsoas, years)
    money = fact(
        "national_finance",
        "Five Year Forward View for Mental Health: new investment a year by 2020/21",
        column="item",
        period="2020/21",
    )
    extra = 0.8 * money * np.clip((years - 2016) / 4.0, 0.0, 1.0) * need_share(lsoas, years)
    return ccg / ccg[0], extra


@settings(max_examples=6, deadline=None)
@given(index=st.integers(0, len(FOOTPRINTS) - 1))
def test_income_follows_the_commitments_and_a_bound_sector_only_grows_its_starting_position(index):
    code = FOOTPRINTS[index]
    p = plan.validate(
        {"name": "x", "footprints": [code], "end_year": "2020/21", "monte_carlo": {"draws": 30, "seed": 5}}
    )
    arr, fin = engine.plan_books(p, incentives=False)
    books = fin.do_nothing[0]
    # The 2016/17 calibration (contract income at expected activity, and cost with the deficit):
    # what the commitments grow from.
    params = finance_parameters(declare(p).draw(5, range(30)))
    base = base_year(_setup(p.places[0], p.finance, YEARS, params, arr.demographic[:, 0]))
    ids = [o.id for o in books.orgs]
    lsoas = p.places[0].lsoas
    growth, extra = _mental_health(lsoas, YEARS)
    commitments = {
        "primary_care": (_gpfv(YEARS), np.zeros(len(YEARS))),
        "mental_health": (growth, extra),
    }
    for kind, (g, add) in commitments.items():
        i = ids.index(kind)
        income, cost = books.income[i], books.expenditure[i]  # (draw, year)
        committed = base.income[i][:, None] * g[None, :] + add[None, :]
        floor = base.cost[i][:, None] * g[None, :] + add[None, :]
        # Income and spending at least the commitment, every draw and year.
        assert (income[:, 1:] >= committed[:, 1:] * (1 - 1e-9)).all(), (code, kind)
        assert (cost[:, 1:] >= floor[:, 1:] * (1 - 1e-9)).all(), (code, kind)
        position = income - cost
        # Where both bind, the change in position is income growth less cost growth on the
        # commitment: the 2016/17 position times the commitment's growth.
        both = np.isclose(income, committed, rtol=1e-9) & np.isclose(cost, floor, rtol=1e-9)
        both[:, 0] = False
        expected = (base.income[i] - base.cost[i])[:, None] * g[None, :]
        np.testing.assert_allclose(position[both], np.broadcast_to(expected, position.shape)[both], rtol=1e-6)
        # Where the modelled cost pressure exceeds the commitment, the sector is worse off than
        # that, by exactly the excess.
        over = np.isclose(income, committed, rtol=1e-9) & (cost > floor * (1 + 1e-9))
        np.testing.assert_allclose(
            (position - np.broadcast_to(expected, position.shape))[over], (floor - cost)[over], rtol=1e-6
        )
        # Every later year is one of the three cases: both bind, the cost pressure is above the
        # commitment, or the contract pays more than the commitment.
        assert (both | over | (income > committed * (1 + 1e-9)))[:, 1:].all(), (code, kind)
        assert both.any() and over.any(), (code, kind)
    assert year_label(int(YEARS[-1])) == "2020/21"
