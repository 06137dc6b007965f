"""crawler/search (columns.py, query.py): normalised columns, the alias table, query expansion, the migration."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import sqlite_utils
from conftest import Crawl, query
from mediawatch_schema.migrations import migrations

from crawler.archive.core import Archive
from crawler.search.columns import SEARCH_VERSION, search_columns
from crawler.search.query import (
    AliasError,
    default_aliases,
    expand_query,
    explain,
    load_aliases,
)

pytestmark = pytest.mark.e2e


def test_search_columns_apply_the_one_normalisation() -> None:
    cols = search_columns("Па\u00adшинян и Алиёв", "Երևան, Հայաստա՞ն, Pashinyan\u2019s, Сю\u200bник")
    assert cols["search_title"] == "Пашинян и Алиев"
    assert "Երեւան" in cols["search_text"] and "Հայաստան" in cols["search_text"]
    assert "Pashinyan's" in cols["search_text"] and "Сюник" in cols["search_text"]
    assert search_columns(None, None) == {"search_title": "", "search_text": "",
                                          "search_version": SEARCH_VERSION}


def test_alias_table_is_versioned_and_covers_the_issue() -> None:
    table = default_aliases()
    assert table.version >= 1
    ids = {c.id for c in table.concepts}
    assert {"pashinyan", "putin", "lavrov", "artsakh", "syunik", "zangezur", "csto", "eaeu",
            "gyumri", "rome_statute", "peacekeepers", "yerevan", "moscow", "kremlin",
            "azerbaijan", "baku"} <= ids
    for concept in table.concepts:  # every concept is findable in all three languages
        assert {"en", "ru", "hy"} <= set(concept.variants), concept.id


@pytest.mark.parametrize("typed", ["Pashinyan", "Пашинян", "Пашиняна", "Пашиняном",
                                   "Փաշինյան", "Փաշինյանի", "pashinian"])
def test_every_form_of_a_name_expands_to_the_concept(typed: str) -> None:
    [clause] = explain(typed)
    assert clause.concept is not None and clause.concept.id == "pashinyan"


@pytest.mark.parametrize("typed,concept", [
    ("Nagorno-Karabakh", "artsakh"), ("Нагорный Карабах", "artsakh"), ("Арцаха", "artsakh"),
    ("Արցախի", "artsakh"), ("Siunik", "syunik"), ("Սյունիքի", "syunik"), ("ОДКБ", "csto"),
    ("ՀԱՊԿ-ից", "csto"), ("Zangezur corridor", "zangezur"), ("Римский статут", "rome_statute"),
    ("Երևանում", "yerevan"), ("Երեւանում", "yerevan"), ("Բաքվում", "baku")])
def test_names_in_every_script_find_their_concept(typed: str, concept: str) -> None:
    found = [c.concept.id for c in explain(typed) if c.concept]
    assert found == [concept]


def test_query_syntax_and_literal_switch() -> None:
    assert expand_query("") is None and expand_query("   ") is None
    assert expand_query("and the") is not None  # only stop words: keep them
    both = expand_query("Putin and Pashinyan")
    assert both and '"and"' not in both and "пашинян" in both and "путин" in both
    neg = expand_query("Azerbaijan -Baku")
    assert neg and neg.count("NOT") == 1 and "баку" in neg.split("NOT")[1]
    either = expand_query("Syunik OR Zangezur")
    assert either and " OR " in either and " AND " not in either
    assert expand_query("Artsakh", literal=True) == '"artsakh"'
    assert expand_query('"wine festival"', literal=True) == '"wine" + "festival"'
    assert expand_query("шахматы") == '"шахмат"*'  # no concept: light stem as a prefix


def test_alias_table_problems_are_reported(tmp_path: Path) -> None:
    bad = tmp_path / "aliases.toml"
    bad.write_text('[[concept]]\nid = "x"\nen = ["X"]\n', encoding="utf-8")
    with pytest.raises(AliasError, match="version"):
        load_aliases(bad)
    bad.write_text('version = 1\n[[concept]]\nid = "x"\nen = ["X"]\nfr = ["Y"]\n',
                   encoding="utf-8")
    with pytest.raises(AliasError, match="unknown keys"):
        load_aliases(bad)


def test_migration_reindexes_an_old_archive(tmp_path: Path) -> None:
    db = sqlite_utils.Database(tmp_path / "old.db")
    migrations.apply(db, stop_before="0002_search")
    assert "search_text" not in db.table("articles").columns_dict
    db.table("articles").insert({"id": "a", "url": "http://x/a", "title": "Встреча в Ереване",
                                 "text": "Пашинян и Путин обсудили партнёрство.",
                                 "first_seen_at": "t", "fetched_at": "t",
                                 "extraction_status": "ok"})
    migrations.apply(db)
    # The migrations are self-contained: they leave the old row stale, never half-indexed...
    assert db.execute("select search_text, search_version from articles").fetchone() == \
        (None, None)
    db.close()
    Archive(tmp_path / "old.db").close()  # ...and the first writer re-indexes it
    db = sqlite_utils.Database(tmp_path / "old.db")
    row = db.execute("select search_text, search_version from articles").fetchone()
    assert row == ("Пашинян и Путин обсудили партнерство.", SEARCH_VERSION)
    assert db.execute("select count(*) from articles_fts where articles_fts match ?",
                      [expand_query("партнерство")]).fetchone()[0] == 1
    triggers = {t.name for t in db.table("articles").triggers}
    assert {"articles_ai", "articles_ad", "articles_au"} <= triggers


def test_crawled_archive_searches_in_plain_sqlite_and_sqlite_utils(crawled: Crawl) -> None:
    # No custom tokenizer in the file: the stdlib sqlite3 module and the CLI both search it.
    conn = sqlite3.connect(crawled.db)
    sql = conn.execute("select sql from sqlite_master where name = 'articles_fts'").fetchone()[0]
    conn.close()
    assert "unicode61 remove_diacritics 2" in sql and "search_text" in sql
    expr = expand_query("Artsakh")
    assert expr
    langs = {r[0] for r in query(crawled.db, "select a.lang from articles_fts join articles a "
                                 "on a.rowid = articles_fts.rowid where articles_fts match ?",
                                 (expr,))}
    assert langs == {"en", "ru", "hy"}
    cli = Path(sys.executable).with_name("sqlite-utils")
    done = subprocess.run([str(cli), "search", str(crawled.db), "articles", "Gyumri",
                           "-c", "title"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "title" in done.stdout and len(done.stdout) > 20


def test_a_new_normaliser_reindexes_stale_rows_once(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "a.db")
    archive.db.table("articles").insert({
        "id": "a", "url": "http://x/a", "title": "Сюник", "text": "Пашинян в Сюнике.",
        "first_seen_at": "t", "fetched_at": "t", "extraction_status": "ok",
        "search_title": "stale", "search_text": "stale", "search_version": "search 0"})
    archive.db.execute("UPDATE archive_meta SET value = 'search 0' WHERE key = 'search_version'")
    archive.db.conn.commit()
    assert archive.reindex_search() == 1
    row = archive.db.execute("select search_text, search_version from articles").fetchone()
    assert row == ("Пашинян в Сюнике.", SEARCH_VERSION)
    assert archive.db.execute("select count(*) from articles_fts where articles_fts match ?",
                              [expand_query("Сюник")]).fetchone()[0] == 1
    assert archive.reindex_search() == 0  # current: one lookup, nothing rebuilt
    archive.close()
