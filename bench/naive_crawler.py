"""The simplest crawler that works: the yardstick bench/throughput.py prints mediawatch next to.

    python bench/naive_crawler.py --db naive.db http://127.0.0.20/ http://127.0.0.21/ ...

One process, one thread, standard library + trafilatura: for each site, robots.txt (obeyed,
and its Sitemap lines followed: sitemap indexes, then URL sets), the RSS/Atom feeds its home
page links to, then every listed page on the site's host fetched in turn with urllib and
run through `trafilatura.bare_extraction(with_metadata=True)`; one SQLite table
`articles(url, title, date, text)`. No WARC, no search index, no politeness beyond robots.
Prints one JSON line: pages fetched, articles stored, seconds.
"""

from __future__ import annotations

import argparse
import json
import re
import sqlite3
import sys
import time
import urllib.request
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import trafilatura

AGENT = "naive-crawler"
_FEED_TYPES = ("application/rss+xml", "application/atom+xml")


def get(url: str) -> bytes | None:
    """The body of a 200 response, or None."""
    try:
        with urllib.request.urlopen(urllib.request.Request(
                url, headers={"User-Agent": AGENT}), timeout=30) as resp:
            return resp.read() if resp.status == 200 else None
    except (OSError, ValueError):
        return None


class _Feeds(HTMLParser):
    """<link rel="alternate" type="application/rss+xml" href="..."> of a home page."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "link" and a.get("type") in _FEED_TYPES and a.get("href"):
            self.hrefs.append(str(a["href"]))


def xml_links(body: bytes) -> tuple[list[str], list[str]]:
    """(child sitemaps, page URLs) of a sitemap, or the item links of an RSS/Atom feed."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return [], []
    tag = root.tag.rsplit("}", 1)[-1]
    locs = [e.text.strip() for e in root.iter() if e.tag.rsplit("}", 1)[-1] == "loc" and e.text]
    if tag == "sitemapindex":
        return locs, []
    if tag == "urlset":
        return [], locs
    links = [e.text.strip() for item in root.iter("item") for e in item.iter("link")
             if e.text]  # RSS items
    atom = "{http://www.w3.org/2005/Atom}"
    links += [str(e.get("href")) for entry in root.iter(f"{atom}entry")
              for e in entry.iter(f"{atom}link") if e.get("href")]
    return [], links


def site_urls(base: str, robots: RobotFileParser) -> list[str]:
    """Every page URL the site's sitemaps and feeds list, in order, once."""
    sitemaps = list(robots.site_maps() or [urljoin(base, "/sitemap.xml")])
    home = get(base) or b""
    finder = _Feeds()
    finder.feed(home.decode("utf-8", "replace"))
    found: dict[str, None] = {}
    todo = sitemaps + [urljoin(base, h) for h in finder.hrefs]
    seen: set[str] = set()
    while todo:
        doc = todo.pop(0)
        if doc in seen:
            continue
        seen.add(doc)
        children, pages = xml_links(get(doc) or b"")
        todo += children
        found.update(dict.fromkeys(pages))
    host = urlsplit(base).netloc
    return [u for u in found if urlsplit(u).netloc == host and not re.search(r"\.xml$", u)]


def crawl(bases: list[str], db: str) -> dict[str, float]:
    """Crawl every site into one SQLite table; return the counts and the time."""
    start = time.perf_counter()
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE IF NOT EXISTS articles "
                 "(url TEXT PRIMARY KEY, title TEXT, date TEXT, text TEXT)")
    fetched = stored = 0
    for base in bases:
        robots = RobotFileParser(urljoin(base, "/robots.txt"))
        robots.parse((get(robots.url) or b"").decode("utf-8", "replace").splitlines())
        for url in site_urls(base, robots):
            if not robots.can_fetch(AGENT, url):
                continue
            body = get(url)
            fetched += 1
            if not body:
                continue
            doc = trafilatura.bare_extraction(body, url=url, with_metadata=True,
                                              include_comments=False, include_tables=True)
            if doc is None or not doc.text:
                continue
            conn.execute("INSERT OR REPLACE INTO articles VALUES (?, ?, ?, ?)",
                         [url, doc.title, doc.date, doc.text])
            conn.commit()
            stored += 1
    conn.close()
    return {"fetched": fetched, "stored": stored, "seconds": time.perf_counter() - start}


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Command line: crawl the given sites, print the JSON summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="SQLite file to write")
    parser.add_argument("sites", nargs="+", help="base URLs (home pages)")
    args = parser.parse_args(argv)
    out = crawl(args.sites, args.db)
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    sys.exit(0 if main()["stored"] else 1)
