"""bench/naive_crawler.py, the bench's yardstick: it must really crawl what mediawatch crawls
(robots.txt obeyed, sitemaps and feeds read, every listed article stored), or the
"mediawatch / naive" ratio in `make bench` means nothing; and bench/scrapy_floor.py, which must
really fetch every article page through Scrapy."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from types import ModuleType

import pytest
from conftest import load_bench

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def benchweb() -> ModuleType:
    return load_bench("benchweb")


def test_the_naive_crawler_stores_every_listed_article_robots_permitting(
        benchweb: ModuleType, tmp_path: Path) -> None:
    naive = load_bench("naive_crawler")
    with benchweb.BenchWeb(per_outlet=4) as web:
        first = benchweb.OUTLETS[0].id
        site = web.sites[first]
        blocked = [t for t in web.truths if t.outlet == first][:2]
        # robots.txt forbids two of the first outlet's articles (and nothing else).
        rules = "".join(f"Disallow: {t.url[len(site.base):]}\n" for t in blocked)
        site.routes["/robots.txt"] = benchweb.Resource(
            f"User-agent: *\n{rules}\nSitemap: {site.base}/sitemap.xml\n".encode(),
            "text/plain")
        # The feed is read too: an article only the feed lists is found.
        only_in_feed = web.truths[-1]
        feed_site = web.sites[only_in_feed.outlet]
        for path, res in list(feed_site.routes.items()):
            if path.startswith("/sitemap-articles-"):
                res.body = res.body.replace(f"<loc>{only_in_feed.url}</loc>".encode(), b"")
        out = naive.main(["--db", str(tmp_path / "naive.db"),
                          *(base + "/" for base in web.base_urls.values())])
        truths = web.truths
    conn = sqlite3.connect(tmp_path / "naive.db")
    rows = {u: (title, date, text) for u, title, date, text in conn.execute(
        "SELECT url, title, date, text FROM articles")}
    conn.close()
    assert set(rows) == {t.url for t in truths} - {t.url for t in blocked}
    assert only_in_feed.url in rows
    assert out == {**out, "stored": len(rows), "fetched": len(rows)}
    for t in truths:
        if t.url in rows:
            assert t.paragraphs[0].split()[0] in rows[t.url][2], t.template


def test_the_scrapy_floor_fetches_every_article_and_counts_its_own_cpu() -> None:
    floor = load_bench("scrapy_floor").floor(per_outlet=3)
    assert floor["responses"] == 15  # 3 articles on each of the 5 bench outlets
    # Fetching costs CPU beyond start-up, and start-up (imports) is counted apart.
    assert floor["cpu_s"] > floor["startup_cpu_s"] > 0
    assert floor["cpu_ms_per_response"] > 0
