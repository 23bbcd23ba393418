"""stpsim: plan, simulate and roll up England's sustainability and transformation plans.

    import stpsim
    record = stpsim.run("examples/greater_manchester.yaml")   # or a stpsim.plan.Plan, or a dict
    record.summary()              # or .to_frame(), .document (what `run --json` prints)
    record.save("gm.stpsim")      # stpsim.load("gm.stpsim") reads it back, exactly

:func:`stpsim.baseline.baseline` gives population and expected activity for any year from
2016/17 to 2035/36 without a plan.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .version import __version__

if TYPE_CHECKING:
    from .plan import Plan
    from .record import RunRecord


def run(plan: Plan | Mapping[str, Any] | str | Path) -> RunRecord:
    """Run a plan and return its run record (arrays, analyses, the JSON document and the run's
    identity). ``plan`` is a Plan, a plan document as a mapping (as a YAML file would give), or
    the path of a YAML/JSON plan file. A plan that cannot be run raises PlanError (a ValueError)
    listing every problem."""
    from .plan import Plan, PlanError, load, validate
    from .service.compute import run_plan

    if isinstance(plan, Mapping):
        plan = validate(dict(plan))
    elif isinstance(plan, str | Path):
        plan = load(plan)
    elif not isinstance(plan, Plan):
        kind = type(plan).__name__
        allowed = "allowed: a Plan, a plan mapping or a plan file"
        raise PlanError("<plan>", [f"cannot run a value of type {kind}; {allowed}"])
    return run_plan(plan)


def load(path: str | Path) -> RunRecord:
    """A run record saved by ``record.save(path)`` or ``stpsim run PLAN --save path``."""
    from .record import RunRecord

    return RunRecord.load(path)


__all__ = ["__version__", "load", "run"]
