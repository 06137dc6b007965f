"""Date evidence sources: parsing date strings, structured data, <time> elements, URLs.

Each function yields candidates of one source; :mod:`extract.dates` collects them and applies
the choice rule. Kept apart so that the rule module stays readable.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from lxml.html import HtmlElement

from .dateline import find_date
from .dateparse import ANY_STYLE, DateStyle, parse_date


@dataclass(frozen=True)
class DateCandidate:
    """One piece of date evidence: kind is "published" or "modified"."""

    kind: str
    value: str
    source: str


_PUBLISHED_META = (
    "article:published_time", "og:article:published_time", "og:published_time",
    "article:published", "datepublished", "publishdate", "publish-date", "publish_date",
    "published_time", "published-date", "publication_date", "pubdate", "pub_date",
    "og:pubdate", "sailthru.date", "parsely-pub-date", "article.published",
    "cxenseparse:recs:publishtime", "dc.date.issued", "dcterms.issued", "dc.date.created",
    "dcterms.created", "dc.date", "dcterms.date", "citation_publication_date", "citation_date",
    "originalpublicationdate", "article_date_original", "date", "created",
)  # fmt: skip
_MODIFIED_META = (
    "article:modified_time", "og:article:modified_time", "og:updated_time", "article:modified",
    "datemodified", "dc.date.modified", "dcterms.modified", "last-modified", "modified_time",
    "lastmod", "updated_time", "modified",
)  # fmt: skip
_PUBLISHED_RANK = {name: i for i, name in enumerate(_PUBLISHED_META)}
_MODIFIED_RANK = {name: i for i, name in enumerate(_MODIFIED_META)}
_ARTICLE_TYPES = re.compile(r"article|posting|report|news|story|review|opinion", re.I)

# /2020/9/23/ as path segments, or 2020-09-23 with two-digit parts; "/2023/10/3-fragen" is not a day.
_URL_DATE = re.compile(
    r"/((?:19|20)\d{2})/(0?[1-9]|1[0-2])/(0?[1-9]|[12]\d|3[01])(?=/|$|\.)"
    r"|(?<!\d)((?:19|20)\d{2})[_-](0[1-9]|1[0-2])[_-](0[1-9]|[12]\d|3[01])(?!\d)"
)
EARLIEST = date(1995, 1, 1)
_MAX_WORDY = 60
# Generic names that many CMSs fill with the render or last-edit time, not the publication.
_WEAK_META = {"date", "dc.date", "dcterms.date", "created"}


def to_iso(value: str | None, order: str | None = None, lang: str | None = None) -> str | None:
    """Normalise a date string to ISO 8601 (offset kept as written), or None if unparseable."""
    return parse_date(value, order, lang)


def day_of(iso: str) -> date | None:
    """Return the calendar day written at the start of an ISO string."""
    try:
        return date.fromisoformat(iso[:10])
    except ValueError:
        return None


def _attr(el: HtmlElement, *names: str) -> str | None:
    for name in names:
        value = el.get(name)
        if value and value.strip():
            return value.strip()
    return None


def _type_of(node: dict[str, Any]) -> str:
    kind = node.get("@type", "")
    return " ".join(map(str, kind)) if isinstance(kind, list) else str(kind)


def _walk_jsonld(node: Any, out: list[tuple[bool, dict[str, Any]]]) -> None:
    if isinstance(node, list):
        for item in node:
            _walk_jsonld(item, out)
    elif isinstance(node, dict):
        out.append((bool(_ARTICLE_TYPES.search(_type_of(node))), node))
        for key in ("@graph", "mainEntity", "mainEntityOfPage", "itemListElement"):
            if key in node:
                _walk_jsonld(node[key], out)


def jsonld_objects(tree: HtmlElement) -> list[dict[str, Any]]:
    """Return JSON-LD objects of the page, article-like types first."""
    found: list[tuple[bool, dict[str, Any]]] = []
    for script in tree.xpath('//script[contains(translate(@type,"LDJSON","ldjson"),"ld+json")]'):
        raw = (script.text or "").strip()
        raw = raw.removeprefix("<![CDATA[").removesuffix("]]>").strip()
        try:
            data = json.loads(raw, strict=False)
            _walk_jsonld(data, found)
        except (ValueError, RecursionError):  # a hostile page nests thousands of levels deep
            continue
    return [obj for _, obj in sorted(found, key=lambda pair: not pair[0])]


def jsonld_candidates(objects: list[dict[str, Any]], style: DateStyle = ANY_STYLE
                      ) -> Iterator[DateCandidate]:
    """JSON-LD datePublished/dateCreated/uploadDate and dateModified, in object order.

    A video's ``uploadDate`` dates the page only where no article-like object is dated: on an
    article it is the embedded clip's upload, often months older than the article.
    """
    dated_article = any(_ARTICLE_TYPES.search(_type_of(obj)) and isinstance(obj.get(key), str)
                        for obj in objects for key in ("datePublished", "dateCreated"))
    for obj in objects:
        for key, kind in (("datePublished", "published"), ("dateCreated", "published"),
                          ("uploadDate", "published"), ("dateModified", "modified")):  # fmt: skip
            if key == "uploadDate" and dated_article:
                continue
            value = obj.get(key)
            if isinstance(value, str) and (iso := to_iso(value, style.order, style.lang)):
                yield DateCandidate(kind, iso, "json-ld")


def meta_candidates(tree: HtmlElement, style: DateStyle = ANY_STYLE) -> Iterator[DateCandidate]:
    """Meta tag dates, best-ranked names first; generic names are marked "weak-meta:"."""
    found: list[tuple[int, DateCandidate]] = []
    for meta in tree.iter("meta"):
        name = (_attr(meta, "property", "name", "itemprop", "http-equiv") or "").lower()
        if name not in _PUBLISHED_RANK and name not in _MODIFIED_RANK:
            continue
        iso = to_iso(meta.get("content"), style.order, style.lang)
        if not iso:
            continue
        if name in _PUBLISHED_RANK:
            source = f"weak-meta:{name}" if name in _WEAK_META else f"meta:{name}"
            found.append((_PUBLISHED_RANK[name], DateCandidate("published", iso, source)))
        else:
            found.append((_MODIFIED_RANK[name], DateCandidate("modified", iso, f"meta:{name}")))
    yield from (cand for _, cand in sorted(found, key=lambda pair: pair[0]))


def microdata_candidates(tree: HtmlElement, style: DateStyle = ANY_STYLE
                         ) -> Iterator[DateCandidate]:
    """itemprop datePublished/dateModified on visible elements."""
    # Elements with any itemprop are few; the XPath's two equality tests on every element
    # cost about as much as the walk itself.
    for el in tree.xpath("//*[@itemprop]"):
        prop = el.get("itemprop")
        if el.tag == "meta" or prop not in ("datePublished", "dateModified"):
            continue
        kind = "published" if prop == "datePublished" else "modified"
        iso = to_iso(_attr(el, "datetime", "content") or el.text_content(), style.order, style.lang)
        if iso:
            yield DateCandidate(kind, iso, "microdata")


def time_candidates(tree: HtmlElement, style: DateStyle = ANY_STYLE) -> Iterator[DateCandidate]:
    """The article's own <time>: pubdate-marked, first inside <article>, else the first."""
    times = tree.xpath("//time")
    # An explicit pubdate marker, or the first <time> in an <article>, is the article's own.
    marked = [t for t in times if t.get("pubdate") is not None] + tree.xpath("(//article//time)[1]")
    for el in marked + times[:1]:
        # The machine-readable attribute first; else the printed text ("31.03.2020").
        raw = el.get("datetime")
        iso = to_iso(raw, style.order, style.lang) if raw else None
        if iso is None:
            iso = find_date(" ".join(el.text_content().split())[:_MAX_WORDY], style)
        if iso:
            yield DateCandidate("published", iso, "time-element")
            return


def url_date(url: str | None) -> str | None:
    """Return the day written in a URL path (/2020/09/23/), if any."""
    if not url:
        return None
    match = _URL_DATE.search(urlsplit(url).path)
    if not match:
        return None
    y, mo, d = (int(g) for g in match.groups() if g is not None)
    try:
        return date(y, mo, d).isoformat()
    except ValueError:
        return None
