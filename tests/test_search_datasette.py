"""The published archive over real HTTP: expanded search, pages, charts, exports, escaping."""

from __future__ import annotations

import csv
import hashlib
import html
import io
import json
import re
import shlex
import shutil
import sqlite3
import urllib.error
import urllib.parse
import urllib.request
from html import unescape as html_unescape
from pathlib import Path
from typing import Any

import pytest
from conftest import Crawl, query, serve

from crawler.archive.core import warc_folder
from crawler.archive.fetch_rows import FETCH_FAILURES
from crawler.search.query import expand_query

pytestmark = pytest.mark.e2e

SEED_TITLE = "Putin and Pashinyan: A Tumultuous Alliance Marked by Risk and Paradox"
PROBE = "/en/news/1320/"


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as resp:
        return resp.read().decode("utf-8")


def get_json(url: str) -> Any:
    return json.loads(get(url))


def q(text: str) -> str:
    return urllib.parse.quote(text)


def test_search_artsakh_lists_three_languages(datasette_url: str) -> None:
    rows = get_json(f"{datasette_url}/archive/articles.json?_search=Artsakh&_shape=array"
                    "&_col=lang&_col=title&_size=100")
    assert {r["lang"] for r in rows} == {"en", "ru", "hy"}
    assert any("Карабах" in r["title"] for r in rows)  # Нагорного Карабаха, inflected
    literal = get_json(f"{datasette_url}/archive/articles.json?_search=Artsakh&_mw_literal=1"
                       "&_shape=array&_col=lang&_size=100")
    assert literal and {r["lang"] for r in literal} == {"en"}  # the switch: no aliases
    assert len(literal) < len(rows)


def test_inflected_russian_and_armenian_queries(datasette_url: str, crawled: Crawl) -> None:
    for typed in ("Пашиняна", "Փաշինյանի", "Սյունիք", "ОДКБ"):
        rows = get_json(f"{datasette_url}/archive/articles.json?_search={q(typed)}"
                        "&_shape=array&_col=lang&_size=100")
        assert {r["lang"] for r in rows} == {"en", "ru", "hy"}, typed
    # The table page shows what was typed, not the FTS expression.
    page = get(f"{datasette_url}/archive/articles?_search={q('Пашиняна')}")
    assert 'value="Пашиняна"' in page


def test_csv_and_json_export_of_a_search(datasette_url: str) -> None:
    text = get(f"{datasette_url}/archive/articles.csv?_search=CSTO&_size=max")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows and {r["lang"] for r in rows} == {"en", "ru", "hy"}
    data = get_json(f"{datasette_url}/archive/search_articles.json?q=CSTO&_shape=objects")
    assert {r["lang"] for r in data["rows"]} == {"en", "ru", "hy"}
    assert all("\u27e6" in r["snippet"] for r in data["rows"])


def test_canned_query_highlights_escaped_snippets(datasette_url: str) -> None:
    html = get(f"{datasette_url}/archive/search_articles?q=Gyumri")
    assert "<mark>" in html
    html = get(f"{datasette_url}/archive/search_articles?q=onerror")
    # The hit is highlighted inside the escaped markup, which never becomes a tag.
    assert "<mark>onerror</mark>" in html and "&lt;img" in html
    assert "<img src=x" not in html and "<script>window" not in html


def test_search_page_ranks_titles_and_filters(datasette_url: str) -> None:
    html = get(f"{datasette_url}/search?q={q('Пашинян')}")
    assert "Nikol Pashinyan" in html and "<mark>" in html and "CSV</a>" in html
    first = html.split('class="mw-hit-title"', 2)[1]
    assert "ashinyan" in first or "ашинян" in first or "աշինյան" in first  # title match first
    only_hy = get(f"{datasette_url}/search?q=Artsakh&lang=hy")
    assert only_hy.count('class="mw-hit"') >= 1 and 'lang="ru"' not in only_hy
    literal = get(f"{datasette_url}/search?q=Artsakh&literal=1")
    assert literal.count('class="mw-hit"') < get(f"{datasette_url}/search?q=Artsakh").count(
        'class="mw-hit"')


