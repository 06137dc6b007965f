"""The archive: migrations, idempotent writes, identity rules, FTS kept current."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.pages import REGISTRY, page
from mediawatch_schema.migrations import migrations

from crawler.archive.core import (
    MIGRATIONS_PATH,
    Archive,
    ArchiveError,
    ArchiveLocked,
    WriterLock,
    open_db,
)
from crawler.items import FetchedPage
from crawler.registry.model import parse_registry
from crawler.registry.topic import TopicMatcher
from crawler.web.urls import article_id
from extract import extract_article

pytestmark = pytest.mark.unit

@pytest.fixture
def archive(tmp_path: Path):
    a = Archive(tmp_path / "archive.db")
    a.sync_sources(parse_registry(REGISTRY))
    yield a
    a.close()


def counts(db_path: Path) -> dict[str, int]:
    conn = sqlite3.connect(db_path)
    tables = ["articles", "pages", "article_dates", "articles_fts"]
    out = {t: conn.execute(f"select count(*) from {t}").fetchone()[0] for t in tables}
    conn.close()
    return out


def test_migrations_create_schema_in_wal_mode(tmp_path: Path) -> None:
    db = open_db(tmp_path / "a.db")
    names = set(db.table_names())
    assert {"sources", "pages", "articles", "articles_fts", "crawl_runs",
            "article_dates"} <= names
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    applied = [r[0] for r in db.execute("select name from _sqlite_migrations")]
    assert applied[0] == "0001_foundation" and migrations.pending(db) == []
    db.conn.close()
    # Re-applying is a no-op, also through sqlite-utils' own CLI with the migrations path.
    again = open_db(tmp_path / "a.db")
    assert [r[0] for r in again.execute("select name from _sqlite_migrations")] == applied
    again.conn.close()
    cli = Path(sys.executable).with_name("sqlite-utils")
    done = subprocess.run([str(cli), "migrate", str(tmp_path / "b.db"), str(MIGRATIONS_PATH)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "articles" in sqlite3.connect(tmp_path / "b.db").execute(
        "select group_concat(name) from sqlite_master where type='table'").fetchone()[0]


def test_unusable_file_gives_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "notadb.db"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(ArchiveError, match="cannot open archive"):
        Archive(bad)


def test_second_writer_is_refused(tmp_path: Path) -> None:
    first = Archive(tmp_path / "a.db")
    try:
        with pytest.raises(ArchiveLocked, match="being written by pid"):
            Archive(tmp_path / "a.db")
    finally:
        first.close()
    Archive(tmp_path / "a.db").close()  # released


def test_a_command_holds_the_writer_lock_across_the_archives_it_opens(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    with pytest.raises(ArchiveError, match="does not"):
        WriterLock.inherited(db)  # nobody holds it
    lock = WriterLock(db)
    try:
        Archive(db, lock=lock).close()
        Archive(db, lock=WriterLock.inherited(db)).close()  # what the crawl's pipeline does
        with pytest.raises(ArchiveLocked, match=f"pid {os.getpid()}"):
            Archive(db)  # closing those archives left the command's lock held
    finally:
        lock.release()
    with pytest.raises(ArchiveError, match="does not"):
        WriterLock.inherited(db)
    Archive(db).close()


def test_same_article_twice_is_one_row_and_only_timestamps_change(archive: Archive) -> None:
    url = "http://127.0.0.2:8000/news/1/"
    aid = archive.record(page(url))
    before = counts(archive.path)
    row1 = archive.db["articles"].get(aid)
    aid2 = archive.record(page(url, when="2024-03-01T00:00:00+00:00"))
    assert aid2 == aid
    assert counts(archive.path) == before
    row2 = archive.db["articles"].get(aid)
    changed = {k for k in row1 if row1[k] != row2[k]}
    assert changed == {"fetched_at"}
    pg = archive.db.execute("select fetch_count, fetched_at, last_fetched_at, revisits "
                            "from pages").fetchone()
    assert pg == (2, "2024-02-02T00:00:00+00:00", "2024-03-01T00:00:00+00:00", 1)


def test_raw_capture_is_read_back_by_offset(archive: Archive) -> None:
    item = page("http://127.0.0.2:8000/news/11")
    item.request_headers = {"user-agent": "mediawatch/test"}
    archive.record(item)
    archive.record(page("http://127.0.0.2:8000/news/12", title="Another Armenia Russia story"))
    page_id = archive.db.execute("select id from pages where url like '%/11'").fetchone()[0]
    capture = archive.read_capture(page_id)
    assert capture.body == item.body and capture.status == 200
    assert capture.url == item.url and capture.headers["content-type"].startswith("text/html")
    assert capture.date == "2024-02-02T00:00:00Z"


def test_url_variants_and_same_outlet_canonical_merge(archive: Archive) -> None:
    base = "http://127.0.0.2:8000/news/7"
    ids = {
        archive.record(page(base + "/?utm_source=x&utm_medium=rss")),
        archive.record(page(base + "/")),
        archive.record(page(base.replace("http://", "https://") + "#comments")),
        archive.record(page("http://127.0.0.2:8000/news/?id=7", canonical=base + "/")),
    }
    assert len(ids) == 1
    row = archive.db["articles"].get(ids.pop())
    assert "utm_" not in row["url"]
    assert row["republication_of"] is None


def test_cross_outlet_canonical_is_evidence_not_a_merge(archive: Archive) -> None:
    original = archive.record(page("http://127.0.0.2:8000/news/9/"))
    reprint = archive.record(page("http://127.0.0.3:8000/reprint/9", source_id="two",
                                  canonical="http://127.0.0.2:8000/news/9/"))
    assert original != reprint
    row = archive.db["articles"].get(reprint)
    assert row["republication_of"] == "http://127.0.0.2:8000/news/9/"
    assert row["canonical_url"] == "http://127.0.0.2:8000/news/9/"


def test_canonical_on_an_alias_of_the_outlet_is_the_same_article(tmp_path: Path) -> None:
    data = {**REGISTRY, "source": [dict(REGISTRY["source"][0],
                                        aliases=["https://www.example-original.org/"])]}
    archive = Archive(tmp_path / "a.db")
    archive.sync_sources(parse_registry(data))
    try:
        aid = archive.record(page("http://127.0.0.2:8000/news/5",
                                  canonical="https://www.example-original.org/news/5"))
        row = archive.db.table("articles").get(aid)
        assert aid == article_id("https://www.example-original.org/news/5")
        assert row["republication_of"] is None
    finally:
        archive.close()


def test_site_root_canonical_never_merges_articles(archive: Archive) -> None:
    a = archive.record(page("http://127.0.0.2:8000/news/1", canonical="http://127.0.0.2:8000/"))
    b = archive.record(page("http://127.0.0.2:8000/news/2", canonical="http://127.0.0.2:8000/"))
    assert a != b


def test_article_fields_topic_dates_and_fts(archive: Archive) -> None:
    aid = archive.record(page("http://127.0.0.2:8000/news/3"))
    row = archive.db["articles"].get(aid)
    assert row["published"].startswith("2024-02-01")
    assert row["published_month"] == "2024-02"
    assert row["lang"] == "en"
    assert row["on_topic"] == 1
    terms = json.loads(row["topic_terms"])
    assert terms.get("Armenia*", 0) >= 1 and terms.get("Russia*", 0) >= 1
    assert row["source_kind"] == "independent"
    assert row["extraction_status"] == "ok"
    dates = archive.db.execute(
        "select kind, value from article_dates where article_id = ?", [aid]).fetchall()
    assert ("published", "2024-02-01T10:00:00+04:00") in dates
    hits = archive.db.execute(
        "select a.id from articles_fts join articles a on a.rowid = articles_fts.rowid "
        "where articles_fts match 'Gyumri'").fetchall()
    assert hits == [(aid,)]
    # An edit updates the row and the FTS index through the triggers.
    archive.record(page("http://127.0.0.2:8000/news/3", body="Zvartnots border guards left."))
    assert archive.db.execute(
        "select count(*) from articles_fts where articles_fts match 'Zvartnots'").fetchone() == (1,)


def test_failures_are_recorded_rows(archive: Archive) -> None:
    err = FetchedPage(source_id="one", url="http://127.0.0.2:8000/news/404", kind="article",
                      discovered_via="feed", fetched_at="2024-01-01T00:00:00+00:00",
                      status=404, final_url="http://127.0.0.2:8000/news/404", body=b"gone")
    net = FetchedPage(source_id="one", url="http://127.0.0.2:8000/news/x", kind="article",
                      discovered_via="feed", fetched_at="2024-01-01T00:00:00+00:00",
                      error="TimeoutError: took too long")
    archive.record(err)
    archive.record(net)
    rows = archive.db.execute("select outcome, status, error from pages order by id").fetchall()
    assert rows == [("http_error", 404, None), ("network_error", None, "TimeoutError: took too long")]
    assert archive.counters.errors == 2
    assert archive.db.execute("select count(*) from articles").fetchone() == (0,)


def test_a_failed_refetch_never_overwrites_good_text(archive: Archive) -> None:
    url = "http://127.0.0.2:8000/news/5"
    aid = archive.record(page(url))
    good = archive.db["articles"].get(aid)["text"]
    broken = page(url)
    broken.body = b"<html><body></body></html>"
    broken.extraction = extract_article(broken.body, url)
    assert broken.extraction.status != "ok"
    archive.record(broken)
    row = archive.db["articles"].get(aid)
    assert row["text"] == good and row["extraction_status"] == "ok"
    assert row["extraction_error"].startswith("later fetch")


def test_retopic_reapplies_a_changed_topic(archive: Archive) -> None:
    aid = archive.record(page("http://127.0.0.2:8000/news/8"))
    narrower = dict(REGISTRY, topic={"id": "t", "name": "T", "require": [["Zangezur*"]]})
    changed, total = archive.retopic(TopicMatcher(parse_registry(narrower).topic))
    assert (changed, total) == (1, 1)
    assert archive.db["articles"].get(aid)["on_topic"] == 0
    assert archive.retopic(TopicMatcher(parse_registry(narrower).topic)) == (0, 1)


def test_retopic_reads_the_archive_in_slices_and_visits_every_article(
        archive: Archive, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("crawler.archive.rows.SLICE", 2)  # five articles: three slices
    ids = [archive.record(page(f"http://127.0.0.2:8000/news/{n}")) for n in range(5)]
    narrower = dict(REGISTRY, topic={"id": "t", "name": "T", "require": [["Zangezur*"]]})
    assert archive.retopic(TopicMatcher(parse_registry(narrower).topic)) == (5, 5)
    assert {archive.db["articles"].get(aid)["on_topic"] for aid in ids} == {0}
