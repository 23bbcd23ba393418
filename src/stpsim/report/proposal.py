"""The board report's "Could another mix do better?": the optimiser's proposal (``stpsim
optimise``) for a plan with an ``optimise:`` section, against the plan itself. It reads the
optimiser's document and the run's own gap; nothing is optimised again here."""

from __future__ import annotations

import html

from ..story.core import listed
from .charts import money as _m  # £m to one decimal, one minus sign: the report's money


def paragraphs(doc: dict, plan_gap: float, titles: dict[str, str]) -> list[str]:
    """The proposal in words. ``plan_gap``: this plan's mean gap in the last year (GBP);
    ``titles``: care-model titles by name."""
    if not doc["feasible"]:
        relax = doc["relaxations"][0]["relax"] if doc["relaxations"] else []
        out = [
            "The optimiser searched this plan's options and found no mix that keeps every organisation within its limit."
        ]
        if relax:
            out.append(
                "The least it would take: "
                + listed([f"relax {r['constraint']} by {_m(r['by_gbp'])}" for r in relax])
                + "."
            )
        return out
    from ..contract_terms import PRESETS, contracts_title

    c, g = doc["choice"], doc["verified"]["gap"]
    contracts = contracts_title(c["contracts"]) if c["contracts"] in PRESETS else c["contracts"]
    models = [f"{titles.get(m['name'], m['name'])} at {m['coverage']:.0%}" for m in c["care_models"]]
    e = c["efficiency"]
    out = [
        f"The optimiser searched this plan's options for the mix with the lowest average gap in {doc['year']} that "
        f"keeps every organisation within its limit in its worst {1 - doc['cvar_level']:.0%} of futures.",
        f"It proposes {listed(models) if models else 'no care models'}, provider efficiency of {e['low']:g}% to "
        f"{e['high']:g}% a year, with contracts: {contracts}.",
        f"Run in full, that mix leaves a gap of {_m(g['mean'])} ({_m(g['p10'])} to {_m(g['p90'])}), against "
        f"{_m(plan_gap)} for this plan.",
    ]
    binding = [o for o in doc["organisations"] if o["binding"]]
    for o in binding:
        out.append(
            f"What limits it: the limit of {_m(o['limit'])} on {o['name']}; without it the gap would be "
            f"{_m(o['gap_cost_of_limit'])} smaller."
        )
    if doc["evppi"]:
        top = doc["evppi"][0]
        out.append(
            f"What would most change the choice if it were known first: {top['title'].lower()} "
            f"(worth {_m(top['evppi_gbp'])} of average gap)."
        )
    return out


def table_html(doc: dict) -> str:
    if not doc["feasible"]:
        return ""
    rows = "".join(
        f"<tr><td>{html.escape(o['name'])}</td><td>{'' if o['limit'] is None else _m(o['limit'])}</td>"
        f"<td>{_m(o['cvar_verified'])}</td><td>{'yes' if o['binding'] else ''}</td></tr>"
        for o in doc["organisations"]
    )
    return (
        "<table><caption>Each organisation's average deficit in its worst 5% of futures under the proposed mix "
        "(full run)</caption><thead><tr><th>Organisation</th><th>Limit</th><th>Worst 5%</th><th>Limits the "
        f"answer</th></tr></thead><tbody>{rows}</tbody></table>"
    )
