"""Headlines, bylines, dates and body text on real pages, on a tuning and a held-out half.

Usage: .venv/bin/python bench/fields.py [--devsets PATH] [--limit N] [--only fields,dates,extraction]

Development sets come from ``--devsets``, else ``$MEDIAWATCH_DEVSETS``, else ``../shared/devsets``
next to the repository; a missing set is skipped with a message. Measured, never tuned here.

Split rule (fixed before any tuning, the same for every set): a page belongs to the TUNING half
when the first byte of sha1(publisher.strip().casefold()) is even, else to the HELD-OUT half.
The publisher is truth.json's ``publisher`` for fields/, and the URL's host without ``www.``
(Wayback Machine URLs unwrapped; ``hard::host-name.html`` keys read as ``host``) for dates/ and
extraction/. Every page of one publisher therefore falls in the same half.

Scoring, as ``devsets/README.md`` says:
- title: equal after NFKC, casefold, quote/dash unification, whitespace collapse and outer
  punctuation strip;
- extraction/ metadata (its title, author and date annotations, each over the pages that have
  one): scored as for fields/;
- author recall: share of true names (all pages) found in the predicted author string; author
  precision: share of predicted names (the string split on , ; | & and/und) that contain a true
  name or are contained in one;
- date: the predicted day equals ``date`` or ``date_utc``;
- body (fields/): 4-gram shingle precision and recall per page (tokens ``\\w+``), macro-averaged,
  F1 of the two averages; body (extraction/): trafilatura's upstream with/without snippet score.
Contenders: ``extract_article(bytes, url)`` with no hints; bare trafilatura
``bare_extraction(with_metadata=True)`` (the settings of bench/extraction.py) and htmldate
``find_date(original_date=True, extensive_search=True)``, both given the page decoded by our
decoder (so that they are not judged on decoding).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import trafilatura  # noqa: E402
from fields_speed import BARE, Page, parses, speed  # noqa: E402
from htmldate import find_date  # noqa: E402
from paired import print_paired  # noqa: E402

from extract import decode_html, extract_article  # noqa: E402

HALVES = ("tuning", "held-out")


def half_of(publisher: str) -> str:
    """The split rule: the first byte of sha1(publisher) decides, even = tuning half."""
    digest = hashlib.sha1(publisher.strip().casefold().encode("utf-8")).digest()
    return HALVES[digest[0] % 2]


def publisher_of_url(url: str) -> str:
    """The publisher of a devset URL: its host without www. (Wayback unwrapped)."""
    if "::" in url and not url.startswith("http"):  # "hard::jamaicaobserver.com-attacks.html"
        return url.split("::", 1)[1].split("-", 1)[0].lower()
    if m := re.match(r"https?://web\.archive\.org/web/[^/]*/(.+)$", url):
        url = m.group(1) if "://" in m.group(1) else "http://" + m.group(1)
    host = (urlsplit(url).hostname or url).lower()
    return host.removeprefix("www.")


# -- scoring ------------------------------------------------------------------------------

_QUOTES = str.maketrans({c: '"' for c in "“”„‟«»「」『』〝〞＂"} | {c: "'" for c in "‘’‚‛‹›′＇"}
                        | {c: "-" for c in "‐‑‒–—―−﹘﹣－"})
_OUTER = " \t\n\"'.,;:!?-|·•»«()[]"


def norm_title(text: str | None) -> str:
    """NFKC, casefold, quotes/dashes unified, whitespace collapsed, outer punctuation stripped."""
    text = unicodedata.normalize("NFKC", text or "").casefold().translate(_QUOTES)
    return " ".join(text.split()).strip(_OUTER)


def _name(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


_SPLIT = re.compile(r"\s*(?:[,;|&/]|\band\b|\bund\b)\s*", re.I)


def author_counts(truth: list[str], predicted: str | None) -> tuple[int, int, int, int]:
    """(true names found, true names, predicted names correct, predicted names)."""
    pred = _name(predicted or "")
    names = [_name(n) for n in truth if n.strip()]
    found = sum(1 for n in names if n and n in pred)
    parts = [p for p in _SPLIT.split(pred) if len(p) >= 2]
    correct = sum(1 for p in parts if any(n in p or p in n for n in names))
    return found, len(names), correct, len(parts)


def shingles(text: str, n: int = 4) -> Counter[tuple[str, ...]]:
    """Multiset of token n-grams (tokens are runs of word characters)."""
    tokens = re.findall(r"\w+", text or "")
    return Counter(tuple(tokens[i:i + n]) for i in range(max(len(tokens) - n + 1, 0)))


def body_pr(truth: str, predicted: str | None) -> tuple[float, float]:
    """Shingle precision and recall of one page (0 for an empty prediction)."""
    gold, pred = shingles(truth), shingles(predicted or "")
    tp = sum((gold & pred).values())
    precision = tp / sum(pred.values()) if pred else 0.0
    recall = tp / sum(gold.values()) if gold else 0.0
    return precision, recall


def f1(p: float, r: float) -> float:
    """Harmonic mean."""
    return 2 * p * r / (p + r) if p + r else 0.0


# -- contenders ---------------------------------------------------------------------------

Fields = dict[str, str | None]


def ours(data: bytes, url: str) -> Fields:
    """extract_article on the raw bytes, no hints."""
    res = extract_article(data, url)
    return {"title": res.title, "author": res.author, "date": res.date, "text": res.text}


def bare(data: bytes, url: str) -> Fields:
    """Bare trafilatura on the page as our decoder reads it."""
    try:
        doc = trafilatura.bare_extraction(decode_html(data)[0], url=url, **BARE)
    except Exception:  # a crash is a miss
        doc = None
    return {k: getattr(doc, k, None) for k in ("title", "author", "date", "text")}


def htmldate(data: bytes, url: str) -> Fields:
    """htmldate's extensive search on the decoded page."""
    try:
        day = find_date(decode_html(data)[0], url=url, original_date=True, extensive_search=True)
    except Exception:
        day = None
    return {"date": day}


