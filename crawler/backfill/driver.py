"""One backfill run: list the months, read each WARC file not yet done, store its outlets'
records through the one extraction path, and keep each file's state in `backfill_files`.

Resumable and idempotent: a file is marked done only after every one of its rows has been
committed; a killed run leaves it pending, and the next run redoes it, passing over the
records whose (file, offset) is already in `capture_origins`. Files are read by download
threads (one by default) into bounded queues while this thread extracts (worker
processes) and writes, so the archive has one writer as always.
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crawler.archive.backfill import FileCounts, source_key
from crawler.archive.core import Archive
from crawler.archive.policy import next_check
from crawler.backfill.ccnews import DEFAULT_BASE, file_url, host_filter, month_files, months
from crawler.backfill.http import Client, DownloadError, RemoteFile, RetryPolicy
from crawler.backfill.pool import ExtractionPool
from crawler.clock import utcnow
from crawler.ingest.captures import page_from_record
from crawler.ingest.extraction import extraction_hints, wants_extraction
from crawler.ingest.warc_fast import HostFilter, Record, ScanReport
from crawler.ingest.warc_read import scan
from crawler.items import FetchedPage
from crawler.registry.model import Registry

logger = logging.getLogger(__name__)


@dataclass
class BackfillOptions:
    """What to backfill and how hard to work."""

    start: str
    end: str
    source_ids: tuple[str, ...] = ()
    base: str = DEFAULT_BASE
    jobs: int = 1
    downloads: int = 1
    max_files: int | None = None
    keep: Path | None = None
    strict_dates: bool = False
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    batch_items: int = 200
    batch_seconds: float = 2.0


@dataclass
class BackfillReport:
    """What a backfill run did (printed, and kept in crawl_runs.stats)."""

    run_id: int | None = None
    months: int = 0
    files_listed: int = 0
    files_skipped: int = 0  # done by an earlier run
    files_todo: int = 0
    files_done: int = 0
    files_failed: int = 0
    failures: list[str] = field(default_factory=list)
    records: int = 0
    matched: int = 0
    stored: int = 0
    articles_new: int = 0
    articles_updated: int = 0
    out_of_window: int = 0
    undated: int = 0
    dropped: int = 0
    truncated: int = 0
    malformed: int = 0
    bytes: int = 0
    requests: int = 0
    retries: int = 0
    worker_restarts: int = 0  # extraction pools replaced after a worker died
    started: float = field(default_factory=time.monotonic)
    current: str = ""
    live: ScanReport | None = None  # the file being read

    @property
    def records_now(self) -> int:
        """Records read, the current file's included."""
        return self.records + (self.live.records if self.live else 0)

    @property
    def matched_now(self) -> int:
        """Records of the outlets, the current file's included."""
        return self.matched + (self.live.matched if self.live else 0)

    @property
    def seconds(self) -> float:
        """Wall time so far."""
        return time.monotonic() - self.started


Progress = Callable[[BackfillReport], None]


