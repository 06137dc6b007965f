"""What story clustering reads and writes: its parameters, one article (as given, and as the
clusterer holds it), one membership.

Kept apart from the clusterer (crawler.framing.stories, which re-exports these) so that
readers of stored stories need not load the clustering code.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from crawler.framing.copies import CopyEvidence, CopyParams

if TYPE_CHECKING:
    from crawler.framing.features import Features

ROLES = ("original", "republication", "translation", "report")


@dataclass(frozen=True)
class StoryParams:
    """Thresholds and windows; stored with every rebuild so results can be reproduced."""

    window_days: float = 3.0  # independent reports of one event appear within days
    copy_window_days: float = 60.0  # reprints can come weeks later
    text_threshold: float = 0.16  # same-language TF-IDF cosine that counts as "same story"
    cross_threshold: float = 0.45  # cross-language feature cosine that counts as "same story"
    copy: CopyParams = field(default_factory=CopyParams)  # the copy decision
    top_stems: int = 12  # an article's most distinctive stems in the candidate index
    min_shared_anchors: int = 2  # rare anchors a translation candidate shares

    def reach_days(self) -> float:
        """How far in time one article can change another's story (story or copy window)."""
        return max(self.window_days, self.copy_window_days)


@dataclass
class StoryDoc:
    """What the clustering needs to know about one article."""

    id: str
    source_id: str
    lang: str
    published: str | None
    title: str
    text: str
    republication_of: str | None = None  # an archived article this one declares as canonical
    canonical_url: str | None = None  # that declaration as written (the evidence)
    when: datetime | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.when = parse_when(self.published)


@dataclass(frozen=True)
class Membership:
    """One article's place in one story (with the evidence, for copies)."""

    story_id: str
    article_id: str
    role: str
    copy_of: str | None
    score: float
    evidence: CopyEvidence | None = None


def parse_when(value: str | None) -> datetime | None:
    """An ISO 8601 date or datetime as an aware UTC datetime (naive values are taken as UTC)."""
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


UNDATED = datetime.max.replace(tzinfo=UTC)  # where undated articles sort: last


def order_key(doc: StoryDoc) -> tuple[datetime, str]:
    """Publication order (undated last), ties by id: the order every build clusters in."""
    return (doc.when or UNDATED, doc.id)


def published_order(published: str | None, article_id: str) -> tuple[datetime, str]:
    """order_key of a stored article's `published` value and id (no StoryDoc needed)."""
    return (parse_when(published) or UNDATED, article_id)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def day_of(when: datetime | None) -> float | None:
    """A moment in days since 1970 (the clusterer's time axis), None for none."""
    return None if when is None else (when - _EPOCH).total_seconds() / 86400


@dataclass
class StoryNode:
    """One clustered article while it can still matter to later ones."""

    id: str
    lang: str
    day: float | None
    feats: Features | None  # None: a context article whose text is read on demand
    published: str | None = None
    root: str | None = None  # the original's id, for a copy
    # Weighted vectors, made when first compared (a copy decided on its text never is).
    vec: dict[str, float] | None = None
    fvec: dict[str, float] | None = None
    story_keys: list[str] = field(default_factory=list)
    copy_keys: list[str] = field(default_factory=list)
    shingles: Any = None  # a context article's shingles alone, read for the same-text test


def merge_spans(spans: list[tuple[datetime, datetime]], gap: timedelta = timedelta(0)
                ) -> list[tuple[datetime, datetime]]:
    """Spans that overlap (or come within `gap` of each other) joined."""
    merged: list[list[datetime]] = []
    for lo, hi in sorted(spans):
        if merged and lo <= merged[-1][1] + gap:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    return [(lo, hi) for lo, hi in merged]


def date_groups(docs: list[StoryDoc], gap: timedelta) -> Iterator[list[StoryDoc]]:
    """Publication-ordered articles cut where two are more than `gap` apart (undated ones
    stay with the last group)."""
    group: list[StoryDoc] = []
    for doc in docs:
        last = group[-1].when if group else None
        if group and doc.when is not None and last is not None and doc.when - last > gap:
            yield group
            group = []
        group.append(doc)
    if group:
        yield group
