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
from concurrent.futures import BrokenExecutor, Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from crawler.ingest.extraction import extract_prepared, worker_pool
from crawler.ingest.workers import PoolKeeper, died_twice

if TYPE_CHECKING:
    from crawler.items import FetchedPage
    from crawler.registry.model import Topic

T = TypeVar("T")


@dataclass
class _Job(Generic[T]):
    item: T
    args: tuple[Any, ...] | None
    future: Future[Any] | None = None
    pool: Executor | None = None  # the pool it was submitted to
    retried: bool = False


def _warm() -> None:
    """Worker warm-up: makes the executor fork every worker at once."""


class ExtractionPool(Generic[T]):
    """`workers` processes (0 or 1: work in this process, nothing to hand over)."""

    def __init__(self, workers: int, topic: Topic, lexicon_path: str | None) -> None:
        self.workers = workers
        self.topic = topic
        self.lexicon_path = lexicon_path
        self._keeper: PoolKeeper | None = PoolKeeper(self._start) if workers > 1 else None

    @property
    def restarts(self) -> int:
        """Pools started after a worker died."""
        return self._keeper.restarts if self._keeper else 0

    def _start(self) -> ProcessPoolExecutor:
        # Forked when this process runs no other thread (a command: a backfill starts its
        # download threads after this): it has imported the extraction modules (above), so
        # the workers are ready at once. Beside other threads (a caller's servers, a
        # backfill's downloads when workers are restarted) forking this process is unsafe:
        # the fork server's then.
        fork = threading.active_count() == 1
        if fork:  # and warmed once, here, for every worker (the fork server warms its own)
            import crawler.ingest.warmup  # noqa: F401
        pool = worker_pool(self.workers, fork=fork)
        for _ in range(self.workers):
            pool.submit(_warm)
        return pool

    def map(self, fn: Callable[..., Any], jobs: Iterable[tuple[T, tuple[Any, ...] | None]]
            ) -> Iterator[tuple[T, Any]]:
        """(item, fn(*args)) per (item, args) job, in input order; (item, None) when args is
        None (pages that are not extracted keep their place); the exception instead of a
        value when fn raised. When a worker dies, the pool is replaced and the jobs it held
        run once more (crawler.ingest.workers explains why); a job whose second pool dies
        too gets WorkerDied as its value."""
        window: deque[_Job[T]] = deque()
        # Deep enough that one slow page at the head (results leave in order) does not
        # leave the other workers idle: they work through the rest of the window meanwhile.
        limit = max(1, self.workers) * 16
        for item, args in jobs:
            job = _Job(item, args)
            if args is None:
                pass
            elif self._keeper is None:
                job.future = Future()
                try:
                    job.future.set_result(fn(*args))
                except Exception as exc:
                    job.future.set_exception(exc)
            else:
                self._submit(job, fn)
            window.append(job)
            while len(window) > limit or (window and _ready(window[0].future)):
                yield self._result(window, fn)
        while window:
            yield self._result(window, fn)

    def _submit(self, job: _Job[T], fn: Callable[..., Any]) -> None:
        assert self._keeper is not None
        job.pool = self._keeper.pool
        if job.pool is None:  # the workers kept dying: no new pool
            job.future = Future()
            job.future.set_exception(self._keeper.gone())
            return
        try:
            job.future = job.pool.submit(fn, *(job.args or ()))
        except BrokenExecutor as exc:  # broken before this job: handled with the others
            job.future = Future()
            job.future.set_exception(exc)

    def _result(self, window: deque[_Job[T]], fn: Callable[..., Any]) -> tuple[T, Any]:
        """The head job's value, or the exception it raised (one bad page never ends a run)."""
        job = window[0]
        if job.args is not None and job.future is None:  # a retry: run now, the only one
            self._submit(job, fn)
        window.popleft()
        if job.future is None:
            return job.item, None
        try:
            return job.item, job.future.result()
        except BrokenExecutor as exc:
            self._restart(window, job.pool)
            if job.retried:
                return job.item, died_twice(exc)
            job.retried, job.future = True, None  # back at the head: retried first, alone
            window.appendleft(job)
            return self._result(window, fn)
        except Exception as exc:
            return job.item, exc

    def _restart(self, window: deque[_Job[T]], broken: Executor | None) -> None:
        """Replace the pool `broken` (unless done already); its jobs are retried one at a time
        (as they reach the head of the window), so that a page that kills its worker again
        takes no other retried page with it."""
        assert self._keeper is not None and broken is not None
        self._keeper.replace(broken)
        for job in window:
            if job.future is not None and job.pool is broken and not job.retried and \
                    not (job.future.done() and job.future.exception() is None):  # kept if done
                job.retried, job.future = True, None

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
        if self._keeper is not None:
            self._keeper.shutdown()


def _ready(future: Future[Any] | None) -> bool:
    return future is None or future.done()
