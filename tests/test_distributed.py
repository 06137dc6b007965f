"""Distributed crawling on scrapy-redis, against a real redis-server and the fixture web.

Every test starts its own redis-server on a loopback port (installed by `make redis`),
runs real `mediawatch crawl --redis` workers and one `mediawatch archiver` as
subprocesses, and checks the archive they produce against a single-process crawl.
"""

from __future__ import annotations

import re
import signal
import subprocess
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis
from conftest import MEDIAWATCH, Crawl, free_port, query, run_mediawatch

from demoweb import FixtureWeb

pytestmark = pytest.mark.redis

# A heartbeat far longer than any reactor stall on a loaded machine: a worker that is alive
# never has its leases taken back (that would fetch twice). The SIGKILL test shortens it.
# DEBUG: each request a worker sends and each item it hands off is in its log, which a
# failing assertion below quotes (a wave that missed a page once could not be explained).
FAST = ["-s", "MEDIAWATCH_LOOPBACK_ONLY=1", "-s", "MEDIAWATCH_REDIS_HEARTBEAT=15",
        "-s", "MEDIAWATCH_REDIS_IDLE_EXIT=2", "-s", "LOG_LEVEL=DEBUG"]


class Cluster:
    """An archiver and workers over one Redis, as a user would start them."""

    def __init__(self, url: str, work: Path, sources: Path) -> None:
        self.url, self.work, self.sources = url, work, sources
        self.db = work / "archive.db"
        self.workers: dict[str, subprocess.Popen[bytes]] = {}

    def archiver(self, *extra: str) -> subprocess.Popen[bytes]:
        with open(self.work / "archiver.log", "ab") as log:  # the child keeps its own copy
            return subprocess.Popen([MEDIAWATCH, "archiver", "--redis", self.url, "--db",
                                     str(self.db), "--drain", "--idle-exit", "1",
                                     "-s", "MEDIAWATCH_REDIS_LOST_AFTER=3", *extra],
                                    stdout=log, stderr=log)

    def worker(self, name: str, *extra: str) -> subprocess.Popen[bytes]:
        with open(self.work / f"{name}.log", "ab") as log:  # the child keeps its own copy
            proc = subprocess.Popen([MEDIAWATCH, "crawl", "--sources", str(self.sources),
                                     "--redis", self.url, "--worker-id", name, *FAST, *extra],
                                    stdout=log, stderr=log)
        self.workers[name] = proc
        return proc

    def log(self, name: str) -> str:
        return (self.work / f"{name}.log").read_text(errors="replace")

    def explain(self, *needles: str) -> str:
        """Every log line naming one of `needles`, then each log's tail: for a failure."""
        names = [*self.workers, "archiver"]
        logs = {n: self.log(n) if (self.work / f"{n}.log").exists() else "" for n in names}
        hits = [f"{n}: {line}" for n, text in logs.items() for line in text.splitlines()
                if any(x in line for x in needles)]
        tails = [f"--- {n} (tail)\n{text[-1500:]}" for n, text in logs.items()]
        return "\n".join([*hits[:60], *tails])

    def dequeued(self, name: str) -> int:
        found = re.search(r"'scheduler/dequeued/redis': (\d+)", self.log(name))
        return int(found.group(1)) if found else 0


def _wave(cluster: Cluster, names: tuple[str, ...] = ("w1", "w2")) -> None:
    archiver = cluster.archiver()
    for name in names:
        cluster.worker(name)
    for name in names:
        assert cluster.workers[name].wait(timeout=300) == 0, cluster.log(name)[-3000:]
    assert archiver.wait(timeout=120) == 0, (cluster.work / "archiver.log").read_text()[-3000:]