CONTENDERS: dict[str, Callable[[bytes, str], Fields]] = {
    "mediawatch": ours, "trafilatura": bare, "htmldate": htmldate}


def run_all(pages: list[Page], names: Iterable[str]) -> dict[str, list[Fields]]:
    """Every contender on every page."""
    return {name: [CONTENDERS[name](p["data"], p["url"]) for p in pages] for name in names}


# -- sets ---------------------------------------------------------------------------------


def devsets_path(arg: str | None) -> Path:
    """--devsets, else $MEDIAWATCH_DEVSETS, else ../shared/devsets beside the repository."""
    return Path(arg or os.environ.get("MEDIAWATCH_DEVSETS") or ROOT.parent / "shared" / "devsets")


def load_fields(base: Path, limit: int | None) -> list[Page]:
    """devsets/fields: truth.json plus html/<key>.html.gz."""
    truth = json.loads((base / "truth.json").read_text(encoding="utf-8"))
    pages = []
    for key, item in list(truth.items())[:limit]:
        data = gzip.decompress((base / "html" / f"{key}.html.gz").read_bytes())
        pages.append({**item, "key": key, "data": data, "half": half_of(item["publisher"])})
    return pages


def load_indexed(base: Path, index: str, limit: int | None) -> list[Page]:
    """devsets/dates or devsets/extraction: an index of URL -> item with html/<file>.gz."""
    entries = json.loads((base / index).read_text(encoding="utf-8"))
    pages = []
    for url, item in list(entries.items())[:limit]:
        data = gzip.decompress((base / "html" / f"{item['file']}.gz").read_bytes())
        pages.append({**item, "url": url, "data": data, "half": half_of(publisher_of_url(url))})
    return pages


