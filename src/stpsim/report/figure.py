"""A plotly figure as the plain document plotly.js draws, ``{"data": [...], "layout": {...}}``,
built with the few calls the report's charts make (``add_scatter``, ``update_yaxes``,
``add_hline``...), named as plotly's ``graph_objects.Figure`` names them.

plotly's own ``Figure`` validates and copies every property as it is set: the report's seven
charts took 120 ms of a 225 ms report from a saved record, to write a few kilobytes of JSON. Here
a figure is a dict from the start (as the dashboard's charts are, ``web/charts.py``), and what
plotly would have checked is held by the report's tests and a real browser (the pages' and the
report's charts are drawn by plotly.js in ``tests/test_web_browser.py``).
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import numpy as np

from ..cache import persistent

# Keys that name a property with an underscore in plotly's schema; any other key with one is
# plotly's "magic underscore" for a nested property (``title_text`` is ``title.text``).
_UNDERSCORED = {"error_x", "error_y"}


def _nested(props: dict[str, Any]) -> dict[str, Any]:
    """``props`` with magic underscores spelt out: {"title_text": t} -> {"title": {"text": t}}."""
    out: dict[str, Any] = {}
    for key, value in props.items():
        if "_" in key and key not in _UNDERSCORED:
            head, rest = key.split("_", 1)
            _merge(out, {head: _nested({rest: value})})
        else:
            _merge(out, {key: value})
    return out


def _merge(into: dict[str, Any], more: dict[str, Any]) -> dict[str, Any]:
    """``more`` merged into ``into``: dicts key by key, anything else replaced."""
    for key, value in more.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = dict(value) if isinstance(value, dict) else value
    return into


def _plain(x: Any) -> Any:
    """numpy's numbers and arrays as JSON's (``json.dumps`` default)."""
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, np.generic):
        return x.item()
    raise TypeError(f"a figure cannot hold a {type(x).__name__}")


def _finite(x: Any) -> Any:
    """``x`` with every number that is not finite as None."""
    if isinstance(x, float):
        return x if np.isfinite(x) else None
    if isinstance(x, dict):
        return {k: _finite(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_finite(v) for v in x]
    return x


class Figure(dict):
    """A figure: ``self["data"]`` the traces, ``self["layout"]`` the layout, both plain."""

    def __init__(self, data: list[dict] | None = None, layout: dict | None = None) -> None:
        super().__init__(data=list(data or []), layout=dict(layout or {}))
        self._grid: tuple[int, int] | None = None

    @property
    def data(self) -> list[dict]:
        return self["data"]

    @property
    def layout(self) -> dict:
        return self["layout"]

    @classmethod
    def grid(
        cls,
        rows: int,
        cols: int,
        subplot_titles: list[str],
        horizontal_spacing: float,
        vertical_spacing: float,
    ) -> Figure:
        """Panels in ``rows`` x ``cols``, each with its title above it (plotly's make_subplots):
        panel n (from 1, across then down) has axes ``xaxis{n}`` and ``yaxis{n}``."""
        fig = cls()
        width = (1 - horizontal_spacing * (cols - 1)) / cols
        height = (1 - vertical_spacing * (rows - 1)) / rows
        notes = []
        for r in range(rows):
            top = 1 - r * (height + vertical_spacing)
            for c in range(cols):
                n = r * cols + c + 1
                left = c * (width + horizontal_spacing)
                x, y = f"x{n if n > 1 else ''}", f"y{n if n > 1 else ''}"
                fig.layout[f"xaxis{n if n > 1 else ''}"] = {"anchor": y, "domain": [left, left + width]}
                fig.layout[f"yaxis{n if n > 1 else ''}"] = {"anchor": x, "domain": [top - height, top]}
                if n <= len(subplot_titles):
                    notes.append(
                        {
                            "font": {"size": 16},
                            "showarrow": False,
                            "text": subplot_titles[n - 1],
                            "x": left + width / 2,
                            "xanchor": "center",
                            "xref": "paper",
                            "y": top,
                            "yanchor": "bottom",
                            "yref": "paper",
                        }
                    )
        fig.layout["annotations"] = notes
        fig._grid = (rows, cols)
        return fig

    def add_trace(self, trace: dict, row: int | None = None, col: int | None = None) -> Figure:
        trace = _nested(trace)
        if row is not None and col is not None and self._grid is not None:
            n = (row - 1) * self._grid[1] + col
            if n > 1:
                trace["xaxis"], trace["yaxis"] = f"x{n}", f"y{n}"
        self.data.append(trace)
        return self

    def add_scatter(self, row: int | None = None, col: int | None = None, **props: Any) -> Figure:
        return self.add_trace({"type": "scatter", **props}, row, col)

    def add_bar(self, row: int | None = None, col: int | None = None, **props: Any) -> Figure:
        return self.add_trace({"type": "bar", **props}, row, col)

    def update_layout(self, **props: Any) -> Figure:
        _merge(self.layout, _nested(props))
        return self

    def _update_axes(self, letter: str, props: dict[str, Any]) -> Figure:
        names = [k for k in self.layout if k.startswith(f"{letter}axis")] or [f"{letter}axis"]
        for name in names:
            _merge(self.layout.setdefault(name, {}), _nested(props))
        return self

    def update_xaxes(self, **props: Any) -> Figure:
        return self._update_axes("x", props)

    def update_yaxes(self, **props: Any) -> Figure:
        return self._update_axes("y", props)

    def add_hline(self, y: float, line: dict | None = None) -> Figure:
        """A line across the plot at ``y``."""
        shape = {"type": "line", "xref": "x domain", "x0": 0, "x1": 1, "yref": "y", "y0": y, "y1": y}
        self.layout.setdefault("shapes", []).append({"line": dict(line or {}), **shape})
        return self

    def add_vline(self, x: float, line: dict | None = None) -> Figure:
        """A line up the plot at ``x``."""
        shape = {"type": "line", "xref": "x", "x0": x, "x1": x, "yref": "y domain", "y0": 0, "y1": 1}
        self.layout.setdefault("shapes", []).append({"line": dict(line or {}), **shape})
        return self

    def to_plotly_json(self) -> dict:
        return {"data": self.data, "layout": self.layout}

    def to_json(self) -> str:
        """The figure as JSON, numpy's numbers and arrays as JSON's. A number that is not finite
        is written null (plotly.js leaves a gap), as plotly's own writer does: JSON has no NaN."""
        doc = self.to_plotly_json()
        try:
            return json.dumps(doc, default=_plain, separators=(",", ":"), allow_nan=False)
        except ValueError:
            return json.dumps(_finite(json.loads(json.dumps(doc, default=_plain))), separators=(",", ":"))


def script_json(fig) -> str:
    """A figure (one of ours, plotly's, or a plain document) as JSON that is safe inside a
    ``<script>`` element: no ``<``, ``>`` or ``&`` survives (each is written as its JSON
    escape), so no text in a chart (a care model's or a plan's own name, say) can end the
    script. The one writer of a chart's JSON into a page, for the reports and the web pages."""
    text = fig.to_json() if hasattr(fig, "to_json") else json.dumps(fig)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


@cache
def colorscale(name: str) -> tuple[tuple[float, str], ...]:
    """A named colour scale as (position, colour) pairs, from plotly's own list: plotly.js knows
    only a few names, so the scale is spelt out (as plotly's Figure does)."""
    kept = _from_plotly()
    if name in kept["colorscales"]:
        return tuple((float(p), str(c)) for p, c in kept["colorscales"][name])
    return _plotly_colorscale(name)


def template() -> dict:
    """plotly's "simple_white", kept to its layout and the trace types the charts draw, as the
    plain document plotly.js reads (``layout.template``)."""
    return _from_plotly()["template"]


# The named colour scales the report's charts use, kept with the template.
COLORSCALES = ("PuOr",)


@cache
def _from_plotly() -> dict:
    """The template and colour scales, kept in the derived-table cache with the version of
    plotly they came from: plotly builds them from its graph objects and validators, which took
    40 ms of every new process that writes a report. Worked out afresh when plotly has changed
    since the cache was made."""
    import plotly

    kept = _kept_from_plotly()
    return kept if kept["plotly"] == plotly.__version__ else _read_plotly()


@persistent
def _kept_from_plotly() -> dict:
    return _read_plotly()


def _read_plotly() -> dict:
    import plotly

    return {
        "plotly": plotly.__version__,
        "template": _simple_white(),
        "colorscales": {n: _plotly_colorscale(n) for n in COLORSCALES},
    }


def _plotly_colorscale(name: str) -> tuple[tuple[float, str], ...]:
    from plotly.colors import get_colorscale

    return tuple((float(p), str(c)) for p, c in get_colorscale(name))


def _simple_white() -> dict:
    import plotly.io as pio

    full = pio.templates["simple_white"].to_plotly_json()
    data = full.get("data", {})
    return {
        "layout": full["layout"],
        "data": {k: data[k] for k in ("bar", "scatter", "heatmap") if k in data},
    }
