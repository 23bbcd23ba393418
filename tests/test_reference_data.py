"""The shipped data: every table has provenance, every assumption is well formed, and the
population tables agree with the published ONS figures they claim to be."""

import numpy as np
import pandas as pd
import yaml

from stpsim import assumptions, demography
from stpsim.axes import MAX_AGE
from stpsim.reference import DATA_DIR, TABLE_DIR, fact, table

SOURCE_FIELDS = {"publisher", "title", "period", "where_found", "licence", "transformation"}


def test_every_shipped_table_has_a_full_sources_entry():
    sources = yaml.safe_load((DATA_DIR / "sources.yaml").read_text())
    shipped = {p.name.removesuffix(".gz").removesuffix(".csv") for p in TABLE_DIR.glob("*.csv*")}
    assert shipped == set(sources), "sources.yaml and data/tables must list the same tables"
    for name, entry in sources.items():
        assert SOURCE_FIELDS <= set(entry), f"{name} lacks {SOURCE_FIELDS - set(entry)}"
        assert all(str(entry[f]).strip() for f in SOURCE_FIELDS)


def test_assumptions_log_validates_and_gives_reasons():
    log = assumptions.load()
    assert len(log) >= 20
    for a in log.values():
        assert len(a.why) > 40, f"{a.id}: say why"


def test_england_mid_2016_is_the_published_ons_total():
    base = demography.england_base()
    assert base.sum() == demography.ENGLAND_2016_TOTAL == 55_268_067
    assert base.shape == (2, MAX_AGE + 1)


def test_single_year_projection_matches_published_2021_bands():
    proj = demography.ons_projection()
    bands = table("population_2016_and_projection_2021")
    rows = bands[(bands["measure"] == "population_projected_England_2016based") & (bands["sex"] == "persons")]
    for r in rows.itertuples():
        if r.age_band == "all ages":
            continue
        hi = MAX_AGE if pd.isna(r.age_max) else int(r.age_max)
        got = proj[5, :, int(r.age_min) : hi + 1].sum()
        assert got == float(r.value), r.age_band


def test_projection_grows_to_the_ons_2035_total():
    assert demography.ons_projection().sum(axis=(1, 2))[-1] > 60_000_000


def test_fact_refuses_ambiguous_lookups():
    import pytest

    from stpsim.reference import ReferenceDataError

    with pytest.raises(ReferenceDataError):
        fact("national_activity_totals", "A&E attendances, All types")  # three periods


def test_death_rates_reproduce_published_band_rates():
    m = demography.death_rates()
    pop = demography.england_base()
    for s, sex in enumerate(("male", "female")):
        for band, lo, hi in (("65-74", 65, 74), ("75-84", 75, 84), ("85+", 85, MAX_AGE)):
            published = fact(
                "mortality_and_births_2016", "death_rate_England_and_Wales", sex=sex, age_band=band
            )
            got = np.average(m[s, lo : hi + 1], weights=pop[s, lo : hi + 1]) * 1000
            assert abs(got - published) < 1e-9
        assert np.all(np.diff(m[s, 45:]) > 0), "adult mortality rises with age"


def test_a_folder_of_national_tables_replaces_the_shipped_ones(tmp_path):
    """`stpsim --tables DIR` (or STPSIM_TABLES) reads a team's national tables in place of the
    shipped ones of the same name, in a fresh process, with the derived-table cache keyed by them."""
    import json
    import os
    import subprocess
    import sys

    from stpsim.reference import TABLE_DIR

    ours = tmp_path / "tables"
    ours.mkdir()
    text = (TABLE_DIR / "stp_footprints.csv").read_text(encoding="utf-8")
    (ours / "stp_footprints.csv").write_text(
        text.replace("E54000005,West Yorkshire,", "E54000005,Our Name,"),
        encoding="utf-8",
    )
    stpsim = [sys.executable, "-m", "stpsim.cli"]
    env = os.environ | {"STPSIM_CACHE_DIR": str(tmp_path / "cache")}

    def names(*argv) -> dict[str, str]:
        out = subprocess.run(
            [*stpsim, *argv, "footprints", "--json"], env=env, capture_output=True, text=True
        )
        assert out.returncode == 0, out.stderr
        return {f["code"]: f["name"] for f in json.loads(out.stdout)["footprints"]}

    assert names()["E54000005"] == "West Yorkshire"
    assert names("--tables", str(ours))["E54000005"] == "Our Name"
    assert names()["E54000005"] == "West Yorkshire"  # the cache kept them apart
    (ours / "no_such_table.csv").write_text("a\n1\n")
    bad = subprocess.run(
        [*stpsim, "--tables", str(ours), "footprints"], env=env, capture_output=True, text=True
    )
    assert bad.returncode == 2
    assert bad.stderr.startswith(
        f"stpsim: error: --tables {ours}: no_such_table.csv is not a national table; allowed: "
    )


def test_reference_data_is_one_object_passed_to_a_run_and_never_mixed(tmp_path):
    """Issue 18, item 6: the national tables are one object (``ReferenceData``), loaded once
    and passed to the run; a run given a team's tables reads them, the next run given none reads
    the shipped ones, in one process, and each record says which it used."""
    import numpy as np

    from stpsim import engine, plan
    from stpsim.reference import TABLE_DIR, ReferenceData, current
    from stpsim.service.compute import run_plan

    ours = tmp_path / "tables"
    ours.mkdir()
    text = (TABLE_DIR / "national_finance_checks_2016_17.csv").read_text(encoding="utf-8")
    assert "CCG_aggregate_overspend_before_risk_reserve,2016/17,-556.0," in text
    (ours / "national_finance_checks_2016_17.csv").write_text(
        text.replace(
            "CCG_aggregate_overspend_before_risk_reserve,2016/17,-556.0,",
            "CCG_aggregate_overspend_before_risk_reserve,2016/17,-1556.0,",
        ),
        encoding="utf-8",
    )
    reference = ReferenceData.of(ours)
    assert ReferenceData.of(None) is current()
    p = plan.validate(
        {
            "name": "x",
            "footprints": ["E54000007"],
            "end_year": "2017/18",
            "monte_carlo": {"draws": 20, "seed": 3},
        }
    )

    def commissioners_2016_17(**kw) -> np.ndarray:
        books = engine.run(p, incentives=False, **kw).finance.do_nothing[0]
        return books.surplus[[o.kind for o in books.orgs].index("commissioner"), :, 0]

    shipped = commissioners_2016_17()
    theirs = commissioners_2016_17(reference=reference)
    again = commissioners_2016_17()
    assert np.array_equal(shipped, again), "the team's tables leaked into a later run"
    share = (shipped - theirs) / 1e9  # GBP 1bn more overspend, shared by CCG allocation
    assert np.allclose(share, share[0]) and 0.04 < share[0] < 0.07
    assert current() is ReferenceData.of(None)
    a = run_plan(p).identity["data_version"]
    b = run_plan(p, reference=reference).identity["data_version"]
    assert a != b and b.startswith(a)
