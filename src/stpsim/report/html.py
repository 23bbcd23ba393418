"""The self-contained HTML report: the story, its charts, the assumptions and the sources.

One file, no network: Plotly's JavaScript is inlined once and every chart is drawn from data in
the page. Print styles keep charts whole on a page.
"""

from __future__ import annotations

import html
import json
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from .. import assumptions
from ..reference import sources
from ..story import Story, compare, tell
from ..version import __version__
from . import charts
from .figure import script_json

CSS = """
body{font-family:Arial,Helvetica,sans-serif;color:#222;max-width:1100px;margin:0 auto;padding:24px;line-height:1.5}
h1{font-size:1.9em;margin-bottom:.2em}h2{border-bottom:2px solid #0072B2;padding-bottom:.2em;margin-top:1.8em}
.sub{color:#555}.cards{display:flex;flex-wrap:wrap;gap:12px;margin:18px 0}
.card{flex:1 1 200px;border:1px solid #ccc;border-left:6px solid #0072B2;padding:10px 14px;border-radius:4px}
.card b{display:block;font-size:1.5em}.card.warn{border-left-color:#D55E00}
nav ol{columns:2}table{border-collapse:collapse;width:100%;font-size:.85em}
th,td{border:1px solid #ccc;padding:4px 6px;vertical-align:top;text-align:left}th{background:#f2f2f2}
.chart{margin:12px 0 24px}.note{color:#555;font-size:.9em}
@media print{nav{display:none}.chart,.card,table{page-break-inside:avoid}body{max-width:none}}
"""

SECTION_CHARTS = {
    "people": ["people"],
    "pressure": ["pressure"],
    "plan": ["pressure"],  # the public version has no "pressure" section: its chart goes here
    "hospitals": ["patients"],
    "money": ["money", "drivers", "surplus"],
    "incentives": ["incentives"],
    "patients": ["patients"],
}


CHART_CONFIG = {"displaylogo": False, "responsive": True, "toImageButtonOptions": {"format": "png"}}


@cache
def plotly_js() -> bytes:
    """plotly.js from the installed plotly package as UTF-8 bytes, read once per process (4.8 MB).
    Read as plotly's own ``get_plotlyjs`` reads it, but never decoded: its text is not ASCII, so
    as a str it took 9.6 MB and 9 ms to read, and a report joined and encoded it again."""
    import pkgutil

    data = pkgutil.get_data("plotly", "package_data/plotly.min.js")
    if data is None:  # a plotly that keeps it elsewhere
        from plotly.offline import get_plotlyjs

        data = get_plotlyjs().encode("utf-8")
    return data


def _chart_html(fig, div_id: str) -> str:
    """A chart drawn by plotly.js from its JSON in the page (``figure.script_json``: no text in
    a chart can end the script)."""
    # A fixed height keeps each chart in the flow of the page (and whole when printed).
    height = int(fig.layout.get("height") or 450)
    text = script_json(fig)
    name = html.escape(div_id)
    return (
        f'<div class="chart" style="height:{height}px"><div id="{name}" class="plotly-graph-div" '
        f'style="height:{height}px; width:100%;"></div><script type="text/javascript">'
        f'(function(){{var f={text};Plotly.newPlot("{name}",f.data,f.layout,{json.dumps(CHART_CONFIG)});}})();'
        "</script></div>"
    )


def _story_html(story: Story, figures: dict[str, dict], prefix: str = "") -> str:
    out = []
    placed: set[tuple[str, str]] = set()  # a chart appears once, under the first section that takes it
    for sec in story.sections:
        key = sec.key.split(".")[-1]
        opt = sec.key.split(".")[0] if "." in sec.key else ""
        out.append(f'<section id="{html.escape(sec.key)}"><h2>{html.escape(sec.title)}</h2>')
        out += [f"<p>{html.escape(p)}</p>" for p in sec.paragraphs]
        figs = figures.get(opt, figures.get("", {}))
        for name in SECTION_CHARTS.get(key, []):
            if name in figs and (opt, name) not in placed:
                placed.add((opt, name))
                out.append(_chart_html(figs[name], f"chart-{prefix}{opt}{name}".replace(" ", "-")))
        out.append("</section>")
    return "\n".join(out)


