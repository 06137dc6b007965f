"""The worker's scheduler: scrapy-redis' Scheduler over the shared, polite, leased frontier.

Differences from stock scrapy-redis, each for a reason:
- requests go to one queue per outlet (crawler.distributed.frontier), so an outlet's
  delay holds across all workers instead of per worker;
- the duplicate filter's fingerprints expire (a discovery document after its outlet's
  `poll_min_minutes`, an article after MEDIAWATCH_REDIS_ARTICLE_TTL_HOURS), so feeds and
  due articles are polled again by later runs; the check and the push are one Lua call;
- popped requests are leased and acked only once their results reached the archiver
  queue and the requests they yielded this queue, so a worker killed mid-crawl loses
  nothing: its leases return to the queue;
- the queue is never flushed on close (SCHEDULER_PERSIST): it is shared.
- an idle worker stays up while other workers still hold leases or requests wait for
  their outlet's delay, and leaves after MEDIAWATCH_REDIS_IDLE_EXIT idle seconds.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Request
from scrapy.utils.request import request_from_dict
from scrapy_redis import connection
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.scheduler import Scheduler
from twisted.internet import reactor
from twisted.internet.task import LoopingCall

from crawler.context import CrawlContext
from crawler.distributed import codec, worker_id
from crawler.distributed.frontier import Frontier
from crawler.distributed.state import RedisState
from crawler.distributed.worker import PARENT_LEASE, leases_of

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

    from crawler.distributed.worker import LeaseTracker

logger = logging.getLogger(__name__)


class WorkerScheduler(Scheduler):
    """scrapy-redis Scheduler whose queue is crawler.distributed.frontier.Frontier."""

    crawler: Crawler
    frontier: Frontier
    leases: LeaseTracker

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WorkerScheduler:
        """Connect to REDIS_URL (failing early with the URL in the message)."""
        settings = crawler.settings
        server = connection.from_settings(settings)
        server.ping()
        scheduler = cls(server=server, persist=True)
        scheduler.stats = crawler.stats
        scheduler.crawler = crawler
        scheduler.prefix = settings.get("MEDIAWATCH_REDIS_PREFIX")
        scheduler.worker = worker_id(settings.get("MEDIAWATCH_WORKER_ID"))
        scheduler.heartbeat_ttl = settings.getint("MEDIAWATCH_REDIS_HEARTBEAT")
        scheduler.idle_exit = settings.getfloat("MEDIAWATCH_REDIS_IDLE_EXIT")
        scheduler.article_ttl = int(settings.getfloat("MEDIAWATCH_REDIS_ARTICLE_TTL_HOURS")
                                    * 3600)
        scheduler.fingerprints = RFPDupeFilter(server, key="unused")
        scheduler.frontier = Frontier(server, scheduler.prefix, scheduler.worker)
        scheduler.leases = leases_of(crawler)
        crawler.signals.connect(scheduler.on_idle, signal=signals.spider_idle)
        return scheduler

    def open(self, spider: Any) -> None:
        """Publish the registry's delays, start the heartbeat."""
        self.spider = spider
        self._idle_since: float | None = None
        self._wake: Any = None
        self._delays: dict[str, float] = {}
        self.context = CrawlContext.from_crawler(self.crawler)
        sources = self.context.registry.sources
        self._doc_ttl = {s.id: max(s.poll_min_minutes * 60, 1) for s in sources}
        for source in sources:
            self.frontier.set_delay(source.id, source.download_delay)
        self._beat()
        self._heart = LoopingCall(self._beat)
        self._heart.start(max(self.heartbeat_ttl / 3, 0.5), now=False)
        logger.info("worker %s on %s (prefix %r): %d requests queued, %d leased",
                    self.worker, self.server, self.prefix, self.frontier.queued(),
                    self.frontier.leased())

    def _beat(self) -> None:
        self.frontier.heartbeat(self.heartbeat_ttl, f"pid {os.getpid()} on {socket.gethostname()}")

    def close(self, reason: str) -> None:
        """Stop the heartbeat; unfinished leases go back to the queue for the others."""
        if self._heart.running:
            self._heart.stop()
        if self._wake is not None and self._wake.active():
            self._wake.cancel()
        back = self.frontier.release_own()
        if back:
            logger.info("worker %s left %d unfinished requests to the others", self.worker, back)

    def __len__(self) -> int:
        return self.frontier.queued()

    def has_pending_requests(self) -> bool:
        """Requests wait in the shared queue (maybe for their outlet's delay)."""
        return self.frontier.queued() > 0

    def enqueue_request(self, request: Request) -> bool:
        """Push unless seen within its TTL; a redirect or retry hands its lease on."""
        old_lease = request.meta.pop("mw_lease", None)
        parent = request.meta.pop(PARENT_LEASE, None)
        source_id = request.meta.get("source_id", "_other")
        ttl = 0 if request.dont_filter else self._ttl(request)
        fingerprint = None if request.dont_filter else \
            self.fingerprints.request_fingerprint(request)
        meta = request.meta
        if meta.get("kind") == meta.get("via") == "sitemap" and (index := meta.get("from")) \
                and isinstance(self.context.state, RedisState):
            self.context.state.listed_sitemap(index)  # before the push: fetched in full next time
        data = codec.dumps(request.to_dict(spider=self.spider))
        pushed = self.frontier.push(data, source_id, request.priority, fingerprint, ttl)
        if old_lease:
            self.frontier.ack(old_lease)
        if parent and self.leases.handed_off(parent):
            self.frontier.ack(parent)  # the last of its response's output is in Redis
        if self.stats:
            key = "scheduler/enqueued/redis" if pushed else "dupefilter/filtered"
            self.stats.inc_value(key)
        return pushed

    def _ttl(self, request: Request) -> int:
        if request.meta.get("kind") == "article":
            return max(self.article_ttl, 1)
        return self._doc_ttl.get(request.meta.get("source_id", ""), 15 * 60)

    def next_request(self) -> Request | None:
        """The next request some outlet may send now; else wake the engine when one may."""
        self._sync_crawl_delays()
        popped = self.frontier.pop()
        if isinstance(popped, float):
            if popped > 0 and (self._wake is None or not self._wake.active()):
                clock: Any = reactor
                self._wake = clock.callLater(popped, self._nudge)
            return None
        lease, data = popped
        request = request_from_dict(codec.loads(data), spider=self.spider)
        request.meta["mw_lease"] = lease
        if self.stats:
            self.stats.inc_value("scheduler/dequeued/redis")
        self._idle_since = None
        return request

    def _nudge(self) -> None:
        slot = getattr(self.crawler.engine, "_slot", None)
        if slot is not None:
            slot.nextcall.schedule()

    def _sync_crawl_delays(self) -> None:
        """robots.txt Crawl-delays this worker learnt apply to every worker."""
        learnt = self.context.crawl_delays
        for outlet, delay in learnt.items():
            if self._delays.get(outlet) != delay:
                self.frontier.raise_delay(outlet, delay)
                self._delays[outlet] = delay

    def on_idle(self) -> None:
        """Stay while anyone holds leases or anything is queued; leave after idle_exit s."""
        for lease in self.leases.stranded():
            logger.warning("released lease %s: part of its response's output never reached "
                           "Redis (dropped on the way)", lease)
            self.frontier.ack(lease)
        reclaimed = self.frontier.reclaim()
        if reclaimed:
            logger.warning("took back %d requests from workers that stopped answering",
                           reclaimed)
            self._nudge()
        busy = self.frontier.queued() + self.frontier.leased()
        if busy:
            self._idle_since = None
            raise DontCloseSpider
        if self._idle_since is None:
            self._idle_since = time.monotonic()
        if time.monotonic() - self._idle_since < self.idle_exit:
            raise DontCloseSpider
