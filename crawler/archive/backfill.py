"""The archive's backfill writes: `backfill_files` (each WARC file's state) and
`capture_origins` (where an imported capture was read from).

Composed into crawler.archive.core.Archive as `archive.backfill`; every write runs in the
archive's transaction (a savepoint inside an open batch).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import sqlite_utils

from crawler.clock import utcnow

if TYPE_CHECKING:
    from crawler.items import FetchedPage


@dataclass
class FileCounts:
    """What backfilling one WARC file did."""

    bytes: int = 0
    records_seen: int = 0
    records_matched: int = 0
    stored: int = 0
    articles_new: int = 0
    articles_updated: int = 0
    out_of_window: int = 0
    dropped: int = 0
    malformed: int = 0


def source_key(source_ids: Iterable[str]) -> str:
    """The outlets a file was filtered for, as backfill_files.sources stores them."""
    return ",".join(sorted(set(source_ids)))


class BackfillStore:
    """backfill_files and capture_origins."""

    def __init__(self, db: sqlite_utils.Database,
                 transaction: Callable[[], AbstractContextManager[None]]) -> None:
        self.db = db
        self._tx = transaction

    def plan(self, files: Iterable[tuple[str, str]], sources: str) -> None:
        """Add (file, month) pairs as pending, keeping the state of those already known."""
        with self._tx():
            self.db.conn.executemany(
                "INSERT INTO backfill_files (file, sources, month) VALUES (?, ?, ?) "
                "ON CONFLICT (file, sources) DO NOTHING",
                [(file, sources, month) for file, month in files])

    def done_files(self, files: Iterable[str], source_ids: Iterable[str]) -> set[str]:
        """Files already backfilled for every one of these outlets (perhaps with others)."""
        wanted = set(source_ids)
        names = list(files)
        done: set[str] = set()
        for start in range(0, len(names), 500):
            part = names[start:start + 500]
            rows = self.db.execute(
                f"SELECT file, sources FROM backfill_files WHERE state = 'done' AND file IN "
                f"({','.join('?' * len(part))})", part).fetchall()
            done |= {file for file, sources in rows if wanted <= set(sources.split(","))}
        return done

    def start_file(self, file: str, sources: str, run_id: int | None) -> None:
        """A file is being read (a kill leaves it pending, so the next run redoes it)."""
        with self._tx():
            self.db.execute(
                "UPDATE backfill_files SET state = 'pending', attempts = attempts + 1, "
                "started_at = ?, finished_at = NULL, reason = NULL, run_id = ? "
                "WHERE file = ? AND sources = ?", [utcnow(), run_id, file, sources])

    def finish_file(self, file: str, sources: str, counts: FileCounts,
                    failure: str | None = None) -> None:
        """Close a file: done with its counts, or failed with the reason (retried next run)."""
        with self._tx():
            self.db.table("backfill_files").update(
                (file, sources), {**asdict(counts), "finished_at": utcnow(),
                                  "state": "failed" if failure else "done", "reason": failure})

    def stored_offsets(self, file: str) -> frozenset[int]:
        """Offsets of this file's records already stored (a redone file skips them)."""
        return frozenset(r[0] for r in self.db.execute(
            "SELECT record_offset FROM capture_origins WHERE file = ?", [file]))

    def record_origin(self, page: FetchedPage, page_id: int, article_id: str | None) -> None:
        """Remember which record of which WARC a stored capture was read from."""
        origin = page.origin
        if origin is None:
            return
        file, offset, length = origin
        self.db.execute(
            "INSERT INTO capture_origins (file, record_offset, record_length, page_id, "
            "article_id, via, record_date, url) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (file, record_offset) DO NOTHING",
            [file, offset, length, page_id, article_id,
             "ccnews" if page.discovered_via == "ccnews" else "warc-import", page.fetched_at,
             page.url])

    def keep_earliest(self, page: FetchedPage, article_id: str | None,
                      next_due: str | None) -> None:
        """An old capture: first seen is the earliest capture, whatever order they came in;
        the re-check schedule is the one a crawl finding the URL today would set."""
        self.db.execute(
            "UPDATE url_state SET first_seen = min(first_seen, ?), next_due = ? WHERE url = ?",
            [page.fetched_at, next_due, page.url])
        if article_id:
            self.db.execute(
                "UPDATE articles SET first_seen_at = min(first_seen_at, ?) WHERE id = ?",
                [page.fetched_at, article_id])
