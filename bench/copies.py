"""Copy detection on real coverage: the copies devset, tuned half vs held-out half.

Every pair of pages within a half goes through the decision the story build uses
(crawler.framing.stories.Clusterer.copy_evidence: shingle containment, then ordered facts),
with word and anchor weights counted on that half as a build counts them on its archive.
Printed per half (the split is fixed in bench/copies_split.py and was made before tuning):

- recall of the listed republication pairs (the two spun/paraphrased copies on their own)
  and of the listed translation pairs, and the same over all pairs of each cluster;
- false copies: listed same-event pairs flagged as copies, per language pair, and every
  predicted link between pages of different groups or inside a same-event group;
- whether the candidate indexes (LSH, rare keys) propose each gold pair at all;
- how the figures move when each threshold moves by -20 %, -10 %, +10 %, +20 %.

Run directly (`python bench/copies.py [--devsets PATH]`) or from `make bench`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import fields, replace
from itertools import combinations
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for path in (str(ROOT), str(HERE)):
    if path not in sys.path:
        sys.path.insert(0, path)

import copies_split  # noqa: E402

from crawler.framing.copies import CopyParams  # noqa: E402
from crawler.framing.features import Vocabulary, featurize  # noqa: E402
from crawler.framing.lexicon import load_lexicon  # noqa: E402
from crawler.framing.stories import Clusterer, StoryDoc, StoryParams  # noqa: E402

SPUN = ("spun", "paraphras")


def _decide(keys: list[str], pages: dict[str, Any], params: StoryParams
            ) -> tuple[dict[frozenset[str], Any], dict[frozenset[str], bool]]:
    """Copy decisions over every pair of `keys`, and whether the indexes propose each pair."""
    lexicon = load_lexicon()
    docs = {k: StoryDoc(k, pages[k].outlet, pages[k].lang, pages[k].published,
                        pages[k].title or "", pages[k].text) for k in keys}
    feats = {k: featurize(d.title, d.text, d.lang, lexicon) for k, d in docs.items()}
    vocab = Vocabulary.build(f.terms() for f in feats.values())
    clusterer = Clusterer(lexicon, params, vocab)
    nodes = {k: clusterer.node(docs[k], feats[k]) for k in keys}
    decided, proposed = {}, {}
    for a, b in combinations(sorted(keys), 2):
        na, nb = nodes[a], nodes[b]
        shared = clusterer.shared_anchors(na, nb)
        evidence = clusterer.copy_evidence(na, nb, shared) or \
            clusterer.copy_evidence(nb, na, shared)
        pair = frozenset((a, b))
        decided[pair] = evidence
        same_band = bool(set(_bands(na.feats.signature)) & set(_bands(nb.feats.signature)))
        proposed[pair] = same_band or shared >= params.min_shared_anchors or bool(
            set(na.story_keys) & set(nb.story_keys))  # clusterer.node made them (index_keys)
    return decided, proposed


def _bands(sig: Any) -> list[tuple[int, ...]]:
    from crawler.framing.candidates import BANDS

    b, r = BANDS
    return [(i, *map(int, sig[i * r:(i + 1) * r])) for i in range(b)]


def score(half: set[str], pages: dict[str, Any], pairs: list[Any], params: StoryParams
          ) -> dict[str, Any]:
    """The figures of one half."""
    decided, proposed = _decide(sorted(half), pages, params)
    listed = [p for p in pairs if p.a in half]
    flagged = {k for k, e in decided.items() if e}

    def hits(items: list[Any]) -> tuple[int, int]:
        return sum(frozenset((p.a, p.b)) in flagged for p in items), len(items)

    spun = [p for p in listed if p.label == "republication" and any(w in p.note for w in SPUN)]
    rep = [p for p in listed if p.label == "republication" and p not in spun]
    tr = [p for p in listed if p.label == "translation"]
    neg = [p for p in listed if p.label == "same-event-different-text"]
    group = {k: pages[k].group for k in half}
    closure = [frozenset(c) for c in combinations(sorted(half), 2)
               if group[min(c)] == group[max(c)] and not group[min(c)].startswith("ev_")]
    wrong = sorted(tuple(sorted(k)) for k in flagged
                   if len({group[x] for x in k}) > 1 or group[min(k)].startswith("ev_"))
    by_lang: dict[str, list[int]] = {}
    for p in neg:
        la, lb = pages[p.a].lang, pages[p.b].lang
        kind = f"{la}-{la}" if la == lb else "cross"
        by_lang.setdefault(kind, [0, 0])
        by_lang[kind][0] += frozenset((p.a, p.b)) in flagged
        by_lang[kind][1] += 1
    confusion = Counter((p.label, decided[frozenset((p.a, p.b))].kind)
                        for p in rep + spun + tr if decided[frozenset((p.a, p.b))])
    gold_pairs = [frozenset((p.a, p.b)) for p in rep + spun + tr] + closure
    return {
        "pages": len(half), "republication": hits(rep), "spun": hits(spun),
        "translation": hits(tr), "false_copies": hits(neg),
        "false_by_lang": {k: tuple(v) for k, v in sorted(by_lang.items())},
        "cluster_pairs": (sum(c in flagged for c in closure), len(closure)),
        "wrong_links": len(wrong), "wrong": wrong[:6], "links": len(flagged),
        "confusion": {f"{g}->{k}": n for (g, k), n in sorted(confusion.items())},
        "proposed": (sum(proposed[g] for g in set(gold_pairs)), len(set(gold_pairs))),
    }


def story_pr(half: set[str], pages: dict[str, Any], pairs: list[Any], params: StoryParams
             ) -> tuple[float, float]:
    """Story grouping on one half: pairwise precision and recall against the devset's
    connected components (pages joined by a group or a listed pair are one story). The
    devset's dates are coarse or missing, so every page gets the same date: this measures
    grouping by content alone (the time window cannot help or hurt)."""
    from framing_eval import pairwise

    from crawler.framing.stories import cluster

    comp = {k: i for i, c in enumerate(copies_split.components(pages, pairs)) for k in c}
    docs = [StoryDoc(k, pages[k].outlet, pages[k].lang, "2025-01-01T00:00:00+00:00",
                     pages[k].title or "", pages[k].text) for k in sorted(half)]
    members = cluster(docs, load_lexicon(), params)
    return pairwise({m.article_id: m.story_id for m in members},
                    {k: str(comp[k]) for k in half})


def _fmt(hit: tuple[int, int]) -> str:
    return f"{hit[0]}/{hit[1]}" + (f" ({hit[0] / hit[1]:.2f})" if hit[1] else "")


def _by_lang(lang: str) -> Any:
    return lambda r: _fmt(r["false_by_lang"].get(lang, (0, 0)))


def sensitivity(halves: dict[str, set[str]], pages: dict[str, Any], pairs: list[Any],
                base: StoryParams) -> list[tuple[str, str, dict[str, dict[str, Any]]]]:
    """Every copy threshold (and the two story thresholds that gate the aligned test) moved."""
    out = []
    names = [f.name for f in fields(CopyParams)] + ["text_threshold", "min_shared_anchors"]
    for name in names:
        for factor in (0.8, 0.9, 1.1, 1.2):
            if name in {f.name for f in fields(CopyParams)}:
                value = getattr(base.copy, name)
                moved = value * factor if isinstance(value, float) else max(1, round(value * factor))
                params = replace(base, copy=replace(base.copy, **{name: moved}))
            else:
                value = getattr(base, name)
                moved = value * factor if isinstance(value, float) else max(1, round(value * factor))
                params = replace(base, **{name: moved})
            if moved == value:
                continue
            out.append((name, f"{moved:.3g}", {h: score(k, pages, pairs, params)
                                                for h, k in halves.items()}))
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Print the copy-detection figures on both halves; return them."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--devsets", help="folder holding copies/copies.json")
    ap.add_argument("--no-sensitivity", action="store_true")
    args = ap.parse_args(argv)
    print("\n== Copy detection on real coverage (bench/copies.py) ==")
    loaded = copies_split.load(copies_split.devsets_dir(args.devsets))
    if loaded is None:
        print(f"skipped: {copies_split.HOW_TO_GET}")
        return {}
    pages, pairs = loaded
    halves = copies_split.split(pages, pairs)
    params = StoryParams()
    results = {h: score(k, pages, pairs, params) for h, k in halves.items()}
    for h, k in halves.items():
        results[h]["stories"] = story_pr(k, pages, pairs, params)
    print(f"{'':34s}{'tune (thresholds chosen here)':>32s}{'held out':>22s}")
    rows = [("pages", lambda r: str(r["pages"])),
            ("republications found (listed)", lambda r: _fmt(r["republication"])),
            ("  spun/paraphrased copies", lambda r: _fmt(r["spun"])),
            ("translations found (listed)", lambda r: _fmt(r["translation"])),
            ("all pairs inside clusters", lambda r: _fmt(r["cluster_pairs"])),
            ("same-event reports flagged", lambda r: _fmt(r["false_copies"])),
            *[(f"  {lang}", _by_lang(lang)) for lang in ("en-en", "ru-ru", "hy-hy", "cross")],
            ("links across groups / in ev_", lambda r: f"{r['wrong_links']} of {r['links']}"),
            ("gold pairs the indexes propose", lambda r: _fmt(r["proposed"])),
            ("story grouping P / R (content)", lambda r: "{:.2f} / {:.2f}".format(*r["stories"])),
            ("kind (gold->found)", lambda r: ", ".join(f"{k} {v}"
                                                     for k, v in r["confusion"].items()))]
    for label, get in rows:
        print(f"{label:34s}{get(results['tune']):>32s}{get(results['held']):>22s}")
    for h in ("tune", "held"):
        if results[h]["wrong"]:
            print(f"wrong links ({h}): " + "; ".join(" ~ ".join(w) for w in results[h]["wrong"]))
    out: dict[str, Any] = {"copies": results}
    if not args.no_sensitivity:
        print("\nsensitivity (held out; tune in brackets): rep, spun, translations, flagged")
        table = sensitivity(halves, pages, pairs, params)
        for name, value, r in table:
            held, tune = r["held"], r["tune"]
            print(f"  {name:>20s} = {value:>6s}: rep {_fmt(held['republication']):>11s} "
                  f"[{tune['republication'][0]}/{tune['republication'][1]}]  spun "
                  f"{held['spun'][0]}/{held['spun'][1]}  tr {_fmt(held['translation']):>11s} "
                  f"[{tune['translation'][0]}/{tune['translation'][1]}]  flagged "
                  f"{held['false_copies'][0]}/{held['false_copies'][1]} "
                  f"[{tune['false_copies'][0]}/{tune['false_copies'][1]}]")
        out["sensitivity"] = [(n, v, r) for n, v, r in table]
    print(json.dumps({h: {k: results[h][k] for k in ("republication", "spun", "translation",
                                                     "false_copies", "stories")}
                      for h in results}))
    return out


if __name__ == "__main__":
    main(sys.argv[1:])
