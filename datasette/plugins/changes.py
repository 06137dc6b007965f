"""Datasette plugin: /-/changes, what outlets edited or took down after the archive read it.

A headline rewritten overnight, a correction added, an article quietly removed: re-checks
(`mediawatch crawl --recheck`, scheduled crawls) find them and keep every version
(`article_versions`) and the day a page was found gone (`articles.removed_at`). This page
lists them newest first, per outlet if asked, with the old headline beside the new and links
to each article's versions and captures. Read along two partial indexes (migration 0017):
edits and removals are few beside the archive.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from datasette.utils.asgi import BadRequest, Response

from crawler.archive.policy import flags_in_words
from crawler.clock import utcnow
from crawler.ops.atom import Entry, atom, rfc3339
from datasette import hookimpl

PAGE = 100
FEED_ENTRIES = 50
WHAT = {"": "every change", "headline": "headline changes", "correction": "corrections",
        "removed": "removals"}
EDITS_SQL = """select v.article_id, v.version, v.fetched_at, v.title, v.flags, a.source_id,
  a.published, a.lang, a.on_topic, (select s.name from sources s where s.id = a.source_id)
  as outlet, (select p.title from article_versions p where p.article_id = v.article_id
  and p.version = v.version - 1) as previous_title
from article_versions v join articles a on a.id = v.article_id
where v.version > 1 {cond} order by v.fetched_at desc, v.article_id limit :n offset :skip"""
REMOVED_SQL = """select a.id as article_id, a.title, a.source_id, a.published, a.lang,
  a.on_topic, a.removed_at, (select s.name from sources s where s.id = a.source_id) as outlet
from articles a where a.removed_at is not null {cond}
order by a.removed_at desc, a.id limit :n offset :skip"""


def _args(request: Any) -> dict[str, Any]:
    a = request.args
    what, page = a.get("what") or "", a.get("page") or "1"
    if what not in WHAT:
        raise BadRequest(f"what={what!r}: use {', '.join(repr(k) for k in WHAT if k)} or none")
    if not page.isdigit() or int(page) < 1:
        raise BadRequest(f"page={page!r} is not a page number")
    return {"source": a.get("source") or "", "what": what, "on_topic": a.get("on_topic") == "1",
            "page": int(page)}


async def _changes(db: Any, f: dict[str, Any], n: int, skip: int
                   ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(edits, removals), newest first, `n` of each from `skip` on, under the filters."""
    params: dict[str, Any] = {"source": f["source"], "n": n, "skip": skip}
    # "+": filters on the rows the partial indexes give, never a reason to read an outlet's
    # or the topic's every article instead (100 ms at 1M articles for no removal at all).
    cond = (" and +a.source_id = :source" if f["source"] else "") + (
        " and +a.on_topic = 1" if f["on_topic"] else "")
    edits: list[dict[str, Any]] = []
    removed: list[dict[str, Any]] = []
    if f["what"] != "removed" and "article_versions" in await db.table_names():
        flag = {"headline": "headline-changed", "correction": "correction"}.get(f["what"])
        params["flag"] = f'"{flag}"'
        edits = [dict(r, changes=flags_in_words(r["flags"])) for r in await db.execute(
            EDITS_SQL.format(cond=cond + (" and instr(v.flags, :flag) > 0" if flag else "")),
            params)]
    if f["what"] in ("", "removed"):
        removed = [dict(r) for r in await db.execute(REMOVED_SQL.format(cond=cond), params)]
    return edits, removed


def _keep(f: dict[str, Any]) -> dict[str, str]:
    return {k: v for k, v in (("source", f["source"]), ("what", f["what"]),
                              ("on_topic", "1" if f["on_topic"] else "")) if v}


async def changes_page(datasette: Any, request: Any) -> Response:
    """Edits and removals, newest first (?source=, ?what=headline|correction|removed,
    ?on_topic=1, ?page=)."""
    db = datasette.get_database()
    f = _args(request)
    edits, removed = await _changes(db, f, PAGE + 1, (f["page"] - 1) * PAGE)
    more = len(edits) > PAGE or len(removed) > PAGE
    keep = _keep(f)
    outlets = [tuple(r) for r in await db.execute("select id, name from sources order by name")]
    html = await datasette.render_template("mw_changes.html", {
        "db": db.name, "f": f, "what_choices": WHAT, "outlets": outlets,
        "edits": edits[:PAGE], "removed": removed[:PAGE],
        "feed": "/-/changes.atom" + (f"?{urlencode(keep)}" if keep else ""),
        "earlier": "/-/changes?" + urlencode({**keep, "page": f["page"] + 1}) if more else None,
        "later": "/-/changes?" + urlencode({**keep, "page": f["page"] - 1})
        if f["page"] > 1 else None}, request=request)
    return Response.html(html)


async def changes_feed(datasette: Any, request: Any) -> Response:
    """The newest edits and removals as an Atom feed, with the page's filters: subscribe to
    an outlet's stealth edits."""
    db = datasette.get_database()
    f = _args(request)
    edits, removed = await _changes(db, f, FEED_ENTRIES, 0)
    base = f"{request.scheme}://{request.host}"
    now = utcnow()
    entries = []
    for e in edits:
        seen = rfc3339(e["fetched_at"], now)
        what = ", ".join(e["changes"]) or "the text"
        was = f" — was: {e['previous_title']}" if "headline changed" in e["changes"] and \
            e["previous_title"] else ""
        entries.append(_entry(base, e, f"Edited: {e['title'] or e['article_id']}", seen,
                              f"{what}{was}", f"#v{e['version']}"))
    for r in removed:
        seen = rfc3339(r["removed_at"], now)
        entries.append(_entry(base, r, f"Taken down: {r['title'] or r['article_id']}", seen,
                              "the outlet's page is gone (404/410); its last text and capture "
                              "stay in the archive", "#removed"))
    entries.sort(key=lambda x: x.updated, reverse=True)
    keep = _keep(f)
    page = "/-/changes" + (f"?{urlencode(keep)}" if keep else "")
    body = atom(f"{base}/-/changes.atom" + (f"?{urlencode(keep)}" if keep else ""),
                "mediawatch: edits and removals", "What outlets edited or took down after "
                "the archive first read an article", base + page, entries[:FEED_ENTRIES], now)
    return Response(body, content_type="application/atom+xml; charset=utf-8")


def _entry(base: str, row: dict[str, Any], title: str, seen: str, summary: str,
           anchor: str) -> Entry:
    page = f"{base}/article/{quote(row['article_id'])}"
    outlet = row["outlet"] or row["source_id"] or "unknown outlet"
    return Entry(link=page, id=page + anchor, title=title, updated=seen,
                 summary=f"{outlet} · {summary}", author=outlet,
                 outlet_id=row["source_id"] or "", outlet=outlet,
                 outlet_link=f"{base}/outlet/{quote(row['source_id'] or '')}",
                 published=rfc3339(row["published"], seen) if row["published"] else None)


@hookimpl
def register_routes() -> list[tuple[str, Any]]:
    """The changes page."""
    return [(r"^/-/changes$", changes_page), (r"^/-/changes\.atom$", changes_feed)]
