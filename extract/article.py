"""extract_article: bytes or text of one fetched page -> ArticleResult with an explicit status."""

from __future__ import annotations

import copy
import hashlib
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

import trafilatura
from lxml.etree import XPath, XPathError
from lxml.html import HtmlElement
from trafilatura.settings import Document

from . import dates
from .bylines import SEPARATOR, authors
from .classify import access_of, binary_kind, drop_paywall_lines, not_article_reason, original_url
from .dates import DateCandidate
from .decode import decode_html
from .headline import choose_title, heading_text, site_names_of
from .meta import canonical_url, choose_lang, declared_lang, license_of, meta_content
from .options import EXTRACTOR_VERSION, options_for
from .parse import load_page
from .prune import drop_teaser_lines, teaser_texts
from .titles import SiteNames, key
from .trafmeta import htmldate_guess, page_metadata

LOG = logging.getLogger(__name__)
_MIN_TEXT = 1
# trafilatura sometimes keeps only a caption or teaser of a long page. Below this many characters
# we compare with its plain "baseline" extractor and take that when it finds far more text.
_TINY_TEXT = 250
_FALLBACK_FACTOR = 4


@dataclass
class ArticleResult:
    """Everything extracted from one page; status is ok, empty, not_article or error."""

    status: str
    title: str | None = None  # the headline as the page shows it (site name stripped)
    author: str | None = None  # the authors' names joined by ", "
    date: str | None = None
    date_source: str | None = None
    modified: str | None = None
    text: str = ""
    lang: str | None = None
    sitename: str | None = None
    description: str | None = None
    canonical_url: str | None = None
    license: str | None = None
    fingerprint: str | None = None
    extractor_version: str = EXTRACTOR_VERSION
    error: str | None = None
    encoding: str | None = None
    date_candidates: list[DateCandidate] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    reason: str | None = None  # why a page is not_article or empty, for logs and the archive
    page_title: str | None = None  # the raw <title>, nothing stripped
    authors: list[str] = field(default_factory=list)  # names only, in the page's order
    access: str = "open"  # open, paywalled or teaser: how much of the article the page holds


def fingerprint(text: str) -> str | None:
    """Return sha256 hex of the whitespace-collapsed, casefolded text (None for no text)."""
    norm = " ".join(text.split()).casefold()
    return hashlib.sha256(norm.encode("utf-8")).hexdigest() if norm else None


def extract_article(html: str | bytes, url: str | None = None, **hints: Any) -> ArticleResult:
    """Extract text and metadata from one page; never raises."""
    try:
        return _extract(html, url, hints)
    except Exception as exc:  # the crawler must get a result row, whatever the page holds
        LOG.debug("extraction failed for %s", url, exc_info=True)
        return ArticleResult(status="error", error=f"{type(exc).__name__}: {exc}")


def _str_hint(hints: Mapping[str, Any], name: str) -> str | None:
    value = hints.get(name)
    return value.strip() or None if isinstance(value, str) else None


def _list_hint(hints: Mapping[str, Any], name: str) -> list[str]:
    value = hints.get(name)
    values = [value] if isinstance(value, str) else list(value or []) if isinstance(value, list | tuple) else []
    return [v.strip() for v in values if isinstance(v, str) and v.strip()]


def _prune_paths(hints: Mapping[str, Any]) -> list[XPath]:
    raw = hints.get("prune_xpath") or []
    exprs = [raw] if isinstance(raw, str) else list(raw)
    compiled = []
    for expr in exprs:
        try:
            compiled.append(XPath(expr))
        except (XPathError, TypeError):
            LOG.warning("ignoring invalid prune_xpath %r", expr)
    return compiled


def _fallback(tree: HtmlElement, text: str) -> str:
    _, baseline_text, _ = trafilatura.baseline(copy.deepcopy(tree))
    baseline_text = (baseline_text or "").replace("\x00", "").strip()
    return baseline_text if len(baseline_text) > _FALLBACK_FACTOR * max(len(text), 50) else text


_COPYRIGHT = re.compile(r"^(©|\(c\)|copyright\b|all rights reserved)", re.I)


def trim_edges(text: str, title: str | None, *shown: str) -> str:
    """Drop a leading copy of the headline (as chosen, as a page heading ``shown`` it, or run on
    from its kicker: "KickerHeadline") and trailing copyright lines from the body text."""
    lines = text.split("\n")
    if lines and (any(t and _same(lines[0], t) for t in (title, *shown)) or _kicked(lines[0], title)):
        lines = lines[1:]
    while lines and len(lines[-1]) < 200 and _COPYRIGHT.match(lines[-1].strip()):
        lines.pop()
    return "\n".join(lines).strip()


