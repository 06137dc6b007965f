"""The framing pages in a real browser (Debian chromium via Playwright, loopback only)."""

from __future__ import annotations

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
    # from a sentence to its article
    lines.first.locator("a").click()
    assert "articles" in page.url


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
    assert "tms" in copy.inner_text() and "armnews" in copy.inner_text()


def test_vocabulary_page(site: Any, page: Page) -> None:  # noqa: F811
    db, base = site
    page.goto(f"{base}/-/framing/vocabulary")
    page.locator("#fr-runs a").first.click()
    assert page.locator("#fr-terms-a tr").count() > 1
    assert page.locator("#fr-terms-b tr").count() > 1
    assert "prior" in page.locator("#fr-run").inner_text()
    assert Path(db).exists()