def score_fields(pages: list[Page], got: list[Fields]) -> dict[str, float]:
    """Title accuracy, author recall/precision, date accuracy, body P/R/F1 over some pages."""
    n = len(pages)
    title = sum(norm_title(g["title"]) == norm_title(p["title"]) for p, g in zip(pages, got, strict=True))
    a = [author_counts(p["authors"], g["author"]) for p, g in zip(pages, got, strict=True)]
    date = sum(_date_right(p, g) for p, g in zip(pages, got, strict=True))
    pr = [body_pr(p["body"], g["text"]) for p, g in zip(pages, got, strict=True)]
    bp, br = sum(x for x, _ in pr) / n, sum(y for _, y in pr) / n
    return {"title": title / n, "author R": sum(x[0] for x in a) / max(sum(x[1] for x in a), 1),
            "author P": sum(x[2] for x in a) / max(sum(x[3] for x in a), 1), "date": date / n,
            "body P": bp, "body R": br, "body F1": f1(bp, br)}


def score_dates(pages: list[Page], got: list[Fields]) -> dict[str, float]:
    """Share of pages whose day equals the gold day (``date``, or ``date_utc`` where given)."""
    return {"date": sum(_date_right(p, g) for p, g in zip(pages, got, strict=True)) / len(pages)}


def _date_right(page: Page, got: Fields) -> bool:
    """The predicted day is the page's (``date``, or ``date_utc`` where given)."""
    return bool(got["date"]) and str(got["date"])[:10] in (page["date"], page.get("date_utc"))


def _held_dates(pages: list[Page], got: dict[str, list[Fields]]) -> list[tuple[str, bool, bool]]:
    """(url, mediawatch right, htmldate right) for each held-out page."""
    return [(p.get("url") or p.get("key") or str(i), _date_right(p, got["mediawatch"][i]),
             _date_right(p, got["htmldate"][i])) for i, p in enumerate(pages)
            if p["half"] == "held-out"]


def _annotated_names(raw: Any) -> list[str]:
    """The corpus's author annotation (a string or a list) as names."""
    text = ", ".join(raw) if isinstance(raw, list) else str(raw or "")
    return [n for n in _SPLIT.split(text) if len(n.strip()) >= 2]


def score_annotated(pages: list[Page], got: list[Fields]) -> dict[str, float]:
    """Title, author and date against trafilatura's metadata annotations of its corpus, each
    over the pages annotated with that field (title 845, author 538, date 728 of 990)."""
    pairs = list(zip(pages, got, strict=True))
    titled = [(p, g) for p, g in pairs if p.get("title")]
    dated = [(p, g) for p, g in pairs if p.get("date")]
    a = [author_counts(names, g["author"]) for p, g in pairs
         if (names := _annotated_names(p.get("author")))]
    return {"title": sum(norm_title(g["title"]) == norm_title(p["title"]) for p, g in titled)
            / max(len(titled), 1),
            "author R": sum(x[0] for x in a) / max(sum(x[1] for x in a), 1),
            "author P": sum(x[2] for x in a) / max(sum(x[3] for x in a), 1),
            "date": sum(bool(g["date"]) and str(g["date"])[:10] == p["date"] for p, g in dated)
            / max(len(dated), 1)}


def score_snippets(pages: list[Page], got: list[Fields]) -> dict[str, float]:
    """trafilatura's upstream body score: with/without snippets, summed over pages."""
    tp = fn = fp = 0
    for p, g in zip(pages, got, strict=True):
        text = " ".join((g["text"] or "").split())
        found = sum(" ".join(s.split()) in text for s in p["with"])
        tp, fn = tp + found, fn + len(p["with"]) - found
        fp += sum(" ".join(s.split()) in text for s in p["without"]) if g["text"] else 0
    prec, rec = tp / max(tp + fp, 1), tp / max(tp + fn, 1)
    return {"body P": prec, "body R": rec, "body F1": f1(prec, rec)}


