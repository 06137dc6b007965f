"""Read-only view of the crawl state in archive.db (the frontier lives in SQLite, not in RAM).

The spider asks it what to fetch and which validators to send; only crawler.archive writes.
"""

from __future__ import annotations

import json
import sqlite3
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

    def crawl_delay(self, source_id: str) -> float | None:
        """The Crawl-delay robots.txt asked of this outlet at the last crawl."""
        row = self.conn.execute("SELECT crawl_delay FROM outlet_state WHERE source_id = ?",
                                [source_id]).fetchone()
        return row[0] if row else None

    def due(self, source_id: str, now: str, recheck_all: bool, limit: int | None) -> list[Due]:
        """Articles to fetch: never fetched first (oldest discovery first), then most overdue."""
        due_clause = "1" if recheck_all else "(next_due IS NOT NULL AND next_due <= ?)"
        params: list[object] = [source_id]
        if not recheck_all:
            params.append(now)
        sql = (
            "SELECT url, source_id, discovered_via, discovered_from, hints, etag, last_modified,"
            " last_fetched IS NOT NULL FROM url_state WHERE source_id = ? AND kind = 'article'"
            f" AND (last_fetched IS NULL OR {due_clause})"
            " ORDER BY last_fetched IS NOT NULL, coalesce(next_due, first_seen), first_seen, url"
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

    def count_due(self, source_id: str, now: str, recheck_all: bool) -> int:
        """How many articles of an outlet are waiting (new or due)."""
        return len(self.due(source_id, now, recheck_all, None))