_MIN_KICKED = 20  # characters of a headline, so that a short one never ends a paragraph by chance
_MAX_KICKER = 80


def _kicked(line: str, title: str | None) -> bool:
    """The line is the headline behind a kicker ("SVP-Parteitag zur MigrationChiesa ruft ...")."""
    head = key(title or "")
    return len(head) >= _MIN_KICKED and len(line) <= len(title or "") + _MAX_KICKER and key(line).endswith(head)


def _same(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def _extract(html: str | bytes, url: str | None, hints: Mapping[str, Any]) -> ArticleResult:
    content_type = _str_hint(hints, "content_type")
    encoding = None
    if isinstance(html, bytes | bytearray):
        if kind := binary_kind(bytes(html), content_type):
            return ArticleResult(status="not_article", reason=kind)
        html, encoding = decode_html(bytes(html), content_type)
    elif not isinstance(html, str):
        raise TypeError(f"html must be str or bytes, not {type(html).__name__}")
    html = html.replace("\x00", "")
    if not html.strip():
        return ArticleResult(status="empty", encoding=encoding, reason="no content")
    tree = load_page(html)
    if tree is None:
        return ArticleResult(status="empty", encoding=encoding, reason="unparseable HTML")
    return _from_tree(tree, url, hints, encoding)


def _from_tree(
    tree: HtmlElement, url: str | None, hints: Mapping[str, Any], encoding: str | None
) -> ArticleResult:
    work = tree
    if paths := _prune_paths(hints):
        work = copy.deepcopy(tree)  # the original keeps its metadata and date evidence
        for path in paths:
            for el in path(work):
                if isinstance(el, HtmlElement) and el.getparent() is not None:
                    el.drop_tree()
    raw = trafilatura.bare_extraction(work, options=options_for(url))
    body = raw if isinstance(raw, Document) else None
    text = (body.text or "").replace("\x00", "").strip() if body is not None else ""
    if len(text) < _TINY_TEXT:
        text = _fallback(work, text)
    if text.count("\n") >= 2:  # a teaser run is at least three lines: skip the page scan
        text = drop_teaser_lines(text, teaser_texts(tree))
    jsonld = dates.jsonld_objects(tree)
    doc = page_metadata(tree, url, jsonld)
    page_url = original_url(url)
    site = SiteNames.build(site_names_of(tree, jsonld, _list_hint(hints, "site_name"), page_url),
                           page_url, _list_hint(hints, "title_affixes"))
    title, page_title = choose_title(tree, doc.title, jsonld, site, page_url)
    site.learn(page_title, title)
    names = authors(tree, jsonld, site, doc.author, title)
    text = trim_edges(text, title, *(heading_text(h) for h in islice(tree.iter("h1"), 3)))
    cands = dates.collect(tree, url, lambda: htmldate_guess(tree, doc.url or url), hints, jsonld)
    first_seen = _str_hint(hints, "first_seen")
    published = dates.choose(cands, "published", first_seen)
    modified = dates.choose(cands, "modified", first_seen)

    title = title or _str_hint(hints, "feed_title") or _str_hint(hints, "sitemap_title")
    og_type = (meta_content(tree, "og:type") or "").lower() or None
    reason = not_article_reason(tree, url, text, jsonld, og_type)
    status = "not_article" if reason else "ok" if len(text) >= _MIN_TEXT else "empty"
    access, why = access_of(tree, text, jsonld, url) if status != "not_article" else ("open", None)
    if access != "open":
        # A teaser behind a wall is still the article: headline, byline, date and teaser.
        text = drop_paywall_lines(text) or text
        reason = reason or why
    return ArticleResult(
        status=status,
        title=title,
        author=SEPARATOR.join(names) or None,
        date=published.value if published else None,
        date_source=published.source if published else None,
        modified=modified.value if modified else None,
        text=text,
        lang=choose_lang(declared_lang(tree), text or title or "", _str_hint(hints, "language")),
        sitename=doc.sitename,
        description=doc.description or meta_content(tree, "description"),
        canonical_url=canonical_url(tree, url),
        license=license_of(tree, url) or doc.license,
        fingerprint=fingerprint(text),
        encoding=encoding,
        date_candidates=cands,
        categories=list(doc.categories or []),
        tags=list(doc.tags or []),
        reason=reason or (None if text else "no main text found"),
        page_title=page_title,
        authors=names,
        access=access,
    )
