"""The dashboard's charts and tables, drawn from the service's documents (the ``RunResponse`` of
``preview`` or ``Service.run``): Plotly figures as plain dictionaries, so a preview costs the
engine and not the figures, in the report's colours (report/charts.py: doing nothing dashed
vermillion, the plan solid blue, 80% bands shaded). No text a user typed goes into a figure (plan
names appear only in the pages, escaped); each figure comes with a table saying the same in words
and numbers, its text alternative.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from ..service.catalogue import FAN_SETTINGS, waterfall_reach  # one list of the settings drawn as fans

PLAN = "#0072B2"  # the report's palette (report/charts.py): the plan blue, solid
DO_NOTHING = "#D55E00"  # do nothing vermillion, dashed
OPTION_B = "#009E73"  # a second option green, dotted
FONT = {"family": "Arial, Helvetica, sans-serif", "size": 13, "color": "#212b32"}
AXIS = {
    "showline": True,
    "linecolor": "#4c6272",
    "ticks": "outside",
    "gridcolor": "#e8edee",
    "zeroline": False,
    "automargin": True,
}
KIND_NAMES = {
    "commissioner": "Commissioners",
    "acute": "Acute trusts",
    "community": "Community services",
    "mental_health": "Mental health services",
    "primary_care": "General practice",
    "specialised": "Specialised services",
    "social_care": "Councils' social care",
    "external": "Out of area",
}
CHART_HEIGHTS = (360, 420, 460, 520, 560, 620)  # the page reserves one of these (dashboard.css)


# ---- numbers as the pages print them ---------------------------------------------------------


def money_unit(*amounts: float) -> str:
    """The unit a set of amounts is printed in together: "bn" from £1bn, else "m"."""
    return "bn" if max((abs(a) for a in amounts), default=0.0) >= 1e9 else "m"


def money(x: float, unit: str | None = None) -> str:
    """GBP one way on every page: £m with one decimal (£452.3m, −£12.0m, £0.3m), or £bn with one
    decimal from £1bn (£20.6bn); one minus sign; never "−£0.0m". ``unit`` fixes "m" or "bn"
    (so a range reads in one unit)."""
    unit = unit or money_unit(x)
    v = round(x / (1e9 if unit == "bn" else 1e6), 1) + 0.0  # + 0.0: never "−£0.0m"
    return f"{'−' if v < 0 else ''}£{abs(v):,.1f}{unit}"


def millions(x: float) -> str:
    """£m with one decimal whatever the size, as the reviewer's board lines them up."""
    return money(x, "m")


def millions_range(s: Mapping[str, float]) -> str:
    """An 80% interval in words: "£200.0m to £700.0m"."""
    return f"{millions(s['p10'])} to {millions(s['p90'])}"


def millions_change(x: float) -> str:
    """A change in £m with its sign, or that none shows at one decimal: +£3.2m, −£0.4m."""
    v = round(x / 1e6, 1) + 0.0
    if v == 0:
        return "no change (under £0.1m)"
    return f"{'+' if v > 0 else '−'}£{abs(v):,.1f}m"


def pounds(x: float) -> str:
    """Whole pounds with one minus sign: £367, −£12."""
    v = round(x) + 0
    return f"{'−' if v < 0 else ''}£{abs(v):,}"


def signed(x: float, digits: int = 1) -> str:
    """A change with its sign, the same minus as ``money``: +1.2, −0.3."""
    return ("+" if round(x, digits) >= 0 else "−") + f"{abs(x):,.{digits}f}"


def count(x: float) -> str:
    return f"{x:,.0f}".replace("-", "−")


def interval(s: Mapping[str, float], fmt=money) -> str:
    """Average (80% interval); money in one unit throughout: "£452.3m (£310.0m to £600.1m)"."""
    if fmt is money:
        unit = money_unit(s["mean"])  # the average's unit: £962.2m (£763.2m to £1,157.0m)
        return f"{money(s['mean'], unit)} ({money(s['p10'], unit)} to {money(s['p90'], unit)})"
    return f"{fmt(s['mean'])} ({fmt(s['p10'])} to {fmt(s['p90'])})"


# ---- tables and charts -----------------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    """A table as a page prints it: each row's first cell is its header."""

    caption: str
    head: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    def to_dict(self) -> dict:
        return {"caption": self.caption, "head": list(self.head), "rows": [list(r) for r in self.rows]}


@dataclass(frozen=True)
class Chart:
    """A figure, the words under it and the table that says the same (its text alternative)."""

    key: str
    caption: str
    figure: dict
    table: Table
    height: int

    def to_dict(self) -> dict:
        return {"caption": self.caption, "figure": self.figure, "table": self.table.to_dict()}


def _height(want: float) -> int:
    """The reserved height nearest ``want`` (the page keeps the space before the chart draws)."""
    return min(CHART_HEIGHTS, key=lambda h: abs(h - want))


