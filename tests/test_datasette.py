"""The archive served by `mediawatch serve` over real HTTP: search, facets, canned queries."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

METADATA = Path(__file__).resolve().parents[1] / "datasette" / "metadata.yaml"


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as resp:
        return json.loads(resp.read())


def status_of(url: str, data: bytes | None = None) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=30) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
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


@pytest.mark.parametrize("name", sorted(
    yaml.safe_load(METADATA.read_text())["databases"]["archive"]["queries"]))
def test_every_canned_query_runs(datasette_url: str, name: str) -> None:
    url = f"{datasette_url}/archive/{name}.json?_shape=objects&q=Pashinyan"
    data = get_json(url)
    assert "rows" in data and data.get("ok", True)
    if name in ("latest_on_topic", "search_articles", "crawl_history", "fetch_failures"):
        assert data["rows"], name


def test_archive_is_read_only(datasette_url: str) -> None:
    sql = urllib.parse.quote("delete from articles")
    assert status_of(f"{datasette_url}/archive.json?sql={sql}") >= 400
    assert status_of(f"{datasette_url}/archive.db") in (403, 404)
    assert status_of(f"{datasette_url}/archive/articles", data=b"x=1") == 405
    assert status_of(f"{datasette_url}/archive/search_articles", data=b"q=x") == 405
    count = get_json(f"{datasette_url}/archive.json?sql=select+count(*)+as+n+from+articles"
                     "&_shape=array")
    assert count[0]["n"] > 0
