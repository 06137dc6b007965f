"""Batched writes: one commit per batch, savepoints per item, the pipeline's commit rules,
and WARC files that survive a writer killed mid-append."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import Crawl, crawl_web, query
from scrapy import signals
from scrapy.utils.test import get_crawler
from twisted.internet import task

import crawler.settings as project_settings
from crawler.archive.core import Archive, warc_folder
from crawler.archive.view import CrawlState
from crawler.archive.warc import WarcLocation, WarcStore, intact_length
from crawler.archive.warc import read_capture as read_warc
from crawler.context import CrawlContext
from crawler.ingest.warcio_read import ImportReport, iter_exchanges
from crawler.items import Discovered, FetchedPage, Found
from crawler.pipelines import ArchivePipeline
from crawler.registry.model import parse_registry
from extract import extract_article

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[1]
BASE = "http://127.0.0.2:8000"
REGISTRY = parse_registry({
    "topic": {"id": "t", "name": "T", "require": [["Armenia*"], ["Russia*"]]},
    "source": [{"id": "one", "name": "One", "homepage": f"{BASE}/", "language": "en",
                "country": "AM", "kind": "independent", "article_url_pattern": "/news/"}],
})
HTML = """<html lang="en"><head><title>Armenia and Russia talk trade {n}</title></head><body>
<article><h1>Armenia and Russia talk trade {n}</h1><p>Armenia and Russia discussed the Gyumri
base and trade within the EAEU, officials in Yerevan said on Thursday after a long meeting
number {n}.</p><p>The talks covered customs, energy prices, border guards and the future of
the peacekeeping mission, according to a statement published by the ministry.</p></article>
</body></html>"""
WHEN = "2024-02-02T00:00:00+00:00"


def article(n: int) -> FetchedPage:
    """An article fetch with a real extraction result."""
    url = f"{BASE}/news/{n}"
    body = HTML.format(n=n).encode()
    page = FetchedPage(source_id="one", url=url, kind="article", discovered_via="feed",
                       fetched_at=WHEN, final_url=url, status=200,
                       headers={"content-type": "text/html; charset=utf-8"}, body=body)
    page.extraction = extract_article(body, url)
    return page


def feed(n: int) -> FetchedPage:
    """A cheap non-article capture (no extraction)."""
    url = f"{BASE}/feed/{n}.xml"
    return FetchedPage(source_id="one", url=url, kind="feed", discovered_via="registry",
                       fetched_at=WHEN, final_url=url, status=200,
                       headers={"content-type": "application/rss+xml"}, body=b"<rss/>")


def found(urls: list[str]) -> Discovered:
    return Discovered("one", "feed", f"{BASE}/feed/0.xml", WHEN, [Found(u) for u in urls])


@pytest.fixture
def archive(tmp_path: Path):
    a = Archive(tmp_path / "archive.db")
    a.sync_sources(REGISTRY)
    yield a
    a.close()


@pytest.fixture
def reader(archive: Archive):
    """Another connection, like Datasette's or the spider's: it sees only committed rows."""
    conn = sqlite3.connect(archive.path)
    yield lambda sql: conn.execute(sql).fetchone()[0]
    conn.close()


def test_a_batch_commits_once_and_nothing_is_visible_before_it_ends(archive, reader) -> None:
    version = reader("PRAGMA data_version")
    commits = archive.commits
    with archive.batch():
        for n in range(3):
            archive.record(article(n))
        archive.discover(found([f"{BASE}/news/{n}" for n in range(3, 6)]))
        assert reader("select count(*) from pages") == 0
        assert reader("select count(*) from url_state") == 0
        assert reader("PRAGMA data_version") == version  # no other commit happened
        assert archive.counters.articles_new == 3  # the writer sees its own rows
    assert archive.commits == commits + 1
    assert reader("PRAGMA data_version") != version
    assert reader("select count(*) from articles") == 3
    assert reader("select count(*) from url_state where kind = 'article'") == 6


def test_outside_a_batch_each_record_commits_on_its_own(archive, reader) -> None:
    commits = archive.commits
    archive.record(article(1))
    assert reader("select count(*) from articles") == 1
    archive.discover(found([f"{BASE}/news/2"]))
    assert reader("select count(*) from url_state where kind = 'article'") == 2
    assert archive.commits == commits + 2


def _fail_for(archive: Archive, monkeypatch: pytest.MonkeyPatch, bad_url: str,
              step: str = "dates") -> None:
    """Make storing one article fail after its page, mentions, article and version rows were
    written (`step` "dates"), or in the insert of its article row (`step` "article")."""
    import crawler.archive.pages as pages

    if step == "dates":
        real = archive.pages._store_dates

        def store_dates(aid: str, result: Any, first_seen: str) -> None:
            url = archive.db.execute("select url from articles where id = ?", [aid]).fetchone()[0]
            if url == bad_url:
                raise RuntimeError("boom")
            real(aid, result, first_seen)

        monkeypatch.setattr(archive.pages, "_store_dates", store_dates)
        return
    real_insert = pages.insert_row

    def insert_row(db: Any, table: str, row: dict) -> int:
        if table == "articles" and row["url"] == bad_url:
            raise RuntimeError("boom")
        return real_insert(db, table, row)

    monkeypatch.setattr(pages, "insert_row", insert_row)


@pytest.mark.parametrize("step", ["dates", "article"])
def test_a_failing_item_in_a_batch_undoes_only_itself(archive, reader, monkeypatch,
                                                      step: str) -> None:
    _fail_for(archive, monkeypatch, f"{BASE}/news/2", step)
    with archive.batch():
        for n in range(4):
            try:
                archive.record(article(n))
            except RuntimeError:
                pass
    urls = {r[0] for r in archive.db.execute("select url from pages")}
    assert urls == {f"{BASE}/news/{n}" for n in (0, 1, 3)}
    assert reader("select count(*) from articles") == 3
    assert reader(f"select count(*) from url_state where url = '{BASE}/news/2'") == 0
    for table in ("article_dates", "mentions", "kwic"):
        assert reader(f"select count(*) from {table} where article_id not in "
                      "(select id from articles)") == 0, table
    assert reader("select count(distinct article_id) from mentions") == 3
    # The counters describe rows, so they forget the undone item too.
    assert archive.counters.articles_new == 3 and archive.counters.pages_new == 3


@pytest.mark.parametrize("step", ["dates", "article"])
def test_a_record_is_atomic_outside_a_batch(archive, reader, monkeypatch, step: str) -> None:
    _fail_for(archive, monkeypatch, f"{BASE}/news/1", step)
    with pytest.raises(RuntimeError):
        archive.record(article(1))
    for table in ("pages", "articles", "article_dates", "article_versions", "url_state",
                  "mentions", "kwic"):
        assert reader(f"select count(*) from {table}") == 0, table
    assert archive.counters.pages_new == 0


def test_nested_transactions_are_savepoints(archive, reader) -> None:
    commits = archive.commits
    with archive.transaction():
        archive.record(feed(1))
        with pytest.raises(RuntimeError), archive.transaction():
            archive.record(feed(2))
            raise RuntimeError("inner fails alone")
        with archive.transaction(), archive.transaction():
            archive.record(feed(3))
        assert reader("select count(*) from pages") == 0  # a released savepoint is not a commit
    assert archive.commits == commits + 1
    assert {r[0] for r in archive.db.execute("select url from pages")} == {
        feed(1).url, feed(3).url}
    # An outer failure takes the released inner work with it.
    with pytest.raises(RuntimeError), archive.transaction():
        with archive.transaction():
            archive.record(feed(4))
        raise RuntimeError("outer fails")
    assert reader("select count(*) from pages") == 2
    assert archive.commits == commits + 1
    assert not archive.db.conn.in_transaction


def test_the_documented_queue_consumer_usage(archive, reader) -> None:
    """What batch()'s docstring shows a queue consumer (e.g. a Redis archiver) doing."""
    run_id = archive.start_run(["one"], {})
    items: list[Any] = [found([f"{BASE}/news/{n}" for n in range(5)]), article(0), article(1),
                        feed(1), FetchedPage(source_id="nowhere", url=f"{BASE}/x", kind="feed",
                                             discovered_via="x", fetched_at=WHEN, status=200)]
    failed = []
    commits = archive.commits
    with archive.batch():
        for item in items:
            try:
                if isinstance(item, Discovered):
                    archive.discover(item)
                else:
                    archive.record(item, run_id)
            except Exception:
                failed.append(item)  # an unknown outlet breaks a foreign key: this item only
    assert archive.commits == commits + 1
    assert [i.source_id for i in failed] == ["nowhere"]
    assert reader("select count(*) from pages") == 3
    assert reader(f"select count(*) from pages where run_id = {run_id}") == 3
    assert reader("select count(*) from url_state where last_fetched is not null") == 3


