"""Build src/stpsim/data/tables/small_areas.csv.gz: one row per English LSOA (2011) holding its
place in every geography stpsim draws footprints from, and the additive figures footprints are
summed from.

Columns:

* codes: ``lsoa11cd``, ``lad17cd`` (2017 district), ``council17cd`` (the council with adult
  social services responsibility in 2017: the county for a shire district, else the district),
  ``lad22cd``, ``ccg16cd``, ``ccg17cd``, ``stp17cd``, ``sicbl22cd``, ``icb22cd``;
* ``pop18_0_64``, ``pop18_65_79``, ``pop18_80_plus``: mid-2018 population by broad age. ONS's
  MSOA counts (via the SAMueL collation) shared between the MSOA's LSOAs by their mid-2015 shares
  (0-64 by ages 0-59, 65-79 and 80+ by ages 60+; the nearest bands the LSOA file has). The Isles
  of Scilly, missing from the MSOA file, get ONS's mid-2018 total (2,242) split by their own
  mid-2015 shares and England's 80+ to 65-79 ratio;
* ``population_mid2015``, ``imd2019_decile``: MHCLG's IoD2019 denominators and deciles;
* ``asc_gce_65plus``, ``asc_gce_18_64``, ``asc_gce_other``: NHS Digital ASC-FR 2016/17 gross
  current expenditure of the LSOA's council, shared by the council's mid-2015 population (60+,
  16-59 and all ages), GBP; the same method as adult_social_care_spend_by_footprint_2016_17.csv;
* ``loans_drawn_gbp``: Department of Health revenue-support loans drawn in 2016/17 by the trusts
  of the LSOA's 2017 footprint, shared over the footprint by mid-2018 population (the catchment
  assumption ``trust_catchment_by_population``), GBP.

Every column sums over LSOAs to the England total of its source; the checks below say so.

Inputs: /work/shared/reference (build time only) and the shipped tables lad17_to_county17.csv
and revenue_support_loans_by_footprint_2016_17.csv.
Run: ./.venv/bin/python scripts/build_small_areas.py
"""

from __future__ import annotations

import gzip
import io
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
TABLES = ROOT / "src" / "stpsim" / "data" / "tables"
REF = Path("/work/shared/reference")
GEO = REF / "geo" / "lsoa11_geography.csv.gz"
POP = REF / "geo" / "lsoa11_population_imd2019.csv"
MSOA = REF / "geo" / "msoa11_population_broad_age.csv"
ASC = REF / "data" / "adult_social_care_spend_by_council_2016_17.csv"
OUT = TABLES / "small_areas.csv.gz"
SCILLY_MID2018 = 2242  # ONS mid-2018 (the gap between the MSOA file and England's LSOA total)
BANDS = ("pop18_0_64", "pop18_65_79", "pop18_80_plus")


def check(ok: bool, message: str) -> None:
    if not ok:
        sys.exit(f"CHECK FAILED: {message}")


def population(lsoa: pd.DataFrame) -> pd.DataFrame:
    msoa = pd.read_csv(MSOA)
    young = lsoa["age_0_15"] + lsoa["age_16_59"]
    old = lsoa["age_60_plus"]
    grp = lsoa.groupby("msoa11nm")
    share_young = young / grp["age_0_15"].transform("sum").add(grp["age_16_59"].transform("sum"))
    share_old = old / grp["age_60_plus"].transform("sum")
    m = lsoa[["msoa11nm"]].merge(msoa, on="msoa11nm", how="left")
    lsoa["pop18_0_64"] = m["age_0_64"].to_numpy() * share_young.to_numpy()
    lsoa["pop18_65_79"] = m["age_65_79"].to_numpy() * share_old.to_numpy()
    lsoa["pop18_80_plus"] = m["age_80_plus"].to_numpy() * share_old.to_numpy()
    scilly = m["population"].isna().to_numpy()
    check(lsoa.loc[scilly, "msoa11nm"].eq("Isles of Scilly 001").all(), "an MSOA other than Scilly is missing")
    ratio = msoa["age_80_plus"].sum() / (msoa["age_65_79"].sum() + msoa["age_80_plus"].sum())
    s = lsoa.loc[scilly]
    total = s["population_mid2015"].sum()
    lsoa.loc[scilly, "pop18_0_64"] = SCILLY_MID2018 * (s["age_0_15"] + s["age_16_59"]) / total
    lsoa.loc[scilly, "pop18_65_79"] = SCILLY_MID2018 * s["age_60_plus"] / total * (1 - ratio)
    lsoa.loc[scilly, "pop18_80_plus"] = SCILLY_MID2018 * s["age_60_plus"] / total * ratio
    for band, src in zip(BANDS, ("age_0_64", "age_65_79", "age_80_plus"), strict=True):
        got = lsoa.loc[~scilly, band].sum()
        check(abs(got - msoa[src].sum()) < 1e-3, f"{band} does not sum to the MSOA total")
    total18 = lsoa[list(BANDS)].to_numpy().sum()
    print(f"mid-2018 population: {total18:,.1f} (MSOA file {msoa['population'].sum():,} + Scilly {SCILLY_MID2018:,})")
    return lsoa


