"""extract.parse.load_page parses a page exactly as trafilatura's load_html does, with element
classes chosen in C (a copy of the tree keeps that, so trafilatura's walks on copies do too)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from lxml import etree
from lxml.html import HtmlElement
from trafilatura.utils import load_html

from extract.decode import decode_html
from extract.parse import load_page

pytestmark = pytest.mark.unit

PAGES = Path(__file__).resolve().parent / "pages"
CASES = [
    "<!DOCTYPE html>\n<html><head><title>T</title></head><body><p>Text</p></body></html>",
    '<?xml version="1.0" encoding="utf-8"?>\n<html><body><p>Déclaration</p></body></html>',
    "<html/>\n<body><p>self-closing html</p></body>",
    "<!doctype html public \"-//W3C//DTD HTML 4.01//EN\">\n<html><body>x</body></html>",
    "<p>only a fragment</p>",  # dubious: no "html" in its start, one block: rejected
    "<div><p>a</p><p>b</p></div>",
    "<html><body><form><input name=q><select><option>1</select><textarea>t</textarea>"
    "<label>L</label></form>\x0b\x00</body></html>",
    "   ",
]


def _same(a: HtmlElement | None, b: HtmlElement | None) -> bool:
    if a is None or b is None:
        return a is b
    return bool(etree.tostring(a, encoding="unicode") == etree.tostring(b, encoding="unicode"))


@pytest.mark.parametrize("html", CASES)
def test_the_same_tree_as_trafilatura(html: str) -> None:
    assert _same(load_page(html), load_html(html))


def test_the_same_tree_on_every_recorded_page() -> None:
    pages = sorted(PAGES.glob("*/input.html"))
    assert len(pages) > 40
    for page in pages:
        html = decode_html(page.read_bytes())[0]
        assert _same(load_page(html), load_html(html)), page.parent.name


def test_every_element_is_a_plain_html_element_also_in_copies() -> None:
    tree = load_page(CASES[6])
    assert tree is not None
    for root in (tree, copy.deepcopy(tree), copy.copy(tree)):
        kinds = {type(el) for el in root.iter()}
        assert kinds == {HtmlElement}  # no FormElement, InputElement, SelectElement, …
        form = next(root.iter("form"))
        assert form.text_content() == "1tL" and hasattr(form, "drop_tree")