def _setup(web: FixtureWeb, tmp_path: Path, redis_url: str, delay: float | None = None,
           concurrency: int | None = None) -> Cluster:
    sources = web.write_sources(tmp_path / "sources.toml")
    text = sources.read_text()
    if delay is not None:
        text = re.sub(r"download_delay = [0-9.]+", f"download_delay = {delay}", text)
    if concurrency is not None:
        text = re.sub(r"concurrency = \d+", f"concurrency = {concurrency}", text)
    sources.write_text(text)
    return Cluster(redis_url, tmp_path, sources)


def _fetches(requests: list) -> Counter[str]:
    return Counter(r.host + r.path for r in requests if not r.path.endswith("/robots.txt"))


def test_two_workers_store_every_article_exactly_once(
        web: FixtureWeb, crawled: Crawl, tmp_path: Path, redis_url: str) -> None:
    web.set_epoch(0)
    # A polite delay makes the wave outlast a worker's start-up on a loaded machine: with
    # none, the first worker fetched all 55 pages before the second had started.
    cluster = _setup(web, tmp_path, redis_url, delay=0.5)
    web.clear_requests()
    _wave(cluster)
    want = {r[0] for r in query(crawled.db, "select id from articles")}
    got = {r[0] for r in query(cluster.db, "select id from articles")}
    fetched, single = _fetches(web.requests), _fetches(crawled.requests)
    odd = sorted(k for k in fetched.keys() | single.keys() if fetched[k] != single[k])
    assert got == want, cluster.explain(*odd, *(want ^ got))
    # Same facts as the single-process crawl, article by article.
    facts = "select id, title, published, lang, on_topic from articles order by id"
    assert query(cluster.db, facts) == query(crawled.db, facts)
    assert query(cluster.db, "select capture_key from pages group by 1 having count(*) > 1") == []
    # Each URL was requested as often as by one process (once; a redirect target that is
    # also a seed twice, by design): two workers never fetched the same thing twice.
    assert fetched == single, cluster.explain(*odd)
    # Both workers took requests from the shared queue.
    assert cluster.dequeued("w1") > 0 and cluster.dequeued("w2") > 0
    runs = query(cluster.db, "select finish_reason, requests, articles_new from crawl_runs")
    assert runs == [("finished", len(web.requests), len(want))]
    assert query(cluster.db, "pragma integrity_check") == [("ok",)]
    # Stories are brought up to date after the wave, as after a one-process crawl.
    links = "select count(*) from story_articles"
    assert query(cluster.db, links) == query(crawled.db, links) != [(0,)]
    # The frontier is empty and no lease is left behind.
    client = redis.Redis.from_url(redis_url)
    assert client.hlen("mediawatch:lease:owner") == 0
    assert client.zcard("mediawatch:ready") == 0
    assert client.llen("mediawatch:items") == 0


def test_outlet_delay_holds_across_workers(web: FixtureWeb, tmp_path: Path,
                                           redis_url: str) -> None:
    delay = 0.4
    cluster = _setup(web, tmp_path, redis_url, delay=delay, concurrency=2)
    web.clear_requests()
    _wave(cluster)
    assert cluster.dequeued("w1") > 0 and cluster.dequeued("w2") > 0
    times: dict[str, list[float]] = defaultdict(list)
    for r in web.requests:
        if not r.path.endswith("/robots.txt"):  # each worker checks robots.txt itself
            times[r.outlet].append(r.time)
    gaps = {outlet: [b - a for a, b in zip(sorted(ts), sorted(ts)[1:], strict=False)]
            for outlet, ts in times.items() if len(ts) > 1}
    assert len(gaps) == 5
    # Two workers with a per-worker delay would interleave at about half the delay: half the
    # gaps near zero, the outlet served twice as fast. The gate is taken just before the wire,
    # and a busy machine can still hold one request back after it (clean-clone runs saw one
    # gap of 0.298 s after one of 0.5 s, and a first gap of 0.171 s: the first request of a
    # worker waited on its new connection). So the test is the outlet's rate over the wave
    # (its gaps average at least three quarters of the delay) and at most one gap (one late
    # request) under half of it.
    for outlet, spaced in gaps.items():
        assert len(spaced) >= 4, (outlet, spaced)
        assert sum(spaced) >= 0.75 * delay * len(spaced), (outlet, spaced)
        assert sum(g < 0.5 * delay for g in spaced) <= 1, (outlet, sorted(spaced)[:3])
    # exile's robots.txt asks Crawl-delay: 1: it holds across workers from the first request.
    exile = gaps["exile"]
    assert sum(exile) >= 0.75 * len(exile) and sum(g < 0.5 for g in exile) <= 1, exile


