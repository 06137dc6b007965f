"""Parse feeds, sitemaps and robots.txt into candidate article URLs (HTML listings: links.py)."""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from html import unescape
from html.entities import html5
from urllib.parse import urljoin

from lxml import etree

from crawler.web.urls import is_http_url
from extract.dateparse import parse_date
from extract.decode import bom_codec, decode_bytes

# The sitemap protocol caps files at 50 MB uncompressed; anything bigger is hostile or broken.
MAX_XML_BYTES = 50 * 1024 * 1024
_SNIFF_BYTES = 64 * 1024


class DiscoveryError(ValueError):
    """The body is not the expected kind of document, or is unsafe to parse."""


@dataclass(frozen=True)
class FeedEntry:
    """One feed item."""
    url: str
    title: str | None
    published: str | None
    published_raw: str | None
    position: int
    guid: str | None


@dataclass(frozen=True)
class Feed:
    """A parsed RSS/Atom feed."""
    kind: str
    title: str | None
    entries: tuple[FeedEntry, ...]


@dataclass(frozen=True)
class SitemapEntry:
    """One <url> of a urlset or <sitemap> of a sitemap index."""
    loc: str
    lastmod: str | None
    news_publication_date: str | None
    news_title: str | None
    news_language: str | None


@dataclass(frozen=True)
class Sitemap:
    """A parsed urlset or sitemap index."""
    kind: str
    entries: tuple[SitemapEntry, ...]


_BAD_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_AMP = re.compile(
    r"(<!\[CDATA\[.*?\]\]>|<!--.*?-->)|&(?:(#[0-9]{1,8}|#[xX][0-9A-Fa-f]{1,8}|[A-Za-z_][\w.-]*);)?",
    re.S,
)
_XML_PREDEFINED = frozenset({"amp", "lt", "gt", "quot", "apos"})


def _gunzip(body: bytes) -> bytes:
    """Decompress (possibly multi-member) gzip, refusing to produce more than MAX_XML_BYTES."""
    out = bytearray()
    data = body
    while data[:2] == b"\x1f\x8b":
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            out += inflater.decompress(data, MAX_XML_BYTES + 1 - len(out))
        except zlib.error as exc:
            raise DiscoveryError(f"bad gzip: {exc}") from None
        if len(out) > MAX_XML_BYTES:
            raise DiscoveryError(f"too large: gzip expands beyond {MAX_XML_BYTES} bytes")
        if not inflater.eof:
            break  # truncated download: keep what inflated so far
        data = inflater.unused_data
    return bytes(out)


def _unpack(body: bytes) -> bytes:
    """Size-check and gunzip a body detected by magic bytes, not by name."""
    if len(body) > MAX_XML_BYTES:
        raise DiscoveryError(f"too large: {len(body)} bytes")
    if body[:2] == b"\x1f\x8b":
        return _gunzip(body)
    return body


def _repair_entities(text: str) -> str:
    """Make stray '&' and HTML named entities well-formed XML.

    libxml2's recovery mode silently drops every later '&amp;'/'&lt;' once it has seen one
    undeclared entity, which would corrupt query strings in <link>; so fix them up front.
    Entities declared in an internal DTD are left for lxml, which will not expand them.
    """
    head = text[:_SNIFF_BYTES]
    declared = set(re.findall(r"<!ENTITY\s+([^\s%]\S*)", head)) if "<!ENTITY" in head else set()

    def fix(m: re.Match[str]) -> str:
        if m.group(1):
            return m.group(1)
        ref = m.group(2)
        if ref is None:
            return "&amp;"
        if ref[0] == "#":
            code = int(ref[2:], 16) if ref[1] in "xX" else int(ref[1:])
            valid = code in (9, 10, 13) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0x10FFFF
            return m.group(0) if valid and code not in (0xFFFE, 0xFFFF) else ""
        if ref in _XML_PREDEFINED or ref in declared:
            return m.group(0)
        value = html5.get(ref + ";")
        if value:
            return "".join(f"&#{ord(c)};" for c in value)
        return "&amp;" + ref + ";"

    return _AMP.sub(fix, text)


def _parse_xml(body: bytes, url: str, what: str) -> etree._Element:
    """Parse untrusted XML without entity expansion, network access or unbounded trees."""
    text = decode_bytes(_unpack(body))[0].lstrip("\ufeff \t\r\n")
    text = re.sub(r"^<\?xml[^>]*\?>", "", text)
    if not text.lstrip().startswith("<"):
        raise DiscoveryError(f"not a {what}: not XML")
    text = _repair_entities(_BAD_CHARS.sub("", text))
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, recover=True,
        load_dtd=False, dtd_validation=False, remove_comments=True, remove_pis=True,
    )
    try:
        root = etree.fromstring(text.encode("utf-8"), parser, base_url=url or None)
    except etree.XMLSyntaxError as exc:
        raise DiscoveryError(f"not a {what}: {exc}") from None
    # libxml2 aborts entity bombs even when not expanding; a half-read tree must not pass.
    if any(e.type_name == "ERR_RESOURCE_LIMIT" for e in parser.error_log):
        raise DiscoveryError(f"unsafe XML refused ({what}): entity amplification or size limit")
    if root is None:
        raise DiscoveryError(f"not a {what}: unparseable XML")
    return root


