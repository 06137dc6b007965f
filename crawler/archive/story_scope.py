"""Which stored articles a story update decides again: those its changes can reach.

A build clusters in publication order, and what decides an article is all it reads: its
candidates (articles sharing a rare story key within the story window before it, a MinHash
band or a rare anchor within the copy window, the original it declares) and the stories of
its story candidates, whose members within the window it is compared with. So after a change
an article of a story window after it is decided again only if one of its candidates is an
article decided again, or one of its candidates' stories may have gained or lost a member:
the story an article decided again leaves, and any story it could join (those of its own
candidates). The rest of the window keeps its decisions and takes part as context, each
article where it was published: nothing it reads changed.

Read from the stored sketches (keys and MinHash of the last build), and on the generous side:
a changed article counts with every stem and anchor of its text, any shared anchor counts
(a translation needs two), and keys stay live for the whole window. As everywhere in the
incremental update, words whose rarity the new articles' counts move are left to
`stories --full`.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from crawler.archive.story_rows import chunks, in_list
from crawler.framing.candidates import BANDS, CopyIndex
from crawler.framing.storydocs import StoryParams, day_of, merge_spans, parse_when
from crawler.web.urls import article_id

if TYPE_CHECKING:
    import sqlite_utils

    from crawler.framing.features import Features

_NEVER = float("-inf")
_SIGNATURE = 4 * BANDS[0] * BANDS[1]  # bytes of a stored MinHash signature


@dataclass
class Lookups:
    """What an article finds, and is found by: story keys, copy keys, MinHash bands."""

    story: set[str]
    copy: set[str]
    bands: list[tuple[int, bytes]]  # (band, its key)

    @classmethod
    def of_features(cls, feats: Features) -> Lookups:
        """A changed article's lookups, generously: every key its text could index under."""
        anchors = {a.key for a in feats.copy.anchors}
        return cls(feats.terms(), anchors, list(enumerate(CopyIndex.bands(feats.signature) or ())))

    @classmethod
    def of_sketch(cls, story_keys: str | None, copy_keys: str | None,
                  minhash: bytes | None) -> Lookups:
        """A stored article's lookups, as the last build indexed it."""
        bands = CopyIndex.bands(minhash) if minhash and len(minhash) == _SIGNATURE else None
        return cls(set((story_keys or "").split()), set((copy_keys or "").split()),
                   list(enumerate(bands or ())))


@dataclass
class _Row:
    day: float
    id: str
    story: str | None  # its stored story
    lookups: Lookups
    target: str | None  # the original it declares (an article id)
    seed: bool  # a changed article (at its new date) or its stored place (at its old date)


class _Timed:
    """Inverted index over a sliding window: key -> (day, story) in publication order."""

    def __init__(self, days: float) -> None:
        self.days = days
        self.postings: dict[str, deque[tuple[float, str]]] = {}

    def add(self, keys: Iterable[str], day: float, story: str) -> None:
        for key in keys:
            self.postings.setdefault(key, deque()).append((day, story))

    def stories(self, keys: Iterable[str], day: float) -> Iterator[str]:
        """Stories of articles under `keys` within the window before `day`."""
        since = day - self.days
        for key in keys:
            posting = self.postings.get(key)
            while posting and posting[0][0] < since:  # articles come in order: never again
                posting.popleft()
            for _, story in posting or ():
                yield story


class Reach:
    """Walks the stored articles around the changes in publication order (see module doc).

    A copy takes its original's story without counting among its members, so the stories
    that may gain or lose a member are those of the story candidates alone."""

    def __init__(self, params: StoryParams) -> None:
        self.window, self.copy_window = params.window_days, params.copy_window_days
        self.index = _Timed(self.window)  # story keys -> stories of stored articles
        self.hit_story: dict[str, float] = {}  # key -> last day an affected article had it
        self.hit_copy: dict[object, float] = {}  # copy key or band -> last day
        self.affected: set[str] = set()
        self.moved: set[str] = set()  # stories that may have gained or lost a member

    def _reached(self, row: _Row) -> bool:
        lk, day = row.lookups, row.day
        if any(self.hit_story.get(k, _NEVER) >= day - self.window for k in lk.story):
            return True
        if any(self.hit_copy.get(k, _NEVER) >= day - self.copy_window
               for k in [*lk.copy, *lk.bands]):
            return True
        if row.target is not None and row.target in self.affected:
            return True
        return any(s in self.moved for s in self.index.stories(lk.story, day))

    def _affect(self, row: _Row) -> None:
        lk, day = row.lookups, row.day
        self.affected.add(row.id)
        for k in lk.story:
            self.hit_story[k] = day
        for ck in [*lk.copy, *lk.bands]:
            self.hit_copy[ck] = day
        if row.story is not None:
            self.moved.add(row.story)
        self.moved.update(self.index.stories(lk.story, day))  # any story it could join now

    def walk(self, rows: list[_Row], inside: set[str]) -> set[str]:
        """The ids of `rows` decided again: the seeds, and those of `inside` reached."""
        for row in rows:
            if row.seed or (row.id in inside and self._reached(row)):
                self._affect(row)
            if row.story is not None:  # a stored article: a candidate of what follows
                self.index.add(row.lookups.story, row.day, row.story)
        return self.affected


