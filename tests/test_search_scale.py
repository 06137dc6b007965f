"""Search at scale: the bench's bulk path is the real ingest path; the scale indexes are used.

bench/search_scale.py times archives of up to a million articles written by a bulk path
(bench/scale_build.py). These tests write the same generated articles through
Archive.record and check that both archives are the same archive, that framing_counts
(migration 0005) stays equal to its definition through every kind of write, and that the
statements of the search, article, facet and framing pages use indexes, not scans.
"""

from __future__ import annotations

import re
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import sqlite_utils
from conftest import load_bench
from mediawatch_schema import migrations as schema

from crawler.search.pasted import ARTICLE_FOR_URL_SQL, url_params
from crawler.search.query import expand_query
from extract.normalize import fold

pytestmark = pytest.mark.unit

N = 300
SKIP_COLUMNS = {"warc_file", "warc_offset", "warc_length", "synced_at"}  # no WARC in bulk
# Built by the generator's events in bulk, by re-clustering on the real path.
GENERATED = {"stories", "story_articles", "framing_counts",
             "article_days"}  # (its `independent` follows the stories; checked below)


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    """bench/search_scale.py and its helpers, importable."""
    bench_dir = str(Path(__file__).resolve().parents[1] / "bench")
    if bench_dir not in sys.path:
        sys.path.insert(0, bench_dir)
    return load_bench("search_scale")


