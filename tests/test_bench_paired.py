"""bench/paired.py: what a page count can show (Wilson intervals, McNemar on discordant pages)."""

from __future__ import annotations

import pytest
from conftest import load_bench

pytestmark = pytest.mark.unit


def test_intervals_and_exact_tests_match_known_values() -> None:
    paired = load_bench("paired")
    low, high = paired.wilson(54, 67)  # the held-out title accuracy 0.806 on 67 pages
    assert (round(low, 3), round(high, 3)) == (0.696, 0.883)
    assert paired.mcnemar(30, 12) == pytest.approx(0.00792, abs=1e-5)  # binomial(42, 1/2)
    assert paired.mcnemar(5, 0) == pytest.approx(0.0625) and paired.mcnemar(0, 0) == 1.0
    assert paired.mcnemar(3, 3) == 1.0


def test_pooling_counts_a_page_of_two_sets_once() -> None:
    paired = load_bench("paired")
    found = paired.pooled({"dates/": [("u", True, False), ("v", False, True)],
                           "extraction/": [("u", False, False), ("w", True, False)]})
    # "u" is taken from the first set that has it; "w" only A gets right.
    assert found == {"pages": 3, "both": 0, "only_a": 2, "only_b": 1, "p": 1.0}
