"""Datasette plugin: the pages people use — /search, /article/<id>, /outlets, /outlet/<id>.

Every value from the archive is scraped and therefore hostile: templates rely on Jinja's
autoescaping (never `|safe` on archive data), highlighted snippets are escaped before their
match markers become <mark>, and only http(s) URLs ever become links.
"""

from __future__ import annotations

import json
import shlex
import sqlite3
from collections import Counter
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from datasette.utils import sqlite_timelimit
from datasette.utils.asgi import NotFound, Response
from markupsafe import Markup, escape

from crawler.archive.policy import flags_in_words
from crawler.ops.watch import watch_command
from crawler.search.cite import (
    CITE_COLUMNS,
    CITE_FROM,
    RIS_TYPE,
    citation,
    ris,
    ris_headers,
)
from crawler.search.filters import FilterError, SearchFilters
from crawler.search.pasted import ARTICLE_FOR_URL_SQL, is_url_query, url_params
from crawler.search.query import explain
from crawler.web.urls import clean_url
from datasette import hookimpl

MARK_OPEN, MARK_CLOSE = "\u27e6", "\u27e7"
PAGE_SIZE = 20
FAILURES = ("empty", "not_article", "extraction_error")
# The languages in the archive, one index seek each (articles_lang), not a scan of articles.
LANGUAGES_SQL = """with recursive l(lang) as (
  select min(lang) from articles
  union all select (select min(lang) from articles where lang > l.lang) from l
  where l.lang is not null)
select lang from l where lang is not null"""
# The same story elsewhere: its reprints, its original, identical texts. One index lookup
# per relation (a UNION: an OR of them would scan every article).
ELSEWHERE_SQL = """
select id, source_id, (select name from sources s where s.id = articles.source_id) as outlet,
  title, published, url, republication_of, fingerprint from articles
where rowid in (
  select rowid from articles where republication_of is not null
    and republication_of in (:url, :canon)
  union select rowid from articles where url = :rep
  union select rowid from articles where canonical_url = :rep
  union select rowid from articles where fingerprint = :fp)
and id != :id"""
# The story an article belongs to (clustered across outlets and languages) and its other
# members: the same event as other outlets told it. Both are primary-key lookups.
STORY_SQL = """select s.id, s.headline, s.n_articles, s.n_outlets, s.languages
from story_articles sa join stories s on s.id = sa.story_id where sa.article_id = ?"""
STORY_MATES_SQL = """select a.id, a.title, a.source_id, a.lang, a.published, sa.role,
  (select name from sources s where s.id = a.source_id) as outlet
from story_articles sa join articles a on a.id = sa.article_id
where sa.story_id = ? and sa.article_id != ? order by a.published, a.id limit ?"""
STORY_MATES_SHOWN = 30
# /search ranks (bm25, titles x10) the newest RANK_WINDOW matches (all of them when fewer):
# the best matches of a huge result set without scoring all of it. Totals are exact;
# per-language counts are exact up to the window, then counts among its matches ("n+").
RANK_WINDOW = 5000


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


async def _render(datasette: Any, request: Any, template: str, ctx: dict[str, Any],
                  status: int = 200) -> Response:
    ctx = {"db": datasette.get_database().name, "safe_url": safe_url, **ctx}
    return Response.html(await datasette.render_template(template, ctx, request=request),
                         status=status)


class AtLeast(int):
    """A count over part of the matches: at least this many (shows as "4,321+")."""

    def __str__(self) -> str:
        return f"{int(self):,}+"

    def __html__(self) -> str:
        return str(self)


def _filters(lang: str, source: str, on_topic: str,
             filters: SearchFilters | None) -> SearchFilters:
    if filters is not None:
        return filters
    return SearchFilters(langs=(lang,) if lang else (), sources=(source,) if source else (),
                         on_topic=on_topic)


