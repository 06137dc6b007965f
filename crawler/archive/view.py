"""Read-only view of the crawl state in archive.db (the frontier lives in SQLite, not in RAM).

The spider asks it what to fetch and which validators to send; only crawler.archive.core writes.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Due:
    """An article URL to fetch now, with what is known about it."""

    url: str
    source_id: str
    via: str
    origin: str | None
    hints: dict[str, str]
    etag: str | None
    last_modified: str | None
    known: bool  # fetched before: a re-check, not a first fetch


class CrawlState:
    """Queries over url_state and outlet_state through a read-only connection."""

    def __init__(self, db_path: str | Path) -> None:
        self.conn = sqlite3.connect(f"file:{Path(db_path)}?mode=ro", uri=True,
                                    check_same_thread=False)
        self.conn.execute("PRAGMA busy_timeout = 30000")

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def validators(self, url: str) -> tuple[str | None, str | None]:
        """The ETag and Last-Modified stored for a URL, to make the next request conditional."""
        row = self.conn.execute(
            "SELECT etag, last_modified FROM url_state WHERE url = ? AND last_status = 200",
            [url]).fetchone()
        return (row[0], row[1]) if row else (None, None)

    def content_hash(self, url: str) -> str | None:
        """The body hash of the last successful fetch of a URL."""
        row = self.conn.execute("SELECT content_hash FROM url_state WHERE url = ?",
                                [url]).fetchone()
        return row[0] if row else None

    def paused(self, source_id: str, now: str) -> str | None:
        """Why an outlet is paused, if it is paused at `now`."""
        row = self.conn.execute(
            "SELECT paused_reason FROM outlet_state WHERE source_id = ? AND paused_until > ?",
            [source_id, now]).fetchone()
        return row[0] if row else None

    def due(self, source_id: str, now: str, recheck_all: bool, limit: int | None,
            exclude: Collection[str] = (), since: str | None = None) -> list[Due]:
        """Articles to fetch: never fetched first, then most overdue.

        New URLs are taken round-robin across the documents that listed them, so one huge
        feed cannot starve the others when a budget runs out. `limit` pages through the
        frontier (SQL LIMIT: the rest never leaves SQLite); `exclude` and `since` (fetched at
        or after it) leave out what this crawl already took.
        """
        where, params = self._due_where(source_id, now, recheck_all, exclude, since)
        sql = (
            "SELECT url, source_id, discovered_via, discovered_from, hints, etag, last_modified,"
            " known FROM (SELECT *, last_fetched IS NOT NULL AS known, ROW_NUMBER() OVER ("
            "PARTITION BY coalesce(discovered_from, '') ORDER BY first_seen, url) AS turn"
            f" FROM url_state WHERE {where})"
            " ORDER BY known, CASE WHEN known THEN 0 ELSE turn END,"
            " coalesce(next_due, first_seen), first_seen, url"
        )
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [
            Due(url, sid, via or "", origin, json.loads(hints or "{}"), etag, modified,
                bool(known))
            for url, sid, via, origin, hints, etag, modified, known
            in self.conn.execute(sql, params)
        ]

    def due_count(self, source_id: str, now: str, recheck_all: bool,
                  exclude: Collection[str] = (), since: str | None = None) -> int:
        """How many articles due() would return without a limit (counted in SQL)."""
        where, params = self._due_where(source_id, now, recheck_all, exclude, since)
        return int(self.conn.execute(f"SELECT count(*) FROM url_state WHERE {where}",
                                     params).fetchone()[0])

    def newest_fetch(self, source_ids: Collection[str]) -> str | None:
        """The latest fetch time (second precision) of any article of these outlets, if any."""
        # One index seek per outlet (url_state_due leads with source_id, kind, last_fetched).
        times = [self.conn.execute("SELECT max(last_fetched) FROM url_state WHERE source_id = ?"
                                   " AND kind = 'article'", [sid]).fetchone()[0]
                 for sid in source_ids]
        return max((t for t in times if t), default=None)

    def fetched_since(self, urls: Collection[str], since: str) -> set[str]:
        """Which of `urls` the archive shows as fetched at or after `since` (committed)."""
        if not urls:
            return set()
        return {row[0] for row in self.conn.execute(
            "SELECT url FROM url_state WHERE url IN (SELECT value FROM json_each(?))"
            " AND last_fetched >= ?", [json.dumps(list(urls)), since])}

    @staticmethod
    def _due_where(source_id: str, now: str, recheck_all: bool, exclude: Collection[str],
                   since: str | None) -> tuple[str, list[object]]:
        due_clause = "1" if recheck_all else "(next_due IS NOT NULL AND next_due <= ?)"
        params: list[object] = [source_id]
        if not recheck_all:
            params.append(now)
        where = ("source_id = ? AND kind = 'article'"
                 f" AND (last_fetched IS NULL OR {due_clause})")
        if since is not None:
            where += " AND (last_fetched IS NULL OR last_fetched < ?)"
            params.append(since)
        if exclude:
            # One JSON parameter, not one per URL: SQLite caps bound variables.
            where += " AND url NOT IN (SELECT value FROM json_each(?))"
            params.append(json.dumps(list(exclude)))
        return where, params

    def _has_table(self, name: str) -> bool:
        return self.conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?",
                                 [name]).fetchone() is not None

    def doc_due(self, url: str, now: str) -> bool:
        """Whether a discovery document (feed, sitemap, section, robots.txt) should be polled.

        Never polled, or its poll is due, or (robots.txt, sitemap indexes) one of the
        sitemaps it led to is due: the parent is the only way to reach its children.
        """
        row = self.conn.execute("SELECT last_fetched, next_due, source_id FROM url_state "
                                "WHERE url = ?", [url]).fetchone()
        if row is None or row[0] is None or row[1] is None or row[1] <= now:
            return True
        return self._child_sitemap(row[2], url, due_by=now)

    def lists_sitemaps(self, source_id: str, url: str) -> bool:
        """Whether a sitemap (or robots.txt) led to other sitemaps when last fetched."""
        return self._child_sitemap(source_id, url)

    def _child_sitemap(self, source_id: str, url: str, due_by: str | None = None) -> bool:
        """Whether `url` led to a sitemap (one due by `due_by`, if given)."""
        # (source_id, kind) lead the url_state_due index: an outlet's few sitemap rows. Without
        # the outlet this read every row of url_state (`crawl --due` of a large archive).
        due = " AND (next_due IS NULL OR next_due <= ?)" if due_by is not None else ""
        return self.conn.execute(
            "SELECT 1 FROM url_state WHERE source_id = ? AND kind = 'sitemap' "
            f"AND discovered_from = ?{due} LIMIT 1",
            [source_id, url, *([due_by] if due_by is not None else [])]).fetchone() is not None

    def has_due_articles(self, source_id: str, now: str) -> bool:
        """Whether the outlet's frontier holds a never-fetched or due article."""
        return self.conn.execute(
            "SELECT 1 FROM url_state WHERE source_id = ? AND kind = 'article' AND "
            "(last_fetched IS NULL OR (next_due IS NOT NULL AND next_due <= ?)) LIMIT 1",
            [source_id, now]).fetchone() is not None

    def canary_due(self, url: str, now: str) -> bool:
        """Whether a canary URL is due for its re-check (never checked: due)."""
        if not self._has_table("canaries"):
            return True
        row = self.conn.execute("SELECT next_due FROM canaries WHERE url = ?", [url]).fetchone()
        return row is None or row[0] is None or row[0] <= now

    def next_due(self, source_id: str, urls: list[str]) -> str | None:
        """The earliest time anything of this outlet falls due: `urls`, frontier, canaries."""
        times = []
        if urls:
            marks = ", ".join("?" * len(urls))
            times.append(self.conn.execute(
                f"SELECT min(next_due) FROM url_state WHERE url IN ({marks})", urls
            ).fetchone()[0])
            # The sitemaps they led to, found through the outlet (url_state_due), not a scan.
            times.append(self.conn.execute(
                f"SELECT min(next_due) FROM url_state WHERE source_id = ? AND kind = 'sitemap'"
                f" AND discovered_from IN ({marks})", [source_id, *urls]).fetchone()[0])
        times.append(self.conn.execute(
            "SELECT min(next_due) FROM url_state WHERE source_id = ? AND kind = 'article'",
            [source_id]).fetchone()[0])
        if self._has_table("canaries"):
            times.append(self.conn.execute(
                "SELECT min(next_due) FROM canaries WHERE source_id = ?",
                [source_id]).fetchone()[0])
        known = [t for t in times if t]
        return min(known) if known else None
