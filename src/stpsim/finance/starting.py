"""Each footprint's 2016/17 underlying position.

England's providers ended 2016/17 GBP 791m in deficit after GBP 1.8bn of non-recurrent
Sustainability and Transformation Fund (STF) support: an underlying deficit of about GBP 2.6bn.
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

from .. import footprint
from ..cache import persistent
from ..reference import fact, table
from .allocations import weighted_population


@persistent
def national_underlying_deficit() -> float:
    """Providers' 2016/17 deficit before STF support, GBP (positive is a deficit)."""
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


@persistent
def loan_shares() -> np.ndarray:
    """Each footprint's share of the revenue-support loans its trusts drew in 2016/17 (mapped
    trusts only), in footprint order."""
    df = table("revenue_support_loans_by_footprint_2016_17").set_index("stp17cd")
    drawn = np.array([float(df.loc[c, "drawn_2016_17_gbp"]) for c in footprint.codes()])
    return drawn / drawn.sum()


def footprint_deficit(f: int, loans_weight: np.ndarray) -> np.ndarray:
    """Footprint ``f``'s 2016/17 underlying trust deficit by draw, GBP."""
    wp = weighted_population()[0]
    share = loans_weight * loan_shares()[f] + (1 - loans_weight) * wp[f] / wp.sum()
    return national_underlying_deficit() * share
