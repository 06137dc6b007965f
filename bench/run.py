"""`make bench`: every figure measured side by side in one run (not a test; no thresholds).

1. Extraction quality and speed (bench/extraction.py): body-text F1 and date accuracy on the
   development sets in ../shared/devsets (when present) and on the recorded pages, next to
   bare trafilatura and htmldate.
2. Re-extraction from WARC captures with 1 and 2 processes.
3. bench/throughput.py: the 1,200-page bench web crawled end to end, next to extraction
   alone on all cores and next to news-please (bench/.venv-newsplease); frontier memory.
4. bench/batching.py: archive writes one transaction per item vs batched.
5. bench/distributed.py: `crawl --redis` workers and the archiver vs one process.
6. bench/search_scale.py: 10k / 100k / 1M-article archives, query and page latencies.
7. bench/search_eval.py and bench/framing_eval.py: search and clustering quality.
8. bench/copies.py: copy detection and story grouping on the copies devset, tuned half vs
   held-out half, with each threshold's sensitivity.
9. bench/stories_scale.py: first story build of a 1,200-article crawl, `stories --full` at
   1M articles (time, peak RSS), the story update after adding 1,000 articles.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
MEDIAWATCH = str(Path(sys.executable).with_name("mediawatch"))


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
    """Run every benchmark and print the figures; each part runs in its own process."""
    print("== Extraction (bench/extraction.py) ==", flush=True)
    codes = [subprocess.run([sys.executable, str(HERE / "extraction.py"), *sys.argv[1:]])
             .returncode]
    reextract_throughput()
    for script in ("throughput.py", "batching.py", "distributed.py", "search_scale.py",
                   "search_eval.py", "framing_eval.py", "copies.py", "stories_scale.py"):
        print(f"\n## bench/{script}", flush=True)
        codes.append(subprocess.run([sys.executable, str(HERE / script)]).returncode)
    return max(codes)


if __name__ == "__main__":
    sys.exit(main())