def _cards(results, story: Story) -> str:
    f = {n.key: n.text for n in story.numbers}
    cards = []
    if "population.last" in f:
        cards.append(("People by " + results.year_labels[-1], f["population.last"], ""))
    if "difference.emergency_admissions.last" in f:
        cards.append(
            (
                "Emergency admissions changed by the plan, a year",
                f["difference.emergency_admissions.last"],
                "",
            )
        )
    if "do_nothing.beds.last" in f:
        cards.append(("Beds needed if nothing changes", f["do_nothing.beds.last"], "warn"))
    for scenario, when in (("do_nothing", "if nothing changes"), ("plan", "with the plan")):
        key = f"gap.{scenario}.last"
        if key in f:  # the story prints the amount; the card's word carries its sign
            surplus = results.finance.gap(scenario)[:, -1].mean() < 0
            cls = "" if surplus or scenario == "plan" else "warn"
            cards.append((f"{'Surplus' if surplus else 'Shortfall'} {when}", f[key], cls))
    return (
        '<div class="cards">'
        + "".join(
            f'<div class="card {cls}"><b>{html.escape(v)}</b>{html.escape(k)}</div>' for k, v, cls in cards
        )
        + "</div>"
    )


def _side_by_side(a, b, story: Story) -> str:
    """The two options' key numbers in one table, before their stories."""
    from ..story import count_text, facts, money_text

    fa, fb = facts(a), facts(b)
    rows = [
        ("Emergency admissions a year, last year", "plan.emergency_admissions.last", count_text),
        ("Beds needed, last year", "plan.beds.last", count_text),
        ("Shortfall if nothing changes, last year", "gap.do_nothing.last", money_text),
        ("Shortfall with the option, last year", "gap.plan.last", money_text),
    ]
    body = "".join(
        f"<tr><td>{html.escape(label)}</td>"
        + "".join(f"<td>{html.escape(fmt(f[k]) if k in f else '-')}</td>" for f in (fa, fb))
        + "</tr>"
        for label, k, fmt in rows
    )
    return (
        f'<table class="compare"><tr><th></th><th>Option A: {html.escape(a.plan.name)}</th>'
        f"<th>Option B: {html.escape(b.plan.name)}</th></tr>{body}</table>"
    )


PUBLIC_ABBREVIATIONS = {
    "A&E": "accident and emergency",
    "ASC-FR": "Adult Social Care Finance Return",
    "CCG": "clinical commissioning group",
    "CQUIN": "a quality bonus paid on NHS contracts",
    "eFI": "electronic frailty index",
    "FAE": "a hospital admission",
    "FCE": "a spell of care under one consultant",
    "GP": "family doctor",
    "HES": "Hospital Episode Statistics",
    "HSE": "Health Survey for England",
    "IAU": "Improvement Analytics Unit",
    "IPF": "a method of fitting a table",
    "LSOA/MSOA": "small areas used by the census",
    "MRET": "a lower price for emergency admissions above a baseline",
    "NHS": "National Health Service",
    "NPP": "national population projections",
    "ONS": "Office for National Statistics",
    "PbR": "payment by results",
    "PSSRU": "Personal Social Services Research Unit",
    "STP": "sustainability and transformation plan",
    "UKHCA": "United Kingdom Homecare Association",
}


def _local_section(used: list[dict]) -> str:
    """The team's own tables used in place of national figures: which, from where, and their
    sha256, so a reader can tell local figures from national ones."""
    if not used:
        return ""
    rows = "".join(
        f"<tr><td>{html.escape(u['footprint'])}</td><td>{html.escape(u['table'])}</td>"
        f"<td>{html.escape(Path(u['source']).name if u['source'].startswith('/') else u['source'])}</td>"
        f"<td>{u['rows']:,}</td><td><code>{html.escape(u['sha256'])}</code></td></tr>"
        for u in used
    )
    return (
        '<section id="local-data"><h2>Local figures</h2><p>These figures are the team\'s own, used in '
        "place of the national defaults; everything else comes from the national sources below.</p>"
        "<table><tr><th>Footprint</th><th>Table</th><th>File</th><th>Rows</th><th>SHA-256</th></tr>"
        f"{rows}</table></section>"
    )


