"""The report writes its charts as plotly.js documents itself (report/figure.py) instead of
through plotly's Figure, which validated every property and took half of a report's time. What
plotly's Figure would have made of the same calls is the reference: the same grid of panels, the
same axis references, lines and colour scale, the magic underscores spelt out; and the JSON a
page embeds is strict (no NaN) and cannot end its script."""

from __future__ import annotations

import json

import numpy as np
import plotly.graph_objects as go
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from plotly.subplots import make_subplots

from stpsim.report.figure import Figure, colorscale
from stpsim.report.html import _chart_html


def _close(a, b) -> None:
    """Two plain documents equal, numbers to 1e-12."""
    if isinstance(a, dict):
        assert set(a) == set(b), (sorted(a), sorted(b))
        for k in a:
            _close(a[k], b[k])
    elif isinstance(a, list | tuple):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _close(x, y)
    elif isinstance(a, float) or isinstance(b, float):
        assert a == pytest.approx(b, abs=1e-12)
    else:
        assert a == b


@pytest.mark.parametrize("rows,cols,h,v", [(2, 4, 0.07, 0.16), (1, 3, 0.1, 0.2), (3, 2, 0.05, 0.08)])
def test_a_grid_of_panels_is_plotlys(rows, cols, h, v):
    titles = [f"panel {n}" for n in range(rows * cols)]
    want = make_subplots(
        rows=rows, cols=cols, subplot_titles=titles, horizontal_spacing=h, vertical_spacing=v
    )
    got = Figure.grid(rows=rows, cols=cols, subplot_titles=titles, horizontal_spacing=h, vertical_spacing=v)
    lay = want.layout.to_plotly_json()
    lay.pop("template")
    _close(got.layout, lay)
    # a trace in the last panel refers to that panel's axes, as make_subplots's add_scatter does
    want.add_scatter(x=[1], y=[2], row=rows, col=cols)
    got.add_scatter(x=[1], y=[2], row=rows, col=cols)
    _close(got.data[0], want.data[0].to_plotly_json())


def test_layout_calls_spell_out_plotlys_magic_underscores():
    want, got = go.Figure(), Figure()
    for fig in (want, got):
        fig.add_bar(x=[1, 2], y=[3, 4], marker_color="#0072B2", name="bars")
        fig.add_scatter(x=[1, 2], y=[3, 4], error_y=dict(type="data", array=[1, 1]), line=dict(dash="dot"))
        fig.update_layout(title=dict(text="A title", x=0.01), barmode="overlay", margin=dict(l=70, t=60))
        fig.update_layout(margin=dict(l=90))  # merged, not replaced: t stays 60
        fig.update_xaxes(title_text="Year", tickangle=-30)
        fig.update_yaxes(title_text="£ million", range=[0, 5])
        fig.add_hline(y=0, line=dict(color="#999", width=1))
        fig.add_vline(x=1.5, line=dict(color="#555", dash="dash"))
    lay = want.layout.to_plotly_json()
    lay.pop("template")  # plotly's default template; the report's charts set their own
    _close(got.layout, lay)
    _close(got.data, [t.to_plotly_json() for t in want.data])
    assert got.layout["margin"] == {"l": 90, "t": 60}


def test_a_named_colour_scale_is_spelt_out_as_plotly_does():
    want = go.Heatmap(z=[[0]], colorscale="PuOr").to_plotly_json()["colorscale"]
    _close([list(p) for p in colorscale("PuOr")], [list(p) for p in want])


def test_the_json_is_strict_and_cannot_end_its_script():
    fig = Figure().add_scatter(x=["a", "b", "c"], y=np.array([1.5, np.nan, np.inf]), name="</script><b>")
    fig.update_layout(height=300)
    doc = json.loads(fig.to_json())  # strict JSON: not-finite numbers are null, as plotly writes them
    assert doc["data"][0]["y"] == [1.5, None, None]
    page = _chart_html(fig, "chart-x")
    assert "</script><b>" not in page and "\\u003c/script\\u003e\\u003cb\\u003e" in page
    assert page.count("</script>") == 1 and 'style="height:300px"' in page


def test_the_kept_template_and_scales_are_plotlys_and_a_new_plotly_is_read_afresh(monkeypatch):
    """The template and colour scales a report uses are kept in the derived-table cache with
    plotly's version; they are plotly's own, and when plotly's version differs from the one
    kept they are read from plotly again."""
    import plotly.io as pio

    from stpsim.report import figure

    full = pio.templates["simple_white"].to_plotly_json()
    assert figure.template()["layout"] == full["layout"]
    assert figure.template()["data"]["scatter"] == full["data"]["scatter"]
    want = [list(p) for p in go.Heatmap(z=[[0]], colorscale="PuOr").to_plotly_json()["colorscale"]]
    _close([list(p) for p in figure.colorscale("PuOr")], want)
    stale = {"plotly": "0.0.0", "template": {"layout": {"font": {"size": 99}}}, "colorscales": {"PuOr": ()}}
    monkeypatch.setattr(figure, "_kept_from_plotly", lambda: stale)
    figure._from_plotly.cache_clear()
    try:
        assert figure._from_plotly()["template"]["layout"] == full["layout"]
        _close([list(p) for p in figure._from_plotly()["colorscales"]["PuOr"]], want)
    finally:
        figure._from_plotly.cache_clear()


@settings(max_examples=50, deadline=None)
@given(name=st.text())
def test_a_charts_json_in_a_page_cannot_end_its_script_and_reads_back_the_same(name):
    """``script_json``, the one writer of a chart's JSON into the reports and the web pages."""
    from stpsim.report.figure import script_json
    from stpsim.web.figures import figure_json

    doc = {"data": [{"type": "bar", "name": name, "x": [name], "y": [1.0]}], "layout": {"title": name}}
    fig = Figure().add_bar(x=[name], y=[1.0], name=name)
    for text in (script_json(doc), script_json(fig), str(figure_json(doc))):
        assert not {"<", ">", "&"} & set(text)
    assert json.loads(script_json(doc)) == doc
    assert json.loads(script_json(fig))["data"][0]["name"] == name
