"""Paired comparisons of two extractors on the same pages, and what a page count can show.

Two accuracies measured on 67 pages that differ by one page say nothing: what matters is on
how many pages one is right where the other is wrong, and the other way round (McNemar's
exact test on those discordant pages). The three date sets overlap (htmldate's and
trafilatura's corpora share pages), so pooling counts each URL once.
"""

from __future__ import annotations

from math import comb, sqrt
from typing import Any


def wilson(hits: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% Wilson score interval of a proportion `hits` of `n`."""
    if n == 0:
        return 0.0, 1.0
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def mcnemar(only_a: int, only_b: int) -> float:
    """Two-sided exact p-value that A and B are equally often right alone (a sign test)."""
    n = only_a + only_b
    if n == 0:
        return 1.0
    tail = sum(comb(n, k) for k in range(min(only_a, only_b) + 1)) / 2 ** n
    return min(1.0, 2 * tail)


def discordant(right_a: list[bool], right_b: list[bool]) -> dict[str, Any]:
    """Pages where only A is right, only B is right, both, and the test of the difference."""
    pairs = list(zip(right_a, right_b, strict=True))
    only_a = sum(a and not b for a, b in pairs)
    only_b = sum(b and not a for a, b in pairs)
    return {"pages": len(pairs), "both": sum(a and b for a, b in pairs), "only_a": only_a,
            "only_b": only_b, "p": round(mcnemar(only_a, only_b), 4)}


def pooled(sets: dict[str, list[tuple[str, bool, bool]]]) -> dict[str, Any]:
    """`discordant` over several sets of (url, A right, B right), each URL counted once."""
    seen: dict[str, tuple[bool, bool]] = {}
    for rows in sets.values():
        for url, a, b in rows:
            seen.setdefault(url, (a, b))
    return discordant([a for a, _ in seen.values()], [b for _, b in seen.values()])


def describe(name: str, found: dict[str, Any], a: str, b: str) -> str:
    """One line: the discordant pages and what they show."""
    verdict = (f"{a} above {b}" if found["only_a"] > found["only_b"] else
               f"{b} above {a}" if found["only_b"] > found["only_a"] else "no difference")
    strength = "significant at 5%" if found["p"] < 0.05 else "not significant at 5%"
    return (f"  {name:34s} {found['pages']:5d} pages: only {a} right {found['only_a']:3d}, "
            f"only {b} right {found['only_b']:3d}  -> {verdict} (McNemar p={found['p']:.3g}, "
            f"{strength})")


def print_paired(sets: dict[str, list[tuple[str, bool, bool]]], a: str, b: str
                 ) -> dict[str, Any]:
    """Print and return each set's discordant pages and the pooled figure (URLs once)."""
    print(f"\n## Dates on the held-out halves, page by page: {a} vs {b}")
    out = {}
    for name, rows in sets.items():
        out[name] = discordant([x for _, x, _ in rows], [y for _, _, y in rows])
        print(describe(name, out[name], a, b))
    out["pooled"] = pooled(sets)
    print(describe(f"all {len(sets)} sets, each URL once", out["pooled"], a, b))
    hits = out["pooled"]["both"] + out["pooled"]["only_a"]
    low, high = wilson(hits, out["pooled"]["pages"])
    print(f"  ({a} pooled accuracy {hits / max(out['pooled']['pages'], 1):.3f}, 95% interval "
          f"{low:.3f}-{high:.3f})")
    smallest = min(len(rows) for rows in sets.values())
    low, high = wilson(round(0.8 * smallest), smallest)
    print(f"  (on {smallest} pages an accuracy near 0.80 lies anywhere in {low:.2f}-{high:.2f}: "
          "one set's lead of a page or two is noise; the discordant pages say more)")
    return out
