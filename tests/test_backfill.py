"""`mediawatch backfill ccnews` against a loopback imitation of CC-NEWS, run as a subprocess.

Proves: exactly the registry's records are stored (articles, with their CC file, offset and
length), nothing but loopback is contacted, 503s and broken connections are retried, a
SIGKILL in the middle of the second file followed by a re-run leaves the archive an
uninterrupted run leaves, a second backfill is refused while one runs, --strict-dates
drops what is dated outside the months, and --source narrows a run without making its
files "done" for other outlets.
"""

from __future__ import annotations

import hashlib
import io
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from conftest import MEDIAWATCH, query
from helpers.ccnews_web import (
    IMAGE,
    NOT_ARTICLE,
    OUTLET_RECORDS,
    REGISTRY,
    TORN,
    Behaviour,
    CCNewsWeb,
    TrapProxy,
    file_path,
)
from warcio.archiveiterator import ArchiveIterator

pytestmark = pytest.mark.e2e

ARTICLE_URLS = {url for _, _, url, _ in OUTLET_RECORDS}
IN_WINDOW = {url for url in ARTICLE_URLS if "tert.am" in url}  # published 2021-11


def backfill_cmd(web: CCNewsWeb, work: Path, *extra: str, db: str = "archive.db") -> list[str]:
    """The command line of one backfill of the fixture months into work/db."""
    return [MEDIAWATCH, "backfill", "ccnews", "--from", "2021-11", "--to", "2021-12",
            "--base", web.base, "--db", str(work / db), "--sources", str(work / "sources.toml"),
            "--backoff", "0.1", "--jobs", "2", *extra]


def env_with(proxy: TrapProxy) -> dict[str, str]:
    """Any traffic not to the fixture host goes to the trap proxy (and is logged there)."""
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env.update(http_proxy=proxy.url, https_proxy=proxy.url, HTTP_PROXY=proxy.url,
               HTTPS_PROXY=proxy.url, no_proxy="127.0.0.9", NO_PROXY="127.0.0.9")
    return env


