"""Row inserts for the archive's hot path: one cached statement per column set.

sqlite-utils' Table.insert/insert_all inspect the table and rebuild their SQL on every
call (about 80 µs each); an article fetch writes six tables. Here the statement is built
once per (table, columns) and many rows go in one executemany. Values must already be
SQLite values (str, int, float, bytes, None): JSON is encoded by the caller. Like
sqlite-utils' own writes, a write outside an open transaction is committed on its own.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import sqlite_utils

T = TypeVar("T")


def _write(db: sqlite_utils.Database, write: Callable[[sqlite3.Connection], T]) -> T:
    """Run a write in the open transaction, or in one of its own (as db.execute would):
    sqlite3 would otherwise leave an implicit transaction open after it."""
    if db.conn.in_transaction:
        return write(db.conn)
    with db.atomic():
        return write(db.conn)


@lru_cache(maxsize=256)
def insert_sql(table: str, columns: tuple[str, ...], ignore: bool = False) -> str:
    """INSERT [OR IGNORE] INTO table (columns) VALUES (?, ...)."""
    names = ", ".join(f'"{c}"' for c in columns)
    verb = "INSERT OR IGNORE" if ignore else "INSERT"
    return f'{verb} INTO "{table}" ({names}) VALUES ({", ".join("?" * len(columns))})'


def insert_row(db: sqlite_utils.Database, table: str, row: dict[str, Any]) -> int:
    """Insert one row; return its rowid."""
    sql = insert_sql(table, tuple(row))
    rowid = _write(db, lambda conn: conn.execute(sql, tuple(row.values())).lastrowid)
    assert rowid is not None
    return rowid


def insert_rows(db: sqlite_utils.Database, table: str, rows: Sequence[dict[str, Any]],
                ignore: bool = False) -> None:
    """Insert rows that share the first row's columns, in one executemany."""
    if not rows:
        return
    columns = tuple(rows[0])
    sql = insert_sql(table, columns, ignore)
    values = [tuple(row[c] for c in columns) for row in rows]
    _write(db, lambda conn: conn.executemany(sql, values))


@lru_cache(maxsize=256)
def update_sql(table: str, columns: tuple[str, ...], key: str) -> str:
    """UPDATE table SET column = ?, ... WHERE key = ?."""
    sets = ", ".join(f'"{c}" = ?' for c in columns)
    return f'UPDATE "{table}" SET {sets} WHERE "{key}" = ?'


def update_row(db: sqlite_utils.Database, table: str, key: str, value: Any,
               row: dict[str, Any]) -> int:
    """Set a row's columns by its key (no read-back, unlike sqlite-utils' update); return
    how many rows changed."""
    sql = update_sql(table, tuple(row), key)
    return _write(db, lambda conn: conn.execute(sql, (*row.values(), value)).rowcount)


SLICE = 1000  # articles read at a time by whole-archive passes (retopic, public builds)


def article_slices(db: sqlite_utils.Database, columns: str, where: str = "1",
                   params: Sequence[Any] = ()) -> Iterator[list[tuple[Any, ...]]]:
    """Every article matching `where`, SLICE rows at a time in rowid order, each row
    (rowid, *columns): a pass over a million texts without holding them all. The caller
    may update the rows it was given before asking for the next slice."""
    last = 0
    while rows := db.execute(f"SELECT rowid, {columns} FROM articles WHERE rowid > ? AND "
                             f"({where}) ORDER BY rowid LIMIT ?",
                             [last, *params, SLICE]).fetchall():
        last = rows[-1][0]
        yield rows
