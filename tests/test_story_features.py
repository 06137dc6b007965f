"""Story features computed by the extraction workers: queued with the article, read by the
next story build instead of featurizing the text again, and never trusted blindly."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers.stories import fixture_docs, store_docs

import crawler.archive.stories as stories_module
from crawler.archive import framing as framing_module
from crawler.archive.core import Archive
from crawler.framing import featblob
from crawler.framing.features import Features, featurize
from crawler.framing.lexicon import LEXICON_PATH, load_lexicon
from crawler.framing.stories import StoryDoc

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def docs() -> list[StoryDoc]:
    return fixture_docs()


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[Archive]:
    a = Archive(tmp_path / "archive.db")
    yield a
    a.close()


def store(archive: Archive, docs: list[StoryDoc], features: bool) -> None:
    store_docs(archive, docs, features)


def links(archive: Archive) -> list[tuple[Any, ...]]:
    return archive.db.execute("SELECT article_id, story_id, copy_of, role, copy_basis, score "
                              "FROM story_articles ORDER BY article_id").fetchall()


def featurized(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record the titles of the articles the build featurizes itself."""
    seen: list[str] = []
    real = stories_module.featurize_all

    def spy(batches: Any, lexicon: Any, jobs: int = 1) -> Iterator[list[Features]]:
        def read() -> Iterator[Any]:
            for batch in batches:
                seen.extend(item[0] for item in batch)
                yield batch
        return real(read(), lexicon, jobs)

    monkeypatch.setattr(stories_module, "featurize_all", spy)
    return seen


def same(a: Features, b: Features) -> None:
    assert a.lang == b.lang and a.counts == b.counts
    assert a.copy.stems == b.copy.stems and a.copy.anchors == b.copy.anchors
    for x, y in ((a.copy.shingles, b.copy.shingles), (a.copy.quoted, b.copy.quoted),
                 (a.signature, b.signature)):
        assert x.dtype == y.dtype and np.array_equal(x, y)


def test_features_survive_their_bytes(docs: list[StoryDoc]) -> None:
    lexicon = load_lexicon(LEXICON_PATH)
    for d in docs[:20]:
        feats = featurize(d.title, d.text, d.lang, lexicon)
        back = featblob.decode(featblob.encode(feats))
        assert back is not None
        same(feats, back)


def test_bytes_that_are_not_features_decode_to_nothing(docs: list[StoryDoc]) -> None:
    blob = featblob.encode(featurize(docs[0].title, docs[0].text, docs[0].lang, None))
    for bad in (b"", b"garbage", blob[:-3], blob + b"x", b"MWF1" + blob[4:],
                blob[:24] + b"\x00" * (len(blob) - 24)):
        assert featblob.decode(bad) is None


def test_the_key_names_text_title_language_and_lexicon() -> None:
    key = featblob.features_key("T", "text", "en", "lex-1")
    assert key == featblob.features_key("T", "text", "en", "lex-1")
    assert len({key, featblob.features_key("T", "text!", "en", "lex-1"),
                featblob.features_key("T2", "text", "en", "lex-1"),
                featblob.features_key("T", "text", "ru", "lex-1"),
                featblob.features_key("T", "text", "en", "lex-2")}) == 5


def test_a_build_uses_queued_features_and_clusters_alike(
        tmp_path: Path, docs: list[StoryDoc], monkeypatch: pytest.MonkeyPatch) -> None:
    plain = Archive(tmp_path / "plain.db")
    store(plain, docs, features=False)
    plain.framing.update_stories()
    expected = links(plain)
    plain.close()

    queued = Archive(tmp_path / "queued.db")
    store(queued, docs, features=True)
    assert queued.db.execute("SELECT count(*) FROM story_changes "
                             "WHERE features IS NOT NULL").fetchone()[0] == len(docs)
    seen = featurized(monkeypatch)
    queued.framing.update_stories()
    assert seen == []  # every article's features came from the queue
    assert links(queued) == expected and expected
    assert queued.db.execute("SELECT count(*) FROM story_changes").fetchone()[0] == 0
    queued.close()


def test_features_of_an_older_text_are_computed_again(
        archive: Archive, docs: list[StoryDoc], monkeypatch: pytest.MonkeyPatch) -> None:
    store(archive, docs, features=True)
    edited, garbled = docs[3], docs[5]
    archive.db.execute("UPDATE articles SET text = text || ' Updated later.' WHERE id = ?",
                       [edited.id])
    # A blob that does not decode (an archive from elsewhere) is computed again too.
    archive.db.execute("UPDATE story_changes SET features = X'00' WHERE article_id = ?",
                       [garbled.id])
    seen = featurized(monkeypatch)
    archive.framing.update_stories()
    assert sorted(seen) == sorted([edited.title, garbled.title])
    expected = links(archive)
    monkeypatch.undo()
    archive.framing.rebuild_stories()  # queue empty now: every text featurized here
    assert links(archive) == expected


