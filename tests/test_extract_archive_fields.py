"""The archive keeps what extraction decides about headlines, bylines and access:
articles.page_title, articles.authors, articles.access (migration 0007_article_fields)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils
from mediawatch_schema.migrations import migrations

from crawler.archive.core import MIGRATIONS_PATH, Archive
from crawler.items import FetchedPage
from crawler.registry.model import parse_registry
from extract import extract_article

pytestmark = pytest.mark.unit

REGISTRY = {
    "topic": {"id": "t", "name": "T", "require": [["Armenia*"]]},
    "source": [{"id": "paper", "name": "The Paper", "homepage": "http://127.0.0.2:8000/",
                "language": "en", "country": "AM", "kind": "independent"}],
}
WALL = "<div class='wall'>Subscribe to read the full article. Already a subscriber? Log in.</div>"


def html(body: str, wall: bool) -> bytes:
    return (
        "<html lang='en'><head><title>Armenia signs the deal | The Paper</title>"
        "<meta property='article:published_time' content='2025-05-12T09:00:00+04:00'>"
        "<script type='application/ld+json'>{\"@type\": \"NewsArticle\", \"author\": "
        "[{\"@type\": \"Person\", \"name\": \"Ann Writer\"}, {\"@type\": \"Person\", "
        "\"name\": \"Aram Petrosyan\"}]}</script></head>"
        f"<body><article><h1>Armenia signs the deal</h1>{body}{WALL if wall else ''}</article>"
        "</body></html>").encode()


OPEN_TEXT = "".join(f"<p>Paragraph {i} of the full report on the Armenian deal and its terms.</p>"
                    for i in range(30))
TEASER = "<p>Armenia signed the deal on Monday, officials in Yerevan said.</p>"


def fetch(body: bytes, when: str, url: str = "http://127.0.0.2:8000/2025/05/12/deal") -> FetchedPage:
    item = FetchedPage(source_id="paper", url=url, kind="article", discovered_via="seed",
                       fetched_at=when, final_url=url, status=200,
                       headers={"content-type": "text/html; charset=utf-8"}, body=body)
    item.extraction = extract_article(body, url, site_name="The Paper")
    return item


@pytest.fixture
def archive(tmp_path: Path):
    a = Archive(tmp_path / "archive.db")
    a.sync_sources(parse_registry(REGISTRY))
    yield a
    a.close()


def row(archive: Archive, aid: str) -> dict[str, object]:
    cur = archive.db.execute("SELECT * FROM articles WHERE id = ?", [aid])
    return dict(zip([d[0] for d in cur.description], cur.fetchone(), strict=True))


def test_a_paywalled_teaser_is_an_article_with_headline_byline_date(archive: Archive) -> None:
    aid = archive.record(fetch(html(TEASER, wall=True), "2025-05-12T10:00:00+00:00"))
    assert aid is not None
    stored = row(archive, aid)
    assert stored["extraction_status"] == "ok" and stored["access"] == "paywalled"
    assert stored["title"] == "Armenia signs the deal"
    assert stored["page_title"] == "Armenia signs the deal | The Paper"
    assert json.loads(str(stored["authors"])) == ["Ann Writer", "Aram Petrosyan"]
    assert stored["author"] == "Ann Writer, Aram Petrosyan"
    assert str(stored["published"]).startswith("2025-05-12")
    assert "signed the deal" in str(stored["text"]) and "Subscribe" not in str(stored["text"])
    counted = archive.db.execute(
        "SELECT count(*) FROM articles WHERE extraction_status = 'ok' AND access = 'paywalled'"
    ).fetchone()[0]
    assert counted == 1


def test_a_later_paywall_never_replaces_the_full_text(archive: Archive) -> None:
    aid = archive.record(fetch(html(OPEN_TEXT, wall=False), "2025-05-12T10:00:00+00:00"))
    assert aid is not None and row(archive, aid)["access"] == "open"
    again = archive.record(fetch(html(TEASER, wall=True), "2025-05-20T10:00:00+00:00"))
    assert again == aid
    stored = row(archive, aid)
    assert stored["access"] == "open" and "Paragraph 29" in str(stored["text"])
    assert stored["fetched_at"] == "2025-05-20T10:00:00+00:00"
    assert "paywalled" in str(stored["extraction_error"])


def test_migration_0007_on_an_archive_with_old_rows(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = sqlite_utils.Database(path)
    migrations.apply(db, stop_before="0007_article_fields")  # an archive from before 0007
    assert "access" not in db["articles"].columns_dict
    db.execute("INSERT INTO sources (id, name, homepage, language, country, kind) "
               "VALUES ('paper', 'P', 'http://x/', '[\"en\"]', 'AM', 'independent')")
    db.execute("INSERT INTO articles (id, source_id, url, text, extraction_status, fetched_at, "
               "first_seen_at) VALUES ('a1', 'paper', 'http://x/1', 'Old text.', 'ok', "
               "'2024-01-01', '2024-01-01')")
    db.conn.commit()
    db.conn.close()
    for _ in range(2):  # the second run has nothing to do
        subprocess.run([sys.executable, "-m", "sqlite_utils", "migrate", str(path),
                        str(MIGRATIONS_PATH)], check=True)
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT access, page_title, authors FROM articles").fetchone() == (
        "open", None, None)
    indexes = {r[1] for r in conn.execute("PRAGMA index_list(articles)")}
    assert "articles_access" in indexes
    conn.close()


def test_title_memory_passes_an_outlets_repeated_affixes_as_hints() -> None:
    from crawler.ingest.extraction import TitleMemory, extraction_hints

    registry = parse_registry(REGISTRY)
    memory = TitleMemory()
    page = fetch(html(OPEN_TEXT, wall=False), "2025-05-12T10:00:00+00:00")
    assert "title_affixes" not in extraction_hints(page, registry.get("paper"), memory)
    for i in range(4):
        body = (f"<html><head><title>Story {i} - Լուրեր Հայաստանից - Paper Daily</title></head>"
                f"<body><h1>Story {i}</h1><p>{'Text. ' * 50}</p></body></html>").encode()
        memory.remember("paper", extract_article(body, f"http://127.0.0.2:8000/{i}"))
    hints = extraction_hints(page, registry.get("paper"), memory)
    assert hints["site_name"] == "The Paper"
    assert hints["title_affixes"] == ["Paper Daily", "Լուրեր Հայաստանից"]
    body = (b"<html><head><title>Deal signed - \xd4\xbc\xd5\xb8\xd6\x82\xd6\x80\xd5\xa5\xd6\x80 "
            b"\xd5\x80\xd5\xa1\xd5\xb5\xd5\xa1\xd5\xbd\xd5\xbf\xd5\xa1\xd5\xb6\xd5\xab\xd6\x81 - "
            b"Paper Daily</title><meta charset='utf-8'></head><body><p>" + b"Text. " * 50
            + b"</p></body></html>")
    assert extract_article(body, "http://127.0.0.2:8000/x", **hints).title == "Deal signed"
    alone = extract_article(body, "http://127.0.0.2:8000/x").title  # one page cannot tell
    assert alone is not None and alone.endswith("Paper Daily")


def test_title_memory_relearns_every_tenth_page_also_once_full(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    import crawler.ingest.extraction as extraction

    calls: list[int] = []
    real = extraction.learn_affixes

    def counting(titles: Any) -> list[str]:
        calls.append(1)
        return real(titles)

    monkeypatch.setattr(extraction, "learn_affixes", counting)
    memory = extraction.TitleMemory(per_outlet=20)
    for i, suffix in enumerate(["Old Name"] * 100 + ["New Name"] * 100):
        memory.remember("paper", SimpleNamespace(  # type: ignore[arg-type]
            page_title=f"Story {i} | {suffix}", status="ok"))
        if i == 99:
            assert memory.affixes("paper") == ["Old Name"]
    assert memory.affixes("paper") == ["New Name"]  # the memory keeps the last 20 titles
    assert len(calls) == 9 + 200 // 10  # the first pages, then every tenth (not every page)
