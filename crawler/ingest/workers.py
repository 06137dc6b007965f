"""A process pool that comes back when one of its workers dies.

When a worker process dies (the kernel's OOM killer picks the biggest process, which is
often the worker parsing a huge page; a C extension crashes on hostile markup), Python's
ProcessPoolExecutor is broken for good: every job in flight and every later submit raises
BrokenProcessPool. A crawl that kept that pool would drop every article it fetched after
the death. Here the first job to see a broken pool replaces it, and each job that failed
with the pool is run once more in the new one, one retry at a time. A retried job that
breaks the new pool too (a page that kills whatever parses it) raises WorkerDied, and its
caller records it as a failure; after `max_restarts` the pool is not replaced
again (workers that die however they are started are no case for a fork storm) and every
later job raises WorkerDied at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import BrokenExecutor, Executor
from typing import Any, TypeVar

LOG = logging.getLogger(__name__)
T = TypeVar("T")


class WorkerDied(RuntimeError):
    """A job's worker process died, also in the pool started after the first death."""


class PoolKeeper:
    """The current pool from `make()`: a broken one is replaced, at most `max_restarts` times."""

    def __init__(self, make: Callable[[], Executor], max_restarts: int = 10) -> None:
        self._make = make
        self.pool: Executor | None = make()  # None once the workers kept dying
        self.max_restarts = max_restarts
        self.restarts = 0  # pools started after a death (the crawl's stats record them)

    def replace(self, broken: Executor) -> None:
        """Start a new pool for `broken`, unless that was done already."""
        # Every job in flight sees the same broken pool: the first one replaces it, the
        # others find the new one in place and only retry.
        if self.pool is not broken:
            return
        broken.shutdown(wait=False, cancel_futures=True)
        if self.restarts >= self.max_restarts:
            LOG.error("extraction workers died %d times; later pages are recorded as "
                      "extraction failures (their captures are kept)", self.restarts + 1)
            self.pool = None
            return
        self.restarts += 1
        LOG.warning("an extraction worker died; starting new workers (restart %d of at most %d)",
                    self.restarts, self.max_restarts)
        self.pool = self._make()

    def gone(self) -> WorkerDied:
        """What a job gets once no new pool is started."""
        return WorkerDied(f"the extraction workers died {self.restarts + 1} times; "
                          "no new pool is started")

    def shutdown(self) -> None:
        """Stop the workers (jobs not started are cancelled)."""
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None


def died_twice(exc: BaseException) -> WorkerDied:
    """What a job gets when its retry's pool broke too."""
    return WorkerDied(f"the extraction worker died twice on this page: {exc}")


class RestartingPool(PoolKeeper):
    """Jobs in worker processes from `make()`; a broken pool is replaced, its jobs retried once."""

    def __init__(self, make: Callable[[], Executor], max_restarts: int = 10) -> None:
        super().__init__(make, max_restarts)
        self._lock: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """fn(*args) in a worker; again in a new pool if the first one broke."""
        loop = asyncio.get_running_loop()
        pool = self.pool
        if pool is not None:
            try:
                return await loop.run_in_executor(pool, fn, *args)
            except BrokenExecutor:
                self.replace(pool)
        # Retries run one at a time: a page that kills its worker again then takes no other
        # retried page with it (pages on their first try may run beside it; if one of them
        # dies with it, it has its own retry).
        async with self._retry_lock(loop):
            pool = self.pool
            if pool is None:
                raise self.gone()
            try:
                return await loop.run_in_executor(pool, fn, *args)
            except BrokenExecutor as exc:
                self.replace(pool)
                raise died_twice(exc) from exc

    def _retry_lock(self, loop: asyncio.AbstractEventLoop) -> asyncio.Lock:
        if self._lock is None or self._lock[0] is not loop:  # a lock serves one event loop
            self._lock = (loop, asyncio.Lock())
        return self._lock[1]
