"""The archive's crawl-state writes: frontier, feed snapshots, schedules, versions, removals.

A mixin of crawler.archive.core.Archive (still the one writer of archive.db); kept apart so each
module stays readable. Public entry points open `self.transaction()` (a savepoint inside a
batch); the helpers they call run inside the caller's transaction.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from crawler.archive.policy import (
    Shape,
    canary_problem,
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
    import sqlite_utils

    from crawler.archive.core import RunCounters
    from crawler.ops.alerts import Finding
    from crawler.registry.model import Source

# Discovery documents with an adaptive poll interval (robots.txt is polled at the maximum).
POLLED = ("feed", "sitemap", "section", "robots")


class StateMixin:
    """url_state, feed_items, article_versions, removals and outlet pauses."""

    db: sqlite_utils.Database
    counters: RunCounters
    recheck_max_age_days: int = 365
    _sources: dict[str, Source]
    transaction: Callable[[], AbstractContextManager[None]]  # Archive's one-write scope

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
        insert_row(self.db, "article_versions", {
            "article_id": aid, "version": version, "fetched_at": fetched_at, "title": title,
            "text_hash": signature, "text": text, "diff": diff,
            "flags": json.dumps(flags)})

    def pause_outlets(self, paused: dict[str, str], until: str, now: str,
                      crawl_delays: dict[str, float]) -> None:
        """Record outlets paused by this crawl, and robots.txt crawl delays."""
        with self.transaction():
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

    def check_canary(self, page: FetchedPage, tolerance: float, hours: float) -> str | None:
        """Compare a re-fetched canary with its baseline; store the check; return the problem."""
        now = page.fetched_at
        result = page.extraction
        row = self.db.execute(
            "SELECT baseline_title, baseline_date, baseline_author, baseline_length, problem "
            "FROM canaries WHERE url = ?", [page.url]).fetchone()
        self.db.execute("INSERT INTO canaries (url, source_id) VALUES (?, ?) "
                        "ON CONFLICT (url) DO NOTHING", [page.url, page.source_id])
        status = page.status
        if page.error or status is None or (status >= 400 and status not in (404, 410)):
            # Unreachable or refused: the failure-rate rule speaks for that; retry in an hour.
            self.db.execute("UPDATE canaries SET last_status = ?, next_due = ? WHERE url = ?",
                            [status, due_at(now, 60), page.url])
            return row[4] if row else None
        shape = None
        if status in (404, 410):
            problem: str | None = f"the canary page now answers HTTP {status}"
        elif result is None or result.status != "ok":
            problem = f"the canary no longer extracts ({result.status if result else 'none'})"
        else:
            shape = Shape(result.title, result.date, result.author, len(result.text or ""))
            problem = None
            if row is not None and row[3] is not None:
                problem = canary_problem(Shape(*row[:4]), shape, tolerance)
        if shape is not None and (row is None or row[3] is None):
            self.db.execute(
                "UPDATE canaries SET baseline_title = ?, baseline_date = ?, baseline_author = ?,"
                " baseline_length = ?, baseline_at = ? WHERE url = ?",
                [shape.title, shape.date, shape.author, shape.length, now, page.url])
        self.db.execute(
            "UPDATE canaries SET last_title = ?, last_date = ?, last_author = ?, "
            "last_length = ?, last_status = ?, checked_at = ?, next_due = ?, problem = ? "
            "WHERE url = ?",
            [shape.title if shape else None, shape.date if shape else None,
             shape.author if shape else None, shape.length if shape else None, status, now,
             due_at(now, int(hours * 60)), problem, page.url])
        return problem

    def rebaseline_canaries(self, source_ids: list[str]) -> int:
        """Accept the canaries' current shape as their new baseline (after a known redesign)."""
        marks = ", ".join("?" * len(source_ids))
        where = f"WHERE source_id IN ({marks}) AND" if source_ids else "WHERE"
        with self.transaction():
            return self.db.execute(
                "UPDATE canaries SET baseline_title = last_title, baseline_date = last_date, "
                "baseline_author = last_author, baseline_length = last_length, "
                f"baseline_at = checked_at, problem = NULL {where} last_length IS NOT NULL",
                source_ids).rowcount

    def store_health(self, run_id: int, rows: list[dict[str, Any]]) -> None:
        """Store this run's health row per outlet (a re-run of the same run replaces them)."""
        with self.transaction():
            for row in rows:
                open_alerts = self.db.execute(
                    "SELECT count(*) FROM alerts WHERE source_id = ? AND cleared_at IS NULL",
                    [row["source_id"]]).fetchone()[0]
                self.db.table("health").upsert(
                    {**row, "run_id": run_id, "open_alerts": open_alerts,
                     "status": "alert" if open_alerts else "ok"}, pk=("run_id", "source_id"))

    def sync_alerts(self, findings: list[Finding], now: str, run_id: int | None,
                    link_base: str) -> list[dict[str, Any]]:
        """Raise new alerts once, clear fixed ones; return the raised/cleared events."""
        events = []
        with self.transaction():
            for f in findings:
                if f.action == "keep":
                    continue
                row = self.db.execute(
                    "SELECT id, raised_at, reason, link FROM alerts WHERE source_id = ? AND "
                    "rule = ? AND subject = ? AND cleared_at IS NULL",
                    [f.source_id, f.rule, f.subject]).fetchone()
                event = {"source_id": f.source_id, "rule": f.rule, "subject": f.subject}
                if f.action == "raise" and row is None:
                    link = f"{link_base.rstrip('/')}/health/{f.source_id}"
                    cursor = self.db.execute(
                        "INSERT INTO alerts (source_id, rule, subject, raised_at, last_seen_at, "
                        "reason, link, run_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        [f.source_id, f.rule, f.subject, now, now, f.reason, link, run_id])
                    events.append({**event, "event": "raised", "id": cursor.lastrowid,
                                   "raised_at": now, "reason": f.reason, "link": link})
                elif f.action == "raise":
                    self.db.execute("UPDATE alerts SET last_seen_at = ? WHERE id = ?",
                                    [now, row[0]])
                elif row is not None:
                    self.db.execute("UPDATE alerts SET cleared_at = ? WHERE id = ?",
                                    [now, row[0]])
                    events.append({**event, "event": "cleared", "id": row[0],
                                   "raised_at": row[1], "cleared_at": now,
                                   "reason": f.reason or f"fixed: {row[2]}", "link": row[3]})
        return events

    def mark_delivered(self, took: dict[int, list[str]]) -> None:
        """Remember which channels took each alert event."""
        with self.transaction():
            for alert_id, channels in took.items():
                old = self.db.execute("SELECT delivered FROM alerts WHERE id = ?",
                                      [alert_id]).fetchone()
                merged = sorted(set(json.loads(old[0] or "[]") if old else []) | set(channels))
                self.db.execute("UPDATE alerts SET delivered = ? WHERE id = ?",
                                [json.dumps(merged), alert_id])
