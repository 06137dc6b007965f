"""End to end: `mediawatch crawl` as a subprocess against the loopback fixture web."""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

import pytest
from conftest import Crawl, crawl_web, query

from crawler.archive.core import warc_folder
from crawler.archive.warc import WarcLocation, read_capture
from crawler.web.urls import article_id, is_loopback
from demoweb import FixtureWeb
from demoweb.inventory import expected_articles

pytestmark = pytest.mark.e2e

SEED_TITLE = "Putin and Pashinyan: A Tumultuous Alliance Marked by Risk and Paradox"


def robots_rules(web: FixtureWeb) -> dict[str, RobotFileParser]:
    """Each outlet's robots.txt, read over HTTP and parsed by the standard library."""
    out: dict[str, RobotFileParser] = {}
    for oid, base in web.base_urls.items():
        with urllib.request.urlopen(base + "/robots.txt", timeout=10) as resp:
            parser = RobotFileParser()
            parser.parse(resp.read().decode().splitlines())
        out[oid] = parser
    return out


def test_crawl_exits_zero_and_records_a_run(crawled: Crawl) -> None:
    assert "crawl run 1: finished" in crawled.result.stdout
    runs = query(crawled.db, "select finish_reason, requests, articles_new, errors, "
                 "finished_at from crawl_runs")
    assert len(runs) == 1
    reason, requests, new, errors, finished = runs[0]
    assert reason == "finished" and finished
    assert requests >= 30 and new >= 20
    assert errors >= 1  # the planted 404/500 are recorded failures, not crashes


def test_every_live_article_is_archived_once_with_its_facts(crawled: Crawl) -> None:
    live = [a for a in expected_articles(crawled.web, 0) if a.status == 200]
    assert len(live) >= 20
    for art in live:
        rows = query(crawled.db, "select title, lang, on_topic, extraction_status, text "
                     "from articles where url = ?", (art.url,))
        assert len(rows) == 1, f"missing or duplicated: {art.url}"
        title, lang, on_topic, status, text = rows[0]
        assert status == "ok", art.url
        assert title and art.title.strip()[:30] in title, (art.url, title)
        assert lang == art.language, art.url
        assert on_topic == int(art.on_topic), (art.url, title)
        assert "\x00" not in text and len(text) > 200
    count = query(crawled.db, "select count(*) from articles where extraction_status = 'ok'")
    assert count[0][0] == len(live)


def test_the_seed_article(crawled: Crawl) -> None:
    rows = query(crawled.db, "select title, author, published, license, on_topic, lang, "
                 "canonical_url, text, source_id from articles where title = ?", (SEED_TITLE,))
    assert len(rows) == 1
    title, author, published, licence, on_topic, lang, canonical, text, source = rows[0]
    assert author == "Diran Noubar"
    assert published.startswith("2025-05-12")
    assert licence == "CC BY-NC 4.0"
    assert on_topic == 1 and lang == "en"
    assert canonical == "https://www.transcend.org/tms/?p=294863"
    assert "Pashinyan" in text
    # The fixture mirrors the real site (registry `aliases`): its canonical link there is
    # the outlet's own, so the id is the real article's and it is not a republication.
    assert query(crawled.db, "select id, republication_of from articles where title = ?",
                 (SEED_TITLE,))[0] == (article_id(canonical), None)


def test_related_coverage_in_three_languages_is_on_topic(crawled: Crawl) -> None:
    rows = dict(query(crawled.db, "select lang, count(*) from articles where on_topic = 1 "
                      "group by lang"))
    assert rows.get("en", 0) >= 4 and rows.get("ru", 0) >= 4 and rows.get("hy", 0) >= 4
    off = query(crawled.db, "select count(*) from articles where on_topic = 0")[0][0]
    assert off >= 5  # off-topic articles are kept, flagged


def test_robots_disallowed_paths_were_never_requested(crawled: Crawl) -> None:
    rules = robots_rules(crawled.web)
    planted = [h for h in crawled.web.hazards() if h.name == "robots-disallowed"]
    assert planted and not any(rules[h.outlet].can_fetch("mediawatch", h.url) for h in planted)
    for rec in crawled.requests:
        url = f"http://{rec.host}{rec.path}"
        assert rules[rec.outlet].can_fetch("mediawatch", url), f"robots.txt ignored: {url}"
    dropped = query(crawled.db, "select count(*) from pages where outcome = 'dropped' "
                    "and error like '%robots%'")[0][0]
    assert dropped >= 1  # the disallowed link was found, refused and recorded


