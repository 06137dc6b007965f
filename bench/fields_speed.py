"""Speed and parses per page for bench/fields.py (issue 14: one parse of each document,
extract_article >= 0.9x bare trafilatura on the same bytes)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

import trafilatura

from extract import decode_html, extract_article

Page = dict[str, Any]
# The settings of bench/extraction.py, shared by every bare-trafilatura contender.
BARE: dict[str, Any] = {"include_comments": False, "include_tables": True,
                        "include_formatting": False, "with_metadata": True}



def _bare_bytes(data: bytes, url: str) -> None:
    try:
        trafilatura.bare_extraction(data, url=url, **BARE)
    except Exception:  # a crash costs its time like any page
        pass


def speed(pages: list[Page]) -> dict[str, float]:
    """extract_article vs bare_extraction(with_metadata=True) on the same bytes, interleaved
    page by page in alternating order, after a warm-up pass over every page: dateparser
    compiles each language's patterns on first use (up to a second each), and a partial
    warm-up left those one-off costs to whichever contender met a language first (ratios of
    0.90 to 1.01 in consecutive runs of the same code; 0.89-0.90 steady after a full one)."""
    for page in pages:
        extract_article(page["data"], page["url"])
        _bare_bytes(page["data"], page["url"])
    spent = {"mediawatch": 0.0, "trafilatura": 0.0}
    runs: dict[str, Callable[[bytes, str], Any]] = {"mediawatch": extract_article, "trafilatura": _bare_bytes}
    for i, page in enumerate(pages):
        for name in (("mediawatch", "trafilatura") if i % 2 else ("trafilatura", "mediawatch")):
            start = time.perf_counter()
            runs[name](page["data"], page["url"])
            spent[name] += time.perf_counter() - start
    out = {f"{k} pages/s": len(pages) / v for k, v in spent.items()}
    out["ratio"] = spent["trafilatura"] / spent["mediawatch"]
    print(f"\n## Speed on {len(pages)} pages (same bytes, interleaved)")
    print(f"  extract_article {out['mediawatch pages/s']:.1f} pages/s, bare trafilatura "
          f"{out['trafilatura pages/s']:.1f} pages/s: ratio {out['ratio']:.2f} (goal >= 0.90)")
    return out


def parses(pages: list[Page]) -> dict[str, float]:
    """lxml parser calls per page, and whole-document parses (input >= 90% of the page)."""
    import lxml.etree as etree

    names = ("fromstring", "HTML", "XML", "parse")
    originals = {n: getattr(etree, n) for n in names}
    sizes: list[int] = []

    def counting(fn: Callable[..., Any]) -> Callable[..., Any]:
        def call(source: Any, *args: Any, **kwargs: Any) -> Any:
            sizes.append(len(source) if isinstance(source, str | bytes) else -1)
            return fn(source, *args, **kwargs)
        return call

    wrapped = {n: counting(f) for n, f in originals.items()}
    patched: list[tuple[Any, str, Any]] = []
    for module in list(sys.modules.values()):  # also `from lxml.etree import fromstring` users
        for attr, value in list(getattr(module, "__dict__", {}).items()):
            for n, f in originals.items():
                if value is f:
                    patched.append((module, attr, value))
                    setattr(module, attr, wrapped[n])
    out: dict[str, float] = {}
    try:
        for name, run in (("mediawatch", extract_article), ("trafilatura", _bare_bytes)):
            calls = whole = 0
            for page in pages:
                size = len(decode_html(page["data"])[0])
                sizes.clear()
                run(page["data"], page["url"])
                calls += len(sizes)
                whole += sum(n >= 0.9 * size for n in sizes)
            out[f"{name} parser calls/page"] = calls / len(pages)
            out[f"{name} document parses/page"] = whole / len(pages)
    finally:
        for module, attr, value in patched:
            setattr(module, attr, value)
    print(f"\n## lxml parses per page ({len(pages)} pages)")
    for name in ("mediawatch", "trafilatura"):
        print(f"  {name:12s} {out[f'{name} document parses/page']:.2f} whole-document parses, "
              f"{out[f'{name} parser calls/page']:.2f} parser calls (fragments included)")
    return out