def _layout(title: str, height: int, **more) -> dict:
    return {
        "title": {
            "text": title,
            "x": 0.01,
            "xanchor": "left",
            "y": 0.99,
            "yref": "container",
            "yanchor": "top",
            "font": {"size": 15},
        },
        "height": height,
        "font": FONT,
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "margin": {"l": 90, "r": 24, "t": 56, "b": 56},
        "legend": {"orientation": "h", "y": -0.2},
        "hovermode": "closest",
        **more,
    }


def _rgba(colour: str, alpha: float) -> str:
    h = colour.lstrip("#")
    return f"rgba({int(h[0:2], 16)},{int(h[2:4], 16)},{int(h[4:6], 16)},{alpha})"


def _fan(
    years: list[str],
    by_year: Mapping[str, Mapping[str, float]],
    colour: str,
    dash: str,
    label: str,
    unit: str = "",
    axes: tuple[str, str] = ("x", "y"),
    legend: bool = True,
) -> list[dict]:
    """An 80% band and the average line, as the report draws them."""
    p10 = [by_year[y]["p10"] for y in years]
    p90 = [by_year[y]["p90"] for y in years]
    where = {"xaxis": axes[0], "yaxis": axes[1]}
    return [
        {
            "type": "scatter",
            "x": years + years[::-1],
            "y": p90 + p10[::-1],
            "fill": "toself",
            "fillcolor": _rgba(colour, 0.18),
            "line": {"width": 0},
            "mode": "lines",
            "hoverinfo": "skip",
            "name": f"{label}: 80% interval",
            "legendgroup": f"{label} band",
            "showlegend": legend,
            **where,
        },
        {
            "type": "scatter",
            "x": years,
            "y": [by_year[y]["mean"] for y in years],
            "mode": "lines+markers",
            "line": {"color": colour, "dash": dash, "width": 2.5},
            "marker": {"size": 5},
            "name": f"{label}: average",
            "legendgroup": label,
            "showlegend": legend,
            "hovertemplate": "%{x}: %{y:,.0f}" + unit + "<extra>" + label + "</extra>",
            **where,
        },
    ]


def last_year(doc: dict) -> str:
    return doc["years"][-1]


def gap(books: dict, year: str) -> dict:
    """A system's gap in ``year`` (a shortfall is positive)."""
    if books.get("gap"):
        return books["gap"][year]
    s = books["surplus"][year]
    return {"mean": -s["mean"], "p10": -s["p90"], "p50": -s["p50"], "p90": -s["p10"]}


def _scenarios(doc: dict, what: str, key: str) -> tuple[dict, dict]:
    """(do nothing, plan) by year of one activity setting or capacity measure."""
    return doc["do_nothing"][what][key], doc[what][key]


def admissions_chart(doc: dict) -> Chart:
    years = doc["years"]
    dn, plan = _scenarios(doc, "activity", "emergency_admissions")
    fig = {
        "data": _fan(years, dn, DO_NOTHING, "dash", "Do nothing") + _fan(years, plan, PLAN, "solid", "Plan"),
        "layout": _layout(
            "Emergency admissions a year: doing nothing (dashed) against the plan (solid)",
            420,
            xaxis={**AXIS, "title": {"text": "Financial year"}},
            yaxis={**AXIS, "title": {"text": "Emergency admissions a year"}, "tickformat": ",.0f"},
        ),
    }
    rows = tuple(
        (y, interval(plan[y], count), interval(dn[y], count), count(plan[y]["mean"] - dn[y]["mean"]))
        for y in years
    )
    return Chart(
        "admissions",
        f"Fan chart of emergency admissions a year from {years[0]} to {years[-1]}: the dashed line and "
        "its shaded band are doing nothing, the solid line and its band the plan; bands are 80% intervals.",
        fig,
        Table(
            "Emergency admissions a year: average (80% interval)",
            ("Year", "With the plan", "If nothing changes", "Difference"),
            rows,
        ),
        420,
    )


def beds_chart(doc: dict) -> Chart:
    years = doc["years"]
    dn, plan = _scenarios(doc, "capacity", "beds")
    fig = {
        "data": _fan(years, dn, DO_NOTHING, "dash", "Do nothing", " beds")
        + _fan(years, plan, PLAN, "solid", "Plan", " beds"),
        "layout": _layout(
            "Hospital beds needed at 85% occupancy",
            420,
            xaxis={**AXIS, "title": {"text": "Financial year"}},
            yaxis={**AXIS, "title": {"text": "Beds needed"}, "tickformat": ",.0f"},
        ),
    }
    rows = tuple((y, interval(plan[y], count), interval(dn[y], count)) for y in years)
    return Chart(
        "beds",
        f"Fan chart of the hospital beds needed from {years[0]} to {years[-1]}: dashed for doing nothing, "
        "solid for the plan, with 80% intervals shaded.",
        fig,
        Table(
            "Hospital beds needed: average (80% interval)",
            ("Year", "With the plan", "If nothing changes"),
            rows,
        ),
        420,
    )