# -- the pipeline ------------------------------------------------------------------------------


def _pipeline(tmp_path: Path, **settings: Any) -> tuple[ArchivePipeline, task.Clock]:
    values = {k: getattr(project_settings, k) for k in dir(project_settings) if k.isupper()}
    values.update(MEDIAWATCH_DB=str(tmp_path / "archive.db"), MEDIAWATCH_HEALTH=False,
                  **settings)
    crawler = get_crawler(settings_dict=values)
    Archive(values["MEDIAWATCH_DB"]).close()
    CrawlContext(registry=REGISTRY, state=CrawlState(values["MEDIAWATCH_DB"]),
                 outlets=REGISTRY.sources).attach(crawler)
    pipeline = ArchivePipeline.from_crawler(crawler)
    clock = task.Clock()
    pipeline.clock = clock  # the reactor's time, moved by hand: no sleeping, no timing
    pipeline.open_spider()
    return pipeline, clock


def _committed(pipeline: ArchivePipeline) -> int:
    assert pipeline.archive is not None
    conn = sqlite3.connect(pipeline.archive.path)
    try:
        return conn.execute("select count(*) from pages").fetchone()[0]
    finally:
        conn.close()


def test_the_pipeline_commits_by_count_time_discovery_idle_and_close(tmp_path: Path) -> None:
    pipeline, clock = _pipeline(tmp_path, MEDIAWATCH_BATCH_ITEMS=3,
                                MEDIAWATCH_BATCH_SECONDS=1.0)
    archive = pipeline.archive
    assert archive is not None
    start = archive.commits
    for n in range(1, 3):
        pipeline.process_item(feed(n))
    assert _committed(pipeline) == 0 and archive.commits == start
    pipeline.process_item(feed(3))  # the third item: by count
    assert _committed(pipeline) == 3 and archive.commits == start + 1
    pipeline.process_item(feed(4))
    clock.advance(0.5)
    assert _committed(pipeline) == 3
    clock.advance(0.5)  # the batch's timer: by time, with no item arriving
    assert _committed(pipeline) == 4 and archive.commits == start + 2
    pipeline.process_item(feed(5))
    clock.rightNow += 1.0  # time passed but the timer has not run yet: the next item checks
    pipeline.process_item(feed(6))
    assert _committed(pipeline) == 6 and archive.commits == start + 3
    pipeline.process_item(feed(7))
    pipeline.process_item(found([f"{BASE}/news/1"]))  # the spider reads the frontier at idle
    assert _committed(pipeline) == 7 and archive.commits == start + 4
    pipeline.process_item(feed(8))
    pipeline.crawler.signals.send_catch_log(signals.spider_idle, spider=None)
    assert _committed(pipeline) == 8 and archive.commits == start + 5
    pipeline.process_item(feed(9))
    clock.advance(5)  # the timer of the batch committed at idle was cancelled: nothing to do
    assert archive.commits == start + 6
    pipeline.process_item(feed(10))
    pipeline.close_spider()
    assert _committed(pipeline) == 10 and archive.commits == start + 7
    assert not clock.getDelayedCalls()
    stats = pipeline.crawler.stats
    assert stats is not None and stats.get_value("mediawatch/batch_commits") == 7
    path = archive.path
    pipeline.spider_closed(reason="finished")
    assert query(path, "select finish_reason, pages_new from crawl_runs") == [("finished", 10)]


