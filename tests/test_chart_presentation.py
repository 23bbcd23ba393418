"""How the charts read (issue 14, item 9): amounts print with one minus convention ("−£268.5m",
never "£-268.5m"), the gap waterfall keeps its axis title clear of its title and its labels
unclipped, the population pyramid has round, symmetric ticks, and the public charts name care
models and organisations in words and say "80% interval" in words. Checked on the figures'
layouts and traces, not on a rendering."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import stpsim
from stpsim import plan
from stpsim.interventions import library
from stpsim.report import charts
from stpsim.web import charts as dc

EXAMPLES = Path(__file__).parent.parent / "examples"
SNAKE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")
NICE = (1.0, 2.0, 2.5, 5.0)


@pytest.fixture(scope="module")
def gm():
    p = plan.load(EXAMPLES / "greater_manchester.yaml")
    return stpsim.run(p.model_copy(update={"monte_carlo": p.monte_carlo.model_copy(update={"draws": 60})}))


@pytest.fixture(scope="module")
def board(gm):
    return charts.all_charts(gm, public=False)


@pytest.fixture(scope="module")
def public(gm):
    return charts.all_charts(gm, public=True)


@pytest.fixture(scope="module")
def dashboard(gm):
    doc = gm.to_dict()
    out = [
        dc.admissions_chart(doc),
        dc.beds_chart(doc),
        dc.services_chart(doc),
        dc.bridge_chart(doc),
        dc.orgs_chart(doc),
        dc.incentives_chart(doc),
        dc.drivers_chart(doc, 1.5e8),
    ]
    return {c.key: c.figure for c in out if c is not None}


def _plain(fig) -> dict:
    """A figure as plain containers (a plotly Figure's numpy arrays kept as arrays)."""
    if isinstance(fig, dict):
        return fig
    return {"data": [t.to_plotly_json() for t in fig.data], "layout": fig.layout.to_plotly_json()}


def strings(fig, skip=("template",)) -> list[str]:
    """Every string a figure carries (titles, axis titles, tick texts, trace names and texts,
    hover templates, custom data, category labels), bar the template's styling."""
    out: list[str] = []

    def walk(x):
        if isinstance(x, str):
            out.append(x)
        elif isinstance(x, dict):
            for k, v in x.items():
                if k not in skip:
                    walk(v)
        elif isinstance(x, list | tuple | np.ndarray):
            for v in x:
                walk(v)

    walk(_plain(fig))
    return out


def traces(fig) -> list[dict]:
    return _plain(fig)["data"]


def layout(fig) -> dict:
    return _plain(fig)["layout"]


# ---- 1. money: one minus convention --------------------------------------------------------


def test_money_puts_the_minus_before_the_pound_sign():
    assert charts.money(-268.5e6) == "−£268.5m"
    assert charts.money(12e6) == "£12.0m"
    assert charts.money(-0.004e6) == "£0.0m"  # rounds to nothing: no minus
    assert charts.money(-1.234e6, digits=2) == "−£1.23m"
    assert charts.signed(-0.3) == "−0.3" and charts.signed(1.24) == "+1.2"
    assert dc.money(-268.5e6) == "−£268.5m" and dc.signed(-0.3) == "−0.3"


def test_the_pages_print_money_one_way_and_a_range_in_one_unit():
    """Issue 21, item 5: £m with one decimal (£bn from £1bn), never plain pounds inside a £m
    range ("£342,742") nor brackets inside brackets ("((52.5) to (12.7))")."""
    assert dc.money(342_742.0) == "£0.3m" and dc.money(-40_000.0) == "£0.0m"
    assert dc.money(2.0571e10) == "£20.6bn" and dc.money(999.96e6) == "£1,000.0m"
    assert dc.interval({"mean": 5e6, "p10": 342_742.0, "p90": 9e6}) == "£5.0m (£0.3m to £9.0m)"
    assert dc.interval({"mean": 2.057e10, "p10": 1.704e10, "p90": 2.42e10}) == "£20.6bn (£17.0bn to £24.2bn)"
    assert dc.interval({"mean": 1.2e9, "p10": 8e8, "p90": 1.6e9}) == "£1.2bn (£0.8bn to £1.6bn)"
    assert dc.interval({"mean": 962.2e6, "p10": 763.2e6, "p90": 1157e6}) == "£962.2m (£763.2m to £1,157.0m)"
    npv = {"mean": -52.5e6, "p10": -60e6, "p90": -12.7e6}
    (row,) = dc.investment_table(
        {
            "investment": [
                {"title": "A model", "investment": {}, "payback_year": None, "years": ["2020/21"], "npv": npv}
            ]
        }
    ).rows
    assert row[3] == "−£52.5m (−£60.0m to −£12.7m)"


def test_no_chart_prints_a_pound_sign_before_a_minus(board, public, dashboard):
    for figs in (board, public, dashboard):
        for key, fig in figs.items():
            for s in strings(fig):
                assert "£-" not in s and "£−" not in s, (key, s)
                assert "-£" not in s, (key, s)  # the one convention is "−£"
            for t in traces(fig):
                # plotly would print a negative number after the pound sign: amounts come
                # formatted in customdata instead
                assert "£%{" not in t.get("hovertemplate", ""), (key, t.get("hovertemplate"))


def test_waterfall_labels_and_hover_use_the_minus_convention(gm, board):
    wf = traces(board["money"])[0]
    assert any(v < 0 for v in wf["y"]), "Greater Manchester's bridge has a reduction"
    for v, text, hover in zip(wf["y"], wf["text"], wf["customdata"], strict=True):
        assert text == hover == charts.money(v * 1e6)
        assert text.startswith("−£") == (round(v, 1) < 0)
    assert wf["hovertemplate"] == "%{x}: %{customdata}<extra></extra>"


# ---- 1. the waterfall's layout -------------------------------------------------------------


def _lines(text: str) -> list[str]:
    return re.sub(r"<[^>]+>", "\n", text).split("\n")


def _check_room(fig, font: float = 13):
    lay = layout(fig)
    title, margin = lay["title"], lay["margin"]
    # The title sits in the top margin, from the top, with room for each of its lines.
    assert title["yref"] == "container" and title["yanchor"] == "top" and title["y"] >= 0.95
    title_size = title.get("font", {}).get("size", 17)
    assert margin["t"] >= len(_lines(title["text"])) * 1.3 * title_size + 20
    # The axis title (vertical) fits the plot's height, so its ends cannot reach the title, and
    # the margins grow for it and the slanted labels.
    yaxis, xaxis = lay["yaxis"], lay["xaxis"]
    assert yaxis["automargin"] is True and xaxis["automargin"] is True
    plot_height = lay["height"] - margin["t"] - margin["b"]
    longest = max(len(line) for line in _lines(yaxis["title"]["text"]))
    assert longest * 0.6 * font <= 0.8 * plot_height, (longest, plot_height)


def _check_unclipped(fig):
    wf = traces(fig)[0]
    assert wf["cliponaxis"] is False
    assert wf["textposition"] == "outside"
    level, reach = 0.0, [0.0]
    for v, m in zip(wf["y"], wf["measure"], strict=True):
        level = v if m == "absolute" else level if m == "total" else level + v
        reach.append(level)
    lo, hi = layout(fig)["yaxis"]["range"]
    span = max(reach) - min(reach)
    assert hi >= max(reach) + 0.1 * span and lo <= min(reach) - 0.1 * span


def test_waterfall_has_room_for_its_titles_and_labels(board, public, dashboard):
    for fig in (board["money"], public["money"], dashboard["bridge"]):
        _check_room(fig)
        _check_unclipped(fig)


# ---- 2. the pyramid's ticks ----------------------------------------------------------------


def _nice(step: float) -> bool:
    m = step / 10 ** np.floor(np.log10(step))
    return any(abs(m - n) < 1e-9 for n in NICE)


@pytest.mark.parametrize(
    "top, ticks",
    [
        (102_589, [0, 50_000, 100_000]),
        (68_393, [0, 20_000, 40_000, 60_000]),
        (27_000, [0, 10_000, 20_000]),
        (9_100, [0, 2_500, 5_000, 7_500]),
        (100_000, [0, 25_000, 50_000, 75_000, 100_000]),
    ],
)
def test_nice_ticks(top, ticks):
    assert list(charts.nice_ticks(top)) == ticks


@pytest.mark.parametrize("top", np.geomspace(3.7, 4.2e6, 41))
def test_nice_ticks_are_round_steps_up_to_the_top(top):
    t = charts.nice_ticks(top)
    step = t[1] - t[0]
    assert t[0] == 0 and _nice(step) and 2 <= len(t) - 1 <= 4
    assert np.allclose(np.diff(t), step) and t[-1] <= top < t[-1] + step


def test_pyramid_ticks_are_round_symmetric_and_read_as_people(board, public):
    for fig in (board["people"], public["people"]):
        xaxis = layout(fig)["xaxis"]
        vals, text = np.asarray(xaxis["tickvals"], float), list(xaxis["ticktext"])
        assert np.allclose(vals, -vals[::-1]) and 0 in vals
        step = np.diff(vals)
        assert np.allclose(step, step[0]) and _nice(step[0])
        assert text == [f"{abs(v):,.0f}" for v in vals]
        assert all(re.fullmatch(r"\d{1,3}(,\d{3})*", s) for s in text)
        top = max(max(abs(x) for x in t["x"]) for t in traces(fig))
        lo, hi = xaxis["range"]
        assert lo == -hi and hi >= top and hi >= vals.max()


# ---- 3. names, not ids ---------------------------------------------------------------------


def test_public_charts_name_care_models_and_organisations(gm, public):
    ids = {name for (name, _, _) in gm.finance.incentives} | {a.name for a in gm.plan.interventions}
    org_ids = {o.id for b in gm.finance.footprints for o in b.orgs}
    for key, fig in public.items():
        for s in strings(fig):
            assert "acute:" not in s, (key, s)
            assert not (set(SNAKE.findall(s)) & (ids | org_ids)), (key, s)
            assert not SNAKE.search(s), (key, s)
    heat = traces(public["incentives"])[0]
    lib = library()
    assert list(heat["y"]) == [lib[m].title for m in dict.fromkeys(n for (n, _, _) in gm.finance.incentives)]
    names = {o.name for b in gm.finance.footprints for o in b.orgs}
    assert {x.replace("<br>", " ") for x in heat["x"]} <= names
    assert "Bolton NHS Foundation Trust" in heat["x"]


def test_board_charts_name_them_too(board, dashboard):
    for figs in (board, dashboard):
        for key, fig in figs.items():
            for s in strings(fig):
                assert "acute:" not in s and not SNAKE.search(s), (key, s)


def test_dashboard_heat_map_keeps_ids_out_of_repeated_labels():
    """Two footprints' commissioners: their labels differ by name, not by id."""
    cell = {"mean": -1.0e6}
    doc = {
        "years": ["2016/17", "2020/21"],
        "finance": {
            "orgs": [
                {"id": "E1:commissioner", "name": "North commissioners", "kind": "commissioner"},
                {"id": "E2:commissioner", "name": "South commissioners", "kind": "commissioner"},
                {"id": "E2:acute:RMC", "name": "Bolton NHS Foundation Trust", "kind": "acute"},
            ]
        },
        "incentives": [
            {"intervention": "hospital_at_home", "org": o, "gain": cell}
            for o in ("E1:commissioner", "E2:commissioner", "E2:acute:RMC")
        ],
    }
    fig = dc.incentives_chart(doc).figure
    for s in strings(fig):
        assert ":" not in s.split("<extra>")[0].replace("%{y} → %{x}: ", "") or "%{" in s, s
        assert "commissioner)" not in s and not SNAKE.search(s), s
    assert sorted(set(traces(fig)[0]["x"])) == ["Bolton", "Commissioners", "South commissioners"]
    assert set(traces(fig)[0]["y"]) == {"Hospital at home"}
    assert set(traces(fig)[0]["text"]) == {"−1.0"}


# ---- 4. the interval in words --------------------------------------------------------------


def test_public_legends_say_the_interval_in_words(board, public):
    for key, fig in public.items():
        for s in strings(fig):
            assert "80%" not in s, (key, s)
    names = [t.get("name", "") for t in traces(public["patients"])]
    assert "Plan: likely range (8 in 10 outcomes)" in names
    assert "likely ranges (8 in 10 outcomes)" in layout(public["pressure"])["title"]["text"]
    assert "Plan: 80% interval" in [t.get("name", "") for t in traces(board["patients"])]