def _panel_grid(titles: list[str], cols: int, gap_x: float, gap_y: float) -> tuple[dict, list[dict]]:
    """Axes domains and title annotations for panels in ``cols`` columns, filled row by row."""
    n_rows = -(-len(titles) // cols)
    width = (1 - gap_x * (cols - 1)) / cols
    height = (1 - gap_y * (n_rows - 1)) / n_rows
    axes, notes = {}, []
    for i, title in enumerate(titles):
        r, c = divmod(i, cols)
        n = "" if i == 0 else str(i + 1)
        x0 = c * (width + gap_x)
        y0 = 1 - height - r * (height + gap_y)
        axes[f"xaxis{n}"] = {
            **AXIS,
            "domain": [x0, x0 + width],
            "anchor": f"y{n}",
            "tickangle": -45,
            "tickfont": {"size": 10},
        }
        axes[f"yaxis{n}"] = {**AXIS, "domain": [y0, y0 + height], "anchor": f"x{n}", "tickformat": ".3s"}
        notes.append(
            {
                "text": title,
                "x": x0 + width / 2,
                "y": y0 + height,
                "xref": "paper",
                "yref": "paper",
                "xanchor": "center",
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"size": 13},
            }
        )
    return axes, notes


def services_chart(doc: dict) -> Chart:
    """Eight services' fans in a grid of two rows of four (the report's ``fans``); on a phone,
    four rows of two (``layout.meta.narrow``, which dashboard.js applies to a narrow chart)."""
    years = doc["years"]
    titles = [title for _, title in FAN_SETTINGS]
    wide_axes, wide_titles = _panel_grid(titles, 4, 0.07, 0.2)
    narrow_axes, narrow_titles = _panel_grid(titles, 2, 0.16, 0.09)
    data, rows = [], []
    for i, (key, title) in enumerate(FAN_SETTINGS):
        n = "" if i == 0 else str(i + 1)
        dn, plan = _scenarios(doc, "activity", key)
        data += _fan(years, dn, DO_NOTHING, "dash", "Do nothing", axes=(f"x{n}", f"y{n}"), legend=i == 0)
        data += _fan(years, plan, PLAN, "solid", "Plan", axes=(f"x{n}", f"y{n}"), legend=i == 0)
        last = years[-1]
        rows.append((title, interval(plan[last], count), interval(dn[last], count)))
    narrow = {
        "height": 1100,
        "annotations": narrow_titles,
        "legend": {"orientation": "h", "y": -0.06},
        "margin": {"l": 48, "r": 12, "t": 90, "b": 60},
        **narrow_axes,
    }
    fig = {
        "data": data,
        "layout": _layout(
            "Demand by service: doing nothing (dashed) against the plan (solid), with 80% intervals",
            620,
            annotations=wide_titles,
            legend={"orientation": "h", "y": -0.16},
            margin={"l": 60, "r": 20, "t": 70, "b": 70},
            meta={"narrow": {"layout": narrow}},
            **wide_axes,
        ),
    }
    return Chart(
        "services",
        f"Fan charts of demand for eight services from {years[0]} to {years[-1]}: dashed lines for doing "
        "nothing, solid for the plan, shaded 80% intervals.",
        fig,
        Table(
            f"Demand a year in {years[-1]}: average (80% interval)",
            ("Service", "With the plan", "If nothing changes"),
            tuple(rows),
        ),
        620,
    )