@pytest.fixture(scope="module")
def archives(bench: ModuleType, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[tuple[Path, Path]]:
    """The same N generated articles written by the bulk path and by Archive.record."""
    import scale_build
    import scale_corpus
    from scale_specs import Recipe

    folder = tmp_path_factory.mktemp("scale")
    recipe = Recipe(N, scale_corpus.build_pools(200), scale_corpus.registry())
    bulk, real = folder / "bulk.db", folder / "real.db"
    assert scale_build.write_bulk(bulk, recipe, workers=0) == scale_build.write_real(real, recipe)
    yield bulk, real


def rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_bulk_path_writes_the_archive_the_real_path_writes(archives: tuple[Path, Path]) -> None:
    bulk, real = archives
    master = "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
    assert rows(bulk, master) == rows(real, master)  # tables, columns, indexes, triggers, views
    tables = [t for (t,) in rows(real, "SELECT name FROM sqlite_master WHERE type = 'table' "
                                       "AND name NOT LIKE 'articles_fts%' AND sql NOT LIKE "
                                       "'CREATE VIRTUAL%'")]
    for table in tables:
        if table in GENERATED or table == "_sqlite_migrations":
            continue
        cols = [c for _, c, *_ in rows(real, f"PRAGMA table_info({table})")
                if c not in SKIP_COLUMNS]
        sql = f"SELECT {', '.join(repr(c).replace(chr(39), chr(34)) for c in cols)} " \
              f"FROM {table} ORDER BY rowid"
        got, want = rows(bulk, sql), rows(real, sql)
        assert got == want, table
        assert got or table not in ("articles", "pages", "url_state", "article_dates",
                                    "article_versions", "mentions", "kwic", "sources"), table
    for db in archives:
        assert rows(db, "INSERT INTO articles_fts(articles_fts) VALUES('integrity-check')") == []
        assert rows(db, "SELECT count(*) FROM articles_fts")[0][0] == N - rows(
            db, "SELECT count(*) FROM pages WHERE outcome = 'not_article'")[0][0]


def test_searches_find_the_same_expected_articles(archives: tuple[Path, Path]) -> None:
    bulk, real = archives
    texts = rows(real, "SELECT rowid, title, text FROM articles ORDER BY rowid")
    for query in ("Pashinyan", "Սյունիք", "переговоры", "Putin", "Ереван"):
        expr = expand_query(query)
        prefixes = tuple(re.findall(r'"([^"]+)"\*', expr))  # every spelling is a prefix here
        assert prefixes and len(prefixes) == expr.count('"') // 2, expr
        sql = "SELECT rowid FROM articles_fts WHERE articles_fts MATCH '{}' ORDER BY 1".format(
            expr.replace("'", "''"))
        found = rows(bulk, sql)
        assert found and found == rows(real, sql), query
        expected = [(rowid,) for rowid, title, text in texts
                    if any(w.startswith(prefixes) for w in re.findall(r"\w+", fold(
                        f"{title} {text}")))]
        assert found == expected, query


def _check_counts(conn: sqlite3.Connection) -> None:
    have = set(conn.execute("SELECT * FROM framing_counts "
                            "WHERE articles != 0 OR mentions != 0 OR words != 0").fetchall())
    assert have == set(conn.execute(schema.framing_counts_sql()).fetchall())
    conn.execute("DROP TABLE IF EXISTS temp.fresh_days")  # article_days (migration 0010) too
    conn.execute("CREATE TEMP TABLE fresh_days AS SELECT * FROM article_days WHERE 0")
    conn.execute(schema.article_days_sql().replace("INTO article_days", "INTO fresh_days"))
    assert set(conn.execute("SELECT * FROM article_days")) == set(
        conn.execute("SELECT * FROM temp.fresh_days"))
    for view, old in (("naming_share", schema._NAMING_SHARE), ("naming_rate", schema._NAMING_RATE),
                      ("attention", schema._ATTENTION)):
        conn.execute(f"DROP VIEW IF EXISTS temp.old_{view}")
        conn.execute(old.replace(f"CREATE VIEW {view}", f"CREATE TEMP VIEW old_{view}"))
        new = sorted(map(repr, conn.execute(f"SELECT * FROM {view}")))
        assert new == sorted(map(repr, conn.execute(f"SELECT * FROM old_{view}"))), view


def test_framing_counts_follow_every_write(archives: tuple[Path, Path], tmp_path: Path) -> None:
    bulk, real = archives
    with sqlite3.connect(bulk) as conn:
        _check_counts(conn)  # the bulk path's backfill, with stories
    db = tmp_path / "archive.db"
    with sqlite3.connect(real) as src, sqlite3.connect(db) as dst:
        src.backup(dst)
    conn = sqlite3.connect(db)
    _check_counts(conn)  # Archive.record, one article at a time
    conn.execute("ATTACH DATABASE ? AS bulk", [str(bulk)])
    with conn:  # stories arrive (the bulk archive's: copies, translations), as a rebuild does
        conn.execute("INSERT INTO stories SELECT * FROM bulk.stories")
        conn.execute("INSERT INTO story_articles SELECT * FROM bulk.story_articles")
    _check_counts(conn)
    with conn:  # copies become reports and back; mentions move; articles change
        conn.execute("UPDATE story_articles SET role = 'translation' WHERE rowid IN "
                     "(SELECT rowid FROM story_articles WHERE role = 'report' LIMIT 3)")
        conn.execute("UPDATE story_articles SET role = 'report' WHERE rowid IN "
                     "(SELECT rowid FROM story_articles WHERE role != 'report' LIMIT 2)")
        conn.execute("DELETE FROM story_articles WHERE rowid IN (SELECT rowid FROM "
                     "story_articles WHERE role = 'republication' LIMIT 2)")
        conn.execute("UPDATE mentions SET naming = 'international' WHERE rowid IN "
                     "(SELECT rowid FROM mentions LIMIT 5)")
        conn.execute("UPDATE mentions SET concept = 'syunik' WHERE rowid IN "
                     "(SELECT rowid FROM mentions WHERE concept = 'karabakh' LIMIT 3)")
        conn.execute("UPDATE articles SET published_month = '2031-01', lang = NULL, "
                     "word_count = word_count + 7 WHERE rowid IN (SELECT rowid FROM articles "
                     "WHERE id IN (SELECT article_id FROM mentions) LIMIT 10)")
        conn.execute("UPDATE articles SET republication_of = 'https://x.invalid/', "
                     "extraction_status = 'empty' WHERE rowid IN (SELECT rowid FROM articles "
                     "LIMIT 3 OFFSET 30)")
        conn.execute("DELETE FROM articles WHERE rowid IN (SELECT rowid FROM articles LIMIT 4 "
                     "OFFSET 90)")
    _check_counts(conn)
    with conn:  # a reframe: every mention goes, then comes back
        conn.execute("CREATE TEMP TABLE kept AS SELECT * FROM mentions")
        conn.execute("DELETE FROM mentions")
        _check_counts(conn)
        conn.execute("INSERT INTO mentions SELECT * FROM kept")
    _check_counts(conn)
    with conn:  # a story rebuild: every link goes, then comes back
        conn.execute("DELETE FROM story_articles")
        _check_counts(conn)
        conn.execute("INSERT INTO story_articles SELECT * FROM bulk.story_articles")
    _check_counts(conn)
    conn.close()


def _plan(conn: sqlite3.Connection, sql: str, params: Any = ()) -> str:
    return "\n".join(r[-1] for r in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params))


