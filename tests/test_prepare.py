"""Work moved into the extraction workers (crawler/archive/prepare.py) stores exactly what the
archive writer stored when it did that work itself.

The same fetch of a recorded real page is stored twice: once prepared as a crawl worker
prepares it (extract_prepared, through pickle as the process pool sends it, and through
the Redis codec), once extracted in-process with nothing prepared. Every row and the WARC
exchange must come out the same; the records must be valid WARC (warcio reads and checks
them) and a torn or foreign `prepared.warc` from Redis is refused.
"""

from __future__ import annotations

import gzip
import pickle
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from crawler.archive.core import Archive, warc_folder
from crawler.archive.warc import WarcLocation, read_capture
from crawler.distributed import codec
from crawler.ingest.extraction import extract_page, extract_prepared, extraction_hints
from crawler.items import FetchedPage
from crawler.registry.model import parse_registry
from crawler.registry.topic import TopicMatcher

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[1]
WARCIO = str(Path(sys.executable).with_name("warcio"))
REGISTRY = parse_registry({
    "topic": {"id": "t", "name": "T", "require": [["Armenia*", "Армени*", "Հայաստան*"],
                                                   ["Russia*", "Росси*", "Ռուսաստան*"]]},
    "source": [{"id": "one", "name": "One", "homepage": "http://127.0.0.2:8000/",
                "language": "ru", "country": "AM", "kind": "independent"}]})
# Columns that differ between two archives only by where (and with which random record
# ids, so compressed lengths) the WARC records were written.
SKIP = {"pages": {"warc_file", "warc_offset", "warc_length", "id", "run_id"}, "articles": {"page_id"},
        "article_dates": set(), "article_versions": set(), "mentions": {"id"},
        "kwic": {"id"}, "url_state": set()}


def fetch(case: str) -> FetchedPage:
    body = (ROOT / "tests" / "pages" / case / "input.html").read_bytes()
    url = f"http://127.0.0.2:8000/{case}"
    return FetchedPage(source_id="one", url=url, kind="article", discovered_via="feed",
                       fetched_at="2025-03-04T05:06:07+00:00", final_url=url, status=200,
                       headers={"content-type": "text/html; charset=utf-8", "etag": '"e"',
                                "content-encoding": "gzip"},
                       request_headers={"user-agent": "mediawatch"}, body=body,
                       hints={"feed_title": "Заголовок <b>"})


def prepared_fetch(case: str, via_redis: bool) -> FetchedPage:
    """As ExtractPipeline stores it: the worker's results set on the item."""
    page = fetch(case)
    out = extract_prepared(page, extraction_hints(page, REGISTRY.get("one")), REGISTRY.topic,
                           None)
    page.extraction, page.topic, page.framing, page.prepared = pickle.loads(pickle.dumps(out))
    if via_redis:
        kind, page = codec.decode(codec.encode_item(page))
        assert kind == "page" and page.prepared is not None
    return page


