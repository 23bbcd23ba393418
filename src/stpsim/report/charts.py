"""The report's charts, built from Results with Plotly.

Colours are the Okabe-Ito palette (safe for the common kinds of colour blindness); the
do-nothing case is always orange and dashed, the plan always blue and solid, so the charts read
in black and white too. Every axis and band is labelled in words.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..axes import BAND_LABELS, five_year_band_of_age

PLAN = "#0072B2"  # blue
DO_NOTHING = "#D55E00"  # vermillion
MALE = "#56B4E9"  # sky blue
FEMALE = "#E69F00"  # orange
OTHER = ("#009E73", "#CC79A7", "#F0E442", "#000000", "#999999")
FONT = dict(family="Arial, Helvetica, sans-serif", size=13, color="#222")

FAN_SETTINGS = (
    ("emergency_admissions", "Emergency admissions"),
    ("emergency_bed_days", "Emergency bed days"),
    ("ae_attendances", "A&E attendances"),
    ("gp_consultations", "GP consultations"),
    ("outpatient_followup", "Outpatient follow-ups"),
    ("community_nursing_contacts", "Community nursing visits"),
    ("home_care_hours", "Home care hours"),
    ("care_home_weeks", "Care home weeks"),
)


def _layout(fig: go.Figure, title: str, height: int = 420) -> go.Figure:
    fig.update_layout(
        title=dict(text=title, x=0.01),
        font=FONT,
        height=height,
        template="simple_white",
        margin=dict(l=70, r=20, t=60, b=50),
        legend=dict(orientation="h", y=-0.15),
    )
    return fig


def _rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    return f"rgba({int(h[0:2], 16)},{int(h[2:4], 16)},{int(h[4:6], 16)},{alpha})"


def _nice_ticks(top: float) -> np.ndarray:
    """0 and round steps (1, 2 or 5 times a power of ten) up to ``top``."""
    raw = top / 3 if top > 0 else 1.0
    power = 10 ** np.floor(np.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return np.arange(0, top + step * 0.01, step)


def pyramid(results) -> go.Figure:
    """Population by five-year band and sex, first year (bars) against last year (outline)."""
    band = five_year_band_of_age()
    pop = results.population.sum(axis=1)  # (year, sex, age)
    by_band = np.stack(
        [np.bincount(band, weights=pop[t, s], minlength=len(BAND_LABELS)) for t in (0, -1) for s in (0, 1)]
    ).reshape(2, 2, -1)
    y0, y1 = results.year_labels[0], results.year_labels[-1]
    fig = go.Figure()
    for s, (sex, colour, sign) in enumerate((("Men", MALE, -1), ("Women", FEMALE, 1))):
        fig.add_bar(
            y=list(BAND_LABELS),
            x=sign * by_band[0, s],
            orientation="h",
            name=f"{sex}, {y0}",
            marker_color=colour,
            hovertemplate="%{y}: %{customdata:,.0f}<extra>" + f"{sex} {y0}</extra>",
            customdata=by_band[0, s],
        )
        fig.add_scatter(
            y=list(BAND_LABELS),
            x=sign * by_band[1, s],
            mode="lines+markers",
            name=f"{sex}, {y1}",
            line=dict(color="#222", width=1.5, dash="dot"),
            marker=dict(size=4),
            hovertemplate="%{y}: %{customdata:,.0f}<extra>" + f"{sex} {y1}</extra>",
            customdata=by_band[1, s],
        )
    fig.update_layout(barmode="overlay", bargap=0.08)
    fig.update_xaxes(title_text="People (men to the left, women to the right)", tickformat=",.0f")
    fig.update_yaxes(title_text="Age")
    ticks = np.linspace(0, by_band.max(), 4)
    fig.update_xaxes(
        tickvals=np.concatenate([-ticks[::-1], ticks[1:]]),
        ticktext=[f"{abs(v):,.0f}" for v in np.concatenate([-ticks[::-1], ticks[1:]])],
    )
    return _layout(fig, f"The people: {y0} (bars) and {y1} (dotted line)", 520)


def _fan(
    fig: go.Figure,
    years: list[str],
    x: np.ndarray,
    colour: str,
    dash: str,
    label: str,
    unit: str = "",
    show_legend: bool = True,
    **where,
) -> None:
    """An 80% band (no markers) and the average line of draws ``x`` (draw, year)."""
    p10, p90 = np.percentile(x, [10, 90], axis=0)
    fig.add_scatter(
        x=years + years[::-1],
        y=np.concatenate([p90, p10[::-1]]),
        fill="toself",
        fillcolor=_rgba(colour, 0.18),
        line=dict(width=0),
        mode="lines",
        hoverinfo="skip",
        name=f"{label}: 80% interval",
        legendgroup=f"{label}band",
        showlegend=show_legend,
        **where,
    )
    fig.add_scatter(
        x=years,
        y=x.mean(axis=0),
        mode="lines+markers",
        line=dict(color=colour, dash=dash),
        marker=dict(size=4),
        name=f"{label}: average",
        legendgroup=label,
        showlegend=show_legend,
        hovertemplate="%{x}: %{y:,.0f}" + unit + "<extra>" + label + "</extra>",
        **where,
    )


def fans(results) -> go.Figure:
    """80% fan charts for the main settings: do-nothing against the plan."""
    rows, cols = 2, 4
    fig = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=[t for _, t in FAN_SETTINGS],
        horizontal_spacing=0.07,
        vertical_spacing=0.16,
    )
    years = results.year_labels
    for i, (key, _) in enumerate(FAN_SETTINGS):
        for scen, colour, dash, label in (
            ("do_nothing", DO_NOTHING, "dash", "Do nothing"),
            ("plan", PLAN, "solid", "Plan"),
        ):
            _fan(
                fig,
                years,
                results.setting(key, scen),
                colour,
                dash,
                label,
                show_legend=i == 0,
                row=i // cols + 1,
                col=i % cols + 1,
            )
    fig.update_yaxes(tickformat=".3s")
    return _layout(
        fig, "Demand by service: doing nothing (dashed) against the plan (solid), with 80% intervals", 620
    )


def beds(results) -> go.Figure:
    fig = go.Figure()
    for label, cap, colour, dash in (
        ("Do nothing", results.do_nothing_capacity, DO_NOTHING, "dash"),
        ("Plan", results.capacity, PLAN, "solid"),
    ):
        _fan(fig, results.year_labels, cap["beds"].sum(axis=2), colour, dash, label, " beds")
    fig.update_yaxes(title_text="Hospital beds needed (85% occupancy)", tickformat=",.0f")
    return _layout(fig, "Hospital beds needed")


def _model_names(results, public: bool) -> dict[str, str]:
    from ..interventions import library
    from ..story import PLAIN

    custom = {c.name: c.title for c in results.plan.custom_interventions}
    out = {}
    for a in results.plan.interventions:
        title = custom.get(a.name) or (PLAIN.get(a.name) if public else None) or library()[a.name].title
        out[a.name] = title[0].upper() + title[1:]
    return out


def _org_label(results, org_id: str, public: bool) -> str:
    from ..story import _kind_name

    for books in results.finance.footprints:
        for o in books.orgs:
            if o.id == org_id:
                return _kind_name(o.kind, True).capitalize() if public and o.kind != "acute" else o.name
    return org_id


def waterfall(results, public: bool = False) -> go.Figure:
    """The bridge: from the 2016/17 position through each driver to the do-nothing gap, then the
    plan's care models and its provider efficiency (apart) to the plan's gap."""
    from ..finance import BRIDGE_LINES, BRIDGE_SHORT

    fin = results.finance
    lines = {k: float(v[:, -1].mean()) for k, v in fin.bridge("plan").items()}
    dn = float(fin.gap("do_nothing")[:, -1].mean())
    pl = float(fin.gap("plan")[:, -1].mean())
    steps = [(BRIDGE_SHORT[k], lines[k]) for k in BRIDGE_LINES[1:]]
    plan_steps = [(BRIDGE_SHORT[k], lines[k]) for k in ("care_models", "provider_efficiency")]
    labels = (
        [BRIDGE_SHORT["starting_deficit"]]
        + [s for s, _ in steps]
        + ["Gap if nothing changes"]
        + [s for s, _ in plan_steps]
        + ["Gap with the plan"]
    )
    values = [lines["starting_deficit"]] + [v for _, v in steps] + [dn] + [v for _, v in plan_steps] + [pl]
    measure = (
        ["absolute"] + ["relative"] * len(steps) + ["total"] + ["relative"] * len(plan_steps) + ["total"]
    )
    fig = go.Figure(
        go.Waterfall(
            x=labels,
            y=[v / 1e6 for v in values],
            measure=measure,
            text=[f"{'−' if v < 0 else ''}£{abs(v) / 1e6:,.1f}m" for v in values],
            textposition="outside",
            decreasing=dict(marker=dict(color=PLAN)),
            increasing=dict(marker=dict(color=DO_NOTHING)),
            totals=dict(marker=dict(color="#555")),
            connector=dict(line=dict(color="#999")),
            hovertemplate="%{x}: £%{y:,.1f}m<extra></extra>",
        )
    )
    fig.update_yaxes(title_text=f"Shortfall in {results.year_labels[-1]}, £ million (positive = short)")
    fig.update_xaxes(tickangle=-30)
    return _layout(
        fig,
        f"From 2016/17 to the gap in {results.year_labels[-1]}: what drives it, what the plan does (averages)",
        520,
    )


def surpluses(results) -> go.Figure:
    """Each organisation's surplus (or deficit) by year under the plan, grouped by kind."""
    fig = go.Figure()
    years = results.year_labels
    kinds: dict[str, np.ndarray] = {}
    for books in results.finance.footprints:
        for o, org in enumerate(books.orgs):
            if org.kind != "external":
                kinds[org.kind] = kinds.get(org.kind, 0) + books.surplus[o]
    names = {
        "commissioner": "Commissioners",
        "acute": "Acute trusts",
        "community": "Community services",
        "mental_health": "Mental health",
        "primary_care": "General practice",
        "specialised": "Specialised services",
        "social_care": "Councils' social care",
    }
    palette = (PLAN, DO_NOTHING, *OTHER)
    for i, (kind, x) in enumerate(kinds.items()):
        p10, p90 = np.percentile(x, [10, 90], axis=0)
        fig.add_scatter(
            x=years,
            y=x.mean(axis=0) / 1e6,
            mode="lines+markers",
            name=names[kind],
            line=dict(color=palette[i % len(palette)], dash=("solid", "dash", "dot", "dashdot")[i % 4]),
            error_y=dict(
                type="data",
                symmetric=False,
                array=(p90 - x.mean(axis=0)) / 1e6,
                arrayminus=(x.mean(axis=0) - p10) / 1e6,
                thickness=1,
                width=3,
            ),
            hovertemplate="%{x}: £%{y:,.1f}m<extra>" + names[kind] + "</extra>",
        )
    fig.add_hline(y=0, line=dict(color="#999", width=1))
    fig.update_yaxes(title_text="Surplus (+) or deficit (-), £ million")
    return _layout(fig, "Each kind of organisation's surplus under the plan (bars: 80% intervals)", 460)


