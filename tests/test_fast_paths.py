"""Shortcuts taken for speed decide exactly as the slower code they replaced.

Each reference XPath below is the definition a walk was written from; the walks run in
Python over elements chosen in C because the XPaths (translate(), unions of `//` steps,
equality tests on every element) cost up to 2 ms a page. A cheap regex that rules out
slashed dates must never rule one out that the exact regex finds."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import html as lhtml

from extract.bylines import _byline_elements
from extract.classify import binary_kind, control_bytes
from extract.dates import _SLASHED, _SLASHED_HINT, date_style
from extract.datesources import microdata_candidates
from extract.decode import decode_html
from extract.meta import _licence_links
from extract.parse import load_page

pytestmark = pytest.mark.unit

PAGES = Path(__file__).resolve().parent / "pages"
BYLINE = ('//*[@itemprop="author"]|//a[contains(concat(" ", @rel, " "), " author ")]'
          '|//*[contains(translate(@class, "BYLINEAUTHOR", "bylineauthor"), "byline")'
          ' or contains(translate(@class, "BYLINEAUTHOR", "bylineauthor"), "author")'
          ' or contains(translate(@id, "BYLINEAUTHOR", "bylineauthor"), "byline")'
          ' or contains(translate(@id, "BYLINEAUTHOR", "bylineauthor"), "author")]|//address')
LICENCE = ('//*[self::link or self::a][contains(concat(" ", @rel, " "), " license ")]/@href',
           '//a[contains(@href, "creativecommons.org/")]/@href')
# Elements the XPaths must agree on: class case, rel tokens, links without href, comments.
EDGE = """<html><head><link rel="license stylesheet" href="/l1"><link rel="licensed" href="/x">
<link rel="license"><link rel="alternate" href="https://creativecommons.org/about/"></head><body><!-- author --><div class="ArticleByLine">A</div>
<span class="post-AUTHOR-name">B</span><a rel="nofollow author" href="/a">C</a>
<a rel="authors" href="/b">D</a><address>E</address><p itemprop="author">F</p>
<p itemprop="authors">G</p><div class="bylin e">H</div><div id="Author_Header">I</div>
<a href="https://creativecommons.org/licenses/by/4.0/" rel="license">CC</a>
<a href="//creativecommons.org/licenses/by-nc/4.0/">CC2</a></body></html>"""


def _trees() -> list[lhtml.HtmlElement]:
    trees = [load_page(EDGE)]
    for page in sorted(PAGES.glob("*/input.html")):
        tree = load_page(decode_html(page.read_bytes())[0])
        if tree is not None:
            trees.append(tree)
    return [t for t in trees if t is not None]


TREES = _trees()


def test_the_byline_walk_selects_what_the_xpath_selects() -> None:
    assert len(TREES) > 40  # every recorded page
    for tree in TREES:
        assert _byline_elements(tree) == tree.xpath(BYLINE)
    assert [el.text for el in _byline_elements(TREES[0])] == ["A", "B", "C", "E", "F", "I"]


def test_the_licence_walk_finds_what_the_xpaths_find() -> None:
    for tree in TREES:
        assert _licence_links(tree) == tree.xpath(LICENCE[0]) + tree.xpath(LICENCE[1])
    assert _licence_links(TREES[0]) == [
        "/l1", "https://creativecommons.org/licenses/by/4.0/",
        "https://creativecommons.org/licenses/by/4.0/",
        "//creativecommons.org/licenses/by-nc/4.0/"]


def test_microdata_dates_come_from_visible_elements_only() -> None:
    tree = load_page('<html><head><meta itemprop="datePublished" content="2020-01-01"></head>'
                     '<body><span itemprop="dateModified">3 May 2024</span>'
                     '<time itemprop="datePublished" datetime="2024-05-02">x</time></body></html>')
    found = [(c.kind, c.value[:10]) for c in microdata_candidates(tree)]
    assert found == [("modified", "2024-05-03"), ("published", "2024-05-02")]


@pytest.mark.parametrize("text", [
    "3/4/2024", "on 12/31/2024, then", "x1/2/2020", "05/06/20245", "/1/1/2000", "11/1/1999.",
    "1/2/3/2004", "a 3 / 4 / 2024", "2024/03/04", "12/2024", "no dates at all"])
def test_the_slash_hint_matches_wherever_a_slashed_date_does(text: str) -> None:
    assert bool(_SLASHED_HINT.search(text)) >= bool(_SLASHED.search(text))


@pytest.mark.parametrize(("known", "visible", "order"), [
    ('<time datetime="2024-04-03">x</time>', "Posted 4/3/2024", "mdy"),
    ('<time datetime="2024-03-04">x</time>', "Posted 4/3/2024", "dmy"),
    ("", "Posted 25/3/2024", "dmy"),
    ("", "Posted 3/25/2024", "mdy"),
    ("", "Posted 3 April 2024", None)])
def test_the_date_order_still_comes_from_slashed_dates(known: str, visible: str,
                                                       order: str | None) -> None:
    tree = load_page(f"<html lang=en><body>{known}<p>{visible}</p></body></html>")
    assert date_style(tree, [], visible).order == order


def test_control_bytes_count_what_the_byte_loop_counted() -> None:
    # The definition control_bytes() was written from: bytes below 32 other than 9-13.
    samples = [bytes(range(256)), b"", b"plain text\r\n\tand a form feed \x0c",
               bytes(range(256)) * 9, b"\x00" * 100 + b"<html>", "Հայերեն, русский".encode()]
    samples += [page.read_bytes()[:2048] for page in sorted(PAGES.glob("*/input.html"))]
    for sample in samples:
        assert control_bytes(sample) == sum(b < 9 or 13 < b < 32 for b in sample)
    # And the verdict it feeds: more than one byte in ten makes binary data (300 bytes here).
    assert binary_kind(b"<p>" + b"\x01" * 31 + b"a" * 266, None) == "binary data"
    assert binary_kind(b"<p>" + b"\x01" * 30 + b"a" * 267, None) is None
