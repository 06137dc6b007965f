"""`mediawatch explain URL` on the crawled fixture web: where each planted URL stopped."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils
from conftest import Crawl, query, run_mediawatch
from mediawatch_schema import migrations

from crawler.ops import explain as explain_module


def explain(crawled: Crawl, url: str, *extra: str) -> tuple[int, str]:
    done = run_mediawatch("explain", url, "--sources", str(crawled.sources), "--db",
                          str(crawled.db), *extra)
    assert not done.stderr.strip() or done.returncode == 2, done.stderr[-2000:]
    return done.returncode, done.stdout


def hazard(crawled: Crawl, name: str, outlet: str, part: str = "") -> str:
    return next(h.url for h in crawled.web.hazards()
                if h.name == name and h.outlet == outlet and part in h.url)


def steps(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["step"]: s for s in report["steps"]}


@pytest.mark.e2e
def test_a_stored_article_reached_through_a_tracking_link(crawled: Crawl) -> None:
    (article_id, clean), *_ = query(crawled.db, "select id, url from articles where source_id "
                                    "= 'armnews' and url like '%/en/news/%' order by url")
    url = clean + "?utm_source=rss&utm_medium=feed"
    rc, out = explain(crawled, url)
    assert rc == 0, out
    assert out.splitlines()[0] == f"{url}: stored"
    assert "tracking parameters removed: utm_medium=feed, utm_source=rss" in out
    assert f"its page: /article/{article_id}" in out
    report = json.loads(explain(crawled, url, "--json")[1])
    by_step = steps(report)
    assert report["stored"] is True and report["source"] == "armnews"
    assert report["crawled_as"] == clean
    assert [by_step[s]["ok"] for s in ("outlet", "pattern", "found", "fetched", "stored")] \
        == [True, True, True, True, True]
    assert [a["id"] for a in report["articles"]] == [article_id]
    assert report["fetches"] and report["url_state"]["kind"] == "article"


@pytest.mark.e2e
def test_an_old_url_that_redirects_finds_the_article_it_led_to(crawled: Crawl) -> None:
    old = hazard(crawled, "redirect-301", "tms")
    report = json.loads(explain(crawled, old, "--json")[1])
    assert report["stored"] is True, report["steps"]
    (stored_url,) = query(crawled.db, "select url from articles where id = ?",
                          (report["articles"][0]["id"],))[0]
    assert stored_url != old and report["fetches"][0]["final_url"] == stored_url


@pytest.mark.e2e
def test_the_seed_under_its_real_address_is_the_alias_of_an_outlet_and_stored(
        crawled: Crawl) -> None:
    # The fixture mirrors transcend.org (registry aliases): never fetched there, but the
    # article's canonical link names it, so it is found as stored.
    rc, out = explain(crawled, "https://www.transcend.org/tms/?p=294863")
    assert rc == 0, out
    assert "transcend.org is an alias of tms" in out
    assert "Putin and Pashinyan: A Tumultuous Alliance" in out


@pytest.mark.e2e
@pytest.mark.parametrize(("name", "outlet", "part", "step", "says"), [
    ("robots-disallowed", "armnews", "/en/news/", "fetched", "robots.txt disallows it"),
    ("server-error-500", "rusagency", "", "fetched", "HTTP 500, http_error"),
    ("feed-404", "armnews", "", "fetched", "HTTP 404, http_error"),
    ("non-article-matching-pattern", "exile", "", "extracted", "not one article"),
])
def test_a_planted_failure_says_where_it_stopped(crawled: Crawl, name: str, outlet: str,
                                                 part: str, step: str, says: str) -> None:
    url = hazard(crawled, name, outlet, part)
    rc, out = explain(crawled, url)
    assert rc == 1, out
    assert out.splitlines()[0] == f"{url}: not stored"
    failed = next(line for line in out.splitlines() if line.startswith(f"  NO  {step}"))
    assert says in failed, out
    assert "NO  stored   no article row" in out


@pytest.mark.e2e
def test_a_url_no_listing_named_and_a_host_no_outlet_owns(crawled: Crawl) -> None:
    base = crawled.web.base_urls["armnews"]
    rc, out = explain(crawled, base + "/en/news/9999/never-linked-anywhere/")
    assert rc == 1
    assert "ok  outlet   armnews" in out and "never found" in out, out
    rc, out = explain(crawled, "http://127.0.0.99/news/1")
    assert rc == 1
    assert "no outlet of" in out and "has the host 127.0.0.99" in out
    assert "sources discover" in out  # the fix


@pytest.mark.e2e
def test_a_feed_is_a_listing_not_a_missing_article(crawled: Crawl) -> None:
    (feed,) = query(crawled.db, "select url from url_state where kind = 'feed' and "
                    "source_id = 'armnews' limit 1")[0]
    report = json.loads(explain(crawled, feed, "--json")[1])
    by_step = steps(report)
    assert "a feed of armnews" in by_step["listing"]["detail"]
    assert by_step["pattern"]["ok"] is None and by_step["fetched"]["ok"] is True


@pytest.mark.e2e
def test_bad_input_is_a_usage_error(crawled: Crawl) -> None:
    rc, _ = explain(crawled, "not a url")
    assert rc == 2
    missing = run_mediawatch("explain", "http://127.0.0.7/x", "--sources",
                             str(crawled.sources), "--db", str(crawled.db) + ".missing")
    assert missing.returncode == 1 and "does not exist" in missing.stdout


@pytest.mark.unit
def test_every_lookup_is_an_index_search(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                         ) -> None:
    # An archive of millions of pages: each statement explain runs must search an index.
    db = sqlite_utils.Database(tmp_path / "archive.db")
    migrations.migrations.apply(db)
    db.conn.close()
    ran: list[str] = []
    connect = sqlite3.connect

    def traced(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn = connect(*args, **kwargs)
        conn.set_trace_callback(ran.append)
        return conn

    monkeypatch.setattr(explain_module.sqlite3, "connect", traced)
    report = explain_module.explain("http://127.0.0.1/a?utm_source=x", None, tmp_path /
                                    "archive.db")
    assert report["stored"] is False
    lookups = [sql for sql in ran if sql.lstrip().startswith("SELECT")
               and "sqlite_master" not in sql]
    assert len(lookups) == 3  # url_state, pages, articles
    plain = connect(tmp_path / "archive.db")
    for sql in lookups:
        plan = [row[-1] for row in plain.execute("EXPLAIN QUERY PLAN " + sql)]
        assert not [step for step in plan if step.startswith("SCAN ")
                    and "json_each" not in step], (sql, plan)
    plain.close()


@pytest.mark.e2e
def test_fetch_tries_one_page_now_through_the_crawl_stack(crawled: Crawl) -> None:
    web, base = crawled.web, crawled.web.base_urls["armnews"]
    (stored,) = query(crawled.db, "select url from articles where source_id = 'armnews' and "
                      "url like '%/en/news/%' order by url limit 1")[0]
    web.clear_requests()
    rc, out = explain(crawled, stored, "--fetch", "-s", "MEDIAWATCH_LOOPBACK_ONLY=1")
    assert rc == 0, out
    now = next(line for line in out.splitlines() if line.startswith("  ok  now"))
    assert "HTTP 200, robots.txt allowed" in now and " characters · ok" in now
    # That page (and robots.txt) only: no homepage, feed or section of the outlet.
    paths = {r.path for r in web.requests}
    assert paths <= {"/robots.txt", stored.split(base, 1)[1]}, paths
    assert stored.split(base, 1)[1] in paths
    # A page no listing named yet: tried now, and the outlet answers 404.
    web.clear_requests()
    rc, out = explain(crawled, base + "/en/news/9999/never-linked-anywhere/", "--fetch",
                      "-s", "MEDIAWATCH_LOOPBACK_ONLY=1", "--json")
    report = json.loads(out)
    assert rc == 1 and report["fetched_now"]["status"] == 404
    assert steps(report)["now"]["ok"] is False and "HTTP 404" in steps(report)["now"]["fix"]
    # robots.txt is obeyed: the refused seed is judged without being requested.
    web.clear_requests()
    refused = hazard(crawled, "robots-disallowed", "armnews", "/en/news/")
    rc, out = explain(crawled, refused, "--fetch", "-s", "MEDIAWATCH_LOOPBACK_ONLY=1")
    assert "robots.txt disallows this article" in out
    assert refused.split(base, 1)[1] not in {r.path for r in web.requests}
    # A host no outlet owns cannot be fetched "as a crawl would".
    done = run_mediawatch("explain", "http://127.0.0.99/x", "--fetch", "--sources",
                          str(crawled.sources), "--db", str(crawled.db))
    assert done.returncode == 2 and "--fetch needs the outlet" in done.stderr


@pytest.mark.e2e
def test_a_list_of_urls_is_a_coverage_check(crawled: Crawl, tmp_path: Path) -> None:
    (stored,) = query(crawled.db, "select url from articles where source_id = 'tms' "
                      "and url like '%?p=%' order by url limit 1")[0]
    gone = hazard(crawled, "feed-404", "armnews")
    listed = tmp_path / "urls.txt"
    listed.write_text(f"# articles a researcher expects\n{stored}&utm_source=x\n\n{gone}\n",
                      encoding="utf-8")
    rc, out = explain(crawled, "http://127.0.0.99/elsewhere", "--urls", str(listed))
    assert rc == 1
    lines = out.splitlines()
    assert lines[0].startswith("missing  http://127.0.0.99/elsewhere  outlet: no outlet of")
    (aid,) = query(crawled.db, "select id from articles where url = ?", (stored,))[0]
    assert lines[1] == f"stored   {stored}&utm_source=x  article {aid}"
    assert lines[2].startswith(f"missing  {gone}  fetched: ") and "HTTP 404" in lines[2]
    assert lines[3] == "1 of 3 stored"
    reports = json.loads(explain(crawled, stored, "--urls", str(listed), "--json")[1])
    assert [r["stored"] for r in reports] == [True, True, False]
    # every URL stored: exit 0
    assert explain(crawled, stored, stored + "#x")[0] == 0
    # --fetch with several outlets' URLs: one run, each URL's own row.
    rc, out = explain(crawled, stored, gone, "--fetch", "-s", "MEDIAWATCH_LOOPBACK_ONLY=1")
    first, second = out.splitlines()[:2]
    assert "| now: HTTP 200, robots.txt allowed" in first
    assert "| now: HTTP 404" in second
