"""The discover spider: read a homepage, try its feeds and sitemaps, collect article URLs.

Runs on the crawl's settings and downloader middlewares (robots.txt obeyed and noted, the
project's User-Agent, the default delay), without a registry: nothing of sources.toml is read.
What it found goes to crawler.registry.discover.proposal.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler.registry.discover import COMMON_FEEDS, COMMON_SITEMAPS, Homepage, read_homepage
from crawler.spiders.probe import ERROR_STATUSES, ROBOTS_STAT
from crawler.web.discovery import DiscoveryError, parse_feed, parse_sitemap, robots_sitemaps, sniff
from crawler.web.urls import host_key

MAX_CHILD_SITEMAPS = 2


class DiscoverSpider(scrapy.Spider):
    """Homepage first; then advertised and common feed/sitemap URLs, each fetched once."""

    name = "discover"
    registry = None  # the outlet guard and robots middleware then check no outlet
    paused: dict[str, str]
    crawl_delays: dict[str, float]
    homepage_url: str
    page: Homepage | None
    feeds: dict[str, list[str]]
    sitemaps: dict[str, list[str]]
    rejected: dict[str, str]
    seen: set[str]

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> DiscoverSpider:
        """The homepage comes from the MEDIAWATCH_DISCOVER_URL setting."""
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.homepage_url = crawler.settings.get("MEDIAWATCH_DISCOVER_URL")
        spider.paused, spider.crawl_delays = {}, {}
        spider.page, spider.feeds, spider.sitemaps = None, {}, {}
        spider.rejected, spider.seen = {}, set()
        return spider

    async def start(self) -> AsyncIterator[Any]:
        """The homepage."""
        yield self._get(self.homepage_url, self.parse_homepage, "homepage")

    def _get(self, url: str, callback: Any, kind: str) -> scrapy.Request:
        self.seen.add(url)
        return scrapy.Request(url, callback=callback, errback=self.on_error, dont_filter=True,
                              meta={"kind": kind, "handle_httpstatus_list": ERROR_STATUSES})

    def parse_homepage(self, response: Response) -> Iterator[scrapy.Request]:
        """Read the page; queue advertised feeds, robots.txt sitemaps and the common paths."""
        if response.status >= 400:
            self.rejected[response.url] = f"homepage answers HTTP {response.status}"
            return
        self.page = read_homepage(response.body, response.url)
        root = "{0.scheme}://{0.netloc}".format(urlsplit(response.url))
        for url in [*self.page.feeds, *(root + p for p in COMMON_FEEDS)]:
            if url not in self.seen:
                yield self._get(url, self.parse_feed, "feed")
        noted = self.crawler.stats.get_value(ROBOTS_STAT + urlsplit(response.url).netloc) \
            if self.crawler.stats else None
        listed = robots_sitemaps(noted.body, root + "/robots.txt") if noted and noted.body else []
        for url in [*listed, *(root + p for p in COMMON_SITEMAPS)]:
            if url not in self.seen:
                yield self._get(url, self.parse_sitemap, "sitemap")

    def parse_feed(self, response: Response) -> Iterator[scrapy.Request]:
        """A candidate feed: kept when it parses as RSS/Atom with items."""
        url = response.request.url if response.request else response.url
        if response.status >= 400:
            self.rejected[url] = f"HTTP {response.status}"
            return
        if sniff(response.body) == "sitemap":
            yield from self.parse_sitemap(response)
            return
        try:
            feed = parse_feed(response.body, response.url)
        except DiscoveryError as exc:
            shape = sniff(response.body)
            self.rejected[url] = "answers HTML, not a feed" if shape == "html" else str(exc)
            return
        if not feed.entries:
            self.rejected[url] = "an empty feed"
            return
        if not any(u == url or _same(u, url) for u in self.feeds):
            self.feeds[url] = [e.url for e in feed.entries]

    def parse_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        """A candidate sitemap: an index leads to its newest children (news ones first)."""
        url = response.request.url if response.request else response.url
        if response.status >= 400:
            self.rejected[url] = f"HTTP {response.status}"
            return
        try:
            sitemap = parse_sitemap(response.body, response.url)
        except DiscoveryError as exc:
            shape = sniff(response.body)
            self.rejected[url] = "answers HTML, not a sitemap" if shape == "html" else str(exc)
            return
        if sitemap.kind == "urlset":
            self.sitemaps[url] = [e.loc for e in sitemap.entries]
            return
        self.sitemaps[url] = []
        children = sorted(sitemap.entries, key=lambda e: ("news" in e.loc, e.lastmod or ""),
                          reverse=True)
        for child in children[:MAX_CHILD_SITEMAPS]:
            if child.loc not in self.seen and host_key(child.loc) == host_key(url):
                request = self._get(child.loc, self.parse_child, "sitemap")
                request.meta["index"] = url
                yield request

    def parse_child(self, response: Response) -> Iterator[scrapy.Request]:
        """A child of a sitemap index: its URLs count, the index stays the registry entry."""
        url = response.request.url if response.request else response.url
        if response.status >= 400:
            self.rejected[url] = f"HTTP {response.status}"
            return iter(())
        try:
            sitemap = parse_sitemap(response.body, response.url)
        except DiscoveryError as exc:
            self.rejected[url] = str(exc)
            return iter(())
        self.sitemaps[response.meta["index"]] += [e.loc for e in sitemap.entries]
        return iter(())

    def on_error(self, failure: Failure) -> None:
        """Robots.txt refusals, timeouts and refused connections are evidence too."""
        request = failure.request  # type: ignore[attr-defined]
        text = failure.getErrorMessage()
        if failure.check(IgnoreRequest) and "robots.txt" in text:
            self.rejected[request.url] = "robots.txt disallows it"
        else:
            name = failure.type.__name__ if failure.type else "error"
            self.rejected[request.url] = f"{name}: {text}"


def _same(a: str, b: str) -> bool:
    """/feed and /feed/ (one redirecting to the other) are one feed."""
    return urljoin(a, ".").rstrip("/") == urljoin(b, ".").rstrip("/") and \
        a.rstrip("/") == b.rstrip("/")
