"""Downloader middlewares: outlet guard, redirects that always resolve, robots.txt fix."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

from scrapy import Request, Spider
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware, RedirectMiddleware
from scrapy.downloadermiddlewares.robotstxt import (
    RobotsTxtMiddleware as ScrapyRobotsTxtMiddleware,
)
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.asyncio import call_later
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

from crawler.context import CrawlContext
from crawler.web.urls import is_loopback

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


class OutletGuardMiddleware:
    """Drop requests (redirect targets included) that leave the outlet they were made for."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.loopback_only = crawler.settings.getbool("MEDIAWATCH_LOOPBACK_ONLY")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> OutletGuardMiddleware:
        """Build from the crawler's settings."""
        return cls(crawler)

    def process_request(self, request: Request, spider: Spider | None = None) -> Any:
        """Raise IgnoreRequest for off-outlet or (in loopback-only mode) non-loopback URLs."""
        stats = self.crawler.stats
        if self.loopback_only and not is_loopback(request.url):
            if stats:
                stats.inc_value("mediawatch/dropped/non_loopback")
            raise IgnoreRequest(f"dropped: non-loopback host in loopback-only mode: {request.url}")
        context = CrawlContext.of(self.crawler)
        if context is None:
            return None  # not a registry crawl (e.g. a probe): nothing to guard against
        registry = context.registry
        source_id = request.meta.get("source_id")
        if source_id is None:
            # Scrapy's own robots.txt fetches carry no outlet: any registered host is fine.
            owner = registry.source_for_url(request.url)
            if owner is None:
                raise IgnoreRequest(f"dropped: offsite (no outlet owns it): {request.url}")
            # They wait in the owner's slot, spaced by its delay like its other requests:
            # in the host's own slot they took the project's 1 s default instead, so outlets
            # sharing an address (editions, a loopback test web) fetched robots.txt a second
            # apart, and an outlet's first request followed its robots.txt with no delay.
            request.meta.setdefault("download_slot", owner.id)
            return None
        if not registry.get(source_id).owns(request.url):
            if stats:
                stats.inc_value("mediawatch/dropped/offsite")
            raise IgnoreRequest(f"dropped: offsite for outlet {source_id}: {request.url}")
        paused = context.paused.get(source_id)
        if paused:
            raise IgnoreRequest(f"dropped: outlet paused: {paused}")
        if stats:
            # Redirect hops and retries are requests the server sees: they count.
            sent = stats.get_value(f"mediawatch/requests/{source_id}", 0)
            source = registry.get(source_id)
            caps = [c for c in (source.max_requests, source.max_pages) if c is not None]
            if caps and sent >= min(caps):
                raise IgnoreRequest(f"dropped: budget of {min(caps)} requests for outlet "
                                    f"{source_id} reached (registry max_requests/max_pages)")
            stats.inc_value(f"mediawatch/requests/{source_id}")
        return None


def _follow(redirected: Request, request: Request) -> Request:
    """Let a redirect target through the duplicate filter, unless it closes a loop."""
    chain = [*request.meta.get("redirect_urls", []), request.url]
    if redirected.url in chain:
        # A -> B -> A will never end: stop now instead of spending REDIRECT_MAX_TIMES requests.
        raise IgnoreRequest(f"dropped: redirect loop: {' -> '.join([*chain, redirected.url])}")
    redirected.dont_filter = True
    return redirected


# Scrapy looks for a refresh in the first 4096 characters, which are at most this many bytes.
_REFRESH_SCAN = 4 * 4096
_WIDE_BOMS = (b"\xff\xfe", b"\xfe\xff")  # UTF-16 and UTF-32: ASCII is not spelled in bytes


def may_refresh(body: bytes) -> bool:
    """False only when the start of a page cannot hold a meta refresh: "refresh" spelled in
    ASCII bytes (any ASCII-compatible encoding spells it so) is nowhere in it."""
    head = body[:_REFRESH_SCAN]
    if head.startswith(_WIDE_BOMS) or b"\x00" in head:
        return True
    return b"refresh" in head.lower()


