"""Stored captures as WARC: export, and import of external crawls (re-extraction is in
crawler.ingest.reextract).

Both go through the archive (the single writer) and the one extraction path in
crawler.ingest.extraction, so an imported or re-extracted article is built exactly as a crawled one.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from warcio.archiveiterator import ArchiveIterator

from crawler.archive.core import Archive
from crawler.clock import utcnow
from crawler.ingest.extraction import extraction_hints, wants_extraction
from crawler.ingest.warc_fast import Record, ScanReport
from crawler.ingest.warc_read import is_arc, scan
from crawler.ingest.warcio_read import ImportReport, iter_exchanges
from crawler.items import Discovered, FetchedPage, Found
from crawler.registry.model import Registry, Source

# -- export ------------------------------------------------------------------


@dataclass
class ExportReport:
    """What an export wrote."""

    captures: int = 0
    bytes: int = 0
    warc: str = ""
    cdxj: str = ""


def surt(url: str) -> str:
    """Sort-friendly URI Reordering Transform, as CDX indexes key captures."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().removeprefix("www.")
    key = ",".join(reversed(host.split(".")))
    if parts.port:
        key += f":{parts.port}"
    path = parts.path or "/"
    return f"{key}){path}{'?' + parts.query if parts.query else ''}".lower()


def capture_selection(source_ids: Iterable[str], since: str | None, table: str = "",
               captured: str = "warc_file IS NOT NULL") -> tuple[list[str], list[Any]]:
    """WHERE terms and parameters for `--source ID ... --since DATE` over stored captures."""
    where, params = [captured], []
    ids = list(source_ids)
    if ids:
        where.append(f"{table}source_id IN ({','.join('?' * len(ids))})")
        params += ids
    if since:
        where.append(f"{table}fetched_at >= ?")
        params.append(since)
    return where, params


def export_warc(archive: Archive, out: Path, source_ids: Iterable[str] = (),
                since: str | None = None) -> ExportReport:
    """Copy the selected captures, byte for byte, into one WARC plus its CDXJ index."""
    where, params = capture_selection(source_ids, since)
    rows = archive.db.execute(
        f"SELECT warc_file, warc_offset, warc_length FROM pages WHERE {' AND '.join(where)} "
        "ORDER BY fetched_at, id", params).fetchall()
    out.parent.mkdir(parents=True, exist_ok=True)
    report = ExportReport(warc=str(out), cdxj=str(out.with_name(out.name + ".cdxj")))
    with open(out, "wb") as target:
        for name, offset, length in rows:
            with open(archive.warc.folder / name, "rb") as handle:
                handle.seek(offset)
                target.write(handle.read(length))
            report.captures += 1
    report.bytes = out.stat().st_size
    Path(report.cdxj).write_text("".join(sorted(cdxj_lines(out))))
    return report


def cdxj_lines(warc: Path) -> list[str]:
    """A CDXJ line per response/revisit record (what pywb and OutbackCDX read)."""
    lines = []
    with open(warc, "rb") as handle:
        iterator = ArchiveIterator(handle)
        for record in iterator:
            if record.rec_type not in ("response", "revisit"):
                continue
            url = record.rec_headers.get_header("WARC-Target-URI")
            stamp = re.sub(r"\D", "", record.rec_headers.get_header("WARC-Date") or "")[:14]
            http = record.http_headers
            fields = {
                "url": url,
                "mime": (http.get_header("Content-Type") or "").split(";")[0] if http else "",
                "status": http.get_statuscode() if http else "",
                "digest": record.rec_headers.get_header("WARC-Payload-Digest"),
                "length": str(iterator.get_record_length()),
                "offset": str(iterator.get_record_offset()),
                "filename": warc.name,
            }
            record.content_stream().read()
            lines.append(f"{surt(url)} {stamp} {json.dumps(fields)}\n")
    return lines


# -- import ------------------------------------------------------------------


@dataclass
class WarcImportReport(ImportReport):
    """What importing external WARC/ARC files did."""

    imported: int = 0
    articles: int = 0
    not_in_registry: int = 0
    outlets: dict[str, int] = field(default_factory=dict)
    already: int = 0  # records stored by an earlier import of the same file
    seconds: float = 0.0
    worker_restarts: int = 0  # extraction pools replaced after a worker died


def iso_time(warc_date: str) -> str:
    """A WARC-Date as the archive's ISO 8601 UTC time (now, if it is unreadable)."""
    value = warc_date.replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return utcnow()
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).replace(microsecond=0).isoformat()


def capture_kind(capture_url: str, headers: dict[str, str], meta: dict[str, str],
                 source: Source) -> str:
    """What an imported capture was: our own export says; else an HTML page whose URL
    fits the outlet's article pattern (or any HTML page without one) is an article."""
    if meta.get("kind"):
        return meta["kind"]
    if "html" not in headers.get("content-type", "html"):
        return "other"
    pattern = source.article_url_pattern
    return "article" if pattern is None or re.search(pattern, capture_url) else "other"


