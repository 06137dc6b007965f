"""Fast WARC reading (FastWARC) for bulk input: `warc import` and the CC-NEWS backfill.

Records are filtered on their WARC headers (the WARC-Target-URI's host) before anything
else is decoded: a skipped record's HTTP headers are never parsed and its payload is never
copied into Python (a gzip-per-record file must still be inflated to find the next header).
Only wanted response records get their HTTP headers parsed and their body read.

Every record comes with its location in the (compressed) input: offset and length, the
length known once the next record starts. A truncated last record is detected by
checking the file's tail (FastWARC itself stops silently at a torn gzip member and may hand
out a torn record with a short body): it is counted as malformed, never yielded.

Writing stays with warcio (crawler/archive/warc.py); ARC files are read with warcio too.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from fastwarc.warc import ArchiveIterator, WarcRecordType

from crawler.archive.warc import metadata_fields
from crawler.web.urls import host_key

_SKIP = (KeyboardInterrupt, SystemExit, GeneratorExit, MemoryError)


@dataclass
class Record:
    """One wanted HTTP response record, read whole, with where it lives in its file."""

    uri: str
    date: str
    status: int
    headers: dict[str, str]
    body: bytes
    offset: int | None
    length: int | None
    record_id: str = ""
    truncated: str | None = None  # WARC-Truncated: the crawler cut the payload (e.g. "length")
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass
class ScanReport:
    """What reading WARC input found (all files of one run)."""

    records: int = 0
    responses: int = 0
    revisits: int = 0
    matched: int = 0  # wanted responses (those already stored included)
    already: int = 0  # wanted, but passed over: stored by an earlier run
    truncated: int = 0
    malformed: int = 0
    bytes: int = 0
    problems: list[str] = field(default_factory=list)

    def problem(self, text: str) -> None:
        """Count and keep one damage report."""
        self.malformed += 1
        self.problems.append(" ".join(text.split())[:300])


class TailStream:
    """A read-only stream wrapper that counts bytes and keeps those after a marked offset.

    FastWARC reads ahead in 64 KB chunks; the kept tail (from the start of the latest
    record to the end of input) is what the truncation check looks at. Only seeks that
    do not move are allowed (FastWARC asks where it is), so a network stream works too.
    """

    def __init__(self, raw: IO[bytes] | Any) -> None:
        self.raw = raw
        self.pos = 0
        self.kept = bytearray()
        self.kept_from = 0
        self.failed = False  # reading stopped at damage (already reported)

    def read(self, size: int = -1) -> bytes:
        """Read from the wrapped stream, keeping a copy past the mark."""
        data = self.raw.read(size)
        self.pos += len(data)
        self.kept += data
        return bytes(data)

    def mark(self, offset: int) -> None:
        """Forget the bytes before offset (the start of the record being read)."""
        if offset > self.kept_from:
            del self.kept[:offset - self.kept_from]
            self.kept_from = offset

    def tell(self) -> int:
        """Bytes read so far."""
        return self.pos

    def seek(self, offset: int, whence: int = 0) -> int:
        """Only 'where am I' seeks: the input may be a download."""
        if (whence == 1 and offset == 0) or (whence == 0 and offset == self.pos):
            return self.pos
        raise OSError("this stream cannot seek")

    def close(self) -> None:
        """The caller closes the wrapped stream."""


class HostFilter:
    """Which record URIs are wanted: a host -> outlet id table, checked before any decoding.

    Hosts are host_key()s (lower case, no `www.`, default port dropped), so `www.` variants
    of a host match too. `resolve` decides among several outlets sharing a host.
    """

    def __init__(self, hosts: dict[str, list[str]],
                 resolve: Callable[[str, list[str]], str | None] | None = None) -> None:
        self.hosts = hosts
        self.resolve = resolve

    def __call__(self, uri: str) -> str | None:
        """The outlet id a record URI belongs to, or None."""
        host = _fast_host(uri)
        owners = self.hosts.get(host) if host else None
        if not owners:
            return None
        if len(owners) == 1 or self.resolve is None:
            return owners[0]
        return self.resolve(uri, owners)


_AUTHORITY = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://([^/?#]*)")


def _fast_host(uri: str) -> str:
    """host_key() without urlsplit for the common case (millions of calls per month)."""
    m = _AUTHORITY.match(uri)
    if m is None:
        return ""
    authority = m.group(1).lower()
    if "@" in authority or "[" in authority or ":" in authority:
        return host_key(uri)  # userinfo, IPv6 or a port: the careful way
    authority = authority.rstrip(".")
    return authority[4:] if authority.startswith("www.") else authority


def scan_fastwarc(stream: IO[bytes] | Any, name: str, report: ScanReport,
                  want: Callable[[str], Any] | None = None,
                  skip_offsets: frozenset[int] = frozenset()) -> Iterator[Record]:
    """The wanted HTTP responses of one WARC stream, read by FastWARC.

    `want(uri)` is asked before a record's HTTP headers or payload are touched; None wants
    every response. Records at `skip_offsets` (already stored) are passed over unread. A
    metadata record concurrent to a yielded response (our own exports) is merged into it.
    Damage is counted in the report, never raised: a torn or malformed record ends the
    file's reading. Exceptions raised by the stream itself (a failed download) propagate.
    A file gzipped as one stream has no per-record offsets: its records come without them.
    """
    tail = TailStream(stream)
    records = ArchiveIterator(tail, parse_http=False, fsspec_args=False)
    pending: Record | None = None
    located = True  # every record starts where its own gzip member (or WARC/ line) does
    magic = b""
    try:
        for rec in _records(records, tail, name, report):
            pos = int(rec.stream_pos)
            start = tail.kept[pos - tail.kept_from:pos - tail.kept_from + 5]
            magic = magic or (b"\x1f\x8b" if start[:2] == b"\x1f\x8b" else b"WARC/")
            located = located and pos >= tail.kept_from and start.startswith(magic)
            if pending is not None and located and pending.offset is not None:
                pending.length = pos - pending.offset
            tail.mark(pos)
            report.records += 1
            rtype = rec.record_type
            headers = rec.headers
            if pending is not None and headers.get("WARC-Concurrent-To") != pending.record_id:
                yield _placed(pending, located)  # nothing after it belongs to it
                pending = None
            if rtype == WarcRecordType.metadata and pending is not None:
                pending.metadata.update(metadata_fields(rec.reader.read()))
                continue
            if rtype == WarcRecordType.revisit:
                report.revisits += 1
                continue
            if rtype != WarcRecordType.response:
                continue
            report.responses += 1
            uri = headers.get("WARC-Target-URI") or ""
            if want is not None and not want(uri):
                continue
            if located and pos in skip_offsets:
                report.matched += 1
                report.already += 1
                continue
            if pending is not None:
                yield _placed(pending, located)
                pending = None
            record = _response(rec, uri, pos, name, report)
            if record is not None:
                report.matched += 1
                report.truncated += record.truncated is not None
                pending = record
    finally:
        report.bytes += tail.pos
    if located and tail.kept:
        # The last record's length, and whether the input ends inside a record.
        good = _intact_tail(bytes(tail.kept), name, tail.kept_from,
                            ScanReport() if tail.failed else report)
        if pending is not None and pending.offset == tail.kept_from:
            pending.length = good
            if not good:
                pending = None  # the last record itself is torn: its body is not the page
    if pending is not None:
        yield _placed(pending, located)


def _placed(record: Record, located: bool) -> Record:
    if not located:
        record.offset = record.length = None
    return record


def _records(records: ArchiveIterator, tail: TailStream, name: str,
             report: ScanReport) -> Iterator[Any]:
    """FastWARC's records; a parse or decompression error ends the file, counted."""
    iterator = iter(records)
    while True:
        try:
            rec = next(iterator)
        except StopIteration:
            return
        except _SKIP:
            raise
        except OSError as exc:
            if exc.__class__ is not OSError:
                raise  # the stream's own error (e.g. a download that gave up)
            report.problem(f"{name}: after offset {tail.kept_from}: {exc}")
            tail.failed = True
            return
        except BaseException as exc:  # FastWARC's Rust panics are BaseExceptions
            if isinstance(exc, Exception) and not exc.__class__.__module__.startswith(
                    ("pyo3", "fastwarc", "builtins")):
                raise  # the stream's own error, passed through by FastWARC
            report.problem(f"{name}: after offset {tail.kept_from}: {exc}")
            tail.failed = True
            return
        yield rec