def _appendix(public: bool) -> str:
    rows = []
    for a in assumptions.load().values():
        rng = a.range or f"{a.low} to {a.high}"
        rows.append(
            f"<tr><td>{html.escape(a.id)}</td><td>{html.escape(str(a.value))} {html.escape(a.unit)}</td>"
            f"<td>{html.escape(str(rng))}</td><td>{html.escape(a.why)}</td></tr>"
        )
    src = sources()
    srows = [
        f"<tr><td>{html.escape(k)}</td><td>{html.escape(v['publisher'])}</td><td>{html.escape(v['title'])}</td>"
        f"<td>{html.escape(str(v['period']))}</td><td>{html.escape(v['licence'])}</td>"
        f"<td>{html.escape(v['transformation'])}</td></tr>"
        for k, v in src.items()
    ]
    glossary = (
        "<p>These tables are technical. The short forms they use are: "
        + "; ".join(f"{html.escape(k)} ({html.escape(v)})" for k, v in PUBLIC_ABBREVIATIONS.items())
        + ".</p>"
        if public
        else ""
    )
    intro_a = (
        "These are the guesses the model makes where no published figure exists. Each has a range we tested."
        if public
        else "Every parameter that is not a published figure: value, plausible range and why."
    )
    intro_s = (
        "These are the public sources of the figures."
        if public
        else "Every reference table the model uses, with its publisher, period, licence and what was done to it."
    )
    return (
        f'<section id="assumptions"><h2>Assumptions</h2>{glossary}<p>{intro_a}</p><table><tr><th>Assumption</th>'
        f"<th>Value</th><th>Range</th><th>Why</th></tr>{''.join(rows)}</table></section>"
        f'<section id="sources"><h2>Sources</h2><p>{intro_s}</p><table><tr><th>Table</th><th>Publisher</th>'
        f"<th>Title</th><th>Period</th><th>Licence</th><th>Transformation</th></tr>{''.join(srows)}</table>"
        "</section>"
    )


def appendix_sections(public: bool = True) -> str:
    """The appendix's sections (every assumption and every source) as escaped HTML, for a page
    of the dashboard to carry as its own."""
    return _appendix(public)


def appendix_name(path) -> str:
    """The public version's appendix page, beside the main page: report.html -> report-appendix.html."""
    from pathlib import Path

    p = Path(path)
    return f"{p.stem}-appendix{p.suffix or '.html'}"


def render_appendix(results, other=None) -> str:
    """The public version's technical appendix, a page of its own: local figures, every
    assumption and every source."""
    used = results.local_data() + (other.local_data() if other is not None else [])
    local = _local_section(list({json.dumps(u, sort_keys=True): u for u in used}.values()))
    title = f"Technical appendix: {', '.join(results.names)}"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title><style>{CSS}</style></head>
<body><header><h1>{html.escape(title)}</h1><p class="sub">The guesses behind the public version and where its
figures come from.</p></header>
{local}
{_appendix(True)}
<footer class="note"><p>Made by stpsim {__version__} on {date.today().isoformat()}.</p></footer>
</body></html>
"""


def _track_html(doc: dict, results) -> str:
    """ "How well has this model done?": England's track record (``report.track``)."""
    from . import track

    words = results.plan.monte_carlo.calibration and results.calibration_words()["text"]
    said = track.paragraphs(doc) + [track.this_report(words or None)]
    paras = "".join(f"<p>{html.escape(p)}</p>" for p in said)
    return (
        f'<section id="track-record"><h2>How well has this model done?</h2>{paras}{track.table_html(doc)}'
        f"{_chart_html(track.chart(doc), 'chart-track-record')}</section>"
    )


def _proposal_html(doc: dict, results) -> str:
    """ "Could another mix do better?": the optimiser's proposal against this plan."""
    from ..interventions import library
    from . import proposal

    titles = {n: s.title for n, s in library().items()} | {
        c.name: c.title for c in results.plan.custom_interventions
    }
    gap = float(results.finance.gap("plan")[:, -1].mean())
    paras = "".join(f"<p>{html.escape(p)}</p>" for p in proposal.paragraphs(doc, gap, titles))
    return (
        f'<section id="proposal"><h2>Could another mix do better?</h2>{paras}{proposal.table_html(doc)}'
        '<p class="note">From stpsim optimise: the run\'s draws as scenarios, a mixed-integer programme over '
        "the plan's options, the choice verified by a full run.</p></section>"
    )


