"""The only module that writes archive.db (with its mixins in crawler/archive_*.py).

Every write is idempotent: a capture is keyed by URL + outcome + body hash, an article
by a stable id from its normalised URL (or its same-outlet canonical link), so running
the same crawl twice changes nothing but timestamps and counters.

Transactions nest: the outermost `transaction()` (or `batch()`) is BEGIN…COMMIT, inner ones
are savepoints, so a batch of many items commits once and a failing item undoes only itself.
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import logging
import os
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import sqlite_utils
from mediawatch_schema.migrations import migrations

from crawler.archive.backfill import BackfillStore
from crawler.archive.pages import PagesMixin
from crawler.archive.probes import ProbeStore
from crawler.archive.warc import DEFAULT_MAX_BYTES, Capture, WarcLocation, WarcStore, read_capture
from crawler.archive.watches import WatchStore
from crawler.clock import utcnow
from crawler.framing.lexicon import LEXICON_PATH
from crawler.search.columns import SEARCH_VERSION, search_columns

if TYPE_CHECKING:
    from crawler.registry.model import Registry, Source

logger = logging.getLogger(__name__)
MIGRATIONS_PATH = Path(__file__).resolve().parents[2] / "schema" / "migrations.py"


def warc_folder(db_path: str | Path) -> Path:
    """The folder of raw WARC captures that belongs to an archive: beside it, named after it."""
    path = Path(db_path)
    return path.with_name(f"{path.stem}-warc")


class ArchiveError(Exception):
    """The archive cannot be opened or used; the message says how to fix it."""


class ArchiveLocked(ArchiveError):
    """Another process is writing this archive."""


def open_db(path: str | Path) -> sqlite_utils.Database:
    """Open (creating and migrating if needed) an archive in WAL mode."""
    path = Path(path)
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        db = sqlite_utils.Database(path)
        db.execute("PRAGMA busy_timeout = 30000")
        db.enable_wal()
        # WAL + NORMAL: a commit survives a killed process (not a power cut) without an fsync
        # per fetch; the crawl's crash-safety promise is about processes.
        db.execute("PRAGMA synchronous = NORMAL")
        migrations.apply(db)
    except Exception as exc:  # sqlite3.DatabaseError and friends: not a usable archive
        raise ArchiveError(
            f"cannot open archive {path}: {exc}. Point --db at a mediawatch archive "
            "or at a new file name (it will be created)."
        ) from exc
    db.execute("PRAGMA foreign_keys = ON")
    return db


@dataclass
class RunCounters:
    """What one crawl did to the archive."""

    pages_new: int = 0
    pages_seen_again: int = 0
    articles_new: int = 0
    articles_updated: int = 0
    articles_unchanged: int = 0
    extraction_failures: int = 0
    errors: int = 0
    not_modified: int = 0
    articles_removed: int = 0
    deferred: int = 0
    error_summary: Counter[str] = field(default_factory=Counter)


class Archive(PagesMixin):
    """The single writer of archive.db."""

    def __init__(self, path: str | Path, lock: bool = True,
                 warc_max_bytes: int = DEFAULT_MAX_BYTES, recheck_max_age_days: int = 365,
                 lexicon_path: str | Path | None = None) -> None:
        self.path = Path(path)
        self.lexicon_path = Path(lexicon_path) if lexicon_path else LEXICON_PATH
        self.recheck_max_age_days = recheck_max_age_days
        self._lock_file: IO[str] | None = self._acquire_lock() if lock else None
        try:
            self.db = open_db(self.path)
        except ArchiveError:
            self.release()
            raise
        self.counters = RunCounters()
        self.watches = WatchStore(self.db, self.transaction)
        self._sources: dict[str, Source] = {}
        self._depth = 0  # open transaction() levels: 0 = none, 1 = BEGIN, >1 = savepoints
        self.commits = 0  # outermost COMMITs so far (what batching saves; tests count them)
        self.warc = WarcStore(warc_folder(self.path), max_bytes=warc_max_bytes)
        self.probes = ProbeStore(self.db, self.transaction)
        self.backfill = BackfillStore(self.db, self.transaction)
        if lock:
            # Only the lock holder may repair: without it another process may be appending.
            for name, dropped in self.warc.recover():
                logger.warning("%s: dropped a torn %d-byte tail left by a killed writer",
                               name, dropped)
            self.reindex_search()

    def _acquire_lock(self) -> IO[str]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(f"{self.path}.lock", "a+")  # noqa: SIM115 - held for the archive's life
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise ArchiveLocked(
                f"{self.path} is being written by {holder}; wait for it to finish "
                "(two crawls never write one archive at once)."
            ) from exc
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        return handle

    def release(self) -> None:
        """Release the writer lock."""
        if self._lock_file is not None:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()
            self._lock_file = None

    def close(self) -> None:
        """Close the WARC file, checkpoint, close the database and release the lock."""
        try:
            if self.db.conn.in_transaction:
                # Only a caller that left a batch open gets here; its rows were never committed.
                logger.warning("closing %s with an open transaction: rolled back", self.path)
                self.db.conn.execute("ROLLBACK")
                self._depth = 0
            self.warc.close()
            self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self.db.conn.close()
        finally:
            self.release()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One atomic write; nested inside another, a savepoint that can fail on its own."""
        conn = self.db.conn
        depth = self._depth
        if depth and not conn.in_transaction:
            raise ArchiveError("the open batch was rolled back by SQLite after an earlier "
                               "error (disk full? I/O error?); end it and start a new one")
        # RunCounters describe rows: a rolled-back write must not leave its counts behind.
        # (Restored into this very object: a caller may swap in fresh counters meanwhile.)
        counters = self.counters
        saved = dataclasses.replace(counters, error_summary=Counter(counters.error_summary))
        # sqlite3's implicit BEGIN would be committed by sqlite-utils after each statement:
        # an explicit BEGIN holds every statement of the block until our COMMIT.
        conn.execute(f"SAVEPOINT mw_{depth}" if depth else "BEGIN IMMEDIATE")
        self._depth = depth + 1
        try:
            yield
            self._depth = depth
            if depth:
                conn.execute(f"RELEASE mw_{depth}")
            else:
                conn.execute("COMMIT")
                self.commits += 1
        except BaseException:
            self._depth = depth
            counters.__dict__.update(saved.__dict__)
            if conn.in_transaction:  # some errors (SQLITE_FULL, IOERR) already rolled back
                if depth:
                    conn.execute(f"ROLLBACK TO mw_{depth}")
                    conn.execute(f"RELEASE mw_{depth}")
                else:
                    conn.execute("ROLLBACK")
            raise

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Many writes, one commit: everything written inside is committed when the block ends.

        Each record()/discover()/... inside runs in its own savepoint, so an item that raises
        undoes only its own rows and leaves the batch usable; the caller decides whether to go
        on. An exception that leaves the block rolls the whole batch back. Readers on other
        connections (Datasette, the spider's CrawlState) see nothing of it before the end.
        A process killed inside a batch loses only the batch's rows: their URLs were never
        marked fetched in url_state, so the next crawl fetches them again.

        A consumer that stores items from a queue (e.g. a Redis archiver) does::

            with archive.batch():
                for item in items:
                    try:
                        if isinstance(item, Discovered):
                            archive.discover(item)
                        else:
                            archive.record(item, run_id)
                    except Exception:
                        log.exception("could not store %r", item)  # only this item is lost
            acknowledge(items)  # after the block: only now are the rows durable

        Keep batches small (the crawl uses MEDIAWATCH_BATCH_ITEMS / _SECONDS): a batch
        holds the archive's write lock until it commits. Nested in a transaction, a batch
        is just a savepoint of it.
        """
        with self.transaction():
            yield

    def reindex_search(self, chunk: int = 1000) -> int:
        """Rebuild the search columns (and so the FTS rows) of every article indexed with
        another normaliser than this code's; a no-op lookup when the archive is current."""
        meta = self.db.execute(
            "SELECT value FROM archive_meta WHERE key = 'search_version'").fetchone()
        if meta is not None and meta[0] == SEARCH_VERSION:
            return 0
        done = 0
        while True:
            with self.transaction():
                rows = self.db.execute(
                    "SELECT rowid, title, text FROM articles WHERE search_version IS NULL "
                    "OR search_version != ? LIMIT ?", [SEARCH_VERSION, chunk]).fetchall()
                for rowid, title, text in rows:
                    cols = search_columns(title, text)
                    self.db.execute(
                        "UPDATE articles SET search_title = ?, search_text = ?, "
                        "search_version = ? WHERE rowid = ?",
                        [cols["search_title"], cols["search_text"], cols["search_version"],
                         rowid])
                if not rows:
                    self.db.execute("INSERT OR REPLACE INTO archive_meta (key, value) "
                                    "VALUES ('search_version', ?)", [SEARCH_VERSION])
            done += len(rows)
            if not rows:
                break
            logger.info("re-indexed %d articles for %s", done, SEARCH_VERSION)
        return done

    # -- registry and runs -------------------------------------------------

    def sync_sources(self, registry: Registry) -> None:
        """Upsert the registry into `sources` and the outlet kind into articles."""
        from crawler.registry.model import registry_rows

        now = utcnow()
        self._sources = {s.id: s for s in registry.sources}
        with self.transaction():
            for row in registry_rows(registry):
                config = json.dumps(row, ensure_ascii=False, sort_keys=True)
                known = {c.name for c in self.db.table("sources").columns}
                record = {k: v for k, v in row.items() if k in known}
                record.update(config=config, synced_at=now)
                self.db.table("sources").upsert(record, pk="id")
            for source in registry.sources:
                self.db.execute(
                    "UPDATE articles SET source_kind = ? WHERE source_id = ? "
                    "AND source_kind IS NOT ?",
                    [source.kind, source.id, source.kind],
                )

    def start_run(self, source_ids: list[str], settings: dict[str, Any]) -> int:
        """Insert a crawl_runs row and return its id."""
        from crawler import __version__

        with self.transaction():
            table = self.db.table("crawl_runs").insert(
                {
                    "started_at": utcnow(),
                    "sources": json.dumps(source_ids),
                    "settings": json.dumps(settings, ensure_ascii=False, default=str),
                    "mediawatch_version": __version__,
                    "pid": os.getpid(),
                }
            )
            assert table.last_rowid is not None
            return table.last_rowid

    def close_stale_runs(self) -> int:
        """Runs left open by a killed crawl (the lock says none is running): mark them."""
        with self.transaction():
            return self.db.execute(
                "UPDATE crawl_runs SET finish_reason = 'interrupted (the process was killed)' "
                "WHERE finished_at IS NULL AND finish_reason IS NULL").rowcount

    def finish_run(self, run_id: int, reason: str, stats: dict[str, Any]) -> None:
        """Close a crawl_runs row with its counts and Scrapy's stats."""
        c = self.counters
        with self.transaction():
            self.db.table("crawl_runs").update(
                run_id,
                {
                    "finished_at": utcnow(),
                    "finish_reason": reason,
                    "requests": int(stats.get("downloader/request_count", 0)),
                    "responses": int(stats.get("downloader/response_count", 0)),
                    "pages_new": c.pages_new,
                    "pages_seen_again": c.pages_seen_again,
                    "articles_new": c.articles_new,
                    "articles_updated": c.articles_updated,
                    "articles_unchanged": c.articles_unchanged,
                    "extraction_failures": c.extraction_failures,
                    "errors": c.errors,
                    "not_modified": c.not_modified,
                    "articles_removed": c.articles_removed,
                    "deferred": c.deferred,
                    "error_summary": json.dumps(dict(c.error_summary), ensure_ascii=False),
                    "stats": json.dumps(stats, default=str, sort_keys=True),
                },
            )

    # -- raw captures -----------------------------------------------------

    def read_capture(self, page_id: int) -> Capture:
        """The raw response of one capture, read from its WARC record by offset."""
        row = self.db.execute(
            "SELECT warc_file, warc_offset, warc_length FROM pages WHERE id = ?", [page_id]
        ).fetchone()
        if row is None or row[0] is None:
            raise ArchiveError(f"page {page_id} has no stored capture (no response arrived)")
        return read_capture(self.warc.folder, WarcLocation(row[0], row[1], row[2]))
