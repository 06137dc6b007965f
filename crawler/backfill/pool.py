"""Extraction on every core for bulk input (backfill, `warc import`), results in order.

Each page's extraction, topic match and framing analysis run in a worker process
(crawler.ingest.extraction.extract_prepared, as in a crawl); the main process only reads input
and writes the archive. Results come back in input order, so a run writes the same rows
in the same order whatever the number of workers (a re-run after a kill is comparable
with an uninterrupted run). At most `16 x workers` pages are in flight.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import BrokenExecutor, Future, ProcessPoolExecutor
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from crawler.ingest.extraction import extract_prepared, worker_pool

if TYPE_CHECKING:
    from crawler.items import FetchedPage
    from crawler.registry.model import Topic

T = TypeVar("T")


def _warm() -> None:
    """Worker warm-up: makes the executor fork every worker at once."""


class ExtractionPool(Generic[T]):
    """`workers` processes (0 or 1: work in this process, nothing to hand over)."""

    def __init__(self, workers: int, topic: Topic, lexicon_path: str | None) -> None:
        self.workers = workers
        self.topic = topic
        self.lexicon_path = lexicon_path
        self._pool: ProcessPoolExecutor | None = None
        if workers > 1:
            # Forked, now, when this process runs no other thread (a command: a backfill
            # starts its download threads after this): it has imported the extraction
            # modules (above), so the workers are ready at once. Beside other threads (a
            # caller's servers) forking this process is unsafe: the fork server's then.
            fork = threading.active_count() == 1
            if fork:  # and warmed once, here, for every worker (the fork server warms its own)
                import crawler.ingest.warmup  # noqa: F401
            self._pool = worker_pool(workers, fork=fork)
            for _ in range(workers):
                self._pool.submit(_warm)

    def map(self, fn: Callable[..., Any], jobs: Iterable[tuple[T, tuple[Any, ...] | None]]
            ) -> Iterator[tuple[T, Any]]:
        """(item, fn(*args)) per (item, args) job, in input order; (item, None) when args is
        None (pages that are not extracted keep their place); the exception instead of a
        value when fn raised."""
        window: deque[tuple[T, Future[Any] | None]] = deque()
        # Deep enough that one slow page at the head (results leave in order) does not
        # leave the other workers idle: they work through the rest of the window meanwhile.
        limit = max(1, self.workers) * 16
        for item, args in jobs:
            if args is None:
                window.append((item, None))
            elif self._pool is None:
                future: Future[Any] = Future()
                try:
                    future.set_result(fn(*args))
                except Exception as exc:
                    future.set_exception(exc)
                window.append((item, future))
            else:
                window.append((item, self._pool.submit(fn, *args)))
            while len(window) > limit or (window and _ready(window[0][1])):
                yield _result(window.popleft())
        while window:
            yield _result(window.popleft())

    def extract_prepared(self, jobs: Iterable[tuple[T, tuple[FetchedPage, dict[str, Any]] | None]]
                         ) -> Iterator[tuple[T, Any]]:
        """(item, (result, topic match, framing analysis, Prepared)) per (item, (page,
        hints)): what extract() gives plus the page's WARC records, digest and search columns
        (crawler.archive.prepare), so that the writing process only writes."""
        topic, lexicon = self.topic, self.lexicon_path
        return self.map(extract_prepared, (
            (item, None if args is None else (*args, topic, lexicon)) for item, args in jobs))

    def close(self) -> None:
        """Stop the workers."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def _ready(future: Future[Any] | None) -> bool:
    return future is None or future.done()


def _result(entry: tuple[T, Future[Any] | None]) -> tuple[T, Any]:
    """The job's value, or the exception it raised (one bad page never ends a run; a
    broken pool does)."""
    item, future = entry
    if future is None:
        return item, None
    try:
        return item, future.result()
    except BrokenExecutor:
        raise
    except Exception as exc:
        return item, exc
