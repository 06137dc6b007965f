"""Datasette plugin: an article's archived capture, the page as the outlet served it then.

Pages change and vanish; a researcher who quotes one needs to show what it said when it was
read. /article/<id>/capture shows the capture the article was extracted from, read from its
WARC record (by the offset its `pages` row keeps), under the facts that identify it: URL,
when it was fetched, HTTP status, the SHA-256 of the body and where the record lies.

The captured HTML is hostile. It is served on its own URL (/article/<id>/capture.html) with
a Content-Security-Policy that sandboxes it (no script runs, it gets an origin of its own,
so it can never read this site) and lets nothing load from anywhere (no image, stylesheet
or font from the outlet: viewing a capture tells the outlet nothing and shows only what was
archived); the wrapper page frames it in a sandboxed iframe as well. A public build never
serves captures: raw bodies stay in the archive (crawler/ingest/publish.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from datasette.utils.asgi import BadRequest, NotFound, Response

from crawler.archive.core import warc_file, warc_folder
from crawler.archive.warc import WarcLocation, read_capture
from datasette import hookimpl
from extract import decode_html

SANDBOX = ("sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
           "font-src data:; form-action 'none'; base-uri 'none'; frame-ancestors 'self'")
CAPTURE_SQL = """select a.id, a.title, a.url, p.id as page_id, p.url as fetched_url,
  p.final_url, p.status, p.content_type, p.fetched_at, p.revisits, p.last_fetched_at,
  p.body_sha256, p.warc_file, p.warc_offset, p.warc_length
from articles a join pages p on p.id = coalesce(:page, a.page_id)
where a.id = :aid and (p.id = a.page_id or p.article_id = a.id)"""
# Every capture of the article (an edited article has one per text the outlet served).
CAPTURES_SQL = """select id, fetched_at, last_fetched_at, status, body_sha256, revisits
from pages where article_id = :aid and warc_file is not null
union select p.id, p.fetched_at, p.last_fetched_at, p.status, p.body_sha256, p.revisits
from articles a join pages p on p.id = a.page_id where a.id = :aid and p.warc_file is not null
order by fetched_at, id"""


def _page(request: Any) -> int | None:
    """?page=<pages.id>: one of the article's earlier captures (default: the one it is
    extracted from)."""
    value = request.args.get("page")
    if value is None:
        return None
    if not value.isdigit():
        raise BadRequest(f"page={value!r}: give the number of one of the article's captures")
    return int(value)


async def _located(datasette: Any, request: Any) -> tuple[dict[str, Any], Path]:
    """The article's capture row and WARC folder, or NotFound saying why there is none."""
    db = datasette.get_database()
    aid = request.url_vars["id"]
    if "public_build" in await db.table_names():
        raise NotFound("A public build keeps no raw captures")
    rows = [dict(r) for r in await db.execute(CAPTURE_SQL, {"aid": aid, "page": _page(request)})]
    if not rows:
        raise NotFound(f"No such capture of article {aid}")
    row = rows[0]
    # Only a file inside the archive's own WARC folder is ever read.
    if not db.path or warc_file(db.path, row["warc_file"]) is None:
        raise NotFound(f"The capture of article {aid} is not in this archive's WARC files")
    return row, warc_folder(db.path).resolve()


async def capture_page(datasette: Any, request: Any) -> Response:
    """The facts of an article's capture, and the capture itself in a sandboxed frame."""
    row, folder = await _located(datasette, request)
    db = datasette.get_database()
    captures = [dict(r) for r in await db.execute(CAPTURES_SQL, {"aid": row["id"]})]
    html = await datasette.render_template("mw_capture.html", {
        "c": row, "captures": captures, "folder": folder.name, "db": db.name}, request=request)
    return Response.html(html)


async def capture_html(datasette: Any, request: Any) -> Response:
    """The captured page as UTF-8, under a policy that runs and loads nothing."""
    row, folder = await _located(datasette, request)
    aid = row["id"]
    location = WarcLocation(row["warc_file"], row["warc_offset"], row["warc_length"])
    try:
        capture = await datasette.get_database().execute_fn(
            lambda _conn: read_capture(folder, location))
    except (OSError, ValueError) as exc:  # a truncated or moved file: say so, not a traceback
        raise NotFound(f"The capture of article {aid} cannot be read: {exc}") from None
    text, _codec = decode_html(capture.body, capture.headers.get("content-type"))
    return Response(text, content_type="text/html; charset=utf-8", headers={
        "content-security-policy": SANDBOX, "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer", "cache-control": "private, max-age=3600"})


@hookimpl
def register_routes() -> list[tuple[str, Any]]:
    """An article's capture: the framed view and the sandboxed page."""
    return [(r"^/article/(?P<id>[^/]+)/capture$", capture_page),
            (r"^/article/(?P<id>[^/]+)/capture\.html$", capture_html)]
