"""Benchmark extract_article against bare trafilatura and htmldate, in one run.

Usage: .venv/bin/python bench/extraction.py [--devsets PATH] [--limit N]

Body text: trafilatura's evaluation corpus (990 pages, with/without snippets), scored as
upstream: whitespace-normalised substring match, TP/FN on "with", FP/TN on "without", summed;
a crash or no output is a full miss. Dates: htmldate's evaluation set (800 pages), share of
pages whose day equals the gold day. Then the same on the recorded pages in tests/pages.
This is a measurement script, not a test: it never tunes anything.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import trafilatura
from htmldate import find_date

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from extract import decode_html, extract_article  # noqa: E402

DEFAULT_DEVSETS = ROOT.parent / "shared" / "devsets"
PAGES = ROOT / "tests" / "pages"
BARE_SETTINGS: dict[str, Any] = {
    "include_comments": False,
    "include_tables": True,
    "include_formatting": False,
    "with_metadata": True,
}


def norm(text: str) -> str:
    """Collapse whitespace, as the upstream scorer does."""
    return " ".join(text.split())


def bare(data: bytes | str, url: str | None) -> Any:
    """Plain trafilatura with the README's settings."""
    return trafilatura.bare_extraction(data, url=url, **BARE_SETTINGS)


def score_text(
    docs: list[tuple[str, bytes, dict[str, Any]]], run: Callable[[bytes, str], str | None]
) -> dict[str, float]:
    """Return P/R/F1 and pages/s of one extractor over the body-text corpus."""
    tp = fn = fp = tn = 0
    elapsed = 0.0
    for url, data, item in docs:
        start = time.perf_counter()
        try:
            text = run(data, url)
        except Exception:  # a crash is a full miss, as upstream
            text = None
        elapsed += time.perf_counter() - start
        if text is None:
            fn += len(item["with"])
            tn += len(item["without"])
            continue
        text = norm(text)
        found_with = sum(norm(s) in text for s in item["with"])
        found_without = sum(norm(s) in text for s in item["without"])
        tp, fn = tp + found_with, fn + len(item["with"]) - found_with
        fp, tn = fp + found_without, tn + len(item["without"]) - found_without
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"P": precision, "R": recall, "F1": f1, "pages/s": len(docs) / elapsed}


def score_dates(
    docs: list[tuple[str, bytes, str]], run: Callable[[bytes, str], str | None]
) -> dict[str, float]:
    """Return accuracy (same day as gold) and pages/s of one date finder."""
    hits = 0
    elapsed = 0.0
    for url, data, gold in docs:
        start = time.perf_counter()
        try:
            found = run(data, url)
        except Exception:
            found = None
        elapsed += time.perf_counter() - start
        hits += bool(found) and str(found)[:10] == gold
    return {"accuracy": hits / len(docs), "pages/s": len(docs) / elapsed}


def load_set(base: Path, index: str, limit: int | None) -> list[tuple[str, bytes, Any]]:
    """Read an evaluation index and its gzipped pages."""
    entries = json.loads((base / index).read_text(encoding="utf-8"))
    out = []
    for url, item in list(entries.items())[:limit]:
        out.append((url, gzip.decompress((base / "html" / f"{item['file']}.gz").read_bytes()), item))
    return out


def text_contenders() -> dict[str, Callable[[bytes, str], str | None]]:
    """The body-text contenders: ours, and bare trafilatura on the same bytes."""
    return {
        "extract_article": lambda data, url: extract_article(data, url).text,
        "bare trafilatura": lambda data, url: getattr(bare(data, url), "text", None),
    }


def date_contenders() -> dict[str, Callable[[bytes, str], str | None]]:
    """The date contenders; the baselines get text decoded by our decoder."""
    return {
        "extract_article": lambda data, url: extract_article(data, url).date,
        "htmldate extensive": lambda data, url: find_date(
            decode_html(data)[0], url=url, original_date=True, extensive_search=True
        ),
        "trafilatura metadata": lambda data, url: getattr(bare(decode_html(data)[0], url), "date", None),
    }