def test_scale_indexes_exist_and_the_key_queries_use_them(bench: ModuleType,
                                                          tmp_path: Path) -> None:
    db = sqlite_utils.Database(tmp_path / "fresh.db")
    schema.migrations.apply(db)
    names = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
    assert {"articles_lang", "articles_month", "articles_url", "articles_fingerprint",
            "articles_republication", "articles_framing", "pages_outcome", "framing_counts",
            "articles_fts", "articles_source_month", "articles_topic_source",
            "pages_source_outcome",
            "framing_counts_ai", "framing_counts_mi", "framing_counts_si"} <= names
    assert "search_meta" in {r[1] for r in db.execute("PRAGMA table_xinfo(articles)")}
    fts = db.execute("SELECT sql FROM sqlite_master WHERE name = 'articles_fts'").fetchone()[0]
    assert '"search_meta"' in fts and "content=\"articles\"" in fts
    db.conn.close()
    conn = bench.connect(tmp_path / "fresh.db")
    pages, framing = bench.plugin("pages_archive"), bench.plugin("framing_pages")
    for filters in ({}, {"lang": "ru", "source": "tass"}):
        sql = pages.search_sql(expand_query("Pashinyan"), **filters)
        # newest first straight from the index, each row read once: no sort, no scan
        window = _plan(conn, sql["window"], sql["params"])
        assert window.startswith("SCAN articles_fts VIRTUAL TABLE INDEX") and "B-TREE" not in window
        assert window.split("\n")[1:] == ["SEARCH a USING INTEGER PRIMARY KEY (rowid=?)"]
        assert _plan(conn, sql["total"], sql["params"]).count("\n") == 0  # the index alone
        hits = _plan(conn, pages.hits_sql([3, 1, 2]), sql["params"])
        assert ":M3><" in hits.split("\n")[0]  # one pass over the index, bounded to the page
    assert "COVERING INDEX articles_lang" in _plan(conn, pages.LANGUAGES_SQL)
    elsewhere = _plan(conn, pages.ELSEWHERE_SQL, {"id": "x", "url": "u", "canon": "c",
                                                  "rep": "r", "fp": "f"})
    for index in ("articles_republication", "articles_url", "articles_canonical",
                  "articles_fingerprint"):
        assert index in elsewhere
    assert "SCAN articles" not in elsewhere
    pasted = _plan(conn, ARTICLE_FOR_URL_SQL, url_params("https://x.example/a?utm_source=y"))
    assert "MULTI-INDEX OR" in pasted and "SCAN" not in pasted, pasted
    p = {"concept": "karabakh", "from": "2024-01", "to": "2024-12", "lang": ""}
    for concept in ("karabakh", "frames"):
        for name, sql in framing.compare_sql(concept).items():
            plan = _plan(conn, sql, p)
            assert "SEARCH c USING PRIMARY KEY" in plan and "articles" not in plan, (name, plan)
    # Each facet counts from an index that leads with its column, never the table (which of
    # two such indexes SQLite picks for source_id depends on the statistics).
    for col, indexes in (("lang", ("articles_lang",)), ("published_month", ("articles_month",)),
                         ("source_id", ("articles_source_published", "articles_source_month"))):
        facet = (f"select {col} as value, count(*) as count from (select * from articles) "
                 f"where {col} is not null group by {col} order by count desc, value limit 31")
        plan = _plan(conn, facet)
        assert any(f"COVERING INDEX {index} " in plan for index in indexes), plan
    failures = ("select * from pages where outcome in ('empty', 'not_article') "
                "order by last_fetched_at desc")
    assert "pages_outcome" in _plan(conn, failures)
    # Datasette's table view of a broad search walks the date index instead of reading and
    # sorting every matching row (datasette/plugins/search_expand.py)
    expand = bench.plugin("search_expand")
    table = "select * from articles where {} order by published desc limit 51"
    plan = _plan(conn, table.format(expand.search_clause(True)), {"mw_search": "x"})
    assert plan.startswith("SCAN articles USING INDEX articles_published"), plan
    plan = _plan(conn, table.format(expand.search_clause(False)), {"mw_search": "x"})
    assert plan.startswith("SEARCH articles USING INTEGER PRIMARY KEY"), plan
    charts = bench.plugin("pages_charts")
    for name, index in (("weekly", "COVERING INDEX articles_topic_source"),
                        ("lang", "COVERING INDEX articles_lang"),
                        ("outcomes", "COVERING INDEX pages_source_outcome")):
        assert index in _plan(conn, charts.SQL[name]), name
    outlet = ("select published_month, count(*), sum(on_topic) from articles where source_id = ?"
              " and published_month is not null group by published_month order by 1")
    assert "COVERING INDEX articles_source_month" in _plan(conn, outlet, ["x"])
    # KWIC lines in date order, either way: found through each article, never a concept's
    # every line
    for p in ({"concept": "karabakh", "naming": "international"},
              {"concept": "karabakh", "source": "tass", "naming": "generic", "from": "2024-01"},
              {"concept": "karabakh", "naming": "international", "order": "newest"},
              {"concept": "karabakh", "source": "tass", "naming": "generic", "to": "2024-01",
               "order": "newest"}):
        plan = _plan(conn, framing.kwic_sql(p, lines=10**9), p)
        assert "kwic_article" in plan and "kwic_concept" not in plan, plan


