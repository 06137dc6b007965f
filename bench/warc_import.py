"""Bulk WARC input speed: the backfill filter and `warc import` next to warcio, and
re-extraction with 1 and 2 processes, each pair measured on the same input in one run.

1. A CC-NEWS-like file is generated (gzip per record, real-size pages: the recorded pages
   of tests/pages under many synthetic hosts; a small share, 0.2% by default, on three
   registry outlets' hosts, as in a CC-NEWS file). On that one file: warcio's ArchiveIterator reading every
   record (the baseline), FastWARC alone, the backfill filter (crawler.ingest.warc_read.scan
   with the outlets' host filter), and `warc import` end to end into a fresh archive
   (filter, extraction on every core, archive writes). Goal: import >= 3x warcio.
2. `reextract --jobs 1` and `--jobs 2` over the same archive of real pages (the
   development set's HTML when present, else tests/pages repeated). Goal: >= 1.8x.

Usage: .venv/bin/python bench/warc_import.py [--records N] [--share F] [--reextract N]
       [--devsets PATH]
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PAGES = ROOT / "tests" / "pages"
OUTLETS = {"tert": "www.tert.am", "tass": "tass.ru", "mk": "www.mk.ru"}
REGISTRY = {
    "topic": {"id": "t", "name": "T", "require": [["Armenia*", "Russia*", "Россия*"]]},
    "source": [{"id": sid, "name": sid, "homepage": f"https://{host}/", "language": "ru",
                "country": "AM", "kind": "independent"} for sid, host in OUTLETS.items()],
}


def pages() -> list[bytes]:
    """The recorded real pages (tests/pages), as served bodies."""
    return [p.read_bytes() for p in sorted(PAGES.glob("*/input.html"))]


def _member(url: str, body: bytes, date: str) -> bytes:
    """One response record as its own gzip member (what CC-NEWS files are made of)."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True)
    http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")],
                            protocol="HTTP/1.1")
    writer.write_record(writer.create_warc_record(
        url, "response", payload=io.BytesIO(body), length=len(body), http_headers=http,
        warc_headers_dict={"WARC-Date": date}))
    return out.getvalue()


def make_ccnews_like(path: Path, records: int, share: float, seed: int = 17,
                     distinct: int = 400) -> int:
    """Write a gzip-per-record WARC of `records` responses; return how many are outlets'.

    Other hosts' records are drawn from `distinct` pre-built members (distinct hosts and
    pages), so a file of hundreds of MB is written in seconds; the outlets' records are
    each built anew (distinct URLs, so each is a new article).
    """
    rnd = random.Random(seed)
    bodies = pages()
    filler = [_member(f"https://www.news-{i}.example/news/2024/05/{i}",
                      bodies[rnd.randrange(len(bodies))], "2024-05-03T12:00:00Z")
              for i in range(distinct)]
    every = max(1, round(1 / share)) if share > 0 else records + 1
    hosts = list(OUTLETS.values())
    matched = 0
    with open(path, "wb") as handle:
        for i in range(records):
            if i % every == every // 2:
                handle.write(_member(f"https://{hosts[matched % len(hosts)]}/news/2024/05/{i}",
                                     bodies[rnd.randrange(len(bodies))],
                                     f"2024-05-{1 + i % 28:02d}T12:00:00Z"))
                matched += 1
            else:
                handle.write(filler[rnd.randrange(distinct)])
    return matched


def time_warcio(path: Path) -> int:
    """The baseline: warcio's ArchiveIterator reading every record whole."""
    from warcio.archiveiterator import ArchiveIterator

    n = 0
    with open(path, "rb") as handle:
        for record in ArchiveIterator(handle):
            record.content_stream().read()
            n += 1
    return n


def time_fastwarc(path: Path) -> int:
    """FastWARC alone: every record's headers, payloads skipped (still inflated)."""
    from fastwarc.warc import ArchiveIterator

    return sum(1 for _ in ArchiveIterator(str(path), parse_http=False))


def time_filter(path: Path) -> tuple[int, int]:
    """The backfill's read: crawler.ingest.warc_read.scan with the outlets' host filter."""
    from crawler.backfill.ccnews import host_filter
    from crawler.ingest.warc_fast import ScanReport
    from crawler.ingest.warc_read import scan
    from crawler.registry.model import parse_registry

    registry = parse_registry(REGISTRY)
    report = ScanReport()
    with open(path, "rb") as handle:
        kept = sum(1 for _ in scan(handle, path.name, report,
                                   host_filter(registry, registry.sources)))
    return report.records, kept


def time_import(path: Path, work: Path, jobs: int) -> tuple[int, int]:
    """`warc import` end to end into a fresh archive (records read, articles stored)."""
    from crawler.archive.core import Archive
    from crawler.ingest.captures import import_warcs
    from crawler.registry.model import parse_registry

    registry = parse_registry(REGISTRY)
    archive = Archive(work / "import.db")
    try:
        archive.sync_sources(registry)
        report = import_warcs(archive, registry, [path], jobs=jobs)
    finally:
        archive.close()
    return report.records, report.articles


