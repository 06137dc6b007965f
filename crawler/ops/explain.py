"""`mediawatch explain URL`: what the registry and the archive know about one URL.

The question a user asks first after adding an outlet is "why is this article not in my
archive?". The answer is spread over the registry (which outlet owns the host, whether its
article_url_pattern accepts the URL), the crawl state (whether a feed, sitemap or section
ever listed it), the fetches (status, robots.txt, errors) and the extraction (stored, or
judged no article). This reads them all, read-only and without any network access, and
says at which step the URL stopped, with the fix.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from crawler.web.urls import article_id, clean_url, host_key

if TYPE_CHECKING:
    from crawler.registry.model import Registry, Source

# Fetches shown per URL: the newest ones (a long-lived article is re-checked for months).
FETCHES = 10


@dataclass
class Step:
    """One stage a URL passes on its way into the archive, and what happened there."""

    step: str
    ok: bool | None  # None: nothing to judge (a fact, or a stage that was not reached)
    detail: str
    fix: str | None = None


def _rows(conn: sqlite3.Connection, sql: str, params: list[Any] | dict[str, Any]
          ) -> list[dict[str, Any]]:
    cursor = conn.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor]


def _registry_steps(url: str, registry: Registry | None) -> tuple[list[Step], Source | None]:
    if registry is None:
        return [Step("outlet", None, "the registry was not read (no sources.toml)")], None
    source = registry.source_for_url(url)
    if source is None:
        owner = next((s for s in registry.sources if s.publishes(url)), None)
        if owner is not None:
            return [Step("outlet", False, f"{host_key(url)} is an alias of {owner.id} "
                         "(aliases are never fetched: a canonical link there is that outlet's "
                         "own article)", "crawl the URL under the outlet's own host")], None
        return [Step("outlet", False, f"no outlet of {registry.path} has the host "
                     f"{host_key(url)}: crawls never fetch it",
                     "add the outlet (`mediawatch sources discover HOMEPAGE` proposes an "
                     "entry), or its host to the outlet it belongs to")], None
    steps = [Step("outlet", source.enabled, f"{source.id} ({source.name})"
                  + ("" if source.enabled else ": disabled, crawls skip it"),
                  None if source.enabled else f"set enabled = true for {source.id}")]
    pattern = source.article_url_pattern
    if pattern is None:
        steps.append(Step("pattern", None, "the outlet has no article_url_pattern: its "
                          "sitemaps' URLs are all taken as articles, its section pages yield "
                          "none; feed entries and seed URLs are taken as they are",
                          "`mediawatch sources discover` proposes a pattern"))
    else:
        import re

        if re.search(pattern, url):
            steps.append(Step("pattern", True, "article_url_pattern accepts it"))
        else:
            steps.append(Step("pattern", False, f"article_url_pattern '{pattern}' rejects it: "
                              "sitemaps and section pages skip it (a feed entry or a seed URL "
                              "is still fetched)", "widen the pattern if this is an article, "
                              "and add the URL to the outlet's examples"))
    return steps, source


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _state(conn: sqlite3.Connection, urls: list[str]) -> dict[str, Any] | None:
    rows = _rows(conn, "SELECT * FROM url_state WHERE url IN (SELECT value FROM json_each(?))",
                 [json.dumps(urls)])
    return rows[0] if rows else None


def _articles(conn: sqlite3.Connection, urls: list[str], ids: set[str]) -> list[dict[str, Any]]:
    sql = ("SELECT id, source_id, url, canonical_url, title, published, lang, on_topic, "
           "extraction_status, extraction_error, extractor_version, access, removed_at, "
           "first_seen_at, fetched_at, republication_of FROM articles WHERE id IN "
           "(SELECT value FROM json_each(:ids)) OR url IN (SELECT value FROM json_each(:urls)) "
           "OR canonical_url IN (SELECT value FROM json_each(:urls))")
    return _rows(conn, sql, {"ids": json.dumps(sorted(ids)), "urls": json.dumps(urls)})


def _fetches(conn: sqlite3.Connection, urls: list[str], ids: set[str]) -> list[dict[str, Any]]:
    sql = ("SELECT id, url, final_url, kind, discovered_via, discovered_from, status, outcome, "
           "error, article_id, run_id, fetched_at, last_fetched_at, fetch_count FROM pages "
           "WHERE url IN (SELECT value FROM json_each(:urls)) OR article_id IN "
           "(SELECT value FROM json_each(:ids)) ORDER BY last_fetched_at DESC, id DESC LIMIT "
           f"{FETCHES}")
    return _rows(conn, sql, {"urls": json.dumps(urls), "ids": json.dumps(sorted(ids))})


def _origins(conn: sqlite3.Connection, fetches: list[dict[str, Any]], tables: set[str]
             ) -> list[Step]:
    """Captures that came from a WARC file (`warc import`) or a web archive (`backfill`)."""
    if not fetches or "capture_origins" not in tables:
        return []
    rows = _rows(conn, "SELECT file, via, record_date FROM capture_origins WHERE page_id IN "
                 "(SELECT value FROM json_each(?)) LIMIT 3", [json.dumps([f["id"]
                                                                           for f in fetches])])
    return [Step("imported", None, f"captured by {r['via']} from {r['file']}"
                 + (f" (record of {r['record_date']})" if r.get("record_date") else ""))
            for r in rows]


def _discovery_step(state: dict[str, Any] | None, pattern_ok: bool | None,
                    fetched: bool) -> Step:
    if state is None and fetched:
        return Step("found", None, "no crawl listed it: its capture was imported "
                    "(`warc import` or `backfill`)")
    if state is None:
        why = ("no feed, sitemap or section page that a crawl read has listed it"
               if pattern_ok is not False else "its pattern keeps sitemaps and sections from "
               "taking it, and no feed listed it")
        return Step("found", False, f"never found: {why}",
                    "add it to the outlet's urls (seeds), or a feed or section that lists it; "
                    "`mediawatch sources probe` shows what each listing yields")
    via = state.get("discovered_via") or "?"
    origin = f" {state['discovered_from']}" if state.get("discovered_from") else ""
    return Step("found", True, f"first seen {state['first_seen']} via {via}{origin}")


_OUTCOMES = {
    "not_article": ("the extractor judged the page not one article (a homepage or a listing "
                    "of several)", "if it is one, record it as a test page and report the "
                                    "extraction bug"),
    "empty": ("the extractor found no text on the page", "see the capture: "
              "`mediawatch warc export`"),
    "extraction_error": ("extraction failed", "`mediawatch reextract` retries it"),
    "http_error": ("the server answered with an error", "it is fetched again when due"),
    "network_error": ("no answer arrived", "it is fetched again when due"),
    "dropped": ("the request was dropped before it was sent", None),
    "parse_error": ("the response could not be parsed", None),
    "too_large": ("the page is larger than DOWNLOAD_MAXSIZE; its text is never stored",
                  "raise -s DOWNLOAD_MAXSIZE=... if the outlet's pages are that large"),
}


def _fetch_steps(fetches: list[dict[str, Any]], state: dict[str, Any] | None) -> list[Step]:
    if not fetches:
        if state is not None and state.get("last_fetched") is None:
            return [Step("fetched", None, "found but not fetched yet (queued for a later "
                         f"crawl; due {state.get('next_due') or 'now'})",
                         "`mediawatch crawl` fetches what is queued, within max_requests")]
        return [Step("fetched", None, "no fetch on record")]
    last = fetches[0]
    said = f"last {last['last_fetched_at']}: HTTP {last['status'] or '-'}"
    outcome = last["outcome"]
    text, fix = _OUTCOMES.get(outcome, (outcome, None))
    if outcome in ("ok", "extracted", "not_article", "empty", "extraction_error"):
        steps = [Step("fetched", True, said)]
        if outcome not in ("ok", "extracted"):  # fetched, then the extraction said no
            error = f" ({last['error']})" if last.get("error") else ""
            steps.append(Step("extracted", False, f"{text}{error}", fix))
        return steps
    if "robots" in (last.get("error") or "").lower():
        text, fix = "robots.txt disallows it; the crawl obeys robots.txt", None
    error = f" ({last['error']})" if last.get("error") else ""
    return [Step("fetched", False, f"{said}, {outcome}{error}: {text}", fix)]


def _stored_step(articles: list[dict[str, Any]]) -> Step:
    if not articles:
        return Step("stored", False, "no article row")
    a = articles[0]
    said = (f"article {a['id']} ({a['source_id']}): {a['title']!r}, published "
            f"{a['published'] or 'unknown'}, extraction {a['extraction_status']}, "
            f"access {a['access']}, extractor {a['extractor_version']}")
    if a.get("extraction_error"):
        said += f" ({a['extraction_error']})"
    if a.get("removed_at"):
        said += f"; gone from the outlet since {a['removed_at']}"
    fix = None
    if a.get("on_topic") == 0:
        said += "; off topic (searches and counts limited to the topic leave it out)"
        fix = "its topic_terms column shows which of the [topic] groups found no term"
    said += f"; its page: /article/{a['id']} (`mediawatch serve`)"
    return Step("stored", True, said, fix)


def explain_many(urls: list[str], registry: Registry | None, db: str | Path
                 ) -> list[dict[str, Any]]:
    """explain() of each URL over one read-only connection (a list to check coverage)."""
    if not Path(db).exists():
        return [explain(url, registry, db) for url in urls]
    conn = sqlite3.connect(f"file:{Path(db)}?mode=ro", uri=True)
    try:
        return [explain(url, registry, db, conn) for url in urls]
    finally:
        conn.close()


def explain(url: str, registry: Registry | None, db: str | Path,
            conn: sqlite3.Connection | None = None) -> dict[str, Any]:
    """Every step of one URL's way into the archive, as plain data (`explain --json`);
    over `conn` when given (left open), else over a read-only connection of its own."""
    cleaned = clean_url(url)
    report: dict[str, Any] = {"url": url, "crawled_as": cleaned, "source": None,
                              "url_state": None, "fetches": [], "articles": []}
    steps: list[Step] = []
    if cleaned != url:
        dropped = sorted(set(urlsplit(url).query.split("&")) - set(urlsplit(cleaned).query
                                                                    .split("&")) - {""})
        steps.append(Step("cleaned", None, f"crawled as {cleaned}" + (
            f" (tracking parameters removed: {', '.join(dropped)})" if dropped else "")))
    found, source = _registry_steps(cleaned, registry)
    steps += found
    report["source"] = source.id if source is not None else None
    pattern_ok = next((s.ok for s in found if s.step == "pattern"), None)
    if conn is None and not Path(db).exists():
        steps.append(Step("archive", None, f"{db} does not exist: nothing was crawled into it"))
    else:
        own = conn is None
        conn = conn or sqlite3.connect(f"file:{Path(db)}?mode=ro", uri=True)
        try:
            tables = _tables(conn)
            if not {"url_state", "pages", "articles"} <= tables:
                steps.append(Step("archive", None, f"{db} holds no crawl tables"))
            else:
                urls = list(dict.fromkeys([cleaned, url]))
                state = _state(conn, urls)
                ids = {article_id(cleaned)} | ({state["article_id"]} if state and
                                               state.get("article_id") else set())
                fetches = _fetches(conn, urls, ids)
                ids |= {f["article_id"] for f in fetches if f.get("article_id")}
                articles = _articles(conn, urls, ids)
                report.update(url_state=state, fetches=fetches, articles=articles)
                if state is not None and state["kind"] != "article":
                    for step in steps:  # a listing is no article: its pattern is no matter
                        if step.step == "pattern":
                            step.ok, step.fix = None, None
                    steps.append(Step("listing", None, f"a {state['kind']} of "
                                      f"{state['source_id']}: crawls read it for the article "
                                      "links it lists; it is never stored as an article"))
                if source is not None or state is not None or fetches:
                    steps.append(_discovery_step(state, pattern_ok, bool(fetches)))
                    steps += _fetch_steps(fetches, state)
                    steps += _origins(conn, fetches, tables)
                steps.append(_stored_step(articles))
                if state is not None:
                    due = state.get("next_due")
                    steps.append(Step("next", None, f"re-checked after {due}" if due else
                                      "not re-checked again (past the re-check window)"))
        finally:
            if own:
                conn.close()
    report["steps"] = [asdict(s) for s in steps]
    report["stored"] = bool(report["articles"])
    return report
