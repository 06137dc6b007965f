"""Paywalled and teaser pages are articles that every count can include or leave out.

articles.access (open, paywalled, teaser) is one more shared search filter: /search, saved
searches and attention's counts (article_days) all read it the same way.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from helpers.pages import REGISTRY, page

from crawler.archive.core import Archive
from crawler.registry.model import parse_registry
from crawler.search.attention import attention, parse_request
from crawler.search.filters import FilterError, SearchFilters

pytestmark = pytest.mark.unit

URLS = [f"http://127.0.0.2:8000/news/{i}" for i in range(4)]


def _args(**values: str | list[str]) -> object:
    def getlist(name: str) -> list[str]:
        value = values.get(name, [])
        return [value] if isinstance(value, str) else list(value)
    return getlist


@pytest.fixture
def archive(tmp_path: Path) -> Archive:
    built = Archive(tmp_path / "a.db")
    built.sync_sources(parse_registry(REGISTRY))
    for i, url in enumerate(URLS):
        built.record(page(url, title=f"Armenia and Russia talk trade, part {i}",
                          when=f"2024-02-0{i + 2}T00:00:00+00:00"))
    # Two of the four turn out to be behind a wall (as a later extraction would record it).
    built.db.execute("UPDATE articles SET access = 'paywalled' WHERE url IN (?, ?)", URLS[:2])
    built.db.conn.commit()
    yield built
    built.close()


def test_access_parses_and_refuses_unknown_values() -> None:
    assert SearchFilters.from_args(_args(access=["paywalled", "teaser"])).access == \
        ("paywalled", "teaser")
    with pytest.raises(FilterError, match="open, paywalled, teaser"):
        SearchFilters.from_args(_args(access="free"))


def test_search_rows_and_attention_counts_follow_access(archive: Archive) -> None:
    conn = archive.db.conn
    for access, want in (((), 4), (("paywalled",), 2), (("open",), 2), (("teaser",), 0)):
        where, params = SearchFilters(access=access).row_sql("a")
        got = conn.execute(f"SELECT count(*) FROM articles a WHERE {where or '1'}",
                           params).fetchone()[0]
        assert got == want, access
        req = parse_request(_args(q="Armenia", interval="month", by="none",
                                  **{"from": "2024-02-01", "to": "2024-02-29"},
                                  access=list(access)))
        doc = attention(conn, req, date(2024, 3, 1))
        (point,) = doc["series"][0]["points"]
        # The denominator (all articles of the period) follows the filter as the matches do.
        assert (point["matches"], point["total"]) == (want, want), access
    # article_days follows an article whose access changes (a later, open fetch).
    conn.execute("UPDATE articles SET access = 'open'")
    conn.commit()
    assert conn.execute("SELECT count(*) FROM article_days WHERE access = 'open'").fetchone() == \
        (4,)