def page_from_record(record: Record, source: Source, via: str, discovered_from: str,
                     origin_file: str) -> FetchedPage:
    """An imported WARC response as a fetch: fetched at its WARC-Date, located in its file."""
    meta = record.metadata
    hints = json.loads(meta["hints"]) if meta.get("hints") else {}
    return FetchedPage(
        source_id=source.id, url=record.uri,
        kind=capture_kind(record.uri, record.headers, meta, source),
        discovered_via=meta.get("discovered-via", via),
        discovered_from=meta.get("discovered-from") or discovered_from,
        fetched_at=iso_time(record.date), final_url=record.uri, status=record.status,
        headers=record.headers, body=record.body, hints=hints,
        origin=(origin_file, record.offset, record.length) if record.offset is not None
        else None)


def _arc_records(path: Path, report: WarcImportReport) -> Iterator[Record]:
    """ARC files (FastWARC reads WARC only) through warcio, as Records without offsets."""
    for capture, meta in iter_exchanges(path, report):
        yield Record(uri=capture.url, date=capture.date, status=capture.status,
                     headers=capture.headers, body=capture.body, offset=None, length=None,
                     metadata=meta)


def _records(path: Path, report: WarcImportReport, want: Any,
             skip: frozenset[int]) -> Iterator[Record]:
    if is_arc(path):
        yield from _arc_records(path, report)
        return
    scanned = ScanReport()
    try:
        with open(path, "rb") as handle:
            yield from scan(handle, path.name, scanned, want, skip)
    except OSError as exc:
        scanned.problem(f"{path}: {exc}")
    finally:
        report.records += scanned.records
        report.responses += scanned.responses
        report.revisits += scanned.revisits
        report.malformed += scanned.malformed
        report.problems += scanned.problems
        report.already += scanned.already
        if want is not None:
            report.not_in_registry += scanned.responses - scanned.matched


def import_warcs(archive: Archive, registry: Registry, files: Iterable[Path],
                 source_id: str | None = None, jobs: int = 1,
                 batch_items: int = 200) -> WarcImportReport:
    """Bring external captures into the archive; articles through the one extraction path.

    Records are filtered on their WARC headers before anything is decoded (the outlets'
    hosts, aliases included), extracted on `jobs` processes (which also make their WARC
    records and search columns: crawler.archive.prepare), and written in batches.
    Records already imported from the same file (capture_origins) are passed over.
    """
    from crawler.backfill.ccnews import outlet_hosts
    from crawler.backfill.pool import ExtractionPool
    from crawler.ingest.warc_fast import HostFilter

    started = time.monotonic()
    report = WarcImportReport()
    forced = registry.get(source_id) if source_id else None
    hosts = HostFilter(outlet_hosts(registry.sources),
                       lambda uri, owners: getattr(registry.source_for_url(uri), "id", owners[0]))
    want = None if forced else hosts
    pool: ExtractionPool[tuple[FetchedPage, str | None]] = ExtractionPool(
        jobs, registry.topic, str(archive.lexicon_path))

    def jobs_of(path: Path) -> Iterator[tuple[tuple[FetchedPage, str | None], Any]]:
        origin = str(path.resolve())
        skip = archive.backfill.stored_offsets(origin)
        for record in _records(path, report, want, skip):
            outlet = forced.id if forced else hosts(record.uri)
            source = registry.get(outlet) if outlet else None
            if source is None:
                continue
            page = page_from_record(record, source, "warc-import", f"warc:{path.name}", origin)
            item = (page, record.metadata.get("first-seen"))
            if wants_extraction(page):
                yield item, (page, extraction_hints(page, source))
            else:
                yield item, None

    try:
        for path in files:
            pending = 0
            with ExitStack() as batch:
                for page, value in pool.extract_prepared(jobs_of(Path(path))):
                    if not pending:
                        batch.enter_context(archive.batch())
                    _store_import(archive, page, value, report)
                    pending += 1
                    if pending >= batch_items:
                        batch.close()
                        pending = 0
    finally:
        report.worker_restarts = pool.restarts
        pool.close()
    report.seconds = time.monotonic() - started
    return report


def _store_import(archive: Archive, item: tuple[FetchedPage, str | None], value: Any,
                  report: WarcImportReport) -> None:
    page, first_seen = item
    if isinstance(value, Exception):
        page.parse_error = f"extraction failed: {type(value).__name__}: {value}"[:500]
    elif value is not None:  # extracted and made ready to write in a worker
        page.extraction, page.topic, page.framing, page.prepared = value
    try:
        with archive.transaction():
            if first_seen:
                # Our own export: keep when the URL was first discovered, not when imported.
                archive.discover(Discovered(page.source_id, page.discovered_via,
                                            page.discovered_from, first_seen,
                                            [Found(page.url, page.hints)]))
            if archive.record(page) is not None:
                report.articles += 1
    except Exception as exc:  # one bad capture never ends an import: counted, reported
        report.malformed += 1
        report.problems.append(f"{page.url}: could not be stored: {exc}"[:300])
        return
    report.imported += 1
    report.outlets[page.source_id] = report.outlets.get(page.source_id, 0) + 1
