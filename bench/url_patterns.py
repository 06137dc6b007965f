"""URL-pattern bench: does each outlet's article_url_pattern fit its real URLs?

Usage: .venv/bin/python bench/url_patterns.py [--devsets PATH] [--sources PATH] [--json]

Reads `outlet-urls.json` from the development sets (--devsets, else $MEDIAWATCH_DEVSETS, else
../shared/devsets next to the repo). Every URL of every outlet goes to a tuning half or a
held-out half by a hash of the URL (split_half), fixed before any pattern was tuned: the
registry's `examples`/`not_articles` come from the tuning half only, the held-out half is the
honest check. Positives: articles, older schemes still linked, other editions. Negatives:
non-articles plus the feed and sitemap URLs seen. Variants (AMP, tracking copies) must be
rejected or normalised to their article (crawler.registry.examples.variant_handled).

Also measured: patterns learned by `sources discover` (crawler.registry.discover) from an
outlet's tuning-half articles, scored on its held-out articles and on all its non-articles.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from crawler.registry.examples import accepts, variant_handled  # noqa: E402
from crawler.registry.model import load_registry  # noqa: E402

DEFAULT_DEVSETS = ROOT.parent / "shared" / "devsets"
HALVES = ("tune", "held")
POSITIVE_KEYS = ("articles", "articles_legacy", "articles_other_editions")
NEGATIVE_KEYS = ("non_articles", "feeds_seen", "sitemaps_seen")


def split_half(url: str) -> str:
    """'tune' or 'held': a fixed hash of the URL, so the split never depends on the patterns."""
    return HALVES[hashlib.sha256(url.encode("utf-8")).digest()[0] % 2]


def outlet_sets(entry: dict[str, Any], half: str | None) -> dict[str, list[str]]:
    """Positives, negatives and variants of one outlet, restricted to one half (None: all)."""
    def pick(keys: tuple[str, ...]) -> list[str]:
        urls = dict.fromkeys(u for k in keys for u in entry.get(k, []))
        return [u for u in urls if half is None or split_half(u) == half]
    pos = pick(POSITIVE_KEYS)
    neg = [u for u in pick(NEGATIVE_KEYS) if u not in pos]
    return {"pos": pos, "neg": neg, "var": pick(("articles_variant",))}


def score(devset: dict[str, Any], pattern_for: Callable[[str], str | None],
          half: str) -> dict[str, Any]:
    """Recall and false-positive rate per outlet, macro (over outlets) and micro (pooled)."""
    per: dict[str, dict[str, Any]] = {}
    tp = npos = fp = nneg = var_ok = nvar = 0
    for oid, entry in devset.items():
        sets = outlet_sets(entry, half)
        raw = pattern_for(oid)
        pattern = re.compile(raw) if raw else None
        hits = sum(accepts(pattern, u) for u in sets["pos"])
        false = sum(accepts(pattern, u) for u in sets["neg"])
        handled = sum(variant_handled(pattern, u) for u in sets["var"])
        per[oid] = {"pos": len(sets["pos"]), "hits": hits, "neg": len(sets["neg"]),
                    "false": false, "pattern": raw is not None,
                    "recall": hits / len(sets["pos"]) if sets["pos"] else None,
                    "fp": false / len(sets["neg"]) if sets["neg"] else None,
                    "missed": [u for u in sets["pos"] if not accepts(pattern, u)],
                    "accepted": [u for u in sets["neg"] if accepts(pattern, u)]}
        tp, npos, fp, nneg = tp + hits, npos + len(sets["pos"]), fp + false, nneg + len(sets["neg"])
        var_ok, nvar = var_ok + handled, nvar + len(sets["var"])
    recalls = [p["recall"] for p in per.values() if p["recall"] is not None]
    fps = [p["fp"] for p in per.values() if p["fp"] is not None]
    return {
        "outlets_with_articles": len(recalls), "outlets_with_non_articles": len(fps),
        "articles": npos, "non_articles": nneg, "variants": nvar,
        "recall_macro": round(sum(recalls) / len(recalls), 3) if recalls else None,
        "recall_micro": round(tp / npos, 3) if npos else None,
        "fp_macro": round(sum(fps) / len(fps), 3) if fps else None,
        "fp_micro": round(fp / nneg, 3) if nneg else None,
        "variants_handled": round(var_ok / nvar, 3) if nvar else None,
        "per_outlet": per,
    }


NAMES = {"tune": "tuning", "held": "held-out"}


def learned_score(devset: dict[str, Any], learn: str = "tune", test: str = "held"
                  ) -> dict[str, Any] | None:
    """Patterns learned from each outlet's articles of one half, scored on the other half's
    (both directions are printed: the learner was written looking at tune -> held misses)."""
    try:
        from crawler.registry.discover import learn_pattern
    except ImportError:
        return None
    learned: dict[str, str | None] = {}
    for oid, entry in devset.items():
        seen = outlet_sets(entry, learn)
        # As `sources discover` does: articles from feeds/sitemaps, known non-articles (there:
        # the homepage's other links; here: the learning half's) only to narrow a shape.
        learned[oid] = learn_pattern(seen["pos"], seen["neg"]).pattern if seen["pos"] else None
    unseen = {oid: e for oid, e in devset.items()
              if learned[oid] and outlet_sets(e, test)["pos"]}
    result = score(unseen, learned.get, test)
    result["fp_all_halves"] = score(unseen, learned.get, learn)["fp_micro"]
    result["learned"] = {oid: learned[oid] for oid in unseen}
    return result


def _fmt(v: float | None) -> str:
    return "  -  " if v is None else f"{v:5.3f}"


def print_table(results: dict[str, dict[str, Any]], title: str) -> None:
    """One line per half: recall and non-articles accepted, macro and micro."""
    print(f"\n== {title} ==")
    print(f"{'half':<6} {'outlets':>7} {'articles':>8} {'recall macro':>12} {'micro':>6} "
          f"{'non-art':>7} {'FP macro':>8} {'micro':>6} {'variants ok':>11}")
    for half, r in results.items():
        print(f"{half:<6} {r['outlets_with_articles']:>7} {r['articles']:>8} "
              f"{_fmt(r['recall_macro']):>12} {_fmt(r['recall_micro']):>6} "
              f"{r['non_articles']:>7} {_fmt(r['fp_macro']):>8} {_fmt(r['fp_micro']):>6} "
              f"{_fmt(r['variants_handled']):>11}")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Score the registry's patterns (and learned ones) on both halves; print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = os.environ.get("MEDIAWATCH_DEVSETS") or str(DEFAULT_DEVSETS)
    parser.add_argument("--devsets", type=Path, default=Path(default))
    parser.add_argument("--sources", type=Path, default=ROOT / "sources.toml")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    parser.add_argument("--verbose", action="store_true", help="list misses per outlet")
    args = parser.parse_known_args(argv)[0]  # `make bench` passes other scripts' flags too
    path = args.devsets / "outlet-urls.json"
    if not path.exists():
        print(f"URL-pattern bench skipped: {path} not found (the development sets: real outlet "
              "URLs; pass --devsets PATH or set MEDIAWATCH_DEVSETS to a copy of shared/devsets)")
        return {}
    devset = json.loads(path.read_text(encoding="utf-8"))
    registry = load_registry(args.sources)
    patterns = {s.id: s.article_url_pattern for s in registry.sources}
    results = {half: score(devset, patterns.get, half) for half in HALVES}
    print_table(results, f"URL patterns of {args.sources.name} on outlet-urls.json "
                         f"({len(devset)} outlets; split by URL hash)")
    if args.verbose:
        for half, r in results.items():
            for oid, p in r["per_outlet"].items():
                for u in p["missed"]:
                    print(f"  {half} {oid}: missed {u}")
                for u in p["accepted"]:
                    print(f"  {half} {oid}: accepted non-article {u}")
                if p["pos"] and not p["pattern"]:
                    print(f"  {half} {oid}: no pattern")
    out: dict[str, Any] = {"registry": results}
    for learn, test in (("tune", "held"), ("held", "tune")):
        learned = learned_score(devset, learn, test)
        if learned is None:
            break
        print(f"learned by `sources discover` from {NAMES[learn]}-half articles, scored on "
              f"{NAMES[test]}: {learned['outlets_with_articles']} outlets, recall macro "
              f"{_fmt(learned['recall_macro'])} micro {_fmt(learned['recall_micro'])}; "
              f"non-articles accepted macro {_fmt(learned['fp_macro'])} micro "
              f"{_fmt(learned['fp_micro'])} ({NAMES[learn]}-half non-articles, seen by the "
              f"learner: {_fmt(learned['fp_all_halves'])})")
        out["learned" if learn == "tune" else "learned_reverse"] = learned
    if args.json:
        slim = {k: {h: {m: v for m, v in r.items() if m != "per_outlet"} for h, r in v.items()}
                if k == "registry" else {m: v for m, v in v.items() if m != "per_outlet"}
                for k, v in out.items()}
        print(json.dumps(slim, ensure_ascii=False))
    return out


if __name__ == "__main__":
    main(sys.argv[1:])
