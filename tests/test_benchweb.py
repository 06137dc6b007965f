"""The bench web (bench/benchweb.py): real-size pages with ground truth, crawlable as served."""

from __future__ import annotations

import gzip
import hashlib
import html
import re
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import datetime
from http.client import HTTPConnection
from pathlib import Path
from types import ModuleType
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

import pytest
from conftest import load_bench, query, run_mediawatch

pytestmark = pytest.mark.e2e

SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@pytest.fixture(scope="module")
def benchweb() -> ModuleType:
    """bench/benchweb.py, imported as a module."""
    return load_bench("benchweb")


@pytest.fixture(scope="module")
def web(benchweb: ModuleType) -> Iterator:
    """The full-size bench web on free loopback ports."""
    with benchweb.BenchWeb() as served:
        yield served


def get(url: str) -> bytes:
    """One plain GET (no gzip), as bytes."""
    with urllib.request.urlopen(url, timeout=10) as resp:
        return resp.read()


def test_serves_a_thousand_distinct_real_size_articles(web) -> None:
    """Every article URL answers 200 with its own 40-150 KB page carrying its title and body."""
    assert len(web.truths) >= 1000
    assert len({t.url for t in web.truths}) == len(web.truths)
    digests = set()
    by_host: dict[str, list] = {}
    for truth in web.truths:
        by_host.setdefault(urlsplit(truth.url).netloc, []).append(truth)
    for netloc, truths in by_host.items():
        conn = HTTPConnection(netloc, timeout=10)  # keep-alive: one connection per outlet
        for truth in truths:
            conn.request("GET", urlsplit(truth.url).path)
            resp = conn.getresponse()
            body = resp.read()
            assert resp.status == 200, truth.url
            assert 40_000 <= len(body) <= 150_000, (truth.url, len(body))
            page = body.decode("utf-8")
            assert html.escape(truth.title) in page
            assert all(html.escape(p, quote=False) in page for p in truth.paragraphs)
            digests.add(hashlib.sha1(body).hexdigest())
        conn.close()
    assert len(digests) == len(web.truths)


def test_gzip_and_conditional_get(web) -> None:
    """gzip when asked, and a 304 for a matching ETag, like a real server."""
    url = web.truths[0].url
    req = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(resp.read()) == get(url)
        etag = resp.headers["ETag"]
    req = urllib.request.Request(url, headers={"If-None-Match": etag, "Accept-Encoding": "gzip"})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=10)
    assert err.value.code == 304
    err.value.close()  # an HTTPError holds the response open


def test_robots_feeds_and_sitemaps_list_every_article(web, benchweb: ModuleType) -> None:
    """robots.txt allows all without Crawl-delay; its sitemaps list every article, the feed
    the newest 100."""
    for outlet in benchweb.OUTLETS:
        base = web.base_urls[outlet.id]
        truths = [t for t in web.truths if t.outlet == outlet.id]
        robots = RobotFileParser()
        robots.parse(get(base + "/robots.txt").decode().splitlines())
        assert all(robots.can_fetch(agent, t.url) for agent in ("mediawatch", "news-please")
                   for t in truths[:20])
        assert robots.crawl_delay("mediawatch") is None
        assert robots.site_maps() == [base + "/sitemap.xml"]
        index = ET.fromstring(get(base + "/sitemap.xml"))
        listed = set()
        for child in index.iter(SM + "loc"):
            listed |= {loc.text for loc in ET.fromstring(get(child.text or "")).iter(SM + "loc")}
        assert listed == {t.url for t in truths}
        feed = ET.fromstring(get(base + "/rss.xml"))
        links = [item.findtext("link") for item in feed.iter("item")]
        newest = sorted(truths, key=lambda t: t.published, reverse=True)[:100]
        assert links == [t.url for t in newest]
        assert b'type="application/rss+xml"' in get(base + "/")


def test_ground_truth_is_attached_and_on_the_page(web) -> None:
    """Each page's truth: a title, a zoned publication date found on the page, 4+ paragraphs."""
    for truth in web.truths:
        assert truth.title and len(truth.paragraphs) >= 4
        when = datetime.fromisoformat(truth.published)
        assert when.tzinfo is not None and 8 <= when.hour <= 18
    page = get(web.truths[1].url).decode()
    assert web.truths[1].published in page or web.truths[1].published[:10] in page
    templates = {t.template for t in web.truths}
    assert len(templates) >= 10  # real layouts from tests/pages, en/ru/hy
    assert {t.lang for t in web.truths} == {"en", "ru", "hy"}


def test_a_small_bench_web_crawled_by_mediawatch_stores_the_facts(benchweb: ModuleType,
                                                                  tmp_path: Path) -> None:
    """`mediawatch crawl` of a small bench web stores every article with its title, date, text."""
    with benchweb.BenchWeb(per_outlet=3) as small:
        sources = small.write_sources(tmp_path / "sources.toml", concurrency=4)
        db = tmp_path / "archive.db"
        result = run_mediawatch("crawl", "--sources", str(sources), "--db", str(db),
                                "-s", "MEDIAWATCH_LOOPBACK_ONLY=1", timeout=120)
        assert result.returncode == 0, result.stderr[-3000:]
        truths = small.truths
    rows = {url: (title, published, text) for url, title, published, text in query(
        db, "SELECT url, title, published, text FROM articles")}
    assert set(rows) == {t.url for t in truths}
    for truth in truths:
        title, published, text = rows[truth.url]
        assert title.startswith(truth.title), (truth.template, title)
        assert published[:10] == truth.published[:10], (truth.template, published)
        flat = " ".join(text.split())
        assert all(" ".join(p.split()) in flat for p in truth.paragraphs), truth.template
    (requests,) = query(db, "SELECT requests FROM crawl_runs")[0]
    assert requests >= len(truths) + 3 * len(benchweb.OUTLETS)  # robots, index, sitemap, feed


def test_frontier_outlet_lists_many_urls(benchweb: ModuleType) -> None:
    """The frontier outlet's sitemaps list N article URLs, each served as a real-size page."""
    with benchweb.BenchWeb(per_outlet=2, frontier=12_345) as big:
        base = big.base_urls["frontier"]
        index = ET.fromstring(get(base + "/sitemap.xml"))
        locs = [loc.text or "" for child in index.iter(SM + "loc")
                for loc in ET.fromstring(get(child.text or "")).iter(SM + "loc")]
        assert len(locs) == len(set(locs)) == 12_345
        assert re.fullmatch(re.escape(base) + r"/f/\d+\.html", locs[-1])
        assert len(get(locs[-1])) > 40_000