def run(cmd: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run a backfill to its end."""
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """A folder with the test registry."""
    (tmp_path / "sources.toml").write_text(REGISTRY)
    return tmp_path


def snapshot(db: Path) -> dict[str, list[tuple]]:
    """Everything a re-run must reproduce exactly (row ids aside)."""
    return {
        "articles": query(db, "SELECT id, source_id, url, title, author, published, lang, text,"
                              " fingerprint, on_topic, topic_terms, extraction_status, "
                              "discovered_via, fetched_at, first_seen_at, date_flags "
                              "FROM articles ORDER BY id"),
        "pages": query(db, "SELECT url, kind, status, outcome, body_sha256, discovered_via, "
                           "fetched_at, last_fetched_at, fetch_count, revisits, article_id "
                           "FROM pages ORDER BY url, fetched_at"),
        "origins": query(db, "SELECT file, record_offset, record_length, article_id, via, "
                             "record_date, url FROM capture_origins ORDER BY file, "
                             "record_offset"),
        "files": query(db, "SELECT file, sources, month, state, records_seen, "
                           "records_matched, malformed FROM backfill_files ORDER BY file"),
        "versions": query(db, "SELECT article_id, version, fetched_at, text_hash "
                              "FROM article_versions ORDER BY article_id, version"),
        "dates": query(db, "SELECT article_id, kind, value, source FROM article_dates "
                           "ORDER BY 1, 2, 3, 4"),
        "url_state": query(db, "SELECT url, source_id, first_seen, last_fetched, next_due "
                               "FROM url_state ORDER BY url"),
        "stories": query(db, "SELECT article_id, role FROM story_articles ORDER BY 1"),
    }


def test_backfill_stores_exactly_the_outlets_articles_with_their_locations(work: Path) -> None:
    trouble = Behaviour(fail_once={file_path(0, 1)}, cut_once={file_path(1, 0): 100_000})
    with CCNewsWeb(behaviour=trouble) as web, TrapProxy() as trap:
        done = run(backfill_cmd(web, work), env_with(trap))
        log = web.requests()
        again = run(backfill_cmd(web, work), env_with(trap))
    assert done.returncode == 0, done.stdout + done.stderr
    db = work / "archive.db"
    # Exactly the outlets' articles: no other host, nothing torn, subdomains of outlets' hosts
    # only when declared as an alias (oren.mk.ru yes, rzn.mk.ru no).
    assert {r[0] for r in query(db, "SELECT url FROM articles")} == ARTICLE_URLS
    hosts = {r[0].split("/")[2] for r in query(db, "SELECT url FROM pages")}
    assert hosts == {"www.tert.am", "tert.am", "tass.ru", "www.mk.ru", "oren.mk.ru",
                     "sputniknews.com"}
    assert not query(db, "SELECT 1 FROM pages WHERE url = ?", (TORN,))
    assert query(db, "SELECT kind, outcome FROM pages WHERE url = ?", (IMAGE,)) == [
        ("other", "ok")]
    assert query(db, "SELECT outcome, article_id FROM pages WHERE url = ?", (NOT_ARTICLE,)) == [
        ("not_article", None)]
    assert query(db, "SELECT DISTINCT discovered_via FROM pages") == [("ccnews",)]
    # Each capture's location points at its record in the CC file, byte for byte.
    rows = query(db, "SELECT o.file, o.record_offset, o.record_length, o.url, p.body_sha256, "
                     "p.fetched_at, o.record_date FROM capture_origins o "
                     "JOIN pages p ON p.id = o.page_id")
    assert {r[3] for r in rows} == ARTICLE_URLS | {IMAGE, NOT_ARTICLE}
    for file, offset, length, url, sha, fetched, record_date in rows:
        raw = web.files[file][offset:offset + length]
        record = next(iter(ArchiveIterator(io.BytesIO(raw))))
        assert record.rec_headers.get_header("WARC-Target-URI") == url
        assert hashlib.sha256(record.content_stream().read()).hexdigest() == sha
        warc_date = record.rec_headers.get_header("WARC-Date")
        assert fetched == record_date == warc_date.replace("Z", "+00:00")
    # The WARC-Date is the fetch time and the first sighting.
    assert query(db, "SELECT count(*) FROM articles WHERE fetched_at != first_seen_at")[0][0] == 0
    # Files and the run.
    files = query(db, "SELECT state, count(*), sum(records_matched), sum(malformed) "
                      "FROM backfill_files GROUP BY state")
    assert files == [("done", 6, len(ARTICLE_URLS) + 2, 1)]
    assert query(db, "SELECT finish_reason FROM crawl_runs") == [("finished",), ("finished",)]
    assert "5 dated outside 2021-11..2021-12" in done.stdout
    assert "1 truncated by the crawler, 1 malformed" in done.stdout
    # Search, stories and framing tables are current.
    assert query(db, "SELECT count(*) FROM articles_fts")[0][0] == len(ARTICLE_URLS)
    assert query(db, "SELECT count(DISTINCT article_id) FROM story_articles")[0][0] == \
        len(ARTICLE_URLS)
    assert query(db, "SELECT count(*) FROM articles a JOIN articles_fts f ON f.rowid = a.rowid "
                     "WHERE articles_fts MATCH 'search_title:Չավին*'")[0][0] == 1
    # Polite and loopback only: the project's User-Agent, a 503 retried, a broken
    # connection resumed from where it broke, no request anywhere else.
    assert trap.log == []
    assert all(r["client"].startswith("127.") for r in log)
    assert all(r["agent"].startswith("mediawatch/") for r in log)
    assert len([r for r in log if r["path"] == file_path(0, 1)]) == 2
    assert [r["range"] for r in log if r["path"] == file_path(1, 0)] == ["", "bytes=100000-"]
    assert len(log) == 2 + 6 + 2
    # A second run has nothing to do: every file is done, nothing downloaded again.
    assert again.returncode == 0, again.stderr
    assert "6 already done, 0 done now" in again.stdout
    assert len(web.requests()) == len(log) + 2  # the two month listings only
    assert query(db, "SELECT count(*) FROM pages")[0][0] == len(ARTICLE_URLS) + 2
    assert query(db, "PRAGMA integrity_check") == [("ok",)]


def test_sigkill_in_the_second_file_then_rerun_equals_an_uninterrupted_run(work: Path) -> None:
    # Stall the second file after its first outlet record (tert, ~83-118 KB in), so the
    # backfill commits that record and then waits: that is where it gets killed.
    trouble = Behaviour(stall_once={file_path(0, 1): 150_000})
    with CCNewsWeb(behaviour=trouble) as web:
        killed = subprocess.Popen(backfill_cmd(web, work), stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        try:
            assert trouble.stalled.wait(120), "the backfill never reached the second file"
            db = work / "archive.db"
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not _committed(db, file_path(0, 1)):
                time.sleep(0.2)
            assert _committed(db, file_path(0, 1)), "nothing of the second file was committed"
            # A second backfill on the same archive is refused while this one runs.
            second = run(backfill_cmd(web, work))
            assert second.returncode != 0
            assert "being written" in second.stderr and "Traceback" not in second.stderr
            killed.send_signal(signal.SIGKILL)
            killed.wait(30)
        finally:
            if killed.poll() is None:
                killed.kill()
            killed.communicate()  # reap it and close its pipes
            trouble.stall_release.set()
        states = dict(query(db, "SELECT file, state FROM backfill_files"))
        assert states[file_path(0, 0)] == "done" and states[file_path(0, 1)] == "pending"
        resumed = run(backfill_cmd(web, work))
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        assert "1 already done, 5 done now" in resumed.stdout
        whole = run(backfill_cmd(web, work, db="whole.db"))
        assert whole.returncode == 0, whole.stderr
    db, reference = work / "archive.db", work / "whole.db"
    assert query(db, "PRAGMA integrity_check") == [("ok",)]
    got, want = snapshot(db), snapshot(reference)
    for table in want:
        assert got[table] == want[table], table
    assert len(want["articles"]) == len(ARTICLE_URLS)
    assert query(db, "SELECT url FROM pages GROUP BY url HAVING count(*) > 1") == []
    runs = query(db, "SELECT finish_reason FROM crawl_runs ORDER BY id")
    assert runs == [("interrupted (the process was killed)",), ("finished",)]


def _committed(db: Path, file: str) -> bool:
    if not db.exists():
        return False
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return bool(conn.execute("SELECT 1 FROM capture_origins WHERE file = ?",
                                     [file]).fetchone())
        finally:
            conn.close()
    except sqlite3.Error:
        return False


def test_strict_dates_and_one_outlet_at_a_time(work: Path) -> None:
    with CCNewsWeb() as web:
        strict = run(backfill_cmd(web, work, "--strict-dates", db="strict.db"))
        tert = run(backfill_cmd(web, work, "--source", "tert", "--jobs", "1"))
        everyone = run(backfill_cmd(web, work, "--downloads", "3"))  # parallel downloads
    assert strict.returncode == 0, strict.stderr
    assert {r[0] for r in query(work / "strict.db", "SELECT url FROM articles")} == IN_WINDOW
    assert "5 dated outside 2021-11..2021-12 (dropped)" in strict.stdout
    assert query(work / "strict.db", "SELECT sum(dropped) FROM backfill_files") == [(5,)]
    db = work / "archive.db"
    assert tert.returncode == 0 and everyone.returncode == 0, tert.stderr + everyone.stderr
    # Files done for tert alone are not done for every outlet: the second run reads them
    # again, passes over the records already stored and adds the other outlets'.
    assert "0 already done, 6 done now" in everyone.stdout
    assert {r[0] for r in query(db, "SELECT url FROM articles")} == ARTICLE_URLS
    assert query(db, "SELECT count(*), count(DISTINCT url) FROM pages") == [
        (len(ARTICLE_URLS) + 2, len(ARTICLE_URLS) + 2)]
    assert query(db, "SELECT sources, count(*) FROM backfill_files WHERE state = 'done' "
                     "GROUP BY sources ORDER BY sources") == [
        ("mk,sputnik,tass,tert", 6), ("tert", 6)]


def test_bad_requests_are_refused_with_a_clear_message(work: Path) -> None:
    with CCNewsWeb() as web:
        cmd = backfill_cmd(web, work)
        bad_month = run(cmd[:3] + ["--from", "2021-13", "--to", "2021-12"] + cmd[7:])
        unknown = run(backfill_cmd(web, work, "--source", "nope"))
        dry = run(backfill_cmd(web, work, "--dry-run", db="dry.db"))
        missing = run([MEDIAWATCH, "backfill", "ccnews", "--from", "2022-01", "--to", "2022-01",
                       "--base", web.base, "--db", str(work / "m.db"),
                       "--sources", str(work / "sources.toml"), "--retries", "1"])
    assert bad_month.returncode != 0 and "YYYY-MM" in bad_month.stderr
    assert unknown.returncode != 0 and "unknown outlet" in unknown.stderr
    assert missing.returncode != 0 and "listing of 2022-01" in missing.stderr
    assert "Traceback" not in bad_month.stderr + unknown.stderr + missing.stderr
    assert dry.returncode == 0 and "2021-11: 3 files" in dry.stdout
    assert "total: 6 files" in dry.stdout and not (work / "dry.db").exists()
    # The refused run still left a crawl_runs row saying why.
    reason = query(work / "m.db", "SELECT finish_reason FROM crawl_runs")[0][0]
    assert reason.startswith("failed: the listing of 2022-01")