def search_sql(expr: str, lang: str = "", source: str = "", on_topic: str = "",
               page: int = 1, filters: SearchFilters | None = None) -> dict[str, Any]:
    """/search's statements for an expanded query: the ranked window and the total (+ params).

    Language, outlet and topic filters are FTS terms (search_meta), so the index alone finds
    and counts the matches; a date range or "independent only" (crawler/search/filters.py,
    shared with /-/attention) are conditions on the joined article row. The window is the
    newest RANK_WINDOW matches (more for deep pages) with their bm25 (titles x10), date and
    language: one pass over the index ranks a page and counts the languages; the total
    needs a second pass only when the window is full.
    """
    f = _filters(lang, source, on_topic, filters)
    window = max(RANK_WINDOW, page * PAGE_SIZE)
    row, params = f.row_sql("a")
    cond = f" and {row}" if row else ""
    total = ("select count(*) from articles_fts where articles_fts match :match" if not row else
             "select count(*) from articles_fts cross join articles a on a.rowid = "
             f"articles_fts.rowid where articles_fts match :match{cond}")
    return {
        "window": f"""select articles_fts.rowid, bm25(articles_fts, 10.0, 1.0, 0.0),
              a.published, a.lang
            from articles_fts cross join articles a on a.rowid = articles_fts.rowid
            where articles_fts match :match{cond} order by articles_fts.rowid desc
            limit {window}""",
        "total": total,
        "size": window,
        "params": {"match": f.fts(expr), **params},
    }


def hits_sql(rowids: list[int]) -> str:
    """One page of hits with highlighted titles and snippets: one more pass over the index,
    bounded to the page's rowids (auxiliary functions need the match's cursor)."""
    listed = ", ".join(str(int(r)) for r in rowids)
    return f"""select articles_fts.rowid as rid, a.id, a.title, a.source_id, s.name as outlet,
          s.kind, a.lang, a.published, a.url, a.on_topic,
          highlight(articles_fts, 0, '\u27e6', '\u27e7') as title_hl,
          snippet(articles_fts, 1, '\u27e6', '\u27e7', ' … ', 30) as snippet
        from articles_fts cross join articles a on a.rowid = articles_fts.rowid
        left join sources s on s.id = a.source_id
        where articles_fts match :match and articles_fts.rowid between {min(rowids)}
          and {max(rowids)} and +articles_fts.rowid in ({listed})"""


def ranked(window: list[tuple[Any, ...]]) -> list[int]:
    """The window's rowids, best bm25 first, then newest (NULL dates last)."""
    ordered = sorted(window, key=lambda r: r[2] or "", reverse=True)
    ordered.sort(key=lambda r: (r[1], r[2] is None))  # stable: dates stay newest first
    return [r[0] for r in ordered]


def rank_page(window: list[tuple[Any, ...]], page: int) -> list[int]:
    """The rowids of one page of the ranking."""
    return ranked(window)[(page - 1) * PAGE_SIZE:page * PAGE_SIZE]


def run_search(conn: sqlite3.Connection, expr: str, lang: str = "", source: str = "",
               on_topic: str = "", page: int = 1,
               filters: SearchFilters | None = None) -> dict[str, Any]:
    """Hits of one page, the exact total and the matches per language, on one connection."""
    sql = search_sql(expr, lang=lang, source=source, on_topic=on_topic, page=page,
                     filters=filters)
    params = sql["params"]
    window = [tuple(r) for r in conn.execute(sql["window"], params)]
    full = len(window) == sql["size"]
    total = conn.execute(sql["total"], params).fetchone()[0] if full else len(window)
    counts = Counter(r[3] for r in window)
    # Exact when every match is in the window; else counts among the newest matches.
    by_lang = [(lang_, AtLeast(n) if full else n) for lang_, n in
               sorted(counts.items(), key=lambda kv: (-kv[1], kv[0] or ""))]
    rowids = rank_page(window, page)
    hits: list[dict[str, Any]] = []
    if rowids:
        cursor = conn.execute(hits_sql(rowids), {"match": params["match"]})
        names = [d[0] for d in cursor.description]
        found = {row[0]: dict(zip(names, row, strict=True)) for row in cursor}
        hits = [found[r] for r in rowids if r in found]
    return {"hits": hits, "total": total, "by_lang": by_lang}


