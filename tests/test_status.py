"""`mediawatch status`, crawl progress lines, and `mediawatch canaries` (run now, rebaseline)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from helpers.miniweb import T0, MiniWeb, at, crawl_at, days

pytestmark = pytest.mark.e2e


def test_status_shows_each_outlet_its_run_due_health_and_alerts(tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    with MiniWeb("alpha", "gone") as web:
        web["gone"].feed_status = 410
        web["alpha"].add(T0 - days(0.5), 3)
        sources = web.write_sources(tmp_path / "sources.toml")
        crawled = crawl_at(T0, sources, db, "-s", "MEDIAWATCH_PROGRESS_SECONDS=0.000001")
        assert crawled.returncode == 0, crawled.stderr[-3000:]
        # Long crawls say how far they are.
        progress = [x for x in crawled.stderr.splitlines() if x.startswith("progress: ")]
        assert progress and "pages fetched" in progress[-1] and "queued" in progress[-1]
        assert "errors" in progress[-1]

        shown = at(T0 + days(0.5), "status", "--sources", str(sources), "--db", str(db))
        assert shown.returncode == 0, shown.stderr
        text = shown.stdout
        for expected in ("alpha", "gone", "#1 12h ago (finished)", "1 open", "feed_gone",
                         "HTTP 410", "http://127.0.0.1:8001/health/gone", "1 open alert(s)"):
            assert expected in text, (expected, text)
        assert "1 document" in text  # twelve hours later the feed is due again
        report = json.loads(at(T0, "status", "--sources", str(sources), "--db", str(db),
                               "--json").stdout)
        alpha = next(o for o in report["outlets"] if o["id"] == "alpha")
        assert alpha["due"] == "nothing" and alpha["next_due"] == "2026-03-02T06:15:00+00:00"
        assert alpha["health"]["articles_24h"] == 3 and alpha["open_alerts"] == 0
        assert [a["rule"] for a in report["alerts"]] == ["feed_gone"]
        # Without the registry, the archive alone still gives a summary.
        alone = at(T0, "status", "--sources", str(tmp_path / "missing.toml"), "--db", str(db))
        assert alone.returncode == 0 and "alpha" in alone.stdout
        # Piped (cron mail, a log), cells are not folded at 80 columns, whatever $COLUMNS says.
        piped = at(T0, "status", "--sources", str(sources), "--db", str(db),
                   env={"COLUMNS": "80"})
        assert piped.returncode == 0, piped.stderr
        assert "failed fetches" in piped.stdout and "…" not in piped.stdout, piped.stdout
        # The outlet whose feed is gone failed fetches: where their URLs are, and the command.
        assert "Failed fetches or gone pages at gone: the URLs are on /health/<outlet>" in \
            piped.stdout
        assert "mediawatch explain URL" in piped.stdout
        # its row says what failed: the feed is gone (410), which the share leaves out
        row = next(line for line in piped.stdout.splitlines() if line.startswith("│ gone"))
        assert "(gone 1)" in row, row


def test_canaries_run_now_and_rebaseline_clears_their_alert(tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    with MiniWeb("alpha") as web:
        web["alpha"].add(T0 - days(0.5), 2)
        sources = web.write_sources(tmp_path / "sources.toml", {"alpha": ["story-1"]})
        base = ("--sources", str(sources), "--db", str(db), "-s", "MEDIAWATCH_LOOPBACK_ONLY=1")
        first = at(T0, "canaries", *base)
        assert first.returncode == 0, first.stderr[-3000:]
        assert "as at baseline" in first.stdout
        assert web["alpha"].requests.count("/feed.xml") == 0  # canaries only: no discovery
        web["alpha"].layout = "v2"
        changed = at(T0 + days(0.1), "canaries", *base)
        assert "CHANGED: " in changed.stdout and "date missing" in changed.stdout
        conn = sqlite3.connect(db)
        assert conn.execute("select rule, cleared_at from alerts").fetchall() == [
            ("canary_changed", None)]
        # The redesign is known and accepted: the new shape is the baseline, the alert clears.
        accepted = at(T0 + days(0.2), "canaries", "--rebaseline", *base)
        assert "1 canaries re-baselined; 1 alert(s) cleared" in accepted.stdout
        assert conn.execute("select cleared_at from alerts").fetchall() == [
            ((T0 + days(0.2)).isoformat(),)]
        again = at(T0 + days(0.3), "canaries", *base)
        assert "as at baseline" in again.stdout
        assert conn.execute("select count(*) from alerts where cleared_at is null"
                            ).fetchone() == (0,)
        conn.close()


def test_a_crawl_of_live_outlets_warns_while_the_contact_is_the_placeholder(
        tmp_path: Path) -> None:
    """Only `sources check` said that the User-Agent named the project's placeholder contact;
    `crawl`, the command that contacts the outlets, said nothing. It warns now, once, before
    contacting outlets that are not on this machine (here with MEDIAWATCH_LOOPBACK_ONLY, so
    not one request leaves loopback); a crawl of loopback outlets (the demo, the tests) and a
    crawl with a contact do not."""
    import os
    import subprocess

    from conftest import MEDIAWATCH

    live = tmp_path / "live.toml"
    live.write_text('[topic]\nid = "am-ru"\nname = "Armenia–Russia"\n'
                    'require = [["Armenia*"], ["Russia*"]]\n\n[[source]]\nid = "far"\n'
                    'name = "Far"\nhomepage = "https://example.org/"\nlanguage = "en"\n'
                    'country = "AM"\nkind = "independent"\n'
                    'feeds = ["https://example.org/feed.xml"]\n', encoding="utf-8")
    bare = {k: v for k, v in os.environ.items() if k != "MEDIAWATCH_CONTACT"}

    def crawl(sources: Path, env: dict[str, str], *more: str
              ) -> subprocess.CompletedProcess[str]:
        return subprocess.run([MEDIAWATCH, "crawl", *more, "--sources", str(sources), "--db",
                               str(tmp_path / f"{sources.stem}.db"), "-s",
                               "MEDIAWATCH_LOOPBACK_ONLY=1"], capture_output=True, text=True,
                              env=env, timeout=300)

    warned = crawl(live, bare)
    assert warned.returncode == 0, warned.stderr[-2000:]
    assert warned.stderr.count("warning: the User-Agent names the placeholder contact") == 1
    outcomes = sqlite3.connect(tmp_path / "live.db").execute(
        "SELECT DISTINCT outcome FROM pages").fetchall()
    assert outcomes == [("dropped",)]  # not one request left loopback
    told = crawl(live, {**bare, "MEDIAWATCH_CONTACT": "mailto:desk@example.org"})
    assert told.returncode == 0 and "placeholder" not in told.stderr
    # `crawl --due` with nothing due contacts no one: no warning (every scheduled run said it)
    idle = crawl(live, bare, "--due")
    assert idle.returncode == 0 and "nothing is due" in idle.stdout, idle.stdout
    assert "placeholder" not in idle.stderr
    fresh = tmp_path / "fresh.toml"  # a new archive: everything is due, so it warns
    fresh.write_text(live.read_text(encoding="utf-8"), encoding="utf-8")
    due = crawl(fresh, bare, "--due")
    assert due.returncode == 0 and "due: far:" in due.stdout, due.stdout
    assert due.stderr.count("warning: the User-Agent names the placeholder contact") == 1
    with MiniWeb("alpha") as web:
        web["alpha"].add(T0, 1)
        local = crawl(web.write_sources(tmp_path / "local.toml"), bare)
    assert local.returncode == 0 and "placeholder" not in local.stderr, local.stderr[-2000:]


def test_a_crawl_log_leaves_out_scrapys_reports_at_the_default_level(tmp_path: Path) -> None:
    """A crawl every 15 minutes appended ~100 lines of Scrapy's start-up and stats reports to
    its cron log each time (versions, overridden settings, component lists, the stats dump,
    which crawl_runs.stats keeps). At the default level they are left out; DEBUG has them."""
    db = tmp_path / "archive.db"
    with MiniWeb("alpha") as web:
        web["alpha"].add(T0, 2)
        sources = web.write_sources(tmp_path / "sources.toml")
        quiet = crawl_at(T0, sources, db)
        loud = crawl_at(T0 + days(1), sources, db, "-s", "LOG_LEVEL=DEBUG")
    assert quiet.returncode == 0 and loud.returncode == 0, quiet.stderr[-2000:]
    reports = ("Overridden settings", "Enabled downloader middlewares", "Dumping Scrapy stats",
               "Scrapy 2.")
    assert not any(r in quiet.stderr for r in reports), quiet.stderr
    assert "Spider opened" in quiet.stderr and len(quiet.stderr.splitlines()) < 15, quiet.stderr
    assert all(r in loud.stderr for r in reports)
    stats = sqlite3.connect(db).execute("SELECT stats FROM crawl_runs ORDER BY id").fetchall()
    assert len(stats) == 2 and all('"finish_reason": "finished"' in s for (s,) in stats)
