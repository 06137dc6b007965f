"""The archive served by `mediawatch serve` over real HTTP: search, facets, canned queries."""

from __future__ import annotations

import json
import sqlite3
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import Crawl

from crawler.archive.fetch_rows import FETCH_FAILURES
from crawler.search.query import expand_query

pytestmark = pytest.mark.e2e

METADATA = Path(__file__).resolve().parents[1] / "datasette" / "metadata.yaml"


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as resp:
        return json.loads(resp.read())


def status_of(url: str, data: bytes | None = None) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=30) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        with exc:  # an HTTPError holds the response open
            return int(exc.code)


def test_full_text_search_finds_the_seed(datasette_url: str) -> None:
    data = get_json(f"{datasette_url}/archive/articles.json?_search=Pashinyan&_shape=objects"
                    "&_col=title&_col=source_id&_col=lang")
    titles = [r["title"] for r in data["rows"]]
    assert any(t.startswith("Putin and Pashinyan") for t in titles)


def test_search_works_in_russian_and_armenian(datasette_url: str) -> None:
    for term in ("Пашинян*", "Փաշինյան*"):
        q = urllib.parse.quote(term)
        data = get_json(f"{datasette_url}/archive/articles.json?_search={q}&_shape=objects"
                        "&_col=lang")
        assert data["rows"], term


def test_facets_are_offered(datasette_url: str) -> None:
    data = get_json(f"{datasette_url}/archive/articles.json?_size=1")
    facets = set(data["facet_results"])
    assert {"source_id", "lang", "source_kind", "on_topic", "published_month"} <= facets


def _expected_rows(db: Path, name: str) -> list[Any]:
    """What each canned query must answer on the crawled archive, computed directly in SQL."""
    conn = sqlite3.connect(db)
    try:
        if name == "latest_on_topic":
            rows = []
            for (sid,) in conn.execute("select id from sources order by id"):
                rows += [r[0] for r in conn.execute(
                    "select id from articles where source_id = ? and on_topic = 1 and "
                    "extraction_status = 'ok' order by published desc limit 5", [sid])]
            return rows
        if name in ("search_articles", "search_articles_literal"):
            literal = name == "search_articles_literal"
            return sorted(r[0] for r in conn.execute(
                "select a.id from articles_fts f join articles a on a.rowid = f.rowid "
                "where articles_fts match ?", [expand_query("Pashinyan", literal=literal)]))
        if name == "extraction_failures":
            return sorted(r[0] for r in conn.execute(
                "select id from pages where outcome in ('empty', 'not_article', "
                "'extraction_error')"))
        if name == "fetch_failures":
            return sorted(r[0] for r in conn.execute(
                "select url from pages where outcome in "
                f"({', '.join('?' * len(FETCH_FAILURES))})", FETCH_FAILURES))
        if name == "crawl_history":
            return [r[0] for r in conn.execute("select id from crawl_runs order by id desc")]
    finally:
        conn.close()
    raise AssertionError(f"canned query {name!r} has no expected answer in this test: add one")


def _answered(name: str, rows: list[dict[str, Any]]) -> list[Any]:
    if name == "latest_on_topic":
        return [r["id"] for r in rows]
    if name in ("search_articles", "search_articles_literal"):
        assert all("\u27e6" in (r["snippet"] or "") for r in rows), name  # highlighted hits
        return sorted(r["id"] for r in rows)
    if name == "extraction_failures":
        return sorted(r["page_id"] for r in rows)
    if name == "fetch_failures":
        return sorted(r["url"] for r in rows)
    return [r["id"] for r in rows]


@pytest.mark.parametrize("name", sorted(
    yaml.safe_load(METADATA.read_text())["databases"]["archive"]["queries"]))
def test_every_canned_query_answers_what_sql_says(datasette_url: str, crawled: Crawl,
                                                   name: str) -> None:
    url = f"{datasette_url}/archive/{name}.json?_shape=objects&q=Pashinyan&_size=max"
    data = get_json(url)
    assert data.get("ok", True) and not data.get("truncated"), data
    expected = _expected_rows(crawled.db, name)
    assert expected, f"the crawled archive gives {name} nothing to show"
    assert _answered(name, data["rows"]) == expected


def test_archive_is_read_only(datasette_url: str) -> None:
    sql = urllib.parse.quote("delete from articles")
    assert status_of(f"{datasette_url}/archive.json?sql={sql}") >= 400
    assert status_of(f"{datasette_url}/archive.db") in (403, 404)
    assert status_of(f"{datasette_url}/archive/articles", data=b"x=1") == 405
    assert status_of(f"{datasette_url}/archive/search_articles", data=b"q=x") == 405
    count = get_json(f"{datasette_url}/archive.json?sql=select+count(*)+as+n+from+articles"
                     "&_shape=array")
    assert count[0]["n"] > 0


def test_client_errors_are_one_log_line_not_a_traceback(crawled: Crawl, tmp_path: Path) -> None:
    """Datasette printed rich's traceback with local variables for every error page, 404s
    included (about a hundred lines per scanner probe of a public archive). A client error is
    now the access-log line alone; the error pages themselves are unchanged."""
    import subprocess

    from conftest import MEDIAWATCH
    from helpers.processes import free_port, wait_for_http

    port = free_port()
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([MEDIAWATCH, "serve", "--db", str(crawled.db), "--port",
                                 str(port)], stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(base + "/-/versions.json")
        assert status_of(base + "/wp-login.php") == 404
        assert status_of(base + "/archive/articles/no-such-id") == 404
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(base + "/archive/articles/no-such-id.json", timeout=30)
        with missing.value as answer:
            assert json.loads(answer.read()) == {"ok": False, "error": "Record not found",
                                                 "status": 404, "title": None}
        assert status_of(base + "/archive.json?sql=select+nonsense") == 400
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    text = log.read_text(errors="replace")
    assert '"GET /wp-login.php HTTP/1.1" 404' in text, text[-3000:]
    assert "Traceback" not in text and "locals" not in text, text[-3000:]
