"""What an extraction worker prepares for the archive writer, so the crawl's main process
(the one that downloads and writes) spends no CPU per page beyond its SQL.

Pure: no Scrapy, no SQLite. Everything here is a function of the fetched page and its
extraction, computed where the extraction ran; the archive writer uses a field only when
it describes exactly what it is about to store, and computes it itself otherwise (a page
extracted in-process, a re-extraction, a WARC import, an item from an older worker).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from crawler.archive.policy import text_signature
from crawler.archive.warc import exchange_records
from crawler.search.columns import search_columns

if TYPE_CHECKING:
    from crawler.items import FetchedPage
    from extract import ArticleResult


@dataclass
class Prepared:
    """One article fetch made ready to insert (see crawler.archive.pages)."""

    body_sha256: str
    # The response and request WARC records (gzip members) and the response's record id;
    # the writer appends them and adds the metadata record, which needs the archive.
    # Empty for a capture already stored (prepare_stored).
    warc: bytes
    warc_id: str
    # Of the text as the archive stores it (NULs removed); None for a page that is no article.
    search_title: str | None = None
    search_text: str | None = None
    search_version: str | None = None  # the normaliser behind search_title/search_text
    text_signature: str | None = None
    # CPU seconds the worker spent on this page: extract_article, the topic match and framing
    # analysis, this preparation (kept in crawl_runs.stats: where a crawl's CPU goes).
    cpu: tuple[float, float, float] = (0.0, 0.0, 0.0)


def stored_text(result: ArticleResult) -> str:
    """An extraction's text as the archive stores it (SQLite text holds no NUL)."""
    return (result.text or "").replace("\x00", "")


def prepare(page: FetchedPage, result: ArticleResult | None) -> Prepared:
    """Digest, WARC records, search columns and version signature of one fetched page."""
    assert page.status is not None, "only a page with a response has an exchange to archive"
    records, record_id = exchange_records(
        url=page.final_url or page.url, fetched_at=page.fetched_at, status=page.status,
        headers=page.headers, body=page.body, request_headers=page.request_headers)
    return _article_columns(Prepared(hashlib.sha256(page.body).hexdigest(), records,
                                     record_id), result)


def prepare_stored(body: bytes, result: ArticleResult | None) -> Prepared:
    """prepare() of a capture the archive already holds (a re-extraction): the same columns,
    no WARC records (nothing is appended; the archive writer never asks for them)."""
    return _article_columns(Prepared(hashlib.sha256(body).hexdigest(), b"", ""), result)


def _article_columns(prepared: Prepared, result: ArticleResult | None) -> Prepared:
    if result is not None and result.status != "not_article":
        text = stored_text(result)
        search = search_columns(result.title, text)
        prepared.search_title, prepared.search_text = search["search_title"], search["search_text"]
        prepared.search_version = search["search_version"]
        prepared.text_signature = text_signature(text)
    return prepared