def incentive_heatmap(results, public: bool = False) -> go.Figure:
    """Care model x organisation: the change in surplus each model causes on its own."""
    fin = results.finance
    models = list(dict.fromkeys(i for (i, _, _) in fin.incentives))
    orgs = list(dict.fromkeys(o for (_, _, o) in fin.incentives))
    z = np.array(
        [[fin.incentives[(m, c, o)].mean() / 1e6 for (mm, c, o) in fin.incentives if mm == m] for m in models]
    )
    lim = float(np.abs(z).max()) or 1.0
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=orgs,
            y=[m.replace("_", " ") for m in models],
            colorscale="PuOr",
            zmid=0,
            zmin=-lim,
            zmax=lim,
            text=[[f"{v:+.1f}" for v in row] for row in z],
            texttemplate="%{text}",
            colorbar=dict(title=dict(text="£m a year<br>(+ gain, - loss)")),
            hovertemplate="%{y} -> %{x}: £%{z:+,.2f}m<extra></extra>",
        )
    )
    fig.update_xaxes(tickangle=-35, title_text="Organisation")
    fig.update_yaxes(title_text="Care model (adopted alone)", autorange="reversed")
    return _layout(
        fig,
        f"Who gains (purple) and who loses (orange) in {results.year_labels[-1]}, £ million a year",
        140 + 48 * len(models),
    )