class Backfill:
    """A backfill of one archive from CC-NEWS (the archive is open and locked)."""

    def __init__(self, archive: Archive, registry: Registry, options: BackfillOptions,
                 user_agent: str, progress: Progress | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.archive = archive
        self.registry = registry
        self.options = options
        self.sources = registry.chosen(options.source_ids)
        self.ids = [s.id for s in self.sources]
        self.key = source_key(self.ids)
        self.filter: HostFilter = host_filter(registry, self.sources)
        self.client = Client(user_agent, options.retry, sleep)
        self.report = BackfillReport()
        self.progress = progress or (lambda report: None)
        self._stop = threading.Event()

    def run(self) -> BackfillReport:
        """List, plan and backfill; every run leaves a crawl_runs row, failed or not."""
        archive, o = self.archive, self.options
        archive.close_stale_runs()
        run_id = archive.start_run(self.ids, {
            "backfill": "ccnews", "from": o.start, "to": o.end, "base": o.base, "jobs": o.jobs,
            "downloads": o.downloads, "max_files": o.max_files, "strict_dates": o.strict_dates})
        self.report.run_id = run_id
        reason = "finished"
        try:
            todo = self._plan()
            pool: ExtractionPool[FetchedPage | None] = ExtractionPool(
                o.jobs, self.registry.topic, str(archive.lexicon_path))
            try:
                self._files(todo, pool)
            finally:
                self.report.worker_restarts = pool.restarts
                pool.close()
            if self.report.files_failed:
                reason = f"finished; {self.report.files_failed} file(s) failed (retried next run)"
        except DownloadError as exc:
            reason = f"failed: {exc}"
            raise
        except BaseException as exc:
            reason = f"interrupted: {type(exc).__name__}: {exc}"[:300]
            raise
        finally:
            self._stop.set()
            self._close_run(run_id, reason)
        return self.report

    def _plan(self) -> list[tuple[str, str]]:
        listed: list[tuple[str, str]] = []
        chosen = months(self.options.start, self.options.end)
        self.report.months = len(chosen)
        for month in chosen:
            listed += [(path, month) for path in month_files(self.client, self.options.base,
                                                             month)]
        self.archive.backfill.plan(listed, self.key)
        done = self.archive.backfill.done_files([p for p, _ in listed], self.ids)
        todo = [(p, m) for p, m in listed if p not in done]
        self.report.files_listed, self.report.files_skipped = len(listed), len(listed) - len(todo)
        if self.options.max_files is not None:
            todo = todo[:self.options.max_files]
        self.report.files_todo = len(todo)
        self.progress(self.report)
        return todo

    def _files(self, todo: list[tuple[str, str]], pool: ExtractionPool[FetchedPage | None]) -> None:
        """Download threads fill one queue per file; files are stored in listing order."""
        ahead = max(1, self.options.downloads)
        queues: dict[int, queue.Queue[tuple[Any, ...]]] = {}
        with ThreadPoolExecutor(ahead, thread_name_prefix="ccnews-download") as downloads:
            def start(i: int) -> None:
                path = todo[i][0]
                out: queue.Queue[tuple[Any, ...]] = queue.Queue(maxsize=64)
                queues[i] = out
                skip = self.archive.backfill.stored_offsets(path)
                downloads.submit(self._read, path, skip, out)

            for i in range(min(ahead, len(todo))):
                start(i)
            try:
                for i, (path, month) in enumerate(todo):
                    self._file(path, month, queues.pop(i), pool)
                    if i + ahead < len(todo):
                        start(i + ahead)
            finally:
                self._stop.set()  # download threads still running give up at their next record

    def _read(self, path: str, skip: frozenset[int], out: queue.Queue[tuple[Any, ...]]) -> None:
        """Download thread: stream one file and queue its wanted records, then its report."""
        scanned = ScanReport()
        if not self._put(out, ("start", scanned)):
            return
        try:
            keep = self.options.keep / path if self.options.keep else None
            stream: Any
            if keep is not None and keep.exists():
                stream = open(keep, "rb")  # noqa: SIM115 - closed below
            else:
                stream = RemoteFile(self.client, file_url(self.options.base, path), keep)
            try:
                for record in scan(stream, path, scanned, self.filter, skip):
                    if not self._put(out, ("record", record)):
                        return
            finally:
                stream.close()
            self._put(out, ("end", scanned, None))
        except Exception as exc:  # a failed download fails this file only
            self._put(out, ("end", scanned, exc))

    def _put(self, out: queue.Queue[tuple[Any, ...]], item: tuple[Any, ...]) -> bool:
        while not self._stop.is_set():
            try:
                out.put(item, timeout=0.5)
                return True
            except queue.Full:
                continue
        return False

    def _file(self, path: str, month: str, records: queue.Queue[tuple[Any, ...]],
              pool: ExtractionPool[FetchedPage | None]) -> None:
        """Store one file's records; mark it done (or failed) once they are committed."""
        archive, report = self.archive, self.report
        archive.backfill.start_file(path, self.key, report.run_id)
        report.current = path
        before = dataclasses.replace(archive.counters)
        counts = FileCounts()
        ending: list[tuple[ScanReport, Exception | None]] = []
        url = file_url(self.options.base, path)
        with ExitStack() as batch:
            pending, opened = 0, time.monotonic()
            for page, value in pool.extract_prepared(self._jobs(records, path, url, ending)):
                if page is None:
                    if pending:
                        batch.close()
                        pending = 0
                    continue
                self._attach(page, value)
                if not self._in_window(page, counts):
                    continue
                if not pending:
                    batch.enter_context(archive.batch())
                    opened = time.monotonic()
                self._store(page, counts)
                pending += 1
                if pending >= self.options.batch_items or \
                        time.monotonic() - opened >= self.options.batch_seconds:
                    batch.close()
                    pending = 0
                self.progress(report)
        scanned, error = ending[0] if ending else (ScanReport(), RuntimeError("no end"))
        report.live = None
        after = archive.counters
        counts.articles_new = after.articles_new - before.articles_new
        counts.articles_updated = after.articles_updated - before.articles_updated
        counts.bytes, counts.records_seen = scanned.bytes, scanned.records
        counts.records_matched, counts.malformed = scanned.matched, scanned.malformed
        for name in ("records", "matched", "malformed", "truncated", "bytes"):
            setattr(report, name, getattr(report, name) + getattr(scanned, name))
        report.articles_new += counts.articles_new
        report.articles_updated += counts.articles_updated
        for problem in scanned.problems[:20]:
            logger.warning("%s", problem)
        failure = f"{type(error).__name__}: {error}"[:500] if error else None
        archive.backfill.finish_file(path, self.key, counts, failure)
        if failure:
            report.files_failed += 1
            report.failures.append(f"{path}: {failure}")
        else:
            report.files_done += 1
        report.requests, report.retries = self.client.stats.requests, self.client.stats.retries
        self.progress(report)

    def _jobs(self, records: queue.Queue[tuple[Any, ...]], path: str, url: str,
              ending: list[tuple[ScanReport, Exception | None]]) -> Iterator[Any]:
        """Extraction jobs for the file's records, in order; (None, None) when idle."""
        while True:
            try:
                item = records.get(timeout=self.options.batch_seconds)
            except queue.Empty:
                yield None, None  # the input stalls: commit what is stored so far
                continue
            if item[0] == "start":
                self.report.live = item[1]
                continue
            if item[0] == "end":
                ending.append((item[1], item[2]))
                return
            record: Record = item[1]
            outlet = self.filter(record.uri)
            source = self.registry.get(outlet) if outlet else None
            if source is None:
                continue
            page = page_from_record(record, source, "ccnews", url, path)
            self.report.current = record.uri
            if wants_extraction(page):
                yield page, (page, extraction_hints(page, source))
            else:
                yield page, None

    @staticmethod
    def _attach(page: FetchedPage, value: Any) -> None:
        if value is None:
            return
        if isinstance(value, Exception):
            page.parse_error = f"extraction failed: {type(value).__name__}: {value}"[:500]
            return
        # Extracted and made ready to write (WARC records, search columns) in a worker.
        page.extraction, page.topic, page.framing, page.prepared = value

    def _in_window(self, page: FetchedPage, counts: FileCounts) -> bool:
        """Count pages dated outside the requested months; with --strict-dates, drop them."""
        result = page.extraction
        if result is None or result.status == "not_article":
            return True
        month = (result.date or "")[:7]
        if not month:
            self.report.undated += 1
            return True
        if self.options.start <= month <= self.options.end:
            return True
        counts.out_of_window += 1
        self.report.out_of_window += 1
        if self.options.strict_dates:
            counts.dropped += 1
            self.report.dropped += 1
            return False
        return True

    def _store(self, page: FetchedPage, counts: FileCounts) -> None:
        archive = self.archive
        try:
            with archive.transaction():
                aid = archive.record(page, self.report.run_id)
                due = None
                if page.kind == "article" and page.status == 200:
                    published = page.extraction.date if page.extraction else None
                    due = next_check(published, page.fetched_at, utcnow(),
                                     archive.recheck_max_age_days)
                archive.backfill.keep_earliest(page, aid, due)
        except Exception:  # one bad page never ends a run: logged, counted, the rest goes on
            logger.exception("could not store %s", page.url)
            archive.counters.errors += 1
            return
        counts.stored += 1
        self.report.stored += 1

    def _close_run(self, run_id: int, reason: str) -> None:
        r = self.report
        r.requests, r.retries = self.client.stats.requests, self.client.stats.retries
        stats = {"downloader/request_count": r.requests, "downloader/response_count": r.requests,
                 **{f"backfill/{k}": v for k, v in dataclasses.asdict(r).items()
                    if k not in ("started", "current", "live")}}
        try:
            self.archive.finish_run(run_id, reason, stats)
        except Exception:  # the archive may be unusable (disk full): the caller reports it
            logger.exception("could not close crawl run %s", run_id)
