"""The one extraction path: crawl, WARC import and re-extraction all go through here."""

from __future__ import annotations

from typing import Any

from crawler.items import FetchedPage
from crawler.sources import Source
from crawler.topic import TopicMatcher
from extract import ArticleResult, extract_article


def extraction_hints(page: FetchedPage, source: Source | None) -> dict[str, Any]:
    """The hints extract_article gets for a page: feed/sitemap evidence, headers, registry."""
    hints: dict[str, Any] = dict(page.hints)
    hints.update(
        content_type=page.content_type,
        last_modified=page.headers.get("last-modified"),
        first_seen=page.fetched_at,
    )
    if source is not None:
        hints.update(prune_xpath=list(source.prune_xpath),
                     language=source.language[0] if source.language else None)
    return hints


def wants_extraction(page: FetchedPage) -> bool:
    """Only successful article fetches with a body are extracted."""
    return (page.kind == "article" and not page.error and page.status == 200
            and bool(page.body))


def apply_result(page: FetchedPage, result: ArticleResult, matcher: TopicMatcher) -> FetchedPage:
    """Attach an extraction result and its topic match to a page."""
    page.extraction = result
    page.topic = None if result.status == "not_article" else matcher.match(result.title,
                                                                             result.text)
    return page


def extract_page(page: FetchedPage, source: Source | None, matcher: TopicMatcher) -> FetchedPage:
    """Extract an article page in place (no-op for anything else)."""
    if not wants_extraction(page):
        return page
    result = extract_article(page.body, page.final_url or page.url,
                             **extraction_hints(page, source))
    return apply_result(page, result, matcher)
