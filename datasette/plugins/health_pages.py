"""Datasette plugin: /health (every outlet's health and open alerts) and /health/<outlet>.

The rows come from the `health`, `alerts` and `canaries` tables that each crawl run writes
(crawler.ops.health, crawler.ops.alerts). Charts are server-side SVG like the /charts page; alert
reasons quote scraped titles, so every value is escaped (Markup.format / autoescaping).
"""

from __future__ import annotations

from typing import Any

from datasette.utils.asgi import NotFound, Response
from markupsafe import Markup

from datasette import hookimpl

RUNS_SHOWN = 60


def _svg(width: int, height: int, body: list[Markup], label: str) -> Markup:
    return Markup('<svg class="mw-chart" role="img" aria-label="{}" viewBox="0 0 {} {}" '
                  'width="{}" height="{}" xmlns="http://www.w3.org/2000/svg">{}</svg>').format(
        label, width, height, width, height, Markup("").join(body))


def health_chart(rows: list[dict[str, Any]], label: str, width: int = 360,
                 height: int = 110) -> Markup:
    """Runs as bars of new articles, with baseline, failure share and alert marks."""
    if not rows:
        return _svg(width, 30, [Markup('<text x="0" y="20" font-size="12">No health rows yet.'
                                       "</text>")], label)
    top, base = 8, height - 22
    peak = max([r["articles_24h"] for r in rows] + [r["baseline_per_day"] or 0 for r in rows]
               + [1])
    slot = (width - 40) / len(rows)
    body = [Markup('<line x1="30" y1="{}" x2="{}" y2="{}" stroke="#999"/>').format(
        base, width - 8, base),
        Markup('<text x="0" y="{}" font-size="10">{}</text>').format(top + 8, peak)]
    baseline, failures = [], []
    for i, r in enumerate(rows):
        x = 32 + i * slot
        h = (base - top) * r["articles_24h"] / peak
        body.append(Markup('<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" '
                           'fill="#1f6f8b"><title>run {} ({}): {} new in 24 h, baseline {}, '
                           "{} of {} fetches failed</title></rect>").format(
            x, base - h, max(slot * 0.7, 1), h, r["run_id"], r["computed_at"],
            r["articles_24h"], r["baseline_per_day"] if r["baseline_per_day"] is not None
            else "n/a", r["failures"], r["fetches"]))
        if r["baseline_per_day"] is not None:
            y = base - (base - top) * r["baseline_per_day"] / peak
            baseline.append(f"{x + slot * 0.35:.1f},{y:.1f}")
        if r["failure_share"] is not None:
            y = base - (base - top) * r["failure_share"]  # 0..1 over the full height
            failures.append(f"{x + slot * 0.35:.1f},{y:.1f}")
        if r["open_alerts"]:
            body.append(Markup('<circle cx="{:.1f}" cy="{}" r="3" fill="#c0392b">'
                               "<title>{} open alert(s)</title></circle>").format(
                x + slot * 0.35, base + 8, r["open_alerts"]))
    for points, colour in ((baseline, "#888"), (failures, "#c0392b")):
        if len(points) > 1:
            body.append(Markup('<polyline fill="none" stroke="{}" stroke-width="1.5" '
                               'points="{}"/>').format(colour, " ".join(points)))
    body.append(Markup('<text x="30" y="{}" font-size="10">■ new articles/24 h  — baseline  '
                       '<tspan fill="#c0392b">— failed share ● alert</tspan></text>').format(
        height - 2))
    return _svg(width, height, body, label)


async def _has_tables(db: Any) -> bool:
    rows = await db.execute("select count(*) from sqlite_master where name in "
                            "('health', 'alerts', 'canaries')")
    return list(rows)[0][0] == 3


async def _history(db: Any, oid: str) -> list[dict[str, Any]]:
    rows = [dict(r) for r in await db.execute(
        "select * from health where source_id = ? order by run_id desc limit ?",
        [oid, RUNS_SHOWN])]
    return rows[::-1]


