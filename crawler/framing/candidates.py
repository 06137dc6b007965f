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
_EMPTY_BYTES = _EMPTY.astype("<u4").tobytes()


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
    are candidates when one band is equal), kept in one plain dict per band: the same
    candidates at a fraction of the cost per insert, which an update pays for every article
    of its context. Bands are slices of the stored signature bytes (signature_bytes), so a
    context article's signature is indexed without being decoded.
    """

    def __init__(self) -> None:
        self._buckets: list[dict[bytes, set[int]]] = [{} for _ in range(BANDS[0])]
        self._keys: dict[int, list[bytes]] = {}
        self._order: deque[tuple[float, int]] = deque()

    @staticmethod
    def bands(sig: np.ndarray | bytes) -> list[bytes] | None:
        """The signature's band keys, by band (None for an empty signature)."""
        raw = sig if isinstance(sig, bytes) else signature_bytes(sig)
        if raw == _EMPTY_BYTES:
            return None  # too short to have shingles: nothing to match
        width = 4 * BANDS[1]
        return [raw[at:at + width] for at in range(0, width * BANDS[0], width)]

    def add(self, key: int, when: float, sig: np.ndarray | bytes,
            only: list[set[bytes]] | None = None) -> None:
        """Index one article (`when`: publication time in days, articles added in order);
        `sig` as an array or as stored; `only`: per band, the keys worth indexing."""
        bands = self.bands(sig)
        if bands is None:
            return
        for at, (buckets, band) in enumerate(zip(self._buckets, bands, strict=True)):
            if only is not None and band not in only[at]:
                continue
            bucket = buckets.get(band)
            if bucket is None:
                buckets[band] = {key}
            else:
                bucket.add(key)
        self._keys[key] = bands
        self._order.append((when, key))

    def expire(self, before: float) -> None:
        """Forget articles published before `before` (days)."""
        while self._order and self._order[0][0] < before:
            key = self._order.popleft()[1]
            for buckets, band in zip(self._buckets, self._keys.pop(key, ()), strict=False):
                bucket = buckets.get(band)
                if bucket is None:
                    continue  # not indexed under this band (`only`)
                bucket.discard(key)
                if not bucket:
                    del buckets[band]

    def query(self, sig: np.ndarray | bytes) -> list[int]:
        """Indexed articles whose signature shares a band with `sig`."""
        bands = self.bands(sig)
        if bands is None:
            return []
        found: set[int] = set()
        for buckets, band in zip(self._buckets, bands, strict=True):
            bucket = buckets.get(band)
            if bucket:
                found.update(bucket)
        return list(found)


class KeyIndex:
    """Inverted index of rare keys over a sliding time window."""

    def __init__(self) -> None:
        self._postings: dict[str, deque[tuple[float, int]]] = {}
        self._expiry: list[tuple[float, str]] = []

    def add(self, doc: int, when: float, keys: Iterable[str], only: set[str] | None = None
            ) -> None:
        """Index one article under its keys (articles added in publication order); `only`:
        the keys worth indexing."""
        for key in keys:
            if only is not None and key not in only:
                continue
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


class Focus:
    """The lookups some articles will make: their band keys (by LSH band) and their story
    and copy keys. An entry under anything else can never be found by them, so an update
    indexes its context only under these: the same candidates for less work."""

    def __init__(self) -> None:
        self.bands: list[set[bytes]] = [set() for _ in range(BANDS[0])]
        self.story: set[str] = set()
        self.copy: set[str] = set()

    def add(self, sig: np.ndarray, story_keys: Iterable[str], copy_keys: Iterable[str]) -> None:
        """Add one article's lookups."""
        for at, band in enumerate(CopyIndex.bands(sig) or ()):
            self.bands[at].add(band)
        self.story.update(story_keys)
        self.copy.update(copy_keys)

    def matching(self, signatures: list[bytes | None]) -> list[bool]:
        """Which stored signatures (signature_bytes) share a band with these articles: the
        others need no LSH entry (checked for all at once, not band by band in Python)."""
        stored = [(i, sig) for i, sig in enumerate(signatures)
                  if sig and len(sig) == len(_EMPTY_BYTES)]
        out = [False] * len(signatures)
        if not stored:
            return out
        values = np.frombuffer(b"".join(sig for _, sig in stored), dtype="<u8").reshape(
            len(stored), BANDS[0])  # one 8-byte value per band, as CopyIndex.bands cuts them
        hit = np.zeros(len(stored), dtype=bool)
        for band, keys in enumerate(self.bands):
            if keys:
                hit |= np.isin(values[:, band], np.frombuffer(b"".join(keys), dtype="<u8"))
        for (i, _), found in zip(stored, hit, strict=True):
            out[i] = bool(found)
        return out
