"""crawler.archive.triggers.triggers_aside: a bulk rewrite without a table's triggers."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlite_utils

from crawler.archive.triggers import triggers_aside

pytestmark = pytest.mark.unit


def _db(path: Path) -> sqlite_utils.Database:
    db = sqlite_utils.Database(path)
    db.execute("CREATE TABLE t (x INTEGER)")
    db.execute("CREATE TABLE log (x INTEGER)")
    db.execute("CREATE TRIGGER t_ai AFTER INSERT ON t BEGIN INSERT INTO log VALUES (NEW.x); END")
    db.execute("CREATE TRIGGER t_ad AFTER DELETE ON t BEGIN INSERT INTO log VALUES (-OLD.x); END")
    return db


def _triggers(db: sqlite_utils.Database) -> list[tuple[str, str]]:
    return db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                      "ORDER BY name").fetchall()


def test_triggers_are_silent_in_the_block_and_back_as_they_were_after(tmp_path: Path) -> None:
    db = _db(tmp_path / "a.db")
    before = _triggers(db)
    with db.conn:
        with triggers_aside(db, "t"):
            db.execute("INSERT INTO t VALUES (1)")
        db.execute("INSERT INTO t VALUES (2)")
    assert db.execute("SELECT x FROM log").fetchall() == [(2,)]
    assert _triggers(db) == before


def test_a_failed_block_is_rolled_back_with_the_triggers(tmp_path: Path) -> None:
    db = _db(tmp_path / "b.db")
    before = _triggers(db)
    db.execute("BEGIN IMMEDIATE")
    with pytest.raises(RuntimeError):
        with triggers_aside(db, "t"):
            db.execute("INSERT INTO t VALUES (1)")
            raise RuntimeError("disk full")
    db.execute("ROLLBACK")
    assert _triggers(db) == before
    assert db.execute("SELECT count(*) FROM t").fetchone()[0] == 0
