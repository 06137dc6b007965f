"""/-/attention on the demo archive, checked against counts computed directly in SQL.

The demo archive is built as a user builds it (`mediawatch demo --no-serve`) and served by
`mediawatch serve` over real HTTP. Every point of /-/attention.json is compared with a
plain GROUP BY over `articles` and the FTS index (per query, period and outlet), including
the share's denominator and the periods without any article.
"""

from __future__ import annotations

import csv
import io
import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlencode

import pytest
from conftest import query, serve

from crawler.search.query import expand_query

pytestmark = pytest.mark.e2e

QUERIES = ("Artsakh", "Нагорный Карабах", "Pashinyan")


@pytest.fixture(scope="module")
def demo_db(demo_archive: Path) -> Path:
    """The demo archive, built with the real command (read only here)."""
    return demo_archive


@pytest.fixture(scope="module")
def demo_url(demo_db: Path) -> Iterator[str]:
    with serve(demo_db) as base:
        yield base


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=60) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        with exc:  # an HTTPError holds the response open
            return exc.code, exc.read().decode()


def attention_json(base: str, params: list[tuple[str, str]]) -> dict:
    status, body = get(f"{base}/-/attention.json?{urlencode(params)}")
    assert status == 200, body
    return json.loads(body)


def months(start: date, end: date) -> list[str]:
    out, d = [], start.replace(day=1)
    while d <= end:
        out.append(d.isoformat()[:7])
        d = (d + timedelta(days=32)).replace(day=1)
    return out


def sql_counts(db: Path, q: str | None, start: str, end: str, key: str = "source_id",
               period: str = "substr(a.published, 1, 7)", extra: str = "") -> dict:
    """{(key, period): n} straight from the archive: articles, or those matching q."""
    match = ("and a.rowid in (select rowid from articles_fts where articles_fts match ?)"
             if q else "")
    params = (start, (date.fromisoformat(end) + timedelta(days=1)).isoformat(),
              *([expand_query(q)] if q else []))
    column = key if key.startswith("'") else f"a.{key}"
    rows = query(db, f"select coalesce({column}, 'und'), {period}, count(*) from articles a "
                     f"where a.published >= ? and a.published < ? {extra} {match} "
                     "group by 1, 2", params)
    return {(k, p): n for k, p, n in rows}


def test_attention_json_matches_sql_per_query_period_and_outlet(demo_url: str,
                                                                demo_db: Path) -> None:
    start, end = "2023-01-01", "2025-06-30"
    params = [("q", q) for q in QUERIES] + [("from", start), ("to", end)]
    doc = attention_json(demo_url, params)
    assert [x["q"] for x in doc["queries"]] == list(QUERIES)
    assert doc["interval"] == "month" and doc["by"] == "outlet" and doc["date"] == "published"
    expected_periods = months(date(2023, 1, 1), date(2025, 6, 30))
    assert doc["periods"] == expected_periods
    totals = sql_counts(demo_db, None, start, end)
    outlets = {k for k, _ in totals}
    assert outlets and {s["key"] for s in doc["series"]} == outlets
    names = dict(query(demo_db, "select id, name from sources"))
    checked_zero_total = checked_match = 0
    for s in doc["series"]:
        q = QUERIES[s["query"]]
        assert s["label"] == names[s["key"]]  # display names, ids stay in keys
        assert [p["period"] for p in s["points"]] == expected_periods  # every month, zeros too
        matches = sql_counts(demo_db, q, start, end)
        for p in s["points"]:
            total = totals.get((s["key"], p["period"]), 0)
            n = matches.get((s["key"], p["period"]), 0)
            assert (p["matches"], p["total"]) == (n, total), (q, s["key"], p)
            assert p["share"] == pytest.approx(n / total if total else 0.0, abs=1e-6)
            checked_zero_total += total == 0
            checked_match += n > 0
    assert checked_zero_total > 50 and checked_match >= 3  # empty periods and real hits


