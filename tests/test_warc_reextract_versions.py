"""`reextract --stale` and `--since-version N`: which rows are redone, by extractor version.

--stale: every article whose extractor_version is not exactly the current stamp (or NULL).
--since-version N: extraction output changed in extractor version N, so every article
extracted by an older extractor number (or with no readable version) is redone; rows of
N or later, whatever their trafilatura, are kept.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from conftest import query, run_mediawatch

from crawler.archive.core import Archive
from crawler.ingest.extraction import extract_page
from crawler.ingest.reextract import extractor_number
from crawler.items import FetchedPage
from crawler.registry.model import load_registry
from crawler.registry.topic import TopicMatcher
from extract import EXTRACTOR_VERSION

pytestmark = pytest.mark.e2e

PAGES = Path(__file__).parent / "pages"
CASES = ["hy-tert-3721571", "hy-tert-3723791", "hy-tert-3724023", "hy-a1plus-378866",
         "hy-newsam-615163"]
REGISTRY = '''[topic]
id = "t"
name = "T"
require = [["Armenia*"]]

[[source]]
id = "tert"
name = "Tert"
homepage = "https://www.tert.am/"
language = "hy"
country = "AM"
kind = "independent"
'''
OLD = "mediawatch-extract 0 / trafilatura 1.6.0"
OTHER_TRAFILATURA = f"mediawatch-extract {extractor_number(EXTRACTOR_VERSION)} / trafilatura 0.1"
NEWER = f"mediawatch-extract {extractor_number(EXTRACTOR_VERSION) + 5} / trafilatura 9"
VERSIONS = [OLD, OTHER_TRAFILATURA, EXTRACTOR_VERSION, None, NEWER]


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    (tmp_path / "sources.toml").write_text(REGISTRY)
    registry = load_registry(tmp_path / "sources.toml")
    db = tmp_path / "archive.db"
    store = Archive(db)
    store.sync_sources(registry)
    matcher = TopicMatcher(registry.topic)
    for i, case in enumerate(CASES):
        page = FetchedPage(source_id="tert", url=f"https://www.tert.am/am/news/{i}",
                           kind="article", discovered_via="seed",
                           fetched_at="2021-11-20T00:00:00+00:00",
                           final_url=f"https://www.tert.am/am/news/{i}", status=200,
                           headers={"content-type": "text/html"},
                           body=(PAGES / case / "input.html").read_bytes())
        store.record(extract_page(page, registry.get("tert"), matcher))
    store.close()
    conn = sqlite3.connect(db)
    with conn:
        for i, version in enumerate(VERSIONS):
            conn.execute("UPDATE articles SET extractor_version = ? WHERE url = ?",
                         [version, f"https://www.tert.am/am/news/{i}"])
    conn.close()
    return db


def versions(db: Path) -> list[str | None]:
    rows = dict(query(db, "SELECT url, extractor_version FROM articles"))
    return [rows[f"https://www.tert.am/am/news/{i}"] for i in range(len(CASES))]


def test_stale_redoes_every_row_not_of_the_current_version(archive: Path) -> None:
    done = run_mediawatch("reextract", "--stale", "--db", str(archive), "--sources",
                          str(archive.parent / "sources.toml"), "--jobs", "2")
    assert done.returncode == 0, done.stderr
    assert "re-extracted 4 articles" in done.stdout
    assert versions(archive) == [EXTRACTOR_VERSION] * len(CASES)


def test_since_version_redoes_only_older_extractor_numbers(archive: Path) -> None:
    current = str(extractor_number(EXTRACTOR_VERSION))
    done = run_mediawatch("reextract", "--since-version", current, "--db", str(archive),
                          "--sources", str(archive.parent / "sources.toml"), "--jobs", "1")
    assert done.returncode == 0, done.stderr
    assert "re-extracted 2 articles" in done.stdout
    assert versions(archive) == [EXTRACTOR_VERSION, OTHER_TRAFILATURA, EXTRACTOR_VERSION,
                                 EXTRACTOR_VERSION, NEWER]
    bad = run_mediawatch("reextract", "--since-version", "latest", "--db", str(archive),
                         "--sources", str(archive.parent / "sources.toml"))
    assert bad.returncode != 0 and "version number" in bad.stderr


def test_extractor_number() -> None:
    assert extractor_number("mediawatch-extract 12 / trafilatura 2.0.0") == 12
    assert extractor_number(" 3 ") == 3
    assert extractor_number("trafilatura 2.0.0") is None and extractor_number(None) is None
