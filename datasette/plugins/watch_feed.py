"""Datasette plugin: saved searches — /-/watch (the list) and /-/watch/<name>.atom (a feed).

Searches are saved with `mediawatch watch add` (this site is read-only). A feed lists the
newest matches of the saved query in the whole archive, expanded and filtered as /search
does (crawler/ops/watch.py builds the Atom document with an XML serializer: every scraped
value is escaped there, and control characters XML forbids are dropped).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from datasette.utils.asgi import NotFound, Response

from crawler.archive.watches import Watch, WatchError
from crawler.clock import utcnow
from crawler.ops.watch import atom_feed, newest_matches, search_link
from datasette import hookimpl


async def _watches(db: Any) -> list[dict[str, Any]] | None:
    exists = await db.execute("select 1 from sqlite_master where name = 'watches'")
    if not list(exists):
        return None  # an archive published without its saved searches
    return [dict(r) for r in await db.execute(
        "select w.*, (select count(*) from watch_hits h where h.watch = w.name) as hits "
        "from watches w order by w.name")]


def _base(request: Any) -> str:
    return f"{request.scheme}://{request.host}"


async def feed(datasette: Any, request: Any) -> Response:
    """The Atom feed of one saved search."""
    db = datasette.get_database()
    name = request.url_vars["name"]
    rows = [r for r in await _watches(db) or [] if r["name"] == name]
    if not rows:
        raise NotFound(f"No saved search named {name}")
    try:
        watch = Watch.from_row(rows[0])

        def newest(conn: sqlite3.Connection) -> list[dict[str, Any]]:
            return newest_matches(conn, watch)

        entries = await db.execute_fn(newest)
    except (WatchError, sqlite3.OperationalError) as exc:
        return Response.text(f"This saved search cannot be run: {exc}\n", status=500)
    body = atom_feed(watch, entries, _base(request), utcnow())
    return Response(body, content_type="application/atom+xml; charset=utf-8")


async def watch_index(datasette: Any, request: Any) -> Response:
    """Every saved search with its feed, search and attention links."""
    db = datasette.get_database()
    rows = await _watches(db)
    items = []
    for r in rows or []:
        w = Watch.from_row(r)
        items.append({"w": w, "info": r, "feed": f"/-/watch/{w.name}.atom",
                      "search": search_link(w),
                      "attention": search_link(w).replace("/search?", "/-/attention?", 1)})
    html = await datasette.render_template("mw_watches.html", {
        "db": db.name, "items": items, "missing": rows is None}, request=request)
    return Response.html(html)


@hookimpl
def register_routes() -> list[tuple[str, Any]]:
    """/-/watch and /-/watch/<name>.atom."""
    return [(r"^/-/watch$", watch_index),
            (r"^/-/watch/(?P<name>[A-Za-z0-9][A-Za-z0-9_-]{0,63})\.atom$", feed)]
