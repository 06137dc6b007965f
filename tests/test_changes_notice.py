"""The after-run notice of on-topic edits and removals, as people read it (log, e-mail)."""

from __future__ import annotations

import pytest

from crawler.ops.alerts import _subject, describe
from crawler.ops.changes import LINES

pytestmark = pytest.mark.unit

EDIT = {"article_id": "a1", "version": 2, "title": "Pashinyan in Moscow, talks ended",
        "source_id": "ria", "lang": "ru", "outlet": "RIA Novosti",
        "previous_title": "Pashinyan in Moscow", "changes": ["headline changed",
                                                             "correction notice"],
        "link": "https://archive.example.org/article/a1"}
GONE = {"article_id": "b2", "title": "CSTO exercise", "source_id": "tass", "lang": "ru",
        "removed_at": "2026-12-08T05:00:00+00:00", "outlet": None,
        "link": "https://archive.example.org/article/b2"}


def event(edited: list[dict], removed: list[dict]) -> dict:
    return {"event": "article_changes", "id": "changes:7", "run_id": 7,
            "count": len(edited) + len(removed), "edited": edited, "removed": removed,
            "link": "https://archive.example.org/-/changes?on_topic=1"}


def test_the_notice_names_each_change_with_the_old_headline() -> None:
    text = describe(event([EDIT], [GONE])).splitlines()
    assert text[0] == ("CHANGES: 1 on-topic article(s) edited, 1 taken down "
                       "<https://archive.example.org/-/changes?on_topic=1>")
    assert text[1] == ("- edited: Pashinyan in Moscow, talks ended (RIA Novosti; headline "
                       "changed, correction notice; was: Pashinyan in Moscow) "
                       "<https://archive.example.org/article/a1>")
    assert text[2] == ("- taken down: CSTO exercise (tass) "  # no name: the outlet's id
                       "<https://archive.example.org/article/b2>")


def test_a_long_notice_is_cut_and_points_to_the_page() -> None:
    many = [dict(EDIT, article_id=f"a{i}", changes=[]) for i in range(LINES + 5)]
    text = describe(event(many, [])).splitlines()
    assert len(text) == 1 + LINES + 1 and "(RIA Novosti; the text)" in text[1]
    assert text[-1] == "… and 5 more: <https://archive.example.org/-/changes?on_topic=1>"


def test_a_digest_subject_says_what_it_holds() -> None:
    raised = {"event": "raised", "id": 1}
    watch = {"event": "watch_match", "id": "watch:x", "count": 3}
    assert _subject([raised]) == "[mediawatch] 1 alert(s) raised, 0 cleared"
    assert _subject([watch]) == "[mediawatch] 3 new article(s) for 1 saved search(es)"
    assert _subject([raised, watch, event([EDIT], [GONE])]) == (
        "[mediawatch] 1 alert(s) raised, 0 cleared; 3 new article(s) for 1 saved search(es); "
        "2 on-topic article(s) edited or taken down")
