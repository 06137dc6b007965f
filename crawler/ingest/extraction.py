"""The one extraction path: crawl, WARC import and re-extraction all go through here."""

from __future__ import annotations

import atexit
import os
import sys
import threading
import time
from collections import Counter, deque
from concurrent.futures import ProcessPoolExecutor
from functools import lru_cache
from multiprocessing import get_all_start_methods, get_context
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crawler.archive.prepare import Prepared, prepare, stored_text
from crawler.framing.kwic import analysis_key
from crawler.ingest.budget import PAGE_CPU_SECONDS, OverBudget, cpu_budget
from crawler.items import FetchedPage
from crawler.registry.model import Source
from crawler.registry.topic import TopicMatcher
from extract.titles import learn_affixes

if TYPE_CHECKING:
    from crawler.framing.lexicon import Lexicon
    from crawler.registry.model import Topic
    from extract import ArticleResult


class TitleMemory:
    """The raw <title>s of each outlet's recent pages, and the affixes they repeat.

    extract_article is pure and sees one page; an outlet's suffix that differs from its
    registry name ("… | NTV Haber") shows only across pages. The extraction pipeline keeps
    one of these for a crawl and passes what it learned as the ``title_affixes`` hint.
    """

    def __init__(self, per_outlet: int = 200) -> None:
        self._titles: dict[str, deque[str]] = {}
        self._affixes: dict[str, list[str]] = {}
        self._seen: Counter[str] = Counter()  # titles kept per outlet, ever
        self._per_outlet = per_outlet

    def remember(self, source_id: str, result: ArticleResult | None) -> None:
        """Keep the raw title of an extracted page of an outlet."""
        if result is None or not result.page_title or result.status == "not_article":
            return
        titles = self._titles.setdefault(source_id, deque(maxlen=self._per_outlet))
        titles.append(result.page_title)
        self._seen[source_id] += 1
        # Relearn now and then, not per page: at first every page, then every tenth (counted
        # over all pages: the memory's length stops at its cap).
        seen = self._seen[source_id]
        if seen < 10 or seen % 10 == 0:
            self._affixes[source_id] = learn_affixes(titles)

    def affixes(self, source_id: str) -> list[str]:
        """The title affixes learned for an outlet so far (empty at first)."""
        return self._affixes.get(source_id, [])


def extraction_hints(page: FetchedPage, source: Source | None,
                     titles: TitleMemory | None = None) -> dict[str, Any]:
    """The hints extract_article gets for a page: feed/sitemap evidence, headers, registry."""
    hints: dict[str, Any] = dict(page.hints)
    hints.update(
        content_type=page.content_type,
        last_modified=page.headers.get("last-modified"),
        first_seen=page.fetched_at,
    )
    if source is not None:
        hints.update(source.extraction_hints())
    if titles is not None and (affixes := titles.affixes(page.source_id)):
        hints["title_affixes"] = affixes
    return hints


def wants_extraction(page: FetchedPage) -> bool:
    """Only successful article fetches with a body are extracted."""
    return (page.kind == "article" and not page.error and page.status == 200
            and bool(page.body))


def fail_extraction(page: FetchedPage, error: str) -> None:
    """Record that an article fetch could not be extracted (its worker died, a pipeline
    raised): an error result, and nothing derived from an extraction (topic match, framing
    analysis, prepared search columns) left beside it. A fetch that is no article to
    extract, or whose body is the one already archived, keeps what it has."""
    if not wants_extraction(page) or page.unchanged:
        return
    from extract import ArticleResult

    page.extraction = ArticleResult(status="error", error=error)
    page.topic = page.framing = page.prepared = None


def fail_in_pipeline(page: FetchedPage, failure: Any) -> None:
    """fail_extraction for a page an item pipeline raised on (Scrapy's item_error signal gives
    a Twisted Failure): "pipeline: RuntimeError: what it said", the same in every crawl mode."""
    message = failure.getErrorMessage() if failure is not None else "unknown"
    kind = failure.type.__name__ if failure is not None and failure.type else "Error"
    fail_extraction(page, f"pipeline: {kind}: {message}")