def _response(rec: Any, uri: str, pos: int, name: str, report: ScanReport) -> Record | None:
    """Parse one wanted response's HTTP headers and read its (decoded) body."""
    try:
        rec.parse_http(quirks_mode=True)
        http = rec.http_headers
        if http is None or http.status_code is None:
            return None  # not an HTTP response (e.g. a DNS record): nothing to extract
        body = bytes(rec.reader.read())
    except _SKIP:
        raise
    except BaseException as exc:
        if isinstance(exc, OSError) and exc.__class__ is not OSError:
            raise
        report.problem(f"{name}: record at offset {pos} ({uri}): {exc}")
        return None
    headers: dict[str, str] = {}
    for key, value in http.items():
        key = key.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    warc = rec.headers
    return Record(uri=uri.strip("<>"), date=warc.get("WARC-Date") or "",
                  status=int(http.status_code), headers=headers, body=_decoded(headers, body),
                  offset=pos, length=None,
                  record_id=warc.get("WARC-Record-ID") or "",
                  truncated=warc.get("WARC-Truncated"))


def _intact_tail(tail: bytes, name: str, offset: int, report: ScanReport) -> int:
    """The length of the complete record at the start of the tail; 0 if it is torn.

    Anything after it that is not a complete record is counted as damage.
    """
    good = _gzip_members(tail) if tail[:2] == b"\x1f\x8b" else _plain_record(tail)
    if good < len(tail):
        report.problem(f"{name}: the input ends inside a record at offset {offset + good} "
                       f"({len(tail) - good} bytes of a torn record)")
    return good


