"""The report's charts, built from Results as plotly.js documents (``figure.Figure``).

Colours are the Okabe-Ito palette (safe for the common kinds of colour blindness); the
do-nothing case is always orange and dashed, the plan always blue and solid, so the charts read
in black and white too. Every axis and band is labelled in words.
"""

from __future__ import annotations

import numpy as np

from ..axes import BAND_LABELS, five_year_band_of_age
from ..summaries import percentiles
from .figure import Figure, colorscale, template

PLAN = "#0072B2"  # blue
DO_NOTHING = "#D55E00"  # vermillion
MALE = "#56B4E9"  # sky blue
FEMALE = "#E69F00"  # orange
OTHER = ("#009E73", "#CC79A7", "#F0E442", "#000000", "#999999")
FONT = dict(family="Arial, Helvetica, sans-serif", size=13, color="#222")

MINUS = "\u2212"  # the one minus sign of every amount in the charts: −£268.5m, −1.2
BAND = {False: "80% interval", True: "likely range (8 in 10 outcomes)"}  # board, public
BANDS = {False: "80% intervals", True: "likely ranges (8 in 10 outcomes)"}

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


def _layout(fig: Figure, title: str, height: int = 420, top: int = 60) -> Figure:
    """Title, font and margins; the title sits in the top margin (``top`` pixels, enough for its
    lines) and the axes grow the margins to fit their titles and tick labels (automargin)."""
    fig.update_layout(
        title=dict(text=title, x=0.01, xanchor="left", y=0.99, yref="container", yanchor="top"),
        font=FONT,
        height=height,
        template=template(),
        margin=dict(l=70, r=20, t=top, b=50),
        legend=dict(orientation="h", y=-0.15),
    )
    fig.update_xaxes(automargin=True)
    fig.update_yaxes(automargin=True)
    return fig


def money(x: float, unit: str = "m", digits: int = 1) -> str:
    """Pounds as the charts print them, the minus before the pound sign: −£268.5m, £12.0m.
    ``x`` is in pounds; ``unit`` "m" prints millions."""
    scaled = x / 1e6 if unit == "m" else x
    text = f"£{abs(scaled):,.{digits}f}{unit}"
    return MINUS + text if round(scaled, digits) < 0 else text


def signed(x: float, digits: int = 1) -> str:
    """A change with its sign, the same minus as ``money``: +1.2, −0.3."""
    return ("+" if round(x, digits) >= 0 else MINUS) + f"{abs(x):,.{digits}f}"


def _rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    return f"rgba({int(h[0:2], 16)},{int(h[2:4], 16)},{int(h[4:6], 16)},{alpha})"


NICE_STEPS = (1, 2, 2.5, 5, 10)


def nice_step(top: float, most: int = 4) -> float:
    """The smallest round step (1, 2, 2.5 or 5 times a power of ten) that takes at most ``most``
    steps to reach ``top``."""
    raw = top / most if top > 0 else 1.0
    power = 10.0 ** np.floor(np.log10(raw))
    return float(next(m * power for m in NICE_STEPS if m * power >= raw * (1 - 1e-9)))


def nice_ticks(top: float) -> np.ndarray:
    """0 and round steps up to ``top`` (2 to 4 of them): 0, 50,000, 100,000 for 102,589."""
    step = nice_step(top)
    return step * np.arange(0, int(np.floor(top / step * (1 + 1e-9))) + 1)


def pyramid(results) -> Figure:
    """Population by five-year band and sex, first year (bars) against last year (outline)."""
    band = five_year_band_of_age()
    pop = results.population.sum(axis=1)  # (year, sex, age)
    by_band = np.stack(
        [np.bincount(band, weights=pop[t, s], minlength=len(BAND_LABELS)) for t in (0, -1) for s in (0, 1)]
    ).reshape(2, 2, -1)
    y0, y1 = results.year_labels[0], results.year_labels[-1]
    fig = Figure()
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
    fig.update_yaxes(title_text="Age")
    top = float(by_band.max())
    ticks = nice_ticks(top)
    vals = np.concatenate([-ticks[:0:-1], ticks])  # symmetric: -100,000 ... 0 ... 100,000
    reach = 1.05 * max(top, float(ticks[-1]))
    fig.update_xaxes(
        title_text="People (men to the left, women to the right)",
        tickmode="array",
        tickvals=[float(v) for v in vals],
        ticktext=[f"{abs(v):,.0f}" for v in vals],  # both sides count people: no minus
        range=[-reach, reach],
    )
    return _layout(fig, f"The people: {y0} (bars) and {y1} (dotted line)", 520)


