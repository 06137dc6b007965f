"""A small two-outlet registry and an article fetch run through the real extraction and topic
code: the archive's unit tests build their inputs with these."""

from __future__ import annotations

from crawler.items import FetchedPage
from crawler.registry.model import parse_registry
from crawler.registry.topic import TopicMatcher
from extract import extract_article

REGISTRY = {
    "topic": {"id": "t", "name": "T", "require": [["Armenia*"], ["Russia*"]]},
    "source": [
        {"id": "one", "name": "One", "homepage": "http://127.0.0.2:8000/", "language": "en",
         "country": "AM", "kind": "independent", "article_url_pattern": "/news/"},
        {"id": "two", "name": "Two", "homepage": "http://127.0.0.3:8000/", "language": "ru",
         "country": "RU", "kind": "state agency"},
    ],
}

PAGE = """<html lang="en"><head><title>{title}</title>
<meta property="article:published_time" content="2024-02-01T10:00:00+04:00">
{canonical}</head><body><article><h1>{title}</h1><p class="byline">By Ann Writer</p>
<p>{body}</p><p>Armenia and Russia discussed the Gyumri base and trade within the EAEU,
officials in Yerevan said on Thursday after a long meeting.</p>
<p>The talks covered customs, energy prices, border guards and the future of the
peacekeeping mission, according to a statement published by the ministry.</p>
</article></body></html>"""


def page(url: str, title: str = "Armenia and Russia talk trade", body: str = "First text.",
         canonical: str = "", source_id: str = "one", when: str = "2024-02-02T00:00:00+00:00"
         ) -> FetchedPage:
    """An article fetch run through the real extraction and topic code."""
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    html = PAGE.format(title=title, body=body, canonical=link).encode()
    item = FetchedPage(source_id=source_id, url=url, kind="article", discovered_via="seed",
                       fetched_at=when, final_url=url, status=200,
                       headers={"content-type": "text/html; charset=utf-8"}, body=html)
    item.extraction = extract_article(html, url)
    item.topic = TopicMatcher(parse_registry(REGISTRY).topic).match(
        item.extraction.title, item.extraction.text)
    return item
