"""Log-odds with an informative Dirichlet prior against a straightforward reference."""

from __future__ import annotations

import math
from collections import Counter

import pytest

from crawler.framing.fightin import log_odds_dirichlet, top_terms

pytestmark = pytest.mark.unit

# A toy term-by-group matrix: rows are words, columns are (group A, group B, background).
WORDS = ["peacekeepers", "troops", "artsakh", "karabakh", "the", "betrayal", "rare"]
MATRIX = [
    [12, 2, 30],
    [1, 9, 12],
    [10, 0, 15],
    [1, 11, 20],
    [50, 55, 400],
    [4, 0, 5],
    [1, 1, 2],
]


def reference(col_a: int, col_b: int, a0: float) -> dict[str, float]:
    """Monroe et al. (2008) eq. 16-22 written out longhand over the matrix."""
    n_a = sum(row[col_a] for row in MATRIX)
    n_b = sum(row[col_b] for row in MATRIX)
    bg_total = sum(row[2] for row in MATRIX)
    z = {}
    for word, row in zip(WORDS, MATRIX, strict=True):
        alpha = a0 * row[2] / bg_total
        ya, yb = row[col_a], row[col_b]
        la = math.log((ya + alpha) / (n_a + a0 - ya - alpha))
        lb = math.log((yb + alpha) / (n_b + a0 - yb - alpha))
        z[word] = (la - lb) / math.sqrt(1 / (ya + alpha) + 1 / (yb + alpha))
    return z


def counters(col: int) -> Counter[str]:
    return Counter({w: row[col] for w, row in zip(WORDS, MATRIX, strict=True) if row[col]})


@pytest.mark.parametrize("a0", [10.0, 100.0, 1000.0])
def test_matches_reference_implementation(a0: float) -> None:
    scores = log_odds_dirichlet(counters(0), counters(1), counters(2), a0, min_count=1)
    expected = reference(0, 1, a0)
    assert {s.term for s in scores} == set(WORDS)
    for s in scores:
        assert s.z == pytest.approx(expected[s.term], rel=1e-9), s.term
    assert [s.z for s in scores] == sorted((s.z for s in scores), reverse=True)


def test_swapping_groups_flips_every_sign() -> None:
    ab = {s.term: s for s in log_odds_dirichlet(counters(0), counters(1), counters(2), 100, 1)}
    ba = {s.term: s for s in log_odds_dirichlet(counters(1), counters(0), counters(2), 100, 1)}
    for term in WORDS:
        assert ba[term].z == pytest.approx(-ab[term].z)
        assert ba[term].delta == pytest.approx(-ab[term].delta)
        assert (ba[term].count_a, ba[term].count_b) == (ab[term].count_b, ab[term].count_a)
    a_top, b_top = top_terms(list(ab.values()), 2)
    assert [s.term for s in a_top] == ["artsakh", "peacekeepers"]
    assert [s.term for s in b_top] == ["karabakh", "troops"]


def test_prior_shrinks_rare_words_and_min_count_drops_them() -> None:
    weak = {s.term: s.z for s in log_odds_dirichlet(counters(0), counters(1), counters(2), 10, 1)}
    strong = {s.term: s.z for s in log_odds_dirichlet(counters(0), counters(1), counters(2),
                                                       5000, 1)}
    assert abs(strong["betrayal"]) < abs(weak["betrayal"])
    kept = {s.term for s in log_odds_dirichlet(counters(0), counters(1), counters(2), 10, 5)}
    assert "rare" not in kept and "betrayal" not in kept and "the" in kept
    assert abs(weak["the"]) < abs(weak["artsakh"])  # frequent everywhere: not distinctive


def test_words_missing_from_the_background_get_prior_mass() -> None:
    scores = log_odds_dirichlet(Counter({"new": 5, "x": 1}), Counter({"x": 5}), Counter({"x": 3}),
                                10, 1)
    assert all(math.isfinite(s.z) for s in scores)
    with pytest.raises(ValueError):
        log_odds_dirichlet(Counter(), Counter(), None, 0)