def render(*args: Any, **kwargs: Any) -> str:
    """The report as one HTML document, as text: ``render_bytes``'s chunks decoded (for a page
    to show or a test to read; files are written from the chunks)."""
    return b"".join(render_bytes(*args, **kwargs)).decode("utf-8")


def render_bytes(
    results,
    audience: str = "board",
    other=None,
    national=None,
    appendix_href: str | None = None,
    track_record: dict | None = None,
    proposal: dict | None = None,
) -> list[bytes]:
    """The report as one HTML document, in the UTF-8 chunks a file is written from: the page
    before plotly.js, plotly.js as read (``plotly_js``), and the rest. ``other`` gives a second
    option to compare. The public version keeps its technical appendix on a separate page
    (``appendix_href``). ``track_record``: England's track record (``stpsim backtest``), shown to
    the board when given."""
    head, tail = _page(results, audience, other, national, appendix_href, track_record, proposal)
    return [head.encode("utf-8"), plotly_js(), tail.encode("utf-8")]


def _page(results, audience, other, national, appendix_href, track_record, proposal) -> tuple[str, str]:
    """The report's HTML before and after plotly.js's place in its ``<script>`` element."""
    public = audience == "public"
    if other is None:
        story = tell(results, audience, national)
        figures = {"": charts.all_charts(results, public)}
        cards = _cards(results, story)
        plans = results.plan.name
        draws = results.draws
    else:
        story = compare(results, other, audience)
        figures = {
            "Option A": charts.all_charts(results, public),
            "Option B": charts.all_charts(other, public),
        }
        cards = _side_by_side(results, other, story)
        plans = f"{results.plan.name} / {other.plan.name}"
        draws = results.draws
    toc = "".join(
        f'<li><a href="#{html.escape(s.key)}">{html.escape(s.title)}</a></li>' for s in story.sections
    )
    used = results.local_data() + (other.local_data() if other is not None else [])
    local = _local_section(list({json.dumps(u, sort_keys=True): u for u in used}.values()))
    if public:
        href = html.escape(appendix_href or "appendix.html")
        toc += f'<li><a href="{href}">Technical appendix (a separate page)</a></li>'
        appendix = (
            f'<section id="appendix"><h2>More detail</h2><p>Every guess we made, and where our figures come '
            f'from, is in the <a href="{href}">technical appendix</a>.</p></section>'
        )
        local = ""
        ranges = "Ranges show where 8 in 10 of our runs fell"
    else:
        from .tables import finance_lead_html

        if other is None and results.finance is not None:
            toc += (
                '<li><a href="#finance-tables">Finance tables</a></li><li><a href="#investment">Investment and '
                'payback</a></li><li><a href="#workforce">Workforce</a></li>'
            )
            local = finance_lead_html(results) + local
        if local.count('id="local-data"'):
            toc += '<li><a href="#local-data">Local figures</a></li>'
        if track_record is not None:
            toc += '<li><a href="#track-record">How well has this model done?</a></li>'
            local = local + _track_html(track_record, results)
        if proposal is not None and other is None and results.finance is not None:
            toc += '<li><a href="#proposal">Could another mix do better?</a></li>'
            local = local + _proposal_html(proposal, results)
        toc += '<li><a href="#assumptions">Assumptions</a></li><li><a href="#sources">Sources</a></li>'
        appendix = _appendix(False)
        ranges = f"Ranges are 80% intervals over {draws:,} simulations"
    sub = (
        f"{html.escape(', '.join(results.names))} · {results.year_labels[0]} to {results.year_labels[-1]} · "
        f"{draws:,} simulations · {'for the public' if public else 'for the board'}"
    )
    head = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(story.title)}</title><style>{CSS}</style>
<script>"""
    return (
        head,
        f"""</script></head>
<body><header><h1>{html.escape(story.title)}</h1><p class="sub">{sub}</p></header>
{cards}
<nav><h2>Contents</h2><ol>{toc}</ol></nav>
{_story_html(story, figures)}
{local}
{appendix}
<footer class="note"><p>Made by stpsim {__version__} on {date.today().isoformat()} from {html.escape(plans)}.
{ranges}; amounts are cash pounds. A gap or shortfall is positive when spending exceeds income.</p></footer>
</body></html>
""",
    )
