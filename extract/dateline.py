"""Find dates printed on the page: the dateline beside the headline, and labelled dates.

The dateline is read only from the text just after the page's <h1> (and a little before it),
because that is where templates print the publication date; dates further down belong to the
body or to sidebars and must never be taken for the article's date. A date preceded by an
"updated" label is the modification date, not the dateline.

A labelled date ("Veröffentlicht am 16.08.2019", "Опубликовано: 12 мая 2025") says what it is,
so it may be read anywhere in the visible page; "Updated"/"Letzte Änderung" labels give
modification dates. Month names: English, German, French, Spanish, Italian, Polish, Russian,
Ukrainian, Armenian.
"""

from __future__ import annotations

import re
from datetime import date

from lxml.etree import tostring
from lxml.html import HtmlElement


def _stems(months: str) -> dict[str, int]:
    return {stem: i + 1 for i, group in enumerate(months.split()) for stem in group.split("/")}


# Three-letter stems (four where three are ambiguous). Longer stems are tried first.
_MONTHS = {
    **_stems("jan feb mar apr may jun jul aug sep oct nov dec"),
    "jän": 1, "mär": 3, "mrz": 3, "mai": 5, "okt": 10, "dez": 12,  # German (the rest as English)
    # French, Spanish, Italian, Polish (juin/juil are settled by _LONG below)
    **_stems("ene/gen/sty fév/fev/lut mars/marz/marc kwi/avr/abr mayo/mag/maj cze/giu "
             "lug/lip aoû/aou/ago/sie set/wrz ott/paź/paz lis dic/déc/gru"),
    **_stems("янв фев мар апр мая/май июн июл авг сен окт ноя дек"),
    **_stems("січ лют бер кві тра чер лип сер вер жов лис гру"),
    **_stems("հուն փետ մար ապր մայ հուն հուլ օգո սեպ հոկ նոյ դեկ"),
}  # fmt: skip
# Stems that would be misread by their first letters: Armenian January/June, French June/July,
# Polish and Ukrainian November ("lis"/"лис" are both November, kept) and French "mars".
_LONG = {"հունվ": 1, "հունիս": 6, "juin": 6, "juil": 7, "mars": 3, "mayo": 5, "marzo": 3}
_WORD = r"([^\W\d_]{3,})"
_DAY_MONTH_YEAR = re.compile(
    rf"(?<!\d)(\d{{1,2}})(?:st|nd|rd|th|er|º)?\.?\s+(?:de\s+)?{_WORD}\.?,?\s+(?:de\s+)?(\d{{4}})(?!\d)"
)
_MONTH_DAY_YEAR = re.compile(rf"{_WORD}\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})(?!\d)")
_NUMERIC = re.compile(
    r"(?<![\d.])(\d{1,2})\.\s?(\d{1,2})\.\s?(\d{4})(?!\d)|(?<!\d)(\d{1,2})/(\d{1,2})/(\d{4})(?!\d)"
    r"|(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)"
)
_WINDOW = 400
# Labels closer than this before a date describe it ("Updated: 12 May 2025, 10:15").
_LABEL_REACH = 40
_UPDATE_WORDS = (
    r"updated|modified|last edited|aktualisiert|letzte änderung|zuletzt geändert|geändert"
    r"|mis à jour|actualizado|actualizada|aggiornato|zaktualizowano|aktualizacja"
    r"|обновлено|обновлен|изменено|оновлено|թարմացվել"
)
_PUBLISH_WORDS = (
    r"published|posted|written|veröffentlicht|erschienen|erstellt|publié|publicado|publicada"
    r"|pubblicato|opublikowano|data publikacji|опубликовано|опубліковано|дата публикации"
    r"|հրապարակվել"
)
_UPDATED = re.compile(rf"(?:{_UPDATE_WORDS})\b[^\d]{{0,25}}$", re.I)
_ANY_LABEL = re.compile(rf"(?<![^\W\d_])(?:({_PUBLISH_WORDS})|{_UPDATE_WORDS})\b", re.I)
_LABEL_GAP = 25
_NEEDLES = sorted({w.split()[0][:5] for w in f"{_UPDATE_WORDS}|{_PUBLISH_WORDS}".split("|")})


