"""CC-NEWS layout and the outlets' hosts: which files a month has, which records we want.

CC-NEWS publishes `crawl-data/CC-NEWS/YYYY/MM/warc.paths.gz` per month: one WARC path per
line, relative to the data endpoint, in crawl order. Records are kept when the host of
their WARC-Target-URI is one of an outlet's: its homepage, feed, sitemap, section, seed and
canary hosts and its `aliases`, each with or without `www.`.
"""

from __future__ import annotations

import gzip
import re
import zlib
from collections.abc import Iterable

from crawler.backfill.http import Client, DownloadError
from crawler.ingest.warc_fast import HostFilter
from crawler.registry.model import Registry, Source
from crawler.web.urls import host_key, is_http_url

DEFAULT_BASE = "https://data.commoncrawl.org/"
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
FIRST_MONTH = "2016-08"  # CC-NEWS starts in August 2016


class BackfillUsageError(ValueError):
    """The request cannot be run as given; the message says how to fix it."""


def months(start: str, end: str) -> list[str]:
    """Every YYYY-MM from start to end, inclusive."""
    for value in (start, end):
        if not _MONTH.match(value):
            raise BackfillUsageError(f"{value!r} is not a month: write YYYY-MM, e.g. 2024-05")
    if start > end:
        raise BackfillUsageError(f"--from {start} is after --to {end}")
    if start < FIRST_MONTH:
        raise BackfillUsageError(f"CC-NEWS starts in {FIRST_MONTH}; --from {start} is earlier")
    out, (year, month) = [], (int(start[:4]), int(start[5:]))
    while f"{year:04d}-{month:02d}" <= end:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def listing_url(base: str, month: str) -> str:
    """The URL of a month's warc.paths.gz under the data endpoint."""
    return f"{base.rstrip('/')}/crawl-data/CC-NEWS/{month[:4]}/{month[5:]}/warc.paths.gz"


def file_url(base: str, path: str) -> str:
    """The URL of one WARC path from a listing."""
    return f"{base.rstrip('/')}/{path.lstrip('/')}"


def month_files(client: Client, base: str, month: str) -> list[str]:
    """The WARC paths of one month, in listing order."""
    url = listing_url(base, month)
    try:
        raw = client.fetch(url)
    except DownloadError as exc:
        raise DownloadError(f"the listing of {month} could not be read: {exc}") from exc
    try:
        text = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
    except (OSError, EOFError, zlib.error) as exc:
        raise DownloadError(f"the listing of {month} ({url}) is not a gzip file: {exc}") from exc
    paths = [line.strip() for line in text.decode("utf-8", "replace").splitlines()]
    return [p for p in paths if p and not p.startswith("#")]


def outlet_hosts(sources: Iterable[Source]) -> dict[str, list[str]]:
    """host_key -> outlet ids, for every host an outlet publishes under."""
    hosts: dict[str, list[str]] = {}
    for source in sources:
        keys = set(source.hosts) | {host_key(a) for a in source.aliases if is_http_url(a)}
        for key in keys:
            if key and source.id not in hosts.setdefault(key, []):
                hosts[key].append(source.id)
    return hosts


def host_filter(registry: Registry, sources: Iterable[Source]) -> HostFilter:
    """The record filter for these outlets; a host shared by several goes to the one whose
    paths fit the URL best (Registry.source_for_url), else the first in file order."""
    chosen = list(sources)
    ids = {s.id for s in chosen}

    def resolve(uri: str, owners: list[str]) -> str | None:
        best = registry.source_for_url(uri)
        return best.id if best is not None and best.id in ids else owners[0]

    return HostFilter(outlet_hosts(chosen), resolve)
