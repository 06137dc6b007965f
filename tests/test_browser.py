"""The published archive in a real browser (Playwright + Debian's chromium, headless).

Search in Russian and Armenian through the form, the seed article's page, the charts, and
the XSS probes: hostile titles, bylines, links and SVG in scraped text must never execute.
Screenshots of the main pages are kept in test-artifacts/.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator

import pytest
from conftest import Crawl, serve
from helpers.browser import assert_nothing_ran, shot
from playwright.sync_api import Page

pytestmark = pytest.mark.browser

SEED_TITLE = "Putin and Pashinyan: A Tumultuous Alliance Marked by Risk and Paradox"


@pytest.fixture(scope="module")
def hostile_url(crawled: Crawl, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The crawled archive, with a byline and canonical link as hostile as a page can send."""
    db = tmp_path_factory.mktemp("browser") / "archive.db"
    shutil.copy(crawled.db, db)
    conn = sqlite3.connect(db)
    with conn:  # a copy for this test only; extractors sanitise bylines, the pages must not rely on it
        conn.execute("update articles set author = ?, canonical_url = ? where url like ?",
                     ("<b onmouseover=\"window.__mwxss='author'\">Mallory</b>"
                      "<img src=x onerror=\"window.__mwxss='author-img'\">",
                      "javascript:window.__mwxss='canonical'", "%/en/news/1320/%"))
    conn.close()
    with serve(db) as base:
        yield base


def search(page: Page, base: str, text: str) -> set[str]:
    page.goto(base + "/search")
    page.fill("#q", text)
    page.press("#q", "Enter")
    page.wait_for_selector(".mw-total")
    return set(page.locator(".mw-hit").evaluate_all("els => els.map(e => e.lang)"))


def test_search_form_in_russian_and_armenian(page: Page, hostile_url: str) -> None:
    assert search(page, hostile_url, "Пашиняна") == {"en", "ru", "hy"}
    assert page.locator(".mw-hit mark").count() > 0
    assert "Nikol Pashinyan" in page.inner_text(".mw-explain")
    shot(page, "search-ru")
    assert search(page, hostile_url, "Սյունիք") == {"en", "ru", "hy"}
    shot(page, "search-hy")
    page.fill("#q", "Սյունիքի")  # literally: that exact inflected form, Armenian only
    page.check("input[name=literal]")
    page.click("input[type=submit]")
    page.wait_for_selector(".mw-total")
    assert set(page.locator(".mw-hit").evaluate_all("els => els.map(e => e.lang)")) == {"hy"}
    assert_nothing_ran(page)


def test_seed_article_page(page: Page, hostile_url: str) -> None:
    page.goto(hostile_url + "/search?q=Tumultuous")
    page.click(f"text={SEED_TITLE}")
    page.wait_for_selector("h1.mw-title")
    assert page.inner_text("h1.mw-title") == SEED_TITLE
    facts = page.inner_text(".mw-facts")
    for expected in ("Diran Noubar", "2025-05-12", "CC BY-NC 4.0", "TRANSCEND Media Service"):
        assert expected in facts
    assert page.locator(".mw-text p").count() > 5
    shot(page, "article-seed")


def test_chart_page_renders_svg(page: Page, hostile_url: str) -> None:
    page.goto(hostile_url + "/charts")
    charts = page.locator("svg.mw-chart")
    assert charts.count() == 5
    for i in range(5):
        box = charts.nth(i).bounding_box()
        assert box and box["width"] > 300 and box["height"] > 20
        assert charts.nth(i).locator("rect").count() > 0
    shot(page, "charts")
    page.goto(hostile_url + "/outlet/tms")
    assert page.locator("svg.mw-chart rect").count() > 0
    shot(page, "outlet-tms")


def test_xss_probes_never_execute(page: Page, hostile_url: str) -> None:
    page.goto(hostile_url + "/search?q=onerror")
    title = page.locator(".mw-hit-title").first
    assert "<script>window.__mwxss='title'</script>" in title.inner_text()
    assert "&lt;" not in title.inner_text()  # escaped once, not twice
    shot(page, "xss-search")
    assert_nothing_ran(page)
    title.click()
    page.wait_for_selector("h1.mw-title")
    assert "<script>window" in page.inner_text("h1.mw-title")
    assert "<b onmouseover" in page.inner_text(".mw-author")
    assert "javascript:window.__mwxss='canonical'" in page.inner_text(".mw-facts")
    assert "<svg onload=" in page.inner_text(".mw-text")
    page.hover(".mw-author")
    shot(page, "xss-article")
    assert_nothing_ran(page)
    for path in ("/archive/articles?_search=onerror", "/archive/search_articles?q=onerror",
                 "/outlet/armnews", "/archive/articles?_sort_desc=published&_size=100"):
        page.goto(hostile_url + path)
        page.wait_for_load_state("load")
        assert "window.__mwxss" in page.content(), path
        assert_nothing_ran(page)


def test_an_archived_capture_runs_nothing_and_loads_nothing(page: Page, crawled: Crawl) -> None:
    """The probe article's capture holds live markup (an <svg onload> in its body): framed,
    and opened alone, it shows its text, runs nothing and fetches nothing but itself."""
    [(aid,)] = sqlite3.connect(crawled.db).execute(
        "select id from articles where url like '%/en/news/1320/%'").fetchall()
    requests: list[str] = []
    blocked: set[str] = set()  # refused by the browser before any byte was sent
    page.on("request", lambda r: requests.append(r.url))
    page.on("requestfailed", lambda r: blocked.add(r.url) if r.failure == "csp" else None)
    with serve(crawled.db) as base:
        page.goto(f"{base}/article/{aid}/capture")
        page.wait_for_load_state("load")
        body = page.frame_locator("iframe.mw-capture-frame").locator("body")
        assert "Negotiators in Moscow" in body.inner_text()
        raw = page.request.get(f"{base}/article/{aid}/capture.html").text()
        assert "<svg onload=\"window.__mwxss='raw-svg'\">" in raw  # live markup, as captured
        shot(page, "capture-probe")
        assert_nothing_ran(page)
        for frame in page.frames:  # the capture's own window too
            assert frame.evaluate("window.__mwxss") is None, frame.url
        page.goto(f"{base}/article/{aid}/capture.html")  # opened alone: the same policy
        page.wait_for_load_state("load")
        assert "Negotiators in Moscow" in page.inner_text("body")
        assert page.evaluate("window.__mwxss") is None
    assert requests and all(u.startswith(base) for u in requests), requests
    # The capture's own stylesheet link (/static/css/site.css) is asked for and refused.
    assert blocked and not [u for u in requests if u not in blocked and "/capture" not in u
                            and not u.startswith((f"{base}/mediawatch/", f"{base}/-/static"))]
