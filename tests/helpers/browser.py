"""Browser-test helpers: screenshots kept in test-artifacts/, and the XSS verdict."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# Any probe that runs sets window.__mwxss (payloads) or calls alert (this hook).
HOOK = "window.alert = (m) => { window.__mwxss = 'alert:' + m; };"


def shot(page: Page, name: str) -> None:
    """A full-page screenshot in test-artifacts/<name>.png."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def assert_nothing_ran(page: Page) -> None:
    """No planted payload ran: no alert, no javascript: link, no event-handler attribute."""
    assert page.evaluate("window.__mwxss") is None
    assert page.locator('a[href^="javascript:" i]').count() == 0
    assert page.locator("[onerror], [onload], [onmouseover]").count() == 0
