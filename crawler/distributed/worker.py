"""A `crawl --redis` worker's own parts: crawl state, lease accounting, the hand-off pipeline.

A worker has no database. What it fetched (pages, with their extraction, and discovery
listings) goes as JSON onto the `items` list for `mediawatch archiver`, the only writer
of archive.db. A request's lease is acked in the same Redis transaction as the last item
its response produced, or after the push of the last request it yielded (whichever comes
last), so a worker killed at any point either queued and handed off everything or leaves a
lease that another worker takes back (a duplicate at worst, never a loss).
"""

from __future__ import annotations

import json
import logging
import socket
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy import Request, signals
from scrapy.spidermiddlewares.base import BaseSpiderMiddleware
from scrapy_redis import connection

from crawler.clock import utcnow
from crawler.context import CrawlContext
from crawler.distributed import codec
from crawler.distributed.frontier import Frontier
from crawler.distributed.state import RedisState
from crawler.ingest.extraction import fail_in_pipeline
from crawler.items import Discovered, FetchedPage, robots_capture

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


# Request.meta key of the lease whose response yielded the request (never sent to Redis).
PARENT_LEASE = "mw_parent_lease"


def items_key(prefix: str) -> str:
    """The list workers push to and the archiver pops from."""
    return f"{prefix}:items"


class LeaseTracker:
    """Which leased responses still have items on their way to the archiver queue, or
    requests on their way to the shared queue."""

    def __init__(self) -> None:
        self.pending: dict[str, int] = {}
        self.producing: set[str] = set()

    def started(self, lease: str) -> None:
        """A callback began producing output for this lease."""
        self.producing.add(lease)
        self.pending.setdefault(lease, 0)

    def add(self, lease: str) -> None:
        """One more item of this lease is on its way."""
        self.pending[lease] = self.pending.get(lease, 0) + 1

    def finished(self, lease: str) -> bool:
        """The callback is done; True if nothing is left in flight (ack now)."""
        self.producing.discard(lease)
        if self.pending.get(lease, 0) <= 0:
            self.pending.pop(lease, None)
            return True
        return False

    def handed_off(self, lease: str) -> bool:
        """One item or request reached Redis; True if it was the lease's last (ack with it)."""
        if lease not in self.pending:
            return True  # an errback's single item: nothing else was tracked
        self.pending[lease] -= 1
        if self.pending[lease] <= 0 and lease not in self.producing:
            del self.pending[lease]
            return True
        return False

    def stranded(self) -> list[str]:
        """Leases whose output is all processed but never all reached Redis (an item dropped
        by a pipeline, a request refused before the scheduler): only asked when Scrapy is
        idle, when nothing of theirs can be on its way any more."""
        gone = [lease for lease in self.pending if lease not in self.producing]
        for lease in gone:
            del self.pending[lease]
        return gone


def leases_of(crawler: Crawler) -> LeaseTracker:
    """The crawler's one tracker, shared by LeaseMiddleware and RedisItemPipeline."""
    tracker = getattr(crawler, "_mediawatch_leases", None)
    if tracker is None:
        tracker = LeaseTracker()
        crawler._mediawatch_leases = tracker  # type: ignore[attr-defined]
    return tracker


def _frontier(crawler: Crawler) -> tuple[Any, Frontier]:
    server = connection.from_settings(crawler.settings)
    return server, Frontier(server, crawler.settings.get("MEDIAWATCH_REDIS_PREFIX"),
                            crawler.settings.get("MEDIAWATCH_WORKER_ID"))


