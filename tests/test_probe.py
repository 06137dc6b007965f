"""`mediawatch sources probe` end to end, as a subprocess, against the loopback probe web."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import MEDIAWATCH, run_mediawatch, serve
from helpers.probeweb import probe_web

from demoweb import FixtureWeb

pytestmark = pytest.mark.e2e

TIMEOUT = "3"  # the slow outlet drips its feed for minutes; 3 s is plenty on loopback


@dataclass
class Probe:
    web: FixtureWeb
    sources: Path
    db: Path
    result: subprocess.CompletedProcess[str]
    rows: list[dict[str, Any]]
    requests: list


@pytest.fixture(scope="module")
def probed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Probe]:
    """The whole probe web probed once with --json --write, as a user would run it."""
    work = tmp_path_factory.mktemp("probe")
    with probe_web() as web:
        sources = web.write_sources(work / "sources.toml")
        db = work / "archive.db"
        web.clear_requests()
        result = subprocess.run(
            [sys.executable, "-m", "crawler.cli", "sources", "probe", "--sources", str(sources),
             "--json", "--write", "--db", str(db), "--timeout", TIMEOUT,
             "-s", "MEDIAWATCH_LOOPBACK_ONLY=1"],
            capture_output=True, text=True, timeout=300)
        rows = json.loads(result.stdout) if result.stdout.strip().startswith("[") else []
        yield Probe(web, sources, db, result, rows, list(web.requests))


def _rows(p: Probe, source: str, kind: str | None = None) -> list[dict[str, Any]]:
    return [r for r in p.rows if r["source"] == source and (kind is None or r["kind"] == kind)]


def test_exit_code_and_json_shape(probed: Probe) -> None:
    assert probed.result.returncode == 1, probed.result.stderr[-2000:]  # some outlets fail
    assert probed.rows, probed.result.stderr[-2000:]
    keys = {"source", "endpoint", "kind", "status", "ok", "items", "links_on_host",
            "links_matching", "newest", "problem", "final_url", "content_type", "parsed",
            "robots", "crawl_delay"}
    for row in probed.rows:
        assert keys <= set(row), row
        assert row["ok"] is (row["problem"] is None)
    assert {r["source"] for r in probed.rows} == {
        "probe-healthy", "probe-htmlfeed", "probe-nomatch", "probe-robots", "probe-slow",
        "probe-shell"}


def test_healthy_outlet_is_ok_everywhere(probed: Probe) -> None:
    rows = _rows(probed, "probe-healthy")
    assert [r["problem"] for r in rows] == [None] * len(rows)
    robots = _rows(probed, "probe-healthy", "robots")[0]
    assert robots["status"] == 200 and robots["crawl_delay"] == 1.0
    assert robots["sitemaps"] and robots["sitemaps"][0].endswith("/sitemap.xml")
    feed = _rows(probed, "probe-healthy", "feed")[0]
    assert feed["status"] == 200 and feed["parsed"] and feed["items"] == 4
    assert feed["links_on_host"] == 4 and feed["links_matching"] == 4
    assert feed["newest"].startswith("2025-03-04")
    assert "xml" in feed["content_type"] and feed["robots"] == "allowed"
    # sitemaps = ["robots"]: the Sitemap: line of robots.txt was followed and judged.
    sitemap = _rows(probed, "probe-healthy", "sitemap")[0]
    assert sitemap["endpoint"].endswith("/sitemap.xml") and sitemap["links_matching"] == 4
    section = _rows(probed, "probe-healthy", "section")[0]
    assert section["links_matching"] == 4 and section["links_on_host"] > 4  # tags, about ...
    # The two newest articles the feed lists, fetched and extracted as a crawl would.
    articles = _rows(probed, "probe-healthy", "article")
    assert [a["endpoint"].rsplit("/", 1)[1] for a in articles] == [
        "armenia-russia-talks-round-4", "armenia-russia-talks-round-3"]
    for got, n in zip((a["article"] for a in articles), (4, 3), strict=True):
        assert got["status"] == "ok" and got["lang"] == "en" and got["author"] == "Ani Petrosyan"
        assert got["title"] == f"Armenia and Russia: round {n} of talks"  # no " | Healthy Herald"
        assert got["published"].startswith(f"2025-03-0{n}") and got["chars"] > 300
    assert all(r["article"] is None for r in rows if r["kind"] not in ("article", "canary"))


def test_feed_answering_html_is_reported(probed: Probe) -> None:
    feed = _rows(probed, "probe-htmlfeed", "feed")[0]
    assert feed["status"] == 200 and not feed["parsed"] and not feed["ok"]
    assert feed["problem"].startswith("feed answers HTML, not XML")
    assert "text/html" in feed["content_type"]
    assert all(r["ok"] for r in _rows(probed, "probe-htmlfeed") if r["kind"] != "feed")


def test_feed_links_matching_no_pattern_are_reported(probed: Probe) -> None:
    feed = _rows(probed, "probe-nomatch", "feed")[0]
    assert feed["parsed"] and feed["items"] == 4 and feed["links_on_host"] == 4
    assert feed["links_matching"] == 0
    assert feed["problem"].startswith("0 of 4 feed links match article_url_pattern")
    assert "sources discover" in feed["problem"]  # the fix


def test_robots_disallowing_the_sitemap_is_reported_and_obeyed(probed: Probe) -> None:
    sitemap = _rows(probed, "probe-robots", "sitemap")[0]
    assert sitemap["robots"] == "disallowed" and sitemap["status"] is None
    assert sitemap["problem"].startswith("robots.txt disallows the sitemap")
    fetched = [r.path for r in probed.requests if r.outlet == "probe-robots"]
    assert "/sitemaps/news.xml" not in fetched  # never fetched
    assert _rows(probed, "probe-robots", "feed")[0]["ok"]


def test_articles_drawn_by_javascript_are_reported(probed: Probe) -> None:
    rows = _rows(probed, "probe-shell")
    assert all(r["ok"] for r in rows if r["kind"] != "article")  # feed, pattern: all fine
    articles = _rows(probed, "probe-shell", "article")
    assert len(articles) == 2 and all(not a["ok"] for a in articles)
    assert all("drawn by JavaScript" in a["problem"] for a in articles)
    assert all(a["article"]["chars"] < 200 for a in articles)


def test_articles_sampled_in_each_outlets_language_and_not_from_broken_listings(
        probed: Probe) -> None:
    langs = {r["source"]: {a["article"]["lang"] for a in _rows(probed, r["source"], "article")}
             for r in probed.rows}
    assert langs == {"probe-healthy": {"en"}, "probe-htmlfeed": {"en"}, "probe-nomatch": set(),
                     "probe-robots": {"hy"}, "probe-slow": {"en"}, "probe-shell": {"en"}}
    # probe-nomatch's links match no pattern: nothing to sample; probe-robots' come from its
    # homepage and section (its sitemap is disallowed) and are fine.
    assert all(a["ok"] for a in _rows(probed, "probe-robots", "article"))


def test_timeout_is_reported(probed: Probe) -> None:
    feed = _rows(probed, "probe-slow", "feed")[0]
    assert feed["status"] is None and not feed["ok"]
    assert feed["problem"].startswith("feed timed out")
    assert "DOWNLOAD_TIMEOUT" in feed["problem"]
    assert _rows(probed, "probe-slow", "section")[0]["ok"]


def test_each_endpoint_once_and_nothing_beyond_loopback(probed: Probe) -> None:
    hosts = {r.host.rsplit(":", 1)[0] for r in probed.requests}
    assert hosts and all(h.startswith("127.0.0.") for h in hosts)
    counts = Counter((r.outlet, r.path) for r in probed.requests)
    assert max(counts.values()) == 1, counts.most_common(3)  # no retries, one robots.txt
    agents = {r.headers.get("User-Agent", r.headers.get("user-agent", "")) for r in probed.requests}
    assert all(a.startswith("mediawatch/") for a in agents), agents
    # every endpoint row with a status was really fetched
    for row in probed.rows:
        if row["status"] is not None and row["kind"] != "robots":
            path = "/" + row["endpoint"].split("/", 3)[3]
            assert any(r.path == path for r in probed.requests), row["endpoint"]


def test_write_records_verdicts_shown_by_list_status_and_outlets(probed: Probe) -> None:
    conn = sqlite3.connect(probed.db)
    verdicts = dict(conn.execute("select source_id, ok from probes").fetchall())
    conn.close()
    assert verdicts == {"probe-healthy": 1, "probe-htmlfeed": 0, "probe-nomatch": 0,
                        "probe-robots": 0, "probe-slow": 0, "probe-shell": 0}
    listed = run_mediawatch("sources", "list", "--sources", str(probed.sources),
                            "--db", str(probed.db), "--json")
    assert listed.returncode == 0, listed.stderr
    by_id = {r["id"]: r for r in json.loads(listed.stdout)}
    assert by_id["probe-healthy"]["probe"]["ok"] == 1
    assert by_id["probe-htmlfeed"]["probe"]["summary"].startswith("feed http://127.0.0.")
    table = run_mediawatch("sources", "list", "--sources", str(probed.sources),
                           "--db", str(probed.db))
    assert "FAILED" in table.stdout and "probe" in table.stdout
    status = run_mediawatch("status", "--sources", str(probed.sources), "--db", str(probed.db))
    assert status.returncode == 0, status.stderr
    assert "last probe failed probe-slow: feed" in " ".join(status.stdout.split())
    assert "last probe failed probe-healthy" not in status.stdout
    from crawler.archive.core import Archive
    from crawler.registry.model import load_registry

    archive = Archive(probed.db)
    archive.sync_sources(load_registry(probed.sources))
    archive.close()
    import urllib.request

    with serve(probed.db) as base, urllib.request.urlopen(base + "/outlets") as page:
        html = page.read().decode("utf-8")
    assert html.count("probe failed") == 5 and html.count('class="mw-probe-ok"') == 1


def test_refused_connection_is_reported(tmp_path: Path) -> None:
    from conftest import free_port

    base = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    sources = tmp_path / "sources.toml"
    sources.write_text(f"""
