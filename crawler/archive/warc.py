"""WARC/1.1 storage of raw captures (warcio): rotating files, read-back by offset.

Pure file I/O: no Scrapy and no database. The archive writer calls `WarcStore` and keeps
each capture's file, offset and length in `pages`, so one capture is read back without
scanning. Unchanged re-fetches become `revisit` records (identical-payload-digest).

Crash safety: a file being written has a `<file>.open` marker beside it, removed when the
file is closed cleanly. A writer killed mid-append leaves the marker and a torn last gzip
member; `WarcStore.recover()` (run by the archive's lock holder before writing) cuts the
file back to its last complete member, so every file reads to the end without error.
Records are flushed before the database commits the rows that point at them, so a cut
never removes a committed capture.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import uuid
import zlib
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import GzippingWrapper, WARCWriter
from zlib_ng import zlib_ng

DEFAULT_MAX_BYTES = 1_000_000_000
# Scrapy hands us decoded bodies: these headers would describe bytes we no longer have.
_TRANSPORT_HEADERS = {"content-encoding", "transfer-encoding", "content-length"}


@dataclass(frozen=True)
class WarcLocation:
    """Where one record lives: file name (relative to the WARC folder), offset, length."""

    file: str
    offset: int
    length: int


@dataclass
class Capture:
    """One HTTP response read back from a WARC record."""

    url: str
    date: str
    status: int
    headers: dict[str, str]
    body: bytes
    record_type: str = "response"
    metadata: dict[str, str] = field(default_factory=dict)


def payload_digest(body: bytes) -> str:
    """The WARC payload digest of a body (sha1, base32), as warcio writes it."""
    return "sha1:" + base64.b32encode(hashlib.sha1(body).digest()).decode()


def _warc_date(iso: str) -> str:
    # WARC-Date is UTC with a Z; our timestamps are ISO 8601 with +00:00.
    return iso.replace("+00:00", "Z")


class _Gzip6(GzippingWrapper):
    def __init__(self, out: Any) -> None:
        # zlib-ng: the same gzip format at level 6 for about half zlib's CPU (measured on
        # the bench pages: 1.4 vs 2.7 ms a 59 KB page, 0.7% more bytes); every capture is
        # compressed once, in the extraction worker beside its extraction.
        self.compressor = zlib_ng.compressobj(6, zlib_ng.DEFLATED, zlib_ng.MAX_WBITS + 16)
        self.out = out


class _Writer(WARCWriter):
    """warcio's writer at gzip level 6: its level 9 costs ~1.7x the CPU for <1% less disk,
    and every capture of a crawl is compressed on the crawl's cores."""

    gzip: bool

    def _write_warc_record(self, out: Any, record: Any) -> Any:
        if not self.gzip:
            return super()._write_warc_record(out, record)
        self.gzip = False
        try:
            return super()._write_warc_record(_Gzip6(out), record)
        finally:
            self.gzip = True


def exchange_records(
    *,
    url: str,
    fetched_at: str,
    status: int,
    headers: dict[str, str],
    body: bytes,
    request_headers: dict[str, str] | None = None,
    revisit_of: tuple[str, str] | None = None,
) -> tuple[bytes, str]:
    """The response (or revisit) and request records of one exchange, each its own gzip
    member, and the response's WARC-Record-ID. Pure CPU (digests, gzip): the crawl makes
    them in its extraction workers and the archive writer only appends them."""
    out = io.BytesIO()
    writer = _Writer(out, gzip=True, warc_version="WARC/1.1")
    date = _warc_date(fetched_at)
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else ""
    http_headers = StatusAndHeaders(
        f"{status} {phrase}".strip(),
        [(k, v) for k, v in headers.items() if k.lower() not in _TRANSPORT_HEADERS],
        protocol="HTTP/1.1",
    )
    digest = payload_digest(body)
    if revisit_of is not None:
        record = writer.create_revisit_record(
            url, digest, revisit_of[0], _warc_date(revisit_of[1]), http_headers=http_headers,
            warc_headers_dict={"WARC-Date": date})
    else:
        record = writer.create_warc_record(
            url, "response", payload=io.BytesIO(body), length=len(body),
            http_headers=http_headers, warc_headers_dict={"WARC-Date": date})
    writer.write_record(record)
    response_id = record.rec_headers.get_header("WARC-Record-ID")
    req = StatusAndHeaders(f"GET {_path(url)} HTTP/1.1", list((request_headers or {}).items()),
                           is_http_request=True)
    writer.write_record(writer.create_warc_record(
        url, "request", payload=io.BytesIO(b""), length=0, http_headers=req,
        warc_headers_dict={"WARC-Date": date, "WARC-Concurrent-To": response_id}))
    return out.getvalue(), response_id


def whole_records(data: bytes) -> bool:
    """Whether bytes are complete gzip members that each hold a WARC record: what
    append_exchange() may add to a file without tearing it (records from another process)."""
    if not data:
        return False
    while data:
        member = zlib.decompressobj(zlib.MAX_WBITS | 16)
        try:
            head = member.decompress(data, 16)
            while member.unconsumed_tail and not member.eof:  # output bounded, discarded
                member.decompress(member.unconsumed_tail, 1 << 20)
        except zlib.error:
            return False
        if not member.eof or not head.startswith(b"WARC/"):
            return False
        data = member.unused_data
    return True


def _metadata_record(writer: WARCWriter, url: str, date: str, response_id: str,
                     metadata: dict[str, str]) -> Any:
    text = "".join(f"{k}: {v}\n" for k, v in metadata.items()).encode()
    return writer.create_warc_record(
        url, "metadata", payload=io.BytesIO(text), length=len(text),
        warc_content_type="application/warc-fields",
        warc_headers_dict={"WARC-Date": date, "WARC-Concurrent-To": response_id})


