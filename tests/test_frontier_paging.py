"""Frontier paging (issue 8): a tiny MEDIAWATCH_FRONTIER_PAGE loses and duplicates nothing."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from conftest import Crawl, crawl_web, make_articles_due, query

pytestmark = pytest.mark.e2e

PAGE = "MEDIAWATCH_FRONTIER_PAGE=3"


def _path(url: str) -> str:
    """host:port/path?query: the same path on two outlets is two URLs."""
    parts = urlsplit(url)
    return parts.netloc + parts.path + (f"?{parts.query}" if parts.query else "")


def _asked(request: Any) -> str:
    return request.headers.get("Host", "") + request.path


@pytest.fixture
def paged(crawled: Crawl, tmp_path: Path) -> Crawl:
    """The fixture web crawled again from scratch, three due URLs per outlet per idle."""
    crawled.web.set_epoch(0)
    crawl = crawl_web(crawled.web, tmp_path / "paged", "-s", PAGE)
    assert crawl.result.returncode == 0, crawl.result.stderr[-3000:]
    return crawl


def test_paged_crawl_stores_the_same_articles_as_the_default_crawl(
        crawled: Crawl, paged: Crawl) -> None:
    # Several pages per outlet were needed, so paging really happened.
    per_outlet = query(paged.db, "select max(n) from (select count(*) as n from url_state "
                       "where kind = 'article' and last_fetched is not null group by source_id)")
    assert per_outlet[0][0] > 3
    articles = "select url, title, published, text from articles order by url"
    assert query(paged.db, articles) == query(crawled.db, articles)
    fetched = ("select url, last_status from url_state where kind = 'article' "
               "and last_fetched is not null order by url")
    assert query(paged.db, fetched) == query(crawled.db, fetched)
    # Nothing left behind in the frontier, nothing deferred.
    assert query(paged.db, "select count(*) from url_state where kind = 'article' "
                 "and last_fetched is null") == [(0,)]
    assert query(paged.db, "select deferred from crawl_runs") == [(0,)]
    # Every article URL was asked for exactly as often as in the default crawl (no URL is
    # taken again from a later page; retries of failing pages happen in both).
    urls = {u for (u,) in query(paged.db, "select url from url_state where kind = 'article'")}
    paths = {_path(u) for u in urls}

    def asked(crawl: Crawl) -> Counter[str]:
        return Counter(_asked(r) for r in crawl.requests if _asked(r) in paths)

    assert asked(paged) == asked(crawled)


def _copy(crawl: Crawl, work: Path) -> Path:
    """A private copy of a crawled archive (and its registry and WARC files)."""
    shutil.copytree(crawl.db.parent, work)
    (work / "archive.db.lock").unlink(missing_ok=True)
    return work


def test_paged_recheck_asks_for_every_known_article_as_the_default_does(
        paged: Crawl, tmp_path: Path) -> None:
    # --recheck keeps re-fetched articles due: paging must still not take them again.
    known = {_path(u) for (u,) in query(paged.db, "select url from url_state "
                                        "where kind = 'article' and last_fetched is not null")}
    runs = {}
    for name, extra in (("default", ()), ("paged", ("-s", PAGE))):
        again = crawl_web(paged.web, _copy(paged, tmp_path / f"recheck-{name}"), "--recheck", *extra)
        assert again.result.returncode == 0, again.result.stderr[-3000:]
        runs[name] = Counter(_asked(r) for r in again.requests if _asked(r) in known)
    assert runs["paged"] == runs["default"]
    # Robots-forbidden articles are dropped before any request; a page that is also the
    # redirect target of another article is asked for twice, with or without paging.
    assert len(runs["paged"]) >= len(known) - 2
    assert query(tmp_path / "recheck-paged" / "archive.db", "select deferred from crawl_runs "
                 "order by id desc limit 1") == [(0,)]


def test_a_budget_cut_counts_what_is_left_over(crawled: Crawl, tmp_path: Path) -> None:
    # Three re-checks allowed, one due URL per page: the rest is deferred, as without paging.
    work = _copy(crawled, tmp_path / "budget")
    db = work / "archive.db"
    known = make_articles_due(db)
    again = crawl_web(crawled.web, work, "-s", "MEDIAWATCH_FRONTIER_PAGE=1",
                      "-s", "MEDIAWATCH_RECHECK_BUDGET=3")
    assert again.result.returncode == 0, again.result.stderr[-3000:]
    paths = {a.url.split("/", 3)[3] for a in crawled.web.expected_articles(0)}
    rechecked = [r for r in again.requests if r.path.lstrip("/") in paths]
    assert len(rechecked) == 3
    assert query(db, "select deferred from crawl_runs order by id desc limit 1") == [
        (known - 3,)]
