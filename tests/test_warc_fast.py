"""The fast WARC reader (crawler.ingest.warc_fast + crawler.ingest.warc_skim) against warcio, the reference.

On every sample file both readers must yield the same responses (URI, status, headers,
body); each location must read back, with warcio, as the same record; filtering, passing
over stored offsets, torn tails and awkward layouts must behave as documented.
"""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from crawler.ingest.warc_fast import HostFilter, ScanReport
from crawler.ingest.warc_read import is_arc, scan
from crawler.ingest.warcio_read import ImportReport, iter_exchanges

pytestmark = pytest.mark.unit

SAMPLES = Path(__file__).parent / "data" / "warc"
SAMPLE_FILES = sorted(p for p in SAMPLES.iterdir() if p.name != "MANIFEST.tsv")
PAGES = Path(__file__).parent / "pages"


class Trickle:
    """A non-seekable stream handing out a few bytes at a time (like a slow download)."""

    def __init__(self, data: bytes, step: int = 4093) -> None:
        self.data, self.pos, self.step = data, 0, step

    def read(self, size: int = -1) -> bytes:
        n = self.step if size < 0 else min(size, self.step)
        out = self.data[self.pos:self.pos + n]
        self.pos += len(out)
        return out


def records(data: bytes, want=None, skip=frozenset(), stream=None) -> tuple[list, ScanReport]:
    report = ScanReport()
    return list(scan(stream or io.BytesIO(data), "t", report, want, skip)), report


@pytest.mark.parametrize("sample", [p for p in SAMPLE_FILES if not is_arc(p)],
                         ids=lambda p: p.name)
def test_same_responses_as_warcio_and_locations_read_back(sample: Path) -> None:
    reference = ImportReport()
    expected = list(iter_exchanges(sample, reference))
    data = sample.read_bytes()
    for stream in (io.BytesIO(data), Trickle(data)):
        got, report = records(data, stream=stream)
        assert [(r.uri, r.status, r.body, set(r.headers)) for r in got] == [
            (c.url, c.status, c.body, set(c.headers)) for c, _ in expected]
        for r, (c, _) in zip(got, expected, strict=True):
            # warcio keeps a repeated header's last value; we keep them all, joined (as the
            # crawl does), so nothing is lost.
            assert all(r.headers[k].endswith(v) for k, v in c.headers.items())
        assert report.responses == reference.responses
        assert (report.malformed > 0) == (reference.malformed > 0)
        for r in got:
            if r.offset is None:
                continue
            raw = data[r.offset:r.offset + r.length]
            one = next(iter(ArchiveIterator(io.BytesIO(raw))))
            assert one.rec_headers.get_header("WARC-Target-URI").strip("<>") == r.uri


def _warc(pages: list[tuple[str, bytes]], gz: bool = True) -> tuple[bytes, list[int]]:
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=gz)
    offsets = []
    for url, body in pages:
        offsets.append(out.tell())
        writer.write_record(writer.create_warc_record(
            url, "response", payload=io.BytesIO(body), length=len(body),
            http_headers=StatusAndHeaders("200 OK", [("Content-Type", "text/html")],
                                          protocol="HTTP/1.1")))
    return out.getvalue(), offsets


def _pages(n: int) -> list[tuple[str, bytes]]:
    bodies = [p.read_bytes() for p in sorted(PAGES.glob("*/input.html"))]
    return [(f"https://{'www.' if i % 2 else ''}site{i % 5}.example/a/{i}", bodies[i % len(bodies)])
            for i in range(n)]


def test_host_filter_skips_unwanted_records_and_locates_wanted_ones() -> None:
    pages = _pages(40)
    data, offsets = _warc(pages)
    want = HostFilter({"site3.example": ["s3"]})
    got, report = records(data, want)
    expected = [(u, b, o) for (u, b), o in zip(pages, offsets, strict=True) if "site3." in u]
    assert [(r.uri, r.body, r.offset) for r in got] == expected
    assert report.records == report.responses == 40 and report.matched == len(expected)
    ends = offsets[1:] + [len(data)]
    assert [r.length for r in got] == [ends[offsets.index(o)] - o for _, _, o in expected]
    # Already stored records are passed over, still counted as the outlet's.
    again, report = records(data, want, frozenset({expected[0][2]}))
    assert [r.offset for r in again] == [o for _, _, o in expected[1:]]
    assert report.matched == len(expected) and report.already == 1


def test_a_torn_last_record_is_counted_never_yielded() -> None:
    pages = _pages(6)
    data, offsets = _warc(pages)
    for cut in (offsets[-1] + 40, offsets[-1] + 2000, len(data) - 3):
        got, report = records(data[:cut])
        assert [r.uri for r in got] == [u for u, _ in pages[:-1]]
        assert report.malformed == 1 and f"offset {offsets[-1]}" in report.problems[0]
    plain, plain_offsets = _warc(pages, gz=False)
    got, report = records(plain[:plain_offsets[-1] + 500])
    assert [r.uri for r in got] == [u for u, _ in pages[:-1]] and report.malformed == 1


def test_one_gzip_stream_and_plain_files_are_read_whole_without_offsets() -> None:
    pages = _pages(5)
    plain, _ = _warc(pages, gz=False)
    for data in (gzip.compress(plain), plain):
        got, report = records(data, HostFilter({"site1.example": ["x"]}))
        assert [r.uri for r in got] == [u for u, _ in pages if "site1." in u]
        assert report.records == 5 and report.malformed == 0
    assert all(r.offset is None for r in records(gzip.compress(plain))[0])


def test_a_member_that_does_not_end_where_its_header_says_is_still_read() -> None:
    # Another writer's layout: the record's closing CRLFs in a gzip member of their own.
    out = io.BytesIO()
    pages = _pages(4)
    for url, body in pages:
        one, _ = _warc([(url, body)], gz=False)
        out.write(gzip.compress(one[:-4]))
        out.write(gzip.compress(one[-4:]))
    got, report = records(out.getvalue(), HostFilter({"site2.example": ["x"]}))
    assert [r.uri for r in got] == [u for u, _ in pages if "site2." in u]
    assert report.malformed == 0


def test_records_written_by_zlib_ng_read_with_the_standard_library_and_warcio() -> None:
    # The crawl compresses captures with zlib-ng: each record must stay a standard gzip
    # member (gzip, warcio and FastWARC readers alike), digests included.
    from crawler.archive.warc import exchange_records

    body = "<html><body><p>Пашинян и Путин в Ереване. Երևան.</p></body></html>".encode() * 200
    records, record_id = exchange_records(
        url="http://127.0.0.1/a.html", fetched_at="2026-01-01T00:00:00+00:00", status=200,
        headers={"content-type": "text/html; charset=utf-8"}, body=body,
        request_headers={"user-agent": "mediawatch"})
    assert body in gzip.decompress(records)
    read = [(r.rec_type, r.rec_headers.get_header("WARC-Record-ID"), r.content_stream().read())
            for r in ArchiveIterator(io.BytesIO(records), check_digests=True)]
    assert [t for t, _, _ in read] == ["response", "request"]
    assert read[0][1] == record_id and read[0][2] == body