def test_search_ranks_the_newest_matches_and_counts_them_all(
        bench: ModuleType, archives: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    pages = bench.plugin("pages_archive")
    assert str(pages.AtLeast(4321)) == "4,321+" and pages.AtLeast(3) + 1 == 4
    conn = bench.connect(archives[1])
    expr = expand_query("Pashinyan")
    everything = [r for (r,) in conn.execute(
        "SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? ORDER BY rowid DESC", [expr])]
    assert 5 < len(everything) < pages.RANK_WINDOW

    def ranked(rowids: list[int]) -> list[str]:  # best first, titles weigh ten times the text
        return [r[0] for r in conn.execute(
            "SELECT a.id FROM articles_fts JOIN articles a ON a.rowid = articles_fts.rowid "
            f"WHERE articles_fts MATCH ? AND articles_fts.rowid IN ({','.join('?' * len(rowids))})"
            " ORDER BY bm25(articles_fts, 10.0, 1.0, 0.0), a.published DESC", [expr, *rowids])]

    found = pages.run_search(conn, expr)  # everything fits the window: exact, as before
    assert [h["id"] for h in found["hits"]] == ranked(everything)[:pages.PAGE_SIZE]
    assert found["total"] == len(everything)
    assert all(type(n) is int for _, n in found["by_lang"])
    assert all("\u27e6" in h["snippet"] + (h["title_hl"] or "") for h in found["hits"])
    monkeypatch.setattr(pages, "RANK_WINDOW", 5)
    monkeypatch.setattr(pages, "PAGE_SIZE", 3)
    found = pages.run_search(conn, expr)
    assert [h["id"] for h in found["hits"]] == ranked(everything[:5])[:3]  # newest five
    assert found["total"] == len(everything)  # still exact
    assert sum(found["by_lang"][i][1] for i in range(len(found["by_lang"]))) == 5
    assert all(isinstance(n, pages.AtLeast) for _, n in found["by_lang"])
    assert len(pages.run_search(conn, expr, page=2)["hits"]) == 3  # the window grows
    # Filters are index terms: the same articles as filtering the rows.
    for lang, source, on_topic in (("ru", "", ""), ("", "tass", ""), ("hy", "", "1")):
        want = conn.execute(
            "SELECT count(*) FROM articles_fts JOIN articles a ON a.rowid = articles_fts.rowid "
            "WHERE articles_fts MATCH ? AND (? = '' OR a.lang = ?) AND (? = '' OR "
            "a.source_id = ?) AND (? = '' OR a.on_topic = ?)",
            [expr, lang, lang, source, source, on_topic, on_topic]).fetchone()[0]
        filtered = pages.run_search(conn, expr, lang=lang, source=source, on_topic=on_topic)
        assert filtered["total"] == want
