"""The same story across outlets and languages: clustering, republication and translation.

Why this design (so it can be defended in a methods section):

- Within one language, two articles are about the same story when their TF-IDF vectors of
  normalised, stemmed content words are close (cosine) and they were published within a
  short window. Across languages words cannot be compared, so articles are compared on
  language-independent evidence: lexicon concepts (Artsakh and Nagorno-Karabakh are one
  concept), named entities written per language (lexicon [[entity]]), calendar dates named
  in the text and numbers. Each kind of similarity is divided by its own threshold, so the
  two scales can be averaged.
- Clustering is incremental average linkage in publication order: an article joins the
  open story whose members it resembles most on average, if that average clears the bar.
  Average linkage does not chain unrelated events the way single linkage does; the fixed
  order makes rebuilds deterministic (same archive, same stories, same ids).
- A republication (wire copy, syndicated reprint) is a same-language text whose word
  5-grams are mostly contained in an earlier article's, or whose canonical link names it.
  A translation is a different-language text that repeats an earlier article's entities,
  dates and numbers in the same order. Both are linked to the earliest copy and are not
  independent framings; the earliest copy is the `original`.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from difflib import SequenceMatcher

from crawler.framing.lexicon import Lexicon, find_hits
from crawler.framing.tokenize import content_stems, words
from extract.normalize import fold

ROLES = ("original", "republication", "translation", "report")


@dataclass(frozen=True)
class StoryParams:
    """Thresholds and windows; stored with every rebuild so results can be reproduced."""

    window_days: float = 3.0  # independent reports of one event appear within days
    copy_window_days: float = 60.0  # reprints can come weeks later
    text_threshold: float = 0.16  # same-language TF-IDF cosine that counts as "same story"
    cross_threshold: float = 0.45  # cross-language feature cosine that counts as "same story"
    copy_containment: float = 0.6  # share of 5-grams shared with an earlier text
    translation_ratio: float = 0.85  # order-preserving overlap of entity/number sequences
    translation_min_features: int = 12  # short texts share too few names to tell

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
    when: datetime | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.when = parse_when(self.published)


@dataclass(frozen=True)
class Membership:
    """One article's place in one story."""

    story_id: str
    article_id: str
    role: str
    copy_of: str | None
    score: float


def parse_when(value: str | None) -> datetime | None:
    """An ISO 8601 date or datetime as an aware UTC datetime (naive values are taken as UTC)."""
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


_MONTHS = {
    "en": "january february march april may june july august september october november december",
    "ru": "январ феврал март апрел ма июн июл август сентябр октябр ноябр декабр",
    "hy": "հունվար փետրվար մարտ ապրիլ մայիս հունիս հուլիս օգոստոս սեպտեմբեր հոկտեմբեր "
          "նոյեմբեր դեկտեմբեր",
}
_NUMBER = re.compile(r"(?<![\w.,])\d{1,3}(?:[ ,\u00a0\u202f]\d{3})+(?!\d)|(?<!\w)\d+(?:[.,]\d+)?")


def _month(word: str) -> int | None:
    for names in _MONTHS.values():
        for i, name in enumerate(names.split(), 1):
            # Russian stems are written without endings (сентябр-я); ма = май/мая only.
            if word == name or (len(name) > 2 and word.startswith(name) and len(word) - len(name) <= 3):
                return i
            if name == "ма" and word in ("май", "мая", "мае"):
                return i
    return None


def features(doc: StoryDoc, lexicon: Lexicon) -> list[str]:
    """Language-independent features in order of appearance: entities, concepts, dates, numbers."""
    text = f"{doc.title}\n{doc.text}"
    found: list[tuple[int, str]] = []
    folded = fold(text)
    for e in lexicon.entities:
        for p in e.terms:
            found.extend((m.start(), "e:" + e.id) for m in p.finditer(folded))
    for h in find_hits(lexicon, text, doc.lang):
        if h.kind == "naming":
            found.append((h.start, "c:" + h.concept))
    tokens = [(m.start(), m.group()) for m in re.finditer(r"\w+", folded)]
    for i, (pos, tok) in enumerate(tokens):
        if tok.isdigit() and len(tok) <= 2 and 1 <= int(tok) <= 31:
            for j in (i - 1, i + 1):
                month = _month(tokens[j][1]) if 0 <= j < len(tokens) else None
                if month:
                    found.append((pos, f"d:{month:02d}-{int(tok):02d}"))
                    break
    for m in _NUMBER.finditer(folded):
        digits = re.sub(r"[ ,\u00a0\u202f]", "", m.group()).replace(",", ".")
        if len(digits.replace(".", "")) >= 2:
            found.append((m.start(), "n:" + digits))
    return [f for _, f in sorted(found)]


def _tfidf(bags: list[Counter[str]]) -> list[dict[str, float]]:
    """Sublinear TF-IDF vectors, L2-normalised."""
    df: Counter[str] = Counter()
    for bag in bags:
        df.update(bag.keys())
    n = len(bags)
    vectors = []
    for bag in bags:
        vec = {t: (1 + math.log(c)) * (math.log((1 + n) / (1 + df[t])) + 1) for t, c in bag.items()}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        vectors.append({t: v / norm for t, v in vec.items()})
    return vectors