async def _render(datasette: Any, request: Any, template: str, ctx: dict[str, Any]) -> Response:
    ctx = {"db": datasette.get_database().name, **ctx}
    return Response.html(await datasette.render_template(template, ctx, request=request))


async def health_page(datasette: Any, request: Any) -> Response:
    """Every outlet: its latest health row, a chart of its runs, its open alerts."""
    db = datasette.get_database()
    if not await _has_tables(db):
        return await _render(datasette, request, "health.html", {"outlets": [], "alerts": [],
                                                                  "missing": True})
    outlets = []
    for s in await db.execute("select id, name, enabled from sources order by id"):
        history = await _history(db, s["id"])
        outlets.append({"id": s["id"], "name": s["name"], "enabled": s["enabled"],
                        "latest": history[-1] if history else None,
                        "chart": health_chart(history, f"Health of {s['name']}")})
    alerts = [dict(r) for r in await db.execute(
        "select * from alerts where cleared_at is null order by raised_at, id")]
    return await _render(datasette, request, "health.html",
                         {"outlets": outlets, "alerts": alerts, "missing": False})


FAILED = 50  # failed fetches listed on an outlet's health page


async def health_outlet_page(datasette: Any, request: Any) -> Response:
    """One outlet: chart, health per run, canaries, every alert raised and cleared."""
    db = datasette.get_database()
    oid = request.url_vars["id"]
    rows = list(await db.execute("select id, name from sources where id = ?", [oid]))
    if not rows or not await _has_tables(db):
        raise NotFound(f"No health for outlet {oid}")
    history = await _history(db, oid)
    canaries = [dict(r) for r in await db.execute(
        "select * from canaries where source_id = ? order by url", [oid])]
    alerts = [dict(r) for r in await db.execute(
        "select * from alerts where source_id = ? order by raised_at desc, id desc limit 200",
        [oid])]
    # The URLs behind the counts above (index pages_source_outcome, newest first).
    failed = [dict(r) for r in await db.execute(
        "select url, status, outcome, error, last_fetched_at, fetch_count from pages "
        "where source_id = ? and outcome in ('http_error', 'network_error', 'dropped', "
        "'too_large', 'parse_error') order by last_fetched_at desc limit ?", [oid, FAILED])]
    return await _render(datasette, request, "health_outlet.html", {
        "failed": failed, "failed_limit": FAILED,
        "s": dict(rows[0]), "chart": health_chart(history, f"Health of {rows[0]['name']}",
                                                  width=760, height=200),
        "history": history[::-1], "canaries": canaries, "alerts": alerts})


@hookimpl
def register_routes() -> list[tuple[str, Any]]:
    """/health and /health/<outlet>."""
    return [(r"^/health$", health_page), (r"^/health/(?P<id>[^/]+)$", health_outlet_page)]


@hookimpl
def canned_queries(datasette: Any, database: str, actor: Any) -> dict[str, Any]:
    """Health and alerts as SQL, for export (CSV, JSON) and ad-hoc checks."""
    return {
        "open_alerts": {
            "title": "Open alerts (raised, not yet cleared)",
            "sql": "select source_id, rule, subject, raised_at, last_seen_at, reason, link "
                   "from alerts where cleared_at is null order by raised_at",
        },
        "alert_history": {
            "title": "Every alert, raised and cleared, for one outlet (or all)",
            "sql": "select source_id, rule, subject, raised_at, cleared_at, reason, delivered "
                   "from alerts where (:source = '' or source_id = :source) "
                   "order by raised_at desc",
        },
        "health_latest": {
            "title": "Latest health row per outlet",
            "sql": "select h.* from health h join (select source_id, max(run_id) as run_id "
                   "from health group by source_id) l using (source_id, run_id) "
                   "order by h.source_id",
        },
    }
