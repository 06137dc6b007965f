"""`crawl --recheck` right after another crawl: fetch times are kept to the second, so this
run's start must be later than every earlier fetch, or the URLs an earlier run fetched in
the second this one started are taken for this run's own and skipped (a flaky test found it:
tests/test_frontier_paging.py, a re-check started in the second the crawl before it ended)."""

from __future__ import annotations

import sqlite3
import time
from datetime import timedelta
from pathlib import Path

import pytest
from scrapy.utils.test import get_crawler

import crawler.settings as project_settings
from crawler.archive.core import Archive
from crawler.archive.view import CrawlState
from crawler.clock import now, set_now, utcnow, utcnow_after
from crawler.context import CrawlContext
from crawler.registry.model import parse_registry
from crawler.spiders.frontier import FrontierPager

pytestmark = pytest.mark.unit

URL = "http://127.0.0.2:8000/news/1"
REGISTRY = parse_registry({
    "topic": {"id": "t", "name": "T", "require": [["Armenia*"]]},
    "source": [{"id": "one", "name": "One", "homepage": "http://127.0.0.2:8000/",
                "language": "en", "country": "AM", "kind": "independent",
                "article_url_pattern": "/news/"}],
})


def _archive_fetched_at(tmp_path: Path, when: str) -> CrawlState:
    """An archive whose one article was fetched at `when`."""
    db = tmp_path / "archive.db"
    Archive(db).close()
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO url_state (url, source_id, kind, first_seen, last_fetched, "
                     "last_status) VALUES (?, 'one', 'article', ?, ?, 200)", [URL, when, when])
    conn.close()
    return CrawlState(db)


def _pager(state: CrawlState, recheck: bool) -> FrontierPager:
    values = {k: getattr(project_settings, k) for k in dir(project_settings) if k.isupper()}
    values["MEDIAWATCH_RECHECK_ALL"] = recheck
    crawler = get_crawler(settings_dict=values)
    context = CrawlContext(registry=REGISTRY, state=state, outlets=REGISTRY.sources)
    return FrontierPager(context, crawler.settings, crawler, lambda source, due: None)


def test_a_recheck_started_in_the_second_of_an_earlier_fetch_still_takes_it(
        tmp_path: Path) -> None:
    fetched = utcnow()  # an earlier crawl's last fetch, in this very second
    state = _archive_fetched_at(tmp_path, fetched)
    pager = _pager(state, recheck=True)
    assert pager.started > fetched
    due = state.due("one", utcnow(), True, None, since=pager._since())
    assert [d.url for d in due] == [URL]
    state.close()


def test_a_run_that_is_not_a_recheck_does_not_wait(tmp_path: Path) -> None:
    # Without --recheck nothing compares fetch times with the start: no need to wait.
    future = (now() + timedelta(seconds=30)).isoformat()
    state = _archive_fetched_at(tmp_path, future)
    assert _pager(state, recheck=False).started < future
    state.close()


def test_utcnow_after_waits_out_the_shared_second_only() -> None:
    current = utcnow()
    assert utcnow_after(current) > current
    assert utcnow_after(None) <= utcnow()
    # A time far ahead (a clock set back) is not waited for beyond the patience.
    ahead = (now() + timedelta(hours=1)).isoformat()
    assert utcnow_after(ahead, patience=0.1) < ahead


def test_a_fixed_clock_is_not_waited_for() -> None:
    # A replayed run (MEDIAWATCH_NOW) stamps every fetch with the same time: waiting would
    # only cost the patience.
    set_now(now())
    try:
        fixed = utcnow()
        began = time.monotonic()
        assert utcnow_after(fixed, patience=5) == fixed
        assert time.monotonic() - began < 1
    finally:
        set_now(None)