class LeaseMiddleware(BaseSpiderMiddleware):
    """Count the items and requests a leased response produces, so its lease is acked after
    the last of them reached Redis. Scrapy's scraper queues a callback's output and hands it
    on later: acking when the callback ended, or with its last item, left the requests it
    yielded after that item unqueued for a moment (a worker killed then lost them)."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.leases = leases_of(crawler)
        _server, self.frontier = _frontier(crawler)

    def process_spider_output(self, response: Any, result: Iterable[Any],
                              spider: Any = None) -> Iterator[Any]:
        """Sync callbacks."""
        lease = response.meta.get("mw_lease") if response is not None else None
        if not lease:
            yield from result
            return
        self.leases.started(lease)
        try:
            for output in result:
                self._count(lease, output)
                yield output
        finally:
            self._finish(lease)

    async def process_spider_output_async(self, response: Any, result: AsyncIterator[Any],
                                          spider: Any = None) -> AsyncIterator[Any]:
        """Async callbacks."""
        lease = response.meta.get("mw_lease") if response is not None else None
        if not lease:
            async for output in result:
                yield output
            return
        self.leases.started(lease)
        try:
            async for output in result:
                self._count(lease, output)
                yield output
        finally:
            self._finish(lease)

    def _count(self, lease: str, output: Any) -> None:
        if isinstance(output, (FetchedPage, Discovered)):
            output.lease = lease
            self.leases.add(lease)
        elif isinstance(output, Request):
            output.meta[PARENT_LEASE] = lease  # WorkerScheduler counts it off once pushed
            self.leases.add(lease)

    def _finish(self, lease: str) -> None:
        if self.leases.finished(lease):
            self.frontier.ack(lease)


class RedisItemPipeline:
    """Hand every item to the archiver queue; announce this worker's run start and end."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.server, self.frontier = _frontier(crawler)
        self.prefix = settings.get("MEDIAWATCH_REDIS_PREFIX")
        self.worker = settings.get("MEDIAWATCH_WORKER_ID")
        self.items = items_key(self.prefix)
        self.leases = leases_of(crawler)
        self.run = uuid.uuid4().hex
        self.state: RedisState | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedisItemPipeline:
        """Also listen for robots.txt responses, pipeline errors and the close reason."""
        pipeline = cls(crawler)
        crawler.signals.connect(pipeline.response_received, signal=signals.response_received)
        crawler.signals.connect(pipeline.item_error, signal=signals.item_error)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def open_spider(self, spider: Any = None) -> None:
        """Tell the archiver a run started, with the registry it runs on."""
        crawling = CrawlContext.from_crawler(self.crawler)
        self.registry = crawling.registry
        assert isinstance(crawling.state, RedisState), "a Redis worker crawls with RedisState"
        self.state = crawling.state
        self.server.lpush(self.items, codec.encode_message(
            "run_start", run=self.run, worker=self.worker, host=socket.gethostname(),
            started_at=utcnow(), sources=[s.id for s in crawling.outlets],
            registry_path=str(self.registry.path),
            registry=Path(self.registry.path).read_text(encoding="utf-8"),
            settings=self.crawler.settings.getdict("MEDIAWATCH_RUN_SETTINGS")))

    def process_item(self, item: Any, spider: Any = None) -> Any:
        """Push one item; ack its request's lease with it if it was the last."""
        if isinstance(item, (FetchedPage, Discovered)):
            self._hand_off(item)
        return item

    def _hand_off(self, item: FetchedPage | Discovered) -> None:
        pipe = self.server.pipeline(transaction=True)
        pipe.lpush(self.items, codec.encode_item(item))
        if isinstance(item, FetchedPage) and self.state is not None:
            self.state.remember(pipe, item)
        if item.lease and self.leases.handed_off(item.lease):
            self.frontier.ack(item.lease, pipe)
        pipe.execute()
        if self.crawler.stats:
            self.crawler.stats.inc_value("mediawatch/handed_off")

    def item_error(self, item: Any, response: Any, spider: Any = None,
                   failure: Any = None) -> None:
        """A page whose extraction crashed still reaches the archive, marked as an error."""
        if isinstance(item, FetchedPage):
            fail_in_pipeline(item, failure)
            self._hand_off(item)

    def response_received(self, response: Any, request: Any, spider: Any = None) -> None:
        """robots.txt answers never reach the spider: hand them off as captures too."""
        page = robots_capture(self.registry, request, response) \
            if hasattr(self, "registry") else None
        if page is not None:
            self._hand_off(page)

    def spider_closed(self, spider: Any = None, reason: str = "finished") -> None:
        """Tell the archiver this run ended, with Scrapy's stats."""
        stats = self.crawler.stats.get_stats() if self.crawler.stats else {}
        self.server.lpush(self.items, codec.encode_message(
            "run_finish", run=self.run, worker=self.worker, reason=reason,
            finished_at=utcnow(), stats=json.loads(json.dumps(stats, default=str))))
