"""Find dates printed on the page: the dateline beside the headline, and labelled dates.

The dateline is read only from the text just after the page's headline <h1> (and a little
before it, past a kicker; on a page without <h1>, right beside the <h2> that the page title
repeats), because that is where templates print the publication date; dates
further down belong to the body or to sidebars and must never be taken for the article's date.
Picture captions are skipped (they date the photograph), and a higher block's neighbours are
not read once the text beside the headline already fills the window (they are comments and
sidebars). A date preceded by an "updated" label is the modification date, not the dateline.

A labelled date ("Veröffentlicht am 16.08.2019", "Опубликовано: 12 мая 2025", "입력 2024.05.14")
says what it is, so it may be read anywhere in the visible page, also where a verb-final
language puts the label after it ("am 3. Dezember 2011 um 10:15 Uhr veröffentlicht");
"Updated"/"Letzte Änderung"/"수정" labels give modification dates. Dates are found by :func:`extract.dateparse.dates_in_text`, with the
page's own numeric order and language (month names: :mod:`extract.months`).
"""

from __future__ import annotations

import re

from lxml.html import HtmlElement

from .dateparse import ANY_STYLE, DateStyle, dates_in_text

_WINDOW = 400
_BEFORE = 200
_NEAR = 100  # beside an <h2> headline
# Labels closer than this before a date describe it ("Updated: 12 May 2025, 10:15").
_LABEL_REACH = 40
_UPDATE_WORDS = (
    r"updated|modified|last edited|aktualisiert|letzte änderung|zuletzt geändert|geändert"
    r"|mis à jour|actualizado|actualizada|aggiornato|zaktualizowano|aktualizacja"
    r"|обновлено|обновлен|изменено|оновлено|թարմացվել|uppdaterad|oppdatert|opdateret"
    r"|bijgewerkt|güncellendi|güncelleme|päivitetty|수정|업데이트|更新日|更新"
)
_PUBLISH_WORDS = (
    r"published|posted|written|veröffentlicht|erschienen|erstellt|publié|publicado|publicada"
    r"|pubblicato|opublikowano|data publikacji|опубликовано|опубліковано|дата публикации"
    r"|հրապարակվել|publicerad|publisert|publiceret|gepubliceerd|yayınlanma|yayınlandı"
    r"|julkaistu|기사입력|입력|公開日|公開|配信日|配信|掲載日|掲載"
)
_UPDATED = re.compile(rf"(?:{_UPDATE_WORDS})\b[^\d]{{0,25}}$", re.I)
_ANY_LABEL = re.compile(rf"(?<![^\W\d_])(?:({_PUBLISH_WORDS})|{_UPDATE_WORDS})\b", re.I)
_LABEL_GAP = 25
_CAPTION_TAGS = {"figure", "figcaption", "picture"}
_HIDDEN = {"script", "style", "noscript", "template"}
_CAPTION_CLASS = re.compile(r"caption|credit", re.I)
_CLOCK_ONLY = re.compile(
    r"分?\s*(?:,?\s*(?:um|at|à|alle|a las|в|saat)?\s*[\d%][\d:.%HMhm時分]{0,7}\s*(?:Uhr|h|ч)?\.?)?\s*", re.I)
_NEEDLES = sorted({w.split()[0][:5] for w in f"{_UPDATE_WORDS}|{_PUBLISH_WORDS}".split("|")})


def visible_text(tree: HtmlElement) -> str:
    """The text of <body> without scripts and styles, words of adjacent elements apart."""
    body = tree.find("body")
    if body is None:
        # No <body> element: junk before <html> (a PHP warning) made the parser root the page
        # at a <div>; the whole tree is then the page's text.
        body = tree if tree.tag != "html" else None
    if body is None:
        return ""
    return _shown_text(body, captions=True)


def _is_updated(text: str, start: int) -> bool:
    return bool(_UPDATED.search(text[max(0, start - _LABEL_REACH) : start]))


def find_date(text: str, style: DateStyle = ANY_STYLE) -> str | None:
    """Return the first day-precise date in a short text that is not labelled as an update."""
    for start, _, day in dates_in_text(text, style.order, style.lang):
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


def _date_before(body: str, label: int, style: DateStyle) -> str | None:
    """The date that a label closes, as verb-final languages write it ("Dieser Beitrag wurde
    am 3. Dezember 2011 um 10:15 Uhr veröffentlicht"): only a clock may stand between them."""
    before = body[max(0, label - _LABEL_REACH) : label]
    dates = dates_in_text(before, style.order, style.lang)
    if dates and _CLOCK_ONLY.fullmatch(before[dates[-1][1] :]):
        return dates[-1][2]
    return None


def labelled_dates(tree: HtmlElement, style: DateStyle = ANY_STYLE, text: str | None = None
                   ) -> tuple[str | None, str | None]:
    """Return the first (published, updated) dates that a visible label names as such."""
    body = " ".join((visible_text(tree) if text is None else text).split())
    found: dict[bool, str] = {}
    for start in _label_starts(body):
        m = _ANY_LABEL.match(body, start)
        if m is None or (is_update := m.group(1) is None) in found:
            continue
        after = body[m.end() : m.end() + _LABEL_REACH]
        dates = dates_in_text(after, style.order, style.lang)
        # The date must follow the label closely ("Veröffentlicht am Samstag, 3. Mai 2025").
        if dates and dates[0][0] <= _LABEL_GAP and not _ANY_LABEL.search(after[: dates[0][0]]):
            found[is_update] = dates[0][2]
        elif day := _date_before(body, m.start(), style):
            found[is_update] = day
        if len(found) == 2:
            break
    return found.get(False), found.get(True)


