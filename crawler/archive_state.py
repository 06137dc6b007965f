"""The archive's crawl-state writes: frontier, feed snapshots, schedules, versions, removals.

A mixin of crawler.archive.Archive (still the one writer of archive.db); kept apart so each
module stays readable. Every method runs inside the caller's transaction.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from crawler.history import next_check, retry_check, text_diff, text_signature, version_flags
from crawler.items import Discovered, FetchedPage
from crawler.urls import article_id, clean_url

if TYPE_CHECKING:
    import sqlite_utils

    from crawler.archive import RunCounters
    from crawler.sources import Source


class StateMixin:
    """url_state, feed_items, article_versions, removals and outlet pauses."""

    db: sqlite_utils.Database
    counters: RunCounters
    recheck_max_age_days: int = 365
    _sources: dict[str, Source]

    # -- the frontier ------------------------------------------------------

    def discover(self, found: Discovered) -> None:
        """Put a discovery document's article URLs in the frontier; snapshot feeds."""
        with self.db.conn:
            for entry in found.entries:
                hints = json.dumps(entry.hints, ensure_ascii=False, sort_keys=True)
                existing = self.db.execute("SELECT hints FROM url_state WHERE url = ?",
                                           [entry.url]).fetchone()
                if existing is None:
                    self.db.execute(
                        "INSERT INTO url_state (url, source_id, kind, discovered_via, "
                        "discovered_from, hints, first_seen) VALUES (?, ?, 'article', ?, ?, ?, ?)",
                        [entry.url, found.source_id, found.via, found.document, hints,
                         found.fetched_at])
                elif entry.hints:
                    merged = {**entry.hints, **json.loads(existing[0] or "{}")}
                    self.db.execute("UPDATE url_state SET hints = ? WHERE url = ?",
                                    [json.dumps(merged, ensure_ascii=False, sort_keys=True),
                                     entry.url])
                if found.snapshot and found.document:
                    self._snapshot(found, entry.url, entry.title, entry.published,
                                   entry.position)

    def _snapshot(self, found: Discovered, url: str, title: str | None,
                  published: str | None, position: int | None) -> None:
        self.db.execute(
            "INSERT INTO feed_items (feed_url, item_url, source_id, first_position, "
            "last_position, first_title, last_title, published, first_seen_at, last_seen_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (feed_url, item_url) DO UPDATE "
            "SET last_position = excluded.last_position, last_title = excluded.last_title, "
            "last_seen_at = excluded.last_seen_at",
            [found.document, url, found.source_id, position, position, title, title, published,
             found.fetched_at, found.fetched_at])

    def _state_row(self, url: str) -> Any:
        return self.db.execute(
            "SELECT first_seen, content_hash, failures, article_id FROM url_state WHERE url = ?",
            [url]).fetchone()

    def update_state(self, page: FetchedPage, aid: str | None) -> None:
        """After a fetch: validators, content hash, failures and when to look again."""
        url = page.url
        row = self._state_row(url)
        if row is None:
            self.db.execute(
                "INSERT INTO url_state (url, source_id, kind, discovered_via, discovered_from, "
                "first_seen) VALUES (?, ?, ?, ?, ?, ?)",
                [url, page.source_id, page.kind, page.discovered_via, page.discovered_from,
                 page.fetched_at])
            row = self._state_row(url)
        first_seen, old_hash, failures, old_aid = row
        aid = aid or old_aid
        failed = bool(page.error) or (page.status is not None and page.status >= 500) or \
            page.status == 429
        body_hash = hashlib.sha256(page.body).hexdigest() if page.body else None
        if page.status == 304:
            body_hash = old_hash
        failures = failures + 1 if failed else 0
        due = None
        if page.kind == "article":
            due = retry_check(failures, page.fetched_at) if failed else next_check(
                self._published(aid), first_seen, page.fetched_at, self.recheck_max_age_days)
            if page.error and page.error.startswith("dropped: Forbidden by robots"):
                due = None  # robots.txt said no: never ask again unless rediscovered
        ok = page.status == 200 or page.status == 304
        self.db.execute(
            "UPDATE url_state SET last_fetched = ?, last_status = coalesce(?, last_status), "
            "etag = CASE WHEN ? THEN ? ELSE etag END, "
            "last_modified = CASE WHEN ? THEN ? ELSE last_modified END, "
            "content_hash = coalesce(?, content_hash), "
            "last_changed = CASE WHEN ? THEN ? ELSE last_changed END, "
            "failures = ?, next_due = ?, fetches = fetches + 1, "
            "not_modified = not_modified + ?, article_id = coalesce(?, article_id), "
            "kind = ? WHERE url = ?",
            [page.fetched_at, page.status if page.status != 304 else None,
             page.status == 200, page.headers.get("etag"),
             page.status == 200, page.headers.get("last-modified"),
             body_hash if ok else None,
             ok and body_hash != old_hash, page.fetched_at,
             failures, due, int(page.status == 304 or page.unchanged), aid, page.kind, url])

    def _published(self, aid: str | None) -> str | None:
        if aid is None:
            return None
        row = self.db.execute("SELECT published FROM articles WHERE id = ?", [aid]).fetchone()
        return row[0] if row else None

    def touch_unchanged(self, page: FetchedPage) -> str | None:
        """A 304 or an identical body: nothing re-extracted, the article only gets a fetch time."""
        row = self._state_row(page.url)
        aid = row[3] if row else None
        if aid:
            self.db.execute("UPDATE articles SET fetched_at = ?, removed_at = NULL WHERE id = ?",
                            [page.fetched_at, aid])
        self.counters.not_modified += 1
        return aid

    # -- removals and versions --------------------------------------------

    def mark_removed(self, page: FetchedPage) -> str | None:
        """A live article now 404/410, or redirected to a front page: note when, keep its text."""
        gone = page.status in (404, 410)
        if not gone and page.redirect_chain and page.final_url:
            source = self._sources.get(page.source_id)
            path = urlsplit(page.final_url).path.rstrip("/")
            fronts = {urlsplit(u).path.rstrip("/") for u in
                      ((source.homepage, *source.sections) if source else ())}
            gone = path == "" or path in fronts
        if not gone:
            return None
        row = self._state_row(page.url)
        aid = (row[3] if row else None) or article_id(clean_url(page.url))
        updated = self.db.execute(
            "UPDATE articles SET removed_at = ? WHERE id = ? AND removed_at IS NULL",
            [page.fetched_at, aid]).rowcount
        self.counters.articles_removed += updated
        return aid if updated else None

    def store_version(self, aid: str, fetched_at: str, title: str | None, text: str) -> None:
        """Add a version when the text changed beyond trivia (spacing, times, counters)."""
        signature = text_signature(text)
        last = self.db.execute(
            "SELECT version, text_hash, title, text FROM article_versions WHERE article_id = ? "
            "ORDER BY version DESC LIMIT 1", [aid]).fetchone()
        if last is not None and last[1] == signature:
            return
        version, diff, flags = 1, None, []
        if last is not None:
            version = last[0] + 1
            diff = text_diff(last[3] or "", text)
            flags = version_flags(last[2], last[3] or "", title, text)
        self.db.table("article_versions").insert({
            "article_id": aid, "version": version, "fetched_at": fetched_at, "title": title,
            "text_hash": signature, "text": text, "diff": diff,
            "flags": json.dumps(flags)})

    def pause_outlets(self, paused: dict[str, str], until: str, now: str,
                      crawl_delays: dict[str, float]) -> None:
        """Record outlets paused by this crawl, and robots.txt crawl delays."""
        with self.db.conn:
            for sid, reason in paused.items():
                if reason.startswith("still paused"):
                    continue
                self.db.execute(
                    "INSERT INTO outlet_state (source_id, paused_until, paused_reason, updated_at)"
                    " VALUES (?, ?, ?, ?) ON CONFLICT (source_id) DO UPDATE SET "
                    "paused_until = excluded.paused_until, paused_reason = excluded.paused_reason,"
                    " updated_at = excluded.updated_at", [sid, until, reason, now])
            for sid, delay in crawl_delays.items():
                self.db.execute(
                    "INSERT INTO outlet_state (source_id, crawl_delay, updated_at) VALUES (?, ?, ?)"
                    " ON CONFLICT (source_id) DO UPDATE SET crawl_delay = excluded.crawl_delay, "
                    "updated_at = excluded.updated_at", [sid, delay, now])
