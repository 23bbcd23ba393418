"""Build src/stpsim/data/tables/acute_trust_size_2016_17.csv: each acute trust in the trust-to-STP
lookup with its 2016/17 size by the measures stpsim shares acute activity by.

* general and acute beds open and occupied: NHS England winter daily sitreps 2016/17 (means over
  1 December 2016 to 12 March 2017; acute_beds_by_trust_winter_2016_17.csv);
* A&E attendances (all types the trust runs) and emergency admissions via A&E: NHS England
  monthly A&E statistics, April 2016 to March 2017 summed (ae_attendances_by_provider_2016_17.csv);
* gross internal floor area: NHS Digital ERIC 2016/17 (../shared/reference, build time only).

Trusts formed by merger after 2016/17 take the sum of their predecessors (Manchester University
NHS Foundation Trust, R0A, formed on 1 October 2017 from RW3 and RM2).

Run: ./.venv/bin/python scripts/build_trust_sizes.py
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
TABLES = ROOT / "src" / "stpsim" / "data" / "tables"
ERIC = Path("/work/shared/reference/data/trust_estates_eric_2016_17.csv")
PREDECESSORS = {"R0A": ["RW3", "RM2"]}
OUT = TABLES / "acute_trust_size_2016_17.csv"


def main() -> None:
    trusts = pd.read_csv(TABLES / "trust_to_stp.csv", dtype=str)
    beds = pd.read_csv(TABLES / "acute_beds_by_trust_winter_2016_17.csv").set_index("org_code")
    ae = pd.read_csv(TABLES / "ae_attendances_by_provider_2016_17.csv").set_index("org_code")
    eric = pd.read_csv(ERIC).set_index("org_code")
    rows = []
    for t in trusts.itertuples():
        codes = PREDECESSORS.get(t.trust_code, [t.trust_code])

        def total(df: pd.DataFrame, col: str, codes: list[str] = codes) -> float | None:
            have = [c for c in codes if c in df.index]
            return float(df.loc[have, col].sum()) if have else None

        rows.append(
            {
                "trust_code": t.trust_code,
                "trust_name": t.trust_name,
                "stp17cd": t.stp17cd,
                "source_codes": ";".join(codes),
                "ga_beds_open": total(beds, "ga_beds_open_mean"),
                "ga_beds_occupied": total(beds, "ga_beds_occupied_mean"),
                "ae_attendances": total(ae, "attendances_all"),
                "ae_emergency_admissions": total(ae, "admissions_all"),
                "floor_area_m2": total(eric, "gross_internal_floor_area_m2"),
            }
        )
    out = pd.DataFrame(rows).sort_values(["stp17cd", "trust_code"])
    missing = out[out[["ga_beds_open", "ae_attendances", "floor_area_m2"]].isna().all(axis=1)]
    if len(missing):
        sys.exit(f"CHECK FAILED: no size measure for {missing['trust_code'].tolist()}")
    fd, tmp = tempfile.mkstemp(prefix=".trust_size.", suffix=".tmp", dir=TABLES)
    os.close(fd)
    try:
        out.to_csv(tmp, index=False, lineterminator="\n")
        os.chmod(tmp, 0o644)
        os.replace(tmp, OUT)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    print(f"wrote {OUT.relative_to(ROOT)}: {len(out)} trusts")
    print(out.isna().sum().to_string())


if __name__ == "__main__":
    main()
