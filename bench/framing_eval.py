"""Story clustering quality on the labelled fixture (tests/framing_fixture): pairwise P/R.

Pairwise precision = share of predicted same-story pairs that are gold same-story pairs;
recall = share of gold pairs that were predicted. Copy detection (republication and
translation, with the original they point to) is scored separately. Run directly or from
`make bench`; tests/test_framing_stories.py asserts a floor on the same figures.
"""

from __future__ import annotations

import re
import sys
import time
import tomllib
from dataclasses import dataclass, replace
from itertools import combinations
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "framing_fixture"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from crawler.framing.lexicon import load_lexicon  # noqa: E402
from crawler.framing.stories import Membership, StoryDoc, StoryParams, cluster  # noqa: E402


@dataclass(frozen=True)
class Gold:
    """One fixture article's gold label."""

    story: str
    role: str
    copy_of: str | None


def load_fixture(folder: Path = FIXTURE) -> tuple[list[StoryDoc], dict[str, Gold]]:
    """The fixture articles as StoryDocs (id = path relative to articles/) and their labels."""
    labels = tomllib.loads((folder / "labels.toml").read_text(encoding="utf-8"))
    outlets = labels["outlets"]
    docs, gold = [], {}
    for path in sorted((folder / "articles").rglob("*.md")):
        aid = path.relative_to(folder / "articles").as_posix()
        front, body = path.read_text(encoding="utf-8").split("+++", 2)[1:]
        meta = tomllib.loads(front)
        outlet = aid.split("/")[0]
        text = re.sub(r"<[^>]+>", "", body).replace("## ", "").strip()
        published = meta["date"].isoformat() if hasattr(meta["date"], "isoformat") else meta["date"]
        docs.append(StoryDoc(aid, outlet, outlets[outlet]["lang"], published, meta["title"], text))
        gold[aid] = Gold(f"single:{aid}", "report", None)
    for story, members in labels["stories"].items():
        for m in members:
            if m["file"] not in gold:
                raise ValueError(f"labels.toml names a missing file: {m['file']}")
            gold[m["file"]] = Gold(story, m["role"], m.get("copy_of"))
    return docs, gold


def pairwise(predicted: dict[str, str], gold: dict[str, str]) -> tuple[float, float]:
    """Pairwise precision and recall of a clustering (article -> cluster) against gold."""
    ids = sorted(gold)
    pred_pairs = {(a, b) for a, b in combinations(ids, 2) if predicted[a] == predicted[b]}
    gold_pairs = {(a, b) for a, b in combinations(ids, 2) if gold[a] == gold[b]}
    tp = len(pred_pairs & gold_pairs)
    precision = tp / len(pred_pairs) if pred_pairs else 1.0
    recall = tp / len(gold_pairs) if gold_pairs else 1.0
    return precision, recall


def evaluate() -> dict[str, float]:
    """Cluster the fixture and score it; returns the figures that are printed."""
    docs, gold = load_fixture()
    start = time.perf_counter()
    members = cluster(docs, load_lexicon())
    seconds = time.perf_counter() - start
    by_id: dict[str, Membership] = {m.article_id: m for m in members}
    precision, recall = pairwise({a: m.story_id for a, m in by_id.items()},
                                 {a: g.story for a, g in gold.items()})
    copies_gold = {(a, g.role, g.copy_of) for a, g in gold.items() if g.copy_of}
    copies_pred = {(a, m.role, m.copy_of) for a, m in by_id.items() if m.copy_of}
    hit = len(copies_gold & copies_pred)
    return {
        "articles": len(docs),
        "gold_stories": len({g.story for g in gold.values()}),
        "predicted_stories": len({m.story_id for m in members}),
        "precision": precision,
        "recall": recall,
        "copy_precision": hit / len(copies_pred) if copies_pred else 1.0,
        "copy_recall": hit / len(copies_gold) if copies_gold else 1.0,
        "role_accuracy": sum(by_id[a].role == g.role for a, g in gold.items()) / len(gold),
        "seconds": seconds,
    }


def main() -> int:
    """Print the clustering figures."""
    r = evaluate()
    print("\n== Story clustering on tests/framing_fixture (bench/framing_eval.py) ==")
    print(f"{r['articles']} articles (en/ru/hy), {r['gold_stories']} gold stories, "
          f"{r['predicted_stories']} predicted, in {r['seconds']:.2f}s")
    print(f"pairwise precision {r['precision']:.3f}  recall {r['recall']:.3f}")
    print(f"republication/translation links: precision {r['copy_precision']:.3f}  "
          f"recall {r['copy_recall']:.3f}; role accuracy {r['role_accuracy']:.3f}")
    # The figures above use thresholds chosen on this same fixture: show how much they matter.
    docs, gold = load_fixture()
    lexicon, base = load_lexicon(), StoryParams()
    gold_story = {a: g.story for a, g in gold.items()}
    print("sensitivity (pairwise P/R):", end="")
    for name, params in (("text thr x0.75", replace(base, text_threshold=base.text_threshold * .75)),
                         ("text thr x1.5", replace(base, text_threshold=base.text_threshold * 1.5)),
                         ("cross thr x0.75", replace(base, cross_threshold=base.cross_threshold * .75)),
                         ("cross thr x1.5", replace(base, cross_threshold=base.cross_threshold * 1.5)),
                         ("window 1d", replace(base, window_days=1)),
                         ("window 7d", replace(base, window_days=7))):
        p, r = pairwise({m.article_id: m.story_id for m in cluster(docs, lexicon, params)},
                        gold_story)
        print(f"  {name} {p:.2f}/{r:.2f}", end="")
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