def bridge_chart(doc: dict, key: str = "bridge", label: str = "") -> Chart:
    """The gap bridge as a waterfall (the report's ``waterfall``): from 2016/17 through each
    driver to the gap if nothing changes, then the plan's care models and provider efficiency."""
    from ..service.catalogue import BRIDGE_LINES, BRIDGE_SHORT, PLAN_LINES

    last = last_year(doc)
    bridge = doc["gap_bridge"]
    dn = gap(doc["finance"]["do_nothing"]["system"], last)["mean"]
    plan = gap(doc["finance"]["system"], last)["mean"]
    steps = [(BRIDGE_SHORT[k], bridge[k][last]["mean"]) for k in BRIDGE_LINES if k in bridge]
    plan_steps = [(BRIDGE_SHORT[k], bridge[k][last]["mean"]) for k in PLAN_LINES if k in bridge]
    labels = (
        [s for s, _ in steps]
        + ["Gap if nothing changes"]
        + [s for s, _ in plan_steps]
        + ["Gap with the plan"]
    )
    values = [v for _, v in steps] + [dn] + [v for _, v in plan_steps] + [plan]
    measure = (
        ["absolute"]
        + ["relative"] * (len(steps) - 1)
        + ["total"]
        + ["relative"] * len(plan_steps)
        + ["total"]
    )
    lo, hi, pad = waterfall_reach(values, measure)  # padded so labels outside the bars stay in view
    texts = [money(v) for v in values]
    fig = {
        "data": [
            {
                "type": "waterfall",
                "x": labels,
                "y": [v / 1e6 for v in values],
                "measure": measure,
                "text": texts,
                "customdata": texts,
                "textposition": "outside",
                "cliponaxis": False,
                "decreasing": {"marker": {"color": PLAN}},
                "increasing": {"marker": {"color": DO_NOTHING}},
                "totals": {"marker": {"color": "#4c6272"}},
                "connector": {"line": {"color": "#aeb7bd"}},
                "hovertemplate": "%{x}: %{customdata}<extra></extra>",
            }
        ],
        "layout": _layout(
            f"{label}From 2016/17 to the gap in {last}<br>what drives it, what the plan does (averages)",
            520,
            showlegend=False,
            margin={"l": 90, "r": 40, "t": 90, "b": 56},
            xaxis={**AXIS, "tickangle": -30},
            yaxis={
                **AXIS,
                "title": {"text": f"Shortfall in {last}, £ million"},
                "zeroline": True,
                "range": [lo - pad, hi + pad],
            },
            # On a phone: upright labels in smaller type, and room for them.
            meta={
                "narrow": {
                    "layout": {
                        "height": 640,
                        "margin": {"l": 56, "r": 8, "t": 90, "b": 40},
                        "xaxis": {**AXIS, "tickangle": -90, "tickfont": {"size": 10}},
                    },
                    "trace": {"textfont": {"size": 8}},
                }
            },
        ),
    }
    titles = {k: v["title"] for k, v in bridge.items()}
    rows = [(titles[k], interval(bridge[k][last])) for k in BRIDGE_LINES if k in bridge]
    rows.append(("Gap if nothing changes", interval(gap(doc["finance"]["do_nothing"]["system"], last))))
    rows += [(titles[k], interval(bridge[k][last])) for k in PLAN_LINES if k in bridge]
    rows.append(("Gap with the plan", interval(gap(doc["finance"]["system"], last))))
    return Chart(
        key,
        f"Waterfall chart of the shortfall in {last} (positive means spending exceeds income): the "
        "2016/17 position, then each driver's addition (orange) or reduction (blue), the gap if "
        "nothing changes, the plan's care models and provider efficiency, and the gap with the plan.",
        fig,
        Table(
            f"{label}The gap in {last}, line by line: average (80% interval)",
            ("Line", f"{last}"),
            tuple(rows),
        ),
        520,
    )


def _org_label(org: dict) -> str:
    """A short label for a chart's axis (the tables give the full name)."""
    if org["kind"] == "acute":
        name = org["name"]
        for tail in (" NHS Foundation Trust", " NHS Trust", " Foundation Trust"):
            name = name.removesuffix(tail)
        return name
    return KIND_NAMES.get(org["kind"], org["name"])


def _orgs(doc: dict) -> list[dict]:
    return [o for o in doc["finance"]["orgs"] if o["kind"] != "external"]


def orgs_chart(doc: dict) -> Chart:
    """Each named organisation's surplus or deficit in the last year under the plan."""
    last = last_year(doc)
    orgs = _orgs(doc)[::-1]  # the first at the top
    means = [o["surplus"][last]["mean"] for o in orgs]
    height = _height(140 + 30 * len(orgs))
    fig = {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "y": [_org_label(o) for o in orgs],
                "x": [m / 1e6 for m in means],
                "marker": {"color": [PLAN if m >= 0 else DO_NOTHING for m in means]},
                "customdata": [interval(o["surplus"][last]) for o in orgs],
                "error_x": {
                    "type": "data",
                    "symmetric": False,
                    "array": [(o["surplus"][last]["p90"] - o["surplus"][last]["mean"]) / 1e6 for o in orgs],
                    "arrayminus": [
                        (o["surplus"][last]["mean"] - o["surplus"][last]["p10"]) / 1e6 for o in orgs
                    ],
                    "color": "#212b32",
                    "thickness": 1,
                    "width": 3,
                },
                "hovertemplate": "%{y}: %{customdata}<extra></extra>",
            }
        ],
        "layout": _layout(
            f"Each organisation's surplus (+) or deficit (−) in {last} under the plan, £ million",
            height,
            showlegend=False,
            margin={"l": 60, "r": 24, "t": 56, "b": 56},
            xaxis={
                **AXIS,
                "title": {"text": "£ million (bars: 80% intervals)"},
                "zeroline": True,
                "zerolinecolor": "#4c6272",
            },
            yaxis={**AXIS, "ticks": ""},
            meta={
                "narrow": {
                    "layout": {
                        "margin": {"l": 4, "r": 8, "t": 90, "b": 56},
                        "yaxis": {**AXIS, "ticks": "", "tickfont": {"size": 10}},
                    }
                }
            },
        ),
    }
    rows = tuple((o["name"], interval(o["surplus"][last])) for o in _orgs(doc))
    return Chart(
        "orgs",
        f"Bar chart of each organisation's surplus or deficit in {last} under the plan: blue bars to the "
        "right are surpluses, orange bars to the left deficits; the whiskers are 80% intervals.",
        fig,
        Table(
            f"Each organisation's surplus (+) or deficit (−) in {last}: average (80% interval)",
            ("Organisation", f"{last}"),
            rows,
        ),
        height,
    )


