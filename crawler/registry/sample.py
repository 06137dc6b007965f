"""Article rows of `sources probe`: a few of the outlet's own articles, extracted as a crawl would.

A feed that parses and a pattern that matches say that the crawl will find articles; only the
articles themselves say whether it will store what a researcher needs: their text, headline,
publication date, in the language the registry expects. So the probe fetches the newest article
links its listings named (and every canary) and judges what ``extract_article`` makes of them,
with the hints a crawl gives it (pure: no Scrapy, no I/O).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from crawler.registry.model import Source
from crawler.registry.probe import EndpointReport, Fetched, answer_problem
from crawler.web.discovery import sniff
from crawler.web.urls import clean_url

if TYPE_CHECKING:
    from extract import ArticleResult

# Listings whose article links are sampled, best first: feeds and sitemaps list the newest.
_SAMPLED_FROM = ("feed", "sitemap", "section", "homepage")
# Fewer characters than this on an open page is a shell or a wall, not an article's text.
MIN_ARTICLE_CHARS = 200


def pick_samples(rows: Iterable[EndpointReport], count: int, taken: Iterable[str] = ()
                 ) -> list[str]:
    """Up to ``count`` article URLs to sample from one outlet's judged listing rows: feeds'
    newest first, then sitemaps', sections', the homepage's; none twice, none in ``taken``.
    Each as a crawl requests it: tracking parameters (a feed's ?utm_source=rss) removed."""
    seen = set(taken)
    ranked = sorted((r for r in rows if r.kind in _SAMPLED_FROM and r.ok),
                    key=lambda r: _SAMPLED_FROM.index(r.kind))
    out: list[str] = []
    for row in ranked:
        for url in map(clean_url, row.candidates):
            if len(out) >= count:
                return out
            if url not in seen:
                seen.add(url)
                out.append(url)
    return out


def judge_article(report: EndpointReport, fetched: Fetched, source: Source) -> EndpointReport:
    """Fill an article or canary row: extract the page as a crawl would and say what a
    researcher would miss (no text, no headline, no date, another language)."""
    what = "canary" if report.kind == "canary" else "article"
    if report.robots == "disallowed" and what == "article":
        report.problem = ("robots.txt disallows this article: the crawler will never fetch the "
                          "outlet's articles under this path — narrow article_url_pattern to "
                          "what robots.txt allows, or ask the outlet for access")
        return report
    if answer_problem(report, fetched, source.homepage):
        return report
    pattern = source.article_url_pattern
    if pattern and not re.search(pattern, fetched.final_url or fetched.url) \
            and not re.search(pattern, fetched.url):
        report.problem = (f"the {what} URL does not match article_url_pattern: fix the pattern, "
                          f"or the {what} if the outlet moved its articles")
        return report
    if (shape := sniff(fetched.body)) not in ("html", "other") or not fetched.body:
        report.problem = f"the {what} is not an HTML page ({shape or 'empty'})"
        return report
    from extract import extract_article  # heavy: loaded only when an article was fetched

    result = extract_article(fetched.body, fetched.final_url or fetched.url,
                             content_type=fetched.content_type, **source.extraction_hints())
    chars = len(result.text or "")
    report.article = {"status": result.status, "title": result.title, "author": result.author,
                      "published": result.date, "lang": result.lang, "chars": chars,
                      "access": result.access, "reason": result.reason}
    report.parsed = result.status == "ok"
    report.items = int(report.parsed)
    report.newest = result.date
    report.problem = _article_problem(what, result, chars, source)
    return report


def _article_problem(what: str, result: ArticleResult, chars: int, source: Source
                     ) -> str | None:
    if result.status == "error":
        return (f"extraction failed on the {what} ({result.error}): the crawl would keep the "
                "capture but no article — report the page with its URL")
    reason = result.reason or ""
    if result.status == "not_article" and "challenge" in reason:
        return (f"a challenge or consent page answers instead of the {what}: the outlet blocks "
                "crawlers or asks for consent first — open it in a browser from the crawler "
                "host; if it persists, ask the outlet for access or disable the outlet")
    if result.status == "not_article" and "shell" not in reason:
        fix = ("tighten article_url_pattern so that listings, tag pages and galleries stay out"
               if what == "article" else "replace the canary with a current article URL")
        return f"the {what} does not read as one article ({reason}): {fix}"
    walled = result.access != "open"
    if result.status != "ok" or (chars < MIN_ARTICLE_CHARS and not (walled and result.title)):
        return (f"the {what} gives {chars} characters of text" + (f" ({reason})" if reason else "")
                + ": its text is drawn by JavaScript or hidden behind a wall — open it in a "
                "browser from the crawler host; if the text shows there, check the outlet's "
                "prune_xpath; if it needs JavaScript, the crawl cannot read this outlet")
    if not result.title:
        return (f"no headline found on the {what}: search hits and charts would show its URL "
                "— report the page with its URL")
    if not result.date:
        return (f"no publication date found on the {what}: the crawl would date it by when it "
                "first saw it — check that the page states one (JSON-LD datePublished, "
                "article:published_time, a <time> element)")
    langs = source.language
    if result.lang and langs and result.lang not in langs:
        return (f"the {what} reads as {result.lang!r} but the registry says "
                f"{', '.join(map(repr, langs))}: add {result.lang!r} to language, or point "
                f"the outlet at its {langs[0]!r} edition")
    return None