def test_a_long_backlog_stops_queueing_features(
        archive: Archive, docs: list[StoryDoc], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(framing_module, "FEATURE_BACKLOG", 4)
    store(archive, docs[:10], features=True)
    assert archive.db.execute("SELECT count(*) FROM story_changes "
                              "WHERE features IS NOT NULL").fetchone()[0] == 4
    archive.framing.update_stories()  # the build takes them off and counts again
    store(archive, docs[10:20], features=True)
    assert archive.db.execute("SELECT count(*) FROM story_changes "
                              "WHERE features IS NOT NULL").fetchone()[0] == 4


def _kept(archive: Archive) -> set[str]:
    return {r[0] for r in archive.db.execute("SELECT article_id FROM story_features")}


def _reprints(docs: list[StoryDoc], n: int) -> list[StoryDoc]:
    """Verbatim reprints of the `n` newest articles, a day after the newest one."""
    newest = sorted((d for d in docs if d.published), key=lambda d: d.published or "")[-n:]
    return [StoryDoc(f"reprint-{i}", "reprinter.example", d.lang, "2025-05-21T12:00:00+00:00",
                     d.title, d.text) for i, d in enumerate(newest)]


def test_a_build_keeps_the_newest_features_and_the_next_update_reads_them(
        tmp_path: Path, docs: list[StoryDoc], monkeypatch: pytest.MonkeyPatch) -> None:
    kept = Archive(tmp_path / "kept.db")
    store(kept, docs, features=False)
    kept.framing.rebuild_stories()  # computes every text: keeps the copy window's
    recent = {d.id for d in docs if (d.published or "")[:10] >= "2025-03-20"}  # 61 days
    assert recent and _kept(kept) == recent
    reprints = _reprints(docs, 4)
    store(kept, reprints, features=True)  # as a crawl stores them
    before = kept.framing._story_store().vocabulary()
    assert before is not None
    lexicon = kept.framing.framing_lexicon()
    seen = featurized(monkeypatch)
    kept.framing.update_stories()
    assert seen == []  # the originals the reprints are compared with came from the cache
    # The update rewrote only the vocabulary rows the reprints counted in.
    expected = before.extended(featurize(d.title, d.text, d.lang, lexicon).terms()
                               for d in reprints)
    after = kept.framing._story_store().vocabulary()
    assert after is not None and (after.n, after.df) == (expected.n, expected.df)
    assert _kept(kept) == recent | {d.id for d in reprints}  # queued features kept too
    monkeypatch.undo()

    bare = Archive(tmp_path / "bare.db")  # same story, nothing kept: computed again
    store(bare, docs, features=False)
    bare.framing.rebuild_stories()
    bare.db.execute("DELETE FROM story_features")
    store(bare, reprints, features=False)
    seen = featurized(monkeypatch)
    bare.framing.update_stories()
    assert len(seen) > len(reprints)  # the reprints and their originals
    assert links(kept) == links(bare)
    copies = kept.db.execute("SELECT count(*) FROM story_articles WHERE article_id LIKE "
                             "'reprint-%' AND copy_of IS NOT NULL").fetchone()[0]
    assert copies == len(reprints)
    kept.close()
    bare.close()


def test_kept_features_of_a_stale_text_or_a_gone_article_are_not_used(
        archive: Archive, docs: list[StoryDoc], monkeypatch: pytest.MonkeyPatch) -> None:
    store(archive, docs, features=False)
    archive.framing.rebuild_stories()
    newest = sorted(_kept(archive))
    edited, gone = newest[0], newest[1]
    archive.db.execute("UPDATE articles SET text = text || ' Corrected.' WHERE id = ?", [edited])
    archive.db.execute("UPDATE articles SET extraction_status = 'error' WHERE id = ?", [gone])
    seen = featurized(monkeypatch)
    archive.framing.update_stories()
    titles = dict(archive.db.execute("SELECT id, title FROM articles"))
    assert titles[edited] in seen  # its kept features no longer match its text
    assert gone not in _kept(archive) and edited in _kept(archive)
    key = archive.db.execute("SELECT features_key FROM story_features WHERE article_id = ?",
                             [edited]).fetchone()[0]
    row = archive.db.execute("SELECT title, text, lang FROM articles WHERE id = ?",
                             [edited]).fetchone()
    assert key == featblob.features_key(*row, archive.framing.framing_lexicon().version)


def test_a_public_build_leaves_out_queued_and_kept_features(
        tmp_path: Path, docs: list[StoryDoc]) -> None:
    from conftest import run_mediawatch

    db = tmp_path / "archive.db"
    archive = Archive(db)
    store(archive, docs[:20], features=False)
    archive.framing.rebuild_stories()
    store(archive, _reprints(docs, 2), features=True)  # queued, not built yet
    assert archive.db.execute("SELECT count(*) FROM story_changes WHERE features IS NOT NULL"
                              ).fetchone()[0] == 2
    assert archive.db.execute("SELECT count(*) FROM story_features").fetchone()[0] > 0
    archive.close()
    public = tmp_path / "public.db"
    done = run_mediawatch("publish", "--db", str(db), "--public", str(public))
    assert done.returncode == 0, done.stderr
    import sqlite3

    tables = {r[0] for r in sqlite3.connect(public).execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "articles" in tables and "story_features" not in tables
    assert sqlite3.connect(public).execute(
        "SELECT count(*) FROM story_changes WHERE features IS NOT NULL "
        "OR features_key IS NOT NULL").fetchone()[0] == 0