def model_title(name: str) -> str:
    from ..service.catalogue import library

    spec = library().get(name)
    return spec.title if spec else name.replace("_", " ")


@lru_cache(maxsize=1)
def _diverging() -> tuple[tuple[int, int, int], ...]:
    """ColorBrewer's orange-purple scale (the report's PuOr), losses orange, gains purple."""
    from plotly.colors import diverging, unlabel_rgb

    return tuple(tuple(int(c) for c in unlabel_rgb(colour)) for colour in diverging.PuOr)


def _shade(t: float) -> str:
    """The scale's colour at ``t`` in [0, 1] (0 the largest loss, 0.5 none, 1 the largest gain)."""
    scale = _diverging()
    x = min(max(t, 0.0), 1.0) * (len(scale) - 1)
    i = min(int(x), len(scale) - 2)
    f = x - i
    r, g, b = (round(a + (c - a) * f) for a, c in zip(scale[i], scale[i + 1], strict=True))
    return f"rgb({r},{g},{b})"


def incentives_chart(doc: dict) -> Chart | None:
    """Care model x organisation: the change in surplus each model causes on its own. Drawn as
    coloured rectangles (SVG shapes) rather than a Plotly heatmap, which paints an image from a
    data: URL that the pages' Content-Security-Policy (img-src 'self') blocks."""
    cells = doc.get("incentives") or []
    if not cells:
        return None
    last = last_year(doc)
    models = list(dict.fromkeys(c["intervention"] for c in cells))
    orgs = {o["id"]: o for o in doc["finance"]["orgs"]}
    org_ids = list(dict.fromkeys(c["org"] for c in cells))
    gain = {(c["intervention"], c["org"]): c["gain"]["mean"] / 1e6 for c in cells}
    lim = max((abs(v) for v in gain.values()), default=0.0) or 1.0
    height = _height(180 + 40 * len(models))
    labels: list[str] = []
    for o in org_ids:  # categories must differ, or plotly would merge two columns
        label = _org_label(orgs[o]) if o in orgs else o.split(":")[-1].replace("_", " ").capitalize()
        if label in labels:  # two footprints' commissioners: their full names differ
            label = orgs[o]["name"] if o in orgs else label
        base, n = label, 2
        while label in labels:
            label, n = f"{base} ({n})", n + 1
        labels.append(label)
    titles = [model_title(m) for m in models]
    xs, ys, texts, hovers, colours, shapes = [], [], [], [], [], []
    for j, m in enumerate(models):
        for i, o in enumerate(org_ids):
            v = gain.get((m, o), 0.0)
            t = 0.5 + 0.5 * v / lim
            xs.append(labels[i])
            ys.append(titles[j])
            texts.append(signed(v))
            hovers.append(money(v * 1e6))
            colours.append("#ffffff" if abs(t - 0.5) > 0.3 else "#212b32")
            shapes.append(
                {
                    "type": "rect",
                    "xref": "x",
                    "yref": "y",
                    "x0": i - 0.5,
                    "x1": i + 0.5,
                    "y0": j - 0.5,
                    "y1": j + 0.5,
                    "fillcolor": _shade(t),
                    "line": {"color": "#ffffff", "width": 1},
                    "layer": "below",
                }
            )
    fig = {
        "data": [
            {
                "type": "scatter",
                "mode": "markers+text",
                "x": xs,
                "y": ys,
                "text": texts,
                "customdata": hovers,
                "textfont": {"color": colours, "size": 11},
                "marker": {"symbol": "square", "size": 28, "opacity": 0},
                "hovertemplate": "%{y} → %{x}: %{customdata}<extra></extra>",
                "showlegend": False,
            }
        ],
        "layout": _layout(
            f"Who gains (purple) and who loses (orange) from each care model in {last}, £ million a year",
            height,
            shapes=shapes,
            xaxis={**AXIS, "tickangle": -35, "showgrid": False, "showline": False, "ticks": ""},
            yaxis={
                **AXIS,
                "autorange": "reversed",
                "showgrid": False,
                "showline": False,
                "ticks": "",
            },
            margin={"l": 60, "r": 24, "t": 56, "b": 120},
            # On a phone: upright column names, smaller type and cells, more height.
            meta={
                "narrow": {
                    "layout": {
                        "height": height + 200,
                        "margin": {"l": 4, "r": 4, "t": 90, "b": 150},
                        "xaxis": {
                            **AXIS,
                            "tickangle": -90,
                            "tickfont": {"size": 10},
                            "showgrid": False,
                            "showline": False,
                            "ticks": "",
                        },
                        "yaxis": {
                            **AXIS,
                            "autorange": "reversed",
                            "tickfont": {"size": 10},
                            "showgrid": False,
                            "showline": False,
                            "ticks": "",
                        },
                    },
                    "trace": {"textfont": {"color": colours, "size": 8}},
                }
            },
        ),
    }
    rows = tuple(
        (titles[j], *(money(gain.get((m, o), 0.0) * 1e6) for o in org_ids)) for j, m in enumerate(models)
    )
    return Chart(
        "incentives",
        f"Heat map of who gains and who loses from each care model adopted on its own, in {last}: rows "
        "are care models, columns organisations; purple cells gain money, orange cells lose it, and each "
        "cell gives the change in £ million a year.",
        fig,
        Table(
            f"Change in each organisation's surplus from each care model alone, {last}, a year (averages)",
            ("Care model", *(orgs[o]["name"] if o in orgs else o for o in org_ids)),
            rows,
        ),
        height,
    )