def apply_result(page: FetchedPage, result: ArticleResult, matcher: TopicMatcher) -> FetchedPage:
    """Attach an extraction result and its topic match to a page."""
    page.extraction = result
    page.topic = None if result.status == "not_article" else matcher.match(result.title,
                                                                             result.text)
    return page


def framing_analysis(lexicon: Lexicon, title: str | None, text: str | None,
                     lang: str | None, features: bool = False) -> dict[str, Any]:
    """Mentions and KWIC lines of one article (crawler.framing.kwic), tagged for reuse;
    with `features`, also its story features (crawler.framing.featblob) for the next build."""
    from crawler.framing.kwic import analyse

    mentions, lines = analyse(lexicon, title, text, lang)
    out: dict[str, Any] = {"lexicon": lexicon.version, "key": analysis_key(title, text, lang),
                           "mentions": mentions, "kwic": lines}
    if features and text:
        from crawler.framing import featblob
        from crawler.framing.features import featurize

        # The concept hits the story build would read back from the KWIC rows.
        hits = sorted((k["offset"], k["offset"] + len(k["hit"]), k["concept"]) for k in lines
                      if k["kind"] == "naming" and k["field"] == "text")
        out["features"] = featblob.encode(featurize(title or "", text, lang or "", lexicon, hits))
        out["features_key"] = featblob.features_key(title, text, lang, lexicon.version)
    return out


@lru_cache(maxsize=4)
def _matcher(topic: Topic) -> TopicMatcher:
    return TopicMatcher(topic)


@lru_cache(maxsize=4)
def _lexicon(path: str) -> Lexicon:
    from crawler.framing.lexicon import load_lexicon

    return load_lexicon(path)


# CPU seconds of the last extract_article call in this process (read by extract_prepared).
_extract_cpu = [0.0]


def extract_and_analyse(body: bytes, url: str, hints: dict[str, Any], topic: Topic,
                        lexicon_path: str | None) -> tuple[ArticleResult, Any, Any]:
    """Everything CPU-bound about one article page, for a worker process.

    Extraction, the topic match and the framing analysis all run here, off the process
    that downloads and writes: (result, topic match or None, framing analysis or None).
    The matcher and lexicon are built once per worker process. In a worker, within the
    pool's CPU budget per page (crawler.ingest.budget): a page over it comes back as an
    extraction error."""
    try:
        with cpu_budget(_budget):
            return _extract_and_analyse(body, url, hints, topic, lexicon_path)
    except OverBudget as exc:
        from extract import ArticleResult

        size = f"{len(body) / 1e6:.1f} MB" if len(body) >= 100_000 else f"{len(body) / 1e3:.0f} kB"
        return ArticleResult(status="error", error=f"OverBudget: {exc} (a page of {size})"), \
            None, None


def _extract_and_analyse(body: bytes, url: str, hints: dict[str, Any], topic: Topic,
                         lexicon_path: str | None) -> tuple[ArticleResult, Any, Any]:
    from crawler.framing.lexicon import LEXICON_PATH
    from extract import extract_article

    began = time.process_time()
    result = extract_article(body, url, **hints)
    _extract_cpu[0] = time.process_time() - began
    if result.status == "not_article":
        return result, None, None
    match = _matcher(topic).match(result.title, result.text)
    text = stored_text(result)
    lexicon = _lexicon(str(Path(lexicon_path) if lexicon_path else LEXICON_PATH))
    # Story features too, for the articles a story build clusters (ok, with a text): the
    # worker has the text in hand, and the build after the crawl then only clusters.
    return result, match, framing_analysis(lexicon, result.title, text, result.lang,
                                           features=result.status == "ok")


