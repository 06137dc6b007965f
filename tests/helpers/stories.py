"""Articles of the framing fixture written as the ingest path leaves them, for story tests."""

from __future__ import annotations

from crawler.archive.core import Archive
from crawler.framing.stories import StoryDoc
from crawler.ingest.extraction import framing_analysis

FETCHED = "2026-01-01T00:00:00+00:00"


def store_docs(archive: Archive, docs: list[StoryDoc], features: bool = False) -> None:
    """Extracted articles plus their mentions; with `features`, the analysis an extraction
    worker sends along (story features included), as a crawl writes it."""
    lexicon = archive.framing.framing_lexicon()
    with archive.transaction():
        for outlet in sorted({d.source_id for d in docs}):
            archive.db.table("sources").insert(
                {"id": outlet, "name": outlet, "homepage": f"https://{outlet}/",
                 "language": "[]", "country": "", "kind": "news"}, ignore=True)
        for d in docs:
            archive.db.table("articles").insert({
                "id": d.id, "source_id": d.source_id, "url": f"https://{d.id}",
                "title": d.title, "text": d.text, "lang": d.lang, "published": d.published,
                "published_month": (d.published or "")[:7], "first_seen_at": FETCHED,
                "fetched_at": FETCHED, "extraction_status": "ok", "on_topic": 1})
            computed = framing_analysis(lexicon, d.title, d.text, d.lang, features=True) \
                if features else None
            archive.framing.store_mentions(d.id, computed)


def fixture_docs() -> list[StoryDoc]:
    """The framing fixture's articles (bench/framing_eval.py reads them)."""
    from helpers.crawl import load_bench

    return list(load_bench("framing_eval").load_fixture()[0])