def halves(pages: list[Page], results: dict[str, list[Fields]], names: Iterable[str],
           scorer: Callable[[list[Page], list[Fields]], dict[str, float]]) -> dict[str, Any]:
    """Score each contender on each half: {half: {contender: figures}}."""
    out: dict[str, Any] = {}
    for half in HALVES:
        idx = [i for i, p in enumerate(pages) if p["half"] == half]
        sub = [pages[i] for i in idx]
        out[half] = {name: scorer(sub, [results[name][i] for i in idx]) for name in names}
        out[half]["pages"] = len(sub)
        out[half]["publishers"] = len({p.get("publisher") or publisher_of_url(p["url"]) for p in sub})
    return out


def print_block(title: str, table: dict[str, Any]) -> None:
    """One table: a row per contender and figure, the two halves side by side."""
    print(f"\n## {title}")
    head = "  ".join(f"{h} ({table[h]['pages']} pages, {table[h]['publishers']} publ.)" for h in HALVES)
    print(f"  {'':26s}{head}")
    names = [k for k in table[HALVES[0]] if k not in ("pages", "publishers")]
    for metric in table[HALVES[0]][names[0]]:
        for name in names:
            if metric in table[HALVES[0]][name]:
                cells = "".join(f"{table[h][name][metric]:>30.3f}" for h in HALVES)
                print(f"  {metric:10s} {name:14s}{cells}")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the measurements, print the tables and return the figures."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--devsets", default=None, help="folder holding fields/, dates/, extraction/")
    parser.add_argument("--limit", type=int, default=None, help="pages per set (quick runs)")
    parser.add_argument("--only", default="fields,dates,extraction,speed,parses")
    args = parser.parse_args(argv)
    base, only = devsets_path(args.devsets), set(args.only.split(","))
    figures: dict[str, Any] = {}
    paired: dict[str, list[tuple[str, bool, bool]]] = {}
    if "fields" in only:
        if (base / "fields" / "truth.json").exists():
            pages = load_fields(base / "fields", args.limit)
            got = run_all(pages, CONTENDERS)
            figures["fields"] = halves(pages, got, ("mediawatch", "trafilatura"), score_fields)
            print_block("devsets/fields: headline, authors, date, body", figures["fields"])
            figures["fields dates"] = halves(pages, got, CONTENDERS, score_dates)
            print_block("devsets/fields: date accuracy incl. htmldate", figures["fields dates"])
            paired["fields/"] = _held_dates(pages, got)
        else:
            print(f"devsets/fields not found under {base} (the Fundus-derived set; see --devsets): skipped")
    if "dates" in only:
        if (base / "dates" / "eval_default.json").exists():
            pages = load_indexed(base / "dates", "eval_default.json", args.limit)
            got = run_all(pages, CONTENDERS)
            figures["dates"] = halves(pages, got, CONTENDERS, score_dates)
            print_block("devsets/dates: publication day", figures["dates"])
            paired["dates/"] = _held_dates(pages, got)
        else:
            print(f"devsets/dates not found under {base} (htmldate's eval set; see --devsets): skipped")
    if "extraction" in only:
        if (base / "extraction" / "evaldata.json").exists():
            pages = load_indexed(base / "extraction", "evaldata.json", args.limit)
            got = run_all(pages, CONTENDERS)
            figures["extraction"] = halves(pages, got, ("mediawatch", "trafilatura"), score_snippets)
            print_block("devsets/extraction: body text (upstream snippets)", figures["extraction"])
            # Its metadata annotations: the headline as the page shows it (often the <h1>
            # where og:title differs: another convention than devsets/fields'), authors, day.
            figures["extraction meta"] = halves(pages, got, ("mediawatch", "trafilatura"),
                                                score_annotated)
            print_block("devsets/extraction: headline, authors, date (the corpus's annotations)",
                        figures["extraction meta"])
            dated = [i for i, page in enumerate(pages) if page.get("date")]
            figures["extraction dates"] = halves(
                [pages[i] for i in dated], {k: [v[i] for i in dated] for k, v in got.items()},
                CONTENDERS, score_dates)
            print_block("devsets/extraction: date accuracy incl. htmldate (annotated pages)",
                        figures["extraction dates"])
            paired["extraction/ (dated)"] = _held_dates([pages[i] for i in dated],
                                                        {k: [v[i] for i in dated] for k, v in got.items()})
        else:
            print(f"devsets/extraction not found under {base} (trafilatura's eval set): skipped")
    if paired:
        figures["dates paired"] = print_paired(paired, "mediawatch", "htmldate")
    if "speed" in only or "parses" in only:
        sample = speed_sample(base, args.limit)
        if not sample:
            print(f"no devset pages under {base} for the speed and parse counts: skipped")
        if sample and "speed" in only:
            figures["speed"] = speed(sample)
        if sample and "parses" in only:
            figures["parses"] = parses(sample)
    figures["goals"] = goals(figures)
    print("\n" + json.dumps({"fields_bench": _summary(figures)}))
    return figures