def drivers_chart(doc: dict, centre: float, top: int = 10) -> Chart | None:
    """The tornado: the plan's last-year gap with each assumption at its 10th and 90th
    percentile and the rest central, the largest swing at the top (the report's ``tornado``)."""
    drivers = doc.get("gap_drivers") or []
    if not drivers:
        return None
    last = last_year(doc)
    rows = drivers[:top][::-1]
    c = centre / 1e6
    height = _height(140 + 36 * len(rows))
    data = [
        {
            "type": "bar",
            "orientation": "h",
            "y": [r["title"] for r in rows],
            "x": [r[key] / 1e6 - c for r in rows],
            "base": c,
            "name": name,
            "marker": {"color": colour},
            "customdata": [money(r[key]) for r in rows],
            "hovertemplate": "%{y}: gap %{customdata}<extra>" + name + "</extra>",
        }
        for key, name, colour in (
            ("low", "At its 10th percentile", PLAN),
            ("high", "At its 90th percentile", DO_NOTHING),
        )
    ]
    fig = {
        "data": data,
        "layout": _layout(
            f"What drives the gap in {last}: one assumption at a time",
            height,
            barmode="overlay",
            shapes=[
                {
                    "type": "line",
                    "x0": c,
                    "x1": c,
                    "y0": 0,
                    "y1": 1,
                    "yref": "paper",
                    "line": {"color": "#4c6272", "dash": "dash"},
                }
            ],
            xaxis={**AXIS, "title": {"text": f"Shortfall in {last}, £ million (dashed line: all central)"}},
            yaxis={**AXIS, "ticks": ""},
            meta={"narrow": {"layout": {"yaxis": {**AXIS, "ticks": "", "tickfont": {"size": 9}}}}},
        ),
    }
    table_rows = tuple((r["title"], money(r["low"]), money(r["high"])) for r in drivers[:top])
    return Chart(
        "drivers",
        f"Tornado chart of what drives the shortfall in {last}: for each assumption, the gap with it at "
        f"its 10th (blue) and 90th (orange) percentile and every other assumption central ({money(centre)}, "
        "the dashed line).",
        fig,
        Table(
            f"The gap in {last} with one assumption at a time at its 10th and 90th percentile "
            f"(all central: {money(centre)})",
            ("Assumption", "At its 10th percentile", "At its 90th percentile"),
            table_rows,
        ),
        height,
    )


def _position_row(plan: dict, do_nothing: dict) -> tuple[str, str, str]:
    """The gap's row, named by its sign: a shortfall (spending above income) or a surplus, each
    shown as a positive amount; a row whose intervals cross nought says which sign is which."""
    lows = (plan["p10"], do_nothing["p10"])
    highs = (plan["p90"], do_nothing["p90"])
    if min(lows) >= 0:
        return ("Shortfall (spending above income)", interval(plan), interval(do_nothing))
    if max(highs) <= 0:
        flip = {"mean": "mean", "p10": "p90", "p50": "p50", "p90": "p10"}

        def surplus(s: dict) -> str:
            return interval({k: -s[flip[k]] for k in flip})

        return ("Surplus (income above spending)", surplus(plan), surplus(do_nothing))
    return ("Shortfall (+) or surplus (−)", interval(plan), interval(do_nothing))


def key_numbers(doc: dict) -> Table:
    """The numbers a board asks first, last year: with the plan against doing nothing."""
    last = last_year(doc)
    dn_adm, plan_adm = _scenarios(doc, "activity", "emergency_admissions")
    dn_beds, plan_beds = _scenarios(doc, "capacity", "beds")
    fin = doc["finance"]
    return Table(
        f"Key numbers in {last}: average (80% interval)",
        ("Measure", "With the plan", "If nothing changes"),
        (
            ("Emergency admissions a year", interval(plan_adm[last], count), interval(dn_adm[last], count)),
            ("Hospital beds needed", interval(plan_beds[last], count), interval(dn_beds[last], count)),
            _position_row(gap(fin["system"], last), gap(fin["do_nothing"]["system"], last)),
            ("Care models' net saving", interval(fin["care_models_net_saving"][last]), "none"),
            ("Provider efficiency saving", interval(fin["provider_efficiency"][last]), "none"),
        ),
    )


