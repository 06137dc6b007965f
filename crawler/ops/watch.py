"""Saved searches that notify: match new articles, tell the alert channels, serve a feed.

A watch is a query with /search's filters (crawler/search/filters.py), expanded across
en/ru/hy exactly as /search expands it at every use, so an alias table change applies to
old watches too. After each crawl run (crawler.ops.alerts.review_run_from calls
notify_watches) every watch is matched against the articles archived since it last
looked (rowids above its mark: new rows only, never re-fetches), each new match is
remembered in `watch_hits` (once per watch and article) and one `watch_match` event per
watch with new matches goes to the log, JSONL, webhook and e-mail digest. The Atom feed
(`/-/watch/<name>.atom`) lists the newest matches in the whole archive.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlencode

from crawler.archive.watches import Watch, WatchError
from crawler.ops.atom import Entry, atom, rfc3339
from crawler.search.filters import SearchFilters

logger = logging.getLogger("mediawatch.watch")
FEED_ENTRIES = 50
SNIPPET_WORDS = 40


def filters_of(watch: Watch) -> SearchFilters:
    """The watch's filters, as /search would parse them."""
    return SearchFilters(langs=watch.langs, sources=watch.sources,
                         on_topic="1" if watch.on_topic else "", literal=watch.literal)


def expression(watch: Watch) -> str:
    """The watch's FTS5 expression with its filters (a WatchError when nothing is searched)."""
    f = filters_of(watch)
    expr = f.expand(watch.query)
    if expr is None:
        raise WatchError(f"nothing to search for in {watch.query!r}")
    return f.fts(expr)


def search_link(watch: Watch, base: str = "") -> str:
    """The /search page of a watch."""
    return f"{base}/search?" + urlencode([("q", watch.query), *filters_of(watch).args()])


def watch_command(query: str, filters: SearchFilters) -> str:
    """The CLI line that saves a search (the published site is read-only)."""
    import shlex

    parts = ["mediawatch", "watch", "add", "NAME", shlex.quote(query)]
    parts += [f"--lang {shlex.quote(x)}" for x in filters.langs]
    parts += [f"--source {shlex.quote(x)}" for x in filters.sources]
    parts += ["--literal"] * filters.literal + ["--on-topic"] * (filters.on_topic == "1")
    return " ".join(parts)


_MATCH_COLUMNS = """a.rowid, a.id, a.title, a.url, a.source_id, s.name AS outlet, a.lang,
  a.published, a.first_seen_at, a.author,
  snippet(articles_fts, 1, '', '', ' … ', {words}) AS snippet"""


def _rows(conn: sqlite3.Connection, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    cursor = conn.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r, strict=True)) for r in cursor]


def new_matches(conn: sqlite3.Connection, watch: Watch, seen_rowid: int
                ) -> tuple[list[dict[str, Any]], int]:
    """Matches archived after `seen_rowid`, oldest first, and the new mark."""
    mark = conn.execute("SELECT coalesce(max(rowid), 0) FROM articles").fetchone()[0]
    if mark <= seen_rowid:
        return [], seen_rowid
    rows = _rows(conn, f"""SELECT {_MATCH_COLUMNS.format(words=SNIPPET_WORDS)}
        FROM articles_fts CROSS JOIN articles a ON a.rowid = articles_fts.rowid
        LEFT JOIN sources s ON s.id = a.source_id
        WHERE articles_fts MATCH :q AND articles_fts.rowid > :seen AND articles_fts.rowid <= :mark
        ORDER BY articles_fts.rowid""", {"q": expression(watch), "seen": seen_rowid, "mark": mark})
    return rows, int(mark)


def newest_matches(conn: sqlite3.Connection, watch: Watch,
                   limit: int = FEED_ENTRIES) -> list[dict[str, Any]]:
    """The newest archived matches of a watch (for its feed)."""
    return _rows(conn, f"""SELECT {_MATCH_COLUMNS.format(words=SNIPPET_WORDS)}
        FROM articles_fts CROSS JOIN articles a ON a.rowid = articles_fts.rowid
        LEFT JOIN sources s ON s.id = a.source_id
        WHERE articles_fts MATCH :q ORDER BY articles_fts.rowid DESC LIMIT {int(limit)}""",
                 {"q": expression(watch)})


