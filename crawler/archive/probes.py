"""The probes table: each outlet's last `sources probe --write` verdict (ProbeStore writes it)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from typing import Any

import sqlite_utils


class ProbeStore:
    """Writes probe verdicts, one row per outlet (the latest probe replaces the previous)."""

    def __init__(self, db: sqlite_utils.Database,
                 transaction: Callable[[], AbstractContextManager[None]]) -> None:
        self.db = db
        self._tx = transaction

    def record(self, rows: Iterable[dict[str, Any]], probed_at: str) -> dict[str, bool]:
        """Store the endpoint rows of one probe run per outlet; return {outlet: ok}."""
        by_outlet: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            by_outlet.setdefault(row["source"], []).append(row)
        verdicts = {}
        with self._tx():
            for source_id, items in by_outlet.items():
                problems = [r for r in items if r.get("problem")]
                first = problems[0] if problems else None
                verdicts[source_id] = not problems
                self.db.table("probes").upsert({
                    "source_id": source_id, "probed_at": probed_at, "ok": int(not problems),
                    "endpoints": len(items), "problems": len(problems),
                    "summary": f"{first['kind']} {first['endpoint']}: {first['problem']}"
                    if first else None,
                    "report": json.dumps(items, ensure_ascii=False),
                }, pk="source_id")
        return verdicts


def probe_verdicts(db: sqlite_utils.Database) -> dict[str, dict[str, Any]]:
    """{source_id: probes row without the report}; {} for an archive never probed."""
    if "probes" not in db.table_names():
        return {}
    rows = db.query("SELECT source_id, probed_at, ok, endpoints, problems, summary FROM probes")
    return {r["source_id"]: r for r in rows}
