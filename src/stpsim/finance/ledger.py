"""The books: a ledger of payments, each footprint's accounts, and a plan's accounts.

Every payment has a payer and a payee, so money is conserved by construction and transfers net
out of the system total: the system surplus depends only on external income (allocations,
council funding), payments out of the footprint and costs. All arrays are (draw, year).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np

from ..organisations import Organisation

# The do-nothing bridge, in order: from the 2016/17 position to each year's gap. The plan adds
# its care models and its provider efficiency.
BRIDGE_LINES = (
    "starting_deficit",
    "demography",
    "other_demand_growth",
    "real_unit_cost_growth",
    "pay_and_prices",
    "committed_investment",
    "social_care",
    "allocation_growth",
)
PLAN_LINES = ("care_models", "provider_efficiency")
SCOPE = (
    "In scope: the money that reaches the footprint. That is its need-weighted share of NHS "
    "England's CCG, primary care and specialised commissioning allocations, plus its councils' "
    "funding for adult social care (older and working-age adults, ASC-FR 2016/17). Spending "
    "covers hospitals, community services, general practice, mental health, specialised services "
    "(by need), the commissioners' other spending (prescribing, continuing care and the rest) and "
    "out-of-area care. Out of scope: NHS England's central budgets, public health, capital, the "
    "Sustainability and Transformation Fund (so 2016/17 shows the underlying position) and the "
    "Better Care Fund transfers inside council spend."
)
BRIDGE_TITLES = {
    "starting_deficit": "2016/17 underlying position (trusts' deficits before STF, social care market gap)",
    "demography": "Demography: more and older people",
    "other_demand_growth": "Other demand growth (more care per person, noise of the year)",
    "real_unit_cost_growth": "Real growth in cost per unit (drugs, technology, case mix)",
    "pay_and_prices": "Pay and prices",
    "committed_investment": "Committed investment (GP Forward View, mental health)",
    "social_care": "Adult social care: need and prices less council funding growth",
    "allocation_growth": "Growth in NHS allocations (less is a bigger gap)",
    "care_models": "The plan's care models, net of their costs",
    "provider_efficiency": "Provider efficiency (cost improvement) the plan assumes",
}


# Short names for charts.
BRIDGE_SHORT = {
    "starting_deficit": "2016/17 position",
    "demography": "Demography",
    "other_demand_growth": "Other demand",
    "real_unit_cost_growth": "Cost per unit",
    "pay_and_prices": "Pay and prices",
    "committed_investment": "Committed investment",
    "social_care": "Social care",
    "allocation_growth": "NHS allocations",
    "care_models": "Care models",
    "provider_efficiency": "Provider efficiency",
}


def in_order(rows: np.ndarray) -> np.ndarray:
    """The sum of ``rows`` (organisations or footprints) over the leading axis, added one after
    another. numpy adds them so while the rest of the array has more than one number, but in
    pairs when it has one (a chunk of one draw and one year, or one draw of (org, draw) arrays),
    so a draw's books would differ in the last bits with the draws that share its chunk."""
    total = np.array(rows[0], dtype=float, copy=True)
    for row in rows[1:]:
        total += row
    return total


@dataclass
class Ledger:
    """Every payment: payer, payee, what for, amount by (draw, year)."""

    orgs: list[Organisation]
    shape: tuple[int, int]
    entries: list[tuple[str, str, str, np.ndarray]] = field(default_factory=list)

    def pay(self, payer: str, payee: str, label: str, amount: np.ndarray | float) -> None:
        if payer != payee:
            a = np.asarray(amount, dtype=float)
            if a.shape != self.shape:
                a = np.broadcast_to(a, self.shape).copy()
            # Kept, not copied (scenarios share what did not change): so read-only from here on.
            a.flags.writeable = False
            self.entries.append((payer, payee, label, a))

    def received(self, payee: str) -> np.ndarray:
        """What ``payee`` has received so far by (draw, year), in the order it was paid."""
        out = np.zeros(self.shape)
        for _, to, _, amount in self.entries:
            if to == payee:
                out += amount
        return out

    def totals(self) -> tuple[np.ndarray, np.ndarray]:
        """Received and paid by (org, draw, year)."""
        ids = {o.id: i for i, o in enumerate(self.orgs)}
        received = np.zeros((len(ids),) + self.shape)
        paid = np.zeros_like(received)
        for payer, payee, _, amount in self.entries:
            paid[ids[payer]] += amount
            received[ids[payee]] += amount
        return received, paid

    def sliced(self, t0: int) -> Ledger:
        return Ledger(
            self.orgs,
            (self.shape[0], self.shape[1] - t0),
            [(a, b, c, m[:, t0:]) for a, b, c, m in self.entries],
        )