def test_nothing_left_loopback(crawled: Crawl) -> None:
    urls = [r[0] for r in query(crawled.db, "select url from pages union "
                                "select coalesce(final_url, url) from pages")]
    assert urls and all(is_loopback(u) for u in urls)
    stats = json.loads(query(crawled.db, "select stats from crawl_runs")[0][0])
    assert stats.get("mediawatch/dropped/non_loopback", 0) == 0
    # Every request the servers saw came from the crawler with its User-Agent.
    agents = {r.headers.get("User-Agent", "") for r in crawled.requests}
    assert agents and all(a.startswith("mediawatch/") and "+http" in a for a in agents)


def test_failures_are_recorded_rows(crawled: Crawl) -> None:
    outcomes = dict(query(crawled.db, "select outcome, count(*) from pages group by outcome"))
    assert outcomes.get("http_error", 0) >= 2  # planted 404 and 500
    statuses = {r[0] for r in query(crawled.db, "select status from pages "
                                    "where outcome = 'http_error'")}
    assert {404, 500} <= statuses
    assert outcomes.get("not_article", 0) >= 1  # the listing page matching the pattern
    # The planted 500, given up after its retries, is a warning in the log: recorded above,
    # fetched again when due. ERROR is left for what goes wrong with the crawl itself.
    [(url,)] = query(crawled.db, "select url from pages where status = 500 limit 1")
    log = crawled.result.stderr.splitlines()
    assert any("WARNING: Gave up retrying" in line and url in line for line in log), log[-20:]
    assert not [line for line in log if "ERROR" in line], log[-20:]


def test_legacy_encoded_pages_are_readable_cyrillic(crawled: Crawl) -> None:
    legacy = [a for a in expected_articles(crawled.web, 0)
              if a.encoding.lower() in ("windows-1251", "cp1251", "koi8-r") and a.status == 200]
    assert legacy
    for art in legacy:
        title, text = query(crawled.db, "select title, text from articles where url = ?",
                            (art.url,))[0]
        assert re.search("[А-Яа-я]{4}", title) and re.search("[А-Яа-я]{4}", text)
        assert "Ð" not in text and "Ã" not in text and "\ufffd" not in text


def test_tracking_parameter_duplicate_is_one_row(crawled: Crawl) -> None:
    tracked = [r.path for r in crawled.requests if "utm_" in r.path]
    assert tracked == []  # cleaned before the request: one fetch per article
    feeds = query(crawled.db, "select warc_file, warc_offset, warc_length from pages "
                  "where kind = 'feed'")
    bodies = [read_capture(warc_folder(crawled.db), WarcLocation(*row)).body for row in feeds]
    assert any(b"utm_" in body for body in bodies)  # the feed did carry the tracked URL


def test_redirected_article_is_stored_under_its_final_url(crawled: Crawl) -> None:
    rows = query(crawled.db, "select url, final_url, redirect_chain from pages "
                 "where redirect_chain is not null and outcome = 'extracted'")
    assert rows
    for url, final, chain in rows:
        assert json.loads(chain)[0] == url and final != url
        assert query(crawled.db, "select count(*) from articles where url = ?",
                     (final,))[0][0] == 1


def test_second_crawl_adds_no_rows(crawled: Crawl, tmp_path: Path) -> None:
    tables = ["articles", "pages", "article_dates", "sources"]
    before = {t: query(crawled.db, f"select count(*) from {t}")[0][0] for t in tables}
    snapshot = query(crawled.db, "select * from articles order by id")
    again = crawl_web(crawled.web, crawled.db.parent)
    assert again.result.returncode == 0, again.result.stderr[-2000:]
    after = {t: query(crawled.db, f"select count(*) from {t}")[0][0] for t in tables}
    assert after == before
    assert query(crawled.db, "select count(*) from crawl_runs")[0][0] == 2
    cols = [r[1] for r in query(crawled.db, "pragma table_xinfo(articles)")]
    moved = set()
    for old, new in zip(snapshot, query(crawled.db, "select * from articles order by id"),
                        strict=True):
        moved |= {c for c, a, b in zip(cols, old, new, strict=True) if a != b}
    assert moved <= {"fetched_at"}
    assert "articles: 0 new, 0 updated" in again.result.stdout