class FollowMetaRefreshMiddleware(MetaRefreshMiddleware):
    """Meta-refresh redirects, resolved like HTTP ones (see FollowRedirectMiddleware).

    Scrapy decodes every HTML body to look for a refresh; most pages have none, and this
    process decodes nothing else of an article page (its worker does). A page whose bytes
    cannot spell one is passed on undecoded (0.13 ms of main-process CPU a page, measured on
    the bench pages); any other goes through Scrapy's own test.
    """

    def process_response(self, request: Request, response: Any,
                         spider: Spider | None = None) -> Any:
        """Scrapy's meta-refresh handling, for responses that may hold a refresh."""
        if not may_refresh(response.body):
            return response
        return super().process_response(request, response)

    def _redirect(self, redirected: Request, request: Request, reason: Any) -> Request:
        return _follow(super()._redirect(redirected, request, reason), request)


class FollowRedirectMiddleware(RedirectMiddleware):
    """Scrapy's redirects, except that a redirect target is fetched even if already requested.

    Otherwise the duplicate filter silently drops the end of a chain whose target another
    link already reached, and the chain's first URL would have no recorded outcome. A chain
    that comes back to a URL it visited is a loop and stops at once; any other chain stays
    bounded by REDIRECT_MAX_TIMES.
    """

    def _redirect(self, redirected: Request, request: Request, reason: Any) -> Request:
        return _follow(super()._redirect(redirected, request, reason), request)


class RobotsTxtMiddleware(ScrapyRobotsTxtMiddleware):
    """Scrapy's robots.txt middleware, fixed for requests that wait on the same robots.txt.

    Scrapy awaits one shared Deferred per host; Twisted's asFuture() callback returns None,
    so every request after the first that waited on that Deferred received no parser and
    was let through unchecked. Each waiter here gets its own Deferred, fed by a relay
    callback that passes the parser on down the chain.
    """

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        _brief_network_errors(logging.getLogger(ScrapyRobotsTxtMiddleware.__module__),
                              crawler.settings.getlist("RETRY_EXCEPTIONS"))

    async def robot_parser(self, request: Request) -> Any:
        """The host's parsed robots.txt, fetching it once per host."""
        pending = self._parsers.get(urlparse_cached(request).netloc)
        if isinstance(pending, Deferred):
            waiter: Deferred[Any] = Deferred()

            def relay(result: Any) -> Any:
                waiter.callback(result)
                return result

            pending.addBoth(relay)
            return await maybe_deferred_to_future(waiter)
        return await super().robot_parser(request)

    async def _parse_robots(self, response: Any, netloc: str, request: Request) -> None:
        await super()._parse_robots(response, netloc, request)
        self._apply_crawl_delay(netloc, request)

    def _apply_crawl_delay(self, netloc: str, request: Request) -> None:
        """A Crawl-delay longer than the registry's delay wins for that outlet's slot."""
        parser = self._parsers.get(netloc)
        inner = getattr(parser, "rp", None)
        if inner is None or not hasattr(inner, "crawl_delay"):
            return
        delay = inner.crawl_delay(self._robotstxt_useragent or "*")
        context = CrawlContext.of(self.crawler)
        source = context.registry.source_for_url(request.url) if context else None
        if not delay or context is None or source is None or self.crawler.engine is None:
            return
        delays = context.crawl_delays
        if self.crawler.settings.get("MEDIAWATCH_REDIS_URL"):
            # A Redis worker's slots have no delay: the shared gate spaces the outlet's
            # requests across workers (crawler.distributed), and picks this up from here.
            if float(delay) > delays.get(source.id, 0):
                delays[source.id] = float(delay)
            return
        downloader = self.crawler.engine.downloader
        settings = downloader.per_slot_settings.setdefault(source.id, {})
        if float(delay) > settings.get("delay", 0):
            settings["delay"] = float(delay)
            if source.id in downloader.slots:
                downloader.slots[source.id].delay = float(delay)
            delays[source.id] = float(delay)


class _BriefNetworkErrors(logging.Filter):
    """Drops the traceback from a log record whose exception is a network failure."""

    def __init__(self, kinds: tuple[type[BaseException], ...]) -> None:
        super().__init__()
        self.kinds = kinds

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep the record; only its traceback goes, and only for a network failure."""
        if record.exc_info and isinstance(record.exc_info[1], self.kinds):
            record.exc_info = record.exc_text = None
        return True


def _brief_network_errors(log: logging.Logger, kinds: list[Any]) -> None:
    """Scrapy logs a robots.txt it could not fetch with a traceback. For a host that does not
    resolve, refuses or times out (the exceptions Scrapy retries) the one line says it all; a
    crawl of many outlets, a probe or a discover of a host that is down must not look like a
    crash. A bug's traceback stays."""
    from scrapy.utils.misc import load_object

    loaded = tuple(load_object(k) if isinstance(k, str) else k for k in kinds)
    for existing in log.filters:
        if isinstance(existing, _BriefNetworkErrors):
            existing.kinds = loaded
            return
    log.addFilter(_BriefNetworkErrors(loaded))