def test_seed_article_page(datasette_url: str, crawled: Crawl) -> None:
    [(aid,)] = query(crawled.db, "select id from articles where title = ?", (SEED_TITLE,))
    html = get(f"{datasette_url}/article/{aid}")
    for expected in (SEED_TITLE, "Diran Noubar", "2025-05-12", "CC BY-NC 4.0",
                     "TRANSCEND Media Service (fixture)", "peace journalism / NGO",
                     "TRANSCEND International", "json-ld", "Pashinyan* ×", "Velvet Revolution"):
        assert expected in html, expected
    assert 'href="https://www.transcend.org/tms/?p=294863"' in html
    # how the archive found it: the registry's seed URL; an article from a feed names the feed
    assert '<dt>Found</dt><dd class="mw-found">via seed</dd>' in html
    [(fed, feed)] = query(crawled.db, "select a.id, p.discovered_from from articles a join "
                          "pages p on p.id = a.page_id where p.discovered_via = 'feed' "
                          "order by a.id limit 1")
    assert f'<dd class="mw-found">via feed <code>{feed}</code>' in get(
        f"{datasette_url}/article/{fed}")


def test_article_page_leads_to_the_same_story_in_other_outlets(datasette_url: str,
                                                                crawled: Crawl) -> None:
    [(aid, story)] = query(crawled.db, "select sa.article_id, s.id from story_articles sa "
                           "join stories s on s.id = sa.story_id where s.n_outlets >= 3 "
                           "order by s.n_articles desc, sa.article_id limit 1")
    mates = query(crawled.db, "select a.id, s.name from story_articles sa join articles a "
                  "on a.id = sa.article_id join sources s on s.id = a.source_id "
                  "where sa.story_id = ? and a.id != ?", (story, aid))
    assert len(mates) >= 2
    html = get(f"{datasette_url}/article/{aid}")
    section = html.split('id="mw-story"', 1)[1].split("</div>", 1)[0]
    assert f'href="/-/framing/story/{story}"' in section
    for mate, outlet in mates:
        assert f'href="/article/{mate}"' in section and outlet in section, mate
    assert f'href="/article/{aid}"' not in section
    # an article alone in its story has no such section
    [(alone,)] = query(crawled.db, "select sa.article_id from story_articles sa join stories s "
                       "on s.id = sa.story_id where s.n_articles = 1 limit 1")
    assert 'id="mw-story"' not in get(f"{datasette_url}/article/{alone}")


def test_outlet_page_and_outlets(datasette_url: str, crawled: Crawl) -> None:
    page = get(f"{datasette_url}/outlet/exile")
    assert "Svobodny Bereg" in page and "<svg" in page and "Extraction failures" in page
    assert "not_article" in page  # the live index that matches the article pattern
    assert "article_url_pattern" in page  # the registry entry
    # its lists as lists, not JSON text inside JSON ("[\"ru\"]")
    entry = page.split('<pre class="mw-config">', 1)[1].split("</pre>", 1)[0]
    assert json.loads(html.unescape(entry))["language"] == ["ru"]
    assert 'href="/health/exile"' in page  # its fetch failures and alerts
    outlets = get(f"{datasette_url}/outlets")
    # languages in words, not the registry's JSON list (the page showed ["hy"])
    assert "<td>hy</td>" in outlets and "[&#34;" not in outlets and '["' not in outlets
    assert outlets.count('href="/outlet/') == query(crawled.db, "select count(*) from sources")[0][0]
    # each outlet's newest article (its day) and failed fetches, linked to where they are listed
    rows = re.findall(r'href="/outlet/([^"]+)">.*?<td class="mw-newest">([^<]*)</td>'
                      r'<td class="mw-failed">(.*?)</td>', outlets)
    assert len(rows) == outlets.count('href="/outlet/')
    failing = 0
    for oid, newest, failed in rows:
        [(day, n)] = query(crawled.db, "select (select substr(max(published), 1, 10) from articles "
                           "where source_id = ?), (select count(*) from pages where source_id = ? "
                           f"and outcome in ({', '.join('?' * len(FETCH_FAILURES))}))",
                           (oid, oid, *FETCH_FAILURES))
        assert newest == (day or "none"), oid
        assert re.sub(r"<[^>]+>", "", failed) == str(n), oid
        assert (f'href="/health/{oid}#mw-failed"' in failed) == (n > 0), oid
        failing += n > 0
    assert failing  # the fixture web has outlets whose fetches fail (404, 500, robots.txt)


