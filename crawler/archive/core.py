"""The Archive: the only writer of archive.db, a facade over the stores of this package.

Every write is idempotent: a capture is keyed by URL + outcome + body hash, an article
by a stable id from its normalised URL (or its same-outlet canonical link), so running
the same crawl twice changes nothing but timestamps and counters.

Transactions nest: the outermost `transaction()` (or `batch()`) is BEGIN…COMMIT, inner ones
are savepoints, so a batch of many items commits once and a failing item undoes only itself.
"""

from __future__ import annotations

import dataclasses
import fcntl
import logging
import os
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import sqlite_utils
from mediawatch_schema.migrations import migrations

from crawler.archive.backfill import BackfillStore
from crawler.archive.base import RunCounters
from crawler.archive.framing import FramingStore
from crawler.archive.frontier import FrontierStore
from crawler.archive.monitoring import MonitoringStore
from crawler.archive.pages import PageStore
from crawler.archive.probes import ProbeStore
from crawler.archive.runs import RunStore
from crawler.archive.warc import DEFAULT_MAX_BYTES, Capture, WarcLocation, WarcStore, read_capture
from crawler.archive.watches import WatchStore
from crawler.framing.lexicon import LEXICON_PATH
from crawler.search.columns import SEARCH_VERSION, search_columns

if TYPE_CHECKING:
    from crawler.items import Discovered, FetchedPage
    from crawler.registry.model import Registry, Source
    from crawler.registry.topic import TopicMatcher

logger = logging.getLogger(__name__)
MIGRATIONS_PATH = Path(__file__).resolve().parents[2] / "schema" / "migrations.py"


def warc_folder(db_path: str | Path) -> Path:
    """The folder of raw WARC captures that belongs to an archive: beside it, named after it."""
    path = Path(db_path)
    return path.with_name(f"{path.stem}-warc")


def warc_file(db_path: str | Path, name: str | None) -> Path | None:
    """The WARC file `name` (as `pages.warc_file` gives it) of an archive, when it exists
    inside the archive's WARC folder; None otherwise (never a path leading out of it)."""
    if not name:
        return None
    folder = warc_folder(db_path).resolve()
    path = (folder / name).resolve()
    return path if path.is_relative_to(folder) and path.is_file() else None


class ArchiveError(Exception):
    """The archive cannot be opened or used; the message says how to fix it."""


class ArchiveLocked(ArchiveError):
    """Another process is writing this archive."""


