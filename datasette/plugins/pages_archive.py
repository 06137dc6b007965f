"""Datasette plugin: the pages people use — /search, /article/<id>, /outlets, /outlet/<id>.

Every value from the archive is scraped and therefore hostile: templates rely on Jinja's
autoescaping (never `|safe` on archive data), highlighted snippets are escaped before their
match markers become <mark>, and only http(s) URLs ever become links.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from datasette.utils.asgi import NotFound, Response
from markupsafe import Markup, escape

from crawler.search import expand_query, explain
from datasette import hookimpl

_here = Path(__file__).resolve().parent
# Sibling plugin modules are not importable by name; load the chart helpers by path.
_spec = importlib.util.spec_from_file_location("mw_pages_charts", _here / "pages_charts.py")
assert _spec and _spec.loader
charts = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(charts)

MARK_OPEN, MARK_CLOSE = "\u27e6", "\u27e7"
PAGE_SIZE = 20
FAILURES = ("empty", "not_article", "extraction_error")


def highlight(value: str | None) -> Markup:
    """Escape first, then turn the snippet markers into <mark>."""
    safe = str(escape(value or ""))
    return Markup(safe.replace(MARK_OPEN, "<mark>").replace(MARK_CLOSE, "</mark>"))


def safe_url(url: str | None) -> str | None:
    """The URL if it may be a link target (http or https), else None."""
    if url and urlsplit(url.strip()).scheme.lower() in ("http", "https"):
        return url.strip()
    return None


async def _table_exists(db: Any, name: str) -> bool:
    rows = await db.execute("select 1 from sqlite_master where type in ('table', 'view') "
                            "and name = ?", [name])
    return bool(list(rows))


async def _render(datasette: Any, request: Any, template: str, ctx: dict[str, Any]) -> Response:
    ctx = {"db": datasette.get_database().name, "safe_url": safe_url, **ctx}
    return Response.html(await datasette.render_template(template, ctx, request=request))


async def search_page(datasette: Any, request: Any) -> Response:
    """Ranked multilingual search with highlighted snippets and filters."""
    db = datasette.get_database()
    q = request.args.get("q", "").strip()
    literal = (request.args.get("literal") or "") in ("1", "on")
    lang, source = request.args.get("lang") or "", request.args.get("source") or ""
    on_topic = request.args.get("on_topic") or ""
    page = max(int(request.args.get("page", "1") or 1) if
               (request.args.get("page") or "1").isdigit() else 1, 1)
    expr = expand_query(q, literal=literal) if q else None
    ctx: dict[str, Any] = {"q": q, "literal": literal, "lang": lang, "source": source,
                           "on_topic": on_topic, "hits": [], "total": 0, "by_lang": [],
                           "page": page, "expr": expr, "clauses": explain(q, literal=literal)
                           if q else [], "page_size": PAGE_SIZE}
    if expr:
        where, params = ["articles_fts match :expr"], {"expr": expr}
        for col, value in (("a.lang", lang), ("a.source_id", source), ("a.on_topic", on_topic)):
            if value:
                where.append(f"{col} = :{col.split('.')[1]}")
                params[col.split(".")[1]] = value
        base = ("from articles_fts join articles a on a.rowid = articles_fts.rowid "
                "left join sources s on s.id = a.source_id where " + " and ".join(where))
        rows = await db.execute(
            "select a.id, a.title, a.source_id, s.name as outlet, s.kind, a.lang, a.published, "
            "a.url, a.on_topic, highlight(articles_fts, 0, '\u27e6', '\u27e7') as title_hl, "
            "snippet(articles_fts, 1, '\u27e6', '\u27e7', ' … ', 30) as snippet "
            f"{base} order by bm25(articles_fts, 10.0, 1.0), a.published desc "
            f"limit {PAGE_SIZE} offset {(page - 1) * PAGE_SIZE}", params)
        # The highlighted title is the normalised one: show it only when it marks a match.
        ctx["hits"] = [dict(r, title_hl=highlight(r["title_hl"] if MARK_OPEN in
                                                  (r["title_hl"] or "") else r["title"]),
                            snippet=highlight(r["snippet"])) for r in rows]
        ctx["total"] = list(await db.execute(f"select count(*) {base}", params))[0][0]
        ctx["by_lang"] = [tuple(r) for r in await db.execute(
            f"select a.lang, count(*) {base} group by a.lang order by count(*) desc", params)]
        export = {"_search": q, **({"_mw_literal": "1"} if literal else {}),
                  **({"lang": lang} if lang else {}), **({"source_id": source} if source else {}),
                  **({"on_topic": on_topic} if on_topic else {})}
        table = datasette.urls.table(db.name, "articles")
        ctx["exports"] = {fmt: f"{table}{ext}?{urlencode(export)}" for fmt, ext in
                          (("table", ""), ("csv", ".csv"), ("json", ".json"))}
        ctx["exports"]["json"] += "&_shape=objects"
    ctx["outlets"] = [tuple(r) for r in await db.execute("select id, name from sources "
                                                         "order by name")]
    ctx["langs"] = [r[0] for r in await db.execute(
        "select distinct lang from articles where lang is not null order by lang")]
    ctx["self_args"] = lambda **kw: urlencode({k: v for k, v in {
        "q": q, "literal": "1" if literal else "", "lang": lang, "source": source,
        "on_topic": on_topic, **kw}.items() if v})
    return await _render(datasette, request, "mw_search.html", ctx)


async def article_page(datasette: Any, request: Any) -> Response:
    """One article: facts with their provenance, the clean text, versions, related copies."""
    db = datasette.get_database()
    aid = request.url_vars["id"]
    rows = list(await db.execute("select * from articles where id = ?", [aid]))
    if not rows:
        raise NotFound(f"No article {aid}")
    art = dict(rows[0])
    src = list(await db.execute("select * from sources where id = ?", [art["source_id"]]))
    dates = [dict(r) for r in await db.execute(
        "select kind, value, source from article_dates where article_id = ? "
        "order by kind desc, value", [aid])]
    try:
        terms = json.loads(art.get("topic_terms") or "{}")
    except ValueError:
        terms = {}
    versions: list[dict[str, Any]] = []
    if await _table_exists(db, "article_versions"):
        versions = [{k: v for k, v in dict(r).items() if k not in ("text", "search_text")}
                    for r in await db.execute(
                        "select * from article_versions where article_id = ?", [aid])]
    elsewhere = []
    for r in await db.execute(
            "select id, source_id, title, published, url, republication_of, fingerprint "
            "from articles where id != :id and ("
            "(republication_of is not null and republication_of in (:url, :canon)) "
            "or (:rep is not null and (url = :rep or canonical_url = :rep)) "
            "or (fingerprint is not null and fingerprint = :fp))",
            {"id": aid, "url": art.get("url"), "canon": art.get("canonical_url") or "",
             "rep": art.get("republication_of"), "fp": art.get("fingerprint")}):
        r = dict(r)
        r["relation"] = ("republishes this" if r["republication_of"] in
                         (art.get("url"), art.get("canonical_url")) else
                         "the original of this" if art.get("republication_of") else
                         "the same text")
        elsewhere.append(r)
    ctx = {"a": art, "source": dict(src[0]) if src else None, "dates": dates,
           "terms": terms, "versions": versions, "elsewhere": elsewhere,
           "paragraphs": [p for p in (art.get("text") or "").split("\n") if p.strip()]}
    return await _render(datasette, request, "mw_article.html", ctx)


async def outlets_page(datasette: Any, request: Any) -> Response:
    """Every outlet with its volume and failures."""
    db = datasette.get_database()
    rows = [dict(r) for r in await db.execute(
        "select s.id, s.name, s.kind, s.country, s.language, s.licence, "
        "(select count(*) from articles a where a.source_id = s.id) as articles, "
        "(select count(*) from articles a where a.source_id = s.id and on_topic = 1) as on_topic, "
        "(select count(*) from pages p where p.source_id = s.id and p.outcome in "
        "('empty', 'not_article', 'extraction_error')) as failures "
        "from sources s order by s.name")]
    return await _render(datasette, request, "mw_outlets.html", {"outlets": rows})


async def outlet_page(datasette: Any, request: Any) -> Response:
    """One outlet: registry entry, volume over time, latest articles, extraction failures."""
    db = datasette.get_database()
    oid = request.url_vars["id"]
    rows = list(await db.execute("select * from sources where id = ?", [oid]))
    if not rows:
        raise NotFound(f"No outlet {oid}")
    source = dict(rows[0])
    try:
        config = json.loads(source.get("config") or "{}")
    except ValueError:
        config = {}
    monthly = list(await db.execute(
        "select published_month, count(*), sum(on_topic) from articles where source_id = ? "
        "and published_month is not null group by published_month order by published_month",
        [oid]))
    chart = charts.grouped_bars([r[0] for r in monthly],
                                {"articles": [r[1] for r in monthly],
                                 "on topic": [r[2] or 0 for r in monthly]},
                                f"Articles per month: {source['name']}")
    latest = [dict(r) for r in await db.execute(
        "select id, title, published, lang, on_topic, extraction_status from articles "
        "where source_id = ? order by published desc limit 20", [oid])]
    failures = [dict(r) for r in await db.execute(
        "select id, url, outcome, error, last_fetched_at from pages where source_id = ? "
        "and outcome in ('empty', 'not_article', 'extraction_error') "
        "order by last_fetched_at desc limit 50", [oid])]
    return await _render(datasette, request, "mw_outlet.html", {
        "s": source, "config": json.dumps(config, ensure_ascii=False, indent=2),
        "chart": chart, "latest": latest, "failures": failures})


@hookimpl
def register_routes() -> list[tuple[str, Any]]:
    """The archive's own pages."""
    return [(r"^/search$", search_page), (r"^/article/(?P<id>[^/]+)$", article_page),
            (r"^/outlets$", outlets_page), (r"^/outlet/(?P<id>[^/]+)$", outlet_page)]
