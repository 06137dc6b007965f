"""Items: plain dataclasses with provenance. Never Response objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crawler.archive.prepare import Prepared
    from crawler.registry.topic import TopicMatch
    from extract import ArticleResult

# What a fetched URL was for; decides what the pipelines do with it.
KINDS = ("robots", "feed", "sitemap", "section", "article")


@dataclass
class FetchedPage:
    """One fetch (or failed fetch) of one URL, with how it was found."""

    source_id: str
    url: str
    kind: str
    discovered_via: str
    fetched_at: str
    discovered_from: str | None = None
    final_url: str | None = None
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    request_headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    redirect_chain: list[str] = field(default_factory=list)
    error: str | None = None
    # Feed/sitemap evidence travelling with an article URL: feed_date, feed_title,
    # sitemap_date, sitemap_title, sitemap_lastmod.
    hints: dict[str, str] = field(default_factory=dict)
    # A feed or sitemap the spider could not parse; the fetch itself is still kept.
    parse_error: str | None = None
    # Same body as the last fetch: the extraction pipeline skipped re-extraction.
    unchanged: bool = False
    # Filled by the extraction pipeline for article pages.
    extraction: ArticleResult | None = None
    topic: TopicMatch | None = None
    # Naming/frame mentions and KWIC lines computed next to extraction (crawler.ingest.extraction
    # framing_analysis), so the archive writer only inserts them.
    framing: dict[str, Any] | None = None
    # Digest, WARC records, search columns of the same fetch and extraction, made in the
    # extraction worker (crawler.archive.prepare), so the archive writer only appends and inserts.
    prepared: Prepared | None = None
    # `crawl --redis`: the lease of the queued request this answers (crawler.distributed).
    lease: str | None = None
    # Imported captures (CC-NEWS backfill, `warc import`): (file, record offset, record
    # length) in the WARC it was read from, kept in capture_origins.
    origin: tuple[str, int, int | None] | None = None

    @property
    def content_type(self) -> str | None:
        """The response's Content-Type header, if any."""
        return self.headers.get("content-type")


def robots_capture(registry: Any, request: Any, response: Any) -> FetchedPage | None:
    """A robots.txt check Scrapy's middleware made (the spider never sees it), as a capture.

    None for the spider's own requests (they carry source_id) and for hosts of no outlet.
    """
    if "source_id" in request.meta:
        return None
    source = registry.source_for_url(request.url)
    if source is None:
        return None
    from crawler.clock import utcnow

    return FetchedPage(
        source_id=source.id, url=request.url, kind="robots", discovered_via="robots-check",
        fetched_at=utcnow(), final_url=response.url, status=response.status,
        headers=headers_dict(response.headers), request_headers=headers_dict(request.headers),
        body=response.body)


def headers_dict(headers: Any) -> dict[str, str]:
    """Scrapy's bytes headers as a plain dict: lower-case names, repeated values joined."""
    return {
        k.decode("latin-1").lower(): ", ".join(v.decode("latin-1") for v in vs)
        for k, vs in headers.items()
    }


@dataclass
class Found:
    """One article URL found by discovery, with its evidence."""

    url: str
    hints: dict[str, str] = field(default_factory=dict)
    title: str | None = None
    published: str | None = None
    position: int | None = None


@dataclass
class Discovered:
    """The article URLs one discovery document (or the registry's seeds) listed."""

    source_id: str
    via: str  # feed | sitemap | section | seed
    document: str | None  # the feed/sitemap/section URL; None for registry seeds
    fetched_at: str
    entries: list[Found] = field(default_factory=list)
    snapshot: bool = False  # keep the listing (order, headlines) in feed_items
    lease: str | None = None  # `crawl --redis`: see FetchedPage.lease
