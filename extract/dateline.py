"""Find the visible dateline: the date printed next to the headline.

Only the text just after the page's <h1> is read (and a little before it), because that is
where templates print the publication date; dates further down belong to the body or to
sidebars and must never be taken for the article's date.
"""

from __future__ import annotations

import re
from datetime import date

from lxml.html import HtmlElement

_MONTHS = {
    **{m: i + 1 for i, m in enumerate(
        "jan feb mar apr may jun jul aug sep oct nov dec".split())},
    **{m: i + 1 for i, m in enumerate(
        "янв фев мар апр мая июн июл авг сен окт ноя дек".split())},
    **{m: i + 1 for i, m in enumerate(
        "січ лют бер кві тра чер лип сер вер жов лис гру".split())},
    **{m: i + 1 for i, m in enumerate(
        "հուն փետ մար ապր մայ հուն հուլ օգո սեպ հոկ նոյ դեկ".split())},
}  # fmt: skip
# Armenian January and June share a stem; the full stems below settle them.
_HY_FULL = {"հունվ": 1, "հունիս": 6, "հունիսի": 6, "հունվարի": 1}
_WORD = r"([^\W\d_]{3,})"
_DAY_MONTH_YEAR = re.compile(rf"(?<!\d)(\d{{1,2}})(?:st|nd|rd|th)?\.?\s+{_WORD}\.?,?\s+(\d{{4}})(?!\d)")
_MONTH_DAY_YEAR = re.compile(rf"{_WORD}\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})(?!\d)")
_NUMERIC = re.compile(r"(?<!\d)(\d{1,2})[./](\d{1,2})[./](\d{4})(?!\d)|(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
_WINDOW = 400


def _month(word: str) -> int | None:
    word = word.lower()
    for stem, num in _HY_FULL.items():
        if word.startswith(stem):
            return num
    return _MONTHS.get(word[:3]) or _MONTHS.get(word[:4])


def _safe(y: str, m: int | str | None, d: str) -> str | None:
    try:
        return date(int(y), int(m or 0), int(d)).isoformat()
    except ValueError:
        return None


def find_date(text: str) -> str | None:
    """Return the first day-precise date written in a short text, as YYYY-MM-DD."""
    found: list[tuple[int, str]] = []
    for m in _DAY_MONTH_YEAR.finditer(text):
        if (month := _month(m.group(2))) and (day := _safe(m.group(3), month, m.group(1))):
            found.append((m.start(), day))
    for m in _MONTH_DAY_YEAR.finditer(text):
        if (month := _month(m.group(1))) and (day := _safe(m.group(3), month, m.group(2))):
            found.append((m.start(), day))
    for m in _NUMERIC.finditer(text):
        day = _safe(m.group(3), m.group(2), m.group(1)) if m.group(3) else _safe(
            m.group(4), m.group(5), m.group(6)
        )
        if day:
            found.append((m.start(), day))
    return min(found)[1] if found else None


def _following_text(h1: HtmlElement, limit: int) -> str:
    parts: list[str] = []
    size = 0
    for el in h1.itersiblings():
        if el.tag in ("script", "style") or not isinstance(el.tag, str):
            continue
        chunk = " ".join(el.text_content().split())
        parts.append(chunk)
        size += len(chunk)
        if size >= limit:
            break
    return " ".join(parts)[:limit]


def visible_dateline(tree: HtmlElement) -> str | None:
    """Return the date printed beside the page's main headline, if there is one."""
    h1s = [h for h in tree.iter("h1") if h.text_content().strip()]
    if len(h1s) > 1:
        # Several <h1>: only the one repeating the page title is the headline.
        title = " ".join((tree.findtext(".//title") or "").split()).casefold()
        h1s = [h for h in h1s if " ".join(h.text_content().split()).casefold() in title]
    if len(h1s) != 1:
        return None
    h1 = h1s[0]
    # Walk up a few levels: the dateline often sits in the header block around the <h1>.
    node: HtmlElement | None = h1
    for _ in range(3):
        if node is None:
            break
        text = _following_text(node, _WINDOW)
        prev = node.getprevious()
        if prev is not None and isinstance(prev.tag, str) and prev.tag not in ("script", "style"):
            text = " ".join(prev.text_content().split())[-200:] + " " + text
        if found := find_date(text):
            return found
        node = node.getparent()
    return None