def rows(db: Path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(db)
    out = {}
    for table, skip in SKIP.items():
        cols = [r[1] for r in conn.execute(f"PRAGMA table_info({table})") if r[1] not in skip]
        out[table] = sorted(conn.execute(f"SELECT {', '.join(cols)} FROM {table}").fetchall(),
                            key=repr)
    conn.close()
    return out


CASES = ["ru-tass-8836033", "hy-tert-3721571", "en-foxnews-ctbt", "ru-livejournal-front-not-article"]


@pytest.mark.parametrize("via_redis", [False, True])
def test_prepared_in_a_worker_stores_what_the_writer_stored(tmp_path: Path,
                                                            via_redis: bool) -> None:
    assert all((ROOT / "tests" / "pages" / c).exists() for c in CASES)
    stores = {}
    for mode in ("writer", "worker"):
        archive = Archive(tmp_path / mode / "archive.db")
        archive.sync_sources(REGISTRY)
        for case in CASES:
            if mode == "worker":
                page = prepared_fetch(case, via_redis)
                assert page.prepared is not None and page.extraction is not None
                assert bool(page.prepared.search_text) == (
                    page.extraction.status != "not_article")
            else:
                page = extract_page(fetch(case), REGISTRY.get("one"), TopicMatcher(REGISTRY.topic))
                assert page.prepared is None
            archive.record(page)
        captures = [archive.read_capture(pid) for (pid,) in archive.db.execute(
            "SELECT id FROM pages ORDER BY url").fetchall()]
        archive.close()
        stores[mode] = (rows(tmp_path / mode / "archive.db"), captures)
    (writer, writer_caps), (worker, worker_caps) = stores["writer"], stores["worker"]
    assert writer["articles"] and writer["mentions"] and writer["kwic"]
    for table in SKIP:
        assert worker[table] == writer[table], table
    assert [(c.url, c.date, c.status, c.headers, c.body) for c in worker_caps] == \
        [(c.url, c.date, c.status, c.headers, c.body) for c in writer_caps]
    assert "content-encoding" not in worker_caps[0].headers  # transport headers dropped
    # warcio reads every record back and checks each block and payload digest.
    for mode in ("writer", "worker"):
        for path in warc_folder(tmp_path / mode / "archive.db").glob("*.warc.gz"):
            done = subprocess.run([WARCIO, "check", "-v", str(path)], capture_output=True,
                                  text=True)
            assert done.returncode == 0, done.stdout + done.stderr
            assert done.stdout.count("digest pass") >= 2 * len(CASES)
            index = subprocess.run([WARCIO, "index", "-f", "warc-type", str(path)],
                                   capture_output=True, text=True, check=True).stdout
            assert index.count('"response"') == index.count('"request"') == \
                index.count('"metadata"') == len(CASES)


def test_a_capture_already_archived_is_a_revisit_not_the_prepared_records(
        tmp_path: Path) -> None:
    archive = Archive(tmp_path / "archive.db")
    archive.sync_sources(REGISTRY)
    archive.record(prepared_fetch(CASES[0], via_redis=False))
    again = prepared_fetch(CASES[0], via_redis=False)
    again.fetched_at = "2025-04-01T00:00:00+00:00"
    archive.record(again)
    assert archive.db.execute("SELECT fetch_count, revisits FROM pages").fetchall() == [(2, 1)]
    archive.close()
    path = next(warc_folder(tmp_path / "archive.db").glob("*.warc.gz"))
    index = subprocess.run([WARCIO, "index", "-f", "warc-type", str(path)],
                           capture_output=True, text=True, check=True).stdout
    assert index.count('"response"') == 1 and index.count('"revisit"') == 1


def test_records_from_redis_that_would_tear_a_warc_file_are_refused(tmp_path: Path) -> None:
    page = prepared_fetch(CASES[0], via_redis=False)
    assert page.prepared is not None
    good = page.prepared.warc
    for bad in (good[:-5], good + b"junk", gzip.compress(b"not a WARC record"), b"", "text"):
        page.prepared.warc = bad  # type: ignore[assignment]
        _, back = codec.decode(codec.encode_item(page))
        assert back.prepared is None, bad[:20]
    # The archiver then makes the records itself: the capture is still stored and valid.
    archive = Archive(tmp_path / "archive.db")
    archive.sync_sources(REGISTRY)
    archive.record(back)
    (pid,) = archive.db.execute("SELECT id FROM pages").fetchone()
    assert archive.read_capture(pid).body == back.body
    location = archive.db.execute("SELECT warc_file, warc_offset, warc_length FROM pages"
                                  ).fetchone()
    archive.close()
    assert read_capture(warc_folder(tmp_path / "archive.db"),
                        WarcLocation(*location)).status == 200


def test_row_writes_outside_a_transaction_commit_like_sqlite_utils(tmp_path: Path) -> None:
    """The cached-statement writers (crawler/archive/rows.py) commit a write made outside a
    transaction, as sqlite-utils does: nothing is left open for a later BEGIN to trip on."""
    from crawler.archive.core import open_db
    from crawler.archive.rows import insert_row, insert_rows, update_row

    db = open_db(tmp_path / "rows.db")
    insert_rows(db, "lexicon_concepts", [{"id": "a", "kind": "naming", "label": "A"},
                                         {"id": "b", "kind": "naming", "label": "B"}])
    assert not db.conn.in_transaction
    rowid = insert_row(db, "lexicon_concepts", {"id": "c", "kind": "frame", "label": "C"})
    assert update_row(db, "lexicon_concepts", "id", "c", {"label": "See"}) == 1
    assert not db.conn.in_transaction
    other = sqlite3.connect(tmp_path / "rows.db")
    assert other.execute("SELECT id, label FROM lexicon_concepts ORDER BY id").fetchall() == [
        ("a", "A"), ("b", "B"), ("c", "See")]
    assert other.execute("SELECT rowid FROM lexicon_concepts WHERE id = 'c'").fetchone() == (rowid,)
    other.close()
    # Inside a transaction they are part of it: rolled back with it.
    db.conn.execute("BEGIN")
    insert_row(db, "lexicon_concepts", {"id": "d", "kind": "frame", "label": "D"})
    assert db.conn.in_transaction
    db.conn.execute("ROLLBACK")
    assert db.execute("SELECT count(*) FROM lexicon_concepts").fetchone() == (3,)
