"""An extraction worker that dies costs no fetched page: the pool is replaced, the page retried.

A worker can die under a crawl (the OOM killer picks the process parsing a huge page; a C
extension crashes on hostile markup). Python's process pool is then broken for good; before
RestartingPool, every article fetched after the death was dropped with no error counted.
The unit tests kill real worker processes (os._exit in the job); the crawl test SIGKILLs a
real crawl's workers while it runs on a loopback outlet.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import pytest
from helpers.miniweb import T0, MiniWeb, crawl_at
from helpers.processes import MEDIAWATCH

from crawler.ingest.workers import RestartingPool, WorkerDied


def _pool() -> ProcessPoolExecutor:
    return ProcessPoolExecutor(2, mp_context=get_context("fork"))


def double(x: int) -> int:
    """A job that works."""
    time.sleep(0.05)  # so that several are in flight when a worker dies
    return 2 * x


def die(marker: str | None = None) -> int:
    """A job that kills its worker: every time, or (with a marker file) only the first time."""
    if marker is None or not os.path.exists(marker):
        if marker is not None:
            Path(marker).touch()
        os._exit(1)
    return -1


async def _gather_in(pool: RestartingPool, jobs: list[tuple[Any, ...]]) -> list[Any]:
    return await asyncio.gather(*(pool.run(*job) for job in jobs), return_exceptions=True)


def _gather(pool: RestartingPool, jobs: list[tuple[Any, ...]]) -> list[Any]:
    """The jobs' results, from an event loop of their own (in a thread: a test before this one
    may have left a loop marked running in the main thread, as a crawl's reactor does)."""
    out: list[list[Any]] = []
    thread = threading.Thread(target=lambda: out.append(asyncio.run(_gather_in(pool, jobs))))
    thread.start()
    thread.join()
    return out[0]


@pytest.mark.unit
def test_a_worker_that_dies_once_costs_no_job(tmp_path: Path) -> None:
    pool = RestartingPool(_pool)
    try:
        jobs = [(double, i) for i in range(6)] + [(die, str(tmp_path / "once"))] + \
               [(double, i) for i in range(6, 12)]
        results = (_gather(pool, jobs))
    finally:
        pool.shutdown()
    assert results == [0, 2, 4, 6, 8, 10, -1, 12, 14, 16, 18, 20, 22]
    assert pool.restarts == 1


@pytest.mark.unit
def test_a_job_that_kills_every_worker_fails_alone_and_the_pool_goes_on() -> None:
    pool = RestartingPool(_pool)
    try:
        first = (_gather(pool, [(die,)]))
        later = (_gather(pool, [(double, i) for i in range(4)]))
    finally:
        pool.shutdown()
    assert isinstance(first[0], WorkerDied) and "died twice on this page" in str(first[0])
    assert later == [0, 2, 4, 6]
    assert pool.restarts == 2  # once for the first death, once for the retry's


@pytest.mark.unit
def test_workers_that_keep_dying_are_not_restarted_forever() -> None:
    pool = RestartingPool(_pool, max_restarts=1)
    try:
        results = (_gather(pool, [(die,), (double, 1)]))
        after = (_gather(pool, [(double, 2)]))
    finally:
        pool.shutdown()
    assert isinstance(results[0], WorkerDied)
    assert pool.restarts == 1
    assert isinstance(after[0], WorkerDied) and "no new pool" in str(after[0])


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            out.append(int(stat.parent.name))
    return out


def _workers(crawl: int) -> list[int]:
    """The crawl's extraction workers: children of its fork server (itself a child)."""
    servers = [p for p in _children(crawl)
               if b"forkserver" in Path(f"/proc/{p}/cmdline").read_bytes()]
    return [w for s in servers for w in _children(s)]


@pytest.mark.e2e
def test_a_crawl_whose_workers_are_killed_stores_every_article(tmp_path: Path) -> None:
    released = threading.Event()
    with MiniWeb("wire") as web:
        outlet = web["wire"]
        outlet.add(T0, 24)
        served = outlet.respond

        def respond(path: str) -> tuple[int, str, bytes]:
            # Five articles at once; the rest only after the workers were killed, so that
            # they reach a pool that is broken.
            if path.startswith("/news/") and \
                    sum(p.startswith("/news/") for p in outlet.requests) >= 5:
                released.wait(60)
            return served(path)

        outlet.respond = respond  # type: ignore[method-assign]
        sources = web.write_sources(tmp_path / "sources.toml")
        db = tmp_path / "archive.db"
        env = {**os.environ, "MEDIAWATCH_NOW": T0.isoformat()}
        with subprocess.Popen([MEDIAWATCH, "crawl", "--sources", str(sources), "--db", str(db),
                               "-s", "MEDIAWATCH_LOOPBACK_ONLY=1", "-s",
                               "MEDIAWATCH_EXTRACT_WORKERS=2"], env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) as crawl:
            try:
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline and (
                        sum(p.startswith("/news/") for p in outlet.requests) < 5
                        or not _workers(crawl.pid)):
                    time.sleep(0.05)
                time.sleep(1)  # the first five are extracted (or in a worker) by now
                killed = _workers(crawl.pid)
                assert killed, "no extraction worker found to kill"
                for pid in killed:
                    os.kill(pid, signal.SIGKILL)
            finally:
                released.set()
            out, err = crawl.communicate(timeout=120)
    assert crawl.returncode == 0, err[-3000:]
    conn = sqlite3.connect(db)
    statuses = dict(conn.execute(
        "SELECT extraction_status, count(*) FROM articles GROUP BY 1").fetchall())
    stats = json.loads(conn.execute("SELECT stats FROM crawl_runs").fetchone()[0])
    conn.close()
    assert statuses == {"ok": 24}, (statuses, err[-3000:])
    assert stats["mediawatch/extraction_worker_restarts"] >= 1
    assert "extraction workers died and were restarted" in out and "(see the log)" in out


