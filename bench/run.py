"""`make bench`: every figure measured side by side in one run (not a test; no thresholds).

1. Extraction quality and speed (bench/extraction.py): body-text F1 and date accuracy on the
   development sets in ../shared/devsets (when present) and on the recorded pages, next to
   bare trafilatura and htmldate.
2. End-to-end crawl of the loopback demo web: pages/s of `mediawatch crawl`, next to
   `extract_article` alone on the very same captured pages, and their ratio.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
MEDIAWATCH = str(Path(sys.executable).with_name("mediawatch"))


def crawl_throughput() -> None:
    """Crawl the demo web once, then re-extract its article captures alone."""
    from crawler.archive import warc_folder
    from crawler.warc import WarcLocation, read_capture
    from demoweb import FixtureWeb
    from extract import extract_article

    with tempfile.TemporaryDirectory() as tmp, FixtureWeb() as web:
        sources = web.write_sources(Path(tmp) / "sources.toml")
        db = Path(tmp) / "archive.db"
        start = time.perf_counter()
        subprocess.run([MEDIAWATCH, "crawl", "--sources", str(sources), "--db", str(db),
                        "-s", "MEDIAWATCH_LOOPBACK_ONLY=1", "-s", "LOG_LEVEL=WARNING"],
                       check=True, capture_output=True)
        crawl_s = time.perf_counter() - start
        conn = sqlite3.connect(db)
        requests = conn.execute("select requests from crawl_runs").fetchone()[0]
        rows = conn.execute(
            "select final_url, content_type, warc_file, warc_offset, warc_length from pages "
            "where kind = 'article' and status = 200").fetchall()
        conn.close()
        folder = warc_folder(db)
        pages = [(url, ctype, read_capture(folder, WarcLocation(name, offset, length)).body)
                 for url, ctype, name, offset, length in rows]
    start = time.perf_counter()
    for url, ctype, body in pages:
        extract_article(body, url, content_type=ctype)
    extract_s = time.perf_counter() - start
    crawl_rate = requests / crawl_s
    extract_rate = len(pages) / extract_s
    print("\n== End-to-end crawl of the demo web (one process; registry delays 0, but one "
          "outlet's robots.txt asks Crawl-delay: 1, which dominates) ==")
    print(f"mediawatch crawl: {requests} requests in {crawl_s:.2f}s = {crawl_rate:.1f} pages/s "
          "(includes process start-up, robots.txt and politeness slots)")
    print(f"extract_article alone on its {len(pages)} article pages: {extract_rate:.1f} pages/s")
    print(f"ratio crawl/extract-only: {crawl_rate / extract_rate:.2f}")


def reextract_throughput(limit: int = 300) -> None:
    """Re-extraction from stored WARC captures with 1 and 2 worker processes, same archive."""
    import gzip
    import json

    from crawler.archive import Archive
    from crawler.captures import reextract
    from crawler.ingest import extract_page
    from crawler.items import FetchedPage
    from crawler.sources import parse_registry
    from crawler.topic import TopicMatcher

    devsets = HERE.parents[1] / "shared" / "devsets" / "extraction"
    pages_dir = devsets / "html"
    if not pages_dir.exists():
        print("\n== Re-extraction: ../shared/devsets not present, skipped ==")
        return
    registry = parse_registry({
        "topic": {"id": "t", "name": "T", "require": [["Russia*"]]},
        "source": [{"id": "bench", "name": "Bench", "homepage": "http://bench.invalid/",
                    "language": "en", "country": "DE", "kind": "independent"}]})
    matcher = TopicMatcher(registry.topic)
    files = sorted(pages_dir.glob("*.gz"))[:limit]
    with tempfile.TemporaryDirectory() as tmp:
        archive = Archive(Path(tmp) / "archive.db")
        archive.sync_sources(registry)
        for i, path in enumerate(files):
            page = FetchedPage(source_id="bench", url=f"http://bench.invalid/{i}", kind="article",
                               discovered_via="bench", fetched_at="2025-01-01T00:00:00+00:00",
                               final_url=f"http://bench.invalid/{i}", status=200,
                               headers={"content-type": "text/html"},
                               body=gzip.decompress(path.read_bytes()))
            archive.record(extract_page(page, registry.get("bench"), matcher))
        rates = {}
        for jobs in (1, 2):
            start = time.perf_counter()
            report = reextract(archive, registry, jobs=jobs)
            rates[jobs] = report.checked / (time.perf_counter() - start)
        archive.close()
    print(f"\n== Re-extraction from WARC captures ({report.checked} devset pages) ==")
    print(f"reextract --jobs 1: {rates[1]:.1f} articles/s; --jobs 2: {rates[2]:.1f} articles/s; "
          f"ratio {rates[2] / rates[1]:.2f} (machine has {os.cpu_count()} cores)")
    print(json.dumps({"reextract_jobs1": round(rates[1], 1), "reextract_jobs2": round(rates[2], 1)}))


def main() -> int:
    """Run every benchmark and print the figures."""
    print("== Extraction (bench/extraction.py) ==", flush=True)
    done = subprocess.run([sys.executable, str(HERE / "extraction.py"), *sys.argv[1:]])
    crawl_throughput()
    reextract_throughput()
    subprocess.run([sys.executable, str(HERE / "search_eval.py")], check=False)
    subprocess.run([sys.executable, str(HERE / "framing_eval.py")], check=False)
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
