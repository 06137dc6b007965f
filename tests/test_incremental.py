"""Careful re-crawls: conditional requests, versions, removals, schedule, budgets, resume, lock."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import (
    MEDIAWATCH,
    Crawl,
    crawl_web,
    make_articles_due,
    query,
    run_mediawatch,
    serve,
)

from crawler.web.urls import article_id
from demoweb import FixtureWeb

pytestmark = pytest.mark.e2e


@pytest.fixture
def copy_of(crawled: Crawl, tmp_path: Path) -> Path:
    """A private copy of the crawled archive (and its registry and WARC files)."""
    work = tmp_path / "work"
    shutil.copytree(crawled.db.parent, work)
    (work / "archive.db.lock").unlink(missing_ok=True)
    return work


@pytest.fixture
def epoch1(web: FixtureWeb) -> Iterator[FixtureWeb]:
    """The fixture web after some articles were edited, removed or added."""
    web.set_epoch(1)
    try:
        yield web
    finally:
        web.set_epoch(0)


def test_unchanged_web_is_rechecked_conditionally_and_nothing_is_reextracted(
        crawled: Crawl, copy_of: Path) -> None:
    db = copy_of / "archive.db"
    tables = ["articles", "pages", "article_versions", "article_dates", "feed_items"]
    before = {t: query(db, f"select count(*) from {t}")[0][0] for t in tables}
    again = crawl_web(crawled.web, copy_of, "--recheck")
    assert again.result.returncode == 0, again.result.stderr[-2000:]
    article_requests = [r for r in again.requests if "/robots.txt" not in r.path]
    conditional = [r for r in article_requests
                   if "If-None-Match" in r.headers or "If-Modified-Since" in r.headers]
    # Every document and article fetched last time is asked for conditionally, and answers 304.
    assert len(conditional) >= 40
    assert sum(r.status == 304 for r in again.requests) >= 40
    after = {t: query(db, f"select count(*) from {t}")[0][0] for t in tables}
    assert after == before
    run = query(db, "select not_modified, articles_updated, articles_new from crawl_runs "
                "order by id desc limit 1")[0]
    assert run[0] >= 40 and run[1:] == (0, 0)
    assert "not modified" in again.result.stdout


def test_a_recrawl_polls_the_sitemaps_an_unchanged_index_or_robots_txt_lists(
        crawled: Crawl, copy_of: Path) -> None:
    # A conditional request for a sitemap index or robots.txt answers 304 without a body, so
    # their child sitemaps (where new articles appear) went unread on every crawl after the
    # first while the parent stayed the same.
    db = copy_of / "archive.db"
    children = query(db, "select url, discovered_from from url_state where kind = 'sitemap' "
                     "and discovered_from is not null")
    assert {urlsplit(p).path for _, p in children} >= {"/robots.txt", "/sitemap.xml"}
    again = crawl_web(crawled.web, copy_of)
    assert again.result.returncode == 0, again.result.stderr[-2000:]
    asked = {r.host + r.path for r in again.requests}
    for url, _ in children:
        assert urlsplit(url).netloc + urlsplit(url).path in asked, url
    parents = {urlsplit(p).netloc + urlsplit(p).path for _, p in children}
    # The parents were asked for in full (robots.txt once more by Scrapy's own check).
    assert all(r.status == 200 for r in again.requests if r.host + r.path in parents)


def test_articles_are_not_refetched_until_due(crawled: Crawl, copy_of: Path) -> None:
    db = copy_of / "archive.db"
    # The fixture's articles are from 2020-2025: past the re-check age, never due again.
    assert query(db, "select count(*) from url_state s join articles a on a.id = s.article_id"
                 " where s.next_due is not null")[0][0] == 0
    # Failures and non-articles are looked at again later, with back-off, not now.
    later = query(db, "select next_due from url_state where kind = 'article' "
                  "and next_due is not null")
    assert later and all(r[0] > query(db, "select max(finished_at) from crawl_runs")[0][0]
                         for r in later)
    again = crawl_web(crawled.web, copy_of)
    assert again.result.returncode == 0
    fetched = {r.path for r in again.requests}
    articles = {a.url.split("/", 3)[3] for a in crawled.web.expected_articles(0)}
    assert not {"/" + p for p in articles} & fetched


def test_recheck_budget_defers_the_rest_and_says_so(crawled: Crawl, copy_of: Path) -> None:
    db = copy_of / "archive.db"
    known = make_articles_due(db)
    again = crawl_web(crawled.web, copy_of, "-s", "MEDIAWATCH_RECHECK_BUDGET=5")
    assert again.result.returncode == 0
    paths = {a.url.split("/", 3)[3] for a in crawled.web.expected_articles(0)}
    rechecked = [r for r in again.requests if r.path.lstrip("/") in paths]
    assert len(rechecked) == 5
    deferred = query(db, "select deferred from crawl_runs order by id desc limit 1")[0][0]
    assert deferred == known - 5


def test_edits_become_versions_and_removals_are_marked(
        crawled: Crawl, copy_of: Path, epoch1: FixtureWeb) -> None:
    db = copy_of / "archive.db"
    jsonl = copy_of / "alerts.jsonl"
    again = crawl_web(epoch1, copy_of, "--recheck", "--alerts-jsonl", str(jsonl))
    assert again.result.returncode == 0, again.result.stderr[-2000:]
    changed = [a for a in epoch1.expected_articles(1)
               if a.status == 200 and any(b.url == a.url and b.title != a.title
                                          for b in epoch1.expected_articles(0))]
    assert changed
    for art in changed:
        versions = query(db, "select version, title, diff, flags from article_versions "
                         "where article_id = ? order by version", (article_id(art.url),))
        assert [v[0] for v in versions] == [1, 2]
        assert versions[1][1].startswith(art.title[:30])
        flags = json.loads(versions[1][3])
        assert {"headline-changed", "lead-changed", "update-notice"} <= set(flags)
        assert versions[1][2].startswith("--- previous") and "\n+" in versions[1][2]
        assert query(db, "select title from articles where id = ?",
                     (article_id(art.url),))[0][0].startswith(art.title[:30])
    gone = [a for a in epoch1.expected_articles(1) if a.status in (404, 410)]
    assert len(gone) >= 2
    for art in gone:
        removed_at, text = query(db, "select removed_at, text from articles where id = ?",
                                 (article_id(art.url),))[0]
        assert removed_at and len(text) > 200  # its last text stays
    new = [a for a in epoch1.expected_articles(1)
           if not any(b.url == a.url for b in epoch1.expected_articles(0))]
    for art in new:
        assert query(db, "select count(*) from articles where id = ?",
                     (article_id(art.url),))[0][0] == 1
    # The run told the alert channels of the on-topic articles it found edited or gone.
    topical = {r[0] for r in query(db, "select id from articles where on_topic = 1")}
    [notice] = [e for e in map(json.loads, jsonl.read_text().splitlines())
                if e["event"] == "article_changes"]
    assert {e["article_id"] for e in notice["edited"]} == {
        article_id(a.url) for a in changed} & topical
    assert {r["article_id"] for r in notice["removed"]} == {
        article_id(a.url) for a in gone} & topical
    assert notice["count"] == len(notice["edited"]) + len(notice["removed"]) > 0
    assert notice["held_back"] == []  # a few edits: listed, not taken for a redesign
    assert all("headline changed" in e["changes"] and e["previous_title"]
               for e in notice["edited"])
    # Unchanged articles got no second version.
    assert query(db, "select count(*) from article_versions where version > 1")[0][0] == len(
        changed)
    # The article page says what the outlet changed, in words, with the diff folded away.
    with serve(db) as base:
        with urllib.request.urlopen(f"{base}/article/{article_id(changed[0].url)}",
                                    timeout=30) as resp:
            page = resp.read().decode()
        versions = page.split('id="mw-versions"', 1)[1].split("</section>", 1)[0]
        assert "2 versions" in versions and "text_hash" not in versions
        assert "headline changed, first paragraph changed, update notice" in versions
        assert '<details><summary>the changes, line by line</summary><pre class="mw-diff">' \
               "--- previous" in versions
        # each version links its own capture, which shows the text the outlet served then
        aid = article_id(changed[0].url)
        links = re.findall(rf'href="/article/{aid}/capture\?page=(\d+)"', versions)
        assert len(links) == 2 and links[0] != links[1]
        titles = []
        for page_id in links:
            with urllib.request.urlopen(f"{base}/article/{aid}/capture.html?page={page_id}",
                                        timeout=30) as resp:
                titles.append(re.search(r"<h1[^>]*>(.*?)</h1>", resp.read().decode(), re.S))
        old_title = next(b.title for b in epoch1.expected_articles(0) if b.url == changed[0].url)
        assert titles[0] and html.unescape(titles[0].group(1)).startswith(old_title[:30])
        assert titles[1] and html.unescape(titles[1].group(1)).startswith(changed[0].title[:30])
        with urllib.request.urlopen(f"{base}/article/{aid}/capture", timeout=30) as resp:
            framed = resp.read().decode()
        assert "2 captures of this article" in framed and framed.count(">show</a>") == 1
        # a removed article's page says so first, and leads to its capture
        gone_id = article_id(gone[0].url)
        with urllib.request.urlopen(f"{base}/article/{gone_id}", timeout=30) as resp:
            note = resp.read().decode().split('class="mw-note mw-removed"', 1)[1].split("</p>")[0]
        assert "The outlet took this article down" in note
        assert f'href="/article/{gone_id}/capture"' in note
        # the front page shows the newest on-topic ones
        with urllib.request.urlopen(f"{base}/", timeout=30) as resp:
            front = resp.read().decode()
        glance = front.split('class="mw-changes-glance"', 1)[1].split("</ul>", 1)[0]
        shown = re.findall(r'data-article="([^"]+)"', glance)
        assert 1 <= len(shown) <= 5 and set(shown) <= {
            article_id(a.url) for a in [*changed, *gone]} & {
            r[0] for r in query(db, "select id from articles where on_topic = 1")}
        # /-/changes lists every edit (old headline beside the new) and every removal
        with urllib.request.urlopen(f"{base}/-/changes", timeout=30) as resp:
            listing = resp.read().decode()
        edits = listing.split('id="mw-edits"', 1)[1].split("</table>", 1)[0]
        removed = listing.split('id="mw-removed"', 1)[1].split("</table>", 1)[0]
        assert set(re.findall(r'data-article="([^"]+)"', edits)) == {
            article_id(a.url) for a in changed}
        assert set(re.findall(r'data-article="([^"]+)"', removed)) == {
            article_id(a.url) for a in gone}
        assert f"<del>{old_title}</del>" in html.unescape(edits)
        outlet = query(db, "select source_id from articles where id = ?", (aid,))[0][0]
        with urllib.request.urlopen(f"{base}/-/changes?what=headline&source={outlet}",
                                    timeout=30) as resp:
            narrowed = resp.read().decode()
        assert 'id="mw-removed"' not in narrowed and aid in narrowed
        assert set(re.findall(r'data-article="([^"]+)"', narrowed)) == {
            article_id(a.url) for a in changed
            if query(db, "select source_id from articles where id = ?",
                     (article_id(a.url),))[0][0] == outlet}
        # the same as an Atom feed (well-formed: parsed), every change one entry
        atom = "{http://www.w3.org/2005/Atom}"
        with urllib.request.urlopen(f"{base}/-/changes.atom", timeout=30) as resp:
            assert resp.headers["content-type"].startswith("application/atom+xml")
            feed = ET.fromstring(resp.read())
        entries = feed.findall(f"{atom}entry")
        titles = [e.findtext(f"{atom}title") or "" for e in entries]
        assert len(entries) == len(changed) + len(gone)
        assert len({e.findtext(f"{atom}id") for e in entries}) == len(entries)
        assert sum(t.startswith("Edited: ") for t in titles) == len(changed)
        assert sum(t.startswith("Taken down: ") for t in titles) == len(gone)
        assert any(f"was: {old_title}" in (e.findtext(f"{atom}summary") or "")
                   for e in entries)
        stamps = [e.findtext(f"{atom}updated") or "" for e in entries]
        assert stamps == sorted(stamps, reverse=True)
        with urllib.request.urlopen(f"{base}/-/changes.atom?what=removed", timeout=30) as resp:
            only = ET.fromstring(resp.read()).findall(f"{atom}entry")
        assert len(only) == len(gone)
        with pytest.raises(urllib.error.HTTPError) as bogus:
            urllib.request.urlopen(f"{base}/-/changes?what=everything", timeout=30)
        with bogus.value:
            assert bogus.value.code == 400
        [(other,)] = query(db, "select page_id from articles where id != ? and page_id is "
                           "not null limit 1", (aid,))
        for bad, code in ((f"/article/{aid}/capture?page=x", 400),  # another article's capture:
                          (f"/article/{aid}/capture.html?page={other}", 404)):  # not this one's
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(base + bad, timeout=30)
            with refused.value:
                assert refused.value.code == code, bad
        unchanged = query(db, "select article_id from article_versions group by article_id "
                          "having count(*) = 1 limit 1")[0][0]
        with urllib.request.urlopen(f"{base}/article/{unchanged}", timeout=30) as resp:
            assert "No change seen since it was first fetched" in resp.read().decode()


def test_date_provenance_is_recorded_with_sources(crawled: Crawl) -> None:
    sources = {r[0] for r in query(crawled.db, "select distinct source from article_dates")}
    assert {"json-ld", "feed", "url", "http-last-modified", "first-seen"} <= sources
    assert any(s.startswith("meta:") for s in sources)
    assert any(s.startswith("sitemap") for s in sources)
    flags = [json.loads(r[0]) for r in query(crawled.db, "select date_flags from articles")]
    assert all(isinstance(f, list) for f in flags)
    seed = query(crawled.db, "select published_source, date_flags from articles "
                 "where title like 'Putin and Pashinyan%'")[0]
    assert seed[0] and json.loads(seed[1]) == []


def _slow_sources(web: FixtureWeb, work: Path, delay: float) -> Path:
    work.mkdir(parents=True, exist_ok=True)
    sources = web.write_sources(work / "sources.toml")
    text = re.sub(r"download_delay = [0-9.]+", f"download_delay = {delay}", sources.read_text())
    sources.write_text(re.sub(r"concurrency = \d+", "concurrency = 1", text))
    return sources


def _integrity(db: Path) -> str:
    return query(db, "pragma integrity_check")[0][0]


def test_sigkill_at_any_moment_then_resume_loses_and_duplicates_nothing(
        web: FixtureWeb, tmp_path: Path) -> None:
    web.set_epoch(0)
    reference = crawl_web(web, tmp_path / "reference")
    assert reference.result.returncode == 0
    want = {r[0] for r in query(reference.db, "select id from articles")}
    total = len(reference.requests)
    # Kill points by progress: in discovery, at the turn to articles, deep in the articles.
    for kill_at in (3, total // 3, total // 2, total - 8):
        work = tmp_path / f"kill-{kill_at}"
        sources = _slow_sources(web, work, 0.1)
        db = work / "archive.db"
        web.clear_requests()
        proc = subprocess.Popen([MEDIAWATCH, "crawl", "--sources", str(sources), "--db",
                                 str(db), "-s", "MEDIAWATCH_LOOPBACK_ONLY=1",
                                 "-s", "DOWNLOAD_DELAY_JITTER=0"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while len(web.requests) < kill_at and proc.poll() is None:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert _integrity(db) == "ok"
        stored = {r[0] for r in query(db, "select url from pages where status = 200")}
        resumed = crawl_web(web, work)
        assert resumed.result.returncode == 0, resumed.result.stderr[-2000:]
        assert _integrity(db) == "ok"
        assert {r[0] for r in query(db, "select id from articles")} == want, kill_at
        assert stored <= {r[0] for r in query(db, "select url from pages")}
        dupes = query(db, "select capture_key, count(*) from pages group by 1 having count(*) > 1")
        assert dupes == []
        # The resumed crawl fetched no article that the killed one had already stored.
        refetched = [r.path for r in resumed.requests
                     if any(u.endswith(r.path) for u in stored) and r.status == 200
                     and "/news/" in r.path]
        assert not refetched, refetched
        runs = query(db, "select finish_reason from crawl_runs order by id")
        if len(runs) == 2:
            assert runs[0][0].startswith("interrupted") and runs[1][0] == "finished"


def test_two_crawls_at_once_are_refused(web: FixtureWeb, tmp_path: Path) -> None:
    sources = _slow_sources(web, tmp_path, 0.3)
    db = tmp_path / "archive.db"
    first = subprocess.Popen([MEDIAWATCH, "crawl", "--sources", str(sources), "--db", str(db),
                              "-s", "MEDIAWATCH_LOOPBACK_ONLY=1"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not (tmp_path / "archive.db.lock").exists() or not _locked(tmp_path):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        second = subprocess.run([MEDIAWATCH, "crawl", "--sources", str(sources), "--db",
                                 str(db), "-s", "MEDIAWATCH_LOOPBACK_ONLY=1"],
                                capture_output=True, text=True, timeout=60)
        assert second.returncode != 0
        assert "being written by" in second.stderr + second.stdout
        assert "Traceback" not in second.stderr
    finally:
        first.send_signal(signal.SIGTERM)
        first.wait(timeout=60)
    assert _integrity(db) == "ok"


def _locked(folder: Path) -> bool:
    import fcntl

    with open(folder / "archive.db.lock", "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
    return False


def test_crawl_delay_from_robots_is_honoured(crawled: Crawl) -> None:
    times = sorted(r.time for r in crawled.requests
                   if r.outlet == "exile" and r.path != "/robots.txt")
    assert len(times) >= 4
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert min(gaps) >= 0.45, gaps  # Crawl-delay: 1 with ±50% jitter
    assert os.path.exists(crawled.db)


def test_an_outlet_failing_again_and_again_is_paused_with_its_reason(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:  # a loopback port where nothing listens: every fetch fails
        s.bind(("127.0.0.9", 0))
        port = s.getsockname()[1]
    seeds = ", ".join(f'"http://127.0.0.9:{port}/news/{n}"' for n in range(30))
    sources = tmp_path / "sources.toml"
    sources.write_text(
        '[topic]\nid = "t"\nname = "T"\nrequire = [["Armenia*"]]\n\n'
        f'[[source]]\nid = "down"\nname = "Down"\nhomepage = "http://127.0.0.9:{port}/"\n'
        'language = "en"\ncountry = "AM"\nkind = "independent"\ndownload_delay = 0\n'
        f"concurrency = 1\nurls = [{seeds}]\n")
    db = tmp_path / "archive.db"
    first = run_mediawatch("crawl", "--sources", str(sources), "--db", str(db),
                           "-s", "MEDIAWATCH_LOOPBACK_ONLY=1", "-s", "RETRY_TIMES=0",
                           "-s", "MEDIAWATCH_PAUSE_AFTER_FAILURES=5")
    assert first.returncode == 0, first.stderr[-2000:]
    reason, until = query(db, "select paused_reason, paused_until from outlet_state "
                          "where source_id = 'down'")[0]
    assert "5 failures in a row" in reason and until > query(
        db, "select finished_at from crawl_runs")[0][0]
    paused = query(db, "select count(*) from pages where error like 'dropped: outlet paused%'")
    failed = query(db, "select count(*) from pages where outcome = 'network_error'")
    assert paused[0][0] >= 1 and 5 <= failed[0][0] < 30
    # The next crawl leaves it alone until the pause ends, and says so.
    second = run_mediawatch("crawl", "--sources", str(sources), "--db", str(db),
                            "-s", "MEDIAWATCH_LOOPBACK_ONLY=1")
    assert second.returncode == 0
    assert query(db, "select count(*) from pages")[0][0] == failed[0][0] + paused[0][0]


def test_a_few_failing_pages_never_pause_an_outlet(crawled: Crawl) -> None:
    assert query(crawled.db, "select count(*) from outlet_state where paused_until is not null"
                 )[0][0] == 0
