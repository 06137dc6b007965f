"""Reading WARC input in bulk: `scan` picks the fastest reader a file's layout allows.

Gzip-per-record files (CC-NEWS, most crawls) are skimmed (crawler.ingest.warc_skim: the
payloads of unwanted records are never inflated); whole-gzip and plain files are read by
FastWARC (crawler.ingest.warc_fast); ARC files, which FastWARC does not read, are left to
warcio by the caller (`is_arc`).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from crawler.ingest.warc_fast import Record, ScanReport, scan_fastwarc
from crawler.ingest.warc_skim import _Chain, gzip_per_record, skim


def is_arc(path: str | Path) -> bool:
    """True for ARC files (gzipped or not), which FastWARC does not read."""
    with open(path, "rb") as handle:
        head = handle.read(512)
    if head[:2] == b"\x1f\x8b":
        try:
            head = zlib.decompressobj(zlib.MAX_WBITS | 16).decompress(head, 64)
        except zlib.error:
            return False
    return head.startswith(b"filedesc:")


def scan(stream: IO[bytes] | Any, name: str, report: ScanReport,
         want: Callable[[str], Any] | None = None, skip_offsets: frozenset[int] = frozenset()
         ) -> Iterator[Record]:
    """The wanted HTTP responses of one WARC stream (gzip-per-record, whole-gzip or plain).

    Gzip-per-record input is skimmed (crawler.ingest.warc_skim: unwanted payloads are never
    inflated); anything else is read by FastWARC (scan_fastwarc). Same contract for both.
    """
    head = stream.read(3)
    chained = _Chain(head, stream)
    if gzip_per_record(head):
        yield from skim(chained, name, report, want, skip_offsets)
    else:
        yield from scan_fastwarc(chained, name, report, want, skip_offsets)
