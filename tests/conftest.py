"""Shared fixtures: the loopback fixture web, real crawls as subprocesses, a served Datasette."""

from __future__ import annotations

import importlib.util
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest
import redis

from demoweb import FixtureWeb

MEDIAWATCH = str(Path(sys.executable).with_name("mediawatch"))


def load_bench(name: str) -> ModuleType:
    """Import a bench/ script as a module (the framing tests reuse its fixture loader)."""
    path = Path(__file__).resolve().parents[1] / "bench" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def run_mediawatch(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run the installed `mediawatch` console command as a user would."""
    return subprocess.run([MEDIAWATCH, *args], capture_output=True, text=True, timeout=timeout)


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def query(db: Path, sql: str, params: tuple = ()) -> list[tuple]:
    """Run one read query on an archive."""
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def make_articles_due(db: Path) -> int:
    """Make every stored article due for a re-check now; return how many there are."""
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("update url_state set next_due = '2000-01-01T00:00:00+00:00' "
                     "where kind = 'article' and last_status = 200")
        known = conn.execute("select count(*) from url_state where kind = 'article' "
                             "and last_status = 200").fetchone()[0]
    conn.close()
    return int(known)


@dataclass
class Crawl:
    """One finished crawl of the fixture web."""

    web: FixtureWeb
    db: Path
    sources: Path
    result: subprocess.CompletedProcess[str]
    requests: list  # the web's request log for this crawl


def crawl_web(web: FixtureWeb, workdir: Path, *extra: str) -> Crawl:
    """Crawl the whole fixture web into workdir/archive.db, loopback-only."""
    workdir.mkdir(parents=True, exist_ok=True)
    sources = workdir / "sources.toml"
    if not sources.exists():
        web.write_sources(sources)
    db = workdir / "archive.db"
    web.clear_requests()
    result = run_mediawatch("crawl", "--sources", str(sources), "--db", str(db),
                            "-s", "MEDIAWATCH_LOOPBACK_ONLY=1", *extra)
    return Crawl(web, db, sources, result, list(web.requests))


@pytest.fixture(scope="session")
def web() -> Iterator[FixtureWeb]:
    """The fixture web, served on loopback for the whole session."""
    fixture = FixtureWeb()
    fixture.start()
    try:
        yield fixture
    finally:
        fixture.stop()


@pytest.fixture(scope="session")
def crawled(web: FixtureWeb, tmp_path_factory: pytest.TempPathFactory) -> Crawl:
    """The fixture web crawled once with the real CLI."""
    web.set_epoch(0)
    crawl = crawl_web(web, tmp_path_factory.mktemp("crawl"))
    assert crawl.result.returncode == 0, crawl.result.stderr[-3000:]
    return crawl


def wait_for_http(url: str, timeout: float = 60) -> None:
    """Poll until a URL answers (a server we started ourselves on loopback)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@contextmanager
def serve(db: Path) -> Iterator[str]:
    """`mediawatch serve` on an archive, over real HTTP on loopback; yields its base URL."""
    port = free_port()
    proc = subprocess.Popen([MEDIAWATCH, "serve", "--db", str(db), "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(base + "/-/versions.json")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture(scope="session")
def datasette_url(crawled: Crawl) -> Iterator[str]:
    """`mediawatch serve` on the crawled archive, over real HTTP."""
    with serve(crawled.db) as base:
        yield base


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A fresh redis-server on loopback for one test."""
    binary = shutil.which("redis-server")
    assert binary, "redis-server is missing: `make redis` (part of `make test`) installs it"
    port = free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(tmp_path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 20
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)
