"""Finance: the money that reaches a footprint, what its organisations spend, how contracts move
money between them, and the bridge from the 2016/17 position to each year's gap.

Stages (each a module): ``params`` (every uncertain parameter drawn once), ``allocations``,
``starting`` (2016/17 underlying position), ``payments`` (contracts under each year's rule
book), ``provider_costs``, ``councils``, ``care_models``, ``books`` (one footprint's books,
stage by stage), ``ledger`` (the accounts and the bridge) and ``validation``.
"""

from .books import CQUIN_RATE, SOCIAL_CARE_SETTINGS, Scenario, Shared, footprint_finance, prices_and_costs
from .care_models import care_model_costs
from .ledger import (
    BRIDGE_LINES,
    BRIDGE_SHORT,
    BRIDGE_TITLES,
    PLAN_LINES,
    SCOPE,
    CareModelCosts,
    FootprintFinance,
    Ledger,
    PlanFinance,
)
from .params import FinanceParams, finance_parameter_list, finance_parameters
from .validation import acute_shares, check_options

__all__ = [
    "BRIDGE_LINES",
    "BRIDGE_SHORT",
    "BRIDGE_TITLES",
    "CQUIN_RATE",
    "PLAN_LINES",
    "SCOPE",
    "SOCIAL_CARE_SETTINGS",
    "CareModelCosts",
    "FinanceParams",
    "FootprintFinance",
    "Ledger",
    "PlanFinance",
    "Scenario",
    "acute_shares",
    "care_model_costs",
    "check_options",
    "finance_parameter_list",
    "finance_parameters",
    "Shared",
    "footprint_finance",
    "prices_and_costs",
]