def test_charts_page_draws_svg(datasette_url: str) -> None:
    html = get(f"{datasette_url}/charts")
    for section in ("weekly", "lang", "kind", "runs", "outcomes"):
        assert f'id="{section}"' in html
    charts = html.split('<section class="content">', 1)[1].split("</section>\n</div>")[0]
    assert charts.count("<rect") > 20 and "<script" not in charts  # SVG drawn server-side
    assert ".csv?sql=" in html


def test_facets_include_kind_month_on_topic(datasette_url: str) -> None:
    data = get_json(f"{datasette_url}/archive/articles.json?_search=Artsakh&_size=1")
    assert {"source_id", "lang", "source_kind", "on_topic", "published_month"} <= set(
        data["facet_results"])


def ris_records(body: str) -> list[dict[str, list[str]]]:
    """RIS records as {tag: [values]}; every line must be a tag line (no injected lines)."""
    records: list[dict[str, list[str]]] = []
    for line in body.split("\r\n"):
        if not line:
            continue
        assert re.fullmatch(r"[A-Z][A-Z0-9]  - .*", line), line
        if line.startswith("TY  - "):
            records.append({})
        if not line.startswith("ER  - "):
            records[-1].setdefault(line[:2], []).append(line[6:])
    assert body.count("ER  - ") == len(records)
    return records


def test_an_article_is_cited_as_a_line_and_as_a_ris_record(datasette_url: str,
                                                           crawled: Crawl) -> None:
    [(aid, url, sha)] = query(crawled.db, "select a.id, a.url, p.body_sha256 from articles a "
                              "join pages p on p.id = a.page_id where a.title = ?", (SEED_TITLE,))
    page = get(f"{datasette_url}/article/{aid}")
    assert f"Diran Noubar. “{SEED_TITLE}.” TRANSCEND Media Service (fixture), 2025-05-12." in page
    assert f"capture sha256 {sha}" in page and f'href="/article/{aid}.ris"' in page
    with urllib.request.urlopen(f"{datasette_url}/article/{aid}.ris", timeout=30) as resp:
        assert resp.headers["content-type"].startswith("application/x-research-info-systems")
        assert "attachment" in resp.headers["content-disposition"]
        [record] = ris_records(resp.read().decode("utf-8"))
    assert record["TY"] == ["NEWS"] and record["AU"] == ["Diran Noubar"]
    assert record["TI"] == [SEED_TITLE] and record["DA"] == ["2025/05/12"]
    assert record["T2"] == ["TRANSCEND Media Service (fixture)"] and record["UR"] == [url]
    assert record["ID"] == [aid] and record["N1"] == [f"Archived capture: sha256 {sha}"]
    with pytest.raises(urllib.error.HTTPError) as missing:
        get(f"{datasette_url}/article/0000000000000000.ris")
    assert missing.value.code == 404
    missing.value.close()


