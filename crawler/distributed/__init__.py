"""Distributed crawling on scrapy-redis: `crawl --redis` workers and one `archiver`.

Workers (any number, any machine) share one Redis: a polite per-outlet frontier with
leases (frontier), expiring fingerprints (scheduler), and an `items` list that the single
archiver drains into archive.db (archiver). Nothing crosses Redis as pickle (codec).
"""

from __future__ import annotations

import os
import socket
import uuid


def worker_id(given: str | None = None) -> str:
    """A worker id unique across machines: host-pid-random unless given."""
    return given or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
