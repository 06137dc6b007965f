"""A pipeline that raises on a page costs no fetched page: it is stored as an extraction error.

Scrapy drops an item whose pipeline raised. Before ArchivePipeline.item_error, a page on which
anything ahead of the archive raised (a lookup of the stored body's hash on a failing disk,
a bug in a hint) was fetched and then lost: no capture, no WARC record, no error counted.
The crawl test runs a real `mediawatch crawl` of a loopback outlet with pipelines that raise
on chosen pages before extraction, after it, and after the archive (which must not store a
page twice).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from helpers.failing_pipeline import importable_env
from helpers.miniweb import T0, MiniWeb, crawl_at


@pytest.mark.e2e
def test_pages_a_pipeline_raised_on_are_stored_as_errors_with_their_captures(
        tmp_path: Path) -> None:
    with MiniWeb("wire") as web:
        web["wire"].add(T0, 8)
        sources = web.write_sources(tmp_path / "sources.toml")
        db = tmp_path / "archive.db"
        pipelines = {"helpers.failing_pipeline.FailOn": 200,
                     "crawler.pipelines.ExtractPipeline": 300,
                     "helpers.failing_pipeline.FailAfter": 500,
                     "crawler.pipelines.ArchivePipeline": 800,
                     "helpers.failing_pipeline.FailLast": 900}
        run = crawl_at(T0, sources, db, "-s", "MEDIAWATCH_EXTRACT_WORKERS=1",
                       "-s", f"ITEM_PIPELINES={json.dumps(pipelines)}",
                       "-s", "TEST_FAIL_BEFORE=/news/story-3",
                       "-s", "TEST_FAIL_AFTER=/news/story-5", "-s", "TEST_FAIL_LAST=/news/story-7",
                       env=importable_env())
    assert run.returncode == 0, run.stderr[-3000:]
    conn = sqlite3.connect(db)
    rows = dict(conn.execute(
        "SELECT substr(url, instr(url, '/news/')), extraction_status || ' ' || "
        "coalesce(extraction_error, '') FROM articles").fetchall())
    captures = dict(conn.execute(
        "SELECT substr(url, instr(url, '/news/')), warc_offset FROM pages "
        "WHERE kind = 'article'").fetchall())
    fetch_counts = dict(conn.execute(
        "SELECT substr(url, instr(url, '/news/')), fetch_count FROM pages "
        "WHERE kind = 'article'").fetchall())
    stats = json.loads(conn.execute("SELECT stats FROM crawl_runs").fetchone()[0])
    conn.close()
    assert len(rows) == 8, (rows, run.stderr[-3000:])
    assert rows["/news/story-3"] == "error pipeline: RuntimeError: boom in FailOn"
    assert rows["/news/story-5"] == "error pipeline: RuntimeError: boom in FailAfter"
    assert all(v.startswith("ok") for k, v in rows.items() if k not in (
        "/news/story-3", "/news/story-5")), rows
    # Every article fetch kept its capture and its WARC record.
    assert len(captures) == 8 and all(off is not None for off in captures.values()), captures
    # A pipeline after the archive raising on a stored page does not store it again.
    assert rows["/news/story-7"].startswith("ok") and set(fetch_counts.values()) == {1}
    assert stats["mediawatch/pipeline_errors"] == 2
    assert "2 pages failed in a pipeline (stored as extraction errors)" in run.stdout


@pytest.mark.unit
def test_a_failed_extraction_keeps_nothing_derived_from_one() -> None:
    """The one rule for every place that turns an exception into a failed extraction (the
    crawl's extraction pipeline, the archive's item_error, a Redis worker's hand-off)."""
    from crawler.archive.prepare import Prepared
    from crawler.ingest.extraction import fail_extraction
    from crawler.items import FetchedPage
    from crawler.registry.topic import TopicMatch
    from extract import ArticleResult

    def page(**kw: object) -> FetchedPage:
        fields = {"source_id": "wire", "url": "http://127.0.0.1/news/a", "kind": "article",
                  "discovered_via": "feed", "fetched_at": "2026-03-02T06:00:00+00:00",
                  "status": 200, "body": b"<p>text</p>"} | kw
        return FetchedPage(**fields)  # type: ignore[arg-type]

    done = page(extraction=ArticleResult(status="ok", text="text"), topic=TopicMatch(True, {}),
                framing={"mentions": []}, prepared=Prepared(body_sha256="x", warc=b"", warc_id=""))
    fail_extraction(done, "pipeline: RuntimeError: boom")
    assert done.extraction is not None and done.extraction.status == "error"
    assert done.extraction.error == "pipeline: RuntimeError: boom"
    assert done.topic is None and done.framing is None and done.prepared is None
    # Nothing to extract (a 404, a feed) or the body already archived: left as it is.
    for other in (page(status=404), page(kind="feed"), page(unchanged=True)):
        fail_extraction(other, "pipeline: RuntimeError: boom")
        assert other.extraction is None
