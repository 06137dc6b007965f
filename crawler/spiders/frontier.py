"""Phase 2 of a crawl: the frontier (`url_state`) read back a page at a time.

At every idle moment the spider asks for the next page: at most MEDIAWATCH_FRONTIER_PAGE
due URLs per outlet (SQL LIMIT: the rest of the frontier stays in SQLite, never in RAM),
never-fetched URLs first, then due re-checks, within the outlet's budgets and the crawl's
re-check budget. Budgets are spent across pages; what is left over is counted as deferred
(it stays due in the frontier for the next crawl).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from crawler.archive.view import Due
from crawler.clock import utcnow, utcnow_after
from crawler.context import CrawlContext
from crawler.registry.model import Source

if TYPE_CHECKING:
    import scrapy
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


class FrontierPager:
    """Schedules the frontier's due article URLs, one page per idle moment."""

    def __init__(self, context: CrawlContext, settings: Any, crawler: Crawler,
                 make_request: Callable[[Source, Due], scrapy.Request]) -> None:
        self.context = context
        self.crawler = crawler
        self.make_request = make_request
        self.recheck_all = settings.getbool("MEDIAWATCH_RECHECK_ALL")
        budget = settings.getint("MEDIAWATCH_RECHECK_BUDGET")
        self.recheck_budget: int | None = None if self.recheck_all or budget <= 0 else budget
        self.page_size = max(1, settings.getint("MEDIAWATCH_FRONTIER_PAGE", 500))
        self.started = self._start_after_earlier_fetches() if self.recheck_all else utcnow()
        # Article URLs scheduled at the last idle moment (their rows may not be committed
        # yet), the ones before them (committed by the archive's own idle handler since),
        # and any whose fetch never reached the archive. Bounded by the page size.
        self.scheduled: set[str] = set()
        self._previous: set[str] = set()
        self._lost: set[str] = set()
        self._order = 0

    def schedule_next_page(self) -> bool:
        """Schedule the next page of due URLs of every outlet; False when nothing is left."""
        state: Any = self.context.state  # the archive's CrawlState: paging needs its queries
        now = utcnow()
        skip = self._settle(state)
        taken: set[str] = set()
        deferred: dict[str, int] = {}
        for source in self.context.outlets:
            if source.id in self.context.paused:
                continue
            take = int(min(max(self._outlet_room(source), 0), self.page_size))
            rows = state.due(source.id, now, self.recheck_all, take, exclude=skip,
                             since=self._since()) if take else []
            cut = len(rows) >= take  # the page (or the room) may have left URLs behind
            scheduled = 0
            for due in rows:
                if due.known and self.recheck_budget is not None and self.recheck_budget <= 0:
                    cut = True  # known URLs come last: every one after this is over budget too
                    break
                if due.known and self.recheck_budget is not None:
                    self.recheck_budget -= 1
                taken.add(due.url)
                request = self.make_request(source, due)
                # Scrapy's queues are LIFO within a priority: keep the frontier's order.
                self._order += 1
                assert self.crawler.engine is not None
                self.crawler.engine.crawl(request.replace(priority=-self._order))
                scheduled += 1
            if cut:
                left = state.due_count(source.id, now, self.recheck_all, exclude=skip,
                                       since=self._since()) - scheduled
                if left > 0:
                    deferred[source.id] = left
        self.context.deferred.clear()
        self.context.deferred.update(deferred)
        self._previous, self.scheduled = self.scheduled, taken
        return bool(taken)

    def _since(self) -> str | None:
        """With --recheck a re-fetched article stays due: leave out what this run fetched."""
        return self.started if self.recheck_all else None

    def _start_after_earlier_fetches(self) -> str:
        """This run's start, strictly after every fetch time in the archive.

        _since() tells this run's fetches from earlier runs' by time, to the second: a run
        started in the second an earlier one fetched its last pages would skip those."""
        newest_fetch = getattr(self.context.state, "newest_fetch", None)
        newest = newest_fetch([s.id for s in self.context.outlets]) if newest_fetch else None
        started = utcnow_after(newest)
        if newest is not None and started <= newest:
            logger.warning("the archive has fetches dated %s, not before this crawl's start %s "
                           "(a clock set back, or a fixed MEDIAWATCH_NOW): --recheck leaves "
                           "those URLs out", newest, started)
        return started

    def _settle(self, state: Any) -> set[str]:
        """URLs scheduled in this crawl whose fetch the frontier may not show yet.

        The archive commits its batch in its own spider_idle handler, which runs after this
        one: the last page's fetches may be uncommitted now, the page before it's are not.
        One of those the archive does not show as fetched never reached it (a store error):
        it is remembered for the rest of the crawl, as before paging, and not fetched again.
        """
        if self._previous:
            self._lost |= self._previous - state.fetched_since(self._previous, self.started)
        self._previous = set()
        return self.scheduled | self._lost

    def _outlet_room(self, source: Source) -> int | float:
        """Requests this outlet's budgets (max_requests, max_pages, max_seconds) still allow."""
        stats = self.crawler.stats
        sent = stats.get_value(f"mediawatch/requests/{source.id}", 0) if stats else 0
        room: int | float = float("inf")
        for cap in (source.max_requests, source.max_pages):
            if cap is not None:
                # A tenth of the budget is kept for redirect hops and retries of the URLs
                # admitted now, which count against the same cap (see OutletGuardMiddleware).
                room = min(room, cap - sent - math.ceil(cap / 10))
        started = stats.get_value("start_time") if stats else None
        if source.max_seconds is not None and started is not None:
            if (datetime.now(UTC) - started).total_seconds() > source.max_seconds:
                room = 0
        return room
