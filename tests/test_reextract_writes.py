"""What re-extraction and WARC import write: a re-extraction that changes nothing writes no
row (FTS included), and captures whose WARC records an extraction worker made are stored
where the pages rows say, body intact."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from crawler.archive.core import Archive
from crawler.archive.warc import WarcLocation, read_capture
from crawler.ingest.captures import import_warcs
from crawler.ingest.extraction import extract_page
from crawler.ingest.reextract import reextract
from crawler.items import FetchedPage
from crawler.registry.model import parse_registry
from crawler.registry.topic import TopicMatcher

pytestmark = pytest.mark.unit

PAGES = Path(__file__).parent / "pages"
CASES = ["hy-tert-3721571", "hy-tert-3723791", "hy-a1plus-378866"]
REGISTRY = parse_registry({
    "topic": {"id": "t", "name": "T", "require": [["Armenia*", "Հայաստան*"]]},
    "source": [{"id": "tert", "name": "Tert", "homepage": "https://www.tert.am/",
                "language": "hy", "country": "AM", "kind": "independent"}],
})


def _archive(path: Path) -> Archive:
    archive = Archive(path)
    archive.sync_sources(REGISTRY)
    matcher = TopicMatcher(REGISTRY.topic)
    for i, case in enumerate(CASES):
        url = f"https://www.tert.am/am/news/{i}"
        page = FetchedPage(source_id="tert", url=url, kind="article", discovered_via="seed",
                           fetched_at="2021-11-20T00:00:00+00:00", final_url=url, status=200,
                           headers={"content-type": "text/html"},
                           body=(PAGES / case / "input.html").read_bytes())
        archive.record(extract_page(page, REGISTRY.get("tert"), matcher))
    return archive


def test_a_reextraction_that_changes_nothing_writes_nothing(tmp_path: Path) -> None:
    archive = _archive(tmp_path / "archive.db")
    try:
        # A stale title: the first run rewrites it (and its FTS row), the second finds
        # everything as the extractor makes it and must not touch a single row.
        archive.db.execute("UPDATE articles SET title = 'stale' WHERE url LIKE '%/0'")
        archive.db.conn.commit()
        changes = archive.db.conn.total_changes
        first = reextract(archive, REGISTRY)
        assert first.checked == len(CASES) and first.changed_title == 1
        assert archive.db.conn.total_changes > changes
        changes = archive.db.conn.total_changes
        second = reextract(archive, REGISTRY)
        assert second.checked == len(CASES) and second.unchanged == len(CASES)
        # total_changes counts every row inserted, updated or deleted, triggers' included.
        assert archive.db.conn.total_changes == changes
    finally:
        archive.close()


def test_imported_captures_are_stored_where_their_rows_say(tmp_path: Path) -> None:
    crawled = _archive(tmp_path / "crawled.db")
    export = tmp_path / "export.warc.gz"
    try:
        with open(export, "wb") as out:
            for name, offset, length in crawled.db.execute(
                    "SELECT warc_file, warc_offset, warc_length FROM pages ORDER BY id"):
                with open(crawled.warc.folder / name, "rb") as handle:
                    handle.seek(offset)
                    out.write(handle.read(length))
        bodies = {r[0]: r[1] for r in crawled.db.execute("SELECT url, body_sha256 FROM pages")}
    finally:
        crawled.close()
    fresh = Archive(tmp_path / "fresh.db")
    try:
        fresh.sync_sources(REGISTRY)
        report = import_warcs(fresh, REGISTRY, [export], jobs=1)
        assert report.imported == len(CASES) and report.articles == len(CASES)
        rows = fresh.db.execute(
            "SELECT url, body_sha256, warc_file, warc_offset, warc_length FROM pages").fetchall()
        assert len(rows) == len(CASES)
        for url, sha, name, offset, length in rows:
            capture = read_capture(fresh.warc.folder, WarcLocation(name, offset, length))
            assert capture.url == url
            assert hashlib.sha256(capture.body).hexdigest() == sha == bodies[url]
    finally:
        fresh.close()
