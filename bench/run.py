"""`make bench`: every figure measured side by side in one run (not a test; no thresholds).

1. Extraction quality and speed (bench/extraction.py): body-text F1 and date accuracy on the
   development sets in ../shared/devsets (when present) and on the recorded pages, next to
   bare trafilatura and htmldate.
2. End-to-end crawl of the loopback demo web: pages/s of `mediawatch crawl`, next to
   `extract_article` alone on the very same captured pages, and their ratio.
"""

from __future__ import annotations

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
        pages = conn.execute(
            "select p.final_url, p.content_type, b.data from pages p join bodies b "
            "on b.sha256 = p.body_sha256 where p.kind = 'article' and p.status = 200").fetchall()
        conn.close()
    start = time.perf_counter()
    for url, ctype, body in pages:
        extract_article(body, url, content_type=ctype)
    extract_s = time.perf_counter() - start
    crawl_rate = requests / crawl_s
    extract_rate = len(pages) / extract_s
    print("\n== End-to-end crawl of the demo web (one process, no download delay) ==")
    print(f"mediawatch crawl: {requests} requests in {crawl_s:.2f}s = {crawl_rate:.1f} pages/s "
          "(includes process start-up, robots.txt and politeness slots)")
    print(f"extract_article alone on its {len(pages)} article pages: {extract_rate:.1f} pages/s")
    print(f"ratio crawl/extract-only: {crawl_rate / extract_rate:.2f}")


def main() -> int:
    """Run every benchmark and print the figures."""
    print("== Extraction (bench/extraction.py) ==", flush=True)
    done = subprocess.run([sys.executable, str(HERE / "extraction.py"), *sys.argv[1:]])
    crawl_throughput()
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