def test_sigkill_of_one_worker_loses_nothing(web: FixtureWeb, crawled: Crawl, tmp_path: Path,
                                              redis_url: str) -> None:
    web.set_epoch(0)
    want = {r[0] for r in query(crawled.db, "select id from articles")}
    cluster = _setup(web, tmp_path, redis_url, delay=0.1, concurrency=1)
    web.clear_requests()
    archiver = cluster.archiver()
    victim = cluster.worker("w1", "-s", "MEDIAWATCH_REDIS_HEARTBEAT=3")
    survivor = cluster.worker("w2", "-s", "MEDIAWATCH_REDIS_HEARTBEAT=3")
    client = redis.Redis.from_url(redis_url)

    def victim_holds_work() -> bool:
        return any(owner.startswith(b"w1|") for owner in client.hvals("mediawatch:lease:owner"))

    deadline = time.monotonic() + 120
    # Mid-crawl, and while the victim holds leased requests: they must not be lost.
    while len(web.requests) < len(crawled.requests) // 3 or not victim_holds_work():
        assert time.monotonic() < deadline and victim.poll() is None
        time.sleep(0.01)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    assert survivor.wait(timeout=300) == 0, cluster.log("w2")[-3000:]
    assert archiver.wait(timeout=120) == 0, (cluster.work / "archiver.log").read_text()[-3000:]
    assert {r[0] for r in query(cluster.db, "select id from articles")} == want
    assert query(cluster.db, "select capture_key from pages group by 1 having count(*) > 1") == []
    assert query(cluster.db, "pragma integrity_check") == [("ok",)]
    (reason,), = query(cluster.db, "select finish_reason from crawl_runs")
    assert reason.startswith("finished; lost worker(s) w1"), reason
    assert client.hlen("mediawatch:lease:owner") == 0 and client.zcard("mediawatch:ready") == 0


def test_fingerprints_expire_so_feeds_are_polled_again_conditionally(
        web: FixtureWeb, tmp_path: Path, redis_url: str) -> None:
    web.set_epoch(0)
    cluster = _setup(web, tmp_path, redis_url)
    _wave(cluster, ("w1",))
    client = redis.Redis.from_url(redis_url)
    ttls = [client.ttl(k) for k in client.scan_iter("mediawatch:fp:*")]
    assert ttls and all(t > 0 for t in ttls)  # every fingerprint expires
    assert max(ttls) > 23 * 3600  # articles: MEDIAWATCH_REDIS_ARTICLE_TTL_HOURS = 24
    assert min(ttls) <= 15 * 60  # discovery documents: the outlets' poll_min_minutes
    # Right away, a second wave fetches nothing at all: everything is fresh.
    web.clear_requests()
    _wave(cluster, ("w2",))
    assert web.requests == []
    # As if poll_min_minutes had passed: documents are polled again, conditionally.
    for key in client.scan_iter("mediawatch:fp:*"):
        if client.ttl(key) <= 15 * 60:
            client.expire(key, 1)
    time.sleep(1.5)
    web.clear_requests()
    _wave(cluster, ("w3",))
    polled = [r for r in web.requests if not r.path.endswith("robots.txt")]
    assert polled and any(r.status == 304 for r in polled)
    assert all("if-none-match" in {h.lower() for h in r.headers} or
               "if-modified-since" in {h.lower() for h in r.headers}
               for r in polled if r.status == 304)
    # A sitemap index is fetched in full (a 304 would hide the sitemaps it lists from every
    # worker), so the sitemaps it lists are polled too, conditionally.
    indexes = {i.decode() for i in client.smembers("mediawatch:indexes")}
    assert {urlsplit(u).path for u in indexes} == {"/tms/wp-sitemap.xml", "/sitemap.xml"}
    sitemaps = {r.path: r.status for r in polled if "sitemap" in r.path}
    assert sitemaps["/tms/wp-sitemap.xml"] == sitemaps["/sitemap.xml"] == 200, sitemaps
    assert sitemaps["/tms/wp-sitemap-posts-post-1.xml"] == 304, sitemaps
    assert sitemaps["/sitemap/news.xml.gz"] == 304, sitemaps
    assert len(query(cluster.db, "select id from crawl_runs")) == 3


