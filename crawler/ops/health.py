"""Source health, read from the archive: per-outlet measures and canary shape comparison.

Pure: SQL reads over a connection and plain functions, no writes (crawler.archive.core stores
the rows). Every measure compares an outlet with itself (its own recent baseline), since
a wire agency and a weekly magazine have nothing in common but their failure modes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

# Fetch outcomes that count as failures: the outlet (or the path to it) is not answering.
FAILURE_BUCKETS = ("403", "429", "5xx", "timeout", "network")


@dataclass(frozen=True)
class Thresholds:
    """When a measure becomes an alert (MEDIAWATCH_* settings override each)."""

    quiet_hours: float = 24.0      # never "went quiet" before this much silence...
    quiet_factor: float = 4.0      # ...nor before this many of the outlet's usual gaps
    failure_share: float = 0.5     # a run where this share of fetches failed is an incident
    failure_jump: float = 0.25     # ...when it is also this far above the outlet's usual share
    min_fetches: int = 3           # fewer fetches than this say nothing about failure rates
    no_date_share: float = 0.5     # share of today's new articles without a date
    min_sample: int = 3            # fewer new articles than this say nothing about dates
    short_words: int = 50          # an extraction shorter than this is "very short"
    short_text_share: float = 0.5  # share of today's new articles "very short" (or no text)...
    short_text_jump: float = 0.25  # ...when it is also this far above the outlet's usual share
    canary_tolerance: float = 0.5  # text length may move by this share before it is a change


def bucket(status: int | None, error: str | None) -> str | None:
    """Classify one fetch: ok, 403, 429, 5xx, timeout, network, gone, other; None if never sent."""
    if error:
        if error.startswith("dropped"):
            return None  # robots.txt, offsite or paused: nothing went over the wire
        return "timeout" if "timeout" in error.lower() or "timedout" in error.lower() \
            else "network"
    if status is None:
        return None
    if status == 403:
        return "403"
    if status == 429:
        return "429"
    if status >= 500:
        return "5xx"
    if status in (404, 410):
        return "gone"
    return "ok" if status < 400 else "other"


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _one(conn: sqlite3.Connection, sql: str, params: list[Any]) -> Any:
    return conn.execute(sql, params).fetchone()[0]


def outlet_health(conn: sqlite3.Connection, source_id: str, now: datetime,
                  tally: Mapping[str, int], th: Thresholds) -> dict[str, Any]:
    """One health row for an outlet at `now`; `tally` counts this run's fetches by bucket."""
    day_ago, week_ago = _iso(now - timedelta(days=1)), _iso(now - timedelta(days=7))
    window_start = _iso(now - timedelta(days=15))
    articles_24h = _one(conn, "SELECT count(*) FROM articles WHERE source_id = ? AND "
                        "first_seen_at > ?", [source_id, day_ago])
    first, last = conn.execute("SELECT min(first_seen_at), max(first_seen_at) FROM articles "
                               "WHERE source_id = ?", [source_id]).fetchone()
    baseline = None
    if first and first <= day_ago:
        # The outlet's own daily rate over up to two weeks before the last 24 hours.
        older = _one(conn, "SELECT count(*) FROM articles WHERE source_id = ? AND "
                     "first_seen_at > ? AND first_seen_at <= ?",
                     [source_id, window_start, day_ago])
        start = max(datetime.fromisoformat(first), now - timedelta(days=15))
        days = max((now - timedelta(days=1) - start).total_seconds() / 86400, 1.0)
        baseline = round(older / days, 3)
    hours_since = None
    if last:
        hours_since = round((now - datetime.fromisoformat(last)).total_seconds() / 3600, 2)
    sample, no_date, short = conn.execute(
        "SELECT count(*), coalesce(sum(published IS NULL), 0), "
        "coalesce(sum(coalesce(word_count, 0) < ?), 0) FROM articles "
        "WHERE source_id = ? AND first_seen_at > ?", [th.short_words, source_id, day_ago]
    ).fetchone()
    feed_items, orphaned = conn.execute(
        "SELECT count(*), coalesce(sum(s.article_id IS NULL), 0) FROM feed_items f "
        "LEFT JOIN url_state s ON s.url = f.item_url WHERE f.source_id = ? "
        "AND f.last_seen_at > ?", [source_id, week_ago]).fetchone()
    fetches = sum(tally.values())
    failures = sum(tally.get(b, 0) for b in FAILURE_BUCKETS)
    return {
        "source_id": source_id,
        "computed_at": _iso(now),
        "articles_24h": articles_24h,
        "baseline_per_day": baseline,
        "last_new_at": last,
        "hours_since_new": hours_since,
        "fetches": fetches,
        "failures": failures,
        "failure_share": round(failures / fetches, 3) if fetches else None,
        "fail_403": tally.get("403", 0),
        "fail_429": tally.get("429", 0),
        "fail_5xx": tally.get("5xx", 0),
        "fail_timeout": tally.get("timeout", 0),
        "fail_network": tally.get("network", 0),
        "gone_404": tally.get("gone", 0),
        "extracted_24h": sample,
        "no_date_share": round(no_date / sample, 3) if sample else None,
        "short_text_share": round(short / sample, 3) if sample else None,
        "feed_items": feed_items,
        "feed_items_orphaned": orphaned,
    }


def usual_failure_share(conn: sqlite3.Connection, source_id: str, before_run: int
                        ) -> float | None:
    """The outlet's median failure share over its last seven runs with fetches (None before
    its first such run)."""
    shares = sorted(r[0] for r in conn.execute(
        "SELECT failure_share FROM health WHERE source_id = ? AND run_id < ? AND fetches > 0 "
        "ORDER BY run_id DESC LIMIT 7", [source_id, before_run]))
    return shares[len(shares) // 2] if shares else None


def usual_short_share(conn: sqlite3.Connection, source_id: str, now: datetime,
                      min_sample: int, min_runs: int = 2) -> float | None:
    """The outlet's median share of very short texts over its last seven runs at least a day
    ago that measured one, or None before `min_runs` such runs.

    The share is over the last 24 hours' new articles, so runs within the day see the same
    articles: comparing with them would let a slow breakage (a few more short texts every
    run of a crawl every 20 minutes) never look like a jump. A new outlet, maybe a ticker of
    40-word flashes, has no baseline for its first day and raises nothing."""
    shares = sorted(r[0] for r in conn.execute(
        "SELECT short_text_share FROM health WHERE source_id = ? AND computed_at <= ? AND "
        "extracted_24h >= ? AND short_text_share IS NOT NULL ORDER BY computed_at DESC LIMIT 7",
        [source_id, _iso(now - timedelta(days=1)), min_sample]))
    return shares[len(shares) // 2] if len(shares) >= min_runs else None


# -- canaries: the same article, re-extracted, should keep its shape ------------------------