def goals(figures: dict[str, Any]) -> dict[str, bool]:
    """The issue's goals on the held-out half, each printed as met or not."""
    out: dict[str, bool] = {}
    held = figures.get("fields", {}).get("held-out")
    if held:
        ours, bare = held["mediawatch"], held["trafilatura"]
        out["title >= 0.85"] = ours["title"] >= 0.85
        for key in ("title", "author R", "author P", "date", "body F1"):
            out[f"{key} above trafilatura"] = ours[key] > bare[key]
        dates = figures["fields dates"]["held-out"]
        out["fields date above htmldate"] = dates["mediawatch"]["date"] > dates["htmldate"]["date"]
    if held_dates := figures.get("dates", {}).get("held-out"):
        out["dates/ date above htmldate"] = held_dates["mediawatch"]["date"] > held_dates["htmldate"]["date"]
    if held_meta := figures.get("extraction meta", {}).get("held-out"):
        ours, bare = held_meta["mediawatch"], held_meta["trafilatura"]
        for key in ("title", "author R", "author P", "date"):
            out[f"extraction/ {key} above trafilatura"] = ours[key] > bare[key]
        xdates = figures["extraction dates"]["held-out"]
        out["extraction/ date above htmldate"] = xdates["mediawatch"]["date"] > xdates["htmldate"]["date"]
    if pooled := figures.get("dates paired", {}).get("pooled"):
        out["held-out dates above htmldate, page by page (pooled, p < 0.05)"] = (
            pooled["only_a"] > pooled["only_b"] and pooled["p"] < 0.05)
    if speed_figures := figures.get("speed"):
        out["speed >= 0.9x trafilatura"] = speed_figures["ratio"] >= 0.9
    if out:
        print("\n## Goals (held-out half)")
        for goal, met in out.items():
            print(f"  {'met    ' if met else 'NOT met'}  {goal}")
    return out


def speed_sample(base: Path, limit: int | None) -> list[Page]:
    """The fields pages and the first 300 body-text pages, as bytes."""
    pages: list[Page] = []
    if (base / "fields" / "truth.json").exists():
        pages += load_fields(base / "fields", limit)
    if (base / "extraction" / "evaldata.json").exists():
        pages += load_indexed(base / "extraction", "evaldata.json", min(limit or 300, 300))
    return pages


def _summary(figures: dict[str, Any]) -> dict[str, Any]:
    """The figures rounded, for one machine-readable line."""
    def rnd(x: Any) -> Any:
        return round(x, 3) if isinstance(x, float) else {k: rnd(v) for k, v in x.items()} if isinstance(x, dict) else x
    return rnd(figures)


if __name__ == "__main__":
    main()
