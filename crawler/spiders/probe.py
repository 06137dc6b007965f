"""The probe spider: fetch every endpoint of the chosen outlets once, through the crawl's stack.

Same settings and downloader middlewares as a crawl (outlet guard, robots.txt with Crawl-delay,
redirects, politeness, the outlet's download slot and delay, the project's User-Agent); no
item pipelines, no retries (each endpoint is fetched once), no archive. robots.txt is fetched
by the robots middleware exactly as in a crawl; ProbeRobotsTxtMiddleware only notes what came
back. The judgement of each response is crawler.registry.probe's. Once all of an outlet's
listings (homepage, feeds, sitemaps, sections) are judged, the newest article links they named
are fetched too (MEDIAWATCH_PROBE_ARTICLES per outlet) and, like canaries, judged by what
extract_article makes of them (crawler.registry.sample).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.utils.httpobj import urlparse_cached
from twisted.python.failure import Failure

from crawler.context import CrawlContext, NoState
from crawler.middlewares import RobotsTxtMiddleware
from crawler.registry.model import Source, load_registry
from crawler.registry.probe import EndpointReport, Fetched, judge, judge_robots
from crawler.registry.sample import judge_article, pick_samples
from crawler.web.discovery import DiscoveryError, parse_sitemap, robots_sitemaps

ROBOTS_STAT = "mediawatch/probe/robots/"
ERROR_STATUSES = list(range(400, 600))  # reach the callback, yet redirects still resolve


class ProbeRobotsTxtMiddleware(RobotsTxtMiddleware):
    """The crawl's robots.txt middleware, noting each host's robots.txt response in the stats."""

    async def _parse_robots(self, response: Any, netloc: str, request: scrapy.Request) -> None:
        ctype = _content_type(response)
        if self.crawler.stats:
            self.crawler.stats.set_value(ROBOTS_STAT + netloc, Fetched(
                f"{urlparse_cached(request).scheme}://{netloc}/robots.txt", response.url,
                response.status, ctype, response.body))
        await super()._parse_robots(response, netloc, request)

    def _robots_error(self, exc: Exception, netloc: str) -> None:
        if self.crawler.stats:
            self.crawler.stats.set_value(ROBOTS_STAT + netloc, Fetched(
                f"//{netloc}/robots.txt", error=f"{type(exc).__name__}: {exc}"))
        super()._robots_error(exc, netloc)


def _content_type(response: Any) -> str | None:
    raw = response.headers.get(b"Content-Type")
    return raw.decode("latin-1") if raw else None


def probe_middlewares(middlewares: dict[str, Any]) -> dict[str, Any]:
    """The crawl's downloader middlewares with the noting robots.txt middleware in its place."""
    out = dict(middlewares)
    priority = out.pop("crawler.middlewares.RobotsTxtMiddleware", 100)
    out["crawler.spiders.probe.ProbeRobotsTxtMiddleware"] = priority
    return out