def print_table(title: str, rows: dict[str, dict[str, float]]) -> None:
    """Print one block of results."""
    print(f"\n## {title}")
    for name, figures in rows.items():
        cells = "  ".join(f"{key} {value:.4f}" if key != "pages/s" else f"{key} {value:.1f}"
                          for key, value in figures.items())  # fmt: skip
        print(f"  {name:22s} {cells}")


def recorded_pages() -> dict[str, dict[str, float]]:
    """Date accuracy and must/must-not pass rates on tests/pages for ours and bare trafilatura."""
    cases = sorted(p for p in PAGES.iterdir() if (p / "expected.json").exists()) if PAGES.exists() else []
    rows: dict[str, dict[str, float]] = {}
    for name in ("extract_article", "bare trafilatura"):
        dated = date_hits = must = must_ok = mustnot = mustnot_ok = 0
        for case in cases:
            exp = json.loads((case / "expected.json").read_text(encoding="utf-8"))
            data = (case / "input.html").read_bytes()
            hints = dict(exp.get("hints") or {})
            if exp.get("content_type"):
                hints["content_type"] = exp["content_type"]
            if name == "extract_article":
                res = extract_article(data, exp.get("url"), **hints)
                text, day = res.text, res.date
            else:
                try:
                    doc = bare(data, exp.get("url"))
                except Exception:
                    doc = None
                text, day = getattr(doc, "text", "") or "", getattr(doc, "date", None)
            text = norm(text)
            if exp.get("date"):
                dated += 1
                date_hits += bool(day) and str(day)[:10] == exp["date"]
            for snippet in exp.get("must_contain", []):
                must += 1
                must_ok += norm(snippet) in text
            for snippet in exp.get("must_not_contain", []):
                mustnot += 1
                mustnot_ok += norm(snippet) not in text
        rows[name] = {
            "date acc": date_hits / dated if dated else 0.0,
            "must": must_ok / must if must else 0.0,
            "must-not": mustnot_ok / mustnot if mustnot else 0.0,
        }
    print(f"\n(recorded cases: {len(cases)})")
    return rows


def main() -> None:
    """Run every measurement and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devsets", type=Path, default=DEFAULT_DEVSETS)
    parser.add_argument("--limit", type=int, default=None, help="pages per devset")
    args = parser.parse_args()
    ratios: dict[str, float] = {}
    if (args.devsets / "extraction" / "evaldata.json").exists():
        docs = load_set(args.devsets / "extraction", "evaldata.json", args.limit)
        rows = {name: score_text(docs, run) for name, run in text_contenders().items()}
        print_table(f"Body text ({len(docs)} pages)", rows)
        ratios["body text"] = rows["extract_article"]["pages/s"] / rows["bare trafilatura"]["pages/s"]
    else:
        print(f"devsets not found at {args.devsets}: skipping the body-text corpus")
    if (args.devsets / "dates" / "eval_default.json").exists():
        items = load_set(args.devsets / "dates", "eval_default.json", args.limit)
        docs = [(url, data, item["date"]) for url, data, item in items]
        rows = {name: score_dates(docs, run) for name, run in date_contenders().items()}
        print_table(f"Publication dates ({len(docs)} pages)", rows)
        ratios["dates"] = rows["extract_article"]["pages/s"] / rows["trafilatura metadata"]["pages/s"]
    else:
        print(f"devsets not found at {args.devsets}: skipping the date set")
    print_table("Recorded pages (tests/pages)", recorded_pages())
    print("\n## Speed ratio: extract_article pages/s / bare trafilatura pages/s")
    for name, ratio in ratios.items():
        print(f"  {name:22s} {ratio:.2f}")


if __name__ == "__main__":
    main()