def test_a_search_exports_its_best_matches_as_ris(datasette_url: str, crawled: Crawl) -> None:
    html = get(f"{datasette_url}/search?q=Pashinyan&lang=ru")
    link = re.search(r'class="mw-ris" href="([^"]+)"', html)
    assert link and html_unescape(link.group(1)) == "/search.ris?q=Pashinyan&lang=ru"
    records = ris_records(get(f"{datasette_url}/search.ris?q=Pashinyan&lang=ru"))
    expected = {r[0] for r in query(
        crawled.db, "select a.id from articles_fts f join articles a on a.rowid = f.rowid "
        "where articles_fts match ? and a.lang = 'ru'", (expand_query("Pashinyan"),))}
    assert records and {r["ID"][0] for r in records} == expected  # every match, each once
    assert len(records) == len(expected) and all(r["LA"] == ["ru"] for r in records)
    # the ranking of /search: its first hit is the first record
    first = re.search(r'class="mw-hit-title"[^>]*href="/article/([^"]+)"', html)
    assert first and records[0]["ID"] == [first.group(1)]
    # filters the table view cannot express (two languages) are exported all the same
    both = ris_records(get(f"{datasette_url}/search.ris?q=Pashinyan&lang=ru&lang=hy"))
    assert {r["LA"][0] for r in both} == {"ru", "hy"}
    hostile = ris_records(get(f"{datasette_url}/search.ris?q=onerror"))  # the XSS probe
    assert hostile and all(len(r["TI"]) == 1 and len(r["TY"]) == 1 for r in hostile)
    for bad in ("/search.ris", "/search.ris?q=x&lang=" + "x" * 300):
        with pytest.raises(urllib.error.HTTPError) as refused:
            get(datasette_url + bad)
        assert refused.value.code == 400, bad
        refused.value.close()


def test_an_article_shows_its_archived_capture(datasette_url: str, crawled: Crawl) -> None:
    [(aid, sha, warc, offset)] = query(
        crawled.db, "select a.id, p.body_sha256, p.warc_file, p.warc_offset from articles a "
        "join pages p on p.id = a.page_id where a.title = ?", (SEED_TITLE,))
    assert f'href="/article/{aid}/capture"' in get(f"{datasette_url}/article/{aid}")
    page = get(f"{datasette_url}/article/{aid}/capture")
    assert sha in page and f"{warc_folder(crawled.db).name}/{warc}" in page
    assert f"at byte {offset}" in page
    frame = re.search(r"<iframe[^>]*>", page)
    assert frame and 'sandbox=""' in frame.group(0)
    [(page_id,)] = query(crawled.db, "select page_id from articles where id = ?", (aid,))
    assert f'src="/article/{aid}/capture.html?page={page_id}"' in frame.group(0)
    with urllib.request.urlopen(f"{datasette_url}/article/{aid}/capture.html", timeout=30) as r:
        body, headers = r.read(), r.headers
    # the bytes the outlet sent (a UTF-8 page is served as it came), under a policy that runs
    # and loads nothing
    assert hashlib.sha256(body).hexdigest() == sha and SEED_TITLE.encode() in body
    policy = headers["content-security-policy"]
    assert policy.startswith("sandbox;") and "default-src 'none'" in policy
    assert "script-src" not in policy and "allow-" not in policy
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert headers["x-content-type-options"] == "nosniff"
    for path in ("/article/0000000000000000/capture", "/article/0000000000000000/capture.html"):
        with pytest.raises(urllib.error.HTTPError) as missing:
            get(datasette_url + path)
        assert missing.value.code == 404, path
        missing.value.close()


def test_a_capture_whose_warc_file_is_gone_is_a_clear_404(crawled: Crawl,
                                                          tmp_path: Path) -> None:
    db = tmp_path / "moved.db"  # the archive copied without its WARC folder
    shutil.copy(crawled.db, db)
    [(aid,)] = query(db, "select id from articles where title = ?", (SEED_TITLE,))
    with serve(db) as base:
        page = get(f"{base}/article/{aid}")
        assert "mw-facts" in page and "/capture" not in page  # no link to what is not there
        with pytest.raises(urllib.error.HTTPError) as gone:
            get(f"{base}/article/{aid}/capture.html")
        assert gone.value.code == 404
        assert "not in this archive's WARC files" in html.unescape(gone.value.read().decode())
        gone.value.close()
    # A record pointing out of the WARC folder is never read (a file beside it is there).
    warc_folder(db).mkdir(exist_ok=True)
    (tmp_path / "secret.html").write_text("<p>not a capture</p>")
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("update pages set warc_file = '../secret.html', warc_offset = 0, "
                     "warc_length = 20 where id = (select page_id from articles where id = ?)",
                     (aid,))
    conn.close()
    with serve(db) as base:
        with pytest.raises(urllib.error.HTTPError) as outside:
            get(f"{base}/article/{aid}/capture.html")
        assert outside.value.code == 404
        outside.value.close()