class WarcStore:
    """Append captures to gzipped WARC/1.1 files that rotate at a size."""

    def __init__(self, folder: str | Path, max_bytes: int = DEFAULT_MAX_BYTES,
                 prefix: str = "mediawatch") -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes
        self.prefix = prefix
        self._handle: io.BufferedWriter | None = None
        self._name = ""

    def _writer(self) -> tuple[WARCWriter, io.BufferedWriter]:
        if self._handle is not None and self._handle.tell() >= self.max_bytes:
            self.close()
        if self._handle is None:
            stamp = uuid.uuid4().hex[:8]
            existing = len(list(self.folder.glob(f"{self.prefix}-*.warc.gz")))
            self._name = f"{self.prefix}-{existing:05d}-{os.getpid()}-{stamp}.warc.gz"
            self._marker(self._name).touch()  # before the first byte: a kill leaves it behind
            self._handle = open(self.folder / self._name, "ab")  # noqa: SIM115
        return _Writer(self._handle, gzip=True, warc_version="WARC/1.1"), self._handle

    def write(
        self,
        *,
        url: str,
        fetched_at: str,
        status: int,
        headers: dict[str, str],
        body: bytes,
        request_headers: dict[str, str] | None = None,
        metadata: dict[str, str] | None = None,
        revisit_of: tuple[str, str] | None = None,
    ) -> WarcLocation:
        """Write request + response (or revisit) + metadata; return the response's location."""
        records, response_id = exchange_records(
            url=url, fetched_at=fetched_at, status=status, headers=headers, body=body,
            request_headers=request_headers, revisit_of=revisit_of)
        return self.append_exchange(records, response_id, url=url, fetched_at=fetched_at,
                                    metadata=metadata)

    def append_exchange(self, records: bytes, response_id: str, *, url: str, fetched_at: str,
                        metadata: dict[str, str] | None = None) -> WarcLocation:
        """Append an exchange's records made by exchange_records() (e.g. in an extraction
        worker), then its metadata record; return the exchange's location."""
        writer, handle = self._writer()
        start = handle.tell()
        handle.write(records)
        if metadata:
            writer.write_record(_metadata_record(writer, url, _warc_date(fetched_at),
                                                 response_id, metadata))
        handle.flush()
        # The location spans the whole exchange (response, request, metadata): reading it
        # back yields the response first, and an export copies the exchange byte for byte.
        return WarcLocation(self._name, start, handle.tell() - start)

    def close(self) -> None:
        """Close the current file (the next write opens a new one)."""
        if self._handle is not None:
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self._handle.close()
            self._handle = None
            self._marker(self._name).unlink(missing_ok=True)

    def _marker(self, name: str) -> Path:
        return self.folder / f"{name}.open"

    def recover(self) -> list[tuple[str, int]]:
        """Cut torn tails left by killed writers; return (file name, bytes dropped) per cut.

        Only for the one process allowed to write the folder: a live writer's file has a
        marker too, and its half-written record would look torn.
        """
        cut = []
        for marker in sorted(self.folder.glob(f"{self.prefix}-*.warc.gz.open")):
            path = marker.with_suffix("")
            if self._handle is not None and path.name == self._name:
                continue  # our own file, being written
            if path.exists():
                size = path.stat().st_size
                good = intact_length(path)
                if good < size:
                    with open(path, "r+b") as handle:
                        handle.truncate(good)
                        os.fsync(handle.fileno())
                    cut.append((path.name, size - good))
            marker.unlink()
        return cut


def intact_length(path: str | Path) -> int:
    """How many leading bytes of a gzip-per-record file are complete gzip members."""
    good = 0
    fed = 0  # file offset just past the bytes handed to the current member's decompressor
    member = zlib.decompressobj(zlib.MAX_WBITS | 16)
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            fed += len(chunk)
            data = chunk
            while data:
                try:
                    member.decompress(data, 1 << 20)  # output bounded and discarded
                except zlib.error:
                    return good  # not gzip from here on: nothing after it can be located
                if member.eof:
                    data = member.unused_data  # the next member's first bytes
                    good = fed - len(data)
                    member = zlib.decompressobj(zlib.MAX_WBITS | 16)
                else:
                    data = member.unconsumed_tail
    return good


def _path(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def read_capture(folder: str | Path, location: WarcLocation) -> Capture:
    """Read one response (or revisit) record by its offset, without scanning the file."""
    with open(Path(folder) / location.file, "rb") as handle:
        handle.seek(location.offset)
        raw = handle.read(location.length)
    for record in ArchiveIterator(io.BytesIO(raw)):
        return _capture(record)
    raise ValueError(f"no WARC record at {location}")


def _capture(record: object) -> Capture:
    rec = record  # warcio's ArcWarcRecord
    http = rec.http_headers  # type: ignore[attr-defined]
    status = int(http.get_statuscode()) if http is not None else 0
    headers = {k.lower(): v for k, v in (http.headers if http is not None else [])}
    uri = rec.rec_headers.get_header("WARC-Target-URI") or ""  # type: ignore[attr-defined]
    date = rec.rec_headers.get_header("WARC-Date") or ""  # type: ignore[attr-defined]
    return Capture(url=uri, date=date, status=status, headers=headers,
                   body=rec.content_stream().read(),  # type: ignore[attr-defined]
                   record_type=rec.rec_type)  # type: ignore[attr-defined]


def metadata_fields(text: bytes) -> dict[str, str]:
    """The `key: value` lines of a WARC metadata record's payload."""
    out = {}
    for line in text.decode("utf-8", "replace").splitlines():
        key, sep, value = line.partition(":")
        if sep:
            out[key.strip()] = value.strip()
    return out
