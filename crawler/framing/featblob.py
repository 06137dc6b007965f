"""An article's story features as bytes: computed by an extraction worker next to the rest
of the page's analysis, kept in the story queue until the next story build reads them.

The format is plain data (no pickle): an archive may come from elsewhere, and a blob that
does not decode is simply computed again. Layout: magic, six lengths (unquoted and quoted
shingles, signature, counts, anchors, JSON), the five arrays little-endian (uint64 hashes,
uint32 counts and anchor offsets), then zlib-compressed JSON of the language, the counted
keys, the stems, the anchors' keys and their surface texts (each NUL-joined, or a list
where an item holds a NUL) and the number of stems.
"""

from __future__ import annotations

import hashlib
import json
import struct
import zlib
from collections import Counter

import numpy as np

from crawler.framing.anchors import Anchor
from crawler.framing.copies import CopyText
from crawler.framing.features import Features

FEATURES_VERSION = "1"  # bump when featurize() reads an article differently
# MWF2: stems, counted keys and anchors travel as NUL-joined strings and arrays, not as JSON
# lists of strings and triples (MWF1), which cost a build most of its reading of stored
# features. A blob of another format decodes to None: computed again.
_MAGIC = b"MWF2"
_HEAD = struct.Struct("<4sIIIIII")
_SEP = "\x00"


def features_key(title: str | None, text: str | None, lang: str | None,
                 lexicon_version: str) -> str:
    """What stored features were computed from: a build uses them only for the same."""
    parts = (FEATURES_VERSION, lexicon_version, title or "", text or "", lang or "")
    return hashlib.sha1("\x1f".join(parts).encode()).hexdigest()


def _joined(items: list[str]) -> str | list[str]:
    """The items as one string, or as they are when one holds the separator (a NUL in an
    anchor's surface text, say)."""
    joined = _SEP.join(items)
    return joined if joined.count(_SEP) == max(len(items) - 1, 0) else items


def _split(joined: str | list[str], n: int) -> list[str]:
    if isinstance(joined, list):
        return joined if all(isinstance(x, str) for x in joined) else []
    return joined.split(_SEP) if n else []


def encode(feats: Features) -> bytes:
    """The bytes of one article's features."""
    copy = feats.copy
    keys, anchors = list(feats.counts), copy.anchors
    doc = [feats.lang, _joined(keys), _joined(copy.stems), len(copy.stems),
           _joined([a.key for a in anchors]), _joined([a.surface for a in anchors])]
    packed = zlib.compress(json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode(), 1)
    arrays = [copy.shingles.astype("<u8"), copy.quoted.astype("<u8"),
              feats.signature.astype("<u8")]
    counts = np.fromiter((feats.counts[k] for k in keys), dtype="<u4", count=len(keys))
    starts = np.fromiter((a.start for a in anchors), dtype="<u4", count=len(anchors))
    head = _HEAD.pack(_MAGIC, *(len(a) for a in arrays), len(keys), len(anchors), len(packed))
    return b"".join([head, *(a.tobytes() for a in arrays), counts.tobytes(), starts.tobytes(),
                     packed])


def _sizes(blob: bytes) -> tuple[int, int, int, int, int] | None:
    """The array lengths of encode()'s bytes, or None when the bytes are not such a blob."""
    try:
        magic, n_free, n_quoted, n_sig, n_counts, n_anchors, n_json = _HEAD.unpack_from(blob)
    except struct.error:
        return None
    if magic != _MAGIC or len(blob) != (_HEAD.size + 8 * (n_free + n_quoted + n_sig)
                                        + 4 * (n_counts + n_anchors) + n_json):
        return None
    return n_free, n_quoted, n_sig, n_counts, n_anchors


def free_shingles(blob: bytes) -> np.ndarray | None:
    """Only the unquoted shingles of encode()'s bytes (the same-text test needs no more),
    or None for anything else."""
    sizes = _sizes(blob)
    if sizes is None:
        return None
    return np.frombuffer(blob, dtype="<u8", count=sizes[0], offset=_HEAD.size).astype(np.uint64)


def decode(blob: bytes) -> Features | None:
    """Features from encode()'s bytes, or None for anything else (computed again then)."""
    sizes = _sizes(blob)
    if sizes is None:
        return None
    try:
        at = _HEAD.size
        arrays = []
        for n in sizes[:3]:
            arrays.append(np.frombuffer(blob, dtype="<u8", count=n, offset=at).astype(np.uint64))
            at += 8 * n
        values = np.frombuffer(blob, dtype="<u4", count=sizes[3], offset=at).tolist()
        at += 4 * sizes[3]
        starts = np.frombuffer(blob, dtype="<u4", count=sizes[4], offset=at).tolist()
        at += 4 * sizes[4]
        lang, keys, stems, n_stems, anchor_keys, surfaces = json.loads(zlib.decompress(blob[at:]))
        keys, stems = _split(keys, len(values)), _split(stems, n_stems)
        anchor_keys, surfaces = _split(anchor_keys, len(starts)), _split(surfaces, len(starts))
        if not isinstance(lang, str) or len(keys) != len(values) or len(stems) != n_stems \
                or not len(anchor_keys) == len(surfaces) == len(starts):
            return None
        copy = CopyText(lang, arrays[0], arrays[1],
                        list(map(Anchor, anchor_keys, starts, surfaces)), stems)
        return Features(lang, Counter(dict(zip(keys, values, strict=True))), copy, arrays[2])
    except (struct.error, ValueError, KeyError, TypeError, AttributeError, zlib.error):
        return None
