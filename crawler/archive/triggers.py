"""Triggers set aside for a bulk rewrite whose derived rows are recomputed in one statement."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlite_utils


@contextmanager
def triggers_aside(db: sqlite_utils.Database, table: str) -> Iterator[None]:
    """Drop `table`'s triggers and create them again, as they were, when the block ends
    without error. Use inside a transaction: if the block fails, the rollback brings the
    triggers back with everything else."""
    kept = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND "
                      "tbl_name = ? ORDER BY name", [table]).fetchall()
    for name, _ in kept:
        db.execute(f'DROP TRIGGER "{name}"')
    yield
    for _, sql in kept:
        db.execute(sql)