def reached(db: sqlite_utils.Database, params: StoryParams,
            spans: list[tuple[datetime, datetime]], seeds: set[str],
            new: dict[str, tuple[datetime | None, Lookups]]) -> set[str]:
    """Stored articles in `spans` (merged, in order) that the changed `seeds` can reach, the
    seeds among them; `new`: the lookups of the seeds still eligible, at their new dates.
    Read from story_sketches and story_articles."""
    starts = [day_of(lo) or 0.0 for lo, _ in spans]
    ends = [day_of(hi) or 0.0 for _, hi in spans]
    events: list[_Row] = []
    later: list[tuple[float, str, str | None, str | None]] = []
    inside: set[str] = set()
    focus: set[str] = set().union(*(lk.story for _, lk in new.values()))
    seen: set[str] = set()
    before = timedelta(days=params.window_days + 1)  # story candidates of the first ones
    for lo, hi in spans:
        for aid, published, minhash, skeys, ckeys, story, canonical in db.execute(
                "SELECT s.article_id, s.published, s.minhash, s.story_keys, s.copy_keys, "
                "sa.story_id, a.republication_of FROM story_sketches s "
                "LEFT JOIN story_articles sa ON sa.article_id = s.article_id "
                "LEFT JOIN articles a ON a.id = s.article_id "
                "WHERE s.published >= ? AND s.published < ?",
                [(lo - before).date().isoformat(), (hi + timedelta(days=1)).date().isoformat()]):
            day = day_of(parse_when(published))
            if day is None or aid in seen:
                continue
            seen.add(aid)
            at = bisect_right(starts, day) - 1
            if aid in seeds or (at >= 0 and day <= ends[at]):
                inside.add(aid)
                row = _Row(day, aid, story, Lookups.of_sketch(skeys, ckeys, minhash),
                           article_id(canonical) if canonical else None, aid in seeds)
                focus |= row.lookups.story
                events.append(row)
            else:  # a candidate only: what the others look up is all that matters of it
                later.append((day, aid, story, skeys))
    for day, aid, story, skeys in later:
        keys = focus.intersection((skeys or "").split())
        if keys and story is not None:
            events.append(_Row(day, aid, story, Lookups(keys, set(), []), None, False))
    for aid, (when, lookups) in new.items():
        day = day_of(when)
        if day is not None:  # the changed article at its new date (a new story, if any)
            events.append(_Row(day, aid, None, lookups, None, True))
    events.sort(key=lambda r: (r.day, r.id, r.story is None))
    return Reach(params).walk(events, inside)


def scope_of(db: sqlite_utils.Database, params: StoryParams, seeds: set[str],
             new: dict[str, tuple[datetime | None, Lookups]]) -> set[str]:
    """Article ids to re-cluster for changed `seeds` (`new`: the lookups of those still
    eligible): the articles a change can reach (`reached`) from a seed's date (new, and old
    as the last build stored it) to a story window after it, and the members of their
    stories within a copy window of those dates."""
    spans: list[tuple[datetime, datetime]] = []
    for chunk in chunks(sorted(seeds)):
        marks = in_list(len(chunk))
        # The old date too: the articles after the place an article left may now decide
        # otherwise (the sketch keeps the date the last build clustered it at).
        for (published,) in db.execute(
                f"SELECT published FROM articles WHERE id IN ({marks}) UNION ALL "
                f"SELECT published FROM story_sketches WHERE article_id IN ({marks})",
                chunk + chunk):
            when = parse_when(published)
            if when:
                spans.append((when, when + timedelta(days=params.window_days)))
    # A stored article between two changed ones is context where it was published
    # (StoryStore._context), never left out of both: the spans need not be joined.
    merged = merge_spans(spans)
    scope = set(seeds) | reached(db, params, merged, seeds, new)
    # Story mates a copy window after a changed date reaches: its copies and the members
    # it linked are decided again. Not whole stories: a story can run for years (a
    # recurring column, a chain of follow-ups); its farther members keep their links
    # and take part as context. (The originals the scope copied keep their role unless
    # nothing copies them any more: see StoryStore.update.)
    reach = timedelta(days=params.reach_days())
    after = merge_spans([(lo, hi + reach) for lo, hi in merged])
    stories = {r[0] for c in chunks(sorted(scope)) for r in db.execute(
        f"SELECT story_id FROM story_articles WHERE article_id IN ({in_list(len(c))})", c)}
    mates: set[str] = set()
    for chunk in chunks(sorted(stories)):
        for aid, published in db.execute(
                "SELECT sa.article_id, s.published FROM story_articles sa "
                "JOIN story_sketches s ON s.article_id = sa.article_id "
                f"WHERE sa.story_id IN ({in_list(len(chunk))})", chunk):
            when = parse_when(published)
            if when and any(lo <= when <= hi for lo, hi in after):
                mates.add(aid)
    return scope | mates
