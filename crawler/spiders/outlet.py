"""ONE registry-driven spider: discovers and fetches, never cleans text.

Discovery paths per outlet: feeds (RSS 2.0, RSS 1.0/RDF, Atom), sitemaps (indexes,
gzip, robots.txt `Sitemap:` lines, news: fields), section pages (article links by
pattern, pagination by rel=next or under the section's path), and seed URLs. Every
request carries its outlet as `download_slot`, so the registry's delay and
concurrency apply per outlet, and goes through robots.txt, retries and the outlet guard.

The crawl runs in two phases: first every discovery document (robots.txt, sitemaps,
feeds, sections and their pages), then, when Scrapy goes idle, every article found, each
once, with the feed and sitemap evidence of every path that found it. So what is stored
never depends on which discovery path happened to answer first.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider, IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.clock import utcnow
from crawler.discovery import (
    DiscoveryError,
    article_links,
    page_links,
    pagination_links,
    parse_feed,
    parse_sitemap,
    robots_sitemaps,
    sniff,
)
from crawler.items import FetchedPage
from crawler.items import headers_dict as _headers
from crawler.sources import Registry, Source, load_registry
from crawler.urls import clean_url, is_http_url


class OutletSpider(scrapy.Spider):
    """Crawl every enabled outlet of the registry (or the ones named)."""

    name = "outlets"
    registry: Registry
    outlets: tuple[Source, ...]

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> OutletSpider:
        """Load the registry named by MEDIAWATCH_SOURCES and pick the outlets to crawl."""
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.registry = load_registry(settings.get("MEDIAWATCH_SOURCES"))
        ids = settings.getlist("MEDIAWATCH_SOURCE_IDS")
        spider.outlets = (
            tuple(spider.registry.get(i) for i in ids) if ids else spider.registry.enabled()
        )
        spider.found = {}
        crawler.signals.connect(spider.fetch_articles, signal=signals.spider_idle)
        spider.patterns = {
            s.id: re.compile(s.article_url_pattern) if s.article_url_pattern else None
            for s in spider.registry.sources
        }
        return spider

    patterns: dict[str, re.Pattern[str] | None]
    # Articles found in the discovery phase: clean URL -> (outlet, via, from, merged hints).
    found: dict[str, tuple[Source, str, str | None, dict[str, str]]]

    async def start(self) -> AsyncIterator[Any]:
        """Initial requests: robots sitemaps, sitemaps, feeds, sections, seeds of each outlet."""
        for source in self.outlets:
            for request in self.initial_requests(source):
                yield request

    def initial_requests(self, source: Source) -> Iterator[scrapy.Request]:
        """What one outlet's registry entry asks to fetch first."""
        for sitemap in source.sitemaps:
            if sitemap == "robots":
                robots = source.homepage.split("/", 3)
                yield self._request(source, "/".join(robots[:3]) + "/robots.txt", "robots",
                                    "robots", None, self.parse_robots)
            else:
                yield self._request(source, sitemap, "sitemap", "registry", None,
                                    self.parse_sitemap)
        for feed in source.feeds:
            yield self._request(source, feed, "feed", "registry", None, self.parse_feed)
        for section in source.sections:
            yield self._request(source, section, "section", "registry", None,
                                self.parse_section, section=section)
        for url in source.urls:
            self._found(source, url, "seed", None, {})

    def _request(
        self,
        source: Source,
        url: str,
        kind: str,
        via: str,
        origin: str | None,
        callback: Any,
        hints: dict[str, str] | None = None,
        section: str | None = None,
    ) -> scrapy.Request:
        meta = {
            "source_id": source.id,
            "download_slot": source.id,
            "kind": kind,
            "via": via,
            "from": origin,
            "hints": hints or {},
            "section": section,
        }
        return scrapy.Request(url, callback=callback, errback=self.on_error, meta=meta)

    def _found(
        self, source: Source, url: str, via: str, origin: str | None, hints: dict[str, str]
    ) -> None:
        """Note an article URL (tracking parameters and fragment removed) and its evidence."""
        url = clean_url(url)
        entry = self.found.setdefault(url, (source, via, origin, {}))
        for key, value in hints.items():
            if value:
                entry[3].setdefault(key, value)

    def fetch_articles(self) -> None:
        """Discovery is over (Scrapy went idle): schedule every article found, once each."""
        if not self.found:
            return
        found, self.found = self.found, {}
        for url, (source, via, origin, hints) in found.items():
            self.crawler.engine.crawl(
                self._request(source, url, "article", via, origin, self.parse_article, hints))
        raise DontCloseSpider

    def _page(self, response: Response, **extra: Any) -> FetchedPage:
        meta = response.meta
        return FetchedPage(
            source_id=meta["source_id"],
            url=meta.get("redirect_urls", [response.url])[0],
            kind=meta["kind"],
            discovered_via=meta["via"],
            discovered_from=meta.get("from"),
            fetched_at=utcnow(),
            final_url=response.url,
            status=response.status,
            headers=_headers(response.headers),
            request_headers=_headers(response.request.headers) if response.request else {},
            body=response.body,
            redirect_chain=list(meta.get("redirect_urls", [])),
            hints=dict(meta.get("hints") or {}),
            **extra,
        )

    # -- callbacks ---------------------------------------------------------

    def parse_robots(self, response: Response) -> Iterator[Any]:
        """robots.txt: follow its Sitemap: lines."""
        yield self._page(response)
        source = self.registry.get(response.meta["source_id"])
        for url in robots_sitemaps(response.body, response.url):
            if source.owns(url):
                yield self._request(source, url, "sitemap", "robots", response.url,
                                    self.parse_sitemap)

    def parse_feed(self, response: Response) -> Iterator[Any]:
        """A feed: every entry on the outlet becomes an article request with its hints."""
        if sniff(response.body) == "sitemap":
            yield from self.parse_sitemap(response)
            return
        source = self.registry.get(response.meta["source_id"])
        try:
            feed = parse_feed(response.body, response.url)
        except DiscoveryError as exc:
            yield self._page(response, parse_error=f"feed: {exc}")
            return
        yield self._page(response)
        for entry in feed.entries:
            if not is_http_url(entry.url) or not source.owns(entry.url):
                continue
            hints = {"feed_title": entry.title or "", "feed_date": entry.published or ""}
            self._found(source, entry.url, "feed", response.url, hints)

    def parse_sitemap(self, response: Response) -> Iterator[Any]:
        """A sitemap or sitemap index: children, then article URLs matching the pattern."""
        source = self.registry.get(response.meta["source_id"])
        try:
            sitemap = parse_sitemap(response.body, response.url)
        except DiscoveryError as exc:
            yield self._page(response, parse_error=f"sitemap: {exc}")
            return
        yield self._page(response)
        pattern = self.patterns.get(source.id)
        for entry in sitemap.entries:
            if not is_http_url(entry.loc) or not source.owns(entry.loc):
                continue
            if sitemap.kind == "sitemapindex":
                yield self._request(source, entry.loc, "sitemap", "sitemap", response.url,
                                    self.parse_sitemap)
                continue
            if pattern is not None and not pattern.search(entry.loc):
                continue
            hints = {
                "sitemap_date": entry.news_publication_date or "",
                "sitemap_title": entry.news_title or "",
                "sitemap_lastmod": entry.lastmod or "",
            }
            self._found(source, entry.loc, "sitemap", response.url, hints)

    def parse_section(self, response: Response) -> Iterator[Any]:
        """A section page: article links by pattern, then its next pages."""
        source = self.registry.get(response.meta["source_id"])
        yield self._page(response)
        if not isinstance(response, TextResponse):
            return
        links = page_links(response.body, response.url)
        for url in article_links(links, self.patterns.get(source.id)):
            if source.owns(url):
                self._found(source, url, "section", response.url, {})
        section = response.meta.get("section") or response.url
        for url in pagination_links(links, response.url, section):
            if source.owns(url):
                yield self._request(source, url, "section", "pagination", response.url,
                                    self.parse_section, section=section)

    def parse_article(self, response: Response) -> Iterator[Any]:
        """An article page: hand the raw response on; extraction happens in the pipeline."""
        yield self._page(response)

    def on_error(self, failure: Failure) -> Iterator[Any]:
        """Every failed fetch becomes a recorded page, never a silent loss."""
        request = failure.request  # type: ignore[attr-defined]
        meta = request.meta
        if "source_id" not in meta:
            return
        if failure.check(HttpError):
            yield self._page(failure.value.response)
            return
        text = failure.getErrorMessage()
        if failure.check(IgnoreRequest):
            message = text if text.startswith("dropped") else f"dropped: {text}"
        else:
            message = f"{failure.type.__name__ if failure.type else 'error'}: {text}"
        yield FetchedPage(
            source_id=meta["source_id"],
            url=meta.get("redirect_urls", [request.url])[0],
            kind=meta["kind"],
            discovered_via=meta["via"],
            discovered_from=meta.get("from"),
            fetched_at=utcnow(),
            final_url=request.url,
            redirect_chain=list(meta.get("redirect_urls", [])),
            hints=dict(meta.get("hints") or {}),
            error=message,
        )
