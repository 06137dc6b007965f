"""The archive's registry and run writes: the synced outlets, one crawl_runs row per run."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

from crawler.archive.base import Store
from crawler.clock import utcnow

if TYPE_CHECKING:
    from crawler.registry.model import Registry


class RunStore(Store):
    """sources (the registry as synced) and crawl_runs."""

    def sync_sources(self, registry: Registry) -> None:
        """Upsert the registry into `sources` and the outlet kind into articles."""
        from crawler.registry.model import registry_rows

        now = utcnow()
        self._shared.sources.clear()
        self._shared.sources.update({s.id: s for s in registry.sources})
        with self.transaction():
            for row in registry_rows(registry):
                config = json.dumps(row, ensure_ascii=False, sort_keys=True)
                known = {c.name for c in self.db.table("sources").columns}
                record = {k: v for k, v in row.items() if k in known}
                record.update(config=config, synced_at=now)
                self.db.table("sources").upsert(record, pk="id")
            for source in registry.sources:
                self.db.execute(
                    "UPDATE articles SET source_kind = ? WHERE source_id = ? "
                    "AND source_kind IS NOT ?",
                    [source.kind, source.id, source.kind],
                )

    def start_run(self, source_ids: list[str], settings: dict[str, Any]) -> int:
        """Insert a crawl_runs row and return its id."""
        from crawler import __version__

        with self.transaction():
            table = self.db.table("crawl_runs").insert(
                {
                    "started_at": utcnow(),
                    "sources": json.dumps(source_ids),
                    "settings": json.dumps(settings, ensure_ascii=False, default=str),
                    "mediawatch_version": __version__,
                    "pid": os.getpid(),
                }
            )
            assert table.last_rowid is not None
            return table.last_rowid

    def close_stale_runs(self) -> int:
        """Runs left open by a killed crawl (the lock says none is running): mark them."""
        with self.transaction():
            return self.db.execute(
                "UPDATE crawl_runs SET finish_reason = 'interrupted (the process was killed)' "
                "WHERE finished_at IS NULL AND finish_reason IS NULL").rowcount

    def finish_run(self, run_id: int, reason: str, stats: dict[str, Any]) -> None:
        """Close a crawl_runs row with its counts and Scrapy's stats."""
        c = self.counters
        with self.transaction():
            self.db.table("crawl_runs").update(
                run_id,
                {
                    "finished_at": utcnow(),
                    "finish_reason": reason,
                    "requests": int(stats.get("downloader/request_count", 0)),
                    "responses": int(stats.get("downloader/response_count", 0)),
                    "pages_new": c.pages_new,
                    "pages_seen_again": c.pages_seen_again,
                    "articles_new": c.articles_new,
                    "articles_updated": c.articles_updated,
                    "articles_unchanged": c.articles_unchanged,
                    "extraction_failures": c.extraction_failures,
                    "errors": c.errors,
                    "not_modified": c.not_modified,
                    "articles_removed": c.articles_removed,
                    "deferred": c.deferred,
                    "error_summary": json.dumps(dict(c.error_summary), ensure_ascii=False),
                    "stats": json.dumps(stats, default=str, sort_keys=True),
                },
            )
