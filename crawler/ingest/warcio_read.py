"""External WARC and ARC files read with warcio: the reference reader (ARC files, and the
baseline the fast readers are tested against). Malformed or truncated records are counted
in an ImportReport, never fatal.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from crawler.archive.warc import Capture, _capture, metadata_fields


@dataclass
class ImportReport:
    """What reading external WARC/ARC files found."""

    records: int = 0
    responses: int = 0
    revisits: int = 0
    malformed: int = 0
    problems: list[str] = field(default_factory=list)


class _Damage:
    """Collects warcio's 'record not followed by newline' warnings instead of printing them."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def format(self, offset: object, line: object) -> str:
        """Called by warcio in place of its warning template."""
        self.messages.append(f"record at offset {offset} is not followed by a blank line "
                             "(its Content-Length is probably wrong)")
        return ""


def iter_exchanges(path: str | Path, report: ImportReport) -> Iterator[tuple[Capture, dict[str, str]]]:
    """Every HTTP response in a WARC or ARC file (gzipped or not) with its metadata fields.

    Damage is counted in the report, never raised: a truncated or malformed record ends
    the file's reading (nothing after it can be located reliably) or is skipped alone.
    A WARC gzipped as one stream rather than per record is read as a stream.
    """
    try:
        yield from _exchanges(path, report, whole_gzip=False)
    except _WholeGzip as exc:
        yield from _exchanges(path, report, whole_gzip=True, skip=exc.done)
    except OSError as exc:
        report.malformed += 1
        report.problems.append(f"{path}: {exc}")


class _WholeGzip(Exception):
    def __init__(self, done: int) -> None:
        self.done = done


def _exchanges(path: str | Path, report: ImportReport, whole_gzip: bool,
               skip: int = 0) -> Iterator[tuple[Capture, dict[str, str]]]:
    pending: tuple[Capture, dict[str, str], str] | None = None
    damage = _Damage()
    seen = 0
    with (gzip.open(path, "rb") if whole_gzip else open(path, "rb")) as handle:
        iterator = ArchiveIterator(handle, arc2warc=True, ensure_http_headers=False)
        iterator.INC_RECORD = damage
        records = iter(iterator)
        while True:
            try:
                record = next(records)
            except StopIteration:
                break
            except Exception as exc:  # truncated gzip member, bad header, bad length...
                if "non-chunked gzip" in str(exc) and not whole_gzip:
                    raise _WholeGzip(seen) from exc
                report.malformed += 1
                report.problems.append(f"{path}: after record {seen}: "
                                       f"{' '.join(str(exc).split())[:200]}")
                break
            seen += 1
            if seen <= skip:
                continue
            report.records += 1
            rec_id = record.rec_headers.get_header("WARC-Record-ID") or ""
            if record.rec_type == "metadata" and pending is not None and \
                    record.rec_headers.get_header("WARC-Concurrent-To") == pending[2]:
                pending[1].update(metadata_fields(record.content_stream().read()))
                continue
            if record.rec_type == "revisit":
                report.revisits += 1
                continue
            if record.rec_type != "response" or record.http_headers is None:
                continue
            try:
                capture = _capture(record)
            except Exception as exc:
                report.malformed += 1
                report.problems.append(f"{path}: record {seen}: {exc}")
                continue
            if pending is not None:
                yield pending[0], pending[1]
            report.responses += 1
            pending = (capture, {}, rec_id)
    if pending is not None:
        yield pending[0], pending[1]
    report.malformed += len(damage.messages)
    report.problems += [f"{path}: {m}" for m in damage.messages]
