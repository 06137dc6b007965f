"""ONE registry-driven spider: discovers and fetches, never cleans text.

Discovery paths per outlet: feeds (RSS 2.0, RSS 1.0/RDF, Atom), sitemaps (indexes,
gzip, robots.txt `Sitemap:` lines, news: fields), section pages (article links by
pattern, pagination by rel=next or under the section's path), and seed URLs. Every
request carries its outlet as `download_slot`, so the registry's delay and
concurrency apply per outlet, and goes through robots.txt, retries and the outlet guard.

A crawl has two phases. First every discovery document is fetched (conditionally: an
unchanged feed answers 304; robots.txt and sitemap indexes in full, since their children are
read from the body) and every article URL it lists goes into the frontier,
`url_state` in archive.db, with its evidence. Then, when Scrapy goes idle, the frontier
is read back: never-fetched URLs first, then known articles whose re-check is due (most
overdue first), within the outlet's budgets and the crawl's re-check budget. Because the
frontier is in SQLite, a crawl killed at any moment resumes where it stopped, and what is
stored never depends on which discovery path answered first.

As a `crawl --redis` worker (MEDIAWATCH_REDIS_URL set) the same spider has no database:
found article URLs go straight to the shared Redis queue, whose expiring fingerprints
decide what is fetched again, and validators come from Redis (crawler.distributed).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider, IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.archive.view import Due
from crawler.clock import utcnow
from crawler.context import CrawlContext
from crawler.items import Discovered, FetchedPage, Found
from crawler.items import headers_dict as _headers
from crawler.registry.model import Registry, Source
from crawler.spiders.frontier import FrontierPager
from crawler.web.discovery import DiscoveryError, parse_feed, parse_sitemap, robots_sitemaps, sniff
from crawler.web.links import article_links, page_links, pagination_links
from crawler.web.urls import clean_url, is_http_url


class OutletSpider(scrapy.Spider):
    """Crawl every enabled outlet of the registry (or the ones named)."""

    name = "outlets"
    context: CrawlContext
    frontier: FrontierPager
    conditional: bool
    max_section_pages: int
    _section_pages: dict[str, int]

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> OutletSpider:
        """The crawl context (registry, state, outlets) and the frontier pager, from settings."""
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.context = CrawlContext.from_crawler(crawler)
        spider.frontier = FrontierPager(spider.context, settings, crawler, spider._frontier_request)
        spider.max_section_pages = settings.getint("MEDIAWATCH_MAX_SECTION_PAGES")
        spider.conditional = settings.getbool("MEDIAWATCH_CONDITIONAL_REQUESTS")
        spider._section_pages = {}
        crawler.signals.connect(spider.fetch_articles, signal=signals.spider_idle)
        return spider

    @property
    def registry(self) -> Registry:
        """The outlet registry of this crawl."""
        return self.context.registry

    async def start(self) -> AsyncIterator[Any]:
        """Initial requests: robots sitemaps, sitemaps, feeds, sections; seeds to the frontier."""
        for source in self.context.outlets:
            if source.urls and self.context.canary_mode != "only":
                for output in self._found(source, Discovered(
                        source.id, "seed", None, utcnow(),
                        [Found(clean_url(u)) for u in source.urls])):
                    yield output
            for request in self.initial_requests(source):
                yield request
            for url in self.context.plan[source.id].canaries if self.context.plan else ():
                # Never conditional: a canary is re-extracted from a full body every time.
                self.frontier.scheduled.add(url)
                yield self._request(source, url, "article", "canary", None, self.parse_article,
                                    validators=(None, None))

    def _wanted(self, source: Source, url: str) -> bool:
        """Whether this crawl polls a discovery document (`--due`: only the due ones)."""
        if self.context.plan is None:
            return True
        due = self.context.plan.get(source.id)
        return due is not None and url in due.docs

    def _child_wanted(self, url: str) -> bool:
        """A sitemap reached through robots.txt or an index: under `--due`, only if due."""
        return self.context.plan is None or self.context.state.doc_due(url, utcnow())

    def initial_requests(self, source: Source) -> Iterator[scrapy.Request]:
        """The discovery documents one outlet's registry entry names."""
        for sitemap in source.sitemaps:
            if sitemap == "robots":
                root = "/".join(source.homepage.split("/", 3)[:3])
                if self._wanted(source, root + "/robots.txt"):
                    yield self._request(source, root + "/robots.txt", "robots", "robots", None,
                                        self.parse_robots)
            elif self._wanted(source, sitemap):
                yield self._request(source, sitemap, "sitemap", "registry", None,
                                    self.parse_sitemap)
        for feed in source.feeds:
            if self._wanted(source, feed):
                yield self._request(source, feed, "feed", "registry", None, self.parse_feed)
        for section in source.sections:
            if self._wanted(source, section):
                yield self._request(source, section, "section", "registry", None,
                                    self.parse_section, section=section)

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
        validators: tuple[str | None, str | None] | None = None,
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
        etag, modified = validators if validators is not None else self.context.state.validators(url)
        if not self.conditional or kind == "robots" or \
                (kind == "sitemap" and self.context.state.lists_sitemaps(source.id, url)):
            # A 304 has no body: robots.txt's Sitemap: lines and an index's sitemaps would go
            # unread, and those children (often the only ones that change) unpolled.
            etag = modified = None
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if modified:
            headers["If-Modified-Since"] = modified
        return scrapy.Request(url, callback=callback, errback=self.on_error, meta=meta,
                              headers=headers)

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
            lease=meta.get("mw_lease"),
            **extra,
        )

    def _found(self, source: Source, found: Discovered) -> Iterator[Any]:
        """A listing for the frontier; a Redis worker also queues its URLs at once."""
        yield found
        if not self.context.distributed:
            return
        for entry in found.entries:
            yield self._request(source, entry.url, "article", found.via, found.document,
                                self.parse_article, entry.hints)

    # -- phase 2: the frontier -----------------------------------------------

    def fetch_articles(self) -> None:
        """Discovery is over (Scrapy went idle): fetch the next page of the frontier."""
        if self.context.canary_mode == "only" or self.context.distributed:
            return  # a Redis worker has no frontier: found URLs were queued at once
        if self.frontier.schedule_next_page():
            raise DontCloseSpider

    def _frontier_request(self, source: Source, due: Due) -> scrapy.Request:
        return self._request(source, due.url, "article", due.via or "frontier", due.origin,
                             self.parse_article, due.hints,
                             validators=(due.etag, due.last_modified))

    # -- callbacks -------------------------------------------------------------

    def parse_robots(self, response: Response) -> Iterator[Any]:
        """robots.txt: follow its Sitemap: lines."""
        yield self._page(response)
        source = self.registry.get(response.meta["source_id"])
        for url in robots_sitemaps(response.body, response.url):
            if source.owns(url) and self._child_wanted(url):
                yield self._request(source, url, "sitemap", "robots", response.url,
                                    self.parse_sitemap)

    def parse_feed(self, response: Response) -> Iterator[Any]:
        """A feed: every entry on the outlet goes to the frontier with its evidence."""
        if sniff(response.body) == "sitemap":
            yield from self.parse_sitemap(response)
            return
        source = self.registry.get(response.meta["source_id"])
        try:
            feed = parse_feed(response.body, response.url)
        except DiscoveryError as exc:
            yield self._page(response, parse_error=f"feed: {exc}")
            return
        page = self._page(response)
        yield page
        found = [
            Found(clean_url(e.url), _hints(feed_title=e.title, feed_date=e.published),
                  e.title, e.published, e.position)
            for e in feed.entries if is_http_url(e.url) and source.owns(e.url)
        ]
        # The page's own time: the archive pairs a poll's fetch with what it yielded.
        yield from self._found(source, Discovered(source.id, "feed", response.url,
                                                  page.fetched_at, found, snapshot=True))

    def parse_sitemap(self, response: Response) -> Iterator[Any]:
        """A sitemap or sitemap index: children, then article URLs matching the pattern."""
        source = self.registry.get(response.meta["source_id"])
        try:
            sitemap = parse_sitemap(response.body, response.url)
        except DiscoveryError as exc:
            yield self._page(response, parse_error=f"sitemap: {exc}")
            return
        page = self._page(response)
        yield page
        pattern = self.context.patterns.get(source.id)
        found = []
        for n, entry in enumerate(sitemap.entries):
            if not is_http_url(entry.loc) or not source.owns(entry.loc):
                continue
            if sitemap.kind == "sitemapindex":
                if not self._child_wanted(entry.loc):
                    continue
                yield self._request(source, entry.loc, "sitemap", "sitemap", response.url,
                                    self.parse_sitemap)
            elif pattern is None or pattern.search(entry.loc):
                found.append(Found(
                    clean_url(entry.loc),
                    _hints(sitemap_date=entry.news_publication_date,
                           sitemap_title=entry.news_title, sitemap_lastmod=entry.lastmod),
                    entry.news_title, entry.news_publication_date, n))
        if found:
            news = any(f.title for f in found)
            yield from self._found(source, Discovered(source.id, "sitemap", response.url,
                                                      page.fetched_at, found, snapshot=news))

    def parse_section(self, response: Response) -> Iterator[Any]:
        """A section page: article links by pattern, then its next pages (bounded)."""
        source = self.registry.get(response.meta["source_id"])
        page = self._page(response)
        yield page
        if not isinstance(response, TextResponse):
            return
        links = page_links(response.body, response.url)
        found = [Found(clean_url(url)) for url in article_links(links, self.context.patterns.get(source.id))
                 if source.owns(url)]
        if found:
            yield from self._found(source, Discovered(source.id, "section", response.url,
                                                      page.fetched_at, found))
        section = response.meta.get("section") or response.url
        for url in pagination_links(links, response.url, section):
            if not source.owns(url):
                continue
            pages = self._section_pages.get(section, 1)
            if pages >= self.max_section_pages:
                # A calendar or infinite-scroll trap: stop, and say so in the archive.
                yield self._page(response, parse_error=(
                    f"section: pagination stopped after {pages} pages "
                    f"(MEDIAWATCH_MAX_SECTION_PAGES); next was {url}"))
                return
            self._section_pages[section] = pages + 1
            yield self._request(source, url, "section", "pagination", response.url,
                                self.parse_section, section=section)

    def parse_article(self, response: Response) -> Iterator[Any]:
        """An article page: hand the raw response on; extraction happens in the pipeline."""
        yield self._page(response)

    def on_error(self, failure: Failure) -> Iterator[Any]:
        """Every failed fetch (and every 304) becomes a recorded page, never a silent loss."""
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
        elif failure.type is not None and failure.type.__name__.endswith("CancelledError"):
            # Scrapy cancels a download only when the body outgrows DOWNLOAD_MAXSIZE.
            limit = self.crawler.settings.getint("DOWNLOAD_MAXSIZE")
            message = f"too large: download cancelled past DOWNLOAD_MAXSIZE ({limit} bytes)"
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
            lease=meta.get("mw_lease"),
        )


def _hints(**values: str | None) -> dict[str, str]:
    return {k: v for k, v in values.items() if v}
