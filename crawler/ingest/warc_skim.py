"""Skimming gzip-per-record WARC files: read each record's header, skip unwanted payloads.

A WARC file gzipped record by record (Common Crawl's, ours) is a chain of gzip members.
Reading a record's WARC header needs only the first kilobytes of its member inflated.
To skip the rest without inflating it, the next member is found in the compressed bytes:
it starts with the gzip magic `1f 8b 08`, and the four bytes before it are the gzip
trailer's ISIZE, the inflated length of the skipped member, which the header already
tells (header + Content-Length + the closing CRLFs). Magic and ISIZE together are a
56-bit check; a member that does not close where expected (another writer's layout) is
inflated to its end instead, so a file is never misread, only read more slowly.

Wanted records are inflated whole and parsed by FastWARC. Inputs that are not gzip per
record (plain, or one gzip stream) are handed to the FastWARC scanner unchanged.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable, Iterator
from typing import IO, Any

from fastwarc.warc import ArchiveIterator

from crawler.archive.warc import metadata_fields
from crawler.ingest.warc_fast import Record, ScanReport, _response, scan_fastwarc

_MAGIC = b"\x1f\x8b\x08"
_CHUNK = 1 << 20
_HEAD = 512  # compressed bytes inflated at a time while looking for a header's end
_MAX_HEADER = 1 << 16


class _Buffer:
    """The input from absolute offset `base` on, read in chunks as needed."""

    def __init__(self, raw: IO[bytes] | Any) -> None:
        self.raw = raw
        self.data = b""
        self.base = 0
        self.eof = False

    def fill(self, end: int) -> bool:
        """Make bytes up to absolute offset `end` available; False if the input ends first."""
        missing = end - self.base - len(self.data)
        while missing > 0 and not self.eof:
            more = self.raw.read(max(_CHUNK, missing))
            if not more:
                self.eof = True
                break
            self.data += more
            missing -= len(more)
        return missing <= 0

    def slice(self, start: int, end: int) -> bytes:
        """Bytes [start, end) of the input, or fewer: what is buffered (reading only when
        nothing from start on is, so a slow stream is handled as it arrives); b'' at the end."""
        self.fill(start + 1)
        return self.data[start - self.base:end - self.base]

    def find(self, needle: bytes, start: int, end: int) -> int:
        """Absolute offset of needle in [start, end) of what is buffered, or -1."""
        at = self.data.find(needle, max(start - self.base, 0), end - self.base)
        return at + self.base if at >= 0 else -1

    @property
    def end(self) -> int:
        """Absolute offset just past the buffered bytes."""
        return self.base + len(self.data)

    def drop(self, upto: int) -> None:
        """Forget bytes before `upto`, in large steps (each drop copies what is kept)."""
        cut = upto - self.base
        if cut > _CHUNK and cut * 2 > len(self.data):
            self.data = self.data[cut:]
            self.base = upto


class _Chain:
    """Bytes already read, then the rest of the stream: for a hand-over to FastWARC."""

    def __init__(self, head: bytes, rest: IO[bytes] | Any) -> None:
        self.head = io.BytesIO(head)
        self.rest = rest
        self.pos = 0

    def read(self, size: int = -1) -> bytes:
        """Read the head first, then the stream."""
        data = self.head.read(size)
        if not data:
            data = self.rest.read(size)
        self.pos += len(data)
        return data


def gzip_per_record(head: bytes) -> bool:
    """Whether input starting with these bytes can be skimmed (gzip; checked further on)."""
    return head[:3] == _MAGIC


def skim(raw: IO[bytes] | Any, name: str, report: ScanReport,
         want: Callable[[str], Any] | None = None, skip_offsets: frozenset[int] = frozenset()
         ) -> Iterator[Record]:
    """As crawler.ingest.warc_read.scan, for gzip-per-record input (falls back to FastWARC)."""
    buf = _Buffer(raw)
    pos = 0
    pending: Record | None = None
    while buf.fill(pos + 1):
        buf.drop(pos)
        head = _header(buf, pos)
        if head is None and (padding := _blank_member(buf, pos)):
            pos = padding  # a member of CRLFs only (some writers close records that way)
            continue
        if head is None:
            if pos == 0:
                yield from _fallback(buf, raw, name, report, want, skip_offsets)
                return
            report.problem(f"{name}: no WARC record at offset {pos} (damaged or cut input)")
            break
        inflater, text, fields, header_len = head
        length = int(fields.get("content-length", "0") or 0)
        isize = header_len + length + 4
        rtype = fields.get("warc-type", "")
        uri = fields.get("warc-target-uri", "").strip("<>")
        if pending is not None and fields.get("warc-concurrent-to") != pending.record_id:
            yield pending  # nothing after it belongs to it (its request or metadata do)
            pending = None
        concurrent = rtype == "metadata" and pending is not None
        wanted = rtype == "response" and (want is None or want(uri))
        if wanted and pos in skip_offsets:
            wanted = False
            report.matched += 1
            report.already += 1
        if wanted or concurrent or pos == 0:
            whole = _inflate_rest(buf, pos, inflater, text)
            if whole is None:
                report.problem(f"{name}: the input ends inside a record at offset {pos}")
                break
            member_end, data = whole
            if pos == 0 and len(data) > isize + 4:
                # One gzip stream around several records: no per-record members to skim.
                yield from _fallback(buf, raw, name, report, want, skip_offsets)
                return
        else:
            member_end = _skip(buf, pos, inflater, text, isize, name, report)
            if member_end < 0:
                report.problem(f"{name}: the input ends inside a record at offset {pos}")
                break
            data = b""
        report.records += 1
        report.responses += rtype == "response"
        report.revisits += rtype == "revisit"
        if concurrent and pending is not None:
            pending.metadata.update(metadata_fields(data[header_len:header_len + length]))
        elif wanted:
            if pending is not None:
                yield pending
                pending = None
            record = _parse(data, uri, pos, name, report)
            if record is not None:
                record.length = member_end - pos
                report.matched += 1
                report.truncated += record.truncated is not None
                pending = record
        pos = member_end
    report.bytes += buf.end
    if pending is not None:
        yield pending


def _header(buf: _Buffer, pos: int) -> tuple[Any, bytes, dict[str, str], int] | None:
    """Inflate the member at pos until its WARC header ends: (inflater, bytes, fields, len)."""
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
    text, fed = b"", pos
    try:
        while b"\r\n\r\n" not in text:
            chunk = buf.slice(fed, fed + _HEAD)
            if not chunk or len(text) > _MAX_HEADER or inflater.eof:
                return None
            text += inflater.decompress(chunk, 1024)  # output bounded: headers are short
            fed += len(chunk) - len(inflater.unconsumed_tail)
    except zlib.error:
        return None
    if not text.startswith(b"WARC/"):
        return None
    end = text.index(b"\r\n\r\n")
    fields = {}
    for line in text[:end].split(b"\r\n")[1:]:
        key, sep, value = line.partition(b":")
        if sep:
            fields[key.strip().lower().decode("latin-1")] = value.strip().decode("utf-8",
                                                                                 "replace")
    # Keep where inflating stopped: the inflater has consumed exactly [pos, fed).
    return _Fed(inflater, fed), text, fields, end + 4


def _blank_member(buf: _Buffer, pos: int) -> int:
    """The end of the gzip member at pos if it holds only whitespace, else 0."""
    whole = _inflate_rest(buf, pos, _Fed(zlib.decompressobj(zlib.MAX_WBITS | 16), pos), b"")
    return whole[0] if whole is not None and not whole[1].strip() else 0


class _Fed:
    """An inflater and the absolute offset up to which it has been fed."""

    def __init__(self, inflater: Any, fed: int) -> None:
        self.inflater = inflater
        self.fed = fed


def _inflate_rest(buf: _Buffer, pos: int, fed: _Fed, text: bytes) -> tuple[int, bytes] | None:
    """Inflate the member at pos to its end: (offset just past it, its record bytes)."""
    inflater, at = fed.inflater, fed.fed
    parts = [text]
    try:
        while not inflater.eof:
            chunk = buf.slice(at, at + _CHUNK)
            if not chunk:
                return None
            parts.append(inflater.decompress(chunk))
            at += len(chunk)
    except zlib.error:
        return None
    return at - len(inflater.unused_data), b"".join(parts)


def _skip(buf: _Buffer, pos: int, fed: _Fed, text: bytes, isize: int, name: str,
          report: ScanReport) -> int:
    """The offset just past the member at pos, found without inflating it; -1 if torn."""
    if fed.inflater.eof:
        return fed.fed - len(fed.inflater.unused_data)
    trailer = struct.pack("<I", isize & 0xFFFFFFFF)
    # Deflate never grows data by more than 5 bytes per 16 KB stored block, plus headers.
    limit = pos + isize + isize // 3000 + 1024
    start = fed.fed  # the member did not end inside what the header inflater consumed
    while True:
        end = min(limit, buf.end)
        at = buf.find(_MAGIC, start, end)
        while at >= 0:
            if buf.slice(at - 4, at) == trailer:
                return at
            at = buf.find(_MAGIC, at + 1, end)
        start = max(end - 3, start)
        if end >= limit:
            break
        if not buf.fill(buf.end + 1):
            # The input ended: the last member, complete if its trailer is the expected one.
            return buf.end if buf.slice(buf.end - 4, buf.end) == trailer else \
                _end_by_inflating(buf, pos, fed, text, isize, name, report)
    return _end_by_inflating(buf, pos, fed, text, isize, name, report)


def _end_by_inflating(buf: _Buffer, pos: int, fed: _Fed, text: bytes, isize: int,
                      name: str, report: ScanReport) -> int:
    whole = _inflate_rest(buf, pos, fed, text)
    if whole is None:
        return -1
    if len(whole[1]) > isize + 4:
        report.problem(f"{name}: the gzip member at offset {pos} holds more than one record; "
                       "only its first record was read")
    return whole[0]


def _parse(data: bytes, uri: str, pos: int, name: str, report: ScanReport) -> Record | None:
    """A whole inflated response record, parsed by FastWARC."""
    try:
        rec = next(iter(ArchiveIterator(io.BytesIO(data), parse_http=False,
                                        fsspec_args=False)))
    except StopIteration:
        report.problem(f"{name}: record at offset {pos} ({uri}) cannot be parsed")
        return None
    return _response(rec, uri, pos, name, report)


def _fallback(buf: _Buffer, raw: IO[bytes] | Any, name: str, report: ScanReport,
              want: Callable[[str], Any] | None, skip_offsets: frozenset[int]
              ) -> Iterator[Record]:
    """Hand the whole input (what was read, then the rest) to the FastWARC scanner."""
    yield from scan_fastwarc(_Chain(buf.data, raw), name, report, want, skip_offsets)
