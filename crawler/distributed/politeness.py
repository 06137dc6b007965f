"""The last gate before the wire: an outlet's delay between requests, across all workers.

The frontier already hands an outlet's requests out no faster than its delay, but a
request can spend a moment between leaving the queue and leaving the machine (robots.txt
check, a busy reactor), so two workers' requests could still land closer together than
asked. Right before download, each request takes the outlet's gate in Redis: it goes
when the outlet's last request, from any worker, is at least the delay old.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy_redis import connection

from crawler.context import CrawlContext
from crawler.distributed.frontier import Frontier

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

# KEYS: gate:<outlet>, delay hash (+ its :robots twin) ; ARGV: outlet. Returns ms to wait (0: go, gate taken).
_GATE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local delay = math.max(tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0'),
                      tonumber(redis.call('HGET', KEYS[2] .. ':robots', ARGV[1]) or '0'))
if delay <= 0 then return 0 end
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
if now - last >= delay then
  redis.call('SET', KEYS[1], now, 'PX', delay * 2 + 1000)
  return 0
end
return delay - (now - last)
"""


class SharedDelayMiddleware:
    """Hold each outlet request until the outlet's shared gate opens (see the module doc)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self._published: dict[str, float] = {}
        server = connection.from_settings(crawler.settings)
        self.frontier = Frontier(server, crawler.settings.get("MEDIAWATCH_REDIS_PREFIX"), "-")
        self._gate = server.register_script(_GATE)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedDelayMiddleware:
        """Connect to the crawl cluster's Redis; listen for parsed robots.txt files."""
        middleware = cls(crawler)
        crawler.signals.connect(middleware.robots_parsed, signal=signals.robots_parsed)
        return middleware

    def robots_parsed(self, robotparser: Any, request: Request) -> None:
        """Publish a Crawl-delay before the requests waiting on this robots.txt move on."""
        inner = getattr(robotparser, "rp", None)
        context = CrawlContext.of(self.crawler)
        source = context.registry.source_for_url(request.url) if context else None
        if source is None or inner is None or not hasattr(inner, "crawl_delay"):
            return
        agent = self.crawler.settings.get("ROBOTSTXT_USER_AGENT") or "*"
        delay = inner.crawl_delay(agent)
        if delay and self._published.get(source.id, 0) < float(delay):
            self.frontier.raise_delay(source.id, float(delay))
            self._published[source.id] = float(delay)
            logger.info("%s: robots.txt Crawl-delay %s s now holds for every worker", source.id, delay)

    async def process_request(self, request: Request, spider: Any = None) -> None:
        """Wait for the outlet's gate; requests outside any outlet pass at once."""
        outlet = request.meta.get("source_id")
        if not outlet:
            return None
        keys = [self.frontier.key("gate", outlet), self.frontier.key("delay")]
        while (wait := int(self._gate(keys=keys, args=[outlet]))) > 0:
            await asyncio.sleep(wait / 1000)
        return None
