"""One typed crawl context per Scrapy crawler: what the spider, middlewares and pipelines share.

Built once from the crawler's settings by whichever component asks first (in Scrapy 2.19
the spider), then handed to every other component in its `from_crawler`. It replaces the
untyped spider attributes that components used to read with `getattr(crawler.spider, ...)`.
The crawl state behind it is either the archive's read-only view (`CrawlState`) or, for a
`crawl --redis` worker, the Redis state; both satisfy `CrawlStateReader`.
"""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from scrapy import signals

from crawler.clock import utcnow
from crawler.ops.schedule import OutletDue, outlet_due
from crawler.registry.model import Registry, Source, load_registry

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

    from crawler.archive.view import Due


class CrawlStateReader(Protocol):
    """What every crawl reads about URLs it has seen (the archive's view, or Redis)."""

    def validators(self, url: str) -> tuple[str | None, str | None]:
        """ETag and Last-Modified to send with a conditional request for `url`."""

    def content_hash(self, url: str) -> str | None:
        """The SHA-256 of the body last stored for `url`, if any."""

    def paused(self, source_id: str, now: str) -> str | None:
        """Why an outlet is paused at `now`, or None."""

    def due(self, source_id: str, now: str, recheck_all: bool, limit: int | None) -> list[Due]:
        """Article URLs of an outlet to fetch now: new first, then due re-checks."""

    def doc_due(self, url: str, now: str) -> bool:
        """Whether a feed, sitemap or section is due for a poll."""

    def lists_sitemaps(self, source_id: str, url: str) -> bool:
        """Whether `url` (a sitemap) led to other sitemaps when last fetched: an index."""

    def close(self) -> None:
        """Release the connection."""


class NoState:
    """The crawl state of a one-off fetch (a probe): nothing seen, nothing due, never paused."""

    def validators(self, url: str) -> tuple[str | None, str | None]:
        """No validators: every request is unconditional."""
        return None, None

    def content_hash(self, url: str) -> str | None:
        """Nothing stored."""
        return None

    def paused(self, source_id: str, now: str) -> str | None:
        """Never paused."""
        return None

    def due(self, source_id: str, now: str, recheck_all: bool, limit: int | None) -> list[Due]:
        """No frontier."""
        return []

    def doc_due(self, url: str, now: str) -> bool:
        """Every document is fetched."""
        return True

    def lists_sitemaps(self, source_id: str, url: str) -> bool:
        """Nothing fetched before."""
        return False

    def close(self) -> None:
        """Nothing to close."""


@dataclass
class CrawlContext:
    """The registry, the outlets of this run, the crawl state and what the run learns."""

    registry: Registry
    state: CrawlStateReader
    outlets: tuple[Source, ...]
    distributed: bool = False
    # `crawl --due` / `mediawatch canaries`: what each outlet has due (None: everything).
    plan: dict[str, OutletDue] | None = None
    canary_mode: str = "off"
    patterns: dict[str, re.Pattern[str] | None] = field(default_factory=dict)
    # Filled during the crawl: outlets paused (with the reason), robots.txt Crawl-delays
    # learnt, article URLs left for the next crawl per outlet.
    paused: dict[str, str] = field(default_factory=dict)
    crawl_delays: dict[str, float] = field(default_factory=dict)
    deferred: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlContext:
        """The context of this crawler, built from its settings on first use."""
        context = _CONTEXTS.get(crawler)
        if context is None:
            context = _CONTEXTS[crawler] = cls.from_settings(crawler.settings)
            crawler.signals.connect(context.close, signal=signals.spider_closed)
        return context

    def attach(self, crawler: Crawler) -> CrawlContext:
        """Make this the crawler's context (embedders and tests that build one by hand)."""
        _CONTEXTS[crawler] = self
        return self

    @staticmethod
    def of(crawler: Crawler) -> CrawlContext | None:
        """The context of this crawler if a crawl component made one (a probe has none)."""
        return _CONTEXTS.get(crawler)

    @classmethod
    def from_settings(cls, settings: Any) -> CrawlContext:
        """Load the registry, open the crawl state, choose this run's outlets."""
        registry = load_registry(settings.get("MEDIAWATCH_SOURCES"))
        distributed = bool(settings.get("MEDIAWATCH_REDIS_URL"))
        state: CrawlStateReader
        if distributed:
            from scrapy_redis import connection

            from crawler.distributed.state import RedisState

            state = RedisState(connection.from_settings(settings),
                               settings.get("MEDIAWATCH_REDIS_PREFIX"))
        else:
            from crawler.archive.view import CrawlState

            state = CrawlState(settings.get("MEDIAWATCH_DB"))
        ids = settings.getlist("MEDIAWATCH_SOURCE_IDS")
        chosen = tuple(registry.chosen(ids))
        context = cls(registry=registry, state=state, outlets=(), distributed=distributed,
                      canary_mode=settings.get("MEDIAWATCH_CANARY_MODE") or "off")
        now = utcnow()
        for source in chosen:
            reason = state.paused(source.id, now)
            if reason:
                context.paused[source.id] = f"still paused: {reason}"
            else:
                context.outlets += (source,)
        if context.canary_mode == "only":
            context.plan = {s.id: OutletDue(s.id, canaries=list(s.canaries))
                            for s in context.outlets if s.canaries}
        elif settings.getbool("MEDIAWATCH_DUE_ONLY"):
            due = (outlet_due(s, state, now, context.canary_mode != "off")  # type: ignore[arg-type]
                   for s in context.outlets)
            context.plan = {d.source_id: d for d in due if d}
        if context.plan is not None:
            context.outlets = tuple(s for s in context.outlets if s.id in context.plan)
        context.patterns = {
            s.id: re.compile(s.article_url_pattern) if s.article_url_pattern else None
            for s in registry.sources
        }
        return context

    def close(self) -> None:
        """Close the crawl state's connection (at spider_closed)."""
        self.state.close()


# Weak keys: a context lives exactly as long as its crawler, with no global configuration.
_CONTEXTS: weakref.WeakKeyDictionary[Any, CrawlContext] = weakref.WeakKeyDictionary()
