"""`make bench`: every figure measured side by side in one run (not a test; no thresholds).

1. Extraction quality and speed (bench/extraction.py): body-text F1 and date accuracy on the
   development sets in ../shared/devsets (when present) and on the recorded pages, next to
   bare trafilatura and htmldate.
2. bench/warc_import.py: a CC-NEWS-like file read by the backfill filter, `warc import` and
   warcio; re-extraction from WARC captures with 1 and 2 processes.
3. bench/throughput.py: the 1,200-page bench web crawled end to end, next to extraction
   alone on all cores and next to news-please (bench/.venv-newsplease); frontier memory.
4. bench/batching.py: archive writes one transaction per item vs batched.
5. bench/distributed.py: `crawl --redis` workers and the archiver vs one process.
6. bench/search_scale.py: 10k / 100k / 1M-article archives, query and page latencies.
7. bench/search_eval.py and bench/framing_eval.py: search and clustering quality.
8. bench/url_patterns.py: the registry's article_url_pattern recall and non-articles accepted
   on both halves of devsets/outlet-urls.json, and patterns learned by `sources discover`.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
MEDIAWATCH = str(Path(sys.executable).with_name("mediawatch"))


def main() -> int:
    """Run every benchmark and print the figures; each part runs in its own process."""
    print("== Extraction (bench/extraction.py) ==", flush=True)
    codes = [subprocess.run([sys.executable, str(HERE / "extraction.py"), *sys.argv[1:]])
             .returncode]
    subprocess.run([sys.executable, str(HERE / "warc_import.py")])  # WARC input, reextract 1 vs 2
    print("\n## bench/url_patterns.py", flush=True)
    codes.append(subprocess.run([sys.executable, str(HERE / "url_patterns.py"),
                                 *sys.argv[1:]]).returncode)
    for script in ("throughput.py", "batching.py", "distributed.py", "search_scale.py",
                   "search_eval.py", "framing_eval.py"):
        print(f"\n## bench/{script}", flush=True)
        codes.append(subprocess.run([sys.executable, str(HERE / script)]).returncode)
    return max(codes)


if __name__ == "__main__":
    sys.exit(main())
