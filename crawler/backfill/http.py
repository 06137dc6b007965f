"""Bulk downloads for the backfill: a streaming HTTP client with retries and resume.

This is data transfer from one archive service, not outlet crawling, so it does not go
through Scrapy: Scrapy keeps a whole response body in memory before any callback sees it,
and a CC-NEWS file is about 1 GB. Here a file is read as a stream, record by record; a
connection that breaks mid-file is resumed with a Range request from the byte it reached.
503, 429, 5xx and network errors are retried with exponential back-off (Retry-After wins
when the server sends one); other HTTP errors fail the file at once.
"""

from __future__ import annotations

import http.client
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import IO, Any

RETRIED = {429, 500, 502, 503, 504}


class DownloadError(Exception):
    """A download failed for good (after its retries); the message says why."""


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: attempts per request, back-off base and cap (seconds), timeout."""

    attempts: int = 6
    backoff: float = 2.0
    max_wait: float = 300.0
    timeout: float = 60.0


@dataclass
class Transfers:
    """What the client did (for crawl_runs and the progress line)."""

    requests: int = 0
    retries: int = 0
    bytes: int = 0


class Client:
    """GETs with the project's User-Agent, retried; `sleep` is injectable for tests."""

    def __init__(self, user_agent: str, policy: RetryPolicy | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.user_agent = user_agent
        self.policy = policy or RetryPolicy()
        self.sleep = sleep
        self.stats = Transfers()

    def open(self, url: str, start: int = 0) -> http.client.HTTPResponse:
        """A response streaming url from byte `start` (a 200 from a server ignoring Range
        is accepted: the caller skips the bytes it has)."""
        last = ""
        for attempt in range(self.policy.attempts):
            if attempt:
                self.stats.retries += 1
            headers = {"User-Agent": self.user_agent, "Accept-Encoding": "identity"}
            if start:
                headers["Range"] = f"bytes={start}-"
            self.stats.requests += 1
            try:
                response = urllib.request.urlopen(  # noqa: S310 - http(s) base URLs only
                    urllib.request.Request(url, headers=headers), timeout=self.policy.timeout)
                return response
            except urllib.error.HTTPError as exc:
                if exc.code not in RETRIED:
                    raise DownloadError(f"{url}: HTTP {exc.code} {exc.reason}") from exc
                last = f"HTTP {exc.code}"
                self.sleep(self._wait(attempt, exc.headers.get("Retry-After")))
            except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
                last = f"{type(exc).__name__}: {exc}"
                self.sleep(self._wait(attempt, None))
        raise DownloadError(f"{url}: gave up after {self.policy.attempts} attempts ({last})")

    def fetch(self, url: str) -> bytes:
        """A small document (a month listing), whole."""
        stream = RemoteFile(self, url)
        try:
            return stream.read_all()
        finally:
            stream.close()

    def _wait(self, attempt: int, retry_after: str | None) -> float:
        wait = self.policy.backoff * (2 ** attempt)
        if retry_after:
            try:
                wait = float(retry_after)
            except ValueError:
                try:
                    wait = parsedate_to_datetime(retry_after).timestamp() - time.time()
                except (TypeError, ValueError):
                    pass
        return max(0.0, min(wait, self.policy.max_wait))


class RemoteFile:
    """A file-like stream over one URL that survives broken connections.

    `read` resumes from the current position (Range) after a network error, within the
    retry policy; with `keep`, the bytes are also written to that path (via `.part`,
    renamed when the whole file was read), so a kept file is never a torn one.
    """

    def __init__(self, client: Client, url: str, keep: Path | None = None) -> None:
        self.client = client
        self.url = url
        self.pos = 0
        self.keep = keep
        self._part: IO[bytes] | None = None
        if keep is not None:
            keep.parent.mkdir(parents=True, exist_ok=True)
            self._part = open(f"{keep}.part", "wb")  # noqa: SIM115 - closed in close()
        self._response: Any = client.open(url)
        self.length = self._length(self._response)
        self.complete = False

    @staticmethod
    def _length(response: Any) -> int | None:
        value = response.headers.get("Content-Length")
        return int(value) if value and value.isdigit() else None

    def read(self, size: int = -1) -> bytes:
        """Up to size bytes; b'' only at the true end of the file."""
        failures = 0
        while True:
            try:
                # read1: what has arrived (up to size), so a slow stream's records are
                # handled as they come instead of after a whole buffer fills.
                data = self._response.read1(size if size and size > 0 else 1 << 20)
                if not data and self.length is not None and self.pos < self.length:
                    raise http.client.IncompleteRead(b"", self.length - self.pos)
                break
            except (OSError, http.client.HTTPException) as exc:
                failures += 1
                if failures >= self.client.policy.attempts:
                    raise DownloadError(f"{self.url}: the connection broke at byte {self.pos} "
                                        f"{failures} times ({type(exc).__name__})") from exc
                self.client.stats.retries += 1
                self.client.sleep(self.client._wait(failures - 1, None))
                self._reopen()
        self.pos += len(data)
        self.client.stats.bytes += len(data)
        if self._part is not None:
            self._part.write(data)
        if not data:
            self.complete = True
        return bytes(data)

    def read_all(self) -> bytes:
        """The rest of the file."""
        parts = []
        while chunk := self.read(1 << 20):
            parts.append(chunk)
        return b"".join(parts)

    def _reopen(self) -> None:
        try:
            self._response.close()
        except Exception:  # a broken connection may not even close cleanly
            pass
        self._response = self.client.open(self.url, self.pos)
        if self._response.status == 200 and self.pos:  # Range ignored: skip what we have
            left = self.pos
            while left:
                got = self._response.read(min(left, 1 << 20))
                if not got:
                    raise DownloadError(f"{self.url}: shorter than before on a retry")
                left -= len(got)

    def tell(self) -> int:
        """Bytes read so far."""
        return self.pos

    def close(self) -> None:
        """Close the connection; a kept copy is renamed into place only when complete."""
        self._response.close()
        if self._part is not None and self.keep is not None:
            self._part.close()
            self._part = None
            part = Path(f"{self.keep}.part")
            if self.complete:
                os.replace(part, self.keep)
            else:
                part.unlink(missing_ok=True)