class WriterLock:
    """The archive's single-writer lock: an exclusive flock on `<db>.lock` naming its pid.

    A command that must hold the archive across several steps (`crawl`: check, Scrapy, the
    story update) takes it once and hands it to each Archive it opens, so no other writer can
    slip in between the steps.
    """

    def __init__(self, db_path: str | Path) -> None:
        path = Path(db_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(f"{path}.lock", "a+")  # noqa: SIM115 - held until release()
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise ArchiveLocked(
                f"{path} is being written by {holder}; wait for it to finish "
                "(two crawls never write one archive at once)."
            ) from exc
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        self._handle: IO[str] | None = handle

    @classmethod
    def inherited(cls, db_path: str | Path) -> WriterLock:
        """The lock this process already holds (taken by the command that runs this crawl)."""
        path = Path(db_path)
        try:
            with open(f"{path}.lock") as handle:
                holder = handle.read().strip()
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.flock(handle, fcntl.LOCK_UN)
        except BlockingIOError:  # held, and the file names the holder
            if holder == f"pid {os.getpid()}":
                lock = cls.__new__(cls)
                lock._handle = None
                return lock
        except OSError:
            pass
        raise ArchiveError(f"{path}: this process was told it holds the archive's writer lock, "
                           "but it does not (run the crawl through `mediawatch crawl`)")

    def release(self) -> None:
        """Let other writers in (an inherited lock stays with the process that took it)."""
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None


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


class Archive:
    """The single writer of archive.db: a facade over the stores that share its connection.

    Stores: `pages` (captures, articles, dates), `frontier` (url_state, feed items, versions,
    removals), `monitoring` (pauses, canaries, health, alerts), `runs` (sources, crawl_runs),
    `framing` (mentions, KWIC, stories, vocabulary runs), `probes`, `watches`, `backfill`. The
    facade keeps the entry points a crawl uses (record, discover, batch, the run rows).
    """

    def __init__(self, path: str | Path, lock: bool | WriterLock = True,
                 warc_max_bytes: int = DEFAULT_MAX_BYTES, recheck_max_age_days: int = 365,
                 lexicon_path: str | Path | None = None) -> None:
        self.path = Path(path)
        self.lexicon_path = Path(lexicon_path) if lexicon_path else LEXICON_PATH
        self.recheck_max_age_days = recheck_max_age_days
        # A WriterLock passed in stays its caller's: close() leaves it held.
        self._lock: WriterLock | None = (
            lock if isinstance(lock, WriterLock) else WriterLock(self.path) if lock else None)
        self._owns_lock = lock is True
        try:
            self.db = open_db(self.path)
        except ArchiveError:
            self.release()
            raise
        self.counters = RunCounters()
        self.sources: dict[str, Source] = {}  # the registry's outlets, as last synced
        self._depth = 0  # open transaction() levels: 0 = none, 1 = BEGIN, >1 = savepoints
        self.commits = 0  # outermost COMMITs so far (what batching saves; tests count them)
        self.warc = WarcStore(warc_folder(self.path), max_bytes=warc_max_bytes)
        self.watches = WatchStore(self.db, self.transaction)
        self.probes = ProbeStore(self.db, self.transaction)
        self.backfill = BackfillStore(self.db, self.transaction)
        self.frontier = FrontierStore(self)
        self.monitoring = MonitoringStore(self)
        self.runs = RunStore(self)
        self.framing = FramingStore(self, self.lexicon_path)
        self.pages = PageStore(self, self.frontier, self.framing, self.backfill)
        if lock:
            # Only the lock holder may repair: without it another process may be appending.
            for name, dropped in self.warc.recover():
                logger.warning("%s: dropped a torn %d-byte tail left by a killed writer",
                               name, dropped)
            self.reindex_search()

    def release(self) -> None:
        """Release the writer lock (unless the caller passed it in: then the caller does)."""
        if self._lock is not None and self._owns_lock:
            self._lock.release()
        self._lock = None

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

    # -- the entry points of a crawl (the stores do the work) -----------------

    def record(self, page: FetchedPage, run_id: int | None = None) -> str | None:
        """Store one fetch and, for articles, its extraction; return the article id."""
        return self.pages.record(page, run_id)

    def discover(self, found: Discovered) -> None:
        """Put a discovery document's article URLs in the frontier; snapshot feeds."""
        self.frontier.discover(found)

    def apply_extraction(self, page_id: int, page: FetchedPage) -> set[str]:
        """Store a re-extraction of a stored capture (see PageStore.apply_extraction)."""
        return self.pages.apply_extraction(page_id, page)

    def retopic(self, matcher: TopicMatcher) -> tuple[int, int]:
        """Re-apply the topic to every article; return (changed, total)."""
        return self.pages.retopic(matcher)

    def sync_sources(self, registry: Registry) -> None:
        """Upsert the registry into `sources` and the outlet kind into articles."""
        self.runs.sync_sources(registry)

    def start_run(self, source_ids: list[str], settings: dict[str, Any]) -> int:
        """Insert a crawl_runs row and return its id."""
        return self.runs.start_run(source_ids, settings)

    def close_stale_runs(self) -> int:
        """Runs left open by a killed crawl (the lock says none is running): mark them."""
        return self.runs.close_stale_runs()

    def finish_run(self, run_id: int, reason: str, stats: dict[str, Any]) -> None:
        """Close a crawl_runs row with its counts and Scrapy's stats."""
        self.runs.finish_run(run_id, reason, stats)

    # -- raw captures -----------------------------------------------------

    def read_capture(self, page_id: int) -> Capture:
        """The raw response of one capture, read from its WARC record by offset."""
        row = self.db.execute(
            "SELECT warc_file, warc_offset, warc_length FROM pages WHERE id = ?", [page_id]
        ).fetchone()
        if row is None or row[0] is None:
            raise ArchiveError(f"page {page_id} has no stored capture (no response arrived)")
        return read_capture(self.warc.folder, WarcLocation(row[0], row[1], row[2]))
