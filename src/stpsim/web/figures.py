"""What the pages show, read from the core's documents and charts and kept per process.

Nothing here models anything: the numbers come from the do-nothing roll-up's document
(``Rollup.to_dict``), a do-nothing run's document (``Results.to_dict``) and the story's facts;
the charts are the report's (``report.charts``) or a map drawn from the roll-up's figures.
Everything is cached in memory because it depends only on the shipped data and the code, never on
the store: a do-nothing roll-up of 200 draws (about a second, once per process) and each
footprint's do-nothing run (once per footprint). Published stories are cached by the version's
content hash, which names the plan document exactly, so a cached story is never stale.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Any

import numpy as np
from markupsafe import Markup

DRAWS = 200  # enough for stable averages and 80% bands on a page; the reports use the plan's own
SEED = 1
LAST_YEAR = 2020  # 2020/21: the Five Year Forward View's horizon, as the roll-up's default
GEOJSON = "stp17_boundaries.geojson"
MAP_COLOURS = [[0.0, "#e8f1fa"], [0.5, "#5a9bd5"], [1.0, "#003087"]]  # NHS blues, light to dark

_rollup_lock = threading.Lock()


def figure_json(fig) -> Markup:
    """A figure as JSON safe inside ``<script type="application/json">`` (the reports' own
    writer, ``script_json``: no text in a chart, a plan's name say, can close the element)."""
    from ..service.catalogue import script_json

    return Markup(script_json(fig))


@cache
def boundaries() -> bytes:
    """The 44 footprints' simplified boundaries (ONS, OGL v3.0; see data/sources.yaml here)."""
    return (resources.files("stpsim.web") / "data" / GEOJSON).read_bytes()


@cache
def plotly_js() -> tuple[bytes, bytes, str]:
    """plotly.js from the installed plotly package, plain and gzipped, and its version: served
    by the app so the pages need no CDN, and never committed to the repository."""
    import gzip

    from ..service import catalogue

    body = catalogue.plotly_js()  # the bytes the reports embed, read once per process
    return body, gzip.compress(body, 6, mtime=0), plotly_version()


@cache
def plotly_version() -> str:
    """The version of plotly.js the pages ask for (their ``?v=``): known without reading and
    compressing the 4.8 MB bundle, which every page would otherwise wait for once."""
    import plotly

    return plotly.__version__


def warm() -> None:
    """Work out what the pages need that no store changes: England's do-nothing roll-up (1 to
    2 s) and the plotly.js bundle with its hashes for the Content-Security-Policy (0.2 s). The
    server does this while it starts (``stpsim serve``), so its first visitor does not wait."""
    england()
    plotly_js()
    plotly_inline_styles()


@cache
def plotly_inline_styles() -> tuple[str, ...]:
    """The base64 SHA-256 of each ``<style>`` text plotly.js inserts when it loads (today one:
    MapLibre's stylesheet), for the Content-Security-Policy to allow exactly these."""
    import base64
    import hashlib
    import re

    source = plotly_js()[0].decode()
    # A single-quoted literal with no escapes is the text as the browser will hash it.
    found = re.findall(r"\.id=\"[0-9a-f]{64}\",\w\.textContent='([^'\\]*)'", source)
    return tuple(base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() for text in found)


# An empty world outline for plotly.js, which asks for one for any map with a locationmode even
# when, as here, it draws no land, coast or country (layout.geo.visible is false).
EMPTY_TOPOLOGY = b'{"type":"Topology","objects":{},"arcs":[]}'


# ---- England ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FootprintRow:
    code: str
    name: str
    people: int
    gap: float  # GBP, mean over the draws, last year
    gap_per_head: float
    gap_per_head_p10: float
    gap_per_head_p90: float


@dataclass(frozen=True)
class England:
    year: str
    draws: int
    rows: tuple[FootprintRow, ...]  # largest gap per head first
    total_gap: dict[str, float]  # England's do-nothing gap in the last year: mean, p10, p90


_england: England | None = None


def england() -> England:
    """The do-nothing roll-up of the 44 footprints, computed once per process."""
    global _england
    with _rollup_lock:
        if _england is None:
            from ..service.england import england_do_nothing

            doc = england_do_nothing(DRAWS, SEED, LAST_YEAR)
            year = doc["years"][-1]
            rows = [
                FootprintRow(
                    code=f["code"],
                    name=f["name"],
                    people=f["population"],
                    gap=f["do_nothing_gap"][year]["mean"],
                    gap_per_head=f["gap_per_head"][year]["mean"],
                    gap_per_head_p10=f["gap_per_head"][year]["p10"],
                    gap_per_head_p90=f["gap_per_head"][year]["p90"],
                )
                for f in doc["footprints"]
            ]
            rows.sort(key=lambda r: -r.gap_per_head)
            _england = England(year, doc["draws"], tuple(rows), doc["england"]["do_nothing_gap"][year])
    return _england


@dataclass(frozen=True)
class PlanRow:
    code: str
    planned: bool  # False: no plan in this view, the do-nothing value stands
    gap_per_head: float  # GBP, mean over the draws, last year: with its plan, or do-nothing


def england_plan_rows(plan_gaps: dict[str, float]) -> dict[str, PlanRow]:
    """The plan view's figure for each footprint: its plan's gap (``dashboard.england_with_plans``,
    from the plan's stored run) per head where a plan is in, the do-nothing figure elsewhere."""
    return {
        r.code: PlanRow(r.code, True, plan_gaps[r.code] / r.people)
        if r.code in plan_gaps
        else PlanRow(r.code, False, r.gap_per_head)
        for r in england().rows
    }


def map_scale(values) -> tuple[float, float]:
    """The map's one colour scale, £ a head: from nought (or the largest surplus) to the
    largest gap, in round £50s, the same in both views."""
    low = min(0.0, *values)
    high = max(0.0, *values)
    return float(np.floor(low / 50) * 50), float(np.ceil(high / 50) * 50)


@lru_cache(maxsize=16)
def england_map(
    geojson_url: str, plan: tuple[tuple[str, float], ...] = (), with_plans: bool = False
) -> Markup:
    """A choropleth of the gap per head, drawn on the footprints' own boundaries with no base
    map (no tiles, nothing fetched from elsewhere): do-nothing, or (``with_plans``) with
    ``plan``'s (code, gap per head) where given, each planned footprint outlined. Both views
    share one colour scale (``map_scale`` over both), so a colour means the same £ a head in
    each. Clicking a footprint opens its page (the ``customdata`` URL, read by dashboard.js)."""
    import plotly.graph_objects as go

    data = england()
    planned = dict(plan)
    zmin, zmax = map_scale([r.gap_per_head for r in data.rows] + list(planned.values()))
    shown = planned if with_plans else {}
    z = [round(shown.get(r.code, r.gap_per_head), 2) for r in data.rows]
    if not with_plans:
        text = [r.name for r in data.rows]
    else:
        text = [
            f"{r.name} (with its plan)" if r.code in planned else f"{r.name} (no plan: if nothing changes)"
            for r in data.rows
        ]
    outlined = [with_plans and r.code in planned for r in data.rows]
    fig = go.Figure(
        go.Choropleth(
            geojson=geojson_url,
            featureidkey="properties.stp17cd",
            locations=[r.code for r in data.rows],
            z=z,
            zmin=zmin,
            zmax=zmax,
            text=text,
            customdata=[f"/footprints/{r.code}" for r in data.rows],
            colorscale=MAP_COLOURS,
            # A footprint with a plan is outlined in black: it stands out even where its plan
            # brings the gap near nought (the palest colour).
            marker=dict(
                line=dict(
                    color=["#212b32" if o else "#ffffff" for o in outlined],
                    width=[2.5 if o else 0.8 for o in outlined],
                )
            ),
            colorbar=dict(
                title=dict(text="£ a head"), tickprefix="£", thickness=14, len=0.6, tickformat=",.0f"
            ),
            hovertemplate="%{text}<br>£%{z:,.0f} a head<extra></extra>",
        )
    )
    fig.update_geos(visible=False, fitbounds="locations", projection_type="mercator")
    fig.update_layout(
        height=640,
        margin=dict(l=0, r=0, t=10, b=0),
        font=dict(family="Arial, Helvetica, sans-serif", size=14, color="#212b32"),
        paper_bgcolor="#ffffff",
        geo=dict(bgcolor="#ffffff"),
    )
    return figure_json(fig)


# ---- one footprint ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceRow:
    title: str
    first: float  # average, first year
    last: float  # average, last year
    last_p10: float
    last_p90: float


@dataclass(frozen=True)
class FootprintView:
    code: str
    name: str
    region: str
    first_year: str
    last_year: str
    draws: int
    people_first: float
    people_last: float
    people_85_first: float
    people_85_last: float
    services: tuple[ServiceRow, ...]
    beds: ServiceRow
    england: FootprintRow  # the footprint's row of England's map: its do-nothing gap
    charts: dict[str, Markup]  # people, pressure, beds: figure JSON
    bridge: Any = None  # charts.Table: the do-nothing gap in the last year, line by line
    orgs: Any = None  # charts.Table: each organisation's books, by name (CCGs and councils too)


def _do_nothing_only(fig, title: str):
    """A report chart of a do-nothing run without its plan lines: in a do-nothing run the plan
    is do-nothing too, and two labels on one line would say there is a plan. A copy: the
    service keeps the figure it drew."""
    import copy

    # The service's own figure type (report.figure.Figure: a dict that writes its own JSON).
    kept = [t for t in fig["data"] if not str(t.get("name") or "").startswith("Plan")]
    return type(fig)(kept, copy.deepcopy(fig["layout"])).update_layout(title_text=title)


@lru_cache(maxsize=64)
def footprint(code: str) -> FootprintView:
    """One footprint if nothing changes, on national assumptions: its people, the pressure on
    each service, the beds it would need and its gap, from a do-nothing run at England's
    roll-up's draws and seed (the same numbers as the England map; cached per footprint)."""
    from ..service.catalogue import FAN_SETTINGS
    from ..service.england import footprint_do_nothing

    # England's roll-up's draws and seed: the page's do-nothing is the map's, draw for draw.
    run = footprint_do_nothing(code, DRAWS, SEED, LAST_YEAR)
    doc, f, figs = run.document, run.facts, run.figures
    y0, y1 = doc["years"][0], doc["years"][-1]

    def row(title: str, by_year: dict) -> ServiceRow:
        return ServiceRow(
            title, by_year[y0]["mean"], by_year[y1]["mean"], by_year[y1]["p10"], by_year[y1]["p90"]
        )

    activity = doc["do_nothing"]["activity"]
    return FootprintView(
        code=run.code,
        name=run.name,
        region=run.region,
        first_year=y0,
        last_year=y1,
        draws=doc["draws"],
        people_first=f["population.first"],
        people_last=f["population.last"],
        people_85_first=f["population.85plus.first"],
        people_85_last=f["population.85plus.last"],
        services=tuple(row(title, activity[key]) for key, title in FAN_SETTINGS),
        beds=row("Hospital beds needed", doc["do_nothing"]["capacity"]["beds"]),
        england=next(r for r in england().rows if r.code == run.code),
        charts={
            "people": figure_json(figs["people"]),
            "pressure": figure_json(
                _do_nothing_only(
                    figs["pressure"], "Demand by service if nothing changes: average and 80% interval"
                )
            ),
            "beds": figure_json(_do_nothing_only(figs["beds"], "Hospital beds needed if nothing changes")),
        },
        bridge=_bridge_table(doc),
        orgs=_organisation_table(doc),
    )


def _organisation_table(doc: dict):
    from .charts import organisation_table

    return organisation_table(doc)


def _bridge_table(doc: dict):
    """The do-nothing gap in the last year split into the bridge's lines, which add up to it."""
    from .charts import Table, gap, interval

    last = doc["years"][-1]
    rows = [(line["title"], interval(line[last])) for line in doc["gap_bridge"].values()]
    rows.append(("The gap if nothing changes", interval(gap(doc["finance"]["do_nothing"]["system"], last))))
    return Table(
        f"Why spending would run above income in {last} if nothing changes: each line's average "
        "(80% interval); the averages add up to the gap",
        ("Line", f"{last}"),
        tuple(rows),
    )