# -- after a crawl run -------------------------------------------------------------------------


def match_event(watch: Watch, rows: list[dict[str, Any]], run_id: int | None,
                link_base: str) -> dict[str, Any]:
    """One `watch_match` event: the watch, its new articles, links to them and to the feed."""
    base = link_base.rstrip("/")
    return {
        "event": "watch_match", "id": f"watch:{watch.name}", "watch": watch.name,
        "query": watch.query, "count": len(rows), "run_id": run_id,
        "link": f"{base}/-/watch/{quote(watch.name)}.atom", "search": search_link(watch, base),
        "articles": [{"id": r["id"], "title": r["title"], "outlet": r["outlet"] or r["source_id"],
                      "source_id": r["source_id"], "lang": r["lang"],
                      "published": r["published"], "url": r["url"],
                      "link": f"{base}/article/{quote(r['id'])}"} for r in rows],
    }


def notify_watches(archive: Any, run_id: int | None, config: Any, link_base: str,
                   deliver: Callable[[list[dict[str, Any]], Any], dict[Any, list[str]]]
                   ) -> list[dict[str, Any]]:
    """Match every saved search against the articles archived since it last looked; hand one
    event per search with new matches to `deliver` (the alert channels). Never raises: a
    failure is logged."""
    from crawler.clock import utcnow

    events: list[dict[str, Any]] = []
    fresh_ids: dict[str, set[str]] = {}
    try:
        conn = archive.db.conn
        for watch, info in archive.watches.all():
            try:
                rows, mark = new_matches(conn, watch, int(info["seen_rowid"] or 0))
            except (WatchError, sqlite3.OperationalError) as exc:
                logger.error("saved search %s cannot be matched: %s", watch.name, exc)
                continue
            fresh = set(archive.watches.record_hits(watch.name, [r["id"] for r in rows],
                                                    run_id, utcnow(), mark))
            rows = [r for r in rows if r["id"] in fresh]
            if rows:
                events.append(match_event(watch, rows, run_id, link_base))
                fresh_ids[watch.name] = fresh
        took = deliver(events, config)  # one e-mail digest for every saved search
        for event in events:
            archive.watches.mark_delivered(event["watch"], fresh_ids[event["watch"]],
                                           took.get(event["id"], []))
    except Exception:  # notifications report on the crawl: never lose the crawl to them
        logger.exception("saved searches could not be checked after run %s", run_id)
    return events


# -- the Atom feed -----------------------------------------------------------------------------


def atom_feed(watch: Watch, rows: list[dict[str, Any]], base: str, now: str) -> bytes:
    """A valid Atom 1.0 document of a watch's newest matches; every scraped value escaped."""
    base = base.rstrip("/")
    entries = []
    for r in rows:
        seen = rfc3339(r["first_seen_at"], now)
        outlet = r["outlet"] or r["source_id"] or "unknown outlet"
        entries.append(Entry(
            link=f"{base}/article/{quote(r['id'])}", title=r["title"] or "(no title)",
            updated=seen, published=rfc3339(r["published"], seen) if r["published"] else None,
            original=r["url"], author=r["author"] or outlet, outlet_id=r["source_id"] or "",
            outlet=outlet, outlet_link=f"{base}/outlet/{quote(r['source_id'] or '')}",
            summary=f"{outlet} · {r['lang'] or '?'} · {(r['published'] or 'undated')[:10]} — "
                    f"{r['snippet'] or ''}"))
    return atom(f"{base}/-/watch/{quote(watch.name)}.atom", f"mediawatch: {watch.query}",
                f"Newest archived articles matching the saved search {watch.name!r} in "
                "English, Russian and Armenian", search_link(watch, base), entries, now)