def organisation_table(doc: dict) -> Table | None:
    """Each named organisation's income, expenditure and surplus in the last year, £m, and the
    system control total."""
    fin = doc.get("finance")
    if not fin:
        return None
    last = last_year(doc)
    rows = [
        (
            o["name"] + (f" – {', '.join(o['members'])}" if o.get("members") else ""),  # each CCG and council
            millions(o["income"][last]["mean"]),
            millions(o["costs"][last]["mean"]),
            millions(o["surplus"][last]["mean"]),
        )
        for o in fin["orgs"]
        if o["kind"] != "external"
    ]
    rows.append(("System control total", "", "", millions(fin["system"]["surplus"][last]["mean"])))
    return Table(
        f"Each organisation's books in {last} (average; a deficit has a minus sign)",
        ("Organisation", "Income", "Expenditure", "Surplus"),
        tuple(rows),
    )


def investment_table(doc: dict) -> Table | None:
    """Each care model's set-up cost, payback year and net present value at 3.5%, £m."""
    inv = doc.get("investment")
    if not inv:
        return None
    rows = []
    for m in inv:
        setup = sum(v["mean"] for v in m["investment"].values())
        npv = m["npv"]
        rows.append(
            (
                m["title"],
                millions(setup),
                m["payback_year"] or f"not by {m['years'][-1]}",
                interval(npv, millions),
            )
        )
    return Table(
        "Each care model's set-up cost, payback and net present value at the Green Book rate of 3.5%",
        ("Care model", "Set-up, all years", "Pays back", "Net present value (80% interval)"),
        tuple(rows),
    )


def workforce_table(doc: dict) -> Table | None:
    """Whole-time equivalents by staff group in the last year, do-nothing against the plan."""
    wf = doc.get("workforce")
    if not wf:
        return None
    last = wf["years"][-1]
    rows = tuple(
        (
            g["title"],
            count(g["do_nothing"][last]["mean"]),
            count(g["plan"][last]["mean"]),
            f"{g['difference'][last]['mean']:+,.0f}".replace("-", "−"),
        )
        for g in wf["groups"].values()
    )
    return Table(
        f"Staff needed in {last}: whole-time equivalents (average)",
        ("Staff group", "If nothing changes", "With the plan", "Difference"),
        rows,
    )


def compare_fan_chart(da: dict, db: dict, what: str, key: str, title: str, unit: str, axis: str) -> dict:
    years = [y for y in da["years"] if y in db["years"]]
    return {
        "data": _fan(years, da["do_nothing"][what][key], DO_NOTHING, "dash", "Do nothing", unit)
        + _fan(years, da[what][key], PLAN, "solid", "Option A", unit)
        + _fan(years, db[what][key], OPTION_B, "dot", "Option B", unit),
        "layout": _layout(
            title,
            460,
            xaxis={**AXIS, "title": {"text": "Financial year"}},
            yaxis={**AXIS, "title": {"text": axis}, "tickformat": ",.0f"},
        ),
    }


def compare_orgs_chart(da: dict, db: dict) -> Chart:
    last = last_year(da)
    orgs_a = {o["id"]: o for o in _orgs(da)}
    orgs_b = {o["id"]: o for o in _orgs(db)}
    ids = [i for i in orgs_a if i in orgs_b]
    lb = last_year(db)
    height = _height(160 + 40 * len(ids))
    data = [
        {
            "type": "bar",
            "orientation": "h",
            "y": [_org_label(orgs_a[i]) for i in ids][::-1],
            "x": [books[i]["surplus"][year]["mean"] / 1e6 for i in ids][::-1],
            "name": name,
            "marker": {"color": colour, "pattern": {"shape": shape}},
            "customdata": [money(books[i]["surplus"][year]["mean"]) for i in ids][::-1],
            "hovertemplate": "%{y}: %{customdata}<extra>" + name + "</extra>",
        }
        for books, year, name, colour, shape in (
            (orgs_a, last, "Option A", PLAN, ""),
            (orgs_b, lb, "Option B", OPTION_B, "/"),
        )
    ]
    fig = {
        "data": data,
        "layout": _layout(
            "Each organisation's surplus (+) or deficit (−) in the last year, £ million",
            height,
            barmode="group",
            xaxis={**AXIS, "title": {"text": "£ million"}, "zeroline": True, "zerolinecolor": "#4c6272"},
            yaxis={**AXIS, "ticks": ""},
        ),
    }
    rows = tuple(
        (orgs_a[i]["name"], interval(orgs_a[i]["surplus"][last]), interval(orgs_b[i]["surplus"][lb]))
        for i in ids
    )
    return Chart(
        "compare-orgs",
        "Bar chart of each organisation's surplus or deficit in the last year: option A's bars plain "
        "blue, option B's green with stripes.",
        fig,
        Table(
            "Each organisation's surplus (+) or deficit (−) in the last year: average (80% interval)",
            ("Organisation", f"Option A, {last}", f"Option B, {lb}"),
            rows,
        ),
        height,
    )


