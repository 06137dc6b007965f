"""ONE registry-driven spider: discovers and fetches, never cleans text.

Discovery paths per outlet: feeds (RSS 2.0, RSS 1.0/RDF, Atom), sitemaps (indexes,
gzip, robots.txt `Sitemap:` lines, news: fields), section pages (article links by
pattern, pagination by rel=next or under the section's path), and seed URLs. Every
request carries its outlet as `download_slot`, so the registry's delay and
concurrency apply per outlet, and goes through robots.txt, retries and the outlet guard.

A crawl has two phases. First every discovery document is fetched (conditionally: an
unchanged feed answers 304) and every article URL it lists goes into the frontier,
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

import math
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider, IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.archive.view import CrawlState
from crawler.clock import utcnow
from crawler.items import Discovered, FetchedPage, Found
from crawler.items import headers_dict as _headers
from crawler.ops.schedule import OutletDue, outlet_due
from crawler.registry.model import Registry, Source, load_registry
from crawler.web.discovery import (
    DiscoveryError,
    article_links,
    page_links,
    pagination_links,
    parse_feed,
    parse_sitemap,
    robots_sitemaps,
    sniff,
)
from crawler.web.urls import clean_url, is_http_url


class OutletSpider(scrapy.Spider):
    """Crawl every enabled outlet of the registry (or the ones named)."""

    name = "outlets"
    registry: Registry
    outlets: tuple[Source, ...]
    patterns: dict[str, re.Pattern[str] | None]
    state: Any  # CrawlState (archive.db), or RedisState for a `crawl --redis` worker
    distributed: bool
    recheck_all: bool
    recheck_budget: int | None
    max_section_pages: int
    conditional: bool
    # Filled during the crawl, read by the archive pipeline when it closes the run.
    deferred: dict[str, int]
    paused: dict[str, str]
    crawl_delays: dict[str, float]
    # `crawl --due` / `mediawatch canaries`: what each outlet has due (None: crawl everything).
    plan: dict[str, OutletDue] | None
    canary_mode: str
    # Frontier paging: article URLs scheduled at the last idle moment (their rows may not be
    # committed yet), the ones before them (committed by the archive's own idle handler
    # since), and any whose fetch never reached the archive. Bounded by the page size.
    frontier_page: int
    _started: str
    _scheduled: set[str]
    _previous: set[str]
    _lost: set[str]
    _order: int
    _section_pages: dict[str, int]

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> OutletSpider:
        """Load the registry, open the crawl state, pick the outlets to crawl."""
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.registry = load_registry(settings.get("MEDIAWATCH_SOURCES"))
        spider.distributed = bool(settings.get("MEDIAWATCH_REDIS_URL"))
        if spider.distributed:
            from scrapy_redis import connection

            from crawler.distributed.worker import RedisState

            spider.state = RedisState(connection.from_settings(settings),
                                      settings.get("MEDIAWATCH_REDIS_PREFIX"))
        else:
            spider.state = CrawlState(settings.get("MEDIAWATCH_DB"))
        ids = settings.getlist("MEDIAWATCH_SOURCE_IDS")
        chosen = tuple(spider.registry.get(i) for i in ids) if ids else spider.registry.enabled()
        spider.paused = {}
        spider.outlets = ()
        for source in chosen:
            reason = spider.state.paused(source.id, utcnow())
            if reason:
                spider.paused[source.id] = f"still paused: {reason}"
            else:
                spider.outlets += (source,)
        spider.canary_mode = settings.get("MEDIAWATCH_CANARY_MODE") or "off"
        spider.plan = None
        if spider.canary_mode == "only":
            spider.plan = {s.id: OutletDue(s.id, canaries=list(s.canaries))
                           for s in spider.outlets if s.canaries}
        elif settings.getbool("MEDIAWATCH_DUE_ONLY"):
            now = utcnow()
            due = (outlet_due(s, spider.state, now, spider.canary_mode != "off")
                   for s in spider.outlets)
            spider.plan = {d.source_id: d for d in due if d}
        if spider.plan is not None:
            spider.outlets = tuple(s for s in spider.outlets if s.id in spider.plan)
        spider.patterns = {
            s.id: re.compile(s.article_url_pattern) if s.article_url_pattern else None
            for s in spider.registry.sources
        }
        spider.recheck_all = settings.getbool("MEDIAWATCH_RECHECK_ALL")
        budget = settings.getint("MEDIAWATCH_RECHECK_BUDGET")
        spider.recheck_budget = None if spider.recheck_all or budget <= 0 else budget
        spider.max_section_pages = settings.getint("MEDIAWATCH_MAX_SECTION_PAGES")
        spider.conditional = settings.getbool("MEDIAWATCH_CONDITIONAL_REQUESTS")
        spider.deferred = {}
        spider.crawl_delays = {}
        spider.frontier_page = max(1, settings.getint("MEDIAWATCH_FRONTIER_PAGE", 500))
        spider._started = utcnow()
        spider._scheduled, spider._previous, spider._lost = set(), set(), set()
        spider._order = 0
        spider._section_pages = {}
        crawler.signals.connect(spider.fetch_articles, signal=signals.spider_idle)
        crawler.signals.connect(spider._close_state, signal=signals.spider_closed)
        return spider

    def _close_state(self) -> None:
        self.state.close()

    async def start(self) -> AsyncIterator[Any]:
        """Initial requests: robots sitemaps, sitemaps, feeds, sections; seeds to the frontier."""
        for source in self.outlets:
            if source.urls and self.canary_mode != "only":
                for output in self._found(source, Discovered(
                        source.id, "seed", None, utcnow(),
                        [Found(clean_url(u)) for u in source.urls])):
                    yield output
            for request in self.initial_requests(source):
                yield request
            for url in self.plan[source.id].canaries if self.plan else ():
                # Never conditional: a canary is re-extracted from a full body every time.
                self._scheduled.add(url)
                yield self._request(source, url, "article", "canary", None, self.parse_article,
                                    validators=(None, None))

    def _wanted(self, source: Source, url: str) -> bool:
        """Whether this crawl polls a discovery document (`--due`: only the due ones)."""
        if self.plan is None:
            return True
        due = self.plan.get(source.id)
        return due is not None and url in due.docs

    def _child_wanted(self, url: str) -> bool:
        """A sitemap reached through robots.txt or an index: under `--due`, only if due."""
        return self.plan is None or self.state.doc_due(url, utcnow())

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
        etag, modified = validators if validators is not None else self.state.validators(url)
        if not self.conditional:
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
        if not self.distributed:
            return
        for entry in found.entries:
            yield self._request(source, entry.url, "article", found.via, found.document,
                                self.parse_article, entry.hints)

    # -- phase 2: the frontier -----------------------------------------------

    def fetch_articles(self) -> None:
        """Discovery is over (Scrapy went idle): fetch new and due articles from the frontier.

        Runs at every idle moment and takes at most MEDIAWATCH_FRONTIER_PAGE due URLs per
        outlet (SQL LIMIT: the rest of the frontier stays in SQLite, never in RAM); raising
        DontCloseSpider brings the next idle moment and the next page. Budgets are spent
        across calls, and what is left over is counted as deferred (it stays due in the
        frontier for the next crawl).
        """
        if self.canary_mode == "only" or self.distributed:
            return  # a Redis worker has no frontier: found URLs were queued at once
        now = utcnow()
        skip = self._settle()
        taken: set[str] = set()
        deferred: dict[str, int] = {}
        for source in self.outlets:
            if source.id in self.paused:
                continue
            room = self._outlet_room(source)
            take = int(min(max(room, 0), self.frontier_page))
            rows = self.state.due(source.id, now, self.recheck_all, take, exclude=skip,
                                  since=self._since()) if take else []
            cut = len(rows) >= take  # the page (or the room) may have left URLs behind
            scheduled = 0
            for due in rows:
                if due.known and self.recheck_budget is not None and self.recheck_budget <= 0:
                    cut = True  # known URLs come last: every one after this is over budget too
                    break
                if due.known and self.recheck_budget is not None:
                    self.recheck_budget -= 1
                taken.add(due.url)
                request = self._request(
                    source, due.url, "article", due.via or "frontier", due.origin,
                    self.parse_article, due.hints, validators=(due.etag, due.last_modified))
                # Scrapy's queues are LIFO within a priority: keep the frontier's order.
                self._order += 1
                self.crawler.engine.crawl(request.replace(priority=-self._order))
                scheduled += 1
            if cut:
                left = self.state.due_count(source.id, now, self.recheck_all, exclude=skip,
                                            since=self._since()) - scheduled
                if left > 0:
                    deferred[source.id] = left
        self.deferred = deferred
        self._previous, self._scheduled = self._scheduled, taken
        if taken:
            raise DontCloseSpider

    def _since(self) -> str | None:
        """With --recheck a re-fetched article stays due: leave out what this run fetched."""
        return self._started if self.recheck_all else None

    def _settle(self) -> set[str]:
        """URLs scheduled in this crawl whose fetch the frontier may not show yet.

        The archive commits its batch in its own spider_idle handler, which runs after this
        one: the last page's fetches may be uncommitted now, the page before it's are not.
        One of those the archive does not show as fetched never reached it (a store error):
        it is remembered for the rest of the crawl, as before paging, and not fetched again.
        """
        if self._previous:
            self._lost |= self._previous - self.state.fetched_since(self._previous,
                                                                    self._started)
        self._previous = set()
        return self._scheduled | self._lost

    def _outlet_room(self, source: Source) -> int | float:
        """Requests this outlet's budgets (max_requests, max_pages, max_seconds) still allow."""
        stats = self.crawler.stats
        sent = stats.get_value(f"mediawatch/requests/{source.id}", 0) if stats else 0
        room: int | float = float("inf")
        for cap in (source.max_requests, source.max_pages):
            if cap is not None:
                # A tenth of the budget is kept for redirect hops and retries of the URLs
                # admitted now, which count against the same cap (see OutletGuardMiddleware).
                room = min(room, cap - sent - math.ceil(cap / 10))
        started = stats.get_value("start_time") if stats else None
        if source.max_seconds is not None and started is not None:
            from datetime import UTC, datetime

            if (datetime.now(UTC) - started).total_seconds() > source.max_seconds:
                room = 0
        return room

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
        pattern = self.patterns.get(source.id)
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
        found = [Found(clean_url(url)) for url in article_links(links, self.patterns.get(source.id))
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