@pytest.mark.unit
def test_the_crawl_summary_names_restarts_and_fetches_not_stored() -> None:
    from crawler.cli.crawl import _stats_notes

    assert _stats_notes(json.dumps({"downloader/request_count": 9})) == ""
    assert _stats_notes(None) == ""
    assert _stats_notes(json.dumps({"mediawatch/extraction_worker_restarts": 2,
                                    "mediawatch/store_errors": 3,
                                    "mediawatch/pipeline_errors": 1})) == (
        "; extraction workers died and were restarted 2 times; 3 fetches could not be stored "
        "(fetched again next time); 1 pages failed in a pipeline (stored as extraction errors)"
        " (see the log)")


@pytest.mark.unit
def test_bulk_extraction_keeps_its_order_through_a_death_and_fails_a_poison_page_alone(
        tmp_path: Path) -> None:
    from crawler.backfill.pool import ExtractionPool

    pool: ExtractionPool[int] = ExtractionPool(2, None, None)  # type: ignore[arg-type]
    try:
        jobs = [(i, (i,)) for i in range(40)]
        jobs[5] = (5, ("once",))   # kills its worker the first time only
        jobs[30] = (30, ("always",))  # kills every worker that runs it
        jobs[31] = (31, None)  # not extracted: keeps its place
        out = list(pool.map(_bulk_job, ((i, None if a is None else (*a, str(tmp_path)))
                                        for i, a in jobs)))
    finally:
        pool.close()
    assert [i for i, _ in out] == list(range(40))
    values = dict(out)
    assert values[5] == -1 and values[31] is None
    assert isinstance(values[30], WorkerDied)
    wrong = {i: v for i, v in values.items() if i not in (5, 30, 31) and v != 2 * i}
    assert not wrong
    assert 2 <= pool.restarts <= 3


def _bulk_job(x: int | str, folder: str) -> int:
    if x == "once":
        return die(os.path.join(folder, "once"))
    if x == "always":
        return die()
    assert isinstance(x, int)
    return double(x)


@pytest.mark.unit
def test_retries_run_one_at_a_time_so_a_poison_page_takes_no_other_page_with_it() -> None:
    pool = RestartingPool(_pool)
    try:
        jobs = [(double, i) for i in range(8)] + [(die,)] + [(double, i) for i in range(8, 16)]
        results = (_gather(pool, jobs))
    finally:
        pool.shutdown()
    assert isinstance(results[8], WorkerDied)
    assert results[:8] + results[9:] == [2 * i for i in range(16)]


@pytest.mark.e2e
def test_reextract_through_a_worker_death_rewrites_every_article_and_says_so(
        tmp_path: Path) -> None:
    with MiniWeb("wire") as web:
        web["wire"].add(T0, 60)
        sources = web.write_sources(tmp_path / "sources.toml")
        db = tmp_path / "archive.db"
        assert crawl_at(T0, sources, db).returncode == 0
    with subprocess.Popen([MEDIAWATCH, "reextract", "--sources", str(sources), "--db", str(db),
                           "--jobs", "2"], text=True, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE) as run:
        # Its workers are forked by the command itself: kill both as soon as they exist.
        deadline, killed = time.monotonic() + 60, []
        while time.monotonic() < deadline and run.poll() is None and not killed:
            workers = [p for p in _children(run.pid)
                       if b"resource_tracker" not in Path(f"/proc/{p}/cmdline").read_bytes()]
            if len(workers) >= 2:
                for pid in workers:
                    os.kill(pid, signal.SIGKILL)
                killed = workers
            time.sleep(0.005)
        out, err = run.communicate(timeout=120)
    assert killed, "the workers were never seen"
    assert run.returncode == 0, err[-3000:]
    assert "re-extracted 60 articles" in out, out
    assert "extraction workers died and were restarted" in out, out
    conn = sqlite3.connect(db)
    statuses = dict(conn.execute(
        "SELECT extraction_status, count(*) FROM articles GROUP BY 1").fetchall())
    conn.close()
    assert statuses == {"ok": 60}, (statuses, out, err[-2000:])