def test_the_pipeline_counts_a_failing_item_and_keeps_the_batch(tmp_path: Path) -> None:
    pipeline, _ = _pipeline(tmp_path, MEDIAWATCH_BATCH_ITEMS=4)
    bad = FetchedPage(source_id="nowhere", url=f"{BASE}/x", kind="feed", discovered_via="x",
                      fetched_at=WHEN, status=200)
    for item in (feed(1), bad, feed(2), feed(3)):
        pipeline.process_item(item)
    assert _committed(pipeline) == 3
    stats = pipeline.crawler.stats
    assert stats is not None and stats.get_value("mediawatch/store_errors") == 1
    pipeline.close_spider()
    pipeline.spider_closed(reason="finished")


def test_batch_items_1_commits_every_item(tmp_path: Path) -> None:
    pipeline, clock = _pipeline(tmp_path, MEDIAWATCH_BATCH_ITEMS=1)
    assert pipeline.archive is not None
    start = pipeline.archive.commits
    for n in range(1, 4):
        pipeline.process_item(feed(n))
        assert _committed(pipeline) == n
    assert pipeline.archive.commits == start + 3 and not clock.getDelayedCalls()
    pipeline.close_spider()
    pipeline.spider_closed(reason="finished")


def test_a_crawl_in_one_never_full_batch_stores_everything(crawled: Crawl, tmp_path: Path
                                                          ) -> None:
    """Nothing waits for an uncommitted row: the frontier is committed before idle reads it."""
    big = crawl_web(crawled.web, tmp_path, "-s", "MEDIAWATCH_BATCH_ITEMS=100000",
                    "-s", "MEDIAWATCH_BATCH_SECONDS=3600")
    assert big.result.returncode == 0, big.result.stderr[-2000:]
    sql = "select id, title, published, text from articles order by id"
    assert query(big.db, sql) == query(crawled.db, sql)
    assert len(query(big.db, sql)) > 20
    sql = "select url, status, outcome from pages order by url, status"
    assert query(big.db, sql) == query(crawled.db, sql)
    stats = json.loads(query(big.db, "select stats from crawl_runs")[0][0])
    assert "mediawatch/store_errors" not in stats
    assert 0 < stats["mediawatch/batch_commits"] < stats["item_scraped_count"]


