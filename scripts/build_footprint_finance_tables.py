"""Build the footprint finance tables shipped in src/stpsim/data/tables/.

Writes three CSVs (each to a temporary file in the same folder, then renamed):

* adult_social_care_spend_by_footprint_2016_17.csv: NHS Digital ASC-FR 2016/17 council spend
  apportioned to the 44 STP footprints (April 2017) by each council's mid-2015 population split.
* revenue_support_loans_by_footprint_2016_17.csv: DH revenue-support loans drawn in 2016/17,
  summed by the footprint of the borrowing trust.
* revenue_support_loans_unmapped_2016_17.csv: trusts whose footprint could not be set reliably.

Inputs: /work/shared/reference (build time only; stpsim never reads it at run time) and the
shipped tables stp_footprints.csv, lad_to_stp.csv, trust_to_stp.csv and lad17_to_county17.csv.

Run: ./.venv/bin/python scripts/build_footprint_finance_tables.py
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
TABLES = ROOT / "src" / "stpsim" / "data" / "tables"
REF = Path("/work/shared/reference")

ASC_SOURCE = REF / "data" / "adult_social_care_spend_by_council_2016_17.csv"
LOANS_SOURCE = REF / "data" / "trust_revenue_support_loans_2016_17.csv"
ERIC_SOURCE = REF / "data" / "trust_estates_eric_2016_17.csv"
REF_TRUST_TO_STP = REF / "data" / "trust_to_stp.csv"
LSOA_GEO = REF / "geo" / "lsoa11_geography.csv.gz"
LSOA_POP = REF / "geo" / "lsoa11_population_imd2019.csv"

ASC_OUT = TABLES / "adult_social_care_spend_by_footprint_2016_17.csv"
LOANS_OUT = TABLES / "revenue_support_loans_by_footprint_2016_17.csv"
UNMAPPED_OUT = TABLES / "revenue_support_loans_unmapped_2016_17.csv"

GBP_PER_THOUSAND = 1000

# Trusts outside the acute lookup whose own name names 2017 councils, a county or a footprint.
# A trust is mapped only if every named area lies wholly in one and the same footprint
# (checked below against the LSOA lookup); otherwise it is listed as unmapped.
NAME_PLACES: dict[str, list[str]] = {
    "R1E": ["Staffordshire", "Stoke-on-Trent"],  # Staffordshire and Stoke on Trent Partnership
    "RRP": ["Barnet", "Enfield", "Haringey"],  # Barnet, Enfield and Haringey Mental Health
    "RXY": ["Kent", "Medway"],  # Kent & Medway NHS & Social Care Partnership
    "REP": ["Liverpool"],  # Liverpool Women's
    "TAE": ["Manchester"],  # Manchester Mental Health & Social Care
    "RXV": ["Greater Manchester"],  # Greater Manchester Mental Health
    "RNN": ["Cumbria"],  # Cumbria Partnership (county spans two footprints)
    "RVN": ["Avon", "Wiltshire"],  # Avon and Wiltshire MH Partnership ("Avon" is no 2017 area)
}

# Trusts that merged on 1 April 2017 into a trust that is in the acute lookup: the successor's
# footprint is used. Hinchingbrooke (Huntingdon) merged with Peterborough and Stamford (RGN) to
# form North West Anglia NHS Foundation Trust, which the lookup lists under code RGN.
SUCCESSOR: dict[str, str] = {"RQQ": "RGN"}

UNMAPPED_REASON: dict[str, str] = {
    "RAN": "specialist orthopaedic trust with a national catchment; "
    "its name names no 2017 council, CCG or footprint",
    "RX9": "regional ambulance trust covering several East Midlands footprints",
    "RYD": "regional ambulance trust covering the Kent, Surrey and Sussex footprints",
    "R1C": "community trust; 'Solent' is not a 2017 council, CCG or footprint name",
    "RFW": "trust acquired by Chelsea and Westminster in 2015; "
    "'West Middlesex' is not a 2017 council, CCG or footprint name",
}


def norm(name: str) -> str:
    name = name.lower().replace("&", " and ").replace("-", " ").replace(",", " ")
    return re.sub(r"\s+", " ", name).strip()


def write_atomic(df: pd.DataFrame, path: Path) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        df.to_csv(tmp, index=False, lineterminator="\n")
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the usual file mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    print(f"wrote {path.relative_to(ROOT)} ({len(df)} rows)")


def check(condition: bool, message: str) -> None:
    if not condition:
        sys.exit(f"CHECK FAILED: {message}")


def load_lsoas(county: pd.DataFrame) -> pd.DataFrame:
    geo = pd.read_csv(LSOA_GEO, usecols=["lsoa11cd", "lad17cd", "stp17cd"], dtype=str)
    pop = pd.read_csv(LSOA_POP, usecols=["lsoa11cd", "population_mid2015", "age_16_59", "age_60_plus"])
    lsoa = geo.merge(pop, on="lsoa11cd", how="outer", validate="1:1", indicator=True)
    check((lsoa["_merge"] == "both").all(), "LSOA geography and population files do not join 1:1")
    lsoa = lsoa.drop(columns="_merge")

    e07 = county[county["lad17cd"].str.startswith("E07")].set_index("lad17cd")["cty17cd"]
    check(e07.str.startswith("E10").all(), "an E07 district maps to something other than an E10 county")
    lsoa_e07 = set(lsoa.loc[lsoa["lad17cd"].str.startswith("E07"), "lad17cd"])
    missing = sorted(lsoa_e07 - set(e07.index))
    check(not missing, f"E07 districts in the LSOA table with no county: {missing}")
    print(f"lad17_to_county17: all {len(lsoa_e07)} E07 districts in the LSOA table have a county "
          f"({e07.nunique()} E10 counties)")
    # Council with adult social services responsibility: the county for a shire district, else the LAD.
    lsoa["council"] = lsoa["lad17cd"].map(e07).fillna(lsoa["lad17cd"])
    return lsoa


def build_asc(lsoa: pd.DataFrame, county: pd.DataFrame, footprints: list[str]) -> pd.DataFrame:
    asc = pd.read_csv(ASC_SOURCE, dtype={"la_ons_code": str, "cassr_code": str})
    check(asc["la_ons_code"].is_unique, "duplicate council in ASC source")
    e10_asc = set(asc.loc[asc["la_ons_code"].str.startswith("E10"), "la_ons_code"])
    e10_lookup = set(county["cty17cd"])
    check(e10_asc <= e10_lookup, f"E10 councils with no districts: {sorted(e10_asc - e10_lookup)}")
    print(f"lad17_to_county17: all {len(e10_asc)} E10 councils in the ASC table have districts")

    asc["gce_18_64"] = asc["gce_18_64_total"]
    asc["gce_65plus"] = asc["gce_65plus_total"]
    asc["gce_other"] = asc["gce_other_no_age"]
    asc["nce_18_64"] = asc["nce_lts_18_64"] + asc["nce_sts_18_64"]
    asc["nce_65plus"] = asc["nce_lts_65plus"] + asc["nce_sts_65plus"]
    asc["nce_other"] = asc["nce_other_no_age"]
    for kind in ("gce", "nce"):
        parts = asc[f"{kind}_18_64"] + asc[f"{kind}_65plus"] + asc[f"{kind}_other"]
        gap = (parts - asc[f"{kind}_total"]).abs().max()
        check(gap < 1.0, f"{kind} parts differ from {kind}_total by up to £{gap}k")
        print(f"ASC source: {kind} 18-64 + 65+ + other = {kind}_total within £{gap * 1000:,.0f} per council")

    pops = ["age_16_59", "age_60_plus", "population_mid2015"]
    by_pair = lsoa.groupby(["council", "stp17cd"], as_index=False)[pops].sum()
    by_council = by_pair.groupby("council")[pops].transform("sum")
    for col in pops:
        by_pair[f"share_{col}"] = by_pair[col] / by_council[col]

    councils = set(asc["la_ons_code"])
    no_pop = sorted(councils - set(by_pair["council"]))
    check(not no_pop, f"ASC councils with no LSOAs: {no_pop}")
    no_spend = sorted(set(by_pair["council"]) - councils)
    if no_spend:
        print(f"areas with population but no ASC-FR row (no spend apportioned): {no_spend}")

    pair = by_pair.merge(asc, left_on="council", right_on="la_ons_code", how="inner", validate="m:1")
    proxy = {"18_64": "share_age_16_59", "65plus": "share_age_60_plus", "other": "share_population_mid2015"}
    for kind in ("gce", "nce"):
        for band, share in proxy.items():
            pair[f"{kind}_{band}_fp"] = pair[f"{kind}_{band}"] * pair[share]
        parts_fp = sum(pair[f"{kind}_{band}_fp"] for band in proxy)
        parts = sum(pair[f"{kind}_{band}"] for band in proxy)
        # The council total follows its parts' split (it differs from their sum only by rounding).
        pair[f"{kind}_total_fp"] = pair[f"{kind}_total"] * parts_fp / parts

    cols = ["gce_18_64", "gce_65plus", "gce_other", "gce_total", "nce_total"]
    out = pair.groupby("stp17cd")[[f"{c}_fp" for c in cols]].sum()
    out.columns = cols
    out = out.reindex(footprints)
    check(out.notna().all().all(), "a footprint received no adult social care spend")
    out = (out * GBP_PER_THOUSAND).round().astype("int64").reset_index()

    print("\nCheck: England totals, footprints (sum of 44) vs ASC-FR source (sum of councils), £")
    source_cols = {"gce_18_64": "gce_18_64_total", "gce_65plus": "gce_65plus_total",
                   "gce_other": "gce_other_no_age", "gce_total": "gce_total", "nce_total": "nce_total"}
    for col, src in source_cols.items():
        fp_sum = int(out[col].sum())
        src_sum = asc[src].sum() * GBP_PER_THOUSAND
        diff = fp_sum - src_sum
        check(abs(diff) <= len(footprints), f"{col} footprint sum differs from source by £{diff:,.0f}")
        print(f"  {col:<10} footprints {fp_sum:>16,}  source {src_sum:>18,.0f}  difference {diff:>5,.0f}")

    pop60 = lsoa.groupby("stp17cd")["age_60_plus"].sum()
    per_head = (out.set_index("stp17cd")["gce_65plus"] / pop60).sort_values(ascending=False)
    print("\nGross 65+ spend per head of 60+ population (mid-2015), top five footprints:")
    names = pd.read_csv(TABLES / "stp_footprints.csv", dtype=str).set_index("stp17cd")["stp_name_ons_apr2017"]
    for code, value in per_head.head(5).items():
        print(f"  {code} {names[code]:<45} £{value:,.0f}")
    print(f"  (England £{out['gce_65plus'].sum() / pop60.sum():,.0f})")
    return out


def place_footprints(lsoa: pd.DataFrame, county: pd.DataFrame) -> dict[str, set[str]]:
    """Normalised 2017 area name -> footprints it lies in (LADs, counties, CCGs, footprints)."""
    lad_stps = lsoa.groupby("lad17cd")["stp17cd"].agg(set)
    lad_names = pd.read_csv(TABLES / "lad_to_stp.csv", dtype=str)[["lad17cd", "lad17nm"]].drop_duplicates()
    places: dict[str, set[str]] = {}
    for row in lad_names.itertuples():
        places.setdefault(norm(row.lad17nm), set()).update(lad_stps[row.lad17cd])
    for cty_nm, grp in county.groupby("cty17nm"):
        stps = set().union(*(lad_stps[c] for c in grp["lad17cd"]))
        places.setdefault(norm(cty_nm), set()).update(stps)
    ccgs = pd.read_csv(TABLES / "ccg_to_stp.csv", dtype=str)
    for row in ccgs.itertuples():
        nm = re.sub(r"^NHS |\s+CCG$", "", row.ccg_name)
        places.setdefault(norm(nm), set()).add(row.stp17cd)
    fps = pd.read_csv(TABLES / "stp_footprints.csv", dtype=str)
    for row in fps.itertuples():
        for nm in (row.stp_name_ons_apr2017, row.stp_name_health_foundation):
            places.setdefault(norm(nm), set()).add(row.stp17cd)
    return places


def build_loans(lsoa: pd.DataFrame, county: pd.DataFrame,
                footprints: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    loans = pd.read_csv(LOANS_SOURCE, dtype={"org_code": str})
    check(loans["org_code"].is_unique, "duplicate trust in loans source")
    lookup = pd.read_csv(TABLES / "trust_to_stp.csv", dtype=str)
    ref_lookup = pd.read_csv(REF_TRUST_TO_STP, dtype=str)
    check(lookup.equals(ref_lookup), "shipped trust_to_stp.csv differs from the shared reference copy")
    check(lookup["trust_code"].is_unique, "duplicate trust in trust_to_stp.csv")
    trust_stp = lookup.set_index("trust_code")["stp17cd"]
    eric_type = pd.read_csv(ERIC_SOURCE, dtype=str).set_index("org_code")["org_type"]
    places = place_footprints(lsoa, county)

    stp, method, reason = {}, {}, {}
    for code in loans["org_code"]:
        if code in trust_stp.index:
            stp[code], method[code] = trust_stp[code], "acute trust lookup"
        elif code in SUCCESSOR and SUCCESSOR[code] in trust_stp.index:
            stp[code] = trust_stp[SUCCESSOR[code]]
            method[code] = f"successor {SUCCESSOR[code]} in acute trust lookup"
        elif code in NAME_PLACES:
            found = {p: places.get(norm(p)) for p in NAME_PLACES[code]}
            unknown = [p for p, s in found.items() if s is None]
            stps = set().union(*(s for s in found.values() if s))
            if not unknown and len(stps) == 1:
                stp[code], method[code] = stps.pop(), f"name: {', '.join(NAME_PLACES[code])}"
            elif unknown:
                reason[code] = (f"'{', '.join(unknown)}' in its name is not a 2017 council, "
                                "CCG or footprint")
            else:
                reason[code] = (f"named area(s) {', '.join(NAME_PLACES[code])} span footprints "
                                f"{', '.join(sorted(stps))}")
        else:
            reason[code] = UNMAPPED_REASON.get(code, "not in the acute trust lookup; no reliable footprint")
    check(set(stp.values()) <= set(footprints), "a trust maps to an unknown footprint")

    loans["stp17cd"] = loans["org_code"].map(stp)
    loans["drawn_2016_17_gbp"] = loans["drawn_in_year_2016_17"] * GBP_PER_THOUSAND
    mapped = loans[loans["stp17cd"].notna()]
    drew = mapped[mapped["drawn_2016_17_gbp"] > 0]
    by_fp = pd.DataFrame({
        "drawn_2016_17_gbp": mapped.groupby("stp17cd")["drawn_2016_17_gbp"].sum(),
        "n_trusts": drew.groupby("stp17cd")["org_code"].nunique(),
    }).reindex(footprints).fillna(0).astype("int64").rename_axis("stp17cd").reset_index()

    unmapped = loans[loans["stp17cd"].isna()].copy()
    unmapped["org_type_eric_2016_17"] = unmapped["org_code"].map(eric_type).fillna("")
    unmapped["reason"] = unmapped["org_code"].map(reason)
    unmapped = unmapped[["org_code", "org_name", "org_type_eric_2016_17", "drawn_2016_17_gbp", "reason"]]
    unmapped = unmapped.sort_values(["drawn_2016_17_gbp", "org_code"], ascending=[False, True])

    print("\nTrusts outside the acute lookup that were mapped:")
    for code in mapped["org_code"]:
        if method[code] != "acute trust lookup":
            print(f"  {code} -> {stp[code]} ({method[code]})")
    total = int(loans["drawn_2016_17_gbp"].sum())
    m_total, u_total = int(by_fp["drawn_2016_17_gbp"].sum()), int(unmapped["drawn_2016_17_gbp"].sum())
    check(m_total + u_total == total, "mapped + unmapped loans do not add up to the source total")
    print("\nCheck: revenue-support loans drawn in 2016/17, £")
    n_drew = int((loans["drawn_2016_17_gbp"] > 0).sum())
    print(f"  source total   {total:>15,} ({len(loans)} trusts, {n_drew} drew)")
    print(f"  mapped         {m_total:>15,} ({len(mapped)} trusts, {len(drew)} drew; "
          f"{int((by_fp['n_trusts'] > 0).sum())} footprints with a borrower)")
    print(f"  unmapped       {u_total:>15,} ({len(unmapped)} trusts)")
    return by_fp, unmapped


def main() -> None:
    footprints = sorted(pd.read_csv(TABLES / "stp_footprints.csv", dtype=str)["stp17cd"])
    check(len(footprints) == 44, f"expected 44 footprints, found {len(footprints)}")
    county = pd.read_csv(TABLES / "lad17_to_county17.csv", dtype=str)
    check(county["lad17cd"].is_unique, "duplicate district in lad17_to_county17.csv")
    lsoa = load_lsoas(county)
    check(set(lsoa["stp17cd"]) == set(footprints), "LSOA footprints differ from stp_footprints.csv")

    asc = build_asc(lsoa, county, footprints)
    by_fp, unmapped = build_loans(lsoa, county, footprints)
    print()
    write_atomic(asc, ASC_OUT)
    write_atomic(by_fp, LOANS_OUT)
    write_atomic(unmapped, UNMAPPED_OUT)


if __name__ == "__main__":
    main()
