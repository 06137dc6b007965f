"""The spider's callbacks on response fixtures: what each discovery document yields.

Crawl behaviour (robots, politeness, retries, redirects) is tested end to end against real
servers on loopback; these tests pin the parsing side of each callback in isolation: the
items and follow-up requests one response produces, built as Scrapy would hand them over.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse, TextResponse, XmlResponse
from scrapy.utils.test import get_crawler

import crawler.settings as project_settings
from crawler.archive.core import Archive
from crawler.items import Discovered, FetchedPage
from crawler.spiders.outlet import OutletSpider

pytestmark = pytest.mark.unit

HOME = "https://news.example.am/"
REGISTRY = f"""
[topic]
id = "t"
name = "T"
require = [["Armenia*"]]

[[source]]
id = "ex"
name = "Example News"
homepage = "{HOME}"
language = ["en"]
country = "AM"
kind = "independent"
feeds = ["{HOME}feed.xml"]
sitemaps = ["{HOME}sitemap.xml"]
sections = ["{HOME}politics/"]
article_url_pattern = '^https://news\\.example\\.am/\\d{{4}}/\\d{{2}}/[a-z0-9-]+/$'
"""

FEED = f"""<?xml version="1.0"?><rss version="2.0"><channel><title>Ex</title>
<item><title>Pashinyan meets Putin</title><link>{HOME}2025/05/meeting/?utm_source=rss</link>
<pubDate>Mon, 12 May 2025 08:00:00 +0400</pubDate></item>
<item><title>Elsewhere</title><link>https://other.example.org/2025/05/x/</link></item>
</channel></rss>"""

SITEMAP_INDEX = f"""<?xml version="1.0"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>{HOME}sitemap-2025.xml</loc></sitemap>
<sitemap><loc>https://cdn.other.org/sitemap.xml</loc></sitemap>
</sitemapindex>"""

SITEMAP = f"""<?xml version="1.0"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
<url><loc>{HOME}2025/05/meeting/</loc><news:news><news:publication_date>2025-05-12T08:00:00+04:00</news:publication_date><news:title>Pashinyan meets Putin</news:title></news:news></url>
<url><loc>{HOME}tag/csto/</loc></url>
</urlset>"""

SECTION = """<html><body>
<a href="/2025/05/meeting/">Meeting</a> <a href="/2025/05/csto-freeze/">CSTO</a>
<a href="/tag/csto/">tag</a> <a href="https://other.example.org/2025/05/x/">away</a>
<a rel="next" href="/politics/page/2/">next</a></body></html>"""


@pytest.fixture
def spider(tmp_path: Path) -> OutletSpider:
    sources = tmp_path / "sources.toml"
    sources.write_text(REGISTRY, encoding="utf-8")
    db = tmp_path / "archive.db"
    Archive(db).close()  # the crawl state reads an existing archive
    defaults = {k: getattr(project_settings, k) for k in dir(project_settings) if k.isupper()}
    crawler = get_crawler(OutletSpider, {**defaults, "MEDIAWATCH_SOURCES": str(sources),
                                         "MEDIAWATCH_DB": str(db)})
    built = OutletSpider.from_crawler(crawler)
    yield built
    built.context.close()


def _response(cls: Any, url: str, body: str, kind: str, **meta: Any) -> TextResponse:
    request = Request(url, meta={"source_id": "ex", "kind": kind, "via": "registry",
                                 "from": None, "hints": {}, **meta})
    return cls(url=url, body=body.encode(), encoding="utf-8", request=request)


def _split(outputs: list[Any]) -> tuple[list[FetchedPage], list[Discovered], list[Request]]:
    pages = [o for o in outputs if isinstance(o, FetchedPage)]
    found = [o for o in outputs if isinstance(o, Discovered)]
    requests = [o for o in outputs if isinstance(o, Request)]
    assert len(pages) + len(found) + len(requests) == len(outputs), outputs
    return pages, found, requests


def test_a_feed_yields_its_capture_and_its_clean_on_outlet_links(spider: OutletSpider) -> None:
    response = _response(XmlResponse, f"{HOME}feed.xml", FEED, "feed")
    pages, found, requests = _split(list(spider.parse_feed(response)))
    assert [p.url for p in pages] == [f"{HOME}feed.xml"] and pages[0].parse_error is None
    assert requests == []  # articles go to the frontier, not straight to Scrapy
    (listing,) = found
    assert listing.via == "feed" and listing.snapshot
    assert [e.url for e in listing.entries] == [f"{HOME}2025/05/meeting/"]  # tracking stripped
    assert listing.entries[0].hints["feed_title"] == "Pashinyan meets Putin"
    assert listing.entries[0].hints["feed_date"].startswith("2025-05-12")


def test_html_answered_for_a_feed_is_a_parse_error(spider: OutletSpider) -> None:
    response = _response(HtmlResponse, f"{HOME}feed.xml", "<html><body>Oops</body></html>",
                         "feed")
    pages, found, requests = _split(list(spider.parse_feed(response)))
    assert len(pages) == 1 and pages[0].parse_error and not found and not requests


def test_a_sitemap_index_follows_only_its_own_outlets_children(spider: OutletSpider) -> None:
    response = _response(XmlResponse, f"{HOME}sitemap.xml", SITEMAP_INDEX, "sitemap")
    _, found, requests = _split(list(spider.parse_sitemap(response)))
    assert found == []
    assert [(r.url, r.meta["kind"], r.meta["from"]) for r in requests] == [
        (f"{HOME}sitemap-2025.xml", "sitemap", f"{HOME}sitemap.xml")]
    assert requests[0].meta["download_slot"] == "ex"  # the outlet's own slot and delay


def test_a_sitemap_keeps_article_urls_with_their_news_evidence(spider: OutletSpider) -> None:
    response = _response(XmlResponse, f"{HOME}sitemap-2025.xml", SITEMAP, "sitemap")
    _, found, _ = _split(list(spider.parse_sitemap(response)))
    (listing,) = found
    assert [e.url for e in listing.entries] == [f"{HOME}2025/05/meeting/"]  # the tag page fails
    assert listing.entries[0].hints["sitemap_title"] == "Pashinyan meets Putin"
    assert listing.snapshot  # a news sitemap is a snapshot of what the outlet lists now


def test_a_section_yields_matching_links_and_its_next_page(spider: OutletSpider) -> None:
    url = f"{HOME}politics/"
    response = _response(HtmlResponse, url, SECTION, "section", section=url)
    _, found, requests = _split(list(spider.parse_section(response)))
    (listing,) = found
    assert sorted(e.url for e in listing.entries) == [f"{HOME}2025/05/csto-freeze/",
                                                     f"{HOME}2025/05/meeting/"]
    assert [(r.url, r.meta["kind"], r.meta["section"]) for r in requests] == [
        (f"{HOME}politics/page/2/", "section", url)]


def test_section_pagination_stops_at_the_bound_and_says_so(spider: OutletSpider) -> None:
    url = f"{HOME}politics/"
    spider.max_section_pages = 1
    response = _response(HtmlResponse, url, SECTION, "section", section=url)
    pages, _, requests = _split(list(spider.parse_section(response)))
    assert requests == []
    assert any("pagination stopped after 1 pages" in (p.parse_error or "") for p in pages)
