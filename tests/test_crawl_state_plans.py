"""The crawl state's reads on url_state use its indexes: `crawl --due` asks them for every
discovery document of every outlet, every few minutes, on archives of millions of URLs."""

from __future__ import annotations

import sqlite3
from pathlib import Path

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


def _scans(state: CrawlState, call: object) -> tuple[object, list[str]]:
    """Run `call`, then the plan of every statement it ran: the steps that read a whole table."""
    statements: list[str] = []
    state.conn.set_trace_callback(statements.append)
    try:
        result = call()  # type: ignore[operator]
    finally:
        state.conn.set_trace_callback(None)
    assert statements
    scans = [f"{sql} -> {step[-1]}" for sql in statements
             for step in state.conn.execute(f"EXPLAIN QUERY PLAN {sql}")
             if step[-1].startswith("SCAN url_state")]
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