def test_attention_by_language_week_and_filters_match_sql(demo_url: str, demo_db: Path) -> None:
    start, end = "2024-01-01", "2025-06-30"
    doc = attention_json(demo_url, [("q", "Pashinyan"), ("by", "language"),
                                    ("interval", "week"), ("from", start), ("to", end)])
    monday = "date(substr(a.published, 1, 10), 'weekday 0', '-6 days')"
    totals = sql_counts(demo_db, None, start, end, key="lang", period=monday)
    matches = sql_counts(demo_db, "Pashinyan", start, end, key="lang", period=monday)
    assert {s["key"] for s in doc["series"]} == {k for k, _ in totals}
    first = date(2024, 1, 1)  # a Monday
    assert doc["periods"][0] == first.isoformat() and len(doc["periods"]) == 79
    for s in doc["series"]:
        for p in s["points"]:
            assert date.fromisoformat(p["period"]).weekday() == 0
            assert p["total"] == totals.get((s["key"], p["period"]), 0)
            assert p["matches"] == matches.get((s["key"], p["period"]), 0)
    # Outlet, language, topic and copies filters restrict both the matches and the denominator.
    doc = attention_json(demo_url, [("q", "Pashinyan"), ("by", "none"), ("from", start),
                                    ("to", end), ("lang", "ru"), ("lang", "en"),
                                    ("on_topic", "1"), ("independent", "1")])
    extra = ("and a.lang in ('ru', 'en') and a.on_topic = 1 and a.republication_of is null "
             "and not exists (select 1 from story_articles sa where sa.article_id = a.id "
             "and sa.role in ('republication', 'translation'))")
    totals = sql_counts(demo_db, None, start, end, key="'all'", extra=extra)
    matches = sql_counts(demo_db, "Pashinyan", start, end, key="'all'", extra=extra)
    [series] = doc["series"]
    assert series["key"] == "all"
    assert {p["period"]: (p["matches"], p["total"]) for p in series["points"] if p["total"]} == {
        p: (matches.get(("all", p), 0), n) for (_, p), n in totals.items()}
    copies = query(demo_db, "select count(*) from articles a where a.published >= ? and "
                            "(a.republication_of is not null or exists (select 1 from "
                            "story_articles sa where sa.article_id = a.id and sa.role in "
                            "('republication', 'translation')))", (start,))[0][0]
    assert copies >= 1  # the switch has something to leave out in this range


def test_attention_csv_is_the_json_flat(demo_url: str) -> None:
    params = [("q", "Artsakh"), ("q", "CSTO"), ("by", "language"), ("from", "2024-01-01"),
              ("to", "2024-12-31")]
    doc = attention_json(demo_url, params)
    status, body = get(f"{demo_url}/-/attention.csv?{urlencode(params)}")
    assert status == 200
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0] == ["query", "key", "period", "matches", "total", "share"]
    flat = [[doc["queries"][s["query"]]["q"], s["key"], p["period"], str(p["matches"]),
             str(p["total"]), str(p["share"])] for s in doc["series"] for p in s["points"]]
    assert rows[1:] == flat and len(flat) == 2 * 12 * len({s["key"] for s in doc["series"]})


@pytest.mark.parametrize("params, message", [
    ([("q", q) for q in "abcde"], "at most 4"),
    ([("q", "a"), ("from", "2024-13-01")], "not a calendar date"),
    ([("q", "a"), ("to", "yesterday")], "YYYY-MM-DD"),
    ([("q", "a"), ("from", "2025-01-01"), ("to", "2024-01-01")], "after"),
    ([("q", "a"), ("interval", "hour")], "interval"),
    ([("q", "a"), ("by", "author")], "by="),
    ([("q", "a"), ("interval", "day"), ("from", "2000-01-01"), ("to", "2025-01-01")],
     "coarser interval"),
    ([], "at least one query"),
])
def test_bad_requests_get_a_clear_400(demo_url: str, params: list, message: str) -> None:
    for fmt in (".json", ".csv", ""):
        status, body = get(f"{demo_url}/-/attention{fmt}?{urlencode(params)}")
        if fmt == "" and not params:
            assert status == 200 and "Type one to four queries" in body  # the empty form
            continue
        assert status == 400, (fmt, params)
        assert message in body, body[:500]


def test_every_point_links_to_a_search_with_that_many_hits(demo_url: str) -> None:
    params = [("q", "Pashinyan"), ("q", "Artsakh"), ("from", "2023-01-01"),
              ("to", "2025-06-30"), ("on_topic", "1")]
    doc = attention_json(demo_url, params)
    status, html = get(f"{demo_url}/-/attention?{urlencode(params)}")
    assert status == 200
    links = re.findall(r'<a class="mw-point" href="([^"]+)">', html)
    keys = list(dict.fromkeys(s["key"] for s in doc["series"]))  # one chart per key
    points = [p for k in keys for s in doc["series"] if s["key"] == k
              for p in s["points"] if p["matches"]]
    assert len(links) == len(points) >= 4
    for href, point in zip(links, points, strict=True):
        href = href.replace("&amp;", "&")
        assert "on_topic=1" in href and "source=" in href and "from=" in href
        status, page = get(demo_url + href)
        found = re.search(r'<p class="mw-total"><strong>(\d+)</strong>', page)
        assert found and int(found.group(1)) == point["matches"], href


