"""Datasette plugin: citations as RIS records (crawler/search/cite.py) for reference managers.

`/article/<id>.ris` cites one article; `/-/framing/story/<id>.ris` every article of a story
(how each outlet covered one event, in order of publication: the sources of a piece about
it). A search's matches are cited by `/search.ris` (pages_archive.py, beside /search).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from datasette.utils.asgi import NotFound, Response

from crawler.search.cite import CITE_COLUMNS, CITE_FROM, RIS_TYPE, ris, ris_headers
from datasette import hookimpl

STORY_RIS_MAX = 5000  # articles of one story in its RIS file: all but the longest-running


def ris_response(body: str, name: str) -> Response:
    """RIS records as a download named `name`.ris."""
    return Response(body, content_type=RIS_TYPE, headers=ris_headers(name))


async def article_ris(datasette: Any, request: Any) -> Response:
    """One article's citation as a RIS record (for Zotero, EndNote, Mendeley)."""
    aid = request.url_vars["id"]
    rows = [dict(r) for r in await datasette.get_database().execute(
        f"select {CITE_COLUMNS} from {CITE_FROM} where a.id = ?", [aid])]
    if not rows:
        raise NotFound(f"No article {aid}")
    return ris_response(ris(rows), f"mediawatch-{quote(aid)}")


async def story_ris(datasette: Any, request: Any) -> Response:
    """Every article of a story as RIS records, in order of publication."""
    db = datasette.get_database()
    sid = request.url_vars["id"]
    if "story_articles" not in await db.table_names():
        raise NotFound(f"No story {sid}")
    rows = [dict(r) for r in await db.execute(
        f"select {CITE_COLUMNS} from story_articles sa join {CITE_FROM} "
        "where a.id = sa.article_id and sa.story_id = ? order by a.published, a.id limit ?",
        [sid, STORY_RIS_MAX])]
    if not rows:
        raise NotFound(f"No story {sid}")
    return ris_response(ris(rows), f"mediawatch-story-{quote(sid)}")


@hookimpl
def register_routes() -> list[tuple[str, Any]]:
    """The citation downloads (before the pages whose ids they end: ids have no dot)."""
    return [(r"^/article/(?P<id>[^/]+)\.ris$", article_ris),
            (r"^/-/framing/story/(?P<id>[^/]+)\.ris$", story_ris)]
