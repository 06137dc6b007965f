"""Health rows per crawl run, and the Datasette health pages (charts, escaping, queries)."""

from __future__ import annotations

import json
import sqlite3
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import serve
from helpers.miniweb import T0, MiniWeb, crawl_at, days

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two days of crawls: 'alpha' healthy with a canary, 'gone' with a feed that is 404."""
    work = tmp_path_factory.mktemp("health")
    db = work / "archive.db"
    with MiniWeb("alpha", "gone") as web:
        web["gone"].feed_status = 404
        web["alpha"].add(T0 - days(2), 4)
        sources = web.write_sources(work / "sources.toml", {"alpha": ["story-1"]})
        for day in (0, 1):
            web["alpha"].add(T0 + days(day) - days(0.1), 2)
            result = crawl_at(T0 + days(day), sources, db)
            assert result.returncode == 0, result.stderr[-3000:]
    conn = sqlite3.connect(db)
    with conn:  # a hostile reason, as a scraped canary title could make one
        conn.execute("update alerts set reason = reason || ' <script>alert(1)</script>' "
                     "where rule = 'feed_gone'")
    conn.close()
    return db


def test_each_run_stores_a_health_row_per_outlet(archive: Path) -> None:
    conn = sqlite3.connect(archive)
    conn.row_factory = sqlite3.Row
    rows = {(r["run_id"], r["source_id"]): dict(r) for r in conn.execute("select * from health")}
    conn.close()
    assert set(rows) == {(1, "alpha"), (1, "gone"), (2, "alpha"), (2, "gone")}
    first, second = rows[(1, "alpha")], rows[(2, "alpha")]
    assert first["articles_24h"] == 6 and first["baseline_per_day"] is None  # too new to judge
    assert second["articles_24h"] == 2 and second["baseline_per_day"] == 6.0
    assert second["hours_since_new"] == 0 and second["fetches"] >= 3
    assert second["failure_share"] == 0 and second["no_date_share"] == 0
    assert second["short_text_share"] == 0
    assert second["feed_items"] == 8 and second["feed_items_orphaned"] == 0
    assert second["status"] == "ok"
    gone = rows[(2, "gone")]
    assert gone["gone_404"] >= 1 and gone["articles_24h"] == 0 and gone["status"] == "alert"
    assert gone["open_alerts"] == 1


def test_the_usual_short_text_share_reads_runs_a_day_old_or_more(archive: Path) -> None:
    from crawler.ops.health import usual_short_share

    conn = sqlite3.connect(archive)
    try:
        # Runs at T0 and T0 + 1 day. Within a day a run sees the same 24 hours of articles.
        assert usual_short_share(conn, "alpha", T0 + days(0.9), 1, min_runs=1) is None
        assert usual_short_share(conn, "alpha", T0 + days(1.5), 1, min_runs=1) == 0.0
        assert usual_short_share(conn, "alpha", T0 + days(1.5), 1) is None  # one run: no baseline
        assert usual_short_share(conn, "alpha", T0 + days(2), 1) == 0.0
        assert usual_short_share(conn, "alpha", T0 + days(2), 7) is None  # too few articles
    finally:
        conn.close()


@pytest.fixture(scope="module")
def served(archive: Path) -> Iterator[str]:
    with serve(archive) as base:
        yield base


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read().decode()


def test_health_page_charts_every_outlet_and_escapes(served: str) -> None:
    page = _get(served + "/health")
    assert page.count('<svg class="mw-chart"') == 2
    assert 'id="outlet-alpha"' in page and 'id="outlet-gone"' in page
    assert "Open alerts (1)" in page and "feed_gone" in page
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<rect" in page and "<polyline" in page  # bars, and the baseline line


def test_outlet_health_page_shows_canaries_runs_and_alerts(served: str) -> None:
    alpha = _get(served + "/health/alpha")
    assert "/news/story-1" in alpha and "as at baseline" in alpha
    assert alpha.count("<tr><td>") >= 2  # a row per run
    gone = _get(served + "/health/gone")
    assert "feed_gone" in gone and "open" in gone and "<script>alert" not in gone
    # The URLs behind the counts: the feed that answers 404, with the command that explains.
    failed = gone.split('id="mw-failed"', 1)[1].split("</table>", 1)[0]
    assert "/feed.xml</td><td>404</td><td>http_error</td>" in failed
    assert "mediawatch explain URL" in gone
    assert '<table class="rows-and-columns" id="mw-failed">' not in alpha  # nothing failed
    with pytest.raises(urllib.error.HTTPError) as err:
        _get(served + "/health/nobody")
    err.value.close()  # an HTTPError holds the response open


def test_canned_queries_export_alerts_and_health(served: str) -> None:
    alerts = json.loads(_get(served + "/archive/open_alerts.json?_shape=array"))
    assert [(a["source_id"], a["rule"]) for a in alerts] == [("gone", "feed_gone")]
    latest = json.loads(_get(served + "/archive/health_latest.json?_shape=array"))
    assert {r["source_id"]: r["run_id"] for r in latest} == {"alpha": 2, "gone": 2}
