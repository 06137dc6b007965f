"""trafilatura's page metadata, without its unconditional htmldate call.

``bare_extraction(with_metadata=True)`` always runs htmldate's extensive search, which costs
about a tenth of an extraction, even on pages whose structured data already states the date.
This module repeats trafilatura's ``extract_metadata`` steps (same helpers, same order) but leaves
the date out, so that :mod:`extract.dates` can ask htmldate only when the page's own evidence
does not settle the date. Keep it in step with ``trafilatura.metadata.extract_metadata`` when
upgrading trafilatura (the extractor version string records which one we run).
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from typing import Any

from courlan import extract_domain
from htmldate import find_date
from lxml.etree import XPath
from lxml.html import HtmlElement
from trafilatura.baseline import block_text
from trafilatura.metadata import (
    META_URL,
    Document,
    examine_meta,
    extract_catstags,
    extract_license,
    extract_meta_json,
    extract_sitename,
    extract_url,
    line_processing,
)
from trafilatura.xpaths import CATEGORIES_XPATHS, TAGS_XPATHS

from .meta import without_tags
from .options import DATE_PARAMS

LOG = logging.getLogger(__name__)


def page_metadata(tree: HtmlElement, url: str | None, jsonld: list[dict[str, Any]] | None = None
                  ) -> Document:
    """Return meta title and author, URL, sitename, categories, tags, licence; no date.

    With ``jsonld`` (the page's objects, already parsed) its headline, publisher name and
    sections are taken from them instead of trafilatura re-reading every JSON-LD script.
    """
    metadata = examine_meta(tree)
    if metadata.author and " " not in metadata.author:
        metadata.author = None  # single-word "authors" are mostly site names (as trafilatura)
    if jsonld is None:
        try:
            metadata = extract_meta_json(tree, metadata)
        except Exception:  # bugs in trafilatura's JSON-LD reader must not lose the page
            LOG.debug("JSON-LD metadata failed", exc_info=True)
    else:
        _from_jsonld(metadata, jsonld)
    # No title or author search in the page body here: extract.titles and extract.bylines
    # read headings and bylines themselves (trafilatura's author search copies the whole tree).
    if not metadata.url:
        metadata.url = extract_url(tree, url)
    if metadata.url:
        metadata.hostname = extract_domain(metadata.url, fast=True)
    if not metadata.sitename:
        metadata.sitename = extract_sitename(tree)
    if metadata.sitename:
        metadata.sitename = metadata.sitename.lstrip("@")
        if "." not in metadata.sitename and not metadata.sitename[0].isupper():
            metadata.sitename = metadata.sitename.title()
    elif metadata.url and (match := META_URL.match(metadata.url)):
        metadata.sitename = match[1]
    if not metadata.categories:
        metadata.categories = catstags("category", tree)
    if not metadata.tags:
        metadata.tags = catstags("tag", tree)
    metadata.license = extract_license(tree)
    metadata.clean_and_trim()
    if metadata.description:
        metadata.description = without_tags(_MORE_LINK.sub("", metadata.description)) or None
    return metadata


# WordPress excerpts as descriptions end in their link to the article ("...and<a
# class="excerpt-read-more" href=...>Read More</a>"): a short link at the very end goes.
_MORE_LINK = re.compile(r"<a\b[^<>]*>[^<>]{0,40}</a>\s*$", re.I)
_EXSLT = {"re": "http://exslt.org/regular-expressions"}


@lru_cache(maxsize=2)
def _ancestor_tests(metatype: str) -> list[XPath] | None:
    """trafilatura's category or tag XPaths (``//BOX[...]//a[@href]``) turned around: does a
    link sit in such a box (``boolean(ancestor::BOX[...])``)? None when one has another shape."""
    tests = []
    for expr in CATEGORIES_XPATHS if metatype == "category" else TAGS_XPATHS:
        match = re.fullmatch(r"//(\w+|\*)(\[.*\])//a\[@href\]", expr.path.strip(), re.S)
        if match is None:
            return None
        tests.append(XPath(f"boolean(ancestor::{match[1]}{match[2]})", namespaces=_EXSLT))
    return tests


def catstags(metatype: str, tree: HtmlElement) -> list[str]:
    """``trafilatura.metadata.extract_catstags``, same result, from the links that can count.

    trafilatura walks the whole tree once per XPath (ten, about 4 ms a page); only links whose
    href names a category or tag (``/category/``, ``/tags/``...) are ever kept, so those few
    are found first and each is asked whether it sits in one of the XPaths' boxes.
    """
    tests = _ancestor_tests(metatype)
    if tests is None:  # a trafilatura release with other XPaths: its own, slower search
        return extract_catstags(metatype, tree)
    stem = "/" + metatype.rstrip("y")
    wanted = re.compile(re.escape(stem) + "(?:y|ies|s)?/")
    links = [a for a in tree.xpath(f"//a[contains(@href, '{stem}')]")
             if wanted.search(a.attrib["href"])]
    results: list[str] = []
    for test in tests if links else ():
        results.extend(block_text(a) for a in links if test(a))
        if results:
            break
    if metatype == "category" and not results:  # trafilatura's fallback, as it writes it
        results.extend(element.attrib["content"] for element in tree.xpath(
            './/head//meta[@property="article:section" or contains(@name, "subject")][@content]'))
    return [r for r in dict.fromkeys(line_processing(x) for x in results if x) if r]


def _from_jsonld(metadata: Document, jsonld: list[dict[str, Any]]) -> None:
    """Fill title, site name and categories from JSON-LD where the meta tags gave none."""
    for obj in jsonld:  # article-like objects come first
        headline, section, publisher = obj.get("headline"), obj.get("articleSection"), obj.get("publisher")
        if not metadata.title and isinstance(headline, str) and headline.strip():
            metadata.title = headline.strip()
        if not metadata.sitename and isinstance(publisher, dict) and isinstance(publisher.get("name"), str):
            metadata.sitename = publisher["name"].strip() or None
        if not metadata.categories and section:
            sections = section if isinstance(section, list) else [section]
            metadata.categories = [str(x).strip() for x in sections if str(x).strip()]


def htmldate_guess(tree: HtmlElement, url: str | None) -> str | None:
    """htmldate's guess with the same parameters trafilatura would use (it copies the tree)."""
    try:
        found = find_date(tree, url=url, **DATE_PARAMS)  # type: ignore[arg-type]
    except Exception:  # htmldate bugs cost the guess, not the page
        LOG.debug("htmldate failed", exc_info=True)
        return None
    return str(found) if found else None
