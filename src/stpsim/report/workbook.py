"""The analyst's workbook: one sheet per topic, plus the assumptions and sources."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from .. import assumptions
from ..axes import BAND_LABELS, five_year_band_of_age
from ..reference import DATA_DIR
from ..results import STATS, summarise
from ..story import tell

SHEETS = (
    "story",
    "activity",
    "capacity",
    "population",
    "finance",
    "system",
    "incentives",
    "footprints",
    "plan",
    "assumptions",
    "sources",
)


def _by_year(results, x: np.ndarray, **labels) -> list[dict]:
    s = summarise(x)
    return [
        {**labels, "year": y, **{k: float(s[k][t]) for k in STATS}} for t, y in enumerate(results.year_labels)
    ]


def write(results, path: str | Path) -> Path:
    path = Path(path)
    summary = results.summary()
    story = tell(results, "board")
    pop = results.population.sum(axis=1)
    band = five_year_band_of_age()
    pop_rows = [
        {"year": y, "sex": sex, "age_band": b, "people": float(v)}
        for t, y in enumerate(results.year_labels)
        for s, sex in enumerate(("male", "female"))
        for b, v in zip(
            BAND_LABELS, np.bincount(band, weights=pop[t, s], minlength=len(BAND_LABELS)), strict=True
        )
    ]
    fin_rows, sys_rows, inc_rows = [], [], []
    if results.finance is not None:
        for books in results.finance.footprints:
            for o, org in enumerate(books.orgs):
                if org.kind == "external":
                    continue
                for part, arr in (
                    ("income", books.income[o]),
                    ("costs", books.expenditure[o]),
                    ("surplus", books.surplus[o]),
                ):
                    fin_rows += _by_year(
                        results,
                        arr,
                        footprint=books.code,
                        org=org.id,
                        name=org.name,
                        kind=org.kind,
                        measure=part,
                    )
        for scen in ("plan", "do_nothing"):
            sys_rows += _by_year(
                results, results.finance.gap(scen), scenario=scen, measure="gap (shortfall +)"
            )
        for (name, code, org), gain in results.finance.incentives.items():
            s = summarise(gain)
            inc_rows.append(
                {
                    "intervention": name,
                    "footprint": code,
                    "org": org,
                    "year": results.year_labels[-1],
                    **{k: float(s[k]) for k in STATS},
                }
            )
    with pd.ExcelWriter(path, engine="openpyxl") as xl:
        pd.DataFrame({"story": story.text().splitlines()}).to_excel(xl, sheet_name="story", index=False)
        summary[~summary.measure.str.startswith("capacity:")].to_excel(xl, sheet_name="activity", index=False)
        summary[summary.measure.str.startswith("capacity:")].to_excel(xl, sheet_name="capacity", index=False)
        pd.DataFrame(pop_rows).to_excel(xl, sheet_name="population", index=False)
        pd.DataFrame(fin_rows).to_excel(xl, sheet_name="finance", index=False)
        pd.DataFrame(sys_rows).to_excel(xl, sheet_name="system", index=False)
        pd.DataFrame(inc_rows).to_excel(xl, sheet_name="incentives", index=False)
        results.per_footprint().to_excel(xl, sheet_name="footprints", index=False)
        pd.DataFrame(
            {"plan": yaml.safe_dump(results.plan.model_dump(mode="json"), sort_keys=False).splitlines()}
        ).to_excel(xl, sheet_name="plan", index=False)
        pd.DataFrame(
            [
                {
                    "id": a.id,
                    "value": str(a.value),
                    "unit": a.unit,
                    "low": a.low,
                    "high": a.high,
                    "range": a.range,
                    "why": a.why,
                }
                for a in assumptions.load().values()
            ]
        ).to_excel(xl, sheet_name="assumptions", index=False)
        src = yaml.safe_load((DATA_DIR / "sources.yaml").read_text())
        pd.DataFrame([{"table": k, **v} for k, v in src.items()]).to_excel(
            xl, sheet_name="sources", index=False
        )
    return path