def test_article_days_follow_every_write(demo_db: Path, tmp_path: Path) -> None:
    """The triggers keep article_days equal to its backfill query through inserts, updates
    and deletes of articles and story memberships."""
    import shutil
    import sqlite3

    from mediawatch_schema.migrations import article_days_sql

    db = tmp_path / "archive.db"
    shutil.copy(demo_db, db)
    conn = sqlite3.connect(db)
    recompute = article_days_sql().replace("INSERT INTO article_days", "INSERT INTO fresh")

    def same() -> int:
        conn.execute("DROP TABLE IF EXISTS temp.fresh")
        conn.execute("CREATE TEMP TABLE fresh AS SELECT * FROM article_days WHERE 0")
        conn.execute(recompute)
        rows = "SELECT article_rowid, day, source_id, lang, on_topic, independent FROM {}"
        ours = set(conn.execute(rows.format("article_days")))
        assert ours == set(conn.execute(rows.format("temp.fresh")))
        return len(ours)

    assert same() == conn.execute("SELECT count(*) FROM articles").fetchone()[0] > 20
    assert conn.execute("SELECT count(*) FROM article_days WHERE independent = 0").fetchone()[0]
    with conn:  # an edit of the counted columns, a copy that becomes a story's original, ...
        conn.execute("UPDATE articles SET published = NULL, lang = 'xx' WHERE rowid = 3")
        conn.execute("UPDATE articles SET on_topic = 0, published = '2024-02-30T10:00' "
                     "WHERE rowid = 5")
        conn.execute("UPDATE story_articles SET role = 'original' WHERE role = 'republication'")
        conn.execute("UPDATE articles SET republication_of = NULL")
    same()
    with conn:  # ... a new translation, a story dissolved, an article removed
        aid = conn.execute("SELECT id FROM articles WHERE rowid = 7").fetchone()[0]
        conn.execute("DELETE FROM story_articles WHERE article_id = ?", (aid,))
        conn.execute("INSERT INTO story_articles (story_id, article_id, role) SELECT "
                     "story_id, ?, 'translation' FROM story_articles LIMIT 1", (aid,))
        conn.execute("DELETE FROM story_articles WHERE article_id IN (SELECT id FROM articles "
                     "WHERE rowid IN (8, 9))")
        conn.execute("DELETE FROM article_dates WHERE article_id IN (SELECT id FROM articles "
                     "WHERE rowid = 11)")
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute("DELETE FROM articles WHERE rowid = 11")
    assert same() == conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    assert conn.execute("SELECT independent FROM article_days d JOIN articles a ON "
                        "a.rowid = d.article_rowid WHERE a.id = ?", (aid,)).fetchone() == (0,)
    conn.close()


def test_distinctive_terms_in_parallel_threads(demo_db: Path) -> None:
    """Datasette computes pages on a thread pool; the page fetches every query's terms at
    once. The shared Snowball stemmers must not be used by two threads at a time (it raised
    IndexError inside snowballstemmer on the demo before the lock)."""
    import sqlite3
    from concurrent.futures import ThreadPoolExecutor

    from crawler.search.attention import parse_request, resolve_range
    from crawler.search.attention_terms import distinctive_terms, languages_of_matches

    def terms(q: str) -> list[dict]:
        conn = sqlite3.connect(demo_db, check_same_thread=False)
        args = {"q": [q], "from": ["2020-01-01"], "to": ["2025-12-31"]}
        req = resolve_range(conn, parse_request(lambda k: args.get(k, [])), date(2026, 1, 1))
        fts = req.filters.fts(req.expanded()[0])
        out = [distinctive_terms(conn, fts, req.filters, lang)
               for lang, _ in languages_of_matches(conn, fts, req.filters)]
        conn.close()
        return out

    queries = ["Pashinyan", "CSTO", "Armenia", "Russia", "Putin", "Artsakh"] * 4
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(terms, queries))
    english = [g for g in results[queries.index("Armenia")] if g["lang"] == "en"][0]
    assert english["matches_sampled"] >= 3 and english["terms"]
    assert all(t["z"] > 0 and t["matches"] > 0 for t in english["terms"])
    assert results[:6] == results[6:12]  # deterministic samples: the same terms every time


def test_queries_that_search_the_same_thing_are_said_to(demo_url: str) -> None:
    # The docs' first example compared "Artsakh" with "Нагорный Карабах": both expand to every
    # spelling of the region, so the page drew one line twice and said nothing.
    same = [("q", "Artsakh"), ("q", "Нагорный Карабах"), ("q", "Pashinyan")]
    assert expand_query("Artsakh") == expand_query("Нагорный Карабах")
    doc = attention_json(demo_url, same)
    lines = {}
    for s in doc["series"]:
        lines.setdefault(s["key"], {})[s["query"]] = [p["matches"] for p in s["points"]]
    assert lines and all(per[0] == per[1] for per in lines.values())  # query 0 and query 1
    status, html = get(f"{demo_url}/-/attention?{urlencode(same)}")
    assert status == 200
    notes = re.findall(r'<p class="mw-note mw-same"[^>]*>(.*?)</p>', html, re.S)
    assert len(notes) == 1
    assert "<q>Artsakh</q> and <q>Нагорный Карабах</q> search the same thing" in notes[0]
    assert "<q>Pashinyan</q>" not in notes[0]
    literal = re.search(r'<a href="\?([^"]+)">search literally</a>', notes[0])
    assert literal and "literal=1" in literal.group(1)
    status, as_written = get(f"{demo_url}/-/attention?{literal.group(1).replace('&amp;', '&')}")
    assert status == 200 and "mw-same" not in as_written
    # queries that differ get no note
    status, html = get(f"{demo_url}/-/attention?{urlencode([('q', 'CSTO'), ('q', 'ЕАЭС')])}")
    assert status == 200 and "mw-same" not in html
