"""Reading and nudging archive.db files in tests (never through the application's writer)."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def query(db: Path, sql: str, params: tuple = ()) -> list[tuple]:
    """Run one read query on an archive."""
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def make_articles_due(db: Path) -> int:
    """Make every stored article due for a re-check now; return how many there are."""
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("update url_state set next_due = '2000-01-01T00:00:00+00:00' "
                     "where kind = 'article' and last_status = 200")
        known = conn.execute("select count(*) from url_state where kind = 'article' "
                             "and last_status = 200").fetchone()[0]
    conn.close()
    return int(known)


def copy_db(src: Path, dst: Path) -> Path:
    """A private copy of an archive (the session archive is shared with other tests)."""
    with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
        a.backup(b)
    return dst