class PolitenessMiddleware:
    """Retry-After, exponential back-off and pausing an outlet that keeps failing.

    Runs just before Scrapy's RetryMiddleware sees a response, so the retry it schedules
    waits in the outlet's download slot for as long as the server asked.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.pause_after = settings.getint("MEDIAWATCH_PAUSE_AFTER_FAILURES")
        self.max_retry_after = settings.getfloat("MEDIAWATCH_MAX_RETRY_AFTER")
        self.failures: dict[str, int] = {}
        self.base_delay: dict[str, tuple[float, float]] = {}
        self.hold_until: dict[str, float] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PolitenessMiddleware:
        """Build from the crawler's settings."""
        return cls(crawler)

    def process_response(self, request: Request, response: Any, spider: Spider | None = None
                         ) -> Any:
        """Count failures per outlet; honour Retry-After on 429 and 503."""
        sid = request.meta.get("source_id")
        if sid is None:
            return response
        if response.status in (429, 503) or response.status >= 500:
            wait = retry_after(response.headers.get(b"Retry-After"))
            if wait is not None and wait > self.max_retry_after:
                self._pause(sid, f"asked to wait {wait:.0f} s (Retry-After) on {request.url}")
            self._failed(sid, request, wait)
        elif response.status < 400 or response.status in (404, 410):
            self.failures[sid] = 0  # the outlet answers: a missing page is not an outage
        return response

    def process_exception(self, request: Request, exception: BaseException,
                          spider: Spider | None = None) -> None:
        """Timeouts, resets and refused connections count as failures of the outlet."""
        sid = request.meta.get("source_id")
        if sid is not None and not isinstance(exception, IgnoreRequest):
            self._failed(sid, request, None)

    def _failed(self, sid: str, request: Request, wait: float | None) -> None:
        n = self.failures.get(sid, 0) + 1
        self.failures[sid] = n
        if n >= self.pause_after:
            self._pause(sid, f"{n} failures in a row, the last on {request.url}")
        slot = self._slot(sid)
        context = CrawlContext.of(self.crawler)
        if slot is None or (context is not None and sid in context.paused):
            return
        base = self.base_delay.setdefault(sid, (slot.delay, slot.jitter))
        # Exponential back-off from the outlet's own delay, unless the server named a wait.
        backoff = min(2 ** (n - 1) * max(base[0], 0.5), 30.0)
        hold = min(wait, self.max_retry_after) if wait is not None else backoff
        # A later, shorter failure (a 500's back-off) must not cut short a hold the server
        # asked for (Retry-After): the slot is held until the latest deadline of all.
        now = time.monotonic()
        until = max(self.hold_until.get(sid, 0.0), now + hold)
        hold = until - now
        # Hold the outlet's slot for exactly `hold` (no jitter), then restore its delay.
        slot.delay, slot.jitter = max(base[0], hold), 0.0
        slot.lastseen = now
        self.hold_until[sid] = until
        call_later(hold, self._release, sid)
        if self.crawler.stats:
            self.crawler.stats.inc_value(f"mediawatch/backoff/{sid}")

    def _release(self, sid: str) -> None:
        slot = self._slot(sid)
        if slot is not None and sid in self.base_delay and \
                time.monotonic() >= self.hold_until.get(sid, 0):
            slot.delay, slot.jitter = self.base_delay[sid]

    def _slot(self, sid: str) -> Any:
        engine = self.crawler.engine
        return engine.downloader.slots.get(sid) if engine else None

    def _pause(self, sid: str, reason: str) -> None:
        context = CrawlContext.of(self.crawler)
        if context is None or sid in context.paused:
            return
        context.paused[sid] = reason
        slot = self._slot(sid)
        if slot is None:
            return
        # Requests already queued in the outlet's slot passed the guard before the pause:
        # fail them now (each is recorded as dropped) instead of waiting out their back-off.
        self.hold_until.pop(sid, None)
        if sid in self.base_delay:
            slot.delay, slot.jitter = self.base_delay[sid]
        while slot.queue:
            _request, deferred = slot.queue.popleft()
            deferred.errback(IgnoreRequest(f"dropped: outlet paused: {reason}"))


def retry_after(value: bytes | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    text = value.decode("latin-1").strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