def public_gap_chart(doc: dict, key: str) -> Chart:
    """The public page's one chart: the money an area would be short of in the plan's last
    year, if nothing changes and with its plan, each with its likely range (8 in 10 outcomes),
    in plain words."""
    last = last_year(doc)
    fin = doc["finance"]
    rows = (
        ("If nothing changes", gap(fin["do_nothing"]["system"], last), DO_NOTHING),
        ("With the plan", gap(fin["system"], last), PLAN),
    )
    unit = money_unit(*(g["mean"] for _, g, _ in rows))  # as the story names the averages
    scale = 1e9 if unit == "bn" else 1e6

    def words(g: dict) -> str:
        low, high = money(g["p10"], unit), money(g["p90"], unit)
        return f"about {money(g['mean'], unit)}, likely between {low} and {high}"

    data = [
        {
            "type": "bar",
            "orientation": "h",
            "y": [label],
            "x": [g["mean"] / scale],
            "name": label,
            "marker": {"color": colour},
            "error_x": {
                "type": "data",
                "symmetric": False,
                "array": [(g["p90"] - g["mean"]) / scale],
                "arrayminus": [(g["mean"] - g["p10"]) / scale],
                "color": "#212b32",
                "thickness": 2,
                "width": 10,
            },
            "hovertemplate": f"{label}: {words(g)}<extra></extra>",
        }
        for label, g, colour in rows
    ]
    fig = {
        "data": data,
        "layout": _layout(
            f"Money short in {last}",
            360,
            showlegend=False,
            xaxis={
                **AXIS,
                "title": {"text": f"£{unit} short"},
                "tickprefix": "£",
                "ticksuffix": unit,
                "zeroline": True,
            },
            yaxis={**AXIS, "autorange": "reversed"},
        ),
    }
    return Chart(
        key,
        f"Bar chart of the money the area would be short of in {last}: if nothing changes (orange) and with "
        "its plan (blue). The black line across each bar shows the likely range: 8 times in 10 the "
        "figure falls inside it.",
        fig,
        Table(
            f"Money short in {last}", ("", "Money short"), tuple((label, words(g)) for label, g, _ in rows)
        ),
        360,
    )


# ---- the track record ---------------------------------------------------------------------------

HAPPENED = "#212b32"  # what happened: dark points, hollow where the year is not like the others


def _millions(x: float) -> str:
    return f"{x / 1e6:,.2f}m"


def track_record_chart(doc: dict, measure: str) -> Chart:
    """One measure's projection from 2016/17 (dashed, its 80% band), the same draws calibrated
    (dotted, green) and what happened (points; hollow where March 2020 is in the year)."""
    m = doc["measures"][measure]
    years = doc["years"]
    cal = doc.get("calibration")
    points = [r for r in doc["table"] if r["measure"] == measure]
    data = _fan(years, doc["fans"][measure], DO_NOTHING, "dash", "Projected from 2016/17")
    if cal:
        data += _fan(years, cal["fans"][measure], OPTION_B, "dot", "Calibrated")
    data.append(
        {
            "type": "scatter",
            "x": [r["year"] for r in points],
            "y": [r["actual"] for r in points],
            "mode": "markers",
            "marker": {
                "color": HAPPENED,
                "size": 10,
                "symbol": ["circle-open" if r["flag"] else "circle" for r in points],
                "line": {"width": 2, "color": HAPPENED},
            },
            "name": "What happened",
            "hovertemplate": "%{x}: %{y:,.0f}<extra>What happened</extra>",
        }
    )
    fig = {
        "data": data,
        "layout": _layout(
            f"{m['title']}: projected from 2016/17 and what happened",
            420,
            legend={"orientation": "h", "y": -0.3},
            margin={"l": 90, "r": 24, "t": 56, "b": 100},
            xaxis={**AXIS, "title": {"text": "Financial year"}},
            yaxis={**AXIS, "title": {"text": f"{m['unit'].capitalize()} a year"}, "tickformat": ".3s"},
        ),
    }
    by_year = {r["year"]: r for r in points}

    def span(f: Mapping[str, float]) -> str:
        return f"{_millions(f['mean'])} ({_millions(f['p10'])} to {_millions(f['p90'])})"

    rows = []
    for y in years:
        happened = by_year.get(y)
        row = (
            y + (" (includes March 2020)" if happened and happened["flag"] else ""),
            _millions(happened["actual"]) if happened else "not scored",
            span(doc["fans"][measure][y]),
            ("yes" if happened["inside"] else "no") if happened else "–",
        )
        rows.append(row + ((span(cal["fans"][measure][y]),) if cal else ()))
    head = ("Year", "What happened", "Projected from 2016/17 (80% interval)", "Inside?")
    return Chart(
        f"track-{measure}",
        f"{m['title']} from {years[0]} to {years[-1]}: the dashed line and its shaded band are the "
        "projection made from 2016/17 data alone with its 80% interval"
        + (
            f", the dotted green line and band the same draws calibrated to {' and '.join(cal['years'])}"
            if cal
            else ""
        )
        + "; the points are what happened (hollow: the year includes March 2020, when COVID-19 cut "
        "activity).",
        fig,
        Table(
            f"{m['title']}: what happened against the projection",
            head + (("Calibrated (80% interval)",) if cal else ()),
            tuple(rows),
        ),
        420,
    )
