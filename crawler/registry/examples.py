"""Check an outlet's article_url_pattern against the example URLs its registry entry carries.

Pure functions (no Scrapy, no I/O): the registry loader, `sources check` and the URL-pattern
bench share them, so "the pattern accepts this URL" means exactly what the crawler does:
`re.search` on the absolute URL as the page links it (query included).

Variants (AMP pages, tracking-parameter copies) are one article under another URL. A variant
is handled when the crawler can never store it twice: either the pattern rejects it (AMP
copies), or `clean_url` — applied to every discovered URL before it is stored — turns it
into a different URL that the pattern accepts (tracking copies).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from crawler.web.urls import clean_url


def accepts(pattern: re.Pattern[str] | None, url: str) -> bool:
    """Whether the crawler takes url for an article of an outlet with this pattern."""
    return pattern is not None and pattern.search(url) is not None


def variant_handled(pattern: re.Pattern[str] | None, url: str) -> bool:
    """A variant is rejected, or normalises to a different URL that the pattern accepts."""
    if not accepts(pattern, url):
        return True
    cleaned = clean_url(url)
    return cleaned != url and accepts(pattern, cleaned)


@dataclass(frozen=True)
class ExampleCheck:
    """What one pattern does to one outlet's examples."""

    rejected_articles: tuple[str, ...]
    accepted_non_articles: tuple[str, ...]
    stored_variants: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """True when every example is classified as the registry says."""
        return not (self.rejected_articles or self.accepted_non_articles or self.stored_variants)


def check_examples(pattern: str | None, articles: Iterable[str], non_articles: Iterable[str],
                   variants: Iterable[str] = ()) -> ExampleCheck:
    """Classify every example URL with the pattern; list the ones it gets wrong."""
    compiled = re.compile(pattern) if pattern else None
    return ExampleCheck(
        tuple(u for u in articles if not accepts(compiled, u)),
        tuple(u for u in non_articles if accepts(compiled, u)),
        tuple(u for u in variants if not variant_handled(compiled, u)),
    )


def example_problems(pattern: str | None, articles: Iterable[str], non_articles: Iterable[str],
                     variants: Iterable[str] = ()) -> list[tuple[str, str]]:
    """(what is wrong, how to fix it) pairs for a pattern that disagrees with its examples."""
    articles, non_articles, variants = list(articles), list(non_articles), list(variants)
    if pattern is None and articles:
        return [("has examples but no article_url_pattern",
                 "add an article_url_pattern that accepts the examples (`mediawatch sources "
                 "discover HOMEPAGE` proposes one)")]
    result = check_examples(pattern, articles, non_articles, variants)
    problems = [(f"article_url_pattern rejects the example article {u}",
                 "widen the pattern to this URL scheme (older schemes still linked count), or "
                 "move the URL to not_articles if it is not an article")
                for u in result.rejected_articles]
    problems += [(f"article_url_pattern accepts the non-article {u}",
                  "tighten the pattern (anchor the id, slug or date part, end it with $ or "
                  "(?:[?#]|$)) so listings, tags, galleries and feeds fail it")
                 for u in result.accepted_non_articles]
    problems += [(f"article_url_pattern accepts the variant {u}, which would be stored beside "
                  "its article",
                  "make the pattern reject the copy (e.g. end it before /amp), or list the "
                  "tracking parameter in crawler/web/urls.py TRACKING_PARAMS")
                 for u in result.stored_variants]
    return problems
