"""The front page, Datasette's index at /-/tables, display names, and escaping on the new pages.

Served over real HTTP by `mediawatch serve` on a copy of the crawled fixture web, with an
outlet name, a byline and a saved query as hostile as they come: every scraped (or typed)
string must reach the page as text, never as markup.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from conftest import Crawl, query, run_mediawatch, serve

pytestmark = pytest.mark.e2e

HOSTILE_NAME = "Yerevan <img src=x onerror=\"window.__mwxss='name'\"> Dispatch"
HOSTILE_QUERY = "<script>window.__mwxss='q'</script> Artsakh"


@pytest.fixture(scope="module")
def hostile(crawled: Crawl, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    db = tmp_path_factory.mktemp("workbench") / "archive.db"
    shutil.copy(crawled.db, db)
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("update sources set name = ? where id = 'armnews'", (HOSTILE_NAME,))
        conn.execute("update articles set author = ? where url like ?",
                     ("<svg onload=\"window.__mwxss='author'\">", "%/en/news/1320/%"))
    conn.close()
    for args in (("probe", HOSTILE_QUERY), ("armnews", "Armenia", "--source", "armnews")):
        result = run_mediawatch("watch", "add", *args, "--db", str(db))
        assert result.returncode == 0, result.stderr
    with serve(db) as base:
        yield base, db


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=60) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        with exc:  # an HTTPError holds the response open
            return exc.code, exc.read().decode()


def assert_escaped(html: str, where: str) -> None:
    assert "<script>window.__mwxss" not in html, where
    assert "<img src=x onerror" not in html and "<svg onload" not in html, where
    assert not re.search(r"""href=["']?\s*javascript:""", html, re.I), where
    assert " onerror=" not in html.replace("onerror=&#34;", "").replace("onerror=&quot;", ""), where


def test_front_page_starts_the_work(hostile: tuple[str, Path]) -> None:
    base, db = hostile
    status, html = get(base + "/")
    assert status == 200
    assert '<form class="mw-front-search" action="/search"' in html and 'name="q"' in html
    assert 'action="/-/attention"' in html
    for link in ('href="/-/framing/compare"', 'href="/-/framing/stories"', 'href="/outlets"',
                 'href="/charts"', 'href="/health"', 'href="/-/attention"', 'href="/archive"',
                 'href="/-/tables"', 'href="/-/watch"', 'href="/-/changes"'):
        assert link in html, link
    assert "mw-changes-glance" not in html  # nothing edited or taken down in one crawl
    # The latest on-topic articles, newest first, by outlet name (never the id) with language.
    latest = query(db, "select a.id, s.name, a.lang, substr(a.published, 1, 10) from articles a "
                       "join sources s on s.id = a.source_id where a.on_topic = 1 and "
                       "a.published is not null order by a.published desc limit 12")
    section = html.split('class="mw-latest"')[1].split("</ul>")[0]
    assert re.findall(r'href="/article/([^"]+)"', section) == [r[0] for r in latest]
    names = {"Yerevan &lt;img src=x onerror=&#34;window.__mwxss=&#39;name&#39;&#34;&gt; Dispatch"
             if n == HOSTILE_NAME else n for _, n, _, _ in latest}
    for name in names:
        assert name in section, name
    assert "(en)" in section and "(ru)" in section and "(hy)" in section
    assert latest[0][3] in section
    # The last 30 days: every article of the fixture crawl was collected just now.
    recent = html.split('class="mw-small mw-recent"')[1].split("</table>")[0]
    per_lang = Counter(r[0] for r in query(db, "select lang from articles"))
    for code, label in (("en", "English"), ("ru", "Russian"), ("hy", "Armenian")):
        assert re.search(rf"<td>{label} \({code}\)</td><td>\d+</td><td>{per_lang[code]}</td>",
                         recent), (code, recent)
    kinds = Counter(r[0] for r in query(db, "select s.kind from articles a join sources s "
                                            "on s.id = a.source_id"))
    for kind, n in kinds.items():
        assert f"<td>{kind}</td><td>0</td><td>{n}</td>" in recent or \
            re.search(rf"<td>{re.escape(kind)}</td><td>\d+</td><td>{n}</td>", recent), kind
    assert html.count('<svg class="mw-chart"') == 1  # the concepts chart
    assert "Crawl health" in html and "outlets without an open alert" in html
    assert_escaped(html, "/")