def extract_prepared(page: FetchedPage, hints: dict[str, Any], topic: Topic,
                     lexicon_path: str | None
                     ) -> tuple[ArticleResult, Any, Any, Prepared]:
    """extract_and_analyse() of a fetched page, plus everything the archive writer would
    otherwise compute from it (crawler.archive.prepare): all the CPU one article fetch costs."""
    began, _extract_cpu[0] = time.process_time(), -1.0
    result, match, framing = extract_and_analyse(page.body, page.final_url or page.url, hints,
                                                 topic, lexicon_path)
    analysed = time.process_time()
    prepared = prepare(page, result)
    # Over its budget, the page's time counts as extraction's.
    extracting = _extract_cpu[0] if _extract_cpu[0] >= 0 else analysed - began
    prepared.cpu = (extracting, analysed - began - extracting, time.process_time() - analysed)
    return result, match, framing, prepared


def extract_page(page: FetchedPage, source: Source | None, matcher: TopicMatcher,
                 titles: TitleMemory | None = None) -> FetchedPage:
    """Extract an article page in place (no-op for anything else)."""
    if not wants_extraction(page):
        return page
    from extract import extract_article  # the extractor loads where pages are extracted

    result = extract_article(page.body, page.final_url or page.url,
                             **extraction_hints(page, source, titles))
    if titles is not None:
        titles.remember(page.source_id, result)
    return apply_result(page, result, matcher)


# Each worker's CPU budget per page, in seconds (0: none); set by _worker_start.
_budget = 0.0


def _worker_start(parent: int, budget: float) -> None:
    """Worker initializer: the page budget, and leave with the parent."""
    global _budget
    _budget = budget
    _exit_with_parent(parent)


def _exit_with_parent(parent: int) -> None:
    """Worker initializer: leave when the main process is gone (e.g. killed with SIGKILL).

    A bulk worker's parent is the main process; a crawl worker's is the fork server, which
    leaves as soon as the main process is gone. Either way the worker is re-parented then."""
    first = os.getppid()

    def watch() -> None:
        while os.getppid() == first and _alive(parent):
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()
    # A worker's work is done when it exits: skip the interpreter's teardown of every module
    # it imported (lxml, trafilatura: up to a second of CPU per worker at each pool's end).
    atexit.register(_fast_exit)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):  # gone (or its number reused by another user)
        return False
    return True


def _fast_exit() -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


# What a crawl worker imports before its first page: loaded once, by the fork server. This
# module brings the archive's prepare step and the mentions code; the rest it imports lazily.
# crawler.ingest.warmup then reads a few built-in pages, so that the caches a worker's first
# pages fill (stop words, date parsers, the lexicon) are filled once, in the server.
_PRELOAD = ["crawler.ingest.extraction", "extract.article", "crawler.framing.features",
            "crawler.framing.featblob", "crawler.ingest.warmup"]


def _crawl_context() -> BaseContext:
    """Crawl workers are forked by multiprocessing's fork server: a clean single-threaded
    process (no reactor, thread or database state) that has imported the extractor once, so
    each worker starts in milliseconds instead of importing lxml and trafilatura again.
    Where there is no fork server (Windows), workers are spawned."""
    if "forkserver" not in get_all_start_methods():
        return get_context("spawn")
    context = get_context("forkserver")
    context.set_forkserver_preload(_PRELOAD)
    return context


def start_crawl_workers() -> None:
    """Start the fork server now, so that its imports overlap the crawl's own start-up
    (`mediawatch crawl` calls this before Scrapy starts; the pool forks from it later)."""
    if _crawl_context().get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


def worker_pool(workers: int, fork: bool = False, budget: float = PAGE_CPU_SECONDS
                ) -> ProcessPoolExecutor:
    """Extraction worker processes, gone with their parent whatever kills it: forked by the
    fork server (crawls: see _crawl_context), or with `fork` forked from a parent that has
    imported this module and runs no other thread yet (bulk input: the workers start at
    once, without importing trafilatura and lxml again). `budget`: CPU seconds per page."""
    if fork:  # loaded once here, so that every forked worker starts with it
        import extract.article  # noqa: F401
    context = get_context("fork") if fork else _crawl_context()
    return ProcessPoolExecutor(workers, mp_context=context,
                               initializer=_worker_start, initargs=(os.getpid(), budget))