async def search_page(datasette: Any, request: Any) -> Response:
    """Ranked multilingual search with highlighted snippets and filters."""
    db = datasette.get_database()
    q = request.args.get("q", "").strip()
    error = None
    try:
        f = SearchFilters.from_args(request.args.getlist)
    except FilterError as exc:
        f, error = SearchFilters(), str(exc)
    lang, source = (f.langs or ("",))[0], (f.sources or ("",))[0]
    page = max(int(request.args.get("page", "1") or 1) if
               (request.args.get("page") or "1").isdigit() else 1, 1)
    url_absent = None
    if is_url_query(q) and not error:  # a pasted article URL: its page, not words of it
        if (aid := await _article_for_url(db, q)) is not None:
            return Response.redirect(f"/article/{quote(aid)}")
        url_absent = clean_url(q)
    expr = f.expand(q) if q and not error and url_absent is None else None
    ctx: dict[str, Any] = {"q": q, "literal": f.literal, "lang": lang, "source": source,
                           "on_topic": f.on_topic, "hits": [], "total": 0, "by_lang": [],
                           "page": page, "expr": expr, "clauses": explain(q, literal=f.literal)
                           if q and url_absent is None else [], "page_size": PAGE_SIZE,
                           "error": error, "filters": f, "url_absent": url_absent,
                           # shell-quoted: a hostile address must not become a command
                           "explain_cmd": "mediawatch explain " + shlex.quote(url_absent or "")}
    if expr:
        limit = datasette.setting("sql_time_limit_ms")

        def search(conn: sqlite3.Connection) -> dict[str, Any]:
            with sqlite_timelimit(conn, limit):
                return run_search(conn, expr, page=page, filters=f)

        found = await db.execute_fn(search)
        # The highlighted title is the normalised one: show it only when it marks a match.
        ctx["hits"] = [dict(r, title_hl=highlight(r["title_hl"] if MARK_OPEN in
                                                  (r["title_hl"] or "") else r["title"]),
                            snippet=highlight(r["snippet"])) for r in found["hits"]]
        ctx["total"], ctx["by_lang"] = found["total"], found["by_lang"]
        export = [("_search", q), *([("_mw_literal", "1")] if f.literal else []),
                  *[("lang", x) for x in f.langs], *[("source_id", x) for x in f.sources],
                  *([("on_topic", f.on_topic)] if f.on_topic else [])]
        if len(f.langs) > 1 or len(f.sources) > 1 or f.date_from or f.date_to or f.independent:
            ctx["exports"] = None  # the table view has no such filters: no export that lies
        else:
            table = datasette.urls.table(db.name, "articles")
            ctx["exports"] = {fmt: f"{table}{ext}?{urlencode(export)}" for fmt, ext in
                              (("table", ""), ("csv", ".csv"), ("json", ".json"))}
            ctx["exports"]["json"] += "&_shape=objects"
    ctx["outlets"] = [tuple(r) for r in await db.execute("select id, name from sources "
                                                         "order by name")]
    ctx["outlet_names"] = dict(ctx["outlets"])
    ctx["langs"] = [r[0] for r in await db.execute(LANGUAGES_SQL)]
    ctx["self_args"] = lambda **kw: urlencode([("q", q), *f.args(**{
        k: v for k, v in kw.items() if k in ("lang", "source", "on_topic")}), *[
        (k, str(v)) for k, v in kw.items() if k not in ("lang", "source", "on_topic") and v]])
    ctx["attention_href"] = "/-/attention?" + urlencode([("q", q), *f.args()])
    ctx["watch_cmd"] = watch_command(q, f)
    ctx["export_limit"] = EXPORT_LIMIT
    return await _render(datasette, request, "mw_search.html", ctx, status=400 if error else 200)


async def _article_for_url(db: Any, url: str) -> str | None:
    rows = list(await db.execute(ARTICLE_FOR_URL_SQL, url_params(url)))
    return rows[0][0] if rows else None


