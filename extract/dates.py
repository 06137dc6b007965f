"""Date evidence: collect every candidate, then choose one by a fixed rule.

The rule for the publication date (first valid candidate wins, in this order):

1. the page's own structured data: JSON-LD ``datePublished`` (article-like types first), then
   publication meta tags (``article:published_time`` and kin), then microdata ``itemprop``;
2. a full date in the URL path (``/2020/09/23/``); it also overrides structured data that
   disagrees with it, since paths are written once at publication while structured dates get
   rewritten on updates or given in UTC;
3. the visible dateline printed beside the page's only ``<h1>``;
4. htmldate's guess (``original_date=True``, extensive search);
5. a ``<time datetime>`` element;
6. the feed date, then the sitemap ``news:publication_date``.

When structured sources disagree among themselves, the one htmldate agrees with wins. When the
winner is written in UTC and the same moment is also written in local time (with an offset, or
naive with the same minutes and seconds), the local one wins: its day is the publication day.

"Valid" means parseable, not before 1995, and not after the crawl time (``first_seen``, else now)
plus one day for time zones. A guess from htmldate equal to the crawl day is treated as the
site's "today" header and loses to a feed or sitemap date when one exists. A date that only
appears in body text can therefore never beat structured metadata. Offsets are kept as written:
converting to UTC would move late-evening articles to the next day.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from lxml.html import HtmlElement

from .dateline import visible_dateline


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

_ISO = re.compile(
    r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2}))?(?:[.,]\d+)?"
    r"\s*(Z|[+-]\d{2}(?::?\d{2})?)?)?"
)
_YMD = re.compile(r"^(\d{4})[/.](\d{1,2})[/.](\d{1,2})\b")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:T?(\d{2})(\d{2})(\d{2})?)?$")
_DMY = re.compile(r"^(\d{1,2})[./](\d{1,2})[./](\d{4})(?:,?\s+(\d{1,2}):(\d{2}))?")
_EN_FORMATS = ("%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y", "%B %d %Y")
# /2020/9/23/ as path segments, or 2020-09-23 with two-digit parts; "/2023/10/3-fragen" is not a day.
_URL_DATE = re.compile(
    r"/((?:19|20)\d{2})/(0?[1-9]|1[0-2])/(0?[1-9]|[12]\d|3[01])(?=/|$|\.)"
    r"|(?<!\d)((?:19|20)\d{2})[_-](0[1-9]|1[0-2])[_-](0[1-9]|[12]\d|3[01])(?!\d)"
)
_EARLIEST = date(1995, 1, 1)


def to_iso(value: str | None) -> str | None:
    """Normalise a date string to ISO 8601 (offset kept as written), or None if unparseable."""
    if not value:
        return None
    text = " ".join(str(value).split())
    if not text:
        return None
    if m := _ISO.match(text):
        return _build(m.group(1), m.group(2), m.group(3), m.group(4), m.group(5), m.group(6),
                      m.group(7))  # fmt: skip
    if m := _YMD.match(text):
        return _build(m.group(1), m.group(2), m.group(3))
    if m := _COMPACT.match(text):
        return _build(*m.groups())
    if m := _DMY.match(text):
        return _build(m.group(3), m.group(2), m.group(1), m.group(4), m.group(5))
    if text.isdigit() and len(text) == 10:
        return datetime.fromtimestamp(int(text), UTC).isoformat()
    try:
        return parsedate_to_datetime(text).isoformat()
    except (TypeError, ValueError, IndexError):
        pass
    for fmt in _EN_FORMATS:
        try:
            return datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    return None


def _build(
    y: str, mo: str, d: str, h: str | None = None, mi: str | None = None,
    s: str | None = None, tz: str | None = None,
) -> str | None:  # fmt: skip
    try:
        day = date(int(y), int(mo), int(d))
        if h is None:
            return day.isoformat()
        out = f"{day.isoformat()}T{int(h):02d}:{int(mi or 0):02d}:{int(s or 0):02d}"
        datetime.fromisoformat(out)
    except ValueError:
        return None
    if tz:
        if tz != "Z" and ":" not in tz:
            tz = f"{tz[:3]}:{tz[3:] or '00'}"
        out += tz
    return out


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


def _walk_jsonld(node: Any, out: list[tuple[bool, dict[str, Any]]]) -> None:
    if isinstance(node, list):
        for item in node:
            _walk_jsonld(item, out)
    elif isinstance(node, dict):
        kind = node.get("@type", "")
        kind = " ".join(kind) if isinstance(kind, list) else str(kind)
        out.append((bool(_ARTICLE_TYPES.search(kind)), node))
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
        except ValueError:
            continue
        _walk_jsonld(data, found)
    return [obj for _, obj in sorted(found, key=lambda pair: not pair[0])]


def _jsonld_candidates(objects: list[dict[str, Any]]) -> Iterator[DateCandidate]:
    for obj in objects:
        for key, kind in (("datePublished", "published"), ("dateCreated", "published"),
                          ("uploadDate", "published"), ("dateModified", "modified")):  # fmt: skip
            value = obj.get(key)
            if isinstance(value, str) and (iso := to_iso(value)):
                yield DateCandidate(kind, iso, "json-ld")


def _meta_candidates(tree: HtmlElement) -> Iterator[DateCandidate]:
    found: list[tuple[int, DateCandidate]] = []
    for meta in tree.iter("meta"):
        name = (_attr(meta, "property", "name", "itemprop", "http-equiv") or "").lower()
        if name not in _PUBLISHED_RANK and name not in _MODIFIED_RANK:
            continue
        iso = to_iso(meta.get("content"))
        if not iso:
            continue
        if name in _PUBLISHED_RANK:
            found.append((_PUBLISHED_RANK[name], DateCandidate("published", iso, f"meta:{name}")))
        else:
            found.append((_MODIFIED_RANK[name], DateCandidate("modified", iso, f"meta:{name}")))
    yield from (cand for _, cand in sorted(found, key=lambda pair: pair[0]))


def _microdata_candidates(tree: HtmlElement) -> Iterator[DateCandidate]:
    for el in tree.xpath('//*[@itemprop="datePublished" or @itemprop="dateModified"][not(self::meta)]'):
        kind = "published" if el.get("itemprop") == "datePublished" else "modified"
        iso = to_iso(_attr(el, "datetime", "content") or el.text_content())
        if iso:
            yield DateCandidate(kind, iso, "microdata")


def _time_candidates(tree: HtmlElement) -> Iterator[DateCandidate]:
    times = tree.xpath("//time[@datetime]")
    # An explicit pubdate marker, or the first <time> in an <article>, is the article's own.
    marked = [t for t in times if t.get("pubdate") is not None] + tree.xpath(
        "(//article//time[@datetime])[1]"
    )
    for el in marked + times[:1]:
        if iso := to_iso(el.get("datetime")):
            yield DateCandidate("published", iso, "time-element")
            return


def url_date(url: str | None) -> str | None:
    """Return the day written in a URL path (/2020/09/23/), if any."""
    if not url:
        return None
    match = _URL_DATE.search(urlsplit(url).path)
    if not match:
        return None
    parts = [g for g in match.groups() if g is not None]
    return _build(parts[0], parts[1], parts[2])


def collect(
    tree: HtmlElement | None,
    url: str | None,
    guess: str | None,
    hints: Mapping[str, Any],
    jsonld: list[dict[str, Any]] | None = None,
) -> list[DateCandidate]:
    """Return every date candidate for a page, strongest evidence first within each source."""
    out: list[DateCandidate] = []
    if tree is not None:
        out += _jsonld_candidates(jsonld if jsonld is not None else jsonld_objects(tree))
        out += _meta_candidates(tree)
        out += _microdata_candidates(tree)
    if day := url_date(url):
        out.append(DateCandidate("published", day, "url"))
    if tree is not None:
        if line := visible_dateline(tree):
            out.append(DateCandidate("published", line, "dateline"))
        out += _time_candidates(tree)
    if guess_iso := to_iso(guess):
        out.append(DateCandidate("published", guess_iso, "htmldate"))
    for hint, kind, source in (
        ("feed_date", "published", "feed"),
        ("sitemap_date", "published", "sitemap"),
        ("sitemap_lastmod", "modified", "sitemap-lastmod"),
        ("last_modified", "modified", "http-last-modified"),
    ):
        if isinstance(hints.get(hint), str) and (iso := to_iso(hints[hint])):
            out.append(DateCandidate(kind, iso, source))
    return _unique(out)


def _unique(cands: Iterable[DateCandidate]) -> list[DateCandidate]:
    seen: set[DateCandidate] = set()
    return [c for c in cands if not (c in seen or seen.add(c))]  # type: ignore[func-returns-value]


_STRUCTURED = ("json-ld", "meta:", "microdata")
_PUBLISHED_ORDER = (*_STRUCTURED, "url", "dateline", "htmldate", "time-element", "feed", "sitemap")
_MODIFIED_ORDER = (*_STRUCTURED, "sitemap-lastmod", "http-last-modified")


def _group(source: str, order: tuple[str, ...]) -> int:
    for i, prefix in enumerate(order):
        if source == prefix or (prefix.endswith(":") and source.startswith(prefix)):
            return i
    return len(order)


def upper_bound(first_seen: str | None) -> date:
    """Return the latest acceptable day: the crawl day (or today) plus one for time zones."""
    seen = day_of(to_iso(first_seen) or "") if first_seen else None
    return (seen or datetime.now(UTC).date()) + timedelta(days=1)


def _is_utc(value: str) -> bool:
    return value.endswith(("Z", "+00:00", "-00:00"))


def _local_first(best: DateCandidate, pool: list[DateCandidate]) -> DateCandidate:
    """Prefer evidence written in local time when the best one is UTC and a day apart."""
    if not _is_utc(best.value):
        return best
    for cand in pool:
        if not _is_utc(cand.value) and _same_instant(best.value, cand.value):
            if cand.value[:10] != best.value[:10]:
                return cand
    return best


def _same_instant(utc_value: str, other: str) -> bool:
    """True if other is the same moment written in local time (with an offset or without)."""
    try:
        a = datetime.fromisoformat(utc_value.replace("Z", "+00:00"))
        b = datetime.fromisoformat(other.replace("Z", "+00:00"))
    except ValueError:
        return False
    if "T" not in other:
        return False
    if b.tzinfo is not None:
        return abs((a - b).total_seconds()) <= 60
    # A naive local time differs from UTC by whole hours: same minutes and seconds.
    gap = abs((a.replace(tzinfo=None) - b).total_seconds())
    return (a.minute, a.second) == (b.minute, b.second) and gap <= 14 * 3600


def _choose_published(valid: list[DateCandidate]) -> DateCandidate | None:
    structured = [c for c in valid if _group(c.source, _STRUCTURED) < len(_STRUCTURED)]
    url = next((c for c in valid if c.source == "url"), None)
    guess = next((c for c in valid if c.source == "htmldate"), None)
    if url is not None:
        same_day = [c for c in structured if c.value[:10] == url.value[:10]]
        return same_day[0] if same_day else _local_first(url, structured)
    if structured:
        best = structured[0]
        if guess is not None and len({c.value[:10] for c in structured}) > 1:
            best = next((c for c in structured if c.value[:10] == guess.value[:10]), best)
        return _local_first(best, structured)
    return valid[0] if valid else None


def choose(
    cands: list[DateCandidate], kind: str, first_seen: str | None = None
) -> DateCandidate | None:
    """Apply the module's date rule to candidates of one kind."""
    latest = upper_bound(first_seen)
    valid = [
        c for c in cands
        if c.kind == kind and (d := day_of(c.value)) is not None and _EARLIEST <= d <= latest
    ]  # fmt: skip
    order = _PUBLISHED_ORDER if kind == "published" else _MODIFIED_ORDER
    valid.sort(key=lambda c: _group(c.source, order))  # stable: keeps in-source ranking
    best = _choose_published(valid) if kind == "published" else (valid[0] if valid else None)
    if best is not None and best.source == "htmldate" and day_of(best.value) == latest - timedelta(days=1):
        hinted = [c for c in valid if c.source in ("feed", "sitemap")]
        if hinted:
            return hinted[0]
    return best
