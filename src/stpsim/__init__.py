"""stpsim: plan, simulate and roll up England's sustainability and transformation plans.

    import stpsim
    results = stpsim.run("examples/greater_manchester.yaml")   # or a stpsim.plan.Plan
    results.summary()

:func:`stpsim.baseline.baseline` gives population and expected activity for any year from
2016/17 to 2035/36 without a plan.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .plan import Plan
    from .results import Results


def run(plan: Plan | str | Path) -> Results:
    """Run a plan (a Plan, or the path of a YAML/JSON plan file) and return its Results."""
    from . import engine
    from .plan import Plan, load

    return engine.run(plan if isinstance(plan, Plan) else load(plan))


__all__ = ["__version__", "run"]
