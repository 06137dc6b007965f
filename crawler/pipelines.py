"""Item pipelines: extraction (calls extract/), then the archive (calls crawler.archive.core)."""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import time
import weakref
from collections import Counter
from contextlib import ExitStack
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from scrapy import signals

from crawler.archive.core import Archive, WriterLock
from crawler.clock import utcnow
from crawler.context import CrawlContext
from crawler.ingest.extraction import (
    TitleMemory,
    extract_page,
    extract_prepared,
    extraction_hints,
    fail_extraction,
    fail_in_pipeline,
    wants_extraction,
    worker_pool,
)
from crawler.ingest.workers import RestartingPool, WorkerDied
from crawler.items import Discovered, FetchedPage, robots_capture
from crawler.ops.health import bucket
from crawler.registry.topic import TopicMatcher

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)




class ExtractPipeline:
    """Turn article fetches into ArticleResults and topic matches.

    Extraction is CPU-bound: it runs in a process pool sized to the cores
    (MEDIAWATCH_EXTRACT_WORKERS; 0 = in the reactor thread), so parsing never stalls
    downloads. The topic match and the framing analysis run there too: the reactor's
    process also writes the archive, and every millisecond of CPU it spends per article
    is a millisecond the downloads wait. Workers are forked by multiprocessing's fork server
    (crawler.ingest.extraction.worker_pool), not by this process, so they share no reactor
    state.
    """

    matcher: TopicMatcher

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        workers = crawler.settings.getint("MEDIAWATCH_EXTRACT_WORKERS", -1)
        self.workers = (os.cpu_count() or 1) if workers < 0 else workers
        self.lexicon_path = crawler.settings.get("MEDIAWATCH_LEXICON")
        self.cpu_budget = crawler.settings.getfloat("MEDIAWATCH_EXTRACT_CPU_SECONDS")
        self.pool: RestartingPool | None = None
        self.titles = TitleMemory()  # each outlet's repeated title affixes, for the hints

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractPipeline:
        """Keep the crawler: its spider holds the registry."""
        return cls(crawler)

    def open_spider(self, spider: Any = None) -> None:
        """Compile the topic once per crawl."""
        crawling = CrawlContext.from_crawler(self.crawler)
        self.registry = crawling.registry
        self.state = crawling.state
        self.matcher = TopicMatcher(self.registry.topic)
        if self.workers > 0:
            workers, budget = self.workers, self.cpu_budget
            self.pool = RestartingPool(lambda: worker_pool(workers, budget=budget))

    def close_spider(self, spider: Any = None) -> None:
        """Stop the worker processes."""
        if self.pool is not None:
            self.pool.shutdown()
            self.pool = None

    async def process_item(self, item: Any, spider: Any = None) -> Any:
        """Extract successful article fetches, unless the body is the one already archived."""
        if not isinstance(item, FetchedPage) or not wants_extraction(item):
            return item
        # A canary is re-extracted even when unchanged: extractor regressions show there too.
        # A URL never stored has nothing to compare (its body is not hashed here at all).
        if item.discovered_via != "canary" and \
                (known := self.state.content_hash(item.url)) is not None and \
                known == hashlib.sha256(item.body).hexdigest():
            item.unchanged = True  # an identical body costs no re-extraction
            return item
        source = self.registry.get(item.source_id)
        if self.pool is None:
            return extract_page(item, source, self.matcher, self.titles)
        # The worker returns the item's extraction and everything else the archive writer
        # needs (crawler.archive.prepare), never the page itself: its body is already here.
        pool = self.pool
        try:
            item.extraction, item.topic, item.framing, item.prepared = await pool.run(
                extract_prepared, item, extraction_hints(item, source, self.titles),
                self.registry.topic, self.lexicon_path)
        except Exception as exc:  # a dead worker or a bug: the fetch is kept, as a failure
            logger.error("extraction of %s failed in its worker", item.url,
                         exc_info=not isinstance(exc, WorkerDied))
            fail_extraction(item, f"{type(exc).__name__}: {exc}")
        finally:
            if pool.restarts and self.crawler.stats:  # kept in crawl_runs.stats
                self.crawler.stats.set_value("mediawatch/extraction_worker_restarts",
                                             pool.restarts)
        if item.prepared is not None:
            self._count_cpu(item.prepared.cpu)
        self.titles.remember(item.source_id, item.extraction)
        return item

    def _count_cpu(self, cpu: tuple[float, float, float]) -> None:
        """Add a page's worker CPU (µs) to the crawl's stats, kept in crawl_runs.stats."""
        if self.crawler.stats:
            for name, seconds in zip(("extract", "analyse", "prepare"), cpu, strict=True):
                self.crawler.stats.inc_value(f"mediawatch/worker_cpu_us/{name}",
                                             round(seconds * 1e6))


