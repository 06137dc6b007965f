"""Datasette plugin: the /charts page, and server-drawn SVG charts used by other pages.

Charts are drawn here as SVG (no CDN, nothing fetched by the browser): they render in any
browser, print, and stay readable in screenshots. Each has a labelled axis or two, a legend,
ticks spaced so they never overlap, colours from Okabe & Ito's colour-blind-safe palette
(lines also differ by dash and marker), a `<title>` on every mark (the hover value, without
JavaScript) and a white background so that a downloaded SVG or PNG reads the same. Every
label is escaped; each chart links to the SQL behind it and downloads as SVG
(`/charts/<id>.svg`); datasette/static/mw_charts.js adds a PNG button where scripts run.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from datasette.utils.asgi import NotFound, Response
from markupsafe import Markup, escape

from datasette import hookimpl

# Okabe & Ito (2008), "Color Universal Design": distinguishable with any colour vision.
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000",
           "#999999", "#8C6D31", "#7B4173"]
DASHES = ["", "7 3", "2 3", "9 3 2 3"]
MARKERS = ("circle", "square", "triangle", "diamond")
FONT = "system-ui, -apple-system, Segoe UI, Roboto, Noto Sans, DejaVu Sans, sans-serif"

SQL = {
    "weekly": """select source_id, strftime('%Y-%W', substr(published, 1, 10)) as week,
  min(substr(published, 1, 10)) as first_day, count(*) as n
from articles where on_topic = 1 and published is not null
group by source_id, week order by week""",
    # Grouped by the indexed column itself, in index order (no temporary B-tree; grouping
    # by the coalesce() took four to five times as long: 190 -> 46 ms at 1M articles).
    "lang": "select coalesce(lang, '?') as label, n from (select lang, count(*) as n "
            "from articles group by lang) order by n desc",
    "kind": "select coalesce(source_kind, '?') as label, n from (select source_kind, "
            "count(*) as n from articles group by source_kind) order by n desc",
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
                  'width="{}" height="{}" xmlns="http://www.w3.org/2000/svg" '
                  'font-family="{}"><title>{}</title>'
                  '<rect class="mw-bg" width="100%" height="100%" fill="#fff"/>{}</svg>').format(
        label, width, height, width, height, FONT, label, Markup("").join(body))


def svg_file(chart: Markup) -> Response:
    """A chart as a standalone, downloadable SVG file."""
    body = '<?xml version="1.0" encoding="UTF-8"?>\n' + str(chart)
    return Response(body, content_type="image/svg+xml; charset=utf-8")


def _text(x: float, y: float, label: Any, size: int = 11, anchor: str = "start",
          extra: str = "") -> Markup:
    return Markup('<text x="{:.1f}" y="{:.1f}" font-size="{}" text-anchor="{}"{}>{}</text>'
                  ).format(x, y, size, anchor, Markup(extra), label)


ROW_LABEL_CHARS = 24  # what fits the 184 px left of a row chart at 12 px, in any script


def _row_label(x: float, y: float, name: str) -> Markup:
    """An outlet's name left of its row, cut with "…" to fit the margin (the whole name in
    the tooltip): a long name ran past the chart's left edge."""
    shown = name if len(name) <= ROW_LABEL_CHARS else name[:ROW_LABEL_CHARS - 1].rstrip() + "…"
    return Markup('<text x="{:.1f}" y="{:.1f}" font-size="12" text-anchor="end">'
                  "<title>{}</title>{}</text>").format(x, y, name, shown)


def nice_ticks(peak: float, count: int = 4, integer: bool = False) -> list[float]:
    """Round tick values from 0 to at least peak (1, 2, 2.5 or 5 times a power of ten);
    whole numbers only for counts."""
    if peak <= 0:
        return [0.0, 1.0]
    raw = peak / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    if integer:
        step = max(1.0, math.ceil(step))
    return [i * step for i in range(int(math.ceil(peak / step - 1e-9)) + 1)]


def spaced(positions: list[float], gap: float) -> list[int]:
    """Indexes of the positions to label so that labels stay `gap` apart (first kept)."""
    kept: list[int] = []
    for i, x in enumerate(positions):
        if not kept or x - positions[kept[-1]] >= gap:
            kept.append(i)
    return kept


def _fmt(value: float, percent: bool) -> str:
    if percent:
        pct = value * 100
        return f"{pct:.0f}%" if pct >= 10 or pct == 0 else f"{pct:.1f}%"
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"


