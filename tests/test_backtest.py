"""The track record (issue 22): scoring projections against outturns, importance weights and
their effective sample size, the backtest table for England and `stpsim backtest`."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from stpsim import reference
from stpsim.analysis import backtest as bt
from stpsim.analysis import scoring
from stpsim.cli import main
from stpsim.service import track_record

DRAWS = 60


# ---- worked examples ---------------------------------------------------------------------------


def test_weights_and_effective_sample_size_worked_example():
    # Log-likelihoods 0, ln 2, ln 2, ln 5 give likelihoods 1, 2, 2, 5: weights 0.1, 0.2, 0.2, 0.5,
    # and 1 / (0.01 + 0.04 + 0.04 + 0.25) = 1 / 0.34 = 2.941... effective draws of 4.
    w = scoring.importance_weights(np.log([1.0, 2.0, 2.0, 5.0]))
    np.testing.assert_allclose(w, [0.1, 0.2, 0.2, 0.5], rtol=1e-12)
    assert scoring.effective_sample_size(w) == pytest.approx(1 / 0.34, rel=1e-12)
    assert scoring.effective_sample_size(scoring.flat(8)) == pytest.approx(8.0)
    assert scoring.effective_sample_size(np.array([0.0, 1.0, 0.0])) == pytest.approx(1.0)


def test_log_normal_likelihood_worked_example():
    # Outturn 100, projections 100 and 110, sigma 10%: 0 and -(ln(100/110)/0.1)^2/2 = -0.4542...
    ll = scoring.log_normal_likelihood(np.array([100.0, 110.0]), 100.0, 0.1)
    assert ll[0] == 0.0
    assert ll[1] == pytest.approx(-0.5 * (np.log(100 / 110) / 0.1) ** 2, rel=1e-12)


def test_crps_worked_examples():
    # One draw: the CRPS is the absolute error. Two equal draws at 0 and 2 against 1:
    # E|X - 1| = 1, E|X - X'| / 2 = (0 + 2 + 2 + 0) / 4 / 2 = 0.5, CRPS 0.5.
    assert scoring.crps(np.array([3.0]), np.array([1.0]), 1.0) == pytest.approx(2.0)
    assert scoring.crps(np.array([0.0, 2.0]), scoring.flat(2), 1.0) == pytest.approx(0.5)
    # Weights 0.25 and 0.75: E|X - 1| = 1; E|X - X'| = 2 * 0.25 * 0.75 * 2 = 0.75; CRPS 0.625.
    assert scoring.crps(np.array([0.0, 2.0]), np.array([0.25, 0.75]), 1.0) == pytest.approx(0.625)


def test_resampling_repeats_draws_in_proportion_to_their_weights():
    idx = scoring.resample(np.array([0.1, 0.0, 0.4, 0.5]), 10)
    assert np.bincount(idx, minlength=4).tolist() == [1, 0, 4, 5]


def test_calibration_is_refused_below_the_floor():
    loglik = np.array([0.0, -50.0, -50.0, -50.0] * 25)  # nearly all weight on 25 draws of 100
    w, ess = bt.calibration_weights(loglik, 0.2)
    assert ess == pytest.approx(25.0, rel=1e-6)
    with pytest.raises(bt.DegenerateCalibration, match=r"25\.0 effective draws of 100; at least 30 \(30%\)"):
        bt.calibration_weights(loglik, 0.3)


# ---- properties --------------------------------------------------------------------------------

draws = arrays(np.float64, st.integers(2, 60), elements=st.floats(-1e6, 1e6, allow_nan=False))


@settings(max_examples=60, deadline=None)
@given(x=draws, y=st.floats(-1e6, 1e6, allow_nan=False), level=st.floats(-30, 30))
def test_flat_likelihood_gives_the_unweighted_results(x, y, level):
    """Every draw equally likely: the weights are flat, and the weighted mean, 10th and 90th
    percentiles and CRPS are the unweighted ones (numpy's percentiles, the pairwise CRPS)."""
    w = scoring.importance_weights(np.full(len(x), level))
    np.testing.assert_allclose(w, scoring.flat(len(x)), rtol=1e-12)
    s = scoring.score(x, w, y if y != 0 else 1.0)
    p10, p90 = np.percentile(x, [10, 90])
    scale = max(1.0, float(np.abs(x).max()))
    assert s["mean"] == pytest.approx(x.mean(), abs=1e-9 * scale)
    assert s["p10"] == pytest.approx(p10, abs=1e-9 * scale)
    assert s["p90"] == pytest.approx(p90, abs=1e-9 * scale)
    yy = y if y != 0 else 1.0
    pairwise = np.abs(x - yy).mean() - 0.5 * np.abs(x[:, None] - x[None, :]).mean()
    assert s["crps"] == pytest.approx(pairwise, abs=1e-9 * scale)


@settings(max_examples=40, deadline=None)
@given(
    x=arrays(np.float64, st.integers(3, 40), elements=st.floats(-100, 100, allow_nan=False)),
    raw=arrays(np.float64, 40, elements=st.floats(0.01, 1.0)),
)
def test_weighted_quantiles_lie_within_the_draws_and_are_ordered(x, raw):
    w = raw[: len(x)] / raw[: len(x)].sum()
    q = scoring.weighted_quantiles(x, w, [0.1, 0.5, 0.9])
    assert x.min() - 1e-12 <= q[0] <= q[1] <= q[2] <= x.max() + 1e-12


# ---- a synthetic case whose answer is known -----------------------------------------------------


def _synthetic_rollup(n: int = 101):
    """A stand-in roll-up: one footprint, A&E attendances rising from 100 in 2016/17 by a draw's
    own growth g (draw d: g = d/100 - 0.5, so the draws run -0.5 to +0.5 a year, evenly)."""
    from types import SimpleNamespace

    from stpsim.axes import SETTINGS

    g = np.arange(n) / 100 - 0.5
    years = (2016, 2017, 2018, 2019, 2020)
    activity = np.ones((1, n, len(years), len(SETTINGS)))
    activity[0, :, :, SETTINGS.index("ae_attendances")] = 100.0 * (1 + g[:, None]) ** np.arange(5)[None, :]
    zeros = np.zeros((1, n, len(years)))
    return SimpleNamespace(
        years=years,
        do_nothing=activity,
        do_nothing_beds=zeros,
        do_nothing_by_kind={k: zeros for k in bt.PROVIDER_KINDS},
    )


def _outturns(values: dict[str, float]) -> list[bt.Outturn]:
    return [
        bt.Outturn("ae", "A&E", y, v, "attendances", "ae_attendances", "level", "", "", "", "test")
        for y, v in values.items()
    ]


def test_coverage_is_exact_on_a_known_case():
    """Draw d projects 100(1 + g)^t. In 2017/18 (t = 1) the draws are 50, 51, ..., 150, so the
    80% interval is 60 to 140: outturns 100 and 139 fall inside, 141 does not. In 2018/19 the
    draws are 100(1 + g)^2 with g from -0.5 to 0.5: the interval is 100 * (0.6^2, 1.4^2) =
    (36, 196); 30 falls outside. Coverage 2 of 4, exactly."""
    proj = bt.Projections.of(_synthetic_rollup())
    flat = scoring.flat(101)
    rows = _outturns({"2017/18": 100.0, "2018/19": 30.0})
    rows += [
        bt.Outturn("ae2", "A&E", "2017/18", 139.0, "attendances", "ae_attendances", "level", "", "", "", "")
    ]
    rows += [
        bt.Outturn("ae3", "A&E", "2017/18", 141.0, "attendances", "ae_attendances", "level", "", "", "", "")
    ]
    table = bt.table(rows, proj, flat)
    by = {(r["measure"], r["year"]): r for r in table}
    assert (by[("ae", "2017/18")]["p10"], by[("ae", "2017/18")]["p90"]) == pytest.approx((60.0, 140.0))
    assert (by[("ae", "2018/19")]["p10"], by[("ae", "2018/19")]["p90"]) == pytest.approx((36.0, 196.0))
    assert [r["inside"] for r in table] == [True, False, True, False]
    summary = scoring.summary(table)
    assert (summary["inside"], summary["years"], summary["coverage"]) == (2, 4, 0.5)
    assert by[("ae", "2017/18")]["error_pct"] == pytest.approx(0.0, abs=1e-12)  # the mean is 100


def test_calibration_finds_the_growth_that_happened():
    """Outturns from growth +0.2 a year: the reweighted draws centre on 0.2 and narrow."""
    r = _synthetic_rollup()
    proj = bt.Projections.of(r)
    rows = _outturns({"2017/18": 120.0, "2018/19": 144.0})
    ll = bt.log_likelihood(rows, proj, ("2017/18", "2018/19"), 0.02)
    w, ess = bt.calibration_weights(ll, 0.02)
    g = np.arange(101) / 100 - 0.5
    assert scoring.weighted_mean(g, w) == pytest.approx(0.2, abs=0.005)
    assert ess < 101 / 4
    after = bt.table(rows, proj, w)
    assert all(r["inside"] for r in after) and all(abs(r["error_pct"]) < 1.0 for r in after)


def test_index_and_step_comparisons():
    """By index the model's growth applies to the published base; a step adds the modelled change
    to the published year before, less the adjustment."""
    proj = bt.Projections(
        ("2016/17", "2017/18", "2018/19"),
        {"admissions": np.array([[10.0, 11.0, 12.1]]), "provider_deficit": np.array([[0.0, 100.0, 250.0]])},
    )
    rows = [
        bt.Outturn("fae", "FAE", "2016/17", 16.0, "", "admissions", "index", "", "", "", ""),
        bt.Outturn("fae", "FAE", "2018/19", 17.0, "", "admissions", "index", "", "", "", ""),
        bt.Outturn("d", "Deficit", "2017/18", 4300.0, "GBP m", "provider_deficit", "step", "", "", "", ""),
        bt.Outturn("d", "Deficit", "2018/19", 5000.0, "GBP m", "provider_deficit", "step", "cip", "", "", ""),
        bt.Outturn("cip", "CIP", "2018/19", 2200.0, "GBP m", "", "input", "", "", "", ""),
    ]
    np.testing.assert_allclose(proj.comparable(rows[1], rows), [16.0 * 1.21])
    np.testing.assert_allclose(proj.comparable(rows[3], rows), [4300.0 + 150.0 - 2200.0])
    # Scored: the index year and the step with a year before; not the base, the step's first
    # year (no year before it) or the input.
    assert [(o.measure, o.year) for o in bt.scored(rows, proj)] == [("fae", "2018/19"), ("d", "2018/19")]


def test_the_shipped_table_is_checked():
    rows = bt.outturns(reference.table("outturns"))
    assert {o.compare for o in rows} <= set(bt.COMPARISONS)
    bad = reference.table("outturns").copy()
    bad.loc[0, "compare"] = "ratio"
    with pytest.raises(ValueError, match="compare 'ratio'; allowed: level, index, step, input"):
        bt.outturns(bad)
    orphan = pd.DataFrame([reference.table("outturns").iloc[1]])  # an index year without 2016/17
    orphan["compare"] = "index"
    with pytest.raises(ValueError, match="has no 2016/17 figure"):
        bt.outturns(orphan)


# ---- England -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def england():
    from stpsim.rollup import rollup

    return rollup({}, DRAWS, 3, track_record.LAST_YEAR, executor="serial")


@pytest.fixture(scope="module")
def record(england):
    return track_record.document(england, track_record.CALIBRATION_YEARS)


def test_backtest_table_has_a_row_per_scored_outturn(record):
    rows = bt.outturns(reference.table("outturns"))
    expected = [(o.measure, o.year) for o in rows if o.year != "2016/17" and o.compare != "input"]
    expected.remove(("provider_underlying_deficit", "2017/18"))  # the step's starting year
    assert [(r["measure"], r["year"]) for r in record["table"]] == expected
    for r in record["table"]:
        assert set(r) == {
            "measure", "title", "year", "unit", "compare", "actual", "mean", "p10", "p90",
            "inside", "error_pct", "crps", "flag",
        }  # fmt: skip
        assert r["p10"] <= r["mean"] <= r["p90"] or not r["inside"]
        assert r["inside"] == (r["p10"] <= r["actual"] <= r["p90"])
    flagged = {r["year"] for r in record["table"] if r["flag"]}
    assert flagged == {"2019/20"}
    assert set(record["summary"]) == {r["measure"] for r in record["table"]}


def test_a_levelled_measure_is_the_roll_up_itself(england, record):
    """A&E attendances compared by level: the projected mean is England's roll-up mean."""
    ae = england.do_nothing[..., __import__("stpsim").axes.SETTINGS.index("ae_attendances")].sum(axis=0)
    row = next(r for r in record["table"] if r["measure"] == "ae_attendances" and r["year"] == "2018/19")
    assert row["mean"] == pytest.approx(float(ae[:, 2].mean()), rel=1e-12)
    assert row["p10"] == pytest.approx(float(np.percentile(ae[:, 2], 10)), rel=1e-12)


def test_calibration_document(record):
    cal = record["calibration"]
    assert len(cal["weights"]) == DRAWS and sum(cal["weights"]) == pytest.approx(1.0)
    assert cal["effective_draws"] == pytest.approx(scoring.effective_sample_size(np.array(cal["weights"])))
    assert cal["floor"] <= cal["effective_draws"] <= DRAWS
    for m in cal["moved"]:
        assert m["prior"]["p10"] <= m["prior"]["p50"] <= m["prior"]["p90"]
        assert m["posterior"]["p10"] <= m["posterior"]["p50"] <= m["posterior"]["p90"]
    assert record["hold_out"]["year"] == "2019/20"
    assert set(record["hold_out"]["before"]) == set(record["hold_out"]["after"]) != set()
    assert record["gap"]["year"] == "2020/21"


def test_a_parameter_the_outturns_cannot_see_does_not_move(england):
    """The outturns are activity: the calibration must not report cost or social care
    assumptions as moved (they move only by chance)."""
    doc = track_record.document(england, ("2017/18", "2018/19"))
    assert all(m["id"].startswith("growth/") for m in doc["calibration"]["moved"])


# ---- the command -----------------------------------------------------------------------------------


def run_cli(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_backtest_command_json(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("STPSIM_CACHE_DIR", str(tmp_path))
    code, out, err = run_cli(capsys, "backtest", "--draws", str(DRAWS), "--seed", "3", "--serial", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert "calibration" not in doc and doc["draws"] == DRAWS
    code, out, _ = run_cli(capsys, "backtest", "--draws", str(DRAWS), "--seed", "3", "--calibrate", "--json")
    cal = json.loads(out)
    assert cal["table"] == doc["table"] and cal["calibration"]["years"] == ["2017/18", "2018/19"]
    # The second call read the document kept on disk: the same numbers, not a new roll-up.
    assert list(tmp_path.rglob("backtest-*.json"))


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["--years", "2015/16"],
            "--years: 2015/16 not allowed; allowed: one or more of 2017/18, 2018/19, 2019/20",
        ),
        (["--years", ","], "--years: (none) not allowed; allowed: one or more of 2017/18, 2018/19, 2019/20"),
        (["--draws", "0"], "--draws 0 is out of range; allowed: 1 to 100000"),
    ],
)
def test_backtest_command_refuses_bad_input(capsys, argv, message):
    code, _, err = run_cli(capsys, "backtest", *argv)
    assert code == 2
    assert err.splitlines()[0] == f"stpsim: error: {message}"


def test_a_degenerate_calibration_is_refused_with_its_reason(capsys, tmp_path, monkeypatch, england):
    monkeypatch.setenv("STPSIM_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(
        track_record,
        "_assumption",
        lambda name: {"backtest_observation_error": 0.001, "backtest_minimum_effective_share": 0.5}[name],
    )
    track_record._cached.cache_clear()
    monkeypatch.setattr(track_record, "compute", lambda *a, **k: track_record.document(england, a[2]))
    code, _, err = run_cli(capsys, "backtest", "--draws", str(DRAWS), "--seed", "3")
    track_record._cached.cache_clear()
    assert code == 2
    assert err.startswith("stpsim: error: --draws: the calibration rests on ")
    assert "at least 30 (50%) are needed: use more draws, or calibrate on fewer years" in err


# ---- a calibrated run, and the board report -------------------------------------------------------


@pytest.fixture()
def kept(tmp_path, monkeypatch, england):
    """The track record at DRAWS draws and seed 3, from the module's roll-up (not a second one)."""
    monkeypatch.setenv("STPSIM_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(track_record, "compute", lambda *a, **k: track_record.document(england, a[2]))
    track_record._cached.cache_clear()
    yield track_record.backtest(DRAWS, 3)
    track_record._cached.cache_clear()


def _small_plan():
    from stpsim.plan import load

    plan = load("examples/greater_manchester.yaml")
    mc = plan.monte_carlo.model_copy(update={"draws": DRAWS, "seed": 3})
    return plan.model_copy(update={"monte_carlo": mc})


def test_a_calibrated_run_uses_the_resampled_prior_draws(kept):
    from stpsim import engine
    from stpsim.record import identity

    plan = _small_plan()
    calibrated = track_record.calibrated(plan)
    c = calibrated.monte_carlo.calibration
    assert c.prior_draws == scoring.resample(np.array(kept["calibration"]["weights"])).tolist()
    assert c.years == ["2017/18", "2018/19"] and c.effective_draws == kept["calibration"]["effective_draws"]
    before = engine.parameter_draws(plan, range(DRAWS))
    after = engine.parameter_draws(calibrated, range(DRAWS))
    np.testing.assert_array_equal(after.values, before.values[c.prior_draws])
    # any block of draws is the same rows: chunking cannot change a calibrated run
    np.testing.assert_array_equal(
        engine.parameter_draws(calibrated, range(10, 25)).values, after.values[10:25]
    )
    assert identity(calibrated)["plan_hash"] != identity(plan)["plan_hash"]


def test_a_calibrated_run_says_so(kept, capsys, tmp_path):
    import yaml

    doc = _small_plan().model_dump(mode="json", exclude_none=True)
    path = tmp_path / "gm.yaml"
    path.write_text(yaml.safe_dump(doc))
    code, out, err = run_cli(capsys, "run", str(path), "--calibrated", "--json")
    assert code == 0, err
    words = json.loads(out)["calibration"]
    assert words["years"] == ["2017/18", "2018/19"]
    assert words["text"].startswith(
        "Calibrated to what happened in 2017/18 and 2018/19: the draws are England's"
    )
    code, out, _ = run_cli(capsys, "run", str(path), "--calibrated")
    assert code == 0 and "Calibrated to what happened in 2017/18 and 2018/19" in out
    code, out, _ = run_cli(capsys, "run", str(path), "--json")
    assert "calibration" not in json.loads(out)


def test_a_hand_written_calibration_must_fit_the_draws(capsys, tmp_path):
    import yaml

    doc = _small_plan().model_dump(mode="json", exclude_none=True)
    doc["monte_carlo"]["calibration"] = {"years": ["2017/18"], "effective_draws": 5.0, "prior_draws": [0, 1]}
    path = tmp_path / "gm.yaml"
    path.write_text(yaml.safe_dump(doc))
    code, _, err = run_cli(capsys, "run", str(path))
    assert code == 2
    assert "calibration.prior_draws has 2 entries for 60 draws" in err
    doc["monte_carlo"]["calibration"]["prior_draws"] = [0] * 59 + [60]
    path.write_text(yaml.safe_dump(doc))
    code, _, err = run_cli(capsys, "run", str(path))
    assert code == 2 and "calibration.prior_draws 60 is out of range; allowed: 0 to 59" in err


def test_the_board_report_says_how_well_the_model_has_done(record):
    from stpsim.report import track
    from stpsim.report.html import render
    from stpsim.service.compute import run_plan

    results = run_plan(_small_plan())
    page = render(results, "board", track_record=record)
    activity = [r for r in record["table"] if r["unit"] != "GBP m"]
    inside = sum(r["inside"] for r in activity)
    assert '<section id="track-record"><h2>How well has this model done?</h2>' in page
    assert f"held what happened in {inside} of {len(activity)} published national activity figures" in page
    assert "This report&#x27;s figures are not calibrated" in page
    said = track.this_report("Calibrated to what happened in 2017/18")
    assert said == "This report's figures are calibrated. Calibrated to what happened in 2017/18."
    assert "track-record" not in render(results, "public", track_record=record)
    fig = track.chart(record)
    assert len(fig["data"][0]["y"]) == len(activity)  # money is in the words and the table, not the chart


def test_the_track_record_page(kept, tmp_path):
    """Everyone may read it; its words are the report's, its table the document's summary, one
    fan per measure, and the parameters history moved."""
    import html as html_module
    import re

    from fastapi.testclient import TestClient

    from stpsim.api.app import create_app
    from stpsim.report import track
    from stpsim.service import Service

    from .conftest_store import sqlite_url

    track_record._cached.cache_clear()  # the page asks for the default track record: the patched one
    c = TestClient(create_app(Service(sqlite_url(tmp_path))), raise_server_exceptions=False)
    page = c.get("/track-record")
    assert page.status_code == 200
    text = html_module.unescape(page.text)
    assert '<a class="nav__link" href="/track-record" aria-current="page">Track record</a>' in page.text
    for paragraph in track.paragraphs(kept):
        assert f"<p>{paragraph}</p>" in text
    charts = re.findall(r'id="chart-track-([a-z_]+)"', page.text)
    assert charts == [m for m, d in kept["measures"].items() if d["compare"] in ("level", "index")]
    summary = page.text.split('id="track-summary"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r'<th scope="row">([^<]+)</th>', summary)
    assert [html_module.unescape(r) for r in rows] == [s["title"] for s in kept["summary"].values()]
    moved = page.text.split('id="track-moved"', 1)[1].split("</table>", 1)[0]
    assert len(re.findall(r'<th scope="row">', moved)) == len(kept["calibration"]["moved"])
    # The API publishes the same document, to everyone
    assert c.get("/api/track-record").json() == json.loads(json.dumps(kept))


def test_a_calibrated_version_says_so_on_its_results_page(kept, tmp_path):
    """A stored plan version whose draws are calibrated: its results page says so, in the
    run's own words, and links to the track record."""
    import html as html_module
    import re

    from fastapi.testclient import TestClient

    from stpsim.api.app import create_app
    from stpsim.service import Service

    from .conftest_store import sqlite_url

    password = "a long enough password 1"
    svc = Service(sqlite_url(tmp_path))
    svc.add_user("nia", "lead", ["E54000007"])
    svc.set_password("nia", password)
    actor = svc.check_password("nia", password)
    plan = track_record.calibrated(_small_plan())
    made = svc.create_plan(actor, plan.model_dump(mode="json", exclude_none=True))
    doc = svc.run(actor, made["id"], 1)
    assert doc["calibration"]["text"].startswith("Calibrated to what happened in 2017/18 and 2018/19")
    c = TestClient(create_app(svc), raise_server_exceptions=False, follow_redirects=False)
    token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
    signed = c.post("/login", data={"csrf_token": token, "user_name": "nia", "password": password})
    assert signed.status_code == 303
    page = c.get(f"/plans/{made['id']}/versions/1/results")
    assert page.status_code == 200
    said = re.search(r'<div class="inset-text" id="calibrated"><p>(.*?) <a href="/track-record">', page.text)
    assert html_module.unescape(said.group(1)) == doc["calibration"]["text"] + "."


def test_a_calibrated_plan_keeps_its_draws_and_seed(kept, capsys, tmp_path):
    """A calibration was chosen for its draws and seed: overriding either is refused, naming it."""
    import yaml

    doc = track_record.calibrated(_small_plan()).model_dump(mode="json", exclude_none=True)
    path = tmp_path / "calibrated.yaml"
    path.write_text(yaml.safe_dump(doc))
    code, _, err = run_cli(capsys, "run", str(path), "--draws", "30")
    assert code == 2
    assert err.startswith(
        f"stpsim: error: {path}: --draws 30: the plan's draws are calibrated at 60 draws, seed 3;"
    )
    code, _, err = run_cli(capsys, "run", str(path), "--seed", "4")
    assert code == 2 and err.startswith(f"stpsim: error: {path}: --seed 4: the plan's draws are calibrated")
    code, out, err = run_cli(capsys, "run", str(path), "--draws", "60", "--json")
    assert code == 0, err
    assert json.loads(out)["calibration"]["years"] == ["2017/18", "2018/19"]
