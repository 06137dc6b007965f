"""Crawl the bench web with news-please, as news-please itself runs a crawl.

Run by bench/.venv-newsplease/bin/python (news-please installed from PyPI by `make bench`);
it never imports mediawatch, so the two tools share nothing but the served pages.

    python bench/newsplease_run.py --out DIR [--concurrency 8] HOMEPAGE [HOMEPAGE ...]

What it does, and why this is the faithful equivalent of `mediawatch crawl`:
- A config dir made from news-please's own default config.cfg with only these changes:
  working_path under DIR; Scrapy CONCURRENT_REQUESTS_PER_DOMAIN = --concurrency (mediawatch's
  per-outlet `concurrency`) and DOWNLOAD_DELAY = 0; LOG_LEVEL = WARNING;
  `newspaper_extractor_no_images` instead of `newspaper_extractor` (news-please's own variant:
  mediawatch downloads no images either, and the bench never leaves loopback); and a
  downloader middleware refusing any non-loopback request (a guard; it never fires).
  ROBOTSTXT_OBEY stays True; the default pipelines stay (extraction, the raw HTML file and
  the JSON file per article, the local-files counterpart of mediawatch's WARC + SQLite).
- sitelist.hjson names each outlet's home page with news-please's SitemapCrawler, which reads
  robots.txt's Sitemap: lines (the same sitemaps mediawatch reads; they list every article,
  a superset of the RSS feeds, so news-please's RssCrawler would only add duplicates).
- One `single_crawler.py` process per site, all at once: exactly what news-please's launcher
  starts (its number_of_parallel_crawlers is >= the number of sites), but timed from the first
  start to the last exit, without the launcher's 10-second idle poll before it notices.

Writes DIR/results.json: {"version", "seconds", "returncodes", "articles": [...]}, where each
article is news-please's own JSON (url, title, date_publish, maintext, language, ...).
"""

from __future__ import annotations

import argparse
import configparser
import ipaddress
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent


class LoopbackOnlyMiddleware:
    """Scrapy downloader middleware for news-please's processes: loopback hosts only."""

    def process_request(self, request: Any, spider: Any = None) -> None:
        """Refuse a request whose host is not a loopback address."""
        host = urlsplit(request.url).hostname or ""
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = host == "localhost"
        if not loopback:
            from scrapy.exceptions import IgnoreRequest

            raise IgnoreRequest(f"bench guard: non-loopback request refused: {request.url}")


def write_config(out: Path, homepages: list[str], concurrency: int) -> tuple[Path, Path]:
    """news-please's default config.cfg with the bench's few changes, and the site list."""
    import newsplease

    package = Path(newsplease.__file__).parent
    parser = configparser.RawConfigParser()
    parser.read(package / "config" / "config.cfg")
    work = out / "work"
    parser.set("Files", "working_path", str(work))
    parser.set("Crawler", "number_of_parallel_crawlers", str(max(5, len(homepages))))
    parser.set("ArticleMasterExtractor", "extractors", repr([
        "newspaper_extractor_no_images", "readability_extractor", "date_extractor",
        "lang_detect_extractor"]))
    scrapy = {
        "CONCURRENT_REQUESTS": str(max(16, concurrency)),
        "CONCURRENT_REQUESTS_PER_DOMAIN": str(concurrency),
        "DOWNLOAD_DELAY": "0",
        "LOG_LEVEL": "WARNING",
        "DOWNLOADER_MIDDLEWARES": repr({"newsplease_run.LoopbackOnlyMiddleware": 50}),
    }
    for key, value in scrapy.items():
        parser.set("Scrapy", key, value)
    config = out / "config"
    config.mkdir(parents=True, exist_ok=True)
    with open(config / "config.cfg", "w", encoding="utf-8") as handle:
        parser.write(handle)
    sites = {"base_urls": [{"url": url, "crawler": "SitemapCrawler"} for url in homepages]}
    (config / "sitelist.hjson").write_text(json.dumps(sites, indent=2), encoding="utf-8")
    return config / "config.cfg", config / "sitelist.hjson"


def crawl(cfg: Path, sites: Path, count: int) -> tuple[float, list[int]]:
    """Start one single_crawler.py per site (as the launcher does) and wait for all of them."""
    import newsplease

    single = Path(newsplease.__file__).parent / "single_crawler.py"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(HERE), *filter(None, [os.environ.get("PYTHONPATH")])]))
    start = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, str(single), str(cfg), str(sites), str(i),
                               "False", "False"], env=env) for i in range(count)]
    codes = [p.wait() for p in procs]
    return time.perf_counter() - start, codes


def main() -> int:
    """Configure, crawl, collect news-please's JSON files into one results file."""
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--out", type=Path, required=True)
    args.add_argument("--concurrency", type=int, default=8)
    args.add_argument("homepages", nargs="+")
    opts = args.parse_args()
    from importlib.metadata import version

    opts.out.mkdir(parents=True, exist_ok=True)
    cfg, sites = write_config(opts.out, opts.homepages, opts.concurrency)
    seconds, codes = crawl(cfg, sites, len(opts.homepages))
    articles = []
    for path in sorted((opts.out / "work" / "data").rglob("*.json")):
        try:
            article = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            continue
        if isinstance(article, dict) and article.get("url"):
            articles.append(article)
    result = {"version": version("news-please"), "seconds": seconds, "returncodes": codes,
              "articles": articles}
    (opts.out / "results.json").write_text(json.dumps(result, ensure_ascii=False),
                                           encoding="utf-8")
    print(f"news-please {result['version']}: {len(articles)} articles in {seconds:.1f}s "
          f"(exit codes {codes})")
    return 0 if not any(codes) else 1


if __name__ == "__main__":
    sys.exit(main())
