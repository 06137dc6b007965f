"""Shared fixtures (the loopback fixture web, a real crawl, a served Datasette, Redis) and
the test tiers. Helpers live in tests/helpers/.

Every test belongs to one tier, a marker: `unit` (in-process, no servers), `e2e` (real
processes over loopback HTTP), `browser` (Playwright on Debian's chromium) or `redis` (its
own redis-server). A module declares its tier with `pytestmark` (a module of mixed tiers
marks each test). Collection fails for a test with no tier, or for a unit test that uses a
fixture which starts servers (listed below), so `make test-fast` (`-m unit`) never silently
misses or mislabels one.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from helpers.archive import copy_db, make_articles_due, query
from helpers.crawl import Crawl, crawl_web, load_bench, serve
from helpers.processes import (
    CHROMIUM_ARGS,
    MEDIAWATCH,
    free_port,
    run_mediawatch,
    system_program,
    wait_for_http,
)

from demoweb import FixtureWeb

# Re-exported for test modules that import them from here.
__all__ = ["MEDIAWATCH", "Crawl", "crawl_web", "free_port", "load_bench", "make_articles_due",
           "query", "run_mediawatch", "serve", "wait_for_http"]

TIERS = ("unit", "e2e", "browser", "redis")
# Fixtures that start servers or crawls: a test using one is at least end to end.
E2E_FIXTURES = {"web", "crawled", "datasette_url", "site", "hostile", "served", "browser",
                "page", "demo_archive"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test declares a tier, and a unit test starts no server: refuse what does not."""
    problems = []
    for item in items:
        tiers = {m.name for m in item.iter_markers() if m.name in TIERS}
        # Fixtures only: a parametrized argument may share a fixture's name (`site`).
        params = set(getattr(getattr(item, "callspec", None), "params", {}))
        fixtures = set(getattr(item, "fixturenames", ())) - params
        if not tiers:
            problems.append(f"{item.nodeid}: no tier")
        elif "unit" in tiers and fixtures & (E2E_FIXTURES | {"redis_url"}):
            problems.append(f"{item.nodeid}: marked unit but starts servers "
                            f"({', '.join(sorted(fixtures & (E2E_FIXTURES | {'redis_url'})))})")
        elif "redis_url" in fixtures and "redis" not in tiers:
            problems.append(f"{item.nodeid}: uses redis_url without the redis marker")
    if problems:
        raise pytest.UsageError("test tiers (unit, e2e, browser, redis; see tests/conftest.py): "
                                + "; ".join(problems[:10]))


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


@pytest.fixture(scope="session")
def demo_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`mediawatch demo --no-serve` built once per session; tests that write copy it first."""
    folder = tmp_path_factory.mktemp("demo")
    done = run_mediawatch("demo", "--no-serve", "--dir", str(folder), timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return folder / "archive.db"


@pytest.fixture(scope="session")
def datasette_url(crawled: Crawl) -> Iterator[str]:
    """`mediawatch serve` on the crawled archive, over real HTTP."""
    with serve(crawled.db) as base:
        yield base


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A fresh redis-server on loopback for one test."""
    binary = system_program("redis-server", "MEDIAWATCH_REDIS_SERVER")
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


@pytest.fixture(scope="session")
def site(crawled: Crawl, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """A copy of the crawled archive with one vocabulary run, served by `mediawatch serve`."""
    db = copy_db(crawled.db, tmp_path_factory.mktemp("framing") / "archive.db")
    done = run_mediawatch("fightin", "--db", str(db), "--lang", "ru", "-a", "kind:state agency",
                          "-b", "exile", "--label-a", "state agency", "--label-b", "exile",
                          "--min-count", "2")
    assert done.returncode == 0, done.stderr
    with serve(db) as base:
        yield db, base


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's chromium, headless, driven by Playwright (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    executable = system_program("chromium", "MEDIAWATCH_CHROMIUM")
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=executable, headless=True,
                                     args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture()
def page(browser: Any) -> Iterator[Any]:
    """A fresh tab whose alert() is hooked (an XSS probe that runs is seen) and whose
    dialogs fail the test."""
    from helpers.browser import HOOK

    context = browser.new_context(viewport={"width": 1200, "height": 900})
    context.add_init_script(HOOK)
    tab = context.new_page()
    dialogs: list[str] = []
    tab.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    yield tab
    assert not dialogs, dialogs
    context.close()