def _local(el: etree._Element) -> str:
    """Local tag name, '' for entity references and other non-elements."""
    tag = el.tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _ns(el: etree._Element) -> str:
    """Namespace URI of an element ('' if none)."""
    tag = el.tag
    return tag[1:].split("}", 1)[0] if isinstance(tag, str) and tag.startswith("{") else ""


def _kids(el: etree._Element, name: str) -> list[etree._Element]:
    """Direct children with the given local name (case-insensitive), any namespace."""
    low = name.lower()
    return [c for c in el if _local(c).lower() == low]


def _kid_text(el: etree._Element, *names: str) -> str | None:
    """Stripped text of the first non-empty child among `names`, in priority order."""
    for name in names:
        for child in _kids(el, name):
            text = "".join(child.itertext()).strip()
            if text:
                return text
    return None


# Namespaces whose <title>/<link> are the item's own (not media:title, dc:title, ...).
_FEED_NS = frozenset({
    "", "http://purl.org/rss/1.0/", "http://my.netscape.com/rdf/simple/0.9/",
    "http://backend.userland.com/rss2", "http://backend.userland.com/rss",
    "http://www.w3.org/2005/Atom", "http://purl.org/atom/ns#",
})
_ATOM_NS = frozenset({"http://www.w3.org/2005/Atom", "http://purl.org/atom/ns#"})
_RDF_ABOUT = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about"
_ABSOLUTE_HTTP = re.compile(r"https?://", re.I)
_FEED_KINDS = {"rss": "rss2", "channel": "rss2", "rdf": "rss1", "feed": "atom"}
_DATE_TAGS = ("pubDate", "date", "published", "issued", "created", "updated", "modified")
_TAG_RE = re.compile(
    r"<(/?)(a|abbr|b|big|br|cite|code|del|em|font|i|ins|mark|p|q|s|small|span|strike|strong"
    r"|sub|sup|u|img)\b[^<>]*>",
    re.I,
)


def _clean_text(raw: str | None) -> str | None:
    """Decode (double-)escaped entities, drop inline HTML tags and collapse whitespace."""
    if not raw:
        return None
    text = unescape(raw) if "&" in raw else raw
    if "<" in text:
        text = _TAG_RE.sub(lambda m: " " if m.group(2).lower() in ("br", "p") else "", text)
    return " ".join(text.split()) or None


def _title(el: etree._Element) -> str | None:
    """The item's own title, falling back to dc:title and friends."""
    titles = _kids(el, "title")
    for title in sorted(titles, key=lambda t: _ns(t) not in _FEED_NS):
        text = _clean_text("".join(title.itertext()))
        if text:
            return text
    return None


def _absolute(href: str | None, base: str) -> str | None:
    """Resolve a feed/sitemap link; None unless it ends up as an http(s) URL."""
    if not href:
        return None
    href = re.sub(r"[\t\r\n]", "", href).strip().replace("&amp;", "&")
    if _ABSOLUTE_HTTP.match(href):  # skipping urljoin halves the cost of a 50k-URL sitemap
        return href if is_http_url(href) else None
    try:
        resolved = urljoin(base, href)
    except ValueError:
        return None
    return resolved if is_http_url(resolved) else None


def _atom_link(el: etree._Element, base: str) -> str | None:
    """First rel=alternate (or rel-less) link, preferring HTML over other media types."""
    links = [
        link for link in _kids(el, "link")
        if link.get("href") and (link.get("rel") or "alternate").strip().lower() == "alternate"
    ]
    links.sort(key=lambda link: "html" not in (link.get("type") or "html"))
    for link in links:
        url = _absolute(link.get("href"), base)
        if url:
            return url
    return None


def _rss_link(el: etree._Element, base: str) -> str | None:
    """feedburner:origLink, <link>, atom:link, permalink <guid>, then rdf:about."""
    texts = [_kid_text(el, "origLink")]
    texts += ["".join(k.itertext()) for k in _kids(el, "link") if _ns(k) not in _ATOM_NS]
    for text in texts:
        found = _absolute(text, base)
        if found:
            return found
    found = _atom_link(el, base)
    for guid in [] if found else _kids(el, "guid"):
        if (guid.get("isPermaLink") or "true").strip().lower() != "false":
            found = found or _absolute("".join(guid.itertext()), base)
    return found or _absolute(el.get(_RDF_ABOUT), base)


