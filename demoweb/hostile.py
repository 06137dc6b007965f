"""Payloads of hostile routes: a gzip bomb, an endless HTML stream, throttling windows.

Nothing here is ever held in memory at full size: the bomb is ~1 MB that inflates to
`mib` MiB of zeros, the oversize page is generated 64 KiB at a time.
"""

from __future__ import annotations

import math
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

MIB = 1 << 20
_BLOCK = 64 * 1024
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"  # deflate, no name, mtime 0


@cache
def gzip_bomb(mib: int = 1024) -> bytes:
    """A valid single-member gzip stream that inflates to `mib` MiB of zero bytes.

    After a full flush the deflate state is reset, so every MiB of zeros compresses to
    the same ~1 KB: compress one MiB, repeat it, then close the stream and add the
    trailer (CRC32 and length of the whole inflated data).
    """
    comp = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    zeros = bytes(MIB)
    piece = comp.compress(zeros) + comp.flush(zlib.Z_FULL_FLUSH)
    tail = comp.flush(zlib.Z_FINISH)
    crc = 0
    for _ in range(mib):
        crc = zlib.crc32(zeros, crc)
    trailer = struct.pack("<II", crc, (mib * MIB) & 0xFFFFFFFF)
    return _GZIP_HEADER + piece * mib + tail + trailer


def oversize_html(size: int, title: str) -> Iterator[bytes]:
    """Exactly `size` bytes of well-formed HTML, produced a block at a time."""
    head = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{title}</title></head><body><article><h1>{title}</h1>\n"
    ).encode()
    tail = b"</article></body></html>\n"
    unit = (
        b"<p>This paragraph repeats until the page is far larger than any crawler should "
        b"accept; a careful client stops reading long before the end of it.</p>\n"
    )
    filler = size - len(head) - len(tail)
    if filler < 0:
        raise ValueError(f"oversize page of {size} bytes is smaller than its frame")
    block = unit * (_BLOCK // len(unit))
    yield head
    while filler >= len(block):
        yield block
        filler -= len(block)
    yield unit * (filler // len(unit)) + b" " * (filler % len(unit))
    yield tail


@dataclass(frozen=True)
class Verdict:
    """What a throttled route answers now: wait (with the seconds left) or serve."""

    serve: bool
    deadline: float  # epoch seconds at which the window closes


class Throttle:
    """Per-path windows: the first request opens one, the first request after it is served.

    Serving closes the window, so a later crawl meets the same 429 -> wait -> 200 again.
    `whole_seconds` rounds the deadline up to a second (an HTTP-date cannot say more).
    """

    GRACE = 0.25  # a client's timer may fire a hair early; do not punish it for that

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[str, float] = {}

    def check(self, key: str, seconds: float, whole_seconds: bool) -> Verdict:
        """Open, keep or close the window for `key`."""
        now = time.time()
        with self._lock:
            deadline = self._open.get(key)
            if deadline is None:
                deadline = now + seconds
                if whole_seconds:
                    deadline = float(math.ceil(deadline))
                self._open[key] = deadline
                return Verdict(False, deadline)
            if now + self.GRACE < deadline:
                return Verdict(False, deadline)
            del self._open[key]
            return Verdict(True, deadline)