def tornado(results, top: int = 10) -> go.Figure:
    """What drives the plan's gap in its last year: each assumption at its 10th and 90th
    percentile with the rest central (``sensitivity.gap_drivers``), largest swing at the top."""
    from ..sensitivity import drivers_and_centre

    rows, centre = drivers_and_centre(results.plan)
    rows, centre = rows[:top][::-1], centre / 1e6
    fig = go.Figure()
    for label, key, colour in (
        ("At its 10th percentile", "low", PLAN),
        ("At its 90th percentile", "high", DO_NOTHING),
    ):
        fig.add_bar(
            y=[r["title"] for r in rows],
            x=[r[key] / 1e6 - centre for r in rows],
            base=centre,
            orientation="h",
            name=label,
            marker=dict(color=colour),
            hovertemplate="%{y}: gap £%{x:,.1f}m<extra>" + label + "</extra>",
        )
    fig.update_layout(barmode="overlay")
    fig.add_vline(x=centre, line=dict(color="#555", dash="dash"))
    fig.update_xaxes(
        title_text=f"Shortfall in {results.year_labels[-1]}, £ million (dashed line: all central)"
    )
    return _layout(
        fig,
        f"What drives the gap in {results.year_labels[-1]}: one assumption at a time",
        140 + 40 * len(rows),
    )


def all_charts(results, public: bool = False) -> dict[str, go.Figure]:
    out = {"people": pyramid(results), "pressure": fans(results), "patients": beds(results)}
    if results.finance is not None:
        out["money"] = waterfall(results, public)
        if not public:
            out["drivers"] = tornado(results)
        out["surplus"] = surpluses(results)
        if results.finance.incentives:
            out["incentives"] = incentive_heatmap(results, public)
    return out
