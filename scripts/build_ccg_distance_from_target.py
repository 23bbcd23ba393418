"""Build ``ccg_distance_from_target_2018_19.csv``: each 2016 CCG's distance from its target
allocation in 2018/19, before and after pace of change (NHS England's 2016/17 to 2020/21
allocation round), keyed by the CCG's April 2016 code so every small area finds its CCG.

The source copy (shared reference ``ccg_allocations_2018_19.csv``, 209 rows) is matched to the
shipped ``ccg16_names.csv`` on the CCG's ODS code. One of its two "NHS Leicester City CCG" rows
repeats East Leicestershire and Rutland's numbers exactly (a copying error in the source copy):
it is dropped. That leaves NHS Newcastle Gateshead CCG (13T) without a row; it is written with
no distance (the model treats it as at target) and a note saying so.

Run: ./.venv/bin/python scripts/build_ccg_distance_from_target.py
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
TABLES = ROOT / "src" / "stpsim" / "data" / "tables"
SOURCE = Path("/work/shared/reference/data/ccg_allocations_2018_19.csv")
OUT = TABLES / "ccg_distance_from_target_2018_19.csv"
NUMBERS = [
    "opening_dft_pct",
    "closing_dft_pct",
    "final_allocation_gbp000",
    "derived_target_allocation_2018_19_gbp000",
    "population",
]


def build() -> pd.DataFrame:
    src = pd.read_csv(SOURCE, dtype={"ccg_ods_code": str})
    repeated = src.duplicated(subset=[c for c in src.columns if c not in ("ccg_ods_code", "ccg_name")])
    if repeated.sum() != 1:
        raise SystemExit(f"expected one repeated row in {SOURCE.name}, found {repeated.sum()}")
    src = src[~repeated]
    if src.ccg_ods_code.duplicated().any():
        raise SystemExit("a CCG's ODS code appears twice after dropping the repeated row")
    names = pd.read_csv(TABLES / "ccg16_names.csv", dtype=str)
    out = names.merge(src, left_on="ccg16cdh", right_on="ccg_ods_code", how="left", validate="1:1")
    out["note"] = out["note"].fillna("")
    missing = out["ccg_ods_code"].isna()
    out.loc[missing, "note"] = "no row in the source copy: treated as at target"
    out = out.rename(
        columns={
            "ccg16cdh": "ccg_ods_code_2016",
            "ccg16nm": "ccg_name_2016",
            "derived_target_allocation_2018_19_gbp000": "target_allocation_gbp000",
        }
    )
    cols = ["ccg16cd", "ccg_ods_code_2016", "ccg_name_2016", *NUMBERS[:3], "target_allocation_gbp000"]
    return out[[*cols, "population", "note"]].sort_values("ccg16cd")


def main() -> None:
    df = build()
    fd, tmp = tempfile.mkstemp(dir=TABLES, suffix=".csv")
    os.close(fd)
    df.to_csv(tmp, index=False)
    os.replace(tmp, OUT)
    print(
        f"wrote {OUT.relative_to(ROOT)}: {len(df)} CCGs, {int(df.opening_dft_pct.isna().sum())} without a row"
    )


if __name__ == "__main__":
    main()