def _fan(
    fig: Figure,
    years: list[str],
    x: np.ndarray,
    colour: str,
    dash: str,
    label: str,
    unit: str = "",
    show_legend: bool = True,
    public: bool = False,
    **where,
) -> None:
    """An 80% band (no markers) and the average line of draws ``x`` (draw, year); the band's
    legend says "80% interval" to the board, in words to the public."""
    p10, p90 = percentiles(x, (10, 90))
    fig.add_scatter(
        x=years + years[::-1],
        y=np.concatenate([p90, p10[::-1]]),
        fill="toself",
        fillcolor=_rgba(colour, 0.18),
        line=dict(width=0),
        mode="lines",
        hoverinfo="skip",
        name=f"{label}: {BAND[public]}",
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


def fans(results, public: bool = False) -> Figure:
    """80% fan charts for the main settings: do-nothing against the plan."""
    rows, cols = 2, 4
    fig = Figure.grid(
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
                public=public,
                row=i // cols + 1,
                col=i % cols + 1,
            )
    fig.update_yaxes(tickformat=".3s")
    return _layout(
        fig, f"Demand by service: doing nothing (dashed) against the plan (solid), with {BANDS[public]}", 620
    )


def beds(results, public: bool = False) -> Figure:
    fig = Figure()
    for label, cap, colour, dash in (
        ("Do nothing", results.do_nothing_capacity, DO_NOTHING, "dash"),
        ("Plan", results.capacity, PLAN, "solid"),
    ):
        _fan(fig, results.year_labels, cap["beds"].sum(axis=2), colour, dash, label, " beds", public=public)
    fig.update_yaxes(title_text="Hospital beds needed (85% occupancy)", tickformat=",.0f")
    return _layout(fig, "Hospital beds needed")


def _model_titles(results, names) -> dict[str, str]:
    """Care models as people read them: a custom model's title, else the library's title (never
    the snake_case id)."""
    from ..interventions import library

    lib = library()
    custom = {c.name: c.title for c in results.plan.custom_interventions}
    out = {}
    for name in names:
        title = custom.get(name) or (lib[name].title if name in lib else name.replace("_", " "))
        out[name] = title[0].upper() + title[1:]
    return out


def _org_names(results, keys) -> dict[tuple[str, str], str]:
    """(footprint code, organisation id) -> the organisation's name (``Organisation.name``), each
    label distinct (two footprints' commissioners differ by their footprints' names)."""
    names = {(books.code, o.id): o.name for books in results.finance.footprints for o in books.orgs}
    out: dict[tuple[str, str], str] = {}
    for key in keys:
        label = names.get(key) or key[1].split(":")[-1].replace("_", " ").capitalize()
        n = 2
        base = label
        while label in out.values():
            label, n = f"{base} ({n})", n + 1
        out[key] = label
    return out


def _wrap(text: str, width: int = 28) -> str:
    """A long tick label on lines of about ``width`` characters (plotly's <br>)."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "<br>".join(lines)


def waterfall_reach(values, measure) -> tuple[float, float, float]:
    """Where a waterfall's bars reach (£m): the lowest and highest running total (and zero), and
    the room to leave above and below so the labels printed outside the bars stay in view."""
    level, reach = 0.0, [0.0]
    for v, m in zip(values, measure, strict=True):
        level = v if m == "absolute" else level if m == "total" else level + v
        reach.append(level / 1e6)
    lo, hi = min(reach), max(reach)
    return lo, hi, 0.14 * ((hi - lo) or 1.0)


def waterfall(results, public: bool = False) -> Figure:
    """The bridge: from the 2016/17 position through each driver to the do-nothing gap, then the
    plan's care models and its provider efficiency (apart) to the plan's gap.

    The labels sit outside the bars and may reach past the plot area (``cliponaxis`` off, the
    range padded besides); the title takes two lines in its own top margin and the axis title two
    short lines, so neither meets the other."""
    from ..finance import BRIDGE_LINES, BRIDGE_SHORT

    fin = results.finance
    last = results.year_labels[-1]
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
    lo, hi, pad = waterfall_reach(values, measure)
    texts = [money(v) for v in values]
    fig = Figure().add_trace(
        dict(
            type="waterfall",
            x=labels,
            y=[v / 1e6 for v in values],
            measure=measure,
            text=texts,
            textposition="outside",
            cliponaxis=False,
            customdata=texts,
            decreasing=dict(marker=dict(color=PLAN)),
            increasing=dict(marker=dict(color=DO_NOTHING)),
            totals=dict(marker=dict(color="#555")),
            connector=dict(line=dict(color="#999")),
            hovertemplate="%{x}: %{customdata}<extra></extra>",
        )
    )
    fig.update_yaxes(
        title_text=f"Shortfall in {last}, £ million<br>(positive: spending above income)",
        range=[lo - pad, hi + pad],
        zeroline=True,
    )
    fig.update_xaxes(tickangle=-30)
    fig = _layout(
        fig,
        f"From 2016/17 to the gap in {last}<br>what drives it, what the plan does (averages)",
        560,
        top=96,
    )
    fig.update_layout(margin=dict(l=90, r=40, b=110), showlegend=False)
    return fig


def surpluses(results, public: bool = False) -> Figure:
    """Each organisation's surplus (or deficit) by year under the plan, grouped by kind."""
    fig = Figure()
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
        p10, p90 = percentiles(x, (10, 90))
        mean = x.mean(axis=0)
        fig.add_scatter(
            x=years,
            y=mean / 1e6,
            mode="lines+markers",
            name=names[kind],
            line=dict(color=palette[i % len(palette)], dash=("solid", "dash", "dot", "dashdot")[i % 4]),
            error_y=dict(
                type="data",
                symmetric=False,
                array=(p90 - mean) / 1e6,
                arrayminus=(mean - p10) / 1e6,
                thickness=1,
                width=3,
            ),
            customdata=[
                f"{money(m)} ({money(a)} to {money(b)})" for m, a, b in zip(mean, p10, p90, strict=True)
            ],
            hovertemplate="%{x}: %{customdata}<extra>" + names[kind] + "</extra>",
        )
    fig.add_hline(y=0, line=dict(color="#999", width=1))
    fig.update_yaxes(title_text=f"Surplus (+) or deficit ({MINUS}), £ million")
    return _layout(
        fig, f"Each kind of organisation's surplus under the plan (whiskers: {BANDS[public]})", 460
    )


def incentive_heatmap(results, public: bool = False) -> Figure:
    """Care model x organisation: the change in surplus each model causes on its own. Rows and
    columns carry the care models' titles and the organisations' names, never their ids."""
    fin = results.finance
    models = list(dict.fromkeys(i for (i, _, _) in fin.incentives))
    orgs = list(dict.fromkeys((c, o) for (_, c, o) in fin.incentives))
    titles = _model_titles(results, models)
    names = _org_names(results, orgs)
    z = np.array(
        [
            [
                fin.incentives[(m, c, o)].mean() / 1e6 if (m, c, o) in fin.incentives else 0.0
                for (c, o) in orgs
            ]
            for m in models
        ]
    )
    lim = float(np.abs(z).max()) or 1.0
    x = [_wrap(names[k]) for k in orgs]
    y = [titles[m] for m in models]
    fig = Figure().add_trace(
        dict(
            type="heatmap",
            z=z,
            x=x,
            y=y,
            colorscale=colorscale("PuOr"),
            zmid=0,
            zmin=-lim,
            zmax=lim,
            text=[[signed(v) for v in row] for row in z],
            texttemplate="%{text}",
            customdata=[
                [
                    f"{titles[m]} → {names[k]}: {money(v * 1e6, digits=2)}"
                    for k, v in zip(orgs, row, strict=True)
                ]
                for m, row in zip(models, z, strict=True)
            ],
            colorbar=dict(title=dict(text=f"£m a year<br>(+ gain, {MINUS} loss)")),
            hovertemplate="%{customdata}<extra></extra>",
        )
    )
    fig.update_xaxes(tickangle=-35, title_text="Organisation")
    fig.update_yaxes(title_text="Care model (adopted alone)", autorange="reversed")
    return _layout(
        fig,
        f"Who gains (purple) and who loses (orange) in {results.year_labels[-1]}, £ million a year",
        220 + 48 * len(models),
    )


def tornado(record, top: int = 10) -> Figure:
    """What drives the plan's gap in its last year: each assumption at its 10th and 90th
    percentile with the rest central (the run record's ``gap_drivers``), largest swing at top."""
    results = record
    rows = record.document["gap_drivers"][:top][::-1]
    centre = record.analyses["gap_centre"] / 1e6
    fig = Figure()
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
            customdata=[money(r[key]) for r in rows],
            hovertemplate="%{y}: gap %{customdata}<extra>" + label + "</extra>",
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


def all_charts(results, public: bool = False) -> dict[str, Figure]:
    out = {
        "people": pyramid(results),
        "pressure": fans(results, public),
        "patients": beds(results, public),
    }
    if results.finance is not None:
        out["money"] = waterfall(results, public)
        if not public:
            out["drivers"] = tornado(results)
        out["surplus"] = surpluses(results, public)
        if results.finance.incentives:
            out["incentives"] = incentive_heatmap(results, public)
    return out