def _cos(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(t, 0.0) for t, v in a.items())


def _shingles(text: str, k: int = 5) -> set[int]:
    toks = words(text)
    return {hash(tuple(toks[i:i + k])) for i in range(max(len(toks) - k + 1, 0))}


def _days(a: StoryDoc, b: StoryDoc) -> float:
    if a.when is None or b.when is None:
        return math.inf
    return abs((a.when - b.when).total_seconds()) / 86400


class _Model:
    """Pairwise evidence for one batch of documents."""

    def __init__(self, docs: list[StoryDoc], lexicon: Lexicon, params: StoryParams) -> None:
        self.docs, self.params = docs, params
        by_lang: dict[str, list[int]] = defaultdict(list)
        for i, d in enumerate(docs):
            by_lang[d.lang].append(i)
        self.text_vec: list[dict[str, float]] = [{} for _ in docs]
        for idx in by_lang.values():
            # The headline says what the story is: count it twice.
            bags = [Counter(content_stems(f"{docs[i].title}\n{docs[i].title}\n{docs[i].text}",
                                          docs[i].lang)) for i in idx]
            for i, vec in zip(idx, _tfidf(bags), strict=True):
                self.text_vec[i] = vec
        self.feats = [features(d, lexicon) for d in docs]
        self.feat_vec = _tfidf([Counter(f) for f in self.feats])
        self.shingles = [_shingles(d.text) for d in docs]

    def score(self, i: int, j: int) -> float:
        """Similarity of two documents in units of their threshold (>= 1 means same story)."""
        a, b = self.docs[i], self.docs[j]
        if a.lang == b.lang:
            return _cos(self.text_vec[i], self.text_vec[j]) / self.params.text_threshold
        return _cos(self.feat_vec[i], self.feat_vec[j]) / self.params.cross_threshold

    def copy_kind(self, i: int, j: int) -> str | None:
        """'republication' or 'translation' when doc i copies earlier doc j, else None."""
        a, b = self.docs[i], self.docs[j]
        if a.republication_of == b.id:
            return "republication" if a.lang == b.lang else "translation"
        if a.lang == b.lang:
            small = min(len(self.shingles[i]), len(self.shingles[j]))
            if small and len(self.shingles[i] & self.shingles[j]) / small >= \
                    self.params.copy_containment:
                return "republication"
            return None
        fa, fb = self.feats[i], self.feats[j]
        if min(len(fa), len(fb)) < self.params.translation_min_features:
            return None
        ratio = SequenceMatcher(None, fa, fb, autojunk=False).ratio()
        return "translation" if ratio >= self.params.translation_ratio else None


def cluster(docs: list[StoryDoc], lexicon: Lexicon, params: StoryParams | None = None
            ) -> list[Membership]:
    """Assign every document to a story with its role; deterministic for the same input."""
    params = params or StoryParams()
    docs = sorted(docs, key=lambda d: (d.when or datetime.max.replace(tzinfo=UTC), d.id))
    model = _Model(docs, lexicon, params)
    story_of: list[int] = []
    members: list[list[int]] = []
    copy_of: dict[int, tuple[int, str]] = {}
    for i, doc in enumerate(docs):
        # 1. A copy joins its original's story, whatever the date gap within the copy window.
        for j in range(i):
            if _days(doc, docs[j]) <= params.copy_window_days or doc.republication_of == docs[j].id:
                kind = model.copy_kind(i, j)
                if kind:
                    root = copy_of.get(j, (j, kind))[0]
                    copy_of[i] = (root, kind)
                    break
        if i in copy_of:
            s = story_of[copy_of[i][0]]
            story_of.append(s)
            members[s].append(i)
            continue
        # 2. Otherwise the open story it resembles most on average (independent members only).
        best, best_score = -1, 1.0
        for s, mem in enumerate(members):
            near = [m for m in mem if m not in copy_of and _days(doc, docs[m]) <= params.window_days]
            if not near:
                continue  # the story has gone quiet: a later event is a new story
            avg = sum(model.score(i, m) for m in near) / len(near)
            if avg >= best_score:
                best, best_score = s, avg
        if best < 0:
            members.append([])
            best = len(members) - 1
        story_of.append(best)
        members[best].append(i)
    originals = {root for root, _ in copy_of.values()}
    out = []
    for mem in members:
        sid = "s-" + hashlib.sha1(docs[mem[0]].id.encode()).hexdigest()[:12]
        for m in mem:
            if m in copy_of:
                root, kind = copy_of[m]
                role, of, score = kind, docs[root].id, 1.0
            else:
                role = "original" if m in originals else "report"
                others = [o for o in mem if o != m and o not in copy_of]
                of = None
                score = max((model.score(m, o) for o in others), default=0.0)
            out.append(Membership(sid, docs[m].id, role, of, round(score, 4)))
    return out
