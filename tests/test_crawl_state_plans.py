"""The crawl state's reads on url_state use its indexes: `crawl --due` asks them for every
discovery document of every outlet, every few minutes, on archives of millions of URLs."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from crawler.archive.core import Archive
from crawler.archive.view import CrawlState

pytestmark = pytest.mark.unit

NOW = "2026-12-07T12:00:00+00:00"
EARLIER, LATER = "2026-12-07T11:00:00+00:00", "2026-12-07T13:00:00+00:00"
INDEX = "http://127.0.0.2:8000/sitemap.xml"
CHILD = "http://127.0.0.2:8000/sitemap-news.xml"


def _state(tmp_path: Path, child_due: str) -> CrawlState:
    db = tmp_path / "archive.db"
    Archive(db).close()
    rows = [(INDEX, "sitemap", None, LATER), (CHILD, "sitemap", INDEX, child_due)]
    rows += [(f"http://127.0.0.2:8000/news/{i}", "article", CHILD, LATER) for i in range(50)]
    with sqlite3.connect(db) as conn:
        conn.executemany("INSERT INTO url_state (url, source_id, kind, discovered_from, "
                         "first_seen, last_fetched, next_due, last_status) "
                         "VALUES (?, 'one', ?, ?, ?, ?, ?, 200)",
                         [(u, k, f, EARLIER, EARLIER, d) for u, k, f, d in rows])
    conn.close()
    return CrawlState(db)


def _scans(state: CrawlState, call: Callable[[], Any]) -> tuple[Any, list[str]]:
    """Run `call`, then the plan of every statement it ran: the steps on url_state that use
    no index."""
    statements: list[str] = []
    state.conn.set_trace_callback(statements.append)
    try:
        result = call()
    finally:
        state.conn.set_trace_callback(None)
    assert statements
    # Every step on url_state names the index it uses ("SEARCH url_state" alone, which an OR
    # of two columns gives, read the whole table as a scan does).
    scans = [f"{sql} -> {step[-1]}" for sql in statements
             for step in state.conn.execute(f"EXPLAIN QUERY PLAN {sql}")
             if " url_state" in f" {step[-1]}" and "USING" not in step[-1]]
    return result, scans


@pytest.mark.parametrize(("child_due", "due"), [(EARLIER, True), (LATER, False)])
def test_a_sitemap_index_is_due_when_a_sitemap_it_lists_is_and_no_read_scans_url_state(
        tmp_path: Path, child_due: str, due: bool) -> None:
    state = _state(tmp_path, child_due)
    try:
        result, scans = _scans(state, lambda: state.doc_due(INDEX, NOW))
        assert result is due
        assert scans == []
        result, scans = _scans(state, lambda: state.lists_sitemaps("one", INDEX))
        assert result is True and scans == []
        assert state.lists_sitemaps("one", CHILD) is False
    finally:
        state.close()


def test_no_read_of_a_crawl_or_of_its_plan_scans_url_state(tmp_path: Path) -> None:
    state = _state(tmp_path, LATER)
    article = "http://127.0.0.2:8000/news/1"
    calls = {
        "validators": lambda: state.validators(article),
        "content_hash": lambda: state.content_hash(article),
        "due": lambda: state.due("one", NOW, False, 10),
        "due recheck": lambda: state.due("one", NOW, True, 10, exclude=[article], since=NOW),
        "due_count": lambda: state.due_count("one", NOW, False),
        "has_due_articles": lambda: state.has_due_articles("one", NOW),
        "newest_fetch": lambda: state.newest_fetch(["one"]),
        "fetched_since": lambda: state.fetched_since([article], EARLIER),
        "next_due": lambda: state.next_due("one", [INDEX]),
    }
    try:
        found = {name: _scans(state, call) for name, call in calls.items()}
        assert {name: scans for name, (_, scans) in found.items() if scans} == {}
        assert found["validators"][0] == (None, None) and found["content_hash"][0] is None
        assert len(found["due"][0]) == 0 and found["due_count"][0] == 0  # nothing due yet
        assert len(found["due recheck"][0]) == 10  # every article but the excluded one
        assert found["has_due_articles"][0] is False
        assert found["newest_fetch"][0] == EARLIER
        assert found["fetched_since"][0] == {article}
        assert found["next_due"][0] == LATER
    finally:
        state.close()
