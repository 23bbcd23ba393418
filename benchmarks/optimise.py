"""Benchmark: `stpsim optimise` on Greater Manchester (issue 23).

Every library care model at 4 coverage levels (or not at all: 5 choices each), 3 provider
efficiency options and every organisation's CVaR limit (13 organisations), at 1,000 draws, with
the plan's own contracts and with three contract presets (PbR, blended, capitation). Medians of
warm calls in fresh processes, including the verifying full run:

- ``optimise_ms``: one contract set;
- ``optimise_presets_ms``: three presets to choose among;
- ``engine_pass_ms``: the one engine pass every preset shares (each option adopted alone);
- ``books_per_preset_ms``: each preset's books (one set per option) and its programme's data.

With ``--national``: ``national_s``, every footprint optimised and England summed
(`stpsim optimise --national examples/rollup`, two local workers), one cold call per process.

    .venv/bin/python benchmarks/optimise.py [--repeats 5] [--draws 1000] [--national] [--json]
"""

from __future__ import annotations

from fresh import arguments, medians, show  # benchmarks/fresh.py: the script's own folder is on the path

CHILD = r"""
import json, sys, time
from stpsim import plan as plans
from stpsim.service import optimiser
draws = int(sys.argv[1])
base = plans.load("examples/greater_manchester.yaml")
base = base.model_copy(update={"monte_carlo": base.monte_carlo.model_copy(update={"draws": draws})})
def spec(contracts):
    return plans.Optimise(
        efficiency=[{"low": 0.5, "high": 1.5}, {"low": 1.0, "high": 3.0}, {"low": 2.0, "high": 4.0}],
        contracts=contracts, deficit_limit=600.0,
        deficit_limits={"acute:R0A": 70.0, "acute:RW6": 40.0, "acute:RMC": 30.0},
    )
one = base.model_copy(update={"optimise": spec(None)})
three = base.model_copy(update={"optimise": spec(["pbr", "blended", "capitation"])})
optimiser.optimise(one)  # warm: tables, caches
def med(f, n=3):
    xs = []
    for _ in range(n):
        t = time.perf_counter(); f(); xs.append(time.perf_counter() - t)
    return sorted(xs)[len(xs) // 2] * 1000
ps = optimiser.engine_pass(one)
print(json.dumps({
    "optimise_ms": med(lambda: optimiser.optimise(one)),
    "optimise_presets_ms": med(lambda: optimiser.optimise(three)),
    "engine_pass_ms": med(lambda: optimiser.engine_pass(one)),
    "books_per_preset_ms": med(lambda: optimiser.build(one, None, ps)),
}))
"""


NATIONAL = r"""
import json, sys, time
from stpsim.rollup import load_plans
from stpsim.service.optimiser import optimise_national
t = time.perf_counter()
doc = optimise_national(load_plans("examples/rollup"), int(sys.argv[1]), 0, "local", 2)
gap = doc["england"]["gap"]["mean"] / 1e9
print(json.dumps({"national_s": time.perf_counter() - t, "england_gap_bn": gap}))
"""


def main() -> None:
    ap = arguments(__doc__)
    ap.add_argument("--national", action="store_true", help="time England (every footprint) instead")
    args = ap.parse_args()
    med = medians(NATIONAL if args.national else CHILD, [str(args.draws)], args.repeats)
    where = "England" if args.national else "Greater Manchester"
    show(med, args.json, f"optimise: {where}, {args.draws} draws ({args.repeats} fresh processes)")


if __name__ == "__main__":
    main()
