"""Every parameter of a run, declared once: the registry a run draws from.

Each stage says which parameters it reads (growth, care-model effects, substitution and costs,
capacity, every finance assumption, workforce factors, the discount rate); ``declare`` gathers
them for a plan, with the plan's overrides, into one :class:`~stpsim.parameters.Registry`. A run
draws the registry once (``Registry.draw``: draws x parameters) and hands the draws to every
stage; the run record keeps them. The tornado and any value-of-information analysis iterate over
the registry, never over what happened to be drawn.
"""

from __future__ import annotations

from . import assumptions
from .adoption import adopted_interventions
from .capacity import CAPACITY
from .parameters import Interval, Parameter, Registry, assumption, title
from .plan import GROWTH_KEYS, Plan

# The workforce analysis's conversion factors (sessions or hours per whole-time equivalent).
WORKFORCE_FACTORS = (
    "sessions_per_wte_per_year",
    "consultant_clinical_sessions_per_wte_per_year",
    "care_worker_hours_per_wte_per_year",
    "home_care_contact_share_of_worked_time",
    "care_home_care_hours_per_resident_week",
)
DISCOUNT_RATE = "assumption/discount_rate_green_book"
DEFLATOR = "assumption/gdp_deflator_growth"
OPTIMISM_BIAS = "assumption/optimism_bias_care_model_costs"


def growth_parameters(plan: Plan) -> list[Parameter]:
    out = []
    for k in GROWTH_KEYS:
        pid = f"growth/{k}"
        if k in plan.growth:
            iv, source = plan.growth[k], "the plan"
        else:
            a = assumptions.get(f"growth_{k}")
            iv, source = Interval.of(float(a.low), float(a.high)), "assumptions.yaml"  # type: ignore[arg-type]
        # Truncated at -99% a year: a rate cannot fall below nothing.
        out.append(Parameter(pid, title(pid), "% a year", iv.central, iv, -99.0, None, source))
    return out


def care_model_parameters(plan: Plan) -> list[Parameter]:
    """Effects, substitution and costs of every care model the plan adopts."""
    out = []
    for a in adopted_interventions(plan):
        name = a.spec.name
        source = "the plan" if name in {c.name for c in plan.custom_interventions} else "interventions.yaml"
        for k, iv in a.spec.effects.items():
            pid = f"effect/{name}/{k}"
            out.append(
                Parameter(pid, title(pid), "share of the rate avoided", iv.central, iv, None, 0.95, source)
            )
        for src, creates in a.spec.substitution.items():
            for dst, iv in creates.items():
                pid = f"substitution/{name}/{src}/{dst}"
                out.append(
                    Parameter(pid, title(pid), "units per unit avoided", iv.central, iv, 0.0, None, source)
                )
        for part, iv in (("investment", a.spec.costs.investment), ("running", a.spec.costs.running_cost)):
            pid = f"cost/{name}/{part}"
            out.append(
                Parameter(pid, title(pid), "GBP per 1,000 targeted people", iv.central, iv, source=source)
            )
    return out


def capacity_parameters() -> list[Parameter]:
    # Bed occupancy also sizes the wards the finance stage costs: it reaches the gap.
    return [
        assumption(param, lower=0.5, upper=1.0, kind="capacity")
        if param == "bed_occupancy"
        else assumption(param, lower=1e-6, reaches_gap=False, kind="capacity")
        for _, param in CAPACITY.values()
    ]


def analysis_parameters() -> list[Parameter]:
    """Read by the analyses of a run only: workforce factors and the discount rate."""
    return [assumption(k, lower=1e-6, reaches_gap=False) for k in WORKFORCE_FACTORS] + [
        assumption("discount_rate_green_book", scale=0.01, reaches_gap=False),
        assumption("gdp_deflator_growth", scale=0.01, reaches_gap=False),
        assumption("optimism_bias_care_model_costs", lower=0.0, reaches_gap=False),
    ]


def declare(plan: Plan) -> Registry:
    """Every parameter a run of ``plan`` reads, once each, with the plan's overrides."""
    from .finance.params import finance_parameter_list

    return Registry(
        growth_parameters(plan)
        + care_model_parameters(plan)
        + capacity_parameters()
        + finance_parameter_list(plan.finance)
        + analysis_parameters()
    )
