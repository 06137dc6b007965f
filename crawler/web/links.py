"""Links of HTML pages: every <a>/<link> target, the ones that are articles, the next pages."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urljoin

from lxml import html as lxml_html

from crawler.web.urls import host_key, is_http_url, is_section_page, normalize_url
from extract.decode import decode_bytes


@dataclass(frozen=True)
class Link:
    """A hyperlink found on an HTML page."""
    url: str
    text: str
    rel: str


def page_links(html: bytes | str, base_url: str) -> list[Link]:
    """Absolute http(s) <a>/<link> targets, fragment-free and de-duplicated; [] on bad input."""
    try:
        text = html if isinstance(html, str) else decode_bytes(html)[0]
        # lxml refuses str input that still carries an XML encoding declaration.
        text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text)
        if not text.strip():
            return []
        doc = lxml_html.document_fromstring(
            text, parser=lxml_html.HTMLParser(recover=True, no_network=True, remove_comments=True)
        )
        base_hrefs = [(b.get("href") or "").strip() for b in doc.iter("base")]
        base = urljoin(base_url, next(filter(None, base_hrefs), ""))
        base = base if is_http_url(base) else base_url
        found: dict[str, Link] = {}
        for el in doc.iter("a", "link"):
            href = re.sub(r"[\t\r\n]", "", el.get("href") or "").strip()
            if not href or href.startswith("#"):
                continue
            try:
                url = urljoin(base, href).split("#", 1)[0]
            except ValueError:
                continue
            if not is_http_url(url):
                continue
            rel = " ".join((el.get("rel") or "").lower().split())
            text_ = " ".join(el.text_content().split()) if el.tag == "a" else ""
            text_ = text_ or " ".join((el.get("title") or "").split())
            old = found.get(url)
            if old is None:
                found[url] = Link(url, text_, rel)
            else:
                # One Link per URL: merge so a later rel=next or real anchor text is not lost.
                rels = old.rel.split() + [r for r in rel.split() if r not in old.rel.split()]
                found[url] = Link(url, old.text or text_, " ".join(rels))
        return list(found.values())
    except Exception:  # malformed markup must never break a crawl
        return []


def article_links(links: Iterable[Link], pattern: re.Pattern[str] | None) -> list[str]:
    """URLs matching the site's article pattern (searched anywhere in the absolute URL)."""
    if pattern is None:
        return []
    return list(dict.fromkeys(link.url for link in links if pattern.search(link.url)))


def pagination_links(links: Iterable[Link], page_url: str, section_url: str) -> list[str]:
    """Next-page URLs of a section listing: rel=next plus section-local pagination patterns."""
    page_host = host_key(page_url)
    seen = {normalize_url(section_url), normalize_url(page_url)}
    out: list[str] = []
    for link in links:
        key = normalize_url(link.url)
        if key in seen:
            continue
        is_next = "next" in link.rel.split() and host_key(link.url) == page_host
        if is_next or is_section_page(link.url, section_url):
            seen.add(key)
            out.append(link.url)
    return out