def _cpu() -> float:
    """CPU seconds of this process and its finished children (pool workers, once joined)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(
        resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


LAST_CPU = [0.0]


def _timed(fn: Any, *args: Any) -> tuple[Any, float]:
    """fn(*args) and its wall time; its CPU time (all processes) goes to LAST_CPU[0]."""
    cpu, start = _cpu(), time.perf_counter()
    value = fn(*args)
    LAST_CPU[0] = _cpu() - cpu
    return value, time.perf_counter() - start


def _build_reextract_archive(path: Path, bodies: list[bytes]) -> Any:
    """An archive of `bodies` as crawled pages (extracted on every core, as a crawl does)."""
    from crawler.archive.core import Archive
    from crawler.backfill.pool import ExtractionPool
    from crawler.ingest.extraction import extract_prepared, extraction_hints
    from crawler.items import FetchedPage
    from crawler.registry.model import parse_registry

    registry = parse_registry({**REGISTRY, "source": [{
        "id": "bench", "name": "Bench", "homepage": "http://bench.invalid/", "language": "en",
        "country": "DE", "kind": "independent"}]})
    source = registry.get("bench")
    archive = Archive(path)
    archive.sync_sources(registry)
    lexicon = str(archive.lexicon_path)

    def jobs() -> Any:
        for i, body in enumerate(bodies):
            url = f"http://bench.invalid/{i}"
            page = FetchedPage(source_id="bench", url=url, kind="article",
                               discovered_via="bench", fetched_at="2025-01-01T00:00:00+00:00",
                               final_url=url, status=200, headers={"content-type": "text/html"},
                               body=body)
            yield page, (page, extraction_hints(page, source), registry.topic, lexicon)

    pool: Any = ExtractionPool(os.cpu_count() or 1, registry.topic, lexicon)
    try:
        with archive.batch():
            for page, value in pool.map(extract_prepared, jobs()):
                page.extraction, page.topic, page.framing, page.prepared = value
                archive.record(page)
    finally:
        pool.close()
    archive.close()
    return registry


def _own_cpu() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    return me.ru_utime + me.ru_stime


def reextract_rates(work: Path, limit: int, devsets: Path | None, rounds: int
                    ) -> dict[str, Any]:
    """Re-extraction articles/s with 1 and 2 processes over one archive of real pages.

    Every run starts from its own copy of the same archive (same pages, same state), and the
    runs alternate (1, 2, 2, 1 per round) so that a change in the machine's load during the
    measurement weighs on both sides alike.
    """
    import shutil

    from crawler.archive.core import Archive, warc_folder
    from crawler.ingest.reextract import reextract

    html = sorted((devsets / "extraction" / "html").glob("*.gz")) if devsets else []
    if html:
        bodies, origin = [gzip.decompress(p.read_bytes()) for p in html[:limit]], "devset pages"
    else:
        base = pages()
        bodies, origin = [base[i % len(base)] for i in range(limit)], "recorded pages, repeated"
    master = work / "reextract-master" / "reextract.db"
    registry = _build_reextract_archive(master, bodies)
    seconds: dict[int, float] = {1: 0.0, 2: 0.0}
    cpu: dict[int, float] = {1: 0.0, 2: 0.0}
    main_cpu: dict[int, float] = {1: 0.0, 2: 0.0}
    checked: dict[int, int] = {1: 0, 2: 0}
    loads = []
    for n, jobs in enumerate([1, 2, 2, 1] * rounds):
        run = work / f"reextract-{n}"
        run.mkdir()
        shutil.copy(master, run / master.name)
        shutil.copytree(warc_folder(master), warc_folder(run / master.name))
        archive = Archive(run / master.name)
        archive.sync_sources(registry)
        own = _own_cpu()
        report, took = _timed(reextract, archive, registry, (), None, None, jobs)
        main_cpu[jobs] += _own_cpu() - own
        archive.close()
        shutil.rmtree(run)
        seconds[jobs] += took
        cpu[jobs] += LAST_CPU[0]
        checked[jobs] += report.checked
        loads.append(os.getloadavg()[0])
    return {"pages": len(bodies), "origin": origin, "runs": 2 * rounds,
            "jobs1": checked[1] / seconds[1], "jobs2": checked[2] / seconds[2],
            # cores this run actually got from the machine (other work takes its share)
            "busy1": cpu[1] / seconds[1], "busy2": cpu[2] / seconds[2],
            # CPU of the writing process per article: at --jobs 2 all it does is write
            "main_ms2": 1000 * main_cpu[2] / checked[2],
            "cpu_ms1": 1000 * cpu[1] / checked[1], "cpu_ms2": 1000 * cpu[2] / checked[2],
            "loads": loads}


def import_part(work: Path, args: argparse.Namespace, out: dict[str, Any]) -> None:
    """The CC-NEWS-like file: warcio, FastWARC, the filter and `warc import`, one after another."""
    jobs = os.cpu_count() or 1
    path = work / "CC-NEWS-like.warc.gz"
    matched, made = _timed(make_ccnews_like, path, args.records, args.share)
    mb = path.stat().st_size / 1e6
    print(f"\n== Bulk WARC input: one CC-NEWS-like file ({args.records} records, "
          f"{mb:.0f} MB gzip per record, {matched} on 3 outlets' hosts; made in "
          f"{made:.0f} s) ==")
    runs = {}
    for name, fn, fargs in (("warcio ArchiveIterator (reads every record)", time_warcio,
                             (path,)),
                            ("FastWARC alone (headers only)", time_fastwarc, (path,)),
                            ("backfill filter (warc_read.scan, host filter)", time_filter,
                             (path,)),
                            (f"warc import end to end (--jobs {jobs})", time_import,
                             (path, work, jobs))):
        value, seconds = _timed(fn, *fargs)
        runs[name] = seconds
        print(f"  {name:<48} {seconds:6.2f} s {args.records / seconds:7.0f} records/s "
              f"{mb / seconds:6.1f} MB/s  cpu {LAST_CPU[0]:5.1f} s  ({value})")
    base = runs["warcio ArchiveIterator (reads every record)"]
    names = list(runs)
    filt, imp = runs[names[2]], runs[names[3]]
    print(f"  filter {base / filt:.1f}x warcio; warc import {base / imp:.1f}x warcio "
          f"(goal >= 3x); FastWARC alone {base / runs[names[1]]:.1f}x")
    out.update(records=args.records, mb=round(mb, 1), matched=matched,
               warcio_records_s=round(args.records / base),
               fastwarc_records_s=round(args.records / runs[names[1]]),
               filter_records_s=round(args.records / filt),
               filter_mb_s=round(mb / filt, 1), import_records_s=round(args.records / imp),
               import_vs_warcio=round(base / imp, 2), filter_vs_warcio=round(base / filt, 2))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run both measurements; print them with their goals; return the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=24000,
                        help="records in the file (24000: about 1 GB, a CC-NEWS file's size)")
    parser.add_argument("--share", type=float, default=0.002,
                        help="share of records on the outlets' hosts")
    parser.add_argument("--reextract", type=int, default=600, help="pages to re-extract")
    parser.add_argument("--rounds", type=int, default=1,
                        help="re-extraction rounds (each runs --jobs 1, 2, 2, 1)")
    parser.add_argument("--skip-import", action="store_true",
                        help="measure re-extraction only")
    parser.add_argument("--devsets", default=os.environ.get("MEDIAWATCH_DEVSETS",
                                                            str(ROOT.parent / "shared" /
                                                                "devsets")))
    args = parser.parse_args(argv)
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if not args.skip_import:
            import_part(work, args, out)
        devsets = Path(args.devsets)
        if not (devsets / "extraction" / "html").exists():
            print(f"  (development set not found at {devsets}: re-extraction uses the recorded "
                  "pages; set MEDIAWATCH_DEVSETS or --devsets to the shared devsets folder)")
            devsets_or_none = None
        else:
            devsets_or_none = devsets
        r = reextract_rates(work, args.reextract, devsets_or_none, args.rounds)
        print(f"\n== Re-extraction from WARC captures ({r['pages']} {r['origin']}; "
              f"{r['runs']} runs of each, alternating, each on a fresh copy of one archive) ==")
        print(f"  reextract --jobs 1: {r['jobs1']:.1f} articles/s; --jobs 2: {r['jobs2']:.1f} "
              f"articles/s; ratio {r['jobs2'] / r['jobs1']:.2f} (goal >= 1.8; "
              f"{os.cpu_count()} cores)")
        print(f"  CPU per article (all processes): --jobs 1 {r['cpu_ms1']:.0f} ms, --jobs 2 "
              f"{r['cpu_ms2']:.0f} ms, of which the writing process {r['main_ms2']:.1f} ms; "
              f"ratio at most {2 * r['cpu_ms1'] / r['cpu_ms2']:.2f} with both cores free")
        print(f"  cores kept busy (CPU s / wall s, all processes): --jobs 1 {r['busy1']:.2f}, "
              f"--jobs 2 {r['busy2']:.2f}; load average after each run "
              f"{', '.join(f'{x:.1f}' for x in r['loads'])} (other work on the machine takes "
              "its share: the ratio means something only at a load below 1)")
        out.update(reextract_jobs1=round(r["jobs1"], 1), reextract_jobs2=round(r["jobs2"], 1),
                   reextract_ratio=round(r["jobs2"] / r["jobs1"], 2),
                   reextract_main_ms=round(r["main_ms2"], 2))
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main(sys.argv[1:])
