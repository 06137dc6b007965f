"""The scale bench's cache keeps one archive per size: a rebuild for new fixtures or generator
code deletes the ones it replaces (at 1M articles an archive and its story copy are ~28 GB, and
stale pairs filled this machine's disk)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

BENCH = str(Path(__file__).resolve().parents[1] / "bench")


def test_a_rebuild_removes_the_stale_archives_of_its_size_only(tmp_path: Path) -> None:
    if BENCH not in sys.path:
        sys.path.insert(0, BENCH)
    from scale_corpus import prune_stale

    old, new, size = "7df58869f0cc", "b68ef85060c7", 1000000
    stale = [f"scale-v3-{old}-{size}.db", f"scale-v3-{old}-{size}.json",
             f"scale-v3-{old}-{size}.db-wal", f"scale-v3-{old}-{size}-stories.db",
             f"scale-v3-{old}-{size}-stories.db.lock", f"scale-v3-{old}-{size}.building.db"]
    kept = [f"scale-v3-{new}-{size}.db", f"scale-v3-{new}-{size}.json",
            f"scale-v3-{old}-100000.db", f"scale-v3-{old}-10000000.db",  # other sizes
            f"pools-v3-{old}-384d4dfb-12000.pickle", "notes.txt"]
    for name in stale + kept:
        (tmp_path / name).write_bytes(b"x" * 10)
    (tmp_path / f"scale-v3-{old}-{size}-stories-warc").mkdir()
    (tmp_path / f"scale-v3-{old}-{size}-stories-warc" / "a.warc.gz").write_bytes(b"y" * 5)

    assert prune_stale(tmp_path, size, new) == 10 * len(stale) + 5
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(kept)
    assert prune_stale(tmp_path, size, new) == 0  # nothing left to remove