class ArchivePipeline:
    """Write every fetch to archive.db in batches; open and close it with the spider.

    Items go into an open Archive.batch() that commits every MEDIAWATCH_BATCH_ITEMS items,
    MEDIAWATCH_BATCH_SECONDS after it began (a reactor timer, so a quiet crawl commits too),
    after each discovery document, when Scrapy goes idle and before the run is closed.
    Each item is its own savepoint: a storage failure loses that item only.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.db_path = crawler.settings.get("MEDIAWATCH_DB")
        self.run_settings = crawler.settings.getdict("MEDIAWATCH_RUN_SETTINGS")
        self.warc_max_bytes = crawler.settings.getint("MEDIAWATCH_WARC_MAX_BYTES")
        self.max_age_days = crawler.settings.getint("MEDIAWATCH_RECHECK_MAX_AGE_DAYS")
        self.pause_hours = crawler.settings.getfloat("MEDIAWATCH_PAUSE_HOURS")
        self.archive: Archive | None = None
        self.run_id: int | None = None
        settings = crawler.settings
        self.canary_tolerance = settings.getfloat("MEDIAWATCH_CANARY_TOLERANCE")
        self.canary_hours = settings.getfloat("MEDIAWATCH_CANARY_HOURS")
        self.progress_seconds = settings.getfloat("MEDIAWATCH_PROGRESS_SECONDS")
        self._progress_at = time.monotonic()
        # This run's fetches per outlet by outcome (403, 5xx, timeout...), for health rows.
        self.tallies: dict[str, Counter[str]] = {}
        self.batch_items = settings.getint("MEDIAWATCH_BATCH_ITEMS", 200)
        self.batch_seconds = settings.getfloat("MEDIAWATCH_BATCH_SECONDS", 1.0)
        self.clock: Any = None  # IReactorTime: the running reactor (tests: a task.Clock)
        self._batch: ExitStack | None = None  # the open Archive.batch(), if any
        self._pending = 0  # items in it
        self._started = 0.0  # clock.seconds() when it opened
        self._timer: Any = None  # the IDelayedCall that commits it on time
        # Fetches this pipeline has seen (by id; weak: gone with the item), so that one a
        # later pipeline raised on is not stored twice by item_error.
        self._seen: weakref.WeakValueDictionary[int, FetchedPage] = weakref.WeakValueDictionary()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchivePipeline:
        """Read the archive path from the settings."""
        pipeline = cls(crawler)
        # The finish reason only exists at spider_closed, which comes after close_spider.
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        # robots.txt is fetched by Scrapy's middleware, never by the spider: capture it here.
        crawler.signals.connect(pipeline.response_received, signal=signals.response_received)
        crawler.signals.connect(pipeline.commit_batch, signal=signals.spider_idle)
        # A pipeline before this one that raises would make Scrapy drop the fetch.
        crawler.signals.connect(pipeline.item_error, signal=signals.item_error)
        return pipeline

    def open_spider(self, spider: Any = None) -> None:
        """Open (lock, migrate) the archive, sync the registry and start a crawl_runs row."""
        crawling = CrawlContext.from_crawler(self.crawler)
        self.registry = crawling.registry
        # `mediawatch crawl` took the writer lock before starting Scrapy and holds it throughout.
        held = self.crawler.settings.getbool("MEDIAWATCH_WRITER_LOCK_HELD")
        lock = WriterLock.inherited(self.db_path) if held else True
        self.archive = Archive(self.db_path, lock=lock, warc_max_bytes=self.warc_max_bytes,
                               lexicon_path=self.crawler.settings.get("MEDIAWATCH_LEXICON"),
                               recheck_max_age_days=self.max_age_days)
        self.archive.sync_sources(crawling.registry)
        self.archive.close_stale_runs()
        self.run_id = self.archive.start_run([s.id for s in crawling.outlets], self.run_settings)
        if self.clock is None:
            from twisted.internet import reactor

            self.clock = reactor

    def process_item(self, item: Any, spider: Any = None) -> Any:
        """Store one fetch; a storage failure is logged and counted, never fatal to the crawl."""
        if self.archive is None:
            return item
        try:
            self._open_batch()
            if isinstance(item, Discovered):
                self.archive.discover(item)
            elif isinstance(item, FetchedPage):
                self._seen[id(item)] = item
                self.archive.record(item, self.run_id)
                kind = bucket(item.status, item.error)
                if kind:
                    self.tallies.setdefault(item.source_id, Counter())[kind] += 1
                if item.discovered_via == "canary":
                    with self.archive.transaction():
                        self.archive.monitoring.check_canary(item, self.canary_tolerance, self.canary_hours)
                self._progress()
        except Exception:
            logger.exception("could not store %r", item)
            if self.crawler.stats:
                self.crawler.stats.inc_value("mediawatch/store_errors")
        self._pending += 1
        # The spider reads the frontier through its own connection when Scrapy goes idle,
        # and its idle handler runs before ours: new frontier URLs must be committed now.
        if isinstance(item, Discovered) or self._pending >= self.batch_items or \
                self.clock.seconds() - self._started >= self.batch_seconds:
            self.commit_batch()
        return item

    def item_error(self, item: Any, response: Any = None, spider: Any = None,
                   failure: Any = None) -> None:
        """A fetch on which an earlier pipeline raised is stored anyway, as an extraction error.

        Scrapy drops an item whose pipeline raised: without this the page, its capture and
        its WARC records would be lost although it was fetched, and nothing counted."""
        if not isinstance(item, FetchedPage) or self.archive is None or \
                self._seen.get(id(item)) is item:
            return
        fail_in_pipeline(item, failure)
        if self.crawler.stats:
            self.crawler.stats.inc_value("mediawatch/pipeline_errors")
        self.process_item(item)

    def _open_batch(self) -> None:
        """Start a batch unless one is open (MEDIAWATCH_BATCH_ITEMS <= 1: none, item by item)."""
        if self._batch is not None or self.archive is None or self.batch_items <= 1:
            return
        stack = ExitStack()
        stack.enter_context(self.archive.batch())
        self._batch, self._pending, self._started = stack, 0, self.clock.seconds()
        self._timer = self.clock.callLater(max(self.batch_seconds, 0), self.commit_batch)

    def commit_batch(self, spider: Any = None) -> None:
        """Commit the open batch, if any (on count, on time, at idle and at close)."""
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
        batch, pending = self._batch, self._pending
        self._batch, self._pending = None, 0
        if batch is None:
            return
        stats = self.crawler.stats
        try:
            batch.close()
        except Exception:  # e.g. disk full: the batch's rows are gone, their URLs stay due
            logger.exception("could not commit a batch of %d items", pending)
            if stats:
                stats.inc_value("mediawatch/store_errors", pending)
        else:
            if stats:
                stats.inc_value("mediawatch/batch_commits")

    def response_received(self, response: Any, request: Any, spider: Any = None) -> None:
        """Record responses the spider never sees (robots.txt checks) as captures too."""
        page = robots_capture(self.registry, request, response) if self.archive else None
        if page is not None:
            self.process_item(page)

    def close_spider(self, spider: Any = None) -> None:
        """Commit the last batch: the run is closed (spider_closed) only after its items."""
        self.commit_batch()

    def spider_closed(self, spider: Any = None, reason: str = "finished") -> None:
        """Finish the crawl_runs row with the reason and Scrapy's stats; close the archive."""
        if self.archive is None:
            return
        self.commit_batch()
        stats = self.crawler.stats.get_stats() if self.crawler.stats else {}
        assert self.run_id is not None
        crawling = CrawlContext.from_crawler(self.crawler)
        now = utcnow()
        until = (datetime.fromisoformat(now) + timedelta(hours=self.pause_hours)).isoformat()
        self.archive.monitoring.pause_outlets(crawling.paused, until, now, crawling.crawl_delays)
        self.archive.counters.deferred = sum(crawling.deferred.values())
        self.archive.finish_run(self.run_id, reason, stats)
        if self.crawler.settings.getbool("MEDIAWATCH_HEALTH"):
            try:
                self._review(crawling)
            except Exception:  # health is a report on the crawl: never lose the crawl to it
                logger.exception("could not compute health and alerts for run %s", self.run_id)
        self.archive.close()
        self.archive = None

    def _review(self, crawling: CrawlContext) -> None:
        """Health rows, alert rules and alert delivery for the outlets of this run."""
        from crawler.ops.alerts import review_run_from

        assert self.archive is not None and self.run_id is not None
        review_run_from(self.crawler.settings, self.archive, crawling.outlets, self.run_id,
                        self.tallies)

    def _progress(self) -> None:
        """Long crawls: a line on stderr now and then (pages, queue, articles, errors)."""
        if self.progress_seconds <= 0 or self.archive is None:
            return
        if time.monotonic() - self._progress_at < self.progress_seconds:
            return
        self._progress_at = time.monotonic()
        stats = self.crawler.stats
        get = stats.get_value if stats else (lambda key, default=0: default)
        queued = get("scheduler/enqueued", 0) - get("scheduler/dequeued", 0)
        c = self.archive.counters
        print(f"progress: {get('downloader/response_count', 0)} pages fetched, {queued} queued,"
              f" {c.articles_new} new and {c.articles_updated} updated articles stored, "
              f"{c.errors} errors", file=sys.stderr, flush=True)
