"""The researcher's workbench in a real browser (Playwright + Debian's chromium, headless).

The front page and its search box, an attention comparison of two queries in different
scripts, a click from a chart point to the search it counts, the PNG download, the
distinctive terms fetched after the page, and a saved search's Atom feed; hostile outlet
names and bylines never run. Screenshots go to test-artifacts/ (front-page.png and
attention-compare.png are the README's, copied to docs/images/).
"""

from __future__ import annotations

import re
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Crawl, run_mediawatch, serve
from helpers.browser import assert_nothing_ran, shot
from playwright.sync_api import Page

pytestmark = pytest.mark.browser

HOSTILE_NAME = "Yerevan <img src=x onerror=\"window.__mwxss='name'\"> Dispatch"


@pytest.fixture(scope="module")
def site(crawled: Crawl, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The crawled fixture web, one outlet renamed with markup, and two saved searches."""
    db = tmp_path_factory.mktemp("workbench-browser") / "archive.db"
    shutil.copy(crawled.db, db)
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("update sources set name = ? where id = 'armnews'", (HOSTILE_NAME,))
    conn.close()
    for args in (("karabakh", "Нагорный Карабах"), ("csto-ru", "CSTO", "--lang", "ru")):
        result = run_mediawatch("watch", "add", *args, "--db", str(db))
        assert result.returncode == 0, result.stderr
    with serve(db) as base:
        yield base


def test_front_page_search_and_compare(page: Page, site: str) -> None:
    page.goto(site + "/")
    page.wait_for_selector(".mw-latest li")
    assert page.locator(".mw-latest li").count() == 12
    assert "Yerevan <img src=x" in page.inner_text(".mw-latest")  # the name, as text
    assert page.locator(".mw-front-concepts svg.mw-chart a.mw-point").count() > 0
    shot(page, "front-page")
    assert_nothing_ran(page)
    page.fill("#q", "Пашинян")
    page.press("#q", "Enter")
    page.wait_for_selector(".mw-total")
    assert set(page.locator(".mw-hit").evaluate_all("els => els.map(e => e.lang)")) == {
        "en", "ru", "hy"}
    page.goto(site + "/")
    page.fill("#cmp1", "Artsakh")
    page.fill("#cmp2", "Нагорный Карабах")
    page.click(".mw-front-compare input[type=submit]")
    page.wait_for_selector("svg.mw-chart")
    assert page.url.startswith(site + "/-/attention?")
    legend = page.inner_text(".mw-query-legend")
    assert "Artsakh" in legend and "Нагорный Карабах" in legend
    assert legend.count("Artsakh / Nagorno-Karabakh") == 2  # one concept, two scripts
    figures = page.locator("figure.mw-multiple")
    assert figures.count() >= 3
    for i in range(figures.count()):  # two lines per outlet, axes and legend labelled
        svg = figures.nth(i).locator("svg.mw-chart")
        assert svg.locator("polyline").count() == 2
        text = svg.text_content() or ""
        assert "month of publication" in text and "matching articles" in text
    page.wait_for_selector(".mw-terms")  # fetched after the page by mw_charts.js
    page.wait_for_function("document.querySelectorAll('.mw-lazy > a').length === 0")
    assert "other articles" in page.inner_text(".mw-side")
    drawn = page.inner_text(".mw-method")  # the range drawn is in the form, to adjust
    assert page.input_value("input[name=from]") + " to " + page.input_value(
        "input[name=to]") in drawn
    shot(page, "attention-compare")
    assert_nothing_ran(page)


def test_a_chart_point_opens_its_search(page: Page, site: str) -> None:
    page.goto(site + "/-/attention?q=Pashinyan&q=CSTO&from=2023-01-01&to=2025-06-30")
    page.wait_for_selector(".mw-terms")
    assert page.locator(".mw-terms .mw-term-word").count() >= 5  # distinctive terms
    point = page.locator("a.mw-point").first
    tip = point.locator("title").text_content() or ""
    found = re.search(r"— (.+), (\d{4}-\d{2}): (\d+) of (\d+) articles", tip)
    assert found, tip
    outlet, month, matches = found.group(1), found.group(2), int(found.group(3))
    point.hover()
    point.click()
    page.wait_for_selector(".mw-total")
    assert f"from={month}-01" in page.url and "q=Pashinyan" in page.url
    assert int(page.inner_text(".mw-total strong")) == matches
    metas = page.locator(".mw-hit .mw-meta").all_inner_texts()
    assert metas and all(m.startswith(outlet) and f" {month}-" in m for m in metas)
    shot(page, "attention-point-search")
    assert_nothing_ran(page)


def test_share_view_and_png_download(page: Page, site: str, tmp_path: Path) -> None:
    page.goto(site + "/-/attention?q=Armenia&q=Russia&by=language&metric=share"
              "&from=2023-01-01&to=2025-06-30")
    svg = page.locator("svg.mw-chart").first
    text = svg.text_content() or ""
    assert "%" in text and "share of articles in that language" in text
    with page.expect_download() as info:
        page.locator(".mw-png-button").first.click()
    target = tmp_path / "chart.png"
    info.value.save_as(target)
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and target.stat().st_size > 5000
    shot(page, "attention-share-by-language")


def test_saved_search_feed(page: Page, site: str) -> None:
    page.goto(site + "/-/watch")
    assert page.locator("a.mw-feed").count() == 2
    shot(page, "saved-searches")
    with page.expect_response(re.compile(r"/-/watch/karabakh\.atom$")) as response:
        page.click("a.mw-feed[href=\"/-/watch/karabakh.atom\"]")
    assert response.value.status == 200
    assert response.value.headers["content-type"].startswith("application/atom+xml")
    body = response.value.text()
    assert body.count("<entry>") >= 3 and "rel=\"related\"" in body
    page.wait_for_load_state("load")
    assert "Нагорный Карабах" in page.content()
    shot(page, "watch-feed")
    assert_nothing_ran(page)
