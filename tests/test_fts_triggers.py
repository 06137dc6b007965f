"""Migration 0012: articles_fts is re-indexed only when an indexed column changes.

A re-check that only moves `fetched_at` (or `removed_at`, `page_id`...) must leave the FTS
index untouched; a new text must re-index the article. The FTS5 index's own storage
(`articles_fts_data`, its segments) shows every write the trigger makes.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlite_utils
from helpers.pages import REGISTRY, page
from mediawatch_schema.migrations import m0012_fts_triggers, migrations

from crawler.archive.core import Archive, open_db
from crawler.registry.model import parse_registry

pytestmark = pytest.mark.unit

URL = "http://127.0.0.2:8000/news/1"


def index_blocks(db: sqlite3.Connection | sqlite_utils.Database) -> list[tuple]:
    """Every block of the FTS5 index (segments, structure record), in order."""
    return list(db.execute("SELECT id, block FROM articles_fts_data ORDER BY id").fetchall())


def hits(db_path: Path, word: str) -> list[str]:
    """Article ids whose indexed text holds `word`."""
    conn = sqlite3.connect(db_path)
    rows = conn.execute("SELECT a.id FROM articles_fts f JOIN articles a ON a.rowid = f.rowid "
                        "WHERE articles_fts MATCH ?", [f'search_text : "{word}"']).fetchall()
    conn.close()
    return [r[0] for r in rows]


def stored(tmp_path: Path) -> Archive:
    archive = Archive(tmp_path / "archive.db")
    archive.sync_sources(parse_registry(REGISTRY))
    archive.record(page(URL, body="Zanzibarian delegates arrived."))
    return archive


def test_a_recheck_that_only_moves_fetched_at_leaves_the_index_alone(tmp_path: Path) -> None:
    archive = stored(tmp_path)
    before = index_blocks(archive.db)
    assert before and hits(archive.path, "zanzibarian")
    # The same body fetched again: the pipeline marks it unchanged, the archive touches it.
    again = page(URL, body="Zanzibarian delegates arrived.", when="2024-03-01T00:00:00+00:00")
    again.unchanged, again.extraction = True, None
    archive.record(again)
    # Any other write to columns the index does not hold.
    with archive.transaction():
        archive.db.execute("UPDATE articles SET fetched_at = ?, removed_at = ?, page_id = 1",
                           ["2024-04-01T00:00:00+00:00", "2024-04-01T00:00:00+00:00"])
    assert archive.db.execute("SELECT fetched_at FROM articles").fetchone()[0] == \
        "2024-04-01T00:00:00+00:00"
    assert index_blocks(archive.db) == before
    archive.close()


def test_a_new_text_or_language_re_indexes_the_article(tmp_path: Path) -> None:
    archive = stored(tmp_path)
    before = index_blocks(archive.db)
    archive.record(page(URL, body="Quetzalcoatlian envoys left.",
                        when="2024-03-01T00:00:00+00:00"))
    assert index_blocks(archive.db) != before
    aid = archive.db.execute("SELECT id FROM articles").fetchone()[0]
    assert hits(archive.path, "quetzalcoatlian") == [aid]
    assert hits(archive.path, "zanzibarian") == []
    # search_meta is generated from lang: a new language is a new index entry too.
    changed = index_blocks(archive.db)
    with archive.transaction():
        archive.db.execute("UPDATE articles SET lang = 'ru'")
    assert index_blocks(archive.db) != changed
    meta = archive.db.execute("SELECT count(*) FROM articles_fts WHERE articles_fts MATCH "
                              "'search_meta : mwlang7275'").fetchone()[0]
    assert meta == 1
    archive.close()


def test_the_old_trigger_rewrote_the_index_and_the_migration_fixes_it(tmp_path: Path) -> None:
    """Without 0012 the same fetched_at update writes the index (so the tests above can
    fail); applying 0012 to such an archive, twice, leaves one trigger that does not."""
    path = tmp_path / "old.db"
    archive = Archive(path)  # opening migrates: put sqlite-utils' trigger of 0005 back
    archive.db.execute("DROP TRIGGER articles_au")
    archive.db.execute(
        'CREATE TRIGGER "articles_au" AFTER UPDATE ON "articles" BEGIN '
        'INSERT INTO "articles_fts" ("articles_fts", rowid, "search_title", "search_text", '
        '"search_meta") VALUES(\'delete\', old.rowid, old."search_title", old."search_text", '
        'old."search_meta"); INSERT INTO "articles_fts" (rowid, "search_title", '
        '"search_text", "search_meta") VALUES (new.rowid, new."search_title", '
        'new."search_text", new."search_meta"); END')
    archive.sync_sources(parse_registry(REGISTRY))
    archive.record(page(URL, body="Zanzibarian delegates arrived."))
    before = index_blocks(archive.db)
    with archive.transaction():
        archive.db.execute("UPDATE articles SET fetched_at = 'x'")
    assert index_blocks(archive.db) != before
    m0012_fts_triggers(archive.db)
    m0012_fts_triggers(archive.db)
    assert archive.db.execute("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' "
                              "AND tbl_name = 'articles' AND name = 'articles_au'"
                              ).fetchone()[0] == 1
    before = index_blocks(archive.db)
    with archive.transaction():
        archive.db.execute("UPDATE articles SET fetched_at = 'y'")
    assert index_blocks(archive.db) == before
    assert hits(path, "zanzibarian")
    archive.close()


def test_a_fresh_archive_has_the_conditional_trigger(tmp_path: Path) -> None:
    db = open_db(tmp_path / "fresh.db")
    sql = db.execute("SELECT sql FROM sqlite_master WHERE name = 'articles_au'").fetchone()[0]
    assert "WHEN" in sql and '"search_text"' in sql and '"search_meta"' in sql
    assert migrations.pending(db) == []


def test_a_recheck_whose_body_changed_but_not_its_text_rewrites_no_derived_rows(
        tmp_path: Path) -> None:
    """A new sidebar (another body, another capture) with the same article text: the fetch
    is recorded, but the index, the mentions, the KWIC lines and framing_counts are left
    as they are (before, every mention and KWIC row was deleted and inserted again)."""
    archive = stored(tmp_path)
    archive.record(page("http://127.0.0.2:8000/news/2", body="Another story."))
    derived = "SELECT * FROM {} ORDER BY 1, 2, 3, 4, 5, 6"  # mentions, kwic: by id
    before = {t: archive.db.execute(derived.format(t)).fetchall()
              for t in ("mentions", "kwic", "framing_counts")}
    blocks = index_blocks(archive.db)
    assert before["mentions"] and before["kwic"]
    again = page(URL, body="Zanzibarian delegates arrived.", when="2024-03-01T00:00:00+00:00")
    again.body += b"<!-- a new sidebar -->"
    archive.record(again)
    assert archive.db.execute("SELECT count(*), max(fetched_at) FROM articles WHERE url = ?",
                              [URL]).fetchone() == (1, "2024-03-01T00:00:00+00:00")
    assert archive.db.execute("SELECT count(*) FROM pages WHERE url = ?", [URL]).fetchone() == (2,)
    assert archive.counters.articles_unchanged == 1
    for table, rows in before.items():
        assert archive.db.execute(derived.format(table)).fetchall() == rows, table
    assert index_blocks(archive.db) == blocks
    # A new text does rewrite them.
    archive.record(page(URL, body="Zanzibarian delegates left Gyumri and Karabakh.",
                        when="2024-04-01T00:00:00+00:00"))
    assert archive.db.execute(derived.format("mentions")).fetchall() != before["mentions"]
    archive.close()
