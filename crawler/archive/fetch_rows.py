"""What one fetch becomes in the archive's tables: its outcome, its error, its article row.

Pure: computed from the FetchedPage (and what its extraction worker prepared); the page
store writes the rows.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import TYPE_CHECKING, Any

from crawler.items import FetchedPage
from crawler.search.columns import SEARCH_VERSION, search_columns

if TYPE_CHECKING:
    from crawler.registry.model import Source
    from extract import ArticleResult


def is_specific(url: str) -> bool:
    """A canonical link that names a page, not a site root (some sites point every page home)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return bool(parts.path.strip("/") or parts.query)


# The outcomes of a fetch that brought nothing to extract: what "fetch failures" lists (the
# canned query in datasette/metadata.yaml and an outlet's health page name these, by value).
FETCH_FAILURES = ("http_error", "network_error", "dropped", "too_large", "parse_error")

_TOO_LARGE = re.compile(r"max(imum)? size|DOWNLOAD_MAXSIZE|too large", re.I)


def page_outcome(page: FetchedPage) -> str:
    if page.error:
        if _TOO_LARGE.search(page.error):
            return "too_large"  # recorded, never stored as text
        return "dropped" if page.error.startswith("dropped") else "network_error"
    if page.status is not None and page.status >= 400:
        return "http_error"
    if page.parse_error:
        return "parse_error"
    if page.extraction is not None:
        status = page.extraction.status
        return {"ok": "extracted", "error": "extraction_error"}.get(status, status)
    return "ok"


def failure_reason(page: FetchedPage, outcome: str) -> str:
    if outcome == "http_error":
        return f"http {page.status}"
    if outcome in ("network_error", "dropped"):
        return (page.error or outcome).split(":")[0]
    return outcome


def extraction_error(page: FetchedPage) -> str | None:
    result = page.extraction
    if result is None or result.status == "ok":
        return None
    why = result.error or result.reason
    return f"{result.status}: {why}" if why else result.status


def article_row(
    page: FetchedPage,
    result: ArticleResult,
    url: str,
    republication_of: str | None,
    source: Source | None,
) -> dict[str, Any]:
    topic = page.topic
    text = (result.text or "").replace("\x00", "")
    published = result.date
    return {
        "source_id": page.source_id,
        "url": url,
        "canonical_url": result.canonical_url,
        "republication_of": republication_of,
        "title": result.title,
        "page_title": result.page_title,
        "author": result.author,
        "authors": json.dumps(result.authors, ensure_ascii=False) if result.authors else None,
        "access": result.access,
        "published": published,
        "published_source": result.date_source,
        "published_month": published[:7] if published else None,
        "modified": result.modified,
        "lang": result.lang,
        "text": text,
        "description": result.description,
        "sitename": result.sitename,
        "license": result.license or (source.licence if source else None),
        "word_count": len(text.split()),
        "fingerprint": result.fingerprint,
        "on_topic": int(topic.on_topic) if topic else 0,
        "topic_terms": json.dumps(topic.terms if topic else {}, ensure_ascii=False, sort_keys=True),
        "source_kind": source.kind if source else None,
        "discovered_via": page.discovered_via,
        "feed_title": page.hints.get("feed_title") or page.hints.get("sitemap_title"),
        "fetched_at": page.fetched_at,
        "extraction_status": result.status,
        "extraction_error": (result.error or result.reason) if result.status != "ok" else None,
        "extractor_version": result.extractor_version,
        **prepared_search_columns(page, result.title, text),
    }


def prepared_search_columns(page: FetchedPage, title: str | None, text: str) -> dict[str, str]:
    """The FTS columns: as the extraction worker made them, or made here."""
    prepared = page.prepared
    if prepared is not None and prepared.search_title is not None and \
            prepared.search_text is not None and prepared.search_version == SEARCH_VERSION:
        # A worker of another normaliser (an older Redis worker) is rebuilt here.
        return {"search_title": prepared.search_title, "search_text": prepared.search_text,
                "search_version": prepared.search_version}
    return search_columns(title, text)


def body_sha256(page: FetchedPage) -> str | None:
    """The body's SHA-256 (hex): from the extraction worker when it made one."""
    if not page.body:
        return None
    if page.prepared is not None:
        return page.prepared.body_sha256
    return hashlib.sha256(page.body).hexdigest()
