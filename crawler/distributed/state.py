"""The crawl state of a `crawl --redis` worker: validators and body hashes kept in Redis."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from crawler.archive.view import Due
from crawler.items import FetchedPage


class RedisState:
    """The spider's crawl state in worker mode: validators and body hashes live in Redis.

    The frontier itself is the shared queue, so there is nothing "due" to read back.
    """

    def __init__(self, server: Any, prefix: str) -> None:
        self.server = server
        self.key = f"{prefix}:url"
        self.indexes = f"{prefix}:indexes"

    def _get(self, url: str) -> dict[str, Any]:
        raw = self.server.hget(self.key, url)
        return json.loads(raw) if raw else {}

    def validators(self, url: str) -> tuple[str | None, str | None]:
        """ETag and Last-Modified of the last 200 for this URL, from any worker."""
        known = self._get(url)
        return known.get("etag"), known.get("last_modified")

    def content_hash(self, url: str) -> str | None:
        """The body hash of the last 200 for this URL."""
        return self._get(url).get("hash")

    def remember(self, pipe: Any, page: FetchedPage) -> None:
        """After a 200: store what the next request needs to be conditional."""
        if page.status != 200 or page.error or not page.body:
            return
        pipe.hset(self.key, page.url, json.dumps({
            "etag": page.headers.get("etag"),
            "last_modified": page.headers.get("last-modified"),
            "hash": hashlib.sha256(page.body).hexdigest(),
        }))

    def paused(self, source_id: str, now: str) -> str | None:
        """Pauses are per worker in this mode (see PolitenessMiddleware)."""
        return None

    def due(self, source_id: str, now: str, recheck_all: bool, limit: int | None) -> list[Due]:
        """Nothing: found URLs go straight to the shared queue."""
        return []

    def doc_due(self, url: str, now: str) -> bool:
        """Every document the registry names; expiring fingerprints space the polls."""
        return True

    def lists_sitemaps(self, source_id: str, url: str) -> bool:
        """Whether any worker queued a sitemap this one listed (a sitemap index): it is then
        fetched in full, since a 304 would hide its sitemaps from every worker."""
        return bool(self.server.sismember(self.indexes, url))

    def listed_sitemap(self, url: str) -> None:
        """The sitemap at ``url`` listed another sitemap (the scheduler saw its request)."""
        self.server.sadd(self.indexes, url)

    def close(self) -> None:
        """Nothing to close: the connection belongs to the crawler."""
