"""Datasette plugin: the /charts page, and server-rendered SVG charts used by other pages.

Charts are drawn here as SVG (no JavaScript, no CDN, nothing fetched by the browser): they
render in any browser, print, and stay readable in screenshots. Every label is escaped;
each chart links to the SQL behind it so its numbers can be exported as CSV or JSON.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from datasette.utils.asgi import Response
from markupsafe import Markup, escape

from datasette import hookimpl

PALETTE = ["#1f6f8b", "#e07a5f", "#3d405b", "#81b29a", "#f2cc8f", "#9c6644", "#6d597a",
           "#b56576", "#457b9d", "#2a9d8f"]

SQL = {
    "weekly": """select source_id, strftime('%Y-%W', substr(published, 1, 10)) as week,
  min(substr(published, 1, 10)) as first_day, count(*) as n
from articles where on_topic = 1 and published is not null
group by source_id, week order by week""",
    "lang": "select coalesce(lang, '?') as label, count(*) as n from articles "
            "group by label order by n desc",
    "kind": "select coalesce(source_kind, '?') as label, count(*) as n from articles "
            "group by label order by n desc",
    "runs": """select id, started_at, requests, errors, extraction_failures, articles_new
from crawl_runs order by id""",
    "outcomes": "select source_id, outcome, count(*) as n from pages "
                "group by source_id, outcome order by source_id, outcome",
}


def color(i: int) -> str:
    """A palette colour by index."""
    return PALETTE[i % len(PALETTE)]


def _svg(width: int, height: int, body: list[Markup], label: str) -> Markup:
    return Markup('<svg class="mw-chart" role="img" aria-label="{}" viewBox="0 0 {} {}" '
                  'width="{}" height="{}" xmlns="http://www.w3.org/2000/svg">{}</svg>').format(
        label, width, height, width, height, Markup("").join(body))


def share_bar(rows: list[tuple[str, int]], label: str, width: int = 760) -> Markup:
    """One 100% bar split by category, with a legend: share by language, by kind."""
    total = sum(n for _, n in rows) or 1
    body, x = [], 0.0
    for i, (name, n) in enumerate(rows):
        w = (width - 20) * n / total
        body.append(Markup('<rect x="{:.1f}" y="10" width="{:.1f}" height="28" fill="{}">'
                           "<title>{}: {} ({:.0%})</title></rect>").format(
            10 + x, w, color(i), name, n, n / total))
        body.append(Markup('<text x="{}" y="{}" font-size="12"><tspan fill="{}">■</tspan> '
                           "{}: {} ({:.0%})</text>").format(
            10 + (i % 3) * 250, 60 + (i // 3) * 18, color(i), name, n, n / total))
        x += w
    return _svg(width, 70 + ((len(rows) + 2) // 3) * 18, body, label)


def grouped_bars(categories: list[str], series: dict[str, list[int]], label: str,
                 width: int = 760) -> Markup:
    """Vertical bars per category, one bar per series side by side (crawl runs)."""
    height, top, base = 220, 10, 180
    peak = max([v for vals in series.values() for v in vals] + [1])
    slot = (width - 60) / max(len(categories), 1)
    bar = slot * 0.8 / max(len(series), 1)
    body = [Markup('<line x1="40" y1="{}" x2="{}" y2="{}" stroke="#999"/>').format(
        base, width - 10, base),
        Markup('<text x="0" y="{}" font-size="11">{}</text>').format(top + 10, peak)]
    for c, cat in enumerate(categories):
        for s, (name, vals) in enumerate(series.items()):
            h = (base - top) * vals[c] / peak
            x = 45 + c * slot + s * bar
            body.append(Markup('<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" '
                               'fill="{}"><title>{} {}: {}</title></rect>').format(
                x, base - h, max(bar - 1, 1), h, color(s), cat, name, vals[c]))
        body.append(Markup('<text x="{:.1f}" y="{}" font-size="11">{}</text>').format(
            45 + c * slot, base + 14, cat))
    for s, name in enumerate(series):
        body.append(Markup('<text x="{}" y="{}" font-size="12"><tspan fill="{}">■</tspan> {}'
                           "</text>").format(45 + s * 170, height - 8, color(s), name))
    return _svg(width, height, body, label)


def stacked_rows(rows: dict[str, dict[str, int]], label: str, width: int = 760) -> Markup:
    """One horizontal stacked bar per row (page outcomes per outlet)."""
    keys = sorted({k for parts in rows.values() for k in parts})
    peak = max([sum(p.values()) for p in rows.values()] + [1])
    body: list[Markup] = []
    for r, (name, parts) in enumerate(rows.items()):
        y, x = 10 + r * 26, 150.0
        body.append(Markup('<text x="0" y="{}" font-size="12">{}</text>').format(y + 14, name))
        for k in keys:
            w = (width - 160) * parts.get(k, 0) / peak
            if w:
                body.append(Markup('<rect x="{:.1f}" y="{}" width="{:.1f}" height="20" '
                                   'fill="{}"><title>{} {}: {}</title></rect>').format(
                    x, y, w, color(keys.index(k)), name, k, parts[k]))
            x += w
    legend_y = 24 + len(rows) * 26
    for i, k in enumerate(keys):
        body.append(Markup('<text x="{}" y="{}" font-size="12"><tspan fill="{}">■</tspan> {}'
                           "</text>").format(150 + (i % 4) * 150, legend_y + (i // 4) * 16,
                                             color(i), k))
    return _svg(width, legend_y + 20 + (len(keys) // 4) * 16, body, label)


def week_strip(weeks: dict[str, dict[date, int]], label: str, width: int = 760) -> Markup:
    """On-topic articles per outlet per week: one row per outlet over a shared time axis."""
    days = [d for per in weeks.values() for d in per]
    if not days:
        return _svg(width, 30, [Markup('<text x="0" y="20">No dated on-topic articles yet.'
                                       "</text>")], label)
    start, end = min(days), max(days) + timedelta(days=7)
    span = max((end - start).days, 7)
    peak = max(n for per in weeks.values() for n in per.values())
    body = []
    for r, (name, per) in enumerate(weeks.items()):
        y = 10 + r * 34
        body.append(Markup('<text x="0" y="{}" font-size="12">{}</text>').format(y + 20, name))
        body.append(Markup('<line x1="150" y1="{}" x2="{}" y2="{}" stroke="#ddd"/>').format(
            y + 28, width - 10, y + 28))
        for d, n in per.items():
            x = 150 + (width - 165) * (d - start).days / span
            h = 26 * n / peak
            body.append(Markup('<rect x="{:.1f}" y="{:.1f}" width="4" height="{:.1f}" '
                               'fill="{}"><title>{}, week of {}: {}</title></rect>').format(
                x, y + 28 - h, h, color(r), name, d.isoformat(), n))
    axis_y = 20 + len(weeks) * 34
    for year in range(start.year, end.year + 1):
        d = max(date(year, 1, 1), start)
        x = 150 + (width - 165) * (d - start).days / span
        body.append(Markup('<text x="{:.1f}" y="{}" font-size="11">{}</text>').format(
            x, axis_y, year))
    return _svg(width, axis_y + 10, body, label)


def query_link(datasette: Any, db: str, sql: str, fmt: str = "") -> str:
    """A link to run this SQL in Datasette (HTML, .csv or .json)."""
    return datasette.urls.database(db) + (f".{fmt}" if fmt else "") + "?" + urlencode(
        {"sql": sql, **({"_shape": "array"} if fmt == "json" else {})})


async def charts(datasette: Any, request: Any) -> Response:
    """The charts page: coverage over time, shares by language and kind, crawl health."""
    db = datasette.get_database()
    r = {k: list(await db.execute(sql)) for k, sql in SQL.items()}
    weeks: dict[str, dict[date, int]] = {}
    for row in r["weekly"]:
        try:
            day = date.fromisoformat(row["first_day"])
        except (TypeError, ValueError):
            continue
        monday = day - timedelta(days=day.weekday())
        per = weeks.setdefault(row["source_id"] or "?", {})
        per[monday] = per.get(monday, 0) + row["n"]
    outcomes: dict[str, dict[str, int]] = {}
    for row in r["outcomes"]:
        outcomes.setdefault(row["source_id"] or "?", {})[row["outcome"]] = row["n"]
    runs = r["runs"]
    charts_ = [
        ("weekly", "On-topic articles per outlet per week",
         week_strip(weeks, "On-topic articles per outlet per week")),
        ("lang", "Share of articles by language",
         share_bar([(x["label"], x["n"]) for x in r["lang"]], "Share by language")),
        ("kind", "Share of articles by outlet kind",
         share_bar([(x["label"], x["n"]) for x in r["kind"]], "Share by outlet kind")),
        ("runs", "Crawl health: each crawl run",
         grouped_bars([f"run {x['id']}" for x in runs],
                      {"requests": [x["requests"] or 0 for x in runs],
                       "errors": [x["errors"] or 0 for x in runs],
                       "extraction failures": [x["extraction_failures"] or 0 for x in runs],
                       "new articles": [x["articles_new"] or 0 for x in runs]},
                      "Crawl runs")),
        ("outcomes", "Crawl health: page outcomes per outlet",
         stacked_rows(outcomes, "Page outcomes per outlet")),
    ]
    items = [{"id": key, "title": title, "svg": svg,
              "sql": query_link(datasette, db.name, SQL[key]),
              "csv": query_link(datasette, db.name, SQL[key], "csv"),
              "json": query_link(datasette, db.name, SQL[key], "json")}
             for key, title, svg in charts_]
    html = await datasette.render_template("mw_charts.html", {"charts": items, "db": db.name},
                                           request=request)
    return Response.html(html)


@hookimpl
def register_routes() -> list[tuple[str, Any]]:
    """/charts."""
    return [(r"^/charts$", charts)]


__all__ = ["escape", "stacked_rows", "share_bar", "grouped_bars", "week_strip"]