def social_care(lsoa: pd.DataFrame) -> pd.DataFrame:
    asc = pd.read_csv(ASC, dtype={"la_ons_code": str}).set_index("la_ons_code")
    proxy = {"asc_gce_18_64": ("gce_18_64_total", "age_16_59"), "asc_gce_65plus": ("gce_65plus_total", "age_60_plus"),
             "asc_gce_other": ("gce_other_no_age", "population_mid2015")}
    for col, (spend, pop) in proxy.items():
        share = lsoa[pop] / lsoa.groupby("council17cd")[pop].transform("sum")
        lsoa[col] = (lsoa["council17cd"].map(asc[spend]).fillna(0.0) * 1000 * share).round(2)
    for col, (spend, _) in proxy.items():
        diff = lsoa[col].sum() - asc[spend].sum() * 1000
        check(abs(diff) < 100, f"{col} differs from ASC-FR by £{diff:,.2f}")
        print(f"{col}: £{lsoa[col].sum():,.0f} (ASC-FR £{asc[spend].sum() * 1000:,.0f})")
    fp = pd.read_csv(TABLES / "adult_social_care_spend_by_footprint_2016_17.csv").set_index("stp17cd")
    by_fp = lsoa.groupby("stp17cd")[["asc_gce_65plus", "asc_gce_18_64", "asc_gce_other"]].sum()
    worst = (by_fp["asc_gce_65plus"] - fp["gce_65plus"]).abs().max()
    check(worst < 5, f"footprint 65+ spend differs from the shipped table by £{worst:,.2f}")
    print(f"footprint sums reproduce adult_social_care_spend_by_footprint_2016_17 within £{worst:.2f}")
    return lsoa


def loans(lsoa: pd.DataFrame) -> pd.DataFrame:
    fp = pd.read_csv(TABLES / "revenue_support_loans_by_footprint_2016_17.csv").set_index("stp17cd")
    pop = lsoa[list(BANDS)].sum(axis=1)
    share = pop / pop.groupby(lsoa["stp17cd"]).transform("sum")
    lsoa["loans_drawn_gbp"] = (lsoa["stp17cd"].map(fp["drawn_2016_17_gbp"]) * share).round(2)
    diff = lsoa["loans_drawn_gbp"].sum() - fp["drawn_2016_17_gbp"].sum()
    check(abs(diff) < 100, f"loans differ from the footprint table by £{diff:,.2f}")
    return lsoa


def main() -> None:
    geo = pd.read_csv(GEO, dtype=str)
    pop = pd.read_csv(POP, dtype={"lsoa11cd": str})
    lsoa = geo.merge(pop, on="lsoa11cd", how="inner", validate="1:1")
    check(len(lsoa) == len(geo) == len(pop) == 32_844, "LSOA files do not join 1:1")
    county = pd.read_csv(TABLES / "lad17_to_county17.csv", dtype=str).set_index("lad17cd")["cty17cd"]
    # Only shire districts (E07) hand social care to a county; metropolitan districts and London
    # boroughs are their own social services authorities.
    county = county[county.index.str.startswith("E07")]
    lsoa["council17cd"] = lsoa["lad17cd"].map(county).fillna(lsoa["lad17cd"])
    lsoa = loans(social_care(population(lsoa)))
    for band in BANDS:
        lsoa[band] = lsoa[band].round(3)
    cols = ["lsoa11cd", "lad17cd", "council17cd", "lad22cd", "ccg16cd", "ccg17cd", "stp17cd", "sicbl22cd",
            "icb22cd", *BANDS, "population_mid2015", "imd2019_decile", "asc_gce_65plus", "asc_gce_18_64",
            "asc_gce_other", "loans_drawn_gbp"]
    out = lsoa[cols].sort_values("lsoa11cd")
    check(not out.isna().any().any(), "a column has a gap")
    buf = io.StringIO()
    out.to_csv(buf, index=False, lineterminator="\n")
    fd, tmp = tempfile.mkstemp(prefix=".small_areas.", suffix=".tmp", dir=TABLES)
    os.close(fd)
    try:
        with open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz:
            gz.write(buf.getvalue().encode())
        os.chmod(tmp, 0o644)
        os.replace(tmp, OUT)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    print(f"wrote {OUT.relative_to(ROOT)}: {len(out):,} rows, {OUT.stat().st_size:,} bytes")
    print("footprint totals (mid-2018):")
    print(np.round(out.groupby("stp17cd")[list(BANDS)].sum().sum(axis=1).describe(), 0))


if __name__ == "__main__":
    main()
