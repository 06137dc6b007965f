"""Row inserts for the archive's hot path: one cached statement per column set.

sqlite-utils' Table.insert/insert_all inspect the table and rebuild their SQL on every
call (about 80 µs each); an article fetch writes six tables. Here the statement is built
once per (table, columns) and many rows go in one executemany. Values must already be
SQLite values (str, int, float, bytes, None): JSON is encoded by the caller.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=256)
def insert_sql(table: str, columns: tuple[str, ...], ignore: bool = False) -> str:
    """INSERT [OR IGNORE] INTO table (columns) VALUES (?, ...)."""
    names = ", ".join(f'"{c}"' for c in columns)
    verb = "INSERT OR IGNORE" if ignore else "INSERT"
    return f'{verb} INTO "{table}" ({names}) VALUES ({", ".join("?" * len(columns))})'


def insert_row(conn: sqlite3.Connection, table: str, row: dict[str, Any]) -> int:
    """Insert one row; return its rowid."""
    cursor = conn.execute(insert_sql(table, tuple(row)), tuple(row.values()))
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def insert_rows(conn: sqlite3.Connection, table: str, rows: Sequence[dict[str, Any]],
                ignore: bool = False) -> None:
    """Insert rows that share the first row's columns, in one executemany."""
    if not rows:
        return
    columns = tuple(rows[0])
    conn.executemany(insert_sql(table, columns, ignore),
                     [tuple(row[c] for c in columns) for row in rows])


@lru_cache(maxsize=256)
def update_sql(table: str, columns: tuple[str, ...], key: str) -> str:
    """UPDATE table SET column = ?, ... WHERE key = ?."""
    sets = ", ".join(f'"{c}" = ?' for c in columns)
    return f'UPDATE "{table}" SET {sets} WHERE "{key}" = ?'


def update_row(conn: sqlite3.Connection, table: str, key: str, value: Any,
               row: dict[str, Any]) -> int:
    """Set a row's columns by its key (no read-back, unlike sqlite-utils' update); return
    how many rows changed."""
    return conn.execute(update_sql(table, tuple(row), key), (*row.values(), value)).rowcount
