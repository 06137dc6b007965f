"""Archive writes: one transaction per item vs batched, side by side in one run.

Usage: .venv/bin/python bench/batching.py [--items 2000] [--batch 200] [--rounds 2]

Records the same N synthetic items into a fresh archive per mode, for two kinds of item:

- articles: real extract_article results of a few recorded pages in tests/pages, each under
  its own URL, so every item is a new article with its page, WARC record, dates, version and
  framing mentions (the full Archive.record path of an article fetch);
- captures: small non-article fetches (feeds, errors, robots.txt: a page row, a WARC record
  and the url_state update), where the writer does little besides SQL and commits.

The modes:

- statement: the writer before batching (`with db.conn:`, under which sqlite-utils 4
  commits every statement on its own: not even one transaction per item);
- item: one transaction per item (Archive.record outside a batch);
- batch: Archive.batch() around every --batch items, as the crawl's pipeline does.

Extraction is done once, before timing. Modes alternate within each round; the best round
per mode is reported, in wall-clock and in CPU time of this process (user + system, which
includes the writes to the WAL). A measurement, not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from crawler.archive.core import Archive  # noqa: E402
from crawler.items import FetchedPage  # noqa: E402
from crawler.registry.model import parse_registry  # noqa: E402
from crawler.registry.topic import TopicMatcher  # noqa: E402
from extract import extract_article  # noqa: E402

PAGES = ("en-newsaz-counteroffensive", "hy-panarmenian-250976", "ru-ukrinform-3103218",
         "hy-a1plus-378866", "en-sputnik-lockdowns", "ru-tass-8836033")
REGISTRY = parse_registry({
    "topic": {"id": "t", "name": "T", "require": [["Armenia*", "Армени*"], ["Russia*"]]},
    "source": [{"id": "bench", "name": "Bench", "homepage": "http://bench.invalid/",
                "language": "en", "country": "DE", "kind": "independent"}]})


class StatementArchive(Archive):
    """The writer as it was: `with db.conn:` (each statement commits under sqlite-utils 4)."""

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """The old transaction()."""
        with self.db.conn:
            yield


def items(n: int) -> list[FetchedPage]:
    """N article fetches from a few recorded pages, each under its own URL."""
    matcher = TopicMatcher(REGISTRY.topic)
    samples = []
    for name in PAGES:
        body = (ROOT / "tests" / "pages" / name / "input.html").read_bytes()
        result = extract_article(body, f"http://bench.invalid/{name}")
        # No canonical link: each item must be an article of its own, not a reprint of one.
        result = dataclasses.replace(result, canonical_url=None)
        samples.append((body, result, matcher.match(result.title, result.text)))
    out = []
    for i in range(n):
        body, result, topic = samples[i % len(samples)]
        url = f"http://bench.invalid/news/{i}"
        page = FetchedPage(source_id="bench", url=url, kind="article", discovered_via="bench",
                           fetched_at="2025-01-01T00:00:00+00:00", final_url=url, status=200,
                           headers={"content-type": "text/html; charset=utf-8"}, body=body)
        page.extraction, page.topic = result, topic
        out.append(page)
    return out


def captures(n: int) -> list[FetchedPage]:
    """N small non-article fetches, each under its own URL."""
    return [FetchedPage(source_id="bench", url=f"http://bench.invalid/feed/{i}.xml", kind="feed",
                        discovered_via="bench", fetched_at="2025-01-01T00:00:00+00:00",
                        final_url=f"http://bench.invalid/feed/{i}.xml", status=200,
                        headers={"content-type": "application/rss+xml"},
                        body=b"<rss><channel><title>%d</title></channel></rss>" % i)
            for i in range(n)]


def run_mode(mode: str, pages: list[FetchedPage], batch: int) -> tuple[float, float, int]:
    """Record every page into a fresh archive; return (seconds, CPU seconds, commits)."""
    with tempfile.TemporaryDirectory() as tmp:
        cls = StatementArchive if mode == "statement" else Archive
        archive = cls(Path(tmp) / "archive.db")
        archive.sync_sources(REGISTRY)
        archive.framing.framing_lexicon()  # load the lexicon before timing
        commits = archive.commits
        start, cpu = time.perf_counter(), time.process_time()
        if mode == "batch":
            for i in range(0, len(pages), batch):
                with archive.batch():
                    for page in pages[i:i + batch]:
                        archive.record(page)
        else:
            for page in pages:
                archive.record(page)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        commits = archive.commits - commits
        stored = archive.db.execute("select count(*) from pages").fetchone()[0]
        archive.close()
    assert stored == len(pages), (mode, stored)
    return seconds, cpu, commits


def run(n: int = 2000, batch: int = 200, rounds: int = 2) -> None:
    """Print items/s per kind and mode, and the batched/per-item ratios."""
    modes = ("statement", "item", "batch")
    labels = {"statement": "before: a commit per statement",
              "item": "one transaction per item",
              "batch": f"Archive.batch() of {batch}"}
    figures = {}
    print(f"\n== Archive writes: {n} items, per item vs batches of {batch} "
          f"(best of {rounds} rounds, fresh archive each, WAL + synchronous=NORMAL) ==",
          flush=True)
    for kind, pages in (("articles", items(n)), ("captures", captures(n))):
        best: dict[str, float] = {}
        best_cpu: dict[str, float] = {}
        commits: dict[str, int] = {}
        for r in range(rounds):
            for mode in modes if r % 2 == 0 else tuple(reversed(modes)):
                seconds, cpu, commits[mode] = run_mode(mode, pages, batch)
                best[mode] = min(best.get(mode, seconds), seconds)
                best_cpu[mode] = min(best_cpu.get(mode, cpu), cpu)
        # CPU time too: on a shared machine it is what other processes disturb least.
        rates = {m: n / best[m] for m in modes}
        cpu_rates = {m: n / best_cpu[m] for m in modes}
        print(f"{kind}:")
        for mode in modes:
            note = f"{commits[mode]} commits" if mode != "statement" else "a commit per statement"
            print(f"  {labels[mode]:32s} {rates[mode]:8.1f} items/s, {cpu_rates[mode]:8.1f} "
                  f"per CPU-s  ({best[mode]:.2f}s, {note})")
        print(f"  ratio batched / per-item transaction: {rates['batch'] / rates['item']:.2f} "
              f"(CPU: {cpu_rates['batch'] / cpu_rates['item']:.2f}); batched / before: "
              f"{rates['batch'] / rates['statement']:.2f} "
              f"(CPU: {cpu_rates['batch'] / cpu_rates['statement']:.2f})", flush=True)
        figures.update({f"archive_{kind}_{m}_per_s": round(rates[m], 1) for m in modes})
        figures.update({f"archive_{kind}_{m}_per_cpu_s": round(cpu_rates[m], 1)
                        for m in modes})
    print(json.dumps(figures))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    run(args.items, args.batch, args.rounds)
