"""An article's story features as bytes: computed by an extraction worker next to the rest
of the page's analysis, kept in the story queue until the next story build reads them.

The format is plain data (no pickle): an archive may come from elsewhere, and a blob that
does not decode is simply computed again. Layout: magic, four lengths (unquoted and quoted
shingles, signature, JSON), the three arrays little-endian, then zlib-compressed JSON of
the language, stem counts, stems and anchors.
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
_MAGIC = b"MWF1"
_HEAD = struct.Struct("<4sIIII")


def features_key(title: str | None, text: str | None, lang: str | None,
                 lexicon_version: str) -> str:
    """What stored features were computed from: a build uses them only for the same."""
    parts = (FEATURES_VERSION, lexicon_version, title or "", text or "", lang or "")
    return hashlib.sha1("\x1f".join(parts).encode()).hexdigest()


def encode(feats: Features) -> bytes:
    """The bytes of one article's features."""
    copy = feats.copy
    doc = {"lang": feats.lang, "counts": feats.counts, "stems": copy.stems,
           "anchors": [[a.key, a.start, a.surface] for a in copy.anchors]}
    packed = zlib.compress(json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode(), 1)
    arrays = [copy.shingles.astype("<u8"), copy.quoted.astype("<u8"),
              feats.signature.astype("<u8")]
    head = _HEAD.pack(_MAGIC, *(len(a) for a in arrays), len(packed))
    return b"".join([head, *(a.tobytes() for a in arrays), packed])


def free_shingles(blob: bytes) -> np.ndarray | None:
    """Only the unquoted shingles of encode()'s bytes (the same-text test needs no more),
    or None for anything else."""
    try:
        magic, n_free, n_quoted, n_sig, n_json = _HEAD.unpack_from(blob)
    except struct.error:
        return None
    if magic != _MAGIC or len(blob) != _HEAD.size + 8 * (n_free + n_quoted + n_sig) + n_json:
        return None
    return np.frombuffer(blob, dtype="<u8", count=n_free, offset=_HEAD.size).astype(np.uint64)


def decode(blob: bytes) -> Features | None:
    """Features from encode()'s bytes, or None for anything else (computed again then)."""
    try:
        magic, n_free, n_quoted, n_sig, n_json = _HEAD.unpack_from(blob)
        if magic != _MAGIC or len(blob) != _HEAD.size + 8 * (n_free + n_quoted + n_sig) + n_json:
            return None
        at = _HEAD.size
        arrays = []
        for n in (n_free, n_quoted, n_sig):
            arrays.append(np.frombuffer(blob, dtype="<u8", count=n, offset=at).astype(np.uint64))
            at += 8 * n
        doc = json.loads(zlib.decompress(blob[at:]))
        anchors = [Anchor(str(k), int(s), str(f)) for k, s, f in doc["anchors"]]
        copy = CopyText(str(doc["lang"]), arrays[0], arrays[1], anchors,
                        [str(s) for s in doc["stems"]])
        counts = Counter({str(k): int(v) for k, v in doc["counts"].items()})
        return Features(copy.lang, counts, copy, arrays[2])
    except (struct.error, ValueError, KeyError, TypeError, zlib.error):
        return None