@dataclass(frozen=True)
class FootprintFinance:
    code: str
    orgs: list[Organisation]
    years: np.ndarray
    income: np.ndarray  # (org, draw, year) money received
    expenditure: np.ndarray  # (org, draw, year) own costs plus payments made
    own_costs: np.ndarray  # (org, draw, year)
    ledger: Ledger
    bridge: dict[str, np.ndarray]  # do-nothing line -> (draw, year); sums to the do-nothing gap
    efficiency_saving: np.ndarray  # (draw, year) provider cost improvement (zero in do-nothing)

    @cached_property
    def surplus(self) -> np.ndarray:
        """(org, draw, year) income less expenditure (worked out once: every page reads it)."""
        return self.income - self.expenditure

    def sliced(self, t0: int) -> FootprintFinance:
        """The same books from the ``t0``-th year on."""
        return replace(
            self,
            years=self.years[t0:],
            income=self.income[:, :, t0:],
            expenditure=self.expenditure[:, :, t0:],
            own_costs=self.own_costs[:, :, t0:],
            ledger=self.ledger.sliced(t0),
            bridge={k: v[:, t0:] for k, v in self.bridge.items()},
            efficiency_saving=self.efficiency_saving[:, t0:],
        )

    @cached_property
    def system_surplus(self) -> np.ndarray:
        """All the footprint's organisations together (NHS and councils): worked out once, as
        the story, tables and charts each read it, and read-only, so no reader can change it
        for the next."""
        keep = np.array([o.kind != "external" for o in self.orgs])
        out = in_order(self.surplus[keep])
        out.flags.writeable = False
        return out

    @property
    def gap(self) -> np.ndarray:
        return -self.system_surplus

    @property
    def nhs_surplus(self) -> np.ndarray:
        keep = np.array([o.kind not in ("external", "social_care") for o in self.orgs])
        return in_order(self.surplus[keep])


@dataclass(frozen=True)
class CareModelCosts:
    """Each adopted care model's cost by (draw, year) and the kind of organisation that runs it.
    ``cost`` is ``investment`` (non-recurrent set-up as coverage rises) plus ``running``
    (recurrent, at the coverage reached); the two are kept apart for payback."""

    names: tuple[str, ...]
    bearer: tuple[str, ...]
    cost: np.ndarray  # (intervention, draw, year)
    investment: np.ndarray | None = None  # (intervention, draw, year) non-recurrent
    running: np.ndarray | None = None  # (intervention, draw, year) recurrent
    part_of_efficiency: tuple[bool, ...] = ()  # per care model: its saving counts within efficiency

    def only(self, i: int) -> CareModelCosts:
        """The costs of care model ``i`` alone (each model's are worked out by itself)."""

        def one(x: np.ndarray | None) -> np.ndarray | None:
            return None if x is None else x[i : i + 1]

        flags = self.part_of_efficiency[i : i + 1]
        return CareModelCosts(
            self.names[i : i + 1],
            self.bearer[i : i + 1],
            self.cost[i : i + 1],
            one(self.investment),
            one(self.running),
            flags,
        )

    def sliced(self, t0: int) -> CareModelCosts:
        def cut(x: np.ndarray | None) -> np.ndarray | None:
            return None if x is None else x[:, :, t0:]

        return replace(
            self, cost=self.cost[:, :, t0:], investment=cut(self.investment), running=cut(self.running)
        )


@dataclass(frozen=True)
class PlanFinance:
    footprints: tuple[FootprintFinance, ...]
    do_nothing: tuple[FootprintFinance, ...]
    incentives: dict[tuple[str, str, str], np.ndarray]  # (intervention, footprint, org) -> (draw,) gain
    # The same gains every year: (intervention, footprint, org) -> (draw, year), the change in the
    # organisation's surplus with that care model adopted alone against do-nothing.
    incentives_by_year: dict[tuple[str, str, str], np.ndarray] = field(default_factory=dict)
    # Per footprint, the plan's adopted care models' costs (investment and running apart).
    care_model_costs: tuple[CareModelCosts, ...] = ()

    def sliced(self, t0: int) -> PlanFinance:
        return PlanFinance(
            tuple(b.sliced(t0) for b in self.footprints),
            tuple(b.sliced(t0) for b in self.do_nothing),
            self.incentives,
            {k: v[:, t0:] for k, v in self.incentives_by_year.items()},
            tuple(c.sliced(t0) for c in self.care_model_costs),
        )

    def system_surplus(self, scenario: str = "plan") -> np.ndarray:
        """(draw, year) summed over the plan's footprints. Do-nothing has no care models and no
        provider efficiency: the STP "do-nothing" before cost improvement. ``care_models`` is the
        plan before its provider efficiency."""
        if scenario == "care_models":
            return self.system_surplus("plan") - self.efficiency_saving()
        books = {"plan": self.footprints, "do_nothing": self.do_nothing}[scenario]
        return sum(b.system_surplus for b in books)

    def gap(self, scenario: str = "plan") -> np.ndarray:
        """Shortfall (positive) by (draw, year): minus the system surplus."""
        return -self.system_surplus(scenario)

    def efficiency_saving(self) -> np.ndarray:
        return sum(b.efficiency_saving for b in self.footprints)

    def bridge(self, scenario: str = "plan") -> dict[str, np.ndarray]:
        """Lines by (draw, year) that sum exactly to the scenario's gap: the do-nothing bridge,
        then (for the plan) the care models' effect and the provider efficiency, each apart."""
        lines = {k: sum(b.bridge[k] for b in self.do_nothing) for k in BRIDGE_LINES}
        if scenario == "do_nothing":
            return lines
        dn = self.gap("do_nothing")
        return lines | {
            "care_models": self.gap("care_models") - dn,
            "provider_efficiency": self.gap("plan") - self.gap("care_models"),
        }
