"""What a story update decides again (crawler.archive.story_scope), on hand-made sketches."""

from __future__ import annotations

import pytest

from crawler.archive.story_scope import Lookups, Reach, _Row
from crawler.framing.storydocs import StoryParams

pytestmark = pytest.mark.unit


def row(day: float, aid: str, story: str | None, keys: str = "", copy: str = "",
        bands: list[tuple[int, bytes]] | None = None, target: str | None = None,
        seed: bool = False) -> _Row:
    return _Row(day, aid, story, Lookups(set(keys.split()), set(copy.split()), bands or []),
                target, seed)


def walk(rows: list[_Row], inside: set[str] | None = None) -> set[str]:
    rows = sorted(rows, key=lambda r: (r.day, r.id, r.story is None))
    return Reach(StoryParams()).walk(rows, {r.id for r in rows} if inside is None else inside)


def test_only_what_shares_a_key_with_the_change_is_reached() -> None:
    rows = [row(10.0, "new", None, "en:ceasefir e:putin", seed=True),
            row(10.5, "report", "s1", "en:ceasefir en:peacekeep"),
            row(11.0, "cider", "s2", "en:cider en:orchard")]
    assert walk(rows) == {"new", "report"}


def test_keys_count_within_the_story_window_only() -> None:
    rows = [row(10.0, "new", None, "en:ceasefir", seed=True),
            row(14.0, "later", "s1", "en:ceasefir")]  # four days on: no longer a candidate
    assert walk(rows) == {"new"}


def test_a_story_the_change_may_join_or_leave_reaches_its_candidates() -> None:
    # "old" moves (a seed at its stored place): its story s1 may lose a member, so a later
    # article comparing itself with s1 (through another member, "mate") is decided again.
    rows = [row(9.0, "mate", "s1", "en:dam"),
            row(10.0, "old", "s1", "en:reservoir", seed=True),
            row(11.0, "later", "s3", "en:dam"),
            row(11.5, "apart", "s4", "en:festival")]
    assert walk(rows) == {"old", "later"}


def test_copies_are_reached_through_bands_and_anchors_within_the_copy_window() -> None:
    band, other = [(3, b"\x01" * 8)], [(5, b"\x02" * 8)]
    rows = [row(10.0, "new", None, copy="n:124 e:putin", bands=band, seed=True),
            row(40.0, "reprint", "s1", bands=band + other),
            row(45.0, "translation", "s2", copy="e:putin"),
            row(80.0, "too-late", "s3", bands=band),  # 70 days after "new", 40 after "reprint"
            row(130.0, "far", "s4", bands=other)]  # 90 days after "reprint"
    assert walk(rows) == {"new", "reprint", "translation", "too-late"}


def test_a_declared_copy_of_a_changed_article_is_reached() -> None:
    rows = [row(10.0, "new", None, "en:x", seed=True),
            row(12.0, "reprint", "s1", "en:y", target="new")]
    assert walk(rows) == {"new", "reprint"}


def test_articles_outside_the_windows_are_candidates_never_decided_again() -> None:
    rows = [row(10.0, "new", None, "en:ceasefir", seed=True),
            row(10.5, "report", "s1", "en:ceasefir")]
    assert walk(rows, inside={"new"}) == {"new"}
