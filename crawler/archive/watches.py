"""Saved searches in the archive: the `watches` and `watch_hits` tables (migration 0010).

A store composed into crawler.archive.core.Archive (`archive.watches`); every write runs in the
archive's transaction, so it nests in a crawl's batch like any other write. Matching and
delivery live in crawler/ops/watch.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import sqlite_utils

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


class WatchError(ValueError):
    """A saved-search operation cannot be done; the message says why."""


@dataclass(frozen=True)
class Watch:
    """A saved search: a query as typed and the filters of /search."""

    name: str
    query: str
    literal: bool = False
    langs: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    on_topic: bool = False

    def __post_init__(self) -> None:
        if not NAME.match(self.name):
            raise WatchError(f"name {self.name!r}: use 1-64 letters, digits, '-' or '_' "
                             "(it becomes the feed's URL, /-/watch/<name>.atom)")
        if not self.query.strip():
            raise WatchError("the query is empty")

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Watch:
        """A watch from its `watches` row."""
        return cls(row["name"], row["query"], bool(row["literal"]),
                   tuple(json.loads(row["langs"] or "[]")),
                   tuple(json.loads(row["sources"] or "[]")), bool(row["on_topic"]))


class WatchStore:
    """Read and write saved searches and what each has already notified."""

    def __init__(self, db: sqlite_utils.Database,
                 transaction: Callable[[], AbstractContextManager[None]]) -> None:
        self.db = db
        self._tx = transaction

    def add(self, watch: Watch, created_at: str, replace: bool = False) -> None:
        """Save a search; only articles archived from now on will be notified."""
        exists = self.get(watch.name) is not None
        if exists and not replace:
            raise WatchError(f"a saved search named {watch.name!r} exists: remove it first "
                             "or use --replace")
        with self._tx():
            mark = self.db.execute("SELECT coalesce(max(rowid), 0) FROM articles").fetchone()[0]
            self.db.execute("DELETE FROM watches WHERE name = ?", [watch.name])
            self.db.execute(
                "INSERT INTO watches (name, query, literal, langs, sources, on_topic, "
                "created_at, seen_rowid) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [watch.name, watch.query, int(watch.literal), json.dumps(list(watch.langs)),
                 json.dumps(list(watch.sources)), int(watch.on_topic), created_at, mark])

    def remove(self, name: str) -> bool:
        """Forget a saved search and what it notified; False when there was none."""
        with self._tx():
            self.db.execute("DELETE FROM watch_hits WHERE watch = ?", [name])
            return self.db.execute("DELETE FROM watches WHERE name = ?", [name]).rowcount > 0

    def get(self, name: str) -> Watch | None:
        """One saved search by name."""
        row = self.db.execute("SELECT * FROM watches WHERE name = ?", [name]).fetchone()
        return None if row is None else Watch.from_row(self._dict(row))

    def all(self) -> list[tuple[Watch, dict[str, Any]]]:
        """Every saved search with its bookkeeping (created, checked, notified count)."""
        rows = self.db.execute(
            "SELECT w.*, (SELECT count(*) FROM watch_hits h WHERE h.watch = w.name) AS hits "
            "FROM watches w ORDER BY w.name").fetchall()
        out = []
        for row in rows:
            d = self._dict(row, extra=("hits",))
            out.append((Watch.from_row(d), d))
        return out

    def record_hits(self, name: str, article_ids: Iterable[str], run_id: int | None,
                    now: str, seen_rowid: int) -> list[str]:
        """Remember matches as notified (once each); return those that were new."""
        fresh = []
        with self._tx():
            for aid in article_ids:
                cursor = self.db.execute(
                    "INSERT OR IGNORE INTO watch_hits (watch, article_id, run_id, matched_at) "
                    "VALUES (?, ?, ?, ?)", [name, aid, run_id, now])
                if cursor.rowcount:
                    fresh.append(aid)
            self.db.execute("UPDATE watches SET seen_rowid = max(seen_rowid, ?), checked_at = ?, "
                            "last_run_id = ? WHERE name = ?", [seen_rowid, now, run_id, name])
        return fresh

    def mark_delivered(self, name: str, article_ids: Iterable[str],
                       channels: list[str]) -> None:
        """Remember which channels took the event that carried these matches."""
        with self._tx():
            for aid in article_ids:
                self.db.execute("UPDATE watch_hits SET delivered = ? WHERE watch = ? AND "
                                "article_id = ?", [json.dumps(sorted(channels)), name, aid])

    def _dict(self, row: Any, extra: tuple[str, ...] = ()) -> dict[str, Any]:
        cols = [c.name for c in self.db["watches"].columns] + list(extra)
        return dict(zip(cols, row, strict=True))