def _marker(shape: str, x: float, y: float, r: float, fill: str) -> Markup:
    """A marker shape (numbers and a palette colour only: nothing to escape)."""
    if shape == "square":
        return Markup(f'<rect x="{x - r:.1f}" y="{y - r:.1f}" width="{2 * r:.1f}" '
                      f'height="{2 * r:.1f}" fill="{fill}"/>')
    if shape in ("triangle", "diamond"):
        pts = ([(x, y - r * 1.2), (x + r * 1.1, y + r * 0.8), (x - r * 1.1, y + r * 0.8)]
               if shape == "triangle" else
               [(x, y - r * 1.3), (x + r * 1.1, y), (x, y + r * 1.3), (x - r * 1.1, y)])
        return Markup('<polygon points="{}" fill="{}"/>'.format(
            " ".join(f"{a:.1f},{b:.1f}" for a, b in pts), fill))
    return Markup(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{fill}"/>')


class Line:
    """One series of a line chart: a value per period, with a hover text and link each.

    (A plain class: plugin modules are loaded by path, where @dataclass cannot resolve
    its module.)"""

    def __init__(self, name: str, values: list[float], tips: list[str] | None = None,
                 hrefs: list[str | None] | None = None, style: int = 0) -> None:
        self.name, self.values = name, values
        self.tips, self.hrefs = tips or [], hrefs or []
        self.style = style  # colour, dash and marker index (the query's number)


def line_chart(periods: list[str], lines: list[Line], label: str, x_label: str,
               y_label: str, percent: bool = False, width: int = 760,
               height: int = 280) -> Markup:
    """Lines over time with axes, ticks, a legend, hover values and a link on every point."""
    left, right = 58, 14
    legend, lx, ly = [], float(left), 14.0  # flowed legend: as many per row as fit
    for line in lines:
        w = 40 + 6.6 * len(line.name)
        if lx > left and lx + w > width - right:
            lx, ly = float(left), ly + 18
        legend.append((lx, ly))
        lx += w + 14
    top = int(ly) + 18
    bottom = height - 46
    peak = max([v for line in lines for v in line.values] + [0])
    ticks = nice_ticks(peak if peak > 0 else (0.01 if percent else 1), integer=not percent)
    y_max = ticks[-1] or 1
    n = max(len(periods), 1)
    step = (width - left - right) / max(n - 1, 1)

    def px(i: int) -> float:
        return left + (i * step if n > 1 else (width - left - right) / 2)

    def py(v: float) -> float:
        return bottom - (bottom - top) * v / y_max

    body: list[Markup] = []
    for t in ticks:  # horizontal grid and y tick labels
        body.append(Markup('<line x1="{}" y1="{:.1f}" x2="{}" y2="{:.1f}" stroke="{}"/>').format(
            left, py(t), width - right, py(t), "#888" if t == 0 else "#e3e3e3"))
        body.append(_text(left - 6, py(t) + 4, _fmt(t, percent), 11, "end"))
    for i in spaced([px(i) for i in range(n)], 62):  # x ticks that never overlap
        body.append(Markup('<line x1="{:.1f}" y1="{}" x2="{:.1f}" y2="{}" stroke="#888"/>'
                           ).format(px(i), bottom, px(i), bottom + 4))
        anchor = ("end" if px(i) + 30 > width else "start" if px(i) - 30 < 0 else "middle")
        body.append(_text(px(i), bottom + 17, periods[i] if i < len(periods) else "", 11,
                          anchor))
    body.append(_text((left + width - right) / 2, height - 8, x_label, 12, "middle"))
    body.append(_text(14, (top + bottom) / 2, y_label, 12, "middle",
                      f' transform="rotate(-90 14 {(top + bottom) / 2:.1f})"'))
    r = 4.0 if n <= 40 else 3.0 if n <= 120 else 2.0
    for k, line in enumerate(lines):
        style = line.style if line.style >= 0 else k
        colour, dash = color(style), DASHES[style % len(DASHES)]
        pts = " ".join(f"{px(i):.1f},{py(v):.1f}" for i, v in enumerate(line.values))
        body.append(Markup('<polyline fill="none" stroke="{}" stroke-width="2" '
                           'stroke-dasharray="{}" points="{}"/>').format(colour, dash, pts))
        shape = MARKERS[style % len(MARKERS)]
        points = []  # the hot loop (a point per period, line and chart): plain strings,
        for i, v in enumerate(line.values):  # every text escaped explicitly
            tip = line.tips[i] if i < len(line.tips) else f"{line.name} {periods[i]}: {v}"
            mark = f"{_marker(shape, px(i), py(v), r, colour)}<title>{escape(tip)}</title>"
            href = line.hrefs[i] if i < len(line.hrefs) else None
            points.append(f'<a class="mw-point" href="{escape(href)}">{mark}</a>' if href
                          else f'<g class="mw-point">{mark}</g>')
        body.append(Markup("".join(points)))
        lx, ly = legend[k]
        body.append(Markup('<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="2" '
                           'stroke-dasharray="{}"/>').format(lx, ly, lx + 26, ly, colour, dash))
        body.append(_marker(shape, lx + 13, ly, 3.5, colour))
        body.append(_text(lx + 32, ly + 4, line.name, 12))
    return _svg(width, height, body, label)


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
                 width: int = 760, x_label: str = "", y_label: str = "") -> Markup:
    """Vertical bars per category, one bar per series side by side, with y ticks."""
    height, top, base, left = 250, 12, 190, 58
    peak = max([v for vals in series.values() for v in vals] + [1])
    ticks = nice_ticks(peak, integer=True)
    y_max = ticks[-1] or 1
    slot = (width - left - 10) / max(len(categories), 1)
    bar = slot * 0.8 / max(len(series), 1)
    body: list[Markup] = []
    for t in ticks:
        y = base - (base - top) * t / y_max
        body.append(Markup('<line x1="{}" y1="{:.1f}" x2="{}" y2="{:.1f}" stroke="{}"/>').format(
            left, y, width - 10, y, "#888" if t == 0 else "#e3e3e3"))
        body.append(_text(left - 6, y + 4, _fmt(t, False), 11, "end"))
    for c, cat in enumerate(categories):
        for s, (name, vals) in enumerate(series.items()):
            h = (base - top) * vals[c] / y_max
            x = left + 4 + c * slot + s * bar
            body.append(Markup('<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" '
                               'fill="{}"><title>{} {}: {}</title></rect>').format(
                x, base - h, max(bar - 1, 1), h, color(s), cat, name, vals[c]))
    for c in spaced([left + 4 + c * slot for c in range(len(categories))], 62):
        body.append(_text(left + 4 + c * slot + slot * 0.4, base + 14, categories[c], 11,
                          "middle"))
    if x_label:
        body.append(_text((left + width) / 2, base + 32, x_label, 12, "middle"))
    if y_label:
        body.append(_text(14, (top + base) / 2, y_label, 12, "middle",
                          f' transform="rotate(-90 14 {(top + base) / 2:.1f})"'))
    for s, name in enumerate(series):
        body.append(Markup('<text x="{}" y="{}" font-size="12"><tspan fill="{}">■</tspan> {}'
                           "</text>").format(left + s * 170, height - 6, color(s), name))
    return _svg(width, height, body, label)


