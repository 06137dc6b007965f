"""Saved searches: `mediawatch watch`, notifications after each crawl, the Atom feed.

Crawls are real `mediawatch crawl` runs of loopback outlets on a fixed clock; the webhook
and SMTP receivers are loopback servers (tests/test_schedule_web.py); feeds are fetched
from `mediawatch serve` and parsed with feedparser.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import urllib.request
from pathlib import Path
from typing import Any

import feedparser
import pytest
from conftest import Crawl, query, run_mediawatch, serve
from helpers.miniweb import T0, MiniWeb, SmtpSink, Webhook, at, crawl_at, days

from crawler.archive.watches import Watch, WatchError

pytestmark = pytest.mark.e2e


def _ok(result: Any) -> None:
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    assert "Traceback" not in result.stderr


def _watch_events(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    events = [json.loads(line) for line in path.read_text().splitlines()]
    return [e for e in events if e["event"] == "watch_match"]


@pytest.fixture
def receivers() -> Any:
    hook, smtp = Webhook(), SmtpSink()
    try:
        yield hook, smtp
    finally:
        hook.close()
        smtp.close()


def test_new_matches_are_notified_once_through_every_channel(
        tmp_path: Path, receivers: tuple[Webhook, SmtpSink]) -> None:
    hook, smtp = receivers
    jsonl, db = tmp_path / "alerts.jsonl", tmp_path / "archive.db"
    with MiniWeb("alpha", "beta") as web:
        alerts = (f'webhook = "{hook.url}"\nsmtp_host = "127.0.0.1"\nsmtp_port = {smtp.port}\n'
                  'email_to = ["desk@example.org"]\nemail_from = "mw@example.org"\n'
                  'link_base = "https://archive.example.org"\n')
        sources = web.write_sources(tmp_path / "sources.toml", alerts=alerts)
        web["alpha"].add(T0 - days(0.5), 2)
        web["beta"].add(T0 - days(0.5), 2)
        _ok(crawl_at(T0, sources, db, "--alerts-jsonl", str(jsonl)))
        before = {r[0] for r in query(db, "select id from articles")}
        assert len(before) == 4
        _ok(run_mediawatch("watch", "add", "reports", "Armenia Russia", "--db", str(db)))
        _ok(run_mediawatch("watch", "add", "beta-only", "report", "--source", "beta",
                           "--db", str(db)))
        _ok(run_mediawatch("watch", "add", "never", "Zanzibar", "--db", str(db)))
        # A crawl with nothing new notifies nothing, whatever the feed already had.
        _ok(crawl_at(T0 + days(0.5), sources, db, "--alerts-jsonl", str(jsonl)))
        assert _watch_events(jsonl) == []

        web["alpha"].add(T0 + days(1) - days(0.5), 3)
        web["beta"].add(T0 + days(1) - days(0.5), 1)
        _ok(crawl_at(T0 + days(1), sources, db, "--alerts-jsonl", str(jsonl)))
        new = {r[0]: r[1] for r in query(db, "select id, source_id from articles")
               if r[0] not in before}
        assert len(new) == 4
        events = {e["watch"]: e for e in _watch_events(jsonl)}
        assert set(events) == {"reports", "beta-only"}  # one event per search with matches
        assert {a["id"] for a in events["reports"]["articles"]} == set(new)
        assert events["reports"]["count"] == 4
        assert [a["source_id"] for a in events["beta-only"]["articles"]] == ["beta"]
        article = events["beta-only"]["articles"][0]
        assert article["link"] == f"https://archive.example.org/article/{article['id']}"
        assert article["url"].startswith("http://127.0.0.1:") and "Beta report" in article["title"]
        assert events["reports"]["link"] == "https://archive.example.org/-/watch/reports.atom"

        # Nothing new again, then a crawl that re-fetches known articles: no second notice.
        _ok(crawl_at(T0 + days(1.5), sources, db, "--alerts-jsonl", str(jsonl)))
        _ok(at(T0 + days(2), "crawl", "--recheck", "--sources", str(sources), "--db", str(db),
               "-s", "MEDIAWATCH_LOOPBACK_ONLY=1", "--alerts-jsonl", str(jsonl)))
        assert query(db, "select articles_unchanged + not_modified from crawl_runs "
                         "order by id desc limit 1")[0][0] >= 8
        assert len(_watch_events(jsonl)) == 2

    # The same two events reached the webhook, and one e-mail digest carried both.
    webhook = [e for e in hook.events if e["event"] == "watch_match"]
    assert sorted(e["watch"] for e in webhook) == ["beta-only", "reports"]
    assert all(e["text"].startswith("WATCH ") for e in webhook)
    mails = [m for m in smtp.messages if "saved search" in m["data"]]
    assert len(mails) == 1
    assert "5 new article(s) for 2 saved search(es)" in mails[0]["data"]
    assert "WATCH reports: 4 new article(s)" in mails[0]["data"]
    hits = query(db, "select watch, article_id, delivered from watch_hits order by watch")
    assert len(hits) == 5 and {h[1] for h in hits} <= set(new)
    assert {h[2] for h in hits} == {json.dumps(["email", "jsonl", "log", "webhook"])}
    listing = run_mediawatch("watch", "list", "--json", "--db", str(db))
    _ok(listing)
    notified = {json.loads(line)["name"]: json.loads(line)["notified"]
                for line in listing.stdout.splitlines()}
    assert notified == {"beta-only": 1, "never": 0, "reports": 4}


def test_watch_commands_check_their_input(tmp_path: Path, crawled: Crawl) -> None:
    db = tmp_path / "archive.db"
    shutil.copy(crawled.db, db)
    bad = run_mediawatch("watch", "add", "no/slash", "Artsakh", "--db", str(db))
    assert bad.returncode != 0 and "letters, digits" in bad.stderr
    bad = run_mediawatch("watch", "add", "x", "Artsakh", "--source", "nosuch", "--db", str(db))
    assert bad.returncode != 0 and "unknown outlet(s) nosuch" in bad.stderr
    bad = run_mediawatch("watch", "add", "x", "   ", "--db", str(db))
    assert bad.returncode != 0 and "empty" in bad.stderr
    _ok(run_mediawatch("watch", "add", "x", "Artsakh", "--db", str(db)))
    again = run_mediawatch("watch", "add", "x", "CSTO", "--db", str(db))
    assert again.returncode != 0 and "--replace" in again.stderr
    _ok(run_mediawatch("watch", "add", "x", "CSTO", "--replace", "--lang", "ru", "--db", str(db)))
    assert query(db, "select query, langs from watches") == [("CSTO", '["ru"]')]
    _ok(run_mediawatch("watch", "remove", "x", "--db", str(db)))
    gone = run_mediawatch("watch", "remove", "x", "--db", str(db))
    assert gone.returncode != 0 and "no saved search" in gone.stderr
    assert query(db, "select count(*) from watches") == [(0,)]
    with pytest.raises(WatchError):
        Watch("", "q")


def test_atom_feed_is_valid_escaped_and_links_archive_and_original(
        tmp_path: Path, crawled: Crawl) -> None:
    db = tmp_path / "archive.db"
    shutil.copy(crawled.db, db)
    conn = sqlite3.connect(db)
    with conn:  # scraped values as hostile as they come, and a character XML forbids
        conn.execute("update articles set author = ?, title = title || ? where url like ?",
                     ("<b onmouseover=\"x()\">Mallory</b> ]]> &amp;", " \x0b<i>end</i>",
                      "%/en/news/1320/%"))
    conn.close()
    _ok(run_mediawatch("watch", "add", "probe", "hostile OR probe OR Artsakh", "--db", str(db)))
    _ok(run_mediawatch("watch", "add", "ru-karabakh", "Нагорный Карабах", "--lang", "ru",
                       "--db", str(db)))
    with serve(db) as base:
        with urllib.request.urlopen(f"{base}/-/watch/probe.atom", timeout=30) as r:
            assert r.headers["content-type"].startswith("application/atom+xml")
            raw = r.read()
        with urllib.request.urlopen(f"{base}/-/watch/ru-karabakh.atom", timeout=30) as r:
            ru = feedparser.parse(r.read())
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"{base}/-/watch/nosuch.atom")
        assert missing.value.code == 404
        missing.value.close()  # an HTTPError holds the response open
        with urllib.request.urlopen(f"{base}/-/watch") as resp:
            index = resp.read().decode()
    assert index.count('class="mw-feed"') == 2
    feed = feedparser.parse(raw)
    assert not feed.bozo, feed.bozo_exception
    assert feed.version == "atom10" and feed.feed.title == "mediawatch: hostile OR probe OR Artsakh"
    assert b"<script>" not in raw and b"<b onmouseover" not in raw and b"\x0b" not in raw
    probe = [e for e in feed.entries if "__mwxss" in e.title]
    assert len(probe) == 1
    assert "<script>window.__mwxss='title'</script>" in probe[0].title  # text, unharmed
    assert probe[0].title.endswith("<i>end</i>")
    assert probe[0].author == "<b onmouseover=\"x()\">Mallory</b> ]]> &amp;"
    ids = dict(query(db, "select url, id from articles"))
    names = dict(query(db, "select id, name from sources"))
    for entry in feed.entries:
        links = {link["rel"]: link["href"] for link in entry.links}
        assert links["alternate"] == f"{base}/article/{ids[links['related']]}"
        assert entry.tags[0]["label"] == names[entry.tags[0]["term"]]  # the outlet, by name
        assert entry.summary.startswith(entry.tags[0]["label"] + " · ")
        assert entry.updated_parsed and entry.id == links["alternate"]
    dated = [e for e in feed.entries if "published_parsed" in e]
    assert dated and len(feed.entries) == len(dated)
    assert ru.entries and all("· ru ·" in e.summary for e in ru.entries)
    expected = query(db, "select count(*) from articles a where a.lang = 'ru' and a.rowid in "
                         "(select rowid from articles_fts where articles_fts match ?)",
                     ("search_meta : mwlang7275 AND (карабах* OR арцах*)",))[0][0]
    assert len(ru.entries) == expected
