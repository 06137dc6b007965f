"""The framing pages in a real browser (Debian chromium via Playwright, loopback only)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser

@pytest.fixture(scope="module")
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    tab = context.new_page()
    # Nothing may leave loopback: fail the test on any other request.
    leaks: list[str] = []
    tab.on("request", lambda r: leaks.append(r.url)
           if not r.url.startswith(("http://127.0.0.1", "data:", "about:")) else None)
    yield tab
    context.close()
    assert leaks == []


def bar_shares(page: Page) -> dict[str, dict[str, float]]:
    shares: dict[str, dict[str, float]] = {}
    for seg in page.locator("#fr-share-chart .fr-seg").all():
        outlet = seg.locator("xpath=ancestor::div[@data-outlet]").get_attribute("data-outlet")
        naming = seg.get_attribute("data-naming")
        assert outlet and naming
        shares.setdefault(outlet, {})[naming] = float(seg.get_attribute("data-share") or 0)
    return shares


def test_compare_bar_click_reaches_the_sentences(site: Any, page: Page) -> None:  # noqa: F811
    _, base = site
    page.goto(f"{base}/-/framing/compare")
    assert page.locator("#fr-concept").input_value() == "karabakh"
    shares = bar_shares(page)
    assert shares["armnews"] != shares["rusagency"]
    assert shares["armnews"].get("armenian-usage") == 1.0
    assert shares["rusagency"]["international"] > 0.5
    # the visible bar widths follow the shares
    box = page.locator('[data-outlet="rusagency"] .fr-seg[data-naming="international"]')
    width = box.bounding_box()
    total = page.locator('[data-outlet="rusagency"] .fr-bar').bounding_box()
    assert width and total
    assert width["width"] / total["width"] == pytest.approx(shares["rusagency"]["international"],
                                                           abs=0.03)
    mentions = int(box.get_attribute("data-mentions") or 0)
    box.click()
    page.wait_for_url("**/-/framing/kwic?**")
    lines = page.locator("#fr-kwic tr.fr-line")
    assert lines.count() == mentions
    hits = [h.lower() for h in lines.locator("td.h").all_inner_texts()]
    assert all("карабах" in h for h in hits)
    assert all(r.strip() for r in lines.locator("td.l").all_inner_texts() + ["x"])
    # from a sentence to its article's page (it led to the raw table row)
    title = lines.first.locator("a").inner_text()
    lines.first.locator("a").click()
    page.wait_for_url("**/article/**")
    assert title.rstrip("…")[:40] in page.locator("h1.mw-title").inner_text()


def test_compare_form_changes_concept_and_period(site: Any, page: Page) -> None:  # noqa: F811
    _, base = site
    page.goto(f"{base}/-/framing/compare")
    page.select_option("#fr-concept", "syunik")
    page.fill("input[name=from]", "2024-01")
    page.fill("input[name=to]", "2024-12")
    page.click("input[type=submit]")
    page.wait_for_url("**concept=syunik**")
    shares = bar_shares(page)
    assert "rusagency" in shares and "azerbaijani-usage" in shares["rusagency"]
    assert page.locator("#fr-rates th").count() >= 2


def test_story_page_marks_the_republication(site: Any, page: Page) -> None:  # noqa: F811
    _, base = site
    page.goto(f"{base}/-/framing/stories")
    page.get_by_role("link", name="Russian border guards leave Zvartnots after three decades").click()
    rows = page.locator("#fr-story tr[data-role]")
    roles = {r.get_attribute("data-role") for r in rows.all()}
    assert {"original", "republication"} <= roles
    copy = page.locator('#fr-story tr[data-role="republication"]')
    # the outlets by name (their ids in the tooltip): the copy at TMS of Yerevan Dispatch's
    assert "TRANSCEND Media Service" in copy.inner_text() and "armnews" in copy.inner_text()
    assert copy.locator('td[title="tms"]').count() == 1
    # the copy's headline opens its article page, which leads back to this story
    story_url = page.url
    copy.locator("td a").first.click()
    page.wait_for_url("**/article/**")
    back = page.locator("#mw-story a[href^='/-/framing/story/']")
    assert back.count() == 1
    back.click()
    assert page.url == story_url


def test_vocabulary_page(site: Any, page: Page) -> None:  # noqa: F811
    db, base = site
    page.goto(f"{base}/-/framing/vocabulary")
    page.locator("#fr-runs a").first.click()
    assert page.locator("#fr-terms-a tr").count() > 1
    assert page.locator("#fr-terms-b tr").count() > 1
    assert "prior" in page.locator("#fr-run").inner_text()
    assert Path(db).exists()


_LAST_CHAR_SHOWN = """(td) => {
  // Where the cell's last character is drawn: inside the cell, or cut off by its overflow.
  const walker = document.createTreeWalker(td, NodeFilter.SHOW_TEXT);
  let last = null;
  for (let n = walker.nextNode(); n; n = walker.nextNode()) if (n.data.trim()) last = n;
  const end = last.data.trimEnd().length;
  const range = document.createRange();
  range.setStart(last, end - 1);
  range.setEnd(last, end);
  const ch = range.getBoundingClientRect(), cell = td.getBoundingClientRect();
  return {inside: ch.left >= cell.left - 1 && ch.right <= cell.right + 1,
          overflows: td.scrollWidth > td.clientWidth};
}"""


def test_kwic_left_context_keeps_the_words_next_to_the_hit(site: Any, page: Page) -> None:  # noqa: F811
    _, base = site
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{base}/-/framing/kwic?concept=karabakh&copies=1")
    cells = page.locator("#fr-kwic tr.fr-line td.l").all()
    shown = [cell.evaluate(_LAST_CHAR_SHOWN) for cell in cells if cell.inner_text().strip()]
    # Some left contexts are wider than their cell; those are cut at their start, so the word
    # before the hit is always on screen (it was cut off: the cell showed the sentence's start).
    assert any(s["overflows"] for s in shown)
    assert all(s["inside"] for s in shown)


def test_framing_pages_have_the_site_navigation_and_fit_the_window(site: Any, page: Page) -> None:  # noqa: F811
    _, base = site
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{base}/-/framing/compare")
    nav = page.locator("header .mw-nav")
    assert nav.get_by_role("link", name="search", exact=True).get_attribute("href") == "/search"
    assert page.locator("header .fr-nav").get_by_role("link", name="compare", exact=True).count() == 1
    # the month table scrolls inside its box instead of widening the page
    assert page.locator("#fr-rates th").count() > 10
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # the form's fields sit side by side, none drawn over another (Datasette's label width)
    boxes = [b for lab in page.locator(".fr-form label").all() if (b := lab.bounding_box())]
    assert len(boxes) == 4
    for a, b in itertools.pairwise(boxes):
        assert a["x"] + a["width"] <= b["x"] + 1 or a["y"] + a["height"] <= b["y"] + 1
