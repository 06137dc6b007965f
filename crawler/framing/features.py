"""Per-article features for story clustering and copy detection, and the archive vocabulary.

An article is read once: its content stems (headline counted twice: it says what the story
is), its shingles and MinHash signature, and its anchors. Weights come from a `Vocabulary`
of document frequencies over the archive (a deterministic sample of it when large), so a
full rebuild and a later incremental update weigh words alike.
"""

from __future__ import annotations

import heapq
import math
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from crawler.framing.candidates import minhash
from crawler.framing.copies import CopyText, copy_text
from crawler.framing.lexicon import Lexicon
from crawler.framing.tokenize import content_stems

# Anchor kinds that make up the cross-language story vector (names are too noisy there).
STORY_ANCHORS = ("e:", "c:", "d:", "n:")
# Anchor kinds worth an inverted-index entry (a quote opening says nothing on its own).
INDEXED_ANCHORS = ("e:", "c:", "d:", "n:", "p:")


@dataclass
class Features:
    """Everything clustering and copy detection read of one article."""

    lang: str
    counts: Counter[str]  # "lang:stem" -> count, headline twice
    copy: CopyText
    signature: np.ndarray = field(repr=False)

    def anchor_counts(self) -> Counter[str]:
        """The cross-language story features: entities, concepts, dates, numbers."""
        return Counter(a.key for a in self.copy.anchors if a.key.startswith(STORY_ANCHORS))

    def terms(self) -> set[str]:
        """Every key this article contributes to the document frequencies."""
        return set(self.counts) | {a.key for a in self.copy.anchors}


def featurize(title: str, text: str, lang: str, lexicon: Lexicon | None,
              concepts: list[tuple[int, int, str]] | None = None) -> Features:
    """Read one article (`concepts`: its naming hits in the text, when already known)."""
    copy = copy_text(text, lang, lexicon, concepts)
    counts = Counter(copy.stems)
    for stem in content_stems(title, lang):
        counts[f"{lang}:{stem}"] += 2
    return Features(lang, counts, copy, minhash(copy.shingles))


_LEXICON: Lexicon | None = None  # the lexicon of featurize_all's worker processes (fork)


Item = tuple[str, str, str, list[tuple[int, int, str]] | None]  # title, text, lang, concepts


def _featurize_batch(items: list[Item]) -> list[Features]:
    return [featurize(t, x, lang, _LEXICON, concepts) for t, x, lang, concepts in items]


def featurize_all(batches: Iterable[list[Item]], lexicon: Lexicon | None,
                  jobs: int = 1) -> Iterator[list[Features]]:
    """Features of batches of (title, text, lang, concept hits or None), in order, read by
    `jobs` processes.

    The batches are read in the calling thread (they may come from SQLite), and up to two
    per process are in flight while the caller works on the previous one.
    """
    if jobs <= 1:
        yield from ([featurize(t, x, lang, lexicon, c) for t, x, lang, c in batch]
                    for batch in batches)
        return
    import multiprocessing
    from collections import deque

    global _LEXICON
    _LEXICON = lexicon
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        pending: deque[Any] = deque()
        for batch in batches:
            pending.append(pool.apply_async(_featurize_batch, (batch,)))
            if len(pending) > 2 * jobs:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()


@dataclass
class Vocabulary:
    """Document frequencies of stems and anchors: `n` documents, `df` per key."""

    n: int = 0
    df: dict[str, int] = field(default_factory=dict)
    rare_share: float = 0.001
    rare_min: int = 100
    _idf: dict[str, float] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def build(cls, terms: Iterable[set[str]], scale: int = 1, rare_share: float = 0.001,
              rare_min: int = 100) -> Vocabulary:
        """Count keys over documents (each a set); `scale` undoes a 1-in-`scale` sample."""
        df: Counter[str] = Counter()
        n = 0
        for keys in terms:
            df.update(keys)
            n += 1
        return cls(n * scale, {k: v * scale for k, v in df.items()}, rare_share, rare_min)

    def extended(self, terms: Iterable[set[str]]) -> Vocabulary:
        """This vocabulary plus new documents (an incremental build adds what it stores)."""
        df = dict(self.df)
        n = self.n
        for keys in terms:
            n += 1
            for k in keys:
                df[k] = df.get(k, 0) + 1
        return Vocabulary(n, df, self.rare_share, self.rare_min)

    def idf(self, key: str) -> float:
        """Smoothed inverse document frequency (unseen keys weigh most)."""
        got = self._idf.get(key)
        if got is None:
            got = self._idf[key] = math.log((1 + self.n) / (1 + self.df.get(key, 0))) + 1
        return got

    def rare(self, key: str) -> bool:
        """Few enough documents have the key for an index entry to stay short."""
        return self.df.get(key, 0) <= max(self.rare_min, self.rare_share * self.n)


def sampled(article_id: str, every: int) -> bool:
    """The deterministic 1-in-`every` sample of articles the vocabulary is counted on."""
    return every <= 1 or zlib.crc32(article_id.encode()) % every == 0


_TF = [0.0] + [1 + math.log(c) for c in range(1, 64)]  # sublinear term weights, precomputed


def tfidf(counts: Counter[str], vocab: Vocabulary) -> dict[str, float]:
    """Sublinear TF-IDF, L2-normalised."""
    # The hot loop of clustering (every article, every update): cached weights read
    # directly, the method only for a key not seen yet.
    known, idf, tf = vocab._idf.get, vocab.idf, _TF
    vec = {}
    for t, c in counts.items():
        w = known(t)
        vec[t] = (tf[c] if c < 64 else 1 + math.log(c)) * (idf(t) if w is None else w)
    norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
    return {t: v / norm for t, v in vec.items()}


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    """Dot product of two normalised sparse vectors."""
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(t, 0.0) for t, v in a.items())


def index_keys(feats: Features, vec: dict[str, float], vocab: Vocabulary, top: int
               ) -> tuple[list[str], list[str]]:
    """(story keys, copy keys): the rare stems that weigh most in the article plus its rare
    anchors, for same-story candidates; its rare anchors alone, for copy candidates."""
    bound, df = max(vocab.rare_min, vocab.rare_share * vocab.n), vocab.df
    stems = [t for t, _ in heapq.nsmallest(top, ((t, v) for t, v in vec.items()
                                                 if df.get(t, 0) <= bound),
                                           key=lambda kv: (-kv[1], kv[0]))]
    anchors = sorted({a.key for a in feats.copy.anchors
                      if a.key.startswith(INDEXED_ANCHORS) and vocab.rare(a.key)})
    return stems + anchors, anchors
