"""Re-extraction of stored captures without crawling: after an extractor change, redo the
articles whose `extractor_version` is stale, on every core, in batched writes.

It goes through the archive (the single writer) and the one extraction path in
crawler.ingest.extraction, so a re-extracted article is built exactly as a crawled one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

from crawler.archive.core import Archive
from crawler.archive.warc import WarcLocation, read_capture
from crawler.ingest.captures import capture_selection
from crawler.ingest.extraction import extraction_hints
from crawler.items import FetchedPage
from crawler.registry.model import Registry


@dataclass
class ReextractReport:
    """What a re-extraction changed."""

    checked: int = 0
    changed_text: int = 0
    changed_title: int = 0
    changed_date: int = 0
    changed_status: int = 0
    unchanged: int = 0
    failed: list[str] = field(default_factory=list)
    worker_restarts: int = 0  # extraction pools replaced after a worker died


_Job = tuple[str, str, int, int, str, dict[str, Any], Any, str | None]
_VERSION = re.compile(r"mediawatch-extract\s+(\d+)")


def extractor_number(version: str | None) -> int | None:
    """The extractor's own version number in an extractor_version stamp
    ("mediawatch-extract 3 / trafilatura 2.0.0" -> 3; a bare "3" -> 3)."""
    if not version:
        return None
    m = _VERSION.search(version) or re.fullmatch(r"\s*(\d+)\s*", version)
    return int(m.group(1)) if m else None


def stale_versions(archive: Archive, current: str, since_version: str | None) -> list[str]:
    """The stored extractor_version values to redo.

    Without since_version: every value but the current one (`--stale`). With it (`--since-
    version V`: "extraction output changed in V"): the values whose extractor number is
    older than V's, and values with no readable number. NULL versions are always stale
    (handled by the caller's SQL).
    """
    values = [r[0] for r in archive.db.execute(
        "SELECT DISTINCT extractor_version FROM articles WHERE extractor_version IS NOT NULL")]
    if since_version is None:
        return [v for v in values if v != current]
    floor = extractor_number(since_version)
    if floor is None:
        raise ValueError(f"--since-version {since_version!r}: give the extractor's version "
                         f"number, e.g. 2 (the current stamp is {current!r})")
    return [v for v in values if (n := extractor_number(v)) is None or n < floor]


def _reextract_job(folder: str, name: str, offset: int, length: int, url: str,
                   hints: dict[str, Any], topic: Any, lexicon: str | None) -> Any:
    """Worker: read one capture from its WARC by offset, extract and analyse it, and make
    its search columns and text signature (crawler.archive.prepare): the writer only writes."""
    from crawler.archive.prepare import prepare_stored
    from crawler.ingest.extraction import extract_and_analyse

    capture = read_capture(folder, WarcLocation(name, offset, length))
    result, match, framing = extract_and_analyse(capture.body, url, hints, topic, lexicon)
    return result, match, framing, prepare_stored(capture.body, result)


def reextract(archive: Archive, registry: Registry, source_ids: Iterable[str] = (),
              since: str | None = None, status: str | None = None,
              jobs: int = 1, stale: bool = False, since_version: str | None = None,
              batch_items: int = 200) -> ReextractReport:
    """Re-run extraction over stored captures on `jobs` processes; no network needed.

    Extraction, topic and framing analysis run in the workers, rows are written in batches
    by this process, and captures are read page by page (an archive of any size).
    `stale` / `since_version` select by extractor version (see stale_versions).
    """
    from crawler.backfill.pool import ExtractionPool
    from extract import EXTRACTOR_VERSION

    where, params = capture_selection(source_ids, since, "a.", "p.warc_file IS NOT NULL")
    if status:
        where.append("a.extraction_status = ?")
        params.append(status)
    if stale or since_version is not None:
        versions = stale_versions(archive, EXTRACTOR_VERSION, since_version)
        where.append(f"(a.extractor_version IS NULL OR a.extractor_version IN "
                     f"({','.join('?' * len(versions))}))")
        params += versions
    known = {s.id: s for s in registry.sources}
    folder, topic, lexicon = str(archive.warc.folder), registry.topic, str(archive.lexicon_path)

    def work() -> Iterator[tuple[tuple[int, FetchedPage], tuple[Any, ...]]]:
        last = 0
        while True:
            rows = archive.db.execute(
                "SELECT p.id, a.source_id, p.url, p.final_url, p.kind, p.discovered_via, "
                "p.fetched_at, p.headers, p.hints, p.warc_file, p.warc_offset, p.warc_length "
                f"FROM articles a JOIN pages p ON p.id = a.page_id WHERE {' AND '.join(where)} "
                "AND p.id > ? ORDER BY p.id LIMIT 1000", [*params, last]).fetchall()
            if not rows:
                return
            for pid, sid, url, final, kind, via, fetched, headers, hints, name, off, n in rows:
                page = FetchedPage(source_id=sid, url=url, kind=kind, discovered_via=via or "",
                                   fetched_at=fetched, final_url=final, status=200,
                                   headers=json.loads(headers or "{}"),
                                   hints=json.loads(hints or "{}"))
                args = (folder, name, off, n, final or url,
                        extraction_hints(page, known.get(sid)), topic, lexicon)
                yield (pid, page), args
            last = rows[-1][0]

    report = ReextractReport()
    pool: ExtractionPool[tuple[int, FetchedPage]] = ExtractionPool(jobs, topic, lexicon)
    try:
        pending = 0
        with ExitStack() as batch:
            for (pid, page), value in pool.map(_reextract_job, work()):
                if not pending:
                    batch.enter_context(archive.batch())
                pending += 1
                report.checked += 1
                if isinstance(value, Exception):
                    report.failed.append(f"page {pid}: {type(value).__name__}: {value}"[:300])
                    continue
                page.extraction, page.topic, page.framing, page.prepared = value
                changes = archive.apply_extraction(pid, page)
                for name in ("text", "title", "date", "status"):
                    if name in changes:
                        setattr(report, f"changed_{name}", getattr(report, f"changed_{name}") + 1)
                report.unchanged += not changes
                if pending >= batch_items:
                    batch.close()
                    pending = 0
    finally:
        report.worker_restarts = pool.restarts
        pool.close()
    return report
