"""Extraction facts on recorded real pages (tests/pages/<case>/input.html + expected.json)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from extract import extract_article

pytestmark = pytest.mark.unit

PAGES = Path(__file__).parent / "pages"
CASES = sorted(p.name for p in PAGES.iterdir() if (p / "expected.json").exists())


# Whatever a page holds, these fields are plain text: no tags (a byline written as its link, an
# excerpt's "Read More" link), no control characters, and a language code.
_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_PLAIN = ("title", "author", "description", "sitename")


def norm(text: str | None) -> str:
    """Collapse whitespace so snippets match regardless of line breaks."""
    return " ".join((text or "").split())


def run_case(name: str) -> tuple[Any, dict[str, Any]]:
    """Extract one recorded page with the hints its expected.json asks for."""
    expected = json.loads((PAGES / name / "expected.json").read_text(encoding="utf-8"))
    hints = dict(expected.get("hints") or {})
    if expected.get("content_type"):
        hints["content_type"] = expected["content_type"]
    data = (PAGES / name / "input.html").read_bytes()
    return extract_article(data, expected.get("url"), **hints), expected


def test_enough_cases() -> None:
    assert len(CASES) >= 22


@pytest.mark.parametrize("name", CASES)
def test_recorded_page(name: str) -> None:
    result, expected = run_case(name)
    assert result.status == expected.get("status", "ok"), result.reason
    assert result.error is None
    assert "\x00" not in result.text
    if expected.get("title"):
        assert norm(expected["title"]) in norm(result.title)
        if expected.get("title_exact"):  # the headline exactly: no site name, no section
            assert norm(result.title) == norm(expected["title"]), result.title
    if "page_title" in expected:
        assert norm(result.page_title) == norm(expected["page_title"])
    if "authors" in expected:
        assert result.authors == expected["authors"]
        assert result.author == (", ".join(expected["authors"]) or None)
    if "access" in expected:
        assert result.access == expected["access"], result.reason
    if expected.get("date"):
        assert result.date is not None and result.date[:10] == expected["date"], (
            result.date, result.date_source, result.date_candidates)
    if expected.get("author"):
        assert norm(expected["author"]) in norm(result.author)
    if expected.get("lang"):
        assert result.lang == expected["lang"]
    if expected.get("encoding"):
        assert result.encoding == expected["encoding"]
    if expected.get("license"):
        assert result.license == expected["license"]
    if "description" in expected:
        assert result.description == expected["description"]
    for field in _PLAIN:
        value = getattr(result, field) or ""
        assert not _TAG.search(value) and not _CONTROL.search(value), (field, value)
    assert all(name and not _TAG.search(name) for name in result.authors), result.authors
    assert result.lang is None or re.fullmatch(r"[a-z]{2,3}", result.lang), result.lang
    text = norm(result.text)
    for snippet in expected.get("must_contain", []):
        assert norm(snippet) in text, snippet
    for snippet in expected.get("must_not_contain", []):
        assert norm(snippet) not in text, snippet
    if result.status == "ok":
        assert result.fingerprint and len(result.fingerprint) == 64
        assert result.date is None or result.date_source
