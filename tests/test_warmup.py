"""Crawl workers start with the extractor's one-off loading done, by their fork server.

crawler.ingest.warmup reads built-in pages in the fork server (its preload), so that each
worker forked from it inherits the loaded caches instead of paying for them on its first
pages (bench: ~0.2 s of CPU a worker, every crawl)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[1]

# eval of a string: the worker imports nothing to run it, so what it finds loaded came from
# the fork server.
SCRIPT = """
import os
from crawler.ingest.extraction import start_crawl_workers, worker_pool
start_crawl_workers()
pool = worker_pool(1)
mods = "__import__('sys').modules"
expr = (f"(__import__('os').getpid(), {mods}['crawler.ingest.warmup'].PID, "
        f"{mods}['crawler.ingest.warmup'].SECONDS, "
        f"{mods}['crawler.ingest.extraction']._lexicon.cache_info().currsize)")
print(pool.submit(eval, expr).result(), os.getpid())
pool.shutdown()
"""


def test_a_crawl_worker_inherits_the_warm_up_of_its_fork_server() -> None:
    out = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True,
                         text=True, timeout=120, check=True).stdout
    (worker, warmed_in, seconds, lexicons), crawl = eval(out.rsplit(" ", 1)[0]), int(out.split()[-1])
    assert warmed_in not in (worker, crawl)  # done once, by the server, before it forked
    assert seconds > 0  # the warm-up ran and did not fail
    assert lexicons == 1  # the default lexicon is in the worker's cache already


def test_the_built_in_pages_take_the_whole_extraction_path() -> None:
    from crawler.archive.prepare import stored_text
    from crawler.framing.lexicon import LEXICON_PATH, load_lexicon
    from crawler.ingest.extraction import framing_analysis
    from crawler.ingest.warmup import _PAGES, _pages
    from extract import extract_article

    lexicon = load_lexicon(str(LEXICON_PATH))
    seen = {}
    for url, body in _pages():
        result = extract_article(body, url, content_type="text/html; charset=utf-8")
        seen[url.split("/")[3]] = result
        assert result.status == "ok"
    for lang in ("en", "ru", "hy"):
        title, author, _, _ = _PAGES[lang]
        got = seen[lang]
        assert (got.title, got.author, got.date, got.lang) == (title, author, "2025-05-12", lang)
        analysis = framing_analysis(lexicon, got.title, stored_text(got), got.lang, features=True)
        assert analysis["mentions"] and analysis["features"]
    assert seen["undated"].date_source == "htmldate"  # the page-text date search ran too


BULK = """
import os
from crawler.backfill.pool import ExtractionPool
from crawler.registry.model import Topic
pool = ExtractionPool(2, Topic(id="t", name="T", require=(("x",),)), None)
expr = "(__import__('os').getpid(), __import__('sys').modules['crawler.ingest.warmup'].PID)"
print(pool._keeper.pool.submit(eval, expr).result(), os.getpid())
pool.close()
"""


def test_bulk_extraction_workers_inherit_the_warm_up_of_the_command() -> None:
    out = subprocess.run([sys.executable, "-c", BULK], cwd=ROOT, capture_output=True,
                         text=True, timeout=120, check=True).stdout
    (worker, warmed_in), command = eval(out.rsplit(" ", 1)[0]), int(out.split()[-1])
    assert warmed_in == command != worker  # warmed before the fork, by the command