def test_worker_errors_say_how_to_fix_them(web: FixtureWeb, tmp_path: Path,
                                           redis_url: str) -> None:
    sources = web.write_sources(tmp_path / "sources.toml")
    dead = f"redis://127.0.0.1:{free_port()}/0"
    result = run_mediawatch("crawl", "--sources", str(sources), "--redis", dead, timeout=60)
    assert result.returncode != 0 and "cannot reach Redis" in result.stderr
    assert "Traceback" not in result.stderr
    result = run_mediawatch("crawl", "--sources", str(sources), "--redis", redis_url, "--due",
                            timeout=60)
    assert result.returncode != 0 and "expiring fingerprints" in result.stderr
    # One archiver per prefix: a second one would split the items between two files.
    cluster = Cluster(redis_url, tmp_path, sources)
    first = subprocess.Popen([MEDIAWATCH, "archiver", "--redis", redis_url, "--db",
                              str(tmp_path / "one.db")], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        client = redis.Redis.from_url(redis_url)
        deadline = time.monotonic() + 30
        while not client.exists("mediawatch:archiver"):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        second = run_mediawatch("archiver", "--redis", redis_url, "--db",
                                str(tmp_path / "two.db"), "--drain", timeout=60)
        assert second.returncode != 0 and "another archiver" in second.stderr
        assert cluster.db.exists() is False
    finally:
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=30) == 0


class _Monitor:
    """Every command Redis runs, in order (MONITOR), from a thread."""

    def __init__(self, url: str) -> None:
        self.commands: list[str] = []
        self._client = redis.Redis.from_url(url)
        self._monitor = self._client.monitor()
        self._monitor.__enter__()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            for entry in self._monitor.listen():
                self.commands.append(entry["command"])
        except Exception:  # stop() closed the connection under it (any error of redis-py's)
            return

    def stop(self) -> list[str]:
        self._client.set("monitor-stop", 1)
        deadline = time.monotonic() + 20
        while not any(c.startswith("SET monitor-stop") for c in self.commands):
            assert time.monotonic() < deadline, "MONITOR fell behind"
            time.sleep(0.05)
        self._monitor.connection.disconnect()
        return self.commands


