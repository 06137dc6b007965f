"""The page's one parse: trafilatura's loading rules, with element classes chosen in C.

lxml.html picks each element's Python class (FormElement, InputElement, …) in a Python method
that runs whenever a walk reaches an element without a live proxy: a few thousand calls a page
for our steps and many more for trafilatura's, which walks copies of the tree (a copy keeps
its document's parser, so it keeps the lookup too). Extraction never uses the form classes,
so every element here is an ``HtmlElement`` chosen by lxml's C default lookup: the same tree,
the same methods, without the Python call. The loading steps (repairs, the byte-string retry,
the dubious-HTML check) are trafilatura.utils.load_html's (Apache-2.0), so a page parses here
exactly as it would there.
"""

from __future__ import annotations

from lxml.etree import ElementDefaultClassLookup
from lxml.html import (
    HtmlComment,
    HtmlElement,
    HtmlEntity,
    HTMLParser,
    HtmlProcessingInstruction,
    fromstring,
)
from trafilatura.utils import is_dubious_html, repair_faulty_html

# trafilatura.utils.HTML_PARSER's options.
_PARSER = HTMLParser(collect_ids=False, default_doctype=False, encoding="utf-8",
                     remove_comments=True, remove_pis=True)
_PARSER.set_element_class_lookup(ElementDefaultClassLookup(
    element=HtmlElement, comment=HtmlComment, pi=HtmlProcessingInstruction, entity=HtmlEntity))


def load_page(html: str) -> HtmlElement | None:
    """Parse a decoded page as trafilatura.utils.load_html does; None when it is not HTML."""
    beginning = html[:50].lower()
    html = repair_faulty_html(html, beginning)
    tree: HtmlElement | None = None
    retried = False
    try:
        tree = fromstring(html, parser=_PARSER)
    except ValueError:  # "Unicode strings with encoding declaration are not supported."
        tree, retried = _from_bytes(html), True
    except Exception:  # trafilatura logs these and retries with bytes
        tree = None
    if (tree is None or len(tree) < 1) and not retried:
        tree = _from_bytes(html)
    if tree is not None and is_dubious_html(beginning) and len(tree) < 2:
        return None  # not (well-formed) HTML
    return tree


def _from_bytes(html: str) -> HtmlElement | None:
    try:
        return fromstring(html.encode("utf8", "surrogatepass"), parser=_PARSER)
    except Exception:  # libxml2 refuses some inputs outright: the page is then unparseable
        return None
