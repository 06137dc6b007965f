"""Candidate pairs from indexes, not all pairs: MinHash LSH for copies, rare keys for stories.

Comparing every article with every earlier one is quadratic: at a million articles it does
not finish. Two indexes over the articles inside the time window propose the pairs worth
comparing, and only those are scored exactly (crawler.framing.copies, .stories):

- MinHash LSH (datasketch's banding, in plain dicts) over each text's unquoted word 5-grams
  proposes republications: 64 permutations in 32 bands of 2 rows, so a pair whose shingle
  sets overlap by a third (Jaccard) is proposed with probability 0.97, by a tenth with 0.28.
  Signatures come from stable hashes (CRC-32 of words), so a rebuild proposes the same pairs
  every time.
- An inverted index of rare keys (the article's most distinctive stems, and its names,
  numbers, dates and lexicon concepts, when rare in the archive) proposes same-story pairs
  and translations, which share no shingles.

Both indexes forget an article once it is older than the window it can still matter for.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Iterable

import numpy as np

NUM_PERM = 64
BANDS = (32, 2)
_PRIME = np.uint64((1 << 61) - 1)
_RNG = np.random.RandomState(20250512)  # fixed: the same permutations in every process
_A = _RNG.randint(1, (1 << 31) - 1, size=NUM_PERM, dtype=np.uint64)
_B = _RNG.randint(0, (1 << 31) - 1, size=NUM_PERM, dtype=np.uint64)
_EMPTY = np.full(NUM_PERM, (1 << 32) - 1, dtype=np.uint64)


def minhash(shingles: np.ndarray) -> np.ndarray:
    """The MinHash signature (NUM_PERM 32-bit values) of a set of 64-bit shingle hashes."""
    if not len(shingles):
        return _EMPTY.copy()
    h = (shingles >> np.uint64(32)) ^ (shingles & np.uint64(0xFFFFFFFF))
    with np.errstate(over="ignore"):
        perm = (np.outer(h, _A) + _B) % _PRIME & np.uint64(0xFFFFFFFF)
    return perm.min(axis=0)


def signature_bytes(sig: np.ndarray) -> bytes:
    """A signature as stored (4 bytes per value)."""
    return sig.astype("<u4").tobytes()


def signature_from(blob: bytes) -> np.ndarray:
    """A stored signature back as an array."""
    return np.frombuffer(blob, dtype="<u4").astype(np.uint64)


class CopyIndex:
    """MinHash LSH over the articles of the copy window, forgetting older ones.

    The banding of datasketch's MinHashLSH (BANDS: 32 bands of 2 values; two signatures
    are candidates when one band is equal), kept in plain dicts: the same candidates at a
    fraction of the cost per insert, which an update pays for every article of its context.
    """

    def __init__(self) -> None:
        self._buckets: dict[bytes, set[int]] = {}
        self._keys: dict[int, list[bytes]] = {}
        self._order: deque[tuple[float, int]] = deque()

    @staticmethod
    def _bands(sig: np.ndarray) -> list[bytes]:
        raw = sig.astype("<u8").tobytes()
        width = 8 * BANDS[1]
        return [bytes((band,)) + raw[band * width:(band + 1) * width]
                for band in range(BANDS[0])]

    def add(self, key: int, when: float, sig: np.ndarray) -> None:
        """Index one article (`when`: publication time in days, articles added in order)."""
        if (sig == _EMPTY).all():
            return  # too short to have shingles: nothing to match
        bands = self._bands(sig)
        for band in bands:
            bucket = self._buckets.get(band)
            if bucket is None:
                self._buckets[band] = {key}
            else:
                bucket.add(key)
        self._keys[key] = bands
        self._order.append((when, key))

    def expire(self, before: float) -> None:
        """Forget articles published before `before` (days)."""
        while self._order and self._order[0][0] < before:
            key = self._order.popleft()[1]
            for band in self._keys.pop(key, ()):
                bucket = self._buckets[band]
                bucket.discard(key)
                if not bucket:
                    del self._buckets[band]

    def query(self, sig: np.ndarray) -> list[int]:
        """Indexed articles whose signature shares a band with `sig`."""
        if (sig == _EMPTY).all():
            return []
        found: set[int] = set()
        for band in self._bands(sig):
            bucket = self._buckets.get(band)
            if bucket:
                found.update(bucket)
        return list(found)


class KeyIndex:
    """Inverted index of rare keys over a sliding time window."""

    def __init__(self) -> None:
        self._postings: dict[str, deque[tuple[float, int]]] = {}
        self._expiry: list[tuple[float, str]] = []

    def add(self, doc: int, when: float, keys: Iterable[str]) -> None:
        """Index one article under its keys (articles added in publication order)."""
        for key in keys:
            posting = self._postings.get(key)
            if posting is None:
                posting = self._postings[key] = deque()
                heapq.heappush(self._expiry, (when, key))
            posting.append((when, doc))

    def query(self, keys: Iterable[str], since: float, min_shared: int = 1) -> dict[int, int]:
        """Articles published since `since` sharing at least `min_shared` keys: doc -> count."""
        counts: dict[int, int] = {}
        for key in keys:
            posting = self._postings.get(key)
            if not posting:
                continue
            while posting and posting[0][0] < since:
                posting.popleft()
            for _, doc in posting:
                counts[doc] = counts.get(doc, 0) + 1
        return {d: n for d, n in counts.items() if n >= min_shared}

    def expire(self, before: float) -> None:
        """Drop postings lists whose newest entry is older than `before` (bounded memory)."""
        while self._expiry and self._expiry[0][0] < before:
            _, key = heapq.heappop(self._expiry)
            posting = self._postings.get(key)
            if posting is None:
                continue
            while posting and posting[0][0] < before:
                posting.popleft()
            if posting:
                heapq.heappush(self._expiry, (posting[0][0], key))
            else:
                del self._postings[key]
