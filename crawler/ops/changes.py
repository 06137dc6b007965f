"""After each crawl run: the on-topic articles the run found edited or taken down, as one
`article_changes` event to the alert channels (log, JSONL, webhook, e-mail digest).

A re-check that finds a headline rewritten, a correction added or a page gone keeps the new
version (`article_versions`) or the day (`articles.removed_at`); /-/changes lists them all.
Researchers following the topic want to hear of those edits when they happen, so each run
reports the ones it found in on-topic articles (the rest of an outlet's output would drown
them), with the old headline beside the new and links to the articles. An outlet whose
re-checked articles all changed at once changed its pages (a redesign, a JS shell, and the
repair), not its articles: that is one line, not a list of false edits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from crawler.archive.policy import flags_in_words

logger = logging.getLogger("mediawatch.changes")
LINES = 50  # changes listed in one message (the event carries all)
# An outlet with at least MASS_EDITS edits in one run, MASS_SHARE or more of its re-checked
# articles, changed its pages, not its articles (see _held_back).
MASS_EDITS, MASS_SHARE = 3, 0.5

_EDITS = """select v.article_id, v.version, v.title, v.flags, a.source_id, a.lang,
  (select s.name from sources s where s.id = a.source_id) as outlet,
  (select p.title from article_versions p where p.article_id = v.article_id
   and p.version = v.version - 1) as previous_title
from article_versions v join articles a on a.id = v.article_id
where v.version > 1 and v.fetched_at >= ? and +a.on_topic = 1 order by v.fetched_at, v.article_id"""
_REMOVED = """select a.id as article_id, a.title, a.source_id, a.lang, a.removed_at,
  (select s.name from sources s where s.id = a.source_id) as outlet
from articles a where a.removed_at >= ? and +a.on_topic = 1 order by a.removed_at, a.id"""


def changes_event(conn: Any, run_id: int, link_base: str) -> dict[str, Any] | None:
    """The run's `article_changes` event, or None when it found no on-topic edit or removal."""
    started = conn.execute("select started_at from crawl_runs where id = ?", [run_id]).fetchone()
    if not started or not started[0]:
        return None
    base = link_base.rstrip("/")

    def link(aid: str) -> str:
        return f"{base}/article/{quote(aid)}"

    cur = conn.execute(_EDITS, [started[0]])
    names = [d[0] for d in cur.description]
    edits = []
    for values in cur:
        row = dict(zip(names, values, strict=True))
        flags = row.pop("flags")
        edits.append({**row, "changes": flags_in_words(flags), "link": link(row["article_id"])})
    cur = conn.execute(_REMOVED, [started[0]])
    names = [d[0] for d in cur.description]
    removed = [{**row, "link": link(row["article_id"])}
               for row in (dict(zip(names, r, strict=True)) for r in cur)]
    held = _held_back(conn, started[0], base)
    edits = [e for e in edits if e["source_id"] not in held]
    if not edits and not removed and not held:
        return None
    return {"event": "article_changes", "id": f"changes:{run_id}", "run_id": run_id,
            "count": len(edits) + len(removed), "edited": edits, "removed": removed,
            "held_back": list(held.values()), "link": f"{base}/-/changes?on_topic=1"}


def _held_back(conn: Any, started: str, base: str) -> dict[str, dict[str, Any]]:
    """Outlets whose re-checked articles changed all at once in this run: a redesign or an
    extraction change (a JS shell, a new template, and its repair), not that many edits.
    Their edits are summed up in one line instead of listed one by one."""
    held = {}
    for sid, outlet, n in conn.execute(
            "select a.source_id, (select s.name from sources s where s.id = a.source_id), "
            "count(*) from article_versions v join articles a on a.id = v.article_id "
            "where v.version > 1 and v.fetched_at >= ? group by a.source_id", [started]):
        rechecked = conn.execute(
            "select count(*) from url_state where source_id = ? and kind = 'article' and "
            "last_fetched >= ? and first_seen < ?", [sid, started, started]).fetchone()[0]
        if n >= MASS_EDITS and n >= MASS_SHARE * max(rechecked, n):
            held[sid] = {"source_id": sid, "outlet": outlet, "edits": n,
                         "rechecked": max(rechecked, n),
                         "link": f"{base}/-/changes?source={quote(sid)}"}
    return held


def describe_changes(event: dict[str, Any]) -> str:
    """The event for humans: a heading line, then one line per change."""
    lines = [f"- edited: {e['title'] or '(no title)'} ({e['outlet'] or e['source_id']}; "
             f"{', '.join(e['changes']) or 'the text'}"
             + (f"; was: {e['previous_title']}" if "headline changed" in e["changes"]
                and e["previous_title"] else "") + f") <{e['link']}>" for e in event["edited"]]
    lines += [f"- taken down: {r['title'] or '(no title)'} ({r['outlet'] or r['source_id']})"
              f" <{r['link']}>" for r in event["removed"]]
    lines += [f"- held back: {h['edits']} of the {h['rechecked']} re-checked articles of "
              f"{h['outlet'] or h['source_id']} changed at once — a redesign or an extraction "
              f"change, not that many edits <{h['link']}>" for h in event.get("held_back", [])]
    more = len(lines) - LINES
    return "\n".join([f"CHANGES: {len(event['edited'])} on-topic article(s) edited, "
                      f"{len(event['removed'])} taken down <{event['link']}>", *lines[:LINES],
                      *([f"… and {more} more: <{event['link']}>"] if more > 0 else [])])


def notify_changes(archive: Any, run_id: int | None, config: Any, link_base: str,
                   deliver: Callable[[list[dict[str, Any]], Any], dict[Any, list[str]]]
                   ) -> dict[str, Any] | None:
    """Deliver the run's on-topic edits and removals, if any. Never raises: a failure is
    logged (a notice must never cost the crawl)."""
    if run_id is None:
        return None
    try:
        event = changes_event(archive.db.conn, run_id, link_base)
        if event is not None:
            deliver([event], config)
        return event
    except Exception:
        logger.exception("edits and removals could not be reported after run %s", run_id)
        return None