class ProbeSpider(scrapy.Spider):
    """Fetch each outlet's homepage, feeds, sitemaps, sections, canaries and a few of its
    newest articles once; judge each."""

    name = "probe"
    context: CrawlContext
    reports: list[EndpointReport]
    parsers: dict[str, Any]
    robot_agent: str
    robots_followed: set[str]
    listings_due: Counter[str]  # per outlet: listing rows requested and not yet judged
    samples: int

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> ProbeSpider:
        """Load the registry and pick the outlets (all enabled ones unless ids are given)."""
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        registry = load_registry(settings.get("MEDIAWATCH_SOURCES"))
        ids = settings.getlist("MEDIAWATCH_SOURCE_IDS")
        outlets = tuple(registry.chosen(ids))
        # The crawl's middlewares guard, pause and space requests by this context; a probe
        # has no archive behind it, so it sees nothing, is due everything and sends no
        # validators.
        spider.context = CrawlContext(registry=registry, state=NoState(),
                                      outlets=outlets).attach(crawler)
        spider.reports = []
        spider.parsers = {}
        spider.robot_agent = settings.get("ROBOTSTXT_USER_AGENT") or "*"
        spider.robots_followed = set()
        spider.listings_due = Counter()
        spider.samples = settings.getint("MEDIAWATCH_PROBE_ARTICLES", 2)
        crawler.signals.connect(spider.robots_parsed, signal=signals.robots_parsed)
        return spider

    async def start(self) -> AsyncIterator[Any]:
        """One request per endpoint the registry names (or per URL of MEDIAWATCH_PROBE_URLS:
        `explain --fetch` probes one article page, nothing else of its outlet)."""
        only = self.settings.getlist("MEDIAWATCH_PROBE_URLS")
        for source in self.context.outlets:
            if only:
                for url in only:  # under the outlet that files it (editions share hosts)
                    if (owner := self.context.registry.source_for_url(url)) is not None \
                            and owner.id == source.id:
                        yield self._request(source, "article", url)
                continue
            for kind, url in endpoints(source):
                yield self._request(source, kind, url)

    def _request(self, source: Source, kind: str, url: str) -> scrapy.Request:
        report = EndpointReport(source.id, url, kind)
        self.reports.append(report)
        if kind not in ("article", "canary"):
            self.listings_due[source.id] += 1
        meta = {"source_id": source.id, "download_slot": source.id, "kind": kind,
                "report": report, "handle_httpstatus_list": ERROR_STATUSES}
        return scrapy.Request(url, callback=self.parse_endpoint, errback=self.on_error,
                              meta=meta, dont_filter=True)

    def robots_parsed(self, robotparser: Any, request: scrapy.Request) -> None:
        """Keep each host's parser; outlets with sitemaps = ["robots"] follow its Sitemap lines."""
        netloc = urlparse_cached(request).netloc
        self.parsers[netloc] = robotparser
        noted = self.crawler.stats.get_value(ROBOTS_STAT + netloc) if self.crawler.stats else None
        if noted is None or self.crawler.engine is None:
            return
        for source in self.context.outlets:
            if "robots" not in source.sitemaps or source.id in self.robots_followed or \
                    urlsplit(source.homepage).netloc != netloc:
                continue
            self.robots_followed.add(source.id)
            for url in robots_sitemaps(noted.body, noted.final_url or noted.url):
                self.crawler.engine.crawl(self._request(source, "sitemap", url))

    def _verdict(self, report: EndpointReport, url: str) -> None:
        netloc = urlsplit(url).netloc
        parser = self.parsers.get(netloc)
        inner = getattr(parser, "rp", None)
        if inner is not None and hasattr(inner, "crawl_delay"):
            delay = inner.crawl_delay(self.robot_agent)
            report.crawl_delay = float(delay) if delay else None
        if report.robots == "disallowed":
            return
        if parser is None:
            noted = self._robots_noted(netloc)
            report.robots = "unknown" if noted is None else "unreachable"
        else:
            report.robots = "allowed" if parser.allowed(url, self.robot_agent) else "disallowed"

    def _robots_noted(self, netloc: str) -> Fetched | None:
        return self.crawler.stats.get_value(ROBOTS_STAT + netloc) if self.crawler.stats \
            else None

    def parse_endpoint(self, response: Response) -> Iterator[Any]:
        """Judge the response against the outlet's pattern and hosts."""
        report: EndpointReport = response.meta["report"]
        source = self.context.registry.get(response.meta["source_id"])
        ctype = _content_type(response)
        fetched = Fetched(report.endpoint, response.url, response.status, ctype, response.body)
        self._verdict(report, report.endpoint)
        if report.kind in ("article", "canary"):
            judge_article(report, fetched, source)
            return
        judge(report, fetched, source.article_url_pattern, source.hosts, source.homepage)
        if report.kind == "sitemap" and report.ok and not report.links_on_host:
            yield from self._newest_child(source, fetched)
        yield from self._listing_done(source)

    def _listing_done(self, source: Source) -> Iterator[scrapy.Request]:
        """One listing row judged; after the outlet's last, fetch the articles to sample."""
        self.listings_due[source.id] -= 1
        if self.listings_due[source.id] or self.samples <= 0:
            return
        rows = [r for r in self.reports if r.source == source.id]
        taken = [r.endpoint for r in rows if r.kind in ("article", "canary")]
        for url in pick_samples(rows, self.samples, taken):
            yield self._request(source, "article", url)

    def _newest_child(self, source: Source, fetched: Fetched) -> Iterator[scrapy.Request]:
        """A sitemap index: probe its newest child too, so article links get counted."""
        try:
            index = parse_sitemap(fetched.body, fetched.final_url or fetched.url)
        except DiscoveryError:
            return
        done = {r.endpoint for r in self.reports}
        children = [e for e in index.entries if index.kind == "sitemapindex"
                    and source.owns(e.loc) and e.loc not in done]
        if children:
            newest = max(children, key=lambda e: e.lastmod or "")
            yield self._request(source, "sitemap", newest.loc)

    def on_error(self, failure: Failure) -> Iterator[Any]:
        """A refused, dropped or failed fetch: robots.txt disallow, timeout, offsite, DNS ..."""
        request = failure.request  # type: ignore[attr-defined]
        report: EndpointReport = request.meta["report"]
        source = self.context.registry.get(request.meta["source_id"])
        text = failure.getErrorMessage()
        if failure.check(IgnoreRequest) and "robots.txt" in text:
            report.robots = "disallowed"
            error = None
        else:
            name = failure.type.__name__ if failure.type else "error"
            error = f"{name}: {text}"
        self._verdict(report, report.endpoint)
        fetched = Fetched(report.endpoint, request.url, error=error)
        if report.kind in ("article", "canary"):
            judge_article(report, fetched, source)
            return iter(())
        judge(report, fetched, source.article_url_pattern, source.hosts, source.homepage)
        return self._listing_done(source)

    def closed(self, reason: str) -> None:
        """Put one robots.txt row per contacted host before each outlet's endpoint rows."""
        ordered: list[EndpointReport] = []
        for source in self.context.outlets:
            rows = [r for r in self.reports if r.source == source.id]
            netlocs = dict.fromkeys(urlsplit(r.endpoint).netloc for r in rows)
            for netloc in netlocs:
                noted = self._robots_noted(netloc)
                if noted is None:
                    continue
                scheme = next(urlsplit(r.endpoint).scheme for r in rows
                              if urlsplit(r.endpoint).netloc == netloc)
                row = EndpointReport(source.id, f"{scheme}://{netloc}/robots.txt", "robots")
                row.sitemaps = robots_sitemaps(noted.body, noted.final_url or row.endpoint) \
                    if noted.body else []
                self._verdict(row, row.endpoint)
                row.robots = "n/a"
                ordered.append(judge_robots(row, noted, source.homepage))
            ordered += rows
        self.reports = ordered


def endpoints(source: Source) -> list[tuple[str, str]]:
    """(kind, URL) of every endpoint the registry names, homepage first, each once."""
    out: list[tuple[str, str]] = []
    if source.homepage not in source.sections:
        out.append(("homepage", source.homepage))
    out += [("feed", u) for u in source.feeds]
    out += [("sitemap", u) for u in source.sitemaps if u != "robots"]
    out += [("section", u) for u in source.sections]
    out += [("canary", u) for u in source.canaries]
    return list(dict.fromkeys(out))
