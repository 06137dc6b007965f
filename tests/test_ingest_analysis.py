"""CPU-bound work per article runs next to extraction; the archive only inserts its results."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import Crawl, query
from mediawatch_schema.migrations import framing_counts_sql

from crawler.archive.core import Archive
from crawler.framing.featblob import decode, features_key
from crawler.framing.features import featurize
from crawler.framing.kwic import analysis_key
from crawler.framing.lexicon import LEXICON_PATH, load_lexicon
from crawler.ingest.extraction import extract_and_analyse
from crawler.items import FetchedPage
from crawler.registry.model import Topic, parse_registry
from crawler.registry.topic import TopicMatcher
from extract import extract_article

pytestmark = pytest.mark.e2e

PAGE = Path(__file__).parent / "pages" / "en-newsaz-counteroffensive" / "input.html"
TOPIC = Topic("t", "T", (("Armenia*",), ("Karabakh*", "Azerbaijan*")))


def test_worker_results_equal_what_the_archive_would_compute() -> None:
    body = PAGE.read_bytes()
    result, topic, framing = extract_and_analyse(body, "http://x.example/a", {}, TOPIC, None)
    assert result == extract_article(body, "http://x.example/a")
    assert topic == TopicMatcher(TOPIC).match(result.title, result.text)
    assert topic.on_topic and framing["mentions"]
    assert framing["lexicon"] == load_lexicon(LEXICON_PATH).version
    assert framing["key"] == analysis_key(result.title, result.text, result.lang)


def _article(tmp_path: Path, framing: dict | None) -> tuple[Path, str]:
    body = PAGE.read_bytes()
    result, topic, computed = extract_and_analyse(body, "http://x.example/a", {}, TOPIC, None)
    page = FetchedPage(source_id="x", url="http://x.example/a", kind="article",
                       discovered_via="seed", fetched_at="2026-01-01T00:00:00+00:00",
                       status=200, body=body, extraction=result, topic=topic)
    page.framing = computed if framing is None else {**computed, **framing}
    db = tmp_path / "archive.db"
    archive = Archive(db)
    try:
        archive.sync_sources(parse_registry({
            "topic": {"id": "t", "name": "T", "require": [["Armenia*"]]},
            "source": [{"id": "x", "name": "X", "homepage": "http://x.example/",
                        "language": "en", "country": "DE", "kind": "independent"}]}))
        aid = archive.record(page)
    finally:
        archive.close()
    assert aid
    return db, aid


def test_the_archive_inserts_a_matching_analysis_as_computed(tmp_path: Path) -> None:
    body = PAGE.read_bytes()
    _, _, computed = extract_and_analyse(body, "http://x.example/a", {}, TOPIC, None)
    probe = {**computed["mentions"][0], "n": 777}  # a count no recomputation would give
    db, _ = _article(tmp_path, {"mentions": [probe]})
    assert query(db, "select variant, n from mentions") == [(probe["variant"], 777)]


def test_an_analysis_of_other_text_or_lexicon_is_recomputed(tmp_path: Path) -> None:
    db, _ = _article(tmp_path / "a", {"key": "other text", "mentions": []})
    stale, _ = _article(tmp_path / "b", {"lexicon": "0+old", "mentions": []})
    fresh, _ = _article(tmp_path / "c", None)
    rows = "select concept, variant, naming, n from mentions order by 1, 2"
    assert query(db, rows) == query(fresh, rows) == query(stale, rows) != []


def test_the_worker_queues_story_features_of_the_stored_article(tmp_path: Path) -> None:
    db, aid = _article(tmp_path, None)
    archive = Archive(db)
    try:
        row = archive.db.execute("SELECT title, text, lang FROM articles WHERE id = ?",
                                 [aid]).fetchone()
        key, blob = archive.db.execute("SELECT features_key, features FROM story_changes "
                                       "WHERE article_id = ?", [aid]).fetchone()
        lexicon = archive.framing.framing_lexicon()
    finally:
        archive.close()
    assert key == features_key(*row, lexicon.version)
    hits = query(db, "select \"offset\", \"offset\" + length(hit), concept from kwic "
                     "where kind = 'naming' and field = 'text' order by 1, 2, 3")
    expected = featurize(*row, lexicon, [tuple(h) for h in hits])
    got = decode(blob)
    assert got is not None and got.counts == expected.counts and got.counts
    assert got.copy.anchors == expected.copy.anchors
    assert (got.signature == expected.signature).all()


def test_crawled_mentions_equal_a_full_reframe(crawled: Crawl, tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    shutil.copy(crawled.db, db)
    rows = "select article_id, concept, variant, naming, n from mentions order by 1, 2, 3"
    lines = "select article_id, variant, field, \"offset\", hit from kwic order by 1, 2, 3, 4"
    # framing_counts is recomputed at the end of a reframe (its mention triggers set aside):
    # the same counts (rows that fell to zero aside), the same triggers afterwards.
    counts = "select * from framing_counts where articles or mentions or words order by 1, 2, 3, 4, 5, 6"
    schema = "select name, sql from sqlite_master order by name"
    before = query(db, rows), query(db, lines), query(db, counts), query(db, schema)
    assert before[0] and before[1] and before[2]
    archive = Archive(db)
    try:
        archive.framing.reframe()
    finally:
        archive.close()
    assert (query(db, rows), query(db, lines), query(db, counts), query(db, schema)) == before
    assert set(query(db, counts)) == {r for r in query(db, framing_counts_sql())
                                      if r[6] or r[7] or r[8]}