[topic]
id = "t"
name = "T"
require = [["Armenia*"]]

[[source]]
id = "gone"
name = "Gone"
homepage = "{base}/"
language = "en"
country = "AM"
kind = "private"
feeds = ["{base}/feed/"]
download_delay = 0
""", encoding="utf-8")
    result = run_mediawatch("sources", "probe", "--sources", str(sources), "--json",
                            "-s", "MEDIAWATCH_LOOPBACK_ONLY=1", "--timeout", TIMEOUT)
    assert result.returncode == 1, result.stderr
    rows = {r["kind"]: r for r in json.loads(result.stdout)}
    assert rows["feed"]["problem"].startswith("feed is unreachable")
    assert rows["robots"]["robots"] == "unreachable"


def test_table_output_and_usage_errors(probed: Probe, tmp_path: Path) -> None:
    ok = subprocess.run([MEDIAWATCH, "sources", "probe", "--sources", str(probed.sources),
                         "--source", "probe-healthy", "-s", "MEDIAWATCH_LOOPBACK_ONLY=1",
                         "--timeout", TIMEOUT, "--articles", "1"],
                        capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0, ok.stdout[-2000:] + ok.stderr[-2000:]
    assert "6 endpoints, 0 with a problem" in ok.stdout and "probe-healthy" in ok.stdout
    # What the crawl would store of the sampled article, in the last column (folded).
    assert "ok: “Armenia and Russia: round 4 of talks”" in ok.stdout
    assert "Ani Petrosyan · 2025-03-04 · en · 326 chars" in ok.stdout
    none = run_mediawatch("sources", "probe", "--sources", str(probed.sources), "--source",
                          "probe-shell", "-s", "MEDIAWATCH_LOOPBACK_ONLY=1", "--timeout",
                          TIMEOUT, "--articles", "0")
    assert none.returncode == 0 and "4 endpoints, 0 with a problem" in none.stdout, none.stdout
    unknown = run_mediawatch("sources", "probe", "--sources", str(probed.sources),
                             "--source", "nope")
    assert unknown.returncode == 2 and "unknown outlet id" in unknown.stderr
    missing = run_mediawatch("sources", "probe", "--sources", str(tmp_path / "none.toml"))
    assert missing.returncode == 2 and "file not found" in missing.stderr
    bad_flag = run_mediawatch("sources", "probe", "--frobnicate")
    assert bad_flag.returncode == 2
    negative = run_mediawatch("sources", "probe", "--sources", str(probed.sources),
                              "--articles", "-1")
    assert negative.returncode == 2 and "--articles" in negative.stderr
