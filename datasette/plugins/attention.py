"""Datasette plugin: attention over time for any query — /-/attention(.json|.csv|.svg).

Counting lives in crawler/search/attention.py (shared with the bench and the tests); this module
draws it: one chart per outlet or language (small multiples) or one chart with a line per
query, the numbers in a table under each chart, every point a link to the search it counts
(that period, that outlet or language, the same filters), top outlets and languages per
query, and the distinctive terms of the matches (crawler/search/attention_terms.py), fetched
after the page by datasette/static/mw_charts.js (a plain link without JavaScript).
Every label comes from the archive or the request: autoescaped, never marked safe.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from datasette.utils import sqlite_timelimit
from datasette.utils.asgi import Response

from crawler.clock import now
from crawler.ops.watch import watch_command
from crawler.search.attention import (
    BYS,
    CSV_COLUMNS,
    INTERVALS,
    MAX_QUERIES,
    AttentionError,
    AttentionRequest,
    attention,
    csv_rows,
    language_label,
    parse_request,
    period_bounds,
)
from crawler.search.attention_terms import distinctive_terms, languages_of_matches
from crawler.search.query import explain
from datasette import hookimpl


def _sibling(name: str) -> Any:
    """Sibling plugin modules are not importable by name; load one by path."""
    spec = importlib.util.spec_from_file_location(f"mw_{name}",
                                                  Path(__file__).with_name(f"{name}.py"))
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


charts = _sibling("pages_charts")
pages = _sibling("pages_archive")
UNITS = {"day": "day", "week": "week (starting Monday)", "month": "month"}
# Counting every article of a long range is a scan of it: on a million articles ten years
# take seconds, more than Datasette's default limit for one statement. Never less than it.
TIME_LIMIT_MS = 20_000


def search_href(doc: dict[str, Any], req: AttentionRequest, query: int, key: str,
                period: str) -> str | None:
    """The /search that lists the articles counted at one point."""
    f = req.filters
    assert f.date_from and f.date_to
    first, last = period_bounds(period, req.interval)
    override: dict[str, Any] = {"from": max(first, f.date_from).isoformat(),
                                "to": min(last, f.date_to).isoformat()}
    if req.by == "outlet":
        override["source"] = [key]
    elif req.by == "language":
        if key == "und":
            return None
        override["lang"] = [key]
    args = [("q", doc["queries"][query]["q"]), *f.args(**override)]
    return "/search?" + urlencode(args)


def _tip(q: str, label: str, period: str, p: dict[str, Any]) -> str:
    return (f"{q} — {label}, {period}: {p['matches']:,} of {p['total']:,} articles "
            f"({p['share']:.1%})")


def build_charts(doc: dict[str, Any], req: AttentionRequest, metric: str) -> list[dict[str, Any]]:
    """One chart (with its table rows) per outlet/language, or one for the whole selection."""
    percent = metric == "share"
    y_label = ("share of its articles" if req.by == "outlet" else
               "share of articles in that language" if req.by == "language" else
               "share of all articles") if percent else "matching articles"
    x_label = f"{UNITS[req.interval]} of publication"
    per_key: dict[str, list[dict[str, Any]]] = {}
    for s in doc["series"]:
        per_key.setdefault(s["key"], []).append(s)
    out = []
    small = req.by != "none"
    for key, series in per_key.items():
        label = series[0]["label"]
        lines = []
        for s in series:
            q = doc["queries"][s["query"]]["q"]
            lines.append(charts.Line(
                name=q, style=s["query"],
                values=[p["share"] if percent else p["matches"] for p in s["points"]],
                tips=[_tip(q, label, p["period"], p) for p in s["points"]],
                hrefs=[search_href(doc, req, s["query"], key, p["period"]) if p["matches"]
                       else None for p in s["points"]]))
        svg = charts.line_chart(doc["periods"], lines, f"Attention: {label}", x_label, y_label,
                                percent=percent, width=560 if small else 900,
                                height=260 if small else 340)
        rows = []
        for j, period in enumerate(doc["periods"]):
            cells = [{"matches": s["points"][j]["matches"], "share": s["points"][j]["share"],
                      "href": lines[i].hrefs[j]} for i, s in enumerate(series)]
            rows.append({"period": period, "total": series[0]["points"][j]["total"],
                         "cells": cells})
        out.append({"key": key, "label": label, "svg": svg, "rows": rows,
                    "matches": sum(p["matches"] for s in series for p in s["points"])})
    return out


def _error(message: str, fmt: str) -> Response:
    if fmt == "json":
        return Response.json({"ok": False, "error": message}, status=400)
    return Response.text(f"Bad request: {message}\n", status=400)


def _limit(datasette: Any) -> int:
    return max(int(datasette.setting("sql_time_limit_ms")), TIME_LIMIT_MS)


async def _compute(datasette: Any, req: AttentionRequest) -> dict[str, Any]:
    db = datasette.get_database()
    limit = _limit(datasette)
    today = now().date()

    def run(conn: sqlite3.Connection) -> dict[str, Any]:
        with sqlite_timelimit(conn, limit):
            return attention(conn, req, today)

    result: dict[str, Any] = await db.execute_fn(run)
    return result


async def attention_view(datasette: Any, request: Any) -> Response:
    """/-/attention and its .json, .csv and .svg forms (same parameters)."""
    fmt = request.url_vars.get("format") or ""
    try:
        req = parse_request(request.args.getlist)
    except AttentionError as exc:
        if fmt:
            return _error(str(exc), fmt)
        return await _page(datasette, request, None, None, str(exc), status=400)
    if not req.queries:
        if fmt:
            return _error("give at least one query: q=…", fmt)
        return await _page(datasette, request, req, None, None)
    try:
        doc = await _compute(datasette, req)
    except AttentionError as exc:
        return _error(str(exc), fmt) if fmt else await _page(
            datasette, request, req, None, str(exc), status=400)
    except sqlite3.OperationalError as exc:  # an FTS5 syntax error, or the time limit
        message = (f"counting took longer than {_limit(datasette) // 1000} s: choose a shorter "
                   "range, fewer outlets or a narrower query" if "interrupt" in str(exc) else
                   f"the query could not be run: {exc}")
        return _error(message, fmt) if fmt else await _page(
            datasette, request, req, None, message, status=400)
    if fmt == "json":
        return Response.json(doc)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        writer.writerows(csv_rows(doc))
        return Response(out.getvalue(), content_type="text/csv; charset=utf-8",
                        headers={"content-disposition": 'attachment; filename="attention.csv"'})
    req = _resolved(req, doc)
    metric = "share" if request.args.get("metric") == "share" else "count"
    if fmt == "svg":
        key = request.args.get("key") or ""
        for chart in build_charts(doc, req, metric):
            if chart["key"] == key or not key:
                return charts.svg_file(chart["svg"])
        return _error(f"no chart for key={key!r}", fmt)
    return await _page(datasette, request, req, doc, None)


def _resolved(req: AttentionRequest, doc: dict[str, Any]) -> AttentionRequest:
    """The request with the date range the document was computed for."""
    from datetime import date

    f = req.filters
    filters = type(f)(f.langs, f.sources, f.on_topic, f.literal, f.independent,
                      date.fromisoformat(doc["from"]), date.fromisoformat(doc["to"]))
    return AttentionRequest(req.queries, req.by, req.interval, filters)


async def _page(datasette: Any, request: Any, req: AttentionRequest | None,
                doc: dict[str, Any] | None, error: str | None, status: int = 200) -> Response:
    db = datasette.get_database()
    outlets = [tuple(r) for r in await db.execute("select id, name from sources order by name")]
    langs = [r[0] for r in await db.execute(pages.LANGUAGES_SQL)]
    raw = request.args
    ctx: dict[str, Any] = {
        "db": db.name, "error": error, "doc": doc, "req": req, "outlets": outlets,
        "langs": [(code, language_label(code)) for code in langs],
        "queries": (list(req.queries) if req else raw.getlist("q")) + [""] * MAX_QUERIES,
        "max_queries": MAX_QUERIES, "bys": BYS, "intervals": INTERVALS,
        "metric": "share" if raw.get("metric") == "share" else "count",
        "form": {"by": raw.get("by") or "outlet", "interval": raw.get("interval") or "month",
                 "from": raw.get("from") or "", "to": raw.get("to") or "",
                 "lang": raw.getlist("lang"), "source": raw.getlist("source"),
                 "literal": raw.get("literal") == "1", "on_topic": raw.get("on_topic") == "1",
                 "independent": raw.get("independent") == "1",
                 "access": raw.getlist("access")},
        "colors": charts.PALETTE, "dashes": charts.DASHES, "markers": charts.MARKERS,
    }
    if doc is not None and req is not None:
        ctx["form"].update({"from": doc["from"], "to": doc["to"]})  # the range drawn
        f = req.filters
        base = [("q", q) for q in req.queries] + [("by", req.by), ("interval", req.interval)]
        args = base + f.args()
        ctx.update({
            "charts": build_charts(doc, req, ctx["metric"]),
            "links": {fmt: f"/-/attention.{fmt}?{urlencode(args)}" for fmt in ("json", "csv")},
            "self_args": lambda **kw: urlencode(
                [(k, v) for k, v in args + [("metric", ctx["metric"])] if k not in kw]
                + [(k, v) for k, v in kw.items() if v]),
            "svg_href": lambda key: f"/-/attention.svg?{urlencode(args + [('metric', ctx['metric']), ('key', key)])}",
            "terms_href": lambda i: f"/-/attention/terms?{urlencode(base + f.args() + [('i', str(i))])}",
            "search_href": lambda q: "/search?" + urlencode([("q", q), *f.args()]),
            "clauses": [explain(q, literal=f.literal) for q in req.queries],
            "same": same_searches(req.queries, [f.expand(q) for q in req.queries]),
            "watch_cmd": [watch_command(q, f) for q in req.queries],
        })
    html = await datasette.render_template("mw_attention.html", ctx, request=request)
    return Response.html(html, status=status)


def same_searches(queries: Sequence[str], expanded: Sequence[str | None]) -> list[list[str]]:
    """Groups of queries that search exactly the same thing ("Artsakh" and "Нагорный Карабах"
    both expand to every spelling of the region): their lines coincide, which the page says."""
    groups: dict[str, list[str]] = {}
    for q, expr in zip(queries, expanded, strict=True):
        if expr:
            groups.setdefault(expr, []).append(q)
    return [g for g in groups.values() if len(g) > 1]


async def terms_view(datasette: Any, request: Any) -> Response:
    """Distinctive terms of one query's matches per language (an HTML fragment or page)."""
    try:
        req = parse_request(request.args.getlist)
        i = int(request.args.get("i") or 0)
        if not 0 <= i < len(req.queries):
            raise AttentionError("i= must name one of the queries (0 for the first)")
    except (AttentionError, ValueError) as exc:
        return _error(str(exc), "")
    db = datasette.get_database()
    today = now().date()
    limit = _limit(datasette)

    def run(conn: sqlite3.Connection) -> list[dict[str, Any]]:
        from crawler.search.attention import resolve_range

        with sqlite_timelimit(conn, limit):
            resolved = resolve_range(conn, req, today)
            fts = resolved.filters.fts(resolved.expanded()[i])
            return [dict(distinctive_terms(conn, fts, resolved.filters, lang), label=language_label(lang))
                    for lang, _n in languages_of_matches(conn, fts, resolved.filters)[:3]]

    try:
        groups = await db.execute_fn(run)
    except (AttentionError, sqlite3.OperationalError) as exc:
        return _error(str(exc), "")
    ctx = {"db": db.name, "groups": groups, "q": req.queries[i],
           "fragment": request.args.get("fragment") == "1"}
    html = await datasette.render_template("mw_attention_terms.html", ctx, request=request)
    return Response.html(html)


@hookimpl
def register_routes() -> list[tuple[str, Any]]:
    """/-/attention, .json, .csv, .svg, and the terms fragment."""
    return [(r"^/-/attention(\.(?P<format>json|csv|svg))?$", attention_view),
            (r"^/-/attention/terms$", terms_view)]