def _entry(el: etree._Element, kind: str, position: int, url: str) -> FeedEntry | None:
    """Build a FeedEntry from an <item>/<entry>; None if it has no usable link."""
    base = el.base or url
    link = _atom_link(el, base) if kind == "atom" else _rss_link(el, base)
    if link is None:
        return None
    raw = _kid_text(el, *_DATE_TAGS)
    guid = _kid_text(el, "id") if kind == "atom" else _kid_text(el, "guid")
    if guid is None and kind == "rss1":
        guid = (el.get(_RDF_ABOUT) or "").strip() or None
    return FeedEntry(link, _title(el), parse_date(raw), raw, position, guid)


def parse_feed(body: bytes, url: str) -> Feed:
    """Parse RSS 2.0/0.9x, RSS 1.0 (RDF) or Atom 1.0/0.3; DiscoveryError if it is not a feed."""
    root = _parse_xml(body, url, "feed")
    name = _local(root).lower()
    kind = _FEED_KINDS.get(name)
    if kind is None:
        raise DiscoveryError(f"not a feed: root <{_local(root) or root.tag}>")
    if kind == "atom":
        items, title_el = _kids(root, "entry"), root
    else:
        channels = [root] if name == "channel" else _kids(root, "channel")
        title_el = channels[0] if channels else root
        items = [i for c in channels for i in _kids(c, "item")] + _kids(root, "item")
    entries = (_entry(item, kind, pos, url) for pos, item in enumerate(items))
    return Feed(kind, _title(title_el), tuple(e for e in entries if e is not None))


def parse_sitemap(body: bytes, url: str) -> Sitemap:
    """Parse a (gzipped) urlset or sitemap index, keeping Google News fields."""
    root = _parse_xml(body, url, "sitemap")
    kind = _local(root).lower()
    if kind not in ("urlset", "sitemapindex"):
        raise DiscoveryError(f"not a sitemap: root <{_local(root) or root.tag}>")
    entries = []
    for item in _kids(root, "url" if kind == "urlset" else "sitemap"):
        loc = _absolute(_kid_text(item, "loc"), url)
        if loc is None:
            continue
        pub_date = title = language = None
        news = _kids(item, "news")
        if news:
            pub_date = parse_date(_kid_text(news[0], "publication_date"))
            title = _clean_text(_kid_text(news[0], "title"))
            publication = _kids(news[0], "publication")
            if publication:
                language = _kid_text(publication[0], "language")
        lastmod = parse_date(_kid_text(item, "lastmod"))
        entries.append(SitemapEntry(loc, lastmod, pub_date, title, language))
    return Sitemap(kind, tuple(entries))


_ROBOTS_SITEMAP = re.compile(r"^[ \t]*sitemap[ \t]*:[ \t]*(\S+)", re.I | re.M)


def robots_sitemaps(robots_txt: str | bytes, base_url: str) -> list[str]:
    """Absolute, de-duplicated 'Sitemap:' URLs from robots.txt, in file order."""
    if isinstance(robots_txt, bytes):
        robots_txt = robots_txt.decode("utf-8", errors="replace")
    values = _ROBOTS_SITEMAP.findall(robots_txt.lstrip("\ufeff"))
    urls = (_absolute(value.split("#", 1)[0], base_url) for value in values)
    return list(dict.fromkeys(url for url in urls if url))


_LEADING_JUNK = re.compile(
    r"\s+|<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^\[>]*(?:\[.*?\])?\s*>", re.S | re.I
)
_HTML_TAGS = frozenset({"html", "head", "body", "meta", "title", "div", "p", "script", "link",
                        "a", "span", "table", "style", "form", "br", "h1", "h2", "!doctype"})
_FIRST_TAG = re.compile(r"<([A-Za-z_!][\w.:-]*)")


def sniff(body: bytes) -> str:
    """Classify a body as 'feed', 'sitemap', 'html' or 'other' from its first bytes."""
    head = body[:_SNIFF_BYTES]
    if head[:2] == b"\x1f\x8b":
        try:
            head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(body, _SNIFF_BYTES)
        except zlib.error:
            return "other"
    text = head.decode(bom_codec(head) or "latin-1", "replace").lstrip("\ufeff")
    pos = 0
    while True:
        m = _LEADING_JUNK.match(text, pos)
        if not m or m.end() == pos:
            break
        if m.group().lower().startswith("<!doctype") and "html" in m.group().lower():
            return "html"
        pos = m.end()
    m = _FIRST_TAG.match(text, pos)
    if m:
        name = m.group(1).rsplit(":", 1)[-1].lower()
        if name in ("rss", "rdf", "feed"):
            return "feed"
        if name in ("urlset", "sitemapindex"):
            return "sitemap"
        if name in _HTML_TAGS:
            return "html"
    return "html" if re.search(r"<html[\s>]", text[pos:pos + 4096], re.I) else "other"
