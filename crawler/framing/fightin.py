"""Distinctive vocabulary: log-odds ratio with an informative Dirichlet prior.

Monroe, Colaresi & Quinn (2008), "Fightin' Words", Political Analysis 16(4), section 3.5:
for word w, group counts y_a, y_b (totals n_a, n_b) and prior pseudo-counts
alpha_w = prior_strength * p_w (p_w = the word's share of a background corpus, alpha_0 = sum):

    delta_w = log[(y_a + alpha_w) / (n_a + alpha_0 - y_a - alpha_w)]
            - log[(y_b + alpha_w) / (n_b + alpha_0 - y_b - alpha_w)]
    var(delta_w) ~= 1 / (y_a + alpha_w) + 1 / (y_b + alpha_w)
    z_w = delta_w / sqrt(var(delta_w))

Positive z favours group A, negative favours group B; swapping the groups flips every sign.
The prior shrinks rare words toward zero, which is why it beats raw frequency ratios on the
small, unequal corpora of one outlet-month. A term is listed for a group only when that
group uses it at least `min_count` times (in at least `min_docs` of its articles, when
document counts are given): one article repeating a word is not a group's vocabulary.
Stop words are removed before counting (crawler/framing/stopwords.toml), in the groups and
in the background alike.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass


@dataclass(frozen=True)
class TermScore:
    """One term's counts and log-odds statistics."""

    term: str
    count_a: int
    count_b: int
    delta: float
    variance: float
    z: float
    docs_a: int = 0  # articles of A using the term (0: not counted)
    docs_b: int = 0


def log_odds_dirichlet(
    counts_a: Counter[str],
    counts_b: Counter[str],
    background: Counter[str] | None = None,
    prior_strength: float = 1000.0,
    min_count: int = 3,
    docs: tuple[Counter[str], Counter[str]] | None = None,
    min_docs: int = 1,
) -> list[TermScore]:
    """Score every term the group it favours uses at least min_count times (and, with
    `docs`, in at least min_docs articles), sorted by z (A's terms first)."""
    if prior_strength <= 0:
        raise ValueError("prior_strength must be positive (it is the total prior pseudo-count)")
    background = background if background is not None else counts_a + counts_b
    vocab = set(counts_a) | set(counts_b)
    # Every scored word needs prior mass, or its log-odds would be infinite: add it once.
    bg_total = sum(background.values()) + sum(1 for w in vocab if background[w] == 0)
    n_a, n_b = sum(counts_a.values()), sum(counts_b.values())
    scores = []
    docs_a, docs_b = docs if docs is not None else (Counter(), Counter())
    for w in vocab:
        y_a, y_b = counts_a[w], counts_b[w]
        if max(y_a, y_b) < min_count:
            continue
        alpha = prior_strength * max(background[w], 1) / bg_total
        # alpha_0 is prior_strength by construction (the p_w sum to one).
        odds_a = (y_a + alpha) / (n_a + prior_strength - y_a - alpha)
        odds_b = (y_b + alpha) / (n_b + prior_strength - y_b - alpha)
        delta = math.log(odds_a) - math.log(odds_b)
        variance = 1.0 / (y_a + alpha) + 1.0 / (y_b + alpha)
        z = delta / math.sqrt(variance)
        # The minimum holds in the corpus the term is distinctive of, not in A and B pooled.
        own, own_docs = (y_a, docs_a[w]) if z >= 0 else (y_b, docs_b[w])
        if own < min_count or (docs is not None and own_docs < min_docs):
            continue
        scores.append(TermScore(w, y_a, y_b, delta, variance, z, docs_a[w], docs_b[w]))
    scores.sort(key=lambda s: (-s.z, s.term))
    return scores


def top_terms(scores: list[TermScore], k: int = 30) -> tuple[list[TermScore], list[TermScore]]:
    """The k terms most distinctive of A (highest z) and of B (lowest z)."""
    favour_a = [s for s in scores if s.z > 0][:k]
    favour_b = sorted((s for s in scores if s.z < 0), key=lambda s: (s.z, s.term))[:k]
    return favour_a, favour_b