def _is_caption(el: HtmlElement) -> bool:
    """A picture's caption or credit: it dates the photograph, not the article. A class named
    "caption" alone may be a type style ("type-caption"): the block must hold a picture too."""
    if el.tag in _CAPTION_TAGS:
        return True
    if not _CAPTION_CLASS.search(f"{el.get('class', '')} {el.get('id', '')}"):
        return False
    parent = el.getparent()
    return parent is not None and next(parent.iter("img", "picture", "video"), None) is not None


def _shown_text(el: HtmlElement, captions: bool = False) -> str:
    """An element's text as a reader sees it: without scripts and styles (they are not on
    the page), without picture captions unless asked, and with a space where two elements'
    words would touch ("1. November 2023" + "1. November 2023" is not "20231. November")."""
    pieces: list[str] = []
    _collect_text(el, pieces, captions)
    out: list[str] = []
    for piece in pieces:
        if out and piece and out[-1][-1:].isalnum() and piece[0].isalnum():
            out.append(" ")
        if piece:
            out.append(piece)
    return "".join(out)


def _collect_text(el: HtmlElement, pieces: list[str], captions: bool) -> None:
    if el.text:
        pieces.append(el.text)
    for child in el:
        if isinstance(child.tag, str) and child.tag not in _HIDDEN and (
                captions or not _is_caption(child)):
            _collect_text(child, pieces, captions)
        if child.tail:
            pieces.append(child.tail)


def _sibling_text(node: HtmlElement, limit: int, preceding: bool) -> tuple[str, int]:
    """Up to ``limit`` characters of the text beside an element (the end of what precedes it,
    or the start of what follows), and how much text that side holds (capped at ``limit``)."""
    parts: list[str] = []
    size = 0
    for el in node.itersiblings(preceding=preceding):
        if el.tag in ("script", "style") or not isinstance(el.tag, str) or _is_caption(el):
            continue
        chunk = " ".join(_shown_text(el).split())
        parts.append(chunk)
        size += len(chunk) + 1
        if size >= limit:
            break
    if preceding:
        return " ".join(reversed(parts))[-limit:], min(size, limit)
    return " ".join(parts)[:limit], min(size, limit)


_NOT_LETTERS = re.compile(r"[\W_]+")


def _letters(text: str) -> str:
    """Text compared by its letters and digits only: titles and headings differ in dashes."""
    return _NOT_LETTERS.sub(" ", text).strip().casefold()


_MIN_H2_HEADLINE = 20  # characters: a section name ("News") repeated in the title is no headline


def _headline(tree: HtmlElement) -> HtmlElement | None:
    """The page's headline element: its only <h1>, else the one that repeats the page title
    (on a page with no <h1>, the <h2> that does: some templates mark the headline up so)."""
    h1s = [h for h in tree.iter("h1") if h.text_content().strip()]
    if len(h1s) == 1:
        return h1s[0]
    title = _letters(tree.findtext(".//title") or "")
    if not h1s:
        h1s = [h for h in tree.iter("h2") if len(h.text_content().strip()) >= _MIN_H2_HEADLINE]
    # Several headings: the headline is the one the page title repeats; where the title also
    # repeats others (the site's and the section's names), it is the longest of them.
    texts = [(_letters(h.text_content()), h) for h in h1s]
    heads = sorted(((len(t), i) for i, (t, _) in enumerate(texts) if t and f" {t} " in f" {title} "),
                   reverse=True)
    if len(heads) == 1 or (len(heads) > 1 and heads[0][0] > 2 * heads[1][0]):
        return texts[heads[0][1]][1]
    return None


def visible_dateline(tree: HtmlElement, style: DateStyle = ANY_STYLE) -> str | None:
    """Return the date printed beside the page's main headline, if there is one."""
    h1 = _headline(tree)
    if h1 is None:
        return None
    # An <h2> headline is weaker evidence of the article's header: only a date right beside it.
    limit_before, limit_after = (_BEFORE, _WINDOW) if h1.tag == "h1" else (_NEAR, _NEAR)
    # Walk up a few levels: the dateline often sits in the header block around the <h1>, above
    # it (past a kicker) or below it (past a byline). Each level reads a window of text on
    # either side, but not beyond a side where the levels below already held a whole window
    # of text: what lies there (comments after the post, sidebars) is not the article's header.
    node: HtmlElement | None = h1
    before = after = 0  # text between the headline and the current level's siblings
    for _ in range(3):
        if node is None or (before >= limit_before and after >= limit_after):
            break
        above, size_above = (_sibling_text(node, limit_before - before, True)
                             if before < limit_before else ("", 0))
        below, size_below = (_sibling_text(node, limit_after - after, False)
                             if after < limit_after else ("", 0))
        if found := find_date(f"{above} {below}", style):
            return found
        before, after = before + size_above, after + size_below
        node = node.getparent()
    return None
