"""Scrapy's downloader and HTTP/1.1 handler, holding an outlet to the registry's concurrency.

Two gaps between an outlet's `concurrency` and what Scrapy 2.19 does with a download slot:

- The downloader starts each transfer as an asyncio task, and a request counts against its
  slot's concurrency only once that task runs. An outlet with no download delay therefore
  had its whole queue sent at once (every request its slot held, up to CONCURRENT_REQUESTS),
  whatever its `concurrency`. With a delay Scrapy sends one request per delay, so only
  outlets with `download_delay = 0` were affected. OutletDownloader counts a request as
  transferring when it leaves the slot's queue.
- The HTTP pool keeps CONCURRENT_REQUESTS_PER_DOMAIN (2) idle connections per host, so an
  outlet allowed more requests at once closed the extra connections after each response
  and opened new ones for the next (893 TCP connections for 1,225 requests in the bench
  crawl; 71 with this pool): a handshake per page (TLS, live), more connections to the
  outlet's server than it needs. OutletPoolHandler keeps as many as the widest slot uses.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

from scrapy.core.downloader import Downloader, Slot
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler


class _ReservingQueue(deque[Any]):
    """A slot's queue whose popleft() counts the request as transferring straight away."""

    def __init__(self, slot: Slot, items: deque[Any]) -> None:
        super().__init__(items)
        self.slot = slot

    def popleft(self) -> Any:
        """Take the next (request, deferred) and hold its transfer place in the slot."""
        item = super().popleft()
        # Downloader._download adds the request again (a set: no-op) and removes it at the end.
        self.slot.transferring.add(item[0])
        return item


class OutletDownloader(Downloader):
    """Scrapy's Downloader whose slots never have more requests in flight than their
    concurrency."""

    def _get_slot(self, request: Request, spider: Spider | None = None) -> tuple[str, Slot]:
        # `spider` only matches the base signature: Scrapy deprecates passing it on.
        key, slot = super()._get_slot(request)
        if not isinstance(slot.queue, _ReservingQueue):
            slot.queue = _ReservingQueue(slot, slot.queue)
        return key, slot


def widest_slot(slots: dict[str, dict[str, Any]]) -> int:
    """The largest `concurrency` of the download slots (0 when there are none)."""
    return max((int(slot.get("concurrency", 0)) for slot in slots.values()), default=0)


class OutletPoolHandler(HTTP11DownloadHandler):
    """HTTP11DownloadHandler whose pool keeps an idle connection for each request an
    outlet's slot may have in flight."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        width = widest_slot(crawler.settings.getdict("DOWNLOAD_SLOTS"))
        self._pool.maxPersistentPerHost = max(self._pool.maxPersistentPerHost, width)