def visible_text(tree: HtmlElement) -> str:
    """The text of <body> without scripts and styles.

    Serialising to text is done in C and is several times faster than selecting text nodes
    with an XPath that excludes scripts; the (few) script bodies are cut out afterwards.
    """
    body = tree.find("body")
    if body is None:
        return ""
    text = tostring(body, method="text", encoding=str, with_tail=False)
    for el in body.iter("script", "style", "noscript"):
        if el.text and len(el.text) > 2:
            text = text.replace(el.text, " ", 1)
    return text


def _month(word: str) -> int | None:
    word = word.lower()
    for stem, num in _LONG.items():
        if word.startswith(stem):
            return num
    return _MONTHS.get(word[:3]) or _MONTHS.get(word[:4])


def _safe(y: str, m: int | str | None, d: str) -> str | None:
    try:
        return date(int(y), int(m or 0), int(d)).isoformat()
    except ValueError:
        return None


def _dates_in(text: str) -> list[tuple[int, int, str]]:
    """Every day-precise date in a text as (start, end, YYYY-MM-DD), in order of position."""
    found: list[tuple[int, int, str]] = []
    for m in _DAY_MONTH_YEAR.finditer(text):
        if (month := _month(m.group(2))) and (day := _safe(m.group(3), month, m.group(1))):
            found.append((m.start(), m.end(), day))
    for m in _MONTH_DAY_YEAR.finditer(text):
        if (month := _month(m.group(1))) and (day := _safe(m.group(3), month, m.group(2))):
            found.append((m.start(), m.end(), day))
    for m in _NUMERIC.finditer(text):
        if m.group(1):
            day = _safe(m.group(3), m.group(2), m.group(1))
        elif m.group(4):
            # Slashes: day first (Europe) unless that is impossible, then month first (US).
            day = _safe(m.group(6), m.group(5), m.group(4)) or _safe(m.group(6), m.group(4), m.group(5))
        else:
            day = _safe(m.group(7), m.group(8), m.group(9))
        if day:
            found.append((m.start(), m.end(), day))
    return sorted(found)


def _is_updated(text: str, start: int) -> bool:
    return bool(_UPDATED.search(text[max(0, start - _LABEL_REACH) : start]))


def find_date(text: str) -> str | None:
    """Return the first day-precise date in a short text that is not labelled as an update."""
    for start, _, day in _dates_in(text):
        if not _is_updated(text, start):
            return day
    return None


def _label_starts(body: str) -> list[int]:
    """Positions where a label word may start, found with str.find (fast, in C) on lowercase
    text; a case-insensitive regex alternation tried at every position costs ten times more."""
    lower = body.lower()
    if len(lower) != len(body):  # rare letters that lowercase to two: fall back to the regex
        return [m.start() for m in _ANY_LABEL.finditer(body)]
    starts: set[int] = set()
    for needle in _NEEDLES:
        pos = lower.find(needle)
        while pos != -1:
            starts.add(pos)
            pos = lower.find(needle, pos + 1)
    return sorted(starts)


def labelled_dates(tree: HtmlElement) -> tuple[str | None, str | None]:
    """Return the first (published, updated) dates that a visible label names as such."""
    body = " ".join(visible_text(tree).split())
    found: dict[bool, str] = {}
    for start in _label_starts(body):
        m = _ANY_LABEL.match(body, start)
        if m is None or (is_update := m.group(1) is None) in found:
            continue
        after = body[m.end() : m.end() + _LABEL_REACH]
        dates = _dates_in(after)
        # The date must follow the label closely ("Veröffentlicht am Samstag, 3. Mai 2025").
        if dates and dates[0][0] <= _LABEL_GAP and not _ANY_LABEL.search(after[: dates[0][0]]):
            found[is_update] = dates[0][2]
        if len(found) == 2:
            break
    return found.get(False), found.get(True)


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