def stacked_rows(rows: dict[str, dict[str, int]], label: str, width: int = 760,
                 x_label: str = "") -> Markup:
    """One horizontal stacked bar per row (page outcomes per outlet)."""
    keys = sorted({k for parts in rows.values() for k in parts})
    peak = max([sum(p.values()) for p in rows.values()] + [1])
    body: list[Markup] = []
    for r, (name, parts) in enumerate(rows.items()):
        y, x = 10 + r * 26, 190.0
        body.append(_row_label(184, y + 14, name))
        for k in keys:
            w = (width - 200) * parts.get(k, 0) / peak
            if w:
                body.append(Markup('<rect x="{:.1f}" y="{}" width="{:.1f}" height="20" '
                                   'fill="{}"><title>{} {}: {}</title></rect>').format(
                    x, y, w, color(keys.index(k)), name, k, parts[k]))
            x += w
    legend_y = 24 + len(rows) * 26
    if x_label:
        body.append(_text(190, legend_y - 4, f"{x_label} (longest bar: {peak:,})", 11))
        legend_y += 16
    for i, k in enumerate(keys):
        body.append(Markup('<text x="{}" y="{}" font-size="12"><tspan fill="{}">■</tspan> {}'
                           "</text>").format(190 + (i % 4) * 140, legend_y + (i // 4) * 16,
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
    left = 190
    body = []
    for r, (name, per) in enumerate(weeks.items()):
        y = 10 + r * 34
        body.append(_row_label(left - 6, y + 20, name))
        body.append(Markup('<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#ccc"/>').format(
            left, y + 28, width - 10, y + 28))
        for d, n in per.items():
            x = left + (width - left - 15) * (d - start).days / span
            h = 26 * n / peak
            body.append(Markup('<rect x="{:.1f}" y="{:.1f}" width="4" height="{:.1f}" '
                               'fill="{}"><title>{}, week of {}: {}</title></rect>').format(
                x, y + 28 - h, h, color(r), name, d.isoformat(), n))
    axis_y = 24 + len(weeks) * 34
    years = [max(date(year, 1, 1), start) for year in range(start.year, end.year + 1)]
    xs = [left + (width - left - 15) * (d - start).days / span for d in years]
    for i in spaced(xs, 40):  # a year that starts right after the first label is skipped
        body.append(Markup('<line x1="{:.1f}" y1="{}" x2="{:.1f}" y2="{}" stroke="#888"/>'
                           ).format(xs[i], axis_y - 14, xs[i], axis_y - 9))
        body.append(_text(xs[i], axis_y, years[i].year, 11, "middle"))
    body.append(_text(left, axis_y + 18, f"week of publication (tallest bar: {peak} "
                      "on-topic articles in a week)", 12))
    return _svg(width, axis_y + 26, body, label)


def query_link(datasette: Any, db: str, sql: str, fmt: str = "") -> str:
    """A link to run this SQL in Datasette (HTML, .csv or .json)."""
    return datasette.urls.database(db) + (f".{fmt}" if fmt else "") + "?" + urlencode(
        {"sql": sql, **({"_shape": "array"} if fmt == "json" else {})})


async def outlet_names(db: Any) -> dict[str, str]:
    """Outlet id -> the registry's display name."""
    return {r[0]: r[1] or r[0] for r in await db.execute("select id, name from sources")}


async def _charts(datasette: Any) -> list[tuple[str, str, Markup]]:
    db = datasette.get_database()
    names = await outlet_names(db)
    r = {k: list(await db.execute(sql)) for k, sql in SQL.items()}
    weeks: dict[str, dict[date, int]] = {}
    for row in r["weekly"]:
        try:
            day = date.fromisoformat(row["first_day"])
        except (TypeError, ValueError):
            continue
        monday = day - timedelta(days=day.weekday())
        per = weeks.setdefault(names.get(row["source_id"], row["source_id"] or "?"), {})
        per[monday] = per.get(monday, 0) + row["n"]
    outcomes: dict[str, dict[str, int]] = {}
    for row in r["outcomes"]:
        outlet = names.get(row["source_id"], row["source_id"] or "?")
        outcomes.setdefault(outlet, {})[row["outcome"]] = row["n"]
    runs = r["runs"]
    return [
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
                      "Crawl runs", x_label="crawl run", y_label="count")),
        ("outcomes", "Crawl health: page outcomes per outlet",
         stacked_rows(outcomes, "Page outcomes per outlet", x_label="pages by outcome")),
    ]


async def charts(datasette: Any, request: Any) -> Response:
    """The charts page: coverage over time, shares by language and kind, crawl health."""
    db = datasette.get_database()
    items = [{"id": key, "title": title, "svg": svg,
              "sql": query_link(datasette, db.name, SQL[key]),
              "csv": query_link(datasette, db.name, SQL[key], "csv"),
              "json": query_link(datasette, db.name, SQL[key], "json"),
              "download": f"/charts/{key}.svg"}
             for key, title, svg in await _charts(datasette)]
    html = await datasette.render_template("mw_charts.html", {"charts": items, "db": db.name},
                                           request=request)
    return Response.html(html)


async def chart_svg(datasette: Any, request: Any) -> Response:
    """One chart of /charts as a standalone SVG file."""
    wanted = request.url_vars["id"]
    for key, _title, svg in await _charts(datasette):
        if key == wanted:
            return svg_file(svg)
    raise NotFound(f"No chart {wanted}")


@hookimpl
def register_routes() -> list[tuple[str, Any]]:
    """/charts and each chart as SVG."""
    return [(r"^/charts$", charts), (r"^/charts/(?P<id>[a-z]+)\.svg$", chart_svg)]


__all__ = ["escape", "stacked_rows", "share_bar", "grouped_bars", "week_strip", "line_chart"]
