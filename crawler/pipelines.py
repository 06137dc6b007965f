"""Item pipelines: extraction (calls extract/), then the archive (calls crawler.archive)."""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from scrapy import signals

from crawler.archive import Archive
from crawler.clock import utcnow
from crawler.ingest import extract_page, wants_extraction
from crawler.items import Discovered, FetchedPage
from crawler.items import headers_dict as _headers
from crawler.topic import TopicMatcher

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


class ExtractPipeline:
    """Turn article fetches into ArticleResults and topic matches."""

    matcher: TopicMatcher

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractPipeline:
        """Keep the crawler: its spider holds the registry."""
        return cls(crawler)

    def open_spider(self, spider: Any = None) -> None:
        """Compile the topic once per crawl."""
        crawling: Any = self.crawler.spider
        self.registry = crawling.registry
        self.state = crawling.state
        self.matcher = TopicMatcher(self.registry.topic)

    def process_item(self, item: Any, spider: Any = None) -> Any:
        """Extract successful article fetches, unless the body is the one already archived."""
        if not isinstance(item, FetchedPage) or not wants_extraction(item):
            return item
        if self.state.content_hash(item.url) == hashlib.sha256(item.body).hexdigest():
            item.unchanged = True  # an identical body costs no re-extraction
            return item
        extract_page(item, self.registry.get(item.source_id), self.matcher)
        return item


class ArchivePipeline:
    """Write every fetch to archive.db; open and close it with the spider."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.db_path = crawler.settings.get("MEDIAWATCH_DB")
        self.run_settings = crawler.settings.getdict("MEDIAWATCH_RUN_SETTINGS")
        self.warc_max_bytes = crawler.settings.getint("MEDIAWATCH_WARC_MAX_BYTES")
        self.max_age_days = crawler.settings.getint("MEDIAWATCH_RECHECK_MAX_AGE_DAYS")
        self.pause_hours = crawler.settings.getfloat("MEDIAWATCH_PAUSE_HOURS")
        self.archive: Archive | None = None
        self.run_id: int | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchivePipeline:
        """Read the archive path from the settings."""
        pipeline = cls(crawler)
        # The finish reason only exists at spider_closed, which comes after close_spider.
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        # robots.txt is fetched by Scrapy's middleware, never by the spider: capture it here.
        crawler.signals.connect(pipeline.response_received, signal=signals.response_received)
        return pipeline

    def open_spider(self, spider: Any = None) -> None:
        """Open (lock, migrate) the archive, sync the registry and start a crawl_runs row."""
        crawling: Any = self.crawler.spider
        self.registry = crawling.registry
        self.archive = Archive(self.db_path, warc_max_bytes=self.warc_max_bytes,
                               recheck_max_age_days=self.max_age_days)
        self.archive.sync_sources(crawling.registry)
        self.archive.close_stale_runs()
        self.run_id = self.archive.start_run([s.id for s in crawling.outlets], self.run_settings)

    def process_item(self, item: Any, spider: Any = None) -> Any:
        """Store one fetch; a storage failure is logged and counted, never fatal to the crawl."""
        if self.archive is None:
            return item
        try:
            if isinstance(item, Discovered):
                self.archive.discover(item)
            elif isinstance(item, FetchedPage):
                self.archive.record(item, self.run_id)
        except Exception:
            logger.exception("could not store %r", item)
            if self.crawler.stats:
                self.crawler.stats.inc_value("mediawatch/store_errors")
        return item

    def response_received(self, response: Any, request: Any, spider: Any = None) -> None:
        """Record responses the spider never sees (robots.txt checks) as captures too."""
        if self.archive is None or "source_id" in request.meta:
            return
        source = self.registry.source_for_url(request.url)
        if source is None:
            return
        self.process_item(FetchedPage(
            source_id=source.id, url=request.url, kind="robots", discovered_via="robots-check",
            fetched_at=utcnow(), final_url=response.url, status=response.status,
            headers=_headers(response.headers), request_headers=_headers(request.headers),
            body=response.body,
        ))

    def close_spider(self, spider: Any = None) -> None:
        """Nothing to flush: every item was committed in its own transaction."""

    def spider_closed(self, spider: Any = None, reason: str = "finished") -> None:
        """Finish the crawl_runs row with the reason and Scrapy's stats; close the archive."""
        if self.archive is None:
            return
        stats = self.crawler.stats.get_stats() if self.crawler.stats else {}
        assert self.run_id is not None
        crawling: Any = self.crawler.spider
        now = utcnow()
        until = (datetime.fromisoformat(now) + timedelta(hours=self.pause_hours)).isoformat()
        self.archive.pause_outlets(crawling.paused, until, now, crawling.crawl_delays)
        self.archive.counters.deferred = sum(crawling.deferred.values())
        self.archive.finish_run(self.run_id, reason, stats)
        self.archive.close()
        self.archive = None
