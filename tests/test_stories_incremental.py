"""Incremental story updates after a crawl: same stories as a full rebuild, less read."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import run_mediawatch
from helpers.stories import fixture_docs, store_docs

from crawler.archive.core import Archive
from crawler.framing.stories import StoryDoc, StoryParams, parse_when

pytestmark = pytest.mark.e2e

CUT = "2024-09-01"  # the first build sees the fixture up to here, the update the rest


@pytest.fixture(scope="module")
def docs() -> list[StoryDoc]:
    return fixture_docs()


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[Archive]:
    a = Archive(tmp_path / "archive.db")
    yield a
    a.close()


def store(archive: Archive, docs: list[StoryDoc]) -> None:
    """Articles as the ingest path leaves them: extracted text plus their mentions."""
    store_docs(archive, docs)


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
    november = {d.id for d in docs if d.published and d.published.startswith("2020-11")}
    # The original of the ceasefire story (published first): every later article of its
    # window, its translation among them, is decided again; nothing of other years.
    original = "rusagency/2020-11-10-karabakh-ceasefire.md"
    assert archive.framing.story_scope({original}, StoryParams()) == november
    # Its last report: nothing after it can have been decided on it; earlier members of its
    # story stay as they are and take part as context.
    changed = "hynews/2020-11-10-hradadar.md"
    scope = archive.framing.story_scope({changed}, StoryParams())
    assert scope == {changed}
    done = archive.framing.update_stories(changed=[changed])
    assert set(done.loaded) == scope and done.dropped == 0 and done.unchanged >= 1
    assert {r[4]: r for r in snapshot(archive)} == before  # re-clustered to the same rows


def test_a_backdated_article_re_decides_only_what_it_can_reach(
        archive: Archive, docs: list[StoryDoc]) -> None:
    # An outlet's archive, found late: a new article dated just before the ceasefire reports.
    # Unrelated to them, it cannot be a candidate of any, nor join their story: the window
    # after it keeps its decisions (before, all of it was clustered again).
    store(archive, docs)
    archive.framing.rebuild_stories()
    before = {r[4]: r for r in snapshot(archive)}
    window = {d.id for d in docs if (d.published or "").startswith("2020-11-1")}
    assert len(window) >= 4
    text = ("The orchard cooperative in the valley opened its cider cellar to visitors. "
            "Growers explained how the apples are pressed slowly and stored in oak barrels, "
            "and a baker sold pastries made with the fruit of the season. ") * 6
    unrelated = StoryDoc("gardens/orchard-cellar.md", "gardens", "en",
                         "2020-11-10T00:30:00+04:00", "Cider cellar opens to visitors", text)
    store(archive, [unrelated])
    assert archive.framing.story_scope({unrelated.id}, StoryParams()) == {unrelated.id}
    done = archive.framing.update_stories()
    assert done.loaded == [unrelated.id]
    after = {r[4]: r for r in snapshot(archive)}
    assert {k: v for k, v in after.items() if k != unrelated.id} == before
    incremental = memberships(archive)
    archive.framing.rebuild_stories()
    assert memberships(archive) == incremental
    # A report of the same event, dated before the others, reaches them all.
    original = next(d for d in docs if d.id == "armnews/2020-11-10-ceasefire.md")
    related = StoryDoc("wire/2020-11-10-early-ceasefire.md", "wire", "en",
                       "2020-11-10T00:40:00+04:00", "Ceasefire signed, peacekeepers to deploy",
                       original.text[: len(original.text) // 2])
    store(archive, [related])
    reached = archive.framing.story_scope({related.id}, StoryParams())
    assert {original.id, related.id} <= reached and unrelated.id not in reached


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


def roles(archive: Archive) -> dict[str, tuple[str, str | None]]:
    """Each article's role and copy link."""
    return {r[0]: (r[1], r[2]) for r in archive.db.execute(
        "SELECT article_id, role, copy_of FROM story_articles")}


def test_an_original_whose_only_copy_leaves_becomes_a_report(
        archive: Archive, docs: list[StoryDoc]) -> None:
    store(archive, docs)
    archive.framing.rebuild_stories()
    original = "rusagency/2020-11-10-karabakh-ceasefire.md"
    copies = [a for a, (_, of) in roles(archive).items() if of == original]
    assert roles(archive)[original][0] == "original" and copies
    with archive.transaction():
        archive.db.execute(f"UPDATE articles SET extraction_status = 'error' WHERE id IN "
                           f"({', '.join('?' * len(copies))})", copies)
    done = archive.framing.update_stories()
    assert not done.full and original not in done.loaded  # its role changed in place
    assert roles(archive)[original] == ("report", None)
    incremental = roles(archive)
    archive.framing.rebuild_stories()
    assert roles(archive) == incremental