def _captured(db: Any, capture: dict[str, Any]) -> bool:
    """The article's capture is in the WARC files beside the archive (captures.py shows it)."""
    from crawler.archive.core import warc_file

    return bool(db.path and warc_file(db.path, capture.get("warc_file")))


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
        versions = [dict(r, changes=flags_in_words(r["flags"])) for r in await db.execute(
            "select version, fetched_at, title, diff, flags from article_versions "
            "where article_id = ? order by version", [aid])]
    elsewhere = []
    for r in await db.execute(ELSEWHERE_SQL, {
            "id": aid, "url": art.get("url"), "canon": art.get("canonical_url") or "",
            "rep": art.get("republication_of"), "fp": art.get("fingerprint")}):
        r = dict(r)
        r["relation"] = ("republishes this" if r["republication_of"] in
                         (art.get("url"), art.get("canonical_url")) else
                         "the original of this" if art.get("republication_of") else
                         "the same text")
        elsewhere.append(r)
    story, mates = None, []
    if await _table_exists(db, "story_articles"):
        found = [dict(r) for r in await db.execute(STORY_SQL, [aid])]
        if found and (found[0]["n_articles"] or 0) > 1:
            story = found[0]
            mates = [dict(r) for r in await db.execute(
                STORY_MATES_SQL, [story["id"], aid, STORY_MATES_SHOWN])]
    # How the archive found it: the listing its stored capture came through (primary key).
    found_via = [dict(r) for r in await db.execute(
        "select discovered_via, discovered_from, fetched_at as captured, body_sha256, "
        "warc_file from pages where id = ?", [art.get("page_id")])]
    capture = found_via[0] if found_via else {}
    # Raw captures stay in the archive: a public build has none to show (captures.py).
    shown = not await _table_exists(db, "public_build") and _captured(db, capture)
    ctx = {"a": art, "source": dict(src[0]) if src else None, "dates": dates,
           "found_via": found_via[0] if found_via else None,
           "citation": citation({**art, **capture, "outlet": src[0]["name"] if src else None}),
           "capture": capture if shown else None,
           # each version's own capture, where the fetch that saw it is kept (captures.py)
           "version_captures": {r[0]: r[1] for r in await db.execute(
               "select fetched_at, id from pages where article_id = ? and warc_file is not "
               "null", [aid])} if shown and len(versions) > 1 else {},
           "terms": terms, "versions": versions, "elsewhere": elsewhere,
           "story": story, "mates": mates,
           "paragraphs": [p for p in (art.get("text") or "").split("\n") if p.strip()]}
    return await _render(datasette, request, "mw_article.html", ctx)


EXPORT_LIMIT = 1000  # articles in a search's RIS export: the best-ranked


async def search_ris(datasette: Any, request: Any) -> Response:
    """A search's best-ranked matches (up to EXPORT_LIMIT) as RIS records, every filter of
    /search applied: a reading list for a reference manager."""
    q = request.args.get("q", "").strip()
    try:
        f = SearchFilters.from_args(request.args.getlist)
    except FilterError as exc:
        return Response.text(str(exc), status=400)
    if not q or is_url_query(q):
        return Response.text("give words to search for: /search.ris?q=...", status=400)
    sql = search_sql(f.expand(q), page=1, filters=f)
    limit = datasette.setting("sql_time_limit_ms")

    def best_rows(conn: sqlite3.Connection) -> list[dict[str, Any]]:
        with sqlite_timelimit(conn, limit):
            window = [tuple(r) for r in conn.execute(sql["window"], sql["params"])]
            best = ranked(window)[:EXPORT_LIMIT]
            cursor = conn.execute(f"select a.rowid as rid, {CITE_COLUMNS} from {CITE_FROM} "
                                  f"where a.rowid in ({', '.join(map(str, map(int, best)))})")
            names = [d[0] for d in cursor.description]
            found = {row[0]: dict(zip(names, row, strict=True)) for row in cursor}
        return [found[r] for r in best if r in found]

    return Response(ris(await datasette.get_database().execute_fn(best_rows)),
                    content_type=RIS_TYPE, headers=ris_headers("mediawatch-search"))


@hookimpl
def register_routes() -> list[tuple[str, Any]]:
    """The archive's own pages (an id has no dot: /article/<id>.ris is citations.py's)."""
    return [(r"^/search\.ris$", search_ris), (r"^/search$", search_page),
            (r"^/article/(?P<id>[^/.]+)$", article_page)]