def test_per_outlet_delay_is_honoured(web: FixtureWeb, tmp_path: Path) -> None:
    sources = tmp_path / "sources.toml"
    web.write_sources(sources)
    text = sources.read_text()
    # Slow one outlet down to 1 s and one request at a time; crawl only it.
    outlet = "armnews"
    block = re.search(rf'(\[\[source\]\]\s*\nid = "{outlet}".*?)(?=\n\[\[source\]\]|\Z)',
                      text, re.S)
    assert block
    slowed = re.sub(r"download_delay = [0-9.]+", "download_delay = 1.0", block.group(1))
    slowed = re.sub(r"concurrency = \d+", "concurrency = 1", slowed)
    sources.write_text(text.replace(block.group(1), slowed))
    result = crawl_web(web, tmp_path, "--source", outlet, "-s", "DOWNLOAD_DELAY_JITTER=0")
    assert result.result.returncode == 0, result.result.stderr[-2000:]
    # robots.txt included: it waits in the outlet's slot like every other request.
    times = sorted(r.time for r in result.requests if r.outlet == outlet)
    assert len(times) >= 5 and any(r.path == "/robots.txt" for r in result.requests)
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert min(gaps) >= 0.9, gaps
    assert {r.outlet for r in result.requests} == {outlet}
    assert urlsplit(web.base_urls[outlet]).hostname


def test_an_outlet_reuses_as_many_connections_as_it_may_have_in_flight(
        web: FixtureWeb, tmp_path: Path) -> None:
    # With no delay, Scrapy 2.19 sent an outlet's whole queue at once whatever its
    # concurrency, and its pool kept two idle connections per host: 8 connections for 12
    # requests here (crawler.downloader). Now at most `concurrency` in flight, each kept alive.
    sources = tmp_path / "sources.toml"
    web.write_sources(sources)
    text = sources.read_text()
    outlet, width = "armnews", 3
    block = re.search(rf'(\[\[source\]\]\s*\nid = "{outlet}".*?)(?=\n\[\[source\]\]|\Z)',
                      text, re.S)
    assert block
    wide = re.sub(r"download_delay = [0-9.]+", "download_delay = 0", block.group(1))
    wide = re.sub(r"concurrency = \d+", f"concurrency = {width}", wide)
    sources.write_text(text.replace(block.group(1), wide))
    result = crawl_web(web, tmp_path, "--source", outlet, "-s", "DOWNLOAD_DELAY_JITTER=0")
    assert result.result.returncode == 0, result.result.stderr[-2000:]
    # Our Scrapy components use no deprecated API (the downloader once logged a warning).
    assert "DeprecationWarning" not in result.result.stderr, result.result.stderr[-2000:]
    mine = [r for r in result.requests if r.outlet == outlet]
    assert len(mine) >= 3 * width and all(r.peer for r in mine)
    # A connection per request in flight (robots.txt, fetched first, may take one more).
    assert len({r.peer for r in mine}) <= width + 1, len({r.peer for r in mine})


def test_every_crawled_article_is_indexed_with_the_current_normaliser(crawled: Crawl) -> None:
    # Search columns built in the extraction workers carry the same stamp as the writer's.
    from crawler.search.columns import SEARCH_VERSION

    stamps = query(crawled.db, "select search_version, count(*) from articles group by 1")
    assert stamps and dict(stamps) == {SEARCH_VERSION: sum(n for _, n in stamps)}
    assert query(crawled.db, "select value from archive_meta where key = 'search_version'") == \
        [(SEARCH_VERSION,)]


def test_the_run_records_where_the_workers_cpu_went(crawled: Crawl) -> None:
    stats = json.loads(query(crawled.db, "select stats from crawl_runs")[0][0])
    split = {k.rsplit("/", 1)[1]: v for k, v in stats.items()
             if k.startswith("mediawatch/worker_cpu_us/")}
    assert set(split) == {"extract", "analyse", "prepare"}, stats
    # extract_article is most of a worker's work; every step took some CPU (µs, summed).
    assert split["extract"] > split["analyse"] > 0 and split["extract"] > split["prepare"] > 0