@pytest.mark.parametrize("read_ahead", [True, False])
def test_a_new_copy_of_a_stored_article_is_found_through_its_context(
        archive: Archive, docs: list[StoryDoc], read_ahead: bool,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # A republication of an article of an earlier build: found whether the update read the
    # stored candidate ahead, on every core, or reads it when the copy test comes to it
    # (its shingles first, its whole features only when the same-text test passes).
    from crawler.framing.stories import Clusterer

    if not read_ahead:
        monkeypatch.setattr(Clusterer, "wanted", lambda self, doc, feats: set())
    store(archive, docs)
    archive.framing.rebuild_stories()
    original = next(d for d in docs if d.id == "rusagency/2020-11-10-karabakh-ceasefire.md")
    copy = StoryDoc("reprints/2020-11-11-ceasefire.md", "reprints", original.lang,
                    "2020-11-11T08:00:00+00:00", "Ceasefire: the statement", original.text)
    store(archive, [copy])
    done = archive.framing.update_stories()
    assert not done.full and copy.id in done.loaded and original.id not in done.loaded
    links = roles(archive)
    assert links[copy.id] == ("republication", original.id)
    assert links[original.id][0] == "original"
    archive.framing.rebuild_stories()
    assert roles(archive) == links


def test_a_stored_report_copied_weeks_later_becomes_an_original(
        archive: Archive, docs: list[StoryDoc]) -> None:
    # The reprint comes three weeks after the report: the report is outside the update's
    # scope (context), yet its role must change as a full rebuild would change it.
    store(archive, docs)
    archive.framing.rebuild_stories()
    report = next(d for d in docs if d.id == "armnews/2024-10-06-areni-wine-festival.md")
    assert roles(archive)[report.id] == ("report", None)
    reprint = StoryDoc("reprints/2024-10-27-areni.md", "reprints", report.lang,
                       "2024-10-27T08:00:00+00:00", report.title, report.text)
    store(archive, [reprint])
    done = archive.framing.update_stories()
    assert report.id not in done.loaded
    links = roles(archive)
    assert links[reprint.id] == ("republication", report.id)
    assert links[report.id] == ("original", None)
    count = ("SELECT s.n_articles, s.n_independent, s.n_outlets FROM stories s "
             "JOIN story_articles sa ON sa.story_id = s.id WHERE sa.article_id = ?")
    counted = archive.db.execute(count, [report.id]).fetchone()
    assert counted == (2, 1, 2)  # the reprint counts as an article, not as independent
    archive.framing.rebuild_stories()
    assert roles(archive) == links
    assert archive.db.execute(count, [report.id]).fetchone() == counted


def test_changes_are_queued_as_articles_are_written(
        archive: Archive, docs: list[StoryDoc]) -> None:
    first = [d for d in docs if (d.published or "") < CUT]
    store(archive, first)
    archive.framing.rebuild_stories()
    queued = lambda: {r[0] for r in archive.db.execute("SELECT article_id FROM story_changes")}  # noqa: E731
    assert queued() == set()
    with archive.transaction():  # a re-check that changes nothing clustering reads
        archive.db.execute("UPDATE articles SET fetched_at = '2026-02-01T00:00:00+00:00'")
    assert queued() == set() and not archive.framing.update_stories().loaded
    later = [d for d in docs if (d.published or "") >= CUT]
    store(archive, later)
    assert queued() == {d.id for d in later}
    with archive.transaction():
        archive.db.execute("UPDATE articles SET title = title || '!' WHERE id = ?", [first[0].id])
    assert queued() == {d.id for d in later} | {first[0].id}
    done = archive.framing.update_stories()
    assert {d.id for d in later} | {first[0].id} <= set(done.loaded)
    assert queued() == set()


def test_an_archive_from_before_the_queue_compares_tables_once(
        archive: Archive, docs: list[StoryDoc]) -> None:
    first = [d for d in docs if (d.published or "") < CUT]
    later = [d for d in docs if (d.published or "") >= CUT]
    store(archive, first)
    archive.framing.rebuild_stories()
    with archive.transaction():  # as an archive migrated to 0013 after its last build
        archive.db.execute("DELETE FROM framing_settings WHERE key = 'stories_changes'")
    store(archive, later)
    with archive.transaction():
        archive.db.execute("DELETE FROM story_changes")  # its triggers did not exist then
    done = archive.framing.update_stories()
    assert {d.id for d in later} <= set(done.loaded)  # found by comparing the tables
    setting = "SELECT value FROM framing_settings WHERE key = 'stories_changes'"
    assert archive.db.execute(setting).fetchone() == ("1",)
    assert not archive.framing.update_stories().loaded


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


def test_a_focused_context_proposes_the_same_candidates(
        tmp_path: Path, docs: list[StoryDoc], monkeypatch: pytest.MonkeyPatch) -> None:
    """The update indexes its context only under what its own articles can look up
    (candidates.Focus); with every key indexed it decides exactly alike."""
    from crawler.framing import candidates
    from crawler.framing.stories import Clusterer

    first = [d for d in docs if (d.published or "") < CUT]
    rest = [d for d in docs if d not in first]
    results, indexed = [], []
    real_add = candidates.KeyIndex.add

    def counting(self: candidates.KeyIndex, doc: int, when: float, keys: list[str],
                 only: set[str] | None = None) -> None:
        indexed.append(sum(1 for k in keys if only is None or k in only))
        real_add(self, doc, when, keys, only)

    monkeypatch.setattr(candidates.KeyIndex, "add", counting)
    for focused in (True, False):
        if not focused:
            monkeypatch.setattr(Clusterer, "focus", lambda self: None)
        a = Archive(tmp_path / f"{focused}.db")
        store(a, first)
        a.framing.rebuild_stories()
        store(a, rest)
        indexed.clear()
        a.framing.update_stories()
        results.append((memberships(a), a.db.execute(
            "SELECT article_id, role, copy_of, copy_basis FROM story_articles "
            "ORDER BY article_id").fetchall(), sum(indexed)))
        a.close()
    (focused_stories, focused_links, few), (all_stories, all_links, many) = results
    assert focused_stories == all_stories and focused_links == all_links
    assert few < many  # the focus left index entries out


def _rows_from_all_members(archive: Archive) -> dict[str, tuple]:
    """Every story row as a full rebuild of the rows computes it (in a rolled-back write)."""
    from crawler.archive.story_rows import StoryRows
    from crawler.framing import CODE_VERSION

    conn = archive.db.conn
    conn.execute("SAVEPOINT recompute")
    conn.execute("PRAGMA defer_foreign_keys = ON")  # the links stay; rows come back below
    try:
        ids = {r[0] for r in conn.execute("SELECT id FROM stories")}
        conn.execute("DELETE FROM stories")
        StoryRows(archive.db, CODE_VERSION).write_story_rows(ids, "now")
        return {r[0]: r[1:] for r in conn.execute(
            "SELECT id, headline, first_published, last_published, n_articles, n_independent, "
            "n_outlets, languages, outlets, concepts, on_topic FROM stories")}
    finally:
        conn.execute("ROLLBACK TO recompute")
        conn.execute("RELEASE recompute")


def _stored_rows(archive: Archive) -> dict[str, tuple]:
    return {r[0]: r[1:] for r in archive.db.execute(
        "SELECT id, headline, first_published, last_published, n_articles, n_independent, "
        "n_outlets, languages, outlets, concepts, on_topic FROM stories")}


def test_story_rows_updated_from_their_new_members_equal_rows_from_all_members(
        archive: Archive, docs: list[StoryDoc], monkeypatch: pytest.MonkeyPatch) -> None:
    from crawler.archive import story_rows

    grown: list[str] = []
    real = story_rows.StoryRows._grown_rows

    def spy(self: Any, *args: Any) -> list[dict[str, Any]]:
        rows = real(self, *args)
        grown.extend(r["id"] for r in rows)
        return rows

    monkeypatch.setattr(story_rows.StoryRows, "_grown_rows", spy)
    first = [d for d in docs if (d.published or "") < CUT]
    store(archive, first)
    archive.framing.rebuild_stories()
    store(archive, [d for d in docs if d not in first])  # later reports join older stories
    archive.framing.update_stories()
    assert _stored_rows(archive) == _rows_from_all_members(archive)
    # A reprint of the latest member of each story with several members (whose row holds
    # more than the reprint brings), an hour after it.
    by_id = {d.id: d for d in docs}
    latest = {}
    for sid, aid, _published in archive.db.execute(
            "SELECT sa.story_id, a.id, a.published FROM story_articles sa JOIN articles a ON "
            "a.id = sa.article_id WHERE sa.story_id IN (SELECT story_id FROM story_articles "
            "GROUP BY story_id HAVING count(*) > 1) ORDER BY a.published"):
        latest[sid] = aid
    reprints = []
    for i, aid in enumerate(sorted(latest.values())):
        d = by_id[aid]
        when = (parse_when(d.published) + timedelta(hours=1)).isoformat()
        reprints.append(StoryDoc(f"reprint-{i}", "reprinter.example", d.lang, when, d.title,
                                 d.text))
    store(archive, reprints)  # copies after every member: rows grow from the new ones
    archive.framing.update_stories()
    copies = archive.db.execute("SELECT count(*) FROM story_articles WHERE article_id LIKE "
                                "'reprint-%' AND copy_of IS NOT NULL").fetchone()[0]
    assert copies == len(reprints) > 3
    assert len(grown) >= 3  # the rows of grown stories were not read from all their members
    assert _stored_rows(archive) == _rows_from_all_members(archive)
    archive.db.execute("UPDATE articles SET title = 'Retitled' WHERE id = ?", [reprints[0].id])
    archive.framing.update_stories()  # an edited member: its story is recomputed
    assert _stored_rows(archive) == _rows_from_all_members(archive)