def test_datasette_index_is_one_click_away(hostile: tuple[str, Path]) -> None:
    base, _ = hostile
    status, html = get(base + "/-/tables")
    assert status == 200 and 'href="/archive"' in html and 'href="/archive/kwic"' in html
    for path in ("/.json", "/-/tables.json"):
        status, data = get(base + path)
        assert status == 200 and '"tables_and_views_truncated"' in data, path


def test_outlet_names_replace_ids_where_people_read(hostile: tuple[str, Path]) -> None:
    base, db = hostile
    names = dict(query(db, "select id, name from sources where id != 'armnews'"))
    _, charts = get(base + "/charts")
    _, table = get(base + "/archive/articles?_size=50")
    _, canned = get(base + "/archive/latest_on_topic")
    _, attention = get(base + "/-/attention?" + urlencode({"q": "Pashinyan", "from": "2020-01-01"}))
    for name in names.values():
        for page, html in (("charts", charts), ("articles", table), ("canned", canned),
                           ("attention", attention)):
            assert name in html, (page, name)


@pytest.mark.parametrize("path", [
    "/",
    "/-/attention?" + urlencode([("q", HOSTILE_QUERY), ("q", "Pashinyan"), ("from", "2020-01-01")]),
    "/-/attention?" + urlencode([("q", "probe OR hostile"), ("by", "none"), ("from", "2020-01-01"),
                                 ("metric", "share")]),
    "/-/attention?" + urlencode([("q", "x"), ("from", "<script>window.__mwxss='from'</script>")]),
    "/-/attention.svg?" + urlencode([("q", "Pashinyan"), ("from", "2020-01-01"),
                                     ("key", "armnews")]),
    "/-/attention/terms?" + urlencode([("q", "Armenia"), ("q", HOSTILE_QUERY), ("i", "1"),
                                       ("from", "2020-01-01")]),
    "/-/watch",
    "/charts", "/charts/weekly.svg", "/charts/outcomes.svg",
    "/search?" + urlencode([("q", "onerror"), ("to", "<img src=x onerror=\"window.__mwxss='to'\">")]),
    "/search?" + urlencode([("q", "onerror"), ("from", "2020-01-01"), ("independent", "1")]),
])
def test_new_pages_escape_everything(hostile: tuple[str, Path], path: str) -> None:
    base, _ = hostile
    status, html = get(base + path)
    assert status in (200, 400), (status, path)
    assert "__mwxss" in html, path  # the probe is on the page (as text)...
    assert_escaped(html, path)  # ...never as markup
    if path.startswith(("/-/attention?", "/search?")) and "from=%3C" in path or "to=%3C" in path:
        assert status == 400


def test_watch_feed_escapes_names_and_queries(hostile: tuple[str, Path]) -> None:
    base, _ = hostile
    status, xml = get(f"{base}/-/watch/{quote('probe')}.atom")
    assert status == 200
    assert "<script>" not in xml and "<img" not in xml and "<svg onload" not in xml
    assert "&lt;script&gt;window.__mwxss='q'&lt;/script&gt; Artsakh" in xml
    status, xml = get(f"{base}/-/watch/armnews.atom")
    assert status == 200 and xml.count("<entry>") >= 3
    assert "<script>" not in xml and "<img" not in xml and "<svg onload" not in xml
    assert "Yerevan &lt;img src=x onerror=" in xml  # the outlet's name, in every entry
    assert "&lt;svg onload=" in xml  # the probe's byline
