"""The board report's "How well has this model done?": England's track record (``stpsim
backtest``) in words, one table and one chart. It reads the track record's document; nothing is
scored again here."""

from __future__ import annotations

from ..story.core import listed
from .charts import DO_NOTHING, MINUS, PLAN, _layout, signed
from .figure import Figure


def _share(k: int, n: int) -> str:
    return f"{k} of {n}"


def _bn(x: dict) -> str:
    return f"£{x['mean'] / 1e9:,.1f}bn (£{x['p10'] / 1e9:,.1f}bn to £{x['p90'] / 1e9:,.1f}bn)"


def _pct(x: float) -> str:
    return f"{abs(x):.1f}%"


def _lower(title: str) -> str:
    """A title inside a sentence: its first letter small, unless it starts an abbreviation (A&E)."""
    return title if title[:2].isupper() or not title else title[0].lower() + title[1:]


def paragraphs(doc: dict) -> list[str]:
    """The track record in words, every number from its document (the report and the
    dashboard's track-record page both print these)."""
    rows = doc["table"]
    activity = [r for r in rows if r["unit"] != "GBP m"]
    inside = sum(r["inside"] for r in activity)
    first, last = rows[0]["year"], max(r["year"] for r in rows)
    mape = sum(abs(r["error_pct"]) for r in activity) / len(activity)
    summary = doc["summary"]
    low = [_lower(s["title"]) for m, s in summary.items() if s["bias_pct"] < 0 and _is_activity(rows, m)]
    high = [_lower(s["title"]) for m, s in summary.items() if s["bias_pct"] > 0 and _is_activity(rows, m)]
    out = [
        f"Projected from {doc['base_year']} data alone, as if nothing had changed, the model's 80% intervals "
        f"held what happened in {_share(inside, len(activity))} published national activity figures for "
        f"{first} to {last} (a model whose intervals are right would hold about 8 in 10). Its central "
        f"projections were off by {mape:.1f}% on average."
    ]
    trend = []
    if low:
        trend.append(f"too few {listed(low)}")
    if high:
        trend.append(f"too many {listed(high)}")
    if trend:
        out.append(f"It projected {' and '.join(trend)}.")
    flagged = sorted({r["year"] for r in rows if r["flag"]})
    if flagged:
        out.append(
            f"{listed(flagged)} includes March 2020, when COVID-19 cut hospital activity; those figures are "
            "marked and read with care."
        )
    for r in (r for r in rows if r["unit"] == "GBP m"):
        out.append(
            f"{r['title']} in {r['year']}: £{r['actual'] / 1e3:,.1f}bn published; the model's do-nothing, less "
            f"the savings the trusts delivered, put it at £{r['mean'] / 1e3:,.1f}bn (£{r['p10'] / 1e3:,.1f}bn "
            f"to £{r['p90'] / 1e3:,.1f}bn), {'inside' if r['inside'] else 'outside'} its 80% interval."
        )
    if "calibration" in doc:
        out += _calibration_words(doc)
    return out


def this_report(calibration_text: str | None) -> str:
    """Whether the report's own figures are calibrated, in words."""
    if calibration_text:
        return f"This report's figures are calibrated. {calibration_text}."
    return "This report's figures are not calibrated: they use the draws as first made."


def _is_activity(rows: list[dict], measure: str) -> bool:
    return any(r["measure"] == measure and r["unit"] != "GBP m" for r in rows)


def _calibration_words(doc: dict) -> list[str]:
    cal, held, gap = doc["calibration"], doc["hold_out"], doc["gap"]
    moved = [_lower(m["title"].replace("Other demand growth: ", "growth in ")) for m in cal["moved"]]
    words = [
        f"Reweighting the same draws by how well each fitted {listed(cal['years'])} "
        + (f"moved {listed(moved)}, and " if moved else "")
        + f"changed England's {gap['year']} gap if nothing changes from {_bn(gap['before'])} to "
        f"{_bn(gap['after'])}."
    ]
    changes = [
        f"{_lower(b['title'])} from {_pct(b['bias_pct'])} to {_pct(held['after'][m]['bias_pct'])}"
        for m, b in held["before"].items()
    ]
    if changes:
        words.append(
            f"Scored on {held['year']}, which the reweighting had not seen, the central projection's error "
            f"changed: {listed(changes)}."
        )
    return words


def table_html(doc: dict) -> str:
    import html

    head = (
        "<tr><th>Measure</th><th>Years inside the 80% interval</th><th>Average error</th><th>Bias</th></tr>"
    )
    body = "".join(
        f"<tr><td>{html.escape(s['title'])}</td><td>{s['inside']} of {s['years']}</td>"
        f"<td>{s['mape']:.1f}%</td><td>{signed(s['bias_pct'])}%</td></tr>"
        for s in doc["summary"].values()
    )
    return (
        "<table><caption>How far the projections were from what happened, measure by measure (bias above "
        f"nought: projected too much)</caption><thead>{head}</thead><tbody>{body}</tbody></table>"
    )


def chart(doc: dict) -> Figure:
    """Each published activity figure as nought, with the projection's error of its mean (dot)
    and its 80% interval (bar), in % of what happened: a bar that crosses nought held it. Money
    (one figure, far off) is in the words and the table, so the activity keeps its scale."""
    rows = [r for r in doc["table"] if r["unit"] != "GBP m"]
    labels = [f"{r['title']}, {r['year']}{' *' if r['flag'] else ''}" for r in rows]
    rel = [(r["mean"] - r["actual"]) / abs(r["actual"]) * 100 for r in rows]
    lo = [(r["mean"] - r["p10"]) / abs(r["actual"]) * 100 for r in rows]
    hi = [(r["p90"] - r["mean"]) / abs(r["actual"]) * 100 for r in rows]
    fig = Figure()
    fig.add_scatter(
        x=rel,
        y=labels,
        mode="markers",
        marker=dict(color=[PLAN if r["inside"] else DO_NOTHING for r in rows], size=9),
        error_x=dict(type="data", symmetric=False, array=hi, arrayminus=lo, thickness=1.5, width=4),
        customdata=[("inside" if r["inside"] else "outside") for r in rows],
        hovertemplate="%{y}: %{x:.1f}% (%{customdata} the 80% interval)<extra></extra>",
        name="projection: error of the mean and its 80% interval",
    )
    fig.add_vline(x=0, line=dict(color="#222", width=1))
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(
        title_text=f"Projected less what happened, % of what happened ({MINUS}: too low; * includes March 2020)"
    )
    fig = _layout(
        fig,
        "Projected from 2016/17 against what happened (blue: inside the 80% interval; orange: outside)",
        160 + 30 * len(rows),
    )
    fig.update_layout(showlegend=False, margin=dict(l=330))
    return fig
