"""Write the figures in docs/finance.md from the tool, so they never go stale.

The blocks between ``<!-- figures:NAME -->`` and ``<!-- /figures:NAME -->`` are generated from
the do-nothing roll-up (`stpsim rollup --draws 1000 --seed 1 --json`, worked out in process):
England's reconciliation by year, the starting position, the tie-out with the published 2016/17
figures and the spread of the gap per head. ``--check`` exits 1 when the file differs from
what the tool gives now (tests/test_docs_figures.py runs it).

    .venv/bin/python scripts/finance_doc_figures.py [--check]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "finance.md"
DRAWS, SEED = 1000, 1
YEARS = ("2017/18", "2018/19", "2019/20", "2020/21")


def rollup_document() -> dict:
    from stpsim.rollup import rollup

    return rollup({}, DRAWS, SEED, 2020, executor="serial").to_dict()


def bn(x: float) -> str:
    return f"{x / 1e9:,.2f}".replace("-", "−")


def reconciliation(doc: dict) -> str:
    bridge = doc["reconciliation"]["do_nothing_bridge"]
    rows = [
        "| Line | " + " | ".join(YEARS) + " | 2020/21, 80% |",
        "|---|" + "---:|" * (len(YEARS) + 1),
    ]
    for key, line in bridge.items():
        if key in ("care_models", "provider_efficiency"):
            continue  # the do-nothing has neither
        last = line["2020/21"]
        # Allocations are published, not drawn: no interval.
        spread = "" if key == "allocation_growth" else f"{bn(last['p10'])} to {bn(last['p90'])}"
        rows.append(
            f"| {line['title']} | " + " | ".join(bn(line[y]["mean"]) for y in YEARS) + f" | {spread} |"
        )
    gap = doc["reconciliation"]["do_nothing_gap"]
    last = gap["2020/21"]
    rows.append(
        "| **Do-nothing gap** | "
        + " | ".join(f"**{bn(gap[y]['mean'])}**" for y in YEARS)
        + f" | **{bn(last['p10'])} to {bn(last['p90'])}** |"
    )
    return "\n".join(rows)


def starting(doc: dict) -> str:
    tie = {r["measure"]: r for r in doc["england"]["base_year_tie_out"]}
    trusts = tie["NHS trusts' underlying position"]
    ccgs = tie["CCGs' position before the 1% risk reserve"]
    gap0 = doc["england"]["do_nothing_gap"]["2016/17"]["mean"]
    return (
        f"England's do-nothing gap in 2016/17 is £{gap0 / 1e9:.2f}bn: the trusts' underlying deficit "
        f"(modelled £{-trusts['modelled']['mean'] / 1e9:.2f}bn against the published "
        f"£{-trusts['published'] / 1e9:.2f}bn), the CCGs' overspend (modelled "
        f"£{-ccgs['modelled']['mean'] / 1e6:,.0f}m against £{-ccgs['published'] / 1e6:,.0f}m; the year's "
        "activity noise moves it) and the social care market gap."
    )


def per_head(doc: dict) -> str:
    rows = [(f["do_nothing_gap"]["2020/21"]["mean"] / f["population"], f["name"]) for f in doc["footprints"]]
    rows.sort()
    low, high = rows[0], rows[-1]
    median = statistics.median(v for v, _ in rows)
    drivers = doc["england"]["gap_per_head_drivers"]
    top = list(drivers["share_of_spread"].values())
    cv = drivers["spread"]["coefficient_of_variation"]
    return (
        f"**Across footprints**, the do-nothing gap in 2020/21 runs from £{low[0]:,.0f} a head "
        f"({low[1]}) to £{high[0]:,.0f} ({high[1]}), with a median of £{median:,.0f} "
        f"(max/min {high[0] / low[0]:.2f}, coefficient of variation {cv:.2f}). IPPR's reading of "
        "the STPs' own do-nothing gaps gave £216 to £769 a head (*STPs: kill or cure?*, 2017; "
        "coefficient of variation about 0.28), but the plans measured their gaps in different "
        "ways. Shares of the modelled spread (a negative share narrows it): "
        + "; ".join(f"{t['title']} {100 * t['share']:+.0f}%" for t in top[:3])
        + "."
    )


def forward_view(doc: dict) -> str:
    f = doc["reconciliation"]["five_year_forward_view"]
    scaled = {k: v / 1e9 for k, v in f["published_scaled_to_scope"].items()}
    total = doc["reconciliation"]["do_nothing_gap"]["2020/21"]["mean"] / 1e9
    share = 100 * f["in_scope_share_of_nhs_england_revenue_2016_17"]
    start, fyfv = (f["nhs_gap_by_year"][y] / 1e9 for y in ("2016/17", "2020/21"))
    return (
        "The same arithmetic on the NHS money in scope is in `reconciliation.five_year_forward_view`. "
        f"The 2016/17 in-scope allocations ({share:.1f}% of NHS England's revenue) plus the trusts' "
        f"£{start:.2f}bn underlying deficit, growing 4% a year real at the model's central pay and "
        f"prices, less the published allocations, give £{fyfv:.1f}bn in 2020/21 (NHS only). The "
        f"modelled do-nothing gap is £{total:.1f}bn with adult social care; its NHS part is lower "
        "because the modelled pressure is about 3% a year, not 4%. The published £30bn, £22bn and "
        f"£15bn scaled to this scope are £{scaled['funding_gap_without_efficiency_2020_21']:.1f}bn, "
        f"£{scaled['efficiency_required_2020_21']:.1f}bn and £{scaled['expected_from_stps']:.1f}bn. "
        "They are measured from 2014/15, so they are context, not the same measure."
    )


def social_care(doc: dict) -> str:
    rows = ["| Year | Publisher | Measure | Published, £m | Modelled councils' gap, £m (80% interval) |"]
    rows.append("|---|---|---|---:|---:|")
    for r in doc["england"]["social_care_check"]:
        m = r["modelled_gap"]
        rows.append(
            f"| {r['period']} | {r['publisher']} | {r['measure']} | {r['published'] / 1e6:,.0f} | "
            f"{m['mean'] / 1e6:,.0f} ({m['p10'] / 1e6:,.0f} to {m['p90'] / 1e6:,.0f}) |"
        )
    return "\n".join(rows)


BLOCKS = {
    "reconciliation": reconciliation,
    "starting": starting,
    "per_head": per_head,
    "forward_view": forward_view,
    "social_care": social_care,
}


def rendered(text: str, doc: dict) -> str:
    for name, make in BLOCKS.items():
        pattern = re.compile(rf"(<!-- figures:{name} -->\n).*?(\n<!-- /figures:{name} -->)", re.S)
        if not pattern.search(text):
            raise SystemExit(f"{DOC}: no <!-- figures:{name} --> block")
        body = make(doc)
        text = pattern.sub(lambda m, body=body: m.group(1) + body + m.group(2), text)
    return text


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--check", action="store_true", help="exit 1 if docs/finance.md is stale")
    args = ap.parse_args()
    text = DOC.read_text(encoding="utf-8")
    new = rendered(text, rollup_document())
    if args.check:
        if new != text:
            sys.stderr.write(f"{DOC} is stale: run scripts/finance_doc_figures.py\n")
            return 1
        return 0
    if new != text:
        tmp = DOC.with_name(f".{DOC.name}.tmp")
        tmp.write_text(new, encoding="utf-8")
        tmp.replace(DOC)
    return 0


if __name__ == "__main__":
    sys.exit(main())
