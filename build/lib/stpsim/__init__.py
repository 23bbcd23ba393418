"""stpsim: plan, simulate and roll up England's sustainability and transformation plans.

    import stpsim
    results = stpsim.run("examples/greater_manchester.yaml")   # or a stpsim.plan.Plan, or a dict
    results.summary()

:func:`stpsim.baseline.baseline` gives population and expected activity for any year from
2016/17 to 2035/36 without a plan.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

# The same as pyproject.toml's version (a test checks); a constant, because reading the
# installed metadata costs every command 30 ms at start-up.
__version__ = "0.1.0"

if TYPE_CHECKING:
    from .plan import Plan
    from .results import Results


def run(plan: Plan | Mapping[str, Any] | str | Path) -> Results:
    """Run a plan and return its Results. ``plan`` is a Plan, a plan document as a mapping (as a
    YAML file would give), or the path of a YAML/JSON plan file. A plan that cannot be run
    raises PlanError (a ValueError) listing every problem."""
    from . import engine
    from .plan import Plan, PlanError, load, validate

    if isinstance(plan, Plan):
        return engine.run(plan)
    if isinstance(plan, Mapping):
        return engine.run(validate(dict(plan)))
    if isinstance(plan, str | Path):
        return engine.run(load(plan))
    raise PlanError(
        "<plan>",
        [f"cannot run a value of type {type(plan).__name__}; allowed: a Plan, a plan mapping or a plan file"],
    )


__all__ = ["__version__", "run"]