def _gzip_members(data: bytes) -> int:
    """How many leading bytes are complete gzip members (trailing padding included)."""
    good = 0
    while good < len(data):
        rest = data[good:]
        if not rest.strip(b"\x00\r\n"):
            return len(data)
        member = zlib.decompressobj(zlib.MAX_WBITS | 16)
        try:
            chunk = rest
            while chunk and not member.eof:
                member.decompress(chunk, 1 << 16)  # output bounded and discarded
                chunk = member.unconsumed_tail
        except zlib.error:
            return good
        if not member.eof:
            return good
        good = len(data) - len(member.unused_data)
    return good


def _decoded(headers: dict[str, str], body: bytes) -> bytes:
    """Undo chunked transfer and gzip/deflate content coding, as warcio does; keep the
    bytes as they are when they are not what the headers claim (common in the wild)."""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = _dechunk(body)
    coding = headers.get("content-encoding", "").lower().strip()
    if coding in ("gzip", "x-gzip", "deflate"):
        for wbits in (zlib.MAX_WBITS | 32, -zlib.MAX_WBITS):
            try:
                decoder = zlib.decompressobj(wbits)
                return decoder.decompress(body) + decoder.flush()
            except zlib.error:
                continue
    elif coding == "br":
        try:
            import brotli

            return bytes(brotli.decompress(body))
        except Exception:  # not installed, or not brotli after all
            return body
    return body


def _dechunk(body: bytes) -> bytes:
    """Chunked transfer coding removed; the input unchanged if it is not chunked."""
    out, pos = bytearray(), 0
    while True:
        end = body.find(b"\r\n", pos)
        if end < 0:
            return body
        try:
            size = int(body[pos:end].split(b";")[0].strip(), 16)
        except ValueError:
            return body
        if size == 0:
            return bytes(out)
        out += body[end + 2:end + 2 + size]
        if end + 2 + size > len(body):
            return bytes(out)  # cut short: what arrived
        pos = end + 2 + size + 2


_LENGTH = re.compile(rb"(?im)^content-length:\s*(\d+)\s*$")


def _plain_record(data: bytes) -> int:
    """The length of the uncompressed record at the start of data; 0 if it is cut short."""
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return 0
    m = _LENGTH.search(data, 0, end + 2)
    if m is None:
        return 0
    need = end + 4 + int(m.group(1))
    return len(data) if len(data) >= need else 0


__all__ = ["HostFilter", "Record", "ScanReport", "TailStream", "scan_fastwarc"]
