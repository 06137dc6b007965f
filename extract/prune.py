"""Remove teaser lists ("top stories", video strips, related links) from extracted text.

News templates repeat one block per teaser: same tag and class, a short headline that is a link
or a heading, maybe a date. Article prose does not look like that, so a container whose children
are mostly such repeated short blocks is boilerplate wherever it sits in the page. trafilatura
keeps some of these lists when they share a parent with the article (tert.am puts the article,
"top of the day" and the video strip in one <main>).

The lists are found on the page but removed from the *output* text: cutting them out of the tree
first changes which container trafilatura picks as the article, and costs recall elsewhere.
"""

from __future__ import annotations

from collections import Counter

from lxml.etree import Element
from lxml.html import HtmlElement

_MIN_REPEATS = 4
_MAX_TEASER_CHARS = 300
_MAX_LINKED_CHARS = 800
_MAX_LOOSE_CHARS = 80  # text beside the headline: a date, a rubric
_MIN_LINE_CHARS = 3
# Fewer consecutive teaser lines than this may be a quoted headline inside the article.
_MIN_RUN = 3
_SKIP_PARENTS = {"html", "body", "table", "tbody", "thead", "tr", "select", "head"}
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")


class _Lengths(dict[HtmlElement, int]):
    """Whitespace-normalised text length per element, computed once: the scan below asks for
    the same parents, children and links many times, and text_content() walks whole subtrees."""

    def of(self, el: HtmlElement) -> int:
        size = self.get(el)
        if size is None:
            size = self[el] = len(" ".join(el.text_content().split()))
        return size


def _is_teaser(el: HtmlElement, lengths: _Lengths) -> bool:
    total = lengths.of(el)
    if total == 0 or total > _MAX_LINKED_CHARS:
        return False
    linked = sum(lengths.of(a) for a in el.iter("a"))
    # A teaser with a summary can be long, but then the whole block is the link.
    if linked >= 0.85 * total or (linked >= 0.6 * total and total <= _MAX_TEASER_CHARS):
        return True
    if total > _MAX_TEASER_CHARS:
        return False
    headed = sum(lengths.of(h) for h in el.iter(*_HEADINGS))
    return headed > 0 and total - headed <= _MAX_LOOSE_CHARS


def _signature(el: HtmlElement) -> tuple[str, str]:
    return (str(el.tag), " ".join(sorted((el.get("class") or "").split())))


def _teasers(group: list[HtmlElement], lengths: _Lengths) -> list[HtmlElement] | None:
    """The group's teaser blocks if they are at least 80% of it, else None (decided as soon
    as too many are not: most repeated groups on a page are no teaser list)."""
    teasers: list[HtmlElement] = []
    allowed = len(group) - 0.8 * len(group)  # blocks that may fail the teaser test
    failed = 0
    for block in group:
        if _is_teaser(block, lengths):
            teasers.append(block)
        else:
            failed += 1
            if failed > allowed:
                return None
    return teasers


def teaser_lists(tree: HtmlElement) -> list[HtmlElement]:
    """Return the outermost containers that are lists of repeated teaser blocks."""
    found: list[HtmlElement] = []
    lengths = _Lengths()
    for parent in tree.iter(Element):
        # len() counts children in C: most elements are dismissed before any Python work.
        if len(parent) < _MIN_REPEATS or parent.tag in _SKIP_PARENTS:
            continue
        children = [c for c in parent if isinstance(c.tag, str) and c.tag not in ("script", "style")]
        if len(children) < _MIN_REPEATS:
            continue
        signatures = [_signature(c) for c in children]
        sig, repeats = Counter(signatures).most_common(1)[0]
        if repeats < _MIN_REPEATS or sig[0] in ("p", "br", "td", "option"):
            continue
        group = [c for c, s in zip(children, signatures, strict=True) if s == sig]
        teasers = _teasers(group, lengths)
        if teasers is None:
            continue
        parent_len = lengths.of(parent)
        if parent_len and sum(lengths.of(c) for c in teasers) >= 0.8 * parent_len:
            found.append(parent)
    outermost = set(found)
    return [el for el in found if not any(a in outermost for a in el.iterancestors())]


def teaser_texts(tree: HtmlElement) -> set[str]:
    """Return the whitespace-normalised texts of every element inside teaser lists."""
    texts: set[str] = set()
    for container in teaser_lists(tree):
        for el in container.iter():
            if isinstance(el.tag, str) and el.tag not in ("script", "style"):
                text = " ".join(el.text_content().split())
                if len(text) >= _MIN_LINE_CHARS:
                    texts.add(text)
    return texts


def _is_bullet(line: str) -> bool:
    return line.strip() in ("", "-", "*", "•")


def drop_teaser_lines(text: str, teasers: set[str]) -> str:
    """Remove runs of output lines that are teaser texts; isolated matches stay (may be body)."""
    if not teasers:
        return text
    lines = text.split("\n")
    marks = [" ".join(line.strip().lstrip("-*• ").split()) in teasers for line in lines]
    keep = [True] * len(lines)
    i = 0
    while i < len(lines):
        if not marks[i]:
            i += 1
            continue
        j, hits = i, 0
        while j < len(lines) and (marks[j] or _is_bullet(lines[j])):
            hits += marks[j]
            j += 1
        if hits >= _MIN_RUN:
            keep[i:j] = [False] * (j - i)
        i = j
    # A bullet marker left alone after its teaser was removed is noise too.
    return "\n".join(
        line for k, line in enumerate(lines)
        if keep[k] and not (line.strip() == "-" and not any(keep[k + 1 : k + 2]))
    ).strip()  # fmt: skip
