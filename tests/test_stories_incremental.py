"""Incremental story updates after a crawl: same stories as a full rebuild, less read."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from conftest import load_bench, run_mediawatch

from crawler.archive.core import Archive
from crawler.framing.stories import StoryDoc, StoryParams, parse_when

pytestmark = pytest.mark.e2e

CUT = "2024-09-01"  # the first build sees the fixture up to here, the update the rest
FETCHED = "2026-01-01T00:00:00+00:00"


@pytest.fixture(scope="module")
def docs() -> list[StoryDoc]:
    bench: ModuleType = load_bench("framing_eval")
    return list(bench.load_fixture()[0])


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[Archive]:
    a = Archive(tmp_path / "archive.db")
    yield a
    a.close()


def store(archive: Archive, docs: list[StoryDoc]) -> None:
    """Articles as the ingest path leaves them: extracted text plus their mentions."""
    with archive.transaction():
        for outlet in sorted({d.source_id for d in docs}):
            archive.db.table("sources").insert(
                {"id": outlet, "name": outlet, "homepage": f"https://{outlet}/",
                 "language": "[]", "country": "", "kind": "news"}, ignore=True)
        for d in docs:
            archive.db.table("articles").insert({
                "id": d.id, "source_id": d.source_id, "url": f"https://{d.id}",
                "title": d.title, "text": d.text, "lang": d.lang, "published": d.published,
                "published_month": (d.published or "")[:7], "first_seen_at": FETCHED,
                "fetched_at": FETCHED, "extraction_status": "ok", "on_topic": 1})
            archive.framing.store_mentions(d.id)


def memberships(archive: Archive) -> set[frozenset[str]]:
    """Stories as sets of article ids."""
    groups: dict[str, set[str]] = {}
    for sid, aid in archive.db.execute("SELECT story_id, article_id FROM story_articles"):
        groups.setdefault(sid, set()).add(aid)
    return {frozenset(g) for g in groups.values()}


def snapshot(archive: Archive) -> list[tuple]:
    return archive.db.execute(
        "SELECT s.rowid, s.id, s.built_at, sa.rowid, sa.article_id, sa.role "
        "FROM stories s JOIN story_articles sa ON sa.story_id = s.id ORDER BY sa.article_id"
    ).fetchall()


def built_at(archive: Archive) -> str:
    return archive.db.execute(
        "SELECT value FROM framing_settings WHERE key = 'stories_built_at'").fetchone()[0]


def test_update_after_new_articles_equals_a_full_rebuild(
        archive: Archive, docs: list[StoryDoc]) -> None:
    first = [d for d in docs if (d.published or "") < CUT]
    rest = [d for d in docs if d not in first]
    assert len(first) >= 25 and len(rest) >= 10
    store(archive, first)
    first_update = archive.framing.update_stories()
    assert first_update.full  # no build yet: everything
    old_rows = {r[4]: r for r in snapshot(archive)}

    store(archive, rest)
    done = archive.framing.update_stories()
    assert not done.full
    incremental = memberships(archive)
    assert set().union(*incremental) == {d.id for d in docs}
    # Stories that ended long before the new articles were neither read nor rewritten.
    reach = StoryParams().reach_days() * 86400
    dates = {d.id: parse_when(d.published) for d in docs}
    new_dates = [dates[d.id] for d in rest]
    far = {d.id for d in first
           if min(abs((dates[d.id] - n).total_seconds()) for n in new_dates) > reach}
    assert len(far) >= 20 and not far & set(done.loaded)
    assert {d.id for d in rest} <= set(done.loaded) < {d.id for d in docs}
    for row in snapshot(archive):
        if row[4] in far:
            assert row == old_rows[row[4]]  # same story id, row ids and built_at

    full = archive.framing.rebuild_stories()
    assert memberships(archive) == incremental
    assert full[1] == len(docs)


def test_update_with_nothing_new_does_nothing(archive: Archive, docs: list[StoryDoc]) -> None:
    store(archive, docs)
    archive.framing.rebuild_stories()
    before, stamp = snapshot(archive), built_at(archive)
    done = archive.framing.update_stories()
    assert not done.full and done.loaded == [] and done.stories == 0 and done.dropped == 0
    assert snapshot(archive) == before and built_at(archive) == stamp


def test_update_reads_only_the_window_around_what_changed(
        archive: Archive, docs: list[StoryDoc]) -> None:
    store(archive, docs)
    archive.framing.rebuild_stories()
    before = {r[4]: r for r in snapshot(archive)}
    changed = "hynews/2020-11-10-hradadar.md"  # only 2020 articles are within 60 days of it
    scope = archive.framing.story_scope({changed}, StoryParams())
    assert scope == {d.id for d in docs if d.published and d.published.startswith("2020-11")}
    done = archive.framing.update_stories(changed=[changed])
    assert set(done.loaded) == scope and done.dropped == 0 and done.unchanged >= 1
    assert {r[4]: r for r in snapshot(archive)} == before  # re-clustered to the same rows


def test_an_article_gone_from_the_archive_leaves_its_story(
        archive: Archive, docs: list[StoryDoc]) -> None:
    store(archive, docs)
    archive.framing.rebuild_stories()
    gone = "tms/2024-08-05-reprint-zvartnots.md"
    with archive.transaction():
        archive.db.execute("UPDATE articles SET extraction_status = 'error' WHERE id = ?", [gone])
    done = archive.framing.update_stories()
    assert not done.full and done.dropped >= 1 and gone not in done.loaded
    assert gone not in set().union(*memberships(archive))
    incremental = memberships(archive)
    archive.framing.rebuild_stories()
    assert memberships(archive) == incremental


def test_other_parameters_mean_a_full_rebuild(archive: Archive, docs: list[StoryDoc]) -> None:
    store(archive, docs)
    archive.framing.rebuild_stories()
    done = archive.framing.update_stories(StoryParams(window_days=2.0))
    assert done.full and len(done.loaded) == len(docs)
    assert not archive.framing.update_stories(StoryParams(window_days=2.0)).loaded


def test_stories_command_is_incremental_unless_full(tmp_path: Path, docs: list[StoryDoc]) -> None:
    archive = Archive(tmp_path / "archive.db")
    try:
        store(archive, docs)
    finally:
        archive.close()
    db = str(tmp_path / "archive.db")
    outputs = []
    for args in ([], [], ["--full"]):
        done = run_mediawatch("stories", "--db", db, *args)
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
    assert f"re-clustered {len(docs)} articles (the whole archive)" in outputs[0]  # no build
    assert "up to date" in outputs[1]
    assert f"over {len(docs)} articles" in outputs[2]
