"""What Scrapy alone costs per response on the bench web: the floor under the crawl's main process.

    .venv/bin/python bench/scrapy_floor.py [--per-outlet 240]

`mediawatch crawl` downloads through Scrapy (robots.txt, throttling, retries, redirects,
gzip), so its main process cannot cost less per article than Scrapy does per response. This
starts the bench web (bench/benchweb.py), lists every article URL it serves, and fetches them
with a spider that does nothing else (same HTTP settings as a crawl: robots obeyed, gzip, 8
requests per outlet, the asyncio reactor; no pipelines, no extraction, no archive) in a
subprocess, and prints its CPU per response next to the process's start-up alone.
bench/throughput.py prints the crawl's main-process CPU per article; the difference is what
mediawatch adds in that process (archive writes, the extraction pool's traffic, story build).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from benchweb import BenchWeb  # noqa: E402
from measure import run_watched  # noqa: E402

SPIDER = """
import json, resource, sys, time
import scrapy
from scrapy.crawler import CrawlerProcess

urls = json.load(open(sys.argv[1]))
start = resource.getrusage(resource.RUSAGE_SELF)

class Floor(scrapy.Spider):
    name = "floor"
    seen = 0

    async def start(self):
        for url in urls:
            yield scrapy.Request(url, dont_filter=True)

    def parse(self, response):
        Floor.seen += 1
        yield {"url": response.url, "bytes": len(response.body)}

if urls:
    process = CrawlerProcess({
        "LOG_LEVEL": "WARNING", "CONCURRENT_REQUESTS": 8 * int(sys.argv[2]),
        "CONCURRENT_REQUESTS_PER_DOMAIN": 8, "ROBOTSTXT_OBEY": True,
        "TELNETCONSOLE_ENABLED": False, "REMOTE_CONTROL_ENABLED": False,
        "CONCURRENT_ITEMS": 8,
        "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor"})
    process.crawl(Floor)
    process.start()
end = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"responses": Floor.seen,
                  "start_cpu": start.ru_utime + start.ru_stime,
                  "cpu": end.ru_utime + end.ru_stime}))
"""


def floor(per_outlet: int = 240) -> dict[str, Any]:
    """Scrapy's CPU per response fetching every bench article page, and its start-up CPU."""
    with BenchWeb(per_outlet=per_outlet) as web, tempfile.TemporaryDirectory() as tmp:
        urls = [t.url for t in web.truths]
        listing = Path(tmp) / "urls.json"
        outlets = str(len(web.base_urls))
        runs = {}
        for name, listed in (("start-up only", []), ("every article", urls)):
            listing.write_text(json.dumps(listed))
            out = run_watched([sys.executable, "-c", SPIDER, str(listing), outlets], web)
            if out["rc"] != 0:
                raise RuntimeError(f"scrapy floor failed: {out['stderr'][-2000:]}")
            runs[name] = {**json.loads(out["stdout"].strip().splitlines()[-1]),
                          "seconds": out["seconds"]}
    whole, idle = runs["every article"], runs["start-up only"]
    per = (whole["cpu"] - idle["cpu"]) / max(whole["responses"], 1)
    return {"responses": whole["responses"], "cpu_s": round(whole["cpu"], 2),
            "startup_cpu_s": round(idle["cpu"], 2), "cpu_ms_per_response": round(1000 * per, 2),
            "wall_s": round(whole["seconds"], 1)}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Print the floor and return it."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--per-outlet", type=int, default=240)
    args = parser.parse_args(argv)
    began = time.strftime("%H:%M UTC", time.gmtime())
    figures = floor(args.per_outlet)
    print(f"\n== Scrapy alone on the bench web ({began}): {figures['responses']} article pages ==")
    print(f"  CPU {figures['cpu_s']} s in {figures['wall_s']} s wall; start-up alone "
          f"{figures['startup_cpu_s']} s; {figures['cpu_ms_per_response']} ms of CPU a response "
          "beyond start-up")
    print("  (the floor under `mediawatch crawl`'s main process CPU per article, printed by "
          "bench/throughput.py)")
    print(json.dumps({"scrapy_floor": figures}))
    return figures


if __name__ == "__main__":
    main()
