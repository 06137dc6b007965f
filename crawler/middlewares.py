"""Downloader middlewares: outlet guard, redirects that always resolve, robots.txt fix."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy import Request, Spider
from scrapy.downloadermiddlewares.redirect import RedirectMiddleware
from scrapy.downloadermiddlewares.robotstxt import (
    RobotsTxtMiddleware as ScrapyRobotsTxtMiddleware,
)
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

from crawler.urls import is_loopback

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
        registry = getattr(self.crawler.spider, "registry", None)
        if registry is None:
            return None
        source_id = request.meta.get("source_id")
        if source_id is None:
            # Scrapy's own robots.txt fetches carry no outlet: any registered host is fine.
            if registry.source_for_url(request.url) is None:
                raise IgnoreRequest(f"dropped: offsite (no outlet owns it): {request.url}")
            return None
        if not registry.get(source_id).owns(request.url):
            if stats:
                stats.inc_value("mediawatch/dropped/offsite")
            raise IgnoreRequest(f"dropped: offsite for outlet {source_id}: {request.url}")
        return None


class FollowRedirectMiddleware(RedirectMiddleware):
    """Scrapy's redirects, except that a redirect target is fetched even if already requested.

    Otherwise the duplicate filter silently drops the end of a chain whose target another
    link already reached, and the chain's first URL would have no recorded outcome.
    Loops stay bounded by REDIRECT_MAX_TIMES.
    """

    def _redirect(self, redirected: Request, request: Request, reason: Any) -> Request:
        out = super()._redirect(redirected, request, reason)
        out.dont_filter = True
        return out


class RobotsTxtMiddleware(ScrapyRobotsTxtMiddleware):
    """Scrapy's robots.txt middleware, fixed for requests that wait on the same robots.txt.

    Scrapy awaits one shared Deferred per host; Twisted's asFuture() callback returns None,
    so every request after the first that waited on that Deferred received no parser and
    was let through unchecked. Each waiter here gets its own Deferred, fed by a relay
    callback that passes the parser on down the chain.
    """

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
