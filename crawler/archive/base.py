"""What every store of the archive shares: one connection, one transaction, the run's counters.

`Archive` (crawler/archive/core.py) owns the connection, the writer lock, the WARC store and
the nesting transaction; each store (pages, frontier, monitoring, framing, runs, probes,
watches, backfill) is a small class over these shared parts, composed by the Archive. A store
writes only inside `self.transaction()`, so inside a batch one failing item undoes its own
rows only.
"""

from __future__ import annotations

from collections import Counter
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import sqlite_utils

    from crawler.archive.warc import WarcStore
    from crawler.registry.model import Source


@dataclass
class RunCounters:
    """What one crawl did to the archive."""

    pages_new: int = 0
    pages_seen_again: int = 0
    articles_new: int = 0
    articles_updated: int = 0
    articles_unchanged: int = 0
    extraction_failures: int = 0
    errors: int = 0
    not_modified: int = 0
    articles_removed: int = 0
    deferred: int = 0
    error_summary: Counter[str] = field(default_factory=Counter)


class Shared(Protocol):
    """The parts of the Archive its stores write through."""

    db: sqlite_utils.Database
    counters: RunCounters
    warc: WarcStore
    recheck_max_age_days: int

    @property
    def sources(self) -> dict[str, Source]:
        """The registry's outlets by id, as last synced."""

    def transaction(self) -> AbstractContextManager[None]:
        """One atomic write; nested, a savepoint that can fail on its own."""


class Store:
    """A part of the archive: its methods read and write through the shared connection."""

    def __init__(self, shared: Shared) -> None:
        self._shared = shared

    @property
    def db(self) -> sqlite_utils.Database:
        """The archive's one connection."""
        return self._shared.db

    @property
    def counters(self) -> RunCounters:
        """This run's counters (the Archive may swap in fresh ones between runs)."""
        return self._shared.counters

    @property
    def _sources(self) -> dict[str, Source]:
        return self._shared.sources

    def transaction(self) -> AbstractContextManager[None]:
        """The Archive's transaction: BEGIN…COMMIT, or a savepoint inside one."""
        return self._shared.transaction()
