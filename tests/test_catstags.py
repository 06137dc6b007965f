"""extract.trafmeta.catstags: trafilatura's categories and tags, found from the links first.

trafilatura's extract_catstags walks the whole tree once per XPath (about 4 ms a page);
catstags asks only the links whose href can count which box they sit in. It must return
exactly what trafilatura returns: checked on every recorded page and on a page built to hit
every box, nesting and fallback.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from lxml.etree import XPath
from trafilatura.metadata import extract_catstags
from trafilatura.utils import load_html

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from extract import decode_html, trafmeta  # noqa: E402
from extract.trafmeta import catstags  # noqa: E402

pytestmark = pytest.mark.unit

PAGES = sorted(p for p in (ROOT / "tests" / "pages").iterdir() if (p / "input.html").exists())

BOXES = """<html><head><title>t</title>
<meta property="article:section" content="Fallback section"></head><body>
<div class="post-meta"><a href="/category/politics/">Politics</a>
  <div class="meta inner"><a href="/category/politics/">Politics again</a></div>
  <a href="/about/">About</a></div>
<p class="postmeta"><a href="/categories/world/">World</a></p>
<footer class="entry-footer"><a href="/category/eu/">EU</a></footer>
<span class="cat-links x"><a href="/category/armenia/">Armenia</a></span>
<a href="/category/outside/">Outside every box</a>
<div class="tags"><a href="/tag/csto/">CSTO</a><a href="/tags/eaeu/">EAEU</a>
  <a href="/tagged/no/">not a tag URL</a></div>
<div class="topics-list"><a href="/tag/gyumri/">Gyumri</a></div>
<div class="metadata"><a href="/tagy/odd/">odd but matching</a></div>
<a class="entry-meta" href="/tag/self/">the box is the link itself: not inside one</a>
</body></html>"""


def _tree(html: str | bytes):  # noqa: ANN202 - an lxml HtmlElement
    return load_html(decode_html(html if isinstance(html, bytes) else html.encode())[0])


@pytest.mark.parametrize("case", PAGES, ids=lambda p: p.name)
def test_same_categories_and_tags_as_trafilatura_on_every_recorded_page(case: Path) -> None:
    tree = _tree((case / "input.html").read_bytes())
    for metatype in ("category", "tag"):
        assert catstags(metatype, tree) == extract_catstags(metatype, tree)


def test_every_box_nesting_and_order_as_trafilatura() -> None:
    tree = _tree(BOXES)
    categories, tags = catstags("category", tree), catstags("tag", tree)
    assert categories == extract_catstags("category", tree)
    assert tags == extract_catstags("tag", tree)
    # The first XPath with a hit wins (the post-meta div), in document order, deduplicated.
    assert categories == ["Politics", "Politics again"]
    assert tags == ["CSTO", "EAEU"]


def test_no_link_in_a_box_falls_back_to_the_section_meta_as_trafilatura() -> None:
    tree = _tree('<html><head><meta name="subject" content="Diplomacy"></head><body>'
                 '<div class="post-meta"><a href="/news/1">one</a></div>'
                 '<a href="/category/loose/">Loose</a></body></html>')
    assert catstags("category", tree) == extract_catstags("category", tree) == ["Diplomacy"]
    assert catstags("tag", tree) == extract_catstags("tag", tree) == []


def test_xpaths_of_another_shape_use_trafilaturas_own_search(monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    tree = _tree(BOXES)
    trafmeta._ancestor_tests.cache_clear()
    monkeypatch.setattr(trafmeta, "CATEGORIES_XPATHS",
                        [XPath("//div[@class='tags']/a[@href]"), *trafmeta.CATEGORIES_XPATHS])
    try:
        assert trafmeta._ancestor_tests("category") is None
        assert catstags("category", tree) == extract_catstags("category", tree)
        assert trafmeta._ancestor_tests("tag") is not None
    finally:
        trafmeta._ancestor_tests.cache_clear()
