"""`mediawatch publish`: the private build keeps everything, the public one only what may be."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Crawl, query, run_mediawatch, serve

from crawler.search.query import expand_query

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def builds(crawled: Crawl, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("publish")
    public, private = out / "public.db", out / "private.db"
    done = run_mediawatch("publish", "--db", str(crawled.db), "--public", str(public))
    assert done.returncode == 0, done.stderr
    assert "public build" in done.stdout and "metadata and excerpt only" in done.stdout
    done = run_mediawatch("publish", "--db", str(crawled.db), str(private))
    assert done.returncode == 0, done.stderr
    return public, private


def test_private_build_keeps_everything(crawled: Crawl, builds: tuple[Path, Path]) -> None:
    _, private = builds
    sql = "select id, title, text from articles order by id"
    assert query(private, sql) == query(crawled.db, sql)


def test_public_build_withholds_text_by_licence(crawled: Crawl,
                                                builds: tuple[Path, Path]) -> None:
    public, _ = builds
    rows = query(public, "select a.source_id, s.public_full_text, a.text, a.text_withheld, "
                 "a.title, a.description from articles a join sources s on s.id = a.source_id")
    assert len(rows) == query(crawled.db, "select count(*) from articles")[0][0]
    free = [r for r in rows if r[1] == 1]
    closed = [r for r in rows if r[1] != 1]
    assert free and closed and {r[0] for r in free} == {"tms"}
    assert all(r[2] and r[3] == 0 for r in free)  # CC BY-NC: full text kept
    assert all(r[2] is None and r[3] == 1 and r[4] for r in closed)  # metadata only
    assert all(len((r[5] or "").split()) <= 41 for r in closed)  # a short excerpt
    tables = {r[0] for r in query(public, "select name from sqlite_master where type='table'")}
    assert "bodies" not in tables
    # The triggers set aside while texts are rewritten are back as they were, and the
    # rewrite queued no story work (the story queue is the archive's).
    triggers = "select name, sql from sqlite_master where type = 'trigger' order by name"
    assert query(public, triggers) == query(crawled.db, triggers)
    queued = "select article_id from story_changes order by article_id"
    assert query(public, queued) == query(crawled.db, queued)


def test_public_index_cannot_find_withheld_words(crawled: Crawl,
                                                builds: tuple[Path, Path]) -> None:
    public, _ = builds
    # A word late in a withheld Russian text: in the archive's index, not in the public one.
    sql = ("select count(*) from articles_fts join articles a on a.rowid = articles_fts.rowid "
           "where articles_fts match ? and a.source_id = 'exile'")
    word = "целостность"
    full = query(crawled.db, "select text from articles where source_id = 'exile' "
                 "and text like ?", (f"%{word}%",))
    assert full, "fixture changed: pick another withheld word"
    expr = expand_query(word, literal=True)
    assert query(crawled.db, sql, (expr,))[0][0] >= 1
    assert query(public, sql, (expr,))[0][0] == 0
    assert query(public, sql, (expand_query("Artsakh"),))[0][0] >= 1  # titles stay searchable


@pytest.fixture(scope="module")
def public_url(builds: tuple[Path, Path]) -> Iterator[str]:
    public, _ = builds
    with serve(public) as base:
        yield base


def test_public_build_is_served_read_only_with_the_same_pages(public_url: str,
                                                              crawled: Crawl) -> None:
    with urllib.request.urlopen(f"{public_url}/public/articles.json?_search=Artsakh"
                                "&_shape=array&_col=lang", timeout=30) as resp:
        assert resp.status == 200 and b'"hy"' in resp.read()
    [(aid,)] = query(crawled.db, "select id from articles where source_id = 'exile' limit 1")
    with urllib.request.urlopen(f"{public_url}/article/{aid}", timeout=30) as resp:
        assert "not published in this public archive" in resp.read().decode()
    req = urllib.request.Request(f"{public_url}/public/articles", data=b"x=1")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=30)
    assert err.value.code == 405
    err.value.close()  # an HTTPError holds the response open
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(f"{public_url}/public.db", timeout=30)
    err.value.close()


def test_a_public_build_made_in_small_slices_is_the_same(
        crawled: Crawl, builds: tuple[Path, Path], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from crawler.ingest import publish

    monkeypatch.setattr("crawler.archive.rows.SLICE", 3)  # the fixture's: many slices
    sliced = tmp_path / "sliced.db"
    assert "metadata and excerpt only" in publish.build(crawled.db, sliced, public=True)
    public, _ = builds
    for sql in ("select id, text, description, text_withheld, search_text from articles "
                "order by id", "select * from kwic order by id",
                "select * from public_build order by key"):
        assert query(sliced, sql) == query(public, sql)
    withheld = query(sliced, "select count(*) from articles where text_withheld = 1")[0][0]
    assert withheld > 3 * 3
