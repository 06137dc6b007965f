"""Atom 1.0 feeds of the archive (saved searches, edits and removals), written with an XML
serializer: every scraped value is escaped there, and the control characters XML forbids
are dropped, so a hostile headline can neither break the document nor add to it."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

ATOM = "http://www.w3.org/2005/Atom"
# XML 1.0 forbids most control characters; scraped text may carry them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def clean(value: Any) -> str:
    """A value as XML text: forbidden control characters dropped."""
    return _NOT_XML.sub("", str(value))


def rfc3339(value: str | None, fallback: str) -> str:
    """An ISO 8601 date or datetime as an RFC 3339 timestamp (a date is midnight UTC)."""
    for text in (value, fallback):
        if not text:
            continue
        try:
            moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        except ValueError:
            continue
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.isoformat(timespec="seconds")
    return datetime(1970, 1, 1, tzinfo=UTC).isoformat(timespec="seconds")


def http_url(url: str | None) -> str | None:
    """The URL when it is an http(s) link, else None (never a javascript: or data: link)."""
    return url if url and urlsplit(url.strip()).scheme.lower() in ("http", "https") else None


@dataclass
class Entry:
    """One entry: an archive page (`link`, also its id unless `id` is given) and its facts."""

    link: str
    title: str
    updated: str  # RFC 3339
    summary: str
    author: str
    outlet_id: str
    outlet: str
    outlet_link: str
    published: str | None = None  # RFC 3339
    original: str | None = None  # the outlet's URL (http(s) only)
    id: str | None = None


def atom(self_url: str, title: str, subtitle: str, alternate: str, entries: list[Entry],
         now: str) -> bytes:
    """A valid Atom 1.0 document."""
    ET.register_namespace("", ATOM)

    def sub(parent: ET.Element, tag: str, text: str | None = None,
            **attrs: str) -> ET.Element:
        el = ET.SubElement(parent, f"{{{ATOM}}}{tag}", {k: clean(v) for k, v in attrs.items()})
        if text is not None:
            el.text = clean(text)
        return el

    feed = ET.Element(f"{{{ATOM}}}feed")
    sub(feed, "id", self_url)
    sub(feed, "title", title)
    sub(feed, "subtitle", subtitle)
    sub(feed, "link", rel="self", href=self_url, type="application/atom+xml")
    sub(feed, "link", rel="alternate", href=alternate, type="text/html")
    sub(feed, "updated", max((e.updated for e in entries), default=rfc3339(now, now)))
    sub(sub(feed, "author"), "name", "mediawatch")
    sub(feed, "generator", "mediawatch")
    for e in entries:
        entry = sub(feed, "entry")
        sub(entry, "id", e.id or e.link)
        sub(entry, "title", e.title, type="text")
        sub(entry, "link", rel="alternate", href=e.link, type="text/html")
        if original := http_url(e.original):
            sub(entry, "link", rel="related", href=original, title="original article")
        sub(entry, "updated", e.updated)
        if e.published:
            sub(entry, "published", e.published)
        sub(sub(entry, "author"), "name", e.author)
        sub(entry, "category", term=e.outlet_id, label=e.outlet)
        sub(entry, "summary", e.summary, type="text")
        src = sub(entry, "source")
        sub(src, "id", e.outlet_link)
        sub(src, "title", e.outlet)
        sub(src, "updated", e.updated)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="utf-8")
