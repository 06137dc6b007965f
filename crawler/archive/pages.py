"""The archive's capture and article writes: pages, WARC records, articles, dates, topics.

A store of crawler.archive.core.Archive (the one writer of archive.db). Every write runs in
`self.transaction()`, so inside a batch one failing item undoes only its own rows. It hands
the frontier's, the framing's and the backfill's share of a fetch to their stores.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

from crawler.archive.base import Shared, Store
from crawler.archive.fetch_rows import (
    article_row,
    body_sha256,
    extraction_error,
    failure_reason,
    is_specific,
    page_outcome,
)
from crawler.archive.framing import FramingStore
from crawler.archive.frontier import FrontierStore
from crawler.archive.policy import date_flags
from crawler.archive.rows import article_slices, insert_row, insert_rows, update_row
from crawler.archive.warc import WarcLocation
from crawler.items import FetchedPage
from crawler.web.urls import article_id, clean_url

if TYPE_CHECKING:
    from crawler.archive.backfill import BackfillStore
    from crawler.registry.model import Source
    from crawler.registry.topic import TopicMatcher
    from extract import ArticleResult


class PageStore(Store):
    """pages, articles and article_dates; the frontier, framing and backfill rows of a fetch
    through their stores."""

    def __init__(self, shared: Shared, frontier: FrontierStore, framing: FramingStore,
                 backfill: BackfillStore) -> None:
        super().__init__(shared)
        self.frontier, self.framing, self.backfill = frontier, framing, backfill

    def record(self, page: FetchedPage, run_id: int | None = None) -> str | None:
        """Store one fetch and, for articles, its extraction; return the article id."""
        with self.transaction():
            if page.status == 304:
                aid = self.frontier.touch_unchanged(page) if page.kind == "article" else None
                if page.kind != "article":
                    self.counters.not_modified += 1
                self.frontier.update_state(page, aid)
                return aid
            aid = republication_of = None
            if self._is_article(page):
                assert page.extraction is not None
                aid, republication_of = self.identify(
                    clean_url(page.final_url or page.url),
                    page.extraction.canonical_url,
                    self._sources.get(page.source_id),
                )
            elif page.kind == "article":
                aid = self.frontier.mark_removed(page)
            page_id = self._store_page(page, run_id, aid)
            if page.origin is not None:
                self.backfill.record_origin(page, page_id, aid)
            if self._is_article(page):
                assert aid is not None
                self._store_article(page, aid, republication_of, page_id)
            elif page.unchanged:
                aid = self.frontier.touch_unchanged(page)
            self.frontier.update_state(page, aid)
        return aid

    @staticmethod
    def _is_article(page: FetchedPage) -> bool:
        result = page.extraction
        return page.kind == "article" and result is not None and result.status != "not_article"

    def _store_page(self, page: FetchedPage, run_id: int | None, aid: str | None) -> int:
        body_sha = body_sha256(page)
        outcome = page_outcome(page)
        if outcome not in ("ok", "extracted"):
            self.counters.errors += outcome not in ("not_article", "empty")
            self.counters.error_summary[failure_reason(page, outcome)] += 1
        # What was fetched, not what we made of it: re-extraction never forks a capture.
        key = hashlib.sha1(
            "\x1f".join(
                [page.url, page.final_url or "", str(page.status), body_sha or "", page.error or ""]
            ).encode()
        ).hexdigest()
        error = page.error or page.parse_error or extraction_error(page)
        existing = self.db.execute(
            "SELECT id, coalesce(final_url, url), fetched_at FROM pages WHERE capture_key = ?",
            [key],
        ).fetchone()
        if existing:
            self.counters.pages_seen_again += 1
            revisit = self._warc(page, revisit_of=(existing[1], existing[2]))
            self.db.execute(
                "UPDATE pages SET last_fetched_at = ?, fetch_count = fetch_count + 1, "
                "revisits = revisits + ?, outcome = ?, error = ?, "
                "article_id = coalesce(?, article_id) WHERE id = ?",
                [page.fetched_at, int(revisit is not None), outcome, error, aid, existing[0]],
            )
            return int(existing[0])
        self.counters.pages_new += 1
        location = self._warc(page)
        return insert_row(self.db, "pages", {
                "capture_key": key,
                "source_id": page.source_id,
                "url": page.url,
                "final_url": page.final_url,
                "redirect_chain": json.dumps(page.redirect_chain) if page.redirect_chain else None,
                "kind": page.kind,
                "discovered_via": page.discovered_via,
                "discovered_from": page.discovered_from,
                "status": page.status,
                "headers": json.dumps(page.headers, ensure_ascii=False) if page.headers else None,
                "content_type": page.content_type,
                "body_sha256": body_sha,
                "body_length": len(page.body) if page.body else None,
                "hints": json.dumps(page.hints, ensure_ascii=False) if page.hints else None,
                "warc_file": location.file if location else None,
                "warc_offset": location.offset if location else None,
                "warc_length": location.length if location else None,
                "error": error,
                "outcome": outcome,
                "article_id": aid,
                "run_id": run_id,
                "fetched_at": page.fetched_at,
                "last_fetched_at": page.fetched_at,
            })

    def _warc(self, page: FetchedPage, revisit_of: tuple[str, str] | None = None
              ) -> WarcLocation | None:
        """Write the raw exchange (a revisit when identical to an earlier capture)."""
        if page.status is None:
            return None  # no response arrived: nothing to archive but the pages row
        url = page.final_url or page.url
        metadata = {"outlet": page.source_id, "kind": page.kind,
                    "discovered-via": page.discovered_via}
        if page.discovered_from:
            metadata["discovered-from"] = page.discovered_from
        if page.hints:
            metadata["hints"] = json.dumps(page.hints, ensure_ascii=False, sort_keys=True)
        metadata["first-seen"] = self._first_seen(page.url, page.fetched_at)
        prepared = page.prepared
        if prepared is not None and prepared.warc and revisit_of is None:
            # Records made by the extraction worker: appended as they are (same bytes).
            return self._shared.warc.append_exchange(prepared.warc, prepared.warc_id, url=url,
                                             fetched_at=page.fetched_at, metadata=metadata)
        return self._shared.warc.write(
            url=url, fetched_at=page.fetched_at, status=page.status,
            headers=page.headers, body=page.body, request_headers=page.request_headers,
            metadata=metadata, revisit_of=revisit_of,
        )

    def _store_article(
        self, page: FetchedPage, aid: str, republication_of: str | None, page_id: int
    ) -> None:
        result = page.extraction
        assert result is not None
        source = self._sources.get(page.source_id)
        url = clean_url(page.final_url or page.url)
        row = article_row(page, result, url, republication_of, source)
        old = self.db.execute(
            f"SELECT fingerprint, {', '.join(_FACTS)} FROM articles WHERE id = ?", [aid]
        ).fetchone()
        if old is not None and page.origin is not None and self.db.execute(
                "SELECT fetched_at > ? FROM articles WHERE id = ?", [page.fetched_at, aid]
        ).fetchone()[0]:
            # An imported capture older than the stored one (a backfill after crawls): kept
            # as a capture (pages, WARC, capture_origins), never as the current text.
            self.counters.articles_unchanged += 1
            return
        if result.status != "ok":
            self.counters.extraction_failures += 1
        row["page_id"] = page_id
        first_seen = self._first_seen(page.url, page.fetched_at)
        row["date_flags"] = json.dumps(date_flags(
            row["published"], row["modified"], [(c.kind, c.value) for c in result.date_candidates],
            first_seen, page.fetched_at))
        rewritten = True  # the stored title, text or language may have changed (mentions due)
        if old is None:
            row.update(id=aid, first_seen_at=first_seen)
            # Row and mentions in the order that counts them cheapest (see store_new_mentions).
            self.framing.store_new_mentions(aid, row, page.framing,
                                            lambda values: insert_row(self.db, "articles", values))
            rewritten = False  # its mentions are written
            self.counters.articles_new += 1
        elif old[0] == row["fingerprint"] and old[1:] == tuple(row[k] for k in _FACTS):
            # Same text, same facts: only the fetch time moves (a re-extraction of the same
            # capture moves nothing, and writes nothing).
            self.db.execute(
                "UPDATE articles SET fetched_at = ?, page_id = ?, removed_at = NULL WHERE id = ? "
                "AND (fetched_at IS NOT ? OR page_id IS NOT ? OR removed_at IS NOT NULL)",
                [page.fetched_at, page_id, aid, page.fetched_at, page_id],
            )
            self.counters.articles_unchanged += 1
            rewritten = False
        elif result.status != "ok" and old[1] == "ok":
            # A failed re-extraction never overwrites a good text: note it and keep the text.
            self._note_later(aid, page.fetched_at,
                             f"later fetch: {result.status}: {result.error or ''}")
            self.counters.articles_unchanged += 1
            rewritten = False
        elif row["access"] != "open" and old[1] == "ok" and old[1 + _FACTS.index("access")] == "open":
            # Nor does a later paywalled teaser overwrite the full text fetched before the wall.
            self._note_later(aid, page.fetched_at,
                             f"later fetch: {row['access']}: {result.reason or ''}")
            self.counters.articles_unchanged += 1
            rewritten = False
        else:
            row["removed_at"] = None
            update_row(self.db, "articles", "id", aid, row)
            self.counters.articles_updated += 1
        if result.status == "ok":
            self.frontier.store_version(aid, page.fetched_at, row["title"], row["text"],
                               page.prepared.text_signature if page.prepared else None)
        self._store_dates(aid, result, first_seen)
        # Naming/frame counts and KWIC (crawler/framing), computed next to extraction. They
        # derive from the stored title, text and language alone (and the lexicon, whose
        # change rebuilds them all): a re-check that kept those keeps its rows as they are.
        if rewritten:
            self.framing.store_mentions(aid, page.framing)

    def _note_later(self, aid: str, fetched_at: str, error: str) -> None:
        """A later fetch that keeps the stored text: its time and why (no write if both are
        already there, as after a re-extraction of the same capture)."""
        self.db.execute(
            "UPDATE articles SET fetched_at = ?, extraction_error = ? WHERE id = ? "
            "AND (fetched_at IS NOT ? OR extraction_error IS NOT ?)",
            [fetched_at, error, aid, fetched_at, error])

    def _first_seen(self, url: str, fetched_at: str) -> str:
        row = self.db.execute("SELECT first_seen FROM url_state WHERE url = ?", [url]).fetchone()
        return row[0] if row and row[0] else fetched_at

    def _store_dates(self, aid: str, result: ArticleResult, first_seen: str) -> None:
        rows = [
            {"article_id": aid, "kind": c.kind, "value": c.value, "source": c.source}
            for c in result.date_candidates
        ]
        # When we first saw the URL: publication cannot be later (an upper bound on it).
        rows.append({"article_id": aid, "kind": "published", "value": first_seen,
                     "source": "first-seen"})
        insert_rows(self.db, "article_dates", rows, ignore=True)

    def identify(
        self, url: str, canonical: str | None, source: Source | None
    ) -> tuple[str, str | None]:
        """Article id and republication evidence for a fetched URL and its canonical link."""
        if canonical and canonical.startswith(("http://", "https://")):
            if source is not None and source.publishes(canonical):
                if is_specific(canonical):
                    return article_id(canonical), None
            elif article_id(canonical) != article_id(url):
                return article_id(url), canonical
        return article_id(url), None

    def apply_extraction(self, page_id: int, page: FetchedPage) -> set[str]:
        """Store a re-extraction of a stored capture; return which facts changed."""
        result = page.extraction
        assert result is not None
        with self.transaction():
            aid, republication_of = self.identify(
                clean_url(page.final_url or page.url), result.canonical_url,
                self._sources.get(page.source_id))
            before = self.db.execute(
                "SELECT fingerprint, title, published, extraction_status FROM articles "
                "WHERE id = ?", [aid]).fetchone()
            if result.status != "not_article":
                self._store_article(page, aid, republication_of, page_id)
            outcome, error = page_outcome(page), extraction_error(page)
            article = aid if result.status != "not_article" else None
            self.db.execute(  # an unchanged outcome is not rewritten
                "UPDATE pages SET outcome = ?, error = ?, article_id = ? WHERE id = ? "
                "AND (outcome IS NOT ? OR error IS NOT ? OR article_id IS NOT ?)",
                [outcome, error, article, page_id, outcome, error, article])
            after = self.db.execute(
                "SELECT fingerprint, title, published, extraction_status FROM articles "
                "WHERE id = ?", [aid]).fetchone()
        names = ("text", "title", "date", "status")
        if before is None or after is None:
            return set(names) if before != after else set()
        return {n for n, a, b in zip(names, before, after, strict=True) if a != b}

    def retopic(self, matcher: TopicMatcher) -> tuple[int, int]:
        """Re-apply the topic to every article; return (changed, total)."""
        changed = total = 0
        with self.transaction():
            for rows in article_slices(self.db, "id, title, text, on_topic, topic_terms"):
                total += len(rows)
                for _, aid, title, text, on_topic, terms in rows:
                    match = matcher.match(title, text)
                    new_terms = json.dumps(match.terms, ensure_ascii=False, sort_keys=True)
                    if int(match.on_topic) != on_topic or new_terms != terms:
                        changed += 1
                        self.db.execute(
                            "UPDATE articles SET on_topic = ?, topic_terms = ? WHERE id = ?",
                            [int(match.on_topic), new_terms, aid])
        return changed, total


# Besides the text's fingerprint, what makes a stored article different from a new fetch.
_FACTS = ("extraction_status", "title", "published", "author", "on_topic", "topic_terms",
          "lang", "license", "canonical_url", "extractor_version", "access", "page_title",
          "authors")