def test_a_lease_is_acked_only_after_every_request_its_response_queued(
        web: FixtureWeb, tmp_path: Path, redis_url: str) -> None:
    # A feed's lease acked once its listing reached the archiver queue, while the article
    # requests it yielded still waited in Scrapy's scraper: a worker killed between lost them
    # for the wave (nothing else knew them). Read from Redis' own log of commands: for every
    # response, each request it queued is pushed before the response's lease is released.
    web.set_epoch(0)
    cluster = _setup(web, tmp_path, redis_url)
    monitor = _Monitor(redis_url)
    _wave(cluster, ("w1",))
    commands = monitor.stop()
    document_of: dict[str, str] = {}  # lease -> URL of the response it was leased for
    acked: dict[str, int] = {}
    pushed: dict[str, list[int]] = defaultdict(list)  # document URL -> positions of pushes
    for i, command in enumerate(commands):
        if command.startswith("LPUSH mediawatch:items"):
            lease = re.search(r'"lease": "([0-9a-f]{32})"', command)
            url = re.search(r'"(?:url|document)": "([^"]+)"', command)
            if lease and url:
                document_of.setdefault(lease.group(1), url.group(1))
        elif command.startswith("HDEL mediawatch:lease:data "):
            acked.setdefault(command.rsplit(" ", 1)[1], i)
        elif command.startswith("EVALSHA") and " mediawatch:q:" in command \
                and '"redirect_urls"' not in command and '"retry_times"' not in command:
            # (a redirect or a retry goes back to the queue on its own lease)
            origin = re.search(r'"from": "([^"]+)"', command)
            if origin:
                pushed[origin.group(1)].append(i)
    listings = {lease: url for lease, url in document_of.items() if pushed.get(url)}
    assert len(listings) >= 5, listings  # feeds, sitemaps and sections of five outlets
    late = {url: (acked[lease], max(pushed[url])) for lease, url in listings.items()
            if lease in acked and acked[lease] < max(pushed[url])}
    assert late == {}, late
    assert set(listings) <= set(acked)  # and every lease was released in the end
    assert query(cluster.db, "select count(*) from articles") != [(0,)]


def test_pages_a_pipeline_raised_on_in_a_worker_reach_the_archive_as_errors(
        tmp_path: Path, redis_url: str) -> None:
    """A worker's pipeline that raises on a page (a user's own, or ours on a bug) costs no
    fetched page: the worker hands it to the archiver as a failed extraction with its capture,
    keeping nothing derived from an extraction (crawler.ingest.extraction.fail_extraction)."""
    import json

    from helpers.failing_pipeline import importable_env
    from helpers.miniweb import T0, MiniWeb, at

    pipelines = {"helpers.failing_pipeline.FailOn": 200,
                 "helpers.failing_pipeline.FailAfter": 500}
    db = tmp_path / "archive.db"
    with MiniWeb("wire") as web:
        web["wire"].add(T0, 8)
        sources = web.write_sources(tmp_path / "sources.toml")
        worker = at(T0, "crawl", "--sources", str(sources), "--redis", redis_url,
                    "--worker-id", "w1", *FAST, "-s", f"ITEM_PIPELINES={json.dumps(pipelines)}",
                    "-s", "TEST_FAIL_BEFORE=/news/story-3",
                    "-s", "TEST_FAIL_AFTER=/news/story-5", env=importable_env())
    assert worker.returncode == 0, worker.stderr[-3000:]
    archiver = at(T0, "archiver", "--redis", redis_url, "--db", str(db), "--drain",
                  "--idle-exit", "1")
    assert archiver.returncode == 0, archiver.stderr[-3000:]
    rows = dict(query(db, "SELECT substr(url, instr(url, '/news/')), extraction_status || ' ' "
                          "|| coalesce(extraction_error, '') FROM articles"))
    # Nothing an extraction would have given is kept beside the error (no text, no search
    # columns of a text, no topic match).
    derived = query(db, "SELECT count(*) FROM articles WHERE extraction_status = 'error' AND "
                        "(coalesce(text, '') != '' OR coalesce(search_text, '') != '' "
                        "OR on_topic = 1)")
    captures = dict(query(db, "SELECT substr(url, instr(url, '/news/')), warc_offset "
                              "FROM pages WHERE kind = 'article'"))
    assert len(rows) == 8, (rows, worker.stderr[-3000:])
    assert rows["/news/story-3"] == "error pipeline: RuntimeError: boom in FailOn"
    assert rows["/news/story-5"] == "error pipeline: RuntimeError: boom in FailAfter"
    assert derived == [(0,)]
    assert all(v.startswith("ok") for k, v in rows.items()
               if k not in ("/news/story-3", "/news/story-5")), rows
    assert len(captures) == 8 and all(off is not None for off in captures.values()), captures
