"""Is one article a copy of another? Republication and translation, with the evidence.

Why this design (so a researcher can cite it):

- A republication is the same text under another outlet, often with its own headline,
  lead-in, byline, image captions, boilerplate or a trimmed end. So the decision reads the
  body, never the title, and measures *containment* in each direction: the share of this
  article's word 5-grams (shingles) found in the other, and of the other's found in this.
  A copy that adds or cuts paragraphs keeps a high containment on its shorter side.
  Independent reports can share a quoted sentence verbatim; shingles inside quotation marks
  therefore do not count towards containment, and a few shared shingles are never enough.
- A translation (or a rewritten "spun" copy) shares almost no shingles but keeps the
  original's facts in their order: names, numbers, dates, quotes and the lexicon's concepts
  (crawler.framing.anchors). The evidence is the longest chain of anchors that appear in
  the same order in both texts with at most `align_window` other anchors between two
  links, as a share of the shorter text's anchors. Two independent reports of one event
  share names and the date, but not in one long ordered run with the same numbers.
- A declared canonical / "originally published at" link naming the other article is the
  strongest evidence and decides on its own.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from crawler.framing.anchors import Anchor, anchors, same_key, split
from crawler.framing.lexicon import Lexicon
from crawler.framing.stopwords import stopwords
from crawler.framing.tokenize import WORD as _WORD
from crawler.framing.tokenize import stem
from extract.normalize import fold

SHINGLE = 5
MAX_ANCHORS = 300  # anchors of each text compared in order (its opening, for long texts)
MAX_WORDS = 600  # content words of each text compared in order
_MULT = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9,
                  0x27D4EB2F165667C5, 0xFF51AFD7ED558CCD], dtype=np.uint64)


@dataclass(frozen=True)
class CopyParams:
    """Thresholds of the copy decision (tuned on half of the copies devset; see bench/copies.py)."""

    containment: float = 0.2  # share of one side's unquoted shingles found in the other
    min_shared: int = 8  # shared unquoted shingles, whatever the share (short texts)
    align_coverage: float = 0.47  # weight of aligned anchors / the poorer text's anchors
    align_order: float = 0.72  # aligned / shared-anchor mentions of the shorter text
    min_aligned: int = 12  # aligned anchors (or words), whatever the shares
    align_window: int = 3  # other anchors allowed between two aligned ones (each text)
    # Same language: the mean of coverage and order of the content words (a synonym-spun copy
    # keeps the order but loses words, a rewrite reorders but keeps them).
    words_score: float = 0.52


@dataclass
class CopyText:
    """What the copy decision needs of one article, computed once."""

    lang: str
    shingles: np.ndarray  # sorted unique uint64 hashes of unquoted word 5-grams
    quoted: np.ndarray  # the same, of 5-grams inside a quotation
    anchors: list[Anchor]
    stems: list[str]  # "lang:stem" of content words in order (same-language rewrites)


@dataclass(frozen=True)
class CopyEvidence:
    """Why (or why not) one article is a copy of another; stored with every copy link."""

    kind: str | None  # republication | translation | None (not a copy)
    basis: str  # canonical | text | aligned | none
    containment: float  # share of this article's unquoted shingles found in the other
    containment_other: float  # share of the other's found in this one
    shared: int  # unquoted shingles in common
    aligned: int  # shared anchors in one ordered chain
    coverage: float  # their weight / the weight of the poorer text's anchors (or words)
    order: float  # chain length / shared-key mentions of the shorter text
    matched: tuple[str, ...]  # the aligned anchors as written in this article (first ones)
    canonical_url: str | None = None  # the declared link, when that is the evidence


_QUOTES = (("«", "»"), ("“", "”"), ("„", "“"), ('"', '"'))


def _quoted_spans(text: str) -> list[tuple[int, int]]:
    """Character spans inside quotation marks (straight quotes paired in order)."""
    spans = []
    for open_, close in _QUOTES:
        start = text.find(open_)
        while start >= 0:
            end = text.find(close, start + 1)
            if end < 0:
                break
            spans.append((start, end))
            start = text.find(open_, end + 1)
    return spans


def shingle_hashes(folded: str, tokens: list[tuple[int, str]] | None = None
                   ) -> tuple[np.ndarray, np.ndarray]:
    """(unquoted, quoted) sorted unique 64-bit hashes of the word 5-grams of a folded text,
    stable across runs (`tokens`: its words with their offsets, when already split)."""
    toks = [(m.start(), m.group()) for m in _WORD.finditer(folded)] if tokens is None \
        else [t for t in tokens if not t[1][0].isdigit()]
    if len(toks) < SHINGLE:
        empty = np.zeros(0, dtype=np.uint64)
        return empty, empty
    quoted = np.zeros(len(folded) + 1, dtype=bool)
    for start, end in _quoted_spans(folded):
        quoted[start + 1:end] = True
    inside = quoted[np.fromiter((pos for pos, _ in toks), dtype=np.int64, count=len(toks))]
    h = np.fromiter((_crc(w) for _, w in toks), dtype=np.uint64, count=len(toks))
    n = len(h) - SHINGLE + 1
    with np.errstate(over="ignore"):
        acc = np.zeros(n, dtype=np.uint64)
        for k in range(SHINGLE):
            acc += h[k:k + n] * _MULT[k]
    in_quote = np.ones(n, dtype=bool)
    for k in range(SHINGLE):
        in_quote &= inside[k:k + n]
    return np.unique(acc[~in_quote]), np.unique(acc[in_quote])


@lru_cache(maxsize=200_000)
def _crc(word: str) -> int:
    return zlib.crc32(word.encode())


def copy_text(text: str, lang: str, lexicon: Lexicon | None,
              concepts: list[tuple[int, int, str]] | None = None) -> CopyText:
    """The shingles, anchors and stems of one article body (headlines are rewritten freely).

    `concepts`: the lexicon's naming hits in the text, when the archive has them already.
    """
    folded = fold(text)
    tokens = split(folded)
    free, quoted = shingle_hashes(folded, tokens)
    drop = stopwords(lang)
    stems = [f"{lang}:{stem(w, lang)}" for _, w in tokens
             if len(w) > 1 and not w[0].isdigit() and w not in drop]
    return CopyText(lang, free, quoted, anchors(text, lang, lexicon, concepts, folded, tokens),
                    stems)


def _canonical(keys_a: set[str], keys_b: set[str]) -> dict[str, str]:
    """Map each phonetic key to the shortest compatible key of either text (Պուտին-ին: Պուտին)."""
    every = sorted(keys_a | keys_b, key=lambda k: (len(k), k))
    out: dict[str, str] = {}
    for key in every:
        if key.startswith("p:") and key[:-1] in out:
            out[key] = out[key[:-1]]
        else:
            out[key] = key
    return {k: v for k, v in out.items() if same_key(k, v)}


def align(a: list[str], b: list[str], window: int) -> list[tuple[int, int]]:
    """The longest chain of equal keys in the same order, at most `window` keys skipped."""
    where: dict[str, list[int]] = {}
    for j, key in enumerate(b):
        where.setdefault(key, []).append(j)
    best: dict[tuple[int, int], tuple[int, tuple[int, int] | None]] = {}
    top: tuple[int, tuple[int, int] | None] = (0, None)
    for i, key in enumerate(a):
        for j in where.get(key, ()):
            length, prev = 1, None
            for di in range(1, window + 2):
                for dj in range(1, window + 2):
                    got = best.get((i - di, j - dj))
                    if got and got[0] + 1 > length:
                        length, prev = got[0] + 1, (i - di, j - dj)
            best[(i, j)] = (length, prev)
            if length > top[0]:
                top = (length, (i, j))
    chain = []
    at = top[1]
    while at is not None:
        chain.append(at)
        at = best[at][1]
    return chain[::-1]


Weights = Callable[[str], float]


def ordered_overlap(seq_a: list[str], seq_b: list[str], weight: Weights, window: int
                    ) -> tuple[list[int], float, float]:
    """The longest ordered chain of keys the two sequences share: its positions in `seq_a`,
    its weight as a share of the poorer sequence's distinct keys (coverage), and its length
    as a share of the shorter sequence of shared-key mentions (order)."""
    common = set(seq_a) & set(seq_b)
    own = min(sum(weight(k) for k in set(seq_a)), sum(weight(k) for k in set(seq_b)))
    if not common or not own:
        return [], 0.0, 0.0
    # The facts both texts state, in one chain with small gaps between links.
    proj_a = [i for i, k in enumerate(seq_a) if k in common]
    proj_b = [k for k in seq_b if k in common]
    chain = align([seq_a[i] for i in proj_a], proj_b, window)
    at = [proj_a[i] for i, _ in chain]
    coverage = sum(weight(k) for k in {seq_a[i] for i in at}) / own
    return at, coverage, len(chain) / min(len(proj_a), len(proj_b))


def compare(a: CopyText, b: CopyText, params: CopyParams, weight: Weights,
            aligned: bool = True) -> CopyEvidence:
    """The evidence that `a` is a copy of `b` (or both of one source), and the verdict.

    `weight` is a key's informativeness (inverse document frequency in the archive):
    Armenia and Putin say little, Matviyenko or 12.4 a lot. Without `aligned` only the
    shingles are compared (the ordered-facts test is the costly one).
    """
    same = a.lang == b.lang
    shared, c_a, c_b = _contained(a.shingles, b.shingles) if same else (0, 0.0, 0.0)
    if same and shared >= params.min_shared and max(c_a, c_b) >= params.containment:
        return CopyEvidence("republication", "text", round(c_a, 4), round(c_b, 4), shared,
                            0, 0.0, 0.0, _anchors_in_common(a, b))
    if not aligned:
        return CopyEvidence(None, "none", round(c_a, 4), round(c_b, 4), shared, 0, 0.0, 0.0, ())
    # The opening of a long article is enough to tell (and bounds the cost).
    anchors_a, anchors_b = a.anchors[:MAX_ANCHORS], b.anchors[:MAX_ANCHORS]
    canon = _canonical({x.key for x in anchors_a}, {x.key for x in anchors_b})
    seq_a = [canon.get(x.key, x.key) for x in anchors_a]
    at, coverage, order = ordered_overlap(
        seq_a, [canon.get(x.key, x.key) for x in anchors_b], weight, params.align_window)
    matched = tuple(dict.fromkeys(anchors_a[i].surface for i in at if seq_a[i] != "q"))[:12]
    kind = None
    if same:
        # Same language: the content words in order (a rewrite keeps most of them).
        at, coverage, order = ordered_overlap(a.stems[:MAX_WORDS], b.stems[:MAX_WORDS], weight,
                                              params.align_window)
        if len(at) >= params.min_aligned and (coverage + order) / 2 >= params.words_score:
            kind = "republication"
    elif len(at) >= params.min_aligned and coverage >= params.align_coverage and \
            order >= params.align_order:
        kind = "translation"
    return CopyEvidence(kind, "aligned" if kind else "none", round(c_a, 4), round(c_b, 4),
                        shared, len(at), round(coverage, 4), round(order, 4), matched)


def _contained(a: np.ndarray, b: np.ndarray) -> tuple[int, float, float]:
    shared = len(np.intersect1d(a, b, assume_unique=True))
    return shared, shared / len(a) if len(a) else 0.0, shared / len(b) if len(b) else 0.0


def same_text(a: np.ndarray, b: np.ndarray, params: CopyParams) -> bool:
    """`compare`'s same-text test on two same-language texts' unquoted shingles alone."""
    shared, c_a, c_b = _contained(a, b)
    return shared >= params.min_shared and max(c_a, c_b) >= params.containment


def free_shingles(text: str) -> np.ndarray:
    """The unquoted shingles of a body, as copy_text computes them (nothing else read)."""
    folded = fold(text)
    return shingle_hashes(folded, split(folded))[0]


def _anchors_in_common(a: CopyText, b: CopyText) -> tuple[str, ...]:
    """Names, numbers and dates both texts state (as written in `a`), for the record."""
    keys = {x.key for x in b.anchors}
    return tuple(dict.fromkeys(x.surface for x in a.anchors
                               if x.key in keys and x.key != "q"))[:12]


def declared(a_lang: str, b_lang: str, url: str | None) -> CopyEvidence:
    """The evidence of a declared canonical / "originally published at" link."""
    kind = "republication" if a_lang == b_lang else "translation"
    return CopyEvidence(kind, "canonical", 0.0, 0.0, 0, 0, 0.0, 0.0, (), url)