def test_hostile_markup_is_escaped_everywhere(datasette_url: str, crawled: Crawl) -> None:
    [(aid, title)] = query(crawled.db, "select id, title from articles where url like ?",
                           (f"%{PROBE}%",))
    assert "<script>window.__mwxss='title'</script>" in title  # archived as literal text
    pages = [f"/article/{aid}", f"/search?q={q('hostile OR onerror OR probe')}",
             "/outlet/armnews", f"/archive/articles/{aid}",
             "/archive/articles?_search=onerror", "/archive/search_articles?q=onerror"]
    for path in pages:
        html = get(datasette_url + path)
        assert "window.__mwxss" in html, path  # the probe is on the page...
        assert "<script>window.__mwxss" not in html, path  # ...but never as markup
        assert "<img src=x onerror" not in html and "<svg onload" not in html, path
        assert 'href="javascript:' not in html, path


def test_a_query_with_nothing_to_find_says_what_is_missing(datasette_url: str) -> None:
    # "-Putin" (only a word to leave out) and "*" were both "Nothing to search for" alone.
    negative = get(f"{datasette_url}/search?q={q('-Putin')}")
    assert "Nothing to search for in <q>-Putin</q>: a search needs a word to find" in negative
    assert "mw-total" not in negative
    empty = get(f"{datasette_url}/search?q={q('*')}")
    assert "Nothing to search for in <q>*</q>: write a word" in empty


def test_a_pasted_article_url_opens_its_page(datasette_url: str, crawled: Crawl) -> None:
    (aid, url), *_ = query(crawled.db, "select id, url from articles where source_id = "
                           "'armnews' and url like '%/en/news/%' order by url")
    for pasted in (url, url + "?utm_source=rss&utm_medium=feed", f"  {url}  "):
        with urllib.request.urlopen(f"{datasette_url}/search?q={q(pasted)}",
                                    timeout=30) as resp:  # redirects followed
            assert resp.url == f"{datasette_url}/article/{aid}", pasted
            assert resp.status == 200
    # The seed's real address is only its canonical link (the fixture mirrors the site).
    with urllib.request.urlopen(f"{datasette_url}/search?q="
                                f"{q('https://www.transcend.org/tms/?p=294863')}",
                                timeout=30) as resp:
        (seed,) = query(crawled.db, "select id from articles where canonical_url = "
                        "'https://www.transcend.org/tms/?p=294863'")[0]
        assert resp.url == f"{datasette_url}/article/{seed}"
    missing = get(f"{datasette_url}/search?q={q('https://example.org/news/1?utm_source=x')}")
    assert "No article of this archive has the address <code>https://example.org/news/1" \
           "</code>" in missing and 'class="mw-hit"' not in missing
    assert "<code>mediawatch explain https://example.org/news/1</code>" in missing
    assert "Searching for" not in missing  # no words of it were searched
    # Shell-quoted: an address with quotes in it stays one argument when pasted in a shell.
    hostile = "http://x.example/a';touch${IFS}pwned;'\"$(id)\""
    page = get(f"{datasette_url}/search?q={q(hostile)}")
    (command,) = re.findall(r"<code>(mediawatch explain [^<]*)</code>", page)
    assert shlex.split(html.unescape(command)) == ["mediawatch", "explain", hostile]
    # In quotes it is a phrase search for its words, as before.
    quoted = get(f"{datasette_url}/search?q={q(chr(34) + url + chr(34))}")
    assert "No article of this archive" not in quoted
