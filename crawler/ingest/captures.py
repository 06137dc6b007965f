"""Stored captures as WARC: export, import of external crawls, re-extraction without crawling.

All three go through the archive (the single writer) and the one extraction path in
crawler.ingest.extraction, so an imported or re-extracted article is built exactly as a crawled one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from warcio.archiveiterator import ArchiveIterator

from crawler.archive.core import Archive
from crawler.archive.warc import ImportReport, WarcLocation, iter_exchanges, read_capture
from crawler.ingest.extraction import apply_result, extract_page, extraction_hints
from crawler.items import Discovered, FetchedPage, Found
from crawler.registry.model import Registry, Source
from crawler.registry.topic import TopicMatcher
from extract import extract_article

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


def _selection(source_ids: Iterable[str], since: str | None, table: str = "",
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
    where, params = _selection(source_ids, since)
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


def _iso(warc_date: str) -> str:
    value = warc_date.replace("Z", "+00:00")
    try:
        return datetime.fromisoformat(value).astimezone(UTC).replace(microsecond=0).isoformat()
    except ValueError:
        return datetime.now(UTC).replace(microsecond=0).isoformat()


def _kind(capture_url: str, headers: dict[str, str], meta: dict[str, str],
          source: Source) -> str:
    if meta.get("kind"):
        return meta["kind"]  # our own export says what the capture was for
    if "html" not in headers.get("content-type", "html"):
        return "other"
    pattern = source.article_url_pattern
    return "article" if pattern is None or re.search(pattern, capture_url) else "other"


def import_warcs(archive: Archive, registry: Registry, files: Iterable[Path],
                 source_id: str | None = None) -> WarcImportReport:
    """Bring external captures into the archive; articles through the one extraction path."""
    report = WarcImportReport()
    matcher = TopicMatcher(registry.topic)
    forced = registry.get(source_id) if source_id else None
    for path in files:
        for capture, meta in iter_exchanges(path, report):
            source = forced or registry.source_for_url(capture.url)
            if source is None:
                report.not_in_registry += 1
                continue
            hints = json.loads(meta["hints"]) if meta.get("hints") else {}
            page = FetchedPage(
                source_id=source.id, url=capture.url,
                kind=_kind(capture.url, capture.headers, meta, source),
                discovered_via=meta.get("discovered-via", "warc-import"),
                discovered_from=meta.get("discovered-from") or f"warc:{Path(path).name}",
                fetched_at=_iso(capture.date), final_url=capture.url, status=capture.status,
                headers=capture.headers, body=capture.body, hints=hints,
            )
            if meta.get("first-seen"):
                # Our own export: keep when the URL was first discovered, not when imported.
                archive.discover(Discovered(source.id, page.discovered_via, page.discovered_from,
                                            meta["first-seen"], [Found(page.url, hints)]))
            extract_page(page, source, matcher)
            if archive.record(page) is not None:
                report.articles += 1
            report.imported += 1
            report.outlets[source.id] = report.outlets.get(source.id, 0) + 1
    return report


# -- re-extraction -----------------------------------------------------------


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


_Job = tuple[str, int, str, str, dict[str, str], dict[str, Any], str, int, int]


def _extract_job(job: _Job) -> tuple[int, Any]:
    """Worker: read one capture from its WARC by offset and extract it."""
    folder, page_id, url, final_url, headers, hints, name, offset, length = job
    capture = read_capture(folder, WarcLocation(name, offset, length))
    return page_id, extract_article(capture.body, final_url or url, **hints)


def reextract(archive: Archive, registry: Registry, source_ids: Iterable[str] = (),
              since: str | None = None, status: str | None = None,
              jobs: int = 1) -> ReextractReport:
    """Re-run extraction over stored captures on `jobs` processes; no network needed."""
    where, params = _selection(source_ids, since, "a.", "p.warc_file IS NOT NULL")
    if status:
        where.append("a.extraction_status = ?")
        params.append(status)
    rows = archive.db.execute(
        "SELECT p.id, a.source_id, p.url, p.final_url, p.kind, p.discovered_via, p.fetched_at,"
        " p.headers, p.hints, p.warc_file, p.warc_offset, p.warc_length FROM articles a"
        f" JOIN pages p ON p.id = a.page_id WHERE {' AND '.join(where)} ORDER BY p.id",
        params).fetchall()
    pages: dict[int, FetchedPage] = {}
    work: list[_Job] = []
    for pid, sid, url, final, kind, via, fetched, headers, hints, name, offset, length in rows:
        page = FetchedPage(source_id=sid, url=url, kind=kind, discovered_via=via or "",
                           fetched_at=fetched, final_url=final, status=200,
                           headers=json.loads(headers or "{}"), hints=json.loads(hints or "{}"))
        pages[pid] = page
        source = registry.get(sid) if sid in {s.id for s in registry.sources} else None
        work.append((str(archive.warc.folder), pid, url, final or "", page.headers,
                     extraction_hints(page, source), name, offset, length))
    matcher = TopicMatcher(registry.topic)
    report = ReextractReport()
    if jobs > 1:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            results = list(pool.map(_extract_job, work, chunksize=4))
    else:
        results = [_extract_job(job) for job in work]
    for pid, result in results:
        report.checked += 1
        changes = archive.apply_extraction(pid, apply_result(pages[pid], result, matcher))
        for name in ("text", "title", "date", "status"):
            if name in changes:
                setattr(report, f"changed_{name}", getattr(report, f"changed_{name}") + 1)
        report.unchanged += not changes
    return report
