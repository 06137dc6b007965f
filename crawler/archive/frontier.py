"""The archive's crawl-state writes: frontier, feed snapshots, schedules, versions, removals.

A store of crawler.archive.core.Archive (the one writer of archive.db). Public entry points
open `self.transaction()` (a savepoint inside a batch); the helpers they call run inside the
caller's transaction.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from crawler.archive.base import Store
from crawler.archive.policy import (
    due_at,
    next_check,
    next_interval,
    retry_check,
    text_diff,
    text_signature,
    version_flags,
)
from crawler.archive.rows import insert_row
from crawler.items import Discovered, FetchedPage
from crawler.web.urls import article_id, clean_url

if TYPE_CHECKING:

    pass

# Discovery documents with an adaptive poll interval (robots.txt is polled at the maximum).
POLLED = ("feed", "sitemap", "section", "robots")


class FrontierStore(Store):
    """url_state (the frontier and every document's schedule), feed_items, article_versions
    and removals."""

    # -- the frontier ------------------------------------------------------

    def discover(self, found: Discovered) -> None:
        """Put a discovery document's article URLs in the frontier; snapshot feeds."""
        with self.transaction():
            new = 0
            for entry in found.entries:
                hints = json.dumps(entry.hints, ensure_ascii=False, sort_keys=True)
                existing = self.db.execute("SELECT hints FROM url_state WHERE url = ?",
                                           [entry.url]).fetchone()
                if existing is None:
                    new += 1
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
            if found.document:
                self._poll_yield(found.source_id, found.document, found.via, found.fetched_at,
                                 new)

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
        body_hash = (page.prepared.body_sha256 if page.prepared else
                     hashlib.sha256(page.body).hexdigest()) if page.body else None
        if page.status == 304:
            body_hash = old_hash
        failures = failures + 1 if failed else 0
        due = None
        if page.kind == "article":
            due = retry_check(failures, page.fetched_at) if failed else next_check(
                self._published(aid), first_seen, page.fetched_at, self._shared.recheck_max_age_days)
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
        if page.kind in POLLED:
            self._schedule_poll(page)

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

    def store_version(self, aid: str, fetched_at: str, title: str | None, text: str,
                      signature: str | None = None) -> None:
        """Add a version when the text changed beyond trivia (spacing, times, counters);
        `signature`: text_signature(text), when the extraction worker made it."""
        signature = signature or text_signature(text)
        # The signature first: the last text is read only when a version is added.
        last = self.db.execute(
            "SELECT version, text_hash, rowid FROM article_versions WHERE article_id = ? "
            "ORDER BY version DESC LIMIT 1", [aid]).fetchone()
        if last is not None and last[1] == signature:
            return
        version, diff, flags = 1, None, []
        if last is not None:
            old_title, old_text = self.db.execute(
                "SELECT title, text FROM article_versions WHERE rowid = ?", [last[2]]).fetchone()
            version = last[0] + 1
            diff = text_diff(old_text or "", text)
            flags = version_flags(old_title, old_text or "", title, text)
        insert_row(self.db, "article_versions", {
            "article_id": aid, "version": version, "fetched_at": fetched_at, "title": title,
            "text_hash": signature, "text": text, "diff": diff,
            "flags": json.dumps(flags)})

    # -- scheduled crawls: poll intervals, canaries, health, alerts ---------------------------

    def _poll_bounds(self, source_id: str) -> tuple[int, int]:
        source = self._sources.get(source_id)
        return (source.poll_min_minutes, source.poll_max_minutes) if source else (15, 1440)

    def _schedule_poll(self, page: FetchedPage) -> None:
        """A discovery document was polled: its next poll, from what the poll yielded so far.

        Items may reach the archive in either order. A poll's yield counted before its page
        was recorded waits in poll_new as a negative number (see _poll_yield).
        """
        low, high = self._poll_bounds(page.source_id)
        if page.kind == "robots":
            self.db.execute("UPDATE url_state SET next_due = ? WHERE url = ?",
                            [due_at(page.fetched_at, high), page.url])
            return
        row = self.db.execute("SELECT poll_minutes, poll_new FROM url_state WHERE url = ?",
                              [page.url]).fetchone()
        current = row[0] if row else None
        pending = -row[1] if row and row[1] and row[1] < 0 else 0
        minutes = next_interval(current, pending, low, high)
        self.db.execute(
            "UPDATE url_state SET poll_prev_minutes = ?, poll_minutes = ?, poll_new = ?, "
            "next_due = ? WHERE url = ?",
            [current, minutes, pending, due_at(page.fetched_at, minutes), page.url])

    def _poll_yield(self, source_id: str, document: str, via: str, fetched_at: str,
                    new: int) -> None:
        """A poll listed `new` article URLs never seen before: adapt the document's interval."""
        row = self.db.execute(
            "SELECT poll_prev_minutes, coalesce(poll_new, 0), last_fetched FROM url_state "
            "WHERE url = ?", [document]).fetchone()
        if not new:
            return
        if row is None:  # the first poll's page is not recorded yet
            self.db.execute("INSERT INTO url_state (url, source_id, kind, first_seen, poll_new) "
                            "VALUES (?, ?, ?, ?, ?)", [document, source_id, via, fetched_at, -new])
            return
        if row[2] != fetched_at:  # this poll's page is not recorded yet: leave the count for it
            self.db.execute("UPDATE url_state SET poll_new = ? WHERE url = ?",
                            [min(row[1], 0) - new, document])
            return
        low, high = self._poll_bounds(source_id)
        total = max(row[1], 0) + new
        minutes = next_interval(row[0], total, low, high)
        self.db.execute("UPDATE url_state SET poll_new = ?, poll_minutes = ?, next_due = ? "
                        "WHERE url = ?", [total, minutes, due_at(fetched_at, minutes), document])
