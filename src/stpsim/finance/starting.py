"""Each footprint's 2016/17 underlying position.

England's providers ended 2016/17 GBP 791m in deficit after GBP 1.8bn of non-recurrent
Sustainability and Transformation Fund (STF) support, about GBP 0.8bn of one-off savings and
about GBP 0.3bn of accounting changes (Nuffield Trust, The bottom line, 2017; the last two are
assumptions with ranges): an underlying deficit of about GBP 3.7bn.
Trust-level outturns were not found in machine-readable form, so the national figure is shared
between footprints by a mix (assumption ``starting_deficit_weight_on_loans``, with a range) of
where distress sat (Department of Health revenue-support loans drawn in 2016/17, mapped to
footprints through their trusts) and need-weighted population (where a uniform deficit would
put it). Within a footprint, the deficit is shared between its trusts (acute, community, mental
health, specialised) by their 2016/17 income. The STF itself is not modelled as income: the
starting position is the underlying one.
"""

from __future__ import annotations

import numpy as np

from .. import geography
from ..cache import persistent
from ..reference import fact
from .allocations import england_need, need_weighted


@persistent
def reported_and_stf() -> float:
    """Providers' 2016/17 deficit before STF support, GBP (positive is a deficit): the published
    part of the underlying deficit."""
    net = fact(
        "national_finance", "NHS provider sector net deficit (year end)", column="item", period="2016/17"
    )
    stf = fact(
        "national_finance",
        "Sustainability and Transformation Fund (sustainability element, to providers)",
        column="item",
        period="2016/17",
    )
    return stf - net  # net is negative: 1.8bn + 0.791bn


def national_underlying_deficit(one_offs: np.ndarray, accounting: np.ndarray) -> np.ndarray:
    """England's providers' 2016/17 underlying deficit by draw, GBP (positive is a deficit): the
    reported deficit, the STF support, and the drawn one-off savings and accounting changes."""
    return reported_and_stf() + one_offs + accounting


def central_underlying_deficit() -> float:
    """England's providers' 2016/17 underlying deficit at the central one-offs and accounting
    changes, GBP: context for the national arithmetic, not a draw."""
    from ..parameters import assumption

    one_offs, accounting = (
        np.array([assumption(name, scale=1e9).value])
        for name in ("provider_one_off_savings_2016_17", "provider_accounting_changes_2016_17")
    )
    return float(national_underlying_deficit(one_offs, accounting)[0])


def footprint_deficit(lsoas: np.ndarray, loans_weight: np.ndarray, national: np.ndarray) -> np.ndarray:
    """An area's 2016/17 underlying trust deficit by draw, GBP: its share (of England's
    ``national`` by draw) of the loans its trusts drew (spread over their 2017 footprint by
    population) and of need, mixed."""
    loans = geography.small_areas().loans
    loan_share = loans[lsoas].sum() / loans.sum()
    need = need_weighted(lsoas)[0] / england_need()[0]
    return national * (loans_weight * loan_share + (1 - loans_weight) * need)
