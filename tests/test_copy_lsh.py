"""The copy index proposes exactly the candidates datasketch's MinHashLSH proposes."""

from __future__ import annotations

import numpy as np
import pytest
from datasketch import LeanMinHash, MinHashLSH

from crawler.framing.candidates import BANDS, NUM_PERM, CopyIndex, minhash, signature_bytes

pytestmark = pytest.mark.unit


def _signatures(n: int, seed: int) -> list[np.ndarray]:
    """Signatures of shingle sets that overlap a lot, a little, or not at all."""
    rng = np.random.RandomState(seed)
    base = rng.randint(0, 2**62, size=400, dtype=np.int64).astype(np.uint64)
    sigs = []
    for i in range(n):
        keep = base[rng.rand(len(base)) < (0.9 if i % 3 == 0 else 0.2)]
        extra = rng.randint(0, 2**62, size=rng.randint(5, 300), dtype=np.int64).astype(np.uint64)
        sigs.append(minhash(np.concatenate([keep, extra])))
    return sigs


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_candidates_equal_datasketch(seed: int) -> None:
    sigs = _signatures(120, seed)
    ours, ref = CopyIndex(), MinHashLSH(num_perm=NUM_PERM, params=BANDS)
    for i, sig in enumerate(sigs[:80]):
        # Half of them as an update adds its context: the signature as stored.
        ours.add(i, float(i), signature_bytes(sig) if i % 2 else sig)
        ref.insert(i, LeanMinHash(seed=1, hashvalues=sig, scheme="legacy"))
    found = 0
    for sig in sigs[80:]:
        want = set(ref.query(LeanMinHash(seed=1, hashvalues=sig, scheme="legacy")))
        assert set(ours.query(sig)) == want
        found += len(want)
    assert found > 0  # the sets overlap enough for candidates to exist


def test_expired_articles_are_no_longer_proposed() -> None:
    sigs = _signatures(10, 4)
    index = CopyIndex()
    for i, sig in enumerate(sigs):
        index.add(i, float(i), sig)
    assert 0 in index.query(sigs[0])
    index.expire(5.0)
    assert all(k >= 5 for k in index.query(sigs[0])) and 0 not in index.query(sigs[0])
    index.expire(100.0)
    assert index.query(sigs[9]) == [] and not any(index._buckets)


def test_focus_tells_which_stored_signatures_can_match() -> None:
    from crawler.framing.candidates import Focus

    sigs = _signatures(60, 5)
    focus = Focus()
    for sig in sigs[:10]:
        focus.add(sig, [], [])
    stored = [signature_bytes(s) for s in sigs] + [None, b"short"]
    expected = [any(band in keys for band, keys in zip(CopyIndex.bands(s) or [], focus.bands,
                                                       strict=False)) for s in sigs]
    assert focus.matching(stored) == [*expected, False, False]
    assert all(expected[:10]) and not all(expected)  # its own signatures match, not all others