# -- WARC files and a writer killed mid-append ------------------------------------------------

CHILD = r"""
import json, os, signal, sys
import crawler.archive.warc as warc

real_open = open


class Dying:
    '''A WARC file handle whose process is SIGKILLed partway through a write.'''

    limit = None

    def __init__(self, handle):
        self.handle = handle

    def write(self, data):
        if Dying.limit is not None and self.handle.tell() + len(data) > Dying.limit:
            self.handle.write(data[:Dying.limit - self.handle.tell()])
            self.handle.flush()
            os.kill(os.getpid(), signal.SIGKILL)
        return self.handle.write(data)

    def __getattr__(self, name):
        return getattr(self.handle, name)


warc.open = lambda *a, **k: Dying(real_open(*a, **k))
store = warc.WarcStore(sys.argv[1])
for n in range(3):
    loc = store.write(url=f"http://127.0.0.2:8000/news/{n}", fetched_at="2024-02-02T00:00:00+00:00",
                      status=200, headers={"content-type": "text/html"}, body=b"<p>%d</p>" % n)
    print(json.dumps([loc.file, loc.offset, loc.length]), flush=True)
Dying.limit = store._handle.tell() + 700  # inside the next response record
store.write(url="http://127.0.0.2:8000/news/big", fetched_at="2024-02-02T00:00:00+00:00",
            status=200, headers={}, body=os.urandom(50_000))
"""


def test_a_writer_killed_mid_append_leaves_a_file_the_next_writer_repairs(
        tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    folder = warc_folder(db)
    child = subprocess.run([sys.executable, "-c", CHILD, str(folder)], cwd=ROOT,
                           capture_output=True, text=True, timeout=60)
    assert child.returncode == -signal.SIGKILL, child.stderr
    locations = [WarcLocation(*json.loads(line)) for line in child.stdout.splitlines()]
    torn = folder / locations[0].file
    assert torn.with_name(torn.name + ".open").exists()  # the killed writer's marker
    size = torn.stat().st_size
    end = locations[-1].offset + locations[-1].length
    assert size > end and intact_length(torn) == end
    # Unrepaired, a reader silently takes the torn record for a capture with a cut body.
    exchanges = list(iter_exchanges(torn, ImportReport()))
    assert len(exchanges) == 4 and len(exchanges[-1][0].body) < 50_000

    archive = Archive(db)  # the next writer: it holds the lock, so it repairs
    try:
        assert torn.stat().st_size == end
        assert not list(folder.glob("*.open"))
        report = ImportReport()
        assert len(list(iter_exchanges(torn, report))) == 3 and report.malformed == 0
        for n, location in enumerate(locations):
            assert read_warc(folder, location).body == b"<p>%d</p>" % n
        archive.sync_sources(REGISTRY)
        archive.record(feed(1))
        new = archive.db.execute("select warc_file from pages").fetchone()[0]
        assert new != torn.name  # appending never resumes a file a killed writer had open
    finally:
        archive.close()
    assert not list(folder.glob("*.open"))


def test_only_the_lock_holder_repairs_and_never_its_own_open_file(tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    store = WarcStore(warc_folder(db))
    location = store.write(url=f"{BASE}/a", fetched_at=WHEN, status=200, headers={}, body=b"a")
    path = warc_folder(db) / location.file
    marker = path.with_name(path.name + ".open")
    tail = b"\x1f\x8b\x08\x00partial"  # a gzip member's first bytes: caught mid-append
    with open(path, "ab") as handle:
        handle.write(tail)
    Archive(db, lock=False).close()  # not the writer: it must not touch a live file
    assert path.stat().st_size == location.length + len(tail) and marker.exists()
    assert store.recover() == []  # the writer skips the file it has open
    assert path.stat().st_size == location.length + len(tail)
    assert WarcStore(warc_folder(db)).recover() == [(location.file, len(tail))]
    assert path.stat().st_size == location.length and not marker.exists()
    store.close()
    assert read_warc(warc_folder(db), location).body == b"a"
