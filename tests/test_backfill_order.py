"""A backfilled capture older than what the archive holds (a backfill after crawls) is kept
as a capture and moves first-seen back, but never replaces the article's current text."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import query

from crawler.archive.core import Archive
from crawler.ingest.extraction import extract_page
from crawler.items import FetchedPage
from crawler.registry.model import parse_registry
from crawler.registry.topic import TopicMatcher

pytestmark = pytest.mark.unit

PAGES = Path(__file__).parent / "pages"
URL = "https://www.tert.am/am/news/2021/11/05/inflation/3721571"


def test_an_older_imported_capture_never_replaces_the_current_text(tmp_path: Path) -> None:
    registry = parse_registry({
        "topic": {"id": "t", "name": "T", "require": [["Armenia*"]]},
        "source": [{"id": "tert", "name": "Tert", "homepage": "https://www.tert.am/",
                    "language": "hy", "country": "AM", "kind": "independent"}]})
    matcher = TopicMatcher(registry.topic)
    archive = Archive(tmp_path / "archive.db")
    archive.sync_sources(registry)

    def page(case: str, fetched: str, origin: tuple[str, int, int] | None) -> FetchedPage:
        fetched_page = FetchedPage(
            source_id="tert", url=URL, kind="article",
            discovered_via="ccnews" if origin else "seed", fetched_at=fetched, final_url=URL,
            status=200, headers={"content-type": "text/html"},
            body=(PAGES / case / "input.html").read_bytes(), origin=origin)
        return extract_page(fetched_page, registry.get("tert"), matcher)

    crawled = page("hy-tert-3721571", "2026-01-10T00:00:00+00:00", None)
    aid = archive.record(crawled)
    old = page("hy-tert-3723791", "2021-11-20T00:00:00+00:00",
               ("crawl-data/CC-NEWS/2021/11/x.warc.gz", 1234, 5678))
    with archive.transaction():
        assert archive.record(old) == aid
        archive.backfill.keep_earliest(old, aid, None)
    archive.close()
    db = tmp_path / "archive.db"
    assert query(db, "SELECT title, fetched_at, first_seen_at FROM articles") == [
        (crawled.extraction.title, "2026-01-10T00:00:00+00:00", "2021-11-20T00:00:00+00:00")]
    assert query(db, "SELECT count(*) FROM pages") == [(2,)]
    assert query(db, "SELECT count(*) FROM article_versions") == [(1,)]
    assert query(db, "SELECT file, record_offset, record_length, via FROM capture_origins") == [
        ("crawl-data/CC-NEWS/2021/11/x.warc.gz", 1234, 5678, "ccnews")]
    assert query(db, "SELECT first_seen FROM url_state WHERE url = ?", (URL,)) == [
        ("2021-11-20T00:00:00+00:00",)]
